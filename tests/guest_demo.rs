//! A real Rust plugin (guest/demo-plugin, built by rustc for wasm32) runs
//! under Scion with the same results as the same code compiled natively.

use scion::{Config, Engine, Instance, Module, Store, TrapCode};

fn setup() -> (Store<()>, Instance) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("guest-demo-cache");
    let engine = Engine::new(Config::new().cache_dir(dir)).unwrap();
    let module = Module::from_file(&engine, env!("SCION_GUEST_DEMO_PLUGIN")).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn fib(n: u32) -> u64 {
    if n < 2 { n as u64 } else { fib(n - 1) + fib(n - 2) }
}

fn prime_sum(n: u32) -> u64 {
    let n = n as usize;
    let mut composite = vec![false; n.max(2)];
    let mut sum = 0;
    for i in 2..n {
        if !composite[i] {
            sum += i as u64;
            let mut j = i * i;
            while j < n {
                composite[j] = true;
                j += i;
            }
        }
    }
    sum
}

#[test]
fn compute_kernels_match_native() {
    let (mut store, inst) = setup();
    let f = inst.get_typed_func::<u32, u64>(&store, "fib").unwrap();
    for n in [0, 1, 2, 10, 25] {
        assert_eq!(f.call(&mut store, n).unwrap(), fib(n));
    }
    let p = inst.get_typed_func::<u32, u64>(&store, "prime_sum").unwrap();
    for n in [0, 3, 100, 65_536, 2_000_000] {
        assert_eq!(p.call(&mut store, n).unwrap(), prime_sum(n), "prime_sum({n})");
    }
}

#[test]
fn text_through_memory() {
    let (mut store, inst) = setup();
    let text = "one two  three\tfour\nfive Two TWO";
    let alloc = inst.get_typed_func::<u32, u32>(&store, "scion_alloc").unwrap();
    let mem = inst.get_memory(&store, "memory").unwrap();
    let ptr = alloc.call(&mut store, text.len() as u32).unwrap();
    mem.write(&mut store, ptr as usize, text.as_bytes()).unwrap();
    let wc = inst.get_typed_func::<(u32, u32), u32>(&store, "word_count").unwrap();
    assert_eq!(wc.call(&mut store, (ptr, text.len() as u32)).unwrap(), 7);
    let top = inst.get_typed_func::<(u32, u32, u32), u32>(&store, "top_words").unwrap();
    let len = top.call(&mut store, (ptr, text.len() as u32, 2)).unwrap();
    let at =
        inst.get_typed_func::<(), u32>(&store, "report_ptr").unwrap().call(&mut store, ()).unwrap();
    let mut out = vec![0; len as usize];
    mem.read(&store, at as usize, &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "two=3 five=1");
    let free = inst.get_typed_func::<(u32, u32), ()>(&store, "scion_free").unwrap();
    free.call(&mut store, (ptr, text.len() as u32)).unwrap();
}

#[test]
fn plugin_panic_is_a_trap_and_the_plugin_survives() {
    let (mut store, inst) = setup();
    let half = inst.get_typed_func::<u32, u32>(&store, "checked_half").unwrap();
    let err = half.call(&mut store, 3).unwrap_err();
    let trap = err.as_trap().unwrap();
    assert_eq!(trap.code, TrapCode::Unreachable);
    assert!(trap.backtrace.len() >= 2, "{trap}");
    assert_eq!(half.call(&mut store, 10).unwrap(), 5);
}

#[test]
fn floats_are_deterministic() {
    let (mut store, inst) = setup();
    let stats = inst.get_typed_func::<u32, f64>(&store, "stats").unwrap();
    let a = stats.call(&mut store, 5000).unwrap();
    let b = stats.call(&mut store, 5000).unwrap();
    assert_eq!(a.to_bits(), b.to_bits());
    // The plugin's `sin` (Rust's libm for wasm) may differ from the host's
    // in the last bits, not more.
    let xs: Vec<f64> = (1..=5000).map(|i| (i as f64).sqrt().sin() * 100.0).collect();
    let mean = xs.iter().sum::<f64>() / 5000.0;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 5000.0;
    let native = mean + var.sqrt();
    assert!((a - native).abs() < 1e-9 * native.abs(), "{a} vs native {native}");
}
