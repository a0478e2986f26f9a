//! Diff stage, rendering: the report as one JSON document for dashboards and
//! pipelines — every section of the table, numbers printed exactly — and
//! one customer's two ledgers.

use serde::Serialize;

use super::committee::{self, grade_changed};
use super::ledger::CustomerDiff;
use super::table::{class, grade};
use super::{band_for, percent, Cause, Pair, Report, Side};
use crate::eval::Outcome;
use crate::num::Num;
use crate::report::{self, Scored};

#[derive(Serialize)]
struct Doc<'a> {
    as_of: String,
    old: Book<'a>,
    new: Book<'a>,
    rule_changes: Vec<ChangeJ<'a>>,
    customers: Counts,
    migration: Migration,
    dimensions: Vec<DimJ>,
    clauses: Vec<ClauseJ<'a>>,
    movers: Vec<MoverJ>,
    only_one: Vec<LonelyJ>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate: Option<GateJ>,
    summary: SummaryJ,
    /// Per `--by` column, per value: its customers' moves.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    by: std::collections::BTreeMap<String, Vec<GroupJ>>,
    newly_facing_measures: Vec<NewlyJ>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    gates: Vec<VerdictJ>,
}

#[derive(Serialize)]
struct GroupJ {
    value: String,
    customers: u64,
    grade_changed: u64,
    upgrades: u64,
    downgrades: u64,
    newly_facing_measures: u64,
    migration: Vec<Cell>,
}

#[derive(Serialize)]
struct NewlyJ {
    customer: String,
    old_grade: String,
    new_grade: String,
    measures: String,
}

#[derive(Serialize)]
struct VerdictJ {
    option: &'static str,
    limit: String,
    counted: u64,
    fails: bool,
}

/// Every non-empty cell of a migration matrix.
fn matrix_cells(m: &[Vec<u64>], old_grades: &[String], new_grades: &[String]) -> Vec<Cell> {
    m.iter()
        .enumerate()
        .flat_map(|(i, row)| {
            row.iter()
                .enumerate()
                .filter(|(_, &n)| n > 0)
                .map(move |(j, &n)| (i, j, n))
        })
        .map(|(i, j, n)| Cell {
            old: old_grades.get(i).cloned(),
            new: new_grades.get(j).cloned(),
            customers: n,
        })
        .collect()
}

#[derive(Serialize)]
struct Book<'a> {
    path: &'a str,
    standard: &'a str,
    version: Option<&'a str>,
}

#[derive(Serialize)]
struct ChangeJ<'a> {
    change: &'static str,
    what: &'static str,
    key: &'a str,
    label: Option<&'a str>,
    places: &'a [String],
    old: Option<&'a str>,
    new: Option<&'a str>,
    summary: &'a str,
}

#[derive(Serialize)]
struct Counts {
    total: u64,
    both: u64,
    grade_changed: u64,
    grade_changed_percent: Num,
    score_changed_same_grade: u64,
    dimensions_moved_same_total: u64,
    unchanged: u64,
    old_only: u64,
    new_only: u64,
    /// Better grade by the bands' order.
    upgrades: u64,
    /// Worse grade by the bands' order.
    downgrades: u64,
    newly_facing_measures: u64,
    /// Per roster class, customers scored by one side only: `{"lighting": [2, 0]}`.
    one_side_by_class: std::collections::BTreeMap<String, [u64; 2]>,
}

#[derive(Serialize)]
struct Migration {
    /// The old rulebook's grades, best first (the rows of the matrix).
    old_grades: Vec<String>,
    /// The new rulebook's grades (its columns).
    new_grades: Vec<String>,
    /// Every non-empty cell; `null` stands for "not scored by that rulebook".
    cells: Vec<Cell>,
}

#[derive(Serialize)]
struct Cell {
    old: Option<String>,
    new: Option<String>,
    customers: u64,
}

#[derive(Serialize)]
struct DimJ {
    dimension: String,
    customers: u64,
    affected: u64,
    up: u64,
    down: u64,
    /// The exact sum of the changes.
    sum_change: Num,
    /// Rounded to two decimals.
    mean_change: Num,
    mean_change_affected: Num,
    largest: Option<Largest>,
}

#[derive(Serialize)]
struct Largest {
    customer: String,
    change: Num,
}

#[derive(Serialize)]
struct ClauseJ<'a> {
    clause: &'a str,
    label: Option<&'a str>,
    moves: &'static str,
    customers: u64,
}

#[derive(Serialize)]
struct Side1 {
    class: String,
    total: Num,
    grade: String,
}

#[derive(Serialize)]
struct MoverJ {
    customer: String,
    old: Side1,
    new: Side1,
    change: Num,
    grade_changed: bool,
    lines: Vec<LineJ>,
    causes: Vec<String>,
}

#[derive(Serialize)]
struct LineJ {
    dimension: String,
    clause: String,
    label: Option<String>,
    old: Option<Num>,
    new: Option<Num>,
    differs: bool,
}

#[derive(Serialize)]
struct LonelyJ {
    customer: String,
    class: String,
    scored_by: &'static str,
    total: Num,
    grade: String,
}

#[derive(Serialize)]
struct GateJ {
    limit: String,
    counted: u64,
    fails: bool,
}

#[derive(Serialize)]
struct SummaryJ {
    rows: u64,
    scored: u64,
    after_as_of: u64,
    undeclared: std::collections::BTreeMap<String, u64>,
    rejected: u64,
}

fn book<'a>(s: &'a Side<'a>) -> Book<'a> {
    Book {
        path: s.path,
        standard: &s.prog.name,
        version: s.prog.version.as_deref(),
    }
}

fn side1(prog: &crate::eval::Program, o: &Outcome) -> Side1 {
    Side1 {
        class: class(prog, o).to_string(),
        total: o.total,
        grade: grade(prog, o.grade).to_string(),
    }
}

fn lines(pair: &Pair<'_>, d: &CustomerDiff, all: bool) -> Vec<LineJ> {
    let cat = pair.cat;
    d.rows
        .iter()
        .filter(|r| all || r.differs())
        .map(|r| {
            let key = cat.keys.get(r.key);
            LineJ {
                dimension: cat.dim_name(r.dim),
                clause: key.map_or(String::new(), |k| k.key.clone()),
                label: key.and_then(|k| k.label.clone()),
                old: r.old,
                new: r.new,
                differs: r.differs(),
            }
        })
        .collect()
}

fn causes(pair: &Pair<'_>, d: &CustomerDiff) -> Vec<String> {
    d.causes
        .iter()
        .filter_map(|&k| pair.cat.keys.get(k))
        .map(|k| k.key.clone())
        .collect()
}

fn moves(c: &Cause) -> &'static str {
    match c {
        Cause::Rule => "score",
        Cause::Assessed => "score (assessed value)",
        Cause::Max => "score (full marks)",
        Cause::Override => "grade (override)",
        Cause::Grades => "grade (bands)",
    }
}

/// The whole report as pretty-printed JSON.
pub fn render(r: &Report<'_>) -> String {
    let imp = r.impact;
    let pair = r.pair;
    let (po, pn) = (r.old.prog, r.new.prog);
    let rule_changes = r
        .changes
        .iter()
        .map(|c| ChangeJ {
            change: c.kind.word(),
            what: c.what,
            key: &c.key,
            label: c.label.as_deref(),
            places: &c.places,
            old: c.old.as_deref(),
            new: c.new.as_deref(),
            summary: &c.summary,
        })
        .collect();
    let one_side_by_class = pair
        .classes
        .names
        .iter()
        .zip(&imp.only)
        .filter(|(_, x)| x[0] + x[1] > 0)
        .map(|(n, x)| (n.clone(), *x))
        .collect();
    let all_moves = committee::moves(pair, &imp.matrix);
    let customers = Counts {
        total: imp.customers,
        both: imp.both,
        grade_changed: imp.grade_changed,
        grade_changed_percent: percent(imp.grade_changed, imp.customers),
        score_changed_same_grade: imp.score_changed,
        dimensions_moved_same_total: imp.dims_only,
        unchanged: imp.unchanged,
        old_only: imp.only_old(),
        new_only: imp.only_new(),
        upgrades: all_moves.upgrades,
        downgrades: all_moves.downgrades,
        newly_facing_measures: all_moves.newly_measures,
        one_side_by_class,
    };
    let names = |p: &crate::eval::Program| p.bands.iter().map(|b| b.grade.clone()).collect::<Vec<_>>();
    let (old_grades, new_grades) = (names(po), names(pn));
    let cells = matrix_cells(&imp.matrix, &old_grades, &new_grades);
    let migration = Migration {
        old_grades: old_grades.clone(),
        new_grades: new_grades.clone(),
        cells,
    };
    let dim = |name: String, d: &super::impact::DimImpact| DimJ {
        dimension: name,
        customers: d.compared,
        affected: d.affected,
        up: d.up,
        down: d.down,
        sum_change: Num::from_raw(i64::try_from(d.sum).unwrap_or(if d.sum < 0 { i64::MIN } else { i64::MAX })),
        mean_change: d.mean(),
        mean_change_affected: d.mean_affected(),
        largest: d.largest.map(|(v, i)| Largest {
            customer: pair.id(i).to_string(),
            change: v,
        }),
    };
    let mut dimensions: Vec<DimJ> = pair
        .cat
        .dims
        .iter()
        .zip(&imp.dims)
        .map(|(n, d)| dim(n.clone(), d))
        .collect();
    dimensions.push(dim("total".into(), &imp.total));
    let mut moved: Vec<(usize, u64)> = imp
        .clauses
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, n)| n > 0)
        .collect();
    moved.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let clauses = moved
        .iter()
        .filter_map(|&(k, n)| {
            pair.cat.keys.get(k).map(|key| ClauseJ {
                clause: &key.key,
                label: key.label.as_deref(),
                moves: moves(&key.cause),
                customers: n,
            })
        })
        .collect();
    let movers = r
        .movers
        .iter()
        .filter_map(|d| {
            let (o, n) = (d.old.as_ref()?, d.new.as_ref()?);
            Some(MoverJ {
                customer: pair.id(d.customer).to_string(),
                old: side1(po, o),
                new: side1(pn, n),
                change: n.total - o.total,
                grade_changed: grade(po, o.grade) != grade(pn, n.grade),
                lines: lines(pair, d, false),
                causes: causes(pair, d),
            })
        })
        .collect();
    let only_one = imp
        .lonely
        .iter()
        .map(|l| {
            let c = pair.log.customers.get(l.customer);
            let prog = if l.new { pn } else { po };
            LonelyJ {
                customer: pair.id(l.customer).to_string(),
                class: c.and_then(|c| pair.classes.name_of(c)).unwrap_or("").to_string(),
                scored_by: if l.new { "new" } else { "old" },
                total: l.total,
                grade: grade(prog, l.grade).to_string(),
            }
        })
        .collect();
    let by = pair
        .groups
        .map(|g| {
            g.columns
                .iter()
                .zip(&imp.groups)
                .map(|(col, values)| {
                    let rows = values
                        .iter()
                        .map(|(value, m)| {
                            let mv = committee::moves(pair, m);
                            GroupJ {
                                value: value.clone(),
                                customers: m.iter().flatten().sum(),
                                grade_changed: grade_changed(pair, m),
                                upgrades: mv.upgrades,
                                downgrades: mv.downgrades,
                                newly_facing_measures: mv.newly_measures,
                                migration: matrix_cells(m, &old_grades, &new_grades),
                            }
                        })
                        .collect();
                    (col.clone(), rows)
                })
                .collect()
        })
        .unwrap_or_default();
    let newly_facing_measures = imp
        .newly_measures
        .iter()
        .map(|n| NewlyJ {
            customer: pair.id(n.customer).to_string(),
            old_grade: grade(po, n.old).to_string(),
            new_grade: grade(pn, n.new).to_string(),
            measures: crate::report::columns::band_measures(pn, n.new)
                .unwrap_or("")
                .to_string(),
        })
        .collect();
    let gates = r
        .gates
        .iter()
        .map(|v| VerdictJ {
            option: v.kind.option(),
            limit: v.limit.clone(),
            counted: v.counted,
            fails: v.fails,
        })
        .collect();
    let s = &pair.log.summary;
    let doc = Doc {
        by,
        newly_facing_measures,
        gates,
        as_of: r.as_of.to_string(),
        old: book(r.old),
        new: book(r.new),
        rule_changes,
        customers,
        migration,
        dimensions,
        clauses,
        movers,
        only_one,
        gate: r.gate.map(|(g, fails)| GateJ {
            limit: g.to_string(),
            counted: imp.gated(),
            fails,
        }),
        summary: SummaryJ {
            rows: s.rows,
            scored: s.used,
            after_as_of: s.after_as_of,
            undeclared: s.undeclared.clone(),
            rejected: s.rejected,
        },
    };
    serde_json::to_string_pretty(&doc).expect("texts, numbers and maps with text keys serialize") + "\n"
}

/// One customer's two results with ledgers, and the lines matched by clause.
pub fn customer(pair: &Pair<'_>, old: &Side<'_>, new: &Side<'_>, as_of: crate::date::Date, d: &CustomerDiff) -> String {
    let scored = |prog, o| Scored {
        prog,
        log: pair.log,
        customer: d.customer,
        outcome: o,
        as_of,
    };
    let old_scored = d.old.as_ref().map(|o| scored(old.prog, o));
    let new_scored = d.new.as_ref().map(|o| scored(new.prog, o));
    let doc = CustomerJ {
        customer: pair.id(d.customer),
        as_of,
        old: old_scored.as_ref().map(|s| report::CustomerJson::new(s, true)),
        new: new_scored.as_ref().map(|s| report::CustomerJson::new(s, true)),
        lines: lines(pair, d, true),
        causes: causes(pair, d),
        bands_at_new_total: d.new.as_ref().map(|n| BandsJ {
            old: band_for(old.prog, n.total),
            new: band_for(new.prog, n.total),
        }),
    };
    report::to_json(&doc) + "\n"
}

/// `diff --customer --format json`.
#[derive(Serialize)]
struct CustomerJ<'a> {
    customer: &'a str,
    as_of: crate::date::Date,
    old: Option<report::CustomerJson<'a>>,
    new: Option<report::CustomerJson<'a>>,
    lines: Vec<LineJ>,
    causes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bands_at_new_total: Option<BandsJ<'a>>,
}

/// The grade the new total earns under each rulebook's bands.
#[derive(Serialize)]
struct BandsJ<'a> {
    old: &'a str,
    new: &'a str,
}
