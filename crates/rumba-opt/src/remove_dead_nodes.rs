//! Dead-node removal: drops every node no output depends on. `input` and `param` nodes are
//! always kept, used or not, so the arrays and params a caller supplies stay valid (binding
//! rejects unknown names).
//!
//! Pre: a validated graph. Post: every node other than an input or param is an output or an
//! operand of a kept node; node order is kept; a constraint on a removed node is dropped
//! (binding the original graph already checked it).
//!
//! ```text
//! %1 = param("amount") : f64 () weak           %1 = param("amount") : f64 () weak   (unused, kept)
//! %2 = cast(%0 to f32) : f32 (8,)        ⇒     %2 = abs(%0) : u8 (8,)
//! %3 = abs(%0) : u8 (8,);  output = %3         output = %2
//! ```

use crate::OptError;
use rumba_ir::op::Op;
use rumba_ir::rewrite::{GraphBuilder, IdMap, map_operands};
use rumba_ir::{Graph, Node};

/// The pass's name (`--disable-pass remove_dead_nodes`).
pub const NAME: &str = "remove_dead_nodes";

/// Removes the nodes no output depends on (see the module docs).
///
/// # Errors
/// None today; the signature is every pass's.
pub fn remove_dead_nodes(graph: &Graph) -> Result<Graph, OptError> {
    let live = live_nodes(graph);
    let mut out = GraphBuilder::like(graph);
    let mut map = IdMap::new(graph.nodes.len());
    for id in graph.ids().filter(|id| live[id.index()]) {
        let node = graph.node(id);
        let op = map_operands(&node.op, |o| map.map(o));
        map.set(id, out.push(Node { op, ..node.clone() }));
    }
    Ok(out.finish(map.outputs(&graph.outputs), map.constraints(&graph.constraints)))
}

/// Which nodes are outputs, inputs, params, or operands of a live node.
fn live_nodes(graph: &Graph) -> Vec<bool> {
    let mut live: Vec<bool> = graph
        .nodes
        .iter()
        .map(|n| matches!(n.op, Op::Input { .. } | Op::Param { .. }))
        .collect();
    for out in &graph.outputs {
        live[out.node.index()] = true;
    }
    // Operands precede their users, so one backward sweep reaches every dependency.
    for (i, node) in graph.nodes.iter().enumerate().rev() {
        if live[i] {
            for operand in node.op.operands() {
                live[operand.index()] = true;
            }
        }
    }
    live
}
