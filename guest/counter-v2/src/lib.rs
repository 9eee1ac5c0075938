//! Counter, version 2: steps of 10, same state.

const STEP: u64 = 10;
const VERSION: &str = "v2";
fn on_init() {}

include!("../../counter/src/body.rs");
