//! The `scion` command-line tool, run as a user would.

use scion_sdk::Interface;
use scion_sdk::schema::{Direction, encode, record_len};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn scion(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scion"))
        .args(args)
        .current_dir(dir)
        .env("SCION_CACHE_DIR", dir.join("cache"))
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const FIB: &str = r#"(module
  (func $fib (export "fib") (param i64) (result i64)
    (if (result i64) (i64.lt_u (local.get 0) (i64.const 2))
      (then (local.get 0))
      (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                     (call $fib (i64.sub (local.get 0) (i64.const 2)))))))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "spin") (loop (br 0)))
  (func (export "pair") (result i32 f64) (i32.const -7) (f64.const 2.5)))"#;

#[test]
fn run_prints_results_and_reports_traps() {
    let dir = scratch("run");
    std::fs::write(dir.join("fib.wat"), FIB).unwrap();
    let out = scion(&dir, &["run", "fib.wat", "--invoke", "fib", "20"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "6765\n");

    let out = scion(&dir, &["run", "fib.wat", "--invoke", "pair"]);
    assert_eq!(text(&out.stdout), "-7\n2.5\n");

    let out = scion(&dir, &["run", "fib.wat", "--invoke", "div", "1", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("trap: integer divide by zero"), "{}", text(&out.stderr));

    let out = scion(&dir, &["run", "fib.wat", "--fuel", "1000", "--invoke", "spin"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("fuel"), "{}", text(&out.stderr));

    let out = scion(&dir, &["run", "fib.wat", "--timeout", "50ms", "--invoke", "spin"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("interrupt"), "{}", text(&out.stderr));

    // A timeout too long to end at any point in time is no deadline (it
    // used to panic adding it to the clock on every call).
    for huge in ["18446744073709000000s", "300000000000m"] {
        let out = scion(&dir, &["run", "fib.wat", "--timeout", huge, "--invoke", "fib", "10"]);
        assert!(out.status.success(), "--timeout {huge}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "55\n");
    }

    let out = scion(&dir, &["run", "fib.wat", "--print-fuel", "--invoke", "fib", "10"]);
    assert!(out.status.success());
    assert!(text(&out.stderr).starts_with("fuel consumed: "), "{}", text(&out.stderr));

    let out = scion(&dir, &["run", "fib.wat", "--invoke", "fib", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`x` is not a valid i64"), "{}", text(&out.stderr));
}

#[test]
fn compile_writes_a_shared_object() {
    let dir = scratch("compile");
    std::fs::write(dir.join("fib.wat"), FIB).unwrap();
    let out = scion(&dir, &["compile", "fib.wat", "-o", "fib.so"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(&std::fs::read(dir.join("fib.so")).unwrap()[..4], b"\x7fELF");

    std::fs::write(dir.join("bad.wasm"), b"\0asm\x01\0\0\0\x01\x05").unwrap();
    let out = scion(&dir, &["compile", "bad.wasm", "-o", "bad.so"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("bad.wasm"), "{}", text(&out.stderr));
    assert!(!dir.join("bad.so").exists());

    // `scion run` runs the compiled artifact, through the same checks as
    // `Module::from_artifact`: a changed byte anywhere and it is refused.
    let out = scion(&dir, &["run", "fib.so", "--invoke", "fib", "20"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "6765\n");
    let mut bytes = std::fs::read(dir.join("fib.so")).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(dir.join("changed.so"), &bytes).unwrap();
    let out = scion(&dir, &["run", "changed.so", "--invoke", "fib", "20"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("signature does not match"), "{}", text(&out.stderr));
}

#[allow(dead_code)]
mod api {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, scion_sdk::Schema)]
    pub struct Row {
        pub id: u64,
        pub cells: Vec<Option<String>>,
    }

    #[scion_sdk::interface]
    pub trait Filter {
        fn keep(&self, row: Row) -> bool;
        fn threshold(&mut self, value: f64);
    }
}

const FILTER: &scion_sdk::schema::InterfaceDesc = <dyn api::Filter as Interface>::DESC;
const RECORD_LEN: usize = record_len(FILTER);
const RECORD: [u8; RECORD_LEN] = encode::<RECORD_LEN>(FILTER, Direction::Export);

#[test]
fn inspect_shows_interfaces_imports_exports_memories_and_tables() {
    let dir = scratch("inspect");
    let mut wasm = wat::parse_str(
        r#"(module
             (import "scion" "panic" (func (param i32 i32)))
             (memory (export "memory") 2 16)
             (table 3 funcref)
             (func (export "scion:Filter/keep") (param i32 i32) (result i64) (i64.const 0))
             (func (export "scion:Filter/threshold") (param f64)))"#,
    )
    .unwrap();
    // A custom section: id 0, size, name, bytes.
    let mut section = vec![12];
    section.extend_from_slice(b"scion-schema");
    section.extend_from_slice(&RECORD);
    wasm.push(0);
    let mut n = section.len();
    while n >= 0x80 {
        wasm.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    wasm.push(n as u8);
    wasm.extend(section);
    std::fs::write(dir.join("filter.wasm"), &wasm).unwrap();

    let out = scion(&dir, &["inspect", "filter.wasm"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    for line in [
        "interface Filter",
        "fn keep(&self, row: Row) -> bool",
        "fn threshold(&mut self, value: f64)  [scalar]",
        "struct Row { id: u64, cells: Vec<Option<String>> }",
        "scion::panic  function (i32, i32) -> ()",
        "scion:Filter/keep  function (i32, i32) -> (i64)",
        "0: 2 pages (128.00 KiB) initial, at most 16 pages (1.00 MiB)",
        "0: funcref 3 elements initial, no maximum",
    ] {
        assert!(report.contains(line), "missing `{line}` in:\n{report}");
    }

    std::fs::write(dir.join("plain.wat"), "(module)").unwrap();
    let out = scion(&dir, &["inspect", "plain.wat"]);
    assert!(text(&out.stdout).contains("no Scion interfaces"), "{}", text(&out.stdout));

    let mut lying = wasm.clone();
    let at = lying.len() - RECORD_LEN + 4;
    lying[at] = 9; // unknown record kind
    std::fs::write(dir.join("lying.wasm"), &lying).unwrap();
    let out = scion(&dir, &["inspect", "lying.wasm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown record kind"), "{}", text(&out.stderr));
}

#[test]
fn cache_ls_and_clear() {
    let dir = scratch("cache");
    std::fs::write(dir.join("fib.wat"), FIB).unwrap();
    assert!(scion(&dir, &["run", "fib.wat", "--invoke", "fib", "3"]).status.success());
    let out = scion(&dir, &["cache", "ls"]);
    let listing = text(&out.stdout);
    assert!(listing.contains("1 artifacts,"), "{listing}");
    assert!(listing.lines().next().unwrap().ends_with("ago"), "{listing}");
    let out = scion(&dir, &["cache", "dir"]);
    assert_eq!(text(&out.stdout).trim(), dir.join("cache").display().to_string());
    let out = scion(&dir, &["cache", "clear"]);
    assert!(text(&out.stdout).starts_with("removed 1 artifacts"), "{}", text(&out.stdout));
    assert!(text(&scion(&dir, &["cache", "ls"]).stdout).contains("0 artifacts"));
}

/// A WASI command: prints its arguments' count and the value of `$GREETING`
/// (via `fd_write`), writes `out.txt` under its first preopen, and exits
/// with `proc_exit(argc)`.
const WASI_CMD: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "out.txt")
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 100) (local.get $ptr))
    (i32.store (i32.const 104) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 100) (i32.const 1) (i32.const 108))))
  (func (export "_start") (local $argc i32) (local $n i32)
    (drop (call $args_sizes (i32.const 200) (i32.const 204)))
    (local.set $argc (i32.load (i32.const 200)))
    ;; the first environment variable, `NAME=VALUE` without its NUL
    (drop (call $environ_sizes (i32.const 208) (i32.const 212)))
    (if (i32.load (i32.const 208)) (then
      (drop (call $environ_get (i32.const 300) (i32.const 400)))
      (call $print (i32.const 400) (i32.sub (i32.load (i32.const 212)) (i32.const 1)))))
    ;; create out.txt in preopen fd 3, with read and write rights
    (local.set $n (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 7)
      (i32.const 1) (i64.const 0x42) (i64.const 0) (i32.const 0) (i32.const 216)))
    (if (local.get $n) (then (call $proc_exit (i32.add (i32.const 100) (local.get $n)))))
    (call $proc_exit (local.get $argc))))"#;

#[test]
fn run_executes_wasi_commands_with_their_grants() {
    let dir = scratch("wasi");
    std::fs::write(dir.join("cmd.wat"), WASI_CMD).unwrap();
    let grant = dir.join("granted");
    let _ = std::fs::remove_dir_all(&grant);
    std::fs::create_dir_all(&grant).unwrap();
    let out = scion(
        &dir,
        &["run", "--env", "GREETING=hi", "--dir", "granted::/data", "cmd.wat", "a", "b"],
    );
    assert_eq!(text(&out.stdout), "GREETING=hi");
    assert_eq!(out.status.code(), Some(3), "argc (cmd.wat a b); stderr: {}", text(&out.stderr));
    assert!(grant.join("out.txt").exists(), "the program wrote into its preopen");

    // Nothing granted: no environment, and no fd 3 (EBADF = 8).
    let bare = scion(&dir, &["run", "cmd.wat"]);
    assert_eq!(text(&bare.stdout), "");
    assert_eq!(bare.status.code(), Some(108));

    // `--invoke` still calls an export, WASI linked.
    let inv = scion(&dir, &["run", "cmd.wat", "--invoke", "_start"]);
    assert_eq!(inv.status.code(), Some(108));
    let bad = scion(&dir, &["run", "--env", "NOEQUALS", "cmd.wat"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("NAME=VALUE"), "{}", text(&bad.stderr));
}
