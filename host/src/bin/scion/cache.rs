//! `scion cache ls|clear|dir`: the artifact cache.

use std::process::ExitCode;
use std::time::SystemTime;

pub fn main(args: &[String]) -> Result<ExitCode, String> {
    let engine = super::engine()?;
    let cache = engine.cache();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["ls"] => {
            let entries = cache.entries().map_err(|e| format!("{}: {e}", cache.dir().display()))?;
            let now = SystemTime::now();
            for e in entries.iter().rev() {
                let age = now.duration_since(e.last_used).unwrap_or_default().as_secs();
                let name = e.path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                println!(
                    "{}  {:>10} bytes  used {} ago",
                    name,
                    e.bytes,
                    super::units::format_age(age)
                );
            }
            let total: u64 = entries.iter().map(|e| e.bytes).sum();
            println!(
                "{} artifacts, {total} bytes (cap {} bytes) in {}",
                entries.len(),
                engine.config().cache_max_bytes,
                cache.dir().display()
            );
        }
        ["clear"] => {
            let (n, bytes) =
                cache.clear().map_err(|e| format!("{}: {e}", cache.dir().display()))?;
            println!("removed {n} artifacts ({bytes} bytes) from {}", cache.dir().display());
        }
        ["dir"] => println!("{}", cache.dir().display()),
        _ => return Err("usage: scion cache ls | clear | dir".into()),
    }
    Ok(ExitCode::SUCCESS)
}
