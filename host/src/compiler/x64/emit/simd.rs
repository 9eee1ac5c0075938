//! Vector operators: each wasm SIMD operator as an SSE4.1 sequence.
//!
//! Operands arrive as `lower/simd.rs` shaped them: for an operator whose
//! first operand and result are vectors, `dst` already holds the first
//! operand (in place) and `args` are the rest; otherwise `dst` is written
//! first and differs from every operand. Temporaries come from
//! [`temps`], which lowering asks for each operator.
//!
//! NaN results: SSE arithmetic returns a quieted input NaN or the default
//! NaN (0xFFC00000 / 0xFFF8…), both arithmetic NaNs as the spec requires;
//! `min`/`max` build the canonical NaN themselves.
//!
//! Relaxed SIMD takes one deterministic choice per operator (documented
//! in ARCHITECTURE.md): the non-relaxed operator where there is one
//! (swizzle, truncation, laneselect = bitselect, min/max, q15mulr);
//! `madd`/`nmadd` round twice (multiply, then add); the dot products
//! treat the second operand as unsigned 7-bit, as `pmaddubsw` does.

use super::*;
use crate::compiler::ir::SimdOp;
use crate::compiler::x64::packed::{LaneWidth, MaskOp, PackedImmOp, PackedOp, ShiftImmOp};

use PackedImmOp as PI;
use PackedOp as P;

const F: RegClass = RegClass::Float;
const I: RegClass = RegClass::Int;

/// The temporaries the expansion of `op` uses, in order.
pub fn temps(op: &SimdOp) -> &'static [RegClass] {
    use SimdOp::*;
    match op {
        I8x16Splat | I8x16Shuffle { .. } | I8x16Swizzle | I8x16RelaxedSwizzle => &[F],
        V128Not | V128AndNot | V128Bitselect | I8x16RelaxedLaneselect | I16x8RelaxedLaneselect
        | I32x4RelaxedLaneselect | I64x2RelaxedLaneselect => &[F],
        I64x2Abs | I8x16Neg | I16x8Neg | I32x4Neg | I64x2Neg => &[F],
        I8x16Popcnt => &[F, F],
        I8x16AllTrue | I16x8AllTrue | I32x4AllTrue | I64x2AllTrue | I16x8Bitmask => &[F],
        I16x8ExtendHighI8x16U | I32x4ExtendHighI16x8U | I64x2ExtendHighI32x4U => &[F],
        I8x16Shl | I8x16ShrU => &[I, F, F, F],
        I8x16ShrS => &[I, F, F],
        I16x8Shl | I16x8ShrS | I16x8ShrU | I32x4Shl | I32x4ShrS | I32x4ShrU | I64x2Shl
        | I64x2ShrU => &[I, F],
        I64x2ShrS => &[I, F, F],
        I64x2Mul => &[F, F],
        I16x8Q15MulrSatS | I16x8RelaxedQ15mulrS => &[F],
        I16x8ExtMulLowI8x16S | I16x8ExtMulHighI8x16S | I16x8ExtMulLowI8x16U
        | I16x8ExtMulHighI8x16U | I32x4ExtMulLowI16x8S | I32x4ExtMulHighI16x8S
        | I32x4ExtMulLowI16x8U | I32x4ExtMulHighI16x8U | I64x2ExtMulLowI32x4S
        | I64x2ExtMulHighI32x4S | I64x2ExtMulLowI32x4U | I64x2ExtMulHighI32x4U => &[F],
        I16x8ExtAddPairwiseI8x16S => &[F],
        I8x16Ne | I16x8Ne | I32x4Ne | I64x2Ne => &[F],
        I8x16LtS | I8x16LtU | I8x16GtU | I8x16LeS | I8x16LeU | I8x16GeS | I8x16GeU => &[F],
        I16x8LtS | I16x8LtU | I16x8GtU | I16x8LeS | I16x8LeU | I16x8GeS | I16x8GeU => &[F],
        I32x4LtS | I32x4LtU | I32x4GtU | I32x4LeS | I32x4LeU | I32x4GeS | I32x4GeU => &[F],
        I64x2LtS | I64x2LeS | I64x2GeS => &[F],
        F32x4Gt | F32x4Ge | F64x2Gt | F64x2Ge => &[F],
        F32x4Min | F32x4Max | F64x2Min | F64x2Max | F32x4RelaxedMin | F32x4RelaxedMax
        | F64x2RelaxedMin | F64x2RelaxedMax => &[F, F],
        F32x4PMin | F32x4PMax | F64x2PMin | F64x2PMax => &[F],
        F32x4ConvertI32x4U | I32x4TruncSatF32x4S | I32x4RelaxedTruncF32x4S => &[F],
        I32x4TruncSatF32x4U | I32x4RelaxedTruncF32x4U => &[F, F],
        I32x4TruncSatF64x2SZero | I32x4RelaxedTruncF64x2SZero => &[F],
        I32x4TruncSatF64x2UZero | I32x4RelaxedTruncF64x2UZero => &[F],
        F32x4RelaxedMadd | F32x4RelaxedNmadd | F64x2RelaxedMadd | F64x2RelaxedNmadd => &[F],
        I16x8RelaxedDotI8x16I7x16S | I32x4RelaxedDotI8x16I7x16AddS => &[F],
        _ => &[],
    }
}

fn splat8(v: u8) -> [u8; 16] {
    [v; 16]
}
fn splat16(v: u16) -> [u8; 16] {
    let mut b = [0; 16];
    b.chunks_mut(2).for_each(|c| c.copy_from_slice(&v.to_le_bytes()));
    b
}
fn splat32(v: u32) -> [u8; 16] {
    let mut b = [0; 16];
    b.chunks_mut(4).for_each(|c| c.copy_from_slice(&v.to_le_bytes()));
    b
}
fn splat64(v: u64) -> [u8; 16] {
    let mut b = [0; 16];
    b.chunks_mut(8).for_each(|c| c.copy_from_slice(&v.to_le_bytes()));
    b
}

/// Where the operands of one vector instruction are.
struct Ops {
    d: Reg,
    /// Vector operands after the in-place one.
    x: [Xmm; 2],
    /// Scalar GPR operand (splat source, lane value, shift count).
    g: Option<Gpr>,
    t: [Xmm; 4],
    tg: Option<Gpr>,
}

/// The result register of an operator with a vector result.
fn xd(o: &Ops) -> Xmm {
    o.d.as_xmm().expect("vector register")
}

impl FuncEmitter<'_> {
    /// `dst = op dst, [constant]`.
    fn with_const(&mut self, op: PackedOp, d: Xmm, bytes: [u8; 16]) {
        let l = self.constant(bytes);
        self.asm().packed_rip(op, d, l);
    }

    /// Emits vector operator `op` (see the module comment for the shapes).
    pub(super) fn simd(
        &mut self,
        op: SimdOp,
        in_place: bool,
        dst: Reg,
        args: &[Reg],
        tmps: &[Reg],
        imm: Option<u8>,
    ) {
        // Operands: every read first, then temporaries, then the result.
        let mut xs = [Xmm(0); 2];
        let mut nx = 0;
        let mut g = None;
        for &a in args {
            if self.vcode.class(a) == RegClass::Float {
                xs[nx] = self.use_xmm(a);
                nx += 1;
            } else {
                g = Some(self.use_gpr(a));
            }
        }
        let mut t = [Xmm(0); 4];
        let mut tg = None;
        let mut nt = 0;
        for &r in tmps {
            if self.vcode.class(r) == RegClass::Float {
                t[nt] = self.early_def_xmm(r);
                nt += 1;
            } else {
                tg = Some(self.early_def_gpr(r));
            }
        }
        let d = match (in_place, self.vcode.class(dst)) {
            (true, _) => Reg::xmm(self.mod_xmm(dst)),
            (false, RegClass::Float) => Reg::xmm(self.early_def_xmm(dst)),
            (false, RegClass::Int) => Reg::gpr(self.early_def_gpr(dst)),
        };
        let o = Ops { d, x: xs, g, t, tg };
        if !self.simd_lanes(op, &o)
            && !self.simd_int(op, &o, imm)
            && !self.simd_float(op, &o)
        {
            unreachable!("vector operator {op:?} has no expansion")
        }
    }

    /// Splats, lanes, shuffles, bitwise operators and masks.
    fn simd_lanes(&mut self, op: SimdOp, o: &Ops) -> bool {
        use SimdOp::*;
        let [b, c] = o.x;
        let t = o.t[0];
        match op {
            I8x16Splat => {
                let (d, g) = (xd(o), o.g.unwrap());
                let a = self.asm();
                a.movd_to_xmm(Size::S32, d, g);
                a.packed(P::Pxor, t, t);
                a.packed(P::Pshufb, d, t);
            }
            I16x8Splat => {
                let (d, g) = (xd(o), o.g.unwrap());
                let a = self.asm();
                a.movd_to_xmm(Size::S32, d, g);
                a.packed_imm(PI::Pshuflw, d, d, 0);
                a.packed_imm(PI::Pshufd, d, d, 0);
            }
            I32x4Splat => {
                let (d, g) = (xd(o), o.g.unwrap());
                let a = self.asm();
                a.movd_to_xmm(Size::S32, d, g);
                a.packed_imm(PI::Pshufd, d, d, 0);
            }
            I64x2Splat => {
                let (d, g) = (xd(o), o.g.unwrap());
                let a = self.asm();
                a.movd_to_xmm(Size::S64, d, g);
                a.packed(P::Punpcklqdq, d, d);
            }
            F32x4Splat => {
                let d = xd(o);
                let a = self.asm();
                a.movaps(d, b);
                a.packed_imm(PI::Shufps, d, d, 0);
            }
            F64x2Splat => {
                let d = xd(o);
                let a = self.asm();
                a.movaps(d, b);
                a.packed(P::Unpcklpd, d, d);
            }
            I8x16ExtractLaneS { lane } | I8x16ExtractLaneU { lane } => {
                let d = o.d.as_gpr().unwrap();
                let a = self.asm();
                a.pextr(LaneWidth::B, d, b, lane);
                if matches!(op, I8x16ExtractLaneS { .. }) {
                    a.extend_rr(ExtendKind::S8To32, d, d);
                }
            }
            I16x8ExtractLaneS { lane } | I16x8ExtractLaneU { lane } => {
                let d = o.d.as_gpr().unwrap();
                let a = self.asm();
                a.pextr(LaneWidth::W, d, b, lane);
                if matches!(op, I16x8ExtractLaneS { .. }) {
                    a.extend_rr(ExtendKind::S16To32, d, d);
                }
            }
            I32x4ExtractLane { lane } => {
                let d = o.d.as_gpr().unwrap();
                let a = self.asm();
                if lane == 0 {
                    a.movd_from_xmm(Size::S32, d, b);
                } else {
                    a.pextr(LaneWidth::D, d, b, lane);
                }
            }
            I64x2ExtractLane { lane } => {
                let d = o.d.as_gpr().unwrap();
                let a = self.asm();
                if lane == 0 {
                    a.movd_from_xmm(Size::S64, d, b);
                } else {
                    a.pextr(LaneWidth::Q, d, b, lane);
                }
            }
            F32x4ExtractLane { lane } => {
                let d = xd(o);
                // The other lanes of a scalar float register are ignored.
                self.asm().packed_imm(PI::Pshufd, d, b, lane);
            }
            F64x2ExtractLane { lane } => {
                let d = xd(o);
                self.asm().packed_imm(PI::Pshufd, d, b, if lane == 0 { 0x44 } else { 0xEE });
            }
            I8x16ReplaceLane { lane } => {
                let d = xd(o);
                self.asm().pinsr(LaneWidth::B, d, o.g.unwrap(), lane)
            }
            I16x8ReplaceLane { lane } => {
                let d = xd(o);
                self.asm().pinsr(LaneWidth::W, d, o.g.unwrap(), lane)
            }
            I32x4ReplaceLane { lane } => {
                let d = xd(o);
                self.asm().pinsr(LaneWidth::D, d, o.g.unwrap(), lane)
            }
            I64x2ReplaceLane { lane } => {
                let d = xd(o);
                self.asm().pinsr(LaneWidth::Q, d, o.g.unwrap(), lane)
            }
            F32x4ReplaceLane { lane } => {
                let d = xd(o);
                self.asm().packed_imm(PI::Insertps, d, b, lane << 4)
            }
            F64x2ReplaceLane { lane } => {
                let d = xd(o);
                if lane == 0 {
                    self.asm().packed_imm(PI::Blendpd, d, b, 1);
                } else {
                    self.asm().packed_imm(PI::Shufpd, d, b, 0);
                }
            }
            I8x16Shuffle { lanes } => {
                let d = xd(o);
                let mut from_a = [0x80u8; 16];
                let mut from_b = [0x80u8; 16];
                for (i, &l) in lanes.iter().enumerate() {
                    if l < 16 {
                        from_a[i] = l;
                    } else {
                        from_b[i] = l - 16;
                    }
                }
                let uses_b = from_b.iter().any(|&x| x < 16);
                let uses_a = from_a.iter().any(|&x| x < 16);
                if uses_a {
                    self.with_const(P::Pshufb, d, from_a);
                }
                if uses_b {
                    let l = self.constant(from_b);
                    let a = self.asm();
                    a.movaps(t, b);
                    a.packed_rip(P::Pshufb, t, l);
                    if uses_a {
                        a.packed(P::Por, d, t);
                    } else {
                        a.movaps(d, t);
                    }
                }
            }
            I8x16Swizzle | I8x16RelaxedSwizzle => {
                // Indices of 16 and more get bit 7, which pshufb reads as zero.
                let d = xd(o);
                let l = self.constant(splat8(0x70));
                let a = self.asm();
                a.movaps(t, b);
                a.packed_rip(P::Paddusb, t, l);
                a.packed(P::Pshufb, d, t);
            }
            V128Not => {
                let d = xd(o);
                let a = self.asm();
                a.packed(P::Pcmpeqd, t, t);
                a.packed(P::Pxor, d, t);
            }
            V128And => self.asm().packed(P::Pand, xd(o), b),
            V128Or => self.asm().packed(P::Por, xd(o), b),
            V128Xor => self.asm().packed(P::Pxor, xd(o), b),
            V128AndNot => {
                let d = xd(o);
                let a = self.asm();
                a.movaps(t, b);
                a.packed(P::Pandn, t, d);
                a.movaps(d, t);
            }
            V128Bitselect
            | I8x16RelaxedLaneselect
            | I16x8RelaxedLaneselect
            | I32x4RelaxedLaneselect
            | I64x2RelaxedLaneselect => {
                // d = (a & mask) | (b & !mask), mask = c.
                let d = xd(o);
                let a = self.asm();
                a.packed(P::Pand, d, c);
                a.movaps(t, c);
                a.packed(P::Pandn, t, b);
                a.packed(P::Por, d, t);
            }
            V128AnyTrue => {
                let d = o.d.as_gpr().unwrap();
                let a = self.asm();
                a.alu_rr(AluOp::Xor, Size::S32, d, d);
                a.packed(P::Ptest, b, b);
                a.setcc(Cond::NE, d);
            }
            I8x16AllTrue | I16x8AllTrue | I32x4AllTrue | I64x2AllTrue => {
                let eq = match op {
                    I8x16AllTrue => P::Pcmpeqb,
                    I16x8AllTrue => P::Pcmpeqw,
                    I32x4AllTrue => P::Pcmpeqd,
                    _ => P::Pcmpeqq,
                };
                let d = o.d.as_gpr().unwrap();
                let a = self.asm();
                a.packed(P::Pxor, t, t);
                a.packed(eq, t, b);
                a.alu_rr(AluOp::Xor, Size::S32, d, d);
                a.packed(P::Ptest, t, t);
                a.setcc(Cond::E, d);
            }
            I8x16Bitmask => {
                let d = o.d.as_gpr().unwrap();
                self.asm().movmsk(MaskOp::Pmovmskb, d, b);
            }
            I16x8Bitmask => {
                let d = o.d.as_gpr().unwrap();
                let a = self.asm();
                a.movaps(t, b);
                a.packed(P::Packsswb, t, t);
                a.movmsk(MaskOp::Pmovmskb, d, t);
                a.shift_ri(ShiftOp::Shr, Size::S32, d, 8);
            }
            I32x4Bitmask => {
                let d = o.d.as_gpr().unwrap();
                self.asm().movmsk(MaskOp::Movmskps, d, b);
            }
            I64x2Bitmask => {
                let d = o.d.as_gpr().unwrap();
                self.asm().movmsk(MaskOp::Movmskpd, d, b);
            }
            _ => return false,
        }
        true
    }
}

/// The packed instruction that is the whole of `op` (`dst = dst op src`).
fn direct(op: SimdOp) -> Option<PackedOp> {
    use SimdOp::*;
    Some(match op {
        I8x16Add => P::Paddb,
        I16x8Add => P::Paddw,
        I32x4Add => P::Paddd,
        I64x2Add => P::Paddq,
        I8x16Sub => P::Psubb,
        I16x8Sub => P::Psubw,
        I32x4Sub => P::Psubd,
        I64x2Sub => P::Psubq,
        I8x16AddSatS => P::Paddsb,
        I8x16AddSatU => P::Paddusb,
        I16x8AddSatS => P::Paddsw,
        I16x8AddSatU => P::Paddusw,
        I8x16SubSatS => P::Psubsb,
        I8x16SubSatU => P::Psubusb,
        I16x8SubSatS => P::Psubsw,
        I16x8SubSatU => P::Psubusw,
        I16x8Mul => P::Pmullw,
        I32x4Mul => P::Pmulld,
        I8x16MinS => P::Pminsb,
        I8x16MinU => P::Pminub,
        I8x16MaxS => P::Pmaxsb,
        I8x16MaxU => P::Pmaxub,
        I16x8MinS => P::Pminsw,
        I16x8MinU => P::Pminuw,
        I16x8MaxS => P::Pmaxsw,
        I16x8MaxU => P::Pmaxuw,
        I32x4MinS => P::Pminsd,
        I32x4MinU => P::Pminud,
        I32x4MaxS => P::Pmaxsd,
        I32x4MaxU => P::Pmaxud,
        I8x16AvgrU => P::Pavgb,
        I16x8AvgrU => P::Pavgw,
        I32x4DotI16x8S => P::Pmaddwd,
        I8x16NarrowI16x8S => P::Packsswb,
        I8x16NarrowI16x8U => P::Packuswb,
        I16x8NarrowI32x4S => P::Packssdw,
        I16x8NarrowI32x4U => P::Packusdw,
        I8x16Eq => P::Pcmpeqb,
        I16x8Eq => P::Pcmpeqw,
        I32x4Eq => P::Pcmpeqd,
        I64x2Eq => P::Pcmpeqq,
        I8x16GtS => P::Pcmpgtb,
        I16x8GtS => P::Pcmpgtw,
        I32x4GtS => P::Pcmpgtd,
        I64x2GtS => P::Pcmpgtq,
        F32x4Add => P::Addps,
        F64x2Add => P::Addpd,
        F32x4Sub => P::Subps,
        F64x2Sub => P::Subpd,
        F32x4Mul => P::Mulps,
        F64x2Mul => P::Mulpd,
        F32x4Div => P::Divps,
        F64x2Div => P::Divpd,
        _ => return None,
    })
}

/// The packed operator that is the whole of one-operand `op`, in place.
fn direct_unary(op: SimdOp) -> Option<PackedOp> {
    use SimdOp::*;
    Some(match op {
        I8x16Abs => P::Pabsb,
        I16x8Abs => P::Pabsw,
        I32x4Abs => P::Pabsd,
        I16x8ExtendLowI8x16S => P::Pmovsxbw,
        I16x8ExtendLowI8x16U => P::Pmovzxbw,
        I32x4ExtendLowI16x8S => P::Pmovsxwd,
        I32x4ExtendLowI16x8U => P::Pmovzxwd,
        I64x2ExtendLowI32x4S => P::Pmovsxdq,
        I64x2ExtendLowI32x4U => P::Pmovzxdq,
        F32x4Sqrt => P::Sqrtps,
        F64x2Sqrt => P::Sqrtpd,
        F32x4ConvertI32x4S => P::Cvtdq2ps,
        F64x2ConvertLowI32x4S => P::Cvtdq2pd,
        F32x4DemoteF64x2Zero => P::Cvtpd2ps,
        F64x2PromoteLowF32x4 => P::Cvtps2pd,
        _ => return None,
    })
}

/// Lane shapes of the integer comparisons built from min/max and gt.
struct IntLanes {
    eq: PackedOp,
    gt: Option<PackedOp>,
    min_s: Option<PackedOp>,
    max_s: Option<PackedOp>,
    min_u: Option<PackedOp>,
    max_u: Option<PackedOp>,
}

const LANES8: IntLanes = IntLanes {
    eq: P::Pcmpeqb,
    gt: Some(P::Pcmpgtb),
    min_s: Some(P::Pminsb),
    max_s: Some(P::Pmaxsb),
    min_u: Some(P::Pminub),
    max_u: Some(P::Pmaxub),
};
const LANES16: IntLanes = IntLanes {
    eq: P::Pcmpeqw,
    gt: Some(P::Pcmpgtw),
    min_s: Some(P::Pminsw),
    max_s: Some(P::Pmaxsw),
    min_u: Some(P::Pminuw),
    max_u: Some(P::Pmaxuw),
};
const LANES32: IntLanes = IntLanes {
    eq: P::Pcmpeqd,
    gt: Some(P::Pcmpgtd),
    min_s: Some(P::Pminsd),
    max_s: Some(P::Pmaxsd),
    min_u: Some(P::Pminud),
    max_u: Some(P::Pmaxud),
};
const LANES64: IntLanes =
    IntLanes { eq: P::Pcmpeqq, gt: Some(P::Pcmpgtq), min_s: None, max_s: None, min_u: None, max_u: None };

/// An integer comparison as a mask: which lanes and which relation.
#[derive(Clone, Copy, PartialEq)]
enum Rel {
    Ne,
    LtS,
    LtU,
    GtU,
    LeS,
    LeU,
    GeS,
    GeU,
}

fn int_compare(op: SimdOp) -> Option<(&'static IntLanes, Rel)> {
    use SimdOp::*;
    let (lanes, rel) = match op {
        I8x16Ne => (&LANES8, Rel::Ne),
        I8x16LtS => (&LANES8, Rel::LtS),
        I8x16LtU => (&LANES8, Rel::LtU),
        I8x16GtU => (&LANES8, Rel::GtU),
        I8x16LeS => (&LANES8, Rel::LeS),
        I8x16LeU => (&LANES8, Rel::LeU),
        I8x16GeS => (&LANES8, Rel::GeS),
        I8x16GeU => (&LANES8, Rel::GeU),
        I16x8Ne => (&LANES16, Rel::Ne),
        I16x8LtS => (&LANES16, Rel::LtS),
        I16x8LtU => (&LANES16, Rel::LtU),
        I16x8GtU => (&LANES16, Rel::GtU),
        I16x8LeS => (&LANES16, Rel::LeS),
        I16x8LeU => (&LANES16, Rel::LeU),
        I16x8GeS => (&LANES16, Rel::GeS),
        I16x8GeU => (&LANES16, Rel::GeU),
        I32x4Ne => (&LANES32, Rel::Ne),
        I32x4LtS => (&LANES32, Rel::LtS),
        I32x4LtU => (&LANES32, Rel::LtU),
        I32x4GtU => (&LANES32, Rel::GtU),
        I32x4LeS => (&LANES32, Rel::LeS),
        I32x4LeU => (&LANES32, Rel::LeU),
        I32x4GeS => (&LANES32, Rel::GeS),
        I32x4GeU => (&LANES32, Rel::GeU),
        I64x2Ne => (&LANES64, Rel::Ne),
        I64x2LtS => (&LANES64, Rel::LtS),
        I64x2LeS => (&LANES64, Rel::LeS),
        I64x2GeS => (&LANES64, Rel::GeS),
        _ => return None,
    };
    Some((lanes, rel))
}

impl FuncEmitter<'_> {
    /// `d = !d`, using `t`.
    fn not(&mut self, d: Xmm, t: Xmm) {
        let a = self.asm();
        a.packed(P::Pcmpeqd, t, t);
        a.packed(P::Pxor, d, t);
    }

    /// Integer lane arithmetic, comparisons, shifts and conversions.
    fn simd_int(&mut self, op: SimdOp, o: &Ops, imm: Option<u8>) -> bool {
        use SimdOp::*;
        let Some(d) = o.d.as_xmm() else { return false };
        let b = o.x[0];
        let [t, t2, t3, _] = o.t;
        if let Some(p) = direct(op) {
            self.asm().packed(p, d, b);
            return true;
        }
        if let Some(p) = direct_unary(op) {
            self.asm().packed(p, d, d);
            return true;
        }
        if let Some((lanes, rel)) = int_compare(op) {
            let a = self.asm();
            match rel {
                Rel::Ne => {
                    a.packed(lanes.eq, d, b);
                    self.not(d, t);
                }
                Rel::LtS => {
                    a.movaps(t, b);
                    a.packed(lanes.gt.unwrap(), t, d);
                    a.movaps(d, t);
                }
                Rel::LeS if lanes.min_s.is_none() => {
                    a.packed(lanes.gt.unwrap(), d, b);
                    self.not(d, t);
                }
                Rel::GeS if lanes.max_s.is_none() => {
                    a.movaps(t, b);
                    a.packed(lanes.gt.unwrap(), t, d);
                    a.movaps(d, t);
                    self.not(d, t);
                }
                Rel::LeS | Rel::LeU | Rel::GtU => {
                    // a <= b exactly when min(a, b) == a.
                    let min = if rel == Rel::LeS { lanes.min_s } else { lanes.min_u };
                    a.movaps(t, d);
                    a.packed(min.unwrap(), t, b);
                    a.packed(lanes.eq, d, t);
                    if rel == Rel::GtU {
                        self.not(d, t);
                    }
                }
                Rel::GeS | Rel::GeU | Rel::LtU => {
                    let max = if rel == Rel::GeS { lanes.max_s } else { lanes.max_u };
                    a.movaps(t, d);
                    a.packed(max.unwrap(), t, b);
                    a.packed(lanes.eq, d, t);
                    if rel == Rel::LtU {
                        self.not(d, t);
                    }
                }
            }
            return true;
        }
        match op {
            I64x2Abs => {
                let a = self.asm();
                a.movaps(t, d);
                a.shift_imm(ShiftImmOp::Psrad, t, 31);
                a.packed_imm(PI::Pshufd, t, t, 0xF5);
                a.packed(P::Pxor, d, t);
                a.packed(P::Psubq, d, t);
            }
            I8x16Neg | I16x8Neg | I32x4Neg | I64x2Neg => {
                let sub = match op {
                    I8x16Neg => P::Psubb,
                    I16x8Neg => P::Psubw,
                    I32x4Neg => P::Psubd,
                    _ => P::Psubq,
                };
                let a = self.asm();
                a.packed(P::Pxor, t, t);
                a.packed(sub, t, d);
                a.movaps(d, t);
            }
            I8x16Popcnt => {
                let low = self.constant(splat8(0x0F));
                let table = self.constant([0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4]);
                let a = self.asm();
                a.movaps(t, d);
                a.shift_imm(ShiftImmOp::Psrlw, t, 4);
                a.packed_rip(P::Pand, d, low);
                a.packed_rip(P::Pand, t, low);
                a.movdqa_rip(t2, table);
                a.packed(P::Pshufb, t2, d);
                a.movdqa_rip(d, table);
                a.packed(P::Pshufb, d, t);
                a.packed(P::Paddb, d, t2);
            }
            I16x8ExtendHighI8x16S | I32x4ExtendHighI16x8S | I64x2ExtendHighI32x4S => {
                let ext = match op {
                    I16x8ExtendHighI8x16S => P::Pmovsxbw,
                    I32x4ExtendHighI16x8S => P::Pmovsxwd,
                    _ => P::Pmovsxdq,
                };
                let a = self.asm();
                a.packed_imm(PI::Pshufd, d, d, 0xEE);
                a.packed(ext, d, d);
            }
            I16x8ExtendHighI8x16U | I32x4ExtendHighI16x8U | I64x2ExtendHighI32x4U => {
                let unpack = match op {
                    I16x8ExtendHighI8x16U => P::Punpckhbw,
                    I32x4ExtendHighI16x8U => P::Punpckhwd,
                    _ => P::Punpckhdq,
                };
                let a = self.asm();
                a.packed(P::Pxor, t, t);
                a.packed(unpack, d, t);
            }
            I16x8Shl | I16x8ShrS | I16x8ShrU | I32x4Shl | I32x4ShrS | I32x4ShrU | I64x2Shl
            | I64x2ShrU => {
                let (by_reg, by_imm, bits) = match op {
                    I16x8Shl => (P::Psllw, ShiftImmOp::Psllw, 16),
                    I16x8ShrS => (P::Psraw, ShiftImmOp::Psraw, 16),
                    I16x8ShrU => (P::Psrlw, ShiftImmOp::Psrlw, 16),
                    I32x4Shl => (P::Pslld, ShiftImmOp::Pslld, 32),
                    I32x4ShrS => (P::Psrad, ShiftImmOp::Psrad, 32),
                    I32x4ShrU => (P::Psrld, ShiftImmOp::Psrld, 32),
                    I64x2Shl => (P::Psllq, ShiftImmOp::Psllq, 64),
                    _ => (P::Psrlq, ShiftImmOp::Psrlq, 64),
                };
                match imm {
                    Some(n) => self.asm().shift_imm(by_imm, d, n & (bits - 1)),
                    None => {
                        self.shift_count(o, bits as i32 - 1, 0);
                        self.asm().packed(by_reg, d, t);
                    }
                }
            }
            I64x2ShrS => {
                // ((x >>u n) ^ m) - m with m = the sign bit >>u n.
                let sign = self.constant(splat64(1 << 63));
                match imm {
                    Some(n) => {
                        let a = self.asm();
                        a.shift_imm(ShiftImmOp::Psrlq, d, n & 63);
                        a.movdqa_rip(t2, sign);
                        a.shift_imm(ShiftImmOp::Psrlq, t2, n & 63);
                    }
                    None => {
                        self.shift_count(o, 63, 0);
                        let a = self.asm();
                        a.packed(P::Psrlq, d, t);
                        a.movdqa_rip(t2, sign);
                        a.packed(P::Psrlq, t2, t);
                    }
                }
                let a = self.asm();
                a.packed(P::Pxor, d, t2);
                a.packed(P::Psubq, d, t2);
            }
            I8x16Shl | I8x16ShrU => {
                // Shift as 16-bit lanes, then clear the bits that crossed
                // from the neighbouring byte: mask = (0xFF shifted) in every byte.
                let (by_reg, by_imm) = if op == I8x16Shl {
                    (P::Psllw, ShiftImmOp::Psllw)
                } else {
                    (P::Psrlw, ShiftImmOp::Psrlw)
                };
                match imm {
                    Some(n) => {
                        let n = n & 7;
                        let m = if op == I8x16Shl { 0xFFu8 << n } else { 0xFFu8 >> n };
                        self.asm().shift_imm(by_imm, d, n);
                        self.with_const(P::Pand, d, splat8(m));
                    }
                    None => {
                        self.shift_count(o, 7, 0);
                        let g = o.tg.unwrap();
                        let a = self.asm();
                        a.packed(by_reg, d, t);
                        a.mov_ri(Size::S32, g, 0xFF);
                        a.movd_to_xmm(Size::S32, t2, g);
                        a.packed(by_reg, t2, t);
                        a.packed(P::Pxor, t3, t3);
                        a.packed(P::Pshufb, t2, t3);
                        a.packed(P::Pand, d, t2);
                    }
                }
            }
            I8x16ShrS => {
                // Each byte into the high half of a 16-bit lane, shift by n + 8.
                match imm {
                    Some(n) => {
                        let n = (n & 7) + 8;
                        let a = self.asm();
                        a.movaps(t2, d);
                        a.packed(P::Punpcklbw, t2, t2);
                        a.packed(P::Punpckhbw, d, d);
                        a.shift_imm(ShiftImmOp::Psraw, t2, n);
                        a.shift_imm(ShiftImmOp::Psraw, d, n);
                    }
                    None => {
                        self.shift_count(o, 7, 8);
                        let a = self.asm();
                        a.movaps(t2, d);
                        a.packed(P::Punpcklbw, t2, t2);
                        a.packed(P::Punpckhbw, d, d);
                        a.packed(P::Psraw, t2, t);
                        a.packed(P::Psraw, d, t);
                    }
                }
                let a = self.asm();
                a.packed(P::Packsswb, t2, d);
                a.movaps(d, t2);
            }
            I64x2Mul => {
                // lo(a)*lo(b) + ((hi(a)*lo(b) + lo(a)*hi(b)) << 32).
                let a = self.asm();
                a.movaps(t, d);
                a.shift_imm(ShiftImmOp::Psrlq, t, 32);
                a.packed(P::Pmuludq, t, b);
                a.movaps(t2, b);
                a.shift_imm(ShiftImmOp::Psrlq, t2, 32);
                a.packed(P::Pmuludq, t2, d);
                a.packed(P::Paddq, t, t2);
                a.shift_imm(ShiftImmOp::Psllq, t, 32);
                a.packed(P::Pmuludq, d, b);
                a.packed(P::Paddq, d, t);
            }
            I16x8Q15MulrSatS | I16x8RelaxedQ15mulrS => {
                // pmulhrsw gives 0x8000 only for 0x8000 * 0x8000, which saturates.
                let min = self.constant(splat16(0x8000));
                let a = self.asm();
                a.packed(P::Pmulhrsw, d, b);
                a.movdqa_rip(t, min);
                a.packed(P::Pcmpeqw, t, d);
                a.packed(P::Pxor, d, t);
            }
            I16x8ExtMulLowI8x16S | I16x8ExtMulLowI8x16U | I16x8ExtMulHighI8x16S
            | I16x8ExtMulHighI8x16U => {
                let signed = matches!(op, I16x8ExtMulLowI8x16S | I16x8ExtMulHighI8x16S);
                let high = matches!(op, I16x8ExtMulHighI8x16S | I16x8ExtMulHighI8x16U);
                let ext = if signed { P::Pmovsxbw } else { P::Pmovzxbw };
                let a = self.asm();
                if high {
                    a.packed_imm(PI::Pshufd, t, b, 0xEE);
                    a.packed(ext, t, t);
                    a.packed_imm(PI::Pshufd, d, d, 0xEE);
                } else {
                    a.packed(ext, t, b);
                }
                a.packed(ext, d, d);
                a.packed(P::Pmullw, d, t);
            }
            I32x4ExtMulLowI16x8S | I32x4ExtMulLowI16x8U | I32x4ExtMulHighI16x8S
            | I32x4ExtMulHighI16x8U => {
                let signed = matches!(op, I32x4ExtMulLowI16x8S | I32x4ExtMulHighI16x8S);
                let high = matches!(op, I32x4ExtMulHighI16x8S | I32x4ExtMulHighI16x8U);
                let a = self.asm();
                a.movaps(t, d);
                a.packed(P::Pmullw, t, b);
                a.packed(if signed { P::Pmulhw } else { P::Pmulhuw }, d, b);
                a.packed(if high { P::Punpckhwd } else { P::Punpcklwd }, t, d);
                a.movaps(d, t);
            }
            I64x2ExtMulLowI32x4S | I64x2ExtMulLowI32x4U | I64x2ExtMulHighI32x4S
            | I64x2ExtMulHighI32x4U => {
                let signed = matches!(op, I64x2ExtMulLowI32x4S | I64x2ExtMulHighI32x4S);
                let high = matches!(op, I64x2ExtMulHighI32x4S | I64x2ExtMulHighI32x4U);
                let pick = if high { 0xFA } else { 0x50 };
                let a = self.asm();
                a.packed_imm(PI::Pshufd, d, d, pick);
                a.packed_imm(PI::Pshufd, t, b, pick);
                a.packed(if signed { P::Pmuldq } else { P::Pmuludq }, d, t);
            }
            I16x8ExtAddPairwiseI8x16S => {
                // pmaddubsw multiplies unsigned bytes of the destination by
                // signed bytes of the source: ones * x.
                let ones = self.constant(splat8(1));
                let a = self.asm();
                a.movdqa_rip(t, ones);
                a.packed(P::Pmaddubsw, t, d);
                a.movaps(d, t);
            }
            I16x8ExtAddPairwiseI8x16U => self.with_const(P::Pmaddubsw, d, splat8(1)),
            I32x4ExtAddPairwiseI16x8S => self.with_const(P::Pmaddwd, d, splat16(1)),
            I32x4ExtAddPairwiseI16x8U => {
                // Bias to signed, add pairs, unbias: (x - 32768) pairs + 65536.
                self.with_const(P::Pxor, d, splat16(0x8000));
                self.with_const(P::Pmaddwd, d, splat16(1));
                self.with_const(P::Paddd, d, splat32(0x1_0000));
            }
            I16x8RelaxedDotI8x16I7x16S => {
                let a = self.asm();
                a.movaps(t, b);
                a.packed(P::Pmaddubsw, t, d);
                a.movaps(d, t);
            }
            I32x4RelaxedDotI8x16I7x16AddS => {
                let c = o.x[1];
                let ones = self.constant(splat16(1));
                let a = self.asm();
                a.movaps(t, b);
                a.packed(P::Pmaddubsw, t, d);
                a.packed_rip(P::Pmaddwd, t, ones);
                a.packed(P::Paddd, t, c);
                a.movaps(d, t);
            }
            _ => return false,
        }
        true
    }

    /// Loads the shift count operand, masked to `mask` and plus `add`,
    /// into the first xmm temporary (through the GPR temporary).
    fn shift_count(&mut self, o: &Ops, mask: i32, add: i32) {
        let (g, count, t) = (o.tg.unwrap(), o.g.unwrap(), o.t[0]);
        let a = self.asm();
        a.mov_rr(Size::S32, g, count);
        a.alu_ri(AluOp::And, Size::S32, g, mask);
        if add != 0 {
            a.alu_ri(AluOp::Add, Size::S32, g, add);
        }
        a.movd_to_xmm(Size::S32, t, g);
    }
}

impl FuncEmitter<'_> {
    /// Float lane arithmetic, comparisons and conversions.
    fn simd_float(&mut self, op: SimdOp, o: &Ops) -> bool {
        use SimdOp::*;
        let Some(d) = o.d.as_xmm() else { return false };
        let b = o.x[0];
        let [t, t2, _, _] = o.t;
        let double = matches!(
            op,
            F64x2Eq
                | F64x2Ne
                | F64x2Lt
                | F64x2Le
                | F64x2Gt
                | F64x2Ge
                | F64x2Abs
                | F64x2Neg
                | F64x2Min
                | F64x2Max
                | F64x2RelaxedMin
                | F64x2RelaxedMax
                | F64x2PMin
                | F64x2PMax
                | F64x2Ceil
                | F64x2Floor
                | F64x2Trunc
                | F64x2Nearest
                | F64x2RelaxedMadd
                | F64x2RelaxedNmadd
        );
        let cmp = if double { PI::Cmppd } else { PI::Cmpps };
        let (min, max) = if double { (P::Minpd, P::Maxpd) } else { (P::Minps, P::Maxps) };
        match op {
            F32x4Eq | F64x2Eq => self.asm().packed_imm(cmp, d, b, 0),
            F32x4Ne | F64x2Ne => self.asm().packed_imm(cmp, d, b, 4),
            F32x4Lt | F64x2Lt => self.asm().packed_imm(cmp, d, b, 1),
            F32x4Le | F64x2Le => self.asm().packed_imm(cmp, d, b, 2),
            F32x4Gt | F64x2Gt | F32x4Ge | F64x2Ge => {
                let pred = if matches!(op, F32x4Gt | F64x2Gt) { 1 } else { 2 };
                let a = self.asm();
                a.movaps(t, b);
                a.packed_imm(cmp, t, d, pred);
                a.movaps(d, t);
            }
            F32x4Abs => self.with_const(P::Andps, d, splat32(0x7FFF_FFFF)),
            F64x2Abs => self.with_const(P::Andpd, d, splat64(0x7FFF_FFFF_FFFF_FFFF)),
            F32x4Neg => self.with_const(P::Xorps, d, splat32(0x8000_0000)),
            F64x2Neg => self.with_const(P::Xorpd, d, splat64(0x8000_0000_0000_0000)),
            F32x4Min | F64x2Min | F32x4RelaxedMin | F64x2RelaxedMin | F32x4Max | F64x2Max
            | F32x4RelaxedMax | F64x2RelaxedMax => {
                // x86 min/max return the second operand on NaN and on equal
                // operands (±0). Both orders combined: `or` gives -0 for
                // min, `and` gives +0 for max; NaN lanes (from the unordered
                // mask) become the canonical NaN.
                let is_min = matches!(op, F32x4Min | F64x2Min | F32x4RelaxedMin | F64x2RelaxedMin);
                let (mm, join) = if is_min { (min, P::Orps) } else { (max, P::Andps) };
                let a = self.asm();
                a.movaps(t, d);
                a.packed(mm, t, b);
                a.movaps(t2, b);
                a.packed(mm, t2, d);
                a.packed(join, t, t2);
                a.movaps(t2, d);
                a.packed_imm(cmp, t2, b, 3);
                a.packed(P::Orps, t, t2);
                if double {
                    a.shift_imm(ShiftImmOp::Psrlq, t2, 13);
                } else {
                    a.shift_imm(ShiftImmOp::Psrld, t2, 10);
                }
                a.packed(P::Andnps, t2, t);
                a.movaps(d, t2);
            }
            F32x4PMin | F64x2PMin | F32x4PMax | F64x2PMax => {
                // pmin(a, b) = b < a ? b : a, which is min(b, a) on x86.
                let mm = if matches!(op, F32x4PMin | F64x2PMin) { min } else { max };
                let a = self.asm();
                a.movaps(t, b);
                a.packed(mm, t, d);
                a.movaps(d, t);
            }
            F32x4Ceil | F32x4Floor | F32x4Trunc | F32x4Nearest | F64x2Ceil | F64x2Floor
            | F64x2Trunc | F64x2Nearest => {
                let mode = match op {
                    F32x4Nearest | F64x2Nearest => 0,
                    F32x4Floor | F64x2Floor => 1,
                    F32x4Ceil | F64x2Ceil => 2,
                    _ => 3,
                };
                let round = if double { PI::Roundpd } else { PI::Roundps };
                self.asm().packed_imm(round, d, d, mode | 8);
            }
            F32x4RelaxedMadd | F64x2RelaxedMadd | F32x4RelaxedNmadd | F64x2RelaxedNmadd => {
                let c = o.x[1];
                let (mul, add, sub) = if double {
                    (P::Mulpd, P::Addpd, P::Subpd)
                } else {
                    (P::Mulps, P::Addps, P::Subps)
                };
                let a = self.asm();
                a.packed(mul, d, b);
                if matches!(op, F32x4RelaxedMadd | F64x2RelaxedMadd) {
                    a.packed(add, d, c);
                } else {
                    a.movaps(t, c);
                    a.packed(sub, t, d);
                    a.movaps(d, t);
                }
            }
            F32x4ConvertI32x4U => {
                // The low 16 bits convert exactly; the high part is halved
                // so that it is positive, converted and doubled.
                let a = self.asm();
                a.movaps(t, d);
                a.shift_imm(ShiftImmOp::Pslld, t, 16);
                a.shift_imm(ShiftImmOp::Psrld, t, 16);
                a.packed(P::Psubd, d, t);
                a.packed(P::Cvtdq2ps, t, t);
                a.shift_imm(ShiftImmOp::Psrld, d, 1);
                a.packed(P::Cvtdq2ps, d, d);
                a.packed(P::Addps, d, d);
                a.packed(P::Addps, d, t);
            }
            F64x2ConvertLowI32x4U => {
                // 2^52 + x as a double has x in its low bits.
                self.with_const(P::Unpcklps, d, splat32(0x4330_0000));
                self.with_const(P::Subpd, d, splat64(0x4330_0000_0000_0000));
            }
            I32x4TruncSatF32x4S | I32x4RelaxedTruncF32x4S => {
                let a = self.asm();
                a.movaps(t, d);
                a.packed_imm(PI::Cmpps, t, t, 0);
                a.packed(P::Andps, d, t);
                a.packed(P::Pxor, t, d);
                a.packed(P::Cvttps2dq, d, d);
                a.packed(P::Pand, t, d);
                a.shift_imm(ShiftImmOp::Psrad, t, 31);
                a.packed(P::Pxor, d, t);
            }
            I32x4TruncSatF32x4U | I32x4RelaxedTruncF32x4U => {
                let a = self.asm();
                a.packed(P::Xorps, t, t);
                a.packed(P::Maxps, d, t);
                a.packed(P::Pcmpeqd, t, t);
                a.shift_imm(ShiftImmOp::Psrld, t, 1);
                a.packed(P::Cvtdq2ps, t, t);
                a.movaps(t2, d);
                a.packed(P::Subps, t2, t);
                a.packed_imm(PI::Cmpps, t, t2, 2);
                a.packed(P::Cvttps2dq, t2, t2);
                a.packed(P::Pxor, t2, t);
                a.packed(P::Pxor, t, t);
                a.packed(P::Pmaxsd, t2, t);
                a.packed(P::Cvttps2dq, d, d);
                a.packed(P::Paddd, d, t2);
            }
            I32x4TruncSatF64x2SZero | I32x4RelaxedTruncF64x2SZero => {
                let limit = self.constant(splat64(2147483647.0f64.to_bits()));
                let a = self.asm();
                a.movaps(t, d);
                a.packed_imm(PI::Cmppd, t, t, 0);
                a.packed_rip(P::Andpd, t, limit);
                a.packed(P::Minpd, d, t);
                a.packed(P::Cvttpd2dq, d, d);
            }
            I32x4TruncSatF64x2UZero | I32x4RelaxedTruncF64x2UZero => {
                let limit = self.constant(splat64(4294967295.0f64.to_bits()));
                let two52 = self.constant(splat64(0x4330_0000_0000_0000));
                let a = self.asm();
                a.packed(P::Xorpd, t, t);
                a.packed(P::Maxpd, d, t);
                a.packed_rip(P::Minpd, d, limit);
                a.packed_imm(PI::Roundpd, d, d, 3 | 8);
                a.packed_rip(P::Addpd, d, two52);
                a.packed_imm(PI::Shufps, d, t, 0x88);
            }
            _ => return false,
        }
        true
    }
}
