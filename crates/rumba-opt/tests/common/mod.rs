//! Shared by the pass tests: text comparison of graphs, test stacks holding NaN, ±Inf and
//! −0.0, and the differential check (the interpreter on the graph before and after a pass).

#![allow(dead_code)] // Each test binary uses its own subset.

use ndarray::{ArrayD, IxDyn};
use rumba_ir::{Array, ArrayView, Graph};
use rumba_opt::OptError;
use std::collections::BTreeMap;

/// Asserts that `graph` prints as `expected`, comparing line by line with runs of spaces
/// collapsed (the display aligns its `#` comments to the longest line).
#[track_caller]
pub fn assert_text(graph: &Graph, expected: &str) {
    let norm = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect()
    };
    let actual = graph.to_string();
    assert_eq!(norm(&actual), norm(expected), "graph text differs; actual:\n{actual}");
}

/// Runs one pass and checks the result with `rumba_opt::verify`.
#[track_caller]
pub fn run(pass: fn(&Graph) -> Result<Graph, OptError>, graph: &Graph) -> Graph {
    let out = pass(graph).expect("the pass succeeds");
    if let Err(e) = rumba_opt::verify(&out, graph) {
        panic!("verify after the pass: {e}\n{out}");
    }
    out
}

/// A special value every few elements: NaN, +Inf, −Inf, −0.0; the rest small and varied.
fn special(i: usize) -> f64 {
    match i % 13 {
        0 => f64::NAN,
        4 => f64::INFINITY,
        7 => f64::NEG_INFINITY,
        10 => -0.0,
        k => ((i * 37 + k) % 23) as f64 * 0.375 - 3.0,
    }
}

/// An f32 array of `shape` with NaN, ±Inf and −0.0 among its values.
pub fn f32_stack(shape: &[usize]) -> Array {
    let n = shape.iter().product();
    let values = (0..n).map(|i| special(i) as f32).collect();
    Array::F32(ArrayD::from_shape_vec(IxDyn(shape), values).unwrap())
}

/// An f64 array of `shape` with NaN, ±Inf and −0.0 among its values.
pub fn f64_stack(shape: &[usize]) -> Array {
    let n = shape.iter().product();
    let values = (0..n).map(special).collect();
    Array::F64(ArrayD::from_shape_vec(IxDyn(shape), values).unwrap())
}

/// A u8 array of `shape`, zeros included (so divisions make NaN and ±Inf).
pub fn u8_stack(shape: &[usize]) -> Array {
    let n = shape.iter().product();
    let values = (0..n).map(|i| ((i * 53) % 7 * 40) as u8).collect();
    Array::U8(ArrayD::from_shape_vec(IxDyn(shape), values).unwrap())
}

/// Every element's bits (as f64, so f32 NaN payloads and −0.0 stay distinct).
fn bits(a: &Array) -> Vec<u64> {
    a.to_f64_vec().into_iter().map(f64::to_bits).collect()
}

/// Evaluates `before` and `after` with the interpreter for every param set and asserts the
/// same outcome: outputs with equal names, dtypes, shapes and bits, or an error from both.
/// Returns how many param sets evaluated without error (so a test can require some did).
#[track_caller]
pub fn assert_same_results(
    before: &Graph,
    after: &Graph,
    inputs: &[(&str, ArrayView<'_>)],
    param_sets: &[&[(&str, f64)]],
) -> usize {
    let mut ok = 0;
    for params in param_sets {
        let params: BTreeMap<String, f64> = params.iter().map(|&(n, v)| (n.to_owned(), v)).collect();
        let (b, a) = (
            rumba_interp::evaluate(before, inputs, &params),
            rumba_interp::evaluate(after, inputs, &params),
        );
        match (b, a) {
            (Ok(b), Ok(a)) => {
                assert_eq!(b.len(), a.len());
                for ((name_b, vb), (name_a, va)) in b.iter().zip(&a) {
                    assert_eq!(name_b, name_a);
                    assert_eq!((vb.dtype(), vb.shape()), (va.dtype(), va.shape()), "output {name_b}");
                    assert_eq!(
                        bits(vb),
                        bits(va),
                        "output {name_b} with {params:?}:\nbefore {vb:?}\nafter {va:?}\n{after}"
                    );
                }
                ok += 1;
            }
            (Err(_), Err(_)) => {}
            (b, a) => panic!(
                "outcomes differ with {params:?}:\nbefore {:?}\nafter {:?}",
                b.map(|_| "ok"),
                a.map(|_| "ok")
            ),
        }
    }
    ok
}

/// [`assert_same_results`] with no params, requiring success.
#[track_caller]
pub fn assert_same(before: &Graph, after: &Graph, inputs: &[(&str, ArrayView<'_>)]) {
    assert_eq!(
        assert_same_results(before, after, inputs, &[&[]]),
        1,
        "the graphs evaluate"
    );
}
