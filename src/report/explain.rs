//! Report stage: the points ledger of one customer — as readable text for
//! `explain` and as JSON for `--explain` — each line pointing back at the
//! rule that produced it and the events it used.

use super::{Ordered, Scored};
use crate::check::program::{DimProg, DimSource, Meta, RuleProg};
use crate::eval::{Line, Program, Status};
use crate::input::Event;
use crate::num::Num;
use crate::syntax::ast::Type;

/// The rule behind a ledger line.
fn meta<'a>(d: &'a DimProg, line: &Line) -> Option<&'a Meta> {
    match (&d.source, line.rule) {
        (DimSource::Rules(rules), Some(i)) => rules.get(i).map(|r| &r.meta),
        (DimSource::Assessed(a), _) => Some(&a.meta),
        _ => None,
    }
}

/// The clause a ledger line applied: a tier's own clause (`P2`), else its rule's.
fn line_clause(prog: &Program, d: &DimProg, line: &Line) -> Option<String> {
    match (&d.source, line.rule) {
        (DimSource::Rules(rules), Some(i)) => rules.get(i).and_then(|r| prog.line_clause(r, line.tier)),
        _ => meta(d, line).and_then(|m| m.clause.clone()),
    }
}

/// The rule on the total behind a ledger line.
fn total_rule<'a>(prog: &'a Program, line: &Line) -> Option<&'a RuleProg> {
    line.rule.and_then(|i| prog.total_rules.get(i))
}

/// Attribute `i` of an event, as stored in the log's value arena.
fn value(s: &Scored<'_>, e: &Event, i: usize) -> i64 {
    s.log
        .vals
        .get(e.vals as usize + i)
        .copied()
        .expect("an event's values are in the log's arena")
}

/// `events.csv:17 2026-03-05 arrears months=2`
pub fn event_line(s: &Scored<'_>, e: &Event) -> String {
    let file = s.log.files.get(usize::from(e.file)).map_or("?", String::as_str);
    let schema = &s.prog.schema;
    let mut out = format!("{file}:{} {} ", e.line, e.date);
    if let Some(k) = schema.kind_of(e.kind) {
        out.push_str(&k.name);
        for (i, a) in k.attrs.iter().enumerate() {
            let v = value(s, e, i);
            out.push_str(&format!(" {}={}", a.name, schema.show(a.ty, v)));
        }
    }
    out
}

fn signed(n: Num) -> String {
    if n > Num::ZERO {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

/// Where a rule is written: `rules/credit.rules:42`.
pub struct Origin<'a> {
    pub file: &'a str,
    pub src: &'a str,
}

impl Origin<'_> {
    fn line_of(&self, m: &Meta) -> String {
        let before = self.src.get(..m.span.start as usize).unwrap_or("");
        format!("{}:{}", self.file, before.matches('\n').count() + 1)
    }
}

/// The readable trace of one customer.
pub fn text(s: &Scored<'_>, origin: &Origin<'_>) -> String {
    let prog = s.prog;
    let o = s.outcome;
    let Some(class) = prog.classes.get(usize::from(o.class)) else {
        return String::new();
    };
    let mut out = String::new();
    let label = |l: &Option<String>| l.as_ref().map_or(String::new(), |l| format!(" {l}"));
    out.push_str(&format!(
        "customer {}  class {}{}  as of {}\n",
        s.id(),
        class.name,
        label(&class.label),
        s.as_of
    ));
    let version = prog.version.as_ref().map_or(String::new(), |v| format!(" version {v}"));
    out.push_str(&format!(
        "standard {}{version}, period {} months ending {}\n",
        prog.name, prog.period, s.as_of
    ));
    let events = s.events();
    for (d, r) in class.dims.iter().zip(&o.dims) {
        out.push_str(&format!(
            "\n{}{}  max {}  → {}\n",
            d.name,
            label(&d.label),
            d.max,
            r.score
        ));
        if r.ledger.is_empty() {
            out.push_str("  no rule fired: full marks\n");
        }
        for line in &r.ledger {
            let m = meta(d, line);
            let clause = line_clause(prog, d, line).unwrap_or_else(|| "-".into());
            let rule_label = m
                .and_then(|m| m.label.as_ref())
                .map_or(String::new(), |l| format!(" {l}"));
            let at = m.map_or(String::new(), |m| origin.line_of(m));
            let (points, note) = points_and_note(line, matches!(d.source, DimSource::Assessed(_)));
            out.push_str(&format!("  {clause}{rule_label}  {points}{note}  [{at}]\n"));
            for &i in &line.events {
                if let Some(e) = events.get(i) {
                    out.push_str(&format!("      {}\n", event_line(s, e)));
                }
            }
        }
        let lo = Num::ZERO;
        if r.raw != r.score {
            out.push_str(&format!("  clamp: {} → {} (range {lo}..{})\n", r.raw, r.score, d.max));
        } else if !r.ledger.is_empty() && !matches!(d.source, DimSource::Assessed(_)) {
            out.push_str(&format!("  {} {}= {}\n", d.max, ledger_sum(&r.ledger), r.score));
        }
    }
    if prog.total_rules.is_empty() {
        out.push_str(&format!("\ntotal {}\n", o.total));
    } else {
        let sum: Num = o.dims.iter().map(|d| d.score).sum();
        out.push_str(&format!(
            "\nrules on total{}  sum of dimensions {sum}\n",
            label(&prog.total_label)
        ));
        if o.total_ledger.is_empty() {
            out.push_str("  no rule fired\n");
        }
        for line in &o.total_ledger {
            let r = total_rule(prog, line);
            let clause = r
                .and_then(|r| prog.line_clause(r, line.tier))
                .unwrap_or_else(|| "-".into());
            let rule_label = r
                .and_then(|r| r.meta.label.as_ref())
                .map_or(String::new(), |l| format!(" {l}"));
            let at = r.map_or(String::new(), |r| origin.line_of(&r.meta));
            let (points, note) = points_and_note(line, false);
            out.push_str(&format!("  {clause}{rule_label}  {points}{note}  [{at}]\n"));
            for &i in &line.events {
                if let Some(e) = events.get(i) {
                    out.push_str(&format!("      {}\n", event_line(s, e)));
                }
            }
        }
        if sum + o.adjust != o.total {
            out.push_str(&format!(
                "  clamp: {} → {} (range 0..{})\n",
                sum + o.adjust,
                o.total,
                class.full
            ));
        }
        out.push_str(&format!("total {}\n", o.total));
    }
    let grade = s.grade();
    let band_label = prog
        .bands
        .get(o.grade)
        .and_then(|b| b.label.as_ref())
        .map_or(String::new(), |l| format!(" {l}"));
    match o.by_override.and_then(|i| class.overrides.get(i)) {
        Some(ov) => {
            let clause = ov.meta.clause.clone().unwrap_or_default();
            let condition = &ov.condition;
            out.push_str(&format!(
                "grade {grade}{band_label}: override {clause}{} holds: {condition}  [{}]\n",
                label(&ov.meta.label),
                origin.line_of(&ov.meta)
            ));
        }
        None => {
            let band = prog.bands.get(o.grade);
            let rule = band
                .and_then(|b| b.min)
                .map_or("the bottom band".to_string(), |m| format!("total {} >= {m}", o.total));
            let clause = prog
                .grades_meta
                .clause
                .clone()
                .map_or(String::new(), |c| format!(" {c}"));
            out.push_str(&format!(
                "grade {grade}{band_label}: band{clause}, {rule}  [{}]\n",
                origin.line_of(&prog.grades_meta)
            ));
        }
    }
    if let Some(m) = prog.bands.get(o.grade).and_then(|b| b.measures.as_ref()) {
        out.push_str(&format!("measures: {m}\n"));
    }
    for f in &o.flags {
        out.push_str(&format!("flag: {f}\n"));
    }
    out
}

/// A ledger line's points (`+0.5`, or an assessed `4.5`, `withheld`,
/// `replaced`) and the note after them.
fn points_and_note(line: &Line, assessed: bool) -> (String, String) {
    let points = match line.status {
        Status::Withheld => "withheld".to_string(),
        Status::Replaced => "replaced".to_string(),
        Status::Applied if assessed => line.points.to_string(),
        Status::Applied => signed(line.points),
    };
    let note = match (line.status, line.note.as_str()) {
        (Status::Replaced, by) => format!(" by {by}"),
        (_, "") => String::new(),
        (_, note) => format!("  ({note})"),
    };
    (points, note)
}

fn ledger_sum(lines: &[Line]) -> String {
    // Withheld and replaced rules (0 points) explain themselves above.
    lines
        .iter()
        .filter(|l| l.points != Num::ZERO)
        .map(|l| format!("{} ", signed(l.points)))
        .collect()
}

/// The ledger as a JSON object: each dimension's lines (their rule, points,
/// status, note and events as typed objects), the rules on the total, and
/// what decided the grade.
#[derive(serde::Serialize)]
pub struct LedgerJson<'a> {
    dimensions: Ordered<&'a str, DimJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<TotalJson<'a>>,
    grade_by: GradeBy<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    measures: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct DimJson<'a> {
    max: Num,
    raw: Num,
    score: Num,
    lines: Vec<LineJson<'a>>,
}

#[derive(serde::Serialize)]
struct TotalJson<'a> {
    /// The sum of the dimension scores.
    sum: Num,
    /// The signed points of the rules on the total.
    adjust: Num,
    total: Num,
    lines: Vec<LineJson<'a>>,
}

#[derive(serde::Serialize)]
struct LineJson<'a> {
    clause: Option<String>,
    label: Option<&'a str>,
    points: Num,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    note: &'a str,
    events: Vec<EventJson<'a>>,
}

/// One event of the log, as typed values: `{"file":"events.csv","line":17,
/// "date":"2026-03-05","kind":"arrears","attributes":{"months":2}}`.
#[derive(serde::Serialize)]
struct EventJson<'a> {
    file: &'a str,
    line: u32,
    date: String,
    kind: &'a str,
    attributes: Ordered<&'a str, Value>,
}

/// An attribute's value in its own JSON type.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Value {
    Number(Num),
    Bool(bool),
    Text(String),
}

#[derive(serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum GradeBy<'a> {
    Override(Option<&'a str>),
    Band(&'a str),
}

pub(super) fn ledger<'a>(s: &'a Scored<'a>) -> LedgerJson<'a> {
    let prog = s.prog;
    let class = prog
        .classes
        .get(usize::from(s.outcome.class))
        .expect("an outcome's class is a class of its program");
    let line = |l: &'a Line, clause: Option<String>, label: Option<&'a str>| LineJson {
        clause,
        label,
        points: l.points,
        status: match l.status {
            Status::Applied => None,
            Status::Withheld => Some("withheld"),
            Status::Replaced => Some("replaced"),
        },
        note: &l.note,
        events: l
            .events
            .iter()
            .filter_map(|&i| s.events().get(i))
            .map(|e| event_json(s, e))
            .collect(),
    };
    let dimensions = class
        .dims
        .iter()
        .zip(&s.outcome.dims)
        .map(|(d, r)| {
            let lines = r
                .ledger
                .iter()
                .map(|l| line(l, line_clause(prog, d, l), meta(d, l).and_then(|m| m.label.as_deref())))
                .collect();
            (
                d.name.as_str(),
                DimJson {
                    max: d.max,
                    raw: r.raw,
                    score: r.score,
                    lines,
                },
            )
        })
        .collect();
    let total = (!prog.total_rules.is_empty()).then(|| TotalJson {
        sum: s.outcome.dims.iter().map(|d| d.score).sum(),
        adjust: s.outcome.adjust,
        total: s.outcome.total,
        lines: s
            .outcome
            .total_ledger
            .iter()
            .map(|l| {
                let r = total_rule(prog, l);
                line(
                    l,
                    r.and_then(|r| prog.line_clause(r, l.tier)),
                    r.and_then(|r| r.meta.label.as_deref()),
                )
            })
            .collect(),
    });
    let grade_by = match s.outcome.by_override.and_then(|i| class.overrides.get(i)) {
        Some(o) => GradeBy::Override(o.meta.clause.as_deref()),
        None => GradeBy::Band(s.grade()),
    };
    LedgerJson {
        dimensions: Ordered(dimensions),
        total,
        grade_by,
        measures: s.measures(),
    }
}

/// An event of the log as a typed JSON object.
fn event_json<'a>(s: &'a Scored<'a>, e: &Event) -> EventJson<'a> {
    let schema = &s.prog.schema;
    let kind = schema.kind_of(e.kind);
    let attributes = kind.map_or(vec![], |k| {
        k.attrs
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let v = value(s, e, i);
                let value = match a.ty {
                    Type::Int | Type::Decimal => Value::Number(Num::from_raw(v)),
                    Type::Bool => Value::Bool(v != 0),
                    Type::Date | Type::Text => Value::Text(schema.show(a.ty, v)),
                };
                (a.name.as_str(), value)
            })
            .collect()
    });
    EventJson {
        file: s.log.files.get(usize::from(e.file)).map_or("?", String::as_str),
        line: e.line,
        date: e.date.to_string(),
        kind: kind.map_or("?", |k| k.name.as_str()),
        attributes: Ordered(attributes),
    }
}
