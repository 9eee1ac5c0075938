//! Lower: SSA IR -> VCode (x86-64 instructions over virtual registers).
//!
//! Walks the blocks in layout order and each block's instructions in
//! order. Every IR value gets a virtual register when it is defined, except
//! constants, which are rematerialised at each use that needs a register
//! (most uses fold them as immediates). A comparison used only by its
//! block's branch (with no other comparison, select or call between), or
//! by the select right after it, is fused into `cmp`+`jcc` or
//! `cmp`+`cmov`. Conditional edges that pass arguments are split into
//! small edge blocks holding the parallel moves.
//!
//! Operators are lowered by family, one file each, mirroring `translate/`:
//! [`control`], [`variable`], [`int`], [`float`], [`memory`], [`call`],
//! [`table`], [`simd`].
//!
//! Requires: IR that passed `ir::verify`, no aliases. Produces: VCode whose
//! block 0 is the entry, with `Params` as its first instruction.

mod address;
mod call;
mod control;
mod float;
mod fuel;
mod int;
mod memory;
mod simd;
mod table;
mod variable;

use super::ir::{self, Block, Function, Inst, InstKind, Type, Value};
use super::vcode::*;
use super::x64::IsaFlags;
use super::x64::regs::{Gpr, Size, Xmm};
use crate::contract::vmctx::VMOffsets;
use crate::info::ModuleInfo;
use std::collections::HashMap;

/// Module-wide facts the lowering needs.
pub struct LowerContext<'a> {
    /// The module.
    pub info: &'a ModuleInfo,
    /// Its vmctx layout.
    pub offsets: &'a VMOffsets,
    /// Instruction-set extensions to use.
    pub isa: IsaFlags,
    /// Check points also test the store's interrupt flag.
    pub interruptible: bool,
}

/// Lowering state of one function.
pub struct Lowerer<'a> {
    ctx: &'a LowerContext<'a>,
    func: &'a Function,
    vcode: VCode,
    value_regs: Vec<Option<Reg>>,
    use_counts: Vec<u32>,
    /// Instructions folded into the addressing mode of the addition that
    /// uses them (`address.rs`), by instruction.
    folded: Vec<bool>,
    /// VBlock of each IR block in the layout.
    block_map: Vec<Option<VBlock>>,
    /// Edge blocks still to emit: (edge block, target, args), in order of
    /// creation, and the same keyed by target and args.
    pending_edges: Vec<(VBlock, Block, Vec<Value>)>,
    edge_blocks: HashMap<(Block, Vec<Value>), VBlock>,
    /// A comparison whose emission is deferred to its only user.
    deferred_compare: Option<Inst>,
    /// Address values bounds-checked in this block, by memory and
    /// address: the largest end checked.
    checked: HashMap<(u32, Value), u64>,
    /// Constant pool entries already in `vcode.constants`.
    constant_ids: HashMap<Constant, ConstId>,
    /// Registers and targets in the lists of instructions emitted so far.
    list_operands: usize,
    srcloc: u32,
}

/// Lowers one function; gives up, returning the estimated bytes of the
/// VCode so far, when they pass `max_bytes` (checked after every block:
/// lowering adds at most a few machine instructions per IR instruction).
pub fn lower(ctx: &LowerContext<'_>, func: &Function, max_bytes: usize) -> Result<VCode, usize> {
    let use_counts = use_counts(func);
    let folded = address::folded_instructions(func, &use_counts);
    let mut l = Lowerer {
        ctx,
        func,
        folded,
        vcode: VCode {
            func_index: func.func_index,
            body_offset: func.body_offset,
            ..Default::default()
        },
        value_regs: vec![None; func.values.len()],
        use_counts,
        block_map: vec![None; func.blocks.len()],
        pending_edges: Vec::new(),
        edge_blocks: HashMap::new(),
        deferred_compare: None,
        checked: HashMap::new(),
        constant_ids: HashMap::new(),
        list_operands: 0,
        srcloc: 0,
    };
    for &b in &func.layout {
        let vb = l.new_vblock(func.blocks[b.index()].loop_depth);
        l.block_map[b.index()] = Some(vb);
    }
    for (i, &b) in func.layout.iter().enumerate() {
        l.lower_block(b, i == 0);
        let bytes = l.estimated_bytes();
        if bytes > max_bytes {
            return Err(bytes);
        }
    }
    let mut order: Vec<VBlock> = (0..l.vcode.blocks.len() as u32).map(VBlock).collect();
    order.sort_by_key(|b| l.vcode.blocks[b.0 as usize].start);
    l.vcode.order = order;
    Ok(l.vcode)
}

/// Empties a per-block map. A map that grew large in one block is dropped
/// rather than cleared: clearing costs its capacity, every block after.
fn reset<K, V>(map: &mut HashMap<K, V>) {
    if map.capacity() > 256 {
        *map = HashMap::new();
    } else {
        map.clear();
    }
}

fn use_counts(func: &Function) -> Vec<u32> {
    let mut counts = vec![0u32; func.values.len()];
    for &b in &func.layout {
        for &inst in &func.blocks[b.index()].insts {
            func.insts[inst.index()].kind.for_each_arg(|v| counts[v.index()] += 1);
        }
    }
    counts
}

/// The register class of an IR type.
pub fn class_of(ty: Type) -> RegClass {
    if ty.in_xmm() { RegClass::Float } else { RegClass::Int }
}

/// The operand size of an integer IR type.
pub fn size_of(ty: Type) -> Size {
    match ty {
        Type::I32 | Type::F32 => Size::S32,
        // Vectors are never integer operands; selects still ask.
        Type::I64 | Type::F64 | Type::V128 => Size::S64,
    }
}

impl<'a> Lowerer<'a> {
    /// Estimated bytes of the VCode so far and of the lowering's tables
    /// (vectors counted at up to twice their length).
    fn estimated_bytes(&self) -> usize {
        use std::mem::size_of;
        let v = &self.vcode;
        let vcode = v.insts.len() * (size_of::<MInst>() + size_of::<u32>())
            + self.list_operands * size_of::<Reg>()
            + v.blocks.len() * size_of::<VBlockData>()
            + v.vreg_classes.len() * size_of::<RegClass>()
            + v.hints.len() * size_of::<(Reg, Reg)>();
        let tables = self.value_regs.len() * (size_of::<Option<Reg>>() + size_of::<u32>())
            + self.block_map.len() * size_of::<Option<VBlock>>();
        2 * vcode + tables
    }

    fn new_vblock(&mut self, loop_depth: u32) -> VBlock {
        self.vcode.blocks.push(VBlockData { loop_depth, ..Default::default() });
        VBlock(self.vcode.blocks.len() as u32 - 1)
    }

    /// A fresh virtual register.
    fn vreg(&mut self, class: RegClass) -> Reg {
        self.vcode.vreg_classes.push(class);
        Reg(NUM_PREGS + self.vcode.vreg_classes.len() as u32 - 1)
    }

    fn emit(&mut self, inst: MInst) {
        if let MInst::OutgoingArgs { bytes } = inst {
            self.vcode.outgoing_bytes = self.vcode.outgoing_bytes.max(bytes);
        }
        self.list_operands += inst.list_len();
        self.vcode.insts.push(inst);
        self.vcode.srclocs.push(self.srcloc);
    }

    fn hint(&mut self, a: Reg, b: Reg) {
        self.vcode.hints.push((a, b));
    }

    fn ty(&self, v: Value) -> Type {
        self.func.value_type(v)
    }

    /// The register defined for IR value `v` (created on first request).
    fn def(&mut self, v: Value) -> Reg {
        if let Some(r) = self.value_regs[v.index()] {
            return r;
        }
        let r = self.vreg(class_of(self.ty(v)));
        self.value_regs[v.index()] = Some(r);
        r
    }

    /// The register holding IR value `v` at this point; constants are
    /// materialised here.
    fn get(&mut self, v: Value) -> Reg {
        if let Some(r) = self.value_regs[v.index()] {
            return r;
        }
        let ty = self.ty(v);
        let inst = self.func.def_inst(v).expect("value defined before use");
        match self.func.insts[inst.index()].kind {
            InstKind::Iconst { imm } => {
                let dst = self.vreg(RegClass::Int);
                self.emit(MInst::MovImm { size: size_of(ty), dst, imm });
                dst
            }
            InstKind::Fconst { bits } => {
                let dst = self.vreg(RegClass::Float);
                self.emit(MInst::FConst { double: ty == Type::F64, dst, bits });
                dst
            }
            InstKind::Vconst { bits } => {
                let dst = self.vreg(RegClass::Float);
                self.emit(MInst::VConst { dst, bits });
                dst
            }
            _ => panic!("{v} used before its definition was lowered"),
        }
    }

    /// The integer constant value of `v`, if it has one.
    fn const_of(&self, v: Value) -> Option<u64> {
        self.func.iconst_value(v)
    }

    /// `v` as an operand: a sign-extended imm32 when it is a constant that
    /// fits, else its register.
    fn rmi(&mut self, v: Value) -> RegMemImm {
        match self.const_of(v) {
            Some(c) if imm32_of(c, self.ty(v)).is_some() => {
                RegMemImm::Imm(imm32_of(c, self.ty(v)).unwrap())
            }
            _ => RegMemImm::Reg(self.get(v)),
        }
    }

    /// Copies a whole register (i32 values are zero-extended, so a 64-bit
    /// copy preserves them) and hints that both may share a register.
    fn emit_move(&mut self, dst: Reg, src: Reg, class: RegClass) {
        match class {
            RegClass::Int => self.emit(MInst::Mov { size: Size::S64, dst, src }),
            RegClass::Float => self.emit(MInst::FMov { dst, src }),
        }
        self.hint(dst, src);
    }

    /// A constant 16-byte pool entry.
    fn constant(&mut self, bytes: [u8; 16]) -> ConstId {
        let c = Constant(bytes);
        *self.constant_ids.entry(c).or_insert_with(|| {
            self.vcode.constants.push(c);
            ConstId(self.vcode.constants.len() as u32 - 1)
        })
    }

    fn lower_block(&mut self, b: Block, is_entry: bool) {
        let vb = self.block_map[b.index()].unwrap();
        reset(&mut self.checked);
        self.vcode.blocks[vb.0 as usize].start = self.vcode.insts.len() as u32;
        let params: Vec<Value> = self.func.blocks[b.index()].params.clone();
        if is_entry {
            self.lower_entry_params(&params);
        } else {
            let regs: Vec<Reg> = params.iter().map(|&p| self.def(p)).collect();
            self.vcode.blocks[vb.0 as usize].params = regs;
        }
        for (pos, &inst) in self.func.blocks[b.index()].insts.iter().enumerate() {
            self.srcloc = self.func.insts[inst.index()].srcloc;
            self.lower_inst(b, pos, inst);
        }
        self.vcode.blocks[vb.0 as usize].end = self.vcode.insts.len() as u32;
        // Edge blocks follow their source block.
        reset(&mut self.edge_blocks);
        for (eb, target, args) in std::mem::take(&mut self.pending_edges) {
            self.vcode.blocks[eb.0 as usize].start = self.vcode.insts.len() as u32;
            let regs: Vec<Reg> = args.iter().map(|&a| self.get(a)).collect();
            let t = self.block_map[target.index()].unwrap();
            self.emit(MInst::Jmp { target: t, args: regs });
            self.vcode.blocks[eb.0 as usize].end = self.vcode.insts.len() as u32;
        }
    }

    /// Defines the entry block's parameters from the calling convention.
    fn lower_entry_params(&mut self, params: &[Value]) {
        let sig = self.ctx.info.func_type(self.func.func_index);
        let layout = crate::contract::abi::call_layout(&sig.params, &sig.results);
        let mut defs = Vec::new();
        for loc in &layout.params {
            match *loc {
                crate::contract::abi::ArgLoc::Gpr(g) => defs.push(Reg::gpr(Gpr(g))),
                crate::contract::abi::ArgLoc::Xmm(x) => defs.push(Reg::xmm(Xmm(x))),
                crate::contract::abi::ArgLoc::Stack(_) => {}
            }
        }
        self.emit(MInst::Params { defs });
        for (&p, loc) in params.iter().zip(&layout.params) {
            let dst = self.def(p);
            let kind = SlotKind::of(self.ty(p));
            match *loc {
                crate::contract::abi::ArgLoc::Gpr(g) => {
                    self.emit_move(dst, Reg::gpr(Gpr(g)), RegClass::Int)
                }
                crate::contract::abi::ArgLoc::Xmm(x) => {
                    self.emit_move(dst, Reg::xmm(Xmm(x)), RegClass::Float)
                }
                crate::contract::abi::ArgLoc::Stack(offset) => {
                    self.emit(MInst::LoadParam { offset, dst, kind })
                }
            }
        }
    }

    /// The VBlock to branch to for an edge, creating an edge block when the
    /// edge passes arguments from a conditional branch.
    fn edge_target(&mut self, call: &ir::BlockCall, from_depth: u32) -> VBlock {
        if call.args.is_empty() {
            return self.block_map[call.block.index()].unwrap();
        }
        let key = (call.block, call.args.clone());
        if let Some(&eb) = self.edge_blocks.get(&key) {
            return eb;
        }
        let eb = self.new_vblock(from_depth);
        self.pending_edges.push((eb, call.block, call.args.clone()));
        self.edge_blocks.insert(key, eb);
        eb
    }

    /// Lowers `inst`, instruction number `pos` of `block`.
    fn lower_inst(&mut self, block: Block, pos: usize, inst: Inst) {
        let kind = &self.func.insts[inst.index()].kind;
        match kind {
            InstKind::Iconst { .. } | InstKind::Fconst { .. } | InstKind::Vconst { .. } => {}
            _ if self.folded[inst.index()] => {}
            InstKind::Compare { .. } if self.is_fusable_compare(block, pos, inst) => {
                self.deferred_compare = Some(inst);
            }
            InstKind::Simd { .. } => self.lower_simd(inst),
            InstKind::Unary { .. } => self.lower_unary(inst),
            InstKind::Binary { .. } => self.lower_binary(inst),
            InstKind::Compare { .. } => self.lower_compare(inst),
            InstKind::Select { .. } => self.lower_select(inst),
            InstKind::Load { .. } | InstKind::Store { .. } | InstKind::MemorySize { .. } => {
                self.lower_memory(inst)
            }
            InstKind::GlobalGet { .. } | InstKind::GlobalSet { .. } => self.lower_variable(inst),
            InstKind::FuelLoad | InstKind::FuelStore { .. } | InstKind::CheckPoint { .. } => {
                self.lower_fuel(inst)
            }
            InstKind::TableGet { .. }
            | InstKind::TableSet { .. }
            | InstKind::TableSize { .. }
            | InstKind::RefFunc { .. } => self.lower_table(inst),
            InstKind::Call { .. }
            | InstKind::CallIndirect { .. }
            | InstKind::CallBuiltin { .. } => self.lower_call(inst),
            InstKind::Jump { .. }
            | InstKind::Brif { .. }
            | InstKind::BrTable { .. }
            | InstKind::Return { .. }
            | InstKind::Trap { .. } => self.lower_terminator(block, inst),
        }
    }

    /// A comparison (instruction `pos` of `block`) whose only use is the
    /// condition of the block's `brif`, or of a `select` right after it.
    /// It is emitted where it is used (so flags survive until then); a
    /// `brif` may come later, after instructions that neither compare,
    /// select nor call (the fuel counter's update, typically), since the
    /// deferred compare is emitted just before the branch.
    fn is_fusable_compare(&self, block: Block, pos: usize, inst: Inst) -> bool {
        let v = self.func.first_result(inst);
        if self.use_counts[v.index()] != 1 {
            return false;
        }
        let insts = &self.func.blocks[block.index()].insts;
        debug_assert_eq!(insts[pos], inst);
        let Some(&next) = insts.get(pos + 1) else {
            return false;
        };
        let last = insts[insts.len() - 1];
        if let InstKind::Brif { cond, .. } = self.func.insts[last.index()].kind
            && cond == v
        {
            return insts[pos + 1..insts.len() - 1].iter().all(|&i| {
                !matches!(
                    self.func.insts[i.index()].kind,
                    InstKind::Compare { .. }
                        | InstKind::Select { .. }
                        | InstKind::Call { .. }
                        | InstKind::CallIndirect { .. }
                        | InstKind::CallBuiltin { .. }
                )
            });
        }
        match &self.func.insts[next.index()].kind {
            InstKind::Select { cond, if_true, if_false } => {
                // Operands that are constants would be materialised between
                // the compare and the cmov; that is harmless (mov keeps flags).
                *cond == v && *if_true != v && *if_false != v
            }
            _ => false,
        }
    }
}

/// `c` as a sign-extended imm32 operand of an instruction of type `ty`.
pub fn imm32_of(c: u64, ty: Type) -> Option<i32> {
    match ty {
        // 32-bit operations use the low 32 bits of the immediate.
        Type::I32 => Some(c as u32 as i32),
        _ => i32::try_from(c as i64).ok(),
    }
}
