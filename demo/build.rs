//! Builds the demo's two plugin versions (installing the wasm32 target
//! when it is missing); only these, so that a first run is quick.

#[path = "../guest/build_guests.rs"]
mod build_guests;

fn main() {
    let guest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest");
    build_guests::build_guests(&guest, &["analyzer", "analyzer-v2"]);
}
