//! Shape inference for one primitive, shared by validation (free dims allowed) and binding
//! (every dim fixed), so the static and the concrete checks are one piece of code.

use crate::graph::NodeId;
use crate::op::{Extent, Op};
use crate::shape::{Dim, Shape};

/// Why a shape cannot be inferred; turned into a [`crate::GraphError`] by the caller, which
/// knows the node's origin.
#[derive(Debug)]
pub(crate) enum Issue {
    /// Operands that do not broadcast.
    Broadcast { field: &'static str, a: Shape, b: Shape },
    /// An axis outside the operand's rank.
    Axis {
        field: &'static str,
        axis: usize,
        rank: usize,
    },
    /// A value outside its domain.
    Invalid { field: &'static str, message: String },
    /// A shape or extent that differs from what is required.
    Shape {
        field: &'static str,
        what: String,
        expected: String,
        found: String,
    },
}

/// NumPy's `slice.indices(n)` followed by the length of the slice.
#[must_use]
pub fn slice_range(n: usize, start: Option<i64>, stop: Option<i64>, step: i64) -> (i64, i64, usize) {
    // Extents over i64::MAX are refused where they are declared or bound; saturate anyway.
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    let norm = |v: i64, lo: i64, hi: i64| {
        let v = if v < 0 { v + n } else { v };
        v.clamp(lo, hi)
    };
    let (lo, hi) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let start = start.map_or(if step > 0 { 0 } else { n - 1 }, |s| norm(s, lo, hi));
    let stop = stop.map_or(if step > 0 { n } else { -1 }, |s| norm(s, lo, hi));
    // ⌈span / |step|⌉ without overflow: the step may be i64::MIN or i64::MAX.
    let span = if step > 0 { stop - start } else { start - stop };
    let len = if span > 0 {
        (span as u64 - 1) / step.unsigned_abs() + 1
    } else {
        0
    };
    (start, stop, len as usize)
}

fn check_axis(field: &'static str, axis: usize, rank: usize) -> Result<(), Issue> {
    if axis < rank {
        Ok(())
    } else {
        Err(Issue::Axis { field, axis, rank })
    }
}

fn check_axes(field: &'static str, axes: &[usize], rank: usize) -> Result<(), Issue> {
    for (i, &axis) in axes.iter().enumerate() {
        check_axis(field, axis, rank)?;
        if i > 0 && axes[i - 1] >= axis {
            return Err(Issue::Invalid {
                field,
                message: format!("axes must be ascending without repeats, found {axes:?}"),
            });
        }
    }
    Ok(())
}

/// Whether `from` broadcasts to exactly `to` (free dims are checked again when bound).
fn broadcasts_to(from: &Shape, to: &Shape) -> bool {
    from.rank() <= to.rank()
        && from.0.iter().rev().zip(to.0.iter().rev()).all(|(f, t)| match (f, t) {
            (Dim::Free, _) | (Dim::Fixed(1), _) | (_, Dim::Free) => true,
            (Dim::Fixed(a), Dim::Fixed(b)) => a == b,
        })
}

fn broadcast(field: &'static str, a: &Shape, b: &Shape) -> Result<Shape, Issue> {
    Shape::broadcast(a, b).map_err(|_| Issue::Broadcast {
        field,
        a: a.clone(),
        b: b.clone(),
    })
}

/// The shape of `op` given its operands' shapes (`shape_of`). `Input` is the caller's business.
pub(crate) fn infer_shape<'a>(op: &Op, shape_of: impl Fn(NodeId) -> &'a Shape) -> Result<Shape, Issue> {
    match op {
        Op::Input { .. } => unreachable!("input shapes come from their declaration or binding"),
        Op::Const { .. } | Op::Param { .. } => Ok(Shape::scalar()),
        Op::Unary { x, .. } | Op::Cast { x, .. } | Op::NanToNum { x, .. } => Ok(shape_of(*x).clone()),
        Op::Binary { a, b, .. } => broadcast("b", shape_of(*a), shape_of(*b)),
        Op::Select { cond, a, b } => {
            let ab = broadcast("b", shape_of(*a), shape_of(*b))?;
            broadcast("cond", shape_of(*cond), &ab)
        }
        Op::Slice {
            x,
            axis,
            start,
            stop,
            step,
        } => {
            let mut s = shape_of(*x).clone();
            check_axis("axis", *axis, s.rank())?;
            if *step == 0 {
                return Err(Issue::Invalid {
                    field: "step",
                    message: "slice step must not be 0".into(),
                });
            }
            if let Dim::Fixed(n) = s.0[*axis] {
                s.0[*axis] = Dim::Fixed(slice_range(n, *start, *stop, *step).2);
            }
            Ok(s)
        }
        Op::SliceAt { x, axis, len, step, .. } => {
            let mut s = shape_of(*x).clone();
            check_axis("axis", *axis, s.rank())?;
            if *step <= 0 {
                return Err(Issue::Invalid {
                    field: "step",
                    message: format!("a slice with a param start needs a step > 0, found {step}"),
                });
            }
            if let Dim::Fixed(n) = s.0[*axis] {
                let span = if *len == 0 {
                    0
                } else {
                    (*len - 1) * (*step as usize) + 1
                };
                if span > n {
                    return Err(Issue::Shape {
                        field: "len",
                        what: format!("{len} elements every {step} along axis {axis}"),
                        expected: format!("an axis of at least {span} elements"),
                        found: format!("{n}"),
                    });
                }
            }
            s.0[*axis] = Dim::Fixed(*len);
            Ok(s)
        }
        Op::Permute { x, axes } => {
            let s = shape_of(*x);
            let mut sorted = axes.clone();
            sorted.sort_unstable();
            if sorted != (0..s.rank()).collect::<Vec<_>>() {
                return Err(Issue::Invalid {
                    field: "axes",
                    message: format!("expected a permutation of 0..{}, found {axes:?}", s.rank()),
                });
            }
            Ok(Shape(axes.iter().map(|&a| s.0[a]).collect()))
        }
        Op::Squeeze { x, axes } => {
            let s = shape_of(*x);
            check_axes("axes", axes, s.rank())?;
            for &a in axes {
                if let Dim::Fixed(n) = s.0[a]
                    && n != 1
                {
                    return Err(Issue::Shape {
                        field: "axes",
                        what: format!("squeezed axis {a}"),
                        expected: "extent 1".into(),
                        found: format!("extent {n} in {s}"),
                    });
                }
            }
            Ok(Shape(
                s.0.iter()
                    .enumerate()
                    .filter(|(i, _)| !axes.contains(i))
                    .map(|(_, d)| *d)
                    .collect(),
            ))
        }
        Op::Expand { x, axis } => {
            let mut s = shape_of(*x).clone();
            check_axis("axis", *axis, s.rank() + 1)?;
            s.0.insert(*axis, Dim::Fixed(1));
            Ok(s)
        }
        Op::BroadcastTo { x, shape } => {
            let s = shape_of(*x);
            let target = Shape::fixed(shape);
            if broadcasts_to(s, &target) {
                Ok(target)
            } else {
                Err(Issue::Broadcast {
                    field: "shape",
                    a: s.clone(),
                    b: target,
                })
            }
        }
        Op::Reduce {
            x,
            axes,
            keepdims,
            mask,
            ..
        } => {
            let s = shape_of(*x);
            check_axes("axes", axes, s.rank())?;
            if axes.is_empty() {
                return Err(Issue::Invalid {
                    field: "axes",
                    message: "reduce needs at least one axis".into(),
                });
            }
            if let Some(m) = mask {
                let ms = shape_of(*m);
                if !broadcasts_to(ms, s) {
                    return Err(Issue::Shape {
                        field: "where",
                        what: "the mask must broadcast to the reduced operand".into(),
                        expected: format!("a shape broadcastable to {s}"),
                        found: ms.to_string(),
                    });
                }
            }
            for &a in axes {
                if s.0[a] == Dim::Fixed(0) {
                    return Err(Issue::Invalid {
                        field: "axes",
                        message: format!("reduction over an empty extent: axis {a} of {s} has no element"),
                    });
                }
            }
            let mut out = Vec::new();
            for (i, d) in s.0.iter().enumerate() {
                if !axes.contains(&i) {
                    out.push(*d);
                } else if *keepdims {
                    out.push(Dim::Fixed(1));
                }
            }
            Ok(Shape(out))
        }
        Op::Window { x, axis, size, .. } => {
            let mut s = shape_of(*x).clone();
            check_axis("axis", *axis, s.rank())?;
            if let Dim::Fixed(n) = s.0[*axis] {
                s.0[*axis] = Dim::Fixed((n + 1).saturating_sub(*size));
            }
            Ok(s)
        }
        Op::PolygonMask { height, width, .. } => {
            let extent = |e: &Extent, field: &'static str| -> Result<Dim, Issue> {
                match *e {
                    Extent::Fixed(n) => Ok(Dim::Fixed(n)),
                    Extent::Of { node, axis } => {
                        let s = shape_of(node);
                        check_axis(field, axis, s.rank())?;
                        Ok(s.0[axis])
                    }
                }
            };
            Ok(Shape(vec![
                Dim::Fixed(1),
                extent(height, "like")?,
                extent(width, "like")?,
                Dim::Fixed(1),
            ]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::slice_range;

    #[test]
    fn slices_follow_python() {
        // Compared with Python: slice(a, b, c).indices(n) and len(range(...)).
        assert_eq!(slice_range(10, Some(2), Some(8), 1).2, 6);
        assert_eq!(slice_range(10, None, None, -1), (9, -1, 10));
        assert_eq!(slice_range(10, Some(-3), None, 1).2, 3);
        assert_eq!(slice_range(10, Some(8), Some(2), -2), (8, 2, 3));
        assert_eq!(slice_range(10, Some(20), None, 1).2, 0);
        assert_eq!(slice_range(5, Some(2), Some(-2), 1).2, 1);
        assert_eq!(slice_range(3, Some(2), Some(-4), 1).2, 0);
        assert_eq!(slice_range(10, Some(-20), Some(-15), -1).2, 0);
    }
}
