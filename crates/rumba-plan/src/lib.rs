//! rumba's Plan: the contract between the optimizer and the backends.
//!
//! [`plan`] defines the Plan (kernels as loop nests over buffers with affine index maps),
//! [`args`] the `extern "C"` kernel ABI, [`verify`] its invariants, [`display`] the `explain`
//! text and DOT drawing, and [`eval`] the plan evaluator — the fallback backend, which runs a
//! kernel with plain scalar loops through the same ABI, independent of any code generator.

pub mod args;
pub mod display;
pub mod eval;
pub mod plan;
pub mod running;
pub mod verify;

pub use args::{BufferArg, KernelArgs};
pub use plan::{
    Accumulate, Affine, Axis, Buffer, BufferId, Expr, ExprId, ExprNode, IndexMap, Kernel, Load, ParamId, ParamSource,
    Plan, Reduction, Role, Running, Schedule, SpanTable, Store,
};
pub use verify::{VerifyError, verify};
