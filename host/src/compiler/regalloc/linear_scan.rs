//! The linear scan proper (Poletto & Sarkar, with Wimmer's treatment of
//! lifetime holes; no interval splitting).
//!
//! Intervals are visited by start position. A register is free for the
//! current interval when no interval assigned to it, and none of its fixed
//! ranges, intersects the current one. Among free registers a hinted one
//! wins, then caller-saved ones (no save needed). When none is free, the
//! cheapest set of intersecting intervals on one register is evicted to
//! the stack if it is cheaper than spilling the current interval; evicted
//! intervals live on the stack for their whole life.
//!
//! Instead of the classic active and inactive lists (whose length is not
//! bounded: every interval in a lifetime hole stays inactive), each
//! register keeps the ranges assigned to it in an ordered map. They are
//! disjoint, so whether an interval fits is one lookup per range, and the
//! cost does not depend on how many other intervals are waiting out a
//! hole. Intervals that ended stay in the maps; they can no longer
//! intersect anything.

use super::liveness::{Liveness, first_intersection};
use super::local_copies;
use super::{ALLOCATABLE_GPRS, Allocation, CALLEE_SAVED_ALLOCATABLE, Loc, allocatable_xmms};
use crate::compiler::vcode::{NUM_PREGS, Reg, RegClass, VCode};
use std::collections::BTreeMap;

/// Evicting from a register whose intersecting ranges are more than this
/// is not considered (it would be expensive anyway); keeps each attempt
/// bounded when long intervals with many holes share a register.
const MAX_EVICTION_SCAN: usize = 64;

fn spill_weight(iv: &super::Interval) -> f64 {
    let len: u32 = iv.ranges.iter().map(|r| r.1 - r.0).sum();
    if len <= 2 {
        // Temporaries of one instruction: never worth evicting.
        f64::INFINITY
    } else {
        iv.use_weight / len as f64
    }
}

/// The ranges assigned to one physical register: start -> (end, vreg).
#[derive(Default)]
struct RegRanges(BTreeMap<u32, (u32, usize)>);

impl RegRanges {
    /// Whether any assigned range intersects `[from, to)`.
    fn intersects(&self, from: u32, to: u32) -> bool {
        // Disjoint ranges: only the last one starting before `to` can.
        self.0.range(..to).next_back().is_some_and(|(_, &(end, _))| end > from)
    }

    /// Calls `f` with the owner of every assigned range intersecting
    /// `[from, to)`, in position order; stops early when `f` says so.
    fn owners(&self, from: u32, to: u32, f: &mut impl FnMut(usize) -> bool) -> bool {
        let first = match self.0.range(..=from).next_back() {
            Some((&s, &(end, _))) if end > from => s,
            _ => from,
        };
        for (_, &(_, v)) in self.0.range(first..to) {
            if !f(v) {
                return false;
            }
        }
        true
    }

    fn insert(&mut self, ranges: &[(u32, u32)], v: usize) {
        for &(from, to) in ranges {
            self.0.insert(from, (to, v));
        }
    }

    fn remove(&mut self, ranges: &[(u32, u32)]) {
        for &(from, _) in ranges {
            self.0.remove(&from);
        }
    }
}

/// Runs the allocator.
pub fn run(vcode: &VCode, live: &Liveness) -> Allocation {
    let nv = vcode.num_vregs();
    let mut locs = vec![Loc::None; nv];
    let weights: Vec<f64> = live.vregs.iter().map(spill_weight).collect();
    let mut hints: Vec<Vec<Reg>> = vec![Vec::new(); nv];
    for &(a, b) in &vcode.hints {
        if a.is_virtual() {
            hints[a.vreg_index()].push(b);
        }
        if b.is_virtual() {
            hints[b.vreg_index()].push(a);
        }
    }
    let mut order: Vec<usize> = (0..nv).filter(|&v| !live.vregs[v].ranges.is_empty()).collect();
    order.sort_by_key(|&v| (live.vregs[v].start(), v));

    let int_regs: Vec<Reg> = ALLOCATABLE_GPRS.iter().map(|&g| Reg::gpr(g)).collect();
    let float_regs: Vec<Reg> = allocatable_xmms().map(Reg::xmm).collect();
    let mut assigned: Vec<RegRanges> = (0..NUM_PREGS).map(|_| RegRanges::default()).collect();
    let mut num_slots = 0u32;
    let mut spill = |locs: &mut Vec<Loc>, v: usize| {
        locs[v] = Loc::Stack(num_slots);
        num_slots += 1;
    };

    for &cur in &order {
        let iv = &live.vregs[cur];
        let class = vcode.vreg_classes[cur];
        let regs = if class == RegClass::Int { &int_regs } else { &float_regs };
        // A register is free when nothing assigned to it intersects `cur`.
        let fixed_free = |r: Reg| iv.intersection(&live.fixed[r.0 as usize]).is_none();
        let free = |assigned: &[RegRanges], r: Reg| -> bool {
            let a = &assigned[r.0 as usize];
            fixed_free(r) && !iv.ranges.iter().any(|&(from, to)| a.intersects(from, to))
        };
        // The first hint naming a free register of the class; each
        // register is tried once however many hints name it.
        let mut tried = 0u64;
        let hinted = hints[cur].iter().find_map(|&h| {
            let r = if h.is_virtual() {
                match locs[h.vreg_index()] {
                    Loc::Reg(r) => r,
                    _ => return None,
                }
            } else {
                h
            };
            if tried >> r.0 & 1 != 0 {
                return None;
            }
            tried |= 1 << r.0;
            (regs.contains(&r) && free(&assigned, r)).then_some(r)
        });
        let chosen = hinted.or_else(|| regs.iter().copied().find(|&r| free(&assigned, r)));
        if let Some(r) = chosen {
            locs[cur] = Loc::Reg(r);
            assigned[r.0 as usize].insert(&iv.ranges, cur);
            continue;
        }
        // No free register: evict the cheapest intersecting set, or spill `cur`.
        let mut best: Option<(f64, Reg, Vec<usize>)> = None;
        for &r in regs {
            if !fixed_free(r) {
                continue;
            }
            let a = &assigned[r.0 as usize];
            let bound = best.as_ref().map_or(weights[cur], |b| b.0.min(weights[cur]));
            let mut owners: Vec<usize> = Vec::new();
            let mut cost = 0.0;
            let mut scanned = 0;
            let complete = iv.ranges.iter().all(|&(from, to)| {
                a.owners(from, to, &mut |o| {
                    scanned += 1;
                    if !owners.contains(&o) {
                        owners.push(o);
                        cost += weights[o];
                    }
                    scanned <= MAX_EVICTION_SCAN && cost < bound
                })
            });
            if complete && best.as_ref().is_none_or(|b| cost < b.0) {
                best = Some((cost, r, owners));
            }
        }
        match best {
            Some((cost, r, evicted)) if cost < weights[cur] => {
                for o in evicted {
                    assigned[r.0 as usize].remove(&live.vregs[o].ranges);
                    spill(&mut locs, o);
                }
                locs[cur] = Loc::Reg(r);
                assigned[r.0 as usize].insert(&iv.ranges, cur);
            }
            _ => spill(&mut locs, cur),
        }
    }

    let copies = {
        let mut map = Maps { assigned: &mut assigned, fixed: &live.fixed };
        local_copies::find(vcode, live, &locs, &int_regs, &float_regs, &mut map)
    };

    let mut callee_saved = Vec::new();
    for g in CALLEE_SAVED_ALLOCATABLE {
        let r = Reg::gpr(g);
        if locs.contains(&Loc::Reg(r)) || copies.iter().any(|c| c.reg == r) {
            callee_saved.push(g);
        }
    }
    Allocation { locs, copies, num_slots, callee_saved }
}

/// The registers' assigned and fixed ranges, as the local-copy pass sees them.
struct Maps<'a> {
    assigned: &'a mut [RegRanges],
    fixed: &'a [Vec<(u32, u32)>],
}

impl local_copies::RegisterMap for Maps<'_> {
    fn is_free(&self, reg: Reg, from: u32, to: u32) -> bool {
        let r = reg.0 as usize;
        !self.assigned[r].intersects(from, to)
            && first_intersection(&[(from, to)], &self.fixed[r]).is_none()
    }
    fn claim(&mut self, reg: Reg, from: u32, to: u32, vreg: usize) {
        self.assigned[reg.0 as usize].insert(&[(from, to)], vreg);
    }
}
