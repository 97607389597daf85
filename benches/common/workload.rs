//! The BLITZ workloads: their rumba graphs (DSL), their geometry (envelope band, ROI polygon)
//! and their logical bytes.

use rumba::dsl::{Builder, Stat, Step};
use rumba::{DType, Graph};
use rumba_ir::def::{EnvelopeOver, Orientation};

/// Reference frames of the range normalisation: mean of frames 0..=9.
pub const RANGE: [i64; 2] = [0, 9];
/// Sliding normalisation: window of 10 frames …
pub const WINDOW: usize = 10;
/// … starting `LAG + 1` frames after the frame it normalises.
pub const LAG: usize = 5;
/// Envelope band: rows `pos − 5 ..= pos + 5`.
pub const HALFWIDTH: usize = 5;
/// Subtract and divide amounts (graph param defaults; the hand versions use the same).
pub const AMOUNT: f64 = 1.0;
/// The pentagon of `examples/graphs/roi_series.json`, for a 512 × 512 image.
pub const PENTAGON: [[f64; 2]; 5] = [
    [180.5, 120.0],
    [330.0, 140.25],
    [380.75, 290.5],
    [256.0, 400.0],
    [140.0, 300.0],
];

/// A statistic over T.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// Mean (f32).
    Mean,
    /// Population standard deviation (f32, Welford).
    Std,
    /// Minimum (input dtype).
    Min,
    /// Maximum (input dtype).
    Max,
    /// Median (f32).
    Median,
}

/// A BLITZ workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `(x − mean(x[0..=9])) / mean(x[0..=9])`, 0 where the divisor is 0, NaN/±Inf → 0.
    RangeNorm,
    /// The same with a sliding mean over frames `n+6 ..= n+15` (window 10, lag 5).
    SlidingNorm,
    /// Min and max of rows `H/2 ± 5` over (T, band, C): two curves along W.
    EnvelopeDataset,
    /// Min and max of the same band per frame: two curves of length T.
    EnvelopeFrames,
    /// Per-frame mean, min and max inside the pentagon (NaN skipped).
    RoiSeries,
    /// A statistic over T: one (1, H, W, C) frame.
    Reduce(Reduction),
}

/// Every workload, in table order.
pub const WORKLOADS: [Workload; 10] = [
    Workload::RangeNorm,
    Workload::SlidingNorm,
    Workload::EnvelopeDataset,
    Workload::EnvelopeFrames,
    Workload::RoiSeries,
    Workload::Reduce(Reduction::Mean),
    Workload::Reduce(Reduction::Std),
    Workload::Reduce(Reduction::Min),
    Workload::Reduce(Reduction::Max),
    Workload::Reduce(Reduction::Median),
];

impl Workload {
    /// A short name for tables and benchmark ids.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Workload::RangeNorm => "range_norm",
            Workload::SlidingNorm => "sliding_norm",
            Workload::EnvelopeDataset => "envelope_dataset",
            Workload::EnvelopeFrames => "envelope_frames",
            Workload::RoiSeries => "roi_series",
            Workload::Reduce(Reduction::Mean) => "mean_t",
            Workload::Reduce(Reduction::Std) => "std_t",
            Workload::Reduce(Reduction::Min) => "min_t",
            Workload::Reduce(Reduction::Max) => "max_t",
            Workload::Reduce(Reduction::Median) => "median_t",
        }
    }

    /// The rumba graph, for an input of `dtype` with this geometry.
    ///
    /// # Panics
    /// If the graph does not validate (a bug in the benchmark).
    #[must_use]
    pub fn graph(&self, dtype: DType, geometry: &Geometry) -> Graph {
        let b = Builder::new();
        let x = b.input("x", dtype, [None, None, None, Some(1)]);
        let pos = geometry.pos as i64;
        let halfwidth = HALFWIDTH as i64;
        let graph = match *self {
            Workload::RangeNorm | Workload::SlidingNorm => {
                let sub = b.param("sub_amount", Some(AMOUNT));
                let div = b.param("div_amount", Some(AMOUNT));
                let step = |stat| match self {
                    Workload::RangeNorm => Step::range(RANGE, stat),
                    _ => Step::sliding(WINDOW as i64, LAG as i64, stat),
                };
                let out = x.pipeline(Some(step(Stat::Mean).amount(&sub)), Some(step(Stat::Mean).amount(&div)));
                b.build([("out", &out)])
            }
            Workload::EnvelopeDataset | Workload::EnvelopeFrames => {
                let over = if *self == Workload::EnvelopeDataset {
                    EnvelopeOver::Dataset
                } else {
                    EnvelopeOver::Frames
                };
                let (min, max) = x.envelope(Orientation::H, pos, halfwidth, over);
                b.build([("env.min", &min), ("env.max", &max)])
            }
            Workload::RoiSeries => {
                let (mean, min, max) = x.roi_series(&geometry.pentagon);
                b.build([("roi.mean", &mean), ("roi.min", &min), ("roi.max", &max)])
            }
            Workload::Reduce(r) => {
                let stat = match r {
                    Reduction::Mean => Stat::Mean,
                    Reduction::Std => Stat::Std,
                    Reduction::Min => Stat::Min,
                    Reduction::Max => Stat::Max,
                    Reduction::Median => Stat::Median,
                };
                b.build([("out", &x.reduce(stat, &[0]))])
            }
        };
        graph.unwrap_or_else(|e| panic!("{self:?}: {e}"))
    }

    /// Logical bytes of one run on a stack of `dtype` and `shape` (see the module header).
    #[must_use]
    pub fn logical_bytes(&self, dtype: DType, shape: &[usize]) -> u64 {
        let g = Geometry::new(shape);
        let es = dtype.size();
        let frame = g.h * g.w * g.c;
        let band = (g.band.1 - g.band.0) * g.w * g.c;
        let bytes = match *self {
            Workload::RangeNorm => g.t * frame * (es + 4),
            Workload::SlidingNorm => g.t * frame * es + g.t.saturating_sub(LAG + WINDOW) * frame * 4,
            Workload::EnvelopeDataset => g.t * band * es + 2 * g.w * es,
            Workload::EnvelopeFrames => g.t * band * es + 2 * g.t * es,
            Workload::RoiSeries => g.t * g.inside() * g.c * es + g.t * (4 + 2 * es),
            Workload::Reduce(Reduction::Min | Reduction::Max) => g.t * frame * es + frame * es,
            Workload::Reduce(_) => g.t * frame * es + frame * 4,
        };
        bytes as u64
    }
}

/// The (T, H, W, C) of a stack and what the workloads derive from it.
#[derive(Clone, Debug)]
pub struct Geometry {
    /// Frames.
    pub t: usize,
    /// Rows.
    pub h: usize,
    /// Columns.
    pub w: usize,
    /// Channels.
    pub c: usize,
    /// Envelope row: H/2 (256 for BLITZ's 512 rows).
    pub pos: usize,
    /// Envelope band of rows, `[lo, hi)`.
    pub band: (usize, usize),
    /// [`PENTAGON`] scaled by (W/512, H/512).
    pub pentagon: Vec<[f64; 2]>,
    /// The pixels inside the pentagon as row spans `(row, j0, j1)`, columns `[j0, j1)`.
    pub spans: Vec<(usize, usize, usize)>,
}

impl Geometry {
    /// The geometry of a (T, H, W, C) stack.
    ///
    /// # Panics
    /// If `shape` is not of rank 4.
    #[must_use]
    pub fn new(shape: &[usize]) -> Geometry {
        let &[t, h, w, c] = shape else {
            panic!("stacks are (T, H, W, C), found {shape:?}")
        };
        let pos = h / 2;
        let band = (pos.saturating_sub(HALFWIDTH), (pos + HALFWIDTH + 1).min(h));
        let (sx, sy) = (w as f64 / 512.0, h as f64 / 512.0);
        let pentagon: Vec<[f64; 2]> = PENTAGON.iter().map(|&[x, y]| [x * sx, y * sy]).collect();
        let spans = spans(&pentagon, h, w);
        Geometry {
            t,
            h,
            w,
            c,
            pos,
            band,
            pentagon,
            spans,
        }
    }

    /// Pixels (per channel) inside the pentagon.
    #[must_use]
    pub fn inside(&self) -> usize {
        self.spans.iter().map(|&(_, j0, j1)| j1 - j0).sum()
    }
}

/// The row spans of the pixels whose centres are inside `vertices` by the even-odd rule with
/// the half-open crossing test (DESIGN §2), written here independently of rumba.
fn spans(vertices: &[[f64; 2]], h: usize, w: usize) -> Vec<(usize, usize, usize)> {
    let inside = |px: f64, py: f64| {
        let mut odd = false;
        for (k, &[x0, y0]) in vertices.iter().enumerate() {
            let [x1, y1] = vertices[(k + 1) % vertices.len()];
            if (y0 > py) != (y1 > py) && px < x0 + (py - y0) * (x1 - x0) / (y1 - y0) {
                odd = !odd;
            }
        }
        odd
    };
    let mut out = Vec::new();
    for i in 0..h {
        let mut start = None;
        for j in 0..=w {
            let is_in = j < w && inside(j as f64 + 0.5, i as f64 + 0.5);
            match (start, is_in) {
                (None, true) => start = Some(j),
                (Some(j0), false) => {
                    out.push((i, j0, j));
                    start = None;
                }
                _ => {}
            }
        }
    }
    out
}
