//! Machine code of one function as text for golden files: iced-x86, Intel
//! syntax, one instruction per line.
//!
//! Offsets and in-function branch targets are relative to the function's
//! start, and anything outside the function (the trap and yield routines,
//! other functions, host adapters) is printed by name, so a function's
//! listing changes only when its own code does.

use iced_x86::{
    Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, OpKind, SymbolResolver,
    SymbolResult,
};
use scion::compiler::CompiledModule;
use std::fmt::Write;

/// Disassembles the defined function whose code starts at `start` in
/// `module.text` and is `len` bytes long (code, out-of-line stubs, then
/// its constant pool and jump tables).
pub fn function(module: &CompiledModule, start: u32, len: u32) -> String {
    let bytes = &module.text[start as usize..(start + len) as usize];
    let mut formatter =
        IntelFormatter::with_options(Some(Box::new(Names::new(module, start, len))), None);
    let o = formatter.options_mut();
    o.set_hex_prefix("0x");
    o.set_hex_suffix("");
    o.set_uppercase_hex(false);
    o.set_space_after_operand_separator(true);
    o.set_branch_leading_zeros(false);
    o.set_show_branch_size(false);
    o.set_first_operand_char_index(8);

    // Constants and jump tables follow all code and are reached only
    // rip-relative, so the lowest such target inside the function is where
    // code ends; every reference to it is decoded before it is reached.
    let mut code_end = len as u64;
    let mut insts: Vec<Instruction> = Vec::new();
    let mut decoder = Decoder::with_ip(64, bytes, 0, DecoderOptions::NONE);
    while decoder.can_decode() && decoder.ip() < code_end {
        let inst = decoder.decode();
        if inst.is_ip_rel_memory_operand() {
            let target = inst.ip_rel_memory_address();
            if target >= inst.next_ip() && target < code_end {
                code_end = target;
            }
        }
        insts.push(inst);
    }

    let mut out = String::new();
    // Alignment before the data (or the next function) is int3 padding;
    // one line for the run keeps the listing short.
    let padding_from =
        insts.iter().rposition(|i| i.mnemonic() != iced_x86::Mnemonic::Int3).map_or(0, |k| k + 1);
    let mut text = String::new();
    for inst in &insts[..padding_from] {
        text.clear();
        formatter.format(inst, &mut text);
        // A trap call's return address is its trap site: name the trap.
        let ret = start as u64 + inst.next_ip();
        if let Ok(k) = module.trap_sites.binary_search_by_key(&ret, |s| s.code_offset as u64) {
            let site = &module.trap_sites[k];
            let code =
                site.code.map_or("(code stored by the builtin)".to_string(), |c| format!("{c:?}"));
            let _ = write!(text, "  ; trap {code} at wasm {:#x}", site.wasm_offset);
        }
        let _ = writeln!(out, "{:04x}  {text}", inst.ip());
    }
    if let Some(first) = insts.get(padding_from) {
        let pad = code_end.min(len as u64) - first.ip();
        let _ = writeln!(out, "{:04x}  ; padding: int3 x {pad}", first.ip());
    }
    for (k, row) in bytes[code_end as usize..].chunks(8).enumerate() {
        let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(out, "{:04x}  ; data {}", code_end as usize + 8 * k, hex.join(" "));
    }
    out
}

/// Names for addresses outside the function being listed.
struct Names {
    /// Text-section offset of the function's first byte.
    start: u64,
    len: u64,
    /// Named ranges of the text section: start, length, name.
    ranges: Vec<(u64, u64, String)>,
}

impl Names {
    fn new(module: &CompiledModule, start: u32, len: u32) -> Names {
        let imported = module.info.imported_funcs;
        let mut ranges: Vec<(u64, u64, String)> = module
            .runtime_symbols
            .iter()
            .map(|(name, at, len)| (*at as u64, *len as u64, name.clone()))
            .collect();
        for f in &module.functions {
            let name = if f.func_index < imported {
                format!("host_adapter_f{}", f.func_index)
            } else {
                format!("f{}", f.func_index)
            };
            ranges.push((f.start as u64, f.len as u64, name));
        }
        Names { start: start as u64, len: len as u64, ranges }
    }
}

impl SymbolResolver for Names {
    fn symbol(
        &mut self,
        instruction: &Instruction,
        _operand: u32,
        instruction_operand: Option<u32>,
        address: u64,
        _address_size: u32,
    ) -> Option<SymbolResult<'_>> {
        // Only branch and call targets are addresses; displacements and
        // immediates that happen to fall in a named range are numbers.
        let kind = instruction.op_kind(instruction_operand?);
        if !matches!(kind, OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64) {
            return None;
        }
        // Addresses are relative to the function's start; inside it they
        // print as plain offsets, except a call of the function itself.
        if address < self.len
            && !(address == 0 && instruction.mnemonic() == iced_x86::Mnemonic::Call)
        {
            return None;
        }
        let absolute = self.start.wrapping_add(address);
        let (at, _, name) =
            self.ranges.iter().find(|(at, len, _)| absolute >= *at && absolute < at + len)?;
        // The symbol's address in the listing's numbering, so that iced
        // prints `name+offset` for a target inside a named range.
        Some(SymbolResult::with_string(at.wrapping_sub(self.start), name.clone()))
    }
}
