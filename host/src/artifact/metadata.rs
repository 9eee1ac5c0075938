//! The metadata serialized into every artifact (postcard encoding).

use crate::compiler::CompiledModule;
use crate::compiler::x64::IsaFlags;
use crate::contract::trap::TrapSite;
use crate::info::ModuleInfo;
use serde::{Deserialize, Serialize};

/// One function's code range in the text section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRange {
    /// Wasm function index (imports first; host adapters carry the import index).
    pub func_index: u32,
    /// Offset in the text section.
    pub start: u32,
    /// Length in bytes.
    pub len: u32,
}

/// Everything the runtime needs besides the machine code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArtifactMetadata {
    /// [`crate::contract::artifact::COMPILER_VERSION`] of the compiler that wrote it.
    pub compiler_version: String,
    /// SHA-256 of the wasm bytes.
    pub wasm_sha256: [u8; 32],
    /// Hash of the codegen configuration.
    pub config_hash: u64,
    /// Extensions the code needs.
    pub isa: IsaFlags,
    /// The module.
    pub module: ModuleInfo,
    /// Offset of each defined function, by defined index.
    pub func_offsets: Vec<u32>,
    /// Code ranges of defined functions (by function index) and host adapters.
    pub functions: Vec<CodeRange>,
    /// Entry trampoline offset per type index.
    pub trampolines: Vec<u32>,
    /// Host-call adapter offset per imported function.
    pub host_adapters: Vec<u32>,
    /// Trap sites, sorted by code offset.
    pub trap_sites: Vec<TrapSite>,
}

impl ArtifactMetadata {
    /// Metadata for a compiled module.
    pub fn new(compiled: &CompiledModule, wasm_sha256: [u8; 32], config_hash: u64) -> Self {
        ArtifactMetadata {
            compiler_version: crate::contract::artifact::COMPILER_VERSION.to_string(),
            wasm_sha256,
            config_hash,
            isa: compiled.isa,
            module: compiled.info.clone(),
            func_offsets: compiled.func_offsets.clone(),
            functions: compiled
                .functions
                .iter()
                .map(|f| CodeRange { func_index: f.func_index, start: f.start, len: f.len })
                .collect(),
            trampolines: compiled.trampolines.clone(),
            host_adapters: compiled.host_adapters.clone(),
            trap_sites: compiled.trap_sites.clone(),
        }
    }

    /// The trap site whose stub call returns to `offset`.
    pub fn trap_site(&self, offset: u32) -> Option<&TrapSite> {
        self.trap_sites
            .binary_search_by_key(&offset, |s| s.code_offset)
            .ok()
            .map(|i| &self.trap_sites[i])
    }

    /// The defined function whose code contains `offset`.
    pub fn function_at(&self, offset: u32) -> Option<&CodeRange> {
        self.functions.iter().find(|f| f.start <= offset && offset < f.start + f.len)
    }
}
