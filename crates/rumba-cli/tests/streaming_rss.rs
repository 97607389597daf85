//! Peak memory of streamed runs (DESIGN §8), alone in its test binary: a child's peak RSS
//! counts the parent's memory when it is forked, so no other test may run beside it.
//! The throughput run (1 GiB and larger stacks) is `benches/streaming.sh`.

mod common;

use common::{data, example, exe, listing, s, wait_rss, write_stack};
use rumba::{DType, Options};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};

/// The streamed runs' memory budget.
const BUDGET: u64 = 64 << 20;

/// Runs `run` (a `rumba run … --output DIR`) with `budget` and two threads, and asserts it
/// succeeds with a peak RSS within `budget` + 64 MiB.
fn assert_streams_within(mut run: Command, budget: u64, name: &str) {
    let child = run
        .args(["--memory-budget", &format!("{budget}"), "--threads", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, rss) = wait_rss(child);
    assert!(status.success(), "{name}: {status}");
    eprintln!("{name}: peak RSS {} MiB", rss >> 20);
    assert!(
        rss <= budget + (64 << 20),
        "{name}: peak RSS {} MiB over the budget",
        rss >> 20
    );
}

/// Every example graph on a 256 MiB stack of its dtype, streamed within a 64 MiB budget: the
/// child's peak RSS stays within budget + 64 MiB and every output file has the bits of the
/// in-memory run of the library.
#[test]
fn stacks_over_the_budget_stream_within_it_with_the_in_memory_bits() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("background_subtraction", DType::U8, [1024usize, 512, 512, 1]),
        ("sliding_normalisation", DType::U8, [1024, 512, 512, 1]),
        ("envelope", DType::U8, [1024, 512, 512, 1]),
        ("roi_series", DType::U16, [512, 512, 512, 1]),
    ];
    for (name, dtype, shape) in cases {
        let input = dir.path().join(format!("{dtype}.npy"));
        if !input.exists() {
            write_stack(&input, dtype, shape);
        }
        let out = dir.path().join(name);
        let mut run = exe();
        run.args(["run", s(&example(name)), "--input"])
            .arg(format!("x={}", s(&input)))
            .arg("--output")
            .arg(&out);
        assert_streams_within(run, BUDGET, name);
        assert!(listing(&out).iter().all(|f| !f.starts_with('.')), "{:?}", listing(&out));
    }
    // A synthetic stack of 256 MiB is generated box by box, within the budget too.
    let synthetic = dir.path().join("synthetic");
    let mut run = exe();
    run.args([
        "run",
        s(&example("background_subtraction")),
        "--shape",
        "x=1024x512x512x1",
    ])
    .args(["--seed", "3", "--output"])
    .arg(&synthetic);
    assert_streams_within(run, BUDGET, "synthetic");
    // Then (so that no child is forked from a large parent) the in-memory runs.
    let runs = cases
        .iter()
        .map(|&(name, dtype, _)| {
            (
                name,
                dir.path().join(name),
                Some(dir.path().join(format!("{dtype}.npy"))),
            )
        })
        .chain([("background_subtraction", synthetic, None)]);
    for (name, out, input) in runs {
        // The in-memory run of the library on the mapped file (or the whole synthetic stack).
        let graph = rumba::Graph::try_from(rumba::format::load_file(&example(name)).unwrap()).unwrap();
        let file = input.as_ref().map(|i| rumba::npy::read(i).unwrap());
        let generated = input
            .is_none()
            .then(|| rumba::synthetic::stack(DType::U8, &[1024, 512, 512, 1], 3));
        let x = file
            .as_ref()
            .map_or_else(|| generated.as_ref().unwrap().view(), rumba::npy::NpyInput::view);
        let views = [("x", x)];
        let compiled = rumba::compile(&graph, &rumba::input_specs(&views), &Options::default()).unwrap();
        for (output, expected) in compiled.run(&views, &BTreeMap::new()).unwrap() {
            // Bitwise, NaN included: the file's bytes against the array written the same way.
            let tmp = dir.path().join("expected.npy");
            rumba::npy::write(&tmp, &expected).unwrap();
            let a = rumba::npy::read(&tmp).unwrap();
            let b = rumba::npy::read(&out.join(format!("{output}.npy"))).unwrap();
            assert_eq!(
                (a.dtype(), a.view().shape()),
                (b.dtype(), b.view().shape()),
                "{name}: {output}"
            );
            assert!(
                data(&tmp) == data(&out.join(format!("{output}.npy"))),
                "{name}: output {output} bytes differ"
            );
        }
    }
}
