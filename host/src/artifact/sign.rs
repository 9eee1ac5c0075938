//! Artifact signatures: a keyed BLAKE3 MAC that proves a file is Scion's
//! own output for the cache (and so the user) whose key signed it.
//!
//! Every artifact Scion writes, into the cache or with
//! `Module::compile_to_file`, ends with a trailer (layout in
//! [`crate::contract::artifact::SIGNATURE_LEN`]) holding a MAC of every byte
//! before it under the cache's secret key. The key is 32 random bytes
//! created with the cache directory, readable only by its owner
//! (`Cache::open`). A file whose MAC does not verify was not written by
//! Scion for this cache: it is recompiled (cache) or refused (explicit
//! load), and none of it is mapped.
//!
//! BLAKE3 in keyed mode is a PRF, so a MAC under a secret 256-bit key
//! cannot be forged without the key; the comparison is constant-time
//! (`blake3::Hash`'s `PartialEq`). It runs at about 9 GB/s on one core with
//! AVX-512.

use crate::contract::artifact::{
    KEY_ID_CONTEXT, RECORD_KEY_CONTEXT, SIGNATURE_LEN, SIGNATURE_MAC_OFFSET, SIGNATURE_MAGIC,
    SIGNATURE_VERSION,
};

/// A cache's secret signing key.
#[derive(Clone)]
pub struct ArtifactKey {
    key: [u8; 32],
    id: [u8; 8],
    /// Derived from `key`, for verification records (`super::record`), so
    /// no record tag is ever a valid artifact MAC or the reverse.
    record_key: [u8; 32],
}

impl std::fmt::Debug for ArtifactKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        f.debug_struct("ArtifactKey").field("id", &hex(&self.id)).finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl ArtifactKey {
    /// Length of a key in bytes.
    pub const LEN: usize = 32;

    /// The key with these bytes.
    pub fn from_bytes(key: [u8; 32]) -> ArtifactKey {
        let derived = blake3::derive_key(KEY_ID_CONTEXT, &key);
        let id = derived[..8].try_into().unwrap();
        let record_key = blake3::derive_key(RECORD_KEY_CONTEXT, &key);
        ArtifactKey { key, id, record_key }
    }

    /// A new random key (from `getrandom(2)`).
    pub fn generate() -> std::io::Result<ArtifactKey> {
        let mut key = [0u8; 32];
        let mut filled = 0;
        while filled < key.len() {
            // SAFETY: writes at most `key.len() - filled` bytes into `key`
            // from `filled` on.
            let n = unsafe {
                libc::getrandom(key[filled..].as_mut_ptr().cast(), key.len() - filled, 0)
            };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            filled += n as usize;
        }
        Ok(ArtifactKey::from_bytes(key))
    }

    /// The key's bytes (to store it).
    pub(crate) fn secret(&self) -> &[u8; 32] {
        &self.key
    }

    /// The key id written in signatures (derived from the key; reveals
    /// nothing about it).
    pub fn id(&self) -> [u8; 8] {
        self.id
    }

    /// The trailer to append to `artifact` (the unsigned bytes).
    pub fn signature(&self, artifact: &[u8]) -> [u8; SIGNATURE_LEN] {
        let mut trailer = [0u8; SIGNATURE_LEN];
        trailer[0..8].copy_from_slice(&SIGNATURE_MAGIC);
        trailer[8..12].copy_from_slice(&SIGNATURE_VERSION.to_le_bytes());
        trailer[16..24].copy_from_slice(&self.id);
        let mac = self.mac(artifact, &trailer[..SIGNATURE_MAC_OFFSET]);
        trailer[SIGNATURE_MAC_OFFSET..].copy_from_slice(mac.as_bytes());
        trailer
    }

    /// The tag of a verification record's fields.
    pub(super) fn record_tag(&self, fields: &[u8]) -> blake3::Hash {
        blake3::keyed_hash(&self.record_key, fields)
    }

    fn mac(&self, artifact: &[u8], trailer_head: &[u8]) -> blake3::Hash {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(artifact);
        h.update(trailer_head);
        h.finalize()
    }

    /// Checks the signature of a whole file; returns the length of the
    /// artifact before its trailer.
    pub fn verify(&self, file: &[u8]) -> Result<usize, String> {
        let Some(len) = signed_len(file) else {
            return Err("not signed by Scion (no signature trailer: written by another \
                        program, or by a Scion from before signatures)"
                .into());
        };
        let trailer = &file[len..];
        let version = u32::from_le_bytes(trailer[8..12].try_into().unwrap());
        if version != SIGNATURE_VERSION || trailer[12..16] != [0; 4] {
            return Err(format!(
                "signature version {version} (this Scion writes {SIGNATURE_VERSION})"
            ));
        }
        if trailer[16..24] != self.id {
            return Err(format!(
                "signed with another key (id {}, this cache's is {}): written for another \
                 user or another cache directory",
                hex(&trailer[16..24]),
                hex(&self.id)
            ));
        }
        let stored = <[u8; 32]>::try_from(&trailer[SIGNATURE_MAC_OFFSET..]).unwrap();
        // `blake3::Hash` compares in constant time.
        if self.mac(&file[..len], &trailer[..SIGNATURE_MAC_OFFSET]) != blake3::Hash::from(stored) {
            return Err(
                "signature does not match: the file was changed after Scion wrote it".into()
            );
        }
        Ok(len)
    }
}

/// The length of the artifact before its signature trailer, if the file
/// ends with one.
pub fn signed_len(file: &[u8]) -> Option<usize> {
    let len = file.len().checked_sub(SIGNATURE_LEN)?;
    file[len..].starts_with(&SIGNATURE_MAGIC).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_catch_every_change() {
        let key = ArtifactKey::from_bytes([7; 32]);
        let artifact: Vec<u8> = (0..5000u32).map(|i| (i * 13) as u8).collect();
        let mut file = artifact.clone();
        file.extend_from_slice(&key.signature(&artifact));
        assert_eq!(key.verify(&file), Ok(artifact.len()));
        for i in [0, 1, 4999, 5000 + 9, 5000 + 16, 5000 + 30, file.len() - 1] {
            let mut f = file.clone();
            f[i] ^= 1;
            assert!(key.verify(&f).is_err(), "flip at {i}");
        }
        let other = ArtifactKey::from_bytes([8; 32]);
        let err = other.verify(&file).unwrap_err();
        assert!(err.contains("another key"), "{err}");
        let err = key.verify(&artifact).unwrap_err();
        assert!(err.contains("not signed"), "{err}");
        assert!(key.verify(&[]).is_err());
        // The MAC is keyed: the same bytes under another key differ.
        assert_ne!(key.signature(&artifact)[24..], other.signature(&artifact)[24..]);
    }

    #[test]
    fn generated_keys_differ() {
        let (a, b) = (ArtifactKey::generate().unwrap(), ArtifactKey::generate().unwrap());
        assert_ne!(a.secret(), b.secret());
        assert!(!format!("{a:?}").contains(&hex(a.secret())));
    }
}
