//! Slice push-down: a `slice` (static) or `slice_at` (param start) moves towards the inputs,
//! so asking for one output frame computes only the frames it depends on.
//!
//! - through an elementwise op (`unary`, `binary`, `select`, `nan_to_num`, `cast`): the op is
//!   applied to sliced operands. An operand is sliced along its own axis (ranks aligned from
//!   the right, as in broadcasting) when it has the node's extent there; an operand that is
//!   broadcast along the axis (extent 1 against a larger one, a lower rank without that axis,
//!   a rank-0 scalar) is used unsliced;
//! - through a `window` along another axis: the window of the sliced input;
//! - through a `window` along its own axis, for a static slice of step 1: the slice is
//!   normalised with NumPy's rules to `[s, s + L)` of the K = n − size + 1 windows and becomes
//!   `window(x[s : s + L + size − 1])`, which has exactly L outputs;
//! - through a `reduce` along a kept axis (the mask is sliced like an elementwise operand);
//!   never along a reduced axis;
//! - into a static `slice` along the same axis: two static slices compose into one.
//!
//! A `slice_at` is *not* pushed through a window along the window's axis. `slice_at` resolves
//! a negative start against the extent of the axis it slices, so `slice_at(window(x), p, len)`
//! starts at window `p + K` while `window(slice_at(x, p, len + size − 1))` would start at
//! `p + n` — another frame, for every negative `p`. The IR cannot express "resolve against K,
//! take `size − 1` more" with a param start (see `tests/push_down_slices.rs`).
//!
//! Each rewrite needs fixed extents where it decides something (run the passes on a graph
//! [`rumba_ir::rewrite::specialize`]d to its bound shapes); with a free dim it does not fire.
//! Sweeps repeat until nothing moves, at most [`MAX_SWEEPS`] times; each cut of a node is
//! built once (the first slice's origin wins), and dead-node removal clears what the rewrites
//! orphaned.
//!
//! Pre: a validated graph, best after CSE. Post: every node keeps its dtype and shape; the
//! same values, bit for bit, and the same run-time errors (a pushed `slice_at` checks its
//! start against an axis of the same extent); no dead nodes.
//!
//! ```text
//! %2 = mul(%0, %1) : f32 (8, 4)                          %2 = slice(%0, axis=0, 2:5:1) : f32 (3, 4)
//! %3 = window(%2, mean, axis=0, size=3) : f32 (6, 4)  ⇒  %3 = mul(%2, %1) : f32 (3, 4)
//! %4 = slice(%3, axis=0, 2:3:1) : f32 (1, 4)             %4 = window(%3, mean, axis=0, size=3) : f32 (1, 4)
//! ```

use crate::OptError;
use crate::cuts::{Cut, Run, compose_runs};
use crate::remove_dead_nodes::remove_dead_nodes;
use rumba_ir::graph::{Origin, OriginId};
use rumba_ir::op::Op;
use rumba_ir::rewrite::{GraphBuilder, IdMap, infer_shape, map_operands};
use rumba_ir::validate::slice_range;
use rumba_ir::{DType, Graph, Node, NodeId, Shape};
use std::collections::HashMap;

/// The pass's name (`--disable-pass push_down_slices`).
pub const NAME: &str = "push_down_slices";

/// The bound on sweeps; one sweep already pushes each slice as far as it goes, so the second
/// finds nothing to do.
pub const MAX_SWEEPS: usize = 8;

/// Pushes slices towards the inputs (see the module docs).
///
/// # Errors
/// [`OptError::Rebuild`] or [`OptError::ShapeChanged`] if a rewrite is wrong (a bug).
pub fn push_down_slices(graph: &Graph) -> Result<Graph, OptError> {
    let mut current: Option<Graph> = None;
    for _ in 0..MAX_SWEEPS {
        let (next, changed) = sweep(current.as_ref().unwrap_or(graph))?;
        current = Some(next);
        if !changed {
            break;
        }
    }
    let pushed = current.expect("MAX_SWEEPS > 0");
    remove_dead_nodes(&pushed)
}

/// One pass over the graph, pushing every slice as far as it goes.
fn sweep(graph: &Graph) -> Result<(Graph, bool), OptError> {
    let mut s = Sweep {
        origins: &graph.origins,
        out: GraphBuilder::like(graph),
        memo: HashMap::new(),
        changed: false,
        at: NodeId(0),
    };
    let mut map = IdMap::new(graph.nodes.len());
    for id in graph.ids() {
        s.at = id;
        let node = graph.node(id);
        let op = map_operands(&node.op, |o| map.map(o));
        let new = match Cut::of(&op, node.origin) {
            Some((cut, x)) => s.cut(cut, x)?,
            None => s.out.push(Node { op, ..node.clone() }),
        };
        s.check_shape(&node.shape, new)?;
        map.set(id, new);
    }
    let changed = s.changed;
    let graph = s
        .out
        .finish(map.outputs(&graph.outputs), map.constraints(&graph.constraints));
    Ok((graph, changed))
}

struct Sweep<'g> {
    origins: &'g [Origin],
    out: GraphBuilder,
    /// Each cut (axis and run) of each new node is built once, however many users reach it.
    memo: HashMap<(usize, Run, NodeId), NodeId>,
    changed: bool,
    /// The node of the input graph being rewritten (named in errors).
    at: NodeId,
}

impl Sweep<'_> {
    /// `cut` applied to `target` (a node of the new graph), pushed down where it can be.
    fn cut(&mut self, cut: Cut, target: NodeId) -> Result<NodeId, OptError> {
        let key = (cut.axis, cut.run, target);
        if let Some(&done) = self.memo.get(&key) {
            return Ok(done);
        }
        let id = match self.push(cut, target)? {
            Some(id) => {
                self.changed = true;
                let expected = self.infer(&cut.op(target), cut.origin)?;
                self.check_shape(&expected, id)?;
                id
            }
            None => self.append(cut.op(target), self.out.node(target).dtype, cut.origin)?,
        };
        self.memo.insert(key, id);
        Ok(id)
    }

    /// The rewrite of `cut(target)`, or `None` if the cut stays where it is.
    fn push(&mut self, cut: Cut, target: NodeId) -> Result<Option<NodeId>, OptError> {
        let node = self.out.node(target).clone();
        match node.op {
            Op::Unary { .. } | Op::Binary { .. } | Op::Select { .. } | Op::NanToNum { .. } | Op::Cast { .. } => {
                self.through_elementwise(cut, &node)
            }
            Op::Window { .. } => self.through_window(cut, &node),
            Op::Reduce { .. } => self.through_reduce(cut, &node),
            Op::Slice { .. } => self.compose(cut, &node),
            _ => Ok(None),
        }
    }

    fn through_elementwise(&mut self, cut: Cut, node: &Node) -> Result<Option<NodeId>, OptError> {
        let Some(extent) = node.shape.0[cut.axis].fixed() else {
            return Ok(None);
        };
        let operands = node.op.operands();
        let rank = node.shape.rank();
        let cuts: Option<Vec<Option<Cut>>> = operands
            .iter()
            .map(|&o| operand_cut(cut, rank, extent, &self.out.node(o).shape))
            .collect();
        let Some(cuts) = cuts else { return Ok(None) };
        let mut new = Vec::with_capacity(operands.len());
        for (o, c) in operands.into_iter().zip(cuts) {
            new.push(match c {
                Some(c) => self.cut(c, o)?,
                None => o,
            });
        }
        let mut new = new.into_iter();
        let op = map_operands(&node.op, |_| new.next().expect("one new operand per operand"));
        self.append(op, node.dtype, node.origin).map(Some)
    }

    fn through_window(&mut self, cut: Cut, node: &Node) -> Result<Option<NodeId>, OptError> {
        let Op::Window {
            x,
            ref kind,
            axis,
            size,
            skip_nan,
        } = node.op
        else {
            return Ok(None);
        };
        let inner = if cut.axis == axis {
            // A `slice_at` stays above the window: see the module docs.
            let Run::Static { start, stop, step: 1 } = cut.run else {
                return Ok(None);
            };
            let Some(windows) = node.shape.0[axis].fixed() else {
                return Ok(None);
            };
            let (first, _, len) = slice_range(windows, start, stop, 1);
            let stop = first + (len + size - 1) as i64;
            let run = Run::Static {
                start: Some(first),
                stop: Some(stop),
                step: 1,
            };
            Cut { run, ..cut }
        } else {
            cut
        };
        let x = self.cut(inner, x)?;
        let kind = kind.clone();
        let op = Op::Window {
            x,
            kind,
            axis,
            size,
            skip_nan,
        };
        self.append(op, node.dtype, node.origin).map(Some)
    }

    fn through_reduce(&mut self, cut: Cut, node: &Node) -> Result<Option<NodeId>, OptError> {
        let Op::Reduce {
            x,
            kind,
            ref axes,
            keepdims,
            skip_nan,
            mask,
        } = node.op
        else {
            return Ok(None);
        };
        let x_shape = &self.out.node(x).shape;
        let axis = if keepdims {
            cut.axis
        } else {
            let kept = (0..x_shape.rank()).filter(|a| !axes.contains(a)).nth(cut.axis);
            kept.expect("an output axis of a reduce is a kept axis of its operand")
        };
        if axes.contains(&axis) {
            return Ok(None);
        }
        let mask_cut = match mask {
            None => None,
            Some(m) => {
                let Some(extent) = x_shape.0[axis].fixed() else {
                    return Ok(None);
                };
                let rank = x_shape.rank();
                let Some(c) = operand_cut(cut.along(axis), rank, extent, &self.out.node(m).shape) else {
                    return Ok(None);
                };
                c.map(|c| (c, m))
            }
        };
        let x = self.cut(cut.along(axis), x)?;
        let mask = match mask_cut {
            Some((c, m)) => Some(self.cut(c, m)?),
            None => mask,
        };
        let axes = axes.clone();
        let op = Op::Reduce {
            x,
            kind,
            axes,
            keepdims,
            skip_nan,
            mask,
        };
        self.append(op, node.dtype, node.origin).map(Some)
    }

    /// A static slice of a static slice along the same axis becomes one slice.
    fn compose(&mut self, cut: Cut, node: &Node) -> Result<Option<NodeId>, OptError> {
        let Op::Slice {
            x,
            axis,
            start,
            stop,
            step,
        } = node.op
        else {
            return Ok(None);
        };
        let Run::Static {
            start: start2,
            stop: stop2,
            step: step2,
        } = cut.run
        else {
            return Ok(None);
        };
        if axis != cut.axis {
            return Ok(None);
        }
        let Some(n) = self.out.node(x).shape.0[axis].fixed() else {
            return Ok(None);
        };
        let Some(run) = compose_runs(n, (start, stop, step), (start2, stop2, step2)) else {
            return Ok(None);
        };
        self.cut(Cut { run, ..cut }, x).map(Some)
    }

    fn append(&mut self, op: Op, dtype: DType, origin: OriginId) -> Result<NodeId, OptError> {
        let node = self.at;
        self.out.push_op(op, dtype, origin).map_err(|e| OptError::Rebuild {
            pass: NAME,
            node,
            source: Box::new(e),
        })
    }

    fn infer(&self, op: &Op, origin: OriginId) -> Result<Shape, OptError> {
        let shape_of = |id: NodeId| &self.out.node(id).shape;
        infer_shape(op, shape_of, &self.origins[origin.0 as usize]).map_err(|e| OptError::Rebuild {
            pass: NAME,
            node: self.at,
            source: Box::new(e),
        })
    }

    fn check_shape(&self, expected: &Shape, id: NodeId) -> Result<(), OptError> {
        let found = &self.out.node(id).shape;
        if found == expected {
            return Ok(());
        }
        Err(OptError::ShapeChanged {
            pass: NAME,
            node: self.at,
            expected: expected.clone(),
            found: found.clone(),
        })
    }
}

/// How an operand of `shape` is cut when a broadcasting node of `rank` axes is cut along an
/// axis of `extent`: along its own axis (ranks aligned from the right) if it has that extent,
/// not at all (`Some(None)`) if it is broadcast there, `None` if an extent is not fixed.
fn operand_cut(cut: Cut, rank: usize, extent: usize, shape: &Shape) -> Option<Option<Cut>> {
    let Some(axis) = (cut.axis + shape.rank()).checked_sub(rank) else {
        return Some(None);
    };
    match shape.0[axis].fixed()? {
        e if e == extent => Some(Some(cut.along(axis))),
        1 => Some(None),
        _ => None,
    }
}
