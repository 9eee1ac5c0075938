//! Registers a loaded artifact's `.eh_frame` with the host's unwinder
//! (libgcc's `__register_frame`, which Rust's `std` uses on Linux), so
//! that backtraces taken in host functions a plugin called walk through
//! the plugin's frames into the host. The dynamic loader would find the
//! table through `PT_GNU_EH_FRAME`; Scion maps artifacts itself, so it
//! announces them the way JIT compilers do.

use super::check::Layout;

unsafe extern "C" {
    fn __register_frame(begin: *const u8);
    fn __deregister_frame(begin: *const u8);
}

/// Where `.eh_frame` starts in the mapped file `bytes`, found through the
/// `.eh_frame_hdr` the checks located, after checking that every entry's
/// length stays inside the read-only segment up to the zero terminator
/// libgcc stops at. `None` when there is no table or it is not one Scion
/// writes.
pub(crate) fn find_eh_frame(bytes: &[u8], layout: &Layout) -> Option<usize> {
    let (hdr, _) = layout.eh_frame_hdr?;
    let hdr = usize::try_from(hdr).ok()?;
    let head = bytes.get(hdr..hdr.checked_add(8)?)?;
    // The version and pointer encoding `eh_frame.rs` writes.
    if head[0] != super::eh_frame::HDR_VERSION || head[1] != super::eh_frame::PCREL_SDATA4.0 {
        return None;
    }
    let rel = i32::from_le_bytes(head[4..8].try_into().ok()?);
    let start = usize::try_from(hdr as i64 + 4 + i64::from(rel)).ok()?;
    let ro = layout.headers();
    let end = usize::try_from(ro.vaddr.checked_add(ro.filesz)?).ok()?.min(bytes.len());
    let mut at = start;
    loop {
        let len = u32::from_le_bytes(bytes.get(at..at.checked_add(4)?.min(end))?.try_into().ok()?);
        if len == 0 {
            return Some(start);
        }
        // 64-bit DWARF lengths are never written.
        if len == u32::MAX {
            return None;
        }
        at = at.checked_add(4)?.checked_add(len as usize)?;
        if at > end {
            return None;
        }
    }
}

/// A registered `.eh_frame`, deregistered when dropped.
pub(crate) struct FrameRegistration {
    begin: *const u8,
}

impl FrameRegistration {
    /// Registers the table at `begin`.
    ///
    /// # Safety
    /// `begin` is a `.eh_frame` that [`find_eh_frame`] accepted, in a
    /// mapping that outlives the returned value.
    pub(crate) unsafe fn new(begin: *const u8) -> FrameRegistration {
        // SAFETY: the caller guarantees a terminated table of entries
        // inside mapped memory that stays mapped while registered.
        unsafe { __register_frame(begin) };
        FrameRegistration { begin }
    }
}

impl Drop for FrameRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `new`, still mapped (the artifact drops
        // its registration before its mapping).
        unsafe { __deregister_frame(self.begin) };
    }
}
