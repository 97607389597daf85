//! Unit tests of the evaluator's value semantics and accumulators, with exact expected
//! values. Whole kernels are tested through the executor (`rumba` crate), against the
//! reference interpreter.

use super::accumulate::Acc;
use super::scalar::{self, Scalar};
use crate::plan::{Accumulate, Reduction};
use rumba_ir::At;
use rumba_ir::DType;
use rumba_ir::graph::{Origin, Source};
use rumba_ir::numerics::Moments;
use rumba_ir::op::{BinaryOp, F64, ReduceKind, UnaryOp};

#[test]
fn casts_truncate_saturate_and_map_nan_to_zero() {
    let cast = |v: f64, to| Scalar::F64(v).cast(to);
    assert_eq!(cast(300.7, DType::U8), Scalar::U8(255));
    assert_eq!(cast(-5.5, DType::U8), Scalar::U8(0));
    assert_eq!(cast(-3.9, DType::I32), Scalar::I32(-3));
    assert_eq!(cast(f64::NAN, DType::U16), Scalar::U16(0));
    assert_eq!(cast(f64::NAN, DType::Bool), Scalar::Bool(true));
    assert_eq!(cast(-0.0, DType::Bool), Scalar::Bool(false));
    assert_eq!(Scalar::Bool(true).cast(DType::F32), Scalar::F32(1.0));
    // f64 → f32 rounds to nearest: 1 + 2⁻³⁰ is 1 in f32.
    assert_eq!(cast(1.0 + 2f64.powi(-30), DType::F32), Scalar::F32(1.0));
}

#[test]
fn unary_wraps_on_i32_min_and_keeps_unsigned() {
    let u = |op, x| scalar::unary(op, x).unwrap();
    assert_eq!(u(UnaryOp::Neg, Scalar::I32(i32::MIN)), Scalar::I32(i32::MIN));
    assert_eq!(u(UnaryOp::Abs, Scalar::I32(i32::MIN)), Scalar::I32(i32::MIN));
    assert_eq!(u(UnaryOp::Abs, Scalar::U8(7)), Scalar::U8(7));
    assert_eq!(u(UnaryOp::IsNan, Scalar::F32(f32::NAN)), Scalar::Bool(true));
    assert_eq!(u(UnaryOp::IsNan, Scalar::I32(3)), Scalar::Bool(false));
    assert_eq!(scalar::unary(UnaryOp::Neg, Scalar::U8(1)), None);
    assert_eq!(scalar::unary(UnaryOp::Sqrt, Scalar::U16(4)), None);
}

#[test]
fn binary_rounds_in_f32_and_propagates_nan_in_min_max() {
    let b = |op, x, y| scalar::binary(op, x, y).unwrap();
    // In f32, 1e8 + 1 rounds back to 1e8 before the subtraction.
    let sum = b(BinaryOp::Add, Scalar::F32(1e8), Scalar::F32(1.0));
    assert_eq!(b(BinaryOp::Sub, sum, Scalar::F32(1e8)), Scalar::F32(0.0));
    let nan = Scalar::F32(f32::NAN);
    assert!(b(BinaryOp::Min, Scalar::F32(1.0), nan).is_nan());
    assert!(b(BinaryOp::Max, nan, Scalar::F32(1.0)).is_nan());
    // Ties keep the first operand, so the sign of a zero tells which one was kept.
    let Scalar::F32(z) = b(BinaryOp::Max, Scalar::F32(-0.0), Scalar::F32(0.0)) else {
        panic!()
    };
    assert!(z.is_sign_negative());
    assert_eq!(b(BinaryOp::Min, Scalar::U8(3), Scalar::U8(2)), Scalar::U8(2));
    assert_eq!(b(BinaryOp::Eq, Scalar::F64(-0.0), Scalar::F64(0.0)), Scalar::Bool(true));
    assert_eq!(b(BinaryOp::Ne, nan, nan), Scalar::Bool(true));
    assert_eq!(scalar::binary(BinaryOp::Add, Scalar::U8(1), Scalar::U8(1)), None);
    assert_eq!(scalar::binary(BinaryOp::Lt, Scalar::U8(1), Scalar::U16(1)), None);
}

#[test]
fn nan_to_num_rounds_replacements_to_the_dtype() {
    assert_eq!(
        scalar::nan_to_num(Scalar::F32(f32::NAN), 1e300, 0.0, 0.0),
        Scalar::F32(f32::INFINITY)
    );
    assert_eq!(
        scalar::nan_to_num(Scalar::F64(f64::NEG_INFINITY), 0.0, 1.0, -2.5),
        Scalar::F64(-2.5)
    );
    assert_eq!(scalar::nan_to_num(Scalar::F32(3.0), 0.0, 0.0, 0.0), Scalar::F32(3.0));
    assert_eq!(scalar::nan_to_num(Scalar::I32(-1), 0.0, 0.0, 0.0), Scalar::I32(-1));
}

fn reduction(kind: Accumulate, dtype: DType) -> Reduction {
    let origin = Origin {
        id: "r".into(),
        label: None,
        op: "reduce".into(),
        source: Source::Unknown,
    };
    Reduction {
        kind,
        value: crate::ExprId(0),
        mask: None,
        skip_nan: false,
        dtype,
        at: At::node(&origin),
    }
}

/// The result of feeding `values` (with weight 1) to a fresh accumulator.
fn stat(kind: ReduceKind, values: &[Scalar], dtype: DType) -> Option<Scalar> {
    let kind = Accumulate::Stat(kind);
    let value_dtype = values.first().map_or(dtype, |v| v.dtype());
    let mut acc = Acc::new(&kind, Moments::of(value_dtype, values.len()));
    for &v in values {
        acc.add(v, 1.0, kind == Accumulate::Stat(ReduceKind::Max));
    }
    acc.finish(&reduction(kind, dtype), values.first().map_or(dtype, |v| v.dtype()))
}

fn f64s(v: &[f64]) -> Vec<Scalar> {
    v.iter().map(|&x| Scalar::F64(x)).collect()
}

#[test]
fn sums_are_sequential_and_moments_are_exact_on_small_data() {
    assert_eq!(
        stat(ReduceKind::Sum, &f64s(&[1e16, 1.0, 1.0]), DType::F64),
        Some(Scalar::F64(1e16))
    );
    let v = f64s(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
    assert_eq!(stat(ReduceKind::Var, &v, DType::F64), Some(Scalar::F64(4.0)));
    assert_eq!(stat(ReduceKind::Std, &v, DType::F32), Some(Scalar::F32(2.0)));
    assert_eq!(stat(ReduceKind::Mean, &v, DType::F64), Some(Scalar::F64(5.0)));
    // The same values as u8: exact integer moments, the same result.
    let ints: Vec<Scalar> = [2u8, 4, 4, 4, 5, 5, 7, 9].iter().map(|&x| Scalar::U8(x)).collect();
    assert_eq!(stat(ReduceKind::Var, &ints, DType::F32), Some(Scalar::F32(4.0)));
    assert_eq!(stat(ReduceKind::Std, &ints, DType::F32), Some(Scalar::F32(2.0)));
    // Rounded once: the f64 mean 1/3 becomes the nearest f32.
    let third = stat(ReduceKind::Mean, &f64s(&[0.0, 0.0, 1.0]), DType::F32);
    assert_eq!(third, Some(Scalar::F32((1.0f64 / 3.0) as f32)));
}

#[test]
fn order_statistics_follow_numpy() {
    let v = f64s(&[8.0, 1.0, 4.0, 2.0]);
    assert_eq!(stat(ReduceKind::Median, &v, DType::F64), Some(Scalar::F64(3.0)));
    let p30 = stat(ReduceKind::Percentile(F64(30.0)), &v, DType::F64);
    assert_eq!(p30, Some(Scalar::F64(1.0 + (2.0 - 1.0) * 0.9)));
    assert_eq!(
        stat(ReduceKind::Percentile(F64(100.0)), &v, DType::F64),
        Some(Scalar::F64(8.0))
    );
    let with_nan = f64s(&[1.0, f64::NAN, 3.0]);
    assert!(stat(ReduceKind::Median, &with_nan, DType::F64).unwrap().is_nan());
}

#[test]
fn extremes_keep_the_dtype_the_first_nan_and_the_first_tie() {
    let v = [Scalar::F32(1.0), Scalar::F32(f32::NAN), Scalar::F32(0.0)];
    assert!(stat(ReduceKind::Min, &v, DType::F32).unwrap().is_nan());
    let zeros = [Scalar::F32(0.0), Scalar::F32(-0.0)];
    let Some(Scalar::F32(z)) = stat(ReduceKind::Min, &zeros, DType::F32) else {
        panic!()
    };
    assert!(z.is_sign_positive());
    assert_eq!(
        stat(
            ReduceKind::Max,
            &[Scalar::U8(3), Scalar::U8(9), Scalar::U8(1)],
            DType::U8
        ),
        Some(Scalar::U8(9))
    );
}

#[test]
fn empty_lanes_give_nan_for_floats_and_nothing_for_integer_extremes() {
    assert!(stat(ReduceKind::Sum, &[], DType::F64).unwrap().is_nan());
    assert!(stat(ReduceKind::Var, &[], DType::F32).unwrap().is_nan());
    assert!(stat(ReduceKind::Median, &[], DType::F32).unwrap().is_nan());
    assert!(stat(ReduceKind::Max, &[], DType::F32).unwrap().is_nan());
    assert_eq!(stat(ReduceKind::Min, &[], DType::U16), None);
}

#[test]
fn weighted_sums_weight_times_value_in_order() {
    let kind = Accumulate::Weighted {
        weight: crate::ExprId(1),
    };
    let mut acc = Acc::new(&kind, Moments::Shifted);
    for (w, v) in [(0.5, 4.0f32), (0.25, 8.0), (-1.0, 1.0)] {
        acc.add(Scalar::F32(v), w, false);
    }
    assert_eq!(
        acc.finish(&reduction(kind, DType::F32), DType::F32),
        Some(Scalar::F32(3.0))
    );
}
