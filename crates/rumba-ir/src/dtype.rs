//! Element types and the promotion rules of DESIGN §1.
//!
//! Validation uses these rules to insert explicit `Cast` nodes, so after validation every
//! binary op sees two operands of one dtype and backends never promote anything themselves.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The element type of an array.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// Boolean (masks, comparison results).
    Bool,
    /// Unsigned 8-bit integer.
    U8,
    /// Unsigned 16-bit integer.
    U16,
    /// Signed 32-bit integer.
    I32,
    /// IEEE single precision.
    F32,
    /// IEEE double precision.
    F64,
}

impl DType {
    /// Every dtype, in promotion order.
    pub const ALL: [DType; 6] = [DType::Bool, DType::U8, DType::U16, DType::I32, DType::F32, DType::F64];

    /// The name used in graph files and messages (`"u8"`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "u8",
            DType::U16 => "u16",
            DType::I32 => "i32",
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }

    /// Size of one element in bytes.
    #[must_use]
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::U8 => 1,
            DType::U16 => 2,
            DType::I32 | DType::F32 => 4,
            DType::F64 => 8,
        }
    }

    /// `f32` or `f64`.
    #[must_use]
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// `u8`, `u16` or `i32`.
    #[must_use]
    pub fn is_int(self) -> bool {
        matches!(self, DType::U8 | DType::U16 | DType::I32)
    }

    /// `u8` or `u16`.
    #[must_use]
    pub fn is_unsigned(self) -> bool {
        matches!(self, DType::U8 | DType::U16)
    }

    /// The float type arithmetic on this dtype computes in: u8/u16/f32 → f32, i32/f64 → f64.
    /// This is also the image-stack "compute type" `ct` and the statistic dtype of
    /// mean/var/std/median/percentile/weighted. `None` for bool.
    #[must_use]
    pub fn arith(self) -> Option<DType> {
        match self {
            DType::Bool => None,
            DType::U8 | DType::U16 | DType::F32 => Some(DType::F32),
            DType::I32 | DType::F64 => Some(DType::F64),
        }
    }

    /// The common dtype of two numeric operands for arithmetic (`add sub mul div` and math
    /// functions): each side's [`DType::arith`], then the wider float. `None` if either is bool.
    #[must_use]
    pub fn arith_pair(a: DType, b: DType) -> Option<DType> {
        Some(a.arith()?.max(b.arith()?))
    }

    /// The common dtype for `min max select` and comparisons: u8 ⊂ u16 ⊂ i32, an integer with a
    /// float gives that float, f32 with f64 gives f64; bool only combines with bool.
    #[must_use]
    pub fn common(a: DType, b: DType) -> Option<DType> {
        match (a, b) {
            (DType::Bool, DType::Bool) => Some(DType::Bool),
            (DType::Bool, _) | (_, DType::Bool) => None,
            (a, b) if a.is_float() && b.is_int() => Some(a),
            (a, b) if a.is_int() && b.is_float() => Some(b),
            (a, b) => Some(a.max(b)),
        }
    }

    /// Parses a dtype name (`"u16"`).
    #[must_use]
    pub fn parse(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == name)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::DType::*;
    use super::*;

    #[test]
    fn arithmetic_promotion_follows_design() {
        assert_eq!(DType::arith_pair(U8, U8), Some(F32));
        assert_eq!(DType::arith_pair(U16, I32), Some(F64));
        assert_eq!(DType::arith_pair(U8, F64), Some(F64));
        assert_eq!(DType::arith_pair(F32, U16), Some(F32));
        assert_eq!(DType::arith_pair(Bool, F32), None);
    }

    #[test]
    fn common_type_keeps_integers() {
        assert_eq!(DType::common(U8, U16), Some(U16));
        assert_eq!(DType::common(U16, I32), Some(I32));
        assert_eq!(DType::common(I32, F32), Some(F32));
        assert_eq!(DType::common(F32, F64), Some(F64));
        assert_eq!(DType::common(Bool, Bool), Some(Bool));
        assert_eq!(DType::common(Bool, U8), None);
    }
}
