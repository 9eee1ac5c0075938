//! VCode: x86-64 instructions over virtual registers, in block order.
//!
//! Produced by `lower`, read by `regalloc` (through [`MInst::operands`])
//! and by `x64::emit` (with the allocation as a side table; VCode itself is
//! never rewritten). Physical registers may appear as operands; they are
//! fixed constraints (argument registers, `rax`/`rdx` of a division, `rcx`
//! of a shift) that the allocator works around.
//!
//! Instruction semantics are atomic for the allocator: all uses are read at
//! the "use" position of the instruction, all defs written at its "def"
//! position, except `EarlyDef` operands, which are written before the uses
//! are read (temporaries of multi-instruction sequences).

use super::ir::SimdOp;
use super::x64::encode::{AluOp, BitCountOp, ExtendKind, LoadKind, ShiftOp, SseOp};
use super::x64::regs::{Cond, Gpr, Scale, Size, Xmm};
use crate::contract::abi::MACHINE;
use crate::contract::builtins::Builtin;
use crate::contract::trap::TrapCode;

/// A register operand: physical (`0..16` GPRs, `16..32` XMMs) or virtual
/// (`32..`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(pub u32);

/// Number of physical register slots (16 GPR + 16 XMM).
pub const NUM_PREGS: u32 = 32;

/// The register file of a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegClass {
    /// General-purpose.
    Int,
    /// SSE.
    Float,
}

impl Reg {
    /// A physical general-purpose register.
    pub fn gpr(g: Gpr) -> Reg {
        Reg(g.0 as u32)
    }
    /// A physical SSE register.
    pub fn xmm(x: Xmm) -> Reg {
        Reg(16 + x.0 as u32)
    }
    /// Whether this is a virtual register.
    pub fn is_virtual(self) -> bool {
        self.0 >= NUM_PREGS
    }
    /// Index of a virtual register (panics on physical).
    pub fn vreg_index(self) -> usize {
        debug_assert!(self.is_virtual());
        (self.0 - NUM_PREGS) as usize
    }
    /// The physical GPR, if this is one.
    pub fn as_gpr(self) -> Option<Gpr> {
        (self.0 < 16).then_some(Gpr(self.0 as u8))
    }
    /// The physical XMM, if this is one.
    pub fn as_xmm(self) -> Option<Xmm> {
        (16..32).contains(&self.0).then(|| Xmm((self.0 - 16) as u8))
    }
    /// Class of a physical register.
    pub fn phys_class(self) -> RegClass {
        if self.0 < 16 { RegClass::Int } else { RegClass::Float }
    }
}

impl std::fmt::Debug for Reg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(g) = self.as_gpr() {
            write!(f, "%{g:?}")
        } else if let Some(x) = self.as_xmm() {
            write!(f, "%{x:?}")
        } else {
            write!(f, "r{}", self.vreg_index())
        }
    }
}

/// A memory operand over registers: `[base + index*scale + disp]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemAddr {
    /// Base register.
    pub base: Reg,
    /// Optional index.
    pub index: Option<(Reg, Scale)>,
    /// Displacement.
    pub disp: i32,
}

impl MemAddr {
    /// `[base + disp]`.
    pub fn base_disp(base: Reg, disp: i32) -> MemAddr {
        MemAddr { base, index: None, disp }
    }
    /// `[vmctx + disp]`.
    pub fn vmctx(disp: u32) -> MemAddr {
        MemAddr::base_disp(Reg::gpr(Gpr(crate::contract::abi::VMCTX_REG)), disp as i32)
    }
}

/// A register, memory or immediate source operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegMemImm {
    /// Register.
    Reg(Reg),
    /// Memory.
    Mem(MemAddr),
    /// Sign-extended 32-bit immediate.
    Imm(i32),
}

/// Index of a block in `VCode::blocks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VBlock(pub u32);

/// Index of a constant in `VCode::constants`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConstId(pub u32);

/// Kind of integer division pseudo-instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DivKind {
    /// Signed quotient (traps on overflow).
    DivS,
    /// Unsigned quotient.
    DivU,
    /// Signed remainder (`x % -1 == 0`).
    RemS,
    /// Unsigned remainder.
    RemU,
}

/// Float-to-int conversion flavours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TruncKind {
    /// Trapping, signed.
    Signed,
    /// Trapping, unsigned.
    Unsigned,
    /// Saturating, signed.
    SatSigned,
    /// Saturating, unsigned.
    SatUnsigned,
}

/// What a stack slot of the calling convention holds, which sets how
/// many bytes move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotKind {
    /// An integer or reference: 8 bytes from a GPR.
    Int,
    /// A scalar float: 8 bytes from an xmm register.
    Float,
    /// A v128: 16 bytes from an xmm register.
    Vector,
}

impl SlotKind {
    /// The kind of slot a value of IR type `ty` takes.
    pub fn of(ty: super::ir::Type) -> SlotKind {
        use super::ir::Type;
        match ty {
            Type::I32 | Type::I64 => SlotKind::Int,
            Type::F32 | Type::F64 => SlotKind::Float,
            Type::V128 => SlotKind::Vector,
        }
    }
}

/// How a call finds its callee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallTarget {
    /// A function defined in this module (direct `call rel32`).
    Defined(u32),
    /// An imported function: switch to the import's vmctx, call, switch back.
    Import(u32),
    /// A `VMFuncRef` in a register (already null- and type-checked): switch
    /// to its vmctx, call, switch back.
    FuncRef(Reg),
    /// A builtin, through the vmctx's builtin table.
    Builtin(Builtin),
}

/// A machine instruction over (possibly virtual) registers.
///
/// Field names follow one convention throughout: `dst` is written, `src`
/// and `a`/`b` are read, `tmp` is a scratch register of a multi-instruction
/// sequence, `size` is the integer operand size and `double` selects f64
/// over f32; `srcloc` is the wasm offset reported by traps. Each variant's
/// `operands` entry states how every register is used.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq)]
pub enum MInst {
    /// GPR copy.
    Mov { size: Size, dst: Reg, src: Reg },
    /// Load an immediate into a GPR.
    MovImm { size: Size, dst: Reg, imm: u64 },
    /// XMM copy.
    FMov { dst: Reg, src: Reg },
    /// Load a float constant (zero is materialised with `xorps`).
    FConst { double: bool, dst: Reg, bits: u64 },
    /// GPR -> XMM bit move (`movd`/`movq`).
    MovToXmm { size: Size, dst: Reg, src: Reg },
    /// XMM -> GPR bit move.
    MovFromXmm { size: Size, dst: Reg, src: Reg },
    /// `dst = dst op src` (`Cmp` writes flags only: `dst` is then a use).
    Alu { op: AluOp, size: Size, dst: Reg, src: RegMemImm },
    /// Flags from `a cmp src`.
    Cmp { size: Size, a: Reg, src: RegMemImm },
    /// Flags from `a test src`.
    Test { size: Size, a: Reg, src: Reg },
    /// `dst = dst * src`.
    Imul { size: Size, dst: Reg, src: RegMemImm },
    /// `dst = src * imm`.
    ImulImm { size: Size, dst: Reg, src: Reg, imm: i32 },
    /// Shift or rotate `dst` by `imm`, or by `cl` when `imm` is `None`.
    Shift { op: ShiftOp, size: Size, dst: Reg, imm: Option<u8> },
    /// `neg dst`.
    Neg { size: Size, dst: Reg },
    /// `not dst`.
    Not { size: Size, dst: Reg },
    /// Division or remainder of `rax` by `divisor`; result in `rax`
    /// (quotient) or `rdx` (remainder). Traps are emitted inline.
    Div {
        kind: DivKind,
        size: Size,
        divisor: Reg,
        /// The divisor may be zero.
        check_zero: bool,
        /// The division may overflow (signed, divisor may be -1).
        check_overflow: bool,
        srcloc: u32,
    },
    /// Bit counting (`lzcnt`, `tzcnt`, `popcnt`, or `bsr`/`bsf` sequences).
    BitCount { op: BitCountOp, size: Size, dst: Reg, src: Reg },
    /// Zero or sign extension.
    Extend { kind: ExtendKind, dst: Reg, src: Reg },
    /// `dst = cond ? 1 : 0` (32-bit).
    Setcc { cond: Cond, dst: Reg },
    /// `dst = (ZF && !PF) ? 1 : 0` or its negation: float (in)equality.
    SetFloatEq { negate: bool, dst: Reg, tmp: Reg },
    /// `if cond { dst = src }`.
    Cmov { cond: Cond, size: Size, dst: Reg, src: Reg },
    /// `if cond { dst = src }` for XMM registers (a short branch).
    FCmov { cond: Cond, dst: Reg, src: Reg },
    /// Address computation.
    Lea { size: Size, dst: Reg, addr: MemAddr },
    /// Integer load (zero/sign-extending).
    Load { kind: LoadKind, dst: Reg, addr: MemAddr },
    /// Integer store of the low `size` bytes.
    Store { size: Size, addr: MemAddr, src: Reg },
    /// Integer store of an immediate (sign-extended to 64 bits for S64).
    StoreImm { size: Size, addr: MemAddr, imm: i32 },
    /// Float load.
    FLoad { double: bool, dst: Reg, addr: MemAddr },
    /// Float store.
    FStore { double: bool, addr: MemAddr, src: Reg },
    /// Vector load of `bytes` (16; or 4 or 8 into lane 0, zeroing the rest).
    VLoad { bytes: u8, dst: Reg, addr: MemAddr },
    /// Vector store of 16 bytes.
    VStore { addr: MemAddr, src: Reg },
    /// A v128 constant, from the pool (zero is materialised with `pxor`).
    VConst { dst: Reg, bits: u128 },
    /// A wasm vector operator, expanded by `x64/emit/simd.rs`. With
    /// `in_place`, `dst` already holds the first operand (lowering copied
    /// it) and is read and written, and `args` are the other operands;
    /// otherwise `dst` is written before `args` are read. `imm` is a
    /// constant shift count replacing the last operand. `tmps` are the
    /// temporaries the expansion asks for (`x64::emit::simd::temps`).
    Simd { op: SimdOp, in_place: bool, dst: Reg, args: Vec<Reg>, tmps: Vec<Reg>, imm: Option<u8> },
    /// `dst = dst op src` for SSE arithmetic, or `dst = op(src)` for the
    /// unary forms (sqrt, cvtss2sd, cvtsd2ss).
    Sse { op: SseOp, dst: Reg, src: Reg },
    /// `dst = dst op [constant]` for SSE logic with a constant mask.
    SseConst { op: SseOp, dst: Reg, constant: ConstId },
    /// Flags from `ucomiss`/`ucomisd a, b`.
    Ucomis { double: bool, a: Reg, b: Reg },
    /// Wasm `min`/`max`, `dst = dst minmax src`.
    FMinMax { is_max: bool, double: bool, dst: Reg, src: Reg },
    /// `roundss`/`roundsd` with mode.
    Round { double: bool, dst: Reg, src: Reg, mode: u8 },
    /// Int -> float; `tmps` (two GPRs) are present for unsigned 64-bit sources.
    IntToFloat { double: bool, int_size: Size, dst: Reg, src: Reg, tmps: Option<(Reg, Reg)> },
    /// Float -> int with wasm semantics (traps or saturation inline).
    FloatToInt {
        kind: TruncKind,
        double: bool,
        int_size: Size,
        dst: Reg,
        src: Reg,
        tmp: Reg,
        srcloc: u32,
    },
    /// Copy the sign of `src` onto `dst`, using `tmp`.
    FCopysign { double: bool, dst: Reg, src: Reg, tmp: Reg },
    /// Traps with `code` if `cond` holds.
    TrapIf { cond: Cond, code: TrapCode, srcloc: u32 },
    /// A check point: if `fuel` (when metered) is not negative, or
    /// `interrupt` and the store's interrupt flag is set, an out-of-line
    /// path that preserves every register asks the runtime whether to trap
    /// or continue (with the fuel counter refreshed).
    CheckPoint { fuel: Option<Reg>, interrupt: bool, srcloc: u32 },
    /// Traps if the last float comparison was unordered.
    TrapIfUnordered { code: TrapCode, srcloc: u32 },
    /// Traps with the code stored by a builtin if `status` is nonzero.
    TrapIfStatus { status: Reg, srcloc: u32 },
    /// Unconditional trap.
    Trap { code: TrapCode, srcloc: u32 },
    /// Call; argument registers are listed in `uses`, result registers in
    /// `defs`; every caller-saved register not in `defs` is clobbered.
    Call { target: CallTarget, uses: Vec<Reg>, defs: Vec<Reg>, srcloc: u32 },
    /// Reserve outgoing stack space of at least this many bytes (recorded
    /// into the frame; emits nothing).
    OutgoingArgs { bytes: u32 },
    /// Store to an outgoing stack argument slot `[rsp + offset]`.
    StoreArg { offset: u32, src: Reg, kind: SlotKind },
    /// Load a stack-returned result from `[rsp + offset]`.
    LoadRet { offset: u32, dst: Reg, kind: SlotKind },
    /// Load an incoming stack parameter from `[rbp + 16 + offset]`.
    LoadParam { offset: u32, dst: Reg, kind: SlotKind },
    /// Store a stack-returned result to `[rbp + 16 + offset]`.
    StoreRet { offset: u32, src: Reg, kind: SlotKind },
    /// Materialise the vmctx (r14) into `dst`.
    GetVmctx { dst: Reg },
    /// Defines the registers of incoming parameters at function entry.
    Params { defs: Vec<Reg> },
    /// Jump, passing `args` to the target's block parameters.
    Jmp { target: VBlock, args: Vec<Reg> },
    /// Conditional branch on flags.
    Jcc { cond: Cond, taken: VBlock, not_taken: VBlock },
    /// Branch on float equality flags: to `taken` when ordered and equal
    /// (or, with `negate`, when unequal or unordered).
    JccFloatEq { negate: bool, taken: VBlock, not_taken: VBlock },
    /// Jump table on `index` (32-bit); out of range goes to `default`.
    JmpTable { index: Reg, tmp: Reg, targets: Vec<VBlock>, default: VBlock },
    /// Return; result registers are uses.
    Ret { uses: Vec<Reg> },
}

/// How an instruction touches a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperandKind {
    /// Read at the use position.
    Use,
    /// Written at the def position.
    Def,
    /// Read and written (live through the instruction).
    Mod,
    /// Written before the uses are read; must not share a register with them.
    EarlyDef,
}

/// Receives the register operands of an instruction.
pub trait OperandVisitor {
    /// One operand.
    fn operand(&mut self, reg: Reg, kind: OperandKind);
    /// A physical register clobbered (written with garbage) at the def position.
    fn clobber(&mut self, reg: Reg);
}

fn visit_addr(v: &mut dyn OperandVisitor, a: &MemAddr) {
    v.operand(a.base, OperandKind::Use);
    if let Some((i, _)) = a.index {
        v.operand(i, OperandKind::Use);
    }
}

fn visit_rmi(v: &mut dyn OperandVisitor, s: &RegMemImm) {
    match s {
        RegMemImm::Reg(r) => v.operand(*r, OperandKind::Use),
        RegMemImm::Mem(a) => visit_addr(v, a),
        RegMemImm::Imm(_) => {}
    }
}

/// An [`OperandVisitor`] that hands each operand to a closure (`None`: a
/// clobber).
struct EachOperand<'a>(&'a mut dyn FnMut(Reg, Option<OperandKind>));

impl OperandVisitor for EachOperand<'_> {
    fn operand(&mut self, reg: Reg, kind: OperandKind) {
        (self.0)(reg, Some(kind));
    }
    fn clobber(&mut self, reg: Reg) {
        (self.0)(reg, None);
    }
}

impl MInst {
    /// Calls `f` with every register operand and its kind, and with every
    /// clobbered register (kind `None`), in the order of [`Self::operands`].
    pub fn each_operand(&self, mut f: impl FnMut(Reg, Option<OperandKind>)) {
        self.operands(&mut EachOperand(&mut f));
    }

    /// Reports every register operand to `v`.
    pub fn operands(&self, v: &mut dyn OperandVisitor) {
        use OperandKind::*;
        match self {
            MInst::Mov { dst, src, .. }
            | MInst::FMov { dst, src }
            | MInst::MovToXmm { dst, src, .. }
            | MInst::MovFromXmm { dst, src, .. }
            | MInst::ImulImm { dst, src, .. }
            | MInst::BitCount { dst, src, .. }
            | MInst::Extend { dst, src, .. }
            | MInst::Round { dst, src, .. } => {
                v.operand(*src, Use);
                v.operand(*dst, Def);
            }
            MInst::Sse { op, dst, src } => {
                v.operand(*src, Use);
                let unary =
                    matches!(op, SseOp::Sqrtss | SseOp::Sqrtsd | SseOp::Cvtss2sd | SseOp::Cvtsd2ss);
                v.operand(*dst, if unary { Def } else { Mod });
            }
            MInst::MovImm { dst, .. } | MInst::FConst { dst, .. } => v.operand(*dst, Def),
            MInst::Alu { op, dst, src, .. } => {
                visit_rmi(v, src);
                v.operand(*dst, if *op == AluOp::Cmp { Use } else { Mod });
            }
            MInst::Cmp { a, src, .. } => {
                v.operand(*a, Use);
                visit_rmi(v, src);
            }
            MInst::Test { a, src, .. } => {
                v.operand(*a, Use);
                v.operand(*src, Use);
            }
            MInst::Imul { dst, src, .. } => {
                visit_rmi(v, src);
                v.operand(*dst, Mod);
            }
            MInst::Shift { dst, imm, .. } => {
                if imm.is_none() {
                    v.operand(Reg::gpr(Gpr::RCX), Use);
                }
                v.operand(*dst, Mod);
            }
            MInst::Neg { dst, .. } | MInst::Not { dst, .. } | MInst::SseConst { dst, .. } => {
                v.operand(*dst, Mod)
            }
            MInst::Div { divisor, .. } => {
                v.operand(*divisor, Use);
                v.operand(Reg::gpr(Gpr::RAX), Mod);
                v.operand(Reg::gpr(Gpr::RDX), EarlyDef);
            }
            MInst::Setcc { dst, .. } => v.operand(*dst, Def),
            MInst::SetFloatEq { dst, tmp, .. } => {
                v.operand(*tmp, EarlyDef);
                v.operand(*dst, Def);
            }
            MInst::Cmov { dst, src, .. } | MInst::FCmov { dst, src, .. } => {
                v.operand(*src, Use);
                v.operand(*dst, Mod);
            }
            MInst::Lea { dst, addr, .. }
            | MInst::Load { dst, addr, .. }
            | MInst::FLoad { dst, addr, .. } => {
                visit_addr(v, addr);
                v.operand(*dst, Def);
            }
            MInst::Store { addr, src, .. } | MInst::FStore { addr, src, .. } => {
                visit_addr(v, addr);
                v.operand(*src, Use);
            }
            MInst::StoreImm { addr, .. } => visit_addr(v, addr),
            MInst::VLoad { dst, addr, .. } => {
                visit_addr(v, addr);
                v.operand(*dst, Def);
            }
            MInst::VStore { addr, src } => {
                visit_addr(v, addr);
                v.operand(*src, Use);
            }
            MInst::VConst { dst, .. } => v.operand(*dst, Def),
            MInst::Simd { in_place, dst, args, tmps, .. } => {
                for &a in args {
                    v.operand(a, Use);
                }
                for &t in tmps {
                    v.operand(t, EarlyDef);
                }
                v.operand(*dst, if *in_place { Mod } else { EarlyDef });
            }
            MInst::Ucomis { a, b, .. } => {
                v.operand(*a, Use);
                v.operand(*b, Use);
            }
            MInst::FMinMax { dst, src, .. } => {
                v.operand(*src, Use);
                v.operand(*dst, Mod);
            }
            MInst::IntToFloat { dst, src, tmps, .. } => {
                v.operand(*src, Use);
                if let Some((a, b)) = tmps {
                    v.operand(*a, EarlyDef);
                    v.operand(*b, EarlyDef);
                }
                v.operand(*dst, EarlyDef);
            }
            MInst::FloatToInt { dst, src, tmp, .. } => {
                v.operand(*src, Use);
                v.operand(*tmp, EarlyDef);
                v.operand(*dst, EarlyDef);
            }
            MInst::FCopysign { dst, src, tmp, .. } => {
                v.operand(*src, Use);
                v.operand(*tmp, EarlyDef);
                v.operand(*dst, Mod);
            }
            MInst::TrapIfStatus { status, .. } => v.operand(*status, Use),
            MInst::CheckPoint { fuel, .. } => {
                if let Some(f) = fuel {
                    v.operand(*f, Mod);
                }
            }
            MInst::TrapIf { .. } | MInst::TrapIfUnordered { .. } | MInst::Trap { .. } => {}
            MInst::Call { target, uses, defs, .. } => {
                if let CallTarget::FuncRef(r) = target {
                    v.operand(*r, Use);
                }
                for &u in uses {
                    v.operand(u, Use);
                }
                for &d in defs {
                    v.operand(d, Def);
                }
                for g in MACHINE.call_clobbered_gprs {
                    let r = Reg::gpr(Gpr(g));
                    if !defs.contains(&r) {
                        v.clobber(r);
                    }
                }
                for x in MACHINE.call_clobbered_xmms {
                    let r = Reg::xmm(Xmm(x));
                    if !defs.contains(&r) {
                        v.clobber(r);
                    }
                }
            }
            MInst::OutgoingArgs { .. } => {}
            MInst::StoreArg { src, .. } | MInst::StoreRet { src, .. } => v.operand(*src, Use),
            MInst::LoadRet { dst, .. } | MInst::LoadParam { dst, .. } | MInst::GetVmctx { dst } => {
                v.operand(*dst, Def)
            }
            MInst::Params { defs } => {
                for &d in defs {
                    v.operand(d, Def);
                }
            }
            MInst::Jmp { args, .. } => {
                for &a in args {
                    v.operand(a, Use);
                }
            }
            MInst::Jcc { .. } | MInst::JccFloatEq { .. } => {}
            MInst::JmpTable { index, tmp, .. } => {
                v.operand(*index, Use);
                v.operand(*tmp, EarlyDef);
            }
            MInst::Ret { uses } => {
                for &u in uses {
                    v.operand(u, Use);
                }
            }
        }
    }

    /// Whether the instruction ends a block.
    pub fn is_terminator(&self) -> bool {
        matches!(
            self,
            MInst::Jmp { .. }
                | MInst::Jcc { .. }
                | MInst::JccFloatEq { .. }
                | MInst::JmpTable { .. }
                | MInst::Ret { .. }
                | MInst::Trap { .. }
        )
    }

    /// Successor blocks of a terminator.
    pub fn successors(&self) -> Vec<VBlock> {
        match self {
            MInst::Jmp { target, .. } => vec![*target],
            MInst::Jcc { taken, not_taken, .. } | MInst::JccFloatEq { taken, not_taken, .. } => {
                vec![*taken, *not_taken]
            }
            MInst::JmpTable { targets, default, .. } => {
                let mut v = targets.clone();
                v.push(*default);
                v
            }
            _ => vec![],
        }
    }

    /// Registers and targets in the instruction's lists (arguments,
    /// results, jump-table targets), for estimates of VCode's size.
    pub fn list_len(&self) -> usize {
        match self {
            MInst::Jmp { args, .. } => args.len(),
            MInst::Call { uses, defs, .. } => uses.len() + defs.len(),
            MInst::Params { defs } => defs.len(),
            MInst::Ret { uses } => uses.len(),
            MInst::JmpTable { targets, .. } => targets.len(),
            MInst::Simd { args, tmps, .. } => args.len() + tmps.len(),
            _ => 0,
        }
    }

    /// Whether this is a call (values live across it lose caller-saved registers).
    pub fn is_call(&self) -> bool {
        matches!(self, MInst::Call { .. })
    }
}

/// A block of VCode.
#[derive(Clone, Debug, Default)]
pub struct VBlockData {
    /// First instruction index.
    pub start: u32,
    /// One past the last instruction index.
    pub end: u32,
    /// Parameters (virtual registers defined on entry).
    pub params: Vec<Reg>,
    /// Loop nesting depth.
    pub loop_depth: u32,
}

/// A constant in the function's constant pool (16 bytes, 16-aligned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Constant(pub [u8; 16]);

/// A lowered function.
#[derive(Clone, Debug, Default)]
pub struct VCode {
    /// Wasm function index.
    pub func_index: u32,
    /// Instructions of all blocks, contiguous per block.
    pub insts: Vec<MInst>,
    /// Wasm byte offset per instruction (for diagnostics and traps).
    pub srclocs: Vec<u32>,
    /// Blocks by id; block 0 is the entry. Ids are not in layout order:
    /// edge blocks get ids after all IR blocks but are laid out right after
    /// their source block.
    pub blocks: Vec<VBlockData>,
    /// Block ids in layout order (increasing instruction positions).
    pub order: Vec<VBlock>,
    /// Class of each virtual register.
    pub vreg_classes: Vec<RegClass>,
    /// Move hints: pairs of registers that would like the same location.
    pub hints: Vec<(Reg, Reg)>,
    /// Constant pool.
    pub constants: Vec<Constant>,
    /// Largest outgoing stack area any call needs.
    pub outgoing_bytes: u32,
    /// Byte offset of the function body in the wasm module.
    pub body_offset: u32,
}

impl VCode {
    /// Number of virtual registers.
    pub fn num_vregs(&self) -> usize {
        self.vreg_classes.len()
    }

    /// Class of any register.
    pub fn class(&self, r: Reg) -> RegClass {
        if r.is_virtual() { self.vreg_classes[r.vreg_index()] } else { r.phys_class() }
    }

    /// Successors of block `b` (from its terminator).
    pub fn successors(&self, b: usize) -> Vec<VBlock> {
        let blk = &self.blocks[b];
        if blk.end == blk.start {
            return vec![];
        }
        self.insts[blk.end as usize - 1].successors()
    }
}

impl VCode {
    /// A listing of the blocks and instructions, with allocated locations
    /// when an allocation is given (for debugging and golden tests).
    pub fn display(&self, alloc: Option<&super::regalloc::Allocation>) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "vcode f{}:", self.func_index);
        for &VBlock(b) in &self.order {
            let blk = &self.blocks[b as usize];
            let _ = writeln!(out, "vblock{b} (depth {}) params {:?}:", blk.loop_depth, blk.params);
            for i in blk.start..blk.end {
                let _ = writeln!(out, "  {i:4}: {:?}", self.insts[i as usize]);
            }
        }
        if let Some(a) = alloc {
            for (v, loc) in a.locs.iter().enumerate() {
                let _ = writeln!(out, "  r{v} -> {loc:?}");
            }
            for c in &a.copies {
                let load = if c.load { ", loaded" } else { "" };
                let store = c.store_at.map(|i| format!(", stored at {i}")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  r{} copied in {:?} over {}..={} (from position {}){load}{store}",
                    c.vreg, c.reg, c.first, c.last, c.start
                );
            }
        }
        out
    }
}
