//! The demo plugin: plain `extern "C"` exports over linear memory.
//!
//! The host writes input into a buffer it obtains from `scion_alloc` (the
//! SDK's allocator export), calls an export with the pointer and length,
//! and reads results back.

use std::collections::BTreeMap;

// Links the SDK's guest runtime (its allocator exports).
extern crate scion_sdk;

fn input<'a>(ptr: *const u8, len: u32) -> &'a str {
    // SAFETY: the host wrote `len` bytes at `ptr`, a buffer from scion_alloc.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len as usize) };
    std::str::from_utf8(bytes).unwrap_or("")
}

/// Number of whitespace-separated words in the UTF-8 text at `ptr`.
#[unsafe(no_mangle)]
pub extern "C" fn word_count(ptr: *const u8, len: u32) -> u32 {
    input(ptr, len).split_whitespace().count() as u32
}

static mut REPORT: Vec<u8> = Vec::new();

/// Writes a report of the most frequent words (lowercased) and returns its
/// length; `report_ptr` gives its address.
#[unsafe(no_mangle)]
pub extern "C" fn top_words(ptr: *const u8, len: u32, n: u32) -> u32 {
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    for w in input(ptr, len).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        *counts.entry(w.to_lowercase()).or_default() += 1;
    }
    let mut v: Vec<(String, u32)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out = String::new();
    for (w, c) in v.into_iter().take(n as usize) {
        out.push_str(&format!("{w}={c} "));
    }
    let bytes = out.trim_end().as_bytes().to_vec();
    let n = bytes.len() as u32;
    // SAFETY: the plugin is single-threaded; nothing else touches REPORT.
    unsafe { REPORT = bytes };
    n
}

/// Address of the last report.
#[unsafe(no_mangle)]
pub extern "C" fn report_ptr() -> *const u8 {
    // SAFETY: as in `top_words`.
    unsafe { (*std::ptr::addr_of!(REPORT)).as_ptr() }
}

/// The `n`th Fibonacci number, recursively (a call-heavy kernel).
#[unsafe(no_mangle)]
pub extern "C" fn fib(n: u32) -> u64 {
    if n < 2 { n as u64 } else { fib(n - 1) + fib(n - 2) }
}

/// Sum of the primes below `n` (a sieve: loops and memory).
#[unsafe(no_mangle)]
pub extern "C" fn prime_sum(n: u32) -> u64 {
    let n = n as usize;
    let mut composite = vec![false; n.max(2)];
    let mut sum = 0u64;
    for i in 2..n {
        if !composite[i] {
            sum += i as u64;
            let mut j = (i as u64) * (i as u64);
            while j < n as u64 {
                composite[j as usize] = true;
                j += i as u64;
            }
        }
    }
    sum
}

/// Mean and standard deviation of `1..=n` through floats, packed as the
/// bits of the two f32 values (a float kernel).
#[unsafe(no_mangle)]
pub extern "C" fn stats(n: u32) -> f64 {
    let xs: Vec<f64> = (1..=n).map(|i| (i as f64).sqrt().sin() * 100.0).collect();
    let mean = xs.iter().sum::<f64>() / xs.len().max(1) as f64;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / xs.len().max(1) as f64;
    mean + var.sqrt()
}

/// Panics when `x` is odd (a plugin failure the host must survive).
#[unsafe(no_mangle)]
pub extern "C" fn checked_half(x: u32) -> u32 {
    assert!(x % 2 == 0, "{x} is odd");
    x / 2
}
