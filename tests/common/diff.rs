//! Running one generated module in Scion and in Wasmtime and comparing.

use arbitrary::Unstructured;
use scion::{Extern, Instance, Module, Store, TrapCode, Val};

/// What happened to one seed.
pub enum DiffOutcome {
    /// Both engines agreed on every call and the final state.
    Agree {
        /// Export calls compared.
        calls: usize,
        /// Of those, calls that trapped.
        traps: usize,
        /// Bytes of memory compared.
        memory_bytes: usize,
    },
    /// The generator produced nothing usable for this seed.
    Skipped(String),
    /// The engines disagreed.
    Diverge {
        /// The module.
        wasm: Vec<u8>,
        /// The first difference.
        what: String,
    },
}

/// A value both engines can report.
#[derive(Clone, Debug, PartialEq)]
pub enum DVal {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    /// A reference: only null-ness is comparable across engines.
    Ref(bool),
}

/// Engine-neutral trap kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DTrap {
    Unreachable,
    MemoryOutOfBounds,
    TableOutOfBounds,
    IndirectCallToNull,
    BadSignature,
    DivisionByZero,
    IntegerOverflow,
    BadConversion,
    StackOverflow,
    OutOfFuel,
    Other,
}

pub type CallResult = Result<Vec<DVal>, DTrap>;

/// Resource limits applied identically to both engines, so that growth
/// fails at the same point in each.
pub const MAX_MEMORY_BYTES: u64 = 1 << 24;
/// See [`MAX_MEMORY_BYTES`].
pub const MAX_TABLE_ELEMENTS: u64 = 100_000;

/// Everything observable about running a module.
#[derive(Debug, PartialEq)]
pub struct Run {
    /// Instantiation trap, if any.
    pub instantiation: Option<DTrap>,
    /// Per exported function, in export order.
    pub calls: Vec<(String, CallResult)>,
    /// Final contents of exported memories.
    pub memories: Vec<(String, Vec<u8>)>,
    /// Final values of exported globals.
    pub globals: Vec<(String, DVal)>,
    /// Fuel consumed by each call, when metering.
    pub fuel: Vec<u64>,
}

/// Fuel given to metered runs: enough never to run out.
pub const FUEL: u64 = 1 << 40;

/// The wasm-smith configuration: WebAssembly 2.0 without SIMD, bounded so
/// that thousands of modules run quickly. With `avoid_traps`, generated
/// code guards its traps, so executions run deeper. With `multi_memory`,
/// up to three memories (a 3.0 feature Scion supports, where bounds checks
/// must not be confused between memories).
pub fn smith_config(avoid_traps: bool, multi_memory: bool) -> wasm_smith::Config {
    wasm_smith::Config {
        disallow_traps: avoid_traps,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        exceptions_enabled: false,
        threads_enabled: false,
        tail_call_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        reference_types_enabled: true,
        bulk_memory_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        extended_const_enabled: true,
        max_imports: 0,
        max_memories: if multi_memory { 3 } else { 1 },
        max_tables: 3,
        max_funcs: 12,
        max_instructions: 300,
        max_memory32_bytes: 4 << 16,
        memory_max_size_required: true,
        max_table_elements: 200,
        max_data_segments: 4,
        max_element_segments: 4,
        export_everything: true,
        canonicalize_nans: true,
        allow_start_export: true,
        min_types: 1,
        min_funcs: 2,
        ..Default::default()
    }
}

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The module for `seed`, instrumented to terminate. Odd seeds avoid traps;
/// one seed in four may have several memories.
pub fn generate(seed: u64) -> Option<Vec<u8>> {
    let mut rng = SplitMix(seed);
    let bytes: Vec<u8> = (0..2048).flat_map(|_| rng.next().to_le_bytes()).collect();
    let mut u = Unstructured::new(&bytes);
    let config = smith_config(seed % 2 == 1, seed % 8 >= 6);
    let mut module = wasm_smith::Module::new(config, &mut u).ok()?;
    module.ensure_termination(1000).ok()?;
    Some(module.to_bytes())
}

fn scion_trap(code: TrapCode) -> DTrap {
    match code {
        TrapCode::Unreachable => DTrap::Unreachable,
        TrapCode::MemoryOutOfBounds => DTrap::MemoryOutOfBounds,
        TrapCode::TableOutOfBounds => DTrap::TableOutOfBounds,
        TrapCode::IndirectCallToNull => DTrap::IndirectCallToNull,
        TrapCode::BadSignature => DTrap::BadSignature,
        TrapCode::IntegerDivisionByZero => DTrap::DivisionByZero,
        TrapCode::IntegerOverflow => DTrap::IntegerOverflow,
        TrapCode::BadConversionToInteger => DTrap::BadConversion,
        TrapCode::StackOverflow => DTrap::StackOverflow,
        TrapCode::OutOfFuel => DTrap::OutOfFuel,
        _ => DTrap::Other,
    }
}

fn wasmtime_trap(e: &wasmtime::Error) -> DTrap {
    use wasmtime::Trap as T;
    match e.downcast_ref::<T>() {
        Some(T::UnreachableCodeReached) => DTrap::Unreachable,
        Some(T::MemoryOutOfBounds) => DTrap::MemoryOutOfBounds,
        Some(T::TableOutOfBounds) => DTrap::TableOutOfBounds,
        Some(T::IndirectCallToNull) => DTrap::IndirectCallToNull,
        Some(T::BadSignature) => DTrap::BadSignature,
        Some(T::IntegerDivisionByZero) => DTrap::DivisionByZero,
        Some(T::IntegerOverflow) => DTrap::IntegerOverflow,
        Some(T::BadConversionToInteger) => DTrap::BadConversion,
        Some(T::StackOverflow) => DTrap::StackOverflow,
        Some(T::OutOfFuel) => DTrap::OutOfFuel,
        _ => DTrap::Other,
    }
}

fn scion_val(v: &Val) -> DVal {
    match *v {
        Val::I32(x) => DVal::I32(x),
        Val::I64(x) => DVal::I64(x),
        Val::F32(b) => DVal::F32(b),
        Val::F64(b) => DVal::F64(b),
        Val::FuncRef(f) => DVal::Ref(f.is_some()),
        Val::ExternRef(r) => DVal::Ref(r.is_some()),
    }
}

fn wasmtime_val(v: &wasmtime::Val) -> DVal {
    match v {
        wasmtime::Val::I32(x) => DVal::I32(*x),
        wasmtime::Val::I64(x) => DVal::I64(*x),
        wasmtime::Val::F32(b) => DVal::F32(*b),
        wasmtime::Val::F64(b) => DVal::F64(*b),
        wasmtime::Val::FuncRef(f) => DVal::Ref(f.is_some()),
        wasmtime::Val::ExternRef(r) => DVal::Ref(r.is_some()),
        _ => DVal::Ref(true),
    }
}

/// Runs a module in Scion (metering fuel when the engine does).
pub fn run_scion(engine: &scion::Engine, wasm: &[u8]) -> Result<Run, String> {
    let module = Module::new(engine, wasm).map_err(|e| format!("scion rejects: {e}"))?;
    let mut store = Store::new(engine, ());
    let metered = engine.config().consume_fuel;
    if metered {
        store.set_fuel(FUEL).unwrap();
    }
    store.set_limits(scion::StoreLimits {
        max_memory_bytes: MAX_MEMORY_BYTES,
        max_table_elements: MAX_TABLE_ELEMENTS,
    });
    let mut run =
        Run { instantiation: None, calls: vec![], memories: vec![], globals: vec![], fuel: vec![] };
    let instance = match Instance::new(&mut store, &module, &[]) {
        Ok(i) => i,
        Err(scion::Error::Trap(t)) => {
            run.instantiation = Some(scion_trap(t.code));
            return Ok(run);
        }
        Err(e) => return Err(format!("scion instantiation: {e}")),
    };
    for (name, ext) in instance.exports(&store) {
        if let Extern::Func(f) = ext {
            let ty = f.ty(&store);
            let args: Vec<Val> = ty.params.iter().map(|&t| Val::default_for(t)).collect();
            let mut results: Vec<Val> = ty.results.iter().map(|&t| Val::default_for(t)).collect();
            let before = if metered { store.get_fuel().unwrap() } else { 0 };
            let r = match f.call(&mut store, &args, &mut results) {
                Ok(()) => Ok(results.iter().map(scion_val).collect()),
                Err(scion::Error::Trap(t)) => Err(scion_trap(t.code)),
                Err(e) => return Err(format!("scion call {name}: {e}")),
            };
            if metered {
                run.fuel.push(before - store.get_fuel().unwrap());
            }
            let overflow = r == Err(DTrap::StackOverflow);
            run.calls.push((name, r));
            if overflow {
                // Stack depths differ between engines; state after an
                // overflow is not comparable.
                return Ok(run);
            }
        }
    }
    for (name, ext) in instance.exports(&store) {
        match ext {
            Extern::Memory(m) => run.memories.push((name, m.data(&store).to_vec())),
            Extern::Global(g) => run.globals.push((name, scion_val(&g.get(&store)))),
            _ => {}
        }
    }
    Ok(run)
}

/// Wasmtime configured for the same feature set, metering fuel or not.
pub fn wasmtime_engine_with(fuel: bool) -> wasmtime::Engine {
    let mut c = wasmtime::Config::new();
    c.wasm_simd(false).wasm_relaxed_simd(false).wasm_multi_memory(true).consume_fuel(fuel);
    wasmtime::Engine::new(&c).expect("wasmtime engine")
}

/// Wasmtime configured for the same feature set.
pub fn wasmtime_engine() -> wasmtime::Engine {
    wasmtime_engine_with(false)
}

/// Runs a module in Wasmtime (metering fuel when the engine does).
pub fn run_wasmtime(engine: &wasmtime::Engine, wasm: &[u8]) -> Result<Run, String> {
    let module =
        wasmtime::Module::new(engine, wasm).map_err(|e| format!("wasmtime rejects: {e:?}"))?;
    let limits = wasmtime::StoreLimitsBuilder::new()
        .memory_size(MAX_MEMORY_BYTES as usize)
        .table_elements(MAX_TABLE_ELEMENTS as usize)
        .build();
    let mut store = wasmtime::Store::new(engine, limits);
    store.limiter(|l| l);
    let metered = store.set_fuel(FUEL).is_ok();
    let mut run =
        Run { instantiation: None, calls: vec![], memories: vec![], globals: vec![], fuel: vec![] };
    let instance = match wasmtime::Instance::new(&mut store, &module, &[]) {
        Ok(i) => i,
        Err(e) => {
            run.instantiation = Some(wasmtime_trap(&e));
            return Ok(run);
        }
    };
    let exports: Vec<(String, wasmtime::Extern)> =
        instance.exports(&mut store).map(|e| (e.name().to_string(), e.into_extern())).collect();
    for (name, ext) in &exports {
        if let wasmtime::Extern::Func(f) = ext {
            let ty = f.ty(&store);
            let args: Vec<wasmtime::Val> =
                ty.params().map(|t| wasmtime::Val::default_for_ty(&t).unwrap()).collect();
            let mut results: Vec<wasmtime::Val> =
                ty.results().map(|t| wasmtime::Val::default_for_ty(&t).unwrap()).collect();
            let before = if metered { store.get_fuel().unwrap() } else { 0 };
            let r = match f.call(&mut store, &args, &mut results) {
                Ok(()) => Ok(results.iter().map(wasmtime_val).collect()),
                Err(e) => Err(wasmtime_trap(&e)),
            };
            if metered {
                run.fuel.push(before - store.get_fuel().unwrap());
            }
            let overflow = r == Err(DTrap::StackOverflow);
            run.calls.push((name.clone(), r));
            if overflow {
                return Ok(run);
            }
        }
    }
    for (name, ext) in &exports {
        match ext {
            wasmtime::Extern::Memory(m) => {
                run.memories.push((name.clone(), m.data(&store).to_vec()))
            }
            wasmtime::Extern::Global(g) => {
                run.globals.push((name.clone(), wasmtime_val(&g.get(&mut store))))
            }
            _ => {}
        }
    }
    Ok(run)
}

/// The first difference between two runs.
pub fn compare(a: &Run, b: &Run) -> Option<String> {
    if a.instantiation != b.instantiation {
        return Some(format!(
            "instantiation: scion {:?}, wasmtime {:?}",
            a.instantiation, b.instantiation
        ));
    }
    for (x, y) in a.calls.iter().zip(&b.calls) {
        if x != y {
            // Stack overflow in one engine may be a deep but finite recursion
            // in the other: not a semantic difference.
            let overflow = |r: &CallResult| *r == Err(DTrap::StackOverflow);
            if overflow(&x.1) || overflow(&y.1) {
                return None;
            }
            return Some(format!("call {}: scion {:?}, wasmtime {:?}", x.0, x.1, y.1));
        }
    }
    if a.calls.len() != b.calls.len() {
        let last_overflow =
            |r: &Run| r.calls.last().is_some_and(|c| c.1 == Err(DTrap::StackOverflow));
        if last_overflow(a) || last_overflow(b) {
            return None;
        }
        return Some(format!("{} calls vs {}", a.calls.len(), b.calls.len()));
    }
    // Fuel must agree for every call that completed in both engines.
    for ((call, x), y) in a.calls.iter().zip(&a.fuel).zip(&b.fuel) {
        if call.1.is_ok() && x != y {
            return Some(format!("call {}: scion consumed {x} fuel, wasmtime {y}", call.0));
        }
    }
    if a.globals != b.globals {
        return Some(format!("globals: scion {:?}, wasmtime {:?}", a.globals, b.globals));
    }
    for (x, y) in a.memories.iter().zip(&b.memories) {
        if x.1.len() != y.1.len() {
            return Some(format!("memory {} size: {} vs {}", x.0, x.1.len(), y.1.len()));
        }
        if let Some(i) = x.1.iter().zip(&y.1).position(|(p, q)| p != q) {
            return Some(format!("memory {} differs at byte {i}: {} vs {}", x.0, x.1[i], y.1[i]));
        }
    }
    None
}

/// Generates, runs and compares one seed.
pub fn run_seed(engine: &scion::Engine, wasmtime: &wasmtime::Engine, seed: u64) -> DiffOutcome {
    let Some(wasm) = generate(seed) else {
        return DiffOutcome::Skipped("generator".into());
    };
    let theirs = match run_wasmtime(wasmtime, &wasm) {
        Ok(r) => r,
        Err(e) => return DiffOutcome::Skipped(e),
    };
    let ours = match run_scion(engine, &wasm) {
        Ok(r) => r,
        Err(what) => return DiffOutcome::Diverge { wasm, what },
    };
    match compare(&ours, &theirs) {
        None => DiffOutcome::Agree {
            calls: ours.calls.len(),
            traps: ours.calls.iter().filter(|c| c.1.is_err()).count()
                + ours.instantiation.is_some() as usize,
            memory_bytes: ours.memories.iter().map(|m| m.1.len()).sum(),
        },
        Some(what) => DiffOutcome::Diverge { wasm, what },
    }
}
