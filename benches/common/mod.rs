//! Shared by `benches/blitz.rs` (criterion) and `benches/summary.rs` (one table): the BLITZ
//! workloads, the shapes they run at, and one [`Runner`] per implementation (a rumba backend,
//! the unfused ndarray version, the plain Rust loop), plus the bandwidth kernels.
//!
//! Shapes (BLITZ's benchmark shapes): (200, 512, 512, 1) f32 and (400, 512, 512, 1) u8;
//! `RUMBA_BENCH_SMALL=1` (read by the benches only, never by rumba) shrinks both to
//! (20, 256, 256, 1). The envelope sits at row H/2 (256 at full size) and the ROI pentagon of
//! `examples/graphs/roi_series.json` is scaled by (W/512, H/512), so both fit the small shape.
//!
//! Logical bytes (what GB/s counts): every input byte the result depends on read once, every
//! output byte written once. For envelopes that is the band, for the ROI the pixels inside the
//! polygon; the reference frames of the normalisations are not counted a second time.

#![allow(dead_code)] // Each bench binary uses its own part of this module.

pub mod pixel;
pub mod plain;
pub mod stream;
pub mod unfused;
pub mod workload;

use rumba::{Array, Backend, DType, Executable, Graph, InputSpec, Options};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
pub use workload::{Geometry, WORKLOADS, Workload};

/// The rumba backends the benchmarks run, as data: adding a backend is one line here.
pub const BACKENDS: &[(&str, Backend)] = &[
    ("interp", Backend::Interp),
    ("eval", Backend::Eval),
    ("jit", Backend::Jit),
];

/// Whether `backend` uses the thread pool (the interpreter runs op by op on one thread, so it
/// is measured once, not once per thread count).
#[must_use]
pub fn uses_threads(backend: Backend) -> bool {
    backend != Backend::Interp
}

/// One input stack: dtype and (T, H, W, C).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Case {
    /// Pixel type of the stack.
    pub dtype: DType,
    /// (T, H, W, C).
    pub shape: [usize; 4],
}

impl Case {
    /// `f32_200x512x512x1`.
    #[must_use]
    pub fn name(&self) -> String {
        let [t, h, w, c] = self.shape;
        format!("{}_{t}x{h}x{w}x{c}", self.dtype)
    }

    /// Elements of the stack.
    #[must_use]
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// The deterministic synthetic stack of this case (seed 0).
    #[must_use]
    pub fn stack(&self) -> Array {
        rumba::synthetic::stack(self.dtype, &self.shape, 0)
    }
}

/// BLITZ's benchmark shapes.
pub const FULL: [Case; 2] = [
    Case {
        dtype: DType::F32,
        shape: [200, 512, 512, 1],
    },
    Case {
        dtype: DType::U8,
        shape: [400, 512, 512, 1],
    },
];

/// The small shapes: quick runs and the correctness check.
pub const SMALL: [Case; 2] = [
    Case {
        dtype: DType::F32,
        shape: [20, 256, 256, 1],
    },
    Case {
        dtype: DType::U8,
        shape: [20, 256, 256, 1],
    },
];

/// `RUMBA_BENCH_SMALL=1` asks for the small shapes.
#[must_use]
pub fn small_requested() -> bool {
    std::env::var("RUMBA_BENCH_SMALL").is_ok_and(|v| v == "1")
}

/// All cores.
#[must_use]
pub fn all_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// 1 and all cores (once on a one-core machine).
#[must_use]
pub fn thread_counts() -> Vec<usize> {
    let mut counts = vec![1, all_threads()];
    counts.dedup();
    counts
}

/// An implementation of a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// A rumba backend (name from [`BACKENDS`]) on a pool of `threads`.
    Rumba(&'static str, Backend, usize),
    /// What NumPy does: one full-size temporary per step (always one thread).
    Unfused,
    /// The hand-fused plain Rust loop on a rayon pool of `threads`.
    Plain(usize),
}

impl Impl {
    /// `eval-1t`, `interp`, `unfused` (ndarray), `plain-2t` (the plain loop).
    #[must_use]
    pub fn label(&self) -> String {
        match *self {
            Impl::Rumba(name, backend, threads) if uses_threads(backend) => format!("{name}-{threads}t"),
            Impl::Rumba(name, ..) => name.to_owned(),
            Impl::Unfused => "unfused".to_owned(),
            Impl::Plain(threads) => format!("plain-{threads}t"),
        }
    }

    /// Threads it runs on.
    #[must_use]
    pub fn threads(&self) -> usize {
        match *self {
            Impl::Rumba(_, backend, threads) if uses_threads(backend) => threads,
            Impl::Plain(threads) => threads,
            _ => 1,
        }
    }

    /// Whether this is a rumba backend.
    #[must_use]
    pub fn is_rumba(&self) -> bool {
        matches!(self, Impl::Rumba(..))
    }
}

/// Every implementation: each backend of [`BACKENDS`] on one thread and on all cores (the
/// interpreter once), the unfused ndarray version, the plain loop on one thread and all cores.
#[must_use]
pub fn impls() -> Vec<Impl> {
    let thread_counts = thread_counts();
    let mut out = Vec::new();
    for &(name, backend) in BACKENDS {
        if uses_threads(backend) {
            out.extend(thread_counts.iter().map(|&t| Impl::Rumba(name, backend, t)));
        } else {
            out.push(Impl::Rumba(name, backend, 1));
        }
    }
    out.push(Impl::Unfused);
    out.extend(thread_counts.iter().map(|&t| Impl::Plain(t)));
    out
}

/// Compiles `workload` for a stack of `dtype` and `shape` on `backend` with `threads`.
///
/// # Panics
/// If the graph does not compile (a bug in the benchmark or in rumba).
#[must_use]
pub fn compile(workload: Workload, dtype: DType, shape: &[usize], backend: Backend, threads: usize) -> Executable {
    let graph = workload.graph(dtype, &Geometry::new(shape));
    let options = Options {
        backend,
        threads,
        ..Options::default()
    };
    let specs = [InputSpec {
        name: "x".to_owned(),
        dtype,
        shape: shape.to_vec(),
    }];
    rumba::compile(&graph, &specs, &options).unwrap_or_else(|e| panic!("{workload:?} does not compile: {e}"))
}

/// Elements of all outputs of `workload` on a stack of `dtype` and `shape`.
#[must_use]
pub fn output_elements(workload: Workload, dtype: DType, shape: &[usize]) -> usize {
    let exe = compile(workload, dtype, shape, Backend::Interp, 1);
    exe.output_shapes()
        .iter()
        .map(|(_, _, s)| s.iter().product::<usize>())
        .sum()
}

/// How much more work `full` is than a stack of `small` shape: the larger of the input and
/// the output element ratios (a sliding window on 20 frames has 5 output frames, on 400 has
/// 385, so its cost grows faster than its input).
#[must_use]
pub fn work_ratio(workload: Workload, small: &[usize], full: Case) -> f64 {
    let input = full.elements() as f64 / small.iter().product::<usize>() as f64;
    let output = output_elements(workload, full.dtype, &full.shape) as f64
        / output_elements(workload, full.dtype, small).max(1) as f64;
    input.max(output)
}

/// The graph files of `examples/graphs/`, sorted: (stem, graph).
///
/// # Panics
/// If a file cannot be read or does not validate.
#[must_use]
pub fn example_graphs() -> Vec<(String, Graph)> {
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
#[must_use]
pub fn graph_specs(graph: &Graph, shape: &[usize]) -> Vec<InputSpec> {
    let inputs = graph.inputs();
    let spec = |(name, id): (&str, _)| InputSpec {
        name: name.to_owned(),
        dtype: graph.node(id).dtype,
        shape: shape.to_vec(),
    };
    inputs.into_iter().map(spec).collect()
}

/// One implementation of one workload, ready to run: compiled (rumba), with its thread pool
/// (plain loop) and its preallocated outputs (rumba via `run_into`, the plain loop). The unfused
/// version allocates its outputs and temporaries on every run, as NumPy does.
pub struct Runner<'a> {
    workload: Workload,
    input: &'a Array,
    geometry: Geometry,
    exe: Option<Executable>,
    pool: Option<rayon::ThreadPool>,
    params: BTreeMap<String, f64>,
    outputs: Vec<Array>,
}

impl<'a> Runner<'a> {
    /// Prepares `imp` of `workload` on `input` (compiling is not part of a run).
    ///
    /// # Panics
    /// If the graph does not compile or the pool cannot be built.
    #[must_use]
    pub fn new(workload: Workload, input: &'a Array, imp: Impl) -> Runner<'a> {
        // Output dtypes and shapes come from the (cheap) interpreter compile: bind only.
        let (dtype, shape) = (input.dtype(), input.shape());
        let shapes = compile(workload, dtype, shape, Backend::Interp, 1);
        let outputs = shapes
            .output_shapes()
            .iter()
            .map(|&(_, d, s)| Array::zeros(d, s))
            .collect();
        let (exe, pool) = match imp {
            Impl::Rumba(_, backend, threads) => (Some(compile(workload, dtype, shape, backend, threads)), None),
            Impl::Unfused => (None, None),
            Impl::Plain(threads) => (None, Some(pool(threads))),
        };
        Runner {
            workload,
            input,
            geometry: Geometry::new(input.shape()),
            exe,
            pool,
            params: BTreeMap::new(),
            outputs,
        }
    }

    /// Runs once.
    ///
    /// # Panics
    /// If rumba reports an error.
    pub fn run(&mut self) {
        if let Some(exe) = &self.exe {
            exe.run_into(&[("x", self.input.view())], &self.params, &mut self.outputs)
                .unwrap_or_else(|e| panic!("{:?}: {e}", self.workload));
        } else if let Some(pool) = &self.pool {
            let (w, x, g) = (self.workload, self.input, &self.geometry);
            pool.install(|| plain::run(w, x, g, &mut self.outputs));
        } else {
            self.outputs = unfused::run(self.workload, self.input, &self.geometry);
        }
    }

    /// The outputs of the last run, in graph order.
    #[must_use]
    pub fn outputs(&self) -> &[Array] {
        &self.outputs
    }
}

/// A rumba backend estimated to take longer than this per run at BLITZ's shapes is skipped
/// there (by both benches).
pub const SKIP_SECONDS: f64 = 10.0;

/// Seconds one run of `imp` on `full` would take, extrapolated from `small` (a small stack of
/// the same dtype): the second run there, times [`work_ratio`].
#[must_use]
pub fn estimate_seconds(workload: Workload, imp: Impl, small: &Array, full: Case) -> f64 {
    let mut runner = Runner::new(workload, small, imp);
    runner.run();
    let start = std::time::Instant::now();
    runner.run();
    start.elapsed().as_secs_f64() * work_ratio(workload, small.shape(), full)
}

/// A rayon pool of `threads`.
///
/// # Panics
/// If the pool cannot be built.
#[must_use]
pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool")
}

/// The tolerance of [`assert_close`]: relative, and absolute for magnitudes below 1.
pub const RTOL: f64 = 1e-5;

/// Asserts `actual` equals `expected` output by output: same dtype and shape, NaN at the same
/// places, every other element within `RTOL·max(|e|, 1)`.
///
/// # Panics
/// On the first difference, naming `what`, the output and the element.
pub fn assert_close(what: &str, expected: &[Array], actual: &[Array]) {
    assert_eq!(expected.len(), actual.len(), "{what}: output count");
    for (k, (e, a)) in expected.iter().zip(actual).enumerate() {
        assert_eq!((e.dtype(), e.shape()), (a.dtype(), a.shape()), "{what}: output {k}");
        for (i, (e, a)) in e.to_f64_vec().into_iter().zip(a.to_f64_vec()).enumerate() {
            let ok = if e.is_nan() {
                a.is_nan()
            } else {
                (a - e).abs() <= RTOL * e.abs().max(1.0)
            };
            assert!(ok, "{what}: output {k} element {i}: expected {e}, found {a}");
        }
    }
}

/// Gigabytes (1e9) per second.
#[must_use]
pub fn gb_per_s(bytes: u64, time: Duration) -> f64 {
    bytes as f64 / time.as_secs_f64() / 1e9
}
