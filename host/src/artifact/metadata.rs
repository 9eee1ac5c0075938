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
    #[serde(with = "code_ranges")]
    pub functions: Vec<CodeRange>,
    /// Entry trampoline offset per type index.
    pub trampolines: Vec<u32>,
    /// Host-call adapter offset per imported function.
    pub host_adapters: Vec<u32>,
    /// Length of the trap table that follows the encoded metadata.
    pub trap_table_len: u32,
    /// Length of the debuggers' symbol file that follows the trap table
    /// ([`super::debugger::symbol_file`]).
    pub symbol_file_len: u32,
    /// Offset in the symbol file of its `.text` address field.
    pub symbol_file_text_addr: u32,
    /// Each defined memory's initial image in the images region
    /// ([`super::images`]), if it has one.
    pub memory_images: Vec<Option<super::images::ImageSpan>>,
    /// Length of the images region, which ends where the signed bytes do.
    pub images_len: u64,
}

/// Code ranges as a table of `u32` triples (`info::u32_triples`).
mod code_ranges {
    use super::CodeRange;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[CodeRange], s: S) -> Result<S::Ok, S::Error> {
        let triples: Vec<_> = v.iter().map(|r| (r.func_index, r.start, r.len)).collect();
        crate::info::u32_triples::serialize(&triples, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CodeRange>, D::Error> {
        let triples = crate::info::u32_triples::deserialize(d)?;
        Ok(triples
            .into_iter()
            .map(|(func_index, start, len)| CodeRange { func_index, start, len })
            .collect())
    }
}

/// The parts of a metadata region besides the decoded metadata.
pub struct RegionTables<'a> {
    /// The trap table ([`TrapSite::encode_table`]).
    pub trap_table: &'a [u8],
    /// The symbol file for debuggers.
    pub symbol_file: &'a [u8],
}

/// The metadata region of an artifact: the length of the postcard-encoded
/// [`ArtifactMetadata`] (`u64`, little-endian), its bytes, then the trap
/// table ([`TrapSite::encode_table`]) and the symbol file, both used in
/// place. `meta`'s table lengths are set here.
pub fn encode(
    meta: &mut ArtifactMetadata,
    trap_sites: &[TrapSite],
    symbol_file: &[u8],
    symbol_file_text_addr: u32,
) -> Vec<u8> {
    let table = TrapSite::encode_table(trap_sites);
    meta.trap_table_len = u32::try_from(table.len()).expect("trap table under 4 GiB");
    meta.symbol_file_len = u32::try_from(symbol_file.len()).expect("symbol file under 4 GiB");
    meta.symbol_file_text_addr = symbol_file_text_addr;
    let encoded = postcard::to_allocvec(meta).expect("metadata serializes");
    let mut out = (encoded.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&encoded);
    out.extend_from_slice(&table);
    out.extend_from_slice(symbol_file);
    out
}

/// Splits a metadata region into the decoded metadata and its tables.
pub fn decode(region: &[u8]) -> Result<(ArtifactMetadata, RegionTables<'_>), String> {
    let len = region.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap()) as usize);
    let Some(encoded) = len.and_then(|len| region.get(8..8usize.checked_add(len)?)) else {
        return Err("metadata region is truncated".into());
    };
    let meta: ArtifactMetadata =
        postcard::from_bytes(encoded).map_err(|e| format!("metadata does not decode: {e}"))?;
    let rest = &region[8 + encoded.len()..];
    let table_len = meta.trap_table_len as usize;
    if table_len.checked_add(meta.symbol_file_len as usize) != Some(rest.len())
        || !table_len.is_multiple_of(crate::contract::trap::TRAP_RECORD_LEN)
    {
        return Err("trap table or symbol file is truncated".into());
    }
    let (trap_table, symbol_file) = rest.split_at(table_len);
    Ok((meta, RegionTables { trap_table, symbol_file }))
}

impl ArtifactMetadata {
    /// Metadata for a compiled module.
    pub fn new(
        compiled: &CompiledModule,
        wasm_sha256: [u8; 32],
        config_hash: u64,
        memory_images: Vec<Option<super::images::ImageSpan>>,
        images_len: u64,
    ) -> Self {
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
            trap_table_len: 0,
            symbol_file_len: 0,
            symbol_file_text_addr: 0,
            memory_images,
            images_len,
        }
    }

    /// The defined function whose code contains `offset`.
    pub fn function_at(&self, offset: u32) -> Option<&CodeRange> {
        self.functions.iter().find(|f| f.start <= offset && offset < f.start + f.len)
    }
}
