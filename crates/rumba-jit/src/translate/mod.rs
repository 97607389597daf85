//! One translator per kernel: the loop nest of a [`Kernel`] as a Cranelift function with the
//! kernel ABI, one method per construct (prologue, loops, loads, expressions, accumulators,
//! epilogue, stores).
//!
//! Strides are read from `KernelArgs` at run time, so one compiled kernel serves every input
//! layout. Each load's element offset is `base + Σ step[a]·i[a]`, with `base` (offsets and
//! params) and `step[a] = Σ_d coef[d][a]·stride[d]` computed once in the prologue; the loops
//! are bottom-tested so Cranelift hoists everything that does not change out of them.
//!
//! Files by construct:
//! - `expr.rs`: scalar expressions (the semantics every other form must reproduce);
//! - `vector.rs`, `vexpr.rs`: the 128-bit vector path of the innermost axis — which phases
//!   have one, the run-time stride condition, the vector loop with its scalar tail, and the
//!   vector form of every expression, load and store;
//! - `reduce.rs`: reduction kernels (blocks of lanes, update nest, epilogue), with
//!   `layout.rs` (accumulator fields and layout, decided at compile time), `accumulate.rs`
//!   (scalar updates and results), `vector_reduce.rs` (vector ones), `horizontal.rs` (vector
//!   updates along a reduced innermost axis) and `spans.rs` (polygon masks as row spans).

mod accumulate;
mod expr;
mod horizontal;
mod layout;
mod network;
mod reduce;
mod running;
mod spans;
mod vector;
mod vector_reduce;
mod vexpr;

use crate::JitError;
use crate::abi;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{AbiParam, Function, InstBuilder, MemFlagsData, Signature, Type, Value, types};
use cranelift_frontend::{FunctionBuilder, Variable};
use cranelift_module::{FuncId, Module};
use rumba_ir::DType;
use rumba_plan::{BufferArg, ExprId, Kernel, KernelArgs, Plan};
use std::collections::HashMap;
use std::mem::offset_of;

pub(crate) use spans::{SpanAddrs, flatten_spans};

/// The Cranelift type a scalar of `dtype` is held in.
pub(crate) fn ty(dtype: DType) -> Type {
    match dtype {
        DType::Bool | DType::U8 => types::I8,
        DType::U16 => types::I16,
        DType::I32 => types::I32,
        DType::F32 => types::F32,
        DType::F64 => types::F64,
    }
}

/// Host functions a kernel may call, declared in the kernel's module.
pub(crate) struct Hosts {
    pub exp_f32: FuncId,
    pub exp_f64: FuncId,
    pub ln_f32: FuncId,
    pub ln_f64: FuncId,
    pub alloc: FuncId,
    pub free: FuncId,
    pub order_statistic: FuncId,
    pub order_statistic_keys: FuncId,
    pub in_spans: FuncId,
    pub report_error: FuncId,
    pub window_new: FuncId,
    pub window_free: FuncId,
    pub window_op: FuncId,
}

/// An access (load or store) of the kernel: buffer element size, runtime base address and
/// per-axis element steps.
#[derive(Clone)]
struct Access {
    size: i64,
    /// Address of the element at domain point 0 (params and offsets included).
    base: Value,
    /// Element step per domain axis.
    steps: Vec<Value>,
}

/// The shift of the exact var/std moments of u16 values in the JIT: it sums `y = x − 2¹⁵`
/// and `y²`, whose pairs fit `pmaddwd` (i16 products). `n·Σy² − (Σy)²` is exactly
/// `n·Σx² − (Σx)²`, so the result is bit for bit the pinned one (`rumba_ir::numerics`).
pub(super) const U16_MOMENT_SHIFT: i64 = 1 << 15;

/// Translates one kernel.
pub(crate) struct Translator<'a, 'f> {
    pub b: FunctionBuilder<'f>,
    module: &'a mut dyn Module,
    hosts: &'a Hosts,
    plan: &'a Plan,
    pub kernel: &'a Kernel,
    /// Addresses of the kernel-owned span tables.
    span_addrs: &'a SpanAddrs,
    args: Value,
    params: Vec<Value>,
    loads: Vec<Access>,
    stores: Vec<Access>,
    /// Values of the current point.
    memo: HashMap<ExprId, Value>,
    /// Values that hold for a whole loop (a polygon test inside or outside a span).
    fixed: HashMap<ExprId, Value>,
    /// Whether the vector loops may run in this call: (loads step 1, loads and stores step 1;
    /// see `vector.rs`).
    vec_ok: Option<(Value, Value)>,
    /// Vector values of the current group.
    vmemo: HashMap<ExprId, vexpr::Lanes>,
    /// Invariant values of the current row, splat.
    vinvariant: HashMap<ExprId, vexpr::Lanes>,
    /// Address of every load and store at the current row (vector axis at 0).
    rows: Vec<Value>,
    store_rows: Vec<Value>,
    /// Row addresses and invariants of each sub-step of a jammed axis.
    jrows: Vec<Vec<Value>>,
    jinvariant: Vec<HashMap<ExprId, vexpr::Lanes>>,
    /// Vectors per group of the current vector loop.
    unroll: usize,
    /// The reduction layout and scratch of a reduction kernel, and the lane of the current
    /// vector epilogue group.
    reduce_plan: Option<std::rc::Rc<layout::ReducePlan>>,
    scratch_base: Option<Value>,
    epilogue_lane: Option<Value>,
    /// Accumulator fields held in variables (reduction, field) while a single lane sweeps.
    promoted: HashMap<(usize, usize), Variable>,
    /// The current domain coordinates (`None` where an axis is outside the current nest).
    coords: Vec<Option<Value>>,
    /// A running window's rows (`running.rs`) while its epilogue runs.
    running_rows: Option<running::Rows>,
    /// Whether accumulator updates add the current value or remove it (a running window's
    /// leaving value).
    sign: Sign,
    /// Whether a running window is being rebuilt (a min/max then keeps each value as its
    /// window position's suffix extreme instead of folding it).
    rebuilding: bool,
    /// A running window's position within its restart period (`k mod size`) while its
    /// epilogue runs.
    window_position: Option<Value>,
    /// Whether the epilogue being emitted runs only where no window of the block holds a NaN
    /// or ±Inf (`Layout::specials`), so running float results skip their counts.
    no_specials: bool,
    /// Whether every point of the jammed group being emitted comes after the reduction's
    /// first point, so the shifted var/std sums keep their shift without selecting it.
    shift_taken: bool,
    /// A running window's step as two sub-steps of a jam along the window axis: the
    /// positions (entering `size − 1`, leaving −1) and their signs, replacing the jam's
    /// consecutive points (`running.rs`).
    step_points: Option<[(i64, Sign); 2]>,
    ptr: Type,
}

/// Whether an accumulator update adds a value or removes it (running windows, `running.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sign {
    Add,
    Remove,
}

/// The signature of every kernel: `(args, tile_begin, tile_end)`.
pub(crate) fn kernel_signature(module: &dyn Module) -> Signature {
    let mut sig = module.make_signature();
    let ptr = module.target_config().pointer_type();
    sig.params
        .extend([AbiParam::new(ptr), AbiParam::new(types::I64), AbiParam::new(types::I64)]);
    sig
}

impl<'a, 'f> Translator<'a, 'f> {
    /// Builds the whole function body.
    pub fn translate(
        func: &'f mut Function,
        fctx: &'f mut cranelift_frontend::FunctionBuilderContext,
        module: &'a mut dyn Module,
        hosts: &'a Hosts,
        plan: &'a Plan,
        kernel: &'a Kernel,
        span_addrs: &'a SpanAddrs,
    ) -> Result<(), JitError> {
        let ptr = module.target_config().pointer_type();
        let mut b = FunctionBuilder::new(func, fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        // The entry block has no predecessors.
        b.seal_block(entry);
        let args = b.block_params(entry)[0];
        let (tile_begin, tile_end) = (b.block_params(entry)[1], b.block_params(entry)[2]);
        let mut t = Translator {
            b,
            module,
            hosts,
            plan,
            kernel,
            span_addrs,
            args,
            params: Vec::new(),
            loads: Vec::new(),
            stores: Vec::new(),
            memo: HashMap::new(),
            fixed: HashMap::new(),
            vec_ok: None,
            vmemo: HashMap::new(),
            vinvariant: HashMap::new(),
            rows: Vec::new(),
            store_rows: Vec::new(),
            jrows: Vec::new(),
            jinvariant: Vec::new(),
            unroll: 1,
            reduce_plan: None,
            scratch_base: None,
            epilogue_lane: None,
            promoted: HashMap::new(),
            coords: vec![None; kernel.domain.len()],
            running_rows: None,
            sign: Sign::Add,
            rebuilding: false,
            window_position: None,
            no_specials: false,
            shift_taken: false,
            step_points: None,
            ptr,
        };
        t.prologue();
        if let Some(axis) = kernel.domain.len().checked_sub(1) {
            t.vec_ok = Some(t.vector_conditions(axis));
        }
        let ranges = t.ranges(tile_begin, tile_end);
        if kernel.running.is_some() {
            t.running_kernel(&ranges)?;
        } else if kernel.reductions.is_empty() {
            t.elementwise(&ranges)?;
        } else {
            t.reduction_kernel(&ranges)?;
        }
        t.b.ins().return_(&[]);
        let config = t.module.target_config();
        t.b.finalize(config);
        Ok(())
    }

    /// Loads params, computes every access's base and steps.
    fn prologue(&mut self) {
        let flags = MemFlagsData::trusted();
        let params_ptr = self
            .b
            .ins()
            .load(self.ptr, flags, self.args, offset_of!(KernelArgs, params) as i32);
        self.params = (0..self.plan.params.len())
            .map(|i| self.b.ins().load(types::F64, flags, params_ptr, (i * 8) as i32))
            .collect();
        let buffers = self
            .b
            .ins()
            .load(self.ptr, flags, self.args, offset_of!(KernelArgs, buffers) as i32);
        let kernel = self.kernel;
        let loads: Vec<Access> = kernel
            .loads
            .iter()
            .map(|l| self.access(buffers, l.buffer.0 as usize, &l.map))
            .collect();
        let stores: Vec<Access> = kernel
            .stores
            .iter()
            .map(|s| self.access(buffers, s.buffer.0 as usize, &s.map))
            .collect();
        self.loads = loads;
        self.stores = stores;
    }

    fn access(&mut self, buffers: Value, buffer: usize, map: &rumba_plan::IndexMap) -> Access {
        let flags = MemFlagsData::trusted();
        let size = self.plan.buffers[buffer].dtype.size() as i64;
        let arg = (buffer * std::mem::size_of::<BufferArg>()) as i32;
        let data = self
            .b
            .ins()
            .load(self.ptr, flags, buffers, arg + offset_of!(BufferArg, ptr) as i32);
        let strides_ptr = self
            .b
            .ins()
            .load(self.ptr, flags, buffers, arg + offset_of!(BufferArg, strides) as i32);
        let strides: Vec<Value> = (0..map.dims.len())
            .map(|d| self.b.ins().load(types::I64, flags, strides_ptr, (d * 8) as i32))
            .collect();
        let mut offset = self.b.ins().iconst(types::I64, 0);
        let mut steps = vec![self.b.ins().iconst(types::I64, 0); self.kernel.domain.len()];
        for (d, affine) in map.dims.iter().enumerate() {
            let mut dim = self.b.ins().iconst(types::I64, affine.offset);
            for &(p, c) in &affine.params {
                let v = self.b.ins().fcvt_to_sint_sat(types::I64, self.params[p.0 as usize]);
                let v = self.b.ins().imul_imm_s(v, c);
                dim = self.b.ins().iadd(dim, v);
            }
            let term = self.b.ins().imul(dim, strides[d]);
            offset = self.b.ins().iadd(offset, term);
            for (a, &c) in affine.coefs.iter().enumerate() {
                if c != 0 {
                    let s = self.b.ins().imul_imm_s(strides[d], c);
                    steps[a] = self.b.ins().iadd(steps[a], s);
                }
            }
        }
        let bytes = self.b.ins().imul_imm_s(offset, size);
        let base = self.b.ins().iadd(data, bytes);
        Access { size, base, steps }
    }

    /// `(lo, hi)` of every domain axis: the tile's iterations on the tile axis, all others.
    fn ranges(&mut self, tile_begin: Value, tile_end: Value) -> Vec<(Value, Value)> {
        let kernel = self.kernel;
        (0..kernel.domain.len())
            .map(|a| {
                let extent = kernel.domain[a].extent as i64;
                if kernel.schedule.tile_axis == Some(a) {
                    let len = kernel.schedule.tile_len as i64;
                    let lo = self.b.ins().imul_imm_s(tile_begin, len);
                    let hi = self.b.ins().imul_imm_s(tile_end, len);
                    let cap = self.b.ins().iconst(types::I64, extent);
                    let hi = self.b.ins().smin(hi, cap);
                    (lo, hi)
                } else {
                    (
                        self.b.ins().iconst(types::I64, 0),
                        self.b.ins().iconst(types::I64, extent),
                    )
                }
            })
            .collect()
    }

    /// Makes sub-step `j` of the jam along axis `a` current in the coordinates (and the
    /// sign, for a running step's points): `base + j`, or the step's `j`-th position.
    fn jam_point(&mut self, a: usize, base: Option<Value>, j: usize) {
        if let Some(points) = self.step_points {
            let (position, sign) = points[j];
            self.coords[a] = Some(self.b.ins().iconst(types::I64, position));
            self.sign = sign;
        } else if let Some(base) = base {
            self.coords[a] = Some(self.b.ins().iadd_imm_s(base, j as i64));
        }
    }

    /// `for i in lo..hi { body(i) }`.
    fn for_loop(
        &mut self,
        lo: Value,
        hi: Value,
        body: &mut dyn FnMut(&mut Self, Value) -> Result<(), JitError>,
    ) -> Result<(), JitError> {
        self.for_loop_step(lo, hi, 1, body)
    }

    /// `for i in (lo..hi).step_by(step) { body(i) }`, as a guarded bottom-tested loop: one
    /// compare and branch per iteration.
    ///
    /// Both branches name the exit first: Cranelift's loop-invariant code motion follows the
    /// dominator tree in an order where this puts the loop body before the exit, which keeps
    /// the enclosing loops in view, so invariants are hoisted out of every level.
    fn for_loop_step(
        &mut self,
        lo: Value,
        hi: Value,
        step: i64,
        body: &mut dyn FnMut(&mut Self, Value) -> Result<(), JitError>,
    ) -> Result<(), JitError> {
        let var: Variable = self.b.declare_var(types::I64);
        self.b.def_var(var, lo);
        let body_block = self.b.create_block();
        let exit = self.b.create_block();
        let empty = self.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, lo, hi);
        self.b.ins().brif(empty, exit, &[], body_block, &[]);
        self.b.switch_to_block(body_block);
        let i = self.b.use_var(var);
        body(self, i)?;
        let next = self.b.ins().iadd_imm_s(i, step);
        self.b.def_var(var, next);
        let done = self.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, next, hi);
        self.b.ins().brif(done, exit, &[], body_block, &[]);
        // Its predecessors (the guard and the latch) are both emitted.
        self.b.seal_block(body_block);
        self.b.switch_to_block(exit);
        // Only the guard and the latch exit here.
        self.b.seal_block(exit);
        Ok(())
    }

    /// Runs `leaf` inside loops over `axes` (in order), setting their coordinates.
    fn nest(
        &mut self,
        axes: &[usize],
        ranges: &[(Value, Value)],
        leaf: &mut dyn FnMut(&mut Self) -> Result<(), JitError>,
    ) -> Result<(), JitError> {
        let Some((&a, rest)) = axes.split_first() else {
            return leaf(self);
        };
        let (lo, hi) = ranges[a];
        self.for_loop(lo, hi, &mut |t, i| {
            t.coords[a] = Some(i);
            let r = t.nest(rest, ranges, leaf);
            t.coords[a] = None;
            r
        })
    }

    /// The address of access `acc` at the current coordinates (axes without one count as 0).
    fn address(&mut self, acc: &Access) -> Value {
        let mut offset = self.b.ins().iconst(types::I64, 0);
        for (a, c) in self.coords.clone().into_iter().enumerate() {
            if let Some(i) = c {
                let t = self.b.ins().imul(acc.steps[a], i);
                offset = self.b.ins().iadd(offset, t);
            }
        }
        let bytes = self.b.ins().imul_imm_s(offset, acc.size);
        self.b.ins().iadd(acc.base, bytes)
    }

    /// Elementwise kernels: every point stores; the innermost axis has a vector path when
    /// every stored expression has a vector form.
    fn elementwise(&mut self, ranges: &[(Value, Value)]) -> Result<(), JitError> {
        if let Some(test) = spans::span_test(self.kernel) {
            return self.elementwise_by_spans(ranges, &test);
        }
        let rank = self.kernel.domain.len();
        let roots: Vec<ExprId> = self.kernel.stores.iter().map(|s| s.value).collect();
        let phase = rank
            .checked_sub(1)
            .and_then(|axis| vector::Phase::plan(self.kernel, &roots, &[], (axis, vector::UNROLL), &|_| false));
        let Some(phase) = phase else {
            let axes: Vec<usize> = (0..rank).collect();
            return self.nest(&axes, ranges, &mut |t| {
                t.memo.clear();
                t.store_all()
            });
        };
        let outer: Vec<usize> = (0..phase.axis).collect();
        let range = ranges[phase.axis];
        self.nest(&outer, ranges, &mut |t| {
            t.inner_loop(&phase, range, None, &mut |t, i| t.vstore_all(i), &mut |t| {
                t.memo.clear();
                t.store_all()
            })
        })
    }

    /// Evaluates and writes every store at the current coordinates.
    fn store_all(&mut self) -> Result<(), JitError> {
        for (i, s) in self.kernel.stores.iter().enumerate() {
            let v = self.value(s.value)?;
            let acc = self.stores[i].clone();
            let addr = self.address(&acc);
            let v = self.memory_form(v, self.kernel.exprs[s.value.0 as usize].dtype);
            self.b.ins().store(MemFlagsData::trusted(), v, addr, 0);
        }
        Ok(())
    }

    /// Calls a host function.
    fn call(&mut self, f: FuncId, args: &[Value]) -> Option<Value> {
        let r = self.module.declare_func_in_func(f, self.b.func);
        let inst = self.b.ins().call(r, args);
        self.b.inst_results(inst).first().copied()
    }
}

/// Declares the host functions in a module (they are linked by symbol name).
pub(crate) fn declare_hosts(module: &mut dyn Module) -> Result<Hosts, JitError> {
    let ptr = module.target_config().pointer_type();
    let mut decl = |name: &str, params: &[Type], ret: Option<Type>| -> Result<FuncId, JitError> {
        let mut sig = module.make_signature();
        sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
        sig.returns.extend(ret.map(AbiParam::new));
        module
            .declare_function(name, cranelift_module::Linkage::Import, &sig)
            .map_err(JitError::codegen)
    };
    Ok(Hosts {
        exp_f32: decl("rumba_exp_f32", &[types::F32], Some(types::F32))?,
        exp_f64: decl("rumba_exp_f64", &[types::F64], Some(types::F64))?,
        ln_f32: decl("rumba_ln_f32", &[types::F32], Some(types::F32))?,
        ln_f64: decl("rumba_ln_f64", &[types::F64], Some(types::F64))?,
        alloc: decl("rumba_scratch_alloc", &[types::I64], Some(ptr))?,
        free: decl("rumba_scratch_free", &[ptr, types::I64], None)?,
        order_statistic: decl(
            "rumba_order_statistic",
            &[ptr, types::I64, types::F64],
            Some(types::F64),
        )?,
        order_statistic_keys: decl(
            "rumba_order_statistic_keys",
            &[ptr, types::I64, types::F64, types::I64],
            Some(types::F64),
        )?,
        in_spans: decl("rumba_in_spans", &[ptr, types::I64, types::I64], Some(types::I8))?,
        report_error: decl("rumba_report_error", &[ptr, types::I64], None)?,
        window_new: decl("rumba_window_new", &[ptr, types::I64], Some(ptr))?,
        window_free: decl("rumba_window_free", &[ptr], None)?,
        window_op: decl("rumba_window_op", &[ptr, types::I64, ptr, ptr], None)?,
    })
}

/// The host symbols to register with a JIT builder.
pub(crate) fn host_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("rumba_exp_f32", abi::exp_f32 as *const u8),
        ("rumba_exp_f64", abi::exp_f64 as *const u8),
        ("rumba_ln_f32", abi::ln_f32 as *const u8),
        ("rumba_ln_f64", abi::ln_f64 as *const u8),
        ("rumba_scratch_alloc", abi::scratch_alloc as *const u8),
        ("rumba_scratch_free", abi::scratch_free as *const u8),
        ("rumba_order_statistic", abi::order_statistic as *const u8),
        ("rumba_order_statistic_keys", abi::order_statistic_keys as *const u8),
        ("rumba_in_spans", abi::in_spans as *const u8),
        ("rumba_report_error", abi::report_error as *const u8),
        ("rumba_window_new", abi::window_new as *const u8),
        ("rumba_window_free", abi::window_free as *const u8),
        ("rumba_window_op", abi::window_op as *const u8),
    ]
}
