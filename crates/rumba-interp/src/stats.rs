//! Lane statistics: the one implementation of every `reduce` and `window` statistic
//! (DESIGN §2 "Numerics", fixtures README "reduce"), so the two ops cannot disagree.
//!
//! A *lane* is the ordered list of values one output element is computed from (for a reduce:
//! the selected elements over the reduced axes in row-major order; for a window: the `size`
//! values of one window in index order).
//!
//! - `sum` adds sequentially in f64 in lane order; `mean` is that sum divided by the count.
//! - `var` is the population variance (ddof 0) by Welford's update in lane order; `std` is
//!   its square root in f64.
//! - `median` of an even count is `(v[m−1] + v[m]) / 2` in f64; `percentile(q)` is NumPy's
//!   linear method on the sorted values.
//! - `min`/`max` work in the input's own dtype ([`extreme`]).
//! - NaN propagates through every kind, unless `skip_nan`, which drops NaN values first. A lane
//!   left with no value (all NaN, or nothing selected) gives NaN for every kind, sum included;
//!   for integer min/max it has no value at all (`None`).

use crate::error::Fault;
use crate::value::Elem;
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
pub(crate) fn lane_stat(kind: ReduceKind, values: &mut Vec<f64>, skip_nan: bool) -> f64 {
    if skip_nan {
        values.retain(|v| !v.is_nan());
    }
    if values.is_empty() {
        return f64::NAN;
    }
    match kind {
        ReduceKind::Sum => sum(values),
        ReduceKind::Mean => sum(values) / values.len() as f64,
        ReduceKind::Var => welford_var(values),
        ReduceKind::Std => welford_var(values).sqrt(),
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

/// Population variance by Welford's update in lane order:
/// `mean_k = mean_{k−1} + (x − mean_{k−1})/k`, `M2 += (x − mean_{k−1})·(x − mean_k)`,
/// variance `M2 / n`. `values` is not empty.
fn welford_var(values: &[f64]) -> f64 {
    let mut mean = 0.0;
    let mut m2 = 0.0;
    for (k, &x) in values.iter().enumerate() {
        let delta = x - mean;
        mean += delta / (k + 1) as f64;
        m2 += delta * (x - mean);
    }
    m2 / values.len() as f64
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

/// NumPy's linear percentile of sorted, non-empty `v`: `pos = (q/100)·(n−1)`,
/// `lo = ⌊pos⌋`, `hi = min(lo+1, n−1)`, `t = pos − lo`, result `v[lo] + (v[hi] − v[lo])·t`.
fn percentile(v: &[f64], q: f64) -> f64 {
    let n = v.len();
    let pos = (q / 100.0) * (n - 1) as f64;
    // `check_kind` keeps q in [0, 100], so 0 <= pos <= n−1; the clamp only guards the index.
    let lo = (pos.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let t = pos - lo as f64;
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
    fn welford_matches_two_pass_and_the_exact_value() {
        // Exact: mean 5, squared deviations 9 1 1 1 0 0 4 16 → 32 / 8 = 4.
        let mut v = vec![2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(lane_stat(ReduceKind::Var, &mut v.clone(), false), 4.0);
        assert_eq!(lane_stat(ReduceKind::Std, &mut v, false), 2.0);
        // Large offset: E[x²] − E[x]² would lose everything here.
        let big: Vec<f64> = [0.25, 0.5, 0.75, 1.0].iter().map(|x| 1e9 + x).collect();
        let w = lane_stat(ReduceKind::Var, &mut big.clone(), false);
        assert!((w - two_pass_var(&big)).abs() <= 1e-12, "{w}");
        assert!((w - 0.078125).abs() <= 1e-9, "{w}");
        // A single value has variance 0.
        assert_eq!(lane_stat(ReduceKind::Var, &mut vec![7.5], false), 0.0);
    }

    #[test]
    fn median_odd_and_even_and_percentile_linear() {
        assert_eq!(lane_stat(ReduceKind::Median, &mut vec![3.0, 1.0, 2.0], false), 2.0);
        assert_eq!(lane_stat(ReduceKind::Median, &mut vec![4.0, 1.0, 3.0, 2.0], false), 2.5);
        // Sorted 1 2 4 8: pos = 0.3·3 = 0.9 → lo 0, t 0.9 → 1 + (2 − 1)·0.9 = 1.9;
        // q = 50: pos 1.5 → 2 + (4 − 2)·0.5 = 3 (the median would be 3 too, but q = 80:
        // pos 2.4 → 4 + 4·0.4 = 5.6).
        let p = |q: f64| lane_stat(ReduceKind::Percentile(F64(q)), &mut vec![8.0, 1.0, 4.0, 2.0], false);
        assert_eq!(p(30.0), 1.0 + (2.0 - 1.0) * 0.9);
        assert_eq!(p(50.0), 3.0);
        assert_eq!(p(80.0), 4.0 + (8.0 - 4.0) * ((80.0 / 100.0) * 3.0 - 2.0));
        assert_eq!(p(0.0), 1.0);
        assert_eq!(p(100.0), 8.0);
        // NaN propagates unless skipped.
        assert!(lane_stat(ReduceKind::Median, &mut vec![1.0, f64::NAN, 3.0], false).is_nan());
        assert_eq!(lane_stat(ReduceKind::Median, &mut vec![1.0, f64::NAN, 3.0], true), 2.0);
    }

    #[test]
    fn nan_rules() {
        let nan = f64::NAN;
        assert!(lane_stat(ReduceKind::Sum, &mut vec![nan, nan], true).is_nan());
        assert!(lane_stat(ReduceKind::Sum, &mut vec![1.0, nan], false).is_nan());
        assert_eq!(lane_stat(ReduceKind::Sum, &mut vec![1.0, nan, 2.0], true), 3.0);
        assert!(extreme(&[1.0f32, f32::NAN, 0.0], false, false).is_some_and(f32::is_nan));
        assert_eq!(extreme(&[1.0f32, f32::NAN, 0.0], false, true), Some(0.0));
        assert!(extreme(&[f32::NAN], true, true).is_some_and(f32::is_nan));
        assert_eq!(extreme::<u8>(&[], true, false), None);
        assert_eq!(extreme(&[3u8, 9, 1], true, false), Some(9));
    }
}
