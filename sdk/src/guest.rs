//! The guest runtime, linked into every plugin built for `wasm32`.

use alloc::alloc::{Layout, alloc, dealloc};

/// Allocates a host-writable buffer (export [`crate::abi::ALLOC_EXPORT`]).
#[unsafe(no_mangle)]
pub extern "C" fn scion_alloc(len: u32) -> *mut u8 {
    match Layout::from_size_align(len.max(1) as usize, crate::abi::BUFFER_ALIGN) {
        // SAFETY: the layout has a nonzero size.
        Ok(layout) => unsafe { alloc(layout) },
        Err(_) => core::ptr::null_mut(),
    }
}

/// Frees a buffer from [`scion_alloc`] (export [`crate::abi::FREE_EXPORT`]).
///
/// # Safety
/// `ptr` must come from `scion_alloc(len)` and not be freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scion_free(ptr: *mut u8, len: u32) {
    if ptr.is_null() {
        return;
    }
    let layout = Layout::from_size_align(len.max(1) as usize, crate::abi::BUFFER_ALIGN)
        .expect("same layout as at allocation");
    // SAFETY: the caller passes a pointer and length from `scion_alloc`.
    unsafe { dealloc(ptr, layout) }
}
