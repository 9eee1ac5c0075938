//! The plugin's own DWARF (a debug build's `.debug_*` custom sections):
//! its line tables, reduced to a map from wasm byte offsets to source
//! file and line, so that traps can say "at src/lib.rs:52".
//!
//! The sections come from the plugin, so from an attacker: gimli parses
//! them without trusting lengths, anything malformed drops the table
//! (source lines are a convenience, never a reason to refuse a module),
//! and the table's size is bounded.

use gimli::{EndianSlice, LittleEndian};

/// Most rows kept: a debug build's line table has a few rows per
/// instruction, so this covers modules of tens of megabytes.
const MAX_ROWS: usize = 4 << 20;

/// Most bytes of file names kept.
const MAX_NAME_BYTES: usize = 4 << 20;

/// Where the code at wasm byte offsets comes from in the plugin's source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceTable {
    /// (wasm module offset, index in `files`, line), sorted by offset;
    /// each row holds until the next one.
    pub rows: Vec<(u32, u32, u32)>,
    /// Source file paths.
    pub files: Vec<String>,
}

/// The source table of a module's DWARF sections (`sections`, by name),
/// whose addresses are relative to the code section's contents at module
/// offset `code_start`; `None` when there is no line information or it
/// does not parse.
pub fn source_table(sections: &[(&str, &[u8])], code_start: u32) -> Option<SourceTable> {
    if !sections.iter().any(|(n, _)| *n == ".debug_line") {
        return None;
    }
    // gimli does not panic on malformed input by design; a bug in it must
    // still not take the compiler (or the host) down.
    std::panic::catch_unwind(|| read(sections, code_start)).ok().flatten()
}

fn read(sections: &[(&str, &[u8])], code_start: u32) -> Option<SourceTable> {
    let load = |id: gimli::SectionId| -> Result<EndianSlice<'_, LittleEndian>, gimli::Error> {
        let data = sections.iter().find(|(n, _)| *n == id.name()).map_or(&[][..], |(_, d)| d);
        Ok(EndianSlice::new(data, LittleEndian))
    };
    let dwarf = gimli::Dwarf::load(load).ok()?;
    let mut table = SourceTable::default();
    let mut name_bytes = 0;
    let mut units = dwarf.units();
    while let Some(header) = units.next().ok()? {
        let unit = dwarf.unit(header).ok()?;
        let Some(program) = unit.line_program.clone() else { continue };
        // This unit's file indices, mapped into `table.files` on first use.
        let mut local: Vec<Option<u32>> = Vec::new();
        let mut rows = program.rows();
        while let Some((header, row)) = rows.next_row().ok()? {
            if row.end_sequence() || table.rows.len() >= MAX_ROWS {
                continue;
            }
            let Some(line) = row.line() else { continue };
            let Some(offset) = row.address().checked_add(u64::from(code_start)) else {
                continue;
            };
            let Ok(offset) = u32::try_from(offset) else { continue };
            // The index comes from the plugin: only files the header
            // declares (1-based before DWARF 5) get a slot.
            let declared = header.file_names().len() + 1;
            let Ok(index) = usize::try_from(row.file_index()) else { continue };
            if index >= declared {
                continue;
            }
            if local.len() <= index {
                local.resize(index + 1, None);
            }
            let file = match local[index] {
                Some(f) => f,
                None => {
                    let name = file_name(&dwarf, &unit, header, row.file_index())?;
                    name_bytes += name.len();
                    if name_bytes > MAX_NAME_BYTES {
                        return None;
                    }
                    let f = match table.files.iter().position(|n| *n == name) {
                        Some(f) => f as u32,
                        None => {
                            table.files.push(name);
                            (table.files.len() - 1) as u32
                        }
                    };
                    local[index] = Some(f);
                    f
                }
            };
            let line = u32::try_from(line.get()).unwrap_or(u32::MAX);
            table.rows.push((offset, file, line));
        }
    }
    if table.rows.is_empty() {
        return None;
    }
    table.rows.sort_by_key(|r| r.0);
    table.rows.dedup_by_key(|r| r.0);
    Some(table)
}

/// A file's path as the line program names it: its directory (unless it
/// is the compilation directory, which rustc makes the crate's) and name.
fn file_name<R: gimli::Reader>(
    dwarf: &gimli::Dwarf<R>,
    unit: &gimli::Unit<R>,
    header: &gimli::LineProgramHeader<R>,
    index: u64,
) -> Option<String> {
    let file = header.file(index)?;
    let text = |v| -> Option<String> {
        let r = dwarf.attr_string(unit, v).ok()?;
        Some(r.to_string_lossy().ok()?.into_owned())
    };
    let name = text(file.path_name())?;
    if name.starts_with('/') {
        return Some(name);
    }
    let dir = match file.directory(header) {
        Some(d) if file.directory_index() != 0 => text(d)?,
        _ => String::new(),
    };
    Some(if dir.is_empty() { name } else { format!("{}/{name}", dir.trim_end_matches('/')) })
}
