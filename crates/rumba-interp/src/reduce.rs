//! `reduce`: a statistic over some axes, with an optional bool mask.
//!
//! Each output element's lane is the elements over the reduced axes in row-major order (the
//! "increasing index order" sums follow), minus those where the mask is false; the statistic
//! itself comes from [`crate::stats`]. Float statistics are computed in f64 and rounded once to
//! the node's dtype; min/max stay in the input dtype.

use crate::error::Fault;
use crate::stats::{Moments, check_kind, extreme, lane_stat};
use crate::value::{Elem, cast_f64, from_vec, round_stats};
use ndarray::{ArrayViewD, Axis};
use rumba_ir::op::ReduceKind;
use rumba_ir::{Array, ArrayView, DType};

/// What to reduce and how; the operand and mask come separately.
pub(crate) struct Reduction<'s> {
    /// The statistic.
    pub kind: ReduceKind,
    /// Reduced axes, ascending without repeats.
    pub axes: &'s [usize],
    /// Keep reduced axes with extent 1.
    pub keepdims: bool,
    /// Ignore NaN values.
    pub skip_nan: bool,
    /// The node's (result) dtype.
    pub out_dtype: DType,
}

/// Evaluates a `reduce` of `x` with an optional bool `mask` broadcast to `x`'s shape.
pub(crate) fn reduce(x: &ArrayView<'_>, mask: Option<&ArrayView<'_>>, r: &Reduction<'_>) -> Result<Array, Fault> {
    check_kind(r.kind)?;
    let shape = x.shape();
    for (k, &a) in r.axes.iter().enumerate() {
        if a >= shape.len() || (k > 0 && r.axes[k - 1] >= a) {
            let message = format!(
                "axes {:?} must be ascending, without repeats, below rank {}",
                r.axes,
                shape.len()
            );
            return Err(Fault::invalid_field("axes", message));
        }
    }
    let out_shape: Vec<usize> = (0..shape.len())
        .filter_map(|a| match (r.axes.contains(&a), r.keepdims) {
            (false, _) => Some(shape[a]),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect();
    let lane_len: usize = r.axes.iter().map(|&a| shape[a]).product();
    if out_shape.contains(&0) {
        // No output element, so no lane to reduce: an empty result of the right shape.
        return Ok(cast_f64(&from_vec(&out_shape, Vec::new())?.view(), r.out_dtype));
    }
    if lane_len == 0 {
        let message = format!(
            "reduces axes {:?} of a {shape:?} operand, which hold no elements",
            r.axes
        );
        return Err(Fault::invalid(message));
    }
    let mask = match mask {
        None => None,
        Some(ArrayView::Bool(m)) => Some(crate::elementwise::stretch(m, shape)?),
        Some(other) => return Err(Fault::dtype("mask of reduce", "bool", other.dtype())),
    };
    let mask = mask.as_ref();
    match x {
        ArrayView::U8(a) => reduce_typed(a, mask, r, &out_shape),
        ArrayView::U16(a) => reduce_typed(a, mask, r, &out_shape),
        ArrayView::I32(a) => reduce_typed(a, mask, r, &out_shape),
        ArrayView::F32(a) => reduce_typed(a, mask, r, &out_shape),
        ArrayView::F64(a) => reduce_typed(a, mask, r, &out_shape),
        ArrayView::Bool(_) => Err(Fault::dtype("operand of reduce", "a number", DType::Bool)),
    }
}

/// The reduction for one element type; `out_shape` is non-empty and every lane has at least
/// one element before masking.
fn reduce_typed<T: Elem>(
    x: &ArrayViewD<'_, T>,
    mask: Option<&ArrayViewD<'_, bool>>,
    r: &Reduction<'_>,
    out_shape: &[usize],
) -> Result<Array, Fault> {
    let out_len: usize = out_shape.iter().product();
    match r.kind {
        ReduceKind::Min | ReduceKind::Max => {
            if r.out_dtype != T::DTYPE {
                let message = format!("min/max of {} input cannot have dtype {}", T::DTYPE, r.out_dtype);
                return Err(Fault::Internal(message));
            }
            let max = r.kind == ReduceKind::Max;
            let mut out = Vec::with_capacity(out_len);
            for_each_lane(x, mask, r.axes, |lane| {
                let value = extreme(lane, max, r.skip_nan).ok_or_else(|| {
                    Fault::invalid(format!(
                        "the mask selects no element of a lane, and the {} of an empty set of {} values has no value",
                        r.kind,
                        T::DTYPE
                    ))
                })?;
                out.push(value);
                Ok(())
            })?;
            Ok(T::wrap(from_vec(out_shape, out)?))
        }
        kind => {
            let mut out = Vec::with_capacity(out_len);
            let mut scratch = Vec::new();
            // The algorithm depends on the lane's length before masking (its capacity), as in
            // every backend.
            let capacity: usize = r.axes.iter().map(|&a| x.shape()[a]).product();
            let moments = Moments::of(T::DTYPE, capacity);
            for_each_lane(x, mask, r.axes, |lane| {
                scratch.clear();
                scratch.extend(lane.iter().map(|v| v.to_f64()));
                out.push(lane_stat(kind, &mut scratch, r.skip_nan, moments));
                Ok(())
            })?;
            round_stats(from_vec(out_shape, out)?, r.out_dtype)
        }
    }
}

/// Calls `each` with every lane in row-major order of the kept axes. A lane holds the
/// elements over `axes` in row-major order, leaving out those where `mask` (already
/// broadcast to `x`'s shape) is false. Every lane must have at least one element before
/// masking.
fn for_each_lane<T: Elem>(
    x: &ArrayViewD<'_, T>,
    mask: Option<&ArrayViewD<'_, bool>>,
    axes: &[usize],
    mut each: impl FnMut(&[T]) -> Result<(), Fault>,
) -> Result<(), Fault> {
    if let &[axis] = axes {
        return for_each_lane_of_axis(x, mask, Axis(axis), each);
    }
    // Kept axes first, then the reduced ones: the logical (row-major) order of this permuted
    // view visits one whole lane after another, each in the order of the reduced axes.
    let order: Vec<usize> = (0..x.ndim())
        .filter(|a| !axes.contains(a))
        .chain(axes.iter().copied())
        .collect();
    let lane_len: usize = axes.iter().map(|&a| x.shape()[a]).product();
    let xp = x.view().permuted_axes(order.clone());
    let mut lane = Vec::with_capacity(lane_len);
    let mut seen = 0;
    let mut push = |v: T, keep: bool| -> Result<(), Fault> {
        if keep {
            lane.push(v);
        }
        seen += 1;
        if seen == lane_len {
            each(&lane)?;
            lane.clear();
            seen = 0;
        }
        Ok(())
    };
    match mask {
        Some(m) => {
            let mp = m.view().permuted_axes(order);
            for (&v, &keep) in xp.iter().zip(mp.iter()) {
                push(v, keep)?;
            }
        }
        None => {
            for &v in xp.iter() {
                push(v, true)?;
            }
        }
    }
    Ok(())
}

/// [`for_each_lane`] for one reduced axis, where a lane is one of ndarray's 1-D lanes along
/// it (visited in row-major order of the other axes, as the general path does): the same
/// lanes, only without stepping an n-d index per element.
fn for_each_lane_of_axis<T: Elem>(
    x: &ArrayViewD<'_, T>,
    mask: Option<&ArrayViewD<'_, bool>>,
    axis: Axis,
    mut each: impl FnMut(&[T]) -> Result<(), Fault>,
) -> Result<(), Fault> {
    let mut lane = Vec::with_capacity(x.len_of(axis));
    match mask {
        Some(m) => {
            for (values, keep) in x.lanes(axis).into_iter().zip(m.lanes(axis)) {
                lane.clear();
                lane.extend(values.iter().zip(keep.iter()).filter(|(_, k)| **k).map(|(v, _)| *v));
                each(&lane)?;
            }
        }
        None => {
            for values in x.lanes(axis) {
                lane.clear();
                lane.extend(values.iter().copied());
                each(&lane)?;
            }
        }
    }
    Ok(())
}
