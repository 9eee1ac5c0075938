//! End-to-end tests of the foundation: WAT -> .so on disk -> load -> run.

use scion::{
    Config, Engine, Error, Global, GlobalType, Instance, Module, Store, TrapCode, Val, ValType,
};

fn engine() -> Engine {
    let dir = std::env::temp_dir().join(format!("scion-test-cache-{}", std::process::id()));
    Engine::new(Config::new().cache_dir(dir)).unwrap()
}

fn instantiate(engine: &Engine, wat: &str) -> (Store<()>, Instance) {
    let module = Module::new(engine, wat).unwrap();
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn trap_code(r: Result<impl std::fmt::Debug, Error>) -> TrapCode {
    match r {
        Err(Error::Trap(t)) => t.code,
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn add() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"#,
    );
    let add = inst.get_typed_func::<(i32, i32), i32>(&store, "add").unwrap();
    assert_eq!(add.call(&mut store, (1, 2)).unwrap(), 3);
    assert_eq!(add.call(&mut store, (i32::MAX, 1)).unwrap(), i32::MIN);
}

const FIB: &str = r#"
(module
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2))))))))
"#;

#[test]
fn recursive_fib() {
    let e = engine();
    let (mut store, inst) = instantiate(&e, FIB);
    let fib = inst.get_typed_func::<i32, i32>(&store, "fib").unwrap();
    assert_eq!(fib.call(&mut store, 30).unwrap(), 832040);
}

#[test]
fn loop_sums_data_segment() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module
          (memory 1)
          (data (i32.const 100) "\01\02\03\04\05\06\07\08\09\0a\ff")
          (func (export "sum") (param $p i32) (param $n i32) (result i32) (local $s i32)
            (block $done
              (loop $l
                (br_if $done (i32.eqz (local.get $n)))
                (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $l)))
            (local.get $s)))"#,
    );
    let sum = inst.get_typed_func::<(i32, i32), i32>(&store, "sum").unwrap();
    assert_eq!(sum.call(&mut store, (100, 11)).unwrap(), 55 + 255);
    assert_eq!(sum.call(&mut store, (100, 0)).unwrap(), 0);
}

#[test]
fn store_load_round_trip_every_width() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module (memory 1)
          (func (export "i32") (param i32) (result i32) (i32.store (i32.const 8) (local.get 0)) (i32.load (i32.const 8)))
          (func (export "i64") (param i64) (result i64) (i64.store (i32.const 16) (local.get 0)) (i64.load (i32.const 16)))
          (func (export "i32_8s") (param i32) (result i32) (i32.store8 (i32.const 1) (local.get 0)) (i32.load8_s (i32.const 1)))
          (func (export "i32_8u") (param i32) (result i32) (i32.store8 (i32.const 1) (local.get 0)) (i32.load8_u (i32.const 1)))
          (func (export "i32_16s") (param i32) (result i32) (i32.store16 (i32.const 2) (local.get 0)) (i32.load16_s (i32.const 2)))
          (func (export "i32_16u") (param i32) (result i32) (i32.store16 (i32.const 2) (local.get 0)) (i32.load16_u (i32.const 2)))
          (func (export "i64_8s") (param i64) (result i64) (i64.store8 (i32.const 3) (local.get 0)) (i64.load8_s (i32.const 3)))
          (func (export "i64_8u") (param i64) (result i64) (i64.store8 (i32.const 3) (local.get 0)) (i64.load8_u (i32.const 3)))
          (func (export "i64_16s") (param i64) (result i64) (i64.store16 (i32.const 4) (local.get 0)) (i64.load16_s (i32.const 4)))
          (func (export "i64_16u") (param i64) (result i64) (i64.store16 (i32.const 4) (local.get 0)) (i64.load16_u (i32.const 4)))
          (func (export "i64_32s") (param i64) (result i64) (i64.store32 (i32.const 24) (local.get 0)) (i64.load32_s (i32.const 24)))
          (func (export "i64_32u") (param i64) (result i64) (i64.store32 (i32.const 24) (local.get 0)) (i64.load32_u (i32.const 24)))
          (func (export "f32") (param f32) (result f32) (f32.store (i32.const 32) (local.get 0)) (f32.load (i32.const 32)))
          (func (export "f64") (param f64) (result f64) (f64.store (i32.const 40) (local.get 0)) (f64.load (i32.const 40)))
          (func (export "unaligned") (param i64) (result i64) (i64.store (i32.const 65527) (local.get 0)) (i64.load offset=1 (i32.const 65526))))"#,
    );
    let f32s = |s: &mut Store<()>, n, v| {
        inst.get_typed_func::<i32, i32>(&*s, n).unwrap().call(s, v).unwrap()
    };
    assert_eq!(f32s(&mut store, "i32", -123456789), -123456789);
    assert_eq!(f32s(&mut store, "i32_8s", 0x1ff), -1);
    assert_eq!(f32s(&mut store, "i32_8u", 0x1ff), 0xff);
    assert_eq!(f32s(&mut store, "i32_16s", 0x18000), -32768);
    assert_eq!(f32s(&mut store, "i32_16u", 0x18000), 0x8000);
    let f64s = |s: &mut Store<()>, n, v| {
        inst.get_typed_func::<i64, i64>(&*s, n).unwrap().call(s, v).unwrap()
    };
    assert_eq!(f64s(&mut store, "i64", 0x0123_4567_89ab_cdef), 0x0123_4567_89ab_cdef);
    assert_eq!(f64s(&mut store, "i64_8s", 0x80), -128);
    assert_eq!(f64s(&mut store, "i64_8u", 0x80), 128);
    assert_eq!(f64s(&mut store, "i64_16s", 0xffff), -1);
    assert_eq!(f64s(&mut store, "i64_16u", 0xffff), 0xffff);
    assert_eq!(f64s(&mut store, "i64_32s", 0xffff_ffff), -1);
    assert_eq!(f64s(&mut store, "i64_32u", 0xffff_ffff), 0xffff_ffff);
    assert_eq!(f64s(&mut store, "unaligned", -2), -2);
    let f = inst.get_typed_func::<f32, f32>(&store, "f32").unwrap();
    assert_eq!(f.call(&mut store, 1.5).unwrap(), 1.5);
    let f = inst.get_typed_func::<f64, f64>(&store, "f64").unwrap();
    assert_eq!(f.call(&mut store, -2.25e300).unwrap(), -2.25e300);
}

#[test]
fn out_of_bounds_load_traps_and_fresh_instance_works() {
    let e = engine();
    let wat = r#"(module (memory 1)
        (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
        (func (export "load_off") (param i32) (result i32) (i32.load offset=4294967295 (local.get 0))))"#;
    let (mut store, inst) = instantiate(&e, wat);
    let load = inst.get_typed_func::<i32, i32>(&store, "load").unwrap();
    assert_eq!(load.call(&mut store, 65532).unwrap(), 0);
    let err = load.call(&mut store, 65533).unwrap_err();
    let trap = err.as_trap().expect("a trap");
    assert_eq!(trap.code, TrapCode::MemoryOutOfBounds);
    assert!(trap.wasm_offset.is_some() && trap.func_index == Some(0), "{trap}");
    assert_eq!(trap_code(load.call(&mut store, -1)), TrapCode::MemoryOutOfBounds);
    let load_off = inst.get_typed_func::<i32, i32>(&store, "load_off").unwrap();
    assert_eq!(trap_code(load_off.call(&mut store, 0)), TrapCode::MemoryOutOfBounds);
    let (mut store2, inst2) = instantiate(&e, wat);
    let load2 = inst2.get_typed_func::<i32, i32>(&store2, "load").unwrap();
    assert_eq!(load2.call(&mut store2, 0).unwrap(), 0);
    // The trapped instance keeps working too.
    assert_eq!(load.call(&mut store, 4).unwrap(), 0);
}

/// Regression: a bounds check against one memory was taken as covering the
/// same address in another memory of the same block (multi-memory), and
/// the second access read outside the sandbox.
#[test]
fn each_memory_is_checked_separately() {
    let e = engine();
    let wat = r#"(module (memory $a 2) (memory $b 1)
        (func (export "f") (param i32) (result i32)
          (i32.add (i32.load $a (local.get 0)) (i32.load8_u $b (local.get 0))))
        (func (export "g") (param i32) (result i32)
          (i32.store8 $b (local.get 0) (i32.const 1))
          (i32.load $a (local.get 0))))"#;
    let (mut store, inst) = instantiate(&e, wat);
    let f = inst.get_typed_func::<i32, i32>(&store, "f").unwrap();
    assert_eq!(f.call(&mut store, 65535).unwrap(), 0);
    assert_eq!(trap_code(f.call(&mut store, 65536)), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_code(f.call(&mut store, 70000)), TrapCode::MemoryOutOfBounds);
    let g = inst.get_typed_func::<i32, i32>(&store, "g").unwrap();
    assert_eq!(trap_code(g.call(&mut store, 65536)), TrapCode::MemoryOutOfBounds);
}

/// Large data segments are mapped copy-on-write from a memory image: the
/// contents equal segment-by-segment copying (later segments overwrite
/// earlier ones), and instances of one module never see each other's
/// writes.
#[test]
fn large_data_segments_are_private_per_instance() {
    let e = engine();
    let wat = |extra: &str| {
        format!(
            r#"(module (memory 2 3)
            (data (i32.const 10) "{}")
            (data (i32.const 20) "\02\03")
            (data (i32.const 131071) "\04")
            {extra}
            (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
            (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
            (func (export "grow") (result i32) (memory.grow (i32.const 1))))"#,
            "\\01".repeat(40_000)
        )
    };
    let module = Module::new(&e, wat("").as_str()).unwrap();
    let mut store = Store::new(&e, ());
    let a = Instance::new(&mut store, &module, &[]).unwrap();
    let b = Instance::new(&mut store, &module, &[]).unwrap();
    let load = |s: &mut Store<()>, i: &Instance, at: i32| {
        i.get_typed_func::<i32, i32>(&*s, "load").unwrap().call(s, at).unwrap()
    };
    for inst in [&a, &b] {
        for (at, want) in [(9, 0), (10, 1), (20, 2), (21, 3), (22, 1), (40_009, 1), (40_010, 0)] {
            assert_eq!(load(&mut store, inst, at), want, "byte {at}");
        }
        assert_eq!(load(&mut store, inst, 131_071), 4);
    }
    // The first instantiation copies; later ones map the image.
    b.get_typed_func::<(i32, i32), ()>(&store, "store")
        .unwrap()
        .call(&mut store, (10, 99))
        .unwrap();
    assert_eq!(load(&mut store, &b, 10), 99);
    assert_eq!(load(&mut store, &a, 10), 1, "a write leaked into another instance");
    assert_eq!(
        b.get_typed_func::<(), i32>(&store, "grow").unwrap().call(&mut store, ()).unwrap(),
        2
    );
    assert_eq!(load(&mut store, &b, 131_072 + 5), 0);
    drop(store);
    let mut store = Store::new(&e, ());
    let c = Instance::new(&mut store, &module, &[]).unwrap();
    assert_eq!(load(&mut store, &c, 10), 1, "a write leaked into the module's image");

    // A segment past the end: no image; instantiation traps.
    let bad = Module::new(&e, wat(r#"(data (i32.const 131072) "\05")"#).as_str()).unwrap();
    let mut store = Store::new(&e, ());
    let r = Instance::new(&mut store, &bad, &[]);
    assert_eq!(trap_code(r.map(|_| ())), TrapCode::MemoryOutOfBounds);
}

#[test]
fn division_traps() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module
          (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
          (func (export "rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
          (func (export "div_u") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
          (func (export "div_s64") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1)))
          (func (export "rem_s64") (param i64 i64) (result i64) (i64.rem_s (local.get 0) (local.get 1))))"#,
    );
    let div_s = inst.get_typed_func::<(i32, i32), i32>(&store, "div_s").unwrap();
    assert_eq!(div_s.call(&mut store, (-7, 2)).unwrap(), -3);
    assert_eq!(trap_code(div_s.call(&mut store, (1, 0))), TrapCode::IntegerDivisionByZero);
    assert_eq!(trap_code(div_s.call(&mut store, (i32::MIN, -1))), TrapCode::IntegerOverflow);
    let rem_s = inst.get_typed_func::<(i32, i32), i32>(&store, "rem_s").unwrap();
    assert_eq!(rem_s.call(&mut store, (i32::MIN, -1)).unwrap(), 0);
    assert_eq!(rem_s.call(&mut store, (-7, 2)).unwrap(), -1);
    assert_eq!(trap_code(rem_s.call(&mut store, (1, 0))), TrapCode::IntegerDivisionByZero);
    let div_u = inst.get_typed_func::<(i32, i32), i32>(&store, "div_u").unwrap();
    assert_eq!(div_u.call(&mut store, (-1, 2)).unwrap(), 0x7fff_ffff);
    let div_s64 = inst.get_typed_func::<(i64, i64), i64>(&store, "div_s64").unwrap();
    assert_eq!(trap_code(div_s64.call(&mut store, (i64::MIN, -1))), TrapCode::IntegerOverflow);
    let rem_s64 = inst.get_typed_func::<(i64, i64), i64>(&store, "rem_s64").unwrap();
    assert_eq!(rem_s64.call(&mut store, (i64::MIN, -1)).unwrap(), 0);
}

#[test]
fn unbounded_recursion_traps_stack_overflow() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module (func $f (export "f") (param i32) (result i32) (i32.add (call $f (local.get 0)) (i32.const 1))))"#,
    );
    let f = inst.get_typed_func::<i32, i32>(&store, "f").unwrap();
    let err = f.call(&mut store, 0).unwrap_err();
    assert_eq!(err.as_trap().unwrap().code, TrapCode::StackOverflow);
    // And again: the store is usable after an overflow.
    assert_eq!(trap_code(f.call(&mut store, 0)), TrapCode::StackOverflow);
}

#[test]
fn globals_br_table_and_memory_grow() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module (memory 1 3)
          (global $g (mut i64) (i64.const 40))
          (func (export "bump") (result i64) (global.set $g (i64.add (global.get $g) (i64.const 2))) (global.get $g))
          (func (export "classify") (param i32) (result i32)
            (block $c (block $b (block $a (br_table $a $b $c (local.get 0))) (return (i32.const 10))) (return (i32.const 20)))
            (i32.const 30))
          (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
          (func (export "size") (result i32) (memory.size)))"#,
    );
    let bump = inst.get_typed_func::<(), i64>(&store, "bump").unwrap();
    assert_eq!(bump.call(&mut store, ()).unwrap(), 42);
    assert_eq!(bump.call(&mut store, ()).unwrap(), 44);
    let classify = inst.get_typed_func::<i32, i32>(&store, "classify").unwrap();
    let got: Vec<i32> =
        [0, 1, 2, 3, -1].iter().map(|&i| classify.call(&mut store, i).unwrap()).collect();
    assert_eq!(got, [10, 20, 30, 30, 30]);
    let grow = inst.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    let size = inst.get_typed_func::<(), i32>(&store, "size").unwrap();
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    assert_eq!(size.call(&mut store, ()).unwrap(), 2);
    assert_eq!(grow.call(&mut store, 2).unwrap(), -1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), 2);
    assert_eq!(size.call(&mut store, ()).unwrap(), 3);
}

#[test]
fn unreachable_traps() {
    let e = engine();
    let (mut store, inst) = instantiate(&e, r#"(module (func (export "u") unreachable))"#);
    let u = inst.get_typed_func::<(), ()>(&store, "u").unwrap();
    assert_eq!(trap_code(u.call(&mut store, ())), TrapCode::Unreachable);
}

/// Regression (differential seed 1544): the entry trampoline copied stack
/// results through rax while rax still held a register result.
#[test]
fn many_results_mixing_registers_and_stack() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module
          (func (export "g") (result f32 f64 f64 f32 i32) f32.const 1 f64.const 2 f64.const 3 f32.const 4 i32.const 5)
          (func (export "h") (result i64 i64 i64 i32 i64) i64.const 1 i64.const 2 i64.const 3 i32.const 4 i64.const 5)
          (func $m (result i32 i64 f32 f64 i32 i64 f32 f64)
            i32.const 1 i64.const 2 f32.const 3 f64.const 4 i32.const 5 i64.const 6 f32.const 7 f64.const 8)
          (func (export "sum") (result f64)
            (local i32 i64 f32 f64 i32 i64 f32 f64)
            call $m
            local.set 7 local.set 6 local.set 5 local.set 4 local.set 3 local.set 2 local.set 1 local.set 0
            (f64.add (f64.convert_i32_s (i32.add (local.get 0) (local.get 4)))
              (f64.add (f64.convert_i64_s (i64.add (local.get 1) (local.get 5)))
                (f64.add (f64.promote_f32 (f32.add (local.get 2) (local.get 6)))
                  (f64.add (local.get 3) (local.get 7)))))))"#,
    );
    let g = inst.get_typed_func::<(), (f32, f64, f64, f32, i32)>(&store, "g").unwrap();
    assert_eq!(g.call(&mut store, ()).unwrap(), (1.0, 2.0, 3.0, 4.0, 5));
    let h = inst.get_typed_func::<(), (i64, i64, i64, i32, i64)>(&store, "h").unwrap();
    assert_eq!(h.call(&mut store, ()).unwrap(), (1, 2, 3, 4, 5));
    let sum = inst.get_typed_func::<(), f64>(&store, "sum").unwrap();
    assert_eq!(sum.call(&mut store, ()).unwrap(), 36.0);
}

/// v128 globals keep all 16 bytes: from a constant initializer, from
/// `global.get` of an imported global, through the host API and through
/// wasm reads and writes (instantiation once wrote only the low 8).
#[test]
fn v128_globals_keep_all_sixteen_bytes() {
    let wat = r#"(module
        (import "host" "g" (global $g v128))
        (global $a (export "a") v128 (v128.const i64x2 0x1111222233334444 0x5555666677778888))
        (global $b (export "b") (mut v128) (global.get $g))
        (func (export "flip")
            (global.set $b (v128.not (global.get $b))))
        (func (export "high") (result i64)
            (i64x2.extract_lane 1 (global.get $b))))"#;
    let engine = Engine::default();
    let module = Module::new(&engine, wat::parse_str(wat).unwrap()).unwrap();
    let mut store = Store::new(&engine, ());
    let both = 0x5555_6666_7777_8888_1111_2222_3333_4444u128;
    let ty = GlobalType { content: ValType::V128, mutable: false };
    let host = Global::new(&mut store, ty, Val::V128(!both)).unwrap();
    assert_eq!(host.get(&store), Val::V128(!both));
    let inst = Instance::new(&mut store, &module, &[host.into()]).unwrap();
    let a = inst.get_global(&store, "a").unwrap();
    let b = inst.get_global(&store, "b").unwrap();
    assert_eq!(a.get(&store), Val::V128(both));
    assert_eq!(b.get(&store), Val::V128(!both));
    let high = inst.get_typed_func::<(), i64>(&store, "high").unwrap();
    assert_eq!(high.call(&mut store, ()).unwrap(), !0x5555_6666_7777_8888u64 as i64);
    inst.get_typed_func::<(), ()>(&store, "flip").unwrap().call(&mut store, ()).unwrap();
    assert_eq!(b.get(&store), Val::V128(both));
    b.set(&mut store, Val::V128(7 << 100)).unwrap();
    assert_eq!(high.call(&mut store, ()).unwrap(), 7 << 36);
}
