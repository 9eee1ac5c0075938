//! Integer operators: arithmetic, bitwise, shifts, division, bit counting,
//! extension and wrapping.

use super::{Lowerer, size_of};
use crate::compiler::ir::{BinaryOp, Inst, InstKind, Type, UnaryOp};
use crate::compiler::vcode::*;
use crate::compiler::x64::encode::{AluOp, BitCountOp, ExtendKind, ShiftOp};
use crate::compiler::x64::regs::{Cond, Gpr, Size};

impl Lowerer<'_> {
    pub(super) fn lower_unary(&mut self, inst: Inst) {
        let InstKind::Unary { op, arg } = self.func.insts[inst.index()].kind else {
            unreachable!()
        };
        let result = self.func.first_result(inst);
        let (from, to) = (self.ty(arg), self.ty(result));
        if from.is_float() || to.is_float() {
            return self.lower_float_unary(op, arg, result);
        }
        let src = self.get(arg);
        let dst = self.def(result);
        let size = size_of(to);
        use UnaryOp as U;
        match op {
            U::Clz | U::Ctz => self.lower_count_zeros(op == U::Clz, size, dst, src),
            U::Popcnt => self.emit(MInst::BitCount { op: BitCountOp::Popcnt, size, dst, src }),
            U::Extend8S | U::Extend16S | U::Extend32S => {
                let kind = match (op, to) {
                    (U::Extend8S, Type::I32) => ExtendKind::S8To32,
                    (U::Extend16S, Type::I32) => ExtendKind::S16To32,
                    (U::Extend8S, _) => ExtendKind::S8To64,
                    (U::Extend16S, _) => ExtendKind::S16To64,
                    _ => ExtendKind::S32To64,
                };
                self.emit(MInst::Extend { kind, dst, src });
            }
            U::Wrap => self.emit(MInst::Extend { kind: ExtendKind::U32To64, dst, src }),
            U::ExtendS => self.emit(MInst::Extend { kind: ExtendKind::S32To64, dst, src }),
            // i32 values are kept zero-extended, so this is a plain copy.
            U::ExtendU => self.emit_move(dst, src, RegClass::Int),
            _ => unreachable!("float operator {op:?} on integers"),
        }
    }

    /// `clz`/`ctz`, with `lzcnt`/`tzcnt` when available, else `bsr`/`bsf`
    /// (which leave the destination undefined for zero input).
    fn lower_count_zeros(&mut self, leading: bool, size: Size, dst: Reg, src: Reg) {
        let bits = if size == Size::S64 { 64 } else { 32 };
        let fast = if leading { self.ctx.isa.lzcnt } else { self.ctx.isa.bmi1 };
        if fast {
            let op = if leading { BitCountOp::Lzcnt } else { BitCountOp::Tzcnt };
            return self.emit(MInst::BitCount { op, size, dst, src });
        }
        let op = if leading { BitCountOp::Bsr } else { BitCountOp::Bsf };
        let t = self.vreg(RegClass::Int);
        let zero_value = if leading { u64::MAX } else { bits };
        self.emit(MInst::MovImm { size, dst: t, imm: zero_value });
        let raw = self.vreg(RegClass::Int);
        self.emit(MInst::BitCount { op, size, dst: raw, src });
        self.emit(MInst::Cmov { cond: Cond::E, size, dst: raw, src: t });
        if leading {
            // clz = (bits - 1) - bsr, and bsr(0) := -1 gives `bits`.
            self.emit(MInst::Neg { size, dst: raw });
            self.emit(MInst::Alu {
                op: AluOp::Add,
                size,
                dst: raw,
                src: RegMemImm::Imm(bits as i32 - 1),
            });
        }
        self.emit_move(dst, raw, RegClass::Int);
    }

    pub(super) fn lower_binary(&mut self, inst: Inst) {
        let InstKind::Binary { op, args: [a, b] } = self.func.insts[inst.index()].kind else {
            unreachable!()
        };
        let result = self.func.first_result(inst);
        let ty = self.ty(result);
        if ty.is_float() {
            return self.lower_float_binary(op, a, b, result);
        }
        let size = size_of(ty);
        use BinaryOp as B;
        match op {
            B::Add => {
                let addr = self.add_address(a, b);
                let dst = self.def(result);
                self.emit(MInst::Lea { size, dst, addr });
            }
            B::Sub | B::And | B::Or | B::Xor => {
                let alu = match op {
                    B::Sub => AluOp::Sub,
                    B::And => AluOp::And,
                    B::Or => AluOp::Or,
                    _ => AluOp::Xor,
                };
                let ra = self.get(a);
                let src = self.rmi(b);
                let dst = self.def(result);
                self.emit_move(dst, ra, RegClass::Int);
                self.emit(MInst::Alu { op: alu, size, dst, src });
            }
            B::Mul => {
                let ra = self.get(a);
                let dst = self.def(result);
                match self.rmi(b) {
                    RegMemImm::Imm(imm) => self.emit(MInst::ImulImm { size, dst, src: ra, imm }),
                    src => {
                        self.emit_move(dst, ra, RegClass::Int);
                        self.emit(MInst::Imul { size, dst, src });
                    }
                }
            }
            B::Shl | B::ShrS | B::ShrU | B::Rotl | B::Rotr => {
                let shift = match op {
                    B::Shl => ShiftOp::Shl,
                    B::ShrS => ShiftOp::Sar,
                    B::ShrU => ShiftOp::Shr,
                    B::Rotl => ShiftOp::Rol,
                    _ => ShiftOp::Ror,
                };
                let ra = self.get(a);
                // x86 masks the count like wasm does (mod 32 or 64).
                let imm = self.const_of(b).map(|c| (c & (size.bytes() as u64 * 8 - 1)) as u8);
                if imm.is_none() {
                    let rb = self.get(b);
                    self.emit(MInst::Mov { size: Size::S64, dst: Reg::gpr(Gpr::RCX), src: rb });
                }
                let dst = self.def(result);
                self.emit_move(dst, ra, RegClass::Int);
                self.emit(MInst::Shift { op: shift, size, dst, imm });
            }
            B::DivS | B::DivU | B::RemS | B::RemU => {
                let kind = match op {
                    B::DivS => DivKind::DivS,
                    B::DivU => DivKind::DivU,
                    B::RemS => DivKind::RemS,
                    _ => DivKind::RemU,
                };
                let divisor_const = self
                    .const_of(b)
                    .map(|c| if ty == Type::I32 { c as u32 as i32 as i64 } else { c as i64 });
                let check_zero = divisor_const.is_none_or(|c| c == 0);
                let check_overflow = matches!(kind, DivKind::DivS | DivKind::RemS)
                    && divisor_const.is_none_or(|c| c == -1);
                let ra = self.get(a);
                let rb = self.get(b);
                let rax = Reg::gpr(Gpr::RAX);
                self.emit(MInst::Mov { size: Size::S64, dst: rax, src: ra });
                self.emit(MInst::Div {
                    kind,
                    size,
                    divisor: rb,
                    check_zero,
                    check_overflow,
                    srcloc: self.srcloc,
                });
                let out = match kind {
                    DivKind::DivS | DivKind::DivU => rax,
                    _ => Reg::gpr(Gpr::RDX),
                };
                let dst = self.def(result);
                self.emit(MInst::Mov { size, dst, src: out });
            }
            _ => unreachable!("float operator {op:?} on integers"),
        }
    }
}
