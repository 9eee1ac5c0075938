//! IR-to-IR optimizations, run in a fixed order by [`optimize`].
//!
//! Every pass keeps the observable behaviour of the function, including
//! which traps happen and in what order, and none of them changes fuel
//! accounting (fuel is charged from the wasm operators, not the IR).

mod dce;
mod fold;
mod gvn;
mod licm;
mod loops;
mod params;
#[cfg(test)]
pub(crate) mod testing;

use super::ir::Function;
use super::ir::dominators::DominatorTree;

/// Estimated bytes the passes allocate besides the function itself, for a
/// function of `values` values, `blocks` blocks, `edges` branch targets
/// and `args` arguments. The
/// passes run one after another, so this is the largest of: per value its
/// list of incoming arguments and the tables of `params` and `dce`, per
/// argument its copy in those lists (vectors counted at twice their
/// length); the dominator tree with `gvn`'s scoped map; the dominator
/// tree and loop forest with `licm`'s tables.
pub fn estimated_bytes(values: usize, blocks: usize, edges: usize, args: usize) -> usize {
    let simple = values * 64 + args * 8;
    let dom = DominatorTree::estimated_bytes(blocks, edges);
    let gvn = dom + gvn::estimated_bytes(values);
    let licm = dom
        + loops::LoopForest::estimated_bytes(blocks, edges)
        + licm::estimated_bytes(values, blocks);
    simple.max(gvn).max(licm)
}

/// Runs the optimization pipeline on one function.
pub fn optimize(func: &mut Function) {
    params::remove_redundant_params(func);
    fold::fold_constants(func);
    // Folded branches can leave more parameters with a single source.
    params::remove_redundant_params(func);
    gvn::number_values(func);
    debug_assert_eq!(super::ir::verify::verify(func), Ok(()), "after gvn:\n{func}");
    licm::hoist_invariants(func);
    debug_assert_eq!(super::ir::verify::verify(func), Ok(()), "after licm:\n{func}");
    dce::eliminate_dead_code(func);
    debug_assert_eq!(super::ir::verify::verify(func), Ok(()), "after optimize:\n{func}");
}

/// The passes every function needs even without optimization: removing
/// block parameters SSA construction made redundant, and unreachable blocks.
pub fn minimal(func: &mut Function) {
    params::remove_redundant_params(func);
    fold::remove_unreachable_blocks(func);
}
