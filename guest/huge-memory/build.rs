fn main() {
    // Ask the linker for the largest initial memory a 32-bit module can have.
    println!("cargo:rustc-link-arg=--initial-memory=4294967296");
}
