//! Calls: call, call_indirect.

use super::FuncTranslator;
use crate::compiler::ir::{InstKind, Type};
use wasmparser::Operator;

impl FuncTranslator<'_> {
    pub(super) fn translate_call(&mut self, op: &Operator<'_>) -> bool {
        match *op {
            Operator::Call { function_index } => {
                let ty = self.info.func_type(function_index);
                let results: Vec<Type> = ty.results.iter().map(|&t| Type::of(t)).collect();
                let args = self.popn(ty.params.len());
                let inst = self.ins(InstKind::Call { func: function_index, args }, &results);
                let vals: Vec<_> = self.func.results(inst).collect();
                self.stack.extend(vals);
            }
            Operator::CallIndirect { type_index, table_index } => {
                let ty = &self.info.types[type_index as usize];
                let results: Vec<Type> = ty.results.iter().map(|&t| Type::of(t)).collect();
                let nparams = ty.params.len();
                let index = self.pop();
                let args = self.popn(nparams);
                let kind =
                    InstKind::CallIndirect { ty: type_index, table: table_index, index, args };
                let inst = self.ins(kind, &results);
                let vals: Vec<_> = self.func.results(inst).collect();
                self.stack.extend(vals);
            }
            _ => return false,
        }
        true
    }
}
