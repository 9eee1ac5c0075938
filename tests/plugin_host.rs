//! A small host program for `tests/trust.rs`: runs a plugin in a process
//! of its own, so that a test can put it under gdb or give it its own
//! working directory and library path.
//!
//! ```text
//! plugin-host fib CACHE_DIR N          the demo plugin's `fib(N)` (through the cache)
//! plugin-host artifact CACHE_DIR PATH  `f()` of the artifact at PATH (Module::from_artifact)
//! plugin-host cache-dir                where the default configuration puts the cache
//! plugin-host dlopen PATH              a plain dlopen(3) of PATH, as Scion did before
//!                                      its checks were complete (a test's control)
//! ```

use scion::{Config, Engine, Instance, Module, Store};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let engine = |dir: &str| Engine::new(Config::new().cache_dir(dir));
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["fib", dir, n] => (|| {
            let engine = engine(dir)?;
            let module = Module::from_file(&engine, env!("SCION_GUEST_DEMO_PLUGIN"))?;
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &module, &[])?;
            let fib = instance.get_typed_func::<u32, u64>(&store, "fib")?;
            let n: u32 = n.parse().unwrap();
            println!("fib({n}) = {}", fib.call(&mut store, n)?);
            Ok(())
        })(),
        ["artifact", dir, path] => (|| {
            let engine = engine(dir)?;
            let module = Module::from_artifact(&engine, path)?;
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &module, &[])?;
            let f = instance.get_typed_func::<(), i32>(&store, "f")?;
            println!("f() = {}", f.call(&mut store, ())?);
            Ok(())
        })(),
        ["dlopen", path] => {
            let c = std::ffi::CString::new(path).unwrap();
            // SAFETY: none: this runs whatever the file's initializers do,
            // which is what the calling test wants to observe.
            let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
            println!("dlopen: {}", if handle.is_null() { "failed" } else { "loaded" });
            Ok(())
        }
        ["cache-dir"] => match Config::new().resolved_cache_dir() {
            Ok(d) => {
                println!("{}", d.display());
                Ok(())
            }
            Err(e) => Err(scion::Error::Unsupported(e)),
        },
        _ => {
            eprintln!(
                "usage: plugin-host fib CACHE_DIR N | artifact CACHE_DIR PATH | dlopen PATH | cache-dir"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err::<(), scion::Error>(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
