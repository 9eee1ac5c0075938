//! `bench-report`: runs the Criterion benchmarks (kernels, lifecycle,
//! calls) and prints one Markdown report of medians and ratios, ending
//! with the geometric means over the compute kernels.
//!
//! ```text
//! cargo run --release -p scion-benches --bin bench-report              # run, then report
//! cargo run --release -p scion-benches --bin bench-report -- --no-run  # report the last run
//!     --extism         also run the Extism column of the call benchmark
//!     --out FILE       where to write the Markdown (default benches/REPORT.md)
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const KERNELS: [&str; 8] = ["fib", "sieve", "matmul", "sha256", "json", "postcard", "sort", "bulk"];

struct Report {
    criterion: PathBuf,
}

impl Report {
    /// Median in nanoseconds of benchmark `id` (its Criterion directory).
    fn median(&self, id: &str) -> Option<f64> {
        let path = self.criterion.join(id).join("new/estimates.json");
        let text = std::fs::read_to_string(path).ok()?;
        let json: serde_json::Value = serde_json::from_str(&text).ok()?;
        json["median"]["point_estimate"].as_f64()
    }
}

fn time(ns: Option<f64>) -> String {
    match ns {
        None => "—".into(),
        Some(ns) if ns < 1e3 => format!("{ns:.1} ns"),
        Some(ns) if ns < 1e6 => format!("{:.2} µs", ns / 1e3),
        Some(ns) if ns < 1e9 => format!("{:.2} ms", ns / 1e6),
        Some(ns) => format!("{:.2} s", ns / 1e9),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        // Small ratios (Scion against Extism) keep two significant digits.
        (Some(a), Some(b)) if b > 0.0 && a / b < 0.1 => format!("{:.2e}", a / b),
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "—".into(),
    }
}

/// `ratio` (metered / unmetered) as an overhead: 1.25 is "+25%".
fn overhead(ratio: f64) -> String {
    format!("{:+.0}%", (ratio - 1.0) * 100.0)
}

fn geomean(xs: &[f64]) -> f64 {
    (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    format!(
        "{cpu}, {cores} cores, {}, {}",
        rustc.unwrap_or_else(|| "rustc ?".into()),
        date.unwrap_or_default()
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| root.join("benches/REPORT.md"), PathBuf::from);
    if !args.iter().any(|a| a == "--no-run") {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.current_dir(&root).args([
            "bench",
            "-p",
            "scion-benches",
            "--bench",
            "kernels",
            "--bench",
            "lifecycle",
            "--bench",
            "calls",
        ]);
        if args.iter().any(|a| a == "--extism") {
            cmd.args(["--features", "extism"]);
        }
        let status = cmd.status().expect("running cargo bench");
        assert!(status.success(), "the benchmarks failed");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let r = Report { criterion: target.join("criterion") };
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Scion benchmarks\n\nMachine: {}. Medians of Criterion runs, all engines in one process per benchmark.\n",
        machine()
    );

    md.push_str("## Around the compute\n\n| what | scion | wasmtime | scion/wasmtime | yardstick | scion/yardstick |\n|---|---|---|---|---|---|\n");
    let rows: [(&str, &str, &str, Option<(&str, &str)>); 13] = [
        (
            "compile kernels.wasm (158 KB)",
            "compile/scion/kernels",
            "compile/wasmtime/kernels",
            None,
        ),
        (
            "compile counter_big.wasm (1.3 MB)",
            "compile/scion/counter-big",
            "compile/wasmtime/counter-big",
            None,
        ),
        (
            "load cached artifact, kernels",
            "load-cached/scion/kernels",
            "load-cached/wasmtime/kernels",
            None,
        ),
        (
            "load cached artifact, counter-big",
            "load-cached/scion/counter-big",
            "load-cached/wasmtime/counter-big",
            None,
        ),
        (
            "instantiate kernels",
            "instantiate/scion",
            "instantiate/wasmtime",
            Some(("wasmtime pooled", "instantiate/wasmtime-pooled")),
        ),
        (
            "empty call",
            "call-empty/scion",
            "call-empty/wasmtime",
            Some(("native indirect call", "call-empty/native-indirect")),
        ),
        (
            "cold start: file → instance → first call",
            "cold-start/scion",
            "",
            Some(("dlopen of the same file", "cold-start/dlopen")),
        ),
        (
            "SDK scalar call",
            "call_scalar/scion",
            "call_scalar/wasmtime",
            Some(("Extism", "call_scalar/extism")),
        ),
        (
            "SDK 1 KiB struct round trip",
            "call_struct-1KiB/scion",
            "call_struct-1KiB/wasmtime",
            Some(("Extism", "call_struct-1KiB/extism")),
        ),
        ("reload, cached, small plugin", "reload/cached/small", "", None),
        ("reload with compile, small plugin", "reload/compile/small", "", None),
        ("reload, cached, 1.3 MB plugin", "reload/cached/big", "", None),
        ("reload with compile, 1.3 MB plugin", "reload/compile/big", "", None),
    ];
    for (what, s, w, yard) in rows {
        let (sv, wv) = (r.median(s), if w.is_empty() { None } else { r.median(w) });
        let (yname, yv) = yard.map_or(("", None), |(n, id)| (n, r.median(id)));
        let yard_cell =
            if yname.is_empty() { String::new() } else { format!("{yname}: {}", time(yv)) };
        let _ = writeln!(
            md,
            "| {what} | {} | {} | {} | {yard_cell} | {} |",
            time(sv),
            time(wv),
            ratio(sv, wv),
            if yname.is_empty() { String::new() } else { ratio(sv, yv) }
        );
    }

    md.push_str("\n## Compute kernels\n\n| kernel | native | scion | wasmtime | scion/native | scion/wasmtime | fuel overhead scion | fuel overhead wasmtime |\n|---|---|---|---|---|---|---|---|\n");
    let (mut to_wasmtime, mut to_native) = (Vec::new(), Vec::new());
    let (mut fuel_scion, mut fuel_wasmtime) = (Vec::new(), Vec::new());
    for k in KERNELS {
        let m = |engine: &str| r.median(&format!("kernel_{k}/{engine}"));
        let (n, s, w, sf, wf) =
            (m("native"), m("scion"), m("wasmtime"), m("scion-fuel"), m("wasmtime-fuel"));
        if let (Some(s), Some(w), Some(n)) = (s, w, n) {
            to_wasmtime.push(s / w);
            to_native.push(s / n);
        }
        if let (Some(s), Some(w), Some(sf), Some(wf)) = (s, w, sf, wf) {
            fuel_scion.push(sf / s);
            fuel_wasmtime.push(wf / w);
        }
        let over = |f: Option<f64>, b: Option<f64>| match (f, b) {
            (Some(f), Some(b)) => overhead(f / b),
            _ => "—".into(),
        };
        let _ = writeln!(
            md,
            "| {k} | {} | {} | {} | {} | {} | {} | {} |",
            time(n),
            time(s),
            time(w),
            ratio(s, n),
            ratio(s, w),
            over(sf, s),
            over(wf, w)
        );
    }
    if to_wasmtime.is_empty() {
        eprintln!("no kernel results in {}: run without --no-run first", r.criterion.display());
        std::process::exit(1);
    }
    if !fuel_scion.is_empty() {
        let _ = writeln!(
            md,
            "\nFuel overhead (metered / unmetered), geomean over the kernels: scion {}, wasmtime {}.",
            overhead(geomean(&fuel_scion)),
            overhead(geomean(&fuel_wasmtime))
        );
    }
    md.push_str(
        "\nSingle kernels move by up to ±30% between runs on a shared virtual machine \
         (each engine is measured after the other, not interleaved); read ratios \
         within one report, and geomeans rather than single rows.\n",
    );
    let _ = writeln!(
        md,
        "\ngeomean scion/wasmtime: {:.2}, scion/native: {:.2}",
        geomean(&to_wasmtime),
        geomean(&to_native)
    );
    print!("{md}");
    std::fs::write(&out, &md).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    eprintln!("written to {}", out.display());
}
