//! Errors of the interpreter, and [`Fault`]: the failure of one op before it is located.
//!
//! The op modules (elementwise, movement, reduce, window) know nothing about nodes or origins;
//! they return a [`Fault`], and the evaluation loop turns it into an [`InterpError`] naming the
//! user's node with [`Fault::locate`].

use rumba_ir::graph::Origin;
use rumba_ir::{At, GraphError};

/// Errors of the interpreter.
#[derive(Debug, thiserror::Error)]
pub enum InterpError {
    /// The graph, its inputs or its params are wrong (checked when binding or while running);
    /// names the user's node.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// An invariant of a validated, bound graph does not hold (a value of the wrong dtype or
    /// shape, an operand that is not available): a bug in validation, binding or the
    /// interpreter, never a user error.
    #[error("{at}: internal error in the reference interpreter: {message}")]
    Internal {
        /// The node being evaluated.
        at: At,
        /// What does not hold.
        message: String,
    },
}

/// Why one op failed, before it is located at a node.
#[derive(Debug)]
pub(crate) enum Fault {
    /// An argument or run-time value outside its domain (→ [`GraphError::Invalid`]).
    Invalid {
        /// The argument concerned (`"start"`), or `None` for the whole node.
        field: Option<&'static str>,
        /// What was expected and found.
        message: String,
    },
    /// Operand dtypes the op does not accept (→ [`GraphError::Type`]).
    Type {
        /// What was being typed (`"operand of sqrt"`).
        what: String,
        /// The accepted dtypes.
        expected: String,
        /// The dtype(s) found.
        found: String,
    },
    /// Operand shapes that do not fit (→ [`GraphError::Shape`]).
    Shape {
        /// What was being checked.
        what: String,
        /// The expected shape.
        expected: String,
        /// The shape found.
        found: String,
    },
    /// An input the caller did not supply (→ [`GraphError::MissingInput`]).
    MissingInput {
        /// The input's name.
        name: String,
        /// Its declared dtype and shape.
        expected: String,
    },
    /// A param without a value (→ [`GraphError::MissingParam`]).
    MissingParam {
        /// The param's name.
        name: String,
    },
    /// An error that already names its node (boxed: it is large).
    Located(Box<GraphError>),
    /// A broken invariant (→ [`InterpError::Internal`]).
    Internal(String),
}

impl From<GraphError> for Fault {
    fn from(e: GraphError) -> Fault {
        Fault::Located(Box::new(e))
    }
}

impl Fault {
    /// An invalid value concerning the whole node.
    pub(crate) fn invalid(message: impl Into<String>) -> Fault {
        Fault::Invalid {
            field: None,
            message: message.into(),
        }
    }

    /// An invalid value of one argument of the node.
    pub(crate) fn invalid_field(field: &'static str, message: impl Into<String>) -> Fault {
        Fault::Invalid {
            field: Some(field),
            message: message.into(),
        }
    }

    /// A dtype the op does not accept.
    pub(crate) fn dtype(what: impl Into<String>, expected: &str, found: impl ToString) -> Fault {
        Fault::Type {
            what: what.into(),
            expected: expected.to_owned(),
            found: found.to_string(),
        }
    }

    /// Turns the fault into an error naming the node `origin`.
    pub(crate) fn locate(self, origin: &Origin) -> InterpError {
        let at = |field: Option<&str>| match field {
            Some(field) => At::field(origin, field),
            None => At::node(origin),
        };
        match self {
            Fault::Invalid { field, message } => GraphError::Invalid { at: at(field), message }.into(),
            Fault::Type { what, expected, found } => GraphError::Type {
                at: at(None),
                what,
                expected,
                found,
            }
            .into(),
            Fault::Shape { what, expected, found } => GraphError::Shape {
                at: at(None),
                what,
                expected,
                found,
            }
            .into(),
            Fault::MissingInput { name, expected } => GraphError::MissingInput {
                at: at(None),
                name,
                expected,
            }
            .into(),
            Fault::MissingParam { name } => GraphError::MissingParam { at: at(None), name }.into(),
            Fault::Located(e) => (*e).into(),
            Fault::Internal(message) => InterpError::Internal { at: at(None), message },
        }
    }
}
