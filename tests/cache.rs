//! The artifact cache: corrupt, truncated and foreign entries are
//! recompiled, never executed; the size cap evicts the least recently
//! used artifacts. (Attacks on the cache: `tests/trust.rs`.)

use scion::{Config, Engine, Instance, Module, Store};
use std::path::{Path, PathBuf};

fn fresh(name: &str, config: Config) -> (Engine, PathBuf) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    (Engine::new(config.cache_dir(&dir)).unwrap(), dir)
}

fn wat(n: i32) -> String {
    format!(r#"(module (func (export "f") (result i32) i32.const {n}))"#)
}

fn call(engine: &Engine, n: i32) -> (i32, PathBuf) {
    let module = Module::new(engine, wat(n)).unwrap();
    let mut store = Store::new(engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let r = inst.get_typed_func::<(), i32>(&store, "f").unwrap().call(&mut store, ()).unwrap();
    (r, module.artifact_path())
}

#[test]
fn damaged_entries_are_replaced() {
    let (engine, _dir) = fresh("damaged", Config::new());
    let (_, path) = call(&engine, 7);
    let good = std::fs::read(&path).unwrap();
    let (_, other) = call(&engine, 8);
    let foreign = std::fs::read(&other).unwrap();

    // A flipped bit in the code (padding between segments is never read).
    let text = {
        use object::{Object, ObjectSection};
        let file = object::File::parse(&*good).unwrap();
        let (start, len) = file.section_by_name(".text").unwrap().file_range().unwrap();
        start as usize..(start + len) as usize
    };
    let mut flipped = good.clone();
    flipped[text.start + text.len() / 2] ^= 0x40;
    let damages: [(&str, Vec<u8>); 4] = [
        ("a flipped byte", flipped),
        ("truncated", good[..good.len() / 3].to_vec()),
        ("empty", vec![]),
        ("another module's artifact", foreign),
    ];
    for (what, bytes) in damages {
        std::fs::write(&path, &bytes).unwrap();
        // A new engine, so nothing is reused from memory.
        let engine = Engine::new(Config::new().cache_dir(path.parent().unwrap())).unwrap();
        let (r, again) = call(&engine, 7);
        assert_eq!(r, 7, "{what}");
        assert_eq!(again, path);
        assert!(std::fs::read(&path).unwrap() == good, "{what}: the entry is rewritten");
    }
}

#[test]
fn the_size_cap_evicts_least_recently_used() {
    let (engine, _dir) = fresh("cap", Config::new());
    let (_, first) = call(&engine, 0);
    let size = std::fs::metadata(&first).unwrap().len();
    let cap = size * 3 + size / 2; // room for three artifacts
    let (engine, dir) = fresh("cap", Config::new().cache_max_bytes(cap));
    for n in 0..3 {
        call(&engine, n);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Using 0 again makes 1 the least recently used.
    call(&engine, 0);
    std::thread::sleep(std::time::Duration::from_millis(20));
    call(&engine, 3);
    let cache = engine.cache();
    let entries = cache.entries().unwrap();
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert!(entries.iter().map(|e| e.bytes).sum::<u64>() <= cap);
    let key_of = |n| Module::new(&engine, wat(n)).unwrap().artifact_path();
    let kept: Vec<PathBuf> = entries.iter().map(|e| e.path.clone()).collect();
    for n in [0, 2, 3] {
        assert!(kept.contains(&key_of(n)), "artifact {n} was evicted");
    }
    assert!(!dir.join(key_of(1).file_name().unwrap()).exists() || kept.len() == 3);
    assert_eq!(cache.clear().unwrap().0, 3);
    assert!(cache.entries().unwrap().is_empty());
}

/// Regression: every store scanned the whole directory, so filling a
/// cache of many thousands of entries was quadratic. Under the cap, only
/// the first store scans.
#[test]
fn storing_under_the_cap_does_not_rescan_the_directory() {
    let (engine, _dir) = fresh("scans", Config::new());
    for n in 0..5 {
        call(&engine, 100 + n);
    }
    assert_eq!(engine.cache().entries().unwrap().len(), 5);
    assert_eq!(engine.cache().scans(), 1);
}

/// A full cache is evicted below its cap, so the stores after it do not
/// each rescan the directory.
#[test]
fn storing_into_a_full_cache_does_not_rescan_every_time() {
    let (engine, _dir) = fresh("full", Config::new());
    let (_, first) = call(&engine, 200);
    let size = std::fs::metadata(&first).unwrap().len();
    // Room for about twenty artifacts.
    let (engine, _dir) = fresh("full", Config::new().cache_max_bytes(size * 20));
    for n in 0..60 {
        call(&engine, 300 + n);
    }
    let scans = engine.cache().scans();
    assert!(engine.cache().entries().unwrap().len() <= 21);
    assert!(scans <= 25, "{scans} scans for 60 stores");
}

#[test]
fn the_cache_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let (engine, dir) = fresh("private", Config::new());
    let (_, path) = call(&engine, 1);
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o077, 0);
    // The signing key: 32 bytes only the owner may read, the same for every
    // engine of the directory (an artifact one wrote, another loads).
    let key = dir.join("mac-key");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&key).unwrap().len(), 32);
    let other = Engine::new(Config::new().cache_dir(&dir)).unwrap();
    let out = dir.join("by-one.so");
    Module::compile_to_file(&engine, wat(5).as_bytes(), &out).unwrap();
    assert!(Module::from_artifact(&other, &out).is_ok());
    assert_eq!(std::fs::read(&key).unwrap().len(), 32, "the key was not replaced");
    assert!(engine.cache().entries().unwrap().iter().all(|e| e.path != key));
}

/// Many engines opening a new cache directory at once agree on one key.
#[test]
fn concurrent_first_uses_agree_on_one_key() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache-tests").join("key-race");
    let _ = std::fs::remove_dir_all(&dir);
    let engines: Vec<Engine> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| Engine::new(Config::new().cache_dir(&dir)).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let out = dir.join("shared.so");
    Module::compile_to_file(&engines[0], wat(9).as_bytes(), &out).unwrap();
    for e in &engines {
        assert!(Module::from_artifact(e, &out).is_ok());
    }
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!names.iter().any(|n| n.to_string_lossy().starts_with(".tmp-")), "{names:?}");
}

#[test]
fn artifacts_load_by_path_only_when_they_fit_the_engine() {
    let (engine, dir) = fresh("by-path", Config::new());
    let out = dir.join("seven.so");
    Module::compile_to_file(&engine, wat(7).as_bytes(), &out).unwrap();
    let module = Module::from_artifact(&engine, &out).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    assert_eq!(
        inst.get_typed_func::<(), i32>(&store, "f").unwrap().call(&mut store, ()).unwrap(),
        7
    );

    // A file of mine that others may write: refused (it could change
    // between the checks and the mapping).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o664)).unwrap();
    let err = Module::from_artifact(&engine, &out).err().unwrap();
    assert!(err.to_string().contains("writable by its group"), "{err}");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();

    // Compiled for another configuration (fuel metering): refused.
    let metered = Engine::new(Config::new().consume_fuel(true).cache_dir(&dir)).unwrap();
    let err = Module::from_artifact(&metered, &out).err().unwrap();
    assert!(err.to_string().contains("another configuration"), "{err}");

    // Truncated inside what is loaded: refused, never mapped past its end.
    // (The section headers at the end are not loaded; cutting them off is
    // harmless.)
    let bytes = std::fs::read(&out).unwrap();
    for keep in [0, 10, 100, bytes.len() / 4, bytes.len() / 2] {
        let cut = dir.join(format!("cut-{keep}.so"));
        std::fs::write(&cut, &bytes[..keep]).unwrap();
        assert!(Module::from_artifact(&engine, &cut).is_err(), "{keep} bytes loaded");
    }
}
