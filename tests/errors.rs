//! Every user-facing graph error: triggered, its variant checked, and its message checked for
//! the node id and label, the JSON path or DSL call site, and what was expected vs found.

use rumba::dsl::{Builder, Stat};
use rumba::{DType, Graph, GraphError, format};
use rumba_ir::bind::{InputSpec, bind, param_values};
use std::collections::BTreeMap;

/// A graph file around `nodes` (JSON array text) with outputs `["out"]`.
fn file(nodes: &str) -> String {
    format!(r#"{{"format": "rumba-graph", "version": 1, "nodes": {nodes}, "outputs": ["out"]}}"#)
}

const X: &str = r#"{"id": "x", "label": "camera", "op": "input", "dtype": "u8", "shape": [null, null, null, 1]}"#;

fn load(text: &str) -> Result<Graph, GraphError> {
    Graph::try_from(format::parse(text, Some("g.json"))?)
}

fn load_err(text: &str) -> (GraphError, String) {
    let e = load(text).expect_err("the graph must be rejected");
    let msg = e.to_string();
    (e, msg)
}

fn assert_mentions(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "message does not mention {p:?}:\n{msg}");
    }
}

fn stack(shape: &[usize]) -> Vec<InputSpec> {
    vec![InputSpec {
        name: "x".into(),
        dtype: DType::U8,
        shape: shape.to_vec(),
    }]
}

#[test]
fn malformed_json_names_file_line_and_column() {
    let (e, msg) = load_err("{\"format\": \"rumba-graph\",\n \"version\": 1, \"nodes\": [,]}");
    assert!(matches!(e, GraphError::Json { line: 2, .. }), "{e:?}");
    assert_mentions(&msg, &["g.json", "line 2", "column"]);
}

#[test]
fn newer_version_names_both_versions() {
    let (e, msg) = load_err(r#"{"format": "rumba-graph", "version": 7, "nodes": [], "outputs": []}"#);
    assert!(
        matches!(
            e,
            GraphError::Version {
                found: 7,
                supported: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert_mentions(&msg, &["g.json", "version 7", "version 1"]);
}

#[test]
fn wrong_format_name_is_rejected() {
    let (e, msg) = load_err(r#"{"format": "other", "version": 1, "nodes": [], "outputs": []}"#);
    assert!(matches!(e, GraphError::Format { .. }), "{e:?}");
    assert_mentions(&msg, &["format", "rumba-graph", "\"other\""]);
}

#[test]
fn unknown_op_names_node_and_path() {
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "out", "label": "result", "op": "blur", "x": "x"}}]"#
    )));
    assert!(matches!(e, GraphError::UnknownOp { .. }), "{e:?}");
    assert_mentions(
        &msg,
        &[
            "g.json: nodes[1]",
            "\"out\"",
            "\"result\"",
            "unknown op \"blur\"",
            "pipeline",
        ],
    );
}

#[test]
fn missing_argument_names_it() {
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "out", "op": "range_reference", "x": "x", "kind": "mean"}}]"#
    )));
    assert!(matches!(e, GraphError::Argument { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[1]", "\"out\"", "range_reference", "`bounds`", "missing"]);
}

#[test]
fn extra_argument_names_it() {
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "out", "op": "sqrt", "x": "x", "y": "x"}}]"#
    )));
    assert!(matches!(e, GraphError::Argument { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[1]", "\"out\"", "no argument `y`"]);
}

#[test]
fn ill_typed_argument_names_expected_and_found() {
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "out", "op": "reduce", "x": "x", "kind": "mean", "axes": "all"}}]"#
    )));
    assert!(matches!(e, GraphError::Argument { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[1]", "\"out\"", "\"all\"", "expected"]);
}

#[test]
fn unknown_reference_names_field_and_suggests() {
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "out", "op": "sub", "a": "x", "b": "xx"}}]"#
    )));
    assert!(matches!(e, GraphError::UnknownNode { .. }), "{e:?}");
    assert_mentions(
        &msg,
        &[
            "g.json: nodes[1].b",
            "\"out\"",
            "unknown node \"xx\"",
            "did you mean \"x\"",
        ],
    );
}

#[test]
fn unknown_named_output_lists_the_outputs() {
    let env =
        r#"{"id": "env", "op": "envelope", "x": "x", "orientation": "h", "pos": 1, "halfwidth": 0, "over": "frames"}"#;
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {env}, {{"id": "out", "op": "neg", "x": "env.mean"}}]"#
    )));
    assert!(matches!(e, GraphError::UnknownOutput { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[2].x", "\"env.mean\"", "\"env.min\"", "\"env.max\""]);
}

#[test]
fn duplicate_id_names_both_places() {
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "x", "op": "const", "value": 1}}, {{"id": "out", "op": "neg", "x": "x"}}]"#
    )));
    assert!(matches!(e, GraphError::DuplicateId { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[1]", "duplicate node id \"x\"", "nodes[0]"]);
}

#[test]
fn cycle_is_reported_with_its_path() {
    let nodes = r#"[{"id": "a", "op": "neg", "x": "b"}, {"id": "b", "op": "abs", "x": "out"}, {"id": "out", "op": "sqrt", "x": "a"}]"#;
    let (e, msg) = load_err(&file(nodes));
    let GraphError::Cycle { cycle, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4);
    assert_mentions(&msg, &["cycle", "a -> b -> out -> a"]);
}

#[test]
fn bool_arithmetic_is_a_type_error() {
    let nodes = format!(
        r#"[{X}, {{"id": "m", "op": "gt", "a": "x", "b": 3}}, {{"id": "out", "label": "sum", "op": "add", "a": "m", "b": "x"}}]"#
    );
    let (e, msg) = load_err(&file(&nodes));
    assert!(matches!(e, GraphError::Type { .. }), "{e:?}");
    assert_mentions(
        &msg,
        &[
            "nodes[2].a",
            "\"out\"",
            "\"sum\"",
            "expected a numeric dtype",
            "found bool",
        ],
    );
}

#[test]
fn neg_of_unsigned_is_a_type_error() {
    let (e, msg) = load_err(&file(&format!(r#"[{X}, {{"id": "out", "op": "neg", "x": "x"}}]"#)));
    assert!(matches!(e, GraphError::Type { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[1].x", "expected a signed dtype", "found u8"]);
}

#[test]
fn fixed_shapes_that_do_not_broadcast() {
    let nodes = r#"[{"id": "a", "op": "input", "dtype": "f32", "shape": [4, 3]}, {"id": "b", "op": "input", "dtype": "f32", "shape": [5, 3]}, {"id": "out", "op": "add", "a": "a", "b": "b"}]"#;
    let (e, msg) = load_err(&file(nodes));
    assert!(matches!(e, GraphError::Shape { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[2]", "\"out\"", "do not broadcast", "(4, 3)", "(5, 3)"]);
}

#[test]
fn free_shapes_that_do_not_broadcast_fail_at_bind() {
    let nodes = r#"[{"id": "a", "op": "input", "dtype": "f32", "shape": [null]}, {"id": "b", "op": "input", "dtype": "f32", "shape": [null]}, {"id": "out", "op": "add", "a": "a", "b": "b"}]"#;
    let g = load(&file(nodes)).expect("valid until bound");
    let specs = vec![
        InputSpec {
            name: "a".into(),
            dtype: DType::F32,
            shape: vec![4],
        },
        InputSpec {
            name: "b".into(),
            dtype: DType::F32,
            shape: vec![5],
        },
    ];
    let e = bind(&g, &specs).expect_err("4 and 5 do not broadcast");
    assert!(matches!(e, GraphError::Shape { .. }), "{e:?}");
    assert_mentions(&e.to_string(), &["nodes[2]", "\"out\"", "(4,)", "(5,)"]);
}

#[test]
fn axis_out_of_range() {
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "out", "op": "reduce", "x": "x", "kind": "max", "axes": [7]}}]"#
    )));
    assert!(matches!(e, GraphError::Axis { axis: 7, rank: 4, .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[1].axes", "axis 7", "rank 4"]);
}

#[test]
fn slice_step_zero() {
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "out", "op": "slice", "x": "x", "axis": 0, "step": 0}}]"#
    )));
    assert!(matches!(e, GraphError::Invalid { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[1].step", "step must not be 0"]);
}

#[test]
fn window_size_zero_and_negative_lag() {
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "out", "op": "window", "x": "x", "kind": "mean", "size": 0}}]"#
    )));
    assert!(matches!(e, GraphError::Invalid { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[1].size", "at least 1, found 0"]);
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "out", "op": "sliding_reference", "x": "x", "kind": "mean", "window": 3, "lag": -1}}]"#
    )));
    assert!(matches!(e, GraphError::Invalid { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[1].lag", "≥ 0, found -1"]);
    let step = r#"{"source": "sliding", "window": 3, "lag": -2, "kind": "mean"}"#;
    let (_, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "out", "op": "pipeline", "x": "x", "divide": {step}}}]"#
    )));
    assert_mentions(&msg, &["nodes[1].subtract.lag", "found -2"]);
}

#[test]
fn percentile_outside_range() {
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "out", "op": "reduce", "x": "x", "kind": "percentile", "q": 101, "axes": [0]}}]"#
    )));
    assert!(matches!(e, GraphError::Invalid { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[1].q", "[0, 100]", "found 101"]);
}

#[test]
fn polygon_with_two_vertices() {
    let (e, msg) = load_err(&file(
        r#"[{"id": "out", "op": "polygon_mask", "vertices": [[1, 1], [5, 4]], "height": 8, "width": 8}]"#,
    ));
    assert!(matches!(e, GraphError::Invalid { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[0].vertices", "fewer than 3 vertices", "found 2"]);
}

#[test]
fn polygon_with_non_finite_vertex_from_the_dsl() {
    let b = Builder::new();
    let x = b.input("x", DType::U8, [None, None, None, Some(1)]);
    let line = line!() + 1;
    let out = x.apply_polygon(&[[0.0, 0.0], [f64::NAN, 2.0], [3.0, 3.0]], 0.0);
    let e = b.build([("out", &out)]).expect_err("NaN vertex");
    assert!(matches!(e, GraphError::Invalid { .. }), "{e:?}");
    assert_mentions(
        &e.to_string(),
        &[&format!("errors.rs:{line}"), "vertex 1", "expected finite"],
    );
}

#[test]
fn roi_polygon_without_pixels_fails_at_bind() {
    let g = load(&file(&format!(
        r#"[{X}, {{"id": "roi", "label": "tiny", "op": "roi_series", "x": "x", "vertices": [[0.1, 0.1], [0.4, 0.1], [0.2, 0.3]]}}, {{"id": "out", "op": "neg", "x": "roi.mean"}}]"#
    )))
    .expect("valid until bound");
    let e = bind(&g, &stack(&[3, 4, 4, 1])).expect_err("no pixel centre inside");
    assert!(matches!(e, GraphError::Invalid { .. }), "{e:?}");
    assert_mentions(
        &e.to_string(),
        &["nodes[1].vertices", "\"roi\"", "\"tiny\"", "no pixel centre", "4×4"],
    );
}

#[test]
fn envelope_position_outside_the_image() {
    let env = r#"{"id": "env", "op": "envelope", "x": "x", "orientation": "h", "pos": 40, "halfwidth": 2, "over": "dataset"}"#;
    let g = load(&file(&format!(
        r#"[{X}, {env}, {{"id": "out", "op": "abs", "x": "env.min"}}]"#
    )))
    .expect("valid until bound");
    let e = bind(&g, &stack(&[3, 33, 8, 1])).expect_err("row 40 of 33");
    assert!(matches!(e, GraphError::Shape { .. }), "{e:?}");
    assert_mentions(
        &e.to_string(),
        &[
            "nodes[1]",
            "\"env\"",
            "row 40 is outside the image",
            "more than 40",
            "(3, 33, 8, 1)",
        ],
    );
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {}, {{"id": "out", "op": "abs", "x": "env.min"}}]"#,
        env.replace("40", "-1")
    )));
    assert!(matches!(e, GraphError::Invalid { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[1].pos", "-1"]);
}

#[test]
fn reduction_over_an_empty_extent() {
    let g = load(&file(&format!(
        r#"[{X}, {{"id": "out", "label": "mean frame", "op": "reduce", "x": "x", "kind": "mean", "axes": [0]}}]"#
    )))
    .expect("valid");
    let e = bind(&g, &stack(&[0, 4, 4, 1])).expect_err("no frame to reduce");
    assert!(matches!(e, GraphError::Invalid { .. }), "{e:?}");
    assert_mentions(
        &e.to_string(),
        &["nodes[1].axes", "\"mean frame\"", "empty extent", "axis 0"],
    );
}

#[test]
fn empty_range_reference_fails_at_bind() {
    let g = load(&file(&format!(
        r#"[{X}, {{"id": "out", "op": "range_reference", "x": "x", "kind": "mean", "bounds": [9, 12]}}]"#
    )))
    .expect("valid");
    let e = bind(&g, &stack(&[7, 5, 9, 1])).expect_err("frames 9..=12 of 7");
    assert!(matches!(e, GraphError::Shape { .. }), "{e:?}");
    assert_mentions(
        &e.to_string(),
        &["nodes[1]", "empty range: bounds [9, 12]", "(7, 5, 9, 1)"],
    );
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "out", "op": "range_reference", "x": "x", "kind": "mean", "bounds": [5, 2]}}]"#
    )));
    assert!(matches!(e, GraphError::Invalid { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[1].bounds", "empty range"]);
    // With T fixed in the declaration the range is refused at load, naming it (not the empty
    // reduction the slice would make).
    let (e, msg) = load_err(&file(
        r#"[{"id": "x", "op": "input", "dtype": "u8", "shape": [7, 5, 9, 1]},
            {"id": "out", "op": "range_reference", "x": "x", "kind": "mean", "bounds": [9, 12]}]"#,
    ));
    assert!(matches!(e, GraphError::Invalid { .. }), "{e:?}");
    assert_mentions(
        &msg,
        &[
            "nodes[1].bounds",
            "empty range: bounds [9, 12] select no frame of T = 7",
        ],
    );
}

#[test]
fn input_dtype_and_rank_must_match_the_declaration() {
    let g = load(&file(&format!(r#"[{X}, {{"id": "out", "op": "abs", "x": "x"}}]"#))).expect("valid");
    let e = bind(
        &g,
        &[InputSpec {
            name: "x".into(),
            dtype: DType::U16,
            shape: vec![2, 3, 3, 1],
        }],
    )
    .expect_err("u16 for u8");
    assert!(matches!(e, GraphError::Type { .. }), "{e:?}");
    assert_mentions(&e.to_string(), &["nodes[0]", "\"camera\"", "expected u8", "found u16"]);
    let e = bind(&g, &stack(&[2, 3, 3])).expect_err("rank 3 for rank 4");
    assert!(matches!(e, GraphError::Shape { .. }), "{e:?}");
    assert_mentions(&e.to_string(), &["rank 4", "rank 3"]);
    let e = bind(&g, &stack(&[2, 3, 3, 2])).expect_err("C = 2 for C = 1");
    assert_mentions(&e.to_string(), &["(?, ?, ?, 1)", "(2, 3, 3, 2)"]);
    let e = bind(&g, &[]).expect_err("missing input");
    assert!(matches!(e, GraphError::MissingInput { .. }), "{e:?}");
    let mut specs = stack(&[2, 3, 3, 1]);
    specs.push(InputSpec {
        name: "y".into(),
        dtype: DType::U8,
        shape: vec![1],
    });
    let e = bind(&g, &specs).expect_err("unknown input");
    assert!(matches!(e, GraphError::UnknownInput { .. }), "{e:?}");
}

#[test]
fn params_missing_or_unknown() {
    let nodes = format!(
        r#"[{X}, {{"id": "k", "label": "gain", "op": "param"}}, {{"id": "out", "op": "mul", "a": "x", "b": "k"}}]"#
    );
    let g = load(&file(&nodes)).expect("valid");
    let e = param_values(&g, &BTreeMap::new()).expect_err("k has no default");
    assert!(matches!(e, GraphError::MissingParam { .. }), "{e:?}");
    assert_mentions(&e.to_string(), &["nodes[1]", "\"gain\"", "param \"k\" has no value"]);
    let supplied = BTreeMap::from([("kk".to_owned(), 1.0)]);
    let e = param_values(&g, &supplied).expect_err("unknown param");
    assert!(matches!(e, GraphError::UnknownParam { .. }), "{e:?}");
    assert_mentions(&e.to_string(), &["\"kk\"", "\"k\""]);
}

#[test]
fn sliding_steps_must_agree() {
    let s = |w: i64| format!(r#"{{"source": "sliding", "window": {w}, "lag": 1, "kind": "mean"}}"#);
    let (e, msg) = load_err(&file(&format!(
        r#"[{X}, {{"id": "out", "op": "pipeline", "x": "x", "subtract": {}, "divide": {}}}]"#,
        s(3),
        s(4)
    )));
    assert!(matches!(e, GraphError::Invalid { .. }), "{e:?}");
    assert_mentions(&msg, &["nodes[1].divide", "window 3", "window 4"]);
}

#[test]
fn file_reference_must_be_one_frame() {
    let bg = r#"{"id": "bg", "op": "input", "dtype": "f32", "shape": [null, null, null, 1]}"#;
    let g = load(&file(&format!(
        r#"[{X}, {bg}, {{"id": "out", "op": "pipeline", "x": "x", "divide": {{"source": "file", "file": "bg"}}}}]"#
    )))
    .expect("valid");
    let mut specs = stack(&[4, 3, 3, 1]);
    specs.push(InputSpec {
        name: "bg".into(),
        dtype: DType::F32,
        shape: vec![2, 3, 3, 1],
    });
    let e = bind(&g, &specs).expect_err("two frames");
    assert!(matches!(e, GraphError::Shape { .. }), "{e:?}");
    assert_mentions(
        &e.to_string(),
        &[
            "nodes[2]",
            "\"bg\" must be (1, H, W, C)",
            "extent 1 on axis 0",
            "(2, 3, 3, 1)",
        ],
    );
}

#[test]
fn dsl_errors_name_the_call_site() {
    let b = Builder::new();
    let x = b.input("x", DType::U16, [None, None, None, Some(1)]);
    let line = line!() + 1;
    let bad = -&x;
    let e = b.build([("out", &bad)]).expect_err("neg of u16");
    assert!(matches!(e, GraphError::Type { .. }), "{e:?}");
    assert_mentions(&e.to_string(), &[&format!("errors.rs:{line}"), "found u16"]);
    let b = Builder::new();
    let x = b.input("x", DType::F32, [None, None, None, Some(1)]);
    let line = line!() + 1;
    let r = x.range_reference([3, 1], Stat::Mean).label("bg");
    let e = b.build([("out", &r)]).expect_err("b0 > b1");
    assert_mentions(
        &e.to_string(),
        &[
            &format!("errors.rs:{line}"),
            "label \"bg\"",
            "range_reference",
            "empty range",
        ],
    );
}

#[test]
fn unknown_or_duplicate_outputs_name_the_outputs_entry() {
    let text = format!(r#"{{"format": "rumba-graph", "version": 1, "nodes": [{X}], "outputs": ["x", "y"]}}"#);
    let (e, msg) = load_err(&text);
    assert!(matches!(e, GraphError::UnknownNode { .. }), "{e:?}");
    assert_mentions(
        &msg,
        &["g.json: outputs[1]", "unknown node \"y\"", "did you mean \"x\""],
    );
    let text = format!(
        r#"{{"format": "rumba-graph", "version": 1, "nodes": [{X}], "outputs": ["x", {{"name": "x", "ref": "x"}}]}}"#
    );
    let (e, msg) = load_err(&text);
    assert!(matches!(e, GraphError::Invalid { .. }), "{e:?}");
    assert_mentions(&msg, &["g.json: outputs[1]", "two outputs are named \"x\""]);
}

/// Extents are i64 offsets in the plan: a declared extent over i64::MAX is refused when the
/// graph is loaded, a bound input whose bytes overflow i64 when it is bound — never wrapped.
#[test]
fn extents_beyond_i64_are_refused_not_wrapped() {
    let text = file(
        r#"[{"id": "x", "label": "huge", "op": "input", "dtype": "i32", "shape": [9223372036854775907, 2]},
            {"id": "out", "op": "neg", "x": "x"}]"#,
    );
    let (_, msg) = load_err(&text);
    assert_mentions(
        &msg,
        &[
            "node \"x\"",
            "huge",
            "shape",
            "9223372036854775807",
            "9223372036854775907",
        ],
    );
    let graph = load(&file(&format!(r#"[{X}, {{"id": "out", "op": "is_nan", "x": "x"}}]"#))).unwrap();
    let e = bind(&graph, &stack(&[1 << 32, 1 << 32, 1 << 20, 1])).expect_err("2^84 bytes");
    assert_mentions(&e.to_string(), &["input \"x\"", "i64::MAX", "4294967296"]);
}
