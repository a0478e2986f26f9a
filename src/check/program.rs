//! Check stage: the checker's result — the resolved program every later
//! stage runs. Kinds are bitmaps and ids, attributes slots, dimensions,
//! classes and grades indices, conditions `CExpr` over slots, windows month
//! counts, clause IDs indices into one table. `lower` builds it from a
//! rulebook the passes found no error in; nothing after the checker looks a
//! name up or checks a type again.

use std::sync::Arc;

use crate::input::schema::Schema;
use crate::num::Num;
use crate::span::Span;
use crate::syntax::ast::{CmpOp, Effect};

/// A resolved condition or value. Values are the `i64` encoding of
/// `input::schema`; conditions yield 0 or 1. `eval::expr` evaluates it.
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
