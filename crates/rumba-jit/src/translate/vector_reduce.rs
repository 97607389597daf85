//! Vector accumulators: a group of `4·unroll` consecutive lanes updated at once, on the
//! structure-of-arrays layout of `layout.rs`, lane by lane exactly as `accumulate.rs`.
//!
//! f64 fields hold a group as `2·unroll` f64x2 vectors; f32 values are widened exactly
//! (`fvpromote_low` of each half), and integers through `cvtdq2pd`, so sums and Welford's
//! update are bit-identical to the scalar ones. i32 sums of u8/u16 values stay in i32x4.
//! min/max keep the value's own lanes: f32x4 with NaN propagation (`Translator::fextreme`:
//! the evaluator's rule up to the sign of a zero and NaN payloads, DESIGN §5), i32x4 with
//! `smin`/`smax`, and u8/u16 best values at their native width (u8x16, u16x8) with
//! `umin`/`umax`, fed from the raw bytes of the load when the value is one.

use super::layout::{Field, ReducePlan, is_collect};
use super::network::{self, Network};
use super::reduce::Scratch;
use super::vector::LANES;
use super::vexpr::{Lanes, input_flags, vflags};
use super::{Sign, Translator, U16_MOMENT_SHIFT};
use crate::JitError;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value, types};
use rumba_ir::DType;
use rumba_ir::numerics::Moments;
use rumba_ir::op::ReduceKind;
use rumba_plan::running::Algorithm;
use rumba_plan::{Accumulate, Expr};

fn little() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// The vectors one field of a group occupies: (vector type, count, bytes per vector).
fn field_shape(field: Field, unroll: usize) -> (Type, usize, i64) {
    let bytes = LANES * unroll as i64 * field.size();
    let ty = match field {
        Field::F64 => types::F64X2,
        Field::I64 => types::I64X2,
        Field::F32 => types::F32X4,
        Field::I32 => types::I32X4,
        Field::U16 => types::I16X8,
        Field::U8 => types::I8X16,
    };
    if bytes >= 16 {
        (ty, (bytes / 16) as usize, 16)
    } else {
        (ty, 1, bytes)
    }
}

impl Translator<'_, '_> {
    /// Loads `n` bytes (4, 8 or 16) at `addr` into the low bytes of a vector of type `ty`.
    fn load_bytes(&mut self, ty: Type, addr: Value, offset: i32, n: i64, f: MemFlagsData) -> Value {
        match n {
            16 => self.b.ins().load(ty, f, addr, offset),
            8 => {
                let w = self.b.ins().load(types::I64, f, addr, offset);
                let v = self.b.ins().scalar_to_vector(types::I64X2, w);
                self.vcast_bits(ty, v)
            }
            _ => {
                let w = self.b.ins().load(types::I32, f, addr, offset);
                let v = self.b.ins().scalar_to_vector(types::I32X4, w);
                self.vcast_bits(ty, v)
            }
        }
    }

    /// Stores the low `n` bytes (4, 8 or 16) of vector `v` at `addr`.
    fn store_bytes(&mut self, v: Value, addr: Value, offset: i32, n: i64) {
        let f = vflags();
        match n {
            16 => {
                self.b.ins().store(f, v, addr, offset);
            }
            8 => {
                let w = self.b.ins().bitcast(types::I64X2, little(), v);
                let w = self.b.ins().extractlane(w, 0);
                self.b.ins().store(f, w, addr, offset);
            }
            _ => {
                let w = self.b.ins().bitcast(types::I32X4, little(), v);
                let w = self.b.ins().extractlane(w, 0);
                self.b.ins().store(f, w, addr, offset);
            }
        }
    }

    /// The vectors of field `f` of reduction `r` for the group of lanes starting at `q`.
    fn load_field(&mut self, plan: &ReducePlan, r: usize, f: usize, q: Value, s: &Scratch) -> Vec<Value> {
        let field = plan.layout.accs[r].all_fields()[f];
        let (ty, count, bytes) = field_shape(field, self.unroll);
        let addr = self.field_addr(plan, r, f, q, s);
        (0..count)
            .map(|k| self.load_bytes(ty, addr, (16 * k) as i32, bytes, vflags()))
            .collect()
    }

    fn store_field(&mut self, plan: &ReducePlan, r: usize, f: usize, q: Value, s: &Scratch, vs: &[Value]) {
        for (k, &v) in vs.iter().enumerate() {
            self.store_vector(plan, r, f, q, s, k, v);
        }
    }

    /// Stores vector `k` of field `f` (see [`Translator::store_field`]).
    #[allow(clippy::too_many_arguments)]
    fn store_vector(&mut self, plan: &ReducePlan, r: usize, f: usize, q: Value, s: &Scratch, k: usize, v: Value) {
        let field = plan.layout.accs[r].all_fields()[f];
        let (_, _, bytes) = field_shape(field, self.unroll);
        let addr = self.field_addr(plan, r, f, q, s);
        self.store_bytes(v, addr, (16 * k) as i32, bytes);
    }

    /// Feeds the group at point `i` of the innermost axis to every accumulator: loads them
    /// once, applies the `jam` consecutive points of the jammed axis in order, stores them.
    pub(super) fn vupdate_group(
        &mut self,
        plan: &ReducePlan,
        ranges: &[(Value, Value)],
        s: &Scratch,
        i: Value,
        jam: Option<(usize, usize)>,
    ) -> Result<(), JitError> {
        let q = self.lane(plan, ranges)?;
        let n = self.kernel.reductions.len();
        let mut regs: Vec<Vec<Vec<Value>>> = (0..n)
            .map(|r| {
                (0..register_fields(&plan.layout.accs[r]))
                    .map(|f| self.load_field(plan, r, f, q, s))
                    .collect()
            })
            .collect();
        let loaded = regs.clone();
        let (axis, steps) = jam.map_or((None, 1), |(a, n)| (Some(a), n));
        let base = axis.and_then(|a| self.coords[a]);
        // u8 sums: the jammed points are first added in u16 lanes, two points at a time (at
        // most 257 values of 255 fit), then widened once; integer sums are exact in any order.
        let mut pending: Vec<Option<Vec<Value>>> = vec![None; n];
        let mut unpaired: Vec<Option<Value>> = vec![None; n];
        // u16 moments: the jammed points are taken two at a time too (`u16_pair_moments`).
        let mut unpaired_u16: Vec<Option<Vec<Value>>> = vec![None; n];
        // Collected keys of the last points not yet stored, per reduction.
        let mut keys: Vec<Vec<Lanes>> = vec![Vec::new(); n];
        let t0 = self.uniform_count(plan);
        let t0 = self.b.ins().iadd_imm_s(t0, -1);
        for j in 0..steps {
            if let Some(a) = axis {
                self.jam_point(a, base, j);
            }
            self.substep(j);
            for (r, fields) in regs.iter_mut().enumerate() {
                if let Some(size) = plan.layout.accs[r]
                    .network
                    .as_ref()
                    .and(plan.layout.accs[r].position_size())
                {
                    // A network's values: stored at their native width, position-major.
                    let field = if size == 1 { Field::U8 } else { Field::U16 };
                    let value = self.kernel.reductions[r].value;
                    let x = self.native_value(value, i, field)?;
                    let slot = self.b.ins().iadd_imm_s(t0, j as i64);
                    let at = self.position_addr(plan, r, slot, q, s);
                    let (_, _, bytes) = field_shape(field, self.unroll);
                    for (k, v) in x.into_iter().enumerate() {
                        self.store_bytes(v, at, (16 * k) as i32, bytes);
                    }
                } else if is_collect(&plan.layout.accs[r].kind) {
                    let value = self.kernel.reductions[r].value;
                    let x = self.vvalue(value, i)?;
                    let k = self.vorder_keys(&x, plan.layout.accs[r].vd);
                    keys[r].push(k);
                    if keys[r].len() == 4 || j + 1 == steps {
                        let first = (j + 1 - keys[r].len()) as i64;
                        let slot = self.b.ins().iadd_imm_s(t0, first);
                        let done = std::mem::take(&mut keys[r]);
                        self.store_keys(plan, r, q, s, slot, &done);
                    }
                } else if steps > 1
                    && is_exact_moments(plan, r, DType::U16)
                    && self.unroll >= 2
                    && self.sign == Sign::Add
                    && self.step_points.is_none()
                {
                    let value = self.kernel.reductions[r].value;
                    let x = self.native_value(value, i, Field::U16)?;
                    match unpaired_u16[r].take() {
                        None if j + 1 < steps => unpaired_u16[r] = Some(x),
                        None => self.vupdate(plan, r, fields, i, (q, s))?,
                        Some(first) => {
                            let (sums, squares) = self.u16_pair_moments(&first, &x);
                            for (a, x) in fields[0].iter_mut().zip(sums) {
                                *a = self.b.ins().iadd(*a, x);
                            }
                            let wide = self.i64_pairs(&squares, DType::U16);
                            for (a, x) in fields[1].iter_mut().zip(wide) {
                                *a = self.b.ins().iadd(*a, x);
                            }
                        }
                    }
                } else if steps > 1
                    && (is_u8_sum(plan, r) || is_exact_moments(plan, r, DType::U8))
                    && self.sign == Sign::Add
                    && self.step_points.is_none()
                {
                    let value = self.kernel.reductions[r].value;
                    let x = self.native_value(value, i, Field::U8)?[0];
                    // Two points' bytes at a time: interleaved and summed pairwise (and, for
                    // moments, squared and summed pairwise into Σx²).
                    let pair = match unpaired[r].take() {
                        None if j + 1 < steps => {
                            unpaired[r] = Some(x);
                            continue;
                        }
                        None => None,
                        Some(first) => Some(first),
                    };
                    if is_exact_moments(plan, r, DType::U8) {
                        let squares = match pair {
                            Some(first) => self.u8_pair_squares(first, x),
                            None => {
                                let halves = self.u8_to_u16(x);
                                let wide = self.u16_to_i32(&halves);
                                wide.iter().map(|&v| self.b.ins().imul(v, v)).collect()
                            }
                        };
                        for (a, sq) in fields[1].iter_mut().zip(squares) {
                            *a = self.b.ins().iadd(*a, sq);
                        }
                    }
                    let sums = match pair {
                        None => self.u8_to_u16(x),
                        Some(first) => self.u8_pair_sums(first, x),
                    };
                    pending[r] = Some(match pending[r].take() {
                        Some(p) => p.iter().zip(&sums).map(|(&a, &b)| self.b.ins().iadd(a, b)).collect(),
                        None => sums,
                    });
                } else {
                    self.vupdate(plan, r, fields, i, (q, s))?;
                }
            }
        }
        if let Some(a) = axis {
            self.coords[a] = base;
        }
        for (r, p) in pending.into_iter().enumerate() {
            if let Some(p) = p {
                let wide = self.u16_to_i32(&p);
                for (a, x) in regs[r][0].iter_mut().zip(wide) {
                    *a = self.b.ins().iadd(*a, x);
                }
            }
        }
        // Vector by vector across the fields (the code computing a vector's fields is placed
        // at its stores, so its temporaries die there), and only what changed.
        for (r, (fields, loaded)) in regs.iter().zip(&loaded).enumerate() {
            let vectors = fields.iter().map(Vec::len).max().unwrap_or(0);
            for k in 0..vectors {
                for (f, (vs, was)) in fields.iter().zip(loaded).enumerate() {
                    if let Some(&v) = vs.get(k)
                        && was.get(k) != Some(&v)
                    {
                        self.store_vector(plan, r, f, q, s, k, v);
                    }
                }
            }
        }
        Ok(())
    }

    /// The 32-bit order keys (`crate::select`) of a group of values of dtype `d`: integer
    /// lanes as they are, f32 lanes' bits with the magnitude of negative numbers flipped.
    fn vorder_keys(&mut self, x: &Lanes, d: DType) -> Lanes {
        if d != DType::F32 {
            return x.clone();
        }
        x.iter()
            .map(|&v| {
                let bits = self.b.ins().bitcast(types::I32X4, little(), v);
                let sign = self.b.ins().sshr_imm_u(bits, 31);
                let magnitude = self.b.ins().ushr_imm_u(sign, 1);
                self.b.ins().bxor(bits, magnitude)
            })
            .collect()
    }

    /// Stores the keys of `points.len()` (1 to 4) consecutive reduced points for the group of
    /// lanes at `q` into each lane's values, from slot `slot`: four points are transposed
    /// (each lane's four keys become one 16-byte store), fewer are stored key by key.
    fn store_keys(&mut self, plan: &ReducePlan, r: usize, q: Value, s: &Scratch, slot: Value, points: &[Lanes]) {
        let size = plan.layout.accs[r].value_size();
        let lane_bytes = plan.layout.capacity * size;
        let base = self.values_addr(plan, r, q, s);
        let off = self.b.ins().imul_imm_s(slot, size);
        let base = self.b.ins().iadd(base, off);
        let f = vflags();
        for u in 0..self.unroll {
            let column: Vec<Value> = if points.len() == 4 {
                let rows: Vec<Value> = points.iter().map(|p| p[u]).collect();
                self.transpose4(&rows)
            } else {
                Vec::new()
            };
            for l in 0..LANES as usize {
                let lane = (LANES as usize * u + l) as i64;
                let at = self.b.ins().iadd_imm_s(base, lane * lane_bytes);
                if let Some(&keys) = column.get(l) {
                    self.b.ins().store(f, keys, at, 0);
                } else {
                    for (j, p) in points.iter().enumerate() {
                        let k = self.b.ins().extractlane(p[u], l as u8);
                        self.b.ins().store(f, k, at, (j as i64 * size) as i32);
                    }
                }
            }
        }
    }

    /// The transpose of four i32x4 rows: result `l` holds lane `l` of rows 0, 1, 2, 3.
    fn transpose4(&mut self, rows: &[Value]) -> Vec<Value> {
        // Byte shuffles of two i32x4 (indices ≥ 16 pick from the second): the SSE unpacks.
        const LO_32: [u8; 16] = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
        const HI_32: [u8; 16] = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];
        const LO_64: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
        const HI_64: [u8; 16] = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
        let bytes: Vec<Value> = rows
            .iter()
            .map(|&v| self.b.ins().bitcast(types::I8X16, little(), v))
            .collect();
        let shuffle = |t: &mut Self, a: Value, b: Value, mask: [u8; 16]| {
            let imm = t.b.func.dfg.immediates.push(ConstantData::from(mask.as_ref()));
            t.b.ins().shuffle(a, b, imm)
        };
        let t0 = shuffle(self, bytes[0], bytes[1], LO_32);
        let t1 = shuffle(self, bytes[0], bytes[1], HI_32);
        let t2 = shuffle(self, bytes[2], bytes[3], LO_32);
        let t3 = shuffle(self, bytes[2], bytes[3], HI_32);
        let cols = [
            shuffle(self, t0, t2, LO_64),
            shuffle(self, t0, t2, HI_64),
            shuffle(self, t1, t3, LO_64),
            shuffle(self, t1, t3, HI_64),
        ];
        cols.iter()
            .map(|&c| self.b.ins().bitcast(types::I32X4, little(), c))
            .collect()
    }

    /// One point's update of reduction `r`'s loaded fields.
    fn vupdate(
        &mut self,
        plan: &ReducePlan,
        r: usize,
        fields: &mut [Vec<Value>],
        i: Value,
        (q, s): (Value, &Scratch),
    ) -> Result<(), JitError> {
        let red = self.kernel.reductions[r].clone();
        let acc = plan.layout.accs[r].clone();
        match (&acc.kind, acc.fields[0]) {
            _ if matches!(acc.algorithm, Some(Algorithm::FloatSum | Algorithm::Shifted)) => {
                self.vrunning_float(plan, r, fields, i, (q, s))?;
            }
            (Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean), Field::I32) => {
                let x = self.vvalue(red.value, i)?;
                for (a, x) in fields[0].iter_mut().zip(x) {
                    *a = self.signed_iadd(*a, x);
                }
            }
            (Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean), Field::I64) => {
                let x = self.vvalue(red.value, i)?;
                let x = self.i64_pairs(&x, acc.vd);
                for (a, x) in fields[0].iter_mut().zip(x) {
                    *a = self.signed_iadd(*a, x);
                }
            }
            (Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean) | Accumulate::Weighted { .. }, _) => {
                let x = self.f64_value(red.value, i, acc.vd)?;
                let w = match red.kind {
                    Accumulate::Weighted { weight } => Some(self.vvalue(weight, i)?[0]),
                    _ => None,
                };
                for (a, x) in fields[0].iter_mut().zip(x) {
                    let term = match w {
                        Some(w) => self.b.ins().fmul(w, x),
                        None => x,
                    };
                    *a = self.b.ins().fadd(*a, term);
                }
            }
            (Accumulate::Stat(ReduceKind::Var | ReduceKind::Std), _) if acc.moments == Moments::Integer => {
                let mut x = self.vvalue(red.value, i)?;
                let mut vd = acc.vd;
                if vd == DType::U16 {
                    // The moments of x − 2¹⁵ (see `U16_MOMENT_SHIFT`).
                    let shift = self.b.ins().iconst(types::I32, -U16_MOMENT_SHIFT);
                    let shift = self.b.ins().splat(types::I32X4, shift);
                    x = x.iter().map(|&v| self.b.ins().iadd(v, shift)).collect();
                    vd = DType::I32;
                }
                if acc.fields[0] == Field::I32 {
                    for (a, &x) in fields[0].iter_mut().zip(&x) {
                        *a = self.signed_iadd(*a, x);
                    }
                } else {
                    let wide = self.i64_pairs(&x, vd);
                    for (a, x) in fields[0].iter_mut().zip(wide) {
                        *a = self.signed_iadd(*a, x);
                    }
                }
                if acc.fields[1] == Field::I32 {
                    // u8 values: squares ≤ 65025.
                    for (a, &x) in fields[1].iter_mut().zip(&x) {
                        let square = self.b.ins().imul(x, x);
                        *a = self.signed_iadd(*a, square);
                    }
                } else if matches!(acc.vd, DType::U8 | DType::U16) {
                    // u8 values and shifted u16 ones: squares at most 2³⁰, so the i32 product
                    // (`pmulld`) is the square, zero-extended into the i64 sums.
                    let squares: Vec<Value> = x.iter().map(|&x| self.b.ins().imul(x, x)).collect();
                    let wide = self.i64_pairs(&squares, DType::U16);
                    for (a, square) in fields[1].iter_mut().zip(wide) {
                        *a = self.signed_iadd(*a, square);
                    }
                } else {
                    let wide = self.i64_pairs(&x, vd);
                    for (a, x) in fields[1].iter_mut().zip(wide) {
                        let square = self.b.ins().imul(x, x);
                        *a = self.signed_iadd(*a, square);
                    }
                }
            }
            (Accumulate::Stat(ReduceKind::Var | ReduceKind::Std), _) => {
                let x = self.f64_value(red.value, i, acc.vd)?;
                // Every lane sees every point: the shift is taken at reduced index 0 (in a
                // group known to come later, kept as it is).
                let first = (!self.shift_taken).then(|| {
                    let k = self.uniform_count(plan);
                    let first = self
                        .b
                        .ins()
                        .icmp_imm_s(cranelift_codegen::ir::condcodes::IntCC::Equal, k, 1);
                    let all = self.b.ins().iconst(types::I64, -1);
                    let none = self.b.ins().iconst(types::I64, 0);
                    let first = self.b.ins().select(first, all, none);
                    let first = self.b.ins().splat(types::I64X2, first);
                    self.vcast_bits(types::F64X2, first)
                });
                for (p, x) in x.into_iter().enumerate() {
                    let a = match first {
                        Some(first) => self.b.ins().bitselect(first, x, fields[0][p]),
                        None => fields[0][p],
                    };
                    let d = self.b.ins().fsub(x, a);
                    let d2 = self.b.ins().fmul(d, d);
                    fields[0][p] = a;
                    fields[1][p] = self.b.ins().fadd(fields[1][p], d);
                    fields[2][p] = self.b.ins().fadd(fields[2][p], d2);
                }
            }
            (Accumulate::Stat(ReduceKind::Min | ReduceKind::Max), field) if acc.algorithm.is_some() => {
                // A running min/max (see `Translator::update`).
                if !self.rebuilding && self.sign == Sign::Remove {
                    return Ok(());
                }
                let x = match field {
                    Field::U8 | Field::U16 => self.native_value(red.value, i, field)?,
                    _ => self.vvalue(red.value, i)?,
                };
                if self.rebuilding {
                    let position = self.window_coordinate()?;
                    let at = self.position_addr(plan, r, position, q, s);
                    let (_, _, bytes) = field_shape(field, self.unroll);
                    for (k, v) in x.into_iter().enumerate() {
                        self.store_bytes(v, at, (16 * k) as i32, bytes);
                    }
                    return Ok(());
                }
                for (a, x) in fields[0].iter_mut().zip(x) {
                    *a = match field {
                        Field::U8 | Field::U16 if acc.is_max() => self.b.ins().umax(*a, x),
                        Field::U8 | Field::U16 => self.b.ins().umin(*a, x),
                        _ => self.vextreme(acc.is_max(), *a, x, acc.vd),
                    };
                }
            }
            (Accumulate::Stat(ReduceKind::Min | ReduceKind::Max), field @ (Field::U8 | Field::U16)) => {
                let x = self.native_value(red.value, i, field)?;
                for (a, x) in fields[0].iter_mut().zip(x) {
                    *a = if acc.is_max() {
                        self.b.ins().umax(*a, x)
                    } else {
                        self.b.ins().umin(*a, x)
                    };
                }
            }
            (Accumulate::Stat(ReduceKind::Min | ReduceKind::Max), _) => {
                let x = self.vvalue(red.value, i)?;
                for (a, x) in fields[0].iter_mut().zip(x) {
                    *a = self.vextreme(acc.is_max(), *a, x, acc.vd);
                }
            }
            (kind, _) => return Err(JitError::codegen(format!("no vector accumulator for {kind:?}"))),
        }
        Ok(())
    }

    /// The vector form of `Translator::running_float_update` for the group at `i`, pair by
    /// pair of f64 lanes (the counts are i64x2 in the same pairs).
    fn vrunning_float(
        &mut self,
        plan: &ReducePlan,
        r: usize,
        fields: &mut [Vec<Value>],
        i: Value,
        (q, s): (Value, &Scratch),
    ) -> Result<(), JitError> {
        let acc = plan.layout.accs[r].clone();
        let value = self.kernel.reductions[r].value;
        let x = self.f64_value(value, i, acc.vd)?;
        let splat = |t: &mut Self, v: f64| {
            let c = t.b.ins().f64const(v);
            t.b.ins().splat(types::F64X2, c)
        };
        let (pinf, ninf) = (splat(self, f64::INFINITY), splat(self, f64::NEG_INFINITY));
        let counts = acc.fields.len() - 3;
        // Finite lanes (|x| < ∞, false for NaN) are the common case: the NaN/±Inf counts stay
        // in scratch (`register_fields`) and are only updated, on a branch, when some lane of
        // the group is not finite.
        // x − x is 0 for finite x and NaN for NaN and ±Inf: two instructions, where |x| < ∞
        // needs a mask constant and two more.
        let finite: Vec<Value> = x
            .iter()
            .map(|&x| {
                let d = self.b.ins().fsub(x, x);
                let m = self.b.ins().fcmp(FloatCC::Ordered, d, d);
                self.vcast_bits(types::I64X2, m)
            })
            .collect();
        let all = finite[1..].iter().fold(finite[0], |a, &m| self.b.ins().band(a, m));
        let all = self.b.ins().vall_true(all);
        let (specials, join) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(all, join, &[], specials, &[]);
        self.b.switch_to_block(specials);
        // Only the test above jumps here.
        self.b.seal_block(specials);
        self.mark_specials(plan, s, None);
        let mut kinds: [Vec<Value>; 3] = Default::default();
        for &x in &x {
            kinds[0].push(self.b.ins().fcmp(FloatCC::Unordered, x, x));
            kinds[1].push(self.b.ins().fcmp(FloatCC::Equal, x, pinf));
            kinds[2].push(self.b.ins().fcmp(FloatCC::Equal, x, ninf));
        }
        for (f, masks) in kinds.into_iter().enumerate() {
            let mut c = self.load_field(plan, r, counts + f, q, s);
            for (c, mask) in c.iter_mut().zip(masks) {
                // A mask lane is −1 where the value is of the kind.
                let mask = self.vcast_bits(types::I64X2, mask);
                *c = match self.sign {
                    Sign::Add => self.b.ins().isub(*c, mask),
                    Sign::Remove => self.b.ins().iadd(*c, mask),
                };
            }
            self.store_field(plan, r, counts + f, q, s, &c);
        }
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(join);
        // The test and the specials are its predecessors, both emitted.
        self.b.seal_block(join);
        for (p, (x, finite)) in x.into_iter().zip(finite).enumerate() {
            let finite = self.vcast_bits(types::F64X2, finite);
            if acc.algorithm == Some(Algorithm::FloatSum) {
                // x where finite, +0.0 elsewhere.
                let term = self.b.ins().band(x, finite);
                fields[0][p] = self.signed_fadd(fields[0][p], term);
                continue;
            }
            let mut a = fields[0][p];
            if self.sign == Sign::Add {
                let unset = self.b.ins().fcmp(FloatCC::Unordered, a, a);
                let unset = self.vcast_bits(types::F64X2, unset);
                let take = self.b.ins().band(unset, finite);
                a = self.b.ins().bitselect(take, x, a);
                fields[0][p] = a;
            }
            let d = self.b.ins().fsub(x, a);
            let d = self.b.ins().band(d, finite);
            let d2 = self.b.ins().fmul(d, d);
            fields[1][p] = self.signed_fadd(fields[1][p], d);
            fields[2][p] = self.signed_fadd(fields[2][p], d2);
        }
        Ok(())
    }

    /// A u8 or u16 value of the group at its native width: the raw bytes of a load, or the
    /// i32 lanes narrowed back (they are in range, so narrowing is exact).
    pub(super) fn native_value(
        &mut self,
        e: rumba_plan::ExprId,
        i: Value,
        field: Field,
    ) -> Result<Vec<Value>, JitError> {
        let (ty, count, bytes) = field_shape(field, self.unroll);
        if let (Expr::Load { load }, false) = (&self.kernel.exprs[e.0 as usize].expr, self.vinvariant.contains_key(&e))
        {
            let size = self.loads[*load as usize].size;
            let off = self.b.ins().imul_imm_s(i, size);
            let addr = self.b.ins().iadd(self.rows[*load as usize], off);
            return Ok((0..count)
                .map(|k| self.load_bytes(ty, addr, (16 * k) as i32, bytes, input_flags()))
                .collect());
        }
        let lanes = self.vvalue(e, i)?;
        let at = |k: usize| lanes[k.min(lanes.len() - 1)];
        Ok(match field {
            Field::U8 => {
                let (a, b) = (self.b.ins().snarrow(at(0), at(1)), self.b.ins().snarrow(at(2), at(3)));
                vec![self.b.ins().unarrow(a, b)]
            }
            _ => (0..count)
                .map(|k| self.b.ins().unarrow(at(2 * k), at(2 * k + 1)))
                .collect(),
        })
    }

    /// The u8x16 bytes of a group (the low `4·unroll`) as u16x8 vectors, in lane order.
    fn u8_to_u16(&mut self, bytes: Value) -> Vec<Value> {
        let lo = self.b.ins().uwiden_low(bytes);
        if self.unroll <= 2 {
            return vec![lo];
        }
        vec![lo, self.b.ins().uwiden_high(bytes)]
    }

    /// The sums of two points' u8x16 bytes as u16x8 vectors in lane order: the bytes
    /// interleaved (`punpcklbw`/`punpckhbw`) and added in adjacent pairs (`pmaddubsw` by
    /// ones) — three instructions per point instead of four.
    fn u8_pair_sums(&mut self, a: Value, b: Value) -> Vec<Value> {
        // Byte shuffles of two u8x16 (indices ≥ 16 pick from the second).
        const LO_8: [u8; 16] = [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23];
        const HI_8: [u8; 16] = [8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31];
        let masks: &[[u8; 16]] = if self.unroll <= 2 { &[LO_8] } else { &[LO_8, HI_8] };
        masks
            .iter()
            .map(|mask| {
                let imm = self.b.func.dfg.immediates.push(ConstantData::from(mask.as_ref()));
                let both = self.b.ins().shuffle(a, b, imm);
                let lo = self.b.ins().uwiden_low(both);
                let hi = self.b.ins().uwiden_high(both);
                self.b.ins().iadd_pairwise(lo, hi)
            })
            .collect()
    }

    /// The sums of the squares of two points' u8x16 bytes, as i32x4 vectors in lane order:
    /// the bytes interleaved, widened to i16 and multiplied-and-added in adjacent pairs
    /// (`pmaddwd`), so each lane gets `a² + b²` (at most 2·255², exact in i32).
    fn u8_pair_squares(&mut self, a: Value, b: Value) -> Vec<Value> {
        const LO_8: [u8; 16] = [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23];
        const HI_8: [u8; 16] = [8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31];
        let masks: &[[u8; 16]] = if self.unroll <= 2 { &[LO_8] } else { &[LO_8, HI_8] };
        let mut out = Vec::with_capacity(self.unroll);
        for mask in masks {
            let imm = self.b.func.dfg.immediates.push(ConstantData::from(mask.as_ref()));
            let both = self.b.ins().shuffle(a, b, imm);
            for w in [self.b.ins().uwiden_low(both), self.b.ins().uwiden_high(both)] {
                let (lo, hi) = (self.b.ins().swiden_low(w), self.b.ins().swiden_high(w));
                let (lo, hi) = (self.b.ins().imul(lo, lo), self.b.ins().imul(hi, hi));
                out.push(self.b.ins().iadd_pairwise(lo, hi));
            }
        }
        out.truncate(self.unroll);
        out
    }

    /// The moments of two points' u16x8 values shifted by −2¹⁵ (`U16_MOMENT_SHIFT`), as i32x4
    /// vectors in lane order: the sums `ya + yb` and the sums of squares `ya² + yb²`, the
    /// latter to be read as u32 (at most 2³¹). The shifted values are i16; the two points are
    /// interleaved word by word (`punpcklwd`/`punpckhwd`) and multiplied-and-added in adjacent
    /// pairs (`pmaddwd`, by ones for the sums).
    fn u16_pair_moments(&mut self, a: &[Value], b: &[Value]) -> (Vec<Value>, Vec<Value>) {
        const LO_16: [u8; 16] = [0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23];
        const HI_16: [u8; 16] = [8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31];
        let sign = self.b.ins().iconst(types::I16, i64::from(i16::MIN));
        let sign = self.b.ins().splat(types::I16X8, sign);
        let (mut sums, mut squares) = (Vec::with_capacity(self.unroll), Vec::with_capacity(self.unroll));
        for (&va, &vb) in a.iter().zip(b) {
            let ya = self.b.ins().bxor(va, sign);
            let yb = self.b.ins().bxor(vb, sign);
            let (ya, yb) = (self.vcast_bits(types::I8X16, ya), self.vcast_bits(types::I8X16, yb));
            for mask in [LO_16, HI_16] {
                let imm = self.b.func.dfg.immediates.push(ConstantData::from(mask.as_ref()));
                let both = self.b.ins().shuffle(ya, yb, imm);
                let both = self.vcast_bits(types::I16X8, both);
                let (lo, hi) = (self.b.ins().swiden_low(both), self.b.ins().swiden_high(both));
                sums.push(self.b.ins().iadd_pairwise(lo, hi));
                let (lo2, hi2) = (self.b.ins().imul(lo, lo), self.b.ins().imul(hi, hi));
                squares.push(self.b.ins().iadd_pairwise(lo2, hi2));
            }
        }
        sums.truncate(self.unroll);
        squares.truncate(self.unroll);
        (sums, squares)
    }

    /// u16x8 vectors of a group as its `unroll` i32x4 lanes.
    fn u16_to_i32(&mut self, halves: &[Value]) -> Vec<Value> {
        let mut out = Vec::with_capacity(self.unroll);
        for &h in halves {
            out.push(self.b.ins().uwiden_low(h));
            out.push(self.b.ins().uwiden_high(h));
        }
        out.truncate(self.unroll);
        out
    }

    /// A group of integer lanes (of `d`) as i64x2 pairs (low half, high half).
    pub(super) fn i64_pairs(&mut self, lanes: &[Value], d: DType) -> Vec<Value> {
        let mut out = Vec::with_capacity(2 * lanes.len());
        for &v in lanes {
            if d == DType::I32 {
                out.extend([self.b.ins().swiden_low(v), self.b.ins().swiden_high(v)]);
            } else {
                out.extend([self.b.ins().uwiden_low(v), self.b.ins().uwiden_high(v)]);
            }
        }
        out
    }

    /// Expression `e` (of dtype `d`) for the group at `i` as f64x2 pairs, exactly. An f32 load
    /// reads each pair as 8 bytes (`movsd`) and widens it (`cvtps2pd`): the load port does
    /// the shuffle that splitting a 16-byte load would need.
    pub(super) fn f64_value(&mut self, e: rumba_plan::ExprId, i: Value, d: DType) -> Result<Vec<Value>, JitError> {
        if let (Expr::Load { load }, DType::F32, false) = (
            &self.kernel.exprs[e.0 as usize].expr,
            d,
            self.vinvariant.contains_key(&e),
        ) {
            let off = self.b.ins().imul_imm_s(i, 4);
            let addr = self.b.ins().iadd(self.rows[*load as usize], off);
            return Ok((0..2 * self.unroll)
                .map(|k| {
                    // Placed at its use (pure), the load folds into the `movsd`.
                    let pair = self.b.ins().load(types::F64, input_flags(), addr, (8 * k) as i32);
                    let pair = self.b.ins().scalar_to_vector(types::F64X2, pair);
                    let pair = self.b.ins().bitcast(types::F32X4, little(), pair);
                    self.b.ins().fvpromote_low(pair)
                })
                .collect());
        }
        let lanes = self.vvalue(e, i)?;
        Ok(self.f64_pairs(&lanes, d))
    }

    /// The vectors of an integer field (i32x4 or i64x2 lanes, each below 2^53) as f64x2
    /// pairs, exactly.
    fn exact_pairs(&mut self, vs: Vec<Value>, field: Field) -> Vec<Value> {
        match field {
            Field::I32 => self.f64_pairs(&vs, DType::I32),
            _ => vs
                .into_iter()
                .map(|v| self.b.ins().fcvt_from_sint(types::F64X2, v))
                .collect(),
        }
    }

    /// A group of f32 or integer lanes as f64x2 pairs, exactly (low half, high half).
    fn f64_pairs(&mut self, lanes: &[Value], d: DType) -> Vec<Value> {
        let high: [u8; 16] = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
        let mut out = Vec::with_capacity(2 * lanes.len());
        for &v in lanes {
            let hi = self.shuffle_bytes(v, v, high);
            for half in [v, hi] {
                let w = if d == DType::F32 {
                    let h = self.vcast_bits(types::F32X4, half);
                    self.b.ins().fvpromote_low(h)
                } else {
                    let h = self.vcast_bits(types::I32X4, half);
                    let wide = self.b.ins().swiden_low(h);
                    self.b.ins().fcvt_from_sint(types::F64X2, wide)
                };
                out.push(w);
            }
        }
        out
    }

    /// The finished values of reduction `r` for the epilogue's current group (`i`).
    pub(super) fn vacc(&mut self, r: u32, _i: Value) -> Result<Lanes, JitError> {
        if let (Some(rows), Some(q)) = (self.running_rows.clone(), self.epilogue_lane) {
            // A running window's finished row: f64 statistics, rounded to f32 below.
            let at = self.b.ins().imul_imm_s(q, 8);
            let addr = self.b.ins().iadd(rows.results[r as usize], at);
            let pairs: Vec<Value> = (0..2 * self.unroll)
                .map(|p| self.b.ins().load(types::F64X2, vflags(), addr, (16 * p) as i32))
                .collect();
            return Ok(self.f32_lanes(&pairs));
        }
        let (Some(plan), Some(q), Some(base)) = (self.reduce_plan.clone(), self.epilogue_lane, self.scratch_base)
        else {
            return Err(JitError::codegen(format!("acc r{r} outside a vector epilogue")));
        };
        let s = Scratch { base };
        let r = r as usize;
        let red = self.kernel.reductions[r].clone();
        let acc = plan.layout.accs[r].clone();
        if matches!(acc.algorithm, Some(Algorithm::FloatSum | Algorithm::Shifted)) && self.no_specials {
            // No NaN/±Inf in any window of the block (`Layout::specials`): every count is 0,
            // so the result is the plain one (`running_float_result` with zero counts).
            let n = self.b.ins().f64const(plan.layout.capacity as f64);
            let n = self.b.ins().splat(types::F64X2, n);
            let pairs: Vec<Value> = if acc.algorithm == Some(Algorithm::FloatSum) {
                let sums = self.load_field(&plan, r, 0, q, &s);
                match red.kind {
                    Accumulate::Stat(ReduceKind::Mean) => sums.into_iter().map(|v| self.b.ins().fdiv(v, n)).collect(),
                    _ => sums,
                }
            } else {
                let s1 = self.load_field(&plan, r, 1, q, &s);
                let s2 = self.load_field(&plan, r, 2, q, &s);
                s1.into_iter()
                    .zip(s2)
                    .map(|(s1, s2)| {
                        let var = self.var_from_shifted_sums(n, s1, s2);
                        match red.kind {
                            Accumulate::Stat(ReduceKind::Std) => self.b.ins().sqrt(var),
                            _ => var,
                        }
                    })
                    .collect()
            };
            return Ok(self.f32_lanes(&pairs));
        }
        if matches!(acc.algorithm, Some(Algorithm::FloatSum | Algorithm::Shifted)) {
            let fields: Vec<Vec<Value>> = (0..acc.fields.len())
                .map(|f| self.load_field(&plan, r, f, q, &s))
                .collect();
            let pairs: Vec<Value> = (0..fields[0].len())
                .map(|p| {
                    let pair: Vec<Value> = fields.iter().map(|f| f[p]).collect();
                    self.running_float_result(&plan, r, &pair)
                })
                .collect();
            return Ok(self.f32_lanes(&pairs));
        }
        if let Some(net) = &acc.network {
            return self.vnetwork(&plan, r, q, &s, net);
        }
        let n = self.b.ins().f64const(plan.layout.capacity as f64);
        let n = self.b.ins().splat(types::F64X2, n);
        let pairs = match (&acc.kind, acc.fields[0]) {
            (Accumulate::Stat(ReduceKind::Min | ReduceKind::Max), field) => {
                let addr = self.field_addr(&plan, r, 0, q, &s);
                let load = |t: &mut Self, addr: Value| -> Result<Lanes, JitError> {
                    Ok(match field {
                        Field::U8 => t.load_lanes(addr, DType::U8, vflags())?,
                        Field::U16 => t.load_lanes(addr, DType::U16, vflags())?,
                        _ => t.load_lanes(addr, acc.vd, vflags())?,
                    })
                };
                let mut best = load(self, addr)?;
                if acc.algorithm.is_some() {
                    // A running min/max: the suffix extreme of the current window position.
                    let position = self
                        .window_position
                        .ok_or_else(|| JitError::codegen("a running min/max outside its sweep"))?;
                    let at = self.position_addr(&plan, r, position, q, &s);
                    let suffix = load(self, at)?;
                    let d = if matches!(field, Field::U8 | Field::U16) {
                        DType::I32
                    } else {
                        acc.vd
                    };
                    best = suffix
                        .into_iter()
                        .zip(best)
                        .map(|(a, b)| self.vextreme(acc.is_max(), a, b, d))
                        .collect();
                }
                return Ok(best.into_iter().map(|v| self.vcast(v, acc.vd, red.dtype)).collect());
            }
            (Accumulate::Stat(ReduceKind::Mean), Field::I32) if small_integer_mean(acc.vd, plan.layout.capacity) => {
                // The sum s and the count n are integers below 2^24, exact in f32, so the f32
                // quotient is RN32(s/n); the evaluator's RN32(RN64(s/n)) is the same: RN64 can
                // only change the f32 rounding if it lands exactly on an f32 midpoint M ≠ s/n,
                // but |s/n − M| ≥ 2^(e−24)/n > 2^(e−53) = half an f64 ulp at M for n < 2^29.
                let n = self.b.ins().f32const(plan.layout.capacity as f32);
                let n = self.b.ins().splat(types::F32X4, n);
                let sums = self.load_field(&plan, r, 0, q, &s);
                return Ok(sums
                    .into_iter()
                    .map(|v| {
                        let f = self.b.ins().fcvt_from_sint(types::F32X4, v);
                        self.b.ins().fdiv(f, n)
                    })
                    .collect());
            }
            (Accumulate::Stat(ReduceKind::Mean), field) => {
                let sums = self.load_field(&plan, r, 0, q, &s);
                let sums = match field {
                    Field::I32 => self.f64_pairs(&sums, DType::I32),
                    // Below 2^53: exact.
                    Field::I64 => sums
                        .into_iter()
                        .map(|v| self.b.ins().fcvt_from_sint(types::F64X2, v))
                        .collect(),
                    _ => sums,
                };
                sums.into_iter().map(|v| self.b.ins().fdiv(v, n)).collect::<Vec<_>>()
            }
            (Accumulate::Stat(k @ (ReduceKind::Var | ReduceKind::Std)), _) => {
                let var: Vec<Value> = if acc.moments == Moments::Integer {
                    // Every integer here is below 2^53 (`vector_integer_moments`), so the f64
                    // operations are the exact integer ones and f64(D) is RN(D).
                    let s1 = self.load_field(&plan, r, 0, q, &s);
                    let s2 = self.load_field(&plan, r, 1, q, &s);
                    let (s1, s2) = (self.exact_pairs(s1, acc.fields[0]), self.exact_pairs(s2, acc.fields[1]));
                    let n2 = self.b.ins().fmul(n, n);
                    s1.into_iter()
                        .zip(s2)
                        .map(|(s1, s2)| {
                            let ns2 = self.b.ins().fmul(n, s2);
                            let s1s1 = self.b.ins().fmul(s1, s1);
                            let d = self.b.ins().fsub(ns2, s1s1);
                            self.b.ins().fdiv(d, n2)
                        })
                        .collect()
                } else {
                    let s1 = self.load_field(&plan, r, 1, q, &s);
                    let s2 = self.load_field(&plan, r, 2, q, &s);
                    s1.into_iter()
                        .zip(s2)
                        .map(|(s1, s2)| self.var_from_shifted_sums(n, s1, s2))
                        .collect()
                };
                var.into_iter()
                    .map(|v| if *k == ReduceKind::Std { self.b.ins().sqrt(v) } else { v })
                    .collect()
            }
            (Accumulate::Weighted { .. }, _) => self.load_field(&plan, r, 0, q, &s),
            (kind, _) => return Err(JitError::codegen(format!("no vector result for {kind:?}"))),
        };
        Ok(self.f32_lanes(&pairs))
    }

    /// The f32 lanes of a network's statistic for the group at `q`: the values of every
    /// position loaded at their native width, the network run on whole vectors
    /// (`umin`/`umax`), the two ranked vectors widened to i32 lanes and combined.
    fn vnetwork(
        &mut self,
        plan: &ReducePlan,
        r: usize,
        q: Value,
        s: &Scratch,
        net: &Network,
    ) -> Result<Lanes, JitError> {
        let u8s = plan.layout.accs[r].vd == DType::U8;
        let field = if u8s { Field::U8 } else { Field::U16 };
        let (ty, count, bytes) = field_shape(field, self.unroll);
        let mut rows: Vec<Vec<Value>> = (0..plan.layout.capacity)
            .map(|p| {
                let p = self.b.ins().iconst(types::I64, p);
                let at = self.position_addr(plan, r, p, q, s);
                (0..count)
                    .map(|k| self.load_bytes(ty, at, (16 * k) as i32, bytes, vflags()))
                    .collect()
            })
            .collect();
        for k in 0..count {
            let mut column: Vec<Value> = rows.iter().map(|row| row[k]).collect();
            network::run(&net.steps, &mut column, &mut |max, x, y| {
                if max {
                    self.b.ins().umax(x, y)
                } else {
                    self.b.ins().umin(x, y)
                }
            });
            for (row, v) in rows.iter_mut().zip(column) {
                row[k] = v;
            }
        }
        let widen = |t: &mut Self, native: &[Value]| -> Vec<Value> {
            let halves = if u8s { t.u8_to_u16(native[0]) } else { native.to_vec() };
            t.u16_to_i32(&halves)
        };
        let lo = widen(self, &rows[net.lo]);
        let hi = if net.hi == net.lo {
            lo.clone()
        } else {
            widen(self, &rows[net.hi])
        };
        if net.exact_in_f32() {
            // Values below 2¹⁶: a rank, or the half of a sum below 2¹⁷, is exact in f32 and
            // equals the evaluator's f64 result rounded to f32.
            let half = self.b.ins().f32const(0.5);
            let half = self.b.ins().splat(types::F32X4, half);
            return Ok(lo
                .into_iter()
                .zip(hi)
                .map(|(lo, hi)| {
                    let lo = self.b.ins().fcvt_from_sint(types::F32X4, lo);
                    if net.t == 0.0 {
                        return lo;
                    }
                    let hi = self.b.ins().fcvt_from_sint(types::F32X4, hi);
                    let sum = self.b.ins().fadd(lo, hi);
                    self.b.ins().fmul(sum, half)
                })
                .collect());
        }
        let (lo, hi) = (self.f64_pairs(&lo, DType::I32), self.f64_pairs(&hi, DType::I32));
        let pairs: Vec<Value> = lo
            .into_iter()
            .zip(hi)
            .map(|(lo, hi)| self.order_value(net, lo, hi))
            .collect();
        Ok(self.f32_lanes(&pairs))
    }

    /// f64x2 pairs rounded to f32, two pairs back into each f32x4.
    fn f32_lanes(&mut self, pairs: &[Value]) -> Lanes {
        let join: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
        pairs
            .chunks(2)
            .map(|p| {
                let (a, b) = (self.b.ins().fvdemote(p[0]), self.b.ins().fvdemote(p[1]));
                let v = self.shuffle_bytes(a, b, join);
                self.vcast_bits(types::F32X4, v)
            })
            .collect()
    }
}

/// Whether exact integer moments of lanes of `capacity` values of `vd` have a vector result:
/// `n·Σx²` and `(Σx)²` stay below 2⁵³ (`(capacity·max)² < 2⁵³`), so f64 arithmetic on them
/// is the integer arithmetic (see [`Translator::vacc`]).
pub(super) fn vector_integer_moments(vd: DType, capacity: i64) -> bool {
    let max = match vd {
        DType::U8 => i64::from(u8::MAX),
        DType::U16 => i64::from(u16::MAX),
        _ => return false,
    };
    capacity
        .checked_mul(max)
        .and_then(|m| m.checked_mul(m))
        .is_some_and(|m| m < 1 << 53)
}

/// How many of an accumulator's fields a vector update keeps in registers: all of them, but
/// for running float windows, whose NaN/±Inf counts change only on a rare branch and stay in
/// scratch (`Translator::vrunning_float`).
fn register_fields(acc: &super::layout::AccLayout) -> usize {
    match acc.algorithm {
        Some(Algorithm::FloatSum | Algorithm::Shifted) => acc.fields.len() - 3,
        _ => acc.fields.len(),
    }
}

/// Whether reduction `r` keeps exact integer moments of values of `vd` (u8: i32 sums and
/// squares; u16: an i32 sum and i64 squares).
fn is_exact_moments(plan: &ReducePlan, r: usize, vd: DType) -> bool {
    let acc = &plan.layout.accs[r];
    let squares = if vd == DType::U8 { Field::I32 } else { Field::I64 };
    matches!(acc.kind, Accumulate::Stat(ReduceKind::Var | ReduceKind::Std))
        && acc.moments == Moments::Integer
        && acc.fields == [Field::I32, squares]
        && acc.vd == vd
}

/// Whether reduction `r` sums u8 values in i32 lanes.
fn is_u8_sum(plan: &ReducePlan, r: usize) -> bool {
    let acc = &plan.layout.accs[r];
    matches!(acc.kind, Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean))
        && acc.fields.first() == Some(&Field::I32)
        && acc.vd == DType::U8
}

/// Whether every sum of `capacity` values of `vd` and `capacity` itself are below 2^24 (exact
/// in f32), so a mean can divide in f32 (see [`Translator::vacc`]).
fn small_integer_mean(vd: DType, capacity: i64) -> bool {
    let max = match vd {
        DType::U8 => i64::from(u8::MAX),
        DType::U16 => i64::from(u16::MAX),
        _ => return false,
    };
    capacity.checked_mul(max).is_some_and(|m| m < 1 << 24)
}
