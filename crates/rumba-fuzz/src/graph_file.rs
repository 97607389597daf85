//! The `graph_file` target: any bytes as a graph file, through everything `rumba check` and
//! `rumba explain` do and a small run.
//!
//! Steps: the bytes as text (invalid UTF-8 is read lossily, as the nearest text); parse; the
//! parsed graph saved and parsed again must print the same (a graph that loads re-saves to a
//! file that loads); validate and print the typed graph and its DOT; then, for a few input
//! specs derived from the declared inputs (free dims small, all 1, one of them 0), bind,
//! compile for the plan evaluator, print what `explain` prints (passes, plan, DOT, streamed
//! chunking at two budgets) and — when every node is small — run the plan evaluator and the
//! interpreter on inputs filled from the bytes and compare them ([`crate::compare`]).
//!
//! Errors anywhere are fine (their messages are formatted, to exercise them); a panic, abort
//! or hang is a bug. Graphs with a node over [`MAX_BIND_ELEMENTS`] elements are not bound:
//! binding a polygon mask that large is legitimately slow.

use crate::bytes::{hash, mix};
use crate::compare::{Outcome, against_interpreter, inexact_running, show};
use crate::values::{Source, array};
use crate::{MAX_BIND_ELEMENTS, MAX_RUN_ELEMENTS};
use rumba::{Array, Backend, Graph, InputSpec, Options, format};
use rumba_ir::Dim;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Runs graph-file text through loading, validation, binding, compilation, `explain` and a
/// small run on the plan evaluator and the interpreter.
///
/// # Panics
/// On a bug: a panic inside rumba, a saved graph that does not load back the same, or the
/// plan evaluator disagreeing with the interpreter (the message holds the file and inputs).
pub fn graph_file(data: &[u8]) {
    let text = match std::str::from_utf8(data) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(data),
    };
    let def = match format::parse(&text, Some("fuzz.json")) {
        Ok(def) => def,
        Err(e) => return seen(e.to_string()),
    };
    let saved = format::to_string(&def);
    let again = format::parse(&saved, None)
        .unwrap_or_else(|e| panic!("a parsed graph saved does not load: {e}\n--- file\n{text}\n--- saved\n{saved}"));
    let resaved = format::to_string(&again);
    assert!(
        resaved == saved,
        "a parsed graph saved and loaded saves differently\n--- file\n{text}\n--- saved\n{saved}\n--- resaved\n{resaved}"
    );
    let graph = match Graph::try_from(&def) {
        Ok(graph) => graph,
        Err(e) => return seen(e.to_string()),
    };
    seen(graph.to_string());
    seen(rumba_ir::dot::to_dot(&graph));
    let too_large = graph.nodes.iter().any(|n| {
        n.shape
            .0
            .iter()
            .map(|d| d.fixed().unwrap_or(1))
            .try_fold(1usize, usize::checked_mul)
            .is_none_or(|n| n > MAX_BIND_ELEMENTS)
    });
    if too_large {
        return;
    }
    let seed = hash(data);
    for specs in spec_sets(&graph, seed) {
        bind_and_run(&graph, &specs, data, seed, &text);
    }
}

/// Input specs from the declared inputs: fixed dims as declared; free dims one small extent
/// shared by all, each its own small extent, all 1, or the shared extent with one free dim 0.
fn spec_sets(graph: &Graph, seed: u64) -> Vec<Vec<InputSpec>> {
    let declared = graph.inputs();
    let free_dims: usize = declared
        .iter()
        .map(|&(_, id)| graph.node(id).shape.0.iter().filter(|d| matches!(d, Dim::Free)).count())
        .sum();
    let shared = 2 + (seed % 4) as usize;
    let zero = (mix(seed, 1) as usize) % free_dims.max(1);
    let mut sets = Vec::new();
    for variant in 0..4 {
        let mut free = 0;
        let specs: Vec<InputSpec> = declared
            .iter()
            .map(|&(name, id)| {
                let node = graph.node(id);
                let shape = node
                    .shape
                    .0
                    .iter()
                    .map(|d| {
                        let Dim::Fixed(n) = d else {
                            free += 1;
                            return match variant {
                                0 => shared,
                                1 => 1 + (mix(seed, 2 + free as u64) % 4) as usize,
                                2 => 1,
                                _ if free - 1 == zero => 0,
                                _ => shared,
                            };
                        };
                        *n
                    })
                    .collect();
                InputSpec {
                    name: name.to_owned(),
                    dtype: node.dtype,
                    shape,
                }
            })
            .collect();
        if !sets.contains(&specs) && (variant < 3 || free_dims > 0) {
            sets.push(specs);
        }
    }
    sets
}

fn elements(shape: &[usize]) -> usize {
    shape
        .iter()
        .try_fold(1usize, |n, &e| n.checked_mul(e))
        .unwrap_or(usize::MAX)
}

fn bind_and_run(graph: &Graph, specs: &[InputSpec], data: &[u8], seed: u64, text: &str) {
    if specs.iter().any(|s| elements(&s.shape) > MAX_BIND_ELEMENTS) {
        return;
    }
    let bound = match rumba_ir::bind::bind(graph, specs) {
        Ok(bound) => bound,
        Err(e) => return seen(e.to_string()),
    };
    if bound.shapes.iter().any(|s| elements(s) > MAX_BIND_ELEMENTS) {
        return;
    }
    let per_window = Options {
        backend: Backend::Eval,
        threads: 1,
        disabled_passes: vec![rumba::RUNNING_WINDOWS.to_owned()],
        ..Options::default()
    };
    let running = Options {
        backend: Backend::Eval,
        threads: 1,
        tile_points: 64,
        ..Options::default()
    };
    let exes: Vec<Result<rumba::Executable, String>> = [&per_window, &running]
        .into_iter()
        .map(|options| rumba::compile(graph, specs, options).map_err(|e| e.to_string()))
        .collect();
    for exe in exes.iter().flatten() {
        explain(exe);
    }
    if bound.shapes.iter().any(|s| elements(s) > MAX_RUN_ELEMENTS) {
        return;
    }
    let storage: Vec<Array> = {
        let mut src = Source::new(data, seed);
        specs.iter().map(|s| array(s.dtype, &s.shape, &mut src)).collect()
    };
    let views: Vec<(&str, rumba::ArrayView<'_>)> = specs
        .iter()
        .zip(&storage)
        .map(|(s, a)| (s.name.as_str(), a.view()))
        .collect();
    let mut runs = vec![BTreeMap::new()];
    let params = graph.params();
    if !params.is_empty() {
        let pool = [0.0, 1.0, -1.0, 2.0, 0.5, f64::NAN, 1e300];
        let value = pool[(seed % pool.len() as u64) as usize];
        runs.push(params.iter().map(|(name, _, _)| ((*name).to_owned(), value)).collect());
    }
    for params in &runs {
        let reference: Outcome = interpret(graph, specs, &views, params);
        for (exe, config) in exes.iter().zip(["per-window", "running windows"]) {
            let got: Outcome = match exe {
                Ok(exe) => exe.run(&views, params).map_err(|e| e.to_string()),
                Err(e) => Err(format!("compile: {e}")),
            };
            let inexact = exe.as_ref().ok().and_then(|e| e.plan()).is_some_and(inexact_running);
            if config == "running windows" && inexact {
                continue;
            }
            if let Err(why) = against_interpreter(&reference, &got) {
                panic!(
                    "plan evaluator ({config}) against the interpreter, params {params:?}: {why}\n--- file\n{text}\n--- inputs\n{}",
                    show(
                        &specs
                            .iter()
                            .zip(&storage)
                            .map(|(s, a)| (s.name.clone(), a.clone()))
                            .collect::<Vec<_>>()
                    )
                );
            }
        }
    }
}

/// The interpreter through the facade (`Backend::Interp`).
fn interpret(
    graph: &Graph,
    specs: &[InputSpec],
    views: &[(&str, rumba::ArrayView<'_>)],
    params: &BTreeMap<String, f64>,
) -> Outcome {
    let options = Options {
        backend: Backend::Interp,
        ..Options::default()
    };
    let exe = rumba::compile(graph, specs, &options).map_err(|e| format!("compile: {e}"))?;
    exe.run(views, params).map_err(|e| e.to_string())
}

/// Keeps a value the optimiser must not discard (formatting is what is exercised).
fn seen<T>(value: T) {
    std::hint::black_box(value);
}

/// What `rumba explain` prints, formatted and dropped.
fn explain(exe: &rumba::Executable) {
    for pass in &exe.passes {
        seen(pass.to_string());
    }
    if let Some(plan) = exe.plan() {
        seen(plan.to_string());
        seen(rumba_plan::display::to_dot(plan));
    }
    seen(exe.memory_needed());
    for budget in [4096, 1 << 20] {
        match exe.stream_chunking(&BTreeMap::new(), budget) {
            Ok(c) => seen(c.chunks.iter().map(Vec::len).sum::<usize>()),
            Err(e) => seen(e.to_string()),
        }
    }
}
