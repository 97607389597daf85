//! Shared test support: the fixtures' comparison rules, fixture loading, and building each
//! fixture case as a graph both through the DSL and as a JSON graph file.

#![allow(dead_code)]

pub mod blitz;
pub mod cases;
pub mod random_graphs;

use rumba::{Array, ArrayView};
use std::path::{Path, PathBuf};

/// The repository's fixture folder (copied from `../shared/fixtures`, see its README).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Reads a `.npy` file into an owned array.
pub fn read_npy(path: &Path) -> Array {
    let input = rumba::npy::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    input.view().to_owned()
}

/// The fixtures' comparison: same dtype and shape; integers and bools exactly; floats with
/// NaN at the same places, ±Inf equal, finite values within `atol + rtol·|e|`; the sign of
/// zero is ignored.
pub fn compare(actual: &ArrayView<'_>, expected: &ArrayView<'_>, rtol: f64, atol: f64) -> Result<(), String> {
    if actual.dtype() != expected.dtype() {
        return Err(format!(
            "dtype: expected {}, found {}",
            expected.dtype(),
            actual.dtype()
        ));
    }
    if actual.shape() != expected.shape() {
        return Err(format!(
            "shape: expected {:?}, found {:?}",
            expected.shape(),
            actual.shape()
        ));
    }
    let (av, ev) = (actual.to_f64_vec(), expected.to_f64_vec());
    let exact = !actual.dtype().is_float();
    for (i, (&a, &e)) in av.iter().zip(&ev).enumerate() {
        let ok = if e.is_nan() {
            a.is_nan()
        } else if e.is_infinite() || exact {
            a == e
        } else {
            a.is_finite() && (a - e).abs() <= atol + rtol * e.abs()
        };
        if !ok {
            let worst = av
                .iter()
                .zip(&ev)
                .filter(|(a, e)| a.is_finite() && e.is_finite())
                .map(|(a, e)| (a - e).abs())
                .fold(0.0, f64::max);
            return Err(format!(
                "element {i} (flat): expected {e}, found {a} (rtol {rtol}, atol {atol}; largest finite |diff| {worst:e})"
            ));
        }
    }
    Ok(())
}

/// Bitwise equality up to the sign of zero and NaN payloads (DESIGN §5 "bit for bit").
pub fn same_bits(actual: &ArrayView<'_>, expected: &ArrayView<'_>) -> Result<(), String> {
    compare(actual, expected, 0.0, 0.0)
}
