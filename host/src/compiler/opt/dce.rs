//! Dead code elimination, including dead block parameters.
//!
//! A value is live if an instruction with side effects (or a terminator)
//! uses it, or a live instruction or live block parameter uses it. A
//! branch argument is a use only when the parameter it feeds is live.
//!
//! Requires: no aliases. Preserves: semantics and trap order (instructions
//! that may trap count as having side effects).

use crate::compiler::ir::{Function, InstKind, Value, ValueDef};

/// Removes pure instructions whose results are unused and unused block
/// parameters (with their arguments).
pub fn eliminate_dead_code(func: &mut Function) {
    let mut live = vec![false; func.values.len()];
    let mut work: Vec<Value> = Vec::new();
    let mark = |v: Value, live: &mut Vec<bool>, work: &mut Vec<Value>| {
        if !live[v.index()] {
            live[v.index()] = true;
            work.push(v);
        }
    };
    let mut incoming: Vec<Vec<Value>> = vec![Vec::new(); func.values.len()];
    for &b in &func.layout {
        for &inst in &func.blocks[b.index()].insts {
            let kind = &func.insts[inst.index()].kind;
            if kind.is_terminator() {
                for call in kind.targets() {
                    let params = &func.blocks[call.block.index()].params;
                    for (p, a) in params.iter().zip(&call.args) {
                        incoming[p.index()].push(*a);
                    }
                }
                // Non-argument operands of terminators: conditions, returns.
                match kind {
                    InstKind::Brif { cond, .. } => mark(*cond, &mut live, &mut work),
                    InstKind::BrTable { index, .. } => mark(*index, &mut live, &mut work),
                    InstKind::Return { args } => {
                        args.iter().for_each(|a| mark(*a, &mut live, &mut work))
                    }
                    _ => {}
                }
            } else if kind.has_side_effects() {
                kind.for_each_arg(|a| mark(a, &mut live, &mut work));
            }
        }
    }
    // Entry parameters are the function's parameters: always kept.
    let entry = func.layout[0];
    for &p in &func.blocks[entry.index()].params {
        live[p.index()] = true;
    }
    while let Some(v) = work.pop() {
        match func.values[v.index()].def {
            ValueDef::Result(inst, _) => {
                func.insts[inst.index()].kind.for_each_arg(|a| mark(a, &mut live, &mut work));
            }
            ValueDef::Param(..) => {
                for &a in &incoming[v.index()] {
                    mark(a, &mut live, &mut work);
                }
            }
            ValueDef::Alias(_) => unreachable!("aliases are resolved before DCE"),
        }
    }
    for &b in &func.layout {
        let insts = std::mem::take(&mut func.blocks[b.index()].insts);
        let kept = insts
            .into_iter()
            .filter(|&inst| {
                let d = &func.insts[inst.index()];
                d.kind.has_side_effects() || func.results(inst).any(|r| live[r.index()])
            })
            .collect();
        func.blocks[b.index()].insts = kept;
    }
    func.retain_block_params(|p| live[p.index()]);
}
