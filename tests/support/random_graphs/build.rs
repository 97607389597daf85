//! Resolving a [`CasePlan`] into DSL calls against the dtypes and shapes they meet.
//!
//! Every call is probed as it is made — the graph so far is validated and bound to the inputs
//! — so the next plan node knows its operand's dtype and concrete shape from rumba itself (no
//! second copy of the promotion rules here), and the first call that validation or binding
//! rejects ends the case. A transcript of the calls, as Rust, makes a failure reproducible.

use super::inputs::{Input, permutation};
use super::{
    CasePlan, Expr, HelperPlan, MAX_BROADCAST, MaskPlan, Movement, Operand, PolygonApply, ReducePlan, RunStart, Scalar,
    StepPlan, StepSource, WindowKindPlan, WindowPlan,
};
use rumba::dsl::{Arg, Builder, Stat, Step, Tensor};
use rumba::{DType, Graph, GraphError, InputSpec};
use rumba_ir::def::{EnvelopeOver, Orientation};
use std::collections::BTreeMap;

/// Most outputs of a case (helpers add extra ones).
const MAX_OUTPUTS: usize = 4;

/// A resolved case.
pub struct Built {
    /// The inputs (storage and views).
    pub inputs: Vec<Input>,
    /// The DSL calls, as Rust.
    pub transcript: String,
    /// What validation and binding said.
    pub outcome: Outcome,
    /// Run-time param values that differ from the defaults (empty: run with defaults only).
    pub params: BTreeMap<String, f64>,
}

/// What validation and binding made of a case.
pub enum Outcome {
    /// A graph that binds to the inputs.
    Valid(Graph),
    /// Validation rejected a call: nothing can run.
    Invalid(GraphError),
    /// A valid graph (its output is the call binding rejected) that every path must reject.
    Unbindable(Graph, GraphError),
}

/// A probed tensor: its DSL handle, transcript name, dtype and concrete shape.
#[derive(Clone)]
struct V {
    t: Tensor,
    name: String,
    dtype: DType,
    shape: Vec<usize>,
}

impl V {
    fn rank(&self) -> usize {
        self.shape.len()
    }
}

/// A second operand: an `f64` or a tensor.
#[derive(Clone)]
enum Rhs {
    S(f64),
    T(V),
}

impl Rhs {
    fn arg(&self) -> Arg {
        match self {
            Rhs::S(v) => Arg::from(*v),
            Rhs::T(v) => Arg::from(&v.t),
        }
    }

    fn text(&self) -> String {
        match self {
            Rhs::S(v) => lit(*v),
            Rhs::T(v) => format!("&{}", v.name),
        }
    }
}

/// Why resolution stopped early.
enum Stop {
    Invalid(GraphError),
    Unbindable(V, GraphError),
}

type R<T> = Result<T, Stop>;

/// An `f64` as a Rust expression.
pub fn lit(v: f64) -> String {
    if v.is_nan() {
        "f64::NAN".into()
    } else if v == f64::INFINITY {
        "f64::INFINITY".into()
    } else if v == f64::NEG_INFINITY {
        "f64::NEG_INFINITY".into()
    } else {
        format!("{v:?}")
    }
}

fn stat_text(s: Stat) -> String {
    match s {
        Stat::Percentile(q) => format!("Stat::Percentile({})", lit(q)),
        s => format!("Stat::{s:?}"),
    }
}

fn vertices_text(v: &[[f64; 2]]) -> String {
    let v: Vec<String> = v.iter().map(|[x, y]| format!("[{}, {}]", lit(*x), lit(*y))).collect();
    format!("&[{}]", v.join(", "))
}

const COMPARISONS: [&str; 6] = ["lt", "le", "gt", "ge", "eq", "ne"];

fn compare(x: &Tensor, cmp: u8, rhs: &Rhs) -> Tensor {
    let rhs = rhs.arg();
    match cmp % 6 {
        0 => x.lt(rhs),
        1 => x.le(rhs),
        2 => x.gt(rhs),
        3 => x.ge(rhs),
        4 => x.eq(rhs),
        _ => x.ne(rhs),
    }
}

macro_rules! arith {
    ($a:expr, $b:expr, $op:tt) => {
        match ($a, $b) {
            (Rhs::T(a), Rhs::T(b)) => &a.t $op &b.t,
            (Rhs::T(a), Rhs::S(b)) => &a.t $op *b,
            (Rhs::S(a), Rhs::T(b)) => *a $op &b.t,
            (Rhs::S(_), Rhs::S(_)) => unreachable!("one operand is an array"),
        }
    };
}

struct Ctx<'a> {
    b: Builder,
    inputs: Vec<V>,
    specs: &'a [InputSpec],
    lines: Vec<String>,
    params: BTreeMap<String, f64>,
    extras: Vec<V>,
    next: usize,
    next_param: usize,
}

/// Resolves a plan: inputs, DSL calls, transcript, and what validation and binding say.
pub fn build(plan: &CasePlan) -> Built {
    let inputs: Vec<Input> = plan
        .inputs
        .iter()
        .enumerate()
        .map(|(i, p)| Input::new(format!("x{i}"), p.clone()))
        .collect();
    let specs: Vec<InputSpec> = inputs
        .iter()
        .map(|i| InputSpec {
            name: i.name.clone(),
            dtype: i.plan.dtype,
            shape: i.plan.shape.clone(),
        })
        .collect();
    let b = Builder::new();
    let mut cx = Ctx {
        inputs: Vec::new(),
        specs: &specs,
        lines: vec!["let b = Builder::new();".into()],
        params: BTreeMap::new(),
        extras: Vec::new(),
        next: 0,
        next_param: 0,
        b,
    };
    for i in &inputs {
        let shape: Vec<Option<usize>> = i
            .plan
            .shape
            .iter()
            .zip(&i.plan.free)
            .map(|(&n, &free)| (!free).then_some(n))
            .collect();
        cx.lines.push(format!("let {} = {};", i.name, i.declaration()));
        cx.inputs.push(V {
            t: cx.b.input(&i.name, i.plan.dtype, shape),
            name: i.name.clone(),
            dtype: i.plan.dtype,
            shape: i.plan.shape.clone(),
        });
    }
    let outcome = match cx.outputs(plan) {
        Ok(graph) => Outcome::Valid(graph),
        Err(Stop::Invalid(e)) => Outcome::Invalid(e),
        Err(Stop::Unbindable(v, e)) => {
            cx.lines
                .push(format!("let graph = b.build([(\"out0\", &{})]);", v.name));
            let graph = cx.b.build([("out0", &v.t)]).expect("probed: valid");
            Outcome::Unbindable(graph, e)
        }
    };
    Built {
        inputs,
        transcript: cx.lines.join("\n"),
        outcome,
        params: cx.params,
    }
}

impl Ctx<'_> {
    fn outputs(&mut self, plan: &CasePlan) -> R<Graph> {
        let mut outs = Vec::new();
        for e in &plan.outputs {
            outs.push(self.expr(e)?);
        }
        outs.append(&mut self.extras);
        outs.truncate(MAX_OUTPUTS);
        let named: Vec<(String, &V)> = outs.iter().enumerate().map(|(i, v)| (format!("out{i}"), v)).collect();
        let list: Vec<String> = named.iter().map(|(n, v)| format!("(\"{n}\", &{})", v.name)).collect();
        self.lines.push(format!("let graph = b.build([{}]);", list.join(", ")));
        let graph = self
            .b
            .build(named.iter().map(|(n, v)| (n.as_str(), &v.t)))
            .map_err(Stop::Invalid)?;
        match rumba_ir::bind::bind(&graph, self.specs) {
            Ok(_) => Ok(graph),
            Err(e) => Err(Stop::Unbindable(outs[0].clone(), e)),
        }
    }

    /// Records `let tN = call;` and probes the new tensor.
    fn emit(&mut self, call: String, t: Tensor) -> R<V> {
        let name = format!("t{}", self.next);
        self.next += 1;
        self.lines.push(format!("let {name} = {call};"));
        self.probe(name, t)
    }

    fn probe(&mut self, name: String, t: Tensor) -> R<V> {
        let graph = self.b.build([("probe", &t)]).map_err(Stop::Invalid)?;
        let node = graph.outputs[0].node;
        let v = V {
            t,
            name,
            dtype: graph.node(node).dtype,
            shape: Vec::new(),
        };
        match rumba_ir::bind::bind(&graph, self.specs) {
            Ok(bound) => Ok(V {
                shape: bound.shapes[node.index()].clone(),
                ..v
            }),
            Err(e) => Err(Stop::Unbindable(v, e)),
        }
    }

    /// Several outputs of one helper call: `let (tN, tM) = call;`.
    fn emit_many(&mut self, call: String, ts: Vec<Tensor>) -> R<Vec<V>> {
        let names: Vec<String> = (0..ts.len()).map(|k| format!("t{}", self.next + k)).collect();
        self.next += ts.len();
        self.lines.push(format!("let ({}) = {call};", names.join(", ")));
        names.into_iter().zip(ts).map(|(n, t)| self.probe(n, t)).collect()
    }

    fn param(&mut self, prefix: &str, default: f64, run: Option<f64>) -> R<V> {
        let name = format!("{prefix}{}", self.next_param);
        self.next_param += 1;
        self.lines
            .push(format!("let {name} = b.param(\"{name}\", Some({}));", lit(default)));
        if let Some(r) = run {
            self.lines.push(format!("// run with {name} = {}", lit(r)));
            self.params.insert(name.clone(), r);
        }
        let t = self.b.param(&name, Some(default));
        self.probe(name, t)
    }

    /// `bool` becomes `u8` (arithmetic and statistics need a numeric dtype).
    fn numeric(&mut self, x: V) -> R<V> {
        if x.dtype != DType::Bool {
            return Ok(x);
        }
        self.emit(format!("{}.cast(DType::U8)", x.name), x.t.cast(DType::U8))
    }

    /// Rank 0 becomes rank 1 (for ops that need an axis).
    fn ranked(&mut self, x: V) -> R<V> {
        if x.rank() > 0 {
            return Ok(x);
        }
        self.emit(format!("{}.expand(0)", x.name), x.t.expand(0))
    }

    fn reduce(&mut self, x: &V, stat: Stat, axes: &[usize], keepdims: bool) -> R<V> {
        let call = format!(
            "{}.reduce_with({}, &{axes:?}, {keepdims}, false, None)",
            x.name,
            stat_text(stat)
        );
        self.emit(call, x.t.reduce_with(stat, axes, keepdims, false, None))
    }

    fn scalar(&mut self, s: &Scalar) -> R<Rhs> {
        match s {
            Scalar::Const(v) => Ok(Rhs::S(*v)),
            Scalar::Param { default, run } => Ok(Rhs::T(self.param("p", *default, *run)?)),
        }
    }

    /// A second operand that broadcasts against `like` (within [`MAX_BROADCAST`] elements).
    fn operand(&mut self, o: &Operand, like: &V) -> R<Rhs> {
        match o {
            Operand::Scalar(s) => self.scalar(s),
            Operand::Expr(e) => {
                let v = self.expr(e)?;
                let v = self.numeric(v)?;
                Ok(match self.conform(v, &like.shape)? {
                    Some(v) => Rhs::T(v),
                    None => Rhs::S(1.5),
                })
            }
        }
    }

    /// Slices and reduces `v` until it broadcasts against `target`; `None` if it cannot (an
    /// empty axis that would have to be reduced).
    fn conform(&mut self, mut v: V, target: &[usize]) -> R<Option<V>> {
        if v.rank() > target.len() {
            let surplus: Vec<usize> = (0..v.rank() - target.len()).collect();
            if surplus.iter().any(|&a| v.shape[a] == 0) {
                return Ok(None);
            }
            v = self.reduce(&v, Stat::Max, &surplus, false)?;
        }
        let off = target.len() - v.rank();
        for axis in 0..v.rank() {
            let (r, l) = (v.shape[axis], target[off + axis]);
            if r > l && l != 1 {
                let start = ((r - l) / 2) as i64;
                let call = format!("{}.slice({axis}, Some({start}), Some({}), 1)", v.name, start + l as i64);
                v = self.emit(call, v.t.slice(axis, Some(start), Some(start + l as i64), 1))?;
            }
        }
        let mut shrink: Vec<usize> = (0..v.rank())
            .filter(|&a| v.shape[a] != target[off + a] && v.shape[a] != 1 && target[off + a] != 1)
            .collect();
        if shrink.iter().any(|&a| v.shape[a] == 0) {
            return Ok(None);
        }
        let size = |v: &V| -> usize {
            (0..target.len())
                .map(|a| {
                    if a < off {
                        target[a]
                    } else {
                        target[a].max(v.shape[a - off])
                    }
                })
                .product()
        };
        if size(&v) > MAX_BROADCAST || !shrink.is_empty() {
            if size(&v) > MAX_BROADCAST {
                shrink.extend((0..v.rank()).filter(|&a| target[off + a] == 1 && v.shape[a] > 1));
                shrink.sort_unstable();
            }
            v = self.reduce(&v, Stat::Max, &shrink, true)?;
        }
        Ok(Some(v))
    }

    fn expr(&mut self, e: &Expr) -> R<V> {
        match e {
            Expr::Input(i) => Ok(self.inputs[*i as usize % self.inputs.len()].clone()),
            Expr::Unary { op, wild, x } => {
                let x = self.expr(x)?;
                let x = if *wild { x } else { self.numeric(x)? };
                let ops: &[&str] = if x.dtype.is_unsigned() && !wild {
                    &["abs", "sqrt", "exp", "log", "is_nan"]
                } else {
                    &["neg", "abs", "sqrt", "exp", "log", "is_nan"]
                };
                let op = ops[*op as usize % ops.len()];
                let t = match op {
                    "neg" => -&x.t,
                    "abs" => x.t.abs(),
                    "sqrt" => x.t.sqrt(),
                    "exp" => x.t.exp(),
                    "log" => x.t.log(),
                    _ => x.t.is_nan(),
                };
                let call = if op == "neg" {
                    format!("-&{}", x.name)
                } else {
                    format!("{}.{op}()", x.name)
                };
                self.emit(call, t)
            }
            Expr::Binary { op, swap, x, rhs } => {
                let x = self.expr(x)?;
                let x = self.numeric(x)?;
                let rhs = self.operand(rhs, &x)?;
                let (a, b) = if *swap { (rhs, Rhs::T(x)) } else { (Rhs::T(x), rhs) };
                let (t, call) = match op % 6 {
                    0 => (arith!(&a, &b, +), format!("{} + {}", a.text(), b.text())),
                    1 => (arith!(&a, &b, -), format!("{} - {}", a.text(), b.text())),
                    2 => (arith!(&a, &b, *), format!("{} * {}", a.text(), b.text())),
                    3 => (arith!(&a, &b, /), format!("{} / {}", a.text(), b.text())),
                    k => {
                        // min/max are methods: the array operand goes first.
                        let (a, b) = match (&a, &b) {
                            (Rhs::S(_), _) => (&b, &a),
                            _ => (&a, &b),
                        };
                        let Rhs::T(a) = a else {
                            unreachable!("one operand is an array")
                        };
                        let name = if k == 4 { "min" } else { "max" };
                        let t = if k == 4 { a.t.min(b.arg()) } else { a.t.max(b.arg()) };
                        (t, format!("{}.{name}({})", a.name, b.text()))
                    }
                };
                self.emit(call, t)
            }
            Expr::Select { cmp, x, rhs, other } => {
                let x = self.expr(x)?;
                let x = self.numeric(x)?;
                let cond = if *cmp == 6 {
                    self.emit(format!("{}.is_nan()", x.name), x.t.is_nan())?
                } else {
                    let rhs = self.operand(rhs, &x)?;
                    let call = format!("{}.{}({})", x.name, COMPARISONS[*cmp as usize % 6], rhs.text());
                    self.emit(call, compare(&x.t, *cmp, &rhs))?
                };
                let other = self.operand(other, &x)?;
                let call = format!("{}.select(&{}, {})", cond.name, x.name, other.text());
                self.emit(call, cond.t.select(&x.t, other.arg()))
            }
            Expr::NanToNum {
                values: [nan, pos, neg],
                x,
            } => {
                let x = self.expr(x)?;
                let x = self.numeric(x)?;
                let o = |v: &Option<f64>| v.map_or("None".to_owned(), |v| format!("Some({})", lit(v)));
                let call = format!("{}.nan_to_num({}, {}, {})", x.name, o(nan), o(pos), o(neg));
                self.emit(call, x.t.nan_to_num(*nan, *pos, *neg))
            }
            Expr::Cast { to, x } => {
                let x = self.expr(x)?;
                let to = DType::ALL[*to as usize % DType::ALL.len()];
                self.emit(format!("{}.cast(DType::{to:?})", x.name), x.t.cast(to))
            }
            Expr::Move { m, x } => {
                let x = self.expr(x)?;
                self.movement(m, x)
            }
            Expr::Reduce { r, x } => {
                let x = self.expr(x)?;
                self.reduction(r, x)
            }
            Expr::Window { w, x } => {
                let x = self.expr(x)?;
                self.window(w, x)
            }
            Expr::Polygon { p, x } => {
                let x = self.expr(x)?;
                if x.rank() != 4 {
                    return Ok(x);
                }
                let v = polygon(&p.vertices, &x.shape);
                match &p.apply {
                    PolygonApply::Select(other) => {
                        let x = self.numeric(x)?;
                        let call = format!("{}.polygon_mask_like({})", x.name, vertices_text(&v));
                        let mask = self.emit(call, x.t.polygon_mask_like(&v))?;
                        let other = self.operand(other, &x)?;
                        let call = format!("{}.select(&{}, {})", mask.name, x.name, other.text());
                        self.emit(call, mask.t.select(&x.t, other.arg()))
                    }
                    PolygonApply::Helper(fill) => {
                        let call = format!("{}.apply_polygon({}, {})", x.name, vertices_text(&v), lit(*fill));
                        self.emit(call, x.t.apply_polygon(&v, *fill))
                    }
                }
            }
            Expr::Helper { h, x } => {
                let x = self.expr(x)?;
                // Helpers need a stack (T, H, W, C) with no empty axis.
                let stack = |v: &V| v.rank() == 4 && !v.shape.contains(&0);
                let subject = if stack(&x) {
                    x
                } else {
                    match self.inputs.iter().find(|i| stack(i)) {
                        Some(i) => i.clone(),
                        None => return Ok(x),
                    }
                };
                let subject = self.numeric(subject)?;
                self.helper(h, subject)
            }
        }
    }

    fn movement(&mut self, m: &Movement, x: V) -> R<V> {
        match m {
            Movement::Slice {
                axis,
                start,
                stop,
                step,
            } => {
                let x = self.ranked(x)?;
                let axis = *axis as usize % x.rank();
                let n = x.shape[axis] as i64;
                let bound = |raw: u8| i64::from(raw) % (2 * n + 3) - (n + 1);
                let (start, stop, step) = (start.map(bound), stop.map(bound), i64::from(*step));
                let call = format!("{}.slice({axis}, {start:?}, {stop:?}, {step})", x.name);
                self.emit(call, x.t.slice(axis, start, stop, step))
            }
            Movement::SliceAt {
                axis,
                len,
                step,
                start,
                from_end,
                run,
            } => {
                let x = self.ranked(x)?;
                let axis = *axis as usize % x.rank();
                let n = x.shape[axis];
                if n == 0 {
                    return Ok(x);
                }
                let step = 1 + *step as usize % 3;
                let len = 1 + *len as usize % ((n - 1) / step + 1);
                let room = n - (len - 1) * step;
                let first = |raw: u8, from_end: bool| {
                    let s = (raw as usize % room) as f64;
                    if from_end { s - n as f64 } else { s }
                };
                let run = match *run {
                    RunStart::Default => None,
                    RunStart::Other(raw) => Some(first(raw, raw % 2 == 1)),
                    RunStart::Invalid(raw) => Some([0.5, room as f64, -(n as f64) - 1.0, f64::NAN][raw as usize % 4]),
                };
                let p = self.param("s", first(*start, *from_end), run)?;
                let call = format!("{}.slice_at({axis}, &{}, {len}, {step})", x.name, p.name);
                self.emit(call, x.t.slice_at(axis, &p.t, len, step as i64))
            }
            Movement::Permute(code) => {
                let perm = permutation(*code, x.rank());
                self.emit(format!("{}.permute(&{perm:?})", x.name), x.t.permute(&perm))
            }
            Movement::Squeeze(pick) => {
                let mut x = x;
                let mut ones: Vec<usize> = (0..x.rank()).filter(|&a| x.shape[a] == 1).collect();
                if ones.is_empty() {
                    let axis = *pick as usize % (x.rank() + 1);
                    x = self.emit(format!("{}.expand({axis})", x.name), x.t.expand(axis))?;
                    ones = vec![axis];
                }
                let mut axes: Vec<usize> = ones
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| pick & (1 << (k % 8)) != 0)
                    .map(|(_, &a)| a)
                    .collect();
                if axes.is_empty() {
                    axes.push(ones[*pick as usize % ones.len()]);
                }
                self.emit(format!("{}.squeeze(&{axes:?})", x.name), x.t.squeeze(&axes))
            }
            Movement::Expand(pick) => {
                if x.rank() >= 5 {
                    return Ok(x);
                }
                let axis = *pick as usize % (x.rank() + 1);
                self.emit(format!("{}.expand({axis})", x.name), x.t.expand(axis))
            }
            Movement::BroadcastTo(code) => {
                let grow = |k: usize| [1, 2, 3][(*code as usize >> (2 * k + 1)) % 3];
                let mut shape: Vec<usize> = x
                    .shape
                    .iter()
                    .enumerate()
                    .map(|(k, &n)| if n == 1 { grow(k) } else { n })
                    .collect();
                if code & 1 == 1 && x.rank() < 5 {
                    shape.insert(0, grow(7));
                }
                if shape.iter().product::<usize>() > MAX_BROADCAST {
                    shape.clone_from(&x.shape);
                }
                self.emit(format!("{}.broadcast_to(&{shape:?})", x.name), x.t.broadcast_to(&shape))
            }
        }
    }

    fn reduction(&mut self, r: &ReducePlan, x: V) -> R<V> {
        let x = self.numeric(x)?;
        let x = self.ranked(x)?;
        let bits = r.axes as usize % ((1 << x.rank()) - 1) + 1;
        let axes: Vec<usize> = (0..x.rank())
            .filter(|&a| bits & (1 << a) != 0 && (r.wild || x.shape[a] > 0))
            .collect();
        if axes.is_empty() {
            return Ok(x);
        }
        let stat = match r.stat {
            Stat::Percentile(_) if r.wild => Stat::Percentile(150.0),
            s => s,
        };
        let mask = match &r.mask {
            None => None,
            Some(m) => Some(self.mask(m, &x)?),
        };
        let call = format!(
            "{}.reduce_with({}, &{axes:?}, {}, {}, {})",
            x.name,
            stat_text(stat),
            r.keepdims,
            r.skip_nan,
            mask.as_ref()
                .map_or("None".to_owned(), |m| format!("Some(&{})", m.name))
        );
        let t =
            x.t.reduce_with(stat, &axes, r.keepdims, r.skip_nan, mask.as_ref().map(|m| &m.t));
        self.emit(call, t)
    }

    fn mask(&mut self, m: &MaskPlan, x: &V) -> R<V> {
        let fits = |i: &V| {
            i.rank() <= x.rank()
                && i.shape
                    .iter()
                    .rev()
                    .zip(x.shape.iter().rev())
                    .all(|(a, b)| a == b || *a == 1)
        };
        let (subject, cmp, value) = match m {
            MaskPlan::NotNan => {
                return self.emit(format!("{0}.eq(&{0})", x.name), x.t.eq(&x.t));
            }
            MaskPlan::Polygon(vertices) if x.rank() == 4 => {
                let v = polygon(vertices, &x.shape);
                let call = format!("{}.polygon_mask_like({})", x.name, vertices_text(&v));
                return self.emit(call, x.t.polygon_mask_like(&v));
            }
            MaskPlan::Polygon(_) => return self.emit(format!("{0}.eq(&{0})", x.name), x.t.eq(&x.t)),
            MaskPlan::Input { cmp, value } => match self.inputs.iter().find(|i| fits(i)) {
                Some(i) => (i.clone(), *cmp, *value),
                None => (x.clone(), *cmp, *value),
            },
            MaskPlan::Compare { cmp, value } => (x.clone(), *cmp, *value),
        };
        let call = format!("{}.{}({})", subject.name, COMPARISONS[cmp as usize % 6], lit(value));
        self.emit(call, compare(&subject.t, cmp, &Rhs::S(value)))
    }

    fn window(&mut self, w: &WindowPlan, x: V) -> R<V> {
        let x = self.numeric(x)?;
        let x = self.ranked(x)?;
        let axis = w.axis as usize % x.rank();
        match &w.kind {
            WindowKindPlan::Stat(stat) => {
                let size = 1 + w.size as usize % (x.shape[axis] + 2);
                let call = format!(
                    "{}.window({}, {axis}, {size}, {})",
                    x.name,
                    stat_text(*stat),
                    w.skip_nan
                );
                self.emit(call, x.t.window(*stat, axis, size as i64, w.skip_nan))
            }
            WindowKindPlan::Weighted(weights) => {
                let text: Vec<String> = weights.iter().map(|&v| lit(v)).collect();
                let call = format!("{}.weighted_window(&[{}], {axis})", x.name, text.join(", "));
                self.emit(call, x.t.weighted_window(weights, axis))
            }
        }
    }

    fn helper(&mut self, h: &HelperPlan, x: V) -> R<V> {
        let (t, h_, w) = (x.shape[0], x.shape[1], x.shape[2]);
        match h {
            HelperPlan::Range { b0, len, stat } => {
                let b0 = i64::from(*b0) % t as i64;
                let b1 = b0 + i64::from(*len) % (t as i64 + 1);
                let call = format!("{}.range_reference([{b0}, {b1}], {})", x.name, stat_text(*stat));
                self.emit(call, x.t.range_reference([b0, b1], *stat))
            }
            HelperPlan::Sliding { window, lag, stat } => {
                let (window, lag) = (1 + i64::from(*window) % t as i64, i64::from(*lag) % t as i64);
                let call = format!("{}.sliding_reference({window}, {lag}, {})", x.name, stat_text(*stat));
                self.emit(call, x.t.sliding_reference(window, lag, *stat))
            }
            HelperPlan::Pipeline { subtract, divide } => {
                // Two sliding steps must share window and lag: the divide step takes the subtract's.
                let shared = match subtract.as_ref().map(|s| &s.source) {
                    Some(StepSource::Sliding { window, lag }) => Some((*window, *lag)),
                    _ => None,
                };
                let sub = match subtract {
                    Some(s) => Some(self.step(s, &x, None)?),
                    None => None,
                };
                let div = match divide {
                    Some(s) => Some(self.step(s, &x, shared)?),
                    None => None,
                };
                let text =
                    |s: &Option<(Step, String)>| s.as_ref().map_or("None".to_owned(), |(_, t)| format!("Some({t})"));
                let call = format!("{}.pipeline({}, {})", x.name, text(&sub), text(&div));
                self.emit(call, x.t.pipeline(sub.map(|s| s.0), div.map(|s| s.0)))
            }
            HelperPlan::Envelope {
                vertical,
                pos,
                halfwidth,
                frames,
            } => {
                let (orientation, n) = if *vertical {
                    (Orientation::V, w)
                } else {
                    (Orientation::H, h_)
                };
                let over = if *frames {
                    EnvelopeOver::Frames
                } else {
                    EnvelopeOver::Dataset
                };
                let pos = i64::from(*pos) % n as i64;
                let hw = i64::from(*halfwidth);
                let call = format!(
                    "{}.envelope(Orientation::{orientation:?}, {pos}, {hw}, EnvelopeOver::{over:?})",
                    x.name
                );
                let (min, max) = x.t.envelope(orientation, pos, hw, over);
                let mut vs = self.emit_many(call, vec![min, max])?;
                self.extras.push(vs.pop().expect("two curves"));
                Ok(vs.pop().expect("two curves"))
            }
            HelperPlan::Roi { vertices, wild } => {
                let mut v = polygon(vertices, &x.shape);
                if !wild && !rumba_ir::polygon::mask(&v, h_, w).contains(&true) {
                    let (w, h) = (w as f64, h_ as f64);
                    v = vec![[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]];
                }
                let call = format!("{}.roi_series({})", x.name, vertices_text(&v));
                let (mean, min, max) = x.t.roi_series(&v);
                let mut vs = self.emit_many(call, vec![mean, min, max])?;
                self.extras.extend(vs.drain(1..));
                Ok(vs.pop().expect("three curves"))
            }
        }
    }

    /// A pipeline step and its text; `shared` forces a sliding step's window and lag.
    fn step(&mut self, s: &StepPlan, x: &V, shared: Option<(u8, u8)>) -> R<(Step, String)> {
        let t = x.shape[0] as i64;
        let (step, mut text) = match (&s.source, shared) {
            (StepSource::Range { b0, len }, _) => {
                let b0 = i64::from(*b0) % t;
                let b1 = b0 + i64::from(*len) % (t + 1);
                let text = format!("Step::range([{b0}, {b1}], {})", stat_text(s.stat));
                (Step::range([b0, b1], s.stat), text)
            }
            (StepSource::Sliding { window, lag }, shared) => {
                let (window, lag) = shared.unwrap_or((*window, *lag));
                let (window, lag) = (1 + i64::from(window) % t, i64::from(lag) % t);
                let text = format!("Step::sliding({window}, {lag}, {})", stat_text(s.stat));
                (Step::sliding(window, lag, s.stat), text)
            }
            (StepSource::File, _) => {
                let want = [1, x.shape[1], x.shape[2], x.shape[3]];
                let r = match self.inputs.iter().find(|i| i.shape == want) {
                    Some(i) => i.clone(),
                    None => self.reduce(x, Stat::Max, &[0], true)?,
                };
                (Step::file(&r.t), format!("Step::file(&{})", r.name))
            }
        };
        let step = match self.scalar(&s.amount)? {
            Rhs::S(a) => {
                text.push_str(&format!(".amount({})", lit(a)));
                step.amount(a)
            }
            Rhs::T(p) => {
                text.push_str(&format!(".amount(&{})", p.name));
                step.amount(&p.t)
            }
        };
        if s.skip_nan && !matches!(s.source, StepSource::File) {
            text.push_str(".skip_nan()");
            return Ok((step.skip_nan(), text));
        }
        Ok((step, text))
    }
}

/// Polygon vertices from half-pixel plan numbers, within the (H, W) image ± 1.
fn polygon(raw: &[(u8, u8)], shape: &[usize]) -> Vec<[f64; 2]> {
    let (h, w) = (shape[1], shape[2]);
    raw.iter()
        .map(|&(x, y)| {
            [
                (x as usize % (2 * w + 5)) as f64 * 0.5 - 1.0,
                (y as usize % (2 * h + 5)) as f64 * 0.5 - 1.0,
            ]
        })
        .collect()
}
