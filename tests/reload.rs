//! Hot reload: state carried across, failures that leave the old version
//! serving, reloads under concurrent calls, resources after many reloads,
//! file watching.

#[path = "common/schema.rs"]
mod schema;
use counter_api::{Counter, CounterClient};
use schema::with_schema;
use scion::plugin::{PluginHandle, ReloadEvent, StatePolicy};
use scion::{Config, Engine, Error, Plugin};
use scion_sdk::Interface;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn wasm(name: &str) -> Vec<u8> {
    let path = match name {
        "v1" => env!("SCION_GUEST_COUNTER"),
        "v2" => env!("SCION_GUEST_COUNTER_V2"),
        "badinit" => env!("SCION_GUEST_COUNTER_BADINIT"),
        "badstate" => env!("SCION_GUEST_COUNTER_BADSTATE"),
        "renamed" => env!("SCION_GUEST_COUNTER_RENAMED"),
        _ => unreachable!(),
    };
    std::fs::read(path).unwrap()
}

fn engine() -> Engine {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("reload-cache");
    Engine::new(Config::new().cache_dir(dir)).unwrap()
}

fn handle() -> PluginHandle {
    Plugin::builder(&engine()).name("counter").reloadable(wasm("v1")).unwrap()
}

fn increment(h: &PluginHandle) -> u64 {
    let mut g = h.lock();
    CounterClient::new(&mut *g).unwrap().increment().unwrap()
}

fn get(h: &PluginHandle) -> (u64, String) {
    let mut g = h.lock();
    let mut c = CounterClient::new(&mut *g).unwrap();
    (c.get().unwrap(), c.version().unwrap())
}

#[test]
fn a_counter_keeps_counting_across_a_reload() {
    let h = handle();
    let events = h.events();
    for i in 1..=5 {
        assert_eq!(increment(&h), i);
    }
    assert_eq!(h.reload(wasm("v2")).unwrap(), 2);
    assert_eq!(get(&h), (5, "v2".to_string()));
    assert_eq!(increment(&h), 15);
    match events.recv_timeout(Duration::from_secs(1)).unwrap() {
        ReloadEvent::Reloaded { from: 1, to: 2, state_carried: true, elapsed } => {
            assert!(elapsed < Duration::from_secs(30))
        }
        other => panic!("{other:?}"),
    }
    // And back.
    assert_eq!(h.reload(wasm("v1")).unwrap(), 3);
    assert_eq!(increment(&h), 16);
}

/// Each bad version fails to load, and the old one keeps serving with its
/// state.
#[test]
fn failures_leave_the_old_version_serving() {
    let h = handle();
    let events = h.events();
    increment(&h);
    increment(&h);
    type Failure = (&'static str, Vec<u8>, fn(&Error) -> bool);
    let failures: [Failure; 4] = [
        ("broken wasm", b"\0asm\x01\0\0\0\x01\x04garbage".to_vec(), |e| {
            matches!(e, Error::Compile { .. })
        }),
        (
            "schema mismatch",
            wasm("renamed"),
            |e| matches!(e, Error::Schema(m) if m.contains("method `increment` is missing in the plugin")),
        ),
        (
            "trapping init",
            wasm("badinit"),
            |e| matches!(e, Error::Panic { message, .. } if message.contains("this version cannot start")),
        ),
        (
            "incompatible state",
            wasm("badstate"),
            |e| matches!(e, Error::Schema(m) if m.contains("state") && m.contains("field `count`")),
        ),
    ];
    for (what, bytes, expected) in failures {
        let err = h.reload(bytes).unwrap_err();
        assert!(expected(&err), "{what}: {err}");
        assert_eq!(h.version(), 1, "{what}");
        assert_eq!(get(&h), (2, "v1".to_string()), "{what}");
        match events.recv_timeout(Duration::from_secs(1)).unwrap() {
            ReloadEvent::Failed { serving: 1, reason } => assert_eq!(reason, err.to_string()),
            other => panic!("{what}: {other:?}"),
        }
    }
    assert_eq!(increment(&h), 3);
}

#[test]
fn an_incompatible_state_can_start_fresh_when_allowed() {
    let h = handle();
    increment(&h);
    h.set_state_policy(StatePolicy::StartFresh);
    h.reload(wasm("badstate")).unwrap();
    assert_eq!(get(&h), (0, "bad-state".to_string()));
}

#[test]
fn interfaces_declared_up_front_are_checked_before_any_client_ran() {
    let h = handle();
    h.expect_interface(<dyn Counter as Interface>::DESC);
    let err = h.reload(wasm("renamed")).unwrap_err();
    assert!(matches!(err, Error::Schema(_)), "{err}");
}

#[test]
fn a_call_in_flight_finishes_on_its_version() {
    let h = handle();
    increment(&h);
    let started = Arc::new(AtomicBool::new(false));
    let caller = {
        let (h, started) = (h.clone(), started.clone());
        std::thread::spawn(move || {
            let mut g = h.lock();
            let version = g.version();
            started.store(true, Ordering::SeqCst);
            let mut c = CounterClient::new(&mut *g).unwrap();
            c.spin(30_000_000).unwrap();
            (version, c.increment().unwrap(), c.version().unwrap())
        })
    };
    while !started.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    h.reload(wasm("v2")).unwrap();
    let (version, count, name) = caller.join().unwrap();
    assert_eq!((version, count, name.as_str()), (1, 2, "v1"));
    // The reload carried the state as it was after the in-flight call.
    assert_eq!(get(&h), (2, "v2".to_string()));
}

#[test]
fn four_threads_call_during_100_reloads() {
    let h = handle();
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (h, stop) = (h.clone(), stop.clone());
            std::thread::spawn(move || {
                // (version, step) of every call this thread made.
                let mut calls = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let mut g = h.lock();
                    let version = g.version();
                    let mut c = CounterClient::new(&mut *g).expect("every call succeeds");
                    c.increment().expect("every call succeeds");
                    calls.push(version);
                }
                calls
            })
        })
        .collect();
    // Version ids are 1, 2, 3, ...: odd ones run v1 (step 1), even v2 (step 10).
    for i in 0..100 {
        let id = h.reload(wasm(if i % 2 == 0 { "v2" } else { "v1" })).unwrap();
        assert_eq!(id, i + 2);
    }
    stop.store(true, Ordering::Relaxed);
    let mut expected = 0;
    let mut total = 0;
    for t in threads {
        let calls = t.join().unwrap();
        total += calls.len();
        expected += calls.iter().map(|v| if v % 2 == 1 { 1 } else { 10 }).sum::<u64>();
    }
    assert!(total > 100, "only {total} calls");
    assert_eq!(
        get(&h).0,
        expected,
        "every increment counted exactly once, by the version that served it"
    );
}

fn maps_and_rss() -> (usize, u64) {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap().lines().count();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        .unwrap();
    (maps, rss)
}

#[test]
fn a_thousand_reloads_unload_old_code() {
    let h = handle();
    let (v1, v2) = (wasm("v1"), wasm("v2"));
    for i in 0..20 {
        h.reload(if i % 2 == 0 { &v2 } else { &v1 }).unwrap();
    }
    let (maps_before, rss_before) = maps_and_rss();
    for i in 0..1000 {
        h.reload(if i % 2 == 0 { &v2 } else { &v1 }).unwrap();
        increment(&h);
    }
    let (maps_after, rss_after) = maps_and_rss();
    eprintln!("maps {maps_before} -> {maps_after}, RSS {rss_before} kB -> {rss_after} kB");
    assert!(maps_after <= maps_before + 40, "mappings grew from {maps_before} to {maps_after}");
    assert!(rss_after <= rss_before + 64 * 1024, "RSS grew from {rss_before} kB to {rss_after} kB");
    let (count, _) = get(&h);
    assert!(count >= 1000, "{count}");
}

#[test]
fn a_watched_file_reloads_when_rebuilt() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("reload-watch");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("counter.wasm");
    std::fs::write(&file, wasm("v1")).unwrap();
    let h = Plugin::builder(&engine()).reloadable_file(&file).unwrap();
    assert_eq!(h.name(), "counter");
    let events = h.events();
    let _watcher = h.watch().unwrap();
    increment(&h);
    // Replace the file the way build tools do: write elsewhere, rename over.
    let tmp = dir.join("counter.wasm.tmp");
    std::fs::write(&tmp, wasm("v2")).unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    match events.recv_timeout(Duration::from_secs(20)).expect("a reload event") {
        ReloadEvent::Reloaded { from: 1, to: 2, state_carried: true, .. } => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(get(&h), (1, "v2".to_string()));
    // A broken file is reported, and the old version stays.
    std::fs::write(&file, b"not wasm").unwrap();
    match events.recv_timeout(Duration::from_secs(20)).expect("a failure event") {
        ReloadEvent::Failed { serving: 2, reason } => {
            assert!(reason.contains("counter.wasm"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(get(&h), (1, "v2".to_string()));
    // reload_file reads the file again (now broken).
    assert!(h.reload_file().is_err());
}

fn metered_engine() -> Engine {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("reload-cache-fuel");
    Engine::new(Config::new().cache_dir(dir).consume_fuel(true)).unwrap()
}

fn fuel_of(h: &PluginHandle) -> u64 {
    h.lock().get_fuel().unwrap()
}

/// Saving and restoring state runs on a budget of its own: a reload works
/// when the serving version has no fuel left, and leaves its fuel as it
/// was.
#[test]
fn state_is_carried_when_the_serving_version_has_no_fuel_left() {
    let h = Plugin::builder(&metered_engine())
        .name("counter")
        .fuel(10_000_000)
        .reloadable(wasm("v1"))
        .unwrap();
    for _ in 0..3 {
        increment(&h);
    }
    h.lock().set_fuel(0).unwrap();
    // The save used to run on the old version's fuel: it trapped, the
    // reload failed and the old version was poisoned, so that the next
    // reload started fresh and the count was lost.
    assert_eq!(h.reload(wasm("v2")).unwrap(), 2);
    assert_eq!(get(&h), (3, "v2".to_string()));

    // The plugin's fuel is put back exactly, saving or not.
    let mut plugin = Plugin::builder(&metered_engine()).fuel(1_000_000).load(wasm("v1")).unwrap();
    CounterClient::new(&mut plugin).unwrap().increment().unwrap();
    for fuel in [0, 1, 12_345, 1 << 40] {
        plugin.set_fuel(fuel).unwrap();
        assert!(plugin.save_state().unwrap().is_some());
        assert_eq!(plugin.get_fuel().unwrap(), fuel);
    }
}

#[test]
fn a_failed_save_leaves_the_old_version_serving_unpoisoned() {
    let h = Plugin::builder(&metered_engine())
        .name("counter")
        .fuel(10_000_000)
        .state_budget(5, None)
        .reloadable(wasm("v1"))
        .unwrap();
    let events = h.events();
    for _ in 0..3 {
        increment(&h);
    }
    h.lock().set_fuel(777_777).unwrap();
    // Five units of fuel cannot save the state.
    let err = h.reload(wasm("v2")).unwrap_err();
    assert!(
        matches!(&err, Error::Init { message, .. } if message.contains("saving the state") && message.contains("fuel")),
        "{err}"
    );
    match events.recv_timeout(Duration::from_secs(1)).unwrap() {
        ReloadEvent::Failed { serving: 1, .. } => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(h.version(), 1);
    assert_eq!(h.lock().poisoned(), None);
    assert_eq!(fuel_of(&h), 777_777);
    assert_eq!(get(&h), (3, "v1".to_string()));
    assert_eq!(increment(&h), 4);
}

/// Version 2 of the counter without its state record: a plugin that
/// keeps no state across reloads.
fn stateless_v2() -> Vec<u8> {
    let wasm = wasm("v2");
    let module = scion::Module::new(&engine(), &wasm).unwrap();
    let section = scion::plugin::read_schema("v2", module.info()).unwrap();
    assert!(section.state.is_some());
    let mut records = Vec::new();
    for iface in &section.interfaces {
        assert_eq!(iface.name, "Counter");
        records.extend_from_slice(&COUNTER_RECORD);
    }
    with_schema(&wasm, &records)
}

const COUNTER_LEN: usize = scion_sdk::schema::record_len(<dyn Counter as Interface>::DESC);
const COUNTER_RECORD: [u8; COUNTER_LEN] = scion_sdk::schema::encode::<COUNTER_LEN>(
    <dyn Counter as Interface>::DESC,
    scion_sdk::schema::Direction::Export,
);

#[test]
fn a_new_version_without_state_is_refused_unless_starting_fresh_is_allowed() {
    let h = handle();
    for _ in 0..4 {
        increment(&h);
    }
    let stateless = stateless_v2();
    // Under the default policy, the state would be lost: refused, and the
    // old version keeps serving with it.
    let err = h.reload(&stateless).unwrap_err();
    assert!(
        matches!(&err, Error::Schema(m) if m.contains("keeps no state") && m.contains("StatePolicy::StartFresh")),
        "{err}"
    );
    assert_eq!(h.version(), 1);
    assert_eq!(get(&h), (4, "v1".to_string()));
    h.set_state_policy(StatePolicy::StartFresh);
    h.reload(&stateless).unwrap();
    assert_eq!(get(&h), (0, "v2".to_string()));
}
