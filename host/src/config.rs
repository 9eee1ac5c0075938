//! Engine configuration.

use std::path::PathBuf;

/// How an [`crate::Engine`] compiles and runs plugins.
#[derive(Clone, Debug)]
pub struct Config {
    /// Directory of the artifact cache. Default: `$SCION_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/scion`, else `~/.cache/scion`.
    pub cache_dir: Option<PathBuf>,
    /// Run the IR optimizer (default true). Fuel accounting does not depend
    /// on it.
    pub optimize: bool,
    /// Bytes of native stack wasm code may use per call from the host
    /// (default 1 MiB); deeper recursion traps with `StackOverflow`.
    pub max_wasm_stack: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config { cache_dir: None, optimize: true, max_wasm_stack: 1 << 20 }
    }
}

impl Config {
    /// The default configuration.
    pub fn new() -> Config {
        Config::default()
    }

    /// Sets the cache directory.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Config {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Turns the optimizer on or off.
    pub fn optimize(mut self, on: bool) -> Config {
        self.optimize = on;
        self
    }

    /// Sets the wasm stack budget in bytes.
    pub fn max_wasm_stack(mut self, bytes: usize) -> Config {
        self.max_wasm_stack = bytes;
        self
    }

    /// The cache directory this configuration resolves to.
    pub fn resolved_cache_dir(&self) -> PathBuf {
        if let Some(d) = &self.cache_dir {
            return d.clone();
        }
        if let Some(d) = std::env::var_os("SCION_CACHE_DIR") {
            return PathBuf::from(d);
        }
        if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
            return PathBuf::from(d).join("scion");
        }
        match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".cache").join("scion"),
            None => std::env::temp_dir().join("scion-cache"),
        }
    }
}
