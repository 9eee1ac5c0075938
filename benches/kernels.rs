//! Compute kernels (guest/kernels) run natively, in Scion and in Wasmtime
//! (Cranelift), in one process, each engine in the configurations the
//! optimizing-compiler comparison needs:
//!
//! | id | engine configuration |
//! |---|---|
//! | `native` | the same Rust code compiled for the host |
//! | `scion` | `scion::Config::new()`: interruptible (a flag test at function entries and loop headers) |
//! | `scion-nointr` | `.interruptible(false)`: no check points |
//! | `wasmtime-epoch` | `epoch_interruption(true)` with a deadline that never fires: the same capability as Scion's default |
//! | `wasmtime` | the default configuration (not interruptible) |
//! | `scion-fuel` | Scion's default plus `consume_fuel(true)` |
//! | `wasmtime-fuel` | Wasmtime's default plus `consume_fuel(true)` |
//! | `scion-simd` | Scion's default on the kernels built with `-C target-feature=+simd128` |
//! | `wasmtime-simd` | Wasmtime's default on the same `simd128` build |
//!
//! The `simd128` build is the same Rust code: LLVM vectorizes its loops
//! (and `sha2`, `serde_json` and the sort get whatever it finds), so the
//! pair against `scion`/`wasmtime` is the speedup SIMD gives each engine.
//!
//! Every configuration's checksum is checked against the native one before
//! anything is measured. Ids are `kernel/NAME/ID`.
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
    ("pixels", 512, kernels::pixels),
    ("dot", 20_000, kernels::dot),
];

const WASM: &str = env!("SCION_GUEST_KERNELS");
const WASM_SIMD: &str = env!("SCION_GUEST_KERNELS_SIMD128");

/// Enough fuel that no kernel run (nor all of Criterion's runs) exhausts it.
const FUEL: u64 = u64::MAX / 2;

/// The plugin export behind a kernel name.
fn export(kernel: &'static str) -> &'static str {
    if kernel == "postcard" { "postcard_roundtrip" } else { kernel }
}

/// One engine configuration with the kernels module instantiated.
trait Runner {
    /// Runs kernel `index` (into `KERNELS`) with `arg`.
    fn run(&mut self, index: usize, arg: u32) -> u64;
}

struct Scion {
    store: scion::Store<()>,
    funcs: Vec<scion::TypedFunc<u32, u64>>,
}

impl Runner for Scion {
    fn run(&mut self, index: usize, arg: u32) -> u64 {
        self.funcs[index].call(&mut self.store, arg).unwrap()
    }
}

fn scion(config: scion::Config) -> Scion {
    scion_of(config, WASM)
}

fn scion_of(config: scion::Config, wasm: &str) -> Scion {
    let fuel = config.consume_fuel;
    let engine = scion::Engine::new(config).unwrap();
    let module = scion::Module::from_file(&engine, wasm).unwrap();
    let mut store = scion::Store::new(&engine, ());
    if fuel {
        store.set_fuel(FUEL).unwrap();
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

impl Runner for Wasmtime {
    fn run(&mut self, index: usize, arg: u32) -> u64 {
        self.funcs[index].call(&mut self.store, arg).unwrap()
    }
}

/// Wasmtime with fuel metering and/or epoch interruption.
fn wasmtime(fuel: bool, epoch: bool) -> Wasmtime {
    wasmtime_of(fuel, epoch, WASM)
}

fn wasmtime_of(fuel: bool, epoch: bool, wasm: &str) -> Wasmtime {
    let mut config = wasmtime::Config::new();
    config.consume_fuel(fuel).epoch_interruption(epoch);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let module = wasmtime::Module::from_file(&engine, wasm).unwrap();
    let mut store = wasmtime::Store::new(&engine, ());
    if fuel {
        store.set_fuel(FUEL).unwrap();
    }
    if epoch {
        // The checks run, the deadline is never reached (nothing increments
        // the epoch): the cost of being interruptible, not of interrupting.
        store.set_epoch_deadline(u64::MAX / 2);
    }
    let inst = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
    let funcs = KERNELS
        .iter()
        .map(|k| inst.get_typed_func::<u32, u64>(&mut store, export(k.0)).unwrap())
        .collect();
    Wasmtime { store, funcs }
}

fn kernels(c: &mut Criterion) {
    let default = scion::Config::new;
    // In the order they are measured within each kernel's group.
    let mut runners: Vec<(&str, Box<dyn Runner>)> = vec![
        ("scion", Box::new(scion(default()))),
        ("scion-nointr", Box::new(scion(default().interruptible(false)))),
        ("wasmtime-epoch", Box::new(wasmtime(false, true))),
        ("wasmtime", Box::new(wasmtime(false, false))),
        ("scion-fuel", Box::new(scion(default().consume_fuel(true)))),
        ("wasmtime-fuel", Box::new(wasmtime(true, false))),
        ("scion-simd", Box::new(scion_of(default(), WASM_SIMD))),
        ("wasmtime-simd", Box::new(wasmtime_of(false, false, WASM_SIMD))),
    ];
    for (i, &(name, arg, native)) in KERNELS.iter().enumerate() {
        let expected = native(arg);
        for (id, runner) in &mut runners {
            assert_eq!(runner.run(i, arg), expected, "{name}: {id} disagrees with native");
        }
        let mut g = c.benchmark_group(format!("kernel/{name}"));
        g.bench_function(BenchmarkId::from_parameter("native"), |b| {
            b.iter(|| native(black_box(arg)))
        });
        for (id, runner) in &mut runners {
            g.bench_function(BenchmarkId::from_parameter(*id), |b| {
                b.iter(|| runner.run(i, black_box(arg)))
            });
        }
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
