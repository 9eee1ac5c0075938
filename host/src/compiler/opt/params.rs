//! Removes block parameters that always receive the same value.
//!
//! SSA construction adds a parameter wherever a local is read at a join;
//! when every incoming argument is the parameter itself or one other value
//! `v`, the parameter is replaced by `v`. Repeats until nothing changes.
//!
//! Requires: nothing. Preserves: semantics; leaves no aliases behind.

use crate::compiler::ir::{Function, Value};

/// Runs the pass to a fixed point.
pub fn remove_redundant_params(func: &mut Function) {
    loop {
        // Incoming arguments of every parameter, gathered from branches.
        let mut incoming: Vec<Vec<Value>> = vec![Vec::new(); func.values.len()];
        for &b in &func.layout {
            if let Some(t) = func.terminator(b) {
                for call in func.insts[t.index()].kind.targets() {
                    let params = &func.blocks[call.block.index()].params;
                    for (p, a) in params.iter().zip(&call.args) {
                        incoming[p.index()].push(*a);
                    }
                }
            }
        }
        let mut removed = Vec::new();
        let entry = func.layout[0];
        for b in func.layout.clone().into_iter().filter(|&b| b != entry) {
            for p in func.blocks[b.index()].params.clone() {
                let mut unique = None;
                let mut redundant = true;
                for &a in &incoming[p.index()] {
                    let a = func.resolve(a);
                    if a == p || Some(a) == unique {
                        continue;
                    }
                    if unique.is_some() {
                        redundant = false;
                        break;
                    }
                    unique = Some(a);
                }
                if let (true, Some(v)) = (redundant, unique) {
                    // Aliasing at once lets later parameters see through it.
                    func.make_alias(p, v);
                    removed.push(p);
                }
            }
        }
        if removed.is_empty() {
            return;
        }
        let mut gone = vec![false; func.values.len()];
        for p in removed {
            gone[p.index()] = true;
        }
        func.retain_block_params(|p| !gone[p.index()]);
        func.resolve_aliases();
    }
}
