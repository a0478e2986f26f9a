//! Diff stage: one customer's two ledgers matched line by line — by
//! dimension name, then by clause ID — and what moved the customer's score
//! and grade: the clauses whose points differ in a dimension whose score
//! changed, a changed `max`, an override, or the grade bands.

use super::{band_for, Catalog, ClassMap, Pair, TOTAL_ROW};
use crate::eval::{Line, Outcome, Program, Status};
use crate::num::Num;

/// One customer, scored by both rulebooks with ledgers, line by line.
#[derive(Clone, Debug)]
pub struct CustomerDiff {
    pub customer: usize,
    pub old: Option<Outcome>,
    pub new: Option<Outcome>,
    /// Each dimension either side scores, in catalog order.
    pub dims: Vec<DimRow>,
    /// Each clause with points on either side, per dimension.
    pub rows: Vec<Row>,
    /// The keys that moved the score or the grade (see `moved`).
    pub causes: Vec<usize>,
}

/// A dimension's (score, max) on each side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DimRow {
    pub dim: usize,
    pub old: Option<(Num, Num)>,
    pub new: Option<(Num, Num)>,
}

impl DimRow {
    pub fn moved(&self) -> bool {
        self.old.map(|x| x.0) != self.new.map(|x| x.0)
    }
}

/// One clause's points in one dimension on each side (`None`: no line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub dim: usize,
    pub key: usize,
    pub old: Option<Num>,
    pub new: Option<Num>,
}

impl Row {
    /// The clause gives different points (a missing line counts as 0).
    pub fn differs(&self) -> bool {
        self.old.unwrap_or(Num::ZERO) != self.new.unwrap_or(Num::ZERO)
    }
}

fn class_map<'c>(cat: &'c Catalog, new: bool, o: &Outcome) -> Option<&'c ClassMap> {
    (if new { &cat.new } else { &cat.old })
        .classes
        .get(usize::from(o.class))
}

/// The key of the override that set the outcome's grade, if one did.
pub(crate) fn override_key(cat: &Catalog, new: bool, o: &Outcome) -> Option<usize> {
    o.by_override
        .and_then(|k| class_map(cat, new, o).and_then(|m| m.overrides.get(k)).copied())
}

/// The key of a ledger line of dimension `j` of the outcome's class.
fn line_key(map: &ClassMap, j: usize, line: &Line) -> Option<usize> {
    map.dims
        .get(j)
        .and_then(|d| d.rules.get(line.rule.unwrap_or(0)).copied())
}

impl CustomerDiff {
    /// Whether the total differs between the two sides.
    pub fn total_moved(&self) -> bool {
        self.old.as_ref().map(|o| o.total) != self.new.as_ref().map(|o| o.total)
    }

    /// Scores customer `i` both ways with ledgers and matches the lines.
    pub fn of(pair: &Pair<'_>, i: usize) -> CustomerDiff {
        let (old, new) = pair.evaluate(i, true);
        CustomerDiff::matched(pair, i, old, new)
    }

    /// Matches the lines of customer `i`'s outcomes (`Pair::evaluate` with ledgers).
    pub fn matched(pair: &Pair<'_>, i: usize, old: Option<Outcome>, new: Option<Outcome>) -> CustomerDiff {
        let mut m = Matched::default();
        m.fill(pair, old.as_ref(), new.as_ref());
        CustomerDiff {
            customer: i,
            old,
            new,
            dims: m.dims,
            rows: m.rows,
            causes: m.causes,
        }
    }

    /// The ledger lines of one clause in one dimension on one side.
    pub fn lines<'s>(&'s self, cat: &Catalog, new: bool, dim: usize, key: usize) -> Vec<&'s Line> {
        let Some(o) = (if new { &self.new } else { &self.old }) else {
            return vec![];
        };
        let Some(map) = class_map(cat, new, o) else {
            return vec![];
        };
        map.dims
            .iter()
            .zip(&o.dims)
            .enumerate()
            .filter(|(_, (dm, _))| dm.dim == dim)
            .flat_map(|(j, (_, res))| res.ledger.iter().filter(move |l| line_key(map, j, l) == Some(key)))
            .collect()
    }
}

/// Two ledgers matched line by line: a customer's dimensions, clause rows
/// and causes (see `CustomerDiff`), in vectors that the impact pass fills
/// again for customer after customer.
#[derive(Default)]
pub struct Matched {
    pub dims: Vec<DimRow>,
    pub rows: Vec<Row>,
    pub causes: Vec<usize>,
}

impl Matched {
    /// Matches the lines of one customer's outcomes (with ledgers), over
    /// what was here.
    pub fn fill(&mut self, pair: &Pair<'_>, old: Option<&Outcome>, new: Option<&Outcome>) {
        let (cat, old_prog, new_prog) = (pair.cat, pair.old.prog, pair.new.prog);
        self.dims.clear();
        self.rows.clear();
        self.causes.clear();
        // Room for every dimension and line of both sides: grown one push at
        // a time, these were most of `diff`'s reallocations.
        let sides = [old, new];
        self.dims.reserve(sides.iter().flatten().map(|o| o.dims.len()).sum());
        self.rows.reserve(
            sides
                .iter()
                .flatten()
                .map(|o| o.total_ledger.len() + o.dims.iter().map(|d| d.ledger.len()).sum::<usize>())
                .sum(),
        );
        for (is_new, outcome, prog) in [(false, old, old_prog), (true, new, new_prog)] {
            let Some(o) = outcome else { continue };
            let Some(map) = class_map(cat, is_new, o) else {
                continue;
            };
            let dims = prog.classes.get(usize::from(o.class)).map_or(&[][..], |c| &c.dims[..]);
            for (j, ((dm, res), dp)) in map.dims.iter().zip(&o.dims).zip(dims).enumerate() {
                self.dim(dm.dim, is_new, (res.score, dp.max));
                // A withheld bonus is the same nothing on both sides.
                for line in res.ledger.iter().filter(|l| l.status != Status::Withheld) {
                    if let Some(key) = line_key(map, j, line) {
                        self.add(dm.dim, key, is_new, line.points);
                    }
                }
            }
        }
        for (is_new, outcome) in [(false, old), (true, new)] {
            let Some(o) = outcome else { continue };
            let keys = if is_new { &cat.new.total } else { &cat.old.total };
            for line in o.total_ledger.iter().filter(|l| l.status != Status::Withheld) {
                if let Some(&key) = line.rule.and_then(|i| keys.get(i)) {
                    self.add(TOTAL_ROW, key, is_new, line.points);
                }
            }
        }
        self.dims.sort_by_key(|r| r.dim);
        // Rows in dimension order, each dimension's clauses as first met.
        self.rows.sort_by_key(|r| r.dim);
        if let (Some(o), Some(n)) = (old, new) {
            self.moved(cat, (old_prog, o), (new_prog, n));
        }
    }

    /// Sets dimension `dim`'s (score, max) on one side.
    fn dim(&mut self, dim: usize, is_new: bool, score_max: (Num, Num)) {
        let row = match self.dims.iter().position(|r| r.dim == dim) {
            Some(at) => at,
            None => {
                self.dims.push(DimRow {
                    dim,
                    old: None,
                    new: None,
                });
                self.dims.len() - 1
            }
        };
        if let Some(row) = self.dims.get_mut(row) {
            *(if is_new { &mut row.new } else { &mut row.old }) = Some(score_max);
        }
    }

    /// Adds a line's points to its clause's row on one side.
    fn add(&mut self, dim: usize, key: usize, is_new: bool, points: Num) {
        let at = match self.rows.iter().position(|r| r.dim == dim && r.key == key) {
            Some(at) => at,
            None => {
                self.rows.push(Row {
                    dim,
                    key,
                    old: None,
                    new: None,
                });
                self.rows.len() - 1
            }
        };
        if let Some(row) = self.rows.get_mut(at) {
            let slot = if is_new { &mut row.new } else { &mut row.old };
            *slot = Some(slot.unwrap_or(Num::ZERO) + points);
        }
    }

    /// What moved this customer, into `causes`: in each dimension whose
    /// score changed, the clauses whose points differ and a changed `max`;
    /// when the total changed, the rules on the total whose points differ;
    /// when the grade changed, an override that holds on one side only, or
    /// the bands when they grade the new total differently.
    fn moved(&mut self, cat: &Catalog, (old_prog, o): (&Program, &Outcome), (new_prog, n): (&Program, &Outcome)) {
        let out = &mut self.causes;
        for d in self
            .dims
            .iter()
            .filter(|d| d.moved() && d.old.is_some() && d.new.is_some())
        {
            out.extend(
                self.rows
                    .iter()
                    .filter(|r| r.dim == d.dim && r.differs())
                    .map(|r| r.key),
            );
            if d.old.map(|x| x.1) != d.new.map(|x| x.1) {
                if let Some(m) = class_map(cat, true, n).and_then(|m| m.dims.iter().find(|x| x.dim == d.dim)) {
                    out.push(m.max);
                }
            }
        }
        if o.total != n.total {
            out.extend(
                self.rows
                    .iter()
                    .filter(|r| r.dim == TOTAL_ROW && r.differs())
                    .map(|r| r.key),
            );
        }
        grade_causes(cat, (old_prog, o), (new_prog, n), out);
        once_each(out);
    }
}

/// When the grade changed: an override that holds on one side only, or the
/// bands when they grade the new total differently, into `out`.
fn grade_causes(
    cat: &Catalog,
    (old_prog, o): (&Program, &Outcome),
    (new_prog, n): (&Program, &Outcome),
    out: &mut Vec<usize>,
) {
    if super::table::grade(old_prog, o.grade) != super::table::grade(new_prog, n.grade) {
        let (ko, kn) = (override_key(cat, false, o), override_key(cat, true, n));
        if ko != kn {
            out.extend(ko.into_iter().chain(kn));
        }
        if ko.is_none() && kn.is_none() && band_for(old_prog, n.total) != band_for(new_prog, n.total) {
            out.push(cat.new.grades);
        }
    }
}

/// Keeps each key once, where first met.
fn once_each(out: &mut Vec<usize>) {
    let mut kept = 0;
    for at in 0..out.len() {
        let k = out.get(at).copied().expect("within the causes");
        if !out.get(..kept).is_some_and(|seen| seen.contains(&k)) {
            if let Some(slot) = out.get_mut(kept) {
                *slot = k;
            }
            kept += 1;
        }
    }
    out.truncate(kept);
}

/// What moved a customer scored by both rulebooks — the same keys as
/// `Matched::fill` finds (`Matched::moved`), in another order — from each
/// rule's points by unit (`Outcome::unit_points`) rather than from
/// ledgers: a clause's points in a dimension are what its lines there add
/// up to, and a clause that gave nothing on either side moved no one. Rows
/// and dimensions are indexed (`Catalog::rows`, `Catalog::dims`), not
/// looked for: what the impact pass counts, customer after customer, with
/// no line made or matched.
#[derive(Default)]
pub struct ByUnit {
    /// Per row of the catalog: the points on each side, and whether this
    /// customer has touched it; all zero between customers.
    rows: Vec<([Num; 2], bool)>,
    /// Per catalog dimension: its (score, max) on each side.
    dims: Vec<[Option<(Num, Num)>; 2]>,
    touched_rows: Vec<usize>,
    touched_dims: Vec<usize>,
    /// The keys that moved the customer, each once.
    pub causes: Vec<usize>,
}

impl ByUnit {
    pub fn new(cat: &Catalog) -> ByUnit {
        ByUnit {
            rows: vec![([Num::ZERO; 2], false); cat.rows.len()],
            dims: vec![[None; 2]; cat.dims.len()],
            ..ByUnit::default()
        }
    }

    /// Finds what moved customer `(old, new)` into `causes`. Both must have
    /// been scored with `unit_points` set (`Some`), which this reads in
    /// place of ledgers; an outcome without them is a bug of the caller
    /// (a panic).
    pub fn fill(&mut self, pair: &Pair<'_>, old: &Outcome, new: &Outcome) {
        let (cat, old_prog, new_prog) = (pair.cat, pair.old.prog, pair.new.prog);
        self.causes.clear();
        for (side, o, prog) in [(0, old, old_prog), (1, new, new_prog)] {
            let Some(map) = class_map(cat, side == 1, o) else {
                continue;
            };
            let dims = prog.classes.get(usize::from(o.class)).map_or(&[][..], |c| &c.dims[..]);
            for ((dm, res), dp) in map.dims.iter().zip(&o.dims).zip(dims) {
                let d = self.dims.get_mut(dm.dim).expect("a dimension of the catalog");
                if *d == [None, None] {
                    self.touched_dims.push(dm.dim);
                }
                *d.get_mut(side).expect("two sides") = Some((res.score, dp.max));
            }
            let points = o
                .unit_points
                .as_deref()
                .expect("the impact pass scores with each rule's points");
            assert_eq!(
                points.len(),
                map.unit_rows.len(),
                "a unit per rule of the class and on the total"
            );
            for (&p, &r) in points.iter().zip(&map.unit_rows).filter(|(&p, _)| p != Num::ZERO) {
                let (sums, touched) = self.rows.get_mut(r).expect("a row of the catalog");
                if !*touched {
                    *touched = true;
                    self.touched_rows.push(r);
                }
                let sum = sums.get_mut(side).expect("two sides");
                *sum += p;
            }
        }
        let total_moved = old.total != new.total;
        // A dimension scored on both sides whose score changed.
        let moved =
            |dims: &[[Option<(Num, Num)>; 2]], d: usize| matches!(dims.get(d), Some([Some(o), Some(n)]) if o.0 != n.0);
        for &r in &self.touched_rows {
            let ([old_sum, new_sum], _) = self.rows.get(r).expect("a touched row of the catalog");
            let &(dim, key) = cat.rows.get(r).expect("a row of the catalog");
            let in_moved = if dim == TOTAL_ROW {
                total_moved
            } else {
                moved(&self.dims, dim)
            };
            if in_moved && old_sum != new_sum {
                self.causes.push(key);
            }
        }
        for &d in &self.touched_dims {
            if let Some([Some(o), Some(n)]) = self.dims.get(d) {
                if o.0 != n.0 && o.1 != n.1 {
                    if let Some(m) = class_map(cat, true, new).and_then(|m| m.dims.iter().find(|x| x.dim == d)) {
                        self.causes.push(m.max);
                    }
                }
            }
        }
        grade_causes(cat, (old_prog, old), (new_prog, new), &mut self.causes);
        once_each(&mut self.causes);
        for r in self.touched_rows.drain(..) {
            *self.rows.get_mut(r).expect("a touched row of the catalog") = ([Num::ZERO; 2], false);
        }
        for d in self.touched_dims.drain(..) {
            *self.dims.get_mut(d).expect("a touched dimension of the catalog") = [None, None];
        }
    }
}
