//! Elementwise ops: cast saturation, NaN-propagating min/max, broadcasting, wrap-around.

use super::*;
use rumba_ir::op::{BinaryOp, UnaryOp};

#[test]
fn cast_truncates_saturates_and_maps_nan_to_zero() {
    let mut g = G::new();
    let x = g.input("x", DType::F32, &[7]);
    let to_u8 = g.push(Op::Cast { x, to: DType::U8 }, DType::U8, &[7]);
    let to_i32 = g.push(Op::Cast { x, to: DType::I32 }, DType::I32, &[7]);
    let to_bool = g.push(Op::Cast { x, to: DType::Bool }, DType::Bool, &[7]);
    g.output("u8", to_u8);
    g.output("i32", to_i32);
    g.output("bool", to_bool);
    let x = f32s(&[7], &[300.7, -3.9, f32::NAN, 255.9, 2.5, -0.0, 3e9]);
    let out = g.run(&[("x", x.view())], &[]).unwrap();
    let Array::U8(u) = &out[0] else { panic!() };
    assert_eq!(u.as_slice().unwrap(), [255, 0, 0, 255, 2, 0, 255]);
    let Array::I32(i) = &out[1] else { panic!() };
    assert_eq!(i.as_slice().unwrap(), [300, -3, 0, 255, 2, 0, i32::MAX]);
    let Array::Bool(b) = &out[2] else { panic!() };
    assert_eq!(b.as_slice().unwrap(), [true, true, true, true, true, false, true]);
}

#[test]
fn cast_rounds_f64_to_nearest_f32_and_bool_to_numbers() {
    let mut g = G::new();
    let x = g.input("x", DType::F64, &[2]);
    let y = g.push(Op::Cast { x, to: DType::F32 }, DType::F32, &[2]);
    g.output("y", y);
    // 1 + 2^-24 is halfway between two f32 (ties to even: 1.0); 1 + 3·2^-25 rounds up.
    let x = f64s(&[2], &[1.0 + 2f64.powi(-24), 1.0 + 3.0 * 2f64.powi(-25)]);
    assert_eq!(as_f32(&g.run_x(&x)).0, vec![1.0, 1.0 + f32::EPSILON]);

    let mut g = G::new();
    let x = g.input("x", DType::Bool, &[2]);
    let y = g.push(Op::Cast { x, to: DType::F32 }, DType::F32, &[2]);
    g.output("y", y);
    let x = Array::Bool(ArrayD::from_shape_vec(IxDyn(&[2]), vec![true, false]).unwrap());
    assert_eq!(as_f32(&g.run_x(&x)).0, vec![1.0, 0.0]);
}

#[test]
fn min_max_propagate_nan_and_broadcast() {
    let mut g = G::new();
    let x = g.input("x", DType::F32, &[2, 3]);
    let r = g.input("r", DType::F32, &[3]);
    let lo = g.push(
        Op::Binary {
            op: BinaryOp::Min,
            a: x,
            b: r,
        },
        DType::F32,
        &[2, 3],
    );
    let hi = g.push(
        Op::Binary {
            op: BinaryOp::Max,
            a: r,
            b: x,
        },
        DType::F32,
        &[2, 3],
    );
    g.output("lo", lo);
    g.output("hi", hi);
    let nan = f32::NAN;
    let x = f32s(&[2, 3], &[1.0, nan, 5.0, -1.0, 2.0, 7.0]);
    let r = f32s(&[3], &[0.0, 3.0, nan]);
    let out = g.run(&[("x", x.view()), ("r", r.view())], &[]).unwrap();
    let widen = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<_>>();
    let n = f64::NAN;
    assert!(same(&widen(as_f32(&out[0]).0), &[0.0, n, n, -1.0, 2.0, n]));
    assert!(same(&widen(as_f32(&out[1]).0), &[1.0, n, n, 0.0, 3.0, n]));
}

#[test]
fn comparisons_select_and_nan_to_num() {
    let mut g = G::new();
    let x = g.input("x", DType::F64, &[5]);
    let zero = g.push(Op::Const { value: F64(0.0) }, DType::F64, &[]);
    let gt = g.push(
        Op::Binary {
            op: BinaryOp::Gt,
            a: x,
            b: zero,
        },
        DType::Bool,
        &[5],
    );
    let ne = g.push(
        Op::Binary {
            op: BinaryOp::Ne,
            a: x,
            b: x,
        },
        DType::Bool,
        &[5],
    );
    let sel = g.push(
        Op::Select {
            cond: gt,
            a: x,
            b: zero,
        },
        DType::F64,
        &[5],
    );
    let clean = g.push(
        Op::NanToNum {
            x,
            nan: F64(-1.0),
            posinf: F64(9.0),
            neginf: F64(-9.0),
        },
        DType::F64,
        &[5],
    );
    for (name, id) in [("gt", gt), ("ne", ne), ("sel", sel), ("clean", clean)] {
        g.output(name, id);
    }
    let x = f64s(&[5], &[2.0, -3.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
    let out = g.run(&[("x", x.view())], &[]).unwrap();
    let bools = |a: &Array| match a {
        Array::Bool(b) => b.iter().copied().collect::<Vec<_>>(),
        _ => panic!(),
    };
    assert_eq!(bools(&out[0]), [true, false, false, true, false]);
    assert_eq!(bools(&out[1]), [false, false, true, false, false]);
    assert_eq!(as_f64(&out[2]).0, [2.0, 0.0, 0.0, f64::INFINITY, 0.0]);
    assert_eq!(as_f64(&out[3]).0, [2.0, -3.0, -1.0, 9.0, -9.0]);
}

#[test]
fn integer_neg_abs_wrap_and_unsigned_abs_is_identity() {
    let mut g = G::new();
    let x = g.input("x", DType::I32, &[3]);
    let neg = g.push(Op::Unary { op: UnaryOp::Neg, x }, DType::I32, &[3]);
    let abs = g.push(Op::Unary { op: UnaryOp::Abs, x }, DType::I32, &[3]);
    let isnan = g.push(Op::Unary { op: UnaryOp::IsNan, x }, DType::Bool, &[3]);
    g.output("neg", neg);
    g.output("abs", abs);
    g.output("isnan", isnan);
    let x = Array::I32(ArrayD::from_shape_vec(IxDyn(&[3]), vec![i32::MIN, -5, 7]).unwrap());
    let out = g.run(&[("x", x.view())], &[]).unwrap();
    let Array::I32(neg) = &out[0] else { panic!() };
    assert_eq!(neg.as_slice().unwrap(), [i32::MIN, 5, -7]);
    let Array::I32(abs) = &out[1] else { panic!() };
    assert_eq!(abs.as_slice().unwrap(), [i32::MIN, 5, 7]);
    let Array::Bool(isnan) = &out[2] else { panic!() };
    assert!(isnan.iter().all(|b| !b));

    let mut g = G::new();
    let x = g.input("x", DType::U16, &[2]);
    let abs = g.push(Op::Unary { op: UnaryOp::Abs, x }, DType::U16, &[2]);
    g.output("abs", abs);
    let x = Array::U16(ArrayD::from_shape_vec(IxDyn(&[2]), vec![65535, 3]).unwrap());
    assert_eq!(g.run_x(&x), x);
}

#[test]
fn arithmetic_broadcasts_a_frame_over_a_stack() {
    // x − mean over frames, the background-subtraction core, on a (3, 1, 2, 1) stack.
    let mut g = G::new();
    let x = g.input("x", DType::U8, &[3, 1, 2, 1]);
    let xf = g.push(Op::Cast { x, to: DType::F32 }, DType::F32, &[3, 1, 2, 1]);
    let kind = rumba_ir::op::ReduceKind::Mean;
    let m = g.push(
        Op::Reduce {
            x,
            kind,
            axes: vec![0],
            keepdims: true,
            skip_nan: false,
            mask: None,
        },
        DType::F32,
        &[1, 1, 2, 1],
    );
    let d = g.push(
        Op::Binary {
            op: BinaryOp::Sub,
            a: xf,
            b: m,
        },
        DType::F32,
        &[3, 1, 2, 1],
    );
    g.output("d", d);
    let x = u8s(&[3, 1, 2, 1], &[10, 0, 20, 1, 30, 255]);
    // Means 20 and 256/3 (rounded once to f32).
    let m1 = (256.0f64 / 3.0) as f32;
    assert_eq!(
        as_f32(&g.run_x(&x)).0,
        vec![-10.0, 0.0 - m1, 0.0, 1.0 - m1, 10.0, 255.0 - m1]
    );
}
