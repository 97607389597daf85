//! Deep graph files through the binary (DESIGN §8: no recursion depth limit in any pass):
//! `check` and `explain` of a 100,000-node chain, a run of a 20,000-node chain with the
//! interpreter's bits. Under the address-space limit and watchdog of [`common::guarded`].

mod common;

use common::{exe, guarded, s};
use std::fmt::Write;
use std::fs;
use std::path::Path;

/// A graph file of `n` chained elementwise nodes over one f32 input (unary, binary with the
/// input and a param, so fusion builds one kernel of about `n` expressions).
fn chain(path: &Path, n: usize) {
    let mut nodes = String::from(
        r#"{"id": "x", "op": "input", "dtype": "f32", "shape": [null, 4, 4, 1]},
{"id": "p", "op": "param", "default": 0.5}"#,
    );
    let mut prev = "x".to_string();
    for i in 0..n {
        let node = match i % 4 {
            0 => format!(r#"{{"id": "n{i}", "op": "neg", "x": "{prev}"}}"#),
            1 => format!(r#"{{"id": "n{i}", "op": "add", "a": "{prev}", "b": "p"}}"#),
            2 => format!(r#"{{"id": "n{i}", "op": "abs", "x": "{prev}"}}"#),
            _ => format!(r#"{{"id": "n{i}", "op": "min", "a": "{prev}", "b": "x"}}"#),
        };
        write!(nodes, ",\n{node}").unwrap();
        prev = format!("n{i}");
    }
    let text = format!(r#"{{"format": "rumba-graph", "version": 1, "nodes": [{nodes}], "outputs": ["{prev}"]}}"#);
    fs::write(path, text).unwrap();
}

fn succeeds(args: &[&str]) -> String {
    let mut cmd = exe();
    cmd.args(args);
    let out = guarded(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {:?}\n{stderr}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_100000_node_chain_passes_check_and_explain() {
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("chain.json");
    chain(&graph, 100_000);
    let checked = succeeds(&["check", s(&graph)]);
    assert!(checked.contains("n99999"), "check lists the last node");
    let explained = succeeds(&["explain", s(&graph), "--shape", "x=3x4x4x1"]);
    assert!(
        explained.contains("kernel"),
        "explain prints the plan:\n{}",
        &explained[..explained.len().min(2000)]
    );
}

#[test]
fn a_20000_node_chain_runs_with_the_interpreters_bits() {
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("chain.json");
    chain(&graph, 20_000);
    let mut outputs = Vec::new();
    for backend in ["interp", "eval", "jit"] {
        let out = dir.path().join(backend);
        succeeds(&[
            "run",
            s(&graph),
            "--shape",
            "x=5x4x4x1",
            "--backend",
            backend,
            "--output",
            s(&out),
            "--quiet",
        ]);
        outputs.push(common::data(&out.join("n19999.npy")));
    }
    assert_eq!(outputs[1], outputs[0], "eval against interp");
    assert_eq!(outputs[2], outputs[0], "jit against interp");
}
