//! Check stage: numbers that must be positive — `total`, each dimension's
//! `max`, the period and every window, rule points (deductions and bonuses
//! are written as positive amounts) and tier points (zero allowed).

use crate::diagnostic::Diagnostic;
use crate::num::Num;
use crate::span::{Span, Spanned};
use crate::syntax::ast::*;

/// A number that is zero or negative where that makes no sense.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberError {
    /// `total 0`:
    ///
    /// ```text
    /// standard "t" period 12 months total 0
    /// ```
    Total { total: Spanned<Num> },
    /// A dimension's full marks of zero or less:
    ///
    /// ```text
    /// dimension legal max 0 uses legal
    /// ```
    Max { max: Spanned<Num> },
    /// A period or window of no months:
    ///
    /// ```text
    /// bonus 5 if no arrears within 0 months
    /// ```
    Duration { span: Span, period: bool },
    /// Rule points of zero or less:
    ///
    /// ```text
    /// deduct -10 per theft
    /// ```
    Points { points: Spanned<Num>, effect: Effect },
    /// Negative tier points:
    ///
    /// ```text
    /// deduct by count of breach { 1 => -20 }
    /// ```
    TierPoints { points: Spanned<Num> },
    /// Full marks, a total or points above `LARGEST` (a billion), where sums
    /// of them could no longer be held exactly:
    ///
    /// ```text
    /// deduct 9000000000000 per theft
    /// ```
    TooLarge { value: Spanned<Num> },
    /// `at least 0`, which every customer meets:
    ///
    /// ```text
    /// deduct 40 once if at least 0 arrears
    /// ```
    AtLeastZero { span: Span },
}

/// The largest full marks, total or points a rulebook may write. Far above
/// any real standard, and small enough that every sum of them the evaluator
/// makes is exact; what a log's multipliers can push past it is an error at
/// scoring time.
pub const LARGEST: i64 = 1_000_000_000;

impl From<NumberError> for Diagnostic {
    fn from(e: NumberError) -> Self {
        match e {
            NumberError::Total { total } => Diagnostic::error(
                format!("`total {}` must be positive", total.node),
                total.span,
                "not above 0",
            )
            .with_help("`total` is the full marks of the whole standard, the sum of every class's dimensions"),
            NumberError::Max { max } => Diagnostic::error(
                format!("full marks `max {}` must be positive", max.node),
                max.span,
                "not above 0",
            )
            .with_help("each dimension starts at its full marks, so they must be above 0"),
            NumberError::Duration { span, period } => {
                let what = if period { "the period" } else { "the window" };
                Diagnostic::error(format!("{what} is 0 months long"), span, "covers no month")
                    .with_help("periods and windows end on the as-of date and reach back at least one month")
            }
            NumberError::Points { points, effect } => Diagnostic::error(
                format!("`{} {}` must be a positive amount", effect.word(), points.node),
                points.span,
                "not above 0",
            )
            .with_help(
                "write deductions and bonuses as positive amounts: `deduct 10` takes 10 points away, `bonus 5` gives 5",
            ),
            NumberError::TierPoints { points } => Diagnostic::error(
                format!("tier points `{}` are negative", points.node),
                points.span,
                "below 0",
            )
            .with_help("the rule's `deduct` or `bonus` says which way the points go; write the amount as 0 or more"),
            NumberError::TooLarge { value } => Diagnostic::error(
                format!("`{}` is too large", value.node),
                value.span,
                format!("above {LARGEST}"),
            )
            .with_help(format!(
                "full marks, totals and points are at most {LARGEST}, so that every sum of them is exact"
            )),
            NumberError::AtLeastZero { span } => {
                Diagnostic::error("`at least 0` holds for every customer", span, "0 events always suffice")
                    .with_help("count from 1: `once if any KIND` is `once if at least 1 KIND`")
            }
        }
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    if let Some(total) = book.header.total.as_ref().filter(|t| !t.node.is_positive()) {
        errors.push(NumberError::Total { total: total.clone() });
    }
    if book.header.period.count == 0 {
        errors.push(NumberError::Duration {
            span: book.header.period.span,
            period: true,
        });
    }
    for d in book.classes.iter().flat_map(|c| &c.dimensions) {
        if !d.max.node.is_positive() {
            errors.push(NumberError::Max { max: d.max.clone() });
        }
    }
    for rule in super::scope::rules(book) {
        if let Some(w) = rule.kind.select().window.filter(|w| w.count == 0) {
            errors.push(NumberError::Duration {
                span: w.span,
                period: false,
            });
        }
        if let RuleKind::Once { at_least: Some(n), .. } = &rule.kind {
            if n.node == 0 {
                errors.push(NumberError::AtLeastZero { span: n.span });
            }
        }
        match &rule.kind {
            RuleKind::PerEvent { points, .. } | RuleKind::Once { points, .. } | RuleKind::Absence { points, .. } => {
                if !points.node.is_positive() {
                    errors.push(NumberError::Points {
                        points: points.clone(),
                        effect: rule.effect.node,
                    });
                }
            }
            RuleKind::Count { tiers, .. } | RuleKind::Episodes { tiers, .. } => {
                for t in tiers.iter().filter(|t| t.points.node < Num::ZERO) {
                    errors.push(NumberError::TierPoints {
                        points: t.points.clone(),
                    });
                }
            }
        }
    }
    let large = |n: &Spanned<Num>| n.node > Num::from_int(LARGEST);
    let mut too_large: Vec<&Spanned<Num>> = book.header.total.iter().filter(|t| large(t)).collect();
    too_large.extend(
        book.classes
            .iter()
            .flat_map(|c| &c.dimensions)
            .map(|d| &d.max)
            .filter(|m| large(m)),
    );
    for rule in super::scope::rules(book) {
        match &rule.kind {
            RuleKind::PerEvent { points, .. } | RuleKind::Once { points, .. } | RuleKind::Absence { points, .. } => {
                too_large.extend(Some(points).filter(|p| large(p)));
            }
            RuleKind::Count { tiers, .. } | RuleKind::Episodes { tiers, .. } => {
                too_large.extend(tiers.iter().map(|t| &t.points).filter(|p| large(p)));
            }
        }
    }
    errors.extend(
        too_large
            .into_iter()
            .map(|v| NumberError::TooLarge { value: v.clone() }),
    );
    errors.into_iter().map(Diagnostic::from).collect()
}
