//! A second, independent check of an allocation: symbolic simulation of
//! the program as the emitter will run it, without the allocator's
//! liveness.
//!
//! The state says, for every place a value can be (each physical register
//! and each stack slot), which virtual registers' current values it holds.
//! Walking each block in order, exactly as the emitter resolves operands:
//! a local copy that starts by loading reads the slot into its register;
//! every read of a virtual register must find it in the place the emitter
//! will read (its active local copy, else its own location); a definition
//! makes every other place stale for that register and writes its copy,
//! and its home unless a copy's stretch stores only at its last
//! definition; calls clobber what they clobber; a jump's parallel moves
//! read the arguments' homes and write the parameters' homes. At a block
//! with several predecessors the states meet (intersection), iterated to a
//! fixed point over loops.
//!
//! Requires: VCode and an allocation of it.
//! Produces: the first read that would see a wrong value, if any.
//!
//! Cost: places × instructions per pass over the function, so debug
//! builds run it on functions up to a size (see `regalloc::allocate`).

use super::{Allocation, Loc, LocalCopy};
use crate::compiler::vcode::{MInst, NUM_PREGS, OperandKind, VCode};

/// Which virtual registers' current values each place holds: physical
/// registers first, then stack slots.
#[derive(Clone, PartialEq)]
struct State(Vec<Vec<u32>>);

impl State {
    fn holds(&self, place: usize, v: u32) -> bool {
        self.0[place].contains(&v)
    }
    /// `v` was redefined: every place holding its old value is stale.
    fn forget(&mut self, v: u32) {
        for set in &mut self.0 {
            set.retain(|&x| x != v);
        }
    }
    fn meet(&mut self, other: &State) -> bool {
        let mut changed = false;
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            let before = a.len();
            a.retain(|x| b.contains(x));
            changed |= a.len() != before;
        }
        changed
    }
}

struct Simulator<'a> {
    vcode: &'a VCode,
    alloc: &'a Allocation,
}

impl Simulator<'_> {
    fn home(&self, v: u32) -> Option<usize> {
        match self.alloc.locs[v as usize] {
            Loc::Reg(p) => Some(p.0 as usize),
            Loc::Stack(n) => Some((NUM_PREGS + n) as usize),
            Loc::None => None,
        }
    }

    /// Runs one block from `state`; the state at its end.
    fn block(&self, b: usize, mut state: State) -> Result<State, String> {
        let blk = &self.vcode.blocks[b];
        let copies = &self.alloc.copies;
        let mut active: Vec<LocalCopy> = Vec::new();
        for i in blk.start..blk.end {
            let at = |what: String| format!("instruction {i} (vblock{b}): {what}");
            active.retain(|c| c.last >= i);
            let mut k = copies.partition_point(|c| c.first < i);
            while k < copies.len() && copies[k].first == i {
                let c = copies[k];
                if c.load {
                    let slot =
                        self.home(c.vreg).ok_or_else(|| at("copy of a dead register".into()))?;
                    if !state.holds(slot, c.vreg) {
                        return Err(at(format!("the copy of r{} loads a stale slot", c.vreg)));
                    }
                    state.0[c.reg.0 as usize] = vec![c.vreg];
                }
                active.push(c);
                k += 1;
            }
            let copy_of = |v: u32| active.iter().find(|c| c.vreg == v).copied();
            let inst = &self.vcode.insts[i as usize];
            if let MInst::Jmp { target, args } = inst {
                // Parallel moves between homes (the emitter's `parallel_moves`).
                let params = &self.vcode.blocks[target.0 as usize].params;
                let mut sources = Vec::new();
                for &a in args {
                    let v = a.vreg_index() as u32;
                    let place = self.home(v).ok_or_else(|| at(format!("argument r{v} is dead")))?;
                    if !state.holds(place, v) {
                        return Err(at(format!("jump argument r{v} is not in its location")));
                    }
                    sources.push(state.0[place].clone());
                }
                for (&p, held) in params.iter().zip(sources) {
                    let v = p.vreg_index() as u32;
                    state.forget(v);
                    if let Some(place) = self.home(v) {
                        let mut set = held;
                        set.push(v);
                        state.0[place] = set;
                    }
                }
                continue;
            }
            let mut ops = Vec::new();
            inst.each_operand(|r, k| ops.push((r, k)));
            let define = |state: &mut State, v: u32| {
                state.forget(v);
                let copy = copy_of(v);
                if let Some(c) = copy {
                    state.0[c.reg.0 as usize] = vec![v];
                }
                if (copy.is_none() || copy.is_some_and(|c| c.store_at == Some(i)))
                    && let Some(place) = self.home(v)
                {
                    state.0[place] = vec![v];
                }
            };
            // Early definitions are written before the uses are read.
            for &(r, kind) in &ops {
                if kind == Some(OperandKind::EarlyDef) {
                    if r.is_virtual() {
                        define(&mut state, r.vreg_index() as u32);
                    } else {
                        state.0[r.0 as usize].clear();
                    }
                }
            }
            for &(r, kind) in &ops {
                if r.is_virtual() && matches!(kind, Some(OperandKind::Use | OperandKind::Mod)) {
                    let v = r.vreg_index() as u32;
                    let place = match copy_of(v) {
                        Some(c) => c.reg.0 as usize,
                        None => self.home(v).ok_or_else(|| at(format!("r{v} read, never live")))?,
                    };
                    if !state.holds(place, v) {
                        return Err(at(format!("r{v} is read where it is not")));
                    }
                }
            }
            for &(r, kind) in &ops {
                match kind {
                    None => state.0[r.0 as usize].clear(),
                    Some(OperandKind::Def | OperandKind::Mod) if r.is_virtual() => {
                        define(&mut state, r.vreg_index() as u32)
                    }
                    Some(OperandKind::Def | OperandKind::Mod) => state.0[r.0 as usize].clear(),
                    _ => {}
                }
            }
        }
        Ok(state)
    }
}

/// Simulates the function; the error names the first wrong read.
pub fn check(vcode: &VCode, alloc: &Allocation) -> Result<(), String> {
    let Some(&entry) = vcode.order.first() else { return Ok(()) };
    let sim = Simulator { vcode, alloc };
    let places = (NUM_PREGS + alloc.num_slots) as usize;
    let mut entry_state: Vec<Option<State>> = vec![None; vcode.blocks.len()];
    entry_state[entry.0 as usize] = Some(State(vec![Vec::new(); places]));
    let mut work = vec![entry.0 as usize];
    let mut queued = vec![false; vcode.blocks.len()];
    queued[entry.0 as usize] = true;
    while let Some(b) = work.pop() {
        queued[b] = false;
        let start = entry_state[b].clone().expect("queued blocks have a state");
        let end = sim.block(b, start)?;
        for s in vcode.successors(b) {
            let s = s.0 as usize;
            let changed = match &mut entry_state[s] {
                Some(old) => old.meet(&end),
                slot @ None => {
                    *slot = Some(end.clone());
                    true
                }
            };
            if changed && !queued[s] {
                queued[s] = true;
                work.push(s);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::vcode::{Reg, RegClass, RegMemImm, VBlockData};
    use crate::compiler::x64::encode::AluOp;
    use crate::compiler::x64::regs::{Gpr, Size};

    fn v(n: u32) -> Reg {
        Reg(NUM_PREGS + n)
    }

    /// `r0 = arg; r1 = 5; r0 += r1; r0 += r1; return r0`.
    fn function() -> VCode {
        let (rdi, rax) = (Reg::gpr(Gpr::RDI), Reg::gpr(Gpr::RAX));
        let add =
            MInst::Alu { op: AluOp::Add, size: Size::S64, dst: v(0), src: RegMemImm::Reg(v(1)) };
        let insts = vec![
            MInst::Params { defs: vec![rdi] },
            MInst::Mov { size: Size::S64, dst: v(0), src: rdi },
            MInst::MovImm { size: Size::S64, dst: v(1), imm: 5 },
            add.clone(),
            add,
            MInst::Mov { size: Size::S64, dst: rax, src: v(0) },
            MInst::Ret { uses: vec![rax] },
        ];
        VCode {
            func_index: 0,
            srclocs: vec![0; insts.len()],
            blocks: vec![VBlockData {
                start: 0,
                end: insts.len() as u32,
                params: vec![],
                loop_depth: 0,
            }],
            insts,
            order: vec![crate::compiler::vcode::VBlock(0)],
            vreg_classes: vec![RegClass::Int; 2],
            hints: vec![],
            constants: vec![],
            outgoing_bytes: 0,
            body_offset: 0,
        }
    }

    fn alloc(locs: Vec<Loc>, copies: Vec<LocalCopy>, slots: u32) -> Allocation {
        Allocation { locs, copies, num_slots: slots, callee_saved: vec![] }
    }

    #[test]
    fn a_correct_allocation_passes() {
        let (rcx, rdx) = (Reg::gpr(Gpr::RCX), Reg::gpr(Gpr::RDX));
        let ok = alloc(vec![Loc::Reg(rcx), Loc::Reg(rdx)], vec![], 0);
        assert_eq!(check(&function(), &ok), Ok(()));
        // r1 spilled, with a copy loaded before its first read.
        let copy = LocalCopy {
            vreg: 1,
            reg: rdx,
            start: 6,
            first: 3,
            last: 4,
            load: true,
            store_at: None,
        };
        let spilled = alloc(vec![Loc::Reg(rcx), Loc::Stack(0)], vec![copy], 1);
        assert_eq!(check(&function(), &spilled), Ok(()));
    }

    #[test]
    fn a_shared_register_is_caught() {
        let rcx = Reg::gpr(Gpr::RCX);
        let wrong = alloc(vec![Loc::Reg(rcx), Loc::Reg(rcx)], vec![], 0);
        let e = check(&function(), &wrong).unwrap_err();
        assert!(e.contains("r0 is read where it is not"), "{e}");
    }

    #[test]
    fn a_copy_that_is_not_loaded_or_not_stored_is_caught() {
        let (rcx, rdx) = (Reg::gpr(Gpr::RCX), Reg::gpr(Gpr::RDX));
        // The copy of r1 skips its load.
        let copy = LocalCopy {
            vreg: 1,
            reg: rdx,
            start: 6,
            first: 3,
            last: 4,
            load: false,
            store_at: None,
        };
        let e = check(&function(), &alloc(vec![Loc::Reg(rcx), Loc::Stack(0)], vec![copy], 1));
        assert!(e.unwrap_err().contains("r1 is read where it is not"));
        // r0 spilled, its copy ends before the last read and never stores.
        let copy = LocalCopy {
            vreg: 0,
            reg: rdx,
            start: 3,
            first: 1,
            last: 3,
            load: false,
            store_at: None,
        };
        let e = check(&function(), &alloc(vec![Loc::Stack(0), Loc::Reg(rcx)], vec![copy], 1));
        assert!(e.unwrap_err().contains("r0 is read where it is not"));
        // Stored at its last definition in the stretch: fine.
        let copy = LocalCopy {
            vreg: 0,
            reg: rdx,
            start: 3,
            first: 1,
            last: 3,
            load: false,
            store_at: Some(3),
        };
        let ok = check(&function(), &alloc(vec![Loc::Stack(0), Loc::Reg(rcx)], vec![copy], 1));
        assert_eq!(ok, Ok(()));
    }
}
