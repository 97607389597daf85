//! The pass list and its driver: order, `--disable-pass`, reports, `verify`, and whole
//! pipelines optimised end to end with the interpreter on both graphs.

mod common;

use common::{assert_same_results, assert_text, f32_stack, u8_stack};
use rumba_ir::bind::{InputSpec, bind};
use rumba_ir::def::{EnvelopeOver, Orientation};
use rumba_ir::dsl::{Builder, Stat, Step};
use rumba_ir::op::{F64, Op};
use rumba_ir::rewrite::specialize;
use rumba_ir::{Array, DType, Graph, NodeId, Shape};
use rumba_opt::{OptError, PASSES, PassOptions, VerifyError, optimize_graph, verify};
use std::path::Path;

fn range_pipeline() -> Graph {
    let b = Builder::new();
    let x = b.input("x", DType::U8, [Some(8), Some(2), Some(3), Some(1)]);
    let amount = b.param("amount", Some(0.5));
    let range = || Step::range([0, 9], Stat::Mean);
    let out = x.pipeline(Some(range().amount(&amount)), Some(range()));
    b.build([("out", &out)]).unwrap()
}

fn reduces(graph: &Graph) -> usize {
    graph.nodes.iter().filter(|n| matches!(n.op, Op::Reduce { .. })).count()
}

#[test]
fn passes_run_in_the_documented_order_and_say_why() {
    let names: Vec<&str> = PASSES.iter().map(|p| p.name).collect();
    let expected = [
        "fold_constants",
        "simplify_algebra",
        "eliminate_common_subexpressions",
        "remove_dead_nodes",
        "push_down_slices",
    ];
    assert_eq!(names, expected);
    for pass in PASSES {
        assert!(pass.note.contains("must run"), "{}: {}", pass.name, pass.note);
    }
}

#[test]
fn the_whole_list_optimises_a_range_pipeline() {
    let graph = range_pipeline();
    let (optimized, reports) = optimize_graph(&graph, &PassOptions::default()).unwrap();
    assert_text(
        &optimized,
        r#"
%0 = input("x") : u8 (8, 2, 3, 1)                                    # x [input]
%1 = param("amount", default=0.5) : f64 () weak                      # amount [param]
%2 = cast(%0 to f32) : f32 (8, 2, 3, 1)                              # pipeline3 [pipeline]
%3 = slice(%0, axis=0, 0:10:1) : u8 (8, 2, 3, 1)                     # pipeline3 [pipeline]
%4 = reduce(%3, mean, axes=[0], keepdims) : f32 (1, 2, 3, 1)         # pipeline3 [pipeline]
%5 = cast(%1 to f32) : f32 ()                                        # pipeline3 [pipeline]
%6 = mul(%5, %4) : f32 (1, 2, 3, 1)                                  # pipeline3 [pipeline]
%7 = sub(%2, %6) : f32 (8, 2, 3, 1)                                  # pipeline3 [pipeline]
%8 = const(0) : f32 ()                                               # pipeline3 [pipeline]
%9 = add(%4, %8) : f32 (1, 2, 3, 1)                                  # pipeline3 [pipeline]
%10 = div(%7, %9) : f32 (8, 2, 3, 1)                                 # pipeline3 [pipeline]
%11 = nan_to_num(%10, nan=0, posinf=0, neginf=0) : f32 (8, 2, 3, 1)  # pipeline3 [pipeline]
output "out" = %11 : f32 (8, 2, 3, 1)
"#,
    );
    let names: Vec<&str> = reports.iter().map(|r| r.name).collect();
    assert_eq!(names, PASSES.iter().map(|p| p.name).collect::<Vec<_>>());
    assert!(reports.iter().all(|r| !r.skipped));
    assert_eq!(reports[0].nodes_before, graph.nodes.len());
    assert_eq!(reports[4].nodes_after, optimized.nodes.len());
    assert!(reports[3].nodes_after < reports[3].nodes_before, "dead nodes go");
    let line = reports[3].to_string();
    assert!(
        line.starts_with("remove_dead_nodes") && line.contains(" nodes "),
        "{line}"
    );
    let x = u8_stack(&[8, 2, 3, 1]);
    let sets: &[&[(&str, f64)]] = &[&[], &[("amount", 0.0)], &[("amount", f64::NAN)], &[("amount", -0.0)]];
    assert_eq!(assert_same_results(&graph, &optimized, &[("x", x.view())], sets), 4);
}

#[test]
fn a_disabled_pass_is_skipped_and_reported() {
    let graph = range_pipeline();
    let disabled = vec!["eliminate_common_subexpressions".to_owned()];
    let (optimized, reports) = optimize_graph(&graph, &PassOptions { disabled }).unwrap();
    assert_eq!(reduces(&optimized), 2, "without CSE both references stay");
    let cse = &reports[2];
    assert!(cse.skipped && cse.nodes_before == cse.nodes_after);
    assert_eq!(
        cse.to_string().split_whitespace().collect::<Vec<_>>(),
        ["eliminate_common_subexpressions", "disabled"]
    );
    let (all, _) = optimize_graph(&graph, &PassOptions::default()).unwrap();
    assert_eq!(reduces(&all), 1);
}

#[test]
fn an_unknown_pass_name_is_an_error_listing_the_passes() {
    let disabled = vec!["fold_constant".to_owned()];
    let err = optimize_graph(&range_pipeline(), &PassOptions { disabled }).unwrap_err();
    assert!(matches!(&err, OptError::UnknownPass { name, .. } if name == "fold_constant"));
    assert_eq!(
        err.to_string(),
        "unknown pass \"fold_constant\" (--disable-pass); the passes are fold_constants, simplify_algebra, \
         eliminate_common_subexpressions, remove_dead_nodes, push_down_slices, fusion, running_windows"
    );
}

/// A small graph to break: `%0 = x (4,) f32`, `%1 = param`, `%2 = const(2)`,
/// `%3 = cast(%2 to f32)`, `%4 = mul(%0, %3)`, `%5 = slice_at(%4, start=%1)`.
fn breakable() -> Graph {
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(4)]);
    let p = b.param("p", Some(0.0));
    let y = (&x * 2.0).slice_at(0, &p, 2, 1);
    b.build([("y", &y)]).unwrap()
}

#[test]
fn verify_names_what_a_broken_graph_breaks() {
    let good = breakable();
    assert_eq!(verify(&good, &good), Ok(()));
    let broken = |f: &dyn Fn(&mut Graph)| {
        let mut g = good.clone();
        f(&mut g);
        verify(&g, &good).unwrap_err()
    };
    let order = broken(&|g| {
        g.nodes[4].op = Op::Binary {
            op: rumba_ir::op::BinaryOp::Mul,
            a: NodeId(0),
            b: NodeId(4),
        }
    });
    assert!(matches!(
        order,
        VerifyError::OperandOrder {
            node: NodeId(4),
            operand: NodeId(4),
            ..
        }
    ));
    let dtypes = broken(&|g| {
        g.nodes[4].op = Op::Binary {
            op: rumba_ir::op::BinaryOp::Mul,
            a: NodeId(0),
            b: NodeId(2),
        }
    });
    assert_eq!(
        dtypes.to_string(),
        "%4 (mul) has operands of dtypes f32 and f64, expected one dtype"
    );
    let dtype = broken(&|g| g.nodes[3].dtype = DType::F64);
    assert_eq!(dtype.to_string(), "%3 (cast) has dtype f64, expected f32");
    let shape = broken(&|g| g.nodes[4].shape = Shape::fixed(&[3]));
    assert!(matches!(shape, VerifyError::Shape { node: NodeId(4), .. }));
    let value = broken(&|g| g.nodes[3].op = Op::Const { value: F64(0.1) });
    assert_eq!(value.to_string(), "%3 (const): holds 0.1, not a value of dtype f32");
    let start = broken(&|g| {
        let Op::SliceAt { start, .. } = &mut g.nodes[5].op else {
            panic!("{}", g)
        };
        *start = NodeId(2);
    });
    assert_eq!(
        start.to_string(),
        "%5 (slice_at): its start %2 is a const, expected a param"
    );
    let outputs = broken(&|g| g.outputs[0].node = NodeId(4));
    assert_eq!(
        outputs.to_string(),
        "output 0: \"y\" is f32 (4,), the original's f32 (2,)"
    );
    let renamed = broken(&|g| g.outputs[0].name = "z".into());
    assert!(matches!(renamed, VerifyError::Output { index: 0, .. }));
    let none = broken(&|g| g.outputs.clear());
    assert_eq!(none, VerifyError::OutputCount { expected: 1, found: 0 });
    let err = OptError::Verify {
        pass: "push_down_slices",
        error: none,
    };
    assert_eq!(
        err.to_string(),
        "after pass push_down_slices: the graph has 0 outputs, the original 1"
    );
}

/// Loads an example graph of the repository and specialises it to `shape`.
fn example(stem: &str, dtype: DType, shape: &[usize]) -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let def = rumba_ir::format::load_file(&root.join(format!("examples/graphs/{stem}.json"))).unwrap();
    let graph = Graph::try_from(def).unwrap();
    let spec = [InputSpec {
        name: "x".into(),
        dtype,
        shape: shape.to_vec(),
    }];
    specialize(&graph, &bind(&graph, &spec).unwrap())
}

/// Optimises `graph` and checks the interpreter gives the same bits for each param set.
#[track_caller]
fn same_after_optimizing(graph: &Graph, x: &Array, sets: &[&[(&str, f64)]]) -> Graph {
    let (optimized, _) = optimize_graph(graph, &PassOptions::default()).unwrap();
    let ok = assert_same_results(graph, &optimized, &[("x", x.view())], sets);
    assert_eq!(ok, sets.len(), "every param set evaluates");
    optimized
}

#[test]
fn example_pipelines_keep_every_bit() {
    let amounts: &[&[(&str, f64)]] = &[
        &[],
        &[("sub_amount", 0.0), ("div_amount", 0.0)],
        &[("sub_amount", 0.5), ("div_amount", -0.0)],
        &[("sub_amount", f64::NAN), ("div_amount", f64::INFINITY)],
    ];
    for (stem, shape) in [
        ("background_subtraction", [12, 3, 4, 1]),
        ("sliding_normalisation", [20, 3, 4, 1]),
    ] {
        let graph = example(stem, DType::U8, &shape);
        let optimized = same_after_optimizing(&graph, &u8_stack(&shape), amounts);
        assert!(optimized.nodes.len() < graph.nodes.len(), "{stem}:\n{optimized}");
    }
}

#[test]
fn stack_helpers_keep_every_bit() {
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(6), Some(5), Some(4), Some(1)]);
    let frame = b.param("frame", Some(2.0));
    let triangle = [[0.5, 0.5], [3.5, 0.5], [0.5, 4.5]];
    let (row_min, row_max) = x.envelope(Orientation::H, 2, 1, EnvelopeOver::Dataset);
    let (col_min, col_max) = x.envelope(Orientation::V, 1, 1, EnvelopeOver::Frames);
    let (roi_mean, roi_min, roi_max) = x.roi_series(&triangle);
    let masked = x.apply_polygon(&triangle, f64::NAN);
    let out = masked.pipeline(
        Some(Step::range([1, 2], Stat::Median)),
        Some(Step::sliding(2, 0, Stat::Max)),
    );
    let preview = out.slice_at(0, &frame, 1, 1);
    let row = out.slice(1, Some(-2), Some(-1), 1);
    let outputs = [
        ("row_min", &row_min),
        ("row_max", &row_max),
        ("col_min", &col_min),
        ("col_max", &col_max),
        ("roi_mean", &roi_mean),
        ("roi_min", &roi_min),
        ("roi_max", &roi_max),
        ("preview", &preview),
        ("row", &row),
    ];
    let graph = b.build(outputs).unwrap();
    let frames: &[&[(&str, f64)]] = &[&[], &[("frame", 0.0)], &[("frame", -1.0)], &[("frame", 3.0)]];
    let optimized = same_after_optimizing(&graph, &f32_stack(&[6, 5, 4, 1]), frames);
    // The two identical polygon masks (roi_series, apply_polygon) are one node now.
    let masks = |g: &Graph| {
        g.nodes
            .iter()
            .filter(|n| matches!(n.op, Op::PolygonMask { .. }))
            .count()
    };
    assert_eq!((masks(&graph), masks(&optimized)), (2, 1));
}
