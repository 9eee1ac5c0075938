//! The encoder's packed (128-bit) SSE forms, up to SSE4.1: what the
//! vector operators are made of. Each form is checked against iced-x86 in
//! the tests below, over every register pair and a spread of memory
//! operands, like the scalar forms in `encode.rs`.

use super::encode::{Asm, Label, Rm};
use super::regs::{Amode, Gpr, Xmm};

macro_rules! packed_ops {
    ($( $(#[$doc:meta])* $name:ident = [$($pfx:literal)?] [$($opc:literal),+], )*) => {
        /// A packed instruction `op xmm, xmm/m128` (`dst = dst op src`, or
        /// `dst = op(src)` for the one-operand forms). Legacy-SSE memory
        /// operands must be 16-byte aligned except for `pshufb`/`pmov*x`
        /// (8-byte reads) and the constant pool is aligned.
        #[allow(missing_docs)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum PackedOp {
            $( $(#[$doc])* $name, )*
        }

        impl PackedOp {
            /// Every form, for the tests.
            #[cfg(test)]
            pub const ALL: &'static [PackedOp] = &[$(PackedOp::$name,)*];

            /// Mandatory prefix and opcode bytes (from `0F`).
            fn encoding(self) -> (&'static [u8], &'static [u8]) {
                match self {
                    $( PackedOp::$name => (&[$($pfx)?], &[$($opc),+]), )*
                }
            }
        }
    };
}

packed_ops! {
    Paddb = [0x66] [0x0F, 0xFC],
    Paddw = [0x66] [0x0F, 0xFD],
    Paddd = [0x66] [0x0F, 0xFE],
    Paddq = [0x66] [0x0F, 0xD4],
    Psubb = [0x66] [0x0F, 0xF8],
    Psubw = [0x66] [0x0F, 0xF9],
    Psubd = [0x66] [0x0F, 0xFA],
    Psubq = [0x66] [0x0F, 0xFB],
    Paddsb = [0x66] [0x0F, 0xEC],
    Paddsw = [0x66] [0x0F, 0xED],
    Paddusb = [0x66] [0x0F, 0xDC],
    Paddusw = [0x66] [0x0F, 0xDD],
    Psubsb = [0x66] [0x0F, 0xE8],
    Psubsw = [0x66] [0x0F, 0xE9],
    Psubusb = [0x66] [0x0F, 0xD8],
    Psubusw = [0x66] [0x0F, 0xD9],
    Pmullw = [0x66] [0x0F, 0xD5],
    Pmulhw = [0x66] [0x0F, 0xE5],
    Pmulhuw = [0x66] [0x0F, 0xE4],
    Pmuludq = [0x66] [0x0F, 0xF4],
    Pmaddwd = [0x66] [0x0F, 0xF5],
    Pavgb = [0x66] [0x0F, 0xE0],
    Pavgw = [0x66] [0x0F, 0xE3],
    Pminub = [0x66] [0x0F, 0xDA],
    Pmaxub = [0x66] [0x0F, 0xDE],
    Pminsw = [0x66] [0x0F, 0xEA],
    Pmaxsw = [0x66] [0x0F, 0xEE],
    Pand = [0x66] [0x0F, 0xDB],
    Pandn = [0x66] [0x0F, 0xDF],
    Por = [0x66] [0x0F, 0xEB],
    Pxor = [0x66] [0x0F, 0xEF],
    Pcmpeqb = [0x66] [0x0F, 0x74],
    Pcmpeqw = [0x66] [0x0F, 0x75],
    Pcmpeqd = [0x66] [0x0F, 0x76],
    Pcmpgtb = [0x66] [0x0F, 0x64],
    Pcmpgtw = [0x66] [0x0F, 0x65],
    Pcmpgtd = [0x66] [0x0F, 0x66],
    Punpcklbw = [0x66] [0x0F, 0x60],
    Punpcklwd = [0x66] [0x0F, 0x61],
    Punpckldq = [0x66] [0x0F, 0x62],
    Punpcklqdq = [0x66] [0x0F, 0x6C],
    Punpckhbw = [0x66] [0x0F, 0x68],
    Punpckhwd = [0x66] [0x0F, 0x69],
    Punpckhdq = [0x66] [0x0F, 0x6A],
    Punpckhqdq = [0x66] [0x0F, 0x6D],
    Packsswb = [0x66] [0x0F, 0x63],
    Packssdw = [0x66] [0x0F, 0x6B],
    Packuswb = [0x66] [0x0F, 0x67],
    Psllw = [0x66] [0x0F, 0xF1],
    Pslld = [0x66] [0x0F, 0xF2],
    Psllq = [0x66] [0x0F, 0xF3],
    Psrlw = [0x66] [0x0F, 0xD1],
    Psrld = [0x66] [0x0F, 0xD2],
    Psrlq = [0x66] [0x0F, 0xD3],
    Psraw = [0x66] [0x0F, 0xE1],
    Psrad = [0x66] [0x0F, 0xE2],
    Movdqa = [0x66] [0x0F, 0x6F],
    Movq = [0xF3] [0x0F, 0x7E],
    // SSSE3
    Pshufb = [0x66] [0x0F, 0x38, 0x00],
    Pmaddubsw = [0x66] [0x0F, 0x38, 0x04],
    Pmulhrsw = [0x66] [0x0F, 0x38, 0x0B],
    Pabsb = [0x66] [0x0F, 0x38, 0x1C],
    Pabsw = [0x66] [0x0F, 0x38, 0x1D],
    Pabsd = [0x66] [0x0F, 0x38, 0x1E],
    // SSE4.1
    Pmovsxbw = [0x66] [0x0F, 0x38, 0x20],
    Pmovsxwd = [0x66] [0x0F, 0x38, 0x23],
    Pmovsxdq = [0x66] [0x0F, 0x38, 0x25],
    Pmovzxbw = [0x66] [0x0F, 0x38, 0x30],
    Pmovzxwd = [0x66] [0x0F, 0x38, 0x33],
    Pmovzxdq = [0x66] [0x0F, 0x38, 0x35],
    Pmuldq = [0x66] [0x0F, 0x38, 0x28],
    Pcmpeqq = [0x66] [0x0F, 0x38, 0x29],
    Packusdw = [0x66] [0x0F, 0x38, 0x2B],
    Pminsb = [0x66] [0x0F, 0x38, 0x38],
    Pminsd = [0x66] [0x0F, 0x38, 0x39],
    Pminuw = [0x66] [0x0F, 0x38, 0x3A],
    Pminud = [0x66] [0x0F, 0x38, 0x3B],
    Pmaxsb = [0x66] [0x0F, 0x38, 0x3C],
    Pmaxsd = [0x66] [0x0F, 0x38, 0x3D],
    Pmaxuw = [0x66] [0x0F, 0x38, 0x3E],
    Pmaxud = [0x66] [0x0F, 0x38, 0x3F],
    Pmulld = [0x66] [0x0F, 0x38, 0x40],
    Ptest = [0x66] [0x0F, 0x38, 0x17],
    // SSE4.2
    Pcmpgtq = [0x66] [0x0F, 0x38, 0x37],
    // Floats
    Addps = [] [0x0F, 0x58],
    Addpd = [0x66] [0x0F, 0x58],
    Subps = [] [0x0F, 0x5C],
    Subpd = [0x66] [0x0F, 0x5C],
    Mulps = [] [0x0F, 0x59],
    Mulpd = [0x66] [0x0F, 0x59],
    Divps = [] [0x0F, 0x5E],
    Divpd = [0x66] [0x0F, 0x5E],
    Minps = [] [0x0F, 0x5D],
    Minpd = [0x66] [0x0F, 0x5D],
    Maxps = [] [0x0F, 0x5F],
    Maxpd = [0x66] [0x0F, 0x5F],
    Sqrtps = [] [0x0F, 0x51],
    Sqrtpd = [0x66] [0x0F, 0x51],
    Andps = [] [0x0F, 0x54],
    Andnps = [] [0x0F, 0x55],
    Orps = [] [0x0F, 0x56],
    Xorps = [] [0x0F, 0x57],
    Andpd = [0x66] [0x0F, 0x54],
    Andnpd = [0x66] [0x0F, 0x55],
    Orpd = [0x66] [0x0F, 0x56],
    Xorpd = [0x66] [0x0F, 0x57],
    Unpcklps = [] [0x0F, 0x14],
    Unpckhps = [] [0x0F, 0x15],
    Unpcklpd = [0x66] [0x0F, 0x14],
    Unpckhpd = [0x66] [0x0F, 0x15],
    Movlhps = [] [0x0F, 0x16],
    Movhlps = [] [0x0F, 0x12],
    Cvtdq2ps = [] [0x0F, 0x5B],
    Cvttps2dq = [0xF3] [0x0F, 0x5B],
    Cvtdq2pd = [0xF3] [0x0F, 0xE6],
    Cvttpd2dq = [0x66] [0x0F, 0xE6],
    Cvtps2pd = [] [0x0F, 0x5A],
    Cvtpd2ps = [0x66] [0x0F, 0x5A],
}

macro_rules! packed_imm_ops {
    ($( $name:ident = [$($pfx:literal)?] [$($opc:literal),+], )*) => {
        /// A packed instruction with an 8-bit immediate,
        /// `op xmm, xmm/m128, imm8`.
        #[allow(missing_docs)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum PackedImmOp {
            $( $name, )*
        }

        impl PackedImmOp {
            /// Every form, for the tests.
            #[cfg(test)]
            pub const ALL: &'static [PackedImmOp] = &[$(PackedImmOp::$name,)*];

            fn encoding(self) -> (&'static [u8], &'static [u8]) {
                match self {
                    $( PackedImmOp::$name => (&[$($pfx)?], &[$($opc),+]), )*
                }
            }
        }
    };
}

packed_imm_ops! {
    Pshufd = [0x66] [0x0F, 0x70],
    Pshuflw = [0xF2] [0x0F, 0x70],
    Pshufhw = [0xF3] [0x0F, 0x70],
    Shufps = [] [0x0F, 0xC6],
    Shufpd = [0x66] [0x0F, 0xC6],
    Cmpps = [] [0x0F, 0xC2],
    Cmppd = [0x66] [0x0F, 0xC2],
    Palignr = [0x66] [0x0F, 0x3A, 0x0F],
    Pblendw = [0x66] [0x0F, 0x3A, 0x0E],
    Blendps = [0x66] [0x0F, 0x3A, 0x0C],
    Blendpd = [0x66] [0x0F, 0x3A, 0x0D],
    Roundps = [0x66] [0x0F, 0x3A, 0x08],
    Roundpd = [0x66] [0x0F, 0x3A, 0x09],
    Insertps = [0x66] [0x0F, 0x3A, 0x21],
}

/// Shifts of every lane by an immediate (`66 0F 71/72/73 /ext ib`), and
/// the whole-register byte shifts.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShiftImmOp {
    Psrlw,
    Psraw,
    Psllw,
    Psrld,
    Psrad,
    Pslld,
    Psrlq,
    Psllq,
    /// Bytes right.
    Psrldq,
    /// Bytes left.
    Pslldq,
}

impl ShiftImmOp {
    /// Every form, for the tests.
    #[cfg(test)]
    pub const ALL: &'static [ShiftImmOp] = &[
        ShiftImmOp::Psrlw,
        ShiftImmOp::Psraw,
        ShiftImmOp::Psllw,
        ShiftImmOp::Psrld,
        ShiftImmOp::Psrad,
        ShiftImmOp::Pslld,
        ShiftImmOp::Psrlq,
        ShiftImmOp::Psllq,
        ShiftImmOp::Psrldq,
        ShiftImmOp::Pslldq,
    ];

    /// Opcode and ModRM.reg extension.
    fn encoding(self) -> (u8, u8) {
        use ShiftImmOp::*;
        match self {
            Psrlw => (0x71, 2),
            Psraw => (0x71, 4),
            Psllw => (0x71, 6),
            Psrld => (0x72, 2),
            Psrad => (0x72, 4),
            Pslld => (0x72, 6),
            Psrlq => (0x73, 2),
            Psllq => (0x73, 6),
            Psrldq => (0x73, 3),
            Pslldq => (0x73, 7),
        }
    }
}

/// Lane width of an insert or extract between a GPR and an xmm lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LaneWidth {
    /// 8 bits.
    B,
    /// 16 bits.
    W,
    /// 32 bits.
    D,
    /// 64 bits.
    Q,
}

/// A mask of sign bits moved to a GPR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MaskOp {
    /// `pmovmskb`: one bit per byte.
    Pmovmskb,
    /// `movmskps`: one bit per 32-bit lane.
    Movmskps,
    /// `movmskpd`: one bit per 64-bit lane.
    Movmskpd,
}

impl Asm {
    /// `op dst, src`.
    pub fn packed(&mut self, op: PackedOp, dst: Xmm, src: Xmm) {
        let (pfx, opc) = op.encoding();
        self.op(pfx, false, false, opc, dst.0, src.into());
    }

    /// `op dst, [src]`.
    pub fn packed_m(&mut self, op: PackedOp, dst: Xmm, src: Amode) {
        let (pfx, opc) = op.encoding();
        self.op(pfx, false, false, opc, dst.0, src.into());
    }

    /// `op dst, [rip + l]`: a constant of the pool.
    pub fn packed_rip(&mut self, op: PackedOp, dst: Xmm, l: Label) {
        let (pfx, opc) = op.encoding();
        self.op(pfx, false, false, opc, dst.0, Rm::Rip(l));
    }

    /// `op dst, src, imm`.
    pub fn packed_imm(&mut self, op: PackedImmOp, dst: Xmm, src: Xmm, imm: u8) {
        let (pfx, opc) = op.encoding();
        self.op(pfx, false, false, opc, dst.0, src.into());
        self.byte(imm);
    }

    /// `op dst, imm`: every lane (or the register, for the byte shifts)
    /// shifted by `imm`.
    pub fn shift_imm(&mut self, op: ShiftImmOp, dst: Xmm, imm: u8) {
        let (opc, ext) = op.encoding();
        self.op(&[0x66], false, false, &[0x0F, opc], ext, dst.into());
        self.byte(imm);
    }

    /// `pinsrb`/`pinsrw`/`pinsrd`/`pinsrq dst, src, lane`.
    pub fn pinsr(&mut self, width: LaneWidth, dst: Xmm, src: Gpr, lane: u8) {
        match width {
            LaneWidth::B => self.op(&[0x66], false, false, &[0x0F, 0x3A, 0x20], dst.0, src.into()),
            LaneWidth::W => self.op(&[0x66], false, false, &[0x0F, 0xC4], dst.0, src.into()),
            LaneWidth::D => self.op(&[0x66], false, false, &[0x0F, 0x3A, 0x22], dst.0, src.into()),
            LaneWidth::Q => self.op(&[0x66], true, false, &[0x0F, 0x3A, 0x22], dst.0, src.into()),
        }
        self.byte(lane);
    }

    /// `pextrb`/`pextrw`/`pextrd`/`pextrq dst, src, lane` (zero-extending
    /// into the 32- or 64-bit register).
    pub fn pextr(&mut self, width: LaneWidth, dst: Gpr, src: Xmm, lane: u8) {
        match width {
            LaneWidth::B => self.op(&[0x66], false, false, &[0x0F, 0x3A, 0x14], src.0, dst.into()),
            LaneWidth::W => self.op(&[0x66], false, false, &[0x0F, 0xC5], dst.0, src.into()),
            LaneWidth::D => self.op(&[0x66], false, false, &[0x0F, 0x3A, 0x16], src.0, dst.into()),
            LaneWidth::Q => self.op(&[0x66], true, false, &[0x0F, 0x3A, 0x16], src.0, dst.into()),
        }
        self.byte(lane);
    }

    /// `pmovmskb`/`movmskps`/`movmskpd dst, src`.
    pub fn movmsk(&mut self, op: MaskOp, dst: Gpr, src: Xmm) {
        let (pfx, opc): (&[u8], u8) = match op {
            MaskOp::Pmovmskb => (&[0x66], 0xD7),
            MaskOp::Movmskps => (&[], 0x50),
            MaskOp::Movmskpd => (&[0x66], 0x50),
        };
        self.op(pfx, false, false, &[0x0F, opc], dst.0, src.into());
    }

    /// `movd dst, [m]` (4 bytes into lane 0, the rest zero).
    pub fn movd_load(&mut self, dst: Xmm, src: Amode) {
        self.op(&[0x66], false, false, &[0x0F, 0x6E], dst.0, src.into());
    }

    /// `movq dst, [m]` (8 bytes into the low half, the rest zero).
    pub fn movq_load(&mut self, dst: Xmm, src: Amode) {
        self.op(&[0xF3], false, false, &[0x0F, 0x7E], dst.0, src.into());
    }

    /// `movdqa dst, [rip + l]`: a 16-byte constant of the pool.
    pub fn movdqa_rip(&mut self, dst: Xmm, l: Label) {
        self.op(&[0x66], false, false, &[0x0F, 0x6F], dst.0, Rm::Rip(l));
    }
}

#[cfg(test)]
mod tests {
    //! Each form is assembled over every xmm pair (and memory operands
    //! with extended base and index registers), decoded with iced-x86 and
    //! compared, as Intel syntax, with a string built from the form's
    //! name; the decoder must consume exactly the emitted bytes.

    use super::*;
    use crate::compiler::x64::regs::Scale;
    use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, MemorySizeOptions};

    fn decode(bytes: &[u8]) -> String {
        let mut d = Decoder::with_ip(64, bytes, 0, DecoderOptions::NONE);
        let mut inst = Instruction::default();
        d.decode_out(&mut inst);
        assert_eq!(inst.len(), bytes.len(), "decoder length for {bytes:02x?}");
        let mut f = IntelFormatter::new();
        f.options_mut().set_memory_size_options(MemorySizeOptions::Always);
        f.options_mut().set_show_useless_prefixes(true);
        f.options_mut().set_use_pseudo_ops(false);
        let mut out = String::new();
        f.format(&inst, &mut out);
        out
    }

    fn one(build: impl FnOnce(&mut Asm)) -> String {
        let mut a = Asm::new();
        build(&mut a);
        decode(&a.finish())
    }

    fn name(op: impl std::fmt::Debug) -> String {
        format!("{op:?}").to_lowercase()
    }

    /// iced's default number style: 0–9 in decimal, else `0ABCh`.
    fn imm(v: u8) -> String {
        if v <= 9 {
            return v.to_string();
        }
        let s = format!("{v:X}h");
        if s.as_bytes()[0].is_ascii_alphabetic() { format!("0{s}") } else { s }
    }

    /// Operand size iced prints for a memory operand of `op`.
    fn mem_size(op: PackedOp) -> &'static str {
        use PackedOp::*;
        match op {
            Pmovsxbw | Pmovsxwd | Pmovsxdq | Pmovzxbw | Pmovzxwd | Pmovzxdq | Movq | Cvtdq2pd
            | Cvtps2pd => "qword",
            _ => "xmmword",
        }
    }

    #[test]
    fn packed_forms_match_iced() {
        for &op in PackedOp::ALL {
            if matches!(op, PackedOp::Movlhps | PackedOp::Movhlps) {
                // Register-only forms (their memory forms are movhps/movlps).
                for (d, s) in [(0u8, 1u8), (9, 15), (14, 3)] {
                    let got = one(|a| a.packed(op, Xmm(d), Xmm(s)));
                    assert_eq!(got, format!("{} xmm{d},xmm{s}", name(op)));
                }
                continue;
            }
            for d in 0..16 {
                for s in 0..16 {
                    let got = one(|a| a.packed(op, Xmm(d), Xmm(s)));
                    assert_eq!(got, format!("{} xmm{d},xmm{s}", name(op)), "{op:?}");
                }
            }
            let m = Amode::indexed(Gpr(13), Gpr(9), Scale::Eight, 0x40);
            let got = one(|a| a.packed_m(op, Xmm(12), m));
            assert_eq!(got, format!("{} xmm12,{} ptr [r13+r9*8+40h]", name(op), mem_size(op)));
        }
    }

    #[test]
    fn immediate_forms_match_iced() {
        for &op in PackedImmOp::ALL {
            for (d, s) in [(0u8, 0u8), (1, 9), (15, 2), (8, 8)] {
                for v in [0u8, 3, 0x1B, 0xFF] {
                    let got = one(|a| a.packed_imm(op, Xmm(d), Xmm(s), v));
                    assert_eq!(got, format!("{} xmm{d},xmm{s},{}", name(op), imm(v)), "{op:?}");
                }
            }
        }
        for &op in ShiftImmOp::ALL {
            for d in 0..16 {
                let got = one(|a| a.shift_imm(op, Xmm(d), 7));
                assert_eq!(got, format!("{} xmm{d},7", name(op)));
            }
        }
    }

    #[test]
    fn lane_and_mask_forms_match_iced() {
        const R32: [&str; 16] = [
            "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d",
            "r12d", "r13d", "r14d", "r15d",
        ];
        const R64: [&str; 16] = [
            "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11",
            "r12", "r13", "r14", "r15",
        ];
        for g in 0..16u8 {
            for x in [0u8, 7, 8, 15] {
                for (w, n, regs) in [
                    (LaneWidth::B, "b", &R32),
                    (LaneWidth::W, "w", &R32),
                    (LaneWidth::D, "d", &R32),
                    (LaneWidth::Q, "q", &R64),
                ] {
                    let r = regs[g as usize];
                    let got = one(|a| a.pinsr(w, Xmm(x), Gpr(g), 1));
                    assert_eq!(got, format!("pinsr{n} xmm{x},{r},1"));
                    let got = one(|a| a.pextr(w, Gpr(g), Xmm(x), 1));
                    assert_eq!(got, format!("pextr{n} {r},xmm{x},1"));
                }
                for op in [MaskOp::Pmovmskb, MaskOp::Movmskps, MaskOp::Movmskpd] {
                    let got = one(|a| a.movmsk(op, Gpr(g), Xmm(x)));
                    assert_eq!(got, format!("{} {},xmm{x}", name(op), R32[g as usize]));
                }
            }
        }
        let m = Amode::base_disp(Gpr(12), -8);
        assert_eq!(one(|a| a.movd_load(Xmm(9), m)), "movd xmm9,dword ptr [r12-8]");
        assert_eq!(one(|a| a.movq_load(Xmm(2), m)), "movq xmm2,qword ptr [r12-8]");
    }
}
