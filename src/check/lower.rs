//! Check stage: a rulebook the passes found no error in, lowered into its
//! `Program` against a schema. Lowering cannot fail: every name it looks up
//! and every type it relies on was settled by a pass, and each such place
//! says which one with an `expect`. Reaching one means the checker let an
//! error through — a bug, which the `load` fuzz target hunts.

use std::sync::Arc;

use super::program::*;
use crate::input::schema::{encode_literal, KindSchema, Schema, Texts};
use crate::span::{Ident, Span, Spanned};
use crate::syntax::ast::{self, CmpOp, Expr, ExprKind, RuleKind, Severity, Source, Type};

/// The program of a rulebook `check` found no error in. `schema` must declare
/// every event kind of the rulebook with the attributes and types the
/// rulebook gives them: `Schema::of(book)`, or a `Schema::merged` that
/// includes it and holds all its kinds.
pub fn program(book: &ast::Rulebook, src: &str, schema: Arc<Schema>) -> Program {
    let mut l = Lowering {
        src,
        schema: &schema,
        period: book.header.period.months(),
        windows: vec![book.header.period.months()],
        clauses: vec![],
    };
    let grades = book.grades.first();
    let bands: Vec<BandProg> = grades.map_or(vec![], |g| {
        g.bands
            .iter()
            .map(|b| BandProg {
                grade: b.grade.node.clone(),
                label: b.label.as_ref().map(|l| l.node.clone()),
                min: b.min.as_ref().map(|m| m.node),
                measures: b.measures.as_ref().map(|m| m.node.clone()),
            })
            .collect()
    });
    let grades_meta = grades.map_or(meta(src, &None, &None, book.header.span), |g| {
        meta(src, &g.clause, &g.label, g.span)
    });
    // A rulebook holding only an index has neither classes nor grades.
    assert!(
        book.classes.is_empty() || bands.last().is_some_and(|b| b.min.is_none()),
        "checked by check/grades.rs: a rulebook with classes has grades ending in a bottom band"
    );
    assert!(
        !book.classes.is_empty() || !book.indexes.is_empty(),
        "checked by check/classes.rs: a rulebook without an index declares a class"
    );
    let total_rules: Vec<RuleProg> = book
        .total_rules
        .iter()
        .flat_map(|t| &t.rules)
        .map(|r| l.rule(r))
        .collect();
    let total_replaces = total_rules.iter().any(|r| !r.replaces.is_empty());
    let mut classes: Vec<ClassProg> = book.classes.iter().map(|class| l.class(book, class, &bands)).collect();
    for class in &mut classes {
        class.replacing |= total_replaces;
    }
    let default_class = book.classes.iter().position(|k| k.default).unwrap_or(0);
    let index = book
        .indexes
        .first()
        .map(|ix| crate::index::compile(ix, &schema, book.header.period.months()));
    let total_label = book
        .total_rules
        .iter()
        .find_map(|t| t.label.as_ref())
        .map(|l| l.node.clone());
    Program {
        name: book.header.name.node.clone(),
        version: book.header.version.as_ref().map(|v| v.node.clone()),
        period: book.header.period.months(),
        windows: l.windows,
        classes,
        default_class: u16::try_from(default_class).expect("checked by check/limits.rs: at most 65535 classes"),
        bands,
        grades_meta,
        index,
        total_rules,
        total_label,
        clauses: l.clauses,
        schema,
    }
}

fn meta(src: &str, clause: &Option<ast::Clause>, label: &Option<Spanned<String>>, span: Span) -> Meta {
    Meta {
        clause: clause.as_ref().map(|c| c.to_string()),
        ids: clause.as_ref().map(ast::Clause::ids).unwrap_or_default(),
        label: label.as_ref().map(|l| l.node.clone()),
        span,
        text: folded(src, span),
    }
}

/// The text of `span`, whitespace folded.
fn folded(src: &str, span: Span) -> String {
    span.text(src).split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Lowering<'a> {
    src: &'a str,
    schema: &'a Schema,
    /// The header's period: the window of a rule that names none.
    period: u32,
    windows: Vec<u32>,
    clauses: Vec<String>,
}

impl<'a> Lowering<'a> {
    /// The index of a clause ID in the program's table, added if new.
    fn clause_no(&mut self, id: String) -> u16 {
        let i = match self.clauses.iter().position(|c| *c == id) {
            Some(i) => i,
            None => {
                self.clauses.push(id);
                self.clauses.len() - 1
            }
        };
        u16::try_from(i).expect("checked by check/limits.rs: the rules name at most 65535 clause IDs")
    }

    fn class(&mut self, book: &ast::Rulebook, class: &ast::Class, bands: &[BandProg]) -> ClassProg {
        let dims: Vec<DimProg> = class.dimensions.iter().map(|d| self.dimension(book, d)).collect();
        // A class's own overrides first, then the top-level ones, each in the order written.
        let resolve = |name: &str| match name {
            "total" => (TOTAL, Type::Decimal),
            _ => (
                dims.iter()
                    .position(|d| d.name == name)
                    .expect("checked by check/resolve.rs: an override reads `total` and its classes' dimensions"),
                Type::Decimal,
            ),
        };
        let overrides = class
            .overrides
            .iter()
            .chain(&book.overrides)
            .map(|o| OverrideProg {
                meta: meta(self.src, &o.clause, &o.label, o.span),
                band: bands
                    .iter()
                    .position(|b| b.grade == o.grade.node)
                    .expect("checked by check/resolve.rs: an override gives a grade of the `grades` block"),
                when: cexpr(&o.when, &resolve, &self.schema.texts).0,
                condition: folded(self.src, o.when.span),
            })
            .collect();
        let full = dims.iter().map(|d| d.max).sum();
        let replacing = dims.iter().any(|d| match &d.source {
            DimSource::Rules(rules) => rules.iter().any(|r| !r.replaces.is_empty()),
            DimSource::Assessed(_) => false,
        });
        ClassProg {
            name: class.name.node.clone(),
            label: class.label.as_ref().map(|l| l.node.clone()),
            dims,
            overrides,
            full,
            replacing,
        }
    }

    fn dimension(&mut self, book: &ast::Rulebook, d: &ast::Dimension) -> DimProg {
        let source = match book.source_of(d) {
            Source::Like(_) => {
                unreachable!("checked by check/links.rs: every `like` leads to a dimension with a source")
            }
            Source::Uses(g) => {
                let group = book
                    .groups
                    .iter()
                    .find(|x| x.name.node == g.node)
                    .expect("checked by check/resolve.rs: `uses` names a declared rule group");
                DimSource::Rules(group.rules.iter().map(|r| self.rule(r)).collect())
            }
            Source::Rules(rules) => DimSource::Rules(rules.iter().map(|r| self.rule(r)).collect()),
            Source::Assessed(a) => DimSource::Assessed(self.assessed(a)),
        };
        DimProg {
            name: d.name.node.clone(),
            label: book.label_of(d).map(|l| l.node.clone()),
            max: d.max.node,
            source,
        }
    }

    fn kind(&self, name: &Ident) -> (u16, &'a KindSchema) {
        let k = self.schema.kind(&name.node).expect(
            "checked by check/resolve.rs (every kind read is declared) and check/limits.rs (the schema holds them all)",
        );
        let schema = self.schema.kind_of(k).expect("a kind id comes from the schema");
        (k, schema)
    }

    fn filter(&self, kind: &KindSchema, e: &Expr) -> CExpr {
        let resolve = |name: &str| {
            kind.attrs
                .iter()
                .enumerate()
                .find(|(_, a)| a.name == name)
                .map(|(i, a)| (i, a.ty))
                .expect("checked by check/resolve.rs: a filter reads attributes each of its kinds declares")
        };
        cexpr(e, &resolve, &self.schema.texts).0
    }

    fn rule(&mut self, r: &ast::Rule) -> RuleProg {
        let select = r.kind.select();
        let nkinds = self.schema.kinds.len();
        let mut kinds = vec![false; nkinds];
        let mut filter: Vec<Option<CExpr>> = vec![None; nkinds];
        let mut selected = Vec::new();
        for name in &select.kinds {
            let (k, schema) = self.kind(name);
            selected.push((k, schema));
            if let Some(slot) = kinds.get_mut(usize::from(k)) {
                *slot = true;
            }
            if let (Some(f), Some(slot)) = (&select.filter, filter.get_mut(usize::from(k))) {
                *slot = Some(self.filter(schema, f));
            }
        }
        // Multipliers and severities are whole numbers (check/types.rs), read per kind.
        let per_kind = |attr: &Ident| -> Vec<usize> {
            let mut slots = vec![0; nkinds];
            for &(k, schema) in &selected {
                if let Some(dst) = slots.get_mut(usize::from(k)) {
                    *dst = slot(schema, attr);
                }
            }
            slots
        };
        let form = match &r.kind {
            RuleKind::PerEvent { points, multiplier, .. } => Form::PerEvent {
                points: points.node,
                multiplier: multiplier.as_ref().map(per_kind),
            },
            RuleKind::Once { points, at_least, .. } => Form::Once {
                points: points.node,
                at_least: at_least.as_ref().map_or(1, |n| n.node),
            },
            RuleKind::Absence { points, .. } => Form::Absence { points: points.node },
            RuleKind::Count { tiers, .. } => Form::Count {
                tiers: self.tiers(tiers),
            },
            RuleKind::Episodes { severity, tiers, .. } => Form::Episodes {
                severity: severity
                    .iter()
                    .map(|s| match s {
                        Severity::Length(_) => None,
                        Severity::Attr(a) => Some(per_kind(a)),
                    })
                    .collect(),
                tiers: self.tiers(tiers),
            },
        };
        let months = select.window.map_or(self.period, |w| w.months());
        let window = match self.windows.iter().position(|&m| m == months) {
            Some(i) => i,
            None => {
                self.windows.push(months);
                self.windows.len() - 1
            }
        };
        let ids = r.clause_ids().into_iter().map(|id| self.clause_no(id)).collect();
        let replaces = r
            .replaces
            .iter()
            .flat_map(ast::Clause::ids)
            .map(|id| self.clause_no(id))
            .collect();
        RuleProg {
            meta: meta(self.src, &r.clause, &r.label, r.span),
            effect: r.effect.node,
            window,
            kinds,
            kind_names: select.kinds.iter().map(|k| k.node.clone()).collect(),
            filter,
            form,
            ids,
            replaces,
        }
    }

    fn tiers(&mut self, tiers: &[ast::Tier]) -> Vec<TierProg> {
        tiers
            .iter()
            .map(|t| TierProg {
                from: t.from,
                to: t.to,
                points: t.points.node,
                clause: t.clause.as_ref().map(|k| self.clause_no(k.to_string())),
            })
            .collect()
    }

    fn assessed(&self, a: &ast::Assessed) -> AssessedProg {
        let (kind, schema) = self.kind(&a.kind);
        AssessedProg {
            meta: meta(self.src, &a.clause, &a.label, a.span),
            kind,
            value: slot(schema, &a.value),
            filter: a.filter.as_ref().map(|f| self.filter(schema, f)),
        }
    }
}

/// The slot of an attribute on a kind.
fn slot(kind: &KindSchema, attr: &Ident) -> usize {
    kind.attrs
        .iter()
        .position(|a| a.name == attr.node)
        .expect("checked by check/resolve.rs: every attribute read is declared on each kind it is read from")
}

/// A checked condition or value over the slots `resolve` gives its names,
/// with its type. The types were checked by check/types.rs; lowering reads
/// them only to order texts by their characters.
fn cexpr(e: &Expr, resolve: &dyn Fn(&str) -> (usize, Type), texts: &Texts) -> (CExpr, Type) {
    let sub = |x: &Expr| Box::new(cexpr(x, resolve, texts).0);
    let lit = |l: &ast::Literal| {
        encode_literal(l, texts).expect("Schema::of and Schema::merged intern every text their rulebooks write")
    };
    match &e.kind {
        ExprKind::Lit(l) => (CExpr::Const(lit(l)), l.ty()),
        ExprKind::Var(name) => {
            let (slot, ty) = resolve(name);
            (CExpr::Var(slot), ty)
        }
        ExprKind::Not(x) => (CExpr::Not(sub(x)), Type::Bool),
        ExprKind::And(a, b) => (CExpr::And(sub(a), sub(b)), Type::Bool),
        ExprKind::Or(a, b) => (CExpr::Or(sub(a), sub(b)), Type::Bool),
        ExprKind::Cmp(op, a, b) => {
            let (ca, ta) = cexpr(a, resolve, texts);
            let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
            let node = if ordered && ta == Type::Text {
                CExpr::TextCmp
            } else {
                CExpr::Cmp
            };
            (node(*op, Box::new(ca), sub(b)), Type::Bool)
        }
        ExprKind::In(x, set) => (
            CExpr::In(sub(x), set.iter().map(|l| lit(&l.node)).collect()),
            Type::Bool,
        ),
    }
}
