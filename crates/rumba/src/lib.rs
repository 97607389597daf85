//! rumba: a lazy array-pipeline compiler for large image stacks.
//!
//! Describe a pipeline once — with the [`dsl`] or a JSON graph file — and run it on stacks
//! shaped (T, H, W, C). [`compile`] takes a validated [`Graph`] through the stages of
//! DESIGN §3, one line each: bind it to the input shapes, run the graph passes, fuse it into a
//! [`Plan`] of loop-nest kernels, and prepare the backend; [`Executable::run`] runs the
//! kernels in fixed tiles on a crew of threads (or, with [`Backend::Interp`], the reference
//! interpreter op by op).
//!
//! ```
//! use rumba::dsl::{Builder, Stat, Step};
//! use rumba::{Array, DType, Options};
//! use std::collections::BTreeMap;
//!
//! // Background subtraction: subtract the mean of frames 0..=1, divide by it.
//! let b = Builder::new();
//! let x = b.input("x", DType::U8, [None, None, None, Some(1)]);
//! let out = x.pipeline(Some(Step::range([0, 1], Stat::Mean)), Some(Step::range([0, 1], Stat::Mean)));
//! let graph = b.build([("out", &out)]).unwrap();
//!
//! let stack = ndarray::Array4::<u8>::from_shape_fn((3, 2, 2, 1), |(t, i, j, _)| (10 * t + i + j + 1) as u8);
//! let stack = Array::U8(stack.into_dyn());
//! let exe = rumba::compile(&graph, &rumba::input_specs(&[("x", stack.view())]), &Options::default()).unwrap();
//! let outputs = exe.run(&[("x", stack.view())], &BTreeMap::new()).unwrap();
//! assert_eq!(outputs[0].1.shape(), &[3, 2, 2, 1]);
//! ```

pub mod cache;
pub mod exec;
pub mod npy;
pub mod stream;
pub mod summary;
pub mod synthetic;
mod sys;

pub use rumba_ir::bind::InputSpec;
pub use rumba_ir::{Array, ArrayView, DType, Graph, GraphDef, GraphError, dsl, format};
pub use rumba_opt::PassReport;
pub use rumba_plan::Plan;

use exec::Executor;
use rumba_ir::bind::Bound;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Errors of the facade: the graph's, the optimizer's, the backends', and file I/O.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The graph, its file, or its binding is wrong.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The interpreter failed at run time.
    #[error(transparent)]
    Interp(#[from] rumba_interp::InterpError),
    /// A graph pass failed (a bug in rumba, reported rather than hidden).
    #[error(transparent)]
    Opt(#[from] rumba_opt::OptError),
    /// Fusion failed (a bug in rumba, reported rather than hidden).
    #[error(transparent)]
    Fuse(#[from] rumba_opt::fuse::FuseError),
    /// Running the plan failed (bad params or inputs, or a run-time error naming the node).
    #[error(transparent)]
    Exec(#[from] exec::ExecError),
    /// Reading or writing a `.npy` file failed.
    #[error(transparent)]
    Npy(#[from] npy::NpyError),
    /// The run does not fit its memory budget (refused before anything is allocated).
    #[error(
        "{what} needs {} of memory, over the budget of {}; {hint}",
        human_bytes(*needs),
        human_bytes(*budget)
    )]
    Budget {
        /// What would help.
        hint: &'static str,
        /// What needs the memory (an output, a kernel's tile).
        what: String,
        /// Bytes needed.
        needs: u64,
        /// The budget.
        budget: u64,
    },
    /// An output would replace one of the run's inputs.
    #[error("output \"{output}\" would replace input \"{input}\" ({}); choose another output directory", path.display())]
    ReplacesInput {
        /// The output.
        output: String,
        /// The input.
        input: String,
        /// The input's file.
        path: std::path::PathBuf,
    },
    /// The outputs need more disk than the output directory has free.
    #[error("output directory {}: the outputs need {}, the file system has {} free", dir.display(), human_bytes(*needs), human_bytes(*free))]
    DiskFull {
        /// The output directory.
        dir: std::path::PathBuf,
        /// Bytes needed.
        needs: u64,
        /// Bytes free.
        free: u64,
    },
    /// The run was cancelled (a signal): its temporaries are removed, the outputs untouched.
    #[error("cancelled; no output was changed")]
    Cancelled,
    /// A streamed run cannot run this executable.
    #[error("streamed run: {0}")]
    Streaming(String),
    /// `Backend::Jit` could not compile a kernel.
    #[error("kernel {kernel}: {source}")]
    Jit {
        /// The kernel's name.
        kernel: String,
        /// Why.
        source: rumba_jit::JitError,
    },
}

/// What helps a run that does not fit in memory.
pub const IN_MEMORY_HINT: &str = "raise the budget (--memory-budget), or stream the outputs to files (--output DIR)";

/// What helps a streamed run that does not fit.
pub const STREAMED_HINT: &str = "raise the budget (--memory-budget)";

/// A byte count for people: `512 MiB`, `1.50 GiB`, `93 B`.
#[must_use]
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

/// How one kernel of an executable runs.
#[derive(Clone, Debug)]
pub struct KernelInfo {
    /// The kernel's name.
    pub name: String,
    /// `Jit` or `Eval` (never `Auto` or `Interp`).
    pub backend: Backend,
    /// Why the evaluator runs it, when the JIT was wanted but could not compile it.
    pub fallback: Option<String>,
    /// Codegen time (zero on a cache hit or on the evaluator).
    pub compile_time: Duration,
    /// Whether the compiled code came from the kernel cache.
    pub cache_hit: bool,
}

/// Which backend runs the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// The reference interpreter, op by op (no optimisation, no fusion).
    Interp,
    /// The plan evaluator: the fused plan's kernels as plain scalar loops, in parallel tiles.
    Eval,
    /// The Cranelift JIT, strictly: a kernel it cannot compile is an error.
    Jit,
    /// The JIT, with the plan evaluator for any kernel the JIT cannot compile (reported in
    /// [`Executable::kernels`], never silent).
    #[default]
    Auto,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Interp => "interp",
            Backend::Eval => "eval",
            Backend::Jit => "jit",
            Backend::Auto => "auto",
        })
    }
}

/// The pass name that, disabled, materialises every node instead of fusing.
pub const FUSION: &str = "fusion";

/// The pass name that, disabled, reduces every window from its values instead of keeping
/// running state (DESIGN §5).
pub const RUNNING_WINDOWS: &str = "running_windows";

/// Compilation options (passed down; nothing reads the environment).
#[derive(Clone, Debug)]
pub struct Options {
    /// The backend to use.
    pub backend: Backend,
    /// Threads that run tiles, the calling one included (0: one per core).
    pub threads: usize,
    /// Graph passes to skip, by name (see [`rumba_opt::PASSES`]); `"fusion"` materialises
    /// every node instead of fusing.
    pub disabled_passes: Vec<String>,
    /// Target number of loop iterations per tile.
    pub tile_points: usize,
    /// Bytes [`Executable::run`] may allocate for outputs and temps (`None`: no limit); a
    /// run that needs more is refused before allocating anything ([`Error::Budget`]).
    pub memory_budget: Option<u64>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            backend: Backend::Auto,
            threads: 0,
            disabled_passes: Vec::new(),
            tile_points: 1 << 20,
            memory_budget: None,
        }
    }
}

/// The input specs (name, dtype, extents) of some arrays, for [`compile`].
#[must_use]
pub fn input_specs(inputs: &[(&str, ArrayView<'_>)]) -> Vec<InputSpec> {
    inputs
        .iter()
        .map(|(name, a)| InputSpec {
            name: (*name).to_owned(),
            dtype: a.dtype(),
            shape: a.shape().to_vec(),
        })
        .collect()
}

/// A graph compiled for concrete input shapes.
#[derive(Clone)]
pub struct Executable {
    graph: Graph,
    inputs: Vec<InputSpec>,
    bound: Bound,
    backend: Backend,
    plan: Option<Plan>,
    executor: Option<Arc<Executor>>,
    natives: Vec<Option<rumba_jit::CompiledKernel>>,
    kernels: Vec<KernelInfo>,
    memory_budget: Option<u64>,
    options: Options,
    /// Time spent in each stage of [`compile`].
    pub stages: Vec<(&'static str, Duration)>,
    /// What each graph pass did.
    pub passes: Vec<PassReport>,
}

impl fmt::Debug for Executable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executable")
            .field("backend", &self.backend)
            .field("stages", &self.stages)
            .finish_non_exhaustive()
    }
}

/// Bytes a polygon mask's row-span table takes per image row (a row's span list and one span).
const SPAN_TABLE_ROW_BYTES: u64 = 32;

/// Refuses a polygon mask whose row-span table (built at compile time for the plan backends,
/// one entry per image row) would not fit the memory budget (the default when none is set),
/// before it is built.
fn check_span_tables(graph: &Graph, bound: &rumba_ir::bind::Bound, options: &Options) -> Result<(), Error> {
    if options.backend == Backend::Interp {
        return Ok(());
    }
    let budget = options.memory_budget.unwrap_or_else(stream::default_memory_budget);
    for id in graph.ids() {
        if let rumba_ir::Op::PolygonMask { .. } = graph.node(id).op {
            let rows = bound.shapes[id.index()][1] as u64;
            let needs = rows.saturating_mul(SPAN_TABLE_ROW_BYTES);
            if needs > budget {
                return Err(Error::Budget {
                    hint: "draw the polygon on a smaller image, or raise --memory-budget",
                    what: format!(
                        "the row-span table of {} ({rows} rows)",
                        rumba_ir::error::At::node(graph.origin(id))
                    ),
                    needs,
                    budget,
                });
            }
        }
    }
    Ok(())
}

/// Compiles `graph` for concrete inputs. The stages of DESIGN §3, one line each.
///
/// # Errors
/// Binding errors (missing inputs, dtypes or shapes that differ from the declaration, shapes
/// that do not broadcast, failed constraints such as an empty range), and internal errors of
/// the optimizer (reported, never hidden).
pub fn compile(graph: &Graph, inputs: &[InputSpec], options: &Options) -> Result<Executable, Error> {
    let mut stages = Vec::new();
    // A (T, H, W) array for a C = 1 stack (and (H, W) for a (1, H, W, 1) one) binds as the
    // rank-4 array it stands for.
    let inputs: Vec<InputSpec> = inputs
        .iter()
        .map(|s| match rumba_ir::bind::implied_extents(graph, s) {
            Some(shape) => InputSpec { shape, ..s.clone() },
            None => s.clone(),
        })
        .collect();
    let inputs = &inputs[..];
    let bound = stage(&mut stages, "bind", || rumba_ir::bind::bind(graph, inputs))?;
    let backend = options.backend;
    check_span_tables(graph, &bound, options)?;
    let mut exe = Executable {
        graph: graph.clone(),
        inputs: inputs.to_vec(),
        bound,
        backend,
        plan: None,
        executor: None,
        natives: Vec::new(),
        kernels: Vec::new(),
        memory_budget: options.memory_budget,
        options: options.clone(),
        stages: Vec::new(),
        passes: Vec::new(),
    };
    if backend != Backend::Interp {
        let enabled = |name: &str| !options.disabled_passes.iter().any(|p| p == name);
        let pass_options = rumba_opt::PassOptions {
            disabled: options.disabled_passes.clone(),
        };
        let (optimized, passes) = stage(&mut stages, "optimize", || {
            rumba_opt::optimize_graph(graph, &pass_options)
        })?;
        let rebound = stage(&mut stages, "bind optimized", || {
            rumba_ir::bind::bind(&optimized, inputs)
        })?;
        let fuse_options = rumba_opt::fuse::FuseOptions {
            fusion: enabled(FUSION),
            tile_points: options.tile_points,
            running: enabled(RUNNING_WINDOWS),
        };
        let plan = stage(&mut stages, "fuse", || {
            rumba_opt::fuse::fuse(&optimized, &rebound, &fuse_options)
        })?;
        stage(&mut stages, "verify", || exec::check_plan(&plan))?;
        let (natives, kernels) = stage(&mut stages, "codegen", || codegen(&plan, backend))?;
        let executor = stage(&mut stages, "thread pool", || Executor::new(options.threads))?;
        exe.natives = natives;
        exe.kernels = kernels;
        exe.plan = Some(plan);
        exe.executor = Some(Arc::new(executor));
        exe.passes = passes;
    }
    exe.stages = stages;
    Ok(exe)
}

/// Compiles every kernel for `backend`: the evaluator runs all of them (`Eval`), the JIT
/// compiles each (`Jit`: a failure is an error; `Auto`: the evaluator runs what the JIT cannot
/// compile, and says why).
fn codegen(plan: &Plan, backend: Backend) -> Result<(Vec<Option<rumba_jit::CompiledKernel>>, Vec<KernelInfo>), Error> {
    let mut natives = Vec::new();
    let mut infos = Vec::new();
    for kernel in &plan.kernels {
        let mut info = KernelInfo {
            name: kernel.name.clone(),
            backend: Backend::Eval,
            fallback: None,
            compile_time: Duration::ZERO,
            cache_hit: false,
        };
        let native = match backend {
            Backend::Jit | Backend::Auto => match cache::get_or_compile(plan, kernel) {
                Ok((compiled, hit)) => {
                    info.backend = Backend::Jit;
                    info.cache_hit = hit;
                    info.compile_time = if hit { Duration::ZERO } else { compiled.compile_time };
                    Some(compiled)
                }
                Err(source) if backend == Backend::Jit => {
                    return Err(Error::Jit {
                        kernel: kernel.name.clone(),
                        source,
                    });
                }
                Err(e) => {
                    info.fallback = Some(e.to_string());
                    None
                }
            },
            _ => None,
        };
        natives.push(native);
        infos.push(info);
    }
    Ok((natives, infos))
}

/// Runs one compile stage, recording its time.
fn stage<T>(stages: &mut Vec<(&'static str, Duration)>, name: &'static str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    stages.push((name, start.elapsed()));
    out
}

impl Executable {
    /// The backend that runs this executable (never `Auto`).
    #[must_use]
    pub fn backend(&self) -> Backend {
        match self.backend {
            Backend::Interp => Backend::Interp,
            _ if !self.kernels.is_empty() && self.kernels.iter().all(|k| k.backend == Backend::Jit) => Backend::Jit,
            _ => Backend::Eval,
        }
    }

    /// The graph.
    #[must_use]
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// How each kernel runs (JIT or evaluator, and why), in plan order.
    #[must_use]
    pub fn kernels(&self) -> &[KernelInfo] {
        &self.kernels
    }

    /// The compiled code of each kernel (`None` where the evaluator runs it).
    #[must_use]
    pub fn compiled(&self) -> &[Option<rumba_jit::CompiledKernel>] {
        &self.natives
    }

    fn native_fns(&self) -> Vec<Option<rumba_jit::abi::KernelFn>> {
        self.natives
            .iter()
            .map(|n| n.as_ref().map(rumba_jit::CompiledKernel::function))
            .collect()
    }

    /// The fused plan (`None` on the interpreter).
    #[must_use]
    pub fn plan(&self) -> Option<&Plan> {
        self.plan.as_ref()
    }

    /// The concrete shape of each output, in output order.
    #[must_use]
    pub fn output_shapes(&self) -> Vec<(&str, DType, &[usize])> {
        self.graph
            .outputs
            .iter()
            .map(|o| {
                (
                    o.name.as_str(),
                    self.graph.node(o.node).dtype,
                    self.bound.shapes[o.node.index()].as_slice(),
                )
            })
            .collect()
    }

    /// Why output `name` is empty (a zero extent in its shape), naming the node that made it
    /// so and its extents (`a window of 500 along axis 0 is longer than that axis (extent
    /// 20)`); `None` when it is not empty or not an output.
    #[must_use]
    pub fn why_empty(&self, name: &str) -> Option<String> {
        let output = self.graph.outputs.iter().find(|o| o.name == name)?;
        rumba_ir::bind::why_empty(&self.graph, &self.bound, output.node)
    }

    /// The compile options.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The inputs it was compiled for.
    #[must_use]
    pub fn input_specs(&self) -> &[InputSpec] {
        &self.inputs
    }

    pub(crate) fn executor(&self) -> Option<&Executor> {
        self.executor.as_deref()
    }

    /// Bytes an in-memory run allocates: every output and temp (inputs are the caller's); on
    /// the interpreter, which has no plan, its outputs.
    #[must_use]
    pub fn memory_needed(&self) -> u64 {
        let bytes = |dtype: DType, shape: &[usize]| {
            shape
                .iter()
                .fold(dtype.size() as u64, |n, &e| n.saturating_mul(e as u64))
        };
        // The interpreter has no plan: at least its outputs (it holds every live value).
        let outputs = || {
            self.output_shapes()
                .into_iter()
                .map(|(_, dtype, shape)| bytes(dtype, shape))
                .fold(0u64, u64::saturating_add)
        };
        self.plan.as_ref().map_or_else(outputs, |plan| {
            plan.buffers
                .iter()
                .filter(|b| matches!(b.role, rumba_plan::Role::Output { .. } | rumba_plan::Role::Temp))
                .map(|b| bytes(b.dtype, &b.shape))
                .fold(0u64, u64::saturating_add)
        })
    }

    fn check_budget(&self) -> Result<(), Error> {
        match self.memory_budget {
            Some(budget) if self.memory_needed() > budget => Err(Error::Budget {
                hint: IN_MEMORY_HINT,
                what: "the outputs and temps of an in-memory run".into(),
                needs: self.memory_needed(),
                budget,
            }),
            _ => Ok(()),
        }
    }

    /// The inputs as the rank-4 views the plan reads (see [`compile`]), and whether any was
    /// given with fewer axes (its C = 1 outputs then come back without the C axis).
    fn full_rank<'n, 'v>(&self, inputs: &[(&'n str, ArrayView<'v>)]) -> (Vec<(&'n str, ArrayView<'v>)>, bool) {
        let mut reduced = false;
        let views = inputs
            .iter()
            .map(|(name, view)| {
                // Only arrays of fewer axes than a stack can stand for one (no work otherwise).
                if view.shape().len() >= 4 {
                    return (*name, view.clone());
                }
                let spec = InputSpec {
                    name: (*name).to_owned(),
                    dtype: view.dtype(),
                    shape: view.shape().to_vec(),
                };
                match rumba_ir::bind::implied_extents(&self.graph, &spec) {
                    Some(shape) => {
                        reduced = true;
                        (*name, view.clone().with_unit_axes(shape.len()))
                    }
                    None => (*name, view.clone()),
                }
            })
            .collect();
        (views, reduced)
    }

    fn check_inputs(&self, inputs: &[(&str, ArrayView<'_>)]) -> Result<(), Error> {
        self.check_specs(&input_specs(inputs))?;
        self.check_budget()
    }

    pub(crate) fn check_specs(&self, specs: &[InputSpec]) -> Result<(), Error> {
        if specs.len() != self.inputs.len() || specs.iter().any(|s| !self.inputs.contains(s)) {
            // Different inputs than compiled for: binding names the difference.
            rumba_ir::bind::bind(&self.graph, specs)?;
            // Name the first input that differs (binding accepted it, so every input is there).
            let text = |s: Option<&InputSpec>| s.map_or("nothing".into(), |s| format!("{} {:?}", s.dtype, s.shape));
            let (name, id) = self
                .graph
                .inputs()
                .into_iter()
                .find(|(name, _)| {
                    self.inputs.iter().find(|s| s.name == *name) != specs.iter().find(|s| s.name == *name)
                })
                .unwrap_or(self.graph.inputs()[0]);
            return Err(GraphError::Shape {
                at: rumba_ir::At::node(self.graph.origin(id)),
                what: "the input differs from the one the executable was compiled for (compile again for new shapes or dtypes)".into(),
                expected: text(self.inputs.iter().find(|s| s.name == name)),
                found: text(specs.iter().find(|s| s.name == name)),
            }
            .into());
        }
        Ok(())
    }

    /// Runs on `inputs` (by name, any strides) with run-time `params` (by name; missing ones
    /// take their defaults). Returns the outputs in graph order with their names.
    ///
    /// # Errors
    /// Inputs whose dtype or shape differ from those compiled for, unknown or missing params,
    /// and run-time errors naming the node.
    pub fn run(
        &self,
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
    ) -> Result<Vec<(String, Array)>, Error> {
        Ok(self.run_profiled(inputs, params)?.0)
    }

    /// What `rumba explain` prints: the inputs, what each graph pass did, the plan, each
    /// kernel's backend (and why the evaluator runs it, if it does), and the memory of an
    /// in-memory run and of a run streamed within `budget` with `params`.
    #[must_use]
    pub fn explain(&self, params: &BTreeMap<String, f64>, budget: u64) -> String {
        use std::fmt::Write as _;
        let mut text = String::new();
        for spec in &self.inputs {
            let _ = writeln!(text, "input {}: {} {:?}", spec.name, spec.dtype, spec.shape);
        }
        for pass in &self.passes {
            let _ = writeln!(text, "{pass}");
        }
        if let Some(plan) = &self.plan {
            let _ = writeln!(text, "{}", plan.to_string().trim_end());
        }
        for info in &self.kernels {
            let _ = match &info.fallback {
                Some(why) => writeln!(
                    text,
                    "backend {}: plan evaluator (the JIT cannot compile it: {why})",
                    info.name
                ),
                None => writeln!(text, "backend {}: {}", info.name, info.backend),
            };
        }
        let streamed = match self.stream_chunking(params, budget) {
            Ok(c) => format!(
                "streamed within {}: {} chunks, peak {} of data",
                human_bytes(budget),
                c.chunks.iter().map(Vec::len).sum::<usize>(),
                human_bytes(c.peak_bytes)
            ),
            Err(e) => format!("streamed within {}: {e}", human_bytes(budget)),
        };
        let _ = writeln!(
            text,
            "memory: in-memory run {} of outputs and temps; {streamed}",
            human_bytes(self.memory_needed())
        );
        text
    }

    /// Like [`Executable::run`], also returning where the time went: output allocation and
    /// each kernel's wall time (plan order; empty on the interpreter).
    ///
    /// # Errors
    /// As [`Executable::run`].
    pub fn run_profiled(
        &self,
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
    ) -> Result<exec::Profiled, Error> {
        let (inputs, reduced) = self.full_rank(inputs);
        let inputs = &inputs[..];
        self.check_inputs(inputs)?;
        let (outputs, report) = match (&self.plan, &self.executor) {
            (Some(plan), Some(executor)) => executor.run_profiled_checked(plan, &self.native_fns(), inputs, params)?,
            _ => (
                rumba_interp::evaluate(&self.graph, inputs, params)?,
                exec::RunReport::default(),
            ),
        };
        if !reduced {
            return Ok((outputs, report));
        }
        let outputs = outputs
            .into_iter()
            .map(|(name, a)| (name, a.without_unit_channel()))
            .collect();
        Ok((outputs, report))
    }

    /// Like [`Executable::run`], writing into caller-provided outputs (in output order, each of
    /// the output's dtype and shape), so a slider loop allocates no output.
    ///
    /// # Errors
    /// As [`Executable::run`], and outputs of the wrong dtype or shape.
    pub fn run_into(
        &self,
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
        outputs: &mut [Array],
    ) -> Result<(), Error> {
        let mut views: Vec<exec::ArrayViewMut<'_>> = outputs.iter_mut().map(exec::ArrayViewMut::from).collect();
        self.run_into_views(inputs, params, &mut views)
    }

    /// Like [`Executable::run_into`], writing into caller-owned views of any strides (in
    /// output order, each of the output's dtype and shape): a NumPy array handed in from
    /// Python, or a slice of a larger array.
    ///
    /// # Errors
    /// As [`Executable::run_into`].
    pub fn run_into_views(
        &self,
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
        outputs: &mut [exec::ArrayViewMut<'_>],
    ) -> Result<(), Error> {
        let (inputs, _) = self.full_rank(inputs);
        let inputs = &inputs[..];
        self.check_inputs(inputs)?;
        let names = self.output_shapes();
        // An output may be given without its C = 1 axis, like an input.
        let mut expanded: Vec<exec::ArrayViewMut<'_>> = outputs
            .iter_mut()
            .zip(&names)
            .map(|(view, (_, _, shape))| {
                let view = view.reborrow();
                if view.shape().len() + 1 == shape.len() && shape.last() == Some(&1) {
                    view.with_unit_channel()
                } else {
                    view
                }
            })
            .collect();
        let outputs = &mut expanded[..];
        if outputs.len() != names.len() {
            return Err(exec::ExecError::Output {
                name: String::new(),
                message: format!("expected {} outputs, found {}", names.len(), outputs.len()),
            }
            .into());
        }
        match (&self.plan, &self.executor) {
            (Some(plan), Some(executor)) => {
                let mut named: Vec<(&str, exec::ArrayViewMut<'_>)> = plan
                    .outputs
                    .iter()
                    .zip(outputs.iter_mut())
                    .map(|((name, _), a)| (name.as_str(), a.reborrow()))
                    .collect();
                Ok(executor.run_into_checked(plan, &self.native_fns(), inputs, params, &mut named)?)
            }
            _ => {
                let results = rumba_interp::evaluate(&self.graph, inputs, params)?;
                for ((name, result), out) in results.into_iter().zip(outputs.iter_mut()) {
                    if !out.assign(&result) {
                        return Err(exec::ExecError::Output {
                            name,
                            message: format!(
                                "expected a {} array of shape {:?}, found a {} array of shape {:?}",
                                result.dtype(),
                                result.shape(),
                                out.dtype(),
                                out.shape()
                            ),
                        }
                        .into());
                    }
                }
                Ok(())
            }
        }
    }
}
