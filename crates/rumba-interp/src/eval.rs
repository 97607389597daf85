//! The evaluation loop: nodes in topological order, one op at a time, each value freed after
//! its last use and checked against the shape `bind` computed and the node's dtype.

use crate::error::{Fault, InterpError};
use crate::reduce::Reduction;
use crate::value::{Value, scalar, scalar_value};
use crate::window::Sliding;
use crate::{elementwise, movement, reduce, window};
use ndarray::{ArrayD, IxDyn};
use rumba_ir::graph::{Origin, Source};
use rumba_ir::op::Extent;
use rumba_ir::{Array, ArrayView, Graph, Node, NodeId, Op};
use std::collections::HashMap;

/// What every node can see while it is evaluated.
struct Context<'g, 'a> {
    graph: &'g Graph,
    inputs: &'g [(&'g str, ArrayView<'a>)],
    params: &'g HashMap<NodeId, f64>,
    /// Each node's bound shape.
    shapes: &'g [Vec<usize>],
    /// Node values; `None` before evaluation and after the last use.
    values: Vec<Option<Value<'a>>>,
}

/// Evaluates every node of `graph` that an output depends on (already bound: `shapes[i]` is
/// node i's concrete shape) and returns the outputs in `graph.outputs` order as owned
/// C-contiguous arrays. Nodes no output depends on are never evaluated, so they raise no
/// run-time error (rumba is lazy: only what reaches an output is computed); nor are nodes
/// read only for their extents (a polygon mask's `like`, [`Op::value_operands`]).
pub(crate) fn run<'a>(
    graph: &Graph,
    inputs: &[(&str, ArrayView<'a>)],
    shapes: &[Vec<usize>],
    params: &HashMap<NodeId, f64>,
) -> Result<Vec<(String, Array)>, InterpError> {
    check_structure(graph, shapes)?;
    let last_uses = graph.last_uses();
    let mut live = vec![false; graph.nodes.len()];
    for out in &graph.outputs {
        live[out.node.index()] = true;
    }
    for i in (0..graph.nodes.len()).rev() {
        if live[i] {
            for operand in graph.nodes[i].op.value_operands() {
                live[operand.index()] = true;
            }
        }
    }
    let mut cx = Context {
        graph,
        inputs,
        params,
        shapes,
        values: (0..graph.nodes.len()).map(|_| None).collect(),
    };
    for (i, node) in graph.nodes.iter().enumerate() {
        if !live[i] {
            continue;
        }
        let value = cx
            .eval(i, node)
            .and_then(|value| check_value(value, node, &shapes[i]))
            .map_err(|fault| fault.locate(&origin_of(graph, i)))?;
        cx.values[i] = Some(value);
        for operand in node.op.operands() {
            if last_uses[operand.index()] == i {
                cx.values[operand.index()] = None;
            }
        }
        if last_uses[i] == i {
            // Neither used nor an output.
            cx.values[i] = None;
        }
    }
    let mut outputs = Vec::with_capacity(graph.outputs.len());
    for (k, out) in graph.outputs.iter().enumerate() {
        let i = out.node.index();
        let used_again = graph.outputs[k + 1..].iter().any(|o| o.node == out.node);
        let value = if used_again {
            cx.values[i].as_ref().map(|v| Value::Owned(v.view().to_owned()))
        } else {
            cx.values[i].take()
        };
        let value = value.ok_or_else(|| {
            Fault::Internal(format!("output \"{}\" has no value", out.name)).locate(&origin_of(graph, i))
        })?;
        outputs.push((out.name.clone(), value.into_output()));
    }
    Ok(outputs)
}

/// Checks what the loop relies on, so a malformed graph is an error, never a panic: one
/// bound shape per node, operands before their users, outputs that exist.
fn check_structure(graph: &Graph, shapes: &[Vec<usize>]) -> Result<(), InterpError> {
    for (i, node) in graph.nodes.iter().enumerate() {
        let late = node.op.operands().into_iter().find(|o| o.index() >= i);
        let message = match late {
            Some(o) => format!("operand {o} does not precede node %{i}"),
            None if shapes.len() != graph.nodes.len() => {
                format!("bind returned {} shapes for {} nodes", shapes.len(), graph.nodes.len())
            }
            None => continue,
        };
        return Err(Fault::Internal(message).locate(&origin_of(graph, i)));
    }
    for out in &graph.outputs {
        if out.node.index() >= graph.nodes.len() {
            let message = format!(
                "output \"{}\" refers to node {}, which does not exist",
                out.name, out.node
            );
            return Err(Fault::Internal(message).locate(&unknown_origin(&out.name, "output")));
        }
    }
    Ok(())
}

/// The value must have the node's dtype and the shape `bind` computed. A mismatch is a bug
/// (here, in validation or in bind): it panics in debug builds and is an internal error in
/// release builds.
fn check_value<'a>(value: Value<'a>, node: &Node, shape: &[usize]) -> Result<Value<'a>, Fault> {
    let view = value.view();
    if view.dtype() == node.dtype && view.shape() == shape {
        return Ok(value);
    }
    let message = format!(
        "{} computed a {} value of shape {:?}, but the node has dtype {} and bind computed shape {:?}",
        node.op.name(),
        view.dtype(),
        view.shape(),
        node.dtype,
        shape
    );
    if cfg!(debug_assertions) {
        panic!("{message}");
    }
    Err(Fault::Internal(message))
}

/// The origin of node `i`, or a stand-in if the graph lacks it.
fn origin_of(graph: &Graph, i: usize) -> Origin {
    let node = &graph.nodes[i];
    graph
        .origins
        .get(node.origin.0 as usize)
        .cloned()
        .unwrap_or_else(|| unknown_origin(&format!("%{i}"), node.op.name()))
}

/// An origin for something the graph has no origin for.
fn unknown_origin(id: &str, op: &str) -> Origin {
    Origin {
        id: id.to_owned(),
        label: None,
        op: op.to_owned(),
        source: Source::Unknown,
    }
}

impl<'a> Context<'_, 'a> {
    /// The value of an operand, which must have been evaluated and not yet freed.
    fn operand(&self, id: NodeId) -> Result<ArrayView<'_>, Fault> {
        match self.values.get(id.index()) {
            Some(Some(value)) => Ok(value.view()),
            _ => Err(Fault::Internal(format!(
                "operand {id} has no value (not evaluated or already freed)"
            ))),
        }
    }

    /// Evaluates node `i`.
    fn eval(&self, i: usize, node: &Node) -> Result<Value<'a>, Fault> {
        let owned = Value::Owned;
        Ok(match &node.op {
            Op::Input { name } => match self.inputs.iter().find(|(n, _)| n == name) {
                Some((_, view)) => Value::Input(view.clone()),
                None => {
                    let expected = format!("{} {}", node.dtype, node.shape);
                    return Err(Fault::MissingInput {
                        name: name.clone(),
                        expected,
                    });
                }
            },
            Op::Const { value } => owned(scalar(node.dtype, value.0)),
            Op::Param { name, .. } => match self.params.get(&NodeId(i as u32)) {
                Some(&v) => owned(scalar(node.dtype, v)),
                None => return Err(Fault::MissingParam { name: name.clone() }),
            },
            Op::Unary { op, x } => owned(elementwise::unary(*op, &self.operand(*x)?)?),
            Op::Binary { op, a, b } => owned(elementwise::binary(*op, &self.operand(*a)?, &self.operand(*b)?)?),
            Op::Select { cond, a, b } => owned(elementwise::select(
                &self.operand(*cond)?,
                &self.operand(*a)?,
                &self.operand(*b)?,
            )?),
            Op::NanToNum { x, nan, posinf, neginf } => {
                owned(elementwise::nan_to_num(&self.operand(*x)?, nan.0, posinf.0, neginf.0))
            }
            Op::Cast { x, to } => owned(elementwise::cast(&self.operand(*x)?, *to)),
            Op::Slice {
                x,
                axis,
                start,
                stop,
                step,
            } => owned(movement::slice(&self.operand(*x)?, *axis, *start, *stop, *step)?),
            Op::SliceAt {
                x,
                axis,
                start,
                len,
                step,
            } => {
                let x = self.operand(*x)?;
                let n = x.shape().get(*axis).copied().unwrap_or(0);
                let start = scalar_value(&self.operand(*start)?)?;
                let first = rumba_ir::bind::slice_at_start(self.graph, NodeId(i as u32), start, n)?;
                owned(movement::slice_at(&x, *axis, first, *len, *step)?)
            }
            Op::Permute { x, axes } => owned(movement::permute(&self.operand(*x)?, axes)?),
            Op::Squeeze { x, axes } => owned(movement::squeeze(&self.operand(*x)?, axes)?),
            Op::Expand { x, axis } => owned(movement::expand(&self.operand(*x)?, *axis)?),
            Op::BroadcastTo { x, shape } => owned(movement::broadcast_to(&self.operand(*x)?, shape)?),
            Op::Reduce {
                x,
                kind,
                axes,
                keepdims,
                skip_nan,
                mask,
            } => {
                let mask = mask.map(|m| self.operand(m)).transpose()?;
                let r = Reduction {
                    kind: *kind,
                    axes,
                    keepdims: *keepdims,
                    skip_nan: *skip_nan,
                    out_dtype: node.dtype,
                };
                owned(reduce::reduce(&self.operand(*x)?, mask.as_ref(), &r)?)
            }
            Op::Window {
                x,
                kind,
                axis,
                size,
                skip_nan,
            } => {
                let w = Sliding {
                    kind,
                    axis: *axis,
                    size: *size,
                    skip_nan: *skip_nan,
                    out_dtype: node.dtype,
                };
                owned(window::window(&self.operand(*x)?, &w)?)
            }
            Op::PolygonMask {
                vertices,
                height,
                width,
            } => {
                let vertices: Vec<[f64; 2]> = vertices.iter().map(|[x, y]| [x.0, y.0]).collect();
                if vertices.len() < 3 || vertices.iter().flatten().any(|v| !v.is_finite()) {
                    let message = format!("expected at least 3 finite vertices, found {vertices:?}");
                    return Err(Fault::invalid_field("vertices", message));
                }
                let (h, w) = (self.extent(height, "height")?, self.extent(width, "width")?);
                let mask = rumba_ir::polygon::mask(&vertices, h, w);
                let mask = ArrayD::from_shape_vec(IxDyn(&[1, h, w, 1]), mask)
                    .map_err(|e| Fault::Internal(format!("polygon mask of {h}×{w}: {e}")))?;
                owned(Array::Bool(mask))
            }
        })
    }

    /// The value of a polygon extent: fixed, or the extent of an operand's axis.
    fn extent(&self, extent: &Extent, field: &'static str) -> Result<usize, Fault> {
        match *extent {
            Extent::Fixed(n) => Ok(n),
            Extent::Of { node, axis } => {
                // The bound shape: a node read only for its extents is not evaluated.
                let shape = self.shapes.get(node.index()).map_or(&[][..], Vec::as_slice);
                shape.get(axis).copied().ok_or_else(|| {
                    Fault::invalid_field(field, format!("axis {axis} is out of range for a {shape:?} operand"))
                })
            }
        }
    }
}
