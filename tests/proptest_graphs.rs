//! Property test: random graphs through the plan path — graph passes, fusion, plan evaluator,
//! tiled executor — give results bit for bit identical to the reference interpreter (DESIGN §5:
//! the evaluator runs the pinned algorithms in the interpreter's order, so every comparison is
//! bitwise, up to the sign of zero and NaN payloads) — and through the Cranelift JIT, strictly.
//! Each graph runs optimised, unfused, with no graph pass, with neither, and on 3 threads with
//! 1-point tiles (evaluator), and optimised, unfused and on 3 threads (JIT), with every window
//! reduced from its values; then with running windows (DESIGN §5) on both backends at several
//! tile sizes and thread counts — bit for bit with the interpreter where every running
//! algorithm is exact, else bit for bit with each other ([`running_configurations`]); with the
//! params' defaults and, when the case has them, with other run-time param values.
//!
//! Run-time errors follow laziness: only what reaches an output is computed, so a dead node or
//! a lane no output reads raises nothing (the interpreter skips dead nodes; an empty masked
//! lane that only the interpreter computes is the one accepted difference).
//!
//! The generator (`support::random_graphs`) builds each case through the DSL from a small
//! recursive plan that proptest generates and shrinks: 1–2 inputs of every numeric dtype, rank
//! 1–4, odd extents, non-contiguous views, edge values (NaN, ±Inf, −0.0, denormals, extremes);
//! elementwise chains, comparisons and select, casts, params, movement, reductions with masks,
//! windows, polygon masks and the image-stack helpers. A case that validation or binding
//! rejects must be rejected by both paths (and is then skipped), as must a run-time error. At
//! the end the test asserts that every primitive op and every dtype was generated.
//!
//! The runner is seeded ([`SEED`]), so a run is reproducible; a failure prints the shrunk case
//! as DSL calls, the typed graph, the inputs and both results. The number of cases comes from
//! `RUMBA_PROPTEST_CASES` (default 300); the long run is
//! `RUMBA_PROPTEST_CASES=10000 cargo test --release --test proptest_graphs`.

mod support;

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use rumba::{Array, ArrayView, Backend, DType, Graph, Options};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use support::random_graphs::build::{Built, Outcome, build};
use support::random_graphs::strategy::case;

/// The runner's seed (ChaCha).
const SEED: [u8; 32] = *b"rumba: plan evaluator = interp.1";

/// Every primitive op, by [`rumba_ir::Op::name`].
const OPS: [&str; 33] = [
    "input",
    "const",
    "param",
    "neg",
    "abs",
    "sqrt",
    "exp",
    "log",
    "is_nan",
    "add",
    "sub",
    "mul",
    "div",
    "min",
    "max",
    "lt",
    "le",
    "gt",
    "ge",
    "eq",
    "ne",
    "select",
    "nan_to_num",
    "cast",
    "slice",
    "slice_at",
    "permute",
    "squeeze",
    "expand",
    "broadcast_to",
    "reduce",
    "window",
    "polygon_mask",
];

fn cases() -> u32 {
    std::env::var("RUMBA_PROPTEST_CASES").map_or(300, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("RUMBA_PROPTEST_CASES must be a number, found {v:?}"))
    })
}

/// The configurations every graph is run under with every window reduced from its values
/// (`running_windows` disabled): the plan evaluator and the JIT (strict). Both are compared
/// bit for bit with the interpreter, so JIT ≡ evaluator follows.
fn configurations() -> Vec<(&'static str, Options)> {
    let per_window = || vec![rumba::RUNNING_WINDOWS.to_owned()];
    let passes: Vec<String> = rumba_opt::PASSES
        .iter()
        .map(|p| p.name.to_owned())
        .chain(per_window())
        .collect();
    let nothing: Vec<String> = passes.iter().cloned().chain([rumba::FUSION.to_owned()]).collect();
    let eval = Options {
        backend: Backend::Eval,
        disabled_passes: per_window(),
        ..Options::default()
    };
    vec![
        ("optimised", eval.clone()),
        (
            "unfused",
            Options {
                disabled_passes: vec![rumba::FUSION.into(), rumba::RUNNING_WINDOWS.into()],
                ..eval.clone()
            },
        ),
        (
            "no graph passes",
            Options {
                disabled_passes: passes,
                ..eval.clone()
            },
        ),
        (
            "no passes, unfused",
            Options {
                disabled_passes: nothing,
                ..eval.clone()
            },
        ),
        (
            "3 threads, 1-point tiles",
            Options {
                threads: 3,
                tile_points: 1,
                ..eval.clone()
            },
        ),
        (
            "jit, optimised",
            Options {
                backend: Backend::Jit,
                ..eval.clone()
            },
        ),
        (
            "jit, unfused",
            Options {
                backend: Backend::Jit,
                disabled_passes: vec![rumba::FUSION.into(), rumba::RUNNING_WINDOWS.into()],
                ..Options::default()
            },
        ),
        (
            "jit, 3 threads, 1-point tiles",
            Options {
                backend: Backend::Jit,
                threads: 3,
                tile_points: 1,
                ..eval
            },
        ),
    ]
}

/// The configurations with running windows (DESIGN §5): the evaluator and the JIT at several
/// tile sizes and thread counts. Where every running window of the plan is exact (integer
/// sums and moments, min/max, order statistics) they are compared bit for bit with the
/// interpreter; otherwise with the first of them (JIT ≡ evaluator, and the same bits for any
/// tile size and thread count) — `tests/windows.rs` bounds their distance to the interpreter.
fn running_configurations() -> Vec<(&'static str, Options)> {
    let eval = Options {
        backend: Backend::Eval,
        ..Options::default()
    };
    let jit = Options {
        backend: Backend::Jit,
        ..Options::default()
    };
    let small_tiles = |o: &Options, threads, tile_points| Options {
        threads,
        tile_points,
        ..o.clone()
    };
    vec![
        ("running, eval", eval.clone()),
        ("running, eval, 3 threads, 1-point tiles", small_tiles(&eval, 3, 1)),
        ("running, eval, 2 threads, 37-point tiles", small_tiles(&eval, 2, 37)),
        ("running, jit", jit.clone()),
        ("running, jit, 3 threads, 1-point tiles", small_tiles(&jit, 3, 1)),
        ("running, jit, 2 threads, 37-point tiles", small_tiles(&jit, 2, 37)),
    ]
}

/// Whether a plan has a running window whose algorithm is not exact (float running sums or
/// shifted moments).
fn inexact_running(plan: &rumba::Plan) -> bool {
    use rumba_plan::running::Algorithm;
    plan.kernels.iter().any(|k| {
        (0..k.reductions.len())
            .filter_map(|r| k.window_spec(r))
            .any(|s| matches!(s.algorithm(), Algorithm::FloatSum | Algorithm::Shifted))
    })
}

/// What the run generated and how cases ended.
#[derive(Default)]
struct Tally {
    ops: BTreeMap<&'static str, usize>,
    dtypes: BTreeSet<DType>,
    input_dtypes: BTreeSet<DType>,
    compared: usize,
    nodes: usize,
    kernels: usize,
    invalid: usize,
    unbindable: usize,
    run_errors: usize,
    /// Cases whose plan has a running window, exact and inexact.
    running: [usize; 2],
}

type Outputs = Result<Vec<(String, Array)>, String>;

/// Runs `f`, turning a panic into an error starting with `PANIC`.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        Err(format!("PANIC: {msg}"))
    })
}

/// The case as text: DSL transcript, typed graph, inputs and run-time params.
fn describe(built: &Built, graph: Option<&Graph>) -> String {
    let mut s = format!("--- DSL\n{}\n", built.transcript);
    if let Some(g) = graph {
        let _ = write!(s, "--- graph\n{g}");
    }
    s.push_str("--- inputs\n");
    for i in &built.inputs {
        let _ = writeln!(s, "{}", i.describe());
    }
    if !built.params.is_empty() {
        let _ = writeln!(s, "--- run-time params {:?}", built.params);
    }
    s
}

fn show(outputs: &[(String, Array)]) -> String {
    outputs
        .iter()
        .map(|(n, a)| {
            let v = a.to_f64_vec();
            let values = if v.len() <= 128 {
                format!("{v:?}")
            } else {
                format!("{} elements", v.len())
            };
            format!("{n}: {} {:?} {values}", a.dtype(), a.shape())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Compares one run of the plan path with the interpreter's: the same outputs bit for bit, or
/// both an error.
fn compare(reference: &Outputs, got: &Outputs) -> Result<(), String> {
    match (reference, got) {
        (_, Err(e)) if e.starts_with("PANIC") => Err(e.clone()),
        (Ok(_), Err(e)) => Err(format!("fails where the interpreter runs: {e}")),
        // Laziness: the plan computes only the lanes an output needs, the interpreter whole
        // nodes; an empty masked lane that no output reads fails only in the interpreter.
        (Err(e), Ok(_)) if e.contains("selects no element") => Ok(()),
        (Err(e), Ok(out)) => Err(format!("runs where the interpreter fails ({e}):\n{}", show(out))),
        (Err(_), Err(_)) => Ok(()),
        (Ok(expected), Ok(out)) => {
            let names = |o: &[(String, Array)]| o.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
            if names(expected) != names(out) {
                return Err(format!("outputs {:?}, expected {:?}", names(out), names(expected)));
            }
            for ((name, e), (_, g)) in expected.iter().zip(out) {
                support::same_bits(&g.view(), &e.view()).map_err(|why| {
                    format!(
                        "output {name}: {why}\n--- interpreter\n{}\n--- plan\n{}",
                        show(expected),
                        show(out)
                    )
                })?;
            }
            Ok(())
        }
    }
}

/// Checks one case under every configuration, with the default params and, when the case
/// has them, the run-time ones (one compile each: a param never recompiles). `Err` carries the
/// full description of the case.
fn check(built: &Built, tally: &RefCell<Tally>) -> Result<(), String> {
    let (graph, unbindable) = match &built.outcome {
        Outcome::Invalid(_) => {
            tally.borrow_mut().invalid += 1;
            return Ok(());
        }
        Outcome::Valid(g) => (g, false),
        Outcome::Unbindable(g, _) => (g, true),
    };
    let fail = |what: String| Err(format!("{what}\n{}", describe(built, Some(graph))));
    let views: Vec<(&str, ArrayView<'_>)> = built.inputs.iter().map(|i| (i.name.as_str(), i.view())).collect();
    let specs = rumba::input_specs(&views);
    let mut runs = vec![("default params", BTreeMap::new())];
    if !built.params.is_empty() {
        runs.push(("run-time params", built.params.clone()));
    }
    let mut references = Vec::new();
    for (label, params) in &runs {
        let reference = guarded(|| rumba_interp::evaluate(graph, &views, params).map_err(|e| e.to_string()));
        match &reference {
            Err(e) if e.starts_with("PANIC") => return fail(format!("interpreter ({label}): {e}")),
            Ok(_) if unbindable => return fail(format!("interpreter ({label}) runs a graph binding rejects")),
            _ => {}
        }
        references.push(reference);
    }
    let mut kernels = 0;
    for (config, options) in configurations() {
        let exe = guarded(|| rumba::compile(graph, &specs, &options).map_err(|e| format!("compile: {e}")));
        if config == "optimised"
            && let Ok(exe) = &exe
        {
            kernels = exe.plan().map_or(0, |p| p.kernels.len());
        }
        for ((label, params), reference) in runs.iter().zip(&references) {
            let got = match &exe {
                Ok(exe) => guarded(|| exe.run(&views, params).map_err(|e| format!("run: {e}"))),
                Err(e) => Err(e.clone()),
            };
            if let Err(why) = compare(reference, &got) {
                return fail(format!("{config} ({label}): {why}"));
            }
        }
    }
    let mut running_reference: Option<Vec<Outputs>> = None;
    for (config, options) in running_configurations() {
        let exe = guarded(|| rumba::compile(graph, &specs, &options).map_err(|e| format!("compile: {e}")));
        let plan = exe.as_ref().ok().and_then(|e| e.plan());
        let inexact = plan.is_some_and(inexact_running);
        if config == "running, eval" && plan.is_some_and(|p| p.kernels.iter().any(|k| k.running.is_some())) {
            tally.borrow_mut().running[usize::from(inexact)] += 1;
        }
        let mut outputs = Vec::new();
        for ((label, params), reference) in runs.iter().zip(&references) {
            let got = match &exe {
                Ok(exe) => guarded(|| exe.run(&views, params).map_err(|e| format!("run: {e}"))),
                Err(e) => Err(e.clone()),
            };
            let against = match (&running_reference, inexact) {
                (Some(first), true) => Some(&first[outputs.len()]),
                // The first inexact run is the others' reference.
                (None, true) => None,
                (_, false) => Some(reference),
            };
            if let Some(Err(why)) = against.map(|a| compare(a, &got)) {
                let what = if inexact {
                    "the first running run"
                } else {
                    "the interpreter"
                };
                return fail(format!("{config} ({label}) against {what}: {why}"));
            }
            outputs.push(got);
        }
        running_reference.get_or_insert(outputs);
    }
    let mut t = tally.borrow_mut();
    if unbindable {
        t.unbindable += 1;
    } else if references.iter().all(Result::is_err) {
        t.run_errors += 1;
    } else {
        t.compared += 1;
        t.nodes += graph.nodes.len();
        t.kernels += kernels;
        for node in &graph.nodes {
            *t.ops.entry(node.op.name()).or_default() += 1;
            t.dtypes.insert(node.dtype);
        }
        t.input_dtypes.extend(built.inputs.iter().map(|i| i.plan.dtype));
    }
    Ok(())
}

#[test]
fn random_graphs_plan_evaluator_is_bitwise_the_interpreter() {
    let cases = cases();
    let config = Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        failure_persistence: None,
        max_shrink_iters: 8192,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED));
    let tally = RefCell::new(Tally::default());
    let result = runner.run(&case(), |plan| {
        let built = build(&plan);
        check(&built, &tally).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        let seed = String::from_utf8_lossy(&SEED);
        panic!("seed {seed:?} (ChaCha), {cases} cases (RUMBA_PROPTEST_CASES):\n{e}");
    }
    let t = tally.into_inner();
    eprintln!(
        "{cases} cases: {} compared ({:.1} nodes, {:.1} optimised kernels each), {} rejected by validation, \
         {} by binding, {} at run time\nops {:?}",
        t.compared,
        t.nodes as f64 / t.compared.max(1) as f64,
        t.kernels as f64 / t.compared.max(1) as f64,
        t.invalid,
        t.unbindable,
        t.run_errors,
        t.ops
    );
    eprintln!(
        "running windows: {} cases exact, {} inexact",
        t.running[0], t.running[1]
    );
    assert!(
        t.running.iter().all(|&n| n > 0),
        "running windows generated: {:?} (exact, inexact)",
        t.running
    );
    let missing: Vec<&str> = OPS.into_iter().filter(|op| !t.ops.contains_key(op)).collect();
    assert!(missing.is_empty(), "ops never generated: {missing:?}");
    let missing: Vec<DType> = DType::ALL.into_iter().filter(|d| !t.dtypes.contains(d)).collect();
    assert!(missing.is_empty(), "dtypes never generated: {missing:?}");
    assert_eq!(t.input_dtypes.len(), 5, "input dtypes: {:?}", t.input_dtypes);
    assert!(
        t.compared * 10 >= cases as usize * 8,
        "only {} of {cases} cases were valid graphs that ran",
        t.compared
    );
}
