//! The example graph files: each round-trips through the file format unchanged, and gives
//! bit-identical results to the same pipeline built independently with the DSL.

mod support;

use rumba::{Array, Graph, format};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn example_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/graphs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/graphs")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_round_trips_unchanged() {
    let files = example_files();
    assert_eq!(files.len(), 4, "the four BLITZ workloads");
    for path in files {
        let def = format::load_file(&path).expect("example loads");
        let text = format::to_string(&def);
        let again = format::parse(&text, None).expect("saved text loads");
        assert_eq!(def, again, "{} changed in a save/load round trip", path.display());
        assert_eq!(
            text,
            format::to_string(&again),
            "{}: saving is not stable",
            path.display()
        );
        // Validation is deterministic, so the typed graphs agree too.
        let (g1, g2) = (
            Graph::try_from(&def).expect("valid"),
            Graph::try_from(&again).expect("valid"),
        );
        assert_eq!((g1.nodes, g1.outputs), (g2.nodes, g2.outputs));
    }
}

fn run(graph: &Graph, x: &Array, params: &BTreeMap<String, f64>) -> Vec<(String, Array)> {
    rumba_interp::evaluate(graph, &[("x", x.view())], params).expect("runs")
}

#[test]
fn dsl_and_file_examples_give_identical_results() {
    for (stem, build) in support::blitz::all() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/graphs/{stem}.json"));
        let from_file = Graph::try_from(format::load_file(&path).expect("loads")).expect("valid");
        let from_dsl = build().expect("DSL graph is valid");
        let dtype = from_file.node(from_file.inputs()[0].1).dtype;
        // Big enough for the examples' fixed positions (row 256, column 200, the pentagon).
        let x = rumba::synthetic::stack(dtype, &[24, 420, 400, 1], 7);
        let mut param_sets = vec![BTreeMap::new()];
        if !from_file.params().is_empty() {
            param_sets.push(BTreeMap::from([
                ("sub_amount".to_owned(), 0.5),
                ("div_amount".to_owned(), 0.25),
            ]));
        }
        for params in param_sets {
            let a = run(&from_file, &x, &params);
            let b = run(&from_dsl, &x, &params);
            assert_eq!(a.len(), b.len(), "{stem}: output count");
            for ((name_a, a), (name_b, b)) in a.iter().zip(&b) {
                assert_eq!(name_a, name_b, "{stem}: output names");
                support::same_bits(&b.view(), &a.view()).unwrap_or_else(|e| panic!("{stem}/{name_a}: {e}"));
                assert!(
                    !a.shape().contains(&0),
                    "{stem}/{name_a}: the example computes something"
                );
            }
        }
    }
}
