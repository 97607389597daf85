//! Elementwise ops: unary functions, binary ops with NumPy broadcasting, `select`,
//! `nan_to_num` and `cast`.
//!
//! Validation has already made both operands of a binary op (and `a`, `b` of a select) one
//! dtype, so nothing here promotes; an operand combination validation would not produce is a
//! [`Fault::Type`], never a panic.

use crate::error::Fault;
use crate::value::Elem;
use ndarray::{ArrayD, ArrayViewD, Axis, Zip};
use rumba_ir::op::{BinaryOp, UnaryOp};
use rumba_ir::{Array, ArrayView, DType};

/// Matches two views of the same dtype, binding their typed ndarrays to `$x` and `$y`;
/// `$mismatch` is the value for operands of different dtypes.
macro_rules! same_dtype {
    ($a:expr, $b:expr, ($x:ident, $y:ident) => $body:expr, else $mismatch:expr) => {
        match ($a, $b) {
            (ArrayView::Bool($x), ArrayView::Bool($y)) => $body,
            (ArrayView::U8($x), ArrayView::U8($y)) => $body,
            (ArrayView::U16($x), ArrayView::U16($y)) => $body,
            (ArrayView::I32($x), ArrayView::I32($y)) => $body,
            (ArrayView::F32($x), ArrayView::F32($y)) => $body,
            (ArrayView::F64($x), ArrayView::F64($y)) => $body,
            _ => $mismatch,
        }
    };
}

/// NumPy broadcasting of several shapes (trailing axes aligned, extent 1 stretches).
pub(crate) fn broadcast_shape(shapes: &[&[usize]]) -> Option<Vec<usize>> {
    let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![1; rank];
    for shape in shapes {
        let skip = rank - shape.len();
        for (k, &extent) in shape.iter().enumerate() {
            let o = &mut out[skip + k];
            if *o == 1 {
                *o = extent;
            } else if extent != 1 && extent != *o {
                return None;
            }
        }
    }
    Some(out)
}

/// The broadcast shape of the operands, or a shape fault listing them.
fn common_shape(what: &str, shapes: &[&[usize]]) -> Result<Vec<usize>, Fault> {
    broadcast_shape(shapes).ok_or_else(|| Fault::Shape {
        what: format!("{what}: broadcasting the operands"),
        expected: "shapes that broadcast (NumPy rules)".to_owned(),
        found: shapes
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(" and "),
    })
}

/// `v` stretched to `shape` (a view: broadcast axes get stride 0).
pub(crate) fn stretch<'v, T>(v: &'v ArrayViewD<'_, T>, shape: &[usize]) -> Result<ArrayViewD<'v, T>, Fault> {
    v.broadcast(shape).ok_or_else(|| Fault::Shape {
        what: "broadcasting an operand".to_owned(),
        expected: format!("a shape that broadcasts to {shape:?}"),
        found: format!("{:?}", v.shape()),
    })
}

/// `v` stretched to `shape`, without the axes where `shape` is 1. ndarray's `Zip` runs its
/// inner loop along the last axis, which for (T, H, W, 1) stacks is one element long; dropping
/// the extent-1 axes first (and [`unsqueeze`] re-inserting them into the result) keeps the inner
/// loop long. It changes no value and no order.
fn stretch_squeezed<'v, T>(v: &'v ArrayViewD<'_, T>, shape: &[usize]) -> Result<ArrayViewD<'v, T>, Fault> {
    let mut s = stretch(v, shape)?;
    // Descending, so the remaining axis numbers stay valid.
    for k in (0..shape.len()).rev().filter(|&k| shape[k] == 1) {
        s = s.index_axis_move(Axis(k), 0);
    }
    Ok(s)
}

/// Re-inserts the extent-1 axes of `shape` that [`stretch_squeezed`] removed.
fn unsqueeze<R>(mut a: ArrayD<R>, shape: &[usize]) -> ArrayD<R> {
    // Ascending: every earlier unit axis is back in place when axis k is inserted.
    for k in (0..shape.len()).filter(|&k| shape[k] == 1) {
        a = a.insert_axis(Axis(k));
    }
    a
}

/// `f(a, b)` elementwise over the broadcast of `a` and `b` to `shape`.
fn zip2<A: Copy, B: Copy, R>(
    a: &ArrayViewD<'_, A>,
    b: &ArrayViewD<'_, B>,
    shape: &[usize],
    f: impl Fn(A, B) -> R,
) -> Result<ArrayD<R>, Fault> {
    let (a, b) = (stretch_squeezed(a, shape)?, stretch_squeezed(b, shape)?);
    Ok(unsqueeze(Zip::from(&a).and(&b).map_collect(|&p, &q| f(p, q)), shape))
}

/// Elementwise function of one operand. `neg`/`abs` wrap on `i32::MIN`; `abs` of an unsigned
/// integer is the identity; math functions need a float operand; `is_nan` of a non-float is
/// false.
pub(crate) fn unary(op: UnaryOp, x: &ArrayView<'_>) -> Result<Array, Fault> {
    use ArrayView as V;
    use UnaryOp as U;
    Ok(match (op, x) {
        (U::IsNan, x) => Array::Bool(rumba_ir::with_view!(x, a => a.mapv(Elem::is_nan))),
        (U::Neg, V::F32(a)) => Array::F32(a.mapv(|v| -v)),
        (U::Neg, V::F64(a)) => Array::F64(a.mapv(|v| -v)),
        (U::Neg, V::I32(a)) => Array::I32(a.mapv(i32::wrapping_neg)),
        (U::Abs, V::F32(a)) => Array::F32(a.mapv(f32::abs)),
        (U::Abs, V::F64(a)) => Array::F64(a.mapv(f64::abs)),
        (U::Abs, V::I32(a)) => Array::I32(a.mapv(i32::wrapping_abs)),
        (U::Abs, V::U8(a)) => Array::U8(a.to_owned()),
        (U::Abs, V::U16(a)) => Array::U16(a.to_owned()),
        (U::Sqrt, V::F32(a)) => Array::F32(a.mapv(f32::sqrt)),
        (U::Sqrt, V::F64(a)) => Array::F64(a.mapv(f64::sqrt)),
        (U::Exp, V::F32(a)) => Array::F32(a.mapv(f32::exp)),
        (U::Exp, V::F64(a)) => Array::F64(a.mapv(f64::exp)),
        (U::Log, V::F32(a)) => Array::F32(a.mapv(f32::ln)),
        (U::Log, V::F64(a)) => Array::F64(a.mapv(f64::ln)),
        (op, x) => {
            let expected = match op {
                U::Neg => "f32, f64 or i32",
                U::Abs => "a number",
                _ => "f32 or f64",
            };
            return Err(Fault::dtype(format!("operand of {op:?}"), expected, x.dtype()));
        }
    })
}

/// `a OP b` with a comparison operator over two same-dtype operands → bool (IEEE rules:
/// `-0.0 == 0.0`, NaN compares unequal to everything).
macro_rules! comparison {
    ($a:expr, $b:expr, $shape:expr, $mismatch:expr, $op:tt) => {
        same_dtype!($a, $b, (x, y) => Ok(Array::Bool(zip2(x, y, $shape, |p, q| p $op q)?)), else $mismatch)
    };
}

/// `a OP b` with an arithmetic operator over two f32 or two f64 operands (IEEE, no fusion).
macro_rules! arithmetic {
    ($a:expr, $b:expr, $shape:expr, $op:tt) => {
        match ($a, $b) {
            (ArrayView::F32(x), ArrayView::F32(y)) => Ok(Array::F32(zip2(x, y, $shape, |p, q| p $op q)?)),
            (ArrayView::F64(x), ArrayView::F64(y)) => Ok(Array::F64(zip2(x, y, $shape, |p, q| p $op q)?)),
            (a, b) => {
                let found = format!("{} and {}", a.dtype(), b.dtype());
                Err(Fault::dtype("operands of an arithmetic op", "two f32 or two f64 operands", found))
            }
        }
    };
}

/// Elementwise function of two same-dtype operands, broadcast NumPy-style.
pub(crate) fn binary(op: BinaryOp, a: &ArrayView<'_>, b: &ArrayView<'_>) -> Result<Array, Fault> {
    let shape = &common_shape(&format!("{op:?}"), &[a.shape(), b.shape()])?;
    let mismatch = || {
        let found = format!("{} and {}", a.dtype(), b.dtype());
        Err(Fault::dtype(
            format!("operands of {op:?}"),
            "two operands of one dtype",
            found,
        ))
    };
    match op {
        BinaryOp::Add => arithmetic!(a, b, shape, +),
        BinaryOp::Sub => arithmetic!(a, b, shape, -),
        BinaryOp::Mul => arithmetic!(a, b, shape, *),
        BinaryOp::Div => arithmetic!(a, b, shape, /),
        BinaryOp::Min => {
            same_dtype!(a, b, (x, y) => Ok(Elem::wrap(zip2(x, y, shape, |p, q| extreme2(false, p, q))?)),
            else mismatch())
        }
        BinaryOp::Max => {
            same_dtype!(a, b, (x, y) => Ok(Elem::wrap(zip2(x, y, shape, |p, q| extreme2(true, p, q))?)),
            else mismatch())
        }
        BinaryOp::Lt => comparison!(a, b, shape, mismatch(), <),
        BinaryOp::Le => comparison!(a, b, shape, mismatch(), <=),
        BinaryOp::Gt => comparison!(a, b, shape, mismatch(), >),
        BinaryOp::Ge => comparison!(a, b, shape, mismatch(), >=),
        BinaryOp::Eq => comparison!(a, b, shape, mismatch(), ==),
        BinaryOp::Ne => comparison!(a, b, shape, mismatch(), !=),
    }
}

/// The smaller (or, with `max`, the larger) of two values; NaN if either is NaN. On a tie the
/// first operand is returned.
pub(crate) fn extreme2<T: Elem>(max: bool, p: T, q: T) -> T {
    if p.is_nan() {
        p
    } else if q.is_nan() || (max && q > p) || (!max && q < p) {
        q
    } else {
        p
    }
}

/// `cond ? a : b` elementwise over the broadcast of the three operands.
pub(crate) fn select(cond: &ArrayView<'_>, a: &ArrayView<'_>, b: &ArrayView<'_>) -> Result<Array, Fault> {
    let ArrayView::Bool(cond) = cond else {
        return Err(Fault::dtype("condition of select", "bool", cond.dtype()));
    };
    let shape = common_shape("select", &[cond.shape(), a.shape(), b.shape()])?;
    let cond = stretch_squeezed(cond, &shape)?;
    same_dtype!(a, b, (x, y) => {
        let (x, y) = (stretch_squeezed(x, &shape)?, stretch_squeezed(y, &shape)?);
        let picked = Zip::from(&cond).and(&x).and(&y).map_collect(|&c, &p, &q| if c { p } else { q });
        Ok(Elem::wrap(unsqueeze(picked, &shape)))
    }, else {
        let found = format!("{} and {}", a.dtype(), b.dtype());
        Err(Fault::dtype("branches of select", "two branches of one dtype", found))
    })
}

/// Replaces NaN, +Inf and −Inf by the given values rounded to the float dtype; the identity
/// on integers and bool (they hold no such values).
pub(crate) fn nan_to_num(x: &ArrayView<'_>, nan: f64, posinf: f64, neginf: f64) -> Array {
    fn clean<T: Elem>(a: &ArrayViewD<'_, T>, nan: f64, posinf: f64, neginf: f64) -> Array {
        let (nan, posinf, neginf) = (T::from_f64(nan), T::from_f64(posinf), T::from_f64(neginf));
        T::wrap(a.mapv(|v| {
            if v.is_nan() {
                nan
            } else if v.to_f64() == f64::INFINITY {
                posinf
            } else if v.to_f64() == f64::NEG_INFINITY {
                neginf
            } else {
                v
            }
        }))
    }
    rumba_ir::with_view!(x, a => clean(a, nan, posinf, neginf))
}

/// Explicit conversion to `to` by the `Cast` rule (see [`crate::value`]), through `f64`, which
/// holds every value of every dtype exactly.
pub(crate) fn cast(x: &ArrayView<'_>, to: DType) -> Array {
    fn conv<S: Elem, T: Elem>(a: &ArrayViewD<'_, S>) -> Array {
        T::wrap(a.mapv(|v| T::from_f64(v.to_f64())))
    }
    fn from<S: Elem>(a: &ArrayViewD<'_, S>, to: DType) -> Array {
        match to {
            DType::Bool => conv::<S, bool>(a),
            DType::U8 => conv::<S, u8>(a),
            DType::U16 => conv::<S, u16>(a),
            DType::I32 => conv::<S, i32>(a),
            DType::F32 => conv::<S, f32>(a),
            DType::F64 => conv::<S, f64>(a),
        }
    }
    rumba_ir::with_view!(x, a => from(a, to))
}
