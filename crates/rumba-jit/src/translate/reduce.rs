//! Kernels with reductions: per outer point, fresh accumulators for every inner parallel
//! coordinate of the tile, the inner nest feeding them in domain order (so each lane sees its
//! values in increasing index order of the reduced axes), then the epilogue per lane.
//!
//! Accumulators live in scratch memory (one allocation per call), 24 bytes per reduction and
//! lane: sum/mean/weighted `[sum f64, count i64]`; var/std `[mean f64, m2 f64, count i64]`;
//! min/max `[best f64, flags i64]` (bit 0: a value was seen, bit 1: a NaN was seen); and for
//! median/percentile `[count i64]` plus a region of `Π reduced extents` f64 values per lane.

use super::Translator;
use crate::JitError;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use rumba_ir::DType;
use rumba_ir::op::ReduceKind;
use rumba_plan::{Accumulate, Expr, ExprId, KernelArgs};
use std::mem::offset_of;

const SLOT: i64 = 24;

/// Where the accumulators of the current call live.
struct Scratch {
    base: Value,
    /// Lanes per reduction (inner parallel coordinates of one tile).
    lanes: i64,
    /// Values per lane of a median/percentile.
    capacity: i64,
    /// Byte offset of the collected values.
    values: i64,
}

impl Translator<'_, '_> {
    pub(super) fn reduction_kernel(&mut self, ranges: &[(Value, Value)]) -> Result<(), JitError> {
        let kernel = self.kernel;
        let rank = kernel.domain.len();
        let first = kernel.first_reduced().expect("a reduction kernel has a reduced axis");
        let outer: Vec<usize> = (0..first).collect();
        let inner: Vec<usize> = (first..rank).collect();
        let lanes_axes: Vec<usize> = inner.iter().copied().filter(|&a| !kernel.domain[a].reduced).collect();
        // Lane strides over the inner parallel axes, with the tile axis at most tile_len long.
        let extent = |a: usize| {
            let e = kernel.domain[a].extent as i64;
            if kernel.schedule.tile_axis == Some(a) {
                e.min(kernel.schedule.tile_len as i64)
            } else {
                e
            }
        };
        let mut lane_strides = vec![0i64; rank];
        let mut lanes = 1i64;
        for &a in lanes_axes.iter().rev() {
            lane_strides[a] = lanes;
            lanes *= extent(a).max(1);
        }
        let capacity: i64 = kernel
            .domain
            .iter()
            .filter(|a| a.reduced)
            .map(|a| a.extent as i64)
            .product();
        let collects = kernel.reductions.iter().filter(|r| is_collect(&r.kind)).count() as i64;
        let slots = kernel.reductions.len() as i64 * lanes * SLOT;
        let bytes = slots + collects * lanes * capacity * 8;
        let size = self.b.ins().iconst(types::I64, bytes);
        let alloc = self.hosts.alloc;
        let base = self.call(alloc, &[size]).expect("alloc returns a pointer");
        let scratch = Scratch {
            base,
            lanes,
            capacity,
            values: slots,
        };
        let los: Vec<Value> = ranges.iter().map(|r| r.0).collect();
        let lane_of = move |t: &mut Self| -> Value {
            let mut q = t.b.ins().iconst(types::I64, 0);
            for &a in &lanes_axes {
                let i = t.coords[a].expect("lane axes are set");
                let d = t.b.ins().isub(i, los[a]);
                let term = t.b.ins().imul_imm_s(d, lane_strides[a]);
                q = t.b.ins().iadd(q, term);
            }
            q
        };
        let lane_of = std::rc::Rc::new(lane_of);
        let parallel_inner: Vec<usize> = inner.iter().copied().filter(|&a| !kernel.domain[a].reduced).collect();
        self.nest(&outer, ranges, &mut |t| {
            let zero = t.b.ins().iconst(types::I64, 0);
            let words = t.b.ins().iconst(types::I64, slots / 8);
            t.for_loop(zero, words, &mut |t, i| {
                let off = t.b.ins().imul_imm_s(i, 8);
                let at = t.b.ins().iadd(scratch.base, off);
                let z = t.b.ins().iconst(types::I64, 0);
                t.b.ins().store(MemFlagsData::trusted(), z, at, 0);
                Ok(())
            })?;
            let lane = lane_of.clone();
            t.nest(&inner, ranges, &mut |t| {
                t.memo.clear();
                let q = lane(t);
                for r in 0..t.kernel.reductions.len() {
                    t.update(r, q, &scratch)?;
                }
                Ok(())
            })?;
            let lane = lane_of.clone();
            t.nest(&parallel_inner, ranges, &mut |t| {
                t.memo.clear();
                let q = lane(t);
                for r in 0..t.kernel.reductions.len() {
                    let v = t.finish(r, q, &scratch)?;
                    for (e, node) in t.kernel.exprs.iter().enumerate() {
                        if node.expr == (Expr::Acc { reduction: r as u32 }) {
                            t.memo.insert(ExprId(e as u32), v);
                        }
                    }
                }
                t.store_all()
            })
        })?;
        let free = self.hosts.free;
        let size = self.b.ins().iconst(types::I64, bytes);
        self.call(free, &[base, size]);
        Ok(())
    }

    /// The address of reduction `r`'s slot for lane `q`.
    fn slot(&mut self, r: usize, q: Value, s: &Scratch) -> Value {
        let index = self.b.ins().iadd_imm_s(q, r as i64 * s.lanes);
        let off = self.b.ins().imul_imm_s(index, SLOT);
        self.b.ins().iadd(s.base, off)
    }

    /// `v` (of `d`) as f64, exactly.
    pub(super) fn to_f64(&mut self, v: Value, d: DType) -> Value {
        match d {
            DType::F64 => v,
            DType::F32 => self.b.ins().fpromote(types::F64, v),
            DType::I32 => self.b.ins().fcvt_from_sint(types::F64, v),
            _ => {
                let w = self.b.ins().uextend(types::I64, v);
                self.b.ins().fcvt_from_uint(types::F64, w)
            }
        }
    }

    /// Feeds the current point's value to reduction `r`, lane `q`.
    fn update(&mut self, r: usize, q: Value, s: &Scratch) -> Result<(), JitError> {
        let red = &self.kernel.reductions[r];
        let vd = self.kernel.exprs[red.value.0 as usize].dtype;
        // Every value this update needs is computed before any branch, so the expression
        // memo only ever holds values that dominate the rest of the point.
        let v = self.value(red.value)?;
        let x = self.to_f64(v, vd);
        let weight = match red.kind {
            Accumulate::Weighted { weight } => Some(self.value(weight)?),
            _ => None,
        };
        let skip_block = self.b.create_block();
        let mut take = None;
        if let Some(m) = red.mask {
            take = Some(self.value(m)?);
        }
        if red.skip_nan && vd.is_float() {
            let ok = self.b.ins().fcmp(FloatCC::Ordered, x, x);
            take = Some(match take {
                Some(t) => self.b.ins().band(t, ok),
                None => ok,
            });
        }
        if let Some(cond) = take {
            let go = self.b.create_block();
            self.b.ins().brif(cond, go, &[], skip_block, &[]);
            self.b.switch_to_block(go);
            // Only the test above jumps here.
            self.b.seal_block(go);
        }
        let slot = self.slot(r, q, s);
        let f = MemFlagsData::trusted();
        let kind = red.kind.clone();
        match kind {
            Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean) | Accumulate::Weighted { .. } => {
                let term = match weight {
                    Some(w) => self.b.ins().fmul(w, x),
                    None => x,
                };
                let sum = self.b.ins().load(types::F64, f, slot, 0);
                let sum = self.b.ins().fadd(sum, term);
                self.b.ins().store(f, sum, slot, 0);
                self.bump(slot, 8);
            }
            Accumulate::Stat(ReduceKind::Var | ReduceKind::Std) => {
                let k = self.bump(slot, 16);
                let kf = self.b.ins().fcvt_from_sint(types::F64, k);
                let mean = self.b.ins().load(types::F64, f, slot, 0);
                let delta = self.b.ins().fsub(x, mean);
                let step = self.b.ins().fdiv(delta, kf);
                let mean = self.b.ins().fadd(mean, step);
                let m2 = self.b.ins().load(types::F64, f, slot, 8);
                let dev = self.b.ins().fsub(x, mean);
                let prod = self.b.ins().fmul(delta, dev);
                let m2 = self.b.ins().fadd(m2, prod);
                self.b.ins().store(f, mean, slot, 0);
                self.b.ins().store(f, m2, slot, 8);
            }
            Accumulate::Stat(k @ (ReduceKind::Min | ReduceKind::Max)) => {
                let max = k == ReduceKind::Max;
                let best = self.b.ins().load(types::F64, f, slot, 0);
                let flags = self.b.ins().load(types::I64, f, slot, 8);
                let seen = self.b.ins().band_imm_s(flags, 1);
                let first = self.b.ins().icmp_imm_s(IntCC::Equal, seen, 0);
                let cmp = self
                    .b
                    .ins()
                    .fcmp(if max { FloatCC::GreaterThan } else { FloatCC::LessThan }, x, best);
                let better = self.b.ins().bor(first, cmp);
                let best = self.b.ins().select(better, x, best);
                self.b.ins().store(f, best, slot, 0);
                let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
                let nan = self.b.ins().uextend(types::I64, nan);
                let nan = self.b.ins().ishl_imm_s(nan, 1);
                let flags = self.b.ins().bor(flags, nan);
                let flags = self.b.ins().bor_imm_s(flags, 1);
                self.b.ins().store(f, flags, slot, 8);
            }
            Accumulate::Stat(ReduceKind::Median | ReduceKind::Percentile(_)) => {
                let n = self.b.ins().load(types::I64, f, slot, 0);
                let values = self.values(r, q, s);
                let off = self.b.ins().imul_imm_s(n, 8);
                let at = self.b.ins().iadd(values, off);
                self.b.ins().store(f, x, at, 0);
                self.bump(slot, 0);
            }
        }
        self.b.ins().jump(skip_block, &[]);
        self.b.switch_to_block(skip_block);
        // Its predecessors (the test and the update) are both emitted.
        self.b.seal_block(skip_block);
        Ok(())
    }

    /// Increments the i64 at `slot + off`; returns the new count.
    fn bump(&mut self, slot: Value, off: i32) -> Value {
        let f = MemFlagsData::trusted();
        let n = self.b.ins().load(types::I64, f, slot, off);
        let n = self.b.ins().iadd_imm_s(n, 1);
        self.b.ins().store(f, n, slot, off);
        n
    }

    /// The collected values of lane `q` of median/percentile reduction `r`.
    fn values(&mut self, r: usize, q: Value, s: &Scratch) -> Value {
        let ci = self.kernel.reductions[..r]
            .iter()
            .filter(|x| is_collect(&x.kind))
            .count() as i64;
        let lane = self.b.ins().iadd_imm_s(q, ci * s.lanes);
        let off = self.b.ins().imul_imm_s(lane, s.capacity * 8);
        let off = self.b.ins().iadd_imm_s(off, s.values);
        self.b.ins().iadd(s.base, off)
    }

    /// The finished value of reduction `r` for lane `q`, in its dtype.
    fn finish(&mut self, r: usize, q: Value, s: &Scratch) -> Result<Value, JitError> {
        let red = self.kernel.reductions[r].clone();
        let vd = self.kernel.exprs[red.value.0 as usize].dtype;
        let slot = self.slot(r, q, s);
        let f = MemFlagsData::trusted();
        let nan = self.b.ins().f64const(f64::NAN);
        let stat = match red.kind {
            Accumulate::Stat(ReduceKind::Min | ReduceKind::Max) => {
                let best = self.b.ins().load(types::F64, f, slot, 0);
                let flags = self.b.ins().load(types::I64, f, slot, 8);
                if vd.is_float() {
                    let seen_nan = self.b.ins().band_imm_s(flags, 2);
                    let seen = self.b.ins().band_imm_s(flags, 1);
                    let none = self.b.ins().icmp_imm_s(IntCC::Equal, seen, 0);
                    let v = self.b.ins().select(seen_nan, nan, best);
                    let v = self.b.ins().select(none, nan, v);
                    let v = self.cast(v, DType::F64, vd);
                    return Ok(self.cast(v, vd, red.dtype));
                }
                let seen = self.b.ins().band_imm_s(flags, 1);
                let none = self.b.ins().icmp_imm_s(IntCC::Equal, seen, 0);
                let report = self.b.create_block();
                let done = self.b.create_block();
                self.b.ins().brif(none, report, &[], done, &[]);
                self.b.switch_to_block(report);
                // Only the test above jumps here.
                self.b.seal_block(report);
                let error = self
                    .b
                    .ins()
                    .load(self.ptr, f, self.args, offset_of!(KernelArgs, error) as i32);
                let code = self.b.ins().iconst(types::I64, r as i64 + 1);
                let h = self.hosts.report_error;
                self.call(h, &[error, code]);
                self.b.ins().jump(done, &[]);
                self.b.switch_to_block(done);
                // Both predecessors are emitted.
                self.b.seal_block(done);
                let v = self.cast(best, DType::F64, vd);
                return Ok(self.cast(v, vd, red.dtype));
            }
            Accumulate::Stat(ReduceKind::Sum) | Accumulate::Weighted { .. } => {
                let n = self.b.ins().load(types::I64, f, slot, 8);
                let sum = self.b.ins().load(types::F64, f, slot, 0);
                let empty = self.b.ins().icmp_imm_s(IntCC::Equal, n, 0);
                self.b.ins().select(empty, nan, sum)
            }
            Accumulate::Stat(ReduceKind::Mean) => {
                let n = self.b.ins().load(types::I64, f, slot, 8);
                let sum = self.b.ins().load(types::F64, f, slot, 0);
                let nf = self.b.ins().fcvt_from_sint(types::F64, n);
                let mean = self.b.ins().fdiv(sum, nf);
                let empty = self.b.ins().icmp_imm_s(IntCC::Equal, n, 0);
                self.b.ins().select(empty, nan, mean)
            }
            Accumulate::Stat(k @ (ReduceKind::Var | ReduceKind::Std)) => {
                let n = self.b.ins().load(types::I64, f, slot, 16);
                let m2 = self.b.ins().load(types::F64, f, slot, 8);
                let nf = self.b.ins().fcvt_from_sint(types::F64, n);
                let var = self.b.ins().fdiv(m2, nf);
                let v = if k == ReduceKind::Std {
                    self.b.ins().sqrt(var)
                } else {
                    var
                };
                let empty = self.b.ins().icmp_imm_s(IntCC::Equal, n, 0);
                self.b.ins().select(empty, nan, v)
            }
            Accumulate::Stat(k @ (ReduceKind::Median | ReduceKind::Percentile(_))) => {
                let n = self.b.ins().load(types::I64, f, slot, 0);
                let values = self.values(r, q, s);
                let p = match k {
                    ReduceKind::Percentile(q) => q.0,
                    _ => -1.0,
                };
                let p = self.b.ins().f64const(p);
                let h = self.hosts.order_statistic;
                self.call(h, &[values, n, p]).expect("order_statistic returns a value")
            }
        };
        Ok(self.cast(stat, DType::F64, red.dtype))
    }
}

fn is_collect(kind: &Accumulate) -> bool {
    matches!(kind, Accumulate::Stat(ReduceKind::Median | ReduceKind::Percentile(_)))
}
