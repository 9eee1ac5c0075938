//! Text form of the IR, for golden tests and debugging.

use super::*;
use std::fmt::{self, Write};

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::I32 => "i32",
            Type::I64 => "i64",
            Type::F32 => "f32",
            Type::F64 => "f64",
            Type::V128 => "v128",
        })
    }
}

fn list(vals: &[Value]) -> String {
    vals.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
}

fn call(c: &BlockCall) -> String {
    format!("{}({})", c.block, list(&c.args))
}

/// Renders one instruction's operation (without results).
pub fn inst_text(func: &Function, inst: Inst) -> String {
    let d = &func.insts[inst.index()];
    let ty = (d.num_results > 0).then(|| func.value_type(func.first_result(inst)));
    let ty = ty.map(|t| format!(".{t}")).unwrap_or_default();
    match &d.kind {
        InstKind::Iconst { imm } => format!("iconst{ty} {:#x}", imm),
        InstKind::Fconst { bits } => format!("fconst{ty} {:#x}", bits),
        InstKind::Vconst { bits } => format!("vconst {:#034x}", bits),
        InstKind::Simd { op, args } => {
            format!("{op:?} {}", list(&args[..op.num_args()])).to_lowercase()
        }
        InstKind::Unary { op, arg } => {
            format!("{op:?}{ty}.{} {arg}", func.value_type(*arg)).to_lowercase()
        }
        InstKind::Binary { op, args } => format!("{op:?}{ty} {}", list(args)).to_lowercase(),
        InstKind::Compare { op, args } => {
            format!("cmp.{op:?}.{} {}", func.value_type(args[0]), list(args)).to_lowercase()
        }
        InstKind::Select { cond, if_true, if_false } => {
            format!("select{ty} {cond}, {if_true}, {if_false}")
        }
        InstKind::Load { op, mem, addr, offset } => format!(
            "load{}.{}{} mem{mem}[{addr} + {offset}]",
            ty,
            op.bytes,
            if op.signed { "s" } else { "" }
        ),
        InstKind::Store { op, mem, addr, value, offset } => {
            format!("store.{}.{} mem{mem}[{addr} + {offset}], {value}", op.ty, op.bytes)
        }
        InstKind::GlobalGet { index } => format!("global.get{ty} {index}"),
        InstKind::GlobalSet { index, value } => format!("global.set {index}, {value}"),
        InstKind::MemorySize { mem } => format!("memory.size {mem}"),
        InstKind::TableSize { table } => format!("table.size {table}"),
        InstKind::TableGet { table, index } => format!("table.get {table}[{index}]"),
        InstKind::TableSet { table, index, value } => {
            format!("table.set {table}[{index}], {value}")
        }
        InstKind::RefFunc { func } => format!("ref.func {func}"),
        InstKind::Call { func, args } => format!("call f{func}({})", list(args)),
        InstKind::CallIndirect { ty, table, index, args } => {
            format!("call_indirect type{ty} table{table}[{index}]({})", list(args))
        }
        InstKind::CallBuiltin { builtin, args } => {
            format!("call_builtin {}({})", builtin.name(), list(args))
        }
        InstKind::FuelLoad => "fuel.load".to_string(),
        InstKind::FuelStore { value } => format!("fuel.store {value}"),
        InstKind::CheckPoint { fuel: Some(f) } => format!("check_point {f}"),
        InstKind::CheckPoint { fuel: None } => "check_point".to_string(),
        InstKind::Jump { dest } => format!("jump {}", call(dest)),
        InstKind::Brif { cond, then_dest, else_dest } => {
            format!("brif {cond}, {}, {}", call(then_dest), call(else_dest))
        }
        InstKind::BrTable { index, targets, default } => format!(
            "br_table {index}, [{}], {}",
            targets.iter().map(call).collect::<Vec<_>>().join(", "),
            call(default)
        ),
        InstKind::Return { args } => format!("return {}", list(args)),
        InstKind::Trap { code } => format!("trap {code:?}"),
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let tys = |l: &[Type]| l.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
        writeln!(
            out,
            "function f{}({}) -> ({}) {{",
            self.func_index,
            tys(&self.params),
            tys(&self.results)
        )?;
        for &b in &self.layout {
            let params: Vec<String> = self.blocks[b.index()]
                .params
                .iter()
                .map(|p| format!("{p}: {}", self.value_type(*p)))
                .collect();
            writeln!(out, "{b}({}):", params.join(", "))?;
            for &inst in &self.blocks[b.index()].insts {
                let results: Vec<String> = self.results(inst).map(|v| v.to_string()).collect();
                if results.is_empty() {
                    writeln!(out, "    {}", inst_text(self, inst))?;
                } else {
                    writeln!(out, "    {} = {}", results.join(", "), inst_text(self, inst))?;
                }
            }
        }
        out.push_str("}\n");
        f.write_str(&out)
    }
}
