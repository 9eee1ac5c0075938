//! `scion wast FILE...`: runs spec-test scripts and prints counts.

use std::path::Path;
use std::process::ExitCode;

pub fn main(args: &[String]) -> Result<ExitCode, String> {
    if args.is_empty() {
        return Err("wast needs at least one script".into());
    }
    let engine = super::engine()?;
    let (mut passed, mut failed) = (0, 0);
    for file in args {
        let report = scion::wast::run_file(&engine, Path::new(file));
        for f in &report.failures {
            println!("  {f}");
        }
        if report.unsupported > 0 {
            println!(
                "{file}: {} passed, {} failed ({} need unsupported features)",
                report.passed, report.failed, report.unsupported
            );
        } else {
            println!("{file}: {} passed, {} failed", report.passed, report.failed);
        }
        passed += report.passed;
        failed += report.failed;
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
