//! Diff stage: two rulebooks over the same event log — what the rule change
//! is (`changes`), whom it moves and why (`impact`, `ledger`), rendered as a
//! table or JSON (`table`, `json`).
//!
//! Both programs are compiled against one merged `Schema`, so the log is read
//! and decoded once and every event means the same to both. Customers are
//! matched by id; dimensions by name; ledger lines by clause ID.

pub mod changes;
pub mod committee;
pub mod csv;
pub mod impact;
pub mod json;
pub mod ledger;
pub mod table;

use rustc_hash::FxHashMap;

use crate::check::program::{DimSource, Meta};
use crate::date::Date;
use crate::eval::{self, Evaluator, Outcome, Program};
use crate::input::{Customer, EventLog, Roster};
use crate::num::Num;
use crate::syntax::ast::Rulebook;

pub use changes::{rule_changes, Change, ChangeKind};
pub use impact::{impact, Gate, Impact};
pub use ledger::{ByUnit, CustomerDiff, Matched};

/// One of the two rulebooks: where it came from, its AST and source (for the
/// rule changes) and its program compiled against the merged schema.
pub struct Side<'a> {
    /// The path shown to people (`rules/credit.rules`).
    pub path: &'a str,
    pub book: &'a Rulebook,
    pub src: &'a str,
    pub prog: &'a Program,
}

/// Everything a renderer shows.
pub struct Report<'a> {
    pub old: &'a Side<'a>,
    pub new: &'a Side<'a>,
    pub as_of: Date,
    pub pair: &'a Pair<'a>,
    pub changes: &'a [Change],
    pub impact: &'a Impact,
    /// The largest movers, matched line by line.
    pub movers: &'a [CustomerDiff],
    /// The gate asked for, and whether it fails.
    pub gate: Option<(Gate, bool)>,
    /// The committee's gates (`--fail-if-downgrades`, `--fail-if-into`).
    pub gates: &'a [committee::Verdict],
}

/// Everything needed to score one customer both ways.
pub struct Pair<'a> {
    pub cat: &'a Catalog,
    pub classes: &'a Classes,
    pub old: Evaluator<'a>,
    pub new: Evaluator<'a>,
    pub log: &'a EventLog,
    /// The roster before the revision (`--old-customers`): the old rulebook
    /// takes each customer's class and history from it. `None`: the same roster.
    pub old_roster: Option<&'a Roster>,
    /// The roster columns to count moves by (`--by`).
    pub groups: Option<&'a committee::Groups<'a>>,
}

/// A customer's outcome under the old rulebook and the new one (`None`:
/// not scored on that side; `Err`: its points cannot be held exactly).
pub type Sides = (
    Option<Result<Outcome, eval::Overflow>>,
    Option<Result<Outcome, eval::Overflow>>,
);

/// Which sides `Pair::score_into` scored (`None`: not scored on that
/// side; `Err`: its points cannot be held exactly).
pub type Scores = (Option<Result<(), eval::Overflow>>, Option<Result<(), eval::Overflow>>);

impl Pair<'_> {
    /// Customer `i` scored by each rulebook that scores its class. Call it
    /// once the log is known not to overflow (`first_overflow`, or an
    /// `Impact` without `overflow`): a log that overflows cannot be compared.
    pub fn evaluate(&self, i: usize, ledger: bool) -> (Option<Outcome>, Option<Outcome>) {
        let (old, new) = self.try_evaluate(i, ledger);
        let sure = |o: Option<Result<Outcome, eval::Overflow>>| {
            o.map(|r| r.expect("no overflow was found before the comparison"))
        };
        (sure(old), sure(new))
    }

    /// Customer `i` scored by each rulebook (`None`: not scored by that
    /// one), or why its points cannot be held exactly.
    pub fn try_evaluate(&self, i: usize, ledger: bool) -> Sides {
        self.try_evaluate_with(i, self.log.state_of(i), ledger)
    }

    /// `try_evaluate` with customer `i`'s state given (from
    /// `EventLog::gather`; `None` for a log that stores events).
    pub fn try_evaluate_with(&self, i: usize, state: Option<&[u32]>, ledger: bool) -> Sides {
        self.try_evaluate_sides(i, state, ledger, (true, true))
    }

    /// Customer `i` scored by the new rulebook only, or why its points
    /// cannot be held exactly (`None`: not scored by it).
    pub fn try_evaluate_new(&self, i: usize) -> Option<Result<Outcome, eval::Overflow>> {
        self.try_evaluate_sides(i, self.log.state_of(i), false, (false, true)).1
    }

    /// `try_evaluate_with` for the sides asked for (old, new); a side not
    /// asked for is `None`.
    fn try_evaluate_sides(&self, i: usize, state: Option<&[u32]>, ledger: bool, sides: (bool, bool)) -> Sides {
        let mut into = [Outcome::default(), Outcome::default()];
        let (old, new) = self.score_into(i, state, ledger, sides, &mut into);
        let [o, n] = into;
        (old.map(|r| r.map(|()| o)), new.map(|r| r.map(|()| n)))
    }

    /// `try_evaluate_sides`, each side written over `into` (old, new; see
    /// `Evaluator::evaluate_with_into`): the impact pass scores a million
    /// customers into the same two outcomes.
    pub fn score_into(
        &self,
        i: usize,
        state: Option<&[u32]>,
        ledger: bool,
        (old, new): (bool, bool),
        into: &mut [Outcome; 2],
    ) -> Scores {
        let Some(c) = self.log.customers.get(i) else {
            return (None, None);
        };
        let [old_out, new_out] = into;
        let before = self.old_roster.filter(|_| old).map(|r| before(r, &c.id));
        let old_c = match old {
            true => self
                .classes
                .customer(before.as_ref().unwrap_or(c), self.old.prog, false),
            false => None,
        };
        let new_c = match new {
            true => self.classes.customer(c, self.new.prog, true),
            false => None,
        };
        match state {
            // A folded log: each side's words, after its class (see `PairFold`).
            Some(state) => {
                // No event was folded into this customer: its initial state.
                let initial;
                let state = match state {
                    [] => {
                        let fold = PairFold {
                            old: &self.old,
                            new: &self.new,
                            classes: self.classes,
                            old_roster: self.old_roster,
                        };
                        let mut words = Vec::new();
                        crate::input::Fold::init(&fold, c.id.as_bytes(), c.class, &mut words);
                        initial = words;
                        &initial[..]
                    }
                    _ => state,
                };
                let (old_words, new_words) = PairFold::split(state);
                let (new_words, _) = PairFold::split(new_words);
                (
                    old_c.map(|c| self.old.finish_into(&c, old_words, ledger, old_out)),
                    new_c.map(|c| self.new.finish_into(&c, new_words, ledger, new_out)),
                )
            }
            None => {
                let events = self.log.events_of(i);
                let run = |c: Customer, e: &Evaluator<'_>, out: &mut Outcome| {
                    e.evaluate_into(&c, events, &self.log.vals, ledger, out)
                };
                (
                    old_c.map(|c| run(c, &self.old, old_out)),
                    new_c.map(|c| run(c, &self.new, new_out)),
                )
            }
        }
    }

    /// The first customer (in id order) whose points cannot be held exactly
    /// under either rulebook, with the rule and the side (`false`: old).
    pub fn first_overflow(&self) -> Option<(usize, bool, eval::Overflow)> {
        use rayon::prelude::*;
        (0..self.log.customers.len()).into_par_iter().find_map_first(|i| {
            let (old, new) = self.try_evaluate(i, false);
            match (old, new) {
                (Some(Err(e)), _) => Some((i, false, e)),
                (_, Some(Err(e))) => Some((i, true, e)),
                _ => None,
            }
        })
    }

    /// The id of customer `i`.
    pub fn id(&self, i: usize) -> &str {
        self.log.customers.get(i).map_or("", |c| &c.id)
    }
}

/// A customer as the old roster (`--old-customers`) lists it.
fn before(roster: &Roster, id: &str) -> Customer {
    let entry = roster.get(id);
    Customer {
        id: Default::default(),
        class: entry.and_then(|e| e.class),
        since: entry.and_then(|e| e.since),
    }
}

/// Both rulebooks' folds over one read of the log: a customer's state is the
/// old program's class (or `NONE`: that side does not score the customer) and
/// words, then the new program's. With `diff`'s folded ledgers (one line per
/// rule, its points summed) the clauses behind every change are found without
/// storing an event; one customer's ledgers side by side (`--customer`) read
/// that customer's events instead.
pub struct PairFold<'a> {
    pub old: &'a Evaluator<'a>,
    pub new: &'a Evaluator<'a>,
    pub classes: &'a Classes,
    pub old_roster: Option<&'a Roster>,
}

impl PairFold<'_> {
    /// The class word of a side that does not score the customer.
    const NONE: u32 = u32::MAX;

    /// The class word of a side that scores the customer in class `k`: the
    /// class, and above it how many words follow (a folded class's words
    /// are few, `eval::fold::MAX_WORDS`), so that an event is folded into
    /// both sides without looking either layout up.
    fn class_word(e: &Evaluator<'_>, k: u16) -> u32 {
        const _: () = assert!(
            crate::eval::fold::MAX_WORDS < 1 << 16,
            "a folded class's word count fits in half a class word"
        );
        let n = u16::try_from(e.state_words(k)).expect("a class's words are few");
        let word = u32::from(n) << 16 | u32::from(k);
        assert_ne!(word, Self::NONE, "a class word is not the word of no class");
        word
    }

    /// A side's class (`None`: it does not score the customer) and how many
    /// words follow, from its class word.
    fn class_of(word: u32) -> (Option<u16>, usize) {
        match word {
            Self::NONE => (None, 0),
            w => (Some((w & 0xffff) as u16), (w >> 16) as usize),
        }
    }

    /// A side's words (after its class word) and what follows them.
    fn split(state: &[u32]) -> (&[u32], &[u32]) {
        let (&word, rest) = state.split_first().expect("a side's state starts with its class");
        rest.split_at_checked(Self::class_of(word).1)
            .expect("a side's words follow its class word")
    }

    fn split_mut(state: &mut [u32]) -> (Option<u16>, &mut [u32], &mut [u32]) {
        let (&mut word, rest) = state.split_first_mut().expect("a side's state starts with its class");
        let (class, n) = Self::class_of(word);
        let (mine, after) = rest
            .split_at_mut_checked(n)
            .expect("a side's words follow its class word");
        (class, mine, after)
    }

    fn init_side(e: &Evaluator<'_>, c: Option<Customer>, words: &mut Vec<u32>) {
        match c.and_then(|c| c.class) {
            Some(k) => {
                words.push(Self::class_word(e, k));
                crate::input::Fold::init(e, &[], Some(k), words);
            }
            None => words.push(Self::NONE),
        }
    }
}

impl crate::input::Fold for PairFold<'_> {
    fn init(&self, id: &[u8], class: Option<u16>, words: &mut Vec<u32>) {
        let listed = Customer {
            id: Default::default(),
            class,
            since: None,
        };
        let old = match self.old_roster {
            Some(r) => before(
                r,
                std::str::from_utf8(id).expect("customer ids are UTF-8 (checked when read)"),
            ),
            None => listed.clone(),
        };
        Self::init_side(self.old, self.classes.customer(&old, self.old.prog, false), words);
        Self::init_side(self.new, self.classes.customer(&listed, self.new.prog, true), words);
    }

    fn max_words(&self) -> usize {
        2 + self.old.max_words() + self.new.max_words()
    }

    fn fold(&self, _class: Option<u16>, words: &mut [u32], event: &crate::input::Event, vals: &[i64]) {
        // Each side's class word says how long it is.
        let (old_class, old, rest) = Self::split_mut(words);
        if old_class.is_some() {
            self.old.fold(old_class, old, event, vals);
        }
        let (new_class, new, _) = Self::split_mut(rest);
        if new_class.is_some() {
            self.new.fold(new_class, new, event, vals);
        }
    }
}

/// The classes of both rulebooks. The roster is read against `names` (the
/// old rulebook's classes, then those only the new one declares), and each
/// customer's class is then looked up by name in each program: a class one
/// rulebook lacks leaves its customers unscored on that side.
#[derive(Clone, Debug)]
pub struct Classes {
    pub names: Vec<String>,
    old: Vec<Option<u16>>,
    new: Vec<Option<u16>>,
}

impl Classes {
    pub fn of(old: &Program, new: &Program) -> Classes {
        let mut names: Vec<String> = old.classes.iter().map(|c| c.name.clone()).collect();
        for c in &new.classes {
            if !names.contains(&c.name) {
                names.push(c.name.clone());
            }
        }
        let map = |p: &Program| names.iter().map(|n| p.class_index(n)).collect();
        Classes {
            old: map(old),
            new: map(new),
            names,
        }
    }

    pub fn names(&self) -> Vec<&str> {
        self.names.iter().map(String::as_str).collect()
    }

    /// The customer as each program sees it (`None`: not scored by that
    /// program). The id is left empty: evaluation never reads it.
    pub fn customer(&self, c: &Customer, prog: &Program, new: bool) -> Option<Customer> {
        let class = match c.class {
            None => prog.default_class,
            Some(u) => (if new { &self.new } else { &self.old })
                .get(usize::from(u))
                .copied()
                .flatten()?,
        };
        Some(Customer {
            id: Default::default(),
            class: Some(class),
            since: c.since,
        })
    }

    /// The roster class name of a customer (`None`: the default class).
    pub fn name_of(&self, c: &Customer) -> Option<&str> {
        c.class.and_then(|u| self.names.get(usize::from(u))).map(String::as_str)
    }
}

/// What a ledger line, a grade or a score can be attributed to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A rule by its clause ID.
    Rule,
    /// An assessed value by its clause ID.
    Assessed,
    /// A dimension's full marks.
    Max,
    /// An override.
    Override,
    /// The grade bands.
    Grades,
}

/// A clause (or other cause) both programs share by key.
#[derive(Clone, Debug)]
pub struct Key {
    /// `P1-P3`; a rule without a clause ID goes by its label, else its text.
    pub key: String,
    pub label: Option<String>,
    pub cause: Cause,
}

/// Dimensions and clause keys of both programs, numbered once so that
/// customers are compared with indices rather than strings.
#[derive(Debug)]
pub struct Catalog {
    /// Dimension names: the old program's, then the new one's.
    pub dims: Vec<String>,
    pub keys: Vec<Key>,
    pub old: SideMap,
    pub new: SideMap,
    /// Each (dimension, key) a rule of either program is scored under
    /// (`TOTAL_ROW` for the rules on the total), numbered once: a
    /// customer's clause rows indexed rather than looked for
    /// (`ledger::ByUnit`).
    pub rows: Vec<(usize, usize)>,
}

#[derive(Debug)]
pub struct SideMap {
    /// Per class of the program.
    pub classes: Vec<ClassMap>,
    /// The key of the grade bands.
    pub grades: usize,
    /// Per rule on the total (`rules on total`), its key.
    pub total: Vec<usize>,
}

/// The `dim` of a ledger row of a rule on the total, which belongs to no dimension.
pub const TOTAL_ROW: usize = usize::MAX;

#[derive(Debug)]
pub struct ClassMap {
    /// Per dimension of the class.
    pub dims: Vec<DimMap>,
    /// Per override of the class, its key.
    pub overrides: Vec<usize>,
    /// Per unit of the class (`Outcome::unit_points`: each dimension's
    /// rules, then the rules on the total), its row in `Catalog::rows`.
    pub unit_rows: Vec<usize>,
}

#[derive(Debug)]
pub struct DimMap {
    /// Index into `Catalog::dims`.
    pub dim: usize,
    /// Per rule of the dimension, its key; an assessed dimension has one.
    pub rules: Vec<usize>,
    /// The key of this dimension's `max`.
    pub max: usize,
}

/// The key a rule goes by: its clause, else its label, else its text.
pub fn key_of(meta: &Meta, fallback: Option<&str>) -> String {
    meta.clause
        .clone()
        .or_else(|| meta.label.clone())
        .or_else(|| fallback.map(str::to_string))
        .unwrap_or_else(|| meta.text.clone())
}

impl Catalog {
    pub fn new(old: &Program, new: &Program) -> Catalog {
        let mut cat = Catalog {
            dims: vec![],
            keys: vec![],
            old: SideMap {
                classes: vec![],
                grades: 0,
                total: vec![],
            },
            new: SideMap {
                classes: vec![],
                grades: 0,
                total: vec![],
            },
            rows: vec![],
        };
        let mut index: FxHashMap<(String, u8), usize> = FxHashMap::default();
        let old_map = cat.side(old, &mut index);
        let new_map = cat.side(new, &mut index);
        cat.old = old_map;
        cat.new = new_map;
        let mut rows: FxHashMap<(usize, usize), usize> = FxHashMap::default();
        let Catalog {
            old, new, rows: list, ..
        } = &mut cat;
        for side in [old, new] {
            let total = &side.total;
            for class in &mut side.classes {
                let units = class
                    .dims
                    .iter()
                    .flat_map(|d| d.rules.iter().map(|&k| (d.dim, k)))
                    .chain(total.iter().map(|&k| (TOTAL_ROW, k)));
                class.unit_rows = units
                    .map(|row| {
                        *rows.entry(row).or_insert_with(|| {
                            list.push(row);
                            list.len() - 1
                        })
                    })
                    .collect();
            }
        }
        cat
    }

    fn key(
        &mut self,
        index: &mut FxHashMap<(String, u8), usize>,
        key: String,
        label: Option<&String>,
        cause: Cause,
    ) -> usize {
        let tag = cause.clone() as u8;
        if let Some(&i) = index.get(&(key.clone(), tag)) {
            return i;
        }
        self.keys.push(Key {
            key: key.clone(),
            label: label.cloned(),
            cause,
        });
        index.insert((key, tag), self.keys.len() - 1);
        self.keys.len() - 1
    }

    fn dim(&mut self, name: &str) -> usize {
        match self.dims.iter().position(|d| d == name) {
            Some(i) => i,
            None => {
                self.dims.push(name.to_string());
                self.dims.len() - 1
            }
        }
    }

    fn side(&mut self, prog: &Program, index: &mut FxHashMap<(String, u8), usize>) -> SideMap {
        let classes = prog
            .classes
            .iter()
            .map(|class| {
                let dims = class
                    .dims
                    .iter()
                    .map(|d| {
                        let rules = match &d.source {
                            DimSource::Rules(rules) => rules
                                .iter()
                                .map(|r| self.key(index, key_of(&r.meta, None), r.meta.label.as_ref(), Cause::Rule))
                                .collect(),
                            DimSource::Assessed(a) => {
                                vec![self.key(index, key_of(&a.meta, None), a.meta.label.as_ref(), Cause::Assessed)]
                            }
                        };
                        let max = self.key(index, format!("{} max", d.name), None, Cause::Max);
                        DimMap {
                            dim: self.dim(&d.name),
                            rules,
                            max,
                        }
                    })
                    .collect();
                let overrides = class
                    .overrides
                    .iter()
                    .map(|o| self.key(index, key_of(&o.meta, None), o.meta.label.as_ref(), Cause::Override))
                    .collect();
                ClassMap {
                    dims,
                    overrides,
                    unit_rows: vec![],
                }
            })
            .collect();
        let grades = self.key(
            index,
            key_of(&prog.grades_meta, Some("grades")),
            prog.grades_meta.label.as_ref(),
            Cause::Grades,
        );
        let total = prog
            .total_rules
            .iter()
            .map(|r| self.key(index, key_of(&r.meta, None), r.meta.label.as_ref(), Cause::Rule))
            .collect();
        SideMap { classes, grades, total }
    }

    /// A row's dimension name; `total` for the rules on the total.
    pub fn dim_name(&self, dim: usize) -> String {
        match dim {
            TOTAL_ROW => "total".into(),
            i => self.dims.get(i).cloned().unwrap_or_default(),
        }
    }
}

/// The grade a total earns by the bands alone (no override): its name.
pub fn band_for(prog: &Program, total: Num) -> &str {
    prog.bands.get(prog.band(total)).map_or("", |b| b.grade.as_str())
}

/// `sum / n` rounded half away from zero to two decimals, exactly (integer
/// arithmetic on the raw fixed-point values).
pub fn mean(sum: i128, n: u64) -> Num {
    if n == 0 {
        return Num::ZERO;
    }
    // Two decimals are 10⁴ raw units.
    let unit = i128::from(n) * 10_000;
    let q = (sum.abs() * 2 + unit) / (unit * 2);
    let q = if sum < 0 { -q } else { q };
    Num::from_raw(i64::try_from(q.saturating_mul(10_000)).unwrap_or(if sum < 0 { i64::MIN } else { i64::MAX }))
}

/// `part / whole` as a percentage rounded to one decimal: `17.5`.
pub fn percent(part: u64, whole: u64) -> Num {
    if whole == 0 {
        return Num::ZERO;
    }
    // One decimal of a percent is 10⁵ raw units; part × 100 × 10⁶ / whole.
    let unit = i128::from(whole);
    let scaled = i128::from(part) * 1000; // tenths of a percent
    let q = (scaled * 2 + unit) / (unit * 2);
    Num::from_raw(i64::try_from(q * 100_000).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_round_half_away_from_zero() {
        let n = |s: &str| i128::from(Num::parse(s).map(Num::raw).unwrap_or(0));
        assert_eq!(mean(n("-5"), 4).to_string(), "-1.25");
        assert_eq!(mean(n("10"), 3).to_string(), "3.33");
        assert_eq!(mean(n("-20"), 3).to_string(), "-6.67");
        assert_eq!(mean(n("0.005"), 1).to_string(), "0.01");
        assert_eq!(mean(0, 0).to_string(), "0");
        assert_eq!(percent(7, 40).to_string(), "17.5");
        assert_eq!(percent(1, 3).to_string(), "33.3");
        assert_eq!(percent(2, 3).to_string(), "66.7");
    }
}
