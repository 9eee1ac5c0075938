//! Counter, in a big build: initialisation compiles a regular expression
//! and parses JSON, which links the whole of `regex` and `serde_json`.

const STEP: u64 = 1;
const VERSION: &str = "big";
fn on_init() {
    let re = regex::Regex::new(r"^(\d+)-(\w+)$").expect("a valid pattern");
    let v: serde_json::Value = serde_json::from_str(r#"{"steps": [1, 2, 3]}"#).expect("valid JSON");
    assert!(re.is_match("12-ab") && v["steps"].is_array());
}

include!("../../counter/src/body.rs");
