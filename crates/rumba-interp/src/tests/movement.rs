//! Movement ops: NumPy slicing (negative steps included), slice_at, squeeze/expand/broadcast.

use super::*;
use crate::movement::slice_indices;

#[test]
fn slice_indices_follow_python() {
    // Each expectation is `list(range(10))[start:stop:step]` in Python.
    let s = |start, stop, step| slice_indices(10, start, stop, step).unwrap();
    assert_eq!(s(None, None, -1), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    assert_eq!(s(Some(8), Some(2), -2), [8, 6, 4]);
    assert_eq!(s(Some(-3), None, 1), [7, 8, 9]);
    assert_eq!(s(Some(20), None, 1), Vec::<usize>::new());
    assert_eq!(s(Some(-20), Some(-15), -1), Vec::<usize>::new());
    assert_eq!(s(Some(1), Some(-1), 3), [1, 4, 7]);
    assert_eq!(s(Some(-1), Some(-11), -4), [9, 5, 1]);
    assert_eq!(s(None, Some(-12), -3), [9, 6, 3, 0]);
    assert_eq!(s(Some(100), Some(5), -2), [9, 7]);
    // Bounds below −n clip to the first index (or to "before the first" for a negative step).
    assert_eq!(s(Some(-20), Some(3), 1), [0, 1, 2]);
    assert_eq!(s(Some(5), Some(-20), -2), [5, 3, 1]);
    assert_eq!(slice_indices(0, None, None, -1).unwrap(), Vec::<usize>::new());
    assert!(slice_indices(3, None, None, 0).is_err());
}

#[test]
fn slice_with_negative_step_on_a_strided_view() {
    // x[:, 4:0:-2] of a transposed (non-C-contiguous) 2×5 view.
    let mut g = G::new();
    let x = g.input("x", DType::F64, &[2, 5]);
    let y = g.push(
        Op::Slice {
            x,
            axis: 1,
            start: Some(4),
            stop: Some(0),
            step: -2,
        },
        DType::F64,
        &[2, 2],
    );
    let z = g.push(
        Op::Slice {
            x,
            axis: 0,
            start: None,
            stop: None,
            step: -1,
        },
        DType::F64,
        &[2, 5],
    );
    g.output("y", y);
    g.output("z", z);
    let base = f64s(&[5, 2], &[0., 10., 1., 11., 2., 12., 3., 13., 4., 14.]);
    let Array::F64(b) = &base else { panic!() };
    let xt = ArrayView::F64(b.view().reversed_axes());
    let out = g.run(&[("x", xt)], &[]).unwrap();
    assert_eq!(as_f64(&out[0]), (vec![4., 2., 14., 12.], vec![2, 2]));
    assert_eq!(as_f64(&out[1]).0, vec![10., 11., 12., 13., 14., 0., 1., 2., 3., 4.]);
}

#[test]
fn slice_at_resolves_negative_starts_and_rejects_runs_that_do_not_fit() {
    let mut g = G::new();
    let x = g.input("x", DType::F32, &[6]);
    let start = g.param("frame", Some(0.0));
    let y = g.push(
        Op::SliceAt {
            x,
            axis: 0,
            start,
            len: 2,
            step: 2,
        },
        DType::F32,
        &[2],
    );
    g.output("y", y);
    let x = f32s(&[6], &[0., 1., 2., 3., 4., 5.]);
    let run = |frame: f64| g.run(&[("x", x.view())], &[("frame", frame)]);
    assert_eq!(as_f32(&run(1.0).unwrap()[0]).0, vec![1.0, 3.0]);
    assert_eq!(as_f32(&run(-3.0).unwrap()[0]).0, vec![3.0, 5.0]);
    // 3 + 2 = 5 < 6 fits; 4 + 2 = 6 does not; -7 + 6 < 0; 1.5 is no index.
    assert_eq!(as_f32(&run(3.0).unwrap()[0]).0, vec![3.0, 5.0]);
    for bad in [4.0, -7.0, 1.5] {
        let (field, message) = invalid(run(bad));
        assert_eq!(field.as_deref(), Some("start"));
        assert!(message.contains(&bad.to_string()), "{message}");
    }
}

#[test]
fn squeeze_expand_broadcast_to() {
    let mut g = G::new();
    let x = g.input("x", DType::U8, &[1, 3, 1]);
    let s = g.push(Op::Squeeze { x, axes: vec![0, 2] }, DType::U8, &[3]);
    let e = g.push(Op::Expand { x: s, axis: 1 }, DType::U8, &[3, 1]);
    let b = g.push(
        Op::BroadcastTo {
            x: e,
            shape: vec![2, 3, 2],
        },
        DType::U8,
        &[2, 3, 2],
    );
    g.output("b", b);
    let x = u8s(&[1, 3, 1], &[7, 8, 9]);
    let Array::U8(out) = g.run_x(&x) else { panic!() };
    assert_eq!(out.shape(), [2, 3, 2]);
    assert_eq!(
        out.iter().copied().collect::<Vec<_>>(),
        [7, 7, 8, 8, 9, 9, 7, 7, 8, 8, 9, 9]
    );
}

#[test]
fn polygon_mask_takes_extents_from_a_node_and_selects_pixel_centres() {
    use rumba_ir::op::Extent;
    // The square [1, 3] × [1, 3] holds the centres of pixels (1, 1), (1, 2), (2, 1), (2, 2);
    // H = 3 and W = 4 come from x's axes 1 and 2.
    let mut g = G::new();
    let x = g.input("x", DType::U8, &[2, 3, 4, 1]);
    let square = [[1.0, 1.0], [3.0, 1.0], [3.0, 3.0], [1.0, 3.0]].map(|[a, b]| [F64(a), F64(b)]);
    let mask = Op::PolygonMask {
        vertices: square.to_vec(),
        height: Extent::Of { node: x, axis: 1 },
        width: Extent::Of { node: x, axis: 2 },
    };
    let mask = g.push(mask, DType::Bool, &[1, 3, 4, 1]);
    g.output("mask", mask);
    let x = u8s(&[2, 3, 4, 1], &[0; 24]);
    let Array::Bool(m) = g.run_x(&x) else { panic!() };
    assert_eq!(m.shape(), [1, 3, 4, 1]);
    let inside: Vec<usize> = m.iter().enumerate().filter(|(_, b)| **b).map(|(k, _)| k).collect();
    assert_eq!(inside, [5, 6, 9, 10]);
}
