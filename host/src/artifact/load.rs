//! Loading an artifact: read the open file once, check those bytes, then
//! map that same open file.
//!
//! **Sandbox-critical.** The file is read through one private read-only
//! mapping of the one open file; nothing in it is executable before all
//! of these passed on those bytes:
//! 1. the file is a regular file of sane size (and, for the safe API,
//!    owned by the effective user and not writable by group or others:
//!    [`check_owner`]);
//! 2. its signature verifies under the cache's key ([`super::sign`]),
//!    unless the caller vouched for the file ([`Provenance::vouched`]);
//! 3. the ELF is what the dynamic loader will map and run nothing
//!    ([`super::check`]);
//! 4. the descriptor's magic and format version match, metadata and code
//!    lie where the segments say, the metadata decodes and names this
//!    compiler version, the expected wasm hash and configuration, and CPU
//!    features this machine has.
//!
//! 5. the memory images region lies after the ELF object and holds every
//!    image the metadata names ([`super::images`]).
//!
//! The mapping of the file that was read becomes the loaded image: its
//! code segment is made executable last ([`Mapping`]). No name is looked
//! up, no search path is consulted and no other file can be swapped in. The descriptor stays
//! open while the artifact is loaded: memories map their initial images
//! from it. Debuggers learn of the code through the JIT interface
//! ([`super::debugger`]). Integrity was verified from the file's bytes,
//! not from the mapped image, so a debugger's breakpoints in the mapped
//! code change nothing.

use super::check::{Layout, PAGE};
use super::debugger::Registration;
use super::metadata::ArtifactMetadata;
use super::record::{self, FileStamp, Record};
use super::sign::{self, ArtifactKey};
use crate::compiler::x64::IsaFlags;
use crate::contract::artifact::{COMPILER_VERSION, Descriptor, FORMAT_VERSION, MAGIC};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
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

/// Who says the file is Scion's own output: its signature
/// ([`Provenance::signed`]), a cache's record that its signature was
/// checked before and the file has not changed since
/// ([`Provenance::recorded`]) or, with the `unsafe` [`Provenance::vouched`],
/// the caller.
#[derive(Clone, Copy, Debug)]
pub struct Provenance<'a> {
    key: Option<&'a ArtifactKey>,
    /// A cache's verification record of the file, if it has one; `None`
    /// also when the caller does not keep records.
    record: Option<&'a [u8]>,
    /// Whether the caller keeps records (and so wants a new one).
    keeps_records: bool,
}

impl<'a> Provenance<'a> {
    /// The file's signature must verify under `key` (the cache's).
    pub fn signed(key: &'a ArtifactKey) -> Provenance<'a> {
        Provenance { key: Some(key), record: None, keeps_records: false }
    }

    /// As [`Provenance::signed`], for a cache entry: a valid `record`
    /// (under `key`, of this very file unchanged) stands for the signature
    /// check, which otherwise runs in full and, when the file is settled,
    /// yields a new record for the cache to keep ([`LoadOutcome::record`]).
    pub fn recorded(key: &'a ArtifactKey, record: Option<&'a [u8]>) -> Provenance<'a> {
        Provenance { key: Some(key), record, keeps_records: true }
    }

    /// No signature is needed; every other check still applies.
    ///
    /// # Safety
    ///
    /// The caller vouches that the file is an artifact Scion's compiler
    /// wrote and nobody changed, as for `Module::from_artifact_unchecked`:
    /// its code runs when the artifact's functions are called.
    pub unsafe fn vouched() -> Provenance<'static> {
        Provenance { key: None, record: None, keeps_records: false }
    }
}

/// A loaded artifact and what its load found out for the cache.
#[derive(Debug)]
pub struct LoadOutcome {
    /// The artifact.
    pub artifact: LoadedArtifact,
    /// A new verification record of the file, for a
    /// [`Provenance::recorded`] load that checked the signature in full of
    /// a file that has settled ([`super::record::SETTLED`]) and did not
    /// change while it was read.
    pub record: Option<Record>,
}

/// The byte ranges of the source-line sections in the mapped file (empty
/// when absent).
#[derive(Default)]
struct SourceTables {
    lines: std::ops::Range<usize>,
    source: std::ops::Range<usize>,
}

impl SourceTables {
    fn find(file: &[u8]) -> SourceTables {
        use object::{Object as _, ObjectSection as _};
        let Ok(elf) = object::read::elf::ElfFile64::<object::LittleEndian>::parse(file) else {
            return SourceTables::default();
        };
        let range = |name: &str| {
            elf.section_by_name(name)
                .and_then(|s| s.file_range())
                .and_then(|(at, len)| Some(usize::try_from(at).ok()?..usize::try_from(at + len).ok()?))
                .unwrap_or(0..0)
        };
        SourceTables {
            lines: range(super::source_lines::LINES_SECTION),
            source: range(super::source_lines::SOURCE_SECTION),
        }
    }
}

/// Largest artifact file accepted.
const MAX_FILE: u64 = 1 << 32;

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
    /// The open file, whose images region starts at `images_start`.
    file: File,
    images_start: u64,
    /// The code's announcement to debuggers (taken back before the unmap).
    _debugger: Option<Registration>,
    /// The code's unwind table, registered with the host's unwinder
    /// (taken back before the unmap).
    _frames: Option<super::frames::FrameRegistration>,
    /// Where the source-line tables are in the mapping, found on the
    /// first trap that asks.
    source_tables: std::sync::OnceLock<SourceTables>,
    // Dropped last: unmaps the code.
    mapping: Mapping,
}

// SAFETY: the mapped code and metadata are immutable after loading; the
// mapping may be released from any thread.
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

/// Checks what the safe API requires of a file's owner and mode: owned by
/// the effective user, not writable by group or others (so nobody else can
/// change it between the checks and the mapping).
pub fn check_owner(meta: &std::fs::Metadata) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != euid {
        return Err(format!(
            "the file is owned by uid {}, not you (uid {euid}): only your own files are \
             loaded (copy it, or load it with Module::from_artifact_unchecked if you vouch for it)",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "the file is writable by {} (mode {:o}): run `chmod go-w` on it",
            if meta.mode() & 0o002 != 0 { "everyone" } else { "its group" },
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

/// Opens the file at `path` for loading (following links: the caller
/// named it) and `fstat`s the open file; with `owned`, it must pass
/// [`check_owner`].
pub fn open_file(path: &Path, owned: bool) -> Result<(File, std::fs::Metadata), ArtifactError> {
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |reason: String| ArtifactError { path: path.to_path_buf(), reason };
    // Non-blocking: opening a FIFO must not hang (it is refused later).
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| fail(format!("cannot open: {e}")))?;
    let meta = file.metadata().map_err(|e| fail(format!("cannot stat: {e}")))?;
    if owned {
        check_owner(&meta).map_err(fail)?;
    }
    Ok((file, meta))
}

impl LoadedArtifact {
    /// Opens the artifact at `path` and loads it ([`LoadedArtifact::load_file`]).
    /// A signed provenance also requires the file to pass [`check_owner`].
    pub fn open(
        path: &Path,
        expected: Expected,
        provenance: Provenance<'_>,
    ) -> Result<LoadedArtifact, ArtifactError> {
        let (file, _) = open_file(path, provenance.key.is_some())?;
        Ok(LoadedArtifact::load_file(file, path, expected, provenance)?.artifact)
    }

    /// Loads and verifies the artifact open as `file` (`path` names it in
    /// errors and debuggers' views of the process): reads it once, checks
    /// those bytes, maps that same open file.
    pub fn load_file(
        file: File,
        path: &Path,
        expected: Expected,
        provenance: Provenance<'_>,
    ) -> Result<LoadOutcome, ArtifactError> {
        let fail = |reason: String| ArtifactError { path: path.to_path_buf(), reason };
        let meta = file.metadata().map_err(|e| fail(format!("cannot stat: {e}")))?;
        if !meta.file_type().is_file() {
            return Err(fail("not a regular file".into()));
        }
        if meta.len() > MAX_FILE {
            return Err(fail(format!("{} bytes is too large for an artifact", meta.len())));
        }
        let stamp = FileStamp::of(&meta);
        // The file is read through a private read-only mapping, which
        // becomes the loaded image once every check passed: the bytes
        // checked are the bytes used, nothing is copied, and pages never
        // touched (with a record: the code, the symbol tables, the memory
        // images) are never read.
        let mut mapping = Mapping::map(&file, meta.len()).map_err(fail)?;
        let bytes = mapping.bytes();
        // With a record, the signature is not checked again: if the record
        // is valid, the code is neither read nor hashed.
        let recorded = match (provenance.key, provenance.record) {
            (Some(key), Some(record)) => {
                record::trailer_mac(bytes).is_some_and(|mac| key.check_record(record, stamp, &mac))
            }
            _ => false,
        };
        let mac = record::trailer_mac(bytes);
        let elf_len = match provenance.key {
            Some(_) if recorded => sign::signed_len(bytes)
                .ok_or_else(|| fail("a recorded file lost its signature".into()))?,
            Some(key) => key.verify(bytes).map_err(fail)?,
            None => sign::signed_len(bytes).unwrap_or(bytes.len()),
        };
        let elf = &bytes[..elf_len];
        let layout = super::check::check(elf).map_err(fail)?;
        let verified = verify_contents(elf, &layout, expected).map_err(fail)?;
        let images_start = images_start(&verified.metadata, &layout, elf_len).map_err(fail)?;
        // A record only of a file that is settled and unchanged since it was
        // first stat'ed, so any later change gives it another stamp.
        let record = match (provenance.key, mac) {
            (Some(key), Some(mac))
                if provenance.keeps_records
                    && !recorded
                    && stamp.settled()
                    && file.metadata().is_ok_and(|m| FileStamp::of(&m) == stamp) =>
            {
                Some(key.record(stamp, &mac))
            }
            _ => None,
        };
        let base = mapping.base;
        let text = base + verified.text.start;
        let addr_field = verified.metadata.symbol_file_text_addr as usize;
        let debugger = Registration::new(&elf[verified.symbol_file.clone()], addr_field, text);
        let eh_frame = super::frames::find_eh_frame(elf, &layout);
        mapping.make_executable(&layout).map_err(fail)?;
        // SAFETY: `find_eh_frame` checked the table's entries up to its
        // terminator inside the read-only segment, mapped while the
        // artifact (which drops the registration first) lives.
        let frames = eh_frame
            .map(|at| unsafe { super::frames::FrameRegistration::new((base + at) as *const u8) });
        let artifact = LoadedArtifact {
            file,
            images_start,
            _debugger: debugger,
            _frames: frames,
            source_tables: std::sync::OnceLock::new(),
            metadata: verified.metadata,
            trap_table: (base + verified.trap_table.start) as *const u8,
            trap_table_len: verified.trap_table.len(),
            text: text as *const u8,
            text_len: verified.text.len(),
            path: path.to_path_buf(),
            mapping,
        };
        Ok(LoadOutcome { artifact, record })
    }

    /// The wasm byte offset of the instruction whose code holds text
    /// offset `offset`.
    pub fn wasm_offset(&self, offset: u32) -> Option<u32> {
        let lines = self.source_tables().lines.clone();
        super::source_lines::wasm_offset(self.mapping.bytes().get(lines)?, offset)
    }

    /// The plugin's source file and line for wasm offset `wasm`, when it
    /// was built with debug information.
    pub fn source_line(&self, wasm: u32) -> Option<(String, u32)> {
        let source = self.source_tables().source.clone();
        super::source_lines::source_line(self.mapping.bytes().get(source)?, wasm)
    }

    fn source_tables(&self) -> &SourceTables {
        self.source_tables.get_or_init(|| SourceTables::find(self.mapping.bytes()))
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

    /// The address the object is loaded at.
    pub fn base(&self) -> usize {
        self.mapping.base
    }

    /// The initial image of defined memory `index`, if it has one: the
    /// open file to map it from and its span, with `offset` made an offset
    /// in that file (all page multiples, checked at load).
    pub fn memory_image(
        &self,
        index: usize,
    ) -> Option<(std::os::fd::BorrowedFd<'_>, super::images::ImageSpan)> {
        use std::os::fd::AsFd;
        let mut span = (*self.metadata.memory_images.get(index)?)?;
        span.offset += self.images_start;
        Some((self.file.as_fd(), span))
    }
}

/// Where the images region starts in the file: it ends where the signed
/// bytes do, starts on a page, after every loaded segment, and holds
/// every image the metadata names.
fn images_start(m: &ArtifactMetadata, layout: &Layout, elf_len: usize) -> Result<u64, String> {
    let start = (elf_len as u64).checked_sub(m.images_len);
    let after_segments = layout.segments.iter().map(|s| s.vaddr + s.filesz).max().unwrap_or(0);
    match start {
        Some(start) if (m.images_len == 0 || start % PAGE == 0) && start >= after_segments => {
            super::images::check(&m.module, &m.memory_images, m.images_len)?;
            Ok(start)
        }
        _ => Err("the memory images region is misplaced".into()),
    }
}

/// What [`verify_contents`] found: the metadata and where things are
/// (addresses relative to the load base).
struct Verified {
    metadata: ArtifactMetadata,
    trap_table: std::ops::Range<usize>,
    symbol_file: std::ops::Range<usize>,
    text: std::ops::Range<usize>,
}

/// The descriptor, metadata and code, from the file's bytes.
fn verify_contents(elf: &[u8], layout: &Layout, expected: Expected) -> Result<Verified, String> {
    use object::elf::PF_R;
    let desc_len = std::mem::size_of::<Descriptor>();
    let at = layout.descriptor as usize;
    let desc = Descriptor::from_bytes(elf[at..at + desc_len].try_into().unwrap());
    if desc.magic != MAGIC {
        return Err("bad magic".into());
    }
    if desc.format_version != FORMAT_VERSION {
        return Err(format!("format version {} (expected {FORMAT_VERSION})", desc.format_version));
    }
    let meta_rel = layout.descriptor as i128 + desc.metadata_offset as i128;
    let text_rel = layout.descriptor as i128 + desc.text_offset as i128;
    if !layout.in_segment(meta_rel, desc.metadata_len, PF_R) {
        return Err("metadata outside the read-only segment".into());
    }
    let exec = layout.executable();
    if text_rel != exec.vaddr as i128 || desc.text_len != exec.filesz || exec.memsz != exec.filesz {
        return Err("the code is not exactly the executable segment".into());
    }
    let meta_rel = meta_rel as usize;
    let meta = &elf[meta_rel..meta_rel + desc.metadata_len as usize];
    let (metadata, tables) = super::metadata::decode(meta)?;
    if metadata.compiler_version != COMPILER_VERSION {
        return Err(format!(
            "written by compiler {} (this is {COMPILER_VERSION})",
            metadata.compiler_version
        ));
    }
    if expected.wasm_sha256.is_some_and(|h| h != metadata.wasm_sha256)
        || metadata.config_hash != expected.config_hash
    {
        return Err("compiled from other wasm or with another configuration".into());
    }
    if !metadata.isa.runs_on(IsaFlags::host()) {
        return Err("needs CPU features this machine lacks".into());
    }
    let text_len = desc.text_len as usize;
    verify_offsets(&metadata, text_len)?;
    let at = |t: &[u8]| {
        let start = meta_rel + (t.as_ptr() as usize - meta.as_ptr() as usize);
        start..start + t.len()
    };
    Ok(Verified {
        metadata,
        trap_table: at(tables.trap_table),
        symbol_file: at(tables.symbol_file),
        text: exec.vaddr as usize..exec.vaddr as usize + text_len,
    })
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
    if m.functions.iter().any(|f| (f.start as u64 + f.len as u64) > text_len as u64) {
        return Err("function range outside the text section".into());
    }
    Ok(())
}

// ---- Mapping: the open file's segments, mapped by us ----------------

/// The artifact file, mapped privately and read-only; its executable
/// segment is made executable once every check passed.
///
/// Not `dlopen`: the file is a shared object that `dlopen` could map
/// without running anything (`check.rs`), but the dynamic loader finds
/// files by name, keeps a list debuggers read, and costs several times
/// what the mapping itself does. Mapping the descriptor we read leaves no
/// name to resolve: what is mapped is the file that was checked. The
/// writable segment (the dynamic section, which only a dynamic loader
/// reads) is used as the file's bytes, read-only, like everything else.
struct Mapping {
    base: usize,
    len: usize,
}

impl Mapping {
    /// Maps the `len` bytes of `file` read-only.
    fn map(file: &File, len: u64) -> Result<Mapping, String> {
        if len < PAGE {
            return Err(format!("{len} bytes is too short for an artifact"));
        }
        let len = usize::try_from(len).map_err(|_| "the file is too large".to_string())?;
        // SAFETY: a new private, read-only mapping of the open file at an
        // address the kernel picks; it aliases nothing.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(format!("cannot map the file: {}", std::io::Error::last_os_error()));
        }
        Ok(Mapping { base: base as usize, len })
    }

    /// The file's bytes.
    fn bytes(&self) -> &[u8] {
        // SAFETY: `len` readable bytes are mapped at `base` while `self`
        // lives, and are never written through this process's mappings.
        // (Only the file's owner could change them, or truncate the file,
        // which the safe API's owner and mode checks make the caller.)
        unsafe { std::slice::from_raw_parts(self.base as *const u8, self.len) }
    }

    /// Makes the executable segment (checked: page-aligned, inside the
    /// file, sharing no page with another segment) executable.
    fn make_executable(&mut self, layout: &Layout) -> Result<(), String> {
        let exec = layout.executable();
        let end = (exec.vaddr + exec.filesz).div_ceil(PAGE) * PAGE;
        if end as usize > self.len.div_ceil(PAGE as usize) * PAGE as usize {
            return Err("the code lies outside the file".into());
        }
        // SAFETY: the range is page-aligned and inside this mapping;
        // nothing refers to it as data.
        let r = unsafe {
            libc::mprotect(
                (self.base + exec.vaddr as usize) as *mut libc::c_void,
                (end - exec.vaddr) as usize,
                libc::PROT_READ | libc::PROT_EXEC,
            )
        };
        if r != 0 {
            return Err(format!(
                "cannot make the code executable: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(())
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping was made in `map`; the artifact that owned
        // it is gone, so no code or metadata in it is used any more.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.len) };
    }
}
