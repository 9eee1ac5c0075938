//! Fuel metering and interruption check points, mirroring Wasmtime 48 so
//! that completed calls consume the same fuel (see `contract::fuel`).
//!
//! The fuel counter is an SSA variable like a local: loaded at function
//! entry and after calls, increased by the cost of each straight-line
//! stretch of operators when the stretch ends, stored back before calls,
//! returns and `unreachable`. Check points (function entry, loop headers,
//! large bulk operations) test it and the interrupt flag.

use super::FuncTranslator;
use crate::compiler::ir::{BinaryOp, InstKind, Type, UnaryOp, Value};
use crate::contract::fuel::{FuelCosts, SMALL_BULK_COST};
use wasmparser::Operator;

/// Metering state of one function.
pub(super) struct FuelMeter<'a> {
    pub costs: &'a FuelCosts,
    /// SSA variable holding the counter.
    pub var: u32,
    /// Cost of the operators since the last flush.
    pub pending: i64,
}

impl FuncTranslator<'_> {
    /// Function entry: load the counter, charge the entry, check.
    pub(super) fn fuel_entry(&mut self) {
        if let Some(var) = self.fuel.as_ref().map(|f| f.var) {
            let v = self.ins1(InstKind::FuelLoad, Type::I64);
            self.def_local(var, v);
            // Every function costs 1 besides its operators.
            self.fuel.as_mut().unwrap().pending = 1;
        }
        self.check_point();
    }

    /// Accounts for `op` before it is translated.
    pub(super) fn fuel_before_op(&mut self, op: &Operator<'_>) {
        let Some(meter) = self.fuel.as_mut() else { return };
        meter.pending += meter.costs.cost(op);
        match op {
            Operator::Unreachable
            | Operator::Return
            | Operator::Call { .. }
            | Operator::CallIndirect { .. } => {
                self.fuel_flush();
                self.fuel_save();
            }
            Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::Br { .. }
            | Operator::BrIf { .. }
            | Operator::BrTable { .. }
            | Operator::End
            | Operator::Else => self.fuel_flush(),
            _ => {}
        }
    }

    /// Reloads the counter after calls, which may have changed it.
    pub(super) fn fuel_after_op(&mut self, op: &Operator<'_>) {
        if self.fuel.is_some()
            && matches!(op, Operator::Call { .. } | Operator::CallIndirect { .. })
        {
            let var = self.fuel.as_ref().unwrap().var;
            let v = self.ins1(InstKind::FuelLoad, Type::I64);
            self.def_local(var, v);
        }
    }

    /// Adds the pending cost to the counter.
    pub(super) fn fuel_flush(&mut self) {
        let Some(meter) = self.fuel.as_mut() else { return };
        let cost = std::mem::take(&mut meter.pending);
        let var = meter.var;
        if cost == 0 || !self.reachable {
            return;
        }
        let fuel = self.use_local(var);
        let c = self.iconst(Type::I64, cost as u64);
        let v = self.ins1(InstKind::Binary { op: BinaryOp::Add, args: [fuel, c] }, Type::I64);
        self.def_local(var, v);
    }

    /// Writes the counter back to the store.
    pub(super) fn fuel_save(&mut self) {
        let Some(var) = self.fuel.as_ref().map(|f| f.var) else { return };
        if self.reachable {
            let value = self.use_local(var);
            self.ins(InstKind::FuelStore { value }, &[]);
        }
    }

    /// Flushes and checks fuel and interruption (when either is enabled).
    pub(super) fn check_point(&mut self) {
        if !self.reachable {
            return;
        }
        match self.fuel.as_ref().map(|f| f.var) {
            Some(var) => {
                self.fuel_flush();
                let fuel = self.use_local(var);
                let v = self.ins1(InstKind::CheckPoint { fuel: Some(fuel) }, Type::I64);
                self.def_local(var, v);
            }
            None if self.interruptible => {
                self.ins(InstKind::CheckPoint { fuel: None }, &[]);
            }
            None => {}
        }
    }

    /// Charges `units * per_unit` for a bulk operation whose size `units`
    /// (i32) is a runtime value, then checks unless the cost is a small
    /// constant.
    pub(super) fn charge_bulk(&mut self, units: Value, per_unit: impl Fn(&FuelCosts) -> u8) {
        let constant = self.func.iconst_value(units).map(|c| c as u32 as i64);
        if let Some(meter) = self.fuel.as_mut() {
            let per_unit = per_unit(meter.costs) as i64;
            if per_unit > 0 {
                match constant {
                    Some(n) => meter.pending = meter.pending.saturating_add(n * per_unit),
                    None => {
                        let var = meter.var;
                        self.fuel_flush();
                        let fuel = self.use_local(var);
                        let wide = self
                            .ins1(InstKind::Unary { op: UnaryOp::ExtendU, arg: units }, Type::I64);
                        let cost = if per_unit == 1 {
                            wide
                        } else {
                            let k = self.iconst(Type::I64, per_unit as u64);
                            self.ins1(
                                InstKind::Binary { op: BinaryOp::Mul, args: [wide, k] },
                                Type::I64,
                            )
                        };
                        let v = self.ins1(
                            InstKind::Binary { op: BinaryOp::Add, args: [fuel, cost] },
                            Type::I64,
                        );
                        self.def_local(var, v);
                    }
                }
            }
        }
        let per_unit = self.fuel.as_ref().map_or(0, |m| per_unit(m.costs) as i64);
        let small = constant.is_some_and(|n| n * per_unit <= SMALL_BULK_COST);
        if !small {
            self.check_point();
        }
    }
}
