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
        // Room for every dimension and line of both sides: grown one push at
        // a time, these were most of `diff`'s reallocations.
        let sides = [old.as_ref(), new.as_ref()];
        let dims = sides.iter().flatten().map(|o| o.dims.len()).sum();
        let lines = sides
            .iter()
            .flatten()
            .map(|o| o.total_ledger.len() + o.dims.iter().map(|d| d.ledger.len()).sum::<usize>())
            .sum();
        let mut d = CustomerDiff {
            customer: i,
            old,
            new,
            dims: Vec::with_capacity(dims),
            rows: Vec::with_capacity(lines),
            causes: vec![],
        };
        d.match_lines(pair.cat, pair.old.prog, pair.new.prog);
        d
    }

    fn match_lines(&mut self, cat: &Catalog, old_prog: &Program, new_prog: &Program) {
        let sides = [
            (false, self.old.as_ref(), old_prog),
            (true, self.new.as_ref(), new_prog),
        ];
        for (new, outcome, prog) in sides {
            let Some(o) = outcome else { continue };
            let Some(map) = class_map(cat, new, o) else {
                continue;
            };
            let dims = prog.classes.get(usize::from(o.class)).map_or(&[][..], |c| &c.dims[..]);
            for (j, ((dm, res), dp)) in map.dims.iter().zip(&o.dims).zip(dims).enumerate() {
                let row = match self.dims.iter_mut().find(|r| r.dim == dm.dim) {
                    Some(r) => r,
                    None => {
                        self.dims.push(DimRow {
                            dim: dm.dim,
                            old: None,
                            new: None,
                        });
                        let Some(r) = self.dims.last_mut() else {
                            continue;
                        };
                        r
                    }
                };
                *(if new { &mut row.new } else { &mut row.old }) = Some((res.score, dp.max));
                // A withheld bonus is the same nothing on both sides.
                for line in res.ledger.iter().filter(|l| l.status != Status::Withheld) {
                    let Some(key) = line_key(map, j, line) else {
                        continue;
                    };
                    let row = match self.rows.iter_mut().find(|r| r.dim == dm.dim && r.key == key) {
                        Some(r) => r,
                        None => {
                            self.rows.push(Row {
                                dim: dm.dim,
                                key,
                                old: None,
                                new: None,
                            });
                            let Some(r) = self.rows.last_mut() else {
                                continue;
                            };
                            r
                        }
                    };
                    let slot = if new { &mut row.new } else { &mut row.old };
                    *slot = Some(slot.unwrap_or(Num::ZERO) + line.points);
                }
            }
        }
        for (new, outcome) in [(false, self.old.as_ref()), (true, self.new.as_ref())] {
            let Some(o) = outcome else { continue };
            let keys = if new { &cat.new.total } else { &cat.old.total };
            for line in o.total_ledger.iter().filter(|l| l.status != Status::Withheld) {
                let Some(&key) = line.rule.and_then(|i| keys.get(i)) else {
                    continue;
                };
                let row = match self.rows.iter().position(|r| r.dim == TOTAL_ROW && r.key == key) {
                    Some(i) => &mut self.rows[i],
                    None => {
                        self.rows.push(Row {
                            dim: TOTAL_ROW,
                            key,
                            old: None,
                            new: None,
                        });
                        let last = self.rows.len() - 1;
                        &mut self.rows[last]
                    }
                };
                let slot = if new { &mut row.new } else { &mut row.old };
                *slot = Some(slot.unwrap_or(Num::ZERO) + line.points);
            }
        }
        self.dims.sort_by_key(|r| r.dim);
        // Rows in dimension order, each dimension's clauses as first met.
        self.rows.sort_by_key(|r| r.dim);
        self.causes = self.moved(cat, old_prog, new_prog);
    }

    /// What moved this customer: in each dimension whose score changed, the
    /// clauses whose points differ and a changed `max`; when the grade
    /// changed, an override that holds on one side only, or the bands when
    /// they grade the new total differently.
    fn moved(&self, cat: &Catalog, old_prog: &Program, new_prog: &Program) -> Vec<usize> {
        let (Some(o), Some(n)) = (&self.old, &self.new) else {
            return vec![];
        };
        let mut out = Vec::new();
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
        if self.total_moved() {
            out.extend(
                self.rows
                    .iter()
                    .filter(|r| r.dim == TOTAL_ROW && r.differs())
                    .map(|r| r.key),
            );
        }
        let grade = |p: &Program, x: &Outcome| p.bands.get(x.grade).map_or(String::new(), |b| b.grade.clone());
        if grade(old_prog, o) != grade(new_prog, n) {
            let (ko, kn) = (override_key(cat, false, o), override_key(cat, true, n));
            if ko != kn {
                out.extend(ko.into_iter().chain(kn));
            }
            if ko.is_none() && kn.is_none() && band_for(old_prog, n.total) != band_for(new_prog, n.total) {
                out.push(cat.new.grades);
            }
        }
        let mut seen = Vec::new();
        out.retain(|k| {
            let fresh = !seen.contains(k);
            seen.push(*k);
            fresh
        });
        out
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
