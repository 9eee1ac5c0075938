//! DWARF debug information for an artifact, written with gimli: one
//! compilation unit for the module, a subprogram for each function, and a
//! line table that maps native code back to the wasm it came from. The
//! table's one "file" is the module and its "line" numbers are wasm byte
//! offsets, so `addr2line`, gdb and perf show where in the module (the
//! offsets `wasm-objdump -d` and `scion inspect` print) each instruction
//! came from.
//!
//! The sections are not loaded; addresses in them are the file's (load
//! base 0), which tools relocate as for any shared object.

use gimli::write::{
    Address, AttributeValue, DwarfUnit, EndianVec, LineProgram, LineString, Sections,
};
use gimli::{Encoding, Format, LineEncoding, LittleEndian};

/// The sections [`write`] produces, in its output order.
pub const SECTIONS: [&str; 4] = [".debug_abbrev", ".debug_info", ".debug_line", ".debug_str"];

/// One function's code, for a subprogram entry.
pub struct DebugFunction<'a> {
    /// Its symbol name.
    pub name: &'a str,
    /// Offset in `.text`.
    pub start: u32,
    /// Length in bytes.
    pub len: u32,
}

/// The contents of [`SECTIONS`] for a module called `module_name` whose
/// `.text` is at `text` (`text_len` bytes), given its functions (sorted by
/// start, not overlapping) and its line entries (text offset, wasm
/// offset), sorted by text offset.
pub fn write(
    module_name: &str,
    text: u64,
    text_len: u32,
    functions: &[DebugFunction<'_>],
    lines: &[(u32, u32)],
) -> Vec<Vec<u8>> {
    let encoding = Encoding { format: Format::Dwarf32, version: 4, address_size: 8 };
    let mut dwarf = DwarfUnit::new(encoding);
    let name = || LineString::String(module_name.as_bytes().to_vec());
    let mut program = LineProgram::new(
        encoding,
        LineEncoding::default(),
        LineString::String(Vec::new()),
        None,
        name(),
        None,
    );
    let dir = program.default_directory();
    let file = program.add_file(name(), dir, None);

    let mut next_line = 0;
    for f in functions {
        let end = f.start + f.len;
        // Entries before the function belong to code between functions.
        while next_line < lines.len() && lines[next_line].0 < f.start {
            next_line += 1;
        }
        // Runtime code (trampolines, stubs) has no wasm of its own.
        if lines.get(next_line).is_none_or(|l| l.0 >= end) {
            continue;
        }
        program.begin_sequence(Some(Address::Constant(text + u64::from(f.start))));
        while next_line < lines.len() && lines[next_line].0 < end {
            let (at, wasm) = lines[next_line];
            let row = program.row();
            row.address_offset = u64::from(at - f.start);
            row.file = file;
            row.line = u64::from(wasm);
            row.column = 0;
            program.generate_row();
            next_line += 1;
        }
        program.end_sequence(u64::from(f.len));
    }
    dwarf.unit.line_program = program;

    let strings = &mut dwarf.strings;
    let unit = &mut dwarf.unit;
    let root = unit.root();
    let producer = strings.add(format!("scion {}", env!("CARGO_PKG_VERSION")));
    let cu_name = strings.add(module_name);
    let cu = unit.get_mut(root);
    cu.set(gimli::DW_AT_producer, AttributeValue::StringRef(producer));
    cu.set(gimli::DW_AT_name, AttributeValue::StringRef(cu_name));
    cu.set(gimli::DW_AT_low_pc, AttributeValue::Address(Address::Constant(text)));
    cu.set(gimli::DW_AT_high_pc, AttributeValue::Udata(u64::from(text_len)));
    for f in functions {
        let id = unit.add(root, gimli::DW_TAG_subprogram);
        let name = strings.add(f.name);
        let die = unit.get_mut(id);
        die.set(gimli::DW_AT_name, AttributeValue::StringRef(name));
        let low = Address::Constant(text + u64::from(f.start));
        die.set(gimli::DW_AT_low_pc, AttributeValue::Address(low));
        die.set(gimli::DW_AT_high_pc, AttributeValue::Udata(u64::from(f.len)));
    }

    let mut sections = Sections::new(EndianVec::new(LittleEndian));
    dwarf.write(&mut sections).expect("in-memory DWARF writing cannot fail");
    vec![
        sections.debug_abbrev.0.into_vec(),
        sections.debug_info.0.into_vec(),
        sections.debug_line.0.into_vec(),
        sections.debug_str.0.into_vec(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use gimli::{EndianSlice, RunTimeEndian};

    #[test]
    fn lines_map_native_offsets_to_wasm_offsets() {
        let functions = [
            DebugFunction { name: "f", start: 0x10, len: 0x20 },
            DebugFunction { name: "g", start: 0x40, len: 0x10 },
        ];
        let lines = [(0x10, 0x50), (0x14, 0x52), (0x20, 0x57), (0x40, 0x90), (0x44, 0x93)];
        let out = write("m.wasm", 0x2000, 0x50, &functions, &lines);
        let section = |i: usize| EndianSlice::new(&out[i], RunTimeEndian::Little);
        let dwarf = gimli::read::Dwarf {
            debug_abbrev: section(0).into(),
            debug_info: section(1).into(),
            debug_line: section(2).into(),
            debug_str: section(3).into(),
            ..Default::default()
        };
        let unit = dwarf.units().next().unwrap().unwrap();
        let unit = dwarf.unit(unit).unwrap();
        let program = unit.line_program.clone().unwrap();
        let mut rows = program.rows();
        let mut seen = Vec::new();
        while let Some((_, row)) = rows.next_row().unwrap() {
            if !row.end_sequence() {
                seen.push((row.address(), row.line().map(|l| l.get())));
            }
        }
        assert_eq!(
            seen,
            [
                (0x2010, Some(0x50)),
                (0x2014, Some(0x52)),
                (0x2020, Some(0x57)),
                (0x2040, Some(0x90)),
                (0x2044, Some(0x93)),
            ]
        );
    }
}
