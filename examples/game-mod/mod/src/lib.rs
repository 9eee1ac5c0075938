//! Bouncing balls. Try changing GRAVITY or BOUNCE and rebuilding while the
//! game runs: the balls keep their positions and speeds, because the mod's
//! state (`Bouncy`) is carried across reloads.

use game_api::{Ball, Frame, GameMod, HEIGHT, WIDTH};
use scion_sdk::{Schema, plugin};
use serde::{Deserialize, Serialize};

const GRAVITY: f32 = 9.8;
const BOUNCE: f32 = 0.95;
const CAPTION: &str = "bouncing";

/// The mod's state, kept across reloads.
#[derive(Serialize, Deserialize, Schema)]
pub struct Bouncy {
    balls: Vec<Ball>,
    ticks: u64,
}

impl Default for Bouncy {
    fn default() -> Bouncy {
        let balls = (0..3)
            .map(|i| Ball {
                x: 5.0 + 15.0 * i as f32,
                y: HEIGHT - 1.0,
                vx: 7.0 + 3.0 * i as f32,
                vy: 0.0,
            })
            .collect();
        Bouncy { balls, ticks: 0 }
    }
}

#[plugin(state)]
impl GameMod for Bouncy {
    fn tick(&mut self, dt: f32) -> Frame {
        self.ticks += 1;
        for b in &mut self.balls {
            b.vy -= GRAVITY * dt;
            b.x += b.vx * dt;
            b.y += b.vy * dt;
            if b.y < 0.0 {
                b.y = -b.y;
                b.vy = -b.vy * BOUNCE;
            }
            if b.x < 0.0 || b.x > WIDTH {
                b.vx = -b.vx;
                b.x = b.x.clamp(0.0, WIDTH);
            }
        }
        Frame {
            balls: self.balls.clone(),
            caption: format!("{CAPTION}, gravity {GRAVITY}, tick {}", self.ticks),
        }
    }
}
