//! The generated clients over a transport that implements only the
//! required methods: scalar calls reach it through
//! `Transport::call_scalar_bits`' default, tagged with the declared types.

use scion_sdk::host::Transport;
use scion_sdk::interface;
use scion_sdk::schema::InterfaceDesc;
use scion_sdk::wire::{Scalar, ScalarValue, WireError};

/// Every scalar kind, through the client.
#[interface]
pub trait Kinds {
    /// i32 and f32 kinds in, an f64 out.
    fn mix(&self, a: u8, b: bool, c: char, d: f32) -> f64;
    /// An i64 kind in and out.
    fn wide(&self, v: u64) -> i64;
    /// A char out.
    fn letter(&self) -> char;
}

/// Answers from the tagged arguments it was given, and records them.
#[derive(Default)]
struct Recorder {
    seen: Vec<(String, Vec<Scalar>)>,
    letter: u32,
}

impl Transport for Recorder {
    type Error = WireError;
    fn check(&mut self, _: &'static InterfaceDesc) -> Result<(), WireError> {
        Ok(())
    }
    fn call(&mut self, _: &str, _: &str, _: &[u8]) -> Result<Vec<u8>, WireError> {
        Err(WireError("no serialized methods here".into()))
    }
    fn call_scalar(
        &mut self,
        _: &str,
        method: &str,
        args: &[Scalar],
        _: bool,
    ) -> Result<Option<Scalar>, WireError> {
        self.seen.push((method.to_string(), args.to_vec()));
        Ok(Some(match (method, args) {
            ("mix", [Scalar::I32(a), Scalar::I32(b), Scalar::I32(c), Scalar::F32(d)]) => {
                Scalar::F64(*a as f64 + *b as f64 + *c as f64 + *d as f64)
            }
            ("wide", [Scalar::I64(v)]) => Scalar::I64(v.wrapping_neg()),
            ("letter", []) => Scalar::I32(self.letter as i32),
            _ => return Err(WireError(format!("unexpected {method} {args:?}"))),
        }))
    }
}

#[test]
fn scalar_calls_are_tagged_with_their_declared_types() {
    let mut client =
        KindsClient::new(Recorder { letter: 'é' as u32, ..Default::default() }).unwrap();
    assert_eq!(client.mix(200, true, 'A', 0.5).unwrap(), 200.0 + 1.0 + 65.0 + 0.5);
    assert_eq!(client.wide(u64::MAX).unwrap(), 1);
    assert_eq!(client.letter().unwrap(), 'é');
    let seen = &client.transport().seen;
    assert_eq!(
        seen[0],
        ("mix".into(), vec![Scalar::I32(200), Scalar::I32(1), Scalar::I32(65), Scalar::F32(0.5)])
    );
    assert_eq!(seen[1], ("wide".into(), vec![Scalar::I64(-1)]));
}

#[test]
fn a_result_that_is_not_a_value_of_its_type_is_an_error() {
    // Not a Unicode scalar value: a surrogate.
    let mut client = KindsClient::new(Recorder { letter: 0xD800, ..Default::default() }).unwrap();
    let err = client.letter().unwrap_err();
    assert!(err.0.contains("returned a value of the wrong type"), "{}", err.0);
}

#[test]
fn bits_round_trip_and_ignore_what_is_above_the_type() {
    assert_eq!(i32::from_wasm_bits((-5i32).to_wasm_bits()), Some(-5));
    assert_eq!((-5i32).to_wasm_bits(), 0xffff_fffb, "an i32 is zero-extended");
    assert_eq!(u8::from_wasm_bits(0xdead_0000_0000_0007), Some(7));
    assert_eq!(bool::from_wasm_bits(0x1_0000_0000), Some(false), "only the low 32 bits count");
    assert_eq!(bool::from_wasm_bits(2), Some(true));
    assert_eq!(f32::from_wasm_bits(1.5f32.to_wasm_bits()), Some(1.5));
    assert_eq!(
        f64::from_wasm_bits((-0.0f64).to_wasm_bits()).map(f64::to_bits),
        Some((-0.0f64).to_wasm_bits())
    );
    assert_eq!(u64::from_wasm_bits(u64::MAX.to_wasm_bits()), Some(u64::MAX));
    assert_eq!(char::from_wasm_bits(0x1_0000_0041), Some('A'));
    assert_eq!(char::from_wasm_bits(0x11_0000), None);
}
