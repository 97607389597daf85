//! Criterion benchmarks of the BLITZ workloads (DESIGN §6; issue 4, "Benchmarks").
//!
//! ```sh
//! cargo bench --bench blitz                      # everything, BLITZ's shapes (~1 h)
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
//! Skipped at BLITZ's shapes (one iteration takes more than 10 s; `benches/summary.rs` prints
//! the measured or estimated times): see [`skipped`].

mod common;

use common::stream::{self, KERNELS, Stream};
use common::{BACKENDS, Case, FULL, Impl, Runner, SMALL, WORKLOADS, Workload};
use criterion::{Criterion, SamplingMode, Throughput};
use rumba::{Graph, InputSpec, Options};
use std::path::Path;
use std::time::Duration;

/// Whether `imp` of `workload` is left out at BLITZ's shapes because one iteration takes more
/// than 10 s on this 2-core machine (measured with `benches/summary.rs`).
fn skipped(workload: Workload, imp: Impl) -> bool {
    let _ = (workload, imp);
    false
}

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
        for threads in thread_counts() {
            let pool = common::pool(threads);
            group.bench_function(format!("{threads}t"), |b| {
                b.iter(|| pool.install(|| arrays.run(kernel)));
            });
        }
        group.finish();
    }
}

fn thread_counts() -> Vec<usize> {
    let mut counts = vec![1, common::all_threads()];
    counts.dedup();
    counts
}

fn workloads(c: &mut Criterion, case: Case, full: bool) {
    let stack = case.stack();
    for workload in WORKLOADS {
        let mut group = c.benchmark_group(format!("{}/{}", workload.name(), case.name()));
        configure(&mut group);
        group.throughput(Throughput::BytesDecimal(
            workload.logical_bytes(case.dtype, &case.shape),
        ));
        for imp in common::impls() {
            if full && skipped(workload, imp) {
                continue;
            }
            let mut runner = Runner::new(workload, &stack, imp);
            group.bench_function(imp.label(), |b| b.iter(|| runner.run()));
        }
        group.finish();
    }
}

/// The graph files of `examples/graphs/`, sorted: (stem, graph).
fn example_graphs() -> Vec<(String, Graph)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/graphs");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/graphs")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let def = rumba::format::load_file(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let graph = Graph::try_from(def).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_stem().expect("stem").to_string_lossy().into_owned(), graph)
        })
        .collect()
}

/// The input specs of `graph` (every input gets `shape` and its declared dtype).
fn specs(graph: &Graph, shape: &[usize]) -> Vec<InputSpec> {
    let inputs = graph.inputs();
    let spec = |(name, id): (&str, _)| InputSpec {
        name: name.to_owned(),
        dtype: graph.node(id).dtype,
        shape: shape.to_vec(),
    };
    inputs.into_iter().map(spec).collect()
}

/// Cold compiles, always at BLITZ's shapes (compiling touches no data; the example envelope
/// sits at row 256, outside the small stacks).
fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    configure(&mut group);
    for (stem, graph) in example_graphs() {
        for case in FULL {
            let specs = specs(&graph, &case.shape);
            let [t, h, w, ch] = case.shape;
            for &(name, backend) in BACKENDS {
                let options = Options {
                    backend,
                    ..Options::default()
                };
                // TODO(jit): once the kernel cache exists, give every iteration an empty cache so
                // this stays a cold compile.
                group.bench_function(format!("{stem}/{t}x{h}x{w}x{ch}/{name}"), |b| {
                    b.iter(|| rumba::compile(&graph, &specs, &options).expect("compiles"));
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
