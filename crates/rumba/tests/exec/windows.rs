//! Windows as a reduced axis `j` whose loads read `k + j`, and an epilogue that combines a
//! reduction result with loads (one at reduced coordinate 0, one broadcast).

use crate::support::*;
use rumba_ir::dsl::{Builder, Stat};
use rumba_ir::op::{BinaryOp, ReduceKind};
use rumba_ir::{ArrayView, DType};
use rumba_plan::{Accumulate, Affine};

#[test]
fn sliding_mean_weighted_and_median_as_a_reduced_axis() {
    let (t, h, size) = (9, 4, 3);
    let weights = [0.25, 0.5, -1.5];
    let data = f32_data(&[t, h], 8, 6);
    assert!(has_specials(&data));
    let x_in = ArrayView::F32(data.view());
    let b = Builder::new();
    let x = b.input("x", DType::F32, [None, None]);
    let outs = [
        x.window(Stat::Mean, 0, size as i64, false),
        x.weighted_window(&weights, 0),
        x.window(Stat::Median, 0, size as i64, true),
        x.window(Stat::Min, 0, size as i64, false),
    ];
    let names = ["mean", "weighted", "median", "min"];
    let graph = b.build(names.iter().copied().zip(outs.iter())).unwrap();

    let k_out = t - size + 1;
    let mut pb = Pb::new();
    let xb = pb.input("x", DType::F32, &[t, h]);
    let wb = pb.constant(DType::F64, &[size], &weights);
    let bufs: Vec<_> = names.iter().map(|n| pb.output(n, DType::F32, &[k_out, h])).collect();
    // Domain (k, j, h): k the window position, j the offset in the window (reduced).
    let mut k = Kb::new("k0_window", &[(k_out, false), (size, true), (h, false)]).tile(0, 1);
    let v = k.load(xb, DType::F32, vec![aff(0, &[1, 1, 0]), Affine::axis(2, 3)]);
    let w = k.load(wb, DType::F64, vec![Affine::axis(1, 3)]);
    let accs = [
        k.reduce(Accumulate::Stat(ReduceKind::Mean), v, None, false, DType::F32),
        k.reduce(Accumulate::Weighted { weight: w }, v, None, false, DType::F32),
        k.reduce(Accumulate::Stat(ReduceKind::Median), v, None, true, DType::F32),
        k.reduce(Accumulate::Stat(ReduceKind::Min), v, None, false, DType::F32),
    ];
    for (out, acc) in bufs.into_iter().zip(accs) {
        k.store(out, vec![Affine::axis(0, 3), Affine::axis(2, 3)], acc);
    }
    pb.kernel(k.done());
    let plan = pb.build();
    let want = run_graph(&graph, &[("x", x_in.clone())], &[]);
    assert_all_same("windows", &run_plan(&plan, 2, &[("x", x_in)], &[]), &want);
}

#[test]
fn epilogue_combines_the_result_with_the_first_frame_and_a_broadcast_load() {
    let (t, h, w) = (5, 3, 4);
    let data = f32_data(&[t, h, w], 9, 11);
    let scale = f32_data(&[1, 1, w], 10, 3);
    let (x_in, b_in) = (ArrayView::F32(data.view()), ArrayView::F32(scale.view()));
    let b = Builder::new();
    let x = b.input("x", DType::F32, [None, Some(h), Some(w)]);
    let s = b.input("b", DType::F32, [Some(1), Some(1), Some(w)]);
    let mean = x.reduce(Stat::Mean, &[0]);
    let first = x.slice(0, Some(0), Some(1), 1);
    let graph = b.build([("out", &(&(&mean - &first) * &s))]).unwrap();

    let mut pb = Pb::new();
    let xb = pb.input("x", DType::F32, &[t, h, w]);
    let sb = pb.input("b", DType::F32, &[1, 1, w]);
    let ob = pb.output("out", DType::F32, &[1, h, w]);
    let mut k = Kb::new("k0_epilogue", &[(t, true), (h, false), (w, false)]).tile(2, 1);
    let id: Vec<Affine> = (0..3).map(|a| Affine::axis(a, 3)).collect();
    let v = k.load(xb, DType::F32, id);
    let acc = k.reduce(Accumulate::Stat(ReduceKind::Mean), v, None, false, DType::F32);
    // In the epilogue `v` is read at t = 0: the first frame.
    let diff = k.bin(BinaryOp::Sub, acc, v);
    let c0 = Affine::constant(0, 3);
    let sv = k.load(sb, DType::F32, vec![c0.clone(), c0.clone(), Affine::axis(2, 3)]);
    let out = k.bin(BinaryOp::Mul, diff, sv);
    k.store(ob, vec![c0, Affine::axis(1, 3), Affine::axis(2, 3)], out);
    pb.kernel(k.done());
    let plan = pb.build();
    let inputs = [("x", x_in), ("b", b_in)];
    assert_all_same(
        "epilogue",
        &run_plan(&plan, 2, &inputs, &[]),
        &run_graph(&graph, &inputs, &[]),
    );
}
