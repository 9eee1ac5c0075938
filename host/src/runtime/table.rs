//! Tables: growable arrays of 8-byte references.
//!
//! **Sandbox-critical.** The element pointer and length in the table's
//! `VMTableDefinition` are what generated code bounds-checks against; they
//! are updated on every change of the element buffer.

use crate::contract::vmctx::VMTableDefinition;
use crate::types::TableType;

/// A table owned by a store.
pub struct Table {
    elements: Vec<u64>,
    max: u64,
    /// The definition generated code reads.
    pub(crate) def: *mut VMTableDefinition,
    /// Whether `def` is a box owned by this table (host-created tables).
    pub(crate) owns_def: bool,
    /// Declared type.
    pub ty: TableType,
}

// SAFETY: owned data; access serialized by the store.
unsafe impl Send for Table {}

impl Table {
    /// A table of type `ty` filled with `init`, allowing at most
    /// `limit_elements`.
    pub fn new(ty: TableType, init: u64, limit_elements: u64) -> Result<Table, String> {
        let max = ty.limits.max.unwrap_or(u32::MAX as u64).min(limit_elements);
        if ty.limits.min > max {
            return Err(format!(
                "table needs {} elements initially but the limit is {max}",
                ty.limits.min
            ));
        }
        Ok(Table {
            elements: vec![init; ty.limits.min as usize],
            max,
            def: std::ptr::null_mut(),
            owns_def: false,
            ty,
        })
    }

    /// Points generated code at the current buffer.
    pub(crate) fn sync(&mut self) {
        if !self.def.is_null() {
            // SAFETY: `def` points into the owner's live vmctx.
            unsafe {
                (*self.def).base = self.elements.as_mut_ptr();
                (*self.def).length = self.elements.len();
            }
        }
    }

    /// The elements.
    pub fn elements(&self) -> &[u64] {
        &self.elements
    }

    /// The elements, mutably (length cannot change through this).
    pub fn elements_mut(&mut self) -> &mut [u64] {
        &mut self.elements
    }

    /// The most elements the table may grow to.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Number of elements.
    pub fn len(&self) -> u64 {
        self.elements.len() as u64
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Grows by `delta` elements set to `init`; returns the old size or `None`.
    pub fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.len();
        let new = old.checked_add(delta)?;
        if new > self.max {
            return None;
        }
        self.elements.try_reserve(delta as usize).ok()?;
        self.elements.resize(new as usize, init);
        self.sync();
        Some(old)
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        if self.owns_def {
            // SAFETY: created by Box::into_raw in `externs::Table::new`.
            drop(unsafe { Box::from_raw(self.def) });
        }
    }
}
