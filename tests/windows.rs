//! Running windows (DESIGN §5, `rumba_plan::running`) against the interpreter and against
//! themselves.
//!
//! Every window statistic, on u8, u16, i32, f32 and f64 stacks (floats with NaN and ±Inf, and
//! offset data 10⁶ + U(0, 1)), with windows of 1, 2, 3, 7, T − 1, T and T + 1 values, along T
//! and along W:
//! - the JIT and the evaluator agree bit for bit, and so does every tile length along the
//!   running axis (1, 2, 3, 5, 7, 11 and whole restart periods: tiles that start between restart
//!   points) and every thread count;
//! - exact algorithms (integer sums and moments, min/max, order statistics) equal the
//!   interpreter bit for bit; float running sums and means agree within
//!   `4·size·2⁻⁵³·Σ|x|` over the values absorbed since the last restart (plus the final
//!   rounding), float running var/std within the analogous bound on their shifted sums;
//! - the offset data meets the fixtures' std rule (rtol 10⁻⁶, atol 10⁻⁶).

mod support;

use rumba::dsl::{Builder, Stat};
use rumba::{Array, ArrayView, Backend, DType, Graph, Options};
use rumba_plan::running::Algorithm;
use std::collections::BTreeMap;

const U: f64 = f64::EPSILON / 2.0;

/// splitmix64 of (seed, k) as a U(0, 1) f64.
fn uniform(seed: u64, k: u64) -> f64 {
    let mut z = seed
        .wrapping_mul(0xd1b5_4a32_d192_ed03)
        .wrapping_add(k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// What the values of a stack look like.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Data {
    /// The dtype's range (floats: mixed magnitudes around 0).
    Plain,
    /// Floats with NaN, +Inf and −Inf sprinkled in.
    Specials,
    /// 10⁶ + U(0, 1).
    Offset,
}

fn stack(dtype: DType, shape: &[usize], data: Data, seed: u64) -> Array {
    let n: usize = shape.iter().product();
    let value = |k: usize| {
        let u = uniform(seed, k as u64);
        match (dtype, data) {
            (DType::U8, _) => (u * 256.0).floor(),
            (DType::U16, _) => (u * 65536.0).floor(),
            (DType::I32, _) => (u * 2e6).floor() - 1e6,
            (_, Data::Offset) => 1e6 + u,
            (_, Data::Specials) if u < 0.04 => f64::NAN,
            (_, Data::Specials) if u < 0.06 => f64::INFINITY,
            (_, Data::Specials) if u < 0.08 => f64::NEG_INFINITY,
            _ => (u - 0.5) * 10f64.powi((uniform(seed + 1, k as u64) * 6.0) as i32 - 2),
        }
    };
    let values: Vec<f64> = (0..n).map(value).collect();
    let shape = ndarray::IxDyn(shape);
    fn array<T>(shape: ndarray::IxDyn, values: &[f64], f: impl Fn(f64) -> T) -> ndarray::ArrayD<T> {
        ndarray::ArrayD::from_shape_vec(shape, values.iter().map(|&v| f(v)).collect()).expect("shape")
    }
    match dtype {
        DType::U8 => Array::U8(array(shape, &values, |v| v as u8)),
        DType::U16 => Array::U16(array(shape, &values, |v| v as u16)),
        DType::I32 => Array::I32(array(shape, &values, |v| v as i32)),
        DType::F32 => Array::F32(array(shape, &values, |v| v as f32)),
        _ => Array::F64(array(shape, &values, |v| v)),
    }
}

fn graph(dtype: DType, stat: Stat, axis: usize, size: usize, skip_nan: bool) -> Graph {
    let b = Builder::new();
    let x = b.input("x", dtype, [None, None, None, None]);
    b.build([("out", &x.window(stat, axis, size as i64, skip_nan))])
        .expect("a valid window")
}

fn reduce_graph(dtype: DType, stat: Stat, axes: &[usize]) -> Graph {
    let b = Builder::new();
    let x = b.input("x", dtype, [None, None, None, None]);
    b.build([("out", &x.reduce(stat, axes))]).expect("a valid reduce")
}

/// The interpreter's output of a one-output graph of input `x`.
fn interpreter(graph: &Graph, x: &Array) -> Array {
    rumba_interp::evaluate(graph, &[("x", x.view())], &BTreeMap::new())
        .expect("interpreter")
        .remove(0)
        .1
}

fn run(graph: &Graph, x: &Array, options: &Options) -> (Array, rumba::Plan) {
    let inputs = [("x", x.view())];
    let exe = rumba::compile(graph, &rumba::input_specs(&inputs), options).expect("compiles");
    if options.backend == Backend::Jit {
        assert_eq!(exe.backend(), Backend::Jit, "every kernel compiles");
    }
    let out = exe.run(&inputs, &BTreeMap::new()).expect("runs").remove(0).1;
    (out, exe.plan().expect("a plan").clone())
}

/// The algorithm of the plan's running window, if it has one.
fn algorithm(plan: &rumba::Plan) -> Option<Algorithm> {
    plan.kernels
        .iter()
        .find(|k| k.running.is_some())
        .and_then(|k| k.window_spec(0))
        .map(|s| s.algorithm())
}

/// Checks a float running window's output against the interpreter's, element by element:
/// both NaN, equal infinities, or finite within the bound of the module docs.
fn within_tolerance(
    x: &Array,
    got: &Array,
    want: &Array,
    (stat, axis, size, skip_nan): (Stat, usize, usize, bool),
) -> Result<(), String> {
    let (xv, gv, wv) = (x.to_f64_vec(), got.to_f64_vec(), want.to_f64_vec());
    let (xs, os) = (x.shape().to_vec(), got.shape().to_vec());
    let strides = |s: &[usize]| {
        let mut st = vec![1usize; s.len()];
        for a in (0..s.len().saturating_sub(1)).rev() {
            st[a] = st[a + 1] * s[a + 1];
        }
        st
    };
    let (xst, ost) = (strides(&xs), strides(&os));
    let f32_out = got.dtype() == DType::F32;
    for (i, (&g, &w)) in gv.iter().zip(&wv).enumerate() {
        if w.is_nan() || w.is_infinite() || g.is_nan() || g.is_infinite() {
            if g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()) {
                continue;
            }
            return Err(format!("element {i}: expected {w}, found {g}"));
        }
        // The output point, and its lane's values from the restart point to the window's end.
        let point: Vec<usize> = ost.iter().zip(&os).map(|(&s, &e)| i / s % e).collect();
        let k = point[axis];
        let restart = k / size * size;
        let at = |t: usize| {
            let mut p = point.clone();
            p[axis] = t;
            xv[p.iter().zip(&xst).map(|(a, b)| a * b).sum::<usize>()]
        };
        let finite = |t: &usize| at(*t).is_finite();
        let span: Vec<f64> = (restart..k + size).filter(finite).map(at).collect();
        let window: Vec<f64> = (k..k + size).filter(finite).map(at).collect();
        let n = window.len().max(1) as f64;
        let bound = match stat {
            Stat::Sum | Stat::Mean => {
                let sum_abs: f64 = span.iter().map(|v| v.abs()).sum();
                let b = 4.0 * size as f64 * U * sum_abs;
                if stat == Stat::Mean { b / n } else { b }
            }
            _ => {
                // Shifted sums of squares: the running shift (first finite value since the
                // restart) and the interpreter's (the window's first value).
                let shift = |v: &[f64]| v.first().copied().unwrap_or(0.0);
                let squares = |v: &[f64], a: f64| v.iter().map(|x| (x - a) * (x - a)).sum::<f64>();
                let var_bound =
                    16.0 * size as f64 * U * (squares(&span, shift(&span)) + squares(&window, shift(&window))) / n;
                if stat == Stat::Std { var_bound.sqrt() } else { var_bound }
            }
        };
        let rounding = if f32_out {
            f64::from(f32::EPSILON) * g.abs().max(w.abs())
        } else {
            0.0
        };
        if (g - w).abs() > bound + rounding {
            return Err(format!(
                "element {i} (k = {k}, skip_nan {skip_nan}): expected {w}, found {g}, |diff| {:e} > bound {:e}",
                (g - w).abs(),
                bound + rounding
            ));
        }
    }
    Ok(())
}

const STATS: [Stat; 8] = [
    Stat::Sum,
    Stat::Mean,
    Stat::Var,
    Stat::Std,
    Stat::Min,
    Stat::Max,
    Stat::Median,
    Stat::Percentile(30.0),
];

/// One window on one stack under every configuration.
fn check_window(x: &Array, stat: Stat, axis: usize, size: usize, skip_nan: bool) {
    let g = graph(x.dtype(), stat, axis, size, skip_nan);
    let what = format!(
        "{stat:?} along {axis}, size {size}, skip_nan {skip_nan}, {} {:?}",
        x.dtype(),
        x.shape()
    );
    let want = interpreter(&g, x);
    let base = Options {
        backend: Backend::Eval,
        ..Options::default()
    };
    let (first, plan) = run(&g, x, &base);
    match algorithm(&plan) {
        Some(Algorithm::FloatSum | Algorithm::Shifted) => {
            within_tolerance(x, &first, &want, (stat, axis, size, skip_nan)).unwrap_or_else(|e| panic!("{what}: {e}"));
        }
        _ => support::same_bits(&first.view(), &want.view()).unwrap_or_else(|e| panic!("{what}: {e}")),
    }
    for backend in [Backend::Eval, Backend::Jit] {
        for (threads, tile_points) in [(1, 1 << 20), (2, 1), (3, 37)] {
            let options = Options {
                backend,
                threads,
                tile_points,
                ..Options::default()
            };
            let (got, _) = run(&g, x, &options);
            support::same_bits(&got.view(), &first.view())
                .unwrap_or_else(|e| panic!("{what}, {backend}, {threads} threads, {tile_points}-point tiles: {e}"));
        }
    }
    // Tiles along the running axis that start between restart points, on both backends.
    let Some(kernel) = plan.kernels.iter().position(|k| k.running.is_some()) else {
        return;
    };
    let running = plan.kernels[kernel].running.clone().expect("running");
    let extent = plan.kernels[kernel].domain[running.axis].extent;
    for len in [1, 2, 3, 5, 7, 11, running.restart.unwrap_or(4) * 2] {
        let mut p = plan.clone();
        p.kernels[kernel].schedule.tile_axis = Some(running.axis);
        p.kernels[kernel].schedule.tile_len = len.min(extent);
        for native in [false, true] {
            let got = run_plan(&p, x, native);
            support::same_bits(&got.view(), &first.view())
                .unwrap_or_else(|e| panic!("{what}, {len}-output tiles along the running axis (jit {native}): {e}"));
        }
    }
}

/// Runs a hand-scheduled plan on the evaluator or with every kernel compiled by the JIT.
fn run_plan(plan: &rumba::Plan, x: &Array, native: bool) -> Array {
    let executor = rumba::exec::Executor::new(2).expect("threads");
    let compiled: Vec<Option<rumba_jit::CompiledKernel>> = plan
        .kernels
        .iter()
        .map(|k| native.then(|| rumba_jit::Jit::new().expect("jit").compile(plan, k).expect("compiles")))
        .collect();
    let natives: Vec<_> = compiled.iter().map(|c| c.as_ref().map(|c| c.function())).collect();
    executor
        .run_native(plan, &natives, &[("x", x.view())], &BTreeMap::new())
        .expect("runs")
        .remove(0)
        .1
}

#[test]
fn every_statistic_along_t_on_every_dtype() {
    // Windows T − 1 and T exceed `NETWORK_MAX_VALUES`: u8/u16 medians run both their
    // per-window selection network and their running state.
    let t = 30;
    let cases = [
        (DType::U8, Data::Plain),
        (DType::U16, Data::Plain),
        (DType::I32, Data::Plain),
        (DType::F32, Data::Specials),
        (DType::F64, Data::Specials),
        (DType::F32, Data::Plain),
    ];
    for (seed, (dtype, data)) in cases.into_iter().enumerate() {
        // W = 9 and 2 channels: vector groups and their scalar tails in every lane row.
        let x = stack(dtype, &[t, 3, 9, 2], data, seed as u64);
        for stat in STATS {
            for size in [1, 2, 3, 7, t - 1, t, t + 1] {
                for skip_nan in [false, true] {
                    if skip_nan && !dtype.is_float() {
                        continue;
                    }
                    check_window(&x, stat, 0, size, skip_nan);
                }
            }
        }
    }
}

#[test]
fn windows_along_an_inner_axis_run_with_scalar_state() {
    let x = stack(DType::F32, &[4, 3, 21, 1], Data::Specials, 11);
    for stat in STATS {
        for size in [2, 5, 21] {
            check_window(&x, stat, 2, size, false);
        }
    }
}

#[test]
fn offset_data_meets_the_fixtures_std_rule() {
    // 10⁶ + U(0, 1): E[x²] − E[x]² loses ~1e-4 here; the shifted running sums do not.
    for dtype in [DType::F32, DType::F64] {
        let x = stack(dtype, &[60, 2, 17, 1], Data::Offset, 3);
        for size in [3, 10, 37] {
            let g = graph(dtype, Stat::Std, 0, size, false);
            let want = interpreter(&g, &x);
            for backend in [Backend::Eval, Backend::Jit] {
                let options = Options {
                    backend,
                    ..Options::default()
                };
                let (got, plan) = run(&g, &x, &options);
                assert_eq!(algorithm(&plan), Some(Algorithm::Shifted));
                support::compare(&got.view(), &want.view(), 1e-6, 1e-6)
                    .unwrap_or_else(|e| panic!("{dtype} std, window {size}, {backend}: {e}"));
            }
        }
    }
}

#[test]
fn the_plan_says_which_windows_run_and_how() {
    let x = stack(DType::U8, &[30, 4, 16, 1], Data::Plain, 5);
    let expect = [
        (Stat::Mean, 6, Algorithm::IntSum, None),
        (Stat::Std, 6, Algorithm::IntMoments, None),
        (Stat::Median, 25, Algorithm::Histogram, None),
    ];
    for (stat, size, algo, restart) in expect {
        let (_, plan) = run(&graph(DType::U8, stat, 0, size, false), &x, &Options::default());
        let k = plan
            .kernels
            .iter()
            .find(|k| k.running.is_some())
            .expect("a running kernel");
        assert_eq!(k.window_spec(0).map(|s| s.algorithm()), Some(algo), "{stat:?}");
        assert_eq!(k.running.as_ref().map(|r| r.restart), Some(restart), "{stat:?}");
        assert!(plan.to_string().contains("running window along i0"), "{plan}");
    }
    // min/max run van Herk–Gil-Werman, restarting every window; float min/max that skip NaN
    // keep their per-window form.
    let (_, plan) = run(&graph(DType::U8, Stat::Max, 0, 6, false), &x, &Options::default());
    assert_eq!(algorithm(&plan), Some(Algorithm::Extreme));
    let k = plan
        .kernels
        .iter()
        .find(|k| k.running.is_some())
        .expect("a running max");
    assert_eq!(k.running.as_ref().map(|r| r.restart), Some(Some(6)));
    let xf = stack(DType::F32, &[30, 4, 16, 1], Data::Plain, 5);
    let (_, plan) = run(&graph(DType::F32, Stat::Min, 0, 6, false), &xf, &Options::default());
    assert_eq!(algorithm(&plan), Some(Algorithm::Extreme));
    let (_, plan) = run(&graph(DType::F32, Stat::Min, 0, 6, true), &xf, &Options::default());
    assert!(plan.kernels.iter().all(|k| k.running.is_none()));
    let (_, plan) = run(&graph(DType::F32, Stat::Mean, 0, 6, false), &xf, &Options::default());
    assert_eq!(algorithm(&plan), Some(Algorithm::FloatSum));
    // Short u8/u16 median windows are selected per window (a network in the JIT).
    let max = rumba_plan::running::NETWORK_MAX_VALUES;
    let (_, plan) = run(&graph(DType::U8, Stat::Median, 0, max, false), &x, &Options::default());
    assert!(plan.kernels.iter().all(|k| k.running.is_none()));
    // Disabled, every window is reduced from its values.
    let options = Options {
        disabled_passes: vec![rumba::RUNNING_WINDOWS.into()],
        ..Options::default()
    };
    let (_, plan) = run(&graph(DType::U8, Stat::Mean, 0, 6, false), &x, &options);
    assert!(plan.kernels.iter().all(|k| k.running.is_none()));
}

#[test]
fn arrays_of_other_layouts_give_the_same_bits() {
    // A reversed, strided view: the vector paths fall back to scalar loops, same results.
    let x = stack(DType::F32, &[20, 3, 18, 1], Data::Specials, 9);
    let Array::F32(a) = &x else { unreachable!() };
    let view = a.slice(ndarray::s![.., .., ..;-2, ..]).into_dyn();
    let owned = Array::F32(view.to_owned());
    let g = graph(DType::F32, Stat::Mean, 0, 4, true);
    for backend in [Backend::Eval, Backend::Jit] {
        let options = Options {
            backend,
            ..Options::default()
        };
        let inputs = [("x", ArrayView::F32(view.view()))];
        let exe = rumba::compile(&g, &rumba::input_specs(&inputs), &options).expect("compiles");
        let strided = exe.run(&inputs, &BTreeMap::new()).expect("runs").remove(0).1;
        let (contiguous, _) = run(&g, &owned, &options);
        support::same_bits(&strided.view(), &contiguous.view()).unwrap_or_else(|e| panic!("{backend}: {e}"));
    }
}

#[test]
fn short_u8_and_u16_order_statistics_match_the_interpreter() {
    // Medians and percentiles of 2 … NETWORK_MAX_VALUES + 1 values (the JIT's selection
    // network up to the limit, keys beyond it), over T and over (T, H), on rows of 1, 15, 16,
    // 17 and 40 lanes: whole vector groups, partial ones and scalar tails. Few distinct values,
    // so ties are common; the interpreter sorts.
    let max = rumba_plan::running::NETWORK_MAX_VALUES;
    let stats = [
        Stat::Median,
        Stat::Percentile(0.0),
        Stat::Percentile(37.5),
        Stat::Percentile(50.0),
        Stat::Percentile(100.0),
    ];
    for (seed, dtype) in [DType::U8, DType::U16].into_iter().enumerate() {
        for t in [2, 3, 4, 9, 10, max - 1, max, max + 1] {
            for w in [1, 15, 16, 17, 40] {
                let x = stack(dtype, &[t, 2, w, 1], Data::Plain, seed as u64 + 7 * t as u64);
                let x = match x {
                    Array::U8(a) => Array::U8(a.mapv(|v| v % 5)),
                    Array::U16(a) => Array::U16(a.mapv(|v| v % 5 * 9000)),
                    other => other,
                };
                for stat in stats {
                    for axes in [&[0][..], &[0, 1][..]] {
                        let g = reduce_graph(dtype, stat, axes);
                        let want = interpreter(&g, &x);
                        for threads in [1, 2] {
                            let options = Options {
                                backend: Backend::Jit,
                                threads,
                                ..Options::default()
                            };
                            let (got, _) = run(&g, &x, &options);
                            support::same_bits(&got.view(), &want.view()).unwrap_or_else(|e| {
                                panic!(
                                    "{stat:?} over {axes:?}, {dtype} {:?}, {threads} threads: {e}",
                                    x.shape()
                                )
                            });
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn u16_var_and_std_over_t_with_squares_near_two_to_the_32() {
    // 65535² = 2³² − 131071: the vector path squares in i32 lanes and zero-extends the bits,
    // so a sign extension or a wrapped sum would show here. Rows of 1, 15, 16 and 17 lanes.
    for w in [1, 15, 16, 17] {
        for t in [2, 7, 200] {
            let n = t * 2 * w;
            let values: Vec<u16> = (0..n)
                .map(|k| match k % 5 {
                    0 | 1 => u16::MAX,
                    2 => u16::MAX - 1,
                    3 => 0,
                    _ => (uniform(3, k as u64) * 65536.0) as u16,
                })
                .collect();
            let x = Array::U16(ndarray::ArrayD::from_shape_vec(vec![t, 2, w, 1], values).expect("shape"));
            for stat in [Stat::Var, Stat::Std] {
                let g = reduce_graph(DType::U16, stat, &[0]);
                let want = interpreter(&g, &x);
                let options = Options {
                    backend: Backend::Jit,
                    ..Options::default()
                };
                let (got, _) = run(&g, &x, &options);
                support::same_bits(&got.view(), &want.view())
                    .unwrap_or_else(|e| panic!("{stat:?} over T, u16 [{t}, 2, {w}, 1]: {e}"));
            }
        }
    }
}
