//! `window`: a sliding statistic along one axis.
//!
//! `out[k] = kind(x[k .. k+size])` along `axis` for `k = 0 ..= n − size`, so the axis has
//! `K = n − size + 1` outputs, and none (an empty array) when `n < size`. Every window is
//! computed on its own, with the lane statistics of [`crate::stats`] that `reduce` uses, so a
//! window and a reduce over the same values agree bit for bit.
//!
//! `weighted(w)` is `Σ_j w[j]·x[k+j]`, accumulated in f64 with `j` ascending and rounded once;
//! NaN and ±Inf propagate through the arithmetic, and `skip_nan` does not apply to it (there is
//! no meaningful "weighted sum without the NaN" that keeps the weights' normalisation).

use crate::error::Fault;
use crate::stats::{Moments, check_kind, extreme, lane_stat};
use crate::value::{Elem, round_stats};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};
use rumba_ir::op::{ReduceKind, WindowKind};
use rumba_ir::{Array, ArrayView, DType};

/// What a window computes; the operand comes separately.
pub(crate) struct Sliding<'s> {
    /// The statistic.
    pub kind: &'s WindowKind,
    /// Axis the window slides along.
    pub axis: usize,
    /// Window length, ≥ 1.
    pub size: usize,
    /// Ignore NaN values (not for `weighted`).
    pub skip_nan: bool,
    /// The node's (result) dtype.
    pub out_dtype: DType,
}

/// Evaluates a `window` over `x`.
pub(crate) fn window(x: &ArrayView<'_>, w: &Sliding<'_>) -> Result<Array, Fault> {
    let shape = x.shape();
    if w.axis >= shape.len() {
        let message = format!("axis {} is out of range for an operand of rank {}", w.axis, shape.len());
        return Err(Fault::invalid_field("axis", message));
    }
    if w.size == 0 {
        return Err(Fault::invalid_field("size", "window size must be at least 1, found 0"));
    }
    match w.kind {
        WindowKind::Reduce(kind) => check_kind(*kind)?,
        WindowKind::Weighted(weights) if weights.len() != w.size => {
            let message = format!("{} weights for a window of size {}", weights.len(), w.size);
            return Err(Fault::invalid_field("weights", message));
        }
        WindowKind::Weighted(_) => {}
    }
    let mut out_shape = shape.to_vec();
    // K = n − size + 1 outputs, or none when the axis is shorter than the window.
    out_shape[w.axis] = (shape[w.axis] + 1).saturating_sub(w.size);
    match x {
        ArrayView::U8(a) => window_typed(a, w, &out_shape),
        ArrayView::U16(a) => window_typed(a, w, &out_shape),
        ArrayView::I32(a) => window_typed(a, w, &out_shape),
        ArrayView::F32(a) => window_typed(a, w, &out_shape),
        ArrayView::F64(a) => window_typed(a, w, &out_shape),
        ArrayView::Bool(_) => Err(Fault::dtype("operand of window", "a number", DType::Bool)),
    }
}

/// The window op for one element type.
fn window_typed<T: Elem>(x: &ArrayViewD<'_, T>, w: &Sliding<'_>, out_shape: &[usize]) -> Result<Array, Fault> {
    match w.kind {
        WindowKind::Reduce(kind @ (ReduceKind::Min | ReduceKind::Max)) => {
            if w.out_dtype != T::DTYPE {
                let message = format!("min/max of {} input cannot have dtype {}", T::DTYPE, w.out_dtype);
                return Err(Fault::Internal(message));
            }
            let max = *kind == ReduceKind::Max;
            let out = slide(x, w, out_shape, T::from_f64(0.0), |lane: &[T], k| {
                // A window holds `size >= 1` values, so only an all-NaN float window is
                // "empty", and that gives NaN; `None` cannot occur.
                extreme(&lane[k..k + w.size], max, w.skip_nan)
                    .ok_or_else(|| Fault::Internal("a window without values".to_owned()))
            })?;
            Ok(T::wrap(out))
        }
        WindowKind::Reduce(kind) => {
            // At most a lane's values (a window longer than its axis has no output).
            let mut scratch = Vec::with_capacity(w.size.min(x.shape()[w.axis]));
            let moments = Moments::of(T::DTYPE, w.size);
            let out = slide(x, w, out_shape, 0.0, |lane: &[T], k| {
                scratch.clear();
                scratch.extend(lane[k..k + w.size].iter().map(|v| v.to_f64()));
                Ok(lane_stat(*kind, &mut scratch, w.skip_nan, moments))
            })?;
            round_stats(out, w.out_dtype)
        }
        WindowKind::Weighted(weights) => {
            let out = slide(x, w, out_shape, 0.0, |lane: &[T], k| {
                let mut acc = 0.0;
                for (j, weight) in weights.iter().enumerate() {
                    acc += weight.0 * lane[k + j].to_f64();
                }
                Ok(acc)
            })?;
            round_stats(out, w.out_dtype)
        }
    }
}

/// Builds an array of `out_shape` whose lane along `w.axis` at position `k` is
/// `stat(lane, k)`, where `lane` is the corresponding whole lane of `x` (all `n` values along
/// the axis, in index order).
fn slide<T: Elem, R: Clone>(
    x: &ArrayViewD<'_, T>,
    w: &Sliding<'_>,
    out_shape: &[usize],
    fill: R,
    mut stat: impl FnMut(&[T], usize) -> Result<R, Fault>,
) -> Result<ArrayD<R>, Fault> {
    let axis = Axis(w.axis);
    let mut out = ArrayD::from_elem(IxDyn(out_shape), fill);
    let mut lane = Vec::with_capacity(x.len_of(axis));
    // Both lane iterators visit the other axes in the same (row-major) order: `out` has `x`'s
    // shape except along `axis`.
    for (mut out_lane, x_lane) in out.lanes_mut(axis).into_iter().zip(x.lanes(axis)) {
        lane.clear();
        lane.extend(x_lane.iter().copied());
        for (k, o) in out_lane.iter_mut().enumerate() {
            *o = stat(&lane, k)?;
        }
    }
    Ok(out)
}
