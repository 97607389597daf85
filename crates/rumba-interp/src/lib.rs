//! rumba's reference interpreter: a validated [`Graph`] evaluated op by op with ndarray.
//!
//! It is the oracle every other backend is compared against (DESIGN §5), so it favours
//! obviously correct code over speed: each node is computed whole, in topological order, with
//! the semantics documented on [`rumba_ir::Op`]; every statistic comes from one shared
//! implementation (`stats`) used by both `reduce` and `window`. Intermediate values are freed
//! after their last use ([`Graph::last_uses`]), and inputs are read in place, whatever their
//! strides.
//!
//! Modules, by concern: `eval` (the loop and its checks), `value` (values and the per-dtype
//! element trait), `elementwise`, `movement`, `reduce`, `window`, `stats`, `error`.

mod elementwise;
mod error;
mod eval;
mod movement;
mod reduce;
mod stats;
mod value;
mod window;

#[cfg(test)]
mod tests;

pub use error::InterpError;

use rumba_ir::bind::{self, InputSpec};
use rumba_ir::{Array, ArrayView, Graph};
use std::collections::BTreeMap;

/// Evaluates `graph` on `inputs` (by input name; any strides) with run-time `params` (by name;
/// missing ones take their defaults). Returns the graph outputs in `graph.outputs` order, each
/// with its output name, as owned C-contiguous arrays.
///
/// # Errors
/// Everything [`rumba_ir::bind::bind`] and [`rumba_ir::bind::param_values`] reject (missing or
/// unknown inputs and params, dtypes, shapes, empty extents, …), and run-time errors naming the
/// node: a `slice_at` start that is not an integer or does not fit, a masked integer min/max
/// lane with no element.
pub fn evaluate(
    graph: &Graph,
    inputs: &[(&str, ArrayView<'_>)],
    params: &BTreeMap<String, f64>,
) -> Result<Vec<(String, Array)>, InterpError> {
    let specs: Vec<InputSpec> = inputs
        .iter()
        .map(|(name, view)| InputSpec {
            name: (*name).to_owned(),
            dtype: view.dtype(),
            shape: view.shape().to_vec(),
        })
        .collect();
    let bound = bind::bind(graph, &specs)?;
    let param_values = bind::param_values(graph, params)?;
    eval::run(graph, inputs, &bound.shapes, &param_values)
}
