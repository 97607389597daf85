//! Streamed runs of the `rumba` binary (DESIGN §8): what signals, closed pipes, refusals,
//! dead runs' leftovers and extreme arguments do to the output directory. Peak memory is
//! measured in `streaming_rss.rs`.

mod common;

use common::{example, exe, listing, s, write_stack};
use rumba::{Array, DType};
use std::fs;
use std::path::Path;
use std::process::Stdio;

/// SIGTERM while a streamed run writes: exit 143, no temporary left, the previous outputs
/// untouched.
#[test]
fn sigterm_while_writing_keeps_the_previous_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.npy");
    write_stack(&input, DType::U8, [512, 512, 512, 1]);
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("out.npy"), b"previous").unwrap();
    let mut child = exe()
        .args(["run", s(&example("sliding_normalisation")), "--input"])
        .arg(format!("x={}", s(&input)))
        .args(["--output", s(&out), "--memory-budget", "4MiB", "--threads", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let temporary = format!(".out.npy.tmp-{}", child.id());
    common::wait_for(&out, &temporary, &mut child);
    common::signal(&child, libc::SIGTERM);
    let result = child.wait_with_output().unwrap();
    assert_eq!(
        result.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(String::from_utf8_lossy(&result.stderr).contains("interrupted; no output was changed"));
    assert_eq!(listing(&out), ["out.npy"]);
    assert_eq!(fs::read(out.join("out.npy")).unwrap(), b"previous");
}

/// An input truncated while a streamed run reads it: exit 1 naming the file (never SIGBUS:
/// nothing is mapped), no temporary left, the previous output untouched.
#[test]
fn an_input_truncated_mid_run_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.npy");
    write_stack(&input, DType::U8, [512, 512, 512, 1]);
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("out.npy"), b"previous").unwrap();
    let mut child = exe()
        .args(["run", s(&example("sliding_normalisation")), "--input"])
        .arg(format!("x={}", s(&input)))
        .args(["--output", s(&out), "--memory-budget", "4MiB", "--threads", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_for(&out, &format!(".out.npy.tmp-{}", child.id()), &mut child);
    let len = fs::metadata(&input).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&input)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(s(&input)), "the error names the file: {stderr}");
    assert_eq!(listing(&out), ["out.npy"]);
    assert_eq!(fs::read(out.join("out.npy")).unwrap(), b"previous");
}

/// An empty output (the defined result) is printed with the reason, naming the node.
#[test]
fn empty_outputs_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("short.json");
    fs::write(
        &graph,
        r#"{"format": "rumba-graph", "version": 1, "nodes": [
 {"id": "x", "op": "input", "dtype": "u8", "shape": [null, null, null, 1]},
 {"id": "o", "label": "slider", "op": "sliding_reference", "x": "x", "window": 500, "lag": 0, "kind": "mean"},
 {"id": "p", "op": "pipeline", "x": "x", "subtract": {"source": "sliding", "window": 5, "lag": 30, "kind": "mean"}}],
 "outputs": ["o", "p"]}"#,
    )
    .unwrap();
    for extra in [
        &[][..],
        &["--backend", "interp"],
        &["--output", s(&dir.path().join("out"))],
    ] {
        let mut cmd = exe();
        cmd.args(["run", s(&graph), "--shape", "x=20x8x8x1"]).args(extra);
        let result = common::guarded(cmd);
        let stdout = String::from_utf8_lossy(&result.stdout);
        assert!(
            result.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        let line = |name: &str| {
            stdout
                .lines()
                .find(|l| l.starts_with(&format!("output  {name} ")))
                .unwrap_or_else(|| panic!("no line for {name}: {stdout}"))
                .to_owned()
        };
        let o = line("o");
        assert!(o.contains("(0, 8, 8, 1)") && o.contains("empty: "), "{o}");
        assert!(o.contains(r#"node "o" (label "slider")"#), "{o}");
        assert!(
            o.contains("a window of 500 along axis 0 is longer than that axis (extent 20)"),
            "{o}"
        );
        let p = line("p");
        assert!(p.contains(r#"node "p""#) && p.contains("needs T > window + lag"), "{p}");
    }
}

/// A closed stdout (`| head -1`) ends the summary, not the run: every output is written.
#[test]
fn a_closed_stdout_keeps_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut child = exe()
        .args([
            "run",
            s(&example("envelope")),
            "--shape",
            "x=20x520x520x1",
            "--output",
            s(&out),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let result = child.wait_with_output().unwrap();
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    assert_eq!(
        listing(&out),
        [
            "col_env.max.npy",
            "col_env.min.npy",
            "row_env.max.npy",
            "row_env.min.npy"
        ]
    );
}

/// Runs the binary with `args` under the address-space limit and the watchdog
/// ([`common::guarded`]), expecting exit `code` and each of `needles` in stderr.
fn fails(args: &[&str], code: i32, needles: &[&str]) {
    let mut cmd = exe();
    cmd.args(args);
    let out = common::guarded(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{args:?}: expected {n:?} in {stderr}");
    }
}

/// Refusals before anything runs: exit 2, naming what and how many bytes.
#[test]
fn runs_that_cannot_fit_are_refused_before_allocating() {
    let graph = example("background_subtraction");
    let g = s(&graph);
    // In memory: outputs over the budget.
    fails(
        &["run", g, "--shape", "x=200x512x512x1", "--memory-budget", "100MiB"],
        2,
        &[
            "outputs and temps of an in-memory run",
            "over the budget of 100 MiB",
            "--output DIR",
        ],
    );
    // Synthetic inputs over the budget, over the cap, and beyond 64 bits.
    fails(
        &["run", g, "--shape", "x=100000x100000x100000x1"],
        2,
        &["over the cap of 1 TiB", "--allow-large"],
    );
    fails(
        &["run", g, "--shape", "x=18446744073709551615x2x1x1"],
        2,
        &["more bytes than fit in 64 bits"],
    );
    fails(
        &[
            "run",
            g,
            "--shape",
            "x=4000x1000x1000x1",
            "--memory-budget",
            "1GiB",
            "--allow-large",
        ],
        2,
        &["synthetic inputs", "3.73 GiB", "over the budget of 1 GiB"],
    );
    fails(
        &["run", g, "--memory-budget", "lots"],
        2,
        &["expected a size like 512MiB"],
    );
    fails(&["run", g, "--memory-budget", "0"], 2, &["at least one byte"]);
    // A 10⁹ × 10⁹ polygon mask: its row-span table (compiled backends) and its output (the
    // interpreter, in memory) are refused, not built; `explain` likewise.
    let dir = tempfile::tempdir().unwrap();
    let mask = dir.path().join("mask.json");
    fs::write(
        &mask,
        r#"{"format": "rumba-graph", "version": 1, "nodes": [
 {"id": "m", "label": "huge mask", "op": "polygon_mask", "vertices": [[-1, -1], [3e9, -1], [-1, 3e9]],
  "height": 1000000000, "width": 1000000000}], "outputs": ["m"]}"#,
    )
    .unwrap();
    let m = s(&mask);
    let table = [
        "the row-span table of",
        r#"node "m" (label "huge mask")"#,
        "over the budget",
    ];
    fails(&["run", m, "--memory-budget", "1GiB"], 2, &table);
    fails(&["explain", m, "--memory-budget", "1GiB"], 2, &table);
    fails(
        &["run", m, "--backend", "interp", "--memory-budget", "1GiB"],
        2,
        &["an in-memory run", "888.18 PiB", "over the budget of 1 GiB"],
    );
    fails(
        &["run", m, "--output", s(dir.path()), "--memory-budget", "1GiB"],
        2,
        &table,
    );
    // An output that would replace an input.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("out.npy");
    write_stack(&input, DType::U8, [12, 8, 8, 1]);
    let before = fs::read(&input).unwrap();
    fails(
        &[
            "run",
            g,
            "--input",
            &format!("x={}", s(&input)),
            "--output",
            s(dir.path()),
        ],
        2,
        &["would replace input \"x\""],
    );
    assert_eq!(fs::read(&input).unwrap(), before);
}

/// What a run killed during its commit left (journal, backup, half-installed output) is
/// rolled back by the next run in the directory before it writes, which says so.
#[test]
fn the_next_run_rolls_back_a_killed_commit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let hex = |t: &str| t.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    // Process 4242 died after moving out.npy to its backup and installing its new file.
    fs::write(out.join(".rumba-4242.lock"), b"").unwrap();
    fs::write(out.join(".out.npy.bak-4242"), b"previous").unwrap();
    fs::write(out.join("out.npy"), b"half-committed").unwrap();
    fs::write(out.join(".other.npy.tmp-4242"), b"temporary").unwrap();
    let journal = format!(
        "rumba-journal 1\n{} {} {} 1\n",
        hex(".out.npy.tmp-4242"),
        hex("out.npy"),
        hex(".out.npy.bak-4242")
    );
    fs::write(out.join(".rumba-4242.journal"), journal).unwrap();
    // A run that fails before writing (a bad param) changes nothing; one that checks the
    // directory repairs it first. `explain` does not touch the directory, so run a tiny graph
    // whose outputs have other names.
    let graph = out.join("g.json");
    fs::write(
        &graph,
        r#"{"format": "rumba-graph", "version": 1, "nodes": [
  {"id": "x", "op": "input", "dtype": "u8", "shape": [null, null, null, 1]},
  {"id": "m", "op": "reduce", "x": "x", "kind": "max", "axes": [0]}],
 "outputs": ["m"]}"#,
    )
    .unwrap();
    let result = exe()
        .args(["run", s(&graph), "--shape", "x=3x4x4x1", "--output", s(out)])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    assert!(stdout.contains("rolled back the unfinished commit"), "{stdout}");
    assert_eq!(fs::read(out.join("out.npy")).unwrap(), b"previous");
    assert_eq!(listing(out), ["g.json", "m.npy", "out.npy"]);
    let _: Array = rumba::npy::read(&out.join("m.npy")).unwrap().view().to_owned();
}

/// `--progress` prints plain lines on a stderr that is not a terminal (at least the final
/// one); `--quiet` and the default print none there.
#[test]
fn progress_lines_when_asked_and_none_when_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.npy");
    write_stack(&input, DType::U8, [40, 64, 64, 1]);
    let run = |flag: Option<&str>| {
        let mut c = exe();
        c.args(["run", s(&example("sliding_normalisation")), "--input"])
            .arg(format!("x={}", s(&input)))
            .args(["--output", s(&dir.path().join("out")), "--memory-budget", "64KiB"]);
        if let Some(f) = flag {
            c.arg(f);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let lines = run(Some("--progress"));
    assert!(
        lines.contains("progress: ") && lines.contains(" chunks (100 %)"),
        "{lines}"
    );
    assert!(!run(Some("--quiet")).contains("progress"));
    assert!(!run(None).contains("progress"));
}

/// Integer arguments at i64::MAX: a lag that long leaves no frame (the defined empty result,
/// not the frames of lag −1), a halfwidth that wide takes the whole axis (as a halfwidth just
/// past the image does); neither overflows.
#[test]
fn arguments_at_i64_max_neither_overflow_nor_wrap() {
    let dir = tempfile::tempdir().unwrap();
    let graph = |name: &str, node: &str, output: &str| {
        let path = dir.path().join(format!("{name}.json"));
        let text = format!(
            r#"{{"format": "rumba-graph", "version": 1, "nodes": [
  {{"id": "x", "op": "input", "dtype": "u8", "shape": [null, null, null, 1]}}, {node}],
 "outputs": ["{output}"]}}"#
        );
        fs::write(&path, text).unwrap();
        path
    };
    let run = |g: &Path, out: &str| {
        let out = dir.path().join(out);
        let result = exe()
            .args(["run", s(g), "--shape", "x=24x8x8x1", "--output", s(&out)])
            .output()
            .unwrap();
        assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
        out
    };
    let lag = graph(
        "lag",
        r#"{"id": "o", "op": "sliding_reference", "x": "x", "window": 3, "lag": 9223372036854775807, "kind": "mean"}"#,
        "o",
    );
    let out = run(&lag, "lag");
    let o = rumba::npy::read(&out.join("o.npy")).unwrap();
    assert_eq!(o.view().shape(), [0, 8, 8, 1]);
    let envelope = |hw: &str| {
        format!(
            r#"{{"id": "e", "op": "envelope", "x": "x", "orientation": "h", "pos": 2, "halfwidth": {hw}, "over": "dataset"}}"#
        )
    };
    let max = run(&graph("hw_max", &envelope("9223372036854775807"), "e.min"), "max");
    let wide = run(&graph("hw_wide", &envelope("100"), "e.min"), "wide");
    assert_eq!(
        fs::read(max.join("e.min.npy")).unwrap(),
        fs::read(wide.join("e.min.npy")).unwrap()
    );
}

/// A (T, H, W) `.npy` stands for the C = 1 stack the graph declares: in memory and streamed,
/// the output `.npy` is (T, H, W) with the bits of the (T, H, W, 1) run.
#[test]
fn a_3d_stack_runs_and_writes_3d_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("x4.npy");
    write_stack(&full, DType::U8, [20, 16, 24, 1]);
    let Array::U8(x) = rumba::npy::read(&full).unwrap().view().to_owned() else {
        unreachable!("a u8 stack")
    };
    let small = dir.path().join("x3.npy");
    rumba::npy::write(&small, &Array::U8(x.remove_axis(ndarray::Axis(3)))).unwrap();
    let run = |input: &Path, out: &Path| {
        let o = exe()
            .args(["run", s(&example("background_subtraction")), "--input"])
            .arg(format!("x={}", s(input)))
            .args(["--output", s(out), "--memory-budget", "4KiB"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        rumba::npy::read(&out.join("out.npy")).unwrap()
    };
    let (a, b) = (run(&full, &dir.path().join("o4")), run(&small, &dir.path().join("o3")));
    assert_eq!(a.view().shape(), &[20, 16, 24, 1]);
    assert_eq!(b.view().shape(), &[20, 16, 24]);
    assert_eq!(a.view().to_f64_vec(), b.view().to_f64_vec());
    let o = exe()
        .args(["run", s(&example("background_subtraction")), "--input"])
        .arg(format!("x={}", s(&small)))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && text.contains("(20, 16, 24)"), "{text}");
}
