//! Checking what the caller hands to [`super::Executor`]: params resolved into the plan's
//! run-time slots, inputs matched to the plan's input buffers (with the same errors and
//! messages as binding a graph, [`rumba_ir::bind`]), and the caller's output arrays matched to
//! the plan's outputs.

use super::{ArrayViewMut, ExecError};
use rumba_ir::graph::{Origin, Source};
use rumba_ir::shape::fmt_extents;
use rumba_ir::{ArrayView, At, GraphError};
use rumba_plan::{ParamSource, Plan};
use std::collections::BTreeMap;

/// Where an error about a plan-level name is located when the plan carries no node for it.
fn named(id: &str, op: &str) -> At {
    At::node(&Origin {
        id: id.to_owned(),
        label: None,
        op: op.to_owned(),
        source: Source::Unknown,
    })
}

/// The value of every slot of `plan.params`: a named param's supplied value or default, a
/// slice start normalised and checked by [`rumba_ir::bind::slice_start`], as binding does.
///
/// # Errors
/// A supplied name that no slot uses (listing the known ones), a param with neither value nor
/// default, a slice start that is not an integer or whose run does not fit its axis.
pub(crate) fn params(plan: &Plan, supplied: &BTreeMap<String, f64>) -> Result<Vec<f64>, GraphError> {
    let mut known: Vec<String> = Vec::new();
    for p in &plan.params {
        let (ParamSource::Named { name, .. } | ParamSource::SliceStart { name, .. }) = p;
        if !known.contains(name) {
            known.push(name.clone());
        }
    }
    if let Some(name) = supplied.keys().find(|n| !known.contains(n)) {
        return Err(GraphError::UnknownParam {
            name: name.clone(),
            known,
        });
    }
    plan.params
        .iter()
        .map(|p| match p {
            ParamSource::Named { name, default, at } => {
                supplied
                    .get(name)
                    .copied()
                    .or(*default)
                    .ok_or_else(|| GraphError::MissingParam {
                        at: at.clone(),
                        name: name.clone(),
                    })
            }
            ParamSource::SliceStart {
                name,
                default,
                extent,
                len,
                step,
                at,
            } => {
                let at = if at.field.is_some() {
                    at.clone()
                } else {
                    At {
                        field: Some("start".into()),
                        ..at.clone()
                    }
                };
                let value = supplied.get(name).copied().or(*default);
                let value = value.ok_or_else(|| GraphError::MissingParam {
                    at: at.clone(),
                    name: name.clone(),
                })?;
                rumba_ir::bind::slice_start(name, value, *extent, *len, *step, at).map(|s| s as f64)
            }
        })
        .collect()
}

/// For each plan input, in `plan.inputs` order, the index of the caller's array supplying it.
///
/// # Errors
/// An array under a name the plan has no input for, a missing input, or an input whose dtype
/// or extents differ from the plan's buffer.
pub(crate) fn inputs(plan: &Plan, supplied: &[(&str, ArrayView<'_>)]) -> Result<Vec<usize>, GraphError> {
    let known: Vec<String> = plan.inputs.iter().map(|(n, _)| n.clone()).collect();
    if let Some((name, _)) = supplied.iter().find(|(n, _)| !known.iter().any(|k| k == n)) {
        return Err(GraphError::UnknownInput {
            name: (*name).to_owned(),
            known,
        });
    }
    plan.inputs
        .iter()
        .map(|(name, id)| {
            let buffer = plan.buffer(*id);
            let at = named(name, "input");
            let what = format!("input \"{name}\"");
            let Some(k) = supplied.iter().position(|(n, _)| n == name) else {
                let expected = format!("{} {}", buffer.dtype, fmt_extents(&buffer.shape));
                return Err(GraphError::MissingInput {
                    at,
                    name: name.clone(),
                    expected,
                });
            };
            let view = &supplied[k].1;
            if view.dtype() != buffer.dtype {
                let (expected, found) = (buffer.dtype.to_string(), view.dtype().to_string());
                return Err(GraphError::Type {
                    at,
                    what,
                    expected,
                    found,
                });
            }
            if view.shape() != buffer.shape.as_slice() {
                let (expected, found) = (fmt_extents(&buffer.shape), fmt_extents(view.shape()));
                return Err(GraphError::Shape {
                    at,
                    what,
                    expected,
                    found,
                });
            }
            Ok(k)
        })
        .collect()
}

/// For each plan output, the index of the caller's array receiving it.
pub(crate) fn match_outputs(plan: &Plan, outputs: &[(&str, ArrayViewMut<'_>)]) -> Result<Vec<usize>, ExecError> {
    let err = |name: &str, message: String| ExecError::Output {
        name: name.to_owned(),
        message,
    };
    for (j, (name, _)) in outputs.iter().enumerate() {
        if !plan.outputs.iter().any(|(n, _)| n == name) {
            let known: Vec<&str> = plan.outputs.iter().map(|(n, _)| n.as_str()).collect();
            return Err(err(
                name,
                format!("the plan has no output of this name; its outputs are {known:?}"),
            ));
        }
        if outputs[..j].iter().any(|(n, _)| n == name) {
            return Err(err(name, "given twice".to_owned()));
        }
    }
    plan.outputs
        .iter()
        .map(|(name, id)| {
            let buffer = plan.buffer(*id);
            let Some(j) = outputs.iter().position(|(n, _)| n == name) else {
                return Err(err(name, "no array was given for it".to_owned()));
            };
            let view = &outputs[j].1;
            if view.dtype() != buffer.dtype || view.shape() != buffer.shape.as_slice() {
                let message = format!(
                    "expected a {} array of shape {:?}, found a {} array of shape {:?}",
                    buffer.dtype,
                    buffer.shape,
                    view.dtype(),
                    view.shape()
                );
                return Err(err(name, message));
            }
            Ok(j)
        })
        .collect()
}
