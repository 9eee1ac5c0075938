//! Counter whose state type changed incompatibly (`count` is now text).

use counter_api::Counter;
use scion_sdk::{Schema, plugin};
use serde::{Deserialize, Serialize};

/// The plugin and its (incompatible) state.
#[derive(Default, Serialize, Deserialize, Schema)]
pub struct Tally {
    count: String,
    increments: u64,
}

#[plugin(state)]
impl Counter for Tally {
    fn increment(&mut self) -> u64 {
        self.count.push('|');
        self.increments += 1;
        self.count.len() as u64
    }

    fn get(&self) -> u64 {
        self.count.len() as u64
    }

    fn version(&self) -> String {
        "bad-state".into()
    }

    fn spin(&mut self, n: u64) -> u64 {
        n
    }
}
