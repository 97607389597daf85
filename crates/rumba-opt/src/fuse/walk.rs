//! One step of tracing: the operands of an inline node with their composed index maps.
//! Shared by the fusion decisions ([`super::decide`]) and the kernel builder
//! ([`super::kernel`]), so both see the same maps.

use super::maps::{self, NodeMap};
use rumba_ir::error::At;
use rumba_ir::op::Op;
use rumba_ir::{Graph, NodeId};
use rumba_plan::{ParamId, ParamSource};
use std::collections::HashMap;

/// The run-time scalar slots of a plan: one per named param, one per `slice_at` node.
#[derive(Default)]
pub(crate) struct Slots {
    pub sources: Vec<ParamSource>,
    by_node: HashMap<NodeId, ParamId>,
}

impl Slots {
    fn add(&mut self, node: NodeId, source: ParamSource) -> ParamId {
        *self.by_node.entry(node).or_insert_with(|| {
            self.sources.push(source);
            ParamId(self.sources.len() as u32 - 1)
        })
    }

    /// The slot of a `Param` node.
    pub fn named(&mut self, graph: &Graph, param: NodeId) -> ParamId {
        let Op::Param { name, default } = &graph.node(param).op else {
            unreachable!("a param node")
        };
        self.add(
            param,
            ParamSource::Named {
                name: name.clone(),
                default: default.map(|d| d.0),
                at: At::node(graph.origin(param)),
            },
        )
    }

    /// The slot holding the checked start of a `SliceAt` node.
    pub fn slice_start(&mut self, graph: &Graph, shapes: &[Vec<usize>], node: NodeId) -> ParamId {
        let Op::SliceAt {
            x,
            axis,
            start,
            len,
            step,
        } = &graph.node(node).op
        else {
            unreachable!("a slice_at node")
        };
        let Op::Param { name, default } = &graph.node(*start).op else {
            unreachable!("validation: a param start")
        };
        let source = ParamSource::SliceStart {
            name: name.clone(),
            default: default.map(|d| d.0),
            extent: shapes[x.index()][*axis],
            len: *len,
            step: *step,
            at: At::field(graph.origin(node), "start"),
        };
        self.add(node, source)
    }
}

/// Whether a node is computed inline inside whatever kernel uses it (never on its own).
pub(crate) fn is_inline(op: &Op) -> bool {
    !matches!(op, Op::Input { .. } | Op::Reduce { .. } | Op::Window { .. })
}

/// The operands of the inline node `node`, reached at `map`, each with its own map (over the
/// same domain of `rank` axes). Leaves (const, param, polygon mask) have none.
pub(crate) fn operands(
    graph: &Graph,
    shapes: &[Vec<usize>],
    slots: &mut Slots,
    node: NodeId,
    map: &NodeMap,
    rank: usize,
) -> Vec<(NodeId, NodeMap)> {
    let shape = &shapes[node.index()];
    let bcast = |x: &NodeId| (*x, maps::broadcast(map, shape, &shapes[x.index()], rank));
    match &graph.node(node).op {
        Op::Input { .. } | Op::Const { .. } | Op::Param { .. } | Op::PolygonMask { .. } => Vec::new(),
        Op::Reduce { .. } | Op::Window { .. } => unreachable!("reductions are stages, not inline nodes"),
        Op::Unary { x, .. } | Op::NanToNum { x, .. } | Op::Cast { x, .. } => vec![bcast(x)],
        Op::Binary { a, b, .. } => vec![bcast(a), bcast(b)],
        Op::Select { cond, a, b } => vec![bcast(cond), bcast(a), bcast(b)],
        Op::Slice {
            x,
            axis,
            start,
            stop,
            step,
        } => {
            vec![(
                *x,
                maps::slice(map, *axis, shapes[x.index()][*axis], *start, *stop, *step),
            )]
        }
        Op::SliceAt { x, axis, step, .. } => {
            let slot = slots.slice_start(graph, shapes, node);
            vec![(*x, maps::slice_at(map, *axis, slot, *step))]
        }
        Op::Permute { x, axes } => vec![(*x, maps::permute(map, axes))],
        Op::Squeeze { x, axes } => vec![(*x, maps::squeeze(map, axes, shapes[x.index()].len(), rank))],
        Op::Expand { x, axis } => vec![(*x, maps::expand(map, *axis))],
        Op::BroadcastTo { x, .. } => vec![bcast(x)],
    }
}
