//! One VCode instruction to machine code.

use super::*;

impl FuncEmitter<'_> {
    pub(super) fn inst(&mut self, inst: &MInst, srcloc: u32) {
        match *inst {
            MInst::Mov { size, dst, src } => {
                // A copy to or from a slot is one load or store, not a
                // trip through a scratch register (a 32-bit copy must
                // still write the zero-extended value to a slot).
                let wide = size == Size::S64;
                match (self.alloc.loc(dst), self.alloc.loc(src), self.local_copy(src)) {
                    (Loc::Reg(d), Loc::Stack(n), None) if wide || size == Size::S32 => {
                        let kind = if wide { LoadKind::U64 } else { LoadKind::U32 };
                        let m = self.slot(n);
                        self.asm().load(kind, d.as_gpr().expect("GPR operand"), m);
                    }
                    (Loc::Stack(n), Loc::Reg(s), _) if wide && self.local_copy(dst).is_none() => {
                        let m = self.slot(n);
                        self.asm().store(Size::S64, m, s.as_gpr().expect("GPR operand"));
                    }
                    _ => {
                        let s = self.use_gpr(src);
                        let d = self.def_gpr(dst);
                        if s != d || !wide {
                            self.asm().mov_rr(size, d, s);
                        }
                    }
                }
            }
            MInst::MovImm { size, dst, imm } => {
                let d = self.def_gpr(dst);
                self.asm().mov_ri(size, d, imm);
            }
            MInst::FMov { dst, src } => {
                match (self.alloc.loc(dst), self.alloc.loc(src), self.local_copy(src)) {
                    (Loc::Reg(d), Loc::Stack(n), None) => {
                        let m = self.slot(n);
                        self.asm().load_v128(d.as_xmm().expect("XMM operand"), m);
                    }
                    (Loc::Stack(n), Loc::Reg(s), _) if self.local_copy(dst).is_none() => {
                        let m = self.slot(n);
                        self.asm().store_v128(m, s.as_xmm().expect("XMM operand"));
                    }
                    _ => {
                        let s = self.use_xmm(src);
                        let d = self.def_xmm(dst);
                        if s != d {
                            self.asm().movaps(d, s);
                        }
                    }
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
            MInst::StoreImm { size, ref addr, imm } => {
                let m = self.amode(addr);
                self.asm().store_imm(size, m, imm);
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
            MInst::VLoad { bytes, dst, ref addr } => {
                let m = self.amode(addr);
                let d = self.def_xmm(dst);
                match bytes {
                    4 => self.asm().movd_load(d, m),
                    8 => self.asm().movq_load(d, m),
                    _ => self.asm().load_v128(d, m),
                }
            }
            MInst::VStore { ref addr, src } => {
                let m = self.amode(addr);
                let s = self.use_xmm(src);
                self.asm().store_v128(m, s);
            }
            MInst::VConst { dst, bits } => {
                let d = self.def_xmm(dst);
                if bits == 0 {
                    self.asm().packed(PackedOp::Pxor, d, d);
                } else {
                    let l = self.constant(bits.to_le_bytes());
                    self.asm().movdqa_rip(d, l);
                }
            }
            MInst::Simd { op, in_place, dst, ref args, ref tmps, imm } => {
                self.simd(op, in_place, dst, args, tmps, imm)
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
                    a.load(LoadKind::U64, TMP, Amode::base_disp(VMCTX, header::STORE as i32));
                    a.alu_mi(
                        AluOp::Cmp,
                        Size::S32,
                        Amode::base_disp(TMP, store::INTERRUPT as i32),
                        0,
                    );
                    a.jcc(Cond::NE, stub);
                }
                a.bind(resume);
                self.yield_stubs.push(YieldStub { stub, resume, fuel, srcloc });
            }
            MInst::Call { ref target, .. } => self.call(target),
            MInst::OutgoingArgs { .. } | MInst::Params { .. } => {}
            MInst::StoreArg { offset, src, kind } => {
                let m = Amode::base_disp(Gpr::RSP, offset as i32);
                self.store_value(m, src, kind);
            }
            MInst::LoadRet { offset, dst, kind } => {
                let m = Amode::base_disp(Gpr::RSP, offset as i32);
                self.load_value(m, dst, kind);
            }
            MInst::LoadParam { offset, dst, kind } => {
                let m = Amode::base_disp(Gpr::RBP, abi::FRAME_PARAMS_OFFSET + offset as i32);
                self.load_value(m, dst, kind);
            }
            MInst::StoreRet { offset, src, kind } => {
                let m = Amode::base_disp(Gpr::RBP, abi::FRAME_PARAMS_OFFSET + offset as i32);
                self.store_value(m, src, kind);
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
                let (taken, not_taken) =
                    (self.thread_from_here(taken), self.thread_from_here(not_taken));
                let (lt, ln) =
                    (self.block_labels[taken.0 as usize], self.block_labels[not_taken.0 as usize]);
                if self.falls_into(taken) {
                    self.asm().jcc(cond.invert(), ln);
                } else if !self.falls_into(not_taken)
                    && self.is_back_edge(not_taken)
                    && !self.is_back_edge(taken)
                {
                    // Neither follows: branch conditionally to the loop
                    // header, so a loop's latch takes one branch per
                    // iteration, not a not-taken exit plus a jump back.
                    let a = self.asm();
                    a.jcc(cond.invert(), ln);
                    a.jmp(lt);
                } else {
                    self.asm().jcc(cond, lt);
                    self.jump_to(not_taken);
                }
            }
            MInst::JccFloatEq { negate, taken, not_taken } => {
                let (taken, not_taken) =
                    (self.thread_from_here(taken), self.thread_from_here(not_taken));
                let (lt, ln) =
                    (self.block_labels[taken.0 as usize], self.block_labels[not_taken.0 as usize]);
                // Equal means ZF=1 and PF=0; unordered sets PF.
                let ((on_eq, eq_block), (on_ne, ne_block)) = if negate {
                    ((ln, not_taken), (lt, taken))
                } else {
                    ((lt, taken), (ln, not_taken))
                };
                let (eq_next, ne_next) = (self.falls_into(eq_block), self.falls_into(ne_block));
                let a = self.asm();
                a.jcc(Cond::P, on_ne);
                if eq_next {
                    a.jcc(Cond::NE, on_ne);
                } else {
                    a.jcc(Cond::E, on_eq);
                    if !ne_next {
                        a.jmp(on_ne);
                    }
                }
            }
            MInst::JmpTable { index, tmp, ref targets, default } => {
                let i = self.use_gpr(index);
                let t = self.early_def_gpr(tmp);
                let table = self.tb.asm.new_label();
                let labels: Vec<Label> =
                    targets.iter().map(|&b| self.block_labels[self.thread(b).0 as usize]).collect();
                let ld = self.block_labels[self.thread(default).0 as usize];
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
}
