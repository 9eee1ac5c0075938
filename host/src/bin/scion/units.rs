//! Parsing sizes (`64MiB`) and durations (`50ms`) given on the command line.

use std::time::Duration;

/// Bytes, optionally with a binary unit: `65536`, `64KiB`, `64MiB`, `4GiB`
/// (also `K`, `M`, `G`, `KB`, `MB`, `GB`, all powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '_').unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.replace('_', "").parse().map_err(|_| format!("`{text}` is not a size"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => {
            return Err(format!("unknown size unit `{other}` in `{text}` (use KiB, MiB or GiB)"));
        }
    };
    n.checked_mul(1 << shift).ok_or_else(|| format!("`{text}` is too large"))
}

/// A duration with a unit: `250us`, `50ms`, `2s`, `1.5s`, `1m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("`{text}` is not a duration"))?;
    let secs = match unit.trim() {
        "us" | "µs" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" | "min" => n * 60.0,
        "" => return Err(format!("`{text}` needs a unit (ms, s, ...)")),
        other => return Err(format!("unknown duration unit `{other}` in `{text}`")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("`{text}` is not a valid duration"))
}

/// Timeouts from this long on (about a century) mean no deadline: adding
/// one to the current time could overflow the clock.
const NO_DEADLINE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A `--timeout`: a duration ([`parse_duration`]), where one too long to
/// end at any point in time (a century or more) means no deadline.
pub fn parse_timeout(text: &str) -> Result<Option<Duration>, String> {
    let t = parse_duration(text)?;
    Ok((t < NO_DEADLINE).then_some(t))
}

/// A rough age: `42s`, `7m`, `3h`, `12d`.
pub fn format_age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("4 GiB"), Ok(4 << 30));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("MiB").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("50ms"), Ok(Duration::from_millis(50)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5 fortnights").is_err());
    }

    #[test]
    fn timeouts_too_long_for_a_deadline_are_none() {
        assert_eq!(parse_timeout("50ms"), Ok(Some(Duration::from_millis(50))));
        assert_eq!(parse_timeout("18446744073709000000s"), Ok(None));
        assert_eq!(parse_timeout("100000000000m"), Ok(None));
        assert!(parse_timeout("1e400s").is_err());
    }
}
