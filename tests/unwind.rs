//! Unwind information: every artifact describes its frames in
//! `.eh_frame` (found through `PT_GNU_EH_FRAME`), and the host's unwinder
//! walks from a host function a plugin called, through the plugin's
//! frames, back into the host.

use gimli::{BaseAddresses, LittleEndian, UnwindSection};
use object::read::elf::ProgramHeader as _;
use object::{Object, ObjectSection, ObjectSymbol};
use scion::{Caller, Config, Engine, Linker, Module, Store};

const WAT: &str = r#"(module
    (import "host" "probe" (func $probe))
    (func $inner (export "inner") call $probe)
    (func $middle call $inner)
    (func $outer (export "outer") call $middle))"#;

fn engine() -> Engine {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("unwind-cache");
    Engine::new(Config::new().cache_dir(dir)).unwrap()
}

#[inline(never)]
fn call_outer_from_the_host(engine: &Engine) -> String {
    let module = Module::new(engine, WAT).unwrap();
    let mut store = Store::new(engine, String::new());
    let mut linker = Linker::new();
    linker.func_wrap(&mut store, "host", "probe", |mut caller: Caller<'_, String>, (): ()| {
        *caller.data_mut() = std::backtrace::Backtrace::force_capture().to_string();
    });
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let outer = instance.get_typed_func::<(), ()>(&store, "outer").unwrap();
    outer.call(&mut store, ()).unwrap();
    store.into_data()
}

#[test]
fn a_backtrace_in_a_host_function_walks_through_plugin_frames_into_the_host() {
    let trace = call_outer_from_the_host(&engine());
    // The host function itself, then (after the plugin's frames) the host
    // code that called the plugin.
    assert!(trace.contains("unwind::call_outer_from_the_host"), "{trace}");
    assert!(
        trace.contains("a_backtrace_in_a_host_function_walks_through_plugin_frames"),
        "{trace}"
    );
}

#[test]
fn every_function_and_stub_has_a_frame_description() {
    let engine = engine();
    let module = Module::new(&engine, WAT).unwrap();
    let bytes = std::fs::read(module.artifact_path()).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let hdr = file.section_by_name(".eh_frame_hdr").expect(".eh_frame_hdr");
    let frame = file.section_by_name(".eh_frame").expect(".eh_frame");
    let text = file.section_by_name(".text").unwrap();
    let elf = object::read::elf::ElfFile64::<object::Endianness>::parse(&*bytes).unwrap();
    let eh_segment = elf
        .elf_program_headers()
        .iter()
        .find(|p| p.p_type(elf.endian()) == object::elf::PT_GNU_EH_FRAME)
        .expect("a PT_GNU_EH_FRAME program header");
    assert_eq!(eh_segment.p_vaddr(elf.endian()), hdr.address());
    assert_eq!(eh_segment.p_memsz(elf.endian()), hdr.size());
    let bases = BaseAddresses::default()
        .set_eh_frame_hdr(hdr.address())
        .set_eh_frame(frame.address())
        .set_text(text.address());
    let hdr_data = hdr.data().unwrap();
    let parsed = gimli::EhFrameHdr::new(hdr_data, LittleEndian).parse(&bases, 8).unwrap();
    let table = parsed.table().unwrap();
    let eh_frame = gimli::EhFrame::new(frame.data().unwrap(), LittleEndian);
    let mut covered = 0;
    for sym in file.symbols().filter(|s| s.kind() == object::SymbolKind::Text && s.size() > 0) {
        for pc in [sym.address(), sym.address() + sym.size() - 1] {
            let fde = table
                .fde_for_address(&eh_frame, &bases, pc, gimli::EhFrame::cie_from_offset)
                .unwrap_or_else(|e| panic!("{}: no FDE for {pc:#x}: {e}", sym.name().unwrap()));
            assert!(fde.contains(pc), "{}", sym.name().unwrap());
        }
        covered += 1;
    }
    // inner, middle, outer, the host adapter, the entry trampolines, the
    // trap and yield routines.
    assert!(covered >= 7, "{covered} functions");
}

#[test]
fn the_line_table_maps_each_function_to_its_wasm_bytes() {
    let wasm = wat::parse_str(WAT).unwrap();
    // Body byte ranges of the defined functions, in order (index 1, 2, 3).
    let mut bodies = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
            bodies.push(body.range());
        }
    }
    let engine = engine();
    let module = Module::new(&engine, &wasm).unwrap();
    let bytes = std::fs::read(module.artifact_path()).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let load = |id: gimli::SectionId| -> Result<std::borrow::Cow<'_, [u8]>, gimli::Error> {
        Ok(file.section_by_name(id.name()).and_then(|s| s.data().ok()).unwrap_or(&[]).into())
    };
    let sections = gimli::DwarfSections::load(load).unwrap();
    let dwarf = sections.borrow(|s| gimli::EndianSlice::new(s, LittleEndian));
    let header = dwarf.units().next().unwrap().expect("one unit");
    let unit = dwarf.unit(header).unwrap();
    let mut rows = unit.line_program.clone().expect("a line program").rows();
    let mut lines = Vec::new();
    while let Some((_, row)) = rows.next_row().unwrap() {
        if let Some(line) = row.line().filter(|_| !row.end_sequence()) {
            lines.push((row.address(), line.get()));
        }
    }
    for (name, body) in ["inner", "middle", "outer"].iter().zip(&bodies) {
        let sym = file.symbols().find(|s| s.name() == Ok(name)).expect(name);
        let mine: Vec<u64> = lines
            .iter()
            .filter(|(a, _)| (sym.address()..sym.address() + sym.size()).contains(a))
            .map(|&(_, l)| l)
            .collect();
        assert!(!mine.is_empty(), "{name} has no lines");
        for l in mine {
            assert!(body.contains(&l), "{name}: {l:#x} not in {body:?}");
        }
    }
}
