//! The plan evaluator against the reference interpreter: every fixture case and example graph
//! through graph passes + fusion + plan evaluator + tiled executor, optimised, unoptimised
//! (every pass disabled) and unfused, on 1, 2 and 7 threads with tiles short enough that each
//! kernel splits into at least 8 tiles where its domain allows. The evaluator uses the pinned
//! algorithms of DESIGN §2 in the same order as the interpreter, so every comparison is
//! bit for bit — except outputs of plans with a float running window (DESIGN §5: running
//! sums and shifted moments), which are compared under the case's manifest tolerance; their
//! distance to the interpreter is bounded exactly by `tests/windows.rs`.

mod support;

use rumba::{Array, Backend, Graph, Options, format};
use std::collections::BTreeMap;
use support::cases::{json_graph, load_cases};

fn all_passes_disabled() -> Vec<String> {
    rumba_opt::PASSES.iter().map(|p| p.name.to_owned()).collect()
}

/// The configurations every graph is run under: (description, options). Each runs on the
/// plan evaluator and on the JIT (strict: every kernel must compile).
fn configurations() -> Vec<(String, Options)> {
    let mut v = Vec::new();
    for backend in [Backend::Eval, Backend::Jit] {
        let base = Options {
            backend,
            ..Options::default()
        };
        v.push((format!("{backend}, optimised"), base.clone()));
        v.push((
            format!("{backend}, unoptimised"),
            Options {
                disabled_passes: all_passes_disabled(),
                ..base.clone()
            },
        ));
        v.push((
            format!("{backend}, unfused"),
            Options {
                disabled_passes: vec!["fusion".into()],
                ..base.clone()
            },
        ));
        for threads in [1, 2, 7] {
            v.push((
                format!("{backend}, {threads} threads, 1-iteration tiles"),
                Options {
                    threads,
                    tile_points: 1,
                    ..base.clone()
                },
            ));
        }
    }
    v
}

/// Whether a plan has a running window whose algorithm is not exact.
fn inexact_running(plan: &rumba::Plan) -> bool {
    use rumba_plan::running::Algorithm;
    plan.kernels.iter().any(|k| {
        (0..k.reductions.len())
            .filter_map(|r| k.window_spec(r))
            .any(|s| matches!(s.algorithm(), Algorithm::FloatSum | Algorithm::Shifted))
    })
}

/// Runs `graph` under every configuration against the interpreter: bit for bit, or within
/// `(rtol, atol)` where the plan has an inexact running window.
fn check(
    name: &str,
    graph: &Graph,
    inputs: &[(String, Array)],
    params: &BTreeMap<String, f64>,
    (rtol, atol): (f64, f64),
) {
    let views: Vec<(&str, rumba::ArrayView<'_>)> = inputs.iter().map(|(n, a)| (n.as_str(), a.view())).collect();
    let reference =
        rumba_interp::evaluate(graph, &views, params).unwrap_or_else(|e| panic!("{name}: interpreter: {e}"));
    let specs = rumba::input_specs(&views);
    for (config, options) in configurations() {
        let exe = rumba::compile(graph, &specs, &options).unwrap_or_else(|e| panic!("{name} ({config}): {e}"));
        if options.tile_points == 1 {
            for k in &exe.plan().expect("a plan").kernels {
                let most = k
                    .domain
                    .iter()
                    .filter(|a| !a.reduced)
                    .map(|a| a.extent)
                    .max()
                    .unwrap_or(1);
                if most >= rumba_opt::fuse::MIN_TILES {
                    assert!(
                        k.tiles() >= rumba_opt::fuse::MIN_TILES,
                        "{name}: kernel {} has {} tiles",
                        k.name,
                        k.tiles()
                    );
                }
            }
        }
        if options.backend == Backend::Jit {
            assert_eq!(
                exe.backend(),
                Backend::Jit,
                "{name} ({config}): every kernel is compiled"
            );
        }
        let got = exe
            .run(&views, params)
            .unwrap_or_else(|e| panic!("{name} ({config}): {e}"));
        assert_eq!(got.len(), reference.len());
        let inexact = inexact_running(exe.plan().expect("a plan"));
        for ((out, a), (_, b)) in got.iter().zip(&reference) {
            let same = if inexact {
                support::compare(&a.view(), &b.view(), rtol, atol)
            } else {
                support::same_bits(&a.view(), &b.view())
            };
            same.unwrap_or_else(|e| panic!("{name} ({config}) output {out}: {e}"));
        }
    }
}

#[test]
fn every_fixture_case_through_the_plan_evaluator() {
    let mut ran = 0;
    for case in load_cases().iter().filter(|c| c.expect_error.is_none()) {
        let def = format::parse(&json_graph(case), None).expect("parses");
        let graph = Graph::try_from(def).expect("valid");
        check(
            &case.name,
            &graph,
            &case.inputs,
            &BTreeMap::new(),
            (case.rtol, case.atol),
        );
        ran += 1;
    }
    assert_eq!(ran, 57);
}

#[test]
fn every_fixture_error_case_fails_through_compile() {
    for case in load_cases().iter().filter(|c| c.expect_error.is_some()) {
        let result = format::parse(&json_graph(case), None)
            .and_then(Graph::try_from)
            .map_err(rumba::Error::from)
            .and_then(|g| {
                let views: Vec<_> = case.inputs.iter().map(|(n, a)| (n.as_str(), a.view())).collect();
                rumba::compile(&g, &rumba::input_specs(&views), &Options::default())
            });
        assert!(result.is_err(), "{} must fail", case.name);
    }
}

#[test]
fn every_example_graph_through_the_plan_evaluator() {
    for (stem, _) in support::blitz::all() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/graphs/{stem}.json"));
        let graph = Graph::try_from(format::load_file(&path).expect("loads")).expect("valid");
        let dtype = graph.node(graph.inputs()[0].1).dtype;
        let x = rumba::synthetic::stack(dtype, &[16, 264, 384, 1], 5);
        let inputs = vec![("x".to_owned(), x)];
        check(stem, &graph, &inputs, &BTreeMap::new(), (0.0, 0.0));
        if !graph.params().is_empty() {
            let params = BTreeMap::from([("sub_amount".to_owned(), 0.25), ("div_amount".to_owned(), 0.0)]);
            check(stem, &graph, &inputs, &params, (0.0, 0.0));
        }
    }
}
