//! Check stage: the satisfaction index — one per rulebook, on a declared
//! event kind, each item an int attribute of that kind whose `in lo..hi`
//! bounds are the index's scale, weights above 0 (a warning when they do not
//! add up to 1) — and the attributes it reads: a range `in lo..hi` in order,
//! and an `optional` attribute (no value when empty) read by no rule.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::num::Num;
use crate::span::{Ident, Span, Spanned};
use crate::syntax::ast::*;

use super::resolve::AttrUse;
use super::scope::{self, Scope};
use super::suggest;

/// A broken index, or an attribute it cannot read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexError {
    /// A second index in one rulebook:
    ///
    /// ```text
    /// index csi of latest survey scale 1..10 { block a weight 1 { q weight 1 } }
    /// index csi2 of latest survey scale 1..10 { block a weight 1 { q weight 1 } }
    /// ```
    Second { first: Ident, second: Ident },
    /// The index reads an event kind no `event` declares:
    ///
    /// ```text
    /// index csi of latest surveys scale 1..10 { block a weight 1 { q weight 1 } }
    /// ```
    UnknownKind { kind: Ident, suggestion: Option<String> },
    /// An item that is not an attribute of the index's event:
    ///
    /// ```text
    /// event survey { q: int in 1..10 optional }
    /// index csi of latest survey scale 1..10 { block a weight 1 { price weight 1 } }
    /// ```
    NotAttribute {
        item: Ident,
        kind: Ident,
        known: Vec<String>,
        suggestion: Option<String>,
    },
    /// An item whose attribute is not a whole number:
    ///
    /// ```text
    /// event survey { q: text }
    /// ```
    NotInt { item: Ident, ty: Spanned<Type> },
    /// An item whose attribute's bounds are not the scale:
    ///
    /// ```text
    /// event survey { q: int in 1..5 optional }
    /// index csi of latest survey scale 1..10 { block a weight 1 { q weight 1 } }
    /// ```
    ScaleMismatch {
        item: Ident,
        attr: Ident,
        bounds: Option<(Num, Num)>,
        scale: Scale,
    },
    /// A scale that is not two whole numbers, lowest first:
    ///
    /// ```text
    /// index csi of latest survey scale 10..1 { … }
    /// ```
    BadScale { scale: Scale },
    /// A weight of 0 or less:
    ///
    /// ```text
    /// block supply weight 0 { reliability weight 0.5 }
    /// ```
    Weight { weight: Spanned<Num> },
    /// A block or an item named twice in one index:
    ///
    /// ```text
    /// block a weight 0.5 { q weight 1 }
    /// block b weight 0.5 { q weight 1 }
    /// ```
    Duplicate {
        what: &'static str,
        first: Ident,
        second: Ident,
    },
    /// A range whose bounds are out of order:
    ///
    /// ```text
    /// event survey { q: int in 10..1 }
    /// ```
    RangeOrder { min: Spanned<Num>, max: Spanned<Num> },
    /// A default above the range:
    ///
    /// ```text
    /// event survey { q: int in 1..10 = 11 }
    /// ```
    DefaultAboveMax { default: Spanned<Num>, max: Spanned<Num> },
    /// A rule that reads an `optional` attribute, which may have no value:
    ///
    /// ```text
    /// event survey { q: int in 1..10 optional }
    /// rules r { deduct 1 per survey where q < 5 }
    /// ```
    OptionalRead { name: Ident, decl: Span, used_as: AttrUse },
}

/// An index that is valid but probably not what was meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexWarning {
    /// Weights that do not add up to 1:
    ///
    /// ```text
    /// block supply weight 0.3 { reliability weight 0.5  voltage weight 0.6 }
    /// ```
    WeightSum {
        /// `the blocks of index `csi``, `the items of block `supply``.
        what: String,
        weights: Vec<Spanned<Num>>,
        at: Span,
    },
}

impl From<IndexError> for Diagnostic {
    fn from(e: IndexError) -> Self {
        match e {
            IndexError::Second { first, second } => Diagnostic::error(
                format!("a second index `{}`", second.node),
                second.span,
                "a second index",
            )
            .with_label(first.span, "the first index")
            .with_help("a rulebook holds one index; put the other in its own rulebook"),
            IndexError::UnknownKind { kind, suggestion } => {
                Diagnostic::error(format!("unknown event kind `{}`", kind.node), kind.span, "not declared").with_help(
                    suggest::help(
                        &suggestion,
                        format!(
                            "declare the survey first: `event {} {{ q: int in 1..10 optional }}`",
                            kind.node
                        ),
                    ),
                )
            }
            IndexError::NotAttribute {
                item,
                kind,
                known,
                suggestion,
            } => {
                let fallback = match known.as_slice() {
                    [] => format!(
                        "`{}` has no attributes; declare `{}: int in 1..10 optional` on it",
                        kind.node, item.node
                    ),
                    _ => format!("`{}` has {}", kind.node, suggest::list(&known)),
                };
                Diagnostic::error(
                    format!("item `{}` is not an attribute of `{}`", item.node, kind.node),
                    item.span,
                    "not an attribute",
                )
                .with_label(kind.span, "the survey event")
                .with_help(suggest::help(&suggestion, fallback))
            }
            IndexError::NotInt { item, ty } => Diagnostic::error(
                format!(
                    "item `{}` is a `{}` attribute, not a whole number",
                    item.node,
                    ty.node.name()
                ),
                item.span,
                "answers must be whole numbers",
            )
            .with_label(ty.span, "declared here")
            .with_help("declare the answer as `int in 1..10 optional`"),
            IndexError::ScaleMismatch {
                item,
                attr,
                bounds,
                scale,
            } => {
                let (lo, hi) = (scale.lo.node, scale.hi.node);
                let (message, label) = match bounds {
                    Some((a, b)) => (
                        format!("item `{}` runs {a}..{b}, but the scale is {lo}..{hi}", item.node),
                        format!("declared `in {a}..{b}`"),
                    ),
                    None => (
                        format!("item `{}` has no `in {lo}..{hi}` bounds", item.node),
                        "no range".to_string(),
                    ),
                };
                Diagnostic::error(message, item.span, "this item")
                    .with_label(attr.span, label)
                    .with_label(scale.span, "the index's scale")
                    .with_help(format!(
                        "declare the attribute `{}: int in {lo}..{hi} optional`, so that every answer is on the scale",
                        item.node
                    ))
            }
            IndexError::BadScale { scale } => Diagnostic::error(
                format!(
                    "scale {}..{} is not a range of whole numbers, lowest first",
                    scale.lo.node, scale.hi.node
                ),
                scale.span,
                "this scale",
            )
            .with_help("write the answers' range, e.g. `scale 1..10`"),
            IndexError::Weight { weight } => Diagnostic::error(
                format!("weight `{}` is not above 0", weight.node),
                weight.span,
                "this weight",
            )
            .with_help("every block and item needs a weight above 0; remove what should not count"),
            IndexError::Duplicate { what, first, second } => Diagnostic::error(
                format!("{what} `{}` appears twice in the index", second.node),
                second.span,
                "again here",
            )
            .with_label(first.span, "first here")
            .with_help(format!("each {what} counts once; remove one or rename it")),
            IndexError::RangeOrder { min, max } => Diagnostic::error(
                format!("range {}..{} runs backwards", min.node, max.node),
                min.span.join(max.span),
                "lowest first",
            )
            .with_help(format!("write `in {}..{}`", max.node, min.node)),
            IndexError::DefaultAboveMax { default, max } => Diagnostic::error(
                format!("default `{}` is above the upper bound `{}`", default.node, max.node),
                default.span,
                "this default",
            )
            .with_label(max.span, "the upper bound"),
            IndexError::OptionalRead { name, decl, used_as } => {
                let role = match used_as {
                    AttrUse::Filter => "read in this filter",
                    AttrUse::Multiplier => "used as the multiplier",
                    AttrUse::Severity => "used as the severity",
                    AttrUse::Value => "used as the assessed value",
                };
                Diagnostic::error(
                    format!("attribute `{}` is optional and may have no value", name.node),
                    name.span,
                    role,
                )
                .with_label(decl, "declared `optional`")
                .with_help(
                    "a rule needs a value on every event: give the attribute a default (`= 1`) instead of `optional`",
                )
            }
        }
    }
}

impl From<IndexWarning> for Diagnostic {
    fn from(w: IndexWarning) -> Self {
        match w {
            IndexWarning::WeightSum { what, weights, at } => {
                let sum: Num = weights.iter().map(|w| w.node).sum();
                let terms: Vec<String> = weights.iter().map(|w| w.node.to_string()).collect();
                Diagnostic::warning(
                    format!("the weights of {what} add up to {sum}, not 1"),
                    at,
                    format!("{} = {sum}", terms.join(" + ")),
                )
                .with_help("weights are renormalised over what each customer answered, so only their ratios count; make them add up to 1 so they read as shares")
            }
        }
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let scope = Scope::new(book);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    ranges(book, &mut errors);
    optional_reads(book, &scope, &mut errors);
    let mut indexes = book.indexes.iter();
    if let Some(first) = indexes.next() {
        for again in indexes {
            errors.push(IndexError::Second {
                first: first.name.clone(),
                second: again.name.clone(),
            });
        }
        index(first, &scope, book, &mut errors, &mut warnings);
    }
    let mut out: Vec<Diagnostic> = errors.into_iter().map(Diagnostic::from).collect();
    out.extend(warnings.into_iter().map(Diagnostic::from));
    out
}

fn index(
    ix: &Index,
    scope: &Scope<'_>,
    book: &Rulebook,
    errors: &mut Vec<IndexError>,
    warnings: &mut Vec<IndexWarning>,
) {
    let (lo, hi) = (ix.scale.lo.node, ix.scale.hi.node);
    let scale_ok = lo.as_int().is_some() && hi.as_int().is_some() && lo < hi;
    if !scale_ok {
        errors.push(IndexError::BadScale {
            scale: ix.scale.clone(),
        });
    }
    let event = scope.event(&ix.kind.node);
    if event.is_none() {
        let names = book.events.iter().map(|e| e.name.node.as_str());
        errors.push(IndexError::UnknownKind {
            kind: ix.kind.clone(),
            suggestion: suggest::closest(&ix.kind.node, names),
        });
    }
    let mut blocks: HashMap<&str, &Ident> = HashMap::new();
    let mut items: HashMap<&str, &Ident> = HashMap::new();
    for b in &ix.blocks {
        if let Some(first) = blocks.insert(&b.name.node, &b.name) {
            errors.push(IndexError::Duplicate {
                what: "block",
                first: first.clone(),
                second: b.name.clone(),
            });
        }
        weight(&b.weight, errors);
        for i in &b.items {
            if let Some(first) = items.insert(&i.name.node, &i.name) {
                errors.push(IndexError::Duplicate {
                    what: "item",
                    first: first.clone(),
                    second: i.name.clone(),
                });
            }
            weight(&i.weight, errors);
            if let Some(e) = event {
                item(i, e, &ix.kind, scale_ok.then_some(&ix.scale), errors);
            }
        }
        let weights: Vec<Spanned<Num>> = b.items.iter().map(|i| i.weight.clone()).collect();
        sums(
            format!("the items of block `{}`", b.name.node),
            weights,
            b.name.span,
            warnings,
        );
    }
    let weights: Vec<Spanned<Num>> = ix.blocks.iter().map(|b| b.weight.clone()).collect();
    sums(
        format!("the blocks of index `{}`", ix.name.node),
        weights,
        ix.name.span,
        warnings,
    );
}

fn weight(w: &Spanned<Num>, errors: &mut Vec<IndexError>) {
    if !w.node.is_positive() {
        errors.push(IndexError::Weight { weight: w.clone() });
    }
}

/// A warning when positive weights do not add up to 1 (a non-positive one is an error already).
fn sums(what: String, weights: Vec<Spanned<Num>>, at: Span, warnings: &mut Vec<IndexWarning>) {
    let sum: Num = weights.iter().map(|w| w.node).sum();
    if weights.iter().all(|w| w.node.is_positive()) && Num::parse("1") != Ok(sum) {
        warnings.push(IndexWarning::WeightSum { what, weights, at });
    }
}

fn item(i: &IndexItem, event: &EventDecl, kind: &Ident, scale: Option<&Scale>, errors: &mut Vec<IndexError>) {
    let Some(attr) = scope::attr(event, &i.name.node) else {
        let known: Vec<String> = event.attrs.iter().map(|a| a.name.node.clone()).collect();
        errors.push(IndexError::NotAttribute {
            item: i.name.clone(),
            kind: kind.clone(),
            suggestion: suggest::closest(&i.name.node, known.iter().map(String::as_str)),
            known,
        });
        return;
    };
    if attr.ty.node != Type::Int {
        errors.push(IndexError::NotInt {
            item: i.name.clone(),
            ty: attr.ty.clone(),
        });
        return;
    }
    let Some(scale) = scale else {
        return;
    };
    let bounds = attr.min.as_ref().zip(attr.max.as_ref()).map(|(a, b)| (a.node, b.node));
    if bounds != Some((scale.lo.node, scale.hi.node)) {
        errors.push(IndexError::ScaleMismatch {
            item: i.name.clone(),
            attr: attr.name.clone(),
            bounds,
            scale: scale.clone(),
        });
    }
}

/// `in lo..hi` in order, and a default within it.
fn ranges(book: &Rulebook, errors: &mut Vec<IndexError>) {
    for a in book.events.iter().flat_map(|e| &e.attrs) {
        let (Some(min), Some(max)) = (&a.min, &a.max) else {
            continue;
        };
        if min.node > max.node {
            errors.push(IndexError::RangeOrder {
                min: min.clone(),
                max: max.clone(),
            });
        }
        if let Some(Spanned {
            node: Literal::Num(d),
            span,
        }) = &a.default
        {
            if *d > max.node {
                errors.push(IndexError::DefaultAboveMax {
                    default: Spanned::new(*d, *span),
                    max: max.clone(),
                });
            }
        }
    }
}

/// Rules read attributes on every event they select; an `optional` one may have none.
fn optional_reads(book: &Rulebook, scope: &Scope<'_>, errors: &mut Vec<IndexError>) {
    let mut check = |kinds: &[Ident], name: &Ident, used_as: AttrUse| {
        for (_, e) in scope.known(kinds) {
            if let Some(a) = scope::attr(e, &name.node) {
                if let Some(decl) = a.optional {
                    errors.push(IndexError::OptionalRead {
                        name: name.clone(),
                        decl,
                        used_as,
                    });
                    return;
                }
            }
        }
    };
    for rule in scope::rules(book) {
        let select = rule.kind.select();
        match &rule.kind {
            RuleKind::PerEvent {
                multiplier: Some(m), ..
            } => check(&select.kinds, m, AttrUse::Multiplier),
            RuleKind::Episodes { severity, .. } => {
                for term in severity {
                    match term {
                        Severity::Attr(a) => check(&select.kinds, a, AttrUse::Severity),
                        Severity::Length(_) => {}
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
        check(std::slice::from_ref(&a.kind), &a.value, AttrUse::Value);
    }
    for ctx in scope::event_contexts(book) {
        for (name, span) in ctx.filter.map(scope::vars).unwrap_or_default() {
            check(ctx.kinds, &Ident::new(name.to_string(), span), AttrUse::Filter);
        }
    }
}
