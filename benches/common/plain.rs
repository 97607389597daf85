//! The plain Rust loops: what a competent programmer writes by hand. One pass over contiguous
//! memory per workload (plus the 10-frame reference of the range normalisation), per-pixel
//! accumulators for reductions over T (integer sums for integer pixels), a running sum for the
//! sliding window, 16 lanes for reductions over a frame, rayon tasks over pixel blocks or
//! frames, and no short-circuit `||` in loops that should vectorise. Numerics follow DESIGN §2
//! (f64 sums in frame order — integer sums are exact, so equal —, Welford, f64 median of the
//! two middle values), so the results are those of the interpreter within [`super::RTOL`].
//!
//! Runs inside the caller's rayon pool, which sets the thread count; outputs are preallocated.

use super::pixel::{Pixel, dispatch, f32_mut, max_nan, min_nan};
use super::workload::{AMOUNT, Geometry, LAG, RANGE, Reduction, WINDOW, Workload};
use ndarray::{ArrayViewMut2, Axis};
use rayon::prelude::*;
use rumba::Array;
use std::ops::Range;

/// Pixels per task of the sliding window: its running sums, two input rows and the output
/// row per frame stay in L2 (8192 was 1.6× faster than 65536 on f32, measured).
const SLIDING_BLOCK: usize = 8192;
/// Pixels per task of the median (its pixels × T gather buffer stays in L2).
const MEDIAN_BLOCK: usize = 256;
/// Frames per pass of the sweeps over T: each pass reads 4 frame rows of a pixel block and
/// updates its accumulators once (1.5–2× faster than a frame per pass, measured).
const FRAMES_PER_PASS: usize = 4;
/// Independent accumulators of the reductions over a frame (vectorisable).
const LANES: usize = 16;

/// Runs `workload` on the stack `x` into `outs` (the outputs in graph order).
pub fn run(workload: Workload, x: &Array, g: &Geometry, outs: &mut [Array]) {
    dispatch!(x, run_typed(workload, x, g, outs))
}

fn run_typed<P: Pixel>(workload: Workload, x: &Array, g: &Geometry, outs: &mut [Array]) {
    let x = P::slice(x);
    let frame = g.h * g.w * g.c;
    match (workload, outs) {
        (Workload::RangeNorm, [out]) => range_norm(x, frame, f32_mut(out)),
        (Workload::SlidingNorm, [out]) => sliding_norm(x, frame, f32_mut(out)),
        (Workload::EnvelopeDataset, [min, max]) => envelope_dataset(x, g, P::slice_mut(min), P::slice_mut(max)),
        (Workload::EnvelopeFrames, [min, max]) => envelope_frames(x, g, P::slice_mut(min), P::slice_mut(max)),
        (Workload::RoiSeries, [mean, min, max]) => {
            roi_series(x, g, f32_mut(mean), P::slice_mut(min), P::slice_mut(max));
        }
        (Workload::Reduce(r), [out]) => reduce(r, x, frame, out),
        (w, outs) => panic!("{w:?} has no {} outputs", outs.len()),
    }
}

/// The amounts in f32: subtract `a_s`, divide `a_d`, and `1 − a_d` formed in f64.
fn amounts() -> (f32, f32, f32) {
    let a = std::hint::black_box(AMOUNT);
    (a as f32, a as f32, (1.0 - a) as f32)
}

/// Pixels per task of the sweeps over T: long runs per frame row (short ones starve the
/// prefetcher), accumulators within L2, and at least two tasks per thread.
fn block(frame: usize) -> usize {
    (frame / (2 * rayon::current_num_threads())).clamp(4096, 65536)
}

/// `f(&mut acc[j], x[k, p0 + j])` for every frame `k` of `frames` in order, pixel `p0 + j`
/// (frames of `frame` elements), [`FRAMES_PER_PASS`] frames per pass over `acc`.
#[inline(always)]
fn sweep<P: Pixel, A>(x: &[P], frame: usize, frames: Range<usize>, p0: usize, acc: &mut [A], f: impl Fn(&mut A, P)) {
    let len = acc.len();
    let row = |k: usize| &x[k * frame + p0..][..len];
    let mut k = frames.start;
    while k + FRAMES_PER_PASS <= frames.end {
        let rows = row(k).iter().zip(row(k + 1)).zip(row(k + 2)).zip(row(k + 3));
        for (a, (((&v0, &v1), &v2), &v3)) in acc.iter_mut().zip(rows) {
            f(a, v0);
            f(a, v1);
            f(a, v2);
            f(a, v3);
        }
        k += FRAMES_PER_PASS;
    }
    for k in k..frames.end {
        for (a, &v) in acc.iter_mut().zip(row(k)) {
            f(a, v);
        }
    }
}

/// `(x − a_s·R) / d`, 0 where `d == 0`, NaN and ±Inf → 0; `sub` is `a_s·R`. Without
/// short-circuit (`|`, not `||`), so the loops vectorise (3.7× faster).
#[inline(always)]
fn normalise(x: f32, sub: f32, d: f32) -> f32 {
    let q = (x - sub) / d;
    if (d == 0.0) | !q.is_finite() { 0.0 } else { q }
}

fn range_norm<P: Pixel>(x: &[P], frame: usize, out: &mut [f32]) {
    let frames = RANGE[0] as usize..(RANGE[1] as usize + 1).min(x.len() / frame);
    let (a_s, a_d, rest) = amounts();
    // The reference R: per pixel, the f64 mean of frames 0..=9, rounded once.
    let mut r = vec![0f32; frame];
    let block = block(frame);
    r.par_chunks_mut(block).enumerate().for_each(|(b, r)| {
        let mut acc = vec![P::Sum::default(); r.len()];
        sweep(x, frame, frames.clone(), b * block, &mut acc, |a, v| *a += v.summand());
        for (r, a) in r.iter_mut().zip(acc) {
            *r = (P::sum_f64(a) / frames.len() as f64) as f32;
        }
    });
    // One pass over the stack, a frame per task; a_s·R and d = a_d·R + (1 − a_d) per element
    // (one broadcast array streams faster than two precomputed ones, measured).
    out.par_chunks_mut(frame).zip(x.par_chunks(frame)).for_each(|(o, x)| {
        for ((o, x), r) in o.iter_mut().zip(x).zip(&r) {
            *o = normalise(x.f32(), a_s * r, a_d * r + rest);
        }
    });
}

fn sliding_norm<P: Pixel>(x: &[P], frame: usize, out: &mut [f32]) {
    let n = (x.len() / frame).saturating_sub(LAG + WINDOW);
    if n == 0 {
        return;
    }
    let (a_s, a_d, rest) = amounts();
    let block = SLIDING_BLOCK;
    let out = ArrayViewMut2::from_shape((n, frame), out).expect("(N, pixels) output");
    column_blocks(out, block)
        .into_par_iter()
        .enumerate()
        .for_each(|(b, mut o)| {
            let len = o.ncols();
            let row = |t: usize| &x[t * frame + b * block..][..len];
            // Running sums: the window's first WINDOW − 1 frames; then per output frame add the
            // entering frame, normalise the window's first frame, and drop it.
            let mut acc = vec![P::Sum::default(); len];
            for t in LAG + 1..LAG + WINDOW {
                for (a, v) in acc.iter_mut().zip(row(t)) {
                    *a += v.summand();
                }
            }
            for i in 0..n {
                let (cur, enter) = (row(LAG + 1 + i), row(LAG + i + WINDOW));
                let o = o.row_mut(i).into_slice().expect("contiguous row");
                for (((o, a), c), e) in o.iter_mut().zip(acc.iter_mut()).zip(cur).zip(enter) {
                    *a += e.summand();
                    let s = (P::sum_f64(*a) / WINDOW as f64) as f32;
                    *o = normalise(c.f32(), a_s * s, a_d * s + rest);
                    *a -= c.summand();
                }
            }
        });
}

/// `a` cut into blocks of at most `width` columns (disjoint mutable views).
fn column_blocks(mut a: ArrayViewMut2<'_, f32>, width: usize) -> Vec<ArrayViewMut2<'_, f32>> {
    let mut out = Vec::new();
    while a.ncols() > width {
        let (left, right) = a.split_at(Axis(1), width);
        out.push(left);
        a = right;
    }
    out.push(a);
    out
}

/// The envelope band of frame `t`: rows `[lo, hi)`, contiguous.
fn band<'a, P>(x: &'a [P], g: &Geometry, t: usize) -> &'a [P] {
    let row = g.w * g.c;
    &x[(t * g.h + g.band.0) * row..(t * g.h + g.band.1) * row]
}

fn envelope_dataset<P: Pixel>(x: &[P], g: &Geometry, min: &mut [P], max: &mut [P]) {
    let row = g.w * g.c;
    let init = || (vec![P::HIGHEST; row], vec![P::LOWEST; row]);
    // Per-column accumulators over (T, band) in frame chunks; min/max merge exactly.
    let (lo, hi) = (0..g.t)
        .into_par_iter()
        .fold(init, |(mut lo, mut hi), t| {
            for r in band(x, g, t).chunks_exact(row) {
                for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(r) {
                    *l = min_nan(*l, v);
                    *h = max_nan(*h, v);
                }
            }
            (lo, hi)
        })
        .reduce(init, |(mut lo, mut hi), (l2, h2)| {
            lo.iter_mut().zip(l2).for_each(|(a, b)| *a = min_nan(*a, b));
            hi.iter_mut().zip(h2).for_each(|(a, b)| *a = max_nan(*a, b));
            (lo, hi)
        });
    // Channels fold into the curve.
    for (j, (mn, mx)) in min.iter_mut().zip(max.iter_mut()).enumerate() {
        *mn = lo[j * g.c..(j + 1) * g.c].iter().copied().fold(P::HIGHEST, min_nan);
        *mx = hi[j * g.c..(j + 1) * g.c].iter().copied().fold(P::LOWEST, max_nan);
    }
}

fn envelope_frames<P: Pixel>(x: &[P], g: &Geometry, min: &mut [P], max: &mut [P]) {
    let curves = min.par_iter_mut().zip(max.par_iter_mut());
    curves
        .enumerate()
        .for_each(|(t, (mn, mx))| (*mn, *mx) = min_max(band(x, g, t)));
}

/// (min, max) of `s`, NaN propagating, in [`LANES`] independent lanes.
fn min_max<P: Pixel>(s: &[P]) -> (P, P) {
    let (mut lo, mut hi) = ([P::HIGHEST; LANES], [P::LOWEST; LANES]);
    let chunks = s.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for k in 0..LANES {
            lo[k] = min_nan(lo[k], c[k]);
            hi[k] = max_nan(hi[k], c[k]);
        }
    }
    let lo = lo.into_iter().chain(tail.iter().copied()).fold(P::HIGHEST, min_nan);
    let hi = hi.into_iter().chain(tail.iter().copied()).fold(P::LOWEST, max_nan);
    (lo, hi)
}

fn roi_series<P: Pixel>(x: &[P], g: &Geometry, mean: &mut [f32], min: &mut [P], max: &mut [P]) {
    let (row, frame) = (g.w * g.c, g.h * g.w * g.c);
    let curves = mean.par_iter_mut().zip(min.par_iter_mut()).zip(max.par_iter_mut());
    curves.enumerate().for_each(|(t, ((mean, mn), mx))| {
        let mut acc = RoiAcc::<P>::new();
        for &(i, j0, j1) in &g.spans {
            acc.add(&x[t * frame + i * row + j0 * g.c..t * frame + i * row + j1 * g.c]);
        }
        let (i, j0, _) = g.spans[0];
        (*mean, *mn, *mx) = acc.finish(x[t * frame + i * row + j0 * g.c]);
    });
}

/// Sum, count, min and max of the non-NaN values, in [`LANES`] lanes.
struct RoiAcc<P: Pixel> {
    sum: [P::Sum; LANES],
    count: [u32; LANES],
    lo: [P; LANES],
    hi: [P; LANES],
}

impl<P: Pixel> RoiAcc<P> {
    fn new() -> Self {
        RoiAcc {
            sum: [P::Sum::default(); LANES],
            count: [0; LANES],
            lo: [P::HIGHEST; LANES],
            hi: [P::LOWEST; LANES],
        }
    }

    #[inline(always)]
    fn lane(&mut self, k: usize, v: P) {
        let keep = !v.is_nan();
        self.sum[k] += if keep { v.summand() } else { P::Sum::default() };
        self.count[k] += u32::from(keep);
        // NaN compares false: skipped.
        self.lo[k] = if v < self.lo[k] { v } else { self.lo[k] };
        self.hi[k] = if v > self.hi[k] { v } else { self.hi[k] };
    }

    fn add(&mut self, s: &[P]) {
        let chunks = s.chunks_exact(LANES);
        let tail = chunks.remainder();
        for c in chunks {
            for (k, &v) in c.iter().enumerate() {
                self.lane(k, v);
            }
        }
        for (k, &v) in tail.iter().enumerate() {
            self.lane(k, v);
        }
    }

    /// (mean, min, max); NaN for all three when every value was NaN (`first` is any value).
    fn finish(self, first: P) -> (f32, P, P) {
        let count: u32 = self.count.iter().sum();
        let lo = self.lo.into_iter().fold(P::HIGHEST, |a, v| if v < a { v } else { a });
        let hi = self.hi.into_iter().fold(P::LOWEST, |a, v| if v > a { v } else { a });
        if count == 0 {
            // Every value was NaN (float stacks only): so is `first`, and every statistic.
            return (f32::NAN, first, first);
        }
        (
            (self.sum.into_iter().map(P::sum_f64).sum::<f64>() / f64::from(count)) as f32,
            lo,
            hi,
        )
    }
}

fn reduce<P: Pixel>(r: Reduction, x: &[P], frame: usize, out: &mut Array) {
    let t = x.len() / frame;
    let block = block(frame);
    match r {
        Reduction::Mean => f32_mut(out).par_chunks_mut(block).enumerate().for_each(|(b, o)| {
            let mut acc = vec![P::Sum::default(); o.len()];
            sweep(x, frame, 0..t, b * block, &mut acc, |a, v| *a += v.summand());
            for (o, a) in o.iter_mut().zip(acc) {
                *o = (P::sum_f64(a) / t as f64) as f32;
            }
        }),
        Reduction::Std => f32_mut(out).par_chunks_mut(block).enumerate().for_each(|(b, o)| {
            // Welford in frame order: mean += δ/k, M2 += δ·(x − mean). (A frame per pass: the
            // count changes per frame; the divisions bound it anyway.)
            let (mut mean, mut m2) = (vec![0f64; o.len()], vec![0f64; o.len()]);
            for k in 0..t {
                let count = (k + 1) as f64;
                let row = &x[k * frame + b * block..][..o.len()];
                for ((m, s), v) in mean.iter_mut().zip(m2.iter_mut()).zip(row) {
                    let v = v.f64();
                    let delta = v - *m;
                    *m += delta / count;
                    *s += delta * (v - *m);
                }
            }
            for (o, s) in o.iter_mut().zip(m2) {
                *o = (s / t as f64).sqrt() as f32;
            }
        }),
        Reduction::Min => fold_over_t(x, frame, P::slice_mut(out), min_nan::<P>),
        Reduction::Max => fold_over_t(x, frame, P::slice_mut(out), max_nan::<P>),
        Reduction::Median => {
            let blocks = f32_mut(out).par_chunks_mut(MEDIAN_BLOCK).enumerate();
            blocks.for_each_init(Vec::new, |buf, (b, o)| {
                // Gather the block pixels × T (frame rows are contiguous), then select per pixel.
                buf.resize(o.len() * t, 0f32);
                for k in 0..t {
                    for (j, v) in x[k * frame + b * MEDIAN_BLOCK..][..o.len()].iter().enumerate() {
                        buf[j * t + k] = v.f32();
                    }
                }
                for (o, lane) in o.iter_mut().zip(buf.chunks_exact_mut(t)) {
                    *o = median(lane);
                }
            });
        }
    }
}

/// `out[p] = f(… f(f(x[0, p], x[1, p]), x[2, p]) …)` over the frames of `x`.
fn fold_over_t<P: Pixel>(x: &[P], frame: usize, out: &mut [P], f: impl Fn(P, P) -> P + Sync) {
    let (t, block) = (x.len() / frame, block(frame));
    out.par_chunks_mut(block).enumerate().for_each(|(b, o)| {
        o.copy_from_slice(&x[b * block..][..o.len()]);
        sweep(x, frame, 1..t, b * block, o, |a, v| *a = f(*a, v));
    });
}

/// The median of `v` (reordered): the middle value, or the f64 mean of the two middle values
/// for an even count, rounded to f32; NaN if any value is NaN.
pub fn median(v: &mut [f32]) -> f32 {
    if v.iter().any(|x| x.is_nan()) {
        return f32::NAN;
    }
    let (n, m) = (v.len(), v.len() / 2);
    let (lower, &mut hi, _) = v.select_nth_unstable_by(m, f32::total_cmp);
    if m * 2 == n {
        let lo = lower.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        ((f64::from(lo) + f64::from(hi)) / 2.0) as f32
    } else {
        hi
    }
}
