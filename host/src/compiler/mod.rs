//! The compiler: wasm bytes -> x86-64 machine code and metadata.
//!
//! The whole pipeline, one stage per module, data flowing one way:
//!
//! ```text
//! decode      bytes        -> ModuleInfo + bodies   (wasmparser validates)
//! translate   body         -> ir::Function          (SSA, block parameters)
//! opt         ir::Function -> ir::Function          (params, fold, gvn, licm, dce)
//! lower       ir::Function -> VCode                 (x86-64, virtual registers)
//! regalloc    VCode        -> Allocation            (linear scan + local copies)
//! x64::emit   VCode + Allocation -> bytes           (TextBuilder: text section)
//! ```
//!
//! The compiler never touches runtime state: everything it needs from the
//! runtime is in `contract`.

pub mod budget;
pub mod decode;
pub mod dwarf;
pub mod ir;
pub mod lower;
pub mod opt;
pub mod regalloc;
pub mod translate;
pub mod unwind;
pub mod vcode;
pub mod x64;

pub use budget::CompileBudget;

use crate::contract::trap::TrapSite;
use crate::contract::vmctx::VMOffsets;
use crate::info::{ImportType, ModuleInfo};
use x64::IsaFlags;
use x64::emit::{FunctionRange, TextBuilder};

/// A compile-time failure: malformed or invalid wasm, or an unsupported
/// feature, with the byte offset where it was found; or a valid module
/// that is over the [`CompileBudget`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    /// Byte offset in the wasm input, when known.
    pub offset: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// The module may be valid, but compiling it would cost more than the
    /// compile budget allows (the message names the limit).
    pub budget_exceeded: bool,
}

impl CompileError {
    /// A new error.
    pub fn new(offset: Option<usize>, message: String) -> CompileError {
        CompileError { offset, message, budget_exceeded: false }
    }
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.offset {
            Some(o) => write!(f, "{} (at byte offset {o:#x})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for CompileError {}

/// Options that change generated code (part of the cache key).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CodegenConfig {
    /// Instruction-set extensions to use.
    pub isa: IsaFlags,
    /// Run the IR optimizer.
    pub optimize: bool,
    /// Meter fuel with this cost table.
    pub fuel: Option<crate::contract::fuel::FuelCosts>,
    /// Check the store's interrupt flag at function entries and loop headers.
    pub interruptible: bool,
}

/// The compiler's output for one module.
#[derive(Clone, Debug)]
pub struct CompiledModule {
    /// Module-level information.
    pub info: ModuleInfo,
    /// The text section.
    pub text: Vec<u8>,
    /// Code of every defined function and host adapter.
    pub functions: Vec<FunctionRange>,
    /// Offset of each defined function, by defined index.
    pub func_offsets: Vec<u32>,
    /// Offset of the entry trampoline of each type, by type index.
    pub trampolines: Vec<u32>,
    /// Offset of the host-call adapter of each imported function.
    pub host_adapters: Vec<u32>,
    /// Trap sites sorted by code offset.
    pub trap_sites: Vec<TrapSite>,
    /// Named runtime code (trap routine, trampolines): name, offset, length.
    pub runtime_symbols: Vec<(String, u32, u32)>,
    /// How each function, trampoline and stub changes its frame, sorted
    /// by offset, for `.eh_frame`.
    pub unwind: Vec<unwind::UnwindRange>,
    /// Where the code of each wasm instruction starts: (text offset, wasm
    /// byte offset), by text offset, for `.debug_line`.
    pub lines: Vec<(u32, u32)>,
    /// The plugin's source lines, when it carries DWARF line tables.
    pub source: Option<dwarf::SourceTable>,
    /// Extensions the code uses.
    pub isa: IsaFlags,
}

/// A stage of the pipeline whose output can be watched, per function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// The IR as translation built it, before any pass.
    Raw,
    /// The IR after the optimizer (or, with `optimize` off, after the
    /// minimal cleanup lowering needs).
    Opt,
    /// The VCode with the register allocation.
    VCode,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 3] = [Stage::Raw, Stage::Opt, Stage::VCode];

    /// The stage's name, as `SCION_DUMP` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Raw => "raw",
            Stage::Opt => "ir",
            Stage::VCode => "vcode",
        }
    }
}

/// VCode with its allocation, formatted only when a watcher shows it.
struct Allocated<'a>(&'a vcode::VCode, &'a regalloc::Allocation);

impl std::fmt::Display for Allocated<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.display(Some(self.1)))
    }
}

/// Compiles a module, refusing it when it is over `budget`.
///
/// With `SCION_DUMP` set to a list naming stages (`raw`, `ir`, `vcode`),
/// prints those stages of every function to stderr.
pub fn compile(
    wasm: &[u8],
    config: &CodegenConfig,
    budget: &CompileBudget,
) -> Result<CompiledModule, CompileError> {
    let dump = std::env::var("SCION_DUMP").unwrap_or_default();
    let wanted: Vec<Stage> = Stage::ALL.into_iter().filter(|s| dump.contains(s.name())).collect();
    compile_with_stages(wasm, config, budget, &mut |stage, _, text| {
        if wanted.contains(&stage) {
            eprintln!("{text}");
        }
    })
}

/// [`compile`], showing each function's text at every [`Stage`] to
/// `watch` (stage, wasm function index, text) as the pipeline produces it.
///
/// The text is passed as `Display` so that a watcher that ignores a stage
/// costs no formatting. Golden tests and `SCION_DUMP` both watch through
/// this, so what they show is what the pipeline built.
pub fn compile_with_stages(
    wasm: &[u8],
    config: &CodegenConfig,
    budget: &CompileBudget,
    watch: &mut dyn FnMut(Stage, u32, &dyn std::fmt::Display),
) -> Result<CompiledModule, CompileError> {
    budget.check_module(wasm.len())?;
    let decoded = decode::decode(wasm)?;
    let source = dwarf::source_table(&decoded.debug_sections, decoded.code_section_start);
    let info = decoded.info;
    budget.check_functions(info.funcs.len())?;
    let offsets = VMOffsets::new(info.vm_counts());
    let defined = decoded.bodies.len() as u32;
    let mut text = TextBuilder::new(defined, info.imported_funcs, offsets);
    text.emit_trap_common();
    text.emit_yield_common();
    let ctx = lower::LowerContext {
        info: &info,
        offsets: &offsets,
        isa: config.isa,
        interruptible: config.interruptible,
    };
    let dump_budget = std::env::var("SCION_DUMP").is_ok_and(|d| d.contains("budget"));
    let mut allocs = wasmparser::FuncValidatorAllocations::default();
    for body in decoded.bodies {
        let range = body.body.range();
        let fb = budget.function(body.func_index, (range.end - range.start) as usize)?;
        let (mut func, a) = translate::translate_function(&info, body, allocs, config, &fb)?;
        allocs = a;
        watch(Stage::Raw, func.func_index, &func);
        if config.optimize {
            opt::optimize(&mut func);
        } else {
            opt::minimal(&mut func);
        }
        watch(Stage::Opt, func.func_index, &func);
        // Lowering holds the IR and the VCode it builds.
        let ir_bytes = func.estimated_bytes();
        fb.check_memory("the optimized IR", ir_bytes)?;
        let vcode = lower::lower(&ctx, &func, fb.max_memory() - ir_bytes)
            .map_err(|bytes| fb.memory_exceeded("lowering", ir_bytes + bytes))?;
        if dump_budget {
            eprintln!("budget f{}: IR {ir_bytes} B", func.func_index);
        }
        drop(func);
        let alloc = regalloc::allocate(&vcode, &fb)?;
        watch(Stage::VCode, vcode.func_index, &Allocated(&vcode, &alloc));
        text.emit_function(&vcode, &alloc);
        budget.check_code(vcode.func_index, text.offset() as usize)?;
    }
    let trampolines = info.types.iter().map(|t| text.emit_entry_trampoline(t)).collect();
    let mut host_adapters = Vec::new();
    for (i, import) in
        info.imports.iter().filter(|i| matches!(i.ty, ImportType::Func(_))).enumerate()
    {
        let ImportType::Func(t) = import.ty else { unreachable!() };
        host_adapters.push(text.emit_host_adapter(i as u32, &info.types[t as usize]));
    }
    let func_offsets = (0..defined).map(|i| text.function_offset(i)).collect();
    let mut trap_sites = std::mem::take(&mut text.trap_sites);
    trap_sites.sort_by_key(|s| s.code_offset);
    let functions = std::mem::take(&mut text.functions);
    let runtime_symbols = std::mem::take(&mut text.runtime_symbols);
    let mut unwind = std::mem::take(&mut text.unwind);
    unwind.sort_by_key(|r| r.start);
    let lines = std::mem::take(&mut text.lines);
    Ok(CompiledModule {
        info,
        text: text.finish(),
        functions,
        func_offsets,
        trampolines,
        host_adapters,
        trap_sites,
        runtime_symbols,
        unwind,
        lines,
        source,
        isa: config.isa,
    })
}
