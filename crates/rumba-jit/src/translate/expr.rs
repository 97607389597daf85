//! Scalar code for one expression of the kernel's DAG at the current point, with the
//! semantics of the plan evaluator (and so of the interpreter): typed arithmetic, saturating
//! casts, NaN-propagating min/max (up to the sign of a zero and NaN payloads, DESIGN §5), IEEE
//! comparisons.

use super::{Translator, ty, vector};
use crate::JitError;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use rumba_ir::DType;
use rumba_ir::op::{BinaryOp, UnaryOp};
use rumba_plan::{Affine, Expr, ExprId};

impl Translator<'_, '_> {
    /// The value of expression `e` at the current coordinates.
    pub(super) fn value(&mut self, e: ExprId) -> Result<Value, JitError> {
        if let Some(&v) = self.memo.get(&e).or_else(|| self.fixed.get(&e)) {
            return Ok(v);
        }
        // Operands first, in index order, so each one below is a memo hit: no recursion
        // depth grows with the kernel (a 100,000-op chain translates).
        let known = |t: &Self, x: ExprId| t.memo.contains_key(&x) || t.fixed.contains_key(&x);
        for x in vector::pending(self.kernel, e, |x| known(self, x)) {
            self.value_of(x)?;
        }
        self.value_of(e)
    }

    /// The value of `e`, whose operands' values are known.
    fn value_of(&mut self, e: ExprId) -> Result<Value, JitError> {
        let node = &self.kernel.exprs[e.0 as usize];
        let dtype = node.dtype;
        let v = match node.expr.clone() {
            Expr::Load { load } => {
                let acc = self.loads[load as usize].clone();
                let addr = self.address(&acc);
                self.b.ins().load(ty(dtype), MemFlagsData::trusted(), addr, 0)
            }
            Expr::Param { param } => self.params[param.0 as usize],
            Expr::Const { value } => self.constant(dtype, value.0),
            Expr::Unary { op, x } => {
                let xv = self.value(x)?;
                let xd = self.kernel.exprs[x.0 as usize].dtype;
                self.unary(op, xv, xd)?
            }
            Expr::Binary { op, a, b } => {
                let (av, bv) = (self.value(a)?, self.value(b)?);
                let d = self.kernel.exprs[a.0 as usize].dtype;
                self.binary(op, av, bv, d)
            }
            Expr::Select { cond, a, b } => {
                let (c, av, bv) = (self.value(cond)?, self.value(a)?, self.value(b)?);
                self.b.ins().select(c, av, bv)
            }
            Expr::NanToNum { x, nan, posinf, neginf } => {
                let xv = self.value(x)?;
                self.nan_to_num(xv, dtype, nan.0, posinf.0, neginf.0)
            }
            Expr::Cast { x } => {
                let xv = self.value(x)?;
                let from = self.kernel.exprs[x.0 as usize].dtype;
                self.cast(xv, from, dtype)
            }
            Expr::InSpans { table, row, col } => {
                let (r, c) = (self.affine(&row), self.affine(&col));
                let addr = self.b.ins().iconst(self.ptr, self.span_addrs.tables[table as usize]);
                let f = self.hosts.in_spans;
                self.call(f, &[addr, r, c])
                    .ok_or_else(|| JitError::codegen("in_spans returns a value"))?
            }
            Expr::Acc { reduction } => {
                return Err(JitError::codegen(format!("acc r{reduction} used outside the epilogue")));
            }
        };
        self.memo.insert(e, v);
        Ok(v)
    }

    /// An affine function of the current coordinates and params.
    pub(super) fn affine(&mut self, a: &Affine) -> Value {
        let mut v = self.b.ins().iconst(types::I64, a.offset);
        for (axis, &c) in a.coefs.iter().enumerate() {
            if let (true, Some(i)) = (c != 0, self.coords[axis]) {
                let t = self.b.ins().imul_imm_s(i, c);
                v = self.b.ins().iadd(v, t);
            }
        }
        for &(p, c) in &a.params {
            let pv = self.b.ins().fcvt_to_sint_sat(types::I64, self.params[p.0 as usize]);
            let t = self.b.ins().imul_imm_s(pv, c);
            v = self.b.ins().iadd(v, t);
        }
        v
    }

    pub(super) fn constant(&mut self, dtype: DType, v: f64) -> Value {
        match dtype {
            DType::F32 => self.b.ins().f32const(v as f32),
            DType::F64 => self.b.ins().f64const(v),
            DType::Bool => self.b.ins().iconst(types::I8, i64::from(v != 0.0)),
            DType::U8 | DType::U16 | DType::I32 => self.b.ins().iconst(ty(dtype), v as i64),
        }
    }

    /// A value as stored in memory (every dtype is stored as its register form).
    pub(super) fn memory_form(&mut self, v: Value, _dtype: DType) -> Value {
        v
    }

    fn unary(&mut self, op: UnaryOp, x: Value, d: DType) -> Result<Value, JitError> {
        Ok(match (op, d) {
            (UnaryOp::IsNan, DType::F32 | DType::F64) => self.b.ins().fcmp(FloatCC::Unordered, x, x),
            (UnaryOp::IsNan, _) => self.b.ins().iconst(types::I8, 0),
            (UnaryOp::Neg, DType::F32 | DType::F64) => self.b.ins().fneg(x),
            (UnaryOp::Neg, DType::I32) => self.b.ins().ineg(x),
            (UnaryOp::Abs, DType::F32 | DType::F64) => self.b.ins().fabs(x),
            (UnaryOp::Abs, DType::I32) => self.b.ins().iabs(x),
            (UnaryOp::Abs, DType::U8 | DType::U16) => x,
            (UnaryOp::Sqrt, DType::F32 | DType::F64) => self.b.ins().sqrt(x),
            (UnaryOp::Exp | UnaryOp::Log, DType::F32 | DType::F64) => {
                let h = self.hosts;
                let f = match (op, d) {
                    (UnaryOp::Exp, DType::F32) => h.exp_f32,
                    (UnaryOp::Exp, _) => h.exp_f64,
                    (_, DType::F32) => h.ln_f32,
                    _ => h.ln_f64,
                };
                self.call(f, &[x])
                    .ok_or_else(|| JitError::codegen("math functions return a value"))?
            }
            _ => return Err(JitError::unsupported(format!("{op:?} of {d}"))),
        })
    }

    fn binary(&mut self, op: BinaryOp, a: Value, b: Value, d: DType) -> Value {
        let float = d.is_float();
        let signed = d == DType::I32;
        let ins = self.b.ins();
        match op {
            BinaryOp::Add => ins.fadd(a, b),
            BinaryOp::Sub => ins.fsub(a, b),
            BinaryOp::Mul => ins.fmul(a, b),
            BinaryOp::Div => ins.fdiv(a, b),
            BinaryOp::Min | BinaryOp::Max => self.extreme(op == BinaryOp::Max, a, b, d),
            cmp if float => ins.fcmp(float_cc(cmp), a, b),
            cmp => ins.icmp(int_cc(cmp, signed), a, b),
        }
    }

    /// `min`/`max` of `p` (the earlier value) and `q`: integers as the evaluator (the better
    /// one, ties keep `p`, so equal bits either way); floats by [`Translator::fextreme`], the
    /// evaluator's rule up to the sign of a zero and NaN payloads (DESIGN §5).
    pub(super) fn extreme(&mut self, max: bool, p: Value, q: Value, d: DType) -> Value {
        if d.is_float() {
            return self.fextreme(max, p, q);
        }
        let better = int_cc(if max { BinaryOp::Gt } else { BinaryOp::Lt }, d == DType::I32);
        let better = self.b.ins().icmp(better, q, p);
        self.b.ins().select(better, q, p)
    }

    fn nan_to_num(&mut self, x: Value, d: DType, nan: f64, posinf: f64, neginf: f64) -> Value {
        if !d.is_float() {
            return x;
        }
        let (nan, posinf, neginf) = (
            self.constant(d, nan),
            self.constant(d, posinf),
            self.constant(d, neginf),
        );
        let (pinf, ninf) = (self.constant(d, f64::INFINITY), self.constant(d, f64::NEG_INFINITY));
        let is_p = self.b.ins().fcmp(FloatCC::Equal, x, pinf);
        let r = self.b.ins().select(is_p, posinf, x);
        let is_n = self.b.ins().fcmp(FloatCC::Equal, x, ninf);
        let r = self.b.ins().select(is_n, neginf, r);
        let is_nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        self.b.ins().select(is_nan, nan, r)
    }

    /// The cast rule: float→int truncates and saturates (NaN → 0), int→int saturates, to
    /// bool is `!= 0`, bool is 0/1, float↔float rounds to nearest.
    pub(super) fn cast(&mut self, x: Value, from: DType, to: DType) -> Value {
        if from == to {
            return x;
        }
        let ins = self.b.ins();
        match (from, to) {
            (DType::F32, DType::F64) => ins.fpromote(types::F64, x),
            (DType::F64, DType::F32) => ins.fdemote(types::F32, x),
            (f, DType::Bool) if f.is_float() => {
                let zero = self.constant(f, 0.0);
                self.b.ins().fcmp(FloatCC::NotEqual, x, zero)
            }
            (_, DType::Bool) => ins.icmp_imm_s(IntCC::NotEqual, x, 0),
            (f, t) if f.is_float() => {
                let wide = ins.fcvt_to_sint_sat(types::I64, x);
                self.clamp_int(wide, t)
            }
            (f, t) if t.is_float() => {
                let wide = self.widen_int(x, f);
                if f == DType::I32 {
                    self.b.ins().fcvt_from_sint(ty(t), wide)
                } else {
                    self.b.ins().fcvt_from_uint(ty(t), wide)
                }
            }
            (f, t) => {
                let wide = self.widen_int(x, f);
                self.clamp_int(wide, t)
            }
        }
    }

    /// An integer (or bool) value as i64.
    fn widen_int(&mut self, x: Value, from: DType) -> Value {
        match from {
            DType::I32 => self.b.ins().sextend(types::I64, x),
            _ => self.b.ins().uextend(types::I64, x),
        }
    }

    /// An i64 clamped to the range of integer dtype `to` and narrowed to it.
    fn clamp_int(&mut self, wide: Value, to: DType) -> Value {
        let (lo, hi) = match to {
            DType::U8 => (0, i64::from(u8::MAX)),
            DType::U16 => (0, i64::from(u16::MAX)),
            DType::I32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
            _ => (0, 1),
        };
        let lo = self.b.ins().iconst(types::I64, lo);
        let hi = self.b.ins().iconst(types::I64, hi);
        let v = self.b.ins().smax(wide, lo);
        let v = self.b.ins().smin(v, hi);
        self.b.ins().ireduce(ty(to), v)
    }
}

/// The condition of comparison `op` between floats (ordered: false when either is NaN, except
/// `ne`).
pub(super) fn float_cc(op: BinaryOp) -> FloatCC {
    match op {
        BinaryOp::Lt => FloatCC::LessThan,
        BinaryOp::Le => FloatCC::LessThanOrEqual,
        BinaryOp::Gt => FloatCC::GreaterThan,
        BinaryOp::Ge => FloatCC::GreaterThanOrEqual,
        BinaryOp::Eq => FloatCC::Equal,
        _ => FloatCC::NotEqual,
    }
}

/// The condition of comparison `op` between integers, signed or not.
pub(super) fn int_cc(op: BinaryOp, signed: bool) -> IntCC {
    let cc = match op {
        BinaryOp::Lt => IntCC::SignedLessThan,
        BinaryOp::Le => IntCC::SignedLessThanOrEqual,
        BinaryOp::Gt => IntCC::SignedGreaterThan,
        BinaryOp::Ge => IntCC::SignedGreaterThanOrEqual,
        BinaryOp::Eq => IntCC::Equal,
        _ => IntCC::NotEqual,
    };
    if signed { cc } else { cc.unsigned() }
}
