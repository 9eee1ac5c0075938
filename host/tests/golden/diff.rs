//! A short line diff between an expected and an actual text, for golden
//! test failures: changed lines with a little context, numbered as in the
//! expected (`-`) and actual (`+`) files.

use std::fmt::Write;

/// At most this many changed lines are shown.
const MAX_CHANGES: usize = 40;
/// Unchanged lines shown around a change.
const CONTEXT: usize = 2;
/// Above this many cells the middle is shown whole instead of diffed
/// (a golden file is far smaller).
const MAX_TABLE: usize = 4_000_000;

/// One line of the edit script, with its line indices.
#[derive(Clone, Copy)]
enum Op {
    /// A line both texts have, by its index in the expected one.
    Same(usize),
    /// A line only the expected text has.
    Removed(usize),
    /// A line only the actual text has, by its index there.
    Added(usize),
}

/// The changes from `expected` to `actual` as `-`/`+` lines.
pub fn lines(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let ops = script(&e, &a);
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| !matches!(ops[k], Op::Same(_))).collect();
    let mut out = String::new();
    let Some(&first) = changed.first() else {
        let _ = writeln!(out, "(the texts differ only in line endings or a final newline)");
        return out;
    };
    let (line_e, line_a) = position(&ops, first);
    let _ = writeln!(out, "first difference at line {} (expected) / {} (actual):", line_e, line_a);
    let near_change = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= CONTEXT);
    let (mut shown, mut last) = (0, None);
    for (k, op) in ops.iter().enumerate() {
        if !near_change(k) {
            continue;
        }
        if last.is_some_and(|l| l + 1 != k) {
            let _ = writeln!(out, "  ...");
        }
        last = Some(k);
        let _ = match *op {
            Op::Same(i) => writeln!(out, " {:5} | {}", i + 1, e[i]),
            Op::Removed(i) => writeln!(out, "-{:5} | {}", i + 1, e[i]),
            Op::Added(j) => writeln!(out, "+{:5} | {}", j + 1, a[j]),
        };
        if !matches!(op, Op::Same(_)) {
            shown += 1;
            if shown == MAX_CHANGES {
                let _ = writeln!(out, "  ... {} more changed lines", changed.len() - shown);
                break;
            }
        }
    }
    out
}

/// One-based line numbers, in both texts, of the line at `ops[k]`.
fn position(ops: &[Op], k: usize) -> (usize, usize) {
    let removed = ops[..k].iter().filter(|o| !matches!(o, Op::Added(_))).count();
    let added = ops[..k].iter().filter(|o| !matches!(o, Op::Removed(_))).count();
    (removed + 1, added + 1)
}

/// A shortest edit script (longest common subsequence) from `e` to `a`.
fn script(e: &[&str], a: &[&str]) -> Vec<Op> {
    let prefix = e.iter().zip(a).take_while(|(x, y)| x == y).count();
    let suffix =
        e[prefix..].iter().rev().zip(a[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (n, m) = (e.len() - prefix - suffix, a.len() - prefix - suffix);
    let mut ops: Vec<Op> = (0..prefix).map(Op::Same).collect();
    if (n + 1) * (m + 1) > MAX_TABLE {
        ops.extend((prefix..prefix + n).map(Op::Removed));
        ops.extend((prefix..prefix + m).map(Op::Added));
    } else {
        // lcs[i][j]: longest common subsequence of the middles from i and j.
        let mut lcs = vec![vec![0u32; m + 1]; n + 1];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i][j] = if e[prefix + i] == a[prefix + j] {
                    lcs[i + 1][j + 1] + 1
                } else {
                    lcs[i + 1][j].max(lcs[i][j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && e[prefix + i] == a[prefix + j] {
                ops.push(Op::Same(prefix + i));
                (i, j) = (i + 1, j + 1);
            } else if j == m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
                ops.push(Op::Removed(prefix + i));
                i += 1;
            } else {
                ops.push(Op::Added(prefix + j));
                j += 1;
            }
        }
    }
    ops.extend((e.len() - suffix..e.len()).map(Op::Same));
    ops
}
