//! Control: comparisons (as flags), select, branches, returns, traps.

use super::{Lowerer, size_of};
use crate::compiler::ir::{Block, CmpOp, Inst, InstKind, Type};
use crate::compiler::vcode::*;
use crate::compiler::x64::regs::{Cond, Gpr, Xmm};
use crate::contract::abi::{ArgLoc, call_layout};

/// Which flags condition a lowered comparison left.
#[derive(Clone, Copy)]
pub(super) enum Flags {
    /// An ordinary condition code.
    Int(Cond),
    /// Float (in)equality: ordered-and-equal, or its negation.
    FloatEq { negate: bool },
}

fn int_cond(op: CmpOp) -> Cond {
    match op {
        CmpOp::Eq => Cond::E,
        CmpOp::Ne => Cond::NE,
        CmpOp::LtS => Cond::L,
        CmpOp::LtU => Cond::B,
        CmpOp::GtS => Cond::G,
        CmpOp::GtU => Cond::A,
        CmpOp::LeS => Cond::LE,
        CmpOp::LeU => Cond::BE,
        CmpOp::GeS => Cond::GE,
        CmpOp::GeU => Cond::AE,
    }
}

impl Lowerer<'_> {
    /// Emits the comparison `inst` and returns the condition it set.
    pub(super) fn emit_compare_flags(&mut self, inst: Inst) -> Flags {
        let InstKind::Compare { op, args: [a, b] } = self.func.insts[inst.index()].kind else {
            unreachable!("not a compare")
        };
        let ty = self.ty(a);
        if ty.is_float() {
            let double = ty == Type::F64;
            let (x, y, flags) = match op {
                CmpOp::Eq | CmpOp::Ne => (a, b, Flags::FloatEq { negate: op == CmpOp::Ne }),
                // ucomis sets CF/ZF like an unsigned compare, and unordered
                // sets all of CF, ZF, PF: "above" tests are false on NaN.
                CmpOp::LtS => (b, a, Flags::Int(Cond::A)),
                CmpOp::LeS => (b, a, Flags::Int(Cond::AE)),
                CmpOp::GtS => (a, b, Flags::Int(Cond::A)),
                CmpOp::GeS => (a, b, Flags::Int(Cond::AE)),
                _ => unreachable!("no unsigned float compares"),
            };
            let (x, y) = (self.get(x), self.get(y));
            self.emit(MInst::Ucomis { double, a: x, b: y });
            return flags;
        }
        let size = size_of(ty);
        if matches!(op, CmpOp::Eq | CmpOp::Ne) && self.const_of(b) == Some(0) {
            let r = self.get(a);
            self.emit(MInst::Test { size, a: r, src: r });
            return Flags::Int(int_cond(op));
        }
        let (op, a, b) = if self.const_of(a).is_some() && self.const_of(b).is_none() {
            (op.swap(), b, a)
        } else {
            (op, a, b)
        };
        let ra = self.get(a);
        let src = self.rmi(b);
        self.emit(MInst::Cmp { size, a: ra, src });
        Flags::Int(int_cond(op))
    }

    /// The flags for an i32 condition value: a fused compare, or `test`.
    fn cond_flags(&mut self, cond: crate::compiler::ir::Value) -> Flags {
        if let Some(inst) = self.deferred_compare.take() {
            debug_assert_eq!(self.func.first_result(inst), cond);
            return self.emit_compare_flags(inst);
        }
        let r = self.get(cond);
        self.emit(MInst::Test { size: crate::compiler::x64::regs::Size::S32, a: r, src: r });
        Flags::Int(Cond::NE)
    }

    pub(super) fn lower_compare(&mut self, inst: Inst) {
        let flags = self.emit_compare_flags(inst);
        let dst = self.def(self.func.first_result(inst));
        match flags {
            Flags::Int(cond) => self.emit(MInst::Setcc { cond, dst }),
            Flags::FloatEq { negate } => {
                let tmp = self.vreg(RegClass::Int);
                self.emit(MInst::SetFloatEq { negate, dst, tmp });
            }
        }
    }

    /// `Some(negate)` when the deferred compare is a float (in)equality,
    /// which needs two conditional moves (ZF and PF).
    fn deferred_float_eq(&self) -> Option<bool> {
        let inst = self.deferred_compare?;
        match self.func.insts[inst.index()].kind {
            InstKind::Compare { op, args: [a, _] } if self.ty(a).is_float() => {
                matches!(op, CmpOp::Eq | CmpOp::Ne).then_some(op == CmpOp::Ne)
            }
            _ => None,
        }
    }

    pub(super) fn lower_select(&mut self, inst: Inst) {
        let InstKind::Select { cond, if_true, if_false } = self.func.insts[inst.index()].kind
        else {
            unreachable!()
        };
        let result = self.func.first_result(inst);
        let ty = self.ty(result);
        let (class, size) = (super::class_of(ty), size_of(ty));
        let (t, f) = (self.get(if_true), self.get(if_false));
        let dst = self.def(result);
        let cmov = |s: &mut Self, cond: Cond, src: Reg| match class {
            RegClass::Int => s.emit(MInst::Cmov { cond, size, dst, src }),
            RegClass::Float => s.emit(MInst::FCmov { cond, dst, src }),
        };
        // The copy goes first so that nothing sits between flags and cmov.
        match self.deferred_float_eq() {
            Some(negate) => {
                let (t, f) = if negate { (f, t) } else { (t, f) };
                self.emit_move(dst, t, class);
                self.cond_flags(cond);
                cmov(self, Cond::NE, f);
                cmov(self, Cond::P, f);
            }
            None => {
                self.emit_move(dst, f, class);
                let Flags::Int(c) = self.cond_flags(cond) else { unreachable!("float eq above") };
                cmov(self, c, t);
            }
        }
    }

    pub(super) fn lower_terminator(&mut self, block: Block, inst: Inst) {
        let depth = self.func.blocks[block.index()].loop_depth;
        let srcloc = self.srcloc;
        match &self.func.insts[inst.index()].kind {
            InstKind::Jump { dest } => {
                let args: Vec<Reg> = dest.args.iter().map(|&a| self.get(a)).collect();
                let target = self.block_map[dest.block.index()].unwrap();
                self.emit(MInst::Jmp { target, args });
            }
            InstKind::Brif { cond, then_dest, else_dest } => {
                let taken = self.edge_target(then_dest, depth);
                let not_taken = self.edge_target(else_dest, depth);
                match self.cond_flags(*cond) {
                    Flags::Int(cond) => self.emit(MInst::Jcc { cond, taken, not_taken }),
                    Flags::FloatEq { negate } => {
                        self.emit(MInst::JccFloatEq { negate, taken, not_taken })
                    }
                }
            }
            InstKind::BrTable { index, targets, default } => {
                let targets: Vec<VBlock> =
                    targets.iter().map(|t| self.edge_target(t, depth)).collect();
                let default = self.edge_target(default, depth);
                let index = self.get(*index);
                let tmp = self.vreg(RegClass::Int);
                self.emit(MInst::JmpTable { index, tmp, targets, default });
            }
            InstKind::Return { args } => {
                let args = args.clone();
                self.lower_return(&args);
            }
            InstKind::Trap { code } => self.emit(MInst::Trap { code: *code, srcloc }),
            _ => unreachable!("not a terminator"),
        }
    }

    fn lower_return(&mut self, args: &[crate::compiler::ir::Value]) {
        let sig = self.ctx.info.func_type(self.func.func_index);
        let layout = call_layout(&sig.params, &sig.results);
        let mut uses = Vec::new();
        let mut moves = Vec::new();
        for (&v, loc) in args.iter().zip(&layout.results) {
            let r = self.get(v);
            match *loc {
                ArgLoc::Gpr(g) => moves.push((Reg::gpr(Gpr(g)), r, RegClass::Int)),
                ArgLoc::Xmm(x) => moves.push((Reg::xmm(Xmm(x)), r, RegClass::Float)),
                ArgLoc::Stack(offset) => {
                    let kind = SlotKind::of(self.ty(v));
                    self.emit(MInst::StoreRet { offset, src: r, kind });
                }
            }
        }
        for (dst, src, class) in moves {
            self.emit_move(dst, src, class);
            uses.push(dst);
        }
        self.emit(MInst::Ret { uses });
    }
}
