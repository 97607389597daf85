//! The unvalidated, user-level graph: what the DSL builds and graph files hold.
//!
//! A [`GraphDef`] keeps image-stack helpers (`pipeline`, `envelope`, …) as written, refers to
//! nodes by string id, and records where each node was written ([`Source`]). It turns into a
//! [`crate::Graph`] only through [`crate::validate`]. Serde derives here *are* the file format
//! (version [`crate::format::VERSION`]); see `docs/graph-format.md` for the field reference.

mod values;

pub use values::{Number, Operand, Ref, SliceStart};

use crate::dtype::DType;
use crate::graph::Source;
use serde::{Deserialize, Serialize};

/// A user-level graph: nodes (any order; validation sorts them) and requested outputs.
/// Equality ignores where things were written.
#[derive(Clone, Debug, Default)]
pub struct GraphDef {
    /// Free text describing the graph (files: `"description"`).
    pub description: Option<String>,
    /// The nodes.
    pub nodes: Vec<NodeDef>,
    /// The requested outputs.
    pub outputs: Vec<OutputDef>,
    /// Where the outputs list was written (for errors about it).
    pub outputs_source: Option<Source>,
}

/// A requested output: a name and the node output it takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputDef {
    /// The output's name (files: `<name>.npy`); in files it defaults to the reference text.
    pub name: String,
    /// The node output.
    pub node: Ref,
}

impl OutputDef {
    /// An output named by its reference text (`"env.min"`).
    #[must_use]
    pub fn of(node: Ref) -> OutputDef {
        OutputDef {
            name: node.to_string(),
            node,
        }
    }
}

/// One user-level node.
#[derive(Clone, Debug)]
pub struct NodeDef {
    /// Unique id; for `input` and `param` nodes also the name used at run time.
    pub id: String,
    /// Optional human label (errors and displays show it).
    pub label: Option<String>,
    /// The operation and its arguments.
    pub op: OpDef,
    /// Where it was written (not part of equality).
    pub source: Source,
}

impl PartialEq for GraphDef {
    fn eq(&self, other: &GraphDef) -> bool {
        self.description == other.description && self.nodes == other.nodes && self.outputs == other.outputs
    }
}

impl PartialEq for NodeDef {
    fn eq(&self, other: &NodeDef) -> bool {
        self.id == other.id && self.label == other.label && self.op == other.op
    }
}

/// Statistic names in files; `percentile` takes its `q` from a sibling field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindName {
    /// Sum (f64).
    Sum,
    /// Mean.
    Mean,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
    /// Population variance.
    Var,
    /// Population standard deviation.
    Std,
    /// Median.
    Median,
    /// Percentile `q` (linear).
    Percentile,
    /// Weighted sum (windows only; `weights` required).
    Weighted,
}

/// Envelope orientation: `h` — a horizontal line at row `pos` (band of rows); `v` — a vertical
/// line at column `pos` (band of columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Orientation {
    /// Horizontal line: band of rows, curves along W.
    #[serde(rename = "h")]
    H,
    /// Vertical line: band of columns, curves along H.
    #[serde(rename = "v")]
    V,
}

/// What an envelope's min/max run over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvelopeOver {
    /// Over (T, band, C): two curves along the profile axis.
    Dataset,
    /// Per frame over (band, profile, C): two curves of length T.
    Frames,
}

/// A pipeline step: where its reference comes from, and its amount.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepDef {
    /// `range_reference(x, bounds, kind)`.
    Range {
        /// Inclusive frame bounds `[b0, b1]`, b1 clipped to T−1.
        bounds: [i64; 2],
        /// The statistic.
        kind: KindName,
        /// Percentile q.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        q: Option<f64>,
        /// Ignore NaN.
        #[serde(default, skip_serializing_if = "is_false")]
        skip_nan: bool,
        /// The step's amount (number or param).
        #[serde(default = "one")]
        amount: Operand,
    },
    /// A reference given as a graph input of shape (1, H, W, C).
    File {
        /// The input node holding the reference.
        file: Ref,
        /// The step's amount (number or param).
        #[serde(default = "one")]
        amount: Operand,
    },
    /// `sliding_reference(x, window, lag, kind)`.
    Sliding {
        /// Window length ≥ 1.
        window: i64,
        /// Lag ≥ 0.
        lag: i64,
        /// The statistic.
        kind: KindName,
        /// Percentile q.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        q: Option<f64>,
        /// Ignore NaN.
        #[serde(default, skip_serializing_if = "is_false")]
        skip_nan: bool,
        /// The step's amount (number or param).
        #[serde(default = "one")]
        amount: Operand,
    },
}

fn one() -> Operand {
    Operand::Scalar(1.0)
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_true(b: &bool) -> bool {
    *b
}

fn yes() -> bool {
    true
}

fn is_zero_axis(a: &usize) -> bool {
    *a == 0
}

fn is_one(s: &i64) -> bool {
    *s == 1
}

fn step_one() -> i64 {
    1
}

/// A user-level operation: every primitive of DESIGN §2 plus the image-stack helpers. In a
/// file, `"op"` names the variant in snake_case and the fields sit beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum OpDef {
    /// A graph input; the node id is its name. `shape` entries are extents or `null` (free).
    Input {
        /// Element type.
        dtype: DType,
        /// Declared extents, `None` = free.
        shape: Vec<Option<usize>>,
    },
    /// A scalar constant.
    Const {
        /// The value (`"nan"`, `"inf"`, `"-inf"` allowed).
        value: Number,
    },
    /// A run-time scalar; the node id is its name.
    Param {
        /// Value used when none is supplied.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<f64>,
    },
    /// `-x`.
    Neg {
        /// Operand.
        x: Operand,
    },
    /// `|x|`.
    Abs {
        /// Operand.
        x: Operand,
    },
    /// `sqrt(x)`.
    Sqrt {
        /// Operand.
        x: Operand,
    },
    /// `exp(x)`.
    Exp {
        /// Operand.
        x: Operand,
    },
    /// `ln(x)`.
    Log {
        /// Operand.
        x: Operand,
    },
    /// `x != x`.
    IsNan {
        /// Operand.
        x: Operand,
    },
    /// `a + b`.
    Add {
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// `a - b`.
    Sub {
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// `a * b`.
    Mul {
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// `a / b`.
    Div {
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// Elementwise minimum (NaN-propagating).
    Min {
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// Elementwise maximum (NaN-propagating).
    Max {
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// `a < b`.
    Lt {
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// `a <= b`.
    Le {
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// `a > b`.
    Gt {
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// `a >= b`.
    Ge {
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// `a == b`.
    Eq {
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// `a != b`.
    Ne {
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// `cond ? a : b`.
    Select {
        /// Bool condition.
        cond: Operand,
        /// Where true.
        a: Operand,
        /// Where false.
        b: Operand,
    },
    /// Replace NaN/±Inf (NumPy defaults: 0, dtype max, dtype min).
    NanToNum {
        /// Operand.
        x: Operand,
        /// Replacement for NaN (default 0).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nan: Option<f64>,
        /// Replacement for +Inf (default: the dtype's largest finite value).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        posinf: Option<f64>,
        /// Replacement for −Inf (default: the dtype's lowest finite value).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        neginf: Option<f64>,
    },
    /// Explicit conversion.
    Cast {
        /// Operand.
        x: Operand,
        /// Target dtype.
        dtype: DType,
    },
    /// NumPy slice along `axis`; with a param `start`, `len` is required and `stop` forbidden.
    Slice {
        /// Operand.
        x: Operand,
        /// Axis.
        axis: usize,
        /// Start index or param.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start: Option<SliceStart>,
        /// Stop index.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stop: Option<i64>,
        /// Step (default 1, never 0).
        #[serde(default = "step_one", skip_serializing_if = "is_one")]
        step: i64,
        /// Number of elements (required with a param start).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        len: Option<usize>,
    },
    /// Reorder axes.
    Permute {
        /// Operand.
        x: Operand,
        /// The permutation.
        axes: Vec<usize>,
    },
    /// Remove size-1 axes.
    Squeeze {
        /// Operand.
        x: Operand,
        /// Axes to remove.
        axes: Vec<usize>,
    },
    /// Insert a size-1 axis.
    Expand {
        /// Operand.
        x: Operand,
        /// Position of the new axis.
        axis: usize,
    },
    /// Broadcast to a fixed shape.
    BroadcastTo {
        /// Operand.
        x: Operand,
        /// Target shape.
        shape: Vec<usize>,
    },
    /// A statistic over axes (keepdims by default, so a reference frame broadcasts back).
    Reduce {
        /// Operand.
        x: Operand,
        /// The statistic.
        kind: KindName,
        /// Percentile q in [0, 100].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        q: Option<f64>,
        /// Reduced axes.
        axes: Vec<usize>,
        /// Keep reduced axes as extent 1 (default true).
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        keepdims: bool,
        /// Ignore NaN.
        #[serde(default, skip_serializing_if = "is_false")]
        skip_nan: bool,
        /// Optional bool mask: elements where false are excluded.
        #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
        mask: Option<Operand>,
    },
    /// A sliding statistic along `axis` (default 0): `max(n − size + 1, 0)` outputs.
    Window {
        /// Operand.
        x: Operand,
        /// The statistic, or `weighted`.
        kind: KindName,
        /// Percentile q.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        q: Option<f64>,
        /// Weights (`weighted` only; length == size).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weights: Option<Vec<f64>>,
        /// Axis (default 0).
        #[serde(default, skip_serializing_if = "is_zero_axis")]
        axis: usize,
        /// Window length ≥ 1.
        size: i64,
        /// Ignore NaN.
        #[serde(default, skip_serializing_if = "is_false")]
        skip_nan: bool,
    },
    /// Bool (1, H, W, 1) polygon mask; H and W fixed, or taken from `like` (axes 1 and 2).
    PolygonMask {
        /// Vertices `[x, y]`.
        vertices: Vec<[f64; 2]>,
        /// H (or from `like`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        height: Option<usize>,
        /// W (or from `like`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        width: Option<usize>,
        /// A (T, H, W, C) node whose H and W the mask takes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        like: Option<Ref>,
    },
    /// Helper: `reduce(kind)` over frames `b0..=b1` (b1 clipped) → (1, H, W, C).
    RangeReference {
        /// The stack.
        x: Operand,
        /// Inclusive bounds.
        bounds: [i64; 2],
        /// The statistic.
        kind: KindName,
        /// Percentile q.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        q: Option<f64>,
        /// Ignore NaN.
        #[serde(default, skip_serializing_if = "is_false")]
        skip_nan: bool,
    },
    /// Helper: `ct(x) − amount·ct(reference)`.
    Subtract {
        /// The stack.
        x: Operand,
        /// The reference (broadcasts).
        reference: Operand,
        /// The amount (number or param).
        #[serde(default = "one")]
        amount: Operand,
    },
    /// Helper: divide by `d = amount·ct(reference) + (1 − amount)`, 0 where d = 0, NaN/±Inf → 0.
    Divide {
        /// The stack.
        x: Operand,
        /// The reference (broadcasts).
        reference: Operand,
        /// The amount (number or param).
        #[serde(default = "one")]
        amount: Operand,
    },
    /// Helper: `window(kind, 0, window)[lag+1 ..]` → N = T − lag − window frames.
    SlidingReference {
        /// The stack.
        x: Operand,
        /// Window length ≥ 1.
        window: i64,
        /// Lag ≥ 0.
        lag: i64,
        /// The statistic.
        kind: KindName,
        /// Percentile q.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        q: Option<f64>,
        /// Ignore NaN.
        #[serde(default, skip_serializing_if = "is_false")]
        skip_nan: bool,
    },
    /// Helper: optional subtract step, then optional divide step, references from `x`.
    Pipeline {
        /// The stack.
        x: Operand,
        /// Subtract step (`null` = off).
        #[serde(default)]
        subtract: Option<StepDef>,
        /// Divide step (`null` = off).
        #[serde(default)]
        divide: Option<StepDef>,
    },
    /// Helper: min and max over a band of rows (`h`) or columns (`v`); outputs `min`, `max`.
    Envelope {
        /// The stack.
        x: Operand,
        /// `h` or `v`.
        orientation: Orientation,
        /// Row (h) or column (v) of the line.
        pos: i64,
        /// Half width of the band (≥ 0).
        halfwidth: i64,
        /// `dataset` or `frames`.
        over: EnvelopeOver,
    },
    /// Helper: pixels outside the polygon get `fill` (0 keeps the dtype; `"nan"` gives ct).
    ApplyPolygon {
        /// The stack.
        x: Operand,
        /// Vertices `[x, y]`.
        vertices: Vec<[f64; 2]>,
        /// Fill value for outside pixels.
        #[serde(default = "zero")]
        fill: Number,
    },
    /// Helper: per-frame NaN-skipping mean, min, max over the inside pixels; outputs `mean`,
    /// `min`, `max`.
    RoiSeries {
        /// The stack.
        x: Operand,
        /// Vertices `[x, y]`.
        vertices: Vec<[f64; 2]>,
    },
}

fn zero() -> Number {
    Number(0.0)
}

impl OpDef {
    /// The op's name as written in files (`"range_reference"`).
    #[must_use]
    pub fn name(&self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map.get("op").and_then(|v| v.as_str()).unwrap_or("?").to_owned(),
            _ => "?".to_owned(),
        }
    }

    /// The names of this op's outputs: `[""]` for a single output, else the named ones.
    #[must_use]
    pub fn output_names(&self) -> &'static [&'static str] {
        match self {
            OpDef::Envelope { .. } => &["min", "max"],
            OpDef::RoiSeries { .. } => &["mean", "min", "max"],
            _ => &[""],
        }
    }

    /// Every op name a file may use, for "unknown op" messages.
    pub const NAMES: &'static [&'static str] = &[
        "input",
        "const",
        "param",
        "neg",
        "abs",
        "sqrt",
        "exp",
        "log",
        "is_nan",
        "add",
        "sub",
        "mul",
        "div",
        "min",
        "max",
        "lt",
        "le",
        "gt",
        "ge",
        "eq",
        "ne",
        "select",
        "nan_to_num",
        "cast",
        "slice",
        "permute",
        "squeeze",
        "expand",
        "broadcast_to",
        "reduce",
        "window",
        "polygon_mask",
        "range_reference",
        "subtract",
        "divide",
        "sliding_reference",
        "pipeline",
        "envelope",
        "apply_polygon",
        "roi_series",
    ];
}
