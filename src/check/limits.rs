//! Check stage: counts the program numbers with 16 bits — event kinds,
//! classes and the clause IDs rules name — stay within them, so that a
//! rulebook that checks clean lowers without losing one.

use std::collections::HashSet;

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::*;

/// The most event kinds, classes or clause IDs of rules one rulebook holds.
pub const MAX_COUNT: usize = u16::MAX as usize;

/// More of something than the program can number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitError {
    /// More than 65535 distinct event kinds, classes, or clause IDs named by
    /// rules (their own, their tiers' and the ones they replace); `first`
    /// is where the count goes past the limit.
    TooMany { what: &'static str, first: Span },
}

impl From<LimitError> for Diagnostic {
    fn from(e: LimitError) -> Self {
        match e {
            LimitError::TooMany { what, first } => {
                Diagnostic::error(format!("more than {MAX_COUNT} {what}"), first, "one too many")
                    .with_help("split the standard into several rulebooks")
            }
        }
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let kinds = book.events.iter().map(|e| (e.name.node.clone(), e.name.span));
    let classes = book.classes.iter().map(|c| (c.name.node.clone(), c.name.span));
    let clauses = super::scope::rules(book).flat_map(|r| {
        let replaced = r
            .replaces
            .iter()
            .flat_map(|c| c.ids().into_iter().map(move |id| (id, c.span)));
        let span = r.clause.as_ref().map_or(r.span, |c| c.span);
        r.clause_ids().into_iter().map(move |id| (id, span)).chain(replaced)
    });
    [
        past_limit("event kinds", kinds),
        past_limit("classes", classes),
        past_limit("clause IDs in rules", clauses),
    ]
    .into_iter()
    .flatten()
    .map(Diagnostic::from)
    .collect()
}

/// Where the distinct names among `names` first number more than `MAX_COUNT`.
fn past_limit(what: &'static str, names: impl Iterator<Item = (String, Span)>) -> Option<LimitError> {
    let mut seen = HashSet::new();
    names
        .filter(|(name, _)| seen.insert(name.clone()))
        .nth(MAX_COUNT)
        .map(|(_, first)| LimitError::TooMany { what, first })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(src: &str) -> Vec<String> {
        let book = crate::syntax::parse(src).expect("parses");
        check(&book).into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn event_kinds_past_the_limit() {
        let events: String = (0..=MAX_COUNT).map(|i| format!("event e{i}\n")).collect();
        let src = format!("standard \"t\" period 12 months\n{events}");
        assert_eq!(messages(&src), ["more than 65535 event kinds"]);
        let within: String = (0..MAX_COUNT).map(|i| format!("event e{i}\nevent e{i}\n")).collect();
        assert!(messages(&format!("standard \"t\" period 12 months\n{within}")).is_empty());
    }

    #[test]
    fn clause_ids_past_the_limit() {
        // 663 ranges of 99 IDs each: 65637 IDs.
        let rules: String = (0..663)
            .map(|i| {
                let p = format!(
                    "{}{}",
                    char::from(b'A' + (i / 26 % 26) as u8),
                    char::from(b'A' + (i % 26) as u8)
                );
                format!("{p}1-{p}99 deduct 1 per k\n")
            })
            .collect();
        let src = format!("standard \"t\" period 12 months\nevent k\nrules r {{\n{rules}}}\n");
        assert_eq!(messages(&src), ["more than 65535 clause IDs in rules"]);
    }
}
