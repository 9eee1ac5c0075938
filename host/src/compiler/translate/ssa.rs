//! On-the-fly SSA construction for wasm locals (Braun et al., "Simple and
//! Efficient Construction of Static Single Assignment Form", 2013).
//!
//! Each local is a variable. Reading a variable in a block looks for its
//! definition there, else in predecessors; at joins it adds a block
//! parameter. Blocks whose predecessors are not all known yet (loop headers
//! before the loop ends, block continuations before `end`) are "unsealed":
//! reads there add an incomplete parameter, completed when the block is
//! sealed. The search is iterative so that long chains of blocks cannot
//! overflow the compiler's stack. Trivial parameters are left for
//! `opt::params` to remove.
//!
//! The search adds a parameter (and a table entry) at every join between
//! a read and its definition, for every variable read: many locals read
//! after many blocks make that product. The translator answers most reads
//! without it: when the latest definition is known to dominate the read
//! (`FuncTranslator::use_local`), it is the value. The tables this builder
//! keeps are counted ([`SsaBuilder::estimated_bytes`]) against the
//! function's memory budget.

use crate::compiler::ir::{Block, Function, Inst, Type, Value};
use std::collections::HashMap;

/// A branch edge into a block: which instruction, which of its targets.
#[derive(Clone, Copy, Debug)]
struct Edge {
    from: Block,
    inst: Inst,
    slot: u32,
}

/// SSA construction state for one function.
#[derive(Default)]
pub struct SsaBuilder {
    var_types: Vec<Type>,
    defs: HashMap<(Block, u32), Value>,
    sealed: Vec<bool>,
    preds: Vec<Vec<Edge>>,
    num_preds: usize,
    incomplete: Vec<Vec<(u32, Value)>>,
    num_incomplete: usize,
    /// Branch arguments in the function (those added here and those of
    /// the terminators the translator made), for the memory estimate.
    pub args: usize,
    /// Sealing stops adding arguments when the estimate passes this; the
    /// translator then refuses the function.
    pub max_bytes: usize,
}

enum Task {
    /// Find the value of the variable at the end of this block.
    Use(Block),
    /// Pop a found value and append it to this edge's arguments.
    AddArg(Edge),
    /// The parameter is complete: record it for these blocks and push it.
    Finish(Vec<Block>, Value),
}

impl SsaBuilder {
    /// A builder for variables of these types.
    pub fn new(var_types: Vec<Type>) -> SsaBuilder {
        SsaBuilder { var_types, max_bytes: usize::MAX, ..Default::default() }
    }

    /// Number of variables.
    pub fn num_vars(&self) -> u32 {
        self.var_types.len() as u32
    }

    /// Type of a variable.
    pub fn var_type(&self, var: u32) -> Type {
        self.var_types[var as usize]
    }

    fn ensure(&mut self, block: Block) {
        let n = block.index() + 1;
        if self.sealed.len() < n {
            self.sealed.resize(n, false);
            self.preds.resize(n, Vec::new());
            self.incomplete.resize(n, Vec::new());
        }
    }

    /// Records that `inst` (in `from`) branches to `to` through target `slot`.
    pub fn add_edge(&mut self, from: Block, inst: Inst, slot: u32, to: Block) {
        self.ensure(to);
        debug_assert!(!self.sealed[to.index()], "edge into sealed {to}");
        self.preds[to.index()].push(Edge { from, inst, slot });
        self.num_preds += 1;
    }

    /// Estimated bytes of `func` and of this builder's tables (hash-map
    /// entries with their share of a table that doubles when it grows), or
    /// of what the IR passes will allocate once the builder is gone, if
    /// that is more.
    pub fn estimated_bytes(&self, func: &Function) -> usize {
        let tables = self.defs.len() * 40
            + self.num_preds * 2 * size_of::<Edge>()
            + self.num_incomplete * 16
            + self.sealed.len() * (1 + 2 * size_of::<Vec<Edge>>());
        let passes = crate::compiler::opt::estimated_bytes(
            func.values.len(),
            func.blocks.len(),
            self.num_preds,
            self.args,
        );
        func.estimated_bytes_with(self.args) + tables.max(passes)
    }

    /// Whether all predecessors of `block` are known.
    pub fn is_sealed(&self, block: Block) -> bool {
        self.sealed.get(block.index()).copied().unwrap_or(false)
    }

    /// Whether any branch leads to `block`.
    pub fn has_preds(&self, block: Block) -> bool {
        self.preds.get(block.index()).is_some_and(|p| !p.is_empty())
    }

    /// Sets the variable's value at the current point of `block`.
    pub fn def_var(&mut self, var: u32, block: Block, value: Value) {
        self.defs.insert((block, var), value);
    }

    /// Declares that all predecessors of `block` are known and completes
    /// its incomplete parameters.
    pub fn seal(&mut self, func: &mut Function, block: Block) {
        self.ensure(block);
        self.sealed[block.index()] = true;
        // Parameters were appended in this order, so their arguments are too.
        for (var, _param) in std::mem::take(&mut self.incomplete[block.index()]) {
            // Variables × predecessors can be large; stop (and let the
            // translator refuse the function) once over the budget.
            if self.estimated_bytes(func) > self.max_bytes {
                return;
            }
            for edge in self.preds[block.index()].clone() {
                let v = self.use_var(func, var, edge.from);
                push_arg(func, edge, v);
                self.args += 1;
            }
        }
    }

    /// The value of the variable at the current point of `block`.
    pub fn use_var(&mut self, func: &mut Function, var: u32, block: Block) -> Value {
        let mut results = Vec::new();
        let mut tasks = vec![Task::Use(block)];
        while let Some(task) = tasks.pop() {
            match task {
                Task::Use(start) => {
                    let mut chain = Vec::new();
                    let mut b = start;
                    let found = loop {
                        self.ensure(b);
                        if let Some(&v) = self.defs.get(&(b, var)) {
                            break Some(v);
                        }
                        let ty = self.var_types[var as usize];
                        if !self.sealed[b.index()] {
                            let p = func.append_block_param(b, ty);
                            self.incomplete[b.index()].push((var, p));
                            self.num_incomplete += 1;
                            self.defs.insert((b, var), p);
                            break Some(p);
                        }
                        let preds = &self.preds[b.index()];
                        if preds.len() == 1 {
                            chain.push(b);
                            b = preds[0].from;
                            continue;
                        }
                        let p = func.append_block_param(b, ty);
                        self.defs.insert((b, var), p);
                        if preds.is_empty() {
                            break Some(p);
                        }
                        chain.push(b);
                        tasks.push(Task::Finish(chain.clone(), p));
                        for &edge in preds.iter().rev() {
                            tasks.push(Task::AddArg(edge));
                            tasks.push(Task::Use(edge.from));
                        }
                        break None;
                    };
                    if let Some(v) = found {
                        for c in chain {
                            self.defs.insert((c, var), v);
                        }
                        results.push(v);
                    }
                }
                Task::AddArg(edge) => {
                    let v = results.pop().expect("value for edge");
                    push_arg(func, edge, v);
                    self.args += 1;
                }
                Task::Finish(chain, p) => {
                    for c in chain {
                        self.defs.insert((c, var), p);
                    }
                    results.push(p);
                }
            }
        }
        debug_assert_eq!(results.len(), 1);
        results.pop().expect("use_var result")
    }
}

fn push_arg(func: &mut Function, edge: Edge, v: Value) {
    func.insts[edge.inst.index()].kind.target_mut(edge.slot as usize).args.push(v);
}
