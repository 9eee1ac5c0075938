//! Test support for the passes: translating a WebAssembly text module into
//! IR the way `compiler::compile` does, so tests see the block shapes the
//! translator really produces.

use crate::compiler::ir::{Block, Function, InstKind, Type};
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

/// A function whose block `i` branches to `succs[i]` (block 0 is the
/// entry; the branch condition is the entry's parameter).
pub fn cfg(succs: &[Vec<usize>]) -> Function {
    let mut f = Function::new(0, vec![Type::I32], vec![]);
    let blocks: Vec<Block> = succs.iter().map(|_| f.create_block()).collect();
    let cond = f.append_block_param(blocks[0], Type::I32);
    for (i, s) in succs.iter().enumerate() {
        let call = |j: usize| Function::call(blocks[j]);
        let kind = match s[..] {
            [] => InstKind::Return { args: vec![] },
            [a] => InstKind::Jump { dest: call(a) },
            [a, b] => InstKind::Brif { cond, then_dest: call(a), else_dest: call(b) },
            _ => InstKind::BrTable {
                index: cond,
                targets: s[1..].iter().map(|&j| call(j)).collect(),
                default: call(s[0]),
            },
        };
        f.push_inst(blocks[i], kind, &[], 0);
    }
    f.layout = blocks;
    f
}
