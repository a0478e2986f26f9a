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
    /// `rules on total { ... }`: rules on the total, for every class.
    pub total_rules: Vec<TotalRules>,
}

/// `rules on total "扣总分" { ... }`: rules that add to or deduct from the
/// total after every dimension is clamped.
#[derive(Clone, Debug, PartialEq)]
pub struct TotalRules {
    pub label: Option<Spanned<String>>,
    pub rules: Vec<Rule>,
    pub span: Span,
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
    /// `instead of P1-P3`: the rules this one replaces when it gives points.
    pub replaces: Vec<Clause>,
    pub span: Span,
}

impl Rule {
    /// Every clause ID the rule names: its own and its tiers'.
    pub fn clause_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.clause.iter().flat_map(Clause::ids).collect();
        for t in self.kind.tiers() {
            for id in t.clause.iter().flat_map(Clause::ids) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        ids
    }
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
    /// `deduct 5 once if any management_deficiency`, or `deduct 40 once if
    /// at least 3 arrears` (`any` is `at least 1`, and `at_least` is `None`).
    Once {
        points: Spanned<Num>,
        at_least: Option<Spanned<u32>>,
        select: Selector,
    },
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
    /// `2 => 20 P2`: the clause this tier applies.
    pub clause: Option<Clause>,
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
    /// `allow over-deduction L1 because "…"`.
    pub allow: Option<AllowOver>,
    pub span: Span,
}

/// `allow over-deduction L1, L5 because "…"`: rules that may deduct more than
/// the dimension's full marks on purpose.
#[derive(Clone, Debug, PartialEq)]
pub struct AllowOver {
    pub clauses: Vec<Clause>,
    pub reason: Spanned<String>,
    pub span: Span,
}

/// Where a dimension's points come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// `uses payment`
    Uses(Ident),
    /// `{ rules }` written inside the dimension.
    Rules(Vec<Rule>),
    /// `like power`: the source of that class's dimension of the same name.
    Like(Ident),
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
    pub label: Option<Spanned<String>>,
    pub min: Option<Spanned<Num>>,
    /// `measures "预付电费"`: what the utility does for customers of this grade.
    pub measures: Option<Spanned<String>>,
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
    /// Every rule list: each group's, each inline dimension's and the total's.
    pub fn rule_lists(&self) -> impl Iterator<Item = &[Rule]> {
        let groups = self
            .groups
            .iter()
            .map(|g| g.rules.as_slice())
            .chain(self.total_rules.iter().map(|t| t.rules.as_slice()));
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

    /// The dimension a `like CLASS` dimension copies: the named class's
    /// dimension of the same name, followed through further `like`s. `None`
    /// for a dimension that is not `like`, or one whose target is missing or
    /// circular (the checker reports those).
    pub fn like_target<'a>(&'a self, d: &'a Dimension) -> Option<&'a Dimension> {
        let mut at = d;
        for _ in 0..=self.classes.len() {
            let Source::Like(class) = &at.source else {
                return (!std::ptr::eq(at, d)).then_some(at);
            };
            at = self
                .classes
                .iter()
                .find(|c| c.name.node == class.node)?
                .dimensions
                .iter()
                .find(|x| x.name.node == d.name.node)?;
        }
        None
    }

    /// Where a dimension's points come from, `like` followed to its target.
    pub fn source_of<'a>(&'a self, d: &'a Dimension) -> &'a Source {
        self.like_target(d).map_or(&d.source, |t| &t.source)
    }

    /// A dimension's label, or that of the dimension it is `like`.
    pub fn label_of<'a>(&'a self, d: &'a Dimension) -> Option<&'a Spanned<String>> {
        d.label
            .as_ref()
            .or_else(|| self.like_target(d).and_then(|t| t.label.as_ref()))
    }

    /// The default class: the one marked `default`, else the first declared.
    pub fn default_class(&self) -> Option<&Class> {
        self.classes.iter().find(|c| c.default).or(self.classes.first())
    }
}

impl RuleKind {
    /// The tiers of a tiered form; none for the others.
    pub fn tiers(&self) -> &[Tier] {
        match self {
            RuleKind::Count { tiers, .. } | RuleKind::Episodes { tiers, .. } => tiers,
            RuleKind::PerEvent { .. } | RuleKind::Once { .. } | RuleKind::Absence { .. } => &[],
        }
    }

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
