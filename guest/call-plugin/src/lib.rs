//! `Calls` with the Scion SDK.

use call_api::{Calls, Payload};
use scion_sdk::plugin;

/// The plugin.
#[derive(Default)]
pub struct Bench;

#[plugin]
impl Calls for Bench {
    fn add(&self, a: i32, b: i32) -> i32 {
        a.wrapping_add(b)
    }

    fn roundtrip(&mut self, payload: Payload) -> Payload {
        call_api::touch(payload)
    }
}
