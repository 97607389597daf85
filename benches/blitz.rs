//! Criterion benchmarks of the BLITZ workloads (DESIGN §6; issue 4, "Benchmarks").
//!
//! ```sh
//! cargo bench --bench blitz                      # everything, BLITZ's shapes (~25 min)
//! cargo bench --bench blitz -- range_norm        # one workload (criterion filter)
//! RUMBA_BENCH_SMALL=1 cargo bench --bench blitz  # (20, 256, 256, 1) stacks
//! cargo bench --bench blitz -- --test            # quick mode: every benchmark runs once
//! cargo bench --bench summary                    # one table with ratios (benches/summary.rs)
//! ```
//!
//! Groups (criterion prints GB/s of logical bytes, see `common/mod.rs`):
//! - `bandwidth/<copy|triad|read>`: STREAM-style kernels on 256 MiB f32 arrays, ids `1t` and
//!   `<N>t` (all cores): the machine's bandwidth, measured in the same run.
//! - `<workload>/<case>`: each BLITZ workload (range and sliding normalisation, envelopes over
//!   the dataset and per frame, pentagon ROI series, mean/std/min/max/median over T) on the
//!   stacks (200, 512, 512, 1) f32 and (400, 512, 512, 1) u8, ids: each rumba backend of
//!   `common::BACKENDS` on 1 thread and all cores (`eval-1t`, `eval-2t`; the interpreter runs
//!   op by op on one thread: `interp`), the unfused ndarray version (`unfused`, what NumPy
//!   does), and the plain Rust loop (`plain-1t`, `plain-2t`). rumba and the plain loop write
//!   into preallocated outputs (`run_into`); the unfused version allocates, as NumPy does.
//! - `compile/<graph>/<shape>/<backend>`: cold `rumba::compile` of each graph file in
//!   `examples/graphs/` for its declared dtype at BLITZ's shapes (the DSL/file validation is
//!   not included; the pool of the executor is).
//!
//! Every group takes 10 samples (criterion's minimum) in flat sampling mode, 1 s warm-up and
//! 3 s measurement; an iteration longer than that makes a sample one iteration.
//!
//! Quick mode (`--test`) and `RUMBA_BENCH_SMALL=1` use the (20, 256, 256, 1) stacks; quick mode
//! also shrinks the bandwidth arrays (nothing is measured then). The environment variable is
//! read here, never by rumba.
//!
//! Skipped at BLITZ's shapes: a rumba backend whose run is estimated (from a run on the small
//! stack of the same dtype, times `common::work_ratio`) to take more than
//! `common::SKIP_SECONDS` = 10 s; the bench says so on stderr. With today's plan evaluator that
//! is `eval` (1 thread and all cores) on range_norm and sliding_norm of both stacks (estimated
//! 11–54 s per run); everything else runs (the slowest: interp sliding_norm u8 ~8 s, interp
//! roi_series u8 ~8 s per run). `benches/summary.rs` prints the same estimates in its table.
//! With a criterion filter the stacks are still built and the estimates still run (~30 s).

mod common;

use common::stream::{self, KERNELS, Stream};
use common::{BACKENDS, Case, FULL, Runner, SMALL, WORKLOADS};
use criterion::{Criterion, SamplingMode, Throughput};
use rumba::Options;
use std::time::Duration;

fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sampling_mode(SamplingMode::Flat);
}

fn bandwidth(c: &mut Criterion, quick: bool) {
    let n = if quick { stream::ELEMENTS / 64 } else { stream::ELEMENTS };
    let mut arrays = Stream::new(n);
    for kernel in KERNELS {
        let mut group = c.benchmark_group(format!("bandwidth/{}", kernel.name()));
        configure(&mut group);
        group.throughput(Throughput::BytesDecimal(kernel.bytes(n)));
        for threads in common::thread_counts() {
            let pool = common::pool(threads);
            group.bench_function(format!("{threads}t"), |b| {
                b.iter(|| pool.install(|| arrays.run(kernel)));
            });
        }
        group.finish();
    }
}

fn workloads(c: &mut Criterion, case: Case, full: bool) {
    let stack = case.stack();
    let small = Case {
        dtype: case.dtype,
        shape: SMALL[0].shape,
    }
    .stack();
    for workload in WORKLOADS {
        let mut group = c.benchmark_group(format!("{}/{}", workload.name(), case.name()));
        configure(&mut group);
        group.throughput(Throughput::BytesDecimal(
            workload.logical_bytes(case.dtype, &case.shape),
        ));
        for imp in common::impls() {
            if full && imp.is_rumba() {
                let seconds = common::estimate_seconds(workload, imp, &small, case);
                if seconds > common::SKIP_SECONDS {
                    eprintln!(
                        "{}/{}/{}: skipped, ~{seconds:.0} s per run",
                        workload.name(),
                        case.name(),
                        imp.label()
                    );
                    continue;
                }
            }
            let mut runner = Runner::new(workload, &stack, imp);
            group.bench_function(imp.label(), |b| b.iter(|| runner.run()));
        }
        group.finish();
    }
}

/// Cold compiles, always at BLITZ's shapes (compiling touches no data; the example envelope
/// sits at row 256, outside the small stacks).
fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    configure(&mut group);
    for (stem, graph) in common::example_graphs() {
        for case in FULL {
            let specs = common::graph_specs(&graph, &case.shape);
            let [t, h, w, ch] = case.shape;
            for &(name, backend) in BACKENDS {
                let options = Options {
                    backend,
                    ..Options::default()
                };
                // Every iteration starts from an empty kernel cache: a cold compile.
                group.bench_function(format!("{stem}/{t}x{h}x{w}x{ch}/{name}"), |b| {
                    b.iter(|| {
                        rumba::cache::clear();
                        rumba::compile(&graph, &specs, &options).expect("compiles")
                    });
                });
            }
        }
    }
    group.finish();
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let small = quick || common::small_requested();
    let mut c = Criterion::default().configure_from_args();
    bandwidth(&mut c, quick);
    for case in if small { SMALL } else { FULL } {
        workloads(&mut c, case, !small);
    }
    compile(&mut c);
    c.final_summary();
}
