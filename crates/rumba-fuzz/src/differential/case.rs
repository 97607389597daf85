//! A decoded case: declared inputs and a list of steps, each a DSL call on earlier values
//! (inputs first, then every step's results in order). [`realize`] replays the steps through
//! the DSL; [`Step::text`] writes each as the Rust call it makes, for failure messages.

use crate::rust_text::{lit, lits, stat as stat_text};
use crate::values::Layout;
use rumba::DType;
use rumba::dsl::{Arg, Builder, Stat, Step as PipelineStep, Tensor};
use rumba_ir::def::{EnvelopeOver, Orientation};
use rumba_ir::op::{BinaryOp, UnaryOp};

/// A graph input.
#[derive(Clone, Debug)]
pub(crate) struct InputDecl {
    /// `x0`, `x1`.
    pub name: String,
    pub dtype: DType,
    /// The extents of the array passed in.
    pub shape: Vec<usize>,
    /// Which dims are declared free rather than fixed.
    pub free: Vec<bool>,
    pub layout: Layout,
}

/// A second operand: an earlier value or an inline (weak) scalar.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rhs {
    Value(usize),
    Scalar(f64),
}

/// The arithmetic (and min/max) functions a binary step picks from.
pub(crate) const ARITH: [BinaryOp; 6] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Min,
    BinaryOp::Max,
];

/// The comparisons a binary step picks from.
pub(crate) const COMPARE: [BinaryOp; 6] = [
    BinaryOp::Lt,
    BinaryOp::Le,
    BinaryOp::Gt,
    BinaryOp::Ge,
    BinaryOp::Eq,
    BinaryOp::Ne,
];

/// The Rust operator of `+ - * /`; the others are DSL methods named [`BinaryOp::name`].
fn operator(op: BinaryOp) -> Option<&'static str> {
    match op {
        BinaryOp::Add => Some("+"),
        BinaryOp::Sub => Some("-"),
        BinaryOp::Mul => Some("*"),
        BinaryOp::Div => Some("/"),
        _ => None,
    }
}

/// A window's statistic, or its weights.
#[derive(Clone, Debug)]
pub(crate) enum WindowKind {
    Stat(Stat),
    Weighted(Vec<f64>),
}

/// Where a pipeline step's reference comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Source {
    Range([i64; 2]),
    Sliding {
        window: i64,
        lag: i64,
    },
    /// A (1, H, W, C) value.
    File(usize),
}

/// A pipeline step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reference {
    pub source: Source,
    pub stat: Stat,
    pub skip_nan: bool,
    pub amount: Rhs,
}

/// One DSL call (its operands are value indices).
#[derive(Clone, Debug)]
pub(crate) enum Step {
    Const(f64),
    Param {
        name: String,
        default: f64,
    },
    Unary {
        op: UnaryOp,
        x: usize,
    },
    Binary {
        op: BinaryOp,
        a: Rhs,
        b: Rhs,
    },
    Select {
        cond: usize,
        a: Rhs,
        b: Rhs,
    },
    NanToNum {
        x: usize,
        values: [Option<f64>; 3],
    },
    Cast {
        x: usize,
        to: DType,
    },
    Slice {
        x: usize,
        axis: usize,
        start: Option<i64>,
        stop: Option<i64>,
        step: i64,
    },
    SliceAt {
        x: usize,
        axis: usize,
        start: usize,
        len: usize,
        step: i64,
    },
    Permute {
        x: usize,
        axes: Vec<usize>,
    },
    Squeeze {
        x: usize,
        axes: Vec<usize>,
    },
    Expand {
        x: usize,
        axis: usize,
    },
    BroadcastTo {
        x: usize,
        shape: Vec<usize>,
    },
    Reduce {
        x: usize,
        stat: Stat,
        axes: Vec<usize>,
        keepdims: bool,
        skip_nan: bool,
        mask: Option<usize>,
    },
    Window {
        x: usize,
        kind: WindowKind,
        axis: usize,
        size: i64,
        skip_nan: bool,
    },
    PolygonMask {
        like: usize,
        vertices: Vec<[f64; 2]>,
    },
    ApplyPolygon {
        x: usize,
        vertices: Vec<[f64; 2]>,
        fill: f64,
    },
    /// Three values: mean, min, max.
    RoiSeries {
        x: usize,
        vertices: Vec<[f64; 2]>,
    },
    RangeReference {
        x: usize,
        bounds: [i64; 2],
        stat: Stat,
    },
    SlidingReference {
        x: usize,
        window: i64,
        lag: i64,
        stat: Stat,
    },
    Pipeline {
        x: usize,
        subtract: Option<Reference>,
        divide: Option<Reference>,
    },
    /// Two values: min, max.
    Envelope {
        x: usize,
        orientation: Orientation,
        pos: i64,
        halfwidth: i64,
        over: EnvelopeOver,
    },
}

impl Step {
    /// How many values the step makes.
    pub(crate) fn arity(&self) -> usize {
        match self {
            Step::RoiSeries { .. } => 3,
            Step::Envelope { .. } => 2,
            _ => 1,
        }
    }

    /// The step as the Rust call it makes, values named by `names`.
    pub(crate) fn text(&self, names: &[String]) -> String {
        let n = |i: &usize| names[*i].as_str();
        let rhs = |r: &Rhs| match r {
            Rhs::Value(i) => format!("&{}", names[*i]),
            Rhs::Scalar(v) => lit(*v),
        };
        match self {
            Step::Const(v) => format!("b.constant({})", lit(*v)),
            Step::Param { name, default } => format!("b.param({name:?}, Some({}))", lit(*default)),
            Step::Unary { op: UnaryOp::Neg, x } => format!("-&{}", n(x)),
            Step::Unary { op, x } => format!("{}.{}()", n(x), op.name()),
            Step::Binary { op, a, b } => match (operator(*op), a) {
                (Some(o), _) => format!("{} {o} {}", rhs(a), rhs(b)),
                (None, Rhs::Value(a)) => format!("{}.{}({})", n(a), op.name(), rhs(b)),
                (None, Rhs::Scalar(_)) => format!("{}.{}({})", rhs(b).trim_start_matches('&'), op.name(), rhs(a)),
            },
            Step::Select { cond, a, b } => format!("{}.select({}, {})", n(cond), rhs(a), rhs(b)),
            Step::NanToNum { x, values } => format!("{}.nan_to_num{values:?}", n(x)),
            Step::Cast { x, to } => format!("{}.cast(DType::{to:?})", n(x)),
            Step::Slice {
                x,
                axis,
                start,
                stop,
                step,
            } => format!("{}.slice({axis}, {start:?}, {stop:?}, {step})", n(x)),
            Step::SliceAt {
                x,
                axis,
                start,
                len,
                step,
            } => format!("{}.slice_at({axis}, &{}, {len}, {step})", n(x), n(start)),
            Step::Permute { x, axes } => format!("{}.permute(&{axes:?})", n(x)),
            Step::Squeeze { x, axes } => format!("{}.squeeze(&{axes:?})", n(x)),
            Step::Expand { x, axis } => format!("{}.expand({axis})", n(x)),
            Step::BroadcastTo { x, shape } => format!("{}.broadcast_to(&{shape:?})", n(x)),
            Step::Reduce {
                x,
                stat,
                axes,
                keepdims,
                skip_nan,
                mask,
            } => {
                let mask = mask.map_or("None".to_owned(), |m| format!("Some(&{})", n(&m)));
                format!(
                    "{}.reduce_with({}, &{axes:?}, {keepdims}, {skip_nan}, {mask})",
                    n(x),
                    stat_text(*stat)
                )
            }
            Step::Window {
                x,
                kind: WindowKind::Stat(stat),
                axis,
                size,
                skip_nan,
            } => format!("{}.window({}, {axis}, {size}, {skip_nan})", n(x), stat_text(*stat)),
            Step::Window {
                x,
                kind: WindowKind::Weighted(w),
                axis,
                ..
            } => format!("{}.weighted_window(&{}, {axis})", n(x), lits(w)),
            Step::PolygonMask { like, vertices } => format!("{}.polygon_mask_like(&{vertices:?})", n(like)),
            Step::ApplyPolygon { x, vertices, fill } => {
                format!("{}.apply_polygon(&{vertices:?}, {})", n(x), lit(*fill))
            }
            Step::RoiSeries { x, vertices } => format!("{}.roi_series(&{vertices:?})", n(x)),
            Step::RangeReference { x, bounds, stat } => {
                format!("{}.range_reference({bounds:?}, {})", n(x), stat_text(*stat))
            }
            Step::SlidingReference { x, window, lag, stat } => {
                format!("{}.sliding_reference({window}, {lag}, {})", n(x), stat_text(*stat))
            }
            Step::Pipeline { x, subtract, divide } => {
                let step = |s: &Option<Reference>| match s {
                    None => "None".to_owned(),
                    Some(r) => {
                        let source = match r.source {
                            Source::Range(b) => format!("Step::range({b:?}, {})", stat_text(r.stat)),
                            Source::Sliding { window, lag } => {
                                format!("Step::sliding({window}, {lag}, {})", stat_text(r.stat))
                            }
                            Source::File(f) => format!("Step::file(&{})", n(&f)),
                        };
                        let nan = if r.skip_nan { ".skip_nan()" } else { "" };
                        format!("Some({source}.amount({}){nan})", rhs(&r.amount))
                    }
                };
                format!("{}.pipeline({}, {})", n(x), step(subtract), step(divide))
            }
            Step::Envelope {
                x,
                orientation,
                pos,
                halfwidth,
                over,
            } => format!(
                "{}.envelope(Orientation::{orientation:?}, {pos}, {halfwidth}, EnvelopeOver::{over:?})",
                n(x)
            ),
        }
    }
}

/// A recorded graph: its builder and one tensor per value.
pub(crate) struct Realized {
    pub builder: Builder,
    pub values: Vec<Tensor>,
}

impl Realized {
    /// The declared inputs, no steps yet.
    pub(crate) fn new(inputs: &[InputDecl]) -> Realized {
        let builder = Builder::new();
        let values = inputs
            .iter()
            .map(|i| {
                let dims: Vec<Option<usize>> = i
                    .shape
                    .iter()
                    .zip(&i.free)
                    .map(|(&n, &free)| (!free).then_some(n))
                    .collect();
                builder.input(&i.name, i.dtype, dims)
            })
            .collect();
        Realized { builder, values }
    }

    /// The inputs and `steps`, recorded anew.
    pub(crate) fn replay(inputs: &[InputDecl], steps: &[Step]) -> Realized {
        let mut r = Realized::new(inputs);
        for s in steps {
            r.push(s);
        }
        r
    }

    /// Records one step; returns how many values it made.
    pub(crate) fn push(&mut self, step: &Step) -> usize {
        let made = self.call(step);
        let n = made.len();
        self.values.extend(made);
        n
    }

    fn arg(&self, r: Rhs) -> Arg {
        match r {
            Rhs::Value(i) => Arg::from(&self.values[i]),
            Rhs::Scalar(v) => Arg::from(v),
        }
    }

    fn call(&self, step: &Step) -> Vec<Tensor> {
        let v = |i: &usize| &self.values[*i];
        let one = |t: Tensor| vec![t];
        match step {
            Step::Const(c) => one(self.builder.constant(*c)),
            Step::Param { name, default } => one(self.builder.param(name, Some(*default))),
            Step::Unary { op, x } => one(match op {
                UnaryOp::Neg => -v(x),
                UnaryOp::Abs => v(x).abs(),
                UnaryOp::Sqrt => v(x).sqrt(),
                UnaryOp::Exp => v(x).exp(),
                UnaryOp::Log => v(x).log(),
                UnaryOp::IsNan => v(x).is_nan(),
            }),
            Step::Binary { op, a, b } => one(self.binary(*op, *a, *b)),
            Step::Select { cond, a, b } => one(v(cond).select(self.arg(*a), self.arg(*b))),
            Step::NanToNum { x, values: [n, p, m] } => one(v(x).nan_to_num(*n, *p, *m)),
            Step::Cast { x, to } => one(v(x).cast(*to)),
            Step::Slice {
                x,
                axis,
                start,
                stop,
                step,
            } => one(v(x).slice(*axis, *start, *stop, *step)),
            Step::SliceAt {
                x,
                axis,
                start,
                len,
                step,
            } => one(v(x).slice_at(*axis, v(start), *len, *step)),
            Step::Permute { x, axes } => one(v(x).permute(axes)),
            Step::Squeeze { x, axes } => one(v(x).squeeze(axes)),
            Step::Expand { x, axis } => one(v(x).expand(*axis)),
            Step::BroadcastTo { x, shape } => one(v(x).broadcast_to(shape)),
            Step::Reduce {
                x,
                stat,
                axes,
                keepdims,
                skip_nan,
                mask,
            } => one(v(x).reduce_with(*stat, axes, *keepdims, *skip_nan, mask.map(|m| v(&m)))),
            Step::Window {
                x,
                kind: WindowKind::Stat(stat),
                axis,
                size,
                skip_nan,
            } => one(v(x).window(*stat, *axis, *size, *skip_nan)),
            Step::Window {
                x,
                kind: WindowKind::Weighted(w),
                axis,
                ..
            } => one(v(x).weighted_window(w, *axis)),
            Step::PolygonMask { like, vertices } => one(v(like).polygon_mask_like(vertices)),
            Step::ApplyPolygon { x, vertices, fill } => one(v(x).apply_polygon(vertices, *fill)),
            Step::RoiSeries { x, vertices } => {
                let (mean, min, max) = v(x).roi_series(vertices);
                vec![mean, min, max]
            }
            Step::RangeReference { x, bounds, stat } => one(v(x).range_reference(*bounds, *stat)),
            Step::SlidingReference { x, window, lag, stat } => one(v(x).sliding_reference(*window, *lag, *stat)),
            Step::Pipeline { x, subtract, divide } => {
                let step = |r: &Option<Reference>| r.map(|r| self.reference(r));
                one(v(x).pipeline(step(subtract), step(divide)))
            }
            Step::Envelope {
                x,
                orientation,
                pos,
                halfwidth,
                over,
            } => {
                let (min, max) = v(x).envelope(*orientation, *pos, *halfwidth, *over);
                vec![min, max]
            }
        }
    }

    fn reference(&self, r: Reference) -> PipelineStep {
        let step = match r.source {
            Source::Range(bounds) => PipelineStep::range(bounds, r.stat),
            Source::Sliding { window, lag } => PipelineStep::sliding(window, lag, r.stat),
            Source::File(f) => PipelineStep::file(&self.values[f]),
        };
        let step = step.amount(self.arg(r.amount));
        if r.skip_nan { step.skip_nan() } else { step }
    }

    fn binary(&self, op: BinaryOp, a: Rhs, b: Rhs) -> Tensor {
        let t = |i: usize| &self.values[i];
        // Arithmetic through the operators (a scalar on either side); the methods take the
        // array first.
        match (op, a, b) {
            (BinaryOp::Add, Rhs::Value(a), Rhs::Value(b)) => t(a) + t(b),
            (BinaryOp::Add, Rhs::Value(a), Rhs::Scalar(b)) => t(a) + b,
            (BinaryOp::Add, Rhs::Scalar(a), Rhs::Value(b)) => a + t(b),
            (BinaryOp::Sub, Rhs::Value(a), Rhs::Value(b)) => t(a) - t(b),
            (BinaryOp::Sub, Rhs::Value(a), Rhs::Scalar(b)) => t(a) - b,
            (BinaryOp::Sub, Rhs::Scalar(a), Rhs::Value(b)) => a - t(b),
            (BinaryOp::Mul, Rhs::Value(a), Rhs::Value(b)) => t(a) * t(b),
            (BinaryOp::Mul, Rhs::Value(a), Rhs::Scalar(b)) => t(a) * b,
            (BinaryOp::Mul, Rhs::Scalar(a), Rhs::Value(b)) => a * t(b),
            (BinaryOp::Div, Rhs::Value(a), Rhs::Value(b)) => t(a) / t(b),
            (BinaryOp::Div, Rhs::Value(a), Rhs::Scalar(b)) => t(a) / b,
            (BinaryOp::Div, Rhs::Scalar(a), Rhs::Value(b)) => a / t(b),
            (op, Rhs::Value(a), b) => self.method(op, t(a), self.arg(b)),
            (op, a, Rhs::Value(b)) => self.method(op, t(b), self.arg(a)),
            (_, Rhs::Scalar(_), Rhs::Scalar(_)) => unreachable!("the decoder gives every binary step an array"),
        }
    }

    fn method(&self, op: BinaryOp, a: &Tensor, b: Arg) -> Tensor {
        match op {
            BinaryOp::Min => a.min(b),
            BinaryOp::Max => a.max(b),
            BinaryOp::Lt => a.lt(b),
            BinaryOp::Le => a.le(b),
            BinaryOp::Gt => a.gt(b),
            BinaryOp::Ge => a.ge(b),
            BinaryOp::Eq => a.eq(b),
            BinaryOp::Ne => a.ne(b),
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => unreachable!("operators above"),
        }
    }
}
