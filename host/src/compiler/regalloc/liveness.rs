//! Liveness: live-in sets by backward dataflow, then live intervals.
//!
//! Instruction `i` has a use position `2i` and a def position `2i+1`.
//! Ranges are half-open `[from, to)`. Block parameters are defined at the
//! first position of their block.

use crate::compiler::regalloc::is_allocatable;
use crate::compiler::vcode::{NUM_PREGS, OperandKind, OperandVisitor, Reg, VCode};

/// The lifetime of one register: sorted, disjoint, non-adjacent ranges.
#[derive(Clone, Debug, Default)]
pub struct Interval {
    /// Ranges in increasing order.
    pub ranges: Vec<(u32, u32)>,
    /// Spill cost: occurrences weighted by loop depth.
    pub use_weight: f64,
}

impl Interval {
    /// First position.
    pub fn start(&self) -> u32 {
        self.ranges.first().map_or(0, |r| r.0)
    }
    /// One past the last position.
    pub fn end(&self) -> u32 {
        self.ranges.last().map_or(0, |r| r.1)
    }
    /// Whether `pos` is inside a range.
    pub fn covers(&self, pos: u32) -> bool {
        let i = self.ranges.partition_point(|r| r.1 <= pos);
        i < self.ranges.len() && self.ranges[i].0 <= pos
    }
    /// First position covered by both, if any.
    pub fn intersection(&self, other: &[(u32, u32)]) -> Option<u32> {
        first_intersection(&self.ranges, other)
    }

    /// Adds `[from, to)` below all existing ranges (building backwards).
    fn prepend(&mut self, from: u32, to: u32) {
        // Ranges are kept in decreasing order while building.
        if let Some(last) = self.ranges.last_mut() {
            if last.0 <= to {
                last.0 = last.0.min(from);
                return;
            }
        }
        self.ranges.push((from, to));
    }

    /// Moves the start of the lowest range up to `pos` (a definition).
    fn define(&mut self, pos: u32) {
        match self.ranges.last_mut() {
            Some(last) if last.0 <= pos => last.0 = pos,
            _ => self.ranges.push((pos, pos + 1)),
        }
    }
}

/// The first position covered by both range lists (sorted increasing).
pub fn first_intersection(a: &[(u32, u32)], b: &[(u32, u32)]) -> Option<u32> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        let lo = x.0.max(y.0);
        if lo < x.1.min(y.1) {
            return Some(lo);
        }
        if x.1 <= y.1 { i += 1 } else { j += 1 }
    }
    None
}

/// Intervals of every virtual register and fixed ranges of every physical one.
pub struct Liveness {
    /// By virtual register index.
    pub vregs: Vec<Interval>,
    /// By physical register number (`Reg.0`), sorted increasing.
    pub fixed: Vec<Vec<(u32, u32)>>,
    /// Position ranges of call instructions (for statistics and hints).
    pub calls: Vec<u32>,
}

struct BitSet(Vec<u64>);

impl BitSet {
    fn new(n: usize) -> BitSet {
        BitSet(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 != 0
    }
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64).filter(move |b| bits >> b & 1 != 0).map(move |b| w * 64 + b)
        })
    }
}

struct Collect(Vec<(Reg, OperandKind)>, Vec<Reg>);

impl OperandVisitor for Collect {
    fn operand(&mut self, reg: Reg, kind: OperandKind) {
        self.0.push((reg, kind));
    }
    fn clobber(&mut self, reg: Reg) {
        self.1.push(reg);
    }
}

fn operands(vcode: &VCode, i: usize) -> Collect {
    let mut c = Collect(Vec::new(), Vec::new());
    vcode.insts[i].operands(&mut c);
    c
}

/// Computes intervals for a function.
pub fn compute(vcode: &VCode) -> Liveness {
    let nv = vcode.num_vregs();
    let nb = vcode.blocks.len();
    // gen/kill per block, over virtual registers.
    let mut gens = Vec::with_capacity(nb);
    let mut kills = Vec::with_capacity(nb);
    for blk in &vcode.blocks {
        let mut gen_set = BitSet::new(nv);
        let mut kill = BitSet::new(nv);
        for &p in &blk.params {
            kill.set(p.vreg_index());
        }
        for i in blk.start..blk.end {
            let c = operands(vcode, i as usize);
            for &(r, k) in &c.0 {
                if r.is_virtual()
                    && matches!(k, OperandKind::Use | OperandKind::Mod)
                    && !kill.get(r.vreg_index())
                {
                    gen_set.set(r.vreg_index());
                }
            }
            for &(r, k) in &c.0 {
                if r.is_virtual() && k != OperandKind::Use {
                    kill.set(r.vreg_index());
                }
            }
        }
        gens.push(gen_set);
        kills.push(kill);
    }
    let succs: Vec<Vec<usize>> =
        (0..nb).map(|b| vcode.successors(b).iter().map(|s| s.0 as usize).collect()).collect();
    let mut live_in: Vec<BitSet> = (0..nb).map(|_| BitSet::new(nv)).collect();
    let mut live_out: Vec<BitSet> = (0..nb).map(|_| BitSet::new(nv)).collect();
    // Walking blocks backwards in layout order makes positions decrease,
    // which interval building relies on, and speeds up the fixed point.
    let rev_layout: Vec<usize> = vcode.order.iter().rev().map(|b| b.0 as usize).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for &b in &rev_layout {
            let mut out = BitSet::new(nv);
            for &s in &succs[b] {
                for (o, i) in out.0.iter_mut().zip(&live_in[s].0) {
                    *o |= *i;
                }
            }
            let mut inn = BitSet::new(nv);
            for w in 0..inn.0.len() {
                inn.0[w] = gens[b].0[w] | (out.0[w] & !kills[b].0[w]);
            }
            if inn.0 != live_in[b].0 {
                changed = true;
                live_in[b] = inn;
            }
            live_out[b] = out;
        }
    }

    let mut vregs = vec![Interval::default(); nv];
    let mut fixed_rev: Vec<Vec<(u32, u32)>> = vec![Vec::new(); NUM_PREGS as usize];
    let mut calls = Vec::new();
    for &b in &rev_layout {
        let blk = &vcode.blocks[b];
        let (bs, be) = (2 * blk.start, 2 * blk.end);
        let weight = 10f64.powi(blk.loop_depth.min(5) as i32);
        let mut live = BitSet::new(nv);
        for v in live_out[b].iter() {
            live.set(v);
            vregs[v].prepend(bs, be);
        }
        // Physical registers live within this block, with the end of their range.
        let mut pend: Vec<Option<u32>> = vec![None; NUM_PREGS as usize];
        for i in (blk.start..blk.end).rev() {
            let c = operands(vcode, i as usize);
            let (u, d) = (2 * i, 2 * i + 1);
            if vcode.insts[i as usize].is_call() {
                calls.push(i);
            }
            for &r in &c.1 {
                if is_allocatable(r) {
                    add_fixed(&mut fixed_rev[r.0 as usize], d, d + 1);
                }
            }
            // Definitions first (walking backwards), then uses.
            for &(r, k) in &c.0 {
                let at = match k {
                    OperandKind::Def | OperandKind::Mod => d,
                    OperandKind::EarlyDef => u,
                    OperandKind::Use => continue,
                };
                if r.is_virtual() {
                    let v = r.vreg_index();
                    if live.get(v) {
                        vregs[v].define(at);
                    } else {
                        vregs[v].prepend(at, d + 1);
                    }
                    live.clear(v);
                    vregs[v].use_weight += weight;
                } else if is_allocatable(r) {
                    let end = pend[r.0 as usize].take().unwrap_or(d + 1);
                    add_fixed(&mut fixed_rev[r.0 as usize], at, end);
                }
            }
            for &(r, k) in &c.0 {
                if !matches!(k, OperandKind::Use | OperandKind::Mod) {
                    continue;
                }
                if r.is_virtual() {
                    let v = r.vreg_index();
                    if !live.get(v) {
                        live.set(v);
                        vregs[v].prepend(bs, u + 1);
                    }
                    vregs[v].use_weight += weight;
                } else if is_allocatable(r) && pend[r.0 as usize].is_none() {
                    pend[r.0 as usize] = Some(u + 1);
                }
            }
        }
        for &p in &blk.params {
            let v = p.vreg_index();
            if live.get(v) {
                vregs[v].define(bs);
                live.clear(v);
            } else {
                vregs[v].prepend(bs, bs + 1);
            }
        }
        // A physical register used but not defined in the block would be
        // live-in; the lowering never produces that.
        debug_assert!(pend.iter().all(|p| p.is_none()), "physical register live into block {b}");
    }
    for iv in &mut vregs {
        iv.ranges.reverse();
    }
    let fixed = fixed_rev
        .into_iter()
        .map(|mut r| {
            r.reverse();
            r
        })
        .collect();
    Liveness { vregs, fixed, calls }
}

/// Adds a range below the existing ones (building backwards), merging.
fn add_fixed(ranges: &mut Vec<(u32, u32)>, from: u32, to: u32) {
    if let Some(last) = ranges.last_mut() {
        if last.0 <= to {
            last.0 = last.0.min(from);
            last.1 = last.1.max(to);
            return;
        }
    }
    ranges.push((from, to));
}
