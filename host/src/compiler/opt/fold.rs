//! Constant folding of integer operations and of branches on constants.
//!
//! An instruction whose operands are all integer constants is replaced, in
//! place, by the constant it computes; trapping cases (division by zero,
//! signed overflow) are left alone so that they still trap. A `brif` or
//! `br_table` on a constant becomes a `jump`, and blocks no longer
//! reachable leave the layout.
//!
//! Requires: no aliases. Preserves: semantics, trap order.

use crate::compiler::ir::{BinaryOp, CmpOp, Function, InstKind, Type, UnaryOp};

/// Evaluates an integer binary operator, or `None` when it would trap or is
/// not an integer operator.
pub fn eval_binary(op: BinaryOp, ty: Type, a: u64, b: u64) -> Option<u64> {
    use BinaryOp::*;
    let r = if ty == Type::I32 {
        let (a, b) = (a as u32, b as u32);
        (match op {
            Add => a.wrapping_add(b),
            Sub => a.wrapping_sub(b),
            Mul => a.wrapping_mul(b),
            DivS => (a as i32).checked_div(b as i32)? as u32,
            DivU => a.checked_div(b)?,
            RemS if b == 0 => return None,
            RemS => (a as i32).wrapping_rem(b as i32) as u32,
            RemU => a.checked_rem(b)?,
            And => a & b,
            Or => a | b,
            Xor => a ^ b,
            Shl => a.wrapping_shl(b),
            ShrS => (a as i32).wrapping_shr(b) as u32,
            ShrU => a.wrapping_shr(b),
            Rotl => a.rotate_left(b % 32),
            Rotr => a.rotate_right(b % 32),
            _ => return None,
        }) as u64
    } else if ty == Type::I64 {
        match op {
            Add => a.wrapping_add(b),
            Sub => a.wrapping_sub(b),
            Mul => a.wrapping_mul(b),
            DivS => (a as i64).checked_div(b as i64)? as u64,
            DivU => a.checked_div(b)?,
            RemS if b == 0 => return None,
            RemS => (a as i64).wrapping_rem(b as i64) as u64,
            RemU => a.checked_rem(b)?,
            And => a & b,
            Or => a | b,
            Xor => a ^ b,
            Shl => a.wrapping_shl(b as u32),
            ShrS => (a as i64).wrapping_shr(b as u32) as u64,
            ShrU => a.wrapping_shr(b as u32),
            Rotl => a.rotate_left((b % 64) as u32),
            Rotr => a.rotate_right((b % 64) as u32),
            _ => return None,
        }
    } else {
        return None;
    };
    Some(r)
}

/// Evaluates an integer comparison.
pub fn eval_compare(op: CmpOp, ty: Type, a: u64, b: u64) -> bool {
    use CmpOp::*;
    let (sa, sb) = if ty == Type::I32 {
        (a as u32 as i32 as i64, b as u32 as i32 as i64)
    } else {
        (a as i64, b as i64)
    };
    match op {
        Eq => a == b,
        Ne => a != b,
        LtS => sa < sb,
        LtU => a < b,
        GtS => sa > sb,
        GtU => a > b,
        LeS => sa <= sb,
        LeU => a <= b,
        GeS => sa >= sb,
        GeU => a >= b,
    }
}

/// Evaluates an integer unary operator with integer operand and result.
pub fn eval_unary(op: UnaryOp, arg_ty: Type, ty: Type, a: u64) -> Option<u64> {
    use UnaryOp::*;
    let narrow = arg_ty == Type::I32;
    if arg_ty.is_float() || ty.is_float() {
        return None;
    }
    Some(match op {
        Clz if narrow => (a as u32).leading_zeros() as u64,
        Clz => a.leading_zeros() as u64,
        Ctz if narrow => (a as u32).trailing_zeros() as u64,
        Ctz => a.trailing_zeros() as u64,
        Popcnt => a.count_ones() as u64,
        Extend8S if narrow => a as i8 as i32 as u32 as u64,
        Extend8S => a as i8 as i64 as u64,
        Extend16S if narrow => a as i16 as i32 as u32 as u64,
        Extend16S => a as i16 as i64 as u64,
        Extend32S => a as i32 as i64 as u64,
        Wrap => a & 0xffff_ffff,
        ExtendS => a as u32 as i32 as i64 as u64,
        ExtendU => a & 0xffff_ffff,
        _ => return None,
    })
}

/// Folds constants and constant branches; drops unreachable blocks.
pub fn fold_constants(func: &mut Function) {
    for bi in 0..func.layout.len() {
        let b = func.layout[bi];
        for i in 0..func.blocks[b.index()].insts.len() {
            let inst = func.blocks[b.index()].insts[i];
            let folded = match &func.insts[inst.index()].kind {
                InstKind::Binary { op, args: [x, y] } => {
                    let ty = func.value_type(*x);
                    match (func.iconst_value(*x), func.iconst_value(*y)) {
                        (Some(a), Some(b)) => eval_binary(*op, ty, a, b),
                        _ => None,
                    }
                }
                InstKind::Compare { op, args: [x, y] } if !func.value_type(*x).is_float() => {
                    let ty = func.value_type(*x);
                    match (func.iconst_value(*x), func.iconst_value(*y)) {
                        (Some(a), Some(b)) => Some(eval_compare(*op, ty, a, b) as u64),
                        _ => None,
                    }
                }
                InstKind::Unary { op, arg } => {
                    let ty = func.value_type(func.first_result(inst));
                    func.iconst_value(*arg)
                        .and_then(|a| eval_unary(*op, func.value_type(*arg), ty, a))
                }
                InstKind::Brif { cond, then_dest, else_dest } => {
                    if let Some(c) = func.iconst_value(*cond) {
                        let dest =
                            if c as u32 != 0 { then_dest.clone() } else { else_dest.clone() };
                        func.insts[inst.index()].kind = InstKind::Jump { dest };
                    }
                    None
                }
                InstKind::BrTable { index, targets, default } => {
                    if let Some(c) = func.iconst_value(*index) {
                        let dest = targets.get(c as u32 as usize).unwrap_or(default).clone();
                        func.insts[inst.index()].kind = InstKind::Jump { dest };
                    }
                    None
                }
                _ => None,
            };
            if let Some(imm) = folded {
                func.insts[inst.index()].kind = InstKind::Iconst { imm };
            }
        }
    }
    remove_unreachable_blocks(func);
}

/// Keeps in the layout only the blocks reachable from the entry.
pub fn remove_unreachable_blocks(func: &mut Function) {
    let mut seen = vec![false; func.blocks.len()];
    let mut work = vec![func.layout[0]];
    seen[func.layout[0].index()] = true;
    while let Some(b) = work.pop() {
        for s in func.successors(b) {
            if !seen[s.index()] {
                seen[s.index()] = true;
                work.push(s);
            }
        }
    }
    func.layout.retain(|b| seen[b.index()]);
}
