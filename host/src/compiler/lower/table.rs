//! Tables and references: table.get/set/size, ref.func.
//!
//! **Sandbox-critical.** Element indices are checked against the table's
//! current length before any element access.

use super::Lowerer;
use crate::compiler::ir::{Inst, InstKind, Value};
use crate::compiler::vcode::*;
use crate::compiler::x64::encode::LoadKind;
use crate::compiler::x64::regs::{Cond, Scale, Size};
use crate::contract::trap::TrapCode;
use crate::contract::vmctx::field;

impl Lowerer<'_> {
    /// The `VMTableDefinition` of table `table`.
    fn table_definition(&mut self, table: u32) -> MemAddr {
        let info = self.ctx.info;
        if table < info.imported_tables {
            let ptr = self.vreg(RegClass::Int);
            let addr = MemAddr::vmctx(self.ctx.offsets.table_import(table));
            self.emit(MInst::Load { kind: LoadKind::U64, dst: ptr, addr });
            MemAddr::base_disp(ptr, 0)
        } else {
            MemAddr::vmctx(self.ctx.offsets.table(table - info.imported_tables))
        }
    }

    /// Checks `index` against the table length (trapping with `code`) and
    /// returns the address of the element.
    pub(super) fn table_element(&mut self, table: u32, index: Value, code: TrapCode) -> MemAddr {
        let def = self.table_definition(table);
        let idx = self.get(index);
        let mut len = def;
        len.disp += field::TABLE_LENGTH as i32;
        self.emit(MInst::Cmp { size: Size::S64, a: idx, src: RegMemImm::Mem(len) });
        self.emit(MInst::TrapIf { cond: Cond::AE, code, srcloc: self.srcloc });
        let base = self.vreg(RegClass::Int);
        let mut base_addr = def;
        base_addr.disp += field::TABLE_BASE as i32;
        self.emit(MInst::Load { kind: LoadKind::U64, dst: base, addr: base_addr });
        MemAddr { base, index: Some((idx, Scale::Eight)), disp: 0 }
    }

    pub(super) fn lower_table(&mut self, inst: Inst) {
        match self.func.insts[inst.index()].kind {
            InstKind::TableGet { table, index } => {
                let addr = self.table_element(table, index, TrapCode::TableOutOfBounds);
                let dst = self.def(self.func.first_result(inst));
                self.emit(MInst::Load { kind: LoadKind::U64, dst, addr });
            }
            InstKind::TableSet { table, index, value } => {
                let src = self.get(value);
                let elem = self.table_element(table, index, TrapCode::TableOutOfBounds);
                // Keep stores to at most two registers: compute the address first.
                let ptr = self.vreg(RegClass::Int);
                self.emit(MInst::Lea { size: Size::S64, dst: ptr, addr: elem });
                self.emit(MInst::Store { size: Size::S64, addr: MemAddr::base_disp(ptr, 0), src });
            }
            InstKind::TableSize { table } => {
                let mut len = self.table_definition(table);
                len.disp += field::TABLE_LENGTH as i32;
                let dst = self.def(self.func.first_result(inst));
                self.emit(MInst::Load { kind: LoadKind::U32, dst, addr: len });
            }
            InstKind::RefFunc { func } => {
                let dst = self.def(self.func.first_result(inst));
                let addr = MemAddr::vmctx(self.ctx.offsets.funcref(func));
                self.emit(MInst::Lea { size: Size::S64, dst, addr });
            }
            _ => unreachable!(),
        }
    }
}
