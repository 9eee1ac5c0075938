//! The demo's plugin, version 1: counts every word.

const VERSION: &str = "v1";
const MIN_WORD_LEN: usize = 1;

include!("body.rs");
