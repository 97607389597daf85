//! Determinism: fixed tiles give the same bits on any number of threads; and the rule that
//! decides whether a kernel's tiles may run concurrently.

use crate::support::*;
use rumba::exec::tiles_are_independent;
use rumba_ir::dsl::{Builder, Stat};
use rumba_ir::op::{BinaryOp, ReduceKind};
use rumba_ir::{ArrayView, DType};
use rumba_plan::{Accumulate, Affine, Plan};

/// mean over T → temp; x − temp (elementwise, 1 frame per tile); per-frame std of that.
fn three_kernels(t: usize, h: usize, w: usize) -> Plan {
    let mut pb = Pb::new();
    let xb = pb.input("x", DType::F32, &[t, h, w]);
    let mean = pb.temp(DType::F32, &[1, h, w]);
    let db = pb.output("d", DType::F32, &[t, h, w]);
    let sb = pb.output("s", DType::F32, &[t, 1, 1]);
    let id: Vec<Affine> = (0..3).map(|a| Affine::axis(a, 3)).collect();
    let c0 = Affine::constant(0, 3);
    let frame = vec![c0.clone(), Affine::axis(1, 3), Affine::axis(2, 3)];

    let mut k = Kb::new("k0_mean", &[(t, true), (h, false), (w, false)]).tile(1, 1);
    let v = k.load(xb, DType::F32, id.clone());
    let acc = k.reduce(Accumulate::Stat(ReduceKind::Mean), v, None, false, DType::F32);
    k.store(mean, frame.clone(), acc);
    pb.kernel(k.done());

    let mut k = Kb::new("k1_sub", &[(t, false), (h, false), (w, false)]).tile(0, 1);
    let v = k.load(xb, DType::F32, id.clone());
    let m = k.load(mean, DType::F32, frame);
    let d = k.bin(BinaryOp::Sub, v, m);
    k.store(db, id.clone(), d);
    pb.kernel(k.done());

    let mut k = Kb::new("k2_std", &[(t, false), (h, true), (w, true)]).tile(0, 1);
    let v = k.load(db, DType::F32, id);
    let acc = k.reduce(Accumulate::Stat(ReduceKind::Std), v, None, false, DType::F32);
    k.store(sb, vec![Affine::axis(0, 3), c0.clone(), c0], acc);
    pb.kernel(k.done());
    pb.build()
}

#[test]
fn one_two_and_seven_threads_give_the_same_bits() {
    let (t, h, w) = (9, 3, 4);
    let data = f32_data(&[t, h, w], 11, 17);
    let x_in = ArrayView::F32(data.view());
    let b = Builder::new();
    let x = b.input("x", DType::F32, [None, Some(h), Some(w)]);
    let d = &x - &x.reduce(Stat::Mean, &[0]);
    let s = d.reduce(Stat::Std, &[1, 2]);
    let graph = b.build([("d", &d), ("s", &s)]).unwrap();
    let plan = three_kernels(t, h, w);
    assert!(plan.kernels[1..].iter().all(|k| k.tiles() >= 8));
    assert!(plan.kernels.iter().all(tiles_are_independent));

    let want = run_graph(&graph, &[("x", x_in.clone())], &[]);
    let one = run_plan(&plan, 1, &[("x", x_in.clone())], &[]);
    assert_all_same("1 thread vs interpreter", &one, &want);
    for threads in [2, 7] {
        let many = run_plan(&plan, threads, &[("x", x_in.clone())], &[]);
        assert_all_same(&format!("{threads} threads vs 1"), &many, &one);
    }
}

#[test]
fn tiles_writing_shared_elements_are_not_run_concurrently() {
    let mut pb = Pb::new();
    let xb = pb.input("x", DType::F32, &[4, 2]);
    let yb = pb.output("y", DType::F32, &[4, 2]);
    let zb = pb.output("z", DType::F32, &[1, 2]);
    let id = vec![Affine::axis(0, 2), Affine::axis(1, 2)];
    let mut k = Kb::new("k0", &[(4, false), (2, false)]).tile(0, 1);
    let v = k.load(xb, DType::F32, id.clone());
    k.store(yb, id.clone(), v);
    assert!(tiles_are_independent(&k.clone_kernel()));
    // Every tile (frame) writes row 0 of z: the tiles must not run concurrently.
    k.store(zb, vec![Affine::constant(0, 2), Affine::axis(1, 2)], v);
    assert!(!tiles_are_independent(&k.clone_kernel()));
    pb.kernel(k.done());
    // The sequential fallback still runs every tile, in order: z holds the last frame.
    let plan = pb.build();
    let data = f32_data(&[4, 2], 12, 0);
    let out = run_plan(&plan, 3, &[("x", ArrayView::F32(data.view()))], &[]);
    let last = data.slice(ndarray::s![3..4, ..]).to_owned().into_dyn();
    assert_same("z", &out[1], &rumba_ir::Array::F32(last));
}
