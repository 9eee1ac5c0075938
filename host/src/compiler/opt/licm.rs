//! Loop-invariant code motion into loop preheaders.
//!
//! A pure, non-trapping instruction inside a loop whose operands are all
//! defined outside the loop computes the same value on every iteration;
//! it moves to the end of the loop's preheader (the header's one outside
//! predecessor, which branches only to the header), from where it
//! dominates the whole loop. Loops without a preheader get none created:
//! they are stepped over (an instruction in one may still leave an
//! enclosing loop that has a preheader, for it is invariant there too).
//!
//! Each instruction moves once, straight to the outermost loop it is
//! invariant in, which is what hoisting innermost loops first and then
//! again from each enclosing loop would reach, without scanning an
//! instruction once per nesting level. The test is by dominator-tree
//! depth: an operand defined at (or already moved to) block `d` dominates
//! the use, as does the header `h` of every loop containing the use, so
//! `d` and `h` lie on one tree path, and `d` is outside the loop exactly
//! when it is above `h`. An instruction is thus invariant in a loop when
//! its deepest operand is shallower than the loop's header, and the
//! loops containing a block have ever shallower headers going outwards:
//! the outermost one is found by a search up the loop tree with Myers'
//! jump pointers ("An applicative random-access stack", 1983), O(log
//! depth) per instruction with two words per loop. Blocks are visited in
//! dominator-tree preorder, so every operand's final place is known before
//! its users are looked at, and instructions moved to one preheader keep
//! their order.
//!
//! Moved: integer and float unary and binary operators that cannot trap,
//! and selects. Not moved: anything that may trap (division, remainder,
//! trapping conversions: hoisting would trap before the loop where the
//! loop might not have), loads, stores, calls and other state; constants
//! (lowering rematerialises them at each use, so a hoisted constant would
//! only hold a register across the loop); copies (i64 -> i32 wrap, i32 ->
//! i64 zero extension, reinterpretation: the register allocator does not
//! split live ranges, so moving a copy out only lengthens one); and
//! comparisons, which lowering fuses with the branch or select after them
//! into `cmp`+`jcc`, so hoisting one buys nothing and holds a register.
//!
//! Work: dominators O(E log N), loops near-linear, then O(log depth) per
//! instruction; memory: a few words per block, loop and value.
//!
//! Requires: no aliases; the dominance invariant of `ir::verify`.
//! Produces: the same; no new blocks or values.

use super::loops::LoopForest;
use crate::compiler::ir::dominators::DominatorTree;
use crate::compiler::ir::{Block, Function, Inst, InstKind, UnaryOp};

/// Whether `kind` may be moved to a point that dominates it.
fn hoistable(kind: &InstKind) -> bool {
    match kind {
        InstKind::Unary { op, .. } => !matches!(
            op,
            UnaryOp::TruncS
                | UnaryOp::TruncU
                | UnaryOp::Wrap
                | UnaryOp::ExtendU
                | UnaryOp::Reinterpret
        ),
        InstKind::Binary { op, .. } => !op.can_trap(),
        InstKind::Select { .. } | InstKind::Simd { .. } => true,
        _ => false,
    }
}

/// The loops that have a preheader, as a tree (loops without one are
/// skipped: their children hang from the nearest ancestor with one), with
/// jump pointers for the upward search. Index `root` is a sentinel above
/// every tree.
struct HoistTree {
    parent: Vec<u32>,
    jump: Vec<u32>,
    /// Depth in this tree (the sentinel is 0).
    level: Vec<u32>,
    /// Dominator-tree depth of the loop's header (`0` for the sentinel,
    /// which no operand is above).
    header_depth: Vec<u32>,
    /// Nearest loop with a preheader containing each loop, or `root`.
    host: Vec<u32>,
    root: u32,
}

impl HoistTree {
    fn new(forest: &LoopForest, dom: &DominatorTree) -> HoistTree {
        let n = forest.loops.len();
        let root = n as u32;
        let mut t = HoistTree {
            parent: vec![root; n + 1],
            jump: vec![root; n + 1],
            level: vec![0; n + 1],
            header_depth: vec![0; n + 1],
            host: vec![root; n + 1],
            root,
        };
        // Outer loops come after inner ones: build from the outside in.
        for l in (0..n).rev() {
            let data = &forest.loops[l];
            let above = data.parent.map_or(root, |p| t.host[p as usize]);
            if data.preheader.is_none() {
                t.host[l] = above;
                continue;
            }
            t.host[l] = l as u32;
            t.header_depth[l] = dom.depth(data.header);
            let p = above as usize;
            t.parent[l] = above;
            t.level[l] = t.level[p] + 1;
            // Myers: jump twice as far when the parent's two jumps are
            // the same length, else to the parent.
            let (j, jj) = (t.jump[p] as usize, t.jump[t.jump[p] as usize] as usize);
            t.jump[l] = if p != root as usize && t.level[p] - t.level[j] == t.level[j] - t.level[jj]
            {
                jj as u32
            } else {
                above
            };
        }
        t
    }

    /// The outermost loop with a preheader containing block `b` whose
    /// header is deeper than `depth`, if any.
    fn target(&self, forest: &LoopForest, b: Block, depth: u32) -> Option<u32> {
        let mut l = self.host[forest.innermost(b)? as usize];
        let ok = |x: u32| x != self.root && self.header_depth[x as usize] > depth;
        if !ok(l) {
            return None;
        }
        while ok(self.parent[l as usize]) {
            let j = self.jump[l as usize];
            l = if ok(j) { j } else { self.parent[l as usize] };
        }
        Some(l)
    }
}

/// Bytes the pass holds besides the function, the dominator tree and the
/// loop forest: per value its definition depth, per loop the hoist tree's
/// five words, per instruction at most one move.
pub fn estimated_bytes(values: usize, blocks: usize) -> usize {
    values * (4 + 2 * size_of::<(Block, Inst)>()) + blocks * 5 * 4
}

/// Moves loop-invariant computations to loop preheaders.
pub fn hoist_invariants(func: &mut Function) {
    let dom = DominatorTree::compute(func);
    let forest = LoopForest::compute(func, &dom);
    if forest.loops.iter().all(|l| l.preheader.is_none()) {
        return;
    }
    let tree = HoistTree::new(&forest, &dom);
    // Dominator depth of each value's (final) definition point.
    let mut def_depth = vec![0u32; func.values.len()];
    // (preheader, instruction), in visiting order.
    let mut moves: Vec<(Block, Inst)> = Vec::new();
    for &b in dom.preorder() {
        let depth = dom.depth(b);
        for &p in &func.blocks[b.index()].params {
            def_depth[p.index()] = depth;
        }
        for &inst in &func.blocks[b.index()].insts {
            let kind = &func.insts[inst.index()].kind;
            let mut place = depth;
            if hoistable(kind) {
                let mut deepest = 0;
                kind.for_each_arg(|a| deepest = deepest.max(def_depth[a.index()]));
                if let Some(l) = tree.target(&forest, b, deepest) {
                    let pre = forest.loops[l as usize].preheader.expect("hoist tree loop");
                    moves.push((pre, inst));
                    place = dom.depth(pre);
                }
            }
            for r in func.results(inst) {
                def_depth[r.index()] = place;
            }
        }
    }
    if moves.is_empty() {
        return;
    }
    let mut moved = vec![false; func.insts.len()];
    for &(_, inst) in &moves {
        moved[inst.index()] = true;
    }
    for &b in dom.preorder() {
        func.blocks[b.index()].insts.retain(|i| !moved[i.index()]);
    }
    // Stable: instructions bound for one preheader keep their order.
    moves.sort_by_key(|&(pre, _)| pre);
    let mut i = 0;
    while i < moves.len() {
        let pre = moves[i].0;
        let end = i + moves[i..].iter().take_while(|m| m.0 == pre).count();
        let insts = &mut func.blocks[pre.index()].insts;
        let term = insts.pop().expect("a preheader ends with its jump");
        insts.extend(moves[i..end].iter().map(|m| m.1));
        insts.push(term);
        i = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::ir::{BinaryOp, BlockCall, Type, Value, verify::verify};
    use crate::compiler::opt::testing::translate_wat;

    /// The block holding the instruction that defines `v`.
    fn block_of(f: &Function, inst: Inst) -> Block {
        *f.layout.iter().find(|b| f.blocks[b.index()].insts.contains(&inst)).expect("placed")
    }

    /// Instructions of `f` in the layout with binary operator `op`.
    fn binaries(f: &Function, op: BinaryOp) -> Vec<Inst> {
        f.layout
            .iter()
            .flat_map(|b| f.blocks[b.index()].insts.iter().copied())
            .filter(
                |i| matches!(f.insts[i.index()].kind, InstKind::Binary { op: o, .. } if o == op),
            )
            .collect()
    }

    fn loop_depth_of(f: &Function, inst: Inst) -> u32 {
        f.blocks[block_of(f, inst).index()].loop_depth
    }

    #[test]
    fn hoists_invariants_of_a_wasm_loop_and_leaves_variant_and_trapping_ones() {
        let mut fs = translate_wat(
            r#"(module (func (param i32 i32) (result i32) (local i32 i32)
                (loop $l
                  ;; invariant: x * y; variant: acc + (x * y)
                  (local.set 2 (i32.add (local.get 2) (i32.mul (local.get 0) (local.get 1))))
                  ;; invariant but may trap: x / y
                  (local.set 3 (i32.div_u (local.get 0) (local.get 1)))
                  (br_if $l (i32.lt_u (local.get 2) (i32.const 100))))
                (i32.add (local.get 2) (local.get 3))))"#,
        );
        let f = &mut fs[0];
        hoist_invariants(f);
        assert_eq!(verify(f), Ok(()));
        let [mul] = binaries(f, BinaryOp::Mul)[..] else { panic!("{f}") };
        let [div] = binaries(f, BinaryOp::DivU)[..] else { panic!("{f}") };
        let adds = binaries(f, BinaryOp::Add);
        assert_eq!(loop_depth_of(f, mul), 0, "mul hoisted:\n{f}");
        assert_eq!(loop_depth_of(f, div), 1, "div stays:\n{f}");
        assert!(adds.iter().any(|&a| loop_depth_of(f, a) == 1), "add stays:\n{f}");
        // The preheader is the entry, which jumps to the header.
        let entry = f.layout[0];
        assert_eq!(block_of(f, mul), entry);
        let term = f.terminator(entry).unwrap();
        assert!(matches!(f.insts[term.index()].kind, InstKind::Jump { .. }));
    }

    #[test]
    fn nested_loops_send_each_invariant_as_far_out_as_it_goes() {
        let mut fs = translate_wat(
            r#"(module (func (param i32 i32) (result i32) (local i32 i32)
                (loop $outer
                  (local.set 3 (i32.const 0))
                  (loop $inner
                    ;; x ^ y: invariant in both loops. i + x (i the outer
                    ;; counter): invariant in the inner loop only.
                    (local.set 3 (i32.add (local.get 3)
                      (i32.sub (i32.xor (local.get 0) (local.get 1))
                               (i32.or (local.get 2) (local.get 0)))))
                    (br_if $inner (i32.lt_u (local.get 3) (i32.const 1000))))
                  (local.set 2 (i32.add (local.get 2) (i32.const 1)))
                  (br_if $outer (i32.lt_u (local.get 2) (i32.const 10))))
                (local.get 3)))"#,
        );
        let f = &mut fs[0];
        hoist_invariants(f);
        assert_eq!(verify(f), Ok(()));
        let [xor] = binaries(f, BinaryOp::Xor)[..] else { panic!("{f}") };
        let [or] = binaries(f, BinaryOp::Or)[..] else { panic!("{f}") };
        let [sub] = binaries(f, BinaryOp::Sub)[..] else { panic!("{f}") };
        assert_eq!(loop_depth_of(f, xor), 0, "{f}");
        assert_eq!(loop_depth_of(f, or), 1, "{f}");
        assert_eq!(loop_depth_of(f, sub), 1, "{f}");
        // The sub's operands come from two preheaders: it lands in the
        // inner one, after the or.
        let b = block_of(f, or);
        assert_eq!(block_of(f, sub), b);
        let insts = &f.blocks[b.index()].insts;
        let pos = |i| insts.iter().position(|&x| x == i).unwrap();
        assert!(pos(or) < pos(sub));
    }

    /// `entry(x)`: brif x -> a | b; a and b jump to header h, which
    /// computes x * x and loops or exits.
    fn loop_entered_twice() -> (Function, Inst, Block) {
        let mut f = Function::new(0, vec![Type::I32], vec![Type::I32]);
        let [e, a, b, h, x] = [(); 5].map(|_| f.create_block());
        let v = f.append_block_param(e, Type::I32);
        f.layout = vec![e, a, b, h, x];
        let (to_a, to_b) = (Function::call(a), Function::call(b));
        f.push_inst(e, InstKind::Brif { cond: v, then_dest: to_a, else_dest: to_b }, &[], 0);
        f.push_inst(a, InstKind::Jump { dest: Function::call(h) }, &[], 0);
        f.push_inst(b, InstKind::Jump { dest: Function::call(h) }, &[], 0);
        let mul =
            f.push_inst(h, InstKind::Binary { op: BinaryOp::Mul, args: [v, v] }, &[Type::I32], 0);
        let m: Value = f.first_result(mul);
        let out = BlockCall { block: x, args: vec![] };
        f.push_inst(
            h,
            InstKind::Brif { cond: m, then_dest: Function::call(h), else_dest: out },
            &[],
            0,
        );
        f.push_inst(x, InstKind::Return { args: vec![m] }, &[], 0);
        (f, mul, h)
    }

    #[test]
    fn loop_without_a_preheader_is_left_alone() {
        let (mut f, mul, h) = loop_entered_twice();
        let before = f.blocks.len();
        hoist_invariants(&mut f);
        assert_eq!(verify(&f), Ok(()));
        assert_eq!(block_of(&f, mul), h);
        assert_eq!(f.blocks.len(), before, "no preheader created");
        // Same when the one outside predecessor also branches elsewhere.
        let (mut f, mul, h) = loop_entered_twice();
        let e = f.layout[0];
        let v = f.blocks[e.index()].params[0];
        let y = f.create_block();
        f.push_inst(y, InstKind::Return { args: vec![v] }, &[], 0);
        let t = f.terminator(e).unwrap();
        let (then_dest, else_dest) = (Function::call(h), Function::call(y));
        f.insts[t.index()].kind = InstKind::Brif { cond: v, then_dest, else_dest };
        f.layout.retain(|&b| b != Block(1) && b != Block(2));
        f.layout.push(y);
        assert_eq!(verify(&f), Ok(()));
        hoist_invariants(&mut f);
        assert_eq!(verify(&f), Ok(()));
        assert_eq!(block_of(&f, mul), h);
    }

    #[test]
    fn deep_nest_hoists_in_one_step() {
        // 3000 nested loops around one invariant x * y.
        let n = 3000;
        let mut wat = String::from("(module (func (param i32 i32) (result i32) (local i32)");
        for _ in 0..n {
            wat.push_str(" (loop");
        }
        wat.push_str(
            " (local.set 2 (i32.add (local.get 2) (i32.mul (local.get 0) (local.get 1))))",
        );
        wat.push_str(" (br_if 0 (local.get 2))");
        for _ in 1..n {
            wat.push_str(" (br_if 0 (local.get 2))");
            wat.push(')');
        }
        wat.push_str(" (br_if 0 (local.get 2))) (local.get 2)))");
        let mut fs = translate_wat(&wat);
        let f = &mut fs[0];
        hoist_invariants(f);
        assert_eq!(verify(f), Ok(()));
        let [mul] = binaries(f, BinaryOp::Mul)[..] else { panic!() };
        assert_eq!(loop_depth_of(f, mul), 0);
    }
}
