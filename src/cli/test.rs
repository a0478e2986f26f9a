//! `rulebook test`: runs the test cases of `*.tests` files against their
//! rulebooks; shows each failure with its case, expected against actual and
//! the actual ledger; `--update` rewrites expectations, `--coverage` lists
//! what the cases exercise.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rulebook::eval::Outcome;
use rulebook::report::explain::Origin;
use rulebook::report::{display_width, pad};
use rulebook::testcase::{self, coverage, CaseRun, TestFile};

use super::{load_rulebook, print_diagnostics, read_text, CliResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Test files (`*.tests`), a rulebook (runs its `.tests` file), or folders searched for them
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Rewrite the expectations of failing cases from the actual results, for review
    #[arg(long)]
    pub update: bool,
    /// List every rule with the number of cases that made it fire
    #[arg(long)]
    pub coverage: bool,
    /// Fail when a rule is exercised by no case
    #[arg(long)]
    pub deny_uncovered: bool,
    /// Also list the cases that pass
    #[arg(long, short)]
    pub verbose: bool,
}

/// A rulebook loaded once for every test file that names it.
struct Book {
    path: PathBuf,
    src: String,
    checked: rulebook::Checked,
    outcomes: Vec<Outcome>,
    /// Index blocks and items answered by some case (`supply.reliability`).
    answered: Vec<String>,
    cases: usize,
}

/// Every `*.tests` file under the paths, in a stable order.
fn find(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|e| e == "tests") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = out.len();
            walk(p, &mut out)?;
            if out.len() == before {
                return Err(format!("no `*.tests` files in `{}`", p.display()));
            }
        } else if p.extension().is_some_and(|e| e == "rules") {
            let tests = p.with_extension("tests");
            if !tests.exists() {
                return Err(format!(
                    "`{}` is a rulebook; its test cases go in `{}`",
                    p.display(),
                    tests.display()
                ));
            }
            out.push(tests);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(format!("`{}` does not exist", p.display()));
        }
    }
    Ok(out)
}

/// The rulebook a test file names (relative to it), else the `.rules` file of the same stem.
fn rulebook_path(file: &Path, tests: &TestFile) -> PathBuf {
    match &tests.rulebook {
        Some((p, _)) => file.parent().map_or_else(|| PathBuf::from(p), |dir| dir.join(p)),
        None => file.with_extension("rules"),
    }
}

pub fn run(args: Args) -> CliResult {
    let mut out = std::io::stdout().lock();
    let mut w = |s: String| out.write_all(s.as_bytes()).map_err(|e| format!("cannot write: {e}"));
    let files = find(&args.paths)?;
    let mut books: Vec<Book> = Vec::new();
    let (mut passed, mut failed, mut updated, mut broken) = (0usize, 0usize, 0usize, 0usize);
    for file in &files {
        let name = file.display().to_string();
        let src = read_text(file)?;
        let tests = match testcase::parse(&src) {
            Ok(t) => t,
            Err(diags) => {
                print_diagnostics(&diags, file, &src);
                eprintln!("error: `{name}` cannot be read as test cases");
                broken += 1;
                continue;
            }
        };
        let path = rulebook_path(file, &tests);
        let b = match books.iter().position(|b| b.path == path) {
            Some(b) => b,
            None => match load_rulebook(&path) {
                Ok(checked) => {
                    books.push(Book {
                        src: read_text(&path)?,
                        path: path.clone(),
                        checked,
                        outcomes: vec![],
                        answered: vec![],
                        cases: 0,
                    });
                    books.len() - 1
                }
                Err(e) => {
                    eprintln!("error: {e}; the cases of `{name}` cannot run");
                    broken += 1;
                    continue;
                }
            },
        };
        let Some(book) = books.get_mut(b) else {
            continue;
        };
        let prog = &book.checked.program;
        let runs = testcase::run_file(prog, &name, &tests);
        let origin = Origin {
            file: &book.path.display().to_string(),
            src: &book.src,
        };
        for run in &runs {
            let Some(case) = tests.cases.get(run.case) else {
                continue;
            };
            if run.passed() {
                passed += 1;
                if args.verbose {
                    w(format!("ok    {name}:{}  {}\n", case.line, case.name))?;
                }
            } else if args.update && run.error.is_none() && run.outcome.is_some() {
                updated += 1;
            } else {
                failed += 1;
                w(failure(&src, &name, case, run, prog, &origin))?;
            }
        }
        if args.update {
            let (new, n) = testcase::update::update(&src, &tests, &runs, prog);
            if n > 0 && new != src {
                super::output::replace_file(file, new.as_bytes())?;
                w(format!(
                    "updated {n} case{} in {name}: review the change (e.g. `git diff {name}`)\n",
                    if n == 1 { "" } else { "s" }
                ))?;
            }
        }
        book.cases += runs.len();
        book.answered
            .extend(runs.iter().flat_map(|r| r.answered.iter().cloned()));
        book.outcomes.extend(runs.into_iter().filter_map(|r| r.outcome));
    }
    let mut uncovered_total = 0;
    if args.coverage || args.deny_uncovered {
        for book in &books {
            if !book.checked.program.classes.is_empty() {
                let (table, uncovered) = coverage_report(book, args.coverage);
                uncovered_total += uncovered;
                w(table)?;
            }
            let (table, uncovered) = index_coverage(book, args.coverage);
            uncovered_total += uncovered;
            w(table)?;
        }
    }
    if updated > 0 {
        w(format!("{updated} updated\n"))?;
    }
    w(format!("{passed} passed, {failed} failed\n"))?;
    let deny = args.deny_uncovered && uncovered_total > 0;
    if deny {
        eprintln!(
            "error: {uncovered_total} rule{} exercised by no case (--deny-uncovered)",
            if uncovered_total == 1 { " is" } else { "s are" }
        );
    }
    Ok(if failed > 0 || broken > 0 || deny {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A failing case: its text, expected against actual, and the actual ledger.
fn failure(
    src: &str,
    file: &str,
    case: &testcase::Case,
    run: &CaseRun,
    prog: &rulebook::eval::Program,
    origin: &Origin<'_>,
) -> String {
    let mut s = format!("\nFAIL {file}:{}  {}\n", case.line, case.name);
    let width = case.last_line.to_string().len();
    for (i, line) in src
        .lines()
        .enumerate()
        .skip(case.line.saturating_sub(1))
        .take(case.last_line + 1 - case.line)
    {
        s.push_str(&format!("  {:>width$} | {}\n", i + 1, line.trim_end()));
    }
    if let Some(e) = &run.error {
        s.push_str(&format!("\n  error: {e}\n"));
        return s;
    }
    let head = ["line", "check", "expected", "actual"];
    let rows: Vec<[String; 4]> = run
        .checks
        .iter()
        .map(|c| [c.line.to_string(), c.what.clone(), c.expected.clone(), c.actual.clone()])
        .collect();
    let mut widths = head.map(display_width);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(display_width(cell));
        }
    }
    let row = |cells: [&str; 4], mark: &str| {
        let padded: Vec<String> = cells.iter().zip(widths).map(|(c, w)| pad(c, w)).collect();
        format!("  {mark} {}\n", padded.join("  ").trim_end())
    };
    s.push('\n');
    s.push_str(&row(head, " "));
    for (r, c) in rows.iter().zip(&run.checks) {
        s.push_str(&row([&r[0], &r[1], &r[2], &r[3]], if c.ok { " " } else { "✗" }));
    }
    s.push_str("\n  actual ledger:\n");
    for line in run.ledger_text(prog, origin).lines() {
        s.push_str(&format!("    {line}\n").replace("    \n", "\n"));
    }
    s
}

/// The coverage table of one rulebook, and how many items no case fires.
fn coverage_report(book: &Book, full: bool) -> (String, usize) {
    let prog = &book.checked.program;
    let tally = coverage::tally(prog, &book.outcomes);
    let mut s = String::new();
    let places: Vec<(String, String)> = tally.iter().map(|(i, _)| coverage::place(prog, i)).collect();
    let wc = places.iter().map(|p| display_width(&p.0)).chain([5]).max().unwrap_or(5);
    let wd = places.iter().map(|p| display_width(&p.1)).chain([9]).max().unwrap_or(9);
    let wi = tally
        .iter()
        .map(|(i, _)| display_width(&i.id))
        .chain([6])
        .max()
        .unwrap_or(6);
    if full {
        s.push_str(&format!(
            "\ncoverage of {} by {} cases\n",
            book.path.display(),
            book.outcomes.len()
        ));
        s.push_str(&format!(
            "  {}  {}  {}  cases\n",
            pad("class", wc),
            pad("dimension", wd),
            pad("clause", wi)
        ));
    }
    let mut missing = Vec::new();
    for ((item, n), (class, dim)) in tally.iter().zip(&places) {
        if full {
            let flag = if *n == 0 { "   <- no case exercises this" } else { "" };
            s.push_str(&format!(
                "  {}  {}  {}  {n:>5}{flag}\n",
                pad(class, wc),
                pad(dim, wd),
                pad(&item.id, wi)
            ));
        }
        if *n == 0 {
            missing.push(format!("{class} {dim} {}", item.id));
        }
    }
    if !missing.is_empty() {
        let n = missing.len();
        s.push_str(&format!(
            "\n{}: {n} rule{} exercised by no case: {}\n",
            book.path.display(),
            if n == 1 { " is" } else { "s are" },
            missing.join(", ")
        ));
    } else if full {
        s.push_str(&format!("every rule of {} is exercised\n", book.path.display()));
    }
    (s, missing.len())
}

/// The coverage of a rulebook's index: each block and item with the number
/// of answers the cases gave it, and how many no case answered.
fn index_coverage(book: &Book, full: bool) -> (String, usize) {
    let Some(ix) = &book.checked.program.index else {
        return (String::new(), 0);
    };
    let items = testcase::index::items(ix);
    let mut s = String::new();
    if full {
        s.push_str(&format!(
            "\ncoverage of index `{}` of {} by {} cases\n",
            ix.name,
            book.path.display(),
            book.cases
        ));
        let wi = items.iter().map(|i| display_width(i)).chain([10]).max().unwrap_or(10);
        s.push_str(&format!("  {}  answers\n", pad("block.item", wi)));
        for item in &items {
            let n = book.answered.iter().filter(|a| *a == item).count();
            let flag = if n == 0 { "   <- no case answers this" } else { "" };
            s.push_str(&format!("  {}  {n:>7}{flag}\n", pad(item, wi)));
        }
    }
    let missing: Vec<&String> = items.iter().filter(|i| !book.answered.contains(i)).collect();
    if !missing.is_empty() {
        let n = missing.len();
        let names: Vec<&str> = missing.iter().map(|m| m.as_str()).collect();
        s.push_str(&format!(
            "\n{}: {n} block{} or item{} of index `{}` answered by no case: {}\n",
            book.path.display(),
            if n == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
            ix.name,
            names.join(", ")
        ));
    } else if full {
        s.push_str(&format!("every block and item of index `{}` is answered\n", ix.name));
    }
    (s, missing.len())
}
