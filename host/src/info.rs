//! `ModuleInfo`: everything about a module except its function bodies.
//!
//! Produced by the compiler's decode stage, stored in the artifact metadata
//! and read by the runtime to instantiate. Neither compiler- nor
//! runtime-specific, so both may import it.

use crate::types::{FuncType, GlobalType, MemoryType, TableType, ValType};
use serde::{Deserialize, Serialize};

/// Kind of an importable or exportable entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExternKind {
    /// A function.
    Func,
    /// A table.
    Table,
    /// A linear memory.
    Memory,
    /// A global.
    Global,
}

impl std::fmt::Display for ExternKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ExternKind::Func => "function",
            ExternKind::Table => "table",
            ExternKind::Memory => "memory",
            ExternKind::Global => "global",
        })
    }
}

/// The type of an import.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ImportType {
    /// A function of this type index.
    Func(u32),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
}

impl ImportType {
    /// The entity kind.
    pub fn kind(&self) -> ExternKind {
        match self {
            ImportType::Func(_) => ExternKind::Func,
            ImportType::Table(_) => ExternKind::Table,
            ImportType::Memory(_) => ExternKind::Memory,
            ImportType::Global(_) => ExternKind::Global,
        }
    }
}

/// One import.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// What is imported.
    pub ty: ImportType,
}

/// One export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// Export name.
    pub name: String,
    /// Entity kind.
    pub kind: ExternKind,
    /// Index in that kind's index space.
    pub index: u32,
}

/// An operator of a constant expression.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum ConstOp {
    /// Push an i32.
    I32Const(i32),
    /// Push an i64.
    I64Const(i64),
    /// Push an f32 (bits).
    F32Const(u32),
    /// Push an f64 (bits).
    F64Const(u64),
    /// Push a v128.
    V128Const(u128),
    /// Push a null reference of this type.
    RefNull(ValType),
    /// Push a reference to a function.
    RefFunc(u32),
    /// Push the value of a global.
    GlobalGet(u32),
    /// Extended constant expressions: i32 add.
    I32Add,
    /// i32 sub.
    I32Sub,
    /// i32 mul.
    I32Mul,
    /// i64 add.
    I64Add,
    /// i64 sub.
    I64Sub,
    /// i64 mul.
    I64Mul,
}

/// A constant expression (initializers and segment offsets). Nearly all
/// are one operator (a constant, `ref.func`, `global.get`), kept inline:
/// an element segment of many functions decodes without an allocation
/// per element.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConstExpr(pub smallvec::SmallVec<[ConstOp; 1]>);

impl ConstExpr {
    /// Evaluates the expression to its raw value (zero-extended to 128
    /// bits), reading globals and function references through `global`
    /// and `func`; `None` when either of them answers `None` (or the
    /// expression is malformed).
    pub fn evaluate(
        &self,
        mut global: impl FnMut(u32) -> Option<u128>,
        mut func: impl FnMut(u32) -> Option<u64>,
    ) -> Option<u128> {
        let mut leaf = |op: ConstOp| match op {
            ConstOp::I32Const(v) => Some(v as u32 as u128),
            ConstOp::I64Const(v) => Some(v as u64 as u128),
            ConstOp::F32Const(b) => Some(b as u128),
            ConstOp::F64Const(b) => Some(b as u128),
            ConstOp::V128Const(b) => Some(b),
            ConstOp::RefNull(_) => Some(0),
            ConstOp::RefFunc(f) => func(f).map(u128::from),
            ConstOp::GlobalGet(g) => global(g),
            _ => None,
        };
        // Nearly every expression is a single operator (element segments
        // hold one per function): no stack for those.
        if let [op] = self.0[..] {
            return leaf(op);
        }
        let mut stack: Vec<u128> = Vec::with_capacity(2);
        for op in &self.0 {
            let v = match *op {
                ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                    let (b, a) = (stack.pop()? as u32, stack.pop()? as u32);
                    (match op {
                        ConstOp::I32Add => a.wrapping_add(b),
                        ConstOp::I32Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    }) as u128
                }
                ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                    let (b, a) = (stack.pop()? as u64, stack.pop()? as u64);
                    (match op {
                        ConstOp::I64Add => a.wrapping_add(b),
                        ConstOp::I64Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    }) as u128
                }
                leaf_op => leaf(leaf_op)?,
            };
            stack.push(v);
        }
        stack.pop()
    }
}

/// A global defined by the module.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlobalDef {
    /// Type.
    pub ty: GlobalType,
    /// Initial value.
    pub init: ConstExpr,
}

/// A table defined by the module.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableDef {
    /// Type.
    pub ty: TableType,
    /// Initial value of every element, when given (else null).
    pub init: Option<ConstExpr>,
}

/// How an element segment is used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ElemMode {
    /// Used by `table.init` only.
    Passive,
    /// Copied into a table at instantiation.
    Active {
        /// Table index.
        table: u32,
        /// Offset expression (i32).
        offset: ConstExpr,
    },
    /// Only declares functions for `ref.func`; dropped at instantiation.
    Declared,
}

/// An element segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ElemSegment {
    /// Mode.
    pub mode: ElemMode,
    /// Element type.
    pub ty: ValType,
    /// One reference-valued expression per element.
    pub items: Vec<ConstExpr>,
    /// Whether the segment was written with expressions rather than
    /// function indices (the two forms cost different fuel to initialise).
    pub expressions: bool,
}

/// How a data segment is used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DataMode {
    /// Used by `memory.init` only.
    Passive,
    /// Copied into a memory at instantiation.
    Active {
        /// Memory index.
        memory: u32,
        /// Offset expression (i32).
        offset: ConstExpr,
    },
}

/// A data segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSegment {
    /// Mode.
    pub mode: DataMode,
    /// Bytes.
    #[serde(with = "byte_buf")]
    pub bytes: Vec<u8>,
}

/// Function names from the name section, by function index: one text and
/// a sorted table of ranges in it, so an artifact's names decode with two
/// allocations rather than one per function.
///
/// Both are stored as byte strings (names as UTF-8, the table as
/// little-endian `u32`s), so loading an artifact copies them in two pieces
/// and validates a name only when it is asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuncNames {
    #[serde(with = "byte_buf")]
    text: Vec<u8>,
    /// (function index, start, end) of each name in `text`, by index.
    #[serde(with = "u32_triples")]
    entries: Vec<(u32, u32, u32)>,
}

impl FuncNames {
    /// The names of `named` (function index, name); for an index named
    /// twice, the first name.
    pub fn new<'a>(named: impl IntoIterator<Item = (u32, &'a str)>) -> FuncNames {
        let mut named: Vec<(u32, &str)> = named.into_iter().collect();
        named.sort_by_key(|&(i, _)| i); // stable: the first name of an index stays first
        named.dedup_by_key(|&mut (i, _)| i);
        let mut names = FuncNames::default();
        for (index, name) in named {
            let start = names.text.len();
            names.text.extend_from_slice(name.as_bytes());
            // Name sections are far smaller than 4 GiB (a module is).
            names.entries.push((index, start as u32, names.text.len() as u32));
        }
        names
    }

    /// The name of function `index`.
    pub fn get(&self, index: u32) -> Option<&str> {
        let at = self.entries.binary_search_by_key(&index, |e| e.0).ok()?;
        let (_, start, end) = self.entries[at];
        std::str::from_utf8(self.text.get(start as usize..end as usize)?).ok()
    }

    /// The (function index, name) pairs, by index.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> {
        self.entries.iter().map(|&(i, s, e)| {
            let name =
                self.text.get(s as usize..e as usize).and_then(|b| std::str::from_utf8(b).ok());
            (i, name.unwrap_or(""))
        })
    }

    /// How many functions are named.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no function is named.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Everything about a module except its function bodies.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModuleInfo {
    /// The type section.
    pub types: Vec<FuncType>,
    /// Imports, in order.
    pub imports: Vec<Import>,
    /// Type index of every function, imported first.
    pub funcs: Vec<u32>,
    /// Number of imported functions.
    pub imported_funcs: u32,
    /// Every table type, imported first.
    pub tables: Vec<TableType>,
    /// Tables defined by the module.
    pub table_defs: Vec<TableDef>,
    /// Number of imported tables.
    pub imported_tables: u32,
    /// Every memory type, imported first.
    pub memories: Vec<MemoryType>,
    /// Number of imported memories.
    pub imported_memories: u32,
    /// Every global type, imported first.
    pub globals: Vec<GlobalType>,
    /// Globals defined by the module.
    pub global_defs: Vec<GlobalDef>,
    /// Number of imported globals.
    pub imported_globals: u32,
    /// Exports, in order.
    pub exports: Vec<Export>,
    /// Start function.
    pub start: Option<u32>,
    /// Element segments.
    pub elems: Vec<ElemSegment>,
    /// Data segments.
    pub datas: Vec<DataSegment>,
    /// Function names from the name section.
    pub func_names: FuncNames,
    /// The module's name from the name section.
    pub name: Option<String>,
    /// Custom sections (name, bytes), in order.
    #[serde(with = "byte_buf::named")]
    pub custom_sections: Vec<(String, Vec<u8>)>,
}

impl ModuleInfo {
    /// Signature of function `index`.
    pub fn func_type(&self, index: u32) -> &FuncType {
        &self.types[self.funcs[index as usize] as usize]
    }

    /// Counts that size the `VMContext`.
    pub fn vm_counts(&self) -> crate::contract::vmctx::VMCounts {
        crate::contract::vmctx::VMCounts {
            types: self.types.len() as u32,
            imported_funcs: self.imported_funcs,
            imported_memories: self.imported_memories,
            imported_tables: self.imported_tables,
            imported_globals: self.imported_globals,
            defined_memories: self.memories.len() as u32 - self.imported_memories,
            defined_tables: self.tables.len() as u32 - self.imported_tables,
            defined_globals: self.globals.len() as u32 - self.imported_globals,
            funcs: self.funcs.len() as u32,
        }
    }

    /// The name of function `index` from the name section, if any.
    pub fn func_name(&self, index: u32) -> Option<&str> {
        self.func_names.get(index)
    }

    /// The export named `name`.
    pub fn export(&self, name: &str) -> Option<&Export> {
        self.exports.iter().find(|e| e.name == name)
    }
}

/// Tables of `u32` triples as one byte string of little-endian `u32`s
/// (twelve bytes a record): decoded with a copy loop rather than a visit
/// per varint.
pub(crate) mod u32_triples {
    use serde::de::{Deserializer, Error};
    use serde::ser::Serializer;

    pub fn serialize<S: Serializer>(v: &[(u32, u32, u32)], s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(v.len() * 12);
        for &(a, b, c) in v {
            for x in [a, b, c] {
                bytes.extend_from_slice(&x.to_le_bytes());
            }
        }
        s.serialize_bytes(&bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(u32, u32, u32)>, D::Error> {
        let bytes = super::byte_buf::deserialize(d)?;
        if bytes.len() % 12 != 0 {
            return Err(D::Error::custom("a table of u32 triples is truncated"));
        }
        let u = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap());
        Ok(bytes.chunks_exact(12).map(|r| (u(&r[0..4]), u(&r[4..8]), u(&r[8..12]))).collect())
    }
}

/// Byte vectors as serde *bytes* rather than sequences: postcard then
/// copies them in one piece when an artifact's metadata is loaded,
/// instead of visiting them byte by byte.
pub(crate) mod byte_buf {
    use serde::de::{Deserializer, Error, Visitor};
    use serde::ser::Serializer;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("bytes")
        }
        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(BytesVisitor)
    }

    /// For `Vec<(String, Vec<u8>)>`.
    pub mod named {
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        #[derive(Serialize, Deserialize)]
        struct Named(String, #[serde(with = "super")] Vec<u8>);

        pub fn serialize<S: Serializer>(v: &[(String, Vec<u8>)], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|(n, b)| Named(n.clone(), b.clone())))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<(String, Vec<u8>)>, D::Error> {
            let v: Vec<Named> = Vec::deserialize(d)?;
            Ok(v.into_iter().map(|Named(n, b)| (n, b)).collect())
        }
    }
}

/// Where a module's code is in its source, from the DWARF line tables a
/// plugin built with debug information carries
/// ([`crate::Module::describe_source_file`]).
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    table: crate::compiler::dwarf::SourceTable,
    /// (function index, module offset of its body), for defined functions.
    bodies: Vec<(u32, u32)>,
}

impl SourceMap {
    pub(crate) fn new(table: crate::compiler::dwarf::SourceTable, bodies: Vec<(u32, u32)>) -> Self {
        SourceMap { table, bodies }
    }

    /// The source location of the code at wasm module offset `offset`.
    pub fn at(&self, offset: u32) -> Option<crate::SourceLocation> {
        let i = self.table.rows.partition_point(|r| r.0 <= offset).checked_sub(1)?;
        let (_, file, line) = self.table.rows[i];
        let file = self.table.files.get(file as usize)?.clone();
        Some(crate::SourceLocation { file, line })
    }

    /// Where defined function `func_index` starts in the source: the
    /// location of the first code of its body.
    pub fn function(&self, func_index: u32) -> Option<crate::SourceLocation> {
        let &(_, body) = self.bodies.iter().find(|(f, _)| *f == func_index)?;
        let first = self.table.rows.partition_point(|r| r.0 < body);
        let &(offset, ..) = self.table.rows.get(first)?;
        self.at(offset)
    }

    /// The source files the line tables name.
    pub fn files(&self) -> &[String] {
        &self.table.files
    }
}

/// The module WASI preview 1 imports come from (`wasi_snapshot_preview1`),
/// named here so that it is known also when Scion is built without WASI.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";
