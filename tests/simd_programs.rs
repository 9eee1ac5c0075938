//! Real Rust programs built with `-C target-feature=+simd128`: the
//! benchmark kernels (guest/kernels), whose loops LLVM vectorizes, return
//! in Scion exactly what they return in Wasmtime, and what the build
//! without SIMD returns in Scion.

use scion::{Config, Engine, Instance, Module, Store};
use std::path::Path;

const KERNELS: &[(&str, u32)] = &[
    ("fib", 20),
    ("sieve", 100_000),
    ("matmul", 32),
    ("sha256", 16),
    ("json", 60),
    ("postcard_roundtrip", 200),
    ("sort", 20_000),
    ("bulk", 32),
    ("pixels", 96),
    ("dot", 1000),
];

/// How many of the module's operators are SIMD operators.
fn simd_operators(wasm: &[u8]) -> usize {
    let mut n = 0;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
            let mut ops = body.get_operators_reader().unwrap();
            while !ops.eof() {
                let name = format!("{:?}", ops.read().unwrap());
                let lanes = ["V128", "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2"];
                n += lanes.iter().any(|l| name.starts_with(l)) as usize;
            }
        }
    }
    n
}

fn scion_results(engine: &Engine, wasm: &[u8]) -> Vec<u64> {
    let module = Module::new(engine, wasm).expect("Scion compiles the kernels");
    let mut store = Store::new(engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    KERNELS
        .iter()
        .map(|&(name, arg)| {
            let f = inst.get_typed_func::<u32, u64>(&store, name).unwrap();
            f.call(&mut store, arg).unwrap()
        })
        .collect()
}

fn wasmtime_results(wasm: &[u8]) -> Vec<u64> {
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, wasm).unwrap();
    let mut store = wasmtime::Store::new(&engine, ());
    let inst = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
    KERNELS
        .iter()
        .map(|&(name, arg)| {
            let f = inst.get_typed_func::<u32, u64>(&mut store, name).unwrap();
            f.call(&mut store, arg).unwrap()
        })
        .collect()
}

#[test]
fn kernels_built_with_simd128_agree_with_wasmtime_and_the_scalar_build() {
    let simd = std::fs::read(env!("SCION_GUEST_KERNELS_SIMD128")).unwrap();
    let scalar = std::fs::read(env!("SCION_GUEST_KERNELS")).unwrap();
    let count = simd_operators(&simd);
    assert!(count > 100, "the simd128 build has only {count} SIMD operators");
    assert_eq!(simd_operators(&scalar), 0);
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scion-simd-cache");
    for optimize in [true, false] {
        let engine = Engine::new(Config::new().cache_dir(&cache).optimize(optimize)).unwrap();
        let ours = scion_results(&engine, &simd);
        let scalar_ours = scion_results(&engine, &scalar);
        let theirs = wasmtime_results(&simd);
        for (k, &(name, _)) in KERNELS.iter().enumerate() {
            assert_eq!(
                ours[k], theirs[k],
                "{name}: Scion and Wasmtime differ (optimize {optimize})"
            );
            assert_eq!(ours[k], scalar_ours[k], "{name}: the SIMD and scalar builds differ");
        }
    }
    eprintln!("{count} SIMD operators; {} kernels agree", KERNELS.len());
}
