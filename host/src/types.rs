//! WebAssembly types as the compiler, the artifact metadata and the runtime
//! see them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A WebAssembly value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
    /// 128-bit vector.
    V128,
    /// Nullable function reference.
    FuncRef,
    /// Nullable external reference.
    ExternRef,
}

impl ValType {
    /// Whether values of this type are references.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef)
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
        })
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct FuncType {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

impl FuncType {
    /// A signature from parameter and result lists.
    pub fn new(params: impl Into<Vec<ValType>>, results: impl Into<Vec<ValType>>) -> Self {
        FuncType { params: params.into(), results: results.into() }
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, l: &[ValType]| {
            f.write_str("(")?;
            for (i, t) in l.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{t}")?;
            }
            f.write_str(")")
        };
        list(f, &self.params)?;
        f.write_str(" -> ")?;
        list(f, &self.results)
    }
}

/// Size limits of a memory or table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Initial size (pages or elements).
    pub min: u64,
    /// Maximum size, if declared.
    pub max: Option<u64>,
}

/// A linear memory declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryType {
    /// Limits in 64 KiB pages.
    pub limits: Limits,
    /// Whether the memory is shared (threads proposal; rejected for now).
    pub shared: bool,
}

/// A table declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableType {
    /// Element type (`FuncRef` or `ExternRef`).
    pub element: ValType,
    /// Limits in elements.
    pub limits: Limits,
}

/// A global declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalType {
    /// Type of the value.
    pub content: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
}

/// Bytes in a wasm page.
pub const WASM_PAGE_SIZE: u64 = 65536;
/// Largest number of pages of a 32-bit memory.
pub const MAX_WASM_PAGES: u64 = 65536;
