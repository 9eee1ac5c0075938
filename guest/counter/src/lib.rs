//! Counter, version 1: steps of 1.

const STEP: u64 = 1;
const VERSION: &str = "v1";
fn on_init() {}

include!("body.rs");
