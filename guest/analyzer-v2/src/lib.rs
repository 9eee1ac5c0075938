//! The demo's plugin, version 2: leaves words shorter than four letters out
//! of the top words.

const VERSION: &str = "v2";
const MIN_WORD_LEN: usize = 4;

include!("../../analyzer/src/body.rs");
