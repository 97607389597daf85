//! Kernels with reductions: per outer point and per block of lanes, fresh accumulators for the
//! block's lanes, the inner nest feeding them in domain order (so each lane sees its values in
//! increasing index order of the reduced axes), then the epilogue per lane.
//!
//! The layout (fields, blocks, vector phases) is decided in `layout.rs`; the scalar update
//! and finish are in `accumulate.rs`, their vector forms in `vector_reduce.rs`. Scratch memory
//! is allocated once per call.
//!
//! When the updates have a vector form, the last reduced axis is unrolled and jammed into the
//! vector loop: a group of lanes loads its accumulators once, applies `jam` consecutive
//! reduced points in order, and stores them once (the order each lane sees is unchanged).

use super::Translator;
use super::layout::{Field, ReducePlan};
use crate::JitError;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value, types};
use rumba_plan::{Expr, ExprId};

/// Where the accumulators of the current call live.
pub(super) struct Scratch {
    pub base: Value,
}

/// What runs per block of lanes, given the block's ranges.
pub(super) type BlockBody<'b, 'a, 'f> =
    dyn FnMut(&mut Translator<'a, 'f>, &[(Value, Value)]) -> Result<(), JitError> + 'b;

impl<'a, 'f> Translator<'a, 'f> {
    pub(super) fn reduction_kernel(&mut self, ranges: &[(Value, Value)]) -> Result<(), JitError> {
        let plan = ReducePlan::new(self.kernel)
            .ok_or_else(|| JitError::codegen("a reduction kernel without a reduced axis"))?;
        let bytes = plan.layout.bytes;
        let size = self.b.ins().iconst(types::I64, bytes);
        let alloc = self.hosts.alloc;
        let base = self
            .call(alloc, &[size])
            .ok_or_else(|| JitError::codegen("scratch_alloc returns a pointer"))?;
        let scratch = Scratch { base };
        self.reduce_plan = Some(std::rc::Rc::new(plan.clone()));
        self.scratch_base = Some(base);
        let outer = plan.outer.clone();
        self.nest(&outer, ranges, &mut |t| t.blocks(&plan, ranges, &scratch))?;
        let free = self.hosts.free;
        let size = self.b.ins().iconst(types::I64, bytes);
        self.call(free, &[base, size]);
        Ok(())
    }

    /// The blocks of lanes of one outer point: accumulators, updates, epilogue for each.
    fn blocks(&mut self, plan: &ReducePlan, ranges: &[(Value, Value)], s: &Scratch) -> Result<(), JitError> {
        let pinned = plan.pinned.clone();
        self.pinned(plan, &pinned, ranges, &mut |t, r| t.block(plan, r, s))
    }

    /// One point at a time of each pinned lane axis around the block loop, `body` per block
    /// (with the block's ranges).
    pub(super) fn pinned(
        &mut self,
        plan: &ReducePlan,
        axes: &[usize],
        ranges: &[(Value, Value)],
        body: &mut BlockBody<'_, 'a, 'f>,
    ) -> Result<(), JitError> {
        let Some((&axis, rest)) = axes.split_first() else {
            return self.block_loop(plan, ranges, body);
        };
        let (lo, hi) = ranges[axis];
        self.for_loop(lo, hi, &mut |t, i| {
            let mut r = ranges.to_vec();
            r[axis] = (i, t.b.ins().iadd_imm_s(i, 1));
            t.pinned(plan, rest, &r, body)
        })
    }

    /// The blocks along the block axis, within the pinned point.
    fn block_loop(
        &mut self,
        plan: &ReducePlan,
        ranges: &[(Value, Value)],
        body: &mut BlockBody<'_, 'a, 'f>,
    ) -> Result<(), JitError> {
        let Some((axis, len)) = plan.block else {
            return body(self, ranges);
        };
        let (lo, hi) = ranges[axis];
        self.for_loop_step(lo, hi, len, &mut |t, b0| {
            let end = t.b.ins().iadd_imm_s(b0, len);
            let end = t.b.ins().smin(end, hi);
            let mut r = ranges.to_vec();
            r[axis] = (b0, end);
            body(t, &r)
        })
    }

    fn block(&mut self, plan: &ReducePlan, ranges: &[(Value, Value)], s: &Scratch) -> Result<(), JitError> {
        self.init_accumulators(plan, s)?;
        // A single lane's accumulators live in registers while the reduced axes sweep.
        let promote = plan.layout.lanes == 1;
        if promote {
            self.promote(plan, s);
        }
        self.update_nest(plan, ranges, s)?;
        if promote {
            self.demote(plan, s);
        }
        self.epilogue_nest(plan, ranges, s)
    }

    /// Loads every field of lane 0 into a variable (see [`Translator::field_load`]).
    fn promote(&mut self, plan: &ReducePlan, s: &Scratch) {
        let q = self.b.ins().iconst(types::I64, 0);
        for (r, acc) in plan.layout.accs.iter().enumerate() {
            for (f, field) in acc.all_fields().iter().enumerate() {
                let v = self.field_load(plan, r, f, q, s);
                let var = self.b.declare_var(field.ty());
                self.b.def_var(var, v);
                self.promoted.insert((r, f), var);
            }
        }
    }

    /// Stores the promoted fields back to memory for the epilogue.
    fn demote(&mut self, plan: &ReducePlan, s: &Scratch) {
        let q = self.b.ins().iconst(types::I64, 0);
        let promoted: Vec<((usize, usize), cranelift_frontend::Variable)> = self.promoted.drain().collect();
        for ((r, f), var) in promoted {
            let v = self.b.use_var(var);
            self.field_store(plan, r, f, q, s, v);
        }
    }

    /// Every field of every lane of the block to its initial value, 16 bytes at a time.
    pub(super) fn init_accumulators(&mut self, plan: &ReducePlan, s: &Scratch) -> Result<(), JitError> {
        let layout = &plan.layout;
        for (r, acc) in layout.accs.iter().enumerate() {
            for (f, field) in acc.all_fields().iter().enumerate() {
                // The bytes the block's lanes use, rounded up to whole vectors (within the
                // region).
                let used = (layout.lanes * field.size() + 15) / 16 * 16;
                let bits = acc.init(f);
                let pattern = match field {
                    Field::F64 | Field::I64 => {
                        let v = self.b.ins().iconst(types::I64, bits);
                        self.b.ins().splat(types::I64X2, v)
                    }
                    Field::F32 | Field::I32 => {
                        let v = self.b.ins().iconst(types::I32, bits as u32 as i64);
                        self.b.ins().splat(types::I32X4, v)
                    }
                    Field::U16 => {
                        let v = self.b.ins().iconst(types::I16, bits as u16 as i64);
                        self.b.ins().splat(types::I16X8, v)
                    }
                    Field::U8 => {
                        let v = self.b.ins().iconst(types::I8, bits as u8 as i64);
                        self.b.ins().splat(types::I8X16, v)
                    }
                };
                let start = self.b.ins().iadd_imm_s(s.base, layout.offsets[r][f]);
                let zero = self.b.ins().iconst(types::I64, 0);
                let end = self.b.ins().iconst(types::I64, used);
                self.for_loop_step(zero, end, 16, &mut |t, off| {
                    let at = t.b.ins().iadd(start, off);
                    t.b.ins().store(super::vexpr::vflags(), pattern, at, 0);
                    Ok(())
                })?;
            }
        }
        if let Some(offset) = layout.specials {
            let zero = self.b.ins().iconst(types::I64, 0);
            self.b.ins().store(super::vexpr::vflags(), zero, s.base, offset as i32);
        }
        Ok(())
    }

    /// Marks the block's window as holding (or having held) a NaN or ±Inf since the rebuild:
    /// where the i8 `special` is 1, or unconditionally without one (the vector update's
    /// branch for groups with a special value).
    pub(super) fn mark_specials(&mut self, plan: &ReducePlan, s: &Scratch, special: Option<Value>) {
        let Some(offset) = plan.layout.specials else { return };
        let flags = super::vexpr::vflags();
        let flag = match special {
            Some(special) => {
                let one = self.b.ins().uextend(types::I64, special);
                let flag = self.b.ins().load(types::I64, flags, s.base, offset as i32);
                self.b.ins().bor(flag, one)
            }
            None => self.b.ins().iconst(types::I64, 1),
        };
        self.b.ins().store(flags, flag, s.base, offset as i32);
    }

    /// The lane index of the current coordinates within the block (`ranges` give each lane
    /// axis's first iteration).
    pub(super) fn lane(&mut self, plan: &ReducePlan, ranges: &[(Value, Value)]) -> Result<Value, JitError> {
        let mut q = self.b.ins().iconst(types::I64, 0);
        for &a in &plan.lane_axes {
            let i = self.coords[a].ok_or_else(|| JitError::codegen("a lane axis without a coordinate"))?;
            let d = self.b.ins().isub(i, ranges[a].0);
            let term = self.b.ins().imul_imm_s(d, plan.lane_stride[a]);
            q = self.b.ins().iadd(q, term);
        }
        Ok(q)
    }

    /// Welford's `k` when every lane sees every point: the reduced linear index + 1.
    pub(super) fn uniform_count(&mut self, plan: &ReducePlan) -> Value {
        let mut k = self.b.ins().iconst(types::I64, 1);
        for (a, &stride) in plan.reduced_stride.iter().enumerate() {
            if let (true, Some(i)) = (stride != 0, self.coords[a]) {
                let term = self.b.ins().imul_imm_s(i, stride);
                k = self.b.ins().iadd(k, term);
            }
        }
        k
    }

    /// The inner nest feeding the accumulators, with the vector loop (and the jammed reduced
    /// axis) where the updates have a vector form.
    pub(super) fn update_nest(
        &mut self,
        plan: &ReducePlan,
        ranges: &[(Value, Value)],
        s: &Scratch,
    ) -> Result<(), JitError> {
        let inner = plan.inner.clone();
        let Some((jam_axis, factor)) = plan.jam else {
            let (rest, _) = inner.split_at(inner.len() - 1);
            if let Some(phase) = &plan.short
                && let Some(start) = super::horizontal::short_start(self.plan, self.kernel, phase.group())
            {
                return self.short_nest(plan, ranges, s, (phase, start), rest);
            }
            return self.nest(rest, ranges, &mut |t| t.update_row(plan, ranges, s, 1));
        };
        let pos = inner
            .iter()
            .position(|&a| a == jam_axis)
            .ok_or_else(|| JitError::codegen("the jammed axis is not an inner axis"))?;
        let before = inner[..pos].to_vec();
        let after = inner[pos + 1..inner.len() - 1].to_vec();
        self.nest(&before, ranges, &mut |t| {
            // A reduced axis is never tiled: it runs over its whole extent.
            let (lo, hi) = ranges[jam_axis];
            let extent = t.kernel.domain[jam_axis].extent as i64;
            let end = t.b.ins().iadd_imm_s(lo, extent - extent % factor as i64);
            let shifted = plan.layout.accs.iter().any(|a| a.shifted());
            t.for_loop_step(lo, end, factor as i64, &mut |t, i| {
                t.coords[jam_axis] = Some(i);
                let group = |t: &mut Self| t.nest(&after, ranges, &mut |t| t.update_row(plan, ranges, s, factor));
                let r = if shifted {
                    // Two versions: the group holding the reduction's first point takes the
                    // shift of the var/std sums; every later group keeps it without a select.
                    let k = t.uniform_count(plan);
                    let first = t.b.ins().icmp_imm_s(IntCC::Equal, k, 1);
                    t.two_versions(first, &mut |t, first| {
                        t.shift_taken = !first;
                        let r = group(t);
                        t.shift_taken = false;
                        r
                    })
                } else {
                    group(t)
                };
                t.coords[jam_axis] = None;
                r
            })?;
            if extent % factor as i64 == 0 {
                return Ok(());
            }
            t.for_loop(end, hi, &mut |t, i| {
                t.coords[jam_axis] = Some(i);
                let r = t.nest(&after, ranges, &mut |t| t.update_row(plan, ranges, s, 1));
                t.coords[jam_axis] = None;
                r
            })
        })
    }

    /// The innermost loop of the updates: `steps` consecutive points of the jammed axis per
    /// point of the innermost one.
    pub(super) fn update_row(
        &mut self,
        plan: &ReducePlan,
        ranges: &[(Value, Value)],
        s: &Scratch,
        steps: usize,
    ) -> Result<(), JitError> {
        let axis = self.kernel.domain.len() - 1;
        let jam = plan.jam.map(|(a, _)| (a, steps));
        let mut scalar = |t: &mut Self| {
            let base = jam.and_then(|(a, _)| t.coords[a]);
            for j in 0..steps {
                if let Some((a, _)) = jam {
                    t.jam_point(a, base, j);
                }
                t.memo.clear();
                let q = t.lane(plan, ranges)?;
                for r in 0..t.kernel.reductions.len() {
                    t.update(plan, r, q, s)?;
                }
            }
            if let Some((a, _)) = jam {
                t.coords[a] = base;
            }
            Ok(())
        };
        match &plan.update {
            Some(phase) => self.inner_loop(
                phase,
                ranges[axis],
                jam,
                &mut |t, i| t.vupdate_group(plan, ranges, s, i, jam),
                &mut scalar,
            ),
            None => match (&plan.span_mask, &plan.horizontal) {
                (Some(mask), _) => self.span_row(plan, ranges, s, mask),
                (None, Some(phase)) => self.horizontal_row(plan, ranges, s, phase),
                (None, None) => self.nest(&[axis], ranges, &mut scalar),
            },
        }
    }

    /// The epilogue: per lane, the finished accumulators and the stores.
    pub(super) fn epilogue_nest(
        &mut self,
        plan: &ReducePlan,
        ranges: &[(Value, Value)],
        s: &Scratch,
    ) -> Result<(), JitError> {
        let rest = match plan.lane_axes.split_last() {
            Some((_, rest)) => rest.to_vec(),
            None => Vec::new(),
        };
        self.nest(&rest, ranges, &mut |t| t.epilogue_row(plan, ranges, s))
    }

    /// The epilogue of the lanes of the innermost lane axis at the current coordinates of the
    /// others (its vector loop where it has one).
    pub(super) fn epilogue_row(
        &mut self,
        plan: &ReducePlan,
        ranges: &[(Value, Value)],
        s: &Scratch,
    ) -> Result<(), JitError> {
        let Some(offset) = plan.layout.specials else {
            return self.epilogue_loops(plan, ranges, s);
        };
        // Two versions: without NaN/±Inf counts while no window of the block holds one.
        let flag = self
            .b
            .ins()
            .load(types::I64, super::vexpr::vflags(), s.base, offset as i32);
        self.two_versions(flag, &mut |t, counted| {
            t.no_specials = !counted;
            let r = t.epilogue_loops(plan, ranges, s);
            t.no_specials = false;
            r
        })
    }

    /// Two versions of the code `body` emits: `body(true)` where `cond` is non-zero, else
    /// `body(false)`; both then continue at one block.
    pub(super) fn two_versions(
        &mut self,
        cond: Value,
        body: &mut dyn FnMut(&mut Self, bool) -> Result<(), JitError>,
    ) -> Result<(), JitError> {
        let (yes, no, done) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        self.b.ins().brif(cond, yes, &[], no, &[]);
        for (block, version) in [(no, false), (yes, true)] {
            self.b.switch_to_block(block);
            // Only the test above jumps here.
            self.b.seal_block(block);
            body(self, version)?;
            self.b.ins().jump(done, &[]);
        }
        self.b.switch_to_block(done);
        // Both versions are emitted.
        self.b.seal_block(done);
        Ok(())
    }

    /// [`Translator::epilogue_row`] in one version.
    fn epilogue_loops(&mut self, plan: &ReducePlan, ranges: &[(Value, Value)], s: &Scratch) -> Result<(), JitError> {
        let mut scalar = |t: &mut Self| {
            t.memo.clear();
            let q = t.lane(plan, ranges)?;
            for r in 0..t.kernel.reductions.len() {
                let v = t.finish(plan, r, q, s)?;
                for (e, node) in t.kernel.exprs.iter().enumerate() {
                    if node.expr == (Expr::Acc { reduction: r as u32 }) {
                        t.memo.insert(ExprId(e as u32), v);
                    }
                }
            }
            t.store_all()
        };
        let Some(&last) = plan.lane_axes.last() else {
            return scalar(self);
        };
        match &plan.epilogue {
            Some(phase) if last == phase.axis => self.inner_loop(
                phase,
                ranges[last],
                None,
                &mut |t, i| {
                    t.epilogue_lane = Some(t.lane(plan, ranges)?);
                    let r = t.vstore_all(i);
                    t.epilogue_lane = None;
                    r
                },
                &mut scalar,
            ),
            _ => self.nest(&[last], ranges, &mut scalar),
        }
    }
}
