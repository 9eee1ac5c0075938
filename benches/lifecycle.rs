//! Everything around the compute: compile throughput, loading a cached
//! artifact, instantiation, the cost of an empty call, cold start from
//! the cache, and hot-reload latency, side by side with Wasmtime (and a
//! plain `dlopen` / a native indirect call where that is the yardstick).
//!
//! `cargo bench -p scion-benches --bench lifecycle`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

const KERNELS: &str = env!("SCION_GUEST_KERNELS");
const COUNTER: &str = env!("SCION_GUEST_COUNTER");
const COUNTER_V2: &str = env!("SCION_GUEST_COUNTER_V2");
const COUNTER_BIG: &str = env!("SCION_GUEST_COUNTER_BIG");

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn scion_engine(cache: &str) -> scion::Engine {
    // A directory the cache creates itself (mode 0700): it refuses others.
    let dir = scratch(cache).join("cache");
    scion::Engine::new(scion::Config::new().cache_dir(dir).cache_max_bytes(256 << 20)).unwrap()
}

/// `wasm` with a custom section making its bytes (and cache key) unique.
fn unique(wasm: &[u8], n: u64) -> Vec<u8> {
    let mut out = wasm.to_vec();
    let name = b"bench";
    let payload = n.to_le_bytes();
    out.push(0);
    out.push((1 + name.len() + payload.len()) as u8);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(&payload);
    out
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let out = scratch("compile").join("out.so");
    for (name, path) in [("kernels", KERNELS), ("counter-big", COUNTER_BIG)] {
        let wasm = std::fs::read(path).unwrap();
        g.throughput(Throughput::Bytes(wasm.len() as u64));
        let engine = scion_engine("compile-cache");
        g.bench_function(BenchmarkId::new("scion", name), |b| {
            b.iter(|| scion::Module::compile_to_file(&engine, &wasm, &out).unwrap())
        });
        let wt = wasmtime::Engine::default();
        g.bench_function(BenchmarkId::new("wasmtime", name), |b| {
            b.iter(|| wasmtime::Module::new(&wt, &wasm).unwrap())
        });
    }
    g.finish();
}

fn load_cached(c: &mut Criterion) {
    let mut g = c.benchmark_group("load-cached");
    for (name, path) in [("kernels", KERNELS), ("counter-big", COUNTER_BIG)] {
        let wasm = std::fs::read(path).unwrap();
        let engine = scion_engine(&format!("load-{name}"));
        let artifact = scion::Module::new(&engine, &wasm).unwrap().artifact_path();
        g.bench_function(BenchmarkId::new("scion", name), |b| {
            b.iter(|| scion::Module::from_artifact(&engine, &artifact).unwrap())
        });
        // Through the cache: hashes the wasm to find the artifact.
        g.bench_function(BenchmarkId::new("scion-from-wasm", name), |b| {
            b.iter(|| scion::Module::new(&engine, &wasm).unwrap())
        });
        let wt = wasmtime::Engine::default();
        let file = scratch(&format!("wasmtime-{name}")).join("module.cwasm");
        std::fs::write(&file, wasmtime::Module::new(&wt, &wasm).unwrap().serialize().unwrap())
            .unwrap();
        g.bench_function(BenchmarkId::new("wasmtime", name), |b| {
            // SAFETY: the file was just written by this engine's serialize.
            b.iter(|| unsafe { wasmtime::Module::deserialize_file(&wt, &file) }.unwrap())
        });
    }
    g.finish();
}

fn instantiate(c: &mut Criterion) {
    let mut g = c.benchmark_group("instantiate");
    let wasm = std::fs::read(KERNELS).unwrap();
    let engine = scion_engine("instantiate");
    let module = scion::Module::new(&engine, &wasm).unwrap();
    g.bench_function("scion", |b| {
        b.iter(|| {
            let mut store = scion::Store::new(&engine, ());
            scion::Instance::new(&mut store, &module, &[]).unwrap();
            store
        })
    });
    let wt = wasmtime::Engine::default();
    let wmodule = wasmtime::Module::new(&wt, &wasm).unwrap();
    g.bench_function("wasmtime", |b| {
        b.iter(|| {
            let mut store = wasmtime::Store::new(&wt, ());
            wasmtime::Instance::new(&mut store, &wmodule, &[]).unwrap();
            store
        })
    });
    let mut config = wasmtime::Config::new();
    config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(Default::default()));
    let pooled = wasmtime::Engine::new(&config).unwrap();
    let pmodule = wasmtime::Module::new(&pooled, &wasm).unwrap();
    let pre = wasmtime::Linker::new(&pooled).instantiate_pre(&pmodule).unwrap();
    g.bench_function("wasmtime-pooled", |b| {
        b.iter(|| {
            let mut store = wasmtime::Store::new(&pooled, ());
            pre.instantiate(&mut store).unwrap();
            store
        })
    });
    g.finish();
}

#[inline(never)]
fn native_empty() {}

fn empty_call(c: &mut Criterion) {
    let mut g = c.benchmark_group("call-empty");
    let f: fn() = black_box(native_empty);
    g.bench_function("native-indirect", |b| b.iter(|| black_box(f)()));
    let engine = scion_engine("empty-call");
    let module = scion::Module::from_file(&engine, KERNELS).unwrap();
    let mut store = scion::Store::new(&engine, ());
    let inst = scion::Instance::new(&mut store, &module, &[]).unwrap();
    let empty = inst.get_typed_func::<(), ()>(&store, "empty").unwrap();
    g.bench_function("scion", |b| b.iter(|| empty.call(&mut store, ()).unwrap()));
    // With a timeout every call arms and disarms a deadline.
    store.set_timeout(Some(Duration::from_secs(1))).unwrap();
    g.bench_function("scion-timeout", |b| b.iter(|| empty.call(&mut store, ()).unwrap()));
    store.set_timeout(None).unwrap();
    let wt = wasmtime::Engine::default();
    let wmodule = wasmtime::Module::from_file(&wt, KERNELS).unwrap();
    let mut wstore = wasmtime::Store::new(&wt, ());
    let winst = wasmtime::Instance::new(&mut wstore, &wmodule, &[]).unwrap();
    let wempty = winst.get_typed_func::<(), ()>(&mut wstore, "empty").unwrap();
    g.bench_function("wasmtime", |b| b.iter(|| wempty.call(&mut wstore, ()).unwrap()));
    g.finish();
}

fn cold_start(c: &mut Criterion) {
    let mut g = c.benchmark_group("cold-start");
    let engine = scion_engine("cold-start");
    let artifact = scion::Module::from_file(&engine, KERNELS).unwrap().artifact_path();
    let first_call = |path: &Path| {
        let module = scion::Module::from_artifact(&engine, path).unwrap();
        let mut store = scion::Store::new(&engine, ());
        let inst = scion::Instance::new(&mut store, &module, &[]).unwrap();
        inst.get_typed_func::<(), ()>(&store, "empty").unwrap().call(&mut store, ()).unwrap();
    };
    // File -> module -> instance -> first call, for a cache entry. After
    // its first load (in the warm-up) the entry has a verification record,
    // so its code is not hashed again: a cache's steady state.
    g.bench_function("scion", |b| b.iter(|| first_call(&artifact)));
    // The same for a signed file outside the cache (`compile_to_file`),
    // which has no record: every load reads and hashes all of it.
    let outside = scratch("cold-start-file").join("kernels.so");
    scion::Module::compile_to_file(&engine, &std::fs::read(KERNELS).unwrap(), &outside).unwrap();
    g.bench_function("scion-full-check", |b| b.iter(|| first_call(&outside)));
    // The yardstick: dlopen of a native library of the same size (the
    // artifact itself), looking up one symbol.
    g.bench_function("dlopen", |b| {
        b.iter(|| {
            // SAFETY: the artifact runs no initializers (checked by Scion's
            // loader when it was written and loaded above). A plain dlopen of
            // the path: the yardstick, not a way to load untrusted files.
            let lib = unsafe { libloading::Library::new(&artifact) }.unwrap();
            // SAFETY: only the symbol's address is read.
            let sym = unsafe { lib.get::<*const u8>(b"scion_module_descriptor") }.unwrap();
            black_box(*sym);
        })
    });
    g.finish();
}

fn reload(c: &mut Criterion) {
    use counter_api::CounterClient;
    let mut g = c.benchmark_group("reload");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for (name, a, b) in [("small", COUNTER, COUNTER_V2), ("big", COUNTER_BIG, COUNTER)] {
        let (a, b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
        let engine = scion_engine(&format!("reload-{name}"));
        let handle = scion::Plugin::builder(&engine).reloadable(&a).unwrap();
        // New bytes in (cached artifact), first call served by the new code.
        let mut flip = false;
        g.bench_function(BenchmarkId::new("cached", name), |bench| {
            bench.iter(|| {
                flip = !flip;
                handle.reload(if flip { &b } else { &a }).unwrap();
                let mut p = handle.lock();
                CounterClient::new(&mut *p).unwrap().increment().unwrap()
            })
        });
        // Bytes never seen before: compile included.
        let mut n = 0;
        g.bench_function(BenchmarkId::new("compile", name), |bench| {
            bench.iter(|| {
                n += 1;
                handle.reload(unique(&a, n)).unwrap();
                let mut p = handle.lock();
                CounterClient::new(&mut *p).unwrap().increment().unwrap()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = compile, load_cached, instantiate, empty_call, cold_start, reload
}
criterion_main!(benches);
