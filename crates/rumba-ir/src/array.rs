//! Dynamically typed n-d arrays: what graphs consume and produce.
//!
//! [`Array`] owns its data (outputs); [`ArrayView`] borrows any strided view (inputs may be
//! permuted or sliced NumPy-style views, never copied just to be read).

use crate::dtype::DType;
use ndarray::{ArrayD, ArrayViewD};

/// An owned array of one of the six dtypes.
#[derive(Clone, Debug, PartialEq)]
pub enum Array {
    /// bool elements.
    Bool(ArrayD<bool>),
    /// u8 elements.
    U8(ArrayD<u8>),
    /// u16 elements.
    U16(ArrayD<u16>),
    /// i32 elements.
    I32(ArrayD<i32>),
    /// f32 elements.
    F32(ArrayD<f32>),
    /// f64 elements.
    F64(ArrayD<f64>),
}

/// A borrowed, possibly non-contiguous view of one of the six dtypes.
#[derive(Clone, Debug)]
pub enum ArrayView<'a> {
    /// bool elements.
    Bool(ArrayViewD<'a, bool>),
    /// u8 elements.
    U8(ArrayViewD<'a, u8>),
    /// u16 elements.
    U16(ArrayViewD<'a, u16>),
    /// i32 elements.
    I32(ArrayViewD<'a, i32>),
    /// f32 elements.
    F32(ArrayViewD<'a, f32>),
    /// f64 elements.
    F64(ArrayViewD<'a, f64>),
}

/// Applies `$body` to the inner ndarray of any variant of `$value` (an [`Array`] or
/// [`ArrayView`]), binding it to `$a`.
#[macro_export]
macro_rules! with_array {
    ($value:expr, $a:ident => $body:expr) => {
        match $value {
            $crate::array::Array::Bool($a) => $body,
            $crate::array::Array::U8($a) => $body,
            $crate::array::Array::U16($a) => $body,
            $crate::array::Array::I32($a) => $body,
            $crate::array::Array::F32($a) => $body,
            $crate::array::Array::F64($a) => $body,
        }
    };
}

/// Like [`with_array!`] for [`ArrayView`].
#[macro_export]
macro_rules! with_view {
    ($value:expr, $a:ident => $body:expr) => {
        match $value {
            $crate::array::ArrayView::Bool($a) => $body,
            $crate::array::ArrayView::U8($a) => $body,
            $crate::array::ArrayView::U16($a) => $body,
            $crate::array::ArrayView::I32($a) => $body,
            $crate::array::ArrayView::F32($a) => $body,
            $crate::array::ArrayView::F64($a) => $body,
        }
    };
}

impl Array {
    /// A zero-filled (false for bool), C-contiguous array of `dtype` and `shape`.
    #[must_use]
    pub fn zeros(dtype: DType, shape: &[usize]) -> Array {
        let shape = ndarray::IxDyn(shape);
        match dtype {
            DType::Bool => Array::Bool(ArrayD::from_elem(shape, false)),
            DType::U8 => Array::U8(ArrayD::zeros(shape)),
            DType::U16 => Array::U16(ArrayD::zeros(shape)),
            DType::I32 => Array::I32(ArrayD::zeros(shape)),
            DType::F32 => Array::F32(ArrayD::zeros(shape)),
            DType::F64 => Array::F64(ArrayD::zeros(shape)),
        }
    }

    /// The element type.
    #[must_use]
    pub fn dtype(&self) -> DType {
        match self {
            Array::Bool(_) => DType::Bool,
            Array::U8(_) => DType::U8,
            Array::U16(_) => DType::U16,
            Array::I32(_) => DType::I32,
            Array::F32(_) => DType::F32,
            Array::F64(_) => DType::F64,
        }
    }

    /// The extents.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        with_array!(self, a => a.shape())
    }

    /// A view of the whole array.
    #[must_use]
    pub fn view(&self) -> ArrayView<'_> {
        match self {
            Array::Bool(a) => ArrayView::Bool(a.view()),
            Array::U8(a) => ArrayView::U8(a.view()),
            Array::U16(a) => ArrayView::U16(a.view()),
            Array::I32(a) => ArrayView::I32(a.view()),
            Array::F32(a) => ArrayView::F32(a.view()),
            Array::F64(a) => ArrayView::F64(a.view()),
        }
    }

    /// Every element converted to f64 (exact for all dtypes but none), in logical order.
    #[must_use]
    pub fn to_f64_vec(&self) -> Vec<f64> {
        self.view().to_f64_vec()
    }
}

impl<'a> ArrayView<'a> {
    /// The same elements seen with `rank` − its rank unit axes added: a (T, H, W) view as
    /// (T, H, W, 1), an (H, W) view as (1, H, W, 1) (see `bind::implied_extents`). No copy.
    #[must_use]
    pub fn with_unit_axes(self, rank: usize) -> ArrayView<'a> {
        fn expand<T>(a: ndarray::ArrayViewD<'_, T>, rank: usize) -> ndarray::ArrayViewD<'_, T> {
            match (a.ndim(), rank) {
                (3, 4) => a.insert_axis(ndarray::Axis(3)),
                (2, 4) => a.insert_axis(ndarray::Axis(0)).insert_axis(ndarray::Axis(3)),
                _ => a,
            }
        }
        match self {
            ArrayView::Bool(a) => ArrayView::Bool(expand(a, rank)),
            ArrayView::U8(a) => ArrayView::U8(expand(a, rank)),
            ArrayView::U16(a) => ArrayView::U16(expand(a, rank)),
            ArrayView::I32(a) => ArrayView::I32(expand(a, rank)),
            ArrayView::F32(a) => ArrayView::F32(expand(a, rank)),
            ArrayView::F64(a) => ArrayView::F64(expand(a, rank)),
        }
    }
}

impl Array {
    /// A rank-4 array whose last extent is 1 without that axis (a C = 1 stack as (T, H, W));
    /// any other array as it is. No copy.
    #[must_use]
    pub fn without_unit_channel(self) -> Array {
        fn squeeze<T>(a: ndarray::ArrayD<T>) -> ndarray::ArrayD<T> {
            if a.ndim() == 4 && a.shape()[3] == 1 {
                a.remove_axis(ndarray::Axis(3))
            } else {
                a
            }
        }
        match self {
            Array::Bool(a) => Array::Bool(squeeze(a)),
            Array::U8(a) => Array::U8(squeeze(a)),
            Array::U16(a) => Array::U16(squeeze(a)),
            Array::I32(a) => Array::I32(squeeze(a)),
            Array::F32(a) => Array::F32(squeeze(a)),
            Array::F64(a) => Array::F64(squeeze(a)),
        }
    }
}

impl ArrayView<'_> {
    /// The same view, borrowed for as long as `self` is.
    #[must_use]
    pub fn reborrow(&self) -> ArrayView<'_> {
        match self {
            ArrayView::Bool(a) => ArrayView::Bool(a.view()),
            ArrayView::U8(a) => ArrayView::U8(a.view()),
            ArrayView::U16(a) => ArrayView::U16(a.view()),
            ArrayView::I32(a) => ArrayView::I32(a.view()),
            ArrayView::F32(a) => ArrayView::F32(a.view()),
            ArrayView::F64(a) => ArrayView::F64(a.view()),
        }
    }

    /// The element type.
    #[must_use]
    pub fn dtype(&self) -> DType {
        match self {
            ArrayView::Bool(_) => DType::Bool,
            ArrayView::U8(_) => DType::U8,
            ArrayView::U16(_) => DType::U16,
            ArrayView::I32(_) => DType::I32,
            ArrayView::F32(_) => DType::F32,
            ArrayView::F64(_) => DType::F64,
        }
    }

    /// The extents.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        with_view!(self, a => a.shape())
    }

    /// An owned, C-contiguous copy.
    #[must_use]
    pub fn to_owned(&self) -> Array {
        match self {
            ArrayView::Bool(a) => Array::Bool(a.to_owned()),
            ArrayView::U8(a) => Array::U8(a.to_owned()),
            ArrayView::U16(a) => Array::U16(a.to_owned()),
            ArrayView::I32(a) => Array::I32(a.to_owned()),
            ArrayView::F32(a) => Array::F32(a.to_owned()),
            ArrayView::F64(a) => Array::F64(a.to_owned()),
        }
    }

    /// Every element converted to f64 in logical (row-major) order; bool → 0/1.
    #[must_use]
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            ArrayView::Bool(a) => a.iter().map(|&v| f64::from(u8::from(v))).collect(),
            ArrayView::U8(a) => a.iter().map(|&v| f64::from(v)).collect(),
            ArrayView::U16(a) => a.iter().map(|&v| f64::from(v)).collect(),
            ArrayView::I32(a) => a.iter().map(|&v| f64::from(v)).collect(),
            ArrayView::F32(a) => a.iter().map(|&v| f64::from(v)).collect(),
            ArrayView::F64(a) => a.iter().copied().collect(),
        }
    }
}

macro_rules! impl_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<ArrayD<$t>> for Array {
            fn from(a: ArrayD<$t>) -> Array { Array::$v(a) }
        }
        impl<'a> From<ArrayViewD<'a, $t>> for ArrayView<'a> {
            fn from(a: ArrayViewD<'a, $t>) -> ArrayView<'a> { ArrayView::$v(a) }
        }
    )*};
}
impl_from!(bool => Bool, u8 => U8, u16 => U16, i32 => I32, f32 => F32, f64 => F64);
