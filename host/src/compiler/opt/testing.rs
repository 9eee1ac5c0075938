//! Test support for the passes: translating a WebAssembly text module into
//! IR the way `compiler::compile` does, so tests see the block shapes the
//! translator really produces.

use crate::compiler::ir::Function;
use crate::compiler::{CodegenConfig, CompileBudget, decode, translate};

/// The IR of every defined function of `wat`, with redundant block
/// parameters removed and constants folded (what the passes under test
/// see in `optimize`).
pub fn translate_wat(wat: &str) -> Vec<Function> {
    let wasm = wat::parse_str(wat).expect("valid wat");
    let decoded = decode::decode(&wasm).expect("valid module");
    let budget = CompileBudget::default();
    let config = CodegenConfig::default();
    let mut allocs = wasmparser::FuncValidatorAllocations::default();
    let mut out = Vec::new();
    for body in decoded.bodies {
        let range = body.body.range();
        let fb = budget
            .function(body.func_index, (range.end - range.start) as usize)
            .expect("in budget");
        let (mut func, a) =
            translate::translate_function(&decoded.info, body, allocs, &config, &fb).expect("ok");
        allocs = a;
        super::params::remove_redundant_params(&mut func);
        super::fold::fold_constants(&mut func);
        out.push(func);
    }
    out
}
