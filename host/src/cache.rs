//! The content-addressed artifact cache.
//!
//! An artifact's file name is the SHA-256 of everything that determines its
//! contents: the wasm bytes, the compiler version, the artifact format
//! version and the codegen configuration (including CPU features used).
//! Files are written to a temporary name and renamed into place, so a
//! reader never sees a half-written artifact. The directory is created
//! readable by its owner only.

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
}

impl Cache {
    /// Opens (creating, owner-only) the cache directory.
    pub fn open(dir: &Path) -> std::io::Result<Cache> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let meta = std::fs::metadata(dir)?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(Cache { dir: dir.to_path_buf() })
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
}
