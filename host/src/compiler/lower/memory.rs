//! Linear memory: bounds-checked loads and stores, memory.size.
//!
//! **Sandbox-critical.** Every access `[addr + offset, addr + offset + n)`
//! is checked against the memory's current length before it happens; the
//! check compares 64-bit values, so `addr + offset + n` cannot wrap (a
//! one-byte access at offset 0 compares `addr >= length`, the same test).
//! A check is skipped only when the same address value was already checked
//! against the same memory in this block with an end at least as large
//! (memories never shrink). The checks of a block are kept in a map from
//! (memory, address value) to the largest end checked, reset at the start
//! of every block: a check earlier in the same block dominates, one in
//! another block may not.

use super::Lowerer;
use crate::compiler::ir::{Inst, InstKind, MemOp, Type, Value};
use crate::compiler::vcode::*;
use crate::compiler::x64::encode::{LoadKind, ShiftOp};
use crate::compiler::x64::regs::{Cond, Gpr, Scale, Size};
use crate::contract::abi::HEAP_BASE_REG;
use crate::contract::trap::TrapCode;
use crate::contract::vmctx::field;

/// The load instruction for a memory shape.
pub(super) fn load_kind(op: MemOp) -> LoadKind {
    match (op.bytes, op.signed, op.ty) {
        (1, true, Type::I32) => LoadKind::S8To32,
        (1, true, _) => LoadKind::S8To64,
        (1, false, _) => LoadKind::U8To32,
        (2, true, Type::I32) => LoadKind::S16To32,
        (2, true, _) => LoadKind::S16To64,
        (2, false, _) => LoadKind::U16To32,
        (4, true, Type::I64) => LoadKind::S32To64,
        (4, _, _) => LoadKind::U32,
        _ => LoadKind::U64,
    }
}

/// The integer size of an access width.
pub(super) fn size_of_bytes(bytes: u8) -> Size {
    match bytes {
        1 => Size::S8,
        2 => Size::S16,
        4 => Size::S32,
        _ => Size::S64,
    }
}

impl Lowerer<'_> {
    /// The `VMMemoryDefinition` of memory `mem`.
    pub(super) fn memory_definition(&mut self, mem: u32) -> MemAddr {
        let info = self.ctx.info;
        if mem < info.imported_memories {
            let ptr = self.vreg(RegClass::Int);
            let addr = MemAddr::vmctx(self.ctx.offsets.memory_import(mem));
            self.emit(MInst::Load { kind: LoadKind::U64, dst: ptr, addr });
            MemAddr::base_disp(ptr, 0)
        } else {
            MemAddr::vmctx(self.ctx.offsets.memory(mem - info.imported_memories))
        }
    }

    /// The base of memory `mem`: pinned in a register for memory 0, loaded
    /// from its definition otherwise (bases never move).
    fn memory_base(&mut self, mem: u32) -> Reg {
        if mem == 0 {
            return Reg::gpr(Gpr(HEAP_BASE_REG));
        }
        let mut def = self.memory_definition(mem);
        def.disp += field::MEMORY_BASE as i32;
        let base = self.vreg(RegClass::Int);
        self.emit(MInst::Load { kind: LoadKind::U64, dst: base, addr: def });
        base
    }

    fn memory_length(&mut self, mem: u32) -> MemAddr {
        let mut def = self.memory_definition(mem);
        def.disp += field::MEMORY_LENGTH as i32;
        def
    }

    /// Traps unless `[addr + offset, addr + offset + bytes)` is in bounds,
    /// and returns the address operand of the access.
    fn checked_address(&mut self, mem: u32, addr: Value, offset: u64, bytes: u8) -> MemAddr {
        let heap = self.memory_base(mem);
        let end = offset + bytes as u64;
        let srcloc = self.srcloc;
        if let Some(c) = self.const_of(addr) {
            let total = (c as u32 as u64) + end;
            let at = (c as u32 as u64) + offset;
            let len = self.memory_length(mem);
            let t = self.vreg(RegClass::Int);
            self.emit(MInst::MovImm { size: Size::S64, dst: t, imm: total });
            self.emit(MInst::Cmp { size: Size::S64, a: t, src: RegMemImm::Mem(len) });
            self.emit(MInst::TrapIf { cond: Cond::A, code: TrapCode::MemoryOutOfBounds, srcloc });
            return match i32::try_from(at) {
                Ok(disp) => MemAddr::base_disp(heap, disp),
                Err(_) => {
                    let a = self.vreg(RegClass::Int);
                    self.emit(MInst::MovImm { size: Size::S64, dst: a, imm: at });
                    MemAddr { base: heap, index: Some((a, Scale::One)), disp: 0 }
                }
            };
        }
        let ra = self.get(addr);
        // Keyed by memory too: an address checked against one memory says
        // nothing about another.
        let already = self.checked.get(&(mem, addr)).is_some_and(|&e| e >= end);
        if !already {
            // Trap when addr + end > length; for end 1 that is addr >= length,
            // with no sum to compute.
            let (a, cond) = if end == 1 {
                (ra, Cond::AE)
            } else {
                let t = self.vreg(RegClass::Int);
                match i32::try_from(end) {
                    Ok(e) => self.emit(MInst::Lea {
                        size: Size::S64,
                        dst: t,
                        addr: MemAddr::base_disp(ra, e),
                    }),
                    Err(_) => {
                        self.emit(MInst::MovImm { size: Size::S64, dst: t, imm: end });
                        self.emit(MInst::Alu {
                            op: crate::compiler::x64::encode::AluOp::Add,
                            size: Size::S64,
                            dst: t,
                            src: RegMemImm::Reg(ra),
                        });
                    }
                }
                (t, Cond::A)
            };
            let len = self.memory_length(mem);
            self.emit(MInst::Cmp { size: Size::S64, a, src: RegMemImm::Mem(len) });
            self.emit(MInst::TrapIf { cond, code: TrapCode::MemoryOutOfBounds, srcloc });
            // Every end checked before was smaller: this one is the largest.
            self.checked.insert((mem, addr), end);
        }
        match i32::try_from(offset) {
            Ok(disp) => MemAddr { base: heap, index: Some((ra, Scale::One)), disp },
            Err(_) => {
                let a = self.vreg(RegClass::Int);
                self.emit(MInst::MovImm { size: Size::S64, dst: a, imm: offset });
                self.emit(MInst::Alu {
                    op: crate::compiler::x64::encode::AluOp::Add,
                    size: Size::S64,
                    dst: a,
                    src: RegMemImm::Reg(ra),
                });
                MemAddr { base: heap, index: Some((a, Scale::One)), disp: 0 }
            }
        }
    }

    pub(super) fn lower_memory(&mut self, inst: Inst) {
        match self.func.insts[inst.index()].kind {
            InstKind::Load { op, mem, addr, offset } => {
                let amode = self.checked_address(mem, addr, offset, op.bytes);
                let dst = self.def(self.func.first_result(inst));
                if op.ty == Type::V128 {
                    self.emit(MInst::VLoad { bytes: op.bytes, dst, addr: amode });
                } else if op.ty.is_float() {
                    self.emit(MInst::FLoad { double: op.ty == Type::F64, dst, addr: amode });
                } else {
                    self.emit(MInst::Load { kind: load_kind(op), dst, addr: amode });
                }
            }
            InstKind::Store { op, mem, addr, value, offset } => {
                // An integer constant that fits is stored as an immediate
                // (narrow stores keep only its low bytes anyway).
                let size = size_of_bytes(op.bytes);
                let imm = match self.const_of(value) {
                    Some(c) if !op.ty.is_float() && size != Size::S64 => Some(c as u32 as i32),
                    Some(c) if !op.ty.is_float() => i32::try_from(c as i64).ok(),
                    _ => None,
                };
                if let Some(imm) = imm {
                    let amode = self.checked_address(mem, addr, offset, op.bytes);
                    self.emit(MInst::StoreImm { size, addr: amode, imm });
                    return;
                }
                let src = self.get(value);
                let amode = self.checked_address(mem, addr, offset, op.bytes);
                if op.ty == Type::V128 {
                    self.emit(MInst::VStore { addr: amode, src });
                } else if op.ty.is_float() {
                    self.emit(MInst::FStore { double: op.ty == Type::F64, addr: amode, src });
                } else {
                    self.emit(MInst::Store { size: size_of_bytes(op.bytes), addr: amode, src });
                }
            }
            InstKind::MemorySize { mem } => {
                let len = self.memory_length(mem);
                let dst = self.def(self.func.first_result(inst));
                self.emit(MInst::Load { kind: LoadKind::U64, dst, addr: len });
                self.emit(MInst::Shift { op: ShiftOp::Shr, size: Size::S64, dst, imm: Some(16) });
            }
            _ => unreachable!(),
        }
    }
}
