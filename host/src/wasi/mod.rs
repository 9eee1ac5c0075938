//! WASI preview 1 (`wasi_snapshot_preview1`), capability-based.
//!
//! A program gets what its [`WasiConfig`] grants and nothing else: the
//! arguments and environment variables listed, the preopened directories
//! (each read-only or read-write; paths resolve inside them through
//! `cap-std`, so `..`, absolute paths and symbolic links cannot leave
//! them), standard streams that are empty, discarded, captured or the
//! host's own, the host's clocks and random generator or deterministic
//! ones, and a limit on open files. Sockets calls return `ENOTSUP`.
//!
//! Add the functions to a [`Linker`] with [`add_to_linker`]
//! and keep the [`WasiCtx`] in the store's data. A program's
//! `proc_exit(code)` ends the call with an error [`exit_code`] reads.
//!
//! **Sandbox-critical.** Every pointer and length a program passes is
//! checked against its memory in 64-bit arithmetic before use (see
//! `memory.rs`).

mod calls;
mod config;
mod ctx;
mod errno;
mod fs;
mod memory;
mod poll;

pub use config::{
    Clock, DEFAULT_MAX_OPEN_FILES, DirPerms, Input, Output, OutputBuffer, Random, WasiConfig,
};
pub use ctx::WasiCtx;

use crate::{Error, Linker, Store};

/// The import module name of WASI preview 1.
pub const MODULE: &str = crate::info::WASI_MODULE;

/// The error a program's `proc_exit` ends its call with (inside the
/// trap's `host_error`); [`exit_code`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub u32);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the program exited with code {}", self.0)
    }
}

impl std::error::Error for Exit {}

/// The exit code, when `error` is a program's `proc_exit`.
pub fn exit_code(error: &Error) -> Option<u32> {
    let host = error.as_trap()?.host_error.as_deref()?;
    host.downcast_ref::<Exit>().map(|e| e.0)
}

/// Whether a module imports anything from WASI preview 1.
pub fn imports_wasi(module: &crate::Module) -> bool {
    module.imports().iter().any(|i| i.module == MODULE)
}

/// Defines every `wasi_snapshot_preview1` function in `linker`, for
/// instances in `store`; `ctx` finds the [`WasiCtx`] in the store's data.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    store: &mut Store<T>,
    ctx: fn(&mut T) -> &mut WasiCtx,
) {
    calls::define(linker, store, ctx);
}
