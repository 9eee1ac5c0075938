//! The artifact format: what a Scion shared object exports and how the
//! runtime recognises one it can trust.
//!
//! An artifact is an ELF64 `ET_DYN` object exporting one data symbol,
//! [`DESCRIPTOR_SYMBOL`], which points at a [`Descriptor`]. Every other
//! location is an offset relative to the descriptor's own address, so the
//! object needs no relocations.

/// Name of the exported descriptor symbol.
pub const DESCRIPTOR_SYMBOL: &str = "scion_module_descriptor";

/// First eight bytes of every descriptor.
pub const MAGIC: [u8; 8] = *b"SCIONMOD";

/// Version of everything in [`super`]: bump on any change of the vmctx
/// layout, calling convention, trap codes, builtins or metadata encoding.
pub const FORMAT_VERSION: u32 = 4;

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
    /// [`checksum64`] of the metadata bytes followed by the text bytes.
    pub checksum: u64,
}

impl Descriptor {
    /// The descriptor's bytes as stored in the artifact (little-endian).
    pub fn to_bytes(&self) -> [u8; std::mem::size_of::<Descriptor>()] {
        let mut out = [0u8; std::mem::size_of::<Descriptor>()];
        out[0..8].copy_from_slice(&self.magic);
        out[8..12].copy_from_slice(&self.format_version.to_le_bytes());
        out[12..16].copy_from_slice(&self.reserved.to_le_bytes());
        out[16..24].copy_from_slice(&self.metadata_offset.to_le_bytes());
        out[24..32].copy_from_slice(&self.metadata_len.to_le_bytes());
        out[32..40].copy_from_slice(&self.text_offset.to_le_bytes());
        out[40..48].copy_from_slice(&self.text_len.to_le_bytes());
        out[48..56].copy_from_slice(&self.checksum.to_le_bytes());
        out
    }
}

/// A fast 64-bit checksum that detects accidental corruption (truncation,
/// bit flips) of artifacts. Not cryptographic: the cache directory's
/// permissions, not this, keep other users out.
pub fn checksum64(parts: &[&[u8]]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    // Four independent lanes over 32-byte blocks: the multiplications of
    // one block overlap, so loading a large artifact is not held up by a
    // serial dependency chain.
    let mut lanes: [u64; 4] = [
        0x243F_6A88_85A3_08D3,
        0x1319_8A2E_0370_7344,
        0xA409_3822_299F_31D0,
        0x082E_FA98_EC4E_6C89,
    ];
    let mut total = 0u64;
    for part in parts {
        let mut blocks = part.chunks_exact(32);
        for b in &mut blocks {
            for (i, lane) in lanes.iter_mut().enumerate() {
                let w = u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap());
                *lane = (*lane ^ w).wrapping_mul(K).rotate_left(29);
            }
        }
        for (i, &byte) in blocks.remainder().iter().enumerate() {
            let lane = &mut lanes[i % 4];
            *lane = (*lane ^ byte as u64).wrapping_mul(K).rotate_left(29);
        }
        total += part.len() as u64;
    }
    let h = lanes.iter().fold(total, |h, &l| (h ^ l).wrapping_mul(K).rotate_left(31));
    h ^ (h >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_layout_is_pinned() {
        assert_eq!(std::mem::size_of::<Descriptor>(), 56);
        assert_eq!(std::mem::offset_of!(Descriptor, metadata_offset), 16);
        assert_eq!(std::mem::offset_of!(Descriptor, text_offset), 32);
        assert_eq!(std::mem::offset_of!(Descriptor, checksum), 48);
    }

    #[test]
    fn checksum_sees_every_byte_and_the_length() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let base = checksum64(&[&data]);
        for i in [0, 7, 8, 500, 999] {
            let mut d = data.clone();
            d[i] ^= 1;
            assert_ne!(checksum64(&[&d]), base, "flip at {i}");
        }
        assert_ne!(checksum64(&[&data[..999]]), base);
        assert_ne!(checksum64(&[&[0u8; 16]]), checksum64(&[&[0u8; 8]]));
    }
}
