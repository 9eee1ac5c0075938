//! Values crossing between host and wasm: the dynamic [`Val`], the raw
//! 16-byte slot format of entry trampolines, and the traits behind typed
//! calls.

use super::func::Func;
use crate::types::ValType;

/// One value slot as entry trampolines and host-call adapters read and
/// write it (`contract::abi::VALUE_SLOT_SIZE` bytes, little-endian).
#[repr(C, align(16))]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct ValRaw(pub [u64; 2]);

impl ValRaw {
    /// A slot holding a 64-bit pattern.
    pub fn from_u64(v: u64) -> ValRaw {
        ValRaw([v, 0])
    }
    /// A slot holding a 128-bit pattern.
    pub fn from_u128(v: u128) -> ValRaw {
        ValRaw([v as u64, (v >> 64) as u64])
    }
    /// All 128 bits.
    pub fn u128(self) -> u128 {
        self.0[0] as u128 | (self.0[1] as u128) << 64
    }
    /// The low 64 bits.
    pub fn u64(self) -> u64 {
        self.0[0]
    }
    /// The low 32 bits.
    pub fn u32(self) -> u32 {
        self.0[0] as u32
    }
}

/// An opaque reference to host data, carried by `externref` values.
///
/// Scion stores the 32-bit payload as given; the host decides what it means
/// (an index into its own table, a handle...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExternRef(pub u32);

impl ExternRef {
    /// The raw form: payload + 1, so that 0 stays the null reference.
    pub fn to_raw(r: Option<ExternRef>) -> u64 {
        r.map_or(0, |r| r.0 as u64 + 1)
    }
    /// From the raw form.
    pub fn from_raw(raw: u64) -> Option<ExternRef> {
        (raw != 0).then(|| ExternRef((raw - 1) as u32))
    }
}

/// A dynamically typed wasm value. Floats are kept as bits so that NaN
/// payloads survive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    /// i32
    I32(i32),
    /// i64
    I64(i64),
    /// f32, as its bit pattern
    F32(u32),
    /// f64, as its bit pattern
    F64(u64),
    /// v128, lane 0 in the low bits
    V128(u128),
    /// funcref (`None` is null)
    FuncRef(Option<Func>),
    /// externref (`None` is null)
    ExternRef(Option<ExternRef>),
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// An f32 value.
    pub fn f32(v: f32) -> Val {
        Val::F32(v.to_bits())
    }

    /// An f64 value.
    pub fn f64(v: f64) -> Val {
        Val::F64(v.to_bits())
    }

    /// The zero (or null) value of a type.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
        }
    }

    /// Checks that a reference in this value belongs to the store with id
    /// `store_id`. **Sandbox-critical:** a function of another store would
    /// run under this store's context (and outlive its own store), so every
    /// place a value enters a store checks this first.
    pub(crate) fn check_store(&self, store_id: u64, what: &str) -> crate::Result<()> {
        match self {
            Val::FuncRef(Some(f)) if f.store_id() != store_id => {
                Err(crate::Error::Usage(format!("{what} is a function of another store")))
            }
            _ => Ok(()),
        }
    }

    /// The raw slot form. Funcrefs become pointers to their `VMFuncRef`.
    pub fn to_raw(&self) -> ValRaw {
        match *self {
            Val::I32(v) => ValRaw::from_u64(v as u32 as u64),
            Val::I64(v) => ValRaw::from_u64(v as u64),
            Val::F32(b) => ValRaw::from_u64(b as u64),
            Val::F64(b) => ValRaw::from_u64(b),
            Val::V128(b) => ValRaw::from_u128(b),
            Val::FuncRef(f) => ValRaw::from_u64(f.map_or(0, |f| f.raw_funcref() as u64)),
            Val::ExternRef(r) => ValRaw::from_u64(ExternRef::to_raw(r)),
        }
    }

    /// Reads a raw slot of type `ty`. Funcrefs are attributed to `store_id`.
    pub fn from_raw(raw: ValRaw, ty: ValType, store_id: u64) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw.u32() as i32),
            ValType::I64 => Val::I64(raw.u64() as i64),
            ValType::F32 => Val::F32(raw.u32()),
            ValType::F64 => Val::F64(raw.u64()),
            ValType::V128 => Val::V128(raw.u128()),
            ValType::FuncRef => Val::FuncRef(Func::from_raw_funcref(store_id, raw.u64())),
            ValType::ExternRef => Val::ExternRef(ExternRef::from_raw(raw.u64())),
        }
    }
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Val::I32(v) => write!(f, "{v}"),
            Val::I64(v) => write!(f, "{v}"),
            Val::F32(b) => write!(f, "{}", f32::from_bits(b)),
            Val::F64(b) => write!(f, "{}", f64::from_bits(b)),
            Val::V128(b) => write!(f, "{b:#034x}"),
            Val::FuncRef(None) | Val::ExternRef(None) => f.write_str("null"),
            Val::FuncRef(Some(_)) => f.write_str("funcref"),
            Val::ExternRef(Some(r)) => write!(f, "externref({})", r.0),
        }
    }
}

/// A Rust type that is a wasm value type.
pub trait WasmTy: Copy + Send + Sync + 'static {
    /// The wasm type.
    const TYPE: ValType;
    /// Into a raw slot.
    fn into_raw(self) -> ValRaw;
    /// From a raw slot.
    fn from_raw(raw: ValRaw) -> Self;
}

macro_rules! wasm_ty {
    ($t:ty, $vt:ident, |$s:ident| $to:expr, |$r:ident| $from:expr) => {
        impl WasmTy for $t {
            const TYPE: ValType = ValType::$vt;
            fn into_raw(self) -> ValRaw {
                let $s = self;
                ValRaw::from_u64($to)
            }
            fn from_raw($r: ValRaw) -> Self {
                $from
            }
        }
    };
}

wasm_ty!(i32, I32, |v| v as u32 as u64, |r| r.u32() as i32);
wasm_ty!(u32, I32, |v| v as u64, |r| r.u32());
wasm_ty!(i64, I64, |v| v as u64, |r| r.u64() as i64);
wasm_ty!(u64, I64, |v| v, |r| r.u64());
wasm_ty!(f32, F32, |v| v.to_bits() as u64, |r| f32::from_bits(r.u32()));
wasm_ty!(f64, F64, |v| v.to_bits(), |r| f64::from_bits(r.u64()));
wasm_ty!(Option<ExternRef>, ExternRef, |v| ExternRef::to_raw(v), |r| ExternRef::from_raw(r.u64()));

/// A list of wasm values with static types: `()`, one value, or a tuple.
pub trait WasmList: Sized + Send {
    /// The wasm types, in order.
    fn types() -> Vec<ValType>;
    /// Writes the values into slots.
    fn write(self, out: &mut [ValRaw]);
    /// Reads the values from slots.
    fn read(slots: &[ValRaw]) -> Self;
}

/// Parameter lists of typed calls.
pub trait WasmParams: WasmList {}
impl<T: WasmList> WasmParams for T {}

/// Result lists of typed calls.
pub trait WasmResults: WasmList {}
impl<T: WasmList> WasmResults for T {}

impl WasmList for () {
    fn types() -> Vec<ValType> {
        vec![]
    }
    fn write(self, _: &mut [ValRaw]) {}
    fn read(_: &[ValRaw]) -> Self {}
}

impl<T: WasmTy> WasmList for T {
    fn types() -> Vec<ValType> {
        vec![T::TYPE]
    }
    fn write(self, out: &mut [ValRaw]) {
        out[0] = self.into_raw();
    }
    fn read(slots: &[ValRaw]) -> Self {
        T::from_raw(slots[0])
    }
}

macro_rules! tuples {
    ($($t:ident $i:tt),+) => {
        impl<$($t: WasmTy),+> WasmList for ($($t,)+) {
            fn types() -> Vec<ValType> {
                vec![$($t::TYPE),+]
            }
            fn write(self, out: &mut [ValRaw]) {
                $(out[$i] = self.$i.into_raw();)+
            }
            fn read(slots: &[ValRaw]) -> Self {
                ($($t::from_raw(slots[$i]),)+)
            }
        }
    };
}

tuples!(A 0);
tuples!(A 0, B 1);
tuples!(A 0, B 1, C 2);
tuples!(A 0, B 1, C 2, D 3);
tuples!(A 0, B 1, C 2, D 3, E 4);
tuples!(A 0, B 1, C 2, D 3, E 4, F 5);
tuples!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuples!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuples!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuples!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
