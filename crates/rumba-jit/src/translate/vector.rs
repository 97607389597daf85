//! The vector path of the innermost domain axis (DESIGN §3 step 4): explicit 128-bit SIMD over
//! groups of `4·unroll` consecutive points, then the scalar loop for the tail.
//!
//! Whether a phase (the stores of an elementwise kernel, the updates or the epilogue of a
//! reduction kernel) has a vector form is decided at compile time ([`Phase::plan`]): every
//! expression that varies along the axis must have one (f32 as f32x4; u8, u16 and i32 as
//! zero- or sign-extended i32x4; bool as i32x4 masks of 0/−1), and every expression that does
//! not vary is computed once per row as a scalar and splat. Whether it is *taken* is decided
//! at run time from the strides in `KernelArgs` ([`Translator::vector_conditions`]): every load
//! that varies along the axis and every store must step exactly one element along it, so any
//! strided, reversed or broadcast (stride 0) view runs the scalar loop and stays correct.

use super::{Access, Translator};
use crate::JitError;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value, types};
use rumba_ir::DType;
use rumba_ir::op::{BinaryOp, UnaryOp};
use rumba_plan::{Expr, ExprId, Kernel};
use std::collections::HashMap;

/// Points per vector (128 bits of 32-bit lanes).
pub(super) const LANES: i64 = 4;
/// Vectors per group: a u8 group is one 16-byte load (measured best for the pipelines).
pub(super) const UNROLL: usize = 4;

/// The vector form of one phase along one axis, decided at compile time.
#[derive(Clone, Debug)]
pub(super) struct Phase {
    /// The domain axis the vector loop runs along (the innermost one).
    pub axis: usize,
    /// Vectors per iteration (a group is `LANES·unroll` points).
    pub unroll: usize,
    /// Expressions that do not vary but are needed by varying ones (or stored), ascending:
    /// computed once per row as scalars and splat.
    pub invariant: Vec<ExprId>,
    /// Whether the phase stores (its run-time condition includes the stores' steps).
    pub stores: bool,
}

impl Phase {
    /// Points per iteration of the vector loop.
    pub fn group(&self) -> i64 {
        LANES * self.unroll as i64
    }

    /// The vector form of the expressions `roots` need along `axis` (parallel, or reduced for a
    /// horizontal reduction), `unroll` vectors per group, or `None` when one of them has none
    /// (or the axis is too short for a group).
    /// `weights` are f64 roots that must not vary (they are splat as f64x2). `acc_ok(r)` says
    /// whether the finished value of reduction `r` has a vector form.
    pub fn plan(
        kernel: &Kernel,
        roots: &[ExprId],
        weights: &[ExprId],
        (axis, unroll): (usize, usize),
        acc_ok: &dyn Fn(u32) -> bool,
    ) -> Option<Phase> {
        Phase::plan_fixing(kernel, roots, weights, (axis, unroll), acc_ok, &[])
    }

    /// [`Phase::plan`] where the expressions `fixed` hold one value along the whole loop
    /// (a polygon test inside or outside a span, `Translator::fixed`).
    pub fn plan_fixing(
        kernel: &Kernel,
        roots: &[ExprId],
        weights: &[ExprId],
        (axis, unroll): (usize, usize),
        acc_ok: &dyn Fn(u32) -> bool,
        fixed: &[ExprId],
    ) -> Option<Phase> {
        let phase = Phase::plan_any_length(kernel, roots, weights, (axis, unroll), acc_ok, fixed)?;
        // A vector loop that can never run is not worth compiling.
        let extent = match kernel.schedule.tile_axis {
            Some(t) if t == axis => kernel.domain[axis].extent.min(kernel.schedule.tile_len),
            _ => kernel.domain[axis].extent,
        };
        (extent as i64 >= phase.group()).then_some(phase)
    }

    /// [`Phase::plan_fixing`] without its length check, for a group that covers a shorter
    /// run (the caller deals with the lanes past it).
    pub fn plan_any_length(
        kernel: &Kernel,
        roots: &[ExprId],
        weights: &[ExprId],
        (axis, unroll): (usize, usize),
        acc_ok: &dyn Fn(u32) -> bool,
        fixed: &[ExprId],
    ) -> Option<Phase> {
        kernel.domain.get(axis)?;
        let varying = varying(kernel, axis, fixed);
        if weights.iter().any(|w| varying[w.0 as usize]) {
            return None;
        }
        let all: Vec<ExprId> = roots.iter().chain(weights).copied().collect();
        let need = closure(kernel, &all);
        // Non-varying operands of varying expressions, the roots and the weights are splat.
        let mut splat = vec![false; kernel.exprs.len()];
        for (i, node) in kernel.exprs.iter().enumerate() {
            if need[i] && varying[i] {
                for o in operands(&node.expr) {
                    splat[o.0 as usize] = true;
                }
            }
        }
        for r in &all {
            splat[r.0 as usize] = true;
        }
        let mut invariant = Vec::new();
        for (i, node) in kernel.exprs.iter().enumerate() {
            let id = ExprId(i as u32);
            if !need[i] {
                continue;
            }
            if varying[i] && !vectorizable(kernel, &node.expr, node.dtype, acc_ok) {
                return None;
            }
            if !varying[i] && splat[i] {
                // f64 has no vector form but as a weight (one f64x2 per vector).
                if node.dtype == DType::F64 && !weights.contains(&id) {
                    return None;
                }
                invariant.push(id);
            }
        }
        Some(Phase {
            axis,
            unroll,
            invariant,
            stores: true,
        })
    }
}

/// Per expression: whether it depends on domain axis `axis` (through a load, a polygon
/// coordinate or an accumulator, which holds one value per lane), `fixed` ones aside.
fn varying(kernel: &Kernel, axis: usize, fixed: &[ExprId]) -> Vec<bool> {
    let mut v = vec![false; kernel.exprs.len()];
    for (i, node) in kernel.exprs.iter().enumerate() {
        v[i] = match &node.expr {
            _ if fixed.contains(&ExprId(i as u32)) => false,
            Expr::Load { load } => kernel.loads[*load as usize].map.dims.iter().any(|d| d.uses(axis)),
            Expr::InSpans { row, col, .. } => row.uses(axis) || col.uses(axis),
            Expr::Acc { .. } => true,
            Expr::Param { .. } | Expr::Const { .. } => false,
            e => operands(e).iter().any(|o| v[o.0 as usize]),
        };
    }
    v
}

/// The operands of an expression.
pub(super) fn operands(e: &Expr) -> Vec<ExprId> {
    match e {
        Expr::Unary { x, .. } | Expr::NanToNum { x, .. } | Expr::Cast { x } => vec![*x],
        Expr::Binary { a, b, .. } => vec![*a, *b],
        Expr::Select { cond, a, b } => vec![*cond, *a, *b],
        Expr::Load { .. } | Expr::Param { .. } | Expr::Const { .. } | Expr::InSpans { .. } | Expr::Acc { .. } => {
            Vec::new()
        }
    }
}

/// Per expression: whether `roots` need it.
pub(super) fn closure(kernel: &Kernel, roots: &[ExprId]) -> Vec<bool> {
    let mut need = vec![false; kernel.exprs.len()];
    for r in roots {
        need[r.0 as usize] = true;
    }
    for i in (0..need.len()).rev() {
        if need[i] {
            for o in operands(&kernel.exprs[i].expr) {
                need[o.0 as usize] = true;
            }
        }
    }
    need
}

/// The expressions below `e` that a depth-first walk from `e` reaches without passing a
/// `known` one (`e` itself excluded), in ascending index order: operands before their users,
/// since a kernel's operands precede them (`rumba_plan::verify`).
pub(super) fn pending(kernel: &Kernel, e: ExprId, known: impl Fn(ExprId) -> bool) -> Vec<ExprId> {
    let top = e.0 as usize;
    let mut need = vec![false; top + 1];
    need[top] = true;
    let mut out = Vec::new();
    for i in (0..=top).rev() {
        if !need[i] || (i != top && known(ExprId(i as u32))) {
            continue;
        }
        if i != top {
            out.push(ExprId(i as u32));
        }
        for o in operands(&kernel.exprs[i].expr) {
            need[o.0 as usize] = true;
        }
    }
    out.reverse();
    out
}

/// Whether a varying expression of dtype `d` has a vector form.
fn vectorizable(kernel: &Kernel, e: &Expr, d: DType, acc_ok: &dyn Fn(u32) -> bool) -> bool {
    let dtype = |x: &ExprId| kernel.exprs[x.0 as usize].dtype;
    if d == DType::F64 {
        return false;
    }
    match e {
        Expr::Load { .. } => true,
        Expr::Param { .. } | Expr::Const { .. } | Expr::InSpans { .. } => false,
        Expr::Acc { reduction } => acc_ok(*reduction),
        Expr::Unary { op, x } => match (op, dtype(x)) {
            (_, DType::F64) => false,
            (UnaryOp::IsNan, _) => true,
            (UnaryOp::Neg, t) => matches!(t, DType::I32 | DType::F32),
            (UnaryOp::Abs, t) => t != DType::Bool,
            (UnaryOp::Sqrt | UnaryOp::Exp | UnaryOp::Log, t) => t == DType::F32,
        },
        Expr::Binary { op, a, .. } => match dtype(a) {
            DType::F64 => false,
            t => !is_arithmetic(*op) || t == DType::F32,
        },
        Expr::Cast { x } => dtype(x) != DType::F64,
        Expr::Select { .. } | Expr::NanToNum { .. } => true,
    }
}

fn is_arithmetic(op: BinaryOp) -> bool {
    matches!(op, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div)
}

impl Translator<'_, '_> {
    /// Whether the vector loops along `axis` may run for this call: every load that varies
    /// along it steps one element, and (second value) so does every store. Computed once, in
    /// the entry block.
    pub(super) fn vector_conditions(&mut self, axis: usize) -> (Value, Value) {
        let kernel = self.kernel;
        let mut loads_ok = self.b.ins().iconst(types::I8, 1);
        let varying: Vec<Access> = kernel
            .loads
            .iter()
            .zip(&self.loads)
            .filter(|(l, _)| l.map.dims.iter().any(|d| d.uses(axis)))
            .map(|(_, a)| a.clone())
            .collect();
        for acc in &varying {
            let unit = self.b.ins().icmp_imm_s(IntCC::Equal, acc.steps[axis], 1);
            loads_ok = self.b.ins().band(loads_ok, unit);
        }
        let mut all_ok = loads_ok;
        for acc in self.stores.clone() {
            let unit = self.b.ins().icmp_imm_s(IntCC::Equal, acc.steps[axis], 1);
            all_ok = self.b.ins().band(all_ok, unit);
        }
        // A kernel that reads a buffer it writes keeps the scalar order of its points.
        let aliased = kernel
            .stores
            .iter()
            .any(|s| kernel.loads.iter().any(|l| l.buffer == s.buffer));
        if aliased {
            let no = self.b.ins().iconst(types::I8, 0);
            return (no, no);
        }
        (loads_ok, all_ok)
    }

    /// The loop over `lo..hi` of `phase.axis`: groups of `phase.group()` points through
    /// `vector(i)` while the run-time condition holds, the rest one point at a time through
    /// `scalar()`. Invariant expressions and the row addresses of vector accesses are computed
    /// once before the loops — for each of the `jam` sub-steps of the jammed axis, if any
    /// (the leaves pick one with [`Translator::substep`]).
    pub(super) fn inner_loop(
        &mut self,
        phase: &Phase,
        (lo, hi): (Value, Value),
        jam: Option<(usize, usize)>,
        vector: &mut dyn FnMut(&mut Self, Value) -> Result<(), JitError>,
        scalar: &mut dyn FnMut(&mut Self) -> Result<(), JitError>,
    ) -> Result<(), JitError> {
        let axis = phase.axis;
        let ok = self.phase_rows(phase, jam)?;
        let n = self.b.ins().isub(hi, lo);
        let zero = self.b.ins().iconst(types::I64, 0);
        let n = self.b.ins().smax(n, zero);
        let whole = self.b.ins().band_imm_s(n, -phase.group());
        let whole = self.b.ins().select(ok, whole, zero);
        let vend = self.b.ins().iadd(lo, whole);
        let group = phase.group();
        self.for_loop_step(lo, vend, group, &mut |t, i| {
            t.coords[axis] = Some(i);
            t.substep(0);
            let r = vector(t, i);
            t.coords[axis] = None;
            r
        })?;
        self.for_loop(vend, hi, &mut |t, i| {
            t.coords[axis] = Some(i);
            let r = scalar(t);
            t.coords[axis] = None;
            r
        })
    }

    /// The set-up of a vector loop along `phase.axis` at the current coordinates: invariants
    /// and row addresses (per sub-step of `jam`), sub-step 0 made current. Returns whether the
    /// vector loop may run for this call (the run-time stride condition).
    pub(super) fn phase_rows(&mut self, phase: &Phase, jam: Option<(usize, usize)>) -> Result<Value, JitError> {
        let axis = phase.axis;
        self.coords[axis] = None;
        self.jrows.clear();
        self.jinvariant.clear();
        let (jam_axis, steps) = jam.map_or((None, 1), |(a, n)| (Some(a), n));
        let base = jam_axis.and_then(|a| self.coords[a]);
        for j in 0..steps {
            if let Some(a) = jam_axis {
                self.jam_point(a, base, j);
            }
            self.memo.clear();
            let mut inv = HashMap::new();
            for &e in &phase.invariant {
                let v = self.value(e)?;
                let lanes = self.splat(v, self.kernel.exprs[e.0 as usize].dtype, phase.unroll)?;
                inv.insert(e, lanes);
            }
            self.jinvariant.push(inv);
            let rows: Vec<Value> = (0..self.loads.len())
                .map(|l| {
                    let acc = self.loads[l].clone();
                    self.address(&acc)
                })
                .collect();
            self.jrows.push(rows);
        }
        if let Some(a) = jam_axis {
            self.coords[a] = base;
        }
        self.memo.clear();
        let store_rows: Vec<Value> = (0..self.stores.len())
            .map(|s| {
                let acc = self.stores[s].clone();
                self.address(&acc)
            })
            .collect();
        self.store_rows = store_rows;
        self.unroll = phase.unroll;
        self.substep(0);
        let (loads_ok, all_ok) = self
            .vec_ok
            .ok_or_else(|| JitError::codegen("vector loop without a run-time condition"))?;
        Ok(if phase.stores { all_ok } else { loads_ok })
    }

    /// Makes sub-step `j` of the jammed axis current for vector values: its row addresses and
    /// invariants, and no memoised group values.
    pub(super) fn substep(&mut self, j: usize) {
        if let (Some(rows), Some(inv)) = (self.jrows.get(j), self.jinvariant.get(j)) {
            self.rows = rows.clone();
            self.vinvariant = inv.clone();
        }
        self.vmemo.clear();
    }
}
