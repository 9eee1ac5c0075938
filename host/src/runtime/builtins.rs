//! Implementations of the builtins generated code calls (see
//! `contract::builtins`), and the table of their addresses.
//!
//! **Sandbox-critical.** Every range is checked with 64-bit arithmetic
//! before memory or table contents are touched; out-of-range requests trap
//! without changing anything, as the spec requires.

use super::instance::InstanceData;
use super::trap::TrapCode;
use super::values::ValRaw;
use crate::contract::vmctx::VMContextHeader;

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

/// Whether `[start, start + len)` fits in `size`.
fn fits(start: u32, len: u32, size: u64) -> bool {
    start as u64 + len as u64 <= size
}

unsafe extern "C" fn memory_grow(vmctx: *mut u8, mem: u32, delta: u32) -> u32 {
    // SAFETY: called by generated code of a live instance.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: the only reference to the memory during this builtin.
    unsafe { inst.memory_mut(mem) }.grow(delta as u64).map_or(u32::MAX, |old| old as u32)
}

unsafe extern "C" fn memory_fill(vmctx: *mut u8, mem: u32, dst: u32, val: u32, len: u32) -> u32 {
    // SAFETY: as above; the only reference to the memory during this
    // builtin.
    let m = unsafe { instance(vmctx).memory_mut(mem) };
    if !fits(dst, len, m.len() as u64) {
        return trap(vmctx, TrapCode::MemoryOutOfBounds);
    }
    m.data_mut()[dst as usize..(dst + len) as usize].fill(val as u8);
    0
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
    if !fits(dst, len, d.len() as u64) || !fits(src, len, s.len() as u64) {
        return trap(vmctx, TrapCode::MemoryOutOfBounds);
    }
    // SAFETY: both ranges are in bounds of committed memory (checked above);
    // `ptr::copy` allows overlap (same memory).
    unsafe { std::ptr::copy(s.base().add(src as usize), d.base().add(dst as usize), len as usize) };
    0
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
    if !fits(src, len, bytes.len() as u64) || !fits(dst, len, m.len() as u64) {
        return trap(vmctx, TrapCode::MemoryOutOfBounds);
    }
    m.data_mut()[dst as usize..(dst + len) as usize]
        .copy_from_slice(&bytes[src as usize..(src + len) as usize]);
    0
}

unsafe extern "C" fn data_drop(vmctx: *mut u8, data: u32) {
    // SAFETY: as above.
    unsafe { instance(vmctx) }.datas_live[data as usize] = false;
}

unsafe extern "C" fn table_grow(vmctx: *mut u8, table: u32, init: u64, delta: u32) -> u32 {
    // SAFETY: as above; the only reference to the table during this
    // builtin.
    let t = unsafe { instance(vmctx).table_mut(table) };
    t.grow(delta as u64, init).map_or(u32::MAX, |old| old as u32)
}

unsafe extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u32, val: u64, len: u32) -> u32 {
    // SAFETY: as above; the only reference to the table during this
    // builtin.
    let t = unsafe { instance(vmctx).table_mut(table) };
    if !fits(dst, len, t.len()) {
        return trap(vmctx, TrapCode::TableOutOfBounds);
    }
    t.elements_mut()[dst as usize..(dst + len) as usize].fill(val);
    0
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
    if !fits(dst, len, dl) || !fits(src, len, sl) {
        return trap(vmctx, TrapCode::TableOutOfBounds);
    }
    let (d, s) = (inst.tables[dtab as usize], inst.tables[stab as usize]);
    // SAFETY (both arms): each mutable reference is the only reference to
    // its table while it is used.
    if d == s {
        unsafe { inst.table_mut(dtab) }
            .elements_mut()
            .copy_within(src as usize..(src + len) as usize, dst as usize);
    } else {
        let items: Vec<u64> =
            inst.table(stab).elements()[src as usize..(src + len) as usize].to_vec();
        unsafe { inst.table_mut(dtab) }.elements_mut()[dst as usize..(dst + len) as usize]
            .copy_from_slice(&items);
    }
    0
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
    let items: Vec<u64> = inst.elems[elem as usize].clone().unwrap_or_default();
    // SAFETY: the only reference to the table during this builtin.
    let t = unsafe { inst.table_mut(table) };
    if !fits(src, len, items.len() as u64) || !fits(dst, len, t.len()) {
        return trap(vmctx, TrapCode::TableOutOfBounds);
    }
    t.elements_mut()[dst as usize..(dst + len) as usize]
        .copy_from_slice(&items[src as usize..(src + len) as usize]);
    0
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
    let Some(handler) = store.fuel_handler else { return trap(vmctx, TrapCode::OutOfFuel) };
    let outer = store.outer;
    // SAFETY: the shim was installed for the store's data type; panics are
    // caught so no unwinding crosses generated frames.
    let action =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { handler(outer) }));
    match action {
        Ok(super::store::OutOfFuel::AddFuel(more)) => {
            let vm = store.vm();
            vm.fuel_consumed = vm.fuel_consumed.saturating_sub(more.min(i64::MAX as u64) as i64);
            if vm.fuel_consumed < 0 { 0 } else { trap(vmctx, TrapCode::OutOfFuel) }
        }
        Ok(super::store::OutOfFuel::Trap) => trap(vmctx, TrapCode::OutOfFuel),
        Err(_) => {
            store.pending_error = Some("out-of-fuel handler panicked".into());
            trap(vmctx, TrapCode::HostError)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::builtins::Builtin;
    use std::mem::offset_of;

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
