//! Check stage: warnings about a rulebook that is valid but suspicious — a
//! single deduction larger than its dimension's full marks, an event kind no
//! rule reads, a rule group no class uses.

use std::collections::HashSet;

use crate::diagnostic::Diagnostic;
use crate::num::Num;
use crate::span::{Ident, Span, Spanned};
use crate::syntax::ast::*;

/// Something probably unintended; never an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageWarning {
    /// One deduction larger than the full marks of a dimension that uses it:
    ///
    /// ```text
    /// rules legal { L1 deduct 40 per theft }
    /// class power { dimension legal max 30 uses legal }
    /// ```
    DeductionOverMax {
        points: Spanned<Num>,
        dimension: Ident,
        max: Spanned<Num>,
    },
    /// An event kind that no rule or assessed dimension reads:
    ///
    /// ```text
    /// event theft
    /// event breach
    /// rules legal { L1 deduct 30 per theft }
    /// ```
    UnusedEvent { name: Ident },
    /// A rule group that no dimension `uses`:
    ///
    /// ```text
    /// rules legal { L1 deduct 30 per theft }
    /// rules spare { L9 deduct 5 per theft }
    /// class power { dimension legal max 30 uses legal }
    /// ```
    UnusedGroup { name: Ident },
    /// `allow over-deduction` names a clause that deducts no more than the
    /// dimension's full marks, so the permission hides nothing:
    ///
    /// ```text
    /// rules legal { L1 deduct 30 per theft
    ///               L4 deduct 10 per obstruction }
    /// class power { dimension legal max 25 uses legal allow over-deduction L1, L4 because "…" }
    /// ```
    AllowNotNeeded { id: String, span: Span, dimension: Ident },
}

impl From<UsageWarning> for Diagnostic {
    fn from(w: UsageWarning) -> Self {
        match w {
            UsageWarning::DeductionOverMax { points, dimension, max } => Diagnostic::warning(
                format!(
                    "deduction of {} is larger than the full marks of `{}`",
                    points.node, dimension.node
                ),
                points.span,
                format!("deducts {}", points.node),
            )
            .with_label(max.span, format!("`{}` has full marks {}", dimension.node, max.node))
            .with_help("the dimension is clamped at 0, so the extra points can never count; check the amount"),
            UsageWarning::AllowNotNeeded { id, span, dimension } => Diagnostic::warning(
                format!("`{id}` never deducts more than the full marks of `{}`", dimension.node),
                span,
                "nothing to allow",
            )
            .with_label(dimension.span, format!("full marks of `{}`", dimension.node))
            .with_help(format!(
                "remove `{id}` from `allow over-deduction`, so the permission covers only the deductions meant to empty the item"
            )),
            UsageWarning::UnusedEvent { name } => Diagnostic::warning(
                format!("event kind `{}` is never used", name.node),
                name.span,
                "no rule reads it",
            )
            .with_help("rows of this kind are read and validated but never score; remove it or write a rule for it"),
            UsageWarning::UnusedGroup { name } => Diagnostic::warning(
                format!("rule group `{}` is never used", name.node),
                name.span,
                "no dimension `uses` it",
            )
            .with_help(format!("add `uses {}` to a dimension, or remove the group", name.node)),
        }
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let scope = super::scope::Scope::new(book);
    let mut warnings = Vec::new();
    // A `max` of 0 or less is the `numbers` pass's error.
    let known: HashSet<String> = super::scope::rules(book).flat_map(Rule::clause_ids).collect();
    for d in book
        .classes
        .iter()
        .flat_map(|c| &c.dimensions)
        .filter(|d| d.max.node.is_positive())
    {
        let rules: &[Rule] = match book.source_of(d) {
            Source::Rules(rules) => rules,
            Source::Uses(g) => scope.group(&g.node).map_or(&[], |g| &g.rules),
            Source::Assessed(_) | Source::Like(_) => &[],
        };
        let allowed: Vec<(String, Span)> = d
            .allow
            .iter()
            .flat_map(|a| &a.clauses)
            .flat_map(|c| c.ids().into_iter().map(|id| (id, c.span)))
            .collect();
        let mut needed: HashSet<String> = HashSet::new();
        for rule in rules.iter().filter(|r| r.effect.node == Effect::Deduct) {
            for (points, ids) in deductions(rule).into_iter().filter(|(p, _)| p.node > d.max.node) {
                if ids.iter().any(|id| allowed.iter().any(|(a, _)| a == id)) {
                    needed.extend(ids);
                    continue;
                }
                warnings.push(UsageWarning::DeductionOverMax {
                    points: points.clone(),
                    dimension: d.name.clone(),
                    max: d.max.clone(),
                });
            }
        }
        // A clause no rule has is the `links` pass's error; one of another
        // dimension's rules deducts nothing here, so it is not needed either.
        for (id, span) in allowed {
            if !needed.contains(&id) && known.contains(&id) {
                warnings.push(UsageWarning::AllowNotNeeded {
                    id,
                    span,
                    dimension: d.name.clone(),
                });
            }
        }
    }
    let mut used: HashSet<&str> = super::scope::rules(book)
        .flat_map(|r| r.kind.select().kinds.iter().map(|k| k.node.as_str()))
        .collect();
    used.extend(super::scope::assessed(book).map(|a| a.kind.node.as_str()));
    used.extend(book.indexes.iter().map(|i| i.kind.node.as_str()));
    let mut seen = HashSet::new();
    for e in &book.events {
        // A duplicate declaration is the `duplicates` pass's error.
        if seen.insert(e.name.node.as_str()) && !used.contains(e.name.node.as_str()) {
            warnings.push(UsageWarning::UnusedEvent { name: e.name.clone() });
        }
    }
    let uses: HashSet<&str> = book
        .classes
        .iter()
        .flat_map(|c| &c.dimensions)
        .filter_map(|d| match &d.source {
            Source::Uses(g) => Some(g.node.as_str()),
            _ => None,
        })
        .collect();
    let mut seen = HashSet::new();
    for g in &book.groups {
        if seen.insert(g.name.node.as_str()) && !uses.contains(g.name.node.as_str()) {
            warnings.push(UsageWarning::UnusedGroup { name: g.name.clone() });
        }
    }
    warnings.into_iter().map(Diagnostic::from).collect()
}

/// The amounts one application of a rule can deduct, each with the clauses
/// it applies (a tier's own, else the rule's).
fn deductions(rule: &Rule) -> Vec<(&Spanned<Num>, Vec<String>)> {
    let own = || rule.clause.as_ref().map(Clause::ids).unwrap_or_default();
    match &rule.kind {
        RuleKind::PerEvent { points, .. } | RuleKind::Once { points, .. } | RuleKind::Absence { points, .. } => {
            vec![(points, own())]
        }
        RuleKind::Count { tiers, .. } | RuleKind::Episodes { tiers, .. } => tiers
            .iter()
            .map(|t| (&t.points, t.clause.as_ref().map_or_else(own, Clause::ids)))
            .collect(),
    }
}
