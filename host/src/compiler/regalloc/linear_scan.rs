//! The linear scan proper (Poletto & Sarkar, with Wimmer's treatment of
//! lifetime holes; no interval splitting).
//!
//! Intervals are visited by start position. A register is free for the
//! current interval when no active or inactive interval assigned to it,
//! and none of its fixed ranges, intersects the current one. Among free
//! registers a hinted one wins, then caller-saved ones (no save needed).
//! When none is free, the cheapest set of intersecting intervals on one
//! register is evicted to the stack if it is cheaper than spilling the
//! current interval; evicted intervals live on the stack for their whole
//! life.

use super::liveness::Liveness;
use super::{ALLOCATABLE_GPRS, Allocation, CALLEE_SAVED_ALLOCATABLE, Loc, allocatable_xmms};
use crate::compiler::vcode::{Reg, RegClass, VCode};

fn spill_weight(iv: &super::Interval) -> f64 {
    let len: u32 = iv.ranges.iter().map(|r| r.1 - r.0).sum();
    if len <= 2 {
        // Temporaries of one instruction: never worth evicting.
        f64::INFINITY
    } else {
        iv.use_weight / len as f64
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
    let mut active: Vec<usize> = Vec::new();
    let mut inactive: Vec<usize> = Vec::new();
    let mut num_slots = 0u32;
    let mut spill = |locs: &mut Vec<Loc>, v: usize| {
        locs[v] = Loc::Stack(num_slots);
        num_slots += 1;
    };

    for &cur in &order {
        let iv = &live.vregs[cur];
        let pos = iv.start();
        let reg_of = |locs: &Vec<Loc>, v: usize| match locs[v] {
            Loc::Reg(r) => r,
            _ => unreachable!("active intervals have registers"),
        };
        // Retire and reclassify.
        let mut still_active = Vec::new();
        for &a in &active {
            if live.vregs[a].end() <= pos {
                continue;
            } else if live.vregs[a].covers(pos) {
                still_active.push(a);
            } else {
                inactive.push(a);
            }
        }
        let mut still_inactive = Vec::new();
        for &a in &inactive {
            if live.vregs[a].end() <= pos {
                continue;
            } else if live.vregs[a].covers(pos) {
                still_active.push(a);
            } else {
                still_inactive.push(a);
            }
        }
        active = still_active;
        inactive = still_inactive;

        let class = vcode.vreg_classes[cur];
        let regs = if class == RegClass::Int { &int_regs } else { &float_regs };
        // A register is free when nothing assigned to it intersects `cur`.
        let free = |locs: &Vec<Loc>, r: Reg| -> bool {
            if iv.intersection(&live.fixed[r.0 as usize]).is_some() {
                return false;
            }
            active
                .iter()
                .chain(&inactive)
                .all(|&o| reg_of(locs, o) != r || iv.intersection(&live.vregs[o].ranges).is_none())
        };
        let hinted = hints[cur].iter().find_map(|&h| {
            let r = if h.is_virtual() {
                match locs[h.vreg_index()] {
                    Loc::Reg(r) => r,
                    _ => return None,
                }
            } else {
                h
            };
            (regs.contains(&r) && free(&locs, r)).then_some(r)
        });
        let chosen = hinted.or_else(|| regs.iter().copied().find(|&r| free(&locs, r)));
        if let Some(r) = chosen {
            locs[cur] = Loc::Reg(r);
            active.push(cur);
            continue;
        }
        // No free register: evict the cheapest intersecting set, or spill `cur`.
        let mut best: Option<(f64, Reg)> = None;
        for &r in regs {
            if iv.intersection(&live.fixed[r.0 as usize]).is_some() {
                continue;
            }
            let cost: f64 = active
                .iter()
                .chain(&inactive)
                .filter(|&&o| {
                    reg_of(&locs, o) == r && iv.intersection(&live.vregs[o].ranges).is_some()
                })
                .map(|&o| weights[o])
                .sum();
            if best.is_none_or(|(c, _)| cost < c) {
                best = Some((cost, r));
            }
        }
        match best {
            Some((cost, r)) if cost < weights[cur] => {
                let evicted: Vec<usize> = active
                    .iter()
                    .chain(&inactive)
                    .copied()
                    .filter(|&o| {
                        reg_of(&locs, o) == r && iv.intersection(&live.vregs[o].ranges).is_some()
                    })
                    .collect();
                for o in evicted {
                    spill(&mut locs, o);
                    active.retain(|&a| a != o);
                    inactive.retain(|&a| a != o);
                }
                locs[cur] = Loc::Reg(r);
                active.push(cur);
            }
            _ => spill(&mut locs, cur),
        }
    }

    let mut callee_saved = Vec::new();
    for g in CALLEE_SAVED_ALLOCATABLE {
        if locs.contains(&Loc::Reg(Reg::gpr(g))) {
            callee_saved.push(g);
        }
    }
    Allocation { locs, num_slots, callee_saved }
}
