//! A counter: the hot-reload tests' interface.

#![no_std]

extern crate alloc;

use alloc::string::String;
use scion_sdk::interface;

/// Counts.
#[interface]
pub trait Counter {
    /// Adds the version's step; returns the new count.
    fn increment(&mut self) -> u64;
    /// The count.
    fn get(&self) -> u64;
    /// Which build of the plugin this is.
    fn version(&self) -> String;
    /// Busy work (`n` rounds), for calls that are in flight during a reload.
    fn spin(&mut self, n: u64) -> u64;
}
