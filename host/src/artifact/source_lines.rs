//! Where trapping code came from: two tables in sections of the artifact
//! that are not loaded, read in place (binary search over fixed-size
//! little-endian records) only when a trap is reported, so loading decodes
//! nothing for them.
//!
//! ```text
//! .scion_lines   (text offset u32, wasm offset u32)*           sorted by text offset
//! .scion_source  rows:u32 files:u32 (wasm offset u32, file u32, line u32)*rows
//!                (len:u32 bytes)*files                          rows sorted by wasm offset
//! ```
//!
//! `.debug_line` holds the first table too, for tools; this form needs no
//! DWARF parsing at trap time.

use crate::compiler::dwarf::SourceTable;

/// The native-to-wasm table's section.
pub const LINES_SECTION: &str = ".scion_lines";
/// The wasm-to-source table's section.
pub const SOURCE_SECTION: &str = ".scion_source";

/// `.scion_lines` for `lines` (sorted by text offset).
pub fn encode_lines(lines: &[(u32, u32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 * lines.len());
    for &(text, wasm) in lines {
        out.extend_from_slice(&text.to_le_bytes());
        out.extend_from_slice(&wasm.to_le_bytes());
    }
    out
}

/// `.scion_source` for `table` (empty without one).
pub fn encode_source(table: Option<&SourceTable>) -> Vec<u8> {
    let Some(t) = table else { return Vec::new() };
    let mut out = Vec::new();
    out.extend_from_slice(&(t.rows.len() as u32).to_le_bytes());
    out.extend_from_slice(&(t.files.len() as u32).to_le_bytes());
    for &(wasm, file, line) in &t.rows {
        for v in [wasm, file, line] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    for f in &t.files {
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(f.as_bytes());
    }
    out
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

/// The last record of `count` records of `size` bytes in `table` whose
/// first field is at most `key`.
fn last_at_most(table: &[u8], count: usize, size: usize, key: u32) -> Option<usize> {
    let (mut lo, mut hi) = (0, count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if u32_at(table, mid * size)? <= key {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo.checked_sub(1)
}

/// The wasm offset of the instruction whose code holds text offset `text`.
pub fn wasm_offset(lines: &[u8], text: u32) -> Option<u32> {
    let i = last_at_most(lines, lines.len() / 8, 8, text)?;
    u32_at(lines, i * 8 + 4)
}

/// The source file and line of the code at wasm offset `wasm`.
pub fn source_line(source: &[u8], wasm: u32) -> Option<(String, u32)> {
    let rows = u32_at(source, 0)? as usize;
    let files = u32_at(source, 4)? as usize;
    let table = source.get(8..8usize.checked_add(rows.checked_mul(12)?)?)?;
    let i = last_at_most(table, rows, 12, wasm)?;
    let (file, line) = (u32_at(table, i * 12 + 4)? as usize, u32_at(table, i * 12 + 8)?);
    if file >= files {
        return None;
    }
    let mut at = 8 + rows * 12;
    for _ in 0..file {
        at = at.checked_add(4)?.checked_add(u32_at(source, at)? as usize)?;
    }
    let len = u32_at(source, at)? as usize;
    let name = source.get(at + 4..at.checked_add(4)?.checked_add(len)?)?;
    Some((String::from_utf8_lossy(name).into_owned(), line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_find_the_row_that_covers_an_offset() {
        let lines = encode_lines(&[(0x10, 100), (0x18, 104), (0x30, 110)]);
        assert_eq!(wasm_offset(&lines, 0x0f), None);
        assert_eq!(wasm_offset(&lines, 0x10), Some(100));
        assert_eq!(wasm_offset(&lines, 0x2f), Some(104));
        assert_eq!(wasm_offset(&lines, 0x1000), Some(110));
        let table = SourceTable {
            rows: vec![(100, 1, 7), (104, 0, 52), (110, 1, 9)],
            files: vec!["src/lib.rs".into(), "/rustc/x/library/core/src/panicking.rs".into()],
        };
        let source = encode_source(Some(&table));
        assert_eq!(source_line(&source, 99), None);
        assert_eq!(source_line(&source, 105), Some(("src/lib.rs".into(), 52)));
        let (file, line) = source_line(&source, 200).unwrap();
        assert!(file.ends_with("panicking.rs") && line == 9);
        // Truncated or garbled tables give nothing rather than failing.
        for cut in 0..source.len() {
            let _ = source_line(&source[..cut], 105);
        }
        assert_eq!(source_line(&[], 105), None);
    }
}
