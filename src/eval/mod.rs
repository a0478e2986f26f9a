//! Eval stage: a compiled `Program` × one customer's events → scores, grade
//! and, on request, the points ledger that explains them. Evaluation is
//! total: every rule is one pass over the customer's events.

pub mod expr;
pub(crate) mod fold;

use crate::check::program::{DimSource, Form, RuleProg, TierProg, TOTAL};
pub use crate::check::Program;
use crate::date::{Date, Window};
use crate::input::{Customer, Event, EventLog};
use crate::num::Num;
use crate::syntax::ast::Effect;

/// A program ready for one as-of date: every window resolved.
pub struct Evaluator<'p> {
    pub prog: &'p Program,
    pub as_of: Date,
    windows: Vec<Window>,
    /// Each class's state words, for evaluation as a fold.
    layout: fold::Layout<'p>,
}

/// Where a customer's facts come from: its stored events, or the state its
/// events were folded into (see `fold`).
#[derive(Clone, Copy)]
enum Facts<'a> {
    Events(&'a [Event], &'a [i64]),
    State(&'a [u32]),
}

/// A result too large to be held exactly: which rule of which dimension.
/// Never replaced by a clamped number, which would be a wrong score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overflow {
    /// The dimension, or `total` for a rule on the total.
    pub dimension: String,
    /// The rule's clause id (`S6`), label, or position (`rule 3`).
    pub rule: String,
}

impl Overflow {
    /// Rule `i` of `dimension`, named by its clause, else its label, else its place.
    fn at(dimension: &str, r: &RuleProg, i: usize) -> Overflow {
        Overflow {
            dimension: dimension.to_string(),
            rule: match (&r.meta.clause, &r.meta.label) {
                (Some(c), _) => format!("rule {c}"),
                (None, Some(l)) => format!("rule \"{l}\""),
                (None, None) => format!("rule {}", i + 1),
            },
        }
    }
}

impl std::fmt::Display for Overflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of dimension `{}` adds up to more points than can be held exactly (about 9.2 million million); check the log's quantities",
            self.rule, self.dimension
        )
    }
}

/// One customer's result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub class: u16,
    pub dims: Vec<DimOutcome>,
    /// The sum of the dimension scores plus the points of the rules on the
    /// total, clamped to [0, the class's full marks].
    pub total: Num,
    /// The signed points of the rules on the total (`rules on total`).
    pub adjust: Num,
    /// Every rule on the total that gave or took points; empty unless a ledger was asked for.
    pub total_ledger: Vec<Line>,
    /// Index into `Program::bands`.
    pub grade: usize,
    /// The override (index into the class's overrides) that set the grade, if any.
    pub by_override: Option<usize>,
    pub flags: Vec<String>,
    /// When `Some` as it is scored into (`*_into`), each rule's signed
    /// points by unit of the class: each dimension's rules in order (an
    /// assessed dimension is one unit, its value), then the rules on the
    /// total. A rule that gave nothing (withheld, replaced, not applied)
    /// has 0, and so has every rule of a dimension left at its untouched
    /// score. What the points of a ledger's lines add up to, clause by
    /// clause, without a line made: `diff`'s impact pass compares these.
    pub unit_points: Option<Vec<Num>>,
    /// What the last customers scored into this `Outcome` had beyond this
    /// one (dimensions of a larger class, more flags), kept for the next:
    /// customers of different classes in turn then allocate nothing.
    spare: Spare,
}

/// An `Outcome`'s room kept between customers; no part of the result, so
/// any two are equal, and a clone starts without.
#[derive(Default)]
struct Spare {
    dims: Vec<DimOutcome>,
    flags: Vec<String>,
}

impl Clone for Spare {
    fn clone(&self) -> Spare {
        Spare::default()
    }
}

impl PartialEq for Spare {
    fn eq(&self, _: &Spare) -> bool {
        true
    }
}

impl std::fmt::Debug for Spare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("..")
    }
}

impl Outcome {
    /// An outcome to score into (`*_into`) that keeps each rule's points
    /// (`unit_points`) for the customers scored into it.
    pub fn with_unit_points() -> Outcome {
        Outcome {
            unit_points: Some(Vec::new()),
            ..Outcome::default()
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DimOutcome {
    /// Full marks plus every rule's points, before the clamp.
    pub raw: Num,
    /// `raw` clamped to [0, max].
    pub score: Num,
    /// Every rule that gave or took points; empty unless a ledger was asked for.
    pub ledger: Vec<Line>,
}

/// One rule's contribution to a dimension.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Index of the rule in its dimension; `None` for an assessed value.
    pub rule: Option<usize>,
    /// Signed: negative deducts.
    pub points: Num,
    /// The events behind it, as indices into the customer's events.
    pub events: Vec<usize>,
    pub note: String,
    /// For a tiered rule: the index of the tier that gave the points.
    pub tier: Option<usize>,
    pub status: Status,
}

/// Whether a ledger line's rule applied, or why it did not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Applied,
    /// A bonus for the absence of events that the line's events blocked.
    Withheld,
    /// The rule gave nothing: the rule with `instead of` named in the note replaced it.
    Replaced,
}

impl<'p> Evaluator<'p> {
    pub fn new(prog: &'p Program, as_of: Date) -> Self {
        let windows: Vec<Window> = prog.windows.iter().map(|&m| Window::months_to(as_of, m)).collect();
        let layout = fold::Layout::new(prog, &windows);
        Evaluator {
            prog,
            as_of,
            windows,
            layout,
        }
    }

    /// Whether a log can be folded for this program (`input::fold_within`)
    /// instead of stored: every class's state fits in a few hundred words.
    pub fn foldable(&self) -> bool {
        self.layout.foldable
    }

    /// The state layout of a customer with this roster class.
    fn layout_of(&self, class: Option<u16>) -> &fold::ClassLayout<'p> {
        self.layout
            .classes
            .get(usize::from(self.class_ix(class)))
            .expect("class_ix gives a class of the program")
    }

    fn window(&self, i: usize) -> Window {
        self.windows.get(i).copied().unwrap_or(Window {
            after: self.as_of,
            until: self.as_of,
        })
    }

    /// The customer's class: its roster class, else the default.
    pub fn class_of(&self, c: &Customer) -> u16 {
        self.class_ix(c.class)
    }

    fn class_ix(&self, class: Option<u16>) -> u16 {
        class
            .filter(|&k| usize::from(k) < self.prog.classes.len())
            .unwrap_or(self.prog.default_class)
    }

    /// Customer `i` of a log, scored; `None` if the log has no such customer.
    /// A folded log (see `input::fold_within`) is finished from each
    /// customer's state and has no ledger to give.
    pub fn evaluate_in(&self, log: &EventLog, i: usize, ledger: bool) -> Option<Result<Outcome, Overflow>> {
        self.evaluate_with(log, i, log.state_of(i), ledger)
    }

    /// `evaluate_in` with customer `i`'s state given (from
    /// `EventLog::gather`; `None` for a log that stores events).
    pub fn evaluate_with(
        &self,
        log: &EventLog,
        i: usize,
        state: Option<&[u32]>,
        ledger: bool,
    ) -> Option<Result<Outcome, Overflow>> {
        let mut out = Outcome::default();
        Some(self.evaluate_with_into(log, i, state, ledger, &mut out)?.map(|()| out))
    }

    /// `evaluate_with`, written over `out` (see `outcome_into`): scoring a
    /// run of customers into one `Outcome` allocates next to nothing.
    pub fn evaluate_with_into(
        &self,
        log: &EventLog,
        i: usize,
        state: Option<&[u32]>,
        ledger: bool,
        out: &mut Outcome,
    ) -> Option<Result<(), Overflow>> {
        let c = log.customers.get(i)?;
        Some(match state {
            Some(state) => {
                assert!(
                    !ledger,
                    "a ledger needs the events: explaining loads them (input::load_within)"
                );
                // No event was folded into this customer: it kept no state of its own.
                let state = match state {
                    [] => self.layout_of(c.class).initial(),
                    _ => state,
                };
                self.finish_into(c, state, false, out)
            }
            None => self.evaluate_into(c, log.events_of(i), &log.vals, ledger, out),
        })
    }

    /// Scores one customer. `vals` is the log's value arena; with `ledger`,
    /// every dimension lists the rules that fired. Points that cannot be
    /// added up exactly are an error, never a clamped number.
    pub fn evaluate(&self, c: &Customer, events: &[Event], vals: &[i64], ledger: bool) -> Result<Outcome, Overflow> {
        self.outcome(c, Facts::Events(events, vals), ledger)
    }

    /// Scores one customer from the state its events were folded into
    /// (`input::Fold`): the same outcome as `evaluate`, without a ledger.
    /// With `ledger`, each rule that gave or took points has one line with
    /// their sum and no events (what `diff` compares), never an explanation.
    pub fn finish(&self, c: &Customer, state: &[u32], ledger: bool) -> Result<Outcome, Overflow> {
        self.outcome(c, Facts::State(state), ledger)
    }

    /// `finish`, written over `out` (see `outcome_into`).
    pub fn finish_into(&self, c: &Customer, state: &[u32], ledger: bool, out: &mut Outcome) -> Result<(), Overflow> {
        self.outcome_into(c, Facts::State(state), ledger, out)
    }

    /// `evaluate`, written over `out` (see `outcome_into`).
    pub fn evaluate_into(
        &self,
        c: &Customer,
        events: &[Event],
        vals: &[i64],
        ledger: bool,
        out: &mut Outcome,
    ) -> Result<(), Overflow> {
        self.outcome_into(c, Facts::Events(events, vals), ledger, out)
    }

    /// How many state words a customer of this class (an index into the
    /// program's classes) folds into.
    pub fn state_words(&self, class: u16) -> usize {
        self.layout_of(Some(class)).words_len()
    }

    fn outcome(&self, c: &Customer, facts: Facts<'_>, ledger: bool) -> Result<Outcome, Overflow> {
        let mut out = Outcome::default();
        self.outcome_into(c, facts, ledger, &mut out)?;
        Ok(out)
    }

    /// `outcome`, written over `out`: its vectors (dimensions, ledgers,
    /// flags) are reused, so that scoring customer after customer into one
    /// `Outcome` allocates next to nothing. On `Err`, `out` means nothing.
    fn outcome_into(&self, c: &Customer, facts: Facts<'_>, ledger: bool, out: &mut Outcome) -> Result<(), Overflow> {
        let class_ix = self.class_of(c);
        let class = self
            .prog
            .classes
            .get(usize::from(class_ix))
            .expect("class_of gives a class of the program");
        let layout = self
            .layout
            .classes
            .get(usize::from(class_ix))
            .expect("every class has a layout");
        let Outcome {
            dims,
            total_ledger,
            flags,
            spare,
            unit_points,
            ..
        } = out;
        if let Some(p) = unit_points.as_mut() {
            p.clear();
            p.resize(layout.units(), Num::ZERO);
        }
        // Records unit `u`'s points when they are asked for.
        let mut record = |u: usize, points: Num| {
            if let Some(p) = unit_points.as_mut() {
                *p.get_mut(u).expect("a unit of the class") = points;
            }
        };
        let mut flagged = 0;
        let period = self.window(0);
        let replaced = if class.replacing {
            self.replacements(layout, c.since, facts)
        } else {
            vec![]
        };
        // A rule replaced for this customer gives nothing; the ledger says by which rule.
        // `None`: points too large to hold (an `Option` stays in registers on this hot path).
        let run = |r: &RuleProg, lines: &mut Vec<Line>, i: usize, unit: usize| -> Option<Num> {
            let before = lines.len();
            let points = match replaced.iter().find(|(id, _)| r.ids.contains(id)) {
                Some((_, by)) => {
                    if ledger {
                        lines.push(Line {
                            rule: None,
                            points: Num::ZERO,
                            events: vec![],
                            note: by.to_string(),
                            tier: None,
                            status: Status::Replaced,
                        });
                    }
                    Num::ZERO
                }
                None => self.points(r, layout, unit, c.since, facts, lines, ledger)?,
            };
            for l in lines.get_mut(before..).expect("the rule's lines follow `before`") {
                l.rule = Some(i);
            }
            Some(points)
        };
        // Each dimension written over the last customer's (its ledger's room
        // kept); any beyond this class's are cut off after.
        let mut scored = 0;
        for (d, &first_unit) in class.dims.iter().zip(&layout.dim_units) {
            if dims.len() == scored {
                dims.push(spare.dims.pop().unwrap_or_default());
            }
            let dim = dims.get_mut(scored).expect("pushed above when missing");
            scored += 1;
            let lines = &mut dim.ledger;
            lines.clear();
            let mut raw = d.max;
            match &d.source {
                DimSource::Rules(rules) => {
                    let untouched = match facts {
                        Facts::State(state) => layout.untouched_dim(state, scored - 1),
                        Facts::Events(..) => None,
                    };
                    if let Some(untouched) = untouched {
                        raw = untouched;
                    }
                    for (i, r) in rules.iter().enumerate().filter(|_| untouched.is_none()) {
                        raw = run(r, lines, i, first_unit + i)
                            .inspect(|&points| record(first_unit + i, points))
                            .and_then(|points| raw.checked_add(points))
                            .ok_or_else(|| Overflow::at(&d.name, r, i))?;
                    }
                }
                DimSource::Assessed(a) => {
                    let latest = match facts {
                        Facts::Events(events, vals) => events
                            .iter()
                            .enumerate()
                            .filter(|(_, e)| e.kind == a.kind && period.contains(e.date))
                            .filter(|(_, e)| {
                                a.filter
                                    .as_ref()
                                    .is_none_or(|f| f.holds(&|s| val(vals, e, s), &self.prog.schema.texts))
                            })
                            .max_by_key(|(_, e)| (e.date, e.file, e.line))
                            .map(|(i, e)| (Num::from_raw(val(vals, e, a.value)), Some((i, e.date)))),
                        Facts::State(state) => {
                            Self::finish_assessed(layout.words(state, first_unit)).map(|v| (v, None))
                        }
                    };
                    raw = match latest {
                        Some((v, at)) => {
                            record(first_unit, v);
                            if ledger {
                                // A folded ledger knows the value, not the event.
                                let (events, note) = match at {
                                    Some((i, date)) => (vec![i], format!("assessed {v} on {date}")),
                                    None => (vec![], String::new()),
                                };
                                lines.push(Line {
                                    rule: None,
                                    points: v,
                                    events,
                                    note,
                                    tier: None,
                                    status: Status::Applied,
                                });
                            }
                            v
                        }
                        None => {
                            flag(
                                flags,
                                &mut spare.flags,
                                &mut flagged,
                                format_args!("not assessed: {}", d.name),
                            );
                            if ledger {
                                lines.push(Line {
                                    rule: None,
                                    points: Num::ZERO,
                                    events: vec![],
                                    note: "no assessment in the period".into(),
                                    tier: None,
                                    status: Status::Applied,
                                });
                            }
                            Num::ZERO
                        }
                    };
                }
            }
            dim.raw = raw;
            dim.score = raw.clamp_to(Num::ZERO, d.max);
        }
        if dims.len() > scored {
            spare.dims.extend(dims.drain(scored..));
        }
        if flags.len() > flagged {
            spare.flags.extend(flags.drain(flagged..));
        }
        // Each score is within its full marks, which the checker keeps small: no overflow.
        let sum: Num = dims.iter().map(|d| d.score).sum();
        total_ledger.clear();
        let mut adjust = Num::ZERO;
        for (i, r) in self.prog.total_rules.iter().enumerate() {
            // The sum of scores is small (checked), so only `adjust` can be too large.
            adjust = run(r, total_ledger, i, layout.total_units + i)
                .inspect(|&points| record(layout.total_units + i, points))
                .and_then(|points| adjust.checked_add(points))
                .filter(|a| a.checked_add(sum).is_some())
                .ok_or_else(|| Overflow::at("total", r, i))?;
        }
        let total = (sum + adjust).clamp_to(Num::ZERO, class.full);
        let slot = |s: usize| {
            if s == TOTAL {
                total.raw()
            } else {
                dims.get(s)
                    .expect("a compiled slot is a dimension of the class")
                    .score
                    .raw()
            }
        };
        let by_override = class
            .overrides
            .iter()
            .position(|o| o.when.holds(&slot, &self.prog.schema.texts));
        let grade = match by_override.and_then(|i| class.overrides.get(i)) {
            Some(o) => o.band,
            None => self.prog.band(total),
        };
        out.class = class_ix;
        out.total = total;
        out.adjust = adjust;
        out.grade = grade;
        out.by_override = by_override;
        Ok(())
    }

    /// The clauses replaced for this customer, each with the clause (or
    /// label) of the rule that replaces it: every rule with `instead of`
    /// that gives points replaces the rules it names.
    fn replacements(
        &self,
        layout: &fold::ClassLayout<'p>,
        since: Option<Date>,
        facts: Facts<'_>,
    ) -> Vec<(u16, &'p str)> {
        let mut out = Vec::new();
        for &(unit, r) in &layout.replacers {
            // Points too large to hold are not zero: the rule replaces (and its overflow is reported when it runs).
            if self.points(r, layout, unit, since, facts, &mut Vec::new(), false) != Some(Num::ZERO) {
                let by = r.meta.clause.as_deref().or(r.meta.label.as_deref()).unwrap_or_default();
                out.extend(r.replaces.iter().map(|&id| (id, by)));
            }
        }
        out
    }

    /// The points of one rule (signed), unit `unit` of its class, from the
    /// customer's events (with its ledger lines) or from its folded state.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn points(
        &self,
        r: &RuleProg,
        layout: &fold::ClassLayout<'_>,
        unit: usize,
        since: Option<Date>,
        facts: Facts<'_>,
        lines: &mut Vec<Line>,
        ledger: bool,
    ) -> Option<Num> {
        match facts {
            Facts::Events(events, vals) => self.rule(r, since, events, vals, lines, ledger),
            Facts::State(state) => {
                let (points, said) = layout.finish_rule(r, state, unit, since)?;
                if let (true, fold::Said::Line { status, tier }) = (ledger, said) {
                    lines.push(Line {
                        rule: None,
                        points,
                        events: vec![],
                        note: String::new(),
                        tier,
                        status,
                    });
                }
                Some(points)
            }
        }
    }

    /// The points of one rule (signed), and its ledger lines; `None` when
    /// they cannot be held exactly. Out of line: a folded log's customers,
    /// nearly all of them, are finished from their words instead.
    #[inline(never)]
    fn rule(
        &self,
        r: &RuleProg,
        since: Option<Date>,
        events: &[Event],
        vals: &[i64],
        lines: &mut Vec<Line>,
        ledger: bool,
    ) -> Option<Num> {
        let window = self.window(r.window);
        let texts = &self.prog.schema.texts;
        let matching = events.iter().enumerate().filter(|(_, e)| {
            r.kinds.get(usize::from(e.kind)).copied().unwrap_or(false)
                && window.contains(e.date)
                && r.filter
                    .get(usize::from(e.kind))
                    .and_then(Option::as_ref)
                    .is_none_or(|f| f.holds(&|s| val(vals, e, s), texts))
        });
        // Points are positive (checked), so their negation is exact.
        let sign = |p: Num| if r.effect == Effect::Deduct { -p } else { p };
        let mut push = |points: Num, events: Vec<usize>, note: String, tier: Option<usize>| {
            let status = Status::Applied;
            lines.push(Line {
                rule: None,
                points,
                events,
                note,
                tier,
                status,
            });
            points
        };
        Some(match &r.form {
            Form::PerEvent { points, multiplier } => {
                let mut sum = Num::ZERO;
                for (i, e) in matching {
                    let p = match multiplier.as_ref().and_then(|m| m.get(usize::from(e.kind))) {
                        Some(&slot) => {
                            let n = Num::from_raw(val(vals, e, slot))
                                .as_int()
                                .expect("a multiplier is an int attribute (checked)");
                            let p = points.checked_times(n)?;
                            let p = if r.effect == Effect::Deduct {
                                p.checked_neg()?
                            } else {
                                p
                            };
                            sum = sum.checked_add(p)?;
                            if ledger {
                                push(p, vec![i], format!("{points} × {n}"), None);
                            }
                            continue;
                        }
                        None => *points,
                    };
                    sum = sum.checked_add(sign(p))?;
                    if ledger {
                        push(sign(p), vec![i], String::new(), None);
                    }
                }
                sum
            }
            Form::Once { points, at_least } => {
                let enough = |n: usize| u32::try_from(n).unwrap_or(u32::MAX) >= (*at_least).max(1);
                if !ledger {
                    return Some(if enough(matching.count()) {
                        sign(*points)
                    } else {
                        Num::ZERO
                    });
                }
                let used: Vec<usize> = matching.map(|(i, _)| i).collect();
                if !enough(used.len()) {
                    return Some(Num::ZERO);
                }
                let n = used.len();
                push(sign(*points), used, format!("once, {n} event{}", plural(n)), None)
            }
            Form::Absence { points } => {
                if matching.clone().next().is_some() {
                    if ledger {
                        // A withheld bonus: the events that blocked it.
                        let used: Vec<usize> = matching.map(|(i, _)| i).collect();
                        let n = used.len();
                        let note = format!("{n} event{} in {}..{}", plural(n), window.first_day(), window.until);
                        push(Num::ZERO, used, note, None);
                        if let Some(l) = lines.last_mut() {
                            l.status = Status::Withheld;
                        }
                    }
                    return Some(Num::ZERO);
                }
                let first = window.first_day();
                match since {
                    Some(s) if s > first => {
                        if ledger {
                            push(
                                Num::ZERO,
                                vec![],
                                format!("not applied: history starts {s}, after the window's first day {first}"),
                                None,
                            );
                        }
                        Num::ZERO
                    }
                    _ if ledger => push(
                        sign(*points),
                        vec![],
                        format!("none in {first}..{}", window.until),
                        None,
                    ),
                    _ => sign(*points),
                }
            }
            Form::Count { tiers } => {
                if !ledger {
                    let n = u32::try_from(matching.count()).unwrap_or(u32::MAX);
                    return Some(tier(tiers, n).map_or(Num::ZERO, |(_, t)| sign(t.points)));
                }
                let used: Vec<usize> = matching.map(|(i, _)| i).collect();
                let n = u32::try_from(used.len()).unwrap_or(u32::MAX);
                match tier(tiers, n) {
                    Some((ti, t)) => push(
                        sign(t.points),
                        used,
                        format!("{n} event{} → tier {}", plural(n as usize), show_tier(t)),
                        Some(ti),
                    ),
                    None => Num::ZERO,
                }
            }
            Form::Episodes { severity, tiers } => {
                // Each matching event: its calendar month and the largest of its severity attributes.
                let mut months: Vec<(i32, i64, usize)> = matching
                    .map(|(i, e)| {
                        let v = severity_of(
                            vals,
                            e,
                            severity
                                .iter()
                                .filter_map(|s| s.as_ref().and_then(|slots| slots.get(usize::from(e.kind))).copied()),
                        );
                        (e.date.month_index(), v, i)
                    })
                    .collect();
                months.sort_unstable();
                let by_length = severity.iter().any(Option::is_none);
                let mut sum = Num::ZERO;
                let mut start = 0;
                while let Some(&(first, _, _)) = months.get(start) {
                    // The run: consecutive calendar months (several events may share a month).
                    let (mut end, mut last) = (start + 1, first);
                    while let Some(&(m, _, _)) = months.get(end) {
                        if m != last && m != last + 1 {
                            break;
                        }
                        last = m;
                        end += 1;
                    }
                    let run = months.get(start..end).expect("start < end <= months.len()");
                    let length = i64::from(last - first + 1);
                    let largest = run.iter().map(|&(_, v, _)| v).max().unwrap_or(0);
                    let sev = if by_length { length.max(largest) } else { largest };
                    let sev = u32::try_from(sev.max(0)).unwrap_or(u32::MAX);
                    if let Some((ti, t)) = tier(tiers, sev) {
                        sum = sum.checked_add(sign(t.points))?;
                        if ledger {
                            let used = run.iter().map(|&(_, _, i)| i).collect();
                            let note = format!(
                                "episode {}..{} ({length} month{}), severity {sev} → tier {}",
                                month(first),
                                month(last),
                                plural(length as usize),
                                show_tier(t)
                            );
                            push(sign(t.points), used, note, Some(ti));
                        }
                    }
                    start = end;
                }
                sum
            }
        })
    }
}

/// An event's severity: the largest of its severity attributes (`slots`), 0 with none.
fn severity_of(vals: &[i64], e: &Event, slots: impl Iterator<Item = usize>) -> i64 {
    slots
        .map(|slot| {
            Num::from_raw(val(vals, e, slot))
                .as_int()
                .expect("a severity is an int attribute (checked)")
        })
        .max()
        .unwrap_or(0)
}

fn val(vals: &[i64], e: &Event, slot: usize) -> i64 {
    vals.get(e.vals as usize + slot)
        .copied()
        .expect("an event's values are in the log's arena")
}

/// The tier a count or severity falls in, and its index.
fn tier(tiers: &[TierProg], n: u32) -> Option<(usize, &TierProg)> {
    tiers.iter().enumerate().find(|(_, t)| t.contains(n))
}

fn show_tier(t: &TierProg) -> String {
    match t.to {
        None => format!("{}+", t.from),
        Some(to) if to == t.from => t.from.to_string(),
        Some(to) => format!("{}..{to}", t.from),
    }
}

fn month(index: i32) -> String {
    format!("{:04}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1)
}

/// Sets flag number `*n` of an outcome being written over (see
/// `outcome_into`), reusing the text the last customer left there (or a
/// spare string), and counts it.
fn flag(flags: &mut Vec<String>, spare: &mut Vec<String>, n: &mut usize, text: std::fmt::Arguments<'_>) {
    use std::fmt::Write;
    if flags.len() == *n {
        flags.push(spare.pop().unwrap_or_default());
    }
    let f = flags.get_mut(*n).expect("pushed above when missing");
    f.clear();
    f.write_fmt(text).expect("writing to a String cannot fail");
    *n += 1;
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
