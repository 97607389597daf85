//! Reduce and window: lane order, NaN rules, masks, window extents, dtypes.

use super::*;
use rumba_ir::op::{ReduceKind, WindowKind};

/// A graph `reduce(x)` with `x` of `dtype` and `shape`.
fn reduce_graph(
    dtype: DType,
    shape: &[usize],
    kind: ReduceKind,
    axes: &[usize],
    skip_nan: bool,
    out: (DType, &[usize]),
) -> G {
    let mut g = G::new();
    let x = g.input("x", dtype, shape);
    let op = Op::Reduce {
        x,
        kind,
        axes: axes.to_vec(),
        keepdims: true,
        skip_nan,
        mask: None,
    };
    let r = g.push(op, out.0, out.1);
    g.output("r", r);
    g
}

#[test]
fn sum_and_mean_over_several_axes_keep_dims() {
    // (2, 2, 3): per-frame sums over axes [1, 2] in f64, and means rounded once to f32.
    let x = u8s(&[2, 2, 3], &[1, 2, 3, 4, 5, 6, 200, 201, 202, 203, 204, 255]);
    let g = reduce_graph(
        DType::U8,
        &[2, 2, 3],
        ReduceKind::Sum,
        &[1, 2],
        false,
        (DType::F64, &[2, 1, 1]),
    );
    assert_eq!(as_f64(&g.run_x(&x)), (vec![21.0, 1265.0], vec![2, 1, 1]));
    let g = reduce_graph(
        DType::U8,
        &[2, 2, 3],
        ReduceKind::Mean,
        &[1, 2],
        false,
        (DType::F32, &[2, 1, 1]),
    );
    assert_eq!(as_f32(&g.run_x(&x)).0, vec![3.5, (1265.0f64 / 6.0) as f32]);
    let g = reduce_graph(
        DType::U8,
        &[2, 2, 3],
        ReduceKind::Max,
        &[0, 1],
        false,
        (DType::U8, &[1, 1, 3]),
    );
    let Array::U8(m) = g.run_x(&x) else {
        panic!("max keeps u8")
    };
    assert_eq!(m.iter().copied().collect::<Vec<_>>(), [203, 204, 255]);
}

#[test]
fn sum_is_sequential_in_index_order() {
    // In index order 1e16 + 1 + 1 stays 1e16 (each 1 is lost); a pairwise or reversed sum
    // would give 1e16 + 2.
    let x = f64s(&[3, 1], &[1e16, 1.0, 1.0]);
    let g = reduce_graph(DType::F64, &[3, 1], ReduceKind::Sum, &[0], false, (DType::F64, &[1, 1]));
    assert_eq!(as_f64(&g.run_x(&x)).0, vec![1e16]);
}

#[test]
fn var_std_median_percentile_through_the_graph() {
    let x = f32s(&[4, 1], &[4.0, 1.0, 3.0, 2.0]);
    let run = |kind| as_f32(&reduce_graph(DType::F32, &[4, 1], kind, &[0], false, (DType::F32, &[1, 1])).run_x(&x)).0;
    assert_eq!(run(ReduceKind::Var), vec![1.25]);
    assert_eq!(run(ReduceKind::Std), vec![1.25f64.sqrt() as f32]);
    assert_eq!(run(ReduceKind::Median), vec![2.5]);
    assert_eq!(run(ReduceKind::Percentile(F64(25.0))), vec![1.75]);
    let odd = f64s(&[3], &[9.0, -1.0, 4.0]);
    let g = reduce_graph(DType::F64, &[3], ReduceKind::Median, &[0], false, (DType::F64, &[1]));
    assert_eq!(as_f64(&g.run_x(&odd)).0, vec![4.0]);
}

#[test]
fn skip_nan_all_nan_lane_is_nan_even_for_sum_and_nan_propagates_otherwise() {
    let nan = f32::NAN;
    // Columns: [1, NaN, 2] and [NaN, NaN, NaN].
    let x = f32s(&[3, 2], &[1.0, nan, nan, nan, 2.0, nan]);
    let sum = reduce_graph(DType::F32, &[3, 2], ReduceKind::Sum, &[0], true, (DType::F64, &[1, 2]));
    assert!(same(&as_f64(&sum.run_x(&x)).0, &[3.0, f64::NAN]));
    let sum = reduce_graph(DType::F32, &[3, 2], ReduceKind::Sum, &[0], false, (DType::F64, &[1, 2]));
    assert!(same(&as_f64(&sum.run_x(&x)).0, &[f64::NAN, f64::NAN]));
    let min = reduce_graph(DType::F32, &[3, 2], ReduceKind::Min, &[0], false, (DType::F32, &[1, 2]));
    assert!(
        as_f32(&min.run_x(&x)).0.iter().all(|v| v.is_nan()),
        "min propagates NaN"
    );
    let min = reduce_graph(DType::F32, &[3, 2], ReduceKind::Min, &[0], true, (DType::F32, &[1, 2]));
    let got = as_f32(&min.run_x(&x)).0;
    assert!(got[0] == 1.0 && got[1].is_nan(), "{got:?}");
    let median = reduce_graph(
        DType::F32,
        &[3, 2],
        ReduceKind::Median,
        &[0],
        true,
        (DType::F32, &[1, 2]),
    );
    let got = as_f32(&median.run_x(&x)).0;
    assert!(got[0] == 1.5 && got[1].is_nan(), "{got:?}");
}

#[test]
fn masked_reduce_excludes_false_elements() {
    // x (2, 3), mask (1, 3) = [T, F, T] broadcast over rows; mean and sum over axis 1.
    let mut g = G::new();
    let x = g.input("x", DType::F64, &[2, 3]);
    let m = g.input("m", DType::Bool, &[1, 3]);
    let mean = Op::Reduce {
        x,
        kind: ReduceKind::Mean,
        axes: vec![1],
        keepdims: false,
        skip_nan: false,
        mask: Some(m),
    };
    let mean = g.push(mean, DType::F64, &[2]);
    let all = Op::Reduce {
        x,
        kind: ReduceKind::Sum,
        axes: vec![0, 1],
        keepdims: false,
        skip_nan: false,
        mask: Some(m),
    };
    let all = g.push(all, DType::F64, &[]);
    g.output("mean", mean);
    g.output("all", all);
    let xv = f64s(&[2, 3], &[1.0, 100.0, 3.0, 10.0, f64::NAN, 30.0]);
    let mv = Array::Bool(ArrayD::from_shape_vec(IxDyn(&[1, 3]), vec![true, false, true]).unwrap());
    let out = g.run(&[("x", xv.view()), ("m", mv.view())], &[]).unwrap();
    assert_eq!(as_f64(&out[0]), (vec![2.0, 20.0], vec![2]));
    assert_eq!(as_f64(&out[1]), (vec![44.0], vec![]));
}

#[test]
fn masked_lane_without_elements_is_nan_for_floats_and_an_error_for_integer_min() {
    let mut g = G::new();
    let x = g.input("x", DType::U8, &[2, 2]);
    let m = g.input("m", DType::Bool, &[2, 1]);
    let mean = Op::Reduce {
        x,
        kind: ReduceKind::Mean,
        axes: vec![1],
        keepdims: true,
        skip_nan: false,
        mask: Some(m),
    };
    let mean = g.push(mean, DType::F32, &[2, 1]);
    g.output("mean", mean);
    let xv = u8s(&[2, 2], &[1, 2, 3, 4]);
    let mv = Array::Bool(ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![true, false]).unwrap());
    let out = g.run(&[("x", xv.view()), ("m", mv.view())], &[]).unwrap();
    let got = as_f32(&out[0]).0;
    assert!(got[0] == 1.5 && got[1].is_nan(), "{got:?}");

    let Op::Reduce { kind, .. } = &mut g.graph.nodes[mean.index()].op else {
        panic!()
    };
    *kind = ReduceKind::Min;
    g.graph.nodes[mean.index()].dtype = DType::U8;
    let (field, message) = invalid(g.run(&[("x", xv.view()), ("m", mv.view())], &[]));
    assert_eq!(field, None);
    assert!(message.contains("selects no element"), "{message}");
}

/// A graph `window(x)` along axis 0.
fn window_graph(dtype: DType, shape: &[usize], kind: WindowKind, size: usize, out: (DType, &[usize])) -> G {
    let mut g = G::new();
    let x = g.input("x", dtype, shape);
    let w = g.push(
        Op::Window {
            x,
            kind,
            axis: 0,
            size,
            skip_nan: false,
        },
        out.0,
        out.1,
    );
    g.output("w", w);
    g
}

#[test]
fn window_has_n_minus_size_plus_one_outputs_and_none_when_too_short() {
    // (5, 2): column 0 is 0..5, column 1 is squares.
    let x = u8s(&[5, 2], &[0, 0, 1, 1, 2, 4, 3, 9, 4, 16]);
    let g = window_graph(
        DType::U8,
        &[5, 2],
        WindowKind::Reduce(ReduceKind::Mean),
        3,
        (DType::F32, &[3, 2]),
    );
    let (v, shape) = as_f32(&g.run_x(&x));
    assert_eq!(shape, [3, 2]);
    assert_eq!(v, vec![1.0, 5.0 / 3.0, 2.0, 14.0 / 3.0, 3.0, 29.0 / 3.0]);
    let g = window_graph(
        DType::U8,
        &[5, 2],
        WindowKind::Reduce(ReduceKind::Max),
        5,
        (DType::U8, &[1, 2]),
    );
    assert_eq!(g.run_x(&x), u8s(&[1, 2], &[4, 16]));
    for size in [6, 9] {
        let g = window_graph(
            DType::U8,
            &[5, 2],
            WindowKind::Reduce(ReduceKind::Median),
            size,
            (DType::F32, &[0, 2]),
        );
        assert_eq!(as_f32(&g.run_x(&x)), (vec![], vec![0, 2]));
    }
}

#[test]
fn window_statistics_equal_reduce_statistics_and_weighted_is_f64() {
    let nan = f64::NAN;
    let x = f64s(&[4], &[1.0, nan, 3.0, 8.0]);
    let g = window_graph(
        DType::F64,
        &[4],
        WindowKind::Reduce(ReduceKind::Std),
        2,
        (DType::F64, &[3]),
    );
    assert!(same(&as_f64(&g.run_x(&x)).0, &[nan, nan, 2.5]));
    let weights = vec![F64(0.25), F64(0.75)];
    let g = window_graph(DType::F64, &[4], WindowKind::Weighted(weights), 2, (DType::F64, &[3]));
    assert!(same(&as_f64(&g.run_x(&x)).0, &[nan, nan, 0.75 + 6.0]));
    // Weighted on u8 input accumulates in f64 and rounds once to f32.
    let w = vec![F64(0.1), F64(0.2), F64(0.7)];
    let g = window_graph(DType::U8, &[3], WindowKind::Weighted(w), 3, (DType::F32, &[1]));
    let expected = ((0.0 + 0.1 * 10.0) + 0.2 * 20.0 + 0.7 * 30.0) as f32;
    assert_eq!(as_f32(&g.run_x(&u8s(&[3], &[10, 20, 30]))).0, vec![expected]);
}
