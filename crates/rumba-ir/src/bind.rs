//! Binding: a [`Graph`] checked against concrete inputs and params.
//!
//! Binding runs the same shape inference as validation, now with every extent known, and
//! checks what only concrete extents can tell (broadcasting between free dims, empty ranges,
//! a file reference's frame count, an envelope position, a polygon with no pixel inside).
//! Params are resolved separately ([`param_values`]) because they never change shapes.

use crate::dtype::DType;
use crate::error::{At, GraphError};
use crate::graph::{Constraint, ExtentRule, Graph, NodeId};
use crate::op::{Extent, Op};
use crate::polygon;
use crate::shape::{Dim, Shape, fmt_extents};
use crate::validate::lower::issue_error;
use std::collections::{BTreeMap, HashMap};

/// A concrete input: name, dtype and extents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputSpec {
    /// The graph input's name.
    pub name: String,
    /// The array's dtype.
    pub dtype: DType,
    /// The array's extents.
    pub shape: Vec<usize>,
}

/// A graph bound to concrete input shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    /// The concrete shape of every node, by node index.
    pub shapes: Vec<Vec<usize>>,
}

/// Checks `graph` against concrete inputs and computes every node's extents.
///
/// # Errors
/// A missing or unknown input, a dtype, rank or fixed extent that differs from the
/// declaration, shapes that do not broadcast, an empty reduction, or a failed constraint —
/// each naming the node.
pub fn bind(graph: &Graph, inputs: &[InputSpec]) -> Result<Bound, GraphError> {
    let declared = graph.inputs();
    for spec in inputs {
        if !declared.iter().any(|(name, _)| *name == spec.name) {
            return Err(GraphError::UnknownInput {
                name: spec.name.clone(),
                known: declared.iter().map(|(n, _)| (*n).to_owned()).collect(),
            });
        }
    }
    let mut shapes: Vec<Shape> = Vec::with_capacity(graph.nodes.len());
    for (i, node) in graph.nodes.iter().enumerate() {
        let origin = &graph.origins[node.origin.0 as usize];
        let shape = match &node.op {
            Op::Input { name } => {
                let spec = inputs
                    .iter()
                    .find(|s| &s.name == name)
                    .ok_or_else(|| GraphError::MissingInput {
                        at: At::node(origin),
                        name: name.clone(),
                        expected: format!("{} {}", node.dtype, node.shape),
                    })?;
                check_input(node.dtype, &node.shape, spec, &At::node(origin))?;
                Shape::fixed(&spec.shape)
            }
            op => crate::validate::infer::infer_shape(op, |id| &shapes[id.index()])
                .map_err(|issue| issue_error(issue, origin))?,
        };
        if let (Op::PolygonMask { .. }, Some(w)) = (&node.op, shape.0.get(2).and_then(|d| d.fixed()))
            && u32::try_from(w).is_err()
        {
            return Err(GraphError::Shape {
                at: At::node(origin),
                what: "polygon mask".into(),
                expected: format!("a width of at most {} columns", u32::MAX),
                found: format!("shape {shape}"),
            });
        }
        shapes.push(shape);
        for c in graph
            .constraints
            .iter()
            .filter(|c| constrained_node(c) == NodeId(i as u32))
        {
            check_constraint(graph, &shapes, c)?;
        }
    }
    let shapes = shapes
        .into_iter()
        .map(|s| s.concrete().expect("binding fixes every extent"))
        .collect();
    Ok(Bound { shapes })
}

/// The unit axes a smaller array stands for (DESIGN §9): an input declared rank 4 with
/// C fixed to 1 accepts a (T, H, W) array as (T, H, W, 1), and one declared (1, ?, ?, 1)
/// accepts an (H, W) array as (1, H, W, 1). Returns the rank-4 extents `spec` stands for, or
/// `None` when it is not such an array (it is then bound as it is, and errors as it is).
#[must_use]
pub fn implied_extents(graph: &Graph, spec: &InputSpec) -> Option<Vec<usize>> {
    let (_, id) = graph.inputs().into_iter().find(|(n, _)| *n == spec.name)?;
    let declared = &graph.node(id).shape.0;
    if declared.len() != 4 || declared[3] != Dim::Fixed(1) {
        return None;
    }
    match spec.shape.len() {
        3 => Some([&spec.shape[..], &[1]].concat()),
        2 if declared[0] == Dim::Fixed(1) => Some([&[1], &spec.shape[..], &[1]].concat()),
        _ => None,
    }
}

fn check_input(dtype: DType, declared: &Shape, spec: &InputSpec, at: &At) -> Result<(), GraphError> {
    if spec.dtype != dtype {
        return Err(GraphError::Type {
            at: at.clone(),
            what: format!("input \"{}\"", spec.name),
            expected: dtype.to_string(),
            found: spec.dtype.to_string(),
        });
    }
    let fits = declared.rank() == spec.shape.len()
        && declared
            .0
            .iter()
            .zip(&spec.shape)
            .all(|(d, &n)| matches!(d, Dim::Free) || *d == Dim::Fixed(n));
    if !fits {
        return Err(GraphError::Shape {
            at: at.clone(),
            what: format!("input \"{}\"", spec.name),
            expected: format!("{declared} (rank {})", declared.rank()),
            found: format!("{} (rank {})", fmt_extents(&spec.shape), spec.shape.len()),
        });
    }
    // Offsets into the input are i64: its byte size must fit.
    let bytes = spec.shape.iter().try_fold(dtype.size() as i64, |n, &e| {
        i64::try_from(e).ok().and_then(|e| n.checked_mul(e))
    });
    if bytes.is_none() && !spec.shape.contains(&0) {
        return Err(GraphError::Shape {
            at: at.clone(),
            what: format!("input \"{}\"", spec.name),
            expected: format!("at most {} bytes (i64::MAX)", i64::MAX),
            found: format!("{} of {dtype}, more bytes than that", fmt_extents(&spec.shape)),
        });
    }
    Ok(())
}

fn constrained_node(c: &Constraint) -> NodeId {
    match c {
        Constraint::Extent {
            node,
            rule: ExtentRule::SameAs { node: other, .. },
            ..
        } => (*node).max(*other),
        Constraint::Extent { node, .. } => *node,
        Constraint::PolygonHasPixels { mask, .. } => *mask,
    }
}

fn extent(shapes: &[Shape], node: NodeId, axis: usize) -> usize {
    shapes[node.index()].0[axis].fixed().expect("bound extents are fixed")
}

fn check_constraint(graph: &Graph, shapes: &[Shape], c: &Constraint) -> Result<(), GraphError> {
    match c {
        Constraint::Extent {
            node,
            axis,
            rule,
            origin,
            what,
        } => {
            let n = extent(shapes, *node, *axis);
            let (ok, expected) = match *rule {
                ExtentRule::Equals(v) => (n == v, format!("extent {v} on axis {axis}")),
                ExtentRule::SameAs {
                    node: other,
                    axis: other_axis,
                } => {
                    let v = extent(shapes, other, other_axis);
                    (n == v, format!("extent {v} on axis {axis}"))
                }
                ExtentRule::GreaterThan(v) => (n > v, format!("more than {v} elements on axis {axis}")),
            };
            if ok {
                return Ok(());
            }
            Err(GraphError::Shape {
                at: At::node(&graph.origins[origin.0 as usize]),
                what: what.clone(),
                expected,
                found: format!("shape {}", shapes[node.index()]),
            })
        }
        Constraint::PolygonHasPixels { mask, origin } => {
            let Op::PolygonMask { vertices, .. } = &graph.node(*mask).op else {
                unreachable!("PolygonHasPixels constrains a PolygonMask node")
            };
            let (h, w) = (extent(shapes, *mask, 1), extent(shapes, *mask, 2));
            let v: Vec<[f64; 2]> = vertices.iter().map(|p| [p[0].0, p[1].0]).collect();
            if polygon::has_pixels(&v, h, w) {
                return Ok(());
            }
            Err(GraphError::Invalid {
                at: At::field(&graph.origins[origin.0 as usize], "vertices"),
                message: format!("the polygon contains no pixel centre of the {h}×{w} image; expected at least one"),
            })
        }
    }
}

/// Resolves every param: a supplied value, else the default.
///
/// # Errors
/// A supplied name the graph has no param for, or a param with neither value nor default.
pub fn param_values(graph: &Graph, supplied: &BTreeMap<String, f64>) -> Result<HashMap<NodeId, f64>, GraphError> {
    let params = graph.params();
    for name in supplied.keys() {
        if !params.iter().any(|(n, _, _)| n == name) {
            return Err(GraphError::UnknownParam {
                name: name.clone(),
                known: params.iter().map(|(n, _, _)| (*n).to_owned()).collect(),
            });
        }
    }
    params
        .iter()
        .map(|&(name, default, id)| {
            let value = supplied.get(name).copied().or(default);
            value.map(|v| (id, v)).ok_or_else(|| GraphError::MissingParam {
                at: At::node(graph.origin(id)),
                name: name.to_owned(),
            })
        })
        .collect()
}

/// The first index of a [`Op::SliceAt`] for the param value `value` on an axis of `n`
/// elements.
///
/// # Errors
/// A value that is not an integer, or a run that does not fit in the axis.
pub fn slice_at_start(graph: &Graph, node: NodeId, value: f64, n: usize) -> Result<usize, GraphError> {
    let Op::SliceAt { len, step, start, .. } = &graph.node(node).op else {
        unreachable!("slice_at_start is only called for SliceAt nodes")
    };
    let param = match &graph.node(*start).op {
        Op::Param { name, .. } => name.as_str(),
        _ => "?",
    };
    let at = At::field(graph.origin(node), "start");
    slice_start(param, value, n, *len, *step, at).map(|first| first as usize)
}

/// The first index of a run of `len` elements every `step` (> 0) on an axis of `n`, for the
/// value `value` of param `param` (negative counts from the end): the check shared by binding
/// ([`slice_at_start`]) and by executors resolving a plan's slice starts.
///
/// # Errors
/// A value that is not an integer, or a run that does not fit in the axis, at `at`.
pub fn slice_start(param: &str, value: f64, n: usize, len: usize, step: i64, at: At) -> Result<i64, GraphError> {
    if value.fract() != 0.0 || !value.is_finite() || value.abs() > 1e15 {
        return Err(GraphError::Invalid {
            at,
            message: format!("param \"{param}\" = {value}: expected an integer index"),
        });
    }
    let first = if value < 0.0 {
        value as i64 + n as i64
    } else {
        value as i64
    };
    let span = (len as i64 - 1).max(0) * step;
    if first < 0 || (len > 0 && first + span >= n as i64) {
        let message = format!(
            "param \"{param}\" = {value}: {len} elements every {step} from there do not fit an axis of {n} (expected a start in [{}, {}])",
            -(n as i64),
            n as i64 - 1 - span
        );
        return Err(GraphError::Invalid { at, message });
    }
    Ok(first)
}

/// The extent of a polygon mask dimension once bound.
#[must_use]
pub fn extent_of(e: &Extent, bound: &Bound) -> usize {
    match *e {
        Extent::Fixed(n) => n,
        Extent::Of { node, axis } => bound.shapes[node.index()][axis],
    }
}

/// Why `node`'s bound shape is empty (DESIGN §2: empty is a defined result), in the words of
/// the node that made it so — the first node on the way back from `node` whose operands are
/// all non-empty — or `None` if its shape has no zero extent.
#[must_use]
pub fn why_empty(graph: &Graph, bound: &Bound, node: NodeId) -> Option<String> {
    let empty = |id: NodeId| bound.shapes[id.index()].contains(&0);
    if !empty(node) {
        return None;
    }
    let mut at = node;
    while let Some(next) = graph.node(at).op.operands().into_iter().find(|&o| empty(o)) {
        at = next;
    }
    let shape = &bound.shapes[at.index()];
    let axis = shape.iter().position(|&e| e == 0).unwrap_or(0);
    let extent = |x: NodeId, axis: usize| bound.shapes[x.index()].get(axis).copied().unwrap_or(0);
    let what = match &graph.node(at).op {
        Op::Input { name } => format!("input \"{name}\" has no element along axis {axis}"),
        Op::Window { x, axis, size, .. } => format!(
            "a window of {size} along axis {axis} is longer than that axis (extent {})",
            extent(*x, *axis)
        ),
        Op::Slice {
            x,
            axis,
            start,
            stop,
            step,
        } => {
            let bound = |b: &Option<i64>| b.map_or_else(|| "-".to_owned(), |v| v.to_string());
            format!(
                "the slice {}:{}:{step} of axis {axis} (extent {}) keeps no element",
                bound(start),
                bound(stop),
                extent(*x, *axis)
            )
        }
        Op::SliceAt { x, axis, len, .. } => format!(
            "a slice of {len} along axis {axis} (extent {}) keeps no element",
            extent(*x, *axis)
        ),
        _ => format!("its extent along axis {axis} is 0"),
    };
    let origin = &graph.origins[graph.node(at).origin.0 as usize];
    let sliding =
        matches!(origin.op.as_str(), "sliding_reference" | "pipeline") && matches!(graph.node(at).op, Op::Slice { .. });
    let why = if sliding {
        // The slice is the sliding reference's alignment (DESIGN §2).
        format!("{what}: a sliding reference applies to frames lag + 1 .. T − window + 1, so it needs T > window + lag")
    } else {
        what
    };
    Some(format!("{}: {why}", At::node(origin)))
}
