//! The content-addressed artifact cache.
//!
//! An artifact's file name is the SHA-256 of everything that determines its
//! contents: the wasm bytes, the compiler version, the artifact format
//! version and the codegen configuration (including CPU features used).
//! Files are written to a temporary name and renamed into place, so a
//! reader never sees a half-written artifact.
//!
//! **Trust.** The directory is used only when it is owned by the effective
//! user, has mode exactly 0700 and is not a symbolic link: it is opened
//! once with `O_NOFOLLOW` and checked with `fstat`, and every later
//! operation goes through that descriptor (`openat`, `renameat`,
//! `unlinkat`), so renaming or replacing the path afterwards changes
//! nothing. A directory that fails is refused with the reason and the fix;
//! it is never changed into shape. The directory holds the cache's secret
//! key (`mac-key`, 32 random bytes, mode 0600), with which every stored
//! artifact is signed; an entry is loaded only when it is a regular file
//! owned by the user, not writable by group or others, and its signature
//! verifies (`artifact::sign`). Anything else is recompiled.
//!
//! Checking an entry's signature reads and hashes all of it; once it has
//! passed, the cache keeps a verification record beside it (`<entry>.ok`,
//! `artifact::record`), a tag under the key of the file's inode and
//! `ctime`, with which later loads of the unchanged file skip rehashing
//! its code. An entry is never modified after it is written (that would
//! change its `ctime`): its use is recorded in the modification time of
//! that sidecar (set on every load; the sidecar is empty until the entry
//! has a record), and when the cache grows past its cap, the least
//! recently used artifacts are deleted with their sidecars. Deleting a
//! loaded artifact is harmless: its mapping
//! stays until it is unloaded.

use crate::artifact::load::{
    ArtifactError, Expected, LoadedArtifact, Provenance, check_owner, open_file,
};
use crate::artifact::record::{RECORD_LEN, Record};
use crate::artifact::sign::ArtifactKey;
use crate::compiler::CodegenConfig;
use crate::contract::artifact::{COMPILER_VERSION, FORMAT_VERSION};
use sha2::{Digest, Sha256};
use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Identifies one artifact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheKey {
    /// SHA-256 of the wasm bytes.
    pub wasm_sha256: [u8; 32],
    /// Hash of the configuration.
    pub config_hash: u64,
    /// SHA-256 over all inputs; names the file.
    pub key: [u8; 32],
}

impl CacheKey {
    /// The key for compiling `wasm` with `config`.
    pub fn new(wasm: &[u8], config: &CodegenConfig) -> CacheKey {
        let wasm_sha256: [u8; 32] = Sha256::digest(wasm).into();
        let config_text = format!("{config:?}");
        let config_digest = Sha256::digest(config_text.as_bytes());
        let config_hash = u64::from_le_bytes(config_digest[..8].try_into().unwrap());
        let mut h = Sha256::new();
        h.update(wasm_sha256);
        h.update(COMPILER_VERSION.as_bytes());
        h.update(FORMAT_VERSION.to_le_bytes());
        h.update(config_hash.to_le_bytes());
        CacheKey { wasm_sha256, config_hash, key: h.finalize().into() }
    }

    /// The file name of the artifact.
    pub fn file_name(&self) -> String {
        let hex: String = self.key.iter().map(|b| format!("{b:02x}")).collect();
        format!("{hex}.so")
    }
}

/// A cache directory that passed the checks of [`Cache::open`].
#[derive(Clone)]
pub struct Cache {
    dir: PathBuf,
    /// The directory, opened once without following symbolic links.
    fd: Arc<OwnedFd>,
    /// The secret every artifact in the directory is signed with.
    key: Arc<ArtifactKey>,
    /// What this process believes the cache holds since its last full
    /// scan; `None` before the first. Lets a store skip rescanning a
    /// directory of many thousands of entries while under the cap.
    tally: Arc<parking_lot::Mutex<Option<Tally>>>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("dir", &self.dir).field("key", &self.key).finish()
    }
}

/// The running size estimate behind [`Cache::evict`] (shared by clones).
#[derive(Debug)]
struct Tally {
    bytes: u64,
    scanned: std::time::Instant,
    /// Full directory scans so far (observable by tests).
    scans: u64,
}

/// Other processes may write to the same cache; an estimate older than
/// this is refreshed by a full scan even when it is under the cap.
const RESCAN_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// The name of the key file in the cache directory.
pub const KEY_FILE: &str = "mac-key";

/// Opens `name` in the directory `dir` (never following a link, closed on
/// exec).
fn open_in(dir: RawFd, name: &str, flags: i32, mode: libc::c_uint) -> std::io::Result<File> {
    let c = c_name(name);
    // SAFETY: openat(2) relative to a directory descriptor the caller holds.
    let fd =
        unsafe { libc::openat(dir, c.as_ptr(), flags | libc::O_CLOEXEC | libc::O_NOFOLLOW, mode) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a descriptor openat just returned.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Whether `name` is an artifact's file name ([`CacheKey::file_name`]).
fn is_artifact_name(name: &str) -> bool {
    name.len() == 64 + 3
        && name.ends_with(".so")
        && name[..64].bytes().all(|b| b.is_ascii_hexdigit())
}

/// What the name of an entry's sidecar (its verification record and last
/// use) adds to the entry's.
const SIDECAR_SUFFIX: &str = ".ok";

/// The name of the sidecar of the entry `name`: its verification record
/// (`artifact::record`), or empty, and its last use.
fn sidecar_name(name: &str) -> String {
    format!("{name}{SIDECAR_SUFFIX}")
}

/// A fresh temporary name for writing `name` (unique per process, time
/// and call; `.tmp-` marks it for [`Cache::evict`]'s cleanup).
fn temporary_name(name: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        ".tmp-{}-{}-{}-{name}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    )
}

fn c_name(name: &str) -> CString {
    CString::new(name).expect("cache file names contain no NUL")
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

/// What to do about a directory that fails the checks.
const FIX: &str = "set SCION_CACHE_DIR or Config::cache_dir to a directory of yours";

fn refuse(kind: std::io::ErrorKind, what: String) -> std::io::Error {
    std::io::Error::new(kind, what)
}

impl Cache {
    /// Opens the cache directory, creating it (mode 0700) and its key when
    /// missing. Refuses, with the reason and the fix, a directory that is a
    /// symbolic link, not owned by the effective user or whose mode is not
    /// 0700, and a key file that is not a private regular file of the user.
    pub fn open(dir: &Path) -> std::io::Result<Cache> {
        use std::io::ErrorKind::{AlreadyExists, PermissionDenied};
        use std::os::unix::fs::DirBuilderExt;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(parent).map_err(|e| {
                refuse(e.kind(), format!("cannot create the cache directory's parent: {e}"))
            })?;
        }
        let created = match std::fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => true,
            Err(e) if e.kind() == AlreadyExists => false,
            Err(e) => {
                return Err(refuse(e.kind(), format!("cannot create the cache directory: {e}")));
            }
        };
        let c_dir = CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| refuse(std::io::ErrorKind::InvalidInput, "NUL in the path".into()))?;
        // SAFETY: a plain open(2) of a NUL-terminated path.
        let raw = unsafe {
            libc::open(
                c_dir.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        };
        if raw < 0 {
            let e = std::io::Error::last_os_error();
            return Err(match std::fs::symlink_metadata(dir) {
                Ok(m) if m.file_type().is_symlink() => {
                    let target = std::fs::read_link(dir).unwrap_or_default();
                    refuse(
                        PermissionDenied,
                        format!(
                            "the cache directory is a symbolic link (to {}), which Scion does \
                             not follow: {FIX}, e.g. the link's target if it is yours",
                            target.display()
                        ),
                    )
                }
                Ok(m) if !m.is_dir() => refuse(
                    e.kind(),
                    format!("the cache directory is not a directory: remove it, or {FIX}"),
                ),
                _ => refuse(e.kind(), format!("cannot open the cache directory: {e}")),
            });
        }
        // SAFETY: `raw` is a descriptor open(2) just returned, owned by no one else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let dir_file = File::from(fd);
        let meta = dir_file.metadata()?;
        if meta.uid() != euid() {
            return Err(refuse(
                PermissionDenied,
                format!(
                    "the cache directory is owned by uid {}, not you (uid {}), so its owner \
                     could replace the code you run: remove it, or {FIX}",
                    meta.uid(),
                    euid()
                ),
            ));
        }
        let mode = meta.mode() & 0o777;
        if mode != 0o700 {
            if created {
                // A directory this call made: only the umask differs.
                dir_file.set_permissions(std::fs::Permissions::from_mode(0o700))?;
            } else {
                return Err(refuse(
                    PermissionDenied,
                    format!(
                        "the cache directory has mode {mode:03o}; it must be 700 (only you may \
                         read, write or enter it): run `chmod 700` on it if it is yours and \
                         nobody else could have written into it, else remove it, or {FIX}"
                    ),
                ));
            }
        }
        let fd = Arc::new(OwnedFd::from(dir_file));
        let key = Arc::new(load_or_create_key(&fd)?);
        Ok(Cache { dir: dir.to_path_buf(), fd, key, tally: Default::default() })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the artifact for `key` lives.
    pub fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// The key the cache signs its artifacts with (and `Module::from_artifact`
    /// verifies with).
    pub(crate) fn key(&self) -> &ArtifactKey {
        &self.key
    }

    fn openat(&self, name: &str, flags: i32, mode: libc::c_uint) -> std::io::Result<File> {
        open_in(self.fd.as_raw_fd(), name, flags, mode)
    }

    fn unlink(&self, name: &OsStr) -> std::io::Result<()> {
        let c = CString::new(name.as_bytes()).unwrap();
        // SAFETY: unlinkat(2) relative to the cache directory's descriptor.
        if unsafe { libc::unlinkat(self.fd.as_raw_fd(), c.as_ptr(), 0) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Loads the artifact for `key`: `Ok(None)` when there is none, an
    /// error naming the reason when the entry is unusable (the caller
    /// recompiles). The entry must be a regular file owned by you, not
    /// writable by group or others, signed with this cache's key.
    pub fn load(
        &self,
        key: &CacheKey,
        expected: Expected,
    ) -> Result<Option<LoadedArtifact>, ArtifactError> {
        let path = self.path(key);
        let fail = |reason: String| ArtifactError { path: path.clone(), reason };
        let name = key.file_name();
        let file = match self.openat(&name, libc::O_RDONLY | libc::O_NONBLOCK, 0) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(fail("a symbolic link, which the cache never writes".into()));
            }
            Err(e) => return Err(fail(format!("cannot open: {e}"))),
        };
        let meta = file.metadata().map_err(|e| fail(format!("cannot stat: {e}")))?;
        check_owner(&meta).map_err(fail)?;
        self.load_entry(file, &name, &path, expected).map(Some)
    }

    /// Loads the artifact file at `path` for `Module::from_artifact`: it must
    /// be owned by you, not writable by group or others, and signed with
    /// this cache's key. When it is one of this cache's own entries, its
    /// verification record is used and kept as for [`Cache::load`].
    pub fn load_path(
        &self,
        path: &Path,
        expected: Expected,
    ) -> Result<LoadedArtifact, ArtifactError> {
        let (file, meta) = open_file(path, true)?;
        // The same file as the cache's entry of that name (by device and
        // inode, whatever path led to it)?
        let entry = path.file_name().and_then(OsStr::to_str).filter(|name| {
            is_artifact_name(name) && self.identity_of(name) == Some((meta.dev(), meta.ino()))
        });
        match entry {
            Some(name) => self.load_entry(file, name, path, expected),
            None => LoadedArtifact::load_file(file, path, expected, Provenance::signed(&self.key))
                .map(|l| l.artifact),
        }
    }

    /// The device and inode of `name` in the directory (not following a
    /// link).
    fn identity_of(&self, name: &str) -> Option<(u64, u64)> {
        let c = c_name(name);
        // SAFETY: an all-zero `stat` is a valid value to be overwritten.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstatat(2) relative to the directory, writing into `st`.
        let r = unsafe {
            libc::fstatat(self.fd.as_raw_fd(), c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW)
        };
        (r == 0).then_some((st.st_dev, st.st_ino))
    }

    /// Loads the open entry `name` (checked: owned by you, private), with
    /// its verification record, and records the use in its sidecar
    /// `<name>.ok`: the new record a full check made, or else a new
    /// modification time. (The entry itself is never touched after it is
    /// written: that would change its `ctime` and void its record.)
    fn load_entry(
        &self,
        file: File,
        name: &str,
        path: &Path,
        expected: Expected,
    ) -> Result<LoadedArtifact, ArtifactError> {
        let sidecar = sidecar_name(name);
        let record = self.read_record(&sidecar);
        let provenance = Provenance::recorded(&self.key, record.as_ref().map(|r| &r[..]));
        let loaded = LoadedArtifact::load_file(file, path, expected, provenance)?;
        match loaded.record {
            Some(r) => {
                if let Err(e) = self.write_atomically(&sidecar, &[&r], false) {
                    log::debug!("cannot keep the verification record of {}: {e}", path.display());
                }
            }
            None => self.touch(&sidecar),
        }
        Ok(loaded.artifact)
    }

    /// The verification record `name`, if there is one of the right size
    /// (its tag is checked by the loader; a forged one fails that).
    fn read_record(&self, name: &str) -> Option<Record> {
        let file = self.openat(name, libc::O_RDONLY | libc::O_NONBLOCK, 0).ok()?;
        let mut buf = [0u8; RECORD_LEN + 1];
        // One read: a record file is exactly RECORD_LEN bytes.
        match (&file).read(&mut buf) {
            Ok(RECORD_LEN) => Some(buf[..RECORD_LEN].try_into().unwrap()),
            _ => None,
        }
    }

    /// Sets the modification time of the sidecar `name` to now, creating
    /// it empty when it is missing (an empty sidecar only records use).
    fn touch(&self, name: &str) {
        let now = [libc::timespec { tv_sec: 0, tv_nsec: libc::UTIME_NOW }; 2];
        let c = c_name(name);
        // SAFETY: utimensat(2) relative to the directory, not following links.
        let r = unsafe {
            libc::utimensat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                now.as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if r != 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::NotFound {
            let _ = self.openat(name, libc::O_WRONLY | libc::O_CREAT | libc::O_NONBLOCK, 0o600);
        }
    }

    /// Writes `parts` to `name` in the directory atomically: to a new
    /// private temporary file, then renamed into place (after `fsync` when
    /// `durable`).
    fn write_atomically(&self, name: &str, parts: &[&[u8]], durable: bool) -> std::io::Result<()> {
        let tmp = temporary_name(name);
        let result = (|| {
            let mut f = self.openat(&tmp, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600)?;
            for part in parts {
                f.write_all(part)?;
            }
            if durable {
                f.sync_data()?;
            }
            let (from, to) = (c_name(&tmp), c_name(name));
            let dir = self.fd.as_raw_fd();
            // SAFETY: renameat(2) within the cache directory.
            if unsafe { libc::renameat(dir, from.as_ptr(), dir, to.as_ptr()) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = self.unlink(OsStr::new(&tmp));
        }
        result
    }

    /// Signs an artifact with the cache's key and writes it atomically
    /// (temporary file, then rename).
    pub fn store(&self, key: &CacheKey, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let name = key.file_name();
        let signature = self.key.signature(bytes);
        self.write_atomically(&name, &[bytes, &signature], true)?;
        Ok(self.dir.join(name))
    }

    /// Removes an artifact (e.g. found corrupt) and its sidecar.
    pub fn remove(&self, key: &CacheKey) {
        let _ = self.remove_entry(&key.file_name());
    }

    /// Unlinks the entry `name` and its sidecar.
    fn remove_entry(&self, name: &str) -> std::io::Result<()> {
        let _ = self.unlink(OsStr::new(&sidecar_name(name)));
        self.unlink(OsStr::new(name))
    }

    /// Full directory scans [`Cache::evict`] has made.
    pub fn scans(&self) -> u64 {
        self.tally.lock().as_ref().map_or(0, |t| t.scans)
    }

    /// The names and metadata (not following links) of the directory's
    /// entries, read through the checked descriptor.
    fn list(&self) -> std::io::Result<Vec<(OsString, std::fs::Metadata)>> {
        let mut out = Vec::new();
        // The descriptor's own directory, whatever its path names now.
        for e in std::fs::read_dir(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))? {
            let e = e?;
            match e.metadata() {
                Ok(m) => out.push((e.file_name(), m)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The artifacts in the cache, least recently used first.
    pub fn entries(&self) -> std::io::Result<Vec<CacheEntry>> {
        Ok(self.scan()?.0)
    }

    /// The artifacts, least recently used first (last used: the later of
    /// the entry's and its sidecar's modification times), and the sidecars
    /// whose entry is gone.
    fn scan(&self) -> std::io::Result<(Vec<CacheEntry>, Vec<OsString>)> {
        let listing = self.list()?;
        let mut records: std::collections::HashMap<&str, std::time::SystemTime> =
            std::collections::HashMap::new();
        for (name, meta) in &listing {
            if let Some(entry) = name.to_str().and_then(|n| n.strip_suffix(SIDECAR_SUFFIX)) {
                records.insert(entry, meta.modified()?);
            }
        }
        let mut out = Vec::new();
        for (name, meta) in &listing {
            let Some(name) = name.to_str() else { continue };
            if !is_artifact_name(name) || !meta.file_type().is_file() {
                continue;
            }
            let modified = meta.modified()?;
            let last_used = records.remove(name).map_or(modified, |r| r.max(modified));
            out.push(CacheEntry { path: self.dir.join(name), bytes: meta.len(), last_used });
        }
        out.sort_by_key(|e| e.last_used);
        let orphans = records.into_keys().map(|e| OsString::from(sidecar_name(e))).collect();
        Ok((out, orphans))
    }

    /// Called after `keep` was stored: deletes least recently used
    /// artifacts (never `keep`) until the cache holds at most `max_bytes`,
    /// and removes temporary files that an interrupted write left behind.
    /// Returns the number deleted.
    ///
    /// The directory is scanned only when this process's running estimate
    /// (the last scan plus what it stored since) exceeds the cap or is
    /// older than ten minutes, so storing stays cheap in a large cache.
    pub fn evict(&self, max_bytes: u64, keep: &Path) -> std::io::Result<usize> {
        let keep_name = keep.file_name().unwrap_or_default();
        let added = keep_name
            .to_str()
            .and_then(|n| self.openat(n, libc::O_RDONLY | libc::O_NONBLOCK, 0).ok())
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| m.len());
        let mut tally = self.tally.lock();
        if let Some(t) = tally.as_mut()
            && t.bytes + added <= max_bytes
            && t.scanned.elapsed() < RESCAN_AFTER
        {
            t.bytes += added;
            return Ok(0);
        }
        let scans = tally.as_ref().map_or(0, |t| t.scans) + 1;
        self.remove_stale_temporaries(std::time::Duration::from_secs(3600))?;
        let (entries, orphans) = self.scan()?;
        for name in orphans {
            let _ = self.unlink(&name);
        }
        let mut total: u64 = entries.iter().map(|e| e.bytes).sum();
        let mut removed = 0;
        // Over the cap, evict down to nine tenths of it: evicting only to
        // the cap made every later store pass it again and rescan a full
        // directory (quadratic in a large cache).
        let target = if total > max_bytes { max_bytes - max_bytes / 10 } else { max_bytes };
        for e in entries {
            if total <= target {
                break;
            }
            let name = e.path.file_name().unwrap_or_default();
            if name == keep_name {
                continue;
            }
            if self.remove_entry(&name.to_string_lossy()).is_ok() {
                total -= e.bytes;
                removed += 1;
            }
        }
        *tally = Some(Tally { bytes: total, scanned: std::time::Instant::now(), scans });
        Ok(removed)
    }

    /// Deletes every artifact and temporary file; returns how many
    /// artifacts and bytes were removed.
    pub fn clear(&self) -> std::io::Result<(usize, u64)> {
        *self.tally.lock() = None;
        self.remove_stale_temporaries(std::time::Duration::ZERO)?;
        let mut n = (0, 0);
        let (entries, orphans) = self.scan()?;
        for name in orphans {
            let _ = self.unlink(&name);
        }
        for e in entries {
            self.remove_entry(&e.path.file_name().unwrap_or_default().to_string_lossy())?;
            n.0 += 1;
            n.1 += e.bytes;
        }
        Ok(n)
    }

    /// Deletes the temporary files older than `older_than` (only ever in
    /// this checked directory).
    fn remove_stale_temporaries(&self, older_than: std::time::Duration) -> std::io::Result<()> {
        for (name, meta) in self.list()? {
            if !name.as_bytes().starts_with(b".tmp-") || !meta.file_type().is_file() {
                continue;
            }
            let age = meta.modified()?.elapsed().unwrap_or_default();
            if age >= older_than {
                let _ = self.unlink(&name);
            }
        }
        Ok(())
    }
}

/// Reads the cache's key, creating it first when the directory has none.
/// The key is created under a temporary name and linked into place, so
/// that concurrent first uses agree on one key and none reads a partial
/// one.
fn load_or_create_key(dir: &Arc<OwnedFd>) -> std::io::Result<ArtifactKey> {
    use std::io::ErrorKind::{AlreadyExists, InvalidData, NotFound, PermissionDenied};
    let at =
        |name: &str, flags: i32, mode: libc::c_uint| open_in(dir.as_raw_fd(), name, flags, mode);
    for _ in 0..2 {
        let mut file = match at(KEY_FILE, libc::O_RDONLY | libc::O_NONBLOCK, 0) {
            Ok(f) => f,
            Err(e) if e.kind() == NotFound => {
                let key = ArtifactKey::generate()?;
                let tmp = temporary_name(KEY_FILE);
                let mut f = at(&tmp, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600)?;
                let written = f.write_all(key.secret()).and_then(|()| f.sync_all());
                let (from, to) = (c_name(&tmp), c_name(KEY_FILE));
                // SAFETY: linkat(2) within the directory: fails with EEXIST
                // rather than replacing a key another process made first.
                let linked = written.and_then(|()| {
                    if unsafe {
                        libc::linkat(
                            dir.as_raw_fd(),
                            from.as_ptr(),
                            dir.as_raw_fd(),
                            to.as_ptr(),
                            0,
                        )
                    } != 0
                    {
                        Err(std::io::Error::last_os_error())
                    } else {
                        Ok(())
                    }
                });
                // SAFETY: unlinkat(2) of the temporary name.
                unsafe { libc::unlinkat(dir.as_raw_fd(), from.as_ptr(), 0) };
                match linked {
                    Ok(()) => return Ok(key),
                    Err(e) if e.kind() == AlreadyExists => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(refuse(
                    PermissionDenied,
                    format!("the cache's key file {KEY_FILE} is a symbolic link: remove it"),
                ));
            }
            Err(e) => {
                return Err(refuse(e.kind(), format!("cannot open the cache's key file: {e}")));
            }
        };
        let meta = file.metadata()?;
        let bad = if !meta.file_type().is_file() {
            Some("is not a regular file".to_string())
        } else if meta.uid() != euid() {
            Some(format!("is owned by uid {}, not you (uid {})", meta.uid(), euid()))
        } else if meta.mode() & 0o077 != 0 {
            Some(format!("has mode {:03o}; it must be 600", meta.mode() & 0o777))
        } else if meta.len() != ArtifactKey::LEN as u64 {
            Some(format!("is {} bytes long, not {}", meta.len(), ArtifactKey::LEN))
        } else {
            None
        };
        if let Some(bad) = bad {
            return Err(refuse(
                if meta.len() != ArtifactKey::LEN as u64 { InvalidData } else { PermissionDenied },
                format!(
                    "the cache's key file {KEY_FILE} {bad}: delete it (Scion then makes a new \
                     key and recompiles what the cache holds), or {FIX}"
                ),
            ));
        }
        let mut key = [0u8; 32];
        file.read_exact(&mut key)?;
        return Ok(ArtifactKey::from_bytes(key));
    }
    Err(refuse(AlreadyExists, "the cache's key file keeps changing".into()))
}

/// One artifact in the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheEntry {
    /// Its file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// When it was last compiled or loaded.
    pub last_used: std::time::SystemTime,
}
