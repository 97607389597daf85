//! The typed graph as text (`rumba check`) and the optimised plan (`rumba explain`) of every
//! example are snapshot-tested; the DOT drawings are checked structurally.

use rumba::{Graph, format};
use std::path::Path;

fn example(stem: &str) -> Graph {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/graphs/{stem}.json"));
    let mut def = format::load_file(&path).expect("loads");
    // Sources name the file; make them independent of the checkout's location.
    def = format::parse(&format::to_string(&def), Some(&format!("examples/graphs/{stem}.json"))).expect("reloads");
    Graph::try_from(def).expect("valid")
}

/// Compares with `tests/snapshots/<name>.txt`; `UPDATE_SNAPSHOTS=1` rewrites it.
fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/snapshots/{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("writes snapshot");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        actual,
        expected,
        "{name} differs from {}; rerun with UPDATE_SNAPSHOTS=1 if intended",
        path.display()
    );
}

#[test]
fn typed_graphs_of_the_examples() {
    for stem in [
        "background_subtraction",
        "sliding_normalisation",
        "envelope",
        "roi_series",
    ] {
        snapshot(&format!("check_{stem}"), &example(stem).to_string());
    }
}

#[test]
fn dot_has_a_box_per_node_and_an_edge_per_operand() {
    let g = example("background_subtraction");
    let dot = rumba_ir::dot::to_dot(&g);
    assert!(dot.starts_with("digraph rumba {") && dot.trim_end().ends_with('}'));
    let boxes = dot
        .lines()
        .filter(|l| l.trim_start().starts_with('n') && l.contains("[label="))
        .count();
    assert_eq!(boxes, g.nodes.len());
    let edges = dot.lines().filter(|l| l.contains("->")).count();
    let operands: usize = g.nodes.iter().map(|n| n.op.operands().len()).sum();
    assert_eq!(edges, operands + g.outputs.len());
    assert!(
        dot.contains("label=\"out [pipeline]\""),
        "helpers form clusters:\n{dot}"
    );
}

#[test]
fn explain_of_the_examples() {
    for stem in [
        "background_subtraction",
        "sliding_normalisation",
        "envelope",
        "roi_series",
    ] {
        let graph = example(stem);
        let dtype = graph.node(graph.inputs()[0].1).dtype;
        let specs = vec![rumba::InputSpec {
            name: "x".into(),
            dtype,
            shape: vec![16, 264, 384, 1],
        }];
        let exe = rumba::compile(&graph, &specs, &rumba::Options::default()).expect("compiles");
        let plan = exe.plan().expect("a plan");
        snapshot(&format!("explain_{stem}"), &plan.to_string());
        let dot = rumba_plan::display::to_dot(plan);
        assert_eq!(dot.matches("shape=box").count(), plan.kernels.len());
    }
}
