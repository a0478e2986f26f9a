//! rulebook: a utility's credit-scoring standard as a small, total rules
//! language.
//!
//! ```text
//! source ──syntax──▶ AST ──check──▶ diagnostics
//!                     │
//!                     └──compile──▶ Program ──eval(events)──▶ results + ledgers ──report──▶ text/JSON/CSV
//! ```

pub mod check;
pub mod date;
pub mod diagnostic;
pub mod num;
pub mod render;
pub mod span;
pub mod syntax;

use diagnostic::Diagnostic;
use syntax::ast::Rulebook;

/// A rulebook that parsed and passed every check, with its warnings.
#[derive(Clone, Debug)]
pub struct Checked {
    pub book: Rulebook,
    pub warnings: Vec<Diagnostic>,
}

/// Source text → checked AST: parse, then run every check. `Err` holds every
/// error (and warning) found; `Ok` keeps the warnings.
pub fn load(src: &str) -> Result<Checked, Vec<Diagnostic>> {
    let book = syntax::parse(src).map_err(|d| vec![d])?;
    let diags = check::check(&book);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    Ok(Checked { book, warnings: diags })
}
