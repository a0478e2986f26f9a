//! `rulebook diff`: the impact of a rule change on real data — both
//! rulebooks checked, the log read once against their merged schema, every
//! customer scored both ways, and the report (or one customer's two ledgers,
//! or the movers as CSV), with the committee's groups and gates.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use rayon::prelude::*;
use rulebook::date::Date;
use rulebook::diff::committee::{self, Groups};
use rulebook::diff::{self, Catalog, Classes, CustomerDiff, Gate, Pair, Report, Side};
use rulebook::eval::{Evaluator, Program};
use rulebook::input::{Roster, Schema};

use super::data::{self, DataArgs};
use super::{check_rulebook, open_output, read_text, CliResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Table,
    Json,
    /// Every customer whose total or grade changes, with the clauses behind it
    Csv,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rulebook in force
    pub old: PathBuf,
    /// The proposed rulebook
    pub new: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: DiffFormat,
    /// How many of the largest movers (and of the customers only one rulebook scores) to list
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,
    /// Show one customer's two ledgers side by side instead of the report
    #[arg(long, value_name = "ID", conflicts_with = "fail_if_grade_changes")]
    pub customer: Option<String>,
    /// Exit 1 when more customers than this change grade: a count (`25`) or a share (`2.5%`)
    #[arg(long, value_name = "N|P%", value_parser = Gate::parse)]
    pub fail_if_grade_changes: Option<Gate>,
    /// Exit 1 when more customers than this move to a worse grade: a count or a share
    #[arg(long, value_name = "N|P%", value_parser = Gate::parse, conflicts_with = "customer")]
    pub fail_if_downgrades: Option<Gate>,
    /// Exit 1 when any customer newly reaches this grade (of the new rulebook) or a worse one
    #[arg(long, value_name = "GRADE", conflicts_with = "customer")]
    pub fail_if_into: Option<String>,
    /// The roster before the revision (default: the same roster as --customers)
    #[arg(long, value_name = "FILE")]
    pub old_customers: Option<PathBuf>,
    /// Count moves per value of this roster column too (`branch`); for two
    /// index rulebooks, compare each value's index; repeatable
    #[arg(long = "by", value_name = "COLUMN")]
    pub by: Vec<String>,
    /// Write the report here instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What `diff` and `report` compare: two rulebooks on one log.
pub struct Inputs<'a> {
    pub old: &'a Path,
    pub new: &'a Path,
    pub data: &'a DataArgs,
    pub old_customers: Option<&'a Path>,
    pub by: &'a [String],
    /// The one customer whose ledgers are shown side by side with what
    /// happened (`--customer`): both rulebooks fold the log, to check that
    /// every customer's points hold as the whole comparison does, then a
    /// second read keeps that customer's events alone. Otherwise the log is
    /// only folded.
    pub customer: Option<&'a str>,
    /// `--fail-if-into GRADE`: checked to be a grade of the new rulebook as
    /// soon as it is read, before any data.
    pub into: Option<&'a str>,
}

/// Both rulebooks loaded and paired over the log, handed to a renderer.
pub struct Compared<'a> {
    pub pair: &'a Pair<'a>,
    pub old: &'a Side<'a>,
    pub new: &'a Side<'a>,
    /// The roster after the revision (`--customers`).
    pub roster: &'a Roster,
    pub as_of: Date,
    /// The first customer whose points cannot be held exactly, found by a
    /// pass over the whole log when `pair`'s log holds one customer
    /// (`--customer`).
    overflow: Option<String>,
}

impl Compared<'_> {
    /// `customer `C1` under `new.rules`: …`: why customer `i` cannot be compared.
    pub fn overflow_message(&self, i: usize, new: bool, e: &rulebook::eval::Overflow) -> String {
        let side = if new { self.new.path } else { self.old.path };
        format!("customer `{}` under `{side}`: {e}", self.pair.id(i))
    }

    /// The first customer whose points cannot be held exactly, as an error:
    /// for what does not score every customer itself (`Analysis::of` does).
    pub fn check_overflow(&self) -> Result<(), String> {
        if let Some(message) = &self.overflow {
            return Err(message.clone());
        }
        match self.pair.first_overflow() {
            Some((i, new, e)) => Err(self.overflow_message(i, new, &e)),
            None => Ok(()),
        }
    }
}

/// Reads the roster before the revision, against both rulebooks' classes.
fn old_roster(path: &Path, classes: &Classes, data: &DataArgs) -> Result<Roster, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open `{}`: {e}", path.display()))?;
    let name = path.display().to_string();
    let reader = rulebook::input::encoding::decoded(Box::new(std::io::BufReader::new(file)), data.encoding, &name)
        .map_err(|e| e.to_string())?;
    Roster::read(reader, &name, &classes.names()).map_err(|e| e.to_string())
}

/// Checks both rulebooks, reads the log once against their merged schema and
/// hands `f` the pair; prints the run summary after.
pub fn compare<T>(inp: Inputs<'_>, f: impl FnOnce(&Compared<'_>) -> Result<T, String>) -> Result<T, String> {
    let Loaded {
        old,
        new,
        old_src,
        new_src,
        old_path,
        new_path,
        schema,
        old_prog,
        new_prog,
    } = load_pair(inp.old, inp.new)?;
    if old_prog.classes.is_empty() || new_prog.classes.is_empty() {
        return Err(format!(
            "`{old_path}` and `{new_path}` cannot be compared customer by customer: one of them holds only an index"
        ));
    }
    if let Some(g) = inp.into {
        check_into(g, &new_prog);
    }
    let classes = Classes::of(&old_prog, &new_prog);
    let as_of = inp.data.as_of();
    // Keep every event either rulebook's longest window looks at.
    let horizon = old_prog.horizon(as_of).min(new_prog.horizon(as_of));
    rulebook::timing::phase("rulebooks read and checked");
    // In the file's order: `load_carrying` sorts it only when its columns are carried.
    let roster = inp.data.roster_any_order(&classes.names())?;
    rulebook::timing::phase("roster read");
    data::check_by(&roster, inp.by);
    let before = inp
        .old_customers
        .map(|p| old_roster(p, &classes, inp.data))
        .transpose()?;
    let (old_eval, new_eval) = (Evaluator::new(&old_prog, as_of), Evaluator::new(&new_prog, as_of));
    let fold = diff::PairFold {
        old: &old_eval,
        new: &new_eval,
        classes: &classes,
        old_roster: before.as_ref(),
    };
    // One customer's ledgers need its events: a log (or roster) that cannot
    // be read twice keeps them all on its one read.
    let folds =
        old_eval.foldable() && new_eval.foldable() && (inp.customer.is_none() || inp.data.rereadable_with_roster());
    let fold = folds.then_some(&fold as &dyn rulebook::input::Fold);
    let (log, roster) = inp.data.load_carrying(roster, &schema, Some(horizon), fold)?;
    if let Some(before) = &before {
        let gone = before.ids().filter(|id| log.find(id).is_none()).count();
        if gone > 0 {
            eprintln!(
                "note: {gone} customer(s) of the old roster are in neither the event logs nor the roster: not compared"
            );
        }
    }
    let groups = Groups {
        roster: &roster,
        columns: inp.by.iter().filter(|b| *b != "class").cloned().collect(),
    };
    let cat = Catalog::new(&old_prog, &new_prog);
    let summary = data::summary(&log, as_of);
    // Or they are kept on a second read, once the folded log (let go of
    // first) says that every customer's points hold. A customer whose points
    // do not is reported where the renderer checks (`Compared::check_overflow`),
    // after its usage checks, as when the log was read once.
    let mut overflow = None;
    let log = match inp.customer {
        Some(id) if log.is_folded() => {
            let folded = Pair {
                cat: &cat,
                classes: &classes,
                old: Evaluator::new(&old_prog, as_of),
                new: Evaluator::new(&new_prog, as_of),
                log: &log,
                old_roster: before.as_ref(),
                groups: None,
            };
            overflow = folded.first_overflow().map(|(i, new, e)| {
                let side = if new { &new_path } else { &old_path };
                format!("customer `{}` under `{side}`: {e}", folded.id(i))
            });
            drop(folded);
            match overflow {
                Some(_) => log,
                None => {
                    let first = log.summary.clone();
                    drop(log);
                    rulebook::input::release_free_memory();
                    let again = inp.data.load_one(&schema, &classes.names(), Some(horizon), id, true)?;
                    // Every row is read and counted again: other counts mean
                    // the log changed between the reads.
                    if again.summary != first {
                        return Err("the event logs changed between the two reads of `diff --customer` (the second counted other rows than the first); run again when they no longer change".into());
                    }
                    again
                }
            }
        }
        _ => log,
    };
    let pair = Pair {
        cat: &cat,
        classes: &classes,
        old: old_eval,
        new: new_eval,
        log: &log,
        old_roster: before.as_ref(),
        groups: (!groups.columns.is_empty()).then_some(&groups),
    };
    let old_side = Side {
        path: &old_path,
        book: &old,
        src: &old_src,
        prog: &old_prog,
    };
    let new_side = Side {
        path: &new_path,
        book: &new,
        src: &new_src,
        prog: &new_prog,
    };
    let result = f(&Compared {
        pair: &pair,
        old: &old_side,
        new: &new_side,
        roster: &roster,
        as_of,
        overflow,
    });
    if result.is_ok() {
        eprintln!("{summary}");
    }
    result
}

/// `--fail-if-into GRADE` must name a grade of the new rulebook: a usage error otherwise.
fn check_into(grade: &str, prog: &Program) {
    if !prog.bands.iter().any(|b| b.grade == grade) {
        let grades: Vec<&str> = prog.bands.iter().map(|b| b.grade.as_str()).collect();
        clap::Command::new("rulebook")
            .error(
                clap::error::ErrorKind::ValueValidation,
                format!(
                    "--fail-if-into `{grade}`: not a grade of the new rulebook (its grades are {})",
                    grades.join(", ")
                ),
            )
            .exit()
    }
}

pub fn run(args: Args) -> CliResult {
    let mut rulebooks = vec![
        ("the old rulebook", args.old.as_path()),
        ("the new rulebook", args.new.as_path()),
    ];
    rulebooks.extend(args.old_customers.as_deref().map(|p| ("--old-customers", p)));
    args.data.refuse_overwrites(&rulebooks, args.output.as_deref());
    if index_only(&args.old)? || index_only(&args.new)? {
        return index_run(&args);
    }
    // Usage errors exit at once, before anything is read (and before the
    // output, a temporary file beside it, is opened: none is left behind).
    if args.customer.is_some() && args.format == DiffFormat::Csv {
        clap::Command::new("rulebook")
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "--format csv lists the movers; --customer shows one customer as a table or JSON",
            )
            .exit()
    }
    let inputs = Inputs {
        old: &args.old,
        new: &args.new,
        data: &args.data,
        old_customers: args.old_customers.as_deref(),
        by: &args.by,
        customer: args.customer.as_deref(),
        into: args.fail_if_into.as_deref(),
    };
    compare(inputs, |c| render(&args, c))
}

fn render(args: &Args, c: &Compared<'_>) -> CliResult {
    let (pair, as_of) = (c.pair, c.as_of);
    let log = pair.log;
    let mut out = open_output(args.output.as_deref())?;
    let io = |e: std::io::Error| format!("cannot write the report: {e}");

    if let Some(id) = &args.customer {
        c.check_overflow()?;
        let Some(i) = log.find(id) else {
            return Err(format!("customer `{id}` is in neither the event logs nor the roster"));
        };
        let d = CustomerDiff::of(pair, i);
        let text = match args.format {
            DiffFormat::Table => diff::table::customer(pair, c.old, c.new, as_of, &d),
            DiffFormat::Json | DiffFormat::Csv => diff::json::customer(pair, c.old, c.new, as_of, &d),
        };
        out.write_all(text.as_bytes()).map_err(io)?;
        out.finish()?;
        return Ok(ExitCode::SUCCESS);
    }

    let gates = Gates {
        grade_changes: args.fail_if_grade_changes,
        downgrades: args.fail_if_downgrades,
        into: args.fail_if_into.as_deref(),
    };
    let analysis = Analysis::of(c, args.top, &gates)?;
    let report = analysis.report(c);
    let text = match args.format {
        DiffFormat::Table => diff::table::render(&report),
        DiffFormat::Json => diff::json::render(&report),
        DiffFormat::Csv => diff::csv::render(pair, c.roster),
    };
    out.write_all(text.as_bytes()).map_err(io)?;
    out.finish()?;
    Ok(analysis.verdict(&report))
}

/// The gates a run asks for.
pub struct Gates<'a> {
    pub grade_changes: Option<Gate>,
    pub downgrades: Option<Gate>,
    pub into: Option<&'a str>,
}

/// What `diff` and `report` compute from a comparison: the rule changes, the
/// impact, the largest movers' two ledgers, and the gates' verdicts.
pub struct Analysis {
    changes: Vec<diff::Change>,
    impact: diff::Impact,
    movers: Vec<CustomerDiff>,
    gate: Option<(Gate, bool)>,
    gates: Vec<committee::Verdict>,
}

impl Analysis {
    /// The analysis, or the first customer whose points cannot be held
    /// exactly (the impact pass finds it: every customer is scored there).
    pub fn of(c: &Compared<'_>, top: usize, asked: &Gates<'_>) -> Result<Analysis, String> {
        let pair = c.pair;
        let impact = diff::impact(pair, top);
        if let Some((i, new, e)) = &impact.overflow {
            return Err(c.overflow_message(*i, *new, e));
        }
        let movers = impact
            .movers
            .par_iter()
            .map(|m| CustomerDiff::of(pair, m.customer))
            .collect();
        Ok(Analysis {
            changes: diff::rule_changes(c.old, c.new),
            gate: asked.grade_changes.map(|g| (g, g.fails(&impact))),
            gates: gates(pair, &impact, asked.downgrades, asked.into),
            impact,
            movers,
        })
    }

    pub fn report<'a>(&'a self, c: &'a Compared<'a>) -> Report<'a> {
        Report {
            old: c.old,
            new: c.new,
            as_of: c.as_of,
            pair: c.pair,
            changes: &self.changes,
            impact: &self.impact,
            movers: &self.movers,
            gate: self.gate,
            gates: &self.gates,
        }
    }

    /// Exit code 1 when a gate fails, each failure said on stderr.
    pub fn verdict(&self, report: &Report<'_>) -> ExitCode {
        let mut failed = false;
        if let Some((g, true)) = self.gate {
            eprintln!("error: {}", diff::table::gate_line(report, g, true));
            failed = true;
        }
        for v in self.gates.iter().filter(|v| v.fails) {
            eprintln!("error: {}", v.line);
            failed = true;
        }
        if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// The committee's gates asked for, with their verdicts.
fn gates(
    pair: &Pair<'_>,
    impact: &diff::Impact,
    downgrades: Option<Gate>,
    into: Option<&str>,
) -> Vec<committee::Verdict> {
    downgrades
        .map(|g| committee::downgrade_gate(pair, impact, g))
        .into_iter()
        .chain(into.map(|g| committee::into_gate(pair, impact, g)))
        .collect()
}

/// Whether a rulebook holds only a satisfaction index (no class of customer).
/// Its diagnostics are printed when it is loaded for the comparison.
fn index_only(path: &Path) -> Result<bool, String> {
    let src = read_text(path)?;
    Ok(rulebook::syntax::parse(&src).is_ok_and(|book| book.classes.is_empty()))
}

/// Two rulebooks checked and compiled once against their merged schema.
struct Loaded {
    old: rulebook::syntax::ast::Rulebook,
    new: rulebook::syntax::ast::Rulebook,
    old_src: String,
    new_src: String,
    old_path: String,
    new_path: String,
    schema: Arc<Schema>,
    old_prog: Program,
    new_prog: Program,
}

fn load_pair(old_file: &Path, new_file: &Path) -> Result<Loaded, String> {
    // Checked, then lowered once, against the schema both share.
    let ((old, old_src, _), (new, new_src, _)) = (check_rulebook(old_file)?, check_rulebook(new_file)?);
    let (old_path, new_path) = (old_file.display().to_string(), new_file.display().to_string());
    let schema = Schema::merged(&[&old, &new]).map_err(|c| {
        format!(
            "the two rulebooks declare their events incompatibly: {}",
            c.describe(&[&old_path, &new_path])
        )
    })?;
    // One schema numbers at most 65535 kinds, as check/limits.rs keeps each rulebook's.
    if [&old, &new]
        .iter()
        .flat_map(|b| &b.events)
        .any(|e| schema.kind(&e.name.node).is_none())
    {
        return Err(format!(
            "`{old_path}` and `{new_path}` declare more than {} event kinds together",
            u16::MAX
        ));
    }
    let schema = Arc::new(schema);
    let old_prog = rulebook::check::program(&old, &old_src, schema.clone());
    let new_prog = rulebook::check::program(&new, &new_src, schema.clone());
    Ok(Loaded {
        old,
        new,
        old_src,
        new_src,
        old_path,
        new_path,
        schema,
        old_prog,
        new_prog,
    })
}

/// `diff` of rulebooks of which one holds only an index: both compiled against
/// their merged schema, then compared group by group.
fn index_run(args: &Args) -> CliResult {
    let l = load_pair(&args.old, &args.new)?;
    index_diff(args, (&l.old_path, &l.old_prog), (&l.new_path, &l.new_prog), &l.schema)
}

/// Two rulebooks holding only an index: how each group's index and priority move.
fn index_diff(args: &Args, old: (&str, &Program), new: (&str, &Program), schema: &Schema) -> CliResult {
    let (Some(old_ix), Some(new_ix), true, true) = (
        &old.1.index,
        &new.1.index,
        old.1.classes.is_empty(),
        new.1.classes.is_empty(),
    ) else {
        return Err(format!(
            "`{}` and `{}` cannot be compared: one scores customers, the other holds only an index",
            old.0, new.0
        ));
    };
    // What is about customers and grades does not apply: refused before
    // anything is read, not ignored (a gate ignored would pass quietly).
    if args.format == DiffFormat::Csv {
        super::output::usage_error(
            "--format csv lists the movers of two credit rulebooks; two index rulebooks compare as a table or JSON"
                .into(),
        );
    }
    let customers = [
        ("--customer", args.customer.is_some()),
        ("--fail-if-grade-changes", args.fail_if_grade_changes.is_some()),
        ("--fail-if-downgrades", args.fail_if_downgrades.is_some()),
        ("--fail-if-into", args.fail_if_into.is_some()),
    ];
    if let Some((flag, _)) = customers.iter().find(|(_, given)| *given) {
        super::output::usage_error(format!(
            "{flag} is about customers and their grades; two index rulebooks compare each group's index and priority"
        ));
    }
    let as_of = args.data.as_of();
    let roster = super::index::grouping_roster(&args.data, &args.by, &[])?;
    let after = old_ix.window(as_of).after.min(new_ix.window(as_of).after);
    let log = args.data.load_within(schema, &[], Some(after))?;
    let run = |ix| rulebook::index::group::run(ix, &log, &roster, &args.by, as_of).map_err(|e| e.to_string());
    let (old_result, new_result) = (run(old_ix)?, run(new_ix)?);
    let sides = rulebook::index::diff::Sides {
        old_path: old.0,
        new_path: new.0,
        old: old_ix,
        new: new_ix,
        old_result: &old_result,
        new_result: &new_result,
        as_of,
    };
    let text = match args.format {
        DiffFormat::Table => rulebook::index::diff::table(&sides),
        DiffFormat::Json => rulebook::index::diff::json(&sides),
        DiffFormat::Csv => unreachable!("--format csv is refused for two index rulebooks before they are compared"),
    };
    let mut out = open_output(args.output.as_deref())?;
    out.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write the report: {e}"))?;
    out.finish()?;
    eprintln!(
        "as of {as_of}: {} customers surveyed; {}",
        new_result.surveyed, log.summary
    );
    Ok(ExitCode::SUCCESS)
}
