//! Eval stage: a checked AST compiled once into a `Program` that is cheap to
//! run — kinds as bitmaps, attributes as slots, filters as `CExpr`, windows
//! as month counts. Anything the compiler cannot resolve becomes a
//! diagnostic, never a panic.

use std::sync::Arc;

use super::expr::{self, CExpr, TOTAL};
use crate::diagnostic::Diagnostic;
use crate::input::schema::Schema;
use crate::num::Num;
use crate::span::Span;
use crate::syntax::ast::{self, Effect, RuleKind, Severity, Source, Type};

/// Who a ledger line is about: the rule's clause, label and source span.
#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    /// The clause as written (`P1-P3`), for people.
    pub clause: Option<String>,
    /// The clause IDs it names (`P1`, `P2`, `P3`), as values: nothing parses
    /// `clause` again.
    pub ids: Vec<String>,
    pub label: Option<String>,
    pub span: Span,
    /// The rule as written, whitespace folded (for `diff`).
    pub text: String,
}

#[derive(Debug)]
pub struct Program {
    pub schema: Arc<Schema>,
    pub name: String,
    pub version: Option<String>,
    pub period: u32,
    pub classes: Vec<ClassProg>,
    pub default_class: u16,
    /// Highest first; the last has no threshold.
    pub bands: Vec<BandProg>,
    pub grades_meta: Meta,
    /// Distinct window lengths in months; rules refer to them by index.
    pub windows: Vec<u32>,
    /// The rulebook's satisfaction index, if it declares one.
    pub index: Option<crate::index::IndexProg>,
    /// `rules on total`: applied to every class's total after the clamp.
    pub total_rules: Vec<RuleProg>,
    /// The label of the first `rules on total` block.
    pub total_label: Option<String>,
    /// Every clause ID a rule names; rules refer to them by index.
    pub clauses: Vec<String>,
}

#[derive(Debug)]
pub struct ClassProg {
    pub name: String,
    pub label: Option<String>,
    pub dims: Vec<DimProg>,
    /// The class's own overrides, then the top-level ones, each in the order written.
    pub overrides: Vec<OverrideProg>,
    /// The full marks of the total: the sum of the dimensions' `max`.
    pub full: Num,
    /// Whether any rule of the class or of the total replaces others.
    pub replacing: bool,
}

#[derive(Debug)]
pub struct DimProg {
    pub name: String,
    pub label: Option<String>,
    pub max: Num,
    pub source: DimSource,
}

#[derive(Debug)]
pub enum DimSource {
    Rules(Vec<RuleProg>),
    Assessed(AssessedProg),
}

#[derive(Debug)]
pub struct RuleProg {
    pub meta: Meta,
    pub effect: Effect,
    /// Index into `Program::windows`.
    pub window: usize,
    /// `kinds[k]`: the rule looks at events of kind `k`.
    pub kinds: Vec<bool>,
    pub kind_names: Vec<String>,
    /// Per kind, the compiled filter.
    pub filter: Vec<Option<CExpr>>,
    pub form: Form,
    /// The rule's clause IDs (its own and its tiers'), as indices into `Program::clauses`.
    pub ids: Vec<u16>,
    /// `instead of …`: the clause IDs of the rules it replaces when it gives points.
    pub replaces: Vec<u16>,
}

#[derive(Debug)]
pub enum Form {
    /// Points per event; the multiplier is an attribute slot per kind.
    PerEvent {
        points: Num,
        multiplier: Option<Vec<usize>>,
    },
    /// Points once when at least `at_least` (1 for `any`) events match.
    Once {
        points: Num,
        at_least: u32,
    },
    Absence {
        points: Num,
    },
    Count {
        tiers: Vec<TierProg>,
    },
    /// Severity terms: `None` is the run's length, `Some(slots)` an attribute per kind.
    Episodes {
        severity: Vec<Option<Vec<usize>>>,
        tiers: Vec<TierProg>,
    },
}

impl Form {
    /// The tiers of a tiered form; none for the others.
    pub fn tiers(&self) -> &[TierProg] {
        match self {
            Form::Count { tiers } | Form::Episodes { tiers, .. } => tiers,
            Form::PerEvent { .. } | Form::Once { .. } | Form::Absence { .. } => &[],
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct TierProg {
    pub from: u32,
    pub to: Option<u32>,
    pub points: Num,
    /// `2 => 20 P2`: the clause this tier applies, as an index into `Program::clauses`.
    pub clause: Option<u16>,
}

impl TierProg {
    pub fn contains(&self, n: u32) -> bool {
        n >= self.from && self.to.is_none_or(|to| n <= to)
    }
}

#[derive(Debug)]
pub struct AssessedProg {
    pub meta: Meta,
    pub kind: u16,
    pub value: usize,
    pub filter: Option<CExpr>,
}

#[derive(Debug)]
pub struct OverrideProg {
    pub meta: Meta,
    /// Index into `Program::bands`.
    pub band: usize,
    pub when: CExpr,
    /// The condition as written, whitespace folded.
    pub condition: String,
}

#[derive(Debug)]
pub struct BandProg {
    pub grade: String,
    pub label: Option<String>,
    pub min: Option<Num>,
    /// What the utility does for customers of this grade, as written.
    pub measures: Option<String>,
}

impl Program {
    pub fn class_index(&self, name: &str) -> Option<u16> {
        self.classes.iter().position(|c| c.name == name).map(|i| i as u16)
    }

    pub fn class_names(&self) -> Vec<&str> {
        self.classes.iter().map(|c| c.name.as_str()).collect()
    }

    /// The first day no rule looks at for this as-of date: `as_of − longest window`.
    pub fn horizon(&self, as_of: crate::date::Date) -> crate::date::Date {
        as_of.minus_months(self.windows.iter().copied().max().unwrap_or(self.period))
    }

    /// The band a total earns by the bands alone (no override), as an index
    /// into `bands`: the first whose threshold it reaches, else the bottom one.
    pub fn band(&self, total: Num) -> usize {
        self.bands
            .iter()
            .position(|b| b.min.is_none_or(|m| total >= m))
            .unwrap_or(self.bands.len().saturating_sub(1))
    }

    /// Whether any grade carries measures (outputs then show a measures column).
    pub fn has_measures(&self) -> bool {
        self.bands.iter().any(|b| b.measures.is_some())
    }

    /// A clause ID by its index.
    pub fn clause(&self, i: u16) -> &str {
        self.clauses
            .get(usize::from(i))
            .map(String::as_str)
            .expect("clause indices come from the program's own table")
    }

    /// The clause a ledger line of `rule` applied: its tier's clause, else the rule's.
    pub fn line_clause(&self, rule: &RuleProg, tier: Option<usize>) -> Option<String> {
        let tier_clause = tier.and_then(|t| rule.form.tiers().get(t)).and_then(|t| t.clause);
        match tier_clause {
            Some(c) => Some(self.clause(c).to_string()),
            None => rule.meta.clause.clone(),
        }
    }

    /// Every dimension name, in first-declared order across classes.
    pub fn dimension_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for d in self.classes.iter().flat_map(|c| &c.dims) {
            if !out.contains(&d.name.as_str()) {
                out.push(&d.name);
            }
        }
        out
    }
}

fn meta(src: &str, clause: &Option<ast::Clause>, label: &Option<crate::span::Spanned<String>>, span: Span) -> Meta {
    Meta {
        clause: clause.as_ref().map(|c| c.to_string()),
        ids: clause.as_ref().map(ast::Clause::ids).unwrap_or_default(),
        label: label.as_ref().map(|l| l.node.clone()),
        span,
        text: span.text(src).split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// Compiles a checked rulebook against its schema.
pub fn compile(book: &ast::Rulebook, src: &str, schema: Arc<Schema>) -> Result<Program, Vec<Diagnostic>> {
    let mut c = Compiler {
        src,
        schema: &schema,
        windows: vec![book.header.period.months()],
        errors: vec![],
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
    let index_only = book.classes.is_empty() && book.grades.is_empty() && !book.indexes.is_empty();
    if !index_only && bands.last().is_none_or(|b| b.min.is_some()) {
        c.errors.push(Diagnostic::error(
            "the grades have no bottom band",
            grades.map_or(book.header.span, |g| g.span),
            "here",
        ));
    }
    let total_rules: Vec<RuleProg> = book
        .total_rules
        .iter()
        .flat_map(|t| &t.rules)
        .filter_map(|r| c.rule(book, r))
        .collect();
    let total_replaces = total_rules.iter().any(|r| !r.replaces.is_empty());
    let mut classes: Vec<ClassProg> = book.classes.iter().map(|class| c.class(book, class, &bands)).collect();
    for class in &mut classes {
        class.replacing |= total_replaces;
    }
    if classes.is_empty() && book.indexes.is_empty() {
        c.errors.push(Diagnostic::error(
            "the rulebook declares no class",
            book.header.span,
            "add a `class`",
        ));
    }
    let default_class = book.classes.iter().position(|k| k.default).unwrap_or(0) as u16;
    let index = match book.indexes.first() {
        Some(ix) => match crate::index::compile(ix, &schema, book.header.period.months()) {
            Ok(ix) => Some(ix),
            Err(d) => {
                c.errors.push(d);
                None
            }
        },
        None => None,
    };
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    let total_label = book
        .total_rules
        .iter()
        .find_map(|t| t.label.as_ref())
        .map(|l| l.node.clone());
    let clauses = c.clauses;
    Ok(Program {
        name: book.header.name.node.clone(),
        version: book.header.version.as_ref().map(|v| v.node.clone()),
        period: book.header.period.months(),
        windows: c.windows,
        schema,
        classes,
        default_class,
        bands,
        grades_meta,
        index,
        total_rules,
        total_label,
        clauses,
    })
}

struct Compiler<'a> {
    src: &'a str,
    schema: &'a Schema,
    windows: Vec<u32>,
    errors: Vec<Diagnostic>,
    clauses: Vec<String>,
}

impl Compiler<'_> {
    /// The index of a clause ID in the program's table, added if new.
    fn clause_no(&mut self, id: String) -> u16 {
        let i = match self.clauses.iter().position(|c| *c == id) {
            Some(i) => i,
            None => {
                self.clauses.push(id);
                self.clauses.len() - 1
            }
        };
        u16::try_from(i).expect("a rulebook under the size limit names fewer than 65536 clauses")
    }

    fn class(&mut self, book: &ast::Rulebook, class: &ast::Class, bands: &[BandProg]) -> ClassProg {
        let dims: Vec<DimProg> = class.dimensions.iter().map(|d| self.dimension(book, d)).collect();
        // A class's own overrides first, then the top-level ones, each in the order written.
        let overrides: Vec<&ast::Override> = class.overrides.iter().chain(&book.overrides).collect();
        let resolve = |name: &str| match name {
            "total" => Some((TOTAL, Type::Decimal)),
            _ => dims.iter().position(|d| d.name == name).map(|i| (i, Type::Decimal)),
        };
        let overrides = overrides
            .into_iter()
            .filter_map(|o| {
                let Some(band) = bands.iter().position(|b| b.grade == o.grade.node) else {
                    self.errors.push(Diagnostic::error(
                        format!("unknown grade `{}`", o.grade.node),
                        o.grade.span,
                        "not a band of the grades",
                    ));
                    return None;
                };
                let what = format!("a dimension of class `{}`", class.name.node);
                match expr::compile(&o.when, &resolve, &self.schema.texts, &what) {
                    Ok((when, Type::Bool)) => Some(OverrideProg {
                        meta: meta(self.src, &o.clause, &o.label, o.span),
                        band,
                        when,
                        condition: o
                            .when
                            .span
                            .text(self.src)
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" "),
                    }),
                    Ok(_) => {
                        self.errors.push(Diagnostic::error(
                            "an override needs a condition",
                            o.when.span,
                            "this is not true or false",
                        ));
                        None
                    }
                    Err(d) => {
                        self.errors.push(d);
                        None
                    }
                }
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
            Source::Like(class) => {
                self.errors.push(Diagnostic::error(
                    format!("`like {}` leads to no dimension `{}`", class.node, d.name.node),
                    class.span,
                    "here",
                ));
                DimSource::Rules(vec![])
            }
            Source::Uses(g) => match book.groups.iter().find(|x| x.name.node == g.node) {
                Some(group) => DimSource::Rules(group.rules.iter().filter_map(|r| self.rule(book, r)).collect()),
                None => {
                    self.errors.push(Diagnostic::error(
                        format!("unknown rule group `{}`", g.node),
                        g.span,
                        "no `rules` block has this name",
                    ));
                    DimSource::Rules(vec![])
                }
            },
            Source::Rules(rules) => DimSource::Rules(rules.iter().filter_map(|r| self.rule(book, r)).collect()),
            Source::Assessed(a) => match self.assessed(a) {
                Some(a) => DimSource::Assessed(a),
                None => DimSource::Rules(vec![]),
            },
        };
        DimProg {
            name: d.name.node.clone(),
            label: book.label_of(d).map(|l| l.node.clone()),
            max: d.max.node,
            source,
        }
    }

    fn kind(&mut self, name: &crate::span::Ident) -> Option<u16> {
        let k = self.schema.kind(&name.node);
        if k.is_none() {
            self.errors.push(Diagnostic::error(
                format!("unknown event kind `{}`", name.node),
                name.span,
                "no `event` declares this kind",
            ));
        }
        k
    }

    /// The slot of an attribute on a kind, checking its type.
    fn slot(&mut self, kind: u16, attr: &crate::span::Ident, ok: fn(Type) -> bool, need: &str) -> Option<usize> {
        let k = self.schema.kind_of(kind)?;
        match k.attrs.iter().position(|a| a.name == attr.node) {
            Some(i) if k.attrs.get(i).is_some_and(|a| ok(a.ty)) => Some(i),
            Some(_) => {
                self.errors.push(Diagnostic::error(
                    format!("`{}` is not {need}", attr.node),
                    attr.span,
                    format!("this attribute of `{}` has another type", k.name),
                ));
                None
            }
            None => {
                self.errors.push(Diagnostic::error(
                    format!("unknown attribute `{}`", attr.node),
                    attr.span,
                    format!("`{}` has no such attribute", k.name),
                ));
                None
            }
        }
    }

    fn filter(&mut self, kind: u16, e: &ast::Expr) -> Option<CExpr> {
        let k = self.schema.kind_of(kind)?;
        let resolve = |name: &str| {
            k.attrs
                .iter()
                .position(|a| a.name == name)
                .and_then(|i| k.attrs.get(i).map(|a| (i, a.ty)))
        };
        match expr::compile(
            e,
            &resolve,
            &self.schema.texts,
            &format!("an attribute of `{}`", k.name),
        ) {
            Ok((c, Type::Bool)) => Some(c),
            Ok((_, t)) => {
                self.errors.push(Diagnostic::error(
                    format!("a filter needs a condition, found a {} value", t.name()),
                    e.span,
                    "this is not true or false",
                ));
                None
            }
            Err(d) => {
                self.errors.push(d);
                None
            }
        }
    }

    fn rule(&mut self, _book: &ast::Rulebook, r: &ast::Rule) -> Option<RuleProg> {
        let select = r.kind.select();
        let before = self.errors.len();
        let nkinds = self.schema.kinds.len();
        let mut kinds = vec![false; nkinds];
        let mut filter: Vec<Option<CExpr>> = vec![None; nkinds];
        let mut ids = Vec::new();
        for name in &select.kinds {
            if let Some(k) = self.kind(name) {
                ids.push(k);
                if let Some(slot) = kinds.get_mut(usize::from(k)) {
                    *slot = true;
                }
                if let Some(f) = &select.filter {
                    let compiled = self.filter(k, f);
                    if let Some(slot) = filter.get_mut(usize::from(k)) {
                        *slot = compiled;
                    }
                }
            }
        }
        let months = select
            .window
            .map_or(self.windows.first().copied().unwrap_or(12), |w| w.months());
        let window = match self.windows.iter().position(|&m| m == months) {
            Some(i) => i,
            None => {
                self.windows.push(months);
                self.windows.len() - 1
            }
        };
        let per_kind =
            |c: &mut Compiler<'_>, attr: &crate::span::Ident, ok: fn(Type) -> bool, need: &str| -> Vec<usize> {
                let mut slots = vec![0; nkinds];
                for &k in &ids {
                    if let (Some(s), Some(dst)) = (c.slot(k, attr, ok, need), slots.get_mut(usize::from(k))) {
                        *dst = s;
                    }
                }
                slots
            };
        let tiers = |c: &mut Compiler<'_>, t: &[ast::Tier]| {
            t.iter()
                .map(|t| TierProg {
                    from: t.from,
                    to: t.to,
                    points: t.points.node,
                    clause: t.clause.as_ref().map(|k| c.clause_no(k.to_string())),
                })
                .collect()
        };
        let form = match &r.kind {
            RuleKind::PerEvent { points, multiplier, .. } => Form::PerEvent {
                points: points.node,
                multiplier: multiplier
                    .as_ref()
                    .map(|m| per_kind(self, m, |t| t == Type::Int, "a whole-number attribute")),
            },
            RuleKind::Once { points, at_least, .. } => Form::Once {
                points: points.node,
                at_least: at_least.as_ref().map_or(1, |n| n.node),
            },
            RuleKind::Absence { points, .. } => Form::Absence { points: points.node },
            RuleKind::Count { tiers: t, .. } => Form::Count { tiers: tiers(self, t) },
            RuleKind::Episodes { severity, tiers: t, .. } => Form::Episodes {
                severity: severity
                    .iter()
                    .map(|s| match s {
                        Severity::Length(_) => None,
                        Severity::Attr(a) => Some(per_kind(self, a, |t| t == Type::Int, "a whole-number attribute")),
                    })
                    .collect(),
                tiers: tiers(self, t),
            },
        };
        let ids = r.clause_ids().into_iter().map(|id| self.clause_no(id)).collect();
        let replaces = r
            .replaces
            .iter()
            .flat_map(ast::Clause::ids)
            .map(|id| self.clause_no(id))
            .collect();
        if self.errors.len() > before {
            return None;
        }
        Some(RuleProg {
            meta: meta(self.src, &r.clause, &r.label, r.span),
            effect: r.effect.node,
            window,
            kinds,
            kind_names: select.kinds.iter().map(|k| k.node.clone()).collect(),
            filter,
            form,
            ids,
            replaces,
        })
    }

    fn assessed(&mut self, a: &ast::Assessed) -> Option<AssessedProg> {
        let kind = self.kind(&a.kind)?;
        let value = self.slot(kind, &a.value, Type::is_numeric, "a number")?;
        let filter = match &a.filter {
            Some(f) => Some(self.filter(kind, f)?),
            None => None,
        };
        Some(AssessedProg {
            meta: meta(self.src, &a.clause, &a.label, a.span),
            kind,
            value,
            filter,
        })
    }
}
