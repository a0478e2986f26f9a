//! The `rulebook` command line: parses arguments and dispatches to one
//! function per subcommand under `cli/`.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Check, score, explain, test and compare utility credit-scoring rulebooks.
#[derive(Parser)]
#[command(name = "rulebook", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and check rulebooks; print diagnostics
    Check(cli::check::Args),
    /// Score every customer of the event logs and roster
    Score(cli::score::Args),
    /// Explain one customer's score, rule by rule
    Explain(cli::explain::Args),
    /// Compare two rulebooks on the same events: whose grade changes, and why
    Diff(cli::diff::Args),
    /// Write one HTML page for people: distributions, groups and, with NEW, a revision's impact
    Report(cli::report::Args),
    /// Run a rulebook's test cases (`*.tests`): expected scores, grades and clauses
    Test(cli::test::Args),
    /// Rewrite rulebooks in the canonical layout (`--check`: only report)
    Fmt(cli::fmt::Args),
    /// Customer satisfaction index per group of customers (a rulebook's `index`)
    Index(cli::index::Args),
}

fn main() -> ExitCode {
    rulebook::timing::start();
    let args = Args::parse();
    match &args.command {
        Command::Score(a) => a.data.start_threads(),
        Command::Explain(a) => a.data.start_threads(),
        Command::Diff(a) => a.data.start_threads(),
        Command::Report(a) => a.data.start_threads(),
        Command::Index(a) => a.data.start_threads(),
        Command::Check(_) | Command::Test(_) | Command::Fmt(_) => {}
    }
    let result = match args.command {
        Command::Check(a) => cli::check::run(a),
        Command::Score(a) => cli::score::run(a),
        Command::Explain(a) => cli::explain::run(a),
        Command::Diff(a) => cli::diff::run(a),
        Command::Report(a) => cli::report::run(a),
        Command::Test(a) => cli::test::run(a),
        Command::Fmt(a) => cli::fmt::run(a),
        Command::Index(a) => cli::index::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
