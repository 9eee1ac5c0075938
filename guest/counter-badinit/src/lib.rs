//! Counter whose initialisation panics.

const STEP: u64 = 1;
const VERSION: &str = "bad-init";
fn on_init() {
    panic!("this version cannot start");
}

include!("../../counter/src/body.rs");
