//! Check stage: the tiers of count and episode rules — each range well
//! formed, the ladder strictly ascending without overlaps, an open tier `N+`
//! only last; gaps and a ladder not starting at 1 are warnings.

use crate::diagnostic::Diagnostic;
use crate::syntax::ast::*;

/// A tier ladder that is wrong (errors) or leaves counts without points
/// (warnings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TierError {
    /// A range whose end is below its start:
    ///
    /// ```text
    /// deduct by count of breach { 4..2 => 20 }
    /// ```
    Backwards { tier: TierText },
    /// A tier starting at 0, which no count or episode reaches:
    ///
    /// ```text
    /// deduct by count of breach { 0 => 5, 1 => 20 }
    /// ```
    Zero { tier: TierText },
    /// A tier that starts inside or before the tier above it:
    ///
    /// ```text
    /// deduct by count of breach { 1..2 => 20, 2+ => 30 }
    /// ```
    Overlap { tier: TierText, previous: TierText },
    /// A tier listed after a lower one:
    ///
    /// ```text
    /// deduct by count of breach { 1 => 10, 3 => 30, 2 => 20 }
    /// ```
    NotAscending { tier: TierText, previous: TierText },
    /// An open tier `N+` with tiers after it:
    ///
    /// ```text
    /// deduct by count of breach { 1+ => 20, 3 => 30 }
    /// ```
    OpenNotLast { open: TierText, next: TierText },
    /// Warning: counts between two tiers give no points:
    ///
    /// ```text
    /// deduct by count of breach { 1 => 20, 3+ => 30 }
    /// ```
    Gap { from: u32, to: u32, tier: TierText },
    /// Warning: the ladder does not start at 1, so smaller counts give no
    /// points:
    ///
    /// ```text
    /// deduct by count of breach { 2+ => 30 }
    /// ```
    LateStart { tier: TierText },
}

/// A tier as the user wrote it (`2..4`), with its span.
pub type TierText = crate::span::Spanned<String>;

fn text(t: &Tier) -> String {
    match t.to {
        None => format!("{}+", t.from),
        Some(to) if to == t.from => t.from.to_string(),
        Some(to) => format!("{}..{}", t.from, to),
    }
}

fn written(t: &Tier) -> TierText {
    TierText::new(text(t), t.span)
}

impl From<TierError> for Diagnostic {
    fn from(e: TierError) -> Self {
        match e {
            TierError::Backwards { tier } => {
                Diagnostic::error(format!("tier `{}` runs backwards", tier.node), tier.span, "its end is below its start")
                    .with_help("write the smaller count first, as in `2..4`")
            }
            TierError::Zero { tier } => {
                Diagnostic::error("a tier cannot start at 0", tier.span, "no count or episode is 0")
                    .with_help("tiers count matching events (or an episode's severity), which is at least 1; for points when there are no matching events, write a rule `bonus N if no KIND`")
            }
            TierError::Overlap { tier, previous } => Diagnostic::error(
                format!("tier `{}` overlaps tier `{}`", tier.node, previous.node),
                tier.span,
                "overlaps the tier before",
            )
            .with_label(previous.span, "this tier already covers part of it")
            .with_help("each count must fall in one tier only; start this tier after the end of the one before"),
            TierError::NotAscending { tier, previous } => Diagnostic::error(
                format!("tier `{}` comes after the higher tier `{}`", tier.node, previous.node),
                tier.span,
                "lower than the tier before",
            )
            .with_label(previous.span, "the tier before")
            .with_help("list tiers from the lowest count up"),
            TierError::OpenNotLast { open, next } => Diagnostic::error(
                format!("open tier `{}` is not the last", open.node),
                open.span,
                "covers every count from here up",
            )
            .with_label(next.span, "so this tier can never apply")
            .with_help("an open tier `N+` takes every count from N up, so it must be the last tier"),
            TierError::Gap { from, to, tier } => {
                let counts = if from == to { format!("count {from} gives") } else { format!("counts {from} to {to} give") };
                Diagnostic::warning(format!("{counts} no points"), tier.span, "the tier before ends lower")
                    .with_help("no tier covers these counts; if that is intended, ignore this warning, otherwise extend a tier to close the gap")
            }
            TierError::LateStart { tier } => Diagnostic::warning(
                format!("the tiers start at `{}`, so lower counts give no points", tier.node),
                tier.span,
                "the first tier",
            )
            .with_help("a count or severity of 1 is possible; if it should give no points, ignore this warning, otherwise start the first tier at 1"),
        }
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for rule in super::scope::rules(book) {
        let tiers = rule.kind.tiers();
        if !tiers.is_empty() {
            ladder(tiers, &mut errors);
        }
    }
    errors.into_iter().map(Diagnostic::from).collect()
}

fn ladder(tiers: &[Tier], errors: &mut Vec<TierError>) {
    let before = errors.len();
    for t in tiers {
        if t.from == 0 {
            errors.push(TierError::Zero { tier: written(t) });
        }
        if t.to.is_some_and(|to| to < t.from) {
            errors.push(TierError::Backwards { tier: written(t) });
        }
    }
    if errors.len() > before {
        return;
    }
    // `highest`: the tier reaching the highest count so far.
    let mut highest: Option<&Tier> = None;
    for t in tiers {
        if let Some(h) = highest {
            let Some(end) = h.to else {
                errors.push(TierError::OpenNotLast {
                    open: written(h),
                    next: written(t),
                });
                return;
            };
            if t.from < h.from {
                errors.push(TierError::NotAscending {
                    tier: written(t),
                    previous: written(h),
                });
            } else if t.from <= end {
                errors.push(TierError::Overlap {
                    tier: written(t),
                    previous: written(h),
                });
            }
        }
        if highest.is_none_or(|h| h.to.is_some_and(|end| t.to.is_none_or(|to| to > end))) {
            highest = Some(t);
        }
    }
    if errors.len() > before {
        return;
    }
    // A well-formed ladder: warn about counts that give no points.
    let mut next_count = 1u32;
    for t in tiers {
        if t.from > next_count {
            errors.push(match next_count {
                1 => TierError::LateStart { tier: written(t) },
                _ => TierError::Gap {
                    from: next_count,
                    to: t.from.saturating_sub(1),
                    tier: written(t),
                },
            });
        }
        match t.to {
            Some(to) => next_count = to.saturating_add(1),
            None => return,
        }
    }
}
