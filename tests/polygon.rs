//! Polygon apply by row spans (the JIT runs each row as alternating runs outside and inside
//! the polygon's spans, no per-pixel test): JIT ≡ evaluator ≡ interpreter bit for bit on
//! polygons whose spans start and end at the image edges, rows with several spans
//! (concave and self-intersecting shapes), rows the polygon misses, vertices outside the
//! image, every width from 1 to 33 (vector groups and scalar tails), fill 0 and NaN, u8 and f32
//! stacks with one and three channels, and reversed (strided) inputs.

mod support;

use rumba::dsl::Builder;
use rumba::{Array, ArrayView, Backend, DType, Options};
use std::collections::BTreeMap;

/// Shapes in pixel units of a `w × h` image (x along W, y along H).
fn polygons(w: f64, h: f64) -> Vec<(&'static str, Vec<[f64; 2]>)> {
    vec![
        (
            "covers everything",
            vec![[-5.0, -5.0], [w + 5.0, -5.0], [w + 5.0, h + 5.0], [-5.0, h + 5.0]],
        ),
        (
            "left edge to middle",
            vec![[0.0, 0.0], [w / 2.0, 0.0], [w / 2.0, h], [0.0, h]],
        ),
        (
            "a U: two spans per row",
            vec![
                [0.5, 0.5],
                [w - 0.5, 0.5],
                [w - 0.5, h - 0.5],
                [w * 0.7, h - 0.5],
                [w * 0.7, h * 0.3],
                [w * 0.3, h * 0.3],
                [w * 0.3, h - 0.5],
                [0.5, h - 0.5],
            ],
        ),
        (
            "a pentagram (even-odd)",
            vec![
                [w * 0.5, 0.0],
                [w * 0.8, h],
                [0.0, h * 0.35],
                [w, h * 0.35],
                [w * 0.2, h],
            ],
        ),
        (
            "a thin diagonal, rows it misses",
            vec![[0.0, 1.2], [w, 1.7], [w, 2.3], [0.0, 1.9]],
        ),
    ]
}

fn stack(dtype: DType, shape: &[usize]) -> Array {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|k| ((k * 37 + 11) % 251) as f64).collect();
    let s = ndarray::IxDyn(shape);
    match dtype {
        DType::U8 => Array::U8(ndarray::ArrayD::from_shape_vec(s, v.iter().map(|&x| x as u8).collect()).unwrap()),
        _ => Array::F32(ndarray::ArrayD::from_shape_vec(s, v.iter().map(|&x| x as f32 - 100.0).collect()).unwrap()),
    }
}

fn run(graph: &rumba::Graph, x: ArrayView<'_>, backend: Backend) -> Array {
    let inputs = [("x", x)];
    let options = Options {
        backend,
        ..Options::default()
    };
    let exe = rumba::compile(graph, &rumba::input_specs(&inputs), &options).expect("compiles");
    if backend == Backend::Jit {
        assert_eq!(exe.backend(), Backend::Jit);
    }
    exe.run(&inputs, &BTreeMap::new()).expect("runs").remove(0).1
}

#[test]
fn polygon_apply_by_spans_matches_the_interpreter() {
    let mut checked = 0;
    for dtype in [DType::U8, DType::F32] {
        for (w, c) in (1..=33).map(|w| (w, 1)).chain([(9, 3), (17, 3)]) {
            let h = 7;
            let x = stack(dtype, &[3, h, w, c]);
            for (name, vertices) in polygons(w as f64, h as f64) {
                for fill in [0.0, f64::NAN] {
                    let b = Builder::new();
                    let xin = b.input("x", dtype, [None, None, None, None]);
                    let graph = b.build([("out", &xin.apply_polygon(&vertices, fill))]).expect("valid");
                    let what = format!("{name}, {dtype} (3, {h}, {w}, {c}), fill {fill}");
                    let want = rumba_interp::evaluate(&graph, &[("x", x.view())], &BTreeMap::new())
                        .expect("interpreter")
                        .remove(0)
                        .1;
                    for backend in [Backend::Eval, Backend::Jit] {
                        let got = run(&graph, x.view(), backend);
                        support::same_bits(&got.view(), &want.view())
                            .unwrap_or_else(|e| panic!("{what}, {backend}: {e}"));
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 2 * 35 * 5 * 2);
}

#[test]
fn reversed_inputs_take_the_scalar_runs_and_agree() {
    let x = stack(DType::F32, &[2, 6, 20, 1]);
    let Array::F32(a) = &x else { unreachable!() };
    let reversed = a.slice(ndarray::s![.., ..;-1, ..;-1, ..]).into_dyn();
    for (name, vertices) in polygons(20.0, 6.0) {
        let b = Builder::new();
        let xin = b.input("x", DType::F32, [None, None, None, Some(1)]);
        let graph = b.build([("out", &xin.apply_polygon(&vertices, 0.0))]).expect("valid");
        let view = ArrayView::F32(reversed.view());
        let want = rumba_interp::evaluate(&graph, &[("x", view.clone())], &BTreeMap::new())
            .expect("interpreter")
            .remove(0)
            .1;
        let got = run(&graph, view, Backend::Jit);
        support::same_bits(&got.view(), &want.view()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Polygons with coordinates far beyond f64's safe products (±1e200, ±f64::MAX) that enclose
/// the image cover every pixel on every backend — as the small enclosing square does — and
/// an ROI over one of them is the whole frame's mean (the defined crossing expression would
/// overflow and lose every pixel; `rumba_ir::polygon::crossing`).
#[test]
fn huge_enclosing_polygons_cover_every_pixel() {
    let (h, w) = (7, 9);
    let x = stack(DType::F32, &[3, h, w, 1]);
    let big = 1e200;
    let huge: [Vec<[f64; 2]>; 2] = [
        vec![[0.0, -big], [big, 0.0], [0.0, big], [-big, 0.0]],
        vec![[-f64::MAX, -f64::MAX], [f64::MAX, -f64::MAX], [0.0, f64::MAX]],
    ];
    let apply = |vertices: &[[f64; 2]], backend: Backend| {
        let b = Builder::new();
        let xin = b.input("x", DType::F32, [None, None, None, Some(1)]);
        let graph = b
            .build([("out", &xin.apply_polygon(vertices, f64::NAN))])
            .expect("valid");
        run(&graph, x.view(), backend)
    };
    let small = polygons(w as f64, h as f64).remove(0).1;
    for vertices in &huge {
        for backend in [Backend::Interp, Backend::Eval, Backend::Jit] {
            let want = apply(&small, backend);
            let got = apply(vertices, backend);
            support::same_bits(&got.view(), &want.view()).unwrap_or_else(|e| panic!("{vertices:?}, {backend}: {e}"));
            // Nothing filled: the input itself.
            support::same_bits(&got.view(), &x.view()).unwrap_or_else(|e| panic!("{vertices:?}, {backend}: {e}"));
        }
        let b = Builder::new();
        let xin = b.input("x", DType::F32, [None, None, None, Some(1)]);
        let (mean, _, _) = xin.roi_series(vertices);
        let full = xin.reduce(rumba::dsl::Stat::Mean, &[1, 2, 3]);
        let graph = b.build([("roi", &mean), ("full", &full)]).expect("valid");
        let out = run_all(&graph, x.view());
        // The whole-frame mean keeps its reduced axes; the series does not.
        let bits = |a: &Array| a.to_f64_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&out[0]), bits(&out[1]), "{vertices:?}");
    }
}

/// Every output of `graph` on the JIT.
fn run_all(graph: &rumba::Graph, x: ArrayView<'_>) -> Vec<Array> {
    let inputs = [("x", x)];
    let exe = rumba::compile(graph, &rumba::input_specs(&inputs), &Options::default()).expect("compiles");
    exe.run(&inputs, &BTreeMap::new())
        .expect("runs")
        .into_iter()
        .map(|(_, a)| a)
        .collect()
}
