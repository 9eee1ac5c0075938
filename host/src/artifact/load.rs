//! Loading an artifact: read the open file once, check those bytes, then
//! `dlopen` that same open file.
//!
//! **Sandbox-critical.** Nothing in a file is mapped, let alone executed,
//! before all of these passed on the bytes read from the one open file:
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
//! Then the loader opens `/proc/<pid>/fd/<n>` of that open file, so no
//! search path is consulted and no other file can be swapped in. (Not
//! `/proc/self/fd`: a debugger resolves the loaded object's name in its
//! own process, where `/proc/<pid>` still names ours.) The descriptor
//! stays open while the object is loaded, so that name stays valid for
//! debuggers attaching later and is never reused for another file while
//! the loader still knows it. Integrity was verified from the file's
//! bytes, not from the mapped image, so a debugger's breakpoints in the
//! mapped code change nothing.

use super::check::{Layout, PAGE};
use super::metadata::ArtifactMetadata;
use super::record::{self, FileStamp, Record};
use super::sign::{self, ArtifactKey};
use crate::compiler::x64::IsaFlags;
use crate::contract::artifact::{
    COMPILER_VERSION, Descriptor, FORMAT_VERSION, MAGIC, SIGNATURE_LEN,
};
use std::collections::HashMap;
use std::ffi::CString;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
        let cannot_read = |e: std::io::Error| fail(format!("cannot read: {e}"));
        let stamp = FileStamp::of(&meta);
        let mut bytes = vec![0u8; meta.len() as usize];
        let head = meta.len().min(PAGE);
        file.read_exact_at(&mut bytes[..head as usize], 0).map_err(cannot_read)?;
        // With a record, only what is loaded and not code first (and the
        // trailer): if the record is valid, the rest (the code, most of the
        // file, and the symbol tables) is neither read nor hashed.
        let recorded = match (provenance.key, provenance.record) {
            (Some(key), Some(record)) => {
                read_record_spans(&file, &mut bytes).map_err(cannot_read)?;
                record::trailer_mac(&bytes).is_some_and(|mac| key.check_record(record, stamp, &mac))
            }
            _ => false,
        };
        if !recorded {
            file.read_exact_at(&mut bytes[head as usize..], head).map_err(cannot_read)?;
        }
        let mac = record::trailer_mac(&bytes);
        let elf_len = match provenance.key {
            Some(_) if recorded => sign::signed_len(&bytes)
                .ok_or_else(|| fail("a recorded file lost its signature".into()))?,
            Some(key) => key.verify(&bytes).map_err(fail)?,
            None => sign::signed_len(&bytes).unwrap_or(bytes.len()),
        };
        let elf = &bytes[..elf_len];
        let layout = super::check::check(elf).map_err(fail)?;
        let verified = verify_contents(elf, &layout, expected).map_err(fail)?;
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
        let mapping = Mapping::map(file, &meta, &layout, elf).map_err(fail)?;
        let base = mapping.base;
        let artifact = LoadedArtifact {
            metadata: verified.metadata,
            trap_table: (base + verified.trap_table.start) as *const u8,
            trap_table_len: verified.trap_table.len(),
            text: (base + verified.text.start) as *const u8,
            text_len: verified.text.len(),
            path: path.to_path_buf(),
            mapping,
        };
        Ok(LoadOutcome { artifact, record })
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
}

/// Reads into `bytes` (the whole file's length, its first page read) the
/// non-executable loaded segments that [`super::check::data_spans`] finds
/// and the signature trailer. The buffer is zeroed lazily (a large
/// `calloc` maps fresh pages), so what is not read is never touched.
fn read_record_spans(file: &File, bytes: &mut [u8]) -> std::io::Result<()> {
    let len = bytes.len() as u64;
    let head = len.min(PAGE);
    let tail = len.saturating_sub(SIGNATURE_LEN as u64);
    let spans = super::check::data_spans(&bytes[..head as usize], len).unwrap_or_default();
    for span in spans.into_iter().chain(std::iter::once(tail..len)) {
        let start = span.start.max(head);
        if start < span.end {
            file.read_exact_at(&mut bytes[start as usize..span.end as usize], start)?;
        }
    }
    Ok(())
}

/// What [`verify_contents`] found: the metadata and where things are
/// (addresses relative to the load base).
struct Verified {
    metadata: ArtifactMetadata,
    trap_table: std::ops::Range<usize>,
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
    let (metadata, trap_table) = super::metadata::decode(meta)?;
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
    let table_start = meta_rel + (trap_table.as_ptr() as usize - meta.as_ptr() as usize);
    Ok(Verified {
        metadata,
        trap_table: table_start..table_start + trap_table.len(),
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

// ---- Mapping: dlopen of the open file, shared per file ----------------

/// The public head of glibc's `struct link_map` (`<link.h>`).
#[repr(C)]
struct LinkMap {
    l_addr: usize,
    l_name: *const libc::c_char,
    l_ld: *const libc::c_void,
    l_next: *mut LinkMap,
    l_prev: *mut LinkMap,
}

/// One `dlopen`ed artifact file.
struct Loaded {
    handle: *mut libc::c_void,
    base: usize,
    /// The open file whose `/proc/<pid>/fd/<n>` is the object's name in
    /// the loader (and in debuggers).
    _file: File,
    users: usize,
}

// SAFETY: the handle is only passed to dlclose, which any thread may call.
unsafe impl Send for Loaded {}

/// Every artifact file this process has mapped, by (device, inode), so a
/// file loaded twice is mapped once and its name in the loader is always
/// the descriptor that stays open with it. (The loader itself would match
/// a second `dlopen` of the same file to the first mapping and add the
/// second name as an alias, which would go stale when that descriptor
/// closes.)
static LOADED: Mutex<Option<HashMap<(u64, u64), Loaded>>> = Mutex::new(None);

/// A use of an entry of [`LOADED`]; the last one unmaps the object.
struct Mapping {
    id: (u64, u64),
    base: usize,
}

fn dlerror() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated string valid until
    // the next dl* call on this thread.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        return "unknown error".into();
    }
    // SAFETY: as above.
    unsafe { std::ffi::CStr::from_ptr(e) }.to_string_lossy().into_owned()
}

impl Mapping {
    /// Maps `file` (whose bytes `elf` passed every check) with `dlopen`, or
    /// shares the mapping of the same file loaded before.
    fn map(
        file: File,
        meta: &std::fs::Metadata,
        layout: &Layout,
        elf: &[u8],
    ) -> Result<Mapping, String> {
        let id = (meta.dev(), meta.ino());
        let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
        let loaded = loaded.get_or_insert_with(HashMap::new);
        if let Some(l) = loaded.get_mut(&id) {
            same_image(l.base, layout, elf)?;
            l.users += 1;
            return Ok(Mapping { id, base: l.base });
        }
        let name = format!("/proc/{}/fd/{}", std::process::id(), file.as_raw_fd());
        let c_name = CString::new(name.clone()).unwrap();
        // SAFETY: the file's bytes passed `check::check` (no initializers,
        // relocations, needed libraries, IFUNCs or TLS: mapping it runs
        // nothing) and were read from this same open file, which `name`
        // names; nothing of it is called before `LoadedArtifact` exists.
        let handle = unsafe { libc::dlopen(c_name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if handle.is_null() {
            return Err(format!("dlopen failed: {} (is /proc mounted?)", dlerror()));
        }
        let close = |reason: String| {
            // SAFETY: `handle` came from dlopen above and is not used after.
            unsafe { libc::dlclose(handle) };
            Err(reason)
        };
        let mut lm: *mut LinkMap = std::ptr::null_mut();
        // SAFETY: RTLD_DI_LINKMAP stores a `struct link_map *` into `lm`.
        let r = unsafe {
            libc::dlinfo(handle, libc::RTLD_DI_LINKMAP, (&raw mut lm).cast::<libc::c_void>())
        };
        if r != 0 || lm.is_null() {
            return close(format!("dlinfo failed: {}", dlerror()));
        }
        // SAFETY: glibc's link map for a loaded object; its public head is
        // `LinkMap`, and `l_name` is a NUL-terminated string.
        let (base, l_name, l_ld) = unsafe {
            ((*lm).l_addr, std::ffi::CStr::from_ptr((*lm).l_name).to_owned(), (*lm).l_ld as usize)
        };
        // A different name: the loader matched this file to an object
        // something other than Scion had loaded.
        if l_name.as_bytes() != name.as_bytes() || l_ld != base + layout.dynamic as usize {
            // The loader keeps `name` as an alias of that object: the
            // descriptor must stay open so the name never means another
            // file (one descriptor, for a case that should never happen).
            std::mem::forget(file);
            return close(format!(
                "the loader returned another object ({}) for this file: is it loaded by \
                 something other than Scion?",
                l_name.to_string_lossy()
            ));
        }
        if let Err(e) = same_image(base, layout, elf) {
            return close(e);
        }
        loaded.insert(id, Loaded { handle, base, _file: file, users: 1 });
        Ok(Mapping { id, base })
    }
}

/// Checks that the image at `base` is the one whose file bytes were
/// checked: the first page (ELF header, program headers, dynamic symbols,
/// descriptor, the start of the metadata, which names the wasm hash and
/// configuration) is identical. Content was verified from the file bytes;
/// this only establishes identity.
fn same_image(base: usize, layout: &Layout, elf: &[u8]) -> Result<(), String> {
    let n = layout.headers().filesz.min(PAGE) as usize;
    // SAFETY: the first segment of the object at `base` is mapped
    // read-only and at least `n` bytes long (its file size, checked).
    let mapped = unsafe { std::slice::from_raw_parts(base as *const u8, n) };
    if mapped != &elf[..n] {
        return Err("the mapped image differs from the file that was checked".into());
    }
    Ok(())
}

impl Drop for Mapping {
    fn drop(&mut self) {
        let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
        let Some(map) = loaded.as_mut() else { return };
        let Some(l) = map.get_mut(&self.id) else { return };
        l.users -= 1;
        if l.users == 0 {
            let l = map.remove(&self.id).unwrap();
            // SAFETY: the handle came from dlopen; no user is left, so
            // nothing refers to the mapping any more. The file closes after
            // the object is unloaded (with the registry still locked), so
            // its name is never seen by the loader for another file.
            unsafe { libc::dlclose(l.handle) };
            drop(l);
        }
    }
}
