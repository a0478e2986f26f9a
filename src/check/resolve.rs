//! Check stage: every name a rule or override uses must be declared — event
//! kinds, their attributes, rule groups, dimensions and `total` in overrides,
//! and grades. Unknown names get a "did you mean" from `suggest`.

use crate::diagnostic::Diagnostic;
use crate::span::Ident;
use crate::syntax::ast::*;

use super::scope::{self, Scope, TOTAL};
use super::suggest;

/// A name that is used but never declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolveError {
    /// An event kind no `event` declares, in a rule or an assessed source:
    ///
    /// ```text
    /// event theft
    /// rules legal { L1 deduct 30 per thef }
    /// ```
    UnknownKind { name: Ident, suggestion: Option<String> },
    /// An attribute missing from one of the kinds it is read from — in a
    /// filter, a multiplier, a severity or an assessed value:
    ///
    /// ```text
    /// event arrears { months: int >= 1 }
    /// rules payment { P4 bonus 0.5 per arrears where month == 1 }
    /// ```
    UnknownAttr {
        name: Ident,
        used_as: AttrUse,
        /// The kinds of the selector that lack it.
        lacking: Vec<Ident>,
        /// Whether other kinds of the selector declare it.
        on_others: bool,
        suggestion: Option<String>,
        /// The attributes the first lacking kind declares.
        known: Vec<String>,
    },
    /// `uses` names a rule group no `rules` declares:
    ///
    /// ```text
    /// rules payment { P5 deduct 10 per wrong_account }
    /// class power { dimension payment max 30 uses paymnt }
    /// ```
    UnknownGroup { name: Ident, suggestion: Option<String> },
    /// An override reads a name that is neither `total` nor a dimension of
    /// every class it applies to:
    ///
    /// ```text
    /// class power { dimension payment max 30 uses payment }
    /// grade D when paymnet == 0
    /// ```
    UnknownDimension {
        name: Ident,
        class: Ident,
        top_level: bool,
        suggestion: Option<String>,
    },
    /// An override gives a grade that no band of the `grades` block names:
    ///
    /// ```text
    /// grade E when payment == 0
    /// grades { A >= 50, D }
    /// ```
    UnknownGrade {
        name: Ident,
        suggestion: Option<String>,
        grades: Vec<String>,
    },
}

/// Where an attribute is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrUse {
    Filter,
    Multiplier,
    Severity,
    Value,
}

impl From<ResolveError> for Diagnostic {
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::UnknownKind { name, suggestion } => {
                let fallback = format!("declare it first: `event {}`", name.node);
                Diagnostic::error(
                    format!("unknown event kind `{}`", name.node),
                    name.span,
                    "no `event` declares this",
                )
                .with_help(suggest::help(&suggestion, fallback))
            }
            ResolveError::UnknownAttr {
                name,
                used_as,
                lacking,
                on_others,
                suggestion,
                known,
            } => {
                let role = match used_as {
                    AttrUse::Filter => "read in this filter",
                    AttrUse::Multiplier => "used as the multiplier",
                    AttrUse::Severity => "used as the severity",
                    AttrUse::Value => "used as the assessed value",
                };
                let mut d = Diagnostic::error(format!("unknown attribute `{}`", name.node), name.span, role);
                for kind in &lacking {
                    d = d.with_label(kind.span, format!("`{}` has no attribute `{}`", kind.node, name.node));
                }
                let kinds: Vec<&str> = lacking.iter().map(|k| k.node.as_str()).collect();
                let help = match (on_others, known.as_slice()) {
                    (true, _) => format!(
                        "a rule that selects several kinds can read only the attributes all of them declare; declare `{}` on {} or split the rule",
                        name.node,
                        suggest::list(&kinds)
                    ),
                    (false, []) => suggest::help(&suggestion, format!("{} declares no attributes", suggest::list(&kinds))),
                    (false, _) => suggest::help(
                        &suggestion,
                        format!("the attributes of {} are {}", suggest::list(&kinds), suggest::list(&known)),
                    ),
                };
                d.with_help(help)
            }
            ResolveError::UnknownGroup { name, suggestion } => {
                let fallback = format!("declare the group: `rules {} {{ ... }}`", name.node);
                Diagnostic::error(
                    format!("unknown rule group `{}`", name.node),
                    name.span,
                    "no `rules` block has this name",
                )
                .with_help(suggest::help(&suggestion, fallback))
            }
            ResolveError::UnknownDimension {
                name,
                class,
                top_level,
                suggestion,
            } => {
                let d = Diagnostic::error(
                    format!("unknown dimension `{}`", name.node),
                    name.span,
                    format!("not a dimension of class `{}`", class.node),
                );
                let (d, fallback) = if top_level {
                    (
                        d.with_label(class.span, format!("`{}` has no dimension `{}`", class.node, name.node)),
                        format!("an override outside a class applies to every class, so it may read only `{TOTAL}` and the dimensions every class has; move it into the classes that have `{}`", name.node),
                    )
                } else {
                    (
                        d,
                        format!(
                            "an override inside class `{}` may read `{TOTAL}` and that class's dimensions",
                            class.node
                        ),
                    )
                };
                d.with_help(suggest::help(&suggestion, fallback))
            }
            ResolveError::UnknownGrade {
                name,
                suggestion,
                grades,
            } => {
                let fallback = format!("the grades are {}", suggest::list(&grades));
                Diagnostic::error(
                    format!("unknown grade `{}`", name.node),
                    name.span,
                    "no band of `grades` has this name",
                )
                .with_help(suggest::help(&suggestion, fallback))
            }
        }
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let scope = Scope::new(book);
    let mut errors = Vec::new();
    let kind_names: Vec<&str> = book.events.iter().map(|e| e.name.node.as_str()).collect();
    let kinds = |idents: &[Ident], errors: &mut Vec<ResolveError>| {
        for k in idents.iter().filter(|k| scope.event(&k.node).is_none()) {
            let suggestion = suggest::closest(&k.node, kind_names.iter().copied());
            errors.push(ResolveError::UnknownKind {
                name: k.clone(),
                suggestion,
            });
        }
    };
    for rule in scope::rules(book) {
        let select = rule.kind.select();
        kinds(&select.kinds, &mut errors);
        match &rule.kind {
            RuleKind::PerEvent {
                multiplier: Some(m), ..
            } => {
                attribute(&scope, &select.kinds, m, AttrUse::Multiplier, &mut errors);
            }
            RuleKind::Episodes { severity, .. } => {
                for term in severity {
                    if let Severity::Attr(a) = term {
                        attribute(&scope, &select.kinds, a, AttrUse::Severity, &mut errors);
                    }
                }
            }
            RuleKind::PerEvent { multiplier: None, .. }
            | RuleKind::Once { .. }
            | RuleKind::Absence { .. }
            | RuleKind::Count { .. } => {}
        }
    }
    for a in scope::assessed(book) {
        kinds(std::slice::from_ref(&a.kind), &mut errors);
        attribute(
            &scope,
            std::slice::from_ref(&a.kind),
            &a.value,
            AttrUse::Value,
            &mut errors,
        );
    }
    for ctx in scope::event_contexts(book) {
        for (name, span) in ctx.filter.map(scope::vars).unwrap_or_default() {
            let ident = Ident::new(name.to_string(), span);
            attribute(&scope, ctx.kinds, &ident, AttrUse::Filter, &mut errors);
        }
    }
    let group_names: Vec<&str> = book.groups.iter().map(|g| g.name.node.as_str()).collect();
    for d in book.classes.iter().flat_map(|c| &c.dimensions) {
        if let Source::Uses(g) = &d.source {
            if scope.group(&g.node).is_none() {
                let suggestion = suggest::closest(&g.node, group_names.iter().copied());
                errors.push(ResolveError::UnknownGroup {
                    name: g.clone(),
                    suggestion,
                });
            }
        }
    }
    overrides(book, &mut errors);
    errors.into_iter().map(Diagnostic::from).collect()
}

/// `name` must be an attribute of every declared kind in `kinds`; undeclared
/// kinds are reported on their own.
fn attribute(scope: &Scope<'_>, kinds: &[Ident], name: &Ident, used_as: AttrUse, errors: &mut Vec<ResolveError>) {
    let known = scope.known(kinds);
    let lacking: Vec<_> = known
        .iter()
        .filter(|(_, e)| scope::attr(e, &name.node).is_none())
        .collect();
    let Some((_, first)) = lacking.first() else {
        return;
    };
    let names: Vec<String> = first.attrs.iter().map(|a| a.name.node.clone()).collect();
    let suggestion = suggest::closest(&name.node, names.iter().map(String::as_str));
    errors.push(ResolveError::UnknownAttr {
        name: name.clone(),
        used_as,
        lacking: lacking.iter().map(|(k, _)| (*k).clone()).collect(),
        on_others: lacking.len() < known.len(),
        suggestion,
        known: names,
    });
}

/// Overrides read `total` and dimensions, and name a grade.
fn overrides(book: &Rulebook, errors: &mut Vec<ResolveError>) {
    let grades: Vec<String> = book
        .grades
        .first()
        .map(|g| g.bands.iter().map(|b| b.grade.node.clone()).collect())
        .unwrap_or_default();
    for (class, o) in scope::overrides(book) {
        if !book.grades.is_empty() && !grades.contains(&o.grade.node) {
            let suggestion = suggest::closest(&o.grade.node, grades.iter().map(String::as_str));
            errors.push(ResolveError::UnknownGrade {
                name: o.grade.clone(),
                suggestion,
                grades: grades.clone(),
            });
        }
        let classes: Vec<&Class> = match class {
            Some(c) => vec![c],
            None => book.classes.iter().collect(),
        };
        for (name, span) in scope::vars(&o.when) {
            if name == TOTAL {
                continue;
            }
            let Some(lacking) = classes
                .iter()
                .find(|c| !c.dimensions.iter().any(|d| d.name.node == name))
            else {
                continue;
            };
            let dims = lacking.dimensions.iter().map(|d| d.name.node.as_str()).chain([TOTAL]);
            errors.push(ResolveError::UnknownDimension {
                name: Ident::new(name.to_string(), span),
                class: lacking.name.clone(),
                top_level: class.is_none(),
                suggestion: suggest::closest(name, dims),
            });
        }
    }
}
