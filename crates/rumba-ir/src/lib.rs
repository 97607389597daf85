//! rumba's graph IR.
//!
//! Data flow: a [`def::GraphDef`] (unvalidated; from the [`dsl`] or a graph file through
//! [`format`]) becomes a typed [`graph::Graph`] only through validation
//! (`Graph::try_from(def)`), which expands image-stack helpers into primitive [`op::Op`]s,
//! infers every dtype and shape and names the user's node in every error. [`bind`] checks a
//! graph against concrete input shapes and params.

pub mod array;
pub mod bind;
pub mod def;
pub mod dot;
pub mod dsl;
pub mod dtype;
pub mod error;
pub mod format;
pub mod graph;
pub mod numerics;
pub mod op;
pub mod polygon;
pub mod rewrite;
pub mod shape;
pub mod validate;

pub use array::{Array, ArrayView};
pub use def::GraphDef;
pub use dtype::DType;
pub use error::{At, GraphError};
pub use graph::{Graph, Node, NodeId};
pub use op::Op;
pub use shape::{Dim, Shape};
