//! The SSA intermediate representation between translation and lowering.
//!
//! A [`Function`] is a list of blocks with parameters (instead of phi
//! nodes); each block ends in exactly one terminator. Values are typed and
//! defined once, by an instruction result or a block parameter.
//!
//! Invariants (checked by [`verify::verify`] in debug builds and tests):
//! - every block in the layout ends with a terminator and has no other
//!   terminator;
//! - every use refers to a value defined in a dominating position: an
//!   instruction result earlier in the same block or in a dominating
//!   block, or a parameter of a dominating block (the translator
//!   guarantees this by construction; passes that move code keep it);
//! - branch arguments match the target's parameter count and types.

pub mod display;
pub mod dominators;
mod function;
mod inst;
pub mod simd;
pub mod verify;

pub use function::*;
pub use inst::*;
pub use simd::SimdOp;

/// The type of an SSA value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// 32-bit integer (kept zero-extended in 64-bit registers).
    I32,
    /// 64-bit integer; also references (funcref pointers, externref handles).
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// 128-bit vector (in an xmm register).
    V128,
}

impl Type {
    /// Whether the type is a scalar float.
    pub fn is_float(self) -> bool {
        matches!(self, Type::F32 | Type::F64)
    }
    /// Whether values of the type live in xmm registers (floats and vectors).
    pub fn in_xmm(self) -> bool {
        matches!(self, Type::F32 | Type::F64 | Type::V128)
    }
    /// Width in bits.
    pub fn bits(self) -> u32 {
        match self {
            Type::I32 | Type::F32 => 32,
            Type::I64 | Type::F64 => 64,
            Type::V128 => 128,
        }
    }
    /// The IR type of a wasm value type.
    pub fn of(t: crate::types::ValType) -> Type {
        use crate::types::ValType;
        match t {
            ValType::I32 => Type::I32,
            ValType::I64 | ValType::FuncRef | ValType::ExternRef => Type::I64,
            ValType::F32 => Type::F32,
            ValType::F64 => Type::F64,
            ValType::V128 => Type::V128,
        }
    }
}

macro_rules! entity {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            /// The index as `usize`.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

entity!(
    /// An SSA value.
    Value,
    "v"
);
entity!(
    /// A basic block.
    Block,
    "block"
);
entity!(
    /// An instruction.
    Inst,
    "inst"
);
