//! Runs untrusted user scripts (plugins) under a budget — fuel, memory and
//! time — and reports what each one consumed and how it ended. Some scripts
//! are hostile; the host survives all of them.
//!
//! Run: `cargo run --release -p scion-examples --example untrusted`

use scion::{Config, Engine, Instance, Module, Store, StoreLimits};
use std::time::{Duration, Instant};

const FUEL: u64 = 50_000_000;
const MEMORY: u64 = 16 << 20;
const TIME: Duration = Duration::from_millis(500);

/// User scripts, each exporting `run: () -> i64`.
const SCRIPTS: &[(&str, &str)] = &[
    (
        "sum of squares",
        r#"(module (func (export "run") (result i64) (local $i i64) (local $s i64)
             (loop $l (local.set $s (i64.add (local.get $s) (i64.mul (local.get $i) (local.get $i))))
               (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 1000))))
             (local.get $s)))"#,
    ),
    (
        "infinite loop",
        r#"(module (func (export "run") (result i64) (loop $l (br $l)) (i64.const 0)))"#,
    ),
    (
        "memory hog",
        r#"(module (memory (export "memory") 1) (func (export "run") (result i64)
             (loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
             (i64.extend_i32_u (memory.size))))"#,
    ),
    (
        "stack bomb",
        r#"(module (func $f (export "run") (result i64) (i64.add (call $f) (i64.const 1))))"#,
    ),
    (
        "division by zero",
        r#"(module (func (export "run") (result i64) (i64.div_s (i64.const 1) (i64.const 0))))"#,
    ),
    (
        "out of bounds",
        r#"(module (memory (export "memory") 1)
             (func (export "run") (result i64) (i64.load (i32.const 65535))))"#,
    ),
];

struct Report {
    name: String,
    outcome: String,
    fuel: u64,
    memory: u64,
    time: Duration,
}

fn run(engine: &Engine, name: &str, module: &Module, export: &str) -> Report {
    let mut store = Store::new(engine, ());
    store.set_limits(StoreLimits { max_memory_bytes: MEMORY, ..store.limits() });
    store.set_fuel(FUEL).expect("metered engine");
    store.set_timeout(Some(TIME)).expect("interruptible engine");
    let t = Instant::now();
    let instance = Instance::new(&mut store, module, &[]);
    let outcome = instance.as_ref().map_err(|e| e.to_string()).and_then(|inst| {
        let f = inst.get_func(&store, export).ok_or(format!("no `{export}` export"))?;
        let mut out = vec![scion::Val::I64(0); f.ty(&store).results.len()];
        f.call(&mut store, &[], &mut out).map_err(|e| e.to_string())?;
        Ok(out.first().map(|v| v.to_string()).unwrap_or_default())
    });
    let time = t.elapsed();
    let fuel = FUEL - store.get_fuel().unwrap_or(0);
    let memory = instance
        .ok()
        .and_then(|inst| inst.get_memory(&store, "memory"))
        .map_or(0, |m| m.data_size(&store) as u64);
    let outcome = match outcome {
        Ok(value) => format!("returned {value}"),
        Err(e) => e.lines().next().unwrap_or_default().to_string(),
    };
    Report { name: name.to_string(), outcome, fuel, memory, time }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::new(Config::new().consume_fuel(true))?;
    println!("Budget per script: {FUEL} fuel, {} MiB of memory, {TIME:?}\n", MEMORY >> 20);
    let mut reports = Vec::new();
    for (name, wat) in SCRIPTS {
        let module = Module::new(&engine, wat)?;
        reports.push(run(&engine, name, &module, "run"));
    }
    // The same attacks written in Rust and compiled by rustc.
    let hostile = Module::from_file(&engine, env!("SCION_GUEST_HOSTILE"))?;
    for export in ["spin", "hoard", "grow_forever"] {
        reports.push(run(&engine, &format!("rust: {export}"), &hostile, export));
    }
    println!("{:<22} {:>12} {:>10} {:>9}  outcome", "script", "fuel", "memory", "time");
    for r in &reports {
        let memory =
            if r.memory == 0 { "-".to_string() } else { format!("{} KiB", r.memory >> 10) };
        println!(
            "{:<22} {:>12} {:>10} {:>7.1}ms  {}",
            r.name,
            r.fuel,
            memory,
            r.time.as_secs_f64() * 1e3,
            r.outcome
        );
    }
    println!(
        "\nThe host is still running: every script was stopped or finished within its budget."
    );
    Ok(())
}
