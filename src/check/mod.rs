//! Check stage: independent passes over the AST, each returning every
//! diagnostic it finds; `check` runs them all and sorts the result by span,
//! errors before warnings.

use crate::diagnostic::{self, Diagnostic};
use crate::syntax::ast::Rulebook;

/// Runs every pass. An empty result, or warnings only, means the rulebook
/// can be compiled and evaluated.
pub fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for pass in PASSES {
        diags.extend(pass(book));
    }
    diagnostic::sort(&mut diags);
    diags
}

type Pass = fn(&Rulebook) -> Vec<Diagnostic>;

const PASSES: &[Pass] = &[];
