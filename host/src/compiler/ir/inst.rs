//! Instruction kinds of the IR.
//!
//! Operators are grouped by family (integer, float, conversion, memory,
//! call, table, control) like the translator and the lowering.

use super::{Block, SimdOp, Type, Value};
use crate::contract::builtins::Builtin;
use crate::contract::trap::TrapCode;

/// Operators of one operand. The operand and result types are those of the
/// instruction (`arg` type and result type), which disambiguate widths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// Count leading zeros.
    Clz,
    /// Count trailing zeros.
    Ctz,
    /// Population count.
    Popcnt,
    /// Sign-extend the low 8 bits.
    Extend8S,
    /// Sign-extend the low 16 bits.
    Extend16S,
    /// Sign-extend the low 32 bits (i64 only).
    Extend32S,
    /// i64 -> i32, keeping the low bits.
    Wrap,
    /// i32 -> i64, sign-extending.
    ExtendS,
    /// i32 -> i64, zero-extending.
    ExtendU,
    /// Float negation (sign flip, NaN payload kept).
    FNeg,
    /// Float absolute value (sign clear).
    FAbs,
    /// Square root.
    FSqrt,
    /// Round toward +inf.
    FCeil,
    /// Round toward -inf.
    FFloor,
    /// Round toward zero.
    FTrunc,
    /// Round to nearest, ties to even.
    FNearest,
    /// Float -> signed int, trapping on NaN and overflow.
    TruncS,
    /// Float -> unsigned int, trapping on NaN and overflow.
    TruncU,
    /// Float -> signed int, saturating (NaN -> 0).
    TruncSatS,
    /// Float -> unsigned int, saturating (NaN -> 0).
    TruncSatU,
    /// Signed int -> float.
    ConvertS,
    /// Unsigned int -> float.
    ConvertU,
    /// f32 -> f64.
    Promote,
    /// f64 -> f32.
    Demote,
    /// Same bits, other type (f32 <-> i32, f64 <-> i64).
    Reinterpret,
}

/// Operators of two operands of the same type, giving that type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// Wrapping addition.
    Add,
    /// Wrapping subtraction.
    Sub,
    /// Wrapping multiplication.
    Mul,
    /// Signed division; traps on zero and overflow.
    DivS,
    /// Unsigned division; traps on zero.
    DivU,
    /// Signed remainder; traps on zero.
    RemS,
    /// Unsigned remainder; traps on zero.
    RemU,
    /// Bitwise and.
    And,
    /// Bitwise or.
    Or,
    /// Bitwise xor.
    Xor,
    /// Shift left (count modulo width).
    Shl,
    /// Arithmetic shift right.
    ShrS,
    /// Logical shift right.
    ShrU,
    /// Rotate left.
    Rotl,
    /// Rotate right.
    Rotr,
    /// Float addition.
    FAdd,
    /// Float subtraction.
    FSub,
    /// Float multiplication.
    FMul,
    /// Float division.
    FDiv,
    /// Wasm `min`: NaN-propagating, -0 < +0.
    FMin,
    /// Wasm `max`: NaN-propagating, -0 < +0.
    FMax,
    /// Magnitude of the first, sign of the second.
    FCopysign,
}

impl BinaryOp {
    /// Whether `a op b == b op a`.
    pub fn is_commutative(self) -> bool {
        use BinaryOp::*;
        matches!(self, Add | Mul | And | Or | Xor | FAdd | FMul | FMin | FMax)
    }
    /// Whether the operation may trap.
    pub fn can_trap(self) -> bool {
        matches!(self, BinaryOp::DivS | BinaryOp::DivU | BinaryOp::RemS | BinaryOp::RemU)
    }
}

/// Comparison conditions, for integers and floats (result is i32 0 or 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// Equal.
    Eq,
    /// Not equal (true for unordered floats).
    Ne,
    /// Signed less than (floats: ordered less than).
    LtS,
    /// Unsigned less than.
    LtU,
    /// Signed greater than (floats: ordered greater than).
    GtS,
    /// Unsigned greater than.
    GtU,
    /// Signed less or equal (floats: ordered).
    LeS,
    /// Unsigned less or equal.
    LeU,
    /// Signed greater or equal (floats: ordered).
    GeS,
    /// Unsigned greater or equal.
    GeU,
}

impl CmpOp {
    /// The condition with operands swapped: `a op b == b op.swap() a`.
    pub fn swap(self) -> CmpOp {
        use CmpOp::*;
        match self {
            Eq => Eq,
            Ne => Ne,
            LtS => GtS,
            LtU => GtU,
            GtS => LtS,
            GtU => LtU,
            LeS => GeS,
            LeU => GeU,
            GeS => LeS,
            GeU => LeU,
        }
    }
    /// The negated condition for integers: `!(a op b) == a op.negate() b`.
    pub fn negate(self) -> CmpOp {
        use CmpOp::*;
        match self {
            Eq => Ne,
            Ne => Eq,
            LtS => GeS,
            LtU => GeU,
            GtS => LeS,
            GtU => LeU,
            LeS => GtS,
            LeU => GtU,
            GeS => LtS,
            GeU => LtU,
        }
    }
}

/// A memory access shape: how many bytes, and for loads how to extend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemOp {
    /// Bytes accessed: 1, 2, 4 or 8.
    pub bytes: u8,
    /// Sign-extend a narrow load.
    pub signed: bool,
    /// Type of the loaded or stored value.
    pub ty: Type,
}

/// A branch target with its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockCall {
    /// Target block.
    pub block: Block,
    /// One argument per block parameter.
    pub args: Vec<Value>,
}

/// Visits every operand of an `InstKind`; `$iter` is `iter` or `iter_mut`
/// so one list of cases serves shared and mutable walks.
macro_rules! walk_args {
    ($kind:expr, $f:ident, $iter:ident) => {
        match $kind {
            InstKind::Iconst { .. }
            | InstKind::Fconst { .. }
            | InstKind::Vconst { .. }
            | InstKind::GlobalGet { .. }
            | InstKind::MemorySize { .. }
            | InstKind::TableSize { .. }
            | InstKind::RefFunc { .. }
            | InstKind::FuelLoad
            | InstKind::Trap { .. } => {}
            InstKind::Unary { arg, .. } => $f(arg),
            InstKind::Simd { op, args } => {
                let n = op.num_args();
                args[..n].$iter().for_each(&mut $f)
            }
            InstKind::FuelStore { value } => $f(value),
            InstKind::CheckPoint { fuel } => {
                if let Some(v) = fuel {
                    $f(v)
                }
            }
            InstKind::Binary { args, .. } | InstKind::Compare { args, .. } => {
                args.$iter().for_each(&mut $f)
            }
            InstKind::Select { cond, if_true, if_false } => {
                $f(cond);
                $f(if_true);
                $f(if_false);
            }
            InstKind::Load { addr, .. } => $f(addr),
            InstKind::Store { addr, value, .. } => {
                $f(addr);
                $f(value);
            }
            InstKind::GlobalSet { value, .. } => $f(value),
            InstKind::TableGet { index, .. } => $f(index),
            InstKind::TableSet { index, value, .. } => {
                $f(index);
                $f(value);
            }
            InstKind::Call { args, .. }
            | InstKind::CallBuiltin { args, .. }
            | InstKind::Return { args } => args.$iter().for_each(&mut $f),
            InstKind::CallIndirect { index, args, .. } => {
                $f(index);
                args.$iter().for_each(&mut $f);
            }
            InstKind::Jump { dest } => dest.args.$iter().for_each(&mut $f),
            InstKind::Brif { cond, then_dest, else_dest } => {
                $f(cond);
                then_dest.args.$iter().for_each(&mut $f);
                else_dest.args.$iter().for_each(&mut $f);
            }
            InstKind::BrTable { index, targets, default } => {
                $f(index);
                for t in targets {
                    t.args.$iter().for_each(&mut $f);
                }
                default.args.$iter().for_each(&mut $f);
            }
        }
    };
}

/// What an instruction does. Results are recorded in `InstData`.
#[derive(Clone, Debug, PartialEq)]
pub enum InstKind {
    /// An integer constant of type I32 (low 32 bits) or I64.
    Iconst {
        /// The bits.
        imm: u64,
    },
    /// A float constant of type F32 (low 32 bits) or F64, as raw bits.
    Fconst {
        /// The bits.
        bits: u64,
    },
    /// A v128 constant.
    Vconst {
        /// The bits, lane 0 in the low bytes.
        bits: u128,
    },
    /// A vector operator (or a scalar result of one: lanes, masks); its
    /// first `op.num_args()` operands are used, the rest are unused slots.
    Simd {
        /// Operator with its immediates.
        op: SimdOp,
        /// Operands in wasm order.
        args: [Value; 3],
    },
    /// One-operand operator.
    Unary {
        /// Operator.
        op: UnaryOp,
        /// Operand.
        arg: Value,
    },
    /// Two-operand operator.
    Binary {
        /// Operator.
        op: BinaryOp,
        /// Operands.
        args: [Value; 2],
    },
    /// Integer or float comparison producing an i32 0 or 1.
    Compare {
        /// Condition.
        op: CmpOp,
        /// Operands.
        args: [Value; 2],
    },
    /// `cond != 0 ? if_true : if_false`.
    Select {
        /// i32 condition.
        cond: Value,
        /// Chosen when nonzero.
        if_true: Value,
        /// Chosen when zero.
        if_false: Value,
    },
    /// Bounds-checked load from linear memory `mem` at `addr + offset`.
    Load {
        /// Shape.
        op: MemOp,
        /// Memory index.
        mem: u32,
        /// i32 address operand.
        addr: Value,
        /// Static offset.
        offset: u64,
    },
    /// Bounds-checked store to linear memory.
    Store {
        /// Shape.
        op: MemOp,
        /// Memory index.
        mem: u32,
        /// i32 address operand.
        addr: Value,
        /// Stored value.
        value: Value,
        /// Static offset.
        offset: u64,
    },
    /// Reads a global.
    GlobalGet {
        /// Global index.
        index: u32,
    },
    /// Writes a global.
    GlobalSet {
        /// Global index.
        index: u32,
        /// New value.
        value: Value,
    },
    /// Current size of a memory in pages (i32).
    MemorySize {
        /// Memory index.
        mem: u32,
    },
    /// Element count of a table (i32).
    TableSize {
        /// Table index.
        table: u32,
    },
    /// Bounds-checked table read (i64 reference).
    TableGet {
        /// Table index.
        table: u32,
        /// i32 element index.
        index: Value,
    },
    /// Bounds-checked table write.
    TableSet {
        /// Table index.
        table: u32,
        /// i32 element index.
        index: Value,
        /// i64 reference.
        value: Value,
    },
    /// A funcref to function `func` (pointer to its `VMFuncRef`).
    RefFunc {
        /// Function index.
        func: u32,
    },
    /// Direct call.
    Call {
        /// Function index (imports first).
        func: u32,
        /// Arguments.
        args: Vec<Value>,
    },
    /// Indirect call through a table, with null and signature checks.
    CallIndirect {
        /// Expected type index.
        ty: u32,
        /// Table index.
        table: u32,
        /// i32 element index.
        index: Value,
        /// Arguments.
        args: Vec<Value>,
    },
    /// Runtime function call; arguments follow [`Builtin::params`].
    CallBuiltin {
        /// Which builtin.
        builtin: Builtin,
        /// Arguments after the implicit vmctx.
        args: Vec<Value>,
    },
    /// Reads the store's fuel counter (i64, "consumed minus granted").
    FuelLoad,
    /// Writes the store's fuel counter.
    FuelStore {
        /// New counter value.
        value: Value,
    },
    /// A check point: traps, or asks the host for more fuel, when the
    /// store was interrupted or `fuel` (when metered) is exhausted. Its
    /// result (when metered) is the fuel counter afterwards.
    CheckPoint {
        /// The fuel counter, when metering.
        fuel: Option<Value>,
    },
    /// Unconditional branch (terminator).
    Jump {
        /// Target.
        dest: BlockCall,
    },
    /// Two-way branch on an i32 (terminator).
    Brif {
        /// Condition.
        cond: Value,
        /// Taken when nonzero.
        then_dest: BlockCall,
        /// Taken when zero.
        else_dest: BlockCall,
    },
    /// Multi-way branch (terminator); out-of-range indices take `default`.
    BrTable {
        /// i32 selector.
        index: Value,
        /// Targets by index.
        targets: Vec<BlockCall>,
        /// Fallback target.
        default: BlockCall,
    },
    /// Function return (terminator).
    Return {
        /// Returned values.
        args: Vec<Value>,
    },
    /// Unconditional trap (terminator).
    Trap {
        /// Why.
        code: TrapCode,
    },
}

impl InstKind {
    /// Whether this instruction ends a block.
    pub fn is_terminator(&self) -> bool {
        matches!(
            self,
            InstKind::Jump { .. }
                | InstKind::Brif { .. }
                | InstKind::BrTable { .. }
                | InstKind::Return { .. }
                | InstKind::Trap { .. }
        )
    }

    /// Whether removing the instruction (when its results are unused) would
    /// change behaviour: stores, calls, traps and global writes.
    pub fn has_side_effects(&self) -> bool {
        match self {
            InstKind::Binary { op, .. } => op.can_trap(),
            InstKind::Unary { op, .. } => matches!(op, UnaryOp::TruncS | UnaryOp::TruncU),
            InstKind::Load { .. } | InstKind::TableGet { .. } => true, // may trap
            InstKind::Store { .. }
            | InstKind::GlobalSet { .. }
            | InstKind::TableSet { .. }
            | InstKind::Call { .. }
            | InstKind::CallIndirect { .. }
            | InstKind::CallBuiltin { .. }
            | InstKind::FuelStore { .. }
            | InstKind::CheckPoint { .. } => true,
            k => k.is_terminator(),
        }
    }

    /// Calls `f` on every value operand, including branch arguments.
    pub fn for_each_arg(&self, mut f: impl FnMut(Value)) {
        let mut g = |v: &Value| f(*v);
        walk_args!(self, g, iter);
    }

    /// Calls `f` on a mutable reference to every value operand.
    pub fn map_args(&mut self, mut f: impl FnMut(&mut Value)) {
        walk_args!(self, f, iter_mut);
    }

    /// The branch targets of a terminator, in order.
    pub fn targets(&self) -> Vec<&BlockCall> {
        match self {
            InstKind::Jump { dest } => vec![dest],
            InstKind::Brif { then_dest, else_dest, .. } => vec![then_dest, else_dest],
            InstKind::BrTable { targets, default, .. } => {
                targets.iter().chain(std::iter::once(default)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Mutable branch target number `slot` (in the order of [`Self::targets`]).
    pub fn target_mut(&mut self, slot: usize) -> &mut BlockCall {
        match self {
            InstKind::Jump { dest } if slot == 0 => dest,
            InstKind::Brif { then_dest, .. } if slot == 0 => then_dest,
            InstKind::Brif { else_dest, .. } if slot == 1 => else_dest,
            InstKind::BrTable { targets, default, .. } => {
                if slot < targets.len() {
                    &mut targets[slot]
                } else {
                    default
                }
            }
            _ => panic!("no branch target {slot}"),
        }
    }

    /// Mutable branch targets of a terminator, in the order of [`Self::targets`].
    pub fn targets_mut(&mut self) -> Vec<&mut BlockCall> {
        match self {
            InstKind::Jump { dest } => vec![dest],
            InstKind::Brif { then_dest, else_dest, .. } => vec![then_dest, else_dest],
            InstKind::BrTable { targets, default, .. } => {
                targets.iter_mut().chain(std::iter::once(default)).collect()
            }
            _ => Vec::new(),
        }
    }
}
