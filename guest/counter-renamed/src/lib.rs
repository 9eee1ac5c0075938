//! A plugin built against another version of the counter interface, in
//! which `increment` is called `bump`.

use scion_sdk::{interface, plugin};

/// The other version of the interface.
#[interface]
pub trait Counter {
    /// Renamed from `increment`.
    fn bump(&mut self) -> u64;
    /// The count.
    fn get(&self) -> u64;
    /// Which build.
    fn version(&self) -> String;
    /// Busy work.
    fn spin(&mut self, n: u64) -> u64;
}

/// The plugin.
#[derive(Default)]
pub struct Tally {
    count: u64,
}

#[plugin]
impl Counter for Tally {
    fn bump(&mut self) -> u64 {
        self.count += 1;
        self.count
    }

    fn get(&self) -> u64 {
        self.count
    }

    fn version(&self) -> String {
        "renamed".into()
    }

    fn spin(&mut self, n: u64) -> u64 {
        n
    }
}
