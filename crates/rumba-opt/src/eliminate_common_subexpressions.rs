//! Common-subexpression elimination by hash-consing: nodes with equal op (after their
//! operands are merged), dtype, shape and weakness become one node, which keeps the first
//! node's origin.
//!
//! `Op` derives `Eq + Hash` with floats compared by their bits ([`rumba_ir::op::F64`]), so
//! `const(0)` and `const(-0)` stay apart and the lookup is one hash-map probe per node.
//! Inputs and params have unique names, so they are never merged.
//!
//! Pre: a validated graph. Post: no two nodes are equal; every output keeps its dtype and
//! shape; the merged duplicates are gone (no dead node is created), constraints follow the
//! node they were merged into.
//!
//! ```text
//! %1 = slice(%0, axis=0, 0:10:1) : u8 (8, 4)          %1 = slice(%0, axis=0, 0:10:1) : u8 (8, 4)
//! %2 = slice(%0, axis=0, 0:10:1) : u8 (8, 4)    ⇒     %2 = reduce(%1, mean, axes=[0]) : f32 (4,)
//! %3 = reduce(%2, mean, axes=[0]) : f32 (4,)          (uses of %2 now use %1)
//! ```

use crate::OptError;
use rumba_ir::op::Op;
use rumba_ir::rewrite::{GraphBuilder, IdMap, map_operands};
use rumba_ir::{DType, Graph, Node, NodeId, Shape};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// The pass's name (`--disable-pass eliminate_common_subexpressions`).
pub const NAME: &str = "eliminate_common_subexpressions";

/// What makes two nodes the same value.
#[derive(PartialEq, Eq, Hash)]
struct Key {
    op: Op,
    dtype: DType,
    shape: Shape,
    weak: bool,
}

/// Merges equal nodes (see the module docs).
///
/// # Errors
/// None today; the signature is every pass's.
pub fn eliminate_common_subexpressions(graph: &Graph) -> Result<Graph, OptError> {
    let mut out = GraphBuilder::like(graph);
    let mut map = IdMap::new(graph.nodes.len());
    let mut seen: HashMap<Key, NodeId> = HashMap::with_capacity(graph.nodes.len());
    for id in graph.ids() {
        let node = graph.node(id);
        let key = Key {
            op: map_operands(&node.op, |o| map.map(o)),
            dtype: node.dtype,
            shape: node.shape.clone(),
            weak: node.weak,
        };
        let new = match seen.entry(key) {
            Entry::Occupied(first) => *first.get(),
            Entry::Vacant(slot) => {
                let key = slot.key();
                let new = out.push(Node {
                    op: key.op.clone(),
                    dtype: key.dtype,
                    shape: key.shape.clone(),
                    weak: key.weak,
                    origin: node.origin,
                });
                *slot.insert(new)
            }
        };
        map.set(id, new);
    }
    Ok(out.finish(map.outputs(&graph.outputs), map.constraints(&graph.constraints)))
}
