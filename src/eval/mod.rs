//! Eval stage: a compiled `Program` × one customer's events → scores, grade
//! and, on request, the points ledger that explains them. Evaluation is
//! total: every rule is one pass over the customer's events.

pub mod compile;
pub mod expr;

use crate::date::{Date, Window};
use crate::input::{Customer, Event};
use crate::num::Num;
use crate::syntax::ast::Effect;
pub use compile::{compile, Program};
use compile::{DimSource, Form, RuleProg, TierProg};

/// A program ready for one as-of date: every window resolved.
pub struct Evaluator<'p> {
    pub prog: &'p Program,
    pub as_of: Date,
    windows: Vec<Window>,
}

/// One customer's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub class: u16,
    pub dims: Vec<DimOutcome>,
    pub total: Num,
    /// Index into `Program::bands`.
    pub grade: usize,
    /// The override (index into the class's overrides) that set the grade, if any.
    pub by_override: Option<usize>,
    pub flags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
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
}

impl<'p> Evaluator<'p> {
    pub fn new(prog: &'p Program, as_of: Date) -> Self {
        let windows = prog.windows.iter().map(|&m| Window::months_to(as_of, m)).collect();
        Evaluator { prog, as_of, windows }
    }

    fn window(&self, i: usize) -> Window {
        self.windows.get(i).copied().unwrap_or(Window { after: self.as_of, until: self.as_of })
    }

    /// The customer's class: its roster class, else the default.
    pub fn class_of(&self, c: &Customer) -> u16 {
        c.class.filter(|&k| usize::from(k) < self.prog.classes.len()).unwrap_or(self.prog.default_class)
    }

    /// Scores one customer. `vals` is the log's value arena; with `ledger`,
    /// every dimension lists the rules that fired.
    pub fn evaluate(&self, c: &Customer, events: &[Event], vals: &[i64], ledger: bool) -> Outcome {
        let class_ix = self.class_of(c);
        let Some(class) = self.prog.classes.get(usize::from(class_ix)) else {
            return Outcome { class: class_ix, dims: vec![], total: Num::ZERO, grade: 0, by_override: None, flags: vec![] };
        };
        let mut flags = Vec::new();
        let period = self.window(0);
        let dims: Vec<DimOutcome> = class
            .dims
            .iter()
            .map(|d| {
                let mut lines = Vec::new();
                let mut raw = d.max;
                match &d.source {
                    DimSource::Rules(rules) => {
                        for (i, r) in rules.iter().enumerate() {
                            let before = lines.len();
                            raw += self.rule(r, c.since, events, vals, &mut lines, ledger);
                            for l in lines.get_mut(before..).unwrap_or(&mut []) {
                                l.rule = Some(i);
                            }
                        }
                    }
                    DimSource::Assessed(a) => {
                        let latest = events
                            .iter()
                            .enumerate()
                            .filter(|(_, e)| e.kind == a.kind && period.contains(e.date))
                            .filter(|(_, e)| a.filter.as_ref().is_none_or(|f| f.holds(&|s| val(vals, e, s), &self.prog.schema.texts)))
                            .max_by_key(|(_, e)| (e.date, e.file, e.line));
                        raw = match latest {
                            Some((i, e)) => {
                                let v = Num::from_raw(val(vals, e, a.value));
                                if ledger {
                                    lines.push(Line { rule: None, points: v, events: vec![i], note: format!("assessed {v} on {}", e.date) });
                                }
                                v
                            }
                            None => {
                                flags.push(format!("not assessed: {}", d.name));
                                if ledger {
                                    lines.push(Line { rule: None, points: Num::ZERO, events: vec![], note: "no assessment in the period".into() });
                                }
                                Num::ZERO
                            }
                        };
                    }
                }
                DimOutcome { raw, score: raw.clamp_to(Num::ZERO, d.max), ledger: lines }
            })
            .collect();
        let total: Num = dims.iter().map(|d| d.score).sum();
        let slot = |s: usize| if s == expr::TOTAL { total.raw() } else { dims.get(s).map_or(0, |d| d.score.raw()) };
        let by_override = class.overrides.iter().position(|o| o.when.holds(&slot, &self.prog.schema.texts));
        let grade = match by_override.and_then(|i| class.overrides.get(i)) {
            Some(o) => o.band,
            None => self.prog.bands.iter().position(|b| b.min.is_none_or(|m| total >= m)).unwrap_or(self.prog.bands.len().saturating_sub(1)),
        };
        Outcome { class: class_ix, dims, total, grade, by_override, flags }
    }

    /// The points of one rule (signed), and its ledger lines.
    fn rule(&self, r: &RuleProg, since: Option<Date>, events: &[Event], vals: &[i64], lines: &mut Vec<Line>, ledger: bool) -> Num {
        let window = self.window(r.window);
        let texts = &self.prog.schema.texts;
        let matching = events.iter().enumerate().filter(|(_, e)| {
            r.kinds.get(usize::from(e.kind)).copied().unwrap_or(false)
                && window.contains(e.date)
                && r.filter.get(usize::from(e.kind)).and_then(Option::as_ref).is_none_or(|f| f.holds(&|s| val(vals, e, s), texts))
        });
        let sign = |p: Num| if r.effect == Effect::Deduct { -p } else { p };
        let mut push = |points: Num, events: Vec<usize>, note: String| {
            if ledger {
                lines.push(Line { rule: None, points, events, note });
            }
            points
        };
        match &r.form {
            Form::PerEvent { points, multiplier } => {
                let mut sum = Num::ZERO;
                for (i, e) in matching {
                    let (p, note) = match multiplier.as_ref().and_then(|m| m.get(usize::from(e.kind))) {
                        Some(&slot) => {
                            let n = Num::from_raw(val(vals, e, slot)).as_int().unwrap_or(0);
                            (points.times(n), format!("{points} × {n}"))
                        }
                        None => (*points, String::new()),
                    };
                    sum += push(sign(p), vec![i], note);
                }
                sum
            }
            Form::Once { points } => {
                let used: Vec<usize> = matching.map(|(i, _)| i).collect();
                if used.is_empty() {
                    return Num::ZERO;
                }
                let n = used.len();
                push(sign(*points), used, format!("once, {n} event{}", plural(n)))
            }
            Form::Absence { points } => {
                if matching.clone().next().is_some() {
                    return Num::ZERO;
                }
                let first = window.first_day();
                let span = format!("{first}..{}", window.until);
                match since {
                    Some(s) if s > first => {
                        push(Num::ZERO, vec![], format!("not applied: history starts {s}, after the window's first day {first}"));
                        Num::ZERO
                    }
                    _ => push(sign(*points), vec![], format!("none in {span}")),
                }
            }
            Form::Count { tiers } => {
                let used: Vec<usize> = matching.map(|(i, _)| i).collect();
                let n = used.len() as u32;
                match tier(tiers, n) {
                    Some(t) => push(sign(t.points), used, format!("{n} event{} → tier {}", plural(n as usize), show_tier(t))),
                    None => Num::ZERO,
                }
            }
            Form::Episodes { severity, tiers } => {
                // Per calendar month: the events and the largest value of each severity attribute.
                let mut months: Vec<(i32, Vec<usize>, Vec<i64>)> = Vec::new();
                for (i, e) in matching {
                    let m = e.date.month_index();
                    let values: Vec<i64> = severity
                        .iter()
                        .map(|s| s.as_ref().and_then(|slots| slots.get(usize::from(e.kind))).map_or(0, |&slot| Num::from_raw(val(vals, e, slot)).as_int().unwrap_or(0)))
                        .collect();
                    match months.iter_mut().find(|(mm, _, _)| *mm == m) {
                        Some((_, evs, best)) => {
                            evs.push(i);
                            for (b, v) in best.iter_mut().zip(values) {
                                *b = (*b).max(v);
                            }
                        }
                        None => months.push((m, vec![i], values)),
                    }
                }
                months.sort_by_key(|(m, _, _)| *m);
                let mut sum = Num::ZERO;
                let mut start = 0;
                while start < months.len() {
                    let mut end = start + 1;
                    while months.get(end).zip(months.get(end - 1)).is_some_and(|(a, b)| a.0 == b.0 + 1) {
                        end += 1;
                    }
                    let run = months.get(start..end).unwrap_or(&[]);
                    let length = run.len() as i64;
                    let sev = severity
                        .iter()
                        .enumerate()
                        .map(|(j, s)| match s {
                            None => length,
                            Some(_) => run.iter().map(|(_, _, best)| best.get(j).copied().unwrap_or(0)).max().unwrap_or(0),
                        })
                        .max()
                        .unwrap_or(length);
                    let sev = u32::try_from(sev.max(0)).unwrap_or(u32::MAX);
                    if let Some(t) = tier(tiers, sev) {
                        let used: Vec<usize> = run.iter().flat_map(|(_, evs, _)| evs.iter().copied()).collect();
                        let (first, last) = (run.first().map_or(0, |r| r.0), run.last().map_or(0, |r| r.0));
                        let note = format!("episode {}..{} ({length} month{}), severity {sev} → tier {}", month(first), month(last), plural(length as usize), show_tier(t));
                        sum += push(sign(t.points), used, note);
                    }
                    start = end;
                }
                sum
            }
        }
    }
}

fn val(vals: &[i64], e: &Event, slot: usize) -> i64 {
    vals.get(e.vals as usize + slot).copied().unwrap_or(0)
}

fn tier(tiers: &[TierProg], n: u32) -> Option<&TierProg> {
    tiers.iter().find(|t| t.contains(n))
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
