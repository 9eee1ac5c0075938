//! Locals and globals: local.get/set/tee, global.get/set.

use super::FuncTranslator;
use crate::compiler::ir::{InstKind, Type};
use wasmparser::Operator;

impl FuncTranslator<'_> {
    pub(super) fn translate_variable(&mut self, op: &Operator<'_>) -> bool {
        match *op {
            Operator::LocalGet { local_index } => {
                let v = self.use_local(local_index);
                self.push(v);
            }
            Operator::LocalSet { local_index } => {
                let v = self.pop();
                self.def_local(local_index, v);
            }
            Operator::LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated");
                self.def_local(local_index, v);
            }
            Operator::GlobalGet { global_index } => {
                let ty = Type::of(self.info.globals[global_index as usize].content);
                self.push1(InstKind::GlobalGet { index: global_index }, ty);
            }
            Operator::GlobalSet { global_index } => {
                let value = self.pop();
                self.ins(InstKind::GlobalSet { index: global_index, value }, &[]);
            }
            _ => return false,
        }
        true
    }
}
