//! The JIT's vector paths against the plan evaluator, bit for bit (DESIGN §5): every form the
//! translator vectorizes (elementwise u8/u16/i32/f32 chains with casts, min/max, select,
//! nan_to_num and comparisons; sum/mean/min/max/var/std over T; window statistics), on
//! inner extents that hit every tail case, with NaN, ±Inf, −0.0, denormals and integer edge
//! values, through contiguous inputs (the vector loops) and permuted, reversed and strided
//! views (which must take the scalar loops at run time), on 1 and 2 threads with whole and
//! one-iteration tiles (so vector loops also start and stop inside a row).

use ndarray::{ArrayD, IxDyn, s};
use rumba::dsl::{Builder, Stat, Step, Tensor};
use rumba::{Array, ArrayView, Backend, DType, Graph, Options};
use std::collections::BTreeMap;

/// Inner extents: below, at and around one vector group (16 points) and two.
const WIDTHS: [usize; 8] = [1, 3, 4, 5, 15, 16, 17, 33];
const T: usize = 5;
const H: usize = 2;

/// Special f32 values every float input contains.
const SPECIAL: [f32; 12] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    -0.0,
    0.0,
    1.0e-40,
    -1.0e-40,
    f32::MAX,
    f32::MIN,
    1.0,
    -2.5,
    3.0e9,
];

/// A deterministic value of `dtype` for element `k`: edge values often, else a spread.
fn value(dtype: DType, k: usize, seed: usize) -> f64 {
    let h = (k.wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)) % 1000;
    match dtype {
        DType::U8 => [0.0, 255.0, 1.0, 128.0, (h % 256) as f64][h % 5],
        DType::U16 => [0.0, 65535.0, 1.0, 255.0, 256.0, (h * 65) as f64][h % 6],
        DType::I32 => [
            f64::from(i32::MIN),
            f64::from(i32::MAX),
            0.0,
            -1.0,
            h as f64 - 500.0,
            1.0e6,
        ][h % 6],
        DType::F32 | DType::F64 => {
            if h.is_multiple_of(3) {
                f64::from(SPECIAL[h % SPECIAL.len()])
            } else {
                (h as f64 - 500.0) / 7.0
            }
        }
        DType::Bool => (h % 2) as f64,
    }
}

/// An owned array of `shape` filled by [`value`].
fn array(dtype: DType, shape: &[usize], seed: usize) -> Array {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|k| value(dtype, k, seed)).collect();
    let shape = IxDyn(shape);
    match dtype {
        DType::U8 => Array::U8(ArrayD::from_shape_vec(shape, v.iter().map(|&x| x as u8).collect()).unwrap()),
        DType::U16 => Array::U16(ArrayD::from_shape_vec(shape, v.iter().map(|&x| x as u16).collect()).unwrap()),
        DType::I32 => Array::I32(ArrayD::from_shape_vec(shape, v.iter().map(|&x| x as i32).collect()).unwrap()),
        DType::F32 => Array::F32(ArrayD::from_shape_vec(shape, v.iter().map(|&x| x as f32).collect()).unwrap()),
        DType::F64 => Array::F64(ArrayD::from_shape_vec(shape, v).unwrap()),
        DType::Bool => Array::Bool(ArrayD::from_shape_vec(shape, v.iter().map(|&x| x != 0.0).collect()).unwrap()),
    }
}

/// How an input view is laid out in memory.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// C-contiguous: the vector loops run.
    Contiguous,
    /// H and W swapped in memory: W has stride H.
    Permuted,
    /// W reversed: stride −1.
    Reversed,
    /// Every other column of a twice-as-wide array: stride 2.
    Strided,
}

const LAYOUTS: [Layout; 4] = [Layout::Contiguous, Layout::Permuted, Layout::Reversed, Layout::Strided];

/// The backing array of an input of logical shape (t, h, w, 1) in `layout`.
fn backing(dtype: DType, [t, h, w]: [usize; 3], layout: Layout, seed: usize) -> Array {
    match layout {
        Layout::Contiguous | Layout::Reversed => array(dtype, &[t, h, w, 1], seed),
        Layout::Permuted => array(dtype, &[t, w, h, 1], seed),
        Layout::Strided => array(dtype, &[t, h, 2 * w, 1], seed),
    }
}

/// The view of `backing` with logical shape (t, h, w, 1).
fn view(backing: &Array, layout: Layout) -> ArrayView<'_> {
    macro_rules! lay {
        ($a:expr) => {
            match layout {
                Layout::Contiguous => $a.view().into(),
                Layout::Permuted => $a.view().permuted_axes(IxDyn(&[0, 2, 1, 3])).into(),
                Layout::Reversed => $a.slice(s![.., .., ..;-1, ..]).into_dyn().into(),
                Layout::Strided => $a.slice(s![.., .., ..;2, ..]).into_dyn().into(),
            }
        };
    }
    match backing {
        Array::U8(a) => lay!(a),
        Array::U16(a) => lay!(a),
        Array::I32(a) => lay!(a),
        Array::F32(a) => lay!(a),
        Array::F64(a) => lay!(a),
        Array::Bool(a) => lay!(a),
    }
}

/// Whether two arrays hold the same bits in DESIGN §5's sense: any NaN equals any NaN, and
/// −0.0 equals +0.0.
fn same_bits(a: &Array, b: &Array) -> Result<(), String> {
    if a.dtype() != b.dtype() || a.shape() != b.shape() {
        return Err(format!(
            "{} {:?} vs {} {:?}",
            a.dtype(),
            a.shape(),
            b.dtype(),
            b.shape()
        ));
    }
    let bits = |x: &Array| -> Vec<u64> {
        match x {
            Array::F32(v) => v
                .iter()
                .map(|f| {
                    if f.is_nan() {
                        u64::MAX
                    } else {
                        u64::from((f + 0.0).to_bits())
                    }
                })
                .collect(),
            Array::F64(v) => v
                .iter()
                .map(|f| if f.is_nan() { u64::MAX } else { (f + 0.0).to_bits() })
                .collect(),
            other => other.to_f64_vec().iter().map(|f| f.to_bits()).collect(),
        }
    };
    let (ab, bb) = (bits(a), bits(b));
    match ab.iter().zip(&bb).position(|(x, y)| x != y) {
        None => Ok(()),
        Some(i) => Err(format!(
            "element {i} (flat): jit {} vs eval {}",
            a.to_f64_vec()[i],
            b.to_f64_vec()[i]
        )),
    }
}

fn options(backend: Backend, threads: usize, tile_points: usize) -> Options {
    Options {
        backend,
        threads,
        tile_points,
        ..Options::default()
    }
}

/// Run-time errors both backends reported (the same one).
static ERRORS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs `graph` on the JIT (strict) and the evaluator and compares every output.
fn check(what: &str, graph: &Graph, inputs: &[(&str, ArrayView<'_>)]) {
    let specs = rumba::input_specs(inputs);
    let params = BTreeMap::new();
    let eval = match rumba::compile(graph, &specs, &options(Backend::Eval, 1, 1 << 20)) {
        Ok(eval) => eval,
        Err(e) => {
            // A binding error (a polygon with no pixel inside a narrow image) is the graph's.
            let jit = rumba::compile(graph, &specs, &options(Backend::Jit, 1, 1 << 20));
            assert_eq!(jit.err().map(|j| j.to_string()), Some(e.to_string()), "{what}");
            return;
        }
    };
    let expected = eval.run(inputs, &params).map_err(|e| e.to_string());
    for (threads, tile_points) in [(1, 1 << 20), (2, 1)] {
        let jit = rumba::compile(graph, &specs, &options(Backend::Jit, threads, tile_points))
            .unwrap_or_else(|e| panic!("{what}: jit compile: {e}"));
        let got = jit.run(inputs, &params).map_err(|e| e.to_string());
        // A run-time error (an integer min/max over a lane its mask left empty) must be the
        // same error.
        let (got, expected) = match (got, &expected) {
            (Ok(g), Ok(e)) => (g, e),
            (Err(g), Err(e)) => {
                assert_eq!(&g, e, "{what}: the same run-time error");
                ERRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
            (g, e) => panic!("{what}: jit {:?} vs eval {:?}", g.err(), e.as_ref().err()),
        };
        for ((name, a), (_, b)) in got.iter().zip(expected) {
            same_bits(a, b)
                .unwrap_or_else(|e| panic!("{what} ({threads} threads, tile_points {tile_points}) {name}: {e}"));
        }
    }
}

/// Runs a one-input graph on every width and layout.
fn each_shape(what: &str, dtype: DType, make: impl Fn(&Builder, &Tensor) -> Vec<(&'static str, Tensor)>) {
    each_shape_of(what, dtype, T, H, &WIDTHS, &LAYOUTS, make);
}

/// Runs a one-input graph of (t, h, w, 1) inputs on the given widths and layouts.
fn each_shape_of(
    what: &str,
    dtype: DType,
    t: usize,
    h: usize,
    widths: &[usize],
    layouts: &[Layout],
    make: impl Fn(&Builder, &Tensor) -> Vec<(&'static str, Tensor)>,
) {
    let b = Builder::new();
    let x = b.input("x", dtype, [None, None, None, Some(1)]);
    let outputs = make(&b, &x);
    let graph = b
        .build(outputs.iter().map(|(n, t)| (*n, t)))
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    for &w in widths {
        for &layout in layouts {
            let data = backing(dtype, [t, h, w], layout, w);
            let inputs = [("x", view(&data, layout))];
            check(&format!("{what} {dtype} {t}x{h}x{w} {layout:?}"), &graph, &inputs);
        }
    }
}

const NUMERIC: [DType; 4] = [DType::U8, DType::U16, DType::I32, DType::F32];

#[test]
fn elementwise_casts_to_every_dtype() {
    for dtype in NUMERIC {
        each_shape("casts", dtype, |_, x| {
            vec![
                ("f32", x.cast(DType::F32)),
                ("u8", x.cast(DType::U8)),
                ("u16", x.cast(DType::U16)),
                ("i32", x.cast(DType::I32)),
                ("bool", x.cast(DType::Bool)),
                ("back", x.cast(DType::F32).cast(dtype)),
                ("bool_f32", x.cast(DType::Bool).cast(DType::F32)),
                ("bool_u8", x.cast(DType::Bool).cast(DType::U8)),
            ]
        });
    }
}

#[test]
fn elementwise_arithmetic_chains() {
    for dtype in NUMERIC {
        each_shape("arith", dtype, |b, x| {
            let p = b.param("p", Some(0.3));
            let f = x.cast(DType::F32);
            let y = &(&f * 0.5) - &(&f / 3.0);
            let z = &(&y + &p) * &f;
            vec![
                ("z", z.clone()),
                ("sqrt", z.abs().sqrt()),
                ("neg", -&f),
                ("exp", (&f * 0.01).exp()),
                ("log", f.abs().log()),
                ("u8", z.cast(DType::U8)),
                ("i32", (&z * 1.0e3).cast(DType::I32)),
            ]
        });
    }
}

#[test]
fn elementwise_min_max_select_and_comparisons() {
    for dtype in NUMERIC {
        each_shape("select", dtype, |b, x| {
            let c = b.param("c", Some(1.0));
            let first = x.slice(0, Some(0), Some(1), 1);
            vec![
                ("min", x.min(&first)),
                ("max", x.max(&first)),
                ("min_c", x.min(&c)),
                ("max_c", x.max(2.0)),
                ("lt", x.lt(&first)),
                ("le", x.le(1.0)),
                ("gt", x.gt(&first)),
                ("ge", x.ge(&c)),
                ("eq", x.eq(&first)),
                ("ne", x.ne(&first)),
                ("sel", x.gt(1.0).select(x, &first)),
                ("sel_c", x.lt(&first).select(&c, 5.0)),
                ("isnan", x.is_nan()),
                ("abs", x.abs()),
                ("bool_sel", x.gt(1.0).select(&x.lt(&first), &x.eq(&first))),
                ("bool_u8", x.gt(1.0).cast(DType::U8).max(&x.lt(&first).cast(DType::U8))),
            ]
        });
    }
}

#[test]
fn elementwise_nan_to_num_and_pipelines() {
    for dtype in NUMERIC {
        each_shape("pipeline", dtype, |b, x| {
            let amount = b.param("amount", Some(0.5));
            let f = x.cast(DType::F32);
            vec![
                ("n2n", (&f / &(&f - 1.0)).nan_to_num(Some(1.0), Some(2.0), Some(-3.0))),
                ("n2n_default", f.nan_to_num(None, None, None)),
                (
                    "range",
                    x.pipeline(
                        Some(Step::range([0, 2], Stat::Mean)),
                        Some(Step::range([0, 2], Stat::Mean).amount(&amount)),
                    ),
                ),
            ]
        });
    }
}

/// Frames of the reduction tests: the jammed loop (8 points, or 1 for f64 accumulators) runs
/// once and leaves a remainder of 3.
const T_REDUCE: usize = 11;

const STATS: [Stat; 6] = [Stat::Sum, Stat::Mean, Stat::Min, Stat::Max, Stat::Var, Stat::Std];

#[test]
fn reductions_over_t() {
    for dtype in NUMERIC {
        for stat in STATS {
            each_shape_of(
                &format!("{stat:?} over T"),
                dtype,
                T_REDUCE,
                H,
                &WIDTHS,
                &LAYOUTS,
                |_, x| vec![("r", x.reduce(stat, &[0]))],
            );
        }
        each_shape_of("mean, std, min", dtype, T_REDUCE, H, &WIDTHS, &LAYOUTS, |_, x| {
            vec![
                ("mean", x.reduce(Stat::Mean, &[0])),
                ("std", x.reduce(Stat::Std, &[0])),
                ("min", x.reduce(Stat::Min, &[0])),
            ]
        });
    }
}

/// var/std over more frames than one jammed group, so the later groups run too: the f32
/// version that keeps its shift without selecting it, and the u16 moments taken two frames
/// at a time (`pmaddwd` of the values shifted by −2¹⁵, whose pair sums of squares reach 2³¹
/// exactly when both are 0). Frames 8·3 + 5: three groups and an odd remainder.
#[test]
fn moments_over_t_past_the_first_jammed_group() {
    const FRAMES: usize = 29;
    let moments = |_: &Builder, x: &Tensor| {
        vec![
            ("var", x.reduce(Stat::Var, &[0])),
            ("std", x.reduce(Stat::Std, &[0])),
            ("mean", x.reduce(Stat::Mean, &[0])),
        ]
    };
    for dtype in NUMERIC {
        each_shape_of("moments over T", dtype, FRAMES, H, &WIDTHS, &LAYOUTS, moments);
    }
    // u16 stacks at the edges: all 0 (every pair at 2³¹), all 65535, and 0/65535 alternating
    // along T (the largest variance), each with a 1-lane tail.
    let b = Builder::new();
    let x = b.input("x", DType::U16, [None, None, None, Some(1)]);
    let outputs = moments(&b, &x);
    let graph = b.build(outputs.iter().map(|(n, t)| (*n, t))).unwrap();
    type Fill = fn(usize, usize) -> u16;
    let fills: [(&str, Fill); 4] = [
        ("zeros", |_, _| 0),
        ("max", |_, _| u16::MAX),
        ("alternating", |t, _| if t % 2 == 0 { 0 } else { u16::MAX }),
        ("lanes", |t, j| if (t + j) % 3 == 0 { 0 } else { u16::MAX - (t as u16) }),
    ];
    for (name, fill) in fills {
        let data = ArrayD::from_shape_fn(IxDyn(&[FRAMES, H, 17, 1]), |i| fill(i[0], i[2]));
        let data = Array::U16(data);
        let expected_zero = name == "zeros" || name == "max";
        check(
            &format!("u16 moments {name}"),
            &graph,
            &[("x", view(&data, Layout::Contiguous))],
        );
        if expected_zero {
            let specs = rumba::input_specs(&[("x", view(&data, Layout::Contiguous))]);
            let jit = rumba::compile(&graph, &specs, &options(Backend::Jit, 1, 1 << 20)).unwrap();
            let out = jit
                .run(&[("x", view(&data, Layout::Contiguous))], &BTreeMap::new())
                .unwrap();
            let (_, var) = out.iter().find(|(n, _)| n == "var").unwrap();
            let Array::F32(var) = var else { panic!("var is f32") };
            assert!(
                var.iter().all(|&v| v == 0.0),
                "u16 moments {name}: a constant stack has variance 0"
            );
        }
    }
}

#[test]
fn reductions_then_transposed() {
    // A reduction kernel, then an elementwise kernel reading its result with a step of H
    // along the innermost axis (the scalar loop).
    for dtype in [DType::U8, DType::F32] {
        for stat in [Stat::Mean, Stat::Max] {
            each_shape_of(
                &format!("{stat:?} transposed"),
                dtype,
                T_REDUCE,
                3,
                &[17, 33],
                &LAYOUTS,
                |_, x| vec![("r", x.reduce(stat, &[0]).permute(&[0, 2, 1, 3]))],
            );
        }
    }
}

#[test]
fn reductions_over_t_in_lane_blocks() {
    // 600 rows of 33 lanes need several blocks of accumulators, the last one partial.
    for dtype in [DType::U8, DType::F32] {
        for stat in STATS {
            let layouts = [Layout::Contiguous, Layout::Permuted];
            each_shape_of(
                &format!("{stat:?} over T in blocks"),
                dtype,
                T_REDUCE,
                600,
                &[33],
                &layouts,
                |_, x| vec![("r", x.reduce(stat, &[0]))],
            );
        }
    }
}

#[test]
fn reductions_with_masks_skip_nan_and_order_statistics() {
    for dtype in NUMERIC {
        each_shape_of("masked", dtype, T_REDUCE, H, &WIDTHS, &LAYOUTS, |_, x| {
            let first = x.slice(0, Some(0), Some(1), 1);
            let mask = x.gt(&first);
            // True at the first frame, so no lane is empty.
            let some = x.ge(&first);
            let mut out = Vec::new();
            for (name, stat) in [("nansum", Stat::Sum), ("nanmean", Stat::Mean), ("nanvar", Stat::Var)] {
                out.push((name, x.reduce_with(stat, &[0], true, true, None)));
            }
            for (name, stat) in [("m_mean", Stat::Mean), ("m_max", Stat::Max), ("m_std", Stat::Std)] {
                out.push((name, x.reduce_with(stat, &[0], true, false, Some(&some))));
            }
            out.push(("e_mean", x.reduce_with(Stat::Mean, &[0], true, false, Some(&mask))));
            out.push(("median", x.reduce(Stat::Median, &[0])));
            out.push(("p90", x.reduce(Stat::Percentile(90.0), &[0])));
            if dtype.is_float() {
                out.push(("nanmax", x.reduce_with(Stat::Max, &[0], true, true, None)));
            }
            out
        });
    }
}

#[test]
fn order_statistics_over_odd_and_even_counts() {
    for dtype in [DType::U8, DType::F32] {
        for t in [5, 6] {
            each_shape_of("order statistics", dtype, t, H, &[17], &LAYOUTS, |_, x| {
                let mut out = vec![("median", x.reduce(Stat::Median, &[0]))];
                for (name, q) in [("p0", 0.0), ("p37", 37.5), ("p100", 100.0)] {
                    out.push((name, x.reduce(Stat::Percentile(q), &[0])));
                }
                out.push(("nanmedian", x.reduce_with(Stat::Median, &[0], true, true, None)));
                out
            });
        }
    }
}

#[test]
fn integer_min_over_an_empty_masked_lane_fails_the_same_way() {
    for dtype in [DType::U8, DType::I32] {
        each_shape_of("empty lane", dtype, T_REDUCE, H, &[17], &LAYOUTS, |_, x| {
            // Nothing exceeds the dtype's maximum: every lane is empty.
            vec![("m", x.reduce_with(Stat::Min, &[0], true, false, Some(&x.gt(3.0e9))))]
        });
    }
    assert!(ERRORS.load(std::sync::atomic::Ordering::Relaxed) >= 2 * LAYOUTS.len());
}

#[test]
fn polygon_regions() {
    // A triangle and a concave polygon (two spans on some rows) over 9 rows of W columns; the
    // masked reductions run over the spans of each row only.
    let shapes: [&[[f64; 2]]; 2] = [
        &[[0.5, 0.5], [30.0, 2.0], [3.0, 8.5]],
        &[[0.0, 0.0], [40.0, 0.0], [40.0, 9.0], [20.0, 3.0], [0.0, 9.0]],
    ];
    for dtype in NUMERIC {
        for vertices in shapes {
            each_shape_of("roi", dtype, T, 9, &WIDTHS, &LAYOUTS, |_, x| {
                let (mean, min, max) = x.roi_series(vertices);
                vec![
                    ("mean", mean),
                    ("min", min),
                    ("max", max),
                    ("apply", x.apply_polygon(vertices, 0.0)),
                ]
            });
        }
    }
}

#[test]
fn reductions_over_inner_axes() {
    for dtype in NUMERIC {
        for stat in STATS {
            for (axes, name) in [(&[1usize, 2][..], "H, W"), (&[2], "W"), (&[0, 1], "T, H")] {
                each_shape(&format!("{stat:?} over {name}"), dtype, |_, x| {
                    vec![("r", x.reduce(stat, axes))]
                });
            }
        }
    }
}

/// Bands of 2 to 15 columns (a reduced innermost run shorter than a vector group: one padded
/// group per row, its outside lanes dropped) at the left edge, in the middle and at the right
/// edge of rows narrower and wider than a group: reduced with the rows (per frame: the vector
/// accumulators carried across the rows), with the frames (rows are lanes) and alone, also
/// through an expression, so every placement of the padded group and the scalar fallback
/// (rows narrower than the group, strided views) meet the evaluator.
#[test]
fn short_bands_padded_at_every_edge() {
    for dtype in NUMERIC {
        for w in [2usize, 7, 8, 9, 16, 20] {
            for n in [2usize, 3, 7, 8, 9, 15].into_iter().filter(|&n| n <= w) {
                let mut starts = vec![0, (w - n) / 2, w - n];
                starts.dedup();
                for c0 in starts {
                    let c = (c0 as i64, (c0 + n) as i64);
                    each_shape_of(&format!("band {c:?} of {w}"), dtype, T, 3, &[w], &LAYOUTS, |_, x| {
                        let band = x.slice(2, Some(c.0), Some(c.1), 1);
                        let wide = &band.cast(DType::F32) * 0.5;
                        vec![
                            ("frame_min", band.reduce(Stat::Min, &[1, 2, 3])),
                            ("frame_max", band.reduce(Stat::Max, &[1, 2, 3])),
                            ("frame_sum", band.reduce(Stat::Sum, &[1, 2, 3])),
                            ("rows_min", band.reduce(Stat::Min, &[0, 2, 3])),
                            ("rows_mean", band.reduce(Stat::Mean, &[0, 2, 3])),
                            ("row_max", band.reduce(Stat::Max, &[2])),
                            ("wide_max", wide.reduce(Stat::Max, &[1, 2, 3])),
                        ]
                    });
                }
            }
        }
    }
}

/// Running float windows (sum/mean/var/std) whose NaN/±Inf counts are zero in most
/// windows: the epilogue's version without counts (taken while no window of a block has held
/// a special value since its rebuild) and the counted one, across restarts, one-row tiles
/// and the windows a special value enters and leaves.
#[test]
fn running_windows_with_a_few_special_values() {
    let (t, h, w) = (40, 9, 20);
    let mut x = ArrayD::<f32>::from_shape_fn(IxDyn(&[t, h, w, 1]), |i| {
        ((i[0] * 31 + i[1] * 7 + i[2] * 3) % 97) as f32 * 0.37 - 11.0
    });
    x[[7, 1, 5, 0]] = f32::NAN;
    x[[25, 0, 3, 0]] = f32::INFINITY;
    x[[26, 0, 3, 0]] = f32::NEG_INFINITY;
    x[[33, 2, 19, 0]] = f32::INFINITY;
    x[[12, 8, 9, 0]] = f32::NEG_INFINITY;
    let data = Array::F32(x);
    for stat in [Stat::Sum, Stat::Mean, Stat::Var, Stat::Std] {
        for size in [3, 10] {
            for skip_nan in [false, true] {
                let b = Builder::new();
                let input = b.input("x", DType::F32, [None, None, None, Some(1)]);
                let out = input.window(stat, 0, size, skip_nan);
                let graph = b.build([("w", &out)]).unwrap();
                let what = format!("window {stat:?} {size} skip_nan {skip_nan}");
                check(&what, &graph, &[("x", data.view())]);
            }
        }
    }
}

#[test]
fn windows_and_sliding_pipelines() {
    for dtype in NUMERIC {
        for stat in [Stat::Mean, Stat::Sum, Stat::Min, Stat::Max, Stat::Std] {
            for size in [3, 10] {
                each_shape_of(
                    &format!("window {stat:?} {size}"),
                    dtype,
                    T_REDUCE,
                    H,
                    &WIDTHS,
                    &LAYOUTS,
                    |_, x| vec![("w", x.window(stat, 0, size, false))],
                );
            }
        }
        each_shape("weighted", dtype, |_, x| {
            vec![("w", x.weighted_window(&[0.25, -1.0, 2.0], 0))]
        });
        each_shape("sliding", dtype, |_, x| {
            vec![(
                "s",
                x.pipeline(
                    Some(Step::sliding(2, 1, Stat::Mean)),
                    Some(Step::sliding(2, 1, Stat::Mean)),
                ),
            )]
        });
    }
}

#[test]
fn order_statistics_collected_in_vectors_and_pinned_blocks() {
    // 21 frames: the jammed loop (8 points) runs twice, then 5 single points; 400 frames of
    // 333 lanes do not fit one block of collected values, so rows are pinned and each row is
    // cut into blocks of whole vectors plus a short one.
    for dtype in NUMERIC {
        for (t, widths) in [(21, &WIDTHS[..]), (400, &[333][..])] {
            let layouts = [Layout::Contiguous, Layout::Permuted];
            each_shape_of("collected", dtype, t, H, widths, &layouts, |_, x| {
                let first = x.slice(0, Some(0), Some(1), 1);
                let mut out = vec![("median", x.reduce(Stat::Median, &[0]))];
                for (name, q) in [("p0", 0.0), ("p37", 37.5), ("p90", 90.0), ("p100", 100.0)] {
                    out.push((name, x.reduce(Stat::Percentile(q), &[0])));
                }
                out.push(("nanmedian", x.reduce_with(Stat::Median, &[0], true, true, None)));
                out.push((
                    "m_median",
                    x.reduce_with(Stat::Median, &[0], true, false, Some(&x.ge(&first))),
                ));
                out
            });
        }
        each_shape("window median", dtype, |_, x| {
            vec![
                ("w3", x.window(Stat::Median, 0, 3, false)),
                ("w5", x.window(Stat::Percentile(75.0), 0, 5, false)),
            ]
        });
    }
}
