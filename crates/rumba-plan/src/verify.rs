//! `verify()`: the invariants every backend relies on. A verified plan cannot read or write
//! out of bounds for any valid param value, every expression is well typed, stores never
//! depend on reduced axes, each kernel reads only what earlier kernels (or the caller)
//! provide, and no kernel writes a buffer it reads.

use crate::plan::{Accumulate, Affine, BufferId, Expr, IndexMap, Kernel, ParamSource, Plan, Role};
use rumba_ir::DType;
use rumba_ir::op::{BinaryOp, ReduceKind, UnaryOp};

/// A broken plan invariant.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("plan kernel {kernel}: {message}")]
pub struct VerifyError {
    /// The kernel's name (or `plan`).
    pub kernel: String,
    /// What is wrong.
    pub message: String,
}

/// The inclusive range `[lo, hi]` each affine of `map` takes over the kernel's domain, with
/// the given param slot values (params missing from `params` count as their whole valid
/// range [`param_range`] — pass `&[]` for "any valid value").
#[must_use]
pub fn map_ranges(kernel: &Kernel, map: &IndexMap, params: &[f64]) -> Vec<(i64, i64)> {
    map.dims.iter().map(|a| affine_range(kernel, a, params, None)).collect()
}

fn affine_range(kernel: &Kernel, a: &Affine, params: &[f64], plan: Option<&Plan>) -> (i64, i64) {
    let (mut lo, mut hi) = (a.offset, a.offset);
    for (axis, &c) in kernel.domain.iter().zip(&a.coefs) {
        if axis.extent == 0 {
            continue;
        }
        let span = c * (axis.extent as i64 - 1);
        if span < 0 { lo += span } else { hi += span }
    }
    for &(p, c) in &a.params {
        let (plo, phi) = match params.get(p.0 as usize) {
            Some(&v) => (v as i64, v as i64),
            None => plan.map_or((0, 0), |plan| param_range(plan, p.0 as usize)),
        };
        let (x, y) = (c * plo, c * phi);
        lo += x.min(y);
        hi += x.max(y);
    }
    (lo, hi)
}

/// The values a run-time slot can take once the executor has checked it: a slice start lies
/// in `[0, extent − (len−1)·step − 1]`; a named param is unbounded (it never indexes).
#[must_use]
pub fn param_range(plan: &Plan, slot: usize) -> (i64, i64) {
    match &plan.params[slot] {
        ParamSource::SliceStart { extent, len, step, .. } => {
            let span = (*len as i64 - 1).max(0) * step;
            (0, *extent as i64 - 1 - span)
        }
        ParamSource::Named { .. } => (i64::MIN / 4, i64::MAX / 4),
    }
}

fn err(kernel: &Kernel, message: String) -> VerifyError {
    VerifyError {
        kernel: kernel.name.clone(),
        message,
    }
}

/// Checks every invariant of the module docs.
///
/// # Errors
/// The first broken invariant, naming the kernel.
pub fn verify(plan: &Plan) -> Result<(), VerifyError> {
    let mut written = vec![false; plan.buffers.len()];
    for (i, b) in plan.buffers.iter().enumerate() {
        written[i] = matches!(b.role, Role::Input { .. } | Role::Const { .. });
    }
    for kernel in &plan.kernels {
        verify_kernel(plan, kernel, &written)?;
        for s in &kernel.stores {
            written[s.buffer.0 as usize] = true;
        }
    }
    for (name, b) in &plan.outputs {
        if !written[b.0 as usize] {
            return Err(VerifyError {
                kernel: "plan".into(),
                message: format!("output \"{name}\" is never written"),
            });
        }
    }
    Ok(())
}

/// A running window: its axis is parallel and the next one, the window, the only reduced
/// axis; every reduction is an unmasked statistic with a running form; every load the
/// reductions read steps with the window (`k + j`).
fn verify_running(kernel: &Kernel, running: &crate::Running) -> Result<(), String> {
    let (k, j) = (running.axis, running.axis + 1);
    let domain = &kernel.domain;
    if j >= domain.len() || domain[k].reduced || !domain[j].reduced {
        return Err(format!("axis {k} must be parallel and axis {j} its reduced window"));
    }
    if domain.iter().filter(|a| a.reduced).count() != 1 {
        return Err("the window must be the only reduced axis".into());
    }
    if running.restart == Some(0) {
        return Err("a restart period of 0".into());
    }
    for (r, red) in kernel.reductions.iter().enumerate() {
        if red.mask.is_some() || kernel.window_spec(r).is_none() {
            return Err(format!("reduction {r} is not an unmasked statistic"));
        }
    }
    let roots = kernel.reductions.iter().map(|r| r.value.0 as usize);
    for e in kernel.closure(roots) {
        let steps = match &kernel.exprs[e].expr {
            Expr::Load { load } => kernel
                .loads
                .get(*load as usize)
                .is_some_and(|l| l.map.dims.iter().all(|d| d.coefs.get(k) == d.coefs.get(j))),
            Expr::InSpans { row, col, .. } => {
                row.coefs.get(k) == row.coefs.get(j) && col.coefs.get(k) == col.coefs.get(j)
            }
            _ => true,
        };
        if !steps {
            return Err(format!("expr {e} does not read k + j"));
        }
    }
    Ok(())
}

fn check_map(plan: &Plan, kernel: &Kernel, buffer: BufferId, map: &IndexMap, what: &str) -> Result<(), VerifyError> {
    let Some(b) = plan.buffers.get(buffer.0 as usize) else {
        return Err(err(
            kernel,
            format!("{what} uses buffer {} which does not exist", buffer.0),
        ));
    };
    if map.dims.len() != b.shape.len() {
        return Err(err(
            kernel,
            format!("{what}: map has {} dims, buffer rank {}", map.dims.len(), b.shape.len()),
        ));
    }
    for (d, a) in map.dims.iter().enumerate() {
        if a.coefs.len() != kernel.domain.len() {
            return Err(err(
                kernel,
                format!(
                    "{what}: dim {d} has {} coefficients for a domain of rank {}",
                    a.coefs.len(),
                    kernel.domain.len()
                ),
            ));
        }
        if a.params.iter().any(|(p, _)| p.0 as usize >= plan.params.len()) {
            return Err(err(
                kernel,
                format!("{what}: dim {d} uses a param slot that does not exist"),
            ));
        }
        if kernel.points() == 0 {
            continue;
        }
        let (lo, hi) = affine_range(kernel, a, &[], Some(plan));
        if lo < 0 || hi >= b.shape[d] as i64 {
            return Err(err(
                kernel,
                format!("{what}: dim {d} reaches [{lo}, {hi}], outside 0..{}", b.shape[d]),
            ));
        }
    }
    Ok(())
}

fn verify_kernel(plan: &Plan, kernel: &Kernel, written: &[bool]) -> Result<(), VerifyError> {
    if let Some(running) = &kernel.running {
        verify_running(kernel, running).map_err(|m| err(kernel, format!("running window: {m}")))?;
    }
    for (i, load) in kernel.loads.iter().enumerate() {
        check_map(plan, kernel, load.buffer, &load.map, &format!("load {i}"))?;
        if !written[load.buffer.0 as usize] {
            return Err(err(
                kernel,
                format!("load {i} reads buffer {} before any kernel writes it", load.buffer.0),
            ));
        }
    }
    let n = kernel.exprs.len();
    let dtype = |e: crate::ExprId| kernel.exprs[e.0 as usize].dtype;
    for (i, node) in kernel.exprs.iter().enumerate() {
        let before = |e: &crate::ExprId| (e.0 as usize) < i;
        let bad = |m: &str| Err(err(kernel, format!("expr {i}: {m}")));
        match &node.expr {
            Expr::Load { load } => {
                let Some(l) = kernel.loads.get(*load as usize) else {
                    return bad("load out of range");
                };
                if plan.buffer(l.buffer).dtype != node.dtype {
                    return bad("load dtype differs from its buffer");
                }
            }
            Expr::Param { param } => {
                if param.0 as usize >= plan.params.len() || node.dtype != DType::F64 {
                    return bad("param slot out of range or not f64");
                }
            }
            Expr::Const { .. } => {}
            Expr::Unary { op, x } => {
                if !before(x) {
                    return bad("operand after user");
                }
                let want = if *op == UnaryOp::IsNan { DType::Bool } else { dtype(*x) };
                if node.dtype != want {
                    return bad("unary dtype");
                }
            }
            Expr::Binary { op, a, b } => {
                if !before(a) || !before(b) || dtype(*a) != dtype(*b) {
                    return bad("binary operands must precede it and share a dtype");
                }
                let want = if BinaryOp::is_comparison(*op) {
                    DType::Bool
                } else {
                    dtype(*a)
                };
                if node.dtype != want {
                    return bad("binary dtype");
                }
            }
            Expr::Select { cond, a, b } => {
                if !before(cond)
                    || !before(a)
                    || !before(b)
                    || dtype(*cond) != DType::Bool
                    || dtype(*a) != dtype(*b)
                    || node.dtype != dtype(*a)
                {
                    return bad("select needs a bool condition and two operands of its dtype");
                }
            }
            Expr::NanToNum { x, .. } | Expr::Cast { x } => {
                if !before(x) {
                    return bad("operand after user");
                }
                if matches!(node.expr, Expr::NanToNum { .. }) && node.dtype != dtype(*x) {
                    return bad("nan_to_num keeps its dtype");
                }
            }
            Expr::InSpans { table, row, col } => {
                if *table as usize >= kernel.spans.len() || node.dtype != DType::Bool {
                    return bad("span table out of range or not bool");
                }
                if row.coefs.len() != kernel.domain.len() || col.coefs.len() != kernel.domain.len() {
                    return bad("span affines do not match the domain");
                }
            }
            Expr::Acc { reduction } => {
                let Some(r) = kernel.reductions.get(*reduction as usize) else {
                    return bad("reduction out of range");
                };
                if r.dtype != node.dtype {
                    return bad("acc dtype differs from its reduction");
                }
            }
        }
    }
    let epilogue = kernel.epilogue_mask();
    for (i, r) in kernel.reductions.iter().enumerate() {
        let ids = [
            Some(r.value),
            r.mask,
            if let Accumulate::Weighted { weight } = r.kind {
                Some(weight)
            } else {
                None
            },
        ];
        for id in ids.into_iter().flatten() {
            if id.0 as usize >= n || epilogue[id.0 as usize] {
                return Err(err(
                    kernel,
                    format!("reduction {i} reads an expression that is missing or uses a result"),
                ));
            }
        }
        if r.mask.is_some_and(|m| dtype(m) != DType::Bool) {
            return Err(err(kernel, format!("reduction {i}: mask is not bool")));
        }
        let want = match r.kind {
            Accumulate::Stat(k) => k.out_dtype(dtype(r.value)),
            Accumulate::Weighted { .. } => dtype(r.value).arith(),
        };
        if want != Some(r.dtype) && !matches!(r.kind, Accumulate::Stat(ReduceKind::Min | ReduceKind::Max)) {
            return Err(err(
                kernel,
                format!("reduction {i}: result dtype {} for input {}", r.dtype, dtype(r.value)),
            ));
        }
    }
    if kernel.reductions.is_empty() != kernel.first_reduced().is_none() {
        return Err(err(
            kernel,
            "a kernel has reductions iff its domain has reduced axes".into(),
        ));
    }
    for (i, s) in kernel.stores.iter().enumerate() {
        check_map(plan, kernel, s.buffer, &s.map, &format!("store {i}"))?;
        if s.value.0 as usize >= n || dtype(s.value) != plan.buffer(s.buffer).dtype {
            return Err(err(
                kernel,
                format!("store {i}: value missing or of another dtype than its buffer"),
            ));
        }
        if s.map
            .dims
            .iter()
            .any(|a| kernel.domain.iter().enumerate().any(|(ax, d)| d.reduced && a.uses(ax)))
        {
            return Err(err(kernel, format!("store {i} depends on a reduced axis")));
        }
        if matches!(plan.buffer(s.buffer).role, Role::Input { .. } | Role::Const { .. }) {
            return Err(err(kernel, format!("store {i} writes a read-only buffer")));
        }
        // Compiled kernels treat what they load as immutable while they run.
        if kernel.loads.iter().any(|l| l.buffer == s.buffer) {
            return Err(err(
                kernel,
                format!("store {i} writes buffer {}, which the kernel also reads", s.buffer.0),
            ));
        }
    }
    if let Some(t) = kernel.schedule.tile_axis
        && (t >= kernel.domain.len() || kernel.domain[t].reduced || kernel.schedule.tile_len == 0)
    {
        return Err(err(
            kernel,
            "the tile axis must be a parallel domain axis with tile_len ≥ 1".into(),
        ));
    }
    Ok(())
}
