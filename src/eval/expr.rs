//! Eval stage: conditions compiled to a small tree over value slots, so that
//! a filter reads an event's attributes by index, never by name.

use std::cmp::Ordering;

use crate::diagnostic::Diagnostic;
use crate::input::schema::{encode_literal, Texts};
use crate::syntax::ast::{CmpOp, Expr, ExprKind, Type};

/// A compiled condition or value. Values are the `i64` encoding of
/// `input::schema`; conditions yield 0 or 1.
#[derive(Clone, Debug)]
pub enum CExpr {
    Const(i64),
    /// A slot: an event attribute, or a dimension score (`TOTAL` for the total).
    Var(usize),
    Not(Box<CExpr>),
    And(Box<CExpr>, Box<CExpr>),
    Or(Box<CExpr>, Box<CExpr>),
    Cmp(CmpOp, Box<CExpr>, Box<CExpr>),
    /// Text ordering compares the strings, not their ids.
    TextCmp(CmpOp, Box<CExpr>, Box<CExpr>),
    In(Box<CExpr>, Vec<i64>),
}

/// The slot of the total in an override's condition.
pub const TOTAL: usize = usize::MAX;

/// Resolves a name to its slot and type.
pub type Resolve<'a> = &'a dyn Fn(&str) -> Option<(usize, Type)>;

/// Compiles an expression; `what` names the context for messages ("attribute of `arrears`").
pub fn compile(e: &Expr, resolve: Resolve<'_>, texts: &Texts, what: &str) -> Result<(CExpr, Type), Diagnostic> {
    let bool_operand = |x: &Expr| -> Result<CExpr, Diagnostic> {
        let (c, t) = compile(x, resolve, texts, what)?;
        if t != Type::Bool {
            return Err(Diagnostic::error(
                format!("expected a condition, found a {} value", t.name()),
                x.span,
                format!("this is {}", t.name()),
            ));
        }
        Ok(c)
    };
    Ok(match &e.kind {
        ExprKind::Lit(l) => (
            CExpr::Const(encode_literal(l, texts).expect("every literal encodes")),
            l.ty(),
        ),
        ExprKind::Var(name) => match resolve(name) {
            Some((slot, ty)) => (CExpr::Var(slot), ty),
            None => {
                return Err(Diagnostic::error(
                    format!("unknown name `{name}`"),
                    e.span,
                    format!("not {what}"),
                ))
            }
        },
        ExprKind::Not(x) => (CExpr::Not(Box::new(bool_operand(x)?)), Type::Bool),
        ExprKind::And(a, b) => (
            CExpr::And(Box::new(bool_operand(a)?), Box::new(bool_operand(b)?)),
            Type::Bool,
        ),
        ExprKind::Or(a, b) => (
            CExpr::Or(Box::new(bool_operand(a)?), Box::new(bool_operand(b)?)),
            Type::Bool,
        ),
        ExprKind::Cmp(op, a, b) => {
            let (ca, ta) = compile(a, resolve, texts, what)?;
            let (cb, tb) = compile(b, resolve, texts, what)?;
            if !compatible(ta, tb) {
                return Err(Diagnostic::error(
                    format!("cannot compare {} with {}", ta.name(), tb.name()),
                    e.span,
                    "these types differ",
                ));
            }
            let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
            if ordered && ta == Type::Bool {
                return Err(Diagnostic::error(
                    format!("`{}` does not apply to true/false values", op.symbol()),
                    e.span,
                    "use `==` or `!=`",
                ));
            }
            let node = if ordered && ta == Type::Text {
                CExpr::TextCmp
            } else {
                CExpr::Cmp
            };
            (node(*op, Box::new(ca), Box::new(cb)), Type::Bool)
        }
        ExprKind::In(x, set) => {
            let (cx, tx) = compile(x, resolve, texts, what)?;
            let mut values = Vec::with_capacity(set.len());
            for lit in set {
                if !compatible(tx, lit.ty()) {
                    return Err(Diagnostic::error(
                        format!("a {} cannot be in a set of {}", tx.name(), lit.ty().name()),
                        lit.span,
                        "this value has another type",
                    ));
                }
                values.push(encode_literal(&lit.node, texts).expect("every literal encodes"));
            }
            (CExpr::In(Box::new(cx), values), Type::Bool)
        }
    })
}

fn compatible(a: Type, b: Type) -> bool {
    a == b || (a.is_numeric() && b.is_numeric())
}

impl CExpr {
    /// Evaluates against slot values; `texts` serves text ordering.
    pub fn eval(&self, var: &dyn Fn(usize) -> i64, texts: &Texts) -> i64 {
        match self {
            CExpr::Const(v) => *v,
            CExpr::Var(slot) => var(*slot),
            CExpr::Not(x) => i64::from(x.eval(var, texts) == 0),
            CExpr::And(a, b) => i64::from(a.eval(var, texts) != 0 && b.eval(var, texts) != 0),
            CExpr::Or(a, b) => i64::from(a.eval(var, texts) != 0 || b.eval(var, texts) != 0),
            CExpr::Cmp(op, a, b) => i64::from(holds(*op, a.eval(var, texts).cmp(&b.eval(var, texts)))),
            CExpr::TextCmp(op, a, b) => {
                let (x, y) = (
                    texts.get(a.eval(var, texts) as u32),
                    texts.get(b.eval(var, texts) as u32),
                );
                i64::from(holds(*op, x.cmp(&y)))
            }
            CExpr::In(x, set) => i64::from(set.contains(&x.eval(var, texts))),
        }
    }

    pub fn holds(&self, var: &dyn Fn(usize) -> i64, texts: &Texts) -> bool {
        self.eval(var, texts) != 0
    }
}

fn holds(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Eq => o.is_eq(),
        CmpOp::Ne => o.is_ne(),
        CmpOp::Lt => o.is_lt(),
        CmpOp::Le => o.is_le(),
        CmpOp::Gt => o.is_gt(),
        CmpOp::Ge => o.is_ge(),
    }
}
