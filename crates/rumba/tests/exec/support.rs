//! Hand-built plans, data with NaN/±Inf/−0.0, the two ways of running (executor and reference
//! interpreter) and a bitwise comparison.

use ndarray::{ArrayD, IxDyn};
use rumba::exec::Executor;
use rumba_ir::graph::{Origin, Source};
use rumba_ir::op::{BinaryOp, F64, UnaryOp};
use rumba_ir::{Array, ArrayView, At, DType, Graph};
use rumba_plan::{
    Accumulate, Affine, Axis, Buffer, BufferId, Expr, ExprId, ExprNode, IndexMap, Kernel, Load, ParamId, ParamSource,
    Plan, Reduction, Role, Schedule, SpanTable, Store,
};
use std::collections::BTreeMap;

/// An error location naming node `id`.
pub fn at(id: &str) -> At {
    At::node(&Origin {
        id: id.into(),
        label: None,
        op: "reduce".into(),
        source: Source::Unknown,
    })
}

/// `offset + Σ coefs[a]·i[a]`.
pub fn aff(offset: i64, coefs: &[i64]) -> Affine {
    Affine {
        offset,
        coefs: coefs.to_vec(),
        params: Vec::new(),
    }
}

/// An index map from affines.
fn map(dims: Vec<Affine>) -> IndexMap {
    IndexMap { dims }
}

/// A kernel under construction.
pub struct Kb {
    k: Kernel,
}

impl Kb {
    /// A kernel over `domain` = (extent, reduced) per axis, without tiling.
    pub fn new(name: &str, domain: &[(usize, bool)]) -> Kb {
        let domain = domain
            .iter()
            .map(|&(extent, reduced)| Axis { extent, reduced })
            .collect();
        let schedule = Schedule {
            tile_axis: None,
            tile_len: 1,
            vector_width: 1,
        };
        Kb {
            k: Kernel {
                name: name.into(),
                fused: Vec::new(),
                domain,
                loads: Vec::new(),
                exprs: Vec::new(),
                reductions: Vec::new(),
                stores: Vec::new(),
                spans: Vec::new(),
                running: None,
                schedule,
            },
        }
    }

    /// Cuts `axis` into tiles of `len` iterations.
    pub fn tile(mut self, axis: usize, len: usize) -> Kb {
        self.k.schedule.tile_axis = Some(axis);
        self.k.schedule.tile_len = len;
        self
    }

    /// Appends an expression.
    pub fn e(&mut self, expr: Expr, dtype: DType) -> ExprId {
        self.k.exprs.push(ExprNode { expr, dtype });
        ExprId(self.k.exprs.len() as u32 - 1)
    }

    fn dtype(&self, e: ExprId) -> DType {
        self.k.exprs[e.0 as usize].dtype
    }

    /// A load of `buffer` (of `dtype`) at `dims`.
    pub fn load(&mut self, buffer: BufferId, dtype: DType, dims: Vec<Affine>) -> ExprId {
        self.k.loads.push(Load { buffer, map: map(dims) });
        let load = self.k.loads.len() as u32 - 1;
        self.e(Expr::Load { load }, dtype)
    }

    /// A constant of `dtype`.
    pub fn konst(&mut self, value: f64, dtype: DType) -> ExprId {
        self.e(Expr::Const { value: F64(value) }, dtype)
    }

    /// A param slot (f64).
    pub fn param(&mut self, slot: u32) -> ExprId {
        self.e(Expr::Param { param: ParamId(slot) }, DType::F64)
    }

    /// `op(x)`.
    pub fn un(&mut self, op: UnaryOp, x: ExprId) -> ExprId {
        let dtype = if op == UnaryOp::IsNan {
            DType::Bool
        } else {
            self.dtype(x)
        };
        self.e(Expr::Unary { op, x }, dtype)
    }

    /// `a op b`.
    pub fn bin(&mut self, op: BinaryOp, a: ExprId, b: ExprId) -> ExprId {
        let dtype = if op.is_comparison() { DType::Bool } else { self.dtype(a) };
        self.e(Expr::Binary { op, a, b }, dtype)
    }

    /// `x` converted to `dtype`.
    pub fn cast(&mut self, x: ExprId, dtype: DType) -> ExprId {
        self.e(Expr::Cast { x }, dtype)
    }

    /// `cond ? a : b`.
    pub fn select(&mut self, cond: ExprId, a: ExprId, b: ExprId) -> ExprId {
        let dtype = self.dtype(a);
        self.e(Expr::Select { cond, a, b }, dtype)
    }

    /// A span table; returns its index.
    pub fn spans(&mut self, table: SpanTable) -> u32 {
        self.k.spans.push(table);
        self.k.spans.len() as u32 - 1
    }

    /// A reduction of `value` to `dtype`; returns its `Acc` expression.
    pub fn reduce(
        &mut self,
        kind: Accumulate,
        value: ExprId,
        mask: Option<ExprId>,
        skip_nan: bool,
        dtype: DType,
    ) -> ExprId {
        let r = Reduction {
            kind,
            value,
            mask,
            skip_nan,
            dtype,
            at: at(&format!("r{}", self.k.reductions.len())),
        };
        self.k.reductions.push(r);
        let reduction = self.k.reductions.len() as u32 - 1;
        self.e(Expr::Acc { reduction }, dtype)
    }

    /// Names reduction `index`'s node `id` in errors.
    pub fn name_reduction(&mut self, index: usize, id: &str) {
        self.k.reductions[index].at = at(id);
    }

    /// A store of `value` into `buffer` at `dims`.
    pub fn store(&mut self, buffer: BufferId, dims: Vec<Affine>, value: ExprId) {
        self.k.stores.push(Store {
            buffer,
            map: map(dims),
            value,
        });
    }

    /// The kernel.
    pub fn done(self) -> Kernel {
        self.k
    }
}

/// A plan under construction.
pub struct Pb {
    plan: Plan,
}

impl Pb {
    /// An empty plan.
    pub fn new() -> Pb {
        Pb {
            plan: Plan {
                buffers: Vec::new(),
                params: Vec::new(),
                kernels: Vec::new(),
                inputs: Vec::new(),
                outputs: Vec::new(),
            },
        }
    }

    fn buffer(&mut self, dtype: DType, shape: &[usize], role: Role) -> BufferId {
        self.plan.buffers.push(Buffer {
            dtype,
            shape: shape.to_vec(),
            role,
        });
        BufferId(self.plan.buffers.len() as u32 - 1)
    }

    /// A graph input.
    pub fn input(&mut self, name: &str, dtype: DType, shape: &[usize]) -> BufferId {
        let id = self.buffer(dtype, shape, Role::Input { name: name.into() });
        self.plan.inputs.push((name.into(), id));
        id
    }

    /// A graph output.
    pub fn output(&mut self, name: &str, dtype: DType, shape: &[usize]) -> BufferId {
        let id = self.buffer(dtype, shape, Role::Output { name: name.into() });
        self.plan.outputs.push((name.into(), id));
        id
    }

    /// An intermediate buffer.
    pub fn temp(&mut self, dtype: DType, shape: &[usize]) -> BufferId {
        self.buffer(dtype, shape, Role::Temp)
    }

    /// Constant data.
    pub fn constant(&mut self, dtype: DType, shape: &[usize], values: &[f64]) -> BufferId {
        self.buffer(
            dtype,
            shape,
            Role::Const {
                values: values.iter().map(|&v| F64(v)).collect(),
            },
        )
    }

    /// A run-time slot.
    pub fn param(&mut self, source: ParamSource) -> ParamId {
        self.plan.params.push(source);
        ParamId(self.plan.params.len() as u32 - 1)
    }

    /// Appends a kernel.
    pub fn kernel(&mut self, k: Kernel) {
        self.plan.kernels.push(k);
    }

    /// The plan, not verified (for tests of `verify` itself).
    pub fn unverified(self) -> Plan {
        self.plan
    }

    /// The plan, verified.
    pub fn build(self) -> Plan {
        rumba_plan::verify(&self.plan).unwrap_or_else(|e| panic!("test plan does not verify: {e}"));
        self.plan
    }
}

/// The span table of a row-major `h × w` mask.
pub fn span_table(mask: &[bool], h: usize, w: usize) -> SpanTable {
    let rows = (0..h)
        .map(|i| {
            let row = &mask[i * w..(i + 1) * w];
            let mut spans = Vec::new();
            let mut j = 0;
            while j < w {
                if row[j] {
                    let start = j;
                    while j < w && row[j] {
                        j += 1;
                    }
                    spans.push((start as u32, j as u32));
                } else {
                    j += 1;
                }
            }
            spans
        })
        .collect();
    SpanTable { width: w, rows }
}

/// Deterministic f32 data in [−100, 100) with one special value (NaN, ±Inf, −0.0, 0.0, in
/// turn) in about every `special_every` elements (0: none).
pub fn f32_data(shape: &[usize], seed: u64, special_every: u64) -> ArrayD<f32> {
    let specials = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 0.0];
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let n: usize = shape.iter().product();
    let mut placed = 0;
    let values = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = state >> 16;
            if special_every > 0 && r.is_multiple_of(special_every) {
                // Cycle through the specials so that every kind appears.
                placed += 1;
                specials[placed % 5]
            } else {
                ((r >> 8) % 20_000) as f32 / 100.0 - 100.0 + (r % 7) as f32 / 7.0
            }
        })
        .collect();
    ArrayD::from_shape_vec(IxDyn(shape), values).expect("shape")
}

/// Deterministic u16 data.
pub fn u16_data(shape: &[usize], seed: u64) -> ArrayD<u16> {
    f32_data(shape, seed, 0).mapv(|v| ((v + 100.0) * 300.0) as u16)
}

/// Params by name.
pub fn params(p: &[(&str, f64)]) -> BTreeMap<String, f64> {
    p.iter().map(|&(n, v)| (n.to_owned(), v)).collect()
}

/// Runs `plan` on an executor with `threads` threads.
pub fn run_plan(plan: &Plan, threads: usize, inputs: &[(&str, ArrayView<'_>)], p: &[(&str, f64)]) -> Vec<Array> {
    let exec = Executor::new(threads).expect("thread pool");
    let out = exec
        .run(plan, inputs, &params(p))
        .unwrap_or_else(|e| panic!("executor: {e}"));
    out.into_iter().map(|(_, a)| a).collect()
}

/// Runs `graph` on the reference interpreter.
pub fn run_graph(graph: &Graph, inputs: &[(&str, ArrayView<'_>)], p: &[(&str, f64)]) -> Vec<Array> {
    let out = rumba_interp::evaluate(graph, inputs, &params(p)).unwrap_or_else(|e| panic!("interpreter: {e}"));
    out.into_iter().map(|(_, a)| a).collect()
}

/// Every element as bits in logical order (NaN payloads ignored).
fn bits(a: &Array) -> Vec<u64> {
    match a {
        Array::Bool(a) => a.iter().map(|&v| u64::from(v)).collect(),
        Array::U8(a) => a.iter().map(|&v| u64::from(v)).collect(),
        Array::U16(a) => a.iter().map(|&v| u64::from(v)).collect(),
        Array::I32(a) => a.iter().map(|&v| u64::from(v as u32)).collect(),
        Array::F32(a) => a
            .iter()
            .map(|&v| if v.is_nan() { u64::MAX } else { u64::from(v.to_bits()) })
            .collect(),
        Array::F64(a) => a
            .iter()
            .map(|&v| if v.is_nan() { u64::MAX } else { v.to_bits() })
            .collect(),
    }
}

/// Asserts that `got` and `want` agree in dtype, shape and every bit (signs of zeros
/// included; NaN payloads ignored).
pub fn assert_same(what: &str, got: &Array, want: &Array) {
    assert_eq!(
        (got.dtype(), got.shape()),
        (want.dtype(), want.shape()),
        "{what}: dtype and shape"
    );
    let (g, w) = (bits(got), bits(want));
    let (gv, wv) = (got.to_f64_vec(), want.to_f64_vec());
    for i in 0..g.len() {
        assert_eq!(
            g[i], w[i],
            "{what}: element {i} (logical order): got {}, want {}",
            gv[i], wv[i]
        );
    }
}

/// Asserts every output pair is the same.
pub fn assert_all_same(what: &str, got: &[Array], want: &[Array]) {
    assert_eq!(got.len(), want.len(), "{what}: number of outputs");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert_same(&format!("{what}, output {k}"), g, w);
    }
}

/// Whether any element is NaN, ±Inf or −0.0 (the data exercise the special cases).
pub fn has_specials(a: &ArrayD<f32>) -> bool {
    let nan = a.iter().any(|v| v.is_nan());
    let inf = a.iter().any(|v| v.is_infinite());
    let neg_zero = a.iter().any(|&v| v == 0.0 && v.is_sign_negative());
    nan && inf && neg_zero
}

impl Kb {
    /// A copy of the kernel built so far.
    pub fn clone_kernel(&self) -> Kernel {
        self.k.clone()
    }
}

impl Pb {
    /// Exposes buffer `id` as one more graph output.
    pub fn alias_output(&mut self, name: &str, id: BufferId) {
        self.plan.outputs.push((name.into(), id));
    }
}
