//! `scion run [OPTIONS] IN [ARGS...]` runs a WASI command (`_start`);
//! `scion run [OPTIONS] IN --invoke NAME [ARGS...]` calls an export.

use scion::wasi::{DirPerms, WasiConfig, WasiCtx};
use scion::{Linker, Module, Store, Val, ValType};
use std::process::ExitCode;

fn parse_arg(text: &str, ty: ValType) -> Result<Val, String> {
    let bad = || format!("`{text}` is not a valid {ty}");
    let int = |t: &str| -> Option<i128> {
        let (neg, t) = t.strip_prefix('-').map_or((false, t), |r| (true, r));
        let v = match t.strip_prefix("0x") {
            Some(h) => i128::from_str_radix(&h.replace('_', ""), 16).ok()?,
            None => t.replace('_', "").parse::<i128>().ok()?,
        };
        Some(if neg { -v } else { v })
    };
    Ok(match ty {
        ValType::I32 => {
            let v = int(text)
                .filter(|v| *v >= i32::MIN as i128 && *v <= u32::MAX as i128)
                .ok_or_else(bad)?;
            Val::I32(v as i64 as i32)
        }
        ValType::I64 => {
            let v = int(text)
                .filter(|v| *v >= i64::MIN as i128 && *v <= u64::MAX as i128)
                .ok_or_else(bad)?;
            Val::I64(v as i64)
        }
        ValType::F32 => Val::f32(text.parse().map_err(|_| bad())?),
        ValType::F64 => Val::f64(text.parse().map_err(|_| bad())?),
        // A v128 as one hexadecimal number, lane 0 in the low bits.
        ValType::V128 => {
            let digits = text.strip_prefix("0x").ok_or_else(bad)?;
            Val::V128(u128::from_str_radix(digits, 16).map_err(|_| bad())?)
        }
        ValType::FuncRef if text == "null" => Val::FuncRef(None),
        ValType::ExternRef if text == "null" => Val::ExternRef(None),
        _ => return Err(bad()),
    })
}

/// What `--dir` and `--env` grant the program.
#[derive(Default)]
struct Grants {
    dirs: Vec<(String, String)>,
    env: Vec<(String, String)>,
}

/// `HOST[::GUEST]`.
fn parse_dir(text: &str) -> (String, String) {
    match text.split_once("::") {
        Some((host, guest)) => (host.to_string(), guest.to_string()),
        None => (text.to_string(), text.to_string()),
    }
}

pub fn main(args: &[String]) -> Result<ExitCode, String> {
    let mut input = None;
    let mut invoke = None;
    let mut call_args = Vec::new();
    let mut program_args = Vec::new();
    let mut grants = Grants::default();
    let (mut fuel, mut print_fuel, mut max_memory, mut max_stack, mut timeout) =
        (None, false, None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--invoke" => {
                invoke = Some(value("--invoke")?);
                call_args.extend(it.by_ref().cloned());
            }
            "--fuel" => {
                let v = value("--fuel")?;
                fuel = Some(
                    v.replace('_', "")
                        .parse::<u64>()
                        .map_err(|_| format!("`{v}` is not a fuel amount"))?,
                );
            }
            "--print-fuel" => print_fuel = true,
            "--max-memory" => max_memory = Some(super::units::parse_size(&value("--max-memory")?)?),
            "--max-stack" => max_stack = Some(super::units::parse_size(&value("--max-stack")?)?),
            "--timeout" => timeout = super::units::parse_timeout(&value("--timeout")?)?,
            "--dir" => grants.dirs.push(parse_dir(&value("--dir")?)),
            "--env" => {
                let v = value("--env")?;
                let (name, val) =
                    v.split_once('=').ok_or(format!("--env `{v}` is not NAME=VALUE"))?;
                grants.env.push((name.to_string(), val.to_string()));
            }
            _ if input.is_none() && !a.starts_with("--") => {
                input = Some(a.clone());
                // Without `--invoke`, everything after the file is the
                // program's (as `wasmtime run` has it); with it, options
                // may follow the file as they always could.
                if !it.as_slice().iter().any(|r| r == "--invoke") {
                    program_args.extend(it.by_ref().cloned());
                }
            }
            _ => return Err(format!("unexpected argument `{a}`")),
        }
    }
    let input = input.ok_or("run needs an input file")?;
    let metered = fuel.is_some() || print_fuel;
    let mut config = scion::Config::new().consume_fuel(metered);
    if let Some(bytes) = max_stack {
        config = config.max_wasm_stack(bytes as usize);
    }
    let engine = super::engine_with(config)?;
    // An artifact (`scion compile`'s output) loads through the same checks
    // as the cache: signed for this cache, loading runs nothing.
    let is_artifact = std::fs::File::open(&input).and_then(|mut f| {
        let mut magic = [0; 4];
        std::io::Read::read_exact(&mut f, &mut magic).map(|()| magic == *b"\x7fELF")
    });
    let module = if is_artifact.unwrap_or(false) {
        Module::from_artifact(&engine, &input)
    } else {
        Module::from_file(&engine, &input)
    }
    .map_err(|e| e.to_string())?;
    let mut wasi = WasiConfig::new().inherit_stdio().arg(&input).args(program_args);
    for (name, val) in &grants.env {
        wasi = wasi.env(name, val);
    }
    for (host, guest) in &grants.dirs {
        wasi = wasi.preopen_dir(host, guest, DirPerms::ReadWrite).map_err(|e| e.to_string())?;
    }
    let mut store = Store::new(&engine, wasi.build().map_err(|e| e.to_string())?);
    if let Some(bytes) = max_memory {
        store.set_limits(scion::StoreLimits { max_memory_bytes: bytes, ..store.limits() });
    }
    let initial_fuel = fuel.unwrap_or(u64::MAX / 2);
    if metered {
        store.set_fuel(initial_fuel).map_err(|e| e.to_string())?;
    }
    store.set_timeout(timeout).map_err(|e| e.to_string())?;
    let report_fuel = |store: &Store<WasiCtx>| {
        if print_fuel {
            let left = store.get_fuel().unwrap_or(0);
            eprintln!("fuel consumed: {}", initial_fuel.saturating_sub(left));
        }
    };
    let mut linker = Linker::new();
    if scion::wasi::imports_wasi(&module) {
        scion::wasi::add_to_linker(&mut linker, &mut store, |c| c);
    }
    let instance = match linker.instantiate(&mut store, &module) {
        Ok(i) => i,
        Err(e) => return ended(e, || report_fuel(&store)),
    };
    let name = match invoke {
        Some(name) => name,
        None if instance.get_func(&store, "_start").is_some() => {
            let start = instance
                .get_typed_func::<(), ()>(&store, "_start")
                .map_err(|e| format!("`_start`: {e}"))?;
            let outcome = start.call(&mut store, ());
            report_fuel(&store);
            return match outcome {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => ended(e, || {}),
            };
        }
        None => return Ok(ExitCode::SUCCESS),
    };
    let func =
        instance.get_func(&store, &name).ok_or_else(|| format!("no exported function `{name}`"))?;
    let ty = func.ty(&store);
    if call_args.len() != ty.params.len() {
        return Err(format!("`{name}` has type {ty}; {} arguments given", call_args.len()));
    }
    let params = call_args
        .iter()
        .zip(&ty.params)
        .map(|(a, &t)| parse_arg(a, t))
        .collect::<Result<Vec<_>, _>>()?;
    let mut results: Vec<Val> = ty.results.iter().map(|&t| Val::default_for(t)).collect();
    let outcome = func.call(&mut store, &params, &mut results);
    report_fuel(&store);
    match outcome {
        Ok(()) => {
            for r in results {
                println!("{r}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => ended(e, || {}),
    }
}

/// The exit status for a call or instantiation that ended with `error`:
/// the program's `proc_exit` code (as the OS keeps it, 8 bits), 1 for a
/// trap (printed), an error otherwise.
fn ended(error: scion::Error, report: impl FnOnce()) -> Result<ExitCode, String> {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    if let Some(code) = scion::wasi::exit_code(&error) {
        report();
        return Ok(ExitCode::from((code & 0xff) as u8));
    }
    match error {
        scion::Error::Trap(t) => {
            eprintln!("{t}");
            report();
            Ok(ExitCode::from(1))
        }
        e => Err(e.to_string()),
    }
}
