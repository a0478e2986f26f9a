//! `rulebook check RULEBOOK...`: parse and check; diagnostics on stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{print_diagnostics, read_text, CliResult};

#[derive(clap::Args)]
pub struct Args {
    /// Rulebook files to check
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Fail on warnings too
    #[arg(long)]
    pub deny_warnings: bool,
}

pub fn run(args: Args) -> CliResult {
    let (mut errors, mut warnings) = (0usize, 0usize);
    for path in &args.files {
        let src = match read_text(path) {
            Ok(src) => src,
            Err(e) => {
                eprintln!("error: {e}");
                errors += 1;
                continue;
            }
        };
        let diags = match rulebook::load(&src) {
            Ok(checked) => checked.warnings,
            Err(diags) => diags,
        };
        print_diagnostics(&diags, path, &src);
        let e = diags.iter().filter(|d| d.is_error()).count();
        errors += e;
        warnings += diags.len() - e;
        if diags.is_empty() {
            eprintln!("{}: ok", path.display());
        }
    }
    if errors > 0 || (args.deny_warnings && warnings > 0) {
        eprintln!("{errors} error(s), {warnings} warning(s)");
        return Ok(ExitCode::from(1));
    }
    if warnings > 0 {
        eprintln!("{warnings} warning(s)");
    }
    Ok(ExitCode::SUCCESS)
}
