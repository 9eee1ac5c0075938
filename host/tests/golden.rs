//! Golden tests of the compiler: every `golden/NAME.wat` is compiled and
//! each stage's text is compared with the file next to it:
//!
//! | file            | stage                                              |
//! |-----------------|----------------------------------------------------|
//! | `NAME.ir.raw`   | IR as translation built it                         |
//! | `NAME.ir.opt`   | IR after the optimizer (or the minimal cleanup)    |
//! | `NAME.vcode`    | VCode, then each virtual register's location       |
//! | `NAME.asm`      | machine code of each defined function (iced-x86)   |
//!
//! Functions appear in index order, separated by a blank line. A leading
//! `;; scion: WORDS` comment picks the [`CodegenConfig`]: `fuel` (default
//! costs), `interruptible`, `no-opt`, `lzcnt`, `bmi1`; without it the
//! optimizer is on and nothing else is.
//!
//! `SCION_BLESS=1 cargo test -p scion --test golden` (re)writes the expected
//! files; review their diff like code.

#[path = "golden/diff.rs"]
mod diff;
#[path = "golden/disasm.rs"]
mod disasm;

use scion::compiler::{self, CodegenConfig, CompileBudget, Stage};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File suffix of each stage's expected text, and of the machine code's.
const STAGE_FILES: [(Stage, &str); 3] =
    [(Stage::Raw, "ir.raw"), (Stage::Opt, "ir.opt"), (Stage::VCode, "vcode")];
const ASM_FILE: &str = "asm";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The configuration named by the `;; scion:` lines of the leading comment.
fn config(path: &Path, source: &str) -> CodegenConfig {
    let mut config = CodegenConfig { optimize: true, ..CodegenConfig::default() };
    let leading = source.lines().take_while(|l| l.trim_start().starts_with(";;"));
    for line in leading {
        let Some(words) = line.trim_start().strip_prefix(";; scion:") else { continue };
        for word in words.split_whitespace() {
            match word {
                "fuel" => config.fuel = Some(Default::default()),
                "interruptible" => config.interruptible = true,
                "no-opt" => config.optimize = false,
                "lzcnt" => config.isa.lzcnt = true,
                "bmi1" => config.isa.bmi1 = true,
                _ => panic!("{}: unknown scion directive `{word}`", path.display()),
            }
        }
    }
    config
}

/// Every stage's text for one `.wat`, by file suffix.
fn outputs(path: &Path) -> Result<BTreeMap<&'static str, String>, String> {
    let source = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let config = config(path, &source);
    let wasm = wat::parse_str(&source).map_err(|e| e.to_string())?;
    // Per stage, each function's text in index order.
    let mut stages: BTreeMap<Stage, BTreeMap<u32, String>> = BTreeMap::new();
    let module = compiler::compile_with_stages(
        &wasm,
        &config,
        &CompileBudget::default(),
        &mut |stage, func, text| {
            stages.entry(stage).or_default().insert(func, text.to_string());
        },
    )
    .map_err(|e| format!("compile error: {e}"))?;
    let mut files = BTreeMap::new();
    for (stage, suffix) in STAGE_FILES {
        let funcs = stages.remove(&stage).unwrap_or_default();
        files.insert(suffix, join(funcs.values().map(String::as_str)));
    }
    let mut code: Vec<_> =
        module.functions.iter().filter(|f| f.func_index >= module.info.imported_funcs).collect();
    code.sort_by_key(|f| f.func_index);
    let listings: Vec<String> = code
        .iter()
        .map(|f| format!("f{}:\n{}", f.func_index, disasm::function(&module, f.start, f.len)))
        .collect();
    files.insert(ASM_FILE, join(listings.iter().map(String::as_str)));
    Ok(files)
}

/// Texts separated by one blank line, ending in one newline.
fn join<'a>(texts: impl Iterator<Item = &'a str>) -> String {
    let parts: Vec<&str> = texts.map(str::trim_end).collect();
    let mut out = parts.join("\n\n");
    out.push('\n');
    out
}

fn expected_path(wat: &Path, suffix: &str) -> PathBuf {
    wat.with_extension(suffix)
}

#[test]
fn golden() {
    let bless = std::env::var("SCION_BLESS").is_ok_and(|v| v == "1");
    let mut wats: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("tests/golden exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    wats.sort();
    assert!(!wats.is_empty(), "no .wat files in {}", golden_dir().display());

    let mut failures = Vec::new();
    for wat in &wats {
        let files = match outputs(wat) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{}: {e}", wat.display()));
                continue;
            }
        };
        for (suffix, actual) in files {
            let path = expected_path(wat, suffix);
            if bless {
                if std::fs::read_to_string(&path).ok().as_deref() != Some(&actual) {
                    std::fs::write(&path, &actual).unwrap();
                    eprintln!("blessed {}", path.display());
                }
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(expected) if expected == actual => {}
                Ok(expected) => failures.push(format!(
                    "{} differs from the compiler's output\n{}",
                    path.display(),
                    diff::lines(&expected, &actual)
                )),
                Err(e) => failures.push(format!("{}: missing ({e})", path.display())),
            }
        }
    }
    failures.extend(orphans(&wats));
    assert!(
        failures.is_empty(),
        "{} golden mismatch(es); if the change is intended, run \
         `SCION_BLESS=1 cargo test -p scion --test golden` and review the diff\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Expected files whose `.wat` is gone: they would silently test nothing.
fn orphans(wats: &[PathBuf]) -> Vec<String> {
    let suffixes: Vec<&str> =
        STAGE_FILES.iter().map(|(_, s)| *s).chain(std::iter::once(ASM_FILE)).collect();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(golden_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(suffix) = suffixes.iter().find(|s| name.ends_with(&format!(".{s}"))) else {
            continue;
        };
        let stem = &name[..name.len() - suffix.len() - 1];
        if !wats.iter().any(|w| w.file_stem().is_some_and(|s| s == stem)) {
            found.push(format!("{}: no {stem}.wat for this expected file", path.display()));
        }
    }
    found.sort();
    found
}
