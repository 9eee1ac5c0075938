//! The runtime contract: everything that generated code and the runtime must
//! agree on, defined in exactly one place.
//!
//! **Sandbox-critical.** The compiler bakes these numbers into machine code
//! and the runtime builds the structures they describe; a disagreement is a
//! memory-safety bug. Nothing outside this module hard-codes an offset, a
//! register role or a trap number. The layout tests in `vmctx.rs` pin every
//! offset; changing one requires bumping [`artifact::FORMAT_VERSION`].
//!
//! - [`vmctx`]: the per-instance `VMContext` and the per-store
//!   `VMStoreContext`, drawn and with computed offsets.
//! - [`abi`]: register roles, the wasm calling convention, frame layouts of
//!   wasm functions and of the entry trampoline.
//! - [`trap`]: trap codes and their messages.
//! - [`builtins`]: runtime functions that generated code calls.
//! - [`fuel`]: what each operator costs.
//! - [`artifact`]: the shared-object format version and descriptor.

pub mod abi;
pub mod artifact;
pub mod builtins;
pub mod fuel;
pub mod trap;
pub mod vmctx;
