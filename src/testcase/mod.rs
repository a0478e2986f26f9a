//! Test stage: rulebook test cases that policy staff write (`*.tests`
//! files), run against a checked rulebook — the format (`parse`), running a
//! case (`run`), which rules the cases exercise (`coverage`) and rewriting
//! expectations from actual results (`update`).
//!
//! ```text
//! *.tests ──parse──▶ TestFile ──run(Program)──▶ CaseRun (checks, ledger) ──coverage / update
//! ```
//!
//! A case builds its events as an in-memory CSV log and reads it with
//! `input::load`, so attributes are validated exactly as in a real log.

pub mod coverage;
pub mod index;
mod parse;
pub mod run;
pub mod update;

use crate::date::Date;
use crate::span::Span;

pub use parse::parse;
pub use run::{run_case, run_file, CaseRun, Check};

/// One `*.tests` file.
#[derive(Clone, Debug, PartialEq)]
pub struct TestFile {
    /// `rulebook credit.rules`: the rulebook, relative to the test file.
    pub rulebook: Option<(String, Span)>,
    /// `as of 2026-06-30` before the first case: the default for every case.
    pub as_of: Option<Date>,
    pub cases: Vec<Case>,
}

/// One case: an example customer, its events and what the rulebook must make of them.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub name: String,
    /// The line of `case` (from 1).
    pub line: usize,
    /// The last line that belongs to the case (its last non-blank line).
    pub last_line: usize,
    /// `class lighting`; `None` is the rulebook's default class.
    pub class: Option<(String, usize)>,
    /// `since 2024-01-01`: the start of the customer's known history.
    pub since: Option<(Date, usize)>,
    /// The case's own `as of`, else the file's.
    pub as_of: Date,
    pub events: Vec<EventSpec>,
    pub expects: Vec<Expect>,
    pub fires: Vec<FireSpec>,
    /// `flag …` lines; `Some(empty)` for `flags none`.
    pub flags: Option<FlagSpec>,
}

impl Case {
    /// Whether the case states any expectation at all.
    pub fn expects_anything(&self) -> bool {
        !self.expects.is_empty() || !self.fires.is_empty() || self.flags.is_some()
    }
}

/// `2026-01-10 arrears months=2`
#[derive(Clone, Debug, PartialEq)]
pub struct EventSpec {
    pub line: usize,
    pub date: Date,
    pub kind: String,
    /// `(name, value)` as written, unquoted.
    pub attrs: Vec<(String, String)>,
}

/// One `name value` pair of an `expect` line (a dimension, `total`, `grade`
/// or `class`) or of a `points` line (a clause and the points its ledger
/// lines add up to: `points S3 -20`).
#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    pub line: usize,
    /// From a `points` line: `key` is a clause.
    pub points: bool,
    pub key: String,
    pub value: String,
    /// Byte range of the value within its line, for `--update`.
    pub at: std::ops::Range<usize>,
}

/// `fires P1 P4` or `silent P2 P3`: clauses expected to give points, or not to.
#[derive(Clone, Debug, PartialEq)]
pub struct FireSpec {
    pub line: usize,
    pub fires: bool,
    pub ids: Vec<String>,
}

/// The flags a case expects (exactly these), and the lines that say so.
#[derive(Clone, Debug, PartialEq)]
pub struct FlagSpec {
    pub lines: Vec<usize>,
    pub flags: Vec<String>,
}
