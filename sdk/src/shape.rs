//! Checking an encoded value against its schema before it is decoded.
//!
//! Decoding with serde recurses once per level of nesting of the value, so
//! a value of a recursive type (`enum Json { Arr(Vec<Json>), .. }`) sent by
//! a plugin could nest deep enough to overflow the host's stack, and a
//! list of empty values (`Vec<()>`) can claim 2^64 elements that take no
//! bytes and loop for ever. A [`Shape`] is a type descriptor compiled into
//! a small graph (recursion resolved to edges); [`Shape::check`] walks the
//! postcard bytes of a value of that type with an explicit stack, so it
//! neither recurses nor allocates in proportion to the input's nesting,
//! and refuses values nested deeper than a limit, lists longer than their
//! bytes allow and truncated input. Values it accepts decode with bounded
//! recursion (the limit times the frames per level of the host's own types).
//!
//! Types that can neither nest without bound nor hold lists of empty
//! values need no check ([`Shape::needs_check`]): their decoding is bounded
//! by the type itself.

use crate::schema::{FieldDesc, TypeDesc};
use alloc::vec::Vec;
use core::fmt;

/// Default for the deepest nesting accepted ([`Shape::check`]).
pub const DEFAULT_MAX_DEPTH: u32 = 128;

/// Most elements a list or map of values that may encode to no bytes may
/// claim (such elements cost the decoder time but no input).
pub const MAX_EMPTY_ELEMENTS: u64 = 1 << 16;

type Id = u32;

#[derive(Debug)]
enum Node {
    /// A value of exactly this many bytes (unit, bool, u8, i8, f32, f64).
    Fixed(u8),
    /// A varint of at most this many bytes.
    Varint(u8),
    /// A varint length and that many bytes (strings, chars).
    Bytes,
    Option(Id),
    List(Id),
    Map(Id, Id),
    Result(Id, Id),
    /// Values one after the other (tuples, struct fields, variant payloads).
    Seq(Vec<Id>),
    /// `[T; N]`: N values, no length.
    Array(Id, u32),
    /// A varint variant index and that variant's payload (a `Seq`).
    Enum(Vec<Id>),
    /// A reference the descriptor could not resolve: nothing decodes.
    Invalid,
}

/// A type, compiled for [`Shape::check`].
#[derive(Debug)]
pub struct Shape {
    nodes: Vec<Node>,
    root: Id,
    /// Whether values may nest without bound (the type refers to itself).
    recursive: bool,
    /// Deepest nesting of the type's values when it is not recursive.
    static_depth: u32,
    /// Whether it has a list or map whose elements may encode to no bytes.
    empty_repeats: bool,
    /// Per node: whether every value of it takes at least one byte.
    nonempty: Vec<bool>,
    /// Levels not counted against the limit (the tuple of an argument list).
    free_levels: u32,
}

/// Why encoded bytes were refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// Byte offset in the value.
    pub offset: usize,
    /// What was wrong.
    pub kind: ShapeErrorKind,
}

/// What was wrong with a value ([`ShapeError`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShapeErrorKind {
    /// Nested deeper than the limit.
    TooDeep {
        /// The limit.
        limit: u32,
    },
    /// The bytes end inside the value.
    Truncated,
    /// A list or map claims more elements than the bytes left can hold
    /// (or, for elements that may be empty, more than [`MAX_EMPTY_ELEMENTS`]).
    TooLong {
        /// The claimed element count.
        len: u64,
    },
    /// A varint longer than its type allows.
    BadVarint,
    /// An option tag or variant index out of range.
    BadTag,
    /// The type description refers to a type that does not enclose it.
    BadDescriptor,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ShapeErrorKind::TooDeep { limit } => {
                write!(f, "nested deeper than {limit} levels (at byte {})", self.offset)
            }
            ShapeErrorKind::Truncated => write!(f, "truncated at byte {}", self.offset),
            ShapeErrorKind::TooLong { len } => write!(
                f,
                "a list of {len} elements at byte {} is longer than the value can hold",
                self.offset
            ),
            ShapeErrorKind::BadVarint => write!(f, "malformed varint at byte {}", self.offset),
            ShapeErrorKind::BadTag => write!(f, "invalid tag at byte {}", self.offset),
            ShapeErrorKind::BadDescriptor => {
                write!(f, "the type refers to a type that does not enclose it")
            }
        }
    }
}

struct Builder<'t> {
    nodes: Vec<Node>,
    /// Enclosing structs and enums: name and node.
    scope: Vec<(&'t str, Id)>,
    recursive: bool,
}

impl<'t> Builder<'t> {
    fn push(&mut self, n: Node) -> Id {
        self.nodes.push(n);
        (self.nodes.len() - 1) as Id
    }

    /// Compiles `t`; returns its node and the depth of its values.
    fn ty(&mut self, t: &'t TypeDesc) -> (Id, u32) {
        use TypeDesc as T;
        let leaf = match t {
            T::Unit => Some(Node::Fixed(0)),
            T::Bool | T::U8 | T::I8 => Some(Node::Fixed(1)),
            T::F32 => Some(Node::Fixed(4)),
            T::F64 => Some(Node::Fixed(8)),
            T::U16 | T::I16 => Some(Node::Varint(3)),
            T::U32 | T::I32 => Some(Node::Varint(5)),
            T::U64 | T::I64 => Some(Node::Varint(10)),
            T::Char | T::String => Some(Node::Bytes),
            _ => None,
        };
        if let Some(n) = leaf {
            return (self.push(n), 0);
        }
        match t {
            T::Option(e) | T::List(e) => {
                let (e, d) = self.ty(e);
                let n = if matches!(t, T::Option(_)) { Node::Option(e) } else { Node::List(e) };
                (self.push(n), d + 1)
            }
            T::Map(a, b) | T::Result(a, b) => {
                let (a, da) = self.ty(a);
                let (b, db) = self.ty(b);
                let n = if matches!(t, T::Map(..)) { Node::Map(a, b) } else { Node::Result(a, b) };
                (self.push(n), da.max(db) + 1)
            }
            T::Tuple(ts) => {
                let (items, d) = self.all(ts.iter());
                (self.push(Node::Seq(items)), d + 1)
            }
            T::Array(e, n) => {
                let (e, d) = self.ty(e);
                (self.push(Node::Array(e, *n)), d + 1)
            }
            T::Struct(s) => {
                let id = self.push(Node::Invalid);
                self.scope.push((s.name, id));
                let (items, d) = self.fields(s.fields);
                self.scope.pop();
                self.nodes[id as usize] = Node::Seq(items);
                (id, d + 1)
            }
            T::Enum(e) => {
                let id = self.push(Node::Invalid);
                self.scope.push((e.name, id));
                let mut variants = Vec::with_capacity(e.variants.len());
                let mut depth = 0;
                for v in e.variants {
                    let (items, d) = self.fields(v.fields);
                    variants.push(self.push(Node::Seq(items)));
                    depth = depth.max(d + 1);
                }
                self.scope.pop();
                self.nodes[id as usize] = Node::Enum(variants);
                (id, depth)
            }
            T::Ref(name) => match self.scope.iter().rev().find(|(n, _)| n == name) {
                Some(&(_, id)) => {
                    self.recursive = true;
                    (id, 0)
                }
                None => (self.push(Node::Invalid), 0),
            },
            _ => unreachable!("leaves are handled above"),
        }
    }

    fn all(&mut self, ts: impl Iterator<Item = &'t TypeDesc>) -> (Vec<Id>, u32) {
        let mut depth = 0;
        let items = ts
            .map(|t| {
                let (id, d) = self.ty(t);
                depth = depth.max(d);
                id
            })
            .collect();
        (items, depth)
    }

    fn fields(&mut self, fs: &'t [FieldDesc]) -> (Vec<Id>, u32) {
        self.all(fs.iter().map(|f| &f.ty))
    }
}

impl Shape {
    /// The shape of values of type `t`.
    pub fn of(t: &TypeDesc) -> Shape {
        let mut b = Builder { nodes: Vec::new(), scope: Vec::new(), recursive: false };
        let (root, depth) = b.ty(t);
        Shape::finish(b, root, depth, 0)
    }

    /// The shape of an argument list: the tuple of the fields' types, as
    /// the calling convention encodes it. The tuple itself is not a level:
    /// the arguments nest as deep as each would alone.
    pub fn of_fields(fields: &[FieldDesc]) -> Shape {
        let mut b = Builder { nodes: Vec::new(), scope: Vec::new(), recursive: false };
        let (items, depth) = b.fields(fields);
        let root = b.push(Node::Seq(items));
        Shape::finish(b, root, depth, 1)
    }

    fn finish(b: Builder<'_>, root: Id, static_depth: u32, free_levels: u32) -> Shape {
        let nodes = b.nodes;
        // Which nodes always take bytes: a fixed point from "none", so that
        // values of a type that only refers to itself count as empty.
        let mut nonempty = alloc::vec![false; nodes.len()];
        loop {
            let mut changed = false;
            for (i, n) in nodes.iter().enumerate() {
                let v = match n {
                    Node::Fixed(k) => *k > 0,
                    Node::Varint(_)
                    | Node::Bytes
                    | Node::Option(_)
                    | Node::List(_)
                    | Node::Map(..)
                    | Node::Result(..)
                    | Node::Enum(_)
                    | Node::Invalid => true,
                    Node::Seq(items) => items.iter().any(|&j| nonempty[j as usize]),
                    Node::Array(e, len) => *len > 0 && nonempty[*e as usize],
                };
                if v && !nonempty[i] {
                    nonempty[i] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let empty_repeats = nodes.iter().any(|n| match n {
            Node::List(e) => !nonempty[*e as usize],
            Node::Map(k, v) => !nonempty[*k as usize] && !nonempty[*v as usize],
            _ => false,
        });
        Shape {
            nodes,
            root,
            recursive: b.recursive,
            static_depth,
            empty_repeats,
            nonempty,
            free_levels,
        }
    }

    /// Whether decoding a value of this type could recurse deeper than
    /// `max_depth` or loop without consuming input, so that values must go
    /// through [`Shape::check`] first.
    pub fn needs_check(&self, max_depth: u32) -> bool {
        self.recursive || self.empty_repeats || self.static_depth > max_depth
    }

    /// Checks that `bytes` start with a well-formed value of this type
    /// nested at most `max_depth` levels deep (each option, list, map,
    /// result, tuple, array, struct and non-empty variant is a level).
    /// Returns the length of the value.
    pub fn check(&self, bytes: &[u8], max_depth: u32) -> Result<usize, ShapeError> {
        let mut r = Cursor { bytes, at: 0 };
        let mut stack: Vec<Frame> = Vec::new();
        let mut next = Some(self.root);
        let frames = max_depth.saturating_add(self.free_levels) as usize;
        loop {
            let id = match next.take() {
                Some(id) => id,
                None => {
                    let Some(top) = stack.last_mut() else { return Ok(r.at) };
                    match top {
                        Frame::Items { seq, at } => {
                            let Node::Seq(items) = &self.nodes[*seq as usize] else {
                                unreachable!("item frames are opened on sequences")
                            };
                            match items.get(*at) {
                                Some(&id) => {
                                    *at += 1;
                                    id
                                }
                                None => {
                                    stack.pop();
                                    continue;
                                }
                            }
                        }
                        Frame::Repeat { elem, left } => {
                            if *left == 0 {
                                stack.pop();
                                continue;
                            }
                            *left -= 1;
                            *elem
                        }
                        Frame::Pairs { key, value, left, at_value } => {
                            if *at_value {
                                *at_value = false;
                                *value
                            } else if *left == 0 {
                                stack.pop();
                                continue;
                            } else {
                                *left -= 1;
                                *at_value = true;
                                *key
                            }
                        }
                    }
                }
            };
            let open = |stack: &mut Vec<Frame>, frame: Frame, at: usize| {
                if stack.len() >= frames {
                    return Err(ShapeError {
                        offset: at,
                        kind: ShapeErrorKind::TooDeep { limit: max_depth },
                    });
                }
                stack.push(frame);
                Ok(())
            };
            let start = r.at;
            match &self.nodes[id as usize] {
                Node::Fixed(n) => r.skip(*n as u64)?,
                Node::Varint(max) => {
                    r.varint(*max)?;
                }
                Node::Bytes => {
                    let n = r.varint(10)?;
                    r.skip(n)?;
                }
                Node::Option(e) => match r.byte()? {
                    0 => {}
                    1 => open(&mut stack, Frame::Repeat { elem: *e, left: 1 }, start)?,
                    _ => return r.fail(start, ShapeErrorKind::BadTag),
                },
                Node::Result(ok, err) => {
                    let elem = match r.varint(5)? {
                        0 => *ok,
                        1 => *err,
                        _ => return r.fail(start, ShapeErrorKind::BadTag),
                    };
                    open(&mut stack, Frame::Repeat { elem, left: 1 }, start)?;
                }
                Node::List(e) => {
                    let len = r.varint(10)?;
                    self.check_len(&r, start, len, self.nonempty[*e as usize])?;
                    if let Node::Fixed(size) = self.nodes[*e as usize] {
                        // Bytes, numbers: skipped at once.
                        r.skip(len.saturating_mul(size as u64))?;
                    } else if len > 0 {
                        open(&mut stack, Frame::Repeat { elem: *e, left: len }, start)?;
                    }
                }
                Node::Map(k, v) => {
                    let len = r.varint(10)?;
                    let nonempty = self.nonempty[*k as usize] || self.nonempty[*v as usize];
                    self.check_len(&r, start, len, nonempty)?;
                    if len > 0 {
                        let frame = Frame::Pairs { key: *k, value: *v, left: len, at_value: false };
                        open(&mut stack, frame, start)?;
                    }
                }
                Node::Seq(items) => {
                    if !items.is_empty() {
                        open(&mut stack, Frame::Items { seq: id, at: 0 }, start)?;
                    }
                }
                Node::Array(e, n) => {
                    if *n > 0 {
                        open(&mut stack, Frame::Repeat { elem: *e, left: *n as u64 }, start)?;
                    }
                }
                Node::Enum(variants) => {
                    let index = r.varint(5)?;
                    match variants.get(index as usize) {
                        Some(&payload) => next = Some(payload),
                        None => return r.fail(start, ShapeErrorKind::BadTag),
                    }
                }
                Node::Invalid => return r.fail(start, ShapeErrorKind::BadDescriptor),
            }
        }
    }

    fn check_len(
        &self,
        r: &Cursor<'_>,
        at: usize,
        len: u64,
        nonempty: bool,
    ) -> Result<(), ShapeError> {
        let room = if nonempty { (r.bytes.len() - r.at) as u64 } else { MAX_EMPTY_ELEMENTS };
        if len > room {
            return r.fail(at, ShapeErrorKind::TooLong { len });
        }
        Ok(())
    }
}

enum Frame {
    /// The items of a `Seq` node, from `at`.
    Items { seq: Id, at: usize },
    /// `left` more values of `elem`.
    Repeat { elem: Id, left: u64 },
    /// `left` more key/value pairs (`at_value`: the key of one was read).
    Pairs { key: Id, value: Id, left: u64, at_value: bool },
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn fail<T>(&self, offset: usize, kind: ShapeErrorKind) -> Result<T, ShapeError> {
        Err(ShapeError { offset, kind })
    }

    fn byte(&mut self) -> Result<u8, ShapeError> {
        let Some(&b) = self.bytes.get(self.at) else {
            return self.fail(self.at, ShapeErrorKind::Truncated);
        };
        self.at += 1;
        Ok(b)
    }

    fn skip(&mut self, n: u64) -> Result<(), ShapeError> {
        let left = (self.bytes.len() - self.at) as u64;
        if n > left {
            return self.fail(self.at, ShapeErrorKind::Truncated);
        }
        self.at += n as usize;
        Ok(())
    }

    /// A varint of at most `max` bytes (postcard's limit for its type).
    fn varint(&mut self, max: u8) -> Result<u64, ShapeError> {
        let start = self.at;
        let mut out = 0u64;
        for i in 0..max as u32 {
            let b = self.byte()?;
            out |= ((b & 0x7f) as u64).checked_shl(7 * i).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(out);
            }
        }
        self.fail(start, ShapeErrorKind::BadVarint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Schema;
    use crate::schema::{EnumDesc, VariantDesc};
    use alloc::vec;

    /// `enum Json { Null, Arr(Vec<Json>) }`, by hand.
    const JSON: TypeDesc = TypeDesc::Enum(&EnumDesc {
        name: "Json",
        variants: &[
            VariantDesc { name: "Null", fields: &[] },
            VariantDesc {
                name: "Arr",
                fields: &[FieldDesc { name: "0", ty: TypeDesc::List(&TypeDesc::Ref("Json")) }],
            },
        ],
    });

    /// `depth` levels of `Arr([..])` around a `Null`.
    fn nested(depth: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for _ in 0..depth {
            v.extend_from_slice(&[1, 1]);
        }
        v.push(0);
        v
    }

    #[test]
    fn recursion_is_bounded_without_recursing() {
        let shape = Shape::of(&JSON);
        assert!(shape.needs_check(128));
        // Each level is the variant's payload and the list: two levels.
        assert_eq!(shape.check(&nested(64), 128), Ok(129));
        let err = shape.check(&nested(65), 128).unwrap_err();
        assert_eq!(err.kind, ShapeErrorKind::TooDeep { limit: 128 });
        let err = shape.check(&nested(1_000_000), 128).unwrap_err();
        assert_eq!(err.kind, ShapeErrorKind::TooDeep { limit: 128 });
        assert_eq!(shape.check(&nested(3)[..5], 128).unwrap_err().kind, ShapeErrorKind::Truncated);
        // Lists cannot claim more elements than there are bytes.
        let err = shape.check(&[1, 0xff, 0xff, 0xff, 0xff, 0x0f], 128).unwrap_err();
        assert!(matches!(err.kind, ShapeErrorKind::TooLong { .. }), "{err}");
        assert_eq!(shape.check(&[2], 128).unwrap_err().kind, ShapeErrorKind::BadTag);
    }

    #[test]
    fn agrees_with_postcard_on_every_leaf_and_container() {
        type T = (
            (u8, i8, bool, u16, i16),
            (u32, i32, u64, i64, f32),
            (f64, char, alloc::string::String, Option<u32>, Vec<u16>, [u8; 3]),
            (alloc::collections::BTreeMap<alloc::string::String, i64>, Result<u8, ()>, ()),
        );
        let value: T = (
            (200, -5, true, 65535, -300),
            (u32::MAX, i32::MIN, u64::MAX, i64::MIN, 1.5),
            (2.5, 'é', "hello".into(), Some(7), vec![1, 300, 65535], [1, 2, 3]),
            ([("a".into(), -1), ("bc".into(), i64::MAX)].into(), Err(()), ()),
        );
        let bytes = crate::wire::encode(&value).unwrap();
        let shape = Shape::of(&T::TYPE);
        assert!(!shape.needs_check(128));
        assert_eq!(shape.check(&bytes, 128), Ok(bytes.len()));
        for cut in 0..bytes.len() {
            assert!(shape.check(&bytes[..cut], 128).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn lists_of_empty_values_are_bounded() {
        let shape = Shape::of(&<Vec<()>>::TYPE);
        assert!(shape.needs_check(128));
        assert_eq!(shape.check(&[3], 128), Ok(1));
        let huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        let err = shape.check(&huge, 128).unwrap_err();
        assert_eq!(err.kind, ShapeErrorKind::TooLong { len: u64::MAX });
    }

    #[test]
    fn argument_lists_are_tuples() {
        static PARAMS: [FieldDesc; 2] = [
            FieldDesc { name: "a", ty: TypeDesc::U32 },
            FieldDesc { name: "b", ty: TypeDesc::String },
        ];
        let bytes = crate::wire::encode(&(300u32, "xy")).unwrap();
        assert_eq!(Shape::of_fields(&PARAMS).check(&bytes, 128), Ok(bytes.len()));
        // The tuple is not a level: one argument nests as deep as alone.
        static ONE: [FieldDesc; 1] = [FieldDesc { name: "j", ty: TypeDesc::Ref("Json") }];
        static JSON_ARG: [FieldDesc; 1] = [FieldDesc { name: "j", ty: JSON }];
        let shape = Shape::of_fields(&JSON_ARG);
        assert_eq!(shape.check(&nested(64), 128), Ok(129));
        assert!(shape.check(&nested(65), 128).is_err());
        // A reference to no enclosing type decodes nothing.
        assert_eq!(
            Shape::of_fields(&ONE).check(&[0], 128).unwrap_err().kind,
            ShapeErrorKind::BadDescriptor
        );
    }
}
