//! Report stage: results rendered for people and machines — JSON Lines, JSON,
//! CSV, a terminal table, and the `explain` trace. Renderers write into any
//! `io::Write`; they open no files.

pub mod columns;
pub mod explain;
pub mod html;
pub mod index_html;
pub mod json_line;
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

impl<'a> Scored<'a> {
    pub fn id(&self) -> &'a str {
        &self
            .log
            .customers
            .get(self.customer)
            .expect("a scored customer is in the log")
            .id
    }

    pub fn class_name(&self) -> &'a str {
        &self
            .prog
            .classes
            .get(usize::from(self.outcome.class))
            .expect("an outcome's class is a class of the program")
            .name
    }

    pub fn grade(&self) -> &'a str {
        &self
            .prog
            .bands
            .get(self.outcome.grade)
            .expect("a grade is a band of the program")
            .grade
    }

    /// The measures of the customer's grade, as the rulebook writes them.
    pub fn measures(&self) -> Option<&'a str> {
        self.prog
            .bands
            .get(self.outcome.grade)
            .and_then(|b| b.measures.as_deref())
    }

    /// (name, score) of each of the class's dimensions.
    pub fn dimensions(&self) -> impl Iterator<Item = (&'a str, Num)> + 'a {
        let class = self.prog.classes.get(usize::from(self.outcome.class));
        class
            .into_iter()
            .flat_map(|c| c.dims.iter())
            .zip(&self.outcome.dims)
            .map(|(d, o)| (d.name.as_str(), o.score))
    }

    pub fn events(&self) -> &'a [Event] {
        self.log.events_of(self.customer)
    }
}

/// A JSON object whose keys keep the order they are given in (objects here
/// follow the rulebook's or the roster's order, not the alphabet's).
pub struct Ordered<K, V>(pub Vec<(K, V)>);

impl<K: serde::Serialize, V: serde::Serialize> serde::Serialize for Ordered<K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// A value as compact JSON. Every value rendered here is made of texts,
/// numbers and maps with text keys, which always serialize.
pub fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("texts, numbers and maps with text keys serialize")
}

/// A serialized object left open (its closing `}` dropped), for a document
/// whose last member is written after it: streamed, or one element a line.
pub fn open_object(head: &impl serde::Serialize) -> String {
    let mut json = to_json(head);
    json.pop();
    json
}

/// One customer as JSON, the pinned `--format jsonl` object: `customer`,
/// `class`, `total`, `grade`, `dimensions` (in the class's order), `as_of`,
/// then `measures`, `flags`, `ledger` and `roster` when there are any.
#[derive(serde::Serialize)]
pub struct CustomerJson<'a> {
    customer: &'a str,
    class: &'a str,
    total: Num,
    grade: &'a str,
    dimensions: Ordered<&'a str, Num>,
    as_of: Date,
    #[serde(skip_serializing_if = "Option::is_none")]
    measures: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    flags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    ledger: Option<explain::LedgerJson<'a>>,
    /// The roster's own columns (`"roster":{"branch":"东城供电所"}`); empty
    /// values for a customer not on the roster.
    #[serde(skip_serializing_if = "Option::is_none")]
    roster: Option<Ordered<&'a str, &'a str>>,
}

impl<'a> CustomerJson<'a> {
    pub fn new(s: &'a Scored<'a>, with_ledger: bool) -> Self {
        CustomerJson {
            customer: s.id(),
            class: s.class_name(),
            total: s.outcome.total,
            grade: s.grade(),
            dimensions: Ordered(s.dimensions().collect()),
            as_of: s.as_of,
            measures: s.measures(),
            flags: &s.outcome.flags,
            ledger: with_ledger.then(|| explain::ledger(s)),
            roster: None,
        }
    }

    /// With the roster's columns, when it has columns of its own.
    pub fn carrying(mut self, roster: &'a crate::input::Roster) -> Self {
        let columns = roster.columns();
        if !columns.is_empty() {
            let values = roster.extra(self.customer);
            let value = |i: usize| values.and_then(|v| v.get(i)).map_or("", |v| &**v);
            self.roster = Some(Ordered(
                columns.iter().enumerate().map(|(i, c)| (&**c, value(i))).collect(),
            ));
        }
        self
    }
}

/// One JSON object per customer, the pinned `--format jsonl` line (without newline).
pub fn json_object(s: &Scored<'_>, with_ledger: bool) -> String {
    to_json(&CustomerJson::new(s, with_ledger))
}

/// The JSON object of one customer followed by its roster columns
/// (`"roster":{"branch":…}`) when the roster has columns of its own.
pub fn json_object_carrying(s: &Scored<'_>, with_ledger: bool, roster: &crate::input::Roster) -> String {
    to_json(&CustomerJson::new(s, with_ledger).carrying(roster))
}

/// `json_object_carrying`, appended to `out`; without a ledger, written
/// directly from `line`, the parts of the program's lines (`json_line`):
/// the hot path of `score --format jsonl`.
pub fn write_json_carrying(
    out: &mut Vec<u8>,
    s: &Scored<'_>,
    with_ledger: bool,
    roster: &crate::input::Roster,
    line: &json_line::Line,
) {
    if with_ledger {
        serde_json::to_writer(out, &CustomerJson::new(s, with_ledger).carrying(roster))
            .expect("texts, numbers and maps with text keys serialize");
    } else {
        line.write(out, s, roster);
    }
}

pub fn write_jsonl(w: &mut dyn Write, s: &Scored<'_>, with_ledger: bool) -> io::Result<()> {
    let mut line = json_object(s, with_ledger);
    line.push('\n');
    w.write_all(line.as_bytes())
}

/// One CSV record, without its line break. csv-core quotes a cell where CSV
/// needs it (a comma, a quote, a line break) and always where it starts or
/// ends with a space, which CSV readers (this crate's among them) trim.
pub fn csv_record<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let mut necessary = csv_core::Writer::new();
    let mut always = csv_core::WriterBuilder::new()
        .quote_style(csv_core::QuoteStyle::Always)
        .build();
    let mut out = Vec::new();
    for cell in cells {
        let cell = cell.as_ref();
        let w = if cell.starts_with(' ') || cell.ends_with(' ') {
            &mut always
        } else {
            &mut necessary
        };
        csv_field(w, cell.as_bytes(), &mut out);
    }
    // Each cell ends with its delimiter; the record does not.
    out.pop();
    String::from_utf8(out).expect("csv-core writes UTF-8 cells and ASCII quotes and commas only")
}

/// Writes one cell and the delimiter after it.
fn csv_field(w: &mut csv_core::Writer, mut input: &[u8], out: &mut Vec<u8>) {
    let mut buf = [0u8; 4096];
    loop {
        let (res, nin, nout) = w.field(input, &mut buf);
        out.extend_from_slice(buf.get(..nout).unwrap_or_default());
        input = input.get(nin..).unwrap_or_default();
        if res == csv_core::WriteResult::InputEmpty {
            break;
        }
    }
    // Room for the closing quote and the comma: the buffer was just drained.
    let (_, nout) = w.delimiter(&mut buf);
    out.extend_from_slice(buf.get(..nout).unwrap_or_default());
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
