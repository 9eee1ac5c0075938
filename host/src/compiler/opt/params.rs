//! Removes block parameters that always receive the same value.
//!
//! SSA construction adds a parameter wherever a local is read at a join;
//! when every incoming argument is the parameter itself or one other value
//! `v`, the parameter is replaced by `v`. More generally (Braun et al.,
//! "Simple and Efficient Construction of Static Single Assignment Form",
//! 2013, algorithm 5), a strongly connected set of parameters (each
//! reaching the others through arguments) whose arguments from outside
//! the set are all one value `v` always holds `v`, and is replaced by it;
//! when the set has several outside values, the parameters of the set
//! that take no outside argument are examined the same way on their own.
//!
//! Components are visited arguments first, so each sees its arguments
//! already replaced. One pass does what sweeping the function until
//! nothing changes did, without a sweep per link of a chain (nested loops
//! make chains as long as the nesting is deep): the work is linear in
//! parameters and arguments per level of nested examination.
//!
//! Requires: nothing. Preserves: semantics; leaves no aliases behind.

use crate::compiler::ir::{Function, Value};

/// Parameters being replaced, and the search for components.
struct State {
    incoming: Vec<Vec<Value>>,
    /// `to[v]`: what `v` was replaced by (itself when it was not).
    to: Vec<Value>,
    /// Tarjan's search: visit index and low link (`u32::MAX`: unvisited).
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    /// The set being searched / the component being examined, by stamp.
    in_set: Vec<u32>,
    in_component: Vec<u32>,
}

impl State {
    /// The value `v` stands for, after replacements.
    fn find(&mut self, v: Value) -> Value {
        let mut r = v;
        while self.to[r.index()] != r {
            r = self.to[r.index()];
        }
        let mut x = v;
        while self.to[x.index()] != r {
            let next = self.to[x.index()];
            self.to[x.index()] = r;
            x = next;
        }
        r
    }

    /// The strongly connected components of `set` (edges from a parameter
    /// to its arguments in the set), arguments before their users.
    fn components(&mut self, set: &[Value], stamp: u32) -> Vec<Vec<Value>> {
        for &p in set {
            self.in_set[p.index()] = stamp;
            self.index[p.index()] = u32::MAX;
        }
        let mut out = Vec::new();
        let mut stack: Vec<Value> = Vec::new();
        let mut calls: Vec<(Value, usize)> = Vec::new();
        let mut counter = 0u32;
        for &root in set {
            if self.index[root.index()] != u32::MAX {
                continue;
            }
            self.enter(root, &mut counter, &mut stack);
            calls.push((root, 0));
            while let Some(&(v, i)) = calls.last() {
                if i < self.incoming[v.index()].len() {
                    calls.last_mut().unwrap().1 += 1;
                    let a = self.find(self.incoming[v.index()][i]);
                    if self.in_set[a.index()] != stamp {
                        continue;
                    }
                    if self.index[a.index()] == u32::MAX {
                        self.enter(a, &mut counter, &mut stack);
                        calls.push((a, 0));
                    } else if self.on_stack[a.index()] {
                        self.low[v.index()] = self.low[v.index()].min(self.index[a.index()]);
                    }
                    continue;
                }
                calls.pop();
                if let Some(&(u, _)) = calls.last() {
                    self.low[u.index()] = self.low[u.index()].min(self.low[v.index()]);
                }
                if self.low[v.index()] == self.index[v.index()] {
                    let mut component = Vec::new();
                    loop {
                        let w = stack.pop().expect("on the stack");
                        self.on_stack[w.index()] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    out.push(component);
                }
            }
        }
        out
    }

    fn enter(&mut self, v: Value, counter: &mut u32, stack: &mut Vec<Value>) {
        self.index[v.index()] = *counter;
        self.low[v.index()] = *counter;
        *counter += 1;
        self.on_stack[v.index()] = true;
        stack.push(v);
    }
}

/// Runs the pass to a fixed point.
pub fn remove_redundant_params(func: &mut Function) {
    let n = func.values.len();
    // Incoming arguments of every parameter, gathered from branches.
    let mut incoming: Vec<Vec<Value>> = vec![Vec::new(); n];
    for &b in &func.layout {
        if let Some(t) = func.terminator(b) {
            for call in func.insts[t.index()].kind.targets() {
                let params = &func.blocks[call.block.index()].params;
                for (p, a) in params.iter().zip(&call.args) {
                    incoming[p.index()].push(func.resolve(*a));
                }
            }
        }
    }
    let entry = func.layout[0];
    let candidates: Vec<Value> = func
        .layout
        .iter()
        .filter(|&&b| b != entry)
        .flat_map(|&b| func.blocks[b.index()].params.iter().copied())
        .collect();
    let mut s = State {
        incoming,
        to: (0..n as u32).map(Value).collect(),
        index: vec![u32::MAX; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        in_set: vec![0; n],
        in_component: vec![0; n],
    };
    let mut removed = vec![false; n];
    let mut stamp = 1;
    // Sets under examination: their components and the next to examine.
    let mut frames: Vec<(Vec<Vec<Value>>, usize)> = vec![(s.components(&candidates, stamp), 0)];
    let mut component_stamp = 0;
    while let Some((components, next)) = frames.last_mut() {
        let Some(component) = components.get_mut(*next).map(std::mem::take) else {
            frames.pop();
            continue;
        };
        *next += 1;
        component_stamp += 1;
        for &p in &component {
            s.in_component[p.index()] = component_stamp;
        }
        // Distinct outside values (two are enough to know), and the
        // parameters that take none.
        let mut outside: Vec<Value> = Vec::with_capacity(2);
        let mut inner: Vec<Value> = Vec::new();
        for &p in &component {
            let mut all_inside = true;
            for i in 0..s.incoming[p.index()].len() {
                let a = s.find(s.incoming[p.index()][i]);
                if s.in_component[a.index()] == component_stamp {
                    continue;
                }
                all_inside = false;
                if outside.len() < 2 && !outside.contains(&a) {
                    outside.push(a);
                }
            }
            if all_inside {
                inner.push(p);
            }
        }
        match outside[..] {
            [v] => {
                for &p in &component {
                    s.to[p.index()] = v;
                    removed[p.index()] = true;
                }
            }
            [_, _] if !inner.is_empty() => {
                stamp += 1;
                let sub = s.components(&inner, stamp);
                frames.push((sub, 0));
            }
            _ => {}
        }
    }
    if !removed.iter().any(|&r| r) {
        return;
    }
    for &p in &candidates {
        if removed[p.index()] {
            let v = s.find(p);
            func.make_alias(p, v);
        }
    }
    func.retain_block_params(|p| !removed[p.index()]);
    func.resolve_aliases();
}
