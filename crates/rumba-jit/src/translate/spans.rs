//! Polygon masks as row spans (DESIGN §2 `polygon_mask`, issue 4): when every reduction of a
//! kernel is masked by the same polygon test whose column is the innermost axis, the innermost
//! loop runs only inside the spans of the current row instead of testing every point.
//!
//! The spans of a table are flattened at compile time into `u32`s owned by the compiled unit
//! ([`flatten_spans`]): `rows + 1` offsets into the span list, then each span's `[j0, j1)`.
//! Spans are sorted and disjoint, so the points are visited in increasing order, each lane
//! sees exactly the points the mask keeps, in the same order as the test-every-point loop.

use super::Translator;
use super::layout::ReducePlan;
use super::reduce::Scratch;
use super::vector::{Phase, UNROLL};
use crate::JitError;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use rumba_plan::{Affine, Expr, ExprId, Kernel, SpanTable};

/// Addresses of the data a compiled unit owns and its code embeds: the kernel's span tables
/// (for the host test), their flat forms, and its running windows' specs.
#[derive(Clone, Debug, Default)]
pub(crate) struct SpanAddrs {
    pub tables: Vec<i64>,
    pub flat: Vec<i64>,
    pub windows: Vec<i64>,
}

/// `rows + 1` offsets into the span list, then `[j0, j1)` per span.
pub(crate) fn flatten_spans(table: &SpanTable) -> Box<[u32]> {
    let rows = table.rows.len();
    let mut flat = Vec::with_capacity(rows + 1 + 2 * table.rows.iter().map(Vec::len).sum::<usize>());
    let mut at = 0u32;
    for row in &table.rows {
        flat.push(at);
        at += row.len() as u32;
    }
    flat.push(at);
    for &(j0, j1) in table.rows.iter().flatten() {
        flat.extend([j0, j1]);
    }
    flat.into_boxed_slice()
}

/// The polygon test every reduction of `kernel` is masked by, when its column is the innermost
/// axis (coefficient 1) and its row does not depend on it: (mask expression, table, row, col).
pub(super) fn span_mask(kernel: &Kernel) -> Option<(ExprId, usize, Affine, Affine)> {
    let axis = kernel.domain.len().checked_sub(1)?;
    let mask = kernel.reductions.first()?.mask?;
    if kernel.reductions.iter().any(|r| r.mask != Some(mask)) {
        return None;
    }
    let Expr::InSpans { table, row, col } = &kernel.exprs[mask.0 as usize].expr else {
        return None;
    };
    (col.coefs[axis] == 1 && !row.uses(axis)).then(|| (mask, *table as usize, row.clone(), col.clone()))
}

/// The polygon test of an elementwise kernel that runs by row spans: the one `InSpans`
/// expression the stores need, when its column is the innermost axis (coefficient 1) and its
/// row does not depend on it: (expression, table, row, col).
pub(super) fn span_test(kernel: &Kernel) -> Option<(ExprId, usize, Affine, Affine)> {
    let axis = kernel.domain.len().checked_sub(1)?;
    let roots = kernel.stores.iter().map(|s| s.value.0 as usize);
    let mut tests = kernel
        .closure(roots)
        .into_iter()
        .filter(|&e| matches!(kernel.exprs[e].expr, Expr::InSpans { .. }));
    let e = tests.next()?;
    if tests.next().is_some() {
        return None;
    }
    let Expr::InSpans { table, row, col } = &kernel.exprs[e].expr else {
        return None;
    };
    (col.coefs[axis] == 1 && !row.uses(axis)).then(|| (ExprId(e as u32), *table as usize, row.clone(), col.clone()))
}

impl Translator<'_, '_> {
    /// An elementwise kernel with a polygon test (`apply_polygon`): each row of the innermost
    /// axis runs as alternating runs outside and inside the polygon's spans, the test fixed
    /// to false or true in each (no per-pixel test), every run with the vector path.
    pub(super) fn elementwise_by_spans(
        &mut self,
        ranges: &[(Value, Value)],
        (test, table, row, col): &(ExprId, usize, Affine, Affine),
    ) -> Result<(), JitError> {
        let kernel = self.kernel;
        let axis = kernel.domain.len() - 1;
        let roots: Vec<ExprId> = kernel.stores.iter().map(|s| s.value).collect();
        let phase = Phase::plan_fixing(kernel, &roots, &[], (axis, UNROLL), &|_| false, &[*test]);
        let rows = kernel.spans[*table].rows.len() as i64;
        let flat = self.span_addrs.flat[*table];
        let outer: Vec<usize> = (0..axis).collect();
        let (lo, hi) = ranges[axis];
        self.nest(&outer, ranges, &mut |t| {
            t.coords[axis] = None;
            let r = t.affine(row);
            let c0 = t.affine(col);
            let f = MemFlagsData::trusted();
            // Rows outside the table have no span: first = last.
            let inside = t.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, r, rows);
            let zero = t.b.ins().iconst(types::I64, 0);
            let row_at = t.b.ins().select(inside, r, zero);
            let base = t.b.ins().iconst(t.ptr, flat);
            let at = t.b.ins().imul_imm_s(row_at, 4);
            let at = t.b.ins().iadd(base, at);
            let first = t.b.ins().uload32(f, at, 0);
            let last = t.b.ins().uload32(f, at, 4);
            let last = t.b.ins().select(inside, last, first);
            let pairs = t.b.ins().iadd_imm_s(base, 4 * (rows + 1));
            let done = t.b.declare_var(types::I64);
            t.b.def_var(done, lo);
            t.for_loop(first, last, &mut |t, k| {
                let at = t.b.ins().imul_imm_s(k, 8);
                let at = t.b.ins().iadd(pairs, at);
                let j0 = t.b.ins().uload32(f, at, 0);
                let j1 = t.b.ins().uload32(f, at, 4);
                let prev = t.b.use_var(done);
                let from = t.b.ins().isub(j0, c0);
                let from = t.b.ins().smin(from, hi);
                let from = t.b.ins().smax(from, prev);
                let to = t.b.ins().isub(j1, c0);
                let to = t.b.ins().smin(to, hi);
                let to = t.b.ins().smax(to, from);
                t.span_run(phase.as_ref(), *test, false, (prev, from))?;
                t.span_run(phase.as_ref(), *test, true, (from, to))?;
                t.b.def_var(done, to);
                Ok(())
            })?;
            let prev = t.b.use_var(done);
            t.span_run(phase.as_ref(), *test, false, (prev, hi))
        })
    }

    /// Stores the points `lo..hi` of the innermost axis with the polygon test fixed to `inside`.
    fn span_run(
        &mut self,
        phase: Option<&Phase>,
        test: ExprId,
        inside: bool,
        (lo, hi): (Value, Value),
    ) -> Result<(), JitError> {
        let axis = self.kernel.domain.len() - 1;
        let v = self.b.ins().iconst(types::I8, i64::from(inside));
        self.fixed.insert(test, v);
        let r = match phase {
            Some(phase) => self.inner_loop(phase, (lo, hi), None, &mut |t, i| t.vstore_all(i), &mut |t| {
                t.memo.clear();
                t.store_all()
            }),
            None => self.for_loop(lo, hi, &mut |t, i| {
                t.coords[axis] = Some(i);
                t.memo.clear();
                let r = t.store_all();
                t.coords[axis] = None;
                r
            }),
        };
        self.fixed.remove(&test);
        r
    }

    /// The innermost loop of the updates over the spans of the current row only.
    pub(super) fn span_row(
        &mut self,
        plan: &ReducePlan,
        ranges: &[(Value, Value)],
        s: &Scratch,
        (mask, table, row, col): &(ExprId, usize, Affine, Affine),
    ) -> Result<(), JitError> {
        let axis = self.kernel.domain.len() - 1;
        let (lo, hi) = ranges[axis];
        let rows = self.kernel.spans[*table].rows.len() as i64;
        let flat = self.span_addrs.flat[*table];
        self.coords[axis] = None;
        // The row, and the column at point 0 of the axis (the column is `c0 + i`).
        let r = self.affine(row);
        let c0 = self.affine(col);
        let inside = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, r, rows);
        let body = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(inside, body, &[], done, &[]);
        self.b.switch_to_block(body);
        // Only the row test jumps here.
        self.b.seal_block(body);
        let f = MemFlagsData::trusted();
        let base = self.b.ins().iconst(self.ptr, flat);
        let at = self.b.ins().imul_imm_s(r, 4);
        let at = self.b.ins().iadd(base, at);
        let first = self.b.ins().uload32(f, at, 0);
        let last = self.b.ins().uload32(f, at, 4);
        let pairs = self.b.ins().iadd_imm_s(base, 4 * (rows + 1));
        self.for_loop(first, last, &mut |t, k| {
            let at = t.b.ins().imul_imm_s(k, 8);
            let at = t.b.ins().iadd(pairs, at);
            let j0 = t.b.ins().uload32(f, at, 0);
            let j1 = t.b.ins().uload32(f, at, 4);
            let from = t.b.ins().isub(j0, c0);
            let from = t.b.ins().smax(from, lo);
            let to = t.b.ins().isub(j1, c0);
            let to = t.b.ins().smin(to, hi);
            if let Some(phase) = &plan.horizontal {
                return t.horizontal_range(plan, ranges, (from, to), s, phase, Some(*mask));
            }
            t.for_loop(from, to, &mut |t, i| {
                t.coords[axis] = Some(i);
                t.memo.clear();
                // Inside a span the mask holds.
                let yes = t.b.ins().iconst(types::I8, 1);
                t.memo.insert(*mask, yes);
                let q = t.lane(plan, ranges)?;
                for red in 0..t.kernel.reductions.len() {
                    t.update(plan, red, q, s)?;
                }
                t.coords[axis] = None;
                Ok(())
            })
        })?;
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        // The row test and the end of the span loop are its predecessors.
        self.b.seal_block(done);
        Ok(())
    }
}
