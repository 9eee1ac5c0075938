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
}

/// The metadata region of an artifact: the length of the postcard-encoded
/// [`ArtifactMetadata`] (`u64`, little-endian), its bytes, then the trap
/// table ([`TrapSite::encode_table`]), which is used in place.
pub fn encode(meta: &ArtifactMetadata, trap_sites: &[TrapSite]) -> Vec<u8> {
    let encoded = postcard::to_allocvec(meta).expect("metadata serializes");
    let mut out = (encoded.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&encoded);
    out.extend_from_slice(&TrapSite::encode_table(trap_sites));
    out
}

/// Splits a metadata region into the decoded metadata and the trap table.
pub fn decode(region: &[u8]) -> Result<(ArtifactMetadata, &[u8]), String> {
    let len = region.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap()) as usize);
    let Some(meta) = len.and_then(|len| region.get(8..8usize.checked_add(len)?)) else {
        return Err("metadata region is truncated".into());
    };
    let table = &region[8 + meta.len()..];
    if !table.len().is_multiple_of(crate::contract::trap::TRAP_RECORD_LEN) {
        return Err("trap table is truncated".into());
    }
    let meta = postcard::from_bytes(meta).map_err(|e| format!("metadata does not decode: {e}"))?;
    Ok((meta, table))
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
        }
    }

    /// The defined function whose code contains `offset`.
    pub fn function_at(&self, offset: u32) -> Option<&CodeRange> {
        self.functions.iter().find(|f| f.start <= offset && offset < f.start + f.len)
    }
}
