//! `rumba run` on every example graph file, on synthetic stacks and on `.npy` inputs; the
//! written outputs are read back and compared with an in-process run.

use rumba::{Array, Graph, Options};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Small enough for a debug test, large enough for the examples' fixed positions (row 256,
/// column 200, the ROI pentagon) and their sliding window (lag 5 + window 10 < 16 frames).
const SHAPE: [usize; 4] = [16, 420, 400, 1];

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/graphs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("examples/graphs")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 4);
    files
}

fn rumba(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rumba"))
        .args(args)
        .output()
        .expect("rumba runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "rumba {args:?} failed:\n{}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn read(path: &Path) -> Array {
    rumba::npy::read(path)
        .unwrap_or_else(|e| panic!("{e}"))
        .view()
        .to_owned()
}

fn bits(a: &Array) -> Vec<u64> {
    a.to_f64_vec()
        .iter()
        .map(|v| if v.is_nan() { u64::MAX } else { (v + 0.0).to_bits() })
        .collect()
}

#[test]
fn every_example_runs_on_synthetic_and_file_inputs() {
    let shape_arg = format!("x={}", SHAPE.map(|d| d.to_string()).join("x"));
    for path in examples() {
        let graph_path = path.to_str().expect("utf-8 path");
        let graph = Graph::try_from(rumba::format::load_file(&path).expect("loads")).expect("valid");
        let dtype = graph.node(graph.inputs()[0].1).dtype;
        let dir = tempfile::tempdir().expect("temp dir");

        // Synthetic input (the CLI's seed 0 stack), outputs written as .npy.
        let synth_dir = dir.path().join("synthetic");
        let stdout = rumba(&[
            "run",
            graph_path,
            "--shape",
            &shape_arg,
            "--output",
            synth_dir.to_str().expect("utf-8"),
        ]);
        assert!(stdout.contains("synthetic"), "{stdout}");

        // The same stack given as a file.
        let x = rumba::synthetic::stack(dtype, &SHAPE, 0);
        let x_path = dir.path().join("x.npy");
        rumba::npy::write(&x_path, &x).expect("writes x.npy");
        let file_dir = dir.path().join("file");
        let input_arg = format!("x={}", x_path.display());
        rumba(&[
            "run",
            graph_path,
            "--input",
            &input_arg,
            "--output",
            file_dir.to_str().expect("utf-8"),
        ]);

        // In process, for the expected dtypes, shapes and values.
        let specs = rumba::input_specs(&[("x", x.view())]);
        let exe = rumba::compile(&graph, &specs, &Options::default()).expect("compiles");
        let expected = exe.run(&[("x", x.view())], &BTreeMap::new()).expect("runs");
        for (name, want) in &expected {
            for out_dir in [&synth_dir, &file_dir] {
                let got = read(&out_dir.join(format!("{name}.npy")));
                assert_eq!(got.dtype(), want.dtype(), "{graph_path}: {name} dtype");
                assert_eq!(got.shape(), want.shape(), "{graph_path}: {name} shape");
                assert_eq!(bits(&got), bits(want), "{graph_path}: {name} values");
            }
        }
        let written = std::fs::read_dir(&file_dir).expect("output dir").count();
        assert_eq!(
            written,
            expected.len(),
            "{graph_path}: one file per output, nothing else"
        );
    }
}
