//! Control operators: block, loop, if/else, end, br, br_if, br_table,
//! return, unreachable, nop, drop, select.

use super::FuncTranslator;
use crate::compiler::CompileError;
use crate::compiler::ir::{Block, BlockCall, InstKind, Type, Value};
use crate::contract::trap::TrapCode;
use wasmparser::{BlockType, Operator};

/// What kind of construct a control frame is.
pub(super) enum FrameKind {
    /// The function body; its label is the return block.
    Function,
    /// `block`.
    Block,
    /// `loop`; its label is the header.
    Loop { header: Block },
    /// `if` before `else`, with the else block and the parameters to give it.
    If { else_block: Block, else_args: Vec<Value> },
    /// `if` after `else`.
    Else,
    /// A construct inside unreachable code; translated to nothing.
    Dead,
}

/// One entry of the control stack.
pub(super) struct ControlFrame {
    kind: FrameKind,
    /// Where execution continues after `end`; parameters are the results.
    next: Block,
    params: Vec<Type>,
    results: Vec<Type>,
    /// Operand stack height below this frame's parameters.
    height: usize,
    /// Identifies this frame instance (and, for `if`, its current arm)
    /// among all frames of the function; set by `push_frame`.
    pub(super) generation: u32,
    /// Loop frames on the control stack up to and including this one.
    pub(super) loops: u32,
}

impl FuncTranslator<'_> {
    fn block_type(&self, bt: BlockType) -> (Vec<Type>, Vec<Type>) {
        match bt {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![Type::of(crate::compiler::decode::val_type(t))]),
            BlockType::FuncType(i) => {
                let ft = &self.info.types[i as usize];
                (
                    ft.params.iter().map(|&t| Type::of(t)).collect(),
                    ft.results.iter().map(|&t| Type::of(t)).collect(),
                )
            }
        }
    }

    pub(super) fn push_function_frame(&mut self) {
        let results = self.func.results.clone();
        let next = self.block_with_params(&results);
        self.push_frame(ControlFrame {
            kind: FrameKind::Function,
            next,
            params: vec![],
            results,
            height: 0,
            generation: 0,
            loops: 0,
        });
    }

    /// Pushes `frame`, giving it a new generation and its loop count.
    fn push_frame(&mut self, mut frame: ControlFrame) {
        self.generation += 1;
        frame.generation = self.generation;
        let below = self.control.last().map_or(0, |f| f.loops);
        frame.loops = below + matches!(frame.kind, FrameKind::Loop { .. }) as u32;
        self.control.push(frame);
    }

    /// The value of local (or other SSA variable) `var` here. When the
    /// latest definition of `var` was made in a frame that is still open,
    /// in the same arm, and no loop was entered since (neither a loop frame
    /// opened nor the current block an unsealed loop header), that
    /// definition dominates this point and no later one can reach it: it
    /// is the value, without searching predecessors (a search that would
    /// add a parameter for `var` at every join since, for every variable
    /// read, however many blocks follow one another).
    pub(super) fn use_local(&mut self, var: u32) -> Value {
        let latest = self.latest_defs[var as usize].filter(|_| self.ssa.is_sealed(self.current));
        if let Some((value, depth, generation)) = latest {
            // The loops open below the definition, if its frame is open
            // (a definition at depth 0 is in the entry block, before any).
            let open = match depth.checked_sub(1) {
                None => Some(0),
                Some(d) => {
                    let f = self.control.get(d as usize);
                    f.filter(|f| f.generation == generation).map(|f| f.loops)
                }
            };
            let loops_now = self.control.last().map_or(0, |f| f.loops);
            if open == Some(loops_now) {
                return value;
            }
        }
        self.ssa.use_var(&mut self.func, var, self.current)
    }

    /// Sets local (or other SSA variable) `var` to `value` here.
    pub(super) fn def_local(&mut self, var: u32, value: Value) {
        self.ssa.def_var(var, self.current, value);
        let depth = self.control.len() as u32;
        let generation = self.control.last().map_or(0, |f| f.generation);
        self.latest_defs[var as usize] = Some((value, depth, generation));
    }

    /// The branch target of relative depth `depth` and how many values it takes.
    fn label(&self, depth: u32) -> (Block, usize) {
        let f = &self.control[self.control.len() - 1 - depth as usize];
        match f.kind {
            FrameKind::Loop { header } => (header, f.params.len()),
            _ => (f.next, f.results.len()),
        }
    }

    pub(super) fn translate_control(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        match *op {
            Operator::Nop => {}
            Operator::Drop => {
                self.pop();
            }
            Operator::Unreachable => self.terminate(InstKind::Trap { code: TrapCode::Unreachable }),
            Operator::Select | Operator::TypedSelect { .. } | Operator::TypedSelectMulti { .. } => {
                let cond = self.pop();
                let (if_true, if_false) = self.pop2();
                let ty = self.func.value_type(if_true);
                self.push1(InstKind::Select { cond, if_true, if_false }, ty);
            }
            Operator::Block { blockty } => {
                let (params, results) = self.block_type(blockty);
                let next = self.block_with_params(&results);
                let height = self.stack.len() - params.len();
                self.push_frame(ControlFrame {
                    kind: FrameKind::Block,
                    next,
                    params,
                    results,
                    height,
                    generation: 0,
                    loops: 0,
                });
            }
            Operator::Loop { blockty } => {
                let (params, results) = self.block_type(blockty);
                let header = self.block_with_params(&params);
                let args = self.popn(params.len());
                let height = self.stack.len();
                self.jump(header, args);
                self.loop_depth += 1;
                self.func.blocks[header.index()].is_loop_header = true;
                self.switch_to(header);
                // The loop's own parameters, before the check point adds phis.
                let header_params = self.func.blocks[header.index()].params.clone();
                self.stack.extend(header_params);
                self.check_point();
                let next = self.block_with_params(&results);
                self.push_frame(ControlFrame {
                    kind: FrameKind::Loop { header },
                    next,
                    params,
                    results,
                    height,
                    generation: 0,
                    loops: 0,
                });
            }
            Operator::If { blockty } => {
                let (params, results) = self.block_type(blockty);
                let cond = self.pop();
                let then_block = self.func.create_block();
                let else_block = self.func.create_block();
                let next = self.block_with_params(&results);
                let height = self.stack.len() - params.len();
                let else_args = self.peekn(params.len());
                self.terminate(InstKind::Brif {
                    cond,
                    then_dest: BlockCall { block: then_block, args: vec![] },
                    else_dest: BlockCall { block: else_block, args: vec![] },
                });
                self.ssa.seal(&mut self.func, then_block);
                self.ssa.seal(&mut self.func, else_block);
                self.switch_to(then_block);
                self.push_frame(ControlFrame {
                    kind: FrameKind::If { else_block, else_args },
                    next,
                    params,
                    results,
                    height,
                    generation: 0,
                    loops: 0,
                });
            }
            Operator::Else => self.translate_else(),
            Operator::End => self.translate_end(),
            Operator::Br { relative_depth } => {
                let (block, n) = self.label(relative_depth);
                let args = self.peekn(n);
                self.jump(block, args);
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop();
                let (block, n) = self.label(relative_depth);
                let args = self.peekn(n);
                let fallthrough = self.func.create_block();
                self.terminate(InstKind::Brif {
                    cond,
                    then_dest: BlockCall { block, args },
                    else_dest: BlockCall { block: fallthrough, args: vec![] },
                });
                self.ssa.seal(&mut self.func, fallthrough);
                self.switch_to(fallthrough);
            }
            Operator::BrTable { ref targets } => {
                let (default_block, n) = self.label(targets.default());
                // Every target gets its own copy of the arguments.
                let copies = targets.len() as usize + 1;
                let bytes = copies.saturating_mul(size_of::<BlockCall>() + n * size_of::<Value>());
                self.check_budget(bytes.saturating_mul(2))?;
                let index = self.pop();
                let args = self.peekn(n);
                let targets = targets
                    .targets()
                    .map(|d| BlockCall {
                        block: self.label(d.expect("validated")).0,
                        args: args.clone(),
                    })
                    .collect();
                self.terminate(InstKind::BrTable {
                    index,
                    targets,
                    default: BlockCall { block: default_block, args },
                });
            }
            Operator::Return => {
                let n = self.func.results.len();
                let args = self.peekn(n);
                self.terminate(InstKind::Return { args });
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Operators met while the current point is unreachable: only the
    /// nesting structure matters.
    pub(super) fn translate_unreachable(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                let next = self.current;
                self.push_frame(ControlFrame {
                    kind: FrameKind::Dead,
                    next,
                    params: vec![],
                    results: vec![],
                    height: self.stack.len(),
                    generation: 0,
                    loops: 0,
                });
            }
            Operator::Else
                if !matches!(self.control.last().map(|f| &f.kind), Some(FrameKind::Dead)) => {
                    self.translate_else();
                }
            Operator::End => {
                if matches!(self.control.last().map(|f| &f.kind), Some(FrameKind::Dead)) {
                    self.control.pop();
                } else {
                    self.translate_end();
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn translate_else(&mut self) {
        let frame = self.control.last_mut().expect("validated: else inside if");
        let FrameKind::If { else_block, else_args } =
            std::mem::replace(&mut frame.kind, FrameKind::Else)
        else {
            unreachable!("validated: else after if");
        };
        let (next, nresults, height) = (frame.next, frame.results.len(), frame.height);
        // Definitions in the `then` arm do not reach the `else` arm.
        self.generation += 1;
        frame.generation = self.generation;
        if self.reachable {
            let args = self.peekn(nresults);
            self.jump(next, args);
        }
        self.stack.truncate(height);
        self.stack.extend(else_args);
        self.switch_to(else_block);
    }

    fn translate_end(&mut self) {
        let frame = self.control.pop().expect("validated: end inside a frame");
        if self.reachable {
            let args = self.peekn(frame.results.len());
            if matches!(frame.kind, FrameKind::Function) {
                self.fuel_save();
                self.terminate(InstKind::Return { args });
            } else {
                self.jump(frame.next, args);
            }
        }
        let is_function = matches!(frame.kind, FrameKind::Function);
        match frame.kind {
            FrameKind::If { else_block, else_args } => {
                // An `if` without `else`: the else path passes the parameters through.
                self.switch_to(else_block);
                self.jump(frame.next, else_args);
            }
            FrameKind::Loop { header } => {
                self.ssa.seal(&mut self.func, header);
                self.loop_depth -= 1;
            }
            _ => {}
        }
        self.stack.truncate(frame.height);
        self.ssa.seal(&mut self.func, frame.next);
        if self.ssa.has_preds(frame.next) {
            self.switch_to(frame.next);
            let params = self.func.blocks[frame.next.index()].params.clone();
            if is_function {
                self.fuel_save();
                self.terminate(InstKind::Return { args: params });
            } else {
                self.stack.extend(params);
            }
        } else {
            self.reachable = false;
        }
    }
}
