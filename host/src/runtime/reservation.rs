//! The address-space reservation behind a linear memory, and how it is
//! reset for reuse by the engine's pool (`pool.rs`).
//!
//! **Sandbox-critical.** A reservation handed to a new memory must read as
//! that memory's initial state: zeros, or exactly its module's
//! copy-on-write image, and nothing a previous user wrote.
//!
//! ```text
//! base        base+image.len     base+accessible            base+len
//! |<- image ->|<--- anonymous --->|<------- PROT_NONE -------->|
//! |<-------- read/write --------->|
//! ```
//!
//! The image part, when there is one, is a `MAP_PRIVATE` mapping of the
//! module's image file: `madvise(MADV_DONTNEED)` drops every page written
//! there and the next read sees the file again, so a reservation can be
//! reset with one `madvise` and keep its image mapped for the next instance
//! of the same module. Anonymous pages read as zeros after the same call.

use super::memory::OS_PAGE;
use crate::artifact::images::ImageSpan;
use std::sync::atomic::{AtomicU64, Ordering};

/// A copy-on-write image mapped over the start of a reservation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ImageMark {
    /// The image's process-wide unique id ([`next_image_id`]), never
    /// reused, so a reservation cannot mistake another image for its own.
    pub id: u64,
    /// Mapped bytes from the base (page multiple).
    pub len: usize,
}

static NEXT_IMAGE_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh image id.
pub(crate) fn next_image_id() -> u64 {
    NEXT_IMAGE_ID.fetch_add(1, Ordering::Relaxed)
}

/// `len` bytes of address space, `[0, accessible)` of it read/write.
pub(crate) struct Reservation {
    base: *mut u8,
    len: usize,
    accessible: usize,
    /// The image mapped over `[0, image.len)`, where `image.len <=
    /// accessible` always holds.
    image: Option<ImageMark>,
}

// SAFETY: the mapping is plain memory owned by this object alone; whoever
// holds it (a memory of one store, or the pool) serializes access.
unsafe impl Send for Reservation {}

impl Reservation {
    /// Reserves `len` bytes (a page multiple) with no access.
    pub fn new(len: usize) -> Result<Reservation, String> {
        // SAFETY: an anonymous private mapping with no access; no existing
        // memory is affected.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(format!("cannot reserve {len} bytes of address space for a memory"));
        }
        Ok(Reservation { base: base as *mut u8, len, accessible: 0, image: None })
    }

    /// No reservation at all (what a memory holds once its reservation
    /// went back to the pool).
    pub fn empty() -> Reservation {
        Reservation { base: std::ptr::null_mut(), len: 0, accessible: 0, image: None }
    }

    /// Base address.
    pub fn base(&self) -> *mut u8 {
        self.base
    }

    /// Reserved bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes from the base that are read/write.
    pub fn accessible(&self) -> usize {
        self.accessible
    }

    /// The image mapped at the base, if any.
    pub fn image(&self) -> Option<ImageMark> {
        self.image
    }

    /// Makes exactly `[0, to)` read/write (`to <= len`, a page multiple).
    /// Shrinking below the image unmaps it first.
    pub fn set_accessible(&mut self, to: usize) -> Result<(), String> {
        if to > self.len || !to.is_multiple_of(OS_PAGE) {
            return Err(format!("{to} bytes do not fit a reservation of {}", self.len));
        }
        if self.image.is_some_and(|i| i.len > to) {
            self.clear_image()?;
        }
        let (from, upto, prot) = if to > self.accessible {
            (self.accessible, to, libc::PROT_READ | libc::PROT_WRITE)
        } else {
            (to, self.accessible, libc::PROT_NONE)
        };
        if upto > from {
            // SAFETY: [from, upto) lies inside the reservation (checked
            // above: both ends are at most `len`).
            let r = unsafe { libc::mprotect(self.base.add(from) as *mut _, upto - from, prot) };
            if r != 0 {
                return Err("cannot change the protection of memory".into());
            }
        }
        self.accessible = to;
        Ok(())
    }

    /// Maps the image `id`, the `span` of `fd` (its `offset` an offset in
    /// the file), privately at `span.at`: up to the span's end the memory
    /// then reads as the image, zeros below `span.at`.
    /// `Ok(false)` when it could not be mapped and the range was put back
    /// as zeroed read/write memory; an error when even that failed (the
    /// reservation must then be dropped, not reused).
    pub fn map_image(&mut self, fd: i32, span: ImageSpan, id: u64) -> Result<bool, String> {
        let end = span.at.checked_add(span.len).and_then(|e| usize::try_from(e).ok());
        let Some(len) = end.filter(|&e| e <= self.accessible) else {
            return Err(format!(
                "an image of {} bytes at {} exceeds its memory",
                span.len, span.at
            ));
        };
        let mark = ImageMark { id, len };
        if self.image == Some(mark) {
            return Ok(true);
        }
        if self.image.is_some() {
            self.clear_image()?;
        }
        let at = self.base.wrapping_add(span.at as usize);
        // SAFETY: `[span.at, mark.len)` is inside the reservation's
        // read/write part (checked above), which this object owns; the
        // mapping is private, so writes never reach the file.
        if unsafe { map_fixed(at, span.len as usize, libc::MAP_PRIVATE, fd, span.offset) } {
            self.image = Some(mark);
            return Ok(true);
        }
        // A failed MAP_FIXED may already have unmapped the range: put
        // anonymous memory back so that the memory stays whole.
        // SAFETY: as above.
        if unsafe { map_fixed(self.base, mark.len, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) }
        {
            return Ok(false);
        }
        Err(format!("cannot map {} bytes of initial memory", mark.len))
    }

    /// Replaces the image, if any, with zeroed anonymous memory.
    pub fn clear_image(&mut self) -> Result<(), String> {
        let Some(mark) = self.image else { return Ok(()) };
        // SAFETY: `[0, mark.len)` is inside the read/write part of the
        // reservation (`image.len <= accessible`), owned by this object.
        if !unsafe {
            map_fixed(self.base, mark.len, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
        } {
            return Err(format!("cannot unmap {} bytes of initial memory", mark.len));
        }
        self.image = None;
        Ok(())
    }

    /// Gives every page back to the kernel and leaves `[0, keep)`
    /// accessible (reading zeros, or the image where it is mapped): the
    /// state of a fresh memory of `keep` bytes with that image. An error
    /// means the reservation's contents are unknown: drop it.
    pub fn reset(&mut self, keep: usize) -> Result<(), String> {
        if self.accessible > 0 {
            // SAFETY: `[0, accessible)` is inside the reservation, and
            // nothing uses it: its memory is gone.
            let r =
                unsafe { libc::madvise(self.base as *mut _, self.accessible, libc::MADV_DONTNEED) };
            if r != 0 {
                return Err("cannot reset memory".into());
            }
        }
        self.set_accessible(keep.min(self.accessible))
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: unmapping exactly our own reservation.
            unsafe {
                libc::munmap(self.base as *mut _, self.len);
            }
        }
    }
}

/// `mmap` read/write at exactly `base`; whether it succeeded.
///
/// # Safety
/// `[base, base + len)` must be a range the caller owns and may replace.
unsafe fn map_fixed(base: *mut u8, len: usize, flags: i32, fd: i32, offset: u64) -> bool {
    // SAFETY: forwarded to the caller.
    let p = unsafe {
        libc::mmap(
            base as *mut _,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            flags | libc::MAP_FIXED,
            fd,
            offset as libc::off_t,
        )
    };
    p == base as *mut _
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The permissions `/proc/self/maps` gives the page at `addr`.
    fn perms(addr: usize) -> String {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        for line in maps.lines() {
            let (range, rest) = line.split_once(' ').unwrap();
            let (lo, hi) = range.split_once('-').unwrap();
            let (lo, hi) =
                (usize::from_str_radix(lo, 16).unwrap(), usize::from_str_radix(hi, 16).unwrap());
            if (lo..hi).contains(&addr) {
                return rest[..4].to_string();
            }
        }
        panic!("{addr:#x} is not mapped")
    }

    #[test]
    fn reset_zeroes_and_protects_what_was_grown() {
        let mut r = Reservation::new(64 * OS_PAGE).unwrap();
        r.set_accessible(16 * OS_PAGE).unwrap();
        // SAFETY: the first 16 pages are read/write and ours.
        unsafe { std::ptr::write_bytes(r.base(), 0xAB, 16 * OS_PAGE) };
        r.reset(4 * OS_PAGE).unwrap();
        assert_eq!(r.accessible(), 4 * OS_PAGE);
        assert_eq!(perms(r.base() as usize + 3 * OS_PAGE), "rw-p");
        assert_eq!(perms(r.base() as usize + 4 * OS_PAGE), "---p");
        assert_eq!(perms(r.base() as usize + 15 * OS_PAGE), "---p");
        // SAFETY: the first 4 pages are still read/write.
        let kept = unsafe { std::slice::from_raw_parts(r.base(), 4 * OS_PAGE) };
        assert!(kept.iter().all(|&b| b == 0));
        r.set_accessible(16 * OS_PAGE).unwrap();
        // SAFETY: read/write again.
        let grown = unsafe { std::slice::from_raw_parts(r.base(), 16 * OS_PAGE) };
        assert!(grown.iter().all(|&b| b == 0));
    }
}
