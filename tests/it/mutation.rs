//! The tests of the published standard have teeth: every numeric literal of
//! `rules/credit.rules`, changed in turn (+1, or 1 for 0), makes at least one
//! case of `rules/credit.tests` fail — or makes the rulebook invalid.
//! The cases run in-process through `rulebook::testcase`, one mutant at a time.

use rulebook::testcase::{self, TestFile};

const RULES: &str = include_str!("../../rules/credit.rules");
const TESTS: &str = include_str!("../../rules/credit.tests");

/// A numeric literal: its byte range and text.
#[derive(Debug)]
struct Literal {
    start: usize,
    end: usize,
    text: String,
    line: usize,
}

/// Every number written in the rulebook, outside comments and strings, that
/// is not part of a name or clause ID (`P1`, `S8`) or of a date.
fn literals(src: &str) -> Vec<Literal> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            c if c.is_ascii_digit() && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_digit() || (b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
                {
                    i += 1;
                }
                let is_date = b.get(i) == Some(&b'-') && b.get(i + 1).is_some_and(u8::is_ascii_digit);
                if !is_date {
                    let line = src[..start].matches('\n').count() + 1;
                    out.push(Literal {
                        start,
                        end: i,
                        text: src[start..i].to_string(),
                        line,
                    });
                }
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// A different value for a literal: 0 becomes 1, anything else grows by 1.
fn mutate(text: &str) -> String {
    let n = rulebook::num::Num::parse(text).expect("a literal is a number");
    if n == rulebook::num::Num::ZERO {
        "1".into()
    } else {
        (n + rulebook::num::Num::from_int(1)).to_string()
    }
}

/// Why a mutant was caught, or `None` if every case still passes.
fn verdict(src: &str, tests: &TestFile) -> Option<String> {
    let checked = match rulebook::load(src) {
        Ok(c) => c,
        Err(diags) => {
            return Some(format!(
                "invalid rulebook: {}",
                diags.first().map_or("", |d| d.message.as_str())
            ))
        }
    };
    let runs = testcase::run_file(&checked.program, "credit.tests", tests);
    let failed: Vec<&str> = runs
        .iter()
        .filter(|r| !r.passed())
        .filter_map(|r| tests.cases.get(r.case))
        .map(|c| c.name.as_str())
        .collect();
    if let Some(first) = failed.first() {
        return Some(format!("{} case(s) fail, e.g. `{first}`", failed.len()));
    }
    // The header's `total` is not read by the evaluator: a class whose full
    // marks do not add up to it is a checker error (docs/language.md, "Class
    // totals"). Until the checker has that pass, the rule is applied here.
    let total = checked.book.header.total.as_ref().map(|t| t.node)?;
    let off: Vec<String> = checked
        .book
        .classes
        .iter()
        .filter(|c| c.dimensions.iter().map(|d| d.max.node).sum::<rulebook::num::Num>() != total)
        .map(|c| c.name.node.clone())
        .collect();
    (!off.is_empty()).then(|| {
        format!(
            "invalid rulebook: the full marks of {} do not add up to total {total}",
            off.join(", ")
        )
    })
}

#[test]
fn the_unchanged_rulebook_passes_every_case() {
    let tests = testcase::parse(TESTS).expect("rules/credit.tests parses");
    assert_eq!(verdict(RULES, &tests), None);
}

#[test]
fn finds_the_literals_of_the_standard() {
    let found: Vec<String> = literals(RULES).iter().map(|l| l.text.clone()).collect();
    // period, total, event attributes, then the rules, classes, override and bands.
    assert!(found.len() >= 40, "{found:?}");
    assert_eq!(found.first().map(String::as_str), Some("12"), "the period comes first");
    assert!(found.contains(&"0.5".to_string()));
    assert!(!literals("P1-P3 \"连续3年\" # 12 months\n")
        .iter()
        .any(|l| l.text == "3" || l.text == "12" || l.text == "1"));
}

#[test]
fn every_numeric_literal_of_the_standard_is_guarded() {
    let tests = testcase::parse(TESTS).expect("rules/credit.tests parses");
    let mut report = Vec::new();
    let mut survivors = Vec::new();
    for lit in literals(RULES) {
        let new = mutate(&lit.text);
        let mutant = format!("{}{new}{}", &RULES[..lit.start], &RULES[lit.end..]);
        let line_text = RULES.lines().nth(lit.line - 1).unwrap_or("").trim();
        match verdict(&mutant, &tests) {
            Some(why) => report.push(format!("line {:>3}: {} -> {new}: {why}", lit.line, lit.text)),
            None => survivors.push(format!(
                "line {:>3}: {} -> {new} goes unnoticed in `{line_text}`",
                lit.line, lit.text
            )),
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(
        survivors.is_empty(),
        "{} mutation(s) of rules/credit.rules pass every case:\n{}",
        survivors.len(),
        survivors.join("\n")
    );
}

const CSI_RULES: &str = include_str!("../../rules/csi.rules");
const CSI_TESTS: &str = include_str!("../../rules/csi.tests");

/// The same for the satisfaction index: every weight, the scale, each
/// attribute's range and the period, changed in turn, fails a case of
/// `rules/csi.tests` or makes the rulebook invalid.
#[test]
fn every_numeric_literal_of_the_index_is_guarded() {
    let tests = testcase::parse(CSI_TESTS).expect("rules/csi.tests parses");
    assert_eq!(verdict(CSI_RULES, &tests), None, "the unchanged index passes");
    let lits = literals(CSI_RULES);
    // The period, 9 ranges of 2, the scale's 2, 4 block and 9 item weights.
    assert_eq!(lits.len(), 1 + 9 * 2 + 2 + 4 + 9);
    let survivors: Vec<String> = lits
        .iter()
        .filter_map(|lit| {
            let new = mutate(&lit.text);
            let mutant = format!("{}{new}{}", &CSI_RULES[..lit.start], &CSI_RULES[lit.end..]);
            verdict(&mutant, &tests).is_none().then(|| {
                let line_text = CSI_RULES.lines().nth(lit.line - 1).unwrap_or("").trim();
                format!(
                    "line {:>3}: {} -> {new} goes unnoticed in `{line_text}`",
                    lit.line, lit.text
                )
            })
        })
        .collect();
    assert!(
        survivors.is_empty(),
        "{} mutation(s) of rules/csi.rules pass every case:\n{}",
        survivors.len(),
        survivors.join("\n")
    );
}
