//! The `scion` command-line tool.
//!
//! ```text
//! scion compile IN.wasm|IN.wat -o OUT.so
//! scion run [--dir HOST[::GUEST]]... [--env NAME=VALUE]... IN.wasm|IN.so [ARGS...]
//! scion run IN.wasm|IN.so --invoke NAME [ARGS...]
//! scion wast FILE...
//! scion inspect PLUGIN.wasm
//! scion cache ls|clear|dir
//! ```

mod cache;
mod compile;
mod inspect;
mod run;
mod units;
mod wast;

use std::process::ExitCode;

const USAGE: &str = "\
usage:
  scion compile IN.wasm|IN.wat -o OUT.so     compile to a shared object
  scion run [OPTIONS] IN.wasm|IN.so [ARGS...]
                                             run a WASI command (`_start`) with
                                             argv IN ARGS..., the terminal's stdio;
                                             exit with its `proc_exit` code
  scion run [OPTIONS] IN.wasm|IN.so --invoke NAME [ARGS...]
                                             call an export, print results (IN.so:
                                             an artifact `scion compile` wrote)
      --dir HOST[::GUEST] grant directory HOST (read-write) as GUEST (default:
                          the same path)
      --env NAME=VALUE    set an environment variable for the program
      --fuel N            meter fuel, give the call N
      --print-fuel        print the fuel consumed (to stderr)
      --max-memory SIZE   limit each linear memory (bytes, KiB, MiB, GiB)
      --max-stack SIZE    wasm stack budget
      --timeout DURATION  stop the call after DURATION (e.g. 50ms, 2s; a century
                          or more: no deadline)
  scion wast FILE...                          run spec-test scripts
  scion inspect PLUGIN.wasm                   show a plugin's interfaces, imports,
                                             exports, memories and tables
  scion cache ls | clear | dir                list, empty or locate the artifact cache
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match cmd.as_str() {
        "compile" => compile::main(rest),
        "run" => run::main(rest),
        "wast" => wast::main(rest),
        "inspect" => inspect::main(rest),
        "cache" => cache::main(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

/// The engine the tool uses (default configuration, default cache).
fn engine() -> Result<scion::Engine, String> {
    engine_with(scion::Config::default())
}

/// An engine with a configuration.
fn engine_with(config: scion::Config) -> Result<scion::Engine, String> {
    scion::Engine::new(config).map_err(|e| e.to_string())
}
