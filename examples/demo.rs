//! Scion's demo: a host loads a real Rust plugin, calls it with numbers and
//! with text passed through its memory, and survives the plugin panicking.
//!
//! Run: `cargo run --release -p scion-examples --example demo`

use scion::{Config, Engine, Instance, Module, Store};
use std::time::Instant;

const TEXT: &str = "The host compiles the plugin once, caches the shared object, \
    and the plugin runs sandboxed: every memory access of the plugin is checked, \
    and a plugin that panics does not take the host down with it.";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let plugin = env!("SCION_GUEST_DEMO_PLUGIN");
    let engine = Engine::new(Config::new())?;
    println!("Scion demo");
    println!("  plugin: {plugin} ({} bytes of wasm)", std::fs::metadata(plugin)?.len());

    let t = Instant::now();
    let module = Module::from_file(&engine, plugin)?;
    let so = module.artifact_path();
    println!(
        "  compiled or loaded from cache in {:.1} ms -> {} ({} bytes)",
        t.elapsed().as_secs_f64() * 1e3,
        so.display(),
        std::fs::metadata(&so)?.len()
    );
    let t = Instant::now();
    let module = Module::from_file(&engine, plugin)?;
    println!("  loaded again from the cache in {:.0} µs", t.elapsed().as_secs_f64() * 1e6);

    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;

    let fib = instance.get_typed_func::<u32, u64>(&store, "fib")?;
    let t = Instant::now();
    let f = fib.call(&mut store, 30)?;
    println!("  fib(30) = {f} in {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let primes = instance.get_typed_func::<u32, u64>(&store, "prime_sum")?;
    println!("  sum of primes below 1,000,000 = {}", primes.call(&mut store, 1_000_000)?);

    // Text goes through the plugin's memory: allocate, write, call, read.
    let alloc = instance.get_typed_func::<u32, u32>(&store, "scion_alloc")?;
    let memory = instance.get_memory(&store, "memory").ok_or("plugin exports no memory")?;
    let ptr = alloc.call(&mut store, TEXT.len() as u32)?;
    memory.write(&mut store, ptr as usize, TEXT.as_bytes())?;
    let words = instance.get_typed_func::<(u32, u32), u32>(&store, "word_count")?;
    println!("  word_count(text) = {}", words.call(&mut store, (ptr, TEXT.len() as u32))?);
    let top = instance.get_typed_func::<(u32, u32, u32), u32>(&store, "top_words")?;
    let len = top.call(&mut store, (ptr, TEXT.len() as u32, 3))?;
    let at = instance.get_typed_func::<(), u32>(&store, "report_ptr")?.call(&mut store, ())?;
    let mut report = vec![0u8; len as usize];
    memory.read(&store, at as usize, &mut report)?;
    println!("  top_words(text, 3) = {}", String::from_utf8_lossy(&report));

    // A plugin panic becomes a trap; the host and the plugin carry on.
    let half = instance.get_typed_func::<u32, u32>(&store, "checked_half")?;
    match half.call(&mut store, 7) {
        Ok(v) => println!("  checked_half(7) = {v} (unexpected)"),
        Err(e) => println!("  checked_half(7) -> {}", e.to_string().lines().next().unwrap_or("")),
    }
    println!(
        "  checked_half(8) = {} (the plugin still works after its trap)",
        half.call(&mut store, 8)?
    );
    Ok(())
}
