//! The runtime: stores, instances, memories, tables, calls and traps.
//!
//! Imports `contract` (the layouts generated code expects) and artifact
//! loading, never the compiler.

pub mod builtins;
pub mod call;
pub mod externs;
pub mod func;
pub mod instance;
pub mod linker;
pub mod memory;
pub mod memory_image;
pub(crate) mod pool;
pub(crate) mod range;
pub(crate) mod reservation;
pub mod stack;
pub(crate) mod startup_fuel;
pub mod store;
pub mod table;
pub mod timer;
pub mod trap;
pub mod values;
