//! A kernel prepared for evaluation: element offsets as linear functions of the domain point
//! (for the buffers' actual strides and the call's params), and the lists of expressions each
//! phase evaluates.

use super::memory::Memory;
use super::scalar::{self, Scalar};
use crate::plan::{Accumulate, Expr, ExprId, IndexMap, Kernel};
use rumba_ir::DType;
use rumba_ir::op::ReduceKind;

/// An element offset as a function of the domain point: `base + Σ coefs[a]·point[a]`.
///
/// With `map` = one affine per buffer dimension and `strides` the buffer's, the offset
/// `Σ_d affine_d(point)·strides[d]` regroups exactly into this form.
#[derive(Clone, Debug)]
pub(crate) struct Linear {
    base: i64,
    coefs: Vec<i64>,
}

impl Linear {
    /// The offsets `map` reaches in a buffer with `strides`, for these param slot values.
    ///
    /// Wrapping arithmetic: a coefficient may be as large as a slice's step (`i64::MIN` on
    /// an axis of extent 1), so its product with a stride can overflow, yet every offset a
    /// point of the domain reaches fits in i64 — and two's-complement wrapping gives exactly
    /// those offsets.
    pub(crate) fn new(map: &IndexMap, strides: &[i64], rank: usize, params: &[f64]) -> Linear {
        let mut base = 0i64;
        let mut coefs = vec![0i64; rank];
        for (affine, &stride) in map.dims.iter().zip(strides) {
            let constant = affine.eval(&vec![0; rank], params);
            base = base.wrapping_add(constant.wrapping_mul(stride));
            for (c, &a) in coefs.iter_mut().zip(&affine.coefs) {
                *c = c.wrapping_add(a.wrapping_mul(stride));
            }
        }
        Linear { base, coefs }
    }

    /// The element offset at `point` (wrapping, see [`Linear::new`]).
    pub(crate) fn at(&self, point: &[usize]) -> i64 {
        self.coefs
            .iter()
            .zip(point)
            .fold(self.base, |acc, (&c, &i)| acc.wrapping_add(c.wrapping_mul(i as i64)))
    }
}

/// A store ready to run.
#[derive(Clone, Debug)]
pub(crate) struct StoreOp {
    /// Index of the buffer.
    pub buffer: usize,
    /// Where each point writes.
    pub at: Linear,
    /// The stored expression.
    pub value: usize,
    /// The reductions whose results the value uses (it is skipped when one failed).
    pub needs: Vec<usize>,
}

/// A reduction ready to run.
#[derive(Clone, Debug)]
pub(crate) struct ReductionOp {
    /// The accumulated expression.
    pub value: usize,
    /// Its dtype.
    pub value_dtype: DType,
    /// The mask expression, if any.
    pub mask: Option<usize>,
    /// The weight expression of `weighted`.
    pub weight: Option<usize>,
    /// `max` (rather than `min`) for the extremes.
    pub max: bool,
    /// Skip NaN values.
    pub skip_nan: bool,
}

/// A kernel prepared for one call.
pub(crate) struct Program<'k> {
    /// The kernel.
    pub kernel: &'k Kernel,
    /// Per load: buffer index and offsets.
    loads: Vec<(usize, Linear)>,
    /// The stores.
    pub stores: Vec<StoreOp>,
    /// The reductions.
    pub reductions: Vec<ReductionOp>,
    /// Expressions evaluated at every domain point, ascending: what the stores need (no
    /// reductions) or what the reductions read.
    pub point: Vec<usize>,
    /// Expressions evaluated once per lane after accumulation, ascending (reductions only).
    pub lane: Vec<usize>,
    /// The param slot values.
    params: &'k [f64],
}

fn id(e: ExprId) -> usize {
    e.0 as usize
}

/// The expressions `roots` need (themselves included), ascending.
pub(crate) fn closure(kernel: &Kernel, roots: impl IntoIterator<Item = usize>) -> Vec<usize> {
    kernel.closure(roots)
}

impl<'k> Program<'k> {
    /// Prepares `kernel` for the buffers and params of `mem`.
    pub(crate) fn new(kernel: &'k Kernel, mem: &Memory<'k>) -> Program<'k> {
        let rank = kernel.domain.len();
        let params = mem.params();
        let linear = |buffer: usize, map: &IndexMap| Linear::new(map, mem.strides(buffer), rank, params);
        let loads = kernel
            .loads
            .iter()
            .map(|l| (l.buffer.0 as usize, linear(l.buffer.0 as usize, &l.map)))
            .collect();
        let stores = kernel
            .stores
            .iter()
            .map(|s| {
                let needs = closure(kernel, [id(s.value)])
                    .into_iter()
                    .filter_map(|e| match kernel.exprs[e].expr {
                        Expr::Acc { reduction } => Some(reduction as usize),
                        _ => None,
                    })
                    .collect();
                StoreOp {
                    buffer: s.buffer.0 as usize,
                    at: linear(s.buffer.0 as usize, &s.map),
                    value: id(s.value),
                    needs,
                }
            })
            .collect();
        let reductions: Vec<ReductionOp> = kernel
            .reductions
            .iter()
            .map(|r| ReductionOp {
                value: id(r.value),
                value_dtype: kernel.exprs[id(r.value)].dtype,
                mask: r.mask.map(id),
                weight: match r.kind {
                    Accumulate::Weighted { weight } => Some(id(weight)),
                    Accumulate::Stat(_) => None,
                },
                max: r.kind == Accumulate::Stat(ReduceKind::Max),
                skip_nan: r.skip_nan,
            })
            .collect();
        let store_roots = kernel.stores.iter().map(|s| id(s.value));
        let (point, lane) = if reductions.is_empty() {
            (closure(kernel, store_roots), Vec::new())
        } else {
            let inputs = reductions
                .iter()
                .flat_map(|r| [Some(r.value), r.mask, r.weight])
                .flatten();
            (closure(kernel, inputs), closure(kernel, store_roots))
        };
        Program {
            kernel,
            loads,
            stores,
            reductions,
            point,
            lane,
            params,
        }
    }

    /// Evaluates the expressions `ids` (ascending) at `point` into `values`; `Expr::Acc` reads
    /// `results` (a failed reduction reads as zero: no store uses it).
    ///
    /// # Panics
    /// On an expression [`super::check`] rejects.
    pub(crate) fn eval(
        &self,
        ids: &[usize],
        point: &[usize],
        mem: &Memory<'_>,
        values: &mut [Scalar],
        results: &[Option<Scalar>],
    ) {
        const CHECKED: &str = "the kernel passed eval::check";
        for &i in ids {
            let node = &self.kernel.exprs[i];
            values[i] = match &node.expr {
                Expr::Load { load } => {
                    let (buffer, at) = &self.loads[*load as usize];
                    mem.load(*buffer, at.at(point))
                }
                Expr::Param { param } => Scalar::from_f64(node.dtype, self.params[param.0 as usize]),
                Expr::Const { value } => Scalar::from_f64(node.dtype, value.0),
                Expr::Unary { op, x } => scalar::unary(*op, values[id(*x)]).expect(CHECKED),
                Expr::Binary { op, a, b } => scalar::binary(*op, values[id(*a)], values[id(*b)]).expect(CHECKED),
                Expr::Select { cond, a, b } => {
                    if values[id(*cond)].as_bool().expect(CHECKED) {
                        values[id(*a)]
                    } else {
                        values[id(*b)]
                    }
                }
                Expr::NanToNum { x, nan, posinf, neginf } => {
                    scalar::nan_to_num(values[id(*x)], nan.0, posinf.0, neginf.0)
                }
                Expr::Cast { x } => values[id(*x)].cast(node.dtype),
                Expr::InSpans { table, row, col } => {
                    let (r, c) = (row.eval(point, self.params), col.eval(point, self.params));
                    Scalar::Bool(self.kernel.spans[*table as usize].contains(r, c))
                }
                Expr::Acc { reduction } => {
                    results[*reduction as usize].unwrap_or_else(|| Scalar::from_f64(node.dtype, 0.0))
                }
            };
        }
    }
}
