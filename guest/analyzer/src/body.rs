// The demo's plugin, shared by both versions (each defines `VERSION` and
// `MIN_WORD_LEN` before including this file).
//
// `#[plugin(state)]` needs the state type to derive `Schema` (so that a
// reload can check the new version's state type against the old one's)
// and serde's `Serialize` and `Deserialize` (so the plugin crate depends
// on `serde` with `derive`).

use analyzer_api::{Analyzer, Document, Summary};
use scion_sdk::{Schema, plugin};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The plugin instance, and the state it carries across restarts and
/// reloads (`#[plugin(state)]`: it derives `Schema` and serde's traits).
#[derive(Default, Serialize, Deserialize, Schema)]
pub struct Stats {
    documents_seen: u64,
}

#[plugin(state)]
impl Analyzer for Stats {
    fn summarize(&mut self, doc: Document, top: u32) -> Summary {
        self.documents_seen += 1;
        let mut counts = BTreeMap::<String, u32>::new();
        let mut words = 0;
        for word in doc.body.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            words += 1;
            if word.chars().count() >= MIN_WORD_LEN {
                *counts.entry(word.to_lowercase()).or_default() += 1;
            }
        }
        let mut ranked: Vec<(String, u32)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(top as usize);
        log::info!("summarized {:?}: {words} words", doc.title);
        Summary { words, top: ranked, documents_seen: self.documents_seen }
    }

    fn word_counts(&self, words: Vec<String>) -> HashMap<String, u32> {
        let mut counts = HashMap::new();
        for w in words {
            *counts.entry(w).or_default() += 1;
        }
        counts
    }

    fn unknown_words(&self, text: String, known: HashSet<String>) -> BTreeSet<String> {
        text.split_whitespace().filter(|w| !known.contains(*w)).map(String::from).collect()
    }

    fn parse_rating(&self, text: String) -> Result<u8, String> {
        match text.trim().parse::<u8>() {
            Ok(r) if r <= 10 => Ok(r),
            _ => Err(format!("`{text}` is not a rating from 0 to 10")),
        }
    }

    fn fib(&self, n: u32) -> u64 {
        fn fib(n: u32) -> u64 {
            if n < 2 { n as u64 } else { fib(n - 1) + fib(n - 2) }
        }
        fib(n)
    }

    fn hoard(&mut self, mib: u32) -> u32 {
        let buffer = vec![1u8; (mib as usize) << 20];
        buffer.leak().len() as u32 >> 20
    }

    fn spin_forever(&self) -> u64 {
        let mut x = 1u64;
        loop {
            x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }

    fn checked_half(&self, n: u32) -> u32 {
        assert!(n % 2 == 0, "checked_half: {n} is odd");
        n / 2
    }

    fn version(&self) -> String {
        VERSION.into()
    }
}
