//! Implementations of the builtins generated code calls (see
//! `contract::builtins`), and the table of their addresses.
//!
//! **Sandbox-critical.** Every range is checked with 64-bit arithmetic
//! before memory or table contents are touched; out-of-range requests trap
//! without changing anything, as the spec requires.

use super::instance::InstanceData;
use super::range::{checked_range, in_chunks};
use super::trap::TrapCode;
use super::values::ValRaw;
use crate::contract::vmctx::VMContextHeader;
use std::ops::Range;

/// Addresses of the builtins, in the order of `Builtin::ALL`.
#[repr(C)]
pub struct BuiltinTable {
    memory_grow: unsafe extern "C" fn(*mut u8, u32, u32) -> u32,
    memory_fill: unsafe extern "C" fn(*mut u8, u32, u32, u32, u32) -> u32,
    memory_copy: unsafe extern "C" fn(*mut u8, u32, u32, u32, u32, u32) -> u32,
    memory_init: unsafe extern "C" fn(*mut u8, u32, u32, u32, u32, u32) -> u32,
    data_drop: unsafe extern "C" fn(*mut u8, u32),
    table_grow: unsafe extern "C" fn(*mut u8, u32, u64, u32) -> u32,
    table_fill: unsafe extern "C" fn(*mut u8, u32, u32, u64, u32) -> u32,
    table_copy: unsafe extern "C" fn(*mut u8, u32, u32, u32, u32, u32) -> u32,
    table_init: unsafe extern "C" fn(*mut u8, u32, u32, u32, u32, u32) -> u32,
    elem_drop: unsafe extern "C" fn(*mut u8, u32),
    host_call: unsafe extern "C" fn(*mut u8, u32, *mut ValRaw) -> u32,
    yield_point: unsafe extern "C" fn(*mut u8) -> u32,
}

/// The table every vmctx points to.
pub static BUILTIN_TABLE: BuiltinTable = BuiltinTable {
    memory_grow,
    memory_fill,
    memory_copy,
    memory_init,
    data_drop,
    table_grow,
    table_fill,
    table_copy,
    table_init,
    elem_drop,
    host_call,
    yield_point,
};

/// # Safety
/// `vmctx` must be the vmctx of a live instance, called from its code.
unsafe fn instance<'a>(vmctx: *mut u8) -> &'a mut InstanceData {
    // SAFETY: forwarded from the caller.
    unsafe { InstanceData::from_vmctx(vmctx) }
}

fn trap(vmctx: *mut u8, code: TrapCode) -> u32 {
    // SAFETY: the header's store pointer is valid while its code runs.
    unsafe { (*(*(vmctx as *mut VMContextHeader)).store).trap_code = code as u32 };
    1
}

/// Whether a deadline or an interrupt asks the running call to stop; bulk
/// operations look between chunks so that a timeout lands inside one.
fn interrupted(vmctx: *mut u8) -> bool {
    // SAFETY: the header's store pointer is valid while its code runs; the
    // flag is atomic.
    let vm = unsafe { &*(*(vmctx as *mut VMContextHeader)).store };
    vm.interrupt.load(std::sync::atomic::Ordering::Relaxed) != 0
}

/// `[start, start + len)` inside `size`, or the trap status for `code`.
fn range_or_trap(
    vmctx: *mut u8,
    code: TrapCode,
    start: u32,
    len: u32,
    size: u64,
) -> Result<Range<usize>, u32> {
    checked_range(start as u64, len as u64, size).ok_or_else(|| trap(vmctx, code))
}

/// Runs a bulk operation over `range` chunk by chunk; traps `Interrupted`
/// when an interrupt arrives part-way (what was done stays done, as for
/// any trap).
fn bulk(
    vmctx: *mut u8,
    range: Range<usize>,
    backwards: bool,
    step: impl FnMut(Range<usize>),
) -> u32 {
    if in_chunks(range, backwards, || interrupted(vmctx), step) {
        0
    } else {
        trap(vmctx, TrapCode::Interrupted)
    }
}

unsafe extern "C" fn memory_grow(vmctx: *mut u8, mem: u32, delta: u32) -> u32 {
    // SAFETY: called by generated code of a live instance.
    let inst = unsafe { instance(vmctx) };
    let index = inst.memories[mem as usize];
    // SAFETY: the store outlives its instances; nothing else uses it while
    // this builtin runs.
    let store = unsafe { &mut *inst.store };
    store.grow_memory(index, delta as u64).map_or(u32::MAX, |old| old as u32)
}

unsafe extern "C" fn memory_fill(vmctx: *mut u8, mem: u32, dst: u32, val: u32, len: u32) -> u32 {
    // SAFETY: as above; the only reference to the memory during this
    // builtin.
    let m = unsafe { instance(vmctx).memory_mut(mem) };
    let range = match range_or_trap(vmctx, TrapCode::MemoryOutOfBounds, dst, len, m.len() as u64) {
        Ok(r) => r,
        Err(status) => return status,
    };
    let data = m.data_mut();
    bulk(vmctx, range, false, |c| data[c].fill(val as u8))
}

/// Longest copy done by [`copy_small`]: compiled Rust copies short runs
/// (a varint, a small string) with `memory.copy`, many times per call.
const SMALL_COPY: usize = 16;

/// Copies `len <= SMALL_COPY` bytes from `src` to `dst`, which may overlap:
/// everything is read before anything is written, in at most two
/// (possibly overlapping) words, without a call to `memmove`.
///
/// # Safety
/// `src..src+len` must be readable and `dst..dst+len` writable.
#[inline(always)]
unsafe fn copy_small(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY (block): every access lies in `src..src+len` or
    // `dst..dst+len` (the second word of each pair ends at the end of the
    // range, the first starts at its start; `len` is at least the word
    // size in each branch). Unaligned accesses are used throughout.
    unsafe {
        if len >= 8 {
            let a = (src as *const u64).read_unaligned();
            let b = (src.add(len - 8) as *const u64).read_unaligned();
            (dst as *mut u64).write_unaligned(a);
            (dst.add(len - 8) as *mut u64).write_unaligned(b);
        } else if len >= 4 {
            let a = (src as *const u32).read_unaligned();
            let b = (src.add(len - 4) as *const u32).read_unaligned();
            (dst as *mut u32).write_unaligned(a);
            (dst.add(len - 4) as *mut u32).write_unaligned(b);
        } else if len >= 2 {
            let a = (src as *const u16).read_unaligned();
            let b = (src.add(len - 2) as *const u16).read_unaligned();
            (dst as *mut u16).write_unaligned(a);
            (dst.add(len - 2) as *mut u16).write_unaligned(b);
        } else if len == 1 {
            dst.write(src.read());
        }
    }
}

unsafe extern "C" fn memory_copy(
    vmctx: *mut u8,
    dmem: u32,
    smem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: as above.
    let inst = unsafe { instance(vmctx) };
    let (d, s) = (inst.memory(dmem), inst.memory(smem));
    let oob = TrapCode::MemoryOutOfBounds;
    let dr = range_or_trap(vmctx, oob, dst, len, d.len() as u64);
    let sr = range_or_trap(vmctx, oob, src, len, s.len() as u64);
    let (dr, sr) = match (dr, sr) {
        (Ok(d), Ok(s)) => (d, s),
        (Err(status), _) | (_, Err(status)) => return status,
    };
    let (dbase, sbase) = (d.base(), s.base());
    if len as usize <= SMALL_COPY {
        // SAFETY: both ranges are in bounds of committed memory (checked
        // above).
        unsafe { copy_small(sbase.add(sr.start), dbase.add(dr.start), len as usize) };
        return 0;
    }
    // Copying towards higher addresses within one memory goes backwards so
    // that each chunk reads bytes no earlier chunk overwrote.
    let backwards = dbase == sbase && dr.start > sr.start;
    let delta = sr.start as isize - dr.start as isize;
    bulk(vmctx, dr, backwards, |c| {
        // SAFETY: both ranges are in bounds of committed memory (checked
        // above; `c` is part of the destination range and `c + delta` the
        // matching part of the source range); `ptr::copy` allows overlap.
        unsafe {
            std::ptr::copy(sbase.offset(c.start as isize + delta), dbase.add(c.start), c.len())
        }
    })
}

unsafe extern "C" fn memory_init(
    vmctx: *mut u8,
    mem: u32,
    data: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: as above.
    let inst = unsafe { instance(vmctx) };
    let module = inst.module.clone();
    let bytes: &[u8] = if inst.datas_live[data as usize] {
        &module.info().datas[data as usize].bytes
    } else {
        &[]
    };
    // SAFETY: the only reference to the memory during this builtin.
    let m = unsafe { inst.memory_mut(mem) };
    init_from_segment(vmctx, TrapCode::MemoryOutOfBounds, m.data_mut(), bytes, dst, src, len)
}

/// `memory.init`/`table.init`: copies `len` items of `segment` from `src`
/// into `out` at `dst`, or traps with `oob` (changing nothing) when either
/// range is out of bounds.
fn init_from_segment<T: Copy>(
    vmctx: *mut u8,
    oob: TrapCode,
    out: &mut [T],
    segment: &[T],
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    let sr = range_or_trap(vmctx, oob, src, len, segment.len() as u64);
    let dr = range_or_trap(vmctx, oob, dst, len, out.len() as u64);
    let (sr, dr) = match (sr, dr) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(status), _) | (_, Err(status)) => return status,
    };
    let delta = sr.start.wrapping_sub(dr.start);
    bulk(vmctx, dr, false, |c| {
        let from = c.start.wrapping_add(delta)..c.end.wrapping_add(delta);
        out[c].copy_from_slice(&segment[from]);
    })
}

unsafe extern "C" fn data_drop(vmctx: *mut u8, data: u32) {
    // SAFETY: as above.
    unsafe { instance(vmctx) }.datas_live[data as usize] = false;
}

unsafe extern "C" fn table_grow(vmctx: *mut u8, table: u32, init: u64, delta: u32) -> u32 {
    // SAFETY: as above.
    let inst = unsafe { instance(vmctx) };
    let index = inst.tables[table as usize];
    // SAFETY: as in `memory_grow`.
    let store = unsafe { &mut *inst.store };
    store.grow_table(index, delta as u64, init).map_or(u32::MAX, |old| old as u32)
}

unsafe extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u32, val: u64, len: u32) -> u32 {
    // SAFETY: as above; the only reference to the table during this
    // builtin.
    let t = unsafe { instance(vmctx).table_mut(table) };
    let range = match range_or_trap(vmctx, TrapCode::TableOutOfBounds, dst, len, t.len()) {
        Ok(r) => r,
        Err(status) => return status,
    };
    let elements = t.elements_mut();
    bulk(vmctx, range, false, |c| elements[c].fill(val))
}

unsafe extern "C" fn table_copy(
    vmctx: *mut u8,
    dtab: u32,
    stab: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: as above.
    let inst = unsafe { instance(vmctx) };
    let (dl, sl) = (inst.table(dtab).len(), inst.table(stab).len());
    let oob = TrapCode::TableOutOfBounds;
    let dr = range_or_trap(vmctx, oob, dst, len, dl);
    let sr = range_or_trap(vmctx, oob, src, len, sl);
    let (dr, sr) = match (dr, sr) {
        (Ok(d), Ok(s)) => (d, s),
        (Err(status), _) | (_, Err(status)) => return status,
    };
    let same = inst.tables[dtab as usize] == inst.tables[stab as usize];
    // SAFETY: the only reference to the destination table while `dbase`
    // is used; the source pointer of a copy within one table derives from
    // the same one.
    let dbase = unsafe { inst.table_mut(dtab) }.elements_mut().as_mut_ptr();
    let sbase = if same { dbase as *const u64 } else { inst.table(stab).elements().as_ptr() };
    let backwards = same && dr.start > sr.start;
    let delta = sr.start as isize - dr.start as isize;
    bulk(vmctx, dr, backwards, |c| {
        // SAFETY: both ranges lie inside their tables' element buffers
        // (checked above), which no one else touches during this builtin;
        // `ptr::copy` allows the overlap of a copy within one table.
        unsafe {
            std::ptr::copy(sbase.offset(c.start as isize + delta), dbase.add(c.start), c.len())
        }
    })
}

unsafe extern "C" fn table_init(
    vmctx: *mut u8,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: as above.
    let inst = unsafe { instance(vmctx) };
    // The segment is read in place: copying it first would cost its whole
    // length on every call, whatever `len` (and the fuel charged) is.
    let items: &[u64] = inst.elems[elem as usize].as_deref().unwrap_or(&[]);
    // SAFETY: the only reference to the table during this builtin; the
    // segment is instance data, not a table.
    let t = unsafe { inst.table_mut(table) };
    init_from_segment(vmctx, TrapCode::TableOutOfBounds, t.elements_mut(), items, dst, src, len)
}

unsafe extern "C" fn elem_drop(vmctx: *mut u8, elem: u32) {
    // SAFETY: as above.
    unsafe { instance(vmctx) }.elems[elem as usize] = None;
}

/// Runs the host function behind import `import`, catching errors and
/// panics so that no unwinding crosses generated frames.
unsafe extern "C" fn host_call(vmctx: *mut u8, import: u32, values: *mut ValRaw) -> u32 {
    // SAFETY: as above.
    let inst = unsafe { instance(vmctx) };
    let Some(host) = inst.host_imports[import as usize].as_ref() else {
        return trap(vmctx, TrapCode::HostError);
    };
    let (shim, index) = (host.shim, host.index);
    let store = inst.store;
    let caller = inst.index;
    // SAFETY: the shim gets the store it was created for and the values
    // array the adapter laid out for this import's signature.
    let outer = unsafe { (*store).outer };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
        shim(outer, index, values, caller)
    }));
    let error: Box<dyn std::error::Error + Send + Sync> = match result {
        Ok(Ok(())) => return 0,
        Ok(Err(crate::Error::Trap(t))) if t.host_error.is_none() => {
            // A trap from a nested wasm call propagates as itself.
            let code = t.code;
            return trap(vmctx, code);
        }
        // A trap the host function made to carry its own error (WASI's
        // `proc_exit` does): the error is the trap's cause as it is.
        Ok(Err(crate::Error::Trap(t))) if t.code == TrapCode::HostError => {
            t.host_error.unwrap_or_else(|| "host function failed".into())
        }
        Ok(Err(e)) => Box::new(e),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "host function panicked".into());
            format!("host function panicked: {msg}").into()
        }
    };
    // SAFETY: store pointer valid while its code runs.
    unsafe { (*store).pending_error = Some(error) };
    trap(vmctx, TrapCode::HostError)
}

/// A check point found the interrupt flag set or the fuel exhausted.
unsafe extern "C" fn yield_point(vmctx: *mut u8) -> u32 {
    // SAFETY: as above.
    let store = unsafe { &mut *instance(vmctx).store };
    if store.vm.interrupt_flag().load(std::sync::atomic::Ordering::SeqCst) != 0 {
        return trap(vmctx, TrapCode::Interrupted);
    }
    if !store.fuel_enabled || store.vm().fuel_consumed < 0 {
        return 0;
    }
    match store.refuel() {
        Ok(()) => 0,
        Err(code) => trap(vmctx, code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::builtins::Builtin;
    use std::mem::offset_of;

    #[test]
    fn small_copies_behave_like_memmove_for_every_overlap() {
        let pattern: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37).wrapping_add(1)).collect();
        for len in 0..=SMALL_COPY {
            for src in 0..24 {
                for dst in 0..24 {
                    let mut expected = pattern.clone();
                    expected.copy_within(src..src + len, dst);
                    let mut got = pattern.clone();
                    let base = got.as_mut_ptr();
                    // SAFETY: both ranges lie inside `got` (24 + 16 < 64).
                    unsafe { copy_small(base.add(src), base.add(dst), len) };
                    assert_eq!(got, expected, "len {len}, src {src}, dst {dst}");
                }
            }
        }
    }

    #[test]
    fn table_matches_contract_order() {
        let offsets = [
            (Builtin::MemoryGrow, offset_of!(BuiltinTable, memory_grow)),
            (Builtin::MemoryFill, offset_of!(BuiltinTable, memory_fill)),
            (Builtin::MemoryCopy, offset_of!(BuiltinTable, memory_copy)),
            (Builtin::MemoryInit, offset_of!(BuiltinTable, memory_init)),
            (Builtin::DataDrop, offset_of!(BuiltinTable, data_drop)),
            (Builtin::TableGrow, offset_of!(BuiltinTable, table_grow)),
            (Builtin::TableFill, offset_of!(BuiltinTable, table_fill)),
            (Builtin::TableCopy, offset_of!(BuiltinTable, table_copy)),
            (Builtin::TableInit, offset_of!(BuiltinTable, table_init)),
            (Builtin::ElemDrop, offset_of!(BuiltinTable, elem_drop)),
            (Builtin::HostCall, offset_of!(BuiltinTable, host_call)),
            (Builtin::YieldPoint, offset_of!(BuiltinTable, yield_point)),
        ];
        assert_eq!(offsets.len(), Builtin::ALL.len());
        for (b, off) in offsets {
            assert_eq!(b.table_offset() as usize, off, "{}", b.name());
        }
    }
}
