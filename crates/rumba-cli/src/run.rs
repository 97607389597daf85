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
use rumba::{Array, ArrayView, Backend, Graph, GraphError, Options};
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
}

/// Arguments of `rumba run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The graph and its inputs.
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Write every output to DIR/<output>.npy (all or nothing; DIR is created if needed).
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// The backend to run on.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
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

/// Where an input's data comes from.
pub enum Source {
    /// A `.npy` file.
    File(NpyInput, PathBuf),
    /// A synthetic stack and its seed.
    Synthetic(Array, u64),
}

impl Source {
    /// The data.
    pub fn view(&self) -> ArrayView<'_> {
        match self {
            Source::File(input, _) => input.view(),
            Source::Synthetic(array, _) => array.view(),
        }
    }

    /// Where it comes from.
    pub fn describe(&self) -> String {
        match self {
            Source::File(_, path) => path.display().to_string(),
            Source::Synthetic(_, seed) => format!("synthetic (seed {seed})"),
        }
    }
}

/// A graph with its inputs gathered and its params parsed.
pub struct Prepared {
    /// The validated graph.
    pub graph: Graph,
    /// Each graph input's data, in graph order.
    pub sources: Vec<(String, Source)>,
    /// Params from the command line.
    pub params: std::collections::BTreeMap<String, f64>,
}

impl Prepared {
    /// The inputs as named views.
    pub fn views(&self) -> Vec<(&str, ArrayView<'_>)> {
        self.sources.iter().map(|(name, s)| (name.as_str(), s.view())).collect()
    }

    /// Compile options for these arguments.
    pub fn options(args: &InputArgs, backend: Backend) -> Options {
        Options {
            backend,
            threads: args.threads,
            disabled_passes: args.disabled_passes.clone(),
            ..Options::default()
        }
    }
}

/// Loads the graph and gathers its inputs (files or synthetic stacks) and params; checks
/// every name on the command line.
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
            let input = npy::read(path).map_err(|source| CliError::Input {
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
            Source::File(input, path.clone())
        } else {
            let extents = shapes
                .get(name)
                .cloned()
                .unwrap_or_else(|| synthetic_extents(&node.shape));
            let seed = args.seed.wrapping_add(k as u64);
            Source::Synthetic(rumba::synthetic::stack(node.dtype, &extents, seed), seed)
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
    let views = prepared.views();
    let declared = graph.inputs();

    let width = declared
        .iter()
        .map(|(n, _)| n.len())
        .chain(graph.outputs.iter().map(|o| o.name.len()))
        .max();
    let width = width.unwrap_or(0);
    for ((name, source), (_, view)) in sources.iter().zip(&views) {
        println!("{}", report::input_line(name, width, view, &source.describe()));
    }

    let options = Prepared::options(&args.inputs, args.backend.into());
    let start = Instant::now();
    let exe =
        rumba::compile(graph, &rumba::input_specs(&views), &options).map_err(|e| CliError::Compile(Box::new(e)))?;
    let compiled = start.elapsed();
    let start = Instant::now();
    let (outputs, timing) = exe
        .run_profiled(&views, params)
        .map_err(|e| CliError::Run(Box::new(e)))?;
    let ran = start.elapsed();

    for (name, array) in &outputs {
        println!("{}", report::output_line(name, width, array));
    }
    for line in report::kernel_lines(&exe, &timing.kernels) {
        println!("{line}");
    }
    println!(
        "compile {}, run {} (allocate {}; backend {})",
        report::ms(compiled),
        report::ms(ran),
        report::ms(timing.allocate),
        exe.backend()
    );
    if let Some(dir) = &args.output {
        for path in npy::write_outputs(dir, &outputs).map_err(CliError::Write)? {
            println!("wrote {}", path.display());
        }
    }
    Ok(())
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
