//! Reductions over the leading axis, trailing axes and a middle axis, with NaN skipped or
//! not, and a polygon mask through span tables — each against `reduce` on the interpreter.

use crate::support::*;
use rumba_ir::dsl::{Builder, Stat};
use rumba_ir::op::{F64, ReduceKind};
use rumba_ir::{ArrayView, DType};
use rumba_plan::{Accumulate, Affine, BufferId, Expr};

fn stat(kind: ReduceKind) -> Accumulate {
    Accumulate::Stat(kind)
}

/// Adds a kernel reducing `x` (of `dtype`, identity load over `domain`) with each of
/// `kinds` (kind, skip_nan, result dtype), storing result i into `outs[i]` at `store`.
fn reduce_kernel(
    pb: &mut Pb,
    x: (BufferId, DType),
    domain: &[(usize, bool)],
    tile: usize,
    kinds: &[(ReduceKind, bool, DType)],
    outs: &[BufferId],
    store: &[Affine],
) {
    let rank = domain.len();
    let mut k = Kb::new("k_reduce", domain).tile(tile, 1);
    let v = k.load(x.0, x.1, (0..rank).map(|a| Affine::axis(a, rank)).collect());
    for (&(kind, skip_nan, dtype), &out) in kinds.iter().zip(outs) {
        let acc = k.reduce(stat(kind), v, None, skip_nan, dtype);
        k.store(out, store.to_vec(), acc);
    }
    pb.kernel(k.done());
}

#[test]
fn mean_std_median_over_the_leading_axis_with_and_without_skip_nan() {
    let data = f32_data(&[6, 3, 4], 4, 7);
    assert!(has_specials(&data));
    let x_in = ArrayView::F32(data.view());
    let stats = [Stat::Mean, Stat::Std, Stat::Median, Stat::Max];
    let kinds = [ReduceKind::Mean, ReduceKind::Std, ReduceKind::Median, ReduceKind::Max];
    let b = Builder::new();
    let x = b.input("x", DType::F32, [None, None, None]);
    let mut outs = Vec::new();
    for skip in [false, true] {
        for s in stats {
            outs.push((format!("{s:?}{skip}"), x.reduce_with(s, &[0], true, skip, None)));
        }
    }
    let graph = b.build(outs.iter().map(|(n, t)| (n.as_str(), t))).unwrap();

    let mut pb = Pb::new();
    let xb = pb.input("x", DType::F32, &[6, 3, 4]);
    let store = [Affine::constant(0, 3), Affine::axis(1, 3), Affine::axis(2, 3)];
    for skip in [false, true] {
        let offset = if skip { 4 } else { 0 };
        let bufs: Vec<BufferId> = (0..4)
            .map(|i| pb.output(&outs[offset + i].0, DType::F32, &[1, 3, 4]))
            .collect();
        let specs: Vec<_> = kinds.iter().map(|&k| (k, skip, DType::F32)).collect();
        reduce_kernel(
            &mut pb,
            (xb, DType::F32),
            &[(6, true), (3, false), (4, false)],
            1,
            &specs,
            &bufs,
            &store,
        );
    }
    let plan = pb.build();
    let want = run_graph(&graph, &[("x", x_in.clone())], &[]);
    assert_all_same("leading axis", &run_plan(&plan, 2, &[("x", x_in)], &[]), &want);
}

#[test]
fn integer_statistics_over_the_leading_axis() {
    let data = u16_data(&[7, 2, 3], 5);
    let x_in = ArrayView::U16(data.view());
    let b = Builder::new();
    let x = b.input("x", DType::U16, [None, None, None]);
    let stats = [
        Stat::Max,
        Stat::Min,
        Stat::Sum,
        Stat::Mean,
        Stat::Var,
        Stat::Percentile(30.0),
    ];
    let outs: Vec<_> = stats.iter().map(|&s| (format!("{s:?}"), x.reduce(s, &[0]))).collect();
    let graph = b.build(outs.iter().map(|(n, t)| (n.as_str(), t))).unwrap();

    let mut pb = Pb::new();
    let xb = pb.input("x", DType::U16, &[7, 2, 3]);
    let kinds = [
        (ReduceKind::Max, false, DType::U16),
        (ReduceKind::Min, false, DType::U16),
        (ReduceKind::Sum, false, DType::F64),
        (ReduceKind::Mean, false, DType::F32),
        (ReduceKind::Var, false, DType::F32),
        (ReduceKind::Percentile(F64(30.0)), false, DType::F32),
    ];
    let bufs: Vec<BufferId> = kinds
        .iter()
        .zip(&outs)
        .map(|(k, (n, _))| pb.output(n, k.2, &[1, 2, 3]))
        .collect();
    let store = [Affine::constant(0, 3), Affine::axis(1, 3), Affine::axis(2, 3)];
    reduce_kernel(
        &mut pb,
        (xb, DType::U16),
        &[(7, true), (2, false), (3, false)],
        2,
        &kinds,
        &bufs,
        &store,
    );
    let plan = pb.build();
    let want = run_graph(&graph, &[("x", x_in.clone())], &[]);
    assert_all_same("u16 leading axis", &run_plan(&plan, 2, &[("x", x_in)], &[]), &want);
}

#[test]
fn statistics_over_trailing_axes_and_over_a_middle_axis() {
    let data = f32_data(&[5, 3, 4, 2], 6, 13);
    assert!(has_specials(&data));
    let x_in = ArrayView::F32(data.view());
    let b = Builder::new();
    let x = b.input("x", DType::F32, [None, None, None, None]);
    let trailing = [
        x.reduce(Stat::Sum, &[1, 2, 3]),
        x.reduce_with(Stat::Var, &[1, 2, 3], true, true, None),
        x.reduce(Stat::Max, &[1, 2, 3]),
        x.reduce_with(Stat::Percentile(75.0), &[1, 2, 3], true, true, None),
        x.reduce_with(Stat::Mean, &[1], true, true, None),
        x.reduce(Stat::Min, &[1]),
    ];
    let names = ["sum", "var", "max", "p75", "mean_h", "min_h"];
    let graph = b.build(names.iter().copied().zip(trailing.iter())).unwrap();

    let mut pb = Pb::new();
    let xb = pb.input("x", DType::F32, &[5, 3, 4, 2]);
    let kinds = [
        (ReduceKind::Sum, false, DType::F64),
        (ReduceKind::Var, true, DType::F32),
        (ReduceKind::Max, false, DType::F32),
        (ReduceKind::Percentile(F64(75.0)), true, DType::F32),
    ];
    let bufs: Vec<BufferId> = kinds
        .iter()
        .zip(names)
        .map(|(k, n)| pb.output(n, k.2, &[5, 1, 1, 1]))
        .collect();
    let c0 = Affine::constant(0, 4);
    let store = [Affine::axis(0, 4), c0.clone(), c0.clone(), c0.clone()];
    let domain = [(5, false), (3, true), (4, true), (2, true)];
    reduce_kernel(&mut pb, (xb, DType::F32), &domain, 0, &kinds, &bufs, &store);
    // The middle axis H reduced, W and C parallel after it: lanes inside the inner loop,
    // tiled along W.
    let kinds = [
        (ReduceKind::Mean, true, DType::F32),
        (ReduceKind::Min, false, DType::F32),
    ];
    let bufs: Vec<BufferId> = names[4..]
        .iter()
        .map(|n| pb.output(n, DType::F32, &[5, 1, 4, 2]))
        .collect();
    let store = [Affine::axis(0, 4), c0, Affine::axis(2, 4), Affine::axis(3, 4)];
    let domain = [(5, false), (3, true), (4, false), (2, false)];
    reduce_kernel(&mut pb, (xb, DType::F32), &domain, 2, &kinds, &bufs, &store);
    let plan = pb.build();
    let want = run_graph(&graph, &[("x", x_in.clone())], &[]);
    assert_all_same(
        "trailing and middle axes",
        &run_plan(&plan, 2, &[("x", x_in)], &[]),
        &want,
    );
}

#[test]
fn masked_reduction_through_span_tables() {
    let (t, h, w) = (4, 6, 7);
    let data = f32_data(&[t, h, w, 1], 7, 5);
    let x_in = ArrayView::F32(data.view());
    let vertices = [[1.2, 0.5], [6.5, 2.0], [3.0, 5.8]];
    let b = Builder::new();
    let x = b.input("x", DType::F32, [None, Some(h), Some(w), Some(1)]);
    let mask = b.polygon_mask(&vertices, h, w);
    let outs = [
        x.reduce_with(Stat::Mean, &[1, 2, 3], true, true, Some(&mask)),
        x.reduce_with(Stat::Min, &[1, 2, 3], true, true, Some(&mask)),
        x.reduce_with(Stat::Max, &[1, 2, 3], true, false, Some(&mask)),
        x.reduce_with(Stat::Std, &[1, 2, 3], true, true, Some(&mask)),
    ];
    let names = ["mean", "min", "max", "std"];
    let graph = b.build(names.iter().copied().zip(outs.iter())).unwrap();

    let mut pb = Pb::new();
    let xb = pb.input("x", DType::F32, &[t, h, w, 1]);
    let bufs: Vec<BufferId> = names.iter().map(|n| pb.output(n, DType::F32, &[t, 1, 1, 1])).collect();
    let mut k = Kb::new("k0_roi", &[(t, false), (h, true), (w, true), (1, true)]).tile(0, 1);
    let table = k.spans(span_table(&rumba_ir::polygon::mask(&vertices, h, w), h, w));
    let v = k.load(xb, DType::F32, (0..4).map(|a| Affine::axis(a, 4)).collect());
    let inside = k.e(
        Expr::InSpans {
            table,
            row: Affine::axis(1, 4),
            col: Affine::axis(2, 4),
        },
        DType::Bool,
    );
    let kinds = [
        (ReduceKind::Mean, true),
        (ReduceKind::Min, true),
        (ReduceKind::Max, false),
        (ReduceKind::Std, true),
    ];
    let c0 = Affine::constant(0, 4);
    for ((kind, skip), out) in kinds.into_iter().zip(bufs) {
        let acc = k.reduce(stat(kind), v, Some(inside), skip, DType::F32);
        k.store(out, vec![Affine::axis(0, 4), c0.clone(), c0.clone(), c0.clone()], acc);
    }
    pb.kernel(k.done());
    let plan = pb.build();
    let want = run_graph(&graph, &[("x", x_in.clone())], &[]);
    assert_all_same("masked", &run_plan(&plan, 2, &[("x", x_in)], &[]), &want);
}

#[test]
fn f64_and_i32_statistics_show_every_ulp() {
    // f64 results keep every bit of the f64 accumulation (no rounding to f32 hides an ulp).
    let data = f32_data(&[7, 3, 5], 17, 9).mapv(|v| f64::from(v) / 3.0);
    let ints = f32_data(&[7, 3, 5], 18, 0).mapv(|v| (v * 1e6) as i32);
    let b = Builder::new();
    let x = b.input("x", DType::F64, [None, None, None]);
    let n = b.input("n", DType::I32, [None, None, None]);
    let stats = [
        Stat::Sum,
        Stat::Mean,
        Stat::Var,
        Stat::Std,
        Stat::Median,
        Stat::Percentile(37.5),
    ];
    let kinds = [
        ReduceKind::Sum,
        ReduceKind::Mean,
        ReduceKind::Var,
        ReduceKind::Std,
        ReduceKind::Median,
        ReduceKind::Percentile(F64(37.5)),
    ];
    let mut outs = Vec::new();
    for (t, name) in [(&x, "x"), (&n, "n")] {
        for s in stats {
            outs.push((format!("{name}{s:?}lead"), t.reduce_with(s, &[0], true, true, None)));
        }
        for s in stats {
            outs.push((format!("{name}{s:?}trail"), t.reduce(s, &[1, 2])));
        }
    }
    let graph = b.build(outs.iter().map(|(n, t)| (n.as_str(), t))).unwrap();

    let mut pb = Pb::new();
    let xb = pb.input("x", DType::F64, &[7, 3, 5]);
    let nb = pb.input("n", DType::I32, &[7, 3, 5]);
    let mut names = outs.iter().map(|(n, _)| n.as_str());
    let c0 = Affine::constant(0, 3);
    for input in [(xb, DType::F64), (nb, DType::I32)] {
        let specs: Vec<_> = kinds.iter().map(|&k| (k, true, DType::F64)).collect();
        let bufs: Vec<_> = specs
            .iter()
            .map(|_| pb.output(names.next().unwrap(), DType::F64, &[1, 3, 5]))
            .collect();
        let store = [c0.clone(), Affine::axis(1, 3), Affine::axis(2, 3)];
        reduce_kernel(
            &mut pb,
            input,
            &[(7, true), (3, false), (5, false)],
            1,
            &specs,
            &bufs,
            &store,
        );
        let specs: Vec<_> = kinds.iter().map(|&k| (k, false, DType::F64)).collect();
        let bufs: Vec<_> = specs
            .iter()
            .map(|_| pb.output(names.next().unwrap(), DType::F64, &[7, 1, 1]))
            .collect();
        let store = [Affine::axis(0, 3), c0.clone(), c0.clone()];
        reduce_kernel(
            &mut pb,
            input,
            &[(7, false), (3, true), (5, true)],
            0,
            &specs,
            &bufs,
            &store,
        );
    }
    let plan = pb.build();
    let inputs = [("x", ArrayView::F64(data.view())), ("n", ArrayView::I32(ints.view()))];
    assert_all_same(
        "f64 results",
        &run_plan(&plan, 2, &inputs, &[]),
        &run_graph(&graph, &inputs, &[]),
    );
}
