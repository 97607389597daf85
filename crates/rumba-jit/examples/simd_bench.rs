//! A tiny single-thread timing harness for the JIT's vector paths (DESIGN §6): one fused
//! u8→f32 kernel (the background-subtraction pipeline with a file reference, 5 bytes per
//! pixel) on a (400, 512, 512, 1) u8 stack against a plain Rust loop doing the same
//! arithmetic; mean/min/max over T of the same stack against a read bandwidth; and a
//! STREAM-style copy and read measured in the same run. Best of 5; GB/s of logical bytes.
//!
//! ```sh
//! cargo run --release -p rumba-jit --example simd_bench                   # JIT
//! cargo run --release -p rumba-jit --example simd_bench -- eval           # plan evaluator
//! cargo run --release -p rumba-jit --example simd_bench -- jit median     # median/percentile vs interpreter
//! cargo run --release -p rumba-jit --example simd_bench -- jit compile    # codegen times
//! ```
//!
//! Other second arguments: `pipeline` (the fused pipeline, also on a permuted view) and
//! `reduce` (the reductions over T only).

use rumba::dsl::{Builder, Stat, Step};
use rumba::{Array, Backend, DType, Options};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

const T: usize = 400;
const H: usize = 512;
const W: usize = 512;
const PIXELS: usize = H * W;

fn best_of_5(f: impl FnMut()) -> Duration {
    best_of(5, f)
}

fn best_of(n: usize, mut f: impl FnMut()) -> Duration {
    (0..n)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .expect("five runs")
}

fn gbs(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e9
}

/// STREAM copy (8 bytes per f32 element: one read, one write) and read (4 bytes).
fn bandwidth() -> (f64, f64) {
    let n = 64 << 20;
    let a = vec![1.0f32; n];
    let mut b = vec![2.0f32; n];
    let copy = best_of_5(|| {
        for (b, a) in b.chunks_exact_mut(16).zip(a.chunks_exact(16)) {
            let lanes: [f32; 16] = a.try_into().expect("16 lanes");
            b.copy_from_slice(&lanes);
        }
        black_box(&mut b);
    });
    let read = best_of_5(|| {
        let mut acc = [0f32; 16];
        for c in a.chunks_exact(16) {
            for k in 0..16 {
                acc[k] += c[k];
            }
        }
        black_box(acc);
    });
    (gbs(8 * n, copy), gbs(4 * n, read))
}

/// The plain loop: `nan_to_num(select(d == 0, 0, (x − s·r) / d))`, `d = v·r + (1 − v)`.
fn plain(x: &[u8], r: &[f32], out: &mut [f32], s: f32, v: f32) {
    let one_minus = (1.0 - f64::from(v)) as f32;
    for (xs, os) in x.chunks_exact(PIXELS).zip(out.chunks_exact_mut(PIXELS)) {
        for ((&xv, &rv), o) in xs.iter().zip(r).zip(os.iter_mut()) {
            let d = v * rv + one_minus;
            let q = (f32::from(xv) - s * rv) / d;
            let q = if d == 0.0 { 0.0 } else { q };
            *o = if q.is_finite() { q } else { 0.0 };
        }
    }
}

fn main() {
    let backend = match std::env::args().nth(1).as_deref() {
        Some("eval") => Backend::Eval,
        _ => Backend::Jit,
    };
    let part = std::env::args().nth(2).unwrap_or_default();
    let options = Options {
        backend,
        threads: 1,
        ..Options::default()
    };
    if part == "compile" {
        compile_times();
        return;
    }
    if part == "median" {
        median_times(&options);
        return;
    }
    let (copy_bw, read_bw) = if part == "reduce" || part == "pipeline" {
        (1.0, 1.0)
    } else {
        bandwidth()
    };
    println!("bandwidth: copy {copy_bw:.2} GB/s, read {read_bw:.2} GB/s (1 thread)");

    let stack = rumba::synthetic::stack(DType::U8, &[T, H, W, 1], 0);
    let reference: Vec<f32> = (0..PIXELS).map(|i| 20.0 + (i % 97) as f32).collect();
    let r = Array::F32(ndarray::ArrayD::from_shape_vec(vec![1, H, W, 1], reference.clone()).expect("shape"));

    // The fused u8 → f32 pipeline: one elementwise kernel.
    let b = Builder::new();
    let x = b.input("x", DType::U8, [None, None, None, Some(1)]);
    let rr = b.input("r", DType::F32, [Some(1), None, None, Some(1)]);
    let (sp, vp) = (b.param("sub", Some(0.75)), b.param("div", Some(0.5)));
    let out = x.pipeline(Some(Step::file(&rr).amount(&sp)), Some(Step::file(&rr).amount(&vp)));
    let graph = b.build([("out", &out)]).expect("graph");
    let views = [("x", stack.view()), ("r", r.view())];
    let exe = rumba::compile(&graph, &rumba::input_specs(&views), &options).expect("compiles");
    for k in exe.kernels() {
        println!("  kernel {} on {:?}: compile {:?}", k.name, k.backend, k.compile_time);
    }
    let mut outputs = vec![Array::F32(ndarray::ArrayD::zeros(vec![T, H, W, 1]))];
    let params = BTreeMap::new();
    let Array::U8(xs) = &stack else { unreachable!() };
    let xs = xs.as_slice().expect("contiguous");
    let mut plain_out = vec![0f32; T * PIXELS];
    // Interleaved, so both see the same phases of a noisy machine.
    let (mut fused, mut plain_t) = (Duration::MAX, Duration::MAX);
    for _ in 0..if part == "reduce" { 0 } else { 5 } {
        fused = fused.min(best_of(1, || {
            exe.run_into(&views, &params, &mut outputs).expect("runs")
        }));
        plain_t = plain_t.min(best_of(1, || plain(xs, &reference, &mut plain_out, 0.75, 0.5)));
    }
    let Array::F32(o) = &outputs[0] else { unreachable!() };
    let same = o
        .as_slice()
        .expect("contiguous")
        .iter()
        .zip(&plain_out)
        .all(|(a, b)| a.to_bits() == b.to_bits());
    let bytes = 5 * T * PIXELS;
    println!(
        "fused u8→f32 pipeline: {:.1} ms {:.2} GB/s = {:.0}% of copy; plain loop {:.1} ms {:.2} GB/s; ratio {:.2}× (same bits: {same})",
        fused.as_secs_f64() * 1e3,
        gbs(bytes, fused),
        100.0 * gbs(bytes, fused) / copy_bw,
        plain_t.as_secs_f64() * 1e3,
        gbs(bytes, plain_t),
        fused.as_secs_f64() / plain_t.as_secs_f64()
    );

    // The same pipeline on a permuted view of the stack (W and H swapped in memory): the
    // vector loop's run-time condition fails and every point runs the scalar loop.
    if part == "pipeline" || part == "all" {
        let Array::U8(a) = &stack else { unreachable!() };
        let swapped = a
            .view()
            .permuted_axes(ndarray::IxDyn(&[0, 2, 1, 3]))
            .as_standard_layout()
            .into_owned();
        let permuted = swapped.view().permuted_axes(ndarray::IxDyn(&[0, 2, 1, 3]));
        let views = [("x", rumba::ArrayView::U8(permuted)), ("r", r.view())];
        let t = best_of_5(|| exe.run_into(&views, &params, &mut outputs).expect("runs"));
        println!(
            "fused pipeline on a permuted view (scalar loop): {:.1} ms {:.2} GB/s",
            t.as_secs_f64() * 1e3,
            gbs(bytes, t)
        );
    }
    if part == "pipeline" {
        return;
    }
    // Sliding normalisation (window 10, lag 5): one window-mean kernel with its consumer.
    if part != "reduce" {
        let b = Builder::new();
        let x = b.input("x", DType::U8, [None, None, None, Some(1)]);
        let out = x.pipeline(
            Some(Step::sliding(10, 5, Stat::Mean)),
            Some(Step::sliding(10, 5, Stat::Mean)),
        );
        let graph = b.build([("out", &out)]).expect("graph");
        let views = [("x", stack.view())];
        let exe = rumba::compile(&graph, &rumba::input_specs(&views), &options).expect("compiles");
        let n = T - 5 - 10;
        let mut outputs = vec![Array::F32(ndarray::ArrayD::zeros(vec![n, H, W, 1]))];
        let t = best_of_5(|| exe.run_into(&views, &params, &mut outputs).expect("runs"));
        let bytes = (T - 6) * PIXELS + 4 * n * PIXELS;
        println!(
            "sliding normalisation: {:.1} ms {:.2} GB/s = {:.0}% of copy (compile {:?})",
            t.as_secs_f64() * 1e3,
            gbs(bytes, t),
            100.0 * gbs(bytes, t) / copy_bw,
            exe.kernels().iter().map(|k| k.compile_time).sum::<Duration>()
        );
    }
    // Reductions over T of the u8 stack and of a (200, 512, 512, 1) f32 stack: the logical
    // bytes are the stack (the output is one frame).
    let f32_stack = rumba::synthetic::stack(DType::F32, &[200, H, W, 1], 1);
    for (stack, dtype) in [(&stack, DType::U8), (&f32_stack, DType::F32)] {
        for stat in [Stat::Mean, Stat::Min, Stat::Max, Stat::Std] {
            let b = Builder::new();
            let x = b.input("x", dtype, [None, None, None, Some(1)]);
            let out = x.reduce(stat, &[0]);
            let graph = b.build([("out", &out)]).expect("graph");
            let views = [("x", stack.view())];
            let exe = rumba::compile(&graph, &rumba::input_specs(&views), &options).expect("compiles");
            let compile: Duration = exe.kernels().iter().map(|k| k.compile_time).sum();
            let t = best_of_5(|| {
                black_box(exe.run(&views, &params).expect("runs"));
            });
            let bytes: usize = stack.shape().iter().product::<usize>() * dtype.size();
            println!(
                "{stat:?} over T of {dtype}: {:.1} ms {:.2} GB/s = {:.0}% of read (compile {compile:?})",
                t.as_secs_f64() * 1e3,
                gbs(bytes, t),
                100.0 * gbs(bytes, t) / read_bw
            );
        }
    }
}

/// Median and 90th percentile over T of the u8 (400 frames) and f32 (200 frames) stacks on
/// `options`' backend against the interpreter, one thread each, same bits checked.
fn median_times(options: &Options) {
    let params = BTreeMap::new();
    for (dtype, frames) in [(DType::U8, T), (DType::F32, 200)] {
        let stack = rumba::synthetic::stack(dtype, &[frames, H, W, 1], 2);
        for stat in [Stat::Median, Stat::Percentile(90.0)] {
            let b = Builder::new();
            let x = b.input("x", dtype, [None, None, None, Some(1)]);
            let out = x.reduce(stat, &[0]);
            let graph = b.build([("out", &out)]).expect("graph");
            let views = [("x", stack.view())];
            let exe = rumba::compile(&graph, &rumba::input_specs(&views), options).expect("compiles");
            let interp = rumba::compile(
                &graph,
                &rumba::input_specs(&views),
                &Options {
                    backend: Backend::Interp,
                    threads: 1,
                    ..Options::default()
                },
            )
            .expect("compiles");
            let mut got = Vec::new();
            let t = best_of(3, || got = exe.run(&views, &params).expect("runs"));
            let mut want = Vec::new();
            let ti = best_of(1, || want = interp.run(&views, &params).expect("runs"));
            println!(
                "{stat:?} over T of {dtype} ({frames} frames): {:.1} ms, interpreter {:.1} ms, {:.1}× (same bits: {})",
                t.as_secs_f64() * 1e3,
                ti.as_secs_f64() * 1e3,
                ti.as_secs_f64() / t.as_secs_f64(),
                same_bits(&got, &want)
            );
        }
    }
}

/// Whether two sets of outputs are equal bit for bit (NaN included).
fn same_bits(a: &[(String, Array)], b: &[(String, Array)]) -> bool {
    let bits = |x: &Array| x.to_f64_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((_, a), (_, b))| a.dtype() == b.dtype() && bits(a) == bits(b))
}

/// Codegen time of every kernel of the example graphs and of the graphs above (best and
/// median of 20 compiles each, straight through `rumba_jit::Jit`, no cache).
fn compile_times() {
    let jit = rumba_jit::Jit::new().expect("a JIT for the host");
    let mut graphs = Vec::new();
    for stem in [
        "background_subtraction",
        "sliding_normalisation",
        "envelope",
        "roi_series",
    ] {
        let path = format!("{}/../../examples/graphs/{stem}.json", env!("CARGO_MANIFEST_DIR"));
        let graph = rumba::Graph::try_from(rumba::format::load_file(std::path::Path::new(&path)).expect("loads"))
            .expect("valid");
        let dtype = graph.node(graph.inputs()[0].1).dtype;
        graphs.push((stem.to_owned(), graph, dtype));
    }
    for stat in [Stat::Mean, Stat::Min, Stat::Std] {
        for dtype in [DType::U8, DType::F32] {
            let b = Builder::new();
            let x = b.input("x", dtype, [None, None, None, Some(1)]);
            let out = x.reduce(stat, &[0]);
            graphs.push((
                format!("{stat:?} over T {dtype}"),
                b.build([("out", &out)]).expect("graph"),
                dtype,
            ));
        }
    }
    for (name, graph, dtype) in graphs {
        let spec = rumba::InputSpec {
            name: "x".into(),
            dtype,
            shape: vec![200, H, W, 1],
        };
        let exe = rumba::compile(&graph, &[spec], &Options::default()).expect("compiles");
        let plan = exe.plan().expect("a plan");
        for kernel in &plan.kernels {
            let mut times: Vec<Duration> = (0..20)
                .map(|_| jit.compile(plan, kernel).expect("compiles").compile_time)
                .collect();
            times.sort();
            println!(
                "compile {name} {}: best {:?}, median {:?}",
                kernel.name, times[0], times[10]
            );
        }
    }
}
