//! Ids, references and order: unique well-formed ids, every reference resolved, a
//! topological order of the user's nodes (a cycle is an error naming it).

use super::origin_of;
use crate::def::{GraphDef, OpDef, Operand, Ref, SliceStart, StepDef};
use crate::error::{At, GraphError};
use std::collections::HashMap;

/// Every reference an op makes, with the field it sits in.
pub(crate) fn refs(op: &OpDef) -> Vec<(&'static str, &Ref)> {
    let mut v = Vec::new();
    collect_refs(op, &mut v);
    v
}

fn collect_refs<'a>(op: &'a OpDef, v: &mut Vec<(&'static str, &'a Ref)>) {
    let mut refs: Vec<(&'static str, &'a Ref)> = Vec::new();
    let mut operand = |field: &'static str, o: &'a Operand| {
        if let Operand::Ref(r) = o {
            v.push((field, r));
        }
    };
    match op {
        OpDef::Input { .. } | OpDef::Const { .. } | OpDef::Param { .. } => {}
        OpDef::Neg { x }
        | OpDef::Abs { x }
        | OpDef::Sqrt { x }
        | OpDef::Exp { x }
        | OpDef::Log { x }
        | OpDef::IsNan { x }
        | OpDef::NanToNum { x, .. }
        | OpDef::Cast { x, .. }
        | OpDef::Permute { x, .. }
        | OpDef::Squeeze { x, .. }
        | OpDef::Expand { x, .. }
        | OpDef::BroadcastTo { x, .. }
        | OpDef::Window { x, .. }
        | OpDef::RangeReference { x, .. }
        | OpDef::SlidingReference { x, .. }
        | OpDef::Envelope { x, .. }
        | OpDef::ApplyPolygon { x, .. }
        | OpDef::RoiSeries { x, .. } => operand("x", x),
        OpDef::Add { a, b }
        | OpDef::Sub { a, b }
        | OpDef::Mul { a, b }
        | OpDef::Div { a, b }
        | OpDef::Min { a, b }
        | OpDef::Max { a, b }
        | OpDef::Lt { a, b }
        | OpDef::Le { a, b }
        | OpDef::Gt { a, b }
        | OpDef::Ge { a, b }
        | OpDef::Eq { a, b }
        | OpDef::Ne { a, b } => {
            operand("a", a);
            operand("b", b);
        }
        OpDef::Select { cond, a, b } => {
            operand("cond", cond);
            operand("a", a);
            operand("b", b);
        }
        OpDef::Slice { x, start, .. } => {
            operand("x", x);
            if let Some(SliceStart::Param(r)) = start {
                refs.push(("start", r));
            }
        }
        OpDef::Reduce { x, mask, .. } => {
            operand("x", x);
            if let Some(m) = mask {
                operand("where", m);
            }
        }
        OpDef::PolygonMask { like, .. } => {
            if let Some(r) = like {
                refs.push(("like", r));
            }
        }
        OpDef::Subtract { x, reference, amount } | OpDef::Divide { x, reference, amount } => {
            operand("x", x);
            operand("reference", reference);
            operand("amount", amount);
        }
        OpDef::Pipeline { x, subtract, divide } => {
            operand("x", x);
            for (field, step) in [("subtract", subtract), ("divide", divide)] {
                match step {
                    Some(StepDef::File { file, amount }) => {
                        refs.push((field, file));
                        operand(field, amount);
                    }
                    Some(StepDef::Range { amount, .. } | StepDef::Sliding { amount, .. }) => operand(field, amount),
                    None => {}
                }
            }
        }
    }
    v.extend(refs);
}

/// Close matches for an unknown id (same prefix or small edit distance).
pub(super) fn similar(ids: &HashMap<&str, usize>, wanted: &str) -> Vec<String> {
    let mut v: Vec<String> = ids
        .keys()
        .filter(|id| id.starts_with(wanted) || wanted.starts_with(**id) || edit_distance(id, wanted) <= 2)
        .map(|s| (*s).to_owned())
        .collect();
    v.sort();
    v.truncate(3);
    v
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

pub(super) fn check_ids(def: &GraphDef) -> Result<HashMap<&str, usize>, GraphError> {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, node) in def.nodes.iter().enumerate() {
        let at = At::node(&origin_of(node));
        if node.id.is_empty() || node.id.contains('.') || node.id.chars().any(char::is_whitespace) {
            return Err(GraphError::InvalidId {
                at,
                reason: "ids must be non-empty, without '.' (it separates output names) or whitespace".into(),
            });
        }
        if let Some(&first) = ids.get(node.id.as_str()) {
            return Err(GraphError::DuplicateId {
                at,
                first: def.nodes[first].source.to_string(),
            });
        }
        ids.insert(&node.id, i);
    }
    Ok(ids)
}

/// Depth-first topological order; a back edge is a cycle.
pub(super) fn topo_order(def: &GraphDef, ids: &HashMap<&str, usize>) -> Result<Vec<usize>, GraphError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; def.nodes.len()];
    let mut order = Vec::with_capacity(def.nodes.len());
    for root in 0..def.nodes.len() {
        if mark[root] != Mark::New {
            continue;
        }
        // Explicit stack of (node, next dependency index) to survive deep graphs.
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::Open;
        while let Some(&mut (n, ref mut k)) = stack.last_mut() {
            let deps = refs(&def.nodes[n].op);
            if *k < deps.len() {
                let (field, r) = deps[*k];
                *k += 1;
                let Some(&d) = ids.get(r.node.as_str()) else {
                    return Err(GraphError::UnknownNode {
                        at: At::field(&origin_of(&def.nodes[n]), field),
                        reference: r.to_string(),
                        known: similar(ids, &r.node),
                    });
                };
                match mark[d] {
                    Mark::Done => {}
                    Mark::New => {
                        mark[d] = Mark::Open;
                        stack.push((d, 0));
                    }
                    Mark::Open => {
                        let start = stack.iter().position(|&(s, _)| s == d).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            stack[start..].iter().map(|&(s, _)| def.nodes[s].id.clone()).collect();
                        cycle.push(def.nodes[d].id.clone());
                        return Err(GraphError::Cycle {
                            at: At::node(&origin_of(&def.nodes[d])),
                            cycle,
                        });
                    }
                }
            } else {
                mark[n] = Mark::Done;
                order.push(n);
                stack.pop();
            }
        }
    }
    Ok(order)
}
