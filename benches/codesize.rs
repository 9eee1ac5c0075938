//! Code size and peak compile memory of Scion and Wasmtime for the guest
//! modules the other benchmarks use: the bytes of each engine's compiled
//! `.text` (both write an ELF: Scion's artifact, Wasmtime's
//! `precompile_module`), and the most heap either holds while compiling,
//! counted by this binary's global allocator. Not timed: compile throughput
//! is the `compile` group of the lifecycle benchmark.
//!
//! Writes `target/criterion/codesize.json` for `bench-report` and prints a
//! summary. `cargo bench -p scion-benches --bench codesize`

use object::read::elf::ElfFile64;
use object::{Endianness, Object, ObjectSection, ObjectSymbol};
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The system allocator, counting the bytes live now and the most ever.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = LIVE.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; only the counters
// are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with the most heap (bytes) it held at
/// once above what was live when it started, over all threads (Wasmtime
/// compiles functions in parallel).
fn peak_heap<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let out = f();
    (out, PEAK.load(Relaxed).saturating_sub(base))
}

/// Bytes of code in the `.text` section of an ELF file: up to the end of
/// its last symbol. Wasmtime pads its `.text` to a whole page, which is not
/// code; Scion's ends with its last routine, so for Scion this is the
/// section's size.
fn text_bytes(elf: &[u8]) -> u64 {
    let file = ElfFile64::<Endianness>::parse(elf).expect("an ELF file");
    let text = file.section_by_name(".text").expect("a .text section");
    let end = file
        .symbols()
        .filter(|s| s.section_index() == Some(text.index()))
        .map(|s| s.address() + s.size())
        .max();
    end.map_or(text.size(), |end| end - text.address()).min(text.size())
}

/// What one engine configuration made of one module.
struct Compiled {
    text: u64,
    peak_heap: usize,
}

/// Compiles twice with `compile` and keeps the second: the first pays the
/// engine's one-time setup (thread pool, type registries), which is not the
/// module's cost. `elf` turns what `compile` returned into the ELF file's
/// bytes, outside the measured heap.
fn measure<R>(compile: impl Fn() -> R, elf: impl FnOnce(R) -> Vec<u8>) -> Compiled {
    drop(compile());
    let (out, peak_heap) = peak_heap(&compile);
    Compiled { text: text_bytes(&elf(out)), peak_heap }
}

fn scratch() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-scratch/codesize");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn scion(config: scion::Config, dir: &Path, wasm: &[u8]) -> Compiled {
    // A directory the cache creates itself (mode 0700): it refuses others.
    let engine = scion::Engine::new(config.cache_dir(dir.join("cache"))).unwrap();
    let out = dir.join("module.so");
    // Outside the cache, so every call compiles.
    measure(
        || scion::Module::compile_to_file(&engine, wasm, &out).unwrap(),
        |()| std::fs::read(&out).unwrap(),
    )
}

fn wasmtime(epoch: bool, wasm: &[u8]) -> Compiled {
    let mut config = wasmtime::Config::new();
    config.epoch_interruption(epoch);
    let engine = wasmtime::Engine::new(&config).unwrap();
    measure(|| engine.precompile_module(wasm).unwrap(), |elf| elf)
}

fn main() {
    let modules = [
        ("kernels", env!("SCION_GUEST_KERNELS")),
        ("call-plugin", env!("SCION_GUEST_CALL_PLUGIN")),
        ("counter", env!("SCION_GUEST_COUNTER")),
        ("counter-big", env!("SCION_GUEST_COUNTER_BIG")),
    ];
    let dir = scratch();
    let mut json = Vec::new();
    for (name, path) in modules {
        let wasm = std::fs::read(path).unwrap();
        // Same ids as the kernels benchmark: interruptible or not, per engine.
        let runs = [
            ("scion", scion(scion::Config::new(), &dir, &wasm)),
            ("scion-nointr", scion(scion::Config::new().interruptible(false), &dir, &wasm)),
            ("wasmtime-epoch", wasmtime(true, &wasm)),
            ("wasmtime", wasmtime(false, &wasm)),
        ];
        println!("{name}: {} wasm bytes", wasm.len());
        for (id, c) in &runs {
            println!(
                "  {id:<15} .text {:>9} B ({:.2} per wasm byte), peak compile heap {:.1} MiB",
                c.text,
                c.text as f64 / wasm.len() as f64,
                c.peak_heap as f64 / (1 << 20) as f64
            );
        }
        let field = |f: fn(&Compiled) -> serde_json::Value| {
            serde_json::Value::Object(runs.iter().map(|(id, c)| (id.to_string(), f(c))).collect())
        };
        json.push(serde_json::json!({
            "name": name,
            "wasm_bytes": wasm.len(),
            "text_bytes": field(|c| c.text.into()),
            "peak_compile_heap_bytes": field(|c| c.peak_heap.into()),
        }));
    }
    // Beside Criterion's results, where bench-report reads them.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"), PathBuf::from);
    let out = target.join("criterion/codesize.json");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let text = serde_json::to_string_pretty(&serde_json::json!({ "modules": json })).unwrap();
    std::fs::write(&out, text).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    println!("written to {}", out.display());
}
