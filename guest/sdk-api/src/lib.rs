//! The interfaces of the SDK test plugin: every kind of type the SDK
//! carries (structs, enums, `Vec`, `String`, `Option`, `Result` with a user
//! error type, maps, nesting), scalar methods, and a host interface the
//! plugin calls back.

#![no_std]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use scion_sdk::{Schema, interface};
use serde::{Deserialize, Serialize};

/// A point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub struct Point {
    /// x
    pub x: f64,
    /// y
    pub y: f64,
}

/// A shape: every kind of enum variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub enum Shape {
    /// Struct variant.
    Circle {
        /// Center.
        center: Point,
        /// Radius.
        radius: f64,
    },
    /// Tuple variant.
    Polygon(Vec<Point>),
    /// Unit variant.
    Empty,
}

/// A drawing: nested collections.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub struct Drawing {
    /// Name.
    pub name: String,
    /// Shapes.
    pub shapes: Vec<Shape>,
    /// Optional tags.
    pub tags: Option<Vec<String>>,
    /// Counters.
    pub meta: BTreeMap<String, u32>,
}

/// A user error type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub enum GeoError {
    /// The shape has no area.
    Degenerate {
        /// What is wrong.
        what: String,
    },
    /// Too many points.
    TooLarge(u64),
}

/// The plugin's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub struct GeoConfig {
    /// Prefix of greetings.
    pub greeting: String,
    /// Most points a polygon may have.
    pub max_points: u32,
}

/// What the plugin implements.
#[interface]
pub trait Geometry {
    /// Scalar: sum.
    fn add(&self, a: i32, b: i32) -> i32;
    /// Scalar, no result, mutable: scales later areas.
    fn set_scale(&mut self, factor: f64);
    /// Scalar with mixed types.
    fn mix(&self, a: u8, b: i64, c: f32, d: bool) -> f64;
    /// Result with a user error type.
    fn area(&self, shape: Shape) -> Result<f64, GeoError>;
    /// Nested types both ways.
    fn summarize(&mut self, drawing: Drawing) -> Drawing;
    /// Bytes both ways.
    fn echo(&self, bytes: Vec<u8>) -> Vec<u8>;
    /// Makes `len` bytes.
    fn make(&self, len: u32) -> Vec<u8>;
    /// Option result.
    fn find(&self, names: Vec<String>, wanted: String) -> Option<u32>;
    /// Panics with `message`.
    fn fail(&self, message: String) -> u32;
    /// Calls the host's `HostServices`.
    fn greet(&mut self, name: String) -> String;
    /// How many calls this instance has served.
    fn calls(&self) -> u64;
}

/// What the host implements for the plugin.
#[interface]
pub trait HostServices {
    /// Looks up a value.
    fn lookup(&mut self, key: String) -> Option<String>;
    /// Records a number; returns the running total (scalar).
    fn record(&mut self, value: i64) -> i64;
}
