//! The official WASI preview-1 test suite (72 command programs in Rust, C
//! and AssemblyScript), each run by `scion run` in a fresh copy of its
//! folder, as `doc/specification.md` of the suite describes: its
//! arguments, environment and preopened directories from `NAME.json`, its
//! exit code and output compared with the expected ones.
//!
//! The suite is found through `SCION_WASI_TESTSUITE` (default:
//! `../shared/wasi-testsuite` next to the repository). When it is missing
//! the test says so and skips, unless `SCION_REQUIRE_TESTSUITE=1` (set by
//! `.ci/run`), in which case it fails.
//!
//! `wasi-expectations.tsv` lists the tests known to fail, with why; the
//! test fails when any other fails, and when a listed one passes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The suite's three preview-1 folders.
const FOLDERS: [&str; 3] = [
    "tests/rust/testsuite/wasm32-wasip1",
    "tests/c/testsuite/wasm32-wasip1",
    "tests/assemblyscript/testsuite/wasm32-wasip1",
];

/// How many preview-1 tests the suite holds.
const TESTS: usize = 72;

/// Longest a test may run (`scion run --timeout`).
const TIMEOUT: &str = "20s";

const EXPECTATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/wasi-expectations.tsv");

fn suite_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("SCION_WASI_TESTSUITE") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/wasi-testsuite"),
    };
    if dir.join(FOLDERS[0]).is_dir() {
        return Some(dir);
    }
    let msg =
        format!("the WASI test suite is missing at {} (set SCION_WASI_TESTSUITE)", dir.display());
    if std::env::var_os("SCION_REQUIRE_TESTSUITE").is_some_and(|v| v == "1") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// What a test's `NAME.json` asks for (defaults when absent).
#[derive(Default)]
struct Spec {
    args: Vec<String>,
    env: Vec<(String, String)>,
    dirs: Vec<String>,
    exit_code: u32,
    stdout: Option<String>,
    stderr: Option<String>,
}

fn read_spec(wasm: &Path) -> Spec {
    let Ok(text) = std::fs::read_to_string(wasm.with_extension("json")) else {
        return Spec::default();
    };
    let json: serde_json::Value = serde_json::from_str(&text).expect("a test specification");
    // The operation-based form keeps the same fields in a `run` operation
    // and the expectations in a `wait` one.
    let mut fields = serde_json::Map::new();
    match json.get("operations").and_then(|o| o.as_array()) {
        Some(ops) => {
            for op in ops {
                if let Some(o) = op.as_object() {
                    fields.extend(o.clone());
                }
            }
        }
        None => fields = json.as_object().cloned().unwrap_or_default(),
    }
    let strings = |key: &str| -> Vec<String> {
        fields
            .get(key)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
            .unwrap_or_default()
    };
    Spec {
        args: strings("args"),
        dirs: strings("dirs"),
        env: fields
            .get("env")
            .and_then(|v| v.as_object())
            .map(|o| {
                o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect()
            })
            .unwrap_or_default(),
        exit_code: fields.get("exit_code").and_then(|v| v.as_u64()).unwrap_or(0) as u32,
        stdout: fields.get("stdout").and_then(|v| v.as_str()).map(String::from),
        stderr: fields.get("stderr").and_then(|v| v.as_str()).map(String::from),
    }
}

/// Copies the folder `from` (files and subfolders) to `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let t = e.file_type().unwrap();
        if t.is_dir() {
            copy_dir(&src, &dst);
        } else if t.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Removes the `*.cleanup` files under `dir`, as the runner must first.
fn remove_cleanups(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            remove_cleanups(&p);
        } else if p.extension().is_some_and(|x| x == "cleanup") {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// Runs one test in `work` (a copy of its folder) with `scion run`;
/// `Err` says how it failed.
fn run_test(cache: &Path, work: &Path, name: &str) -> Result<(), String> {
    let wasm = format!("{name}.wasm");
    let spec = read_spec(&work.join(&wasm));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scion"));
    cmd.current_dir(work).env("SCION_CACHE_DIR", cache).args(["run", "--timeout", TIMEOUT]);
    for d in &spec.dirs {
        cmd.args(["--dir", d]);
    }
    for (k, v) in &spec.env {
        cmd.args(["--env", &format!("{k}={v}")]);
    }
    cmd.arg(&wasm).args(&spec.args);
    let out = cmd.output().map_err(|e| format!("cannot run scion: {e}"))?;
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let code =
        out.status.code().ok_or_else(|| format!("killed: {}; stderr: {stderr:?}", out.status))?;
    if code as u32 != spec.exit_code {
        return Err(format!("exit code {code}, expected {}; stderr: {stderr:?}", spec.exit_code));
    }
    for (what, want, got) in [("stdout", &spec.stdout, &stdout), ("stderr", &spec.stderr, &stderr)]
    {
        if let Some(want) = want
            && want != got
        {
            return Err(format!("{what} {got:?}, expected {want:?}"));
        }
    }
    Ok(())
}

/// `suite/name` → why it is expected to fail.
fn read_expectations() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(EXPECTATIONS).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, why) = l.split_once('\t').unwrap_or((l, ""));
            (name.trim().to_string(), why.trim().to_string())
        })
        .collect()
}

#[test]
fn wasi_testsuite() {
    let Some(suite) = suite_dir() else { return };
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scion-wasi-cache");
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scion-wasi-testsuite");
    let _ = std::fs::remove_dir_all(&scratch);
    let expected = read_expectations();
    let (mut found, mut passed) = (0, 0);
    let mut unexpected = Vec::new();
    for folder in FOLDERS {
        let dir = suite.join(folder);
        let lang = folder.split('/').nth(1).unwrap_or(folder);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .filter_map(|e| {
                let p = e.path();
                (p.extension()? == "wasm").then(|| p.file_stem()?.to_str().map(String::from))?
            })
            .collect();
        names.sort();
        for name in names {
            found += 1;
            let key = format!("{lang}/{name}");
            let work = scratch.join(lang).join(&name);
            copy_dir(&dir, &work);
            remove_cleanups(&work);
            let outcome = run_test(&cache, &work, &name);
            let _ = std::fs::remove_dir_all(&work);
            match (&outcome, expected.get(&key)) {
                (Ok(()), None) => {
                    passed += 1;
                    println!("ok      {key}");
                }
                (Ok(()), Some(_)) => {
                    passed += 1;
                    unexpected
                        .push(format!("{key} passes now: remove it from wasi-expectations.tsv"));
                }
                (Err(e), Some(why)) => println!("known   {key}: {e} ({why})"),
                (Err(e), None) => {
                    println!("FAIL    {key}: {e}");
                    unexpected.push(format!("{key}: {e}"));
                }
            }
        }
    }
    println!("WASI testsuite: {passed} passed, {} failed of {found}", found - passed);
    assert_eq!(found, TESTS, "expected {TESTS} preview-1 tests under {}", suite.display());
    assert!(unexpected.is_empty(), "unexpected results:\n{}", unexpected.join("\n"));
}
