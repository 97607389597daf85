//! Every committed corpus and regression input through its fuzz target body — what CI runs
//! of the fuzzers (`cargo test -p rumba-fuzz`). A panic names the file; reproduce one with
//! `cargo run -p rumba-fuzz --example replay -- TARGET FILE` or `cargo fuzz run TARGET FILE`.
//!
//! `regressions/<target>/open/` holds inputs of bugs found and not fixed yet (see the
//! README); they run only in the ignored test [`open_bugs_are_fixed`]. When one is fixed, move
//! its file up into `regressions/<target>/`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// The files of `crates/rumba-fuzz/<kind>/<target>/`, sorted (none if the folder is absent).
fn files(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    files
}

/// Runs `body` on every file of the `kinds` folders of `target`; returns how many ran.
fn run_all(kinds: &[&str], target: &str, body: fn(&[u8])) -> usize {
    let mut failures = Vec::new();
    let mut count = 0;
    for kind in kinds {
        for path in files(kind, target) {
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            count += 1;
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| body(&data))) {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push(format!("{}: {msg}", path.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} inputs failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    count
}

#[test]
fn graph_file_corpus_and_regressions_run_clean() {
    let n = run_all(&["corpus", "regressions"], "graph_file", rumba_fuzz::graph_file);
    assert!(n >= 20, "only {n} graph_file inputs are committed");
}

#[test]
fn differential_corpus_and_regressions_agree() {
    let n = run_all(&["corpus", "regressions"], "differential", rumba_fuzz::differential);
    assert!(n >= 20, "only {n} differential inputs are committed");
}

#[test]
fn every_example_graph_is_in_the_graph_file_corpus() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/graphs");
    let corpus = files("corpus", "graph_file");
    for entry in std::fs::read_dir(&examples).expect("examples/graphs") {
        let path = entry.expect("an entry").path();
        let text = std::fs::read(&path).expect("an example graph");
        assert!(
            corpus.iter().any(|c| std::fs::read(c).is_ok_and(|t| t == text)),
            "{} is not in corpus/graph_file (copy it there)",
            path.display()
        );
    }
}

/// The inputs of open bugs (`cargo test -p rumba-fuzz -- --ignored`): fails until they are
/// fixed.
#[test]
#[ignore = "open bugs: crash inputs not fixed yet (regressions/*/open)"]
fn open_bugs_are_fixed() {
    run_all(&["regressions/graph_file/open"], "", rumba_fuzz::graph_file);
    run_all(&["regressions/differential/open"], "", rumba_fuzz::differential);
}
