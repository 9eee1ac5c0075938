//! The ELF checks: an artifact's bytes as glibc's dynamic loader would see
//! them. Scion maps artifacts itself (`load.rs`), but an artifact stays a
//! shared object that tools (and `dlopen`) can open without harm, and the
//! checks pin down the layout the mapping relies on.
//!
//! **Sandbox-critical.** `dlopen` runs code of the object it maps
//! (initializers, IFUNC resolvers, audit and filter libraries, other
//! libraries it needs) and applies its relocations. These checks accept
//! only the shape `elf.rs` writes, so that mapping an accepted file runs
//! nothing and writes nothing:
//!
//! - the ELF header is x86-64, little-endian, `ET_DYN`, with 56-byte
//!   program headers inside the file;
//! - every program header is `PT_LOAD`, `PT_DYNAMIC`, `PT_GNU_RELRO`,
//!   `PT_GNU_STACK` or `PT_GNU_EH_FRAME` (no `PT_INTERP`, `PT_TLS`, notes
//!   or properties); the unwind table `PT_GNU_EH_FRAME` points at, if any,
//!   lies at its address inside the read-only segment;
//! - every `PT_LOAD` is page-aligned with **file offset equal to its
//!   address** (so the file view and the memory view of every loaded byte
//!   are the same bytes, which defeats a dynamic section that reads one way
//!   at `p_offset` and another at `p_vaddr`), lies inside the file, is
//!   `R`, `R+X` or `R+W`, and shares no page with another; the first is
//!   `R` at address 0 and holds the headers; exactly one is executable;
//! - `PT_DYNAMIC` is at its `p_vaddr` inside the file-backed part of a
//!   non-executable `PT_LOAD`, and holds only `DT_HASH`, `DT_GNU_HASH`,
//!   `DT_STRTAB`, `DT_SYMTAB`, `DT_STRSZ`, `DT_SYMENT` and `DT_SONAME`
//!   before its `DT_NULL` (so no `DT_NEEDED`, `DT_INIT*`, `DT_PREINIT_ARRAY`,
//!   `DT_FINI*`, relocations, `DT_TEXTREL`, search paths, filters, audit
//!   libraries, flags or versions), each once, pointing into the read-only
//!   segment;
//! - `PT_GNU_STACK` exists and is not executable (else glibc would make
//!   every thread stack executable); `PT_GNU_RELRO` lies in the writable
//!   segment;
//! - no dynamic symbol is an IFUNC, TLS or `STB_GNU_UNIQUE` symbol, and the
//!   descriptor symbol is a defined object of the descriptor's size in the
//!   read-only segment.
//!
//! The checks read the headers, the dynamic section and the dynamic
//! symbols: a few hundred bytes, well under a microsecond.

use crate::contract::artifact::{DESCRIPTOR_SYMBOL, Descriptor};

/// x86-64 Linux page size (the writer's segment alignment).
pub const PAGE: u64 = 0x1000;

/// Largest image accepted (the address span of all segments).
const MAX_IMAGE: u64 = 1 << 36;

const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// A `PT_LOAD` segment. Its file offset equals `vaddr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Address relative to the load base (page-aligned), and file offset.
    pub vaddr: u64,
    /// Bytes backed by the file.
    pub filesz: u64,
    /// Bytes in memory (more than `filesz` only for zero-filled data).
    pub memsz: u64,
    /// `PF_R`, `PF_R | PF_X` or `PF_R | PF_W`.
    pub flags: u32,
}

/// What the checks established about an artifact's layout.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The loadable segments, by address.
    pub segments: Vec<Segment>,
    /// Address of the dynamic section.
    pub dynamic: u64,
    /// Address of the descriptor (the value of [`DESCRIPTOR_SYMBOL`]).
    pub descriptor: u64,
    /// Address and length of `.eh_frame_hdr` (`PT_GNU_EH_FRAME`), if any.
    pub eh_frame_hdr: Option<(u64, u64)>,
}

impl Layout {
    /// Whether `[start, start + len)` lies in the file-backed part of one
    /// segment whose flags are exactly `flags`.
    pub fn in_segment(&self, start: i128, len: u64, flags: u32) -> bool {
        let end = start + len as i128;
        self.segments.iter().any(|s| {
            s.flags == flags && start >= s.vaddr as i128 && end <= (s.vaddr + s.filesz) as i128
        })
    }

    /// The executable segment (there is exactly one).
    pub fn executable(&self) -> Segment {
        *self.segments.iter().find(|s| s.flags & PF_X != 0).expect("checked: one executable")
    }

    /// The first segment: read-only, at address 0, holding the headers.
    pub fn headers(&self) -> Segment {
        self.segments[0]
    }
}

fn u16_at(b: &[u8], at: u64) -> Option<u16> {
    let at = usize::try_from(at).ok()?;
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: u64) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: u64) -> Option<u64> {
    let at = usize::try_from(at).ok()?;
    Some(u64::from_le_bytes(b.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_GNU_EH_FRAME: u32 = 0x6474_e550;
const PT_GNU_STACK: u32 = 0x6474_e551;
const PT_GNU_RELRO: u32 = 0x6474_e552;

fn program_header_name(t: u32) -> String {
    match t {
        3 => "PT_INTERP (a program interpreter)".into(),
        4 => "PT_NOTE".into(),
        5 => "PT_SHLIB".into(),
        6 => "PT_PHDR".into(),
        7 => "PT_TLS (thread-local storage, which the loader initializes)".into(),
        0x6474_e553 => "PT_GNU_PROPERTY".into(),
        t => format!("{t:#x}"),
    }
}

const DT_NULL: u64 = 0;
const DT_HASH: u64 = 4;
const DT_STRTAB: u64 = 5;
const DT_SYMTAB: u64 = 6;
const DT_STRSZ: u64 = 10;
const DT_SYMENT: u64 = 11;
const DT_SONAME: u64 = 14;
const DT_GNU_HASH: u64 = 0x6fff_fef5;

/// Why a dynamic tag is refused, for the error message.
fn forbidden_tag(tag: u64) -> String {
    let what = match tag {
        1 => "DT_NEEDED: it needs another library, whose code would run",
        2 | 3 | 20 | 23 => "a PLT relocation tag (DT_JMPREL and friends)",
        7..=9 => "DT_RELA: it has relocations",
        17..=19 => "DT_REL: it has relocations",
        35..=37 => "DT_RELR: it has relocations",
        0x6fff_fff9 | 0x6fff_fffa => "DT_RELACOUNT/DT_RELCOUNT: it has relocations",
        12 => "DT_INIT: an initializer, which dlopen would run",
        13 => "DT_FINI: a finalizer, which dlclose would run",
        25 | 27 => "DT_INIT_ARRAY: initializers, which dlopen would run",
        26 | 28 => "DT_FINI_ARRAY: finalizers, which dlclose would run",
        32 | 33 => "DT_PREINIT_ARRAY: pre-initializers",
        22 => "DT_TEXTREL: text relocations",
        15 | 29 => "DT_RPATH/DT_RUNPATH: a library search path",
        0x7fff_fffd | 0x7fff_ffff => {
            "DT_AUXILIARY/DT_FILTER: a filter library, which would be loaded"
        }
        0x6fff_fefb | 0x6fff_fefc => {
            "DT_AUDIT/DT_DEPAUDIT: an audit library, which would be loaded"
        }
        16 | 24 | 30 | 0x6fff_fffb => "DT_SYMBOLIC/DT_BIND_NOW/DT_FLAGS/DT_FLAGS_1: loader flags",
        0x6fff_fff0 | 0x6fff_fffc..=0x6fff_ffff => "a symbol-versioning tag",
        21 => "DT_DEBUG",
        _ => "",
    };
    if what.is_empty() {
        format!("tag {tag:#x}, which Scion never writes")
    } else {
        format!("tag {tag:#x} ({what})")
    }
}

/// Checks `file` (the artifact without its signature trailer) and returns
/// its layout; see the module documentation for what is checked.
pub fn check(file: &[u8]) -> Result<Layout, String> {
    let len = file.len() as u64;
    let short = || "not an ELF file (too short)".to_string();
    if len < 64 || file[..4] != *b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    // e_ident: 64-bit, little-endian, version 1, System V ABI, zero padding
    // (glibc insists on the padding too).
    if file[4] != 2 || file[5] != 1 || file[6] != 1 || file[7] != 0 || file[8..16] != [0; 8] {
        return Err("not a 64-bit little-endian System V ELF file".into());
    }
    let e_type = u16_at(file, 16).ok_or_else(short)?;
    let e_machine = u16_at(file, 18).ok_or_else(short)?;
    if e_type != 3 || e_machine != 62 || u32_at(file, 20) != Some(1) {
        return Err("not an x86-64 shared object".into());
    }
    let phoff = u64_at(file, 32).ok_or_else(short)?;
    let ehsize = u16_at(file, 52).ok_or_else(short)?;
    let phentsize = u16_at(file, 54).ok_or_else(short)?;
    let phnum = u16_at(file, 56).ok_or_else(short)?;
    if ehsize != 64 || phentsize != 56 || phnum == 0 || phnum > 16 || !phoff.is_multiple_of(8) {
        return Err(format!(
            "unexpected ELF header (e_ehsize {ehsize}, e_phentsize {phentsize}, e_phnum {phnum}, \
             e_phoff {phoff:#x})"
        ));
    }
    let phdrs_end = phoff + u64::from(phnum) * 56;
    if phoff < 64 || phdrs_end > len {
        return Err("the program headers lie outside the file".into());
    }

    let mut segments: Vec<Segment> = Vec::new();
    let (mut dynamic, mut relro, mut stacks) = (Vec::new(), Vec::new(), 0);
    let mut eh_frame_hdrs = Vec::new();
    for i in 0..u64::from(phnum) {
        let at = phoff + i * 56;
        let p_type = u32_at(file, at).unwrap();
        let flags = u32_at(file, at + 4).unwrap();
        let offset = u64_at(file, at + 8).unwrap();
        let vaddr = u64_at(file, at + 16).unwrap();
        let filesz = u64_at(file, at + 32).unwrap();
        let memsz = u64_at(file, at + 40).unwrap();
        let align = u64_at(file, at + 48).unwrap();
        let name = format!("program header {i}");
        if offset.checked_add(filesz).is_none_or(|end| end > len) {
            return Err(format!("{name} extends past the end of the file (truncated?)"));
        }
        if vaddr.checked_add(memsz).is_none_or(|end| end > MAX_IMAGE) || filesz > memsz {
            return Err(format!("{name} has an impossible memory range"));
        }
        match p_type {
            PT_LOAD => {
                if ![PF_R, PF_R | PF_X, PF_R | PF_W].contains(&flags) {
                    return Err(format!(
                        "{name}: a segment with flags {flags:#x} (only R, R+X and R+W are loaded)"
                    ));
                }
                if align != PAGE || !vaddr.is_multiple_of(PAGE) {
                    return Err(format!("{name}: a segment not aligned to its own page"));
                }
                if offset != vaddr {
                    return Err(format!(
                        "{name}: a segment whose file offset {offset:#x} differs from its \
                         address {vaddr:#x}"
                    ));
                }
                if memsz == 0 || (flags != PF_R | PF_W && filesz != memsz) {
                    return Err(format!("{name}: a segment with unexpected sizes"));
                }
                if let Some(prev) = segments.last()
                    && (prev.vaddr + prev.memsz).div_ceil(PAGE) * PAGE > vaddr
                {
                    return Err(format!("{name}: segments out of order or sharing a page"));
                }
                segments.push(Segment { vaddr, filesz, memsz, flags });
            }
            PT_DYNAMIC => dynamic.push((offset, vaddr, filesz, memsz)),
            PT_GNU_RELRO => relro.push((vaddr, memsz)),
            PT_GNU_EH_FRAME => {
                if flags != PF_R || offset != vaddr || filesz != memsz || filesz < 12 {
                    return Err(format!("{name}: an unexpected PT_GNU_EH_FRAME"));
                }
                eh_frame_hdrs.push((vaddr, filesz));
            }
            PT_GNU_STACK => {
                if flags & PF_X != 0 {
                    return Err("asks for an executable stack (PT_GNU_STACK with PF_X)".into());
                }
                stacks += 1;
            }
            other => {
                return Err(format!("{name} has type {}", program_header_name(other)));
            }
        }
    }
    let first = *segments.first().ok_or("no loadable segment")?;
    if first.vaddr != 0 || first.flags != PF_R || first.filesz < phdrs_end {
        return Err("the first segment is not a read-only one holding the headers".into());
    }
    let executable = segments.iter().filter(|s| s.flags & PF_X != 0).count();
    if executable != 1 {
        return Err(format!("{executable} executable segments (expected exactly one)"));
    }
    if segments.iter().filter(|s| s.flags & PF_W != 0).count() > 1 {
        return Err("more than one writable segment".into());
    }
    let eh_frame_hdr = match eh_frame_hdrs[..] {
        [] => None,
        [(vaddr, len)] => {
            let inside = segments
                .iter()
                .any(|s| s.flags == PF_R && vaddr >= s.vaddr && vaddr + len <= s.vaddr + s.filesz);
            if !inside {
                return Err("PT_GNU_EH_FRAME outside the read-only segment".into());
            }
            Some((vaddr, len))
        }
        _ => return Err("more than one PT_GNU_EH_FRAME header".into()),
    };
    if stacks != 1 {
        return Err(format!("{stacks} PT_GNU_STACK headers (expected exactly one)"));
    }
    for &(vaddr, memsz) in &relro {
        let inside = segments.iter().any(|s| {
            s.flags == PF_R | PF_W && vaddr >= s.vaddr && vaddr + memsz <= s.vaddr + s.memsz
        });
        if relro.len() > 1 || !inside {
            return Err("PT_GNU_RELRO outside the writable segment".into());
        }
    }
    let [(d_offset, d_vaddr, d_filesz, d_memsz)] = dynamic[..] else {
        return Err(format!("{} PT_DYNAMIC headers (expected exactly one)", dynamic.len()));
    };
    // The loader reads the dynamic section at its address in the image;
    // with file offset equal to address in every segment, that is these
    // file bytes.
    let d_inside = segments.iter().any(|s| {
        s.flags & PF_X == 0 && d_vaddr >= s.vaddr && d_vaddr + d_memsz <= s.vaddr + s.filesz
    });
    if d_offset != d_vaddr {
        return Err(format!(
            "the dynamic section's file offset {d_offset:#x} differs from its address \
             {d_vaddr:#x} (the loader reads it at its address)"
        ));
    }
    if d_filesz != d_memsz || d_memsz == 0 || !d_memsz.is_multiple_of(16) || !d_inside {
        return Err(
            "the dynamic section is not at its address inside a loaded, non-executable segment"
                .into(),
        );
    }
    let layout = Layout { segments, dynamic: d_vaddr, descriptor: 0, eh_frame_hdr };

    // The dynamic section, up to DT_NULL (where the loader stops).
    let mut tags: [Option<u64>; 8] = [None; 8];
    let slot = |tag: u64| match tag {
        DT_HASH => Some(0),
        DT_GNU_HASH => Some(1),
        DT_STRTAB => Some(2),
        DT_SYMTAB => Some(3),
        DT_STRSZ => Some(4),
        DT_SYMENT => Some(5),
        DT_SONAME => Some(6),
        _ => None,
    };
    let mut ended = false;
    for at in (d_vaddr..d_vaddr + d_memsz).step_by(16) {
        let tag = u64_at(file, at).unwrap();
        let val = u64_at(file, at + 8).unwrap();
        if tag == DT_NULL {
            ended = true;
            break;
        }
        let Some(i) = slot(tag) else {
            return Err(format!("the dynamic section has {}", forbidden_tag(tag)));
        };
        if tags[i].replace(val).is_some() {
            return Err(format!("the dynamic section has tag {tag:#x} twice"));
        }
    }
    if !ended {
        return Err("the dynamic section has no DT_NULL".into());
    }
    let [hash, gnu_hash, strtab, symtab, strsz, syment, soname, _] = tags;
    let (Some(hash), Some(strtab), Some(symtab), Some(strsz), Some(24)) =
        (hash, strtab, symtab, strsz, syment)
    else {
        return Err("the dynamic section lacks DT_HASH, DT_STRTAB, DT_SYMTAB, DT_STRSZ or \
                    DT_SYMENT (24)"
            .into());
    };
    let read_only = |start: u64, n: u64| {
        start.checked_add(n).is_some() && layout.in_segment(start as i128, n, PF_R)
    };
    if !read_only(strtab, strsz) || soname.is_some_and(|s| s >= strsz) {
        return Err("the dynamic string table lies outside the read-only segment".into());
    }
    if !read_only(hash, 8) {
        return Err("DT_HASH points outside the read-only segment".into());
    }
    let nbucket = u64::from(u32_at(file, hash).unwrap());
    let nchain = u64::from(u32_at(file, hash + 4).unwrap());
    if !read_only(hash, 8 + 4 * (nbucket + nchain)) || nbucket == 0 {
        return Err("DT_HASH's table lies outside the read-only segment".into());
    }
    if let Some(g) = gnu_hash {
        let ok = read_only(g, 16) && {
            let nbuckets = u64::from(u32_at(file, g).unwrap());
            let bloom = u64::from(u32_at(file, g + 8).unwrap());
            bloom.is_power_of_two() && read_only(g, 16 + 8 * bloom + 4 * nbuckets)
        };
        if !ok {
            return Err("DT_GNU_HASH's table lies outside the read-only segment".into());
        }
    }
    if !read_only(symtab, 24 * nchain) {
        return Err("the dynamic symbol table lies outside the read-only segment".into());
    }

    // Dynamic symbols: nothing the loader or dlsym would run, and the
    // descriptor.
    let mut descriptor = None;
    for i in 0..nchain {
        let at = symtab + 24 * i;
        let st_name = u64::from(u32_at(file, at).unwrap());
        let info = file[at as usize + 4];
        let shndx = u16_at(file, at + 6).unwrap();
        let value = u64_at(file, at + 8).unwrap();
        let size = u64_at(file, at + 16).unwrap();
        let (bind, kind) = (info >> 4, info & 0xf);
        if kind == 10 || kind == 6 || bind == 10 {
            return Err(format!(
                "dynamic symbol {i} is an IFUNC, TLS or unique symbol (type {kind}, binding {bind})"
            ));
        }
        if st_name >= strsz {
            return Err(format!("dynamic symbol {i} has its name outside the string table"));
        }
        let names = &file[(strtab + st_name) as usize..(strtab + strsz) as usize];
        let Some(nul) = names.iter().position(|&b| b == 0) else {
            return Err(format!("dynamic symbol {i} has an unterminated name"));
        };
        if &names[..nul] != DESCRIPTOR_SYMBOL.as_bytes() {
            continue;
        }
        let desc_len = std::mem::size_of::<Descriptor>() as u64;
        if kind != 1 || shndx == 0 || size != desc_len || !read_only(value, desc_len) {
            return Err("the descriptor symbol is not a defined object in the read-only segment \
                        of the descriptor's size"
                .into());
        }
        if descriptor.replace(value).is_some() {
            return Err("two descriptor symbols".into());
        }
    }
    let descriptor = descriptor.ok_or("no descriptor symbol")?;
    Ok(Layout { descriptor, ..layout })
}
