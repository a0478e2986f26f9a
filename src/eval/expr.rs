//! Eval stage: a resolved condition (`check::program::CExpr`) evaluated
//! over an event's attribute slots or a class's dimension scores.

use std::cmp::Ordering;

use crate::check::program::CExpr;
use crate::input::schema::Texts;
use crate::syntax::ast::CmpOp;

impl CExpr {
    /// Evaluates against slot values; `texts` serves the comparisons of
    /// texts by their characters (read only: no lock is taken).
    pub fn eval(&self, var: &dyn Fn(usize) -> i64, texts: &Texts) -> i64 {
        match self {
            CExpr::Const(v) => *v,
            CExpr::Var(slot) => var(*slot),
            CExpr::Not(x) => i64::from(x.eval(var, texts) == 0),
            CExpr::And(a, b) => i64::from(a.eval(var, texts) != 0 && b.eval(var, texts) != 0),
            CExpr::Or(a, b) => i64::from(a.eval(var, texts) != 0 || b.eval(var, texts) != 0),
            // A slot against a constant (`days > 15`, `total < 60`), the
            // usual filter and override, without two calls down the tree.
            CExpr::Cmp(op, a, b) => {
                let o = match (&**a, &**b) {
                    (CExpr::Var(slot), CExpr::Const(c)) => var(*slot).cmp(c),
                    _ => a.eval(var, texts).cmp(&b.eval(var, texts)),
                };
                i64::from(holds(*op, o))
            }
            CExpr::TextCmp(op, a, b) => {
                let (x, y) = (a.eval(var, texts) as u32, b.eval(var, texts) as u32);
                let o = if x == y {
                    Ordering::Equal
                } else {
                    texts.get(x).cmp(texts.get(y))
                };
                i64::from(holds(*op, o))
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
