//! The wire format of calls: postcard for serialized methods, raw wasm
//! values for scalar ones.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A scalar argument or result (the wasm value it travels as).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// i32 (also `u32`, `i8`..`u16`, `bool`, `char`)
    I32(i32),
    /// i64 (also `u64`)
    I64(i64),
    /// f32
    F32(f32),
    /// f64
    F64(f64),
}

/// A value that travels as a [`Scalar`].
pub trait ScalarValue: Sized {
    /// Into the wire form.
    fn to_scalar(self) -> Scalar;
    /// From the wire form; `None` when the kind does not match.
    fn from_scalar(s: Scalar) -> Option<Self>;
    /// The bits of its wasm value (an `i32` or `f32` in the low 32).
    fn to_wasm_bits(self) -> u64 {
        self.to_scalar().to_bits()
    }
    /// From the bits of its wasm value; `None` when they are not a value
    /// of the type (a `char` outside Unicode).
    fn from_wasm_bits(bits: u64) -> Option<Self>;
}

impl Scalar {
    /// The scalar of schema type `ty` whose wasm value has these bits;
    /// `None` when `ty` is not a scalar type.
    pub fn from_bits(ty: &crate::schema::TypeDesc, bits: u64) -> Option<Scalar> {
        use crate::schema::TypeDesc as T;
        Some(match ty {
            T::Bool | T::U8 | T::U16 | T::U32 | T::I8 | T::I16 | T::I32 | T::Char => {
                Scalar::I32(bits as u32 as i32)
            }
            T::U64 | T::I64 => Scalar::I64(bits as i64),
            T::F32 => Scalar::F32(f32::from_bits(bits as u32)),
            T::F64 => Scalar::F64(f64::from_bits(bits)),
            _ => return None,
        })
    }

    /// The bits of the wasm value (an `i32` or `f32` in the low 32).
    pub fn to_bits(self) -> u64 {
        match self {
            Scalar::I32(v) => v as u32 as u64,
            Scalar::I64(v) => v as u64,
            Scalar::F32(v) => v.to_bits() as u64,
            Scalar::F64(v) => v.to_bits(),
        }
    }
}

macro_rules! scalar {
    ($($t:ty => $k:ident as $w:ty),* $(,)?) => {$(
        impl ScalarValue for $t {
            fn to_scalar(self) -> Scalar {
                Scalar::$k(self as $w)
            }
            fn from_scalar(s: Scalar) -> Option<Self> {
                match s {
                    Scalar::$k(v) => Some(v as $t),
                    _ => None,
                }
            }
            fn to_wasm_bits(self) -> u64 {
                Scalar::$k(self as $w).to_bits()
            }
            fn from_wasm_bits(bits: u64) -> Option<Self> {
                Self::from_scalar(Scalar::$k(<$w as FromBits>::from_bits(bits)))
            }
        }
    )*};
}

scalar!(i32 => I32 as i32, u32 => I32 as i32, i16 => I32 as i32, u16 => I32 as i32, i8 => I32 as i32,
        u8 => I32 as i32, i64 => I64 as i64, u64 => I64 as i64, f32 => F32 as f32, f64 => F64 as f64);

impl ScalarValue for bool {
    fn to_scalar(self) -> Scalar {
        Scalar::I32(self as i32)
    }
    fn from_scalar(s: Scalar) -> Option<Self> {
        match s {
            Scalar::I32(v) => Some(v != 0),
            _ => None,
        }
    }
    fn from_wasm_bits(bits: u64) -> Option<Self> {
        Some(bits as u32 != 0)
    }
}

impl ScalarValue for char {
    fn to_scalar(self) -> Scalar {
        Scalar::I32(self as i32)
    }
    fn from_scalar(s: Scalar) -> Option<Self> {
        match s {
            Scalar::I32(v) => char::from_u32(v as u32),
            _ => None,
        }
    }
    fn from_wasm_bits(bits: u64) -> Option<Self> {
        char::from_u32(bits as u32)
    }
}

/// A wasm value type read back from the low bits of a `u64`.
trait FromBits {
    fn from_bits(bits: u64) -> Self;
}

impl FromBits for i32 {
    fn from_bits(bits: u64) -> i32 {
        bits as u32 as i32
    }
}

impl FromBits for i64 {
    fn from_bits(bits: u64) -> i64 {
        bits as i64
    }
}

impl FromBits for f32 {
    fn from_bits(bits: u64) -> f32 {
        f32::from_bits(bits as u32)
    }
}

impl FromBits for f64 {
    fn from_bits(bits: u64) -> f64 {
        f64::from_bits(bits)
    }
}

/// A scalar's wasm-level representation, used by the glue the macros
/// generate on the plugin side.
pub trait WasmScalar: Copy {
    /// The wasm value type (`i32`, `i64`, `f32` or `f64`).
    type Wasm: Copy;
    /// Into the wasm value.
    fn into_wasm(self) -> Self::Wasm;
    /// From the wasm value.
    fn from_wasm(w: Self::Wasm) -> Self;
}

macro_rules! wasm_scalar {
    ($($t:ty => $w:ty),* $(,)?) => {$(
        impl WasmScalar for $t {
            type Wasm = $w;
            fn into_wasm(self) -> $w {
                self as $w
            }
            fn from_wasm(w: $w) -> $t {
                w as $t
            }
        }
    )*};
}

wasm_scalar!(i32 => i32, u32 => i32, i16 => i32, u16 => i32, i8 => i32, u8 => i32, i64 => i64, u64 => i64,
             f32 => f32, f64 => f64);

impl WasmScalar for bool {
    type Wasm = i32;
    fn into_wasm(self) -> i32 {
        self as i32
    }
    fn from_wasm(w: i32) -> bool {
        w != 0
    }
}

impl WasmScalar for char {
    type Wasm = i32;
    fn into_wasm(self) -> i32 {
        self as i32
    }
    fn from_wasm(w: i32) -> char {
        char::from_u32(w as u32).expect("the host passed an invalid char")
    }
}

/// A value that could not be encoded or decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError(pub String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Encodes a value with postcard.
pub fn encode<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, WireError> {
    let out = Output(Vec::with_capacity(FIRST_CAPACITY));
    postcard::serialize_with_flavor(value, out)
        .map_err(|e| WireError(alloc::format!("cannot encode: {e}")))
}

/// Bytes an encoding starts with room for: most messages fit, so the
/// buffer is rarely grown (each growth copies what is written).
const FIRST_CAPACITY: usize = 256;

/// Where [`encode`] writes. Postcard writes a value a few bytes at a
/// time (a varint, a length, a short string); copying each of those
/// with `memcpy` (`memory.copy` in a plugin, a call into the host's
/// runtime) costs more than the bytes, so short runs are pushed.
struct Output(Vec<u8>);

impl postcard::ser_flavors::Flavor for Output {
    type Output = Vec<u8>;

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        if data.len() <= 16 {
            self.0.reserve(data.len());
            for &b in data {
                self.0.push(b);
            }
        } else {
            self.0.extend_from_slice(data);
        }
        Ok(())
    }

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Vec<u8>> {
        Ok(self.0)
    }
}

/// Decodes a value with postcard; the whole input must be consumed.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    let (value, rest) = postcard::take_from_bytes(bytes)
        .map_err(|e| WireError(alloc::format!("cannot decode: {e}")))?;
    if !rest.is_empty() {
        return Err(WireError(alloc::format!("{} bytes left over after decoding", rest.len())));
    }
    Ok(value)
}

/// Packs a buffer address and length into the i64 a serialized call returns.
pub fn pack(ptr: u32, len: u32) -> i64 {
    ((ptr as u64) << 32 | len as u64) as i64
}

/// Unpacks what [`pack`] made.
pub fn unpack(v: i64) -> (u32, u32) {
    ((v as u64 >> 32) as u32, v as u32)
}
