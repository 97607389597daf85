//! Streamed runs (DESIGN §8) give the bits of the in-memory run: random graphs (the proptest
//! generator of `proptest_graphs.rs`) and the example graphs, on inputs written to `.npy`
//! files in C and Fortran order (and synthetic stacks generated box by box), at memory
//! budgets from a few KiB (many one-tile chunks, smaller tiles compiled where a tile does not
//! fit) to the whole run, on 1 and 3 threads, on the JIT and the evaluator.
//!
//! Cases: `RUMBA_STREAM_CASES` (default 60); the long run is
//! `RUMBA_STREAM_CASES=2000 cargo test --release --test streamed`.

mod support;

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use rumba::stream::{StreamInput, StreamOptions};
use rumba::{Array, ArrayView, Backend, Options};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use support::random_graphs::build::{Outcome, build};
use support::random_graphs::strategy::case;

const SEED: [u8; 32] = *b"rumba: streamed = in memory.....";

fn cases() -> u32 {
    std::env::var("RUMBA_STREAM_CASES").map_or(60, |v| v.parse().expect("RUMBA_STREAM_CASES must be a number"))
}

/// Writes `a` as a `.npy` file in Fortran order (its elements in reversed-axes order).
fn write_fortran(path: &Path, a: &Array) {
    let mut bytes = rumba::stream::file::header_bytes(a.dtype(), a.shape(), true);
    macro_rules! put {
        ($a:expr, $f:expr) => {
            for v in $a.t().iter() {
                bytes.extend_from_slice(&$f(*v));
            }
        };
    }
    match a {
        Array::Bool(x) => put!(x, |v: bool| [u8::from(v)]),
        Array::U8(x) => put!(x, |v: u8| [v]),
        Array::U16(x) => put!(x, u16::to_le_bytes),
        Array::I32(x) => put!(x, i32::to_le_bytes),
        Array::F32(x) => put!(x, f32::to_le_bytes),
        Array::F64(x) => put!(x, f64::to_le_bytes),
    }
    std::fs::File::create(path).unwrap().write_all(&bytes).unwrap();
}

/// Writes each input to `dir` (C order, or Fortran order when `fortran`) and returns the files.
fn write_inputs(dir: &Path, inputs: &[(&str, ArrayView<'_>)], fortran: bool) -> Vec<PathBuf> {
    inputs
        .iter()
        .map(|(name, v)| {
            let path = dir.join(format!("in-{name}.npy"));
            let a = v.to_owned();
            if fortran {
                write_fortran(&path, &a);
            } else {
                rumba::npy::write(&path, &a).unwrap();
            }
            path
        })
        .collect()
}

/// Runs `exe` streamed into `out` and checks every output file against `expected` bit for
/// bit (or both an error). A budget too small for one tile of the smallest tiles is an
/// accepted refusal; returns whether the run went through.
fn check_streamed(
    exe: &rumba::Executable,
    inputs: &[(&str, StreamInput<'_>)],
    params: &BTreeMap<String, f64>,
    out: &Path,
    budget: u64,
    expected: &Result<Vec<(String, Array)>, String>,
) -> Result<bool, String> {
    let options = StreamOptions {
        memory_budget: budget,
        ..StreamOptions::default()
    };
    let got = exe.run_to_files(inputs, params, out, &options);
    match (got, expected) {
        (Err(rumba::Error::Budget { .. }), _) => Ok(false),
        (Err(e), Ok(_)) => Err(format!(
            "streamed (budget {budget}) fails where the in-memory run runs: {e}"
        )),
        (Err(_), Err(_)) => Ok(true),
        (Ok(_), Err(e)) => Err(format!(
            "streamed (budget {budget}) runs where the in-memory run fails: {e}"
        )),
        (Ok(report), Ok(expected)) => {
            assert!(
                report.peak_bytes <= budget,
                "peak {} over the budget {budget}",
                report.peak_bytes
            );
            for (name, e) in expected {
                let file = out.join(format!("{name}.npy"));
                let a = support::read_npy(&file);
                support::same_bits(&a.view(), &e.view())
                    .map_err(|why| format!("output {name} streamed within {budget} bytes: {why}"))?;
            }
            Ok(true)
        }
    }
}

#[test]
fn random_graphs_streamed_are_bitwise_the_in_memory_run() {
    let config = Config {
        cases: cases(),
        rng_algorithm: RngAlgorithm::ChaCha,
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED));
    let streamed = std::cell::Cell::new(0usize);
    let result = runner.run(&case(), |plan| {
        let built = build(&plan);
        let Outcome::Valid(graph) = &built.outcome else {
            return Ok(());
        };
        let views: Vec<(&str, ArrayView<'_>)> = built.inputs.iter().map(|i| (i.name.as_str(), i.view())).collect();
        let specs = rumba::input_specs(&views);
        let dir = tempfile::tempdir().unwrap();
        for (k, (backend, threads)) in [(Backend::Jit, 1), (Backend::Eval, 3), (Backend::Jit, 3)]
            .into_iter()
            .enumerate()
        {
            let options = Options {
                backend,
                threads,
                ..Options::default()
            };
            let Ok(exe) = rumba::compile(graph, &specs, &options) else {
                return Ok(());
            };
            let params = if k == 2 { built.params.clone() } else { BTreeMap::new() };
            let expected = exe.run(&views, &params).map_err(|e| e.to_string());
            let files = write_inputs(dir.path(), &views, k == 1);
            let inputs: Vec<(&str, StreamInput<'_>)> = views
                .iter()
                .zip(&files)
                .map(|((name, _), f)| (*name, StreamInput::File(f)))
                .collect();
            for budget in [1 << 12, 5_000, 1 << 16, 1 << 30] {
                let out = dir.path().join(format!("out-{k}-{budget}"));
                let ok = check_streamed(&exe, &inputs, &params, &out, budget, &expected)
                    .map_err(|e| TestCaseError::fail(format!("{e}\n--- DSL\n{}", built.transcript)))?;
                streamed.set(streamed.get() + usize::from(ok));
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("seed {:?}:\n{e}", String::from_utf8_lossy(&SEED));
    }
    assert!(streamed.get() > 0, "no case streamed");
}

/// A deterministic stack of `dtype` with values over the whole range.
fn stack(dtype: rumba::DType, shape: &[usize]) -> Array {
    let n: usize = shape.iter().product();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let dims = ndarray::IxDyn(shape);
    match dtype {
        rumba::DType::U8 => Array::U8(ndarray::ArrayD::from_shape_simple_fn(dims, || next() as u8)),
        rumba::DType::U16 => Array::U16(ndarray::ArrayD::from_shape_simple_fn(dims, || next() as u16)),
        rumba::DType::F32 => Array::F32(ndarray::ArrayD::from_shape_simple_fn(dims, || {
            (next() % 100_000) as f32 / 7.0
        })),
        other => panic!("no stack of {other} ({n} elements)"),
    }
}

/// The example graphs streamed from C and Fortran files, and from an array in memory, at
/// budgets that cut them into many chunks: the in-memory run's bits.
#[test]
fn example_graphs_streamed_are_bitwise_the_in_memory_run() {
    for (name, build) in support::blitz::all() {
        let graph = build().unwrap();
        let (_, id) = graph.inputs()[0];
        let dtype = graph.node(id).dtype;
        let x = stack(dtype, &[23, 520, 520, 1]);
        let views = [("x", x.view())];
        let specs = rumba::input_specs(&views);
        let dir = tempfile::tempdir().unwrap();
        for threads in [1, 2] {
            let exe = rumba::compile(
                &graph,
                &specs,
                &Options {
                    threads,
                    ..Options::default()
                },
            )
            .unwrap();
            let expected = exe.run(&views, &BTreeMap::new()).map_err(|e| e.to_string());
            assert!(expected.is_ok(), "{name}: {expected:?}");
            for fortran in [false, true] {
                let files = write_inputs(dir.path(), &views, fortran);
                let inputs = [("x", StreamInput::File(&files[0]))];
                for budget in [3 << 20, 7_777_777, 1 << 30] {
                    let out = dir.path().join(format!("{name}-{threads}-{fortran}-{budget}"));
                    let ok = check_streamed(&exe, &inputs, &BTreeMap::new(), &out, budget, &expected)
                        .unwrap_or_else(|e| panic!("{name}, {threads} threads, fortran {fortran}: {e}"));
                    assert!(ok, "{name} refused within {budget} bytes");
                }
            }
            let inputs = [("x", StreamInput::Array(x.view()))];
            let out = dir.path().join(format!("{name}-{threads}-array"));
            let ok = check_streamed(&exe, &inputs, &BTreeMap::new(), &out, 3 << 20, &expected).unwrap();
            assert!(ok);
            // A synthetic stack generated box by box: the bits of the whole one.
            let shape = [23, 520, 520, 1];
            let whole = rumba::synthetic::stack(dtype, &shape, 9);
            let views = [("x", whole.view())];
            let expected = exe.run(&views, &BTreeMap::new()).map_err(|e| e.to_string());
            let inputs = [("x", StreamInput::Synthetic(dtype, &shape, 9))];
            for budget in [3 << 20, 1 << 30] {
                let out = dir.path().join(format!("{name}-{threads}-synthetic-{budget}"));
                let ok = check_streamed(&exe, &inputs, &BTreeMap::new(), &out, budget, &expected).unwrap();
                assert!(ok, "{name}: synthetic refused within {budget} bytes");
            }
        }
    }
}

/// Windows along a long T with few pixels: the tiles cut T itself, so a chunk that starts
/// between two restart points of a float running window first reads back to the restart
/// point (bounds inference), giving the in-memory bits.
#[test]
fn running_windows_cut_along_t_stream_from_their_restart_points() {
    use rumba::dsl::{Builder, Stat};
    for dtype in [rumba::DType::F32, rumba::DType::U8] {
        let b = Builder::new();
        let x = b.input("x", dtype, [None, Some(2), Some(3), Some(1)]);
        let mean = x.window(Stat::Mean, 0, 7, false);
        let std = x.window(Stat::Std, 0, 12, false);
        let median = x.window(Stat::Median, 0, 30, false);
        let graph = b.build([("mean", &mean), ("std", &std), ("median", &median)]).unwrap();
        let x = stack(dtype, &[4001, 2, 3, 1]);
        let views = [("x", x.view())];
        let exe = rumba::compile(&graph, &rumba::input_specs(&views), &Options::default()).unwrap();
        let plan = exe.plan().unwrap();
        assert!(
            plan.kernels
                .iter()
                .any(|k| k.running.as_ref().is_some_and(|r| k.schedule.tile_axis == Some(r.axis))),
            "a running window tiled along its own axis:\n{plan}"
        );
        let expected = exe.run(&views, &BTreeMap::new()).map_err(|e| e.to_string());
        let dir = tempfile::tempdir().unwrap();
        let files = write_inputs(dir.path(), &views, false);
        let inputs = [("x", StreamInput::File(&files[0]))];
        for budget in [40_000, 77_777, 300_000, 1 << 30] {
            let out = dir.path().join(format!("out-{budget}"));
            let ok = check_streamed(&exe, &inputs, &BTreeMap::new(), &out, budget, &expected).unwrap();
            assert!(ok, "{dtype} refused within {budget} bytes");
        }
    }
}

/// A budget too small for anything is refused before any file is made; an input truncated
/// after opening is an error naming it; an output over an input is refused; a cancel leaves
/// the previous outputs; nothing is left behind in any of these cases.
#[test]
fn refusals_and_failures_leave_the_directory_as_it_was() {
    let graph = support::blitz::background_subtraction().unwrap();
    let x = stack(rumba::DType::U8, &[20, 64, 64, 1]);
    let views = [("x", x.view())];
    let exe = rumba::compile(&graph, &rumba::input_specs(&views), &Options::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.npy");
    rumba::npy::write(&file, &x).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("out.npy"), b"previous").unwrap();
    let listing = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let params = BTreeMap::new();
    let inputs = [("x", StreamInput::File(&file))];
    let run = |budget: u64, cancel: bool| {
        let options = StreamOptions {
            memory_budget: budget,
            cancel: cancel.then(|| std::sync::Arc::new(|| true) as std::sync::Arc<dyn Fn() -> bool + Send + Sync>),
            ..StreamOptions::default()
        };
        exe.run_to_files(&inputs, &params, &out, &options)
    };
    let e = run(100, false).unwrap_err();
    assert!(matches!(e, rumba::Error::Budget { .. }), "{e}");
    assert!(e.to_string().contains("over the budget of 100 B"), "{e}");
    assert!(matches!(run(1 << 30, true).unwrap_err(), rumba::Error::Cancelled));
    assert_eq!(listing(&out), ["out.npy"]);
    assert_eq!(std::fs::read(out.join("out.npy")).unwrap(), b"previous");
    // An output over the input.
    let over = exe.run_to_files(&inputs, &params, dir.path(), &StreamOptions::default());
    let renamed = dir.path().join("out.npy");
    std::fs::rename(&file, &renamed).unwrap();
    let inputs_over = [("x", StreamInput::File(&renamed))];
    let e = exe
        .run_to_files(&inputs_over, &params, dir.path(), &StreamOptions::default())
        .unwrap_err();
    assert!(matches!(e, rumba::Error::ReplacesInput { .. }), "{e}");
    assert!(e.to_string().contains("would replace input \"x\""), "{e}");
    assert!(over.is_ok(), "writing out.npy beside x.npy is fine");
    // Truncated after opening: the next chunk's read names the file.
    let truncated = dir.path().join("t.npy");
    rumba::npy::write(&truncated, &x).unwrap();
    let len = std::fs::metadata(&truncated).unwrap().len();
    let source = rumba::stream::file::Source::open(&truncated).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&truncated)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let mut buf = vec![0u8; 64 * 64];
    let e = source
        .read_box(&[(19, 19), (0, 63), (0, 63), (0, 0)], &mut buf)
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("t.npy") && text.contains("truncated"), "{text}");
}
