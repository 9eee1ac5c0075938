//! Copy-on-write initial memory images.
//!
//! A module's active data segments are written once into an anonymous
//! in-memory file (`memfd`). Each instantiation maps that file privately
//! over the start of its new linear memory instead of copying the bytes:
//! instantiation costs one `mmap`, and a page is copied only when the
//! plugin first writes it. Instances never see each other's writes
//! (`MAP_PRIVATE`). A reservation the engine's pool keeps keeps its image
//! mapped (`reservation.rs`), so the next instance of the module maps
//! nothing.
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
use super::reservation::{ImageMark, next_image_id};
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
    /// Identifies the image in pooled reservations that still map it.
    id: u64,
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
        Ok(MemoryImage { file, len, id: next_image_id(), _slot: slot })
    }

    /// The image's mark: its unique id and mapped length.
    pub(crate) fn mark(&self) -> ImageMark {
        ImageMark { id: self.id, len: self.len }
    }

    /// The image's process-wide unique id (never reused).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The descriptor of the image file, to map privately.
    pub(crate) fn fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.file.as_raw_fd()
    }
}
