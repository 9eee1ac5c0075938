//! Builds the benchmark plugins (installing the wasm32 target when missing).

#[path = "../guest/build_guests.rs"]
mod build_guests;

fn main() {
    let guest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest");
    build_guests::build_guests(
        &guest,
        &["kernels", "call-plugin", "counter", "counter-v2", "counter-big"],
    );
    build_guests::build_guests_simd128(&guest, &["kernels"]);
    if std::env::var_os("CARGO_FEATURE_EXTISM").is_some() {
        build_guests::build_guests(&guest, &["extism-calls"]);
    }
}
