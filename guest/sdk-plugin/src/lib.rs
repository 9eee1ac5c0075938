//! Implements `sdk_api::Geometry` with the SDK, calling the host's
//! `HostServices` back.

use scion_sdk::plugin;
use sdk_api::{Drawing, GeoConfig, GeoError, Geometry, HostServices, HostServicesImport, Shape};
use std::cell::Cell;

/// The plugin instance.
pub struct Geo {
    config: GeoConfig,
    scale: f64,
    calls: Cell<u64>,
}

impl From<GeoConfig> for Geo {
    fn from(config: GeoConfig) -> Geo {
        log::info!("configured with greeting {:?}", config.greeting);
        Geo { config, scale: 1.0, calls: Cell::new(0) }
    }
}

impl Geo {
    fn count(&self) {
        self.calls.set(self.calls.get() + 1);
    }
}

#[plugin(config = GeoConfig, uses(HostServices))]
impl Geometry for Geo {
    fn add(&self, a: i32, b: i32) -> i32 {
        self.count();
        a.wrapping_add(b)
    }

    fn set_scale(&mut self, factor: f64) {
        self.count();
        self.scale = factor;
    }

    fn mix(&self, a: u8, b: i64, c: f32, d: bool) -> f64 {
        self.count();
        a as f64 + b as f64 + c as f64 + if d { 0.5 } else { 0.0 }
    }

    fn area(&self, shape: Shape) -> Result<f64, GeoError> {
        self.count();
        let a = match shape {
            Shape::Circle { radius, .. } if radius > 0.0 => core::f64::consts::PI * radius * radius,
            Shape::Circle { .. } => {
                return Err(GeoError::Degenerate { what: "zero radius".into() });
            }
            Shape::Polygon(ps) if ps.len() as u32 > self.config.max_points => {
                return Err(GeoError::TooLarge(ps.len() as u64));
            }
            Shape::Polygon(ps) if ps.len() < 3 => {
                return Err(GeoError::Degenerate { what: format!("{} points", ps.len()) });
            }
            Shape::Polygon(ps) => {
                let mut s = 0.0;
                for i in 0..ps.len() {
                    let (p, q) = (&ps[i], &ps[(i + 1) % ps.len()]);
                    s += p.x * q.y - q.x * p.y;
                }
                s.abs() / 2.0
            }
            Shape::Empty => return Err(GeoError::Degenerate { what: "empty".into() }),
        };
        Ok(a * self.scale)
    }

    fn summarize(&mut self, mut drawing: Drawing) -> Drawing {
        self.count();
        drawing.name = drawing.name.to_uppercase();
        drawing.meta.insert("shapes".into(), drawing.shapes.len() as u32);
        drawing.shapes.reverse();
        drawing.tags.get_or_insert_with(Vec::new).push("seen".into());
        drawing
    }

    fn echo(&self, mut bytes: Vec<u8>) -> Vec<u8> {
        self.count();
        bytes.reverse();
        bytes
    }

    fn make(&self, len: u32) -> Vec<u8> {
        self.count();
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    fn find(&self, names: Vec<String>, wanted: String) -> Option<u32> {
        self.count();
        names.iter().position(|n| *n == wanted).map(|i| i as u32)
    }

    fn fail(&self, message: String) -> u32 {
        self.count();
        panic!("{message}")
    }

    fn greet(&mut self, name: String) -> String {
        self.count();
        let host = HostServicesImport;
        let title = host.lookup(name.clone()).unwrap_or_default();
        let total = host.record(name.len() as i64);
        log::debug!("greeting {name}");
        format!("{} {title}{name} (#{total})", self.config.greeting)
    }

    fn calls(&self) -> u64 {
        self.calls.get()
    }
}
