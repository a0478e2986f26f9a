//! Input stage: the only module that reads files. Event logs (CSV, JSON
//! Lines) and the customers roster become one compact, typed `EventLog`:
//! customers sorted by id, each with its events in log order. Reading is
//! streamed in blocks that are decoded on every core.

mod block;
mod decode;
pub mod roster;
pub mod schema;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::date::Date;
pub use roster::Roster;
pub use schema::Schema;

/// The format of an event log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// The format a file name implies: `.csv`, `.jsonl`, `.ndjson`.
    pub fn from_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Some(Format::Jsonl)
        } else {
            None
        }
    }
}

/// One event log to read.
pub struct Source {
    /// The name used in messages and ledgers (`events.csv`).
    pub name: String,
    pub format: Format,
    pub reader: Box<dyn Read + Send>,
}

#[derive(Clone, Copy, Debug)]
pub struct LoadOptions {
    pub as_of: Date,
    /// Undeclared kinds are errors.
    pub strict: bool,
    /// Bad rows go to `EventLog::rejects` instead of failing the load.
    pub keep_going: bool,
}

/// One event, 20 bytes; its attribute values are `vals[vals..vals + n]` of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub cust: u32,
    pub date: Date,
    /// The line in its file (the header is line 1).
    pub line: u32,
    pub kind: u16,
    /// The index of its file in `EventLog::files`.
    pub file: u16,
    pub vals: u32,
}

/// A customer to score.
#[derive(Clone, Debug)]
pub struct Customer {
    pub id: Box<str>,
    /// From the roster; `None` means the default class.
    pub class: Option<u16>,
    pub since: Option<Date>,
}

/// Everything read, ready to evaluate.
#[derive(Debug, Default)]
pub struct EventLog {
    pub files: Vec<String>,
    /// Sorted by id (byte order).
    pub customers: Vec<Customer>,
    /// Sorted by customer, then file, then line.
    pub events: Vec<Event>,
    /// `events[starts[i]..starts[i + 1]]` belong to customer `i`.
    starts: Vec<usize>,
    pub vals: Vec<i64>,
    pub summary: Summary,
    pub rejects: Vec<Reject>,
}

impl EventLog {
    pub fn events_of(&self, customer: usize) -> &[Event] {
        let (a, b) = (self.starts.get(customer).copied().unwrap_or(0), self.starts.get(customer + 1).copied().unwrap_or(0));
        self.events.get(a..b).unwrap_or(&[])
    }

    pub fn find(&self, id: &str) -> Option<usize> {
        self.customers.binary_search_by(|c| (*c.id).cmp(id)).ok()
    }
}

/// What happened to every row read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub rows: u64,
    /// Rows of declared kinds dated on or before the as-of date.
    pub used: u64,
    /// Rows dated after the as-of date, ignored.
    pub after_as_of: u64,
    /// Rows of kinds the rulebook does not declare, per kind.
    pub undeclared: BTreeMap<String, u64>,
    pub rejected: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let skipped: u64 = self.undeclared.values().sum();
        write!(f, "{} rows read: {} used, {} dated after the as-of date (ignored), {} skipped", self.rows, self.used, self.after_as_of, skipped)?;
        if !self.undeclared.is_empty() {
            let kinds: Vec<String> = self.undeclared.iter().map(|(k, n)| format!("{k} {n}")).collect();
            write!(f, " (undeclared kinds: {})", kinds.join(", "))?;
        }
        write!(f, ", {} rejected", self.rejected)
    }
}

/// A row rejected with `--keep-going`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub file: String,
    pub line: u64,
    pub reason: String,
    pub row: String,
}

/// A bad row or file: `events.csv:1042: date "2026-13-01" is not a valid date`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError {
    pub file: String,
    /// 0 when the error is about the whole file.
    pub line: u64,
    pub message: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file, self.message),
            n => write!(f, "{}:{n}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for DataError {}

/// Reads every source as one log, plus the roster's customers.
pub fn load(sources: Vec<Source>, schema: &Schema, roster: &Roster, opts: LoadOptions) -> Result<EventLog, DataError> {
    let mut merger = Merger::default();
    let mut summary = Summary::default();
    let mut rejects = Vec::new();
    let mut files = Vec::new();
    for (file_index, source) in sources.into_iter().enumerate() {
        let file = u16::try_from(file_index)
            .map_err(|_| DataError { file: source.name.clone(), line: 0, message: "too many event files (at most 65535)".into() })?;
        files.push(source.name.clone());
        let mut blocks = block::Blocks::new(source.reader, source.format, &source.name)?;
        let header = match source.format {
            Format::Csv => Some(decode::CsvHeader::new(blocks.header()?, schema, &source.name)?),
            Format::Jsonl => None,
        };
        let ctx = decode::Context { schema, header: header.as_ref(), name: &source.name, opts };
        let batch_size = rayon::current_num_threads().max(1) * 2;
        loop {
            let batch = blocks.next_batch(batch_size)?;
            if batch.is_empty() {
                break;
            }
            let decoded: Vec<decode::Decoded> = batch.par_iter().map(|b| decode::block(&ctx, b)).collect();
            for d in decoded {
                if let Some(err) = d.error {
                    return Err(err);
                }
                summary.rows += d.rows;
                summary.used += d.rows_used;
                summary.after_as_of += d.after_as_of;
                summary.rejected += d.rejects.len() as u64;
                for (kind, n) in d.undeclared {
                    *summary.undeclared.entry(kind).or_default() += n;
                }
                rejects.extend(d.rejects);
                merger.absorb(&d.custs, d.rows_out, d.vals, file);
            }
        }
    }
    Ok(merger.finish(roster, files, summary, rejects))
}

/// Interns customers and gathers events from decoded blocks, in log order.
#[derive(Default)]
struct Merger {
    ids: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    events: Vec<Event>,
    vals: Vec<i64>,
}

impl Merger {
    fn customer(&mut self, id: &str) -> u32 {
        if let Some(&n) = self.ids.get(id) {
            return n;
        }
        let n = self.names.len() as u32;
        self.names.push(id.into());
        self.ids.insert(id.into(), n);
        n
    }

    fn absorb(&mut self, custs: &[u8], rows: Vec<decode::Row>, vals: Vec<i64>, file: u16) {
        let base = self.vals.len() as u32;
        self.vals.extend(vals);
        for r in rows {
            let id = custs.get(r.cust.0 as usize..r.cust.1 as usize).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("");
            let cust = self.customer(id);
            if let Some(kind) = r.kind {
                self.events.push(Event { cust, date: r.date, line: r.line, kind, file, vals: base + r.vals });
            }
        }
    }

    fn finish(mut self, roster: &Roster, files: Vec<String>, summary: Summary, rejects: Vec<Reject>) -> EventLog {
        for id in roster.ids() {
            self.customer(id);
        }
        // Sort customers by id and renumber events accordingly.
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.par_sort_unstable_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
        let mut rank = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            rank[old as usize] = new as u32;
        }
        let mut names: Vec<Option<Box<str>>> = self.names.into_iter().map(Some).collect();
        let customers: Vec<Customer> = order
            .iter()
            .map(|&old| {
                let id = names[old as usize].take().unwrap_or_default();
                let entry = roster.get(&id);
                Customer { class: entry.and_then(|e| e.class), since: entry.and_then(|e| e.since), id }
            })
            .collect();
        let mut events = self.events;
        events.par_iter_mut().for_each(|e| e.cust = rank[e.cust as usize]);
        events.par_sort_unstable_by_key(|e| (e.cust, e.file, e.line));
        let mut starts = Vec::with_capacity(customers.len() + 1);
        let mut i = 0;
        for c in 0..customers.len() as u32 {
            starts.push(i);
            while events.get(i).is_some_and(|e| e.cust == c) {
                i += 1;
            }
        }
        starts.push(events.len());
        EventLog { files, customers, events, starts, vals: self.vals, summary, rejects }
    }
}
