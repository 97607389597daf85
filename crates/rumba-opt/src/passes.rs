//! The graph passes as data — name, function, and why it sits where it does — and the driver
//! that runs them in that order, timing each and verifying the graph after each in debug and
//! test builds.

use crate::verify::verify;
use crate::{
    OptError, eliminate_common_subexpressions, fold_constants, push_down_slices, remove_dead_nodes, simplify_algebra,
};
use rumba_ir::Graph;
use std::fmt;
use std::time::{Duration, Instant};

/// A graph pass: Graph → Graph.
pub type PassFn = fn(&Graph) -> Result<Graph, OptError>;

/// One graph pass.
#[derive(Clone, Copy, Debug)]
pub struct Pass {
    /// The pass's name (its file's; `--disable-pass` takes it).
    pub name: &'static str,
    /// The pass.
    pub run: PassFn,
    /// Why it runs where it does ("must run before X because Y").
    pub note: &'static str,
}

/// Plan-level steps that `--disable-pass` also names: `fusion` (disabled, every node is
/// materialised) and `running_windows` (disabled, every window is reduced from its values).
/// [`optimize_graph`] accepts and ignores them; fusion reads them.
pub const PLAN_PASSES: &[&str] = &["fusion", "running_windows"];

/// The graph passes, in the order [`optimize_graph`] runs them. They expect a validated graph,
/// best [`rumba_ir::rewrite::specialize`]d to the shapes it was bound to: rewrites that need
/// an extent only fire on fixed dims. Fusion (Graph → Plan) comes after all of them.
pub const PASSES: &[Pass] = &[
    Pass {
        name: fold_constants::NAME,
        run: fold_constants::fold_constants,
        note: "must run before simplify_algebra because validation writes a scalar 1 as `cast(const 1 to f32)`, \
               which simplify recognises as `const(1) : f32` once folded; and before \
               eliminate_common_subexpressions so equal folded consts merge",
    },
    Pass {
        name: simplify_algebra::NAME,
        run: simplify_algebra::simplify_algebra,
        note: "must run before eliminate_common_subexpressions because removing `x * 1` and merging casts \
               exposes nodes that become identical",
    },
    Pass {
        name: eliminate_common_subexpressions::NAME,
        run: eliminate_common_subexpressions::eliminate_common_subexpressions,
        note: "must run before push_down_slices because a reference computed twice (two pipeline steps over \
               the same frames) must be one node to be sliced and computed once",
    },
    Pass {
        name: remove_dead_nodes::NAME,
        run: remove_dead_nodes::remove_dead_nodes,
        note: "must run after fold_constants and simplify_algebra because they leave the nodes they replace \
               unused, and before push_down_slices so no slice is pushed into a dead node",
    },
    Pass {
        name: push_down_slices::NAME,
        run: push_down_slices::push_down_slices,
        note: "must run last, before fusion, because fusion turns the slices that remain into load index maps; \
               it removes the nodes its rewrites leave dead itself",
    },
];

/// Which passes to run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassOptions {
    /// Names of passes to skip (the CLI's `--disable-pass`).
    pub disabled: Vec<String>,
}

/// What one pass did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassReport {
    /// The pass.
    pub name: &'static str,
    /// Disabled by [`PassOptions::disabled`], so not run.
    pub skipped: bool,
    /// Nodes before the pass.
    pub nodes_before: usize,
    /// Nodes after it.
    pub nodes_after: usize,
    /// Time it took (zero when skipped).
    pub time: Duration,
}

impl fmt::Display for PassReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.skipped {
            return write!(f, "{:<32} disabled", self.name);
        }
        write!(
            f,
            "{:<32} {:>5} → {:<5} nodes  {:?}",
            self.name, self.nodes_before, self.nodes_after, self.time
        )
    }
}

/// Runs [`PASSES`] in order on `graph`, skipping the disabled ones; after each pass, in debug
/// builds, [`verify()`] checks the graph against `graph`.
///
/// # Errors
/// [`OptError::UnknownPass`] if `options` disables a pass that does not exist; otherwise only
/// bugs: a pass's own error, or [`OptError::Verify`] naming the pass after which the graph
/// broke an invariant.
pub fn optimize_graph(graph: &Graph, options: &PassOptions) -> Result<(Graph, Vec<PassReport>), OptError> {
    let known = |d: &String| PASSES.iter().any(|p| p.name == *d) || PLAN_PASSES.contains(&d.as_str());
    if let Some(name) = options.disabled.iter().find(|d| !known(d)) {
        return Err(OptError::UnknownPass {
            name: name.clone(),
            known: PASSES
                .iter()
                .map(|p| p.name)
                .chain(PLAN_PASSES.iter().copied())
                .collect(),
        });
    }
    let mut current: Option<Graph> = None;
    let mut reports = Vec::with_capacity(PASSES.len());
    for pass in PASSES {
        let input = current.as_ref().unwrap_or(graph);
        let nodes_before = input.nodes.len();
        if options.disabled.iter().any(|d| d == pass.name) {
            reports.push(PassReport {
                name: pass.name,
                skipped: true,
                nodes_before,
                nodes_after: nodes_before,
                time: Duration::ZERO,
            });
            continue;
        }
        let start = Instant::now();
        let output = (pass.run)(input)?;
        let time = start.elapsed();
        if cfg!(debug_assertions) {
            verify(&output, graph).map_err(|error| OptError::Verify { pass: pass.name, error })?;
        }
        reports.push(PassReport {
            name: pass.name,
            skipped: false,
            nodes_before,
            nodes_after: output.nodes.len(),
            time,
        });
        current = Some(output);
    }
    Ok((current.unwrap_or_else(|| graph.clone()), reports))
}
