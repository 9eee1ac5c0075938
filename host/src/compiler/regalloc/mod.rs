//! Register allocation: linear scan over live intervals with holes.
//!
//! The result is a side table ([`Allocation`]): each virtual register lives
//! in one physical register for its whole life, or in one stack slot. VCode
//! is not rewritten; the emitter reads the table, and loads/stores spilled
//! values through the reserved scratch registers (r10, r11, xmm14, xmm15).
//!
//! Physical registers named in VCode (argument and result registers, the
//! fixed operands of division and shifts, clobbers of calls) become fixed
//! ranges that virtual registers avoid.
//!
//! Requires: VCode whose every use is reached by a definition on every path.
//! Produces: an allocation that [`checker::check`] accepts.

pub mod checker;
mod linear_scan;
mod liveness;

use super::vcode::{Reg, VCode};
use super::x64::regs::{Gpr, Xmm};

pub use liveness::{Interval, Liveness};

/// Where a virtual register lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// A physical register.
    Reg(Reg),
    /// Stack slot number `n` (8 bytes each).
    Stack(u32),
    /// Never live (defined but unused, or never defined).
    None,
}

/// The allocator's answer for one function.
#[derive(Clone, Debug, Default)]
pub struct Allocation {
    /// Location of each virtual register.
    pub locs: Vec<Loc>,
    /// Number of stack slots used.
    pub num_slots: u32,
    /// Callee-saved registers that were assigned (the prologue saves them).
    pub callee_saved: Vec<Gpr>,
}

impl Allocation {
    /// Location of a register operand (physical registers are themselves).
    pub fn loc(&self, r: Reg) -> Loc {
        if r.is_virtual() { self.locs[r.vreg_index()] } else { Loc::Reg(r) }
    }
}

/// GPRs the allocator may assign, caller-saved first (preferred).
pub const ALLOCATABLE_GPRS: [Gpr; 10] = [
    Gpr::RAX,
    Gpr::RCX,
    Gpr::RDX,
    Gpr::RSI,
    Gpr::RDI,
    Gpr::R8,
    Gpr::R9,
    Gpr::RBX,
    Gpr::R12,
    Gpr::R13,
];

/// Allocatable GPRs that a function must save before using.
pub const CALLEE_SAVED_ALLOCATABLE: [Gpr; 3] = [Gpr::RBX, Gpr::R12, Gpr::R13];

/// XMM registers the allocator may assign (xmm14 and xmm15 are scratch).
pub fn allocatable_xmms() -> impl Iterator<Item = Xmm> {
    (0..14).map(Xmm)
}

/// Whether a physical register takes part in allocation.
pub fn is_allocatable(r: Reg) -> bool {
    match (r.as_gpr(), r.as_xmm()) {
        (Some(g), _) => ALLOCATABLE_GPRS.contains(&g),
        (_, Some(x)) => x.0 < 14,
        _ => false,
    }
}

/// Allocates registers for a function.
pub fn allocate(vcode: &VCode) -> Allocation {
    let live = liveness::compute(vcode);
    let alloc = linear_scan::run(vcode, &live);
    if cfg!(debug_assertions) {
        if let Err(e) = checker::check(vcode, &live, &alloc) {
            panic!("register allocation of function {} is wrong: {e}", vcode.func_index);
        }
    }
    alloc
}
