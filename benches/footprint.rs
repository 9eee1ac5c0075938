//! Memory per idle instance: resident memory (RSS) and address space
//! (`VmSize`) that 1,000 live instances of a small SDK plugin (`counter`)
//! add to the process, for Scion (SDK plugins, default configuration) and
//! Wasmtime 48 (default and pooling allocators, raw instances of the same
//! module), one module shared by all instances. Scion's instances are started SDK plugins called once, so
//! their memories hold what a running plugin touches; Wasmtime's are only
//! instantiated (calling the SDK's exports by hand needs its start-up
//! protocol), which can only make them look smaller.
//!
//! `cargo bench -p scion-benches --bench footprint` prints one table; not
//! a Criterion benchmark (nothing is timed).

const COUNTER: &str = env!("SCION_GUEST_COUNTER");
const INSTANCES: usize = 1000;

/// Resident memory (exact, from `smaps_rollup`; `status`'s `VmRSS` is
/// updated lazily) and address space (`VmSize`) of this process, in KiB.
fn usage() -> (u64, u64) {
    let field = |file: &str, name: &str| {
        let text = std::fs::read_to_string(file).unwrap();
        let line = text.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap()
    };
    (field("/proc/self/smaps_rollup", "Rss:"), field("/proc/self/status", "VmSize:"))
}

/// What `live` instances made with `make` add, per instance (KiB).
fn measure<T>(mut make: impl FnMut() -> T) -> (f64, f64) {
    let warm = make();
    let (rss0, vm0) = usage();
    let live: Vec<T> = (0..INSTANCES).map(|_| make()).collect();
    let (rss1, vm1) = usage();
    drop(live);
    drop(warm);
    let per = |a: u64, b: u64| b.saturating_sub(a) as f64 / INSTANCES as f64;
    (per(rss0, rss1), per(vm0, vm1))
}

/// Measures one engine (`scion`, `wasmtime` or `wasmtime-pooled`) in this
/// process.
fn measure_engine(which: &str) -> (f64, f64) {
    let wasm = std::fs::read(COUNTER).unwrap();
    if which == "scion" {
        let engine = scion::Engine::default();
        let module = scion::Module::new(&engine, &wasm).unwrap();
        return measure(|| {
            let mut plugin = scion::Plugin::builder(&engine).instantiate(&module).unwrap();
            let mut client = counter_api::CounterClient::new(&mut plugin).unwrap();
            client.increment().unwrap();
            plugin
        });
    }
    let mut config = wasmtime::Config::new();
    if which == "wasmtime-pooled" {
        let mut pool = wasmtime::PoolingAllocationConfig::default();
        let n = INSTANCES as u32 + 8;
        pool.total_memories(n).total_tables(n).total_core_instances(n);
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    }
    let engine = wasmtime::Engine::new(&config).unwrap();
    let module = wasmtime::Module::new(&engine, &wasm).unwrap();
    let mut linker = wasmtime::Linker::new(&engine);
    linker.func_wrap("scion", "panic", |_: i32, _: i32| {}).unwrap();
    let pre = linker.instantiate_pre(&module).unwrap();
    measure(|| {
        let mut store = wasmtime::Store::new(&engine, ());
        pre.instantiate(&mut store).unwrap();
        store
    })
}

fn main() {
    // Each engine is measured in a process of its own, so that none reuses
    // pages another freed. (`cargo bench` passes `--bench`; filters are
    // ignored.)
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--engine") {
        let (rss, vm) = measure_engine(&args[i + 1]);
        println!("{rss} {vm}");
        return;
    }
    println!("{INSTANCES} idle instances of `counter`, per instance:");
    println!("| engine | RSS (KiB) | address space (KiB) |");
    println!("|---|---|---|");
    for name in ["scion", "wasmtime", "wasmtime-pooled"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--engine", name])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let mut v = text.split_whitespace().map(|x| x.parse::<f64>().unwrap());
        let (rss, vm) = (v.next().unwrap(), v.next().unwrap());
        println!("| {name} | {rss:.1} | {vm:.0} |");
    }
}
