//! Accumulators: the streaming form of the lane statistics of DESIGN §2 "Numerics".
//!
//! A lane is fed its values in visit order (masked-out points and, with `skip_nan`, NaN
//! values are never fed). The results are bit-identical to the reference interpreter's
//! `stats` module, which sees the same values as a slice:
//!
//! - `sum` adds sequentially in f64; `mean` divides that sum by the count; `weighted` adds
//!   `weight·value` sequentially in f64;
//! - `var`/`std`: Welford's update, `mean_k = mean + (x − mean)/k`,
//!   `m2 += (x − mean_old)·(x − mean_new)`, population variance `m2/n`, std its square root;
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
    /// `var` and `std`: Welford's running mean and sum of squared deviations.
    Welford {
        /// Running mean.
        mean: f64,
        /// Running Σ (x − mean_old)·(x − mean_new).
        m2: f64,
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
    /// An empty accumulator for `kind`.
    pub(crate) fn new(kind: &Accumulate) -> Acc {
        match kind {
            Accumulate::Stat(ReduceKind::Var | ReduceKind::Std) => Acc::Welford {
                mean: 0.0,
                m2: 0.0,
                count: 0,
            },
            Accumulate::Stat(ReduceKind::Min | ReduceKind::Max) => Acc::Extreme { best: None, nan: None },
            Accumulate::Stat(ReduceKind::Median | ReduceKind::Percentile(_)) => Acc::Collect(Vec::new()),
            Accumulate::Stat(ReduceKind::Sum | ReduceKind::Mean) | Accumulate::Weighted { .. } => {
                Acc::Sum { sum: 0.0, count: 0 }
            }
        }
    }

    /// Back to empty, keeping any scratch capacity.
    pub(crate) fn reset(&mut self) {
        match self {
            Acc::Sum { sum, count } => (*sum, *count) = (0.0, 0),
            Acc::Welford { mean, m2, count } => (*mean, *m2, *count) = (0.0, 0.0, 0),
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
            Acc::Welford { mean, m2, count } => {
                let x = value.to_f64();
                *count += 1;
                let delta = x - *mean;
                *mean += delta / *count as f64;
                *m2 += delta * (x - *mean);
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
            (Acc::Sum { count: 0, .. } | Acc::Welford { count: 0, .. }, _) => f64::NAN,
            (Acc::Sum { sum, count }, Accumulate::Stat(ReduceKind::Mean)) => *sum / *count as f64,
            (Acc::Sum { sum, .. }, _) => *sum,
            (Acc::Welford { m2, count, .. }, kind) => {
                let var = *m2 / *count as f64;
                if matches!(kind, Accumulate::Stat(ReduceKind::Std)) {
                    var.sqrt()
                } else {
                    var
                }
            }
            (Acc::Collect(values), kind) => order_statistic(values, kind),
        };
        Some(Scalar::from_f64(r.dtype, stat))
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
            let pos = (q.0 / 100.0) * (n - 1) as f64;
            let lo = (pos.floor() as usize).min(n - 1);
            let hi = (lo + 1).min(n - 1);
            let t = pos - lo as f64;
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
