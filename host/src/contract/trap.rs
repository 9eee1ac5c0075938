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

/// Bytes per record of an artifact's trap table: `code_offset`,
/// `func_index`, `wasm_offset`, and the trap code plus one (0: `None`),
/// each a little-endian `u32`. The table is sorted by `code_offset` and
/// read in place from the mapped artifact (no decoding at load).
pub const TRAP_RECORD_LEN: usize = 16;

impl TrapSite {
    /// The trap table of `sites` (sorted by code offset).
    pub fn encode_table(sites: &[TrapSite]) -> Vec<u8> {
        let mut out = Vec::with_capacity(sites.len() * TRAP_RECORD_LEN);
        for s in sites {
            out.extend_from_slice(&s.code_offset.to_le_bytes());
            out.extend_from_slice(&s.func_index.to_le_bytes());
            out.extend_from_slice(&s.wasm_offset.to_le_bytes());
            out.extend_from_slice(&s.code.map_or(0, |c| c as u32 + 1).to_le_bytes());
        }
        out
    }

    /// The site whose stub call returns to `code_offset`, looked up in a
    /// table from [`TrapSite::encode_table`]. A malformed table finds
    /// nothing rather than panicking.
    pub fn find_in_table(table: &[u8], code_offset: u32) -> Option<TrapSite> {
        let field = |i: usize, f: usize| {
            let at = i * TRAP_RECORD_LEN + f * 4;
            u32::from_le_bytes(table[at..at + 4].try_into().unwrap())
        };
        let (mut lo, mut hi) = (0, table.len() / TRAP_RECORD_LEN);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match field(mid, 0).cmp(&code_offset) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    let code = match field(mid, 3) {
                        0 => None,
                        n => Some(TrapCode::from_u32(n - 1)?),
                    };
                    return Some(TrapSite {
                        code_offset,
                        code,
                        func_index: field(mid, 1),
                        wasm_offset: field(mid, 2),
                    });
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_table_round_trips() {
        let sites: Vec<TrapSite> = (0..100)
            .map(|i| TrapSite {
                code_offset: i * 7 + 3,
                code: if i % 3 == 0 {
                    None
                } else {
                    Some(TrapCode::ALL[i as usize % TrapCode::ALL.len()])
                },
                func_index: i / 4,
                wasm_offset: i * 11,
            })
            .collect();
        let table = TrapSite::encode_table(&sites);
        for s in &sites {
            assert_eq!(TrapSite::find_in_table(&table, s.code_offset).as_ref(), Some(s));
            assert_eq!(TrapSite::find_in_table(&table, s.code_offset + 1), None);
        }
        assert_eq!(TrapSite::find_in_table(&table[..table.len() - 3], 3 + 7 * 99), None);
    }

    #[test]
    fn codes_round_trip() {
        for c in TrapCode::ALL {
            assert_eq!(TrapCode::from_u32(c as u32), Some(c));
        }
        assert_eq!(TrapCode::from_u32(0), None);
    }
}
