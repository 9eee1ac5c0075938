//! `bench-report`: runs the benchmarks (kernels, lifecycle, calls and
//! codesize) and prints one Markdown report of medians and ratios: around
//! the compute, the compute kernels per engine configuration with the
//! geometric means of every ratio, and code size and compile cost.
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

const KERNELS: [&str; 10] =
    ["fib", "sieve", "matmul", "sha256", "json", "postcard", "sort", "bulk", "pixels", "dot"];

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

/// Appends calls per second from 1 and 2 threads (`call/threads`).
fn threads_table(r: &Report, md: &mut String) {
    md.push_str(
        "\n## Calls from several threads\n\nSDK scalar calls per second, each thread with its own \
         plugin (Wasmtime: the same export through a typed function).\n\n\
         | engine | 1 thread | 2 threads | 2 / 1 |\n|---|---|---|---|\n",
    );
    for engine in ["scion", "wasmtime"] {
        let rate = |n: f64| r.median(&format!("call_threads/{engine}/{n}")).map(|ns| n * 1e9 / ns);
        let (one, two) = (rate(1.0), rate(2.0));
        let show = |v: Option<f64>| v.map_or("—".into(), |v| format!("{:.1} M/s", v / 1e6));
        let _ = writeln!(md, "| {engine} | {} | {} | {} |", show(one), show(two), ratio(two, one));
    }
}

/// Appends the footprint benchmark's table (it runs in a few seconds).
fn footprint_table(root: &Path, md: &mut String) {
    md.push_str("\n## Memory per idle instance\n\n");
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(["bench", "-q", "-p", "scion-benches", "--bench", "footprint"])
        .output();
    match out {
        Ok(o) if o.status.success() => md.push_str(&String::from_utf8_lossy(&o.stdout)),
        _ => md.push_str("The footprint benchmark did not run.\n"),
    }
}

/// The kernel times shown, in order: Criterion ids under `kernel/NAME`.
const KERNEL_TIMES: [&str; 5] = ["native", "scion", "wasmtime-epoch", "scion-nointr", "wasmtime"];

/// The kernel ratio columns: header, numerator id, denominator id, and
/// whether it reads as an overhead (`+25%`) rather than a ratio (`1.25`).
const KERNEL_RATIOS: [(&str, &str, &str, bool); 10] = [
    ("scion/native", "scion", "native", false),
    ("scion/wasmtime-epoch", "scion", "wasmtime-epoch", false),
    ("scion-nointr/wasmtime", "scion-nointr", "wasmtime", false),
    ("interruptible overhead scion", "scion", "scion-nointr", true),
    ("interruptible overhead wasmtime", "wasmtime-epoch", "wasmtime", true),
    ("fuel overhead scion", "scion-fuel", "scion", true),
    ("fuel overhead wasmtime", "wasmtime-fuel", "wasmtime", true),
    ("simd128 build scion/wasmtime", "scion-simd", "wasmtime-simd", false),
    ("simd speedup scion", "scion", "scion-simd", false),
    ("simd speedup wasmtime", "wasmtime", "wasmtime-simd", false),
];

/// Appends the "Compute kernels" section; false when there is no kernel
/// result at all.
fn kernels_table(r: &Report, md: &mut String) -> bool {
    md.push_str("\n## Compute kernels\n\n| kernel |");
    for h in KERNEL_TIMES.iter().chain(KERNEL_RATIOS.iter().map(|c| &c.0)) {
        let _ = write!(md, " {h} |");
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(KERNEL_TIMES.len() + KERNEL_RATIOS.len()));
    md.push('\n');
    // Per ratio column, its value for every kernel that has both medians.
    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); KERNEL_RATIOS.len()];
    let mut any = false;
    for k in KERNELS {
        let m = |id: &str| r.median(&format!("kernel_{k}/{id}"));
        let _ = write!(md, "| {k} |");
        for id in KERNEL_TIMES {
            let t = m(id);
            any |= t.is_some();
            let _ = write!(md, " {} |", time(t));
        }
        for (column, &(_, num, den, is_overhead)) in columns.iter_mut().zip(&KERNEL_RATIOS) {
            let cell = match (m(num), m(den)) {
                (Some(a), Some(b)) if b > 0.0 => {
                    column.push(a / b);
                    if is_overhead { overhead(a / b) } else { ratio(Some(a), Some(b)) }
                }
                _ => "—".into(),
            };
            let _ = write!(md, " {cell} |");
        }
        md.push('\n');
    }
    let _ = write!(md, "| **geomean** |{}", " |".repeat(KERNEL_TIMES.len()));
    for (column, &(_, _, _, is_overhead)) in columns.iter().zip(&KERNEL_RATIOS) {
        let cell = if column.is_empty() {
            "—".into()
        } else if is_overhead {
            overhead(geomean(column))
        } else {
            format!("{:.2}", geomean(column))
        };
        let _ = write!(md, " **{cell}** |");
    }
    md.push_str(
        "\n\nscion: the default configuration, interruptible (a flag test at function \
         entries and loop headers); scion-nointr: `interruptible(false)`; wasmtime-epoch: \
         `epoch_interruption(true)` with a deadline that never fires, the same capability \
         as scion's default; wasmtime: its default configuration. Interruptible overhead \
         is scion/scion-nointr and wasmtime-epoch/wasmtime; fuel overhead is each engine \
         metered over its own default run (scion-fuel/scion, wasmtime-fuel/wasmtime). \
         The simd128 columns run the same kernels built with `-C target-feature=+simd128`; \
         a speedup is the scalar build's time over the simd128 build's.\n",
    );
    md.push_str(
        "\nSingle kernels move by up to ±30% between runs on a shared virtual machine \
         (each engine is measured after the other, not interleaved); read ratios \
         within one report, and geomeans rather than single rows.\n",
    );
    any
}

/// A row of the code size table: what, scion's and wasmtime's values, and
/// how to show them.
type CodeRow = (&'static str, Option<f64>, Option<f64>, fn(f64) -> String);

/// Appends the "Code size and compile" section from the codesize
/// benchmark's `codesize.json` and the lifecycle benchmark's compile times.
fn code_table(r: &Report, md: &mut String) {
    md.push_str("\n## Code size and compile\n\n");
    let path = r.criterion.join("codesize.json");
    let json: Option<serde_json::Value> =
        std::fs::read_to_string(&path).ok().and_then(|text| serde_json::from_str(&text).ok());
    let Some(modules) = json.as_ref().and_then(|j| j["modules"].as_array()) else {
        let _ = writeln!(md, "No code size results ({} is missing).", path.display());
        return;
    };
    md.push_str(
        "| module | measure | scion | wasmtime | scion/wasmtime |\n|---|---|---|---|---|\n",
    );
    for m in modules {
        let name = m["name"].as_str().unwrap_or("?");
        let wasm = m["wasm_bytes"].as_f64().unwrap_or(0.0);
        let text = |id: &str| m["text_bytes"][id].as_f64();
        let per_wasm = |id: &str| text(id).map(|t| t / wasm);
        let heap = |id: &str| m["peak_compile_heap_bytes"][id].as_f64();
        // MB/s from the lifecycle benchmark's median compile time.
        let mbps =
            |engine: &str| r.median(&format!("compile/{engine}/{name}")).map(|ns| wasm * 1e3 / ns);
        let mut rows: Vec<CodeRow> = vec![
            (
                ".text bytes, interruptible (scion vs wasmtime-epoch)",
                text("scion"),
                text("wasmtime-epoch"),
                bytes,
            ),
            (
                ".text per wasm byte, interruptible",
                per_wasm("scion"),
                per_wasm("wasmtime-epoch"),
                two,
            ),
            (
                ".text bytes, not interruptible (scion-nointr vs wasmtime)",
                text("scion-nointr"),
                text("wasmtime"),
                bytes,
            ),
            (
                ".text per wasm byte, not interruptible",
                per_wasm("scion-nointr"),
                per_wasm("wasmtime"),
                two,
            ),
        ];
        let (sm, wm) = (mbps("scion"), mbps("wasmtime"));
        if sm.is_some() || wm.is_some() {
            rows.push(("compile MB/s (higher is faster)", sm, wm, one));
        }
        rows.push((
            "peak compile heap MiB",
            heap("scion").map(mib),
            heap("wasmtime").map(mib),
            one,
        ));
        for (i, (what, s, w, show)) in rows.into_iter().enumerate() {
            let module =
                if i == 0 { format!("{name} ({:.0} KB wasm)", wasm / 1e3) } else { String::new() };
            let cell = |v: Option<f64>| v.map_or_else(|| "—".into(), show);
            let _ =
                writeln!(md, "| {module} | {what} | {} | {} | {} |", cell(s), cell(w), ratio(s, w));
        }
    }
    md.push_str(
        "\n`.text`: the compiled code section of each engine's ELF (Scion's artifact, \
         Wasmtime's `precompile_module`) up to its last symbol (Wasmtime's padding \
         to a page left out), trampolines included. Compile MB/s: wasm bytes \
         over the median of the `compile` rows above (default configurations; Wasmtime \
         compiles functions in parallel on all cores). Peak compile heap: the most heap \
         held at once above the starting point during one compile (default \
         configurations, all threads), counted by the codesize benchmark's allocator.\n",
    );
}

fn bytes(v: f64) -> String {
    let digits = format!("{v:.0}");
    // Thousands separated, for reading sizes at a glance.
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn two(v: f64) -> String {
    format!("{v:.2}")
}

fn one(v: f64) -> String {
    format!("{v:.1}")
}

fn mib(v: f64) -> f64 {
    v / (1u64 << 20) as f64
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
            "--bench",
            "codesize",
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
    // (what, scion bench, wasmtime bench, yardstick (name, bench))
    type Row<'a> = (&'a str, &'a str, &'a str, Option<(&'a str, &'a str)>);
    let rows: [Row; 16] = [
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
            "empty call with a timeout set",
            "call-empty/scion-timeout",
            "",
            Some(("native indirect call", "call-empty/native-indirect")),
        ),
        (
            "cold start: file → instance → first call",
            "cold-start/scion",
            "",
            Some(("dlopen of the same file", "cold-start/dlopen")),
        ),
        (
            "cold start, signed file outside the cache (hashed in full)",
            "cold-start/scion-full-check",
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
            "raw typed call of the same export",
            "call_scalar/scion-typed-func",
            "call_scalar/wasmtime",
            None,
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

    threads_table(&r, &mut md);
    footprint_table(&root, &mut md);

    if !kernels_table(&r, &mut md) {
        eprintln!("no kernel results in {}: run without --no-run first", r.criterion.display());
        std::process::exit(1);
    }
    code_table(&r, &mut md);
    print!("{md}");
    std::fs::write(&out, &md).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    eprintln!("written to {}", out.display());
}
