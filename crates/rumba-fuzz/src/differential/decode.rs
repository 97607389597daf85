//! Bytes → a case: a header, the inputs' declarations, an opcode stream over the values built
//! so far, then (after an `end` opcode) the bytes the inputs' elements are filled from.
//!
//! Every opcode reads its arguments from the following bytes and resolves them against the
//! dtype and shape of the operand it picks (an axis modulo the rank, a slice bound within the
//! extent, a window no longer than the axis + 2), so most steps make a valid graph. Each step
//! is then *probed*: recorded through the DSL, validated and bound to the inputs by rumba
//! itself; a step that validation or binding rejects, or whose value would exceed
//! [`MAX_VALUE`] elements, is dropped (the graph is replayed without it) and decoding goes
//! on. So every byte string decodes to a valid graph, and the decoder needs no copy of the
//! typing rules.
//!
//! Operands are picked among the earlier values that fit (byte 0 picks the latest), so a
//! stream of opcodes makes chains, and picking an older value makes DAGs with shared
//! intermediates and dead nodes.

use super::case::{ARITH, COMPARE, InputDecl, Realized, Reference, Rhs, Source, Step, WindowKind};
use crate::bytes::Bytes;
use crate::values::{EDGES, Layout};
use rumba::dsl::Stat;
use rumba::{DType, Graph, InputSpec};
use rumba_ir::def::{EnvelopeOver, Orientation};
use rumba_ir::op::{BinaryOp, UnaryOp};
use std::collections::BTreeMap;

/// Most elements of an input.
pub(crate) const MAX_INPUT: usize = 256;
/// Most elements of any value.
pub(crate) const MAX_VALUE: usize = 1024;
/// Most steps kept.
const MAX_STEPS: usize = 16;
/// Most opcodes read.
const MAX_OPCODES: usize = 48;
/// Most outputs.
const MAX_OUTPUTS: usize = 4;

/// The dtype and concrete shape of a value, from rumba's own inference.
#[derive(Clone, Debug)]
pub(crate) struct Val {
    pub dtype: DType,
    pub shape: Vec<usize>,
}

/// A decoded case.
pub(crate) struct Case {
    pub inputs: Vec<InputDecl>,
    pub steps: Vec<Step>,
    pub vals: Vec<Val>,
    /// The values that are graph outputs (`out0`, …).
    pub outputs: Vec<usize>,
    /// Run-time param values (empty: defaults only).
    pub params: BTreeMap<String, f64>,
    /// Which extra configurations run (see `super::configurations`).
    pub config: u8,
    pub graph: Graph,
    /// Where the input elements' bytes start.
    pub values_at: usize,
}

/// Decodes `data`; `None` when the graph could not be built (never expected: every kept
/// step was probed).
pub(crate) fn decode(data: &[u8]) -> Option<Case> {
    let mut r = Bytes::new(data);
    let header = r.byte();
    let inputs = decode_inputs(&mut r, 1 + usize::from(header & 1));
    let specs = inputs
        .iter()
        .map(|i| InputSpec {
            name: i.name.clone(),
            dtype: i.dtype,
            shape: i.shape.clone(),
        })
        .collect();
    let vals = inputs
        .iter()
        .map(|i| Val {
            dtype: i.dtype,
            shape: i.shape.clone(),
        })
        .collect();
    let realized = Realized::new(&inputs);
    let mut d = Decoder {
        r,
        inputs,
        specs,
        steps: Vec::new(),
        vals,
        realized,
        params: BTreeMap::new(),
        outputs: Vec::new(),
    };
    for _ in 0..MAX_OPCODES {
        if d.r.is_empty() || d.steps.len() >= MAX_STEPS {
            break;
        }
        if !d.opcode() {
            break;
        }
    }
    // The marked outputs, then the latest arrays the steps made (so little is dead).
    let n_inputs = d.inputs.len();
    for v in (n_inputs..d.vals.len()).rev() {
        if d.outputs.len() >= MAX_OUTPUTS.min(3) {
            break;
        }
        if !d.vals[v].shape.is_empty() && !d.outputs.contains(&v) {
            d.outputs.push(v);
        }
    }
    if d.outputs.is_empty() {
        d.outputs.push(d.vals.len() - 1);
    }
    let values_at = data.len() - d.r.rest().len();
    let named: Vec<(String, &rumba::dsl::Tensor)> = d
        .outputs
        .iter()
        .enumerate()
        .map(|(k, &v)| (format!("out{k}"), &d.realized.values[v]))
        .collect();
    let graph = d
        .realized
        .builder
        .build(named.iter().map(|(n, t)| (n.as_str(), *t)))
        .ok()?;
    Some(Case {
        inputs: d.inputs,
        steps: d.steps,
        vals: d.vals,
        outputs: d.outputs,
        params: d.params,
        config: header >> 1,
        graph,
        values_at,
    })
}

fn elements(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// 1–2 inputs: dtype, rank 0–4, small extents (0 among them), free dims, layout; the second
/// often broadcasts against the first.
fn decode_inputs(r: &mut Bytes<'_>, n: usize) -> Vec<InputDecl> {
    const DTYPES: [DType; 8] = [
        DType::U8,
        DType::F32,
        DType::F64,
        DType::U16,
        DType::I32,
        DType::F32,
        DType::U8,
        DType::Bool,
    ];
    const EXTENTS: [usize; 8] = [3, 1, 2, 4, 5, 7, 0, 6];
    let mut inputs: Vec<InputDecl> = Vec::new();
    for i in 0..n {
        let dtype = r.pick(&DTYPES);
        let mut shape: Vec<usize> = match inputs.first() {
            Some(first) if r.flag() => {
                // Broadcasts against the first: some dims 1, maybe fewer leading dims.
                let ones = r.byte();
                let drop = r.below(first.shape.len() + 1);
                first.shape[drop..]
                    .iter()
                    .enumerate()
                    .map(|(k, &e)| if ones >> (k % 8) & 1 == 1 { 1 } else { e })
                    .collect()
            }
            _ => {
                let rank = r.below(5);
                (0..rank).map(|_| r.pick(&EXTENTS)).collect()
            }
        };
        while elements(&shape) > MAX_INPUT {
            if let Some(big) = shape.iter_mut().max() {
                *big = 1;
            }
        }
        let free_bits = r.byte();
        let free = (0..shape.len()).map(|k| free_bits >> k & 1 == 1).collect();
        let rank = shape.len().max(1);
        let layout = match r.byte() {
            _ if shape.is_empty() => Layout::Contiguous,
            0..=0x7F => Layout::Contiguous,
            b @ 0x80..=0xAF => Layout::Strided(usize::from(b) % rank),
            b @ 0xB0..=0xDF => Layout::Reversed(usize::from(b) % rank),
            _ => Layout::Transposed,
        };
        inputs.push(InputDecl {
            name: format!("x{i}"),
            dtype,
            shape,
            free,
            layout,
        });
    }
    inputs
}

struct Decoder<'a> {
    r: Bytes<'a>,
    inputs: Vec<InputDecl>,
    specs: Vec<InputSpec>,
    steps: Vec<Step>,
    vals: Vec<Val>,
    realized: Realized,
    params: BTreeMap<String, f64>,
    outputs: Vec<usize>,
}

/// NumPy broadcasting of two shapes.
pub(crate) fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let at = |s: &[usize], k: usize| if k + s.len() >= rank { s[k + s.len() - rank] } else { 1 };
    (0..rank)
        .map(|k| match (at(a, k), at(b, k)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

const STATS: [Stat; 8] = [
    Stat::Mean,
    Stat::Sum,
    Stat::Min,
    Stat::Max,
    Stat::Var,
    Stat::Std,
    Stat::Median,
    Stat::Percentile(0.0),
];

const QS: [f64; 8] = [37.5, 0.0, 100.0, 50.0, 25.0, 99.9, 12.5, 1e-9];

impl Decoder<'_> {
    /// Reads and applies one opcode; `false` at `end`.
    fn opcode(&mut self) -> bool {
        match self.r.byte() % 24 {
            0 | 1 => self.unary(),
            2..=4 => self.arith(),
            5 => {
                self.compare();
            }
            6 => self.select(),
            7 => self.nan_to_num(),
            8 => self.cast(),
            9 => self.slice(),
            10 => self.slice_at(),
            11 => self.permute(),
            12 => self.squeeze_or_expand(),
            13 => self.broadcast_to(),
            14 | 15 => self.reduce(),
            16 | 17 => self.window(),
            18 => self.polygon(),
            19 => self.helper(),
            20 => {
                let c = self.scalar();
                self.try_step(Step::Const(c));
            }
            21 => {
                self.param();
            }
            22 => self.mark_output(),
            _ => return false,
        }
        true
    }

    /// Records `step` if rumba validates and binds it; returns its first value.
    fn try_step(&mut self, step: Step) -> Option<usize> {
        let first = self.realized.values.len();
        let made = self.realized.push(&step);
        let probes: Vec<(String, &rumba::dsl::Tensor)> = (0..made)
            .map(|k| (format!("probe{k}"), &self.realized.values[first + k]))
            .collect();
        let probed = self
            .realized
            .builder
            .build(probes.iter().map(|(n, t)| (n.as_str(), *t)))
            .ok()
            .and_then(|graph| {
                let bound = rumba_ir::bind::bind(&graph, &self.specs).ok()?;
                let vals: Vec<Val> = graph
                    .outputs
                    .iter()
                    .map(|o| Val {
                        dtype: graph.node(o.node).dtype,
                        shape: bound.shapes[o.node.index()].clone(),
                    })
                    .collect();
                vals.iter().all(|v| elements(&v.shape) <= MAX_VALUE).then_some(vals)
            });
        match probed {
            Some(vals) => {
                self.vals.extend(vals);
                self.steps.push(step);
                Some(first)
            }
            None => {
                self.realized = Realized::replay(&self.inputs, &self.steps);
                None
            }
        }
    }

    /// A value satisfying `fits` (byte 0: the latest).
    fn pick(&mut self, fits: impl Fn(&Val) -> bool) -> Option<usize> {
        let fitting: Vec<usize> = (0..self.vals.len()).filter(|&i| fits(&self.vals[i])).collect();
        let k = self.r.below(fitting.len());
        fitting.len().checked_sub(1 + k).map(|i| fitting[i])
    }

    /// An edge value, or raw f64 bits.
    fn scalar(&mut self) -> f64 {
        match self.r.byte() {
            m @ 0..0xF0 => EDGES[usize::from(m) % EDGES.len()],
            _ => f64::from_bits(self.r.le(8)),
        }
    }

    fn stat(&mut self) -> Stat {
        match self.r.pick(&STATS) {
            Stat::Percentile(_) => Stat::Percentile(self.r.pick(&QS)),
            s => s,
        }
    }

    /// A param with a default; maybe another value at run time.
    fn param(&mut self) -> Option<usize> {
        let name = format!("p{}", self.steps.len());
        let default = self.scalar();
        let run = self.r.flag().then(|| self.scalar());
        let made = self.try_step(Step::Param {
            name: name.clone(),
            default,
        });
        if let (Some(_), Some(run)) = (made, run) {
            self.params.insert(name, run);
        }
        made
    }

    /// A second operand for `like`: a scalar, or a value that broadcasts with it.
    fn rhs(&mut self, like: usize, numeric: bool) -> Rhs {
        if self.r.byte().is_multiple_of(3) {
            return Rhs::Scalar(self.scalar());
        }
        let shape = self.vals[like].shape.clone();
        let fits = |v: &Val| {
            (!numeric || v.dtype != DType::Bool)
                && broadcast(&v.shape, &shape).is_some_and(|s| elements(&s) <= MAX_VALUE)
        };
        match self.pick(fits) {
            Some(v) => Rhs::Value(v),
            None => Rhs::Scalar(self.scalar()),
        }
    }

    fn unary(&mut self) {
        let Some(x) = self.pick(|_| true) else { return };
        let ops: &[UnaryOp] = if self.vals[x].dtype.is_unsigned() {
            &[UnaryOp::Abs, UnaryOp::Sqrt, UnaryOp::Exp, UnaryOp::Log, UnaryOp::IsNan]
        } else {
            &[
                UnaryOp::Neg,
                UnaryOp::Abs,
                UnaryOp::Sqrt,
                UnaryOp::Exp,
                UnaryOp::Log,
                UnaryOp::IsNan,
            ]
        };
        let op = self.r.pick(ops);
        self.try_step(Step::Unary { op, x });
    }

    fn arith(&mut self) {
        let Some(x) = self.pick(|v| v.dtype != DType::Bool) else {
            return;
        };
        let op = self.r.pick(&ARITH);
        let b = self.rhs(x, true);
        let swap = self.r.flag() && !matches!(op, BinaryOp::Min | BinaryOp::Max);
        let (a, b) = if swap { (b, Rhs::Value(x)) } else { (Rhs::Value(x), b) };
        self.try_step(Step::Binary { op, a, b });
    }

    /// `x cmp rhs` (a bool value).
    fn compare(&mut self) -> Option<usize> {
        let x = self.pick(|_| true)?;
        self.compare_with(x)
    }

    fn compare_with(&mut self, x: usize) -> Option<usize> {
        let op = self.r.pick(&COMPARE);
        let b = self.rhs(x, false);
        self.try_step(Step::Binary {
            op,
            a: Rhs::Value(x),
            b,
        })
    }

    fn select(&mut self) {
        let Some(a) = self.pick(|_| true) else { return };
        let shape = self.vals[a].shape.clone();
        let cond = self
            .pick(|v| v.dtype == DType::Bool && broadcast(&v.shape, &shape).is_some_and(|s| elements(&s) <= MAX_VALUE));
        let cond = match cond {
            Some(c) if self.r.flag() => c,
            _ => match self.compare_with(a) {
                Some(c) => c,
                None => return,
            },
        };
        let b = self.rhs(a, false);
        let (a, b) = if self.r.flag() {
            (b, Rhs::Value(a))
        } else {
            (Rhs::Value(a), b)
        };
        self.try_step(Step::Select { cond, a, b });
    }

    fn nan_to_num(&mut self) {
        let Some(x) = self.pick(|_| true) else { return };
        let mut values = [None; 3];
        for v in &mut values {
            if self.r.flag() {
                *v = Some(self.scalar());
            }
        }
        self.try_step(Step::NanToNum { x, values });
    }

    fn cast(&mut self) {
        let Some(x) = self.pick(|_| true) else { return };
        let to = self.r.pick(&DType::ALL);
        self.try_step(Step::Cast { x, to });
    }

    fn slice(&mut self) {
        let Some(x) = self.pick(|v| !v.shape.is_empty()) else {
            return;
        };
        let axis = self.r.below(self.vals[x].shape.len());
        let n = self.vals[x].shape[axis] as i64;
        let mut bound = || {
            let b = i64::from(self.r.byte());
            (b & 1 == 1).then(|| (b >> 1) % (2 * n + 3) - (n + 1))
        };
        let (start, stop) = (bound(), bound());
        let step = self.r.pick(&[1, 2, -1, 1, -2, 3, -3, 5]);
        self.try_step(Step::Slice {
            x,
            axis,
            start,
            stop,
            step,
        });
    }

    fn slice_at(&mut self) {
        let Some(x) = self.pick(|v| !v.shape.is_empty()) else {
            return;
        };
        let axis = self.r.below(self.vals[x].shape.len());
        let n = self.vals[x].shape[axis];
        let mut len = self.r.below(n + 1);
        let mut step = 1 + self.r.below(3);
        if len > 0 && (len - 1) * step >= n {
            (len, step) = (1, 1);
        }
        let span = len.saturating_sub(1) * step;
        let last = n.saturating_sub(1 + span);
        let first = self.r.below(last + 1) as f64;
        let default = if self.r.flag() { first - n as f64 } else { first };
        let run = match self.r.byte() % 6 {
            0 => Some(self.r.below(last + 1) as f64),
            1 => Some(self.r.pick(&[0.5, f64::NAN, -1e16, 1e300, -0.0])),
            2 => Some((last + 1) as f64),
            3 => Some(-(n as f64) - 1.0),
            _ => None,
        };
        let name = format!("p{}", self.steps.len());
        let Some(start) = self.try_step(Step::Param {
            name: name.clone(),
            default,
        }) else {
            return;
        };
        if let Some(run) = run {
            self.params.insert(name, run);
        }
        self.try_step(Step::SliceAt {
            x,
            axis,
            start,
            len,
            step: step as i64,
        });
    }

    fn permute(&mut self) {
        let Some(x) = self.pick(|v| v.shape.len() >= 2) else {
            return;
        };
        let mut left: Vec<usize> = (0..self.vals[x].shape.len()).collect();
        let mut code = usize::from(self.r.byte());
        let mut axes = Vec::new();
        while !left.is_empty() {
            axes.push(left.remove(code % left.len()));
            code /= left.len() + 1;
        }
        self.try_step(Step::Permute { x, axes });
    }

    fn squeeze_or_expand(&mut self) {
        let Some(x) = self.pick(|_| true) else { return };
        let shape = self.vals[x].shape.clone();
        let ones: Vec<usize> = (0..shape.len()).filter(|&k| shape[k] == 1).collect();
        let bits = self.r.byte();
        if bits & 0x80 != 0 && !ones.is_empty() {
            let mut axes: Vec<usize> = ones
                .iter()
                .enumerate()
                .filter(|(k, _)| bits >> k & 1 == 1)
                .map(|(_, &a)| a)
                .collect();
            if axes.is_empty() {
                axes.push(ones[0]);
            }
            self.try_step(Step::Squeeze { x, axes });
        } else if shape.len() < 6 {
            let axis = usize::from(bits) % (shape.len() + 1);
            self.try_step(Step::Expand { x, axis });
        }
    }

    fn broadcast_to(&mut self) {
        let Some(x) = self.pick(|v| v.shape.len() < 6) else {
            return;
        };
        let mut shape = Vec::new();
        if self.r.flag() {
            shape.push(1 + self.r.below(3));
        }
        for k in 0..self.vals[x].shape.len() {
            let e = self.vals[x].shape[k];
            shape.push(if e == 1 { self.r.pick(&[1, 2, 3, 1, 4]) } else { e });
        }
        if elements(&shape) <= MAX_VALUE {
            self.try_step(Step::BroadcastTo { x, shape });
        }
    }

    fn reduce(&mut self) {
        let Some(x) = self.pick(|v| !v.shape.is_empty()) else {
            return;
        };
        let rank = self.vals[x].shape.len();
        let stat = self.stat();
        let bits = self.r.byte();
        let mut axes: Vec<usize> = (0..rank).filter(|k| bits >> k & 1 == 1).collect();
        if axes.is_empty() && bits & 0x80 == 0 {
            axes.push(usize::from(bits >> 4) % rank);
        }
        let flags = self.r.byte();
        let (keepdims, skip_nan) = (flags & 1 == 1, flags & 2 == 2);
        let mask = if flags & 12 == 0 {
            let shape = self.vals[x].shape.clone();
            let fitting = self.pick(|v| v.dtype == DType::Bool && broadcast(&v.shape, &shape).as_ref() == Some(&shape));
            match fitting {
                Some(m) if flags & 16 == 16 => Some(m),
                _ if flags & 32 == 32 => self.try_step(Step::Binary {
                    op: BinaryOp::Eq,
                    a: Rhs::Value(x),
                    b: Rhs::Value(x),
                }),
                _ => self.compare_with(x),
            }
        } else {
            None
        };
        self.try_step(Step::Reduce {
            x,
            stat,
            axes,
            keepdims,
            skip_nan,
            mask,
        });
    }

    fn window(&mut self) {
        let Some(x) = self.pick(|v| !v.shape.is_empty()) else {
            return;
        };
        let rank = self.vals[x].shape.len();
        let b = self.r.byte();
        let axis = if b.is_multiple_of(4) {
            usize::from(b >> 2) % rank
        } else {
            0
        };
        let n = self.vals[x].shape[axis];
        let kind = if b >= 0xD0 {
            let len = 1 + self.r.below(4);
            WindowKind::Weighted((0..len).map(|_| self.scalar()).collect())
        } else {
            WindowKind::Stat(self.stat())
        };
        let size = match &kind {
            WindowKind::Weighted(w) => w.len() as i64,
            WindowKind::Stat(_) => 1 + self.r.below(n + 2) as i64,
        };
        let skip_nan = self.r.flag();
        self.try_step(Step::Window {
            x,
            kind,
            axis,
            size,
            skip_nan,
        });
    }

    /// Vertices in half pixels within the (H, W) image ± 1.
    fn vertices(&mut self, h: usize, w: usize) -> Vec<[f64; 2]> {
        let n = 3 + self.r.below(3);
        (0..n)
            .map(|_| {
                let x = self.r.below(2 * w + 5) as f64 * 0.5 - 1.0;
                let y = self.r.below(2 * h + 5) as f64 * 0.5 - 1.0;
                [x, y]
            })
            .collect()
    }

    fn polygon(&mut self) {
        let Some(x) = self.pick(|v| v.shape.len() == 4) else {
            return;
        };
        let (h, w) = (self.vals[x].shape[1], self.vals[x].shape[2]);
        let mode = self.r.byte() % 4;
        let vertices = self.vertices(h, w);
        match mode {
            0 => {
                self.try_step(Step::PolygonMask { like: x, vertices });
            }
            1 => {
                let Some(cond) = self.try_step(Step::PolygonMask { like: x, vertices }) else {
                    return;
                };
                let b = self.rhs(x, false);
                self.try_step(Step::Select {
                    cond,
                    a: Rhs::Value(x),
                    b,
                });
            }
            2 => {
                let fill = self.r.pick(&[0.0, f64::NAN, 1.5, -1.0, 255.0, f64::INFINITY]);
                self.try_step(Step::ApplyPolygon { x, vertices, fill });
            }
            _ => {
                self.try_step(Step::RoiSeries { x, vertices });
            }
        }
    }

    fn helper(&mut self) {
        let Some(x) = self.pick(|v| v.shape.len() == 4 && !v.shape.contains(&0) && v.dtype != DType::Bool) else {
            return;
        };
        let shape = self.vals[x].shape.clone();
        let t = shape[0];
        match self.r.byte() % 4 {
            0 => {
                let b0 = self.r.below(t) as i64;
                let b1 = b0 + self.r.below(t + 1) as i64;
                let stat = self.stat();
                self.try_step(Step::RangeReference {
                    x,
                    bounds: [b0, b1],
                    stat,
                });
            }
            1 => {
                let (window, lag) = (1 + self.r.below(t) as i64, self.r.below(t) as i64);
                let stat = self.stat();
                self.try_step(Step::SlidingReference { x, window, lag, stat });
            }
            2 => {
                let subtract = if self.r.flag() {
                    Some(self.reference(&shape))
                } else {
                    None
                };
                let mut divide = if self.r.flag() {
                    Some(self.reference(&shape))
                } else {
                    None
                };
                // Two sliding steps share window and lag.
                if let (
                    Some(Reference {
                        source: s @ Source::Sliding { .. },
                        ..
                    }),
                    Some(Reference {
                        source: d @ Source::Sliding { .. },
                        ..
                    }),
                ) = (&subtract, &mut divide)
                {
                    *d = *s;
                }
                self.try_step(Step::Pipeline { x, subtract, divide });
            }
            _ => {
                let orientation = if self.r.flag() { Orientation::V } else { Orientation::H };
                let n = if orientation == Orientation::V {
                    shape[2]
                } else {
                    shape[1]
                };
                let pos = self.r.below(n) as i64;
                let halfwidth = self.r.below(3) as i64;
                let over = if self.r.flag() {
                    EnvelopeOver::Frames
                } else {
                    EnvelopeOver::Dataset
                };
                self.try_step(Step::Envelope {
                    x,
                    orientation,
                    pos,
                    halfwidth,
                    over,
                });
            }
        }
    }

    /// A pipeline step for a (T, H, W, C) stack.
    fn reference(&mut self, shape: &[usize]) -> Reference {
        let t = shape[0];
        let frame = [1, shape[1], shape[2], shape[3]];
        let source = match self.r.byte() % 3 {
            0 => {
                let b0 = self.r.below(t) as i64;
                Source::Range([b0, b0 + self.r.below(t + 1) as i64])
            }
            1 => Source::Sliding {
                window: 1 + self.r.below(t) as i64,
                lag: self.r.below(t) as i64,
            },
            _ => match self.pick(|v| v.shape == frame && v.dtype != DType::Bool) {
                Some(f) => Source::File(f),
                None => Source::Range([0, 0]),
            },
        };
        let stat = self.stat();
        let skip_nan = self.r.flag() && !matches!(source, Source::File(_));
        let amount = match self.r.byte() % 4 {
            0 => self.param().map_or(Rhs::Scalar(1.0), Rhs::Value),
            _ => Rhs::Scalar(self.r.pick(&[1.0, 0.5, 0.0, 2.0, -1.0, f64::NAN])),
        };
        Reference {
            source,
            stat,
            skip_nan,
            amount,
        }
    }

    fn mark_output(&mut self) {
        let Some(v) = self.pick(|_| true) else { return };
        if !self.outputs.contains(&v) && self.outputs.len() < MAX_OUTPUTS {
            self.outputs.push(v);
        }
    }
}
