//! rumba's optimizer: graph passes (Graph → Graph), then fusion (Graph → Plan).
//!
//! The graph passes, one per module, run in the order of [`PASSES`] (each entry says why it
//! sits there): [`fold_constants`], [`simplify_algebra`], [`eliminate_common_subexpressions`],
//! [`remove_dead_nodes`], [`push_down_slices`]. [`optimize_graph`] runs them on a validated,
//! bound graph ([`rumba_ir::rewrite::specialize`]) and [`verify()`]s the graph after each one
//! in debug builds. Every pass computes the same values, bit for bit, as its input graph.

mod cuts;
pub mod eliminate_common_subexpressions;
mod error;
pub mod fold_constants;
pub mod fuse;
mod passes;
pub mod push_down_slices;
pub mod remove_dead_nodes;
pub mod simplify_algebra;
pub mod verify;

pub use error::OptError;
pub use passes::{PASSES, PLAN_PASSES, Pass, PassFn, PassOptions, PassReport, optimize_graph};
pub use verify::{VerifyError, verify};
