//! rumba's errors as Python exceptions, each with the message the CLI prints and the
//! attributes `node` (the user's node id), `label` and `path` (the JSON path in the graph
//! file, `nodes[3].bounds`, or the builder's call site), `None` where the error has no node.
//!
//! - `GraphError(ValueError)`: the graph or its file is wrong (load, loads, the builder).
//! - `BindError(ValueError)`: arrays, specs, params or outputs that do not fit the graph
//!   (compile, or a call with other shapes than compiled for).
//! - `RunError(RuntimeError)`: a run failed (a run-time reduction error, the memory budget,
//!   an internal error reported rather than hidden).

use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use rumba::GraphError as IrError;

create_exception!(rumba, GraphError, PyValueError, "The graph or its file is wrong.");
create_exception!(
    rumba,
    BindError,
    PyValueError,
    "Inputs, params or outputs do not fit the graph."
);
create_exception!(rumba, RunError, PyRuntimeError, "A run failed.");

/// Which exception a failure becomes.
#[derive(Clone, Copy)]
pub enum Kind {
    Graph,
    Bind,
    Run,
}

/// A `kind` exception with `message` and the place of `graph` (when it names one).
pub fn raise(kind: Kind, message: String, graph: Option<&IrError>) -> PyErr {
    Python::attach(|py| {
        let err = match kind {
            Kind::Graph => GraphError::new_err(message),
            Kind::Bind => BindError::new_err(message),
            Kind::Run => RunError::new_err(message),
        };
        let at = graph.and_then(IrError::at);
        let value = err.value(py);
        let attrs = [
            ("node", at.map(|a| a.origin.id.clone())),
            ("label", at.and_then(|a| a.origin.label.clone())),
            ("path", graph.and_then(IrError::path)),
        ];
        for (name, v) in attrs {
            // Setting an attribute on a fresh exception object cannot fail.
            let _ = value.setattr(name, v);
        }
        err
    })
}

/// A graph error from loading or building.
pub fn graph(e: &IrError) -> PyErr {
    raise(Kind::Graph, e.to_string(), Some(e))
}

/// An error of compiling or running: graph errors (binding) become `BindError`, the rest
/// `RunError`.
pub fn facade(e: &rumba::Error) -> PyErr {
    match e {
        rumba::Error::Graph(g) | rumba::Error::Exec(rumba::exec::ExecError::Graph(g)) => {
            raise(Kind::Bind, e.to_string(), Some(g))
        }
        rumba::Error::Exec(rumba::exec::ExecError::Output { .. }) => raise(Kind::Bind, e.to_string(), None),
        _ => raise(Kind::Run, e.to_string(), None),
    }
}

/// A binding error with no node (an array of an unsupported dtype, a spec that is no spec).
pub fn bind(message: String) -> PyErr {
    raise(Kind::Bind, message, None)
}
