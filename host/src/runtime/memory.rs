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

use crate::contract::vmctx::VMMemoryDefinition;
use crate::types::{MemoryType, WASM_PAGE_SIZE};

/// A linear memory owned by a store.
pub struct LinearMemory {
    base: *mut u8,
    reserved: usize,
    /// Maximum size in pages (declared max, capped by the store's limit).
    max_pages: u64,
    /// Bytes committed read/write. Equal to the definition's length; kept
    /// here too so that the memory can be accounted for after its owner's
    /// vmctx (where `def` points) is gone, as when instantiation fails.
    committed: usize,
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
    /// `limit_bytes`; fails when the initial size exceeds it.
    pub fn new(ty: MemoryType, limit_bytes: u64) -> Result<LinearMemory, String> {
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
        // SAFETY: an anonymous private mapping with no access; no existing
        // memory is affected.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                reserved,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(format!("cannot reserve {reserved} bytes of address space for a memory"));
        }
        let mut mem = LinearMemory {
            base: base as *mut u8,
            reserved,
            max_pages,
            committed: 0,
            def: std::ptr::null_mut(),
            owns_def: false,
            ty,
        };
        mem.commit(0, (ty.limits.min * WASM_PAGE_SIZE) as usize)?;
        mem.committed = (ty.limits.min * WASM_PAGE_SIZE) as usize;
        Ok(mem)
    }

    fn commit(&mut self, from: usize, to: usize) -> Result<(), String> {
        if to > from {
            // SAFETY: [from, to) lies inside our reservation (callers keep
            // `to <= max_pages * page size <= reserved`).
            let r = unsafe {
                libc::mprotect(
                    self.base.add(from) as *mut _,
                    to - from,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            };
            if r != 0 {
                return Err("cannot commit memory".into());
            }
        }
        Ok(())
    }

    /// Base address.
    pub fn base(&self) -> *mut u8 {
        self.base
    }

    /// Current length in bytes.
    pub fn len(&self) -> usize {
        // SAFETY: `def` is set at instantiation and outlives the memory's use.
        unsafe { (*self.def).length }
    }

    /// Bytes committed, without reading the definition (which may be gone
    /// when the instance that owned it failed to instantiate).
    pub(crate) fn committed(&self) -> usize {
        self.committed
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
        let (from, to) = ((old * WASM_PAGE_SIZE) as usize, (new * WASM_PAGE_SIZE) as usize);
        self.commit(from, to).ok()?;
        self.committed = to;
        // SAFETY: see `len`.
        unsafe { (*self.def).length = to };
        Some(old)
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: [base, base+len) is committed read/write memory.
        unsafe { std::slice::from_raw_parts(self.base, self.len()) }
    }

    /// The accessible bytes, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as `data`; `&mut self` gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.base, self.len()) }
    }

    /// The definition describing this memory's initial state.
    pub fn initial_definition(&self) -> VMMemoryDefinition {
        VMMemoryDefinition {
            base: self.base,
            length: (self.ty.limits.min * WASM_PAGE_SIZE) as usize,
        }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly our own reservation.
        unsafe {
            libc::munmap(self.base as *mut _, self.reserved);
        }
        if self.owns_def {
            // SAFETY: created by Box::into_raw in `Memory::new`.
            drop(unsafe { Box::from_raw(self.def) });
        }
    }
}
