//! Tables and references: table.get/set/size/grow/fill/copy/init,
//! elem.drop, ref.null/is_null/func.

use super::FuncTranslator;
use crate::compiler::ir::{CmpOp, InstKind, Type};
use crate::contract::builtins::Builtin;
use wasmparser::Operator;

impl FuncTranslator<'_> {
    pub(super) fn translate_table(&mut self, op: &Operator<'_>) -> bool {
        use Operator as O;
        use Type::{I32, I64};
        match *op {
            O::TableGet { table } => {
                let index = self.pop();
                self.push1(InstKind::TableGet { table, index }, I64);
            }
            O::TableSet { table } => {
                let (index, value) = self.pop2();
                self.ins(InstKind::TableSet { table, index, value }, &[]);
            }
            O::TableSize { table } => self.push1(InstKind::TableSize { table }, I32),
            O::TableGrow { table } => self.builtin(
                Builtin::TableGrow,
                &[table],
                2,
                Some(I32),
                Some(|c| c.variable.table_grow_per_element),
            ),
            O::TableFill { table } => self.builtin(
                Builtin::TableFill,
                &[table],
                3,
                None,
                Some(|c| c.variable.table_fill_per_element),
            ),
            O::TableCopy { dst_table, src_table } => self.builtin(
                Builtin::TableCopy,
                &[dst_table, src_table],
                3,
                None,
                Some(|c| c.variable.table_copy_per_element),
            ),
            O::TableInit { elem_index, table } => self.builtin(
                Builtin::TableInit,
                &[table, elem_index],
                3,
                None,
                Some(|c| c.variable.table_init_per_element),
            ),
            O::ElemDrop { elem_index } => {
                self.builtin(Builtin::ElemDrop, &[elem_index], 0, None, None)
            }
            O::RefNull { .. } => {
                let v = self.iconst(I64, 0);
                self.push(v);
            }
            O::RefIsNull => {
                let r = self.pop();
                let zero = self.iconst(I64, 0);
                self.push1(InstKind::Compare { op: CmpOp::Eq, args: [r, zero] }, I32);
            }
            O::RefFunc { function_index } => {
                self.push1(InstKind::RefFunc { func: function_index }, I64)
            }
            _ => return false,
        }
        true
    }
}
