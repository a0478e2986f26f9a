//! Diff stage: what a committee asks of a revision, read off the migration
//! matrices — upgrades and downgrades by the bands' order, the same per
//! value of each `--by` roster column, customers who newly face measures,
//! and the gates `--fail-if-downgrades` and `--fail-if-into`.
//!
//! Grades of the two rulebooks are ranked on the new rulebook's bands (best
//! first); an old grade the new rulebook lacks keeps its own position.

use super::impact::{Gate, Impact};
use super::Pair;
use crate::eval::Program;
use crate::input::Roster;
use crate::report::columns::band_measures;

/// The roster columns a diff groups by, and the roster that has them.
pub struct Groups<'a> {
    pub roster: &'a Roster,
    /// `--by` columns, in order.
    pub columns: Vec<String>,
}

impl Groups<'_> {
    /// Customer `id`'s value in each column (`""`: none).
    pub fn values(&self, id: &str) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| self.roster.value(id, c).unwrap_or("").to_string())
            .collect()
    }
}

/// A customer whose new grade has measures its old grade did not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Newly {
    pub customer: usize,
    /// Index into the old rulebook's bands.
    pub old: usize,
    /// Index into the new rulebook's bands.
    pub new: usize,
}

/// A grade's rank on the new rulebook's bands: 0 is the best.
pub fn rank(pair: &Pair<'_>, new: bool, grade: usize) -> usize {
    if new {
        return grade;
    }
    let name = pair.old.prog.bands.get(grade).map(|b| b.grade.as_str());
    pair.new
        .prog
        .bands
        .iter()
        .position(|b| Some(b.grade.as_str()) == name)
        .unwrap_or(grade)
}

/// Moves between grades counted in a migration matrix (`matrix[old][new]`,
/// the last row and column "not scored").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Moves {
    /// Customers scored by both rulebooks.
    pub customers: u64,
    pub upgrades: u64,
    pub downgrades: u64,
    /// Customers whose new grade has measures their old grade did not.
    pub newly_measures: u64,
}

/// Counts the moves of one matrix.
pub fn moves(pair: &Pair<'_>, matrix: &[Vec<u64>]) -> Moves {
    let (po, pn) = (pair.old.prog, pair.new.prog);
    let mut m = Moves::default();
    for (i, row) in matrix.iter().enumerate().take(po.bands.len()) {
        for (j, &n) in row.iter().enumerate().take(pn.bands.len()) {
            m.customers += n;
            let (ro, rn) = (rank(pair, false, i), rank(pair, true, j));
            if rn < ro {
                m.upgrades += n;
            } else if rn > ro {
                m.downgrades += n;
            }
            if newly_measured(po, i, pn, j) {
                m.newly_measures += n;
            }
        }
    }
    m
}

/// Customers of a matrix whose grade changes: scored by both with a
/// different grade, or by one rulebook only.
pub fn grade_changed(pair: &Pair<'_>, matrix: &[Vec<u64>]) -> u64 {
    let (po, pn) = (pair.old.prog, pair.new.prog);
    fn name(p: &Program, i: usize) -> Option<&str> {
        p.bands.get(i).map(|b| b.grade.as_str())
    }
    let mut n = 0;
    for (i, row) in matrix.iter().enumerate() {
        for (j, &k) in row.iter().enumerate() {
            let (a, b) = (name(po, i), name(pn, j));
            if a.is_none() && b.is_none() {
                continue;
            }
            if a != b {
                n += k;
            }
        }
    }
    n
}

/// The moves off the diagonal of a matrix, most first: `AAA→AA 2, B→C 1`
/// (`-`: not scored by that rulebook).
pub fn moves_text(pair: &Pair<'_>, matrix: &[Vec<u64>]) -> String {
    let (po, pn) = (pair.old.prog, pair.new.prog);
    fn name(p: &Program, i: usize) -> &str {
        p.bands.get(i).map_or("-", |b| b.grade.as_str())
    }
    let mut cells: Vec<(u64, String)> = Vec::new();
    for (i, row) in matrix.iter().enumerate() {
        for (j, &k) in row.iter().enumerate() {
            let (a, b) = (name(po, i), name(pn, j));
            if k > 0 && a != b {
                cells.push((k, format!("{a}→{b} {k}")));
            }
        }
    }
    cells.sort_by_key(|c| std::cmp::Reverse(c.0));
    cells.into_iter().map(|c| c.1).collect::<Vec<_>>().join(", ")
}

/// Either rulebook gives some grade measures.
pub fn has_measures(pair: &Pair<'_>) -> bool {
    pair.old.prog.has_measures() || pair.new.prog.has_measures()
}

/// The new grade `j` has measures and the old grade `i` has none.
pub fn newly_measured(po: &Program, i: usize, pn: &Program, j: usize) -> bool {
    band_measures(pn, j).is_some() && band_measures(po, i).is_none()
}

/// Customers who newly reach grade rank `at` or a worse one: scored by both
/// rulebooks with an old grade better than it, or by the new one only.
pub fn newly_into(pair: &Pair<'_>, matrix: &[Vec<u64>], at: usize) -> u64 {
    let (nb, mb) = (pair.old.prog.bands.len(), pair.new.prog.bands.len());
    let mut n = 0;
    for (i, row) in matrix.iter().enumerate() {
        for (j, &k) in row.iter().enumerate().take(mb) {
            let before = i >= nb || rank(pair, false, i) < at;
            if before && j >= at {
                n += k;
            }
        }
    }
    n
}

/// The committee's gates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateKind {
    /// `--fail-if-downgrades N|P%`
    Downgrades,
    /// `--fail-if-into GRADE`
    Into,
}

impl GateKind {
    /// The option's name: `fail-if-downgrades`.
    pub fn option(self) -> &'static str {
        match self {
            GateKind::Downgrades => "fail-if-downgrades",
            GateKind::Into => "fail-if-into",
        }
    }
}

/// One rollout gate and its verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub kind: GateKind,
    /// As given: `5`, `2.5%`, `C`.
    pub limit: String,
    pub counted: u64,
    pub fails: bool,
    /// `gate: 9 customers move to a worse grade (22%), more than 5: FAIL`
    pub line: String,
}

impl Gate {
    /// True when `n` of `customers` is more than the gate allows.
    pub fn exceeded(&self, n: u64, customers: u64) -> bool {
        match *self {
            Gate::Count(limit) => n > limit,
            Gate::Percent(p) => i128::from(n) * 100 * 1_000_000 > i128::from(p.raw()) * i128::from(customers),
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `--fail-if-downgrades N|P%`: more downgrades than allowed fails.
pub fn downgrade_gate(pair: &Pair<'_>, imp: &Impact, g: Gate) -> Verdict {
    let n = moves(pair, &imp.matrix).downgrades;
    let fails = g.exceeded(n, imp.customers);
    let verdict = if fails {
        format!("more than {g}: FAIL")
    } else {
        format!("not more than {g}: pass")
    };
    Verdict {
        kind: GateKind::Downgrades,
        limit: g.to_string(),
        counted: n,
        fails,
        line: format!(
            "gate: {n} customer{} move to a worse grade ({}%), {verdict}",
            plural(n),
            super::percent(n, imp.customers)
        ),
    }
}

/// `--fail-if-into GRADE`: any customer newly at that grade or a worse one fails.
pub fn into_gate(pair: &Pair<'_>, imp: &Impact, grade: &str) -> Verdict {
    let at = pair
        .new
        .prog
        .bands
        .iter()
        .position(|b| b.grade == grade)
        .unwrap_or(usize::MAX);
    let n = newly_into(pair, &imp.matrix, at);
    let fails = n > 0;
    Verdict {
        kind: GateKind::Into,
        limit: grade.to_string(),
        counted: n,
        fails,
        line: format!(
            "gate: {n} customer{} newly at grade {grade} or worse, {}",
            plural(n),
            if fails { "FAIL" } else { "pass" }
        ),
    }
}
