//! `rulebook score`: every customer of the logs and roster, scored; the
//! roster's own columns carried into every format, the grade distribution
//! (by class and `--by` columns) in the table and JSON, CSV for Excel and
//! an Excel workbook.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use rayon::prelude::*;
use rulebook::eval::{Evaluator, Outcome};
use rulebook::input::EventLog;
use rulebook::report::columns::{Headers, Layout};
use rulebook::report::summary::Distribution;
use rulebook::report::{self, Scored};

use super::data::{self, DataArgs};
use super::{load_rulebook, open_output, CliResult};

/// The first members of `--format json`; the customers follow as they are
/// scored, then the summary.
#[derive(serde::Serialize)]
struct Head<'a> {
    standard: &'a str,
    version: Option<&'a str>,
    as_of: rulebook::date::Date,
}

/// The last member of `--format json`: the log's counts and the grades.
#[derive(serde::Serialize)]
struct Summary<'a> {
    customers: usize,
    rows: u64,
    scored: u64,
    after_as_of: u64,
    undeclared: &'a std::collections::BTreeMap<String, u64>,
    blank: u64,
    rejected: u64,
    #[serde(flatten)]
    grades: report::summary::DistributionJson<'a>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Jsonl,
    Json,
    Csv,
    /// An Excel workbook (needs `--output`): results and the grade distribution with charts
    Xlsx,
}

/// What the CSV header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum HeaderNames {
    /// The rulebook's labels: 客户, 类别, 总分, 等级, each dimension's label…
    Labels,
    /// Machine names: customer, class, total, grade, each dimension's name…
    Names,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rulebook to score with
    pub rulebook: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// Write results here instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Include each customer's points ledger (JSON formats)
    #[arg(long)]
    pub explain: bool,
    /// Group the grade distribution by this roster column too (`branch`); repeatable
    #[arg(long = "by", value_name = "COLUMN")]
    pub by: Vec<String>,
    /// CSV: start with a UTF-8 byte order mark, so Excel reads Chinese right
    #[arg(long)]
    pub bom: bool,
    /// CSV: header of labels or of names; with it (or --bom) the CSV also has
    /// as_of, flags and measures columns
    #[arg(long, value_enum, value_name = "labels|names")]
    pub headers: Option<HeaderNames>,
    /// The logs list each customer's rows together, ids ascending (byte
    /// order): score each customer as soon as its rows end, in constant
    /// memory (jsonl, csv or json). A row out of order is an error.
    #[arg(long)]
    pub sorted: bool,
    /// --explain: about the most memory (`4G`, `512M`) the run keeps
    /// events in; a bigger log is read in passes, each explaining a share of
    /// the customers, in order [default: half the memory available]
    #[arg(long, value_name = "SIZE", value_parser = data::parse_size, requires = "explain")]
    pub memory: Option<u64>,
}

/// Customers are evaluated this many at a time on every core, then written in order.
const CHUNK: usize = 1 << 14;

/// Customers evaluated and rendered by one task, into one buffer.
const RUN: usize = 256;

/// A run of customers rendered: their text, and their outcomes when the
/// format needs them after (the distribution, the table, the workbook); it
/// stops at the first customer that cannot be scored.
struct Rendered {
    text: Vec<u8>,
    kept: Vec<(usize, Outcome)>,
    error: Option<String>,
}

pub fn run(args: Args) -> CliResult {
    args.data
        .refuse_overwrites(&[("the rulebook", &args.rulebook)], args.output.as_deref());
    if args.explain && !matches!(args.format, OutputFormat::Json | OutputFormat::Jsonl) {
        super::output::usage_error(
            "--explain adds each customer's ledger to the JSON formats only: use it with --format json or jsonl".into(),
        );
    }
    if args.format == OutputFormat::Xlsx && args.output.is_none() {
        clap::Command::new("rulebook")
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "--format xlsx writes a workbook: name it with --output FILE.xlsx",
            )
            .exit()
    }
    if args.sorted && matches!(args.format, OutputFormat::Table | OutputFormat::Xlsx) {
        super::output::usage_error("--sorted writes each customer as it goes: use --format jsonl, csv or json".into());
    }
    let checked = load_rulebook(&args.rulebook)?;
    super::require_classes(&checked, &args.rulebook)?;
    let prog = &checked.program;
    let as_of = args.data.as_of();
    rulebook::timing::phase("rulebook read and checked");
    // Sorted only if it is kept: a load needs no order.
    let roster = args.data.roster_any_order(&prog.class_names())?;
    rulebook::timing::phase("roster read");
    data::check_by(&roster, &args.by);
    let by: Vec<String> = args.by.iter().filter(|b| *b != "class").cloned().collect();
    let eval = Evaluator::new(prog, as_of);
    let horizon = Some(prog.horizon(as_of));
    // Scores need only each customer's folded state; ledgers need the
    // events: of a log too big to keep whole, a share of the customers at a
    // time, cut where a first pass, counting their events, finds their ids.
    let memory = (args.explain && !args.sorted).then(|| args.memory.unwrap_or_else(data::half_available_memory));
    let passes = memory.map_or(1, |m| args.data.passes(m));
    let (log, cut, roster) = match (args.sorted, !args.explain && eval.foldable()) {
        (true, _) => (None, None, roster.sorted().map_err(|e| e.to_string())?),
        (false, _) if passes > 1 => {
            let roster = roster.sorted().map_err(|e| e.to_string())?;
            let cut = args.data.cut(&roster, &prog.schema, horizon, passes)?;
            eprintln!(
                "note: keeping every customer's events would take about {}, more than --memory {}: the log is read {} times, once to cut its customers into {} shares, then once per share",
                data::show_size(args.data.bytes()),
                data::show_size(memory.expect("passes are counted only under a memory limit")),
                cut.shares() + 1,
                cut.shares(),
            );
            (None, Some(cut), roster)
        }
        (false, fold) => {
            let fold = fold.then_some(&eval as &dyn rulebook::input::Fold);
            let (log, carried) = args.data.load_carrying(roster, &prog.schema, horizon, fold)?;
            (Some(log), None, carried)
        }
    };
    let layout = match (args.format, args.bom || args.headers.is_some()) {
        (OutputFormat::Xlsx, _) | (_, true) => Layout::full(prog, &roster),
        _ => Layout::pinned(prog, &roster),
    };
    let headers = match args.headers {
        Some(HeaderNames::Labels) => Headers::Labels,
        _ => Headers::Names,
    };
    let mut dist = Distribution::new(prog, &by);
    // Small writes gathered; a run's lines (tens of KB) are written as they are, not copied into the buffer first.
    let mut out = BufWriter::with_capacity(16 << 10, open_output(args.output.as_deref())?);
    let io = |e: std::io::Error| format!("cannot write the results: {e}");
    let ledger = args.explain;
    match args.format {
        OutputFormat::Csv => {
            if args.bom {
                out.write_all(b"\xEF\xBB\xBF").map_err(io)?;
            }
            writeln!(out, "{}", layout.csv_header(headers)).map_err(io)?;
        }
        OutputFormat::Json => {
            let head = Head {
                standard: &prog.name,
                version: prog.version.as_deref(),
                as_of,
            };
            write!(out, "{},\"customers\":[", report::open_object(&head)).map_err(io)?;
        }
        _ => {}
    }
    // Scores one log (or one batch of a sorted log) and writes it; keeps the
    // rows of the table and the workbook, which are written whole.
    let json_line = report::json_line::Line::new(prog, as_of);
    let mut score_log = |log: &EventLog, first: bool| -> Result<Vec<(usize, Outcome)>, String> {
        let mut table_rows: Vec<(usize, Outcome)> = Vec::new();
        for start in (0..log.customers.len()).step_by(CHUNK) {
            let end = (start + CHUNK).min(log.customers.len());
            // Evaluate and render on every core, a run of customers to a
            // task and to one buffer; write in customer order.
            let keep = matches!(
                args.format,
                OutputFormat::Json | OutputFormat::Table | OutputFormat::Xlsx
            );
            let rendered: Vec<Rendered> = (start..end)
                .into_par_iter()
                .chunks(RUN)
                .map(|run| {
                    // Room for the run's lines (a customer's line is about 200 bytes, or about
                    // 1.6 KB with its ledger), so the buffer is not grown by copying; none
                    // for a table or a workbook, written whole at the end.
                    let line = match (args.format, ledger) {
                        (OutputFormat::Table | OutputFormat::Xlsx, _) => 0,
                        (_, false) => 256,
                        (_, true) => 2048,
                    };
                    let mut text = Vec::with_capacity(run.len() * line);
                    let mut kept = Vec::new();
                    let states = log.gather(&run);
                    // One outcome written over customer after customer (kept ones taken out).
                    let mut outcome = Outcome::default();
                    for (k, i) in run.into_iter().enumerate() {
                        let state = states.as_ref().map(|g| g.state(k));
                        if let Err(e) = eval
                            .evaluate_with_into(log, i, state, ledger, &mut outcome)
                            .expect("i is a customer of the log")
                        {
                            let id = log.customers.get(i).map_or("", |c| &*c.id);
                            let error = Some(format!("customer `{id}`: {e}"));
                            return Rendered { text, kept, error };
                        }
                        let s = Scored {
                            prog,
                            log,
                            customer: i,
                            outcome: &outcome,
                            as_of,
                        };
                        match args.format {
                            OutputFormat::Jsonl => {
                                report::write_json_carrying(&mut text, &s, ledger, &roster, &json_line);
                                text.push(b'\n');
                            }
                            OutputFormat::Csv => {
                                text.extend_from_slice(layout.csv_row(&s).as_bytes());
                                text.push(b'\n');
                            }
                            OutputFormat::Json => {
                                text.extend_from_slice(if i == 0 && first { b"\n" } else { b",\n" });
                                report::write_json_carrying(&mut text, &s, ledger, &roster, &json_line);
                            }
                            OutputFormat::Table | OutputFormat::Xlsx => {}
                        }
                        if keep {
                            kept.push((i, std::mem::take(&mut outcome)));
                        }
                    }
                    Rendered {
                        text,
                        kept,
                        error: None,
                    }
                })
                .collect();
            for r in rendered {
                let Rendered { text, kept, error } = r;
                out.write_all(&text).map_err(io)?;
                for (i, outcome) in kept {
                    let s = Scored {
                        prog,
                        log,
                        customer: i,
                        outcome: &outcome,
                        as_of,
                    };
                    dist.add_scored(&s, &roster);
                    if matches!(args.format, OutputFormat::Table | OutputFormat::Xlsx) {
                        table_rows.push((i, outcome));
                    }
                }
                if let Some(e) = error {
                    return Err(e);
                }
            }
        }
        // What a batch of a sorted log (or a pass) scored is out before the next is read.
        out.flush().map_err(io)?;
        Ok(table_rows)
    };
    let (table_rows, summary, customers) = match (&log, cut) {
        (Some(log), _) => (score_log(log, true)?, log.summary.clone(), log.customers.len()),
        (None, Some(cut)) => {
            let mut first = true;
            for k in 0..cut.shares() {
                let share = args.data.load_share(&roster, &prog.schema, horizon, &cut, k)?;
                // Every pass reads every row: other counts mean the log changed under the run.
                if share.summary != cut.summary {
                    return Err(format!(
                        "the event logs changed while they were read in passes (pass {} of {} counted other rows than the first); run again when they no longer change",
                        k + 2,
                        cut.shares() + 1
                    ));
                }
                if !share.customers.is_empty() {
                    score_log(&share, first)?;
                    first = false;
                }
                rulebook::timing::phase("a share evaluated and written");
            }
            (Vec::new(), cut.summary, cut.customers)
        }
        (None, None) => {
            let mut first = true;
            // Each batch keeps its customers' events only to explain them (or
            // when the rulebook cannot be folded).
            let keep = match !args.explain && eval.foldable() {
                true => rulebook::input::Keep::Fold(&eval),
                false => rulebook::input::Keep::Events(&prog.schema),
            };
            let read = args
                .data
                .fold_sorted(&roster, &prog.schema, horizon, keep, CHUNK, |batch| {
                    score_log(&batch, first)?;
                    first = false;
                    Ok(())
                })?;
            (
                Vec::new(),
                read.summary,
                usize::try_from(read.customers).unwrap_or(usize::MAX),
            )
        }
    };
    // Kept only for the table and the workbook, which are written whole.
    let rows: Vec<Scored<'_>> = match &log {
        Some(log) => table_rows
            .iter()
            .map(|(i, o)| Scored {
                prog,
                log,
                customer: *i,
                outcome: o,
                as_of,
            })
            .collect(),
        None => Vec::new(),
    };
    match args.format {
        OutputFormat::Json => {
            let s = &summary;
            let summary = Summary {
                customers,
                rows: s.rows_read(),
                scored: s.used,
                after_as_of: s.after_as_of,
                undeclared: &s.undeclared,
                blank: s.blank,
                rejected: s.rejected,
                grades: dist.json(),
            };
            writeln!(out, "\n],\"summary\":{}}}", report::to_json(&summary)).map_err(io)?;
        }
        OutputFormat::Xlsx => {
            let bytes = report::xlsx::workbook(&layout, &rows, &dist).map_err(|e| e.to_string())?;
            out.write_all(&bytes).map_err(io)?;
        }
        OutputFormat::Table => {
            writeln!(
                out,
                "{} {} — as of {as_of}",
                prog.name,
                prog.version.as_deref().unwrap_or("")
            )
            .map_err(io)?;
            write!(out, "{}", report::table::render(prog, &rows, &roster)).map_err(io)?;
            write!(out, "{}", dist.table()).map_err(io)?;
        }
        _ => {}
    }
    out.into_inner().map_err(|e| io(e.into_error()))?.finish()?;
    eprintln!("{}", data::summary_of(customers, &summary, as_of));
    rulebook::timing::phase(match (&log, args.sorted) {
        (Some(_), _) => "evaluate and write",
        // Read, evaluated and written a batch of customers at a time.
        (None, true) => "sorted log read, evaluated and written",
        (None, false) => "the output finished",
    });
    Ok(ExitCode::SUCCESS)
}
