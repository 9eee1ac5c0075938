//! Telling debuggers where plugin code is: GDB's JIT interface.
//!
//! Scion maps artifacts itself (`load.rs`), so the dynamic loader's list
//! of objects, where gdb and lldb look for shared libraries, never names
//! them. Instead every loaded artifact is announced through the interface
//! gdb and lldb define for JIT compilers: a process-wide list of
//! in-memory object files (`__jit_debug_descriptor`) and a function the
//! debugger breaks on to hear of changes (`__jit_debug_register_code`).
//! Both are weak symbols, so a host that also links another runtime
//! defining them (Wasmtime does, weakly too) gets one shared list.
//!
//! The object file announced is a *symbol file*: a small relocatable ELF
//! holding a `.text` section without contents (`SHT_NOBITS`) of the
//! code's size, and a symbol per function at its offset in that section.
//! It is written once, at compile time, into the artifact's metadata
//! region ([`symbol_file`]); a load copies it and writes the code's
//! address into the `.text` section header (debuggers take section
//! addresses in JIT objects as absolute). Perf needs none of this: it
//! names code by the file mapping it and reads the artifact's own
//! `.symtab`.

use super::elf::TextSymbol;
use object::write::{Object, Symbol, SymbolSection};
use object::{Architecture, BinaryFormat, Endianness, SymbolFlags, SymbolKind, SymbolScope};
use parking_lot::Mutex;

/// Offset of `sh_addr` in an `Elf64_Shdr`.
const SH_ADDR: usize = 16;
/// Size of an `Elf64_Shdr`.
const SHDR_LEN: usize = 64;

/// The symbol file of a text section `text_len` bytes long holding
/// `symbols`, and the offset in it of the `.text` section's address, which
/// a load sets.
pub fn symbol_file(text_len: usize, symbols: &[TextSymbol<'_>]) -> (Vec<u8>, u32) {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let text =
        obj.add_section(Vec::new(), b".text".to_vec(), object::SectionKind::UninitializedData);
    let section = obj.section_mut(text);
    section.flags = object::SectionFlags::Elf {
        sh_flags: u64::from(object::elf::SHF_ALLOC | object::elf::SHF_EXECINSTR),
    };
    section.append_bss(text_len as u64, 16);
    for s in symbols {
        // NUL ends an ELF name; these names only serve debuggers.
        let name = s.name.bytes().map(|b| if b == 0 { b'?' } else { b }).collect();
        obj.add_symbol(Symbol {
            name,
            value: u64::from(s.offset),
            size: u64::from(s.size),
            kind: SymbolKind::Text,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(text),
            flags: SymbolFlags::None,
        });
    }
    let bytes = obj.write().expect("in-memory ELF writing cannot fail");
    let at = text_addr_field(&bytes).expect("the symbol file has a .text section");
    (bytes, at as u32)
}

/// Where the `.text` section header's `sh_addr` lies in a symbol file.
fn text_addr_field(file: &[u8]) -> Option<usize> {
    use object::read::elf::{ElfFile64, FileHeader};
    use object::{Object as _, ObjectSection as _};
    let elf = ElfFile64::<Endianness>::parse(file).ok()?;
    let index = elf.section_by_name(".text")?.index().0;
    let shoff = elf.elf_header().e_shoff(Endianness::Little) as usize;
    shoff.checked_add(index.checked_mul(SHDR_LEN)?)?.checked_add(SH_ADDR)
}

// ---- The interface (see gdb's manual, "JIT Compilation Interface") ----

#[repr(C)]
struct JitCodeEntry {
    next: *mut JitCodeEntry,
    prev: *mut JitCodeEntry,
    symfile_addr: *const u8,
    symfile_size: u64,
}

#[repr(C)]
struct JitDescriptor {
    version: u32,
    action_flag: u32,
    relevant_entry: *mut JitCodeEntry,
    first_entry: *mut JitCodeEntry,
}

const JIT_REGISTER_FN: u32 = 1;
const JIT_UNREGISTER_FN: u32 = 2;

// Weak definitions (stable Rust has no weak linkage attribute): the
// descriptor starts as version 1 with an empty list, and the function
// only returns; a debugger puts its breakpoint on it.
std::arch::global_asm!(
    ".pushsection .text.__jit_debug_register_code,\"ax\",@progbits",
    ".weak __jit_debug_register_code",
    ".type __jit_debug_register_code,@function",
    "__jit_debug_register_code:",
    "ret",
    ".size __jit_debug_register_code, . - __jit_debug_register_code",
    ".popsection",
    ".pushsection .data.__jit_debug_descriptor,\"aw\",@progbits",
    ".weak __jit_debug_descriptor",
    ".type __jit_debug_descriptor,@object",
    ".balign 8",
    "__jit_debug_descriptor:",
    ".long 1",
    ".long 0",
    ".quad 0",
    ".quad 0",
    ".size __jit_debug_descriptor, 24",
    ".popsection",
);

unsafe extern "C" {
    fn __jit_debug_register_code();
    static mut __jit_debug_descriptor: JitDescriptor;
}

/// Guards the list in this process (the debugger only reads it while the
/// process is stopped in `__jit_debug_register_code` or attaching).
static LIST: Mutex<()> = Mutex::new(());

/// A symbol file on the debuggers' list; taken off when dropped.
pub struct Registration {
    entry: Box<JitCodeEntry>,
    _symfile: Box<[u8]>,
}

// SAFETY: the entry is only touched under `LIST`; the symbol file is
// immutable once registered.
unsafe impl Send for Registration {}
// SAFETY: as above; `&Registration` gives access to nothing.
unsafe impl Sync for Registration {}

impl Registration {
    /// Announces code at `text` to debuggers, with the symbol file
    /// `template` (from [`symbol_file`]) whose `.text` address field is at
    /// `addr_field`. `None` when the template is too short for the field.
    pub fn new(template: &[u8], addr_field: usize, text: usize) -> Option<Registration> {
        let mut symfile: Box<[u8]> = template.into();
        symfile
            .get_mut(addr_field..addr_field.checked_add(8)?)?
            .copy_from_slice(&(text as u64).to_le_bytes());
        let mut entry = Box::new(JitCodeEntry {
            next: std::ptr::null_mut(),
            prev: std::ptr::null_mut(),
            symfile_addr: symfile.as_ptr(),
            symfile_size: symfile.len() as u64,
        });
        let _list = LIST.lock();
        let e: *mut JitCodeEntry = &mut *entry;
        // SAFETY: the descriptor and every entry on its list are only
        // changed under `LIST`; entries stay allocated until unregistered.
        unsafe {
            let d = &raw mut __jit_debug_descriptor;
            let first = (*d).first_entry;
            (*e).next = first;
            if !first.is_null() {
                (*first).prev = e;
            }
            (*d).first_entry = e;
            (*d).relevant_entry = e;
            (*d).action_flag = JIT_REGISTER_FN;
            __jit_debug_register_code();
        }
        Some(Registration { entry, _symfile: symfile })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let _list = LIST.lock();
        let e: *mut JitCodeEntry = &mut *self.entry;
        // SAFETY: as in `new`; `e` is on the list (added there, removed
        // only here).
        unsafe {
            let d = &raw mut __jit_debug_descriptor;
            let (prev, next) = ((*e).prev, (*e).next);
            if prev.is_null() {
                (*d).first_entry = next;
            } else {
                (*prev).next = next;
            }
            if !next.is_null() {
                (*next).prev = prev;
            }
            (*d).relevant_entry = e;
            (*d).action_flag = JIT_UNREGISTER_FN;
            __jit_debug_register_code();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_files_name_functions_at_the_code_address() {
        use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
        let syms = [
            TextSymbol { name: "first", offset: 0, size: 16 },
            TextSymbol { name: "sec\0ond", offset: 16, size: 32 },
        ];
        let (template, at) = symbol_file(48, &syms);
        let r = Registration::new(&template, at as usize, 0x7000_1000).unwrap();
        let file = object::File::parse(&*r._symfile).unwrap();
        let text = file.section_by_name(".text").unwrap();
        assert_eq!((text.address(), text.size()), (0x7000_1000, 48));
        let named: Vec<_> = file
            .symbols()
            .filter_map(|s| Some((s.name().ok()?.to_string(), s.address())))
            .collect();
        assert!(named.contains(&("first".into(), 0)), "{named:?}");
        assert!(named.contains(&("sec?ond".into(), 16)), "{named:?}");
        // SAFETY: read under the list's lock; the entry is ours.
        let first = unsafe {
            let _l = LIST.lock();
            __jit_debug_descriptor.first_entry
        };
        assert!(!first.is_null());
        drop(r);
        assert!(Registration::new(&template[..8], at as usize, 0).is_none());
    }
}
