//! DESIGN §5's comparison rules, as `tests/proptest_graphs.rs` applies them: the plan path
//! (evaluator or JIT) gives the interpreter's outputs bit for bit, up to the sign of zero and
//! NaN payloads, or fails where it fails. The documented exceptions:
//!
//! - **Laziness.** The plan computes only the lanes an output reads, the interpreter whole
//!   nodes: an empty masked lane ("selects no element") that no output reads fails only in the
//!   interpreter.
//! - **Inexact running windows.** With running windows on, a plan whose window runs a float
//!   running sum or shifted moments ([`inexact_running`]) is compared with the other plan
//!   backend, not with the interpreter (`tests/windows.rs` bounds that distance).

use rumba::{Array, Plan};
use std::fmt::Write;

/// What a run gave: named outputs, or the error's text (a compile error included).
pub type Outcome = Result<Vec<(String, Array)>, String>;

/// Same dtype and shape; every element equal as f64, NaN equal to any NaN, `-0.0 == 0.0`.
///
/// # Errors
/// The first difference.
pub fn same_bits(actual: &Array, expected: &Array) -> Result<(), String> {
    if actual.dtype() != expected.dtype() {
        return Err(format!("dtype {}, expected {}", actual.dtype(), expected.dtype()));
    }
    if actual.shape() != expected.shape() {
        return Err(format!("shape {:?}, expected {:?}", actual.shape(), expected.shape()));
    }
    let (a, e) = (actual.to_f64_vec(), expected.to_f64_vec());
    match a
        .iter()
        .zip(&e)
        .position(|(a, e)| !(a == e || (a.is_nan() && e.is_nan())))
    {
        Some(i) => Err(format!("element {i} (flat) is {:?}, expected {:?}", a[i], e[i])),
        None => Ok(()),
    }
}

/// Compares a plan backend's outcome with the interpreter's (the module's rules).
///
/// # Errors
/// Why they differ.
pub fn against_interpreter(reference: &Outcome, got: &Outcome) -> Result<(), String> {
    match (reference, got) {
        (Err(e), Ok(_)) if e.contains("selects no element") => Ok(()),
        _ => same_outcome(reference, got),
    }
}

/// Compares two outcomes strictly: both errors, or the same outputs bit for bit.
///
/// # Errors
/// Why they differ.
pub fn same_outcome(expected: &Outcome, got: &Outcome) -> Result<(), String> {
    match (expected, got) {
        (Err(_), Err(_)) => Ok(()),
        (Ok(_), Err(e)) => Err(format!("fails where the reference runs: {e}")),
        (Err(e), Ok(out)) => Err(format!("runs where the reference fails ({e}):\n{}", show(out))),
        (Ok(expected), Ok(out)) => {
            let names = |o: &[(String, Array)]| o.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
            if names(expected) != names(out) {
                return Err(format!("outputs {:?}, expected {:?}", names(out), names(expected)));
            }
            for ((name, e), (_, g)) in expected.iter().zip(out) {
                same_bits(g, e).map_err(|why| {
                    format!(
                        "output {name}: {why}\n--- reference\n{}\n--- got\n{}",
                        show(expected),
                        show(out)
                    )
                })?;
            }
            Ok(())
        }
    }
}

/// Whether a plan has a running window whose algorithm is not exact (float running sums or
/// shifted moments).
#[must_use]
pub fn inexact_running(plan: &Plan) -> bool {
    use rumba_plan::running::Algorithm;
    plan.kernels.iter().any(|k| {
        (0..k.reductions.len())
            .filter_map(|r| k.window_spec(r))
            .any(|s| matches!(s.algorithm(), Algorithm::FloatSum | Algorithm::Shifted))
    })
}

/// Outputs as text: name, dtype, shape and values (all of them when few).
#[must_use]
pub fn show(outputs: &[(String, Array)]) -> String {
    let mut s = String::new();
    for (name, a) in outputs {
        let v = a.to_f64_vec();
        let _ = write!(s, "{name}: {} {:?} ", a.dtype(), a.shape());
        if v.len() <= 256 {
            let _ = writeln!(s, "{v:?}");
        } else {
            let _ = writeln!(s, "{} elements", v.len());
        }
    }
    s
}
