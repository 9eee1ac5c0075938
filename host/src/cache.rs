//! The content-addressed artifact cache.
//!
//! An artifact's file name is the SHA-256 of everything that determines its
//! contents: the wasm bytes, the compiler version, the artifact format
//! version and the codegen configuration (including CPU features used).
//! Files are written to a temporary name and renamed into place, so a
//! reader never sees a half-written artifact. The directory is created
//! readable by its owner only.
//!
//! Use is recorded in each file's modification time (set on every load);
//! when the cache grows past its cap, the least recently used artifacts
//! are deleted. Deleting a loaded artifact is harmless: its mapping
//! stays until it is unloaded.

use crate::compiler::CodegenConfig;
use crate::contract::artifact::{COMPILER_VERSION, FORMAT_VERSION};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// A cache directory.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
    /// What this process believes the cache holds since its last full
    /// scan; `None` before the first. Lets a store skip rescanning a
    /// directory of many thousands of entries while under the cap.
    tally: std::sync::Arc<parking_lot::Mutex<Option<Tally>>>,
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

impl Cache {
    /// Opens (creating, owner-only) the cache directory.
    pub fn open(dir: &Path) -> std::io::Result<Cache> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let meta = std::fs::metadata(dir)?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(Cache { dir: dir.to_path_buf(), tally: Default::default() })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the artifact for `key` lives.
    pub fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// Writes an artifact atomically (temporary file, then rename).
    pub fn store(&self, key: &CacheKey, bytes: &[u8]) -> std::io::Result<PathBuf> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.path(key);
        let tmp = self.dir.join(format!(
            ".tmp-{}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
            key.file_name()
        ));
        let result = (|| {
            let mut f =
                std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_data()?;
            std::fs::rename(&tmp, &path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map(|()| path)
    }

    /// Removes an artifact (e.g. found corrupt).
    pub fn remove(&self, key: &CacheKey) {
        let _ = std::fs::remove_file(self.path(key));
    }

    /// Full directory scans [`Cache::evict`] has made.
    pub fn scans(&self) -> u64 {
        self.tally.lock().as_ref().map_or(0, |t| t.scans)
    }

    /// Records that the artifact at `path` was used now.
    pub fn touch(&self, path: &Path) {
        if let Ok(f) = std::fs::File::options().write(true).open(path) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
    }

    /// The artifacts in the cache, least recently used first.
    pub fn entries(&self) -> std::io::Result<Vec<CacheEntry>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(&self.dir)? {
            let e = e?;
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let is_artifact = name.len() == 64 + 3
                && name.ends_with(".so")
                && name[..64].bytes().all(|b| b.is_ascii_hexdigit());
            if !is_artifact {
                continue;
            }
            let meta = e.metadata()?;
            out.push(CacheEntry { path: e.path(), bytes: meta.len(), last_used: meta.modified()? });
        }
        out.sort_by_key(|e| e.last_used);
        Ok(out)
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
        let added = std::fs::metadata(keep).map_or(0, |m| m.len());
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
        let entries = self.entries()?;
        let mut total: u64 = entries.iter().map(|e| e.bytes).sum();
        let mut removed = 0;
        for e in entries {
            if total <= max_bytes {
                break;
            }
            if e.path == keep {
                continue;
            }
            if std::fs::remove_file(&e.path).is_ok() {
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
        for e in self.entries()? {
            std::fs::remove_file(&e.path)?;
            n.0 += 1;
            n.1 += e.bytes;
        }
        Ok(n)
    }

    fn remove_stale_temporaries(&self, older_than: std::time::Duration) -> std::io::Result<()> {
        for e in std::fs::read_dir(&self.dir)? {
            let e = e?;
            if !e.file_name().to_string_lossy().starts_with(".tmp-") {
                continue;
            }
            let age = e.metadata()?.modified()?.elapsed().unwrap_or_default();
            if age >= older_than {
                let _ = std::fs::remove_file(e.path());
            }
        }
        Ok(())
    }
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
