//! One table of every BLITZ workload × implementation, for the closing note of a performance
//! change: milliseconds (best of up to 5 runs), GB/s of logical bytes, % of the copy and read
//! bandwidth measured in the same run (1 thread for one-thread implementations, all cores
//! otherwise), and ratios: `×unfused` = unfused time / this time (how much faster than what
//! NumPy does), `×plain` = this time / the plain loop's on as many threads (1.0 = hand-written
//! speed). Then cold compile times of the example graphs. The bandwidth is measured again before
//! each table and the best measurement so far is the reference, so a busy moment of a shared
//! machine cannot inflate the percentages.
//!
//! ```sh
//! cargo bench --bench summary                     # BLITZ's shapes: a few minutes on 2 cores
//! RUMBA_BENCH_SMALL=1 cargo bench --bench summary # (20, 256, 256, 1) stacks
//! cargo bench --bench summary -- mean_t range      # only workloads whose name contains one
//! ```
//!
//! First it checks correctness on the (20, 256, 256, 1) stacks: every implementation's outputs
//! equal the interpreter's within `common::RTOL`, else it panics, so a wrong implementation
//! cannot report a speed. Those runs also give an estimate for each rumba backend at BLITZ's
//! shapes (small time × `common::work_ratio`); a backend estimated above
//! `common::SKIP_SECONDS` (10 s) is skipped there and the table says so.

mod common;

use common::stream::{self, KERNELS, Kernel, Stream};
use common::{Case, FULL, Impl, Runner, SMALL, WORKLOADS, Workload};
use rumba::{Backend, Options};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Best time of up to 5 runs: 5 under 0.5 s, 3 under 3 s, else 1. Returns (best, runs).
fn best_of(mut run: impl FnMut()) -> (Duration, usize) {
    let time = |run: &mut dyn FnMut()| {
        let start = Instant::now();
        run();
        start.elapsed()
    };
    let first = time(&mut run);
    let runs = match first.as_secs_f64() {
        s if s < 0.5 => 5,
        s if s < 3.0 => 3,
        _ => 1,
    };
    let best = (1..runs).map(|_| time(&mut run)).fold(first, Duration::min);
    (best, runs)
}

/// The workloads whose name contains an argument that is not an option (all without one):
/// `cargo bench --bench summary -- mean_t range`.
fn selected() -> Vec<Workload> {
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wanted = |w: &Workload| filters.is_empty() || filters.iter().any(|f| w.name().contains(f.as_str()));
    WORKLOADS.into_iter().filter(wanted).collect()
}

/// The key of a small-stack time: dtype, workload and implementation.
fn key(case: Case, workload: Workload, imp: Impl) -> String {
    format!("{} {} {}", case.dtype, workload.name(), imp.label())
}

/// Checks every implementation against the interpreter on the small stacks; returns each
/// (dtype, workload, implementation)'s time there.
fn verify() -> HashMap<String, Duration> {
    let mut times = HashMap::new();
    for case in SMALL {
        let stack = case.stack();
        for workload in selected() {
            let mut oracle = Runner::new(workload, &stack, Impl::Rumba("interp", Backend::Interp, 1));
            oracle.run();
            for imp in common::impls() {
                let mut runner = Runner::new(workload, &stack, imp);
                runner.run();
                let what = format!("{} {} {}", workload.name(), case.name(), imp.label());
                common::assert_close(&what, oracle.outputs(), runner.outputs());
                let start = Instant::now();
                runner.run();
                times.insert(key(case, workload, imp), start.elapsed());
            }
        }
    }
    times
}

/// GB/s of each bandwidth kernel on each thread count.
fn bandwidth() -> HashMap<(Kernel, usize), f64> {
    let mut arrays = Stream::new(stream::ELEMENTS);
    let mut out = HashMap::new();
    for kernel in KERNELS {
        for threads in common::thread_counts() {
            let pool = common::pool(threads);
            let (best, _) = best_of(|| {
                std::hint::black_box(pool.install(|| arrays.run(kernel)));
            });
            out.insert((kernel, threads), common::gb_per_s(kernel.bytes(arrays.len()), best));
        }
    }
    out
}

/// One row of the table.
struct Row {
    imp: Impl,
    result: Result<(Duration, usize), String>,
}

fn table(case: Case, small: bool, bw: &HashMap<(Kernel, usize), f64>, small_times: &HashMap<String, Duration>) {
    let start = Instant::now();
    let stack = case.stack();
    println!(
        "\n== {} ({:?}, {} Mi elements)",
        case.dtype,
        case.shape,
        case.elements() >> 20
    );
    println!(
        "{:<17}{:<10}{:>10}{:>8}{:>7}{:>7}{:>10}{:>8}{:>6}",
        "workload", "impl", "ms", "GB/s", "%copy", "%read", "×unfused", "×plain", "runs"
    );
    for workload in selected() {
        let bytes = workload.logical_bytes(case.dtype, &case.shape);
        let rows: Vec<Row> = common::impls()
            .into_iter()
            .map(|imp| {
                let ratio = common::work_ratio(workload, &SMALL[0].shape, case);
                let estimate = small_times[&key(case, workload, imp)].as_secs_f64() * ratio;
                let result = if !small && imp.is_rumba() && estimate > common::SKIP_SECONDS {
                    Err(format!("skipped: estimated {estimate:.0} s per run"))
                } else {
                    let mut runner = Runner::new(workload, &stack, imp);
                    Ok(best_of(|| runner.run()))
                };
                Row { imp, result }
            })
            .collect();
        let time_of = |target: Impl| {
            rows.iter()
                .find(|r| r.imp == target)
                .and_then(|r| r.result.as_ref().ok())
                .map(|(d, _)| d.as_secs_f64())
        };
        for (k, row) in rows.iter().enumerate() {
            let name = if k == 0 { workload.name() } else { "" };
            let (best, runs) = match &row.result {
                Ok(r) => *r,
                Err(why) => {
                    println!("{name:<17}{:<10}{why:>20}", row.imp.label());
                    continue;
                }
            };
            let secs = best.as_secs_f64();
            let gbs = common::gb_per_s(bytes, best);
            let threads = row.imp.threads();
            let pct = |k: Kernel| format!("{:.0}%", 100.0 * gbs / bw[&(k, threads)]);
            let fmt = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x:.2}"));
            let vs_unfused = if row.imp == Impl::Unfused {
                None
            } else {
                time_of(Impl::Unfused).map(|u| u / secs)
            };
            let vs_plain = if row.imp.is_rumba() {
                time_of(Impl::Plain(threads)).map(|p| secs / p)
            } else {
                None
            };
            println!(
                "{name:<17}{:<10}{:>10.1}{:>8.2}{:>7}{:>7}{:>10}{:>8}{:>6}",
                row.imp.label(),
                secs * 1e3,
                gbs,
                pct(Kernel::Copy),
                pct(Kernel::Read),
                fmt(vs_unfused),
                fmt(vs_plain),
                runs
            );
        }
    }
    println!("({} took {:.0} s)", case.name(), start.elapsed().as_secs_f64());
}

/// Cold `rumba::compile` of every example graph at BLITZ's shapes, best of 20, with the stages
/// of the best run.
fn compile_times() {
    println!("\n== cold compile (examples/graphs, declared dtype, best of 20)");
    for (stem, graph) in common::example_graphs() {
        for case in FULL {
            let specs = common::graph_specs(&graph, &case.shape);
            for &(name, backend) in common::BACKENDS {
                let options = Options {
                    backend,
                    ..Options::default()
                };
                // Each compile starts from an empty kernel cache: a cold compile.
                let (best, stages) = (0..20)
                    .map(|_| {
                        rumba::cache::clear();
                        let start = Instant::now();
                        let exe = rumba::compile(&graph, &specs, &options).expect("compiles");
                        (start.elapsed(), exe.stages)
                    })
                    .min_by_key(|(d, _)| *d)
                    .expect("twenty runs");
                let stages: Vec<String> = stages
                    .iter()
                    .map(|(s, d)| format!("{s} {:.3}", d.as_secs_f64() * 1e3))
                    .collect();
                println!(
                    "{stem:<24}{:<20}{name:<8}{:>8.3} ms   ({})",
                    format!("{:?}", case.shape),
                    best.as_secs_f64() * 1e3,
                    stages.join(", ")
                );
            }
        }
    }
}

fn main() {
    let start = Instant::now();
    let small = common::small_requested();
    println!(
        "rumba BLITZ benchmark summary: {} threads, {} stacks",
        common::all_threads(),
        if small { "small" } else { "BLITZ-size" }
    );
    let small_times = verify();
    println!(
        "correctness: every implementation equals the interpreter within {:e} (small stacks)",
        common::RTOL
    );
    let bw = bandwidth();
    println!(
        "\n== bandwidth (f32 arrays of {} MiB, GB/s)",
        (stream::ELEMENTS * 4) >> 20
    );
    for kernel in KERNELS {
        let line: Vec<String> = common::thread_counts()
            .iter()
            .map(|&t| format!("{t}t {:6.2}", bw[&(kernel, t)]))
            .collect();
        println!("{:<8}{}", kernel.name(), line.join("   "));
    }
    let mut bw = bw;
    for case in if small { SMALL } else { FULL } {
        // Measured again before every table, keeping the best of every measurement so far: a
        // quiet moment raises the reference, a busy one never lowers it (the percentages are
        // conservative on a shared machine).
        for (key, gbs) in bandwidth() {
            bw.entry(key).and_modify(|b| *b = b.max(gbs)).or_insert(gbs);
        }
        let line: Vec<String> = KERNELS
            .iter()
            .map(|k| format!("{} {:.2}", k.name(), bw[&(*k, 1)]))
            .collect();
        println!(
            "\nreference bandwidth, 1 thread (best so far, GB/s): {}",
            line.join(", ")
        );
        table(case, small, &bw, &small_times);
    }
    compile_times();
    println!("\ntotal {:.0} s", start.elapsed().as_secs_f64());
}
