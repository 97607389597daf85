//! The CLI's error type and its exit codes.

use rumba::npy::NpyError;
use rumba::{DType, GraphError};
use std::path::PathBuf;

/// Everything `rumba` reports as `error: …`.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The graph file does not load or validate, or a name given on the command line is not
    /// one of its inputs or params.
    /// (Boxed, as are the facade's errors below: they are large and errors are rare.)
    #[error(transparent)]
    Graph(Box<GraphError>),
    /// A `--flag` value that is not `NAME=VALUE`.
    #[error("{flag}: expected {expected}, found \"{text}\"")]
    Assignment {
        /// The flag (`--input`).
        flag: &'static str,
        /// What was expected (`NAME=FILE.npy`).
        expected: &'static str,
        /// The text given.
        text: String,
    },
    /// A `--param` value that is not a number.
    #[error("--param {name}: expected a number, found \"{text}\"")]
    ParamValue {
        /// The param's name.
        name: String,
        /// The text given.
        text: String,
    },
    /// A `--shape` value that is not a list of extents.
    #[error("--shape {name}: expected extents separated by 'x' (like 200x512x512x1), found \"{text}\"")]
    ShapeValue {
        /// The input's name.
        name: String,
        /// The text given.
        text: String,
    },
    /// The same name given twice to one flag.
    #[error("{flag} {name} is given twice")]
    Duplicate {
        /// The flag.
        flag: &'static str,
        /// The name.
        name: String,
    },
    /// `--shape` for an input that is read from a file.
    #[error("--shape {name}: input \"{name}\" is read from {}; its shape comes from the file", path.display())]
    ShapeForFile {
        /// The input's name.
        name: String,
        /// Its file.
        path: PathBuf,
    },
    /// An input file that cannot be read.
    #[error("--input {name}: {source}")]
    Input {
        /// The input's name.
        name: String,
        /// What went wrong.
        source: NpyError,
    },
    /// An input file of another dtype than the graph declares.
    #[error("--input {name}={}: the graph's input \"{name}\" expects dtype {expected}, found {found} in the file", path.display())]
    InputDtype {
        /// The input's name.
        name: String,
        /// The file.
        path: PathBuf,
        /// The declared dtype.
        expected: DType,
        /// The file's dtype.
        found: DType,
    },
    /// The output directory cannot be written (found before running).
    #[error(transparent)]
    OutputDir(NpyError),
    /// The graph does not bind to the inputs.
    #[error(transparent)]
    Compile(Box<rumba::Error>),
    /// The graph failed while running.
    #[error(transparent)]
    Run(Box<rumba::Error>),
    /// A run refused before it started: over the memory budget, over the free disk space, or
    /// an output that would replace an input.
    #[error(transparent)]
    Refused(Box<rumba::Error>),
    /// An input too large to make or describe.
    #[error("input \"{name}\": {what}")]
    TooLarge {
        /// The input.
        name: String,
        /// Why.
        what: String,
    },
    /// SIGINT or SIGTERM arrived: the run stopped, removed its temporaries, changed no output.
    #[error("interrupted; no output was changed")]
    Cancelled,
}

impl From<GraphError> for CliError {
    fn from(e: GraphError) -> CliError {
        CliError::Graph(Box::new(e))
    }
}

impl CliError {
    /// The process exit code: 1 for failures while running or writing, 2 for everything
    /// found before the graph runs (usage, graph, inputs, output directory).
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Run(_) => 1,
            CliError::Cancelled => crate::signals::exit_code(),
            _ => 2,
        }
    }
}
