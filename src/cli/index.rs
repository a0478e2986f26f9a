//! `rulebook index`: the satisfaction index of a rulebook's `index`, overall
//! and per value of each `--by` roster column.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use rulebook::index::{group, report};
use rulebook::input::Roster;

use super::data::DataArgs;
use super::{load_rulebook, open_output, CliResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum IndexFormat {
    Table,
    Jsonl,
    Json,
    Csv,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rulebook holding the index (`index … { block … }`)
    pub rulebook: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Also give the index per value of this roster column (e.g. `branch`); repeatable
    #[arg(long, value_name = "COLUMN")]
    pub by: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: IndexFormat,
    /// Write results here instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// A usage error: exit code 2, like clap's own.
fn usage(message: String) -> ! {
    clap::Command::new("rulebook")
        .error(clap::error::ErrorKind::ValueValidation, message)
        .exit()
}

/// The roster, checked to have every `--by` column (a usage error otherwise).
pub fn grouping_roster(data: &DataArgs, by: &[String], classes: &[&str]) -> Result<Roster, String> {
    let roster = data.roster(classes)?;
    if by.is_empty() {
        return Ok(roster);
    }
    if data.customers.is_none() {
        usage("`--by` groups customers by a column of the roster: pass `--customers FILE`".into());
    }
    let columns: Vec<&str> = roster.columns().iter().map(|c| &**c).collect();
    for col in by {
        if !columns.contains(&col.as_str()) {
            let has = match columns.as_slice() {
                [] => "no columns beyond customer, class and since".to_string(),
                cs => cs.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
            };
            usage(format!("`--by {col}`: the roster has no column `{col}` (it has {has})"));
        }
    }
    Ok(roster)
}

pub fn run(args: Args) -> CliResult {
    args.data
        .refuse_overwrites(&[("the rulebook", &args.rulebook)], args.output.as_deref());
    let checked = load_rulebook(&args.rulebook)?;
    let prog = &checked.program;
    let Some(index) = &prog.index else {
        return Err(format!(
            "`{}` declares no index; `rulebook index` reads `index NAME of latest KIND scale 1..10 {{ block … }}` (see docs/csi.md)",
            args.rulebook.display()
        ));
    };
    let as_of = args.data.as_of();
    let classes = prog.class_names();
    let roster = grouping_roster(&args.data, &args.by, &classes)?;
    let window = index.window(as_of);
    let log = args.data.load_within(&prog.schema, &classes, Some(window.after))?;
    let result = group::run(index, &log, &roster, &args.by, as_of).map_err(|e| e.to_string())?;
    let text = match args.format {
        IndexFormat::Jsonl => report::jsonl(index, &result),
        IndexFormat::Json => report::json(index, &result, &prog.name, as_of),
        IndexFormat::Csv => report::csv(index, &result),
        IndexFormat::Table => {
            let title = format!("{} {}", prog.name, prog.version.as_deref().unwrap_or(""));
            report::table(index, &result, title.trim_end(), as_of)
        }
    };
    let mut out = open_output(args.output.as_deref())?;
    out.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write the results: {e}"))?;
    out.finish()?;
    let (respondents, unanswered) = result
        .groups
        .first()
        .map_or((0, 0), |(_, g)| (g.respondents, g.unanswered));
    eprintln!(
        "as of {as_of}: {} customers surveyed in the period ({respondents} respondents, {unanswered} unanswered); {}",
        result.surveyed, log.summary
    );
    Ok(ExitCode::SUCCESS)
}
