//! Call overhead through the SDK: ns per call of a scalar method and of a
//! ~1 KiB struct round trip, in one run:
//!
//! - `native`: the same Rust code called directly (serialization
//!   included for the round trip, as a floor for what crossing costs);
//! - `scion`: `scion::Plugin` through the generated typed client;
//! - `wasmtime`: the same plugin in Wasmtime 48 (Cranelift, default
//!   configuration) with typed calls and the same buffer protocol;
//! - `extism` (with `--features extism`): an extism-pdk plugin doing the
//!   same work, through `extism::Plugin::call` (Extism 1.30).
//!
//! `cargo bench -p scion-benches --bench calls --features extism`

use call_api::{CallsClient, Payload};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

const PLUGIN: &str = env!("SCION_GUEST_CALL_PLUGIN");

fn scion_plugin() -> scion::Plugin {
    scion::Plugin::builder(&scion::Engine::default()).load_file(PLUGIN).unwrap()
}

/// The plugin in Wasmtime, called with the SDK's conventions by hand.
struct Wasmtime {
    store: wasmtime::Store<()>,
    memory: wasmtime::Memory,
    alloc: wasmtime::TypedFunc<i32, i32>,
    free: wasmtime::TypedFunc<(i32, i32), ()>,
    add: wasmtime::TypedFunc<(i32, i32), i32>,
    roundtrip: wasmtime::TypedFunc<(i32, i32), i64>,
}

impl Wasmtime {
    fn new() -> Wasmtime {
        let engine = wasmtime::Engine::default();
        let module = wasmtime::Module::from_file(&engine, PLUGIN).unwrap();
        let mut linker = wasmtime::Linker::new(&engine);
        linker.func_wrap("scion", "panic", |_: i32, _: i32| {}).unwrap();
        linker.func_wrap("scion", "log", |_: i32, _: i32, _: i32, _: i32, _: i32| {}).unwrap();
        let mut store = wasmtime::Store::new(&engine, ());
        let inst = linker.instantiate(&mut store, &module).unwrap();
        let init = inst.get_typed_func::<(i32, i32), i32>(&mut store, "scion_init").unwrap();
        let alloc = inst.get_typed_func::<i32, i32>(&mut store, "scion_alloc").unwrap();
        let ptr = alloc.call(&mut store, 0).unwrap();
        assert_eq!(init.call(&mut store, (ptr, 0)).unwrap(), 0);
        Wasmtime {
            memory: inst.get_memory(&mut store, "memory").unwrap(),
            alloc,
            free: inst.get_typed_func(&mut store, "scion_free").unwrap(),
            add: inst.get_typed_func(&mut store, "scion:Calls/add").unwrap(),
            roundtrip: inst.get_typed_func(&mut store, "scion:Calls/roundtrip").unwrap(),
            store,
        }
    }

    fn roundtrip(&mut self, p: Payload) -> Payload {
        let input = scion_sdk::wire::encode(&(p,)).unwrap();
        let ptr = self.alloc.call(&mut self.store, input.len() as i32).unwrap();
        self.memory.write(&mut self.store, ptr as usize, &input).unwrap();
        let packed = self.roundtrip.call(&mut self.store, (ptr, input.len() as i32)).unwrap();
        let (out, len) = scion_sdk::wire::unpack(packed);
        let mut bytes = vec![0; len as usize];
        self.memory.read(&self.store, out as usize, &mut bytes).unwrap();
        self.free.call(&mut self.store, (out as i32, len as i32)).unwrap();
        scion_sdk::wire::decode(&bytes).unwrap()
    }
}

#[cfg(feature = "extism")]
fn extism_plugin() -> extism::Plugin {
    let wasm = std::fs::read(env!("SCION_GUEST_EXTISM_CALLS")).unwrap();
    extism::Plugin::new(wasm, [], false).unwrap()
}

fn native_roundtrip(p: Payload) -> Payload {
    let bytes = scion_sdk::wire::encode(&(p,)).unwrap();
    let (p,): (Payload,) = scion_sdk::wire::decode(&bytes).unwrap();
    let out = scion_sdk::wire::encode(&call_api::touch(p)).unwrap();
    scion_sdk::wire::decode(&out).unwrap()
}

fn calls(c: &mut Criterion) {
    let payload = Payload::sample();
    let size = scion_sdk::wire::encode(&payload).unwrap().len();
    assert!((900..=1200).contains(&size), "payload is {size} bytes");
    let expected = call_api::touch(payload.clone());

    let mut plugin = scion_plugin();
    let mut wt = Wasmtime::new();
    assert_eq!(
        CallsClient::new(&mut plugin).unwrap().roundtrip(payload.clone()).unwrap(),
        expected
    );
    assert_eq!(CallsClient::new(&mut plugin).unwrap().add(2, 3).unwrap(), 5);
    assert_eq!(wt.roundtrip(payload.clone()), expected);
    assert_eq!(wt.add.call(&mut wt.store, (2, 3)).unwrap(), 5);
    #[cfg(feature = "extism")]
    let mut ex = extism_plugin();
    #[cfg(feature = "extism")]
    {
        let out: Vec<u8> =
            ex.call("roundtrip", scion_sdk::wire::encode(&payload).unwrap()).unwrap();
        assert_eq!(scion_sdk::wire::decode::<Payload>(&out).unwrap(), expected);
    }

    let mut g = c.benchmark_group("call/scalar");
    g.bench_function("native", |b| {
        b.iter(|| black_box(black_box(2i32).wrapping_add(black_box(3))))
    });
    {
        let mut client = CallsClient::new(&mut plugin).unwrap();
        g.bench_function("scion", |b| b.iter(|| client.add(black_box(2), black_box(3)).unwrap()));
    }
    {
        // The export called directly, without the client: the runtime's
        // own call cost.
        let add = plugin
            .instance()
            .get_typed_func::<(i32, i32), i32>(plugin.store(), "scion:Calls/add")
            .unwrap();
        let store = plugin.store_mut();
        g.bench_function("scion-typed-func", |b| {
            b.iter(|| add.call(store, (black_box(2), black_box(3))).unwrap())
        });
    }
    g.bench_function("wasmtime", |b| {
        b.iter(|| wt.add.call(&mut wt.store, (black_box(2), black_box(3))).unwrap())
    });
    #[cfg(feature = "extism")]
    g.bench_function("extism", |b| {
        let mut input = [0u8; 8];
        input[..4].copy_from_slice(&2i32.to_le_bytes());
        input[4..].copy_from_slice(&3i32.to_le_bytes());
        b.iter(|| {
            let out: &[u8] = ex.call("add", black_box(&input[..])).unwrap();
            i32::from_le_bytes(out.try_into().unwrap())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("call/struct-1KiB");
    g.bench_function("native", |b| b.iter(|| native_roundtrip(black_box(payload.clone()))));
    {
        let mut client = CallsClient::new(&mut plugin).unwrap();
        g.bench_function("scion", |b| {
            b.iter(|| client.roundtrip(black_box(payload.clone())).unwrap())
        });
    }
    g.bench_function("wasmtime", |b| b.iter(|| wt.roundtrip(black_box(payload.clone()))));
    #[cfg(feature = "extism")]
    g.bench_function("extism", |b| {
        b.iter(|| {
            let input = scion_sdk::wire::encode(black_box(&payload)).unwrap();
            let out: &[u8] = ex.call("roundtrip", input).unwrap();
            scion_sdk::wire::decode::<Payload>(out).unwrap()
        })
    });
    g.finish();
    threads(c);
}

/// Calls per second from 1 and 2 threads, each with its own plugin (its
/// own store): with no process-wide lock on the call path, two threads on
/// two cores make about twice the calls. Criterion's "thrpt" is the
/// total calls per second.
fn threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("call/threads");
    for n in [1u64, 2] {
        g.throughput(criterion::Throughput::Elements(n));
        g.bench_function(criterion::BenchmarkId::new("scion", n), |b| {
            let mut plugins: Vec<scion::Plugin> = (0..n).map(|_| scion_plugin()).collect();
            b.iter_custom(|iters| {
                in_threads(&mut plugins, |p, start| {
                    let mut client = CallsClient::new(p).unwrap();
                    start();
                    for _ in 0..iters {
                        black_box(client.add(black_box(2), black_box(3)).unwrap());
                    }
                })
            })
        });
        g.bench_function(criterion::BenchmarkId::new("wasmtime", n), |b| {
            let mut engines: Vec<Wasmtime> = (0..n).map(|_| Wasmtime::new()).collect();
            b.iter_custom(|iters| {
                in_threads(&mut engines, |w, start| {
                    start();
                    for _ in 0..iters {
                        black_box(w.add.call(&mut w.store, (2, 3)).unwrap());
                    }
                })
            })
        });
    }
    g.finish();
}

/// Runs `work` on a thread per item and returns the wall time from the
/// moment every thread has called the `start` it is given (after its own
/// set-up) until all of them finished.
fn in_threads<T: Send>(items: &mut [T], work: impl Fn(&mut T, &dyn Fn()) + Sync) -> Duration {
    let barrier = std::sync::Barrier::new(items.len() + 1);
    let start = || {
        barrier.wait();
    };
    let t = std::thread::scope(|s| {
        for item in items.iter_mut() {
            let (work, start) = (&work, &start);
            s.spawn(move || work(item, start));
        }
        start();
        // The scope joins every thread before returning.
        std::time::Instant::now()
    });
    t.elapsed()
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = calls
}
criterion_main!(benches);
