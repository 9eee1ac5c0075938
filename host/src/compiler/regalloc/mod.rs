//! Register allocation: linear scan over live intervals with holes.
//!
//! The result is a side table ([`Allocation`]): each virtual register lives
//! in one physical register for its whole life, or in one stack slot. VCode
//! is not rewritten; the emitter reads the table, and loads/stores spilled
//! values through the scratch registers of the machine environment
//! (`contract::abi::MACHINE`), which the allocator never assigns.
//!
//! Physical registers named in VCode (argument and result registers, the
//! fixed operands of division and shifts, clobbers of calls) become fixed
//! ranges that virtual registers avoid.
//!
//! Requires: VCode whose every use is reached by a definition on every path.
//! Produces: an allocation that [`checker::check`] (conflicts between
//! ranges) and [`symbolic::check`] (a simulation of the edited program)
//! accept; debug builds run both.

pub mod checker;
mod linear_scan;
mod liveness;
mod local_copies;
pub mod symbolic;

use super::CompileError;
use super::budget::FunctionBudget;
use super::vcode::{NUM_PREGS, Reg, VCode};
use super::x64::regs::{Gpr, Xmm};
use crate::contract::abi::MACHINE;

pub use liveness::{Interval, Liveness, TooMuchWork};

/// Where a virtual register lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Loc {
    /// A physical register.
    Reg(Reg),
    /// Stack slot number `n` (`contract::abi::SPILL_SLOT_SIZE` bytes each).
    Stack(u32),
    /// Never live (defined but unused, or never defined).
    None,
}

/// The allocator's answer for one function.
#[derive(Clone, Debug, Default)]
pub struct Allocation {
    /// Location of each virtual register.
    pub locs: Vec<Loc>,
    /// Stretches where a spilled register also lives in a physical one,
    /// sorted by first instruction.
    pub copies: Vec<LocalCopy>,
    /// Number of stack slots used.
    pub num_slots: u32,
    /// Callee-saved registers that were assigned (the prologue saves them).
    pub callee_saved: Vec<Gpr>,
}

/// A stretch of one block where a spilled virtual register (whose slot
/// stays its home, current outside the stretch) also lives in a physical
/// register, from instruction `first` to instruction `last` inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalCopy {
    /// The virtual register (index).
    pub vreg: u32,
    /// The physical register holding the copy.
    pub reg: Reg,
    /// The position (see `liveness`) from which the copy occupies `reg`:
    /// the use position of `first` when the stretch reads or writes early
    /// there, its def position when it starts with a definition.
    pub start: u32,
    /// First instruction of the stretch.
    pub first: u32,
    /// Last instruction of the stretch.
    pub last: u32,
    /// Whether the slot is loaded into `reg` before `first` (its first
    /// occurrence reads the value; otherwise it defines it).
    pub load: bool,
    /// The last instruction of the stretch that defines the register: it
    /// also stores the value to the slot (earlier definitions in the
    /// stretch do not; only the copy is read until `last`).
    pub store_at: Option<u32>,
}

impl Allocation {
    /// Location of a register operand (physical registers are themselves).
    pub fn loc(&self, r: Reg) -> Loc {
        if r.is_virtual() { self.locs[r.vreg_index()] } else { Loc::Reg(r) }
    }
}

/// GPRs the allocator may assign, caller-saved first (preferred): the
/// machine environment's list.
pub const ALLOCATABLE_GPRS: [Gpr; 10] = gprs(MACHINE.allocatable_gprs);

/// Allocatable GPRs that a function must save before using.
pub const CALLEE_SAVED_ALLOCATABLE: [Gpr; 3] = gprs(MACHINE.callee_saved_allocatable);

const fn gprs<const N: usize>(numbers: [u8; N]) -> [Gpr; N] {
    let mut out = [Gpr(0); N];
    let mut i = 0;
    while i < N {
        out[i] = Gpr(numbers[i]);
        i += 1;
    }
    out
}

/// XMM registers the allocator may assign.
pub fn allocatable_xmms() -> impl Iterator<Item = Xmm> {
    MACHINE.allocatable_xmms.into_iter().map(Xmm)
}

/// Whether a physical register takes part in allocation.
pub fn is_allocatable(r: Reg) -> bool {
    match (r.as_gpr(), r.as_xmm()) {
        (Some(g), _) => MACHINE.is_allocatable_gpr(g.0),
        (_, Some(x)) => MACHINE.is_allocatable_xmm(x.0),
        _ => false,
    }
}

/// Allocates registers for a function. `budget` bounds the work of
/// liveness and the memory of the intervals; a function over it is
/// refused with the budget's error.
pub fn allocate(vcode: &VCode, budget: &FunctionBudget) -> Result<Allocation, CompileError> {
    // What the ranges may take once the rest is accounted for.
    let (vcode_bytes, liveness_bytes) = estimates(vcode);
    let base = vcode_bytes + liveness_bytes;
    budget.check_memory("liveness", base)?;
    let max_ranges = (budget.max_memory() - base) / BYTES_PER_RANGE;
    let live = liveness::compute(vcode, budget.max_liveness_work(), max_ranges as u64)
        .map_err(|w| budget.liveness_exceeded(&w, BYTES_PER_RANGE))?;
    #[cfg(debug_assertions)]
    if vcode.num_vregs().saturating_mul(vcode.blocks.len()) <= 1 << 20 {
        let reference = liveness::reference_intervals(vcode);
        if let Some(v) = (0..reference.len()).find(|&v| reference[v] != live.vregs[v]) {
            panic!(
                "liveness of r{v} in function {} is {:?}, the dataflow solution {:?}",
                vcode.func_index, live.vregs[v], reference[v]
            );
        }
    }
    if std::env::var("SCION_DUMP").is_ok_and(|d| d.contains("budget")) {
        eprintln!(
            "budget f{}: {} vregs, {} blocks, {} insts, vcode {} B, liveness {} B, work {} \
             of {}, {} ranges ({} B), limit {} B",
            vcode.func_index,
            vcode.num_vregs(),
            vcode.blocks.len(),
            vcode.insts.len(),
            vcode_bytes,
            liveness_bytes,
            live.work,
            budget.max_liveness_work(),
            live.num_ranges(),
            live.num_ranges() * BYTES_PER_RANGE,
            budget.max_memory(),
        );
    }
    let alloc = linear_scan::run(vcode, &live);
    if cfg!(debug_assertions)
        && let Err(e) = checker::check(vcode, &live, &alloc)
    {
        panic!("register allocation of function {} is wrong: {e}", vcode.func_index);
    }
    // The simulation costs places x instructions per pass.
    let places = NUM_PREGS as usize + alloc.num_slots as usize;
    if cfg!(debug_assertions)
        && places.saturating_mul(vcode.insts.len()) <= 1 << 24
        && let Err(e) = symbolic::check(vcode, &alloc)
    {
        panic!("register allocation of function {} is wrong: {e}", vcode.func_index);
    }
    Ok(alloc)
}

/// Estimated bytes of one live range while allocating: in its interval,
/// in the allocator's map of its register (a B-tree entry with its share
/// of the node) and in the checker's sweep (debug builds).
pub const BYTES_PER_RANGE: usize = 8 + 40 + 16;

/// Estimated bytes of a function's VCode, and of liveness and allocation
/// besides the ranges (operand lists, per-block marks and predecessors,
/// per-register intervals, locations and hints).
pub fn estimates(vcode: &VCode) -> (usize, usize) {
    use super::vcode::{MInst, VBlockData};
    let lists: usize = vcode.insts.iter().map(MInst::list_len).sum();
    let params: usize = vcode.blocks.iter().map(|b| b.params.len()).sum();
    let vcode_bytes = vcode.insts.len() * (size_of::<MInst>() + 4)
        + (lists + params) * 4
        + vcode.blocks.len() * size_of::<VBlockData>()
        + vcode.vreg_classes.len()
        + vcode.hints.len() * 8;
    // At most three operands per instruction besides the lists.
    let operands = 3 * vcode.insts.len() + lists + params;
    let per_vreg = size_of::<Interval>() + size_of::<Loc>() + size_of::<Vec<Reg>>() + 3 * 8;
    let liveness_bytes = vcode.insts.len() * 4
        + vcode.blocks.len() * 32
        + operands * 12
        + vcode.num_vregs() * per_vreg;
    (vcode_bytes, liveness_bytes)
}
