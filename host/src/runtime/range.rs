//! Overflow-safe ranges over numbers a plugin chose.
//!
//! **Sandbox-critical.** Every builtin and every host-side read or write of
//! plugin memory or tables turns `(start, len)` into an index range here,
//! in 64-bit checked arithmetic, so that no sum can wrap (a 65,536-page
//! memory ends exactly at 2^32, which a `u32` end cannot represent).

use std::ops::Range;

/// The index range `[start, start + len)` when it lies within `size`.
pub(crate) fn checked_range(start: u64, len: u64, size: u64) -> Option<Range<usize>> {
    let end = start.checked_add(len)?;
    if end > size {
        return None;
    }
    Some(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
}

/// Bytes (or elements) a bulk operation handles between two looks at the
/// interrupt flag: small enough that a deadline lands within about a
/// millisecond, large enough that looking costs nothing measurable.
pub(crate) const BULK_CHUNK: usize = 1 << 20;

/// Runs `step` over `range` in chunks of [`BULK_CHUNK`], forwards or (for
/// an overlapping copy towards higher addresses) backwards, stopping early
/// when `stop` says so. Returns whether it ran to the end.
pub(crate) fn in_chunks(
    range: Range<usize>,
    backwards: bool,
    mut stop: impl FnMut() -> bool,
    mut step: impl FnMut(Range<usize>),
) -> bool {
    let len = range.end - range.start;
    let mut done = 0;
    while done < len {
        if done > 0 && stop() {
            return false;
        }
        let n = BULK_CHUNK.min(len - done);
        let chunk = if backwards {
            range.end - done - n..range.end - done
        } else {
            range.start + done..range.start + done + n
        };
        step(chunk);
        done += n;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_at_the_end_of_a_4gib_memory() {
        let four_gib = 1u64 << 32;
        assert_eq!(checked_range(four_gib - 1, 1, four_gib), Some((1 << 32) - 1..1 << 32));
        assert_eq!(checked_range(four_gib, 0, four_gib), Some(1 << 32..1 << 32));
        assert_eq!(checked_range(four_gib, 1, four_gib), None);
        assert_eq!(checked_range(u32::MAX as u64, u32::MAX as u64, four_gib), None);
        assert_eq!(checked_range(u64::MAX, 1, u64::MAX), None);
    }

    #[test]
    fn chunks_cover_the_range_once_in_order() {
        let total = 3 * BULK_CHUNK + 17;
        for backwards in [false, true] {
            let mut seen = Vec::new();
            assert!(in_chunks(5..5 + total, backwards, || false, |c| seen.push(c)));
            if backwards {
                seen.reverse();
            }
            assert_eq!(seen.first().unwrap().start, 5);
            assert_eq!(seen.last().unwrap().end, 5 + total);
            assert!(seen.windows(2).all(|w| w[0].end == w[1].start));
        }
        let mut steps = 0;
        assert!(!in_chunks(0..total, false, || true, |_| steps += 1));
        assert_eq!(steps, 1);
    }
}
