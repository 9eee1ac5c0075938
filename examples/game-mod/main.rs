//! A game loop ticking at 60 Hz that calls a hot-reloaded mod.
//!
//! Run `cargo run --release -p scion-examples --example game-mod`, then
//! edit `examples/game-mod/mod/src/lib.rs` and rebuild the mod (see
//! `examples/game-mod/README.md`): the running game swaps it in between two
//! ticks, keeping the balls where they were.

use game_api::{Frame, GameModClient, HEIGHT, WIDTH};
use scion::plugin::ReloadEvent;
use scion::{Config, Engine, Plugin};
use std::time::{Duration, Instant};

/// Fuel per tick: a mod stuck in a loop loses its tick, not the game.
const TICK_FUEL: u64 = 2_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut seconds = 60.0;
    let mut path = env!("SCION_GUEST_GAME_MOD").to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => seconds = args.next().ok_or("--seconds needs a value")?.parse()?,
            other => path = other.to_string(),
        }
    }

    let engine = Engine::new(Config::new().consume_fuel(true))?;
    let handle =
        Plugin::builder(&engine).name("game-mod").fuel(TICK_FUEL).reloadable_file(&path)?;
    let events = handle.events();
    let _watcher = handle.watch()?;
    println!("game: running {seconds} s at 60 Hz with mod {path}");
    println!("      rebuild the mod to swap it live (examples/game-mod/README.md)");

    let dt = 1.0 / 60.0;
    let start = Instant::now();
    let mut next = start;
    let (mut ticks, mut busy, mut failed) = (0u64, Duration::ZERO, 0u64);
    while start.elapsed().as_secs_f64() < seconds {
        next += Duration::from_secs_f64(dt as f64);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        while let Ok(event) = events.try_recv() {
            match event {
                ReloadEvent::Reloaded { from, to, elapsed, state_carried } => {
                    failed = 0;
                    println!(
                        "mod reloaded: v{from} -> v{to} in {:.1} ms, state {}",
                        elapsed.as_secs_f64() * 1e3,
                        if state_carried { "kept" } else { "started fresh" }
                    );
                }
                ReloadEvent::Failed { serving, reason } => {
                    println!("mod reload failed, v{serving} keeps running: {reason}")
                }
            }
        }
        let t = Instant::now();
        let frame = {
            let mut guard = handle.lock();
            guard.set_fuel(TICK_FUEL)?;
            GameModClient::new(&mut *guard).and_then(|mut m| m.tick(dt))
        };
        busy += t.elapsed();
        ticks += 1;
        match frame {
            Ok(frame) if ticks % 6 == 0 => println!(
                "{:5.1}s v{} {}",
                start.elapsed().as_secs_f64(),
                handle.version(),
                draw(&frame)
            ),
            Ok(_) => {}
            Err(e) => {
                failed += 1;
                if failed == 1 || failed % 60 == 0 {
                    println!(
                        "mod failed ({failed} ticks so far); fix it and rebuild: {}",
                        e.to_string().lines().next().unwrap_or_default()
                    );
                }
            }
        }
    }
    println!(
        "game: {ticks} ticks, {:.0} µs per tick in the mod on average, final mod version v{}",
        busy.as_secs_f64() * 1e6 / ticks.max(1) as f64,
        handle.version()
    );
    Ok(())
}

/// One line: the field seen from the side, balls drawn by height.
fn draw(frame: &Frame) -> String {
    let mut row = vec![' '; WIDTH as usize + 1];
    for b in &frame.balls {
        let x = (b.x.clamp(0.0, WIDTH)) as usize;
        row[x] = match b.y / HEIGHT {
            h if h < 0.25 => '_',
            h if h < 0.5 => 'o',
            h if h < 0.75 => 'O',
            _ => '*',
        };
    }
    format!("|{}| {}", row.into_iter().collect::<String>(), frame.caption)
}
