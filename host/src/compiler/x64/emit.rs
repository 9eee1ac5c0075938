//! Emit: VCode + allocation -> x86-64 bytes in the module's text section.
//!
//! **Sandbox-critical.** This file writes the trap path, the entry
//! trampolines and the prologue stack check; their layouts are those drawn
//! in `contract::abi`.
//!
//! All functions, trampolines and host-call adapters of a module go into
//! one [`TextBuilder`], so direct calls and the shared trap routine are
//! plain rel32 branches. Each function's constant pool and jump tables
//! follow its code.
//!
//! Spilled virtual registers are read and written through the scratch
//! registers r10/r11 and xmm14/xmm15, which the allocator never assigns.
//!
//! Requires: an allocation accepted by `regalloc::checker`.

use super::encode::{AluOp, Asm, ExtendKind, Label, LoadKind, ShiftOp, SseOp};
use super::regs::{Amode, Cond, Gpr, Scale, Size, Xmm};
use crate::compiler::regalloc::{Allocation, Loc};
use crate::compiler::vcode::*;
use crate::contract::abi::{self, ArgLoc, call_layout};
use crate::contract::builtins::Builtin;
use crate::contract::trap::{TrapCode, TrapSite};
use crate::contract::vmctx::{BACKTRACE_CAPACITY, VMOffsets, field, header, store};
use crate::types::{FuncType, ValType};
use std::collections::HashMap;

const VMCTX: Gpr = Gpr(abi::VMCTX_REG);
const HEAP: Gpr = Gpr(abi::HEAP_BASE_REG);
const SCRATCH_GPRS: [Gpr; 2] = [Gpr::R10, Gpr::R11];
const SCRATCH_XMMS: [Xmm; 2] = [Xmm(14), Xmm(15)];

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
    imported_funcs: u32,
    offsets: VMOffsets,
    /// Trap sites (offsets are return addresses of trap-stub calls).
    pub trap_sites: Vec<TrapSite>,
    /// Every emitted function.
    pub functions: Vec<FunctionRange>,
    /// Other named code (trap routine, trampolines), for symbol tables.
    pub runtime_symbols: Vec<(String, u32, u32)>,
}

impl TextBuilder {
    /// A builder for a module with `defined_funcs` function bodies.
    pub fn new(defined_funcs: u32, imported_funcs: u32, offsets: VMOffsets) -> TextBuilder {
        let mut asm = Asm::new();
        let func_labels = (0..defined_funcs).map(|_| asm.new_label()).collect();
        let trap_common = asm.new_label();
        TextBuilder {
            asm,
            func_labels,
            trap_common,
            imported_funcs,
            offsets,
            trap_sites: Vec::new(),
            functions: Vec::new(),
            runtime_symbols: Vec::new(),
        }
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

    /// Emits the shared trap routine: records where the trap happened and
    /// unwinds to the innermost entry trampoline (layout in `contract::abi`).
    pub fn emit_trap_common(&mut self) {
        self.align(16);
        let start = self.asm.offset();
        self.asm.bind(self.trap_common);
        let a = &mut self.asm;
        a.pop(Gpr::RAX);
        a.load(LoadKind::U64, Gpr::RCX, Amode::base_disp(VMCTX, header::STORE as i32));
        a.store(Size::S64, Amode::base_disp(Gpr::RCX, store::TRAP_PC as i32), Gpr::RAX);
        a.store(Size::S64, Amode::base_disp(Gpr::RCX, store::TRAP_FP as i32), Gpr::RBP);
        // Record return addresses up the frame-pointer chain while the
        // frames exist: rdx walks frames, rsi counts, until the chain
        // reaches the entry frame (at or above entry_sp) or the buffer fills.
        let (walk, done) = (a.new_label(), a.new_label());
        a.mov_rr(Size::S64, Gpr::RDX, Gpr::RBP);
        a.alu_rr(AluOp::Xor, Size::S32, Gpr::RSI, Gpr::RSI);
        a.bind(walk);
        a.alu_ri(AluOp::Cmp, Size::S32, Gpr::RSI, BACKTRACE_CAPACITY as i32);
        a.jcc(Cond::AE, done);
        a.alu_rm(
            AluOp::Cmp,
            Size::S64,
            Gpr::RDX,
            Amode::base_disp(Gpr::RCX, store::ENTRY_SP as i32),
        );
        a.jcc(Cond::AE, done);
        a.load(LoadKind::U64, Gpr::RAX, Amode::base_disp(Gpr::RDX, 8));
        let slot = Amode::indexed(Gpr::RCX, Gpr::RSI, Scale::Eight, store::BACKTRACE as i32);
        a.store(Size::S64, slot, Gpr::RAX);
        a.alu_ri(AluOp::Add, Size::S32, Gpr::RSI, 1);
        a.load(LoadKind::U64, Gpr::RDX, Amode::base_disp(Gpr::RDX, 0));
        a.jmp(walk);
        a.bind(done);
        a.store(Size::S64, Amode::base_disp(Gpr::RCX, store::BACKTRACE_LEN as i32), Gpr::RSI);
        a.load(LoadKind::U64, Gpr::RSP, Amode::base_disp(Gpr::RCX, store::ENTRY_SP as i32));
        // Entry frame from entry_sp: padding, values pointer, previous entry_sp.
        let prev_sp = abi::ENTRY_PREV_SP_OFFSET + abi::ENTRY_FRAME_SIZE;
        a.load(LoadKind::U64, Gpr::RAX, Amode::base_disp(Gpr::RSP, prev_sp));
        a.store(Size::S64, Amode::base_disp(Gpr::RCX, store::ENTRY_SP as i32), Gpr::RAX);
        a.alu_ri(AluOp::Add, Size::S64, Gpr::RSP, prev_sp + 8);
        for &r in abi::ENTRY_SAVED_GPRS.iter().rev() {
            a.pop(Gpr(r));
        }
        a.pop(Gpr::RBP);
        a.mov_ri(Size::S32, Gpr::RAX, abi::TRAP_STATUS as u64);
        a.ret();
        let len = self.asm.offset() - start;
        self.runtime_symbols.push(("scion_trap".into(), start, len));
    }

    /// Emits the entry trampoline for a signature and returns its offset.
    /// Native signature: [`abi::EntryFn`].
    pub fn emit_entry_trampoline(&mut self, sig: &FuncType) -> u32 {
        self.align(16);
        let start = self.asm.offset();
        let layout = call_layout(&sig.params, &sig.results);
        let a = &mut self.asm;
        a.push(Gpr::RBP);
        a.mov_rr(Size::S64, Gpr::RBP, Gpr::RSP);
        for &r in &abi::ENTRY_SAVED_GPRS {
            a.push(Gpr(r));
        }
        a.mov_rr(Size::S64, VMCTX, Gpr::RDI);
        a.load(LoadKind::U64, Gpr::RAX, Amode::base_disp(VMCTX, header::STORE as i32));
        a.push_m(Amode::base_disp(Gpr::RAX, store::ENTRY_SP as i32));
        a.push(Gpr::RDX);
        a.alu_ri(AluOp::Sub, Size::S64, Gpr::RSP, 8);
        a.store(Size::S64, Amode::base_disp(Gpr::RAX, store::ENTRY_SP as i32), Gpr::RSP);
        a.load(LoadKind::U64, HEAP, Amode::base_disp(VMCTX, header::HEAP_BASE as i32));
        if layout.stack_bytes > 0 {
            a.alu_ri(AluOp::Sub, Size::S64, Gpr::RSP, layout.stack_bytes as i32);
        }
        a.mov_rr(Size::S64, Gpr::R11, Gpr::RSI);
        a.mov_rr(Size::S64, Gpr::R10, Gpr::RDX);
        let slot = |i: usize| Amode::base_disp(Gpr::R10, (i as u32 * abi::VALUE_SLOT_SIZE) as i32);
        for (i, (&ty, loc)) in sig.params.iter().zip(&layout.params).enumerate() {
            match *loc {
                ArgLoc::Gpr(g) => a.load(int_load(ty), Gpr(g), slot(i)),
                ArgLoc::Xmm(x) => a.load_f(ty == ValType::F64, Xmm(x), slot(i)),
                ArgLoc::Stack(off) => {
                    a.load(LoadKind::U64, Gpr::RAX, slot(i));
                    a.store(Size::S64, Amode::base_disp(Gpr::RSP, off as i32), Gpr::RAX);
                }
            }
        }
        a.call_r(Gpr::R11);
        a.load(LoadKind::U64, Gpr::R10, Amode::base_disp(Gpr::RBP, abi::ENTRY_VALUES_OFFSET));
        for (i, (&ty, loc)) in sig.results.iter().zip(&layout.results).enumerate() {
            match *loc {
                ArgLoc::Gpr(g) => a.store(Size::S64, slot(i), Gpr(g)),
                ArgLoc::Xmm(x) => a.store_f(ty == ValType::F64, slot(i), Xmm(x)),
                ArgLoc::Stack(off) => {
                    // r11, not rax: rax may hold a register result.
                    let at = Amode::base_disp(Gpr::RSP, off as i32);
                    a.load(LoadKind::U64, Gpr::R11, at);
                    a.store(Size::S64, slot(i), Gpr::R11);
                }
            }
        }
        a.load(LoadKind::U64, Gpr::RAX, Amode::base_disp(VMCTX, header::STORE as i32));
        a.load(LoadKind::U64, Gpr::RCX, Amode::base_disp(Gpr::RBP, abi::ENTRY_PREV_SP_OFFSET));
        a.store(Size::S64, Amode::base_disp(Gpr::RAX, store::ENTRY_SP as i32), Gpr::RCX);
        a.lea(
            Size::S64,
            Gpr::RSP,
            Amode::base_disp(Gpr::RBP, -(8 * abi::ENTRY_SAVED_GPRS.len() as i32)),
        );
        for &r in abi::ENTRY_SAVED_GPRS.iter().rev() {
            a.pop(Gpr(r));
        }
        a.pop(Gpr::RBP);
        a.mov_ri(Size::S32, Gpr::RAX, abi::OK_STATUS as u64);
        a.ret();
        let len = self.asm.offset() - start;
        self.runtime_symbols.push((format!("scion_entry {sig}"), start, len));
        start
    }

    /// Emits the adapter through which wasm calls host function import
    /// `import`: it follows the wasm convention, spills the arguments into
    /// a values array and calls the `host_call` builtin. Returns its offset.
    pub fn emit_host_adapter(&mut self, import: u32, sig: &FuncType) -> u32 {
        self.align(16);
        let start = self.asm.offset();
        let layout = call_layout(&sig.params, &sig.results);
        let slots = sig.params.len().max(sig.results.len()) as u32;
        let area = (slots * abi::VALUE_SLOT_SIZE).div_ceil(16) * 16;
        let a = &mut self.asm;
        a.push(Gpr::RBP);
        a.mov_rr(Size::S64, Gpr::RBP, Gpr::RSP);
        a.push(VMCTX);
        a.alu_ri(AluOp::Sub, Size::S64, Gpr::RSP, area as i32 + 8);
        let slot = |i: usize| Amode::base_disp(Gpr::RSP, (i as u32 * abi::VALUE_SLOT_SIZE) as i32);
        let stack_param =
            |off: u32| Amode::base_disp(Gpr::RBP, abi::FRAME_PARAMS_OFFSET + off as i32);
        for (i, (&ty, loc)) in sig.params.iter().zip(&layout.params).enumerate() {
            match *loc {
                ArgLoc::Gpr(g) => a.store(Size::S64, slot(i), Gpr(g)),
                ArgLoc::Xmm(x) => a.store_f(ty == ValType::F64, slot(i), Xmm(x)),
                ArgLoc::Stack(off) => {
                    a.load(LoadKind::U64, Gpr::RAX, stack_param(off));
                    a.store(Size::S64, slot(i), Gpr::RAX);
                }
            }
        }
        a.mov_rr(Size::S64, Gpr::RDI, VMCTX);
        a.mov_ri(Size::S32, Gpr::RSI, import as u64);
        a.mov_rr(Size::S64, Gpr::RDX, Gpr::RSP);
        a.load(LoadKind::U64, Gpr::R11, Amode::base_disp(VMCTX, header::BUILTINS as i32));
        a.call_m(Amode::base_disp(Gpr::R11, Builtin::HostCall.table_offset() as i32));
        a.test_rr(Size::S32, Gpr::RAX, Gpr::RAX);
        let ok = a.new_label();
        a.jcc(Cond::E, ok);
        self.trap_call(None, import, 0);
        let a = &mut self.asm;
        a.bind(ok);
        for (i, (&ty, loc)) in sig.results.iter().zip(&layout.results).enumerate() {
            match *loc {
                ArgLoc::Gpr(g) => a.load(int_load(ty), Gpr(g), slot(i)),
                ArgLoc::Xmm(x) => a.load_f(ty == ValType::F64, Xmm(x), slot(i)),
                ArgLoc::Stack(off) => {
                    a.load(LoadKind::U64, Gpr::R11, slot(i));
                    a.store(Size::S64, stack_param(off), Gpr::R11);
                }
            }
        }
        a.lea(Size::S64, Gpr::RSP, Amode::base_disp(Gpr::RBP, abi::FRAME_VMCTX_OFFSET));
        a.pop(VMCTX);
        a.pop(Gpr::RBP);
        a.ret();
        self.functions.push(FunctionRange {
            func_index: import,
            start,
            len: self.asm.offset() - start,
        });
        start
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
        let label = self.func_labels[(vcode.func_index - self.imported_funcs) as usize];
        self.asm.bind(label);
        let mut f = FuncEmitter::new(self, vcode, alloc);
        f.prologue();
        for (pos, b) in vcode.order.iter().enumerate() {
            f.block(b.0 as usize, vcode.order.get(pos + 1).map(|n| n.0 as usize));
        }
        f.out_of_line();
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
}

impl<'a> FuncEmitter<'a> {
    fn new(tb: &'a mut TextBuilder, vcode: &'a VCode, alloc: &'a Allocation) -> Self {
        let saved_bytes = 8 + 8 * alloc.callee_saved.len() as i32;
        let raw = saved_bytes + 8 * alloc.num_slots as i32 + vcode.outgoing_bytes as i32;
        let total = (raw + 15) / 16 * 16;
        let block_labels = (0..vcode.blocks.len()).map(|_| tb.asm.new_label()).collect();
        let consts: Vec<(Label, [u8; 16])> =
            vcode.constants.iter().map(|c| (tb.asm.new_label(), c.0)).collect();
        // The VCode's pool (referenced by index) comes first; constants the
        // emitter asks for reuse its first equal entry.
        let mut const_labels = HashMap::new();
        for &(l, b) in &consts {
            const_labels.entry(b).or_insert(l);
        }
        FuncEmitter {
            tb,
            vcode,
            alloc,
            frame: Frame { saved_bytes, total },
            block_labels,
            stubs: Vec::new(),
            stub_labels: HashMap::new(),
            consts,
            const_labels,
            tables: Vec::new(),
            yield_stubs: Vec::new(),
            pending_stores: Vec::new(),
            pending_fstores: Vec::new(),
            gpr_scratch_used: 0,
            xmm_scratch_used: 0,
            gpr_use_scratch: Vec::new(),
            xmm_use_scratch: Vec::new(),
            next_block: None,
        }
    }

    fn asm(&mut self) -> &mut Asm {
        &mut self.tb.asm
    }

    fn slot(&self, n: u32) -> Amode {
        Amode::base_disp(Gpr::RBP, -(self.frame.saved_bytes + 8 * (n as i32 + 1)))
    }

    fn prologue(&mut self) {
        let total = self.frame.total;
        let body_offset = self.vcode.body_offset;
        let a = self.asm();
        a.push(Gpr::RBP);
        a.mov_rr(Size::S64, Gpr::RBP, Gpr::RSP);
        a.push(VMCTX);
        // Stack check: trap if the frame would go below the store's limit.
        a.load(LoadKind::U64, Gpr::R11, Amode::base_disp(VMCTX, header::STORE as i32));
        a.load(LoadKind::U64, Gpr::R11, Amode::base_disp(Gpr::R11, store::STACK_LIMIT as i32));
        a.alu_ri(AluOp::Add, Size::S64, Gpr::R11, total);
        a.alu_rr(AluOp::Cmp, Size::S64, Gpr::RSP, Gpr::R11);
        self.trap_if(Cond::B, TrapCode::StackOverflow, body_offset);
        let saved: Vec<Gpr> = self.alloc.callee_saved.clone();
        let rest = total - self.frame.saved_bytes;
        let a = self.asm();
        for r in saved {
            a.push(r);
        }
        if rest > 0 {
            a.alu_ri(AluOp::Sub, Size::S64, Gpr::RSP, rest);
        }
    }

    fn epilogue(&mut self) {
        let saved: Vec<Gpr> = self.alloc.callee_saved.clone();
        let saved_bytes = self.frame.saved_bytes;
        let a = self.asm();
        a.lea(Size::S64, Gpr::RSP, Amode::base_disp(Gpr::RBP, -saved_bytes));
        for &r in saved.iter().rev() {
            a.pop(r);
        }
        a.pop(VMCTX);
        a.pop(Gpr::RBP);
        a.ret();
    }

    /// A conditional branch to an out-of-line trap stub.
    fn trap_if(&mut self, cond: Cond, code: TrapCode, srcloc: u32) {
        let stub = match self.stub_labels.get(&(code, srcloc)) {
            Some(&l) => l,
            None => {
                let l = self.tb.asm.new_label();
                self.stubs.push((l, code, srcloc));
                self.stub_labels.insert((code, srcloc), l);
                l
            }
        };
        self.asm().jcc(cond, stub);
    }

    fn trap_now(&mut self, code: Option<TrapCode>, srcloc: u32) {
        let func = self.vcode.func_index;
        self.tb.trap_call(code, func, srcloc);
    }

    fn constant(&mut self, bytes: [u8; 16]) -> Label {
        if let Some(&l) = self.const_labels.get(&bytes) {
            return l;
        }
        let l = self.tb.asm.new_label();
        self.consts.push((l, bytes));
        self.const_labels.insert(bytes, l);
        l
    }

    /// A float constant in the precision of the operation.
    fn fconst(&mut self, double: bool, value: f64) -> Label {
        let mut bytes = [0u8; 16];
        if double {
            bytes[..8].copy_from_slice(&value.to_bits().to_le_bytes());
        } else {
            bytes[..4].copy_from_slice(&(value as f32).to_bits().to_le_bytes());
        }
        self.constant(bytes)
    }

    fn out_of_line(&mut self) {
        for stub in std::mem::take(&mut self.yield_stubs) {
            self.yield_stub(stub);
        }
        for (label, code, srcloc) in std::mem::take(&mut self.stubs) {
            self.tb.asm.bind(label);
            self.trap_now(Some(code), srcloc);
        }
        self.tb.align(16);
        for (label, bytes) in std::mem::take(&mut self.consts) {
            self.tb.asm.bind(label);
            self.tb.asm.put(&bytes);
        }
        for (label, targets) in std::mem::take(&mut self.tables) {
            self.tb.align(8);
            self.tb.asm.bind(label);
            let base = self.tb.asm.offset();
            for t in targets {
                let target = self.tb.asm.label_offset(t).expect("blocks are bound");
                let rel = target as i64 - base as i64;
                self.tb.asm.put(&rel.to_le_bytes());
            }
        }
    }

    // ---- operand resolution ----

    /// A fresh scratch GPR; with `reuse`, one holding a read-only operand
    /// when none is free (only for defs written after every read).
    fn scratch_gpr(&mut self, reuse: bool) -> Gpr {
        if self.gpr_scratch_used < SCRATCH_GPRS.len() {
            self.gpr_scratch_used += 1;
            return SCRATCH_GPRS[self.gpr_scratch_used - 1];
        }
        match self.gpr_use_scratch.pop() {
            Some(g) if reuse => g,
            _ => panic!("instruction needs more than two spilled GPR operands in registers"),
        }
    }

    fn scratch_xmm(&mut self, reuse: bool) -> Xmm {
        if self.xmm_scratch_used < SCRATCH_XMMS.len() {
            self.xmm_scratch_used += 1;
            return SCRATCH_XMMS[self.xmm_scratch_used - 1];
        }
        match self.xmm_use_scratch.pop() {
            Some(x) if reuse => x,
            _ => panic!("instruction needs more than two spilled XMM operands in registers"),
        }
    }

    fn reload_gpr(&mut self, n: u32) -> Gpr {
        let s = self.scratch_gpr(false);
        let m = self.slot(n);
        self.asm().load(LoadKind::U64, s, m);
        s
    }

    fn reload_xmm(&mut self, n: u32) -> Xmm {
        let s = self.scratch_xmm(false);
        let m = self.slot(n);
        self.asm().load_f(true, s, m);
        s
    }

    /// A GPR holding `r`'s value (reloaded into scratch when spilled).
    fn use_gpr(&mut self, r: Reg) -> Gpr {
        match self.alloc.loc(r) {
            Loc::Reg(p) => p.as_gpr().expect("GPR operand"),
            Loc::Stack(n) => {
                let s = self.reload_gpr(n);
                self.gpr_use_scratch.push(s);
                s
            }
            Loc::None => panic!("{r:?} has no location"),
        }
    }

    /// A GPR to write `r` into after all operands are read (stored back
    /// after the instruction when spilled).
    fn def_gpr(&mut self, r: Reg) -> Gpr {
        self.def_gpr_at(r, true)
    }

    /// A GPR written before the operands are read (an `EarlyDef`).
    fn early_def_gpr(&mut self, r: Reg) -> Gpr {
        self.def_gpr_at(r, false)
    }

    fn def_gpr_at(&mut self, r: Reg, late: bool) -> Gpr {
        match self.alloc.loc(r) {
            Loc::Reg(p) => p.as_gpr().expect("GPR operand"),
            loc => {
                let s = self.scratch_gpr(late);
                self.pending_stores.push((loc, s));
                s
            }
        }
    }

    /// A GPR that is read and written.
    fn mod_gpr(&mut self, r: Reg) -> Gpr {
        match self.alloc.loc(r) {
            Loc::Stack(n) => {
                let g = self.reload_gpr(n);
                self.pending_stores.push((Loc::Stack(n), g));
                g
            }
            _ => self.use_gpr(r),
        }
    }

    fn use_xmm(&mut self, r: Reg) -> Xmm {
        match self.alloc.loc(r) {
            Loc::Reg(p) => p.as_xmm().expect("XMM operand"),
            Loc::Stack(n) => {
                let s = self.reload_xmm(n);
                self.xmm_use_scratch.push(s);
                s
            }
            Loc::None => panic!("{r:?} has no location"),
        }
    }

    fn def_xmm(&mut self, r: Reg) -> Xmm {
        self.def_xmm_at(r, true)
    }

    fn early_def_xmm(&mut self, r: Reg) -> Xmm {
        self.def_xmm_at(r, false)
    }

    fn def_xmm_at(&mut self, r: Reg, late: bool) -> Xmm {
        match self.alloc.loc(r) {
            Loc::Reg(p) => p.as_xmm().expect("XMM operand"),
            loc => {
                let s = self.scratch_xmm(late);
                self.pending_fstores.push((loc, s));
                s
            }
        }
    }

    fn mod_xmm(&mut self, r: Reg) -> Xmm {
        match self.alloc.loc(r) {
            Loc::Stack(n) => {
                let x = self.reload_xmm(n);
                self.pending_fstores.push((Loc::Stack(n), x));
                x
            }
            _ => self.use_xmm(r),
        }
    }

    fn amode(&mut self, m: &MemAddr) -> Amode {
        let base = self.use_gpr(m.base);
        let index = m.index.map(|(i, s)| (self.use_gpr(i), s));
        Amode { base, index, disp: m.disp }
    }

    /// Finishes an instruction: stores spilled defs, frees scratch.
    fn done(&mut self) {
        for (loc, g) in std::mem::take(&mut self.pending_stores) {
            if let Loc::Stack(n) = loc {
                let m = self.slot(n);
                self.asm().store(Size::S64, m, g);
            }
        }
        for (loc, x) in std::mem::take(&mut self.pending_fstores) {
            if let Loc::Stack(n) = loc {
                let m = self.slot(n);
                self.asm().store_f(true, m, x);
            }
        }
        self.gpr_scratch_used = 0;
        self.xmm_scratch_used = 0;
        self.gpr_use_scratch.clear();
        self.xmm_use_scratch.clear();
    }

    /// The source operand of an ALU instruction; spilled registers become
    /// memory operands.
    fn alu_src(&mut self, src: &RegMemImm) -> Src {
        match *src {
            RegMemImm::Imm(i) => Src::Imm(i),
            RegMemImm::Mem(ref m) => Src::Mem(self.amode(m)),
            RegMemImm::Reg(r) => match self.alloc.loc(r) {
                Loc::Stack(n) => Src::Mem(self.slot(n)),
                _ => Src::Reg(self.use_gpr(r)),
            },
        }
    }

    // ---- blocks and instructions ----

    fn block(&mut self, b: usize, next: Option<usize>) {
        self.next_block = next;
        let l = self.block_labels[b];
        self.tb.asm.bind(l);
        let blk = &self.vcode.blocks[b];
        for i in blk.start..blk.end {
            let inst = &self.vcode.insts[i as usize];
            self.inst(inst, self.vcode.srclocs[i as usize]);
            self.done();
        }
    }

    fn next_block(&self) -> Option<usize> {
        self.next_block
    }

    fn jump_to(&mut self, target: VBlock) {
        if self.next_block() != Some(target.0 as usize) {
            let l = self.block_labels[target.0 as usize];
            self.asm().jmp(l);
        }
    }

    fn inst(&mut self, inst: &MInst, srcloc: u32) {
        match *inst {
            MInst::Mov { size, dst, src } => {
                let s = self.use_gpr(src);
                let d = self.def_gpr(dst);
                if s != d || size != Size::S64 {
                    self.asm().mov_rr(size, d, s);
                }
            }
            MInst::MovImm { size, dst, imm } => {
                let d = self.def_gpr(dst);
                self.asm().mov_ri(size, d, imm);
            }
            MInst::FMov { dst, src } => {
                let s = self.use_xmm(src);
                let d = self.def_xmm(dst);
                if s != d {
                    self.asm().movaps(d, s);
                }
            }
            MInst::FConst { double, dst, bits } => {
                let d = self.def_xmm(dst);
                if bits == 0 {
                    self.asm().sse_rr(SseOp::Xorps, d, d);
                } else {
                    let l = self.fbits(double, bits);
                    self.asm().load_f_rip(double, d, l);
                }
            }
            MInst::MovToXmm { size, dst, src } => {
                let s = self.use_gpr(src);
                let d = self.def_xmm(dst);
                self.asm().movd_to_xmm(size, d, s);
            }
            MInst::MovFromXmm { size, dst, src } => {
                let s = self.use_xmm(src);
                let d = self.def_gpr(dst);
                self.asm().movd_from_xmm(size, d, s);
            }
            MInst::Alu { op, size, dst, ref src } => {
                let d = if op == AluOp::Cmp { self.use_gpr(dst) } else { self.mod_gpr(dst) };
                match self.alu_src(src) {
                    Src::Reg(s) => self.asm().alu_rr(op, size, d, s),
                    Src::Mem(m) => self.asm().alu_rm(op, size, d, m),
                    Src::Imm(i) => self.asm().alu_ri(op, size, d, i),
                }
            }
            MInst::Cmp { size, a, ref src } => {
                let ra = self.use_gpr(a);
                match self.alu_src(src) {
                    Src::Reg(s) => self.asm().alu_rr(AluOp::Cmp, size, ra, s),
                    Src::Mem(m) => self.asm().alu_rm(AluOp::Cmp, size, ra, m),
                    Src::Imm(i) => self.asm().alu_ri(AluOp::Cmp, size, ra, i),
                }
            }
            MInst::Test { size, a, src } => {
                let ra = self.use_gpr(a);
                let rs = if src == a { ra } else { self.use_gpr(src) };
                self.asm().test_rr(size, ra, rs);
            }
            MInst::Imul { size, dst, ref src } => {
                let d = self.mod_gpr(dst);
                match self.alu_src(src) {
                    Src::Reg(s) => self.asm().imul_rr(size, d, s),
                    Src::Mem(m) => self.asm().imul_rm(size, d, m),
                    Src::Imm(i) => self.asm().imul_rri(size, d, d, i),
                }
            }
            MInst::ImulImm { size, dst, src, imm } => {
                let s = self.use_gpr(src);
                let d = self.def_gpr(dst);
                self.asm().imul_rri(size, d, s, imm);
            }
            MInst::Shift { op, size, dst, imm } => {
                let d = self.mod_gpr(dst);
                match imm {
                    Some(0) => {
                        // A zero count leaves the value unchanged, but a
                        // 32-bit operation must still clear the upper half.
                        if size == Size::S32 {
                            self.asm().mov_rr(Size::S32, d, d);
                        }
                    }
                    Some(n) => self.asm().shift_ri(op, size, d, n),
                    None => self.asm().shift_cl(op, size, d),
                }
            }
            MInst::Neg { size, dst } => {
                let d = self.mod_gpr(dst);
                self.asm().neg(size, d);
            }
            MInst::Not { size, dst } => {
                let d = self.mod_gpr(dst);
                self.asm().not(size, d);
            }
            MInst::Div { kind, size, divisor, check_zero, check_overflow, srcloc } => {
                self.div(kind, size, divisor, check_zero, check_overflow, srcloc)
            }
            MInst::BitCount { op, size, dst, src } => {
                let s = self.use_gpr(src);
                let d = self.def_gpr(dst);
                self.asm().bit_count(op, size, d, s);
            }
            MInst::Extend { kind, dst, src } => {
                let s = self.use_gpr(src);
                let d = self.def_gpr(dst);
                self.asm().extend_rr(kind, d, s);
            }
            MInst::Setcc { cond, dst } => {
                let d = self.def_gpr(dst);
                let a = self.asm();
                a.setcc(cond, d);
                a.extend_rr(ExtendKind::U8To32, d, d);
            }
            MInst::SetFloatEq { negate, dst, tmp } => {
                let t = self.early_def_gpr(tmp);
                let d = self.def_gpr(dst);
                let a = self.asm();
                if negate {
                    a.setcc(Cond::NE, d);
                    a.setcc(Cond::P, t);
                    a.alu_rr(AluOp::Or, Size::S8, d, t);
                } else {
                    a.setcc(Cond::E, d);
                    a.setcc(Cond::NP, t);
                    a.alu_rr(AluOp::And, Size::S8, d, t);
                }
                a.extend_rr(ExtendKind::U8To32, d, d);
            }
            MInst::Cmov { cond, size, dst, src } => {
                let s = self.use_gpr(src);
                let d = self.mod_gpr(dst);
                // A 32-bit cmov zero-extends even when not taken: keep S64
                // for i32 values, which are already zero-extended.
                let _ = size;
                self.asm().cmov(cond, Size::S64, d, s);
            }
            MInst::FCmov { cond, dst, src } => {
                let s = self.use_xmm(src);
                let d = self.mod_xmm(dst);
                let a = self.asm();
                let skip = a.new_label();
                a.jcc(cond.invert(), skip);
                a.movaps(d, s);
                a.bind(skip);
            }
            MInst::Lea { size, dst, ref addr } => {
                let m = self.amode(addr);
                let d = self.def_gpr(dst);
                self.asm().lea(size, d, m);
            }
            MInst::Load { kind, dst, ref addr } => {
                let m = self.amode(addr);
                let d = self.def_gpr(dst);
                self.asm().load(kind, d, m);
            }
            MInst::Store { size, ref addr, src } => {
                let m = self.amode(addr);
                let s = self.use_gpr(src);
                self.asm().store(size, m, s);
            }
            MInst::FLoad { double, dst, ref addr } => {
                let m = self.amode(addr);
                let d = self.def_xmm(dst);
                self.asm().load_f(double, d, m);
            }
            MInst::FStore { double, ref addr, src } => {
                let m = self.amode(addr);
                let s = self.use_xmm(src);
                self.asm().store_f(double, m, s);
            }
            MInst::Sse { op, dst, src } => {
                let s = self.use_xmm(src);
                let unary =
                    matches!(op, SseOp::Sqrtss | SseOp::Sqrtsd | SseOp::Cvtss2sd | SseOp::Cvtsd2ss);
                let d = if unary { self.def_xmm(dst) } else { self.mod_xmm(dst) };
                self.asm().sse_rr(op, d, s);
            }
            MInst::SseConst { op, dst, constant } => {
                let d = self.mod_xmm(dst);
                let l = self.consts[constant.0 as usize].0;
                self.asm().sse_rip(op, d, l);
            }
            MInst::Ucomis { double, a, b } => {
                let ra = self.use_xmm(a);
                let rb = self.use_xmm(b);
                let op = if double { SseOp::Ucomisd } else { SseOp::Ucomiss };
                self.asm().sse_rr(op, ra, rb);
            }
            MInst::FMinMax { is_max, double, dst, src } => self.min_max(is_max, double, dst, src),
            MInst::Round { double, dst, src, mode } => {
                let s = self.use_xmm(src);
                let d = self.def_xmm(dst);
                self.asm().round(double, d, s, mode);
            }
            MInst::IntToFloat { double, int_size, dst, src, tmps } => {
                self.int_to_float(double, int_size, dst, src, tmps)
            }
            MInst::FloatToInt { kind, double, int_size, dst, src, tmp, srcloc } => {
                self.float_to_int(kind, double, int_size, dst, src, tmp, srcloc)
            }
            MInst::FCopysign { double, dst, src, tmp } => {
                let s = self.use_xmm(src);
                let t = self.early_def_xmm(tmp);
                let d = self.mod_xmm(dst);
                let (sign, magnitude) = if double {
                    (1u64 << 63, !(1u64 << 63))
                } else {
                    (1u64 << 31, (!(1u32 << 31)) as u64)
                };
                let sign = self.fbits(double, sign);
                let magnitude = self.fbits(double, magnitude);
                let (and, or) =
                    if double { (SseOp::Andpd, SseOp::Orpd) } else { (SseOp::Andps, SseOp::Orps) };
                let a = self.asm();
                a.movaps(t, s);
                a.sse_rip(and, t, sign);
                a.sse_rip(and, d, magnitude);
                a.sse_rr(or, d, t);
            }
            MInst::TrapIf { cond, code, srcloc } => self.trap_if(cond, code, srcloc),
            MInst::TrapIfUnordered { code, srcloc } => self.trap_if(Cond::P, code, srcloc),
            MInst::TrapIfStatus { status, srcloc } => {
                let s = self.use_gpr(status);
                self.asm().test_rr(Size::S32, s, s);
                let ok = self.tb.asm.new_label();
                self.asm().jcc(Cond::E, ok);
                self.trap_now(None, srcloc);
                self.asm().bind(ok);
            }
            MInst::Trap { code, srcloc } => self.trap_now(Some(code), srcloc),
            MInst::CheckPoint { fuel, interrupt, srcloc } => {
                let fuel = fuel.map(|f| self.mod_gpr(f));
                let (stub, resume) = (self.tb.asm.new_label(), self.tb.asm.new_label());
                let a = self.asm();
                if let Some(f) = fuel {
                    // The counter is "consumed minus granted": done at >= 0.
                    a.test_rr(Size::S64, f, f);
                    a.jcc(Cond::NS, stub);
                }
                if interrupt {
                    a.load(LoadKind::U64, Gpr::R11, Amode::base_disp(VMCTX, header::STORE as i32));
                    a.alu_mi(
                        AluOp::Cmp,
                        Size::S32,
                        Amode::base_disp(Gpr::R11, store::INTERRUPT as i32),
                        0,
                    );
                    a.jcc(Cond::NE, stub);
                }
                a.bind(resume);
                self.yield_stubs.push(YieldStub { stub, resume, fuel, srcloc });
            }
            MInst::Call { ref target, .. } => self.call(target),
            MInst::OutgoingArgs { .. } | MInst::Params { .. } => {}
            MInst::StoreArg { offset, src, float } => {
                let m = Amode::base_disp(Gpr::RSP, offset as i32);
                self.store_value(m, src, float);
            }
            MInst::LoadRet { offset, dst, float } => {
                let m = Amode::base_disp(Gpr::RSP, offset as i32);
                self.load_value(m, dst, float);
            }
            MInst::LoadParam { offset, dst, float } => {
                let m = Amode::base_disp(Gpr::RBP, abi::FRAME_PARAMS_OFFSET + offset as i32);
                self.load_value(m, dst, float);
            }
            MInst::StoreRet { offset, src, float } => {
                let m = Amode::base_disp(Gpr::RBP, abi::FRAME_PARAMS_OFFSET + offset as i32);
                self.store_value(m, src, float);
            }
            MInst::GetVmctx { dst } => {
                let d = self.def_gpr(dst);
                self.asm().mov_rr(Size::S64, d, VMCTX);
            }
            MInst::Jmp { target, ref args } => {
                let params = self.vcode.blocks[target.0 as usize].params.clone();
                let moves: Vec<(Reg, Reg)> = params.into_iter().zip(args.iter().copied()).collect();
                self.parallel_moves(&moves);
                self.jump_to(target);
            }
            MInst::Jcc { cond, taken, not_taken } => {
                let (lt, ln) =
                    (self.block_labels[taken.0 as usize], self.block_labels[not_taken.0 as usize]);
                let next = self.next_block();
                if next == Some(taken.0 as usize) {
                    self.asm().jcc(cond.invert(), ln);
                } else {
                    self.asm().jcc(cond, lt);
                    self.jump_to(not_taken);
                }
            }
            MInst::JccFloatEq { negate, taken, not_taken } => {
                let (lt, ln) =
                    (self.block_labels[taken.0 as usize], self.block_labels[not_taken.0 as usize]);
                // Equal means ZF=1 and PF=0; unordered sets PF.
                let (on_eq, on_ne) = if negate { (ln, lt) } else { (lt, ln) };
                let a = self.asm();
                a.jcc(Cond::P, on_ne);
                a.jcc(Cond::E, on_eq);
                a.jmp(on_ne);
            }
            MInst::JmpTable { index, tmp, ref targets, default } => {
                let i = self.use_gpr(index);
                let t = self.early_def_gpr(tmp);
                let table = self.tb.asm.new_label();
                let labels: Vec<Label> =
                    targets.iter().map(|b| self.block_labels[b.0 as usize]).collect();
                let ld = self.block_labels[default.0 as usize];
                self.tables.push((table, labels));
                let n = targets.len() as i32;
                let a = self.asm();
                a.alu_ri(AluOp::Cmp, Size::S32, i, n);
                a.jcc(Cond::AE, ld);
                a.lea_rip(t, table);
                a.alu_rm(AluOp::Add, Size::S64, t, Amode::indexed(t, i, Scale::Eight, 0));
                a.jmp_r(t);
                // The pending store of a spilled `tmp` would be dead code.
                self.pending_stores.clear();
            }
            MInst::Ret { .. } => self.epilogue(),
        }
        let _ = srcloc;
    }

    fn fbits(&mut self, double: bool, bits: u64) -> Label {
        let mut bytes = [0u8; 16];
        if double {
            bytes[..8].copy_from_slice(&bits.to_le_bytes());
        } else {
            bytes[..4].copy_from_slice(&(bits as u32).to_le_bytes());
        }
        self.constant(bytes)
    }

    fn store_value(&mut self, m: Amode, src: Reg, float: bool) {
        if float {
            let s = self.use_xmm(src);
            self.asm().store_f(true, m, s);
        } else {
            let s = self.use_gpr(src);
            self.asm().store(Size::S64, m, s);
        }
    }

    fn load_value(&mut self, m: Amode, dst: Reg, float: bool) {
        if float {
            let d = self.def_xmm(dst);
            self.asm().load_f(true, d, m);
        } else {
            let d = self.def_gpr(dst);
            self.asm().load(LoadKind::U64, d, m);
        }
    }

    fn call(&mut self, target: &CallTarget) {
        let restore = |a: &mut Asm| {
            a.load(LoadKind::U64, VMCTX, Amode::base_disp(Gpr::RBP, abi::FRAME_VMCTX_OFFSET));
            a.load(LoadKind::U64, HEAP, Amode::base_disp(VMCTX, header::HEAP_BASE as i32));
        };
        match *target {
            CallTarget::Defined(f) => {
                let l = self.tb.func_labels[(f - self.tb.imported_funcs) as usize];
                self.asm().call_label(l);
            }
            CallTarget::Import(f) => {
                let at = self.tb.offsets.func_import(f) as i32;
                let a = self.asm();
                a.load(
                    LoadKind::U64,
                    Gpr::R11,
                    Amode::base_disp(VMCTX, at + field::IMPORT_WASM_CALL as i32),
                );
                a.load(
                    LoadKind::U64,
                    VMCTX,
                    Amode::base_disp(VMCTX, at + field::IMPORT_VMCTX as i32),
                );
                a.load(LoadKind::U64, HEAP, Amode::base_disp(VMCTX, header::HEAP_BASE as i32));
                a.call_r(Gpr::R11);
                restore(a);
            }
            CallTarget::FuncRef(r) => {
                let f = self.use_gpr(r);
                debug_assert!(f != VMCTX && f != HEAP && f != Gpr::R11);
                let a = self.asm();
                a.load(LoadKind::U64, VMCTX, Amode::base_disp(f, field::FUNCREF_VMCTX as i32));
                a.load(LoadKind::U64, HEAP, Amode::base_disp(VMCTX, header::HEAP_BASE as i32));
                a.call_m(Amode::base_disp(f, field::FUNCREF_WASM_CALL as i32));
                restore(a);
            }
            CallTarget::Builtin(b) => {
                let a = self.asm();
                a.load(LoadKind::U64, Gpr::R11, Amode::base_disp(VMCTX, header::BUILTINS as i32));
                a.call_m(Amode::base_disp(Gpr::R11, b.table_offset() as i32));
            }
        }
    }

    fn div(
        &mut self,
        kind: DivKind,
        size: Size,
        divisor: Reg,
        check_zero: bool,
        check_overflow: bool,
        srcloc: u32,
    ) {
        let d = self.use_gpr(divisor);
        if check_zero {
            self.asm().test_rr(size, d, d);
            self.trap_if(Cond::E, TrapCode::IntegerDivisionByZero, srcloc);
        }
        match kind {
            DivKind::DivU | DivKind::RemU => {
                let a = self.asm();
                a.alu_rr(AluOp::Xor, Size::S32, Gpr::RDX, Gpr::RDX);
                a.div(size, false, d);
            }
            DivKind::DivS => {
                if check_overflow {
                    let a = self.asm();
                    let ok = a.new_label();
                    a.alu_ri(AluOp::Cmp, size, d, -1);
                    a.jcc(Cond::NE, ok);
                    // rax == MIN is the only value for which rax - 1 overflows.
                    a.alu_ri(AluOp::Cmp, size, Gpr::RAX, 1);
                    self.trap_if(Cond::O, TrapCode::IntegerOverflow, srcloc);
                    self.asm().bind(ok);
                }
                let a = self.asm();
                a.sign_extend_ax(size);
                a.div(size, true, d);
            }
            DivKind::RemS => {
                let a = self.asm();
                let done = a.new_label();
                if check_overflow {
                    // x % -1 is 0; idiv would fault on MIN % -1.
                    let normal = a.new_label();
                    a.alu_ri(AluOp::Cmp, size, d, -1);
                    a.jcc(Cond::NE, normal);
                    a.alu_rr(AluOp::Xor, Size::S32, Gpr::RDX, Gpr::RDX);
                    a.jmp(done);
                    a.bind(normal);
                }
                a.sign_extend_ax(size);
                a.div(size, true, d);
                a.bind(done);
            }
        }
    }

    fn min_max(&mut self, is_max: bool, double: bool, dst: Reg, src: Reg) {
        let s = self.use_xmm(src);
        let d = self.mod_xmm(dst);
        let pick = |ss: SseOp, sd: SseOp| if double { sd } else { ss };
        let a = self.asm();
        let (not_equal, nan, done) = (a.new_label(), a.new_label(), a.new_label());
        a.sse_rr(pick(SseOp::Ucomiss, SseOp::Ucomisd), d, s);
        a.jcc(Cond::NE, not_equal);
        a.jcc(Cond::P, nan);
        // Equal: only the signs of zeros can differ. min prefers -0 (or),
        // max prefers +0 (and).
        if is_max {
            a.sse_rr(pick(SseOp::Andps, SseOp::Andpd), d, s);
        } else {
            a.sse_rr(pick(SseOp::Orps, SseOp::Orpd), d, s);
        }
        a.jmp(done);
        a.bind(nan);
        // Adding propagates a (quieted) NaN operand.
        a.sse_rr(pick(SseOp::Addss, SseOp::Addsd), d, s);
        a.jmp(done);
        a.bind(not_equal);
        let op = match is_max {
            true => pick(SseOp::Maxss, SseOp::Maxsd),
            false => pick(SseOp::Minss, SseOp::Minsd),
        };
        a.sse_rr(op, d, s);
        a.bind(done);
    }

    fn int_to_float(
        &mut self,
        double: bool,
        int_size: Size,
        dst: Reg,
        src: Reg,
        tmps: Option<(Reg, Reg)>,
    ) {
        let s = self.use_gpr(src);
        let d = self.early_def_xmm(dst);
        let Some((t1, t2)) = tmps else {
            let a = self.asm();
            a.sse_rr(SseOp::Xorps, d, d);
            a.cvt_int_to_float(double, int_size, d, s);
            return;
        };
        let (t1, t2) = (self.early_def_gpr(t1), self.early_def_gpr(t2));
        let a = self.asm();
        let (big, done) = (a.new_label(), a.new_label());
        a.sse_rr(SseOp::Xorps, d, d);
        a.test_rr(Size::S64, s, s);
        a.jcc(Cond::S, big);
        a.cvt_int_to_float(double, Size::S64, d, s);
        a.jmp(done);
        a.bind(big);
        // Halve with the lost bit kept as a sticky bit, convert, double.
        a.mov_rr(Size::S64, t1, s);
        a.shift_ri(ShiftOp::Shr, Size::S64, t1, 1);
        a.mov_rr(Size::S64, t2, s);
        a.alu_ri(AluOp::And, Size::S64, t2, 1);
        a.alu_rr(AluOp::Or, Size::S64, t1, t2);
        a.cvt_int_to_float(double, Size::S64, d, t1);
        let add = if double { SseOp::Addsd } else { SseOp::Addss };
        a.sse_rr(add, d, d);
        a.bind(done);
    }

    #[allow(clippy::too_many_arguments)]
    fn float_to_int(
        &mut self,
        kind: TruncKind,
        double: bool,
        int_size: Size,
        dst: Reg,
        src: Reg,
        tmp: Reg,
        srcloc: u32,
    ) {
        let s = self.use_xmm(src);
        let t = self.early_def_xmm(tmp);
        let d = self.early_def_gpr(dst);
        let ucomis = if double { SseOp::Ucomisd } else { SseOp::Ucomiss };
        let sub = if double { SseOp::Subsd } else { SseOp::Subss };
        let bits = if int_size == Size::S64 { 64 } else { 32 };
        let two_pow = |n: i32| 2f64.powi(n);
        match kind {
            TruncKind::Signed | TruncKind::SatSigned => {
                let done = self.tb.asm.new_label();
                let a = self.asm();
                a.cvtt_float_to_int(double, int_size, d, s);
                // Only MIN is ambiguous: overflow and NaN also produce it.
                a.alu_ri(AluOp::Cmp, int_size, d, 1);
                a.jcc(Cond::NO, done);
                if kind == TruncKind::Signed {
                    a.sse_rr(ucomis, s, s);
                    self.trap_if(Cond::P, TrapCode::BadConversionToInteger, srcloc);
                    // Legal when MIN - 1 < x (f64 -> i32) or MIN <= x (otherwise).
                    let exact_low = double && bits == 32;
                    let low = if exact_low { -two_pow(31) - 1.0 } else { -two_pow(bits - 1) };
                    let l = self.fconst(double, low);
                    self.asm().sse_rip(ucomis, s, l);
                    self.trap_if(
                        if exact_low { Cond::BE } else { Cond::B },
                        TrapCode::IntegerOverflow,
                        srcloc,
                    );
                    let a = self.asm();
                    a.sse_rr(SseOp::Xorps, t, t);
                    a.sse_rr(ucomis, s, t);
                    self.trap_if(Cond::A, TrapCode::IntegerOverflow, srcloc);
                } else {
                    let (nan, a) = (self.tb.asm.new_label(), self.asm());
                    a.sse_rr(ucomis, s, s);
                    a.jcc(Cond::P, nan);
                    a.sse_rr(SseOp::Xorps, t, t);
                    a.sse_rr(ucomis, s, t);
                    a.jcc(Cond::BE, done);
                    let max = if bits == 64 { i64::MAX as u64 } else { i32::MAX as u64 };
                    a.mov_ri(int_size, d, max);
                    a.jmp(done);
                    a.bind(nan);
                    a.alu_rr(AluOp::Xor, Size::S32, d, d);
                }
                self.asm().bind(done);
            }
            TruncKind::Unsigned => {
                let a = self.asm();
                a.sse_rr(ucomis, s, s);
                self.trap_if(Cond::P, TrapCode::BadConversionToInteger, srcloc);
                let minus_one = self.fconst(double, -1.0);
                self.asm().sse_rip(ucomis, s, minus_one);
                self.trap_if(Cond::BE, TrapCode::IntegerOverflow, srcloc);
                let limit = self.fconst(double, two_pow(bits));
                self.asm().sse_rip(ucomis, s, limit);
                self.trap_if(Cond::AE, TrapCode::IntegerOverflow, srcloc);
                self.unsigned_in_range(double, bits, d, s, t);
            }
            TruncKind::SatUnsigned => {
                let (zero, max, done) =
                    (self.tb.asm.new_label(), self.tb.asm.new_label(), self.tb.asm.new_label());
                let limit = self.fconst(double, two_pow(bits));
                let a = self.asm();
                a.sse_rr(SseOp::Xorps, t, t);
                a.sse_rr(ucomis, s, t);
                // x <= 0 or unordered (CF set) gives 0.
                a.jcc(Cond::BE, zero);
                a.sse_rip(ucomis, s, limit);
                a.jcc(Cond::AE, max);
                self.unsigned_in_range(double, bits, d, s, t);
                let a = self.asm();
                a.jmp(done);
                a.bind(zero);
                a.alu_rr(AluOp::Xor, Size::S32, d, d);
                a.jmp(done);
                a.bind(max);
                let all = if bits == 64 { u64::MAX } else { u32::MAX as u64 };
                a.mov_ri(int_size, d, all);
                a.bind(done);
            }
        }
        let _ = sub;
    }

    /// Converts `s`, known to be in `[0, 2^bits)` and not NaN, to unsigned.
    fn unsigned_in_range(&mut self, double: bool, bits: i32, d: Gpr, s: Xmm, t: Xmm) {
        if bits == 32 {
            // Every value below 2^32 converts exactly as a signed 64-bit int.
            self.asm().cvtt_float_to_int(double, Size::S64, d, s);
            return;
        }
        let ucomis = if double { SseOp::Ucomisd } else { SseOp::Ucomiss };
        let sub = if double { SseOp::Subsd } else { SseOp::Subss };
        let half = self.fconst(double, 2f64.powi(63));
        let a = self.asm();
        let (big, done) = (a.new_label(), a.new_label());
        a.sse_rip(ucomis, s, half);
        a.jcc(Cond::AE, big);
        a.cvtt_float_to_int(double, Size::S64, d, s);
        a.jmp(done);
        a.bind(big);
        a.movaps(t, s);
        a.sse_rip(sub, t, half);
        a.cvtt_float_to_int(double, Size::S64, d, t);
        a.bts_ri(Size::S64, d, 63);
        a.bind(done);
    }

    /// Performs the copies `dst <- src` as if simultaneously.
    ///
    /// Destinations are distinct. Repeatedly emits the first move (in the
    /// given order) whose destination no pending move still reads; when
    /// every pending move's destination is still read, they form cycles,
    /// and the source of the first pending move is parked in the cycle
    /// scratch register. Counting the readers of each location keeps this
    /// linear in the number of moves (block parameters can be thousands).
    fn parallel_moves(&mut self, moves: &[(Reg, Reg)]) {
        let mut pending: Vec<(Loc, Loc, RegClass)> = moves
            .iter()
            .map(|&(d, s)| (self.alloc.loc(d), self.alloc.loc(s), self.vcode.class(d)))
            .filter(|(d, s, _)| d != s && *d != Loc::None)
            .collect();
        // Pending moves reading each location, the move writing each.
        let mut readers: HashMap<Loc, Vec<usize>> = HashMap::new();
        let mut num_readers: HashMap<Loc, usize> = HashMap::new();
        let mut writer: HashMap<Loc, usize> = HashMap::new();
        for (i, &(d, s, _)) in pending.iter().enumerate() {
            readers.entry(s).or_default().push(i);
            *num_readers.entry(s).or_default() += 1;
            writer.insert(d, i);
        }
        let mut ready: std::collections::BTreeSet<usize> = (0..pending.len())
            .filter(|&i| num_readers.get(&pending[i].0).is_none_or(|&n| n == 0))
            .collect();
        let mut done = vec![false; pending.len()];
        let (mut left, mut first) = (pending.len(), 0);
        while left > 0 {
            let freed = match ready.pop_first() {
                Some(i) => {
                    let (d, s, class) = pending[i];
                    self.move_loc(d, s, class);
                    done[i] = true;
                    left -= 1;
                    let n = num_readers.get_mut(&s).expect("a source is read");
                    *n -= 1;
                    (*n == 0).then_some(s)
                }
                None => {
                    // A cycle: park one source in the cycle scratch register.
                    while done[first] {
                        first += 1;
                    }
                    let (_, s, class) = pending[first];
                    let park = match class {
                        RegClass::Int => Loc::Reg(Reg::gpr(Gpr::R10)),
                        RegClass::Float => Loc::Reg(Reg::xmm(Xmm(14))),
                    };
                    self.move_loc(park, s, class);
                    let moved: Vec<usize> = readers
                        .remove(&s)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|&j| !done[j])
                        .collect();
                    for &j in &moved {
                        pending[j].1 = park;
                    }
                    *num_readers.entry(park).or_default() += moved.len();
                    readers.entry(park).or_default().extend(moved);
                    num_readers.insert(s, 0);
                    Some(s)
                }
            };
            // The move writing a location nothing reads any more can go.
            if let Some(&w) = freed.and_then(|l| writer.get(&l))
                && !done[w]
            {
                ready.insert(w);
            }
        }
    }

    /// One copy between locations (memory-to-memory through r11/xmm15).
    fn move_loc(&mut self, d: Loc, s: Loc, class: RegClass) {
        let slot = |n: u32, f: &Self| f.slot(n);
        match (class, d, s) {
            (RegClass::Int, Loc::Reg(d), Loc::Reg(s)) => {
                self.asm().mov_rr(Size::S64, d.as_gpr().unwrap(), s.as_gpr().unwrap())
            }
            (RegClass::Int, Loc::Reg(d), Loc::Stack(n)) => {
                let m = slot(n, self);
                self.asm().load(LoadKind::U64, d.as_gpr().unwrap(), m)
            }
            (RegClass::Int, Loc::Stack(n), Loc::Reg(s)) => {
                let m = slot(n, self);
                self.asm().store(Size::S64, m, s.as_gpr().unwrap())
            }
            (RegClass::Int, Loc::Stack(dn), Loc::Stack(sn)) => {
                let (dm, sm) = (slot(dn, self), slot(sn, self));
                let a = self.asm();
                a.load(LoadKind::U64, Gpr::R11, sm);
                a.store(Size::S64, dm, Gpr::R11);
            }
            (RegClass::Float, Loc::Reg(d), Loc::Reg(s)) => {
                self.asm().movaps(d.as_xmm().unwrap(), s.as_xmm().unwrap())
            }
            (RegClass::Float, Loc::Reg(d), Loc::Stack(n)) => {
                let m = slot(n, self);
                self.asm().load_f(true, d.as_xmm().unwrap(), m)
            }
            (RegClass::Float, Loc::Stack(n), Loc::Reg(s)) => {
                let m = slot(n, self);
                self.asm().store_f(true, m, s.as_xmm().unwrap())
            }
            (RegClass::Float, Loc::Stack(dn), Loc::Stack(sn)) => {
                let (dm, sm) = (slot(dn, self), slot(sn, self));
                let a = self.asm();
                a.load_f(true, Xmm(15), sm);
                a.store_f(true, dm, Xmm(15));
            }
            (_, _, Loc::None) | (_, Loc::None, _) => {}
        }
    }
}

/// The slow path of a check point.
struct YieldStub {
    stub: Label,
    resume: Label,
    /// Where the fuel counter is, when metering.
    fuel: Option<Gpr>,
    srcloc: u32,
}

/// Caller-saved registers a check point's slow path preserves (every one
/// the allocator may use, plus r10, which may hold a reloaded operand).
const YIELD_SAVED_GPRS: [Gpr; 8] =
    [Gpr::RAX, Gpr::RCX, Gpr::RDX, Gpr::RSI, Gpr::RDI, Gpr::R8, Gpr::R9, Gpr::R10];
/// XMM registers the allocator may use (all are caller-saved).
const YIELD_SAVED_XMMS: u8 = 14;

impl FuncEmitter<'_> {
    /// Emits a check point's slow path: saves every register live values
    /// may be in, stores the fuel counter, calls the `yield_point` builtin,
    /// then either traps or restores registers, reloads the (possibly
    /// refilled) counter and resumes. Keeping this out of line and
    /// register-preserving means loops need not spill around check points.
    fn yield_stub(&mut self, s: YieldStub) {
        let store_field = |off: u32| Amode::base_disp(Gpr::R11, off as i32);
        let a = &mut self.tb.asm;
        a.bind(s.stub);
        a.load(LoadKind::U64, Gpr::R11, Amode::base_disp(VMCTX, header::STORE as i32));
        if let Some(f) = s.fuel {
            a.store(Size::S64, store_field(store::FUEL_CONSUMED), f);
        }
        for &g in &YIELD_SAVED_GPRS {
            a.push(g);
        }
        // 8 pushes keep rsp 16-byte aligned; 14 xmm slots of 16 bytes too.
        let xmm_area = 16 * YIELD_SAVED_XMMS as i32;
        a.alu_ri(AluOp::Sub, Size::S64, Gpr::RSP, xmm_area);
        for x in 0..YIELD_SAVED_XMMS {
            a.store_v128(Amode::base_disp(Gpr::RSP, 16 * x as i32), Xmm(x));
        }
        a.mov_rr(Size::S64, Gpr::RDI, VMCTX);
        a.load(LoadKind::U64, Gpr::R11, Amode::base_disp(VMCTX, header::BUILTINS as i32));
        a.call_m(Amode::base_disp(Gpr::R11, Builtin::YieldPoint.table_offset() as i32));
        a.mov_rr(Size::S32, Gpr::R11, Gpr::RAX);
        for x in 0..YIELD_SAVED_XMMS {
            a.load_v128(Xmm(x), Amode::base_disp(Gpr::RSP, 16 * x as i32));
        }
        a.alu_ri(AluOp::Add, Size::S64, Gpr::RSP, xmm_area);
        for &g in YIELD_SAVED_GPRS.iter().rev() {
            a.pop(g);
        }
        a.test_rr(Size::S32, Gpr::R11, Gpr::R11);
        let stop = a.new_label();
        a.jcc(Cond::NE, stop);
        if let Some(f) = s.fuel {
            a.load(LoadKind::U64, Gpr::R11, Amode::base_disp(VMCTX, header::STORE as i32));
            a.load(LoadKind::U64, f, store_field(store::FUEL_CONSUMED));
        }
        a.jmp(s.resume);
        a.bind(stop);
        self.trap_now(None, s.srcloc);
    }
}

/// A resolved ALU source operand.
enum Src {
    Reg(Gpr),
    Mem(Amode),
    Imm(i32),
}
