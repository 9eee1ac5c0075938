//! An independent check of an allocation: no two virtual registers that
//! are live at the same position share a physical register (counting the
//! stretches of local copies), no virtual register sits in a physical
//! register while that register is fixed (argument, clobber, implicit
//! operand), every operand has a location, classes match, and local
//! copies are of spilled registers and stay within one block.

use super::liveness::{Liveness, first_intersection};
use super::{Allocation, Loc};
use crate::compiler::vcode::{Reg, VCode};
use std::collections::HashMap;

/// Checks an allocation; the error names the first conflict found.
pub fn check(vcode: &VCode, live: &Liveness, alloc: &Allocation) -> Result<(), String> {
    for (i, inst) in vcode.insts.iter().enumerate() {
        let mut ops = Vec::new();
        inst.each_operand(|r, k| {
            if k.is_some() && r.is_virtual() {
                ops.push(r);
            }
        });
        for r in ops {
            match alloc.loc(r) {
                Loc::None => return Err(format!("{r:?} used by instruction {i} has no location")),
                Loc::Reg(p) if p.phys_class() != vcode.class(r) => {
                    return Err(format!("{r:?} assigned {p:?} of another class"));
                }
                _ => {}
            }
        }
    }
    // Ranges each physical register holds: whole virtual registers, and
    // the stretches of local copies.
    let mut by_reg: HashMap<u32, Vec<(u32, u32, usize)>> = HashMap::new();
    for (v, loc) in alloc.locs.iter().enumerate() {
        if let Loc::Reg(p) = loc {
            let ranges = live.vregs[v].ranges.iter().map(|&(a, b)| (a, b, v));
            by_reg.entry(p.0).or_default().extend(ranges);
        }
    }
    let mut block_of = vec![u32::MAX; vcode.insts.len()];
    for b in &vcode.order {
        let blk = &vcode.blocks[b.0 as usize];
        block_of[blk.start as usize..blk.end as usize].fill(b.0);
    }
    for c in &alloc.copies {
        let v = c.vreg as usize;
        if !matches!(alloc.locs.get(v), Some(Loc::Stack(_))) {
            return Err(format!("local copy of r{v}, which is not spilled"));
        }
        if c.reg.is_virtual() || c.reg.phys_class() != vcode.vreg_classes[v] {
            return Err(format!("local copy of r{v} in {:?} of another class", c.reg));
        }
        let (first, last) = (c.first as usize, c.last as usize);
        if first > last || last >= block_of.len() || block_of[first] != block_of[last] {
            return Err(format!("local copy of r{v} spans {first}..={last}, not within a block"));
        }
        if c.start != 2 * c.first && (c.load || c.start != 2 * c.first + 1) {
            return Err(format!(
                "local copy of r{v} starts at {} for instruction {first}",
                c.start
            ));
        }
        by_reg.entry(c.reg.0).or_default().push((c.start, 2 * c.last + 2, v));
    }
    for (p, mut ranges) in by_reg {
        let fixed = &live.fixed[p as usize];
        for &(a, b, v) in &ranges {
            if let Some(at) = first_intersection(&[(a, b)], fixed) {
                return Err(format!("r{v} in {:?} overlaps a fixed use of it at {at}", Reg(p)));
            }
        }
        // Sweep all ranges on this register by start.
        ranges.sort();
        // The two furthest-reaching earlier ranges with distinct owners: a
        // range conflicts if it starts before the end of one not its own.
        let mut top: [(u32, usize); 2] = [(0, usize::MAX); 2];
        for &(a, b, v) in &ranges {
            if let Some(&(end, o)) = top.iter().find(|&&(_, o)| o != v && o != usize::MAX)
                && a < end {
                    return Err(format!("r{o} and r{v} both live in {:?} at {a}", Reg(p)));
                }
            if top[0].1 == v {
                top[0].0 = top[0].0.max(b);
            } else if top[1].1 == v {
                top[1].0 = top[1].0.max(b);
            } else if b > top[1].0 {
                top[1] = (b, v);
            }
            if top[1].0 > top[0].0 {
                top.swap(0, 1);
            }
        }
    }
    Ok(())
}
