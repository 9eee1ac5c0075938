//! Runtime code and out-of-line paths: the shared trap routine, entry
//! trampolines, host-call adapters, trap stubs and check-point slow paths.
//!
//! **Sandbox-critical.** The trap routine and the entry trampolines follow
//! the frame layouts drawn in `contract::abi`.

use super::*;

impl TextBuilder {
    /// Emits the shared trap routine: records where the trap happened and
    /// unwinds to the innermost entry trampoline (layout in `contract::abi`).
    pub fn emit_trap_common(&mut self) {
        self.align(16);
        let start = self.asm.offset();
        self.asm.bind(self.trap_common);
        // Called from a trap stub, in the trapping function's frame, whose
        // rbp it keeps until the end: unwinders see that frame's caller.
        self.begin_unwind();
        self.unwind(UnwindOp::PushFramePointer);
        self.unwind(UnwindOp::SetFramePointer);
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
        self.unwind(UnwindOp::Leave);
        let a = &mut self.asm;
        a.mov_ri(Size::S32, Gpr::RAX, abi::TRAP_STATUS as u64);
        a.ret();
        self.end_unwind();
        let len = self.asm.offset() - start;
        self.runtime_symbols.push(("scion_trap".into(), start, len));
    }

    /// Emits the entry trampoline for a signature and returns its offset.
    /// Native signature: [`abi::EntryFn`].
    pub fn emit_entry_trampoline(&mut self, sig: &FuncType) -> u32 {
        self.align(16);
        let start = self.asm.offset();
        let layout = call_layout(&sig.params, &sig.results);
        self.begin_unwind();
        self.push_frame_pointer();
        for (i, &r) in abi::ENTRY_SAVED_GPRS.iter().enumerate() {
            self.push_saved(Gpr(r), 8 * i as u32);
        }
        let a = &mut self.asm;
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
        a.mov_rr(Size::S64, TMP, Gpr::RSI);
        a.mov_rr(Size::S64, TMP2, Gpr::RDX);
        let slot = |i: usize| Amode::base_disp(TMP2, (i as u32 * abi::VALUE_SLOT_SIZE) as i32);
        for (i, (&ty, loc)) in sig.params.iter().zip(&layout.params).enumerate() {
            match *loc {
                ArgLoc::Gpr(g) => a.load(int_load(ty), Gpr(g), slot(i)),
                ArgLoc::Xmm(x) => load_xmm(a, ty, Xmm(x), slot(i)),
                ArgLoc::Stack(off) => {
                    copy_value(a, ty, Gpr::RAX, Amode::base_disp(Gpr::RSP, off as i32), slot(i))
                }
            }
        }
        a.call_r(TMP);
        a.load(LoadKind::U64, TMP2, Amode::base_disp(Gpr::RBP, abi::ENTRY_VALUES_OFFSET));
        for (i, (&ty, loc)) in sig.results.iter().zip(&layout.results).enumerate() {
            match *loc {
                ArgLoc::Gpr(g) => a.store(Size::S64, slot(i), Gpr(g)),
                ArgLoc::Xmm(x) => store_xmm(a, ty, slot(i), Xmm(x)),
                ArgLoc::Stack(off) => {
                    // r11, not rax: rax may hold a register result.
                    copy_value(a, ty, TMP, slot(i), Amode::base_disp(Gpr::RSP, off as i32))
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
        self.unwind(UnwindOp::Leave);
        let a = &mut self.asm;
        a.mov_ri(Size::S32, Gpr::RAX, abi::OK_STATUS as u64);
        a.ret();
        self.end_unwind();
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
        self.begin_unwind();
        self.push_frame_pointer();
        self.push_saved(VMCTX, 0);
        let a = &mut self.asm;
        a.alu_ri(AluOp::Sub, Size::S64, Gpr::RSP, area as i32 + 8);
        let slot = |i: usize| Amode::base_disp(Gpr::RSP, (i as u32 * abi::VALUE_SLOT_SIZE) as i32);
        let stack_param =
            |off: u32| Amode::base_disp(Gpr::RBP, abi::FRAME_PARAMS_OFFSET + off as i32);
        for (i, (&ty, loc)) in sig.params.iter().zip(&layout.params).enumerate() {
            match *loc {
                ArgLoc::Gpr(g) => a.store(Size::S64, slot(i), Gpr(g)),
                ArgLoc::Xmm(x) => store_xmm(a, ty, slot(i), Xmm(x)),
                ArgLoc::Stack(off) => copy_value(a, ty, Gpr::RAX, slot(i), stack_param(off)),
            }
        }
        a.mov_rr(Size::S64, Gpr::RDI, VMCTX);
        a.mov_ri(Size::S32, Gpr::RSI, import as u64);
        a.mov_rr(Size::S64, Gpr::RDX, Gpr::RSP);
        a.load(LoadKind::U64, TMP, Amode::base_disp(VMCTX, header::BUILTINS as i32));
        a.call_m(Amode::base_disp(TMP, Builtin::HostCall.table_offset() as i32));
        a.test_rr(Size::S32, Gpr::RAX, Gpr::RAX);
        let ok = a.new_label();
        a.jcc(Cond::E, ok);
        self.trap_call(None, import, 0);
        let a = &mut self.asm;
        a.bind(ok);
        for (i, (&ty, loc)) in sig.results.iter().zip(&layout.results).enumerate() {
            match *loc {
                ArgLoc::Gpr(g) => a.load(int_load(ty), Gpr(g), slot(i)),
                ArgLoc::Xmm(x) => load_xmm(a, ty, Xmm(x), slot(i)),
                ArgLoc::Stack(off) => copy_value(a, ty, TMP, stack_param(off), slot(i)),
            }
        }
        a.lea(Size::S64, Gpr::RSP, Amode::base_disp(Gpr::RBP, abi::FRAME_VMCTX_OFFSET));
        a.pop(VMCTX);
        self.pop_frame_pointer_and_return();
        self.end_unwind();
        self.functions.push(FunctionRange {
            func_index: import,
            start,
            len: self.asm.offset() - start,
        });
        start
    }
}

impl FuncEmitter<'_> {
    /// A conditional branch to an out-of-line trap stub.
    pub(super) fn trap_if(&mut self, cond: Cond, code: TrapCode, srcloc: u32) {
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

    pub(super) fn trap_now(&mut self, code: Option<TrapCode>, srcloc: u32) {
        let func = self.vcode.func_index;
        self.tb.trap_call(code, func, srcloc);
    }

    pub(super) fn out_of_line(&mut self) {
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
}

/// The slow path of one check point.
pub(super) struct YieldStub {
    pub(super) stub: Label,
    pub(super) resume: Label,
    /// Where the fuel counter is, when metering.
    pub(super) fuel: Option<Gpr>,
    pub(super) srcloc: u32,
}

impl TextBuilder {
    /// Emits the module's one register-preserving call of the
    /// `yield_point` builtin, shared by every check point: it saves every
    /// caller-saved register a value may be in (`MACHINE.yield_saved_*`),
    /// calls the builtin, restores them and returns the builtin's answer
    /// in `TMP` (zero: continue). Entered by `call` from a function body,
    /// where `rsp` is 16-byte aligned.
    pub fn emit_yield_common(&mut self) {
        self.align(16);
        let start = self.asm.offset();
        self.asm.bind(self.yield_common);
        let gprs = MACHINE.yield_saved_gprs.map(Gpr);
        let xmms = MACHINE.yield_saved_xmms.map(Xmm);
        // The return address and the pushes leave rsp 8 + 8 * gprs (mod 16);
        // the xmm area makes it 16-byte aligned for the call.
        let pushed = 8 * (gprs.len() as i32 + 1);
        let xmm_area = 16 * xmms.len() as i32 + (16 - pushed % 16) % 16;
        // No frame pointer: the CFA is rsp-relative throughout.
        self.begin_unwind();
        let mut depth = 8;
        for &g in &gprs {
            self.asm.push(g);
            depth += 8;
            self.unwind(UnwindOp::StackPointerOffset(depth));
            self.unwind(UnwindOp::SaveRegister { reg: g.0, offset: depth });
        }
        self.asm.alu_ri(AluOp::Sub, Size::S64, Gpr::RSP, xmm_area);
        self.unwind(UnwindOp::StackPointerOffset(depth + xmm_area as u32));
        let a = &mut self.asm;
        for (k, &x) in xmms.iter().enumerate() {
            a.store_v128(Amode::base_disp(Gpr::RSP, 16 * k as i32), x);
        }
        a.mov_rr(Size::S64, Gpr(abi::INT_PARAM_REGS[0]), VMCTX);
        a.load(LoadKind::U64, TMP, Amode::base_disp(VMCTX, header::BUILTINS as i32));
        a.call_m(Amode::base_disp(TMP, Builtin::YieldPoint.table_offset() as i32));
        a.mov_rr(Size::S32, TMP, Gpr(abi::INT_RESULT_REGS[0]));
        for (k, &x) in xmms.iter().enumerate() {
            a.load_v128(x, Amode::base_disp(Gpr::RSP, 16 * k as i32));
        }
        a.alu_ri(AluOp::Add, Size::S64, Gpr::RSP, xmm_area);
        self.unwind(UnwindOp::StackPointerOffset(depth));
        for &g in gprs.iter().rev() {
            self.asm.pop(g);
            depth -= 8;
            self.unwind(UnwindOp::StackPointerOffset(depth));
        }
        self.asm.ret();
        self.end_unwind();
        let len = self.asm.offset() - start;
        self.runtime_symbols.push(("scion_yield".into(), start, len));
    }
}

impl FuncEmitter<'_> {
    /// Emits a check point's slow path: stores the fuel counter, calls the
    /// module's shared yield routine, then either traps or reloads the
    /// (possibly refilled) counter and resumes. Keeping this out of line
    /// and register-preserving means loops need not spill around check
    /// points; sharing the save and restore keeps each site small.
    fn yield_stub(&mut self, s: YieldStub) {
        let store_field = |off: u32| Amode::base_disp(TMP, off as i32);
        let a = &mut self.tb.asm;
        a.bind(s.stub);
        if let Some(f) = s.fuel {
            a.load(LoadKind::U64, TMP, Amode::base_disp(VMCTX, header::STORE as i32));
            a.store(Size::S64, store_field(store::FUEL_CONSUMED), f);
        }
        a.call_label(self.tb.yield_common);
        let a = &mut self.tb.asm;
        a.test_rr(Size::S32, TMP, TMP);
        let stop = a.new_label();
        a.jcc(Cond::NE, stop);
        if let Some(f) = s.fuel {
            a.load(LoadKind::U64, TMP, Amode::base_disp(VMCTX, header::STORE as i32));
            a.load(LoadKind::U64, f, store_field(store::FUEL_CONSUMED));
        }
        a.jmp(s.resume);
        a.bind(stop);
        self.trap_now(None, s.srcloc);
    }
}

/// Loads a value of xmm type `ty` (f32, f64 or v128) from `m`.
fn load_xmm(a: &mut Asm, ty: ValType, x: Xmm, m: Amode) {
    match ty {
        ValType::V128 => a.load_v128(x, m),
        _ => a.load_f(ty == ValType::F64, x, m),
    }
}

/// Stores a value of xmm type `ty` (f32, f64 or v128) to `m`.
fn store_xmm(a: &mut Asm, ty: ValType, m: Amode, x: Xmm) {
    match ty {
        ValType::V128 => a.store_v128(m, x),
        _ => a.store_f(ty == ValType::F64, m, x),
    }
}

/// Copies a value of type `ty` between memory slots through GPR `via`
/// (a v128 in two halves).
fn copy_value(a: &mut Asm, ty: ValType, via: Gpr, dst: Amode, src: Amode) {
    let halves = if ty == ValType::V128 { 2 } else { 1 };
    for k in 0..halves {
        a.load(LoadKind::U64, via, src.offset_by(8 * k));
        a.store(Size::S64, dst.offset_by(8 * k), via);
    }
}
