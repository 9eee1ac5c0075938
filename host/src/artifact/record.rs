//! Verification records: a cache's proof, under its key, that an entry's
//! bytes passed the full signature check and that the file has not changed
//! since.
//!
//! Checking an artifact's signature means reading and hashing every byte
//! of it (about 60 µs for a 600 KB artifact), which dominated a cold start
//! from the cache. Once an entry has been verified in full, the cache keeps
//! a small record beside it (`<entry>.ok`) that binds, under a key derived
//! from the cache's secret, the file's identity and change time
//! ([`FileStamp`]: device, inode, size, `ctime`) to the MAC in its trailer.
//! A later load whose `fstat` of the open file gives the same stamp skips
//! rehashing the code (it still reads and checks everything else).
//!
//! Why this is as strong as the MAC. The kernel sets a file's `ctime` to
//! the current time on every change to its bytes or metadata (`write`,
//! `truncate`, writes through a shared mapping, `chmod`, `chown`, `utimes`,
//! `rename`), and no unprivileged call sets it to anything else; a file
//! replaced by another has another inode or another `ctime`. So a file
//! whose stamp equals the recorded one holds the bytes that were hashed,
//! and a record cannot be forged without the key. Timestamps come from a
//! coarse clock (one tick, at most 10 ms), so a change within the same tick
//! as the last one would not move `ctime`: a record is written only for a
//! file whose `ctime` is at least [`SETTLED`] old and that did not change
//! while it was read, so any later change gets a later `ctime`. What this
//! does not defend against is what the MAC does not either: root, or the
//! cache's owner, who can read the key (see ARCHITECTURE.md, "Artifact
//! trust").

use super::sign::ArtifactKey;
use crate::contract::artifact::{SIGNATURE_LEN, SIGNATURE_MAC_OFFSET};
use std::os::unix::fs::MetadataExt;

/// A file's identity and last change, from `fstat` of the open file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    ctime_sec: i64,
    ctime_nsec: i64,
}

impl FileStamp {
    /// The stamp of the file `meta` describes.
    pub fn of(meta: &std::fs::Metadata) -> FileStamp {
        FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            ctime_sec: meta.ctime(),
            ctime_nsec: meta.ctime_nsec(),
        }
    }

    /// Whether the file last changed at least [`SETTLED`] ago (by the
    /// system clock; a `ctime` in the future is not settled).
    pub fn settled(&self) -> bool {
        let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) else {
            return false;
        };
        let now_ns = now.as_nanos() as i128;
        let ctime_ns = self.ctime_sec as i128 * 1_000_000_000 + self.ctime_nsec as i128;
        now_ns - ctime_ns >= SETTLED.as_nanos() as i128
    }

    fn to_bytes(self) -> [u8; 40] {
        let mut b = [0u8; 40];
        b[0..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16..24].copy_from_slice(&self.size.to_le_bytes());
        b[24..32].copy_from_slice(&self.ctime_sec.to_le_bytes());
        b[32..40].copy_from_slice(&self.ctime_nsec.to_le_bytes());
        b
    }
}

/// How long ago a file must have last changed for a record of it to be
/// written: ten ticks of the coarsest clock Linux stamps files with.
pub const SETTLED: std::time::Duration = std::time::Duration::from_millis(100);

/// First bytes of a record file.
const RECORD_MAGIC: [u8; 8] = *b"SCIONVR1";

/// Length of a record file:
///
/// ```text
/// offset  size  field
///      0     8  RECORD_MAGIC
///      8    40  FileStamp (dev, ino, size, ctime sec, ctime nsec; little-endian)
///     48    32  the MAC of the artifact's signature trailer
///     80    32  BLAKE3 keyed_hash(record key, bytes 0..80)
/// ```
pub const RECORD_LEN: usize = 112;

/// A verification record, as stored.
pub type Record = [u8; RECORD_LEN];

/// The MAC field of a signed file's trailer (`file_tail` ends the file).
pub fn trailer_mac(file_tail: &[u8]) -> Option<[u8; 32]> {
    let trailer = file_tail.get(file_tail.len().checked_sub(SIGNATURE_LEN)?..)?;
    trailer[SIGNATURE_MAC_OFFSET..].try_into().ok()
}

impl ArtifactKey {
    /// The record saying that the file with `stamp`, whose trailer holds
    /// `mac`, was verified.
    pub fn record(&self, stamp: FileStamp, mac: &[u8; 32]) -> Record {
        let mut r = [0u8; RECORD_LEN];
        r[0..8].copy_from_slice(&RECORD_MAGIC);
        r[8..48].copy_from_slice(&stamp.to_bytes());
        r[48..80].copy_from_slice(mac);
        let tag = self.record_tag(&r[..80]);
        r[80..].copy_from_slice(tag.as_bytes());
        r
    }

    /// Whether `record` is this key's record of the file with `stamp`
    /// whose trailer holds `mac`.
    pub fn check_record(&self, record: &[u8], stamp: FileStamp, mac: &[u8; 32]) -> bool {
        let Ok(record) = <&Record>::try_from(record) else { return false };
        let expected = self.record(stamp, mac);
        // Compare the tags in constant time (the rest is not secret).
        let stored = <[u8; 32]>::try_from(&record[80..]).unwrap();
        record[..80] == expected[..80]
            && blake3::Hash::from(stored)
                == blake3::Hash::from_bytes(expected[80..].try_into().unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(ctime_nsec: i64) -> FileStamp {
        FileStamp { dev: 1, ino: 2, size: 3, ctime_sec: 4, ctime_nsec }
    }

    #[test]
    fn records_bind_the_stamp_the_mac_and_the_key() {
        let key = ArtifactKey::from_bytes([3; 32]);
        let mac = [9u8; 32];
        let r = key.record(stamp(5), &mac);
        assert!(key.check_record(&r, stamp(5), &mac));
        assert!(!key.check_record(&r, stamp(6), &mac), "another ctime");
        assert!(!key.check_record(&r, stamp(5), &[8; 32]), "another trailer");
        assert!(!ArtifactKey::from_bytes([4; 32]).check_record(&r, stamp(5), &mac), "another key");
        for i in 0..RECORD_LEN {
            let mut bad = r;
            bad[i] ^= 1;
            assert!(!key.check_record(&bad, stamp(5), &mac), "flip at {i}");
        }
        assert!(!key.check_record(&r[..RECORD_LEN - 1], stamp(5), &mac));
        // Records are not artifact signatures: the derived key differs.
        assert_ne!(r[80..], key.signature(&r[..80])[SIGNATURE_MAC_OFFSET..]);
    }

    #[test]
    fn only_files_that_changed_long_enough_ago_are_settled() {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
        let at = |ago: std::time::Duration| {
            let t = now.saturating_sub(ago);
            FileStamp {
                ctime_sec: t.as_secs() as i64,
                ctime_nsec: t.subsec_nanos() as i64,
                ..stamp(0)
            }
        };
        assert!(at(std::time::Duration::from_secs(5)).settled());
        assert!(!at(std::time::Duration::from_millis(1)).settled());
        assert!(!FileStamp { ctime_sec: i64::MAX / 2_000_000_000, ..stamp(0) }.settled());
    }
}
