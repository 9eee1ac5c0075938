//! The interface of the demo's plugin (`guest/analyzer`, `guest/analyzer-v2`),
//! shared by the demo host and the plugin: the host gets a typed client
//! (`AnalyzerClient`), the plugin implements the trait.

use scion_sdk::{Schema, interface};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A document the host hands to the plugin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub struct Document {
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
}

/// What the plugin found in a document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub struct Summary {
    /// Words in the body.
    pub words: u32,
    /// The most frequent words, most frequent first, with their counts.
    pub top: Vec<(String, u32)>,
    /// Documents this plugin has summarized so far, this one included
    /// (kept across restarts and reloads as the plugin's state).
    pub documents_seen: u64,
}

/// Text analysis, with a few methods that misbehave on purpose so that the
/// demo can show what the host does about it.
#[interface]
pub trait Analyzer {
    /// Counts the words of `doc` and finds its `top` most frequent ones.
    fn summarize(&mut self, doc: Document, top: u32) -> Summary;
    /// How often each of `words` occurs (std's hash collections cross the
    /// boundary like the `BTree` ones).
    fn word_counts(&self, words: Vec<String>) -> HashMap<String, u32>;
    /// The words of `text` that are not in `known`, in order.
    fn unknown_words(&self, text: String, known: HashSet<String>) -> BTreeSet<String>;
    /// Parses a rating from 0 to 10, or says why `text` is not one.
    fn parse_rating(&self, text: String) -> Result<u8, String>;
    /// The `n`th Fibonacci number, computed the slow way (compute-heavy:
    /// runs out of a small fuel budget).
    fn fib(&self, n: u32) -> u64;
    /// Keeps a buffer of `mib` MiB (memory-heavy: runs into a memory limit).
    fn hoard(&mut self, mib: u32) -> u32;
    /// Never returns (stopped by a timeout).
    fn spin_forever(&self) -> u64;
    /// Half of an even number; panics on an odd one.
    fn checked_half(&self, n: u32) -> u32;
    /// Which version of the plugin this is.
    fn version(&self) -> String;
}
