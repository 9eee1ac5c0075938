//! Integer operators: constants, arithmetic, bitwise, shifts, comparisons,
//! bit counting, sign extension, wrap/extend.

use super::FuncTranslator;
use crate::compiler::ir::{BinaryOp, CmpOp, InstKind, Type, UnaryOp};
use wasmparser::Operator;

impl FuncTranslator<'_> {
    pub(super) fn binary(&mut self, op: BinaryOp) {
        let (a, b) = self.pop2();
        let ty = self.func.value_type(a);
        self.push1(InstKind::Binary { op, args: [a, b] }, ty);
    }

    pub(super) fn unary(&mut self, op: UnaryOp, result: Type) {
        let arg = self.pop();
        self.push1(InstKind::Unary { op, arg }, result);
    }

    pub(super) fn compare(&mut self, op: CmpOp) {
        let (a, b) = self.pop2();
        self.push1(InstKind::Compare { op, args: [a, b] }, Type::I32);
    }

    fn eqz(&mut self, ty: Type) {
        let a = self.pop();
        let zero = self.iconst(ty, 0);
        self.push1(InstKind::Compare { op: CmpOp::Eq, args: [a, zero] }, Type::I32);
    }

    pub(super) fn translate_int(&mut self, op: &Operator<'_>) -> bool {
        use BinaryOp as B;
        use CmpOp as C;
        use Operator as O;
        use Type::{I32, I64};
        use UnaryOp as U;
        match *op {
            O::I32Const { value } => {
                let v = self.iconst(I32, value as u32 as u64);
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.iconst(I64, value as u64);
                self.push(v);
            }
            O::I32Add | O::I64Add => self.binary(B::Add),
            O::I32Sub | O::I64Sub => self.binary(B::Sub),
            O::I32Mul | O::I64Mul => self.binary(B::Mul),
            O::I32DivS | O::I64DivS => self.binary(B::DivS),
            O::I32DivU | O::I64DivU => self.binary(B::DivU),
            O::I32RemS | O::I64RemS => self.binary(B::RemS),
            O::I32RemU | O::I64RemU => self.binary(B::RemU),
            O::I32And | O::I64And => self.binary(B::And),
            O::I32Or | O::I64Or => self.binary(B::Or),
            O::I32Xor | O::I64Xor => self.binary(B::Xor),
            O::I32Shl | O::I64Shl => self.binary(B::Shl),
            O::I32ShrS | O::I64ShrS => self.binary(B::ShrS),
            O::I32ShrU | O::I64ShrU => self.binary(B::ShrU),
            O::I32Rotl | O::I64Rotl => self.binary(B::Rotl),
            O::I32Rotr | O::I64Rotr => self.binary(B::Rotr),
            O::I32Clz => self.unary(U::Clz, I32),
            O::I64Clz => self.unary(U::Clz, I64),
            O::I32Ctz => self.unary(U::Ctz, I32),
            O::I64Ctz => self.unary(U::Ctz, I64),
            O::I32Popcnt => self.unary(U::Popcnt, I32),
            O::I64Popcnt => self.unary(U::Popcnt, I64),
            O::I32Eqz => self.eqz(I32),
            O::I64Eqz => self.eqz(I64),
            O::I32Eq | O::I64Eq => self.compare(C::Eq),
            O::I32Ne | O::I64Ne => self.compare(C::Ne),
            O::I32LtS | O::I64LtS => self.compare(C::LtS),
            O::I32LtU | O::I64LtU => self.compare(C::LtU),
            O::I32GtS | O::I64GtS => self.compare(C::GtS),
            O::I32GtU | O::I64GtU => self.compare(C::GtU),
            O::I32LeS | O::I64LeS => self.compare(C::LeS),
            O::I32LeU | O::I64LeU => self.compare(C::LeU),
            O::I32GeS | O::I64GeS => self.compare(C::GeS),
            O::I32GeU | O::I64GeU => self.compare(C::GeU),
            O::I32Extend8S => self.unary(U::Extend8S, I32),
            O::I32Extend16S => self.unary(U::Extend16S, I32),
            O::I64Extend8S => self.unary(U::Extend8S, I64),
            O::I64Extend16S => self.unary(U::Extend16S, I64),
            O::I64Extend32S => self.unary(U::Extend32S, I64),
            O::I32WrapI64 => self.unary(U::Wrap, I32),
            O::I64ExtendI32S => self.unary(U::ExtendS, I64),
            O::I64ExtendI32U => self.unary(U::ExtendU, I64),
            _ => return false,
        }
        true
    }
}
