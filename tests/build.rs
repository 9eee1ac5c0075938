//! Builds the guest plugins the tests load (installing the wasm32 target
//! when it is missing).

#[path = "../guest/build_guests.rs"]
mod build_guests;

fn main() {
    let guest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest");
    build_guests::build_guests(
        &guest,
        &[
            "demo-plugin",
            "analyzer",
            "analyzer-v2",
            "hostile",
            "huge-memory",
            "kernels",
            "sdk-plugin",
            "minimal-plugin",
            "counter",
            "counter-v2",
            "counter-badinit",
            "counter-badstate",
            "counter-renamed",
        ],
    );
    build_guests::build_guests_for(&guest, &["wasi-plugin"], build_guests::WASI_TARGET);
    build_guests::build_guests_with(&guest, &["analyzer"], "wasm32-unknown-unknown", "debuginfo");
    build_guests::build_guests_simd128(&guest, &["kernels"]);
}
