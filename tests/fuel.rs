//! Fuel: Scion's consumption equals Wasmtime's (same default cost table)
//! for every call that completes, on generated modules (two in three with
//! SIMD) and on a real Rust plugin, and is identical across runs and
//! optimization levels.

mod common;

use common::diff::{DiffOutcome, run_scion, run_seed, wasmtime_engine_with};
use scion::{Config, Engine, Instance, Module, Store};
use std::path::Path;

fn engine(optimize: bool) -> Engine {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scion-fuel-cache");
    Engine::new(Config::new().cache_dir(cache).consume_fuel(true).optimize(optimize)).unwrap()
}

#[test]
fn fuel_agrees_with_wasmtime_on_generated_modules() {
    let n: u64 = std::env::var("SCION_FUEL_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(600);
    let ours = engine(true);
    let theirs = wasmtime_engine_with(true);
    let (mut agreed, mut calls) = (0, 0);
    let mut divergences = Vec::new();
    for seed in 0..n {
        match run_seed(&ours, &theirs, seed) {
            DiffOutcome::Agree { calls: c, .. } => {
                agreed += 1;
                calls += c;
            }
            DiffOutcome::Skipped(_) => {}
            DiffOutcome::Diverge { what, .. } => divergences.push((seed, what)),
        }
    }
    eprintln!("fuel: {agreed} modules agreed ({calls} calls), {} diverged", divergences.len());
    assert!(divergences.is_empty(), "{divergences:#?}");
    assert!(agreed >= 500, "only {agreed} modules compared");
}

#[test]
fn fuel_is_deterministic_across_runs_and_optimization_levels() {
    let (a, b) = (engine(true), engine(false));
    for seed in 0..200 {
        let Some(wasm) = common::diff::generate(seed) else { continue };
        let runs = [run_scion(&a, &wasm), run_scion(&a, &wasm), run_scion(&b, &wasm)];
        let fuel: Vec<_> = runs.iter().map(|r| r.as_ref().map(|r| r.fuel.clone()).ok()).collect();
        assert_eq!(fuel[0], fuel[1], "seed {seed}: two runs differ");
        assert_eq!(fuel[0], fuel[2], "seed {seed}: optimizer changed fuel");
    }
}

/// `wasm` instantiated in Scion and in Wasmtime, both metering with
/// practically unlimited fuel.
fn metered_in_both(wasm: &[u8]) -> (Store<()>, Instance, wasmtime::Store<()>, wasmtime::Instance) {
    let ours = engine(true);
    let module = Module::new(&ours, wasm).unwrap();
    let mut store = Store::new(&ours, ());
    store.set_fuel(u64::MAX / 4).unwrap();
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let theirs = wasmtime_engine_with(true);
    let wmodule = wasmtime::Module::new(&theirs, wasm).unwrap();
    let mut wstore = wasmtime::Store::new(&theirs, ());
    wstore.set_fuel(u64::MAX / 4).unwrap();
    let winst = wasmtime::Instance::new(&mut wstore, &wmodule, &[]).unwrap();
    (store, inst, wstore, winst)
}

#[test]
fn fuel_agrees_on_a_rust_plugin() {
    let wasm = std::fs::read(env!("SCION_GUEST_DEMO_PLUGIN")).unwrap();
    let (mut store, inst, mut wstore, winst) = metered_in_both(&wasm);
    for (name, arg) in [("fib", 20u32), ("prime_sum", 100_000), ("stats", 2_000)] {
        let before = store.get_fuel().unwrap();
        let f = inst.get_func(&store, name).unwrap();
        let ty = f.ty(&store);
        let mut out = vec![scion::Val::default_for(ty.results[0])];
        f.call(&mut store, &[scion::Val::I32(arg as i32)], &mut out).unwrap();
        let ours = before - store.get_fuel().unwrap();
        let wbefore = wstore.get_fuel().unwrap();
        let wf = winst.get_func(&mut wstore, name).unwrap();
        let mut wout = vec![wasmtime::Val::I64(0)];
        if ty.results[0] == scion::ValType::F64 {
            wout = vec![wasmtime::Val::F64(0)];
        }
        wf.call(&mut wstore, &[wasmtime::Val::I32(arg as i32)], &mut wout).unwrap();
        let theirs = wbefore - wstore.get_fuel().unwrap();
        assert_eq!(ours, theirs, "{name}({arg}): scion {ours}, wasmtime {theirs}");
        eprintln!("{name}({arg}): {ours} fuel in both engines");
    }
}

/// Regression: the loop-header check point added the fuel phi before the
/// loop's own parameters were pushed, putting the fuel counter on the wasm
/// value stack.
#[test]
fn loop_with_parameters_under_fuel() {
    let e = engine(false);
    let module = Module::new(
        &e,
        r#"(module (func (export "f") (param f64) (result f64)
             (local.get 0)
             (loop $l (param f64) (result f64)
               (f64.add (f64.const 1))
               (local.tee 0)
               (br_if $l (f64.lt (local.get 0) (f64.const 10))))))"#,
    )
    .unwrap();
    let mut store = Store::new(&e, ());
    store.set_fuel(10_000).unwrap();
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let f = inst.get_typed_func::<f64, f64>(&store, "f").unwrap();
    assert_eq!(f.call(&mut store, 2.5).unwrap(), 10.5);
}

/// The benchmark kernels (a real Rust plugin using serde, sha2, sorting,
/// bulk memory), built with and without `simd128`, consume the same fuel
/// in both engines.
#[test]
fn fuel_agrees_on_the_benchmark_kernels() {
    for path in [env!("SCION_GUEST_KERNELS"), env!("SCION_GUEST_KERNELS_SIMD128")] {
        kernels_fuel_agrees(&std::fs::read(path).unwrap());
    }
}

fn kernels_fuel_agrees(wasm: &[u8]) {
    let (mut store, inst, mut wstore, winst) = metered_in_both(wasm);
    for (name, arg) in [
        ("fib", 18u32),
        ("sieve", 50_000),
        ("matmul", 24),
        ("sha256", 8),
        ("json", 40),
        ("postcard_roundtrip", 100),
        ("sort", 5_000),
        ("bulk", 16),
        ("pixels", 24),
        ("dot", 200),
    ] {
        let f = inst.get_typed_func::<u32, u64>(&store, name).unwrap();
        let before = store.get_fuel().unwrap();
        let ours = f.call(&mut store, arg).unwrap();
        let ours_fuel = before - store.get_fuel().unwrap();
        let wf = winst.get_typed_func::<u32, u64>(&mut wstore, name).unwrap();
        let wbefore = wstore.get_fuel().unwrap();
        let theirs = wf.call(&mut wstore, arg).unwrap();
        let theirs_fuel = wbefore - wstore.get_fuel().unwrap();
        assert_eq!(ours, theirs, "{name}: results differ");
        assert_eq!(
            ours_fuel, theirs_fuel,
            "{name}({arg}): scion {ours_fuel} fuel, wasmtime {theirs_fuel}"
        );
        eprintln!("{name}({arg}): {ours_fuel} fuel in both engines");
    }
}

/// Modules whose instantiation Wasmtime meters in its startup function:
/// expression-form and passive element segments, reference-typed and
/// computed globals, data segments that cannot all be images, start
/// functions, and combinations where pending fuel is lost.
const INSTANTIATION_CASES: &[&str] = &[
    "(module)",
    "(module (table 2 funcref) (func $f) (elem (i32.const 0) $f $f))",
    "(module (table 2 funcref) (func $f) (elem (i32.const 0) funcref (ref.func $f) (ref.null func)))",
    "(module (table 2 funcref) (elem (i32.const 0) funcref))",
    "(module (table 300 funcref) (func $f) (elem (i32.const 0) funcref (ref.func $f) (ref.func $f) (ref.func $f)))",
    "(module (table 2 funcref) (func $f) (elem (i32.const 0) funcref (ref.func $f)) (elem (i32.const 1) $f))",
    "(module (table 2 externref) (elem (i32.const 0) externref (ref.null extern)))",
    "(module (func $f) (elem func $f $f))",
    "(module (func $f) (elem funcref (ref.func $f) (ref.null func)))",
    "(module (func $f) (elem declare func $f))",
    "(module (global i32 (i32.const 1)) (global i64 (i64.const 2)))",
    "(module (func $f) (elem declare func $f) (global funcref (ref.func $f)))",
    "(module (global funcref (ref.null func)))",
    "(module (global i32 (i32.add (i32.const 1) (i32.const 2))))",
    "(module (global externref (ref.null extern)) (global funcref (ref.null func)) (global funcref (ref.null func)))",
    "(module (memory 1) (data (i32.const 0) \"abc\"))",
    "(module (memory 1) (data (i32.add (i32.const 1) (i32.const 2)) \"abc\"))",
    "(module (memory 1) (data (i32.add (i32.const 1) (i32.const 2)) \"\"))",
    "(module (memory 1) (data (i32.const 0) \"a\") (data (i32.add (i32.const 1) (i32.const 2)) \"abc\"))",
    "(module (memory 2000) (data (i32.const 0) \"a\") (data (i32.const 100000000) \"b\"))",
    "(module (memory 1) (data \"passive\"))",
    "(module (func $s) (start $s))",
    "(module (func $s nop) (start $s))",
    "(module (func $s i32.const 1 drop) (start $s))",
    "(module (func $g) (func $s call $g) (start $s))",
    "(module (func $f) (elem declare func $f) (global funcref (ref.func $f)) (func $s) (start $s))",
    "(module (global i32 (i32.add (i32.const 1) (i32.const 2))) (func $s) (start $s))",
    "(module (func $f) (elem funcref (ref.func $f) (ref.func $f)) (func $s) (start $s))",
    "(module (table 2 funcref) (func $f) (elem (i32.const 0) funcref (ref.func $f) (ref.func $f)) (func $s) (start $s))",
    "(module (memory 1) (data (i32.add (i32.const 1) (i32.const 2)) \"abc\") (func $s) (start $s))",
    "(module (memory 1) (global funcref (ref.null func)) (data (i32.add (i32.const 1) (i32.const 2)) \"a\"))",
    "(module (memory 1) (data (i32.const 0) \"abc\") (func $s) (start $s))",
    "(module (memory 1) (global funcref (ref.null func)) (data (i32.const 0) \"abc\") (func $s) (start $s))",
    "(module (memory 1) (table 2 funcref) (func $f) (elem (i32.const 0) funcref (ref.func $f)) (data (i32.const 0) \"abc\") (func $s) (start $s))",
    "(module (memory 1) (table 1 funcref) (func $f) (elem (i32.const 0) funcref (ref.func $f)) (memory $m2 1) (data (i32.const 0) \"x\") (data $m2 (i32.const 0) \"y\") (func $s) (start $s))",
];

/// Fuel a fresh store spends instantiating `wasm` given `fuel`, or the
/// failure; in Scion and in Wasmtime.
fn instantiate_with(
    ours: &Engine,
    theirs: &wasmtime::Engine,
    wasm: &[u8],
    fuel: u64,
) -> (Result<u64, String>, Result<u64, String>) {
    let module = Module::new(ours, wasm).unwrap();
    let mut store = Store::new(ours, ());
    store.set_fuel(fuel).unwrap();
    let a = Instance::new(&mut store, &module, &[])
        .map(|_| fuel - store.get_fuel().unwrap())
        .map_err(|e| e.as_trap().map_or_else(|| e.to_string(), |t| t.code.to_string()));
    let wmodule = wasmtime::Module::new(theirs, wasm).unwrap();
    let mut wstore = wasmtime::Store::new(theirs, ());
    wstore.set_fuel(fuel).unwrap();
    let b = wasmtime::Instance::new(&mut wstore, &wmodule, &[])
        .map(|_| fuel - wstore.get_fuel().unwrap())
        .map_err(|e| match e.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::OutOfFuel) => scion::TrapCode::OutOfFuel.to_string(),
            _ => format!("{e:?}"),
        });
    (a, b)
}

#[test]
fn instantiation_fuel_agrees_with_wasmtime_from_a_fresh_store() {
    let ours = engine(true);
    let theirs = wasmtime_engine_with(true);
    for wat in INSTANTIATION_CASES {
        let wasm = wat::parse_str(wat).unwrap();
        let (a, b) = instantiate_with(&ours, &theirs, &wasm, 1_000_000);
        assert_eq!(a, b, "consumed by {wat}");
        // The least fuel that instantiates is the same too, so the checks
        // are where Wasmtime's are.
        let needed = |engine: usize| {
            (0..64u64).find(|&f| {
                let r = instantiate_with(&ours, &theirs, &wasm, f);
                if engine == 0 { r.0.is_ok() } else { r.1.is_ok() }
            })
        };
        assert_eq!(needed(0), needed(1), "least fuel for {wat}");
    }
}

/// Instantiation fuel where memories have no image, or the module imports
/// a memory (Wasmtime then copies its images, and charges their length).
#[test]
fn instantiation_fuel_agrees_with_images_and_imported_memories() {
    let ours = engine(true);
    let theirs = wasmtime_engine_with(true);
    for wat in [
        "(module (memory 1) (memory 1) (data (i32.const 0) \"abc\"))",
        "(module (memory 1) (memory 1) (data (i32.const 5000) \"abc\") (data (i32.const 7000) \"\\00\\00x\"))",
        "(module (memory 1) (data (i32.const 0) \"\\00\\00\"))",
        "(module (memory 1) (memory 1) (data (i32.const 0) \"\\00\\00\"))",
        "(module (memory 1) (memory 2) (global funcref (ref.null func)) (data 1 (i32.const 70000) \"abc\") (func $s) (start $s))",
    ] {
        let wasm = wat::parse_str(wat).unwrap();
        let (a, b) = instantiate_with(&ours, &theirs, &wasm, 1_000_000);
        assert_eq!(a, b, "consumed by {wat}");
    }
    // A module importing a memory, instantiated with one from the host.
    let wat = "(module (import \"m\" \"mem\" (memory 1)) (memory 1) (data 1 (i32.const 100) \"abc\") (func $s) (start $s))";
    let wasm = wat::parse_str(wat).unwrap();
    let module = Module::new(&ours, &wasm).unwrap();
    let mut store = Store::new(&ours, ());
    store.set_fuel(1_000_000).unwrap();
    let ty = scion::MemoryType { limits: scion::Limits { min: 1, max: None }, shared: false };
    let mem = scion::Memory::new(&mut store, ty).unwrap();
    Instance::new(&mut store, &module, &[mem.into()]).unwrap();
    let a = 1_000_000 - store.get_fuel().unwrap();
    let wmodule = wasmtime::Module::new(&theirs, &wasm).unwrap();
    let mut wstore = wasmtime::Store::new(&theirs, ());
    wstore.set_fuel(1_000_000).unwrap();
    let wmem = wasmtime::Memory::new(&mut wstore, wasmtime::MemoryType::new(1, None)).unwrap();
    wasmtime::Instance::new(&mut wstore, &wmodule, &[wmem.into()]).unwrap();
    let b = 1_000_000 - wstore.get_fuel().unwrap();
    assert_eq!(a, b, "consumed by {wat}");
}
