//! The executor and the plan evaluator on hand-built plans, compared bit for bit with the
//! reference interpreter running the equivalent graph (built with the DSL) on the same data,
//! which holds NaN, ±Inf and −0.0.

mod allocation;
mod elementwise;
mod errors;
mod reductions;
mod support;
mod threads;
mod windows;
