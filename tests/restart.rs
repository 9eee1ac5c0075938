//! Restart policies (a trap restarts the plugin, at most N times in a
//! period, from its checkpoint), errors that read once, std hash
//! collections across the boundary, and panics with their location — on
//! the demo's plugin (guest/analyzer).

use analyzer_api::{AnalyzerClient, Document};
use scion::plugin::{ReloadEvent, RestartPolicy};
use scion::{Config, Engine, Error, Plugin, PluginBuilder, TrapCode};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

const FUEL: u64 = 20_000_000;

fn wasm(v2: bool) -> Vec<u8> {
    let path = if v2 { env!("SCION_GUEST_ANALYZER_V2") } else { env!("SCION_GUEST_ANALYZER") };
    std::fs::read(path).unwrap()
}

fn builder() -> PluginBuilder {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("restart-cache");
    let engine = Engine::new(Config::new().cache_dir(dir).consume_fuel(true)).unwrap();
    Plugin::builder(&engine).name("analyzer").fuel(FUEL)
}

fn summarize(plugin: &mut Plugin) -> scion::Result<u64> {
    plugin.set_fuel(FUEL)?;
    let doc = Document { title: "t".into(), body: "one two two".into() };
    Ok(AnalyzerClient::new(plugin)?.summarize(doc, 2)?.documents_seen)
}

/// A call that runs out of fuel.
fn run_out_of_fuel(plugin: &mut Plugin) -> Error {
    plugin.set_fuel(FUEL).unwrap();
    let e = AnalyzerClient::new(plugin).unwrap().fib(60).unwrap_err();
    assert_eq!(e.as_trap().map(|t| t.code), Some(TrapCode::OutOfFuel), "{e}");
    e
}

#[test]
fn a_trap_restarts_the_plugin_with_its_checkpoint() {
    let policy = RestartPolicy::on_trap(3, Duration::from_secs(3600)).keep_state();
    let mut plugin = builder().restart_policy(policy).load(wasm(false)).unwrap();
    assert_eq!(summarize(&mut plugin).unwrap(), 1);
    assert_eq!(summarize(&mut plugin).unwrap(), 2);
    assert!(plugin.checkpoint().unwrap());
    assert_eq!(summarize(&mut plugin).unwrap(), 3);
    run_out_of_fuel(&mut plugin);
    assert_eq!(plugin.poisoned(), None, "restarted");
    assert_eq!(plugin.restart_count(), 1);
    // The checkpoint had 2 documents: the third, after it, is lost with
    // the instance that trapped.
    assert_eq!(summarize(&mut plugin).unwrap(), 3);
    // The restarted plugin has the builder's fuel, not what was left.
    assert!(plugin.get_fuel().unwrap() > 0);
}

#[test]
fn without_keep_state_a_restart_starts_from_the_configuration() {
    let policy = RestartPolicy::on_trap(1, Duration::from_secs(3600));
    let mut plugin = builder().restart_policy(policy).load(wasm(false)).unwrap();
    summarize(&mut plugin).unwrap();
    plugin.checkpoint().unwrap();
    run_out_of_fuel(&mut plugin);
    assert_eq!(plugin.restart_count(), 1);
    assert_eq!(summarize(&mut plugin).unwrap(), 1);
}

#[test]
fn restarts_stop_at_the_limit_within_the_period() {
    let policy = RestartPolicy::on_trap(2, Duration::from_secs(3600)).keep_state();
    let mut plugin = builder().restart_policy(policy).load(wasm(false)).unwrap();
    run_out_of_fuel(&mut plugin);
    run_out_of_fuel(&mut plugin);
    assert_eq!(plugin.poisoned(), None);
    run_out_of_fuel(&mut plugin);
    let why = plugin.poisoned().expect("the third trap in the period is not restarted");
    assert!(why.contains("all fuel consumed") && why.contains("2 automatic restarts"), "{why}");
    let e = summarize(&mut plugin).unwrap_err();
    assert!(matches!(e, Error::Poisoned { .. }), "{e}");
    assert_eq!(plugin.restart_count(), 2);
    // The host can still restart it by hand.
    plugin.restart().unwrap();
    assert_eq!(summarize(&mut plugin).unwrap(), 1);
    assert_eq!(plugin.restart_count(), 2);
}

#[test]
fn the_default_policy_leaves_a_trapped_plugin_poisoned() {
    let mut plugin = builder().load(wasm(false)).unwrap();
    run_out_of_fuel(&mut plugin);
    let e = summarize(&mut plugin).unwrap_err();
    // The cause names the plugin once, and says what the trap was.
    let text = e.to_string();
    assert_eq!(text.matches("plugin `analyzer`").count(), 1, "{text}");
    assert!(text.contains("must be restarted or reloaded: trap: all fuel consumed"), "{text}");
    assert_eq!(plugin.restart_count(), 0);
}

#[test]
fn a_reload_of_a_version_that_trapped_carries_its_checkpoint() {
    let handle = builder().reloadable(wasm(false)).unwrap();
    let events = handle.events();
    {
        let mut plugin = handle.lock();
        summarize(&mut plugin).unwrap();
        summarize(&mut plugin).unwrap();
        plugin.checkpoint().unwrap();
        summarize(&mut plugin).unwrap();
        run_out_of_fuel(&mut plugin);
        assert!(plugin.poisoned().is_some());
    }
    handle.reload(wasm(true)).unwrap();
    match events.recv_timeout(Duration::from_secs(5)).unwrap() {
        ReloadEvent::Reloaded { state_carried: true, .. } => {}
        other => panic!("{other:?}"),
    }
    let mut plugin = handle.lock();
    assert_eq!(summarize(&mut plugin).unwrap(), 3);
    assert_eq!(AnalyzerClient::new(&mut plugin).unwrap().version().unwrap(), "v2");
}

#[test]
fn errors_read_the_same_in_debug_and_display() {
    let mut plugin = builder().load(wasm(false)).unwrap();
    let e = run_out_of_fuel(&mut plugin);
    assert_eq!(format!("{e:?}"), e.to_string());
    assert!(e.to_string().starts_with("trap: all fuel consumed"), "{e}");
}

#[test]
fn a_panic_reports_its_message_and_source_location() {
    let mut plugin = builder().load(wasm(false)).unwrap();
    let e = AnalyzerClient::new(&mut plugin).unwrap().checked_half(7).unwrap_err();
    let Error::Panic { plugin: name, message, trap } = &e else { panic!("{e}") };
    assert_eq!(name, "analyzer");
    assert!(message.starts_with("checked_half: 7 is odd (at "), "{message}");
    assert!(message.contains("body.rs:"), "{message}");
    assert_eq!(trap.code, TrapCode::Unreachable);
    assert!(e.to_string().starts_with("plugin `analyzer` panicked: checked_half: 7 is odd"));
}

#[test]
fn std_hash_collections_cross_the_boundary() {
    let mut plugin = builder().load(wasm(false)).unwrap();
    let mut client = AnalyzerClient::new(&mut plugin).unwrap();
    let words = ["a", "b", "a", "c", "a"].map(String::from).to_vec();
    let counts: HashMap<String, u32> = client.word_counts(words).unwrap();
    let expected: HashMap<String, u32> =
        [("a", 3), ("b", 1), ("c", 1)].into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    assert_eq!(counts, expected);
    let known: HashSet<String> = ["x", "z"].map(String::from).into();
    let unknown = client.unknown_words("x y z w y".into(), known).unwrap();
    assert_eq!(unknown, BTreeSet::from(["w".to_string(), "y".to_string()]));
}

#[test]
fn an_expected_interface_is_checked_at_load() {
    use scion_sdk::Interface;
    let analyzer = <dyn analyzer_api::Analyzer as Interface>::DESC;
    let mut plugin = builder().expect_interface(analyzer).load(wasm(false)).unwrap();
    assert_eq!(summarize(&mut plugin).unwrap(), 1);
    let counter = <dyn counter_api::Counter as Interface>::DESC;
    let e = builder().expect_interface(counter).load(wasm(false)).err().unwrap();
    assert!(matches!(e, Error::Schema(_)), "{e}");
    assert!(e.to_string().contains("Counter"), "{e}");
}

#[test]
fn a_trap_in_a_plugin_built_with_debug_info_names_its_source_lines() {
    let debug_build = std::fs::read(env!("SCION_GUEST_ANALYZER_DEBUGINFO")).unwrap();
    let mut plugin = builder().load(&debug_build).unwrap();
    let e = AnalyzerClient::new(&mut plugin).unwrap().fib(60).unwrap_err();
    let trap = e.as_trap().unwrap();
    let source = trap.source().unwrap_or_else(|| panic!("no source line: {e}"));
    assert!(source.file.ends_with("body.rs"), "{source}");
    // Every frame of the recursion is in the plugin's `fib`, in body.rs.
    assert!(trap.backtrace.len() > 3, "{e}");
    for frame in &trap.backtrace[..3] {
        let at = frame.source.as_ref().unwrap_or_else(|| panic!("{e}"));
        assert!(at.file.ends_with("analyzer/src/body.rs") && at.line > 1, "{e}");
    }
    assert!(e.to_string().contains("body.rs:"), "{e}");
    // A plugin without debug information has wasm offsets but no lines.
    let mut plain = builder().load(wasm(false)).unwrap();
    let e = AnalyzerClient::new(&mut plain).unwrap().fib(60).unwrap_err();
    let trap = e.as_trap().unwrap();
    assert!(trap.source().is_none() && trap.wasm_offset.is_some(), "{e}");
    assert!(trap.backtrace.iter().all(|f| f.wasm_offset.is_some()), "{e}");
}
