//! Decode and validate: wasm bytes -> `ModuleInfo` + function bodies.
//!
//! Validation uses wasmparser with exactly the features the compiler
//! implements ([`features`]). Function bodies are validated later, in
//! lockstep with translation, through the `FuncToValidate` kept here.
//!
//! Requires: nothing. Produces: [`DecodedModule`].

use super::CompileError;
use crate::info::*;
use crate::types::{FuncType, GlobalType, Limits, MemoryType, TableType, ValType};
use wasmparser::{
    FuncToValidate, FunctionBody, Parser, Payload, ValidPayload, Validator, ValidatorResources,
    WasmFeatures,
};

/// A function body waiting for translation.
pub struct PendingBody<'a> {
    /// Index in the function index space.
    pub func_index: u32,
    /// The body.
    pub body: FunctionBody<'a>,
    /// Its validator, run in lockstep with translation.
    pub validator: FuncToValidate<ValidatorResources>,
}

/// The result of decoding.
pub struct DecodedModule<'a> {
    /// Module-level information.
    pub info: ModuleInfo,
    /// Function bodies in order.
    pub bodies: Vec<PendingBody<'a>>,
    /// The module's DWARF sections (`.debug_*` custom sections), by name.
    pub debug_sections: Vec<(&'a str, &'a [u8])>,
    /// Module offset of the code section's contents, which DWARF
    /// addresses in wasm are relative to.
    pub code_section_start: u32,
}

/// The WebAssembly features the compiler implements: 2.0 (with SIMD),
/// plus relaxed SIMD, multi-memory and extended constant expressions.
pub fn features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::RELAXED_SIMD
        | WasmFeatures::BULK_MEMORY_OPT
        | WasmFeatures::CALL_INDIRECT_OVERLONG
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::EXTENDED_CONST
}

/// Whether `wasm` is valid with every feature wasmparser knows but not with
/// [`features`]: it needs a feature Scion does not implement yet.
pub fn needs_unsupported_features(wasm: &[u8]) -> bool {
    let ours = Validator::new_with_features(features()).validate_all(wasm).is_ok();
    !ours && Validator::new_with_features(WasmFeatures::all()).validate_all(wasm).is_ok()
}

fn err(e: wasmparser::BinaryReaderError) -> CompileError {
    CompileError::new(Some(e.offset() as usize), e.message().to_string())
}

/// Maps a validated value type.
pub fn val_type(t: wasmparser::ValType) -> ValType {
    match t {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(r) => ref_type(r),
    }
}

/// Maps a validated reference type (2.0 has only the two nullable ones).
pub fn ref_type(r: wasmparser::RefType) -> ValType {
    if r.is_func_ref() { ValType::FuncRef } else { ValType::ExternRef }
}

fn func_type(t: &wasmparser::FuncType) -> FuncType {
    FuncType::new(
        t.params().iter().map(|&t| val_type(t)).collect::<Vec<_>>(),
        t.results().iter().map(|&t| val_type(t)).collect::<Vec<_>>(),
    )
}

fn table_type(t: &wasmparser::TableType) -> TableType {
    TableType {
        element: ref_type(t.element_type),
        limits: Limits { min: t.initial, max: t.maximum },
    }
}

fn memory_type(t: &wasmparser::MemoryType) -> MemoryType {
    MemoryType { limits: Limits { min: t.initial, max: t.maximum }, shared: t.shared }
}

fn global_type(t: &wasmparser::GlobalType) -> GlobalType {
    GlobalType { content: val_type(t.content_type), mutable: t.mutable }
}

/// Converts a validated constant expression.
pub fn const_expr(e: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, CompileError> {
    use wasmparser::Operator as O;
    let mut ops = Vec::new();
    let mut reader = e.get_operators_reader();
    while !reader.eof() {
        let offset = reader.original_position();
        ops.push(match reader.read().map_err(err)? {
            O::I32Const { value } => ConstOp::I32Const(value),
            O::I64Const { value } => ConstOp::I64Const(value),
            O::F32Const { value } => ConstOp::F32Const(value.bits()),
            O::F64Const { value } => ConstOp::F64Const(value.bits()),
            O::V128Const { value } => ConstOp::V128Const(u128::from_le_bytes(*value.bytes())),
            O::RefNull { hty } => ConstOp::RefNull(match hty {
                wasmparser::HeapType::Abstract {
                    ty: wasmparser::AbstractHeapType::Func, ..
                } => ValType::FuncRef,
                _ => ValType::ExternRef,
            }),
            O::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            O::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            O::I32Add => ConstOp::I32Add,
            O::I32Sub => ConstOp::I32Sub,
            O::I32Mul => ConstOp::I32Mul,
            O::I64Add => ConstOp::I64Add,
            O::I64Sub => ConstOp::I64Sub,
            O::I64Mul => ConstOp::I64Mul,
            O::End => continue,
            op => {
                return Err(CompileError::new(
                    Some(offset as usize),
                    format!("unsupported operator in constant expression: {op:?}"),
                ));
            }
        });
    }
    Ok(ConstExpr(ops.into()))
}

/// Parses and validates a module, collecting its info and function bodies.
pub fn decode(bytes: &[u8]) -> Result<DecodedModule<'_>, CompileError> {
    let mut validator = Validator::new_with_features(features());
    let mut info = ModuleInfo::default();
    let mut bodies = Vec::new();
    let mut debug_sections = Vec::new();
    let mut code_section_start = 0;
    let mut ended = false;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(err)?;
        match &payload {
            Payload::CodeSectionStart { unchecked_range, .. } => {
                code_section_start = u32::try_from(unchecked_range.start).unwrap_or(u32::MAX);
            }
            Payload::CustomSection(c) if c.name().starts_with(".debug_") => {
                debug_sections.push((c.name(), c.data()));
            }
            _ => {}
        }
        match validator.payload(&payload).map_err(err)? {
            ValidPayload::Func(validator, body) => {
                let func_index = info.imported_funcs + bodies.len() as u32;
                bodies.push(PendingBody { func_index, body, validator });
                continue;
            }
            ValidPayload::End(_) => ended = true,
            ValidPayload::Parser(_) => {
                return Err(CompileError::new(None, "components are not supported".into()));
            }
            ValidPayload::Ok => {}
        }
        read_section(&mut info, payload)?;
    }
    if !ended {
        return Err(CompileError::new(Some(bytes.len()), "unexpected end of module".into()));
    }
    debug_assert_eq!(info.funcs.len(), info.imported_funcs as usize + bodies.len());
    Ok(DecodedModule { info, bodies, debug_sections, code_section_start })
}

fn read_section(info: &mut ModuleInfo, payload: Payload<'_>) -> Result<(), CompileError> {
    match payload {
        Payload::TypeSection(r) => {
            for t in r.into_iter_err_on_gc_types() {
                info.types.push(func_type(&t.map_err(err)?));
            }
        }
        Payload::ImportSection(r) => {
            for import in r.into_imports() {
                let import = import.map_err(err)?;
                let ty = match import.ty {
                    wasmparser::TypeRef::Func(t) | wasmparser::TypeRef::FuncExact(t) => {
                        info.funcs.push(t);
                        info.imported_funcs += 1;
                        ImportType::Func(t)
                    }
                    wasmparser::TypeRef::Table(t) => {
                        info.tables.push(table_type(&t));
                        info.imported_tables += 1;
                        ImportType::Table(table_type(&t))
                    }
                    wasmparser::TypeRef::Memory(m) => {
                        info.memories.push(memory_type(&m));
                        info.imported_memories += 1;
                        ImportType::Memory(memory_type(&m))
                    }
                    wasmparser::TypeRef::Global(g) => {
                        info.globals.push(global_type(&g));
                        info.imported_globals += 1;
                        ImportType::Global(global_type(&g))
                    }
                    wasmparser::TypeRef::Tag(_) => {
                        return Err(CompileError::new(None, "tags are not supported".into()));
                    }
                };
                info.imports.push(Import {
                    module: import.module.to_string(),
                    name: import.name.to_string(),
                    ty,
                });
            }
        }
        Payload::FunctionSection(r) => {
            for t in r {
                info.funcs.push(t.map_err(err)?);
            }
        }
        Payload::TableSection(r) => {
            for t in r {
                let t = t.map_err(err)?;
                let init = match &t.init {
                    wasmparser::TableInit::RefNull => None,
                    wasmparser::TableInit::Expr(e) => Some(const_expr(e)?),
                };
                info.tables.push(table_type(&t.ty));
                info.table_defs.push(TableDef { ty: table_type(&t.ty), init });
            }
        }
        Payload::MemorySection(r) => {
            for m in r {
                info.memories.push(memory_type(&m.map_err(err)?));
            }
        }
        Payload::GlobalSection(r) => {
            for g in r {
                let g = g.map_err(err)?;
                info.globals.push(global_type(&g.ty));
                info.global_defs
                    .push(GlobalDef { ty: global_type(&g.ty), init: const_expr(&g.init_expr)? });
            }
        }
        Payload::ExportSection(r) => {
            for e in r {
                let e = e.map_err(err)?;
                let kind = match e.kind {
                    wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => {
                        ExternKind::Func
                    }
                    wasmparser::ExternalKind::Table => ExternKind::Table,
                    wasmparser::ExternalKind::Memory => ExternKind::Memory,
                    wasmparser::ExternalKind::Global => ExternKind::Global,
                    wasmparser::ExternalKind::Tag => {
                        return Err(CompileError::new(None, "tags are not supported".into()));
                    }
                };
                info.exports.push(Export { name: e.name.to_string(), kind, index: e.index });
            }
        }
        Payload::StartSection { func, .. } => info.start = Some(func),
        Payload::ElementSection(r) => {
            for e in r {
                info.elems.push(elem_segment(e.map_err(err)?)?);
            }
        }
        Payload::DataSection(r) => {
            for d in r {
                let d = d.map_err(err)?;
                let mode = match d.kind {
                    wasmparser::DataKind::Passive => DataMode::Passive,
                    wasmparser::DataKind::Active { memory_index, offset_expr } => {
                        DataMode::Active { memory: memory_index, offset: const_expr(&offset_expr)? }
                    }
                };
                info.datas.push(DataSegment { mode, bytes: d.data.to_vec() });
            }
        }
        Payload::CustomSection(c) => match c.as_known() {
            wasmparser::KnownCustom::Name(names) => read_names(info, names),
            _ if c.name().starts_with(".debug") => {}
            _ => info.custom_sections.push((c.name().to_string(), c.data().to_vec())),
        },
        _ => {}
    }
    Ok(())
}

fn elem_segment(e: wasmparser::Element<'_>) -> Result<ElemSegment, CompileError> {
    let mode = match e.kind {
        wasmparser::ElementKind::Passive => ElemMode::Passive,
        wasmparser::ElementKind::Declared => ElemMode::Declared,
        wasmparser::ElementKind::Active { table_index, offset_expr } => {
            ElemMode::Active { table: table_index.unwrap_or(0), offset: const_expr(&offset_expr)? }
        }
    };
    let (ty, items, expressions) = match e.items {
        wasmparser::ElementItems::Functions(r) => {
            let mut items = Vec::new();
            for f in r {
                items.push(ConstExpr(smallvec::smallvec![ConstOp::RefFunc(f.map_err(err)?)]));
            }
            (ValType::FuncRef, items, false)
        }
        wasmparser::ElementItems::Expressions(ty, r) => {
            let mut items = Vec::new();
            for e in r {
                items.push(const_expr(&e.map_err(err)?)?);
            }
            (ref_type(ty), items, true)
        }
    };
    Ok(ElemSegment { mode, ty, items, expressions })
}

/// Reads the name section; malformed name sections are ignored, as the
/// spec allows.
fn read_names(info: &mut ModuleInfo, names: wasmparser::NameSectionReader<'_>) {
    let mut funcs = Vec::new();
    for name in names {
        match name {
            Ok(wasmparser::Name::Module { name, .. }) => info.name = Some(name.to_string()),
            Ok(wasmparser::Name::Function(map)) => {
                funcs.extend(map.into_iter().flatten().map(|n| (n.index, n.name)));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    info.func_names = crate::info::FuncNames::new(funcs);
}
