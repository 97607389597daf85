//! Validation: the one way from a [`GraphDef`] (DSL or file) to a typed [`Graph`].
//!
//! Steps: node ids are unique and well formed; every reference resolves; the nodes are sorted
//! topologically (a cycle is an error naming it); then each user node is lowered in that
//! order into primitives ([`lower`]): helpers expand ([`helpers`]), promotion inserts casts,
//! and every dtype and shape is inferred ([`infer`]). Each error names the user's node.

mod helpers;
mod order;
mod primitives;

pub(crate) use order::refs;
use order::{check_ids, similar, topo_order};
pub(crate) mod infer;
pub(crate) mod lower;

pub use infer::slice_range;

use crate::def::{GraphDef, NodeDef, Ref};
use crate::error::{At, GraphError};
use crate::graph::{Graph, NodeId, Origin, Output, Source};
use lower::Lower;
use std::collections::HashMap;

impl TryFrom<GraphDef> for Graph {
    type Error = GraphError;

    fn try_from(def: GraphDef) -> Result<Graph, GraphError> {
        validate(&def)
    }
}

impl TryFrom<&GraphDef> for Graph {
    type Error = GraphError;

    fn try_from(def: &GraphDef) -> Result<Graph, GraphError> {
        validate(def)
    }
}

pub(super) fn origin_of(node: &NodeDef) -> Origin {
    Origin {
        id: node.id.clone(),
        label: node.label.clone(),
        op: node.op.name(),
        source: node.source.clone(),
    }
}

/// The lowered outputs of each user node: `""` for single-output nodes, else named.
type Outputs = HashMap<String, Vec<(&'static str, NodeId)>>;

/// Resolves a reference to a lowered node.
pub(super) fn resolve(lower: &Lower, outputs: &Outputs, field: &str, r: &Ref) -> Result<NodeId, GraphError> {
    let outs = &outputs[&r.node];
    let wanted = r.output.as_deref().unwrap_or("");
    outs.iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, id)| *id)
        .ok_or_else(|| GraphError::UnknownOutput {
            at: lower.at(field),
            reference: r.to_string(),
            node: r.node.clone(),
            available: outs
                .iter()
                .map(|(n, _)| {
                    if n.is_empty() {
                        r.node.clone()
                    } else {
                        format!("{}.{n}", r.node)
                    }
                })
                .collect(),
        })
}

/// Validates a user graph. See the module docs.
///
/// # Errors
/// The first problem found, naming the user's node, where it was written, and what was
/// expected vs found.
pub fn validate(def: &GraphDef) -> Result<Graph, GraphError> {
    let ids = check_ids(def)?;
    let order = topo_order(def, &ids)?;
    let mut lower = Lower::new();
    let mut outputs: Outputs = HashMap::new();
    for i in order {
        let node = &def.nodes[i];
        lower.begin(origin_of(node));
        let mut cx = Cx {
            lower: &mut lower,
            outputs: &outputs,
        };
        let produced = cx.lower_node(node)?;
        outputs.insert(node.id.clone(), produced);
    }
    if def.outputs.is_empty() {
        return Err(GraphError::Format {
            file: source_file(def),
            path: "outputs".into(),
            message: "a graph needs at least one output; expected a list of node references".into(),
        });
    }
    let mut graph_outputs: Vec<Output> = Vec::new();
    for (i, out) in def.outputs.iter().enumerate() {
        let r = &out.node;
        // An output is located by its entry in the file's `outputs` list.
        let source = match &def.outputs_source {
            Some(Source::File { file, .. }) => Source::File {
                file: file.clone(),
                json_path: format!("outputs[{i}]"),
            },
            Some(other) => other.clone(),
            None => Source::Unknown,
        };
        lower.begin(Origin {
            id: out.name.clone(),
            label: None,
            op: "output".into(),
            source,
        });
        let at = At::node(lower.current());
        if !outputs.contains_key(&r.node) {
            return Err(GraphError::UnknownNode {
                at,
                reference: r.to_string(),
                known: similar(&ids, &r.node),
            });
        }
        if graph_outputs.iter().any(|o| o.name == out.name) {
            let message = format!("two outputs are named \"{}\"; output names must be unique", out.name);
            return Err(GraphError::Invalid { at, message });
        }
        let id = resolve(&lower, &outputs, "ref", r)?;
        graph_outputs.push(Output {
            name: out.name.clone(),
            node: id,
        });
    }
    Ok(Graph {
        nodes: lower.nodes,
        origins: lower.origins,
        outputs: graph_outputs,
        constraints: lower.constraints,
    })
}

fn source_file(def: &GraphDef) -> String {
    match &def.outputs_source {
        Some(Source::File { file: Some(f), .. }) => f.clone(),
        _ => "<graph>".into(),
    }
}

/// Lowering of one user node.
pub(crate) struct Cx<'a> {
    pub lower: &'a mut Lower,
    pub(super) outputs: &'a Outputs,
}
