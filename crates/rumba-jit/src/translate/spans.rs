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

impl Translator<'_, '_> {
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
