//! `scion compile IN -o OUT.so`

use std::path::PathBuf;
use std::process::ExitCode;

pub fn main(args: &[String]) -> Result<ExitCode, String> {
    let mut input = None;
    let mut output = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-o" | "--output" => output = Some(PathBuf::from(it.next().ok_or("-o needs a path")?)),
            _ if input.is_none() => input = Some(PathBuf::from(a)),
            _ => return Err(format!("unexpected argument `{a}`")),
        }
    }
    let input = input.ok_or("compile needs an input file")?;
    let output = output.unwrap_or_else(|| input.with_extension("so"));
    let bytes = std::fs::read(&input).map_err(|e| format!("{}: {e}", input.display()))?;
    let engine = super::engine()?;
    scion::Module::compile_to_file(&engine, &bytes, &output).map_err(|e| match e {
        scion::Error::Compile { error, .. } => {
            format!("invalid module {}: {error}", input.display())
        }
        e => e.to_string(),
    })?;
    Ok(ExitCode::SUCCESS)
}
