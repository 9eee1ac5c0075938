//! Structural checks of the IR, run after each pass in debug builds.

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
    Ok(())
}
