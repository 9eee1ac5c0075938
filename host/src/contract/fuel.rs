//! Fuel: what each operator costs, and how fuel is kept.
//!
//! Fuel lives in `VMStoreContext::fuel_consumed` as "consumed minus
//! granted", negative while fuel remains. Generated code keeps it in a
//! register inside a function, adds the cost of each straight-line stretch
//! of operators when the stretch ends (at branches, block ends, calls and
//! returns), writes it back before calls, returns and `unreachable`, and
//! checks its sign at function entry and loop headers, and before bulk
//! operations of unknown or large size. Every function entry costs 1 in
//! addition to its operators.
//!
//! The default table is Wasmtime 48's: 1 per operator, 0 for `nop`,
//! `drop`, `block`, `loop`, `unreachable`, `return`, `else` and `end`, plus
//! 1 per byte of `memory.copy`/`fill`/`init` and 1 per element of
//! `table.copy`/`fill`/`init`/`grow` (0 per page of `memory.grow`). With
//! it, the fuel a call that completes consumes equals Wasmtime's.
//!
//! Consumption depends only on the wasm program and its inputs: it is
//! computed from wasm operators during translation, before any
//! optimization.

use serde::{Deserialize, Serialize};
use wasmparser::Operator;

/// Bulk operations whose constant cost is at most this are charged without
/// a check point, as in Wasmtime; larger ones flush the pending cost and
/// check. Instantiation follows the same rule (`runtime::startup_fuel`).
pub const SMALL_BULK_COST: i64 = 128;

/// Per-unit costs of operators whose work depends on a runtime operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VariableCosts {
    /// Per byte of `memory.copy`.
    pub memory_copy_per_byte: u8,
    /// Per byte of `memory.fill`.
    pub memory_fill_per_byte: u8,
    /// Per byte of `memory.init`.
    pub memory_init_per_byte: u8,
    /// Per page requested by `memory.grow`.
    pub memory_grow_per_page: u8,
    /// Per element of `table.copy`.
    pub table_copy_per_element: u8,
    /// Per element of `table.fill`.
    pub table_fill_per_element: u8,
    /// Per element of `table.init`.
    pub table_init_per_element: u8,
    /// Per element requested by `table.grow`.
    pub table_grow_per_element: u8,
}

impl Default for VariableCosts {
    fn default() -> VariableCosts {
        VariableCosts {
            memory_copy_per_byte: 1,
            memory_fill_per_byte: 1,
            memory_init_per_byte: 1,
            memory_grow_per_page: 0,
            table_copy_per_element: 1,
            table_fill_per_element: 1,
            table_init_per_element: 1,
            table_grow_per_element: 1,
        }
    }
}

/// The fuel cost table. [`FuelCosts::default`] is Wasmtime 48's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FuelCosts {
    /// Costs that replace the default of an operator, by wasmparser operator
    /// name (`"I32Add"`, `"Call"`, `"MemoryGrow"`...), sorted by name.
    pub overrides: Vec<(String, u8)>,
    /// Per-unit costs of bulk operations.
    pub variable: VariableCosts,
}

impl FuelCosts {
    /// Sets the cost of the operator named `name` (wasmparser's variant
    /// name, e.g. `"I64DivS"`).
    pub fn with_cost(mut self, name: &str, cost: u8) -> FuelCosts {
        match self.overrides.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => self.overrides[i].1 = cost,
            Err(i) => self.overrides.insert(i, (name.to_string(), cost)),
        }
        self
    }

    /// The flat cost of an operator.
    pub fn cost(&self, op: &Operator<'_>) -> i64 {
        if !self.overrides.is_empty() {
            let name = operator_name(op);
            if let Ok(i) = self.overrides.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
                return self.overrides[i].1 as i64;
            }
        }
        default_cost(op)
    }
}

/// Wasmtime's default: free control flow, `nop` and `drop`; 1 otherwise.
pub fn default_cost(op: &Operator<'_>) -> i64 {
    match op {
        Operator::Nop
        | Operator::Drop
        | Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::Unreachable
        | Operator::Return
        | Operator::Else
        | Operator::End => 0,
        _ => 1,
    }
}

macro_rules! define_operator_name {
    ($(@$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        /// The wasmparser variant name of an operator.
        pub fn operator_name(op: &Operator<'_>) -> &'static str {
            match op {
                $(Operator::$op { .. } => stringify!($op),)*
                #[allow(unreachable_patterns)]
                _ => "Unknown",
            }
        }
    };
}

wasmparser::for_each_operator!(define_operator_name);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table_matches_wasmtime() {
        let c = FuelCosts::default();
        assert_eq!(c.cost(&Operator::Nop), 0);
        assert_eq!(c.cost(&Operator::End), 0);
        assert_eq!(c.cost(&Operator::I32Add), 1);
        assert_eq!(c.cost(&Operator::If { blockty: wasmparser::BlockType::Empty }), 1);
        assert_eq!(c.variable.memory_grow_per_page, 0);
        assert_eq!(c.variable.memory_copy_per_byte, 1);
    }

    #[test]
    fn overrides_by_name() {
        let c = FuelCosts::default().with_cost("I32Add", 5).with_cost("Call", 20);
        assert_eq!(c.cost(&Operator::I32Add), 5);
        assert_eq!(c.cost(&Operator::Call { function_index: 0 }), 20);
        assert_eq!(c.cost(&Operator::I32Sub), 1);
        assert_eq!(operator_name(&Operator::I64DivS), "I64DivS");
    }
}
