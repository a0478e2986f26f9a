//! Syntax stage: the AST, the one representation the checker, the compiler,
//! `explain`, `diff` and `fmt` share. Every node carries a byte `Span`;
//! equality ignores spans.

use crate::date::Date;
use crate::num::Num;
use crate::span::{Ident, Span, Spanned};

/// A whole rulebook file.
#[derive(Clone, Debug, PartialEq)]
pub struct Rulebook {
    pub header: Header,
    pub events: Vec<EventDecl>,
    pub groups: Vec<RuleGroup>,
    pub classes: Vec<Class>,
    /// Overrides declared at the top level apply to every class.
    pub overrides: Vec<Override>,
    /// Exactly one is valid; the checker reports more or none.
    pub grades: Vec<Grades>,
    /// `index csi … { block … }`: at most one; a rulebook with an index
    /// may have no class and no grades.
    pub indexes: Vec<Index>,
}

/// `standard "name" version "v"`, `period 12 months`, `total 100`.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub name: Spanned<String>,
    pub version: Option<Spanned<String>>,
    pub period: Duration,
    pub total: Option<Spanned<Num>>,
    pub span: Span,
}

/// `12 months`, `3 years`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Duration {
    pub count: u32,
    pub unit: Unit,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Months,
    Years,
}

impl Duration {
    pub fn months(&self) -> u32 {
        match self.unit {
            Unit::Months => self.count,
            Unit::Years => self.count.saturating_mul(12),
        }
    }
}

/// `event arrears "拖欠电费" { months: int >= 1 }`
#[derive(Clone, Debug, PartialEq)]
pub struct EventDecl {
    pub name: Ident,
    pub label: Option<Spanned<String>>,
    pub attrs: Vec<AttrDecl>,
    pub span: Span,
}

/// `persons: int >= 1 = 1`
#[derive(Clone, Debug, PartialEq)]
pub struct AttrDecl {
    pub name: Ident,
    pub ty: Spanned<Type>,
    pub min: Option<Spanned<Num>>,
    /// `in 1..10` sets `min` and `max`.
    pub max: Option<Spanned<Num>>,
    pub allowed: Option<Vec<Spanned<Literal>>>,
    pub default: Option<Spanned<Literal>>,
    /// `optional`: an empty cell is no value (not an error, no default).
    pub optional: Option<Span>,
    pub span: Span,
}

/// The type of an attribute or of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Int,
    Decimal,
    Bool,
    Text,
    Date,
}

impl Type {
    pub fn name(self) -> &'static str {
        match self {
            Type::Int => "int",
            Type::Decimal => "decimal",
            Type::Bool => "bool",
            Type::Text => "text",
            Type::Date => "date",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Int | Type::Decimal)
    }
}

/// A constant written in a rulebook.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Literal {
    Num(Num),
    Text(String),
    Bool(bool),
    Date(Date),
}

impl Literal {
    /// The type a literal has; a whole number counts as `int`.
    pub fn ty(&self) -> Type {
        match self {
            Literal::Num(n) if n.as_int().is_some() => Type::Int,
            Literal::Num(_) => Type::Decimal,
            Literal::Text(_) => Type::Text,
            Literal::Bool(_) => Type::Bool,
            Literal::Date(_) => Type::Date,
        }
    }
}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Num(n) => write!(f, "{n}"),
            Literal::Text(s) => write!(f, "{s:?}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Date(d) => write!(f, "{d}"),
        }
    }
}

/// `rules payment "商业资信" { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct RuleGroup {
    pub name: Ident,
    pub label: Option<Spanned<String>>,
    pub rules: Vec<Rule>,
    pub span: Span,
}

/// A clause ID such as `P5`, or a range such as `P1-P3`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    pub first: String,
    pub last: Option<String>,
    pub span: Span,
}

impl Clause {
    /// The clause IDs this clause names: `P1-P3` names P1, P2 and P3.
    pub fn ids(&self) -> Vec<String> {
        let Some(last) = &self.last else {
            return vec![self.first.clone()];
        };
        let split = |s: &str| {
            let at = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
            (s[..at].to_string(), s[at..].parse::<u32>().ok())
        };
        match (split(&self.first), split(last)) {
            ((p1, Some(a)), (p2, Some(b))) if p1 == p2 && a <= b && b - a < 100 => {
                (a..=b).map(|n| format!("{p1}{n}")).collect()
            }
            _ => vec![self.first.clone(), last.clone()],
        }
    }
}

impl std::fmt::Display for Clause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.last {
            Some(last) => write!(f, "{}-{}", self.first, last),
            None => f.write_str(&self.first),
        }
    }
}

/// One rule: optional clause ID and label, whether it deducts or adds, and how.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub clause: Option<Clause>,
    pub label: Option<Spanned<String>>,
    pub effect: Spanned<Effect>,
    pub kind: RuleKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Deduct,
    Bonus,
}

impl Effect {
    pub fn word(self) -> &'static str {
        match self {
            Effect::Deduct => "deduct",
            Effect::Bonus => "bonus",
        }
    }
}

/// The forms a rule takes.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleKind {
    /// `deduct 5 x persons per unqualified_electrician`
    PerEvent {
        points: Spanned<Num>,
        multiplier: Option<Ident>,
        select: Selector,
    },
    /// `deduct 5 once if any management_deficiency`
    Once { points: Spanned<Num>, select: Selector },
    /// `bonus 5 if no arrears within 12 months`
    Absence { points: Spanned<Num>, select: Selector },
    /// `deduct by count of breach { 1 => 20, 2+ => 30 }`
    Count { select: Selector, tiers: Vec<Tier> },
    /// `deduct per episode of arrears severity max(length, months) { ... }`
    Episodes {
        select: Selector,
        severity: Vec<Severity>,
        tiers: Vec<Tier>,
    },
}

/// Which events a rule looks at.
#[derive(Clone, Debug, PartialEq)]
pub struct Selector {
    pub kinds: Vec<Ident>,
    pub filter: Option<Expr>,
    /// `None`: the standard's period.
    pub window: Option<Duration>,
    pub span: Span,
}

/// One measure of an episode's severity.
#[derive(Clone, Debug, PartialEq)]
pub enum Severity {
    /// The run's length in calendar months.
    Length(Span),
    /// The largest value of an int attribute in the run.
    Attr(Ident),
}

/// `2..4 => 20`: a range of counts and the points it gives.
#[derive(Clone, Debug, PartialEq)]
pub struct Tier {
    pub from: u32,
    /// `None`: open-ended (`3+`).
    pub to: Option<u32>,
    pub points: Spanned<Num>,
    pub span: Span,
}

impl Tier {
    pub fn contains(&self, n: u32) -> bool {
        n >= self.from && self.to.is_none_or(|to| n <= to)
    }
}

/// `class power "动力户" default { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct Class {
    pub name: Ident,
    pub label: Option<Spanned<String>>,
    pub default: bool,
    pub dimensions: Vec<Dimension>,
    pub overrides: Vec<Override>,
    pub span: Span,
}

/// `dimension payment "商业资信" max 30 uses payment`
#[derive(Clone, Debug, PartialEq)]
pub struct Dimension {
    pub name: Ident,
    pub label: Option<Spanned<String>>,
    pub max: Spanned<Num>,
    pub source: Source,
    pub span: Span,
}

/// Where a dimension's points come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// `uses payment`
    Uses(Ident),
    /// `{ rules }` written inside the dimension.
    Rules(Vec<Rule>),
    /// `assessed score of latest assessment where dimension == "operations"`
    Assessed(Assessed),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Assessed {
    pub clause: Option<Clause>,
    pub label: Option<Spanned<String>>,
    pub value: Ident,
    pub kind: Ident,
    pub filter: Option<Expr>,
    pub span: Span,
}

/// `T2 grade D when payment == 0 or legal == 0`
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub clause: Option<Clause>,
    pub label: Option<Spanned<String>>,
    pub grade: Ident,
    pub when: Expr,
    pub span: Span,
}

/// `G1 grades { AAA >= 90 ... D }`
#[derive(Clone, Debug, PartialEq)]
pub struct Grades {
    pub clause: Option<Clause>,
    pub label: Option<Spanned<String>>,
    pub bands: Vec<Band>,
    pub span: Span,
}

/// `AA >= 80`; the bottom band has no threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub grade: Ident,
    pub min: Option<Spanned<Num>>,
    pub span: Span,
}

/// `index csi "客户满意度指数" of latest survey scale 1..10 { block … }`: a
/// weighted index over the latest answers of each customer in the period.
#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    pub name: Ident,
    pub label: Option<Spanned<String>>,
    /// The event kind whose attributes are the answers.
    pub kind: Ident,
    pub scale: Scale,
    pub blocks: Vec<IndexBlock>,
    pub span: Span,
}

/// `scale 1..10`: answers run from `lo` to `hi`, rescaled to 0..100.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scale {
    pub lo: Spanned<Num>,
    pub hi: Spanned<Num>,
    pub span: Span,
}

/// `block supply "供电质量" weight 0.30 { … }`
#[derive(Clone, Debug, PartialEq)]
pub struct IndexBlock {
    pub name: Ident,
    pub label: Option<Spanned<String>>,
    pub weight: Spanned<Num>,
    pub items: Vec<IndexItem>,
    pub span: Span,
}

/// `reliability "供电可靠性" weight 0.5`: an attribute of the index's event.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexItem {
    pub name: Ident,
    pub label: Option<Spanned<String>>,
    pub weight: Spanned<Num>,
    pub span: Span,
}

/// A condition or value.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Lit(Literal),
    /// An attribute of the event (in a filter) or a dimension (in an override).
    Var(String),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Vec<Spanned<Literal>>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

impl Rulebook {
    /// Every rule list: each group's and each inline dimension's.
    pub fn rule_lists(&self) -> impl Iterator<Item = &[Rule]> {
        let groups = self.groups.iter().map(|g| g.rules.as_slice());
        let inline = self
            .classes
            .iter()
            .flat_map(|c| c.dimensions.iter())
            .filter_map(|d| match &d.source {
                Source::Rules(rules) => Some(rules.as_slice()),
                _ => None,
            });
        groups.chain(inline)
    }

    /// The default class: the one marked `default`, else the first declared.
    pub fn default_class(&self) -> Option<&Class> {
        self.classes.iter().find(|c| c.default).or(self.classes.first())
    }
}

impl RuleKind {
    pub fn select(&self) -> &Selector {
        match self {
            RuleKind::PerEvent { select, .. }
            | RuleKind::Once { select, .. }
            | RuleKind::Absence { select, .. }
            | RuleKind::Count { select, .. }
            | RuleKind::Episodes { select, .. } => select,
        }
    }
}
