//! What the game and its mods share.

#![no_std]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use scion_sdk::{Schema, interface};
use serde::{Deserialize, Serialize};

/// Width of the playing field.
pub const WIDTH: f32 = 60.0;
/// Height of the playing field.
pub const HEIGHT: f32 = 12.0;

/// A ball.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub struct Ball {
    /// Position, 0..WIDTH.
    pub x: f32,
    /// Height above the floor, 0..HEIGHT.
    pub y: f32,
    /// Horizontal speed.
    pub vx: f32,
    /// Vertical speed.
    pub vy: f32,
}

/// What the game draws after a tick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub struct Frame {
    /// The balls.
    pub balls: Vec<Ball>,
    /// A caption the mod chooses.
    pub caption: String,
}

/// A game mod: moves the world forward.
#[interface]
pub trait GameMod {
    /// Advances the world by `dt` seconds.
    fn tick(&mut self, dt: f32) -> Frame;
}
