//! Exact scalar semantics of the elementwise ops, per dtype — what
//! [`crate::fold_constants`] computes at compile time.
//!
//! Each value is held in its own Rust type and every op computes in that type (an f32
//! subtraction is `a - b` on two `f32`s, rounded to f32), exactly as the reference interpreter
//! computes it: `min`/`max` propagate NaN and return the first operand on a tie, casts go
//! through `f64` with Rust's `as` (truncate toward zero, saturate, NaN → 0; → bool is
//! `x != 0`). An operand combination validation never produces gives `None` ("do not fold").

use rumba_ir::DType;
use rumba_ir::op::{BinaryOp, UnaryOp};

/// One value of one dtype.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Scalar {
    Bool(bool),
    U8(u8),
    U16(u16),
    I32(i32),
    F32(f32),
    F64(f64),
}

use Scalar as S;

impl Scalar {
    /// `v` converted to `dtype` by the cast rule (exact when `v` is a value of `dtype`, as a
    /// `const` node's value is).
    pub(crate) fn new(v: f64, dtype: DType) -> Scalar {
        match dtype {
            DType::Bool => S::Bool(v != 0.0),
            DType::U8 => S::U8(v as u8),
            DType::U16 => S::U16(v as u16),
            DType::I32 => S::I32(v as i32),
            DType::F32 => S::F32(v as f32),
            DType::F64 => S::F64(v),
        }
    }

    /// The exact value as `f64` (bool → 0 or 1).
    pub(crate) fn to_f64(self) -> f64 {
        match self {
            S::Bool(v) => f64::from(u8::from(v)),
            S::U8(v) => f64::from(v),
            S::U16(v) => f64::from(v),
            S::I32(v) => f64::from(v),
            S::F32(v) => f64::from(v),
            S::F64(v) => v,
        }
    }

    /// The dtype of the value.
    pub(crate) fn dtype(self) -> DType {
        match self {
            S::Bool(_) => DType::Bool,
            S::U8(_) => DType::U8,
            S::U16(_) => DType::U16,
            S::I32(_) => DType::I32,
            S::F32(_) => DType::F32,
            S::F64(_) => DType::F64,
        }
    }

    /// Explicit conversion (`cast`).
    pub(crate) fn cast(self, to: DType) -> Scalar {
        Scalar::new(self.to_f64(), to)
    }
}

/// `op(x)`: `neg`/`abs` wrap on `i32::MIN`, `abs` is the identity on unsigned, math functions
/// take a float.
pub(crate) fn unary(op: UnaryOp, x: Scalar) -> Option<Scalar> {
    use UnaryOp as U;
    Some(match (op, x) {
        (U::IsNan, S::F32(v)) => S::Bool(v.is_nan()),
        (U::IsNan, S::F64(v)) => S::Bool(v.is_nan()),
        (U::IsNan, _) => S::Bool(false),
        (U::Neg, S::F32(v)) => S::F32(-v),
        (U::Neg, S::F64(v)) => S::F64(-v),
        (U::Neg, S::I32(v)) => S::I32(v.wrapping_neg()),
        (U::Abs, S::F32(v)) => S::F32(v.abs()),
        (U::Abs, S::F64(v)) => S::F64(v.abs()),
        (U::Abs, S::I32(v)) => S::I32(v.wrapping_abs()),
        (U::Abs, x @ (S::U8(_) | S::U16(_))) => x,
        (U::Sqrt, S::F32(v)) => S::F32(v.sqrt()),
        (U::Sqrt, S::F64(v)) => S::F64(v.sqrt()),
        (U::Exp, S::F32(v)) => S::F32(v.exp()),
        (U::Exp, S::F64(v)) => S::F64(v.exp()),
        (U::Log, S::F32(v)) => S::F32(v.ln()),
        (U::Log, S::F64(v)) => S::F64(v.ln()),
        _ => return None,
    })
}

/// The smaller (`max`: larger) of two values; NaN if either is NaN (the first NaN); the
/// first operand on a tie — so `min(-0.0, 0.0)` is `-0.0` and `min(0.0, -0.0)` is `0.0`.
fn extreme<T: PartialOrd + Copy>(max: bool, p: T, q: T) -> T {
    // `partial_cmp` with itself is `None` exactly for NaN.
    let is_nan = |v: T| v.partial_cmp(&v).is_none();
    if is_nan(p) {
        p
    } else if is_nan(q) || (max && q > p) || (!max && q < p) {
        q
    } else {
        p
    }
}

/// Applies `$body` to two operands of one dtype bound to `$x` and `$y`, wrapping the result
/// with the operand's variant; operands of different dtypes give `None`.
macro_rules! same_dtype {
    ($a:expr, $b:expr, |$x:ident, $y:ident| $body:expr) => {
        match ($a, $b) {
            (S::Bool($x), S::Bool($y)) => Some(S::Bool($body)),
            (S::U8($x), S::U8($y)) => Some(S::U8($body)),
            (S::U16($x), S::U16($y)) => Some(S::U16($body)),
            (S::I32($x), S::I32($y)) => Some(S::I32($body)),
            (S::F32($x), S::F32($y)) => Some(S::F32($body)),
            (S::F64($x), S::F64($y)) => Some(S::F64($body)),
            _ => None,
        }
    };
}

/// Compares two operands of one dtype → bool (IEEE: NaN unequal to everything).
macro_rules! compare {
    ($a:expr, $b:expr, $op:tt) => {
        match ($a, $b) {
            (S::Bool(x), S::Bool(y)) => Some(S::Bool(x $op y)),
            (S::U8(x), S::U8(y)) => Some(S::Bool(x $op y)),
            (S::U16(x), S::U16(y)) => Some(S::Bool(x $op y)),
            (S::I32(x), S::I32(y)) => Some(S::Bool(x $op y)),
            (S::F32(x), S::F32(y)) => Some(S::Bool(x $op y)),
            (S::F64(x), S::F64(y)) => Some(S::Bool(x $op y)),
            _ => None,
        }
    };
}

/// Arithmetic on two f32 or two f64 operands, in that dtype.
macro_rules! arithmetic {
    ($a:expr, $b:expr, $op:tt) => {
        match ($a, $b) {
            (S::F32(x), S::F32(y)) => Some(S::F32(x $op y)),
            (S::F64(x), S::F64(y)) => Some(S::F64(x $op y)),
            _ => None,
        }
    };
}

/// `a op b` for two operands of one dtype.
pub(crate) fn binary(op: BinaryOp, a: Scalar, b: Scalar) -> Option<Scalar> {
    use BinaryOp as B;
    match op {
        B::Add => arithmetic!(a, b, +),
        B::Sub => arithmetic!(a, b, -),
        B::Mul => arithmetic!(a, b, *),
        B::Div => arithmetic!(a, b, /),
        B::Min => same_dtype!(a, b, |x, y| extreme(false, x, y)),
        B::Max => same_dtype!(a, b, |x, y| extreme(true, x, y)),
        B::Lt => compare!(a, b, <),
        B::Le => compare!(a, b, <=),
        B::Gt => compare!(a, b, >),
        B::Ge => compare!(a, b, >=),
        B::Eq => compare!(a, b, ==),
        B::Ne => compare!(a, b, !=),
    }
}

/// `cond ? a : b` with a bool condition and branches of one dtype.
pub(crate) fn select(cond: Scalar, a: Scalar, b: Scalar) -> Option<Scalar> {
    let S::Bool(c) = cond else { return None };
    (a.dtype() == b.dtype()).then_some(if c { a } else { b })
}

/// NaN, +Inf and −Inf replaced by the given values rounded to the float dtype; the identity
/// on integers and bool.
pub(crate) fn nan_to_num(x: Scalar, nan: f64, posinf: f64, neginf: f64) -> Scalar {
    let v = x.to_f64();
    let replacement = if v.is_nan() {
        nan
    } else if v == f64::INFINITY {
        posinf
    } else if v == f64::NEG_INFINITY {
        neginf
    } else {
        return x;
    };
    Scalar::new(replacement, x.dtype())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_arithmetic_rounds_in_f32() {
        let (a, b) = (S::F32(16_777_216.0), S::F32(1.0));
        // In f64 the sum is 16777217; in f32 it rounds back to 16777216.
        assert_eq!(binary(BinaryOp::Add, a, b), Some(S::F32(16_777_216.0)));
        assert_eq!(
            binary(BinaryOp::Add, S::F64(16_777_216.0), S::F64(1.0)),
            Some(S::F64(16_777_217.0))
        );
        assert_eq!(binary(BinaryOp::Add, a, S::F64(1.0)), None);
    }

    #[test]
    fn min_max_propagate_nan_and_keep_the_first_on_ties() {
        let min = |a, b| binary(BinaryOp::Min, S::F64(a), S::F64(b)).unwrap().to_f64();
        assert!(min(f64::NAN, 1.0).is_nan() && min(1.0, f64::NAN).is_nan());
        assert_eq!(min(-0.0, 0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(min(0.0, -0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(binary(BinaryOp::Max, S::U8(3), S::U8(7)), Some(S::U8(7)));
    }

    #[test]
    fn casts_truncate_saturate_and_map_nan() {
        assert_eq!(S::F64(300.7).cast(DType::U8), S::U8(255));
        assert_eq!(S::F64(-3.9).cast(DType::I32), S::I32(-3));
        assert_eq!(S::F64(f64::NAN).cast(DType::U16), S::U16(0));
        assert_eq!(S::F64(f64::NAN).cast(DType::Bool), S::Bool(true));
        assert_eq!(S::F64(0.1).cast(DType::F32), S::F32(0.1));
        assert_eq!(unary(UnaryOp::Neg, S::I32(i32::MIN)), Some(S::I32(i32::MIN)));
        assert_eq!(unary(UnaryOp::Sqrt, S::U8(4)), None);
    }

    #[test]
    fn nan_to_num_rounds_replacements_to_the_dtype() {
        assert_eq!(
            nan_to_num(S::F32(f32::INFINITY), 0.0, 1e300, 0.0),
            S::F32(f32::INFINITY)
        );
        assert_eq!(nan_to_num(S::F32(f32::NAN), 0.1, 0.0, 0.0), S::F32(0.1));
        assert_eq!(nan_to_num(S::F64(2.0), 0.0, 0.0, 0.0), S::F64(2.0));
        assert_eq!(nan_to_num(S::U8(9), 0.0, 0.0, 0.0), S::U8(9));
    }
}
