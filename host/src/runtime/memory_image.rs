//! Copy-on-write initial memories, mapped from the artifact.
//!
//! The compiler lays out each defined memory's initial contents as a
//! page-aligned image in the artifact file (`artifact/images.rs`). Each
//! instantiation maps that part of the artifact's open file privately over
//! the start of its new linear memory instead of copying the bytes:
//! instantiation costs one `mmap`, and a page is copied only when the
//! plugin first writes it. Instances never see each other's writes, and
//! nothing reaches the file (`MAP_PRIVATE`). A reservation the engine's
//! pool keeps keeps its image mapped (`reservation.rs`), so the next
//! instance of the module maps nothing.

use super::reservation::next_image_id;
use crate::artifact::images::ImageSpan;
use crate::artifact::load::LoadedArtifact;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The initial contents of one defined memory, as part of a file to map.
pub struct MemoryImage<'a> {
    fd: BorrowedFd<'a>,
    /// Where it is in the file and in the memory.
    span: ImageSpan,
    /// Its process-wide unique id.
    id: u64,
}

/// The ids of a module's memory images (by defined-memory index), which
/// tell pooled reservations that still map one of them apart.
pub struct MemoryImages {
    ids: Vec<u64>,
}

impl MemoryImages {
    /// Fresh ids for the images of `artifact`'s defined memories.
    pub fn of(artifact: &LoadedArtifact) -> MemoryImages {
        MemoryImages {
            ids: artifact.metadata.memory_images.iter().map(|_| next_image_id()).collect(),
        }
    }

    /// The image of defined memory `index` in `artifact` (the one these
    /// ids were made for), if it has one.
    pub fn get<'a>(&self, artifact: &'a LoadedArtifact, index: usize) -> Option<MemoryImage<'a>> {
        let (fd, span) = artifact.memory_image(index)?;
        Some(MemoryImage { fd, span, id: *self.ids.get(index)? })
    }
}

impl MemoryImage<'_> {
    /// The image's process-wide unique id (never reused).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The descriptor of the file to map privately and the image's span
    /// (its `offset` in that file).
    pub(crate) fn source(&self) -> (i32, ImageSpan) {
        (self.fd.as_raw_fd(), self.span)
    }
}
