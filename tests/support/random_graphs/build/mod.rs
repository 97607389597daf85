//! Resolving a [`CasePlan`] into DSL calls against the dtypes and shapes they meet.
//!
//! Every call is probed as it is made — the graph so far is validated and bound to the inputs
//! — so the next plan node knows its operand's dtype and concrete shape from rumba itself (no
//! second copy of the promotion rules here), and the first call that validation or binding
//! rejects ends the case. A transcript of the calls, as Rust, makes a failure reproducible.

mod helpers;
mod shape;

use super::inputs::Input;
use super::{CasePlan, Expr, Operand, Scalar};
use rumba::dsl::{Arg, Builder, Stat, Tensor};
use rumba::{DType, Graph, GraphError, InputSpec};
use rumba_fuzz::rust_text::{lit, stat as stat_text};
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

type R<T> = Result<T, Box<Stop>>;

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

/// Resolution state: the builder, the transcript, and what has been built so far.
struct Ctx<'a> {
    b: Builder,
    inputs: Vec<V>,
    specs: &'a [InputSpec],
    lines: Vec<String>,
    params: BTreeMap<String, f64>,
    extras: Vec<V>,
    built: Vec<V>,
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
        built: Vec::new(),
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
        Err(stop) => match *stop {
            Stop::Invalid(e) => Outcome::Invalid(e),
            Stop::Unbindable(v, e) => {
                cx.lines
                    .push(format!("let graph = b.build([(\"out0\", &{})]);", v.name));
                let graph = cx.b.build([("out0", &v.t)]).expect("probed: valid");
                Outcome::Unbindable(graph, e)
            }
        },
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
            .map_err(|e| Box::new(Stop::Invalid(e)))?;
        match rumba_ir::bind::bind(&graph, self.specs) {
            Ok(_) => Ok(graph),
            Err(e) => Err(Stop::Unbindable(outs[0].clone(), e).into()),
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
        let v = self.probe_one(name, t)?;
        if v.rank() > 0 {
            self.built.push(v.clone());
        }
        Ok(v)
    }

    fn probe_one(&mut self, name: String, t: Tensor) -> R<V> {
        let graph = self.b.build([("probe", &t)]).map_err(|e| Box::new(Stop::Invalid(e)))?;
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
            Err(e) => Err(Stop::Unbindable(v, e).into()),
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

    fn expr(&mut self, e: &Expr) -> R<V> {
        match e {
            Expr::Input(i) => Ok(self.inputs[*i as usize % self.inputs.len()].clone()),
            Expr::Reuse(k) if self.built.is_empty() => Ok(self.inputs[*k as usize % self.inputs.len()].clone()),
            Expr::Reuse(k) => Ok(self.built[*k as usize % self.built.len()].clone()),
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
                // `cond` broadcasts `x` with the comparison operand: `other` must fit both.
                let other = self.operand(other, &cond)?;
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
                self.polygon(p, x)
            }
            Expr::Helper { h, x } => {
                let x = self.expr(x)?;
                self.helper(h, x)
            }
        }
    }
}
