//! Command-line stage: one file per subcommand, each with its clap `Args`
//! beside its `run` function, plus the helpers they share.

pub mod check;
pub mod data;
pub mod diff;
pub mod explain;
pub mod fmt;
pub mod index;
pub mod output;
pub mod progress;
pub mod report;
pub mod score;
pub mod test;

use std::io::IsTerminal;
use std::path::Path;

use rulebook::diagnostic::Diagnostic;
use rulebook::render::{self, Style};

/// An error that ends a command with exit code 1, already worded for the user.
pub type CliResult = Result<std::process::ExitCode, String>;

/// Reads a file the user named, with the path in the error.
pub fn read_text(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    rulebook::input::encoding::rulebook_text(bytes)
        .map_err(|(line, message)| format!("{}:{line}: {message}", path.display()))
}

/// How diagnostics look on this terminal: colour only on a terminal without NO_COLOR.
pub fn stderr_style() -> Style {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    Style { color, ascii: false }
}

/// Prints diagnostics about one file to stderr.
pub fn print_diagnostics(diags: &[Diagnostic], path: &Path, src: &str) {
    if !diags.is_empty() {
        eprint!(
            "{}",
            render::render(diags, &path.display().to_string(), src, stderr_style())
        );
    }
}

/// Loads and checks a rulebook, printing its diagnostics; `None` if invalid.
pub fn load_rulebook(path: &Path) -> Result<rulebook::Checked, String> {
    let (book, src, warnings) = check_rulebook(path)?;
    Ok(rulebook::Checked {
        program: rulebook::check::program(&book, &src, std::sync::Arc::new(rulebook::input::Schema::of(&book))),
        book,
        warnings,
    })
}

/// Reads and checks a rulebook, printing its diagnostics, without lowering
/// it to a program: the rulebook, its source text and its warnings.
#[allow(clippy::type_complexity)]
pub fn check_rulebook(
    path: &Path,
) -> Result<
    (
        rulebook::syntax::ast::Rulebook,
        String,
        Vec<rulebook::diagnostic::Diagnostic>,
    ),
    String,
> {
    let src = read_text(path)?;
    match rulebook::parse_and_check(&src) {
        Ok((book, warnings)) => {
            print_diagnostics(&warnings, path, &src);
            Ok((book, src, warnings))
        }
        Err(diags) => {
            print_diagnostics(&diags, path, &src);
            let n = diags.iter().filter(|d| d.is_error()).count();
            Err(format!(
                "`{}` is not a valid rulebook ({n} error{})",
                path.display(),
                if n == 1 { "" } else { "s" }
            ))
        }
    }
}

/// Scoring needs classes; a rulebook holding only an index has none.
pub fn require_classes(checked: &rulebook::Checked, path: &Path) -> Result<(), String> {
    match checked.program.classes.is_empty() {
        false => Ok(()),
        true => Err(format!(
            "`{0}` holds an index and no class of customer to score; run `rulebook index {0} --events …` instead",
            path.display()
        )),
    }
}

/// Standard output, or the file given with `--output` (written beside it, then renamed: see `output`).
pub fn open_output(path: Option<&Path>) -> Result<output::Output, String> {
    output::Output::open(path)
}
