//! The artifact format: what a Scion shared object exports and how the
//! runtime recognises one it can trust.
//!
//! An artifact is an ELF64 `ET_DYN` object exporting one data symbol,
//! [`DESCRIPTOR_SYMBOL`], which points at a [`Descriptor`]. Every other
//! location is an offset relative to the descriptor's own address, so the
//! object needs no relocations.
//!
//! After the ELF object comes a [signature trailer](SIGNATURE_LEN): a
//! keyed BLAKE3 MAC of every byte before it, under the secret key of the
//! cache that wrote it (`artifact::sign`). The trailer lies outside every
//! loaded segment, so the dynamic loader never maps it.

/// Name of the exported descriptor symbol.
pub const DESCRIPTOR_SYMBOL: &str = "scion_module_descriptor";

/// First eight bytes of every descriptor.
pub const MAGIC: [u8; 8] = *b"SCIONMOD";

/// Version of everything in [`super`]: bump on any change of the vmctx
/// layout, calling convention, trap codes, builtins or metadata encoding.
pub const FORMAT_VERSION: u32 = 10;

/// Version of the compiler: the package version and a hash of the sources
/// that determine generated code (see `build.rs`); part of every cache key.
pub const COMPILER_VERSION: &str =
    concat!(env!("CARGO_PKG_VERSION"), "+", env!("SCION_COMPILER_HASH"));

/// The descriptor at [`DESCRIPTOR_SYMBOL`].
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descriptor {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Reserved, zero.
    pub reserved: u32,
    /// Offset of the serialized metadata from the descriptor.
    pub metadata_offset: i64,
    /// Length of the serialized metadata.
    pub metadata_len: u64,
    /// Offset of the text section from the descriptor.
    pub text_offset: i64,
    /// Length of the text section.
    pub text_len: u64,
}

impl Descriptor {
    /// The descriptor's bytes as stored in the artifact (little-endian).
    pub fn to_bytes(self) -> [u8; std::mem::size_of::<Descriptor>()] {
        let mut out = [0u8; std::mem::size_of::<Descriptor>()];
        out[0..8].copy_from_slice(&self.magic);
        out[8..12].copy_from_slice(&self.format_version.to_le_bytes());
        out[12..16].copy_from_slice(&self.reserved.to_le_bytes());
        out[16..24].copy_from_slice(&self.metadata_offset.to_le_bytes());
        out[24..32].copy_from_slice(&self.metadata_len.to_le_bytes());
        out[32..40].copy_from_slice(&self.text_offset.to_le_bytes());
        out[40..48].copy_from_slice(&self.text_len.to_le_bytes());
        out
    }

    /// Reads a descriptor from the bytes [`Descriptor::to_bytes`] wrote.
    pub fn from_bytes(b: &[u8; std::mem::size_of::<Descriptor>()]) -> Descriptor {
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        Descriptor {
            magic: b[0..8].try_into().unwrap(),
            format_version: u32_at(8),
            reserved: u32_at(12),
            metadata_offset: u64_at(16) as i64,
            metadata_len: u64_at(24),
            text_offset: u64_at(32) as i64,
            text_len: u64_at(40),
        }
    }
}

/// First eight bytes of the signature trailer.
pub const SIGNATURE_MAGIC: [u8; 8] = *b"SCIONSIG";

/// Version of the signature trailer's layout and MAC.
pub const SIGNATURE_VERSION: u32 = 1;

/// Length of the signature trailer, the last bytes of every artifact file
/// Scion writes:
///
/// ```text
/// offset  size  field
///      0     8  SIGNATURE_MAGIC
///      8     4  SIGNATURE_VERSION (little-endian)
///     12     4  reserved, zero
///     16     8  key id: the first 8 bytes of BLAKE3 derive_key(KEY_ID_CONTEXT, key)
///     24    32  MAC: BLAKE3 keyed_hash(key, every byte of the file before this field)
/// ```
///
/// The key id only tells "signed with another key" apart from "modified";
/// it reveals nothing about the key.
pub const SIGNATURE_LEN: usize = 56;

/// Offset of the MAC inside the trailer.
pub const SIGNATURE_MAC_OFFSET: usize = 24;

/// BLAKE3 `derive_key` context of the key id.
pub const KEY_ID_CONTEXT: &str = "scion 2025 artifact signing key id";

/// BLAKE3 `derive_key` context of the key that tags the cache's
/// verification records (`artifact::record`).
pub const RECORD_KEY_CONTEXT: &str = "scion 2026 artifact verification record key";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_layout_is_pinned() {
        assert_eq!(std::mem::size_of::<Descriptor>(), 48);
        assert_eq!(std::mem::offset_of!(Descriptor, metadata_offset), 16);
        assert_eq!(std::mem::offset_of!(Descriptor, text_offset), 32);
        assert_eq!(std::mem::offset_of!(Descriptor, text_len), 40);
        assert_eq!(SIGNATURE_MAC_OFFSET + 32, SIGNATURE_LEN);
    }

    #[test]
    fn descriptor_round_trips() {
        let d = Descriptor {
            magic: MAGIC,
            format_version: FORMAT_VERSION,
            reserved: 0,
            metadata_offset: -5,
            metadata_len: 7,
            text_offset: 1 << 40,
            text_len: 3,
        };
        assert_eq!(Descriptor::from_bytes(&d.to_bytes()), d);
    }
}
