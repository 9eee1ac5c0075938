//! The `Function` container: blocks, instructions and values.

use super::{Block, BlockCall, Inst, InstKind, Type, Value};

/// Where a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueDef {
    /// Result number `n` of an instruction.
    Result(Inst, u16),
    /// Parameter number `n` of a block.
    Param(Block, u16),
    /// Replaced by another value (removed block parameter); resolved away by
    /// [`Function::resolve_aliases`].
    Alias(Value),
}

/// Type and definition of a value.
#[derive(Clone, Copy, Debug)]
pub struct ValueData {
    /// Type.
    pub ty: Type,
    /// Definition.
    pub def: ValueDef,
}

/// One instruction.
#[derive(Clone, Debug)]
pub struct InstData {
    /// What it does.
    pub kind: InstKind,
    /// First result value; results are numbered consecutively.
    pub first_result: u32,
    /// Number of results.
    pub num_results: u16,
    /// Byte offset in the wasm module of the operator it came from.
    pub srcloc: u32,
}

/// One basic block.
#[derive(Clone, Debug, Default)]
pub struct BlockData {
    /// Parameters (the block's phis).
    pub params: Vec<Value>,
    /// Instructions in order; the last is the terminator.
    pub insts: Vec<Inst>,
    /// Loop nesting depth, for spill costs.
    pub loop_depth: u32,
    /// The block is a loop header.
    pub is_loop_header: bool,
}

/// A function in SSA form.
#[derive(Clone, Debug, Default)]
pub struct Function {
    /// Index in the module's function index space.
    pub func_index: u32,
    /// Parameter types (the entry block's parameters).
    pub params: Vec<Type>,
    /// Result types.
    pub results: Vec<Type>,
    /// All blocks, indexed by `Block`.
    pub blocks: Vec<BlockData>,
    /// All instructions, indexed by `Inst`.
    pub insts: Vec<InstData>,
    /// All values, indexed by `Value`.
    pub values: Vec<ValueData>,
    /// Blocks in emission order; the first is the entry block.
    pub layout: Vec<Block>,
    /// Byte offset of the function body in the wasm module.
    pub body_offset: u32,
}

impl Function {
    /// An empty function.
    pub fn new(func_index: u32, params: Vec<Type>, results: Vec<Type>) -> Function {
        Function { func_index, params, results, ..Default::default() }
    }

    /// A new block, not yet in the layout.
    pub fn create_block(&mut self) -> Block {
        self.blocks.push(BlockData::default());
        Block(self.blocks.len() as u32 - 1)
    }

    /// Adds a parameter of type `ty` to `block`.
    pub fn append_block_param(&mut self, block: Block, ty: Type) -> Value {
        let n = self.blocks[block.index()].params.len() as u16;
        let v = self.new_value(ty, ValueDef::Param(block, n));
        self.blocks[block.index()].params.push(v);
        v
    }

    fn new_value(&mut self, ty: Type, def: ValueDef) -> Value {
        self.values.push(ValueData { ty, def });
        Value(self.values.len() as u32 - 1)
    }

    /// Appends an instruction with results of the given types to `block`.
    pub fn push_inst(
        &mut self,
        block: Block,
        kind: InstKind,
        result_types: &[Type],
        srcloc: u32,
    ) -> Inst {
        let inst = Inst(self.insts.len() as u32);
        let first_result = self.values.len() as u32;
        for (i, &ty) in result_types.iter().enumerate() {
            self.new_value(ty, ValueDef::Result(inst, i as u16));
        }
        self.insts.push(InstData {
            kind,
            first_result,
            num_results: result_types.len() as u16,
            srcloc,
        });
        self.blocks[block.index()].insts.push(inst);
        inst
    }

    /// The results of an instruction.
    pub fn results(&self, inst: Inst) -> impl ExactSizeIterator<Item = Value> + use<> {
        let d = &self.insts[inst.index()];
        (d.first_result..d.first_result + d.num_results as u32).map(Value)
    }

    /// The first result of an instruction (panics when it has none).
    pub fn first_result(&self, inst: Inst) -> Value {
        let d = &self.insts[inst.index()];
        assert!(d.num_results > 0, "{inst} has no result");
        Value(d.first_result)
    }

    /// Type of a value.
    pub fn value_type(&self, v: Value) -> Type {
        self.values[v.index()].ty
    }

    /// Follows aliases to the value that really defines `v`.
    pub fn resolve(&self, mut v: Value) -> Value {
        while let ValueDef::Alias(to) = self.values[v.index()].def {
            v = to;
        }
        v
    }

    /// Makes `from` an alias of `to`.
    pub fn make_alias(&mut self, from: Value, to: Value) {
        debug_assert_ne!(self.resolve(to), from, "alias cycle");
        self.values[from.index()].def = ValueDef::Alias(to);
    }

    /// Rewrites every operand to its resolved value.
    pub fn resolve_aliases(&mut self) {
        let values = std::mem::take(&mut self.values);
        let resolve = |mut v: Value| {
            while let ValueDef::Alias(to) = values[v.index()].def {
                v = to;
            }
            v
        };
        for b in &self.layout {
            for &inst in &self.blocks[b.index()].insts {
                self.insts[inst.index()].kind.map_args(|a| *a = resolve(*a));
            }
        }
        self.values = values;
    }

    /// The terminator of a block, if it has one.
    pub fn terminator(&self, block: Block) -> Option<Inst> {
        let last = *self.blocks[block.index()].insts.last()?;
        self.insts[last.index()].kind.is_terminator().then_some(last)
    }

    /// The constant value of `v`, if it is defined by an `Iconst`.
    pub fn iconst_value(&self, v: Value) -> Option<u64> {
        match self.values[self.resolve(v).index()].def {
            ValueDef::Result(inst, 0) => match self.insts[inst.index()].kind {
                InstKind::Iconst { imm } => Some(imm),
                _ => None,
            },
            _ => None,
        }
    }

    /// The instruction defining `v`, if it is an instruction result.
    pub fn def_inst(&self, v: Value) -> Option<Inst> {
        match self.values[self.resolve(v).index()].def {
            ValueDef::Result(inst, _) => Some(inst),
            _ => None,
        }
    }

    /// Removes the block parameters for which `keep(param)` is false,
    /// together with the matching arguments of every branch in the layout.
    pub fn retain_block_params(&mut self, mut keep: impl FnMut(Value) -> bool) {
        let mut masks: Vec<Option<Vec<bool>>> = vec![None; self.blocks.len()];
        for &b in &self.layout {
            let mask: Vec<bool> = self.blocks[b.index()].params.iter().map(|&p| keep(p)).collect();
            if mask.iter().any(|k| !k) {
                masks[b.index()] = Some(mask);
            }
        }
        for (b, mask) in masks.iter().enumerate() {
            let Some(mask) = mask else { continue };
            let mut i = 0;
            self.blocks[b].params.retain(|_| {
                i += 1;
                mask[i - 1]
            });
            for (n, &p) in self.blocks[b].params.iter().enumerate() {
                self.values[p.index()].def = ValueDef::Param(Block(b as u32), n as u16);
            }
        }
        for &b in &self.layout {
            let Some(&last) = self.blocks[b.index()].insts.last() else {
                continue;
            };
            for call in self.insts[last.index()].kind.targets_mut() {
                if let Some(mask) = &masks[call.block.index()] {
                    let mut i = 0;
                    call.args.retain(|_| {
                        i += 1;
                        mask[i - 1]
                    });
                }
            }
        }
    }

    /// Successor blocks of `block` (with repetition), from its terminator.
    pub fn successors(&self, block: Block) -> Vec<Block> {
        match self.terminator(block) {
            Some(t) => self.insts[t.index()].kind.targets().iter().map(|c| c.block).collect(),
            None => Vec::new(),
        }
    }

    /// Predecessor lists of every block (indexed by `Block`), from the layout.
    pub fn predecessors(&self) -> Vec<Vec<Block>> {
        let mut preds = vec![Vec::new(); self.blocks.len()];
        for &b in &self.layout {
            for s in self.successors(b) {
                preds[s.index()].push(b);
            }
        }
        preds
    }

    /// Estimated bytes of the function's tables when it has `args` branch
    /// and call arguments: each table counted twice (a vector that grew by
    /// doubling has up to twice its length allocated).
    pub fn estimated_bytes_with(&self, args: usize) -> usize {
        2 * (self.insts.len() * (size_of::<InstData>() + size_of::<Inst>())
            + self.values.len() * (size_of::<ValueData>() + size_of::<Value>())
            + self.blocks.len() * size_of::<BlockData>()
            + self.layout.len() * size_of::<Block>()
            + args * size_of::<Value>())
    }

    /// Estimated bytes of the function's tables (see
    /// [`Self::estimated_bytes_with`]).
    pub fn estimated_bytes(&self) -> usize {
        let mut args = 0;
        for inst in &self.insts {
            inst.kind.for_each_arg(|_| args += 1);
        }
        self.estimated_bytes_with(args)
    }

    /// A branch target without arguments.
    pub fn call(block: Block) -> BlockCall {
        BlockCall { block, args: Vec::new() }
    }
}
