//! The validated, typed graph: an arena of primitive nodes in topological order.
//!
//! A [`Graph`] only comes from [`crate::validate`] (`Graph::try_from(GraphDef)`), so every node
//! has an inferred dtype and shape and every operand precedes its user. Each node remembers the
//! user-level node it came from ([`Origin`]): a helper expands into many primitives that all
//! carry the helper's id, label and source, so errors name what the user wrote.

use crate::dtype::DType;
use crate::op::Op;
use crate::shape::Shape;
use std::fmt;
use std::panic::Location;

/// Index of a node in [`Graph::nodes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The arena index.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// Index of an [`Origin`] in [`Graph::origins`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OriginId(pub u32);

/// Where a user-level node was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// In a graph file: the file (if known) and the JSON path of the node (`nodes[3]`).
    File {
        /// The file's path as given by the caller, if any.
        file: Option<String>,
        /// JSON path of the node object.
        json_path: String,
    },
    /// In Rust code, through the DSL: the call site.
    Dsl(&'static Location<'static>),
    /// Built by hand without a location.
    Unknown,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File {
                file: Some(file),
                json_path,
            } => write!(f, "{file}: {json_path}"),
            Source::File { file: None, json_path } => write!(f, "{json_path}"),
            Source::Dsl(loc) => write!(f, "{}:{}:{}", loc.file(), loc.line(), loc.column()),
            Source::Unknown => f.write_str("<unknown>"),
        }
    }
}

/// The user-level node a primitive came from: its id, label, op name and source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The user's node id (`"bg"`).
    pub id: String,
    /// The user's label, if any.
    pub label: Option<String>,
    /// The op name the user wrote (`"range_reference"`, `"sub"`).
    pub op: String,
    /// Where it was written.
    pub source: Source,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node \"{}\"", self.id)?;
        if let Some(label) = &self.label {
            write!(f, " (label \"{label}\")")?;
        }
        write!(f, " [{}] at {}", self.op, self.source)
    }
}

/// One primitive node: op, inferred dtype and shape, weakness and origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The operation.
    pub op: Op,
    /// Inferred element type.
    pub dtype: DType,
    /// Inferred shape (free dims where only binding can tell).
    pub shape: Shape,
    /// A weak scalar: made only of consts and params (DESIGN §1), so it never widens an
    /// array operand.
    pub weak: bool,
    /// The user-level node this primitive came from.
    pub origin: OriginId,
}

/// A rule about concrete extents that only binding can check, recorded by validation.
#[derive(Clone, Debug, PartialEq)]
pub enum Constraint {
    /// `extent(node, axis)` must satisfy `rule`.
    Extent {
        /// Node whose extent is checked.
        node: NodeId,
        /// Its axis.
        axis: usize,
        /// The rule.
        rule: ExtentRule,
        /// The user node that imposed it (named in the error).
        origin: OriginId,
        /// What is being checked, for the message (`"range_reference bounds [9, 12]"`).
        what: String,
    },
    /// The polygon mask must contain at least one pixel centre.
    PolygonHasPixels {
        /// The `PolygonMask` node.
        mask: NodeId,
        /// The user node that imposed it.
        origin: OriginId,
    },
}

/// A rule on one concrete extent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtentRule {
    /// Must equal this value.
    Equals(usize),
    /// Must equal the extent of another node's axis.
    SameAs {
        /// The other node.
        node: NodeId,
        /// Its axis.
        axis: usize,
    },
    /// Must be greater than this value (`GreaterThan(0)`: non-empty; `GreaterThan(pos)`: `pos`
    /// lies inside).
    GreaterThan(usize),
}

/// A named graph output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The output's name: the reference text the user wrote (`"out"`, `"env.min"`).
    pub name: String,
    /// The node computing it.
    pub node: NodeId,
}

/// A validated graph. Nodes are in topological order; see the module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// The primitive nodes.
    pub nodes: Vec<Node>,
    /// User-level origins referenced by the nodes.
    pub origins: Vec<Origin>,
    /// The requested outputs, in the order given.
    pub outputs: Vec<Output>,
    /// Checks that need concrete extents, run by [`crate::bind`].
    pub constraints: Vec<Constraint>,
}

impl Graph {
    /// The node with this id.
    ///
    /// # Panics
    /// If `id` is not a node of this graph.
    #[must_use]
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The origin of a node.
    #[must_use]
    pub fn origin(&self, id: NodeId) -> &Origin {
        &self.origins[self.node(id).origin.0 as usize]
    }

    /// All node ids in topological order.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + use<> {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// The `Input` nodes: (name, id), in node order.
    #[must_use]
    pub fn inputs(&self) -> Vec<(&str, NodeId)> {
        self.ids()
            .filter_map(|id| match &self.node(id).op {
                Op::Input { name } => Some((name.as_str(), id)),
                _ => None,
            })
            .collect()
    }

    /// The `Param` nodes: (name, default, id), in node order.
    #[must_use]
    pub fn params(&self) -> Vec<(&str, Option<f64>, NodeId)> {
        self.ids()
            .filter_map(|id| match &self.node(id).op {
                Op::Param { name, default } => Some((name.as_str(), default.map(|d| d.0), id)),
                _ => None,
            })
            .collect()
    }

    /// For each node, the index of the last node that uses it (or of itself if unused), and
    /// `usize::MAX` for outputs: lets evaluators free values early.
    #[must_use]
    pub fn last_uses(&self) -> Vec<usize> {
        let mut last: Vec<usize> = (0..self.nodes.len()).collect();
        for (i, node) in self.nodes.iter().enumerate() {
            for operand in node.op.operands() {
                last[operand.index()] = i;
            }
        }
        for out in &self.outputs {
            last[out.node.index()] = usize::MAX;
        }
        last
    }
}
