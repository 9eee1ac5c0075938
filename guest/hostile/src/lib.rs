//! A hostile plugin: each export attacks one limit of its host.

use std::hint::black_box;

// Links the SDK's guest runtime (its allocator exports).
extern crate scion_sdk;

/// Never returns.
#[unsafe(no_mangle)]
pub extern "C" fn spin() {
    let mut x = 0u64;
    loop {
        x = black_box(x.wrapping_add(1));
    }
}

/// Grows linear memory one page at a time until refused; returns the
/// number of pages obtained.
#[unsafe(no_mangle)]
pub extern "C" fn grow_forever() -> u32 {
    let mut pages = 0;
    while core::arch::wasm32::memory_grow(0, 1) != usize::MAX {
        pages += 1;
    }
    pages
}

/// Allocates 1 MiB buffers and keeps them, forever.
#[unsafe(no_mangle)]
pub extern "C" fn hoard() -> u32 {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        kept.push(black_box(vec![1u8; 1 << 20]));
        black_box(&kept);
    }
}

/// Recurses without bound.
#[allow(unconditional_recursion)]
#[unsafe(no_mangle)]
pub extern "C" fn recurse(depth: u64) -> u64 {
    black_box(recurse(black_box(depth + 1))) + 1
}

/// Recurses `depth` times (bounded), to check the stack budget.
#[unsafe(no_mangle)]
pub extern "C" fn recurse_to(depth: u64) -> u64 {
    if depth == 0 { 0 } else { black_box(recurse_to(black_box(depth - 1))) + 1 }
}

/// Well-behaved: the host checks it still works after the attacks.
#[unsafe(no_mangle)]
pub extern "C" fn add(a: u32, b: u32) -> u32 {
    a.wrapping_add(b)
}
