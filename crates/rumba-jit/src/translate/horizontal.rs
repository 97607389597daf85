//! Horizontal reductions: the innermost axis is reduced (a lane's points are consecutive in
//! memory), so a group of points goes into vector accumulators that live in registers for the
//! whole row, merged into the lane's accumulator at the end of the row.
//!
//! Inside the spans of a polygon mask (`spans.rs`) the same loop runs over each span, the
//! mask known to hold, and the counts grow by the points taken.
//!
//! A run too short for a group (a band of 2 to 15 columns) is one *padded* group per row:
//! the group starts at a coordinate `start ≤ 0` chosen at compile time so that every lane
//! reads an element of its buffer ([`short_start`]), its lanes accumulate apart exactly as
//! above, and the lanes outside the run are replaced by the identity before the merge. When
//! the next axis out is reduced too (an envelope per frame: rows × band), the vector
//! accumulators stay in registers across it, so a row costs one load and one operation per
//! reduction instead of a scalar chain per point; otherwise (an envelope over the dataset,
//! whose rows are lanes) each row is merged into its lane's accumulator.
//!
//! Only accumulators that are exact in any order take this path — integer min/max (u8, u16 at
//! their native width, i32), integer sums (i32 or i64 lanes), and f32 min/max without NaN
//! skipping — so the result is the evaluator's sequential one bit for bit in DESIGN §5's sense:
//! a lane-parallel f32 min/max cannot tell which of +0.0 and −0.0 came first, nor which NaN,
//! and "bit for bit" ignores the sign of a zero result and NaN payloads.

use super::Translator;
use super::layout::{Field, ReducePlan};
use super::reduce::Scratch;
use super::vector::Phase;
use crate::JitError;
use cranelift_codegen::ir::{InstBuilder, Type, Value, types};
use cranelift_frontend::Variable;
use rumba_ir::op::ReduceKind;
use rumba_plan::{Accumulate, ExprId, Kernel, Plan};

/// How one reduction accumulates a group: the vector type and count, and the operation.
#[derive(Clone, Copy)]
struct Shape {
    ty: Type,
    count: usize,
    op: Op,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    UMin,
    UMax,
    SMin,
    SMax,
    FMin,
    FMax,
    Add,
}

impl Translator<'_, '_> {
    /// The innermost (reduced) loop of the updates with vector accumulators.
    pub(super) fn horizontal_row(
        &mut self,
        plan: &ReducePlan,
        ranges: &[(Value, Value)],
        s: &Scratch,
        phase: &Phase,
    ) -> Result<(), JitError> {
        self.horizontal_range(plan, ranges, ranges[phase.axis], s, phase, None)
    }

    /// The points `lo..hi` of the innermost (reduced) axis with vector accumulators. With
    /// `inside`, the points are inside a polygon span: that mask expression holds, and the
    /// counts of the (masked) reductions grow by the points the vector loop took.
    pub(super) fn horizontal_range(
        &mut self,
        plan: &ReducePlan,
        ranges: &[(Value, Value)],
        (lo, hi): (Value, Value),
        s: &Scratch,
        phase: &Phase,
        inside: Option<ExprId>,
    ) -> Result<(), JitError> {
        let axis = phase.axis;
        self.coords[axis] = None;
        let q = self.lane(plan, ranges)?;
        let shapes = shapes(plan, phase.unroll)?;
        let vars = self.vector_accumulators(&shapes);
        let taken = self.b.declare_var(types::I64);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.def_var(taken, zero);
        self.inner_loop(
            phase,
            (lo, hi),
            None,
            &mut |t, i| {
                t.accumulate_group(&shapes, &vars, i)?;
                let n = t.b.use_var(taken);
                let n = t.b.ins().iadd_imm_s(n, phase.group());
                t.b.def_var(taken, n);
                Ok(())
            },
            &mut |t| {
                t.memo.clear();
                if let Some(mask) = inside {
                    // Inside a span the mask holds.
                    let yes = t.b.ins().iconst(types::I8, 1);
                    t.memo.insert(mask, yes);
                }
                for r in 0..t.kernel.reductions.len() {
                    t.update(plan, r, q, s)?;
                }
                Ok(())
            },
        )?;
        for (r, sh) in shapes.iter().enumerate() {
            let vs: Vec<Value> = vars[r].iter().map(|&v| self.b.use_var(v)).collect();
            self.merge_lanes(plan, (r, *sh), &vs, q, s);
            let acc = &plan.layout.accs[r];
            if acc.counted {
                let count = acc.fields.len();
                let n = self.field_load(plan, r, count, q, s);
                let taken = self.b.use_var(taken);
                let n = self.b.ins().iadd(n, taken);
                self.field_store(plan, r, count, q, s, n);
            }
        }
        Ok(())
    }

    /// The updates of a nest whose innermost (reduced) run is short, with one padded group per
    /// row starting at coordinate `start` (see the module docs); `rest` are the inner axes
    /// around the run, outermost first.
    pub(super) fn short_nest(
        &mut self,
        plan: &ReducePlan,
        ranges: &[(Value, Value)],
        s: &Scratch,
        (phase, start): (&Phase, i64),
        rest: &[usize],
    ) -> Result<(), JitError> {
        let carry = match rest.split_last() {
            Some((&a, _)) if self.kernel.domain[a].reduced => Some(a),
            _ => None,
        };
        let around = &rest[..rest.len() - usize::from(carry.is_some())];
        let shapes = shapes(plan, phase.unroll)?;
        self.nest(around, ranges, &mut |t| {
            let vars = t.vector_accumulators(&shapes);
            match carry {
                Some(a) => {
                    let (lo, hi) = ranges[a];
                    t.for_loop(lo, hi, &mut |t, i| {
                        t.coords[a] = Some(i);
                        let r = t.short_row(plan, ranges, s, (phase, start), (&shapes, &vars));
                        t.coords[a] = None;
                        r
                    })?;
                }
                None => t.short_row(plan, ranges, s, (phase, start), (&shapes, &vars))?,
            }
            let q = t.lane(plan, ranges)?;
            for (r, sh) in shapes.iter().enumerate() {
                let identity = t.identity(*sh);
                let lanes = sh.ty.lane_count() as i64;
                let bytes = 16 / lanes as u8;
                let run = t.kernel.domain[phase.axis].extent as i64;
                let vs: Vec<Value> = vars[r]
                    .iter()
                    .enumerate()
                    .map(|(k, &var)| {
                        let v = t.b.use_var(var);
                        // Lanes outside the run take the identity's bytes (indices 16..32).
                        let mask: [u8; 16] = std::array::from_fn(|byte| {
                            let point = start + k as i64 * lanes + (byte as u8 / bytes) as i64;
                            byte as u8 + if (0..run).contains(&point) { 0 } else { 16 }
                        });
                        let v = t.shuffle_bytes(v, identity, mask);
                        t.vcast_bits(sh.ty, v)
                    })
                    .collect();
                t.merge_lanes(plan, (r, *sh), &vs, q, s);
            }
            Ok(())
        })
    }

    /// One row of a short run: the padded group into the vector accumulators `vars` when the
    /// run-time stride condition holds, else the run's points one at a time into the lane's
    /// accumulators.
    fn short_row(
        &mut self,
        plan: &ReducePlan,
        ranges: &[(Value, Value)],
        s: &Scratch,
        (phase, start): (&Phase, i64),
        (shapes, vars): (&[Shape], &[Vec<Variable>]),
    ) -> Result<(), JitError> {
        let axis = phase.axis;
        let run = self.kernel.domain[axis].extent as i64;
        let ok = self.phase_rows(phase, None)?;
        let first = self.b.ins().iconst(types::I64, start);
        let past = self.b.ins().iconst(types::I64, start + phase.group());
        let end = self.b.ins().select(ok, past, first);
        self.for_loop_step(first, end, phase.group(), &mut |t, i| {
            t.coords[axis] = Some(i);
            t.substep(0);
            let r = t.accumulate_group(shapes, vars, i);
            t.coords[axis] = None;
            r
        })?;
        let zero = self.b.ins().iconst(types::I64, 0);
        let all = self.b.ins().iconst(types::I64, run);
        let from = self.b.ins().select(ok, all, zero);
        self.for_loop(from, all, &mut |t, i| {
            t.coords[axis] = Some(i);
            t.memo.clear();
            let q = t.lane(plan, ranges)?;
            for r in 0..t.kernel.reductions.len() {
                t.update(plan, r, q, s)?;
            }
            t.coords[axis] = None;
            Ok(())
        })
    }

    /// Vector accumulators (variables) for `shapes`, each vector at its operation's identity.
    fn vector_accumulators(&mut self, shapes: &[Shape]) -> Vec<Vec<Variable>> {
        shapes
            .iter()
            .map(|sh| {
                let identity = self.identity(*sh);
                (0..sh.count)
                    .map(|_| {
                        let var = self.b.declare_var(sh.ty);
                        self.b.def_var(var, identity);
                        var
                    })
                    .collect()
            })
            .collect()
    }

    /// Every reduction's value for the group at `i` into its vector accumulators.
    fn accumulate_group(&mut self, shapes: &[Shape], vars: &[Vec<Variable>], i: Value) -> Result<(), JitError> {
        for (r, sh) in shapes.iter().enumerate() {
            let x = self.group_value(r, *sh, i)?;
            for (&var, x) in vars[r].iter().zip(x) {
                let acc = self.b.use_var(var);
                let acc = self.apply(sh.op, acc, x);
                self.b.def_var(var, acc);
            }
        }
        Ok(())
    }

    /// The lanes of reduction `r`'s vectors `vs` folded and merged into lane `q`'s best value.
    fn merge_lanes(&mut self, plan: &ReducePlan, (r, sh): (usize, Shape), vs: &[Value], q: Value, s: &Scratch) {
        let v = self.fold_lanes(sh, vs);
        let best = self.field_load(plan, r, 0, q, s);
        let best = self.apply(sh.op, best, v);
        self.field_store(plan, r, 0, q, s, best);
    }

    /// The identity of `sh.op` in every lane.
    fn identity(&mut self, sh: Shape) -> Value {
        let lane = sh.ty.lane_type();
        let bits = lane.bits();
        if matches!(sh.op, Op::FMin | Op::FMax) {
            let inf = if sh.op == Op::FMin {
                f32::INFINITY
            } else {
                f32::NEG_INFINITY
            };
            let v = self.b.ins().f32const(inf);
            return self.b.ins().splat(sh.ty, v);
        }
        let v = match sh.op {
            Op::UMin => -1,
            Op::SMin => (1i64 << (bits - 1)) - 1,
            Op::SMax => -(1i64 << (bits - 1)),
            Op::UMax | Op::Add | Op::FMin | Op::FMax => 0,
        };
        let v = self.b.ins().iconst(lane, v & ((1i128 << bits) - 1) as i64);
        self.b.ins().splat(sh.ty, v)
    }

    /// `a` combined with `b` (`a` the earlier value).
    fn apply(&mut self, op: Op, a: Value, b: Value) -> Value {
        if matches!(op, Op::FMin | Op::FMax) {
            return self.fextreme(op == Op::FMax, a, b);
        }
        let ins = self.b.ins();
        match op {
            Op::UMin => ins.umin(a, b),
            Op::UMax => ins.umax(a, b),
            Op::SMin => ins.smin(a, b),
            Op::SMax => ins.smax(a, b),
            Op::Add => ins.iadd(a, b),
            Op::FMin | Op::FMax => unreachable!("handled above"),
        }
    }

    /// Reduction `r`'s value for the group at `i`, in its accumulator's vectors.
    fn group_value(&mut self, r: usize, sh: Shape, i: Value) -> Result<Vec<Value>, JitError> {
        let value = self.kernel.reductions[r].value;
        match sh.ty {
            types::I8X16 => self.native_value(value, i, Field::U8),
            types::I16X8 => self.native_value(value, i, Field::U16),
            types::I64X2 => {
                let lanes = self.vvalue(value, i)?;
                let vd = self.kernel.exprs[value.0 as usize].dtype;
                Ok(self.i64_pairs(&lanes, vd))
            }
            _ => self.vvalue(value, i),
        }
    }

    /// All lanes of `vs` combined by `sh.op` into one scalar of the lane type.
    fn fold_lanes(&mut self, sh: Shape, vs: &[Value]) -> Value {
        let mut v = vs[0];
        for &w in &vs[1..] {
            v = self.apply(sh.op, v, w);
        }
        // Halve the live bytes until one lane is left: bring the upper half down and combine.
        let lane_bytes = (sh.ty.lane_bits() / 8) as u8;
        let mut width = 16u8;
        while width > lane_bytes {
            width /= 2;
            let mask: [u8; 16] = std::array::from_fn(|k| (k as u8 % width) + width);
            let down = self.shuffle_bytes(v, v, mask);
            let down = self.vcast_bits(sh.ty, down);
            v = self.apply(sh.op, v, down);
        }
        self.b.ins().extractlane(v, 0)
    }
}

/// The vector accumulators of every reduction for a group of `4·unroll` points.
fn shapes(plan: &ReducePlan, unroll: usize) -> Result<Vec<Shape>, JitError> {
    (0..plan.layout.accs.len()).map(|r| shape(plan, r, unroll)).collect()
}

/// The vector accumulators of reduction `r` for a group of `4·unroll` points.
fn shape(plan: &ReducePlan, r: usize, unroll: usize) -> Result<Shape, JitError> {
    let acc = &plan.layout.accs[r];
    let max = acc.is_max();
    let (ty, count, op) = match (&acc.kind, acc.fields.first()) {
        (Accumulate::Stat(ReduceKind::Min | ReduceKind::Max), Some(Field::U8)) => {
            (types::I8X16, unroll.div_ceil(4), if max { Op::UMax } else { Op::UMin })
        }
        (Accumulate::Stat(ReduceKind::Min | ReduceKind::Max), Some(Field::U16)) => {
            (types::I16X8, unroll.div_ceil(2), if max { Op::UMax } else { Op::UMin })
        }
        (Accumulate::Stat(ReduceKind::Min | ReduceKind::Max), Some(Field::I32)) => {
            (types::I32X4, unroll, if max { Op::SMax } else { Op::SMin })
        }
        (Accumulate::Stat(ReduceKind::Min | ReduceKind::Max), Some(Field::F32)) => {
            (types::F32X4, unroll, if max { Op::FMax } else { Op::FMin })
        }
        (Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean), Some(Field::I32)) => (types::I32X4, unroll, Op::Add),
        (Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean), Some(Field::I64)) => (types::I64X2, 2 * unroll, Op::Add),
        (kind, _) => return Err(JitError::codegen(format!("no horizontal accumulator for {kind:?}"))),
    };
    // Every lane of every vector must hold a point of the group (no padding lanes).
    if !((4 * unroll) as u32).is_multiple_of(ty.lane_count()) {
        return Err(JitError::codegen("a horizontal group that does not fill its vectors"));
    }
    Ok(Shape { ty, count, op })
}

/// Where the padded group of a short run of `kernel`'s innermost axis starts: the largest
/// coordinate `start ≤ 0` such that the group's `group` lanes cover the run and every load
/// that varies along the axis reads, at every point of the domain, an element of its buffer
/// (its index along the varying dimension stays within the extent), or `None` when no start
/// does (a run at the edge of a row narrower than the group, a run-time offset, a step other
/// than one element).
pub(super) fn short_start(plan: &Plan, kernel: &Kernel, group: i64) -> Option<i64> {
    let axis = kernel.domain.len().checked_sub(1)?;
    let run = kernel.domain[axis].extent as i64;
    let (mut lo, mut hi) = (run - group, 0i64);
    for load in &kernel.loads {
        let varying: Vec<(usize, &rumba_plan::Affine)> =
            load.map.dims.iter().enumerate().filter(|(_, d)| d.uses(axis)).collect();
        let [(dim, affine)] = varying[..] else {
            if varying.is_empty() {
                continue;
            }
            return None;
        };
        if affine.coefs[axis] != 1 || !affine.params.is_empty() {
            return None;
        }
        let (mut least, mut most) = (affine.offset, affine.offset);
        for (a, &c) in affine.coefs.iter().enumerate().filter(|&(a, _)| a != axis) {
            let last = (kernel.domain[a].extent as i64 - 1).max(0).saturating_mul(c);
            least = least.saturating_add(last.min(0));
            most = most.saturating_add(last.max(0));
        }
        let extent = *plan.buffers[load.buffer.0 as usize].shape.get(dim)? as i64;
        lo = lo.max(least.saturating_neg());
        hi = hi.min(extent.saturating_sub(group).saturating_sub(most));
    }
    (lo <= hi).then_some(hi)
}
