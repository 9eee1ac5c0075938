//! The shared objects Scion writes: checked with the `object` parser,
//! Scion's own loader checks and, when installed, `readelf -h -l -d`.

use object::elf;
use object::read::elf::{Dyn, ElfFile64, FileHeader, ProgramHeader};
use scion::{Config, Engine, Module};
use std::path::PathBuf;

fn artifact() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("artifact-test-cache");
    let engine = Engine::new(Config::new().cache_dir(dir)).unwrap();
    let module = Module::new(
        &engine,
        r#"(module (memory 1) (table 2 funcref) (global (mut i32) (i32.const 0))
             (func $f (export "f") (param i32) (result i32) (i32.load (local.get 0)))
             (func (export "g") (result i32) (call $f (i32.const 4)))
             (elem (i32.const 0) $f))"#,
    )
    .unwrap();
    module.artifact_path()
}

#[test]
fn elf_structure() {
    let bytes = std::fs::read(artifact()).unwrap();
    let file = ElfFile64::<object::Endianness>::parse(&*bytes).unwrap();
    let e = file.endian();
    assert_eq!(file.elf_header().e_type(e), elf::ET_DYN);
    assert_eq!(file.elf_header().e_machine(e), elf::EM_X86_64);
    let mut saw_stack = false;
    let mut saw_exec = false;
    for ph in file.elf_program_headers() {
        let flags = ph.p_flags(e);
        match ph.p_type(e) {
            elf::PT_LOAD => {
                assert!(!(flags & elf::PF_W != 0 && flags & elf::PF_X != 0), "W+X segment");
                saw_exec |= flags & elf::PF_X != 0;
            }
            elf::PT_GNU_STACK => {
                saw_stack = true;
                assert_eq!(flags & elf::PF_X, 0, "executable stack requested");
            }
            elf::PT_INTERP => panic!("has an interpreter"),
            _ => {}
        }
        if let Some(dynamic) = ph.dynamic(e, &*bytes).unwrap() {
            for d in dynamic {
                let tag = d.d_tag(e) as u32;
                assert_ne!(tag, elf::DT_NEEDED, "DT_NEEDED present");
                assert_ne!(tag, elf::DT_TEXTREL, "DT_TEXTREL present");
                assert!(
                    ![elf::DT_RELA, elf::DT_REL, elf::DT_INIT, elf::DT_INIT_ARRAY].contains(&tag)
                );
            }
        }
    }
    assert!(saw_stack, "no PT_GNU_STACK");
    assert!(saw_exec, "no executable segment");
}

#[test]
fn readelf_agrees() {
    let path = artifact();
    let Ok(out) =
        std::process::Command::new("readelf").args(["-W", "-h", "-l", "-d"]).arg(&path).output()
    else {
        eprintln!("readelf is not installed; skipped");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.trim().is_empty(), "readelf complained: {err}");
    assert!(text.contains("DYN (Shared object file)"), "{text}");
    assert!(!text.contains("(NEEDED)"), "{text}");
    assert!(!text.contains("TEXTREL"), "{text}");
    let stack =
        text.lines().find(|l| l.trim_start().starts_with("GNU_STACK")).expect("GNU_STACK line");
    assert!(stack.trim_end().ends_with("RW  0x10") || !stack.contains('E'), "{stack}");
    for l in text.lines().filter(|l| l.trim_start().starts_with("LOAD")) {
        let flags: String = l.split_whitespace().skip(6).take(2).collect();
        assert!(!(flags.contains('W') && flags.contains('E')), "W+X: {l}");
    }
}

/// Every artifact ends with its signature, outside every loaded segment;
/// the loader's ELF checks accept what the writer writes.
#[test]
fn signed_and_accepted_by_the_loader_checks() {
    let bytes = std::fs::read(artifact()).unwrap();
    let len = scion::artifact::sign::signed_len(&bytes).expect("a signature trailer");
    assert_eq!(len, bytes.len() - scion::contract::artifact::SIGNATURE_LEN);
    let file = ElfFile64::<object::Endianness>::parse(&bytes[..len]).unwrap();
    let e = file.endian();
    for ph in file.elf_program_headers() {
        assert!(ph.p_offset(e) + ph.p_filesz(e) <= len as u64, "a segment covers the signature");
        if ph.p_type(e) == elf::PT_LOAD {
            assert_eq!(ph.p_offset(e), ph.p_vaddr(e), "file view and memory view differ");
        }
    }
    let layout = scion::artifact::check::check(&bytes[..len]).unwrap();
    assert_eq!(layout.segments.iter().filter(|s| s.flags & elf::PF_X != 0).count(), 1);
}
