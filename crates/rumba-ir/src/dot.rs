//! Human-readable views of a [`Graph`]: `Display` as text (one node per line, with its dtype,
//! shape and the user node it came from) and [`to_dot`] for Graphviz.

use crate::graph::{Graph, Node, NodeId};
use crate::op::{Extent, Op, SliceBound};
use std::fmt::{self, Write};

/// The arguments of an op as text (`%0, %3`, `axis=0, 2:10:1`).
fn args(op: &Op) -> String {
    let ids = |v: &[NodeId]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    match op {
        Op::Input { name } => format!("\"{name}\""),
        Op::Const { value } => value.to_string(),
        Op::Param { name, default: Some(d) } => format!("\"{name}\", default={d}"),
        Op::Param { name, default: None } => format!("\"{name}\""),
        Op::Unary { x, .. } => x.to_string(),
        Op::Binary { a, b, .. } => ids(&[*a, *b]),
        Op::Select { cond, a, b } => ids(&[*cond, *a, *b]),
        Op::NanToNum { x, nan, posinf, neginf } => format!("{x}, nan={nan}, posinf={posinf}, neginf={neginf}"),
        Op::Cast { x, to } => format!("{x} to {to}"),
        Op::Slice {
            x,
            axis,
            start,
            stop,
            step,
        } => {
            format!("{x}, axis={axis}, {}:{}:{step}", SliceBound(*start), SliceBound(*stop))
        }
        Op::SliceAt {
            x,
            axis,
            start,
            len,
            step,
        } => format!("{x}, axis={axis}, start={start}, len={len}, step={step}"),
        Op::Permute { x, axes } => format!("{x}, axes={axes:?}"),
        Op::Squeeze { x, axes } => format!("{x}, axes={axes:?}"),
        Op::Expand { x, axis } => format!("{x}, axis={axis}"),
        Op::BroadcastTo { x, shape } => format!("{x}, shape={shape:?}"),
        Op::Reduce {
            x,
            kind,
            axes,
            keepdims,
            skip_nan,
            mask,
        } => {
            let mut s = format!("{x}, {kind}, axes={axes:?}");
            if *keepdims {
                s.push_str(", keepdims");
            }
            if *skip_nan {
                s.push_str(", skip_nan");
            }
            if let Some(m) = mask {
                let _ = write!(s, ", where={m}");
            }
            s
        }
        Op::Window {
            x,
            kind,
            axis,
            size,
            skip_nan,
        } => {
            format!(
                "{x}, {kind}, axis={axis}, size={size}{}",
                if *skip_nan { ", skip_nan" } else { "" }
            )
        }
        Op::PolygonMask {
            vertices,
            height,
            width,
        } => {
            let e = |e: &Extent| match e {
                Extent::Fixed(n) => n.to_string(),
                Extent::Of { node, axis } => format!("{node}.shape[{axis}]"),
            };
            format!("{} vertices, H={}, W={}", vertices.len(), e(height), e(width))
        }
    }
}

fn type_of(node: &Node) -> String {
    format!("{} {}{}", node.dtype, node.shape, if node.weak { " weak" } else { "" })
}

impl fmt::Display for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<(String, String)> = self
            .ids()
            .map(|id| {
                let node = self.node(id);
                let origin = self.origin(id);
                let label = origin.label.as_ref().map(|l| format!(" \"{l}\"")).unwrap_or_default();
                (
                    format!("{id} = {}({}) : {}", node.op.name(), args(&node.op), type_of(node)),
                    format!("# {}{label} [{}]", origin.id, origin.op),
                )
            })
            .collect();
        let width = lines.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
        for (line, comment) in lines {
            writeln!(f, "{line:width$}  {comment}")?;
        }
        for out in &self.outputs {
            writeln!(
                f,
                "output \"{}\" = {} : {}",
                out.name,
                out.node,
                type_of(self.node(out.node))
            )?;
        }
        Ok(())
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The graph in Graphviz DOT: one box per primitive, grouped in a cluster per user node.
#[must_use]
pub fn to_dot(graph: &Graph) -> String {
    let mut s = String::from("digraph rumba {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n");
    for (k, origin) in graph.origins.iter().enumerate() {
        let members: Vec<NodeId> = graph
            .ids()
            .filter(|&id| graph.node(id).origin.0 as usize == k)
            .collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "  subgraph cluster_{k} {{\n    label=\"{} [{}]\";",
            escape(&origin.id),
            escape(&origin.op)
        );
        for id in members {
            let node = graph.node(id);
            let _ = writeln!(
                s,
                "    n{} [label=\"{id} {}\\n{}\"];",
                id.0,
                node.op.name(),
                escape(&type_of(node))
            );
        }
        s.push_str("  }\n");
    }
    for id in graph.ids() {
        for operand in graph.node(id).op.operands() {
            let _ = writeln!(s, "  n{} -> n{};", operand.0, id.0);
        }
    }
    for (k, out) in graph.outputs.iter().enumerate() {
        let _ = writeln!(
            s,
            "  out{k} [shape=ellipse, label=\"{}\"];\n  n{} -> out{k};",
            escape(&out.name),
            out.node.0
        );
    }
    s.push_str("}\n");
    s
}
