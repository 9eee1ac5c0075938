//! The WebAssembly spec test suite, run by Scion's `.wast` runner.
//!
//! The suite is found through `SCION_WASM_TESTSUITE` (default:
//! `../shared/wasm-testsuite` next to the repository). When it is missing
//! the test says so and skips, unless `SCION_REQUIRE_TESTSUITE=1` (set by
//! `.ci/run`), in which case it fails.
//!
//! `spec-expectations.tsv` lists, for every file of the suite, how many
//! assertions pass and how many fail because they need features Scion does
//! not implement yet. The test fails when a file passes fewer assertions
//! than listed, or has a failure not explained by a missing feature beyond
//! what is listed. Every `core2` and `simd` file must pass in full.
//! `SCION_BLESS=1` rewrites the list from the current results.

use scion::wast::{WastReport, read_groups, run_file};
use scion::{Config, Engine};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn suite_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("SCION_WASM_TESTSUITE") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/wasm-testsuite"),
    };
    if dir.join("GROUPS.tsv").exists() {
        return Some(dir);
    }
    let msg = format!(
        "the WebAssembly spec test suite is missing at {} (set SCION_WASM_TESTSUITE)",
        dir.display()
    );
    if std::env::var_os("SCION_REQUIRE_TESTSUITE").is_some_and(|v| v == "1") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// Expected (passed, failed, of which unsupported) per file.
type Expectations = BTreeMap<String, (usize, usize, usize)>;

/// Groups in which every assertion must pass: WebAssembly 2.0 and its
/// fixed-width SIMD.
const STRICT_GROUPS: [&str; 2] = ["core2", "simd"];

const EXPECTATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/spec-expectations.tsv");

fn read_expectations() -> Expectations {
    let text = std::fs::read_to_string(EXPECTATIONS).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let n = |i: usize| f[i].parse::<usize>().expect("number in spec-expectations.tsv");
            (f[1].to_string(), (n(2), n(3), n(4)))
        })
        .collect()
}

#[test]
fn spec_suite() {
    let Some(suite) = suite_dir() else { return };
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scion-spec-cache");
    let engine = Engine::new(Config::new().cache_dir(cache)).unwrap();
    let expectations = read_expectations();
    let bless = std::env::var_os("SCION_BLESS").is_some();
    let groups = read_groups(&suite).expect("GROUPS.tsv");
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut totals: BTreeMap<String, (usize, usize, usize, usize)> = BTreeMap::new();
    for (group, listed, path) in &groups {
        let rel = path.strip_prefix(&suite).unwrap().to_string_lossy().replace('\\', "/");
        let report: WastReport = if group == "unparsed" {
            // Legacy exception-handling syntax the `wast` crate cannot read.
            WastReport { file: path.clone(), ..Default::default() }
        } else {
            run_file(&engine, path)
        };
        let t = totals.entry(group.clone()).or_default();
        t.0 += 1;
        t.1 += report.passed;
        t.2 += report.failed;
        t.3 += report.unsupported;
        rows.push(format!(
            "{group}\t{rel}\t{}\t{}\t{}",
            report.passed, report.failed, report.unsupported
        ));
        let (exp_pass, exp_fail, exp_unsup) = expectations.get(&rel).copied().unwrap_or((0, 0, 0));
        let genuine = report.genuine_failures();
        if STRICT_GROUPS.contains(&group.as_str()) && report.failed > 0 {
            problems
                .push(format!("{rel} ({group}, {listed} assertions): {} failed", report.failed));
        } else if report.passed < exp_pass || genuine > exp_fail - exp_unsup {
            problems.push(format!(
                "{rel}: {} passed (expected {exp_pass}), {genuine} failures not explained by missing features (expected {})",
                report.passed,
                exp_fail - exp_unsup
            ));
        }
        if !report.failures.is_empty()
            && (STRICT_GROUPS.contains(&group.as_str()) || genuine > exp_fail - exp_unsup)
        {
            for f in report.failures.iter().take(10) {
                eprintln!("  {f}");
            }
        }
    }
    eprintln!("group        files  passed  failed  (need unsupported features)");
    for (g, (files, p, f, u)) in &totals {
        eprintln!("{g:<12} {files:>5}  {p:>6}  {f:>6}  ({u})");
    }
    if bless {
        let header = "# group\tfile\tpassed\tfailed\tof which need unsupported features\n";
        std::fs::write(EXPECTATIONS, header.to_string() + &rows.join("\n") + "\n").unwrap();
        eprintln!("wrote {EXPECTATIONS}");
        return;
    }
    assert!(problems.is_empty(), "spec suite regressions:\n{}", problems.join("\n"));
}
