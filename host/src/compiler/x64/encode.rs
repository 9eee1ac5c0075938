//! x86-64 machine-code encoder.
//!
//! [`Asm`] appends instructions to a byte buffer. Every ModRM-based
//! instruction goes through one routine, [`Asm::op`], which lays out
//! `[mandatory prefix] [REX] opcode ModRM [SIB] [disp]`; the caller then
//! appends any immediate. Branches to [`Label`]s use rel8 when the target is
//! already bound and close, and rel32 otherwise; unresolved rel32 fields are
//! patched by [`Asm::finish`].

use super::regs::*;

/// A branch target inside one [`Asm`], bound once with [`Asm::bind`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Label(u32);

/// An x86-64 code buffer with labels and pending rel32 fixups.
#[derive(Default)]
pub struct Asm {
    code: Vec<u8>,
    /// Bound offset of each label, by label number.
    labels: Vec<Option<u32>>,
    /// rel32 fields (offset of the field, target) patched in `finish`.
    fixups: Vec<(u32, Label)>,
}

/// Two-operand integer ALU operations, numbered by their `/digit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    /// `add`
    Add = 0,
    /// `or`
    Or = 1,
    /// `adc` (add with carry)
    Adc = 2,
    /// `sbb` (subtract with borrow)
    Sbb = 3,
    /// `and`
    And = 4,
    /// `sub`
    Sub = 5,
    /// `xor`
    Xor = 6,
    /// `cmp` (flags only)
    Cmp = 7,
}

/// Shifts and rotates, numbered by their `/digit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShiftOp {
    /// `rol`: rotate left.
    Rol = 0,
    /// `ror`: rotate right.
    Ror = 1,
    /// `shl`: shift left.
    Shl = 4,
    /// `shr`: logical shift right.
    Shr = 5,
    /// `sar`: arithmetic shift right.
    Sar = 7,
}

/// Integer loads: width of the memory operand and how it is extended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadKind {
    /// `movzx r32, byte [m]`
    U8To32,
    /// `movsx r32, byte [m]`
    S8To32,
    /// `movzx r32, word [m]`
    U16To32,
    /// `movsx r32, word [m]`
    S16To32,
    /// `mov r32, dword [m]` (zero-extends to 64 bits)
    U32,
    /// `movsx r64, byte [m]`
    S8To64,
    /// `movsx r64, word [m]`
    S16To64,
    /// `movsxd r64, dword [m]`
    S32To64,
    /// `mov r64, qword [m]`
    U64,
}

/// Register-to-register integer extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExtendKind {
    /// `movzx r32, r8`
    U8To32,
    /// `movsx r32, r8`
    S8To32,
    /// `movzx r32, r16`
    U16To32,
    /// `movsx r32, r16`
    S16To32,
    /// `movsx r64, r8`
    S8To64,
    /// `movsx r64, r16`
    S16To64,
    /// `movsxd r64, r32`
    S32To64,
    /// `mov r32, r32` (zero-extends to 64 bits)
    U32To64,
}

/// Bit-scan and bit-count instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BitCountOp {
    /// `bsr`: index of highest set bit (dst undefined for 0).
    Bsr,
    /// `bsf`: index of lowest set bit (dst undefined for 0).
    Bsf,
    /// `lzcnt`: leading zero count (LZCNT/ABM).
    Lzcnt,
    /// `tzcnt`: trailing zero count (BMI1).
    Tzcnt,
    /// `popcnt`: population count (POPCNT).
    Popcnt,
}

/// Two-operand SSE instructions on scalars (and packed logic ops).
///
/// The packed ops (`Andps` … `Xorpd`) need a 16-byte aligned memory operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SseOp {
    /// `addss`
    Addss,
    /// `addsd`
    Addsd,
    /// `subss`
    Subss,
    /// `subsd`
    Subsd,
    /// `mulss`
    Mulss,
    /// `mulsd`
    Mulsd,
    /// `divss`
    Divss,
    /// `divsd`
    Divsd,
    /// `minss`
    Minss,
    /// `minsd`
    Minsd,
    /// `maxss`
    Maxss,
    /// `maxsd`
    Maxsd,
    /// `sqrtss`
    Sqrtss,
    /// `sqrtsd`
    Sqrtsd,
    /// `ucomiss` (flags only)
    Ucomiss,
    /// `ucomisd` (flags only)
    Ucomisd,
    /// `cvtss2sd`
    Cvtss2sd,
    /// `cvtsd2ss`
    Cvtsd2ss,
    /// `andps`
    Andps,
    /// `andpd`
    Andpd,
    /// `andnps` (dst = !dst & src)
    Andnps,
    /// `andnpd` (dst = !dst & src)
    Andnpd,
    /// `orps`
    Orps,
    /// `orpd`
    Orpd,
    /// `xorps`
    Xorps,
    /// `xorpd`
    Xorpd,
}

impl SseOp {
    /// Mandatory prefix (none, 66, F2 or F3) and the opcode byte after `0F`.
    fn encoding(self) -> (&'static [u8], u8) {
        use SseOp::*;
        const NP: &[u8] = &[];
        const PD: &[u8] = &[0x66];
        const SD: &[u8] = &[0xF2];
        const SS: &[u8] = &[0xF3];
        match self {
            Addss => (SS, 0x58),
            Addsd => (SD, 0x58),
            Mulss => (SS, 0x59),
            Mulsd => (SD, 0x59),
            Subss => (SS, 0x5C),
            Subsd => (SD, 0x5C),
            Minss => (SS, 0x5D),
            Minsd => (SD, 0x5D),
            Divss => (SS, 0x5E),
            Divsd => (SD, 0x5E),
            Maxss => (SS, 0x5F),
            Maxsd => (SD, 0x5F),
            Sqrtss => (SS, 0x51),
            Sqrtsd => (SD, 0x51),
            Ucomiss => (NP, 0x2E),
            Ucomisd => (PD, 0x2E),
            Cvtss2sd => (SS, 0x5A),
            Cvtsd2ss => (SD, 0x5A),
            Andps => (NP, 0x54),
            Andpd => (PD, 0x54),
            Andnps => (NP, 0x55),
            Andnpd => (PD, 0x55),
            Orps => (NP, 0x56),
            Orpd => (PD, 0x56),
            Xorps => (NP, 0x57),
            Xorpd => (PD, 0x57),
        }
    }
}

/// The r/m operand of a ModRM instruction: a register number or memory.
#[derive(Clone, Copy)]
pub(super) enum Rm {
    Reg(u8),
    Mem(Amode),
    /// `[rip + label]`: constants placed in the code buffer.
    Rip(Label),
}

impl From<Gpr> for Rm {
    fn from(r: Gpr) -> Rm {
        Rm::Reg(r.0)
    }
}

impl From<Xmm> for Rm {
    fn from(r: Xmm) -> Rm {
        Rm::Reg(r.0)
    }
}

impl From<Amode> for Rm {
    fn from(m: Amode) -> Rm {
        Rm::Mem(m)
    }
}

/// A REX prefix byte from W and the full 4-bit numbers in ModRM.reg, SIB.index
/// and ModRM.rm / SIB.base / opcode register.
fn rex(w: bool, reg: u8, index: u8, base: u8) -> u8 {
    debug_assert!(reg < 16 && index < 16 && base < 16, "bad register number");
    0x40 | (w as u8) << 3 | (reg >> 3 & 1) << 2 | (index >> 3 & 1) << 1 | (base >> 3 & 1)
}

/// A ModRM (or SIB) byte: two high bits, then two 3-bit fields.
fn modrm(md: u8, reg: u8, rm: u8) -> u8 {
    md << 6 | (reg & 7) << 3 | (rm & 7)
}

/// Whether `r` used as a byte register needs a REX prefix (spl, bpl, sil, dil
/// rather than ah, ch, dh, bh).
fn byte_needs_rex(r: Gpr) -> bool {
    (4..8).contains(&r.0)
}

/// Operand-size prefix and REX.W for an integer size (S8 is chosen by opcode).
fn size_prefix(size: Size) -> (&'static [u8], bool) {
    match size {
        Size::S16 => (&[0x66], false),
        Size::S64 => (&[], true),
        Size::S8 | Size::S32 => (&[], false),
    }
}

/// REX.W for an SSE instruction's 32/64-bit integer operand.
fn int_w(size: Size) -> bool {
    assert!(matches!(size, Size::S32 | Size::S64), "integer operand must be 32/64-bit");
    size == Size::S64
}

/// The mandatory prefix of a scalar single (F3) or double (F2) instruction.
fn scalar_prefix(double: bool) -> &'static [u8] {
    if double { &[0xF2] } else { &[0xF3] }
}

fn fits_i8(v: i32) -> bool {
    i8::try_from(v).is_ok()
}

/// The 9 recommended multi-byte NOPs, indexed by length - 1.
const NOPS: [&[u8]; 9] = [
    &[0x90],
    &[0x66, 0x90],
    &[0x0F, 0x1F, 0x00],
    &[0x0F, 0x1F, 0x40, 0x00],
    &[0x0F, 0x1F, 0x44, 0x00, 0x00],
    &[0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00],
    &[0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00],
    &[0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    &[0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

impl Asm {
    /// An empty buffer.
    pub fn new() -> Asm {
        Asm::default()
    }

    /// Current length of the code in bytes.
    pub fn offset(&self) -> u32 {
        self.code.len() as u32
    }

    /// A fresh, unbound label.
    pub fn new_label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() as u32 - 1)
    }

    /// Binds `l` to the current offset. Each label is bound at most once.
    pub fn bind(&mut self, l: Label) {
        let slot = &mut self.labels[l.0 as usize];
        assert!(slot.is_none(), "label {l:?} bound twice");
        *slot = Some(self.code.len() as u32);
    }

    /// The offset `l` is bound to, if it is bound.
    pub fn label_offset(&self, l: Label) -> Option<u32> {
        self.labels[l.0 as usize]
    }

    /// Resolves all label fixups and returns the code. Panics if a label that
    /// was branched to is unbound.
    pub fn finish(mut self) -> Vec<u8> {
        for (at, l) in std::mem::take(&mut self.fixups) {
            let target = self.label_offset(l).unwrap_or_else(|| panic!("unbound label {l:?}"));
            self.patch_u32(at, target.wrapping_sub(at + 4));
        }
        self.code
    }

    /// The code emitted so far (label fixups not yet applied).
    pub fn bytes(&self) -> &[u8] {
        &self.code
    }

    /// Overwrites the little-endian u32 at offset `at`.
    pub fn patch_u32(&mut self, at: u32, v: u32) {
        self.code[at as usize..at as usize + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// Appends raw bytes.
    pub fn put(&mut self, bytes: &[u8]) {
        self.code.extend_from_slice(bytes);
    }

    pub(super) fn byte(&mut self, b: u8) {
        self.code.push(b);
    }

    /// Appends an immediate of the operand size (S64 takes a sign-extended imm32).
    fn imm(&mut self, size: Size, v: i32) {
        let n = match size {
            Size::S8 => 1,
            Size::S16 => 2,
            Size::S32 | Size::S64 => 4,
        };
        self.put(&v.to_le_bytes()[..n]);
    }

    /// Emits ModRM, SIB and displacement for `[m]` with `reg` in ModRM.reg.
    fn modrm_mem(&mut self, reg: u8, m: Amode) {
        let base = m.base.low();
        // mod=00 with base 101 means rip/disp32, so rbp/r13 need a disp8 of 0.
        let (md, disp_len) = match m.disp {
            0 if base != 5 => (0, 0),
            d if fits_i8(d) => (1, 1),
            _ => (2, 4),
        };
        match m.index {
            // rm=100 means "SIB follows", so rsp/r12 bases need a SIB.
            None if base != 4 => self.byte(modrm(md, reg, base)),
            index => {
                let (index, scale) = match index {
                    Some((i, s)) => {
                        assert!(i != Gpr::RSP, "rsp cannot be an index register");
                        (i.low(), s.bits())
                    }
                    None => (4, 0), // index=100 without REX.X: no index
                };
                self.byte(modrm(md, reg, 4));
                self.byte(modrm(scale, index, base));
            }
        }
        self.put(&m.disp.to_le_bytes()[..disp_len]);
    }

    /// Emits `pfx [REX] opc ModRM [SIB] [disp]`. `reg` is a register number or
    /// an opcode extension; `force_rex` emits an empty REX (byte registers).
    pub(super) fn op(&mut self, pfx: &[u8], w: bool, force_rex: bool, opc: &[u8], reg: u8, rm: Rm) {
        self.put(pfx);
        let (index, base) = match rm {
            Rm::Reg(r) => (0, r),
            Rm::Mem(m) => (m.index.map_or(0, |(i, _)| i.0), m.base.0),
            Rm::Rip(_) => (0, 0),
        };
        let rex = rex(w, reg, index, base);
        if rex != 0x40 || force_rex {
            self.byte(rex);
        }
        self.put(opc);
        match rm {
            Rm::Reg(r) => self.byte(modrm(3, reg, r)),
            Rm::Mem(m) => self.modrm_mem(reg, m),
            Rm::Rip(l) => {
                // mod=00 rm=101: disp32 relative to the end of the instruction,
                // which is the end of the field as long as no immediate follows.
                self.byte(modrm(0, reg, 5));
                self.rel32_to(l);
            }
        }
    }

    /// An integer instruction with opcode `op8` for S8 and `op` otherwise;
    /// `byte_regs` are the GPR operands (which need REX if S8 and spl..dil).
    fn int_op(&mut self, size: Size, (op8, op): (u8, u8), reg: u8, rm: Rm, byte_regs: &[Gpr]) {
        let (pfx, w) = size_prefix(size);
        if size == Size::S8 {
            let force = byte_regs.iter().any(|&r| byte_needs_rex(r));
            self.op(pfx, w, force, &[op8], reg, rm);
        } else {
            self.op(pfx, w, false, &[op], reg, rm);
        }
    }

    /// A `0F xx` instruction of size S16/S32/S64 (no byte form).
    fn int_op_0f(&mut self, size: Size, op: u8, reg: u8, rm: Rm) {
        assert!(size != Size::S8, "no 8-bit form");
        let (pfx, w) = size_prefix(size);
        self.op(pfx, w, false, &[0x0F, op], reg, rm);
    }

    /// An instruction with the register in the low opcode bits (`push`, `bswap` …).
    fn op_plus_reg(&mut self, w: bool, force_rex: bool, opc: &[u8], r: Gpr) {
        let rex = rex(w, 0, 0, r.0);
        if rex != 0x40 || force_rex {
            self.byte(rex);
        }
        let (last, first) = opc.split_last().unwrap();
        self.put(first);
        self.byte(last + r.low());
    }

    /// A rel32 field to `l`: resolved now if bound, else recorded as a fixup.
    fn rel32_to(&mut self, l: Label) {
        let at = self.offset();
        let v = match self.label_offset(l) {
            Some(target) => target.wrapping_sub(at + 4),
            None => {
                self.fixups.push((at, l));
                0
            }
        };
        self.put(&v.to_le_bytes());
    }

    /// A branch with short form `short` (+rel8) and near form `near` (+rel32).
    fn branch(&mut self, short: u8, near: &[u8], l: Label) {
        if let Some(target) = self.label_offset(l) {
            let rel = target as i64 - (self.offset() as i64 + 2);
            if let Ok(rel) = i8::try_from(rel) {
                self.put(&[short, rel as u8]);
                return;
            }
        }
        self.put(near);
        self.rel32_to(l);
    }

    // ---------------------------------------------------------------- control flow

    /// `jmp` to a label: rel8 if already bound and in range, else rel32.
    pub fn jmp(&mut self, l: Label) {
        self.branch(0xEB, &[0xE9], l);
    }

    /// `jcc` to a label: rel8 if already bound and in range, else rel32.
    pub fn jcc(&mut self, cc: Cond, l: Label) {
        self.branch(0x70 + cc as u8, &[0x0F, 0x80 + cc as u8], l);
    }

    /// `call rel32` to a label.
    pub fn call_label(&mut self, l: Label) {
        self.byte(0xE8);
        self.rel32_to(l);
    }

    /// `call rel32` with a zero field; returns the field's offset for patching.
    pub fn call_rel32(&mut self) -> u32 {
        self.byte(0xE8);
        self.put(&[0; 4]);
        self.offset() - 4
    }

    /// `jmp rel32` with a zero field; returns the field's offset for patching.
    pub fn jmp_rel32(&mut self) -> u32 {
        self.byte(0xE9);
        self.put(&[0; 4]);
        self.offset() - 4
    }

    /// `call r64`
    pub fn call_r(&mut self, r: Gpr) {
        self.op(&[], false, false, &[0xFF], 2, r.into());
    }

    /// `call qword [m]`
    pub fn call_m(&mut self, m: Amode) {
        self.op(&[], false, false, &[0xFF], 2, m.into());
    }

    /// `jmp r64`
    pub fn jmp_r(&mut self, r: Gpr) {
        self.op(&[], false, false, &[0xFF], 4, r.into());
    }

    /// `jmp qword [m]`
    pub fn jmp_m(&mut self, m: Amode) {
        self.op(&[], false, false, &[0xFF], 4, m.into());
    }

    /// `ret`
    pub fn ret(&mut self) {
        self.byte(0xC3);
    }

    /// `ud2` (guaranteed invalid opcode trap).
    pub fn ud2(&mut self) {
        self.put(&[0x0F, 0x0B]);
    }

    /// `int3` (breakpoint trap).
    pub fn int3(&mut self) {
        self.byte(0xCC);
    }

    /// `len` bytes of NOPs, using the recommended multi-byte forms (≤ 9 bytes each).
    pub fn nop(&mut self, mut len: usize) {
        while len > 0 {
            let n = len.min(NOPS.len());
            self.put(NOPS[n - 1]);
            len -= n;
        }
    }

    /// `push r64`
    pub fn push(&mut self, r: Gpr) {
        self.op_plus_reg(false, false, &[0x50], r);
    }

    /// `pop r64`
    pub fn pop(&mut self, r: Gpr) {
        self.op_plus_reg(false, false, &[0x58], r);
    }

    /// `push qword [m]`
    pub fn push_m(&mut self, m: Amode) {
        self.op(&[], false, false, &[0xFF], 6, m.into());
    }

    // ---------------------------------------------------------------- integer

    /// `op dst, src` (any size).
    pub fn alu_rr(&mut self, op: AluOp, size: Size, dst: Gpr, src: Gpr) {
        let o = (op as u8) << 3;
        self.int_op(size, (o, o + 1), src.0, dst.into(), &[dst, src]);
    }

    /// `op dst, imm` (any size); uses the sign-extended imm8 form when it fits.
    /// For S8/S16 the immediate is truncated.
    pub fn alu_ri(&mut self, op: AluOp, size: Size, dst: Gpr, imm: i32) {
        self.alu_imm(op, size, dst.into(), &[dst], imm);
    }

    /// `op dst, [src]` (any size).
    pub fn alu_rm(&mut self, op: AluOp, size: Size, dst: Gpr, src: Amode) {
        let o = (op as u8) << 3;
        self.int_op(size, (o + 2, o + 3), dst.0, src.into(), &[dst]);
    }

    /// `op [dst], src` (any size).
    pub fn alu_mr(&mut self, op: AluOp, size: Size, dst: Amode, src: Gpr) {
        let o = (op as u8) << 3;
        self.int_op(size, (o, o + 1), src.0, dst.into(), &[src]);
    }

    /// `op [dst], imm` (any size); uses the sign-extended imm8 form when it fits.
    pub fn alu_mi(&mut self, op: AluOp, size: Size, dst: Amode, imm: i32) {
        self.alu_imm(op, size, dst.into(), &[], imm);
    }

    fn alu_imm(&mut self, op: AluOp, size: Size, rm: Rm, regs: &[Gpr], imm: i32) {
        if size != Size::S8 && fits_i8(imm) {
            self.int_op(size, (0x80, 0x83), op as u8, rm, regs);
            self.imm(Size::S8, imm);
        } else {
            self.int_op(size, (0x80, 0x81), op as u8, rm, regs);
            self.imm(size, imm);
        }
    }

    /// `test a, b` (any size).
    pub fn test_rr(&mut self, size: Size, a: Gpr, b: Gpr) {
        self.int_op(size, (0x84, 0x85), b.0, a.into(), &[a, b]);
    }

    /// `test a, imm` (any size; S64 sign-extends the imm32).
    pub fn test_ri(&mut self, size: Size, a: Gpr, imm: i32) {
        self.int_op(size, (0xF6, 0xF7), 0, a.into(), &[a]);
        self.imm(size, imm);
    }

    /// `mov dst, src` (any size; S32 zero-extends).
    pub fn mov_rr(&mut self, size: Size, dst: Gpr, src: Gpr) {
        self.int_op(size, (0x88, 0x89), src.0, dst.into(), &[dst, src]);
    }

    /// `mov dst, imm`. S8/S16/S32 truncate `imm`. S64 picks the shortest of
    /// `mov r32, imm32` (zero-extends), `mov r64, simm32` and `movabs r64, imm64`.
    /// Never uses `xor`, so flags are preserved.
    pub fn mov_ri(&mut self, size: Size, dst: Gpr, imm: u64) {
        match size {
            Size::S8 => {
                self.op_plus_reg(false, byte_needs_rex(dst), &[0xB0], dst);
                self.byte(imm as u8);
            }
            Size::S16 => {
                self.byte(0x66);
                self.op_plus_reg(false, false, &[0xB8], dst);
                self.put(&(imm as u16).to_le_bytes());
            }
            Size::S32 => {
                self.op_plus_reg(false, false, &[0xB8], dst);
                self.put(&(imm as u32).to_le_bytes());
            }
            Size::S64 if imm <= u32::MAX as u64 => self.mov_ri(Size::S32, dst, imm),
            Size::S64 if i32::try_from(imm as i64).is_ok() => {
                self.op(&[], true, false, &[0xC7], 0, dst.into());
                self.imm(Size::S32, imm as i32);
            }
            Size::S64 => {
                self.op_plus_reg(true, false, &[0xB8], dst);
                self.put(&imm.to_le_bytes());
            }
        }
    }

    /// Integer load with zero/sign extension (`mov`, `movzx`, `movsx`, `movsxd`).
    pub fn load(&mut self, kind: LoadKind, dst: Gpr, src: Amode) {
        use LoadKind::*;
        let (w, opc): (bool, &[u8]) = match kind {
            U8To32 => (false, &[0x0F, 0xB6]),
            S8To32 => (false, &[0x0F, 0xBE]),
            U16To32 => (false, &[0x0F, 0xB7]),
            S16To32 => (false, &[0x0F, 0xBF]),
            U32 => (false, &[0x8B]),
            S8To64 => (true, &[0x0F, 0xBE]),
            S16To64 => (true, &[0x0F, 0xBF]),
            S32To64 => (true, &[0x63]),
            U64 => (true, &[0x8B]),
        };
        self.op(&[], w, false, opc, dst.0, src.into());
    }

    /// `mov [dst], src` of the given width (S8 handles spl/bpl/sil/dil).
    pub fn store(&mut self, size: Size, dst: Amode, src: Gpr) {
        self.int_op(size, (0x88, 0x89), src.0, dst.into(), &[src]);
    }

    /// `mov byte/word/dword/qword [dst], imm` (S64 sign-extends the imm32).
    pub fn store_imm(&mut self, size: Size, dst: Amode, imm: i32) {
        self.int_op(size, (0xC6, 0xC7), 0, dst.into(), &[]);
        self.imm(size, imm);
    }

    /// `lea dst, [src]` (S16/S32/S64).
    pub fn lea(&mut self, size: Size, dst: Gpr, src: Amode) {
        assert!(size != Size::S8, "no 8-bit lea");
        let (pfx, w) = size_prefix(size);
        self.op(pfx, w, false, &[0x8D], dst.0, src.into());
    }

    /// Register zero/sign extension (`movzx`, `movsx`, `movsxd`, `mov r32, r32`).
    pub fn extend_rr(&mut self, kind: ExtendKind, dst: Gpr, src: Gpr) {
        use ExtendKind::*;
        let (w, opc): (bool, &[u8]) = match kind {
            U8To32 => (false, &[0x0F, 0xB6]),
            S8To32 => (false, &[0x0F, 0xBE]),
            U16To32 => (false, &[0x0F, 0xB7]),
            S16To32 => (false, &[0x0F, 0xBF]),
            S8To64 => (true, &[0x0F, 0xBE]),
            S16To64 => (true, &[0x0F, 0xBF]),
            S32To64 => (true, &[0x63]),
            U32To64 => return self.mov_rr(Size::S32, dst, src),
        };
        let byte_src = matches!(kind, U8To32 | S8To32 | S8To64) && byte_needs_rex(src);
        self.op(&[], w, byte_src, opc, dst.0, src.into());
    }

    /// `op dst, cl` (any size).
    pub fn shift_cl(&mut self, op: ShiftOp, size: Size, dst: Gpr) {
        self.int_op(size, (0xD2, 0xD3), op as u8, dst.into(), &[dst]);
    }

    /// `op dst, imm8` (any size); a count of 1 uses the short `D1` form.
    pub fn shift_ri(&mut self, op: ShiftOp, size: Size, dst: Gpr, imm: u8) {
        if imm == 1 {
            self.int_op(size, (0xD0, 0xD1), op as u8, dst.into(), &[dst]);
        } else {
            self.int_op(size, (0xC0, 0xC1), op as u8, dst.into(), &[dst]);
            self.byte(imm);
        }
    }

    /// `imul dst, src` (S16/S32/S64).
    pub fn imul_rr(&mut self, size: Size, dst: Gpr, src: Gpr) {
        self.int_op_0f(size, 0xAF, dst.0, src.into());
    }

    /// `imul dst, src, imm` (S16/S32/S64); imm8 form when it fits.
    pub fn imul_rri(&mut self, size: Size, dst: Gpr, src: Gpr, imm: i32) {
        assert!(size != Size::S8, "no 8-bit imul");
        let (pfx, w) = size_prefix(size);
        if fits_i8(imm) {
            self.op(pfx, w, false, &[0x6B], dst.0, src.into());
            self.imm(Size::S8, imm);
        } else {
            self.op(pfx, w, false, &[0x69], dst.0, src.into());
            self.imm(size, imm);
        }
    }

    /// `imul dst, [src]` (S16/S32/S64).
    pub fn imul_rm(&mut self, size: Size, dst: Gpr, src: Amode) {
        self.int_op_0f(size, 0xAF, dst.0, src.into());
    }

    /// `div`/`idiv divisor`: divides rdx:rax (edx:eax, …) by `divisor`.
    pub fn div(&mut self, size: Size, signed: bool, divisor: Gpr) {
        let ext = if signed { 7 } else { 6 };
        self.int_op(size, (0xF6, 0xF7), ext, divisor.into(), &[divisor]);
    }

    /// Sign-extends the accumulator into rdx: `cwd` (S16), `cdq` (S32), `cqo` (S64).
    pub fn sign_extend_ax(&mut self, size: Size) {
        match size {
            Size::S16 => self.put(&[0x66, 0x99]),
            Size::S32 => self.byte(0x99),
            Size::S64 => self.put(&[0x48, 0x99]),
            Size::S8 => panic!("no 8-bit cdq"),
        }
    }

    /// `neg r` (any size).
    pub fn neg(&mut self, size: Size, r: Gpr) {
        self.int_op(size, (0xF6, 0xF7), 3, r.into(), &[r]);
    }

    /// `not r` (any size).
    pub fn not(&mut self, size: Size, r: Gpr) {
        self.int_op(size, (0xF6, 0xF7), 2, r.into(), &[r]);
    }

    /// `setcc r8` (spl/bpl/sil/dil get a REX prefix).
    pub fn setcc(&mut self, cc: Cond, dst: Gpr) {
        self.op(&[], false, byte_needs_rex(dst), &[0x0F, 0x90 + cc as u8], 0, dst.into());
    }

    /// `cmovcc dst, src` (S16/S32/S64).
    pub fn cmov(&mut self, cc: Cond, size: Size, dst: Gpr, src: Gpr) {
        self.int_op_0f(size, 0x40 + cc as u8, dst.0, src.into());
    }

    /// `bsr`/`bsf`/`lzcnt`/`tzcnt`/`popcnt dst, src` (S16/S32/S64).
    pub fn bit_count(&mut self, op: BitCountOp, size: Size, dst: Gpr, src: Gpr) {
        assert!(size != Size::S8, "no 8-bit bit count");
        let (rep, opc) = match op {
            BitCountOp::Bsr => (false, 0xBD),
            BitCountOp::Bsf => (false, 0xBC),
            BitCountOp::Lzcnt => (true, 0xBD),
            BitCountOp::Tzcnt => (true, 0xBC),
            BitCountOp::Popcnt => (true, 0xB8),
        };
        // The operand-size prefix (S16) goes before the mandatory F3.
        let (size_pfx, w) = size_prefix(size);
        self.put(size_pfx);
        let rep_pfx: &[u8] = if rep { &[0xF3] } else { &[] };
        self.op(rep_pfx, w, false, &[0x0F, opc], dst.0, src.into());
    }

    /// `bts r, imm8`: sets bit `bit` of `dst` (S32/S64).
    pub fn bts_ri(&mut self, size: Size, dst: Gpr, bit: u8) {
        self.int_op_0f(size, 0xBA, 5, dst.into());
        self.byte(bit);
    }

    /// `bswap r` (S32/S64).
    pub fn bswap(&mut self, size: Size, r: Gpr) {
        assert!(matches!(size, Size::S32 | Size::S64), "bswap is 32/64-bit only");
        self.op_plus_reg(size == Size::S64, false, &[0x0F, 0xC8], r);
    }

    /// `xchg a, b` (any size; always the ModRM form, never `90+r`).
    pub fn xchg_rr(&mut self, size: Size, a: Gpr, b: Gpr) {
        self.int_op(size, (0x86, 0x87), b.0, a.into(), &[a, b]);
    }

    // ---------------------------------------------------------------- SSE

    /// An SSE instruction `pfx [REX] 0F opc ModRM …` (no byte registers).
    fn sse(&mut self, pfx: &[u8], w: bool, opc: u8, reg: u8, rm: Rm) {
        self.op(pfx, w, false, &[0x0F, opc], reg, rm);
    }

    /// `movd xmm, r32` (S32) or `movq xmm, r64` (S64).
    pub fn movd_to_xmm(&mut self, size: Size, dst: Xmm, src: Gpr) {
        self.sse(&[0x66], int_w(size), 0x6E, dst.0, src.into());
    }

    /// `movd r32, xmm` (S32) or `movq r64, xmm` (S64).
    pub fn movd_from_xmm(&mut self, size: Size, dst: Gpr, src: Xmm) {
        self.sse(&[0x66], int_w(size), 0x7E, src.0, dst.into());
    }

    /// `movaps dst, src`: full register copy.
    pub fn movaps(&mut self, dst: Xmm, src: Xmm) {
        self.sse(&[], false, 0x28, dst.0, src.into());
    }

    /// `movss`/`movsd xmm, [m]` (zeroes the rest of the register).
    pub fn load_f(&mut self, double: bool, dst: Xmm, src: Amode) {
        self.sse(scalar_prefix(double), false, 0x10, dst.0, src.into());
    }

    /// `movss`/`movsd [m], xmm`
    pub fn store_f(&mut self, double: bool, dst: Amode, src: Xmm) {
        self.sse(scalar_prefix(double), false, 0x11, src.0, dst.into());
    }

    /// `movdqu xmm, [m]` (unaligned 128-bit load).
    pub fn load_v128(&mut self, dst: Xmm, src: Amode) {
        self.sse(&[0xF3], false, 0x6F, dst.0, src.into());
    }

    /// `movdqu [m], xmm` (unaligned 128-bit store).
    pub fn store_v128(&mut self, dst: Amode, src: Xmm) {
        self.sse(&[0xF3], false, 0x7F, src.0, dst.into());
    }

    /// SSE `op dst, src` on registers.
    pub fn sse_rr(&mut self, op: SseOp, dst: Xmm, src: Xmm) {
        let (pfx, opc) = op.encoding();
        self.sse(pfx, false, opc, dst.0, src.into());
    }

    /// SSE `op dst, [src]` (scalar ops read 4/8 bytes, packed ops 16 aligned bytes).
    pub fn sse_rm(&mut self, op: SseOp, dst: Xmm, src: Amode) {
        let (pfx, opc) = op.encoding();
        self.sse(pfx, false, opc, dst.0, src.into());
    }

    /// SSE `op dst, [rip + l]`: the operand is a constant bound at `l`.
    pub fn sse_rip(&mut self, op: SseOp, dst: Xmm, l: Label) {
        let (pfx, opc) = op.encoding();
        self.sse(pfx, false, opc, dst.0, Rm::Rip(l));
    }

    /// `movss`/`movsd xmm, [rip + l]`.
    pub fn load_f_rip(&mut self, double: bool, dst: Xmm, l: Label) {
        self.sse(scalar_prefix(double), false, 0x10, dst.0, Rm::Rip(l));
    }

    /// `lea r64, [rip + l]`.
    pub fn lea_rip(&mut self, dst: Gpr, l: Label) {
        self.op(&[], true, false, &[0x8D], dst.0, Rm::Rip(l));
    }

    /// `cvtsi2ss`/`cvtsi2sd xmm, r32/r64` (signed integer source).
    pub fn cvt_int_to_float(&mut self, double: bool, int_size: Size, dst: Xmm, src: Gpr) {
        self.sse(scalar_prefix(double), int_w(int_size), 0x2A, dst.0, src.into());
    }

    /// `cvttss2si`/`cvttsd2si r32/r64, xmm` (truncating; 0x80…0 on overflow/NaN).
    pub fn cvtt_float_to_int(&mut self, double: bool, int_size: Size, dst: Gpr, src: Xmm) {
        self.sse(scalar_prefix(double), int_w(int_size), 0x2C, dst.0, src.into());
    }

    /// `roundss`/`roundsd dst, src, mode` (SSE4.1; mode 0 nearest, 1 floor, 2 ceil, 3 trunc).
    pub fn round(&mut self, double: bool, dst: Xmm, src: Xmm, mode: u8) {
        let opc = if double { 0x0B } else { 0x0A };
        self.op(&[0x66], false, false, &[0x0F, 0x3A, opc], dst.0, src.into());
        self.byte(mode);
    }

    /// `cmpss`/`cmpsd dst, src, pred` (pred 0 eq, 1 lt, 2 le, 3 unord, 4 neq, …).
    pub fn cmp_f(&mut self, double: bool, dst: Xmm, src: Xmm, pred: u8) {
        self.sse(scalar_prefix(double), false, 0xC2, dst.0, src.into());
        self.byte(pred);
    }
}

#[cfg(test)]
mod tests {
    //! Every emitting method is assembled over a spread of operands, decoded
    //! with iced-x86 and compared, as Intel syntax, with an independently
    //! built expected string. Each check also requires that the decoder
    //! consumes exactly the emitted bytes, that a bare REX (0x40) only appears
    //! with spl/bpl/sil/dil, that no useless legacy prefix is shown by iced, and
    //! that memory displacements use the shortest size.

    use super::*;
    use iced_x86::{
        Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, MemorySizeOptions,
        Mnemonic, OpKind,
    };

    const SIZES: [Size; 4] = [Size::S8, Size::S16, Size::S32, Size::S64];
    const WIDE: [Size; 3] = [Size::S16, Size::S32, Size::S64];
    const ALU: [AluOp; 8] = [
        AluOp::Add,
        AluOp::Or,
        AluOp::Adc,
        AluOp::Sbb,
        AluOp::And,
        AluOp::Sub,
        AluOp::Xor,
        AluOp::Cmp,
    ];
    const SHIFTS: [ShiftOp; 5] =
        [ShiftOp::Rol, ShiftOp::Ror, ShiftOp::Shl, ShiftOp::Shr, ShiftOp::Sar];
    const IMMS: [i32; 12] = [0, 1, -1, 9, 10, 127, -128, 128, -129, 0x1234, 0x7fff_ffff, i32::MIN];
    const CC: [&str; 16] =
        ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];

    const R64: [&str; 16] = [
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
        "r13", "r14", "r15",
    ];
    const R32: [&str; 16] = [
        "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d",
        "r12d", "r13d", "r14d", "r15d",
    ];
    const R16: [&str; 16] = [
        "ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w",
        "r13w", "r14w", "r15w",
    ];
    const R8: [&str; 16] = [
        "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b",
        "r13b", "r14b", "r15b",
    ];

    fn gprs() -> impl Iterator<Item = Gpr> {
        (0..16).map(Gpr)
    }

    fn xmms() -> impl Iterator<Item = Xmm> {
        (0..16).map(Xmm)
    }

    fn conds() -> impl Iterator<Item = Cond> {
        (0..16).map(Cond::from_bits)
    }

    fn reg(size: Size, r: Gpr) -> &'static str {
        let names = match size {
            Size::S8 => &R8,
            Size::S16 => &R16,
            Size::S32 => &R32,
            Size::S64 => &R64,
        };
        names[r.0 as usize]
    }

    fn xmm(r: Xmm) -> String {
        format!("xmm{}", r.0)
    }

    fn ptr(size: Size) -> &'static str {
        match size {
            Size::S8 => "byte",
            Size::S16 => "word",
            Size::S32 => "dword",
            Size::S64 => "qword",
        }
    }

    /// iced's default number style: 0–9 in decimal, else `0ABCh`.
    fn hex(v: u64) -> String {
        if v <= 9 {
            return v.to_string();
        }
        let s = format!("{v:X}h");
        if s.as_bytes()[0].is_ascii_alphabetic() { format!("0{s}") } else { s }
    }

    /// An immediate as iced shows it: sign-extended to, then masked to, `size`.
    fn imm(size: Size, v: i64) -> String {
        let mask = match size {
            Size::S8 => 0xff,
            Size::S16 => 0xffff,
            Size::S32 => 0xffff_ffff,
            Size::S64 => u64::MAX,
        };
        hex(v as u64 & mask)
    }

    /// `qword ptr [base+index*scale+disp]` (`ptr` empty for no size).
    fn mem(ptr: &str, m: Amode) -> String {
        let mut s = if ptr.is_empty() { String::from("[") } else { format!("{ptr} ptr [") };
        s += R64[m.base.0 as usize];
        if let Some((i, sc)) = m.index {
            s += "+";
            s += R64[i.0 as usize];
            if sc != Scale::One {
                s += &format!("*{}", 1 << sc.bits());
            }
        }
        match m.disp {
            0 => {}
            d if d > 0 => s += &format!("+{}", hex(d as u64)),
            d => s += &format!("-{}", hex((d as i64).unsigned_abs())),
        }
        s + "]"
    }

    /// A spread of addressing modes: every base with many displacements, and
    /// special bases with every index register and scale.
    fn amodes() -> Vec<Amode> {
        const DISPS: [i32; 11] =
            [0, 1, 8, -1, 127, -128, 128, -129, 0x1234_5678, i32::MAX, i32::MIN];
        const IDX_DISPS: [i32; 5] = [0, -8, 0x1000, 127, -0x8_0000];
        let mut v = Vec::new();
        for b in gprs() {
            v.extend(DISPS.iter().map(|&d| Amode::base_disp(b, d)));
        }
        let bases = [Gpr::RAX, Gpr::RSP, Gpr::RBP, Gpr::R12, Gpr::R13, Gpr::R9];
        let mut k = 0;
        for b in bases {
            for i in gprs().filter(|&i| i != Gpr::RSP) {
                for s in [Scale::One, Scale::Two, Scale::Four, Scale::Eight] {
                    v.push(Amode::indexed(b, i, s, IDX_DISPS[k % IDX_DISPS.len()]));
                    k += 1;
                }
            }
        }
        v
    }

    /// Whether an operand is a sign-extended imm8 (the short ALU/imul forms).
    fn imm8_sext(k: OpKind) -> bool {
        matches!(k, OpKind::Immediate8to16 | OpKind::Immediate8to32 | OpKind::Immediate8to64)
    }

    struct Checker {
        fmt: IntelFormatter,
        count: usize,
        name: &'static str,
    }

    impl Checker {
        fn new(name: &'static str) -> Checker {
            let mut fmt = IntelFormatter::new();
            fmt.options_mut().set_memory_size_options(MemorySizeOptions::Always);
            fmt.options_mut().set_show_useless_prefixes(true);
            Checker { fmt, count: 0, name }
        }

        /// Decodes the single instruction `emit` produces and returns it with its text.
        fn decode(&mut self, emit: impl FnOnce(&mut Asm)) -> (Vec<u8>, Instruction, String) {
            let mut a = Asm::new();
            emit(&mut a);
            let code = a.finish();
            let mut d = Decoder::with_ip(64, &code, 0, DecoderOptions::NONE);
            let i = d.decode();
            let mut s = String::new();
            self.fmt.format(&i, &mut s);
            (code, i, s)
        }

        /// Checks one instruction against its expected text.
        fn check(&mut self, expected: &str, emit: impl FnOnce(&mut Asm)) -> Instruction {
            let (code, i, s) = self.decode(emit);
            let ok = !i.is_invalid() && i.len() == code.len() && s == expected;
            assert!(
                ok,
                "expected {expected:?}: emitted {code:02x?}, decoded {s:?} ({} of {} bytes)",
                i.len(),
                code.len()
            );
            // A bare REX prefix is only needed to reach spl/bpl/sil/dil.
            let first = code.iter().find(|b| !matches!(b, 0x66 | 0xF2 | 0xF3));
            if first == Some(&0x40) {
                let byte_reg = ["spl", "bpl", "sil", "dil"].iter().any(|r| s.contains(r));
                assert!(byte_reg, "useless REX in {code:02x?} ({s})");
            }
            self.count += 1;
            i
        }

        /// `check`, plus: the displacement of `m` has its shortest encoding.
        fn check_m(
            &mut self,
            expected: &str,
            m: Amode,
            emit: impl FnOnce(&mut Asm),
        ) -> Instruction {
            let i = self.check(expected, emit);
            let want = match m.disp {
                0 if m.base.low() != 5 => 0,
                d if (-128..128).contains(&d) => 1,
                _ => 8, // iced reports a 64-bit mode disp32 as 8 (sign-extended)
            };
            assert_eq!(i.memory_displ_size(), want, "displacement size of {expected}");
            i
        }
    }

    impl Drop for Checker {
        fn drop(&mut self) {
            if !std::thread::panicking() {
                eprintln!("{}: {} encodings checked", self.name, self.count);
            }
        }
    }

    #[test]
    fn alu() {
        let mut c = Checker::new("alu");
        let ams = amodes();
        for op in ALU {
            let name = format!("{op:?}").to_lowercase();
            for size in SIZES {
                for d in gprs() {
                    for s in gprs() {
                        c.check(&format!("{name} {},{}", reg(size, d), reg(size, s)), |a| {
                            a.alu_rr(op, size, d, s)
                        });
                    }
                    for v in IMMS {
                        let i = c.check(
                            &format!("{name} {},{}", reg(size, d), imm(size, v as i64)),
                            |a| a.alu_ri(op, size, d, v),
                        );
                        // The sign-extended imm8 form is used exactly when it fits.
                        let short = size != Size::S8 && (-128..128).contains(&v);
                        assert_eq!(imm8_sext(i.op1_kind()), short, "{name} {v}");
                    }
                }
                for (k, &m) in ams.iter().enumerate() {
                    for r in gprs() {
                        c.check_m(
                            &format!("{name} {},{}", reg(size, r), mem(ptr(size), m)),
                            m,
                            |a| a.alu_rm(op, size, r, m),
                        );
                        c.check_m(
                            &format!("{name} {},{}", mem(ptr(size), m), reg(size, r)),
                            m,
                            |a| a.alu_mr(op, size, m, r),
                        );
                    }
                    for v in [IMMS[k % IMMS.len()], IMMS[(k + 5) % IMMS.len()]] {
                        let i = c.check_m(
                            &format!("{name} {},{}", mem(ptr(size), m), imm(size, v as i64)),
                            m,
                            |a| a.alu_mi(op, size, m, v),
                        );
                        let short = size != Size::S8 && (-128..128).contains(&v);
                        assert_eq!(imm8_sext(i.op1_kind()), short, "{name} {v}");
                    }
                }
            }
        }
    }

    #[test]
    fn test_mov_xchg() {
        let mut c = Checker::new("test/mov/xchg");
        for size in SIZES {
            for a in gprs() {
                for b in gprs() {
                    c.check(&format!("test {},{}", reg(size, a), reg(size, b)), |x| {
                        x.test_rr(size, a, b)
                    });
                    c.check(&format!("mov {},{}", reg(size, a), reg(size, b)), |x| {
                        x.mov_rr(size, a, b)
                    });
                    c.check(&format!("xchg {},{}", reg(size, a), reg(size, b)), |x| {
                        x.xchg_rr(size, a, b)
                    });
                }
                for v in IMMS {
                    c.check(&format!("test {},{}", reg(size, a), imm(size, v as i64)), |x| {
                        x.test_ri(size, a, v)
                    });
                }
            }
        }
    }

    #[test]
    fn mov_imm() {
        let mut c = Checker::new("mov_ri");
        let imms: [u64; 14] = [
            0,
            1,
            0x7f,
            0x80,
            0xffff,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            0x1_0000_0000,
            0x1234_5678_9abc_def0,
            u64::MAX,
            (-0x8000_0000i64) as u64,
            (-0x8000_0001i64) as u64,
            0x8000_0000_0000_0000,
        ];
        for r in gprs() {
            for v in imms {
                let rex = r.high() as usize;
                c.check(&format!("mov {},{}", reg(Size::S8, r), hex(v as u8 as u64)), |a| {
                    a.mov_ri(Size::S8, r, v)
                });
                c.check(&format!("mov {},{}", reg(Size::S16, r), hex(v as u16 as u64)), |a| {
                    a.mov_ri(Size::S16, r, v)
                });
                c.check(&format!("mov {},{}", reg(Size::S32, r), hex(v as u32 as u64)), |a| {
                    a.mov_ri(Size::S32, r, v)
                });
                // S64: the shortest of mov r32,imm32 / mov r64,simm32 / movabs.
                let (size, len) = if v <= u32::MAX as u64 {
                    (Size::S32, 5 + rex)
                } else if i32::try_from(v as i64).is_ok() {
                    (Size::S64, 7)
                } else {
                    (Size::S64, 10)
                };
                let i = c.check(&format!("mov {},{}", reg(size, r), hex(v)), |a| {
                    a.mov_ri(Size::S64, r, v)
                });
                assert_eq!(i.len(), len, "mov {r:?}, {v:#x}");
            }
        }
    }

    #[test]
    fn loads_stores_lea() {
        let mut c = Checker::new("load/store/lea");
        let loads = [
            (LoadKind::U8To32, "movzx", Size::S32, Size::S8),
            (LoadKind::S8To32, "movsx", Size::S32, Size::S8),
            (LoadKind::U16To32, "movzx", Size::S32, Size::S16),
            (LoadKind::S16To32, "movsx", Size::S32, Size::S16),
            (LoadKind::U32, "mov", Size::S32, Size::S32),
            (LoadKind::S8To64, "movsx", Size::S64, Size::S8),
            (LoadKind::S16To64, "movsx", Size::S64, Size::S16),
            (LoadKind::S32To64, "movsxd", Size::S64, Size::S32),
            (LoadKind::U64, "mov", Size::S64, Size::S64),
        ];
        for (k, &m) in amodes().iter().enumerate() {
            for r in gprs() {
                for (kind, name, dst, src) in loads {
                    c.check_m(&format!("{name} {},{}", reg(dst, r), mem(ptr(src), m)), m, |a| {
                        a.load(kind, r, m)
                    });
                }
                for size in SIZES {
                    c.check_m(&format!("mov {},{}", mem(ptr(size), m), reg(size, r)), m, |a| {
                        a.store(size, m, r)
                    });
                }
                for size in WIDE {
                    c.check_m(&format!("lea {},{}", reg(size, r), mem("", m)), m, |a| {
                        a.lea(size, r, m)
                    });
                }
            }
            for size in SIZES {
                for v in [IMMS[k % IMMS.len()], IMMS[(k + 7) % IMMS.len()]] {
                    c.check_m(
                        &format!("mov {},{}", mem(ptr(size), m), imm(size, v as i64)),
                        m,
                        |a| a.store_imm(size, m, v),
                    );
                }
            }
        }
    }

    #[test]
    fn extend() {
        let mut c = Checker::new("extend_rr");
        let kinds = [
            (ExtendKind::U8To32, "movzx", Size::S32, Size::S8),
            (ExtendKind::S8To32, "movsx", Size::S32, Size::S8),
            (ExtendKind::U16To32, "movzx", Size::S32, Size::S16),
            (ExtendKind::S16To32, "movsx", Size::S32, Size::S16),
            (ExtendKind::S8To64, "movsx", Size::S64, Size::S8),
            (ExtendKind::S16To64, "movsx", Size::S64, Size::S16),
            (ExtendKind::S32To64, "movsxd", Size::S64, Size::S32),
            (ExtendKind::U32To64, "mov", Size::S32, Size::S32),
        ];
        for (kind, name, dsize, ssize) in kinds {
            for d in gprs() {
                for s in gprs() {
                    c.check(&format!("{name} {},{}", reg(dsize, d), reg(ssize, s)), |a| {
                        a.extend_rr(kind, d, s)
                    });
                }
            }
        }
    }

    #[test]
    fn shifts_and_unary() {
        let mut c = Checker::new("shift/neg/not/div/bswap/cdq");
        for size in SIZES {
            for r in gprs() {
                let rn = reg(size, r);
                for op in SHIFTS {
                    let name = format!("{op:?}").to_lowercase();
                    c.check(&format!("{name} {rn},cl"), |a| a.shift_cl(op, size, r));
                    for n in [0u8, 1, 2, 7, 9, 10, 31, 63, 255] {
                        c.check(&format!("{name} {rn},{}", hex(n as u64)), |a| {
                            a.shift_ri(op, size, r, n)
                        });
                    }
                }
                c.check(&format!("neg {rn}"), |a| a.neg(size, r));
                c.check(&format!("not {rn}"), |a| a.not(size, r));
                c.check(&format!("div {rn}"), |a| a.div(size, false, r));
                c.check(&format!("idiv {rn}"), |a| a.div(size, true, r));
            }
        }
        for size in [Size::S32, Size::S64] {
            for r in gprs() {
                c.check(&format!("bswap {}", reg(size, r)), |a| a.bswap(size, r));
            }
        }
        for (size, name) in [(Size::S16, "cwd"), (Size::S32, "cdq"), (Size::S64, "cqo")] {
            c.check(name, |a| a.sign_extend_ax(size));
        }
    }

    #[test]
    fn imul() {
        let mut c = Checker::new("imul");
        let ams = amodes();
        for size in WIDE {
            for d in gprs() {
                for s in gprs() {
                    c.check(&format!("imul {},{}", reg(size, d), reg(size, s)), |a| {
                        a.imul_rr(size, d, s)
                    });
                    for v in IMMS {
                        // iced writes `imul r, r, imm` with equal registers as `imul r, imm`.
                        let src = if d == s { String::new() } else { format!("{},", reg(size, s)) };
                        let text = format!("imul {},{src}{}", reg(size, d), imm(size, v as i64));
                        let i = c.check(&text, |a| a.imul_rri(size, d, s, v));
                        let short = (-128..128).contains(&v);
                        assert_eq!(imm8_sext(i.op2_kind()), short, "{text}");
                    }
                }
                for &m in &ams {
                    c.check_m(&format!("imul {},{}", reg(size, d), mem(ptr(size), m)), m, |a| {
                        a.imul_rm(size, d, m)
                    });
                }
            }
        }
    }

    #[test]
    fn conditional() {
        let mut c = Checker::new("setcc/cmov");
        for (cc, name) in conds().zip(CC) {
            for d in gprs() {
                c.check(&format!("set{name} {}", reg(Size::S8, d)), |a| a.setcc(cc, d));
                for size in WIDE {
                    for s in gprs() {
                        c.check(&format!("cmov{name} {},{}", reg(size, d), reg(size, s)), |a| {
                            a.cmov(cc, size, d, s)
                        });
                    }
                }
            }
        }
    }

    #[test]
    fn bit_counts() {
        let mut c = Checker::new("bit_count");
        let ops = [
            BitCountOp::Bsr,
            BitCountOp::Bsf,
            BitCountOp::Lzcnt,
            BitCountOp::Tzcnt,
            BitCountOp::Popcnt,
        ];
        for op in ops {
            let name = format!("{op:?}").to_lowercase();
            for size in WIDE {
                for d in gprs() {
                    for s in gprs() {
                        c.check(&format!("{name} {},{}", reg(size, d), reg(size, s)), |a| {
                            a.bit_count(op, size, d, s)
                        });
                    }
                }
            }
        }
    }

    #[test]
    fn stack_and_indirect() {
        let mut c = Checker::new("push/pop/call/jmp/misc");
        for r in gprs() {
            let rn = R64[r.0 as usize];
            c.check(&format!("push {rn}"), |a| a.push(r));
            c.check(&format!("pop {rn}"), |a| a.pop(r));
            c.check(&format!("call {rn}"), |a| a.call_r(r));
            c.check(&format!("jmp {rn}"), |a| a.jmp_r(r));
        }
        for m in amodes() {
            let ms = mem("qword", m);
            c.check_m(&format!("push {ms}"), m, |a| a.push_m(m));
            c.check_m(&format!("call {ms}"), m, |a| a.call_m(m));
            c.check_m(&format!("jmp {ms}"), m, |a| a.jmp_m(m));
        }
        c.check("ret", |a| a.ret());
        c.check("ud2", |a| a.ud2());
        c.check("int3", |a| a.int3());
    }

    #[test]
    fn nops() {
        let mut c = Checker::new("nop");
        for len in 0..=40 {
            let mut a = Asm::new();
            a.nop(len);
            let code = a.finish();
            assert_eq!(code.len(), len);
            let mut d = Decoder::with_ip(64, &code, 0, DecoderOptions::NONE);
            let mut lens = Vec::new();
            while d.can_decode() {
                let i = d.decode();
                assert_eq!(i.mnemonic(), Mnemonic::Nop, "nop({len}): {code:02x?}");
                lens.push(i.len());
                c.count += 1;
            }
            assert_eq!(lens.iter().sum::<usize>(), len);
            // Longest forms first; at most one shorter one at the end.
            assert!(lens.iter().rev().skip(1).all(|&n| n == 9), "nop({len}): {lens:?}");
        }
    }

    #[test]
    fn sse() {
        let mut c = Checker::new("sse");
        use SseOp::*;
        let ops = [
            Addss, Addsd, Subss, Subsd, Mulss, Mulsd, Divss, Divsd, Minss, Minsd, Maxss, Maxsd,
            Sqrtss, Sqrtsd, Ucomiss, Ucomisd, Cvtss2sd, Cvtsd2ss, Andps, Andpd, Andnps, Andnpd,
            Orps, Orpd, Xorps, Xorpd,
        ];
        let ams = amodes();
        for op in ops {
            let name = format!("{op:?}").to_lowercase();
            // Memory width: scalar single/double by the source type, packed ops 16 bytes.
            let width = match op {
                Addss | Subss | Mulss | Divss | Minss | Maxss | Sqrtss | Ucomiss | Cvtss2sd => {
                    "dword"
                }
                Addsd | Subsd | Mulsd | Divsd | Minsd | Maxsd | Sqrtsd | Ucomisd | Cvtsd2ss => {
                    "qword"
                }
                _ => "xmmword",
            };
            for d in xmms() {
                for s in xmms() {
                    c.check(&format!("{name} {},{}", xmm(d), xmm(s)), |a| a.sse_rr(op, d, s));
                }
                for (k, &m) in ams.iter().enumerate() {
                    if k % 4 == d.0 as usize % 4 {
                        c.check_m(&format!("{name} {},{}", xmm(d), mem(width, m)), m, |a| {
                            a.sse_rm(op, d, m)
                        });
                    }
                }
            }
        }
        for x in xmms() {
            for r in gprs() {
                c.check(&format!("movd {},{}", xmm(x), R32[r.0 as usize]), |a| {
                    a.movd_to_xmm(Size::S32, x, r)
                });
                c.check(&format!("movq {},{}", xmm(x), R64[r.0 as usize]), |a| {
                    a.movd_to_xmm(Size::S64, x, r)
                });
                c.check(&format!("movd {},{}", R32[r.0 as usize], xmm(x)), |a| {
                    a.movd_from_xmm(Size::S32, r, x)
                });
                c.check(&format!("movq {},{}", R64[r.0 as usize], xmm(x)), |a| {
                    a.movd_from_xmm(Size::S64, r, x)
                });
                for (double, t) in [(false, "ss"), (true, "sd")] {
                    for size in [Size::S32, Size::S64] {
                        let rn = reg(size, r);
                        c.check(&format!("cvtsi2{t} {},{rn}", xmm(x)), |a| {
                            a.cvt_int_to_float(double, size, x, r)
                        });
                        c.check(&format!("cvtt{t}2si {rn},{}", xmm(x)), |a| {
                            a.cvtt_float_to_int(double, size, r, x)
                        });
                    }
                }
            }
            for y in xmms() {
                c.check(&format!("movaps {},{}", xmm(x), xmm(y)), |a| a.movaps(x, y));
                for (double, t) in [(false, "ss"), (true, "sd")] {
                    for mode in 0..16u8 {
                        c.check(
                            &format!("round{t} {},{},{}", xmm(x), xmm(y), hex(mode as u64)),
                            |a| a.round(double, x, y, mode),
                        );
                    }
                    let preds = ["eq", "lt", "le", "unord", "neq", "nlt", "nle", "ord"];
                    for (pred, p) in preds.iter().enumerate() {
                        c.check(&format!("cmp{p}{t} {},{}", xmm(x), xmm(y)), |a| {
                            a.cmp_f(double, x, y, pred as u8)
                        });
                    }
                }
            }
            for &m in &ams {
                c.check_m(&format!("movss {},{}", xmm(x), mem("dword", m)), m, |a| {
                    a.load_f(false, x, m)
                });
                c.check_m(&format!("movsd {},{}", xmm(x), mem("qword", m)), m, |a| {
                    a.load_f(true, x, m)
                });
                c.check_m(&format!("movss {},{}", mem("dword", m), xmm(x)), m, |a| {
                    a.store_f(false, m, x)
                });
                c.check_m(&format!("movsd {},{}", mem("qword", m), xmm(x)), m, |a| {
                    a.store_f(true, m, x)
                });
                c.check_m(&format!("movdqu {},{}", xmm(x), mem("xmmword", m)), m, |a| {
                    a.load_v128(x, m)
                });
                c.check_m(&format!("movdqu {},{}", mem("xmmword", m), xmm(x)), m, |a| {
                    a.store_v128(m, x)
                });
            }
        }
    }

    /// Decodes all of `code`; returns (offset, length, mnemonic text, branch target).
    fn decode_all(code: &[u8]) -> Vec<(usize, usize, String, u64)> {
        let mut d = Decoder::with_ip(64, code, 0, DecoderOptions::NONE);
        let mut out = Vec::new();
        while d.can_decode() {
            let at = d.position();
            let i = d.decode();
            assert!(!i.is_invalid(), "invalid code at {at}: {code:02x?}");
            let mut s = String::new();
            IntelFormatter::new().format(&i, &mut s);
            let mnemonic = s.split(' ').next().unwrap().to_string();
            out.push((at, i.len(), mnemonic, i.near_branch_target()));
        }
        out
    }

    #[test]
    fn forward_branches() {
        let mut checked = 0;
        for gap in [0usize, 1, 100, 127, 128, 300, 100_000] {
            for (cc, name) in conds().zip(CC) {
                let mut a = Asm::new();
                let l = a.new_label();
                a.jcc(cc, l);
                a.jmp(l);
                a.call_label(l);
                a.nop(gap);
                a.bind(l);
                a.jcc(cc, l); // backward, distance 0: rel8
                let target = a.label_offset(l).unwrap() as u64;
                assert_eq!(target, 6 + 5 + 5 + gap as u64);
                let code = a.finish();
                let insts = decode_all(&code);
                let (first, last) = (&insts[..3], insts.last().unwrap());
                // Forward branches are always rel32.
                let expect =
                    [(0, 6, format!("j{name}")), (6, 5, "jmp".into()), (11, 5, "call".into())];
                for ((at, len, m, t), (eat, elen, em)) in first.iter().zip(expect) {
                    assert_eq!((*at, *len, m.as_str(), *t), (eat, elen, em.as_str(), target));
                    checked += 1;
                }
                assert_eq!((last.0 as u64, last.1, last.3), (target, 2, target));
                checked += 1;
            }
        }
        eprintln!("forward_branches: {checked} branches checked");
    }

    #[test]
    fn backward_branches() {
        let mut checked = 0;
        for gap in 0..=300usize {
            for cc in [Some(Cond::E), Some(Cond::G), Some(Cond::O), None] {
                let mut a = Asm::new();
                a.nop(3);
                let l = a.new_label();
                a.bind(l);
                a.nop(gap);
                match cc {
                    Some(cc) => a.jcc(cc, l),
                    None => a.jmp(l),
                }
                let code = a.finish();
                let insts = decode_all(&code);
                let (at, len, m, target) = insts.last().unwrap().clone();
                // rel8 reaches back 128 bytes from the end of the 2-byte branch.
                let short = gap + 2 <= 128;
                let near = if cc.is_some() { 6 } else { 5 };
                assert_eq!(
                    (at, len, target),
                    (3 + gap, if short { 2 } else { near }, 3),
                    "gap {gap}: {code:02x?}"
                );
                let want = cc.map_or("jmp".to_string(), |cc| format!("j{}", CC[cc as usize]));
                assert_eq!(m, want);
                checked += 1;
            }
        }
        eprintln!("backward_branches: {checked} branches checked");
    }

    #[test]
    fn raw_rel32_and_labels() {
        let mut a = Asm::new();
        a.nop(7);
        let call = a.call_rel32();
        assert_eq!(call, 8);
        let jmp = a.jmp_rel32();
        assert_eq!(jmp, 13);
        let l1 = a.new_label();
        let l2 = a.new_label();
        assert_ne!(l1, l2);
        assert_eq!(a.label_offset(l1), None);
        a.jmp(l2);
        a.bind(l1);
        assert_eq!(a.label_offset(l1), Some(22));
        a.put(&[0xCC; 50]);
        a.patch_u32(call, 50u32.wrapping_sub(call + 4));
        a.patch_u32(jmp, 0u32.wrapping_sub(jmp + 4));
        a.bind(l2);
        a.call_label(l1); // backward call: resolved immediately
        assert_eq!(
            a.bytes()[a.bytes().len() - 4..],
            (22u32.wrapping_sub(a.offset())).to_le_bytes()
        );
        let code = a.finish();
        let insts = decode_all(&code);
        let branches: Vec<_> =
            insts.iter().filter(|i| i.3 != 0 || i.2 != "nop" && i.2 != "int3").collect();
        let got: Vec<_> = branches.iter().map(|i| (i.0, i.2.as_str(), i.3)).collect();
        assert_eq!(got, [(7, "call", 50), (12, "jmp", 0), (17, "jmp", 72), (72, "call", 22)]);
    }

    #[test]
    #[should_panic(expected = "unbound label")]
    fn unbound_label_panics() {
        let mut a = Asm::new();
        let l = a.new_label();
        a.jmp(l);
        a.finish();
    }

    #[test]
    #[should_panic(expected = "bound twice")]
    fn double_bind_panics() {
        let mut a = Asm::new();
        let l = a.new_label();
        a.bind(l);
        a.bind(l);
    }

    #[test]
    #[should_panic(expected = "rsp cannot be an index")]
    fn rsp_index_panics() {
        Asm::new().load(LoadKind::U64, Gpr::RAX, Amode::indexed(Gpr::RAX, Gpr::RSP, Scale::One, 0));
    }

    #[test]
    fn unused_unbound_label_is_fine() {
        let mut a = Asm::new();
        let _ = a.new_label();
        a.ret();
        assert_eq!(a.finish(), [0xC3]);
    }

    #[test]
    fn rip_relative_operands_reach_their_label() {
        for x in xmms() {
            let mut a = Asm::new();
            let l = a.new_label();
            a.sse_rip(SseOp::Xorpd, x, l);
            a.load_f_rip(true, x, l);
            a.lea_rip(Gpr(x.0), l);
            a.nop(5);
            a.bind(l);
            a.put(&[0; 16]);
            let target = a.label_offset(l).unwrap() as u64;
            let code = a.finish();
            let mut d = Decoder::with_ip(64, &code, 0, DecoderOptions::NONE);
            let mut text = Vec::new();
            let mut fmt = IntelFormatter::new();
            for _ in 0..3 {
                let ins = d.decode();
                assert!(ins.is_ip_rel_memory_operand(), "{ins}");
                assert_eq!(ins.ip_rel_memory_address(), target);
                let mut out = String::new();
                fmt.format(&ins, &mut out);
                text.push(out);
            }
            assert!(text[0].starts_with(&format!("xorpd xmm{}", x.0)), "{}", text[0]);
            assert!(text[1].starts_with(&format!("movsd xmm{}", x.0)), "{}", text[1]);
            assert!(text[2].starts_with("lea "), "{}", text[2]);
        }
    }

    #[test]
    fn bts() {
        let mut c = Checker::new("bts");
        for r in gprs() {
            for (size, bit) in [(Size::S32, 31u8), (Size::S64, 63), (Size::S64, 0)] {
                c.check(&format!("bts {},{}", reg(size, r), hex(bit as u64)), |a| {
                    a.bts_ri(size, r, bit)
                });
            }
        }
    }
}
