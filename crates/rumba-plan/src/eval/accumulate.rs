//! Accumulators: the streaming form of the lane statistics of DESIGN §2 "Numerics".
//!
//! A lane is fed its values in visit order (masked-out points and, with `skip_nan`, NaN
//! values are never fed). The results are bit-identical to the reference interpreter's
//! `stats` module, which sees the same values as a slice:
//!
//! - `sum` adds sequentially in f64; `mean` divides that sum by the count; `weighted` adds
//!   `weight·value` sequentially in f64;
//! - `var`/`std`: the pinned algorithm of [`rumba_ir::numerics`] — exact integer moments
//!   `Σx`, `Σx²` for integer lanes that fit, otherwise f64 sums of `x − a` with `a` the first
//!   value fed, in visit order; std the square root of the variance;
//! - `min`/`max` stay in the value's dtype: the first NaN wins, ties keep the first value;
//! - `median`/`percentile` collect the values, sort them with `total_cmp` (NaN propagates),
//!   median of an even count `(v[m−1] + v[m])/2`, percentile NumPy's linear method.
//!
//! A lane left with no value gives NaN for every kind whose result is a float; an integer
//! min/max has no value at all (`None`, a run-time error). f64 results are rounded once to
//! the reduction's dtype.

use super::scalar::Scalar;
use crate::plan::{Accumulate, Reduction};
use rumba_ir::DType;
use rumba_ir::numerics::{Moments, percentile_position, var_from_integer_moments, var_from_shifted_sums};
use rumba_ir::op::ReduceKind;

/// The running state of one reduction over one lane.
#[derive(Clone, Debug)]
pub(crate) enum Acc {
    /// `sum`, `mean` and `weighted`: the sequential f64 sum and the number of values.
    Sum {
        /// Σ value (or Σ weight·value).
        sum: f64,
        /// Values added.
        count: usize,
    },
    /// `var` and `std` of integer values: exact `Σx` and `Σx²`.
    IntMoments {
        /// Σ x.
        s1: i64,
        /// Σ x².
        s2: i64,
        /// Values added.
        count: usize,
    },
    /// `var` and `std` of other values: `Σd` and `Σd²` of `d = x − a`, `a` the first value.
    Shifted {
        /// The shift (the first value added).
        a: f64,
        /// Σ d.
        s1: f64,
        /// Σ d².
        s2: f64,
        /// Values added.
        count: usize,
    },
    /// `min` and `max` in the value's dtype.
    Extreme {
        /// Best non-NaN value so far.
        best: Option<Scalar>,
        /// The first NaN seen (it is the result).
        nan: Option<Scalar>,
    },
    /// `median` and `percentile`: every value, in f64.
    Collect(Vec<f64>),
}

impl Acc {
    /// An empty accumulator for `kind`; var/std use `moments`.
    pub(crate) fn new(kind: &Accumulate, moments: Moments) -> Acc {
        match (kind, moments) {
            (Accumulate::Stat(ReduceKind::Var | ReduceKind::Std), Moments::Integer) => {
                Acc::IntMoments { s1: 0, s2: 0, count: 0 }
            }
            (Accumulate::Stat(ReduceKind::Var | ReduceKind::Std), Moments::Shifted) => Acc::Shifted {
                a: 0.0,
                s1: 0.0,
                s2: 0.0,
                count: 0,
            },
            (Accumulate::Stat(ReduceKind::Min | ReduceKind::Max), _) => Acc::Extreme { best: None, nan: None },
            (Accumulate::Stat(ReduceKind::Median | ReduceKind::Percentile(_)), _) => Acc::Collect(Vec::new()),
            (Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean) | Accumulate::Weighted { .. }, _) => {
                Acc::Sum { sum: 0.0, count: 0 }
            }
        }
    }

    /// Back to empty, keeping any scratch capacity.
    pub(crate) fn reset(&mut self) {
        match self {
            Acc::Sum { sum, count } => (*sum, *count) = (0.0, 0),
            Acc::IntMoments { s1, s2, count } => (*s1, *s2, *count) = (0, 0, 0),
            Acc::Shifted { a, s1, s2, count } => (*a, *s1, *s2, *count) = (0.0, 0.0, 0.0, 0),
            Acc::Extreme { best, nan } => (*best, *nan) = (None, None),
            Acc::Collect(values) => values.clear(),
        }
    }

    /// Adds one value (with its weight for `weighted`, 1 otherwise); `max` selects the larger
    /// value for `min`/`max`.
    pub(crate) fn add(&mut self, value: Scalar, weight: f64, max: bool) {
        match self {
            Acc::Sum { sum, count } => {
                *sum += weight * value.to_f64();
                *count += 1;
            }
            Acc::IntMoments { s1, s2, count } => {
                // An integer value (the moments are only chosen for integer lanes that fit).
                let x = value.to_f64() as i64;
                *s1 += x;
                *s2 += x * x;
                *count += 1;
            }
            Acc::Shifted { a, s1, s2, count } => {
                let x = value.to_f64();
                if *count == 0 {
                    *a = x;
                }
                let d = x - *a;
                *s1 += d;
                *s2 += d * d;
                *count += 1;
            }
            Acc::Extreme { best, nan } => {
                if nan.is_some() {
                    return;
                }
                if value.is_nan() {
                    *nan = Some(value);
                    return;
                }
                let better = |b: Scalar| {
                    let (v, b) = (value.to_f64(), b.to_f64());
                    if max { v > b } else { v < b }
                };
                if best.is_none_or(better) {
                    *best = Some(value);
                }
            }
            Acc::Collect(values) => values.push(value.to_f64()),
        }
    }

    /// The finished result in `r.dtype`, or `None` for an integer min/max without a value.
    /// `value_dtype` is the dtype of the accumulated values. May sort the scratch.
    pub(crate) fn finish(&mut self, r: &Reduction, value_dtype: DType) -> Option<Scalar> {
        let stat = match (self, &r.kind) {
            (Acc::Extreme { best, nan }, _) => {
                let v = nan.or(*best).or_else(|| Scalar::nan(value_dtype))?;
                return Some(v.cast(r.dtype));
            }
            (_, Accumulate::Stat(ReduceKind::Min | ReduceKind::Max)) => unreachable!("min/max use Acc::Extreme"),
            (Acc::Sum { count: 0, .. } | Acc::IntMoments { count: 0, .. } | Acc::Shifted { count: 0, .. }, _) => {
                f64::NAN
            }
            (Acc::Sum { sum, count }, Accumulate::Stat(ReduceKind::Mean)) => *sum / *count as f64,
            (Acc::Sum { sum, .. }, _) => *sum,
            (Acc::IntMoments { s1, s2, count }, kind) => {
                std_or_var(kind, var_from_integer_moments(*count as i64, *s1, *s2))
            }
            (Acc::Shifted { s1, s2, count, .. }, kind) => {
                std_or_var(kind, var_from_shifted_sums(*count as f64, *s1, *s2))
            }
            (Acc::Collect(values), kind) => order_statistic(values, kind),
        };
        Some(Scalar::from_f64(r.dtype, stat))
    }
}

/// `var`, or its square root for `std`.
fn std_or_var(kind: &Accumulate, var: f64) -> f64 {
    if matches!(kind, Accumulate::Stat(ReduceKind::Std)) {
        var.sqrt()
    } else {
        var
    }
}

/// The median or percentile of the collected values (NaN if empty or if one is NaN). Sorts
/// `values`. Compiled backends call this too, so order statistics agree bit for bit.
pub fn order_statistic(values: &mut [f64], kind: &Accumulate) -> f64 {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match kind {
        Accumulate::Stat(ReduceKind::Percentile(q)) => {
            let (lo, hi, t) = percentile_position(q.0, n);
            values[lo] + (values[hi] - values[lo]) * t
        }
        _ => {
            let m = n / 2;
            if n % 2 == 1 {
                values[m]
            } else {
                (values[m - 1] + values[m]) / 2.0
            }
        }
    }
}
