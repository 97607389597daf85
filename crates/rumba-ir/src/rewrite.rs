//! Rebuilding a [`Graph`] from another: what optimisation passes need to build a new graph
//! without mutating the old one (STYLE "IR": nodes are appended in topological order and never
//! mutated).
//!
//! - [`map_operands`]: an op with its operands replaced (old ids → new ids);
//! - [`GraphBuilder`]: appends nodes, inferring shape and weakness with validation's own rules
//!   ([`GraphBuilder::push_op`]) or verbatim ([`GraphBuilder::push`]);
//! - [`IdMap`]: the old → new id map, which also carries outputs and constraints over;
//! - [`specialize`]: a graph whose every shape is the bound, concrete one — the form passes and
//!   fusion work on.

use crate::bind::Bound;
use crate::dtype::DType;
use crate::error::GraphError;
use crate::graph::{Constraint, ExtentRule, Graph, Node, NodeId, Origin, OriginId, Output};
use crate::op::{Extent, Op};
use crate::shape::Shape;
use crate::validate::{infer, lower::issue_error};

/// `op` with every operand `o` replaced by `f(o)`, visiting operands in [`Op::operands`] order.
#[must_use]
pub fn map_operands(op: &Op, mut f: impl FnMut(NodeId) -> NodeId) -> Op {
    let mut op = op.clone();
    match &mut op {
        Op::Input { .. } | Op::Const { .. } | Op::Param { .. } => {}
        Op::Unary { x, .. }
        | Op::NanToNum { x, .. }
        | Op::Cast { x, .. }
        | Op::Slice { x, .. }
        | Op::Permute { x, .. }
        | Op::Squeeze { x, .. }
        | Op::Expand { x, .. }
        | Op::BroadcastTo { x, .. }
        | Op::Window { x, .. } => *x = f(*x),
        Op::SliceAt { x, start, .. } => {
            *x = f(*x);
            *start = f(*start);
        }
        Op::Binary { a, b, .. } => {
            *a = f(*a);
            *b = f(*b);
        }
        Op::Select { cond, a, b } => {
            *cond = f(*cond);
            *a = f(*a);
            *b = f(*b);
        }
        Op::Reduce { x, mask, .. } => {
            *x = f(*x);
            if let Some(m) = mask {
                *m = f(*m);
            }
        }
        Op::PolygonMask { height, width, .. } => {
            for extent in [height, width] {
                if let Extent::Of { node, .. } = extent {
                    *node = f(*node);
                }
            }
        }
    }
    op
}

/// The shape of `op` from its operands' shapes, by the inference validation and binding use;
/// an error names `origin`.
///
/// # Errors
/// Operands that do not fit the op (broadcasting, axes, extents), as validation reports them.
///
/// # Panics
/// For [`Op::Input`], whose shape is declared, not inferred.
pub fn infer_shape<'a>(op: &Op, shape_of: impl Fn(NodeId) -> &'a Shape, origin: &Origin) -> Result<Shape, GraphError> {
    infer::infer_shape(op, shape_of).map_err(|issue| issue_error(issue, origin))
}

/// Validation's weakness rule: consts and params are weak, casts and inputs never, any other
/// node iff it has operands and all of them are weak.
#[must_use]
pub fn is_weak(op: &Op, weak_of: impl Fn(NodeId) -> bool) -> bool {
    match op {
        Op::Const { .. } | Op::Param { .. } => true,
        Op::Cast { .. } | Op::Input { .. } => false,
        _ => {
            let operands = op.operands();
            !operands.is_empty() && operands.into_iter().all(weak_of)
        }
    }
}

/// A graph under construction: nodes appended in topological order, origins shared with the
/// graph it is rebuilt from.
#[derive(Clone, Debug)]
pub struct GraphBuilder {
    nodes: Vec<Node>,
    origins: Vec<Origin>,
}

impl GraphBuilder {
    /// An empty graph with the origins of `graph` (so its nodes' [`OriginId`]s stay valid).
    #[must_use]
    pub fn like(graph: &Graph) -> GraphBuilder {
        GraphBuilder {
            nodes: Vec::with_capacity(graph.nodes.len()),
            origins: graph.origins.clone(),
        }
    }

    /// The nodes appended so far.
    #[must_use]
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// A node appended so far.
    ///
    /// # Panics
    /// If `id` has not been appended.
    #[must_use]
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// Number of nodes appended so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node has been appended.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Appends `node` as given (its dtype, shape and weakness are trusted).
    ///
    /// # Panics
    /// If an operand of `node` has not been appended before it.
    pub fn push(&mut self, node: Node) -> NodeId {
        let id = NodeId(u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes"));
        if let Some(late) = node.op.operands().into_iter().find(|o| o.index() >= self.nodes.len()) {
            panic!(
                "operand {late} of new node {id} ({}) does not precede it",
                node.op.name()
            );
        }
        self.nodes.push(node);
        id
    }

    /// Appends `op` with result `dtype`; its shape is inferred from its operands and its
    /// weakness follows [`is_weak`].
    ///
    /// # Errors
    /// Operands whose shapes do not fit the op (the error names `origin`).
    ///
    /// # Panics
    /// For [`Op::Input`], if an operand has not been appended, or if `origin` is not an origin
    /// of the graph this builder was made [`like`](GraphBuilder::like).
    pub fn push_op(&mut self, op: Op, dtype: DType, origin: OriginId) -> Result<NodeId, GraphError> {
        let nodes = &self.nodes;
        let shape = infer_shape(&op, |id| &nodes[id.index()].shape, &self.origins[origin.0 as usize])?;
        let weak = is_weak(&op, |id| nodes[id.index()].weak);
        Ok(self.push(Node {
            op,
            dtype,
            shape,
            weak,
            origin,
        }))
    }

    /// The finished graph.
    #[must_use]
    pub fn finish(self, outputs: Vec<Output>, constraints: Vec<Constraint>) -> Graph {
        Graph {
            nodes: self.nodes,
            origins: self.origins,
            outputs,
            constraints,
        }
    }
}

/// Where each node of an old graph went in the new one (`None`: removed).
#[derive(Clone, Debug)]
pub struct IdMap {
    to: Vec<Option<NodeId>>,
}

impl IdMap {
    /// A map for an old graph of `len` nodes, nothing mapped yet.
    #[must_use]
    pub fn new(len: usize) -> IdMap {
        IdMap { to: vec![None; len] }
    }

    /// Records that old node `old` became `new`.
    pub fn set(&mut self, old: NodeId, new: NodeId) {
        self.to[old.index()] = Some(new);
    }

    /// The new id of `old`, if it was kept.
    #[must_use]
    pub fn get(&self, old: NodeId) -> Option<NodeId> {
        self.to.get(old.index()).copied().flatten()
    }

    /// The new id of `old`.
    ///
    /// # Panics
    /// If `old` was not mapped (a pass visits operands before their users, so this is a bug).
    #[must_use]
    pub fn map(&self, old: NodeId) -> NodeId {
        self.get(old)
            .unwrap_or_else(|| panic!("node {old} is used but was not mapped"))
    }

    /// The outputs with their nodes mapped.
    ///
    /// # Panics
    /// If an output's node was not mapped.
    #[must_use]
    pub fn outputs(&self, outputs: &[Output]) -> Vec<Output> {
        outputs
            .iter()
            .map(|o| Output {
                name: o.name.clone(),
                node: self.map(o.node),
            })
            .collect()
    }

    /// The constraints with their nodes mapped; a constraint on a removed node is dropped
    /// (binding the original graph has already checked it).
    #[must_use]
    pub fn constraints(&self, constraints: &[Constraint]) -> Vec<Constraint> {
        constraints.iter().filter_map(|c| self.constraint(c)).collect()
    }

    fn constraint(&self, c: &Constraint) -> Option<Constraint> {
        Some(match c {
            Constraint::Extent {
                node,
                axis,
                rule,
                origin,
                what,
            } => {
                let rule = match *rule {
                    ExtentRule::SameAs { node, axis } => ExtentRule::SameAs {
                        node: self.get(node)?,
                        axis,
                    },
                    r => r,
                };
                Constraint::Extent {
                    node: self.get(*node)?,
                    axis: *axis,
                    rule,
                    origin: *origin,
                    what: what.clone(),
                }
            }
            Constraint::PolygonHasPixels { mask, origin } => Constraint::PolygonHasPixels {
                mask: self.get(*mask)?,
                origin: *origin,
            },
        })
    }
}

/// `graph` with every node's shape (inputs included) replaced by its concrete extents from
/// `bound` ([`crate::bind::bind`] of the same graph): a graph specialised for these input
/// shapes, which binds again with the same inputs. Passes that need extents (normalising a
/// slice) only fire on fixed dims, so they work best on this form.
///
/// # Panics
/// If `bound` does not have one shape per node of `graph`.
#[must_use]
pub fn specialize(graph: &Graph, bound: &Bound) -> Graph {
    assert_eq!(
        bound.shapes.len(),
        graph.nodes.len(),
        "bound shapes must come from binding this graph"
    );
    let nodes = graph
        .nodes
        .iter()
        .zip(&bound.shapes)
        .map(|(node, extents)| Node {
            shape: Shape::fixed(extents),
            ..node.clone()
        })
        .collect();
    Graph { nodes, ..graph.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bind::{InputSpec, bind};
    use crate::dsl::Builder;
    use crate::shape::Dim;

    #[test]
    fn map_operands_visits_operands_in_order() {
        let op = Op::Select {
            cond: NodeId(1),
            a: NodeId(2),
            b: NodeId(3),
        };
        let mut seen = Vec::new();
        let mapped = map_operands(&op, |o| {
            seen.push(o);
            NodeId(o.0 + 10)
        });
        assert_eq!(seen, op.operands());
        assert_eq!(mapped.operands(), vec![NodeId(11), NodeId(12), NodeId(13)]);
        let mask = Op::PolygonMask {
            vertices: Vec::new(),
            height: Extent::Of {
                node: NodeId(4),
                axis: 1,
            },
            width: Extent::Fixed(3),
        };
        assert_eq!(map_operands(&mask, |o| NodeId(o.0 + 1)).operands(), vec![NodeId(5)]);
    }

    #[test]
    fn specialize_fixes_every_shape_and_binds_again() {
        let b = Builder::new();
        let x = b.input("x", DType::U8, [None, Some(3)]);
        let y = &x.cast(DType::F32) * 2.0;
        let graph = b.build([("y", &y)]).unwrap();
        assert_eq!(graph.node(NodeId(0)).shape.0[0], Dim::Free);
        let spec = [InputSpec {
            name: "x".into(),
            dtype: DType::U8,
            shape: vec![5, 3],
        }];
        let fixed = specialize(&graph, &bind(&graph, &spec).unwrap());
        assert!(fixed.nodes.iter().all(|n| n.shape.concrete().is_some()));
        assert_eq!(fixed.node(fixed.outputs[0].node).shape, Shape::fixed(&[5, 3]));
        assert_eq!(bind(&fixed, &spec).unwrap().shapes, bind(&graph, &spec).unwrap().shapes);
    }

    #[test]
    fn push_op_infers_shape_and_weakness() {
        let b = Builder::new();
        let x = b.input("x", DType::F32, [Some(2), Some(3)]);
        let graph = b.build([("x", &x)]).unwrap();
        let mut g = GraphBuilder::like(&graph);
        let x = g.push(graph.nodes[0].clone());
        let origin = graph.nodes[0].origin;
        let c = g
            .push_op(
                Op::Const {
                    value: crate::op::F64(1.0),
                },
                DType::F64,
                origin,
            )
            .unwrap();
        let c32 = g
            .push_op(Op::Cast { x: c, to: DType::F32 }, DType::F32, origin)
            .unwrap();
        let sum = g
            .push_op(
                Op::Binary {
                    op: crate::op::BinaryOp::Add,
                    a: x,
                    b: c32,
                },
                DType::F32,
                origin,
            )
            .unwrap();
        assert!(g.node(c).weak && !g.node(c32).weak && !g.node(sum).weak);
        assert_eq!(g.node(sum).shape, Shape::fixed(&[2, 3]));
        let bad = Op::Slice {
            x,
            axis: 5,
            start: None,
            stop: None,
            step: 1,
        };
        assert!(matches!(
            g.push_op(bad, DType::F32, origin),
            Err(GraphError::Axis { axis: 5, .. })
        ));
    }
}
