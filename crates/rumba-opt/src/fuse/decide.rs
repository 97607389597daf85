//! Which nodes are materialised, and which reductions run as a *stage* inside the kernel of
//! the node that consumes them.
//!
//! Rules, in the order they apply:
//! 1. Graph outputs are materialised (each is the root of a kernel).
//! 2. Elementwise and movement nodes, consts, params and polygon masks are never
//!    materialised: they are recomputed inside every kernel that uses them. Re-reading the
//!    inputs they depend on moves no more bytes than writing and re-reading a full-size
//!    intermediate would, so recomputing is the cheaper side of the rule.
//! 3. A reduction or window used by exactly one kernel root, always through the same index
//!    map, where that map is a *stage map* (each output axis follows one root axis with
//!    coefficient 1, in order, and no root axis of extent > 1 is left unused) runs as that
//!    root's stage: its accumulators live in the root's kernel and the root is its epilogue
//!    (`x[t] / S[t]`). Reductions with the same input, axes (or window) and mask fused into
//!    one root share the stage (siblings: envelope min and max, mean and std).
//! 4. Every other reduction is materialised: in particular one whose result is broadcast
//!    back over a larger domain (a reference frame subtracted from every frame) — the
//!    *barrier* rule — and one used by several roots (computed once).
//! 5. A reduction reached through the input of a stage is materialised (one stage per kernel).
//!
//! With fusion disabled every non-leaf node an output depends on is materialised.

use super::maps::{self, NodeMap};
use super::walk::{self, Slots};
use rumba_ir::op::Op;
use rumba_ir::{Graph, NodeId};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Reductions that may share one stage: same input node and same reduction structure.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum StageKey {
    /// `reduce(x, axes, keepdims, where)`.
    Reduce {
        x: NodeId,
        axes: Vec<usize>,
        keepdims: bool,
        mask: Option<NodeId>,
    },
    /// `window(x, axis, size)`.
    Window { x: NodeId, axis: usize, size: usize },
}

/// The stage key of a reduction or window node.
pub(crate) fn stage_key(graph: &Graph, node: NodeId) -> Option<StageKey> {
    match &graph.node(node).op {
        Op::Reduce {
            x,
            axes,
            keepdims,
            mask,
            ..
        } => Some(StageKey::Reduce {
            x: *x,
            axes: axes.clone(),
            keepdims: *keepdims,
            mask: *mask,
        }),
        Op::Window { x, axis, size, .. } => Some(StageKey::Window {
            x: *x,
            axis: *axis,
            size: *size,
        }),
        _ => None,
    }
}

/// A reduction stage of a kernel: its sibling reductions and the map from the root's axes to
/// their output coordinates.
#[derive(Clone, Debug)]
pub(crate) struct Stage {
    pub key: StageKey,
    pub reductions: Vec<NodeId>,
    pub map: NodeMap,
}

/// The outcome: materialised roots (ascending) and the stage of each root that has one.
pub(crate) struct Decisions {
    pub roots: BTreeSet<NodeId>,
    pub stages: BTreeMap<NodeId, Stage>,
}

/// Applies the rules of the module docs.
pub(crate) fn decide(
    graph: &Graph,
    shapes: &[Vec<usize>],
    outputs: &[NodeId],
    fusion: bool,
    slots: &mut Slots,
) -> Decisions {
    let mut roots: BTreeSet<NodeId> = outputs.iter().copied().collect();
    // Only what an output depends on is computed (laziness): dead nodes are never roots, nor
    // nodes read only for their extents (a polygon mask's `like`; the interpreter agrees).
    let mut live = vec![false; graph.nodes.len()];
    for &o in outputs {
        live[o.index()] = true;
    }
    for id in graph.ids().collect::<Vec<_>>().into_iter().rev() {
        if live[id.index()] {
            for operand in graph.node(id).op.value_operands() {
                live[operand.index()] = true;
            }
        }
    }
    if !fusion {
        roots.extend(graph.ids().filter(|&id| {
            live[id.index()]
                && !matches!(
                    graph.node(id).op,
                    Op::Input { .. } | Op::Const { .. } | Op::Param { .. }
                )
        }));
    }
    let mut stages: BTreeMap<NodeId, Stage> = BTreeMap::new();
    // For each reduction: the roots that reach it and with which maps.
    let mut reached: HashMap<NodeId, Vec<(NodeId, NodeMap)>> = HashMap::new();
    for node in graph.ids().collect::<Vec<_>>().into_iter().rev() {
        if !live[node.index()] {
            continue;
        }
        let key = stage_key(graph, node);
        if let Some(key) = &key
            && !roots.contains(&node)
        {
            let fused = fusion && try_fuse(graph, shapes, node, key, reached.get(&node), &mut stages);
            if fused {
                // Rule 5: what the stage's input reaches is materialised.
                let x = stage_input(graph, node);
                for r in reductions_below(graph, shapes, slots, x, &roots) {
                    roots.insert(r);
                }
                continue;
            }
            roots.insert(node);
        }
        if !roots.contains(&node) {
            continue;
        }
        if let Some(key) = key {
            let rank = shapes[node.index()].len();
            stages.insert(
                node,
                Stage {
                    key,
                    reductions: vec![node],
                    map: maps::identity(rank),
                },
            );
            for r in reductions_below(graph, shapes, slots, stage_input(graph, node), &roots) {
                roots.insert(r);
            }
        } else if walk::is_inline(&graph.node(node).op) {
            let rank = shapes[node.index()].len();
            for (r, map) in reach(graph, shapes, slots, node, maps::identity(rank), rank, &roots) {
                reached.entry(r).or_default().push((node, map));
            }
        }
    }
    Decisions { roots, stages }
}

/// Rule 3 for a reduction not yet materialised.
fn try_fuse(
    graph: &Graph,
    shapes: &[Vec<usize>],
    node: NodeId,
    key: &StageKey,
    reached: Option<&Vec<(NodeId, NodeMap)>>,
    stages: &mut BTreeMap<NodeId, Stage>,
) -> bool {
    let Some([(root, map), rest @ ..]) = reached.map(Vec::as_slice) else {
        return false;
    };
    if rest.iter().any(|(r, m)| r != root || m != map) {
        return false;
    }
    if maps::stage_axes(map, &shapes[root.index()]).is_none() {
        return false;
    }
    match stages.get_mut(root) {
        Some(stage) if stage.key == *key && stage.map == *map => {
            stage.reductions.push(node);
            true
        }
        Some(_) => false,
        None => {
            stages.insert(
                *root,
                Stage {
                    key: key.clone(),
                    reductions: vec![node],
                    map: map.clone(),
                },
            );
            let _ = graph;
            true
        }
    }
}

/// The input a reduction or window reduces (its mask is traced with it).
pub(crate) fn stage_input(graph: &Graph, node: NodeId) -> Vec<NodeId> {
    match &graph.node(node).op {
        Op::Reduce { x, mask, .. } => std::iter::once(*x).chain(*mask).collect(),
        Op::Window { x, .. } => vec![*x],
        _ => Vec::new(),
    }
}

/// Reductions reachable from `from` through inline nodes (stopping at roots and inputs).
fn reductions_below(
    graph: &Graph,
    shapes: &[Vec<usize>],
    slots: &mut Slots,
    from: Vec<NodeId>,
    roots: &BTreeSet<NodeId>,
) -> Vec<NodeId> {
    let mut out = Vec::new();
    for x in from {
        // The input may itself be a reduction (`max(mean(x))`): `reach` starts below it.
        if stage_key(graph, x).is_some() && !roots.contains(&x) && !out.contains(&x) {
            out.push(x);
        }
        let rank = shapes[x.index()].len();
        for (r, _) in reach(graph, shapes, slots, x, maps::identity(rank), rank, roots) {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

/// Walks inline nodes from `node` at `map`; returns every (reduction, map) reached.
fn reach(
    graph: &Graph,
    shapes: &[Vec<usize>],
    slots: &mut Slots,
    node: NodeId,
    map: NodeMap,
    rank: usize,
    roots: &BTreeSet<NodeId>,
) -> Vec<(NodeId, NodeMap)> {
    let mut found = Vec::new();
    let mut seen: HashSet<(NodeId, NodeMap)> = HashSet::new();
    let mut stack = vec![(node, map)];
    while let Some((n, m)) = stack.pop() {
        if !seen.insert((n, m.clone())) {
            continue;
        }
        let op = &graph.node(n).op;
        if n != node && (roots.contains(&n) || matches!(op, Op::Input { .. })) {
            continue;
        }
        if !walk::is_inline(op) {
            if n != node {
                found.push((n, m));
            }
            continue;
        }
        stack.extend(walk::operands(graph, shapes, slots, n, &m, rank));
    }
    found
}
