//! rumba: a lazy array-pipeline compiler for large image stacks.
//!
//! Describe a pipeline once — with the [`dsl`] or a JSON graph file — and run it on stacks
//! shaped (T, H, W, C). [`compile`] validates nothing twice: it takes a validated [`Graph`],
//! binds it to the input shapes and picks a backend; [`Executable::run`] runs it.
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

pub mod npy;
pub mod synthetic;

pub use rumba_ir::bind::InputSpec;
pub use rumba_ir::{Array, ArrayView, DType, Graph, GraphDef, GraphError, dsl, format};

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// Errors of the facade: the graph's, the interpreter's, and file I/O.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The graph, its file, or its binding is wrong.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The interpreter failed at run time.
    #[error(transparent)]
    Interp(#[from] rumba_interp::InterpError),
    /// Reading or writing a `.npy` file failed.
    #[error(transparent)]
    Npy(#[from] npy::NpyError),
}

/// Which backend runs the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// The reference interpreter, op by op.
    Interp,
    /// The best backend built so far (now: the interpreter).
    #[default]
    Auto,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Interp => "interp",
            Backend::Auto => "auto",
        })
    }
}

/// Compilation options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The backend to use.
    pub backend: Backend,
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
#[derive(Clone, Debug)]
pub struct Executable {
    graph: Graph,
    inputs: Vec<InputSpec>,
    bound: rumba_ir::bind::Bound,
    backend: Backend,
    /// Time spent in each stage of [`compile`].
    pub stages: Vec<(&'static str, Duration)>,
}

/// Binds `graph` to concrete input shapes and prepares a backend.
///
/// # Errors
/// Binding errors: missing inputs, dtypes or shapes that differ from the declaration,
/// shapes that do not broadcast, failed constraints (empty range, envelope position, …).
pub fn compile(graph: &Graph, inputs: &[InputSpec], options: &Options) -> Result<Executable, Error> {
    let mut stages = Vec::new();
    let bound = stage(&mut stages, "bind", || rumba_ir::bind::bind(graph, inputs))?;
    let backend = stage(&mut stages, "select backend", || match options.backend {
        Backend::Interp | Backend::Auto => Backend::Interp,
    });
    Ok(Executable {
        graph: graph.clone(),
        inputs: inputs.to_vec(),
        bound,
        backend,
        stages,
    })
}

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
        self.backend
    }

    /// The graph.
    #[must_use]
    pub fn graph(&self) -> &Graph {
        &self.graph
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

    /// Runs on `inputs` (by name, any strides) with run-time `params` (by name; missing ones
    /// take their defaults). Returns the outputs in graph order with their names.
    ///
    /// # Errors
    /// Inputs whose dtype or shape differ from those compiled for, unknown or missing params,
    /// and run-time errors of the backend.
    pub fn run(
        &self,
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
    ) -> Result<Vec<(String, Array)>, Error> {
        let specs = input_specs(inputs);
        for spec in &specs {
            if let Some(expected) = self.inputs.iter().find(|s| s.name == spec.name)
                && expected != spec
            {
                // Different shapes than compiled for: bind again for a precise error.
                rumba_ir::bind::bind(&self.graph, &specs)?;
            }
        }
        match self.backend {
            Backend::Interp | Backend::Auto => Ok(rumba_interp::evaluate(&self.graph, inputs, params)?),
        }
    }
}
