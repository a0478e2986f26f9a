//! Check stage: independent passes over the AST, each returning every
//! diagnostic it finds; `check` runs them all and sorts the result by span,
//! errors before warnings. Each pass has its own typed error enum that
//! converts into the neutral `Diagnostic`.
//!
//! A rulebook without errors is fully resolvable: every name it uses is
//! declared, every condition is true/false, every tier ladder is ordered,
//! and there is one grades block and at least one class — unless the
//! rulebook holds an index and no class, which needs neither. `program`
//! then lowers it into the resolved `Program` later stages run, and cannot
//! fail: the passes have ruled out everything it would have to reject.

mod classes;
mod duplicates;
mod events;
mod grades;
mod index;
mod limits;
mod links;
mod lower;
mod nesting;
mod numbers;
pub mod program;
mod resolve;
mod scope;
mod suggest;
mod tiers;
mod types;
mod usage;
mod values;

pub use classes::ClassError;
pub use duplicates::{Declared, DuplicateError};
pub use events::AttrError;
pub use grades::GradesError;
pub use index::{IndexError, IndexWarning};
pub use limits::LimitError;
pub use links::LinkError;
pub use lower::program;
pub use nesting::NestingError;
pub use numbers::NumberError;
pub use program::Program;
pub use resolve::{AttrUse, ResolveError};
pub use tiers::{TierError, TierText};
pub use types::{Place, Quantity, TypeError};
pub use usage::UsageWarning;
pub use values::ValueError;

use crate::diagnostic::{self, Diagnostic};
use crate::syntax::ast::Rulebook;

/// Runs every pass. An empty result, or warnings only, means the rulebook
/// can be lowered into its `Program` and evaluated.
pub fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for pass in PASSES {
        diags.extend(pass(book));
    }
    diagnostic::sort(&mut diags);
    diags
}

type Pass = fn(&Rulebook) -> Vec<Diagnostic>;

/// The passes, each independent of the others' results.
const PASSES: &[Pass] = &[
    duplicates::check,
    resolve::check,
    links::check,
    types::check,
    values::check,
    events::check,
    tiers::check,
    grades::check,
    numbers::check,
    nesting::check,
    limits::check,
    classes::check,
    usage::check,
    index::check,
];
