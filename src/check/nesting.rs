//! Check stage: conditions nested deeper than anyone writes by hand. The
//! other passes, and the evaluator, walk conditions recursively; this pass
//! bounds their depth so that a rulebook that checks clean never exhausts
//! the stack.

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::*;

use super::scope::{self, MAX_DEPTH};

/// A condition nested too deeply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NestingError {
    /// More than 256 levels of `not`, `and`, `or`, `in` and comparisons
    /// (a name or value alone is one level):
    ///
    /// ```text
    /// deduct 1 per k where not not not … not a    # 256 times `not`
    /// ```
    TooDeep { span: Span, depth: usize },
}

impl From<NestingError> for Diagnostic {
    fn from(e: NestingError) -> Self {
        match e {
            NestingError::TooDeep { span, depth } => Diagnostic::error(
                format!("condition is nested {depth} levels deep, more than {MAX_DEPTH}"),
                span,
                "this condition",
            )
            .with_help("each `not`, `and`, `or` and comparison adds a level; split the condition into several rules"),
        }
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let filters = scope::event_contexts(book).into_iter().filter_map(|c| c.filter);
    let whens = scope::overrides(book).map(|(_, o)| &o.when);
    filters
        .chain(whens)
        .filter_map(|e| {
            let depth = scope::depth(e);
            (depth > MAX_DEPTH).then_some(NestingError::TooDeep { span: e.span, depth })
        })
        .map(Diagnostic::from)
        .collect()
}
