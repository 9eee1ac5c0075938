//! Interface schemas: what an interface's methods take and return, shared
//! by host and plugin.
//!
//! Descriptors ([`TypeDesc`], [`InterfaceDesc`]) are `const`: derives and
//! interface macros build them at compile time, so a plugin can embed its
//! schema in a custom section ([`crate::abi::SCHEMA_SECTION`]) as constant
//! bytes ([`encode`]). Hosts decode such bytes into owned values
//! ([`OwnedType`], [`OwnedInterface`]) with [`decode`], which never panics
//! on malformed input, and compare them with their own with [`diff`].
//!
//! # Encoding (version 1)
//!
//! ```text
//! record    := "SCS1" kind:u8 body
//!              kind 0: the plugin implements interface; 1: it calls the host's
//!              kind 2: the plugin's hot-reload state type; 3: its configuration type
//! body      := interface (kinds 0, 1) | type (kinds 2, 3)
//! interface := str methods:u16 method*
//! method    := str abi:u8 (0 serialized, 1 scalar) mutable:u8 params:u16 (str type)* type
//! type      := tag:u8 payload   (tags below)
//! str       := len:u16 bytes (UTF-8)
//! ```

use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// The shape of a type as it crosses the host/plugin boundary.
#[derive(Debug)]
pub enum TypeDesc {
    /// `()`
    Unit,
    /// `bool`
    Bool,
    /// `u8`
    U8,
    /// `u16`
    U16,
    /// `u32`
    U32,
    /// `u64`
    U64,
    /// `i8`
    I8,
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `char`
    Char,
    /// `String`
    String,
    /// `Option<T>`
    Option(&'static TypeDesc),
    /// `Vec<T>` and other sequences
    List(&'static TypeDesc),
    /// `BTreeMap<K, V>` and other maps
    Map(&'static TypeDesc, &'static TypeDesc),
    /// `Result<T, E>`
    Result(&'static TypeDesc, &'static TypeDesc),
    /// A tuple
    Tuple(&'static [TypeDesc]),
    /// `[T; N]`
    Array(&'static TypeDesc, u32),
    /// A struct (tuple structs have fields named `0`, `1`, ...)
    Struct(&'static StructDesc),
    /// An enum
    Enum(&'static EnumDesc),
    /// A reference to an enclosing struct or enum by name, where a type
    /// contains itself (`enum Value { List(Vec<Value>), .. }`).
    Ref(&'static str),
}

/// A struct's name and fields.
#[derive(Debug)]
pub struct StructDesc {
    /// Type name.
    pub name: &'static str,
    /// Fields in order.
    pub fields: &'static [FieldDesc],
}

/// A named field or parameter.
#[derive(Debug)]
pub struct FieldDesc {
    /// Name.
    pub name: &'static str,
    /// Type.
    pub ty: TypeDesc,
}

/// An enum's name and variants.
#[derive(Debug)]
pub struct EnumDesc {
    /// Type name.
    pub name: &'static str,
    /// Variants in order.
    pub variants: &'static [VariantDesc],
}

/// One enum variant.
#[derive(Debug)]
pub struct VariantDesc {
    /// Name.
    pub name: &'static str,
    /// Payload fields (none for unit variants; tuple variants have fields
    /// named `0`, `1`, ...).
    pub fields: &'static [FieldDesc],
}

/// How a method's arguments and result cross the boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// Serialized with postcard through linear memory.
    Serialized,
    /// Passed directly as wasm values (all arguments and the result are
    /// integers, floats or `bool`).
    Scalar,
}

/// One method of an interface.
#[derive(Debug)]
pub struct MethodDesc {
    /// Name.
    pub name: &'static str,
    /// Calling convention.
    pub abi: Abi,
    /// Whether the receiver is `&mut self`.
    pub mutable: bool,
    /// Parameters (after the receiver).
    pub params: &'static [FieldDesc],
    /// Result type.
    pub result: TypeDesc,
}

/// An interface: a trait marked with `#[interface]`.
#[derive(Debug)]
pub struct InterfaceDesc {
    /// Trait name.
    pub name: &'static str,
    /// Methods in declaration order.
    pub methods: &'static [MethodDesc],
}

/// Types that can cross the boundary and describe themselves.
///
/// Implemented for the primitive types, `String`, `Option`, `Result`,
/// tuples (up to 6), fixed-size arrays, `Box`, the sequences (`Vec`,
/// `VecDeque`, `LinkedList`, `BinaryHeap`, boxed slices), the sets
/// (`BTreeSet`, and `HashSet` with the `std` feature) and the maps
/// (`BTreeMap`, and `HashMap` with the `std` feature); derive it for your
/// structs and enums with `#[derive(Schema)]`.
///
/// Types with the same schema are interchangeable across the boundary: a
/// host passing a `HashMap<String, u32>` to a plugin that takes a
/// `BTreeMap<String, u32>` is fine. Sequences, sets and maps are encoded
/// as a length followed by their elements (or key-value pairs) in the
/// container's iteration order: sorted for the `BTree` collections,
/// front to back for `Vec` and `VecDeque`, and unspecified for the hash
/// collections, whose encoding of equal contents can differ from one run
/// (or one map) to the next. Decoding a map or set keeps the last of
/// duplicate keys.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross the plugin boundary: it does not implement `scion_sdk::Schema`",
    label = "not a boundary type",
    note = "derive it with `#[derive(Schema, Serialize, Deserialize)]` for your own structs and enums",
    note = "supported: integers, floats, bool, char, String, Option, Result, tuples, [T; N], Box, \
            Vec, VecDeque, LinkedList, BinaryHeap, BTreeSet, BTreeMap, HashSet and HashMap \
            (the last two with scion-sdk's default `std` feature)"
)]
pub trait Schema {
    /// The type's shape.
    const TYPE: TypeDesc;
}

macro_rules! leaf {
    ($($t:ty => $d:ident),* $(,)?) => { $(impl Schema for $t { const TYPE: TypeDesc = TypeDesc::$d; })* };
}

leaf!(() => Unit, bool => Bool, u8 => U8, u16 => U16, u32 => U32, u64 => U64, i8 => I8, i16 => I16,
      i32 => I32, i64 => I64, f32 => F32, f64 => F64, char => Char, String => String);

impl<T: Schema> Schema for Option<T> {
    const TYPE: TypeDesc = TypeDesc::Option(&T::TYPE);
}
impl<T: Schema> Schema for Vec<T> {
    const TYPE: TypeDesc = TypeDesc::List(&T::TYPE);
}
impl<T: Schema> Schema for alloc::collections::VecDeque<T> {
    const TYPE: TypeDesc = TypeDesc::List(&T::TYPE);
}
impl<T: Schema> Schema for alloc::collections::BTreeSet<T> {
    const TYPE: TypeDesc = TypeDesc::List(&T::TYPE);
}
impl<K: Schema, V: Schema> Schema for alloc::collections::BTreeMap<K, V> {
    const TYPE: TypeDesc = TypeDesc::Map(&K::TYPE, &V::TYPE);
}
impl<T: Schema, E: Schema> Schema for Result<T, E> {
    const TYPE: TypeDesc = TypeDesc::Result(&T::TYPE, &E::TYPE);
}
impl<T: Schema + ?Sized> Schema for Box<T> {
    const TYPE: TypeDesc = T::TYPE;
}
impl<T: Schema> Schema for alloc::collections::LinkedList<T> {
    const TYPE: TypeDesc = TypeDesc::List(&T::TYPE);
}
impl<T: Schema> Schema for alloc::collections::BinaryHeap<T> {
    const TYPE: TypeDesc = TypeDesc::List(&T::TYPE);
}
/// For `Box<[T]>`.
impl<T: Schema> Schema for [T] {
    const TYPE: TypeDesc = TypeDesc::List(&T::TYPE);
}
/// For `Box<str>`.
impl Schema for str {
    const TYPE: TypeDesc = TypeDesc::String;
}
#[cfg(feature = "std")]
impl<T: Schema, S> Schema for std::collections::HashSet<T, S> {
    const TYPE: TypeDesc = TypeDesc::List(&T::TYPE);
}
#[cfg(feature = "std")]
impl<K: Schema, V: Schema, S> Schema for std::collections::HashMap<K, V, S> {
    const TYPE: TypeDesc = TypeDesc::Map(&K::TYPE, &V::TYPE);
}
impl<T: Schema, const N: usize> Schema for [T; N] {
    const TYPE: TypeDesc = TypeDesc::Array(&T::TYPE, N as u32);
}

macro_rules! tuples {
    ($(($($t:ident),+)),* $(,)?) => {
        $(impl<$($t: Schema),+> Schema for ($($t,)+) {
            const TYPE: TypeDesc = TypeDesc::Tuple(&[$($t::TYPE),+]);
        })*
    };
}

tuples!((A), (A, B), (A, B, C), (A, B, C, D), (A, B, C, D, E), (A, B, C, D, E, F));

/// Which side implements an interface in a schema record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The plugin implements it; the host calls it.
    Export,
    /// The host implements it; the plugin calls it.
    Import,
}

/// What a type record in a schema section describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeRole {
    /// The state a plugin carries across hot reloads.
    State,
    /// The configuration a plugin is instantiated with.
    Config,
}

// ---------------------------------------------------------------- encoding

const MAGIC: &[u8; 4] = b"SCS1";

const fn str_len(s: &str) -> usize {
    2 + s.len()
}

/// Encoded length of a type.
pub const fn type_len(t: &TypeDesc) -> usize {
    match t {
        TypeDesc::Option(e) | TypeDesc::List(e) => 1 + type_len(e),
        TypeDesc::Map(a, b) | TypeDesc::Result(a, b) => 1 + type_len(a) + type_len(b),
        TypeDesc::Tuple(ts) => {
            let mut n = 3;
            let mut i = 0;
            while i < ts.len() {
                n += type_len(&ts[i]);
                i += 1;
            }
            n
        }
        TypeDesc::Array(e, _) => 5 + type_len(e),
        TypeDesc::Ref(name) => 1 + str_len(name),
        TypeDesc::Struct(s) => 1 + str_len(s.name) + fields_len(s.fields),
        TypeDesc::Enum(e) => {
            let mut n = 1 + str_len(e.name) + 2;
            let mut i = 0;
            while i < e.variants.len() {
                n += str_len(e.variants[i].name) + fields_len(e.variants[i].fields);
                i += 1;
            }
            n
        }
        _ => 1,
    }
}

const fn fields_len(fields: &[FieldDesc]) -> usize {
    let mut n = 2;
    let mut i = 0;
    while i < fields.len() {
        n += str_len(fields[i].name) + type_len(&fields[i].ty);
        i += 1;
    }
    n
}

/// Encoded length of a schema record for `iface`.
pub const fn record_len(iface: &InterfaceDesc) -> usize {
    let mut n = 4 + 1 + str_len(iface.name) + 2;
    let mut i = 0;
    while i < iface.methods.len() {
        let m = &iface.methods[i];
        n += str_len(m.name) + 2 + fields_len(m.params) + type_len(&m.result);
        i += 1;
    }
    n
}

const fn tag(t: &TypeDesc) -> u8 {
    match t {
        TypeDesc::Unit => 0,
        TypeDesc::Bool => 1,
        TypeDesc::U8 => 2,
        TypeDesc::U16 => 3,
        TypeDesc::U32 => 4,
        TypeDesc::U64 => 5,
        TypeDesc::I8 => 6,
        TypeDesc::I16 => 7,
        TypeDesc::I32 => 8,
        TypeDesc::I64 => 9,
        TypeDesc::F32 => 10,
        TypeDesc::F64 => 11,
        TypeDesc::Char => 12,
        TypeDesc::String => 13,
        TypeDesc::Option(_) => 14,
        TypeDesc::List(_) => 15,
        TypeDesc::Map(..) => 16,
        TypeDesc::Result(..) => 17,
        TypeDesc::Tuple(_) => 18,
        TypeDesc::Array(..) => 19,
        TypeDesc::Struct(_) => 20,
        TypeDesc::Enum(_) => 21,
        TypeDesc::Ref(_) => 22,
    }
}

const fn put_u16(out: &mut [u8], at: usize, v: usize) -> usize {
    out[at] = v as u8;
    out[at + 1] = (v >> 8) as u8;
    at + 2
}

const fn put_str(out: &mut [u8], at: usize, s: &str) -> usize {
    let mut at = put_u16(out, at, s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        out[at] = b[i];
        at += 1;
        i += 1;
    }
    at
}

const fn put_fields(out: &mut [u8], at: usize, fields: &[FieldDesc]) -> usize {
    let mut at = put_u16(out, at, fields.len());
    let mut i = 0;
    while i < fields.len() {
        at = put_str(out, at, fields[i].name);
        at = put_type(out, at, &fields[i].ty);
        i += 1;
    }
    at
}

const fn put_type(out: &mut [u8], at: usize, t: &TypeDesc) -> usize {
    out[at] = tag(t);
    let at = at + 1;
    match t {
        TypeDesc::Option(e) | TypeDesc::List(e) => put_type(out, at, e),
        TypeDesc::Map(a, b) | TypeDesc::Result(a, b) => {
            let at = put_type(out, at, a);
            put_type(out, at, b)
        }
        TypeDesc::Tuple(ts) => {
            let mut at = put_u16(out, at, ts.len());
            let mut i = 0;
            while i < ts.len() {
                at = put_type(out, at, &ts[i]);
                i += 1;
            }
            at
        }
        TypeDesc::Array(e, n) => {
            let n = *n as usize;
            let at = put_u16(out, at, n & 0xffff);
            let at = put_u16(out, at, n >> 16);
            put_type(out, at, e)
        }
        TypeDesc::Struct(s) => {
            let at = put_str(out, at, s.name);
            put_fields(out, at, s.fields)
        }
        TypeDesc::Ref(name) => put_str(out, at, name),
        TypeDesc::Enum(e) => {
            let at = put_str(out, at, e.name);
            let mut at = put_u16(out, at, e.variants.len());
            let mut i = 0;
            while i < e.variants.len() {
                at = put_str(out, at, e.variants[i].name);
                at = put_fields(out, at, e.variants[i].fields);
                i += 1;
            }
            at
        }
        _ => at,
    }
}

/// Encoded length of a type record for `t`.
pub const fn type_record_len(t: &TypeDesc) -> usize {
    4 + 1 + type_len(t)
}

/// Encodes a type record; `N` must be [`type_record_len`] of `t`.
pub const fn encode_type<const N: usize>(t: &TypeDesc, role: TypeRole) -> [u8; N] {
    let mut out = [0u8; N];
    out[0] = MAGIC[0];
    out[1] = MAGIC[1];
    out[2] = MAGIC[2];
    out[3] = MAGIC[3];
    out[4] = match role {
        TypeRole::State => 2,
        TypeRole::Config => 3,
    };
    let at = put_type(&mut out, 5, t);
    assert!(at == N, "schema record length mismatch");
    out
}

/// Encodes a schema record; `N` must be [`record_len`] of `iface`.
pub const fn encode<const N: usize>(iface: &InterfaceDesc, direction: Direction) -> [u8; N] {
    let mut out = [0u8; N];
    out[0] = MAGIC[0];
    out[1] = MAGIC[1];
    out[2] = MAGIC[2];
    out[3] = MAGIC[3];
    out[4] = match direction {
        Direction::Export => 0,
        Direction::Import => 1,
    };
    let mut at = put_str(&mut out, 5, iface.name);
    at = put_u16(&mut out, at, iface.methods.len());
    let mut i = 0;
    while i < iface.methods.len() {
        let m = &iface.methods[i];
        at = put_str(&mut out, at, m.name);
        out[at] = match m.abi {
            Abi::Serialized => 0,
            Abi::Scalar => 1,
        };
        out[at + 1] = m.mutable as u8;
        at = put_fields(&mut out, at + 2, m.params);
        at = put_type(&mut out, at, &m.result);
        i += 1;
    }
    assert!(at == N, "schema record length mismatch");
    out
}

// ---------------------------------------------------------------- owned form

/// A decoded type (see [`TypeDesc`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OwnedType {
    /// Any of the leaf types, by tag name (`"u32"`, `"String"`...).
    Leaf(&'static str),
    /// `Option<T>`
    Option(Box<OwnedType>),
    /// A sequence
    List(Box<OwnedType>),
    /// A map
    Map(Box<OwnedType>, Box<OwnedType>),
    /// `Result<T, E>`
    Result(Box<OwnedType>, Box<OwnedType>),
    /// A tuple
    Tuple(Vec<OwnedType>),
    /// `[T; N]`
    Array(Box<OwnedType>, u32),
    /// A struct
    Struct(String, Vec<(String, OwnedType)>),
    /// An enum: name and variants with their fields
    Enum(String, Vec<(String, Vec<(String, OwnedType)>)>),
    /// An enclosing struct or enum, by name (recursive types)
    Ref(String),
}

/// A decoded method.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnedMethod {
    /// Name.
    pub name: String,
    /// Calling convention.
    pub abi: Abi,
    /// Receiver is `&mut self`.
    pub mutable: bool,
    /// Parameters.
    pub params: Vec<(String, OwnedType)>,
    /// Result.
    pub result: OwnedType,
}

/// A decoded interface with the side that implements it.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnedInterface {
    /// Trait name.
    pub name: String,
    /// Who implements it.
    pub direction: Direction,
    /// Methods.
    pub methods: Vec<OwnedMethod>,
}

const LEAVES: [&str; 14] = [
    "()", "bool", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "f32", "f64", "char",
    "String",
];

impl OwnedType {
    /// The owned form of a descriptor.
    pub fn of(t: &TypeDesc) -> OwnedType {
        let fields = |fs: &[FieldDesc]| {
            fs.iter().map(|f| (f.name.to_string(), OwnedType::of(&f.ty))).collect()
        };
        match t {
            TypeDesc::Option(e) => OwnedType::Option(Box::new(OwnedType::of(e))),
            TypeDesc::List(e) => OwnedType::List(Box::new(OwnedType::of(e))),
            TypeDesc::Map(a, b) => {
                OwnedType::Map(Box::new(OwnedType::of(a)), Box::new(OwnedType::of(b)))
            }
            TypeDesc::Result(a, b) => {
                OwnedType::Result(Box::new(OwnedType::of(a)), Box::new(OwnedType::of(b)))
            }
            TypeDesc::Tuple(ts) => OwnedType::Tuple(ts.iter().map(OwnedType::of).collect()),
            TypeDesc::Array(e, n) => OwnedType::Array(Box::new(OwnedType::of(e)), *n),
            TypeDesc::Struct(s) => OwnedType::Struct(s.name.to_string(), fields(s.fields)),
            TypeDesc::Enum(e) => OwnedType::Enum(
                e.name.to_string(),
                e.variants.iter().map(|v| (v.name.to_string(), fields(v.fields))).collect(),
            ),
            TypeDesc::Ref(name) => OwnedType::Ref(name.to_string()),
            leaf => OwnedType::Leaf(LEAVES[tag(leaf) as usize]),
        }
    }
}

impl OwnedInterface {
    /// The owned form of an interface descriptor.
    pub fn of(iface: &InterfaceDesc, direction: Direction) -> OwnedInterface {
        OwnedInterface {
            name: iface.name.to_string(),
            direction,
            methods: iface
                .methods
                .iter()
                .map(|m| OwnedMethod {
                    name: m.name.to_string(),
                    abi: m.abi,
                    mutable: m.mutable,
                    params: m
                        .params
                        .iter()
                        .map(|p| (p.name.to_string(), OwnedType::of(&p.ty)))
                        .collect(),
                    result: OwnedType::of(&m.result),
                })
                .collect(),
        }
    }
}

impl fmt::Display for OwnedType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OwnedType::Leaf(n) => f.write_str(n),
            OwnedType::Option(e) => write!(f, "Option<{e}>"),
            OwnedType::List(e) => write!(f, "Vec<{e}>"),
            OwnedType::Map(a, b) => write!(f, "Map<{a}, {b}>"),
            OwnedType::Result(a, b) => write!(f, "Result<{a}, {b}>"),
            OwnedType::Tuple(ts) => {
                f.write_str("(")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(if ts.len() == 1 { ",)" } else { ")" })
            }
            OwnedType::Array(e, n) => write!(f, "[{e}; {n}]"),
            OwnedType::Struct(n, _) | OwnedType::Enum(n, _) | OwnedType::Ref(n) => f.write_str(n),
        }
    }
}

impl fmt::Display for OwnedMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fn {}(&{}self", self.name, if self.mutable { "mut " } else { "" })?;
        for (n, t) in &self.params {
            write!(f, ", {n}: {t}")?;
        }
        match &self.result {
            OwnedType::Leaf("()") => f.write_str(")"),
            result => write!(f, ") -> {result}"),
        }
    }
}

/// Why schema bytes could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset in the section.
    pub offset: usize,
    /// What was wrong.
    pub reason: &'static str,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed schema at byte {}: {}", self.offset, self.reason)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    depth: u32,
}

impl Reader<'_> {
    fn err<T>(&self, reason: &'static str) -> Result<T, DecodeError> {
        Err(DecodeError { offset: self.at, reason })
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        let Some(&b) = self.bytes.get(self.at) else { return self.err("truncated") };
        self.at += 1;
        Ok(b)
    }
    fn u16(&mut self) -> Result<usize, DecodeError> {
        Ok(self.u8()? as usize | (self.u8()? as usize) << 8)
    }
    fn str(&mut self) -> Result<String, DecodeError> {
        let len = self.u16()?;
        let Some(b) = self.bytes.get(self.at..self.at + len) else {
            return self.err("truncated string");
        };
        let s = core::str::from_utf8(b)
            .map_err(|_| DecodeError { offset: self.at, reason: "invalid UTF-8" })?;
        self.at += len;
        Ok(s.to_string())
    }
    fn fields(&mut self) -> Result<Vec<(String, OwnedType)>, DecodeError> {
        let n = self.u16()?;
        (0..n).map(|_| Ok((self.str()?, self.ty()?))).collect()
    }
    fn ty(&mut self) -> Result<OwnedType, DecodeError> {
        // Bounded nesting: a lying schema must not overflow the host's stack.
        if self.depth > 64 {
            return self.err("types nested too deeply");
        }
        self.depth += 1;
        let t = self.u8()?;
        let boxed = |r: &mut Self| r.ty().map(Box::new);
        let ty = match t {
            0..=13 => OwnedType::Leaf(LEAVES[t as usize]),
            14 => OwnedType::Option(boxed(self)?),
            15 => OwnedType::List(boxed(self)?),
            16 => OwnedType::Map(boxed(self)?, boxed(self)?),
            17 => OwnedType::Result(boxed(self)?, boxed(self)?),
            18 => {
                let n = self.u16()?;
                OwnedType::Tuple((0..n).map(|_| self.ty()).collect::<Result<_, _>>()?)
            }
            19 => {
                let n = self.u16()? | self.u16()? << 16;
                OwnedType::Array(boxed(self)?, n as u32)
            }
            20 => OwnedType::Struct(self.str()?, self.fields()?),
            21 => {
                let name = self.str()?;
                let n = self.u16()?;
                OwnedType::Enum(
                    name,
                    (0..n).map(|_| Ok((self.str()?, self.fields()?))).collect::<Result<_, _>>()?,
                )
            }
            22 => OwnedType::Ref(self.str()?),
            _ => return self.err("unknown type tag"),
        };
        self.depth -= 1;
        Ok(ty)
    }
}

/// A decoded schema section: everything a plugin declares.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SchemaSection {
    /// Interfaces the plugin implements or calls.
    pub interfaces: Vec<OwnedInterface>,
    /// The plugin's hot-reload state type, when it has one.
    pub state: Option<OwnedType>,
    /// The plugin's configuration type, when it takes one.
    pub config: Option<OwnedType>,
}

impl SchemaSection {
    /// The interface called `name` that the plugin implements
    /// ([`Direction::Export`]) or calls ([`Direction::Import`]).
    pub fn interface(&self, name: &str, direction: Direction) -> Option<&OwnedInterface> {
        self.interfaces.iter().find(|i| i.name == name && i.direction == direction)
    }
}

/// Largest schema section [`decode`] accepts (real plugins declare a few
/// KiB).
pub const MAX_SECTION_BYTES: usize = 1 << 20;

/// Most records a schema section may hold (one per interface a plugin
/// implements or calls, one for its state type, one for its configuration).
pub const MAX_RECORDS: usize = 4096;

/// Fewest bytes a method takes in a record (empty name, abi, receiver, no
/// parameters, a leaf result), to bound what a method count can reserve.
const MIN_METHOD_LEN: usize = 2 + 1 + 1 + 2 + 1;

/// Decodes every record of a schema section (the concatenation of the
/// records a plugin's crates embed). The section is untrusted: it may be
/// at most [`MAX_SECTION_BYTES`] long with at most [`MAX_RECORDS`]
/// records, types nest at most 64 deep, an interface is declared once per
/// direction and a method once per interface; decoding takes time
/// proportional to the section's size (times a logarithm).
pub fn decode(bytes: &[u8]) -> Result<SchemaSection, DecodeError> {
    if bytes.len() > MAX_SECTION_BYTES {
        return Err(DecodeError {
            offset: MAX_SECTION_BYTES,
            reason: "the section is larger than the limit (schema::MAX_SECTION_BYTES, 1 MiB)",
        });
    }
    let mut r = Reader { bytes, at: 0, depth: 0 };
    let mut out = SchemaSection::default();
    // Interfaces seen, by direction and name (a scan per record made
    // decoding quadratic in the number of records).
    let mut seen: BTreeSet<(bool, &[u8])> = BTreeSet::new();
    let mut records = 0;
    while r.at < bytes.len() {
        records += 1;
        if records > MAX_RECORDS {
            return r.err("more records than the limit (schema::MAX_RECORDS, 4096)");
        }
        if bytes.get(r.at..r.at + 4) != Some(MAGIC.as_slice()) {
            return r.err("bad record magic");
        }
        r.at += 4;
        let direction = match r.u8()? {
            0 => Direction::Export,
            1 => Direction::Import,
            kind @ (2 | 3) => {
                let ty = r.ty()?;
                let slot = if kind == 2 { &mut out.state } else { &mut out.config };
                if slot.replace(ty).is_some() {
                    return r.err("more than one state or configuration record");
                }
                continue;
            }
            _ => return r.err("unknown record kind"),
        };
        let name_at = r.at + 2;
        let name = r.str()?;
        if !seen.insert((direction == Direction::Export, &bytes[name_at..r.at])) {
            return r.err("interface declared twice");
        }
        let n = r.u16()?;
        let mut methods = Vec::with_capacity(n.min((bytes.len() - r.at) / MIN_METHOD_LEN));
        let mut method_names: BTreeSet<&[u8]> = BTreeSet::new();
        for _ in 0..n {
            let name_at = r.at + 2;
            let name = r.str()?;
            if !method_names.insert(&bytes[name_at..r.at]) {
                return r.err("method declared twice in one interface");
            }
            let abi = match r.u8()? {
                0 => Abi::Serialized,
                1 => Abi::Scalar,
                _ => return r.err("bad method abi"),
            };
            let mutable = r.u8()? != 0;
            let params = r.fields()?;
            let result = r.ty()?;
            methods.push(OwnedMethod { name, abi, mutable, params, result });
        }
        out.interfaces.push(OwnedInterface { name, direction, methods });
    }
    Ok(out)
}

// ---------------------------------------------------------------- comparison

/// The first difference between two types, as a sentence starting with
/// `path` (what the type belongs to, e.g. "the state").
pub fn diff_type(path: &str, host: &OwnedType, plugin: &OwnedType) -> Option<String> {
    use OwnedType as T;
    let mismatch =
        || Some(format!("{path} has type {host} in the host but {plugin} in the plugin"));
    match (host, plugin) {
        (T::Leaf(a), T::Leaf(b)) if a == b => None,
        // The enclosing types themselves are compared where they appear.
        (T::Ref(a), T::Ref(b)) if a == b => None,
        (T::Option(a), T::Option(b)) | (T::List(a), T::List(b)) => diff_type(path, a, b),
        (T::Map(a1, b1), T::Map(a2, b2)) | (T::Result(a1, b1), T::Result(a2, b2)) => {
            diff_type(path, a1, a2).or_else(|| diff_type(path, b1, b2))
        }
        (T::Array(a, n), T::Array(b, m)) if n == m => diff_type(path, a, b),
        (T::Tuple(a), T::Tuple(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| diff_type(&format!("{path}.{i}"), x, y)),
        (T::Struct(n1, f1), T::Struct(n2, f2)) if n1 == n2 => {
            diff_fields(&format!("{path} (struct {n1})"), f1, f2)
        }
        (T::Enum(n1, v1), T::Enum(n2, v2)) if n1 == n2 => {
            for (name, fields) in v1 {
                match v2.iter().find(|v| &v.0 == name) {
                    None => {
                        return Some(format!(
                            "{path} (enum {n1}): variant `{name}` is missing in the plugin"
                        ));
                    }
                    Some(v) => {
                        if let Some(d) = diff_fields(
                            &format!("{path} (enum {n1}) variant `{name}`"),
                            fields,
                            &v.1,
                        ) {
                            return Some(d);
                        }
                    }
                }
            }
            if let Some(extra) = v2.iter().find(|v| !v1.iter().any(|w| w.0 == v.0)) {
                return Some(format!(
                    "{path} (enum {n1}): the plugin has variant `{}` the host does not",
                    extra.0
                ));
            }
            let order = v1.iter().map(|v| &v.0).ne(v2.iter().map(|v| &v.0));
            order.then(|| format!("{path} (enum {n1}): variants are in a different order"))
        }
        _ => mismatch(),
    }
}

fn diff_fields(
    path: &str,
    host: &[(String, OwnedType)],
    plugin: &[(String, OwnedType)],
) -> Option<String> {
    for (i, (name, ty)) in host.iter().enumerate() {
        match plugin.get(i) {
            None => return Some(format!("{path}: field `{name}` is missing in the plugin")),
            Some((pname, _)) if pname != name => {
                return Some(format!(
                    "{path}: field {i} is `{name}` in the host but `{pname}` in the plugin"
                ));
            }
            Some((_, pty)) => {
                if let Some(d) = diff_type(&format!("{path} field `{name}`"), ty, pty) {
                    return Some(d);
                }
            }
        }
    }
    (plugin.len() > host.len())
        .then(|| format!("{path}: the plugin has extra field `{}`", plugin[host.len()].0))
}

/// The first difference between the host's view of an interface and the
/// plugin's, as a sentence naming the interface, method, argument or field.
pub fn diff(host: &OwnedInterface, plugin: &OwnedInterface) -> Option<String> {
    let iface = &host.name;
    for m in &host.methods {
        let Some(p) = plugin.methods.iter().find(|p| p.name == m.name) else {
            let others: Vec<&str> = plugin
                .methods
                .iter()
                .filter(|p| !host.methods.iter().any(|h| h.name == p.name))
                .map(|p| p.name.as_str())
                .collect();
            let hint = if others.is_empty() {
                String::new()
            } else {
                format!(" (it has {})", name_list(&others))
            };
            return Some(format!(
                "interface `{iface}`: method `{}` is missing in the plugin{hint}",
                m.name
            ));
        };
        let at = format!("interface `{iface}`, method `{}`", m.name);
        if m.params.len() != p.params.len() {
            return Some(format!(
                "{at} takes {} arguments in the host but {} in the plugin",
                m.params.len(),
                p.params.len()
            ));
        }
        for ((hn, ht), (pn, pt)) in m.params.iter().zip(&p.params) {
            if hn != pn {
                return Some(format!("{at}: argument `{hn}` is called `{pn}` in the plugin"));
            }
            if let Some(d) = diff_type(&format!("{at}, argument `{hn}`"), ht, pt) {
                return Some(d);
            }
        }
        if let Some(d) = diff_type(&format!("{at}, result"), &m.result, &p.result) {
            return Some(d);
        }
        if m.abi != p.abi || m.mutable != p.mutable {
            return Some(format!(
                "{at}: the calling convention differs ({} in the host, {} in the plugin)",
                m, p
            ));
        }
    }
    // Methods the plugin has beyond the host's are harmless: the host never
    // calls them.
    None
}

/// Most names [`name_list`] shows.
const LISTED_NAMES: usize = 8;

/// Longest name [`name_list`] shows whole.
const LISTED_NAME_LEN: usize = 64;

/// `` `a`, `b`, `c` ``: names from an untrusted schema, for a message; at
/// most a few, each cut short, so a section cannot make messages huge.
pub fn name_list(names: &[&str]) -> String {
    let mut out = String::new();
    for (i, name) in names.iter().take(LISTED_NAMES).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('`');
        match name.char_indices().nth(LISTED_NAME_LEN) {
            Some((cut, _)) => {
                out.push_str(&name[..cut]);
                out.push_str("...");
            }
            None => out.push_str(name),
        }
        out.push('`');
    }
    if names.len() > LISTED_NAMES {
        out.push_str(&format!(" and {} more", names.len() - LISTED_NAMES));
    }
    out
}
