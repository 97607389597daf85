//! `run_into`, and every error the executor reports: params, inputs, outputs, run-time
//! reduction failures and plans the evaluator cannot run.

use crate::elementwise::slice_at_plan;
use crate::support::*;
use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use rumba::exec::{ArrayViewMut, ExecError, Executor};
use rumba_ir::dsl::{Builder, Stat};
use rumba_ir::op::{BinaryOp, ReduceKind, UnaryOp};
use rumba_ir::{Array, ArrayView, DType};
use rumba_plan::{Accumulate, Affine, Plan};

/// y = 2x, with y also exposed as `y_again`, and the input itself as output `x_out`.
fn doubling_plan() -> Plan {
    let mut pb = Pb::new();
    let xb = pb.input("x", DType::F32, &[3, 4]);
    let yb = pb.output("y", DType::F32, &[3, 4]);
    pb.alias_output("y_again", yb);
    pb.alias_output("x_out", xb);
    let id = vec![Affine::axis(0, 2), Affine::axis(1, 2)];
    let mut k = Kb::new("k0", &[(3, false), (4, false)]).tile(0, 1);
    let v = k.load(xb, DType::F32, id.clone());
    let two = k.konst(2.0, DType::F32);
    let y = k.bin(BinaryOp::Mul, v, two);
    k.store(yb, id, y);
    pb.kernel(k.done());
    pb.build()
}

fn exec() -> Executor {
    Executor::new(2).expect("thread pool")
}

#[test]
fn run_into_writes_into_caller_arrays_of_any_layout() {
    let plan = doubling_plan();
    let data = f32_data(&[3, 4], 13, 4);
    let inputs = [("x", ArrayView::F32(data.view()))];
    let want = run_plan(&plan, 2, &inputs, &[]);
    // Column-major and pre-filled: every element must be overwritten.
    let mut y = Array::F32(ArrayD::from_elem(IxDyn(&[3, 4]).f(), 7.0));
    let mut y_again = Array::F32(ArrayD::from_elem(IxDyn(&[3, 4]), 7.0));
    let mut x_out = Array::F32(ArrayD::from_elem(IxDyn(&[3, 4]), 7.0));
    {
        let mut outs = [
            ("x_out", ArrayViewMut::from(&mut x_out)),
            ("y", ArrayViewMut::from(&mut y)),
            ("y_again", ArrayViewMut::from(&mut y_again)),
        ];
        exec().run_into(&plan, &inputs, &params(&[]), &mut outs).unwrap();
    }
    assert_same("y", &y, &want[0]);
    assert_same("y_again", &y_again, &want[1]);
    assert_same("x_out", &x_out, &want[2]);
    assert_same("x_out is x", &x_out, &Array::F32(data.clone()));
}

#[test]
fn run_into_rejects_missing_unknown_and_mismatched_outputs() {
    let plan = doubling_plan();
    let data = f32_data(&[3, 4], 14, 0);
    let inputs = [("x", ArrayView::F32(data.view()))];
    let mut good = [0, 1, 2].map(|_| Array::F32(ArrayD::zeros(IxDyn(&[3, 4]))));
    let mut wrong = Array::F32(ArrayD::zeros(IxDyn(&[4, 3])));
    let message = |outs: &mut [(&str, ArrayViewMut<'_>)]| {
        let e = exec().run_into(&plan, &inputs, &params(&[]), outs).unwrap_err();
        assert!(matches!(e, ExecError::Output { .. }), "{e:?}");
        e.to_string()
    };
    let [a, b, c] = &mut good;
    let m = message(&mut [("y", a.into()), ("y_again", b.into())]);
    assert!(m.contains("output \"x_out\": no array was given"), "{m}");
    let m = message(&mut [
        ("y", a.into()),
        ("y_again", b.into()),
        ("x_out", c.into()),
        ("z", (&mut wrong).into()),
    ]);
    assert!(m.contains("output \"z\": the plan has no output of this name"), "{m}");
    let m = message(&mut [("y", (&mut wrong).into()), ("y_again", b.into()), ("x_out", c.into())]);
    assert!(
        m.contains("expected a f32 array of shape [3, 4], found a f32 array of shape [4, 3]"),
        "{m}"
    );
}

fn run_err(plan: &Plan, inputs: &[(&str, ArrayView<'_>)], p: &[(&str, f64)]) -> String {
    exec().run(plan, inputs, &params(p)).unwrap_err().to_string()
}

#[test]
fn param_errors_name_the_param() {
    let plan = slice_at_plan();
    let data = f32_data(&[10, 3], 15, 0);
    let inputs = [("x", ArrayView::F32(data.view()))];
    let m = run_err(&plan, &inputs, &[]);
    assert!(m.contains("param \"start\" has no value and no default"), "{m}");
    let m = run_err(&plan, &inputs, &[("start", 0.0), ("gian", 1.0)]);
    assert!(
        m.contains("no param is named \"gian\"; the graph's params are \"start\", \"gain\""),
        "{m}"
    );
    let m = run_err(&plan, &inputs, &[("start", 2.5)]);
    assert!(
        m.contains("node \"s\"") && m.contains("param \"start\" = 2.5: expected an integer index"),
        "{m}"
    );
    let m = run_err(&plan, &inputs, &[("start", 6.0)]);
    let range = "3 elements every 2 from there do not fit an axis of 10 (expected a start in [-10, 5])";
    assert!(m.contains("param \"start\" = 6:") && m.contains(range), "{m}");
    let m = run_err(&plan, &inputs, &[("start", -11.0)]);
    assert!(m.contains(range), "{m}");
    // The interpreter says the same about the same graph.
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(10), Some(3)]);
    let start = b.param("start", None);
    let graph = b.build([("y", &x.slice_at(0, &start, 3, 2))]).unwrap();
    let interp = rumba_interp::evaluate(&graph, &inputs, &params(&[("start", 6.0)]))
        .unwrap_err()
        .to_string();
    assert!(interp.contains(range), "{interp}");
}

#[test]
fn input_errors_name_the_input() {
    let plan = doubling_plan();
    let f32s = f32_data(&[3, 4], 16, 0);
    let wrong_shape = f32_data(&[4, 3], 16, 0);
    let u16s = u16_data(&[3, 4], 16);
    let m = run_err(&plan, &[], &[]);
    assert!(m.contains("input \"x\" was not supplied (expected f32 (3, 4))"), "{m}");
    let m = run_err(&plan, &[("x", ArrayView::U16(u16s.view()))], &[]);
    assert!(m.contains("input \"x\": expected f32, found u16"), "{m}");
    let m = run_err(&plan, &[("x", ArrayView::F32(wrong_shape.view()))], &[]);
    assert!(m.contains("input \"x\": expected (3, 4), found (4, 3)"), "{m}");
    let m = run_err(
        &plan,
        &[("x", ArrayView::F32(f32s.view())), ("y", ArrayView::F32(f32s.view()))],
        &[],
    );
    assert!(m.contains("no graph input is named \"y\""), "{m}");
}

#[test]
fn an_integer_min_over_an_empty_masked_lane_names_the_node() {
    let data = ArrayD::from_shape_fn(IxDyn(&[2, 3, 3, 1]), |i| (i[0] * 9 + i[1] * 3 + i[2]) as u8);
    let inputs = [("x", ArrayView::U8(data.view()))];
    let mut pb = Pb::new();
    let xb = pb.input("x", DType::U8, &[2, 3, 3, 1]);
    let mean_b = pb.output("mean", DType::F32, &[2, 1, 1, 1]);
    let min_b = pb.output("min", DType::U8, &[2, 1, 1, 1]);
    let mut k = Kb::new("k0_roi", &[(2, false), (3, true), (3, true), (1, true)]).tile(0, 1);
    // A polygon mask with no pixel inside.
    let table = k.spans(span_table(&[false; 9], 3, 3));
    let v = k.load(xb, DType::U8, (0..4).map(|a| Affine::axis(a, 4)).collect());
    let inside = k.e(
        rumba_plan::Expr::InSpans {
            table,
            row: Affine::axis(1, 4),
            col: Affine::axis(2, 4),
        },
        DType::Bool,
    );
    let mean = k.reduce(Accumulate::Stat(ReduceKind::Mean), v, Some(inside), false, DType::F32);
    let min = k.reduce(Accumulate::Stat(ReduceKind::Min), v, Some(inside), false, DType::U8);
    k.name_reduction(1, "roi");
    let c0 = Affine::constant(0, 4);
    let store = vec![Affine::axis(0, 4), c0.clone(), c0.clone(), c0];
    k.store(mean_b, store.clone(), mean);
    k.store(min_b, store, min);
    pb.kernel(k.done());
    let e = exec().run(&pb.build(), &inputs, &params(&[])).unwrap_err();
    assert!(matches!(e, ExecError::Reduction { .. }), "{e:?}");
    let m = e.to_string();
    let what = "the mask selects no element of a lane, and the min of an empty set of u8 values has no value";
    assert!(m.contains("node \"roi\"") && m.contains(what), "{m}");
    // The interpreter fails the same way on the equivalent graph.
    let b = Builder::new();
    let x = b.input("x", DType::U8, [None, Some(3), Some(3), Some(1)]);
    let mask = b.polygon_mask(&[[10.0, 10.0], [11.0, 10.0], [11.0, 11.0]], 3, 3);
    let graph = b
        .build([("min", &x.reduce_with(Stat::Min, &[1, 2, 3], true, false, Some(&mask)))])
        .unwrap();
    let interp = rumba_interp::evaluate(&graph, &inputs, &params(&[]))
        .unwrap_err()
        .to_string();
    assert!(interp.contains(what), "{interp}");
}

#[test]
fn kernels_the_evaluator_cannot_run_are_reported_before_running() {
    let mut pb = Pb::new();
    let xb = pb.input("x", DType::U8, &[2]);
    let yb = pb.output("y", DType::U8, &[2]);
    let mut k = Kb::new("k0_neg", &[(2, false)]);
    let v = k.load(xb, DType::U8, vec![Affine::axis(0, 1)]);
    let neg = k.un(UnaryOp::Neg, v);
    k.store(yb, vec![Affine::axis(0, 1)], neg);
    pb.kernel(k.done());
    let data = ArrayD::from_elem(IxDyn(&[2]), 1u8);
    let e = exec()
        .run(&pb.build(), &[("x", ArrayView::U8(data.view()))], &params(&[]))
        .unwrap_err();
    assert!(matches!(e, ExecError::Unsupported(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("plan kernel k0_neg: the evaluator cannot run expr 1"),
        "{e}"
    );
}

#[test]
fn a_kernel_that_writes_a_buffer_it_reads_is_rejected() {
    // Kernel 0 fills a temporary; kernel 1 reads it and writes it back (in place): compiled
    // kernels load their inputs as immutable, so the plan must not verify.
    let mut pb = Pb::new();
    let x = pb.input("x", DType::F32, &[4]);
    let t = pb.temp(DType::F32, &[4]);
    let y = pb.output("y", DType::F32, &[4]);
    let id = || vec![Affine::axis(0, 1)];
    let mut k = Kb::new("k0_fill", &[(4, false)]);
    let v = k.load(x, DType::F32, id());
    k.store(t, id(), v);
    pb.kernel(k.done());
    let mut k = Kb::new("k1_in_place", &[(4, false)]);
    let v = k.load(t, DType::F32, id());
    let two = k.konst(2.0, DType::F32);
    let w = k.bin(BinaryOp::Mul, v, two);
    k.store(t, id(), w);
    k.store(y, id(), w);
    pb.kernel(k.done());
    let err = rumba_plan::verify(&pb.unverified()).expect_err("an in-place kernel");
    assert_eq!(err.kernel, "k1_in_place");
    assert!(err.message.contains("also reads"), "{}", err.message);
}
