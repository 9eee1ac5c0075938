//! Global value numbering over the dominator tree.
//!
//! Blocks are walked in dominator-tree preorder with a scoped hash map
//! from an instruction's operation (kind, resolved operands, result type)
//! to the value that first computed it: an entry is visible exactly in
//! the blocks its definition dominates (it is removed when the walk
//! leaves the defining block's subtree). An instruction whose operation
//! is already in the map is removed and its result becomes an alias of
//! the earlier value.
//!
//! Candidates are the pure operators: constants, unary and binary
//! operators, comparisons, selects and vector operators. Integer operands of commutative
//! operators are put in a fixed order first; float ones are not, because
//! x86 picks the NaN payload of `a + b` by operand order, and an
//! optimized function must give the bits an unoptimized one gives.
//! Operators that may trap (integer division and remainder, trapping
//! float-to-int conversions) are candidates too: the kept instruction
//! dominates the removed one, so if it did not trap the identical later
//! one would not have either, and if it did trap the later one is never
//! reached: which trap happens, and when, is unchanged. Loads, stores,
//! calls, global, table and memory operators, fuel and check points
//! depend on or change state and are never merged.
//!
//! Work: the dominator tree (O(E log N)), then one hash lookup per
//! instruction; memory: one map entry and one undo entry per candidate.
//!
//! Requires: no aliases; the dominance invariant of `ir::verify`.
//! Produces: the same; fewer instructions (a removed instruction's result
//! is an alias, resolved before the pass returns).

use std::collections::HashMap;

use crate::compiler::ir::dominators::DominatorTree;
use crate::compiler::ir::{
    BinaryOp, CmpOp, Function, Inst, InstKind, SimdOp, Type, UnaryOp, Value,
};

/// What an instruction computes, up to the identity of its result.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Key {
    Iconst(u64, Type),
    Fconst(u64, Type),
    /// The result type tells apart conversions of one operand to i32/i64.
    Unary(UnaryOp, Value, Type),
    /// Result type is the operands' type.
    Binary(BinaryOp, Value, Value),
    Compare(CmpOp, Value, Value),
    Select(Value, Value, Value),
    Vconst(u128),
    /// Unused operand slots hold `Value(u32::MAX)`, so they agree.
    Simd(SimdOp, [Value; 3]),
}

/// The key of `inst`, if it is a candidate.
fn key(func: &Function, inst: Inst) -> Option<Key> {
    let d = &func.insts[inst.index()];
    if d.num_results != 1 {
        return None;
    }
    let ty = func.value_type(func.first_result(inst));
    let r = |v: Value| func.resolve(v);
    Some(match d.kind {
        InstKind::Iconst { imm } => Key::Iconst(imm, ty),
        InstKind::Fconst { bits } => Key::Fconst(bits, ty),
        InstKind::Unary { op, arg } => Key::Unary(op, r(arg), ty),
        InstKind::Binary { op, args: [a, b] } => {
            let (mut a, mut b) = (r(a), r(b));
            if op.is_commutative() && !ty.is_float() && b < a {
                std::mem::swap(&mut a, &mut b);
            }
            Key::Binary(op, a, b)
        }
        InstKind::Compare { op, args: [a, b] } => Key::Compare(op, r(a), r(b)),
        InstKind::Select { cond, if_true, if_false } => {
            Key::Select(r(cond), r(if_true), r(if_false))
        }
        InstKind::Vconst { bits } => Key::Vconst(bits),
        InstKind::Simd { op, args } => {
            let n = op.num_args();
            let mut a = [Value(u32::MAX); 3];
            for (k, slot) in a.iter_mut().enumerate().take(n) {
                *slot = r(args[k]);
            }
            Key::Simd(op, a)
        }
        _ => return None,
    })
}

/// Bytes the pass holds besides the dominator tree, for `values` values:
/// a map entry (key, value, control byte) at up to twice the entries in
/// a table that doubles as it grows, and an undo entry in a doubling
/// vector.
pub fn estimated_bytes(values: usize) -> usize {
    values * (2 * (size_of::<Key>() + size_of::<Value>() + 1) + 2 * size_of::<Key>())
}

/// Merges redundant pure computations into the dominating one.
pub fn number_values(func: &mut Function) {
    let dom = DominatorTree::compute(func);
    let mut table: HashMap<Key, Value> = HashMap::new();
    // Keys added, in order; a scope is a mark in this list.
    let mut added: Vec<Key> = Vec::new();
    // Open scopes: (preorder index of the subtree's last block, mark).
    let mut scopes: Vec<(usize, usize)> = Vec::new();
    let mut merged = false;
    for (i, &b) in dom.preorder().iter().enumerate() {
        while let Some(&(end, mark)) = scopes.last() {
            if end >= i {
                break;
            }
            for k in added.drain(mark..) {
                table.remove(&k);
            }
            scopes.pop();
        }
        scopes.push((dom.subtree_end(b), added.len()));
        let insts = std::mem::take(&mut func.blocks[b.index()].insts);
        let mut kept = Vec::with_capacity(insts.len());
        for inst in insts {
            if let Some(k) = key(func, inst) {
                let v = func.first_result(inst);
                if let Some(&earlier) = table.get(&k) {
                    func.make_alias(v, earlier);
                    merged = true;
                    continue;
                }
                table.insert(k, v);
                added.push(k);
            }
            kept.push(inst);
        }
        func.blocks[b.index()].insts = kept;
    }
    if merged {
        func.resolve_aliases();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::ir::{BlockCall, verify::verify};

    fn bin(
        f: &mut Function,
        b: crate::compiler::ir::Block,
        op: BinaryOp,
        x: Value,
        y: Value,
    ) -> Value {
        let ty = f.value_type(x);
        let i = f.push_inst(b, InstKind::Binary { op, args: [x, y] }, &[ty], 0);
        f.first_result(i)
    }

    fn count(f: &Function, pred: impl Fn(&InstKind) -> bool) -> usize {
        f.layout
            .iter()
            .flat_map(|b| &f.blocks[b.index()].insts)
            .filter(|i| pred(&f.insts[i.index()].kind))
            .count()
    }

    /// `entry(x, y)`: brif x -> then | else; then computes `op(x, y)`
    /// (or `op(y, x)` when `swap`), else nothing; the join returns
    /// `op(x, y)` computed in the entry, at the join, or both.
    #[test]
    fn merges_a_dominated_redundant_computation() {
        let mut f = Function::new(0, vec![Type::I32, Type::I32], vec![Type::I32]);
        let b0 = f.create_block();
        let b1 = f.create_block();
        let x = f.append_block_param(b0, Type::I32);
        let y = f.append_block_param(b0, Type::I32);
        f.layout = vec![b0, b1];
        let a = bin(&mut f, b0, BinaryOp::Add, x, y);
        f.push_inst(b0, InstKind::Jump { dest: Function::call(b1) }, &[], 0);
        let c = bin(&mut f, b1, BinaryOp::Add, y, x); // commuted
        let d = bin(&mut f, b1, BinaryOp::Sub, x, y);
        let e = bin(&mut f, b1, BinaryOp::Sub, y, x); // not commutative
        let s = bin(&mut f, b1, BinaryOp::Mul, c, d);
        let t = bin(&mut f, b1, BinaryOp::Mul, s, e);
        let u = bin(&mut f, b1, BinaryOp::Add, t, a);
        f.push_inst(b1, InstKind::Return { args: vec![u] }, &[], 0);
        number_values(&mut f);
        assert_eq!(verify(&f), Ok(()));
        assert_eq!(count(&f, |k| matches!(k, InstKind::Binary { op: BinaryOp::Add, .. })), 2);
        assert_eq!(count(&f, |k| matches!(k, InstKind::Binary { op: BinaryOp::Sub, .. })), 2);
        // The product now uses `a` for `c`.
        let mul = f.def_inst(s).unwrap();
        assert_eq!(f.insts[mul.index()].kind, InstKind::Binary { op: BinaryOp::Mul, args: [a, d] });
    }

    /// Two sibling arms each dividing: neither dominates the other, so
    /// neither is merged; a division after the join is merged with the
    /// one in the entry that dominates it, never the reverse.
    #[test]
    fn trapping_division_is_only_merged_into_a_dominating_one() {
        let mut f = Function::new(0, vec![Type::I32, Type::I32], vec![Type::I32]);
        let [b0, b1, b2, b3] = [(); 4].map(|_| f.create_block());
        let x = f.append_block_param(b0, Type::I32);
        let y = f.append_block_param(b0, Type::I32);
        let j = f.append_block_param(b3, Type::I32);
        f.layout = vec![b0, b1, b2, b3];
        let (to1, to2) = (Function::call(b1), Function::call(b2));
        f.push_inst(b0, InstKind::Brif { cond: x, then_dest: to1, else_dest: to2 }, &[], 0);
        let q1 = bin(&mut f, b1, BinaryOp::DivS, x, y);
        f.push_inst(b1, InstKind::Jump { dest: BlockCall { block: b3, args: vec![q1] } }, &[], 0);
        let q2 = bin(&mut f, b2, BinaryOp::DivS, x, y);
        let q3 = bin(&mut f, b2, BinaryOp::DivS, x, y);
        let r2 = bin(&mut f, b2, BinaryOp::Add, q2, q3);
        f.push_inst(b2, InstKind::Jump { dest: BlockCall { block: b3, args: vec![r2] } }, &[], 0);
        let q4 = bin(&mut f, b3, BinaryOp::DivS, x, y);
        let r = bin(&mut f, b3, BinaryOp::Add, j, q4);
        f.push_inst(b3, InstKind::Return { args: vec![r] }, &[], 0);
        number_values(&mut f);
        assert_eq!(verify(&f), Ok(()));
        let divs = |b: crate::compiler::ir::Block| {
            f.blocks[b.index()]
                .insts
                .iter()
                .filter(|i| {
                    matches!(f.insts[i.index()].kind, InstKind::Binary { op: BinaryOp::DivS, .. })
                })
                .count()
        };
        // b1 and b3 keep theirs (b1 does not dominate b3); b2's second is
        // merged into its first.
        assert_eq!((divs(b1), divs(b2), divs(b3)), (1, 1, 1));
        let add = f.def_inst(r2).unwrap();
        assert_eq!(
            f.insts[add.index()].kind,
            InstKind::Binary { op: BinaryOp::Add, args: [q2, q2] }
        );
    }

    #[test]
    fn float_operands_keep_their_order_and_state_is_not_merged() {
        let mut f = Function::new(0, vec![Type::F64, Type::F64], vec![Type::F64]);
        let b0 = f.create_block();
        let x = f.append_block_param(b0, Type::F64);
        let y = f.append_block_param(b0, Type::F64);
        f.layout = vec![b0];
        let a = bin(&mut f, b0, BinaryOp::FAdd, x, y);
        let c = bin(&mut f, b0, BinaryOp::FAdd, y, x);
        let g1 = f.push_inst(b0, InstKind::GlobalGet { index: 0 }, &[Type::F64], 0);
        let g2 = f.push_inst(b0, InstKind::GlobalGet { index: 0 }, &[Type::F64], 0);
        let (g1, g2) = (f.first_result(g1), f.first_result(g2));
        let s = bin(&mut f, b0, BinaryOp::FAdd, a, c);
        let t = bin(&mut f, b0, BinaryOp::FAdd, g1, g2);
        let u = bin(&mut f, b0, BinaryOp::FMul, s, t);
        f.push_inst(b0, InstKind::Return { args: vec![u] }, &[], 0);
        let before = f.blocks[b0.index()].insts.len();
        number_values(&mut f);
        assert_eq!(f.blocks[b0.index()].insts.len(), before);
    }

    #[test]
    fn constants_of_different_types_stay_apart() {
        let mut f = Function::new(0, vec![], vec![Type::I64]);
        let b0 = f.create_block();
        f.layout = vec![b0];
        let i32c = |f: &mut Function| {
            let i = f.push_inst(b0, InstKind::Iconst { imm: 7 }, &[Type::I32], 0);
            f.first_result(i)
        };
        let a = i32c(&mut f);
        let b = i32c(&mut f);
        let c = f.push_inst(b0, InstKind::Iconst { imm: 7 }, &[Type::I64], 0);
        let c = f.first_result(c);
        let s = bin(&mut f, b0, BinaryOp::Add, a, b);
        let e = f.push_inst(b0, InstKind::Unary { op: UnaryOp::ExtendU, arg: s }, &[Type::I64], 0);
        let e = f.first_result(e);
        let r = bin(&mut f, b0, BinaryOp::Add, e, c);
        f.push_inst(b0, InstKind::Return { args: vec![r] }, &[], 0);
        number_values(&mut f);
        assert_eq!(verify(&f), Ok(()));
        assert_eq!(count(&f, |k| matches!(k, InstKind::Iconst { .. })), 2);
        let add = f.def_inst(s).unwrap();
        assert_eq!(f.insts[add.index()].kind, InstKind::Binary { op: BinaryOp::Add, args: [a, a] });
    }
}
