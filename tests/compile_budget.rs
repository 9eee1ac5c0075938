//! Crafted modules that used to make the compiler's memory or time grow
//! with the square of their size compile, or are refused with a
//! compile-budget error; a module over a configured budget gets an error
//! naming the limit, the function and the numbers.
//!
//! The modules are built here, byte by byte. These tests do not time
//! anything (CI machines vary); the numbers are in the commit that added
//! them, measured with `/usr/bin/time -v`.

use scion::CompileBudget;
use scion::{Config, Engine, Error, Instance, Module, Store};
use std::path::PathBuf;

// ---- a small wasm encoder ----

fn uleb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn sleb(mut n: i64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if (n == 0 && b & 0x40 == 0) || (n == -1 && b & 0x40 != 0) {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn section(id: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(id);
    uleb(payload.len() as u64, out);
    out.extend_from_slice(payload);
}

const I32: u8 = 0x7f;

/// A function: its locals (count, type) and its code without the final `end`.
struct Func {
    locals: Vec<(u32, u8)>,
    code: Vec<u8>,
}

/// A module of functions of type `(i32) -> i32`, the first exported as
/// "f", with one page of memory when `memory`.
fn module(funcs: &[Func], memory: bool) -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    section(1, &[1, 0x60, 1, I32, 1, I32], &mut m);
    let mut f = Vec::new();
    uleb(funcs.len() as u64, &mut f);
    f.extend(std::iter::repeat_n(0, funcs.len()));
    section(3, &f, &mut m);
    if memory {
        section(5, &[1, 0, 1], &mut m);
    }
    section(7, &[1, 1, b'f', 0, 0], &mut m);
    let mut code = Vec::new();
    uleb(funcs.len() as u64, &mut code);
    for func in funcs {
        let mut body = Vec::new();
        uleb(func.locals.len() as u64, &mut body);
        for &(n, t) in &func.locals {
            uleb(n as u64, &mut body);
            body.push(t);
        }
        body.extend_from_slice(&func.code);
        body.push(0x0b);
        uleb(body.len() as u64, &mut code);
        code.extend(body);
    }
    section(10, &code, &mut m);
    m
}

struct Code(Vec<u8>);

impl Code {
    fn op(&mut self, bytes: &[u8]) -> &mut Code {
        self.0.extend_from_slice(bytes);
        self
    }
    fn local_get(&mut self, i: u32) -> &mut Code {
        self.0.push(0x20);
        uleb(i as u64, &mut self.0);
        self
    }
    fn local_set(&mut self, i: u32) -> &mut Code {
        self.0.push(0x21);
        uleb(i as u64, &mut self.0);
        self
    }
    fn i32_const(&mut self, k: i32) -> &mut Code {
        self.0.push(0x41);
        sleb(k as i64, &mut self.0);
        self
    }
    fn memarg(&mut self, op: u8, offset: u32) -> &mut Code {
        self.0.extend_from_slice(&[op, 2]);
        uleb(offset as u64, &mut self.0);
        self
    }
}

const ADD: &[u8] = &[0x6a];
const DROP: &[u8] = &[0x1a];
/// `block local.get 0 br_if 0 end`: a join every 7 bytes.
const BLOCK_BR_IF: &[u8] = &[0x02, 0x40, 0x20, 0x00, 0x0d, 0x00, 0x0b];

// ---- helpers ----

fn engine(name: &str, config: Config) -> Engine {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("compile-budget-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Engine::new(config.cache_dir(&dir)).unwrap()
}

/// Compiles `wasm`: `Some(module)`, or `None` when it is refused for its
/// budget (any other error fails the test).
fn compile_or_refuse(engine: &Engine, wasm: &[u8]) -> Option<Module> {
    match Module::new(engine, wasm) {
        Ok(m) => Some(m),
        Err(Error::Compile { error, .. }) if error.budget_exceeded => {
            assert!(error.message.starts_with("compile budget exceeded"), "{}", error.message);
            None
        }
        Err(e) => panic!("neither compiled nor refused for its budget: {e}"),
    }
}

fn budget_error(engine: &Engine, wasm: &[u8]) -> String {
    match Module::new(engine, wasm) {
        Err(Error::Compile { error, .. }) => {
            assert!(error.budget_exceeded, "not a budget error: {}", error.message);
            error.message
        }
        Err(e) => panic!("expected a budget error, got {e}"),
        Ok(_) => panic!("a module over the budget compiled"),
    }
}

fn call(module: &Module, arg: i32) -> i32 {
    let mut store = Store::new(module.engine(), ());
    let instance = Instance::new(&mut store, module, &[]).unwrap();
    let f = instance.get_typed_func::<i32, i32>(&store, "f").unwrap();
    f.call(&mut store, arg).unwrap()
}

// ---- crafted modules ----

/// `n` locals set to 1..=n, `blocks` joins, then the sum of the locals.
fn locals_across_blocks(n: u32, blocks: usize) -> Vec<u8> {
    let mut c = Code(Vec::new());
    for k in 0..n {
        c.i32_const(k as i32 + 1).local_set(k + 1);
    }
    for _ in 0..blocks {
        c.op(BLOCK_BR_IF);
    }
    c.local_get(1);
    for k in 1..n {
        c.local_get(k + 1).op(ADD);
    }
    module(&[Func { locals: vec![(n, I32)], code: c.0 }], false)
}

/// `n` values `x + k` on the operand stack, `blocks` joins, then their sum.
fn stack_values_across_blocks(n: u32, blocks: usize) -> Vec<u8> {
    let mut c = Code(Vec::new());
    for k in 0..n {
        c.local_get(0).i32_const(k as i32 + 1).op(ADD);
    }
    for _ in 0..blocks {
        c.op(BLOCK_BR_IF);
    }
    for _ in 1..n {
        c.op(ADD);
    }
    module(&[Func { locals: vec![], code: c.0 }], false)
}

fn sum_of_stack_values(x: i32, n: u32) -> i32 {
    (0..n as i32).fold(0i32, |s, k| s.wrapping_add(x.wrapping_add(k + 1)))
}

#[test]
fn many_values_live_across_many_blocks() {
    let engine = engine("live", Config::new());
    // About 1 MB each: tens of thousands of values across ~100k blocks
    // (the old dense liveness needed values × blocks bits, four times).
    let wasm = locals_across_blocks(40_000, 100_000);
    assert!(wasm.len() > 1_000_000, "{}", wasm.len());
    if let Some(m) = compile_or_refuse(&engine, &wasm) {
        let n = 40_000i64;
        assert_eq!(call(&m, 0), (n * (n + 1) / 2) as i32);
    }
    let wasm = stack_values_across_blocks(20_000, 125_000);
    assert!(wasm.len() > 1_000_000, "{}", wasm.len());
    if let Some(m) = compile_or_refuse(&engine, &wasm) {
        assert_eq!(call(&m, 3), sum_of_stack_values(3, 20_000));
    }
    // Smaller versions of both fit the default budget and run right.
    let m = Module::new(&engine, locals_across_blocks(2_000, 2_000)).unwrap();
    assert_eq!(call(&m, 1), 2_000 * 2_001 / 2);
    let m = Module::new(&engine, stack_values_across_blocks(100, 2_000)).unwrap();
    assert_eq!(call(&m, -7), sum_of_stack_values(-7, 100));
}

#[test]
fn megabytes_of_loads_at_distinct_addresses() {
    let engine = engine("loads", Config::new());
    // ~2 MB of `x + k` loads (a new address value, so a new bounds check
    // and a new trap site, every time), and of loads from one address at
    // growing offsets (one growing check per load).
    let mut c = Code(Vec::new());
    let mut k = 0;
    while c.0.len() < 2_000_000 {
        c.local_get(0).i32_const((k * 4) % 60_000).op(ADD).memarg(0x28, 0).op(DROP);
        k += 1;
    }
    c.i32_const(7);
    let m = Module::new(&engine, module(&[Func { locals: vec![], code: c.0 }], true)).unwrap();
    assert_eq!(call(&m, 16), 7);
    let mut c = Code(Vec::new());
    let mut k = 0;
    while c.0.len() < 2_000_000 {
        c.local_get(0).memarg(0x28, (k * 4) % 60_000).op(DROP);
        k += 1;
    }
    c.i32_const(9);
    let m = Module::new(&engine, module(&[Func { locals: vec![], code: c.0 }], true)).unwrap();
    assert_eq!(call(&m, 4), 9);
}

#[test]
fn many_tiny_blocks_with_br_table() {
    let engine = engine("brtable", Config::new());
    // `k` nested blocks left by one br_table; after the end of block `i`
    // (innermost first), local 0 += i. Entering with x < k - 1 leaves
    // block x + 1 and runs the additions from there on.
    let k: u32 = 120_000;
    let mut c = Code(Vec::new());
    for _ in 0..k {
        c.op(&[0x02, 0x40]);
    }
    c.local_get(0).op(&[0x0e]);
    uleb(k as u64 - 1, &mut c.0);
    for d in 0..k - 1 {
        uleb(d as u64, &mut c.0);
    }
    uleb(k as u64 - 1, &mut c.0);
    for i in 1..=k {
        c.op(&[0x0b]).local_get(0).i32_const(i as i32).op(ADD).local_set(0);
    }
    c.local_get(0);
    let wasm = module(&[Func { locals: vec![], code: c.0 }], false);
    assert!(wasm.len() > 1_000_000, "{}", wasm.len());
    let m = Module::new(&engine, &wasm).unwrap();
    for x in [0, 1, 2, 1000, k as i32 - 2, k as i32 - 1, k as i32 + 5, -1] {
        // Depth `d` continues after the end of block d + 1.
        let d = if (x as u32) < k - 1 { x as u32 } else { k - 1 };
        let want = (d + 1..=k).fold(x, |s, i| s.wrapping_add(i as i32));
        assert_eq!(call(&m, x), want, "br_table index {x}");
    }
}

#[test]
fn a_loop_rotating_thousands_of_locals() {
    // Every iteration moves local i + 1 into local i (and local 1 into the
    // last): one cycle of block-parameter moves through the loop header,
    // most of them between stack slots.
    let engine = engine("rotate", Config::new());
    let n: u32 = 3_000;
    let mut c = Code(Vec::new());
    for k in 1..=n {
        c.i32_const(k as i32).local_set(k);
    }
    c.op(&[0x03, 0x40]);
    c.local_get(1).local_set(n + 1);
    for k in 1..n {
        c.local_get(k + 1).local_set(k);
    }
    c.local_get(n + 1).local_set(n);
    // x -= 1; continue while x != 0.
    c.local_get(0).i32_const(1).op(&[0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b]);
    // Weighted sum: sum of k * local_k.
    c.i32_const(0);
    for k in 1..=n {
        c.local_get(k).i32_const(k as i32).op(&[0x6c]).op(ADD);
    }
    let m = Module::new(&engine, module(&[Func { locals: vec![(n + 1, I32)], code: c.0 }], false))
        .unwrap();
    for turns in [1, 2, 7, n as i32 + 3] {
        // After `turns` iterations local k holds the value first in local
        // k + turns (cyclically).
        let want = (1..=n).fold(0i32, |s, k| {
            let v = (k - 1 + turns as u32) % n + 1;
            s.wrapping_add((k as i32).wrapping_mul(v as i32))
        });
        assert_eq!(call(&m, turns), want, "{turns} turns");
    }
}

#[test]
fn over_a_configured_budget_the_error_names_the_limit() {
    // A function body over the size limit.
    let small = locals_across_blocks(100, 500);
    let e = engine("body", Config::new().max_function_body_bytes(1_000));
    let msg = budget_error(&e, &small);
    assert!(msg.contains("max_function_body_bytes") && msg.contains("function 0"), "{msg}");
    assert!(msg.contains("allows (1000)"), "{msg}");
    // Too many locals.
    let e = engine("locals", Config::new().max_function_locals(50));
    let msg = budget_error(&e, &small);
    assert!(msg.contains("max_function_locals") && msg.contains("101 locals"), "{msg}");
    // The module's size and function count.
    let e = engine("module", Config::new().max_module_bytes(100));
    let msg = budget_error(&e, &small);
    assert!(msg.contains("max_module_bytes") && msg.contains(&small.len().to_string()), "{msg}");
    let e = engine("funcs", Config::new().max_functions(0));
    let msg = budget_error(&e, &small);
    assert!(msg.contains("max_functions") && msg.contains("1 functions"), "{msg}");
    // Memory: a 100 KB function given 1 MiB.
    let wasm = locals_across_blocks(2_000, 10_000);
    let e = engine("memory", Config::new().function_memory(8, 1 << 20, 1 << 20));
    let msg = budget_error(&e, &wasm);
    assert!(msg.contains("function_memory_per_byte") && msg.contains("function 0"), "{msg}");
    assert!(msg.contains("1.0 MiB"), "{msg}");
    // Liveness work: 300 values across 3,000 blocks is about a million
    // (register, block) pairs.
    let wasm = stack_values_across_blocks(300, 3_000);
    let e = engine("liveness", Config::new().liveness_work(1, 10_000));
    let msg = budget_error(&e, &wasm);
    assert!(msg.contains("liveness_work_per_byte") && msg.contains("function 0"), "{msg}");
    assert!(msg.contains("(register, block) pairs"), "{msg}");
    // Invalid modules are not budget errors.
    match Module::new(&e, b"\0asm\x01\0\0\0\x01") {
        Err(Error::Compile { error, .. }) => assert!(!error.budget_exceeded),
        _ => panic!("a truncated module compiled"),
    }
}

#[test]
fn the_budget_is_not_part_of_the_cache_key() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("compile-budget-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let wasm = locals_across_blocks(100, 500);
    let roomy = Engine::new(Config::new().cache_dir(&dir)).unwrap();
    let m = Module::new(&roomy, &wasm).unwrap();
    assert_eq!(call(&m, 0), 5050);
    // An engine that would refuse to compile it loads the cached artifact.
    let tight = CompileBudget { max_function_body_bytes: 10, ..CompileBudget::default() };
    let strict = Engine::new(Config::new().cache_dir(&dir).compile_budget(tight)).unwrap();
    let m = Module::new(&strict, &wasm).unwrap();
    assert_eq!(call(&m, 0), 5050);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_default_budget_accepts_real_plugins() {
    let engine = engine("real", Config::new());
    for path in [
        env!("SCION_GUEST_DEMO_PLUGIN"),
        env!("SCION_GUEST_KERNELS"),
        env!("SCION_GUEST_SDK_PLUGIN"),
        env!("SCION_GUEST_HOSTILE"),
        env!("SCION_GUEST_COUNTER"),
    ] {
        if let Err(e) = Module::from_file(&engine, path) {
            panic!("{path}: {e}");
        }
    }
}
