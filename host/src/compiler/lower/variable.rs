//! Globals: global.get and global.set.

use super::Lowerer;
use crate::compiler::ir::{Inst, InstKind, Type};
use crate::compiler::vcode::*;
use crate::compiler::x64::encode::LoadKind;
use crate::compiler::x64::regs::Size;

impl Lowerer<'_> {
    /// The storage of global `index`.
    fn global_addr(&mut self, index: u32) -> MemAddr {
        let info = self.ctx.info;
        if index < info.imported_globals {
            let ptr = self.vreg(RegClass::Int);
            let addr = MemAddr::vmctx(self.ctx.offsets.global_import(index));
            self.emit(MInst::Load { kind: LoadKind::U64, dst: ptr, addr });
            MemAddr::base_disp(ptr, 0)
        } else {
            MemAddr::vmctx(self.ctx.offsets.global(index - info.imported_globals))
        }
    }

    pub(super) fn lower_variable(&mut self, inst: Inst) {
        match self.func.insts[inst.index()].kind {
            InstKind::GlobalGet { index } => {
                let v = self.func.first_result(inst);
                let ty = self.ty(v);
                let addr = self.global_addr(index);
                let dst = self.def(v);
                self.emit(match ty {
                    Type::I32 => MInst::Load { kind: LoadKind::U32, dst, addr },
                    Type::I64 => MInst::Load { kind: LoadKind::U64, dst, addr },
                    Type::F32 | Type::F64 => MInst::FLoad { double: ty == Type::F64, dst, addr },
                    Type::V128 => MInst::VLoad { bytes: 16, dst, addr },
                });
            }
            InstKind::GlobalSet { index, value } => {
                let ty = self.ty(value);
                let src = self.get(value);
                let addr = self.global_addr(index);
                self.emit(match ty {
                    Type::I32 => MInst::Store { size: Size::S32, addr, src },
                    Type::I64 => MInst::Store { size: Size::S64, addr, src },
                    Type::F32 | Type::F64 => MInst::FStore { double: ty == Type::F64, addr, src },
                    Type::V128 => MInst::VStore { addr, src },
                });
            }
            _ => unreachable!(),
        }
    }
}
