//! Names and conventions of the host/plugin boundary.
//!
//! Hosts find these exports by name; plugins get them by linking the SDK
//! (see `guest`) and from the `#[plugin]` macro.
//!
//! - A serialized method `m` of interface `I` is the export `scion:I/m`
//!   with type `(in_ptr: i32, in_len: i32) -> i64`: the host writes the
//!   postcard encoding of the argument tuple into a buffer from
//!   [`ALLOC_EXPORT`] (the plugin frees it), and the result is the packed
//!   address and length ([`crate::wire::pack`]) of the postcard-encoded
//!   result, which the host frees with [`FREE_EXPORT`] after reading.
//! - A scalar method takes and returns its values as wasm values.
//! - A host interface method the plugin calls is the import
//!   `scion-host` / `I/m` with the same two conventions; for serialized
//!   calls the host allocates the result in plugin memory.

/// Export `(len: i32) -> i32`: allocates `len` bytes in plugin memory for
/// the host to write into; returns 0 when out of memory.
pub const ALLOC_EXPORT: &str = "scion_alloc";

/// Export `(ptr: i32, len: i32)`: frees a buffer from [`ALLOC_EXPORT`].
pub const FREE_EXPORT: &str = "scion_free";

/// Export `(cfg_ptr: i32, cfg_len: i32) -> i32`: creates the plugin
/// instance from its postcard-encoded configuration (the buffer comes from
/// [`ALLOC_EXPORT`] and the plugin frees it). Returns 0, or a nonzero
/// status after reporting the reason through [`PANIC_IMPORT`].
pub const INIT_EXPORT: &str = "scion_init";

/// Export `() -> i64`: the postcard-encoded plugin state (packed pointer
/// and length), for hot reload.
pub const SAVE_STATE_EXPORT: &str = "scion_save_state";

/// Export `(ptr: i32, len: i32) -> i32`: restores state saved by
/// [`SAVE_STATE_EXPORT`] (possibly by an older version); 0 on success.
pub const RESTORE_STATE_EXPORT: &str = "scion_restore_state";

/// Import module of the SDK's runtime services.
pub const RUNTIME_MODULE: &str = "scion";

/// Import `(ptr: i32, len: i32)`: the plugin reports a panic message just
/// before it traps.
pub const PANIC_IMPORT: &str = "panic";

/// Import `(level: i32, target_ptr: i32, target_len: i32, msg_ptr: i32,
/// msg_len: i32)`: a log record (levels 1 = error .. 5 = trace).
pub const LOG_IMPORT: &str = "log";

/// Import module of host interfaces.
pub const HOST_MODULE: &str = "scion-host";

/// Custom section holding the plugin's schema records.
pub const SCHEMA_SECTION: &str = "scion-schema";

/// Alignment of buffers from [`ALLOC_EXPORT`].
pub const BUFFER_ALIGN: usize = 8;

/// The export name of method `method` of interface `interface`.
pub fn method_export(interface: &str, method: &str) -> alloc::string::String {
    alloc::format!("scion:{interface}/{method}")
}

/// The import name (in [`HOST_MODULE`]) of a host interface method.
pub fn method_import(interface: &str, method: &str) -> alloc::string::String {
    alloc::format!("{interface}/{method}")
}
