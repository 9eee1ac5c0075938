//! WASI at the edges attackers go to: sleeps that must stop at the
//! store's timeout, pointers at the end of memory, symbolic links out of
//! a preopen, read-only grants written through every call, descriptor
//! limits exactly reached.

use scion::wasi::{DirPerms, WasiConfig, WasiCtx};
use scion::{Engine, Linker, Module, Store, TrapCode};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("scion-wasi-sandbox-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Instantiates `wat` with `config` and calls its `run: () -> i32`.
fn run(wat: &str, config: WasiConfig, timeout: Option<Duration>) -> scion::Result<i32> {
    let engine = Engine::default();
    let module = Module::new(&engine, wat)?;
    let mut store = Store::new(&engine, config.build()?);
    store.set_timeout(timeout)?;
    let mut linker = Linker::<WasiCtx>::new();
    scion::wasi::add_to_linker(&mut linker, &mut store, |c| c);
    let instance = linker.instantiate(&mut store, &module)?;
    instance.get_typed_func::<(), i32>(&store, "run")?.call(&mut store, ())
}

const IMPORTS: &str = r#"
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_set_times"
    (func $set_times (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (memory (export "memory") 1)
"#;

#[test]
fn a_long_sleep_ends_at_the_store_timeout() {
    // One clock subscription: relative, 60 s.
    let wat = format!(
        r#"(module {IMPORTS}
        (func (export "run") (result i32)
          (i64.store (i32.const 0) (i64.const 7))          ;; userdata
          (i32.store8 (i32.const 8) (i32.const 0))         ;; clock
          (i32.store (i32.const 16) (i32.const 1))         ;; monotonic
          (i64.store (i32.const 24) (i64.const 60000000000))
          (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200))))"#
    );
    let t = Instant::now();
    let err = run(&wat, WasiConfig::new(), Some(Duration::from_millis(100))).unwrap_err();
    assert_eq!(err.as_trap().map(|t| t.code), Some(TrapCode::Interrupted), "{err}");
    assert!(t.elapsed() < Duration::from_secs(5), "the sleep ran on: {:?}", t.elapsed());
}

#[test]
fn a_short_sleep_completes_with_its_event() {
    let wat = format!(
        r#"(module {IMPORTS}
        (func (export "run") (result i32)
          (i64.store (i32.const 0) (i64.const 7))
          (i32.store (i32.const 16) (i32.const 1))
          (i64.store (i32.const 24) (i64.const 1000000))   ;; 1 ms
          (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))
          ;; one event, for userdata 7, no error
          (i32.add (i32.load (i32.const 200))
            (i32.add (i32.wrap_i64 (i64.load (i32.const 100))) (i32.load16_u (i32.const 108))))))"#
    );
    assert_eq!(run(&wat, WasiConfig::new(), Some(Duration::from_secs(5))).unwrap(), 1 + 7);
}

#[test]
fn pointers_past_the_end_of_memory_are_efault_not_a_crash() {
    // iovec at the last 8 bytes pointing past the end; a count that
    // overflows 32 bits when multiplied; an out pointer at 65535.
    let wat = format!(
        r#"(module {IMPORTS}
        (func (export "run") (result i32)
          (i32.store (i32.const 65528) (i32.const 65530))
          (i32.store (i32.const 65532) (i32.const 100))
          (i32.add
            (i32.mul (i32.const 1000)
              (call $fd_write (i32.const 1) (i32.const 65528) (i32.const 1) (i32.const 0)))
            (i32.add
              (i32.mul (i32.const 100)
                (call $fd_write (i32.const 1) (i32.const 0) (i32.const 0x20000000) (i32.const 0)))
              (call $fd_write (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 65535))))))"#
    );
    // EFAULT is 21, three times.
    assert_eq!(run(&wat, WasiConfig::new(), None).unwrap(), 21 * 1000 + 21 * 100 + 21);
}

/// A program that tries `path` under preopen fd 3 with each call that
/// changes something, and reads it; returns the errnos, one per byte.
fn attempts(path: &str) -> String {
    let n = path.len();
    format!(
        r#"(module {IMPORTS}
        (data (i32.const 1000) "{path}")
        (data (i32.const 2000) "elsewhere")
        (func (export "run") (result i32)
          (local $r i32)
          ;; open for writing, creating
          (local.set $r (call $path_open (i32.const 3) (i32.const 1) (i32.const 1000) (i32.const {n})
            (i32.const 1) (i64.const 0x40) (i64.const 0) (i32.const 0) (i32.const 500)))
          (local.set $r (i32.or (i32.shl (local.get $r) (i32.const 8))
            (call $mkdir (i32.const 3) (i32.const 1000) (i32.const {n}))))
          (local.set $r (i32.or (i32.shl (local.get $r) (i32.const 8))
            (call $unlink (i32.const 3) (i32.const 1000) (i32.const {n}))))
          (local.set $r (i32.or (i32.shl (local.get $r) (i32.const 8))
            (call $rename (i32.const 3) (i32.const 1000) (i32.const {n})
              (i32.const 3) (i32.const 2000) (i32.const 9))))
          (local.get $r)))"#
    )
}

fn errnos(r: i32) -> [u8; 4] {
    r.to_be_bytes()
}

#[test]
fn a_read_only_grant_refuses_every_change() {
    let dir = scratch("ro");
    std::fs::write(dir.join("file"), "data").unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    let cfg = || WasiConfig::new().preopen_dir(&dir, "/ro", DirPerms::ReadOnly).unwrap();
    const NOTCAPABLE: u8 = 76;
    for path in ["file", "sub", "new"] {
        let r = run(&attempts(path), cfg(), None).unwrap();
        assert_eq!(errnos(r), [NOTCAPABLE; 4], "{path}");
    }
    assert_eq!(std::fs::read_to_string(dir.join("file")).unwrap(), "data");
    assert!(
        dir.join("sub").is_dir() && !dir.join("new").exists() && !dir.join("elsewhere").exists()
    );

    // Times and symbolic links too.
    let wat = format!(
        r#"(module {IMPORTS} (data (i32.const 1000) "file")
        (func (export "run") (result i32)
          (i32.or (i32.shl (call $set_times (i32.const 3) (i32.const 0) (i32.const 1000) (i32.const 4)
                    (i64.const 0) (i64.const 0) (i32.const 10)) (i32.const 8))
                  (call $symlink (i32.const 1000) (i32.const 4) (i32.const 3) (i32.const 1000) (i32.const 4)))))"#
    );
    assert_eq!(run(&wat, cfg(), None).unwrap(), (76 << 8) | 76);
}

#[test]
fn no_path_leaves_the_preopen() {
    let root = scratch("escape");
    let (granted, outside) = (root.join("granted"), root.join("outside"));
    std::fs::create_dir_all(&granted).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret"), "secret").unwrap();
    // Links the host (or another local user) planted inside the grant.
    std::os::unix::fs::symlink(&outside, granted.join("out-abs")).unwrap();
    std::os::unix::fs::symlink("../outside", granted.join("out-rel")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret"), granted.join("secret-link")).unwrap();
    let cfg = || WasiConfig::new().preopen_dir(&granted, "/g", DirPerms::ReadWrite).unwrap();
    for path in [
        "../outside/secret",
        "/etc/passwd",
        "out-abs/secret",
        "out-rel/secret",
        "secret-link",
        "out-rel/../../outside/secret",
        "./../granted/../outside/secret",
    ] {
        let n = path.len();
        // Open for reading (following links), then read 6 bytes.
        let wat = format!(
            r#"(module {IMPORTS} (data (i32.const 1000) "{path}")
            (func (export "run") (result i32) (local $e i32)
              (local.set $e (call $path_open (i32.const 3) (i32.const 1) (i32.const 1000) (i32.const {n})
                (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 500)))
              (if (result i32) (local.get $e) (then (local.get $e))
                (else
                  (i32.store (i32.const 600) (i32.const 700))
                  (i32.store (i32.const 604) (i32.const 6))
                  (drop (call $fd_read (i32.load (i32.const 500)) (i32.const 600) (i32.const 1) (i32.const 608)))
                  (i32.const 0)))))"#
        );
        let r = run(&wat, cfg(), None).unwrap();
        assert_ne!(r, 0, "{path} was opened");
        // Writes through the same paths (removing or renaming the link
        // `secret-link` itself is a change inside the grant, allowed; what
        // it points to must stay untouched, checked below).
        let w = run(&attempts(path), cfg(), None).unwrap();
        let [open, mkdir, ..] = errnos(w);
        assert!(open != 0 && mkdir != 0, "{path}: {:?}", errnos(w));
        if path != "secret-link" {
            assert!(errnos(w).iter().all(|&e| e != 0), "{path}: {:?}", errnos(w));
        }
    }
    assert_eq!(std::fs::read_to_string(outside.join("secret")).unwrap(), "secret");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1, "something was created outside");
}

#[test]
fn the_descriptor_limit_is_enforced_exactly() {
    let dir = scratch("fds");
    std::fs::write(dir.join("f"), "x").unwrap();
    // stdio + 1 preopen = 4; a limit of 6 leaves room for exactly two.
    let cfg =
        WasiConfig::new().preopen_dir(&dir, "/d", DirPerms::ReadOnly).unwrap().max_open_files(6);
    let wat = format!(
        r#"(module {IMPORTS} (data (i32.const 1000) "f")
        (func $open (result i32)
          (call $path_open (i32.const 3) (i32.const 1) (i32.const 1000) (i32.const 1)
            (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 500)))
        (func (export "run") (result i32)
          (i32.or (i32.shl (call $open) (i32.const 16))
            (i32.or (i32.shl (call $open) (i32.const 8)) (call $open)))))"#
    );
    const EMFILE: i32 = 33;
    assert_eq!(run(&wat, cfg, None).unwrap(), EMFILE);
    let too_many = WasiConfig::new()
        .preopen_dir(&dir, "/a", DirPerms::ReadOnly)
        .unwrap()
        .preopen_dir(&dir, "/b", DirPerms::ReadOnly)
        .unwrap()
        .max_open_files(4);
    let err = too_many.build().unwrap_err();
    assert!(err.to_string().contains("max_open_files"), "{err}");
}
