//! Engine configuration.

pub use crate::compiler::CompileBudget;
pub use crate::contract::fuel::FuelCosts;
use std::path::PathBuf;

/// How an [`crate::Engine`] compiles and runs plugins.
#[derive(Clone, Debug)]
pub struct Config {
    /// Directory of the artifact cache. Default: `$SCION_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/scion`, else `~/.cache/scion`, else
    /// `$XDG_RUNTIME_DIR/scion` (see [`Config::resolved_cache_dir`]). It
    /// must be yours, mode 0700 and not a symbolic link (`Cache::open`).
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
    /// Limits on what compiling a module may cost (default:
    /// [`CompileBudget::default`], which accepts every real module). A
    /// module over them is refused with [`crate::Error::Compile`] whose
    /// error has `budget_exceeded` set and names the limit, the function
    /// and the numbers. Not part of the cache key: a module already in the
    /// cache loads whatever the budget.
    pub compile_budget: CompileBudget,
    /// Reuse the address space of dropped memories (default true): when a
    /// store is dropped, each memory's reservation is reset (its pages
    /// given back with `madvise`, its copy-on-write image kept mapped) and
    /// kept by the engine for the next memory that fits, instead of being
    /// unmapped and reserved again. A new instance reads exactly what a
    /// fresh one would. At most [`Config::pool_max_idle_memories`]
    /// reservations of at most [`Config::pool_max_memory_reservation`]
    /// bytes are kept; the pool never limits how many instances are live:
    /// when no idle reservation fits, a memory gets a fresh one.
    pub pooling: bool,
    /// Most idle memory reservations the engine keeps (default 64); more
    /// are unmapped when their stores are dropped. Each costs address
    /// space (its reservation, 4 GiB for a memory without a maximum under
    /// the default limits) and a few pages of page tables, no memory.
    pub pool_max_idle_memories: usize,
    /// Largest memory reservation the pool keeps, in bytes (default 4 GiB,
    /// what a memory without a maximum reserves under the default store
    /// limits); larger ones are unmapped when their stores are dropped.
    pub pool_max_memory_reservation: u64,
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
            compile_budget: CompileBudget::default(),
            pooling: true,
            pool_max_idle_memories: 64,
            pool_max_memory_reservation: 4 << 30,
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

    /// Turns reuse of dropped memories' reservations on or off
    /// ([`Config::pooling`]).
    pub fn pooling(mut self, on: bool) -> Config {
        self.pooling = on;
        self
    }

    /// Sets the most idle memory reservations the engine keeps
    /// ([`Config::pool_max_idle_memories`]); 0 keeps none.
    pub fn pool_max_idle_memories(mut self, n: usize) -> Config {
        self.pool_max_idle_memories = n;
        self
    }

    /// Sets the largest memory reservation the pool keeps, in bytes
    /// ([`Config::pool_max_memory_reservation`]).
    pub fn pool_max_memory_reservation(mut self, bytes: u64) -> Config {
        self.pool_max_memory_reservation = bytes;
        self
    }

    /// Sets all compile limits at once.
    pub fn compile_budget(mut self, budget: CompileBudget) -> Config {
        self.compile_budget = budget;
        self
    }

    /// Sets the largest module accepted, in bytes
    /// ([`CompileBudget::max_module_bytes`]).
    pub fn max_module_bytes(mut self, bytes: usize) -> Config {
        self.compile_budget.max_module_bytes = bytes;
        self
    }

    /// Sets the most functions a module may have
    /// ([`CompileBudget::max_functions`]).
    pub fn max_functions(mut self, n: u32) -> Config {
        self.compile_budget.max_functions = n;
        self
    }

    /// Sets the largest function body accepted, in bytes
    /// ([`CompileBudget::max_function_body_bytes`]).
    pub fn max_function_body_bytes(mut self, bytes: u32) -> Config {
        self.compile_budget.max_function_body_bytes = bytes;
        self
    }

    /// Sets the most locals a function may have, parameters included
    /// ([`CompileBudget::max_function_locals`]).
    pub fn max_function_locals(mut self, n: u32) -> Config {
        self.compile_budget.max_function_locals = n;
        self
    }

    /// Sets the most bytes of machine code a module may compile to
    /// ([`CompileBudget::max_code_bytes`]).
    pub fn max_code_bytes(mut self, bytes: usize) -> Config {
        self.compile_budget.max_code_bytes = bytes;
        self
    }

    /// Sets the compiler's memory budget for one function: `per_byte`
    /// bytes per byte of its body, at least `min` and at most `max`
    /// ([`CompileBudget::function_memory_per_byte`],
    /// [`CompileBudget::min_function_memory`],
    /// [`CompileBudget::max_function_memory`]).
    pub fn function_memory(mut self, per_byte: u32, min: usize, max: usize) -> Config {
        self.compile_budget.function_memory_per_byte = per_byte;
        self.compile_budget.min_function_memory = min;
        self.compile_budget.max_function_memory = max;
        self
    }

    /// Sets the liveness work budget for one function: `per_byte`
    /// (register, block) pairs per byte of its body, at least `min`
    /// ([`CompileBudget::liveness_work_per_byte`],
    /// [`CompileBudget::min_liveness_work`]).
    pub fn liveness_work(mut self, per_byte: u32, min: u64) -> Config {
        self.compile_budget.liveness_work_per_byte = per_byte;
        self.compile_budget.min_liveness_work = min;
        self
    }

    /// The cache directory this configuration resolves to: `cache_dir`,
    /// else `$SCION_CACHE_DIR`, else `$XDG_CACHE_HOME/scion` (if absolute),
    /// else `$HOME/.cache/scion`, else `.cache/scion` in the effective
    /// user's home directory from the password database, else
    /// `$XDG_RUNTIME_DIR/scion` (private to the user by the XDG spec).
    /// Never a shared directory such as `/tmp`, where another user could
    /// create it first: with none of these, an error says what to set.
    /// Empty variables count as unset.
    pub fn resolved_cache_dir(&self) -> std::result::Result<PathBuf, String> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(d) = &self.cache_dir {
            return Ok(d.clone());
        }
        if let Some(d) = var("SCION_CACHE_DIR") {
            return Ok(d);
        }
        if let Some(d) = var("XDG_CACHE_HOME").filter(|d| d.is_absolute()) {
            return Ok(d.join("scion"));
        }
        if let Some(h) = var("HOME").or_else(home_from_passwd) {
            return Ok(h.join(".cache").join("scion"));
        }
        if let Some(d) = var("XDG_RUNTIME_DIR").filter(|d| d.is_absolute()) {
            return Ok(d.join("scion"));
        }
        Err("no place for the artifact cache: none of HOME, XDG_CACHE_HOME, XDG_RUNTIME_DIR \
             or SCION_CACHE_DIR is set and the user has no home directory; set \
             SCION_CACHE_DIR or Config::cache_dir to a directory of yours (Scion never \
             falls back to a shared directory such as /tmp)"
            .into())
    }
}

/// The effective user's home directory from the password database.
fn home_from_passwd() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: an all-zero `passwd` is a valid value to be overwritten.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r writes into `pw` and `buf` (of the length given)
    // and sets `result` to `&pw` or NULL.
    let r = unsafe {
        libc::getpwuid_r(libc::geteuid(), &mut pw, buf.as_mut_ptr(), buf.len(), &mut result)
    };
    if r != 0 || result.is_null() || pw.pw_dir.is_null() {
        return None;
    }
    // SAFETY: `pw_dir` points at a NUL-terminated string inside `buf`.
    let dir = unsafe { std::ffi::CStr::from_ptr(pw.pw_dir) };
    let dir = PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes()));
    (dir.is_absolute() && dir != std::path::Path::new("/")).then_some(dir)
}
