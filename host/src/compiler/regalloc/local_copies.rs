//! Block-local register copies of spilled virtual registers: the part of
//! live-range splitting that pays most when a register's whole life does
//! not fit.
//!
//! Linear scan puts a virtual register that loses the competition in a
//! stack slot for its whole life, and the emitter then reloads it at every
//! use. Typically such a register is long-lived and used in clusters (the
//! state of a loop used at the start and at the end of a long body; a
//! value read several times in a row), and between the uses of a cluster
//! some physical register is free. This pass gives such stretches a copy:
//! within one block, from one occurrence of the register to a later one,
//! a physical register that nothing else occupies over that span holds
//! its value. The stretch loads the slot once at its start (unless it
//! starts with a definition), and every use inside reads the copy.
//!
//! The slot stays the register's home and is current outside stretches:
//! the last definition inside a stretch stores its value to the slot too
//! (earlier ones need not: within the stretch only the copy is read), and
//! definitions outside stretches store as always. So a copy never has to
//! be written back, and nothing is needed at block edges, where copies do
//! not reach: splitting without resolution moves.
//!
//! Spilled registers are served hottest first (occurrences weighted by
//! loop depth), each taking the registers the rest of the allocation left
//! free, in the allocator's order of preference; a stretch is kept only
//! when it saves at least one reload.
//!
//! Requires: the linear-scan assignment, with the ranges assigned to each
//! physical register.
//! Produces: [`LocalCopy`] stretches, sorted by first instruction, each on
//! a register free over the whole stretch (the checker verifies it).
//!
//! Cost: one pass over the operands, then per occurrence of a spilled
//! register at most one map lookup per allocatable register.

use super::liveness::{Liveness, first_intersection};
use super::{Loc, LocalCopy};
use crate::compiler::vcode::{MInst, OperandKind, Reg, RegClass, VCode};

/// Whether physical register `reg` is free over positions `[from, to)`,
/// and how to claim it; implemented by the linear scan's register maps.
pub(super) trait RegisterMap {
    /// Nothing assigned to `reg` (nor any fixed use of it) intersects the span.
    fn is_free(&self, reg: Reg, from: u32, to: u32) -> bool;
    /// Claims `reg` over the span for virtual register `vreg`.
    fn claim(&mut self, reg: Reg, from: u32, to: u32, vreg: usize);
}

/// One occurrence of a spilled register: instruction, block, whether the
/// instruction reads the value.
#[derive(Clone, Copy)]
struct Occurrence {
    inst: u32,
    block: u32,
    reads: bool,
    writes: bool,
    /// Written before the instruction's uses are read (`EarlyDef`).
    early: bool,
}

/// Finds the stretches; `int_regs` and `float_regs` are the allocatable
/// registers of each class, in order of preference.
pub(super) fn find(
    vcode: &VCode,
    live: &Liveness,
    locs: &[Loc],
    int_regs: &[Reg],
    float_regs: &[Reg],
    map: &mut dyn RegisterMap,
) -> Vec<LocalCopy> {
    // Occurrences of spilled registers, grouped by register, in layout
    // order. Block-parameter moves of a jump read the slot directly, so
    // jumps are left out: a copy would not serve them.
    let mut all: Vec<(usize, Occurrence)> = Vec::new();
    for b in &vcode.order {
        let blk = &vcode.blocks[b.0 as usize];
        for i in blk.start..blk.end {
            let inst = &vcode.insts[i as usize];
            if matches!(inst, MInst::Jmp { .. }) {
                continue;
            }
            inst.each_operand(|reg, kind| {
                let Some(kind) = kind else { return };
                if reg.is_virtual() && matches!(locs[reg.vreg_index()], Loc::Stack(_)) {
                    let reads = matches!(kind, OperandKind::Use | OperandKind::Mod);
                    let writes = kind != OperandKind::Use;
                    let early = kind == OperandKind::EarlyDef;
                    let occ = Occurrence { inst: i, block: b.0, reads, writes, early };
                    all.push((reg.vreg_index(), occ));
                }
            });
        }
    }
    if all.is_empty() {
        return Vec::new();
    }
    // Stable: keeps each register's occurrences in layout order.
    all.sort_by_key(|&(v, _)| v);
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for k in 1..=all.len() {
        if k == all.len() || all[k].0 != all[start].0 {
            groups.push((start, k));
            start = k;
        }
    }
    // Hottest first.
    groups.sort_by(|a, b| {
        let (wa, wb) = (live.vregs[all[a.0].0].use_weight, live.vregs[all[b.0].0].use_weight);
        wb.total_cmp(&wa).then(all[a.0].0.cmp(&all[b.0].0))
    });

    let mut copies = Vec::new();
    for (lo, hi) in groups {
        let v = all[lo].0;
        let regs = if vcode.vreg_classes[v] == RegClass::Int { int_regs } else { float_regs };
        let occ: Vec<Occurrence> = all[lo..hi].iter().map(|&(_, o)| o).collect();
        let mut k = 0;
        while k < occ.len() {
            // Several operands of one instruction are one occurrence.
            let first = occ[k];
            let mut end = k;
            let mut reads = 0u32;
            let mut load = false;
            let mut store_at = None;
            let mut candidates: Vec<Reg> = Vec::new();
            // A stretch that starts by defining the register needs the copy
            // only from the definition (the instruction's sources may still
            // be in it, as for any definition); one that reads, from the
            // instruction's uses.
            let mut start = 2 * first.inst;
            let mut j = k;
            while j < occ.len() && occ[j].block == first.block {
                let mut next = j;
                let (mut here_reads, mut here_writes) = (false, false);
                while next < occ.len() && occ[next].inst == occ[j].inst {
                    here_reads |= occ[next].reads;
                    here_writes |= occ[next].writes;
                    next += 1;
                }
                if j == k && !here_reads && !occ[j..next].iter().any(|o| o.early) {
                    start = 2 * first.inst + 1;
                }
                let to = 2 * occ[j].inst + 2;
                let still: Vec<Reg> = if j == k {
                    regs.iter().copied().filter(|&r| map.is_free(r, start, to)).collect()
                } else {
                    let gap = 2 * occ[end].inst + 2;
                    candidates.iter().copied().filter(|&r| map.is_free(r, gap, to)).collect()
                };
                if still.is_empty() {
                    break;
                }
                candidates = still;
                reads += here_reads as u32;
                if j == k {
                    load = here_reads;
                }
                if here_writes {
                    store_at = Some(occ[j].inst);
                }
                end = j;
                j = next;
            }
            // Without the copy every reading occurrence reloads; with it,
            // only the first, when it reads.
            let saved = reads.saturating_sub(load as u32);
            if saved >= 1
                && let Some(&reg) = candidates.first()
            {
                map.claim(reg, start, 2 * occ[end].inst + 2, v);
                copies.push(LocalCopy {
                    vreg: v as u32,
                    reg,
                    start,
                    first: first.inst,
                    last: occ[end].inst,
                    load,
                    store_at,
                });
            }
            // Continue after the stretch (or after this occurrence).
            let mut after = end + 1;
            while after < occ.len() && occ[after].inst == occ[end].inst {
                after += 1;
            }
            k = after.max(k + 1);
        }
    }
    copies.sort_by_key(|c| (c.first, c.vreg));
    debug_assert!(copies.iter().all(|c| {
        let span = [(c.start, 2 * c.last + 2)];
        first_intersection(&span, &live.fixed[c.reg.0 as usize]).is_none()
    }));
    copies
}
