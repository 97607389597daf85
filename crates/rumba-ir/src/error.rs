//! Errors of loading, validating and binding a graph. Every variant that concerns a node
//! carries an [`At`]: the user's node id, label, op and source (JSON path or DSL call site).

use crate::graph::Origin;
use std::fmt;

/// Where in the user's graph an error is: a node's origin and, optionally, the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct At {
    /// The user-level node (boxed to keep errors small).
    pub origin: Box<Origin>,
    /// The argument or field concerned (`"b"`, `"bounds"`), if any.
    pub field: Option<String>,
}

impl At {
    /// An error location naming `field` of the node.
    #[must_use]
    pub fn field(origin: &Origin, field: &str) -> At {
        At {
            origin: Box::new(origin.clone()),
            field: Some(field.to_owned()),
        }
    }

    /// An error location naming the whole node.
    #[must_use]
    pub fn node(origin: &Origin) -> At {
        At {
            origin: Box::new(origin.clone()),
            field: None,
        }
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.origin;
        write!(f, "{}", o.source)?;
        if let (Some(field), crate::graph::Source::File { .. }) = (&self.field, &o.source) {
            write!(f, ".{field}")?;
        }
        write!(f, ": node \"{}\"", o.id)?;
        if let Some(label) = &o.label {
            write!(f, " (label \"{label}\")")?;
        }
        write!(f, ", op {}", o.op)?;
        if let (Some(field), false) = (&self.field, matches!(o.source, crate::graph::Source::File { .. })) {
            write!(f, ", argument `{field}`")?;
        }
        Ok(())
    }
}

/// Everything that can be wrong with a graph, its file, or the inputs it is bound to.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum GraphError {
    /// The file is not valid JSON.
    #[error("{file}: malformed JSON at line {line}, column {column}: {message}")]
    Json {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser says.
        message: String,
    },
    /// The file is JSON but not a rumba graph (wrong top-level structure).
    #[error("{file}: {path}: {message}")]
    Format {
        /// The file.
        file: String,
        /// JSON path of the offending value.
        path: String,
        /// What was expected and found.
        message: String,
    },
    /// The file was written by a newer rumba.
    #[error(
        "{file}: graph format version {found} is newer than the version {supported} this rumba reads; upgrade rumba"
    )]
    Version {
        /// The file.
        file: String,
        /// The version in the file.
        found: u64,
        /// The newest version this build reads.
        supported: u64,
    },
    /// An op name nobody knows.
    #[error("{at}: unknown op \"{op}\"; expected one of: {known}")]
    UnknownOp {
        /// The node.
        at: At,
        /// The op as written.
        op: String,
        /// Every known op name.
        known: String,
    },
    /// A missing, extra or ill-typed argument of a node.
    #[error("{at}: {message}")]
    Argument {
        /// The node (and field when known).
        at: At,
        /// What is wrong (expected vs found).
        message: String,
    },
    /// A node id that is empty, contains `.` or is otherwise unusable.
    #[error("{at}: invalid node id \"{}\": {reason}", at.origin.id)]
    InvalidId {
        /// The node.
        at: At,
        /// Why.
        reason: String,
    },
    /// Two nodes with one id.
    #[error("{at}: duplicate node id \"{}\"; it is first defined at {first}", at.origin.id)]
    DuplicateId {
        /// The second node.
        at: At,
        /// Where the first one is.
        first: String,
    },
    /// A reference to a node id that does not exist.
    #[error("{at}: refers to unknown node \"{reference}\"{}", did_you_mean(known))]
    UnknownNode {
        /// The referring node and field.
        at: At,
        /// The reference as written.
        reference: String,
        /// Close matches among existing ids.
        known: Vec<String>,
    },
    /// `id.name` where node `id` has no output `name`, or a multi-output node used bare.
    #[error(
        "{at}: \"{reference}\": node \"{node}\" has outputs {}; expected one of them",
        list(available)
    )]
    UnknownOutput {
        /// The referring node and field.
        at: At,
        /// The reference as written.
        reference: String,
        /// The referenced node id.
        node: String,
        /// Its outputs (`["min", "max"]`, or `[""]` for a single output).
        available: Vec<String>,
    },
    /// The nodes reference each other in a cycle.
    #[error("{at}: the graph has a cycle: {}", cycle.join(" -> "))]
    Cycle {
        /// A node on the cycle.
        at: At,
        /// The cycle's node ids, first repeated at the end.
        cycle: Vec<String>,
    },
    /// Dtypes that cannot combine or are not allowed for an op.
    #[error("{at}: {what}: expected {expected}, found {found}")]
    Type {
        /// The node (and argument).
        at: At,
        /// What was being typed.
        what: String,
        /// The allowed dtypes.
        expected: String,
        /// The dtype(s) found.
        found: String,
    },
    /// Shapes that do not fit (broadcasting, ranks, fixed extents, bound extents).
    #[error("{at}: {what}: expected {expected}, found {found}")]
    Shape {
        /// The node (and argument).
        at: At,
        /// What was being checked.
        what: String,
        /// The expected shape or extent.
        expected: String,
        /// The shape or extent found.
        found: String,
    },
    /// An axis outside `0..rank`.
    #[error("{at}: axis {axis} is out of range for an operand of rank {rank} (expected 0..{rank})")]
    Axis {
        /// The node and field.
        at: At,
        /// The axis as written.
        axis: i64,
        /// The operand's rank.
        rank: usize,
    },
    /// An argument value outside its domain (step 0, window 0, lag < 0, q ∉ [0, 100], bad
    /// polygon, envelope position outside the image, an empty range).
    #[error("{at}: {message}")]
    Invalid {
        /// The node and field.
        at: At,
        /// What was expected and found.
        message: String,
    },
    /// A graph input the caller did not supply.
    #[error("{at}: input \"{name}\" was not supplied (expected {expected})")]
    MissingInput {
        /// The input node.
        at: At,
        /// The input's name.
        name: String,
        /// Its declared dtype and shape.
        expected: String,
    },
    /// An array supplied under a name the graph has no input for.
    #[error("no graph input is named \"{name}\"; the graph's inputs are {}", list(known))]
    UnknownInput {
        /// The name supplied.
        name: String,
        /// The graph's input names.
        known: Vec<String>,
    },
    /// A param with neither a supplied value nor a default.
    #[error("{at}: param \"{name}\" has no value and no default")]
    MissingParam {
        /// The param node.
        at: At,
        /// Its name.
        name: String,
    },
    /// A value supplied for a param the graph does not have.
    #[error("no param is named \"{name}\"; the graph's params are {}", list(known))]
    UnknownParam {
        /// The name supplied.
        name: String,
        /// The graph's param names.
        known: Vec<String>,
    },
}

impl GraphError {
    /// The node (and field) the error concerns, when it concerns one.
    #[must_use]
    pub fn at(&self) -> Option<&At> {
        match self {
            GraphError::UnknownOp { at, .. }
            | GraphError::Argument { at, .. }
            | GraphError::InvalidId { at, .. }
            | GraphError::DuplicateId { at, .. }
            | GraphError::UnknownNode { at, .. }
            | GraphError::UnknownOutput { at, .. }
            | GraphError::Cycle { at, .. }
            | GraphError::Type { at, .. }
            | GraphError::Shape { at, .. }
            | GraphError::Axis { at, .. }
            | GraphError::Invalid { at, .. }
            | GraphError::MissingInput { at, .. }
            | GraphError::MissingParam { at, .. } => Some(at),
            GraphError::Json { .. }
            | GraphError::Format { .. }
            | GraphError::Version { .. }
            | GraphError::UnknownInput { .. }
            | GraphError::UnknownParam { .. } => None,
        }
    }

    /// Where in the graph file the error is: the JSON path of the value (`nodes[3].bounds`),
    /// or the node's call site for a DSL graph; `None` when the error has no place.
    #[must_use]
    pub fn path(&self) -> Option<String> {
        match (self, self.at()) {
            (GraphError::Format { path, .. }, _) => Some(path.clone()),
            (GraphError::Json { line, column, .. }, _) => Some(format!("line {line}, column {column}")),
            (_, Some(at)) => match &at.origin.source {
                crate::graph::Source::File { json_path, .. } => Some(match &at.field {
                    Some(field) => format!("{json_path}.{field}"),
                    None => json_path.clone(),
                }),
                crate::graph::Source::Dsl(location) => Some(location.to_string()),
                crate::graph::Source::Unknown => None,
            },
            _ => None,
        }
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "(none)".to_owned();
    }
    items.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ")
}

fn did_you_mean(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", list(known))
    }
}
