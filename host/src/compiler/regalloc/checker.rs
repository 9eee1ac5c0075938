//! An independent check of an allocation: no two virtual registers that
//! are live at the same position share a physical register, no virtual
//! register sits in a physical register while that register is fixed
//! (argument, clobber, implicit operand), every operand has a location, and
//! classes match.

use super::liveness::{Liveness, first_intersection};
use super::{Allocation, Loc};
use crate::compiler::vcode::{OperandKind, OperandVisitor, Reg, VCode};
use std::collections::HashMap;

struct Operands(Vec<Reg>);

impl OperandVisitor for Operands {
    fn operand(&mut self, reg: Reg, _kind: OperandKind) {
        self.0.push(reg);
    }
    fn clobber(&mut self, _reg: Reg) {}
}

/// Checks an allocation; the error names the first conflict found.
pub fn check(vcode: &VCode, live: &Liveness, alloc: &Allocation) -> Result<(), String> {
    for (i, inst) in vcode.insts.iter().enumerate() {
        let mut ops = Operands(Vec::new());
        inst.operands(&mut ops);
        for r in ops.0.into_iter().filter(|r| r.is_virtual()) {
            match alloc.loc(r) {
                Loc::None => return Err(format!("{r:?} used by instruction {i} has no location")),
                Loc::Reg(p) if p.phys_class() != vcode.class(r) => {
                    return Err(format!("{r:?} assigned {p:?} of another class"));
                }
                _ => {}
            }
        }
    }
    let mut by_reg: HashMap<u32, Vec<usize>> = HashMap::new();
    for (v, loc) in alloc.locs.iter().enumerate() {
        if let Loc::Reg(p) = loc {
            by_reg.entry(p.0).or_default().push(v);
        }
    }
    for (p, vs) in by_reg {
        let fixed = &live.fixed[p as usize];
        for &v in &vs {
            if let Some(at) = first_intersection(&live.vregs[v].ranges, fixed) {
                return Err(format!("r{v} in {:?} overlaps a fixed use of it at {at}", Reg(p)));
            }
        }
        // Sweep all ranges on this register by start.
        let mut ranges: Vec<(u32, u32, usize)> = vs
            .iter()
            .flat_map(|&v| live.vregs[v].ranges.iter().map(move |&(a, b)| (a, b, v)))
            .collect();
        ranges.sort();
        // The two furthest-reaching earlier ranges with distinct owners: a
        // range conflicts if it starts before the end of one not its own.
        let mut top: [(u32, usize); 2] = [(0, usize::MAX); 2];
        for &(a, b, v) in &ranges {
            if let Some(&(end, o)) = top.iter().find(|&&(_, o)| o != v && o != usize::MAX) {
                if a < end {
                    return Err(format!("r{o} and r{v} both live in {:?} at {a}", Reg(p)));
                }
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
