//! Elementwise kernels: typed expression semantics, index maps over strided views, run-time
//! slice starts.

use crate::support::*;
use ndarray::s;
use rumba_ir::dsl::Builder;
use rumba_ir::op::{BinaryOp, F64, UnaryOp};
use rumba_ir::{Array, ArrayView, DType};
use rumba_plan::{Affine, Expr, ParamId, ParamSource};

#[test]
fn elementwise_over_a_reversed_permuted_view_matches_the_interpreter_and_direct_code() {
    let base = f32_data(&[4, 3, 5], 1, 9);
    assert!(has_specials(&base));
    // Negative step on axis 0, stepped slice on axis 2, then a permutation: not contiguous.
    let view = base.slice(s![..;-1, .., 1..;2]).permuted_axes([2, 0, 1]).into_dyn();
    assert_eq!(view.shape(), &[2, 4, 3]);
    let x_in = ArrayView::F32(view.view());

    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(2), Some(4), Some(3)]);
    let p = b.param("p", Some(0.5));
    let y = x
        .gt(&p)
        .select(&(&x.abs().sqrt() * 3.0), &(-&x))
        .nan_to_num(Some(0.0), Some(1.0), Some(-1.0));
    let z = (&x * 2.0).cast(DType::U8);
    let graph = b
        .build([("y", &y), ("z", &z), ("nan", &x.is_nan()), ("m", &x.min(&p))])
        .unwrap();

    let mut pb = Pb::new();
    let shape = [2, 4, 3];
    let xb = pb.input("x", DType::F32, &shape);
    let outs = [
        ("y", DType::F32),
        ("z", DType::U8),
        ("nan", DType::Bool),
        ("m", DType::F32),
    ]
    .map(|(n, d)| pb.output(n, d, &shape));
    let p_slot = pb.param(ParamSource::Named {
        name: "p".into(),
        default: Some(0.5),
        at: at("p"),
    });
    let mut k = Kb::new("k0_elementwise", &[(2, false), (4, false), (3, false)]).tile(1, 1);
    let id = || (0..3).map(|a| Affine::axis(a, 3)).collect::<Vec<_>>();
    let xv = k.load(xb, DType::F32, id());
    let pv = k.param(p_slot.0);
    let pf = k.cast(pv, DType::F32);
    let gt = k.bin(BinaryOp::Gt, xv, pf);
    let abs = k.un(UnaryOp::Abs, xv);
    let sqrt = k.un(UnaryOp::Sqrt, abs);
    let three = k.konst(3.0, DType::F32);
    let branch = k.bin(BinaryOp::Mul, sqrt, three);
    let neg = k.un(UnaryOp::Neg, xv);
    let sel = k.select(gt, branch, neg);
    let y_e = k.e(
        Expr::NanToNum {
            x: sel,
            nan: F64(0.0),
            posinf: F64(1.0),
            neginf: F64(-1.0),
        },
        DType::F32,
    );
    let two = k.konst(2.0, DType::F32);
    let doubled = k.bin(BinaryOp::Mul, xv, two);
    let z_e = k.cast(doubled, DType::U8);
    let nan_e = k.un(UnaryOp::IsNan, xv);
    let m_e = k.bin(BinaryOp::Min, xv, pf);
    for (buffer, value) in outs.into_iter().zip([y_e, z_e, nan_e, m_e]) {
        k.store(buffer, id(), value);
    }
    pb.kernel(k.done());
    let plan = pb.build();

    let got = run_plan(&plan, 2, &[("x", x_in.clone())], &[]);
    assert_all_same("plan vs interpreter", &got, &run_graph(&graph, &[("x", x_in)], &[]));
    let direct = view.mapv(|v| {
        let s = if v > 0.5 { v.abs().sqrt() * 3.0 } else { -v };
        if s.is_nan() {
            0.0
        } else if s == f32::INFINITY {
            1.0
        } else if s == f32::NEG_INFINITY {
            -1.0
        } else {
            s
        }
    });
    assert_same("plan vs direct", &got[0], &Array::F32(direct));
    let saturated = view.mapv(|v| (v * 2.0) as u8);
    assert_same("saturating cast", &got[1], &Array::U8(saturated));
}

#[test]
fn index_maps_reverse_step_and_permute_a_contiguous_input() {
    let data = f32_data(&[4, 3, 5], 2, 8);
    let x_in = ArrayView::F32(data.view());
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(4), Some(3), Some(5)]);
    let v = x
        .slice(0, None, None, -1)
        .slice(2, Some(1), None, 2)
        .permute(&[2, 0, 1]);
    let graph = b.build([("y", &(&(&v * &v) - &v))]).unwrap();

    let mut pb = Pb::new();
    let xb = pb.input("x", DType::F32, &[4, 3, 5]);
    let yb = pb.output("y", DType::F32, &[2, 4, 3]);
    let mut k = Kb::new("k0_movement", &[(2, false), (4, false), (3, false)]).tile(0, 1);
    // y[i, j, k] = f(x[3 − j, k, 1 + 2i]).
    let xv = k.load(
        xb,
        DType::F32,
        vec![aff(3, &[0, -1, 0]), aff(0, &[0, 0, 1]), aff(1, &[2, 0, 0])],
    );
    let sq = k.bin(BinaryOp::Mul, xv, xv);
    let y = k.bin(BinaryOp::Sub, sq, xv);
    k.store(yb, (0..3).map(|a| Affine::axis(a, 3)).collect(), y);
    pb.kernel(k.done());
    let plan = pb.build();
    let want = run_graph(&graph, &[("x", x_in.clone())], &[]);
    assert_all_same(
        "movement by index maps",
        &run_plan(&plan, 3, &[("x", x_in)], &[]),
        &want,
    );
}

/// `x[start + 2i, h] · gain` for i < 3, `start` a run-time slice start.
pub fn slice_at_plan() -> rumba_plan::Plan {
    let mut pb = Pb::new();
    let xb = pb.input("x", DType::F32, &[10, 3]);
    let yb = pb.output("y", DType::F32, &[3, 3]);
    let start = pb.param(ParamSource::SliceStart {
        name: "start".into(),
        default: None,
        extent: 10,
        len: 3,
        step: 2,
        at: at("s"),
    });
    let gain = pb.param(ParamSource::Named {
        name: "gain".into(),
        default: Some(2.0),
        at: at("gain"),
    });
    let mut k = Kb::new("k0_slice_at", &[(3, false), (3, false)]).tile(0, 1);
    let rows = Affine {
        offset: 0,
        coefs: vec![2, 0],
        params: vec![(ParamId(start.0), 1)],
    };
    let xv = k.load(xb, DType::F32, vec![rows, Affine::axis(1, 2)]);
    let g = k.param(gain.0);
    let gf = k.cast(g, DType::F32);
    let y = k.bin(BinaryOp::Mul, xv, gf);
    k.store(yb, vec![Affine::axis(0, 2), Affine::axis(1, 2)], y);
    pb.kernel(k.done());
    pb.build()
}

#[test]
fn run_time_slice_starts_normalise_like_the_interpreter() {
    let data = f32_data(&[10, 3], 3, 5);
    let x_in = ArrayView::F32(data.view());
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(10), Some(3)]);
    let start = b.param("start", None);
    let gain = b.param("gain", Some(2.0));
    let graph = b.build([("y", &(&x.slice_at(0, &start, 3, 2) * &gain))]).unwrap();
    let plan = slice_at_plan();
    for p in [
        vec![("start", 0.0)],
        vec![("start", 5.0)],
        vec![("start", -5.0), ("gain", 0.25)],
        vec![("start", -10.0)],
    ] {
        let got = run_plan(&plan, 2, &[("x", x_in.clone())], &p);
        assert_all_same(&format!("{p:?}"), &got, &run_graph(&graph, &[("x", x_in.clone())], &p));
    }
}
