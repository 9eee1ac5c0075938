//! Bad input gives a clear error naming the byte offset and the reason, and
//! leaves nothing in the artifact cache.

use scion::{Config, Engine, Error, Module};
use std::path::PathBuf;

fn fresh_engine(name: &str) -> (Engine, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bad-input-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    (Engine::new(Config::new().cache_dir(&dir)).unwrap(), dir)
}

/// The files in the cache directory besides its signing key.
fn cache_files(dir: &PathBuf) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != scion::cache::KEY_FILE)
        .collect()
}

fn compile_error(r: Result<Module, Error>) -> (Option<usize>, String) {
    match r {
        Err(Error::Compile { error, .. }) => (error.offset, error.message),
        Err(e) => panic!("expected a compile error, got {e}"),
        Ok(_) => panic!("bad input was accepted"),
    }
}

const GOOD: &str =
    r#"(module (memory 1) (func (export "f") (param i32) (result i32) local.get 0 i32.load))"#;

#[test]
fn truncated_module() {
    let (engine, dir) = fresh_engine("truncated");
    let wasm = wat::parse_str(GOOD).unwrap();
    for cut in [9, wasm.len() / 2, wasm.len() - 1] {
        let (offset, message) = compile_error(Module::new(&engine, &wasm[..cut]));
        let offset = offset.expect("offset");
        assert!(offset <= cut, "offset {offset} beyond input of {cut} bytes");
        assert!(!message.is_empty());
        let shown = Module::new(&engine, &wasm[..cut]).unwrap_err().to_string();
        assert!(shown.contains("byte offset"), "{shown}");
    }
    assert!(cache_files(&dir).is_empty(), "cache not empty: {:?}", cache_files(&dir));
}

#[test]
fn not_wasm() {
    let (engine, dir) = fresh_engine("notwasm");
    let (offset, message) =
        compile_error(Module::new(&engine, b"\x7fELF\x02\x01\x01 not a wasm file"));
    assert_eq!(offset, Some(0));
    assert!(message.contains("magic"), "{message}");
    // A file with a .wasm name is read as binary whatever it contains.
    let file = dir.join("notes.wasm");
    std::fs::write(&file, "hello, this is plain text").unwrap();
    let err = Module::from_file(&engine, &file).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("notes.wasm") && shown.contains("offset 0x0"), "{shown}");
    std::fs::remove_file(&file).unwrap();
    assert!(cache_files(&dir).is_empty());
}

#[test]
fn invalid_module() {
    let (engine, dir) = fresh_engine("invalid");
    // i32.add with an i64 operand: well-formed, but does not validate.
    let bad = r#"(module (func (result i32) i32.const 1 i64.const 2 i32.add))"#;
    let wasm = wat::parse_str(bad).unwrap();
    let (offset, message) = compile_error(Module::new(&engine, &wasm));
    let offset = offset.expect("offset");
    assert!(offset < wasm.len() && offset > 8, "offset {offset}");
    assert!(message.contains("type mismatch"), "{message}");
    assert!(cache_files(&dir).is_empty());
}

#[test]
fn invalid_text() {
    let (engine, dir) = fresh_engine("text");
    let err = Module::new(&engine, "(module (func (result i32) i32.const))").unwrap_err();
    assert!(err.is_load_error());
    assert!(err.to_string().contains("invalid wasm text"), "{err}");
    assert!(cache_files(&dir).is_empty());
}

#[test]
fn good_module_lands_in_cache_once() {
    let (engine, dir) = fresh_engine("good");
    let a = Module::new(&engine, GOOD).unwrap();
    let b = Module::new(&engine, GOOD).unwrap();
    assert_eq!(a.artifact_path(), b.artifact_path());
    let mut files = cache_files(&dir);
    files.sort();
    // The artifact and its sidecar (verification record and last use).
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[0].ends_with(".so"));
    assert_eq!(files[1], format!("{}.ok", files[0]));
}
