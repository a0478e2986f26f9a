//! Check stage: types. Filters read attributes with their declared types,
//! overrides read dimensions and `total` as decimals; comparisons need
//! compatible sides, conditions must be true/false, set members must match,
//! and multipliers, severities and assessed values must be numbers.

use crate::diagnostic::Diagnostic;
use crate::span::{Ident, Span, Spanned};
use crate::syntax::ast::*;

use super::scope::{self, Scope};

/// A value of the wrong type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeError {
    /// Two sides of a comparison that cannot be compared:
    ///
    /// ```text
    /// event cascade_trip { reach: text }
    /// rules safety { S4 deduct 20 per cascade_trip where reach == 2 }
    /// ```
    Compare {
        op: CmpOp,
        lhs: Spanned<Type>,
        rhs: Spanned<Type>,
    },
    /// An ordering (`<`, `>=`…) of true/false values, which have no order
    /// (text orders by its characters, dates and numbers by value):
    ///
    /// ```text
    /// rules payment { P6 bonus 10 per defaulter_tip where verified > false }
    /// ```
    Order { op: CmpOp, ty: Type, span: Span },
    /// An operand of `and`, `or` or `not`, or a whole filter or `when`
    /// condition, that is not true/false:
    ///
    /// ```text
    /// rules payment { P4 bonus 0.5 per arrears where months }
    /// ```
    NotCondition { place: Place, found: Spanned<Type> },
    /// A member of an `in {…}` set of another type than the value tested:
    ///
    /// ```text
    /// rules payment { P4 bonus 0.5 per arrears where months in {1, "2"} }
    /// ```
    SetMember {
        member: Spanned<Type>,
        value: Spanned<Type>,
    },
    /// A multiplier, severity or assessed value of the wrong type:
    ///
    /// ```text
    /// event defaulter_tip { verified: bool }
    /// rules payment { P6 bonus 10 x verified per defaulter_tip }
    /// ```
    Quantity {
        name: Ident,
        used_as: Quantity,
        found: Type,
        declared: Span,
    },
    /// A multiplier whose attribute may be negative, which would turn a
    /// deduction into a bonus (`deduct 10 x n` with n = −5 gives +50):
    ///
    /// ```text
    /// event trip { persons: int }
    /// rules safety { S6 deduct 5 x persons per trip }
    /// ```
    MayBeNegative { name: Ident, kind: String, declared: Span },
    /// An attribute read from several kinds that declare it with different
    /// types:
    ///
    /// ```text
    /// event a { level: int }
    /// event b { level: text }
    /// rules r { deduct 5 per a, b where level == 1 }
    /// ```
    Conflict {
        name: Ident,
        first: (Ident, Type),
        second: (Ident, Type),
    },
}

/// Which operator or clause wanted a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    And,
    Or,
    Not,
    Filter,
    When,
}

/// What a numeric attribute is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// `x persons`: a whole number.
    Multiplier,
    /// `severity max(length, months)`: a whole number.
    Severity,
    /// `assessed score of …`: any number.
    Value,
}

fn kind_of(ty: Type) -> &'static str {
    match ty {
        Type::Int => "a whole number (`int`)",
        Type::Decimal => "a number (`decimal`)",
        Type::Bool => "true or false (`bool`)",
        Type::Text => "text",
        Type::Date => "a date",
    }
}

impl From<TypeError> for Diagnostic {
    fn from(e: TypeError) -> Self {
        match e {
            TypeError::Compare { op, lhs, rhs } => Diagnostic::error(
                format!("cannot compare {} with {}", lhs.node.name(), rhs.node.name()),
                lhs.span,
                format!("this is {}", kind_of(lhs.node)),
            )
            .with_label(rhs.span, format!("this is {}", kind_of(rhs.node)))
            .with_help(format!(
                "both sides of `{}` must have the same type; whole numbers and decimals compare with each other",
                op.symbol()
            )),
            TypeError::Order { op, ty, span } => Diagnostic::error(
                format!("`{}` cannot order true/false values", op.symbol()),
                span,
                format!("both sides are {}", kind_of(ty)),
            )
            .with_help("true/false values can only be compared with `==` or `!=`"),
            TypeError::NotCondition { place, found } => {
                let (message, help) = match place {
                    Place::And => ("`and` needs a condition on each side", "compare the value with something, as in `months == 1`"),
                    Place::Or => ("`or` needs a condition on each side", "compare the value with something, as in `months == 1`"),
                    Place::Not => ("`not` needs a condition", "compare the value with something, as in `not months == 1`"),
                    Place::Filter => ("a filter must be a condition", "write a comparison after `where`, as in `where months == 1`; a `bool` attribute alone is a condition"),
                    Place::When => ("an override needs a condition", "write a comparison after `when`, as in `when payment == 0`"),
                };
                Diagnostic::error(
                    message,
                    found.span,
                    format!("this is {}, not true or false", kind_of(found.node)),
                )
                .with_help(help)
            }
            TypeError::SetMember { member, value } => Diagnostic::error(
                format!(
                    "set member is {}, but the value tested is {}",
                    member.node.name(),
                    value.node.name()
                ),
                member.span,
                format!("this is {}", kind_of(member.node)),
            )
            .with_label(value.span, format!("this is {}", kind_of(value.node)))
            .with_help("every member of an `in {…}` set must have the type of the value tested"),
            TypeError::Quantity {
                name,
                used_as,
                found,
                declared,
            } => {
                let (message, label, help) = match (used_as, found) {
                    (Quantity::Value, _) => (
                        format!("assessed value `{}` is not a number", name.node),
                        format!("{} is not a score", kind_of(found)),
                        "the assessed value must be an `int` or `decimal` attribute of the event, such as `score: decimal`".to_string(),
                    ),
                    (_, Type::Decimal) => (
                        format!("`{}` must be a whole number", name.node),
                        "a decimal where an int is needed".to_string(),
                        format!("declare it as `{}: int`", name.node),
                    ),
                    (Quantity::Multiplier, _) => (
                        format!("multiplier `{}` is not a quantity", name.node),
                        format!("{} used as a quantity", kind_article(found)),
                        "a multiplier counts something, so it must be an `int` attribute, such as `persons: int >= 1 = 1`".to_string(),
                    ),
                    (Quantity::Severity, _) => (
                        format!("severity `{}` is not a whole number", name.node),
                        format!("{} used as a severity", kind_article(found)),
                        "a severity is `length` or an `int` attribute, such as `months: int >= 1`".to_string(),
                    ),
                };
                Diagnostic::error(message, name.span, label)
                    .with_label(declared, format!("declared `{}` here", found.name()))
                    .with_help(help)
            }
            TypeError::MayBeNegative { name, kind, declared } => Diagnostic::error(
                format!("multiplier `{}` may be negative", name.node),
                name.span,
                "a negative count would turn this deduction or bonus around",
            )
            .with_label(
                declared,
                format!("declared on `{kind}` without a lower bound of 0 or more"),
            )
            .with_help(format!(
                "give the attribute a lower bound, such as `{}: int >= 0` (or `>= 1`)",
                name.node
            )),
            TypeError::Conflict { name, first, second } => Diagnostic::error(
                format!(
                    "attribute `{}` has different types on `{}` and `{}`",
                    name.node, first.0.node, second.0.node
                ),
                name.span,
                "read from both kinds here",
            )
            .with_label(
                first.0.span,
                format!("`{}` is {} on `{}`", name.node, first.1.name(), first.0.node),
            )
            .with_label(
                second.0.span,
                format!("`{}` is {} on `{}`", name.node, second.1.name(), second.0.node),
            )
            .with_help("an attribute read from several kinds must have one type on all of them"),
        }
    }
}

fn kind_article(ty: Type) -> &'static str {
    match ty {
        Type::Int => "an int",
        Type::Decimal => "a decimal",
        Type::Bool => "a bool",
        Type::Text => "a text",
        Type::Date => "a date",
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let scope = Scope::new(book);
    let mut errors = Vec::new();
    for ctx in scope::event_contexts(book) {
        // Deeper conditions are the `nesting` pass's error.
        if let Some(filter) = ctx.filter.filter(|f| scope::depth(f) <= scope::MAX_DEPTH) {
            let env =
                |name: &str, span: Span, errors: &mut Vec<TypeError>| attr_type(&scope, ctx.kinds, name, span, errors);
            condition(filter, Place::Filter, &env, &mut errors);
        }
    }
    for rule in scope::rules(book) {
        let kinds = &rule.kind.select().kinds;
        match &rule.kind {
            RuleKind::PerEvent {
                multiplier: Some(m), ..
            } => quantity(&scope, kinds, m, Quantity::Multiplier, &mut errors),
            RuleKind::Episodes { severity, .. } => {
                for term in severity {
                    if let Severity::Attr(a) = term {
                        quantity(&scope, kinds, a, Quantity::Severity, &mut errors);
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
        quantity(
            &scope,
            std::slice::from_ref(&a.kind),
            &a.value,
            Quantity::Value,
            &mut errors,
        );
    }
    // Dimensions and `total` are decimals; unknown names are `resolve`'s.
    let dims = |_: &str, _: Span, _: &mut Vec<TypeError>| Some(Type::Decimal);
    for (_, o) in scope::overrides(book).filter(|(_, o)| scope::depth(&o.when) <= scope::MAX_DEPTH) {
        condition(&o.when, Place::When, &dims, &mut errors);
    }
    errors.into_iter().map(Diagnostic::from).collect()
}

/// The type of a variable, `None` if unknown (reported by `resolve`).
type Env<'e> = dyn Fn(&str, Span, &mut Vec<TypeError>) -> Option<Type> + 'e;

/// The type of attribute `name` across the declared kinds of a selector.
fn attr_type(scope: &Scope<'_>, kinds: &[Ident], name: &str, span: Span, errors: &mut Vec<TypeError>) -> Option<Type> {
    let mut found: Option<(&Ident, Type)> = None;
    for (kind, event) in scope.known(kinds) {
        let Some(a) = scope::attr(event, name) else {
            continue;
        };
        match found {
            None => found = Some((kind, a.ty.node)),
            Some((_, ty)) if compatible(ty, a.ty.node) => {
                if ty != a.ty.node {
                    found = Some((kind, Type::Decimal));
                }
            }
            Some((first, ty)) => {
                errors.push(TypeError::Conflict {
                    name: Ident::new(name.to_string(), span),
                    first: (first.clone(), ty),
                    second: (kind.clone(), a.ty.node),
                });
                return None;
            }
        }
    }
    found.map(|(_, ty)| ty)
}

/// Whether two types can be compared for equality.
fn compatible(a: Type, b: Type) -> bool {
    a == b || (a.is_numeric() && b.is_numeric())
}

/// Checks that `e` is a condition.
fn condition(e: &Expr, place: Place, env: &Env<'_>, errors: &mut Vec<TypeError>) {
    if let Some(ty) = type_of(e, env, errors) {
        if ty != Type::Bool {
            errors.push(TypeError::NotCondition {
                place,
                found: Spanned::new(ty, e.span),
            });
        }
    }
}

/// The type of an expression; `None` when it depends on an unknown name.
fn type_of(e: &Expr, env: &Env<'_>, errors: &mut Vec<TypeError>) -> Option<Type> {
    match &e.kind {
        ExprKind::Lit(l) => Some(l.ty()),
        ExprKind::Var(name) => env(name, e.span, errors),
        ExprKind::Not(x) => {
            condition(x, Place::Not, env, errors);
            Some(Type::Bool)
        }
        ExprKind::And(a, b) | ExprKind::Or(a, b) => {
            let place = if matches!(e.kind, ExprKind::And(..)) {
                Place::And
            } else {
                Place::Or
            };
            condition(a, place, env, errors);
            condition(b, place, env, errors);
            Some(Type::Bool)
        }
        ExprKind::Cmp(op, a, b) => {
            let (ta, tb) = (type_of(a, env, errors), type_of(b, env, errors));
            if let (Some(ta), Some(tb)) = (ta, tb) {
                if !compatible(ta, tb) {
                    errors.push(TypeError::Compare {
                        op: *op,
                        lhs: Spanned::new(ta, a.span),
                        rhs: Spanned::new(tb, b.span),
                    });
                } else if !matches!(op, CmpOp::Eq | CmpOp::Ne) && ta == Type::Bool {
                    errors.push(TypeError::Order {
                        op: *op,
                        ty: ta,
                        span: e.span,
                    });
                }
            }
            Some(Type::Bool)
        }
        ExprKind::In(x, set) => {
            if let Some(tx) = type_of(x, env, errors) {
                for m in set.iter().filter(|m| !compatible(m.node.ty(), tx)) {
                    errors.push(TypeError::SetMember {
                        member: Spanned::new(m.node.ty(), m.span),
                        value: Spanned::new(tx, x.span),
                    });
                }
            }
            Some(Type::Bool)
        }
    }
}

/// A multiplier or severity must be `int` on every kind; an assessed value
/// numeric. Missing attributes are `resolve`'s.
fn quantity(scope: &Scope<'_>, kinds: &[Ident], name: &Ident, used_as: Quantity, errors: &mut Vec<TypeError>) {
    for (kind, event) in scope.known(kinds) {
        let Some(a) = scope::attr(event, &name.node) else {
            continue;
        };
        let negative = a.min.as_ref().is_none_or(|m| m.node < crate::num::Num::ZERO);
        if used_as == Quantity::Multiplier && a.ty.node == Type::Int && negative {
            errors.push(TypeError::MayBeNegative {
                name: name.clone(),
                kind: kind.node.clone(),
                declared: a.name.span,
            });
            return;
        }
        let ok = match used_as {
            Quantity::Value => a.ty.node.is_numeric(),
            Quantity::Multiplier | Quantity::Severity => a.ty.node == Type::Int,
        };
        if !ok {
            errors.push(TypeError::Quantity {
                name: name.clone(),
                used_as,
                found: a.ty.node,
                declared: a.ty.span,
            });
            return;
        }
    }
}
