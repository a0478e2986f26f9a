//! Report stage: results rendered for people and machines — JSON Lines, JSON,
//! CSV, a terminal table, and the `explain` trace. Renderers write into any
//! `io::Write`; they open no files.

pub mod columns;
pub mod explain;
pub mod html;
pub mod index_html;
pub mod summary;
pub mod svg;
pub mod table;
pub mod xlsx;

use std::io::{self, Write};

use crate::date::Date;
use crate::eval::{Outcome, Program};
use crate::input::{Event, EventLog};
use crate::num::Num;

/// One scored customer, with everything a renderer needs.
pub struct Scored<'a> {
    pub prog: &'a Program,
    pub log: &'a EventLog,
    /// Index into `log.customers`.
    pub customer: usize,
    pub outcome: &'a Outcome,
    pub as_of: Date,
}

impl Scored<'_> {
    pub fn id(&self) -> &str {
        &self
            .log
            .customers
            .get(self.customer)
            .expect("a scored customer is in the log")
            .id
    }

    pub fn class_name(&self) -> &str {
        &self
            .prog
            .classes
            .get(usize::from(self.outcome.class))
            .expect("an outcome's class is a class of the program")
            .name
    }

    pub fn grade(&self) -> &str {
        &self
            .prog
            .bands
            .get(self.outcome.grade)
            .expect("a grade is a band of the program")
            .grade
    }

    /// The measures of the customer's grade, as the rulebook writes them.
    pub fn measures(&self) -> Option<&str> {
        self.prog
            .bands
            .get(self.outcome.grade)
            .and_then(|b| b.measures.as_deref())
    }

    /// (name, score) of each of the class's dimensions.
    pub fn dimensions(&self) -> impl Iterator<Item = (&str, Num)> {
        let class = self.prog.classes.get(usize::from(self.outcome.class));
        class
            .into_iter()
            .flat_map(|c| c.dims.iter())
            .zip(&self.outcome.dims)
            .map(|(d, o)| (d.name.as_str(), o.score))
    }

    pub fn events(&self) -> &[Event] {
        self.log.events_of(self.customer)
    }
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_json_str(&mut out, s);
    out
}

/// Appends a JSON string literal; plain text is copied as is.
pub fn push_json_str(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string()));
    }
}

/// One JSON object per customer, the pinned `--format jsonl` line (without newline).
pub fn json_object(s: &Scored<'_>, with_ledger: bool) -> String {
    let mut out = String::with_capacity(256);
    push_json_object(&mut out, s, with_ledger);
    out
}

/// Appends the JSON object of one customer.
pub fn push_json_object(out: &mut String, s: &Scored<'_>, with_ledger: bool) {
    use std::fmt::Write as _;
    out.push_str("{\"customer\":");
    push_json_str(out, s.id());
    out.push_str(",\"class\":");
    push_json_str(out, s.class_name());
    let _ = write!(out, ",\"total\":{},\"grade\":", s.outcome.total);
    push_json_str(out, s.grade());
    out.push_str(",\"dimensions\":{");
    for (i, (name, v)) in s.dimensions().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, name);
        let _ = write!(out, ":{v}");
    }
    let _ = write!(out, "}},\"as_of\":\"{}\"", s.as_of);
    if let Some(m) = s.measures() {
        out.push_str(",\"measures\":");
        push_json_str(out, m);
    }
    if !s.outcome.flags.is_empty() {
        out.push_str(",\"flags\":[");
        for (i, f) in s.outcome.flags.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_str(out, f);
        }
        out.push(']');
    }
    if with_ledger {
        out.push_str(",\"ledger\":");
        out.push_str(&explain::ledger_json(s));
    }
    out.push('}');
}

/// The JSON object of one customer followed by its roster columns
/// (`"roster":{"branch":…}`) when the roster has columns of its own.
pub fn json_object_carrying(s: &Scored<'_>, with_ledger: bool, roster: &crate::input::Roster) -> String {
    let mut out = json_object(s, with_ledger);
    if !roster.columns().is_empty() && out.ends_with('}') {
        // Reopen the object just written to add the roster's columns.
        out.pop();
        columns::push_roster_json(&mut out, roster, s.id());
        out.push('}');
    }
    out
}

pub fn write_jsonl(w: &mut dyn Write, s: &Scored<'_>, with_ledger: bool) -> io::Result<()> {
    let mut line = String::with_capacity(256);
    push_json_object(&mut line, s, with_ledger);
    line.push('\n');
    w.write_all(line.as_bytes())
}

/// The CSV header: `customer,class,total,grade,<one column per dimension>`.
pub fn csv_header(prog: &Program) -> String {
    let mut cols = vec!["customer".to_string(), "class".into(), "total".into(), "grade".into()];
    cols.extend(prog.dimension_names().into_iter().map(csv_cell));
    if prog.has_measures() {
        cols.push("measures".into());
    }
    cols.join(",")
}

/// One CSV row; a dimension the customer's class lacks is an empty cell.
pub fn csv_row(s: &Scored<'_>) -> String {
    let mut cells = vec![
        csv_cell(s.id()),
        csv_cell(s.class_name()),
        s.outcome.total.to_string(),
        csv_cell(s.grade()),
    ];
    let dims: Vec<(&str, Num)> = s.dimensions().collect();
    for name in s.prog.dimension_names() {
        cells.push(
            dims.iter()
                .find(|(n, _)| *n == name)
                .map_or(String::new(), |(_, v)| v.to_string()),
        );
    }
    if s.prog.has_measures() {
        cells.push(csv_cell(s.measures().unwrap_or("")));
    }
    cells.join(",")
}

/// A CSV field, quoted when it must be.
pub fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The width of text in a terminal: CJK and full-width characters take two
/// columns, combining marks none (Unicode's East Asian Width, by `unicode-width`).
pub fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `s` padded with spaces to `width` terminal columns.
pub fn pad(s: &str, width: usize) -> String {
    let w = display_width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// Aligned columns, two spaces apart, indented by two; `right[i]` aligns column i right.
pub fn grid(rows: &[Vec<String>], right: &[bool]) -> String {
    let ncols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..ncols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| display_width(c))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let w = widths.get(i).copied().unwrap_or(0);
                if right.get(i).copied().unwrap_or(false) {
                    format!("{}{c}", " ".repeat(w.saturating_sub(display_width(c))))
                } else {
                    pad(c, w)
                }
            })
            .collect();
        out.push_str("  ");
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
