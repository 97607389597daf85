//! The closed set of primitive operations of the validated IR (DESIGN §2).
//!
//! After validation every operand of a binary op or `select` has the node's compute dtype
//! (validation inserts explicit [`Op::Cast`] nodes), so backends never promote. Image-stack
//! helpers (`pipeline`, `envelope`, …) exist only in [`crate::def`]; they expand into these.

use crate::dtype::DType;
use crate::graph::NodeId;
use std::fmt;
use std::hash::{Hash, Hasher};

/// An `f64` that compares and hashes by its bits, so ops can derive `Eq + Hash` (for CSE).
#[derive(Clone, Copy, Debug)]
pub struct F64(pub f64);

impl PartialEq for F64 {
    fn eq(&self, other: &F64) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}
impl Eq for F64 {}
impl Hash for F64 {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}
impl fmt::Display for F64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Elementwise functions of one operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x`; wraps on `i32::MIN`; a validation error on unsigned and bool.
    Neg,
    /// `|x|`; the identity on unsigned; wraps on `i32::MIN`.
    Abs,
    /// Square root in the arithmetic dtype (u8/u16 → f32, i32 → f64).
    Sqrt,
    /// `e^x` in the arithmetic dtype.
    Exp,
    /// Natural logarithm in the arithmetic dtype.
    Log,
    /// `x != x` → bool; always false for integers.
    IsNan,
}

/// Elementwise functions of two operands of the same dtype (validation casts them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `a + b` (float operands only after validation).
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b` (IEEE: x/0 is ±Inf or NaN).
    Div,
    /// Smaller of the two; NaN if either is NaN.
    Min,
    /// Larger of the two; NaN if either is NaN.
    Max,
    /// `a < b` → bool.
    Lt,
    /// `a <= b` → bool.
    Le,
    /// `a > b` → bool.
    Gt,
    /// `a >= b` → bool.
    Ge,
    /// `a == b` → bool (`-0.0 == 0.0`, NaN never equal).
    Eq,
    /// `a != b` → bool.
    Ne,
}

impl UnaryOp {
    /// The name used in graph files and by the DSL method (`neg`, `is_nan`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "neg",
            UnaryOp::Abs => "abs",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Exp => "exp",
            UnaryOp::Log => "log",
            UnaryOp::IsNan => "is_nan",
        }
    }
}

impl BinaryOp {
    /// The name used in graph files and by the DSL method (`add`, `lt`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Min => "min",
            BinaryOp::Max => "max",
            BinaryOp::Lt => "lt",
            BinaryOp::Le => "le",
            BinaryOp::Gt => "gt",
            BinaryOp::Ge => "ge",
            BinaryOp::Eq => "eq",
            BinaryOp::Ne => "ne",
        }
    }

    /// Comparisons produce bool.
    #[must_use]
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::Eq | BinaryOp::Ne
        )
    }

    /// `add sub mul div`: computed in the arithmetic (float) dtype.
    #[must_use]
    pub fn is_arithmetic(self) -> bool {
        matches!(self, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div)
    }
}

/// Statistics shared by `reduce` and `window` (DESIGN §2 "Numerics").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceKind {
    /// Sequential f64 sum in increasing index order → f64.
    Sum,
    /// Sum / count in f64 → arithmetic dtype.
    Mean,
    /// Smallest value, NaN-propagating → input dtype.
    Min,
    /// Largest value, NaN-propagating → input dtype.
    Max,
    /// Population variance (ddof 0) by Welford's update in index order → arithmetic dtype.
    Var,
    /// Square root of `Var` → arithmetic dtype.
    Std,
    /// Middle value; mean of the two middle values for an even count (f64) → arithmetic dtype.
    Median,
    /// NumPy's linear percentile, `q` in [0, 100] → arithmetic dtype.
    Percentile(F64),
}

impl ReduceKind {
    /// The name used in graph files (`percentile` without its q).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ReduceKind::Sum => "sum",
            ReduceKind::Mean => "mean",
            ReduceKind::Min => "min",
            ReduceKind::Max => "max",
            ReduceKind::Var => "var",
            ReduceKind::Std => "std",
            ReduceKind::Median => "median",
            ReduceKind::Percentile(_) => "percentile",
        }
    }

    /// Result dtype for input `x` (the statistic rule): min/max keep it, sum → f64, the others
    /// → the arithmetic dtype. `None` for bool input.
    #[must_use]
    pub fn out_dtype(self, x: DType) -> Option<DType> {
        match self {
            ReduceKind::Min | ReduceKind::Max => (x != DType::Bool).then_some(x),
            ReduceKind::Sum => (x != DType::Bool).then_some(DType::F64),
            _ => x.arith(),
        }
    }
}

impl fmt::Display for ReduceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReduceKind::Percentile(q) => write!(f, "percentile({q})"),
            k => f.write_str(k.name()),
        }
    }
}

/// What a window computes over each run of `size` elements.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WindowKind {
    /// One of the reduce statistics per window.
    Reduce(ReduceKind),
    /// `Σ w[j]·x[k+j]`, accumulated in f64 with j ascending → arithmetic dtype.
    Weighted(Vec<F64>),
}

impl WindowKind {
    /// Result dtype for input `x` (weighted → arithmetic dtype).
    #[must_use]
    pub fn out_dtype(&self, x: DType) -> Option<DType> {
        match self {
            WindowKind::Reduce(k) => k.out_dtype(x),
            WindowKind::Weighted(_) => x.arith(),
        }
    }
}

impl fmt::Display for WindowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WindowKind::Reduce(k) => k.fmt(f),
            WindowKind::Weighted(w) => write!(f, "weighted[{}]", w.len()),
        }
    }
}

/// An extent a polygon mask takes: fixed, or the extent of another node's axis (bound later).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extent {
    /// Known at validation.
    Fixed(usize),
    /// The extent of `axis` of `node`, known when bound.
    Of {
        /// The node whose extent is taken.
        node: NodeId,
        /// Its axis.
        axis: usize,
    },
}

/// A primitive operation. Operand ids always point to earlier nodes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A graph input named `name`; its declared dtype and shape are the node's.
    Input {
        /// Name used to supply the array at run time.
        name: String,
    },
    /// A scalar constant (rank 0, f64, *weak*: it never widens an array operand).
    Const {
        /// The value.
        value: F64,
    },
    /// A named run-time f64 scalar (rank 0, weak); changing it never recompiles.
    Param {
        /// Name used to supply the value at run time.
        name: String,
        /// Value used when none is supplied; without one a missing param is an error.
        default: Option<F64>,
    },
    /// Elementwise function of one operand; dtype: `IsNan` → bool, `Neg`/`Abs` keep the
    /// operand's, math functions → its arithmetic dtype (validation casts the operand first).
    Unary {
        /// Which function.
        op: UnaryOp,
        /// Operand.
        x: NodeId,
    },
    /// Elementwise function of two same-dtype operands, broadcast NumPy-style; comparisons →
    /// bool, the others keep the operand dtype.
    Binary {
        /// Which function.
        op: BinaryOp,
        /// Left operand.
        a: NodeId,
        /// Right operand.
        b: NodeId,
    },
    /// `cond ? a : b` elementwise with broadcasting; `cond` is bool, `a` and `b` share a dtype.
    Select {
        /// Bool condition.
        cond: NodeId,
        /// Taken where `cond` is true.
        a: NodeId,
        /// Taken where `cond` is false.
        b: NodeId,
    },
    /// Replaces NaN, +Inf and −Inf by the given values (rounded to the float dtype); the
    /// identity on integers.
    NanToNum {
        /// Operand.
        x: NodeId,
        /// Replacement for NaN.
        nan: F64,
        /// Replacement for +Inf.
        posinf: F64,
        /// Replacement for −Inf.
        neginf: F64,
    },
    /// Explicit conversion: float→int truncates toward zero and saturates, NaN → 0; to bool
    /// is `x != 0`; float narrowing rounds to nearest.
    Cast {
        /// Operand.
        x: NodeId,
        /// Target dtype.
        to: DType,
    },
    /// NumPy basic slicing `x[start:stop:step]` along `axis` (negative indices count from the
    /// end, out-of-range bounds clip, negative steps allowed, step 0 is rejected).
    Slice {
        /// Operand.
        x: NodeId,
        /// Sliced axis.
        axis: usize,
        /// First index (`None`: the start for the step's direction).
        start: Option<i64>,
        /// One past the last index (`None`: the end for the step's direction).
        stop: Option<i64>,
        /// Stride, non-zero.
        step: i64,
    },
    /// `len` elements along `axis` from a run-time start `start` (a param, so scrolling never
    /// recompiles), every `step` (> 0). The param must be an integer (negative counts from the
    /// end) and the whole run must fit, else a run-time error naming this node.
    SliceAt {
        /// Operand.
        x: NodeId,
        /// Sliced axis.
        axis: usize,
        /// The param node giving the start index.
        start: NodeId,
        /// Number of elements taken.
        len: usize,
        /// Stride, > 0.
        step: i64,
    },
    /// Reorders the axes: output axis i is input axis `axes[i]`.
    Permute {
        /// Operand.
        x: NodeId,
        /// A permutation of `0..rank`.
        axes: Vec<usize>,
    },
    /// Removes the listed axes, each of extent 1 (ascending, no repeats).
    Squeeze {
        /// Operand.
        x: NodeId,
        /// Axes to remove.
        axes: Vec<usize>,
    },
    /// Inserts an axis of extent 1 at `axis` (0..=rank).
    Expand {
        /// Operand.
        x: NodeId,
        /// Position of the new axis in the output.
        axis: usize,
    },
    /// Broadcasts `x` to a fixed shape (NumPy `broadcast_to`).
    BroadcastTo {
        /// Operand.
        x: NodeId,
        /// Target extents.
        shape: Vec<usize>,
    },
    /// A statistic over `axes` (ascending, no repeats). Dtype by [`ReduceKind::out_dtype`].
    /// `skip_nan` ignores NaN (all-NaN lanes → NaN for every kind); `mask` (bool, broadcast to
    /// `x`) excludes elements where false. An empty extent is an error naming the node.
    Reduce {
        /// Operand.
        x: NodeId,
        /// The statistic.
        kind: ReduceKind,
        /// Reduced axes.
        axes: Vec<usize>,
        /// Keep reduced axes with extent 1.
        keepdims: bool,
        /// Ignore NaN values.
        skip_nan: bool,
        /// Optional bool mask broadcastable to `x`.
        mask: Option<NodeId>,
    },
    /// Sliding statistic along `axis`: `out[k] = kind(x[k .. k+size])` for k = 0 … n−size, so
    /// the axis has `max(n − size + 1, 0)` outputs. Dtype by [`WindowKind::out_dtype`].
    Window {
        /// Operand.
        x: NodeId,
        /// The statistic.
        kind: WindowKind,
        /// Axis the window slides along.
        axis: usize,
        /// Window length, ≥ 1.
        size: usize,
        /// Ignore NaN values.
        skip_nan: bool,
    },
    /// Bool `(1, H, W, 1)`: pixel (i, j) is inside iff its centre (j+½, i+½) is inside the
    /// polygon by the even-odd rule with the half-open crossing test ([`crate::polygon`]).
    PolygonMask {
        /// Vertices `[x, y]` (x along W, y along H), at least 3, finite; closes itself.
        vertices: Vec<[F64; 2]>,
        /// H.
        height: Extent,
        /// W.
        width: Extent,
    },
}

impl Op {
    /// The operands (graph edges) of this op, in a fixed order.
    #[must_use]
    pub fn operands(&self) -> Vec<NodeId> {
        match self {
            Op::Input { .. } | Op::Const { .. } | Op::Param { .. } => Vec::new(),
            Op::Unary { x, .. }
            | Op::NanToNum { x, .. }
            | Op::Cast { x, .. }
            | Op::Slice { x, .. }
            | Op::Permute { x, .. }
            | Op::Squeeze { x, .. }
            | Op::Expand { x, .. }
            | Op::BroadcastTo { x, .. }
            | Op::Window { x, .. } => vec![*x],
            Op::SliceAt { x, start, .. } => vec![*x, *start],
            Op::Binary { a, b, .. } => vec![*a, *b],
            Op::Select { cond, a, b } => vec![*cond, *a, *b],
            Op::Reduce { x, mask, .. } => std::iter::once(*x).chain(*mask).collect(),
            Op::PolygonMask { height, width, .. } => [height, width]
                .into_iter()
                .filter_map(|e| match e {
                    Extent::Of { node, .. } => Some(*node),
                    Extent::Fixed(_) => None,
                })
                .collect(),
        }
    }

    /// The operands whose values this op reads: [`Op::operands`] without the nodes a
    /// polygon mask takes only its extents from (`like`), whose values are never computed
    /// for it (so their run-time errors are not raised by it).
    #[must_use]
    pub fn value_operands(&self) -> Vec<NodeId> {
        match self {
            Op::PolygonMask { .. } => Vec::new(),
            _ => self.operands(),
        }
    }

    /// A short name for display (`sub`, `reduce`, `polygon_mask`).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Op::Input { .. } => "input",
            Op::Const { .. } => "const",
            Op::Param { .. } => "param",
            Op::Unary { op, .. } => op.name(),
            Op::Binary { op, .. } => op.name(),
            Op::Select { .. } => "select",
            Op::NanToNum { .. } => "nan_to_num",
            Op::Cast { .. } => "cast",
            Op::Slice { .. } => "slice",
            Op::SliceAt { .. } => "slice_at",
            Op::Permute { .. } => "permute",
            Op::Squeeze { .. } => "squeeze",
            Op::Expand { .. } => "expand",
            Op::BroadcastTo { .. } => "broadcast_to",
            Op::Reduce { .. } => "reduce",
            Op::Window { .. } => "window",
            Op::PolygonMask { .. } => "polygon_mask",
        }
    }
}

/// Displays an optional slice bound (empty when absent, like Python).
pub struct SliceBound(pub Option<i64>);

impl fmt::Display for SliceBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{v}"),
            None => Ok(()),
        }
    }
}
