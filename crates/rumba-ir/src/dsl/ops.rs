//! The DSL's elementwise methods generated per op, and operator overloading
//! (`&x - &r * amount`; `f64` on either side is a weak scalar).

use super::{Arg, Tensor};
use crate::def::{OpDef, Operand};
use std::ops;

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident => $variant:ident;)*) => {
        impl Tensor {$(
            $(#[$doc])*
            #[track_caller]
            pub fn $name(&self) -> Tensor {
                self.op(OpDef::$variant { x: self.x() })
            }
        )*}
    };
}

unary_methods! {
    /// `|x|` (identity on unsigned).
    abs => Abs;
    /// `sqrt(x)`.
    sqrt => Sqrt;
    /// `exp(x)`.
    exp => Exp;
    /// `ln(x)`.
    log => Log;
    /// `x != x` → bool.
    is_nan => IsNan;
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident => $variant:ident;)*) => {
        impl Tensor {$(
            $(#[$doc])*
            #[track_caller]
            pub fn $name(&self, other: impl Into<Arg>) -> Tensor {
                self.op(OpDef::$variant { a: self.x(), b: other.into().0 })
            }
        )*}
    };
}

binary_methods! {
    /// Elementwise minimum (NaN-propagating).
    min => Min;
    /// Elementwise maximum (NaN-propagating).
    max => Max;
    /// `x < other` → bool.
    lt => Lt;
    /// `x <= other` → bool.
    le => Le;
    /// `x > other` → bool.
    gt => Gt;
    /// `x >= other` → bool.
    ge => Ge;
    /// `x == other` → bool.
    eq => Eq;
    /// `x != other` → bool.
    ne => Ne;
}

macro_rules! arith_ops {
    ($($trait:ident $method:ident $variant:ident;)*) => {$(
        impl ops::$trait<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                self.op(OpDef::$variant { a: self.x(), b: rhs.x() })
            }
        }
        impl ops::$trait<f64> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: f64) -> Tensor {
                self.op(OpDef::$variant { a: self.x(), b: Operand::Scalar(rhs) })
            }
        }
        impl ops::$trait<&Tensor> for f64 {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                rhs.op(OpDef::$variant { a: Operand::Scalar(self), b: rhs.x() })
            }
        }
        impl ops::$trait<Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                self.op(OpDef::$variant { a: self.x(), b: rhs.x() })
            }
        }
        impl ops::$trait<&Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                self.op(OpDef::$variant { a: self.x(), b: rhs.x() })
            }
        }
        impl ops::$trait<Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                self.op(OpDef::$variant { a: self.x(), b: rhs.x() })
            }
        }
    )*};
}

arith_ops! {
    Add add Add;
    Sub sub Sub;
    Mul mul Mul;
    Div div Div;
}

impl ops::Neg for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        self.op(OpDef::Neg { x: self.x() })
    }
}

impl ops::Neg for Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        self.op(OpDef::Neg { x: self.x() })
    }
}
