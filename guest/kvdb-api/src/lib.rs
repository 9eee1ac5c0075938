//! What the kvdb example database and its plugins share.
//!
//! - [`Udf`]: a user-defined function, called as `name(args...)` in a
//!   query.
//! - [`Filter`]: decides which records a scan returns; built from a
//!   [`FilterConfig`].
//! - [`Db`]: what the database offers to plugins (read-only lookups).

#![no_std]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use scion_sdk::{Schema, interface};
use serde::{Deserialize, Serialize};

/// A stored value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub enum Value {
    /// No value.
    Null,
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Text(String),
    /// A list of values.
    List(Vec<Value>),
}

/// A key and its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub struct Record {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Value,
}

/// Why a user-defined function failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub enum UdfError {
    /// Wrong number of arguments.
    Arity {
        /// Expected.
        expected: u32,
        /// Given.
        got: u32,
    },
    /// An argument of the wrong type.
    Type {
        /// Which argument.
        index: u32,
        /// What it should be.
        expected: String,
    },
    /// Anything else.
    Failed(String),
}

/// A user-defined function.
#[interface]
pub trait Udf {
    /// The name queries call it by.
    fn name(&self) -> String;
    /// Applies the function.
    fn call(&mut self, args: Vec<Value>) -> Result<Value, UdfError>;
}

/// The configuration of a filter plugin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub struct FilterConfig {
    /// Keys must start with this.
    pub key_prefix: String,
    /// Numeric values (or list lengths) must be at least this.
    pub min: f64,
}

/// Selects records during a scan.
#[interface]
pub trait Filter {
    /// Whether `record` is kept.
    fn keep(&mut self, record: Record) -> bool;
    /// How many records were looked at and kept so far.
    fn stats(&self) -> (u64, u64);
}

/// What the database lets plugins do.
#[interface]
pub trait Db {
    /// The value stored under `key`.
    fn get(&mut self, key: String) -> Option<Value>;
}
