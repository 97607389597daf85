//! The JSON graph file format, version [`VERSION`].
//!
//! ```json
//! { "format": "rumba-graph", "version": 1,
//!   "description": "optional free text",
//!   "nodes": [ { "id": "x", "op": "input", "dtype": "u8", "shape": [null, null, null, 1] },
//!              { "id": "bg", "label": "background", "op": "range_reference", "x": "x",
//!                "bounds": [0, 9], "kind": "mean" },
//!              { "id": "out", "op": "sub", "a": "x", "b": "bg" } ],
//!   "outputs": ["out"] }
//! ```
//!
//! Node ids are strings; `label` is optional; the remaining fields are the op's arguments
//! ([`crate::def::OpDef`]). Helper nodes stay helper nodes. A multi-output node's outputs are
//! referenced as `id.name`. An output is a reference (named by its text) or
//! `{"name": "...", "ref": "..."}`. Errors name the file, the JSON path (`nodes[2].bounds`), the node
//! id and label. A file from a newer version is rejected naming both versions.

use crate::def::{GraphDef, NodeDef, OpDef, OutputDef, Ref};
use crate::error::{At, GraphError};
use crate::graph::{Origin, Source};
use serde_json::{Map, Value};
use std::path::Path;

/// The `format` field of every graph file.
pub const FORMAT_NAME: &str = "rumba-graph";
/// The newest graph format version this build reads and the one it writes.
pub const VERSION: u64 = 1;

/// Reads and parses a graph file.
///
/// # Errors
/// The file cannot be read, is not JSON, not a rumba graph, from a newer version, or has a
/// malformed node — each error naming the file and JSON path.
pub fn load_file(path: &Path) -> Result<GraphDef, GraphError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| GraphError::Format {
        file: file.clone(),
        path: "$".into(),
        message: format!("cannot read the graph file: {e}"),
    })?;
    parse(&text, Some(&file))
}

/// Parses graph-file text; `file` (if any) is named in errors and recorded in sources.
///
/// # Errors
/// As [`load_file`].
pub fn parse(text: &str, file: Option<&str>) -> Result<GraphDef, GraphError> {
    let name = file.unwrap_or("<graph>").to_owned();
    let value: Value = serde_json::from_str(text).map_err(|e| GraphError::Json {
        file: name.clone(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let format_error = |path: &str, message: String| GraphError::Format {
        file: name.clone(),
        path: path.into(),
        message,
    };
    let Value::Object(mut top) = value else {
        return Err(format_error(
            "$",
            format!(
                "expected a JSON object with \"format\", \"version\", \"nodes\", \"outputs\"; found {}",
                kind(&value)
            ),
        ));
    };
    match top.remove("format") {
        Some(Value::String(f)) if f == FORMAT_NAME => {}
        Some(other) => {
            return Err(format_error(
                "format",
                format!("expected \"{FORMAT_NAME}\", found {other}"),
            ));
        }
        None => {
            return Err(format_error(
                "format",
                format!("missing; expected \"format\": \"{FORMAT_NAME}\""),
            ));
        }
    }
    match top.remove("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(VERSION) => {}
        Some(Value::Number(n)) if n.as_u64().is_some_and(|v| v > VERSION) => {
            return Err(GraphError::Version {
                file: name,
                found: n.as_u64().unwrap_or(0),
                supported: VERSION,
            });
        }
        Some(other) => {
            return Err(format_error(
                "version",
                format!("expected a version number ≤ {VERSION}, found {other}"),
            ));
        }
        None => {
            return Err(format_error(
                "version",
                format!("missing; expected \"version\": {VERSION}"),
            ));
        }
    }
    let description = match top.remove("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) => Some(d),
        Some(other) => return Err(format_error("description", format!("expected a string, found {other}"))),
    };
    let Some(Value::Array(nodes)) = top.remove("nodes") else {
        return Err(format_error("nodes", "expected an array of node objects".into()));
    };
    let outputs = match top.remove("outputs") {
        Some(Value::Array(outputs)) => outputs,
        _ => {
            return Err(format_error(
                "outputs",
                "expected an array of node references (strings)".into(),
            ));
        }
    };
    if let Some(key) = top.keys().next() {
        return Err(format_error(
            key,
            "unknown top-level field; expected format, version, description, nodes, outputs".into(),
        ));
    }
    let mut def = GraphDef {
        description,
        nodes: Vec::with_capacity(nodes.len()),
        outputs: Vec::new(),
        outputs_source: Some(Source::File {
            file: file.map(str::to_owned),
            json_path: "outputs".into(),
        }),
    };
    for (i, node) in nodes.into_iter().enumerate() {
        def.nodes.push(parse_node(node, i, file)?);
    }
    for (i, out) in outputs.into_iter().enumerate() {
        let path = format!("outputs[{i}]");
        def.outputs.push(match out {
            Value::String(s) => OutputDef::of(Ref::parse(&s)),
            Value::Object(mut o) => {
                let (Some(Value::String(name)), Some(Value::String(node)), true) =
                    (o.remove("name"), o.remove("ref"), o.is_empty() || o.len() == 2)
                else {
                    return Err(format_error(
                        &path,
                        "expected {\"name\": string, \"ref\": string} and nothing else".into(),
                    ));
                };
                if !o.is_empty() {
                    return Err(format_error(
                        &path,
                        "expected {\"name\": string, \"ref\": string} and nothing else".into(),
                    ));
                }
                OutputDef {
                    name,
                    node: Ref::parse(&node),
                }
            }
            other => {
                return Err(format_error(
                    &path,
                    format!("expected a node reference (string) or {{\"name\", \"ref\"}}, found {other}"),
                ));
            }
        });
    }
    Ok(def)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_node(node: Value, index: usize, file: Option<&str>) -> Result<NodeDef, GraphError> {
    let json_path = format!("nodes[{index}]");
    let source = Source::File {
        file: file.map(str::to_owned),
        json_path: json_path.clone(),
    };
    let at = |id: &str, label: &Option<String>, op: &str| At {
        origin: Box::new(Origin {
            id: id.to_owned(),
            label: label.clone(),
            op: op.to_owned(),
            source: source.clone(),
        }),
        field: None,
    };
    let Value::Object(mut fields) = node else {
        return Err(GraphError::Format {
            file: file.unwrap_or("<graph>").to_owned(),
            path: json_path,
            message: format!("expected a node object, found {}", kind(&node)),
        });
    };
    let label = match fields.remove("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            return Err(GraphError::Argument {
                at: At {
                    field: Some("label".into()),
                    ..at("?", &None, "?")
                },
                message: format!("expected a string label, found {other}"),
            });
        }
    };
    let id = match fields.remove("id") {
        Some(Value::String(s)) => s,
        other => {
            return Err(GraphError::Argument {
                at: At {
                    field: Some("id".into()),
                    ..at("?", &label, "?")
                },
                message: format!("expected a string id, found {}", other.as_ref().map_or("nothing", kind)),
            });
        }
    };
    let op_name = match fields.get("op") {
        Some(Value::String(s)) => s.clone(),
        other => {
            return Err(GraphError::Argument {
                at: At {
                    field: Some("op".into()),
                    ..at(&id, &label, "?")
                },
                message: format!("expected an op name (string), found {}", other.map_or("nothing", kind)),
            });
        }
    };
    if !OpDef::NAMES.contains(&op_name.as_str()) {
        return Err(GraphError::UnknownOp {
            at: at(&id, &label, &op_name),
            op: op_name,
            known: OpDef::NAMES.join(", "),
        });
    }
    let op: OpDef = serde_json::from_value(Value::Object(fields)).map_err(|e| GraphError::Argument {
        at: at(&id, &label, &op_name),
        message: describe_serde(&e.to_string(), &op_name),
    })?;
    Ok(NodeDef { id, label, op, source })
}

/// Rewords serde's messages ("missing field `x`") for a node's arguments.
fn describe_serde(message: &str, op: &str) -> String {
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!("op {op} needs argument {rest}; it is missing");
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        return format!("op {op} has no argument {rest}");
    }
    format!("invalid argument of op {op}: {message}")
}

/// The graph as a JSON value in the file format.
#[must_use]
pub fn to_value(def: &GraphDef) -> Value {
    let mut top = Map::new();
    top.insert("format".into(), FORMAT_NAME.into());
    top.insert("version".into(), VERSION.into());
    if let Some(d) = &def.description {
        top.insert("description".into(), d.clone().into());
    }
    let nodes = def
        .nodes
        .iter()
        .map(|n| {
            let mut obj = Map::new();
            obj.insert("id".into(), n.id.clone().into());
            if let Some(label) = &n.label {
                obj.insert("label".into(), label.clone().into());
            }
            if let Ok(Value::Object(fields)) = serde_json::to_value(&n.op) {
                obj.extend(fields);
            }
            Value::Object(obj)
        })
        .collect();
    top.insert("nodes".into(), Value::Array(nodes));
    let outputs = def.outputs.iter().map(|o| {
        let text = o.node.to_string();
        if o.name == text {
            Value::String(text)
        } else {
            serde_json::json!({ "name": o.name, "ref": text })
        }
    });
    top.insert("outputs".into(), outputs.collect());
    Value::Object(top)
}

/// The graph as pretty-printed file text, one node per line.
#[must_use]
pub fn to_string(def: &GraphDef) -> String {
    let Value::Object(top) = to_value(def) else {
        unreachable!("to_value builds an object")
    };
    let mut out = String::from("{\n");
    let n = top.len();
    for (i, (key, value)) in top.into_iter().enumerate() {
        let comma = if i + 1 < n { "," } else { "" };
        match (key.as_str(), value) {
            ("nodes", Value::Array(nodes)) => {
                out.push_str("  \"nodes\": [\n");
                for (k, node) in nodes.iter().enumerate() {
                    let sep = if k + 1 < nodes.len() { "," } else { "" };
                    out.push_str(&format!("    {node}{sep}\n"));
                }
                out.push_str(&format!("  ]{comma}\n"));
            }
            (key, value) => out.push_str(&format!("  \"{key}\": {value}{comma}\n")),
        }
    }
    out.push_str("}\n");
    out
}

/// Writes the graph to a file.
///
/// # Errors
/// The file cannot be written.
pub fn save_file(def: &GraphDef, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, to_string(def))
}
