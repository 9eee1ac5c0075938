//! Keeps records whose key has a prefix and whose value (a number, or a
//! list's length, or a text's length) reaches a minimum.

use kvdb_api::{Filter, FilterConfig, Record, Value};
use scion_sdk::plugin;

/// The filter and its counters.
pub struct PrefixMin {
    config: FilterConfig,
    seen: u64,
    kept: u64,
}

impl From<FilterConfig> for PrefixMin {
    fn from(config: FilterConfig) -> PrefixMin {
        log::info!("keeping `{}*` with value >= {}", config.key_prefix, config.min);
        PrefixMin { config, seen: 0, kept: 0 }
    }
}

fn magnitude(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Text(t) => t.chars().count() as f64,
        Value::List(l) => l.len() as f64,
    }
}

#[plugin(config = FilterConfig)]
impl Filter for PrefixMin {
    fn keep(&mut self, record: Record) -> bool {
        self.seen += 1;
        let keep = record.key.starts_with(&self.config.key_prefix)
            && magnitude(&record.value) >= self.config.min;
        self.kept += keep as u64;
        keep
    }

    fn stats(&self) -> (u64, u64) {
        (self.seen, self.kept)
    }
}
