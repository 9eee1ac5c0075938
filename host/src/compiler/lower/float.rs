//! Float operators: arithmetic, min/max, sign operations, rounding,
//! conversions and reinterpretation.

use super::{Lowerer, size_of};
use crate::compiler::ir::{BinaryOp, Type, UnaryOp, Value};
use crate::compiler::vcode::*;
use crate::compiler::x64::encode::SseOp;
use crate::compiler::x64::regs::Size;

/// A 16-byte constant holding `bits` in the low lane (f32: 4 bytes, f64: 8).
fn lane_constant(double: bool, bits: u64) -> [u8; 16] {
    let mut c = [0u8; 16];
    if double {
        c[..8].copy_from_slice(&bits.to_le_bytes());
    } else {
        c[..4].copy_from_slice(&(bits as u32).to_le_bytes());
    }
    c
}

impl Lowerer<'_> {
    /// Unary operators where the operand or the result is a float.
    pub(super) fn lower_float_unary(&mut self, op: UnaryOp, arg: Value, result: Value) {
        let (from, to) = (self.ty(arg), self.ty(result));
        let src = self.get(arg);
        let dst = self.def(result);
        let double = from == Type::F64 || (to == Type::F64 && !from.is_float());
        let sign = if double { 1u64 << 63 } else { 1u64 << 31 };
        use UnaryOp as U;
        match op {
            U::FNeg | U::FAbs => {
                self.emit_move(dst, src, RegClass::Float);
                let (sse, mask) = match (op, double) {
                    (U::FNeg, true) => (SseOp::Xorpd, sign),
                    (U::FNeg, false) => (SseOp::Xorps, sign),
                    (_, true) => (SseOp::Andpd, !sign),
                    (_, false) => (SseOp::Andps, !sign & 0xffff_ffff),
                };
                let constant = self.constant(lane_constant(double, mask));
                self.emit(MInst::SseConst { op: sse, dst, constant });
            }
            U::FSqrt => {
                let sse = if double { SseOp::Sqrtsd } else { SseOp::Sqrtss };
                self.emit(MInst::Sse { op: sse, dst, src });
            }
            U::FCeil | U::FFloor | U::FTrunc | U::FNearest => {
                let mode = match op {
                    U::FNearest => 0,
                    U::FFloor => 1,
                    U::FCeil => 2,
                    _ => 3,
                };
                self.emit(MInst::Round { double, dst, src, mode });
            }
            U::Promote => self.emit(MInst::Sse { op: SseOp::Cvtss2sd, dst, src }),
            U::Demote => self.emit(MInst::Sse { op: SseOp::Cvtsd2ss, dst, src }),
            U::Reinterpret if to.is_float() => {
                self.emit(MInst::MovToXmm { size: size_of(to), dst, src })
            }
            U::Reinterpret => self.emit(MInst::MovFromXmm { size: size_of(to), dst, src }),
            U::ConvertS | U::ConvertU => {
                let double = to == Type::F64;
                let int_size = size_of(from);
                let tmps = (op == U::ConvertU && from == Type::I64)
                    .then(|| (self.vreg(RegClass::Int), self.vreg(RegClass::Int)));
                // An unsigned i32 is zero-extended, so a signed 64-bit
                // conversion of it is exact.
                let int_size = if op == U::ConvertU { Size::S64 } else { int_size };
                self.emit(MInst::IntToFloat { double, int_size, dst, src, tmps });
            }
            U::TruncS | U::TruncU | U::TruncSatS | U::TruncSatU => {
                let kind = match op {
                    U::TruncS => TruncKind::Signed,
                    U::TruncU => TruncKind::Unsigned,
                    U::TruncSatS => TruncKind::SatSigned,
                    _ => TruncKind::SatUnsigned,
                };
                let tmp = self.vreg(RegClass::Float);
                self.emit(MInst::FloatToInt {
                    kind,
                    double: from == Type::F64,
                    int_size: size_of(to),
                    dst,
                    src,
                    tmp,
                    srcloc: self.srcloc,
                });
            }
            _ => unreachable!("integer operator {op:?} on floats"),
        }
    }

    pub(super) fn lower_float_binary(&mut self, op: BinaryOp, a: Value, b: Value, result: Value) {
        let double = self.ty(result) == Type::F64;
        let ra = self.get(a);
        let rb = self.get(b);
        let dst = self.def(result);
        self.emit_move(dst, ra, RegClass::Float);
        let pick = |s: SseOp, d: SseOp| if double { d } else { s };
        let sse = match op {
            BinaryOp::FAdd => pick(SseOp::Addss, SseOp::Addsd),
            BinaryOp::FSub => pick(SseOp::Subss, SseOp::Subsd),
            BinaryOp::FMul => pick(SseOp::Mulss, SseOp::Mulsd),
            BinaryOp::FDiv => pick(SseOp::Divss, SseOp::Divsd),
            BinaryOp::FMin | BinaryOp::FMax => {
                let is_max = op == BinaryOp::FMax;
                return self.emit(MInst::FMinMax { is_max, double, dst, src: rb });
            }
            BinaryOp::FCopysign => {
                let tmp = self.vreg(RegClass::Float);
                return self.emit(MInst::FCopysign { double, dst, src: rb, tmp });
            }
            _ => unreachable!("integer operator {op:?} on floats"),
        };
        self.emit(MInst::Sse { op: sse, dst, src: rb });
    }
}
