//! End-to-end tests of the `rumba` binary: runs on synthetic and file inputs, outputs written
//! as `.npy`, and every user-facing error with its exit code.

use ndarray::{ArrayD, IxDyn};
use rumba::{Array, Graph, Options};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

/// Background subtraction: `out = f32(x) − amount · mean(x[0..=3])`.
const GRAPH: &str = r#"{"format": "rumba-graph", "version": 1, "nodes": [
  {"id": "x", "op": "input", "dtype": "u8", "shape": [null, null, null, 1]},
  {"id": "amount", "op": "param", "default": 1.0},
  {"id": "out", "op": "pipeline", "x": "x",
   "subtract": {"source": "range", "bounds": [0, 3], "kind": "mean", "amount": "amount"},
   "divide": null}],
 "outputs": ["out"]}"#;

/// A temporary directory holding `graph.json`.
fn setup() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("graph.json");
    fs::write(&graph, GRAPH).unwrap();
    (dir, graph)
}

fn rumba(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rumba")).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts a failure with `code` whose message contains every one of `needles`.
fn assert_fails(out: &Output, code: i32, needles: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {stderr}\nstdout: {}",
        text(&out.stdout)
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A small u8 stack with a pattern that changes over frames.
fn stack() -> ArrayD<u8> {
    ArrayD::from_shape_fn(IxDyn(&[6, 12, 10, 1]), |i| {
        ((i[0] * 37 + i[1] * 11 + i[2] * 5) % 251) as u8
    })
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn synthetic_run_writes_f32_output() {
    let (dir, graph) = setup();
    let out_dir = dir.path().join("results");
    let out = rumba(&["run", s(&graph), "--shape", "x=8x16x16x1", "--output", s(&out_dir)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("synthetic (seed 0)") && stdout.contains("(8, 16, 16, 1)"),
        "{stdout}"
    );
    assert!(stdout.contains("wrote ") && stdout.contains("out.npy"), "{stdout}");
    // Reading as f32 fails unless the file holds f32.
    let result: ArrayD<f32> = ndarray_npy::read_npy(out_dir.join("out.npy")).unwrap();
    assert_eq!(result.shape(), [8, 16, 16, 1]);
    assert_eq!(entries(&out_dir), ["out.npy"]);
}

/// The same graph computed in this process through the library.
fn in_process(graph: &Path, x: &Array, params: &[(&str, f64)]) -> Array {
    let graph = Graph::try_from(rumba::format::load_file(graph).unwrap()).unwrap();
    let inputs = [("x", x.view())];
    let exe = rumba::compile(&graph, &rumba::input_specs(&inputs), &Options::default()).unwrap();
    let params: BTreeMap<String, f64> = params.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect();
    exe.run(&inputs, &params).unwrap().remove(0).1
}

#[test]
fn file_input_gives_the_library_result() {
    let (dir, graph) = setup();
    let input = dir.path().join("x.npy");
    ndarray_npy::write_npy(&input, &stack()).unwrap();
    let out_dir = dir.path().join("results");
    let x = format!("x={}", s(&input));
    let out = rumba(&[
        "run",
        s(&graph),
        "--input",
        &x,
        "--param",
        "amount=0.5",
        "--output",
        s(&out_dir),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(s(&input)), "the input line names the file");
    let result: ArrayD<f32> = ndarray_npy::read_npy(out_dir.join("out.npy")).unwrap();
    assert_eq!(
        Array::F32(result),
        in_process(&graph, &Array::U8(stack()), &[("amount", 0.5)])
    );
}

#[test]
fn fortran_order_input_gives_the_same_result() {
    let (dir, graph) = setup();
    // The same logical stack stored in Fortran order: read as a strided view of the map.
    let fortran = stack()
        .reversed_axes()
        .as_standard_layout()
        .into_owned()
        .reversed_axes();
    assert_eq!(fortran, stack());
    let input = dir.path().join("x_f.npy");
    ndarray_npy::write_npy(&input, &fortran).unwrap();
    let out_dir = dir.path().join("results");
    let x = format!("x={}", s(&input));
    let out = rumba(&["run", s(&graph), "--input", &x, "--output", s(&out_dir)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: ArrayD<f32> = ndarray_npy::read_npy(out_dir.join("out.npy")).unwrap();
    assert_eq!(Array::F32(result), in_process(&graph, &Array::U8(stack()), &[]));
}

#[test]
fn param_that_is_not_a_number_is_a_usage_error() {
    let (_dir, graph) = setup();
    let out = rumba(&["run", s(&graph), "--shape", "x=4x8x8x1", "--param", "amount=abc"]);
    assert_fails(&out, 2, &["amount", "\"abc\"", "expected a number"]);
}

#[test]
fn unknown_names_list_what_the_graph_has() {
    let (_dir, graph) = setup();
    assert_fails(
        &rumba(&["run", s(&graph), "--input", "y=y.npy"]),
        2,
        &["\"y\"", "inputs are \"x\""],
    );
    assert_fails(
        &rumba(&["run", s(&graph), "--param", "gain=2"]),
        2,
        &["\"gain\"", "params are \"amount\""],
    );
}

#[test]
fn missing_input_file_is_named() {
    let (dir, graph) = setup();
    let missing = dir.path().join("missing.npy");
    let out = rumba(&["run", s(&graph), "--input", &format!("x={}", s(&missing))]);
    assert_fails(&out, 2, &[s(&missing), "no such file"]);
}

#[test]
fn text_input_is_not_npy() {
    let (dir, graph) = setup();
    let notes = dir.path().join("notes.txt");
    fs::write(&notes, "frame,value\n0,12\n1,13\n").unwrap();
    let out = rumba(&["run", s(&graph), "--input", &format!("x={}", s(&notes))]);
    assert_fails(&out, 2, &[s(&notes), "not a .npy file"]);
}

#[test]
fn input_of_the_wrong_dtype_names_both() {
    let (dir, graph) = setup();
    let input = dir.path().join("x16.npy");
    ndarray_npy::write_npy(&input, &stack().mapv(u16::from)).unwrap();
    let out = rumba(&["run", s(&graph), "--input", &format!("x={}", s(&input))]);
    assert_fails(&out, 2, &["expects dtype u8", "found u16", s(&input)]);
}

#[test]
fn output_onto_a_regular_file_fails_before_running_and_writes_nothing() {
    let (dir, graph) = setup();
    let taken = dir.path().join("taken");
    fs::write(&taken, "keep").unwrap();
    let out = rumba(&["run", s(&graph), "--shape", "x=4x8x8x1", "--output", s(&taken)]);
    assert_fails(&out, 2, &[s(&taken), "not a directory"]);
    assert!(
        !text(&out.stdout).contains("output "),
        "nothing ran: {}",
        text(&out.stdout)
    );
    assert_eq!(fs::read_to_string(&taken).unwrap(), "keep");
    assert_eq!(entries(dir.path()), ["graph.json", "taken"]);
}

#[test]
fn check_prints_a_valid_graph() {
    let (_dir, graph) = setup();
    let out = rumba(&["check", s(&graph)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("amount"), "{}", text(&out.stdout));
}

#[test]
fn check_names_the_node_with_a_bad_reference() {
    let (dir, _) = setup();
    let graph = dir.path().join("bad.json");
    fs::write(&graph, GRAPH.replace(r#""x": "x""#, r#""x": "frames""#)).unwrap();
    let out = rumba(&["check", s(&graph)]);
    assert_fails(&out, 2, &["node \"out\"", "\"frames\"", "bad.json"]);
    assert_fails(&rumba(&["run", s(&graph)]), 2, &["node \"out\"", "\"frames\""]);
}

#[test]
fn bad_flags_are_usage_errors() {
    let (_dir, graph) = setup();
    assert_fails(
        &rumba(&["run", s(&graph), "--shape", "x=8x16"]),
        2,
        &["input \"x\"", "rank 4"],
    );
    assert_fails(
        &rumba(&["run", s(&graph), "--shape", "x=8xbig"]),
        2,
        &["--shape x", "8xbig"],
    );
    let out = rumba(&["run", s(&graph), "--backend", "gpu"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_backend_gives_the_library_result_and_jit_is_listed() {
    let (dir, graph) = setup();
    let input = dir.path().join("x.npy");
    ndarray_npy::write_npy(&input, &stack()).unwrap();
    let x = format!("x={}", s(&input));
    let expected = in_process(&graph, &Array::U8(stack()), &[]);
    for backend in ["interp", "eval", "jit", "auto"] {
        let out_dir = dir.path().join(backend);
        let out = rumba(&[
            "run",
            s(&graph),
            "--input",
            &x,
            "--backend",
            backend,
            "--output",
            s(&out_dir),
        ]);
        assert!(out.status.success(), "{backend}: {}", text(&out.stderr));
        let result: ArrayD<f32> = ndarray_npy::read_npy(out_dir.join("out.npy")).unwrap();
        assert_eq!(Array::F32(result), expected, "--backend {backend}");
        if backend == "jit" {
            // Strict JIT: every kernel line names the JIT, none the evaluator.
            let stdout = text(&out.stdout);
            assert!(stdout.contains("jit") && !stdout.contains("eval"), "{stdout}");
        }
    }
    let help = text(&rumba(&["run", "--help"]).stdout);
    assert!(help.contains("jit") && help.contains("strictly"), "{help}");
    assert!(!help.contains("now: the plan evaluator"), "{help}");
}
