//! Pooled memory reservations (`runtime/pool.rs`, `runtime/reservation.rs`):
//! an instance whose memory reuses a dropped one's reservation reads
//! exactly what a fresh instance reads, limits hold on reused
//! reservations, the pool keeps no more than configured, and engines,
//! stores and threads do not interfere.
//!
//! Each test checks that the reservation really was reused (same base
//! address), so that it exercises the reset rather than a fresh mapping.

use scion::{
    Config, Engine, Instance, Limits, Module, Store, StoreLimits, Table, TableType, Val, ValType,
};
use std::path::Path;

const PAGE: usize = 65536;
/// Bytes of the data segment: above the 16 KiB from which a memory gets a
/// copy-on-write image, mapped from the artifact.
const DATA_LEN: usize = 20_000;

fn engine(config: Config) -> Engine {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scion-pool-cache");
    Engine::new(config.cache_dir(cache)).unwrap()
}

/// The data segment's bytes: never zero, different per `seed`.
fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i % 251 + seed as usize) % 255 + 1) as u8).collect()
}

/// A module with a 2-page memory (maximum 8) whose first `DATA_LEN` bytes
/// are `pattern(seed)` (none when `seed` is `None`), a mutable global
/// initialised to 7, a 4-element table with element 0 set, and functions
/// to dirty all of it.
fn probe_wat(seed: Option<u8>) -> String {
    let data = match seed {
        Some(seed) => {
            let hex: String =
                pattern(seed, DATA_LEN).iter().map(|b| format!("\\{b:02x}")).collect();
            format!(r#"(data (i32.const 0) "{hex}")"#)
        }
        None => String::new(),
    };
    format!(
        r#"(module
             (memory (export "mem") 2 8)
             (global $g (export "g") (mut i64) (i64.const 7))
             (table $t (export "t") 4 funcref)
             (elem (i32.const 0) $f)
             (func $f (result i32) (i32.const 42))
             {data}
             ;; Fills every byte of the memory with 0xAB.
             (func (export "fill")
               (memory.fill (i32.const 0) (i32.const 0xAB)
                 (i32.mul (memory.size) (i32.const 65536))))
             (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
             (func (export "dirty_rest")
               (global.set $g (i64.const -1))
               (table.set $t (i32.const 1) (ref.func $f))
               (table.set $t (i32.const 3) (ref.func $f)))
             (func (export "is_null") (param i32) (result i32)
               (ref.is_null (table.get $t (local.get 0)))))"#
    )
}

/// What the memory of a fresh instance of `probe_wat(seed)` holds.
fn fresh_memory(seed: Option<u8>, pages: usize) -> Vec<u8> {
    let mut m = vec![0; pages * PAGE];
    if let Some(seed) = seed {
        m[..DATA_LEN].copy_from_slice(&pattern(seed, DATA_LEN));
    }
    m
}

/// Instantiates `module` in a new store, checks that it reads as fresh,
/// then dirties everything it can (memory grown by 3 pages and filled,
/// global and table elements set). Returns the memory's base address.
fn check_then_dirty(engine: &Engine, module: &Module, seed: Option<u8>) -> usize {
    let mut store = Store::new(engine, ());
    let inst = Instance::new(&mut store, module, &[]).unwrap();
    let mem = inst.get_memory(&store, "mem").unwrap();
    let base = mem.data(&store).as_ptr() as usize;
    assert_eq!(mem.size(&store), 2, "initial size");
    assert!(mem.data(&store) == &fresh_memory(seed, 2)[..], "memory is not fresh");
    let g = inst.get_global(&store, "g").unwrap();
    assert!(matches!(g.get(&store), Val::I64(7)), "global is not fresh");
    let is_null = inst.get_typed_func::<u32, u32>(&store, "is_null").unwrap();
    let nulls: Vec<u32> = (0..4).map(|i| is_null.call(&mut store, i).unwrap()).collect();
    assert_eq!(nulls, [0, 1, 1, 1], "table is not fresh");
    // Pages beyond the initial size read as zeros once grown again.
    let grow = inst.get_typed_func::<u32, i32>(&store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 3).unwrap(), 2);
    assert!(mem.data(&store)[2 * PAGE..].iter().all(|&b| b == 0), "grown pages are not zero");
    inst.get_typed_func::<(), ()>(&store, "fill").unwrap().call(&mut store, ()).unwrap();
    inst.get_typed_func::<(), ()>(&store, "dirty_rest").unwrap().call(&mut store, ()).unwrap();
    assert!(mem.data(&store).iter().all(|&b| b == 0xAB));
    base
}

#[test]
fn reused_memory_reads_as_new() {
    let e = engine(Config::new());
    for seed in [Some(0), None] {
        let module = Module::new(&e, probe_wat(seed)).unwrap();
        // The first instantiation copies the segment; from the second on
        // the image is mapped, then kept mapped in the pooled reservation.
        let bases: Vec<usize> = (0..4).map(|_| check_then_dirty(&e, &module, seed)).collect();
        assert!(bases.windows(2).all(|w| w[0] == w[1]), "reservation not reused: {bases:x?}");
        assert_eq!(e.pooled_memories(), 1);
    }
}

#[test]
fn another_modules_image_never_shows() {
    let e = engine(Config::new().pool_max_idle_memories(1));
    let a = Module::new(&e, probe_wat(Some(10))).unwrap();
    let b = Module::new(&e, probe_wat(Some(90))).unwrap();
    let none = Module::new(&e, probe_wat(None)).unwrap();
    // With one idle reservation, each instance takes the previous one's.
    let mut bases = Vec::new();
    for (module, seed) in [
        (&a, Some(10)),
        (&a, Some(10)),
        (&none, None),
        (&a, Some(10)),
        (&b, Some(90)),
        (&b, Some(90)),
        (&a, Some(10)),
        (&none, None),
    ] {
        bases.push(check_then_dirty(&e, module, seed));
    }
    assert!(bases.windows(2).all(|w| w[0] == w[1]), "reservation not reused: {bases:x?}");
}

#[test]
fn limits_hold_on_reused_reservations() {
    let e = engine(Config::new().pool_max_idle_memories(1));
    let wat = r#"(module (memory (export "mem") 1)
                   (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;
    let module = Module::new(&e, wat).unwrap();
    // A memory without a maximum reserves 4 GiB under the default limits;
    // that reservation goes to the pool.
    let base = {
        let mut store = Store::new(&e, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let grow = inst.get_typed_func::<u32, i32>(&store, "grow").unwrap();
        assert_eq!(grow.call(&mut store, 100).unwrap(), 1);
        let mem = inst.get_memory(&store, "mem").unwrap();
        mem.data_mut(&mut store).fill(0xCD);
        mem.data(&store).as_ptr()
    };
    // A store limited to 4 pages gets it, and still stops at 4 pages.
    let mut store = Store::new(&e, ());
    store.set_limits(StoreLimits { max_memory_bytes: 4 * PAGE as u64, ..Default::default() });
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let mem = inst.get_memory(&store, "mem").unwrap();
    assert_eq!(mem.data(&store).as_ptr(), base, "reservation not reused");
    assert_eq!(mem.size(&store), 1);
    let grow = inst.get_typed_func::<u32, i32>(&store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 3).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    assert_eq!(mem.size(&store), 4);
    assert!(mem.data(&store).iter().all(|&b| b == 0));
    drop(store);
    // A declared maximum holds too.
    let capped = Module::new(
        &e,
        wat.replace("(memory (export \"mem\") 1)", "(memory (export \"mem\") 1 2)"),
    )
    .unwrap();
    let mut store = Store::new(&e, ());
    let inst = Instance::new(&mut store, &capped, &[]).unwrap();
    let mem = inst.get_memory(&store, "mem").unwrap();
    assert_eq!(mem.data(&store).as_ptr(), base, "reservation not reused");
    let grow = inst.get_typed_func::<u32, i32>(&store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 2).unwrap(), -1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
}

#[test]
fn pool_keeps_at_most_its_bounds() {
    let e = engine(Config::new().pool_max_idle_memories(3));
    let module = Module::new(&e, probe_wat(Some(1))).unwrap();
    // More live instances than idle slots: each gets a reservation.
    let mut stores = Vec::new();
    for _ in 0..10 {
        let mut store = Store::new(&e, ());
        Instance::new(&mut store, &module, &[]).unwrap();
        stores.push(store);
    }
    assert_eq!(e.pooled_memories(), 0);
    drop(stores);
    assert_eq!(e.pooled_memories(), 3);
    for _ in 0..5 {
        check_then_dirty(&e, &module, Some(1));
    }
    assert_eq!(e.pooled_memories(), 3);

    // Reservations above the size bound are unmapped, not kept.
    let e = engine(Config::new().pool_max_memory_reservation(8 * PAGE as u64));
    let small = Module::new(&e, probe_wat(None)).unwrap();
    check_then_dirty(&e, &small, None);
    assert_eq!(e.pooled_memories(), 1, "an 8-page reservation is kept");
    let big = Module::new(&e, "(module (memory 1))").unwrap();
    let mut store = Store::new(&e, ());
    Instance::new(&mut store, &big, &[]).unwrap();
    assert_eq!(e.pooled_memories(), 1, "the 8-page reservation is too small for it");
    drop(store);
    assert_eq!(e.pooled_memories(), 1, "a 4 GiB reservation is not kept");

    // Without pooling nothing is kept, and everything works the same.
    let e = engine(Config::new().pooling(false));
    let module = Module::new(&e, probe_wat(Some(3))).unwrap();
    for _ in 0..3 {
        check_then_dirty(&e, &module, Some(3));
    }
    assert_eq!(e.pooled_memories(), 0);
}

#[test]
fn failed_instantiation_gives_its_memory_back() {
    let e = engine(Config::new());
    // The element segment is out of bounds: instantiation traps after the
    // memory was created.
    let wat = probe_wat(Some(5)).replace("(elem (i32.const 0) $f)", "(elem (i32.const 4) $f)");
    let bad = Module::new(&e, wat).unwrap();
    for _ in 0..3 {
        let mut store = Store::new(&e, ());
        assert!(Instance::new(&mut store, &bad, &[]).is_err());
        assert_eq!(e.pooled_memories(), 1, "the failed instance's memory is pooled");
    }
    let good = Module::new(&e, probe_wat(Some(5))).unwrap();
    for _ in 0..3 {
        check_then_dirty(&e, &good, Some(5));
    }
}

#[test]
fn failed_instantiation_that_stays_reachable_shows_no_data() {
    // Two segments write a function into the imported table at 0 and 1.
    // With a 1-element table the second traps before data initialisation,
    // but the instance stays reachable through element 0: its memory must
    // not show the data segment, even when its pooled reservation (from
    // the successful instantiation before) still maps the module's image.
    let e = engine(Config::new());
    let data: String = pattern(0, DATA_LEN).iter().map(|b| format!("\\{b:02x}")).collect();
    let wat = format!(
        r#"(module
             (import "host" "t" (table 1 funcref))
             (memory 1)
             (func $peek (result i32) (i32.load8_u (i32.const 100)))
             (elem (table 0) (i32.const 0) func $peek)
             (elem (table 0) (i32.const 1) func $peek)
             (data (i32.const 0) "{data}"))"#
    );
    let module = Module::new(&e, &wat).unwrap();
    let peek_through = |size: u64| {
        let mut store = Store::new(&e, ());
        let ty = TableType { element: ValType::FuncRef, limits: Limits { min: size, max: None } };
        let table = Table::new(&mut store, ty, Val::FuncRef(None)).unwrap();
        let ok = Instance::new(&mut store, &module, &[table.into()]).is_ok();
        let Some(Val::FuncRef(Some(peek))) = table.get(&store, 0) else {
            panic!("the first segment was not applied")
        };
        let peek = peek.typed::<(), u32>(&store).unwrap();
        (ok, peek.call(&mut store, ()).unwrap())
    };
    for round in 0..4 {
        assert_eq!(peek_through(2), (true, pattern(0, DATA_LEN)[100] as u32), "round {round}");
        assert_eq!(peek_through(1), (false, 0), "round {round}: data shows");
    }
}

#[test]
fn fuel_and_engines_are_separate() {
    let metered = engine(Config::new().consume_fuel(true));
    let plain = engine(Config::new());
    let wat = r#"(module (memory (export "mem") 1)
                   (func (export "burn") (local i32)
                     (loop (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                           (br_if 0 (i32.lt_u (local.get 0) (i32.const 1000))))))"#;
    let m1 = Module::new(&metered, wat).unwrap();
    let m2 = Module::new(&plain, wat).unwrap();
    for _ in 0..3 {
        let mut s1 = Store::new(&metered, ());
        assert_eq!(s1.get_fuel().unwrap(), 0, "a new store starts without fuel");
        s1.set_fuel(1_000_000).unwrap();
        let i1 = Instance::new(&mut s1, &m1, &[]).unwrap();
        i1.get_typed_func::<(), ()>(&s1, "burn").unwrap().call(&mut s1, ()).unwrap();
        assert!(s1.get_fuel().unwrap() < 1_000_000);
        let mut s2 = Store::new(&plain, ());
        let i2 = Instance::new(&mut s2, &m2, &[]).unwrap();
        i2.get_memory(&s2, "mem").unwrap().data_mut(&mut s2).fill(9);
        let mem1 = i1.get_memory(&s1, "mem").unwrap();
        assert!(mem1.data(&s1).iter().all(|&b| b == 0));
        mem1.data_mut(&mut s1).fill(3);
    }
    // Each engine keeps its own stores' reservations.
    assert_eq!(metered.pooled_memories(), 1);
    assert_eq!(plain.pooled_memories(), 1);
}

#[test]
fn two_threads_instantiate_at_once() {
    let e = engine(Config::new());
    let modules =
        [Module::new(&e, probe_wat(Some(20))).unwrap(), Module::new(&e, probe_wat(None)).unwrap()];
    std::thread::scope(|scope| {
        for (t, module) in modules.iter().enumerate() {
            let e = &e;
            scope.spawn(move || {
                let seed = [Some(20), None][t];
                for _ in 0..200 {
                    check_then_dirty(e, module, seed);
                }
            });
        }
    });
    assert!(e.pooled_memories() <= 2);
}

/// Images are mapped from the artifact file itself: a memory written all
/// over (through the image's pages) leaves the file byte for byte as it
/// was, the next instance reads the image again, and the mapping names
/// the artifact (so no other file is needed per module).
#[test]
fn writes_to_an_image_never_reach_the_artifact() {
    let engine = engine(Config::new().pooling(false));
    let module = Module::new(&engine, probe_wat(Some(41))).unwrap();
    let path = module.artifact_path();
    let before = std::fs::read(&path).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let base = inst.get_memory(&store, "mem").unwrap().data(&store).as_ptr() as usize;
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let line = maps
        .lines()
        .find(|l| usize::from_str_radix(l.split('-').next().unwrap(), 16).unwrap() == base)
        .expect("the memory's first page is mapped");
    assert!(line.ends_with(path.file_name().unwrap().to_str().unwrap()), "{line}");
    check_then_dirty_again(&mut store, &inst);
    drop(store);
    assert!(std::fs::read(&path).unwrap() == before, "the artifact changed");
    check_then_dirty(&engine, &module, Some(41));
}

fn check_then_dirty_again(store: &mut Store<()>, inst: &Instance) {
    let mem = inst.get_memory(&*store, "mem").unwrap();
    assert!(mem.data(&*store) == &fresh_memory(Some(41), 2)[..]);
    inst.get_typed_func::<(), ()>(&*store, "fill").unwrap().call(&mut *store, ()).unwrap();
    assert!(mem.data(&*store).iter().all(|&b| b == 0xAB));
}

/// An image that starts past a page of zeros (as Rust programs' data does,
/// after their stack) maps only from its first page: below it and after
/// it the memory reads zeros, in a fresh reservation and in a reused one
/// that another instance wrote all over.
#[test]
fn an_image_after_zeros_reads_as_new() {
    let at = 70_001;
    let hex: String = pattern(9, DATA_LEN).iter().map(|b| format!("\\{b:02x}")).collect();
    let wat = format!(
        r#"(module (memory (export "mem") 2)
             (data (i32.const {at}) "{hex}")
             (func (export "fill") (memory.fill (i32.const 0) (i32.const 0xCD) (i32.const 131072))))"#
    );
    let engine = engine(Config::new());
    let module = Module::new(&engine, wat).unwrap();
    let mut expected = vec![0u8; 2 * PAGE];
    expected[at..at + DATA_LEN].copy_from_slice(&pattern(9, DATA_LEN));
    let mut bases = Vec::new();
    for _ in 0..3 {
        let mut store = Store::new(&engine, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let mem = inst.get_memory(&store, "mem").unwrap();
        bases.push(mem.data(&store).as_ptr() as usize);
        assert!(mem.data(&store) == &expected[..], "memory is not fresh");
        inst.get_typed_func::<(), ()>(&store, "fill").unwrap().call(&mut store, ()).unwrap();
        assert!(mem.data(&store).iter().all(|&b| b == 0xCD));
    }
    assert_eq!(bases[1], bases[0], "the reservation was not reused");
}
