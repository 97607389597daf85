//! `rumba explain`: the optimised plan of a graph for its inputs — the graph passes and what
//! each did, then every kernel (fused graph nodes, loop nest and tiling, loads, expressions,
//! reductions, stores, bytes read and written) and the materialised buffers, and which backend
//! runs each kernel (the JIT, or the plan evaluator and why); `--dot` draws the plan for
//! Graphviz instead.

use crate::error::CliError;
use crate::run::{InputArgs, Prepared, prepare};
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
}

/// Runs `rumba explain`.
///
/// # Errors
/// As `rumba run` before running: graph, input and binding errors.
pub fn explain(args: &ExplainArgs) -> Result<(), CliError> {
    let prepared = prepare(&args.inputs)?;
    let views = prepared.views();
    let options = Prepared::options(&args.inputs, Backend::Auto);
    let exe = rumba::compile(&prepared.graph, &rumba::input_specs(&views), &options)
        .map_err(|e| CliError::Compile(Box::new(e)))?;
    let Some(plan) = exe.plan() else {
        unreachable!("the plan evaluator always has a plan")
    };
    if args.dot {
        print!("{}", rumba_plan::display::to_dot(plan));
        return Ok(());
    }
    for (name, view) in &views {
        println!("input {name}: {} {:?}", view.dtype(), view.shape());
    }
    for pass in &exe.passes {
        println!("{pass}");
    }
    print!("{plan}");
    for info in exe.kernels() {
        match &info.fallback {
            Some(why) => println!(
                "backend {}: plan evaluator (the JIT cannot compile it: {why})",
                info.name
            ),
            None => println!("backend {}: {}", info.name, info.backend),
        }
    }
    Ok(())
}
