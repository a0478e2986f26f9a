//! Eval stage: evaluation as a fold. For one as-of date, the program lays
//! out a fixed number of state words per customer of each class — a counter
//! per counting rule, a sum per multiplied rule, a month mask and the
//! largest severity per month for an episode rule, the latest matching
//! assessment — into which the input stage folds every event as it is read,
//! in any order. A customer's outcome is then finished from its state alone
//! (`Evaluator::finish`), exactly as `Evaluator::evaluate` computes it from
//! stored events: no event is kept.
//!
//! Every tally is order-independent (counts, sums of same-signed terms,
//! maxima, the latest by (date, file, line)), so the result does not depend
//! on row order or on how the log is split into files and blocks.

use crate::date::{Date, Window};
use crate::input::{Event, Fold};
use crate::num::Num;
use crate::syntax::ast::Effect;

use super::{severity_of, tier, val, Evaluator};
use crate::check::program::{AssessedProg, CExpr, ClassProg, DimSource, Form, Program, RuleProg, TierProg};

/// A class whose state would need more words than this (a window of many
/// years for an episode rule) is not folded: its log is stored and
/// evaluated event by event instead.
pub(crate) const MAX_WORDS: usize = 1024;

/// The state layout of every class of a program, for one as-of date.
#[derive(Debug)]
pub(super) struct Layout<'p> {
    pub classes: Vec<ClassLayout<'p>>,
    /// Whether every class fits in `MAX_WORDS` words.
    pub foldable: bool,
}

/// One class's words: where each unit's tally is, and what an event of each
/// kind does to them.
#[derive(Debug)]
pub(super) struct ClassLayout<'p> {
    /// The state of a customer with no event.
    init: Vec<u32>,
    /// Per unit, where its words start. Units are numbered in the order
    /// `Evaluator::evaluate` visits them: each dimension's rules (or its
    /// assessment, one unit), then the rules on the total.
    at: Vec<usize>,
    /// Per unit, what finishing it needs besides its words (worked out once
    /// here, not per customer).
    finish: Vec<Finish>,
    /// Per dimension, its words and its raw score while they are all still
    /// the initial ones, when that score does not depend on the customer
    /// (no bonus for absence, no rule another can replace) and writes no
    /// ledger line: most dimensions of most customers.
    untouched_dims: Vec<Option<(std::ops::Range<usize>, Num)>>,
    /// The first unit of each dimension.
    pub dim_units: Vec<usize>,
    /// The unit of the first rule on the total.
    pub total_units: usize,
    /// The rules that replace others (`instead of`), with their units.
    pub replacers: Vec<(usize, &'p RuleProg)>,
    /// Per event kind, the steps an event of that kind takes.
    steps: Vec<Vec<Step<'p>>>,
}

/// What one event does to one unit's words, if it is in the window and
/// passes the filter.
#[derive(Debug)]
struct Step<'p> {
    at: usize,
    window: Window,
    filter: Option<&'p CExpr>,
    op: Op,
}

#[derive(Debug)]
enum Op {
    /// One more matching event (1 word, saturating).
    Count,
    /// Counts the event and adds a whole-number attribute, a multiplier (3
    /// words: the count, then a `u64` sum, both saturating; the checker keeps
    /// multipliers at 0 or more).
    Sum { slot: usize },
    /// Marks the event's calendar month and keeps the month's largest
    /// severity, capped (see `Months`).
    Month { months: Months, severity: Vec<usize> },
    /// Keeps the latest event by (date, file, line) and its value.
    Latest { after: Date, value: usize },
}

/// The months of an episode rule's window: a bit per month (`mask` words),
/// then one cell per month holding its largest severity, capped at `cap`
/// (every severity from `cap` up falls in the same tier, so nothing is lost).
#[derive(Clone, Copy, Debug)]
struct Months {
    first: i32,
    n: usize,
    cap: u32,
    /// 8-bit cells (four to a word) when `cap` fits, else 32-bit cells.
    narrow: bool,
}

impl Months {
    fn of(window: Window, tiers: &[TierProg]) -> Option<Months> {
        let first = window.first_day().month_index();
        let n = usize::try_from(i64::from(window.until.month_index()) - i64::from(first) + 1).ok()?;
        let cap = tiers
            .iter()
            .map(|t| u64::from(t.from).max(t.to.map_or(0, |to| u64::from(to) + 1)))
            .max()
            .unwrap_or(0);
        let narrow = cap <= 255;
        let cap = u32::try_from(cap).unwrap_or(u32::MAX);
        (n <= MAX_WORDS * 4).then_some(Months { first, n, cap, narrow })
    }

    fn mask_words(&self) -> usize {
        self.n.div_ceil(32)
    }

    fn words(&self) -> usize {
        self.mask_words() + if self.narrow { self.n.div_ceil(4) } else { self.n }
    }

    /// Month `m` of the window: whether an event fell in it, and its cell.
    fn get(&self, w: &[u32], m: usize) -> Option<u32> {
        let bit = w.get(m / 32).expect("a month of the window has its bit") >> (m % 32) & 1;
        if bit == 0 {
            return None;
        }
        let base = self.mask_words();
        Some(if self.narrow {
            w.get(base + m / 4).expect("a month of the window has its cell") >> (8 * (m % 4)) & 0xff
        } else {
            *w.get(base + m).expect("a month of the window has its cell")
        })
    }

    fn put(&self, w: &mut [u32], m: usize, v: u32) {
        let v = v.min(self.cap);
        *w.get_mut(m / 32).expect("a month of the window has its bit") |= 1 << (m % 32);
        let base = self.mask_words();
        if self.narrow {
            let cell = w.get_mut(base + m / 4).expect("a month of the window has its cell");
            let shift = 8 * (m % 4);
            if v > (*cell >> shift) & 0xff {
                *cell = (*cell & !(0xff << shift)) | (v << shift);
            }
        } else {
            let cell = w.get_mut(base + m).expect("a month of the window has its cell");
            *cell = (*cell).max(v);
        }
    }
}

/// What finishing one unit needs besides its words: the months of an
/// episode rule's window, and the outcome of a rule whose words are still
/// the initial ones (most rules of most customers), when that outcome does
/// not depend on the customer (it does for a bonus for absence: `since`).
#[derive(Clone, Copy, Debug)]
struct Finish {
    len: usize,
    window: Window,
    months: Option<Months>,
    untouched: Option<Option<(Num, Said)>>,
}

/// What a class's state is made of, in unit order.
#[derive(Clone, Copy)]
enum Unit<'p> {
    Rule(&'p RuleProg),
    Assessed(&'p AssessedProg),
}

impl<'p> Layout<'p> {
    pub fn new(prog: &'p Program, windows: &[Window]) -> Layout<'p> {
        let window = |i: usize| *windows.get(i).expect("a rule's window is one of the program's");
        let nkinds = prog.schema.kinds.len();
        let mut foldable = true;
        let classes = prog
            .classes
            .iter()
            .map(|class| {
                let (units, dim_units, total_units) = units(class, &prog.total_rules);
                let mut l = ClassLayout {
                    init: Vec::new(),
                    at: Vec::with_capacity(units.len()),
                    finish: Vec::with_capacity(units.len()),
                    untouched_dims: Vec::new(),
                    dim_units,
                    total_units,
                    replacers: Vec::new(),
                    steps: (0..nkinds).map(|_| Vec::new()).collect(),
                };
                for (u, unit) in units.into_iter().enumerate() {
                    let at = l.init.len();
                    l.at.push(at);
                    match unit {
                        Unit::Rule(r) => {
                            if !r.replaces.is_empty() {
                                l.replacers.push((u, r));
                            }
                            let w = window(r.window);
                            let months = match &r.form {
                                Form::Episodes { tiers, .. } => Months::of(w, tiers),
                                _ => None,
                            };
                            let words = match &r.form {
                                Form::PerEvent {
                                    multiplier: Some(_), ..
                                } => 3,
                                Form::PerEvent { multiplier: None, .. }
                                | Form::Once { .. }
                                | Form::Absence { .. }
                                | Form::Count { .. } => 1,
                                Form::Episodes { .. } => match months {
                                    Some(m) => m.words(),
                                    None => {
                                        foldable = false;
                                        0
                                    }
                                },
                            };
                            l.init.resize(at + words, 0);
                            let untouched = match (&r.form, months) {
                                (Form::Absence { .. }, _) | (Form::Episodes { .. }, None) => None,
                                _ => Some(finish(r, &vec![0; words], None, w, months)),
                            };
                            l.finish.push(Finish {
                                len: words,
                                window: w,
                                months,
                                untouched,
                            });
                            for (k, steps) in l.steps.iter_mut().enumerate() {
                                if r.kinds.get(k).copied().unwrap_or(false) {
                                    if let Some(op) = op(r, k, w) {
                                        let filter = r.filter.get(k).and_then(Option::as_ref);
                                        steps.push(Step {
                                            at,
                                            window: w,
                                            filter,
                                            op,
                                        });
                                    }
                                }
                            }
                        }
                        Unit::Assessed(a) => {
                            // Date after the window's start (0: none yet), file, line, value (2 words).
                            l.init.resize(at + 5, 0);
                            let w = window(0);
                            l.finish.push(Finish {
                                len: 5,
                                window: w,
                                months: None,
                                untouched: None,
                            });
                            if let Some(steps) = l.steps.get_mut(usize::from(a.kind)) {
                                steps.push(Step {
                                    at,
                                    window: w,
                                    filter: a.filter.as_ref(),
                                    op: Op::Latest {
                                        after: w.after,
                                        value: a.value,
                                    },
                                });
                            }
                        }
                    }
                }
                foldable &= l.init.len() <= MAX_WORDS;
                l.untouched_dims = untouched_dims(class, &l);
                l
            })
            .collect();
        Layout { classes, foldable }
    }
}

/// Each dimension's words and raw score while untouched (`ClassLayout::untouched_dims`).
fn untouched_dims(class: &ClassProg, l: &ClassLayout<'_>) -> Vec<Option<(std::ops::Range<usize>, Num)>> {
    let replaced: Vec<u16> = l
        .replacers
        .iter()
        .flat_map(|(_, r)| r.replaces.iter().copied())
        .collect();
    class
        .dims
        .iter()
        .zip(&l.dim_units)
        .map(|(d, &first)| {
            let DimSource::Rules(rules) = &d.source else {
                return None;
            };
            let mut raw = d.max;
            for (i, r) in rules.iter().enumerate() {
                match l.finish.get(first + i)?.untouched {
                    Some(Some((points, Said::Nothing))) if !r.ids.iter().any(|id| replaced.contains(id)) => {
                        raw = raw.checked_add(points)?;
                    }
                    _ => return None,
                }
            }
            // A dimension's units are one run of words.
            let from = l.at.get(first).copied().unwrap_or(l.init.len());
            let to = match rules.len() {
                0 => from,
                n => l.at.get(first + n - 1)? + l.finish.get(first + n - 1)?.len,
            };
            Some((from..to, raw))
        })
        .collect()
}

/// A class's units in evaluation order, the first unit of each dimension
/// and the first unit of the rules on the total.
fn units<'p>(class: &'p ClassProg, total: &'p [RuleProg]) -> (Vec<Unit<'p>>, Vec<usize>, usize) {
    let mut units = Vec::new();
    let mut dim_units = Vec::with_capacity(class.dims.len());
    for d in &class.dims {
        dim_units.push(units.len());
        match &d.source {
            DimSource::Rules(rules) => units.extend(rules.iter().map(Unit::Rule)),
            DimSource::Assessed(a) => units.push(Unit::Assessed(a)),
        }
    }
    let total_units = units.len();
    units.extend(total.iter().map(Unit::Rule));
    (units, dim_units, total_units)
}

/// What an event of kind `k` does to rule `r`'s words.
fn op(r: &RuleProg, k: usize, w: Window) -> Option<Op> {
    let slot = |slots: &Vec<usize>| *slots.get(k).expect("a per-kind slot list covers every kind");
    Some(match &r.form {
        Form::PerEvent {
            multiplier: Some(slots),
            ..
        } => Op::Sum { slot: slot(slots) },
        Form::PerEvent { multiplier: None, .. } | Form::Once { .. } | Form::Absence { .. } | Form::Count { .. } => {
            Op::Count
        }
        Form::Episodes { severity, tiers } => Op::Month {
            months: Months::of(w, tiers)?,
            severity: severity.iter().flatten().map(slot).collect(),
        },
    })
}

impl ClassLayout<'_> {
    /// The state of a customer with no event.
    pub fn initial(&self) -> &[u32] {
        &self.init
    }

    /// The number of state words.
    pub fn words_len(&self) -> usize {
        self.init.len()
    }

    /// How many units the class has: its rules and assessed dimensions.
    pub fn units(&self) -> usize {
        self.at.len()
    }

    /// The words of unit `u`.
    pub fn words<'s>(&self, state: &'s [u32], u: usize) -> &'s [u32] {
        let at = *self.at.get(u).expect("a unit of the class");
        state.get(at..).expect("a unit's words are in the state")
    }
}

impl Fold for Evaluator<'_> {
    fn init(&self, _id: &[u8], class: Option<u16>, words: &mut Vec<u32>) {
        words.extend_from_slice(&self.layout_of(class).init);
    }

    fn max_words(&self) -> usize {
        self.layout.classes.iter().map(|c| c.init.len()).max().unwrap_or(0)
    }

    fn fold(&self, class: Option<u16>, words: &mut [u32], e: &Event, vals: &[i64]) {
        let texts = &self.prog.schema.texts;
        let layout = self.layout_of(class);
        let state = words
            .get_mut(..layout.init.len())
            .expect("a state has as many words as its class's layout");
        let steps = layout
            .steps
            .get(usize::from(e.kind))
            .expect("every kind of the schema has its steps");
        for step in steps {
            if !step.window.contains(e.date) || step.filter.is_some_and(|f| !f.holds(&|s| val(vals, e, s), texts)) {
                continue;
            }
            let w = state.get_mut(step.at..).expect("a unit's words are in the state");
            match &step.op {
                Op::Count => {
                    let n = w.first_mut().expect("a counter has a word");
                    *n = n.saturating_add(1);
                }
                Op::Sum { slot } => {
                    let n = Num::from_raw(val(vals, e, *slot))
                        .as_int()
                        .and_then(|n| u64::try_from(n).ok())
                        .expect("a multiplier is a whole number of 0 or more (checked)");
                    let (count, sum) = w.split_first_mut().expect("a sum has three words");
                    *count = count.saturating_add(1);
                    write_u64(sum, read_u64(sum).saturating_add(n));
                }
                Op::Month { months, severity } => {
                    let v = severity_of(vals, e, severity.iter().copied());
                    let v = u32::try_from(v.max(0)).unwrap_or(u32::MAX);
                    let m = usize::try_from(e.date.month_index() - months.first)
                        .expect("an event in the window is in one of its months");
                    months.put(w, m, v);
                }
                Op::Latest { after, value } => {
                    let day =
                        u32::try_from(e.date.days() - after.days()).expect("an event in the window is after its start");
                    let key = (day, u32::from(e.file), e.line);
                    let [d, f, l, lo, hi, ..] = w else {
                        unreachable!("an assessment has five words")
                    };
                    if key > (*d, *f, *l) {
                        let v = val(vals, e, *value);
                        (*d, *f, *l) = key;
                        (*lo, *hi) = (v as u32, (v >> 32) as u32);
                    }
                }
            }
        }
    }
}

fn read_u64(w: &[u32]) -> u64 {
    match w {
        [lo, hi, ..] => u64::from(*lo) | u64::from(*hi) << 32,
        _ => unreachable!("a sum has two words"),
    }
}

fn write_u64(w: &mut [u32], v: u64) {
    if let [lo, hi, ..] = w {
        (*lo, *hi) = (v as u32, (v >> 32) as u32);
    }
}

/// The ledger line a rule's state stands for: whether the stored path would
/// have written any line for the rule, and how. A folded ledger has one line
/// per rule carrying the sum of its points and no events: enough to compare
/// two rulebooks clause by clause (`diff`), not to explain (`explain` reads
/// the events).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Said {
    /// No line: the rule did not apply (a bonus withheld says so below).
    Nothing,
    Line {
        status: super::Status,
        tier: Option<usize>,
    },
}

impl ClassLayout<'_> {
    /// Dimension `d`'s raw score when its words are all still the initial
    /// ones and that score is the same for every customer (no ledger line).
    pub(super) fn untouched_dim(&self, state: &[u32], d: usize) -> Option<Num> {
        let (words, raw) = self.untouched_dims.get(d)?.as_ref()?;
        let w = state.get(words.clone()).expect("a dimension's words are in the state");
        w.iter().all(|&x| x == 0).then_some(*raw)
    }

    /// The points of rule `r`, unit `u` of the class (signed), from the
    /// customer's state, and the line the stored path would write; `None`
    /// when the points cannot be held exactly. The same points as
    /// `Evaluator::rule`.
    pub(super) fn finish_rule(
        &self,
        r: &RuleProg,
        state: &[u32],
        u: usize,
        since: Option<Date>,
    ) -> Option<(Num, Said)> {
        let f = self.finish.get(u).expect("every unit has its finish");
        let at = *self.at.get(u).expect("a unit of the class");
        let w = state.get(at..at + f.len).expect("a unit's words are in the state");
        match f.untouched {
            Some(done) if w.iter().all(|&x| x == 0) => done,
            _ => finish(r, w, since, f.window, f.months),
        }
    }
}

/// The points of rule `r` (signed) from its words `w`, and the line the
/// stored path would write; `None` when the points cannot be held exactly.
/// `window` is the rule's, `months` its months when it counts episodes.
fn finish(r: &RuleProg, w: &[u32], since: Option<Date>, window: Window, months: Option<Months>) -> Option<(Num, Said)> {
    use super::Status;
    let sign = |p: Num| if r.effect == Effect::Deduct { -p } else { p };
    let count = || *w.first().expect("a counter has a word");
    let applied = |tier: Option<usize>| Said::Line {
        status: Status::Applied,
        tier,
    };
    let when = |n: u64| if n > 0 { applied(None) } else { Said::Nothing };
    // `n` events (or `n` in all) of `points` each, signed: every term has
    // the same sign, so the sum can be held iff the total can.
    let times = |points: Num, n: u64| -> Option<Num> {
        let total = i128::from(points.raw()) * i128::from(n);
        let total = if r.effect == Effect::Deduct { -total } else { total };
        i64::try_from(total).ok().map(Num::from_raw)
    };
    Some(match &r.form {
        Form::PerEvent {
            points,
            multiplier: Some(_),
        } => match read_u64(w.get(1..).expect("a sum has three words")) {
            u64::MAX => return None,
            n => (times(*points, n)?, when(u64::from(count()))),
        },
        Form::PerEvent {
            points,
            multiplier: None,
        } => (times(*points, u64::from(count()))?, when(u64::from(count()))),
        Form::Once { points, at_least } => {
            if count() >= (*at_least).max(1) {
                (sign(*points), applied(None))
            } else {
                (Num::ZERO, Said::Nothing)
            }
        }
        Form::Absence { points } => {
            let first = window.first_day();
            if count() > 0 {
                let withheld = Said::Line {
                    status: Status::Withheld,
                    tier: None,
                };
                (Num::ZERO, withheld)
            } else if since.is_some_and(|s| s > first) {
                (Num::ZERO, applied(None))
            } else {
                (sign(*points), applied(None))
            }
        }
        Form::Count { tiers } => match tier(tiers, count()) {
            Some((i, t)) => (sign(t.points), applied(Some(i))),
            None => (Num::ZERO, Said::Nothing),
        },
        Form::Episodes { severity, tiers } => {
            let months = months.expect("a folded episode rule's months fit");
            let by_length = severity.iter().any(Option::is_none);
            let (mut sum, mut said) = (Num::ZERO, Said::Nothing);
            let mut m = 0;
            while m < months.n {
                let Some(v) = months.get(w, m) else {
                    m += 1;
                    continue;
                };
                // The run: consecutive months with an event.
                let (mut length, mut largest) = (1, v);
                while m + length < months.n {
                    let Some(v) = months.get(w, m + length) else { break };
                    largest = largest.max(v);
                    length += 1;
                }
                let length = u32::try_from(length).expect("a window's months are few");
                let sev = if by_length { length.max(largest) } else { largest };
                if let Some((_, t)) = tier(tiers, sev) {
                    sum = sum.checked_add(sign(t.points))?;
                    said = applied(None);
                }
                m += length as usize;
            }
            (sum, said)
        }
    })
}

impl Evaluator<'_> {
    /// An assessed dimension's latest value, from its words.
    pub(super) fn finish_assessed(w: &[u32]) -> Option<Num> {
        match w {
            [0, ..] => None,
            [_, _, _, lo, hi, ..] => Some(Num::from_raw((u64::from(*lo) | u64::from(*hi) << 32) as i64)),
            _ => unreachable!("an assessment has five words"),
        }
    }
}
