//! `VMContext` and `VMStoreContext`: the structures generated code reads.
//!
//! **Sandbox-critical.** Generated code addresses these fields through the
//! offsets computed here and nowhere else.
//!
//! ```text
//! VMStoreContext (one per Store, shared by its instances)
//!   +0   stack_limit   lowest rsp wasm may use (checked in every prologue)
//!   +8   entry_sp      rsp of the innermost entry-trampoline frame, 0 outside wasm
//!   +16  trap_pc       return address of the trap-stub call that trapped
//!   +24  trap_fp       rbp of the trapping wasm frame (for backtraces)
//!   +32  trap_code     TrapCode set by builtins that trap, else 0
//!   +36  interrupt     nonzero: trap `Interrupted` at the next check point
//!   +40  fuel_consumed fuel used minus fuel given: negative while fuel remains
//!   +48  backtrace_len return addresses the trap routine recorded
//!   +56  backtrace     [usize; 64]: return addresses of the trapping frames
//!
//! VMContext (one per instance; r14 points here while its code runs)
//!   +0   store         *mut VMStoreContext
//!   +8   heap_base     base of memory 0 (also kept in r15), null without memory
//!   +16  builtins      *const BuiltinTable
//!   +24  instance      runtime back-pointer, opaque to generated code
//!   +32  ...           regions below, each sized by the module's counts
//!                        (the most read first, within one-byte displacements):
//!        memories        [VMMemoryDefinition; defined memories]
//!        globals         [VMGlobalDefinition; defined globals]
//!        memory_imports  [*mut VMMemoryDefinition; imported memories]
//!        global_imports  [*mut VMGlobalDefinition; imported globals]
//!        tables          [VMTableDefinition; defined tables]
//!        table_imports   [*mut VMTableDefinition; imported tables]
//!        func_imports    [VMFunctionImport; imported funcs]
//!        type_ids        [u32; types]            engine-wide signature ids
//!        funcrefs        [VMFuncRef; all functions]
//! ```

use std::mem::{offset_of, size_of};

/// State shared by every instance of one store.
#[repr(C)]
#[derive(Debug)]
pub struct VMStoreContext {
    /// Lowest stack pointer wasm code may use; prologues trap below it.
    pub stack_limit: usize,
    /// Stack pointer of the innermost entry trampoline, 0 outside wasm.
    pub entry_sp: usize,
    /// Return address of the trap-stub call of the last trap.
    pub trap_pc: usize,
    /// Frame pointer of the wasm frame that trapped.
    pub trap_fp: usize,
    /// Trap code stored by a builtin that trapped; 0 otherwise.
    pub trap_code: u32,
    /// Set (from any thread) to stop the running call at its next check
    /// point with `Interrupted`.
    pub interrupt: std::sync::atomic::AtomicU32,
    /// Fuel consumed minus fuel granted: code adds costs and checks the
    /// sign; the store runs out of fuel when this is `>= 0`.
    pub fuel_consumed: i64,
    /// Number of entries of `backtrace` the trap routine filled.
    pub backtrace_len: u64,
    /// Return addresses of the frames between the trapping frame and the
    /// entry trampoline, innermost first, recorded by the trap routine
    /// while those frames still exist.
    pub backtrace: [usize; BACKTRACE_CAPACITY],
}

/// Frames the trap routine records at most.
pub const BACKTRACE_CAPACITY: usize = 64;

impl Default for VMStoreContext {
    fn default() -> VMStoreContext {
        VMStoreContext {
            stack_limit: 0,
            entry_sp: 0,
            trap_pc: 0,
            trap_fp: 0,
            trap_code: 0,
            interrupt: Default::default(),
            fuel_consumed: 0,
            backtrace_len: 0,
            backtrace: [0; BACKTRACE_CAPACITY],
        }
    }
}

/// The fixed header of every `VMContext`.
#[repr(C)]
#[derive(Debug)]
pub struct VMContextHeader {
    /// The store this instance belongs to.
    pub store: *mut VMStoreContext,
    /// Base address of memory 0, or null.
    pub heap_base: *mut u8,
    /// Table of runtime functions, see [`super::builtins`].
    pub builtins: *const usize,
    /// Opaque pointer to the runtime's instance.
    pub instance: *mut u8,
}

/// A linear memory as generated code sees it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMMemoryDefinition {
    /// Start of the reservation; never moves.
    pub base: *mut u8,
    /// Current accessible length in bytes.
    pub length: usize,
}

/// A table as generated code sees it. Elements are 8 bytes: a
/// `*const VMFuncRef` for funcref tables, an externref handle otherwise.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMTableDefinition {
    /// First element.
    pub base: *mut u64,
    /// Current number of elements.
    pub length: usize,
}

/// Storage of one global: room for any value type, little-endian.
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, Default)]
pub struct VMGlobalDefinition {
    /// The value's bytes.
    pub bytes: [u8; 16],
}

/// An imported function: code to call and the vmctx to call it with.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMFunctionImport {
    /// Entry point following the wasm calling convention.
    pub wasm_call: *const u8,
    /// The callee's `VMContext`.
    pub vmctx: *mut u8,
}

/// What a funcref points to.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMFuncRef {
    /// Entry point following the wasm calling convention.
    pub wasm_call: *const u8,
    /// Entry trampoline for this function's signature (see [`super::abi`]).
    pub array_call: *const u8,
    /// The `VMContext` to run the function with.
    pub vmctx: *mut u8,
    /// Engine-wide id of the function's signature.
    pub type_id: u32,
    /// Padding, reserved.
    pub _reserved: u32,
}

/// Offsets of `VMStoreContext` fields.
pub mod store {
    use super::*;
    /// `stack_limit`.
    pub const STACK_LIMIT: u32 = offset_of!(VMStoreContext, stack_limit) as u32;
    /// `entry_sp`.
    pub const ENTRY_SP: u32 = offset_of!(VMStoreContext, entry_sp) as u32;
    /// `trap_pc`.
    pub const TRAP_PC: u32 = offset_of!(VMStoreContext, trap_pc) as u32;
    /// `trap_fp`.
    pub const TRAP_FP: u32 = offset_of!(VMStoreContext, trap_fp) as u32;
    /// `trap_code`.
    pub const TRAP_CODE: u32 = offset_of!(VMStoreContext, trap_code) as u32;
    /// `interrupt`.
    pub const INTERRUPT: u32 = offset_of!(VMStoreContext, interrupt) as u32;
    /// `fuel_consumed`.
    pub const FUEL_CONSUMED: u32 = offset_of!(VMStoreContext, fuel_consumed) as u32;
    /// `backtrace_len`.
    pub const BACKTRACE_LEN: u32 = offset_of!(VMStoreContext, backtrace_len) as u32;
    /// `backtrace`.
    pub const BACKTRACE: u32 = offset_of!(VMStoreContext, backtrace) as u32;
}

/// Offsets of the `VMContextHeader` fields.
pub mod header {
    use super::*;
    /// `store`.
    pub const STORE: u32 = offset_of!(VMContextHeader, store) as u32;
    /// `heap_base`.
    pub const HEAP_BASE: u32 = offset_of!(VMContextHeader, heap_base) as u32;
    /// `builtins`.
    pub const BUILTINS: u32 = offset_of!(VMContextHeader, builtins) as u32;
    /// `instance`.
    pub const INSTANCE: u32 = offset_of!(VMContextHeader, instance) as u32;
    /// Size of the header; regions start here.
    pub const SIZE: u32 = size_of::<VMContextHeader>() as u32;
}

/// Offsets inside the small definition structs.
pub mod field {
    use super::*;
    /// `VMMemoryDefinition::base`.
    pub const MEMORY_BASE: u32 = offset_of!(VMMemoryDefinition, base) as u32;
    /// `VMMemoryDefinition::length`.
    pub const MEMORY_LENGTH: u32 = offset_of!(VMMemoryDefinition, length) as u32;
    /// `VMTableDefinition::base`.
    pub const TABLE_BASE: u32 = offset_of!(VMTableDefinition, base) as u32;
    /// `VMTableDefinition::length`.
    pub const TABLE_LENGTH: u32 = offset_of!(VMTableDefinition, length) as u32;
    /// `VMFunctionImport::wasm_call`.
    pub const IMPORT_WASM_CALL: u32 = offset_of!(VMFunctionImport, wasm_call) as u32;
    /// `VMFunctionImport::vmctx`.
    pub const IMPORT_VMCTX: u32 = offset_of!(VMFunctionImport, vmctx) as u32;
    /// `VMFuncRef::wasm_call`.
    pub const FUNCREF_WASM_CALL: u32 = offset_of!(VMFuncRef, wasm_call) as u32;
    /// `VMFuncRef::array_call`.
    pub const FUNCREF_ARRAY_CALL: u32 = offset_of!(VMFuncRef, array_call) as u32;
    /// `VMFuncRef::vmctx`.
    pub const FUNCREF_VMCTX: u32 = offset_of!(VMFuncRef, vmctx) as u32;
    /// `VMFuncRef::type_id`.
    pub const FUNCREF_TYPE_ID: u32 = offset_of!(VMFuncRef, type_id) as u32;
    /// Size of a table element.
    pub const TABLE_ELEMENT_SIZE: u32 = 8;
}

/// How many of each entity a module has; determines the `VMContext` size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VMCounts {
    /// Entries in the type section.
    pub types: u32,
    /// Imported functions.
    pub imported_funcs: u32,
    /// Imported memories.
    pub imported_memories: u32,
    /// Imported tables.
    pub imported_tables: u32,
    /// Imported globals.
    pub imported_globals: u32,
    /// Memories defined by the module.
    pub defined_memories: u32,
    /// Tables defined by the module.
    pub defined_tables: u32,
    /// Globals defined by the module.
    pub defined_globals: u32,
    /// All functions, imported and defined.
    pub funcs: u32,
}

/// Offsets of every region and element of one module's `VMContext`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VMOffsets {
    /// The counts these offsets were computed from.
    pub counts: VMCounts,
    type_ids: u32,
    func_imports: u32,
    memory_imports: u32,
    table_imports: u32,
    global_imports: u32,
    memories: u32,
    tables: u32,
    globals: u32,
    funcrefs: u32,
    size: u32,
}

fn align_to(n: u32, a: u32) -> u32 {
    n.div_ceil(a) * a
}

impl VMOffsets {
    /// Lays out a `VMContext` for a module with these counts.
    pub fn new(counts: VMCounts) -> VMOffsets {
        let mut at = header::SIZE;
        let mut region = |count: u32, elem: usize, align: u32| {
            at = align_to(at, align);
            let start = at;
            at += count * elem as u32;
            start
        };
        // What code reads most comes first, where a displacement fits in
        // one byte (up to 127): memory definitions (every bounds check
        // reads a length) and globals (the shadow-stack pointer).
        let memories = region(counts.defined_memories, size_of::<VMMemoryDefinition>(), 8);
        let globals = region(counts.defined_globals, size_of::<VMGlobalDefinition>(), 16);
        let memory_imports = region(counts.imported_memories, 8, 8);
        let global_imports = region(counts.imported_globals, 8, 8);
        let tables = region(counts.defined_tables, size_of::<VMTableDefinition>(), 8);
        let table_imports = region(counts.imported_tables, 8, 8);
        let func_imports = region(counts.imported_funcs, size_of::<VMFunctionImport>(), 8);
        let type_ids = region(counts.types, 4, 4);
        let funcrefs = region(counts.funcs, size_of::<VMFuncRef>(), 8);
        let size = align_to(at, 16);
        VMOffsets {
            counts,
            type_ids,
            func_imports,
            memory_imports,
            table_imports,
            global_imports,
            memories,
            tables,
            globals,
            funcrefs,
            size,
        }
    }

    /// Total size of the `VMContext` in bytes (a multiple of 16).
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The signature id of module type `index` (a `u32`).
    pub fn type_id(&self, index: u32) -> u32 {
        assert!(index < self.counts.types);
        self.type_ids + 4 * index
    }

    /// The `VMFunctionImport` of imported function `index`.
    pub fn func_import(&self, index: u32) -> u32 {
        assert!(index < self.counts.imported_funcs);
        self.func_imports + index * size_of::<VMFunctionImport>() as u32
    }

    /// The pointer to the definition of imported memory `index`.
    pub fn memory_import(&self, index: u32) -> u32 {
        assert!(index < self.counts.imported_memories);
        self.memory_imports + 8 * index
    }

    /// The pointer to the definition of imported table `index`.
    pub fn table_import(&self, index: u32) -> u32 {
        assert!(index < self.counts.imported_tables);
        self.table_imports + 8 * index
    }

    /// The pointer to the definition of imported global `index`.
    pub fn global_import(&self, index: u32) -> u32 {
        assert!(index < self.counts.imported_globals);
        self.global_imports + 8 * index
    }

    /// The `VMMemoryDefinition` of defined memory `index` (not counting imports).
    pub fn memory(&self, defined_index: u32) -> u32 {
        assert!(defined_index < self.counts.defined_memories);
        self.memories + defined_index * size_of::<VMMemoryDefinition>() as u32
    }

    /// The `VMTableDefinition` of defined table `index` (not counting imports).
    pub fn table(&self, defined_index: u32) -> u32 {
        assert!(defined_index < self.counts.defined_tables);
        self.tables + defined_index * size_of::<VMTableDefinition>() as u32
    }

    /// The `VMGlobalDefinition` of defined global `index` (not counting imports).
    pub fn global(&self, defined_index: u32) -> u32 {
        assert!(defined_index < self.counts.defined_globals);
        self.globals + defined_index * size_of::<VMGlobalDefinition>() as u32
    }

    /// The `VMFuncRef` of function `index` (function index space).
    pub fn funcref(&self, func_index: u32) -> u32 {
        assert!(func_index < self.counts.funcs);
        self.funcrefs + func_index * size_of::<VMFuncRef>() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins the layout. If this fails, the artifact format changed: bump
    /// `artifact::FORMAT_VERSION` and update the numbers here.
    #[test]
    fn layout_is_pinned() {
        assert_eq!(
            (store::STACK_LIMIT, store::ENTRY_SP, store::TRAP_PC, store::TRAP_FP, store::TRAP_CODE),
            (0, 8, 16, 24, 32)
        );
        assert_eq!((store::INTERRUPT, store::FUEL_CONSUMED), (36, 40));
        assert_eq!((store::BACKTRACE_LEN, store::BACKTRACE), (48, 56));
        assert_eq!(
            (header::STORE, header::HEAP_BASE, header::BUILTINS, header::INSTANCE, header::SIZE),
            (0, 8, 16, 24, 32)
        );
        assert_eq!((field::MEMORY_BASE, field::MEMORY_LENGTH), (0, 8));
        assert_eq!((field::TABLE_BASE, field::TABLE_LENGTH), (0, 8));
        assert_eq!((field::IMPORT_WASM_CALL, field::IMPORT_VMCTX), (0, 8));
        assert_eq!(
            (
                field::FUNCREF_WASM_CALL,
                field::FUNCREF_ARRAY_CALL,
                field::FUNCREF_VMCTX,
                field::FUNCREF_TYPE_ID
            ),
            (0, 8, 16, 24)
        );
        assert_eq!(size_of::<VMFuncRef>(), 32);
        assert_eq!(size_of::<VMGlobalDefinition>(), 16);
    }

    #[test]
    fn regions_follow_each_other() {
        let o = VMOffsets::new(VMCounts {
            types: 3,
            imported_funcs: 2,
            imported_memories: 1,
            imported_tables: 1,
            imported_globals: 1,
            defined_memories: 1,
            defined_tables: 2,
            defined_globals: 3,
            funcs: 5,
        });
        assert_eq!(o.memory(0), 32);
        assert_eq!(o.global(0), 48);
        assert_eq!(o.memory_import(0), 96);
        assert_eq!(o.global_import(0), 104);
        assert_eq!(o.table(1), 128);
        assert_eq!(o.table_import(0), 144);
        assert_eq!(o.func_import(0), 152);
        assert_eq!(o.func_import(1), 168);
        assert_eq!(o.type_id(0), 184);
        assert_eq!(o.funcref(0), 200);
        assert_eq!(o.size(), 368);
    }
}
