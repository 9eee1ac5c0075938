//! Structural checks of the IR, run after the optimizer in debug builds.
//!
//! Besides the shape of blocks and branches, every use is checked against
//! the dominator tree, so a pass that moves or merges code and breaks SSA
//! dominance is caught where it did so.

use super::dominators::DominatorTree;
use super::*;

/// Checks the invariants listed in the module documentation.
pub fn verify(func: &Function) -> Result<(), String> {
    let mut in_layout = vec![false; func.blocks.len()];
    for &b in &func.layout {
        in_layout[b.index()] = true;
    }
    for &b in &func.layout {
        let insts = &func.blocks[b.index()].insts;
        let Some((&last, body)) = insts.split_last() else {
            return Err(format!("{b} is empty"));
        };
        if !func.insts[last.index()].kind.is_terminator() {
            return Err(format!("{b} does not end with a terminator"));
        }
        for &inst in body {
            if func.insts[inst.index()].kind.is_terminator() {
                return Err(format!("{b}: terminator {inst} before the end"));
            }
        }
        for &inst in insts {
            let kind = &func.insts[inst.index()].kind;
            let mut err = None;
            kind.for_each_arg(|v| {
                if v.index() >= func.values.len() {
                    err = Some(format!("{inst} uses undefined {v}"));
                } else if let ValueDef::Alias(_) = func.values[v.index()].def {
                    err = Some(format!("{inst} uses alias {v}"));
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
            for call in kind.targets() {
                if !in_layout[call.block.index()] {
                    return Err(format!("{inst} branches to {} outside the layout", call.block));
                }
                let params = &func.blocks[call.block.index()].params;
                if params.len() != call.args.len() {
                    return Err(format!(
                        "{inst} passes {} args to {} which has {} params",
                        call.args.len(),
                        call.block,
                        params.len()
                    ));
                }
                for (a, p) in call.args.iter().zip(params) {
                    if func.value_type(*a) != func.value_type(*p) {
                        return Err(format!("{inst}: {a} passed to {p} of another type"));
                    }
                }
            }
        }
    }
    verify_dominance(func)
}

/// Checks that every use in a reachable block is dominated by its
/// definition: an instruction result earlier in the same block or in a
/// dominating block, or a parameter of a dominating block. Branch
/// arguments are uses at the end of the branching block.
fn verify_dominance(func: &Function) -> Result<(), String> {
    let dom = DominatorTree::compute(func);
    // Block and position of every instruction in the layout.
    let mut place: Vec<Option<(Block, usize)>> = vec![None; func.insts.len()];
    for &b in &func.layout {
        for (i, &inst) in func.blocks[b.index()].insts.iter().enumerate() {
            place[inst.index()] = Some((b, i));
        }
    }
    for &b in &func.layout {
        if !dom.is_reachable(b) {
            continue;
        }
        for (i, &inst) in func.blocks[b.index()].insts.iter().enumerate() {
            let mut err = None;
            func.insts[inst.index()].kind.for_each_arg(|v| {
                let ok = match func.values[v.index()].def {
                    ValueDef::Result(def, _) => match place[def.index()] {
                        Some((db, at)) if db == b => at < i,
                        Some((db, _)) => dom.dominates(db, b),
                        None => false,
                    },
                    ValueDef::Param(pb, _) => dom.dominates(pb, b),
                    ValueDef::Alias(_) => false,
                };
                if !ok && err.is_none() {
                    err = Some(format!(
                        "{inst} in {b} uses {v}, not defined in a dominating position"
                    ));
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// block0(v0) -> block1 -> return; `use_block` uses the value `def`.
    fn two_blocks() -> (Function, Block, Block, Value) {
        let mut f = Function::new(0, vec![Type::I32], vec![Type::I32]);
        let (b0, b1) = (f.create_block(), f.create_block());
        let p = f.append_block_param(b0, Type::I32);
        f.layout = vec![b0, b1];
        (f, b0, b1, p)
    }

    #[test]
    fn accepts_dominated_uses() {
        let (mut f, b0, b1, p) = two_blocks();
        let add =
            f.push_inst(b0, InstKind::Binary { op: BinaryOp::Add, args: [p, p] }, &[Type::I32], 0);
        let v = f.first_result(add);
        f.push_inst(b0, InstKind::Jump { dest: Function::call(b1) }, &[], 0);
        let mul =
            f.push_inst(b1, InstKind::Binary { op: BinaryOp::Mul, args: [v, p] }, &[Type::I32], 0);
        let w = f.first_result(mul);
        f.push_inst(b1, InstKind::Return { args: vec![w] }, &[], 0);
        assert_eq!(verify(&f), Ok(()));
    }

    #[test]
    fn rejects_a_use_before_its_definition_in_the_block() {
        let (mut f, b0, b1, p) = two_blocks();
        f.push_inst(b0, InstKind::Jump { dest: Function::call(b1) }, &[], 0);
        let add =
            f.push_inst(b1, InstKind::Binary { op: BinaryOp::Add, args: [p, p] }, &[Type::I32], 0);
        let v = f.first_result(add);
        let mul =
            f.push_inst(b1, InstKind::Binary { op: BinaryOp::Mul, args: [v, p] }, &[Type::I32], 0);
        let w = f.first_result(mul);
        f.push_inst(b1, InstKind::Return { args: vec![w] }, &[], 0);
        assert_eq!(verify(&f), Ok(()));
        f.blocks[b1.index()].insts.swap(0, 1);
        let e = verify(&f).unwrap_err();
        assert!(e.contains("uses v1, not defined in a dominating position"), "{e}");
    }

    #[test]
    fn rejects_a_use_in_a_block_the_definition_does_not_dominate() {
        // b0 branches to b1 or b2; b1 defines v and jumps to b2; b2 uses v.
        let mut f = Function::new(0, vec![Type::I32], vec![Type::I32]);
        let (b0, b1, b2) = (f.create_block(), f.create_block(), f.create_block());
        let p = f.append_block_param(b0, Type::I32);
        f.layout = vec![b0, b1, b2];
        let (to1, to2) = (Function::call(b1), Function::call(b2));
        f.push_inst(b0, InstKind::Brif { cond: p, then_dest: to1, else_dest: to2 }, &[], 0);
        let add =
            f.push_inst(b1, InstKind::Binary { op: BinaryOp::Add, args: [p, p] }, &[Type::I32], 0);
        let v = f.first_result(add);
        f.push_inst(b1, InstKind::Jump { dest: Function::call(b2) }, &[], 0);
        f.push_inst(b2, InstKind::Return { args: vec![v] }, &[], 0);
        let e = verify(&f).unwrap_err();
        assert!(e.contains("in block2 uses v1"), "{e}");
    }

    #[test]
    fn rejects_a_parameter_of_a_block_that_does_not_dominate() {
        // b0 branches to b1 or b2; b2 uses b1's parameter.
        let mut f = Function::new(0, vec![Type::I32], vec![Type::I32]);
        let (b0, b1, b2) = (f.create_block(), f.create_block(), f.create_block());
        let p = f.append_block_param(b0, Type::I32);
        let q = f.append_block_param(b1, Type::I32);
        f.layout = vec![b0, b1, b2];
        let to_b1 = BlockCall { block: b1, args: vec![p] };
        f.push_inst(
            b0,
            InstKind::Brif { cond: p, then_dest: to_b1, else_dest: Function::call(b2) },
            &[],
            0,
        );
        f.push_inst(b1, InstKind::Return { args: vec![q] }, &[], 0);
        f.push_inst(b2, InstKind::Return { args: vec![q] }, &[], 0);
        let e = verify(&f).unwrap_err();
        assert!(e.contains("in block2 uses v1"), "{e}");
    }
}
