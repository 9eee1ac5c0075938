//! Builds the plugins the examples load (installing the wasm32 target when
//! it is missing).

#[path = "../guest/build_guests.rs"]
mod build_guests;

fn main() {
    let guest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest");
    build_guests::build_guests(
        &guest,
        &["hostile", "kvdb-score", "kvdb-filter", "editor-commands", "word-filter", "game-mod"],
    );
    build_guests::build_guests_for(&guest, &["wasi-plugin"], build_guests::WASI_TARGET);
}
