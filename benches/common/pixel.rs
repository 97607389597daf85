//! The pixel types the hand-written versions are generic over (u8, u16, f32), and the
//! dispatch from a dynamically typed [`Array`] to them.

use ndarray::{ArrayD, ArrayViewD};
use rumba::Array;

/// A stack element.
pub trait Pixel: Copy + PartialOrd + Send + Sync + std::fmt::Debug + 'static {
    /// The identity of `max` (−Inf for floats).
    const LOWEST: Self;
    /// The identity of `min` (+Inf for floats).
    const HIGHEST: Self;
    /// The accumulator of exact sums: i32 for u8, i64 for u16 (exact and vectorisable, what a
    /// hand-written loop over integer pixels uses; i32 converts to f64 in one SSE2
    /// instruction, u32 does not), f64 for f32.
    type Sum: Copy + Default + Send + Sync + std::ops::AddAssign + std::ops::SubAssign;
    /// `self` as a summand.
    fn summand(self) -> Self::Sum;
    /// A sum as f64 (exact for integer sums below 2^53).
    fn sum_f64(sum: Self::Sum) -> f64;
    /// Exact widening (u8, u16, f32 all fit in f32).
    fn f32(self) -> f32;
    /// Exact widening.
    fn f64(self) -> f64;
    /// Whether this is NaN (never for integers).
    fn is_nan(self) -> bool;
    /// The typed view of `a`, which must hold this type.
    fn view(a: &Array) -> ArrayViewD<'_, Self>;
    /// The contiguous elements of `a`, which must hold this type.
    fn slice(a: &Array) -> &[Self];
    /// The contiguous elements of `a`, mutably.
    fn slice_mut(a: &mut Array) -> &mut [Self];
    /// Wraps an owned array.
    fn wrap(a: ArrayD<Self>) -> Array;
}

macro_rules! pixel {
    ($t:ty, $variant:ident, $lowest:expr, $highest:expr, $is_nan:expr, $sum:ty) => {
        impl Pixel for $t {
            const LOWEST: Self = $lowest;
            const HIGHEST: Self = $highest;
            type Sum = $sum;
            #[inline(always)]
            fn summand(self) -> $sum {
                <$sum>::from(self)
            }
            #[inline(always)]
            fn sum_f64(sum: $sum) -> f64 {
                sum as f64
            }
            #[inline(always)]
            fn f32(self) -> f32 {
                f32::from(self)
            }
            #[inline(always)]
            fn f64(self) -> f64 {
                f64::from(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                $is_nan(self)
            }
            fn view(a: &Array) -> ArrayViewD<'_, Self> {
                match a {
                    Array::$variant(a) => a.view(),
                    other => panic!("expected {}, found {}", stringify!($t), other.dtype()),
                }
            }
            fn slice(a: &Array) -> &[Self] {
                match a {
                    Array::$variant(a) => a.as_slice().expect("C-contiguous"),
                    other => panic!("expected {}, found {}", stringify!($t), other.dtype()),
                }
            }
            fn slice_mut(a: &mut Array) -> &mut [Self] {
                match a {
                    Array::$variant(a) => a.as_slice_mut().expect("C-contiguous"),
                    other => panic!("expected {}, found {}", stringify!($t), other.dtype()),
                }
            }
            fn wrap(a: ArrayD<Self>) -> Array {
                Array::$variant(a)
            }
        }
    };
}

// i32 sums of u8 are exact up to 8 Mi frames, i64 sums of u16 always.
pixel!(u8, U8, 0, u8::MAX, |_| false, i32);
pixel!(u16, U16, 0, u16::MAX, |_| false, i64);
pixel!(f32, F32, f32::NEG_INFINITY, f32::INFINITY, f32::is_nan, f64);

/// The f32 elements of an output.
pub fn f32_mut(a: &mut Array) -> &mut [f32] {
    <f32 as Pixel>::slice_mut(a)
}

/// `min` that propagates NaN (DESIGN §2): once NaN, always NaN.
#[inline(always)]
pub fn min_nan<P: Pixel>(acc: P, v: P) -> P {
    if (v < acc) | v.is_nan() { v } else { acc }
}

/// `max` that propagates NaN.
#[inline(always)]
pub fn max_nan<P: Pixel>(acc: P, v: P) -> P {
    if (v > acc) | v.is_nan() { v } else { acc }
}

/// Calls `$f::<P>($args)` with `P` the element type of `$x` (u8, u16 or f32).
macro_rules! dispatch {
    ($x:expr, $f:ident($($arg:expr),*)) => {
        match $x.dtype() {
            rumba::DType::U8 => $f::<u8>($($arg),*),
            rumba::DType::U16 => $f::<u16>($($arg),*),
            rumba::DType::F32 => $f::<f32>($($arg),*),
            other => panic!("no hand-written version for {other} stacks"),
        }
    };
}
pub(crate) use dispatch;
