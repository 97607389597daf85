//! Running windows ([`rumba_plan::Running`], DESIGN §5): a kernel whose window keeps running
//! state from output to output.
//!
//! Sums and moments (exact integer sums and moments, f64 running sums and shifted moments with
//! their NaN/±Inf counts) keep their state in the accumulators of the reduction kernels and
//! update them with the same vector code, adding the entering value and removing the leaving
//! one ([`Translator::running_accumulators`]): the operations of `rumba_plan::running`, lane
//! by lane in the same order, so the evaluator's bits.
//!
//! Other windows (min/max, order statistics) use `rumba_plan::running`'s algorithms, called through host functions
//! (`abi::window_*`) on rows of one f64 per lane, exactly as the plan evaluator calls them:
//! the two backends share the arithmetic, so they agree bit for bit. The compiled code does
//! what is specific to the kernel, with the vector paths of every other kernel form: it
//! evaluates the reductions' values into rows (the window's `size` positions at a rebuild,
//! the entering and the leaving position at a step), and runs the epilogue on the finished
//! rows (`x[t] / S[t]`, stores).
//!
//! A step of a sums-or-moments window runs row by row of the block's lanes: each group of
//! lanes loads its accumulators once, adds the entering value and removes the leaving one
//! (a jam of two sub-steps, `Translator::step_points`), and the row's epilogue follows while
//! its accumulators are in L1. The epilogue has a version without the NaN/±Inf counts,
//! taken while no window of the block has held such a value since its rebuild
//! (`Layout::specials`, set by the updates' non-finite branches).
//!
//! Per point of the axes outside the running axis `k`, a tile sweeps `k` from the restart
//! point at or before its first output (`Running::sweep_start`), rebuilding where
//! `Running::rebuilds` says and storing from its first output on. The lanes are the tile's
//! points of the axes inside the window, numbered row-major with the strides of a whole tile.

use super::layout::{Field, ReducePlan};
use super::reduce::Scratch;
use super::vector::{Phase, UNROLL};
use super::{Sign, Translator};
use crate::JitError;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use rumba_ir::DType;
use rumba_plan::running::Algorithm;
use rumba_plan::{Expr, ExprId, Running};

/// The rows of a running kernel's reductions while its epilogue runs.
#[derive(Clone, Debug)]
pub(super) struct Rows {
    /// Per reduction: the address of its finished row (one f64 per lane).
    pub results: Vec<Value>,
}

/// The compile-time layout of the lanes.
struct Lanes {
    /// The axes inside the window, outermost first.
    axes: Vec<usize>,
    /// Per domain axis: its stride in the lane index (0 outside `axes`).
    stride: Vec<i64>,
    /// Lanes of a whole tile.
    count: i64,
}

/// Per reduction: its rows (entering, leaving, finished) and its state.
struct Window {
    entering: Value,
    leaving: Value,
    finished: Value,
    state: Value,
}

/// Operation codes of `abi::window_op`.
const RESET: i64 = 0;
const PUSH: i64 = 1;
const END_REBUILD: i64 = 2;
const STEP: i64 = 3;
const FINISH: i64 = 4;

impl Translator<'_, '_> {
    pub(super) fn running_kernel(&mut self, ranges: &[(Value, Value)]) -> Result<(), JitError> {
        let running = self
            .kernel
            .running
            .clone()
            .ok_or_else(|| JitError::codegen("a running kernel without its window"))?;
        let kernel = self.kernel;
        let native = (0..kernel.reductions.len()).all(|r| {
            kernel.window_spec(r).is_some_and(|w| {
                matches!(
                    w.algorithm(),
                    Algorithm::IntSum | Algorithm::IntMoments | Algorithm::FloatSum | Algorithm::Shifted
                ) || (w.algorithm() == Algorithm::Extreme && !(w.skip_nan && w.value.is_float()))
            })
        });
        if native {
            return self.running_accumulators(&running, ranges);
        }
        let rank = kernel.domain.len();
        let axes: Vec<usize> = (running.axis + 2..rank).collect();
        let extent = |a: usize| {
            let e = kernel.domain[a].extent as i64;
            match kernel.schedule.tile_axis {
                Some(t) if t == a => e.min(kernel.schedule.tile_len.max(1) as i64),
                _ => e,
            }
            .max(1)
        };
        let mut stride = vec![0i64; rank];
        let mut count = 1i64;
        for &a in axes.iter().rev() {
            stride[a] = count;
            count *= extent(a);
        }
        let lanes = Lanes { axes, stride, count };
        let n = kernel.reductions.len();
        if self.span_addrs.windows.len() != n {
            return Err(JitError::codegen(
                "a running kernel without a window spec per reduction",
            ));
        }
        // Three zeroed rows per reduction (unused lanes of a short tile stay 0, a valid value
        // for every algorithm).
        let row_bytes = (lanes.count * 8 + 15) / 16 * 16;
        let bytes = self.b.ins().iconst(types::I64, 3 * n as i64 * row_bytes);
        let alloc = self.hosts.alloc;
        let base = self
            .call(alloc, &[bytes])
            .ok_or_else(|| JitError::codegen("scratch_alloc returns a pointer"))?;
        let count = self.b.ins().iconst(types::I64, lanes.count);
        let mut windows = Vec::with_capacity(n);
        for r in 0..n {
            let row = |t: &mut Self, k: i64| t.b.ins().iadd_imm_s(base, (3 * r as i64 + k) * row_bytes);
            let (entering, leaving, finished) = (row(self, 0), row(self, 1), row(self, 2));
            let spec = self.b.ins().iconst(self.ptr, self.span_addrs.windows[r]);
            let new = self.hosts.window_new;
            let state = self
                .call(new, &[spec, count])
                .ok_or_else(|| JitError::codegen("window_new returns a state"))?;
            windows.push(Window {
                entering,
                leaving,
                finished,
                state,
            });
        }
        let outer: Vec<usize> = (0..running.axis).collect();
        self.nest(&outer, ranges, &mut |t| t.sweep(&running, ranges, &lanes, &windows))?;
        for w in &windows {
            let free = self.hosts.window_free;
            self.call(free, &[w.state]);
        }
        let free = self.hosts.free;
        let bytes = self.b.ins().iconst(types::I64, 3 * n as i64 * row_bytes);
        self.call(free, &[base, bytes]);
        Ok(())
    }

    /// One sweep of the running axis at the current outer point.
    fn sweep(
        &mut self,
        running: &Running,
        ranges: &[(Value, Value)],
        lanes: &Lanes,
        windows: &[Window],
    ) -> Result<(), JitError> {
        let (k, j) = (running.axis, running.axis + 1);
        let size = self.kernel.domain[j].extent as i64;
        let (k_lo, k_hi) = ranges[k];
        let start = self.sweep_start(running, k_lo);
        self.for_loop(start, k_hi, &mut |t, kk| {
            t.coords[k] = Some(kk);
            let rebuild = t.rebuilds(running, kk, start);
            let (rebuild_block, step_block, joined) = (t.b.create_block(), t.b.create_block(), t.b.create_block());
            t.b.ins().brif(rebuild, rebuild_block, &[], step_block, &[]);

            t.b.switch_to_block(rebuild_block);
            // Only the test above jumps here.
            t.b.seal_block(rebuild_block);
            t.window_ops(windows, RESET, |_| None)?;
            let (zero, end) = (t.b.ins().iconst(types::I64, 0), t.b.ins().iconst(types::I64, size));
            t.for_loop(zero, end, &mut |t, jj| {
                t.coords[j] = Some(jj);
                t.fill(ranges, lanes, windows, |w| w.entering)?;
                t.window_ops(windows, PUSH, |w| Some((w.entering, None)))
            })?;
            t.window_ops(windows, END_REBUILD, |_| None)?;
            t.b.ins().jump(joined, &[]);

            t.b.switch_to_block(step_block);
            // Only the test above jumps here.
            t.b.seal_block(step_block);
            t.coords[j] = Some(t.b.ins().iconst(types::I64, size - 1));
            t.fill(ranges, lanes, windows, |w| w.entering)?;
            t.coords[k] = Some(t.b.ins().iadd_imm_s(kk, -1));
            t.coords[j] = Some(t.b.ins().iconst(types::I64, 0));
            t.fill(ranges, lanes, windows, |w| w.leaving)?;
            t.coords[k] = Some(kk);
            t.window_ops(windows, STEP, |w| Some((w.entering, Some(w.leaving))))?;
            t.b.ins().jump(joined, &[]);

            t.b.switch_to_block(joined);
            // Both branches are emitted.
            t.b.seal_block(joined);
            t.coords[j] = None;
            let (store_block, done) = (t.b.create_block(), t.b.create_block());
            let stores = t.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, kk, k_lo);
            t.b.ins().brif(stores, store_block, &[], done, &[]);
            t.b.switch_to_block(store_block);
            // Only the test above jumps here.
            t.b.seal_block(store_block);
            t.window_ops(windows, FINISH, |w| Some((w.finished, None)))?;
            t.epilogue(ranges, lanes, windows)?;
            t.b.ins().jump(done, &[]);
            t.b.switch_to_block(done);
            // The test and the epilogue jump here.
            t.b.seal_block(done);
            t.memo.clear();
            Ok(())
        })?;
        self.coords[k] = None;
        Ok(())
    }

    /// A running window of sums or moments only: the accumulators of the reduction kernels
    /// (`reduce.rs`, `layout.rs`) carried from output to output — a rebuild initialises them
    /// and adds the window's positions; a step adds the entering value (position
    /// `size − 1`) to every lane, then removes the leaving one (the loads read `k + j`, so
    /// output `k − 1`'s position 0 is position −1 of output `k`). The same operations in the
    /// same order per lane as `rumba_plan::running`.
    fn running_accumulators(&mut self, running: &Running, ranges: &[(Value, Value)]) -> Result<(), JitError> {
        let plan =
            ReducePlan::new(self.kernel).ok_or_else(|| JitError::codegen("a running window without its axis"))?;
        let bytes = plan.layout.bytes;
        let size = self.b.ins().iconst(types::I64, bytes);
        let alloc = self.hosts.alloc;
        let base = self
            .call(alloc, &[size])
            .ok_or_else(|| JitError::codegen("scratch_alloc returns a pointer"))?;
        let scratch = Scratch { base };
        self.reduce_plan = Some(std::rc::Rc::new(plan.clone()));
        self.scratch_base = Some(base);
        let outer: Vec<usize> = (0..running.axis).collect();
        let pinned = plan.pinned.clone();
        self.nest(&outer, ranges, &mut |t| {
            t.pinned(&plan, &pinned, ranges, &mut |t, block| {
                t.running_block(&plan, running, block, &scratch)
            })
        })?;
        let free = self.hosts.free;
        let size = self.b.ins().iconst(types::I64, bytes);
        self.call(free, &[base, size]);
        Ok(())
    }

    /// One block of lanes through every output of the sweep.
    fn running_block(
        &mut self,
        plan: &ReducePlan,
        running: &Running,
        ranges: &[(Value, Value)],
        s: &Scratch,
    ) -> Result<(), JitError> {
        let (k, j) = (running.axis, running.axis + 1);
        let size = self.kernel.domain[j].extent as i64;
        let (k_lo, k_hi) = ranges[k];
        let start = self.sweep_start(running, k_lo);
        self.for_loop(start, k_hi, &mut |t, kk| {
            t.coords[k] = Some(kk);
            let rebuild = t.rebuilds(running, kk, start);
            let stores = t.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, kk, k_lo);
            let period = t.b.ins().iconst(types::I64, size);
            let output = (stores, t.b.ins().urem(kk, period));
            let (rebuild_block, step_block, done) = (t.b.create_block(), t.b.create_block(), t.b.create_block());
            t.b.ins().brif(rebuild, rebuild_block, &[], step_block, &[]);

            t.b.switch_to_block(rebuild_block);
            // Only the test above jumps here.
            t.b.seal_block(rebuild_block);
            t.init_accumulators(plan, s)?;
            t.rebuilding = true;
            let r = t.update_nest(plan, ranges, s);
            t.rebuilding = false;
            r?;
            t.unset_shifts_to_zero(plan, s)?;
            t.suffix_extremes(plan, s)?;
            t.memo.clear();
            t.finish_outputs(output, &mut |t| t.epilogue_nest(plan, ranges, s))?;
            t.b.ins().jump(done, &[]);

            t.b.switch_to_block(step_block);
            // Only the test above jumps here.
            t.b.seal_block(step_block);
            // Row by row: each row's lanes add, remove and finish while their accumulators
            // are in L1 (the same operations per lane, in the same order).
            let rest = plan
                .lane_axes
                .split_last()
                .map_or(Vec::new(), |(_, rest)| rest.to_vec());
            t.nest(&rest, ranges, &mut |t| {
                t.step_row(plan, ranges, s, size)?;
                t.finish_outputs(output, &mut |t| t.epilogue_row(plan, ranges, s))
            })?;
            t.b.ins().jump(done, &[]);
            t.b.switch_to_block(done);
            // The step and the rebuild are its predecessors, both emitted.
            t.b.seal_block(done);
            t.memo.clear();
            Ok(())
        })?;
        self.coords[k] = None;
        Ok(())
    }

    /// One step of the window for the lanes of the current row (of the innermost lane axis;
    /// the block's single lane when there is none): the entering value (position `size − 1`)
    /// added, then the leaving one (position −1) removed.
    fn step_row(
        &mut self,
        plan: &ReducePlan,
        ranges: &[(Value, Value)],
        s: &Scratch,
        size: i64,
    ) -> Result<(), JitError> {
        let j = self
            .kernel
            .running
            .as_ref()
            .ok_or_else(|| JitError::codegen("a running step without its window"))?
            .axis
            + 1;
        let points = [(size - 1, Sign::Add), (-1, Sign::Remove)];
        if plan.update.is_some() && plan.jam.map(|(a, _)| a) == Some(j) {
            // One pass: each group of lanes loads its accumulators once, adds the entering
            // value, removes the leaving one and stores them (the jam's two sub-steps).
            self.step_points = Some(points);
            let r = self.update_row(plan, ranges, s, 2);
            self.step_points = None;
            self.sign = Sign::Add;
            r?;
        } else {
            for (position, sign) in points {
                self.coords[j] = Some(self.b.ins().iconst(types::I64, position));
                self.sign = sign;
                let r = match plan.lane_axes.is_empty() {
                    // A single lane: its accumulators, once.
                    true => (0..self.kernel.reductions.len()).try_for_each(|r| {
                        self.memo.clear();
                        let q = self.b.ins().iconst(types::I64, 0);
                        self.update(plan, r, q, s)
                    }),
                    false => self.update_row(plan, ranges, s, 1),
                };
                self.sign = Sign::Add;
                r?;
            }
        }
        self.coords[j] = None;
        self.memo.clear();
        Ok(())
    }

    /// Runs `epilogue` where `stores` holds (output `kk` is one of the tile's, `kk ≥ k_lo`: a
    /// sweep starts at the restart point before), with the window position `kk mod size` set.
    fn finish_outputs(
        &mut self,
        (stores, position): (Value, Value),
        epilogue: &mut dyn FnMut(&mut Self) -> Result<(), JitError>,
    ) -> Result<(), JitError> {
        self.when(stores, &mut |t| {
            t.window_position = Some(position);
            let r = epilogue(t);
            t.window_position = None;
            r
        })
    }

    /// Runs `body` where `cond` holds.
    fn when(&mut self, cond: Value, body: &mut dyn FnMut(&mut Self) -> Result<(), JitError>) -> Result<(), JitError> {
        let (then, after) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(cond, then, &[], after, &[]);
        self.b.switch_to_block(then);
        // Only the test above jumps here.
        self.b.seal_block(then);
        body(self)?;
        self.b.ins().jump(after, &[]);
        self.b.switch_to_block(after);
        // The test and the body are its predecessors, both emitted.
        self.b.seal_block(after);
        Ok(())
    }

    /// After a rebuild, the shift of every lane that saw no finite value becomes 0.
    fn unset_shifts_to_zero(&mut self, plan: &ReducePlan, s: &Scratch) -> Result<(), JitError> {
        for (r, acc) in plan.layout.accs.iter().enumerate() {
            if acc.algorithm != Some(Algorithm::Shifted) {
                continue;
            }
            let (zero, end) = (
                self.b.ins().iconst(types::I64, 0),
                self.b.ins().iconst(types::I64, plan.layout.lanes),
            );
            self.for_loop(zero, end, &mut |t, q| {
                let at = t.field_addr(plan, r, 0, q, s);
                let a = t.b.ins().load(types::F64, MemFlagsData::trusted(), at, 0);
                let unset = t.b.ins().fcmp(FloatCC::Unordered, a, a);
                let z = t.b.ins().f64const(0.0);
                let a = t.b.ins().select(unset, z, a);
                t.b.ins().store(MemFlagsData::trusted(), a, at, 0);
                Ok(())
            })?;
        }
        Ok(())
    }

    /// After a rebuild, a running min/max's kept values become suffix extremes: position `p`
    /// holds the extreme of positions `p ..= size − 1`, 16 bytes of lanes at a time.
    fn suffix_extremes(&mut self, plan: &ReducePlan, s: &Scratch) -> Result<(), JitError> {
        let size = plan.layout.capacity;
        for (r, acc) in plan.layout.accs.iter().enumerate() {
            if acc.algorithm != Some(Algorithm::Extreme) || size < 2 {
                continue;
            }
            let (field, max, vd) = (acc.fields[0], acc.is_max(), acc.vd);
            let ty = match field {
                Field::U8 => types::I8X16,
                Field::U16 => types::I16X8,
                Field::I32 => types::I32X4,
                Field::F32 => types::F32X4,
                _ => types::F64X2,
            };
            let row = plan.layout.position_row(r);
            let start = self.b.ins().iadd_imm_s(s.base, plan.layout.positions[r]);
            let (zero, steps) = (
                self.b.ins().iconst(types::I64, 0),
                self.b.ins().iconst(types::I64, size - 1),
            );
            self.for_loop(zero, steps, &mut |t, i| {
                // Position p = size − 2 − i, from the last but one down to 0.
                let last = t.b.ins().iconst(types::I64, size - 2);
                let p = t.b.ins().isub(last, i);
                let at = t.b.ins().imul_imm_s(p, row);
                let at = t.b.ins().iadd(start, at);
                let (zero, end) = (t.b.ins().iconst(types::I64, 0), t.b.ins().iconst(types::I64, row));
                t.for_loop_step(zero, end, 16, &mut |t, off| {
                    let here = t.b.ins().iadd(at, off);
                    let f = super::vexpr::vflags();
                    let a = t.b.ins().load(ty, f, here, 0);
                    let b = t.b.ins().load(ty, f, here, row as i32);
                    let v = match field {
                        Field::U8 | Field::U16 if max => t.b.ins().umax(a, b),
                        Field::U8 | Field::U16 => t.b.ins().umin(a, b),
                        _ if vd.is_float() => t.fextreme(max, a, b),
                        _ if max => t.b.ins().smax(a, b),
                        _ => t.b.ins().smin(a, b),
                    };
                    t.b.ins().store(f, v, here, 0);
                    Ok(())
                })
            })?;
        }
        Ok(())
    }

    /// `Running::sweep_start(k_lo)` at run time.
    fn sweep_start(&mut self, running: &Running, k_lo: Value) -> Value {
        match running.restart {
            Some(period) => {
                let period = self.b.ins().iconst(types::I64, period as i64);
                let blocks = self.b.ins().udiv(k_lo, period);
                self.b.ins().imul(blocks, period)
            }
            None => k_lo,
        }
    }

    /// `Running::rebuilds(kk, start)` at run time.
    fn rebuilds(&mut self, running: &Running, kk: Value, start: Value) -> Value {
        let first = self.b.ins().icmp(IntCC::Equal, kk, start);
        match running.restart {
            Some(period) => {
                let period = self.b.ins().iconst(types::I64, period as i64);
                let rest = self.b.ins().urem(kk, period);
                let at_restart = self.b.ins().icmp_imm_s(IntCC::Equal, rest, 0);
                self.b.ins().bor(first, at_restart)
            }
            None => first,
        }
    }

    /// Calls `abi::window_op(state, op, a, b)` for every reduction, with the rows `rows` picks.
    fn window_ops(
        &mut self,
        windows: &[Window],
        op: i64,
        rows: impl Fn(&Window) -> Option<(Value, Option<Value>)>,
    ) -> Result<(), JitError> {
        let code = self.b.ins().iconst(types::I64, op);
        let null = self.b.ins().iconst(self.ptr, 0);
        for w in windows {
            let (a, b) = rows(w).map_or((null, null), |(a, b)| (a, b.unwrap_or(null)));
            let f = self.hosts.window_op;
            self.call(f, &[w.state, code, a, b]);
        }
        Ok(())
    }

    /// The lane index of the current coordinates.
    fn lane_index(&mut self, ranges: &[(Value, Value)], lanes: &Lanes) -> Result<Value, JitError> {
        let mut q = self.b.ins().iconst(types::I64, 0);
        for &a in &lanes.axes {
            let i = self.coords[a].ok_or_else(|| JitError::codegen("a lane axis without a coordinate"))?;
            let d = self.b.ins().isub(i, ranges[a].0);
            let term = self.b.ins().imul_imm_s(d, lanes.stride[a]);
            q = self.b.ins().iadd(q, term);
        }
        Ok(q)
    }

    /// Every lane's reduction values at the current window position into the rows `row`
    /// picks, with the vector path along the innermost lane axis where the values have one.
    fn fill(
        &mut self,
        ranges: &[(Value, Value)],
        lanes: &Lanes,
        windows: &[Window],
        row: impl Fn(&Window) -> Value,
    ) -> Result<(), JitError> {
        let kernel = self.kernel;
        let targets: Vec<(ExprId, DType, Value)> = kernel
            .reductions
            .iter()
            .zip(windows)
            .map(|(r, w)| (r.value, kernel.exprs[r.value.0 as usize].dtype, row(w)))
            .collect();
        let mut scalar = |t: &mut Self| {
            t.memo.clear();
            let q = t.lane_index(ranges, lanes)?;
            let at = t.b.ins().imul_imm_s(q, 8);
            for &(e, d, row) in &targets {
                let v = t.value(e)?;
                let x = t.exact_f64(v, d);
                let addr = t.b.ins().iadd(row, at);
                t.b.ins().store(MemFlagsData::trusted(), x, addr, 0);
            }
            Ok(())
        };
        let Some((&last, rest)) = lanes.axes.split_last() else {
            return scalar(self);
        };
        let roots: Vec<ExprId> = targets.iter().map(|t| t.0).collect();
        let phase = Phase::plan(kernel, &roots, &[], (last, UNROLL), &|_| false).map(|mut p| {
            p.stores = false;
            p
        });
        let rest = rest.to_vec();
        let Some(phase) = phase else {
            let axes = lanes.axes.clone();
            return self.nest(&axes, ranges, &mut scalar);
        };
        self.nest(&rest, ranges, &mut |t| {
            t.inner_loop(
                &phase,
                ranges[last],
                None,
                &mut |t, i| {
                    let q = t.lane_index(ranges, lanes)?;
                    let at = t.b.ins().imul_imm_s(q, 8);
                    for &(e, d, row) in &targets {
                        let pairs = t.f64_value(e, i, d)?;
                        let addr = t.b.ins().iadd(row, at);
                        for (p, v) in pairs.into_iter().enumerate() {
                            t.b.ins().store(super::vexpr::vflags(), v, addr, (16 * p) as i32);
                        }
                    }
                    Ok(())
                },
                &mut scalar,
            )
        })
    }

    /// The epilogue of the current output for every lane: the finished rows as the
    /// reductions' values, the stores.
    fn epilogue(&mut self, ranges: &[(Value, Value)], lanes: &Lanes, windows: &[Window]) -> Result<(), JitError> {
        let kernel = self.kernel;
        self.running_rows = Some(Rows {
            results: windows.iter().map(|w| w.finished).collect(),
        });
        let mut scalar = |t: &mut Self| {
            t.memo.clear();
            let q = t.lane_index(ranges, lanes)?;
            let at = t.b.ins().imul_imm_s(q, 8);
            for (r, w) in windows.iter().enumerate() {
                let addr = t.b.ins().iadd(w.finished, at);
                let stat = t.b.ins().load(types::F64, MemFlagsData::trusted(), addr, 0);
                let v = t.cast(stat, DType::F64, kernel.reductions[r].dtype);
                for (e, node) in kernel.exprs.iter().enumerate() {
                    if node.expr == (Expr::Acc { reduction: r as u32 }) {
                        t.memo.insert(ExprId(e as u32), v);
                    }
                }
            }
            t.store_all()
        };
        let result = match lanes.axes.split_last() {
            None => scalar(self),
            Some((&last, rest)) => {
                let roots: Vec<ExprId> = kernel.stores.iter().map(|s| s.value).collect();
                let acc_ok = |r: u32| kernel.reductions[r as usize].dtype == DType::F32;
                match Phase::plan(kernel, &roots, &[], (last, UNROLL), &acc_ok) {
                    None => {
                        let axes = lanes.axes.clone();
                        self.nest(&axes, ranges, &mut scalar)
                    }
                    Some(phase) => {
                        let rest = rest.to_vec();
                        self.nest(&rest, ranges, &mut |t| {
                            t.inner_loop(
                                &phase,
                                ranges[last],
                                None,
                                &mut |t, i| {
                                    t.epilogue_lane = Some(t.lane_index(ranges, lanes)?);
                                    let r = t.vstore_all(i);
                                    t.epilogue_lane = None;
                                    r
                                },
                                &mut scalar,
                            )
                        })
                    }
                }
            }
        };
        self.running_rows = None;
        result
    }
}
