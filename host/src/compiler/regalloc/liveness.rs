//! Liveness: live intervals of every register, one virtual register at a
//! time.
//!
//! Instruction `i` has a use position `2i` and a def position `2i+1`.
//! Ranges are half-open `[from, to)`. Block parameters are defined at the
//! first position of their block.
//!
//! No per-block live sets are kept. For each virtual register, a backward
//! search from the blocks where it is read before being written (its
//! upward-exposed uses) through predecessors, stopping at blocks that
//! define it, finds the blocks it is live out of; then its interval is
//! built by walking only those blocks and the ones it occurs in, backwards.
//! Time is proportional to the number of (register, block) pairs where a
//! register is live, plus operands and edges; memory to the ranges of the
//! result. That count can still grow with the product of registers and
//! blocks in a crafted function, so it is metered: [`compute`] gives up
//! when it passes the caller's limit (the compile budget).
//!
//! The result is the least solution of the usual dataflow equations over
//! the blocks in `VCode::order` (`live_in = gen ∪ (live_out − kill)`,
//! `live_out = ∪ live_in(successors)`); debug builds compare it with a
//! direct bit-set solution of those equations on small functions.

use crate::compiler::regalloc::is_allocatable;
use crate::compiler::vcode::{NUM_PREGS, OperandKind, Reg, VCode};

/// The lifetime of one register: sorted, disjoint, non-adjacent ranges.
#[derive(Clone, Debug, Default, PartialEq)]
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
        if let Some(last) = self.ranges.last_mut()
            && last.0 <= to
        {
            last.0 = last.0.min(from);
            return;
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
///
/// Each range of the shorter list finds its place in the longer one by
/// binary search, so a short interval against a long list of fixed ranges
/// (every call clobbers) costs a logarithm, not the length of the list.
pub fn first_intersection(a: &[(u32, u32)], b: &[(u32, u32)]) -> Option<u32> {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut j = 0;
    for &(from, to) in short {
        // The first range of `long` (from `j` on) that ends after `from`.
        j += long[j..].partition_point(|r| r.1 <= from);
        let &(lf, lt) = long.get(j)?;
        let lo = from.max(lf);
        if lo < to.min(lt) {
            return Some(lo);
        }
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
    /// (register, block) pairs visited by the search: the work metered
    /// against the budget.
    pub work: u64,
}

impl Liveness {
    /// Total number of ranges of virtual registers.
    pub fn num_ranges(&self) -> usize {
        self.vregs.iter().map(|iv| iv.ranges.len()).sum()
    }
}

/// Liveness went over one of its limits; where it stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooMuchWork {
    /// (register, block) pairs visited.
    pub work: u64,
    /// Ranges built.
    pub ranges: u64,
    /// Virtual registers of the function.
    pub vregs: usize,
    /// Registers whose intervals were complete.
    pub done: usize,
    /// Blocks of the function.
    pub blocks: usize,
}

/// One virtual-register operand: instruction and how it is used.
#[derive(Clone, Copy)]
struct Occ {
    inst: u32,
    kind: OperandKind,
}

/// Compressed lists: `items[starts[k]..starts[k + 1]]` belong to key `k`.
struct Lists<T> {
    starts: Vec<u32>,
    items: Vec<T>,
}

impl<T: Copy> Lists<T> {
    /// Builds the lists from `(key, item)` pairs produced twice by `each`
    /// (once to count, once to fill); items keep their order per key.
    fn build(keys: usize, fill: T, each: impl Fn(&mut dyn FnMut(usize, T))) -> Lists<T> {
        let mut starts = vec![0u32; keys + 1];
        each(&mut |k, _| starts[k + 1] += 1);
        for k in 0..keys {
            starts[k + 1] += starts[k];
        }
        let mut items = vec![fill; starts[keys] as usize];
        let mut next: Vec<u32> = starts[..keys].to_vec();
        each(&mut |k, item| {
            items[next[k] as usize] = item;
            next[k] += 1;
        });
        Lists { starts, items }
    }

    fn get(&self, k: usize) -> &[T] {
        &self.items[self.starts[k] as usize..self.starts[k + 1] as usize]
    }
}

/// Calls `f(inst, reg, kind)` for every operand (`None`: a clobber), in
/// instruction order and operand order.
fn for_each_operand(vcode: &VCode, mut f: impl FnMut(u32, Reg, Option<OperandKind>)) {
    for (i, inst) in vcode.insts.iter().enumerate() {
        inst.each_operand(|r, k| f(i as u32, r, k));
    }
}

/// Computes intervals for a function, giving up when the search has
/// visited more than `max_work` (register, block) pairs or the intervals
/// have more than `max_ranges` ranges.
pub fn compute(vcode: &VCode, max_work: u64, max_ranges: u64) -> Result<Liveness, TooMuchWork> {
    let nv = vcode.num_vregs();
    let nb = vcode.blocks.len();
    let ni = vcode.insts.len();

    // Blocks in the layout, their layout index, and each instruction's block.
    let mut layout_index = vec![u32::MAX; nb];
    for (k, b) in vcode.order.iter().enumerate() {
        layout_index[b.0 as usize] = k as u32;
    }
    let mut block_of = vec![u32::MAX; ni];
    for b in &vcode.order {
        let blk = &vcode.blocks[b.0 as usize];
        for i in blk.start..blk.end {
            block_of[i as usize] = b.0;
        }
    }
    let in_layout = |b: usize| layout_index[b] != u32::MAX;

    // Predecessors (within the layout, without repetition).
    let mut seen = vec![u32::MAX; nb];
    let mut edges: Vec<(u32, u32)> = Vec::new();
    for b in &vcode.order {
        for s in vcode.successors(b.0 as usize) {
            if in_layout(s.0 as usize) && seen[s.0 as usize] != b.0 {
                seen[s.0 as usize] = b.0;
                edges.push((s.0, b.0));
            }
        }
    }
    let preds = Lists::build(nb, 0u32, |f| {
        for &(to, from) in &edges {
            f(to as usize, from);
        }
    });
    drop(edges);

    // Operands of each virtual register, in instruction order, and the
    // blocks it is a parameter of.
    let occs = Lists::build(nv, Occ { inst: 0, kind: OperandKind::Use }, |f| {
        for_each_operand(vcode, |i, r, k| {
            if let Some(kind) = k
                && r.is_virtual()
                && block_of[i as usize] != u32::MAX
            {
                f(r.vreg_index(), Occ { inst: i, kind });
            }
        })
    });
    let param_blocks = Lists::build(nv, 0u32, |f| {
        for b in &vcode.order {
            for p in &vcode.blocks[b.0 as usize].params {
                f(p.vreg_index(), b.0);
            }
        }
    });

    // Per-register marks, stamped with the register's index + 1: by block,
    // defined in / live in / live out; by layout index, to visit.
    const DEF: usize = 0;
    const IN: usize = 1;
    const OUT: usize = 2;
    let mut marks = vec![[0u32; 3]; nb];
    let mut to_visit = vec![0u32; vcode.order.len()];
    let mut work_list: Vec<u32> = Vec::new();
    let mut visit: Vec<u32> = Vec::new();
    let mut work = 0u64;
    let mut ranges = 0u64;
    let mut vregs = vec![Interval::default(); nv];

    for (v, iv) in vregs.iter_mut().enumerate() {
        let stamp = v as u32 + 1;
        let occ = occs.get(v);
        let params = param_blocks.get(v);
        // Blocks that define it.
        for o in occ {
            if o.kind != OperandKind::Use {
                marks[block_of[o.inst as usize] as usize][DEF] = stamp;
            }
        }
        for &b in params {
            marks[b as usize][DEF] = stamp;
        }
        // Upward-exposed uses: the first instruction of a block that
        // mentions it reads it (uses are read before defs are written),
        // and it is not a parameter of that block.
        let mut prev_block = u32::MAX;
        for (k, o) in occ.iter().enumerate() {
            let b = block_of[o.inst as usize];
            if b == prev_block {
                continue;
            }
            prev_block = b;
            let first = occ[k..].iter().take_while(|x| x.inst == o.inst);
            let reads =
                first.clone().any(|x| matches!(x.kind, OperandKind::Use | OperandKind::Mod));
            if reads && !params.contains(&b) && marks[b as usize][IN] != stamp {
                marks[b as usize][IN] = stamp;
                work_list.push(b);
            }
        }
        // Live-in blocks propagate to their predecessors' live-out, and
        // on to their live-in unless they define it.
        while let Some(b) = work_list.pop() {
            work += 1;
            for &p in preds.get(b as usize) {
                let m = &mut marks[p as usize];
                if m[OUT] != stamp {
                    m[OUT] = stamp;
                    visit.push(layout_index[p as usize]);
                    work += 1;
                    if m[DEF] != stamp && m[IN] != stamp {
                        m[IN] = stamp;
                        work_list.push(p);
                    }
                }
            }
            if work > max_work {
                return Err(TooMuchWork { work, ranges, vregs: nv, done: v, blocks: nb });
            }
        }

        // Build the interval backwards over the blocks it is live out of
        // or occurs in, in layout order: sorted when they are few, picked
        // out of their span of the layout when they are dense in it.
        visit.extend(occ.iter().map(|o| layout_index[block_of[o.inst as usize] as usize]));
        visit.extend(params.iter().map(|&b| layout_index[b as usize]));
        let (lo, hi) = visit.iter().fold((u32::MAX, 0), |(lo, hi), &k| (lo.min(k), hi.max(k)));
        if !visit.is_empty() && visit.len() * 16 >= (hi - lo) as usize {
            for &k in &visit {
                to_visit[k as usize] = stamp;
            }
            visit.clear();
            visit.extend((lo..=hi).filter(|&k| to_visit[k as usize] == stamp));
        } else {
            visit.sort_unstable();
            visit.dedup();
        }
        let mut cursor = occ.len();
        for &k in visit.iter().rev() {
            let b = vcode.order[k as usize].0 as usize;
            let blk = &vcode.blocks[b];
            let (bs, be) = (2 * blk.start, 2 * blk.end);
            let weight = 10f64.powi(blk.loop_depth.min(5) as i32);
            let mut live = marks[b][OUT] == stamp;
            if live {
                iv.prepend(bs, be);
            }
            // Its operands in this block, one instruction at a time,
            // backwards: definitions first, then uses.
            while cursor > 0 && occ[cursor - 1].inst >= blk.start {
                let inst = occ[cursor - 1].inst;
                let mut first = cursor - 1;
                while first > 0 && occ[first - 1].inst == inst {
                    first -= 1;
                }
                let (u, d) = (2 * inst, 2 * inst + 1);
                for o in &occ[first..cursor] {
                    let at = match o.kind {
                        OperandKind::Def | OperandKind::Mod => d,
                        OperandKind::EarlyDef => u,
                        OperandKind::Use => continue,
                    };
                    if live {
                        iv.define(at);
                    } else {
                        iv.prepend(at, d + 1);
                    }
                    live = false;
                    iv.use_weight += weight;
                }
                for o in &occ[first..cursor] {
                    if !matches!(o.kind, OperandKind::Use | OperandKind::Mod) {
                        continue;
                    }
                    if !live {
                        live = true;
                        iv.prepend(bs, u + 1);
                    }
                    iv.use_weight += weight;
                }
                cursor = first;
            }
            for _ in params.iter().filter(|&&p| p as usize == b) {
                if live {
                    iv.define(bs);
                    live = false;
                } else {
                    iv.prepend(bs, bs + 1);
                }
            }
        }
        visit.clear();
        iv.ranges.reverse();
        iv.ranges.shrink_to_fit();
        ranges += iv.ranges.len() as u64;
        if ranges > max_ranges {
            return Err(TooMuchWork { work, ranges, vregs: nv, done: v + 1, blocks: nb });
        }
    }

    let (fixed, calls) = fixed_ranges(vcode);
    Ok(Liveness { vregs, fixed, calls, work })
}

/// Ranges of allocatable physical registers (operands and clobbers) and
/// the call instructions, walking the layout backwards.
fn fixed_ranges(vcode: &VCode) -> (Vec<Vec<(u32, u32)>>, Vec<u32>) {
    let mut fixed: Vec<Vec<(u32, u32)>> = vec![Vec::new(); NUM_PREGS as usize];
    let mut calls = Vec::new();
    let mut ops: Vec<(Reg, Option<OperandKind>)> = Vec::new();
    for b in vcode.order.iter().rev() {
        let blk = &vcode.blocks[b.0 as usize];
        // Physical registers live within this block, with the end of their range.
        let mut pend: [Option<u32>; NUM_PREGS as usize] = [None; NUM_PREGS as usize];
        for i in (blk.start..blk.end).rev() {
            let inst = &vcode.insts[i as usize];
            ops.clear();
            inst.each_operand(|r, k| {
                if !r.is_virtual() && is_allocatable(r) {
                    ops.push((r, k));
                }
            });
            let (u, d) = (2 * i, 2 * i + 1);
            if inst.is_call() {
                calls.push(i);
            }
            for &(r, _) in ops.iter().filter(|(_, k)| k.is_none()) {
                add_fixed(&mut fixed[r.0 as usize], d, d + 1);
            }
            for &(r, k) in &ops {
                let at = match k {
                    Some(OperandKind::Def | OperandKind::Mod) => d,
                    Some(OperandKind::EarlyDef) => u,
                    Some(OperandKind::Use) | None => continue,
                };
                let end = pend[r.0 as usize].take().unwrap_or(d + 1);
                add_fixed(&mut fixed[r.0 as usize], at, end);
            }
            for &(r, k) in &ops {
                if matches!(k, Some(OperandKind::Use | OperandKind::Mod))
                    && pend[r.0 as usize].is_none()
                {
                    pend[r.0 as usize] = Some(u + 1);
                }
            }
        }
        // A physical register used but not defined in the block would be
        // live-in; the lowering never produces that.
        debug_assert!(pend.iter().all(|p| p.is_none()), "physical register live into block {b:?}");
    }
    for r in &mut fixed {
        r.reverse();
    }
    (fixed, calls)
}

/// Adds a range below the existing ones (building backwards), merging.
fn add_fixed(ranges: &mut Vec<(u32, u32)>, from: u32, to: u32) {
    if let Some(last) = ranges.last_mut()
        && last.0 <= to
    {
        last.0 = last.0.min(from);
        last.1 = last.1.max(to);
        return;
    }
    ranges.push((from, to));
}

/// The intervals of virtual registers by the textbook method: per-block
/// bit sets of all registers, iterated to a fixed point, then one backward
/// walk over the layout. Memory and time grow with registers × blocks, so
/// it only serves to check [`compute`] on small functions in debug builds.
#[cfg(debug_assertions)]
pub fn reference_intervals(vcode: &VCode) -> Vec<Interval> {
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
    }
    let operands = |i: usize| {
        let mut c = Vec::new();
        vcode.insts[i].each_operand(|r, k| {
            if let Some(k) = k {
                c.push((r, k));
            }
        });
        c
    };
    let nv = vcode.num_vregs();
    let nb = vcode.blocks.len();
    let mut gens: Vec<BitSet> = (0..nb).map(|_| BitSet::new(nv)).collect();
    let mut kills: Vec<BitSet> = (0..nb).map(|_| BitSet::new(nv)).collect();
    for (b, blk) in vcode.blocks.iter().enumerate() {
        for &p in &blk.params {
            kills[b].set(p.vreg_index());
        }
        for i in blk.start..blk.end {
            let c = operands(i as usize);
            for &(r, k) in &c {
                if r.is_virtual()
                    && matches!(k, OperandKind::Use | OperandKind::Mod)
                    && !kills[b].get(r.vreg_index())
                {
                    gens[b].set(r.vreg_index());
                }
            }
            for &(r, k) in &c {
                if r.is_virtual() && k != OperandKind::Use {
                    kills[b].set(r.vreg_index());
                }
            }
        }
    }
    let mut live_in: Vec<BitSet> = (0..nb).map(|_| BitSet::new(nv)).collect();
    let mut live_out: Vec<BitSet> = (0..nb).map(|_| BitSet::new(nv)).collect();
    let rev_layout: Vec<usize> = vcode.order.iter().rev().map(|b| b.0 as usize).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for &b in &rev_layout {
            let mut out = BitSet::new(nv);
            for s in vcode.successors(b) {
                for (o, i) in out.0.iter_mut().zip(&live_in[s.0 as usize].0) {
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
    for &b in &rev_layout {
        let blk = &vcode.blocks[b];
        let (bs, be) = (2 * blk.start, 2 * blk.end);
        let weight = 10f64.powi(blk.loop_depth.min(5) as i32);
        let mut live = BitSet::new(nv);
        for v in (0..nv).filter(|&v| live_out[b].get(v)) {
            live.set(v);
            vregs[v].prepend(bs, be);
        }
        for i in (blk.start..blk.end).rev() {
            let c = operands(i as usize);
            let (u, d) = (2 * i, 2 * i + 1);
            for &(r, k) in &c {
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
                }
            }
            for &(r, k) in &c {
                if r.is_virtual() && matches!(k, OperandKind::Use | OperandKind::Mod) {
                    let v = r.vreg_index();
                    if !live.get(v) {
                        live.set(v);
                        vregs[v].prepend(bs, u + 1);
                    }
                    vregs[v].use_weight += weight;
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
    }
    for iv in &mut vregs {
        iv.ranges.reverse();
    }
    vregs
}

#[cfg(test)]
mod tests {
    use super::first_intersection;

    /// Sorted, disjoint, non-adjacent ranges from a seed.
    fn ranges(seed: &mut u64, n: usize) -> Vec<(u32, u32)> {
        let mut next = || {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            (*seed % 7) as u32
        };
        let mut at = next();
        (0..n)
            .map(|_| {
                let from = at + 1 + next();
                let to = from + 1 + next();
                at = to;
                (from, to)
            })
            .collect()
    }

    #[test]
    fn first_intersection_is_the_first_common_position() {
        let mut seed = 0x9E37_79B9_7F4A_7C15;
        for round in 0..2_000 {
            let a = ranges(&mut seed, round % 13);
            let b = ranges(&mut seed, (round * 7) % 41);
            let covers = |rs: &[(u32, u32)], p: u32| rs.iter().any(|&(f, t)| f <= p && p < t);
            let end = a.iter().chain(&b).map(|r| r.1).max().unwrap_or(0);
            let want = (0..end).find(|&p| covers(&a, p) && covers(&b, p));
            assert_eq!(first_intersection(&a, &b), want, "{a:?} {b:?}");
            assert_eq!(first_intersection(&b, &a), want, "{b:?} {a:?}");
        }
    }
}
