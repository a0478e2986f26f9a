//! Check stage: the declared names every pass looks things up in (the first
//! declaration of a name wins; duplicates are the `duplicates` pass's
//! business), and walks over the rules, selectors and conditions of a book.

use std::collections::HashMap;

use crate::span::{Ident, Span};
use crate::syntax::ast::*;

/// Declared event kinds and rule groups, by name.
pub(super) struct Scope<'a> {
    events: HashMap<&'a str, &'a EventDecl>,
    groups: HashMap<&'a str, &'a RuleGroup>,
}

impl<'a> Scope<'a> {
    pub(super) fn new(book: &'a Rulebook) -> Self {
        let mut events = HashMap::new();
        for e in &book.events {
            events.entry(e.name.node.as_str()).or_insert(e);
        }
        let mut groups = HashMap::new();
        for g in &book.groups {
            groups.entry(g.name.node.as_str()).or_insert(g);
        }
        Scope { events, groups }
    }

    pub(super) fn event(&self, name: &str) -> Option<&'a EventDecl> {
        self.events.get(name).copied()
    }

    pub(super) fn group(&self, name: &str) -> Option<&'a RuleGroup> {
        self.groups.get(name).copied()
    }

    /// The declared kinds among `kinds`, each with the ident that named it.
    pub(super) fn known(&self, kinds: &'a [Ident]) -> Vec<(&'a Ident, &'a EventDecl)> {
        kinds
            .iter()
            .filter_map(|k| self.event(&k.node).map(|e| (k, e)))
            .collect()
    }
}

/// The first declaration of attribute `name` on an event kind.
pub(super) fn attr<'a>(event: &'a EventDecl, name: &str) -> Option<&'a AttrDecl> {
    event.attrs.iter().find(|a| a.name.node == name)
}

/// Where a condition about events appears: a rule's selector or an assessed
/// dimension's source.
pub(super) struct EventContext<'a> {
    pub kinds: &'a [Ident],
    pub filter: Option<&'a Expr>,
}

/// Every rule of the book: in groups and in dimensions' own rule blocks.
pub(super) fn rules(book: &Rulebook) -> impl Iterator<Item = &Rule> {
    book.rule_lists().flatten()
}

/// Every assessed source of every dimension.
pub(super) fn assessed(book: &Rulebook) -> impl Iterator<Item = &Assessed> {
    book.classes
        .iter()
        .flat_map(|c| &c.dimensions)
        .filter_map(|d| match &d.source {
            Source::Assessed(a) => Some(a),
            _ => None,
        })
}

/// Every place that selects events: rule selectors and assessed sources.
pub(super) fn event_contexts(book: &Rulebook) -> Vec<EventContext<'_>> {
    let from_rules = rules(book).map(|r| {
        let s = r.kind.select();
        EventContext {
            kinds: &s.kinds,
            filter: s.filter.as_ref(),
        }
    });
    let from_assessed = assessed(book).map(|a| EventContext {
        kinds: std::slice::from_ref(&a.kind),
        filter: a.filter.as_ref(),
    });
    from_rules.chain(from_assessed).collect()
}

/// Every override with the class it belongs to (`None`: top level).
pub(super) fn overrides(book: &Rulebook) -> impl Iterator<Item = (Option<&Class>, &Override)> {
    let top = book.overrides.iter().map(|o| (None, o));
    let inner = book
        .classes
        .iter()
        .flat_map(|c| c.overrides.iter().map(move |o| (Some(c), o)));
    top.chain(inner)
}

/// The operands of an expression, left to right.
fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Lit(_) | ExprKind::Var(_) => vec![],
        ExprKind::Not(x) | ExprKind::In(x, _) => vec![x],
        ExprKind::And(a, b) | ExprKind::Or(a, b) | ExprKind::Cmp(_, a, b) => vec![a, b],
    }
}

/// The names an expression reads, in source order. Iterative, so any depth
/// the parser accepts is safe.
pub(super) fn vars(e: &Expr) -> Vec<(&str, Span)> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        if let ExprKind::Var(name) = &e.kind {
            out.push((name.as_str(), e.span));
        }
        stack.extend(children(e).into_iter().rev());
    }
    out
}

/// How deeply conditions may nest. Passes that recurse skip deeper ones,
/// which the `nesting` pass reports.
pub(super) const MAX_DEPTH: usize = crate::syntax::MAX_NESTING;

/// The nesting depth of an expression (a name or value alone is 1),
/// computed without recursion.
pub(super) fn depth(e: &Expr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        deepest = deepest.max(d);
        stack.extend(children(e).into_iter().map(|c| (c, d + 1)));
    }
    deepest
}

/// The name of the variable `total` in overrides: the sum of the dimensions.
pub(super) const TOTAL: &str = "total";
