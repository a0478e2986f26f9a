//! `rulebook report`: one self-contained HTML page for people — the grade
//! distribution, each dimension's spread and the per-group table of a
//! rulebook's scores and, given a revision (`NEW`), its impact, with the
//! gate verdicts. Exit code 1 when a gate asked for fails, as for `diff`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use rayon::prelude::*;
use rulebook::diff::Gate;
use rulebook::eval::{Evaluator, Outcome, Overflow, Program};
use rulebook::input::{EventLog, Roster};
use rulebook::report::html::{self, Page};
use rulebook::report::summary::{DimStats, Distribution};
use rulebook::report::Scored;

use super::data::{self, DataArgs};
use super::diff::{compare, Analysis, Gates, Inputs};
use super::{load_rulebook, open_output, CliResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rulebook in force (or the only one)
    pub rulebook: PathBuf,
    /// A proposed revision: the page then shows what it changes
    pub new: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
    /// The roster before the revision (default: the same roster as --customers)
    #[arg(long, value_name = "FILE", requires = "new")]
    pub old_customers: Option<PathBuf>,
    /// Group by this roster column too (`branch`); repeatable
    #[arg(long = "by", value_name = "COLUMN")]
    pub by: Vec<String>,
    /// How many of the largest movers to list, each with its two ledgers
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,
    /// Gate: more customers than this change grade (a count or `P%`)
    #[arg(long, value_name = "N|P%", value_parser = Gate::parse, requires = "new")]
    pub fail_if_grade_changes: Option<Gate>,
    /// Gate: more customers than this move to a worse grade (a count or `P%`)
    #[arg(long, value_name = "N|P%", value_parser = Gate::parse, requires = "new")]
    pub fail_if_downgrades: Option<Gate>,
    /// Gate: any customer newly reaches this grade or a worse one
    #[arg(long, value_name = "GRADE", requires = "new")]
    pub fail_if_into: Option<String>,
    /// The page to write (`report.html`)
    #[arg(long, short, value_name = "FILE.html", required = true)]
    pub output: PathBuf,
}

/// Customers are evaluated this many at a time on every core.
const CHUNK: usize = 1 << 14;

/// The grade distribution and dimension spreads of `prog` over every customer,
/// `outcome(i)` scoring customer `i` (`None`: not scored); the first
/// customer, in the log's order, whose points cannot be held exactly is an
/// error, before anything is drawn.
fn profile(
    prog: &Program,
    log: &EventLog,
    roster: &Roster,
    by: &[String],
    as_of: rulebook::date::Date,
    outcome: impl Fn(usize) -> Option<Result<Outcome, Overflow>> + Sync,
) -> Result<(Distribution, DimStats), String> {
    let by: Vec<String> = by.iter().filter(|b| *b != "class").cloned().collect();
    let mut dist = Distribution::new(prog, &by);
    let mut dims = DimStats::new(prog);
    for start in (0..log.customers.len()).step_by(CHUNK) {
        let end = (start + CHUNK).min(log.customers.len());
        let outcomes: Vec<(usize, Result<Outcome, Overflow>)> = (start..end)
            .into_par_iter()
            .filter_map(|i| outcome(i).map(|o| (i, o)))
            .collect();
        for (i, o) in outcomes {
            let o = o.map_err(|e| {
                let id = log.customers.get(i).map_or("", |c| &*c.id);
                format!("customer `{id}`: {e}")
            })?;
            let s = Scored {
                prog,
                log,
                customer: i,
                outcome: &o,
                as_of,
            };
            dist.add_scored(&s, roster);
            dims.add(prog, &o);
        }
    }
    Ok((dist, dims))
}

fn write_page(path: &std::path::Path, page: &str) -> Result<(), String> {
    let mut out = open_output(Some(path))?;
    let io = |e: std::io::Error| format!("cannot write the report: {e}");
    out.write_all(page.as_bytes()).map_err(io)?;
    out.finish()
}

pub fn run(args: Args) -> CliResult {
    let mut rulebooks = vec![("the rulebook", args.rulebook.as_path())];
    rulebooks.extend(args.new.as_deref().map(|p| ("the new rulebook", p)));
    rulebooks.extend(args.old_customers.as_deref().map(|p| ("--old-customers", p)));
    args.data.refuse_overwrites(&rulebooks, Some(&args.output));
    match &args.new {
        None => one(&args),
        Some(new) => {
            let inputs = Inputs {
                old: &args.rulebook,
                new,
                data: &args.data,
                old_customers: args.old_customers.as_deref(),
                by: &args.by,
                customer: None,
                into: args.fail_if_into.as_deref(),
            };
            compare(inputs, |c| revision(&args, c))
        }
    }
}

/// One rulebook: its scores, or its satisfaction index when it holds only one.
fn one(args: &Args) -> CliResult {
    let checked = load_rulebook(&args.rulebook)?;
    let prog = &checked.program;
    if prog.classes.is_empty() {
        return index(args, prog);
    }
    let as_of = args.data.as_of();
    rulebook::timing::phase("rulebook read and checked");
    // Sorted only if it is kept: a load needs no order.
    let roster = args.data.roster_any_order(&prog.class_names())?;
    rulebook::timing::phase("roster read");
    data::check_by(&roster, &args.by);
    let eval = Evaluator::new(prog, as_of);
    let horizon = Some(prog.horizon(as_of));
    let fold = eval.foldable().then_some(&eval as &dyn rulebook::input::Fold);
    let (log, roster) = args.data.load_carrying(roster, &prog.schema, horizon, fold)?;
    // Points too large to hold are an error before anything is drawn.
    let (dist, dims) = profile(prog, &log, &roster, &args.by, as_of, |i| {
        eval.evaluate_in(&log, i, false)
    })?;
    let summary = data::summary(&log, as_of);
    let path = args.rulebook.display().to_string();
    let page = html::render(&Page {
        prog,
        path: &path,
        as_of,
        dist: &dist,
        dims: &dims,
        summary: &summary,
        revision: None,
    });
    write_page(&args.output, &page)?;
    eprintln!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// A rulebook holding only a satisfaction index: the index overall and per
/// `--by` group, with intervals, block scores and priorities.
fn index(args: &Args, prog: &Program) -> CliResult {
    let Some(ix) = &prog.index else {
        return Err(format!(
            "`{}` declares neither a class of customer nor an index: nothing to report",
            args.rulebook.display()
        ));
    };
    let as_of = args.data.as_of();
    let classes = prog.class_names();
    let roster = super::index::grouping_roster(&args.data, &args.by, &classes)?;
    let log = args
        .data
        .load_within(&prog.schema, &classes, Some(ix.window(as_of).after))?;
    let result = rulebook::index::group::run(ix, &log, &roster, &args.by, as_of).map_err(|e| e.to_string())?;
    let summary = format!(
        "as of {as_of}: {} customers surveyed in the period; {}",
        result.surveyed, log.summary
    );
    let path = args.rulebook.display().to_string();
    let page = rulebook::report::index_html::render(&rulebook::report::index_html::IndexPage {
        prog,
        index: ix,
        result: &result,
        path: &path,
        as_of,
        summary: &summary,
    });
    write_page(&args.output, &page)?;
    eprintln!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// Two rulebooks: the new one's scores and the revision's impact.
fn revision(args: &Args, c: &super::diff::Compared<'_>) -> CliResult {
    let pair = c.pair;
    let asked = Gates {
        grade_changes: args.fail_if_grade_changes,
        downgrades: args.fail_if_downgrades,
        into: args.fail_if_into.as_deref(),
    };
    let analysis = Analysis::of(c, args.top, &asked)?;
    let report = analysis.report(c);
    let (dist, dims) = profile(c.new.prog, pair.log, c.roster, &args.by, c.as_of, |i| {
        pair.try_evaluate_new(i)
    })?;
    let summary = data::summary(pair.log, c.as_of);
    let page = html::render(&Page {
        prog: c.new.prog,
        path: c.new.path,
        as_of: c.as_of,
        dist: &dist,
        dims: &dims,
        summary: &summary,
        revision: Some(&report),
    });
    write_page(&args.output, &page)?;
    Ok(analysis.verdict(&report))
}
