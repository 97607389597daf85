//! `remove_dead_nodes`: text in, text out, and the interpreter on both graphs.

mod common;

use common::{assert_same, assert_same_results, assert_text, run, u8_stack};
use rumba_ir::DType;
use rumba_ir::dsl::{Builder, Stat};
use rumba_opt::remove_dead_nodes::remove_dead_nodes;

#[test]
fn drops_unused_nodes_but_keeps_inputs_and_params() {
    let b = Builder::new();
    let x = b.input("x", DType::U8, [Some(4), Some(3), Some(3), Some(1)]);
    let _unused_input = b.input("flat", DType::F32, [Some(3), Some(3)]);
    let _unused_param = b.param("amount", Some(0.5));
    let _unused = x.range_reference([0, 1], Stat::Max);
    let _unused_roi = x.roi_series(&[[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]]);
    let out = x.abs().cast(DType::F32); // abs of u8 is the identity: no node
    let graph = b.build([("out", &out)]).unwrap();
    assert_eq!(graph.constraints.len(), 2);
    let live = run(remove_dead_nodes, &graph);
    assert_text(
        &live,
        r#"
%0 = input("x") : u8 (4, 3, 3, 1)                # x [input]
%1 = input("flat") : f32 (3, 3)                  # flat [input]
%2 = param("amount", default=0.5) : f64 () weak  # amount [param]
%3 = cast(%0 to f32) : f32 (4, 3, 3, 1)          # cast7 [cast]
output "out" = %3 : f32 (4, 3, 3, 1)
"#,
    );
    // The range constraint is on the input (kept); the polygon's died with its mask.
    assert_eq!(live.constraints.len(), 1);
    let x = u8_stack(&[4, 3, 3, 1]);
    let flat = rumba_ir::Array::F32(ndarray::ArrayD::zeros(ndarray::IxDyn(&[3, 3])));
    assert_same(&graph, &live, &[("x", x.view()), ("flat", flat.view())]);
    // An empty range is still rejected, so the kept constraint still checks.
    let empty = u8_stack(&[0, 3, 3, 1]);
    let ok = assert_same_results(&graph, &live, &[("x", empty.view()), ("flat", flat.view())], &[&[]]);
    assert_eq!(ok, 0);
}

#[test]
fn keeps_the_constraint_of_a_live_polygon() {
    let b = Builder::new();
    let x = b.input("x", DType::U8, [Some(2), Some(3), Some(3), Some(1)]);
    let (mean, _min, _max) = x.roi_series(&[[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]]);
    let graph = b.build([("mean", &mean)]).unwrap();
    let live = run(remove_dead_nodes, &graph);
    assert_text(
        &live,
        r#"
%0 = input("x") : u8 (2, 3, 3, 1)                                                # x [input]
%1 = polygon_mask(3 vertices, H=%0.shape[1], W=%0.shape[2]) : bool (1, 3, 3, 1)  # roi_series2 [roi_series]
%2 = reduce(%0, mean, axes=[1, 2, 3], skip_nan, where=%1) : f32 (2,)             # roi_series2 [roi_series]
output "mean" = %2 : f32 (2,)
"#,
    );
    assert_eq!(live.constraints, graph.constraints);
    let x = u8_stack(&[2, 3, 3, 1]);
    assert_same(&graph, &live, &[("x", x.view())]);
}
