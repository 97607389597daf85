//! Algebraic simplification: only rewrites that are exact under IEEE for every value (NaN,
//! ±Inf and −0.0 included).
//!
//! - `x * 1 → x`, `1 * x → x`, `x / 1 → x`, where the `1` is all ones in the operation's dtype
//!   (a `const` 1, or casts and movement ops of one) and the result has exactly `x`'s dtype,
//!   shape and weakness — a `1` that broadcasts `x` to a larger shape keeps the multiply;
//! - `cast(cast(x, T1), T2) → cast(x, T2)` when both casts widen exactly (u8 → u16 → i32 →
//!   f64, u8/u16 → f32 → f64, f32 → f64); a cast to the operand's own dtype is removed;
//! - `nan_to_num(select(d == 0, +0, v / d), +0, +0, +0) → nan_to_num(v / d, +0, +0, +0)` (the
//!   pipeline's divide step): where `d` is ±0, `v / d` is ±Inf or NaN, which the `nan_to_num`
//!   turns into +0, the value the `select` gives — the same bits everywhere, two operations
//!   less per element.
//!
//! Never `x * 0 → 0` (NaN, ±Inf, −0.0), never `x + 0 → x` (`-0.0 + 0.0` is `+0.0`), and never
//! a rewrite whose `x` is a `param`.
//!
//! Pre: a validated graph; best after `fold_constants`, which turns validation's
//! `cast(const 1 to f32)` into `const(1) : f32`. Post: every node keeps its dtype and shape;
//! the removed nodes stay until `remove_dead_nodes`.
//!
//! ```text
//! %2 = const(1) : f32 ()                          %2 = const(1) : f32 ()
//! %3 = mul(%1, %2) : f32 (8, 4)          ⇒        (%3 is %1)
//! %4 = cast(cast(%0 to u16) to f32)               %4 = cast(%0 to f32)        (%0 u8)
//! ```

use crate::OptError;
use rumba_ir::op::{BinaryOp, Op};
use rumba_ir::rewrite::{GraphBuilder, IdMap, map_operands};
use rumba_ir::shape::Dim;
use rumba_ir::{DType, Graph, Node, NodeId, Shape};

/// The pass's name (`--disable-pass simplify_algebra`).
pub const NAME: &str = "simplify_algebra";

/// A local rewrite of one node.
enum Rewrite {
    /// The node is this existing node.
    Use(NodeId),
    /// The node becomes this op (same dtype, shape, weakness and origin).
    Replace(Op),
}

/// Applies the exact simplifications of the module docs to every node.
///
/// # Errors
/// None today; the signature is every pass's.
pub fn simplify_algebra(graph: &Graph) -> Result<Graph, OptError> {
    let mut out = GraphBuilder::like(graph);
    let mut map = IdMap::new(graph.nodes.len());
    for id in graph.ids() {
        let node = graph.node(id);
        let op = map_operands(&node.op, |o| map.map(o));
        let new = match simplify(out.nodes(), &op, node) {
            Some(Rewrite::Use(existing)) => existing,
            Some(Rewrite::Replace(op)) => out.push(Node { op, ..node.clone() }),
            None => out.push(Node { op, ..node.clone() }),
        };
        map.set(id, new);
    }
    Ok(out.finish(map.outputs(&graph.outputs), map.constraints(&graph.constraints)))
}

fn simplify(nodes: &[Node], op: &Op, node: &Node) -> Option<Rewrite> {
    multiply_by_one(nodes, op, node)
        .or_else(|| same_dtype_cast(nodes, op, node))
        .or_else(|| widening_casts(nodes, op))
        .or_else(|| zero_divisor_select(nodes, op, node))
}

/// `nan_to_num(select(d == 0, +0, v / d), +0, +0, +0)` → `nan_to_num(v / d, +0, +0, +0)`.
fn zero_divisor_select(nodes: &[Node], op: &Op, node: &Node) -> Option<Rewrite> {
    let Op::NanToNum { x, nan, posinf, neginf } = *op else {
        return None;
    };
    let positive_zero = |v: f64| v.to_bits() == 0;
    if !node.dtype.is_float() || ![nan.0, posinf.0, neginf.0].into_iter().all(positive_zero) {
        return None;
    }
    let Op::Select {
        cond,
        a: zero,
        b: quotient,
    } = nodes[x.index()].op
    else {
        return None;
    };
    let Op::Binary {
        op: BinaryOp::Div,
        b: d,
        ..
    } = nodes[quotient.index()].op
    else {
        return None;
    };
    let Op::Binary {
        op: BinaryOp::Eq,
        a: l,
        b: r,
    } = nodes[cond.index()].op
    else {
        return None;
    };
    let compares_d_with_zero =
        (l == d && constant(nodes, r) == Some(0.0)) || (r == d && constant(nodes, l) == Some(0.0));
    let q = &nodes[quotient.index()];
    let same = q.dtype == node.dtype && q.shape == node.shape && q.weak == node.weak;
    let gives_zero = constant(nodes, zero).is_some_and(positive_zero);
    (compares_d_with_zero && gives_zero && same).then_some(Rewrite::Replace(Op::NanToNum {
        x: quotient,
        nan,
        posinf,
        neginf,
    }))
}

/// The value of a `const`, seen through casts and movement ops.
fn constant(nodes: &[Node], id: NodeId) -> Option<f64> {
    match &nodes[id.index()].op {
        Op::Const { value } => Some(value.0),
        Op::Cast { x, .. }
        | Op::BroadcastTo { x, .. }
        | Op::Expand { x, .. }
        | Op::Squeeze { x, .. }
        | Op::Permute { x, .. }
        | Op::Slice { x, .. } => constant(nodes, *x),
        _ => None,
    }
}

/// `x * 1`, `1 * x`, `x / 1` → `x`.
fn multiply_by_one(nodes: &[Node], op: &Op, node: &Node) -> Option<Rewrite> {
    let Op::Binary { op: f, a, b } = *op else { return None };
    let (x, one) = match f {
        BinaryOp::Mul if is_one(nodes, b) => (a, b),
        BinaryOp::Mul if is_one(nodes, a) => (b, a),
        BinaryOp::Div if is_one(nodes, b) => (a, b),
        _ => return None,
    };
    let xn = &nodes[x.index()];
    let same_type = xn.dtype == node.dtype && xn.shape == node.shape && xn.weak == node.weak;
    let keeps_shape = stretches_into(&nodes[one.index()].shape, &xn.shape);
    (same_type && keeps_shape && !is_param(xn)).then_some(Rewrite::Use(x))
}

/// Whether `node` is all ones: a numeric `const` 1, or a cast or movement op of one.
fn is_one(nodes: &[Node], id: NodeId) -> bool {
    let node = &nodes[id.index()];
    if node.dtype == DType::Bool {
        return false;
    }
    match &node.op {
        Op::Const { value } => value.0 == 1.0,
        Op::Cast { x, .. }
        | Op::BroadcastTo { x, .. }
        | Op::Expand { x, .. }
        | Op::Squeeze { x, .. }
        | Op::Permute { x, .. }
        | Op::Slice { x, .. } => is_one(nodes, *x),
        _ => false,
    }
}

/// Whether broadcasting `one` against `x` surely leaves `x`'s shape unchanged: `one` has no
/// more axes and each of its extents is a fixed 1 or the same fixed extent as `x`'s.
fn stretches_into(one: &Shape, x: &Shape) -> bool {
    one.rank() <= x.rank()
        && one.0.iter().rev().zip(x.0.iter().rev()).all(|(o, d)| match (o, d) {
            (Dim::Fixed(1), _) => true,
            (Dim::Fixed(m), Dim::Fixed(n)) => m == n,
            _ => false,
        })
}

/// `cast(x, T)` where `x` already has dtype `T` → `x`.
fn same_dtype_cast(nodes: &[Node], op: &Op, node: &Node) -> Option<Rewrite> {
    let Op::Cast { x, to } = *op else { return None };
    let xn = &nodes[x.index()];
    let same = xn.dtype == to && xn.shape == node.shape && xn.weak == node.weak;
    (same && !is_param(xn)).then_some(Rewrite::Use(x))
}

/// `cast(cast(x, T1), T2)` → `cast(x, T2)` when both casts widen exactly.
fn widening_casts(nodes: &[Node], op: &Op) -> Option<Rewrite> {
    let Op::Cast { x: mid, to } = *op else { return None };
    let Op::Cast { x, to: via } = nodes[mid.index()].op else {
        return None;
    };
    let from = &nodes[x.index()];
    let exact = widens_exactly(from.dtype, via) && widens_exactly(via, to);
    (exact && !is_param(from)).then_some(Rewrite::Replace(Op::Cast { x, to }))
}

/// Whether every value of `from` is exactly a value of `to` (and `to` is another dtype).
fn widens_exactly(from: DType, to: DType) -> bool {
    use DType::{F32, F64, I32, U8, U16};
    matches!(
        (from, to),
        (U8, U16 | I32 | F32 | F64) | (U16, I32 | F32 | F64) | (I32, F64) | (F32, F64)
    )
}

fn is_param(node: &Node) -> bool {
    matches!(node.op, Op::Param { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_widening_is_the_documented_lattice() {
        use DType::*;
        let widening: Vec<(DType, DType)> = DType::ALL
            .into_iter()
            .flat_map(|a| DType::ALL.into_iter().map(move |b| (a, b)))
            .filter(|&(a, b)| widens_exactly(a, b))
            .collect();
        let expected = [
            (U8, U16),
            (U8, I32),
            (U8, F32),
            (U8, F64),
            (U16, I32),
            (U16, F32),
            (U16, F64),
            (I32, F64),
            (F32, F64),
        ];
        assert_eq!(widening, expected);
        // i32 → f32 loses integers above 2^24.
        assert_ne!(f64::from(16_777_217i32 as f32), 16_777_217.0);
    }

    #[test]
    fn a_one_must_not_stretch_x() {
        let s = Shape::fixed;
        assert!(stretches_into(&s(&[]), &s(&[4, 5])));
        assert!(stretches_into(&s(&[1, 5]), &s(&[4, 5])));
        assert!(!stretches_into(&s(&[4, 5]), &s(&[4, 1])));
        assert!(!stretches_into(&s(&[2, 4, 5]), &s(&[4, 5])));
        assert!(!stretches_into(&Shape(vec![Dim::Free]), &Shape(vec![Dim::Free])));
    }
}
