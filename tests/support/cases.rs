//! Fixture cases (`tests/fixtures/manifest.json`) turned into rumba graphs, twice: written as a
//! graph-file JSON text, and built with the DSL. Both must give the same results.

use super::{fixtures_dir, read_npy};
use rumba::dsl::{Builder, Stat, Step, Tensor};
use rumba::{Array, DType, Graph, GraphError};
use rumba_ir::def::{EnvelopeOver, Orientation};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// One manifest case with its arrays loaded.
pub struct Case {
    pub name: String,
    pub op: String,
    pub params: Value,
    pub inputs: Vec<(String, Array)>,
    pub outputs: Vec<(String, Array)>,
    pub rtol: f64,
    pub atol: f64,
    pub expect_error: Option<String>,
}

/// Every case of the manifest.
pub fn load_cases() -> Vec<Case> {
    let dir = fixtures_dir();
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("tests/fixtures/manifest.json");
    let manifest: Value = serde_json::from_str(&text).expect("manifest is JSON");
    let files = |v: &Value| -> Vec<(String, Array)> {
        v.as_object()
            .expect("object")
            .iter()
            .map(|(k, p)| (k.clone(), read_npy(&dir.join(p.as_str().expect("path")))))
            .collect()
    };
    manifest["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().expect("name").to_owned(),
            op: c["op"].as_str().expect("op").to_owned(),
            params: c["params"].clone(),
            inputs: files(&c["inputs"]),
            outputs: files(&c["outputs"]),
            rtol: c["rtol"].as_f64().expect("rtol"),
            atol: c["atol"].as_f64().expect("atol"),
            expect_error: c.get("expect_error").and_then(Value::as_str).map(str::to_owned),
        })
        .collect()
}

fn input_node(name: &str, a: &Array) -> Value {
    let shape: Vec<Value> = a.shape().iter().map(|_| Value::Null).collect();
    json!({"id": name, "op": "input", "dtype": a.dtype().name(), "shape": shape})
}

/// The rumba output reference of each expected output (`min` → `env.min`).
fn output_ref(op: &str, name: &str) -> String {
    match op {
        "envelope_dataset" | "envelope_frames" => format!("env.{name}"),
        "roi_series" => format!("roi.{name}"),
        _ => name.to_owned(),
    }
}

fn fill(p: &Value) -> Value {
    p["fill"].clone()
}

/// The case as a graph file (JSON text).
pub fn json_graph(case: &Case) -> String {
    let p = &case.params;
    let mut nodes: Vec<Value> = case.inputs.iter().map(|(n, a)| input_node(n, a)).collect();
    let mut copy = |node: Value, keys: &[&str]| {
        let mut node = node;
        for k in keys {
            if let Some(v) = p.get(*k) {
                node[*k] = v.clone();
            }
        }
        nodes.push(node);
    };
    match case.op.as_str() {
        "reduce" => copy(
            json!({"id": "out", "op": "reduce", "x": "x"}),
            &["kind", "q", "axes", "skip_nan"],
        ),
        "range_reference" => copy(
            json!({"id": "out", "op": "range_reference", "x": "x"}),
            &["kind", "q", "bounds", "skip_nan"],
        ),
        "sliding_reference" => copy(
            json!({"id": "out", "op": "sliding_reference", "x": "x"}),
            &["kind", "q", "window", "lag", "skip_nan"],
        ),
        "window_reduce" => copy(
            json!({"id": "out", "op": "window", "x": "x", "size": p["window"]}),
            &["kind", "q", "weights", "skip_nan"],
        ),
        "pipeline" => copy(
            json!({"id": "out", "op": "pipeline", "x": "x"}),
            &["subtract", "divide"],
        ),
        "envelope_dataset" => copy(
            json!({"id": "env", "op": "envelope", "x": "x", "over": "dataset"}),
            &["orientation", "pos", "halfwidth"],
        ),
        "envelope_frames" => copy(
            json!({"id": "env", "op": "envelope", "x": "x", "over": "frames"}),
            &["orientation", "pos", "halfwidth"],
        ),
        "polygon_mask" => copy(
            json!({"id": "mask", "op": "polygon_mask", "height": p["height"], "width": p["width"]}),
            &["vertices"],
        ),
        "apply_polygon" => copy(
            json!({"id": "out", "op": "apply_polygon", "x": "x", "fill": fill(p)}),
            &["vertices"],
        ),
        "roi_series" => copy(json!({"id": "roi", "op": "roi_series", "x": "x"}), &["vertices"]),
        other => panic!("unknown fixture op {other}"),
    }
    let outputs: Vec<String> = if case.outputs.is_empty() {
        vec![output_ref(&case.op, default_output(&case.op))]
    } else {
        case.outputs.iter().map(|(n, _)| output_ref(&case.op, n)).collect()
    };
    let graph = json!({"format": "rumba-graph", "version": 1, "nodes": nodes, "outputs": outputs});
    serde_json::to_string_pretty(&graph).expect("serialisable")
}

fn default_output(op: &str) -> &'static str {
    match op {
        "polygon_mask" => "mask",
        "envelope_dataset" | "envelope_frames" | "roi_series" => "min",
        _ => "out",
    }
}

fn stat(p: &Value) -> Stat {
    match p["kind"].as_str().expect("kind") {
        "sum" => Stat::Sum,
        "mean" => Stat::Mean,
        "min" => Stat::Min,
        "max" => Stat::Max,
        "var" => Stat::Var,
        "std" => Stat::Std,
        "median" => Stat::Median,
        "percentile" => Stat::Percentile(p["q"].as_f64().expect("q")),
        other => panic!("unknown kind {other}"),
    }
}

fn int(v: &Value) -> i64 {
    v.as_i64().expect("integer")
}

fn vertices(p: &Value) -> Vec<[f64; 2]> {
    p["vertices"]
        .as_array()
        .expect("vertices")
        .iter()
        .map(|v| [v[0].as_f64().expect("x"), v[1].as_f64().expect("y")])
        .collect()
}

fn step(p: &Value, inputs: &BTreeMap<String, Tensor>) -> Option<Step> {
    if p.is_null() {
        return None;
    }
    let s = match p["source"].as_str().expect("source") {
        "range" => Step::range([int(&p["bounds"][0]), int(&p["bounds"][1])], stat(p)),
        "file" => Step::file(&inputs[p["file"].as_str().expect("file")]),
        "sliding" => Step::sliding(int(&p["window"]), int(&p["lag"]), stat(p)),
        other => panic!("unknown step source {other}"),
    };
    let s = s.amount(p["amount"].as_f64().unwrap_or(1.0));
    Some(if p["skip_nan"].as_bool() == Some(true) {
        s.skip_nan()
    } else {
        s
    })
}

/// The case built with the DSL.
pub fn dsl_graph(case: &Case) -> Result<Graph, GraphError> {
    let p = &case.params;
    let b = Builder::new();
    let inputs: BTreeMap<String, Tensor> = case
        .inputs
        .iter()
        .map(|(n, a)| (n.clone(), b.input(n, a.dtype(), vec![None; a.shape().len()])))
        .collect();
    let skip = p["skip_nan"].as_bool() == Some(true);
    let x = || &inputs["x"];
    let single = |t: Tensor| vec![(default_output(&case.op).to_owned(), t)];
    let outputs: Vec<(String, Tensor)> = match case.op.as_str() {
        "reduce" => {
            let axes: Vec<usize> = p["axes"]
                .as_array()
                .expect("axes")
                .iter()
                .map(|a| a.as_u64().expect("axis") as usize)
                .collect();
            single(x().reduce_with(stat(p), &axes, true, skip, None))
        }
        "range_reference" => {
            let r = x().range_reference([int(&p["bounds"][0]), int(&p["bounds"][1])], stat(p));
            single(r)
        }
        "sliding_reference" => single(x().sliding_reference(int(&p["window"]), int(&p["lag"]), stat(p))),
        "window_reduce" => single(match p["kind"].as_str() {
            Some("weighted") => {
                let w: Vec<f64> = p["weights"]
                    .as_array()
                    .expect("weights")
                    .iter()
                    .map(|v| v.as_f64().expect("w"))
                    .collect();
                x().weighted_window(&w, 0)
            }
            _ => x().window(stat(p), 0, int(&p["window"]), skip),
        }),
        "pipeline" => single(x().pipeline(step(&p["subtract"], &inputs), step(&p["divide"], &inputs))),
        "envelope_dataset" | "envelope_frames" => {
            let o = if p["orientation"] == "h" {
                Orientation::H
            } else {
                Orientation::V
            };
            let over = if case.op == "envelope_dataset" {
                EnvelopeOver::Dataset
            } else {
                EnvelopeOver::Frames
            };
            let (min, max) = x().envelope(o, int(&p["pos"]), int(&p["halfwidth"]), over);
            vec![("min".into(), min), ("max".into(), max)]
        }
        "polygon_mask" => single(b.polygon_mask(&vertices(p), int(&p["height"]) as usize, int(&p["width"]) as usize)),
        "apply_polygon" => {
            let f = if p["fill"] == "nan" {
                f64::NAN
            } else {
                p["fill"].as_f64().expect("fill")
            };
            single(x().apply_polygon(&vertices(p), f))
        }
        "roi_series" => {
            let (mean, min, max) = x().roi_series(&vertices(p));
            vec![("mean".into(), mean), ("min".into(), min), ("max".into(), max)]
        }
        other => panic!("unknown fixture op {other}"),
    };
    let outputs: Vec<(String, Tensor)> = outputs
        .into_iter()
        .map(|(n, t)| (output_ref(&case.op, &n), t))
        .collect();
    b.build(outputs.iter().map(|(n, t)| (n.as_str(), t)))
}

/// Whether a dtype name in the manifest matches (helps messages).
pub fn dtype_of(a: &Array) -> DType {
    a.dtype()
}
