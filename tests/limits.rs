//! Sandbox limits against hostile plugins, written in WAT and in Rust:
//! each attack is stopped with an error naming what happened, the host
//! keeps running, and other instances (and the attacked one) still work.

use scion::{Config, Engine, Error, Instance, Module, Store, StoreLimits, TrapCode};
use std::path::Path;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

fn engine(config: Config) -> Engine {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scion-limits-cache");
    Engine::new(config.cache_dir(cache)).unwrap()
}

fn metered() -> Engine {
    engine(Config::new().consume_fuel(true))
}

fn rust_plugin(engine: &Engine) -> Module {
    Module::from_file(engine, env!("SCION_GUEST_HOSTILE")).unwrap()
}

fn trap_code<T: std::fmt::Debug>(r: Result<T, Error>) -> TrapCode {
    match r {
        Err(Error::Trap(t)) => t.code,
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// A fresh, well-behaved instance of the Rust plugin still works.
fn others_unaffected(engine: &Engine) {
    let module = rust_plugin(engine);
    let mut store = Store::new(engine, ());
    if engine.config().consume_fuel {
        store.set_fuel(1_000_000).unwrap();
    }
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let add = inst.get_typed_func::<(u32, u32), u32>(&store, "add").unwrap();
    assert_eq!(add.call(&mut store, (40, 2)).unwrap(), 42);
}

const SPIN_WAT: &str = r#"(module (func (export "spin") (loop $l (br $l)))
                                  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;

#[test]
fn infinite_loop_stopped_by_fuel() {
    let e = metered();
    for module in [Module::new(&e, SPIN_WAT).unwrap(), rust_plugin(&e)] {
        let mut store = Store::new(&e, ());
        store.set_fuel(5_000_000).unwrap();
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let spin = inst.get_typed_func::<(), ()>(&store, "spin").unwrap();
        let err = spin.call(&mut store, ()).unwrap_err();
        assert_eq!(err.as_trap().unwrap().code, TrapCode::OutOfFuel);
        assert!(err.to_string().contains("fuel"), "{err}");
        assert_eq!(store.get_fuel().unwrap(), 0);
        // Refuelled, the same instance works again.
        store.set_fuel(1_000).unwrap();
        let add = inst.get_typed_func::<(u32, u32), u32>(&store, "add").unwrap();
        assert_eq!(add.call(&mut store, (1, 2)).unwrap(), 3);
    }
    others_unaffected(&e);
}

#[test]
fn infinite_loop_stopped_by_timeout() {
    let e = engine(Config::new());
    for module in [Module::new(&e, SPIN_WAT).unwrap(), rust_plugin(&e)] {
        let mut store = Store::new(&e, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        store.set_timeout(Some(Duration::from_millis(50))).unwrap();
        let spin = inst.get_typed_func::<(), ()>(&store, "spin").unwrap();
        let t = Instant::now();
        assert_eq!(trap_code(spin.call(&mut store, ())), TrapCode::Interrupted);
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(50) && took < Duration::from_secs(5), "{took:?}");
        // The deadline applies per call: a quick call is not interrupted.
        let add = inst.get_typed_func::<(u32, u32), u32>(&store, "add").unwrap();
        assert_eq!(add.call(&mut store, (2, 2)).unwrap(), 4);
    }
    others_unaffected(&e);
}

/// Deadlines on several threads at once, after the deadline thread has
/// gone to sleep, and after many quick calls with a timeout: each
/// overrunning call is stopped near its own deadline, no quick call is.
#[test]
fn timeouts_on_several_threads_and_after_the_deadline_thread_slept() {
    let e = engine(Config::new());
    let module = Module::new(&e, SPIN_WAT).unwrap();
    let threads: Vec<_> = (0..3u64)
        .map(|i| {
            let (e, module) = (e.clone(), module.clone());
            std::thread::spawn(move || {
                let mut store = Store::new(&e, ());
                let inst = Instance::new(&mut store, &module, &[]).unwrap();
                let add = inst.get_typed_func::<(u32, u32), u32>(&store, "add").unwrap();
                let spin = inst.get_typed_func::<(), ()>(&store, "spin").unwrap();
                let timeout = Duration::from_millis(30 + 20 * i);
                store.set_timeout(Some(timeout)).unwrap();
                for round in 0..2 {
                    // Many quick calls: none is interrupted, whatever the
                    // deadlines of the ones before it.
                    for n in 0..20_000u32 {
                        assert_eq!(add.call(&mut store, (n, 1)).unwrap(), n + 1);
                    }
                    let t = Instant::now();
                    assert_eq!(trap_code(spin.call(&mut store, ())), TrapCode::Interrupted);
                    let took = t.elapsed();
                    assert!(took >= timeout && took < Duration::from_secs(5), "{took:?}");
                    if round == 0 {
                        // Long enough for the deadline thread to sleep.
                        std::thread::sleep(Duration::from_millis(300));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn infinite_loop_interrupted_from_another_thread() {
    let e = engine(Config::new());
    let module = rust_plugin(&e);
    let mut store = Store::new(&e, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let handle = store.interrupt_handle().unwrap();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        handle.interrupt();
    });
    let spin = inst.get_typed_func::<(), ()>(&store, "spin").unwrap();
    let t = Instant::now();
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(err.as_trap().unwrap().code, TrapCode::Interrupted, "{err}");
    assert!(t.elapsed() >= Duration::from_millis(50));
    stopper.join().unwrap();
    let add = inst.get_typed_func::<(u32, u32), u32>(&store, "add").unwrap();
    assert_eq!(add.call(&mut store, (5, 5)).unwrap(), 10);
    others_unaffected(&e);
}

fn limited(store: &mut Store<()>, memory: u64) {
    store.set_limits(StoreLimits {
        max_memory_bytes: memory,
        max_table_elements: 10_000,
        ..StoreLimits::default()
    });
}

#[test]
fn memory_grow_loop_stops_at_the_limit() {
    let e = engine(Config::new());
    let wat = r#"(module (memory (export "memory") 1)
        (func (export "grow_forever") (result i32) (local i32)
          (block $done (loop $l
            (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
            (local.set 0 (i32.add (local.get 0) (i32.const 1)))
            (br $l)))
          (local.get 0)))"#;
    for module in [Module::new(&e, wat).unwrap(), rust_plugin(&e)] {
        let mut store = Store::new(&e, ());
        limited(&mut store, 64 * MIB);
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let memory = inst.get_memory(&store, "memory").unwrap();
        let before = memory.size(&store);
        let grow = inst.get_typed_func::<(), u32>(&store, "grow_forever").unwrap();
        let grown = grow.call(&mut store, ()).unwrap();
        assert_eq!(before + grown as u64, 1024, "64 MiB is 1024 pages");
        assert_eq!(memory.data_size(&store) as u64, 64 * MIB);
    }
    others_unaffected(&e);
}

#[test]
fn allocation_bomb_ends_in_a_trap_within_the_limit() {
    let e = engine(Config::new());
    let module = rust_plugin(&e);
    let mut store = Store::new(&e, ());
    limited(&mut store, 32 * MIB);
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let hoard = inst.get_typed_func::<(), u32>(&store, "hoard").unwrap();
    // Rust's allocation-failure handler aborts, which is `unreachable`.
    assert_eq!(trap_code(hoard.call(&mut store, ())), TrapCode::Unreachable);
    let used = inst.get_memory(&store, "memory").unwrap().data_size(&store) as u64;
    assert!(used <= 32 * MIB && used > 30 * MIB, "{used}");
    others_unaffected(&e);
}

#[test]
fn recursion_bomb_overflows_the_stack_budget() {
    let e = engine(Config::new());
    let wat = r#"(module (func $r (export "recurse") (param i64) (result i64)
        (i64.add (call $r (i64.add (local.get 0) (i64.const 1))) (i64.const 1))))"#;
    for module in [Module::new(&e, wat).unwrap(), rust_plugin(&e)] {
        let mut store = Store::new(&e, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let r = inst.get_typed_func::<u64, u64>(&store, "recurse").unwrap();
        let err = r.call(&mut store, 0).unwrap_err();
        let trap = err.as_trap().unwrap();
        assert_eq!(trap.code, TrapCode::StackOverflow);
        assert!(err.to_string().contains("call stack exhausted"), "{err}");
        assert_eq!(trap_code(r.call(&mut store, 0)), TrapCode::StackOverflow);
    }
    others_unaffected(&e);
}

#[test]
fn recursion_bomb_on_a_small_host_thread() {
    // The host thread's stack (256 KiB) is smaller than the wasm budget
    // (1 MiB): the budget shrinks to what the thread has, and the plugin
    // still gets a trap, not a crash.
    let e = engine(Config::new());
    let module = rust_plugin(&e);
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut store = Store::new(&e, ());
            let inst = Instance::new(&mut store, &module, &[]).unwrap();
            let r = inst.get_typed_func::<u64, u64>(&store, "recurse").unwrap();
            assert_eq!(trap_code(r.call(&mut store, 0)), TrapCode::StackOverflow);
            let add = inst.get_typed_func::<(u32, u32), u32>(&store, "add").unwrap();
            assert_eq!(add.call(&mut store, (1, 1)).unwrap(), 2);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn stack_budget_is_configurable() {
    // 20,000 frames fit Rust's 1 MiB shadow stack in linear memory, but
    // not 64 KiB of native stack.
    for (budget, depth, ok) in [(64 * 1024, 20_000u64, false), (8 << 20, 20_000, true)] {
        let e = engine(Config::new().max_wasm_stack(budget));
        let module = rust_plugin(&e);
        let result = std::thread::Builder::new()
            .stack_size(32 << 20)
            .spawn(move || {
                let mut store = Store::new(&e, ());
                let inst = Instance::new(&mut store, &module, &[]).unwrap();
                let r = inst.get_typed_func::<u64, u64>(&store, "recurse_to").unwrap();
                r.call(&mut store, depth).map_err(|e| e.as_trap().map(|t| t.code))
            })
            .unwrap()
            .join()
            .unwrap();
        match ok {
            true => assert_eq!(result, Ok(depth), "budget {budget}"),
            false => assert_eq!(result, Err(Some(TrapCode::StackOverflow)), "budget {budget}"),
        }
    }
}

#[test]
fn table_grow_bomb_stops_at_the_limit() {
    let e = engine(Config::new());
    let wat = r#"(module (table (export "t") 1 funcref)
        (func (export "bomb") (result i32) (local i32)
          (block $done (loop $l
            (br_if $done (i32.eq (table.grow (ref.null func) (i32.const 1000)) (i32.const -1)))
            (local.set 0 (i32.add (local.get 0) (i32.const 1)))
            (br $l)))
          (table.size)))"#;
    let module = Module::new(&e, wat).unwrap();
    let mut store = Store::new(&e, ());
    store.set_limits(StoreLimits {
        max_memory_bytes: 64 * MIB,
        max_table_elements: 100_000,
        ..StoreLimits::default()
    });
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let bomb = inst.get_typed_func::<(), u32>(&store, "bomb").unwrap();
    assert_eq!(bomb.call(&mut store, ()).unwrap(), 99_001);
    others_unaffected(&e);
}

#[test]
fn huge_initial_memory_is_refused_with_a_clear_error() {
    let e = engine(Config::new());
    let wat =
        r#"(module (memory 65536) (func (export "id") (param i32) (result i32) (local.get 0)))"#;
    let rust = Module::from_file(&e, env!("SCION_GUEST_HUGE_MEMORY")).unwrap();
    for module in [Module::new(&e, wat).unwrap(), rust] {
        let mut store = Store::new(&e, ());
        limited(&mut store, 64 * MIB);
        let err = Instance::new(&mut store, &module, &[]).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Limit(_)), "{err:?}");
        assert!(msg.contains("4294967296") && msg.contains("67108864"), "{msg}");
    }
    others_unaffected(&e);
}

#[test]
fn out_of_fuel_handler_refills_or_stops() {
    let e = metered();
    let module = rust_plugin(&e);
    let mut store = Store::new(&e, 0u32);
    store.set_fuel(10_000).unwrap();
    store.on_out_of_fuel(|refills: &mut u32| {
        *refills += 1;
        if *refills <= 3 { scion::OutOfFuel::AddFuel(10_000) } else { scion::OutOfFuel::Trap }
    });
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = inst.get_typed_func::<(), ()>(&store, "spin").unwrap();
    assert_eq!(trap_code(spin.call(&mut store, ())), TrapCode::OutOfFuel);
    assert_eq!(*store.data(), 4);
}
