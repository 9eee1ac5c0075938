//! Bakes a hash of the sources that determine generated code into the
//! compiler version, so the artifact cache never serves code produced by a
//! different compiler build (even one with the same package version).

use std::path::Path;

fn visit(path: &Path, files: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> =
            std::fs::read_dir(path).unwrap().flatten().map(|e| e.path()).collect();
        entries.sort();
        for e in entries {
            visit(&e, files);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        files.push(path.to_path_buf());
    }
}

fn main() {
    let inputs = ["src/compiler", "src/contract", "src/artifact", "src/info.rs", "src/types.rs"];
    let mut files = Vec::new();
    for i in inputs {
        println!("cargo:rerun-if-changed={i}");
        visit(Path::new(i), &mut files);
    }
    // FNV-1a over file names and contents.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in files {
        for b in f.to_string_lossy().bytes().chain(std::fs::read(&f).unwrap()) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=SCION_COMPILER_HASH={h:016x}");
}
