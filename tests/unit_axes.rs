//! Arrays with fewer axes than a C = 1 stack (DESIGN §9): a (T, H, W) array binds as
//! (T, H, W, 1) and an (H, W) array as (1, H, W, 1), without a copy; their C = 1 outputs come
//! back without the C axis — in memory, into caller views, and streamed to files — with the
//! bits of the rank-4 run.

use ndarray::{Array4, ArrayD, Axis};
use rumba::exec::ArrayViewMut;
use rumba::stream::{StreamInput, StreamOptions};
use rumba::{Array, ArrayView, Graph, InputSpec, Options, format};
use std::collections::BTreeMap;

/// Subtract a file reference (1, ?, ?, 1) and keep a per-frame mean curve (T, 1, 1, 1 → no C
/// axis dropped from a rank-1 output).
const GRAPH: &str = r#"{"format": "rumba-graph", "version": 1, "nodes": [
    {"id": "x", "op": "input", "dtype": "u16", "shape": [null, null, null, 1]},
    {"id": "bg", "op": "input", "dtype": "f32", "shape": [1, null, null, 1]},
    {"id": "out", "op": "pipeline", "x": "x", "subtract": {"source": "file", "file": "bg", "amount": 0.5}, "divide": null},
    {"id": "curve", "op": "reduce", "x": "out", "kind": "mean", "axes": [1, 2, 3], "keepdims": false}],
  "outputs": ["out", "curve"]}"#;

fn graph() -> Graph {
    Graph::try_from(format::parse(GRAPH, Some("unit_axes.json")).unwrap()).unwrap()
}

fn stack() -> (ArrayD<u16>, ArrayD<f32>) {
    let x = Array4::from_shape_fn((5, 6, 7, 1), |(t, i, j, _)| (t * 100 + i * 7 + j) as u16).into_dyn();
    let bg = Array4::from_shape_fn((1, 6, 7, 1), |(_, i, j, _)| (i + j) as f32 * 0.25).into_dyn();
    (x, bg)
}

fn specs<'a>(x: &ArrayView<'a>, bg: &ArrayView<'a>) -> Vec<InputSpec> {
    rumba::input_specs(&[("x", x.clone()), ("bg", bg.clone())])
}

#[test]
fn smaller_arrays_bind_as_the_stack_they_stand_for() {
    let (x, bg) = stack();
    let g = graph();
    let full = [("x", ArrayView::U16(x.view())), ("bg", ArrayView::F32(bg.view()))];
    let x3 = x.view().remove_axis(Axis(3));
    let bg2 = bg.view().remove_axis(Axis(3)).remove_axis(Axis(0));
    let reduced = [("x", ArrayView::U16(x3.view())), ("bg", ArrayView::F32(bg2.view()))];
    let empty = BTreeMap::new();
    for backend in [rumba::Backend::Jit, rumba::Backend::Interp] {
        let options = Options {
            backend,
            ..Options::default()
        };
        let expected = rumba::compile(&g, &specs(&full[0].1, &full[1].1), &options)
            .unwrap()
            .run(&full, &empty)
            .unwrap();
        // Compiled for the smaller arrays, run on them: the stack output loses its C axis.
        let exe = rumba::compile(&g, &specs(&reduced[0].1, &reduced[1].1), &options).unwrap();
        let got = exe.run(&reduced, &empty).unwrap();
        assert_eq!(got[0].1.shape(), &[5, 6, 7], "{backend}");
        assert_eq!(got[1].1.shape(), &[5], "{backend}: a rank-1 output is left as it is");
        for ((_, e), (_, g)) in expected.iter().zip(&got) {
            assert_eq!(e.to_f64_vec(), g.to_f64_vec(), "{backend}");
        }
        // The same executable runs rank-4 arrays as they are.
        assert_eq!(exe.run(&full, &empty).unwrap()[0].1.shape(), &[5, 6, 7, 1]);
        // Caller views without the C axis are written in place.
        let mut out = ndarray::ArrayD::<f32>::zeros(vec![5, 6, 7]);
        let mut curve = ndarray::ArrayD::<f32>::zeros(vec![5]);
        let mut views = [ArrayViewMut::F32(out.view_mut()), ArrayViewMut::F32(curve.view_mut())];
        exe.run_into_views(&reduced, &empty, &mut views).unwrap();
        assert_eq!(Array::F32(out).to_f64_vec(), expected[0].1.to_f64_vec());
        assert_eq!(Array::F32(curve).to_f64_vec(), expected[1].1.to_f64_vec());
    }
    // Other ranks are refused, naming the input and the declaration.
    let x2 = x.view().remove_axis(Axis(3)).remove_axis(Axis(2));
    let e = rumba::compile(&g, &specs(&ArrayView::U16(x2.view()), &full[1].1), &Options::default()).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("input \"x\"") && text.contains("rank 4"), "{text}");
}

#[test]
fn streamed_smaller_files_write_outputs_without_the_c_axis() {
    let (x, bg) = stack();
    let dir = tempfile::tempdir().unwrap();
    let x3 = Array::U16(x.clone().remove_axis(Axis(3)));
    let bg2 = Array::F32(bg.clone().remove_axis(Axis(3)).remove_axis(Axis(0)));
    let (xp, bgp) = (dir.path().join("x.npy"), dir.path().join("bg.npy"));
    rumba::npy::write(&xp, &x3).unwrap();
    rumba::npy::write(&bgp, &bg2).unwrap();
    let g = graph();
    let exe = rumba::compile(&g, &specs(&x3.view(), &bg2.view()), &Options::default()).unwrap();
    let expected = exe
        .run(&[("x", x3.view()), ("bg", bg2.view())], &BTreeMap::new())
        .unwrap();
    let out = dir.path().join("out");
    let options = StreamOptions {
        memory_budget: 4096, // many chunks
        ..StreamOptions::default()
    };
    let inputs = [("x", StreamInput::File(&xp)), ("bg", StreamInput::File(&bgp))];
    exe.run_to_files(&inputs, &BTreeMap::new(), &out, &options).unwrap();
    for (name, e) in &expected {
        let got = rumba::npy::read(&out.join(format!("{name}.npy"))).unwrap();
        assert_eq!(got.view().shape(), e.shape(), "{name}");
        assert_eq!(got.view().to_f64_vec(), e.to_f64_vec(), "{name}");
    }
}
