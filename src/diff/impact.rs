//! Diff stage: the impact of a rule change on a whole log — every customer
//! scored by both rulebooks on every core, folded into counts: the grade
//! migration matrix, who changes grade or score, per-dimension change, the
//! clauses that moved scores, the largest movers and the customers only one
//! rulebook scores. Customers are scored once, without ledgers but with
//! each rule's points (`Outcome::unit_points`); those whose result differs
//! are matched clause by clause to find the clauses behind, without being
//! scored again.

use rayon::prelude::*;

use super::ledger::ByUnit;
use super::Pair;
use crate::eval::Outcome;
use crate::num::Num;

/// Change of one dimension (or of the total) over the customers both
/// rulebooks score with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DimImpact {
    /// Customers scored on this dimension by both rulebooks.
    pub compared: u64,
    /// Those whose score on it changed.
    pub affected: u64,
    pub up: u64,
    pub down: u64,
    /// The sum of the changes, in raw `Num` units.
    pub sum: i128,
    /// The largest change by size, and the first customer with it.
    pub largest: Option<(Num, usize)>,
}

impl DimImpact {
    fn add(&mut self, delta: Num, customer: usize) {
        self.compared += 1;
        if delta == Num::ZERO {
            return;
        }
        self.affected += 1;
        if delta > Num::ZERO {
            self.up += 1;
        } else {
            self.down += 1;
        }
        self.sum += i128::from(delta.raw());
        if self
            .largest
            .is_none_or(|(l, _)| delta.raw().unsigned_abs() > l.raw().unsigned_abs())
        {
            self.largest = Some((delta, customer));
        }
    }

    fn merge(&mut self, b: DimImpact) {
        self.compared += b.compared;
        self.affected += b.affected;
        self.up += b.up;
        self.down += b.down;
        self.sum += b.sum;
        if let Some((d, _)) = b.largest {
            if self
                .largest
                .is_none_or(|(l, _)| d.raw().unsigned_abs() > l.raw().unsigned_abs())
            {
                self.largest = b.largest;
            }
        }
    }

    /// The mean change over all compared customers, to two decimals.
    pub fn mean(&self) -> Num {
        super::mean(self.sum, self.compared)
    }

    /// The mean change over the affected customers, to two decimals.
    pub fn mean_affected(&self) -> Num {
        super::mean(self.sum, self.affected)
    }
}

/// A customer whose result changed, ranked by the size of the change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mover {
    pub customer: usize,
    pub delta: Num,
    pub grade_changed: bool,
}

impl Mover {
    fn rank(&self) -> (std::cmp::Reverse<u64>, std::cmp::Reverse<bool>, usize) {
        (
            std::cmp::Reverse(self.delta.raw().unsigned_abs()),
            std::cmp::Reverse(self.grade_changed),
            self.customer,
        )
    }
}

/// A customer scored by one rulebook only: its class is not a class of the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lonely {
    pub customer: usize,
    /// Scored by the new rulebook (else by the old).
    pub new: bool,
    pub total: Num,
    /// Index into that program's bands.
    pub grade: usize,
}

/// The impact of the change on every customer of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Impact {
    /// Every customer of the log and roster.
    pub customers: u64,
    /// Scored by both rulebooks.
    pub both: u64,
    pub grade_changed: u64,
    /// Total changed, grade did not.
    pub score_changed: u64,
    /// Dimension scores moved but the total and grade did not.
    pub dims_only: u64,
    pub unchanged: u64,
    /// `matrix[old][new]`: old bands, then a row for "not scored";
    /// new bands, then a column for "not scored".
    pub matrix: Vec<Vec<u64>>,
    /// Per catalog dimension.
    pub dims: Vec<DimImpact>,
    pub total: DimImpact,
    /// Per catalog key: customers whose score or grade it moved.
    pub clauses: Vec<u64>,
    /// The largest movers, best first, at most `top`.
    pub movers: Vec<Mover>,
    /// Customers scored by one side only, per roster class (catalog of
    /// `Classes::names`): `[old only, new only]`.
    pub only: Vec<[u64; 2]>,
    /// The first `top` of them by id.
    pub lonely: Vec<Lonely>,
    pub top: usize,
    /// Per `--by` column, per value: the migration matrix of its customers.
    pub groups: Vec<std::collections::BTreeMap<String, Vec<Vec<u64>>>>,
    /// The first `NEWLY_LISTED` customers (by id) whose new grade has
    /// measures their old grade did not.
    pub newly_measures: Vec<super::committee::Newly>,
    /// The first customer (in id order) whose points cannot be held exactly
    /// under either rulebook, with the side (`false`: old) and the rule: the
    /// impact then means nothing, and the comparison is an error.
    pub overflow: Option<(usize, bool, crate::eval::Overflow)>,
}

/// How many customers newly facing measures are listed by id.
pub const NEWLY_LISTED: usize = 1000;

impl Impact {
    fn empty(pair: &Pair<'_>, top: usize) -> Impact {
        let (nb, mb) = (pair.old.prog.bands.len(), pair.new.prog.bands.len());
        Impact {
            customers: 0,
            both: 0,
            grade_changed: 0,
            score_changed: 0,
            dims_only: 0,
            unchanged: 0,
            matrix: vec![vec![0; mb + 1]; nb + 1],
            dims: vec![DimImpact::default(); pair.cat.dims.len()],
            total: DimImpact::default(),
            clauses: vec![0; pair.cat.keys.len()],
            movers: vec![],
            only: vec![[0, 0]; pair.classes.names.len()],
            lonely: vec![],
            top,
            groups: vec![Default::default(); pair.groups.map_or(0, |g| g.columns.len())],
            newly_measures: vec![],
            overflow: None,
        }
    }

    /// Customers scored by only one of the two rulebooks.
    pub fn only_old(&self) -> u64 {
        self.only.iter().map(|x| x[0]).sum()
    }

    pub fn only_new(&self) -> u64 {
        self.only.iter().map(|x| x[1]).sum()
    }

    /// What the rollout gate counts: grade changes, plus customers one
    /// rulebook scores and the other does not (they gain or lose a grade).
    pub fn gated(&self) -> u64 {
        self.grade_changed + self.only_old() + self.only_new()
    }

    fn cell(&mut self, old: Option<usize>, new: Option<usize>) {
        let rows = self.matrix.len();
        let row = self.matrix.get_mut(old.unwrap_or(rows.saturating_sub(1)));
        if let Some(row) = row {
            let cols = row.len();
            if let Some(c) = row.get_mut(new.unwrap_or(cols.saturating_sub(1))) {
                *c += 1;
            }
        }
    }

    /// Counts customer `i`'s move in its groups and in the measures it faces.
    fn committee(&mut self, pair: &Pair<'_>, i: usize, old: Option<usize>, new: Option<usize>) {
        let (nb, mb) = (pair.old.prog.bands.len(), pair.new.prog.bands.len());
        if let Some(g) = pair.groups {
            for (group, value) in self.groups.iter_mut().zip(g.values(pair.id(i))) {
                let m = group.entry(value).or_insert_with(|| vec![vec![0; mb + 1]; nb + 1]);
                if let Some(c) = m.get_mut(old.unwrap_or(nb)).and_then(|r| r.get_mut(new.unwrap_or(mb))) {
                    *c += 1;
                }
            }
        }
        if let (Some(o), Some(n)) = (old, new) {
            if super::committee::newly_measured(pair.old.prog, o, pair.new.prog, n)
                && self.newly_measures.len() < NEWLY_LISTED
            {
                self.newly_measures.push(super::committee::Newly {
                    customer: i,
                    old: o,
                    new: n,
                });
            }
        }
    }

    /// Adds customer `i`, whose state (of a folded log) is `state`, scored
    /// and matched in `scratch`.
    fn add(&mut self, pair: &Pair<'_>, i: usize, state: Option<&[u32]>, scratch: &mut Scratch) {
        self.customers += 1;
        // Without ledgers, but with each rule's points: a customer whose
        // score moved is matched clause by clause without scoring it again.
        let outcomes = match pair.score_into(i, state, false, (true, true), &mut scratch.outcomes) {
            (Some(Err(e)), _) => return self.overflowed(i, false, e),
            (_, Some(Err(e))) => return self.overflowed(i, true, e),
            (o, n) => {
                let [old, new] = &scratch.outcomes;
                (o.map(|_| old), n.map(|_| new))
            }
        };
        self.committee(pair, i, outcomes.0.map(|x| x.grade), outcomes.1.map(|x| x.grade));
        match outcomes {
            (Some(o), Some(n)) => self.both(pair, i, o, n, &mut scratch.by_unit),
            (o, n) => {
                self.cell(o.as_ref().map(|x| x.grade), n.as_ref().map(|x| x.grade));
                let class = pair.log.customers.get(i).and_then(|c| c.class).map_or(0, usize::from);
                let side = usize::from(n.is_some());
                if let Some(x) = self.only.get_mut(class).and_then(|x| x.get_mut(side)) {
                    *x += 1;
                }
                if let Some(x) = o.or(n) {
                    if self.lonely.len() < self.top {
                        self.lonely.push(Lonely {
                            customer: i,
                            new: side == 1,
                            total: x.total,
                            grade: x.grade,
                        });
                    }
                }
            }
        }
    }

    /// Keeps the first customer, in id order, that overflows.
    fn overflowed(&mut self, i: usize, new: bool, e: crate::eval::Overflow) {
        if self.overflow.as_ref().is_none_or(|(first, ..)| i < *first) {
            self.overflow = Some((i, new, e));
        }
    }

    fn both(&mut self, pair: &Pair<'_>, i: usize, o: &Outcome, n: &Outcome, by_unit: &mut ByUnit) {
        self.both += 1;
        self.cell(Some(o.grade), Some(n.grade));
        let grade_changed = super::table::grade(pair.old.prog, o.grade) != super::table::grade(pair.new.prog, n.grade);
        let delta = n.total - o.total;
        self.total.add(delta, i);
        let (Some(co), Some(cn)) = (
            pair.cat.old.classes.get(usize::from(o.class)),
            pair.cat.new.classes.get(usize::from(n.class)),
        ) else {
            return;
        };
        let mut dims_moved = co.dims.len() != cn.dims.len();
        for (dn, rn) in cn.dims.iter().zip(&n.dims) {
            let old = co.dims.iter().zip(&o.dims).find(|(d, _)| d.dim == dn.dim);
            match (old, self.dims.get_mut(dn.dim)) {
                (Some((_, ro)), Some(stat)) => {
                    let d = rn.score - ro.score;
                    dims_moved |= d != Num::ZERO;
                    stat.add(d, i);
                }
                _ => dims_moved = true,
            }
        }
        if grade_changed {
            self.grade_changed += 1;
        } else if delta != Num::ZERO {
            self.score_changed += 1;
        } else if dims_moved {
            self.dims_only += 1;
        } else {
            self.unchanged += 1;
            return;
        }
        by_unit.fill(pair, o, n);
        for k in &by_unit.causes {
            if let Some(c) = self.clauses.get_mut(*k) {
                *c += 1;
            }
        }
        self.offer(Mover {
            customer: i,
            delta,
            grade_changed,
        });
    }

    fn offer(&mut self, m: Mover) {
        if self.top == 0 {
            return;
        }
        if self.movers.len() >= self.top && self.movers.last().is_some_and(|last| last.rank() <= m.rank()) {
            return;
        }
        let at = self.movers.partition_point(|x| x.rank() < m.rank());
        self.movers.insert(at, m);
        self.movers.truncate(self.top);
    }

    /// `self` holds customers before `b`'s.
    fn merge(mut self, b: Impact) -> Impact {
        if let Some((i, new, e)) = b.overflow {
            self.overflowed(i, new, e);
        }
        self.customers += b.customers;
        self.both += b.both;
        self.grade_changed += b.grade_changed;
        self.score_changed += b.score_changed;
        self.dims_only += b.dims_only;
        self.unchanged += b.unchanged;
        for (row, brow) in self.matrix.iter_mut().zip(b.matrix) {
            for (c, bc) in row.iter_mut().zip(brow) {
                *c += bc;
            }
        }
        for (d, bd) in self.dims.iter_mut().zip(b.dims) {
            d.merge(bd);
        }
        self.total.merge(b.total);
        for (c, bc) in self.clauses.iter_mut().zip(b.clauses) {
            *c += bc;
        }
        for m in b.movers {
            self.offer(m);
        }
        for (x, bx) in self.only.iter_mut().zip(b.only) {
            x[0] += bx[0];
            x[1] += bx[1];
        }
        let room = self.top.saturating_sub(self.lonely.len());
        self.lonely.extend(b.lonely.into_iter().take(room));
        for (g, bg) in self.groups.iter_mut().zip(b.groups) {
            for (value, bm) in bg {
                match g.get_mut(&value) {
                    Some(m) => {
                        for (row, brow) in m.iter_mut().zip(bm) {
                            for (c, bc) in row.iter_mut().zip(brow) {
                                *c += bc;
                            }
                        }
                    }
                    None => {
                        g.insert(value, bm);
                    }
                }
            }
        }
        let room = NEWLY_LISTED.saturating_sub(self.newly_measures.len());
        self.newly_measures.extend(b.newly_measures.into_iter().take(room));
        self
    }
}

/// What a worker of the impact pass scores and matches each customer in,
/// written over for the next: a million customers, next to no allocation.
struct Scratch {
    outcomes: [Outcome; 2],
    by_unit: ByUnit,
}

impl Scratch {
    fn new(pair: &Pair<'_>) -> Scratch {
        // Each rule's points are kept (`Outcome::unit_points`), not its lines.
        Scratch {
            outcomes: [Outcome::with_unit_points(), Outcome::with_unit_points()],
            by_unit: ByUnit::new(pair.cat),
        }
    }
}

/// Scores every customer of the log with both rulebooks, on every core.
pub fn impact(pair: &Pair<'_>, top: usize) -> Impact {
    (0..pair.log.customers.len())
        .into_par_iter()
        .chunks(256)
        .fold(
            || (Impact::empty(pair, top), Scratch::new(pair)),
            |(mut acc, mut scratch), run| {
                // A run's states side by side first (see `EventLog::gather`).
                let states = pair.log.gather(&run);
                for (k, i) in run.into_iter().enumerate() {
                    acc.add(pair, i, states.as_ref().map(|g| g.state(k)), &mut scratch);
                }
                (acc, scratch)
            },
        )
        .map(|(acc, _)| acc)
        .reduce(|| Impact::empty(pair, top), Impact::merge)
}

/// `--fail-if-grade-changes`: a count (`25`) or a share of the customers (`2.5%`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Count(u64),
    Percent(Num),
}

impl Gate {
    pub fn parse(s: &str) -> Result<Gate, String> {
        let bad = || format!("`{s}` is not a count (`25`) or a percentage (`2.5%`)");
        match s.trim().strip_suffix('%') {
            Some(p) => match Num::parse(p.trim()) {
                Ok(n) if n >= Num::ZERO && n <= Num::from_int(100) => Ok(Gate::Percent(n)),
                _ => Err(bad()),
            },
            None => s.trim().parse::<u64>().map(Gate::Count).map_err(|_| bad()),
        }
    }

    /// True when more customers than the gate allows change grade.
    pub fn fails(&self, imp: &Impact) -> bool {
        let n = imp.gated();
        match *self {
            Gate::Count(limit) => n > limit,
            // n / customers > p / 100, exactly: n × 100 × 10⁶ > p_raw × customers.
            Gate::Percent(p) => i128::from(n) * 100 * 1_000_000 > i128::from(p.raw()) * i128::from(imp.customers),
        }
    }
}

impl std::fmt::Display for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Gate::Count(n) => write!(f, "{n}"),
            Gate::Percent(p) => write!(f, "{p}%"),
        }
    }
}
