//! A plugin built for `wasm32-wasip1` reads a data file from a read-only
//! directory and writes a report into a read-write one, under a fuel
//! budget and a timeout; its `println!` and `eprintln!` are captured.
//! Nothing else on the host is reachable from it.
//!
//! Run: `cargo run --release -p scion-examples --example wasi-report`

use scion::wasi::{DirPerms, Output, OutputBuffer, WasiConfig};
use scion::{Config, Engine, Plugin};
use std::time::Duration;

/// The plugin's interface (`guest/wasi-plugin`), as the host sees it.
#[scion_sdk::interface]
pub trait Reports {
    fn word_report(&mut self, input: String, output: String) -> Result<u64, String>;
    fn greet(&mut self, name: String) -> Option<String>;
    fn clocks(&mut self) -> (u64, bool);
    fn try_write(&mut self, path: String) -> Option<String>;
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::temp_dir().join(format!("scion-wasi-report-{}", std::process::id()));
    let (data, out) = (root.join("data"), root.join("reports"));
    std::fs::create_dir_all(&data)?;
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        data.join("review.txt"),
        "the plugin reads the file the host granted and the host reads the report",
    )?;

    let (stdout, stderr) = (OutputBuffer::new(), OutputBuffer::new());
    let wasi = WasiConfig::new()
        .env("USER", "example")
        .preopen_dir(&data, "/data", DirPerms::ReadOnly)?
        .preopen_dir(&out, "/reports", DirPerms::ReadWrite)?
        .stdout(Output::Capture(stdout.clone()))
        .stderr(Output::Capture(stderr.clone()));
    let engine = Engine::new(Config::new().consume_fuel(true))?;
    let mut plugin = Plugin::builder(&engine)
        .name("reporter")
        .wasi(wasi)
        .fuel(200_000_000)
        .timeout(Duration::from_secs(2))
        .load_file(env!("SCION_GUEST_WASI_PLUGIN"))?;
    let mut reports = ReportsClient::new(&mut plugin)?;

    let distinct = reports.word_report("/data/review.txt".into(), "/reports/words.txt".into())?;
    println!("distinct words: {distinct:?}");
    println!("report file:\n{}", std::fs::read_to_string(out.join("words.txt"))?.trim_end());
    println!("USER seen by the plugin: {:?}", reports.greet("USER".into())?);
    println!("HOME seen by the plugin: {:?}", reports.greet("HOME".into())?);
    println!(
        "writing into the read-only directory: {}",
        reports.try_write("/data/tamper.txt".into())?.unwrap_or_else(|| "allowed?!".into())
    );
    println!(
        "writing outside every grant: {}",
        reports
            .try_write("/reports/../../escape.txt".into())?
            .unwrap_or_else(|| "allowed?!".into())
    );
    println!("fuel left: {}", plugin.store().get_fuel()?);
    println!("plugin stdout: {:?}", stdout.text());
    println!("plugin stderr: {:?}", stderr.text());
    std::fs::remove_dir_all(&root)?;
    Ok(())
}
