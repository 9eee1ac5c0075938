//! Linear memories: one reservation at the maximum size, committed as the
//! memory grows.
//!
//! **Sandbox-critical.** The committed length recorded in the memory's
//! `VMMemoryDefinition` is what every bounds check compares against.
//!
//! ```text
//! base                    base+length              base+reserved
//! |<---- read/write ----->|<------ PROT_NONE ------->|
//! ```
//!
//! The base never moves, so generated code may keep it in a register.
//! The reservation (`reservation.rs`) may come from the engine's pool of
//! dropped memories' reservations (`pool.rs`), reset to read as new, and
//! goes back there when the store is dropped.

use super::pool::MemoryPool;
use super::reservation::Reservation;
use crate::contract::vmctx::VMMemoryDefinition;
use crate::types::{MemoryType, WASM_PAGE_SIZE};

/// A linear memory owned by a store.
pub struct LinearMemory {
    /// The address space; its accessible bytes are the committed length.
    /// Kept apart from the definition so that the memory can be accounted
    /// for after its owner's vmctx (where `def` points) is gone, as when
    /// instantiation fails.
    reservation: Reservation,
    /// Maximum size in pages (declared max, capped by the store's limit).
    max_pages: u64,
    /// The definition generated code reads (inside the owner's vmctx, or
    /// `own_def` for memories not owned by an instance).
    pub(crate) def: *mut VMMemoryDefinition,
    /// Whether `def` is a box owned by this memory (host-created memories).
    pub(crate) owns_def: bool,
    /// The memory's declared type.
    pub ty: MemoryType,
}

// SAFETY: the mapping is plain memory owned by this object; access is
// serialized by the owning store (`&mut Store`).
unsafe impl Send for LinearMemory {}

/// The host's page size, the granularity of `mmap` and `mprotect`.
pub(crate) const OS_PAGE: usize = 4096;

impl LinearMemory {
    /// Reserves and commits a memory of type `ty`, allowing at most
    /// `limit_bytes`; fails when the initial size exceeds it. The
    /// reservation comes from `pool` when one there fits, preferably one
    /// with image `image` (a [`MemoryImage::id`]) already mapped; its
    /// contents are reset either way (see [`LinearMemory::take_image`]).
    ///
    /// [`MemoryImage::id`]: super::memory_image::MemoryImage::id
    pub(crate) fn new(
        ty: MemoryType,
        limit_bytes: u64,
        pool: Option<&MemoryPool>,
        image: Option<u64>,
    ) -> Result<LinearMemory, String> {
        let limit_pages = limit_bytes / WASM_PAGE_SIZE;
        let declared_max = ty.limits.max.unwrap_or(crate::types::MAX_WASM_PAGES);
        let max_pages = declared_max.min(limit_pages).min(crate::types::MAX_WASM_PAGES);
        if ty.limits.min > max_pages {
            return Err(format!(
                "memory needs {} bytes initially but the limit is {} bytes",
                ty.limits.min * WASM_PAGE_SIZE,
                limit_bytes.min(declared_max * WASM_PAGE_SIZE)
            ));
        }
        let reserved = ((max_pages * WASM_PAGE_SIZE) as usize).max(OS_PAGE);
        let initial = (ty.limits.min * WASM_PAGE_SIZE) as usize;
        let mut reservation = match pool.and_then(|p| p.take(reserved, image)) {
            Some(mut r) => {
                // Another module's image must not show through.
                if r.image().is_some_and(|m| Some(m.id) != image) {
                    r.clear_image()?;
                }
                r
            }
            None => Reservation::new(reserved)?,
        };
        reservation.set_accessible(initial)?;
        Ok(LinearMemory { reservation, max_pages, def: std::ptr::null_mut(), owns_def: false, ty })
    }

    /// Base address.
    pub fn base(&self) -> *mut u8 {
        self.reservation.base()
    }

    /// Current length in bytes.
    pub fn len(&self) -> usize {
        // SAFETY: `def` is set at instantiation and outlives the memory's use.
        unsafe { (*self.def).length }
    }

    /// Bytes committed, without reading the definition (which may be gone
    /// when the instance that owned it failed to instantiate).
    pub(crate) fn committed(&self) -> usize {
        self.reservation.accessible()
    }

    /// Whether the memory has zero length.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most pages the memory may grow to (declared maximum, capped by
    /// the limit it was created under).
    pub fn max_pages(&self) -> u64 {
        self.max_pages
    }

    /// Current size in pages.
    pub fn pages(&self) -> u64 {
        self.len() as u64 / WASM_PAGE_SIZE
    }

    /// Grows by `delta` pages; returns the old size in pages, or `None`
    /// when the maximum or the limit would be exceeded (memory unchanged).
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages {
            return None;
        }
        let to = (new * WASM_PAGE_SIZE) as usize;
        self.reservation.set_accessible(to).ok()?;
        // SAFETY: see `len`.
        unsafe { (*self.def).length = to };
        Some(old)
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: [base, base+len) is committed read/write memory.
        unsafe { std::slice::from_raw_parts(self.base(), self.len()) }
    }

    /// The accessible bytes, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as `data`; `&mut self` gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.base(), self.len()) }
    }

    /// The definition describing this memory's initial state.
    pub fn initial_definition(&self) -> VMMemoryDefinition {
        VMMemoryDefinition {
            base: self.base(),
            length: (self.ty.limits.min * WASM_PAGE_SIZE) as usize,
        }
    }

    /// Gives the memory's image `image` (mapping it, unless its
    /// reservation came from the pool with it mapped and reset). `Ok(false)`
    /// when it could not be mapped and the memory reads zeros instead.
    ///
    /// # Safety
    /// No code may be using the memory, and no reference to its bytes may
    /// be live.
    pub(crate) unsafe fn take_image(
        &mut self,
        image: &super::memory_image::MemoryImage<'_>,
    ) -> Result<bool, String> {
        let (fd, span) = image.source();
        self.reservation.map_image(fd, span, image.id())
    }

    /// Replaces a mapped image with zeros (an instantiation failed before
    /// its data segments were due, and the memory stays reachable).
    pub(crate) fn clear_image(&mut self) -> Result<(), String> {
        self.reservation.clear_image()
    }

    /// The reservation, for the pool; the memory is gone.
    pub(crate) fn release(mut self, pool: &MemoryPool) {
        let keep = (self.ty.limits.min * WASM_PAGE_SIZE) as usize;
        let r = std::mem::replace(&mut self.reservation, Reservation::empty());
        pool.give(r, keep);
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        if self.owns_def {
            // SAFETY: created by Box::into_raw in `Memory::new`.
            drop(unsafe { Box::from_raw(self.def) });
        }
    }
}
