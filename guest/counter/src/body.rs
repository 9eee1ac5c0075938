// The counter plugin, shared by the variants (each defines `STEP`,
// `VERSION` and `on_init` before including this file).

use counter_api::Counter;
use scion_sdk::{Schema, plugin};
use serde::{Deserialize, Serialize};

/// The plugin, and the state it carries across reloads.
#[derive(Serialize, Deserialize, Schema)]
pub struct Tally {
    count: u64,
    increments: u64,
}

impl Default for Tally {
    fn default() -> Tally {
        on_init();
        Tally { count: 0, increments: 0 }
    }
}

#[plugin(state)]
impl Counter for Tally {
    fn increment(&mut self) -> u64 {
        self.count += STEP;
        self.increments += 1;
        self.count
    }

    fn get(&self) -> u64 {
        self.count
    }

    fn version(&self) -> String {
        VERSION.into()
    }

    fn spin(&mut self, n: u64) -> u64 {
        let mut x = self.count;
        for i in 0..n {
            x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        x
    }
}
