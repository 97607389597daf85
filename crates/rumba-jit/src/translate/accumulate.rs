//! Scalar accumulator updates and results on the structure-of-arrays layout of `layout.rs`,
//! with the plan evaluator's semantics (`rumba_plan::eval`'s accumulators): sequential f64
//! sums, the pinned var/std moments (`rumba_ir::numerics`), NaN-propagating min/max keeping the first of equal values, collected
//! values for median/percentile; a lane without a value gives NaN (an integer min/max reports
//! a run-time error instead).

use super::layout::{Field, ReducePlan};
use super::network::{self, Network};
use super::reduce::Scratch;
use super::{Sign, Translator};
use crate::JitError;
use crate::select::KeyKind;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use rumba_ir::DType;
use rumba_ir::numerics::Moments;
use rumba_ir::op::ReduceKind;
use rumba_plan::running::Algorithm;
use rumba_plan::{Accumulate, KernelArgs};
use std::mem::offset_of;

impl Translator<'_, '_> {
    /// The address of field `f` of reduction `r` for lane `q`.
    pub(super) fn field_addr(&mut self, plan: &ReducePlan, r: usize, f: usize, q: Value, s: &Scratch) -> Value {
        let size = plan.layout.accs[r].all_fields()[f].size();
        let off = self.b.ins().imul_imm_s(q, size);
        let off = self.b.ins().iadd_imm_s(off, plan.layout.offsets[r][f]);
        self.b.ins().iadd(s.base, off)
    }

    /// `v` (of `d`) as f64, exactly.
    pub(super) fn exact_f64(&mut self, v: Value, d: DType) -> Value {
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

    /// Increments the count of reduction `r` for lane `q`; returns the new count.
    fn bump(&mut self, plan: &ReducePlan, r: usize, q: Value, s: &Scratch) -> Value {
        let count = plan.layout.accs[r].fields.len();
        let n = self.field_load(plan, r, count, q, s);
        let n = self.b.ins().iadd_imm_s(n, 1);
        self.field_store(plan, r, count, q, s, n);
        n
    }

    /// Field `f` of reduction `r` for lane `q`: its register while the accumulators are
    /// promoted (a single lane), else memory.
    pub(super) fn field_load(&mut self, plan: &ReducePlan, r: usize, f: usize, q: Value, s: &Scratch) -> Value {
        if let Some(&var) = self.promoted.get(&(r, f)) {
            return self.b.use_var(var);
        }
        let ty = plan.layout.accs[r].all_fields()[f].ty();
        let at = self.field_addr(plan, r, f, q, s);
        self.b.ins().load(ty, MemFlagsData::trusted(), at, 0)
    }

    /// Sets field `f` of reduction `r` for lane `q` (see [`Translator::field_load`]).
    pub(super) fn field_store(&mut self, plan: &ReducePlan, r: usize, f: usize, q: Value, s: &Scratch, v: Value) {
        if let Some(&var) = self.promoted.get(&(r, f)) {
            self.b.def_var(var, v);
            return;
        }
        let at = self.field_addr(plan, r, f, q, s);
        self.b.ins().store(MemFlagsData::trusted(), v, at, 0);
    }

    /// Feeds the current point's value to reduction `r`, lane `q`.
    pub(super) fn update(&mut self, plan: &ReducePlan, r: usize, q: Value, s: &Scratch) -> Result<(), JitError> {
        let red = &self.kernel.reductions[r];
        let acc = plan.layout.accs[r].clone();
        let vd = acc.vd;
        // Every value this update needs is computed before any branch, so the expression
        // memo only ever holds values that dominate the rest of the point.
        let v = self.value(red.value)?;
        let weight = match red.kind {
            Accumulate::Weighted { weight } => Some(self.value(weight)?),
            _ => None,
        };
        let mut take = match red.mask {
            Some(m) => Some(self.value(m)?),
            None => None,
        };
        // Running float windows count NaN instead of skipping it (`running.rs`).
        if red.skip_nan && vd.is_float() && acc.algorithm.is_none() {
            let ok = self.b.ins().fcmp(FloatCC::Ordered, v, v);
            take = Some(match take {
                Some(t) => self.b.ins().band(t, ok),
                None => ok,
            });
        }
        let skip_block = self.b.create_block();
        if let Some(cond) = take {
            let go = self.b.create_block();
            self.b.ins().brif(cond, go, &[], skip_block, &[]);
            self.b.switch_to_block(go);
            // Only the test above jumps here.
            self.b.seal_block(go);
        }
        let counted = acc.counted;
        match (&acc.kind, acc.fields.first()) {
            _ if matches!(acc.algorithm, Some(Algorithm::FloatSum | Algorithm::Shifted)) => {
                self.running_float_update(plan, r, q, s, v)?;
            }
            (Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean), Some(Field::I32)) => {
                let x = self.b.ins().uextend(types::I32, v);
                let sum = self.field_load(plan, r, 0, q, s);
                let sum = self.signed_iadd(sum, x);
                self.field_store(plan, r, 0, q, s, sum);
            }
            (Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean), Some(Field::I64)) => {
                let x = if vd == DType::I32 {
                    self.b.ins().sextend(types::I64, v)
                } else {
                    self.b.ins().uextend(types::I64, v)
                };
                let sum = self.field_load(plan, r, 0, q, s);
                let sum = self.signed_iadd(sum, x);
                self.field_store(plan, r, 0, q, s, sum);
            }
            (Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean) | Accumulate::Weighted { .. }, _) => {
                let x = self.exact_f64(v, vd);
                let term = match weight {
                    Some(w) => self.b.ins().fmul(w, x),
                    None => x,
                };
                let sum = self.field_load(plan, r, 0, q, s);
                let sum = self.b.ins().fadd(sum, term);
                self.field_store(plan, r, 0, q, s, sum);
            }
            (Accumulate::Stat(ReduceKind::Var | ReduceKind::Std), _) if acc.moments == Moments::Integer => {
                let x = self.b.ins().uextend(types::I64, v);
                let x = match vd {
                    DType::I32 => self.b.ins().sextend(types::I64, v),
                    // The moments of x − 2¹⁵ (see `U16_MOMENT_SHIFT`).
                    DType::U16 => self.b.ins().iadd_imm_s(x, -super::U16_MOMENT_SHIFT),
                    _ => x,
                };
                let square = self.b.ins().imul(x, x);
                for (f, term) in [(0, x), (1, square)] {
                    let ty = acc.fields[f].ty();
                    let term = if ty == types::I32 {
                        self.b.ins().ireduce(types::I32, term)
                    } else {
                        term
                    };
                    let sum = self.field_load(plan, r, f, q, s);
                    let sum = self.signed_iadd(sum, term);
                    self.field_store(plan, r, f, q, s, sum);
                }
            }
            (Accumulate::Stat(ReduceKind::Var | ReduceKind::Std), _) => {
                let x = self.exact_f64(v, vd);
                // The first value fed is the shift.
                let first = if counted {
                    let count = plan.layout.accs[r].fields.len();
                    let n = self.field_load(plan, r, count, q, s);
                    self.b.ins().icmp_imm_s(IntCC::Equal, n, 0)
                } else {
                    let k = self.uniform_count(plan);
                    self.b.ins().icmp_imm_s(IntCC::Equal, k, 1)
                };
                let a = self.field_load(plan, r, 0, q, s);
                let a = self.b.ins().select(first, x, a);
                let d = self.b.ins().fsub(x, a);
                let d2 = self.b.ins().fmul(d, d);
                let s1 = self.field_load(plan, r, 1, q, s);
                let s1 = self.b.ins().fadd(s1, d);
                let s2 = self.field_load(plan, r, 2, q, s);
                let s2 = self.b.ins().fadd(s2, d2);
                self.field_store(plan, r, 0, q, s, a);
                self.field_store(plan, r, 1, q, s, s1);
                self.field_store(plan, r, 2, q, s, s2);
            }
            // A running min/max (van Herk–Gil-Werman): a rebuild keeps the value as its
            // position's suffix extreme; a step folds the entering value into the prefix and
            // ignores the leaving one.
            (Accumulate::Stat(ReduceKind::Min | ReduceKind::Max), Some(_)) if acc.algorithm.is_some() => {
                if self.rebuilding {
                    let position = self.window_coordinate()?;
                    let at = self.position_addr(plan, r, position, q, s);
                    self.b.ins().store(MemFlagsData::trusted(), v, at, 0);
                } else if self.sign == Sign::Add {
                    let best = self.field_load(plan, r, 0, q, s);
                    let best = self.extreme(acc.is_max(), best, v, vd);
                    self.field_store(plan, r, 0, q, s, best);
                }
            }
            (Accumulate::Stat(ReduceKind::Min | ReduceKind::Max), Some(_)) => {
                let best = self.field_load(plan, r, 0, q, s);
                let best = self.extreme(acc.is_max(), best, v, vd);
                self.field_store(plan, r, 0, q, s, best);
            }
            // A network's value: its native width at the position of its reduced index.
            (Accumulate::Stat(ReduceKind::Median | ReduceKind::Percentile(_)), _) if acc.network.is_some() => {
                let k = self.uniform_count(plan);
                let slot = self.b.ins().iadd_imm_s(k, -1);
                let at = self.position_addr(plan, r, slot, q, s);
                self.b.ins().store(MemFlagsData::trusted(), v, at, 0);
            }
            (Accumulate::Stat(ReduceKind::Median | ReduceKind::Percentile(_)), _) => {
                let x = match vd {
                    DType::F64 => v,
                    _ => self.order_key(v, vd),
                };
                // The slot: the count so far, or the reduced linear index when every lane sees
                // every point.
                let n = if counted {
                    self.field_load(plan, r, 0, q, s)
                } else {
                    let k = self.uniform_count(plan);
                    self.b.ins().iadd_imm_s(k, -1)
                };
                let values = self.values_addr(plan, r, q, s);
                let off = self.b.ins().imul_imm_s(n, acc.value_size());
                let slot = self.b.ins().iadd(values, off);
                self.b.ins().store(MemFlagsData::trusted(), x, slot, 0);
            }
            (kind, _) => return Err(JitError::codegen(format!("no accumulator for {kind:?}"))),
        }
        if counted {
            self.bump(plan, r, q, s);
        }
        self.b.ins().jump(skip_block, &[]);
        self.b.switch_to_block(skip_block);
        // Its predecessors (the test and the update) are both emitted.
        self.b.seal_block(skip_block);
        Ok(())
    }

    /// The coordinate of a running window's reduced axis (its position).
    pub(super) fn window_coordinate(&self) -> Result<Value, JitError> {
        let j = self.kernel.running.as_ref().map(|r| r.axis + 1);
        j.and_then(|j| self.coords[j])
            .ok_or_else(|| JitError::codegen("a running window position outside its loop"))
    }

    /// The address of lane `q`'s value at position `position` of reduction `r`'s
    /// position-major values (a running min/max's suffix extreme, a network's value).
    pub(super) fn position_addr(
        &mut self,
        plan: &ReducePlan,
        r: usize,
        position: Value,
        q: Value,
        s: &Scratch,
    ) -> Value {
        let layout = &plan.layout;
        let row = self.b.ins().imul_imm_s(position, layout.position_row(r));
        let lane = self.b.ins().imul_imm_s(q, layout.accs[r].position_size().unwrap_or(0));
        let off = self.b.ins().iadd(row, lane);
        let off = self.b.ins().iadd_imm_s(off, layout.positions[r]);
        self.b.ins().iadd(s.base, off)
    }

    /// `a + b`, or `a − b` while a running window removes its leaving value.
    pub(super) fn signed_iadd(&mut self, a: Value, b: Value) -> Value {
        match self.sign {
            Sign::Add => self.b.ins().iadd(a, b),
            Sign::Remove => self.b.ins().isub(a, b),
        }
    }

    /// `a + b`, or `a − b` while a running window removes its leaving value.
    pub(super) fn signed_fadd(&mut self, a: Value, b: Value) -> Value {
        match self.sign {
            Sign::Add => self.b.ins().fadd(a, b),
            Sign::Remove => self.b.ins().fsub(a, b),
        }
    }

    /// A running float window's update with value `v` (`rumba_plan::running`): NaN, +Inf and
    /// −Inf counted in fields `c..c+3`, finite values added to (or removed from) the sum —
    /// or, for shifted moments, their difference to the shift (field 0, set by the first
    /// finite value a rebuild adds) to Σd and Σd².
    fn running_float_update(
        &mut self,
        plan: &ReducePlan,
        r: usize,
        q: Value,
        s: &Scratch,
        v: Value,
    ) -> Result<(), JitError> {
        let acc = plan.layout.accs[r].clone();
        let x = self.exact_f64(v, acc.vd);
        let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        let inf = self.b.ins().f64const(f64::INFINITY);
        let pinf = self.b.ins().fcmp(FloatCC::Equal, x, inf);
        let ninf = self.b.ins().fneg(inf);
        let ninf = self.b.ins().fcmp(FloatCC::Equal, x, ninf);
        let special = self.b.ins().bor(nan, pinf);
        let special = self.b.ins().bor(special, ninf);
        self.mark_specials(plan, s, Some(special));
        let zero = self.b.ins().f64const(0.0);
        let counts = acc.fields.len() - 3;
        for (f, flag) in [nan, pinf, ninf].into_iter().enumerate() {
            let one = self.b.ins().uextend(types::I64, flag);
            let c = self.field_load(plan, r, counts + f, q, s);
            let c = self.signed_iadd(c, one);
            self.field_store(plan, r, counts + f, q, s, c);
        }
        if acc.algorithm == Some(Algorithm::FloatSum) {
            let term = self.b.ins().select(special, zero, x);
            let sum = self.field_load(plan, r, 0, q, s);
            let sum = self.signed_fadd(sum, term);
            self.field_store(plan, r, 0, q, s, sum);
            return Ok(());
        }
        let mut a = self.field_load(plan, r, 0, q, s);
        if self.sign == Sign::Add {
            let unset = self.b.ins().fcmp(FloatCC::Unordered, a, a);
            let finite = self.b.ins().bxor_imm_u(special, 1);
            let take = self.b.ins().band(unset, finite);
            a = self.b.ins().select(take, x, a);
            self.field_store(plan, r, 0, q, s, a);
        }
        let d = self.b.ins().fsub(x, a);
        let d = self.b.ins().select(special, zero, d);
        let d2 = self.b.ins().fmul(d, d);
        for (f, term) in [(1, d), (2, d2)] {
            let sum = self.field_load(plan, r, f, q, s);
            let sum = self.signed_fadd(sum, term);
            self.field_store(plan, r, f, q, s, sum);
        }
        Ok(())
    }

    /// The statistic of a running float window from its fields (scalars, or f64x2 / i64x2
    /// pairs), as `rumba_plan::running` finishes it: NaN where the window holds a NaN (unless
    /// NaN is skipped), both infinities or no value (and, for var/std, any infinity); else
    /// ±Inf where it holds one; else the sum, mean, var or std of the finite values.
    pub(super) fn running_float_result(&mut self, plan: &ReducePlan, r: usize, fields: &[Value]) -> Value {
        let acc = &plan.layout.accs[r];
        let red = &self.kernel.reductions[r];
        let (skip, kind) = (red.skip_nan, red.kind.clone());
        let vector = self.b.func.dfg.value_type(fields[0]).is_vector();
        let size = plan.layout.capacity;
        let counts = &fields[fields.len() - 3..];
        let int = |t: &mut Self, v: i64| {
            let c = t.b.ins().iconst(types::I64, v);
            if vector { t.b.ins().splat(types::I64X2, c) } else { c }
        };
        let float = |t: &mut Self, v: f64| {
            let c = t.b.ins().f64const(v);
            if vector { t.b.ins().splat(types::F64X2, c) } else { c }
        };
        let zero = int(self, 0);
        let size_v = int(self, size);
        let n = if skip {
            self.b.ins().isub(size_v, counts[0])
        } else {
            size_v
        };
        let nf = self
            .b
            .ins()
            .fcvt_from_sint(if vector { types::F64X2 } else { types::F64 }, n);
        let positive = |t: &mut Self, c: Value| t.b.ins().icmp(IntCC::SignedGreaterThan, c, zero);
        let (has_nan, has_pinf, has_ninf) = (
            positive(self, counts[0]),
            positive(self, counts[1]),
            positive(self, counts[2]),
        );
        let empty = self.b.ins().icmp(IntCC::Equal, n, zero);
        let mut bad = empty;
        if !skip {
            bad = self.b.ins().bor(bad, has_nan);
        }
        let any_inf = self.b.ins().bor(has_pinf, has_ninf);
        let value = if acc.algorithm == Some(Algorithm::FloatSum) {
            let both = self.b.ins().band(has_pinf, has_ninf);
            bad = self.b.ins().bor(bad, both);
            let sum = if kind == Accumulate::Stat(ReduceKind::Mean) {
                self.b.ins().fdiv(fields[0], nf)
            } else {
                fields[0]
            };
            let (pinf, ninf) = (float(self, f64::INFINITY), float(self, f64::NEG_INFINITY));
            let v = self.select_any(has_ninf, ninf, sum);
            self.select_any(has_pinf, pinf, v)
        } else {
            bad = self.b.ins().bor(bad, any_inf);
            let var = self.var_from_shifted_sums(nf, fields[1], fields[2]);
            if kind == Accumulate::Stat(ReduceKind::Std) {
                self.b.ins().sqrt(var)
            } else {
                var
            }
        };
        let nan = float(self, f64::NAN);
        self.select_any(bad, nan, value)
    }

    /// `c ? a : b` for a scalar (i8 condition) or f64x2 (i64x2 mask) value.
    fn select_any(&mut self, c: Value, a: Value, b: Value) -> Value {
        if self.b.func.dfg.value_type(a).is_vector() {
            let c = self.vcast_bits(types::F64X2, c);
            self.b.ins().bitselect(c, a, b)
        } else {
            self.b.ins().select(c, a, b)
        }
    }

    /// The collected values of lane `q` of median/percentile reduction `r`.
    pub(super) fn values_addr(&mut self, plan: &ReducePlan, r: usize, q: Value, s: &Scratch) -> Value {
        let layout = &plan.layout;
        let off = self
            .b
            .ins()
            .imul_imm_s(q, layout.capacity * layout.accs[r].value_size());
        let off = self.b.ins().iadd_imm_s(off, layout.values[r]);
        self.b.ins().iadd(s.base, off)
    }

    /// The 32-bit key of a collected value of dtype `d` (not f64): integers as they are, f32
    /// bits with the magnitude of negative numbers flipped (`crate::select`).
    fn order_key(&mut self, v: Value, d: DType) -> Value {
        match d {
            DType::I32 => v,
            DType::F32 => {
                let bits = self.b.ins().bitcast(types::I32, MemFlagsData::new(), v);
                let sign = self.b.ins().sshr_imm_u(bits, 31);
                let magnitude = self.b.ins().ushr_imm_u(sign, 1);
                self.b.ins().bxor(bits, magnitude)
            }
            _ => self.b.ins().uextend(types::I32, v),
        }
    }

    /// The number of values lane `q` of reduction `r` saw.
    fn count(&mut self, plan: &ReducePlan, r: usize, q: Value, s: &Scratch) -> Value {
        if plan.layout.accs[r].counted {
            let at = self.field_addr(plan, r, plan.layout.accs[r].fields.len(), q, s);
            self.b.ins().load(types::I64, MemFlagsData::trusted(), at, 0)
        } else {
            self.b.ins().iconst(types::I64, plan.layout.capacity)
        }
    }

    /// The finished value of reduction `r` for lane `q`, in its dtype.
    pub(super) fn finish(&mut self, plan: &ReducePlan, r: usize, q: Value, s: &Scratch) -> Result<Value, JitError> {
        let red = self.kernel.reductions[r].clone();
        let acc = plan.layout.accs[r].clone();
        let vd = acc.vd;
        let f = MemFlagsData::trusted();
        let n = self.count(plan, r, q, s);
        let empty = self.b.ins().icmp_imm_s(IntCC::Equal, n, 0);
        let nan = self.b.ins().f64const(f64::NAN);
        let field0 = acc.fields.first().copied();
        let stat = match (&acc.kind, field0) {
            _ if matches!(acc.algorithm, Some(Algorithm::FloatSum | Algorithm::Shifted)) => {
                let fields: Vec<Value> = (0..acc.fields.len())
                    .map(|field| {
                        let at = self.field_addr(plan, r, field, q, s);
                        self.b.ins().load(acc.fields[field].ty(), f, at, 0)
                    })
                    .collect();
                self.running_float_result(plan, r, &fields)
            }
            (Accumulate::Stat(ReduceKind::Min | ReduceKind::Max), Some(field)) => {
                let at = self.field_addr(plan, r, 0, q, s);
                let mut best = self.b.ins().load(field.ty(), f, at, 0);
                if acc.algorithm.is_some() {
                    let position = self
                        .window_position
                        .ok_or_else(|| JitError::codegen("a running min/max outside its sweep"))?;
                    let at = self.position_addr(plan, r, position, q, s);
                    let suffix = self.b.ins().load(field.ty(), f, at, 0);
                    best = self.extreme(acc.is_max(), suffix, best, vd);
                }
                if vd.is_float() {
                    let none = self.constant(vd, f64::NAN);
                    let v = if acc.counted {
                        self.b.ins().select(empty, none, best)
                    } else {
                        best
                    };
                    return Ok(self.cast(v, vd, red.dtype));
                }
                if acc.counted {
                    self.report_if(empty, r);
                }
                return Ok(self.cast(best, vd, red.dtype));
            }
            (Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean) | Accumulate::Weighted { .. }, Some(field)) => {
                let at = self.field_addr(plan, r, 0, q, s);
                let sum = self.b.ins().load(field.ty(), f, at, 0);
                let sum = if matches!(field, Field::I32 | Field::I64) {
                    self.b.ins().fcvt_from_sint(types::F64, sum)
                } else {
                    sum
                };
                if acc.kind == Accumulate::Stat(ReduceKind::Mean) {
                    let nf = self.b.ins().fcvt_from_sint(types::F64, n);
                    self.b.ins().fdiv(sum, nf)
                } else {
                    sum
                }
            }
            (Accumulate::Stat(k @ (ReduceKind::Var | ReduceKind::Std)), _) => {
                let fields: Vec<Value> = (0..acc.fields.len())
                    .map(|field| {
                        let at = self.field_addr(plan, r, field, q, s);
                        self.b.ins().load(acc.fields[field].ty(), f, at, 0)
                    })
                    .collect();
                let var = match acc.moments {
                    Moments::Integer => {
                        let wide: Vec<Value> = fields
                            .iter()
                            .map(|&v| {
                                if self.b.func.dfg.value_type(v) == types::I32 {
                                    self.b.ins().sextend(types::I64, v)
                                } else {
                                    v
                                }
                            })
                            .collect();
                        self.var_from_integer_moments(n, wide[0], wide[1])
                    }
                    Moments::Shifted => {
                        let nf = self.b.ins().fcvt_from_sint(types::F64, n);
                        self.var_from_shifted_sums(nf, fields[1], fields[2])
                    }
                };
                if *k == ReduceKind::Std {
                    self.b.ins().sqrt(var)
                } else {
                    var
                }
            }
            (Accumulate::Stat(ReduceKind::Median | ReduceKind::Percentile(_)), _) if acc.network.is_some() => {
                let net = acc.network.clone().expect("a network");
                let ty = if vd == DType::U8 { types::I8 } else { types::I16 };
                let mut values: Vec<Value> = (0..plan.layout.capacity)
                    .map(|p| {
                        let p = self.b.ins().iconst(types::I64, p);
                        let at = self.position_addr(plan, r, p, q, s);
                        let v = self.b.ins().load(ty, f, at, 0);
                        self.b.ins().uextend(types::I32, v)
                    })
                    .collect();
                network::run(&net.steps, &mut values, &mut |max, x, y| {
                    if max {
                        self.b.ins().umax(x, y)
                    } else {
                        self.b.ins().umin(x, y)
                    }
                });
                let lo = self.b.ins().fcvt_from_uint(types::F64, values[net.lo]);
                let hi = self.b.ins().fcvt_from_uint(types::F64, values[net.hi]);
                self.order_value(&net, lo, hi)
            }
            (Accumulate::Stat(k @ (ReduceKind::Median | ReduceKind::Percentile(_))), _) => {
                let values = self.values_addr(plan, r, q, s);
                let p = match k {
                    ReduceKind::Percentile(p) => p.0,
                    _ => -1.0,
                };
                let p = self.b.ins().f64const(p);
                let result = if acc.vd == DType::F64 {
                    let h = self.hosts.order_statistic;
                    self.call(h, &[values, n, p])
                } else {
                    let kind = match acc.vd {
                        DType::F32 => KeyKind::F32,
                        DType::U8 | DType::Bool => KeyKind::U8,
                        DType::U16 => KeyKind::U16,
                        _ => KeyKind::Int,
                    };
                    let kind = self.b.ins().iconst(types::I64, kind.code());
                    let h = self.hosts.order_statistic_keys;
                    self.call(h, &[values, n, p, kind])
                };
                result.ok_or_else(|| JitError::codegen("order_statistic returns a value"))?
            }
            (kind, _) => return Err(JitError::codegen(format!("no accumulator for {kind:?}"))),
        };
        let stat = if acc.counted {
            self.b.ins().select(empty, nan, stat)
        } else {
            stat
        };
        Ok(self.cast(stat, DType::F64, red.dtype))
    }

    /// The statistic of a network's ranked values `lo` and `hi` (f64, scalar or f64x2), op
    /// for op as `rumba_plan::running` and the evaluator compute it.
    pub(super) fn order_value(&mut self, net: &Network, lo: Value, hi: Value) -> Value {
        let ty = self.b.func.dfg.value_type(lo);
        let splat = |t: &mut Self, x: f64| {
            let c = t.b.ins().f64const(x);
            if ty == types::F64X2 { t.b.ins().splat(ty, c) } else { c }
        };
        if net.percentile {
            let d = self.b.ins().fsub(hi, lo);
            let t = splat(self, net.t);
            let d = self.b.ins().fmul(d, t);
            self.b.ins().fadd(lo, d)
        } else if net.t == 0.0 {
            lo
        } else {
            let sum = self.b.ins().fadd(lo, hi);
            let two = splat(self, 2.0);
            self.b.ins().fdiv(sum, two)
        }
    }

    /// `rumba_ir::numerics::var_from_integer_moments` of i64 `n`, `s1`, `s2`, op for op.
    fn var_from_integer_moments(&mut self, n: Value, s1: Value, s2: Value) -> Value {
        let ns2 = self.b.ins().imul(n, s2);
        let s1s1 = self.b.ins().imul(s1, s1);
        let d = self.b.ins().isub(ns2, s1s1);
        let d = self.b.ins().fcvt_from_sint(types::F64, d);
        let nf = self.b.ins().fcvt_from_sint(types::F64, n);
        let n2 = self.b.ins().fmul(nf, nf);
        self.b.ins().fdiv(d, n2)
    }

    /// `rumba_ir::numerics::var_from_shifted_sums` of f64 (scalar or f64x2) `n`, `s1`, `s2`,
    /// op for op.
    pub(super) fn var_from_shifted_sums(&mut self, n: Value, s1: Value, s2: Value) -> Value {
        let m = self.b.ins().fdiv(s1, n);
        let s1m = self.b.ins().fmul(s1, m);
        let dev = self.b.ins().fsub(s2, s1m);
        let var = self.b.ins().fdiv(dev, n);
        let ty = self.b.func.dfg.value_type(var);
        let zero = if ty == types::F64X2 {
            let z = self.b.ins().f64const(0.0);
            self.b.ins().splat(types::F64X2, z)
        } else {
            self.b.ins().f64const(0.0)
        };
        // A negative variance (rounding) is 0; NaN stays NaN.
        let negative = self.b.ins().fcmp(FloatCC::LessThan, var, zero);
        if ty == types::F64X2 {
            let negative = self.vcast_bits(types::F64X2, negative);
            self.b.ins().bitselect(negative, zero, var)
        } else {
            self.b.ins().select(negative, zero, var)
        }
    }

    /// Reports reduction `r` as failed when `cond` holds (an integer min/max without a value).
    fn report_if(&mut self, cond: Value, r: usize) {
        let report = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(cond, report, &[], done, &[]);
        self.b.switch_to_block(report);
        // Only the test above jumps here.
        self.b.seal_block(report);
        let f = MemFlagsData::trusted();
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
    }
}
