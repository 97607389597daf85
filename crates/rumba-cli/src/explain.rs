//! `rumba explain`: the optimised plan of a graph for its inputs — the graph passes and what
//! each did, then every kernel (fused graph nodes, loop nest and tiling, loads, expressions,
//! reductions, stores, bytes read and written) and the materialised buffers, and which backend
//! runs each kernel (the JIT, or the plan evaluator and why); `--dot` draws the plan for
//! Graphviz instead.

use crate::error::CliError;
use crate::run::{InputArgs, Prepared, prepare, say};
use rumba::Backend;

/// Arguments of `rumba explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The graph and its inputs (their shapes decide the plan).
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Print the plan as Graphviz DOT.
    #[arg(long)]
    pub dot: bool,
    /// The memory budget whose streamed chunking to show (default: half of the available memory).
    #[arg(long, value_name = "SIZE", value_parser = crate::run::parse_budget)]
    pub memory_budget: Option<u64>,
}

/// Runs `rumba explain`.
///
/// # Errors
/// As `rumba run` before running: graph, input and binding errors.
pub fn explain(args: &ExplainArgs) -> Result<(), CliError> {
    let prepared = prepare(&args.inputs)?;
    let specs = prepared.specs();
    let budget = args.memory_budget.unwrap_or_else(rumba::stream::default_memory_budget);
    let options = Prepared::options(&args.inputs, Backend::Auto, budget);
    let exe = rumba::compile(&prepared.graph, &specs, &options).map_err(|e| CliError::Compile(Box::new(e)))?;
    let Some(plan) = exe.plan() else {
        unreachable!("the plan evaluator always has a plan")
    };
    if args.dot {
        say(rumba_plan::display::to_dot(plan).trim_end());
        return Ok(());
    }
    say(exe.explain(&prepared.params, budget).trim_end());
    Ok(())
}
