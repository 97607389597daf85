//! `push_down_slices`: text in, text out, and the interpreter on both graphs.

mod common;

use common::{assert_same, assert_same_results, assert_text, f32_stack, run};
use ndarray::{ArrayD, IxDyn};
use rumba_ir::bind::{InputSpec, bind};
use rumba_ir::dsl::{Builder, Stat, Step};
use rumba_ir::rewrite::specialize;
use rumba_ir::{Array, DType, Graph};
use rumba_opt::push_down_slices::push_down_slices;
use rumba_opt::{PassOptions, optimize_graph};
use std::collections::BTreeMap;

/// The graph after every pass before `push_down_slices`.
fn before_push_down(graph: &Graph) -> Graph {
    let disabled = vec!["push_down_slices".to_owned()];
    optimize_graph(graph, &PassOptions { disabled }).unwrap().0
}

#[test]
fn a_preview_frame_of_a_sliding_pipeline_computes_only_its_windows() {
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(8), Some(2), Some(3), Some(1)]);
    let frame = b.param("frame", Some(0.0));
    let step = || Step::sliding(3, 1, Stat::Mean);
    let out = x.pipeline(Some(step()), Some(step()));
    let preview = out.slice_at(0, &frame, 1, 1);
    let graph = before_push_down(&b.build([("preview", &preview)]).unwrap());
    assert_text(
        &graph,
        r#"
%0 = input("x") : f32 (8, 2, 3, 1)                                       # x [input]
%1 = param("frame", default=0) : f64 () weak                             # frame [param]
%2 = slice(%0, axis=0, 2:-2:1) : f32 (4, 2, 3, 1)                        # pipeline3 [pipeline]
%3 = window(%0, mean, axis=0, size=3) : f32 (6, 2, 3, 1)                 # pipeline3 [pipeline]
%4 = slice(%3, axis=0, 2::1) : f32 (4, 2, 3, 1)                          # pipeline3 [pipeline]
%5 = sub(%2, %4) : f32 (4, 2, 3, 1)                                      # pipeline3 [pipeline]
%6 = const(0) : f32 ()                                                   # pipeline3 [pipeline]
%7 = add(%4, %6) : f32 (4, 2, 3, 1)                                      # pipeline3 [pipeline]
%8 = div(%5, %7) : f32 (4, 2, 3, 1)                                      # pipeline3 [pipeline]
%9 = nan_to_num(%8, nan=0, posinf=0, neginf=0) : f32 (4, 2, 3, 1)       # pipeline3 [pipeline]
%10 = slice_at(%9, axis=0, start=%1, len=1, step=1) : f32 (1, 2, 3, 1)  # slice4 [slice]
output "preview" = %10 : f32 (1, 2, 3, 1)
"#,
    );
    let pushed = run(push_down_slices, &graph);
    assert_text(
        &pushed,
        r#"
%0 = input("x") : f32 (8, 2, 3, 1)                                     # x [input]
%1 = param("frame", default=0) : f64 () weak                           # frame [param]
%2 = slice(%0, axis=0, 2:-2:1) : f32 (4, 2, 3, 1)                      # pipeline3 [pipeline]
%3 = slice(%0, axis=0, 2:8:1) : f32 (6, 2, 3, 1)                       # pipeline3 [pipeline]
%4 = window(%3, mean, axis=0, size=3) : f32 (4, 2, 3, 1)               # pipeline3 [pipeline]
%5 = const(0) : f32 ()                                                 # pipeline3 [pipeline]
%6 = slice_at(%2, axis=0, start=%1, len=1, step=1) : f32 (1, 2, 3, 1)  # slice4 [slice]
%7 = slice_at(%4, axis=0, start=%1, len=1, step=1) : f32 (1, 2, 3, 1)  # slice4 [slice]
%8 = sub(%6, %7) : f32 (1, 2, 3, 1)                                    # pipeline3 [pipeline]
%9 = add(%7, %5) : f32 (1, 2, 3, 1)                                    # pipeline3 [pipeline]
%10 = div(%8, %9) : f32 (1, 2, 3, 1)                                   # pipeline3 [pipeline]
%11 = nan_to_num(%10, nan=0, posinf=0, neginf=0) : f32 (1, 2, 3, 1)    # pipeline3 [pipeline]
output "preview" = %11 : f32 (1, 2, 3, 1)
"#,
    );
    let x = f32_stack(&[8, 2, 3, 1]);
    let frames: Vec<[(&str, f64); 1]> = [0.0, 1.0, 3.0, -1.0, -4.0, 4.0, -5.0, 1.5, f64::NAN]
        .into_iter()
        .map(|v| [("frame", v)])
        .collect();
    let sets: Vec<&[(&str, f64)]> = frames.iter().map(|f| &f[..]).collect();
    // N = 8 − 1 − 3 = 4 frames: starts −4 … 3 are valid, the others fail in both graphs.
    assert_eq!(assert_same_results(&graph, &pushed, &[("x", x.view())], &sets), 5);
}

#[test]
fn broadcast_operands_are_not_sliced_and_lower_ranks_align_right() {
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(4), Some(3)]);
    let r = b.input("r", DType::F32, [Some(1), Some(3)]);
    let v = b.input("v", DType::F32, [Some(3)]);
    let amount = b.param("amount", Some(2.0));
    let y = &(&(&x - &r) * &v) + &amount;
    let rows = y.slice(0, Some(1), Some(3), 1);
    let reversed_columns = y.slice(1, None, None, -2);
    let graph = b
        .build([("rows", &rows), ("reversed_columns", &reversed_columns)])
        .unwrap();
    let pushed = run(push_down_slices, &graph);
    assert_text(
        &pushed,
        r#"
%0 = input("x") : f32 (4, 3)                   # x [input]
%1 = input("r") : f32 (1, 3)                   # r [input]
%2 = input("v") : f32 (3,)                     # v [input]
%3 = param("amount", default=2) : f64 () weak  # amount [param]
%4 = cast(%3 to f32) : f32 ()                  # add7 [add]
%5 = slice(%0, axis=0, 1:3:1) : f32 (2, 3)     # slice8 [slice]
%6 = sub(%5, %1) : f32 (2, 3)                  # sub5 [sub]
%7 = mul(%6, %2) : f32 (2, 3)                  # mul6 [mul]
%8 = add(%7, %4) : f32 (2, 3)                  # add7 [add]
%9 = slice(%0, axis=1, ::-2) : f32 (4, 2)      # slice9 [slice]
%10 = slice(%1, axis=1, ::-2) : f32 (1, 2)     # slice9 [slice]
%11 = sub(%9, %10) : f32 (4, 2)                # sub5 [sub]
%12 = slice(%2, axis=0, ::-2) : f32 (2,)       # slice9 [slice]
%13 = mul(%11, %12) : f32 (4, 2)               # mul6 [mul]
%14 = add(%13, %4) : f32 (4, 2)                # add7 [add]
output "rows" = %8 : f32 (2, 3)
output "reversed_columns" = %14 : f32 (4, 2)
"#,
    );
    let (x, r, v) = (f32_stack(&[4, 3]), f32_stack(&[1, 3]), f32_stack(&[3]));
    assert_same(&graph, &pushed, &[("x", x.view()), ("r", r.view()), ("v", v.view())]);
}

#[test]
fn static_slices_along_one_axis_compose() {
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(8), Some(2)]);
    let every_other_back = x.slice(0, Some(1), Some(7), 1).slice(0, None, None, -2);
    let two_axes = x.slice(0, Some(2), None, 1).slice(1, Some(1), None, 1);
    let empty = x.slice(0, Some(-3), None, 1).slice(0, Some(5), None, 1);
    let outputs = [
        ("every_other_back", &every_other_back),
        ("two_axes", &two_axes),
        ("empty", &empty),
    ];
    let graph = b.build(outputs).unwrap();
    let pushed = run(push_down_slices, &graph);
    assert_text(
        &pushed,
        r#"
%0 = input("x") : f32 (8, 2)                 # x [input]
%1 = slice(%0, axis=0, 6:1:-2) : f32 (3, 2)  # slice3 [slice]
%2 = slice(%0, axis=0, 2::1) : f32 (6, 2)    # slice4 [slice]
%3 = slice(%2, axis=1, 1::1) : f32 (6, 1)    # slice5 [slice]
%4 = slice(%0, axis=0, 0:0:1) : f32 (0, 2)   # slice7 [slice]
output "every_other_back" = %1 : f32 (3, 2)
output "two_axes" = %3 : f32 (6, 1)
output "empty" = %4 : f32 (0, 2)
"#,
    );
    let x = f32_stack(&[8, 2]);
    assert_same(&graph, &pushed, &[("x", x.view())]);
}

#[test]
fn windows_take_static_slices_along_their_axis_and_any_slice_along_others() {
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(8), Some(2)]);
    let p = b.param("p", Some(1.0));
    let w = (&x * 2.0).window(Stat::Mean, 0, 3, false);
    let tail = w.slice(0, Some(-3), Some(-1), 1);
    let strided = w.slice(0, None, None, 2);
    let column = w.slice(1, Some(1), None, 1);
    let at_window = w.slice_at(0, &p, 2, 1);
    let at_column = w.slice_at(1, &p, 1, 1);
    let outputs = [
        ("tail", &tail),
        ("strided", &strided),
        ("column", &column),
        ("at_window", &at_window),
        ("at_column", &at_column),
    ];
    let graph = b.build(outputs).unwrap();
    let pushed = run(push_down_slices, &graph);
    assert_text(
        &pushed,
        r#"
%0 = input("x") : f32 (8, 2)                                      # x [input]
%1 = param("p", default=1) : f64 () weak                          # p [param]
%2 = const(2) : f64 () weak                                       # mul3 [mul]
%3 = cast(%2 to f32) : f32 ()                                     # mul3 [mul]
%4 = mul(%0, %3) : f32 (8, 2)                                     # mul3 [mul]
%5 = window(%4, mean, axis=0, size=3) : f32 (6, 2)                # window4 [window]
%6 = slice(%0, axis=0, 3:7:1) : f32 (4, 2)                        # slice5 [slice]
%7 = mul(%6, %3) : f32 (4, 2)                                     # mul3 [mul]
%8 = window(%7, mean, axis=0, size=3) : f32 (2, 2)                # window4 [window]
%9 = slice(%5, axis=0, ::2) : f32 (3, 2)                          # slice6 [slice]
%10 = slice(%0, axis=1, 1::1) : f32 (8, 1)                        # slice7 [slice]
%11 = mul(%10, %3) : f32 (8, 1)                                   # mul3 [mul]
%12 = window(%11, mean, axis=0, size=3) : f32 (6, 1)              # window4 [window]
%13 = slice_at(%5, axis=0, start=%1, len=2, step=1) : f32 (2, 2)  # slice8 [slice]
%14 = slice_at(%0, axis=1, start=%1, len=1, step=1) : f32 (8, 1)  # slice9 [slice]
%15 = mul(%14, %3) : f32 (8, 1)                                   # mul3 [mul]
%16 = window(%15, mean, axis=0, size=3) : f32 (6, 1)              # window4 [window]
output "tail" = %8 : f32 (2, 2)
output "strided" = %9 : f32 (3, 2)
output "column" = %12 : f32 (6, 1)
output "at_window" = %13 : f32 (2, 2)
output "at_column" = %16 : f32 (6, 1)
"#,
    );
    let x = f32_stack(&[8, 2]);
    let sets: &[&[(&str, f64)]] = &[&[], &[("p", 0.0)], &[("p", -1.0)], &[("p", -2.0)], &[("p", 2.0)]];
    // p = −1 (2 windows from window 5 of 6) and p = 2 (column 2 of 2) fail in both graphs.
    assert_eq!(assert_same_results(&graph, &pushed, &[("x", x.view())], sets), 3);
}

#[test]
fn reduces_take_slices_along_kept_axes_only() {
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(4), Some(3), Some(2)]);
    let m = b.input("m", DType::Bool, [Some(3), Some(1)]);
    let sums = x.reduce_with(Stat::Sum, &[2], false, false, Some(&m));
    let two_rows = sums.slice(1, Some(0), Some(2), 1);
    let late = sums.slice(0, Some(1), None, 1);
    let peak = x.reduce(Stat::Max, &[0]).slice(0, Some(0), Some(1), 1);
    let outputs = [("two_rows", &two_rows), ("late", &late), ("peak", &peak)];
    let graph = b.build(outputs).unwrap();
    let pushed = run(push_down_slices, &graph);
    assert_text(
        &pushed,
        r#"
%0 = input("x") : f32 (4, 3, 2)                           # x [input]
%1 = input("m") : bool (3, 1)                             # m [input]
%2 = slice(%0, axis=1, 0:2:1) : f32 (4, 2, 2)             # slice4 [slice]
%3 = slice(%1, axis=0, 0:2:1) : bool (2, 1)               # slice4 [slice]
%4 = reduce(%2, sum, axes=[2], where=%3) : f64 (4, 2)     # reduce3 [reduce]
%5 = slice(%0, axis=0, 1::1) : f32 (3, 3, 2)              # slice5 [slice]
%6 = reduce(%5, sum, axes=[2], where=%1) : f64 (3, 3)     # reduce3 [reduce]
%7 = reduce(%0, max, axes=[0], keepdims) : f32 (1, 3, 2)  # reduce6 [reduce]
%8 = slice(%7, axis=0, 0:1:1) : f32 (1, 3, 2)             # slice7 [slice]
output "two_rows" = %4 : f64 (4, 2)
output "late" = %6 : f64 (3, 3)
output "peak" = %8 : f32 (1, 3, 2)
"#,
    );
    let x = f32_stack(&[4, 3, 2]);
    let m = Array::Bool(ArrayD::from_shape_vec(IxDyn(&[3, 1]), vec![true, false, true]).unwrap());
    assert_same(&graph, &pushed, &[("x", x.view()), ("m", m.view())]);
}

/// Why a `slice_at` stays above a window along the window's axis: with a negative start,
/// `window(slice_at(x, p, len + size − 1))` is another run of frames than
/// `slice_at(window(x), p, len)`. If this test fails, `slice_at` semantics changed and the
/// rewrite may become exact.
#[test]
fn pushing_a_slice_at_into_a_window_would_change_negative_starts() {
    let graph = |naive: bool| {
        let b = Builder::new();
        let x = b.input("x", DType::F32, [Some(8), Some(2)]);
        let p = b.param("p", Some(0.0));
        let out = if naive {
            x.slice_at(0, &p, 3, 1).window(Stat::Mean, 0, 3, false)
        } else {
            x.window(Stat::Mean, 0, 3, false).slice_at(0, &p, 1, 1)
        };
        b.build([("out", &out)]).unwrap()
    };
    let (wanted, naive) = (graph(false), graph(true));
    let x = f32_stack(&[8, 2]);
    let run = |graph: &Graph, p: f64| {
        let params = BTreeMap::from([("p".to_owned(), p)]);
        let out = rumba_interp::evaluate(graph, &[("x", x.view())], &params).ok()?;
        Some(out[0].1.to_f64_vec().into_iter().map(f64::to_bits).collect::<Vec<_>>())
    };
    assert_eq!(run(&wanted, 2.0), run(&naive, 2.0));
    // Window −3 of 6 is frames 3..6; slice_at(x, −3, 3) is frames 5..8.
    assert!(run(&wanted, -3.0).is_some() && run(&naive, -3.0).is_some());
    assert_ne!(run(&wanted, -3.0), run(&naive, -3.0));
    // Window −1 is frames 5..8; slice_at(x, −1, 3) does not fit.
    assert!(run(&wanted, -1.0).is_some() && run(&naive, -1.0).is_none());
}

#[test]
fn free_dims_keep_slices_in_place_until_specialized() {
    let b = Builder::new();
    let x = b.input("x", DType::F32, [None, Some(2)]);
    let y = (&x * 2.0).slice(0, Some(1), None, 1);
    let graph = b.build([("y", &y)]).unwrap();
    let pushed = run(push_down_slices, &graph);
    assert_eq!(pushed.to_string(), graph.to_string());
    let spec = [InputSpec {
        name: "x".into(),
        dtype: DType::F32,
        shape: vec![5, 2],
    }];
    let fixed = specialize(&graph, &bind(&graph, &spec).unwrap());
    let pushed = run(push_down_slices, &fixed);
    assert_text(
        &pushed,
        r#"
%0 = input("x") : f32 (5, 2)               # x [input]
%1 = const(2) : f64 () weak                # mul2 [mul]
%2 = cast(%1 to f32) : f32 ()              # mul2 [mul]
%3 = slice(%0, axis=0, 1::1) : f32 (4, 2)  # slice3 [slice]
%4 = mul(%3, %2) : f32 (4, 2)              # mul2 [mul]
output "y" = %4 : f32 (4, 2)
"#,
    );
    let x = f32_stack(&[5, 2]);
    assert_same(&graph, &pushed, &[("x", x.view())]);
}
