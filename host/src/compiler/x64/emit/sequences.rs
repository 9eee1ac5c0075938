//! Multi-instruction sequences with wasm semantics: division with its
//! traps, float min/max, and conversions between integers and floats.

use super::*;

impl FuncEmitter<'_> {
    pub(super) fn div(
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

    pub(super) fn min_max(&mut self, is_max: bool, double: bool, dst: Reg, src: Reg) {
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

    pub(super) fn int_to_float(
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
    pub(super) fn float_to_int(
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
    pub(super) fn unsigned_in_range(&mut self, double: bool, bits: i32, d: Gpr, s: Xmm, t: Xmm) {
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
}
