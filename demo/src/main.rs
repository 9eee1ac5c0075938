//! Scion's demo: a host runs an untrusted text-analysis plugin
//! (`guest/analyzer`, written with the derive-macro SDK) through its typed
//! client, under a fuel budget, a memory limit and a timeout, survives the
//! plugin running out of each and panicking, and hot-reloads it to a second
//! version when its file changes, keeping its state.
//!
//! Run: `cargo run --release -p scion-demo`

use analyzer_api::{AnalyzerClient, Document};
use scion::plugin::{PluginGuard, PluginHandle, ReloadEvent, RestartPolicy};
use scion::{Config, Engine, Error, Module, Plugin, StoreLimits};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Fuel for each call: plenty for real work, too little for a runaway one.
const CALL_FUEL: u64 = 50_000_000;
/// The plugin's memory limit.
const MEMORY_LIMIT: u64 = 16 << 20;
/// The deadline of each call.
const TIMEOUT: Duration = Duration::from_millis(200);

const TEXT: &str = "The host compiles the plugin once and caches it. The plugin runs \
    sandboxed: every memory access is checked, its fuel is metered, its memory is \
    limited, and the host can stop it at any time. When the plugin fails, the host \
    goes on, and the plugin is restarted with the state it last saved.";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (v1, v2) = (env!("SCION_GUEST_ANALYZER"), env!("SCION_GUEST_ANALYZER_V2"));
    // The plugin's file lives in a scratch directory, so that the demo can
    // replace it with version 2 and watch the host pick it up.
    let dir = std::env::temp_dir().join(format!("scion-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("analyzer.wasm");
    std::fs::copy(v1, &file)?;
    let outcome = run(&file, v1, v2);
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

fn run(file: &std::path::Path, v1: &str, v2: &str) -> Result<(), Box<dyn std::error::Error>> {
    println!("Scion demo: a host running an untrusted plugin\n");
    let engine = Engine::new(Config::new().consume_fuel(true).interruptible(true))?;

    // 1. Load: compile once (or find it in the cache), verify, map.
    let t = Instant::now();
    let module = Module::from_file(&engine, file)?;
    let compiled = t.elapsed();
    let t = Instant::now();
    let handle = Plugin::builder(&engine)
        .name("analyzer")
        .fuel(CALL_FUEL)
        .limits(StoreLimits { max_memory_bytes: MEMORY_LIMIT, ..StoreLimits::default() })
        .timeout(TIMEOUT)
        .restart_policy(RestartPolicy::on_trap(10, Duration::from_secs(60)).keep_state())
        .reloadable_file(file)?;
    let started = t.elapsed();
    let wasm_kib = std::fs::metadata(v1)?.len() / 1024;
    println!("load     analyzer.wasm ({wasm_kib} KiB of wasm, built from guest/analyzer)");
    println!("         compiled (or found in the cache) in {:.1} ms", ms(compiled));
    println!("         the native code: {}", module.artifact_path().display());
    println!(
        "         loaded from the cache, instantiated and initialised in {:.2} ms",
        ms(started)
    );

    // 2. Typed calls: structs in, structs out, a `Result` error, std maps.
    let summary = with_client(&handle, |a| {
        a.summarize(Document { title: "About Scion".into(), body: TEXT.into() }, 3)
    })?;
    println!("\ncall     summarize(\"About Scion\") -> {summary:?}");
    let good = with_client(&handle, |a| a.parse_rating("7".into()))?;
    let bad = with_client(&handle, |a| a.parse_rating("eleven".into()))?;
    println!("call     parse_rating(\"7\") -> {good:?}, parse_rating(\"eleven\") -> {bad:?}");
    let words = TEXT.split_whitespace().take(6).map(String::from).collect::<Vec<_>>();
    let counts: HashMap<String, u32> = with_client(&handle, |a| a.word_counts(words))?;
    let known: HashSet<String> = ["The", "host", "plugin"].into_iter().map(String::from).collect();
    let unknown =
        with_client(&handle, |a| a.unknown_words("The host loads the plugin".into(), known))?;
    println!(
        "call     word_counts(..) -> {} distinct words; unknown_words(..) -> {unknown:?}",
        counts.len()
    );
    let saved = handle.lock().checkpoint()?;
    println!("         the host checkpoints the plugin's state (it keeps state: {saved})");

    // 3. The plugin misbehaves; each time it is stopped, the host goes on,
    //    and the restart policy gives it a fresh instance with the state of
    //    its checkpoint.
    println!();
    let mut restarts = 0;
    restarts += misbehave(&handle, "fuel", "fib(40) on 50M fuel", CALL_FUEL, |a| {
        a.fib(40).map(|v| v.to_string())
    })?;
    restarts +=
        misbehave(&handle, "memory", "hoard(64 MiB) under a 16 MiB limit", CALL_FUEL, |a| {
            a.hoard(64).map(|v| v.to_string())
        })?;
    // Fuel enough for hours: the timeout stops this one.
    restarts +=
        misbehave(&handle, "timeout", "spin_forever() with a 200 ms timeout", u64::MAX / 2, |a| {
            a.spin_forever().map(|v| v.to_string())
        })?;
    restarts += misbehave(&handle, "panic", "checked_half(7)", CALL_FUEL, |a| {
        a.checked_half(7).map(|v| v.to_string())
    })?;
    let half = with_client(&handle, |a| a.checked_half(8))?;
    let fib = with_client(&handle, |a| a.fib(25))?;
    println!("         and the plugin still works: checked_half(8) = {half}, fib(25) = {fib}");

    // 4. Hot reload: version 2 replaces the file; the watcher reloads it and
    //    the state (documents seen) is carried across.
    let events = handle.events();
    let _watcher = handle.watch()?;
    let staged = file.with_extension("wasm.new");
    std::fs::copy(v2, &staged)?;
    std::fs::rename(&staged, file)?;
    println!("\nreload   {} was replaced with version 2", file.display());
    wait_for_reload(&events)?;
    let summary = with_client(&handle, |a| {
        a.summarize(Document { title: "About Scion, again".into(), body: TEXT.into() }, 3)
    })?;
    let version = with_client(&handle, |a| a.version())?;
    println!("call     {version}: summarize(..) -> {summary:?}");
    println!("         (version 2 leaves short words out; documents_seen went on from the state)");

    // The host can also switch versions itself, e.g. back to version 1.
    let to = handle.reload(std::fs::read(v1)?)?;
    let version = with_client(&handle, |a| a.version())?;
    println!(
        "reload   back to the prebuilt version 1 by the host: serving #{to}, which says {version}"
    );

    println!(
        "\ndone: the plugin was stopped 4 times and restarted {restarts} times; the host never stopped"
    );
    Ok(())
}

/// Runs `f` on the plugin's typed client with a fresh fuel budget.
fn with_client<R>(
    handle: &PluginHandle,
    f: impl FnOnce(&mut AnalyzerClient<&mut PluginGuard>) -> scion::Result<R>,
) -> scion::Result<R> {
    with_fuel(handle, CALL_FUEL, f)
}

/// Runs `f` on the plugin's typed client with `fuel`.
fn with_fuel<R>(
    handle: &PluginHandle,
    fuel: u64,
    f: impl FnOnce(&mut AnalyzerClient<&mut PluginGuard>) -> scion::Result<R>,
) -> scion::Result<R> {
    let mut plugin = handle.lock();
    plugin.set_fuel(fuel)?;
    let mut client = AnalyzerClient::new(&mut plugin)?;
    f(&mut client)
}

/// Makes a call that is meant to fail and shows what the host saw; returns
/// whether the plugin was restarted.
fn misbehave(
    handle: &PluginHandle,
    what: &str,
    call: &str,
    fuel: u64,
    f: impl FnOnce(&mut AnalyzerClient<&mut PluginGuard>) -> scion::Result<String>,
) -> Result<u32, Box<dyn std::error::Error>> {
    let t = Instant::now();
    let outcome = with_fuel(handle, fuel, f);
    let elapsed = t.elapsed();
    match outcome {
        Ok(v) => return Err(format!("{call} returned {v}: it should have been stopped").into()),
        Err(e) => {
            println!("{what:<8} {call} -> stopped after {:.1} ms", ms(elapsed));
            println!("         {}", describe(&e));
        }
    }
    let plugin = handle.lock();
    match plugin.poisoned() {
        None => {
            println!(
                "         restarted (restart #{}) from its checkpoint",
                plugin.restart_count()
            );
            Ok(1)
        }
        Some(why) => {
            println!("         not restarted: {why}");
            Ok(0)
        }
    }
}

/// The lines of an error worth showing: what stopped the plugin, and for a
/// memory limit, the grow that was refused.
fn describe(e: &Error) -> String {
    let text = e.to_string();
    let mut lines = text.lines();
    let mut out = lines.next().unwrap_or_default().to_string();
    if let Some(refused) = lines.find(|l| l.starts_with("after a refused grow")) {
        out.push_str("\n         ");
        out.push_str(refused);
    }
    out
}

fn wait_for_reload(
    events: &std::sync::mpsc::Receiver<ReloadEvent>,
) -> Result<(), Box<dyn std::error::Error>> {
    match events.recv_timeout(Duration::from_secs(30))? {
        ReloadEvent::Reloaded { from, to, elapsed, state_carried } => {
            println!(
                "         the watcher reloaded it: #{from} -> #{to} in {:.1} ms, state carried: {state_carried}",
                ms(elapsed)
            );
            Ok(())
        }
        ReloadEvent::Failed { serving, reason } => {
            Err(format!("the reload failed (#{serving} still serves): {reason}").into())
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
