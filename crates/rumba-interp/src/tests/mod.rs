//! Tests on hand-built graphs: a tiny builder ([`G`]) and exact expected values that a wrong
//! implementation would break.

mod elementwise;
mod movement;
mod reductions;

use crate::{InterpError, evaluate};
use ndarray::{ArrayD, IxDyn};
use rumba_ir::graph::{Origin, OriginId, Output, Source};
use rumba_ir::op::F64;
use rumba_ir::{Array, ArrayView, DType, Graph, GraphError, Node, NodeId, Op, Shape};
use std::collections::BTreeMap;

/// A graph under construction; every node has one dummy origin, `"t"`.
struct G {
    graph: Graph,
}

impl G {
    fn new() -> G {
        let origin = Origin {
            id: "t".into(),
            label: None,
            op: "test".into(),
            source: Source::Unknown,
        };
        G {
            graph: Graph {
                nodes: Vec::new(),
                origins: vec![origin],
                outputs: Vec::new(),
                constraints: Vec::new(),
            },
        }
    }

    /// Appends a node with its (concrete) result dtype and shape.
    fn push(&mut self, op: Op, dtype: DType, shape: &[usize]) -> NodeId {
        let weak = matches!(op, Op::Const { .. } | Op::Param { .. });
        let node = Node {
            op,
            dtype,
            shape: Shape::fixed(shape),
            weak,
            origin: OriginId(0),
        };
        self.graph.nodes.push(node);
        NodeId(self.graph.nodes.len() as u32 - 1)
    }

    fn input(&mut self, name: &str, dtype: DType, shape: &[usize]) -> NodeId {
        self.push(Op::Input { name: name.into() }, dtype, shape)
    }

    fn param(&mut self, name: &str, default: Option<f64>) -> NodeId {
        self.push(
            Op::Param {
                name: name.into(),
                default: default.map(F64),
            },
            DType::F64,
            &[],
        )
    }

    fn output(&mut self, name: &str, node: NodeId) {
        self.graph.outputs.push(Output {
            name: name.into(),
            node,
        });
    }

    fn run(&self, inputs: &[(&str, ArrayView<'_>)], params: &[(&str, f64)]) -> Result<Vec<Array>, InterpError> {
        let params: BTreeMap<String, f64> = params.iter().map(|&(n, v)| (n.to_owned(), v)).collect();
        Ok(evaluate(&self.graph, inputs, &params)?
            .into_iter()
            .map(|(_, a)| a)
            .collect())
    }

    /// Runs with one input named `"x"` and returns the single output.
    fn run_x(&self, x: &Array) -> Array {
        let mut out = self.run(&[("x", x.view())], &[]).expect("evaluation succeeds");
        assert_eq!(out.len(), 1);
        out.remove(0)
    }
}

fn f32s(shape: &[usize], v: &[f32]) -> Array {
    Array::F32(ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap())
}

fn f64s(shape: &[usize], v: &[f64]) -> Array {
    Array::F64(ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap())
}

fn u8s(shape: &[usize], v: &[u8]) -> Array {
    Array::U8(ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap())
}

/// The f32 elements, row-major, and the shape.
fn as_f32(a: &Array) -> (Vec<f32>, Vec<usize>) {
    let Array::F32(a) = a else {
        panic!("expected f32, found {}", a.dtype())
    };
    (a.iter().copied().collect(), a.shape().to_vec())
}

fn as_f64(a: &Array) -> (Vec<f64>, Vec<usize>) {
    let Array::F64(a) = a else {
        panic!("expected f64, found {}", a.dtype())
    };
    (a.iter().copied().collect(), a.shape().to_vec())
}

/// Equality that treats NaN as equal to NaN (and nothing else).
fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

/// The `GraphError::Invalid` of an evaluation, with its field and message.
fn invalid(result: Result<Vec<Array>, InterpError>) -> (Option<String>, String) {
    match result {
        Err(InterpError::Graph(GraphError::Invalid { at, message })) => {
            assert_eq!(at.origin.id, "t", "the error names the node");
            (at.field, message)
        }
        other => panic!("expected an Invalid error, found {other:?}"),
    }
}

#[test]
fn outputs_are_c_contiguous_named_and_ordered() {
    let mut g = G::new();
    let x = g.input("x", DType::F64, &[2, 3]);
    let t = g.push(Op::Permute { x, axes: vec![1, 0] }, DType::F64, &[3, 2]);
    g.output("t", t);
    g.output("x", x);
    g.output("t2", t);
    let x = f64s(&[2, 3], &[0., 1., 2., 3., 4., 5.]);
    let out = evaluate(&g.graph, &[("x", x.view())], &BTreeMap::new()).unwrap();
    let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["t", "x", "t2"]);
    for (_, a) in &out {
        let Array::F64(a) = a else { panic!() };
        assert!(a.is_standard_layout());
    }
    assert_eq!(as_f64(&out[0].1), (vec![0., 3., 1., 4., 2., 5.], vec![3, 2]));
    assert_eq!(out[0].1, out[2].1);
    assert_eq!(out[1].1, x);
}

#[test]
fn params_take_defaults_and_missing_ones_are_errors() {
    let mut g = G::new();
    let x = g.input("x", DType::F64, &[2]);
    let a = g.param("a", Some(2.0));
    let b = g.param("b", None);
    let ab = g.push(
        Op::Binary {
            op: rumba_ir::op::BinaryOp::Sub,
            a,
            b,
        },
        DType::F64,
        &[],
    );
    let y = g.push(
        Op::Binary {
            op: rumba_ir::op::BinaryOp::Mul,
            a: x,
            b: ab,
        },
        DType::F64,
        &[2],
    );
    g.output("y", y);
    let x = f64s(&[2], &[1.5, -4.0]);
    let out = g.run(&[("x", x.view())], &[("b", 0.5)]).unwrap();
    assert_eq!(as_f64(&out[0]).0, vec![2.25, -6.0]);
    let err = g.run(&[("x", x.view())], &[]).unwrap_err();
    assert!(
        matches!(err, InterpError::Graph(GraphError::MissingParam { ref name, .. }) if name == "b"),
        "{err}"
    );
}

/// The interpreter's speed target: `x − mean_T(x)` on a (200, 512, 512, 1) u8 stack, plus a
/// sliding window, in seconds. Run with
/// `cargo test --release -p rumba-interp -- --ignored --nocapture`.
#[test]
#[ignore = "large: run in release builds"]
fn large_stack_in_seconds() {
    use rumba_ir::op::{BinaryOp, ReduceKind, WindowKind};
    let shape = [200, 512, 512, 1];
    let mut g = G::new();
    let x = g.input("x", DType::U8, &shape);
    let xf = g.push(Op::Cast { x, to: DType::F32 }, DType::F32, &shape);
    let kind = ReduceKind::Mean;
    let reduce = Op::Reduce {
        x: xf,
        kind,
        axes: vec![0],
        keepdims: true,
        skip_nan: false,
        mask: None,
    };
    let m = g.push(reduce, DType::F32, &[1, 512, 512, 1]);
    let d = g.push(
        Op::Binary {
            op: BinaryOp::Sub,
            a: xf,
            b: m,
        },
        DType::F32,
        &shape,
    );
    let w = Op::Window {
        x,
        kind: WindowKind::Reduce(ReduceKind::Max),
        axis: 0,
        size: 5,
        skip_nan: false,
    };
    let w = g.push(w, DType::U8, &[196, 512, 512, 1]);
    g.output("d", d);
    g.output("w", w);
    let stack = ndarray::Array4::from_shape_fn((200, 512, 512, 1), |(t, i, j, _)| ((t * 7 + i * 3 + j) % 251) as u8);
    let stack = Array::U8(stack.into_dyn());
    let start = std::time::Instant::now();
    let out = g.run(&[("x", stack.view())], &[]).unwrap();
    eprintln!(
        "(200, 512, 512, 1) u8: cast, mean, sub and a window max in {:?}",
        start.elapsed()
    );
    let Array::F32(d) = &out[0] else { panic!() };
    // Pixel (0, 0): values 7t mod 251 for t < 200; its mean is exact in f64.
    let mean: f64 = (0..200).map(|t| ((t * 7) % 251) as f64).sum::<f64>() / 200.0;
    assert_eq!(d[[3, 0, 0, 0]], 21.0 - mean as f32);
    let Array::U8(w) = &out[1] else { panic!() };
    assert_eq!(w[[0, 0, 0, 0]], 28);
}
