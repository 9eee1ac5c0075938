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
    V128(u128),
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

/// What a seed's module looks like beyond wasm-smith's randomness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Odd seeds: generated code guards its traps.
    pub avoid_traps: bool,
    /// Up to three memories.
    pub multi_memory: bool,
    /// Memories of up to 65,536 pages (the 4 GiB end, committed lazily)
    /// and tables of up to 1,000,000 elements, under limits that allow them.
    pub big: bool,
    /// Stores the module runs in side by side in Scion (each must behave
    /// as the single Wasmtime store does).
    pub stores: usize,
    /// Fixed-width SIMD operators are generated.
    pub simd: bool,
}

impl Shape {
    /// The shape of `seed`: one in four may have several memories, one in
    /// eight is big, one in eight runs in two stores, two in three use SIMD.
    pub fn of(seed: u64) -> Shape {
        Shape {
            avoid_traps: seed % 2 == 1,
            multi_memory: seed % 8 >= 6,
            big: seed % 8 == 3 || seed % 16 == 4,
            stores: if seed % 8 == 5 || seed % 16 == 4 { 2 } else { 1 },
            simd: !seed.is_multiple_of(3),
        }
    }

    /// The memory and table limits both engines apply.
    pub fn limits(self) -> (u64, u64) {
        if self.big { (1 << 32, 1_000_000) } else { (MAX_MEMORY_BYTES, MAX_TABLE_ELEMENTS) }
    }
}

/// Bytes of a memory compared in full; of larger memories, the first and
/// last this many bytes and a few pages between.
const COMPARED_WHOLE: usize = 16 << 20;

/// What is compared of a memory: its length and the bytes at some offsets.
#[derive(Debug, PartialEq)]
pub struct MemSnapshot {
    /// The memory's length in bytes.
    pub len: usize,
    /// Offsets and the bytes there.
    pub parts: Vec<(usize, Vec<u8>)>,
}

impl MemSnapshot {
    /// All of a small memory; the ends and eight pages of a large one
    /// (reading all of 4 GiB would fault in every page).
    pub fn of(data: &[u8]) -> MemSnapshot {
        let len = data.len();
        if len <= 2 * COMPARED_WHOLE {
            return MemSnapshot { len, parts: vec![(0, data.to_vec())] };
        }
        let mut parts = vec![(0, data[..COMPARED_WHOLE].to_vec())];
        let mut rng = SplitMix(len as u64);
        for _ in 0..8 {
            let at = (rng.next() as usize % (len / 65536)) * 65536;
            parts.push((at, data[at..at + 65536].to_vec()));
        }
        parts.push((len - COMPARED_WHOLE, data[len - COMPARED_WHOLE..].to_vec()));
        MemSnapshot { len, parts }
    }
}

/// Everything observable about running a module.
#[derive(Debug, Default, PartialEq)]
pub struct Run {
    /// Instantiation trap, if any.
    pub instantiation: Option<DTrap>,
    /// Per exported function, in export order.
    pub calls: Vec<(String, CallResult)>,
    /// Final contents of exported memories.
    pub memories: Vec<(String, MemSnapshot)>,
    /// Final values of exported globals.
    pub globals: Vec<(String, DVal)>,
    /// Fuel consumed by each call, when metering.
    pub fuel: Vec<u64>,
    /// Fuel consumed by instantiating in a fresh store, when metering.
    pub instantiation_fuel: Option<u64>,
}

/// Fuel given to metered runs: enough never to run out.
pub const FUEL: u64 = 1 << 40;

/// The wasm-smith configuration: WebAssembly 2.0 (with SIMD when the shape
/// says; relaxed SIMD is left out, its results differ by design), bounded so
/// that thousands of modules run quickly. With `avoid_traps`, generated
/// code guards its traps, so executions run deeper. With `multi_memory`,
/// up to three memories (a 3.0 feature Scion supports, where bounds checks
/// must not be confused between memories).
pub fn smith_config(shape: Shape) -> wasm_smith::Config {
    let Shape { avoid_traps, multi_memory, big, simd, .. } = shape;
    wasm_smith::Config {
        disallow_traps: avoid_traps,
        simd_enabled: simd,
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
        max_memory32_bytes: if big { 1 << 32 } else { 4 << 16 },
        memory_max_size_required: !big,
        max_table_elements: if big { 1_000_000 } else { 200 },
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

/// The module for `seed`, instrumented to terminate, of shape
/// [`Shape::of`]`(seed)`.
pub fn generate(seed: u64) -> Option<Vec<u8>> {
    let mut rng = SplitMix(seed);
    let bytes: Vec<u8> = (0..2048).flat_map(|_| rng.next().to_le_bytes()).collect();
    let mut u = Unstructured::new(&bytes);
    let config = smith_config(Shape::of(seed));
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
        Val::V128(b) => DVal::V128(b),
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
        wasmtime::Val::V128(b) => DVal::V128(b.as_u128()),
        wasmtime::Val::FuncRef(f) => DVal::Ref(f.is_some()),
        wasmtime::Val::ExternRef(r) => DVal::Ref(r.is_some()),
        _ => DVal::Ref(true),
    }
}

/// Runs a module in Scion (metering fuel when the engine does).
pub fn run_scion(engine: &scion::Engine, wasm: &[u8]) -> Result<Run, String> {
    run_scion_as(engine, wasm, Shape::of(0))
}

/// Runs a module in Scion in `shape.stores` stores side by side: every
/// call is made in each store in turn, and all stores must agree.
pub fn run_scion_as(engine: &scion::Engine, wasm: &[u8], shape: Shape) -> Result<Run, String> {
    let module = Module::new(engine, wasm).map_err(|e| format!("scion rejects: {e}"))?;
    let metered = engine.config().consume_fuel;
    let (memory, table) = shape.limits();
    let mut stores: Vec<Store<()>> = (0..shape.stores.max(1))
        .map(|_| {
            let mut store = Store::new(engine, ());
            if metered {
                store.set_fuel(FUEL).unwrap();
            }
            store.set_limits(scion::StoreLimits {
                max_memory_bytes: memory,
                max_table_elements: table,
                // Wasmtime's limiter has per-memory and per-table bounds only.
                max_total_memory_bytes: Some(u64::MAX),
                max_total_table_elements: Some(u64::MAX),
                ..scion::StoreLimits::default()
            });
            store
        })
        .collect();
    let mut runs: Vec<Run> = Vec::new();
    let mut instances = Vec::new();
    for store in &mut stores {
        let mut run = Run::default();
        let instantiated = Instance::new(store, &module, &[]);
        if metered {
            run.instantiation_fuel = Some(FUEL - store.get_fuel().unwrap());
        }
        match instantiated {
            Ok(i) => instances.push(Some(i)),
            Err(scion::Error::Trap(t)) => {
                run.instantiation = Some(scion_trap(t.code));
                instances.push(None);
            }
            Err(e) => return Err(format!("scion instantiation: {e}")),
        }
        runs.push(run);
    }
    let Some(first) = instances[0] else { return same_in_every_store(runs) };
    let funcs: Vec<(String, usize)> = first
        .exports(&stores[0])
        .into_iter()
        .enumerate()
        .filter(|(_, (_, e))| matches!(e, Extern::Func(_)))
        .map(|(i, (name, _))| (name, i))
        .collect();
    'calls: for (name, _) in &funcs {
        for ((store, instance), run) in stores.iter_mut().zip(&instances).zip(&mut runs) {
            let Some(instance) = instance else { continue };
            let Some(Extern::Func(f)) = instance.get_export(store, name) else { continue };
            let ty = f.ty(store);
            let args: Vec<Val> = ty.params.iter().map(|&t| Val::default_for(t)).collect();
            let mut results: Vec<Val> = ty.results.iter().map(|&t| Val::default_for(t)).collect();
            let before = if metered { store.get_fuel().unwrap() } else { 0 };
            let r = match f.call(store, &args, &mut results) {
                Ok(()) => Ok(results.iter().map(scion_val).collect()),
                Err(scion::Error::Trap(t)) => Err(scion_trap(t.code)),
                Err(e) => return Err(format!("scion call {name}: {e}")),
            };
            if metered {
                run.fuel.push(before - store.get_fuel().unwrap());
            }
            let overflow = r == Err(DTrap::StackOverflow);
            run.calls.push((name.clone(), r));
            if overflow {
                // Stack depths differ between engines; state after an
                // overflow is not comparable.
                break 'calls;
            }
        }
    }
    for ((store, instance), run) in stores.iter().zip(&instances).zip(&mut runs) {
        let Some(instance) = instance else { continue };
        for (name, ext) in instance.exports(store) {
            match ext {
                Extern::Memory(m) => run.memories.push((name, MemSnapshot::of(m.data(store)))),
                Extern::Global(g) => run.globals.push((name, scion_val(&g.get(store)))),
                _ => {}
            }
        }
    }
    same_in_every_store(runs)
}

/// The run of the first store, if every other store's run is the same.
fn same_in_every_store(mut runs: Vec<Run>) -> Result<Run, String> {
    let first = runs.remove(0);
    for (i, other) in runs.iter().enumerate() {
        let overflowed = |r: &Run| r.calls.last().is_some_and(|c| c.1 == Err(DTrap::StackOverflow));
        if overflowed(&first) || overflowed(other) {
            continue;
        }
        if let Some(what) = compare(other, &first) {
            return Err(format!("store {} differs from store 0: {what}", i + 1));
        }
    }
    Ok(first)
}

/// Wasmtime configured for the same feature set, metering fuel or not.
pub fn wasmtime_engine_with(fuel: bool) -> wasmtime::Engine {
    let mut c = wasmtime::Config::new();
    c.wasm_simd(true).wasm_relaxed_simd(false).wasm_multi_memory(true).consume_fuel(fuel);
    wasmtime::Engine::new(&c).expect("wasmtime engine")
}

/// Wasmtime configured for the same feature set.
pub fn wasmtime_engine() -> wasmtime::Engine {
    wasmtime_engine_with(false)
}

/// Runs a module in Wasmtime (metering fuel when the engine does).
pub fn run_wasmtime(engine: &wasmtime::Engine, wasm: &[u8], shape: Shape) -> Result<Run, String> {
    let module =
        wasmtime::Module::new(engine, wasm).map_err(|e| format!("wasmtime rejects: {e:?}"))?;
    let (memory, table) = shape.limits();
    let limits = wasmtime::StoreLimitsBuilder::new()
        .memory_size(memory as usize)
        .table_elements(table as usize)
        .build();
    let mut store = wasmtime::Store::new(engine, limits);
    store.limiter(|l| l);
    let metered = store.set_fuel(FUEL).is_ok();
    let mut run = Run::default();
    let instantiated = wasmtime::Instance::new(&mut store, &module, &[]);
    if metered {
        run.instantiation_fuel = Some(FUEL - store.get_fuel().unwrap());
    }
    let instance = match instantiated {
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
                run.memories.push((name.clone(), MemSnapshot::of(m.data(&store))))
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
    // Instantiation from a fresh store costs the same when it succeeds.
    if a.instantiation.is_none() && a.instantiation_fuel != b.instantiation_fuel {
        return Some(format!(
            "instantiation consumed {:?} fuel in scion, {:?} in wasmtime",
            a.instantiation_fuel, b.instantiation_fuel
        ));
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
        if x.1.len != y.1.len {
            return Some(format!("memory {} size: {} vs {}", x.0, x.1.len, y.1.len));
        }
        for ((at, p), (_, q)) in x.1.parts.iter().zip(&y.1.parts) {
            if let Some(i) = p.iter().zip(q).position(|(p, q)| p != q) {
                let i = at + i;
                return Some(format!(
                    "memory {} differs at byte {i}: {} vs {}",
                    x.0,
                    p[i - at],
                    q[i - at]
                ));
            }
        }
    }
    None
}

/// Generates, runs and compares one seed.
pub fn run_seed(engine: &scion::Engine, wasmtime: &wasmtime::Engine, seed: u64) -> DiffOutcome {
    let Some(wasm) = generate(seed) else {
        return DiffOutcome::Skipped("generator".into());
    };
    let shape = Shape::of(seed);
    let theirs = match run_wasmtime(wasmtime, &wasm, shape) {
        Ok(r) => r,
        Err(e) => return DiffOutcome::Skipped(e),
    };
    let ours = match run_scion_as(engine, &wasm, shape) {
        Ok(r) => r,
        Err(what) => return DiffOutcome::Diverge { wasm, what },
    };
    match compare(&ours, &theirs) {
        None => DiffOutcome::Agree {
            calls: ours.calls.len(),
            traps: ours.calls.iter().filter(|c| c.1.is_err()).count()
                + ours.instantiation.is_some() as usize,
            memory_bytes: ours.memories.iter().map(|m| m.1.len).sum(),
        },
        Some(what) => DiffOutcome::Diverge { wasm, what },
    }
}
