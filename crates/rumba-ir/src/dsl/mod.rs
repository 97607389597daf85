//! The Rust DSL: a [`Builder`] and [`Tensor`] handles with operator overloading.
//!
//! The DSL records a [`GraphDef`] — the same user-level form a graph file holds, helpers
//! included — with each node's call site (`#[track_caller]`), and [`Builder::build`] runs the
//! one validation path, so an error names the line of Rust that created the bad node.
//!
//! ```
//! use rumba_ir::dsl::{Builder, Stat, Step};
//! use rumba_ir::DType;
//!
//! let b = Builder::new();
//! let x = b.input("x", DType::U8, [None, None, None, Some(1)]);
//! let amount = b.param("amount", Some(1.0));
//! let bg = x.range_reference([0, 9], Stat::Mean).id("bg");
//! let by_hand = &x - &(&bg * &amount);
//! let helper = x.pipeline(Some(Step::range([0, 9], Stat::Mean).amount(&amount)), None);
//! let graph = b.build([("by_hand", &by_hand), ("helper", &helper)]).unwrap();
//! assert_eq!(graph.outputs.len(), 2);
//! ```

use crate::def::{
    EnvelopeOver, GraphDef, KindName, NodeDef, Number, OpDef, Operand, Orientation, OutputDef, Ref, SliceStart, StepDef,
};
use crate::dtype::DType;
use crate::error::GraphError;
use crate::graph::{Graph, Source};
use std::cell::RefCell;
use std::panic::Location;
use std::rc::Rc;

mod ops;

/// A statistic for reductions, windows and references.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stat {
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
    /// Linear percentile `q` in [0, 100].
    Percentile(f64),
}

impl Stat {
    fn split(self) -> (KindName, Option<f64>) {
        match self {
            Stat::Sum => (KindName::Sum, None),
            Stat::Mean => (KindName::Mean, None),
            Stat::Min => (KindName::Min, None),
            Stat::Max => (KindName::Max, None),
            Stat::Var => (KindName::Var, None),
            Stat::Std => (KindName::Std, None),
            Stat::Median => (KindName::Median, None),
            Stat::Percentile(q) => (KindName::Percentile, Some(q)),
        }
    }
}

/// A scalar argument: a number, or a tensor (usually a param).
#[derive(Clone, Debug)]
pub struct Arg(Operand);

impl From<f64> for Arg {
    fn from(v: f64) -> Arg {
        Arg(Operand::Scalar(v))
    }
}

impl From<&Tensor> for Arg {
    fn from(t: &Tensor) -> Arg {
        Arg(Operand::Ref(t.node.clone()))
    }
}

/// A pipeline step (see [`Tensor::pipeline`]).
#[derive(Clone, Debug)]
#[must_use]
pub struct Step(StepDef);

impl Step {
    /// A reference from frames `b0..=b1`.
    pub fn range(bounds: [i64; 2], stat: Stat) -> Step {
        let (kind, q) = stat.split();
        Step(StepDef::Range {
            bounds,
            kind,
            q,
            skip_nan: false,
            amount: Operand::Scalar(1.0),
        })
    }

    /// A reference given as a (1, H, W, C) graph input.
    pub fn file(reference: &Tensor) -> Step {
        Step(StepDef::File {
            file: reference.node.clone(),
            amount: Operand::Scalar(1.0),
        })
    }

    /// A sliding reference over `window` frames after `lag`.
    pub fn sliding(window: i64, lag: i64, stat: Stat) -> Step {
        let (kind, q) = stat.split();
        Step(StepDef::Sliding {
            window,
            lag,
            kind,
            q,
            skip_nan: false,
            amount: Operand::Scalar(1.0),
        })
    }

    /// Sets the step's amount (number or param).
    pub fn amount(mut self, amount: impl Into<Arg>) -> Step {
        let a = amount.into().0;
        match &mut self.0 {
            StepDef::Range { amount, .. } | StepDef::File { amount, .. } | StepDef::Sliding { amount, .. } => {
                *amount = a
            }
        }
        self
    }

    /// Ignores NaN in the reference statistic.
    pub fn skip_nan(mut self) -> Step {
        if let StepDef::Range { skip_nan, .. } | StepDef::Sliding { skip_nan, .. } = &mut self.0 {
            *skip_nan = true;
        }
        self
    }
}

#[derive(Default)]
struct State {
    def: GraphDef,
    counter: usize,
}

/// Records a graph. Cheap to clone (shared state); not `Send`.
#[derive(Clone, Default)]
pub struct Builder {
    state: Rc<RefCell<State>>,
}

/// A handle to one node output in a [`Builder`].
#[derive(Clone)]
#[must_use]
pub struct Tensor {
    state: Rc<RefCell<State>>,
    node: Ref,
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor({})", self.node)
    }
}

fn add_node(state: &Rc<RefCell<State>>, id: Option<&str>, op: OpDef, at: &'static Location<'static>) -> Tensor {
    let mut s = state.borrow_mut();
    s.counter += 1;
    let id = id.map_or_else(|| format!("{}{}", op.name(), s.counter), str::to_owned);
    s.def.nodes.push(NodeDef {
        id: id.clone(),
        label: None,
        op,
        source: Source::Dsl(at),
    });
    Tensor {
        state: Rc::clone(state),
        node: Ref { node: id, output: None },
    }
}

impl Builder {
    /// An empty graph.
    #[must_use]
    pub fn new() -> Builder {
        Builder::default()
    }

    /// A graph input named `name` (also its node id); `None` dims are free.
    #[track_caller]
    pub fn input(&self, name: &str, dtype: DType, shape: impl AsRef<[Option<usize>]>) -> Tensor {
        let op = OpDef::Input {
            dtype,
            shape: shape.as_ref().to_vec(),
        };
        add_node(&self.state, Some(name), op, Location::caller())
    }

    /// A run-time scalar named `name` with an optional default.
    #[track_caller]
    pub fn param(&self, name: &str, default: Option<f64>) -> Tensor {
        add_node(&self.state, Some(name), OpDef::Param { default }, Location::caller())
    }

    /// A scalar constant.
    #[track_caller]
    pub fn constant(&self, value: f64) -> Tensor {
        add_node(
            &self.state,
            None,
            OpDef::Const { value: Number(value) },
            Location::caller(),
        )
    }

    /// A bool (1, H, W, 1) polygon mask of a fixed size.
    #[track_caller]
    pub fn polygon_mask(&self, vertices: &[[f64; 2]], height: usize, width: usize) -> Tensor {
        let op = OpDef::PolygonMask {
            vertices: vertices.to_vec(),
            height: Some(height),
            width: Some(width),
            like: None,
        };
        add_node(&self.state, None, op, Location::caller())
    }

    /// The recorded graph with these outputs, unvalidated (to save as a file).
    pub fn def<'a>(&self, outputs: impl IntoIterator<Item = (&'a str, &'a Tensor)>) -> GraphDef {
        let mut def = self.state.borrow().def.clone();
        def.outputs = outputs
            .into_iter()
            .map(|(name, t)| OutputDef {
                name: name.to_owned(),
                node: t.node.clone(),
            })
            .collect();
        def
    }

    /// Validates the recorded graph with these outputs.
    ///
    /// # Errors
    /// The first validation error, naming the DSL call site of the node at fault.
    pub fn build<'a>(&self, outputs: impl IntoIterator<Item = (&'a str, &'a Tensor)>) -> Result<Graph, GraphError> {
        Graph::try_from(self.def(outputs))
    }
}

impl Tensor {
    #[track_caller]
    pub(super) fn op(&self, op: OpDef) -> Tensor {
        add_node(&self.state, None, op, Location::caller())
    }

    pub(super) fn x(&self) -> Operand {
        Operand::Ref(self.node.clone())
    }

    /// The reference this handle denotes (`"bg"`, `"env.min"`).
    #[must_use]
    pub fn reference(&self) -> &Ref {
        &self.node
    }

    /// Renames this node (call right after creating it, before any use).
    ///
    /// # Panics
    /// If another node already refers to this one, or the handle is a named output.
    pub fn id(self, id: &str) -> Tensor {
        {
            let mut s = self.state.borrow_mut();
            assert!(self.node.output.is_none(), "rename the node before taking its outputs");
            let used = s.def.nodes.iter().any(|n| {
                crate::validate::refs(&n.op)
                    .iter()
                    .any(|(_, r)| r.node == self.node.node)
            });
            assert!(
                !used,
                "node \"{}\" is already used; rename it right after creating it",
                self.node.node
            );
            if let Some(n) = s.def.nodes.iter_mut().find(|n| n.id == self.node.node) {
                n.id = id.to_owned();
            }
        }
        Tensor {
            state: self.state,
            node: Ref {
                node: id.to_owned(),
                output: None,
            },
        }
    }

    /// Sets the node's human label.
    pub fn label(self, label: &str) -> Tensor {
        if let Some(n) = self
            .state
            .borrow_mut()
            .def
            .nodes
            .iter_mut()
            .find(|n| n.id == self.node.node)
        {
            n.label = Some(label.to_owned());
        }
        self
    }

    fn output(&self, name: &str) -> Tensor {
        Tensor {
            state: Rc::clone(&self.state),
            node: Ref {
                node: self.node.node.clone(),
                output: Some(name.to_owned()),
            },
        }
    }
}

impl Tensor {
    /// `self ? a : b` (self is a bool condition).
    #[track_caller]
    pub fn select(&self, a: impl Into<Arg>, b: impl Into<Arg>) -> Tensor {
        self.op(OpDef::Select {
            cond: self.x(),
            a: a.into().0,
            b: b.into().0,
        })
    }

    /// Replaces NaN, +Inf, −Inf (`None`: NumPy's defaults 0, dtype max, dtype min).
    #[track_caller]
    pub fn nan_to_num(&self, nan: Option<f64>, posinf: Option<f64>, neginf: Option<f64>) -> Tensor {
        self.op(OpDef::NanToNum {
            x: self.x(),
            nan,
            posinf,
            neginf,
        })
    }

    /// Explicit conversion.
    #[track_caller]
    pub fn cast(&self, dtype: DType) -> Tensor {
        self.op(OpDef::Cast { x: self.x(), dtype })
    }

    /// NumPy slice `x[start:stop:step]` along `axis`.
    #[track_caller]
    pub fn slice(&self, axis: usize, start: Option<i64>, stop: Option<i64>, step: i64) -> Tensor {
        self.op(OpDef::Slice {
            x: self.x(),
            axis,
            start: start.map(SliceStart::Index),
            stop,
            step,
            len: None,
        })
    }

    /// `len` elements every `step` along `axis` from the run-time index `start` (a param).
    #[track_caller]
    pub fn slice_at(&self, axis: usize, start: &Tensor, len: usize, step: i64) -> Tensor {
        let start = Some(SliceStart::Param(start.node.clone()));
        self.op(OpDef::Slice {
            x: self.x(),
            axis,
            start,
            stop: None,
            step,
            len: Some(len),
        })
    }

    /// Reorders axes.
    #[track_caller]
    pub fn permute(&self, axes: &[usize]) -> Tensor {
        self.op(OpDef::Permute {
            x: self.x(),
            axes: axes.to_vec(),
        })
    }

    /// Removes size-1 axes.
    #[track_caller]
    pub fn squeeze(&self, axes: &[usize]) -> Tensor {
        self.op(OpDef::Squeeze {
            x: self.x(),
            axes: axes.to_vec(),
        })
    }

    /// Inserts a size-1 axis.
    #[track_caller]
    pub fn expand(&self, axis: usize) -> Tensor {
        self.op(OpDef::Expand { x: self.x(), axis })
    }

    /// Broadcasts to a fixed shape.
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        self.op(OpDef::BroadcastTo {
            x: self.x(),
            shape: shape.to_vec(),
        })
    }

    /// A statistic over `axes`, keeping them as extent 1.
    #[track_caller]
    pub fn reduce(&self, stat: Stat, axes: &[usize]) -> Tensor {
        self.reduce_with(stat, axes, true, false, None)
    }

    /// A statistic with every option: `keepdims`, `skip_nan`, and a bool `mask` (`where`).
    #[track_caller]
    pub fn reduce_with(
        &self,
        stat: Stat,
        axes: &[usize],
        keepdims: bool,
        skip_nan: bool,
        mask: Option<&Tensor>,
    ) -> Tensor {
        let (kind, q) = stat.split();
        let mask = mask.map(|m| m.x());
        self.op(OpDef::Reduce {
            x: self.x(),
            kind,
            q,
            axes: axes.to_vec(),
            keepdims,
            skip_nan,
            mask,
        })
    }

    /// A sliding statistic along `axis` over `size` elements.
    #[track_caller]
    pub fn window(&self, stat: Stat, axis: usize, size: i64, skip_nan: bool) -> Tensor {
        let (kind, q) = stat.split();
        self.op(OpDef::Window {
            x: self.x(),
            kind,
            q,
            weights: None,
            axis,
            size,
            skip_nan,
        })
    }

    /// A sliding weighted sum along `axis`: `Σ w[j]·x[k+j]`.
    #[track_caller]
    pub fn weighted_window(&self, weights: &[f64], axis: usize) -> Tensor {
        let size = weights.len() as i64;
        let weights = Some(weights.to_vec());
        self.op(OpDef::Window {
            x: self.x(),
            kind: KindName::Weighted,
            q: None,
            weights,
            axis,
            size,
            skip_nan: false,
        })
    }

    /// A polygon mask with this stack's H and W.
    #[track_caller]
    pub fn polygon_mask_like(&self, vertices: &[[f64; 2]]) -> Tensor {
        let op = OpDef::PolygonMask {
            vertices: vertices.to_vec(),
            height: None,
            width: None,
            like: Some(self.node.clone()),
        };
        self.op(op)
    }

    /// Helper: the statistic of frames `b0..=b1` (b1 clipped) as a (1, H, W, C) reference.
    #[track_caller]
    pub fn range_reference(&self, bounds: [i64; 2], stat: Stat) -> Tensor {
        let (kind, q) = stat.split();
        self.op(OpDef::RangeReference {
            x: self.x(),
            bounds,
            kind,
            q,
            skip_nan: false,
        })
    }

    /// Helper: `ct(x) − amount·ct(reference)`.
    #[track_caller]
    pub fn subtract(&self, reference: &Tensor, amount: impl Into<Arg>) -> Tensor {
        self.op(OpDef::Subtract {
            x: self.x(),
            reference: reference.x(),
            amount: amount.into().0,
        })
    }

    /// Helper: divide by `amount·ct(reference) + (1 − amount)`, 0 where that is 0, NaN/±Inf → 0.
    #[track_caller]
    pub fn divide(&self, reference: &Tensor, amount: impl Into<Arg>) -> Tensor {
        self.op(OpDef::Divide {
            x: self.x(),
            reference: reference.x(),
            amount: amount.into().0,
        })
    }

    /// Helper: the sliding reference `window(stat, T, window)[lag+1 ..]`.
    #[track_caller]
    pub fn sliding_reference(&self, window: i64, lag: i64, stat: Stat) -> Tensor {
        let (kind, q) = stat.split();
        self.op(OpDef::SlidingReference {
            x: self.x(),
            window,
            lag,
            kind,
            q,
            skip_nan: false,
        })
    }

    /// Helper: optional subtract step, then optional divide step (references from `self`).
    #[track_caller]
    pub fn pipeline(&self, subtract: Option<Step>, divide: Option<Step>) -> Tensor {
        self.op(OpDef::Pipeline {
            x: self.x(),
            subtract: subtract.map(|s| s.0),
            divide: divide.map(|s| s.0),
        })
    }

    /// Helper: (min, max) curves over a band of rows (`H`) or columns (`V`).
    #[track_caller]
    pub fn envelope(&self, orientation: Orientation, pos: i64, halfwidth: i64, over: EnvelopeOver) -> (Tensor, Tensor) {
        let env = self.op(OpDef::Envelope {
            x: self.x(),
            orientation,
            pos,
            halfwidth,
            over,
        });
        (env.output("min"), env.output("max"))
    }

    /// Helper: outside pixels get `fill` (0 keeps the dtype; NaN gives the compute type).
    #[track_caller]
    pub fn apply_polygon(&self, vertices: &[[f64; 2]], fill: f64) -> Tensor {
        self.op(OpDef::ApplyPolygon {
            x: self.x(),
            vertices: vertices.to_vec(),
            fill: Number(fill),
        })
    }

    /// Helper: per-frame (mean, min, max) over the pixels inside the polygon, NaN skipped.
    #[track_caller]
    pub fn roi_series(&self, vertices: &[[f64; 2]]) -> (Tensor, Tensor, Tensor) {
        let roi = self.op(OpDef::RoiSeries {
            x: self.x(),
            vertices: vertices.to_vec(),
        });
        (roi.output("mean"), roi.output("min"), roi.output("max"))
    }
}
