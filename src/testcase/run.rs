//! Test stage: running one case. Its events become a log built in memory by
//! `input::from_records` (every attribute checked as a real log's, with the
//! same messages), its class and `since` an in-memory roster; the customer
//! is scored with its ledger, and every expectation becomes a `Check`.

use std::io::Cursor;

use super::coverage::{self, Hit};
use super::{Case, TestFile};
use crate::date::Date;
use crate::eval::{Evaluator, Outcome, Program};
use crate::input::{self, EventLog, Record, Roster};
use crate::num::Num;
use crate::report::explain::{self, Origin};
use crate::report::{csv_record, Scored};

/// One case's result.
#[derive(Debug)]
pub struct CaseRun {
    /// Index of the case in its file.
    pub case: usize,
    pub as_of: Date,
    pub log: EventLog,
    /// `None` when the case's events or class could not be read.
    pub outcome: Option<Outcome>,
    /// Why the case could not run: `credit.tests:12: months "x" is not a whole number`.
    pub error: Option<String>,
    pub checks: Vec<Check>,
    pub hits: Vec<Hit>,
    /// An index case's actual result (its JSON line), shown when it fails.
    pub detail: Option<String>,
    /// An index case's answered blocks and items (`supply`, `supply.reliability`).
    pub answered: Vec<String>,
}

/// What an expectation is about, for `--update`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// `case.expects[i]`.
    Expect(usize),
    /// One ID of `case.fires[spec]`.
    Fire {
        spec: usize,
        id: String,
        fired: bool,
    },
    Flags,
    /// The case expects nothing at all.
    Nothing,
}

/// One expectation against the actual result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The line of the expectation.
    pub line: usize,
    pub what: String,
    pub expected: String,
    pub actual: String,
    pub ok: bool,
    /// The expectation names something the rulebook does not have (a
    /// clause, a dimension): no value `--update` could write fixes it.
    pub unknown: bool,
    pub subject: Subject,
}

impl CaseRun {
    /// A case that has not run yet.
    pub fn new(case: usize, as_of: Date) -> CaseRun {
        CaseRun {
            case,
            as_of,
            log: EventLog::default(),
            outcome: None,
            error: None,
            checks: vec![],
            hits: vec![],
            detail: None,
            answered: vec![],
        }
    }

    pub fn passed(&self) -> bool {
        self.error.is_none() && self.checks.iter().all(|c| c.ok)
    }

    /// The `explain` trace of the case's customer (empty if it did not run).
    pub fn ledger_text(&self, prog: &Program, origin: &Origin<'_>) -> String {
        match &self.outcome {
            Some(outcome) => explain::text(
                &Scored {
                    prog,
                    log: &self.log,
                    customer: 0,
                    outcome,
                    as_of: self.as_of,
                },
                origin,
            ),
            None => self.detail.clone().unwrap_or_default(),
        }
    }
}

/// Runs every case of a file; `file` names the test file in messages and ledgers.
pub fn run_file(prog: &Program, file: &str, tests: &TestFile) -> Vec<CaseRun> {
    tests
        .cases
        .iter()
        .enumerate()
        .map(|(i, c)| match &prog.index {
            Some(ix) if super::index::is_index_case(prog, c) => super::index::run_case(prog, ix, file, c, i),
            _ => run_case(prog, file, c, i),
        })
        .collect()
}

/// Runs one case (`index` is its position in the file).
pub fn run_case(prog: &Program, file: &str, case: &Case, index: usize) -> CaseRun {
    let mut run = CaseRun::new(index, case.as_of);
    match read(prog, file, case) {
        Ok(log) => run.log = log,
        Err(e) => {
            run.error = Some(e);
            return run;
        }
    }
    let Some(customer) = run.log.customers.first() else {
        run.error = Some(format!("{file}:{}: the case's customer was not read", case.line));
        return run;
    };
    let outcome = match Evaluator::new(prog, case.as_of).evaluate(customer, run.log.events_of(0), &run.log.vals, true) {
        Ok(outcome) => outcome,
        Err(e) => {
            run.error = Some(format!("{file}:{}: {e}", case.line));
            return run;
        }
    };
    run.hits = coverage::hits(prog, &outcome);
    run.checks = checks(prog, case, &outcome, &run.hits);
    run.outcome = Some(outcome);
    run
}

/// The case's events and roster, read as a real log would be.
fn read(prog: &Program, file: &str, case: &Case) -> Result<EventLog, String> {
    let at = |line: usize, message: String| format!("{file}:{line}: {message}");
    let schema = &prog.schema;
    // Undeclared kinds and attributes are typos in a test, not data to skip.
    for e in &case.events {
        let Some(kind) = schema.kind(&e.kind).and_then(|k| schema.kind_of(k)) else {
            let kinds: Vec<&str> = schema.kinds.iter().map(|k| k.name.as_str()).collect();
            return Err(at(
                e.line,
                format!(
                    "kind `{}` is not declared by the rulebook (it declares {})",
                    e.kind,
                    kinds.join(", ")
                ),
            ));
        };
        for (name, _) in &e.attrs {
            if !kind.attrs.iter().any(|a| &a.name == name) {
                let has: Vec<&str> = kind.attrs.iter().map(|a| a.name.as_str()).collect();
                let has = if has.is_empty() {
                    "no attributes".to_string()
                } else {
                    format!("only {}", has.join(", "))
                };
                return Err(at(
                    e.line,
                    format!("`{name}` is not an attribute of `{}` (it has {has})", e.kind),
                ));
            }
        }
    }
    let (class, class_line) = case.class.as_ref().map_or(("", case.line), |(c, l)| (c.as_str(), *l));
    let since = case.since.map_or(String::new(), |(d, _)| d.to_string());
    let roster_csv = format!(
        "customer,class,since\n{}\n",
        csv_record([case.name.as_str(), class, &since])
    );
    let roster = Roster::read(Cursor::new(roster_csv.into_bytes()), file, &prog.class_names())
        .map_err(|e| at(class_line, e.message))?;
    let records: Vec<Record<'_>> = case
        .events
        .iter()
        .map(|e| Record {
            customer: &case.name,
            date: e.date,
            kind: &e.kind,
            cells: e.attrs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect(),
            line: u32::try_from(e.line).unwrap_or(u32::MAX),
        })
        .collect();
    input::from_records(file, &records, schema, &roster, case.as_of).map_err(|e| at(e.line as usize, e.message))
}

/// `+10`, `-20`, `0`.
pub fn signed(n: Num) -> String {
    if n > Num::ZERO {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

fn yes_no(fired: bool) -> &'static str {
    if fired {
        "fires"
    } else {
        "does not fire"
    }
}

fn checks(prog: &Program, case: &Case, o: &Outcome, hits: &[Hit]) -> Vec<Check> {
    let mut out = Vec::new();
    let class = prog.classes.get(usize::from(o.class));
    let class_name = class.map_or("", |c| c.name.as_str());
    let known = coverage::items(prog);
    for (i, e) in case.expects.iter().enumerate() {
        let number = |actual: Num, show: String| match Num::parse(&e.value) {
            Ok(want) => (show, want == actual),
            Err(_) => (show, false),
        };
        let mut unknown = false;
        let (actual, ok) = match e.key.as_str() {
            clause if e.points => {
                if known.iter().any(|k| k.answers_to(clause)) {
                    let sum: Num = hits
                        .iter()
                        .filter(|h| h.item.answers_to(clause))
                        .map(|h| h.points)
                        .sum();
                    number(sum, signed(sum))
                } else {
                    unknown = true;
                    ("no such clause in the rulebook".to_string(), false)
                }
            }
            "total" => number(o.total, o.total.to_string()),
            "grade" => {
                let g = prog.bands.get(o.grade).map_or("", |b| b.grade.as_str());
                (g.to_string(), g == e.value)
            }
            "class" => (class_name.to_string(), class_name == e.value),
            "measures" => {
                let m = prog
                    .bands
                    .get(o.grade)
                    .and_then(|b| b.measures.as_deref())
                    .unwrap_or("none");
                (m.to_string(), m == e.value.trim_matches('"'))
            }
            dim => match class
                .and_then(|c| c.dims.iter().position(|d| d.name == dim))
                .and_then(|d| o.dims.get(d))
            {
                Some(d) => number(d.score, d.score.to_string()),
                None => {
                    unknown = true;
                    let names: Vec<&str> = class
                        .map(|c| c.dims.iter().map(|d| d.name.as_str()).collect())
                        .unwrap_or_default();
                    (
                        format!(
                            "no such dimension (class {class_name} has {}; or use total, grade, class, measures)",
                            names.join(", ")
                        ),
                        false,
                    )
                }
            },
        };
        let what = if e.points {
            format!("points {}", e.key)
        } else {
            e.key.clone()
        };
        out.push(Check {
            line: e.line,
            what,
            expected: e.value.clone(),
            actual,
            ok,
            unknown,
            subject: Subject::Expect(i),
        });
    }
    for (s, spec) in case.fires.iter().enumerate() {
        for id in &spec.ids {
            let fired = hits.iter().any(|h| h.fired && h.item.answers_to(id));
            let unknown = !known.iter().any(|k| k.answers_to(id));
            let (actual, ok) = if unknown {
                ("no such clause in the rulebook".to_string(), false)
            } else {
                (yes_no(fired).to_string(), fired == spec.fires)
            };
            out.push(Check {
                line: spec.line,
                what: id.clone(),
                expected: yes_no(spec.fires).into(),
                actual,
                ok,
                unknown,
                subject: Subject::Fire {
                    spec: s,
                    id: id.clone(),
                    fired,
                },
            });
        }
    }
    if let Some(spec) = &case.flags {
        let mut want = spec.flags.clone();
        let mut got = o.flags.clone();
        want.sort();
        got.sort();
        let show = |f: &[String]| {
            if f.is_empty() {
                "none".to_string()
            } else {
                f.join("; ")
            }
        };
        let line = spec.lines.first().copied().unwrap_or(case.line);
        out.push(Check {
            line,
            what: "flags".into(),
            expected: show(&want),
            actual: show(&got),
            ok: want == got,
            unknown: false,
            subject: Subject::Flags,
        });
    }
    if !case.expects_anything() {
        let grade = prog.bands.get(o.grade).map_or("", |b| b.grade.as_str());
        out.push(Check {
            line: case.line,
            what: "expectations".into(),
            expected: "(none written)".into(),
            actual: format!("total {}, grade {grade}", o.total),
            ok: false,
            unknown: false,
            subject: Subject::Nothing,
        });
    }
    out
}
