//! The graph's structural invariants, checked after every pass in debug and test builds
//! (STYLE "IR": each stage has a `verify()`), including "the optimizer preserved the outputs".
//!
//! Checked: operands precede their users (topological order, ids in range); origins exist;
//! every node's dtype follows its op's rule (binary operands share a dtype, a select's
//! condition and a reduce's mask are bool, a cast has its target dtype, …); every node's shape
//! is what inference gives for its operands; consts and params are rank 0, a const holds a
//! value of its dtype, a `slice_at` start is a param; constraints name existing nodes; and the
//! outputs have the original graph's count, names, dtypes and shapes.

use rumba_ir::graph::Constraint;
use rumba_ir::op::{Op, UnaryOp};
use rumba_ir::rewrite::infer_shape;
use rumba_ir::{DType, Graph, GraphError, Node, NodeId, Shape};
use rumba_plan::eval::scalar::Scalar;

/// A broken invariant: always a bug in a pass.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum VerifyError {
    /// An operand that does not precede its user (or does not exist).
    #[error("{node} ({op}) uses {operand}, which does not precede it")]
    OperandOrder {
        /// The user.
        node: NodeId,
        /// Its op name.
        op: &'static str,
        /// The operand.
        operand: NodeId,
    },
    /// A node whose origin index is out of range.
    #[error("{node} ({op}) has origin {origin}, but the graph has {count} origins")]
    Origin {
        /// The node.
        node: NodeId,
        /// Its op name.
        op: &'static str,
        /// Its origin index.
        origin: u32,
        /// How many origins there are.
        count: usize,
    },
    /// A node whose dtype differs from its op's rule.
    #[error("{node} ({op}) has dtype {found}, expected {expected}")]
    Dtype {
        /// The node.
        node: NodeId,
        /// Its op name.
        op: &'static str,
        /// What its op and operands give.
        expected: DType,
        /// What it records.
        found: DType,
    },
    /// Two operands that must share a dtype do not.
    #[error("{node} ({op}) has operands of dtypes {a} and {b}, expected one dtype")]
    OperandDtypes {
        /// The node.
        node: NodeId,
        /// Its op name.
        op: &'static str,
        /// The first operand's dtype.
        a: DType,
        /// The second operand's dtype.
        b: DType,
    },
    /// A select condition or reduce mask that is not bool.
    #[error("{node} ({op}): {what} has dtype {found}, expected bool")]
    NotBool {
        /// The node.
        node: NodeId,
        /// Its op name.
        op: &'static str,
        /// Which operand.
        what: &'static str,
        /// Its dtype.
        found: DType,
    },
    /// A node whose recorded shape differs from the inferred one.
    #[error("{node} ({op}) records shape {recorded}, its operands give {inferred}")]
    Shape {
        /// The node.
        node: NodeId,
        /// Its op name.
        op: &'static str,
        /// The shape in the node.
        recorded: Shape,
        /// The shape inference gives.
        inferred: Shape,
    },
    /// A node whose shape cannot be inferred from its operands.
    #[error("{node} ({op}): {source}")]
    Infer {
        /// The node.
        node: NodeId,
        /// Its op name.
        op: &'static str,
        /// What inference reports (boxed: graph errors are large).
        #[source]
        source: Box<GraphError>,
    },
    /// A leaf or operand that breaks the IR's form (a const of rank 1, a `slice_at` start that
    /// is not a param, a const value its dtype cannot hold, a constraint on a missing node).
    #[error("{node} ({op}): {problem}")]
    Form {
        /// The node.
        node: NodeId,
        /// Its op name (`"constraint"` for a constraint).
        op: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The pass changed the number of outputs.
    #[error("the graph has {found} outputs, the original {expected}")]
    OutputCount {
        /// The original's count.
        expected: usize,
        /// The count now.
        found: usize,
    },
    /// An output changed name, dtype or shape, or points nowhere.
    #[error("output {index}: {problem}")]
    Output {
        /// The output's position.
        index: usize,
        /// What differs.
        problem: String,
    },
}

/// Checks `graph` (optimised from `original`) against the invariants of the module docs.
///
/// # Errors
/// The first invariant that does not hold.
pub fn verify(graph: &Graph, original: &Graph) -> Result<(), VerifyError> {
    for (i, node) in graph.nodes.iter().enumerate() {
        check_node(graph, NodeId(i as u32), node)?;
    }
    check_constraints(graph)?;
    check_outputs(graph, original)
}

fn check_node(graph: &Graph, id: NodeId, node: &Node) -> Result<(), VerifyError> {
    let op = node.op.name();
    if let Some(operand) = node.op.operands().into_iter().find(|o| o.index() >= id.index()) {
        return Err(VerifyError::OperandOrder { node: id, op, operand });
    }
    let count = graph.origins.len();
    if node.origin.0 as usize >= count {
        let origin = node.origin.0;
        return Err(VerifyError::Origin {
            node: id,
            op,
            origin,
            count,
        });
    }
    check_operands(graph, id, node)?;
    check_form(graph, id, node)?;
    if let Some(expected) = expected_dtype(graph, &node.op)
        && expected != node.dtype
    {
        let found = node.dtype;
        return Err(VerifyError::Dtype {
            node: id,
            op,
            expected,
            found,
        });
    }
    if matches!(node.op, Op::Input { .. }) {
        return Ok(());
    }
    let shape_of = |o: NodeId| &graph.node(o).shape;
    let inferred = infer_shape(&node.op, shape_of, graph.origin(id)).map_err(|e| VerifyError::Infer {
        node: id,
        op,
        source: Box::new(e),
    })?;
    if inferred != node.shape {
        let recorded = node.shape.clone();
        return Err(VerifyError::Shape {
            node: id,
            op,
            recorded,
            inferred,
        });
    }
    Ok(())
}

/// Operands that must share a dtype, or be bool.
fn check_operands(graph: &Graph, id: NodeId, node: &Node) -> Result<(), VerifyError> {
    let op = node.op.name();
    let dtype = |o: NodeId| graph.node(o).dtype;
    let (pair, boolean) = match node.op {
        Op::Binary { a, b, .. } => (Some((a, b)), None),
        Op::Select { cond, a, b } => (Some((a, b)), Some(("condition", cond))),
        Op::Reduce { mask: Some(m), .. } => (None, Some(("mask", m))),
        _ => (None, None),
    };
    if let Some((a, b)) = pair
        && dtype(a) != dtype(b)
    {
        let (a, b) = (dtype(a), dtype(b));
        return Err(VerifyError::OperandDtypes { node: id, op, a, b });
    }
    if let Some((what, o)) = boolean
        && dtype(o) != DType::Bool
    {
        let found = dtype(o);
        return Err(VerifyError::NotBool {
            node: id,
            op,
            what,
            found,
        });
    }
    Ok(())
}

/// Leaves are rank-0 scalars holding values of their dtype; a `slice_at` start is a param.
fn check_form(graph: &Graph, id: NodeId, node: &Node) -> Result<(), VerifyError> {
    let problem = match &node.op {
        Op::Const { .. } | Op::Param { .. } if node.shape.rank() != 0 => Some(format!("has shape {}", node.shape)),
        Op::Const { value } => {
            let held = Scalar::from_f64(node.dtype, value.0).to_f64();
            let exact = held.to_bits() == value.0.to_bits() || (held.is_nan() && value.0.is_nan());
            (!exact).then(|| format!("holds {}, not a value of dtype {}", value.0, node.dtype))
        }
        Op::SliceAt { start, .. } if !matches!(graph.node(*start).op, Op::Param { .. }) => Some(format!(
            "its start {start} is a {}, expected a param",
            graph.node(*start).op.name()
        )),
        _ => None,
    };
    match problem {
        Some(problem) => Err(VerifyError::Form {
            node: id,
            op: node.op.name(),
            problem,
        }),
        None => Ok(()),
    }
}

/// The dtype `op` gives its node, where a rule fixes it.
fn expected_dtype(graph: &Graph, op: &Op) -> Option<DType> {
    let d = |o: &NodeId| graph.node(*o).dtype;
    match op {
        Op::Input { .. } | Op::Const { .. } => None,
        Op::Param { .. } => Some(DType::F64),
        Op::Unary { op: UnaryOp::IsNan, .. } | Op::PolygonMask { .. } => Some(DType::Bool),
        Op::Binary { op, .. } if op.is_comparison() => Some(DType::Bool),
        Op::Binary { a: x, .. }
        | Op::Select { a: x, .. }
        | Op::Unary { x, .. }
        | Op::NanToNum { x, .. }
        | Op::Slice { x, .. }
        | Op::SliceAt { x, .. }
        | Op::Permute { x, .. }
        | Op::Squeeze { x, .. }
        | Op::Expand { x, .. }
        | Op::BroadcastTo { x, .. } => Some(d(x)),
        Op::Cast { to, .. } => Some(*to),
        Op::Reduce { x, kind, .. } => kind.out_dtype(d(x)),
        Op::Window { x, kind, .. } => kind.out_dtype(d(x)),
    }
}

fn check_constraints(graph: &Graph) -> Result<(), VerifyError> {
    for c in &graph.constraints {
        let (nodes, polygon) = match c {
            Constraint::Extent { node, rule, .. } => {
                let other = match rule {
                    rumba_ir::graph::ExtentRule::SameAs { node, .. } => Some(*node),
                    _ => None,
                };
                ([Some(*node), other], None)
            }
            Constraint::PolygonHasPixels { mask, .. } => ([Some(*mask), None], Some(*mask)),
        };
        let missing = nodes.into_iter().flatten().find(|n| n.index() >= graph.nodes.len());
        let not_polygon = polygon.filter(|m| !matches!(graph.node(*m).op, Op::PolygonMask { .. }));
        let problem = match (missing, not_polygon) {
            (Some(n), _) => Some((n, "a constraint names a node that does not exist")),
            (None, Some(m)) => Some((m, "a polygon constraint names a node that is not a polygon_mask")),
            (None, None) => None,
        };
        if let Some((node, problem)) = problem {
            return Err(VerifyError::Form {
                node,
                op: "constraint",
                problem: problem.to_owned(),
            });
        }
    }
    Ok(())
}

fn check_outputs(graph: &Graph, original: &Graph) -> Result<(), VerifyError> {
    let (expected, found) = (original.outputs.len(), graph.outputs.len());
    if expected != found {
        return Err(VerifyError::OutputCount { expected, found });
    }
    for (index, (out, orig)) in graph.outputs.iter().zip(&original.outputs).enumerate() {
        let problem = if out.name != orig.name {
            format!("named \"{}\", the original's \"{}\"", out.name, orig.name)
        } else if out.node.index() >= graph.nodes.len() {
            format!("\"{}\" is node {}, which does not exist", out.name, out.node)
        } else {
            let (now, was) = (graph.node(out.node), original.node(orig.node));
            if now.dtype == was.dtype && now.shape == was.shape {
                continue;
            }
            format!(
                "\"{}\" is {} {}, the original's {} {}",
                out.name, now.dtype, now.shape, was.dtype, was.shape
            )
        };
        return Err(VerifyError::Output { index, problem });
    }
    Ok(())
}
