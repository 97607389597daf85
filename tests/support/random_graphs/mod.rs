//! Random graphs for `tests/proptest_graphs.rs`: a small recursive plan ([`Expr`]) that proptest
//! generates and shrinks ([`strategy`]), and its resolution into DSL calls ([`build`]).
//!
//! A plan is deliberately loose — axes, extents and bounds are raw numbers — and [`build`]
//! resolves each node against the dtype and concrete shape it meets (the axis modulo the rank,
//! a slice bound within the extent, `neg` only on signed dtypes, a `bool` operand cast to `u8`
//! before arithmetic, a second operand sliced or reduced until it broadcasts). So almost every
//! plan is a valid graph, and shrinking (which removes nodes and simplifies numbers) keeps it
//! valid. A few plan nodes are `wild`: they skip that care on purpose (`neg` of an unsigned
//! dtype, percentile q = 150, a reduction over an empty axis, a polygon with no pixel inside)
//! so that rejections are exercised too; a slice_at start param may be given an invalid value
//! at run time.
//!
//! Graphs are DAGs: [`Expr::Reuse`] consumes a tensor built earlier, reductions and windows
//! may come with a sibling statistic (one shared pass), helpers add outputs (envelope max, ROI
//! min and max), and a subexpression a fallback leaves unused stays in the graph as a dead node.
//!
//! Inputs: 1–2 of u8, u16, i32, f32 or f64, rank 1–4 with extents from {1, 2, 3, 5, 7, 15, 17}
//! (at most [`MAX_POINTS`] elements), the second often broadcasting against the first; values
//! from a small pool holding each dtype's edge values (NaN, ±Inf, −0.0, denormals, extremes),
//! passed as non-contiguous views (see [`inputs`]).

pub mod build;
mod inputs;
pub mod strategy;

use rumba::DType;
use rumba::dsl::Stat;

/// Most elements of an input.
pub const MAX_POINTS: usize = 2000;
/// Most elements of a broadcast result the generator makes.
pub const MAX_BROADCAST: usize = 4096;

/// One test case: inputs and the expressions of its outputs.
#[derive(Clone, Debug)]
pub struct CasePlan {
    /// The graph inputs (`x0`, `x1`).
    pub inputs: Vec<InputPlan>,
    /// One expression per requested output (helpers may add more outputs).
    pub outputs: Vec<Expr>,
}

/// A graph input: its dtype, shape, declaration, memory layout and values.
#[derive(Clone, Debug)]
pub struct InputPlan {
    /// Element type (never bool).
    pub dtype: DType,
    /// Concrete extents.
    pub shape: Vec<usize>,
    /// Which dims are declared free (`None`) rather than fixed.
    pub free: Vec<bool>,
    /// How the view passed in is laid out in memory.
    pub layout: Layout,
    /// The values the elements are drawn from (already in the dtype's range).
    pub pool: Vec<f64>,
    /// Which pool value each element gets.
    pub seed: u32,
}

/// A non-contiguous view: applied to the storage in this order (each optional).
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// The storage has an extra trailing axis of 2 and the view takes index 1 of it.
    pub extra: bool,
    /// The view permutes the storage's axes (a Lehmer code).
    pub permute: Option<u32>,
    /// The view takes every other element along this axis (from index 1).
    pub stride: Option<u8>,
    /// The view reverses this axis.
    pub reverse: Option<u8>,
}

/// A scalar operand: a weak constant, or a param with a default and maybe another run-time value.
#[derive(Clone, Debug)]
pub enum Scalar {
    /// `b.constant(v)` (or an `f64` operand).
    Const(f64),
    /// `b.param(name, Some(default))`, run with `run` when given.
    Param {
        /// The param's default.
        default: f64,
        /// A different value supplied at run time.
        run: Option<f64>,
    },
}

/// The second operand of a binary op or select.
#[derive(Clone, Debug)]
pub enum Operand {
    /// A scalar.
    Scalar(Scalar),
    /// An array expression, made to broadcast against the first operand.
    Expr(Box<Expr>),
}

/// A node of the expression plan. Raw numbers are resolved against the operand (module docs).
#[derive(Clone, Debug)]
pub enum Expr {
    /// Graph input number `i % inputs`.
    Input(u8),
    /// A tensor built earlier in the case (number `k % built`; an input if none), so graphs
    /// are DAGs whose intermediates have several consumers.
    Reuse(u8),
    /// `neg abs sqrt exp log is_nan` (op picked among those valid for the dtype).
    Unary { op: u8, wild: bool, x: Box<Expr> },
    /// `add sub mul div min max`, optionally with the operands swapped.
    Binary {
        op: u8,
        swap: bool,
        x: Box<Expr>,
        rhs: Operand,
    },
    /// `select(cond, x, other)` with `cond` a comparison of `x` with `rhs`, or `is_nan(x)`.
    Select {
        cmp: u8,
        x: Box<Expr>,
        rhs: Operand,
        other: Operand,
    },
    /// `nan_to_num(x, nan, posinf, neginf)`.
    NanToNum { values: [Option<f64>; 3], x: Box<Expr> },
    /// `cast(x, DType::ALL[to % 6])`.
    Cast { to: u8, x: Box<Expr> },
    /// A movement op.
    Move { m: Movement, x: Box<Expr> },
    /// A reduction.
    Reduce { r: ReducePlan, x: Box<Expr> },
    /// A window.
    Window { w: WindowPlan, x: Box<Expr> },
    /// A polygon mask on a rank-4 operand.
    Polygon { p: PolygonPlan, x: Box<Expr> },
    /// An image-stack helper on a rank-4 operand (or input).
    Helper { h: HelperPlan, x: Box<Expr> },
}

/// Movement ops.
#[derive(Clone, Debug)]
pub enum Movement {
    /// `slice(axis, start, stop, step)`, bounds resolved into `[-(n+1), n+1]`.
    Slice {
        axis: u8,
        start: Option<u8>,
        stop: Option<u8>,
        step: i8,
    },
    /// `slice_at(axis, param, len, step)` with a start param that fits.
    SliceAt {
        axis: u8,
        len: u8,
        step: u8,
        start: u8,
        from_end: bool,
        run: RunStart,
    },
    /// `permute` (a Lehmer code).
    Permute(u32),
    /// `squeeze` of some size-1 axes (after an `expand` when there is none).
    Squeeze(u8),
    /// `expand(axis)`.
    Expand(u8),
    /// `broadcast_to` a shape where size-1 dims (and maybe a new leading one) grow.
    BroadcastTo(u32),
}

/// The run-time value of a slice_at start param.
#[derive(Clone, Copy, Debug)]
pub enum RunStart {
    /// The default.
    Default,
    /// Another valid start.
    Other(u8),
    /// An invalid one (not an integer, or out of range): a run-time error on every path.
    Invalid(u8),
}

/// A reduction's options.
#[derive(Clone, Debug)]
pub struct ReducePlan {
    pub stat: Stat,
    /// Percentile q = 150, or reducing an empty axis.
    pub wild: bool,
    /// Bit set of reduced axes.
    pub axes: u8,
    pub keepdims: bool,
    pub skip_nan: bool,
    pub mask: Option<MaskPlan>,
    /// A second statistic with the same options, subtracted (sibling reductions share a pass).
    pub sibling: Option<Stat>,
}

/// The `where` mask of a reduction.
#[derive(Clone, Debug)]
pub enum MaskPlan {
    /// `x cmp value`.
    Compare { cmp: u8, value: f64 },
    /// `x == x` (not NaN).
    NotNan,
    /// An input that broadcasts to `x`, compared with `value` (else like `Compare`).
    Input { cmp: u8, value: f64 },
    /// `x.polygon_mask_like(vertices)` when `x` has rank 4 (else like `NotNan`).
    Polygon(Vec<(u8, u8)>),
}

/// A window's options.
#[derive(Clone, Debug)]
pub struct WindowPlan {
    pub kind: WindowKindPlan,
    pub axis: u8,
    /// Size resolved into `1..=n+2` (so sometimes longer than the axis: empty output).
    pub size: u8,
    pub skip_nan: bool,
    /// A second statistic over the same windows, subtracted (not with weights).
    pub sibling: Option<Stat>,
}

/// A window statistic or weights.
#[derive(Clone, Debug)]
pub enum WindowKindPlan {
    Stat(Stat),
    Weighted(Vec<f64>),
}

/// A polygon on a (T, H, W, C) operand: vertices in half pixels, resolved into the image ± 1.
#[derive(Clone, Debug)]
pub struct PolygonPlan {
    pub vertices: Vec<(u8, u8)>,
    pub apply: PolygonApply,
}

/// How the polygon is used.
#[derive(Clone, Debug)]
pub enum PolygonApply {
    /// `mask.select(x, other)`.
    Select(Operand),
    /// The `apply_polygon(x, vertices, fill)` helper.
    Helper(f64),
}

/// An image-stack helper on a (T, H, W, C) operand.
#[derive(Clone, Debug)]
pub enum HelperPlan {
    /// `range_reference([b0, b0 + len], stat)`.
    Range { b0: u8, len: u8, stat: Stat },
    /// `sliding_reference(window, lag, stat)`.
    Sliding { window: u8, lag: u8, stat: Stat },
    /// `pipeline(subtract, divide)`.
    Pipeline {
        subtract: Option<StepPlan>,
        divide: Option<StepPlan>,
    },
    /// `envelope(orientation, pos, halfwidth, over)`: min, and max as an extra output.
    Envelope {
        vertical: bool,
        pos: u8,
        halfwidth: u8,
        frames: bool,
    },
    /// `roi_series(vertices)`: mean, and min and max as extra outputs.
    Roi { vertices: Vec<(u8, u8)>, wild: bool },
}

/// A pipeline step.
#[derive(Clone, Debug)]
pub struct StepPlan {
    pub source: StepSource,
    pub stat: Stat,
    pub skip_nan: bool,
    pub amount: Scalar,
}

/// Where a step's reference comes from.
#[derive(Clone, Debug)]
pub enum StepSource {
    Range {
        b0: u8,
        len: u8,
    },
    Sliding {
        window: u8,
        lag: u8,
    },
    /// A (1, H, W, C) reference: the second input when it has that shape, else a reduction.
    File,
}
