// Builds the plugins of `guest/` for wasm32-unknown-unknown (and those
// built for WASI for wasm32-wasip1); shared by the
// build scripts of the crates that need them (`#[path]`-included, so it is
// plain std Rust with no dependencies).
//
// The wasm32 target is installed with rustup when it is missing. The
// plugins are built in release mode into `guest/target`, and the path of
// each `<name>.wasm` is exported to the including crate as the environment
// variable `SCION_GUEST_<NAME>` (uppercase, `-` -> `_`).

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-unknown-unknown";

/// The target of plugins built for WASI preview 1.
#[allow(dead_code)] // not every including crate builds WASI plugins
pub const WASI_TARGET: &str = "wasm32-wasip1";

fn target_installed(target: &str) -> bool {
    Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .is_some_and(|sysroot| Path::new(sysroot.trim()).join("lib/rustlib").join(target).exists())
}

fn ensure_target(target: &str) {
    if target_installed(target) {
        return;
    }
    let status = Command::new("rustup").args(["target", "add", target]).status();
    match status {
        Ok(s) if s.success() => {}
        other => panic!(
            "the {target} target is missing and `rustup target add {target}` failed ({other:?}); \
             install it and rebuild"
        ),
    }
}

/// Shows a line of progress on the terminal, if there is one, while cargo
/// runs this build script: cargo keeps a build script's output to itself
/// until it ends. Cargo's own progress bar shares the line, so it is
/// cleared first.
fn progress(line: &str) {
    use std::io::Write;
    if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
        let _ = write!(tty, "\r\x1b[K   Scion: {line}\n");
    }
}

/// Builds the guest workspace and returns the directory holding the `.wasm` files.
pub fn build_guests(guest_dir: &Path, packages: &[&str]) -> PathBuf {
    build_guests_for(guest_dir, packages, TARGET)
}

/// [`build_guests`] for another wasm target (e.g. [`WASI_TARGET`]).
pub fn build_guests_for(guest_dir: &Path, packages: &[&str], target: &str) -> PathBuf {
    build_guests_with(guest_dir, packages, target, "release")
}

/// [`build_guests_for`] with a cargo profile of the guest workspace other
/// than `release` (e.g. `debuginfo`, which keeps line tables); the
/// variables are then `SCION_GUEST_<NAME>_<PROFILE>`.
#[allow(dead_code)] // not every including crate builds with another profile
pub fn build_guests_with(
    guest_dir: &Path,
    packages: &[&str],
    target: &str,
    profile: &str,
) -> PathBuf {
    build(guest_dir, packages, target, profile, false)
}

/// [`build_guests`] with `-C target-feature=+simd128` (LLVM then emits
/// and auto-vectorizes into SIMD operators), into a target directory of
/// its own; the variables are `SCION_GUEST_<NAME>_SIMD128`.
#[allow(dead_code)] // not every including crate builds the SIMD variants
pub fn build_guests_simd128(guest_dir: &Path, packages: &[&str]) -> PathBuf {
    build(guest_dir, packages, TARGET, "release", true)
}

fn build(guest_dir: &Path, packages: &[&str], target: &str, profile: &str, simd: bool) -> PathBuf {
    ensure_target(target);
    println!("cargo:rerun-if-changed={}", guest_dir.join("Cargo.toml").display());
    println!("cargo:rerun-if-changed={}", guest_dir.join("Cargo.lock").display());
    for p in packages {
        println!("cargo:rerun-if-changed={}", guest_dir.join(p).display());
    }
    // Every plugin links the SDK; some share interface crates.
    for shared in ["../sdk", "../macros", "sdk-api"] {
        println!("cargo:rerun-if-changed={}", guest_dir.join(shared).display());
    }
    let target_dir = guest_dir.join(if simd { "target/simd128" } else { "target" });
    progress(&format!(
        "building {} plugin(s) in guest/ for {target} (the first build takes about a minute)",
        packages.len()
    ));
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(guest_dir)
        .args(["build", "--profile", profile, "--target", target, "--target-dir"])
        .arg(&target_dir);
    for p in packages {
        cmd.args(["-p", p]);
    }
    // The outer build's settings must not leak into the wasm build, nor
    // `cargo clippy`'s wrapper (the plugins are built, not linted, and the
    // same whichever outer command asked for them).
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
        "CLIPPY_ARGS",
        "CLIPPY_CONF_DIR",
    ] {
        cmd.env_remove(var);
    }
    if simd {
        cmd.env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+simd128");
    }
    let status = cmd.status().expect("running cargo for the guest plugins");
    assert!(status.success(), "building the guest plugins failed");
    let out = target_dir.join(target).join(profile);
    for p in packages {
        let file = out.join(format!("{}.wasm", p.replace('-', "_")));
        assert!(file.exists(), "{} was not produced", file.display());
        let mut var = format!("SCION_GUEST_{}", p.to_uppercase().replace('-', "_"));
        if profile != "release" {
            var = format!("{var}_{}", profile.to_uppercase().replace('-', "_"));
        }
        if simd {
            var += "_SIMD128";
        }
        println!("cargo:rustc-env={var}={}", file.display());
    }
    out
}
