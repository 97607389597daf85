//! Errors of the graph passes. Bad user input never gets here (validation and binding reject
//! it); these are an unknown pass name in [`crate::PassOptions`] and bugs a pass or
//! [`crate::verify()`] catches, each naming the pass.

use crate::verify::VerifyError;
use rumba_ir::{GraphError, NodeId, Shape};

/// What can go wrong while optimising a graph.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OptError {
    /// `PassOptions::disabled` names a pass that does not exist.
    #[error("unknown pass \"{name}\" (--disable-pass); the passes are {}", known.join(", "))]
    UnknownPass {
        /// The name given.
        name: String,
        /// Every pass name, in order.
        known: Vec<&'static str>,
    },
    /// A rewrite built a node whose shape cannot be inferred (a bug in the pass).
    #[error("pass {pass}: rebuilding node {node}: {source}")]
    Rebuild {
        /// The pass.
        pass: &'static str,
        /// The node of the pass's input graph being rewritten.
        node: NodeId,
        /// What shape inference reported (boxed: graph errors are large).
        #[source]
        source: Box<GraphError>,
    },
    /// A rewrite changed the shape of the node it replaces (a bug in the pass).
    #[error("pass {pass}: the rewrite of node {node} has shape {found}, expected {expected}")]
    ShapeChanged {
        /// The pass.
        pass: &'static str,
        /// The node of the pass's input graph being rewritten.
        node: NodeId,
        /// Its shape.
        expected: Shape,
        /// The rewrite's shape.
        found: Shape,
    },
    /// The graph after a pass fails [`crate::verify()`] (a bug in the pass).
    #[error("after pass {pass}: {error}")]
    Verify {
        /// The pass that ran last.
        pass: &'static str,
        /// What is wrong.
        #[source]
        error: VerifyError,
    },
}
