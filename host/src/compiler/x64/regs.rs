//! x86-64 registers and operand shapes used by the encoder and the emitter.

use std::fmt;

/// A general-purpose register by hardware number (0 = rax … 15 = r15).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gpr(pub u8);

/// An SSE register by number (0 = xmm0 … 15 = xmm15).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Xmm(pub u8);

#[allow(missing_docs)]
impl Gpr {
    pub const RAX: Gpr = Gpr(0);
    pub const RCX: Gpr = Gpr(1);
    pub const RDX: Gpr = Gpr(2);
    pub const RBX: Gpr = Gpr(3);
    pub const RSP: Gpr = Gpr(4);
    pub const RBP: Gpr = Gpr(5);
    pub const RSI: Gpr = Gpr(6);
    pub const RDI: Gpr = Gpr(7);
    pub const R8: Gpr = Gpr(8);
    pub const R9: Gpr = Gpr(9);
    pub const R10: Gpr = Gpr(10);
    pub const R11: Gpr = Gpr(11);
    pub const R12: Gpr = Gpr(12);
    pub const R13: Gpr = Gpr(13);
    pub const R14: Gpr = Gpr(14);
    pub const R15: Gpr = Gpr(15);
}

impl Gpr {
    /// Low three bits of the encoding (ModRM/SIB field).
    pub fn low(self) -> u8 {
        self.0 & 7
    }
    /// Whether a REX extension bit is needed.
    pub fn high(self) -> bool {
        self.0 >= 8
    }
}

impl Xmm {
    /// Low three bits of the encoding.
    pub fn low(self) -> u8 {
        self.0 & 7
    }
    /// Whether a REX extension bit is needed.
    pub fn high(self) -> bool {
        self.0 >= 8
    }
}

const GPR_NAMES: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];

impl fmt::Debug for Gpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(GPR_NAMES[self.0 as usize & 15])
    }
}

impl fmt::Debug for Xmm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "xmm{}", self.0)
    }
}

/// Operand size of an integer instruction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Size {
    /// 8-bit.
    S8,
    /// 16-bit.
    S16,
    /// 32-bit (writes zero the upper half of the destination).
    S32,
    /// 64-bit.
    S64,
}

impl Size {
    /// Width in bytes.
    pub fn bytes(self) -> u32 {
        match self {
            Size::S8 => 1,
            Size::S16 => 2,
            Size::S32 => 4,
            Size::S64 => 8,
        }
    }
}

/// Index scale of an address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Scale {
    /// ×1
    One,
    /// ×2
    Two,
    /// ×4
    Four,
    /// ×8
    Eight,
}

impl Scale {
    /// The SIB scale field.
    pub fn bits(self) -> u8 {
        match self {
            Scale::One => 0,
            Scale::Two => 1,
            Scale::Four => 2,
            Scale::Eight => 3,
        }
    }
}

/// A memory operand: `[base + index*scale + disp]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Amode {
    /// Base register.
    pub base: Gpr,
    /// Optional scaled index register (never rsp).
    pub index: Option<(Gpr, Scale)>,
    /// Displacement.
    pub disp: i32,
}

impl Amode {
    /// The same address `bytes` further on.
    pub fn offset_by(self, bytes: i32) -> Amode {
        Amode { disp: self.disp + bytes, ..self }
    }
    /// `[base + disp]`.
    pub fn base_disp(base: Gpr, disp: i32) -> Amode {
        Amode { base, index: None, disp }
    }
    /// `[base + index*scale + disp]`.
    pub fn indexed(base: Gpr, index: Gpr, scale: Scale, disp: i32) -> Amode {
        Amode { base, index: Some((index, scale)), disp }
    }
}

/// Condition codes, numbered as in the `Jcc`/`SETcc`/`CMOVcc` encodings.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum Cond {
    /// Overflow.
    O = 0,
    /// No overflow.
    NO = 1,
    /// Below (unsigned <), carry.
    B = 2,
    /// Above or equal (unsigned >=), no carry.
    AE = 3,
    /// Equal, zero.
    E = 4,
    /// Not equal, not zero.
    NE = 5,
    /// Below or equal (unsigned <=).
    BE = 6,
    /// Above (unsigned >).
    A = 7,
    /// Sign.
    S = 8,
    /// No sign.
    NS = 9,
    /// Parity (unordered after ucomis*).
    P = 10,
    /// No parity.
    NP = 11,
    /// Less (signed <).
    L = 12,
    /// Greater or equal (signed >=).
    GE = 13,
    /// Less or equal (signed <=).
    LE = 14,
    /// Greater (signed >).
    G = 15,
}

impl Cond {
    /// The opposite condition.
    pub fn invert(self) -> Cond {
        Cond::from_bits(self as u8 ^ 1)
    }
    /// The condition with this 4-bit encoding.
    pub fn from_bits(bits: u8) -> Cond {
        use Cond::*;
        [O, NO, B, AE, E, NE, BE, A, S, NS, P, NP, L, GE, LE, G][bits as usize & 15]
    }
}
