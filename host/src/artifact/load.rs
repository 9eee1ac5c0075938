//! Loading an artifact: check it, `dlopen` it, verify it, decode its metadata.
//!
//! **Sandbox-critical.** Nothing in a file is executed before it passed
//! these checks:
//! 1. before `dlopen`: the file is an x86-64 ELF `ET_DYN` whose dynamic
//!    section has no `DT_NEEDED`, no initializers or finalizers and no
//!    relocations, so loading it runs no code;
//! 2. after `dlopen`: the descriptor's magic and format version match, its
//!    offsets stay inside the file, the checksum of metadata and code
//!    matches, and the metadata names this compiler version, the expected
//!    wasm hash and configuration, and CPU features this machine has.

use super::metadata::ArtifactMetadata;
use crate::compiler::x64::IsaFlags;
use crate::contract::artifact::{
    COMPILER_VERSION, DESCRIPTOR_SYMBOL, Descriptor, FORMAT_VERSION, MAGIC, checksum64,
};
use std::path::{Path, PathBuf};

/// Why an artifact cannot be used. The cache treats every case as "stale
/// or corrupt: recompile".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for ArtifactError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unusable artifact {}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for ArtifactError {}

/// What the loader expects to find in the artifact.
#[derive(Clone, Copy, Debug)]
pub struct Expected {
    /// SHA-256 of the wasm bytes (`None`: any module, e.g. when loading
    /// an artifact file by path).
    pub wasm_sha256: Option<[u8; 32]>,
    /// Codegen configuration hash.
    pub config_hash: u64,
}

/// A loaded, verified artifact. The code stays mapped while this lives.
pub struct LoadedArtifact {
    /// Decoded metadata.
    pub metadata: ArtifactMetadata,
    /// The trap table, in the mapped metadata region.
    trap_table: *const u8,
    trap_table_len: usize,
    /// Start of the text section in memory.
    pub text: *const u8,
    /// Length of the text section.
    pub text_len: usize,
    /// Where it was loaded from.
    pub path: PathBuf,
    // Dropped last: unmaps the code.
    _library: libloading::Library,
}

// SAFETY: the mapped code and metadata are immutable after loading; the
// library handle may be closed from any thread.
unsafe impl Send for LoadedArtifact {}
// SAFETY: as above; shared access only reads immutable memory.
unsafe impl Sync for LoadedArtifact {}

impl std::fmt::Debug for LoadedArtifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedArtifact")
            .field("path", &self.path)
            .field("text_len", &self.text_len)
            .finish()
    }
}

/// A loadable segment of the file: virtual address range and flags.
#[derive(Clone, Copy, Debug)]
struct Segment {
    vaddr: u64,
    memsz: u64,
    flags: u32,
}

/// Reads `len` bytes at `offset` of `file`, or fails if the file is
/// shorter.
fn read_at(file: &std::fs::File, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0; len];
    file.read_exact_at(&mut buf, offset)?;
    Ok(buf)
}

/// Checks that loading the file with `dlopen` runs no code, pulls in no
/// other library and maps nothing beyond the end of the file (touching
/// such a page would raise SIGBUS); returns its loadable segments. Reads
/// only the headers and the dynamic segment.
fn precheck(path: &Path) -> Result<Vec<Segment>, ArtifactError> {
    use object::elf::{FileHeader64, ProgramHeader64};
    use object::read::elf::{FileHeader, ProgramHeader};
    let fail = |reason: String| ArtifactError { path: path.to_path_buf(), reason };
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot open: {e}")))?;
    let file_len = file.metadata().map_err(|e| fail(format!("cannot stat: {e}")))?.len();
    let head_len = file_len.min(64 * 1024) as usize;
    let head = read_at(&file, 0, head_len).map_err(|e| fail(format!("cannot read: {e}")))?;
    let header = FileHeader64::<object::Endianness>::parse(&*head)
        .map_err(|e| fail(format!("not an ELF file: {e}")))?;
    let endian = header.endian().map_err(|e| fail(format!("not an ELF file: {e}")))?;
    if header.e_type(endian) != object::elf::ET_DYN
        || header.e_machine(endian) != object::elf::EM_X86_64
    {
        return Err(fail("not an x86-64 shared object".into()));
    }
    let phdrs: &[ProgramHeader64<object::Endianness>] = header
        .program_headers(endian, &*head)
        .map_err(|e| fail(format!("bad program headers: {e}")))?;
    let mut saw_dynamic = false;
    let mut segments = Vec::new();
    for ph in phdrs {
        let ptype = ph.p_type(endian);
        let (offset, filesz) = (ph.p_offset(endian), ph.p_filesz(endian));
        if offset.checked_add(filesz).is_none_or(|end| end > file_len) {
            return Err(fail("a segment extends past the end of the file (truncated)".into()));
        }
        if ptype == object::elf::PT_INTERP {
            return Err(fail("has a program interpreter".into()));
        }
        if ptype == object::elf::PT_LOAD {
            segments.push(Segment {
                vaddr: ph.p_vaddr(endian),
                memsz: ph.p_memsz(endian),
                flags: ph.p_flags(endian),
            });
        }
        if ptype != object::elf::PT_DYNAMIC {
            continue;
        }
        saw_dynamic = true;
        let bytes = read_at(&file, offset, filesz as usize)
            .map_err(|e| fail(format!("cannot read the dynamic segment: {e}")))?;
        let dynamic: &[object::elf::Dyn64<object::Endianness>] =
            object::pod::slice_from_all_bytes(&bytes)
                .map_err(|()| fail("bad dynamic segment".into()))?;
        for d in dynamic {
            let tag = d.d_tag.get(endian) as u32;
            use object::elf::*;
            const DT_RELR: u32 = 36;
            let forbidden = [
                DT_NEEDED,
                DT_INIT,
                DT_FINI,
                DT_INIT_ARRAY,
                DT_FINI_ARRAY,
                DT_PREINIT_ARRAY,
                DT_RELA,
                DT_REL,
                DT_JMPREL,
                DT_TEXTREL,
                DT_AUXILIARY,
                DT_FILTER,
                DT_RELR,
            ];
            if forbidden.contains(&tag) {
                return Err(fail(format!("dynamic section has forbidden tag {tag:#x}")));
            }
        }
    }
    if !saw_dynamic {
        return Err(fail("no dynamic section".into()));
    }
    Ok(segments)
}

/// Whether `[start, start + len)` (relative to the load base) lies in one
/// segment with exactly the permission flags `flags`.
fn in_segment(segments: &[Segment], start: i128, len: u64, flags: u32) -> bool {
    let end = start + len as i128;
    segments
        .iter()
        .any(|s| s.flags == flags && start >= s.vaddr as i128 && end <= (s.vaddr + s.memsz) as i128)
}

impl LoadedArtifact {
    /// Loads and verifies the artifact at `path`.
    pub fn load(path: &Path, expected: Expected) -> Result<LoadedArtifact, ArtifactError> {
        use object::elf::{PF_R, PF_X};
        let fail = |reason: String| ArtifactError { path: path.to_path_buf(), reason };
        let segments = precheck(path)?;
        // SAFETY: `precheck` established that loading runs no initializer and
        // resolves no other library; no symbol is called before verification.
        let library = unsafe {
            libloading::os::unix::Library::open(Some(path), libc::RTLD_NOW | libc::RTLD_LOCAL)
        }
        .map_err(|e| fail(format!("dlopen failed: {e}")))?;
        let library: libloading::Library = library.into();
        // SAFETY: the symbol is data; only its address is taken.
        let desc_ptr: *const u8 = unsafe {
            *library
                .get::<*const u8>(DESCRIPTOR_SYMBOL.as_bytes())
                .map_err(|e| fail(format!("no descriptor: {e}")))?
        };
        let base = load_base(desc_ptr).ok_or_else(|| fail("cannot find load base".into()))?;
        let desc_rel = desc_ptr as i128 - base as i128;
        let desc_len = std::mem::size_of::<Descriptor>() as u64;
        if !in_segment(&segments, desc_rel, desc_len, PF_R) {
            return Err(fail("descriptor outside the read-only segment".into()));
        }
        // SAFETY: the descriptor lies in a mapped read-only segment (checked
        // just above); reading it unaligned is always allowed.
        let desc: Descriptor = unsafe { std::ptr::read_unaligned(desc_ptr as *const Descriptor) };
        if desc.magic != MAGIC {
            return Err(fail("bad magic".into()));
        }
        if desc.format_version != FORMAT_VERSION {
            return Err(fail(format!(
                "format version {} (expected {FORMAT_VERSION})",
                desc.format_version
            )));
        }
        let meta_rel = desc_rel + desc.metadata_offset as i128;
        let text_rel = desc_rel + desc.text_offset as i128;
        if !in_segment(&segments, meta_rel, desc.metadata_len, PF_R) {
            return Err(fail("metadata outside the read-only segment".into()));
        }
        if !in_segment(&segments, text_rel, desc.text_len, PF_R | PF_X) {
            return Err(fail("code outside the executable segment".into()));
        }
        let meta_ptr = (base as i128 + meta_rel) as usize as *const u8;
        let text_ptr = (base as i128 + text_rel) as usize as *const u8;
        let text_len = desc.text_len as usize;
        // SAFETY: both ranges lie inside mapped segments of the object
        // (checked against its program headers above) and stay mapped while
        // `library` lives, which `LoadedArtifact` guarantees.
        let (meta, text) = unsafe {
            (
                std::slice::from_raw_parts(meta_ptr, desc.metadata_len as usize),
                std::slice::from_raw_parts(text_ptr, text_len),
            )
        };
        if checksum64(&[meta, text]) != desc.checksum {
            return Err(fail("checksum mismatch (corrupt file)".into()));
        }
        let (metadata, trap_table) = super::metadata::decode(meta).map_err(fail)?;
        if metadata.compiler_version != COMPILER_VERSION {
            return Err(fail(format!(
                "written by compiler {} (this is {COMPILER_VERSION})",
                metadata.compiler_version
            )));
        }
        if expected.wasm_sha256.is_some_and(|h| h != metadata.wasm_sha256)
            || metadata.config_hash != expected.config_hash
        {
            return Err(fail("compiled from other wasm or with another configuration".into()));
        }
        if !metadata.isa.runs_on(IsaFlags::host()) {
            return Err(fail("needs CPU features this machine lacks".into()));
        }
        verify_offsets(&metadata, text_len).map_err(fail)?;
        Ok(LoadedArtifact {
            metadata,
            trap_table: trap_table.as_ptr(),
            trap_table_len: trap_table.len(),
            text: text_ptr,
            text_len,
            path: path.to_path_buf(),
            _library: library,
        })
    }

    /// The trap site whose stub call returns to text offset `offset`.
    pub fn trap_site(&self, offset: u32) -> Option<crate::contract::trap::TrapSite> {
        // SAFETY: the table lies in the metadata region, inside the mapped
        // read-only segment (checked at load), mapped while `self` lives.
        let table = unsafe { std::slice::from_raw_parts(self.trap_table, self.trap_table_len) };
        crate::contract::trap::TrapSite::find_in_table(table, offset)
    }

    /// Address of a text offset.
    pub fn code(&self, offset: u32) -> *const u8 {
        assert!((offset as usize) < self.text_len, "code offset out of range");
        // SAFETY: in bounds of the text mapping (asserted).
        unsafe { self.text.add(offset as usize) }
    }

    /// The text offset of a code address, if it lies in this artifact.
    pub fn offset_of(&self, addr: usize) -> Option<u32> {
        let start = self.text as usize;
        (addr >= start && addr < start + self.text_len).then(|| (addr - start) as u32)
    }
}

/// The base address the object containing `p` was loaded at.
fn load_base(p: *const u8) -> Option<usize> {
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: dladdr only reads the loader's tables and fills `info`.
    let found = unsafe { libc::dladdr(p as *const libc::c_void, info.as_mut_ptr()) };
    // SAFETY: dladdr filled the structure when it returned nonzero.
    (found != 0).then(|| unsafe { info.assume_init() }.dli_fbase as usize)
}

/// Every code offset in the metadata must lie inside the text section.
fn verify_offsets(m: &ArtifactMetadata, text_len: usize) -> Result<(), String> {
    let ok = |o: u32| (o as usize) < text_len;
    let counts_match = m.func_offsets.len() + m.module.imported_funcs as usize
        == m.module.funcs.len()
        && m.trampolines.len() == m.module.types.len()
        && m.host_adapters.len() == m.module.imported_funcs as usize;
    if !counts_match {
        return Err("metadata tables do not match the module".into());
    }
    if !m.func_offsets.iter().chain(&m.trampolines).chain(&m.host_adapters).all(|&o| ok(o)) {
        return Err("code offset outside the text section".into());
    }
    Ok(())
}
