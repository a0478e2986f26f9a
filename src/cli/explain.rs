//! `rulebook explain`: one customer's points ledger, rule by rule.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use rulebook::eval::Evaluator;
use rulebook::report::{self, explain::Origin, Scored};

use super::data::DataArgs;
use super::{load_rulebook, read_text, CliResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rulebook to score with
    pub rulebook: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// The customer to explain
    #[arg(long, value_name = "ID")]
    pub customer: String,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: ExplainFormat,
}

pub fn run(args: Args) -> CliResult {
    args.data.refuse_overwrites(&[("the rulebook", &args.rulebook)], None);
    let checked = load_rulebook(&args.rulebook)?;
    super::require_classes(&checked, &args.rulebook)?;
    let src = read_text(&args.rulebook)?;
    let prog = &checked.program;
    let as_of = args.data.as_of();
    // A targeted load: every row is read and checked, only this customer kept.
    let log = args.data.load_one(
        &prog.schema,
        &prog.class_names(),
        Some(prog.horizon(as_of)),
        &args.customer,
        false,
    )?;
    let Some(i) = log.find(&args.customer) else {
        return Err(format!(
            "customer `{}` is in neither the event logs nor the roster",
            args.customer
        ));
    };
    let eval = Evaluator::new(prog, as_of);
    let outcome = eval
        .evaluate_in(&log, i, true)
        .expect("`find` gives a customer of the log")
        .map_err(|e| format!("customer `{}`: {e}", args.customer))?;
    let s = Scored {
        prog,
        log: &log,
        customer: i,
        outcome: &outcome,
        as_of,
    };
    let text = match args.format {
        ExplainFormat::Text => report::explain::text(
            &s,
            &Origin {
                file: &args.rulebook.display().to_string(),
                src: &src,
            },
        ),
        ExplainFormat::Json => report::json_object(&s, true) + "\n",
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| format!("cannot write: {e}"))?;
    Ok(ExitCode::SUCCESS)
}
