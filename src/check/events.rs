//! Check stage: event declarations — attribute names that clash with a log's
//! own columns, and each attribute's constraint (`>= min`, `in {…}`) and
//! default against its type.

use crate::diagnostic::Diagnostic;
use crate::num::Num;
use crate::span::{Ident, Span, Spanned};
use crate::syntax::ast::*;

/// The columns every event row has; attributes cannot take these names.
const COLUMNS: [&str; 3] = ["customer", "date", "kind"];

/// A wrongly declared attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttrError {
    /// An attribute named like a column every event already has:
    ///
    /// ```text
    /// event arrears { date: date }
    /// ```
    Reserved { name: Ident },
    /// A default of another type than the attribute:
    ///
    /// ```text
    /// event unqualified_electrician { persons: int = 1.5 }
    /// ```
    DefaultType {
        name: String,
        default: Spanned<Literal>,
        ty: Spanned<Type>,
    },
    /// A default outside the attribute's `in {…}` set:
    ///
    /// ```text
    /// event cascade_trip { reach: text in {"branch", "substation"} = "feeder" }
    /// ```
    DefaultNotAllowed { default: Spanned<Literal>, set: Span },
    /// A default below the attribute's `>= min`:
    ///
    /// ```text
    /// event unqualified_electrician { persons: int >= 1 = 0 }
    /// ```
    DefaultBelowMin { default: Spanned<Num>, min: Spanned<Num> },
    /// A lower bound on an attribute that is not a number, or a fractional
    /// lower bound on an `int`:
    ///
    /// ```text
    /// event cascade_trip { reach: text >= 1 }
    /// ```
    MinType { min: Spanned<Num>, ty: Spanned<Type> },
    /// An `in {…}` set on an attribute that is not text:
    ///
    /// ```text
    /// event arrears { months: int in {"1", "2"} }
    /// ```
    SetType { set: Span, ty: Spanned<Type> },
    /// A member of an `in {…}` set that is not text:
    ///
    /// ```text
    /// event cascade_trip { reach: text in {"branch", 2} }
    /// ```
    SetMember { member: Spanned<Type> },
}

impl From<AttrError> for Diagnostic {
    fn from(e: AttrError) -> Self {
        match e {
            AttrError::Reserved { name } => Diagnostic::error(
                format!("attribute `{}` clashes with a column of every event", name.node),
                name.span,
                "reserved name",
            )
            .with_help("every event row already has `customer`, `date` and `kind`; give the attribute another name"),
            AttrError::DefaultType { name, default, ty } => Diagnostic::error(
                format!("default `{}` does not fit `{name}: {}`", default.node, ty.node.name()),
                default.span,
                format!("this is {}", default.node.ty().name()),
            )
            .with_label(ty.span, format!("declared `{}` here", ty.node.name()))
            .with_help(
                "the default is used for rows that leave the attribute empty, so it must have the attribute's type",
            ),
            AttrError::DefaultNotAllowed { default, set } => Diagnostic::error(
                format!("default `{}` is not one of the allowed values", default.node),
                default.span,
                "not in the set",
            )
            .with_label(set, "the allowed values")
            .with_help("add the default to the `in {…}` set or choose one of its values"),
            AttrError::DefaultBelowMin { default, min } => Diagnostic::error(
                format!("default `{}` is below the lower bound `{}`", default.node, min.node),
                default.span,
                "too small",
            )
            .with_label(min.span, "the lower bound")
            .with_help("the default must satisfy the attribute's own `>=` bound"),
            AttrError::MinType { min, ty } => {
                let (message, help) = if ty.node == Type::Int {
                    (
                        format!("lower bound `{}` of a whole-number attribute has a fraction", min.node),
                        "write a whole number, or declare the attribute `decimal`",
                    )
                } else {
                    (
                        format!("`>=` bound on a `{}` attribute", ty.node.name()),
                        "a lower bound applies to `int` and `decimal` attributes only",
                    )
                };
                Diagnostic::error(message, min.span, "this bound")
                    .with_label(ty.span, format!("declared `{}` here", ty.node.name()))
                    .with_help(help)
            }
            AttrError::SetType { set, ty } => Diagnostic::error(
                format!(
                    "`in {{…}}` set on {} `{}` attribute",
                    if ty.node == Type::Int { "an" } else { "a" },
                    ty.node.name()
                ),
                set,
                "these values",
            )
            .with_label(ty.span, format!("declared `{}` here", ty.node.name()))
            .with_help(
                "a set of allowed values applies to `text` attributes only; use `>=` for a number's lower bound",
            ),
            AttrError::SetMember { member } => Diagnostic::error(
                format!("allowed value is {}, not text", member.node.name()),
                member.span,
                "not text",
            )
            .with_help("the allowed values of a text attribute are quoted: `in {\"branch\", \"substation\"}`"),
        }
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for a in book.events.iter().flat_map(|e| &e.attrs) {
        attr(a, &mut errors);
    }
    errors.into_iter().map(Diagnostic::from).collect()
}

fn attr(a: &AttrDecl, errors: &mut Vec<AttrError>) {
    let ty = a.ty.node;
    if COLUMNS.contains(&a.name.node.as_str()) {
        errors.push(AttrError::Reserved { name: a.name.clone() });
    }
    if let Some(min) = &a.min {
        if !ty.is_numeric() || (ty == Type::Int && min.node.as_int().is_none()) {
            errors.push(AttrError::MinType {
                min: min.clone(),
                ty: a.ty.clone(),
            });
        }
    }
    let set_span = a.allowed.as_ref().and_then(|set| {
        let first = set.first()?.span;
        Some(set.iter().fold(first, |s, m| s.join(m.span)))
    });
    if let (Some(set), Some(span)) = (&a.allowed, set_span) {
        if ty != Type::Text {
            errors.push(AttrError::SetType {
                set: span,
                ty: a.ty.clone(),
            });
        } else {
            for m in set.iter().filter(|m| m.node.ty() != Type::Text) {
                errors.push(AttrError::SetMember {
                    member: Spanned::new(m.node.ty(), m.span),
                });
            }
        }
    }
    let Some(default) = &a.default else { return };
    let dty = default.node.ty();
    if !(dty == ty || (dty == Type::Int && ty == Type::Decimal)) {
        errors.push(AttrError::DefaultType {
            name: a.name.node.clone(),
            default: default.clone(),
            ty: a.ty.clone(),
        });
        return;
    }
    if let (Some(set), Some(span)) = (&a.allowed, set_span) {
        if ty == Type::Text && !set.iter().any(|m| m.node == default.node) {
            errors.push(AttrError::DefaultNotAllowed {
                default: default.clone(),
                set: span,
            });
        }
    }
    if let (Some(min), Literal::Num(n)) = (&a.min, &default.node) {
        if *n < min.node {
            errors.push(AttrError::DefaultBelowMin {
                default: Spanned::new(*n, default.span),
                min: min.clone(),
            });
        }
    }
}
