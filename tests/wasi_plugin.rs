//! An SDK plugin built for `wasm32-wasip1`: it runs like any plugin, its
//! `println!` goes where the host's `WasiConfig` says, it reads and
//! writes only the directories it was granted, and hot reload keeps
//! working with it.

use scion::wasi::{Clock, DirPerms, Output, OutputBuffer, WasiConfig};
use scion::{Engine, Plugin};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

const PLUGIN: &str = env!("SCION_GUEST_WASI_PLUGIN");

/// The plugin's interface, declared again on the host side (the schema
/// check compares the two).
#[scion_sdk::interface]
pub trait Reports {
    fn word_report(&mut self, input: String, output: String) -> Result<u64, String>;
    fn greet(&mut self, name: String) -> Option<String>;
    fn clocks(&mut self) -> (u64, bool);
    fn try_write(&mut self, path: String) -> Option<String>;
}

/// A fresh pair of directories: `data` (with `words.txt`) and `out`.
fn dirs(test: &str) -> (PathBuf, PathBuf) {
    let root =
        std::env::temp_dir().join(format!("scion-wasi-plugin-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (data, out) = (root.join("data"), root.join("out"));
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(data.join("words.txt"), "the cat saw the dog\nThe end\n").unwrap();
    (data, out)
}

fn config(data: &PathBuf, out: &PathBuf, stdout: &OutputBuffer) -> WasiConfig {
    WasiConfig::new()
        .env("GREETING", "hi")
        .preopen_dir(data, "/data", DirPerms::ReadOnly)
        .unwrap()
        .preopen_dir(out, "/out", DirPerms::ReadWrite)
        .unwrap()
        .stdout(Output::Capture(stdout.clone()))
}

#[test]
fn a_wasip1_plugin_reads_and_writes_its_granted_directories() {
    let (data, out) = dirs("rw");
    let stdout = OutputBuffer::new();
    let engine = Engine::new(scion::Config::new().consume_fuel(true)).unwrap();
    let mut plugin = Plugin::builder(&engine)
        .wasi(config(&data, &out, &stdout))
        .fuel(1_000_000_000)
        .timeout(Duration::from_secs(10))
        .load_file(PLUGIN)
        .unwrap();
    let mut client = ReportsClient::new(&mut plugin).unwrap();
    let words = client.word_report("/data/words.txt".into(), "/out/report.txt".into()).unwrap();
    assert_eq!(words, Ok(5));
    let report = std::fs::read_to_string(out.join("report.txt")).unwrap();
    assert_eq!(report, "the 3\ncat 1\ndog 1\nend 1\nsaw 1\n");
    assert_eq!(client.greet("GREETING".into()).unwrap(), Some("hi".into()));
    assert_eq!(client.greet("HOME".into()).unwrap(), None, "only granted variables are seen");
    assert_eq!(stdout.text(), "hello from wasip1, GREETING\nhello from wasip1, HOME\n");

    // Read-only means read-only, and nothing outside the grants exists.
    let refused = client.try_write("/data/new.txt".into()).unwrap();
    assert!(refused.is_some(), "a read-only directory took a write");
    assert!(!data.join("new.txt").exists());
    for escape in ["/out/../data/x", "/out/../../x", "/etc/passwd", "x"] {
        assert!(client.try_write(escape.into()).unwrap().is_some(), "{escape} was written");
    }
    let missing =
        client.word_report("/data/../../../../etc/passwd".into(), "/out/r2".into()).unwrap();
    assert!(missing.is_err(), "{missing:?}");
}

#[test]
fn clocks_are_real_or_virtual_as_configured() {
    let (data, out) = dirs("clocks");
    let engine = Engine::default();
    let mut real = Plugin::builder(&engine)
        .wasi(config(&data, &out, &OutputBuffer::new()))
        .load_file(PLUGIN)
        .unwrap();
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let (secs, moved) = ReportsClient::new(&mut real).unwrap().clocks().unwrap();
    assert!(secs.abs_diff(now) < 60, "{secs} vs {now}");
    assert!(moved);

    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    let virt = config(&data, &out, &OutputBuffer::new())
        .clock(Clock::Virtual { start, step: Duration::from_millis(1) });
    let mut fixed = Plugin::builder(&engine).wasi(virt).load_file(PLUGIN).unwrap();
    let (secs, moved) = ReportsClient::new(&mut fixed).unwrap().clocks().unwrap();
    assert_eq!(secs, 1_000_000);
    assert!(moved, "each reading of a virtual clock moves it on");
}

#[test]
fn a_wasip1_plugin_without_a_config_gets_nothing_and_still_runs() {
    let mut plugin = Plugin::builder(&Engine::default()).load_file(PLUGIN).unwrap();
    let mut client = ReportsClient::new(&mut plugin).unwrap();
    assert_eq!(client.greet("PATH".into()).unwrap(), None);
    assert!(client.word_report("/data/words.txt".into(), "/out/r".into()).unwrap().is_err());
}

#[test]
fn hot_reload_keeps_working_with_wasi() {
    let (data, out) = dirs("reload");
    let stdout = OutputBuffer::new();
    let wasm = std::fs::read(PLUGIN).unwrap();
    let handle = Plugin::builder(&Engine::default())
        .wasi(config(&data, &out, &stdout))
        .reloadable(&wasm)
        .unwrap();
    let call = |n: &str| {
        let mut g = handle.lock();
        ReportsClient::new(&mut *g)
            .unwrap()
            .word_report("/data/words.txt".into(), n.into())
            .unwrap()
    };
    assert_eq!(call("/out/a.txt"), Ok(5));
    handle.reload(&wasm).unwrap();
    assert_eq!(handle.version(), 2);
    assert_eq!(call("/out/b.txt"), Ok(5), "the new version has the same grants");
    assert!(out.join("a.txt").exists() && out.join("b.txt").exists());
    let mut g = handle.lock();
    ReportsClient::new(&mut *g).unwrap().greet("GREETING".into()).unwrap();
    assert!(stdout.text().contains("hello from wasip1"));
}
