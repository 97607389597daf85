//! Values written as the Rust expressions that make them, so that a failing random case
//! prints a program a person can paste into a test. Shared by the differential target and
//! the root package's random-graph property tests.

use rumba::dsl::Stat;

/// An `f64` as a Rust expression (`f64::NAN`, `-0.0`, `1e300`): reading it back gives the
/// same bits for every value but NaN's payload.
#[must_use]
pub fn lit(v: f64) -> String {
    if v.is_nan() {
        "f64::NAN".into()
    } else if v == f64::INFINITY {
        "f64::INFINITY".into()
    } else if v == f64::NEG_INFINITY {
        "f64::NEG_INFINITY".into()
    } else {
        format!("{v:?}")
    }
}

/// A slice of `f64` as an array expression.
#[must_use]
pub fn lits(v: &[f64]) -> String {
    format!("[{}]", v.iter().map(|x| lit(*x)).collect::<Vec<_>>().join(", "))
}

/// A statistic as its DSL expression (`Stat::Median`, `Stat::Percentile(f64::NAN)`).
#[must_use]
pub fn stat(s: Stat) -> String {
    match s {
        Stat::Percentile(q) => format!("Stat::Percentile({})", lit(q)),
        s => format!("Stat::{s:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_read_back_as_the_same_value() {
        assert_eq!(lit(f64::NAN), "f64::NAN");
        assert_eq!(lit(f64::NEG_INFINITY), "f64::NEG_INFINITY");
        assert_eq!(lit(-0.0), "-0.0");
        assert_eq!(lit(2.0), "2.0");
        assert_eq!(lits(&[1.5, f64::INFINITY]), "[1.5, f64::INFINITY]");
        assert_eq!(stat(Stat::Percentile(f64::NAN)), "Stat::Percentile(f64::NAN)");
        assert_eq!(stat(Stat::Median), "Stat::Median");
    }
}
