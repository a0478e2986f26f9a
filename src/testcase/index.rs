//! Test stage: cases of a rulebook's index. A case holds several customers'
//! surveys (`customer=S2` on an event line names its customer, else it is the
//! case's own), read as a real log; they form one group, whose rounded
//! results the `expect` lines name: `respondents`, `unanswered`, `index`,
//! `ci95 lo..hi` (or `none`), a block's name (its score, or `none`), and
//! `priority` (block names separated by commas, or `none`). Coverage: every
//! block and item must be answered by some respondent of some case.

use super::run::{CaseRun, Check, Subject};
use super::Case;
use crate::eval::Program;
use crate::index::group::{self, GroupStats};
use crate::index::{report, IndexProg};
use crate::input::schema::ABSENT;
use crate::input::{self, EventLog, Record, Roster};
use crate::num::Num;

/// The keys an index case may expect, besides block names.
const KEYS: &[&str] = &["respondents", "unanswered", "index", "ci95", "priority"];

/// Whether a case is about the index: the rulebook has an index and either
/// no class, or the case expects one of the index's results.
pub fn is_index_case(prog: &Program, case: &Case) -> bool {
    prog.index.is_some() && (prog.classes.is_empty() || case.expects.iter().any(|e| KEYS.contains(&e.key.as_str())))
}

/// The things coverage counts: `supply` (a block) and `supply.reliability` (an item).
pub fn items(ix: &IndexProg) -> Vec<String> {
    let mut out = Vec::new();
    for b in &ix.blocks {
        out.push(b.name.clone());
        out.extend(b.items.iter().map(|i| format!("{}.{}", b.name, i.name)));
    }
    out
}

/// Runs one index case (`index` is its position in the file).
pub fn run_case(prog: &Program, ix: &IndexProg, file: &str, case: &Case, index: usize) -> CaseRun {
    let mut run = CaseRun::new(index, case.as_of);
    let log = match read(prog, file, case) {
        Ok(log) => log,
        Err(e) => {
            run.error = Some(e);
            return run;
        }
    };
    let result = match group::run(ix, &log, &Roster::default(), &[], case.as_of) {
        Ok(r) => r,
        Err(e) => {
            run.error = Some(format!("{file}:{}: {e}", case.line));
            return run;
        }
    };
    let Some((key, stats)) = result.groups.first() else {
        run.error = Some(format!("{file}:{}: no result", case.line));
        return run;
    };
    run.detail = Some(report::json_object(ix, key, stats));
    run.answered = answered(ix, &log, case);
    run.checks = checks(ix, case, stats);
    run.log = log;
    run
}

/// The blocks and items some respondent of the case answered.
fn answered(ix: &IndexProg, log: &EventLog, case: &Case) -> Vec<String> {
    let window = ix.window(case.as_of);
    let mut out = Vec::new();
    for c in 0..log.customers.len() {
        let Some(e) = ix.latest(log.events_of(c), window) else {
            continue;
        };
        for b in &ix.blocks {
            let mut any = false;
            for i in &b.items {
                let v = log.vals.get(e.vals as usize + i.slot).copied().unwrap_or(ABSENT);
                if v != ABSENT {
                    any = true;
                    out.push(format!("{}.{}", b.name, i.name));
                }
            }
            if any {
                out.push(b.name.clone());
            }
        }
    }
    out
}

/// The case's surveys as a log built in memory, checked like a real one.
fn read(prog: &Program, file: &str, case: &Case) -> Result<EventLog, String> {
    let at = |line: usize, message: String| format!("{file}:{line}: {message}");
    let schema = &prog.schema;
    for e in &case.events {
        let Some(kind) = schema.kind(&e.kind).and_then(|k| schema.kind_of(k)) else {
            return Err(at(e.line, format!("kind `{}` is not declared by the rulebook", e.kind)));
        };
        for (name, _) in e.attrs.iter().filter(|(n, _)| n != "customer") {
            if !kind.attrs.iter().any(|a| &a.name == name) {
                return Err(at(e.line, format!("`{name}` is not an attribute of `{}`", e.kind)));
            }
        }
    }
    let records: Vec<Record<'_>> = case
        .events
        .iter()
        .map(|e| Record {
            customer: e
                .attrs
                .iter()
                .find(|(n, _)| n == "customer")
                .map_or(case.name.as_str(), |(_, v)| v.as_str()),
            date: e.date,
            kind: &e.kind,
            cells: e
                .attrs
                .iter()
                .filter(|(n, _)| n != "customer")
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            line: u32::try_from(e.line).unwrap_or(u32::MAX),
        })
        .collect();
    input::from_records(file, &records, schema, &Roster::default(), case.as_of)
        .map_err(|e| at(e.line as usize, e.message))
}

fn rounded(r: Option<&crate::index::big::Ratio>) -> String {
    r.map_or("none".into(), |r| {
        report::number(i128::try_from(r.hundredths()).unwrap_or(i128::MAX))
    })
}

/// Whether two written numbers are equal (`80.10` and `80.1`), or two words.
fn same(want: &str, got: &str) -> bool {
    match (Num::parse(want), Num::parse(got)) {
        (Ok(a), Ok(b)) => a == b,
        _ => want == got,
    }
}

fn checks(ix: &IndexProg, case: &Case, g: &GroupStats) -> Vec<Check> {
    let mut out = Vec::new();
    for (i, e) in case.expects.iter().enumerate() {
        let mut unknown = false;
        let (actual, ok) = match e.key.as_str() {
            _ if e.points => ("`points` is for credit rules".to_string(), false),
            "respondents" => (g.respondents.to_string(), same(&e.value, &g.respondents.to_string())),
            "unanswered" => (g.unanswered.to_string(), same(&e.value, &g.unanswered.to_string())),
            "index" => {
                let a = rounded(g.index.as_ref());
                let ok = same(&e.value, &a);
                (a, ok)
            }
            "ci95" => {
                let a = g.ci95.map_or("none".into(), |(lo, hi)| {
                    format!("{}..{}", report::number(lo), report::number(hi))
                });
                let ok = match (e.value.split_once(".."), a.split_once("..")) {
                    (Some((w1, w2)), Some((a1, a2))) => same(w1, a1) && same(w2, a2),
                    _ => e.value == a,
                };
                (a, ok)
            }
            "priority" => {
                let names: Vec<&str> = g
                    .priority
                    .iter()
                    .filter_map(|&b| ix.blocks.get(b).map(|b| b.name.as_str()))
                    .collect();
                let a = if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(",")
                };
                let ok = a == e.value;
                (a, ok)
            }
            block => match ix.blocks.iter().position(|b| b.name == block) {
                Some(b) => {
                    let a = rounded(g.blocks.get(b).and_then(Option::as_ref));
                    let ok = same(&e.value, &a);
                    (a, ok)
                }
                None => {
                    unknown = true;
                    let names: Vec<&str> = ix.blocks.iter().map(|b| b.name.as_str()).collect();
                    (
                        format!(
                            "no such block (the index has {}; or use {})",
                            names.join(", "),
                            KEYS.join(", ")
                        ),
                        false,
                    )
                }
            },
        };
        out.push(Check {
            line: e.line,
            what: e.key.clone(),
            expected: e.value.clone(),
            unknown,
            actual,
            ok,
            subject: Subject::Expect(i),
        });
    }
    for spec in &case.fires {
        out.push(Check {
            line: spec.line,
            what: if spec.fires { "fires" } else { "silent" }.into(),
            expected: spec.ids.join(" "),
            actual: "an index has no clauses; expect its results instead".into(),
            ok: false,
            unknown: false,
            subject: Subject::Nothing,
        });
    }
    if case.expects.is_empty() {
        out.push(Check {
            line: case.line,
            what: "expectations".into(),
            expected: "(none written)".into(),
            actual: format!("respondents {}, index {}", g.respondents, rounded(g.index.as_ref())),
            ok: false,
            unknown: false,
            subject: Subject::Nothing,
        });
    }
    out
}
