//! Check stage: names declared twice — event kinds, attributes of one kind,
//! rule groups, classes, dimensions of one class, grades of one `grades`
//! block — and clause IDs claimed twice anywhere in the file.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::*;

/// A name or clause ID declared a second time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DuplicateError {
    /// The same name declared twice where names must be unique:
    ///
    /// ```text
    /// event theft "窃电"
    /// event theft
    /// ```
    Name {
        what: Declared,
        name: String,
        first: Span,
        second: Span,
    },
    /// The same clause ID given to two clauses; a range `P1-P3` claims P1,
    /// P2 and P3:
    ///
    /// ```text
    /// P1-P3 deduct per episode of arrears severity length { 1 => 10 }
    /// P2    bonus 0.5 per arrears where months == 1
    /// ```
    Clause {
        ids: Vec<String>,
        first: Span,
        second: Span,
    },
    /// A clause range whose ends do not make a range:
    ///
    /// ```text
    /// P3-P1 deduct 10 per theft
    /// ```
    ClauseRange { text: String, span: Span },
}

/// What kind of thing a duplicated name names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Declared {
    Event,
    Attribute,
    Group,
    Class,
    Dimension,
    Grade,
}

impl Declared {
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Declared::Event => ("event kind", "event kinds must have different names"),
            Declared::Attribute => (
                "attribute",
                "the attributes of one event kind must have different names",
            ),
            Declared::Group => ("rule group", "rule groups must have different names"),
            Declared::Class => ("class", "classes must have different names"),
            Declared::Dimension => ("dimension", "the dimensions of one class must have different names"),
            Declared::Grade => ("grade", "each grade appears once in the `grades` block"),
        }
    }
}

impl From<DuplicateError> for Diagnostic {
    fn from(e: DuplicateError) -> Self {
        match e {
            DuplicateError::Name {
                what,
                name,
                first,
                second,
            } => {
                let (noun, help) = what.words();
                Diagnostic::error(
                    format!("{noun} `{name}` is declared twice"),
                    second,
                    "declared again here",
                )
                .with_label(first, "first declared here")
                .with_help(format!("{help}; rename or remove one"))
            }
            DuplicateError::Clause { ids, first, second } => {
                let noun = if ids.len() == 1 { "clause" } else { "clauses" };
                let verb = if ids.len() == 1 { "is" } else { "are" };
                Diagnostic::error(
                    format!("{noun} {} {verb} used twice", super::suggest::list(&ids)),
                    second,
                    "used again here",
                )
                .with_label(first, "first used here")
                .with_help("each clause of the standard has one ID; a range such as `P1-P3` claims every ID in it")
            }
            DuplicateError::ClauseRange { text, span } => {
                Diagnostic::error(format!("clause range `{text}` is not a range"), span, "this range")
                    .with_help("write the lower ID first and keep the letters the same, as in `P1-P3`")
            }
        }
    }
}

pub(super) fn check(book: &Rulebook) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let mut names = |what, idents: &mut dyn Iterator<Item = &crate::span::Ident>| {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for id in idents {
            match seen.get(id.node.as_str()) {
                Some(&first) => errors.push(DuplicateError::Name {
                    what,
                    name: id.node.clone(),
                    first,
                    second: id.span,
                }),
                None => {
                    seen.insert(&id.node, id.span);
                }
            }
        }
    };
    names(Declared::Event, &mut book.events.iter().map(|e| &e.name));
    for e in &book.events {
        names(Declared::Attribute, &mut e.attrs.iter().map(|a| &a.name));
    }
    names(Declared::Group, &mut book.groups.iter().map(|g| &g.name));
    names(Declared::Class, &mut book.classes.iter().map(|c| &c.name));
    for c in &book.classes {
        names(Declared::Dimension, &mut c.dimensions.iter().map(|d| &d.name));
    }
    for g in &book.grades {
        names(Declared::Grade, &mut g.bands.iter().map(|b| &b.grade));
    }
    clauses(book, &mut errors);
    errors.into_iter().map(Diagnostic::from).collect()
}

/// Every clause of the file, in source order.
fn all_clauses(book: &Rulebook) -> Vec<&Clause> {
    let rules = super::scope::rules(book).filter_map(|r| r.clause.as_ref());
    let assessed = super::scope::assessed(book).filter_map(|a| a.clause.as_ref());
    let overrides = super::scope::overrides(book).filter_map(|(_, o)| o.clause.as_ref());
    let grades = book.grades.iter().filter_map(|g| g.clause.as_ref());
    let mut all: Vec<&Clause> = rules.chain(assessed).chain(overrides).chain(grades).collect();
    all.sort_by_key(|c| c.span.start);
    all
}

fn clauses(book: &Rulebook, errors: &mut Vec<DuplicateError>) {
    let mut seen: HashMap<String, Span> = HashMap::new();
    for clause in all_clauses(book) {
        if clause.last.is_some() && !is_range(clause) {
            errors.push(DuplicateError::ClauseRange {
                text: clause.to_string(),
                span: clause.span,
            });
        }
        // Duplicated IDs, grouped by the earlier clause that claimed them.
        let mut again: Vec<(Span, Vec<String>)> = Vec::new();
        for id in clause.ids() {
            match seen.get(&id) {
                Some(&first) if first.start != clause.span.start => match again
                    .iter_mut()
                    .find(|(f, _)| (f.start, f.end) == (first.start, first.end))
                {
                    Some((_, ids)) => ids.push(id),
                    None => again.push((first, vec![id])),
                },
                Some(_) => {}
                None => {
                    seen.insert(id, clause.span);
                }
            }
        }
        for (first, ids) in again {
            errors.push(DuplicateError::Clause {
                ids,
                first,
                second: clause.span,
            });
        }
    }
}

/// `P1-P3`: same letters, ascending numbers.
fn is_range(clause: &Clause) -> bool {
    let Some(last) = &clause.last else {
        return true;
    };
    let split = |s: &str| {
        let at = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
        let (letters, digits) = s.split_at(at);
        (letters.to_string(), digits.parse::<u32>().ok())
    };
    match (split(&clause.first), split(last)) {
        ((p1, Some(a)), (p2, Some(b))) => p1 == p2 && a <= b && b - a < 100,
        _ => false,
    }
}
