//! Translate: one validated wasm function body -> an SSA `ir::Function`.
//!
//! Walks the operators once, validating each with wasmparser in lockstep,
//! and keeps an abstract value stack of SSA values. Locals become SSA
//! variables ([`ssa`]). Operators are translated by family, one file each
//! (the same split as `lower/` and `tests/disas/`): [`control`],
//! [`variable`], [`int`], [`float`], [`memory`], [`call`], [`table`],
//! [`simd`].
//!
//! Requires: a `ModuleInfo` from `decode`. Produces: IR that satisfies
//! `ir::verify`, with possibly redundant block parameters.

mod call;
mod control;
mod float;
mod fuel;
mod int;
mod memory;
mod simd;
mod ssa;
mod table;
mod variable;

use super::CompileError;
use super::budget::FunctionBudget;
use super::decode::PendingBody;
use super::ir::{Block, BlockCall, Function, Inst, InstKind, Type, Value};
use crate::info::ModuleInfo;
use control::ControlFrame;
use ssa::SsaBuilder;
use wasmparser::{FuncValidatorAllocations, Operator};

/// Translation state of one function.
pub struct FuncTranslator<'m> {
    info: &'m ModuleInfo,
    func: Function,
    ssa: SsaBuilder,
    stack: Vec<Value>,
    control: Vec<ControlFrame>,
    current: Block,
    reachable: bool,
    srcloc: u32,
    loop_depth: u32,
    /// Fuel metering, when enabled.
    fuel: Option<fuel::FuelMeter<'m>>,
    /// Emit interruption check points.
    interruptible: bool,
    /// What this function may cost.
    budget: &'m FunctionBudget,
    /// Frames pushed so far (and `else` arms begun): the last generation.
    generation: u32,
    /// Of every variable, its latest definition: value, control stack
    /// depth and generation of the innermost frame at that point.
    latest_defs: Vec<Option<(Value, u32, u32)>>,
}

/// Translates one function body; refuses it when its locals or the IR and
/// SSA tables being built go over `budget`.
pub fn translate_function(
    info: &ModuleInfo,
    body: PendingBody<'_>,
    allocs: FuncValidatorAllocations,
    config: &'_ super::CodegenConfig,
    budget: &FunctionBudget,
) -> Result<(Function, FuncValidatorAllocations), CompileError> {
    let wasm_err = |e: wasmparser::BinaryReaderError| {
        CompileError::new(Some(e.offset() as usize), e.message().into())
    };
    let mut validator = body.validator.into_validator(allocs);
    let sig = info.func_type(body.func_index);
    let mut var_types: Vec<Type> = sig.params.iter().map(|&t| Type::of(t)).collect();

    let mut reader = body.body.get_binary_reader();
    let groups = reader.read_var_u32().map_err(wasm_err)?;
    let mut locals = Vec::new();
    let mut num_locals = sig.params.len() as u64;
    for _ in 0..groups {
        let offset = reader.original_position();
        let count = reader.read_var_u32().map_err(wasm_err)?;
        let ty = reader.read().map_err(wasm_err)?;
        validator.define_locals(offset, count, ty).map_err(wasm_err)?;
        num_locals += count as u64;
        budget.check_locals(num_locals)?;
        locals.push((count, ty));
    }
    for &(count, ty) in &locals {
        let ty = Type::of(super::decode::val_type(ty));
        var_types.extend(std::iter::repeat_n(ty, count as usize));
    }

    let fuel_var = var_types.len() as u32;
    if config.fuel.is_some() {
        var_types.push(Type::I64);
    }
    let mut t = FuncTranslator::new(info, body.func_index, var_types, budget);
    t.fuel = config.fuel.as_ref().map(|costs| fuel::FuelMeter { costs, var: fuel_var, pending: 0 });
    t.interruptible = config.interruptible;
    t.func.body_offset = body.body.range().start as u32;
    t.start(sig.params.len() as u32);
    let mut ops = wasmparser::OperatorsReader::new(reader);
    while !ops.eof() {
        let offset = ops.original_position();
        let op = ops.read().map_err(wasm_err)?;
        validator.op(offset, &op).map_err(wasm_err)?;
        t.srcloc = offset as u32;
        if t.reachable {
            t.fuel_before_op(&op);
        }
        t.translate(&op, offset as usize)?;
        if t.reachable {
            t.fuel_after_op(&op);
        }
        // Once per operator: one operator adds at most a block's worth of
        // parameters per variable it reads, and `br_table` and `end` check
        // before they do more.
        t.check_budget(0)?;
    }
    ops.finish().map_err(wasm_err)?;
    if std::env::var("SCION_DUMP").is_ok_and(|d| d.contains("budget")) {
        let bytes = t.ssa.estimated_bytes(&t.func);
        eprintln!("budget f{}: SSA construction {bytes} B", t.func.func_index);
    }
    let mut func = t.func;
    func.resolve_aliases();
    Ok((func, validator.into_allocations()))
}

impl<'m> FuncTranslator<'m> {
    fn new(
        info: &'m ModuleInfo,
        func_index: u32,
        var_types: Vec<Type>,
        budget: &'m FunctionBudget,
    ) -> Self {
        let sig = info.func_type(func_index);
        let func = Function::new(
            func_index,
            sig.params.iter().map(|&t| Type::of(t)).collect(),
            sig.results.iter().map(|&t| Type::of(t)).collect(),
        );
        let latest_defs = vec![None; var_types.len()];
        let mut ssa = SsaBuilder::new(var_types);
        ssa.max_bytes = budget.max_memory();
        FuncTranslator {
            info,
            func,
            ssa,
            stack: Vec::new(),
            control: Vec::new(),
            current: Block(0),
            reachable: true,
            srcloc: 0,
            loop_depth: 0,
            fuel: None,
            interruptible: false,
            budget,
            generation: 0,
            latest_defs,
        }
    }

    /// Creates the entry block, defines parameters and zeroed locals, and
    /// opens the function's control frame.
    fn start(&mut self, num_params: u32) {
        let entry = self.func.create_block();
        self.switch_to(entry);
        self.ssa.seal(&mut self.func, entry);
        let var_types = self.func.params.clone();
        for (i, &ty) in var_types.iter().enumerate() {
            let p = self.func.append_block_param(entry, ty);
            self.def_local(i as u32, p);
        }
        let num_vars = self.num_vars();
        for var in num_params..num_vars {
            let ty = self.var_type(var);
            let zero = self.zero(ty);
            self.def_local(var, zero);
        }
        self.fuel_entry();
        self.push_function_frame();
    }

    fn translate(&mut self, op: &Operator<'_>, offset: usize) -> Result<(), CompileError> {
        if !self.reachable {
            return self.translate_unreachable(op);
        }
        let handled = self.translate_control(op)?
            || self.translate_variable(op)
            || self.translate_int(op)
            || self.translate_float(op)
            || self.translate_memory(op)
            || self.translate_call(op)
            || self.translate_table(op)
            || self.translate_simd(op);
        if handled {
            Ok(())
        } else {
            Err(CompileError::new(Some(offset), format!("unsupported operator {op:?}")))
        }
    }

    // ---- helpers shared by the families ----

    /// Refuses the function if its IR and SSA tables, with `extra` bytes
    /// more, are over the memory budget.
    fn check_budget(&self, extra: usize) -> Result<(), CompileError> {
        let bytes = self.ssa.estimated_bytes(&self.func).saturating_add(extra);
        self.budget.check_memory("SSA construction", bytes)
    }

    fn switch_to(&mut self, block: Block) {
        self.func.layout.push(block);
        self.func.blocks[block.index()].loop_depth = self.loop_depth;
        self.current = block;
        self.reachable = true;
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().expect("validated: operand stack underflow")
    }

    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    fn peekn(&self, n: usize) -> Vec<Value> {
        self.stack[self.stack.len() - n..].to_vec()
    }

    /// Appends a non-terminator instruction to the current block.
    fn ins(&mut self, kind: InstKind, results: &[Type]) -> Inst {
        self.func.push_inst(self.current, kind, results, self.srcloc)
    }

    /// Appends an instruction with one result and returns it.
    fn ins1(&mut self, kind: InstKind, ty: Type) -> Value {
        let inst = self.ins(kind, &[ty]);
        self.func.first_result(inst)
    }

    /// Appends an instruction with one result and pushes it.
    fn push1(&mut self, kind: InstKind, ty: Type) {
        let v = self.ins1(kind, ty);
        self.push(v);
    }

    fn iconst(&mut self, ty: Type, imm: u64) -> Value {
        let imm = if ty == Type::I32 { imm & 0xffff_ffff } else { imm };
        self.ins1(InstKind::Iconst { imm }, ty)
    }

    fn zero(&mut self, ty: Type) -> Value {
        match ty {
            Type::V128 => self.ins1(InstKind::Vconst { bits: 0 }, ty),
            t if t.is_float() => self.ins1(InstKind::Fconst { bits: 0 }, ty),
            _ => self.iconst(ty, 0),
        }
    }

    /// Ends the current block with a terminator and records its edges.
    fn terminate(&mut self, kind: InstKind) {
        let targets: Vec<Block> = kind.targets().iter().map(|c| c.block).collect();
        kind.for_each_arg(|_| self.ssa.args += 1);
        let inst = self.func.push_inst(self.current, kind, &[], self.srcloc);
        for (slot, to) in targets.into_iter().enumerate() {
            self.ssa.add_edge(self.current, inst, slot as u32, to);
        }
        self.reachable = false;
    }

    fn jump(&mut self, block: Block, args: Vec<Value>) {
        self.terminate(InstKind::Jump { dest: BlockCall { block, args } });
    }

    fn num_vars(&self) -> u32 {
        self.ssa.num_vars()
    }

    fn var_type(&self, var: u32) -> Type {
        self.ssa.var_type(var)
    }

    fn block_with_params(&mut self, types: &[Type]) -> Block {
        let b = self.func.create_block();
        for &t in types {
            self.func.append_block_param(b, t);
        }
        b
    }
}
