//! Calls: direct, imported, indirect (with null and signature checks) and
//! builtin calls.

use super::Lowerer;
use crate::compiler::ir::{Inst, InstKind, Value};
use crate::compiler::vcode::*;
use crate::compiler::x64::encode::LoadKind;
use crate::compiler::x64::regs::{Cond, Gpr, Size, Xmm};
use crate::contract::abi::{ArgLoc, INT_PARAM_REGS, VMCTX_REG, call_layout};
use crate::contract::builtins::{Arg, Ret};
use crate::contract::trap::TrapCode;
use crate::contract::vmctx::field;
use crate::types::FuncType;

impl Lowerer<'_> {
    pub(super) fn lower_call(&mut self, inst: Inst) {
        let kind = self.func.insts[inst.index()].kind.clone();
        let results: Vec<Value> = self.func.results(inst).collect();
        match kind {
            InstKind::Call { func, args } => {
                let sig = self.ctx.info.func_type(func).clone();
                let target = if func < self.ctx.info.imported_funcs {
                    CallTarget::Import(func)
                } else {
                    CallTarget::Defined(func)
                };
                self.emit_wasm_call(target, &sig, &args, &results);
            }
            InstKind::CallIndirect { ty, table, index, args } => {
                let sig = self.ctx.info.types[ty as usize].clone();
                let slot = self.table_element(table, index, TrapCode::TableOutOfBounds);
                let fref = self.vreg(RegClass::Int);
                self.emit(MInst::Load { kind: LoadKind::U64, dst: fref, addr: slot });
                self.emit(MInst::Test { size: Size::S64, a: fref, src: fref });
                let srcloc = self.srcloc;
                self.emit(MInst::TrapIf {
                    cond: Cond::E,
                    code: TrapCode::IndirectCallToNull,
                    srcloc,
                });
                let expected = self.vreg(RegClass::Int);
                let addr = MemAddr::vmctx(self.ctx.offsets.type_id(ty));
                self.emit(MInst::Load { kind: LoadKind::U32, dst: expected, addr });
                let actual = MemAddr::base_disp(fref, field::FUNCREF_TYPE_ID as i32);
                self.emit(MInst::Cmp { size: Size::S32, a: expected, src: RegMemImm::Mem(actual) });
                self.emit(MInst::TrapIf { cond: Cond::NE, code: TrapCode::BadSignature, srcloc });
                self.emit_wasm_call(CallTarget::FuncRef(fref), &sig, &args, &results);
            }
            InstKind::CallBuiltin { builtin, args } => {
                let mut uses = vec![Reg::gpr(Gpr::RDI)];
                let vmctx = Reg::gpr(Gpr(VMCTX_REG));
                let mut moves = vec![(Reg::gpr(Gpr::RDI), vmctx, Size::S64)];
                for ((&a, kind), &preg) in
                    args.iter().zip(builtin.params()).zip(&INT_PARAM_REGS[1..])
                {
                    let r = self.get(a);
                    let size = if *kind == Arg::I32 { Size::S32 } else { Size::S64 };
                    moves.push((Reg::gpr(Gpr(preg)), r, size));
                    uses.push(Reg::gpr(Gpr(preg)));
                }
                for (dst, src, size) in moves {
                    self.emit(MInst::Mov { size, dst, src });
                }
                let rax = Reg::gpr(Gpr::RAX);
                let defs = if builtin.ret() == Ret::None { vec![] } else { vec![rax] };
                let srcloc = self.srcloc;
                self.emit(MInst::Call { target: CallTarget::Builtin(builtin), uses, defs, srcloc });
                match builtin.ret() {
                    Ret::None => {}
                    Ret::Status => {
                        let status = self.vreg(RegClass::Int);
                        self.emit(MInst::Mov { size: Size::S32, dst: status, src: rax });
                        self.emit(MInst::TrapIfStatus { status, srcloc });
                    }
                    Ret::Value(kind) => {
                        let dst = self.def(results[0]);
                        let size = if kind == Arg::I32 { Size::S32 } else { Size::S64 };
                        self.emit(MInst::Mov { size, dst, src: rax });
                    }
                }
            }
            _ => unreachable!(),
        }
    }

    /// Moves arguments into place, calls, and collects results, following
    /// the wasm calling convention.
    fn emit_wasm_call(
        &mut self,
        target: CallTarget,
        sig: &FuncType,
        args: &[Value],
        results: &[Value],
    ) {
        let layout = call_layout(&sig.params, &sig.results);
        if layout.stack_bytes > 0 {
            self.emit(MInst::OutgoingArgs { bytes: layout.stack_bytes });
        }
        let mut moves = Vec::new();
        let mut uses = Vec::new();
        for (&a, loc) in args.iter().zip(&layout.params) {
            let r = self.get(a);
            let kind = SlotKind::of(self.ty(a));
            match *loc {
                ArgLoc::Gpr(g) => moves.push((Reg::gpr(Gpr(g)), r, RegClass::Int)),
                ArgLoc::Xmm(x) => moves.push((Reg::xmm(Xmm(x)), r, RegClass::Float)),
                ArgLoc::Stack(offset) => self.emit(MInst::StoreArg { offset, src: r, kind }),
            }
        }
        for (dst, src, class) in moves {
            self.emit_move(dst, src, class);
            uses.push(dst);
        }
        let mut defs = Vec::new();
        for loc in &layout.results {
            match *loc {
                ArgLoc::Gpr(g) => defs.push(Reg::gpr(Gpr(g))),
                ArgLoc::Xmm(x) => defs.push(Reg::xmm(Xmm(x))),
                ArgLoc::Stack(_) => {}
            }
        }
        let srcloc = self.srcloc;
        self.emit(MInst::Call { target, uses, defs, srcloc });
        for (&v, loc) in results.iter().zip(&layout.results) {
            let dst = self.def(v);
            let kind = SlotKind::of(self.ty(v));
            match *loc {
                ArgLoc::Gpr(g) => self.emit_move(dst, Reg::gpr(Gpr(g)), RegClass::Int),
                ArgLoc::Xmm(x) => self.emit_move(dst, Reg::xmm(Xmm(x)), RegClass::Float),
                ArgLoc::Stack(offset) => self.emit(MInst::LoadRet { offset, dst, kind }),
            }
        }
    }
}
