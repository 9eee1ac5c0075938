//! The Scion SDK: what hosts and plugins share.
//!
//! - [`schema`]: interface schemas, the [`Schema`] trait for types that
//!   cross the boundary, schema sections and their comparison.
//! - [`wire`]: the call encoding (postcard, scalars).
//! - [`shape`]: checking encoded values against their schema before
//!   decoding (bounded nesting, list lengths).
//! - [`abi`]: export, import and section names.
//! - [`host`]: traits hosts implement ([`host::Transport`],
//!   [`host::Dispatch`]), so interface crates need no host dependency.
//! - `guest` (only when compiled for `wasm32`): the runtime every plugin
//!   links.
//! - The macros: `#[derive(Schema)]`, `#[interface]`, `#[plugin]`.
//!
//! `no_std` + `alloc`, so it builds for plugins and hosts alike.

#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod abi;
pub mod host;
pub mod schema;
pub mod shape;
pub mod wire;

#[cfg(target_arch = "wasm32")]
pub mod guest;

pub use schema::Schema;
pub use scion_macros::{Schema, interface, plugin};

/// An interface: `#[interface]` implements it for the trait object type
/// of the trait it marks (`dyn Filter` for `trait Filter`), so the trait's
/// path is all that is needed to name its schema.
pub trait Interface {
    /// The interface's schema.
    const DESC: &'static schema::InterfaceDesc;
}

/// Implementation details of the macros' generated code.
#[doc(hidden)]
pub mod __private {
    pub use alloc::boxed::Box;
    pub use alloc::format;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use log;
    pub use serde;

    /// Whether method `name` of `iface` is scalar (compile-time check that
    /// a plugin's glue agrees with the interface).
    pub const fn method_is_scalar(
        iface: &crate::schema::InterfaceDesc,
        name: &str,
    ) -> Option<bool> {
        let mut i = 0;
        while i < iface.methods.len() {
            let m = &iface.methods[i];
            if const_str_eq(m.name, name) {
                return Some(matches!(m.abi, crate::schema::Abi::Scalar));
            }
            i += 1;
        }
        None
    }

    const fn const_str_eq(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
}
