//! `rulebook diff`: the impact of a rule change on real data — both
//! rulebooks checked, the log read once against their merged schema, every
//! customer scored both ways, and the report (or one customer's two ledgers).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use rayon::prelude::*;
use rulebook::diff::{self, Catalog, Classes, CustomerDiff, Gate, Pair, Report, Side};
use rulebook::eval::{self, Evaluator, Program};
use rulebook::input::Schema;

use super::data::{self, DataArgs};
use super::{load_rulebook, open_output, print_diagnostics, read_text, CliResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Table,
    Json,
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
    /// Write the report here instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Compiles a checked rulebook against the merged schema.
fn compile(checked: &rulebook::Checked, src: &str, path: &Path, schema: &Arc<Schema>) -> Result<Program, String> {
    eval::compile(&checked.book, src, schema.clone()).map_err(|diags| {
        print_diagnostics(&diags, path, src);
        format!("`{}` cannot be read together with the other rulebook", path.display())
    })
}

pub fn run(args: Args) -> CliResult {
    args.data.refuse_overwrites(
        &[("the old rulebook", &args.old), ("the new rulebook", &args.new)],
        args.output.as_deref(),
    );
    let (old, new) = (load_rulebook(&args.old)?, load_rulebook(&args.new)?);
    let (old_src, new_src) = (read_text(&args.old)?, read_text(&args.new)?);
    let (old_path, new_path) = (args.old.display().to_string(), args.new.display().to_string());
    let schema = Schema::merged(&[&old.book, &new.book]).map_err(|c| {
        format!(
            "the two rulebooks declare their events incompatibly: {}",
            c.describe(&[&old_path, &new_path])
        )
    })?;
    let schema = Arc::new(schema);
    let old_prog = compile(&old, &old_src, &args.old, &schema)?;
    let new_prog = compile(&new, &new_src, &args.new, &schema)?;
    let classes = Classes::of(&old_prog, &new_prog);
    let as_of = args.data.as_of();
    // Keep every event either rulebook's longest window looks at.
    let horizon = old_prog.horizon(as_of).min(new_prog.horizon(as_of));
    let log = args.data.load_within(&schema, &classes.names(), Some(horizon))?;
    let cat = Catalog::new(&old_prog, &new_prog);
    let pair = Pair {
        cat: &cat,
        classes: &classes,
        old: Evaluator::new(&old_prog, as_of),
        new: Evaluator::new(&new_prog, as_of),
        log: &log,
    };
    if let Some((i, new, e)) = pair.first_overflow() {
        let side = if new { &new_path } else { &old_path };
        return Err(format!("customer `{}` under `{side}`: {e}", pair.id(i)));
    }
    let old_side = Side {
        path: &old_path,
        book: &old.book,
        src: &old_src,
        prog: &old_prog,
    };
    let new_side = Side {
        path: &new_path,
        book: &new.book,
        src: &new_src,
        prog: &new_prog,
    };
    let mut out = open_output(args.output.as_deref())?;
    let io = |e: std::io::Error| format!("cannot write the report: {e}");

    if let Some(id) = &args.customer {
        let Some(i) = log.find(id) else {
            return Err(format!("customer `{id}` is in neither the event logs nor the roster"));
        };
        let d = CustomerDiff::of(&pair, i);
        let text = match args.format {
            DiffFormat::Table => diff::table::customer(&pair, &old_side, &new_side, as_of, &d),
            DiffFormat::Json => diff::json::customer(&pair, &old_side, &new_side, as_of, &d),
        };
        out.write_all(text.as_bytes()).map_err(io)?;
        out.finish()?;
        return Ok(ExitCode::SUCCESS);
    }

    let changes = diff::rule_changes(&old_side, &new_side);
    let impact = diff::impact(&pair, args.top);
    let movers: Vec<CustomerDiff> = impact
        .movers
        .par_iter()
        .map(|m| CustomerDiff::of(&pair, m.customer))
        .collect();
    let gate = args.fail_if_grade_changes.map(|g| (g, g.fails(&impact)));
    let report = Report {
        old: &old_side,
        new: &new_side,
        as_of,
        pair: &pair,
        changes: &changes,
        impact: &impact,
        movers: &movers,
        gate,
    };
    let text = match args.format {
        DiffFormat::Table => diff::table::render(&report),
        DiffFormat::Json => diff::json::render(&report),
    };
    out.write_all(text.as_bytes()).map_err(io)?;
    out.finish()?;
    eprintln!("{}", data::summary(&log, as_of));
    match gate {
        Some((g, true)) => {
            eprintln!("error: {}", diff::table::gate_line(&report, g, true));
            Ok(ExitCode::from(1))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}
