//! Register roles, the wasm calling convention and frame layouts.
//!
//! **Sandbox-critical.** The trap path unwinds by trusting the entry frame
//! layout drawn here.
//!
//! # Register roles (x86-64, hardware encodings)
//!
//! [`MACHINE`] is the one place that gives a physical register a role; the
//! register allocator and the emitter read it, and a test
//! (`tests::no_other_file_names_a_register_role`) keeps other compiler files
//! from naming these registers.
//!
//! | register | role |
//! |---|---|
//! | r14 | `VMContext` of the running instance (pinned, callee-saved) |
//! | r15 | base of memory 0 (pinned, callee-saved) |
//! | rbp | frame pointer; the chain is always kept |
//! | rsp | stack pointer, 16-byte aligned at every call |
//! | r10, r11 | emitter scratch (spilled operands, move cycles, call targets), never allocated |
//! | xmm14, xmm15 | emitter float scratch, never allocated |
//! | rax, rcx, rdx, rsi, rdi, r8, r9 | allocatable, clobbered by calls (preferred) |
//! | rbx, r12, r13 | allocatable, saved by the prologue of a function that uses them |
//! | xmm0–xmm13 | allocatable, clobbered by calls |
//!
//! # Wasm calling convention
//!
//! Every wasm function, defined or imported, is entered with r14 = the
//! callee's vmctx and r15 = its memory-0 base, and preserves rbx, rbp,
//! r12–r15. Integer and reference parameters go in rdi, rsi, rdx, rcx, r8,
//! r9, float and v128 parameters in xmm0–xmm7, in order; the rest in
//! stack slots above the return address, in order (8 bytes each, 16 for
//! a v128, which is 16-byte aligned). The first two integer results
//! return in rax, rdx, the first two float or v128 results in xmm0, xmm1;
//! further results are written by the callee into slots of the same sizes
//! that the caller reserved right above its stack parameters. All other registers are
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

/// The role of every physical register, by hardware number (GPRs
/// 0 = rax … 15 = r15; XMMs by number). The register allocator assigns
/// only `allocatable_*`; the emitter uses `scratch_*` for what the
/// allocator does not see (spilled operands, cycles of parallel moves,
/// call targets); calls clobber `call_clobbered_*`; a check point's slow
/// path preserves `yield_saved_*`.
#[derive(Clone, Copy, Debug)]
pub struct MachineEnv {
    /// GPRs the allocator may assign, in order of preference: those a
    /// call clobbers first (no save in the prologue), then callee-saved.
    pub allocatable_gprs: [u8; 10],
    /// The allocatable GPRs a function saves in its prologue before using.
    pub callee_saved_allocatable: [u8; 3],
    /// XMM registers the allocator may assign.
    pub allocatable_xmms: [u8; 14],
    /// GPRs only the emitter uses: the first holds a reloaded operand or
    /// a parked value of a move cycle, the second the same or a call
    /// target; neither lives across an instruction.
    pub scratch_gprs: [u8; 2],
    /// XMM registers only the emitter uses, as `scratch_gprs`.
    pub scratch_xmms: [u8; 2],
    /// GPRs every call writes (the System V caller-saved set; the wasm
    /// convention agrees).
    pub call_clobbered_gprs: [u8; 9],
    /// XMM registers every call writes (all of them).
    pub call_clobbered_xmms: [u8; 16],
    /// GPRs a check point's slow path saves and restores around the
    /// runtime call: every caller-saved register a value may be in (the
    /// allocatable ones and the first scratch, which may hold a reloaded
    /// operand; the second carries the runtime's answer).
    pub yield_saved_gprs: [u8; 8],
    /// XMM registers a check point's slow path saves and restores (all
    /// are caller-saved in the C ABI).
    pub yield_saved_xmms: [u8; 14],
    /// The pinned vmctx register.
    pub vmctx: u8,
    /// The pinned memory-0 base register.
    pub heap_base: u8,
}

/// The machine environment of generated code (see the table above).
pub const MACHINE: MachineEnv = MachineEnv {
    allocatable_gprs: [0, 1, 2, 6, 7, 8, 9, 3, 12, 13],
    callee_saved_allocatable: [3, 12, 13],
    allocatable_xmms: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
    scratch_gprs: [10, 11],
    scratch_xmms: [14, 15],
    call_clobbered_gprs: [0, 1, 2, 6, 7, 8, 9, 10, 11],
    call_clobbered_xmms: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    yield_saved_gprs: [0, 1, 2, 6, 7, 8, 9, 10],
    yield_saved_xmms: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
    vmctx: VMCTX_REG,
    heap_base: HEAP_BASE_REG,
};

impl MachineEnv {
    /// Whether the allocator may assign GPR `g`.
    pub const fn is_allocatable_gpr(&self, g: u8) -> bool {
        contains(&self.allocatable_gprs, g)
    }
    /// Whether the allocator may assign XMM `x`.
    pub const fn is_allocatable_xmm(&self, x: u8) -> bool {
        contains(&self.allocatable_xmms, x)
    }
}

const fn contains(list: &[u8], r: u8) -> bool {
    let mut i = 0;
    while i < list.len() {
        if list[i] == r {
            return true;
        }
        i += 1;
    }
    false
}

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

/// Bytes of one spill slot of a wasm frame: room for a v128, so that any
/// virtual register fits any slot.
pub const SPILL_SLOT_SIZE: i32 = 16;

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

/// Whether values of type `t` travel in xmm registers.
fn is_float(t: ValType) -> bool {
    matches!(t, ValType::F32 | ValType::F64 | ValType::V128)
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
                } else if t == ValType::V128 {
                    stack = stack.div_ceil(16) * 16 + 16;
                    ArgLoc::Stack(stack - 16)
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
    fn the_machine_environment_is_consistent() {
        let m = MACHINE;
        let pinned = [m.vmctx, m.heap_base, 4, 5];
        for g in m.allocatable_gprs {
            assert!(!pinned.contains(&g) && !m.scratch_gprs.contains(&g), "gpr {g}");
        }
        for x in m.allocatable_xmms {
            assert!(!m.scratch_xmms.contains(&x), "xmm {x}");
        }
        // Preference order: caller-saved first, callee-saved last.
        let n = m.allocatable_gprs.len() - m.callee_saved_allocatable.len();
        assert_eq!(m.allocatable_gprs[n..], m.callee_saved_allocatable);
        for g in m.callee_saved_allocatable {
            assert!(CALLEE_SAVED_GPRS.contains(&g) && !m.call_clobbered_gprs.contains(&g));
        }
        for g in &m.allocatable_gprs[..n] {
            assert!(m.call_clobbered_gprs.contains(g) && !CALLEE_SAVED_GPRS.contains(g));
        }
        // The slow path of a check point keeps every caller-saved register
        // a value may be in: allocatable ones and the first scratch.
        for g in m.allocatable_gprs[..n].iter().chain(&m.scratch_gprs[..1]) {
            assert!(m.yield_saved_gprs.contains(g), "gpr {g} not saved by check points");
        }
        assert!(!m.yield_saved_gprs.contains(&m.scratch_gprs[1]));
        for x in m.allocatable_xmms {
            assert!(m.yield_saved_xmms.contains(&x) && m.call_clobbered_xmms.contains(&x));
        }
        // Pinned registers survive calls (the wasm convention preserves them).
        for r in [m.vmctx, m.heap_base] {
            assert!(CALLEE_SAVED_GPRS.contains(&r) && !m.call_clobbered_gprs.contains(&r));
        }
        // Every parameter and result register is one a call may clobber.
        for g in INT_PARAM_REGS.iter().chain(&INT_RESULT_REGS) {
            assert!(m.call_clobbered_gprs.contains(g) && m.is_allocatable_gpr(*g));
        }
    }

    /// Physical registers that have a role (pinned, scratch, callee-saved
    /// allocatable) are named only through [`MACHINE`]: no compiler file
    /// spells them out, except the register definitions and the encoders,
    /// which must name every register.
    #[test]
    fn no_other_file_names_a_register_role() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/compiler");
        let allowed = ["x64/regs.rs", "x64/encode.rs", "x64/packed.rs"];
        let names: Vec<String> = ["R10", "R11", "R12", "R13", "R14", "R15", "RBX"]
            .iter()
            .map(|r| format!("Gpr::{r}"))
            .chain((10..16).map(|n| format!("Gpr({n})")))
            .chain((13..16).map(|n| format!("Xmm({n})")))
            .chain(["0..14", "0..16"].map(String::from))
            .collect();
        let mut stack = vec![root.clone()];
        let mut seen = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let rel = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
                if allowed.contains(&rel.as_str()) || path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                seen += 1;
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap();
                    for name in &names {
                        assert!(
                            !code.contains(name.as_str()),
                            "compiler/{rel}:{}: `{name}` names a register role; use \
                             contract::abi::MACHINE",
                            n + 1
                        );
                    }
                }
            }
        }
        assert!(seen > 20, "found only {seen} compiler files under {}", root.display());
    }

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
