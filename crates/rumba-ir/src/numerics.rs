//! The pinned numerics of the statistics (DESIGN §2 "Numerics"): the few formulas every
//! backend — the reference interpreter, the plan evaluator and the JIT — must evaluate with
//! the same f64 operations in the same order, so that they agree bit for bit.
//!
//! - **var/std of integer values** ([`integer_moments`]): the exact moments `S1 = Σx` and
//!   `S2 = Σx²` in 64-bit integers, `D = n·S2 − S1²` exactly, then
//!   [`var_from_integer_moments`]: `f64(D) / (f64(n)·f64(n))` — one rounding of `D`, one of
//!   `n²` and one of the quotient; exact integer sums need no particular order, and a backend
//!   may sum `x − c` for a constant `c` instead (`D` is exactly the same; the JIT does so for
//!   u16 values, `c` = 2¹⁵, to multiply them as i16).
//! - **var/std of float values** (every other lane): sums of the values shifted by the lane's
//!   first value `a` (the first value fed, after a mask or NaN skipping): `d = x − a`,
//!   `S1 += d`, `S2 += d·d` sequentially in lane order, then [`var_from_shifted_sums`]:
//!   `m = S1/n`, `var = (S2 − S1·m)/n`, a negative result (rounding) raised to 0. No division
//!   per value (Welford's update has one); accurate to ~`n·2⁻⁵³` relative on data whose mean is
//!   within a few standard deviations of its first value, such as 10⁶ + U(0, 1).
//! - **percentile position** ([`percentile_position`]): NumPy's `linear` method.
//!
//! `std` is `sqrt(var)` in f64; every result is rounded once to the output dtype.

use crate::DType;

/// Whether var/std of a lane of at most `capacity` values of `dtype` use exact integer
/// moments: integer values whose lane sum cannot pass 2³¹ (`capacity·max|x| ≤ 2³¹`), so
/// `S1` fits 32 bits and `D = n·S2 − S1²` fits 63. That is every u8 lane of up to 8.4 M
/// values and every u16 lane of up to 32,768; longer lanes and i32 values use shifted f64 sums.
#[must_use]
pub fn integer_moments(dtype: DType, capacity: usize) -> bool {
    let max: u64 = match dtype {
        DType::U8 => u8::MAX.into(),
        DType::U16 => u16::MAX.into(),
        DType::I32 => 1 << 31,
        DType::Bool | DType::F32 | DType::F64 => return false,
    };
    (capacity as u64).checked_mul(max).is_some_and(|m| m <= 1 << 31)
}

/// How var/std are computed for a lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Moments {
    /// Exact integer moments ([`integer_moments`], [`var_from_integer_moments`]).
    Integer,
    /// f64 sums of the values shifted by the lane's first value ([`var_from_shifted_sums`]).
    Shifted,
}

impl Moments {
    /// The algorithm for lanes of at most `capacity` values of `dtype`.
    #[must_use]
    pub fn of(dtype: DType, capacity: usize) -> Moments {
        if integer_moments(dtype, capacity) {
            Moments::Integer
        } else {
            Moments::Shifted
        }
    }
}

/// The population variance of `n ≥ 1` integer values from their exact sums `s1 = Σx` and
/// `s2 = Σx²` (see [`integer_moments`] for when these cannot overflow).
#[must_use]
pub fn var_from_integer_moments(n: i64, s1: i64, s2: i64) -> f64 {
    let d = n * s2 - s1 * s1;
    let nf = n as f64;
    d as f64 / (nf * nf)
}

/// The population variance of `n ≥ 1` values from the sums `s1 = Σd` and `s2 = Σd²` of their
/// differences `d = x − a` to the lane's first value `a`. NaN stays NaN.
#[must_use]
pub fn var_from_shifted_sums(n: f64, s1: f64, s2: f64) -> f64 {
    let m = s1 / n;
    let var = (s2 - s1 * m) / n;
    if var < 0.0 { 0.0 } else { var }
}

/// NumPy's `linear` percentile position in `n ≥ 1` sorted values: `pos = (q/100)·(n−1)`,
/// `lo = ⌊pos⌋`, `hi = min(lo + 1, n − 1)` and `t = pos − lo`; the percentile is
/// `v[lo] + (v[hi] − v[lo])·t`. `q` lies in [0, 100] (validation checks it); the indices are
/// clamped to the values all the same.
#[must_use]
pub fn percentile_position(q: f64, n: usize) -> (usize, usize, f64) {
    let last = n.saturating_sub(1);
    let pos = (q / 100.0) * last as f64;
    let lo = (pos.floor() as usize).min(last);
    let hi = (lo + 1).min(last);
    (lo, hi, pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_moments_only_where_sums_fit() {
        assert!(integer_moments(DType::U8, 400));
        assert!(integer_moments(DType::U8, (1 << 31) / 255));
        assert!(!integer_moments(DType::U8, (1 << 31) / 255 + 1));
        assert!(integer_moments(DType::U16, 32_768));
        assert!(!integer_moments(DType::U16, 32_769));
        assert!(integer_moments(DType::I32, 1));
        assert!(!integer_moments(DType::I32, 2));
        assert!(!integer_moments(DType::F32, 1));
        assert!(!integer_moments(DType::U8, usize::MAX));
    }

    #[test]
    fn variance_formulas() {
        // 2 4 4 4 5 5 7 9: mean 5, variance 4.
        let x = [2i64, 4, 4, 4, 5, 5, 7, 9];
        let (s1, s2) = (x.iter().sum::<i64>(), x.iter().map(|v| v * v).sum::<i64>());
        assert_eq!(var_from_integer_moments(8, s1, s2), 4.0);
        let d: Vec<f64> = x.iter().map(|&v| (v - 2) as f64).collect();
        let (s1, s2) = (d.iter().sum::<f64>(), d.iter().map(|v| v * v).sum::<f64>());
        assert_eq!(var_from_shifted_sums(8.0, s1, s2), 4.0);
        // One value: variance 0; rounding never gives a negative variance.
        assert_eq!(var_from_integer_moments(1, 7, 49), 0.0);
        assert_eq!(var_from_shifted_sums(3.0, 1e-17, 0.0), 0.0);
        assert!(var_from_shifted_sums(2.0, f64::NAN, 1.0).is_nan());
    }

    #[test]
    fn percentile_positions() {
        assert_eq!(percentile_position(0.0, 4), (0, 1, 0.0));
        assert_eq!(percentile_position(100.0, 4), (3, 3, 0.0));
        assert_eq!(percentile_position(50.0, 4), (1, 2, 0.5));
        assert_eq!(percentile_position(50.0, 1), (0, 0, 0.0));
    }
}
