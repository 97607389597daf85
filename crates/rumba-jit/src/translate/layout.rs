//! How a reduction kernel is laid out, decided at compile time: which fields each accumulator
//! keeps, where they live in scratch memory, how the lanes are cut into blocks, and which
//! phases have a vector form.
//!
//! Accumulators are structure-of-arrays: field `f` of reduction `r` for lane `q` is at
//! `base + offset[r][f] + q·size(f)`, each field a region of `lanes·8` bytes (rounded up to
//! 16), so a group of consecutive lanes is a few vectors. Fields:
//!
//! - `sum`/`mean`: the sum in f64 — or, for integer values, in i32 (u8/u16 whose total cannot
//!   reach 2³¹) or i64 (totals below 2⁵³): integer sums are exact in any order and every f64
//!   partial sum of them is exact too, so the f64 result is bit-identical; `weighted`: f64;
//! - `var`/`std` (the pinned moments of `rumba_ir::numerics`): for integer lanes that fit,
//!   the exact `Σx` and `Σx²` in i32 or i64 (each as narrow as its bound allows); otherwise
//!   the shift `a` (the lane's first value) and `Σ(x−a)`, `Σ(x−a)²` in f64;
//! - `min`/`max`: the best value in the value's own type, starting at the identity (+∞ for a
//!   float min, the dtype's maximum for an integer min, …): the update is the binary
//!   `min`/`max` (NaN-propagating; DESIGN §5 ignores which zero or NaN), so no "seen" or
//!   "NaN" flag;
//! - `median`/`percentile`: the count, plus `capacity` values per lane after the fields: f64
//!   values as they are, every other dtype as a 32-bit key in the value's total order (see
//!   `crate::select`), half the bytes and an integer selection; a median/percentile of at
//!   most `NETWORK_MAX_VALUES` u8/u16 values instead keeps them position-major at their
//!   native width for a selection network (`network.rs`).
//!
//! A count (i64) follows the fields only when points can be skipped (a mask, or `skip_nan` on
//! float values): otherwise every lane sees every reduced point, so the count is the static
//! `capacity` (the product of the reduced extents), the first point is reduced linear index 0
//! (where a shifted sum takes its shift), the same for every lane, and a collected value goes to the slot of its reduced
//! linear index.
//!
//! Lanes are processed in blocks along the outermost lane axis (or, when a whole row of lanes
//! would not fit — collected values —, along an inner one with the outer lane axes pinned to
//! one point per block), so the accumulators of a block stay in cache while the reduced axes
//! sweep: each lane still sees its points in the same
//! order, so results do not change. A block of a single lane (a reduction over every inner
//! axis) keeps its fields in registers while it sweeps (`reduce.rs`).

use super::network::Network;
use super::spans::span_mask;
use super::vector::{LANES, Phase, UNROLL};
use cranelift_codegen::ir::{Type, types};
use rumba_ir::DType;
use rumba_ir::numerics::Moments;
use rumba_ir::op::ReduceKind;
use rumba_plan::running::Algorithm;
use rumba_plan::{Accumulate, Affine, ExprId, Kernel};

/// Scratch bytes of accumulator state a block aims for (the L2 cache holds it comfortably).
const BLOCK_BYTES: i64 = 64 << 10;
/// The same for collected values (median/percentile): each lane's values are written once
/// and read once, so a block may fill half the L2 cache; long blocks read long runs of each
/// frame (measured: 512 KiB blocks run a median over T 1.2–1.3× faster than 64 KiB ones).
const COLLECT_BLOCK_BYTES: i64 = 512 << 10;
/// Reduced points per vector update when every accumulator is integer or f32 (measured best).
const JAM_CHEAP: usize = 8;
/// Vectors per group when an accumulator is f64 (each 4 lanes are two f64x2).
const UNROLL_F64: usize = 2;
/// Reduced points per vector update with f64 sums.
const JAM_F64: usize = 8;

/// How one accumulator field is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    F64,
    I64,
    F32,
    I32,
    U16,
    U8,
}

impl Field {
    pub fn size(self) -> i64 {
        match self {
            Field::F64 | Field::I64 => 8,
            Field::F32 | Field::I32 => 4,
            Field::U16 => 2,
            Field::U8 => 1,
        }
    }

    /// The scalar type of one element.
    pub fn ty(self) -> Type {
        match self {
            Field::F64 => types::F64,
            Field::I64 => types::I64,
            Field::F32 => types::F32,
            Field::I32 => types::I32,
            Field::U16 => types::I16,
            Field::U8 => types::I8,
        }
    }

    /// The field holding a min/max best value of dtype `d`.
    fn best(d: DType) -> Field {
        match d {
            DType::F32 => Field::F32,
            DType::F64 => Field::F64,
            DType::U16 => Field::U16,
            DType::U8 | DType::Bool => Field::U8,
            DType::I32 => Field::I32,
        }
    }
}

/// The accumulator of one reduction.
#[derive(Clone, Debug)]
pub(super) struct AccLayout {
    pub kind: Accumulate,
    /// The accumulated value's dtype.
    pub vd: DType,
    /// The running fields (the count, if any, comes after them).
    pub fields: Vec<Field>,
    /// Whether a count field is kept (points can be skipped).
    pub counted: bool,
    /// How var/std are computed (`rumba_ir::numerics`).
    pub moments: Moments,
    /// The algorithm of a running window's reduction (`rumba_plan::running`).
    pub algorithm: Option<Algorithm>,
    /// The selection network of a median/percentile of a few u8/u16 values (`network.rs`),
    /// whose values are then kept position-major at their native width.
    pub network: Option<Network>,
}

impl AccLayout {
    /// Whether the var/std sums are of `x − a`, `a` the lane's first value (the shift; a
    /// running window takes its own at each restart).
    pub fn shifted(&self) -> bool {
        matches!(self.kind, Accumulate::Stat(ReduceKind::Var | ReduceKind::Std))
            && self.moments != Moments::Integer
            && self.algorithm.is_none()
    }

    fn new(kernel: &Kernel, r: usize, capacity: i64) -> AccLayout {
        let red = &kernel.reductions[r];
        let vd = kernel.exprs[red.value.0 as usize].dtype;
        let algorithm = kernel.window_spec(r).map(|w| w.algorithm());
        let fields = match algorithm {
            // Running float windows (`running.rs`): the sums, then the NaN, +Inf and −Inf counts.
            Some(Algorithm::FloatSum) => vec![Field::F64, Field::I64, Field::I64, Field::I64],
            Some(Algorithm::Shifted) => vec![Field::F64, Field::F64, Field::F64, Field::I64, Field::I64, Field::I64],
            _ => Self::fields(kernel, r, vd, capacity),
        };
        // Without reduced points (never from a valid graph) the general form gives NaN.
        let counted =
            kernel.running.is_none() && (red.mask.is_some() || (red.skip_nan && vd.is_float()) || capacity == 0);
        AccLayout {
            network: Network::plan(&red.kind, vd, red.dtype, capacity, counted, algorithm.is_some()),
            counted,
            kind: red.kind.clone(),
            vd,
            fields,
            moments: kernel.moments(r),
            algorithm,
        }
    }

    /// The fields of reduction `r` over lanes of `capacity` values of `vd` (see the module
    /// docs; running float windows aside).
    fn fields(kernel: &Kernel, r: usize, vd: DType, capacity: i64) -> Vec<Field> {
        // The largest magnitude of a value: integer sums below 2^53 are the f64 sums exactly.
        let max = match vd {
            DType::U8 => i64::from(u8::MAX),
            DType::U16 => i64::from(u16::MAX),
            DType::I32 => 1 << 31,
            _ => i64::MAX,
        };
        let total = capacity.checked_mul(max);
        let exact_i32 = total.is_some_and(|m| m <= i64::from(i32::MAX));
        let exact_i64 = total.is_some_and(|m| m < 1 << 53);
        let kind = &kernel.reductions[r].kind;
        match kind {
            Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean) if exact_i32 => vec![Field::I32],
            Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean) if exact_i64 => vec![Field::I64],
            Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean) | Accumulate::Weighted { .. } => vec![Field::F64],
            Accumulate::Stat(ReduceKind::Var | ReduceKind::Std) => match kernel.moments(r) {
                Moments::Integer => {
                    // Σx ≤ capacity·max ≤ 2³¹ and Σx² ≤ capacity·max²; i32 where they fit.
                    let narrow = |bound: Option<i64>| {
                        if bound.is_some_and(|b| b <= i64::from(i32::MAX)) {
                            Field::I32
                        } else {
                            Field::I64
                        }
                    };
                    let squares = total.and_then(|t| t.checked_mul(max));
                    vec![narrow(total), narrow(squares)]
                }
                Moments::Shifted => vec![Field::F64, Field::F64, Field::F64],
            },
            Accumulate::Stat(ReduceKind::Min | ReduceKind::Max) => vec![Field::best(vd)],
            Accumulate::Stat(ReduceKind::Median | ReduceKind::Percentile(_)) => Vec::new(),
        }
    }

    /// Fields including the count.
    pub fn all_fields(&self) -> Vec<Field> {
        let mut f = self.fields.clone();
        if self.counted {
            f.push(Field::I64);
        }
        f
    }

    /// Bytes of one collected value (median/percentile): an f64, or a 32-bit key.
    pub fn value_size(&self) -> i64 {
        if self.vd == DType::F64 { 8 } else { 4 }
    }

    /// Bytes of one value kept position-major (a running min/max's suffix extremes, a
    /// network's values), if this accumulator keeps any.
    pub fn position_size(&self) -> Option<i64> {
        if self.algorithm == Some(Algorithm::Extreme) {
            Some(self.fields[0].size())
        } else if self.network.is_some() {
            Some(if self.vd == DType::U8 { 1 } else { 2 })
        } else {
            None
        }
    }

    /// Whether this is `max` (rather than `min`).
    pub fn is_max(&self) -> bool {
        self.kind == Accumulate::Stat(ReduceKind::Max)
    }

    /// The initial bits of field `f` (as a 64-bit pattern of the field's element).
    pub fn init(&self, f: usize) -> i64 {
        // A running window's shift starts unset.
        if f == 0 && self.algorithm == Some(Algorithm::Shifted) {
            return f64::NAN.to_bits() as i64;
        }
        if f >= self.fields.len() || !matches!(self.kind, Accumulate::Stat(ReduceKind::Min | ReduceKind::Max)) {
            return 0;
        }
        let max = self.is_max();
        match (self.fields[f], max) {
            (Field::F64, false) => f64::INFINITY.to_bits() as i64,
            (Field::F64, true) => f64::NEG_INFINITY.to_bits() as i64,
            (Field::F32, false) => i64::from(f32::INFINITY.to_bits()),
            (Field::F32, true) => i64::from(f32::NEG_INFINITY.to_bits()),
            (Field::I32, false) => i64::from(i32::MAX),
            (Field::I32, true) => i64::from(i32::MIN),
            (Field::U16, false) => i64::from(u16::MAX),
            (Field::U8, false) => i64::from(u8::MAX),
            _ => 0,
        }
    }
}

pub(super) fn is_collect(kind: &Accumulate) -> bool {
    matches!(kind, Accumulate::Stat(ReduceKind::Median | ReduceKind::Percentile(_)))
}

/// Where the accumulators of one block live, relative to the scratch base.
#[derive(Clone, Debug)]
pub(super) struct Layout {
    /// Lanes per block.
    pub lanes: i64,
    pub accs: Vec<AccLayout>,
    /// Byte offset of every field of every reduction.
    pub offsets: Vec<Vec<i64>>,
    /// Values per lane of a median/percentile (the product of the reduced extents).
    pub capacity: i64,
    /// Per reduction: byte offset of its collected values (lane `q`'s start at
    /// `offset + q·capacity·value_size`; 0 for reductions that collect nothing).
    pub values: Vec<i64>,
    /// Per reduction: byte offset of its position-major values (a running min/max's suffix
    /// extremes, a network's values; 0 for others).
    pub positions: Vec<i64>,
    /// Byte offset of the specials flag (an i64) of a running float window: nonzero once a
    /// NaN or ±Inf entered the window of any lane of the block since the last rebuild, so
    /// while it is 0 every NaN/±Inf count is 0 and the epilogue skips them (`running.rs`).
    pub specials: Option<i64>,
    /// Scratch bytes in all.
    pub bytes: i64,
}

impl Layout {
    fn new(accs: Vec<AccLayout>, lanes: i64, capacity: i64) -> Layout {
        let region = (lanes * 8 + 15) / 16 * 16;
        let mut at = 0;
        let offsets = accs
            .iter()
            .map(|a| {
                a.all_fields()
                    .iter()
                    .map(|_| {
                        at += region;
                        at - region
                    })
                    .collect()
            })
            .collect();
        let values = accs
            .iter()
            .map(|a| {
                if !is_collect(&a.kind) || a.network.is_some() {
                    return 0;
                }
                at += lanes * capacity * a.value_size();
                at - lanes * capacity * a.value_size()
            })
            .collect();
        // Position-major values (a running min/max's suffix extremes, a network's values):
        // position `p` of the block's lanes at `positions + p·row`, `row` = lanes·size rounded
        // to 16 bytes.
        let positions = accs
            .iter()
            .map(|a| {
                let Some(size) = a.position_size() else { return 0 };
                let row = (lanes * size + 15) / 16 * 16;
                at += capacity * row;
                at - capacity * row
            })
            .collect();
        let specials = accs
            .iter()
            .any(|a| matches!(a.algorithm, Some(Algorithm::FloatSum | Algorithm::Shifted)))
            .then(|| {
                at += 16;
                at - 16
            });
        Layout {
            lanes,
            offsets,
            capacity,
            values,
            positions,
            specials,
            bytes: at,
            accs,
        }
    }

    /// Bytes between two positions of reduction `r`'s position-major values.
    pub fn position_row(&self, r: usize) -> i64 {
        debug_assert!(
            self.accs[r].position_size().is_some(),
            "r{r} keeps no position-major values"
        );
        (self.lanes * self.accs[r].position_size().unwrap_or(0) + 15) / 16 * 16
    }
}

/// The compile-time shape of a reduction kernel.
#[derive(Clone, Debug)]
pub(super) struct ReducePlan {
    /// Parallel axes before the first reduced one (a fresh set of accumulators per point).
    pub outer: Vec<usize>,
    /// The remaining axes, in domain order.
    pub inner: Vec<usize>,
    /// The parallel axes among `inner` (one accumulator per combination: a lane).
    pub lane_axes: Vec<usize>,
    /// Per domain axis: its stride in the lane index within a block (0 for other axes).
    pub lane_stride: Vec<i64>,
    /// Per domain axis: its stride in the reduced linear index (0 for parallel axes).
    pub reduced_stride: Vec<i64>,
    /// Lanes are processed in blocks of this many iterations of this axis.
    pub block: Option<(usize, i64)>,
    /// Lane axes outside the block axis, one point per block (when a whole row of lanes
    /// would not fit the block's bytes, as for collected values).
    pub pinned: Vec<usize>,
    pub layout: Layout,
    /// The vector form of the updates along the innermost axis.
    pub update: Option<Phase>,
    /// The vector form of the epilogue along the innermost axis.
    pub epilogue: Option<Phase>,
    /// Unroll-and-jam of the last reduced axis into the vector update: (axis, factor).
    pub jam: Option<(usize, usize)>,
    /// The vector form of the updates along a reduced innermost axis (see `horizontal.rs`;
    /// with `span_mask`, inside its spans).
    pub horizontal: Option<Phase>,
    /// The vector form of a reduced innermost axis too short for `horizontal`'s groups (a
    /// band of a few columns): one padded group per row (see `horizontal.rs`).
    pub short: Option<Phase>,
    /// The polygon test masking every reduction, when the innermost loop can run over its
    /// spans only (see `spans.rs`).
    pub span_mask: Option<(ExprId, usize, Affine, Affine)>,
}

impl ReducePlan {
    pub fn new(kernel: &Kernel) -> Option<ReducePlan> {
        let rank = kernel.domain.len();
        let first = kernel.first_reduced()?;
        let outer: Vec<usize> = (0..first).collect();
        let inner: Vec<usize> = (first..rank).collect();
        let lane_axes: Vec<usize> = inner.iter().copied().filter(|&a| !kernel.domain[a].reduced).collect();
        let extent = |a: usize| {
            let e = kernel.domain[a].extent as i64;
            match kernel.schedule.tile_axis {
                Some(t) if t == a => e.min(kernel.schedule.tile_len.max(1) as i64),
                _ => e,
            }
            .max(1)
        };
        let capacity: i64 = kernel
            .domain
            .iter()
            .filter(|a| a.reduced)
            .map(|a| a.extent as i64)
            .product();
        let mut reduced_stride = vec![0i64; rank];
        let mut n = 1;
        for a in (0..rank).rev().filter(|&a| kernel.domain[a].reduced) {
            reduced_stride[a] = n;
            n *= kernel.domain[a].extent as i64;
        }
        let accs: Vec<AccLayout> = (0..kernel.reductions.len())
            .map(|r| AccLayout::new(kernel, r, capacity))
            .collect();
        let per_lane: i64 = accs
            .iter()
            .map(|a| {
                8 * a.all_fields().len() as i64
                    + match a.position_size() {
                        Some(size) => size * capacity,
                        None if is_collect(&a.kind) => a.value_size() * capacity,
                        None => 0,
                    }
            })
            .sum::<i64>()
            .max(1);
        let block_bytes = if accs.iter().any(|a| is_collect(&a.kind)) {
            COLLECT_BLOCK_BYTES
        } else {
            BLOCK_BYTES
        };
        // The block axis: the outermost lane axis whose inner lanes fit the block bytes (or the
        // innermost); lane axes outside it are pinned, one point per block.
        let (mut block, mut pinned) = (None, Vec::new());
        for (j, &a) in lane_axes.iter().enumerate() {
            let slice: i64 = lane_axes[j + 1..].iter().map(|&b| extent(b)).product();
            let fit = block_bytes / (per_lane * slice);
            let innermost = j + 1 == lane_axes.len();
            if fit == 0 && !innermost {
                continue;
            }
            let mut len = fit.clamp(1, extent(a));
            if innermost && j > 0 && len >= 16 {
                // Whole vectors of a row.
                len -= len % 16;
            }
            block = (len < extent(a)).then_some((a, len));
            pinned = lane_axes[..j].to_vec();
            break;
        }
        let block_extent = |a: usize| match block {
            Some((b, len)) if b == a => len,
            _ if pinned.contains(&a) => 1,
            _ => extent(a),
        };
        let mut lane_stride = vec![0i64; rank];
        let mut block_lanes = 1i64;
        for &a in lane_axes.iter().rev() {
            lane_stride[a] = block_lanes;
            block_lanes *= block_extent(a);
        }
        let layout = Layout::new(accs, block_lanes, capacity);
        let update = update_phase(kernel, &layout, rank - 1);
        let epilogue = epilogue_phase(kernel, &layout, rank - 1);
        // A running window updates one window position at a time (`running.rs`).
        let span_mask = span_mask(kernel).filter(|_| kernel.running.is_none());
        let horizontal =
            horizontal_phase(kernel, &layout, rank - 1, span_mask.is_some()).filter(|_| kernel.running.is_none());
        let short = match (&horizontal, &span_mask, &kernel.running) {
            (None, None, None) => short_phase(kernel, &layout, rank - 1),
            _ => None,
        };
        let jam = update.as_ref().and_then(|_| {
            let last = *inner.iter().rev().find(|&&a| kernel.domain[a].reduced)?;
            let after_are_lanes = inner
                .iter()
                .skip_while(|&&a| a != last)
                .skip(1)
                .all(|&a| !kernel.domain[a].reduced);
            // Integer and f32 accumulators are cheap to update: amortise their loads and
            // stores over more points; f64 ones (two vectors per four lanes) keep registers.
            let cheap = layout.accs.iter().all(|a| !a.fields.contains(&Field::F64));
            let factor = match cheap {
                // A short reduced axis (a window) is jammed whole.
                true if kernel.domain[last].extent <= 2 * JAM_CHEAP => kernel.domain[last].extent,
                true => JAM_CHEAP,
                false => JAM_F64,
            };
            (after_are_lanes && factor > 1 && kernel.domain[last].extent >= 2)
                .then_some((last, factor.min(kernel.domain[last].extent)))
        });
        Some(ReducePlan {
            outer,
            inner,
            lane_axes,
            lane_stride,
            reduced_stride,
            block,
            pinned,
            layout,
            update,
            epilogue,
            jam,
            horizontal,
            short,
            span_mask,
        })
    }
}

/// The vector form of the updates: every accumulator is updatable lane-wise without a count
/// (no mask, no NaN skipping; a collected value goes to the slot of its reduced index) from a
/// 32-bit value, with an invariant weight.
fn update_phase(kernel: &Kernel, layout: &Layout, axis: usize) -> Option<Phase> {
    if kernel.domain[axis].reduced {
        return None;
    }
    let mut roots = Vec::new();
    let mut weights = Vec::new();
    for (red, acc) in kernel.reductions.iter().zip(&layout.accs) {
        if acc.counted || matches!(acc.vd, DType::F64 | DType::Bool) {
            return None;
        }
        roots.push(red.value);
        if let Accumulate::Weighted { weight } = red.kind {
            weights.push(weight);
        }
    }
    let unroll = if layout.accs.iter().any(|a| a.fields.contains(&Field::F64)) {
        UNROLL_F64
    } else {
        UNROLL
    };
    let mut phase = Phase::plan(kernel, &roots, &weights, (axis, unroll), &|_| false)?;
    phase.stores = false;
    Some(phase)
}

/// The vector form of the epilogue: the stored expressions along the innermost axis, with
/// accumulators whose finished value is a 32-bit lane (min/max; mean, var, std and weighted
/// rounded to f32).
fn epilogue_phase(kernel: &Kernel, layout: &Layout, axis: usize) -> Option<Phase> {
    if kernel.domain[axis].reduced {
        return None;
    }
    let roots: Vec<ExprId> = kernel.stores.iter().map(|s| s.value).collect();
    let acc_ok = |r: u32| {
        let (red, acc) = (&kernel.reductions[r as usize], &layout.accs[r as usize]);
        !acc.counted
            && match acc.kind {
                Accumulate::Stat(ReduceKind::Min | ReduceKind::Max) => acc.vd != DType::F64 && red.dtype != DType::F64,
                Accumulate::Stat(ReduceKind::Var | ReduceKind::Std) if acc.moments == Moments::Integer => {
                    red.dtype == DType::F32 && super::vector_reduce::vector_integer_moments(acc.vd, layout.capacity)
                }
                Accumulate::Stat(ReduceKind::Mean | ReduceKind::Var | ReduceKind::Std)
                | Accumulate::Weighted { .. } => red.dtype == DType::F32,
                Accumulate::Stat(ReduceKind::Median | ReduceKind::Percentile(_)) => acc.network.is_some(),
                _ => false,
            }
    };
    Phase::plan(kernel, &roots, &[], (axis, UNROLL), &acc_ok)
}

/// Whether every accumulator of a horizontal reduction is exact in any order (integer
/// min/max, integer sums; f32 min/max up to the sign of zero and NaN payloads, DESIGN §5), so
/// a group's lanes can accumulate apart and be merged at the end of the row (`masked`: inside
/// the spans of the polygon mask every reduction shares).
fn horizontal_exact(kernel: &Kernel, layout: &Layout, masked: bool) -> bool {
    // Counts are only kept for the polygon mask (whose spans the loop runs over) and NaN
    // skipping, which the vector loop does not do.
    let exact = |(red, acc): (&rumba_plan::Reduction, &AccLayout)| {
        (!acc.counted || masked)
            && !(red.skip_nan && acc.vd.is_float())
            && match (&acc.kind, acc.fields.first()) {
                (Accumulate::Stat(ReduceKind::Min | ReduceKind::Max), Some(f)) => {
                    matches!(f, Field::U8 | Field::U16 | Field::I32)
                        || (*f == Field::F32 && acc.vd == DType::F32 && red.dtype == DType::F32)
                }
                (Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean), Some(Field::I32 | Field::I64)) => {
                    !acc.vd.is_float()
                }
                _ => false,
            }
    };
    kernel.reductions.iter().zip(&layout.accs).all(exact)
}

/// The vector form of a horizontal reduction (along a reduced innermost axis) whose
/// accumulators are [`horizontal_exact`].
fn horizontal_phase(kernel: &Kernel, layout: &Layout, axis: usize, masked: bool) -> Option<Phase> {
    if !kernel.domain[axis].reduced || !horizontal_exact(kernel, layout, masked) {
        return None;
    }
    let roots: Vec<ExprId> = kernel.reductions.iter().map(|r| r.value).collect();
    let mut phase = Phase::plan(kernel, &roots, &[], (axis, UNROLL), &|_| false)?;
    phase.stores = false;
    Some(phase)
}

/// The vector form of a reduced innermost axis of 2 to 15 points (a band of columns), too
/// short for [`horizontal_phase`]: the smallest group that covers the run and fills whole
/// vectors of every accumulator (16 points for a u8 min/max, 8 or 16 for u16, else 4, 8 or
/// 16). Its lanes past the run read neighbouring elements and are dropped before the merge;
/// the translator places the group so that every lane reads inside its buffer, or keeps the
/// scalar loop.
fn short_phase(kernel: &Kernel, layout: &Layout, axis: usize) -> Option<Phase> {
    let n = kernel.domain[axis].extent;
    if !kernel.domain[axis].reduced || !(2..LANES as usize * UNROLL).contains(&n) {
        return None;
    }
    if !horizontal_exact(kernel, layout, false) {
        return None;
    }
    let firsts = || layout.accs.iter().filter_map(|a| a.fields.first());
    // Group loads come in 4, 8 and 16 bytes of u8 (`load_lanes`): 1, 2 or 4 vectors.
    let mut unroll = n.div_ceil(LANES as usize).next_power_of_two();
    if firsts().any(|f| *f == Field::U8) {
        unroll = UNROLL;
    } else if firsts().any(|f| *f == Field::U16) {
        unroll = unroll.max(2);
    }
    let roots: Vec<ExprId> = kernel.reductions.iter().map(|r| r.value).collect();
    let mut phase = Phase::plan_any_length(kernel, &roots, &[], (axis, unroll), &|_| false, &[])?;
    phase.stores = false;
    Some(phase)
}
