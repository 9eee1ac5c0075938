//! Names and conventions of the host/plugin boundary.
//!
//! Hosts find these exports by name; plugins get them by linking the SDK
//! (see `guest`).

/// Export `(len: i32) -> i32`: allocates `len` bytes in plugin memory for
/// the host to write into; returns 0 when out of memory.
pub const ALLOC_EXPORT: &str = "scion_alloc";

/// Export `(ptr: i32, len: i32)`: frees a buffer from [`ALLOC_EXPORT`].
pub const FREE_EXPORT: &str = "scion_free";

/// Alignment of buffers from [`ALLOC_EXPORT`].
pub const BUFFER_ALIGN: usize = 8;
