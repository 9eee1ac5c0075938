//! The SDK end to end: a real Rust plugin (guest/sdk-plugin, written
//! against guest/sdk-api) loaded through `scion::Plugin` and called through
//! the generated typed client; host callbacks; panics; logging;
//! configuration; schema mismatches; lying schema sections.

use scion::{Config, Engine, Error, Plugin};
use scion_sdk::host::Transport;
use sdk_api::*;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[path = "common/schema.rs"]
mod schema;
use schema::{leb, with_schema};

const PLUGIN: &str = env!("SCION_GUEST_SDK_PLUGIN");

fn engine() -> Engine {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("sdk-cache");
    Engine::new(Config::new().cache_dir(dir)).unwrap()
}

/// The host's implementation of the interface the plugin calls.
#[derive(Default)]
struct Services {
    total: i64,
}

impl HostServices for Services {
    fn lookup(&mut self, key: String) -> Option<String> {
        (key == "Ada").then(|| "Countess ".to_string())
    }
    fn record(&mut self, value: i64) -> i64 {
        self.total += value;
        self.total
    }
}

fn config() -> GeoConfig {
    GeoConfig { greeting: "Hello".into(), max_points: 100 }
}

fn load() -> Plugin {
    Plugin::builder(&engine())
        .name("geo")
        .config(&config())
        .host(HostServicesServer(Services::default()))
        .load_file(PLUGIN)
        .unwrap()
}

#[test]
fn scalar_methods() {
    let mut plugin = load();
    let mut geo = GeometryClient::new(&mut plugin).unwrap();
    assert_eq!(geo.add(2, 40).unwrap(), 42);
    assert_eq!(geo.add(i32::MAX, 1).unwrap(), i32::MIN);
    assert_eq!(geo.mix(200, -1_000_000_000_000, 0.25, true).unwrap(), 200.0 - 1e12 + 0.25 + 0.5);
    geo.set_scale(2.0).unwrap();
    let a = geo.area(Shape::Polygon(vec![pt(0.0, 0.0), pt(4.0, 0.0), pt(4.0, 3.0)])).unwrap();
    assert_eq!(a, Ok(12.0));
    assert_eq!(geo.calls().unwrap(), 5);
}

fn pt(x: f64, y: f64) -> Point {
    Point { x, y }
}

#[test]
fn structs_enums_options_results() {
    let mut plugin = load();
    let mut geo = GeometryClient::new(&mut plugin).unwrap();
    let circle = geo.area(Shape::Circle { center: pt(1.0, 1.0), radius: 1.0 }).unwrap().unwrap();
    assert!((circle - std::f64::consts::PI).abs() < 1e-12);
    assert_eq!(
        geo.area(Shape::Circle { center: pt(0.0, 0.0), radius: 0.0 }).unwrap(),
        Err(GeoError::Degenerate { what: "zero radius".into() })
    );
    assert_eq!(geo.area(Shape::Empty).unwrap(), Err(GeoError::Degenerate { what: "empty".into() }));
    assert_eq!(
        geo.area(Shape::Polygon(vec![pt(0.0, 0.0); 101])).unwrap(),
        Err(GeoError::TooLarge(101))
    );

    let drawing = Drawing {
        name: "plan".into(),
        shapes: vec![
            Shape::Empty,
            Shape::Polygon(vec![pt(1.0, 2.0)]),
            Shape::Circle { center: pt(3.0, 4.0), radius: 5.0 },
        ],
        tags: None,
        meta: BTreeMap::from([("v".to_string(), 7)]),
    };
    let out = geo.summarize(drawing.clone()).unwrap();
    let mut expected = drawing;
    expected.name = "PLAN".into();
    expected.shapes.reverse();
    expected.tags = Some(vec!["seen".into()]);
    expected.meta.insert("shapes".into(), 3);
    assert_eq!(out, expected);

    let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
    assert_eq!(geo.find(names.clone(), "c".into()).unwrap(), Some(2));
    assert_eq!(geo.find(names, "z".into()).unwrap(), None);
    assert_eq!(geo.find(vec![], String::new()).unwrap(), None);
}

#[test]
fn one_mebibyte_each_way() {
    let mut plugin = load();
    let mut geo = GeometryClient::new(&mut plugin).unwrap();
    let big: Vec<u8> = (0..1 << 20).map(|i| (i * 7 % 256) as u8).collect();
    let back = geo.echo(big.clone()).unwrap();
    assert_eq!(back.len(), big.len());
    assert!(back.iter().rev().eq(big.iter()));
    let made = geo.make(1 << 20).unwrap();
    assert_eq!(made.len(), 1 << 20);
    assert!(made.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    // Buffers are freed: repeating does not grow memory without bound.
    let before = plugin.memory_size();
    let mut geo = GeometryClient::new(&mut plugin).unwrap();
    for _ in 0..20 {
        geo.echo(big.clone()).unwrap();
    }
    assert!(
        plugin.memory_size() <= before + (4 << 20),
        "memory grew from {before} to {}",
        plugin.memory_size()
    );
}

#[test]
fn host_callbacks() {
    let mut plugin = load();
    let mut geo = GeometryClient::new(&mut plugin).unwrap();
    assert_eq!(geo.greet("Ada".into()).unwrap(), "Hello Countess Ada (#3)");
    assert_eq!(geo.greet("Bob".into()).unwrap(), "Hello Bob (#6)");
}

#[test]
fn panic_becomes_a_trap_with_the_message_and_poisons() {
    let mut plugin = load();
    let mut geo = GeometryClient::new(&mut plugin).unwrap();
    let err = geo.fail("the answer is not 41".into()).unwrap_err();
    match &err {
        Error::Panic { plugin, message, trap } => {
            assert_eq!(plugin, "geo");
            assert!(message.contains("the answer is not 41"), "{message}");
            assert!(message.starts_with("the answer is not 41 (at "), "{message}");
            assert!(message.contains("src/lib.rs"), "location missing: {message}");
            assert_eq!(trap.code, scion::TrapCode::Unreachable);
        }
        other => panic!("expected a panic, got {other}"),
    }
    eprintln!("{err}");
    assert!(err.to_string().contains("the answer is not 41"));
    // The instance may hold half-updated state: it refuses further calls...
    assert!(
        matches!(geo.add(1, 2), Err(Error::Poisoned { .. })),
        "a poisoned plugin must refuse calls"
    );
    // ...until restarted.
    plugin.restart().unwrap();
    let mut geo = GeometryClient::new(&mut plugin).unwrap();
    assert_eq!(geo.add(1, 2).unwrap(), 3);
    assert_eq!(geo.calls().unwrap(), 1, "a restart starts from a fresh instance");
}

/// Records log records in memory.
struct Capture(Mutex<Vec<(log::Level, String, String)>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        self.0.lock().unwrap().push((r.level(), r.target().to_string(), r.args().to_string()));
    }
    fn flush(&self) {}
}

static LOGS: Capture = Capture(Mutex::new(Vec::new()));

#[test]
fn guest_logging_reaches_the_host_logger() {
    let _ = log::set_logger(&LOGS);
    log::set_max_level(log::LevelFilter::Trace);
    let mut plugin = Plugin::builder(&engine())
        .name("logger-test")
        .config(&GeoConfig { greeting: "Hi".into(), max_points: 3 })
        .host(HostServicesServer(Services::default()))
        .load_file(PLUGIN)
        .unwrap();
    GeometryClient::new(&mut plugin).unwrap().greet("Eve".into()).unwrap();
    let logs = LOGS.0.lock().unwrap();
    let mine: Vec<_> = logs.iter().filter(|(_, t, _)| t == "logger-test").collect();
    assert!(
        mine.iter()
            .any(|(l, _, m)| *l == log::Level::Info && m == "configured with greeting \"Hi\""),
        "{mine:?}"
    );
    assert!(
        mine.iter().any(|(l, _, m)| *l == log::Level::Debug && m == "greeting Eve"),
        "{mine:?}"
    );
}

#[test]
fn configuration_is_checked() {
    let engine = engine();
    let services = || HostServicesServer(Services::default());
    let err = Plugin::builder(&engine).host(services()).load_file(PLUGIN).err().unwrap();
    assert!(err.to_string().contains("needs a configuration of type GeoConfig"), "{err}");

    #[derive(serde::Serialize, scion_sdk::Schema)]
    struct GeoConfig {
        greeting: String,
        max_points: u64,
    }
    let err = Plugin::builder(&engine)
        .config(&GeoConfig { greeting: "x".into(), max_points: 1 })
        .host(services())
        .load_file(PLUGIN)
        .err()
        .unwrap();
    let msg = err.to_string();
    assert!(
        msg.contains("field `max_points` has type u64 in the host but u32 in the plugin"),
        "{msg}"
    );
}

#[test]
fn missing_host_interface_is_a_link_error() {
    let err = Plugin::builder(&engine()).config(&config()).load_file(PLUGIN).err().unwrap();
    assert!(matches!(err, Error::Link(_)), "{err}");
    assert!(err.to_string().contains("host interface `HostServices`"), "{err}");
}

/// Interfaces as a host built against another version of the interface
/// crate would see them.
#[allow(dead_code)]
mod renamed {
    #[scion_sdk::interface]
    pub trait Geometry {
        fn add(&self, a: i32, b: i32) -> i32;
        fn sum(&self, a: i32, b: i32) -> i32;
    }
}

#[allow(dead_code)]
mod changed_field {
    use serde::{Deserialize, Serialize};
    #[derive(Serialize, Deserialize, scion_sdk::Schema)]
    pub struct Point {
        pub x: f32,
        pub y: f64,
    }
    #[derive(Serialize, Deserialize, scion_sdk::Schema)]
    pub enum Shape {
        Circle { center: Point, radius: f64 },
        Polygon(Vec<Point>),
        Empty,
    }
    #[scion_sdk::interface]
    pub trait Geometry {
        fn add(&self, a: i32, b: i32) -> i32;
        fn area(&self, shape: Shape) -> Result<f64, sdk_api::GeoError>;
    }
}

#[allow(dead_code)]
mod missing_method {
    #[scion_sdk::interface]
    pub trait Geometry {
        fn add(&self, a: i32, b: i32) -> i32;
        fn perimeter(&self, sides: Vec<f64>) -> f64;
    }
}

#[allow(dead_code)]
mod changed_argument {
    #[scion_sdk::interface]
    pub trait Geometry {
        fn echo(&self, bytes: String) -> Vec<u8>;
    }
}

#[allow(dead_code)]
mod other_interface {
    #[scion_sdk::interface]
    pub trait Renderer {
        fn render(&self) -> String;
    }
}

fn mismatch(check: impl FnOnce(&mut Plugin) -> Result<(), Error>) -> String {
    let mut plugin = load();
    let err = check(&mut plugin).expect_err("the mismatch must be refused");
    assert!(matches!(err, Error::Schema(_)), "{err}");
    err.to_string()
}

#[test]
fn schema_mismatches_are_refused_naming_the_difference() {
    let msg = mismatch(|p| renamed::GeometryClient::new(p).map(drop));
    eprintln!("{msg}");
    assert!(msg.contains("interface `Geometry`: method `sum` is missing in the plugin"), "{msg}");

    let msg = mismatch(|p| changed_field::GeometryClient::new(p).map(drop));
    assert!(msg.contains("method `area`, argument `shape`"), "{msg}");
    assert!(msg.contains("variant `Circle`"), "{msg}");
    assert!(msg.contains("field `x` has type f32 in the host but f64 in the plugin"), "{msg}");
    eprintln!("{msg}");

    let msg = mismatch(|p| missing_method::GeometryClient::new(p).map(drop));
    assert!(msg.contains("method `perimeter` is missing in the plugin"), "{msg}");

    let msg = mismatch(|p| changed_argument::GeometryClient::new(p).map(drop));
    assert!(
        msg.contains(
            "method `echo`, argument `bytes` has type String in the host but Vec<u8> in the plugin"
        ),
        "{msg}"
    );

    let msg = mismatch(|p| other_interface::RendererClient::new(p).map(drop));
    assert!(
        msg.contains("does not implement interface `Renderer` (it implements `Geometry`)"),
        "{msg}"
    );
}

fn schema_section(wasm: &[u8]) -> Vec<u8> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CustomSection(c) = payload.unwrap()
            && c.name() == scion_sdk::abi::SCHEMA_SECTION
        {
            return c.data().to_vec();
        }
    }
    panic!("no schema section")
}

/// Loads (and if that works, checks and calls) a plugin whose schema
/// section was edited; returns the outcome as text. Never panics on the
/// plugin's account.
fn try_lying(engine: &Engine, wasm: &[u8]) -> Result<(), Error> {
    let mut plugin = Plugin::builder(engine)
        .config(&config())
        .host(HostServicesServer(Services::default()))
        .load(wasm)?;
    let mut geo = GeometryClient::new(&mut plugin)?;
    geo.add(1, 2)?;
    geo.echo(vec![1, 2, 3])?;
    geo.greet("Ada".into())?;
    Ok(())
}

#[test]
fn a_lying_schema_section_cannot_hurt_the_host() {
    let engine = engine();
    let wasm = std::fs::read(PLUGIN).unwrap();
    let section = schema_section(&wasm);

    // Claim that the scalar `add` is serialized: the export's real type
    // gives the lie away.
    let add = section.windows(5).position(|w| w == b"\x03\x00add").expect("record of `add`");
    let mut lie = section.clone();
    lie[add + 5] = 0; // abi: serialized
    let err = try_lying(&engine, &with_schema(&wasm, &lie)).unwrap_err();
    assert!(matches!(err, Error::Schema(_)), "{err}");

    // Truncated, garbage, absurdly nested.
    for bad in [&section[..section.len() / 2], b"SCS1\x07garbage".as_slice(), &[b'x'; 40][..]] {
        let err = try_lying(&engine, &with_schema(&wasm, bad)).unwrap_err();
        assert!(matches!(err, Error::Schema(_)), "{err}");
    }
    let mut deep = b"SCS1\x02".to_vec();
    deep.extend(std::iter::repeat_n(14u8, 100_000)); // Option<Option<...>>
    let err = try_lying(&engine, &with_schema(&wasm, &deep)).unwrap_err();
    assert!(err.to_string().contains("nested too deeply"), "{err}");

    // Random single-byte edits: each either still works or fails cleanly.
    let mut seed = 0x9e3779b97f4a7c15u64;
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..120 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut edited = section.clone();
        let at = (seed % edited.len() as u64) as usize;
        edited[at] = (seed >> 32) as u8;
        match try_lying(&engine, &with_schema(&wasm, &edited)) {
            Ok(()) => ok += 1,
            Err(Error::Schema(_) | Error::Link(_) | Error::Wire(_)) => refused += 1,
            Err(e) => panic!("unexpected failure for an edit at byte {at}: {e}"),
        }
    }
    assert!(refused > 60, "{ok} edits accepted, {refused} refused");
}

#[test]
fn transport_checks_export_types_without_a_client() {
    // A hand-written transport call with the wrong shape is refused, not run.
    let mut plugin = load();
    let err = plugin.call("Geometry", "add", &[]).unwrap_err();
    assert!(matches!(err, Error::Schema(_)), "{err}");
    let err = plugin.call_scalar("Geometry", "nope", &[], false).unwrap_err();
    assert!(matches!(err, Error::Link(_)), "{err}");
}

#[test]
fn plugins_are_send_and_independent() {
    let a = Arc::new(Mutex::new(load()));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let a = a.clone();
            std::thread::spawn(move || {
                let mut plugin = load();
                let mut geo = GeometryClient::new(&mut plugin).unwrap();
                for j in 0..50 {
                    assert_eq!(geo.add(i, j).unwrap(), i + j);
                }
                let mut shared = a.lock().unwrap();
                GeometryClient::new(&mut *shared).unwrap().add(1, 1).unwrap()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 2);
    }
}

/// The minimal plugin's interface, declared again on the host side (as a
/// host depending on the same interface crate would see it).
#[scion_sdk::interface]
pub trait Greeter {
    fn greet(&self, name: String) -> String;
}

#[test]
fn a_one_method_plugin_fits_in_30_kib() {
    let path = env!("SCION_GUEST_MINIMAL_PLUGIN");
    let size = std::fs::metadata(path).unwrap().len();
    assert!(size <= 30 * 1024, "the minimal plugin is {size} bytes");
    let mut plugin = Plugin::builder(&engine()).load_file(path).unwrap();
    assert_eq!(plugin.name(), "minimal_plugin");
    let mut greeter = GreeterClient::new(&mut plugin).unwrap();
    assert_eq!(greeter.greet("Scion".into()).unwrap(), "Hello, Scion!");
}

/// A plugin written by hand in WAT, as an attacker would: it implements
/// the SDK's exports itself and answers with whatever bytes it likes.
#[allow(dead_code)]
mod hostile {
    use serde::{Deserialize, Serialize};
    use std::collections::BTreeMap;

    /// A recursive type: values of it can nest as deep as the bytes say.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, scion_sdk::Schema)]
    pub enum Json {
        Null,
        Bool(bool),
        Num(f64),
        Str(String),
        Arr(Vec<Json>),
        Obj(BTreeMap<String, Json>),
    }

    impl Json {
        /// `depth` levels of `Arr([..])` around `Null`.
        pub fn nested(depth: usize) -> Json {
            (0..depth).fold(Json::Null, |inner, _| Json::Arr(vec![inner]))
        }

        /// How deep it nests (iteratively, for values of any depth).
        pub fn depth(&self) -> usize {
            let (mut v, mut d) = (self, 0);
            while let Json::Arr(items) = v {
                let Some(first) = items.first() else { break };
                (v, d) = (first, d + 1);
            }
            d
        }
    }

    #[scion_sdk::interface]
    pub trait Nested {
        /// How deep later answers and host-call arguments nest.
        fn set_depth(&mut self, depth: u32);
        /// Later answers and host-call arguments name `len` bytes at `ptr`.
        fn lie(&mut self, ptr: u32, len: u32);
        /// An answer nested as set.
        fn deep(&self) -> Json;
        /// Calls the host's `Sink::take` with a value nested as set;
        /// returns the length of the host's reply.
        fn relay(&mut self) -> u32;
    }

    #[scion_sdk::interface]
    pub trait Sink {
        fn take(&mut self, value: Json) -> u32;
    }

    /// The host's sink: how deep was what it got.
    pub struct Depths;

    impl Sink for Depths {
        fn take(&mut self, value: Json) -> u32 {
            value.depth() as u32
        }
    }

    /// The plugin's code: a bump allocator, and answers built at address
    /// 1024 as `depth` times the bytes [4, 1] (variant `Arr`, one element)
    /// and a final 0 (`Null`), or the lie it was told to tell.
    const WAT: &str = r#"(module
      (import "scion-host" "Sink/take" (func $take (param i32 i32) (result i64)))
      (memory (export "memory") 8 8)
      (global $heap (mut i32) (i32.const 0x40000))
      (global $depth (mut i32) (i32.const 0))
      (global $lie (mut i32) (i32.const 0))
      (global $ptr (mut i32) (i32.const 0))
      (global $len (mut i32) (i32.const 0))
      (func (export "scion_alloc") (param $n i32) (result i32)
        (local $p i32)
        (if (i32.gt_u (local.get $n) (i32.const 0x10000)) (then (return (i32.const 0))))
        (if (i32.gt_u (i32.add (global.get $heap) (local.get $n)) (i32.const 0x80000))
          (then (global.set $heap (i32.const 0x40000))))
        (local.set $p (global.get $heap))
        (global.set $heap
          (i32.and (i32.add (i32.add (global.get $heap) (local.get $n)) (i32.const 7)) (i32.const -8)))
        (local.get $p))
      (func (export "scion_free") (param i32 i32))
      (func (export "scion_init") (param i32 i32) (result i32) (i32.const 0))
      (func $fill (result i32)
        (local $i i32)
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (global.get $depth)))
            (i32.store16 (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 1)))
              (i32.const 0x0104))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (i32.store8 (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 1))) (i32.const 0))
        (i32.add (i32.shl (local.get $i) (i32.const 1)) (i32.const 1)))
      (func (export "scion:Nested/set_depth") (param i32) (global.set $depth (local.get 0)))
      (func (export "scion:Nested/lie") (param i32 i32)
        (global.set $lie (i32.const 1))
        (global.set $ptr (local.get 0))
        (global.set $len (local.get 1)))
      (func (export "scion:Nested/deep") (param i32 i32) (result i64)
        (if (result i64) (global.get $lie)
          (then (i64.or (i64.shl (i64.extend_i32_u (global.get $ptr)) (i64.const 32))
                        (i64.extend_i32_u (global.get $len))))
          (else (i64.or (i64.const 0x40000000000) (i64.extend_i32_u (call $fill))))))
      (func (export "scion:Nested/relay") (result i32)
        (i32.wrap_i64
          (if (result i64) (global.get $lie)
            (then (call $take (global.get $ptr) (global.get $len)))
            (else (call $take (i32.const 1024) (call $fill)))))))"#;

    const NESTED: &scion_sdk::schema::InterfaceDesc = <dyn Nested as scion_sdk::Interface>::DESC;
    const SINK: &scion_sdk::schema::InterfaceDesc = <dyn Sink as scion_sdk::Interface>::DESC;
    const NESTED_LEN: usize = scion_sdk::schema::record_len(NESTED);
    const SINK_LEN: usize = scion_sdk::schema::record_len(SINK);
    const NESTED_RECORD: [u8; NESTED_LEN] =
        scion_sdk::schema::encode::<NESTED_LEN>(NESTED, scion_sdk::schema::Direction::Export);
    const SINK_RECORD: [u8; SINK_LEN] =
        scion_sdk::schema::encode::<SINK_LEN>(SINK, scion_sdk::schema::Direction::Import);

    /// The module, with a schema section that tells the truth about its
    /// interfaces.
    pub fn wasm() -> Vec<u8> {
        let mut wasm = wat::parse_str(WAT).unwrap();
        let mut body = Vec::new();
        super::leb(&mut body, scion_sdk::abi::SCHEMA_SECTION.len() as u64);
        body.extend_from_slice(scion_sdk::abi::SCHEMA_SECTION.as_bytes());
        body.extend_from_slice(&NESTED_RECORD);
        body.extend_from_slice(&SINK_RECORD);
        wasm.push(0);
        super::leb(&mut wasm, body.len() as u64);
        wasm.extend(body);
        wasm
    }
}

fn hostile_plugin(engine: &Engine, module: &scion::Module) -> Plugin {
    Plugin::builder(engine)
        .name("nested")
        .host(hostile::SinkServer(hostile::Depths))
        .instantiate(module)
        .unwrap()
}

/// Runs `f` on a thread with a small stack (256 KiB), as hosts embedding
/// plugins in worker threads may, and where serde recursing once per level
/// of a plugin's value overflowed after about a thousand levels.
fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new().stack_size(256 << 10).spawn(f).unwrap().join().unwrap()
}

#[test]
fn answers_nested_too_deep_are_refused_before_decoding() {
    let engine = engine();
    let module = scion::Module::new(&engine, hostile::wasm()).unwrap();
    on_small_stack(move || {
        let mut plugin = hostile_plugin(&engine, &module);
        let mut nested = hostile::NestedClient::new(&mut plugin).unwrap();
        // Each level is two (the variant's payload and the list): 64 levels
        // are within the default limit of 128, 65 are not.
        for depth in [0, 1, 10, 64] {
            nested.set_depth(depth).unwrap();
            assert_eq!(nested.deep().unwrap(), hostile::Json::nested(depth as usize));
        }
        for depth in [65, 1_000, 60_000] {
            nested.set_depth(depth).unwrap();
            let err = nested.deep().unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, Error::Wire(_)), "{msg}");
            for part in [
                "plugin `nested`",
                "the result of `Nested.deep` returned by the plugin",
                "nested deeper than 128 levels",
                "PluginBuilder::max_nesting",
            ] {
                assert!(msg.contains(part), "`{part}` missing in: {msg}");
            }
        }
        // A refused answer does not poison the plugin: it did not trap.
        nested.set_depth(3).unwrap();
        assert_eq!(nested.deep().unwrap().depth(), 3);

        // The limit is the builder's.
        let mut plugin = Plugin::builder(&engine)
            .host(hostile::SinkServer(hostile::Depths))
            .max_nesting(20)
            .instantiate(&module)
            .unwrap();
        let mut nested = hostile::NestedClient::new(&mut plugin).unwrap();
        nested.set_depth(10).unwrap();
        assert_eq!(nested.deep().unwrap().depth(), 10);
        nested.set_depth(11).unwrap();
        let err = nested.deep().unwrap_err();
        assert!(err.to_string().contains("nested deeper than 20 levels"), "{err}");
    });
}

#[test]
fn host_call_arguments_nested_too_deep_are_refused_before_decoding() {
    let engine = engine();
    let module = scion::Module::new(&engine, hostile::wasm()).unwrap();
    on_small_stack(move || {
        let mut plugin = hostile_plugin(&engine, &module);
        let mut nested = hostile::NestedClient::new(&mut plugin).unwrap();
        nested.set_depth(64).unwrap();
        // The reply is the u32 64: one byte.
        assert_eq!(nested.relay().unwrap(), 1);
        for depth in [65, 60_000] {
            let mut plugin = hostile_plugin(&engine, &module);
            let mut nested = hostile::NestedClient::new(&mut plugin).unwrap();
            nested.set_depth(depth).unwrap();
            let err = nested.relay().unwrap_err();
            let msg = err.to_string();
            let trap = err.as_trap().unwrap_or_else(|| panic!("a trap: {msg}"));
            assert_eq!(trap.code, scion::TrapCode::HostError, "{msg}");
            for part in [
                "plugin `nested`",
                "the arguments it passed to host method `Sink.take`",
                "nested deeper than 128 levels",
                "PluginBuilder::max_nesting",
            ] {
                assert!(msg.contains(part), "`{part}` missing in: {msg}");
            }
        }
    });
}

/// Lengths a plugin claims, checked before the host allocates for them.
/// Runs in a child process under a 3 GiB address-space limit, where
/// allocating the 4 GiB a plugin names aborts the process (as it does
/// under strict overcommit or a memory rlimit).
#[test]
fn lying_lengths_are_refused_before_allocating() {
    let exe = std::env::current_exe().unwrap();
    // AddressSanitizer reserves terabytes of shadow memory, which an
    // address-space limit forbids; under it (`.ci/sanitize`) its own
    // allocation limit plays the part of the rlimit.
    let limit = if std::env::var_os("SCION_UNDER_ASAN").is_some() {
        "export ASAN_OPTIONS=detect_leaks=0:max_allocation_size_mb=3072:allocator_may_return_null=0"
    } else {
        "ulimit -v 3145728"
    };
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{limit} && exec \"$0\" \"$@\""))
        .arg(exe)
        .args(["--ignored", "--exact", "lying_lengths_child", "--nocapture", "--test-threads=1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the child failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

#[test]
#[ignore = "run by lying_lengths_are_refused_before_allocating, under a memory limit"]
fn lying_lengths_child() {
    let engine = engine();
    let module = scion::Module::new(&engine, hostile::wasm()).unwrap();
    let builder = || {
        Plugin::builder(&engine)
            .name("liar")
            .host(hostile::SinkServer(hostile::Depths))
            .max_message_size(1024)
    };
    // (ptr, len, what the refusal says): the whole 32-bit range from 0;
    // an end past 4 GiB (wraps in 32 bits); in bounds but over the limit.
    let lies: [(u32, u32, &str); 3] = [
        (0, u32::MAX, "out-of-bounds buffer (4294967295 bytes at 0x0"),
        (0xffff_ff00, 0x200, "out-of-bounds buffer (512 bytes at 0xffffff00"),
        (0, 4096, "more than the limit of 1024"),
    ];
    for (ptr, len, expected) in lies {
        let mut plugin = builder().instantiate(&module).unwrap();
        let mut nested = hostile::NestedClient::new(&mut plugin).unwrap();
        nested.lie(ptr, len).unwrap();
        let err = nested.deep().unwrap_err();
        assert!(matches!(err, Error::Wire(_) | Error::Limit(_)), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(expected) && msg.contains("plugin `liar` returned"), "{msg}");

        let err = nested.relay().unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.as_trap().map(|t| t.code), Some(scion::TrapCode::HostError), "{msg}");
        assert!(msg.contains("plugin `liar` passed"), "{msg}");
        assert!(msg.contains("host method `Sink.take`") && msg.contains(expected), "{msg}");
    }
    // Within the limit, the truth still works.
    let mut plugin = builder().instantiate(&module).unwrap();
    let mut nested = hostile::NestedClient::new(&mut plugin).unwrap();
    nested.set_depth(5).unwrap();
    assert_eq!(nested.deep().unwrap().depth(), 5);
}

/// A section of `n` records, each declaring an empty interface `I<i>`.
fn many_records(n: usize) -> Vec<u8> {
    let mut section = Vec::new();
    for i in 0..n {
        let name = format!("I{i}");
        section.extend_from_slice(b"SCS1\x00");
        section.extend_from_slice(&(name.len() as u16).to_le_bytes());
        section.extend_from_slice(name.as_bytes());
        section.extend_from_slice(&[0, 0]);
    }
    section
}

#[test]
fn huge_schema_sections_are_refused_quickly() {
    let engine = engine();
    let wasm = std::fs::read(PLUGIN).unwrap();
    // 160,000 records (2.3 MB) took 31 s to decode, on every load.
    for (records, expected) in
        [(160_000, "larger than the limit of 1048576 bytes"), (4097, "more records than the limit")]
    {
        let edited = with_schema(&wasm, &many_records(records));
        let start = std::time::Instant::now();
        let err = try_lying(&engine, &edited).unwrap_err();
        let took = start.elapsed();
        assert!(matches!(err, Error::Schema(_)), "{err}");
        assert!(err.to_string().contains(expected), "{err}");
        assert!(took < std::time::Duration::from_secs(5), "{records} records took {took:?}");
    }
}

#[test]
fn schema_decoding_takes_linear_time() {
    // The most records allowed, each with 20 methods: nearly 1 MiB.
    let mut section = Vec::new();
    for i in 0..4096 {
        let name = format!("Interface{i}");
        section.extend_from_slice(b"SCS1\x00");
        section.extend_from_slice(&(name.len() as u16).to_le_bytes());
        section.extend_from_slice(name.as_bytes());
        section.extend_from_slice(&20u16.to_le_bytes());
        for m in 0..20 {
            let method = format!("m{m}");
            section.extend_from_slice(&(method.len() as u16).to_le_bytes());
            section.extend_from_slice(method.as_bytes());
            section.extend_from_slice(&[0, 0, 0, 0, 0]); // serialized, &self, no params, ()
        }
    }
    assert!(section.len() <= scion_sdk::schema::MAX_SECTION_BYTES, "{}", section.len());
    let start = std::time::Instant::now();
    let decoded = scion_sdk::schema::decode(&section).unwrap();
    let took = start.elapsed();
    assert_eq!(decoded.interfaces.len(), 4096);
    assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    // A method declared twice in one interface is a lie.
    let mut twice = b"SCS1\x00\x01\x00I\x02\x00".to_vec();
    for _ in 0..2 {
        twice.extend_from_slice(b"\x01\x00m\x00\x00\x00\x00\x00");
    }
    let err = scion_sdk::schema::decode(&twice).unwrap_err();
    assert!(err.to_string().contains("method declared twice"), "{err}");
}
