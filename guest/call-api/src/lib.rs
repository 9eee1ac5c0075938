//! The call-overhead benchmark's interface and payload.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use scion_sdk::{Schema, interface};
use serde::{Deserialize, Serialize};

/// A struct of about 1 KiB in postcard form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub struct Payload {
    /// An id the plugin increments.
    pub id: u64,
    /// A name.
    pub name: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Numbers.
    pub values: Vec<u32>,
    /// A float.
    pub ratio: f64,
}

impl Payload {
    /// The payload the benchmark sends.
    pub fn sample() -> Payload {
        Payload {
            id: 7,
            name: "a payload of about one kibibyte".into(),
            tags: (0..8).map(|i| format!("tag-number-{i:05}")).collect(),
            values: (0..256).map(|i| i * 1000).collect(),
            ratio: 0.25,
        }
    }
}

/// What the plugin does with a payload (the same in every runtime).
pub fn touch(mut p: Payload) -> Payload {
    p.id += 1;
    p.ratio *= 2.0;
    p
}

/// The benchmark's interface.
#[interface]
pub trait Calls {
    /// A scalar call.
    fn add(&self, a: i32, b: i32) -> i32;
    /// A struct round trip.
    fn roundtrip(&mut self, payload: Payload) -> Payload;
}
