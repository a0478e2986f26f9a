//! `rulebook fmt FILE... [--check]`: rewrite rulebooks in the canonical
//! layout, in place and only when it changes them; `-` formats standard input
//! to standard output.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{print_diagnostics, read_text, CliResult};

#[derive(clap::Args)]
pub struct Args {
    /// Rulebook files to format in place; `-` formats standard input to standard output
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write nothing: list the files whose layout would change and exit 1 if any
    #[arg(long)]
    pub check: bool,
}

/// What happened to one file.
enum Outcome {
    Unchanged,
    Changed,
    Failed,
}

pub fn run(args: Args) -> CliResult {
    let (mut changed, mut failed) = (0usize, 0usize);
    for path in &args.files {
        let outcome = if path.as_os_str() == "-" {
            stdin(args.check)
        } else {
            file(path, args.check)
        };
        match outcome {
            Outcome::Unchanged => {}
            Outcome::Changed => changed += 1,
            Outcome::Failed => failed += 1,
        }
    }
    if failed > 0 || (args.check && changed > 0) {
        if args.check && changed > 0 {
            eprintln!("{changed} file(s) not in canonical layout; run `rulebook fmt` on them");
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn file(path: &Path, check: bool) -> Outcome {
    let src = match read_text(path) {
        Ok(src) => src,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Failed;
        }
    };
    let out = match rulebook::fmt::format(&src) {
        Ok(out) => out,
        Err(d) => {
            print_diagnostics(&[d], path, &src);
            return Outcome::Failed;
        }
    };
    if out == src {
        return Outcome::Unchanged;
    }
    if check {
        println!("{}", path.display());
    } else if let Err(e) = super::output::replace_file(path, out.as_bytes()) {
        eprintln!("error: {e}");
        return Outcome::Failed;
    }
    Outcome::Changed
}

fn stdin(check: bool) -> Outcome {
    let name = Path::new("<stdin>");
    let mut src = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut src) {
        eprintln!("error: cannot read standard input: {e}");
        return Outcome::Failed;
    }
    let out = match rulebook::fmt::format(&src) {
        Ok(out) => out,
        Err(d) => {
            print_diagnostics(&[d], name, &src);
            return Outcome::Failed;
        }
    };
    if check {
        if out == src {
            return Outcome::Unchanged;
        }
        println!("{}", name.display());
        return Outcome::Changed;
    }
    if let Err(e) = std::io::stdout().lock().write_all(out.as_bytes()) {
        eprintln!("error: cannot write standard output: {e}");
        return Outcome::Failed;
    }
    Outcome::Unchanged
}
