//! Report stage: the points ledger of one customer — as readable text for
//! `explain` and as JSON for `--explain` — each line pointing back at the
//! rule that produced it and the events it used.

use super::{json_str, Scored};
use crate::eval::compile::{DimProg, DimSource, Meta};
use crate::eval::Line;
use crate::input::Event;
use crate::num::Num;

/// The rule behind a ledger line.
fn meta<'a>(d: &'a DimProg, line: &Line) -> Option<&'a Meta> {
    match (&d.source, line.rule) {
        (DimSource::Rules(rules), Some(i)) => rules.get(i).map(|r| &r.meta),
        (DimSource::Assessed(a), _) => Some(&a.meta),
        _ => None,
    }
}

/// `events.csv:17 2026-03-05 arrears months=2`
pub fn event_line(s: &Scored<'_>, e: &Event) -> String {
    let file = s.log.files.get(usize::from(e.file)).map_or("?", String::as_str);
    let schema = &s.prog.schema;
    let mut out = format!("{file}:{} {} ", e.line, e.date);
    if let Some(k) = schema.kind_of(e.kind) {
        out.push_str(&k.name);
        for (i, a) in k.attrs.iter().enumerate() {
            let v = s
                .log
                .vals
                .get(e.vals as usize + i)
                .copied()
                .expect("an event's values are in the log's arena");
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
            let clause = m.and_then(|m| m.clause.clone()).unwrap_or_else(|| "-".into());
            let rule_label = m
                .and_then(|m| m.label.as_ref())
                .map_or(String::new(), |l| format!(" {l}"));
            let at = m.map_or(String::new(), |m| origin.line_of(m));
            let points = if matches!(d.source, DimSource::Assessed(_)) {
                line.points.to_string()
            } else {
                signed(line.points)
            };
            let note = if line.note.is_empty() {
                String::new()
            } else {
                format!("  ({})", line.note)
            };
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
    out.push_str(&format!("\ntotal {}\n", o.total));
    let grade = s.grade();
    match o.by_override.and_then(|i| class.overrides.get(i)) {
        Some(ov) => {
            let clause = ov.meta.clause.clone().unwrap_or_default();
            let condition = ov
                .meta
                .text
                .split_once(" when ")
                .map_or(ov.meta.text.as_str(), |(_, c)| c);
            out.push_str(&format!(
                "grade {grade}: override {clause}{} holds: {condition}  [{}]\n",
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
                "grade {grade}: band{clause}, {rule}  [{}]\n",
                origin.line_of(&prog.grades_meta)
            ));
        }
    }
    for f in &o.flags {
        out.push_str(&format!("flag: {f}\n"));
    }
    out
}

fn ledger_sum(lines: &[Line]) -> String {
    lines.iter().map(|l| format!("{} ", signed(l.points))).collect()
}

/// The ledger as a JSON object keyed by dimension.
pub fn ledger_json(s: &Scored<'_>) -> String {
    let Some(class) = s.prog.classes.get(usize::from(s.outcome.class)) else {
        return "{}".into();
    };
    let events = s.events();
    let dims: Vec<String> = class
        .dims
        .iter()
        .zip(&s.outcome.dims)
        .map(|(d, r)| {
            let lines: Vec<String> = r
                .ledger
                .iter()
                .map(|l| {
                    let m = meta(d, l);
                    let clause = m.and_then(|m| m.clause.as_deref()).map_or("null".into(), json_str);
                    let label = m.and_then(|m| m.label.as_deref()).map_or("null".into(), json_str);
                    let evs: Vec<String> = l
                        .events
                        .iter()
                        .filter_map(|&i| events.get(i))
                        .map(|e| json_str(&event_line(s, e)))
                        .collect();
                    format!(
                        "{{\"clause\":{clause},\"label\":{label},\"points\":{},\"note\":{},\"events\":[{}]}}",
                        l.points,
                        json_str(&l.note),
                        evs.join(",")
                    )
                })
                .collect();
            format!(
                "{}:{{\"max\":{},\"raw\":{},\"score\":{},\"lines\":[{}]}}",
                json_str(&d.name),
                d.max,
                r.raw,
                r.score,
                lines.join(",")
            )
        })
        .collect();
    let decided = match s.outcome.by_override.and_then(|i| class.overrides.get(i)) {
        Some(o) => format!(
            "{{\"override\":{}}}",
            o.meta.clause.as_deref().map_or("null".into(), json_str)
        ),
        None => format!("{{\"band\":{}}}", json_str(s.grade())),
    };
    format!("{{\"dimensions\":{{{}}},\"grade_by\":{decided}}}", dims.join(","))
}
