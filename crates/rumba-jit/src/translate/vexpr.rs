//! Vector code for one expression over a group of `4·unroll` consecutive points, with the
//! scalar semantics of `expr.rs` lane by lane (so bit-identical to the plan evaluator).
//!
//! A group is held as `unroll` vectors of 4 lanes ([`Lanes`]): f32 as f32x4; u8, u16 and i32
//! as i32x4 (u8 and u16 zero-extended, so every value stays in its dtype's range and signed
//! i32 compares and min/max are exact for them); bool as i32x4 masks of 0 or −1. Loads and
//! stores move exactly the group's bytes (a u8 group of 16 points is one 16-byte load).

use super::Translator;
use super::expr::{float_cc, int_cc};
use super::vector::{self, LANES};
use crate::JitError;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value, types};
use rumba_ir::DType;
use rumba_ir::op::{BinaryOp, UnaryOp};
use rumba_plan::{Expr, ExprId};

/// One group of points: `unroll` vectors of 4 lanes.
pub(super) type Lanes = Vec<Value>;

/// Flags of vector memory accesses: never trapping, but *not* aligned (buffers are only
/// element-aligned, and an aligned access could be folded into an SSE operand that faults).
pub(super) fn vflags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// Flags of vector loads from the kernel's *inputs*: as [`vflags`], and pure — a kernel never
/// writes a buffer it reads (`rumba_plan::verify` rejects it), so Cranelift may place such a
/// load at its use (fewer live registers, loads folded into instructions). Every such address
/// depends on the vector loop's index, so no load moves out of the loop that guards it.
pub(super) fn input_flags() -> MemFlagsData {
    vflags().with_readonly().with_can_move()
}

/// Flags of a bitcast between vector types of different lane shapes.
fn little() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// The vector type a group of `d` is held in.
pub(super) fn vty(d: DType) -> Type {
    if d == DType::F32 { types::F32X4 } else { types::I32X4 }
}

impl Translator<'_, '_> {
    /// The value of expression `e` for the group starting at point `i` of the vector axis.
    pub(super) fn vvalue(&mut self, e: ExprId, i: Value) -> Result<Lanes, JitError> {
        if let Some(v) = self.vmemo.get(&e).or_else(|| self.vinvariant.get(&e)) {
            return Ok(v.clone());
        }
        // Operands first, in index order, as in `value`: no recursion depth.
        let known = |t: &Self, x: ExprId| t.vmemo.contains_key(&x) || t.vinvariant.contains_key(&x);
        for x in vector::pending(self.kernel, e, |x| known(self, x)) {
            self.vvalue_of(x, i)?;
        }
        self.vvalue_of(e, i)
    }

    /// The lanes of `e`, whose operands' lanes are known.
    fn vvalue_of(&mut self, e: ExprId, i: Value) -> Result<Lanes, JitError> {
        let node = &self.kernel.exprs[e.0 as usize];
        let d = node.dtype;
        let v = match node.expr.clone() {
            Expr::Load { load } => {
                let size = self.loads[load as usize].size;
                let off = self.b.ins().imul_imm_s(i, size);
                let addr = self.b.ins().iadd(self.rows[load as usize], off);
                self.load_lanes(addr, d, input_flags())?
            }
            Expr::Unary { op, x } => {
                let xv = self.vvalue(x, i)?;
                let xd = self.kernel.exprs[x.0 as usize].dtype;
                self.per_lane(&xv, |t, v| t.vunary(op, v, xd))?
            }
            Expr::Binary { op, a, b } => {
                let (av, bv) = (self.vvalue(a, i)?, self.vvalue(b, i)?);
                let ad = self.kernel.exprs[a.0 as usize].dtype;
                (0..av.len()).map(|k| self.vbinary(op, av[k], bv[k], ad)).collect()
            }
            Expr::Select { cond, a, b } => {
                let c = self.vvalue(cond, i)?;
                // A branch of all-zero bits is an `and` (or `and not`) with the mask.
                if self.is_zero_bits(b) {
                    let av = self.vvalue(a, i)?;
                    (0..av.len()).map(|k| self.vmask_and(c[k], av[k], false)).collect()
                } else if self.is_zero_bits(a) {
                    let bv = self.vvalue(b, i)?;
                    (0..bv.len()).map(|k| self.vmask_and(c[k], bv[k], true)).collect()
                } else {
                    let (av, bv) = (self.vvalue(a, i)?, self.vvalue(b, i)?);
                    (0..av.len()).map(|k| self.vselect(c[k], av[k], bv[k])).collect()
                }
            }
            Expr::NanToNum { x, nan, posinf, neginf } => {
                let xv = self.vvalue(x, i)?;
                self.per_lane(&xv, |t, v| Ok(t.vnan_to_num(v, d, nan.0, posinf.0, neginf.0)))?
            }
            Expr::Cast { x } => {
                let xv = self.vvalue(x, i)?;
                let from = self.kernel.exprs[x.0 as usize].dtype;
                self.per_lane(&xv, |t, v| Ok(t.vcast(v, from, d)))?
            }
            Expr::Acc { reduction } => self.vacc(reduction, i)?,
            e => return Err(JitError::codegen(format!("no vector form for {e:?}"))),
        };
        self.vmemo.insert(e, v.clone());
        Ok(v)
    }

    fn per_lane(
        &mut self,
        xs: &[Value],
        mut f: impl FnMut(&mut Self, Value) -> Result<Value, JitError>,
    ) -> Result<Lanes, JitError> {
        xs.iter().map(|&x| f(self, x)).collect()
    }

    /// A scalar of `d` (the register form of `expr.rs`) in every lane of a group.
    pub(super) fn splat(&mut self, v: Value, d: DType, unroll: usize) -> Result<Lanes, JitError> {
        let s = match d {
            DType::F32 => self.b.ins().splat(types::F32X4, v),
            DType::I32 => self.b.ins().splat(types::I32X4, v),
            DType::U8 | DType::U16 => {
                let w = self.b.ins().uextend(types::I32, v);
                self.b.ins().splat(types::I32X4, w)
            }
            DType::Bool => {
                let w = self.b.ins().uextend(types::I32, v);
                let m = self.b.ins().ineg(w);
                self.b.ins().splat(types::I32X4, m)
            }
            // Only weights: one f64x2 per vector.
            DType::F64 => self.b.ins().splat(types::F64X2, v),
        };
        Ok(vec![s; unroll])
    }

    fn isplat(&mut self, v: i64) -> Value {
        let s = self.b.ins().iconst(types::I32, v);
        self.b.ins().splat(types::I32X4, s)
    }

    fn fsplat(&mut self, v: f64) -> Value {
        let s = self.b.ins().f32const(v as f32);
        self.b.ins().splat(types::F32X4, s)
    }

    /// A byte shuffle of two vectors (`mask` indexes their 32 bytes, `a` first).
    pub(super) fn shuffle_bytes(&mut self, a: Value, b: Value, mask: [u8; 16]) -> Value {
        let imm = self.b.func.dfg.immediates.push(ConstantData::from(mask.to_vec()));
        let a = self.b.ins().bitcast(types::I8X16, little(), a);
        let b = self.b.ins().bitcast(types::I8X16, little(), b);
        self.b.ins().shuffle(a, b, imm)
    }

    /// Bits of `v` as vector type `to`.
    pub(super) fn vcast_bits(&mut self, to: Type, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == to {
            v
        } else {
            self.b.ins().bitcast(to, little(), v)
        }
    }

    /// The group of `d` elements at `addr` (exactly `4·unroll` elements are read).
    pub(super) fn load_lanes(&mut self, addr: Value, d: DType, f: MemFlagsData) -> Result<Lanes, JitError> {
        let unroll = self.unroll;
        Ok(match d {
            DType::F32 | DType::I32 => (0..unroll)
                .map(|k| self.b.ins().load(vty(d), f, addr, (16 * k) as i32))
                .collect(),
            DType::U8 | DType::Bool => {
                let bytes = match unroll {
                    4 => self.b.ins().load(types::I8X16, f, addr, 0),
                    2 => {
                        let w = self.b.ins().load(types::I64, f, addr, 0);
                        let v = self.b.ins().scalar_to_vector(types::I64X2, w);
                        self.b.ins().bitcast(types::I8X16, little(), v)
                    }
                    _ => {
                        let w = self.b.ins().load(types::I32, f, addr, 0);
                        let v = self.b.ins().scalar_to_vector(types::I32X4, w);
                        self.b.ins().bitcast(types::I8X16, little(), v)
                    }
                };
                let halves = [self.b.ins().uwiden_low(bytes), self.b.ins().uwiden_high(bytes)];
                let mut out = Vec::with_capacity(unroll);
                for h in halves {
                    out.push(self.b.ins().uwiden_low(h));
                    out.push(self.b.ins().uwiden_high(h));
                }
                out.truncate(unroll);
                if d == DType::Bool {
                    let zero = self.isplat(0);
                    out = out
                        .into_iter()
                        .map(|v| self.b.ins().icmp(IntCC::NotEqual, v, zero))
                        .collect();
                }
                out
            }
            DType::U16 => {
                let mut out = Vec::with_capacity(unroll);
                if unroll == 1 {
                    out.push(self.b.ins().uload16x4(f, addr, 0));
                    return Ok(out);
                }
                for k in 0..unroll / 2 {
                    let h = self.b.ins().load(types::I16X8, f, addr, (16 * k) as i32);
                    out.push(self.b.ins().uwiden_low(h));
                    out.push(self.b.ins().uwiden_high(h));
                }
                out
            }
            DType::F64 => return Err(JitError::codegen("an f64 group (rejected when the phase is planned)")),
        })
    }

    /// Writes a group of `d` elements at `addr` (exactly `4·unroll` elements).
    pub(super) fn store_lanes(&mut self, addr: Value, d: DType, lanes: &[Value]) -> Result<(), JitError> {
        let f = vflags();
        match d {
            DType::F32 | DType::I32 => {
                for (k, &v) in lanes.iter().enumerate() {
                    self.b.ins().store(f, v, addr, (16 * k) as i32);
                }
            }
            DType::U8 | DType::Bool => {
                let one = self.isplat(1);
                let lanes: Vec<Value> = if d == DType::Bool {
                    lanes.iter().map(|&m| self.b.ins().band(m, one)).collect()
                } else {
                    lanes.to_vec()
                };
                let pair =
                    |t: &mut Self, a: usize, b: usize| t.b.ins().snarrow(lanes[a], lanes[b.min(lanes.len() - 1)]);
                match lanes.len() {
                    4 => {
                        let (lo, hi) = (pair(self, 0, 1), pair(self, 2, 3));
                        let bytes = self.b.ins().unarrow(lo, hi);
                        self.b.ins().store(f, bytes, addr, 0);
                    }
                    2 => {
                        let p = pair(self, 0, 1);
                        let bytes = self.b.ins().unarrow(p, p);
                        let w = self.b.ins().bitcast(types::I64X2, little(), bytes);
                        let w = self.b.ins().extractlane(w, 0);
                        self.b.ins().store(f, w, addr, 0);
                    }
                    _ => {
                        let p = pair(self, 0, 0);
                        let bytes = self.b.ins().unarrow(p, p);
                        let w = self.b.ins().bitcast(types::I32X4, little(), bytes);
                        let w = self.b.ins().extractlane(w, 0);
                        self.b.ins().store(f, w, addr, 0);
                    }
                }
            }
            DType::U16 => {
                if lanes.len() == 1 {
                    let h = self.b.ins().unarrow(lanes[0], lanes[0]);
                    let w = self.b.ins().bitcast(types::I64X2, little(), h);
                    let w = self.b.ins().extractlane(w, 0);
                    self.b.ins().store(f, w, addr, 0);
                    return Ok(());
                }
                for k in 0..lanes.len() / 2 {
                    let h = self.b.ins().unarrow(lanes[2 * k], lanes[2 * k + 1]);
                    self.b.ins().store(f, h, addr, (16 * k) as i32);
                }
            }
            DType::F64 => return Err(JitError::codegen("an f64 group (rejected when the phase is planned)")),
        }
        Ok(())
    }

    fn vunary(&mut self, op: UnaryOp, x: Value, d: DType) -> Result<Value, JitError> {
        Ok(match (op, d) {
            (UnaryOp::IsNan, DType::F32) => self.b.ins().fcmp(FloatCC::Unordered, x, x),
            (UnaryOp::IsNan, _) => self.isplat(0),
            (UnaryOp::Neg, DType::F32) => self.b.ins().fneg(x),
            (UnaryOp::Neg, DType::I32) => self.b.ins().ineg(x),
            (UnaryOp::Abs, DType::F32) => self.b.ins().fabs(x),
            (UnaryOp::Abs, DType::I32) => self.b.ins().iabs(x),
            (UnaryOp::Abs, DType::U8 | DType::U16) => x,
            (UnaryOp::Sqrt, DType::F32) => self.b.ins().sqrt(x),
            (UnaryOp::Exp | UnaryOp::Log, DType::F32) => {
                // No instruction: the host function lane by lane (the scalar path's call).
                let f = if op == UnaryOp::Exp {
                    self.hosts.exp_f32
                } else {
                    self.hosts.ln_f32
                };
                let mut v = x;
                for k in 0..LANES as u8 {
                    let lane = self.b.ins().extractlane(x, k);
                    let r = self
                        .call(f, &[lane])
                        .ok_or_else(|| JitError::codegen("math functions return a value"))?;
                    v = self.b.ins().insertlane(v, r, k);
                }
                v
            }
            _ => return Err(JitError::unsupported(format!("vector {op:?} of {d}"))),
        })
    }

    fn vbinary(&mut self, op: BinaryOp, a: Value, b: Value, d: DType) -> Value {
        let ins = self.b.ins();
        match op {
            BinaryOp::Add => ins.fadd(a, b),
            BinaryOp::Sub => ins.fsub(a, b),
            BinaryOp::Mul => ins.fmul(a, b),
            BinaryOp::Div => ins.fdiv(a, b),
            BinaryOp::Min | BinaryOp::Max => self.vextreme(op == BinaryOp::Max, a, b, d),
            cmp if d == DType::F32 => ins.fcmp(float_cc(cmp), a, b),
            cmp => {
                // Integers are non-negative or signed i32, so signed compares are exact; bool
                // masks are 0/−1, so their order is reversed (true < false as signed).
                let (a, b) = if d == DType::Bool { (b, a) } else { (a, b) };
                let cc = int_cc(cmp, true);
                ins.icmp(cc, a, b)
            }
        }
    }

    /// `min`/`max` as the evaluator: `p` if NaN, else `q` if NaN or strictly better, else `p`.
    /// The float form is one `minps`/`maxps` (which keeps `p` on ties and when `q` or `p` is
    /// NaN) plus the two NaN fix-ups.
    pub(super) fn vextreme(&mut self, max: bool, p: Value, q: Value, d: DType) -> Value {
        match d {
            DType::F32 => self.fextreme(max, p, q),
            // Masks: false < true is 0 > −1, so min is `and` and max is `or`.
            DType::Bool if max => self.b.ins().bor(p, q),
            DType::Bool => self.b.ins().band(p, q),
            // Equal integers are identical, so the tie rule does not matter.
            _ if max => self.b.ins().smax(p, q),
            _ => self.b.ins().smin(p, q),
        }
    }

    /// The NaN-propagating min (max) of floats `p` and `q`, scalars or f32x4 vectors, with `p`
    /// the earlier value (the accumulator). DESIGN §5's "bit for bit" ignores the sign of a
    /// zero result and NaN payloads, so the evaluator's rule (a NaN sticks, a tie keeps the
    /// first) needs only: a NaN where `q` is NaN, else `q < p ? q : p` — x86 `minps`' own
    /// choice, which keeps a NaN `p`. Three instructions instead of five.
    pub(super) fn fextreme(&mut self, max: bool, p: Value, q: Value) -> Value {
        let better = if max {
            self.b.ins().fcmp(FloatCC::LessThan, p, q)
        } else {
            self.b.ins().fcmp(FloatCC::LessThan, q, p)
        };
        let ty = self.b.func.dfg.value_type(p);
        if !ty.is_vector() {
            let r = self.b.ins().select(better, q, p);
            let q_nan = self.b.ins().fcmp(FloatCC::Unordered, q, q);
            return self.b.ins().select(q_nan, q, r);
        }
        let better = self.vcast_bits(ty, better);
        let r = self.b.ins().bitselect(better, q, p);
        // All-ones bits (a NaN) where `q` is NaN.
        let q_nan = self.b.ins().fcmp(FloatCC::Unordered, q, q);
        let q_nan = self.vcast_bits(ty, q_nan);
        self.b.ins().bor(r, q_nan)
    }

    /// Whether `e` is a constant whose register form is all zero bits (0, +0.0, false).
    fn is_zero_bits(&self, e: ExprId) -> bool {
        matches!(self.kernel.exprs[e.0 as usize].expr, Expr::Const { value } if value.0.to_bits() == 0)
    }

    /// `c ? v : 0` (or `c ? 0 : v` with `not`), bitwise.
    fn vmask_and(&mut self, c: Value, v: Value, not: bool) -> Value {
        let ty = self.b.func.dfg.value_type(v);
        let c = self.vcast_bits(ty, c);
        if not {
            self.b.ins().band_not(v, c)
        } else {
            self.b.ins().band(v, c)
        }
    }

    fn vselect(&mut self, c: Value, a: Value, b: Value) -> Value {
        let ty = self.b.func.dfg.value_type(a);
        let c = self.vcast_bits(ty, c);
        self.b.ins().bitselect(c, a, b)
    }

    /// `nan_to_num` on f32 lanes. With one replacement for all three cases it is a finiteness
    /// test (`x − x` ordered) and one blend (or an `and` when the replacement is +0.0).
    fn vnan_to_num(&mut self, x: Value, d: DType, nan: f64, posinf: f64, neginf: f64) -> Value {
        if d != DType::F32 {
            return x;
        }
        let bits = |v: f64| (v as f32).to_bits();
        if bits(nan) == bits(posinf) && bits(nan) == bits(neginf) {
            // x − x is 0 for every finite x and NaN for ±∞ and NaN.
            let zero_or_nan = self.b.ins().fsub(x, x);
            let finite = self.b.ins().fcmp(FloatCC::Ordered, zero_or_nan, zero_or_nan);
            if bits(nan) == 0 {
                let finite = self.vcast_bits(types::F32X4, finite);
                return self.b.ins().band(x, finite);
            }
            let with = self.fsplat(nan);
            return self.vselect(finite, x, with);
        }
        let (nan, posinf, neginf) = (self.fsplat(nan), self.fsplat(posinf), self.fsplat(neginf));
        let (pinf, ninf) = (self.fsplat(f64::INFINITY), self.fsplat(f64::NEG_INFINITY));
        let is_p = self.b.ins().fcmp(FloatCC::Equal, x, pinf);
        let r = self.vselect(is_p, posinf, x);
        let is_n = self.b.ins().fcmp(FloatCC::Equal, x, ninf);
        let r = self.vselect(is_n, neginf, r);
        let is_nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        self.vselect(is_nan, nan, r)
    }

    /// The cast rule of `expr.rs` on a vector: float→int truncates and saturates (NaN → 0),
    /// int→int saturates, to bool is `!= 0`, bool is 0/1, int→f32 rounds to nearest.
    pub(super) fn vcast(&mut self, x: Value, from: DType, to: DType) -> Value {
        let range = |d: DType| match d {
            DType::U8 => Some((0, i64::from(u8::MAX))),
            DType::U16 => Some((0, i64::from(u16::MAX))),
            _ => None,
        };
        match (from, to) {
            _ if from == to => x,
            (DType::F32, DType::Bool) => {
                let zero = self.fsplat(0.0);
                self.b.ins().fcmp(FloatCC::NotEqual, x, zero)
            }
            (_, DType::Bool) => {
                let zero = self.isplat(0);
                self.b.ins().icmp(IntCC::NotEqual, x, zero)
            }
            (DType::Bool, DType::F32) => {
                let one = self.isplat(i64::from(1.0f32.to_bits()));
                let bits = self.b.ins().band(x, one);
                self.vcast_bits(types::F32X4, bits)
            }
            (DType::Bool, _) => {
                let one = self.isplat(1);
                self.b.ins().band(x, one)
            }
            (_, DType::F32) => self.b.ins().fcvt_from_sint(types::F32X4, x),
            (f, t) => {
                let wide = if f == DType::F32 {
                    self.b.ins().fcvt_to_sint_sat(types::I32X4, x)
                } else {
                    x
                };
                match range(t) {
                    // Already in range: u8 → u16 and u8/u16 → i32 widen, f32 → i32 saturated.
                    Some((_, hi)) if range(f).is_some_and(|(_, fhi)| fhi <= hi) => wide,
                    Some((lo, hi)) => {
                        let (lo, hi) = (self.isplat(lo), self.isplat(hi));
                        let v = self.b.ins().smax(wide, lo);
                        self.b.ins().smin(v, hi)
                    }
                    None => wide,
                }
            }
        }
    }

    /// Stores every store of the kernel for the group starting at point `i`.
    pub(super) fn vstore_all(&mut self, i: Value) -> Result<(), JitError> {
        for (s, store) in self.kernel.stores.iter().enumerate() {
            let v = self.vvalue(store.value, i)?;
            let d = self.kernel.exprs[store.value.0 as usize].dtype;
            let size = self.stores[s].size;
            let off = self.b.ins().imul_imm_s(i, size);
            let addr = self.b.ins().iadd(self.store_rows[s], off);
            self.store_lanes(addr, d, &v)?;
        }
        Ok(())
    }
}
