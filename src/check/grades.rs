//! Check stage: the `grades` block — exactly one, its bands strictly
//! descending by threshold, and exactly one bottom band, written last.

use crate::diagnostic::Diagnostic;
use crate::num::Num;
use crate::span::{Ident, Span, Spanned};
use crate::syntax::ast::*;

/// A missing, repeated or badly ordered `grades` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GradesError {
    /// No `grades` block at all:
    ///
    /// ```text
    /// standard "t" period 12 months
    /// event theft
    /// rules legal { deduct 10 per theft }
    /// class c { dimension legal max 10 uses legal }
    /// ```
    Missing { header: Span },
    /// A second `grades` block:
    ///
    /// ```text
    /// grades { A >= 5, D }
    /// grades { B >= 5, E }
    /// ```
    Twice { first: Span, second: Span },
    /// A threshold not below the one before:
    ///
    /// ```text
    /// grades { A >= 70, AA >= 80, D }
    /// ```
    NotDescending {
        band: Ident,
        min: Spanned<Num>,
        previous: (Ident, Spanned<Num>),
    },
    /// No band without a threshold:
    ///
    /// ```text
    /// grades { A >= 80, B >= 60 }
    /// ```
    NoBottom { last: Span },
    /// A band without a threshold before other bands:
    ///
    /// ```text
    /// grades { A >= 80, C, D }
    /// ```
    BottomNotLast { band: Ident },
}

impl From<GradesError> for Diagnostic {
    fn from(e: GradesError) -> Self {
        match e {
            GradesError::Missing { header } => {
                Diagnostic::error("no `grades` block", header, "this standard has no grade bands").with_help(
                    "add the bands, best grade first and a bottom grade last: `grades { A >= 80, B >= 60, C }`",
                )
            }
            GradesError::Twice { first, second } => {
                Diagnostic::error("a second `grades` block", second, "grades declared again here")
                    .with_label(first, "first declared here")
                    .with_help("a standard has one set of grade bands; merge the two blocks")
            }
            GradesError::NotDescending { band, min, previous } => Diagnostic::error(
                format!(
                    "threshold of grade `{}` is not below that of `{}`",
                    band.node, previous.0.node
                ),
                min.span,
                format!("`{}` starts at {}", band.node, min.node),
            )
            .with_label(
                previous.1.span,
                format!("`{}` starts at {}", previous.0.node, previous.1.node),
            )
            .with_help("list bands from the best grade down, each threshold strictly lower than the one before"),
            GradesError::NoBottom { last } => {
                Diagnostic::error("no bottom band", last, "the last band has a threshold")
                    .with_help("end with a grade without a threshold, such as `D`, for totals below every threshold")
            }
            GradesError::BottomNotLast { band } => Diagnostic::error(
                format!("grade `{}` has no threshold but is not the last band", band.node),
                band.span,
                "no `>=` here",
            )
            .with_help(
                "only the bottom band, written last, goes without a threshold; give this one `>= N` or move it last",
            ),
        }
    }
}

/// The head of a `grades` block: from its clause or label to its first band.
fn head(g: &Grades) -> Span {
    let end = g.bands.first().map_or(g.span.end, |b| b.span.start);
    Span {
        start: g.span.start,
        end: end.max(g.span.start),
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let mut blocks = book.grades.iter();
    match blocks.next() {
        // A rulebook holding only an index grades nobody.
        None if book.classes.is_empty() && !book.indexes.is_empty() => {}
        None => errors.push(GradesError::Missing {
            header: book.header.name.span,
        }),
        Some(first) => {
            for again in blocks {
                errors.push(GradesError::Twice {
                    first: head(first),
                    second: head(again),
                });
            }
        }
    }
    for g in &book.grades {
        bands(g, &mut errors);
    }
    errors.into_iter().map(Diagnostic::from).collect()
}

fn bands(g: &Grades, errors: &mut Vec<GradesError>) {
    // The band with the lowest threshold so far: each threshold must be below it.
    let mut lowest: Option<(&Ident, &Spanned<Num>)> = None;
    let count = g.bands.len();
    for (i, band) in g.bands.iter().enumerate() {
        let last = i + 1 == count;
        let Some(min) = &band.min else {
            if !last {
                errors.push(GradesError::BottomNotLast {
                    band: band.grade.clone(),
                });
            }
            continue;
        };
        match lowest {
            Some((lg, lm)) if min.node >= lm.node => errors.push(GradesError::NotDescending {
                band: band.grade.clone(),
                min: min.clone(),
                previous: (lg.clone(), lm.clone()),
            }),
            _ => lowest = Some((&band.grade, min)),
        }
        if last {
            errors.push(GradesError::NoBottom { last: band.grade.span });
        }
    }
}
