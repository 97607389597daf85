//! `rumba explain` and the plan-evaluator options of `rumba run` (`--backend eval`,
//! `--threads`, `--disable-pass`).

use std::path::Path;
use std::process::{Command, Output};

fn rumba(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rumba"))
        .args(args)
        .output()
        .expect("rumba runs")
}

fn example(stem: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../examples/graphs/{stem}.json"))
        .display()
        .to_string()
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const SHAPE: &str = "x=16x264x384x1";

#[test]
fn explain_prints_passes_kernels_and_traffic() {
    let text = stdout(&rumba(&[
        "explain",
        &example("background_subtraction"),
        "--shape",
        SHAPE,
    ]));
    for needle in [
        "input x: u8 [16, 264, 384, 1]",
        "eliminate_common_subexpressions",
        "plan: 2 kernels; materialised intermediates: tmp",
        "loop nest (outer → inner): i0<10 reduced",
        "traffic: reads",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in:\n{text}");
    }
    let unfused = stdout(&rumba(&[
        "explain",
        &example("background_subtraction"),
        "--shape",
        SHAPE,
        "--disable-pass",
        "fusion",
    ]));
    let kernels = |t: &str| t.lines().filter(|l| l.starts_with("kernel ")).count();
    assert!(
        kernels(&unfused) > 2 * kernels(&text),
        "unfused: every node is its own kernel:\n{unfused}"
    );
}

#[test]
fn explain_dot_draws_the_plan() {
    let dot = stdout(&rumba(&["explain", &example("envelope"), "--shape", SHAPE, "--dot"]));
    assert!(
        dot.starts_with("digraph plan {") && dot.trim_end().ends_with('}'),
        "{dot}"
    );
    assert_eq!(
        dot.matches("shape=box").count(),
        2,
        "two kernels (row and column envelopes):\n{dot}"
    );
}

#[test]
fn run_on_the_plan_evaluator_with_threads_matches_the_interpreter() {
    let graph = example("sliding_normalisation");
    let lines = |backend: &str, threads: &str| {
        let text = stdout(&rumba(&[
            "run",
            &graph,
            "--shape",
            SHAPE,
            "--backend",
            backend,
            "--threads",
            threads,
        ]));
        assert!(text.contains(&format!("; backend {backend})")), "{text}");
        text.lines()
            .filter(|l| l.starts_with("output"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let interp = lines("interp", "1");
    assert_eq!(lines("eval", "1"), interp);
    assert_eq!(lines("eval", "2"), interp);
}

#[test]
fn unknown_pass_is_an_error_listing_the_passes() {
    let out = rumba(&[
        "run",
        &example("envelope"),
        "--shape",
        SHAPE,
        "--disable-pass",
        "inline_everything",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("inline_everything") && err.contains("fold_constants"),
        "{err}"
    );
}
