//! Copy-on-write initial memory images.
//!
//! A module's active data segments are written once into an anonymous
//! in-memory file (`memfd`). Each instantiation maps that file privately
//! over the start of its new linear memory instead of copying the bytes:
//! instantiation costs one `mmap`, and a page is copied only when the
//! plugin first writes it. Instances never see each other's writes
//! (`MAP_PRIVATE`).
//!
//! Images are used only when instantiation cannot trap in the middle of
//! data initialisation: every active segment has a constant offset, targets
//! a memory the module defines, and lies within that memory's initial size.
//! Otherwise segments are copied one by one, so a trap leaves exactly the
//! earlier segments written, as the spec requires.

use std::fs::File;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::memory::OS_PAGE;
use crate::info::{DataMode, ModuleInfo};
use crate::types::WASM_PAGE_SIZE;

/// Below this many bytes of data a memory's segments are simply copied:
/// one `mmap` (and the later copy-on-write faults) costs more than
/// copying a few pages.
const MIN_IMAGE_BYTES: usize = 16 * 1024;

/// Each image holds a file descriptor for as long as its module lives; a
/// host with very many modules must not run out of descriptors because of
/// us, so beyond this many live images segments are copied instead.
const MAX_LIVE_IMAGES: usize = 256;

static LIVE_IMAGES: AtomicUsize = AtomicUsize::new(0);

/// One of the [`MAX_LIVE_IMAGES`] places, given back when dropped.
struct LiveSlot;

impl LiveSlot {
    fn take() -> std::io::Result<LiveSlot> {
        if LIVE_IMAGES.fetch_add(1, Ordering::Relaxed) >= MAX_LIVE_IMAGES {
            LIVE_IMAGES.fetch_sub(1, Ordering::Relaxed);
            return Err(std::io::Error::other(format!("{MAX_LIVE_IMAGES} images already live")));
        }
        Ok(LiveSlot)
    }
}

impl Drop for LiveSlot {
    fn drop(&mut self) {
        LIVE_IMAGES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The initial contents of one defined memory, as a file to map.
pub struct MemoryImage {
    file: File,
    /// Mapped length: the end of the last segment, rounded up to a page.
    len: usize,
    _slot: LiveSlot,
}

/// Images of a module's defined memories (by defined-memory index).
pub struct MemoryImages {
    images: Vec<Option<MemoryImage>>,
}

impl MemoryImages {
    /// Builds the images for `info`; `None` when data initialisation could
    /// trap or write an imported memory (segments are then copied in order).
    pub fn build(info: &ModuleInfo) -> Option<MemoryImages> {
        let imported = info.imported_memories as usize;
        let defined = &info.memories[imported..];
        // (offset, segment index) of each active segment, per defined memory.
        let mut placed: Vec<Vec<(usize, usize)>> = vec![Vec::new(); defined.len()];
        for (i, seg) in info.datas.iter().enumerate() {
            let DataMode::Active { memory, offset } = &seg.mode else { continue };
            let d = (*memory as usize).checked_sub(imported)?;
            let at = offset.evaluate(|_| None, |_| None)? as u32 as usize;
            let end = at.checked_add(seg.bytes.len())?;
            if end as u64 > defined[d].limits.min * WASM_PAGE_SIZE {
                return None;
            }
            placed[d].push((at, i));
        }
        let images = placed
            .iter()
            .map(|segs| {
                let bytes: usize = segs.iter().map(|&(_, i)| info.datas[i].bytes.len()).sum();
                if bytes < MIN_IMAGE_BYTES {
                    return None;
                }
                MemoryImage::write(segs.iter().map(|&(at, i)| (at, &info.datas[i].bytes[..])))
                    .map_err(|e| log::debug!("no memory image ({e}); data segments are copied"))
                    .ok()
            })
            .collect();
        Some(MemoryImages { images })
    }

    /// The image of defined memory `index`, if it has one.
    pub fn get(&self, index: usize) -> Option<&MemoryImage> {
        self.images.get(index)?.as_ref()
    }
}

impl MemoryImage {
    /// Writes the segments, in order (later ones overwrite earlier ones),
    /// into a new anonymous file.
    fn write<'a>(
        segments: impl Iterator<Item = (usize, &'a [u8])> + Clone,
    ) -> std::io::Result<Self> {
        let slot = LiveSlot::take()?;
        let end = segments.clone().map(|(at, b)| at + b.len()).max().unwrap_or(0);
        let len = end.div_ceil(OS_PAGE) * OS_PAGE;
        // SAFETY: the name is a NUL-terminated literal; the flags ask for a
        // close-on-exec descriptor.
        let fd = unsafe { libc::memfd_create(c"scion-memory-image".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and is owned by nobody else.
        let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        file.set_len(len as u64)?;
        for (at, bytes) in segments {
            file.write_all_at(bytes, at as u64)?;
        }
        Ok(MemoryImage { file, len, _slot: slot })
    }

    /// Maps the image privately over `[base, base + len)`, replacing what
    /// was there. `Ok(false)` when the image could not be mapped and the
    /// range was given back as zeroed read/write memory (the caller then
    /// copies the segments); an error when even that failed.
    ///
    /// # Safety
    /// `base` must start a read/write committed region of at least the
    /// image's length that belongs to a memory no code is using yet.
    pub unsafe fn map_over(&self, base: *mut u8) -> Result<bool, String> {
        use std::os::fd::AsRawFd;
        let fd = self.file.as_raw_fd();
        // SAFETY: the caller guarantees the range is ours to replace; the
        // mapping is private, so writes never reach the shared file.
        if unsafe { map_fixed(base, self.len, libc::MAP_PRIVATE, fd) } {
            return Ok(true);
        }
        // A failed MAP_FIXED may already have unmapped the range: put
        // anonymous memory back so that the memory stays whole.
        // SAFETY: as above.
        if unsafe { map_fixed(base, self.len, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1) } {
            return Ok(false);
        }
        Err(format!("cannot map {} bytes of initial memory", self.len))
    }
}

/// `mmap` read/write at exactly `base`; whether it succeeded.
///
/// # Safety
/// `[base, base + len)` must be a range the caller owns and may replace.
unsafe fn map_fixed(base: *mut u8, len: usize, flags: i32, fd: i32) -> bool {
    // SAFETY: forwarded to the caller.
    let p = unsafe {
        libc::mmap(
            base as *mut _,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            flags | libc::MAP_FIXED,
            fd,
            0,
        )
    };
    p == base as *mut _
}
