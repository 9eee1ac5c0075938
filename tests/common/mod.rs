//! Helpers shared by several integration tests (each test binary compiles
//! the parts it uses).

#![allow(dead_code)]

pub mod diff;
pub mod pressure;
