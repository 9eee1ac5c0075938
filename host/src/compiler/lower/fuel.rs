//! Fuel counter accesses and check points.

use super::Lowerer;
use crate::compiler::ir::{Inst, InstKind};
use crate::compiler::vcode::*;
use crate::compiler::x64::encode::LoadKind;
use crate::compiler::x64::regs::Size;
use crate::contract::vmctx::{header, store};

impl Lowerer<'_> {
    /// The address of the store's fuel counter.
    fn fuel_counter(&mut self) -> MemAddr {
        let store_ctx = self.vreg(RegClass::Int);
        self.emit(MInst::Load {
            kind: LoadKind::U64,
            dst: store_ctx,
            addr: MemAddr::vmctx(header::STORE),
        });
        MemAddr::base_disp(store_ctx, store::FUEL_CONSUMED as i32)
    }

    pub(super) fn lower_fuel(&mut self, inst: Inst) {
        match self.func.insts[inst.index()].kind {
            InstKind::FuelLoad => {
                let addr = self.fuel_counter();
                let dst = self.def(self.func.first_result(inst));
                self.emit(MInst::Load { kind: LoadKind::U64, dst, addr });
            }
            InstKind::FuelStore { value } => {
                let src = self.get(value);
                let addr = self.fuel_counter();
                self.emit(MInst::Store { size: Size::S64, addr, src });
            }
            InstKind::CheckPoint { fuel } => {
                let fuel = fuel.map(|f| {
                    let src = self.get(f);
                    let dst = self.def(self.func.first_result(inst));
                    self.emit_move(dst, src, RegClass::Int);
                    dst
                });
                let interrupt = self.ctx.interruptible;
                self.emit(MInst::CheckPoint { fuel, interrupt, srcloc: self.srcloc });
            }
            _ => unreachable!(),
        }
    }
}
