//! Movement ops: `slice` (NumPy basic slicing), `slice_at` (run-time start), `permute`,
//! `squeeze`, `expand` and `broadcast_to`.
//!
//! Slices compute their index list explicitly (Python's `slice.indices`) and gather it with
//! `select`, so they never depend on ndarray's own negative-step semantics, which differ from
//! NumPy's. Every result is an owned, C-contiguous copy.

use crate::error::Fault;
use crate::value::standard;
use ndarray::{ArrayD, ArrayViewD, Axis};
use rumba_ir::{Array, ArrayView};

/// Checks that `axis` is an axis of an operand of `rank`.
fn check_axis(field: &'static str, axis: usize, rank: usize) -> Result<(), Fault> {
    if axis < rank {
        Ok(())
    } else {
        Err(Fault::invalid_field(
            field,
            format!("axis {axis} is out of range for an operand of rank {rank}"),
        ))
    }
}

/// The indices `x[start:stop:step]` selects along an axis of extent `n`, exactly as Python's
/// `range(*slice(start, stop, step).indices(n))`: negative bounds count from the end, bounds
/// out of range clip, `None` means the start (or end) for the step's direction.
pub(crate) fn slice_indices(n: usize, start: Option<i64>, stop: Option<i64>, step: i64) -> Result<Vec<usize>, Fault> {
    if step == 0 {
        return Err(Fault::invalid_field("step", "slice step must not be 0"));
    }
    // i128 holds every i64 bound plus any extent without overflow.
    let n = n as i128;
    let step = i128::from(step);
    let (lower, upper) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let clip = |bound: Option<i64>, default: i128| match bound.map(i128::from) {
        None => default,
        Some(b) if b < 0 => (b + n).max(lower),
        Some(b) => b.min(upper),
    };
    let start = clip(start, if step > 0 { lower } else { upper });
    let stop = clip(stop, if step > 0 { upper } else { lower });
    let mut indices = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        // `lower <= i <= upper` and `i != -1` here, so `0 <= i < n`.
        indices.push(i as usize);
        i += step;
    }
    Ok(indices)
}

/// The elements at `indices` along `axis`, in that order.
fn gather(x: &ArrayView<'_>, axis: usize, indices: &[usize]) -> Array {
    rumba_ir::with_view!(x, a => Array::from(a.select(Axis(axis), indices)))
}

/// NumPy basic slicing `x[start:stop:step]` along `axis`.
pub(crate) fn slice(
    x: &ArrayView<'_>,
    axis: usize,
    start: Option<i64>,
    stop: Option<i64>,
    step: i64,
) -> Result<Array, Fault> {
    check_axis("axis", axis, x.shape().len())?;
    let indices = slice_indices(x.shape()[axis], start, stop, step)?;
    Ok(gather(x, axis, &indices))
}

/// `len` elements along `axis` from index `first`, every `step`. `first` comes from
/// [`rumba_ir::bind::slice_at_start`], which resolves the run-time start (an integer; negative
/// counts from the end) and rejects runs that do not fit, naming the node.
pub(crate) fn slice_at(x: &ArrayView<'_>, axis: usize, first: usize, len: usize, step: i64) -> Result<Array, Fault> {
    check_axis("axis", axis, x.shape().len())?;
    let n = x.shape()[axis];
    let step = usize::try_from(step)
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| Fault::invalid_field("step", format!("slice_at step must be positive, found {step}")))?;
    let indices: Vec<usize> = (0..len).map(|k| first.saturating_add(k.saturating_mul(step))).collect();
    if let Some(&last) = indices.last().filter(|&&last| last >= n) {
        let message = format!("slice_at run from {first} reaches index {last} of an axis of extent {n}");
        return Err(Fault::Internal(message));
    }
    Ok(gather(x, axis, &indices))
}

/// Reorders the axes: output axis `i` is input axis `axes[i]`.
pub(crate) fn permute(x: &ArrayView<'_>, axes: &[usize]) -> Result<Array, Fault> {
    let rank = x.shape().len();
    let mut seen = vec![false; rank];
    for &a in axes {
        if a >= rank || std::mem::replace(&mut seen[a], true) {
            return Err(Fault::invalid_field(
                "axes",
                format!("{axes:?} is not a permutation of 0..{rank}"),
            ));
        }
    }
    if axes.len() != rank {
        return Err(Fault::invalid_field(
            "axes",
            format!("{axes:?} is not a permutation of 0..{rank}"),
        ));
    }
    Ok(rumba_ir::with_view!(x, a => Array::from(standard(&a.view().permuted_axes(axes)))))
}

/// Removes the listed axes (ascending, no repeats), each of extent 1.
pub(crate) fn squeeze(x: &ArrayView<'_>, axes: &[usize]) -> Result<Array, Fault> {
    let shape = x.shape();
    for (k, &a) in axes.iter().enumerate() {
        check_axis("axes", a, shape.len())?;
        if k > 0 && axes[k - 1] >= a {
            return Err(Fault::invalid_field(
                "axes",
                format!("axes {axes:?} must be ascending without repeats"),
            ));
        }
        if shape[a] != 1 {
            return Err(Fault::invalid_field(
                "axes",
                format!("axis {a} has extent {}, expected 1", shape[a]),
            ));
        }
    }
    fn drop_axes<T: Clone>(a: &ArrayViewD<'_, T>, axes: &[usize]) -> ArrayD<T> {
        let mut v = a.view();
        // Descending, so the remaining axis numbers stay valid.
        for &axis in axes.iter().rev() {
            v = v.index_axis_move(Axis(axis), 0);
        }
        standard(&v)
    }
    Ok(rumba_ir::with_view!(x, a => Array::from(drop_axes(a, axes))))
}

/// Inserts an axis of extent 1 at `axis` (`0..=rank`).
pub(crate) fn expand(x: &ArrayView<'_>, axis: usize) -> Result<Array, Fault> {
    check_axis("axis", axis, x.shape().len() + 1)?;
    Ok(rumba_ir::with_view!(x, a => Array::from(standard(&a.view().insert_axis(Axis(axis))))))
}

/// NumPy `broadcast_to(x, shape)`.
pub(crate) fn broadcast_to(x: &ArrayView<'_>, shape: &[usize]) -> Result<Array, Fault> {
    fn stretch_owned<T: Clone>(a: &ArrayViewD<'_, T>, shape: &[usize]) -> Result<ArrayD<T>, Fault> {
        Ok(standard(&crate::elementwise::stretch(a, shape)?))
    }
    Ok(rumba_ir::with_view!(x, a => Array::from(stretch_owned(a, shape)?)))
}
