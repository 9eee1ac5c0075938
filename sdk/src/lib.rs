//! The Scion SDK: what hosts and plugins share.
//!
//! - [`abi`]: names of the exports and sections a Scion host looks for in a
//!   plugin.
//! - `guest` (only when compiled for `wasm32`): the runtime every plugin
//!   links, starting with the buffer allocator the host uses to pass data
//!   into plugin memory.
//!
//! The crate is `no_std` + `alloc`, so it builds for plugins and hosts alike.

#![no_std]

extern crate alloc;

pub mod abi;

#[cfg(target_arch = "wasm32")]
pub mod guest;
