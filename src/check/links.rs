//! Check stage: what one part of a rulebook says of another — `instead of`
//! names whole rules by their clauses, `allow over-deduction` names rules of
//! its dimension, and `like CLASS` names a class with a dimension of the
//! same name, without a cycle.

use crate::diagnostic::Diagnostic;
use crate::span::{Ident, Span};
use crate::syntax::ast::*;

use super::suggest;

/// A clause or class named by another part of the rulebook that does not
/// stand for what it must.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// `instead of` or `allow over-deduction` names a clause no rule has:
    ///
    /// ```text
    /// R2 deduct by count of arrears { 3+ => 40 } instead of P9
    /// ```
    UnknownClause {
        id: String,
        span: Span,
        suggestion: Option<String>,
    },
    /// `instead of` names part of a rule's clauses, not the whole rule:
    ///
    /// ```text
    /// P1-P3 deduct per episode of arrears severity length { 1 => 10 P1, 2 => 20 P2, 3+ => 30 P3 }
    /// R2 deduct by count of arrears { 3+ => 40 } instead of P2
    /// ```
    PartOfRule {
        span: Span,
        named: Vec<String>,
        rule: Vec<String>,
    },
    /// A rule that replaces itself:
    ///
    /// ```text
    /// R2 deduct by count of arrears { 3+ => 40 } instead of R2
    /// ```
    ReplacesItself { span: Span, id: String },
    /// A rule replaced by another that itself replaces rules:
    ///
    /// ```text
    /// R1 deduct 5 per theft instead of L1
    /// R2 deduct 5 per breach instead of R1
    /// ```
    Chained { span: Span, id: String },
    /// `like` names no class:
    ///
    /// ```text
    /// class big { dimension legal max 25 like powr }
    /// ```
    UnknownClass { name: Ident, suggestion: Option<String> },
    /// `like` names a class without a dimension of this name:
    ///
    /// ```text
    /// class big { dimension cash max 25 like power }
    /// ```
    LikeMissing { dimension: Ident, class: Ident },
    /// `like` leads back to itself:
    ///
    /// ```text
    /// class a { dimension legal max 25 like b }
    /// class b { dimension legal max 25 like a }
    /// ```
    LikeCycle { dimension: Ident, class: Ident },
}

impl From<LinkError> for Diagnostic {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::UnknownClause { id, span, suggestion } => {
                Diagnostic::error(format!("no rule has clause `{id}`"), span, "not the clause of any rule").with_help(
                    suggest::help(
                        &suggestion,
                        "name the clause IDs written before the rules (`P5`, or a range `P1-P3`)".to_string(),
                    ),
                )
            }
            LinkError::PartOfRule { span, named, rule } => Diagnostic::error(
                format!(
                    "`instead of {}` names part of the rule {}",
                    named.join(", "),
                    rule.join(", ")
                ),
                span,
                "part of one rule",
            )
            .with_help(format!(
                "a rule is replaced whole: name every clause it has, `instead of {}`",
                range_text(&rule)
            )),
            LinkError::ReplacesItself { span, id } => {
                Diagnostic::error(format!("rule `{id}` replaces itself"), span, "its own clause")
                    .with_help("name the rules this one gives its points instead of")
            }
            LinkError::Chained { span, id } => Diagnostic::error(
                format!("rule `{id}` replaces other rules, so it cannot itself be replaced"),
                span,
                "a rule that replaces others",
            )
            .with_help(
                "name the rules it replaces directly, so a customer's points never depend on the order of replacements",
            ),
            LinkError::UnknownClass { name, suggestion } => Diagnostic::error(
                format!("unknown class `{}`", name.node),
                name.span,
                "no `class` has this name",
            )
            .with_help(suggest::help(
                &suggestion,
                "`like CLASS` takes the dimension of the same name from a declared class".to_string(),
            )),
            LinkError::LikeMissing { dimension, class } => Diagnostic::error(
                format!("class `{}` has no dimension `{}`", class.node, dimension.node),
                class.span,
                format!("`{}` has no `{}`", class.node, dimension.node),
            )
            .with_label(dimension.span, "the dimension to copy")
            .with_help("`like CLASS` copies the dimension of the same name from that class"),
            LinkError::LikeCycle { dimension, class } => Diagnostic::error(
                format!(
                    "dimension `{}` is `like {}`, which leads back to itself",
                    dimension.node, class.node
                ),
                class.span,
                "a circle of `like`s",
            )
            .with_help(
                "one of the dimensions must say where its points come from: `uses GROUP`, `assessed …` or `{ rules }`",
            ),
        }
    }
}

/// `P1-P3` for three consecutive IDs, else a comma list.
fn range_text(ids: &[String]) -> String {
    match ids {
        [first, .., last] if ids.len() > 2 => format!("{first}-{last}"),
        _ => ids.join(", "),
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let rules: Vec<(&Rule, Vec<String>)> = super::scope::rules(book).map(|r| (r, r.clause_ids())).collect();
    let all: Vec<&str> = rules
        .iter()
        .flat_map(|(_, ids)| ids.iter().map(String::as_str))
        .collect();
    let unknown = |c: &Clause, errors: &mut Vec<LinkError>| {
        for id in c.ids().into_iter().filter(|id| !all.contains(&id.as_str())) {
            let suggestion = suggest::closest(&id, all.iter().copied());
            errors.push(LinkError::UnknownClause {
                id,
                span: c.span,
                suggestion,
            });
        }
    };
    for (rule, own) in &rules {
        for c in &rule.replaces {
            unknown(c, &mut errors);
            let named = c.ids();
            if named.iter().any(|id| own.contains(id)) {
                errors.push(LinkError::ReplacesItself {
                    span: c.span,
                    id: own.join(", "),
                });
                continue;
            }
            // Every rule the clause touches must be named whole, across the list.
            let listed: Vec<String> = rule.replaces.iter().flat_map(Clause::ids).collect();
            for (target, ids) in rules.iter().filter(|(_, ids)| ids.iter().any(|id| named.contains(id))) {
                if !ids.iter().all(|id| listed.contains(id)) {
                    errors.push(LinkError::PartOfRule {
                        span: c.span,
                        named: named.clone(),
                        rule: ids.clone(),
                    });
                } else if !target.replaces.is_empty() {
                    errors.push(LinkError::Chained {
                        span: c.span,
                        id: ids.join(", "),
                    });
                }
            }
        }
    }
    for d in book.classes.iter().flat_map(|c| &c.dimensions) {
        for c in d.allow.iter().flat_map(|a| &a.clauses) {
            unknown(c, &mut errors);
        }
    }
    like(book, &mut errors);
    errors.into_iter().map(Diagnostic::from).collect()
}

/// Each `like CLASS` names a class with a dimension of the same name, and
/// following the `like`s ends at a real source.
fn like(book: &Rulebook, errors: &mut Vec<LinkError>) {
    let names: Vec<&str> = book.classes.iter().map(|c| c.name.node.as_str()).collect();
    for d in book.classes.iter().flat_map(|c| &c.dimensions) {
        let Source::Like(class) = &d.source else {
            continue;
        };
        let Some(target) = book.classes.iter().find(|c| c.name.node == class.node) else {
            errors.push(LinkError::UnknownClass {
                name: class.clone(),
                suggestion: suggest::closest(&class.node, names.iter().copied()),
            });
            continue;
        };
        if !target.dimensions.iter().any(|x| x.name.node == d.name.node) {
            errors.push(LinkError::LikeMissing {
                dimension: d.name.clone(),
                class: class.clone(),
            });
        } else if book.like_target(d).is_none() && !broken_further(book, d) {
            errors.push(LinkError::LikeCycle {
                dimension: d.name.clone(),
                class: class.clone(),
            });
        }
    }
}

/// Whether the chain of `like`s from `d` stops at a missing class or
/// dimension further on (reported where it happens), rather than circling.
fn broken_further(book: &Rulebook, d: &Dimension) -> bool {
    let mut at = d;
    for _ in 0..=book.classes.len() {
        let Source::Like(class) = &at.source else {
            return false;
        };
        match book
            .classes
            .iter()
            .find(|c| c.name.node == class.node)
            .and_then(|c| c.dimensions.iter().find(|x| x.name.node == d.name.node))
        {
            Some(next) => at = next,
            None => return true,
        }
    }
    false
}
