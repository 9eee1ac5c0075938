//! A plugin built for `wasm32-wasip1` that uses `std` as any Rust program
//! would: files under preopened directories, `println!`, the environment,
//! the clocks and a `HashMap` (seeded from WASI's random bytes).

use scion_sdk::{interface, plugin};
use std::collections::HashMap;
use std::time::{Instant, SystemTime};

/// Word statistics over files the host grants.
#[interface]
pub trait Reports {
    /// Counts the words of `input` (a path the plugin can read) and
    /// writes `word count` lines, most frequent first, to `output`;
    /// returns how many distinct words there were.
    fn word_report(&mut self, input: String, output: String) -> Result<u64, String>;
    /// Prints a greeting to standard output and returns the value of the
    /// environment variable `name`, if set.
    fn greet(&mut self, name: String) -> Option<String>;
    /// Seconds since the Unix epoch by the wall clock, and whether the
    /// monotonic clock moved forward across a short busy loop.
    fn clocks(&mut self) -> (u64, bool);
    /// Tries to write to `path`; returns the error message if it fails.
    fn try_write(&mut self, path: String) -> Option<String>;
}

/// The plugin: it remembers how many reports it wrote.
#[derive(Default)]
pub struct Reporter {
    reports: u64,
}

#[plugin]
impl Reports for Reporter {
    fn word_report(&mut self, input: String, output: String) -> Result<u64, String> {
        let text = std::fs::read_to_string(&input).map_err(|e| format!("{input}: {e}"))?;
        let mut counts: HashMap<String, u64> = HashMap::new();
        for w in text.split_whitespace() {
            *counts.entry(w.to_lowercase()).or_default() += 1;
        }
        let mut rows: Vec<(&String, &u64)> = counts.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut report = String::new();
        for (w, n) in rows {
            report.push_str(&format!("{w} {n}\n"));
        }
        std::fs::write(&output, report).map_err(|e| format!("{output}: {e}"))?;
        self.reports += 1;
        eprintln!("report {} written to {output}", self.reports);
        Ok(counts.len() as u64)
    }

    fn greet(&mut self, name: String) -> Option<String> {
        println!("hello from wasip1, {name}");
        std::env::var(&name).ok()
    }

    fn clocks(&mut self) -> (u64, bool) {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs());
        let start = Instant::now();
        let mut x = 0u64;
        for i in 0..100_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        (now.unwrap_or(0), start.elapsed().as_nanos() > 0)
    }

    fn try_write(&mut self, path: String) -> Option<String> {
        std::fs::write(&path, b"x").err().map(|e| e.to_string())
    }
}
