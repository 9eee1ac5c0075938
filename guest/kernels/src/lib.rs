//! Compute kernels, each `extern "C" fn(n: u32) -> u64` returning a
//! checksum of its work, so that native, Scion and Wasmtime runs can be
//! compared for correctness as well as speed. Inputs are generated from a
//! fixed seed inside each kernel.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::hint::black_box;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Recursive Fibonacci: calls.
#[unsafe(no_mangle)]
pub extern "C" fn fib(n: u32) -> u64 {
    if n < 2 { n as u64 } else { fib(black_box(n - 1)) + fib(black_box(n - 2)) }
}

/// Sieve of Eratosthenes below `n`: loops over a byte array.
#[unsafe(no_mangle)]
pub extern "C" fn sieve(n: u32) -> u64 {
    let n = n as usize;
    let mut composite = vec![false; n];
    let mut count = 0u64;
    for i in 2..n {
        if !composite[i] {
            count += i as u64;
            // Only mark from i*i when it exists, so that 32- and 64-bit
            // targets compute the same thing.
            if i <= (n - 1) / i {
                let mut j = i * i;
                while j < n {
                    composite[j] = true;
                    j += i;
                }
            }
        }
    }
    count
}

/// `n`x`n` f64 matrix product: float loops.
#[unsafe(no_mangle)]
pub extern "C" fn matmul(n: u32) -> u64 {
    let n = n as usize;
    let mut rng = Rng(42);
    let a: Vec<f64> = (0..n * n).map(|_| (rng.next() % 1000) as f64 / 100.0).collect();
    let b: Vec<f64> = (0..n * n).map(|_| (rng.next() % 1000) as f64 / 100.0).collect();
    let mut c = vec![0.0f64; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            for j in 0..n {
                c[i * n + j] += aik * b[k * n + j];
            }
        }
    }
    c.iter().sum::<f64>().to_bits()
}

/// SHA-256 over `n` KiB, chained 16 times: integer crypto.
#[unsafe(no_mangle)]
pub extern "C" fn sha256(n: u32) -> u64 {
    let mut data = vec![0u8; n as usize * 1024];
    let mut rng = Rng(7);
    data.iter_mut().for_each(|b| *b = rng.next() as u8);
    let mut digest = [0u8; 32];
    for _ in 0..16 {
        let mut h = Sha256::new();
        h.update(digest);
        h.update(&data);
        digest = h.finalize().into();
    }
    u64::from_le_bytes(digest[..8].try_into().unwrap())
}

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Record {
    id: u64,
    name: String,
    score: f64,
    tags: Vec<String>,
    active: bool,
}

fn records(n: u32) -> Vec<Record> {
    let mut rng = Rng(99);
    (0..n)
        .map(|i| Record {
            id: i as u64,
            name: format!("record-{i}-{}", rng.next() % 10_000),
            score: (rng.next() % 100_000) as f64 / 7.0,
            tags: (0..(i % 4)).map(|t| format!("tag{t}")).collect(),
            active: rng.next() % 2 == 0,
        })
        .collect()
}

/// serde_json round trip of `n` records: parsing and formatting.
#[unsafe(no_mangle)]
pub extern "C" fn json(n: u32) -> u64 {
    let rs = records(n);
    let text = serde_json::to_string(&rs).unwrap();
    let back: Vec<Record> = serde_json::from_str(&text).unwrap();
    assert_eq!(back.len(), rs.len());
    text.len() as u64 + back.iter().map(|r| r.id + r.tags.len() as u64).sum::<u64>()
}

/// postcard round trip of `n` records: compact binary serde.
#[unsafe(no_mangle)]
pub extern "C" fn postcard_roundtrip(n: u32) -> u64 {
    let rs = records(n);
    let bytes = postcard::to_allocvec(&rs).unwrap();
    let back: Vec<Record> = postcard::from_bytes(&bytes).unwrap();
    bytes.len() as u64 + back.iter().map(|r| r.name.len() as u64).sum::<u64>()
}

/// Sorts `n` pseudo-random u32s.
#[unsafe(no_mangle)]
pub extern "C" fn sort(n: u32) -> u64 {
    let mut rng = Rng(3);
    let mut v: Vec<u32> = (0..n).map(|_| rng.next() as u32).collect();
    v.sort_unstable();
    v.iter().step_by(97).fold(0u64, |acc, &x| acc.wrapping_mul(31).wrapping_add(x as u64))
}

/// Copies and fills `n` KiB buffers 64 times: bulk memory operations.
#[unsafe(no_mangle)]
pub extern "C" fn bulk(n: u32) -> u64 {
    let len = n as usize * 1024;
    let mut a = vec![1u8; len];
    let mut b = vec![0u8; len];
    let mut sum = 0u64;
    for round in 0..64u8 {
        a.fill(round);
        b.copy_from_slice(black_box(&a));
        a[..len / 2].copy_from_slice(&b[len / 2..]);
        sum += b[round as usize % len] as u64 + a[len / 3] as u64;
    }
    sum
}

/// Grayscale and a 3x3 box blur of an `n`x`n` RGBA image, then a byte
/// histogram checksum: 8- and 16-bit lane arithmetic, which LLVM
/// vectorizes when `simd128` is on.
#[unsafe(no_mangle)]
pub extern "C" fn pixels(n: u32) -> u64 {
    let n = n as usize;
    let mut rng = Rng(99);
    let rgba: Vec<u8> = (0..n * n * 4).map(|_| rng.next() as u8).collect();
    let gray: Vec<u8> = rgba
        .chunks_exact(4)
        .map(|p| ((77 * p[0] as u16 + 150 * p[1] as u16 + 29 * p[2] as u16) >> 8) as u8)
        .collect();
    let mut blurred = vec![0u8; n * n];
    for y in 1..n.saturating_sub(1) {
        let (above, row, below) =
            (&gray[(y - 1) * n..y * n], &gray[y * n..(y + 1) * n], &gray[(y + 1) * n..(y + 2) * n]);
        let out = &mut blurred[y * n..(y + 1) * n];
        for x in 1..n - 1 {
            let sum: u16 = [above, row, below]
                .iter()
                .map(|r| r[x - 1] as u16 + r[x] as u16 + r[x + 1] as u16)
                .sum();
            out[x] = (sum / 9) as u8;
        }
    }
    let mut sum = 0u64;
    for (i, &v) in blurred.iter().enumerate() {
        sum = sum.wrapping_add((v as u64) * (i as u64 % 251 + 1));
    }
    sum
}

/// Dot products of `n`-element i32 vectors, 64 times: the widening
/// multiply-add loops of integer DSP code.
#[unsafe(no_mangle)]
pub extern "C" fn dot(n: u32) -> u64 {
    let n = n as usize;
    let mut rng = Rng(5);
    let a: Vec<i16> = (0..n).map(|_| rng.next() as i16).collect();
    let b: Vec<i16> = (0..n).map(|_| rng.next() as i16).collect();
    let mut total = 0i64;
    for round in 0..64 {
        let s: i32 = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| (x as i32).wrapping_mul(y as i32))
            .fold(0i32, |acc, p| acc.wrapping_add(p));
        total = total.wrapping_add(s as i64 ^ round);
    }
    total as u64
}

/// Does nothing: measures call overhead.
#[unsafe(no_mangle)]
pub extern "C" fn empty() {}
