//! Engine configuration.

pub use crate::contract::fuel::FuelCosts;
use std::path::PathBuf;

/// How an [`crate::Engine`] compiles and runs plugins.
#[derive(Clone, Debug)]
pub struct Config {
    /// Directory of the artifact cache. Default: `$SCION_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/scion`, else `~/.cache/scion`.
    pub cache_dir: Option<PathBuf>,
    /// Most bytes of artifacts the cache keeps (default 1 GiB); when a new
    /// artifact makes it larger, the least recently used ones are deleted.
    pub cache_max_bytes: u64,
    /// Run the IR optimizer (default true). Fuel accounting does not depend
    /// on it.
    pub optimize: bool,
    /// Bytes of native stack wasm code may use per call from the host
    /// (default 1 MiB); deeper recursion traps with `StackOverflow`.
    pub max_wasm_stack: usize,
    /// Meter fuel (default false): every store starts with no fuel and
    /// traps `OutOfFuel` until given some (`Store::set_fuel`).
    pub consume_fuel: bool,
    /// What operators cost when metering (default: Wasmtime 48's table).
    pub fuel_costs: FuelCosts,
    /// Let calls be interrupted from another thread or by a timeout
    /// (default true). Costs a flag test at every function entry and loop
    /// iteration.
    pub interruptible: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            cache_dir: None,
            cache_max_bytes: 1 << 30,
            optimize: true,
            max_wasm_stack: 1 << 20,
            consume_fuel: false,
            fuel_costs: FuelCosts::default(),
            interruptible: true,
        }
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

    /// Sets the cache's size cap in bytes.
    pub fn cache_max_bytes(mut self, bytes: u64) -> Config {
        self.cache_max_bytes = bytes;
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

    /// Turns fuel metering on or off.
    pub fn consume_fuel(mut self, on: bool) -> Config {
        self.consume_fuel = on;
        self
    }

    /// Sets the fuel cost table (implies nothing about `consume_fuel`).
    pub fn fuel_costs(mut self, costs: FuelCosts) -> Config {
        self.fuel_costs = costs;
        self
    }

    /// Turns interruption check points on or off.
    pub fn interruptible(mut self, on: bool) -> Config {
        self.interruptible = on;
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
