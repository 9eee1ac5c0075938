//! A small key-value database whose user-defined functions and filters
//! are plugins (guest/kvdb-score, guest/kvdb-filter, interfaces in
//! guest/kvdb-api).
//!
//! The database serves lookups to its plugins (the `Db` host interface),
//! meters every plugin call with fuel, and keeps serving when a plugin
//! fails.
//!
//! Run: `cargo run --release -p scion-examples --example kvdb`

use kvdb_api::{Db, DbServer, FilterClient, FilterConfig, Record, UdfClient, UdfError, Value};
use parking_lot::RwLock;
use scion::{Config, Engine, Plugin};
use std::collections::BTreeMap;
use std::sync::Arc;

type Table = Arc<RwLock<BTreeMap<String, Value>>>;

/// Read-only access to the table, served to plugins.
struct Lookup(Table);

impl Db for Lookup {
    fn get(&mut self, key: String) -> Option<Value> {
        self.0.read().get(&key).cloned()
    }
}

/// Fuel each plugin gets per query.
const BUDGET: u64 = 5_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let table: Table = Arc::default();
    {
        let mut t = table.write();
        for (i, name) in ["ada", "brian", "carla", "dmitri", "eve", "farah"].iter().enumerate() {
            let grades = (0..4).map(|j| Value::Int(((i * 37 + j * 11) % 50 + 50) as i64)).collect();
            t.insert(format!("student:{name}"), Value::List(grades));
        }
        t.insert("student:ghost".into(), Value::List(vec![]));
        t.insert(
            "weights:exam".into(),
            Value::List(vec![
                Value::Float(1.0),
                Value::Float(1.0),
                Value::Float(2.0),
                Value::Float(4.0),
            ]),
        );
        t.insert("course".into(), Value::Text("Compilers".into()));
    }

    let engine = Engine::new(Config::new().consume_fuel(true))?;
    let mut score = Plugin::builder(&engine)
        .name("score")
        .host(DbServer(Lookup(table.clone())))
        .fuel(BUDGET)
        .load_file(env!("SCION_GUEST_KVDB_SCORE"))?;
    let mut filter = Plugin::builder(&engine)
        .name("passing")
        .config(&FilterConfig { key_prefix: "student:".into(), min: 1.0 })
        .fuel(BUDGET)
        .load_file(env!("SCION_GUEST_KVDB_FILTER"))?;

    let mut udf = UdfClient::new(&mut score)?;
    let name = udf.name()?;
    println!("kvdb: {} rows; UDF `{name}` and filter `passing` loaded", table.read().len());

    // SELECT key, score(value, 'weights:exam') FROM table WHERE passing(key, value)
    println!("\nSELECT key, {name}(value, 'weights:exam') WHERE passing:");
    let rows: Vec<(String, Value)> =
        table.read().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut keep = FilterClient::new(&mut filter)?;
    for (key, value) in rows {
        if !keep.keep(Record { key: key.clone(), value: value.clone() })? {
            continue;
        }
        match udf.call(vec![value, Value::Text("weights:exam".into())])? {
            Ok(Value::Float(s)) => println!("  {key:<16} {s:6.2}"),
            Ok(other) => println!("  {key:<16} {other:?}"),
            Err(e) => println!("  {key:<16} error: {e:?}"),
        }
    }
    let (seen, kept) = keep.stats()?;
    println!("  filter looked at {seen} rows, kept {kept}");

    // A query with the wrong arguments gets the UDF's own error back.
    println!("\nSELECT {name}(course):");
    match udf.call(vec![Value::Text("Compilers".into())])? {
        Err(UdfError::Arity { expected, got }) => {
            println!("  refused: {name} takes {expected} arguments, got {got}")
        }
        other => println!("  unexpected: {other:?}"),
    }
    println!("  {name} used {} fuel for these queries", BUDGET - udf.transport().get_fuel()?);

    // A runaway query: the budget stops it, the database carries on.
    let huge = Value::List((0..200_000).map(Value::Int).collect());
    let mut udf = UdfClient::new(&mut score)?;
    udf.transport_mut().set_fuel(100_000)?;
    match udf.call(vec![huge, Value::Text("weights:exam".into())]) {
        Err(e) => println!(
            "\nrunaway query stopped: {}",
            e.to_string().lines().next().unwrap_or_default()
        ),
        Ok(r) => println!("\nrunaway query finished: {r:?}"),
    }
    score.restart()?;
    score.set_fuel(BUDGET)?;
    let mut udf = UdfClient::new(&mut score)?;
    let again = udf.call(vec![
        Value::List(vec![Value::Int(80), Value::Int(90)]),
        Value::Text("weights:exam".into()),
    ])?;
    println!("after a restart the UDF serves again: {again:?}");
    Ok(())
}
