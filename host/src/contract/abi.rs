//! Register roles, the wasm calling convention and frame layouts.
//!
//! **Sandbox-critical.** The trap path unwinds by trusting the entry frame
//! layout drawn here.
//!
//! # Register roles (x86-64, hardware encodings)
//!
//! | register | role |
//! |---|---|
//! | r14 | `VMContext` of the running instance (pinned, callee-saved) |
//! | r15 | base of memory 0 (pinned, callee-saved) |
//! | rbp | frame pointer; the chain is always kept |
//! | rsp | stack pointer, 16-byte aligned at every call |
//! | r11 | emitter scratch, never allocated |
//! | xmm15 | emitter float scratch, never allocated |
//!
//! # Wasm calling convention
//!
//! Every wasm function, defined or imported, is entered with r14 = the
//! callee's vmctx and r15 = its memory-0 base, and preserves rbx, rbp,
//! r12–r15. Integer and reference parameters go in rdi, rsi, rdx, rcx, r8,
//! r9, float parameters in xmm0–xmm7, in order; the rest in 8-byte stack
//! slots above the return address, in order. The first two integer results
//! return in rax, rdx, the first two float results in xmm0, xmm1; further
//! results are written by the callee into 8-byte slots that the caller
//! reserved right above its stack parameters. All other registers are
//! clobbered. Builtins follow the System V C ABI, which agrees on every
//! point used here.
//!
//! # Wasm function frame
//!
//! ```text
//!        | results beyond registers   |  [rbp + 16 + 8*stack_params + 8*k]
//!        | stack parameters           |  [rbp + 16 + 8*k]
//!        | return address             |  [rbp + 8]
//! rbp -> | caller's rbp               |  [rbp]
//!        | own vmctx                  |  [rbp - 8]   reloaded after calls that switch instance
//!        | callee-saved registers     |
//!        | spill slots                |
//!        | outgoing stack arguments   |
//! rsp -> +----------------------------+  16-byte aligned
//! ```
//!
//! # Entry trampoline frame
//!
//! The host calls `extern "C" fn(vmctx, callee, values) -> u32` (see
//! [`EntryFn`]). The trampoline saves the host's callee-saved registers, the
//! previous `entry_sp` and the `values` pointer in this fixed layout, then
//! stores `rsp` into `VMStoreContext::entry_sp`:
//!
//! ```text
//!          | return address into the host |
//! rbp ->   | host rbp                     |
//!          | rbx, r12, r13, r14, r15      |  rbp-8 .. rbp-40
//!          | previous entry_sp            |  rbp-48
//!          | values pointer               |  rbp-56
//! entry_sp | alignment padding            |  rbp-64
//!          | outgoing stack arguments     |
//! ```
//!
//! The trap stub reloads `rsp` from `entry_sp`, pops this layout in reverse
//! (restoring `entry_sp` to the previous value) and returns [`TRAP_STATUS`]
//! to the host. Nested entries (host function calling back into wasm) stack
//! naturally because each saves the previous `entry_sp`.

use crate::types::ValType;

/// Hardware number of the register holding the vmctx.
pub const VMCTX_REG: u8 = 14;
/// Hardware number of the register holding memory 0's base.
pub const HEAP_BASE_REG: u8 = 15;
/// Hardware number of the emitter's general-purpose scratch register.
pub const SCRATCH_GPR: u8 = 11;
/// Hardware number of the emitter's float scratch register.
pub const SCRATCH_XMM: u8 = 15;

/// Integer parameter registers, in order (hardware numbers).
pub const INT_PARAM_REGS: [u8; 6] = [7, 6, 2, 1, 8, 9];
/// Float parameter registers, in order (xmm numbers).
pub const FLOAT_PARAM_REGS: [u8; 8] = [0, 1, 2, 3, 4, 5, 6, 7];
/// Integer result registers, in order.
pub const INT_RESULT_REGS: [u8; 2] = [0, 2];
/// Float result registers, in order.
pub const FLOAT_RESULT_REGS: [u8; 2] = [0, 1];
/// General-purpose registers a callee must preserve.
pub const CALLEE_SAVED_GPRS: [u8; 6] = [3, 5, 12, 13, 14, 15];

/// Offset from rbp of the vmctx saved by every wasm prologue.
pub const FRAME_VMCTX_OFFSET: i32 = -8;
/// Bytes between rbp and the first stack parameter (saved rbp + return address).
pub const FRAME_PARAMS_OFFSET: i32 = 16;

/// Bytes of the entry frame below rbp that the trampoline pushes
/// (five callee-saved registers, previous entry_sp, values pointer, padding).
pub const ENTRY_FRAME_SIZE: i32 = 64;
/// Offset from rbp of the saved previous `entry_sp` in the entry frame.
pub const ENTRY_PREV_SP_OFFSET: i32 = -48;
/// Offset from rbp of the saved `values` pointer in the entry frame.
pub const ENTRY_VALUES_OFFSET: i32 = -56;
/// Callee-saved registers the entry trampoline pushes, in push order.
pub const ENTRY_SAVED_GPRS: [u8; 5] = [3, 12, 13, 14, 15];

/// What an entry trampoline returns when the callee returned normally.
pub const OK_STATUS: u32 = 0;
/// What an entry trampoline returns when the callee trapped.
pub const TRAP_STATUS: u32 = 1;

/// Bytes per slot of the `values` array passed to entry trampolines and
/// host-call adapters (room for a v128).
pub const VALUE_SLOT_SIZE: u32 = 16;

/// Native signature of entry trampolines: `(vmctx, callee, values) -> status`.
///
/// Arguments are read from `values[0..params]`, results written to
/// `values[0..results]`, each in a [`VALUE_SLOT_SIZE`]-byte slot.
pub type EntryFn = unsafe extern "C" fn(*mut u8, *const u8, *mut u8) -> u32;

/// Where one parameter or result lives under the wasm calling convention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgLoc {
    /// A general-purpose register (hardware number).
    Gpr(u8),
    /// An xmm register (number).
    Xmm(u8),
    /// A stack slot: byte offset from the first stack parameter (`[rbp+16]`
    /// in the callee, `[rsp]` in the caller at the call).
    Stack(u32),
}

/// The locations of a signature's parameters and results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallLayout {
    /// One location per parameter.
    pub params: Vec<ArgLoc>,
    /// One location per result; stack results are offsets from the first
    /// stack parameter, placed after all stack parameters.
    pub results: Vec<ArgLoc>,
    /// Bytes of stack the caller reserves (parameters and results), a
    /// multiple of 16.
    pub stack_bytes: u32,
}

fn is_float(t: ValType) -> bool {
    matches!(t, ValType::F32 | ValType::F64)
}

/// Computes where parameters and results go for a wasm signature.
pub fn call_layout(params: &[ValType], results: &[ValType]) -> CallLayout {
    let mut stack = 0u32;
    let mut place = |list: &[ValType], ints: &[u8], floats: &[u8]| {
        let (mut i, mut f) = (0, 0);
        list.iter()
            .map(|&t| {
                if is_float(t) && f < floats.len() {
                    f += 1;
                    ArgLoc::Xmm(floats[f - 1])
                } else if !is_float(t) && i < ints.len() {
                    i += 1;
                    ArgLoc::Gpr(ints[i - 1])
                } else {
                    stack += 8;
                    ArgLoc::Stack(stack - 8)
                }
            })
            .collect::<Vec<_>>()
    };
    let params = place(params, &INT_PARAM_REGS, &FLOAT_PARAM_REGS);
    let results = place(results, &INT_RESULT_REGS, &FLOAT_RESULT_REGS);
    CallLayout { params, results, stack_bytes: stack.div_ceil(16) * 16 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValType::*;

    #[test]
    fn layout_of_mixed_signature() {
        let l = call_layout(&[I32, F64, I64, I32, I32, I32, I32, I32, F32], &[I64, I32, I32, F32]);
        assert_eq!(
            l.params,
            vec![
                ArgLoc::Gpr(7),
                ArgLoc::Xmm(0),
                ArgLoc::Gpr(6),
                ArgLoc::Gpr(2),
                ArgLoc::Gpr(1),
                ArgLoc::Gpr(8),
                ArgLoc::Gpr(9),
                ArgLoc::Stack(0),
                ArgLoc::Xmm(1),
            ]
        );
        assert_eq!(
            l.results,
            vec![ArgLoc::Gpr(0), ArgLoc::Gpr(2), ArgLoc::Stack(8), ArgLoc::Xmm(0)]
        );
        assert_eq!(l.stack_bytes, 16);
    }
}
