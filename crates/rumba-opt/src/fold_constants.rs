//! Constant folding: an elementwise node (`unary`, `binary`, `select`, `nan_to_num`, `cast`)
//! whose operands are all `const` becomes a `const` holding the computed value.
//!
//! The value is computed exactly as the interpreter computes it, in the operand dtype with a
//! rounding after every op (module `scalar`); the folded `const` takes the node's dtype (so a
//! `const` may now be f32, u8, bool, …), holds the exact value of that dtype, and is weak only
//! if the node was (a folded `cast` is not). A `param` is never folded: `1 − amount` stays a
//! run-time expression, and nothing built on a param is folded either.
//!
//! Pre: a validated graph. Post: no elementwise node has only `const` operands; every node
//! keeps its dtype and shape; consts that are no longer used stay (`remove_dead_nodes`).
//!
//! ```text
//! %1 = const(0) : f64 () weak                %1 = const(0) : f64 () weak
//! %2 = cast(%1 to f32) : f32 ()        ⇒     %2 = const(0) : f32 ()
//! %3 = sub(%1, %0) : f64 () weak             %3 = sub(%1, %0) : f64 () weak     (%0 a param)
//! ```

use crate::OptError;
use rumba_ir::op::{F64, Op};
use rumba_ir::rewrite::{GraphBuilder, IdMap, map_operands};
use rumba_ir::{Graph, Node, Shape};
use rumba_plan::eval::scalar::{self, Scalar};

/// The pass's name (`--disable-pass fold_constants`).
pub const NAME: &str = "fold_constants";

/// Folds every elementwise node whose operands are all constants (see the module docs).
///
/// # Errors
/// None today; the signature is every pass's.
pub fn fold_constants(graph: &Graph) -> Result<Graph, OptError> {
    let mut out = GraphBuilder::like(graph);
    let mut map = IdMap::new(graph.nodes.len());
    for id in graph.ids() {
        let node = graph.node(id);
        let op = map_operands(&node.op, |o| map.map(o));
        let new = match fold(out.nodes(), &op, node) {
            Some(value) => out.push(Node {
                op: Op::Const { value },
                shape: Shape::scalar(),
                ..node.clone()
            }),
            None => out.push(Node { op, ..node.clone() }),
        };
        map.set(id, new);
    }
    Ok(out.finish(map.outputs(&graph.outputs), map.constraints(&graph.constraints)))
}

/// The value of `op` (operands already in `nodes`) if it is an elementwise op of constants.
fn fold(nodes: &[Node], op: &Op, node: &Node) -> Option<F64> {
    if node.shape.rank() != 0 || !is_elementwise(op) {
        return None;
    }
    let operands: Vec<Scalar> = op
        .operands()
        .into_iter()
        .map(|o| constant(&nodes[o.index()]))
        .collect::<Option<_>>()?;
    let value = match (op, operands.as_slice()) {
        (Op::Unary { op: f, .. }, &[x]) => scalar::unary(*f, x)?,
        (Op::Binary { op: f, .. }, &[a, b]) => scalar::binary(*f, a, b)?,
        (Op::Select { .. }, &[cond, a, b]) => {
            if cond.as_bool()? {
                a
            } else {
                b
            }
        }
        (
            Op::NanToNum {
                nan, posinf, neginf, ..
            },
            &[x],
        ) => scalar::nan_to_num(x, nan.0, posinf.0, neginf.0),
        (Op::Cast { to, .. }, &[x]) => x.cast(*to),
        _ => return None,
    };
    (value.dtype() == node.dtype).then_some(F64(value.to_f64()))
}

fn is_elementwise(op: &Op) -> bool {
    matches!(
        op,
        Op::Unary { .. } | Op::Binary { .. } | Op::Select { .. } | Op::NanToNum { .. } | Op::Cast { .. }
    )
}

/// The value of a `const` node, in its dtype.
fn constant(node: &Node) -> Option<Scalar> {
    let Op::Const { value } = node.op else { return None };
    Some(Scalar::from_f64(node.dtype, value.0))
}
