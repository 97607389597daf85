//! Slices as values for [`crate::push_down_slices`]: the cut a `slice` or `slice_at` op makes
//! (axis, run and origin), and two static slices along one axis composed into one.

use rumba_ir::NodeId;
use rumba_ir::graph::OriginId;
use rumba_ir::op::Op;
use rumba_ir::validate::slice_range;

/// The elements a slice keeps along its axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Run {
    /// NumPy `start:stop:step`.
    Static {
        start: Option<i64>,
        stop: Option<i64>,
        step: i64,
    },
    /// `len` elements every `step` from the run-time index in param `start`.
    At { start: NodeId, len: usize, step: i64 },
}

/// A slice to apply: its axis, run and the origin its nodes carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Cut {
    pub axis: usize,
    pub run: Run,
    pub origin: OriginId,
}

impl Cut {
    /// The cut a `slice` or `slice_at` op makes, and its operand.
    pub(crate) fn of(op: &Op, origin: OriginId) -> Option<(Cut, NodeId)> {
        let (x, axis, run) = match *op {
            Op::Slice {
                x,
                axis,
                start,
                stop,
                step,
            } => (x, axis, Run::Static { start, stop, step }),
            Op::SliceAt {
                x,
                axis,
                start,
                len,
                step,
            } => (x, axis, Run::At { start, len, step }),
            _ => return None,
        };
        Some((Cut { axis, run, origin }, x))
    }

    pub(crate) fn along(self, axis: usize) -> Cut {
        Cut { axis, ..self }
    }

    /// The op that makes this cut of `x`.
    pub(crate) fn op(self, x: NodeId) -> Op {
        let axis = self.axis;
        match self.run {
            Run::Static { start, stop, step } => Op::Slice {
                x,
                axis,
                start,
                stop,
                step,
            },
            Run::At { start, len, step } => Op::SliceAt {
                x,
                axis,
                start,
                len,
                step,
            },
        }
    }
}

pub(crate) type Bounds = (Option<i64>, Option<i64>, i64);

/// `x[a][b]` along one axis of `n` elements as one slice `x[c]` (`None` on overflow).
pub(crate) fn compose_runs(n: usize, (start, stop, step): Bounds, (start2, stop2, step2): Bounds) -> Option<Run> {
    let (first, _, len) = slice_range(n, start, stop, step);
    let (first2, _, len2) = slice_range(len, start2, stop2, step2);
    if len2 == 0 {
        let empty = Run::Static {
            start: Some(0),
            stop: Some(0),
            step: 1,
        };
        return Some(empty);
    }
    let first = first.checked_add(first2.checked_mul(step)?)?;
    let step = step.checked_mul(step2)?;
    let last = first.checked_add(i64::try_from(len2 - 1).ok()?.checked_mul(step)?)?;
    // With a negative step, stop = -1 would count from the end: leave it open instead.
    let stop = match (step > 0, last) {
        (true, _) => Some(last + 1),
        (false, 0) => None,
        (false, _) => Some(last - 1),
    };
    Some(Run::Static {
        start: Some(first),
        stop,
        step,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The indices of `x[start:stop:step]` on `n` elements, by Python's rules.
    fn indices(n: usize, (start, stop, step): Bounds) -> Vec<i64> {
        let (first, _, len) = slice_range(n, start, stop, step);
        (0..len as i64).map(|k| first + k * step).collect()
    }

    #[test]
    fn composed_slices_select_the_same_indices() {
        let bounds = [None, Some(-9), Some(-3), Some(-1), Some(0), Some(2), Some(5), Some(9)];
        let steps = [-3, -1, 1, 2];
        for n in [0, 1, 6] {
            for &a in &bounds {
                for &b in &bounds {
                    for &s in &steps {
                        for &c in &bounds {
                            for &d in &bounds {
                                for &t in &steps {
                                    let inner = indices(n, (a, b, s));
                                    let want: Vec<i64> = indices(inner.len(), (c, d, t))
                                        .into_iter()
                                        .map(|k| inner[k as usize])
                                        .collect();
                                    let Run::Static { start, stop, step } =
                                        compose_runs(n, (a, b, s), (c, d, t)).unwrap()
                                    else {
                                        unreachable!()
                                    };
                                    let got = indices(n, (start, stop, step));
                                    assert_eq!(got, want, "n={n} [{a:?}:{b:?}:{s}][{c:?}:{d:?}:{t}]");
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
