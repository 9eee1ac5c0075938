//! Emit: VCode + allocation -> x86-64 bytes in the module's text section.
//!
//! **Sandbox-critical.** This module writes the trap path, the entry
//! trampolines and the prologue stack check; their layouts are those drawn
//! in `contract::abi`.
//!
//! All functions, trampolines and host-call adapters of a module go into
//! one [`TextBuilder`], so direct calls and the shared trap routine are
//! plain rel32 branches. Each function's constant pool and jump tables
//! follow its code.
//!
//! Spilled virtual registers are read and written through the scratch
//! registers of the machine environment (`contract::abi::MACHINE`), which
//! the allocator never assigns.
//!
//! One file per job: `frame` (prologue, epilogue, calls, blocks),
//! `operands` (registers for spilled values, constants, parallel moves),
//! `inst` (one VCode instruction), `sequences` (multi-instruction wasm
//! operations), `stubs` (trap routine, trampolines, host adapters,
//! out-of-line paths).
//!
//! Requires: an allocation accepted by `regalloc::checker`.

use super::encode::{AluOp, Asm, ExtendKind, Label, LoadKind, ShiftOp, SseOp};
use super::packed::PackedOp;
use super::regs::{Amode, Cond, Gpr, Scale, Size, Xmm};
use crate::compiler::regalloc::{Allocation, Loc, LocalCopy};
use crate::compiler::unwind::{UnwindOp, UnwindRange};
use crate::compiler::vcode::*;
use crate::contract::abi::{self, ArgLoc, MACHINE, call_layout};
use crate::contract::builtins::Builtin;
use crate::contract::trap::{TrapCode, TrapSite};
use crate::contract::vmctx::{BACKTRACE_CAPACITY, VMOffsets, field, header, store};
use crate::types::{FuncType, ValType};
use std::collections::HashMap;

// Registers by role, from the machine environment.
const VMCTX: Gpr = Gpr(MACHINE.vmctx);
const HEAP: Gpr = Gpr(MACHINE.heap_base);
/// Scratch registers for spilled operands, in the order operands take them.
const SCRATCH_GPRS: [Gpr; 2] = [TMP2, TMP];
const SCRATCH_XMMS: [Xmm; 2] = [FTMP2, FTMP];
/// The scratch register code around an instruction uses (stack check,
/// interrupt flag, call targets, memory-to-memory moves): it holds a
/// reloaded operand only for instructions with two spilled operands, and
/// none of those needs it otherwise.
const TMP: Gpr = Gpr(MACHINE.scratch_gprs[1]);
/// The other scratch register: a reloaded operand, or the value parked to
/// break a cycle of parallel moves.
const TMP2: Gpr = Gpr(MACHINE.scratch_gprs[0]);
/// Float scratch registers, as `TMP` and `TMP2`.
const FTMP: Xmm = Xmm(MACHINE.scratch_xmms[1]);
const FTMP2: Xmm = Xmm(MACHINE.scratch_xmms[0]);

mod frame;
mod inst;
mod operands;
mod sequences;
pub mod simd;
mod stubs;

use stubs::YieldStub;

/// Where a function's code ended up.
#[derive(Clone, Copy, Debug)]
pub struct FunctionRange {
    /// Wasm function index.
    pub func_index: u32,
    /// Offset in the text section.
    pub start: u32,
    /// Length in bytes (code, stubs and constants).
    pub len: u32,
}

/// The text section of one module under construction.
pub struct TextBuilder {
    asm: Asm,
    /// Entry label of each defined function, by defined index.
    func_labels: Vec<Label>,
    trap_common: Label,
    /// The shared register-preserving call of the `yield_point` builtin.
    yield_common: Label,
    imported_funcs: u32,
    offsets: VMOffsets,
    /// Trap sites (offsets are return addresses of trap-stub calls).
    pub trap_sites: Vec<TrapSite>,
    /// Every emitted function.
    pub functions: Vec<FunctionRange>,
    /// Other named code (trap routine, trampolines), for symbol tables.
    pub runtime_symbols: Vec<(String, u32, u32)>,
    /// The frame changes of every range emitted so far.
    pub unwind: Vec<UnwindRange>,
    /// Where the code of each wasm instruction starts: (text offset, wasm
    /// byte offset), in text order, one entry per change.
    pub lines: Vec<(u32, u32)>,
}

impl TextBuilder {
    /// A builder for a module with `defined_funcs` function bodies.
    pub fn new(defined_funcs: u32, imported_funcs: u32, offsets: VMOffsets) -> TextBuilder {
        let mut asm = Asm::new();
        let func_labels = (0..defined_funcs).map(|_| asm.new_label()).collect();
        let trap_common = asm.new_label();
        let yield_common = asm.new_label();
        TextBuilder {
            asm,
            func_labels,
            trap_common,
            yield_common,
            imported_funcs,
            offsets,
            trap_sites: Vec::new(),
            functions: Vec::new(),
            runtime_symbols: Vec::new(),
            unwind: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// Notes that the code emitted from here on is for the wasm
    /// instruction at byte offset `wasm`.
    fn line(&mut self, wasm: u32) {
        // Code the compiler made up (moves, checks) has no offset of its
        // own: it stays with the instruction before.
        if wasm == 0 {
            return;
        }
        let at = self.asm.offset();
        match self.lines.last_mut() {
            Some(last) if last.1 == wasm => {}
            // Nothing was emitted for the previous instruction.
            Some(last) if last.0 == at => last.1 = wasm,
            _ => self.lines.push((at, wasm)),
        }
    }

    /// Starts the unwind range of code emitted from here on.
    fn begin_unwind(&mut self) {
        let start = self.asm.offset();
        self.unwind.push(UnwindRange { start, len: 0, ops: Vec::new() });
    }

    /// Records a frame change at the current offset.
    fn unwind(&mut self, op: UnwindOp) {
        let at = self.asm.offset();
        let range = self.unwind.last_mut().expect("begin_unwind first");
        range.ops.push((at - range.start, op));
    }

    /// Ends the current unwind range here.
    fn end_unwind(&mut self) {
        let end = self.asm.offset();
        let range = self.unwind.last_mut().expect("begin_unwind first");
        range.len = end - range.start;
    }

    /// `push rbp; mov rbp, rsp`, recorded.
    fn push_frame_pointer(&mut self) {
        self.asm.push(Gpr::RBP);
        self.unwind(UnwindOp::PushFramePointer);
        self.asm.mov_rr(Size::S64, Gpr::RBP, Gpr::RSP);
        self.unwind(UnwindOp::SetFramePointer);
    }

    /// Pushes `reg` in a frame-pointer frame where `saved` bytes below
    /// `rbp` are already in use; records where it went.
    fn push_saved(&mut self, reg: Gpr, saved: u32) {
        self.asm.push(reg);
        self.unwind(UnwindOp::SaveRegister { reg: reg.0, offset: 16 + saved + 8 });
    }

    /// `pop rbp; ret`, recorded.
    fn pop_frame_pointer_and_return(&mut self) {
        self.asm.pop(Gpr::RBP);
        self.unwind(UnwindOp::Leave);
        self.asm.ret();
        self.unwind(UnwindOp::Resume);
    }

    /// The current offset.
    pub fn offset(&self) -> u32 {
        self.asm.offset()
    }

    fn align(&mut self, to: u32) {
        let pad = (to - self.asm.offset() % to) % to;
        // int3 padding: falling into it stops rather than runs on.
        self.asm.put(&vec![0xCC; pad as usize]);
    }

    /// Emits `call trap_common` and records the site.
    fn trap_call(&mut self, code: Option<TrapCode>, func_index: u32, wasm_offset: u32) {
        self.asm.call_label(self.trap_common);
        self.trap_sites.push(TrapSite {
            code_offset: self.asm.offset(),
            code,
            func_index,
            wasm_offset,
        });
    }

    /// Offset of a defined function (after [`Self::emit_function`] ran for it).
    pub fn function_offset(&self, defined_index: u32) -> u32 {
        self.asm.label_offset(self.func_labels[defined_index as usize]).expect("function emitted")
    }

    /// Resolves all branches and returns the text section.
    pub fn finish(self) -> Vec<u8> {
        self.asm.finish()
    }

    /// Emits one function.
    pub fn emit_function(&mut self, vcode: &VCode, alloc: &Allocation) {
        self.align(16);
        let start = self.asm.offset();
        self.begin_unwind();
        let label = self.func_labels[(vcode.func_index - self.imported_funcs) as usize];
        self.asm.bind(label);
        self.line(vcode.body_offset);
        let mut f = FuncEmitter::new(self, vcode, alloc);
        f.prologue();
        for (pos, b) in vcode.order.iter().enumerate() {
            let after = |k: usize| vcode.order.get(pos + k).map(|n| n.0 as usize);
            f.block(b.0 as usize, after(1), after(2));
        }
        f.out_of_line();
        self.end_unwind();
        let len = self.asm.offset() - start;
        self.functions.push(FunctionRange { func_index: vcode.func_index, start, len });
    }
}

/// The integer load that reads a value of wasm type `ty` from a slot.
fn int_load(ty: ValType) -> LoadKind {
    if ty == ValType::I32 { LoadKind::U32 } else { LoadKind::U64 }
}

/// Frame layout of one function (see the picture in `contract::abi`).
struct Frame {
    /// Bytes below rbp for the saved vmctx and callee-saved registers.
    saved_bytes: i32,
    /// Total bytes below rbp, a multiple of 16.
    total: i32,
}

struct FuncEmitter<'a> {
    tb: &'a mut TextBuilder,
    vcode: &'a VCode,
    alloc: &'a Allocation,
    frame: Frame,
    block_labels: Vec<Label>,
    /// Out-of-line trap stubs: label, code, wasm offset; and the label of
    /// each (code, offset) pair.
    stubs: Vec<(Label, TrapCode, u32)>,
    stub_labels: HashMap<(TrapCode, u32), Label>,
    /// Constant pool entries: label and bytes; and the label of each
    /// constant added by the emitter.
    consts: Vec<(Label, [u8; 16])>,
    const_labels: HashMap<[u8; 16], Label>,
    /// Jump tables: label and target block labels.
    tables: Vec<(Label, Vec<Label>)>,
    /// Slow paths of check points.
    yield_stubs: Vec<YieldStub>,
    /// Spilled defs to store after the current instruction.
    pending_stores: Vec<(Loc, Gpr)>,
    pending_fstores: Vec<(Loc, Xmm)>,
    gpr_scratch_used: usize,
    xmm_scratch_used: usize,
    /// Scratch registers holding spilled operands that are only read; a
    /// def written after all reads may reuse them.
    gpr_use_scratch: Vec<Gpr>,
    xmm_use_scratch: Vec<Xmm>,
    /// The block laid out after the one being emitted (fallthrough target).
    next_block: Option<usize>,
    /// The block laid out after that one.
    next_next_block: Option<usize>,
    /// Local copies of spilled registers live at the current instruction.
    active_copies: Vec<LocalCopy>,
    /// The instruction being emitted.
    current_inst: u32,
    /// The block being emitted.
    current_block: usize,
    /// Each block's position in the layout.
    layout_pos: Vec<u32>,
    /// Blocks not emitted: edge blocks every branch now goes past.
    skipped: Vec<bool>,
    /// Number of branches into each block (the entry block counts one more).
    entries: Vec<u32>,
}

/// A resolved ALU source operand.
enum Src {
    Reg(Gpr),
    Mem(Amode),
    Imm(i32),
}
