//! The dominator tree of a function's control-flow graph.
//!
//! Block `a` dominates block `b` when every path from the entry to `b`
//! passes through `a`. Immediate dominators are computed with the simple
//! version of Lengauer and Tarjan's algorithm ("A Fast Algorithm for
//! Finding Dominators in a Flowgraph", 1979: semidominators over a depth-
//! first numbering, path compression without balancing), which is
//! O(E log N) on any graph. The iterative algorithm of Cooper, Harvey and
//! Kennedy is simpler but can walk O(N) dominator-tree steps per edge on a
//! crafted CFG (a long chain of `br_if`s to nested block ends), which is
//! quadratic. Every walk here is iterative, so deep trees cannot overflow
//! the native stack.
//!
//! The tree is then numbered in preorder, which answers "does `a`
//! dominate `b`" in O(1) (`b`'s number lies in `a`'s subtree range) and
//! gives passes a scoped walk (preorder with subtree ends).
//!
//! Requires: a function whose layout starts with the entry block and whose
//! branches target blocks in the layout. Produces: a read-only table; only
//! blocks reachable from the entry are in the tree.

use super::{Block, Function};

const NONE: u32 = u32::MAX;

/// Immediate dominators and a preorder numbering of the dominator tree.
#[derive(Clone, Debug)]
pub struct DominatorTree {
    /// Immediate dominator of each block (`NONE`: the entry, unreachable).
    idom: Vec<u32>,
    /// Depth in the tree (the entry is 0).
    depth: Vec<u32>,
    /// Preorder number in the tree (`NONE`: unreachable).
    pre: Vec<u32>,
    /// Largest preorder number in the block's subtree.
    last: Vec<u32>,
    /// Reachable blocks in tree preorder.
    preorder: Vec<Block>,
}

impl DominatorTree {
    /// Computes the dominator tree of `func`'s reachable blocks.
    pub fn compute(func: &Function) -> DominatorTree {
        let n = func.blocks.len();
        let entry = func.layout[0];
        // Depth-first numbering from the entry (iterative).
        let mut num = vec![NONE; n];
        let mut vertex: Vec<Block> = Vec::new();
        let mut parent: Vec<u32> = Vec::new();
        let mut stack: Vec<(Block, Vec<Block>, usize)> = Vec::new();
        num[entry.index()] = 0;
        vertex.push(entry);
        parent.push(NONE);
        stack.push((entry, func.successors(entry), 0));
        while let Some((b, succs, next)) = stack.last_mut() {
            let Some(&s) = succs.get(*next) else {
                stack.pop();
                continue;
            };
            *next += 1;
            if num[s.index()] == NONE {
                num[s.index()] = vertex.len() as u32;
                parent.push(num[b.index()]);
                vertex.push(s);
                stack.push((s, func.successors(s), 0));
            }
        }
        drop(stack);
        let count = vertex.len();
        let preds = func.predecessors();

        // Lengauer-Tarjan over depth-first numbers.
        let mut semi: Vec<u32> = (0..count as u32).collect();
        let mut label: Vec<u32> = (0..count as u32).collect();
        let mut ancestor = vec![NONE; count];
        let mut idom = vec![NONE; count];
        let mut bucket_head = vec![NONE; count];
        let mut bucket_next = vec![NONE; count];
        let mut path: Vec<u32> = Vec::new();
        let mut eval = |v: u32, ancestor: &mut [u32], label: &mut [u32], semi: &[u32]| {
            if ancestor[v as usize] == NONE {
                return v;
            }
            // Compress the path from `v` to the root of its forest tree,
            // nearest the root first (what the recursive version does).
            let mut x = v;
            while ancestor[ancestor[x as usize] as usize] != NONE {
                path.push(x);
                x = ancestor[x as usize];
            }
            while let Some(y) = path.pop() {
                let a = ancestor[y as usize] as usize;
                if semi[label[a] as usize] < semi[label[y as usize] as usize] {
                    label[y as usize] = label[a];
                }
                ancestor[y as usize] = ancestor[a];
            }
            label[v as usize]
        };
        for w in (1..count).rev() {
            for &p in &preds[vertex[w].index()] {
                let v = num[p.index()];
                if v == NONE {
                    continue;
                }
                let u = eval(v, &mut ancestor, &mut label, &semi);
                if semi[u as usize] < semi[w] {
                    semi[w] = semi[u as usize];
                }
            }
            let s = semi[w] as usize;
            bucket_next[w] = bucket_head[s];
            bucket_head[s] = w as u32;
            let p = parent[w];
            ancestor[w] = p;
            let mut v = std::mem::replace(&mut bucket_head[p as usize], NONE);
            while v != NONE {
                let u = eval(v, &mut ancestor, &mut label, &semi);
                idom[v as usize] = if semi[u as usize] < semi[v as usize] { u } else { p };
                v = bucket_next[v as usize];
            }
        }
        for w in 1..count {
            if idom[w] != semi[w] {
                idom[w] = idom[idom[w] as usize];
            }
        }
        drop((semi, label, ancestor, bucket_head, bucket_next, preds));

        // Children lists (by depth-first number), then the tree preorder.
        let mut child_start = vec![0u32; count + 1];
        for w in 1..count {
            child_start[idom[w] as usize + 1] += 1;
        }
        for i in 0..count {
            child_start[i + 1] += child_start[i];
        }
        let mut fill = child_start.clone();
        let mut children = vec![0u32; count.saturating_sub(1)];
        for (w, &d) in idom.iter().enumerate().skip(1) {
            children[fill[d as usize] as usize] = w as u32;
            fill[d as usize] += 1;
        }
        let mut tree = DominatorTree {
            idom: vec![NONE; n],
            depth: vec![0; n],
            pre: vec![NONE; n],
            last: vec![NONE; n],
            preorder: Vec::with_capacity(count),
        };
        for w in 1..count {
            tree.idom[vertex[w].index()] = vertex[idom[w] as usize].index() as u32;
        }
        // (node, next child index); subtree end recorded when popped.
        let mut walk: Vec<(u32, u32)> = vec![(0, child_start[0])];
        tree.pre[entry.index()] = 0;
        tree.preorder.push(entry);
        while let Some((v, next)) = walk.last_mut() {
            let vb = vertex[*v as usize].index();
            if *next == child_start[*v as usize + 1] {
                tree.last[vb] = tree.preorder.len() as u32 - 1;
                walk.pop();
                continue;
            }
            let c = children[*next as usize];
            *next += 1;
            let cb = vertex[c as usize];
            tree.pre[cb.index()] = tree.preorder.len() as u32;
            tree.depth[cb.index()] = tree.depth[vb] + 1;
            tree.preorder.push(cb);
            walk.push((c, child_start[c as usize]));
        }
        tree
    }

    /// Whether `b` is reachable from the entry (and so in the tree).
    pub fn is_reachable(&self, b: Block) -> bool {
        self.pre[b.index()] != NONE
    }

    /// The immediate dominator of `b`; `None` for the entry and for
    /// unreachable blocks.
    pub fn idom(&self, b: Block) -> Option<Block> {
        let d = self.idom[b.index()];
        (d != NONE).then_some(Block(d))
    }

    /// Whether `a` dominates `b` (every block dominates itself); false
    /// when either is unreachable.
    pub fn dominates(&self, a: Block, b: Block) -> bool {
        let (pa, pb) = (self.pre[a.index()], self.pre[b.index()]);
        pa != NONE && pb != NONE && pa <= pb && pb <= self.last[a.index()]
    }

    /// Depth of a reachable block in the tree (the entry is 0).
    pub fn depth(&self, b: Block) -> u32 {
        self.depth[b.index()]
    }

    /// Reachable blocks in tree preorder: every block after its dominators.
    pub fn preorder(&self) -> &[Block] {
        &self.preorder
    }

    /// Position of a reachable block in [`Self::preorder`].
    pub fn preorder_index(&self, b: Block) -> usize {
        self.pre[b.index()] as usize
    }

    /// Position in [`Self::preorder`] of the last block `b` dominates: the
    /// blocks `b` dominates are exactly those from `b` to there.
    pub fn subtree_end(&self, b: Block) -> usize {
        self.last[b.index()] as usize
    }

    /// Bytes the computation holds at its peak for a function of `blocks`
    /// blocks and `edges` branch targets: some twenty `u32` tables per block,
    /// the predecessor lists and the depth-first stack's successor lists.
    pub fn estimated_bytes(blocks: usize, edges: usize) -> usize {
        blocks * (20 * 4 + size_of::<Vec<Block>>() * 2 + 16) + edges * 3 * size_of::<Block>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::opt::testing::cfg;

    /// Dominator sets by the textbook fixed point, as a reference.
    fn naive(f: &Function) -> Vec<Vec<bool>> {
        let n = f.blocks.len();
        let preds = f.predecessors();
        let mut reach = vec![false; n];
        let mut work = vec![0];
        reach[0] = true;
        while let Some(b) = work.pop() {
            for s in f.successors(Block(b as u32)) {
                if !reach[s.index()] {
                    reach[s.index()] = true;
                    work.push(s.index());
                }
            }
        }
        let mut dom: Vec<Vec<bool>> = (0..n)
            .map(|b| if b == 0 { (0..n).map(|i| i == 0).collect() } else { reach.clone() })
            .collect();
        loop {
            let mut changed = false;
            for b in 1..n {
                if !reach[b] {
                    continue;
                }
                let mut d = reach.clone();
                for p in &preds[b] {
                    if reach[p.index()] {
                        for i in 0..n {
                            d[i] &= dom[p.index()][i];
                        }
                    }
                }
                d[b] = true;
                if d != dom[b] {
                    dom[b] = d;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for b in 0..n {
            if !reach[b] {
                dom[b] = vec![false; n];
            }
        }
        dom
    }

    fn check(succs: &[Vec<usize>]) {
        let f = cfg(succs);
        let tree = DominatorTree::compute(&f);
        let want = naive(&f);
        for a in 0..succs.len() {
            for (b, dom_b) in want.iter().enumerate() {
                let (ba, bb) = (Block(a as u32), Block(b as u32));
                assert_eq!(tree.dominates(ba, bb), dom_b[a], "{a} dom {b} in {succs:?}");
            }
            let ba = Block(a as u32);
            if let Some(d) = tree.idom(ba) {
                // The immediate dominator is the strict dominator dominated
                // by all others, one level up.
                assert!(want[a][d.index()] && d != ba, "idom {a} in {succs:?}");
                assert_eq!(tree.depth(ba), tree.depth(d) + 1);
                for (x, &x_dom_a) in want[a].iter().enumerate() {
                    if x_dom_a && x != a {
                        assert!(want[d.index()][x], "idom {a} in {succs:?}");
                    }
                }
            } else {
                assert!(a == 0 || !tree.is_reachable(ba), "idom {a} in {succs:?}");
            }
        }
        for (i, &b) in tree.preorder().iter().enumerate() {
            assert_eq!(tree.preorder_index(b), i);
            if let Some(d) = tree.idom(b) {
                assert!(tree.preorder_index(d) < i, "preorder puts dominators first");
            }
        }
    }

    #[test]
    fn diamond_and_loop() {
        // 0 -> 1 | 2 -> 3 -> loop 4 <-> 5 -> 6
        check(&[vec![1, 2], vec![3], vec![3], vec![4], vec![5], vec![4, 6], vec![]]);
        let f = cfg(&[vec![1, 2], vec![3], vec![3], vec![]]);
        let t = DominatorTree::compute(&f);
        assert_eq!(t.idom(Block(3)), Some(Block(0)));
        assert!(!t.dominates(Block(1), Block(3)));
    }

    #[test]
    fn unreachable_blocks_are_outside_the_tree() {
        check(&[vec![2], vec![2], vec![]]);
        let t = DominatorTree::compute(&cfg(&[vec![2], vec![2], vec![]]));
        assert!(!t.is_reachable(Block(1)));
        assert_eq!(t.idom(Block(2)), Some(Block(0)));
    }

    #[test]
    fn irreducible_graph() {
        // Two blocks entered from the entry and jumping to each other.
        check(&[vec![1, 2], vec![2, 3], vec![1, 3], vec![]]);
    }

    #[test]
    fn matches_the_fixed_point_on_random_graphs() {
        let mut seed = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % m) as usize
        };
        for round in 0..3_000 {
            let n = 1 + round % 14;
            let succs: Vec<Vec<usize>> = (0..n)
                .map(|_| {
                    let k = [0, 1, 1, 2, 2, 2, 3][next(7)];
                    (0..k).map(|_| next(n as u64)).collect()
                })
                .collect();
            check(&succs);
        }
    }

    #[test]
    fn long_chain_does_not_recurse() {
        // 200k blocks in a chain, each also branching to the last: deep
        // tree, one merge with many predecessors.
        let n = 200_000;
        let succs: Vec<Vec<usize>> =
            (0..n).map(|i| if i + 1 < n { vec![i + 1, n - 1] } else { vec![] }).collect();
        let t = DominatorTree::compute(&cfg(&succs));
        assert_eq!(t.idom(Block(n as u32 - 1)), Some(Block(0)));
        assert_eq!(t.depth(Block(n as u32 - 2)), n as u32 - 2);
        assert!(t.dominates(Block(5), Block(n as u32 - 2)));
    }
}
