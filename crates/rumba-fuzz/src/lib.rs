//! rumba's fuzz targets, as ordinary library functions so that they build and run on the
//! stable toolchain: the cargo-fuzz harness in `fuzz/` calls them (one line per target), and
//! `tests/corpus.rs` runs them over the committed corpus and regression inputs in CI.
//!
//! - [`graph_file`]: any bytes as graph-file text — loaded, validated, bound to small inputs
//!   derived from the graph's declared inputs, compiled for the plan evaluator, explained
//!   (passes, plan, DOT, streamed chunking) and run on the plan evaluator and the reference
//!   interpreter. Errors are fine; a panic, abort or hang is a bug.
//! - [`differential`]: bytes decoded into a small random graph (built through the DSL) and
//!   its inputs, run on the reference interpreter, the plan evaluator and the JIT, whose
//!   results must agree by DESIGN §5's rules ([`compare`]); a mismatch panics with the case.
//!
//! Both are total: every byte string is a valid input, and the sizes they run are capped so
//! each execution takes milliseconds.
//!
//! ```
//! rumba_fuzz::graph_file(br#"{"format": "rumba-graph", "version": 1, "nodes": [], "outputs": []}"#);
//! rumba_fuzz::differential(&[0, 3, 2, 2, 0, 1, 0, 0]);
//! ```

mod bytes;
pub mod compare;
mod differential;
mod graph_file;
pub mod rust_text;
mod values;

pub use differential::{describe as describe_differential, differential};
pub use graph_file::graph_file;

/// Most elements of any node's value that a target runs (so no execution does heavy work).
pub const MAX_RUN_ELEMENTS: usize = 1 << 12;

/// Most elements of any node's shape that a target binds or compiles (larger graphs are
/// skipped: legitimately huge work is not a bug).
pub const MAX_BIND_ELEMENTS: usize = 1_000_000;
