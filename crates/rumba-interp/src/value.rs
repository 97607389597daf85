//! Values flowing between nodes, and [`Elem`]: the per-dtype element trait the ops are
//! generic over.
//!
//! Every element type converts exactly to `f64` (bool → 0/1), and `Elem::from_f64` is the
//! `Cast` rule from `f64`: float→int truncates toward zero and saturates with NaN → 0 (Rust's
//! `as` does exactly this), → bool is `x != 0` (NaN → true), → f32 rounds to nearest. Since
//! every dtype is exact in `f64`, casting any dtype to any other through `f64` rounds once.

use crate::error::Fault;
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use rumba_ir::{Array, ArrayView, DType};

/// The value of one node: a caller's input view (never copied), or an owned array.
pub(crate) enum Value<'a> {
    /// A graph input, borrowed from the caller (any strides).
    Input(ArrayView<'a>),
    /// Computed by the interpreter.
    Owned(Array),
}

impl Value<'_> {
    /// A view of the value.
    pub(crate) fn view(&self) -> ArrayView<'_> {
        match self {
            // A reborrow, not a clone: ndarray views are invariant in their lifetime.
            Value::Input(v) => rumba_ir::with_view!(v, a => ArrayView::from(a.view())),
            Value::Owned(a) => a.view(),
        }
    }

    /// The value as an owned, C-contiguous array (copies only when it must).
    pub(crate) fn into_output(self) -> Array {
        match self {
            Value::Input(v) => rumba_ir::with_view!(v, v => Array::from(standard(&v))),
            Value::Owned(a) => rumba_ir::with_array!(a, a => Array::from(into_standard(a))),
        }
    }
}

/// An owned C-contiguous copy of a view.
pub(crate) fn standard<T: Clone>(v: &ArrayViewD<'_, T>) -> ArrayD<T> {
    v.as_standard_layout().into_owned()
}

/// The array itself if C-contiguous, else a C-contiguous copy.
fn into_standard<T: Clone>(a: ArrayD<T>) -> ArrayD<T> {
    if a.is_standard_layout() { a } else { standard(&a.view()) }
}

/// An element type of one of the six dtypes.
pub(crate) trait Elem: Copy + PartialOrd + 'static {
    /// The dtype of this element type.
    const DTYPE: DType;
    /// The exact `f64` value (bool → 0 or 1).
    fn to_f64(self) -> f64;
    /// The `Cast` rule from `f64` (see the module docs).
    fn from_f64(v: f64) -> Self;
    /// Whether this is a NaN (never for integers and bool).
    fn is_nan(self) -> bool;
    /// NaN, for float types; `None` for the others (they have no "no value" value).
    fn nan() -> Option<Self>;
    /// Wraps a typed array in the dynamic [`Array`].
    fn wrap(a: ArrayD<Self>) -> Array;
}

macro_rules! impl_int_elem {
    ($($t:ty => $variant:ident),*) => {$(
        impl Elem for $t {
            const DTYPE: DType = DType::$variant;
            fn to_f64(self) -> f64 { f64::from(self) }
            fn from_f64(v: f64) -> Self { v as $t }
            fn is_nan(self) -> bool { false }
            fn nan() -> Option<Self> { None }
            fn wrap(a: ArrayD<Self>) -> Array { Array::$variant(a) }
        }
    )*};
}
impl_int_elem!(u8 => U8, u16 => U16, i32 => I32);

impl Elem for bool {
    const DTYPE: DType = DType::Bool;
    fn to_f64(self) -> f64 {
        if self { 1.0 } else { 0.0 }
    }
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    fn is_nan(self) -> bool {
        false
    }
    fn nan() -> Option<Self> {
        None
    }
    fn wrap(a: ArrayD<Self>) -> Array {
        Array::Bool(a)
    }
}

impl Elem for f32 {
    const DTYPE: DType = DType::F32;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn is_nan(self) -> bool {
        self.is_nan()
    }
    fn nan() -> Option<Self> {
        Some(f32::NAN)
    }
    fn wrap(a: ArrayD<Self>) -> Array {
        Array::F32(a)
    }
}

impl Elem for f64 {
    const DTYPE: DType = DType::F64;
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
    fn is_nan(self) -> bool {
        self.is_nan()
    }
    fn nan() -> Option<Self> {
        Some(f64::NAN)
    }
    fn wrap(a: ArrayD<Self>) -> Array {
        Array::F64(a)
    }
}

/// A rank-0 array of `dtype` holding `v` converted by the `Cast` rule (consts and params).
pub(crate) fn scalar(dtype: DType, v: f64) -> Array {
    let a = ArrayD::from_elem(IxDyn(&[]), v);
    cast_f64(&a.view(), dtype)
}

/// Converts an `f64` array to `dtype` by the `Cast` rule, element by element.
pub(crate) fn cast_f64(a: &ArrayViewD<'_, f64>, dtype: DType) -> Array {
    fn conv<T: Elem>(a: &ArrayViewD<'_, f64>) -> Array {
        T::wrap(a.mapv(T::from_f64))
    }
    match dtype {
        DType::Bool => conv::<bool>(a),
        DType::U8 => conv::<u8>(a),
        DType::U16 => conv::<u16>(a),
        DType::I32 => conv::<i32>(a),
        DType::F32 => conv::<f32>(a),
        DType::F64 => conv::<f64>(a),
    }
}

/// Rounds `f64` statistics once to their float output dtype (`f32` or `f64`).
pub(crate) fn round_stats(stats: ArrayD<f64>, dtype: DType) -> Result<Array, Fault> {
    match dtype {
        DType::F64 => Ok(Array::F64(stats)),
        DType::F32 => Ok(Array::F32(stats.mapv(|v| v as f32))),
        other => Err(Fault::Internal(format!(
            "a statistic computed in f64 cannot have dtype {other}"
        ))),
    }
}

/// The value of a rank-0 (or one-element) array as `f64`.
pub(crate) fn scalar_value(v: &ArrayView<'_>) -> Result<f64, Fault> {
    rumba_ir::with_view!(v, a => match a.iter().next() {
        Some(&x) if a.len() == 1 => Ok(x.to_f64()),
        _ => Err(Fault::Internal(format!("expected a scalar, found shape {:?}", a.shape()))),
    })
}

/// A C-contiguous array of `shape` from row-major `values`.
pub(crate) fn from_vec<T>(shape: &[usize], values: Vec<T>) -> Result<ArrayD<T>, Fault> {
    ArrayD::from_shape_vec(IxDyn(shape), values)
        .map_err(|e| Fault::Internal(format!("building an array of shape {shape:?}: {e}")))
}
