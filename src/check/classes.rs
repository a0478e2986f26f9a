//! Check stage: classes of customer — at least one, at most one `default`,
//! each with dimensions whose full marks add up to the header's `total`, and
//! no dimension named `total`, which overrides read as the sum.

use crate::diagnostic::Diagnostic;
use crate::num::Num;
use crate::span::{Ident, Span, Spanned};
use crate::syntax::ast::*;

use super::scope::TOTAL;

/// A missing or inconsistent class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClassError {
    /// No class declared:
    ///
    /// ```text
    /// standard "t" period 12 months
    /// event theft
    /// grades { A >= 5, D }
    /// ```
    Missing { header: Span },
    /// A second class marked `default`:
    ///
    /// ```text
    /// class power default { dimension legal max 10 uses legal }
    /// class lighting default { dimension legal max 10 uses legal }
    /// ```
    TwoDefaults { first: Ident, second: Ident },
    /// A class without dimensions:
    ///
    /// ```text
    /// class power { }
    /// ```
    Empty { class: Ident },
    /// Full marks that do not add up to the declared `total`:
    ///
    /// ```text
    /// standard "t" period 12 months total 100
    /// class lighting { dimension payment max 50 uses payment
    ///                  dimension legal max 40 uses legal }
    /// ```
    Sum {
        class: Ident,
        maxes: Vec<Num>,
        total: Spanned<Num>,
    },
    /// A dimension named `total`, which overrides read as the sum:
    ///
    /// ```text
    /// class power { dimension total max 10 uses legal }
    /// ```
    DimensionTotal { name: Ident },
}

impl From<ClassError> for Diagnostic {
    fn from(e: ClassError) -> Self {
        match e {
            ClassError::Missing { header } => {
                Diagnostic::error("no class of customer is declared", header, "this standard scores nobody")
                    .with_help("declare at least one class with its dimensions: `class power { dimension payment max 30 uses payment }`")
            }
            ClassError::TwoDefaults { first, second } => Diagnostic::error(
                format!("class `{}` is marked `default`, but `{}` already is", second.node, first.node),
                second.span,
                "a second default class",
            )
            .with_label(first.span, "the default class")
            .with_help("customers without a class on the roster get the default class, so there can be only one"),
            ClassError::Empty { class } => {
                Diagnostic::error(format!("class `{}` has no dimensions", class.node), class.span, "nothing to score")
                    .with_help("give the class at least one `dimension NAME max N ...`")
            }
            ClassError::Sum { class, maxes, total } => {
                let sum: Num = maxes.iter().copied().sum();
                let terms: Vec<String> = maxes.iter().map(Num::to_string).collect();
                Diagnostic::error(
                    format!("full marks of class `{}` add up to {}, not {}", class.node, sum, total.node),
                    class.span,
                    format!("dimensions add up to {sum}"),
                )
                .with_label(total.span, format!("`total {}` declared here", total.node))
                .with_help(match terms.as_slice() {
                    [one] => format!("its one dimension has `max {one}`; change it or `total` so they agree"),
                    _ => format!(
                        "the dimensions' `max` add up to {} = {sum}; change them or `total` so they agree",
                        terms.join(" + ")
                    ),
                })
            }
            ClassError::DimensionTotal { name } => Diagnostic::error(
                format!("a dimension cannot be named `{TOTAL}`"),
                name.span,
                "reserved name",
            )
            .with_help(format!("in an override, `{TOTAL}` means the sum of all dimensions; rename this dimension")),
        }
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    // A rulebook holding only an index scores nobody, on purpose.
    if book.classes.is_empty() && book.indexes.is_empty() {
        errors.push(ClassError::Missing {
            header: book.header.name.span,
        });
    }
    let mut default: Option<&Ident> = None;
    for c in &book.classes {
        if c.default {
            match default {
                Some(first) => errors.push(ClassError::TwoDefaults {
                    first: first.clone(),
                    second: c.name.clone(),
                }),
                None => default = Some(&c.name),
            }
        }
        for d in c.dimensions.iter().filter(|d| d.name.node == TOTAL) {
            errors.push(ClassError::DimensionTotal { name: d.name.clone() });
        }
        if c.dimensions.is_empty() {
            errors.push(ClassError::Empty { class: c.name.clone() });
            continue;
        }
        let maxes: Vec<Num> = c.dimensions.iter().map(|d| d.max.node).collect();
        // A `total` of 0 or less is the `numbers` pass's error.
        if let Some(total) = book.header.total.as_ref().filter(|t| t.node.is_positive()) {
            if maxes.iter().copied().sum::<Num>() != total.node {
                errors.push(ClassError::Sum {
                    class: c.name.clone(),
                    maxes,
                    total: total.clone(),
                });
            }
        }
    }
    errors.into_iter().map(Diagnostic::from).collect()
}
