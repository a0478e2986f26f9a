//! Check stage: text values compared with an attribute that allows only an
//! `in {…}` set of values — a value outside the set can never match, so a
//! misspelt `reach == "brnch"` would silently never fire.

use crate::diagnostic::Diagnostic;
use crate::span::Spanned;
use crate::syntax::ast::*;

use super::scope::{self, Scope};
use super::suggest;

/// A text value that the attribute it is compared with never takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueError {
    /// A value outside the attribute's allowed set:
    ///
    /// ```text
    /// event cascade_trip { reach: text in {"branch", "substation"} }
    /// rules safety { S4 deduct 20 per cascade_trip where reach == "substaion" }
    /// ```
    NotAllowed {
        value: Spanned<String>,
        attr: String,
        allowed: Vec<String>,
        suggestion: Option<String>,
    },
}

impl From<ValueError> for Diagnostic {
    fn from(e: ValueError) -> Self {
        match e {
            ValueError::NotAllowed {
                value,
                attr,
                allowed,
                suggestion,
            } => {
                let quoted: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
                let fallback = format!("`{attr}` is one of {}", suggest::list(&quoted));
                let help = match suggestion {
                    Some(s) => format!("did you mean `{s:?}`?"),
                    None => fallback,
                };
                Diagnostic::error(
                    format!("`{:?}` is not an allowed value of `{attr}`", value.node),
                    value.span,
                    "this can never match",
                )
                .with_help(help)
            }
        }
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let scope = Scope::new(book);
    let mut errors = Vec::new();
    for ctx in scope::event_contexts(book) {
        // Deeper conditions are the `nesting` pass's error.
        if let Some(filter) = ctx.filter.filter(|f| scope::depth(f) <= scope::MAX_DEPTH) {
            walk(filter, &scope, ctx.kinds, &mut errors);
        }
    }
    errors.into_iter().map(Diagnostic::from).collect()
}

fn walk(e: &Expr, scope: &Scope<'_>, kinds: &[crate::span::Ident], errors: &mut Vec<ValueError>) {
    let text = |e: &Expr| match &e.kind {
        ExprKind::Lit(Literal::Text(t)) => Some(Spanned::new(t.clone(), e.span)),
        _ => None,
    };
    match &e.kind {
        ExprKind::Lit(_) | ExprKind::Var(_) => {}
        ExprKind::Not(x) => walk(x, scope, kinds, errors),
        ExprKind::And(a, b) | ExprKind::Or(a, b) => {
            walk(a, scope, kinds, errors);
            walk(b, scope, kinds, errors);
        }
        // Only equality: `reach < "c"` may rightly name a value outside the set.
        ExprKind::Cmp(CmpOp::Eq | CmpOp::Ne, a, b) => match (&a.kind, &b.kind) {
            (ExprKind::Var(name), _) => value(name, text(b), scope, kinds, errors),
            (_, ExprKind::Var(name)) => value(name, text(a), scope, kinds, errors),
            _ => {}
        },
        ExprKind::Cmp(..) => {}
        ExprKind::In(x, set) => {
            if let ExprKind::Var(name) = &x.kind {
                for m in set {
                    if let Literal::Text(t) = &m.node {
                        value(name, Some(Spanned::new(t.clone(), m.span)), scope, kinds, errors);
                    }
                }
            }
        }
    }
}

/// Reports `value` if no kind with attribute `name` allows it. A kind whose
/// attribute has no set allows every value.
fn value(
    name: &str,
    value: Option<Spanned<String>>,
    scope: &Scope<'_>,
    kinds: &[crate::span::Ident],
    errors: &mut Vec<ValueError>,
) {
    let Some(value) = value else { return };
    let mut allowed: Vec<String> = Vec::new();
    for (_, event) in scope.known(kinds) {
        let Some(a) = scope::attr(event, name) else {
            continue;
        };
        let Some(set) = &a.allowed else { return };
        for m in set {
            if let Literal::Text(t) = &m.node {
                if *t == value.node {
                    return;
                }
                if !allowed.contains(t) {
                    allowed.push(t.clone());
                }
            }
        }
    }
    if allowed.is_empty() {
        return;
    }
    let suggestion = suggest::closest(&value.node, allowed.iter().map(String::as_str));
    errors.push(ValueError::NotAllowed {
        value,
        attr: name.to_string(),
        allowed,
        suggestion,
    });
}
