//! Formatting stage, conditions: an expression printed with the parentheses
//! it needs to parse back to the same tree (`or` < `and` < `not` <
//! comparisons < `in`; binary operators associate to the left), plus those a
//! reader needs: `a or (b and c)`, `not (x >= 3)`, `(a < b) == false`.

use crate::span::{Span, Spanned};
use crate::syntax::ast::{Expr, ExprKind, Literal};

/// `months == 1 and reach in {"branch", "substation"}`
pub(super) fn expr(src: &str, e: &Expr) -> String {
    let mut out = String::new();
    write(src, e, false, &mut out);
    out
}

/// A literal as written: `0.50` stays `0.50`, escapes stay as they were.
pub(super) fn literal(src: &str, lit: &Literal, span: Span) -> String {
    match span.text(src) {
        "" => lit.to_string(),
        text => text.to_string(),
    }
}

/// `{"branch", "substation"}`
pub(super) fn set(src: &str, items: &[Spanned<Literal>]) -> String {
    let items: Vec<String> = items.iter().map(|l| literal(src, &l.node, l.span)).collect();
    format!("{{{}}}", items.join(", "))
}

fn precedence(e: &Expr) -> u8 {
    match e.kind {
        ExprKind::Or(..) => 1,
        ExprKind::And(..) => 2,
        ExprKind::Not(..) => 3,
        ExprKind::Cmp(..) => 4,
        ExprKind::In(..) => 5,
        ExprKind::Lit(_) | ExprKind::Var(_) => 6,
    }
}

/// Writes `e`, in parentheses if `parens`.
fn write(src: &str, e: &Expr, parens: bool, out: &mut String) {
    if parens {
        out.push('(');
    }
    match &e.kind {
        ExprKind::Lit(lit) => out.push_str(&literal(src, lit, e.span)),
        ExprKind::Var(name) => out.push_str(name),
        ExprKind::Not(x) => {
            out.push_str("not ");
            // `not (months >= 3)`, never `not months >= 3`, which reads as
            // if `not` applied to `months` alone.
            write(src, x, precedence(x) < 6 && precedence(x) != 3, out);
        }
        // `a or (b and c)`: the parentheses `and` does not need, but readers do.
        ExprKind::Or(a, b) => {
            let and = |x: &Expr| matches!(x.kind, ExprKind::And(..));
            binary(src, (a, and(a)), " or ", (b, precedence(b) <= 1 || and(b)), out);
        }
        ExprKind::And(a, b) => binary(src, (a, precedence(a) < 2), " and ", (b, precedence(b) < 3), out),
        // `(a < b) == false`: a comparison inside a comparison is always bracketed.
        ExprKind::Cmp(op, a, b) => {
            let op = format!(" {} ", op.symbol());
            binary(src, (a, precedence(a) <= 4), &op, (b, precedence(b) <= 4), out);
        }
        ExprKind::In(x, items) => {
            write(src, x, precedence(x) < 5, out);
            out.push_str(" in ");
            out.push_str(&set(src, items));
        }
    }
    if parens {
        out.push(')');
    }
}

fn binary(src: &str, (a, pa): (&Expr, bool), op: &str, (b, pb): (&Expr, bool), out: &mut String) {
    write(src, a, pa, out);
    out.push_str(op);
    write(src, b, pb, out);
}
