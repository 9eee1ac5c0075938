//! Entering wasm from the host, and turning a trap into a [`Trap`].
//!
//! **Sandbox-critical.** Sets the stack limit every wasm prologue checks,
//! and walks wasm frames after a trap (reading only frames between the
//! trapping frame and the host's own frame).

use super::store::StoreOpaque;
use super::trap::{FrameInfo, Trap, TrapCode};
use super::values::ValRaw;
use crate::contract::abi::{EntryFn, OK_STATUS};
use crate::contract::vmctx::VMFuncRef;
use crate::module::Module;

/// Bytes of native stack kept free below wasm for host functions and the
/// runtime, when the thread's stack is large enough.
const HOST_STACK_RESERVE: usize = 128 * 1024;

/// The stack pointer of the caller's frame (near enough: the limit it
/// sets is `budget` bytes below, with the host's reserve kept).
#[inline(always)]
fn current_sp() -> usize {
    let sp: usize;
    // SAFETY: reads `rsp` into a register; no memory, stack or flags are
    // touched.
    unsafe {
        std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    sp
}

/// The stack limit for a call from a frame near `sp`: `budget` bytes
/// below it, but never closer than the host's reserve to the end of the
/// native stack `sp` is on. `None` when that stack cannot be found.
#[inline]
fn stack_limit(sp: usize, budget: usize) -> Option<usize> {
    let region = super::stack::region_of(sp)?;
    let reserve = HOST_STACK_RESERVE.min((sp - region.start) / 4);
    Some(sp.saturating_sub(budget).max(region.start + reserve))
}

/// The trap for a call on a stack Scion cannot find the bounds of.
#[cold]
fn unknown_stack() -> Trap {
    let mut trap = Trap::new(TrapCode::StackOverflow);
    trap.host_error = Some(
        "the bounds of the native stack this call runs on are unknown; \
         declare them with `scion::with_native_stack`"
            .into(),
    );
    trap
}

/// Calls a function through its entry trampoline.
///
/// The common case, an outermost call with no timeout and no pending
/// interrupt, sets one field (the stack limit) and reads two; the rest is
/// out of line.
///
/// # Safety
/// `funcref` must be a live funcref of `store`, and `slots` must hold the
/// arguments and have room for the results, each in the type the
/// function's signature gives.
#[inline(always)]
pub(crate) unsafe fn invoke(
    store: *mut StoreOpaque,
    funcref: *const VMFuncRef,
    slots: *mut ValRaw,
) -> Result<(), Trap> {
    let sp = current_sp();
    // SAFETY: the caller guarantees `store` is valid; only plain fields are
    // touched while no wasm runs on this store.
    let s = unsafe { &mut *store };
    if s.vm().entry_sp != 0 || s.timeout.is_some() {
        // SAFETY: forwarded from the caller.
        return unsafe { invoke_slow(store, funcref, slots, sp) };
    }
    let budget = s.engine.config().max_wasm_stack;
    s.vm().stack_limit = stack_limit(sp, budget).ok_or_else(unknown_stack)?;
    start_outermost(s);
    // SAFETY: as above; the trampoline follows `EntryFn`.
    let status = unsafe { enter(funcref, slots) };
    if status == OK_STATUS {
        return Ok(());
    }
    // SAFETY: wasm has returned; the store is ours again.
    Err(build_trap(unsafe { &mut *store }))
}

/// What every outermost call resets: a grow refused by an earlier call,
/// and an interrupt aimed at one.
#[inline]
fn start_outermost(s: &mut StoreOpaque) {
    if s.refused_grow.is_some() {
        s.refused_grow = None;
    }
    // Checked first: an unconditional atomic store costs more than the
    // rest of the call's setup.
    let flag = s.vm.interrupt_flag();
    if flag.load(std::sync::atomic::Ordering::Relaxed) != 0 {
        flag.store(0, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Runs the funcref's entry trampoline; returns its status.
///
/// # Safety
/// As [`invoke`], with the store's stack limit set for this call.
#[inline(always)]
unsafe fn enter(funcref: *const VMFuncRef, slots: *mut ValRaw) -> u32 {
    // SAFETY: a live funcref (the caller's contract) whose `array_call` is
    // an entry trampoline for its signature, following `EntryFn`; traps
    // come back as a status.
    unsafe {
        let fr = &*funcref;
        let entry = std::mem::transmute::<*const u8, EntryFn>(fr.array_call);
        entry(fr.vmctx, fr.wasm_call, slots as *mut u8)
    }
}

/// [`invoke`] for a call from a host function (nested in wasm) or one
/// with a timeout to arm.
///
/// # Safety
/// As [`invoke`].
#[cold]
#[inline(never)]
unsafe fn invoke_slow(
    store: *mut StoreOpaque,
    funcref: *const VMFuncRef,
    slots: *mut ValRaw,
    sp: usize,
) -> Result<(), Trap> {
    // SAFETY: the caller guarantees `store` is valid; only plain fields are
    // touched while no wasm runs on this store.
    let s = unsafe { &mut *store };
    let budget = s.engine.config().max_wasm_stack;
    let mut deadline = None;
    let mut outer_limit = None;
    if s.vm().entry_sp != 0 {
        // A call from a host function. The outer call's limit still
        // applies if it lies on the stack this call runs on; a host
        // function that switched stacks gets a limit on the new one, and
        // the outer limit back afterwards.
        let old = s.vm().stack_limit;
        let same_stack = super::stack::region_of(sp).is_some_and(|r| r.start <= old && old < sp);
        if !same_stack {
            s.vm().stack_limit = stack_limit(sp, budget).ok_or_else(unknown_stack)?;
            outer_limit = Some(old);
        }
    } else {
        s.vm().stack_limit = stack_limit(sp, budget).ok_or_else(unknown_stack)?;
        start_outermost(s);
        if let Some(timeout) = s.timeout {
            if !s.vm.watch() {
                super::timer::register(&s.vm);
            }
            deadline = super::timer::arm(timeout, s.vm.clone());
        }
    }
    // SAFETY: as above; the trampoline follows `EntryFn`.
    let status = unsafe { enter(funcref, slots) };
    drop(deadline);
    if let Some(old) = outer_limit {
        // SAFETY: wasm has returned to this frame; the store is ours.
        unsafe { (*store).vm().stack_limit = old };
    }
    if status == OK_STATUS {
        return Ok(());
    }
    // SAFETY: wasm has returned; the store is ours again.
    Err(build_trap(unsafe { &mut *store }))
}

/// The module whose code contains `pc`, and the offset there.
fn find_code(store: &StoreOpaque, pc: usize) -> Option<(Module, u32)> {
    store.instances.iter().find_map(|i| {
        let a = &i.module.inner.artifact;
        a.offset_of(pc).map(|off| (i.module.clone(), off))
    })
}

/// Reads the trap record left by the trap routine.
#[cold]
#[inline(never)]
fn build_trap(store: &mut StoreOpaque) -> Trap {
    let vm = store.vm();
    let (pc, stored) = (vm.trap_pc, vm.trap_code);
    vm.trap_code = 0;
    let host_error = store.pending_error.take();
    let mut trap = Trap::new(TrapCode::from_u32(stored).unwrap_or(TrapCode::HostError));
    trap.host_error = host_error;
    trap.refused_grow = store.refused_grow.clone();
    if let Some((module, off)) = find_code(store, pc) {
        let meta = &module.inner.artifact.metadata;
        if let Some(site) = module.inner.artifact.trap_site(off) {
            if let Some(code) = site.code {
                trap.code = code;
            }
            trap.func_index = Some(site.func_index);
            trap.func_name = meta.module.func_name(site.func_index).map(demangle);
            if site.func_index >= meta.module.imported_funcs {
                trap.wasm_offset = Some(site.wasm_offset);
                trap.backtrace.push(frame(&module, site.func_index, Some(site.wasm_offset)));
            }
        }
    }
    // The trap routine recorded the return addresses of the frames above
    // the trapping one while they existed; those in wasm functions are the
    // callers (host-call adapters are skipped, trampolines end the walk).
    let vm = store.vm();
    let len = (vm.backtrace_len as usize).min(vm.backtrace.len());
    let recorded: Vec<usize> = vm.backtrace[..len].to_vec();
    for ret in recorded {
        let Some((module, off)) = find_code(store, ret) else { break };
        match module.inner.artifact.metadata.function_at(off) {
            Some(r) if r.func_index >= module.info().imported_funcs => {
                // The call is the instruction just before the return address.
                let wasm = module.inner.artifact.wasm_offset(off.saturating_sub(1));
                trap.backtrace.push(frame(&module, r.func_index, wasm))
            }
            Some(_) => {}
            None => break,
        }
    }
    trap
}

/// A readable function name: Rust (and C++ through Itanium-style legacy
/// Rust mangling) symbols are demangled, without their hash.
fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

fn frame(module: &Module, func_index: u32, wasm_offset: Option<u32>) -> FrameInfo {
    let info = module.info();
    let source = wasm_offset
        .and_then(|w| module.inner.artifact.source_line(w))
        .map(|(file, line)| crate::runtime::trap::SourceLocation { file, line });
    FrameInfo {
        func_index,
        func_name: info.func_name(func_index).map(demangle),
        module_name: info.name.clone(),
        wasm_offset,
        source,
    }
}
