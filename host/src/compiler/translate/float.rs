//! Float operators: constants, arithmetic, min/max, rounding, comparisons,
//! conversions and reinterpretations.

use super::FuncTranslator;
use crate::compiler::ir::{BinaryOp, CmpOp, InstKind, Type, UnaryOp};
use wasmparser::Operator;

impl FuncTranslator<'_> {
    pub(super) fn translate_float(&mut self, op: &Operator<'_>) -> bool {
        use BinaryOp as B;
        use CmpOp as C;
        use Operator as O;
        use Type::{F32, F64, I32, I64};
        use UnaryOp as U;
        match *op {
            O::F32Const { value } => {
                self.push1(InstKind::Fconst { bits: value.bits() as u64 }, F32)
            }
            O::F64Const { value } => self.push1(InstKind::Fconst { bits: value.bits() }, F64),
            O::F32Add | O::F64Add => self.binary(B::FAdd),
            O::F32Sub | O::F64Sub => self.binary(B::FSub),
            O::F32Mul | O::F64Mul => self.binary(B::FMul),
            O::F32Div | O::F64Div => self.binary(B::FDiv),
            O::F32Min | O::F64Min => self.binary(B::FMin),
            O::F32Max | O::F64Max => self.binary(B::FMax),
            O::F32Copysign | O::F64Copysign => self.binary(B::FCopysign),
            O::F32Neg => self.unary(U::FNeg, F32),
            O::F64Neg => self.unary(U::FNeg, F64),
            O::F32Abs => self.unary(U::FAbs, F32),
            O::F64Abs => self.unary(U::FAbs, F64),
            O::F32Sqrt => self.unary(U::FSqrt, F32),
            O::F64Sqrt => self.unary(U::FSqrt, F64),
            O::F32Ceil => self.unary(U::FCeil, F32),
            O::F64Ceil => self.unary(U::FCeil, F64),
            O::F32Floor => self.unary(U::FFloor, F32),
            O::F64Floor => self.unary(U::FFloor, F64),
            O::F32Trunc => self.unary(U::FTrunc, F32),
            O::F64Trunc => self.unary(U::FTrunc, F64),
            O::F32Nearest => self.unary(U::FNearest, F32),
            O::F64Nearest => self.unary(U::FNearest, F64),
            O::F32Eq | O::F64Eq => self.compare(C::Eq),
            O::F32Ne | O::F64Ne => self.compare(C::Ne),
            O::F32Lt | O::F64Lt => self.compare(C::LtS),
            O::F32Gt | O::F64Gt => self.compare(C::GtS),
            O::F32Le | O::F64Le => self.compare(C::LeS),
            O::F32Ge | O::F64Ge => self.compare(C::GeS),
            O::I32TruncF32S | O::I32TruncF64S => self.unary(U::TruncS, I32),
            O::I32TruncF32U | O::I32TruncF64U => self.unary(U::TruncU, I32),
            O::I64TruncF32S | O::I64TruncF64S => self.unary(U::TruncS, I64),
            O::I64TruncF32U | O::I64TruncF64U => self.unary(U::TruncU, I64),
            O::I32TruncSatF32S | O::I32TruncSatF64S => self.unary(U::TruncSatS, I32),
            O::I32TruncSatF32U | O::I32TruncSatF64U => self.unary(U::TruncSatU, I32),
            O::I64TruncSatF32S | O::I64TruncSatF64S => self.unary(U::TruncSatS, I64),
            O::I64TruncSatF32U | O::I64TruncSatF64U => self.unary(U::TruncSatU, I64),
            O::F32ConvertI32S | O::F32ConvertI64S => self.unary(U::ConvertS, F32),
            O::F32ConvertI32U | O::F32ConvertI64U => self.unary(U::ConvertU, F32),
            O::F64ConvertI32S | O::F64ConvertI64S => self.unary(U::ConvertS, F64),
            O::F64ConvertI32U | O::F64ConvertI64U => self.unary(U::ConvertU, F64),
            O::F64PromoteF32 => self.unary(U::Promote, F64),
            O::F32DemoteF64 => self.unary(U::Demote, F32),
            O::I32ReinterpretF32 => self.unary(U::Reinterpret, I32),
            O::I64ReinterpretF64 => self.unary(U::Reinterpret, I64),
            O::F32ReinterpretI32 => self.unary(U::Reinterpret, F32),
            O::F64ReinterpretI64 => self.unary(U::Reinterpret, F64),
            _ => return false,
        }
        true
    }
}
