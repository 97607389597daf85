//! `rumba run`: load a graph file, gather its inputs (files or synthetic stacks), compile,
//! run, summarise, and optionally write the outputs.
//!
//! Everything that can be checked before the graph runs is (names on the command line, param
//! values, input files and their dtypes, the output directory), so a run that fails late
//! fails for a reason only running could find.

use crate::error::CliError;
use crate::{args, report};
use clap::ValueEnum;
use rumba::npy::{self, NpyInput};
use rumba::{Array, ArrayView, Backend, DType, Graph, GraphError, Options};
use rumba_ir::{Dim, Shape};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The extents a synthetic rank-4 input gets for its free dims: (T, H, W, C).
pub const DEFAULT_STACK: [usize; 4] = [200, 512, 512, 1];

/// The graph and its inputs: shared by `rumba run` and `rumba explain`.
#[derive(Debug, clap::Args)]
pub struct InputArgs {
    /// The graph file (JSON).
    pub graph: PathBuf,
    /// Read input NAME from a .npy file (memory-mapped when its layout allows). Inputs not
    /// given get a synthetic stack.
    #[arg(long = "input", value_name = "NAME=FILE.npy")]
    pub inputs: Vec<String>,
    /// Set param NAME (default: the graph's default).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// The shape of synthetic input NAME (default: the declared dims, free ones
    /// 200x512x512x1 by position).
    #[arg(long = "shape", value_name = "NAME=TxHxWxC")]
    pub shapes: Vec<String>,
    /// Seed of the synthetic inputs: the k-th graph input gets seed N + k.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Skip a graph pass (repeatable; `fusion` materialises every node instead of fusing).
    #[arg(long = "disable-pass", value_name = "NAME")]
    pub disabled_passes: Vec<String>,
    /// Threads that run tiles (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Allow synthetic inputs over 1 TiB.
    #[arg(long)]
    pub allow_large: bool,
}

/// Arguments of `rumba run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The graph and its inputs.
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Write every output to DIR/<output>.npy, streamed chunk by chunk within the memory
    /// budget, all or nothing (DIR is created if needed).
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Memory for the run's data, like 512MiB or 4GiB (default: half of the available memory).
    /// Without --output, a run whose outputs and temps do not fit is refused.
    #[arg(long, value_name = "SIZE", value_parser = parse_budget)]
    pub memory_budget: Option<u64>,
    /// Print a progress line every few seconds when stderr is not a terminal (on a terminal a
    /// bar shows for streamed runs longer than a second).
    #[arg(long, conflicts_with = "quiet")]
    pub progress: bool,
    /// Show no progress.
    #[arg(long)]
    pub quiet: bool,
    /// The backend to run on.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
}

pub fn parse_budget(text: &str) -> Result<u64, String> {
    match rumba::stream::parse_size(text)? {
        0 => Err("expected a budget of at least one byte, found 0".into()),
        n => Ok(n),
    }
}

/// `--backend` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// The reference interpreter.
    Interp,
    /// The plan evaluator (fused kernels as scalar loops).
    Eval,
    /// The Cranelift JIT, strictly: a kernel it cannot compile is an error.
    Jit,
    /// The JIT, with the plan evaluator for any kernel the JIT cannot compile (the summary
    /// and `explain` name such kernels and why).
    Auto,
}

impl From<BackendArg> for Backend {
    fn from(b: BackendArg) -> Backend {
        match b {
            BackendArg::Interp => Backend::Interp,
            BackendArg::Eval => Backend::Eval,
            BackendArg::Jit => Backend::Jit,
            BackendArg::Auto => Backend::Auto,
        }
    }
}

/// Loads and validates a graph file.
///
/// # Errors
/// The file's load or validation error, naming the file and node.
pub fn load_graph(path: &Path) -> Result<Graph, CliError> {
    let def = rumba_ir::format::load_file(path)?;
    Ok(Graph::try_from(def)?)
}

/// Where an input's data comes from (nothing is read or generated until a run asks).
pub enum Source {
    /// A `.npy` file, its header read.
    File(rumba::stream::file::Source),
    /// A synthetic stack: dtype, extents and seed.
    Synthetic(DType, Vec<usize>, u64),
}

impl Source {
    /// Element type.
    pub fn dtype(&self) -> DType {
        match self {
            Source::File(f) => f.dtype(),
            Source::Synthetic(dtype, _, _) => *dtype,
        }
    }

    /// Extents.
    pub fn shape(&self) -> &[usize] {
        match self {
            Source::File(f) => f.shape(),
            Source::Synthetic(_, shape, _) => shape,
        }
    }

    /// Where it comes from.
    pub fn describe(&self) -> String {
        match self {
            Source::File(f) => f.path().display().to_string(),
            Source::Synthetic(_, _, seed) => format!("synthetic (seed {seed})"),
        }
    }
}

/// An input's data, in memory or mapped.
pub enum Loaded {
    /// A mapped (or read) `.npy` file.
    File(NpyInput),
    /// A generated stack.
    Array(Array),
}

impl Loaded {
    /// The data.
    pub fn view(&self) -> ArrayView<'_> {
        match self {
            Loaded::File(input) => input.view(),
            Loaded::Array(array) => array.view(),
        }
    }
}

/// A graph with its inputs found (headers read, synthetic ones described) and its params
/// parsed.
pub struct Prepared {
    /// The validated graph.
    pub graph: Graph,
    /// Each graph input's source, in graph order.
    pub sources: Vec<(String, Source)>,
    /// Params from the command line.
    pub params: std::collections::BTreeMap<String, f64>,
}

impl Prepared {
    /// The input specs, for compiling.
    pub fn specs(&self) -> Vec<rumba::InputSpec> {
        self.sources
            .iter()
            .map(|(name, s)| rumba::InputSpec {
                name: name.clone(),
                dtype: s.dtype(),
                shape: s.shape().to_vec(),
            })
            .collect()
    }

    /// Every input's data: files mapped, synthetic stacks generated.
    ///
    /// # Errors
    /// A file that cannot be read.
    pub fn load(&self) -> Result<Vec<Loaded>, CliError> {
        self.sources
            .iter()
            .map(|(name, source)| match source {
                Source::File(f) => npy::read(f.path()).map(Loaded::File).map_err(|source| CliError::Input {
                    name: name.clone(),
                    source,
                }),
                Source::Synthetic(dtype, shape, seed) => {
                    Ok(Loaded::Array(rumba::synthetic::stack(*dtype, shape, *seed)))
                }
            })
            .collect()
    }

    /// The compile options of a run or explain with `memory_budget` (the span tables of
    /// polygon masks are checked against it at compile time).
    pub fn options(args: &InputArgs, backend: Backend, memory_budget: u64) -> Options {
        Options {
            backend,
            memory_budget: Some(memory_budget),
            threads: args.threads,
            disabled_passes: args.disabled_passes.clone(),
            ..Options::default()
        }
    }
}

/// Synthetic inputs larger than this are refused unless `--allow-large` is given.
pub const SYNTHETIC_CAP: u64 = 1 << 40;

/// Loads the graph and finds its inputs (file headers read, synthetic extents decided, no
/// data read or generated) and params; checks every name on the command line.
///
/// # Errors
/// See [`CliError`].
pub fn prepare(args: &InputArgs) -> Result<Prepared, CliError> {
    let graph = load_graph(&args.graph)?;
    let files = args::inputs(&args.inputs)?;
    let shapes = args::shapes(&args.shapes)?;
    let params = args::params(&args.params)?;
    let declared = graph.inputs();
    for name in files.keys().chain(shapes.keys()) {
        if !declared.iter().any(|(n, _)| n == name) {
            let known = declared.iter().map(|(n, _)| (*n).to_owned()).collect();
            return Err(GraphError::UnknownInput {
                name: name.clone(),
                known,
            }
            .into());
        }
        if let (Some(path), true) = (files.get(name), shapes.contains_key(name)) {
            return Err(CliError::ShapeForFile {
                name: name.clone(),
                path: path.clone(),
            });
        }
    }
    // Unknown params and params without a value are errors before anything is computed.
    rumba_ir::bind::param_values(&graph, &params)?;

    let mut sources = Vec::with_capacity(declared.len());
    for (k, &(name, id)) in declared.iter().enumerate() {
        let node = graph.node(id);
        let source = if let Some(path) = files.get(name) {
            let input = rumba::stream::file::Source::open(path).map_err(|source| CliError::Input {
                name: name.to_owned(),
                source,
            })?;
            if input.dtype() != node.dtype {
                let (expected, found) = (node.dtype, input.dtype());
                return Err(CliError::InputDtype {
                    name: name.to_owned(),
                    path: path.clone(),
                    expected,
                    found,
                });
            }
            Source::File(input)
        } else {
            let extents = shapes
                .get(name)
                .cloned()
                .unwrap_or_else(|| synthetic_extents(&node.shape));
            let bytes = extents
                .iter()
                .try_fold(node.dtype.size() as u64, |n, &e| n.checked_mul(e as u64))
                .filter(|&n| i64::try_from(n).is_ok());
            match bytes {
                None => {
                    return Err(CliError::TooLarge {
                        name: name.to_owned(),
                        what: format!(
                            "the synthetic {} stack {extents:?} has more bytes than fit in 64 bits",
                            node.dtype
                        ),
                    });
                }
                Some(bytes) if bytes > SYNTHETIC_CAP && !args.allow_large => {
                    return Err(CliError::TooLarge {
                        name: name.to_owned(),
                        what: format!(
                            "the synthetic {} stack {extents:?} takes {}, over the cap of {} (--allow-large lifts it)",
                            node.dtype,
                            rumba::human_bytes(bytes),
                            rumba::human_bytes(SYNTHETIC_CAP)
                        ),
                    });
                }
                Some(_) => {}
            }
            let seed = args.seed.wrapping_add(k as u64);
            Source::Synthetic(node.dtype, extents, seed)
        };
        sources.push((name.to_owned(), source));
    }
    Ok(Prepared { graph, sources, params })
}

/// Runs `rumba run`.
///
/// # Errors
/// See [`CliError`]; everything but running and writing is checked before the graph runs.
pub fn run(args: &RunArgs) -> Result<(), CliError> {
    if let Some(dir) = &args.output {
        npy::check_writable(dir).map_err(CliError::OutputDir)?;
    }
    let prepared = prepare(&args.inputs)?;
    let (graph, sources, params) = (&prepared.graph, &prepared.sources, &prepared.params);
    let declared = graph.inputs();
    let budget = args.memory_budget.unwrap_or_else(rumba::stream::default_memory_budget);

    let width = declared
        .iter()
        .map(|(n, _)| n.len())
        .chain(graph.outputs.iter().map(|o| o.name.len()))
        .max();
    let width = width.unwrap_or(0);
    for (name, source) in sources {
        say(&report::input_line(
            name,
            width,
            source.dtype(),
            source.shape(),
            &source.describe(),
        ));
    }
    // Synthetic inputs of an in-memory run are generated whole: they count against the
    // budget. A streamed run generates them box by box, within its chunks.
    let streamed = args.output.is_some() && args.backend != BackendArg::Interp;
    let synthetic: u64 = sources
        .iter()
        .filter(|(_, s)| matches!(s, Source::Synthetic(..)))
        .map(|(_, s)| {
            s.shape()
                .iter()
                .fold(s.dtype().size() as u64, |n, &e| n.saturating_mul(e as u64))
        })
        .sum();
    if !streamed && synthetic > budget {
        return Err(CliError::Refused(Box::new(rumba::Error::Budget {
            hint: "raise the budget (--memory-budget), or give the input as a .npy file (--input), which is read chunk by chunk",
            what: "the synthetic inputs (generated in memory)".into(),
            needs: synthetic,
            budget,
        })));
    }

    let options = Prepared::options(&args.inputs, args.backend.into(), budget);
    let start = Instant::now();
    let exe = rumba::compile(graph, &prepared.specs(), &options).map_err(|e| CliError::Compile(Box::new(e)))?;
    let compiled = start.elapsed();
    let needs = exe.memory_needed().saturating_add(synthetic);
    if !streamed && needs > budget {
        return Err(CliError::Refused(Box::new(rumba::Error::Budget {
            hint: rumba::IN_MEMORY_HINT,
            what: "the outputs and temps of an in-memory run (with its synthetic inputs)".into(),
            needs,
            budget,
        })));
    }
    let refused = |e: rumba::Error| match e {
        rumba::Error::Budget { .. } | rumba::Error::ReplacesInput { .. } | rumba::Error::DiskFull { .. } => {
            CliError::Refused(Box::new(e))
        }
        rumba::Error::Cancelled => CliError::Cancelled,
        e => CliError::Run(Box::new(e)),
    };
    if let Some(dir) = &args.output {
        let names: Vec<String> = graph.outputs.iter().map(|o| o.name.clone()).collect();
        let files: Vec<(&str, &Path)> = sources
            .iter()
            .filter_map(|(name, s)| match s {
                Source::File(f) => Some((name.as_str(), f.path())),
                Source::Synthetic(..) => None,
            })
            .collect();
        rumba::stream::check_not_inputs(dir, &names, &files).map_err(refused)?;
    }
    if let (Some(dir), false) = (&args.output, exe.backend() == Backend::Interp) {
        // Files are read and synthetic stacks generated chunk by chunk.
        let inputs: Vec<(&str, rumba::stream::StreamInput<'_>)> = sources
            .iter()
            .map(|(name, s)| {
                let input = match s {
                    Source::File(f) => rumba::stream::StreamInput::File(f.path()),
                    Source::Synthetic(dtype, shape, seed) => {
                        rumba::stream::StreamInput::Synthetic(*dtype, shape, *seed)
                    }
                };
                (name.as_str(), input)
            })
            .collect();
        let mode = match (args.quiet, args.progress) {
            (true, _) => crate::progress::Mode::Quiet,
            (_, true) => crate::progress::Mode::Lines,
            _ => crate::progress::Mode::Auto,
        };
        let reporter = std::sync::Arc::new(crate::progress::Reporter::new(mode));
        let stream_options = rumba::stream::StreamOptions {
            memory_budget: budget,
            cancel: Some(std::sync::Arc::new(crate::signals::requested)),
            progress: Some(std::sync::Arc::new(move |p| reporter.update(p))),
            ..rumba::stream::StreamOptions::default()
        };
        let start = Instant::now();
        let done = exe
            .run_to_files(&inputs, params, dir, &stream_options)
            .map_err(refused)?;
        let ran = start.elapsed();
        for line in &done.recovered {
            say(line);
        }
        for w in &done.outputs {
            let empty = exe.why_empty(&w.name);
            say(&report::output_line(
                &w.name,
                width,
                w.dtype,
                &w.shape,
                &w.summary,
                empty.as_deref(),
            ));
        }
        for line in report::kernel_lines(&exe, &done.kernels) {
            say(&line);
        }
        let chunks: usize = done.chunks.iter().sum();
        say(&format!(
            "compile {}, run {} (streamed in {chunks} chunks, peak {} of data within the budget of {}; I/O {}; backend {})",
            report::ms(compiled),
            report::ms(ran),
            rumba::human_bytes(done.peak_bytes),
            rumba::human_bytes(budget),
            report::ms(done.io),
            exe.backend()
        ));
        for w in &done.outputs {
            say(&format!("wrote {}", w.path.display()));
        }
        return Ok(());
    }
    let loaded = prepared.load()?;
    let views: Vec<(&str, ArrayView<'_>)> = sources
        .iter()
        .zip(&loaded)
        .map(|((name, _), l)| (name.as_str(), l.view()))
        .collect();
    let start = Instant::now();
    let (outputs, timing) = exe.run_profiled(&views, params).map_err(refused)?;
    let ran = start.elapsed();

    for (name, array) in &outputs {
        let summary = rumba::summary::Summary::of(array);
        say(&report::output_line(
            name,
            width,
            array.dtype(),
            array.shape(),
            &summary,
            exe.why_empty(name).as_deref(),
        ));
    }
    for line in report::kernel_lines(&exe, &timing.kernels) {
        say(&line);
    }
    say(&format!(
        "compile {}, run {} (allocate {}; backend {})",
        report::ms(compiled),
        report::ms(ran),
        report::ms(timing.allocate),
        exe.backend()
    ));
    if let Some(dir) = &args.output {
        // The interpreter runs in memory; its outputs are committed all or nothing too.
        for path in npy::write_outputs(dir, &outputs).map_err(|e| CliError::Run(Box::new(e.into())))? {
            say(&format!("wrote {}", path.display()));
        }
    }
    Ok(())
}

/// Prints a line on stdout; a closed or full stdout ends the summary, never the run.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// The extents of a synthetic input: the declared dims, free ones from [`DEFAULT_STACK`] by
/// position. Rank 3 reads (T, H, W), rank 2 (H, W), rank 1 (W); for rank > 4 the extra
/// leading dims default to 1.
fn synthetic_extents(shape: &Shape) -> Vec<usize> {
    let rank = shape.rank();
    let defaults: Vec<usize> = match rank {
        0..=3 => DEFAULT_STACK[..3][3 - rank..].to_vec(),
        _ => std::iter::repeat_n(1, rank - 4).chain(DEFAULT_STACK).collect(),
    };
    shape
        .0
        .iter()
        .zip(defaults)
        .map(|(dim, default)| match dim {
            Dim::Fixed(n) => *n,
            Dim::Free => default,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_dims_default_by_position() {
        let shape = |dims: &[Option<usize>]| Shape(dims.iter().map(|&d| Dim::from(d)).collect());
        assert_eq!(
            synthetic_extents(&shape(&[None, None, None, Some(1)])),
            [200, 512, 512, 1]
        );
        assert_eq!(
            synthetic_extents(&shape(&[Some(7), None, Some(9), None])),
            [7, 512, 9, 1]
        );
        assert_eq!(synthetic_extents(&shape(&[None, None, None])), [200, 512, 512]);
        assert_eq!(synthetic_extents(&shape(&[None, None])), [512, 512]);
        assert_eq!(synthetic_extents(&shape(&[None])), [512]);
        assert_eq!(synthetic_extents(&shape(&[])), [] as [usize; 0]);
        assert_eq!(synthetic_extents(&shape(&[None; 5])), [1, 200, 512, 512, 1]);
    }
}
