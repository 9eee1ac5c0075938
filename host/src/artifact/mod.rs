//! Artifacts: compiled modules as ELF shared objects, and loading them.
//!
//! ```text
//! CompiledModule --write (elf.rs)--> bytes --sign (sign.rs)--> file
//!     file --read once--> check.rs (ELF as the loader sees it) + sign.rs (MAC,
//!          or a cache's record.rs proof that it was checked and is unchanged)
//!          --map the same open file (load.rs)--> LoadedArtifact
//! ```

pub mod check;
pub mod debug_info;
pub mod debugger;
pub mod eh_frame;
pub mod elf;
mod frames;
pub mod images;
pub mod load;
pub mod metadata;
pub mod record;
pub mod sign;
pub mod source_lines;

use crate::compiler::CompiledModule;
use crate::contract::artifact::{DESCRIPTOR_SYMBOL, Descriptor, FORMAT_VERSION, MAGIC};
use elf::{DescriptorAddrs, SharedObjectInput, TextSymbol};
use metadata::ArtifactMetadata;

/// Serializes a compiled module into a shared object (unsigned: the cache
/// signs it when it stores it, [`sign::ArtifactKey::signature`]).
pub fn write_artifact(
    compiled: &CompiledModule,
    wasm_sha256: [u8; 32],
    config_hash: u64,
) -> Vec<u8> {
    let names: Vec<String> = compiled
        .functions
        .iter()
        .map(|f| {
            let base = compiled.info.func_name(f.func_index).map(str::to_string);
            if f.func_index < compiled.info.imported_funcs {
                let import = compiled
                    .info
                    .imports
                    .iter()
                    .filter(|i| i.ty.kind() == crate::info::ExternKind::Func)
                    .nth(f.func_index as usize);
                match import {
                    Some(i) => format!("host_adapter<{}::{}>", i.module, i.name),
                    None => format!("host_adapter<{}>", f.func_index),
                }
            } else {
                base.unwrap_or_else(|| format!("wasm_function_{}", f.func_index))
            }
        })
        .collect();
    let symbols: Vec<TextSymbol<'_>> = compiled
        .functions
        .iter()
        .zip(&names)
        .map(|(f, name)| TextSymbol { name, offset: f.start, size: f.len })
        .chain(compiled.runtime_symbols.iter().map(|(name, offset, size)| TextSymbol {
            name,
            offset: *offset,
            size: *size,
        }))
        .collect();
    let (symbol_file, text_addr) = debugger::symbol_file(compiled.text.len(), &symbols);
    let (memory_images, images) = images::build(&compiled.info);
    let mut meta = ArtifactMetadata::new(
        compiled,
        wasm_sha256,
        config_hash,
        memory_images,
        images.len() as u64,
    );
    let rodata = metadata::encode(&mut meta, &compiled.trap_sites, &symbol_file, text_addr);
    let make_descriptor = |addrs: DescriptorAddrs| {
        Descriptor {
            magic: MAGIC,
            format_version: FORMAT_VERSION,
            reserved: 0,
            metadata_offset: addrs.rodata as i64 - addrs.descriptor as i64,
            metadata_len: rodata.len() as u64,
            text_offset: addrs.text as i64 - addrs.descriptor as i64,
            text_len: compiled.text.len() as u64,
        }
        .to_bytes()
        .to_vec()
    };
    // The DWARF unit is named after the module (its name section's name,
    // else its hash), so tools can tell plugins apart.
    let module_name = match &compiled.info.name {
        Some(n) if n.ends_with(".wasm") => n.clone(),
        Some(n) => format!("{n}.wasm"),
        None => {
            let hex: String = wasm_sha256[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("module-{hex}.wasm")
        }
    };
    let mut debug_functions: Vec<debug_info::DebugFunction<'_>> = symbols
        .iter()
        .filter(|s| s.size > 0)
        .map(|s| debug_info::DebugFunction { name: s.name, start: s.offset, len: s.size })
        .collect();
    debug_functions.sort_by_key(|f| f.start);
    let debug_names: Vec<&str> = debug_info::SECTIONS
        .iter()
        .copied()
        .chain([source_lines::LINES_SECTION, source_lines::SOURCE_SECTION])
        .collect();
    let make_debug = |text: u64| {
        let mut sections = debug_info::write(
            &module_name,
            text,
            compiled.text.len() as u32,
            &debug_functions,
            &compiled.lines,
        );
        sections.push(source_lines::encode_lines(&compiled.lines));
        sections.push(source_lines::encode_source(compiled.source.as_ref()));
        sections
    };
    let input = SharedObjectInput {
        text: &compiled.text,
        rodata: &rodata,
        descriptor_symbol: DESCRIPTOR_SYMBOL,
        descriptor_len: std::mem::size_of::<Descriptor>(),
        make_descriptor: &make_descriptor,
        symbols: &symbols,
        soname: None,
        unwind: &compiled.unwind,
        debug_names: &debug_names,
        make_debug: &make_debug,
    };
    let mut file = elf::write_shared_object(&input).expect("in-memory ELF writing cannot fail");
    if !images.is_empty() {
        file.resize((file.len() as u64).div_ceil(check::PAGE) as usize * check::PAGE as usize, 0);
        file.extend_from_slice(&images);
    }
    file
}
