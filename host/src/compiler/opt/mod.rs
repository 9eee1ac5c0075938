//! IR-to-IR optimizations, run in a fixed order by [`optimize`].
//!
//! Every pass keeps the observable behaviour of the function, including
//! which traps happen and in what order, and none of them changes fuel
//! accounting (fuel is charged from the wasm operators, not the IR).

mod dce;
mod fold;
mod params;

use super::ir::Function;

/// Estimated bytes the passes allocate besides the function itself, for a
/// function of `values` values and `args` arguments: per value its list of
/// incoming arguments and the tables of `params` and `dce`, per argument
/// its copy in those lists (vectors counted at twice their length).
pub fn estimated_bytes(values: usize, args: usize) -> usize {
    values * 64 + args * 8
}

/// Runs the optimization pipeline on one function.
pub fn optimize(func: &mut Function) {
    params::remove_redundant_params(func);
    fold::fold_constants(func);
    // Folded branches can leave more parameters with a single source.
    params::remove_redundant_params(func);
    dce::eliminate_dead_code(func);
    debug_assert_eq!(super::ir::verify::verify(func), Ok(()), "after optimize:\n{func}");
}

/// The passes every function needs even without optimization: removing
/// block parameters SSA construction made redundant, and unreachable blocks.
pub fn minimal(func: &mut Function) {
    params::remove_redundant_params(func);
    fold::remove_unreachable_blocks(func);
}
