//! Vector operators: one `MInst::Simd` each, shaped for the emitter
//! (`x64/emit/simd.rs`): when the first operand and the result are
//! vectors the result register starts as a copy of the first operand
//! (which the allocator can often coalesce) and is modified in place;
//! otherwise the result is written before the operands are read.
//!
//! A constant shift count becomes an immediate. A third operand is first
//! copied into a register of its own that lives only for this instruction
//! (such registers are never spilled), so that the emitter never needs
//! more than its two scratch registers for spilled operands.

use super::Lowerer;
use crate::compiler::ir::{Inst, InstKind, SimdOp, Type};
use crate::compiler::vcode::*;
use crate::compiler::x64::emit::simd::temps;

/// Whether `op`'s last operand is a shift count.
fn is_shift(op: &SimdOp) -> bool {
    use SimdOp::*;
    matches!(
        op,
        I8x16Shl
            | I8x16ShrS
            | I8x16ShrU
            | I16x8Shl
            | I16x8ShrS
            | I16x8ShrU
            | I32x4Shl
            | I32x4ShrS
            | I32x4ShrU
            | I64x2Shl
            | I64x2ShrS
            | I64x2ShrU
    )
}

impl Lowerer<'_> {
    pub(super) fn lower_simd(&mut self, inst: Inst) {
        let InstKind::Simd { op, args } = self.func.insts[inst.index()].kind else {
            unreachable!("not a vector operator")
        };
        let args = &args[..op.num_args()];
        let result = self.func.first_result(inst);
        let in_place = op.result_type() == Type::V128 && self.ty(args[0]) == Type::V128;
        let mut imm = None;
        let mut operands = args;
        if is_shift(&op)
            && let Some(c) = self.const_of(args[1])
        {
            // Lanes are at most 64 bits wide: the count modulo 64 keeps
            // every width's count.
            imm = Some((c & 63) as u8);
            operands = &args[..1];
        }
        let mut regs: Vec<Reg> = operands.iter().map(|&a| self.get(a)).collect();
        if regs.len() == 3 {
            let own = self.vreg(RegClass::Float);
            self.emit(MInst::FMov { dst: own, src: regs[2] });
            regs[2] = own;
        }
        let dst = self.def(result);
        if in_place {
            self.emit_move(dst, regs[0], RegClass::Float);
            regs.remove(0);
        }
        let tmps = temps(&op).iter().map(|&c| self.vreg(c)).collect();
        self.emit(MInst::Simd { op, in_place, dst, args: regs, tmps, imm });
    }
}
