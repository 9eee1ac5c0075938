//! `add` and `roundtrip` as Extism exports: Extism passes bytes, so the
//! scalar call is 8 bytes in and 4 out, and the struct travels as postcard
//! like in Scion.

use extism_pdk::{FnResult, plugin_fn};

/// `a + b` from two little-endian i32s.
#[plugin_fn]
pub fn add(input: Vec<u8>) -> FnResult<Vec<u8>> {
    let a = i32::from_le_bytes(input[0..4].try_into()?);
    let b = i32::from_le_bytes(input[4..8].try_into()?);
    Ok(a.wrapping_add(b).to_le_bytes().to_vec())
}

/// Decodes a payload, touches it, encodes it.
#[plugin_fn]
pub fn roundtrip(input: Vec<u8>) -> FnResult<Vec<u8>> {
    let p: call_api::Payload = postcard::from_bytes(&input)?;
    Ok(postcard::to_allocvec(&call_api::touch(p))?)
}
