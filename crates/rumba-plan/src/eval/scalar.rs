//! Typed scalar values and the elementwise semantics of [`rumba_ir::Op`], one value at a time.
//!
//! Every expression computes in its own dtype exactly as the reference interpreter does: f32
//! arithmetic rounds to f32 after each op; `neg`/`abs` wrap on `i32::MIN`; `min`/`max`
//! propagate NaN and keep the first operand on a tie; comparisons follow IEEE. Conversions
//! go through `f64`, which holds every value of every dtype exactly, by the `Cast` rule:
//! float→int truncates toward zero and saturates with NaN → 0 (Rust's `as`), → bool is
//! `x != 0` (NaN → true), → f32 rounds to nearest.

use rumba_ir::DType;
use rumba_ir::op::{BinaryOp, UnaryOp};

/// One value of one of the six dtypes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// bool.
    Bool(bool),
    /// u8.
    U8(u8),
    /// u16.
    U16(u16),
    /// i32.
    I32(i32),
    /// f32.
    F32(f32),
    /// f64.
    F64(f64),
}

/// Evaluates `$body` with the same-dtype payloads of two scalars bound to `$x` and `$y`;
/// `$else` for operands of different dtypes.
macro_rules! same_dtype {
    ($a:expr, $b:expr, ($x:ident, $y:ident) => $body:expr, else $else:expr) => {
        match ($a, $b) {
            (Scalar::Bool($x), Scalar::Bool($y)) => $body,
            (Scalar::U8($x), Scalar::U8($y)) => $body,
            (Scalar::U16($x), Scalar::U16($y)) => $body,
            (Scalar::I32($x), Scalar::I32($y)) => $body,
            (Scalar::F32($x), Scalar::F32($y)) => $body,
            (Scalar::F64($x), Scalar::F64($y)) => $body,
            _ => $else,
        }
    };
}

impl Scalar {
    /// The dtype of the value.
    pub fn dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::U8(_) => DType::U8,
            Scalar::U16(_) => DType::U16,
            Scalar::I32(_) => DType::I32,
            Scalar::F32(_) => DType::F32,
            Scalar::F64(_) => DType::F64,
        }
    }

    /// The exact `f64` value (bool → 0 or 1).
    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::Bool(v) => f64::from(u8::from(v)),
            Scalar::U8(v) => f64::from(v),
            Scalar::U16(v) => f64::from(v),
            Scalar::I32(v) => f64::from(v),
            Scalar::F32(v) => f64::from(v),
            Scalar::F64(v) => v,
        }
    }

    /// `v` converted to `dtype` by the `Cast` rule (see the module docs).
    pub fn from_f64(dtype: DType, v: f64) -> Scalar {
        match dtype {
            DType::Bool => Scalar::Bool(v != 0.0),
            DType::U8 => Scalar::U8(v as u8),
            DType::U16 => Scalar::U16(v as u16),
            DType::I32 => Scalar::I32(v as i32),
            DType::F32 => Scalar::F32(v as f32),
            DType::F64 => Scalar::F64(v),
        }
    }

    /// NaN of a float dtype; `None` for the others (they have no "no value" value).
    pub fn nan(dtype: DType) -> Option<Scalar> {
        match dtype {
            DType::F32 => Some(Scalar::F32(f32::NAN)),
            DType::F64 => Some(Scalar::F64(f64::NAN)),
            _ => None,
        }
    }

    /// Whether this is a NaN (never for integers and bool).
    pub fn is_nan(self) -> bool {
        match self {
            Scalar::F32(v) => v.is_nan(),
            Scalar::F64(v) => v.is_nan(),
            _ => false,
        }
    }

    /// The value of a bool scalar (`None` for other dtypes).
    pub fn as_bool(self) -> Option<bool> {
        match self {
            Scalar::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// Conversion to `to` by the `Cast` rule.
    pub fn cast(self, to: DType) -> Scalar {
        if self.dtype() == to {
            self
        } else {
            Scalar::from_f64(to, self.to_f64())
        }
    }
}

/// Whether the elementwise function `op` is defined on `x` (the interpreter's rules).
pub fn unary_supported(op: UnaryOp, x: DType) -> bool {
    match op {
        UnaryOp::IsNan => true,
        UnaryOp::Neg => matches!(x, DType::I32 | DType::F32 | DType::F64),
        UnaryOp::Abs => x != DType::Bool,
        UnaryOp::Sqrt | UnaryOp::Exp | UnaryOp::Log => x.is_float(),
    }
}

/// Whether `op` is defined on two operands of dtype `x`.
pub fn binary_supported(op: BinaryOp, x: DType) -> bool {
    !op.is_arithmetic() || x.is_float()
}

/// An elementwise function of one operand. `None` where [`unary_supported`] is false.
pub fn unary(op: UnaryOp, x: Scalar) -> Option<Scalar> {
    use Scalar as S;
    use UnaryOp as U;
    Some(match (op, x) {
        (U::IsNan, x) => S::Bool(x.is_nan()),
        (U::Neg, S::I32(v)) => S::I32(v.wrapping_neg()),
        (U::Neg, S::F32(v)) => S::F32(-v),
        (U::Neg, S::F64(v)) => S::F64(-v),
        (U::Abs, S::I32(v)) => S::I32(v.wrapping_abs()),
        (U::Abs, S::F32(v)) => S::F32(v.abs()),
        (U::Abs, S::F64(v)) => S::F64(v.abs()),
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

/// The smaller (or, with `max`, the larger) of two values; NaN if either is NaN (the first
/// NaN); on a tie the first operand.
fn extreme2<T: PartialOrd + Copy>(max: bool, p: T, q: T) -> T {
    // Only NaN is unordered with itself.
    let is_nan = |v: T| v.partial_cmp(&v).is_none();
    if is_nan(p) {
        p
    } else if is_nan(q) || (max && q > p) || (!max && q < p) {
        q
    } else {
        p
    }
}

/// An elementwise function of two same-dtype operands. `None` for operands of different
/// dtypes or where [`binary_supported`] is false.
pub fn binary(op: BinaryOp, a: Scalar, b: Scalar) -> Option<Scalar> {
    use BinaryOp as B;
    use Scalar as S;
    Some(match op {
        B::Add | B::Sub | B::Mul | B::Div => match (a, b) {
            (S::F32(x), S::F32(y)) => S::F32(arith(op, x, y)),
            (S::F64(x), S::F64(y)) => S::F64(arith(op, x, y)),
            _ => return None,
        },
        B::Min | B::Max => {
            let max = op == B::Max;
            same_dtype!(a, b, (x, y) => extreme2(max, x, y).wrap(), else return None)
        }
        B::Lt | B::Le | B::Gt | B::Ge | B::Eq | B::Ne => {
            same_dtype!(a, b, (x, y) => S::Bool(compare(op, x, y)), else return None)
        }
    })
}

/// The comparison `op` (IEEE for floats: `-0.0 == 0.0`, NaN unordered and unequal).
fn compare<T: PartialOrd>(op: BinaryOp, x: T, y: T) -> bool {
    match op {
        BinaryOp::Lt => x < y,
        BinaryOp::Le => x <= y,
        BinaryOp::Gt => x > y,
        BinaryOp::Ge => x >= y,
        BinaryOp::Eq => x == y,
        _ => x != y,
    }
}

/// IEEE `a op b` in the operands' own precision (no fusion).
fn arith<
    T: std::ops::Add<Output = T> + std::ops::Sub<Output = T> + std::ops::Mul<Output = T> + std::ops::Div<Output = T>,
>(
    op: BinaryOp,
    a: T,
    b: T,
) -> T {
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        _ => a / b,
    }
}

/// A payload wrapped back into a [`Scalar`] of its dtype.
trait Wrap: Copy {
    fn wrap(self) -> Scalar;
}
macro_rules! impl_wrap {
    ($($t:ty => $v:ident),*) => {$(
        impl Wrap for $t {
            fn wrap(self) -> Scalar { Scalar::$v(self) }
        }
    )*};
}
impl_wrap!(bool => Bool, u8 => U8, u16 => U16, i32 => I32, f32 => F32, f64 => F64);

/// NaN, +Inf and −Inf replaced by the given values rounded to the float dtype; the identity on
/// integers and bool.
pub fn nan_to_num(x: Scalar, nan: f64, posinf: f64, neginf: f64) -> Scalar {
    if !x.dtype().is_float() {
        return x;
    }
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
    Scalar::from_f64(x.dtype(), replacement)
}
