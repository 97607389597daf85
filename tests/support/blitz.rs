//! The example graph files of `examples/graphs/`, each built again, independently, with the
//! DSL. `tests/examples.rs` checks that both forms give identical results.

use rumba::dsl::{Builder, Stat, Step};
use rumba::{DType, Graph, GraphError};
use rumba_ir::def::{EnvelopeOver, Orientation};

const STACK: [Option<usize>; 4] = [None, None, None, Some(1)];

/// `examples/graphs/background_subtraction.json`.
pub fn background_subtraction() -> Result<Graph, GraphError> {
    let b = Builder::new();
    let x = b.input("x", DType::U8, STACK);
    let sub = b.param("sub_amount", Some(1.0));
    let div = b.param("div_amount", Some(1.0));
    let out = x.pipeline(
        Some(Step::range([0, 9], Stat::Mean).amount(&sub)),
        Some(Step::range([0, 9], Stat::Mean).amount(&div)),
    );
    b.build([("out", &out)])
}

/// `examples/graphs/sliding_normalisation.json`.
pub fn sliding_normalisation() -> Result<Graph, GraphError> {
    let b = Builder::new();
    let x = b.input("x", DType::U8, STACK);
    let sub = b.param("sub_amount", Some(1.0));
    let div = b.param("div_amount", Some(1.0));
    let out = x.pipeline(
        Some(Step::sliding(10, 5, Stat::Mean).amount(&sub)),
        Some(Step::sliding(10, 5, Stat::Mean).amount(&div)),
    );
    b.build([("out", &out)])
}

/// `examples/graphs/envelope.json`.
pub fn envelope() -> Result<Graph, GraphError> {
    let b = Builder::new();
    let x = b.input("x", DType::U8, STACK);
    let (row_min, row_max) = x.envelope(Orientation::H, 256, 5, EnvelopeOver::Dataset);
    let (col_min, col_max) = x.envelope(Orientation::V, 200, 3, EnvelopeOver::Frames);
    b.build([
        ("row_env.min", &row_min),
        ("row_env.max", &row_max),
        ("col_env.min", &col_min),
        ("col_env.max", &col_max),
    ])
}

/// `examples/graphs/roi_series.json`.
pub fn roi_series() -> Result<Graph, GraphError> {
    let b = Builder::new();
    let x = b.input("x", DType::U16, STACK);
    let pentagon = [
        [180.5, 120.0],
        [330.0, 140.25],
        [380.75, 290.5],
        [256.0, 400.0],
        [140.0, 300.0],
    ];
    let (mean, min, max) = x.roi_series(&pentagon);
    b.build([("roi.mean", &mean), ("roi.min", &min), ("roi.max", &max)])
}

/// Builds one example with the DSL.
pub type BuildFn = fn() -> Result<Graph, GraphError>;

/// Every example: (file stem, DSL builder).
pub fn all() -> Vec<(&'static str, BuildFn)> {
    vec![
        ("background_subtraction", background_subtraction),
        ("sliding_normalisation", sliding_normalisation),
        ("envelope", envelope),
        ("roi_series", roi_series),
    ]
}
