//! Linear memory operators: loads, stores, memory.size/grow and bulk memory.

use super::FuncTranslator;
use crate::compiler::ir::{InstKind, MemOp, Type, Value};
use crate::contract::builtins::Builtin;
use crate::contract::fuel::FuelCosts;
use wasmparser::{MemArg, MemArgTarget, Operator};

pub(super) fn memory_index(m: &MemArg) -> u32 {
    match m.target {
        MemArgTarget::Memory(i) => i,
        MemArgTarget::Array(_) => unreachable!("GC arrays are rejected by validation"),
    }
}

impl FuncTranslator<'_> {
    pub(super) fn load(&mut self, m: &MemArg, bytes: u8, signed: bool, ty: Type) {
        let mem = memory_index(m);
        let addr = self.pop();
        let op = MemOp { bytes, signed, ty };
        self.push1(InstKind::Load { op, mem, addr, offset: m.offset }, ty);
    }

    pub(super) fn store(&mut self, m: &MemArg, bytes: u8, ty: Type) {
        let mem = memory_index(m);
        let (addr, value) = self.pop2();
        let op = MemOp { bytes, signed: false, ty };
        self.ins(InstKind::Store { op, mem, addr, value, offset: m.offset }, &[]);
    }

    /// Calls a builtin whose leading immediate arguments are indices. With
    /// `charge`, the last operand (a size) is charged as bulk work at the
    /// per-unit cost it selects.
    pub(super) fn builtin(
        &mut self,
        builtin: Builtin,
        imms: &[u32],
        nargs: usize,
        result: Option<Type>,
        charge: Option<fn(&FuelCosts) -> u8>,
    ) {
        let mut args: Vec<Value> = imms.iter().map(|&i| self.iconst(Type::I32, i as u64)).collect();
        let popped = self.popn(nargs);
        if let (Some(per_unit), Some(&units)) = (charge, popped.last()) {
            self.charge_bulk(units, per_unit);
        }
        args.extend(popped);
        let kind = InstKind::CallBuiltin { builtin, args };
        match result {
            Some(ty) => self.push1(kind, ty),
            None => {
                self.ins(kind, &[]);
            }
        }
    }

    pub(super) fn translate_memory(&mut self, op: &Operator<'_>) -> bool {
        use Operator as O;
        use Type::{F32, F64, I32, I64};
        match *op {
            O::I32Load { ref memarg } => self.load(memarg, 4, false, I32),
            O::I64Load { ref memarg } => self.load(memarg, 8, false, I64),
            O::F32Load { ref memarg } => self.load(memarg, 4, false, F32),
            O::F64Load { ref memarg } => self.load(memarg, 8, false, F64),
            O::I32Load8S { ref memarg } => self.load(memarg, 1, true, I32),
            O::I32Load8U { ref memarg } => self.load(memarg, 1, false, I32),
            O::I32Load16S { ref memarg } => self.load(memarg, 2, true, I32),
            O::I32Load16U { ref memarg } => self.load(memarg, 2, false, I32),
            O::I64Load8S { ref memarg } => self.load(memarg, 1, true, I64),
            O::I64Load8U { ref memarg } => self.load(memarg, 1, false, I64),
            O::I64Load16S { ref memarg } => self.load(memarg, 2, true, I64),
            O::I64Load16U { ref memarg } => self.load(memarg, 2, false, I64),
            O::I64Load32S { ref memarg } => self.load(memarg, 4, true, I64),
            O::I64Load32U { ref memarg } => self.load(memarg, 4, false, I64),
            O::I32Store { ref memarg } => self.store(memarg, 4, I32),
            O::I64Store { ref memarg } => self.store(memarg, 8, I64),
            O::F32Store { ref memarg } => self.store(memarg, 4, F32),
            O::F64Store { ref memarg } => self.store(memarg, 8, F64),
            O::I32Store8 { ref memarg } => self.store(memarg, 1, I32),
            O::I32Store16 { ref memarg } => self.store(memarg, 2, I32),
            O::I64Store8 { ref memarg } => self.store(memarg, 1, I64),
            O::I64Store16 { ref memarg } => self.store(memarg, 2, I64),
            O::I64Store32 { ref memarg } => self.store(memarg, 4, I64),
            O::MemorySize { mem } => self.push1(InstKind::MemorySize { mem }, I32),
            O::MemoryGrow { mem } => self.builtin(
                Builtin::MemoryGrow,
                &[mem],
                1,
                Some(I32),
                Some(|c| c.variable.memory_grow_per_page),
            ),
            O::MemoryFill { mem } => self.builtin(
                Builtin::MemoryFill,
                &[mem],
                3,
                None,
                Some(|c| c.variable.memory_fill_per_byte),
            ),
            O::MemoryCopy { dst_mem, src_mem } => self.builtin(
                Builtin::MemoryCopy,
                &[dst_mem, src_mem],
                3,
                None,
                Some(|c| c.variable.memory_copy_per_byte),
            ),
            O::MemoryInit { data_index, mem } => self.builtin(
                Builtin::MemoryInit,
                &[mem, data_index],
                3,
                None,
                Some(|c| c.variable.memory_init_per_byte),
            ),
            O::DataDrop { data_index } => {
                self.builtin(Builtin::DataDrop, &[data_index], 0, None, None)
            }
            _ => return false,
        }
        true
    }
}
