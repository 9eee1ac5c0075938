//! Writes a Scion artifact: an x86-64 ELF64 `ET_DYN` shared object that
//! glibc's `dlopen` loads directly, without a system linker.
//!
//! The object has no relocations, no `DT_NEEDED` entries and exports exactly
//! one dynamic symbol, the descriptor (a read-only data blob). The caller
//! stores everything else (where `.text` and `.rodata` are) as offsets
//! relative to the descriptor, so the file is position independent as is.
//!
//! # File layout
//!
//! File offsets equal virtual addresses (relative to the load base) for every
//! loaded byte; each segment starts on its own 4 KiB page so that no page is
//! mapped with two different protections (in particular, no header or data
//! byte is ever mapped executable, and no code byte writable).
//!
//! ```text
//!  offset/vaddr                                        segment
//!  0x0000 +-----------------------------+ ----------- PT_LOAD  R   (align 0x1000)
//!         | ELF header                  |
//!         | program headers             |
//!         | .hash      (SysV, DT_HASH)  |
//!         | .gnu.hash  (DT_GNU_HASH)    |
//!         | .dynsym    (null, desc sym) |
//!         | .dynstr                     |
//!         | .scion_descriptor (16-align)| <- dynamic symbol `descriptor_symbol`
//!         | .rodata           (16-align)|
//!         +-----------------------------+
//!         | zero padding to page        |
//!  page   +-----------------------------+ ----------- PT_LOAD  R+X (omitted if .text is empty)
//!         | .text                       |
//!         +-----------------------------+
//!         | zero padding to page        |
//!  page   +-----------------------------+ ----------- PT_LOAD  R+W, PT_DYNAMIC, PT_GNU_RELRO
//!         | .dynamic                    |   (memsz rounded up to the page so that
//!         +-----------------------------+    RELRO really turns it read-only)
//!         | .symtab   (not loaded)      |
//!         | .strtab   (not loaded)      |
//!         | .shstrtab (not loaded)      |
//!         | section header table        |
//!         +-----------------------------+
//!
//!  PT_GNU_STACK: flags RW (no X), so glibc never makes thread stacks executable.
//! ```
//!
//! The descriptor lives in its own section, `.scion_descriptor`, right before
//! `.rodata` (both in the read-only segment), so `readelf -S` shows it
//! separately from the metadata.
//!
//! `.symtab` holds one `STT_FUNC`/`STB_LOCAL` symbol per [`TextSymbol`] (what
//! perf, gdb and `objdump -d` use to name code) plus the descriptor as a
//! global `STT_OBJECT`. Function symbols are local: they are not exported,
//! exactly like a linker turns hidden-visibility symbols into locals.
//!
//! Output is deterministic: it depends only on the input (string tables are
//! sorted by the `object` crate, and no timestamps or random ids are written).

// The writer itself needs no unsafe code; only the tests (dlopen, calling
// into generated code) do.
#![deny(unsafe_code)]

use std::borrow::Cow;

use object::Endianness;
use object::elf;
use object::write::elf::{FileHeader, ProgramHeader, SectionHeader, Sym, Writer};

use super::eh_frame::{self, UnwindAddrs};
use crate::compiler::unwind::UnwindRange;

/// Page size used for segment alignment. x86-64 Linux always uses 4 KiB base
/// pages; glibc rejects a `PT_LOAD` whose `p_align` is not a multiple of it
/// or whose offset and address disagree modulo it.
const PAGE: u64 = 0x1000;

/// Alignment of `.text`, the descriptor and `.rodata` in memory.
const DATA_ALIGN: usize = 16;

/// Name of the section holding the descriptor.
const DESCRIPTOR_SECTION: &str = ".scion_descriptor";

/// One function's symbol in `.symtab` (for perf/gdb/objdump).
#[derive(Clone, Copy, Debug)]
pub struct TextSymbol<'a> {
    /// Symbol name. NUL bytes (legal in WebAssembly names, illegal in ELF
    /// string tables) are replaced by `?`.
    pub name: &'a str,
    /// Offset of the function from the start of `.text`.
    pub offset: u32,
    /// Size of the function in bytes (`st_size`).
    pub size: u32,
}

/// Final virtual addresses, relative to the load base, handed to
/// [`SharedObjectInput::make_descriptor`].
#[derive(Clone, Copy, Debug)]
pub struct DescriptorAddrs {
    /// Address of the descriptor itself (16-byte aligned).
    pub descriptor: u64,
    /// Address of the first byte of `.rodata` (16-byte aligned).
    pub rodata: u64,
    /// Address of the first byte of `.text` (page aligned).
    pub text: u64,
}

/// Everything that goes into one shared object.
pub struct SharedObjectInput<'a> {
    /// Machine code: position independent, needs no relocations.
    pub text: &'a [u8],
    /// Read-only data (serialized metadata), placed 16-byte aligned.
    pub rodata: &'a [u8],
    /// Name of the one exported dynamic data symbol, which points at the
    /// descriptor. Must not be empty or contain NUL.
    pub descriptor_symbol: &'a str,
    /// Size in bytes of the descriptor; `make_descriptor` must return exactly
    /// this many bytes.
    pub descriptor_len: usize,
    /// Builds the descriptor's bytes given the final addresses of the
    /// descriptor, `.rodata` and `.text`. The caller typically stores
    /// differences such as `rodata - descriptor`, so nothing needs relocating.
    pub make_descriptor: &'a dyn Fn(DescriptorAddrs) -> Vec<u8>,
    /// Function symbols for `.symtab` (not exported through `.dynsym`).
    pub symbols: &'a [TextSymbol<'a>],
    /// `DT_SONAME`, if any. Must not contain NUL.
    pub soname: Option<&'a str>,
    /// How each range of `.text` changes its frame, for `.eh_frame` and
    /// `.eh_frame_hdr` (both left out when empty).
    pub unwind: &'a [UnwindRange],
    /// Names of sections that are not loaded (DWARF debug information).
    pub debug_names: &'a [&'a str],
    /// Builds their contents, in the same order, from the final address
    /// of `.text`.
    pub make_debug: &'a dyn Fn(u64) -> Vec<Vec<u8>>,
}

fn align_up(value: u64, align: u64) -> u64 {
    value.div_ceil(align) * align
}

/// Writes `input` as an x86-64 ELF64 `ET_DYN` shared object (see the module
/// documentation for the layout) and returns the file's bytes.
///
/// # Panics
///
/// On caller bugs, which no input data can cause: `descriptor_symbol` empty
/// or containing NUL, `soname` containing NUL, `make_descriptor` returning a
/// length other than `descriptor_len`, or a [`TextSymbol`] extending past the
/// end of `text`.
///
/// # Errors
///
/// Only if the output buffer cannot be allocated. (`object::write::Error` has
/// no public constructor, so invalid input panics instead of returning it.)
pub fn write_shared_object(input: &SharedObjectInput<'_>) -> Result<Vec<u8>, object::write::Error> {
    assert!(
        !input.descriptor_symbol.is_empty() && !input.descriptor_symbol.contains('\0'),
        "descriptor symbol name must be non-empty and contain no NUL: {:?}",
        input.descriptor_symbol
    );
    if let Some(soname) = input.soname {
        assert!(!soname.contains('\0'), "soname must not contain NUL: {soname:?}");
    }
    for sym in input.symbols {
        let end = u64::from(sym.offset) + u64::from(sym.size);
        assert!(
            end <= input.text.len() as u64,
            "symbol {:?} ({:#x}+{:#x}) extends past the end of .text ({:#x} bytes)",
            sym.name,
            sym.offset,
            sym.size,
            input.text.len()
        );
    }
    // ELF string tables are NUL-terminated; WebAssembly names may contain
    // NUL. These names only serve debuggers, so replace rather than fail.
    let symbol_names: Vec<Cow<'_, [u8]>> = input
        .symbols
        .iter()
        .map(|s| {
            let bytes = s.name.as_bytes();
            if bytes.contains(&0) {
                Cow::Owned(bytes.iter().map(|&b| if b == 0 { b'?' } else { b }).collect())
            } else {
                Cow::Borrowed(bytes)
            }
        })
        .collect();
    let descriptor_name = input.descriptor_symbol.as_bytes();

    let mut out = Vec::new();
    let mut w = Writer::new(Endianness::Little, true, &mut out);

    // ---- Phase 1: names, indices and file ranges -------------------------
    //
    // Section indices are reserved in address order so `readelf -S` reads
    // top to bottom like the layout picture. The writer remembers the indices
    // of the sections it knows about (it needs them for `sh_link`); only the
    // ones we write headers for ourselves are kept here.
    w.reserve_hash_section_index();
    w.reserve_gnu_hash_section_index();
    w.reserve_dynsym_section_index();
    w.reserve_dynstr_section_index();
    let descriptor_name_id = w.add_section_name(DESCRIPTOR_SECTION.as_bytes());
    let descriptor_index = w.reserve_section_index();
    let rodata_name_id = w.add_section_name(b".rodata");
    w.reserve_section_index();
    let has_unwind = !input.unwind.is_empty();
    let eh_names = has_unwind.then(|| {
        let hdr = w.add_section_name(b".eh_frame_hdr");
        w.reserve_section_index();
        let frame = w.add_section_name(b".eh_frame");
        w.reserve_section_index();
        (hdr, frame)
    });
    let text_name_id = w.add_section_name(b".text");
    let text_index = w.reserve_section_index();
    w.reserve_dynamic_section_index();
    let debug_ids: Vec<_> = input
        .debug_names
        .iter()
        .map(|n| {
            let id = w.add_section_name(n.as_bytes());
            w.reserve_section_index();
            id
        })
        .collect();
    w.reserve_symtab_section_index();
    w.reserve_strtab_section_index();
    w.reserve_shstrtab_section_index();

    // Dynamic strings and symbols: null symbol + the descriptor.
    let descriptor_dynstr = w.add_dynamic_string(descriptor_name);
    let soname_dynstr = input.soname.map(|s| w.add_dynamic_string(s.as_bytes()));
    w.reserve_null_dynamic_symbol_index();
    w.reserve_dynamic_symbol_index();

    // Static symbols: null, the functions (locals must precede globals, and
    // `sh_info` is the index of the first global), then the descriptor.
    let symbol_strs: Vec<_> = symbol_names.iter().map(|n| w.add_string(n)).collect();
    let descriptor_str = w.add_string(descriptor_name);
    w.reserve_null_symbol_index();
    for _ in input.symbols {
        w.reserve_symbol_index(Some(text_index));
    }
    w.reserve_symbol_index(Some(descriptor_index));
    let num_local_symbols = 1 + input.symbols.len() as u32;

    // Program headers: LOAD R, [LOAD RX], LOAD RW, DYNAMIC, GNU_RELRO,
    // GNU_STACK. The RX segment is dropped when there is no code, because a
    // zero-length PT_LOAD is pointless (and a zero-length mmap fails).
    let has_text = !input.text.is_empty();
    let phnum = 5 + u32::from(has_text) + u32::from(has_unwind);

    w.reserve_file_header();
    w.reserve_program_headers(phnum);
    // One bucket is plenty for one symbol.
    let hash_offset = w.reserve_hash(1, 2) as u64;
    // GNU hash: symbol_base 1 (skips the null symbol), one 64-bit bloom word.
    let gnu_hash_offset = w.reserve_gnu_hash(1, 1, 1) as u64;
    let dynsym_offset = w.reserve_dynsym() as u64;
    let dynstr_offset = w.reserve_dynstr() as u64;
    let dynstr_len = w.dynstr_len() as u64;
    let descriptor_offset = w.reserve(input.descriptor_len, DATA_ALIGN) as u64;
    let rodata_offset = w.reserve(input.rodata.len(), DATA_ALIGN) as u64;
    let (eh_hdr_len, eh_frame_len) = if has_unwind {
        (eh_frame::eh_frame_hdr_len(input.unwind), eh_frame::eh_frame_len(input.unwind))
    } else {
        (0, 0)
    };
    let eh_hdr_offset = w.reserve(eh_hdr_len, 4) as u64;
    let eh_frame_offset = w.reserve(eh_frame_len, 8) as u64;
    let ro_end = w.reserved_len() as u64;

    // .text starts on a fresh page so the executable mapping contains only
    // code (the equivalent of `ld -z separate-code`).
    let text_offset = align_up(ro_end, PAGE);
    let unwind_addrs =
        UnwindAddrs { text: text_offset, eh_frame: eh_frame_offset, eh_frame_hdr: eh_hdr_offset };
    let (eh_hdr, eh_frame) = if has_unwind {
        let frame = eh_frame::eh_frame(input.unwind, unwind_addrs);
        (eh_frame::eh_frame_hdr(&frame, unwind_addrs), frame)
    } else {
        (Vec::new(), Vec::new())
    };
    debug_assert_eq!((eh_hdr.len(), eh_frame.len()), (eh_hdr_len, eh_frame_len));
    let debug = (input.make_debug)(text_offset);
    assert_eq!(debug.len(), input.debug_names.len(), "one body per debug section name");
    w.reserve_until(text_offset as usize);
    w.reserve(input.text.len(), 1);
    let text_end = w.reserved_len() as u64;

    // .dynamic on its own page too: the page that holds it is mapped
    // writable at first, and it must not share a page with code.
    let dynamic_offset = align_up(text_end, PAGE);
    w.reserve_until(dynamic_offset as usize);
    let dynamic_count = 7 + usize::from(soname_dynstr.is_some());
    let reserved_dynamic = w.reserve_dynamic(dynamic_count) as u64;
    debug_assert_eq!(reserved_dynamic, dynamic_offset);
    let dynamic_size = (dynamic_count * std::mem::size_of::<elf::Dyn64<Endianness>>()) as u64;
    // Rounded up so that glibc's RELRO mprotect (which rounds the end *down*
    // to a page) covers the page; the excess is zero-filled "bss".
    let dynamic_memsz = align_up(dynamic_size, PAGE);

    let debug_offsets: Vec<u64> = debug.iter().map(|b| w.reserve(b.len(), 1) as u64).collect();
    w.reserve_symtab();
    w.reserve_strtab();
    w.reserve_shstrtab();
    w.reserve_section_headers();

    // Every loaded byte has vaddr == file offset.
    let addrs =
        DescriptorAddrs { descriptor: descriptor_offset, rodata: rodata_offset, text: text_offset };
    let descriptor = (input.make_descriptor)(addrs);
    assert_eq!(
        descriptor.len(),
        input.descriptor_len,
        "make_descriptor returned {} bytes, descriptor_len is {}",
        descriptor.len(),
        input.descriptor_len
    );

    // ---- Phase 2: write in the same order ---------------------------------
    w.write_file_header(&FileHeader {
        os_abi: elf::ELFOSABI_NONE,
        abi_version: 0,
        e_type: elf::ET_DYN,
        e_machine: elf::EM_X86_64,
        e_entry: 0,
        e_flags: 0,
    })?;

    w.write_align_program_headers();
    w.write_program_header(&ProgramHeader {
        p_type: elf::PT_LOAD,
        p_flags: elf::PF_R,
        p_offset: 0,
        p_vaddr: 0,
        p_paddr: 0,
        p_filesz: ro_end,
        p_memsz: ro_end,
        p_align: PAGE,
    });
    if has_text {
        w.write_program_header(&ProgramHeader {
            p_type: elf::PT_LOAD,
            p_flags: elf::PF_R | elf::PF_X,
            p_offset: text_offset,
            p_vaddr: text_offset,
            p_paddr: text_offset,
            p_filesz: input.text.len() as u64,
            p_memsz: input.text.len() as u64,
            p_align: PAGE,
        });
    }
    w.write_program_header(&ProgramHeader {
        p_type: elf::PT_LOAD,
        p_flags: elf::PF_R | elf::PF_W,
        p_offset: dynamic_offset,
        p_vaddr: dynamic_offset,
        p_paddr: dynamic_offset,
        p_filesz: dynamic_size,
        p_memsz: dynamic_memsz,
        p_align: PAGE,
    });
    w.write_program_header(&ProgramHeader {
        p_type: elf::PT_DYNAMIC,
        p_flags: elf::PF_R | elf::PF_W,
        p_offset: dynamic_offset,
        p_vaddr: dynamic_offset,
        p_paddr: dynamic_offset,
        p_filesz: dynamic_size,
        p_memsz: dynamic_size,
        p_align: 8,
    });
    // After loading, glibc makes this range read-only again, so a loaded
    // artifact has no writable mapping at all.
    w.write_program_header(&ProgramHeader {
        p_type: elf::PT_GNU_RELRO,
        p_flags: elf::PF_R,
        p_offset: dynamic_offset,
        p_vaddr: dynamic_offset,
        p_paddr: dynamic_offset,
        p_filesz: dynamic_size,
        p_memsz: dynamic_memsz,
        p_align: 1,
    });
    // Unwinders find the search table of .eh_frame through this.
    if has_unwind {
        w.write_program_header(&ProgramHeader {
            p_type: elf::PT_GNU_EH_FRAME,
            p_flags: elf::PF_R,
            p_offset: eh_hdr_offset,
            p_vaddr: eh_hdr_offset,
            p_paddr: eh_hdr_offset,
            p_filesz: eh_hdr_len as u64,
            p_memsz: eh_hdr_len as u64,
            p_align: 4,
        });
    }
    // Without PT_GNU_STACK glibc assumes the object needs an executable
    // stack: it would mprotect every thread stack RWX (or refuse the dlopen
    // where that is disallowed, as newer glibc versions do).
    w.write_program_header(&ProgramHeader {
        p_type: elf::PT_GNU_STACK,
        p_flags: elf::PF_R | elf::PF_W,
        p_offset: 0,
        p_vaddr: 0,
        p_paddr: 0,
        p_filesz: 0,
        p_memsz: 0,
        p_align: 16,
    });

    // Both hash tables: glibc uses DT_GNU_HASH when present; DT_HASH keeps
    // other loaders and tools (and old ones) happy. Index 0 is the null
    // symbol, index 1 the descriptor.
    let sysv_hash = elf::hash(descriptor_name);
    w.write_hash(1, 2, |i| (i == 1).then_some(sysv_hash));
    let gnu_hash = elf::gnu_hash(descriptor_name);
    w.write_gnu_hash(1, 6, 1, 1, 1, |_| gnu_hash);

    w.write_null_dynamic_symbol();
    w.write_dynamic_symbol(&Sym {
        name: Some(descriptor_dynstr),
        section: Some(descriptor_index),
        st_info: (elf::STB_GLOBAL << 4) | elf::STT_OBJECT,
        st_other: elf::STV_DEFAULT,
        st_shndx: 0,
        st_value: descriptor_offset,
        st_size: input.descriptor_len as u64,
    });
    w.write_dynstr();

    w.write_align(DATA_ALIGN);
    w.write(&descriptor);
    w.write_align(DATA_ALIGN);
    w.write(input.rodata);
    w.write_align(4);
    w.write(&eh_hdr);
    w.write_align(8);
    w.write(&eh_frame);

    w.pad_until(text_offset as usize);
    w.write(input.text);

    w.pad_until(dynamic_offset as usize);
    w.write_align_dynamic();
    w.write_dynamic(elf::DT_HASH, hash_offset);
    w.write_dynamic(elf::DT_GNU_HASH, gnu_hash_offset);
    w.write_dynamic(elf::DT_STRTAB, dynstr_offset);
    w.write_dynamic(elf::DT_SYMTAB, dynsym_offset);
    w.write_dynamic(elf::DT_STRSZ, dynstr_len);
    w.write_dynamic(elf::DT_SYMENT, std::mem::size_of::<elf::Sym64<Endianness>>() as u64);
    if let Some(id) = soname_dynstr {
        w.write_dynamic_string(elf::DT_SONAME, id);
    }
    w.write_dynamic(elf::DT_NULL, 0);

    for (bytes, &at) in debug.iter().zip(&debug_offsets) {
        w.pad_until(at as usize);
        w.write(bytes);
    }

    w.write_null_symbol();
    for (sym, name) in input.symbols.iter().zip(&symbol_strs) {
        w.write_symbol(&Sym {
            name: Some(*name),
            section: Some(text_index),
            st_info: (elf::STB_LOCAL << 4) | elf::STT_FUNC,
            st_other: elf::STV_DEFAULT,
            st_shndx: 0,
            st_value: text_offset + u64::from(sym.offset),
            st_size: u64::from(sym.size),
        });
    }
    w.write_symbol(&Sym {
        name: Some(descriptor_str),
        section: Some(descriptor_index),
        st_info: (elf::STB_GLOBAL << 4) | elf::STT_OBJECT,
        st_other: elf::STV_DEFAULT,
        st_shndx: 0,
        st_value: descriptor_offset,
        st_size: input.descriptor_len as u64,
    });
    w.write_strtab();
    w.write_shstrtab();

    // Section headers, in index order.
    w.write_null_section_header();
    w.write_hash_section_header(hash_offset);
    w.write_gnu_hash_section_header(gnu_hash_offset);
    w.write_dynsym_section_header(dynsym_offset, 1);
    w.write_dynstr_section_header(dynstr_offset);
    w.write_section_header(&SectionHeader {
        name: Some(descriptor_name_id),
        sh_type: elf::SHT_PROGBITS,
        sh_flags: u64::from(elf::SHF_ALLOC),
        sh_addr: descriptor_offset,
        sh_offset: descriptor_offset,
        sh_size: input.descriptor_len as u64,
        sh_link: 0,
        sh_info: 0,
        sh_addralign: DATA_ALIGN as u64,
        sh_entsize: 0,
    });
    w.write_section_header(&SectionHeader {
        name: Some(rodata_name_id),
        sh_type: elf::SHT_PROGBITS,
        sh_flags: u64::from(elf::SHF_ALLOC),
        sh_addr: rodata_offset,
        sh_offset: rodata_offset,
        sh_size: input.rodata.len() as u64,
        sh_link: 0,
        sh_info: 0,
        sh_addralign: DATA_ALIGN as u64,
        sh_entsize: 0,
    });
    if let Some((hdr_name, frame_name)) = eh_names {
        for (name, offset, size, align) in [
            (hdr_name, eh_hdr_offset, eh_hdr_len, 4),
            (frame_name, eh_frame_offset, eh_frame_len, 8),
        ] {
            w.write_section_header(&SectionHeader {
                name: Some(name),
                sh_type: elf::SHT_PROGBITS,
                sh_flags: u64::from(elf::SHF_ALLOC),
                sh_addr: offset,
                sh_offset: offset,
                sh_size: size as u64,
                sh_link: 0,
                sh_info: 0,
                sh_addralign: align,
                sh_entsize: 0,
            });
        }
    }
    w.write_section_header(&SectionHeader {
        name: Some(text_name_id),
        sh_type: elf::SHT_PROGBITS,
        sh_flags: u64::from(elf::SHF_ALLOC | elf::SHF_EXECINSTR),
        sh_addr: text_offset,
        sh_offset: text_offset,
        sh_size: input.text.len() as u64,
        sh_link: 0,
        sh_info: 0,
        sh_addralign: DATA_ALIGN as u64,
        sh_entsize: 0,
    });
    w.write_dynamic_section_header(dynamic_offset);
    for ((name, bytes), &at) in debug_ids.iter().zip(&debug).zip(&debug_offsets) {
        w.write_section_header(&SectionHeader {
            name: Some(*name),
            sh_type: elf::SHT_PROGBITS,
            sh_flags: 0,
            sh_addr: 0,
            sh_offset: at,
            sh_size: bytes.len() as u64,
            sh_link: 0,
            sh_info: 0,
            sh_addralign: 1,
            sh_entsize: 0,
        });
    }
    w.write_symtab_section_header(num_local_symbols);
    w.write_strtab_section_header();
    w.write_shstrtab_section_header();

    debug_assert_eq!(w.reserved_len(), w.len());
    // The writer borrows `out`; end that borrow before handing `out` back.
    drop(w);
    Ok(out)
}

#[cfg(test)]
// dlopen and calling generated code are inherently unsafe; the writer is not.
#[allow(unsafe_code)]
mod tests {
    use super::*;
    use object::read::elf::Dyn as _;
    use object::read::elf::{ElfFile64, FileHeader as _, ProgramHeader as _, SectionHeader as _};
    use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    const MAGIC: &[u8; 8] = b"ELFWTEST";
    const DESC_SYM: &str = "scion_test_descriptor";
    /// Descriptor used by the tests: magic, then `text - descriptor`,
    /// `rodata - descriptor` (both i64) and the rodata length.
    const DESC_LEN: usize = 32;

    fn make_desc(rodata_len: usize) -> impl Fn(DescriptorAddrs) -> Vec<u8> {
        move |a: DescriptorAddrs| {
            let mut d = Vec::with_capacity(DESC_LEN);
            d.extend_from_slice(MAGIC);
            d.extend_from_slice(&(a.text as i64 - a.descriptor as i64).to_le_bytes());
            d.extend_from_slice(&(a.rodata as i64 - a.descriptor as i64).to_le_bytes());
            d.extend_from_slice(&(rodata_len as u64).to_le_bytes());
            d
        }
    }

    /// `.text` with two functions: `mov eax, ret0; ret` at 0 and
    /// `lea eax, [rdi + 1]; ret` at 16 (padded with int3).
    fn sample_text(ret0: u32) -> Vec<u8> {
        let mut t = vec![0xb8];
        t.extend_from_slice(&ret0.to_le_bytes());
        t.push(0xc3);
        t.resize(16, 0xcc);
        t.extend_from_slice(&[0x8d, 0x47, 0x01, 0xc3]);
        t
    }

    const SYMS: [TextSymbol<'static>; 2] = [
        TextSymbol { name: "wasm_function_0", offset: 0, size: 6 },
        TextSymbol { name: "wasm_function_1", offset: 16, size: 4 },
    ];

    fn sample_rodata(seed: u8) -> Vec<u8> {
        (0..100u8).map(|i| i.wrapping_mul(7).wrapping_add(seed)).collect()
    }

    fn build(
        text: &[u8],
        rodata: &[u8],
        symbols: &[TextSymbol<'_>],
        soname: Option<&str>,
    ) -> Vec<u8> {
        let make = make_desc(rodata.len());
        write_shared_object(&SharedObjectInput {
            text,
            rodata,
            descriptor_symbol: DESC_SYM,
            descriptor_len: DESC_LEN,
            make_descriptor: &make,
            symbols,
            soname,
            unwind: &[],
            debug_names: &[],
            make_debug: &|_| Vec::new(),
        })
        .expect("write_shared_object")
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);
    impl TempDir {
        fn new() -> TempDir {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("scion-elf-test-{}-{}", std::process::id(), n));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
        fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// The descriptor's fields read through the loaded library.
    struct Loaded {
        desc: *const u8,
        text: *const u8,
        rodata: *const u8,
        rodata_len: usize,
    }

    fn inspect(lib: &libloading::Library) -> Loaded {
        let mut name = DESC_SYM.as_bytes().to_vec();
        name.push(0);
        // SAFETY: the symbol is a data object; we only take its address.
        let sym: libloading::Symbol<'_, *const u8> = unsafe { lib.get(&name) }.unwrap();
        let desc = *sym;
        // SAFETY: the descriptor is DESC_LEN readable bytes in the mapped image.
        let bytes = unsafe { std::slice::from_raw_parts(desc, DESC_LEN) };
        assert_eq!(&bytes[..8], MAGIC);
        let field = |i: usize| i64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().unwrap());
        Loaded {
            desc,
            text: desc.wrapping_offset(field(1) as isize),
            rodata: desc.wrapping_offset(field(2) as isize),
            rodata_len: field(3) as usize,
        }
    }

    /// Lines of /proc/self/maps that map `path`.
    fn mappings_of(path: &Path) -> Vec<String> {
        let canon = std::fs::canonicalize(path).unwrap();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        maps.lines().filter(|l| l.ends_with(canon.to_str().unwrap())).map(str::to_owned).collect()
    }

    #[test]
    // Runs the generated x86-64 code and reads /proc/self/maps.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    fn dlopen_call_and_read_rodata() {
        let dir = TempDir::new();
        let (rodata_a, rodata_b) = (sample_rodata(1), sample_rodata(99));
        let a = build(&sample_text(42), &rodata_a, &SYMS, Some("libscion_a.so"));
        let b = build(&sample_text(7), &rodata_b, &SYMS, None);
        let path_a = dir.write("a.so", &a);
        let path_b = dir.write("b.so", &b);

        // SAFETY: the objects have no initializers and no dependencies.
        let lib_a = unsafe { libloading::Library::new(&path_a) }.unwrap();
        let lib_b = unsafe { libloading::Library::new(&path_b) }.unwrap();
        for (lib, ret0, rodata) in [(&lib_a, 42, &rodata_a), (&lib_b, 7, &rodata_b)] {
            let l = inspect(lib);
            assert_eq!(l.desc as usize % 16, 0, "descriptor is 16-byte aligned");
            assert_eq!(l.rodata as usize % 16, 0, "rodata is 16-byte aligned");
            assert_eq!(l.text as usize % 4096, 0, "text is page aligned");
            // SAFETY: text points at the functions built by sample_text.
            let f0: extern "C" fn() -> i32 = unsafe { std::mem::transmute(l.text) };
            let f1: extern "C" fn(i32) -> i32 =
                unsafe { std::mem::transmute(l.text.wrapping_add(16)) };
            assert_eq!(f0(), ret0);
            assert_eq!(f1(41), 42);
            assert_eq!(l.rodata_len, rodata.len());
            // SAFETY: rodata_len bytes of .rodata are mapped.
            let got = unsafe { std::slice::from_raw_parts(l.rodata, l.rodata_len) };
            assert_eq!(got, &rodata[..]);
        }
        // Distinct images, not one handle returned twice.
        assert_ne!(inspect(&lib_a).desc, inspect(&lib_b).desc);

        // After loading (RELRO applied) no page of the image is writable,
        // and in particular none is writable and executable.
        for path in [&path_a, &path_b] {
            let maps = mappings_of(path);
            assert!(maps.len() >= 2, "expected R, RX and RELRO mappings: {maps:?}");
            for line in &maps {
                let perms = line.split_whitespace().nth(1).unwrap();
                assert!(!perms.contains('w'), "writable mapping after load: {line}");
            }
            assert_eq!(maps.iter().filter(|l| l.contains(" r-xp ")).count(), 1, "{maps:?}");
        }

        drop(lib_a);
        drop(lib_b);
        // dlclose really unmapped both images.
        assert!(mappings_of(&path_a).is_empty());
        assert!(mappings_of(&path_b).is_empty());
    }

    #[test]
    // Runs the generated x86-64 code and reads /proc/self/maps.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    fn dlopen_edge_cases() {
        // No code, no data, no symbols, no soname: still a valid object.
        let dir = TempDir::new();
        for (i, (text, rodata, syms)) in [
            (vec![], vec![], &[][..]),
            (sample_text(5), vec![], &SYMS[..]),
            (vec![], sample_rodata(3), &[][..]),
            // A code size that is exactly one page, so .dynamic starts right after.
            (
                vec![0xc3; 4096],
                sample_rodata(4),
                // A NUL inside a name and an empty name are both tolerated.
                &[
                    TextSymbol { name: "a\0b", offset: 0, size: 4096 },
                    TextSymbol { name: "", offset: 1, size: 1 },
                ][..],
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let bytes = build(&text, &rodata, syms, None);
            let path = dir.write(&format!("edge{i}.so"), &bytes);
            // SAFETY: as above.
            let lib = unsafe { libloading::Library::new(&path) }
                .unwrap_or_else(|e| panic!("case {i}: {e}"));
            let l = inspect(&lib);
            assert_eq!(l.rodata_len, rodata.len());
            let got = unsafe { std::slice::from_raw_parts(l.rodata, l.rodata_len) };
            assert_eq!(got, &rodata[..]);
            if !text.is_empty() {
                let f0: extern "C" fn() -> i32 = unsafe { std::mem::transmute(l.text) };
                if i == 1 {
                    assert_eq!(f0(), 5);
                } else {
                    f0(); // just `ret`
                }
            }
        }
    }

    fn dynamic_tags(file: &ElfFile64<'_>) -> Vec<(i64, u64)> {
        let e = file.endian();
        let data = file.data();
        let mut tags = Vec::new();
        for ph in file.elf_program_headers() {
            if let Some(dynamic) = ph.dynamic(e, data).unwrap() {
                for d in dynamic {
                    tags.push((d.d_tag(e) as i64, d.d_val(e)));
                }
            }
        }
        tags
    }

    #[test]
    fn structure_is_what_loaders_and_tools_expect() {
        let text = sample_text(42);
        let rodata = sample_rodata(1);
        let bytes = build(&text, &rodata, &SYMS, Some("libscion_test.so"));
        let file = ElfFile64::<Endianness>::parse(&bytes[..]).unwrap();
        let e = file.endian();
        let header = file.elf_header();
        assert_eq!(header.e_ident().class, elf::ELFCLASS64);
        assert_eq!(header.e_ident().data, elf::ELFDATA2LSB);
        assert_eq!(header.e_type(e), elf::ET_DYN);
        assert_eq!(header.e_machine(e), elf::EM_X86_64);
        assert_eq!(header.e_entry(e), 0);

        // Segments.
        let phdrs = file.elf_program_headers();
        let loads: Vec<_> = phdrs.iter().filter(|p| p.p_type(e) == elf::PT_LOAD).collect();
        assert_eq!(loads.len(), 3);
        for p in &loads {
            let flags = p.p_flags(e);
            assert!(!(flags & elf::PF_W != 0 && flags & elf::PF_X != 0), "W+X segment");
            assert_eq!(p.p_align(e), PAGE);
            assert_eq!(p.p_offset(e) % PAGE, p.p_vaddr(e) % PAGE);
            assert!(p.p_filesz(e) <= p.p_memsz(e));
        }
        // Loads are sorted by address and do not share pages.
        for pair in loads.windows(2) {
            let end = pair[0].p_vaddr(e) + pair[0].p_memsz(e);
            assert!(align_up(end, PAGE) <= pair[1].p_vaddr(e));
        }
        assert_eq!(loads[0].p_flags(e), elf::PF_R);
        assert_eq!(loads[0].p_offset(e), 0, "headers are in the first segment");
        assert_eq!(loads[1].p_flags(e), elf::PF_R | elf::PF_X);
        assert_eq!(loads[2].p_flags(e), elf::PF_R | elf::PF_W);
        let stack: Vec<_> = phdrs.iter().filter(|p| p.p_type(e) == elf::PT_GNU_STACK).collect();
        assert_eq!(stack.len(), 1);
        assert_eq!(stack[0].p_flags(e) & elf::PF_X, 0);
        assert_eq!(phdrs.iter().filter(|p| p.p_type(e) == elf::PT_DYNAMIC).count(), 1);

        // Sections live in the right segments.
        let segment_of = |addr: u64| {
            loads
                .iter()
                .find(|p| p.p_vaddr(e) <= addr && addr < p.p_vaddr(e) + p.p_memsz(e))
                .map(|p| p.p_flags(e))
        };
        let section = |name: &str| file.section_by_name(name).unwrap_or_else(|| panic!("{name}"));
        for name in [".hash", ".gnu.hash", ".dynsym", ".dynstr", DESCRIPTOR_SECTION, ".rodata"] {
            assert_eq!(segment_of(section(name).address()), Some(elf::PF_R), "{name}");
        }
        assert_eq!(segment_of(section(".text").address()), Some(elf::PF_R | elf::PF_X));
        assert_eq!(segment_of(section(".dynamic").address()), Some(elf::PF_R | elf::PF_W));
        for name in [".symtab", ".strtab", ".shstrtab"] {
            assert_eq!(section(name).address(), 0, "{name} is not loaded");
        }
        assert_eq!(section(".text").data().unwrap(), &text[..]);
        assert_eq!(section(".rodata").data().unwrap(), &rodata[..]);
        assert_eq!(section(".rodata").address() % 16, 0);
        // Every allocated section's file offset equals its address.
        for s in file.elf_section_table().iter() {
            if s.sh_flags(e) & u64::from(elf::SHF_ALLOC) != 0 {
                assert_eq!(s.sh_addr(e), s.sh_offset(e));
            }
        }

        // Dynamic table.
        // `object` has no constant for DT_RELR (SHT_RELR's dynamic tag).
        const DT_RELR: u32 = 36;
        let tags = dynamic_tags(&file);
        let has = |t: u32| tags.iter().any(|&(tag, _)| tag == i64::from(t));
        for t in [
            elf::DT_HASH,
            elf::DT_GNU_HASH,
            elf::DT_STRTAB,
            elf::DT_SYMTAB,
            elf::DT_STRSZ,
            elf::DT_SYMENT,
            elf::DT_SONAME,
        ] {
            assert!(has(t), "missing dynamic tag {t}");
        }
        for t in [
            elf::DT_NEEDED,
            elf::DT_TEXTREL,
            elf::DT_RELA,
            elf::DT_REL,
            DT_RELR,
            elf::DT_JMPREL,
            elf::DT_INIT,
            elf::DT_INIT_ARRAY,
        ] {
            assert!(!has(t), "unexpected dynamic tag {t}");
        }
        assert_eq!(tags.last(), Some(&(i64::from(elf::DT_NULL), 0)));
        let soname_off = tags.iter().find(|t| t.0 == i64::from(elf::DT_SONAME)).unwrap().1;
        let dynstr = section(".dynstr").data().unwrap();
        assert!(dynstr[soname_off as usize..].starts_with(b"libscion_test.so\0"));
        // No relocation sections at all.
        assert!(
            file.elf_section_table()
                .iter()
                .all(|s| { ![elf::SHT_REL, elf::SHT_RELA, elf::SHT_RELR].contains(&s.sh_type(e)) })
        );

        // Dynamic symbol: the descriptor, found through both hash tables.
        let desc_addr = section(DESCRIPTOR_SECTION).address();
        let dynsyms: Vec<_> = file.dynamic_symbols().collect();
        assert_eq!(dynsyms.len(), 1);
        let d = &dynsyms[0];
        assert_eq!(d.name().unwrap(), DESC_SYM);
        assert_eq!(d.address(), desc_addr);
        assert_eq!(d.size(), DESC_LEN as u64);
        assert_eq!(d.kind(), object::SymbolKind::Data);
        assert!(d.is_global() && !d.is_undefined());
        let raw = d.elf_symbol();
        assert_eq!(raw.st_bind(), elf::STB_GLOBAL);
        assert_eq!(raw.st_type(), elf::STT_OBJECT);
        assert_eq!(raw.st_visibility(), elf::STV_DEFAULT);

        let sections = file.elf_section_table();
        let dynsym_table = sections.symbols(e, file.data(), elf::SHT_DYNSYM).unwrap();
        let versions = sections.versions(e, file.data()).unwrap().unwrap_or_default();
        let name = DESC_SYM.as_bytes();
        let (hash, _) = sections.hash(e, file.data()).unwrap().expect(".hash");
        let (idx, _) = hash
            .find(e, name, elf::hash(name), None, &dynsym_table, &versions)
            .expect("found via DT_HASH");
        assert_eq!(idx.0, 1);
        let (gnu, _) = sections.gnu_hash(e, file.data()).unwrap().expect(".gnu.hash");
        let (idx, _) = gnu
            .find(e, name, elf::gnu_hash(name), None, &dynsym_table, &versions)
            .expect("found via DT_GNU_HASH");
        assert_eq!(idx.0, 1);
        // A name that is absent is not found.
        assert!(
            gnu.find(e, b"nope", elf::gnu_hash(b"nope"), None, &dynsym_table, &versions).is_none()
        );

        // Static symbols: the functions at text address + offset.
        let text_addr = section(".text").address();
        let text_index = section(".text").index();
        for s in &SYMS {
            let sym = file.symbols().find(|x| x.name() == Ok(s.name)).unwrap();
            assert_eq!(sym.address(), text_addr + u64::from(s.offset), "{}", s.name);
            assert_eq!(sym.size(), u64::from(s.size));
            assert_eq!(sym.kind(), object::SymbolKind::Text);
            assert_eq!(sym.section_index(), Some(text_index));
        }
        let desc = file.symbols().find(|x| x.name() == Ok(DESC_SYM)).unwrap();
        assert_eq!(desc.address(), desc_addr);

        // The descriptor bytes encode the final layout.
        let desc_bytes = section(DESCRIPTOR_SECTION).data().unwrap();
        assert_eq!(&desc_bytes[..8], MAGIC);
        let field = |i: usize| i64::from_le_bytes(desc_bytes[8 * i..8 * i + 8].try_into().unwrap());
        assert_eq!(desc_addr as i64 + field(1), text_addr as i64);
        assert_eq!(desc_addr as i64 + field(2), section(".rodata").address() as i64);
    }

    #[test]
    fn output_is_deterministic() {
        let a = build(&sample_text(1), &sample_rodata(2), &SYMS, Some("x.so"));
        let b = build(&sample_text(1), &sample_rodata(2), &SYMS, Some("x.so"));
        assert_eq!(a, b);
        let c = build(&sample_text(1), &sample_rodata(3), &SYMS, Some("x.so"));
        assert_ne!(a, c);
    }

    #[test]
    #[should_panic(expected = "make_descriptor returned")]
    fn descriptor_length_mismatch_panics() {
        let make = |_: DescriptorAddrs| vec![0u8; 3];
        let _ = write_shared_object(&SharedObjectInput {
            text: &[0xc3],
            rodata: &[],
            descriptor_symbol: DESC_SYM,
            descriptor_len: 8,
            make_descriptor: &make,
            symbols: &[],
            soname: None,
            unwind: &[],
            debug_names: &[],
            make_debug: &|_| Vec::new(),
        });
    }

    #[test]
    #[should_panic(expected = "extends past the end of .text")]
    fn symbol_out_of_range_panics() {
        build(&[0xc3], &[], &[TextSymbol { name: "f", offset: 0, size: 2 }], None);
    }

    /// Cross-check with binutils when it is installed: readelf must print no
    /// warnings and see what we meant to write. Skipped silently otherwise.
    #[test]
    fn readelf_is_clean_when_available() {
        let dir = TempDir::new();
        let readelf = |bytes: &[u8], name: &str| -> Option<String> {
            let path = dir.write(name, bytes);
            // `-a` also runs readelf's consistency checks on every table.
            let out = std::process::Command::new("readelf")
                .args(["-W", "-a"])
                .arg(&path)
                .output()
                .ok()?; // readelf not installed: nothing to check
            assert!(out.status.success());
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.trim().is_empty(), "readelf warnings:\n{stderr}");
            assert!(!stdout.to_lowercase().contains("warning"), "{stdout}");
            Some(stdout)
        };
        // The degenerate object (no code, no data, no symbols) is clean too.
        if readelf(&build(&[], &[], &[], None), "empty.so").is_none() {
            return;
        }
        let bytes = build(&sample_text(42), &sample_rodata(1), &SYMS, Some("libscion_test.so"));
        let stdout = readelf(&bytes, "r.so").unwrap();
        assert!(stdout.contains("DYN (Shared object file)"), "{stdout}");
        assert!(stdout.contains("GNU_STACK"));
        assert!(stdout.contains("Library soname: [libscion_test.so]"));
        assert!(!stdout.contains("NEEDED") && !stdout.contains("TEXTREL"));
        assert!(stdout.contains("wasm_function_0") && stdout.contains("wasm_function_1"));
        assert!(stdout.contains(DESC_SYM));
    }
}
