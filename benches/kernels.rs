//! Compute kernels (guest/kernels) run natively, in Scion and in Wasmtime
//! (Cranelift, default configuration), with and without fuel metering, in
//! one process. Checksums are cross-checked before measuring.
//!
//! `cargo bench -p scion-benches --bench kernels`

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

/// Kernel, argument, native implementation.
pub const KERNELS: &[(&str, u32, extern "C" fn(u32) -> u64)] = &[
    ("fib", 27, kernels::fib),
    ("sieve", 2_000_000, kernels::sieve),
    ("matmul", 96, kernels::matmul),
    ("sha256", 256, kernels::sha256),
    ("json", 400, kernels::json),
    ("postcard", 2_000, kernels::postcard_roundtrip),
    ("sort", 200_000, kernels::sort),
    ("bulk", 256, kernels::bulk),
];

const WASM: &str = env!("SCION_GUEST_KERNELS");

/// The plugin export behind a kernel name.
fn export(kernel: &'static str) -> &'static str {
    if kernel == "postcard" { "postcard_roundtrip" } else { kernel }
}

struct Scion {
    store: scion::Store<()>,
    funcs: Vec<scion::TypedFunc<u32, u64>>,
}

fn scion(fuel: bool) -> Scion {
    let engine = scion::Engine::new(scion::Config::new().consume_fuel(fuel)).unwrap();
    let module = scion::Module::from_file(&engine, WASM).unwrap();
    let mut store = scion::Store::new(&engine, ());
    if fuel {
        store.set_fuel(u64::MAX / 2).unwrap();
    }
    let inst = scion::Instance::new(&mut store, &module, &[]).unwrap();
    let funcs = KERNELS
        .iter()
        .map(|k| inst.get_typed_func::<u32, u64>(&store, export(k.0)).unwrap())
        .collect();
    Scion { store, funcs }
}

struct Wasmtime {
    store: wasmtime::Store<()>,
    funcs: Vec<wasmtime::TypedFunc<u32, u64>>,
}

fn wasmtime(fuel: bool) -> Wasmtime {
    let mut config = wasmtime::Config::new();
    config.consume_fuel(fuel);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let module = wasmtime::Module::from_file(&engine, WASM).unwrap();
    let mut store = wasmtime::Store::new(&engine, ());
    if fuel {
        store.set_fuel(u64::MAX / 2).unwrap();
    }
    let inst = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
    let funcs = KERNELS
        .iter()
        .map(|k| inst.get_typed_func::<u32, u64>(&mut store, export(k.0)).unwrap())
        .collect();
    Wasmtime { store, funcs }
}

fn kernels(c: &mut Criterion) {
    let (mut s, mut sf) = (scion(false), scion(true));
    let (mut w, mut wf) = (wasmtime(false), wasmtime(true));
    for (i, &(name, arg, native)) in KERNELS.iter().enumerate() {
        let expected = native(arg);
        assert_eq!(s.funcs[i].call(&mut s.store, arg).unwrap(), expected, "{name}: scion");
        assert_eq!(sf.funcs[i].call(&mut sf.store, arg).unwrap(), expected, "{name}: scion+fuel");
        assert_eq!(w.funcs[i].call(&mut w.store, arg).unwrap(), expected, "{name}: wasmtime");
        assert_eq!(
            wf.funcs[i].call(&mut wf.store, arg).unwrap(),
            expected,
            "{name}: wasmtime+fuel"
        );
        let mut g = c.benchmark_group(format!("kernel/{name}"));
        g.bench_function(BenchmarkId::from_parameter("native"), |b| {
            b.iter(|| native(black_box(arg)))
        });
        g.bench_function(BenchmarkId::from_parameter("scion"), |b| {
            b.iter(|| s.funcs[i].call(&mut s.store, black_box(arg)).unwrap())
        });
        g.bench_function(BenchmarkId::from_parameter("wasmtime"), |b| {
            b.iter(|| w.funcs[i].call(&mut w.store, black_box(arg)).unwrap())
        });
        g.bench_function(BenchmarkId::from_parameter("scion-fuel"), |b| {
            b.iter(|| sf.funcs[i].call(&mut sf.store, black_box(arg)).unwrap())
        });
        g.bench_function(BenchmarkId::from_parameter("wasmtime-fuel"), |b| {
            b.iter(|| wf.funcs[i].call(&mut wf.store, black_box(arg)).unwrap())
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(15);
    targets = kernels
}
criterion_main!(benches);
