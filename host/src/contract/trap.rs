//! Trap codes shared by generated code (trap tables) and the runtime.

use serde::{Deserialize, Serialize};

/// Why a call into wasm stopped abnormally.
///
/// The numeric values are part of the artifact format: they are stored in
/// trap tables and in `VMStoreContext::trap_code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u32)]
pub enum TrapCode {
    /// The `unreachable` instruction was executed.
    Unreachable = 1,
    /// A load, store or bulk memory operation touched bytes outside memory.
    MemoryOutOfBounds = 2,
    /// A table access or bulk table operation was out of bounds.
    TableOutOfBounds = 3,
    /// `call_indirect` found a null entry.
    IndirectCallToNull = 4,
    /// `call_indirect` found a function of another type.
    BadSignature = 5,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero = 6,
    /// Signed division overflow (`INT_MIN / -1`).
    IntegerOverflow = 7,
    /// A trapping float-to-int conversion of NaN or an out-of-range value.
    BadConversionToInteger = 8,
    /// The wasm stack budget was exhausted.
    StackOverflow = 9,
    /// The plugin ran out of fuel.
    OutOfFuel = 10,
    /// The call was interrupted from another thread or hit its deadline.
    Interrupted = 11,
    /// A host function returned an error or panicked.
    HostError = 12,
    /// A null reference was dereferenced.
    NullReference = 13,
}

impl TrapCode {
    /// Every trap code, in numeric order.
    pub const ALL: [TrapCode; 13] = [
        TrapCode::Unreachable,
        TrapCode::MemoryOutOfBounds,
        TrapCode::TableOutOfBounds,
        TrapCode::IndirectCallToNull,
        TrapCode::BadSignature,
        TrapCode::IntegerDivisionByZero,
        TrapCode::IntegerOverflow,
        TrapCode::BadConversionToInteger,
        TrapCode::StackOverflow,
        TrapCode::OutOfFuel,
        TrapCode::Interrupted,
        TrapCode::HostError,
        TrapCode::NullReference,
    ];

    /// The code with numeric value `n`, if any.
    pub fn from_u32(n: u32) -> Option<TrapCode> {
        Self::ALL.iter().copied().find(|c| *c as u32 == n)
    }

    /// The message the WebAssembly spec test suite uses for this trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::IndirectCallToNull => "uninitialized element",
            TrapCode::BadSignature => "indirect call type mismatch",
            TrapCode::IntegerDivisionByZero => "integer divide by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::OutOfFuel => "all fuel consumed",
            TrapCode::Interrupted => "interrupted",
            TrapCode::HostError => "host function error",
            TrapCode::NullReference => "null reference",
        }
    }
}

impl std::fmt::Display for TrapCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// One place in generated code that can trap.
///
/// `code_offset` is the offset, from the start of the text section, of the
/// return address pushed by the `call` to the trap stub; the runtime finds the
/// site by the return address it reads back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrapSite {
    /// Offset of the return address of the trap-stub call, in the text section.
    pub code_offset: u32,
    /// The trap code; `None` when the runtime stored the code in
    /// `VMStoreContext::trap_code` (traps raised inside builtins).
    pub code: Option<TrapCode>,
    /// Index of the wasm function (in the module's function index space).
    pub func_index: u32,
    /// Byte offset of the trapping instruction in the wasm module.
    pub wasm_offset: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in TrapCode::ALL {
            assert_eq!(TrapCode::from_u32(c as u32), Some(c));
        }
        assert_eq!(TrapCode::from_u32(0), None);
    }
}
