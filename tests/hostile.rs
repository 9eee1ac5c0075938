//! The public API driven the way a careless or malicious host and plugin
//! would: operations at the 4 GiB end of memory and at the end of a table
//! at its limit, references moved between stores, limits on everything a
//! store holds, failed instantiations in a loop, signatures of dropped
//! modules, bulk operations that must stay within their fuel and their
//! deadline, and wasm running on a stack the runtime did not set up.
//!
//! Every case ends with an error or a trap that says what happened, and
//! the host process (and the store, where it survives) keeps working.

use scion::{
    Config, Engine, Error, Func, FuncType, Global, GlobalType, Instance, Limits, Module, Store,
    StoreLimits, Table, TableType, TrapCode, Val, ValType,
};
use std::path::Path;
use std::time::Duration;

const GIB4: u64 = 1 << 32;
const MIB: u64 = 1 << 20;

/// The tests of this file run one at a time: one of them counts the
/// process's mappings and address space, which the others change.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn engine(config: Config) -> Engine {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scion-hostile-cache");
    Engine::new(config.cache_dir(cache)).unwrap()
}

fn trap_code<T: std::fmt::Debug>(r: Result<T, Error>) -> TrapCode {
    match r {
        Err(Error::Trap(t)) => t.code,
        other => panic!("expected a trap, got {other:?}"),
    }
}

fn limit_error<T: std::fmt::Debug>(r: Result<T, Error>, naming: &str) {
    match r {
        Err(Error::Limit(msg)) => assert!(msg.contains(naming), "{msg}"),
        other => panic!("expected a limit error naming {naming}, got {other:?}"),
    }
}

/// Bulk operations and every access width of a 65,536-page memory.
const EDGE_WAT: &str = r#"(module
  (memory (export "mem") 1)
  (data $d "0123456789abcdef")
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 7) (local.get 1)))
  (func (export "init") (param i32 i32 i32)
    (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32)
    (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load16") (param i32) (result i32) (i32.load16_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "loadf32") (param i32) (result f32) (f32.load (local.get 0)))
  (func (export "loadf64") (param i32) (result f64) (f64.load (local.get 0)))
  (func (export "load64_32") (param i32) (result i64) (i64.load32_u (local.get 0)))
  (func (export "load_off") (param i32) (result i32) (i32.load offset=0xfffffff0 (local.get 0)))
  (func (export "store8") (param i32) (i32.store8 (local.get 0) (i32.const 0x11)))
  (func (export "store16") (param i32) (i32.store16 (local.get 0) (i32.const 0x2222)))
  (func (export "store32") (param i32) (i32.store (local.get 0) (i32.const 0x33333333)))
  (func (export "store64") (param i32) (i64.store (local.get 0) (i64.const 0x4444444444444444)))
  (func (export "storef64") (param i32) (f64.store (local.get 0) (f64.const 1)))
  (func (export "store_off") (param i32) (i32.store offset=0xfffffff0 (local.get 0) (i32.const 5))))"#;

#[test]
fn bulk_operations_and_every_width_at_the_4gib_end() {
    let _serial = serial();
    let e = engine(Config::new());
    let module = Module::new(&e, EDGE_WAT).unwrap();
    let mut store = Store::new(&e, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = inst.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 65535).unwrap(), 1, "the default limits allow 4 GiB");
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    let mem = inst.get_memory(&store, "mem").unwrap();
    assert_eq!(mem.data_size(&store) as u64, GIB4);

    let end = |back: u64| (GIB4 - back) as u32 as i32;
    let fill = inst.get_typed_func::<(i32, i32), ()>(&store, "fill").unwrap();
    fill.call(&mut store, (end(16), 16)).unwrap();
    fill.call(&mut store, (end(1), 1)).unwrap();
    fill.call(&mut store, (end(0), 0)).unwrap();
    assert_eq!(trap_code(fill.call(&mut store, (end(1), 2))), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_code(fill.call(&mut store, (end(16), -1))), TrapCode::MemoryOutOfBounds);
    assert_eq!(&mem.data(&store)[(GIB4 - 16) as usize..], &[7; 16]);

    let init = inst.get_typed_func::<(i32, i32, i32), ()>(&store, "init").unwrap();
    init.call(&mut store, (end(16), 0, 16)).unwrap();
    assert_eq!(&mem.data(&store)[(GIB4 - 16) as usize..], b"0123456789abcdef");
    init.call(&mut store, (end(0), 16, 0)).unwrap();
    assert_eq!(trap_code(init.call(&mut store, (end(15), 0, 16))), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_code(init.call(&mut store, (end(1), 15, 2))), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_code(init.call(&mut store, (end(16), 0, -1))), TrapCode::MemoryOutOfBounds);

    let copy = inst.get_typed_func::<(i32, i32, i32), ()>(&store, "copy").unwrap();
    copy.call(&mut store, (0, end(16), 16)).unwrap();
    assert_eq!(&mem.data(&store)[..16], b"0123456789abcdef");
    copy.call(&mut store, (end(8), end(16), 8)).unwrap();
    assert_eq!(&mem.data(&store)[(GIB4 - 8) as usize..], b"01234567");
    copy.call(&mut store, (end(1), end(1), 1)).unwrap();
    copy.call(&mut store, (end(0), end(0), 0)).unwrap();
    assert_eq!(trap_code(copy.call(&mut store, (end(15), 0, 16))), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_code(copy.call(&mut store, (0, end(15), 16))), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_code(copy.call(&mut store, (2, 0, -1))), TrapCode::MemoryOutOfBounds);

    for (name, width) in [
        ("load8", 1u64),
        ("load16", 2),
        ("load32", 4),
        ("load64", 8),
        ("loadf32", 4),
        ("loadf64", 8),
        ("load64_32", 4),
        ("store8", 1),
        ("store16", 2),
        ("store32", 4),
        ("store64", 8),
        ("storef64", 8),
    ] {
        let f = inst.get_func(&store, name).unwrap();
        let mut out = vec![Val::I32(0); f.ty(&store).results.len()];
        if let Some(r) = out.first_mut() {
            *r = Val::default_for(f.ty(&store).results[0]);
        }
        f.call(&mut store, &[Val::I32(end(width))], &mut out)
            .unwrap_or_else(|e| panic!("{name} of the last {width} bytes: {e}"));
        for over in 1..width {
            let r = f.call(&mut store, &[Val::I32(end(width - over))], &mut out);
            assert_eq!(trap_code(r), TrapCode::MemoryOutOfBounds, "{name} {over} bytes over");
        }
        let r = f.call(&mut store, &[Val::I32(-1)], &mut out);
        if width > 1 {
            assert_eq!(trap_code(r), TrapCode::MemoryOutOfBounds, "{name} at 0xffffffff");
        }
    }
    let load_off = inst.get_typed_func::<i32, i32>(&store, "load_off").unwrap();
    let store_off = inst.get_typed_func::<i32, ()>(&store, "store_off").unwrap();
    store_off.call(&mut store, 0x0c).unwrap();
    assert_eq!(load_off.call(&mut store, 0x0c).unwrap(), 5);
    assert_eq!(trap_code(load_off.call(&mut store, 0x0d)), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_code(store_off.call(&mut store, 0x0d)), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_code(load_off.call(&mut store, -1)), TrapCode::MemoryOutOfBounds);

    // The host's own accessors at the same edge.
    let mut buf = [0u8; 4];
    mem.read(&store, (GIB4 - 4) as usize, &mut buf).unwrap();
    assert!(mem.read(&store, (GIB4 - 3) as usize, &mut buf).is_err());
    assert!(mem.read(&store, usize::MAX, &mut buf).is_err());
    assert!(mem.write(&mut store, (GIB4 - 3) as usize, &buf).is_err());
    mem.write(&mut store, (GIB4 - 4) as usize, &buf).unwrap();
}

#[test]
fn table_operations_at_the_end_of_a_table_at_its_limit() {
    let _serial = serial();
    let e = engine(Config::new());
    let module = Module::new(
        &e,
        r#"(module
          (table $t (export "t") 10 funcref)
          (elem $e func $f $f $f $f)
          (func $f (result i32) (i32.const 42))
          (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
          (func (export "fill") (param i32 i32) (table.fill $t (local.get 0) (ref.func $f) (local.get 1)))
          (func (export "copy") (param i32 i32 i32) (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
          (func (export "init") (param i32 i32 i32) (table.init $t $e (local.get 0) (local.get 1) (local.get 2)))
          (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&e, ());
    store.set_limits(StoreLimits { max_table_elements: 1000, ..StoreLimits::default() });
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = inst.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 991).unwrap(), -1);
    assert_eq!(grow.call(&mut store, 990).unwrap(), 10);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    assert_eq!(grow.call(&mut store, -1).unwrap(), -1);
    let fill = inst.get_typed_func::<(i32, i32), ()>(&store, "fill").unwrap();
    let copy = inst.get_typed_func::<(i32, i32, i32), ()>(&store, "copy").unwrap();
    let init = inst.get_typed_func::<(i32, i32, i32), ()>(&store, "init").unwrap();
    let call = inst.get_typed_func::<i32, i32>(&store, "call").unwrap();
    fill.call(&mut store, (998, 2)).unwrap();
    assert_eq!(call.call(&mut store, 999).unwrap(), 42);
    assert_eq!(trap_code(fill.call(&mut store, (999, 2))), TrapCode::TableOutOfBounds);
    assert_eq!(trap_code(fill.call(&mut store, (1, -1))), TrapCode::TableOutOfBounds);
    copy.call(&mut store, (0, 998, 2)).unwrap();
    assert_eq!(call.call(&mut store, 1).unwrap(), 42);
    assert_eq!(trap_code(copy.call(&mut store, (999, 0, 2))), TrapCode::TableOutOfBounds);
    assert_eq!(trap_code(copy.call(&mut store, (0, 999, 2))), TrapCode::TableOutOfBounds);
    init.call(&mut store, (996, 0, 4)).unwrap();
    init.call(&mut store, (1000, 4, 0)).unwrap();
    assert_eq!(trap_code(init.call(&mut store, (997, 0, 4))), TrapCode::TableOutOfBounds);
    assert_eq!(trap_code(init.call(&mut store, (0, 1, -1))), TrapCode::TableOutOfBounds);
    assert_eq!(trap_code(call.call(&mut store, 1000)), TrapCode::TableOutOfBounds);
    let t = inst.get_table(&store, "t").unwrap();
    assert!(t.get(&store, 999).is_some());
    assert!(t.get(&store, 1000).is_none());
    assert!(t.set(&mut store, 1000, Val::FuncRef(None)).is_err());
    limit_error(t.grow(&mut store, 1, Val::FuncRef(None)), "max_table_elements");
}

const EXPORTS_FUNC_WAT: &str = r#"(module
  (func (export "f") (result i32) (i32.const 7))
  (table (export "t") 2 funcref)
  (global (export "g") (mut funcref) (ref.null func))
  (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0))))"#;

#[test]
fn references_never_move_between_stores() {
    let _serial = serial();
    let e = engine(Config::new());
    let module = Module::new(&e, EXPORTS_FUNC_WAT).unwrap();
    let mut a = Store::new(&e, ());
    let ia = Instance::new(&mut a, &module, &[]).unwrap();
    let fa = ia.get_func(&a, "f").unwrap();
    let mut b = Store::new(&e, ());
    let ib = Instance::new(&mut b, &module, &[]).unwrap();
    let table = ib.get_table(&b, "t").unwrap();
    let global = ib.get_global(&b, "g").unwrap();
    let foreign = Val::FuncRef(Some(fa));
    let usage = |r: Result<(), Error>, what: &str| match r {
        Err(Error::Usage(m)) => assert!(m.contains("another store"), "{what}: {m}"),
        other => panic!("{what}: expected a usage error, got {other:?}"),
    };
    usage(table.set(&mut b, 0, foreign), "Table::set");
    usage(table.grow(&mut b, 1, foreign).map(drop), "Table::grow");
    usage(global.set(&mut b, foreign), "Global::set");
    let funcref_table =
        TableType { element: ValType::FuncRef, limits: Limits { min: 1, max: None } };
    usage(Table::new(&mut b, funcref_table, foreign).map(drop), "Table::new");
    let funcref_global = GlobalType { content: ValType::FuncRef, mutable: true };
    usage(Global::new(&mut b, funcref_global, foreign).map(drop), "Global::new");
    let call_b = ib.get_func(&b, "call").unwrap();
    let mut out = [Val::I32(0)];
    assert!(call_b.call(&mut b, &[foreign], &mut out).is_err());

    // A host function of store b that returns a function of store a.
    let leak = Func::new(&mut b, FuncType::new(vec![], vec![ValType::FuncRef]), move |_, _, r| {
        r[0] = Val::FuncRef(Some(fa));
        Ok(())
    });
    let importer = Module::new(
        &e,
        r#"(module (import "h" "leak" (func $leak (result funcref)))
             (table 1 funcref)
             (func (export "go") (result i32)
               (table.set (i32.const 0) (call $leak))
               (call_indirect (result i32) (i32.const 0))))"#,
    )
    .unwrap();
    let ii = Instance::new(&mut b, &importer, &[leak.into()]).unwrap();
    let go = ii.get_typed_func::<(), i32>(&b, "go").unwrap();
    let err = go.call(&mut b, ()).unwrap_err();
    assert_eq!(err.as_trap().map(|t| t.code), Some(TrapCode::HostError), "{err}");
    assert!(err.to_string().contains("another store"), "{err}");

    // Store b is unharmed, with or without store a.
    drop(a);
    let own = ib.get_func(&b, "f").unwrap();
    table.set(&mut b, 0, Val::FuncRef(Some(own))).unwrap();
    call_b.call(&mut b, &[Val::I32(0)], &mut out).unwrap();
    assert_eq!(out[0], Val::I32(7));
}

#[test]
fn limits_hold_for_all_memories_and_tables_of_a_store() {
    let _serial = serial();
    let e = engine(Config::new());
    let many_memories: String = (0..10).map(|i| format!("(memory $m{i} 1)")).collect();
    let module = Module::new(
        &e,
        format!(
            r#"(module {many_memories}
              (func (export "grow") (param i32 i32) (result i32)
                (if (result i32) (local.get 0)
                  (then (memory.grow $m1 (local.get 1)))
                  (else (memory.grow $m0 (local.get 1))))))"#
        ),
    )
    .unwrap();
    let mut store = Store::new(&e, ());
    store.set_limits(StoreLimits { max_memory_bytes: 16 * MIB, ..StoreLimits::default() });
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = inst.get_typed_func::<(i32, i32), i32>(&store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, (0, 200)).unwrap(), 1);
    // 210 pages in use; 100 more would pass 16 MiB in all.
    assert_eq!(grow.call(&mut store, (1, 100)).unwrap(), -1);
    assert_eq!(grow.call(&mut store, (1, 46)).unwrap(), 1);

    // 100 memories of 16 MiB each under a 16 MiB limit: refused up front.
    let big: String = (0..100).map(|i| format!("(memory $m{i} 256)")).collect();
    let module = Module::new(&e, format!("(module {big})")).unwrap();
    let mut store = Store::new(&e, ());
    store.set_limits(StoreLimits { max_memory_bytes: 16 * MIB, ..StoreLimits::default() });
    limit_error(Instance::new(&mut store, &module, &[]), "max_total_memory_bytes");

    // 100 tables of 10,000 elements under a 10,000-element limit.
    let tables: String = (0..100).map(|_| "(table 10000 funcref)".to_string()).collect();
    let module = Module::new(&e, format!("(module {tables})")).unwrap();
    let mut store = Store::new(&e, ());
    store.set_limits(StoreLimits { max_table_elements: 10_000, ..StoreLimits::default() });
    limit_error(Instance::new(&mut store, &module, &[]), "max_total_table_elements");
    // With the default limits, 20,000 large tables are refused too.
    let tables: String = (0..20_000).map(|_| "(table 1000 funcref)".to_string()).collect();
    let module = Module::new(&e, format!("(module {tables})")).unwrap();
    let mut store = Store::new(&e, ());
    limit_error(Instance::new(&mut store, &module, &[]), "max_tables");

    // Counts of instances, memories and tables.
    let small = Module::new(&e, "(module (memory 1) (table 1 funcref))").unwrap();
    let mut store = Store::new(&e, ());
    store.set_limits(StoreLimits { max_instances: 3, ..StoreLimits::default() });
    for _ in 0..3 {
        Instance::new(&mut store, &small, &[]).unwrap();
    }
    limit_error(Instance::new(&mut store, &small, &[]), "max_instances");
    let mut store = Store::new(&e, ());
    store.set_limits(StoreLimits { max_memories: 2, max_tables: 5, ..StoreLimits::default() });
    Instance::new(&mut store, &small, &[]).unwrap();
    Instance::new(&mut store, &small, &[]).unwrap();
    limit_error(Instance::new(&mut store, &small, &[]), "max_memories");
    let ty = scion::MemoryType { limits: Limits { min: 1, max: None }, shared: false };
    limit_error(scion::Memory::new(&mut store, ty), "max_memories");
}

#[test]
fn a_trap_after_a_refused_grow_names_the_limit() {
    let _serial = serial();
    let e = engine(Config::new());
    let module = Module::new(
        &e,
        r#"(module (memory 1)
             (func (export "alloc") (param i32)
               (if (i32.eq (memory.grow (local.get 0)) (i32.const -1)) (then unreachable))))"#,
    )
    .unwrap();
    let mut store = Store::new(&e, ());
    store.set_limits(StoreLimits { max_memory_bytes: 16 * MIB, ..StoreLimits::default() });
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let alloc = inst.get_typed_func::<i32, ()>(&store, "alloc").unwrap();
    let err = alloc.call(&mut store, 1000).unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.as_trap().unwrap().code, TrapCode::Unreachable);
    assert!(msg.contains("max_memory_bytes") && msg.contains("1000 pages"), "{msg}");
    // A later call that does not hit the limit carries no such note.
    alloc.call(&mut store, 1).unwrap();
    let err = alloc.call(&mut store, 70000).unwrap_err();
    assert!(err.to_string().contains("70000 pages"), "{err}");
}

fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps").unwrap().lines().count()
}

fn address_space() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmSize:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

#[test]
fn failed_instantiations_give_everything_back() {
    let _serial = serial();
    let e = engine(Config::new());
    let failing = [
        // A data segment out of bounds (after the memory was created).
        "(module (memory 1) (data (i32.const 65535) \"ab\"))",
        // A start function that traps.
        "(module (memory 1) (table 10 funcref) (func $s unreachable) (start $s))",
        // An element segment out of bounds.
        "(module (memory 1) (table 1 funcref) (func $f) (elem (i32.const 1) $f))",
        // A table over the limit, after a memory was created.
        "(module (memory 1) (table 2000 funcref))",
    ];
    let modules: Vec<Module> = failing.iter().map(|w| Module::new(&e, w).unwrap()).collect();
    let mut store = Store::new(&e, ());
    store.set_limits(StoreLimits { max_table_elements: 1000, ..StoreLimits::default() });
    let ok = Module::new(&e, "(module (memory 1) (func (export \"f\") (result i32) i32.const 1))")
        .unwrap();
    Instance::new(&mut store, &ok, &[]).unwrap();
    let (maps, space) = (mappings(), address_space());
    for round in 0..250 {
        for (m, w) in modules.iter().zip(failing) {
            assert!(Instance::new(&mut store, m, &[]).is_err(), "round {round}: {w}");
        }
    }
    // A leak adds mappings per failure (there were 1,000); allow only for
    // what the allocator and the sanitizer may map meanwhile.
    assert!(mappings() <= maps + 64, "mappings {maps} -> {}", mappings());
    assert!(address_space() <= space + GIB4 * 2, "address space {space} -> {}", address_space());
    // The store still works, and the failures did not use up its limits.
    let inst = Instance::new(&mut store, &ok, &[]).unwrap();
    let f = inst.get_typed_func::<(), i32>(&store, "f").unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 1);
}

#[test]
fn dropped_modules_give_their_signatures_back() {
    let _serial = serial();
    let e = engine(Config::new());
    let before = e.registered_types();
    for m in 0..40u32 {
        // 2,000 distinct signatures per module, different in each module.
        let types: String = (0..2000u32)
            .map(|i| {
                let n = m * 2000 + i;
                let params: String =
                    (0..17).map(|b| if n >> b & 1 == 1 { " i64" } else { " i32" }).collect();
                format!("(type (func (param{params})))")
            })
            .collect();
        let module = Module::new(&e, format!("(module {types})")).unwrap();
        let mut store = Store::new(&e, ());
        Instance::new(&mut store, &module, &[]).unwrap();
        assert!(e.registered_types() >= before + 2000);
    }
    assert_eq!(e.registered_types(), before);
}

#[test]
fn table_init_costs_what_it_copies() {
    let _serial = serial();
    // table.init of zero elements from a 1,000,000-element segment, many
    // times: each call must cost O(1), not a copy of the segment.
    let items: String = (0..1_000_000).map(|_| "$f ").collect();
    let wat = format!(
        r#"(module (table 1 funcref) (elem $e func {items}) (func $f)
             (func (export "spin") (param i32)
               (loop $l
                 (table.init 0 $e (i32.const 0) (i32.const 999999) (i32.const 0))
                 (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))"#
    );
    let e = engine(Config::new().consume_fuel(true).interruptible(true));
    let module = Module::new(&e, wat).unwrap();
    let mut store = Store::new(&e, ());
    store.set_fuel(u64::MAX / 2).unwrap();
    // Copying the segment each time takes minutes; in place, milliseconds.
    store.set_timeout(Some(Duration::from_secs(30))).unwrap();
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = inst.get_typed_func::<i32, ()>(&store, "spin").unwrap();
    spin.call(&mut store, 200_000).unwrap();
}

#[test]
fn a_deadline_lands_inside_a_long_memory_copy() {
    let _serial = serial();
    let e = engine(Config::new().interruptible(true));
    let module = Module::new(
        &e,
        r#"(module (memory 65536)
             (func (export "copy") (memory.copy (i32.const 0) (i32.const 0x80000000) (i32.const 0x80000000)))
             (func (export "fill") (memory.fill (i32.const 0) (i32.const 1) (i32.const 0xffffffff))))"#,
    )
    .unwrap();
    let mut store = Store::new(&e, ());
    store.set_timeout(Some(Duration::from_millis(10))).unwrap();
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    for name in ["copy", "fill"] {
        let f = inst.get_typed_func::<(), ()>(&store, name).unwrap();
        assert_eq!(trap_code(f.call(&mut store, ())), TrapCode::Interrupted, "{name}");
    }
}

#[test]
fn a_huge_timeout_means_no_deadline() {
    let _serial = serial();
    let e = engine(Config::new().interruptible(true));
    let module =
        Module::new(&e, r#"(module (func (export "f") (result i32) i32.const 3))"#).unwrap();
    let mut store = Store::new(&e, ());
    store.set_timeout(Some(Duration::from_secs(u64::MAX))).unwrap();
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let f = inst.get_typed_func::<(), i32>(&store, "f").unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 3);
}

/// Runs `body` on a 256 KiB stack of its own (with a guard page below),
/// switched to with `swapcontext`, as coroutine libraries do.
fn on_coroutine_stack(body: Box<dyn FnOnce()>) {
    const SIZE: usize = 256 * 1024;
    const GUARD: usize = 4096;
    thread_local!(static BODY: std::cell::RefCell<Option<Box<dyn FnOnce()>>> = const { std::cell::RefCell::new(None) });
    extern "C" fn trampoline() {
        let body = BODY.with(|b| b.borrow_mut().take()).unwrap();
        // No unwinding may leave a context entry function.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).is_err() {
            BODY.with(|b| *b.borrow_mut() = Some(Box::new(|| panic!("the coroutine panicked"))));
        }
    }
    BODY.with(|b| *b.borrow_mut() = Some(body));
    // SAFETY: a fresh private mapping used only as the coroutine's stack;
    // both contexts live on this frame until the coroutine has returned.
    unsafe {
        let base = libc::mmap(
            std::ptr::null_mut(),
            SIZE + GUARD,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(base, libc::MAP_FAILED);
        libc::mprotect(base, GUARD, libc::PROT_NONE);
        let mut main: libc::ucontext_t = std::mem::zeroed();
        let mut co: libc::ucontext_t = std::mem::zeroed();
        assert_eq!(libc::getcontext(&mut co), 0);
        co.uc_stack.ss_sp = (base as *mut u8).add(GUARD) as *mut _;
        co.uc_stack.ss_size = SIZE;
        co.uc_link = &mut main;
        libc::makecontext(&mut co, trampoline, 0);
        assert_eq!(libc::swapcontext(&mut main, &co), 0);
        libc::munmap(base, SIZE + GUARD);
    }
    if let Some(panicked) = BODY.with(|b| b.borrow_mut().take()) {
        panicked();
    }
}

const RECURSE_WAT: &str = r#"(module
  (func $r (export "r") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (i32.add (call $r (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))
      (else (i32.const 0)))))"#;

#[test]
fn recursion_on_a_coroutine_stack_traps_before_leaving_it() {
    let _serial = serial();
    let e = engine(Config::new());
    let module = Module::new(&e, RECURSE_WAT).unwrap();
    let result = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let out = result.clone();
    on_coroutine_stack(Box::new(move || {
        let mut store = Store::new(&e, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let r = inst.get_typed_func::<i32, i32>(&store, "r").unwrap();
        // Found from the mapping, then declared by the host.
        out.lock().unwrap().push(r.call(&mut store, 10_000_000).map_err(|e| e.to_string()));
        out.lock().unwrap().push(r.call(&mut store, 100).map_err(|e| e.to_string()));
        let marker = 0u8;
        let sp = &marker as *const u8 as usize;
        // SAFETY: the coroutine's stack is the 256 KiB mapping below the
        // marker (and a little above it); nothing else uses it.
        let declared = unsafe {
            scion::with_native_stack(sp - 200 * 1024..sp + 1024, || r.call(&mut store, 10_000_000))
        };
        out.lock().unwrap().push(declared.map_err(|e| e.to_string()));
    }));
    let result = result.lock().unwrap();
    assert_eq!(result.len(), 3);
    assert!(
        result[0].as_ref().is_err_and(|e| e.contains("call stack exhausted")),
        "{:?}",
        result[0]
    );
    assert_eq!(result[1], Ok(100));
    assert!(
        result[2].as_ref().is_err_and(|e| e.contains("call stack exhausted")),
        "{:?}",
        result[2]
    );
}

/// A plugin's DWARF is the plugin's too: a garbled line table (huge file
/// indices, broken opcodes) must neither stop the module from compiling
/// nor make the compiler allocate what it says.
#[test]
fn garbled_dwarf_line_tables_are_ignored_or_bounded() {
    let _g = serial();
    let wasm = std::fs::read(env!("SCION_GUEST_ANALYZER_DEBUGINFO")).unwrap();
    let mut line = None;
    for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
        if let wasmparser::Payload::CustomSection(c) = payload.unwrap()
            && c.name() == ".debug_line"
        {
            let at = c.data_offset() as usize;
            line = Some(at..at + c.data().len());
        }
    }
    let line = line.expect("the debug build has a .debug_line section");
    let engine = engine(Config::new());
    // DW_LNS_set_file (4) operands turned into a file index of 2^35 - 1,
    // then flips spread over the section.
    let set_file: Vec<usize> =
        (line.start..line.end - 6).filter(|&i| wasm[i] == 4).take(12).collect();
    let mut cases: Vec<Vec<u8>> = set_file
        .iter()
        .map(|&i| {
            let mut w = wasm.clone();
            w[i + 1..i + 6].copy_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x7f]);
            w
        })
        .collect();
    for k in 1..=12usize {
        let mut w = wasm.clone();
        let at = line.start + (line.len() * k / 13);
        w[at] ^= 0xff;
        w[at + 1] = 0xff;
        cases.push(w);
    }
    for w in &cases {
        let module = Module::new(&engine, w).expect("garbled DWARF does not make a module invalid");
        let mut store = Store::new(&engine, ());
        // The plugin still runs (its SDK glue needs imports; instantiating
        // is enough to show the artifact loads).
        let _ = Instance::new(&mut store, &module, &[]);
    }
}

/// Every SIMD memory form at the 4 GiB end: an access of `width` bytes at
/// `4 GiB - width` works, one byte later it traps (and a trapping store
/// writes nothing); static offsets that carry past 32 bits trap.
#[test]
fn vector_accesses_at_the_4gib_end() {
    let _serial = serial();
    // (name, width, body over the address in local 0, returning an i64)
    let loads: &[(&str, u64, &str)] = &[
        ("load", 16, "(i64x2.extract_lane 1 (v128.load (local.get 0)))"),
        ("load8x8_s", 8, "(i64x2.extract_lane 1 (v128.load8x8_s (local.get 0)))"),
        ("load16x4_u", 8, "(i64x2.extract_lane 1 (v128.load16x4_u (local.get 0)))"),
        ("load32x2_s", 8, "(i64x2.extract_lane 1 (v128.load32x2_s (local.get 0)))"),
        ("load32_zero", 4, "(i64x2.extract_lane 0 (v128.load32_zero (local.get 0)))"),
        ("load64_zero", 8, "(i64x2.extract_lane 0 (v128.load64_zero (local.get 0)))"),
        ("load8_splat", 1, "(i64x2.extract_lane 1 (v128.load8_splat (local.get 0)))"),
        ("load16_splat", 2, "(i64x2.extract_lane 1 (v128.load16_splat (local.get 0)))"),
        ("load32_splat", 4, "(i64x2.extract_lane 1 (v128.load32_splat (local.get 0)))"),
        ("load64_splat", 8, "(i64x2.extract_lane 1 (v128.load64_splat (local.get 0)))"),
        (
            "load8_lane",
            1,
            "(i64x2.extract_lane 1 (v128.load8_lane 15 (local.get 0) (v128.const i64x2 0 0)))",
        ),
        (
            "load16_lane",
            2,
            "(i64x2.extract_lane 1 (v128.load16_lane 7 (local.get 0) (v128.const i64x2 0 0)))",
        ),
        (
            "load32_lane",
            4,
            "(i64x2.extract_lane 1 (v128.load32_lane 3 (local.get 0) (v128.const i64x2 0 0)))",
        ),
        (
            "load64_lane",
            8,
            "(i64x2.extract_lane 1 (v128.load64_lane 1 (local.get 0) (v128.const i64x2 0 0)))",
        ),
    ];
    let stores: &[(&str, u64, &str)] = &[
        ("store", 16, "v128.store"),
        ("store8_lane", 1, "v128.store8_lane 0"),
        ("store16_lane", 2, "v128.store16_lane 0"),
        ("store32_lane", 4, "v128.store32_lane 0"),
        ("store64_lane", 8, "v128.store64_lane 0"),
    ];
    let mut wat = String::from("(module (memory (export \"mem\") 65536)\n");
    for (name, _, body) in loads {
        wat += &format!("(func (export \"{name}\") (param i32) (result i64) {body})\n");
    }
    for (name, _, op) in stores {
        wat += &format!(
            "(func (export \"{name}\") (param i32) ({op} (local.get 0) (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)))\n"
        );
    }
    wat += "(func (export \"load_off\") (param i32) (result i64) (i64x2.extract_lane 0 (v128.load offset=0xfffffff0 (local.get 0))))\n";
    wat += "(func (export \"store_off\") (param i32) (v128.store offset=0xfffffff8 (local.get 0) (v128.const i64x2 -1 -1))))";
    let e = engine(Config::new());
    let module = Module::new(&e, &wat).unwrap();
    let mut store = Store::new(&e, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let mem = inst.get_memory(&store, "mem").unwrap();
    assert_eq!(mem.data_size(&store) as u64, GIB4);
    let end = |back: u64| (GIB4 - back) as u32 as i32;
    // One byte later (a one-byte access cannot start past the end: 4 GiB
    // is 0 as an i32; -1, its last byte, is in bounds).
    for &(name, width, _) in stores {
        let f = inst.get_typed_func::<i32, ()>(&store, name).unwrap();
        f.call(&mut store, end(width)).unwrap();
        let tail = &mem.data(&store)[(GIB4 - width) as usize..];
        assert_eq!(tail, &(1..=width as u8).collect::<Vec<_>>()[..], "{name}");
        mem.data_mut(&mut store)[(GIB4 - 16) as usize..].fill(0xEE);
        if width > 1 {
            for at in [end(width - 1), -1] {
                assert_eq!(
                    trap_code(f.call(&mut store, at)),
                    TrapCode::MemoryOutOfBounds,
                    "{name}"
                );
            }
        }
        assert!(
            mem.data(&store)[(GIB4 - 16) as usize..].iter().all(|&b| b == 0xEE),
            "{name} wrote before trapping"
        );
    }
    mem.data_mut(&mut store)[(GIB4 - 16) as usize..].copy_from_slice(&[0x80; 16]);
    for &(name, width, _) in loads {
        let f = inst.get_typed_func::<i32, i64>(&store, name).unwrap();
        let v = f.call(&mut store, end(width)).unwrap();
        assert_ne!(v, 0, "{name} read nothing");
        if width > 1 {
            for at in [end(width - 1), -1] {
                assert_eq!(
                    trap_code(f.call(&mut store, at)),
                    TrapCode::MemoryOutOfBounds,
                    "{name}"
                );
            }
        }
    }
    let load_off = inst.get_typed_func::<i32, i64>(&store, "load_off").unwrap();
    assert_eq!(load_off.call(&mut store, 0).unwrap(), 0x8080_8080_8080_8080u64 as i64);
    assert_eq!(trap_code(load_off.call(&mut store, 1)), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_code(load_off.call(&mut store, 0x10)), TrapCode::MemoryOutOfBounds);
    let store_off = inst.get_typed_func::<i32, ()>(&store, "store_off").unwrap();
    assert_eq!(trap_code(store_off.call(&mut store, 0)), TrapCode::MemoryOutOfBounds);
}
