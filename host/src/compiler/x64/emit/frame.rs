//! Frames and the calling convention: prologue (with the stack check),
//! epilogue, spill slots, calls, blocks and branches.

use super::*;

impl<'a> FuncEmitter<'a> {
    pub(super) fn new(tb: &'a mut TextBuilder, vcode: &'a VCode, alloc: &'a Allocation) -> Self {
        let saved_bytes = 8 + 8 * alloc.callee_saved.len() as i32;
        let raw = saved_bytes + abi::SPILL_SLOT_SIZE * alloc.num_slots as i32
            + vcode.outgoing_bytes as i32;
        let total = (raw + 15) / 16 * 16;
        let block_labels = (0..vcode.blocks.len()).map(|_| tb.asm.new_label()).collect();
        let mut layout_pos = vec![u32::MAX; vcode.blocks.len()];
        // Branches into each block, plus one for falling into it.
        let mut entries = vec![0u32; vcode.blocks.len()];
        for (k, b) in vcode.order.iter().enumerate() {
            layout_pos[b.0 as usize] = k as u32;
            for s in vcode.successors(b.0 as usize) {
                entries[s.0 as usize] += 1;
            }
        }
        if let Some(entry) = vcode.order.first() {
            entries[entry.0 as usize] += 1;
        }
        let consts: Vec<(Label, [u8; 16])> =
            vcode.constants.iter().map(|c| (tb.asm.new_label(), c.0)).collect();
        // The VCode's pool (referenced by index) comes first; constants the
        // emitter asks for reuse its first equal entry.
        let mut const_labels = HashMap::new();
        for &(l, b) in &consts {
            const_labels.entry(b).or_insert(l);
        }
        FuncEmitter {
            tb,
            vcode,
            alloc,
            frame: Frame { saved_bytes, total },
            block_labels,
            stubs: Vec::new(),
            stub_labels: HashMap::new(),
            consts,
            const_labels,
            tables: Vec::new(),
            yield_stubs: Vec::new(),
            pending_stores: Vec::new(),
            pending_fstores: Vec::new(),
            gpr_scratch_used: 0,
            xmm_scratch_used: 0,
            gpr_use_scratch: Vec::new(),
            xmm_use_scratch: Vec::new(),
            next_block: None,
            next_next_block: None,
            active_copies: Vec::new(),
            current_inst: 0,
            current_block: 0,
            layout_pos,
            skipped: vec![false; vcode.blocks.len()],
            entries,
        }
    }

    pub(super) fn asm(&mut self) -> &mut Asm {
        &mut self.tb.asm
    }

    pub(super) fn slot(&self, n: u32) -> Amode {
        Amode::base_disp(Gpr::RBP, -(self.frame.saved_bytes + abi::SPILL_SLOT_SIZE * (n as i32 + 1)))
    }

    pub(super) fn prologue(&mut self) {
        let total = self.frame.total;
        let body_offset = self.vcode.body_offset;
        self.tb.push_frame_pointer();
        self.tb.push_saved(VMCTX, 0);
        let a = self.asm();
        // Stack check: trap if the frame would go below the store's limit.
        a.load(LoadKind::U64, TMP, Amode::base_disp(VMCTX, header::STORE as i32));
        a.load(LoadKind::U64, TMP, Amode::base_disp(TMP, store::STACK_LIMIT as i32));
        a.alu_ri(AluOp::Add, Size::S64, TMP, total);
        a.alu_rr(AluOp::Cmp, Size::S64, Gpr::RSP, TMP);
        self.trap_if(Cond::B, TrapCode::StackOverflow, body_offset);
        let saved: Vec<Gpr> = self.alloc.callee_saved.clone();
        let rest = total - self.frame.saved_bytes;
        for (i, r) in saved.into_iter().enumerate() {
            self.tb.push_saved(r, 8 + 8 * i as u32);
        }
        let a = self.asm();
        if rest > 0 {
            a.alu_ri(AluOp::Sub, Size::S64, Gpr::RSP, rest);
        }
    }

    pub(super) fn epilogue(&mut self) {
        let saved: Vec<Gpr> = self.alloc.callee_saved.clone();
        let saved_bytes = self.frame.saved_bytes;
        let a = self.asm();
        a.lea(Size::S64, Gpr::RSP, Amode::base_disp(Gpr::RBP, -saved_bytes));
        for &r in saved.iter().rev() {
            a.pop(r);
        }
        a.pop(VMCTX);
        self.tb.pop_frame_pointer_and_return();
    }

    pub(super) fn block(&mut self, b: usize, next: Option<usize>, next_next: Option<usize>) {
        self.next_block = next;
        self.next_next_block = next_next;
        self.current_block = b;
        let l = self.block_labels[b];
        self.tb.asm.bind(l);
        if self.skipped[b] {
            return;
        }
        let blk = &self.vcode.blocks[b];
        self.active_copies.clear();
        for i in blk.start..blk.end {
            self.current_inst = i;
            self.start_copies(i);
            let inst = &self.vcode.insts[i as usize];
            let srcloc = self.vcode.srclocs[i as usize];
            self.tb.line(srcloc);
            self.inst(inst, srcloc);
            self.done();
        }
    }

    /// The block whose code follows the current block's (past the next
    /// block when that one is not emitted).
    pub(super) fn next_block(&self) -> Option<usize> {
        match self.next_block {
            Some(n) if self.skipped[n] => self.next_next_block,
            next => next,
        }
    }

    /// Where a branch to `target` can go directly: past blocks that only
    /// jump on with no move to make (edge blocks whose arguments were all
    /// coalesced with the parameters), so a loop's latch branches straight
    /// to its header.
    pub(super) fn thread(&self, mut target: VBlock) -> VBlock {
        for _ in 0..4 {
            let blk = &self.vcode.blocks[target.0 as usize];
            if blk.end != blk.start + 1 || !blk.params.is_empty() {
                break;
            }
            let MInst::Jmp { target: next, ref args } = self.vcode.insts[blk.start as usize] else {
                break;
            };
            let params = &self.vcode.blocks[next.0 as usize].params;
            let moves_nothing = params.iter().zip(args).all(|(&p, &a)| {
                let to = self.alloc.loc(p);
                to == Loc::None || to == self.alloc.loc(a)
            });
            if !moves_nothing || next == target {
                break;
            }
            target = next;
        }
        target
    }

    /// [`Self::thread`] for a branch of the current block; an edge block
    /// laid out right after it whose only entry was this branch is then
    /// dead, and is not emitted.
    pub(super) fn thread_from_here(&mut self, target: VBlock) -> VBlock {
        let to = self.thread(target);
        let t = target.0 as usize;
        if to != target && self.next_block == Some(t) && self.entries[t] == 1 {
            self.skipped[t] = true;
        }
        to
    }

    /// Whether a branch to `target` goes back to the current block or one
    /// laid out before it (a loop's back edge, in wasm's structured code).
    pub(super) fn is_back_edge(&self, target: VBlock) -> bool {
        self.layout_pos[target.0 as usize] <= self.layout_pos[self.current_block]
    }

    /// Whether falling through into the following code reaches `target`
    /// (it is the next block, or the next block only jumps on to it).
    pub(super) fn falls_into(&self, target: VBlock) -> bool {
        self.next_block()
            .is_some_and(|n| n == target.0 as usize || self.thread(VBlock(n as u32)) == target)
    }

    pub(super) fn jump_to(&mut self, target: VBlock) {
        if !self.falls_into(target) {
            let l = self.block_labels[target.0 as usize];
            self.asm().jmp(l);
        }
    }
    pub(super) fn call(&mut self, target: &CallTarget) {
        let restore = |a: &mut Asm| {
            a.load(LoadKind::U64, VMCTX, Amode::base_disp(Gpr::RBP, abi::FRAME_VMCTX_OFFSET));
            a.load(LoadKind::U64, HEAP, Amode::base_disp(VMCTX, header::HEAP_BASE as i32));
        };
        match *target {
            CallTarget::Defined(f) => {
                let l = self.tb.func_labels[(f - self.tb.imported_funcs) as usize];
                self.asm().call_label(l);
            }
            CallTarget::Import(f) => {
                let at = self.tb.offsets.func_import(f) as i32;
                let a = self.asm();
                a.load(
                    LoadKind::U64,
                    TMP,
                    Amode::base_disp(VMCTX, at + field::IMPORT_WASM_CALL as i32),
                );
                a.load(
                    LoadKind::U64,
                    VMCTX,
                    Amode::base_disp(VMCTX, at + field::IMPORT_VMCTX as i32),
                );
                a.load(LoadKind::U64, HEAP, Amode::base_disp(VMCTX, header::HEAP_BASE as i32));
                a.call_r(TMP);
                restore(a);
            }
            CallTarget::FuncRef(r) => {
                let f = self.use_gpr(r);
                debug_assert!(f != VMCTX && f != HEAP && f != TMP);
                let a = self.asm();
                a.load(LoadKind::U64, VMCTX, Amode::base_disp(f, field::FUNCREF_VMCTX as i32));
                a.load(LoadKind::U64, HEAP, Amode::base_disp(VMCTX, header::HEAP_BASE as i32));
                a.call_m(Amode::base_disp(f, field::FUNCREF_WASM_CALL as i32));
                restore(a);
            }
            CallTarget::Builtin(b) => {
                let a = self.asm();
                a.load(LoadKind::U64, TMP, Amode::base_disp(VMCTX, header::BUILTINS as i32));
                a.call_m(Amode::base_disp(TMP, b.table_offset() as i32));
            }
        }
    }
}
