//! The `differential` target: bytes → a small random graph and its inputs ([`decode`]), run
//! on the reference interpreter, the plan evaluator and the Cranelift JIT (strict), which must
//! agree by DESIGN §5's rules ([`crate::compare`]).
//!
//! Each case runs with every window reduced from its values (`running_windows` disabled) on
//! the evaluator and the JIT, plus one more configuration the header picks (unfused, no graph
//! passes, 2 threads with tiny tiles, …) — all bit for bit with the interpreter; then with
//! running windows on both backends (the tile size picked by the header) — bit for bit with
//! the interpreter when every running algorithm is exact, else with each other. All of it
//! with the params' defaults and, when the case has them, with other run-time values (an
//! invalid `slice_at` start among them: both sides must fail).
//!
//! A mismatch panics with the case as DSL calls, the typed graph, the inputs and both
//! outcomes.

mod case;
mod decode;

use crate::bytes::hash;
use crate::compare::{Outcome, against_interpreter, inexact_running, same_outcome, show};
use crate::values::{Source, array};
use case::Step;
use decode::{Case, decode};
use rumba::{Array, ArrayView, Backend, Options};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Decodes `data` into a graph and inputs and checks that the interpreter, the plan
/// evaluator and the JIT agree on it.
///
/// # Panics
/// When they disagree (the message describes the case), or on any panic inside rumba.
pub fn differential(data: &[u8]) {
    let Some(case) = decode(data) else { return };
    let storage = storage(&case, data);
    let views: Vec<(&str, ArrayView<'_>)> = case
        .inputs
        .iter()
        .zip(&storage)
        .map(|(i, s)| (i.name.as_str(), i.layout.view(s)))
        .collect();
    let specs = rumba::input_specs(&views);
    let mut runs = vec![BTreeMap::new()];
    if !case.params.is_empty() {
        runs.push(case.params.clone());
    }
    let fail = |config: &str, params: &BTreeMap<String, f64>, why: String| -> ! {
        panic!(
            "{config} (params {params:?}): {why}\n{}",
            describe_case(&case, &storage)
        )
    };
    let compile = |options: &Options| rumba::compile(&case.graph, &specs, options).map_err(|e| format!("compile: {e}"));
    let run = |exe: &Result<rumba::Executable, String>, params: &BTreeMap<String, f64>| -> Outcome {
        match exe {
            Ok(exe) => exe.run(&views, params).map_err(|e| format!("run: {e}")),
            Err(e) => Err(e.clone()),
        }
    };
    let interp = compile(&Options {
        backend: Backend::Interp,
        ..Options::default()
    });
    let references: Vec<Outcome> = runs.iter().map(|p| run(&interp, p)).collect();
    for (config, options) in configurations(case.config) {
        let exe = compile(&options);
        for (params, reference) in runs.iter().zip(&references) {
            if let Err(why) = against_interpreter(reference, &run(&exe, params)) {
                fail(config, params, why);
            }
        }
    }
    let mut first: Option<Vec<Outcome>> = None;
    for (config, options) in running_configurations(case.config) {
        let exe = compile(&options);
        let inexact = exe.as_ref().ok().and_then(|e| e.plan()).is_some_and(inexact_running);
        let outcomes: Vec<Outcome> = runs.iter().map(|p| run(&exe, p)).collect();
        for (k, (params, got)) in runs.iter().zip(&outcomes).enumerate() {
            let checked = match (&first, inexact) {
                (_, false) => against_interpreter(&references[k], got),
                (Some(first), true) => {
                    same_outcome(&first[k], got).map_err(|why| format!("against the first running run: {why}"))
                }
                (None, true) => Ok(()),
            };
            if let Err(why) = checked {
                fail(config, params, why);
            }
        }
        first.get_or_insert(outcomes);
    }
}

/// The case `data` decodes to, as text (DSL calls, typed graph, inputs), for triage.
#[must_use]
pub fn describe(data: &[u8]) -> String {
    match decode(data) {
        Some(case) => {
            let storage = storage(&case, data);
            describe_case(&case, &storage)
        }
        None => "no case".to_owned(),
    }
}

/// The inputs' storage, filled from the bytes after the opcodes.
fn storage(case: &Case, data: &[u8]) -> Vec<Array> {
    let mut src = Source::new(&data[case.values_at..], hash(data));
    case.inputs
        .iter()
        .map(|i| array(i.dtype, &i.layout.storage_shape(&i.shape), &mut src))
        .collect()
}

/// Per-window configurations (compared with the interpreter): the evaluator, the JIT, and
/// one more that `config` picks.
fn configurations(config: u8) -> Vec<(&'static str, Options)> {
    let per_window = vec![rumba::RUNNING_WINDOWS.to_owned()];
    let all_passes: Vec<String> = rumba_opt::PASSES
        .iter()
        .map(|p| p.name.to_owned())
        .chain(per_window.clone())
        .collect();
    let unfused = vec![rumba::FUSION.to_owned(), rumba::RUNNING_WINDOWS.to_owned()];
    let eval = Options {
        backend: Backend::Eval,
        threads: 1,
        disabled_passes: per_window,
        ..Options::default()
    };
    let jit = Options {
        backend: Backend::Jit,
        ..eval.clone()
    };
    let extra = match config % 6 {
        0 => (
            "eval, unfused",
            Options {
                disabled_passes: unfused,
                ..eval.clone()
            },
        ),
        1 => (
            "eval, no graph passes",
            Options {
                disabled_passes: all_passes,
                ..eval.clone()
            },
        ),
        2 => (
            "eval, 2 threads, 1-point tiles",
            Options {
                threads: 2,
                tile_points: 1,
                ..eval.clone()
            },
        ),
        3 => (
            "jit, unfused",
            Options {
                disabled_passes: unfused,
                ..jit.clone()
            },
        ),
        4 => (
            "jit, 2 threads, 7-point tiles",
            Options {
                threads: 2,
                tile_points: 7,
                ..jit.clone()
            },
        ),
        _ => (
            "eval, no graph passes, unfused",
            Options {
                disabled_passes: all_passes.into_iter().chain([rumba::FUSION.to_owned()]).collect(),
                ..eval.clone()
            },
        ),
    };
    vec![("eval", eval), ("jit", jit), extra]
}

/// Configurations with running windows: the evaluator, then the JIT, at tile sizes `config`
/// picks.
fn running_configurations(config: u8) -> Vec<(&'static str, Options)> {
    let (eval_tiles, jit_tiles) = [(1 << 20, 37), (37, 1 << 20), (1, 5)][usize::from(config / 6) % 3];
    vec![
        (
            "running, eval",
            Options {
                backend: Backend::Eval,
                threads: 1,
                tile_points: eval_tiles,
                ..Options::default()
            },
        ),
        (
            "running, jit",
            Options {
                backend: Backend::Jit,
                threads: 1,
                tile_points: jit_tiles,
                ..Options::default()
            },
        ),
    ]
}

/// The case as text: DSL calls, typed graph, inputs and run-time params.
fn describe_case(case: &Case, storage: &[Array]) -> String {
    let mut names: Vec<String> = case.inputs.iter().map(|i| i.name.clone()).collect();
    let mut s = String::from("--- DSL\nlet b = Builder::new();\n");
    for i in &case.inputs {
        let dims: Vec<String> = i
            .shape
            .iter()
            .zip(&i.free)
            .map(|(n, &free)| if free { "None".into() } else { format!("Some({n})") })
            .collect();
        let _ = writeln!(
            s,
            "let {} = b.input({:?}, DType::{:?}, [{}]);",
            i.name,
            i.name,
            i.dtype,
            dims.join(", ")
        );
    }
    for step in &case.steps {
        let made: Vec<String> = (0..step.arity()).map(|k| format!("t{}", names.len() + k)).collect();
        let text = step.text(&names);
        let lhs = if made.len() == 1 {
            made[0].clone()
        } else {
            format!("({})", made.join(", "))
        };
        let vals: Vec<String> = (0..made.len())
            .map(|k| {
                let v = &case.vals[names.len() + k];
                format!("{} {:?}", v.dtype, v.shape)
            })
            .collect();
        let _ = writeln!(s, "let {lhs} = {text}; // {}", vals.join(", "));
        names.extend(made);
        if let Step::Param { name, .. } = step
            && let Some(v) = case.params.get(name)
        {
            let _ = writeln!(s, "// run-time {name} = {v:?}");
        }
    }
    let outputs: Vec<String> = case
        .outputs
        .iter()
        .enumerate()
        .map(|(k, &v)| format!("(\"out{k}\", &{})", names[v]))
        .collect();
    let _ = writeln!(s, "let graph = b.build([{}]);", outputs.join(", "));
    let _ = write!(s, "--- graph\n{}", case.graph);
    s.push_str("--- inputs\n");
    for (i, a) in case.inputs.iter().zip(storage) {
        let view = i.layout.view(a);
        let _ = writeln!(s, "{} as {:?} of storage {:?}", i.name, i.layout, a.shape());
        s.push_str(&show(&[(i.name.clone(), view.to_owned())]));
    }
    if !case.params.is_empty() {
        let _ = writeln!(s, "--- run-time params {:?}", case.params);
    }
    s
}
