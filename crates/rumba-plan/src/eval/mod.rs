//! The plan evaluator: the fallback backend (DESIGN §3 step 4).
//!
//! [`run_kernel`] executes one [`Kernel`] with plain scalar loops, exactly as its description
//! says and through the same [`crate::KernelArgs`] ABI as compiled code: buffers are read and
//! written only through their `BufferArg` pointers and strides, params come from
//! `args.params`, and a run-time reduction failure is reported in `*args.error`. It is
//! independent of any code generator, so it doubles as the JIT's reference: both must agree
//! bit for bit (DESIGN §5).
//!
//! Values are typed (`scalar`): every expression computes in its dtype exactly as the
//! reference interpreter does. Reductions stream their values into accumulators
//! (`accumulate`) whose results equal the interpreter's lane statistics bit for bit for the
//! same visit order. The loops themselves are in `walk`; `program` prepares a kernel for a
//! call (offsets as linear functions of the point); all `unsafe` is in `memory`.
//!
//! Before running a kernel, a caller checks the plan with [`crate::verify()`] and the kernel with
//! [`check`] (the operations the evaluator implements, on the dtypes it implements them for).

mod accumulate;
mod memory;
mod program;
pub mod scalar;
mod walk;

#[cfg(test)]
mod tests;

pub use accumulate::order_statistic;
pub use memory::run_kernel;

use crate::plan::{Accumulate, Expr, Kernel, Plan};
use rumba_ir::DType;
use rumba_ir::op::{ReduceKind, UnaryOp};

/// A kernel the evaluator cannot run: an operation on a dtype it is not defined for, or a
/// reduction whose dtypes or parameters are outside the statistic rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("plan kernel {kernel}: the evaluator cannot run {what}")]
pub struct EvalError {
    /// The kernel's name.
    pub kernel: String,
    /// What it cannot run.
    pub what: String,
}

/// Checks that the evaluator implements every operation of `kernel` (of a plan that passed
/// [`crate::verify()`]): elementwise ops on the dtypes the interpreter accepts, bool masks and
/// conditions, statistics of numbers with float results (min/max any numeric dtype, cast
/// from the value's), f64 weights and percentiles with `q` in [0, 100].
///
/// # Errors
/// The first unsupported expression or reduction.
pub fn check(plan: &Plan, kernel: &Kernel) -> Result<(), EvalError> {
    let fail = |what: String| {
        Err(EvalError {
            kernel: kernel.name.clone(),
            what,
        })
    };
    let dtype = |e: crate::ExprId| kernel.exprs[e.0 as usize].dtype;
    for (i, node) in kernel.exprs.iter().enumerate() {
        let ok = match &node.expr {
            Expr::Load { load } => kernel
                .loads
                .get(*load as usize)
                .is_some_and(|l| plan.buffer(l.buffer).dtype == node.dtype),
            Expr::Param { .. } | Expr::Const { .. } | Expr::Cast { .. } => true,
            Expr::Unary { op, x } => {
                let want = if *op == UnaryOp::IsNan { DType::Bool } else { dtype(*x) };
                scalar::unary_supported(*op, dtype(*x)) && node.dtype == want
            }
            Expr::Binary { op, a, b } => {
                let want = if op.is_comparison() { DType::Bool } else { dtype(*a) };
                dtype(*a) == dtype(*b) && scalar::binary_supported(*op, dtype(*a)) && node.dtype == want
            }
            Expr::Select { cond, a, b } => {
                dtype(*cond) == DType::Bool && dtype(*a) == node.dtype && dtype(*b) == node.dtype
            }
            Expr::NanToNum { x, .. } => dtype(*x) == node.dtype,
            Expr::InSpans { table, .. } => (*table as usize) < kernel.spans.len() && node.dtype == DType::Bool,
            Expr::Acc { reduction } => kernel
                .reductions
                .get(*reduction as usize)
                .is_some_and(|r| r.dtype == node.dtype),
        };
        if !ok {
            return fail(format!("expr {i} ({:?} → {})", node.expr, node.dtype));
        }
    }
    for (i, r) in kernel.reductions.iter().enumerate() {
        let value = dtype(r.value);
        let ok = value != DType::Bool
            && r.mask.is_none_or(|m| dtype(m) == DType::Bool)
            && match r.kind {
                Accumulate::Stat(ReduceKind::Min | ReduceKind::Max) => r.dtype != DType::Bool,
                Accumulate::Stat(ReduceKind::Percentile(q)) => (0.0..=100.0).contains(&q.0) && r.dtype.is_float(),
                Accumulate::Stat(_) => r.dtype.is_float(),
                Accumulate::Weighted { weight } => dtype(weight) == DType::F64 && r.dtype.is_float(),
            };
        if !ok {
            return fail(format!("reduction {i} ({:?} of {value} → {})", r.kind, r.dtype));
        }
    }
    for (i, s) in kernel.stores.iter().enumerate() {
        if dtype(s.value) != plan.buffer(s.buffer).dtype {
            return fail(format!(
                "store {i} (a {} value into a {} buffer)",
                dtype(s.value),
                plan.buffer(s.buffer).dtype
            ));
        }
    }
    Ok(())
}
