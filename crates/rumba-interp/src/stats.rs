//! Lane statistics: the one implementation of every `reduce` and `window` statistic
//! (DESIGN §2 "Numerics", fixtures README "reduce"), so the two ops cannot disagree.
//!
//! A *lane* is the ordered list of values one output element is computed from (for a reduce:
//! the selected elements over the reduced axes in row-major order; for a window: the `size`
//! values of one window in index order).
//!
//! - `sum` adds sequentially in f64 in lane order; `mean` is that sum divided by the count.
//! - `var` is the population variance (ddof 0) by the pinned algorithm of
//!   [`rumba_ir::numerics`]: exact integer moments for integer lanes that fit
//!   ([`Moments::Integer`]), otherwise sums shifted by the lane's first value in lane order;
//!   `std` is its square root in f64.
//! - `median` of an even count is `(v[m−1] + v[m]) / 2` in f64; `percentile(q)` is NumPy's
//!   linear method on the sorted values.
//! - `min`/`max` work in the input's own dtype ([`extreme`]).
//! - NaN propagates through every kind, unless `skip_nan`, which drops NaN values first. A lane
//!   left with no value (all NaN, or nothing selected) gives NaN for every kind, sum included;
//!   for integer min/max it has no value at all (`None`).

use crate::error::Fault;
use crate::value::Elem;
pub(crate) use rumba_ir::numerics::Moments;
use rumba_ir::op::ReduceKind;

/// Rejects kinds whose parameters are outside their domain (`percentile` q ∉ [0, 100]).
pub(crate) fn check_kind(kind: ReduceKind) -> Result<(), Fault> {
    match kind {
        ReduceKind::Percentile(q) if !(0.0..=100.0).contains(&q.0) => Err(Fault::invalid_field(
            "q",
            format!("percentile q must lie in [0, 100], found {}", q.0),
        )),
        _ => Ok(()),
    }
}

/// The smallest (or, with `max`, the largest) value of a lane in its own dtype. A NaN makes
/// the result NaN unless `skip_nan`. `None` when no value is left and the dtype has no NaN
/// (integers); NaN when no value is left for a float lane. Ties keep the first value.
pub(crate) fn extreme<T: Elem>(values: &[T], max: bool, skip_nan: bool) -> Option<T> {
    let mut best: Option<T> = None;
    for &v in values {
        if v.is_nan() {
            if skip_nan {
                continue;
            }
            return Some(v);
        }
        best = match best {
            Some(b) if (max && v > b) || (!max && v < b) => Some(v),
            Some(b) => Some(b),
            None => Some(v),
        };
    }
    best.or_else(T::nan)
}

/// A statistic of one lane, in f64 (rounding to the output dtype is the caller's job).
/// `values` is scratch: NaN may be removed and the values sorted.
pub(crate) fn lane_stat(kind: ReduceKind, values: &mut Vec<f64>, skip_nan: bool, moments: Moments) -> f64 {
    if skip_nan {
        values.retain(|v| !v.is_nan());
    }
    if values.is_empty() {
        return f64::NAN;
    }
    match kind {
        ReduceKind::Sum => sum(values),
        ReduceKind::Mean => sum(values) / values.len() as f64,
        ReduceKind::Var => var(values, moments),
        ReduceKind::Std => var(values, moments).sqrt(),
        ReduceKind::Min => extreme(values, false, skip_nan).unwrap_or(f64::NAN),
        ReduceKind::Max => extreme(values, true, skip_nan).unwrap_or(f64::NAN),
        ReduceKind::Median => sorted(values).map_or(f64::NAN, median),
        ReduceKind::Percentile(q) => sorted(values).map_or(f64::NAN, |v| percentile(v, q.0)),
    }
}

/// Sequential sum in lane order.
fn sum(values: &[f64]) -> f64 {
    let mut acc = 0.0;
    for &v in values {
        acc += v;
    }
    acc
}

/// Population variance of non-empty `values` by the pinned algorithm ([`Moments`]).
fn var(values: &[f64], moments: Moments) -> f64 {
    use rumba_ir::numerics::{var_from_integer_moments, var_from_shifted_sums};
    match moments {
        Moments::Integer => {
            // Integer values (exact in f64) whose sums fit, by the caller's choice.
            let (mut s1, mut s2) = (0i64, 0i64);
            for &x in values {
                let x = x as i64;
                s1 += x;
                s2 += x * x;
            }
            var_from_integer_moments(values.len() as i64, s1, s2)
        }
        Moments::Shifted => {
            let a = values[0];
            let (mut s1, mut s2) = (0.0, 0.0);
            for &x in values {
                let d = x - a;
                s1 += d;
                s2 += d * d;
            }
            var_from_shifted_sums(values.len() as f64, s1, s2)
        }
    }
}

/// The values sorted ascending, or `None` if one is NaN (NaN propagates to order statistics).
fn sorted(values: &mut [f64]) -> Option<&[f64]> {
    if values.iter().any(|v| v.is_nan()) {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values)
}

/// The middle value of sorted, non-empty `v`; the mean of the two middle values for an even
/// count, `(v[m−1] + v[m]) / 2` in f64.
fn median(v: &[f64]) -> f64 {
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// NumPy's linear percentile of sorted, non-empty `v` (`rumba_ir::numerics::percentile_position`):
/// `v[lo] + (v[hi] − v[lo])·t`.
fn percentile(v: &[f64], q: f64) -> f64 {
    // `check_kind` keeps q in [0, 100].
    let (lo, hi, t) = rumba_ir::numerics::percentile_position(q, v.len());
    v[lo] + (v[hi] - v[lo]) * t
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumba_ir::op::F64;

    /// Two-pass population variance, the textbook reference.
    fn two_pass_var(v: &[f64]) -> f64 {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / v.len() as f64
    }

    #[test]
    fn shifted_sums_match_two_pass_and_the_exact_value() {
        // Exact: mean 5, squared deviations 9 1 1 1 0 0 4 16 → 32 / 8 = 4.
        let mut v = vec![2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(lane_stat(ReduceKind::Var, &mut v.clone(), false, Moments::Shifted), 4.0);
        assert_eq!(lane_stat(ReduceKind::Std, &mut v, false, Moments::Shifted), 2.0);
        // Large offset: E[x²] − E[x]² would lose everything here.
        let big: Vec<f64> = [0.25, 0.5, 0.75, 1.0].iter().map(|x| 1e9 + x).collect();
        let w = lane_stat(ReduceKind::Var, &mut big.clone(), false, Moments::Shifted);
        assert!((w - two_pass_var(&big)).abs() <= 1e-12, "{w}");
        assert!((w - 0.078125).abs() <= 1e-9, "{w}");
        // A single value has variance 0.
        assert_eq!(lane_stat(ReduceKind::Var, &mut vec![7.5], false, Moments::Shifted), 0.0);
    }

    #[test]
    fn median_odd_and_even_and_percentile_linear() {
        assert_eq!(
            lane_stat(ReduceKind::Median, &mut vec![3.0, 1.0, 2.0], false, Moments::Shifted),
            2.0
        );
        assert_eq!(
            lane_stat(
                ReduceKind::Median,
                &mut vec![4.0, 1.0, 3.0, 2.0],
                false,
                Moments::Shifted
            ),
            2.5
        );
        // Sorted 1 2 4 8: pos = 0.3·3 = 0.9 → lo 0, t 0.9 → 1 + (2 − 1)·0.9 = 1.9;
        // q = 50: pos 1.5 → 2 + (4 − 2)·0.5 = 3 (the median would be 3 too, but q = 80:
        // pos 2.4 → 4 + 4·0.4 = 5.6).
        let p = |q: f64| {
            lane_stat(
                ReduceKind::Percentile(F64(q)),
                &mut vec![8.0, 1.0, 4.0, 2.0],
                false,
                Moments::Shifted,
            )
        };
        assert_eq!(p(30.0), 1.0 + (2.0 - 1.0) * 0.9);
        assert_eq!(p(50.0), 3.0);
        assert_eq!(p(80.0), 4.0 + (8.0 - 4.0) * ((80.0 / 100.0) * 3.0 - 2.0));
        assert_eq!(p(0.0), 1.0);
        assert_eq!(p(100.0), 8.0);
        // NaN propagates unless skipped.
        assert!(
            lane_stat(
                ReduceKind::Median,
                &mut vec![1.0, f64::NAN, 3.0],
                false,
                Moments::Shifted
            )
            .is_nan()
        );
        assert_eq!(
            lane_stat(
                ReduceKind::Median,
                &mut vec![1.0, f64::NAN, 3.0],
                true,
                Moments::Shifted
            ),
            2.0
        );
    }

    #[test]
    fn nan_rules() {
        let nan = f64::NAN;
        assert!(lane_stat(ReduceKind::Sum, &mut vec![nan, nan], true, Moments::Shifted).is_nan());
        assert!(lane_stat(ReduceKind::Sum, &mut vec![1.0, nan], false, Moments::Shifted).is_nan());
        assert_eq!(
            lane_stat(ReduceKind::Sum, &mut vec![1.0, nan, 2.0], true, Moments::Shifted),
            3.0
        );
        assert!(extreme(&[1.0f32, f32::NAN, 0.0], false, false).is_some_and(f32::is_nan));
        assert_eq!(extreme(&[1.0f32, f32::NAN, 0.0], false, true), Some(0.0));
        assert!(extreme(&[f32::NAN], true, true).is_some_and(f32::is_nan));
        assert_eq!(extreme::<u8>(&[], true, false), None);
        assert_eq!(extreme(&[3u8, 9, 1], true, false), Some(9));
    }

    /// The exact population variance of finite f64 values, as the nearest f64: every value
    /// is `m·2^e` exactly, so over the smallest exponent `E` they are integers `X`, and
    /// `var = (n·ΣX² − (ΣX)²) / n² · 2^(2E)` is a big-integer quotient.
    fn exact_var(values: &[f64]) -> f64 {
        use num_bigint::BigInt;
        let parts: Vec<(i64, i32)> = values
            .iter()
            .map(|&v| {
                let bits = v.to_bits();
                let exp = ((bits >> 52) & 0x7ff) as i32;
                let frac = (bits & ((1 << 52) - 1)) as i64;
                let (m, e) = if exp == 0 {
                    (frac, -1074)
                } else {
                    (frac | 1 << 52, exp - 1075)
                };
                (if v < 0.0 { -m } else { m }, e)
            })
            .collect();
        // Zeros have no exponent to respect.
        let e_min = parts.iter().filter(|p| p.0 != 0).map(|p| p.1).min().unwrap_or(0);
        let ints: Vec<BigInt> = parts
            .iter()
            .map(|&(m, e)| {
                if m == 0 {
                    BigInt::from(0)
                } else {
                    BigInt::from(m) << (e - e_min) as usize
                }
            })
            .collect();
        let n = BigInt::from(values.len());
        let s1: BigInt = ints.iter().sum();
        let s2: BigInt = ints.iter().map(|x| x * x).sum();
        let numerator = &n * s2 - &s1 * &s1;
        // numerator / n² · 2^(2E), each big integer as (its top 64 bits, a power of two):
        // relative error ~1e-19 each, far below the 1e-12 checked.
        let split = |x: &BigInt| -> (f64, i32) {
            let shift = x.bits().saturating_sub(64);
            let top: BigInt = x >> shift as usize;
            (top.to_string().parse::<f64>().unwrap(), shift as i32)
        };
        let ((num, en), (den, ed)) = (split(&numerator), split(&(&n * &n)));
        num / den * 2f64.powi(en - ed + 2 * e_min)
    }

    /// A counter-based generator of U(0, 1) values (splitmix64).
    fn uniform(seed: u64, k: u64) -> f64 {
        let mut z = seed.wrapping_add(k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn shifted_sums_are_within_1e_12_of_the_exact_variance() {
        // Well-conditioned lanes of several lengths: offset data 1e6 + U(0, 1) as f64 and as
        // f32 (the fixtures' hard case for E[x²] − E[x]²), centred U(−1, 1), and scaled data.
        type Gen = fn(u64) -> f64;
        let classes: [(&str, Gen); 4] = [
            ("1e6 + U(0,1)", |k| 1e6 + uniform(1, k)),
            ("f32(1e6 + U(0,1))", |k| f64::from((1e6 + uniform(2, k)) as f32)),
            ("U(-1,1)", |k| 2.0 * uniform(3, k) - 1.0),
            ("1e-3 * (5 + U(0,1))", |k| 1e-3 * (5.0 + uniform(4, k))),
        ];
        for (name, sample) in classes {
            for n in [2usize, 3, 17, 400, 4096] {
                let values: Vec<f64> = (0..n as u64).map(sample).collect();
                let exact = exact_var(&values);
                let got = lane_stat(ReduceKind::Var, &mut values.clone(), false, Moments::Shifted);
                let rel = ((got - exact) / exact).abs();
                assert!(
                    rel <= 1e-12,
                    "{name}, n = {n}: {got} vs exact {exact} (relative error {rel:e})"
                );
            }
        }
    }

    #[test]
    fn integer_moments_are_exact_up_to_the_final_roundings() {
        for (dtype, max) in [(rumba_ir::DType::U8, 255.0), (rumba_ir::DType::U16, 65535.0)] {
            for n in [1usize, 2, 7, 400, 32_768] {
                let values: Vec<f64> = (0..n as u64)
                    .map(|k| (uniform(9, k) * (max + 1.0)).floor().min(max))
                    .collect();
                let moments = Moments::of(dtype, n);
                assert_eq!(moments, Moments::Integer, "{dtype} lanes of {n}");
                let got = lane_stat(ReduceKind::Var, &mut values.clone(), false, moments);
                let exact = exact_var(&values);
                // Three roundings: D, n² and the quotient.
                assert!(
                    (got - exact).abs() <= 4.0 * f64::EPSILON * exact,
                    "{dtype}, n = {n}: {got} vs {exact}"
                );
            }
        }
        // Near-constant u16 data with a large mean: exact where f64 moments would cancel.
        let values: Vec<f64> = (0..1000).map(|k| 65_000.0 + f64::from(k % 2)).collect();
        let got = lane_stat(ReduceKind::Var, &mut values.clone(), false, Moments::Integer);
        assert_eq!(got, 0.25);
    }
}
