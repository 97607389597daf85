//! Deterministic synthetic image stacks: moving bright blobs over a noisy, slowly drifting
//! background — data on which background subtraction visibly does something.
//!
//! Intensities are defined in u8 units (see [`stack`]): a background of about 40–90 with a
//! spatial gradient (+35 across the frame) and a slow drift over T (+16 after 200 frames);
//! uniform noise of ±6 from a counter-based hash (splitmix64 of the element's flat index and
//! the seed, so every element is independent of iteration order); and four Gaussian blobs of
//! peak +90 … +120 moving along straight and circular paths. Every value is clamped to
//! [0, 255].

use ndarray::{ArrayD, IxDyn};
use rumba_ir::{Array, DType};
use std::f64::consts::TAU;
use std::ops::Range;

/// The noise amplitude in u8 units: noise is uniform in `[-NOISE, NOISE)`.
const NOISE: f64 = 6.0;
/// The bool stack is `true` where the blobs add more than this (in u8 units).
const BOOL_THRESHOLD: f64 = 60.0;
/// A blob term this small (relative) is skipped on a row.
const NEGLIGIBLE: f64 = 1e-6;

/// A synthetic stack of `dtype` and `shape`, the same for the same `seed`.
///
/// The shape is read as (T, H, W, C): frames, rows, columns, channels. Other ranks map onto it:
/// rank 3 is (T, H, W) with one channel, rank 2 one frame (H, W), rank 1 one row (W), rank 0
/// one pixel; for rank > 4 the leading axes are flattened into frames. Blobs and background
/// are the same in every channel; the noise differs per element.
///
/// Values, in u8 units `v ∈ [0, 255]`: `u8` and `i32` hold `v` rounded half up, `u16`
/// holds `256·v` rounded half up (at most 65280), `f32` and `f64` hold `v` itself (not rounded), and `bool`
/// is `true` where the blobs alone add more than 60 (the blob cores, without noise).
///
/// Cost: one pass over a preallocated buffer, a hash and four multiply-adds per element; blob
/// tables are built once per frame.
#[must_use]
pub fn stack(dtype: DType, shape: &[usize], seed: u64) -> Array {
    let whole: Vec<(i64, i64)> = shape.iter().map(|&e| (0, e as i64 - 1)).collect();
    let area = Area::of(shape, &whole);
    fn typed<T>(shape: &[usize], area: &Area, seed: u64, convert: impl Fn(f64, f64) -> T) -> ArrayD<T> {
        let mut data = Vec::with_capacity(area.len());
        emit(area, seed, convert, |v| data.push(v));
        ArrayD::from_shape_vec(IxDyn(shape), data).expect("the buffer holds exactly one element per index")
    }
    match dtype {
        DType::Bool => Array::Bool(typed(shape, &area, seed, as_bool)),
        DType::U8 => Array::U8(typed(shape, &area, seed, as_u8)),
        DType::U16 => Array::U16(typed(shape, &area, seed, as_u16)),
        DType::I32 => Array::I32(typed(shape, &area, seed, as_i32)),
        DType::F32 => Array::F32(typed(shape, &area, seed, as_f32)),
        DType::F64 => Array::F64(typed(shape, &area, seed, as_f64)),
    }
}

/// Writes box `bounds` (inclusive `(lo, hi)` per axis, within `shape`) of
/// [`stack`]`(dtype, shape, seed)` into `out` as native-endian elements in C order, without
/// building the rest of the stack — what a streamed run reads per chunk.
///
/// # Panics
/// When `out` is not exactly the box's size in bytes or a bound lies outside `shape`.
pub fn fill_box(dtype: DType, shape: &[usize], seed: u64, bounds: &[(i64, i64)], out: &mut [u8]) {
    let area = Area::of(shape, bounds);
    let size = dtype.size();
    assert_eq!(out.len(), area.len() * size, "a buffer of the box's size");
    let mut slots = out.chunks_exact_mut(size);
    let mut next = || slots.next().expect("one slot per element");
    match dtype {
        DType::Bool => emit(&area, seed, as_bool, |v| next()[0] = u8::from(v)),
        DType::U8 => emit(&area, seed, as_u8, |v| next()[0] = v),
        DType::U16 => emit(&area, seed, as_u16, |v| next().copy_from_slice(&v.to_ne_bytes())),
        DType::I32 => emit(&area, seed, as_i32, |v| next().copy_from_slice(&v.to_ne_bytes())),
        DType::F32 => emit(&area, seed, as_f32, |v| next().copy_from_slice(&v.to_ne_bytes())),
        DType::F64 => emit(&area, seed, as_f64, |v| next().copy_from_slice(&v.to_ne_bytes())),
    }
}

// The element of each dtype from the clamped intensity `v` and the blobs' part of it (both
// in u8 units). Integers are rounded half up by `(v + 0.5) as T`, which for v ≥ 0 is cheaper
// than `f64::round`.
fn as_bool(_: f64, blobs: f64) -> bool {
    blobs > BOOL_THRESHOLD
}
fn as_u8(v: f64, _: f64) -> u8 {
    (v + 0.5) as u8
}
fn as_u16(v: f64, _: f64) -> u16 {
    (v * 256.0 + 0.5) as u16
}
fn as_i32(v: f64, _: f64) -> i32 {
    (v + 0.5) as i32
}
fn as_f32(v: f64, _: f64) -> f32 {
    v as f32
}
fn as_f64(v: f64, _: f64) -> f64 {
    v
}

/// The (T, H, W, C) reading of a shape of any rank (see [`stack`]).
fn as_thwc(shape: &[usize]) -> [usize; 4] {
    match *shape {
        [] => [1, 1, 1, 1],
        [w] => [1, 1, w, 1],
        [h, w] => [1, h, w, 1],
        [t, h, w] => [t, h, w, 1],
        [ref lead @ .., h, w, c] => [lead.iter().product(), h, w, c],
    }
}

/// A box of a stack in (T, H, W, C) terms: the frames it covers, in C order (a range for
/// rank ≤ 4, the flattened leading indices of a box for rank > 4), and ranges of rows,
/// columns and channels.
struct Area {
    /// The whole stack, (T, H, W, C).
    dims: [usize; 4],
    frames: Vec<usize>,
    rows: Range<usize>,
    cols: Range<usize>,
    chans: Range<usize>,
}

impl Area {
    /// Box `bounds` (inclusive, one pair per axis of `shape`).
    fn of(shape: &[usize], bounds: &[(i64, i64)]) -> Area {
        assert_eq!(shape.len(), bounds.len(), "one bound per axis");
        let range = |k: usize| {
            let (lo, hi) = bounds[k];
            if hi < lo {
                return 0..0;
            }
            assert!(
                0 <= lo && hi < shape[k] as i64,
                "bound {k} {:?} within {shape:?}",
                bounds[k]
            );
            lo as usize..hi as usize + 1
        };
        let dims = as_thwc(shape);
        let r = shape.len();
        let (frames, rows, cols, chans) = match r {
            0 => (vec![0], 0..1, 0..1, 0..1),
            1 => (vec![0], 0..1, range(0), 0..1),
            2 => (vec![0], range(0), range(1), 0..1),
            3 => (range(0).collect(), range(1), range(2), 0..1),
            _ => {
                // The leading axes' box, flattened in C order.
                let mut frames = vec![0usize];
                for (k, &extent) in shape[..r - 3].iter().enumerate() {
                    frames = frames
                        .iter()
                        .flat_map(|&f| range(k).map(move |i| f * extent + i))
                        .collect();
                }
                (frames, range(r - 3), range(r - 2), range(r - 1))
            }
        };
        Area {
            dims,
            frames,
            rows,
            cols,
            chans,
        }
    }

    /// Elements in the box.
    fn len(&self) -> usize {
        self.frames.len() * self.rows.len() * self.cols.len() * self.chans.len()
    }
}

/// Hands `put` the elements of `area` in C order: `convert(v, blobs)` turns the clamped
/// intensity `v` and the blob contribution `blobs` (both in u8 units) into an element. The
/// noise hashes each element's flat index in the whole stack, so a box holds the same
/// values as the whole stack there.
fn emit<T>(area: &Area, seed: u64, convert: impl Fn(f64, f64) -> T, mut put: impl FnMut(T)) {
    let [t_len, h, w, c] = area.dims;
    if area.len() == 0 {
        return;
    }
    let noise_key = splitmix64(seed ^ 0x005e_ed0f_b10b);
    let blob_paths = paths(seed);
    // Background: a gradient over rows and columns, plus a drift shared by the whole frame.
    let row_ramp: Vec<f64> = (0..h).map(|i| 20.0 * unit(i, h)).collect();
    let col_ramp: Vec<f64> = (0..w).map(|j| 15.0 * unit(j, w)).collect();
    // The blobs' contribution to the current row, one value per column of the box.
    let mut blob_row = vec![0.0; area.cols.len()];
    for &t in &area.frames {
        let progress = unit(t, t_len);
        // A slow swell: 0 at the first frame, +16 after 200 frames, back to 0 after 400.
        let drift = 8.0 * (1.0 - (TAU * t as f64 / 400.0).cos());
        let blobs: Vec<Blob> = blob_paths
            .iter()
            .map(|p| Blob::at(p, progress, [h, w], area.rows.clone(), area.cols.clone()))
            .collect();
        for i in area.rows.clone() {
            let row_base = 40.0 + drift + row_ramp[i];
            blob_row.fill(0.0);
            for blob in &blobs {
                let weight = blob.amplitude * blob.rows[i - area.rows.start];
                if weight > NEGLIGIBLE {
                    blob_row
                        .iter_mut()
                        .zip(&blob.cols)
                        .for_each(|(acc, col)| *acc += weight * col);
                }
            }
            for (j, &blob_sum) in area.cols.clone().zip(&blob_row) {
                let base = row_base + col_ramp[j] + blob_sum;
                let first = ((t * h + i) * w + j) * c;
                for k in area.chans.clone() {
                    let index = (first + k) as u64;
                    let noise = NOISE * (2.0 * uniform(splitmix64(index ^ noise_key)) - 1.0);
                    put(convert((base + noise).clamp(0.0, 255.0), blob_sum));
                }
            }
        }
    }
}

/// `k / (n − 1)` in [0, 1], 0 when `n ≤ 1`.
fn unit(k: usize, n: usize) -> f64 {
    if n <= 1 { 0.0 } else { k as f64 / (n - 1) as f64 }
}

/// The splitmix64 finaliser of `x + γ`: a counter-based hash with full avalanche.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A hash mapped to [0, 1) with 53 random bits.
fn uniform(hash: u64) -> f64 {
    (hash >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// How a blob moves, in units of the image (rows and columns in [0, 1]).
enum Path {
    /// From `from` to `to` (row, column) over the stack.
    Line { from: [f64; 2], to: [f64; 2] },
    /// Around `centre` with `radius` (in units of the shorter side), starting at angle `phase`
    /// and turning by `turn` radians over the stack.
    Circle {
        centre: [f64; 2],
        radius: f64,
        phase: f64,
        turn: f64,
    },
}

/// A blob's path, its width (σ in units of the shorter side) and its peak (u8 units).
struct BlobPath {
    path: Path,
    sigma: f64,
    amplitude: f64,
}

/// The four blobs; the seed turns the circles' start angles.
fn paths(seed: u64) -> [BlobPath; 4] {
    let phase = |k: u64| TAU * uniform(splitmix64(seed.wrapping_mul(31).wrapping_add(k)));
    [
        BlobPath {
            path: Path::Line {
                from: [0.2, 0.12],
                to: [0.7, 0.88],
            },
            sigma: 0.05,
            amplitude: 120.0,
        },
        BlobPath {
            path: Path::Circle {
                centre: [0.5, 0.5],
                radius: 0.3,
                phase: phase(1),
                turn: 1.5 * TAU / 2.0,
            },
            sigma: 0.035,
            amplitude: 110.0,
        },
        BlobPath {
            path: Path::Line {
                from: [0.85, 0.2],
                to: [0.3, 0.6],
            },
            sigma: 0.025,
            amplitude: 100.0,
        },
        BlobPath {
            path: Path::Circle {
                centre: [0.35, 0.65],
                radius: 0.15,
                phase: phase(2),
                turn: -1.2 * TAU / 2.0,
            },
            sigma: 0.06,
            amplitude: 90.0,
        },
    ]
}

/// A blob in one frame: the separable Gaussian's row and column factors.
struct Blob {
    amplitude: f64,
    rows: Vec<f64>,
    cols: Vec<f64>,
}

impl Blob {
    /// The blob of `path` at `progress` ∈ [0, 1] through the stack, on an `h`×`w` image;
    /// its factors for `rows` and `cols` only (indexed from their starts).
    fn at(path: &BlobPath, progress: f64, [h, w]: [usize; 2], rows: Range<usize>, cols: Range<usize>) -> Blob {
        let side = h.min(w).max(1) as f64;
        let (row, col) = match path.path {
            Path::Line { from, to } => {
                let lerp = |a: f64, b: f64| a + (b - a) * progress;
                (lerp(from[0], to[0]) * h as f64, lerp(from[1], to[1]) * w as f64)
            }
            Path::Circle {
                centre,
                radius,
                phase,
                turn,
            } => {
                let angle = phase + turn * progress;
                (
                    centre[0] * h as f64 + radius * side * angle.sin(),
                    centre[1] * w as f64 + radius * side * angle.cos(),
                )
            }
        };
        let sigma = (path.sigma * side).max(0.5);
        let gauss = |centre: f64, ks: Range<usize>| -> Vec<f64> {
            ks.map(|k| (-((k as f64 + 0.5 - centre) / sigma).powi(2) / 2.0).exp())
                .collect()
        };
        Blob {
            amplitude: path.amplitude,
            rows: gauss(row, rows),
            cols: gauss(col, cols),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: [usize; 4] = [6, 48, 64, 1];

    /// Each frame of a rank-4 stack as f64 values.
    fn frames(a: &Array) -> Vec<Vec<f64>> {
        let values = a.to_f64_vec();
        let frame = a.shape()[1..].iter().product::<usize>();
        values.chunks(frame).map(<[f64]>::to_vec).collect()
    }

    fn argmax(v: &[f64]) -> usize {
        (0..v.len()).fold(0, |best, k| if v[k] > v[best] { k } else { best })
    }

    #[test]
    fn same_seed_same_stack_other_seed_other_stack() {
        for dtype in DType::ALL {
            let a = stack(dtype, &SHAPE, 7);
            assert_eq!(a.dtype(), dtype);
            assert_eq!(a.shape(), SHAPE);
            assert_eq!(a, stack(dtype, &SHAPE, 7), "{dtype}");
            if dtype != DType::Bool {
                assert_ne!(a, stack(dtype, &SHAPE, 8), "{dtype}");
            }
        }
    }

    #[test]
    fn values_are_in_range_per_dtype() {
        let in_range = |dtype: DType, lo: f64, hi: f64| {
            let values = stack(dtype, &SHAPE, 3).to_f64_vec();
            assert!(values.iter().all(|v| (lo..=hi).contains(v)), "{dtype}");
            values
        };
        let u8s = in_range(DType::U8, 0.0, 255.0);
        let u16s = in_range(DType::U16, 0.0, 65280.0);
        let i32s = in_range(DType::I32, 0.0, 255.0);
        let f32s = in_range(DType::F32, 0.0, 255.0);
        in_range(DType::F64, 0.0, 255.0);
        assert_eq!(u8s, i32s);
        // u16 is u8 units × 256 (rounded from the same unrounded value).
        assert!(
            u16s.iter()
                .zip(&u8s)
                .all(|(a, b)| (a / 256.0 - b).abs() <= 0.5 + 1.0 / 256.0)
        );
        assert!(f32s.iter().zip(&u8s).all(|(f, b)| (f - b).abs() <= 0.5 + 1e-4));
        assert!(f32s.iter().any(|f| f.fract() != 0.0), "floats are not quantised");
        // The background is 40–90 with ±6 noise: the darkest pixel is above 30.
        assert!(u8s.iter().all(|&v| v >= 30.0));
        let bools = stack(DType::Bool, &SHAPE, 3).to_f64_vec();
        let fraction = bools.iter().sum::<f64>() / bools.len() as f64;
        assert!(
            fraction > 0.0 && fraction < 0.2,
            "blob cores cover a small part: {fraction}"
        );
    }

    #[test]
    fn blobs_are_bright_and_move() {
        for seed in [0, 1, 2] {
            let a = stack(DType::F32, &[12, 64, 80, 1], seed);
            let frames = frames(&a);
            for f in &frames {
                let mut sorted = f.clone();
                sorted.sort_by(f64::total_cmp);
                let (median, max) = (sorted[sorted.len() / 2], sorted[sorted.len() - 1]);
                assert!(max > median + 60.0, "seed {seed}: max {max}, median {median}");
            }
            assert_ne!(argmax(&frames[0]), argmax(&frames[frames.len() - 1]), "seed {seed}");
        }
    }

    #[test]
    fn background_drifts_over_time() {
        let a = stack(DType::F64, &[200, 16, 16, 1], 0);
        let means: Vec<f64> = frames(&a)
            .iter()
            .map(|f| f.iter().sum::<f64>() / f.len() as f64)
            .collect();
        // The drift is 0 at the first frame and 16 at frame 200; blobs and noise move the
        // frame means by far less.
        assert!(means[199] - means[0] > 12.0, "{} -> {}", means[0], means[199]);
        assert!(means[100] - means[0] > 5.0 && means[199] - means[100] > 5.0);
    }

    /// The values of box `bounds` of `a`, in C order.
    fn box_values(a: &Array, bounds: &[(i64, i64)]) -> Vec<f64> {
        let values = a.to_f64_vec();
        let shape = a.shape();
        let mut flat: Vec<usize> = vec![0];
        for (k, &(lo, hi)) in bounds.iter().enumerate() {
            flat = flat
                .iter()
                .flat_map(|&f| (lo..=hi).map(move |i| f * shape[k] + i as usize))
                .collect();
        }
        flat.iter().map(|&f| values[f]).collect()
    }

    /// Native-endian elements of `dtype` as f64.
    fn decode(dtype: DType, bytes: &[u8]) -> Vec<f64> {
        bytes
            .chunks_exact(dtype.size())
            .map(|b| match dtype {
                DType::Bool | DType::U8 => f64::from(b[0]),
                DType::U16 => f64::from(u16::from_ne_bytes([b[0], b[1]])),
                DType::I32 => f64::from(i32::from_ne_bytes(b.try_into().unwrap())),
                DType::F32 => f64::from(f32::from_ne_bytes(b.try_into().unwrap())),
                DType::F64 => f64::from_ne_bytes(b.try_into().unwrap()),
            })
            .collect()
    }

    #[test]
    fn a_box_holds_what_the_whole_stack_holds_there() {
        let shapes: [&[usize]; 6] = [&[], &[7], &[5, 6], &[4, 5, 6], &[5, 9, 11, 3], &[2, 3, 4, 5, 2]];
        for shape in shapes {
            for dtype in DType::ALL {
                let whole = stack(dtype, shape, 5);
                // The whole box, one element, and boxes cut off every side.
                let mut boxes: Vec<Vec<(i64, i64)>> = vec![
                    shape.iter().map(|&e| (0, e as i64 - 1)).collect(),
                    shape.iter().map(|&e| (e as i64 / 2, e as i64 / 2)).collect(),
                    shape.iter().map(|&e| (1.min(e as i64 - 1), e as i64 - 2)).collect(),
                ];
                boxes.push(shape.iter().map(|&e| (e as i64 - 1, e as i64 - 2)).collect()); // empty
                for bounds in boxes {
                    let expected = box_values(&whole, &bounds);
                    let mut out = vec![0xa5; expected.len() * dtype.size()];
                    fill_box(dtype, shape, 5, &bounds, &mut out);
                    assert_eq!(decode(dtype, &out), expected, "{dtype} {shape:?} {bounds:?}");
                }
            }
        }
    }

    #[test]
    fn other_ranks_map_onto_frames() {
        assert_eq!(as_thwc(&[]), [1, 1, 1, 1]);
        assert_eq!(as_thwc(&[5]), [1, 1, 5, 1]);
        assert_eq!(as_thwc(&[4, 5]), [1, 4, 5, 1]);
        assert_eq!(as_thwc(&[3, 4, 5]), [3, 4, 5, 1]);
        assert_eq!(as_thwc(&[2, 3, 4, 5, 6]), [6, 4, 5, 6]);
        let a = stack(DType::U8, &[2, 3, 8, 8, 2], 0);
        assert_eq!(a.shape(), [2, 3, 8, 8, 2]);
        assert_eq!(stack(DType::U16, &[], 0).shape(), [] as [usize; 0]);
        assert_eq!(stack(DType::F32, &[0, 8, 8, 1], 0).shape(), [0, 8, 8, 1]);
        // Channels share blobs and background but not noise.
        let rgb = stack(DType::F64, &[1, 4, 4, 3], 0).to_f64_vec();
        assert_ne!(rgb[0], rgb[1]);
        assert!((rgb[0] - rgb[1]).abs() <= 2.0 * NOISE);
    }
}
