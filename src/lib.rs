//! rulebook: a utility's credit-scoring standard as a small, total rules
//! language.
//!
//! ```text
//! source ──syntax──▶ AST ──check──▶ diagnostics
//!                              │ (no errors)
//!                              └──program──▶ Program ──eval(events)──▶ results + ledgers ──report──▶ text/JSON/CSV
//!                                     │
//!                                     └──index(events)──▶ groups: index, ci95, priority ──index::report
//! ```

pub mod check;
pub mod date;
pub mod diagnostic;
pub mod diff;
pub mod eval;
pub mod fmt;
pub mod index;
pub mod input;
pub mod num;
pub mod render;
pub mod report;
pub mod span;
pub mod syntax;
pub mod testcase;
pub mod timing;

use std::sync::Arc;

use diagnostic::Diagnostic;
use syntax::ast::Rulebook;

/// A rulebook that parsed and passed every check, with its program and its warnings.
#[derive(Debug)]
pub struct Checked {
    pub book: Rulebook,
    pub program: check::Program,
    pub warnings: Vec<Diagnostic>,
}

/// Source text → a rulebook that passed every check, with its warnings, not
/// yet lowered: for `diff`, which lowers two rulebooks against their merged
/// schema (`check::program`). `Err` holds every error (and warning) found.
pub fn parse_and_check(src: &str) -> Result<(Rulebook, Vec<Diagnostic>), Vec<Diagnostic>> {
    let book = syntax::parse(src).map_err(|d| vec![d])?;
    let warnings = check::check(&book);
    if warnings.iter().any(Diagnostic::is_error) {
        return Err(warnings);
    }
    Ok((book, warnings))
}

/// Source text → checked rulebook and its program: parse, check, lower.
/// `Err` holds every error (and warning) found; `Ok` keeps the warnings.
///
/// ```
/// let checked = rulebook::load(include_str!("../rules/credit.rules")).expect("the published standard is valid");
/// assert!(checked.warnings.is_empty());
/// assert_eq!(checked.program.class_names(), ["power", "lighting"]);
///
/// let broken = rulebook::load("standard \"x\" period 0 months").unwrap_err();
/// assert!(broken.iter().any(|d| d.message == "the period is 0 months long"));
/// ```
pub fn load(src: &str) -> Result<Checked, Vec<Diagnostic>> {
    let (book, warnings) = parse_and_check(src)?;
    let program = check::program(&book, src, Arc::new(input::Schema::of(&book)));
    Ok(Checked {
        book,
        program,
        warnings,
    })
}
