//! Where the native stack that wasm runs on begins and ends.
//!
//! **Sandbox-critical.** Every wasm prologue compares `rsp` with the
//! store's stack limit, so the limit must lie inside the stack the call is
//! running on, whatever that stack is: the thread's own (from pthread), one
//! the host declared with [`with_native_stack`] (a coroutine or fiber
//! stack), or, failing both, the mapping that contains the stack pointer
//! (read once per region from `/proc/self/maps`).

use std::cell::Cell;
use std::ops::Range;

thread_local! {
    /// The thread's own stack, from pthread (empty if unknown).
    static THREAD_STACK: Range<usize> = thread_stack();
    /// The innermost stack the host declared on this thread.
    static DECLARED: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
    /// The last region found in `/proc/self/maps`.
    static DETECTED: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
    /// The region [`region_of`] found last, while it is the answer the
    /// full search would give for any stack pointer inside it: set only
    /// when no stack is declared or the region is the declared one, and
    /// cleared whenever the declared stack changes. Every call into wasm
    /// asks, so this is the one lookup most calls make.
    static LAST: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// Runs `f` with calls into wasm on this thread treated as running on the
/// native stack `stack` (lowest to one past the highest address) whenever
/// the stack pointer is inside it. Hosts that call wasm on coroutine,
/// fiber or green-thread stacks use this so that deep wasm recursion traps
/// with `StackOverflow` before it leaves that stack.
///
/// Without it Scion finds such a stack from the memory mapping that
/// contains the stack pointer, which is right for stacks mapped on their
/// own (with a guard page below) but too generous for a stack carved out
/// of a larger allocation.
///
/// # Safety
/// Every address in `stack` below the stack pointer at the time of each
/// call into wasm inside `f` must be memory of the running stack that is
/// free to be used by that call.
pub unsafe fn with_native_stack<R>(stack: Range<usize>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<(usize, usize)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            DECLARED.with(|d| d.set(self.0));
            LAST.with(|l| l.set((0, 0)));
        }
    }
    let _restore = Restore(DECLARED.with(|d| d.replace(Some((stack.start, stack.end)))));
    LAST.with(|l| l.set((0, 0)));
    f()
}

/// The native stack region containing `sp`, if it can be found.
#[inline]
pub(crate) fn region_of(sp: usize) -> Option<Range<usize>> {
    let last = LAST.with(Cell::get);
    if last.0 < sp && sp <= last.1 {
        return Some(last.0..last.1);
    }
    search(sp)
}

/// [`region_of`] without the shortcut: the declared stack, the thread's
/// own, the last mapping found, or a new search of the mappings.
#[cold]
fn search(sp: usize) -> Option<Range<usize>> {
    let inside = |r: (usize, usize)| (r.0 < sp && sp <= r.1).then_some(r.0..r.1);
    let declared = DECLARED.with(Cell::get);
    let found = match declared.and_then(inside) {
        Some(r) => r,
        None => match THREAD_STACK.with(|t| inside((t.start, t.end))) {
            Some(r) => r,
            None => match DETECTED.with(Cell::get).and_then(inside) {
                Some(r) => r,
                None => {
                    let found = mapping_containing(sp)?;
                    DETECTED.with(|d| d.set(Some((found.start, found.end))));
                    found
                }
            },
        },
    };
    // Outside a declared stack, a region found in the thread's stack or
    // the mappings is only right while that stack is not entered.
    if declared.is_none() || declared.and_then(inside).is_some() {
        LAST.with(|l| l.set((found.start, found.end)));
    }
    Some(found)
}

fn thread_stack() -> Range<usize> {
    // SAFETY: standard pthread queries on the current thread with a local
    // attribute object that is destroyed afterwards.
    unsafe {
        let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
            return 0..0;
        }
        let mut addr = std::ptr::null_mut();
        let mut size = 0usize;
        let r = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size);
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        if r == 0 { addr as usize..(addr as usize).saturating_add(size) } else { 0..0 }
    }
}

/// The readable and writable mapping of this process containing `addr`.
fn mapping_containing(addr: usize) -> Option<Range<usize>> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (lo, hi) = fields.next()?.split_once('-')?;
        let perms = fields.next()?;
        let range = usize::from_str_radix(lo, 16).ok()?..usize::from_str_radix(hi, 16).ok()?;
        (range.start < addr && addr <= range.end && perms.starts_with("rw")).then_some(range)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_thread_stack_and_a_mapped_one() {
        let marker = 0u8;
        let sp = &marker as *const u8 as usize;
        let r = region_of(sp).expect("the thread's stack");
        assert!(r.contains(&sp));
        let heap = vec![0u8; 1 << 20];
        let inside = heap.as_ptr() as usize + (1 << 19);
        let r = region_of(inside).expect("a mapping");
        assert!(r.contains(&inside));
        // SAFETY: nothing calls wasm inside.
        let declared =
            unsafe { with_native_stack(inside - 4096..inside + 4096, || region_of(inside)) };
        assert_eq!(declared, Some(inside - 4096..inside + 4096));
        assert_eq!(region_of(inside), Some(r));
    }
}
