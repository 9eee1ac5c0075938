//! Operands: registers for spilled values (through the scratch registers),
//! constants, and the parallel moves of block edges.

use super::*;

impl FuncEmitter<'_> {
    /// A fresh scratch GPR; with `reuse`, one holding a read-only operand
    /// when none is free (only for defs written after every read).
    pub(super) fn scratch_gpr(&mut self, reuse: bool) -> Gpr {
        if self.gpr_scratch_used < SCRATCH_GPRS.len() {
            self.gpr_scratch_used += 1;
            return SCRATCH_GPRS[self.gpr_scratch_used - 1];
        }
        match self.gpr_use_scratch.pop() {
            Some(g) if reuse => g,
            _ => panic!("instruction needs more than two spilled GPR operands in registers"),
        }
    }

    pub(super) fn scratch_xmm(&mut self, reuse: bool) -> Xmm {
        if self.xmm_scratch_used < SCRATCH_XMMS.len() {
            self.xmm_scratch_used += 1;
            return SCRATCH_XMMS[self.xmm_scratch_used - 1];
        }
        match self.xmm_use_scratch.pop() {
            Some(x) if reuse => x,
            _ => panic!("instruction needs more than two spilled XMM operands in registers"),
        }
    }

    pub(super) fn reload_gpr(&mut self, n: u32) -> Gpr {
        let s = self.scratch_gpr(false);
        let m = self.slot(n);
        self.asm().load(LoadKind::U64, s, m);
        s
    }

    pub(super) fn reload_xmm(&mut self, n: u32) -> Xmm {
        let s = self.scratch_xmm(false);
        let m = self.slot(n);
        self.asm().load_v128(s, m);
        s
    }

    /// The physical register holding a local copy of spilled `r` at the
    /// current instruction, if any.
    pub(super) fn local_copy(&self, r: Reg) -> Option<Reg> {
        self.active_copy(r).map(|c| c.reg)
    }

    fn active_copy(&self, r: Reg) -> Option<&LocalCopy> {
        if !r.is_virtual() {
            return None;
        }
        let v = r.vreg_index() as u32;
        self.active_copies.iter().find(|c| c.vreg == v)
    }

    /// Where a definition of spilled `r` goes besides its copy: the slot
    /// at the stretch's last definition, nowhere at earlier ones.
    fn copy_store(&self, r: Reg, slot: Loc) -> Loc {
        match self.active_copy(r) {
            Some(c) if c.store_at != Some(self.current_inst) => Loc::None,
            _ => slot,
        }
    }

    /// Makes the local copies that start at instruction `i` active (loading
    /// those whose first occurrence reads) and retires those that ended.
    pub(super) fn start_copies(&mut self, i: u32) {
        self.active_copies.retain(|c| c.last >= i);
        let copies = &self.alloc.copies;
        let mut k = copies.partition_point(|c| c.first < i);
        while k < copies.len() && copies[k].first == i {
            let c = copies[k];
            if c.load {
                let Loc::Stack(n) = self.alloc.locs[c.vreg as usize] else {
                    unreachable!("local copies are of spilled registers")
                };
                let m = self.slot(n);
                match (c.reg.as_gpr(), c.reg.as_xmm()) {
                    (Some(g), _) => self.asm().load(LoadKind::U64, g, m),
                    (_, Some(x)) => self.asm().load_v128(x, m),
                    _ => unreachable!("a copy is in a physical register"),
                }
            }
            self.active_copies.push(c);
            k += 1;
        }
    }

    /// A GPR holding `r`'s value (its local copy, or reloaded into scratch
    /// when spilled).
    pub(super) fn use_gpr(&mut self, r: Reg) -> Gpr {
        if let Some(c) = self.local_copy(r) {
            return c.as_gpr().expect("GPR copy");
        }
        match self.alloc.loc(r) {
            Loc::Reg(p) => p.as_gpr().expect("GPR operand"),
            Loc::Stack(n) => {
                let s = self.reload_gpr(n);
                self.gpr_use_scratch.push(s);
                s
            }
            Loc::None => panic!("{r:?} has no location"),
        }
    }

    /// A GPR to write `r` into after all operands are read (stored back
    /// after the instruction when spilled).
    pub(super) fn def_gpr(&mut self, r: Reg) -> Gpr {
        self.def_gpr_at(r, true)
    }

    /// A GPR written before the operands are read (an `EarlyDef`).
    pub(super) fn early_def_gpr(&mut self, r: Reg) -> Gpr {
        self.def_gpr_at(r, false)
    }

    pub(super) fn def_gpr_at(&mut self, r: Reg, late: bool) -> Gpr {
        match self.alloc.loc(r) {
            Loc::Reg(p) => p.as_gpr().expect("GPR operand"),
            // The copy takes the value; the slot too at the stretch's
            // last definition (`copy_store`).
            loc @ Loc::Stack(_) if let Some(c) = self.local_copy(r) => {
                let g = c.as_gpr().expect("GPR copy");
                self.pending_stores.push((self.copy_store(r, loc), g));
                g
            }
            loc => {
                let s = self.scratch_gpr(late);
                self.pending_stores.push((loc, s));
                s
            }
        }
    }

    /// A GPR that is read and written.
    pub(super) fn mod_gpr(&mut self, r: Reg) -> Gpr {
        match self.alloc.loc(r) {
            Loc::Stack(n) if let Some(c) = self.local_copy(r) => {
                let g = c.as_gpr().expect("GPR copy");
                self.pending_stores.push((self.copy_store(r, Loc::Stack(n)), g));
                g
            }
            Loc::Stack(n) => {
                let g = self.reload_gpr(n);
                self.pending_stores.push((Loc::Stack(n), g));
                g
            }
            _ => self.use_gpr(r),
        }
    }

    pub(super) fn use_xmm(&mut self, r: Reg) -> Xmm {
        if let Some(c) = self.local_copy(r) {
            return c.as_xmm().expect("XMM copy");
        }
        match self.alloc.loc(r) {
            Loc::Reg(p) => p.as_xmm().expect("XMM operand"),
            Loc::Stack(n) => {
                let s = self.reload_xmm(n);
                self.xmm_use_scratch.push(s);
                s
            }
            Loc::None => panic!("{r:?} has no location"),
        }
    }

    pub(super) fn def_xmm(&mut self, r: Reg) -> Xmm {
        self.def_xmm_at(r, true)
    }

    pub(super) fn early_def_xmm(&mut self, r: Reg) -> Xmm {
        self.def_xmm_at(r, false)
    }

    pub(super) fn def_xmm_at(&mut self, r: Reg, late: bool) -> Xmm {
        match self.alloc.loc(r) {
            Loc::Reg(p) => p.as_xmm().expect("XMM operand"),
            loc @ Loc::Stack(_) if let Some(c) = self.local_copy(r) => {
                let x = c.as_xmm().expect("XMM copy");
                self.pending_fstores.push((self.copy_store(r, loc), x));
                x
            }
            loc => {
                let s = self.scratch_xmm(late);
                self.pending_fstores.push((loc, s));
                s
            }
        }
    }

    pub(super) fn mod_xmm(&mut self, r: Reg) -> Xmm {
        match self.alloc.loc(r) {
            Loc::Stack(n) if let Some(c) = self.local_copy(r) => {
                let x = c.as_xmm().expect("XMM copy");
                self.pending_fstores.push((self.copy_store(r, Loc::Stack(n)), x));
                x
            }
            Loc::Stack(n) => {
                let x = self.reload_xmm(n);
                self.pending_fstores.push((Loc::Stack(n), x));
                x
            }
            _ => self.use_xmm(r),
        }
    }

    pub(super) fn amode(&mut self, m: &MemAddr) -> Amode {
        let base = self.use_gpr(m.base);
        let index = m.index.map(|(i, s)| (self.use_gpr(i), s));
        Amode { base, index, disp: m.disp }
    }

    /// Finishes an instruction: stores spilled defs, frees scratch.
    pub(super) fn done(&mut self) {
        for (loc, g) in std::mem::take(&mut self.pending_stores) {
            if let Loc::Stack(n) = loc {
                let m = self.slot(n);
                self.asm().store(Size::S64, m, g);
            }
        }
        for (loc, x) in std::mem::take(&mut self.pending_fstores) {
            if let Loc::Stack(n) = loc {
                let m = self.slot(n);
                self.asm().store_v128(m, x);
            }
        }
        self.gpr_scratch_used = 0;
        self.xmm_scratch_used = 0;
        self.gpr_use_scratch.clear();
        self.xmm_use_scratch.clear();
    }

    /// The source operand of an ALU instruction; spilled registers become
    /// memory operands.
    pub(super) fn alu_src(&mut self, src: &RegMemImm) -> Src {
        match *src {
            RegMemImm::Imm(i) => Src::Imm(i),
            RegMemImm::Mem(ref m) => Src::Mem(self.amode(m)),
            RegMemImm::Reg(r) => match self.alloc.loc(r) {
                Loc::Stack(n) if self.local_copy(r).is_none() => Src::Mem(self.slot(n)),
                _ => Src::Reg(self.use_gpr(r)),
            },
        }
    }
    pub(super) fn constant(&mut self, bytes: [u8; 16]) -> Label {
        if let Some(&l) = self.const_labels.get(&bytes) {
            return l;
        }
        let l = self.tb.asm.new_label();
        self.consts.push((l, bytes));
        self.const_labels.insert(bytes, l);
        l
    }

    /// A float constant in the precision of the operation.
    pub(super) fn fconst(&mut self, double: bool, value: f64) -> Label {
        let mut bytes = [0u8; 16];
        if double {
            bytes[..8].copy_from_slice(&value.to_bits().to_le_bytes());
        } else {
            bytes[..4].copy_from_slice(&(value as f32).to_bits().to_le_bytes());
        }
        self.constant(bytes)
    }
    pub(super) fn fbits(&mut self, double: bool, bits: u64) -> Label {
        let mut bytes = [0u8; 16];
        if double {
            bytes[..8].copy_from_slice(&bits.to_le_bytes());
        } else {
            bytes[..4].copy_from_slice(&(bits as u32).to_le_bytes());
        }
        self.constant(bytes)
    }

    pub(super) fn store_value(&mut self, m: Amode, src: Reg, kind: SlotKind) {
        match kind {
            SlotKind::Int => {
                let s = self.use_gpr(src);
                self.asm().store(Size::S64, m, s);
            }
            SlotKind::Float => {
                let s = self.use_xmm(src);
                self.asm().store_f(true, m, s);
            }
            SlotKind::Vector => {
                let s = self.use_xmm(src);
                self.asm().store_v128(m, s);
            }
        }
    }

    pub(super) fn load_value(&mut self, m: Amode, dst: Reg, kind: SlotKind) {
        match kind {
            SlotKind::Int => {
                let d = self.def_gpr(dst);
                self.asm().load(LoadKind::U64, d, m);
            }
            SlotKind::Float => {
                let d = self.def_xmm(dst);
                self.asm().load_f(true, d, m);
            }
            SlotKind::Vector => {
                let d = self.def_xmm(dst);
                self.asm().load_v128(d, m);
            }
        }
    }

    /// Performs the copies `dst <- src` as if simultaneously.
    ///
    /// Destinations are distinct. Repeatedly emits the first move (in the
    /// given order) whose destination no pending move still reads; when
    /// every pending move's destination is still read, they form cycles,
    /// and the source of the first pending move is parked in the cycle
    /// scratch register. Counting the readers of each location keeps this
    /// linear in the number of moves (block parameters can be thousands).
    pub(super) fn parallel_moves(&mut self, moves: &[(Reg, Reg)]) {
        let mut pending: Vec<(Loc, Loc, RegClass)> = moves
            .iter()
            .map(|&(d, s)| (self.alloc.loc(d), self.alloc.loc(s), self.vcode.class(d)))
            .filter(|(d, s, _)| d != s && *d != Loc::None)
            .collect();
        // Pending moves reading each location, the move writing each.
        let mut readers: HashMap<Loc, Vec<usize>> = HashMap::new();
        let mut num_readers: HashMap<Loc, usize> = HashMap::new();
        let mut writer: HashMap<Loc, usize> = HashMap::new();
        for (i, &(d, s, _)) in pending.iter().enumerate() {
            readers.entry(s).or_default().push(i);
            *num_readers.entry(s).or_default() += 1;
            writer.insert(d, i);
        }
        let mut ready: std::collections::BTreeSet<usize> = (0..pending.len())
            .filter(|&i| num_readers.get(&pending[i].0).is_none_or(|&n| n == 0))
            .collect();
        let mut done = vec![false; pending.len()];
        let (mut left, mut first) = (pending.len(), 0);
        while left > 0 {
            let freed = match ready.pop_first() {
                Some(i) => {
                    let (d, s, class) = pending[i];
                    self.move_loc(d, s, class);
                    done[i] = true;
                    left -= 1;
                    let n = num_readers.get_mut(&s).expect("a source is read");
                    *n -= 1;
                    (*n == 0).then_some(s)
                }
                None => {
                    // A cycle: park one source in the cycle scratch register.
                    while done[first] {
                        first += 1;
                    }
                    let (_, s, class) = pending[first];
                    let park = match class {
                        RegClass::Int => Loc::Reg(Reg::gpr(TMP2)),
                        RegClass::Float => Loc::Reg(Reg::xmm(FTMP2)),
                    };
                    self.move_loc(park, s, class);
                    let moved: Vec<usize> = readers
                        .remove(&s)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|&j| !done[j])
                        .collect();
                    for &j in &moved {
                        pending[j].1 = park;
                    }
                    *num_readers.entry(park).or_default() += moved.len();
                    readers.entry(park).or_default().extend(moved);
                    num_readers.insert(s, 0);
                    Some(s)
                }
            };
            // The move writing a location nothing reads any more can go.
            if let Some(&w) = freed.and_then(|l| writer.get(&l))
                && !done[w]
            {
                ready.insert(w);
            }
        }
    }

    /// One copy between locations (memory-to-memory through r11/xmm15).
    pub(super) fn move_loc(&mut self, d: Loc, s: Loc, class: RegClass) {
        let slot = |n: u32, f: &Self| f.slot(n);
        match (class, d, s) {
            (RegClass::Int, Loc::Reg(d), Loc::Reg(s)) => {
                self.asm().mov_rr(Size::S64, d.as_gpr().unwrap(), s.as_gpr().unwrap())
            }
            (RegClass::Int, Loc::Reg(d), Loc::Stack(n)) => {
                let m = slot(n, self);
                self.asm().load(LoadKind::U64, d.as_gpr().unwrap(), m)
            }
            (RegClass::Int, Loc::Stack(n), Loc::Reg(s)) => {
                let m = slot(n, self);
                self.asm().store(Size::S64, m, s.as_gpr().unwrap())
            }
            (RegClass::Int, Loc::Stack(dn), Loc::Stack(sn)) => {
                let (dm, sm) = (slot(dn, self), slot(sn, self));
                let a = self.asm();
                a.load(LoadKind::U64, TMP, sm);
                a.store(Size::S64, dm, TMP);
            }
            (RegClass::Float, Loc::Reg(d), Loc::Reg(s)) => {
                self.asm().movaps(d.as_xmm().unwrap(), s.as_xmm().unwrap())
            }
            (RegClass::Float, Loc::Reg(d), Loc::Stack(n)) => {
                let m = slot(n, self);
                self.asm().load_v128(d.as_xmm().unwrap(), m)
            }
            (RegClass::Float, Loc::Stack(n), Loc::Reg(s)) => {
                let m = slot(n, self);
                self.asm().store_v128(m, s.as_xmm().unwrap())
            }
            (RegClass::Float, Loc::Stack(dn), Loc::Stack(sn)) => {
                let (dm, sm) = (slot(dn, self), slot(sn, self));
                let a = self.asm();
                a.load_v128(FTMP, sm);
                a.store_v128(dm, FTMP);
            }
            (_, _, Loc::None) | (_, Loc::None, _) => {}
        }
    }
}
