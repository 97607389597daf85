//! The unfused ndarray versions: what NumPy does. Each step is a whole-array operation with
//! its own full-size temporary (cast, subtract, divide, then the cleanup passes), on one
//! thread; reductions over T run as NumPy's do (`mean(axis=0)` accumulates without a copy,
//! `std` materialises `x − mean`, `median` partitions a copy, `min`/`max` make two passes).
//! Sums are f64 (NumPy's dtype for integer stacks; kept for f32 stacks too so the results
//! compare with rumba's, which sums in f64).

use super::pixel::{Pixel, dispatch, max_nan, min_nan};
use super::plain::median;
use super::workload::{AMOUNT, Geometry, LAG, RANGE, Reduction, WINDOW, Workload};
use ndarray::{Array1, Array2, Array4, ArrayView1, ArrayView4, Axis, Ix4, Zip, s};
use rumba::Array;

/// Runs `workload` on the stack `x`; returns the outputs in graph order.
#[must_use]
pub fn run(workload: Workload, x: &Array, g: &Geometry) -> Vec<Array> {
    dispatch!(x, run_typed(workload, x, g))
}

fn run_typed<P: Pixel>(workload: Workload, x: &Array, g: &Geometry) -> Vec<Array> {
    let view = P::view(x).into_dimensionality::<Ix4>().expect("a (T, H, W, C) stack");
    match workload {
        Workload::RangeNorm => vec![range_norm(view)],
        Workload::SlidingNorm => vec![sliding_norm(view)],
        Workload::EnvelopeDataset => envelope_dataset(view, g),
        Workload::EnvelopeFrames => envelope_frames(view, g),
        Workload::RoiSeries => roi_series(P::slice(x), g),
        Workload::Reduce(r) => vec![reduce(r, view)],
    }
}

/// The amounts in f32: subtract `a_s`, divide `a_d`, and `1 − a_d` formed in f64.
fn amounts() -> (f32, f32, f32) {
    let a = std::hint::black_box(AMOUNT);
    (a as f32, a as f32, (1.0 - a) as f32)
}

/// `out = v / d` (`d` broadcasts), then `out[d == 0] = 0`, then `out[~isfinite(out)] = 0`:
/// three passes.
fn divide_and_clean(v: &Array4<f32>, d: &Array4<f32>) -> Array {
    let mut out = v / d;
    out.zip_mut_with(d, |o, &d| {
        if d == 0.0 {
            *o = 0.0;
        }
    });
    out.mapv_inplace(|v| if v.is_finite() { v } else { 0.0 });
    Array::F32(out.into_dyn())
}

fn range_norm<P: Pixel>(x: ArrayView4<'_, P>) -> Array {
    let (a_s, a_d, rest) = amounts();
    let last = (RANGE[1] as usize).min(x.len_of(Axis(0)) - 1);
    // R = x[0:10].mean(axis=0, keepdims=True) in f64, then astype(f32): frame-sized.
    let reference = x.slice(s![RANGE[0] as usize..=last, .., .., ..]).mapv(P::f64);
    let r = reference
        .mean_axis(Axis(0))
        .expect("frames")
        .mapv(|v| v as f32)
        .insert_axis(Axis(0));
    let xf = x.mapv(P::f32); // x.astype(f32)
    let v = &xf - &(&r * a_s); // xf − a_s·R
    let d = &r * a_d + rest; // frame-sized, broadcast by the divide
    divide_and_clean(&v, &d)
}

fn sliding_norm<P: Pixel>(x: ArrayView4<'_, P>) -> Array {
    let (a_s, a_d, rest) = amounts();
    let (t, h, w, c) = x.dim();
    let n = t.saturating_sub(LAG + WINDOW);
    // S = sliding_window_view(x, 10, axis=0)[6:6+N].mean(-1): a full-size f64 sum, one pass
    // per window offset, then astype(f32).
    let mut sum = Array4::<f64>::zeros((n, h, w, c));
    for j in 0..WINDOW {
        let frames = x.slice(s![LAG + 1 + j..LAG + 1 + j + n, .., .., ..]);
        sum.zip_mut_with(&frames, |s, v| *s += v.f64());
    }
    let mean = sum.mapv(|s| (s / WINDOW as f64) as f32);
    let xf = x.slice(s![LAG + 1..LAG + 1 + n, .., .., ..]).mapv(P::f32);
    let v = &xf - &(&mean * a_s);
    let d = &mean * a_d + rest;
    divide_and_clean(&v, &d)
}

/// `band.min(axis=(0, 1, 3))` and `band.max(axis=(0, 1, 3))`: two passes over the band.
fn envelope_dataset<P: Pixel>(x: ArrayView4<'_, P>, g: &Geometry) -> Vec<Array> {
    let band = x.slice(s![.., g.band.0..g.band.1, .., ..]);
    vec![along_w(band, P::HIGHEST, min_nan), along_w(band, P::LOWEST, max_nan)]
}

/// One envelope curve along W: `f` folded over (T, band, C).
fn along_w<P: Pixel>(band: ArrayView4<'_, P>, init: P, f: impl Fn(P, P) -> P) -> Array {
    let per_row = band.fold_axis(Axis(0), init, |&a, &v| f(a, v)); // (band, W, C)
    let per_col = per_row.fold_axis(Axis(0), init, |&a, &v| f(a, v)); // (W, C)
    P::wrap(per_col.fold_axis(Axis(1), init, |&a, &v| f(a, v)).into_dyn())
}

/// `band.min(axis=(1, 2, 3))` and `band.max(axis=(1, 2, 3))`: two passes over the band.
fn envelope_frames<P: Pixel>(x: ArrayView4<'_, P>, g: &Geometry) -> Vec<Array> {
    let band = x.slice(s![.., g.band.0..g.band.1, .., ..]);
    vec![
        per_frame(band, P::HIGHEST, min_nan),
        per_frame(band, P::LOWEST, max_nan),
    ]
}

/// One envelope curve over T: `f` folded over each frame's band.
fn per_frame<P: Pixel>(band: ArrayView4<'_, P>, init: P, f: impl Fn(P, P) -> P) -> Array {
    let values: Array1<P> = band
        .outer_iter()
        .map(|frame| frame.fold(init, |a, &v| f(a, v)))
        .collect();
    P::wrap(values.into_dyn())
}

/// `vals = x[:, mask]` (a (T, inside) copy), then `nanmean`, `nanmin`, `nanmax` along axis 1.
fn roi_series<P: Pixel>(x: &[P], g: &Geometry) -> Vec<Array> {
    let frame = g.h * g.w * g.c;
    let index: Vec<usize> = g
        .spans
        .iter()
        .flat_map(|&(i, j0, j1)| (i * g.w * g.c + j0 * g.c)..(i * g.w * g.c + j1 * g.c))
        .collect();
    let vals = Array2::from_shape_fn((g.t, index.len()), |(t, k)| x[t * frame + index[k]]);
    let mean = vals.map_axis(Axis(1), |lane| {
        let (sum, count) = lane
            .iter()
            .filter(|v| !v.is_nan())
            .fold((0.0, 0u32), |(s, n), v| (s + v.f64(), n + 1));
        (sum / f64::from(count)) as f32
    });
    let min = vals.map_axis(Axis(1), |lane| nan_skipping(lane, P::HIGHEST, |v, a| v < a));
    let max = vals.map_axis(Axis(1), |lane| nan_skipping(lane, P::LOWEST, |v, a| v > a));
    vec![
        Array::F32(mean.into_dyn()),
        P::wrap(min.into_dyn()),
        P::wrap(max.into_dyn()),
    ]
}

/// The best value of `lane` by `better`, NaN skipped (NaN if every value is NaN).
fn nan_skipping<P: Pixel>(lane: ArrayView1<'_, P>, init: P, better: impl Fn(P, P) -> bool) -> P {
    let best = lane.iter().fold(init, |a, &v| if better(v, a) { v } else { a });
    if lane.iter().all(|v| v.is_nan()) { lane[0] } else { best }
}

fn reduce<P: Pixel>(r: Reduction, x: ArrayView4<'_, P>) -> Array {
    let t = x.len_of(Axis(0)) as f64;
    let keep = |a: ndarray::Array3<f32>| Array::F32(a.insert_axis(Axis(0)).into_dyn());
    match r {
        Reduction::Mean => keep(x.fold_axis(Axis(0), 0.0, |&s, v| s + v.f64()).mapv(|s| (s / t) as f32)),
        Reduction::Std => {
            // NumPy's _var: mean, then a full-size `x − mean`, squared in place, summed.
            let mean = x.fold_axis(Axis(0), 0.0, |&s, v| s + v.f64()).mapv(|s| s / t);
            let mut dev = Zip::from(&x).and_broadcast(&mean).map_collect(|v, m| v.f64() - m);
            dev.mapv_inplace(|d| d * d);
            keep(dev.sum_axis(Axis(0)).mapv(|s| (s / t).sqrt() as f32))
        }
        Reduction::Min => P::wrap(
            x.fold_axis(Axis(0), P::HIGHEST, |&a, &v| min_nan(a, v))
                .insert_axis(Axis(0))
                .into_dyn(),
        ),
        Reduction::Max => P::wrap(
            x.fold_axis(Axis(0), P::LOWEST, |&a, &v| max_nan(a, v))
                .insert_axis(Axis(0))
                .into_dyn(),
        ),
        Reduction::Median => {
            // np.median partitions a copy; each lane along T is strided.
            let part = x.to_owned();
            let mut lane_buf = Vec::new();
            keep(Zip::from(part.lanes(Axis(0))).map_collect(|lane| {
                lane_buf.clear();
                lane_buf.extend(lane.iter().map(|v| v.f32()));
                median(&mut lane_buf)
            }))
        }
    }
}
