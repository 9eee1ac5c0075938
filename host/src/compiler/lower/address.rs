//! x86-64 addressing modes for integer additions: `lea` computes
//! `base + index * scale + disp` in one instruction, so a shift by 1–3
//! that feeds only an addition, or an addition that feeds only an
//! addition of a constant, folds into the outer addition's `lea` instead
//! of being computed on its own (strength reduction of `x + (y << k)`,
//! `x + y + c` and `x + (y << k) + c`). The results wrap exactly as the
//! wasm operations do: a 32-bit `lea` keeps the low 32 bits of the sum
//! (and zero-extends), a 64-bit one wraps at 2^64.
//!
//! Requires: use counts of the IR values. Produces: the set of
//! instructions folded into their user (lowering skips them) and, for an
//! addition, its address operand.

use super::Lowerer;
use crate::compiler::ir::{BinaryOp, Function, Inst, InstKind, Value};
use crate::compiler::vcode::{MemAddr, RegMemImm};
use crate::compiler::x64::regs::Scale;

/// Marks the instructions that fold into the addition using them: a shift
/// left by a constant 1–3, or an addition whose user adds a constant that
/// fits a displacement; each only when that addition, in the same block,
/// is its only use and adds a register to it.
pub(super) fn folded_instructions(func: &Function, use_counts: &[u32]) -> Vec<bool> {
    let mut folded = vec![false; func.insts.len()];
    let mut block_of = vec![u32::MAX; func.insts.len()];
    for &b in &func.layout {
        for &inst in &func.blocks[b.index()].insts {
            block_of[inst.index()] = b.index() as u32;
        }
    }
    for &b in &func.layout {
        for &user in &func.blocks[b.index()].insts {
            let InstKind::Binary { op: BinaryOp::Add, args: [x, y] } =
                func.insts[user.index()].kind
            else {
                continue;
            };
            let same_block_single_use = |v: Value| {
                let inst = func.def_inst(v)?;
                let here = block_of[inst.index()] == b.index() as u32;
                (use_counts[v.index()] == 1 && here).then_some(inst)
            };
            let is_const = |v: Value| func.iconst_value(v).is_some();
            let shift = |v: Value| {
                let inst = same_block_single_use(v)?;
                scale_of(func, inst).map(|_| inst)
            };
            if !is_const(x) && !is_const(y) {
                if let Some(inst) = shift(y).or_else(|| shift(x)) {
                    folded[inst.index()] = true;
                }
            } else if let Some(c) = func.iconst_value(y).or_else(|| func.iconst_value(x)) {
                let inner = if is_const(y) { x } else { y };
                let ty = func.value_type(func.first_result(user));
                let fits = super::imm32_of(c, ty).is_some();
                if let Some(inst) = same_block_single_use(inner)
                    && fits
                    && let InstKind::Binary { op: BinaryOp::Add, args: [p, q] } =
                        func.insts[inst.index()].kind
                    && !is_const(p)
                    && !is_const(q)
                {
                    folded[inst.index()] = true;
                }
            }
        }
    }
    folded
}

/// The scale of a shift left by a constant 1–3, if `inst` is one.
fn scale_of(func: &Function, inst: Inst) -> Option<(Value, Scale)> {
    let InstKind::Binary { op: BinaryOp::Shl, args: [v, k] } = func.insts[inst.index()].kind else {
        return None;
    };
    let scale = match func.iconst_value(k)? {
        1 => Scale::Two,
        2 => Scale::Four,
        3 => Scale::Eight,
        _ => return None,
    };
    Some((v, scale))
}

impl Lowerer<'_> {
    /// The address operand of a `lea` computing `a + b`, with folded
    /// shifts and additions taken in.
    pub(super) fn add_address(&mut self, a: Value, b: Value) -> MemAddr {
        let folded = |l: &Self, v: Value| l.func.def_inst(v).filter(|i| l.folded[i.index()]);
        for (base, other) in [(a, b), (b, a)] {
            if let Some(inst) = folded(self, other)
                && let Some((index, scale)) = scale_of(self.func, inst)
            {
                let base = self.get(base);
                let index = self.get(index);
                return MemAddr { base, index: Some((index, scale)), disp: 0 };
            }
        }
        for (sum, c) in [(a, b), (b, a)] {
            if let Some(inst) = folded(self, sum)
                && let InstKind::Binary { op: BinaryOp::Add, args: [p, q] } =
                    self.func.insts[inst.index()].kind
                && let RegMemImm::Imm(disp) = self.rmi(c)
            {
                // The inner sum may itself have taken in a shift.
                let mut addr = self.add_address(p, q);
                addr.disp = disp;
                return addr;
            }
        }
        let ra = self.get(a);
        match self.rmi(b) {
            RegMemImm::Imm(i) => MemAddr::base_disp(ra, i),
            RegMemImm::Reg(rb) => MemAddr { base: ra, index: Some((rb, Scale::One)), disp: 0 },
            RegMemImm::Mem(_) => unreachable!("an addition's operand is a register or immediate"),
        }
    }
}
