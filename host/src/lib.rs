//! Scion: a plugin system for Rust hosts.
//!
//! Plugins are WebAssembly modules, compiled ahead of time by Scion's own
//! compiler to native x86-64 shared objects, mapped by Scion itself, and run
//! sandboxed: every memory access is bounds-checked and traps never take
//! the host down.
//!
//! ```no_run
//! use scion::{Engine, Instance, Module, Store};
//!
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"(module (func (export "add") (param i32 i32) (result i32)
//!     local.get 0 local.get 1 i32.add))"#)?;
//! let mut store = Store::new(&engine, ());
//! let instance = Instance::new(&mut store, &module, &[])?;
//! let add = instance.get_typed_func::<(i32, i32), i32>(&store, "add")?;
//! assert_eq!(add.call(&mut store, (1, 2))?, 3);
//! # Ok::<(), scion::Error>(())
//! ```
//!
//! See `ARCHITECTURE.md` in the repository for the stages and the runtime
//! contract.

#![warn(missing_docs)]
// Without `internals`, some of the compiler's vocabulary (encoder forms
// the golden tests check against iced-x86, contract fields, IR helpers)
// is used only by the tests that the feature serves.
#![cfg_attr(not(feature = "internals"), allow(dead_code, unused_imports))]

/// Declares modules that are Scion's internals: private to the crate,
/// unless the `internals` feature (for Scion's own tests, benchmarks and
/// tools; not a stable API) makes them public, hidden from the docs.
macro_rules! internal_modules {
    ($($name:ident),* $(,)?) => {$(
        #[cfg(feature = "internals")]
        #[doc(hidden)]
        pub mod $name;
        #[cfg(not(feature = "internals"))]
        mod $name;
    )*};
}

internal_modules!(artifact, cache, compiler, config, contract, engine, error, module, runtime);

pub mod info;
pub mod plugin;
pub mod types;
#[cfg(feature = "wasi")]
pub mod wasi;
#[cfg(feature = "wast")]
pub mod wast;

pub use compiler::CompileError;
pub use config::{CompileBudget, Config, FuelCosts};
pub use engine::Engine;
pub use error::{Error, Result};
pub use module::Module;
pub use plugin::{
    Plugin, PluginBuilder, PluginData, PluginHandle, ReloadEvent, RestartPolicy, StatePolicy,
};
pub use runtime::externs::{Extern, Global, Memory, Table};
pub use runtime::func::{Caller, Func, TypedFunc};
pub use runtime::instance::Instance;
pub use runtime::linker::Linker;
pub use runtime::stack::with_native_stack;
pub use runtime::store::{AsStore, InterruptHandle, OutOfFuel, Store, StoreLimits};
pub use runtime::trap::{FrameInfo, SourceLocation, Trap, TrapCode};
pub use runtime::values::{ExternRef, Val, ValRaw, WasmList, WasmParams, WasmResults, WasmTy};
pub use types::{FuncType, GlobalType, Limits, MemoryType, TableType, ValType};

/// The README's code blocks, compiled and run as doc tests so that they
/// keep working when copied.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
