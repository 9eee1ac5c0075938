//! The natural loops of a function and how they nest.
//!
//! A back edge is an edge `s -> h` where `h` dominates `s`; the loop of
//! header `h` is `h` and every block that reaches a back-edge source
//! without passing through `h`. Loops with the same header are one loop.
//! Headers are visited children before parents in the dominator tree
//! (reverse preorder), so inner loops are found first; the backward walk
//! of an outer loop steps over an inner loop it meets by jumping to the
//! inner loop's header (a union-find keeps "outermost loop found so far"),
//! which makes the inner loop its child. Each block is claimed once and
//! each header's predecessors are walked once per loop that claims it, so
//! the work is near-linear in blocks and edges, whatever the nesting depth.
//!
//! Requires: the function's dominator tree. Produces: a read-only forest.

use crate::compiler::ir::dominators::DominatorTree;
use crate::compiler::ir::{Block, Function};

const NONE: u32 = u32::MAX;

/// One natural loop.
#[derive(Clone, Debug)]
pub struct Loop {
    /// The header, which dominates every block of the loop.
    pub header: Block,
    /// The innermost loop containing this one.
    pub parent: Option<u32>,
    /// The header's only predecessor outside the loop, when that
    /// predecessor's only successor is the header.
    pub preheader: Option<Block>,
}

/// The loops of a function.
#[derive(Clone, Debug)]
pub struct LoopForest {
    /// Loops, inner loops before the loops containing them.
    pub loops: Vec<Loop>,
    /// Innermost loop of each block (`NONE`: in no loop).
    innermost: Vec<u32>,
}

impl LoopForest {
    /// Finds the natural loops of `func`.
    pub fn compute(func: &Function, dom: &DominatorTree) -> LoopForest {
        let preds = func.predecessors();
        let mut forest = LoopForest { loops: Vec::new(), innermost: vec![NONE; func.blocks.len()] };
        // Union-find over loops: the outermost loop found so far that
        // contains the key loop.
        let mut outer: Vec<u32> = Vec::new();
        let find = |outer: &mut Vec<u32>, mut l: u32| {
            while outer[l as usize] != l {
                let up = outer[outer[l as usize] as usize];
                outer[l as usize] = up;
                l = up;
            }
            l
        };
        let mut work: Vec<Block> = Vec::new();
        for &h in dom.preorder().iter().rev() {
            work.extend(preds[h.index()].iter().filter(|&&p| dom.dominates(h, p)));
            if work.is_empty() {
                continue;
            }
            let id = forest.loops.len() as u32;
            forest.loops.push(Loop { header: h, parent: None, preheader: None });
            outer.push(id);
            forest.innermost[h.index()] = id;
            while let Some(x) = work.pop() {
                let inner = forest.innermost[x.index()];
                if inner == NONE {
                    forest.innermost[x.index()] = id;
                    work.extend(preds[x.index()].iter().filter(|&&p| dom.is_reachable(p)));
                    continue;
                }
                let sub = find(&mut outer, inner);
                if sub != id {
                    forest.loops[sub as usize].parent = Some(id);
                    outer[sub as usize] = id;
                    let sub_header = forest.loops[sub as usize].header;
                    work.extend(preds[sub_header.index()].iter().filter(|&&p| dom.is_reachable(p)));
                }
            }
            forest.loops[id as usize].preheader = preheader(func, dom, &preds[h.index()], h);
        }
        forest
    }

    /// The innermost loop containing `b`, if any.
    pub fn innermost(&self, b: Block) -> Option<u32> {
        let l = self.innermost[b.index()];
        (l != NONE).then_some(l)
    }

    /// Bytes the computation holds at its peak for a function of `blocks`
    /// blocks and `edges` branch targets (predecessor lists, the per-block
    /// loop index, the walk's stack, and per loop its data and union-find
    /// entry; a loop needs a block).
    pub fn estimated_bytes(blocks: usize, edges: usize) -> usize {
        blocks * (size_of::<Vec<Block>>() + 4 + 2 * (size_of::<Loop>() + 4))
            + edges * 2 * size_of::<Block>()
    }
}

/// The preheader of the loop headed by `h`: its one predecessor that is
/// not a back-edge source (predecessors inside a loop are dominated by its
/// header), when that block branches only to `h`.
fn preheader(func: &Function, dom: &DominatorTree, preds: &[Block], h: Block) -> Option<Block> {
    let mut outside = preds.iter().filter(|&&p| dom.is_reachable(p) && !dom.dominates(h, p));
    let &p = outside.next()?;
    if outside.any(|&q| q != p) {
        return None;
    }
    func.successors(p).iter().all(|&s| s == h).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::opt::testing::cfg;

    #[test]
    fn nested_loops_with_and_without_preheaders() {
        // 0 -> 1 (outer header) -> 2 (inner preheader) -> 3 (inner header)
        // 3 -> 4 -> 3 | 5; 5 -> 1 | 6. Block 7: a loop entered from two
        // blocks (6 -> 7 | 8, 8 -> 7, 7 -> 7 | 9).
        let f = cfg(&[
            vec![1],
            vec![2],
            vec![3],
            vec![4],
            vec![3, 5],
            vec![1, 6],
            vec![7, 8],
            vec![7, 9],
            vec![7],
            vec![],
        ]);
        let dom = DominatorTree::compute(&f);
        let lf = LoopForest::compute(&f, &dom);
        assert_eq!(lf.loops.len(), 3);
        let inner = lf.innermost(Block(4)).unwrap();
        let outer = lf.innermost(Block(5)).unwrap();
        assert_eq!(lf.loops[inner as usize].header, Block(3));
        assert_eq!(lf.loops[inner as usize].parent, Some(outer));
        assert_eq!(lf.loops[inner as usize].preheader, Some(Block(2)));
        assert_eq!(lf.loops[outer as usize].header, Block(1));
        assert_eq!(lf.loops[outer as usize].preheader, Some(Block(0)));
        assert_eq!(lf.innermost(Block(2)), Some(outer));
        assert_eq!(lf.innermost(Block(0)), None);
        assert_eq!(lf.innermost(Block(6)), None);
        // Block 7 loops on itself but is entered from 6 and 8.
        let self_loop = lf.innermost(Block(7)).unwrap();
        assert_eq!(lf.loops[self_loop as usize].header, Block(7));
        assert_eq!(lf.loops[self_loop as usize].preheader, None);
        assert!(inner < outer, "inner loops come first");
    }

    #[test]
    fn preheader_must_branch_only_to_the_header() {
        // 0 -> 1 | 2; 1 is a loop (1 -> 1 | 2) whose outside predecessor
        // also branches elsewhere.
        let f = cfg(&[vec![1, 2], vec![1, 2], vec![]]);
        let dom = DominatorTree::compute(&f);
        let lf = LoopForest::compute(&f, &dom);
        assert_eq!(lf.loops.len(), 1);
        assert_eq!(lf.loops[0].preheader, None);
    }

    #[test]
    fn deep_nest_is_found() {
        // n nested loops: block i (1..=n) is the header of loop i and
        // jumps into loop i+1 (so it is that loop's preheader); block n+1
        // is the innermost body, branching back to header n or to the exit
        // of loop n. The exit of loop i (block 2n+2-i) is in loop i-1 and
        // branches back to header i-1 or on to the exit of loop i-1.
        let n = 20_000;
        let mut succs: Vec<Vec<usize>> = (0..=n).map(|i| vec![i + 1]).collect();
        succs.push(vec![n, n + 2]);
        for i in (2..=n).rev() {
            succs.push(vec![i - 1, 2 * n + 3 - i]);
        }
        succs.push(vec![]);
        let f = cfg(&succs);
        let dom = DominatorTree::compute(&f);
        let lf = LoopForest::compute(&f, &dom);
        assert_eq!(lf.loops.len(), n);
        let mut l = lf.innermost(Block(n as u32 + 1));
        for i in (1..=n).rev() {
            let x = &lf.loops[l.unwrap() as usize];
            assert_eq!(x.header, Block(i as u32));
            assert_eq!(x.preheader, Some(Block(i as u32 - 1)));
            l = x.parent;
        }
        assert_eq!(l, None);
        assert_eq!(lf.innermost(Block(2 * n as u32 + 1)), None);
        assert_eq!(lf.innermost(Block(2 * n as u32)), lf.innermost(Block(1)));
    }
}
