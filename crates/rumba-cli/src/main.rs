//! The `rumba` command-line tool.
//!
//! - `rumba run GRAPH.json [--input NAME=FILE.npy]... [--param NAME=VALUE]...
//!   [--shape NAME=TxHxWxC]... [--output DIR] [--backend interp|auto] [--seed N]` runs a graph
//!   file on `.npy` inputs, or on synthetic stacks for the inputs not given, prints a summary of
//!   every output and optionally writes them as `.npy` files.
//! - `rumba explain GRAPH.json [same input flags] [--dot]` prints the optimised plan.
//! - `rumba check GRAPH.json` validates a graph file and prints the typed graph.
//!
//! Errors print as `error: …` on stderr. Exit codes: 0 success, 2 for usage, graph and input
//! errors (everything found before the graph runs), 1 for failures while running or writing.
//! No environment variable is read.
//!
//! Modules: [`args`] (parsing `NAME=VALUE` flags), [`run`] (the `run` command), [`report`]
//! (what `run` prints), [`error`] (the error type and exit codes).

mod args;
mod error;
mod explain;
mod progress;
mod report;
mod run;
mod signals;

use clap::{Parser, Subcommand};
use error::CliError;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// rumba: a lazy array-pipeline compiler for image stacks.
#[derive(Debug, Parser)]
#[command(name = "rumba", version, about)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run a graph file on .npy inputs or synthetic stacks and summarise its outputs.
    Run(run::RunArgs),
    /// Print the optimised plan of a graph for its inputs (kernels, loops, traffic).
    Explain(explain::ExplainArgs),
    /// Validate a graph file and print the typed graph.
    Check {
        /// The graph file (JSON).
        graph: PathBuf,
    },
}

fn main() -> ExitCode {
    signals::install();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `--help` and `--version` land here too; clap knows their exit code (0).
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let result = match &cli.command {
        Command::Run(args) => run::run(args),
        Command::Explain(args) => explain::explain(args),
        Command::Check { graph } => check(graph),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// `rumba check`: load, validate, print.
fn check(path: &Path) -> Result<(), CliError> {
    let graph = run::load_graph(path)?;
    let text = graph.to_string();
    run::say(text.trim_end());
    Ok(())
}
