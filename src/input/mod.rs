//! Input stage: the only module that reads files. Event logs (CSV, JSON
//! Lines) and the customers roster become one compact, typed `EventLog`:
//! customers sorted by id, each with its events in log order. Reading is
//! streamed in blocks that are decoded on every core.

mod block;
mod decode;
pub mod encoding;
mod fault;
mod near;
mod records;
pub mod roster;
mod scan;
pub mod schema;
mod sorted;
mod table;
mod trim;
pub use trim::release_free_memory;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, TryLockError};

use rayon::prelude::*;

use crate::date::Date;
pub use block::{Mapped, SharedFile};
pub use records::{from_records, Record};
pub use roster::Roster;
pub use schema::Schema;
pub use sorted::{fold_sorted, Keep, SortedRead};
use table::{Slot, Table};

/// The format of an event log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// The format a file name implies: `.csv` (also `.tsv` and `.txt`, as
    /// Excel saves tab-separated text), `.jsonl`, `.ndjson`.
    pub fn from_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") || lower.ends_with(".tsv") || lower.ends_with(".txt") {
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
    /// The file `reader` reads as it is (UTF-8, not transcoded), when its
    /// records may be read from memory it is mapped into instead
    /// (`block::Mapped`): faster, the same bytes.
    pub mapped: Option<block::Mapped>,
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

/// How a load keeps what it reads of each customer, instead of storing its
/// events: a fixed number of state words, laid out by the program, into
/// which every event is folded as it is read, in whatever order.
/// The result must not depend on the order of the events. A customer gets
/// its state with its first event: one no event is folded into keeps none
/// (`EventLog::state_of` is then empty, and means the initial state).
pub trait Fold: Sync {
    /// Appends the initial state of customer `id`, of this roster class
    /// (`None`: not on the roster, or no class).
    fn init(&self, id: &[u8], class: Option<u16>, words: &mut Vec<u32>);
    /// The most words any customer's state takes (to reserve room for them).
    fn max_words(&self) -> usize;
    /// Folds one event (its values are `vals[event.vals..]`) into the state
    /// of a customer of this roster class: the first words of `words`, as
    /// many as `init` appended (the rest are other customers'). The fold
    /// knows how many, so its load need not read the state's length (a
    /// cache line of its own for some rows: each one a miss).
    fn fold(&self, class: Option<u16>, words: &mut [u32], event: &Event, vals: &[i64]);
}

/// A customer id: up to 24 bytes (most ids) held in place, longer ones on
/// the heap — a million customers are not a million allocations.
pub type Id = compact_str::CompactString;

/// A customer to score.
#[derive(Clone, Debug)]
pub struct Customer {
    pub id: Id,
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
    /// The events, in one store per partition of the customers (as they
    /// were gathered, never copied into one), each sorted by customer, then
    /// file, then line.
    stores: Vec<Vec<Event>>,
    /// A folded load (`fold_within`): each customer's state words, in one
    /// store per partition; no events are kept.
    states: Option<Vec<Vec<u32>>>,
    /// Where each customer's events (or state) are in the stores.
    places: Vec<Place>,
    pub vals: Vec<i64>,
    pub summary: Summary,
    pub rejects: Vec<Reject>,
    /// The customers (by number) the roster does not list; `None` when not
    /// kept (a sorted or in-memory log).
    unlisted: Option<Vec<u32>>,
}

/// The states of a run of customers, side by side (`EventLog::gather`).
#[derive(Debug)]
pub struct Gathered {
    words: Vec<u32>,
    ends: Vec<u32>,
}

impl Gathered {
    /// The state of the `k`th customer of the run (empty: the initial one).
    pub fn state(&self, k: usize) -> &[u32] {
        self.words
            .get(nth_range(&self.ends, k))
            .expect("a state is a range of the run's words")
    }
}

/// The `k`th of consecutive ranges, each ending at `ends[k]` where the one
/// before it ends (the first at 0).
fn nth_range(ends: &[u32], k: usize) -> std::ops::Range<usize> {
    let end = *ends.get(k).expect("k numbers one of the ranges");
    let start = match k {
        0 => 0,
        _ => *ends.get(k - 1).expect("k numbers one of the ranges"),
    };
    start as usize..end as usize
}

/// `stores[store][start..start + len]` are one customer's events.
#[derive(Clone, Copy, Debug)]
struct Place {
    store: u32,
    len: u32,
    /// A `u32`, as `Slot::tally` is: a place takes 12 bytes, not 16.
    start: u32,
}

impl Place {
    fn new(store: u32, start: usize, len: u32) -> Place {
        let start = u32::try_from(start).expect("a store holds fewer than 2^32 events (or state words)");
        Place { store, len, start }
    }

    /// `start..start + len`.
    fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// `Place::len` of a state whose length is its first word, at
/// `Place::start` (a folded load's): the length is read with the state, not
/// when the place is made — there it was a read that missed the cache.
const LENGTH_FIRST: u32 = u32::MAX;

impl EventLog {
    /// A customer's events in log order (file, then line); none for a
    /// number that is not a customer.
    pub fn events_of(&self, customer: usize) -> &[Event] {
        assert!(
            self.states.is_none(),
            "a folded log keeps no events: its readers ask `state_of` first"
        );
        match self.places.get(customer) {
            Some(p) => self
                .stores
                .get(p.store as usize)
                .and_then(|s| s.get(p.range()))
                .expect("a place is a range of its store"),
            None => &[],
        }
    }

    /// Whether the log was folded (`fold_within`): it holds each customer's
    /// state, not its events.
    pub fn is_folded(&self) -> bool {
        self.states.is_some()
    }

    /// A customer's folded state; `None` unless the log was folded. Empty for
    /// a customer no event was folded into: it means the initial state.
    pub fn state_of(&self, customer: usize) -> Option<&[u32]> {
        let states = self.states.as_ref()?;
        let p = self.places.get(customer)?;
        let store = states.get(p.store as usize).expect("a place is in a store");
        let range = match p.len {
            LENGTH_FIRST => {
                let start = p.start as usize + 1;
                let len = *store.get(p.start as usize).expect("a state starts with its length");
                start..start + len as usize
            }
            _ => p.range(),
        };
        Some(store.get(range).expect("a place is a range of its store"))
    }

    /// The states of customers `run` (of a folded log; `None` otherwise),
    /// copied side by side. Each customer's state is a read that misses the
    /// cache (the states are laid out by partition, not by id); in this
    /// tight loop those reads overlap, where finishing one customer after
    /// another would wait for each in turn.
    pub fn gather(&self, run: &[usize]) -> Option<Gathered> {
        let states = self.states.as_ref()?;
        let mut g = Gathered {
            words: Vec::with_capacity(run.len() * 40),
            ends: Vec::with_capacity(run.len()),
        };
        for (k, &i) in run.iter().enumerate() {
            // The state of the customer `AHEAD` on is asked for (its length
            // first, then a few lines of words): its read, which needs the
            // length, does not wait for it.
            let ahead = run.get(k + AHEAD).and_then(|&a| self.places.get(a));
            if let Some(words) = ahead.and_then(|p| states.get(p.store as usize)?.get(p.start as usize..)) {
                table::prefetch(words.get(..32).unwrap_or(words));
            }
            g.words
                .extend_from_slice(self.state_of(i).expect("a folded log has a state for every customer"));
            g.ends
                .push(u32::try_from(g.words.len()).expect("a run's states are a few words each"));
        }
        Some(g)
    }

    /// Every event, customer by customer within each store.
    pub fn events_mut(&mut self) -> impl Iterator<Item = &mut Event> {
        self.stores.iter_mut().flatten()
    }

    /// The customers (by number, ascending) that are not on the roster the
    /// log was read with; `None` when the load did not keep them.
    pub fn unlisted(&self) -> Option<&[u32]> {
        self.unlisted.as_deref()
    }

    pub fn find(&self, id: &str) -> Option<usize> {
        self.customers.binary_search_by(|c| (*c.id).cmp(id)).ok()
    }
}

/// What happened to every row read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Valid rows (rejected rows are counted apart).
    pub rows: u64,
    /// Rows of declared kinds dated on or before the as-of date.
    pub used: u64,
    /// Rows dated after the as-of date, ignored.
    pub after_as_of: u64,
    /// Rows of kinds the rulebook does not declare, per kind.
    pub undeclared: BTreeMap<String, u64>,
    /// Rows with every cell empty (Excel's trailing `,,,,`), not counted in `rows`.
    pub blank: u64,
    pub rejected: u64,
    /// Columns (CSV) and keys (JSON Lines) that no declared kind has, each named once.
    pub unused_fields: BTreeSet<String>,
}

impl Summary {
    /// Every row read: scored + after the as-of date + skipped + blank + rejected.
    pub fn rows_read(&self) -> u64 {
        self.rows + self.blank + self.rejected
    }

    /// Rows of undeclared kinds.
    pub fn skipped(&self) -> u64 {
        self.undeclared.values().sum()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} rows read: {} scored, {} dated after the as-of date (ignored), {} skipped",
            self.rows_read(),
            self.used,
            self.after_as_of,
            self.skipped()
        )?;
        if !self.undeclared.is_empty() {
            let kinds: Vec<String> = self.undeclared.iter().map(|(k, n)| format!("{k} {n}")).collect();
            write!(f, " as undeclared kinds ({})", kinds.join(", "))?;
        }
        write!(f, ", {} blank, {} rejected", self.blank, self.rejected)?;
        if !self.unused_fields.is_empty() {
            let names: Vec<String> = self.unused_fields.iter().map(|n| format!("`{n}`")).collect();
            write!(f, "; fields no declared kind has (not read): {}", names.join(", "))?;
        }
        Ok(())
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

/// The roster a load starts from: lent, or given (`Given::Owned`) — a
/// roster given is let go of as soon as its customers are in the load's
/// tables, before any event is read. Its customers live on in the log: their
/// ids, classes and `since` dates, and which are not on it
/// (`EventLog::unlisted`).
pub enum Given<'r> {
    Lent(&'r Roster),
    Owned(Roster),
}

impl<'r> From<&'r Roster> for Given<'r> {
    fn from(roster: &'r Roster) -> Given<'r> {
        Given::Lent(roster)
    }
}

impl Given<'_> {
    fn roster(&self) -> &Roster {
        match self {
            Given::Lent(r) => r,
            Given::Owned(r) => r,
        }
    }
}

/// Reads every source as one log, plus the roster's customers.
pub fn load(sources: Vec<Source>, schema: &Schema, roster: &Roster, opts: LoadOptions) -> Result<EventLog, DataError> {
    load_within(sources, schema, roster, opts, Within::default())
}

/// Hints that let a load keep less.
#[derive(Clone, Debug, Default)]
pub struct Within {
    /// Keep no event dated on or before this: a program whose longest window
    /// is N months never looks before `as_of − N months`. Such rows are still
    /// validated, counted as scored, and their customers scored.
    pub horizon: Option<Date>,
    /// About how many rows the sources hold (from their sizes), so that the
    /// event store is reserved once instead of growing by doubling.
    pub rows: usize,
    /// Keep only some customers (see `Within::only`, `Within::between`):
    /// every row is still read, validated and counted, but no other
    /// customer is interned, stored or sorted.
    only: Option<Only>,
}

/// Which customers a load keeps (`Within::only`, `Within::between`).
#[derive(Clone, Debug)]
pub(crate) enum Only {
    /// The ids with this key.
    Key { key: fn(&str) -> u64, want: u64 },
    /// The ids at or after `from` and before `to` in byte order; an open
    /// end is unbounded.
    Range {
        from: Option<Arc<str>>,
        to: Option<Arc<str>>,
        /// About how many shares the customers are cut into (for reserving room).
        of: usize,
    },
}

impl Only {
    pub(crate) fn keeps(&self, id: &str) -> bool {
        match self {
            Only::Key { key, want } => key(id) == *want,
            // Whole ids, not their first 16 bytes: ids that share a long
            // prefix (`国网北京市电力公司-000123`) are still cut apart.
            Only::Range { from, to, .. } => {
                from.as_deref().is_none_or(|f| f <= id) && to.as_deref().is_none_or(|t| id < t)
            }
        }
    }

    /// Whether the load keeps a handful of customers, not a share of them.
    fn is_few(&self) -> bool {
        matches!(self, Only::Key { .. })
    }

    /// Into how many shares the customers are cut: a load reserves room for one.
    fn shares(only: Option<&Only>) -> usize {
        match only {
            Some(Only::Range { of, .. }) => (*of).max(1),
            _ => 1,
        }
    }
}

impl Within {
    pub fn new(horizon: Option<Date>, rows: usize) -> Within {
        Within {
            horizon,
            rows,
            only: None,
        }
    }

    /// A targeted load, for explaining one customer: the log keeps the
    /// customers whose ids have `id`'s `key` — `id` itself, and the few
    /// others the key does not tell apart (a loose key keeps `X ` beside `X`,
    /// so a warning about the two spellings can still be given) — not
    /// everyone.
    pub fn only(self, id: &str, key: fn(&str) -> u64) -> Within {
        Within {
            only: Some(Only::Key { key, want: key(id) }),
            ..self
        }
    }

    /// A load of one share of the customers, for reading a log in passes:
    /// the log keeps the customers whose ids come at or after `from` and
    /// before `to` in byte order (an open end is unbounded). Cut at the same
    /// ids, shares keep every customer exactly once and in order: every id
    /// of a share comes before every id of the next. Every row is still
    /// read, validated and counted. `of` is about how many shares there
    /// are, to reserve room for one.
    pub fn between(self, from: Option<&str>, to: Option<&str>, of: usize) -> Within {
        Within {
            only: Some(Only::Range {
                from: from.map(Arc::from),
                to: to.map(Arc::from),
                of,
            }),
            ..self
        }
    }
}

/// Like `load`, with hints (see `Within`).
pub fn load_within<'r>(
    sources: Vec<Source>,
    schema: &Schema,
    roster: impl Into<Given<'r>>,
    opts: LoadOptions,
    within: Within,
) -> Result<EventLog, DataError> {
    read(sources, schema, roster.into(), opts, within, None)
}

/// Like `load_within`, keeping no event: each is folded into its customer's
/// state by `fold` as it is read (see `EventLog::state_of`). Memory grows
/// with the customers, not with the events.
pub fn fold_within<'r>(
    sources: Vec<Source>,
    schema: &Schema,
    roster: impl Into<Given<'r>>,
    opts: LoadOptions,
    within: Within,
    fold: &dyn Fold,
) -> Result<EventLog, DataError> {
    read(sources, schema, roster.into(), opts, within, Some(fold))
}

fn read(
    sources: Vec<Source>,
    schema: &Schema,
    given: Given<'_>,
    opts: LoadOptions,
    within: Within,
    fold: Option<&dyn Fold>,
) -> Result<EventLog, DataError> {
    let horizon = within.horizon;
    let roster = given.roster();
    let mut merger = match (within.only.as_ref(), fold) {
        (Some(only), _) if only.is_few() => Merger::new(1, 1, fold),
        // A folded load keeps ~150 bytes a customer: a table reserved for the
        // most customers a log of this size could hold would outweigh them.
        (only, Some(_)) => Merger::new(roster.len().max(within.rows / 64) / Only::shares(only), 0, fold),
        (only, None) => Merger::new(
            (roster.len() + within.rows / 8) / Only::shares(only),
            within.rows / Only::shares(only),
            None,
        ),
    };
    merger.only = within.only.clone();
    // A load that keeps only some customers puts only those in its tables:
    // an id listed twice is looked for on its own.
    if merger.only.is_some() {
        roster.check_repeats()?;
    }
    // Roster customers first, with their class and history. One already in
    // the tables is an id listed twice, which only a roster not checked yet
    // can hold (`Roster::repeat` expects it).
    if merger.add_roster(roster) {
        return Err(roster.repeat());
    }
    drop(given);
    crate::timing::phase("roster into the tables");
    let known = decode::Names::of(schema);
    let mut files = Vec::new();
    for (file_index, source) in sources.into_iter().enumerate() {
        let file = u16::try_from(file_index).map_err(|_| DataError {
            file: source.name.clone(),
            line: 0,
            message: "too many event files (at most 65535)".into(),
        })?;
        files.push(source.name.clone());
        let Opened {
            name,
            mut blocks,
            header,
        } = Opened::new(source, schema, &known, &mut merger.summary)?;
        let ctx = decode::Context {
            schema,
            known: &known,
            header: header.as_ref(),
            name: &name,
            opts,
            horizon,
            only: within.only.as_ref(),
            split: true,
        };
        let read = match merger.fold {
            Some(fold) => merger.fold_file(&ctx, &mut blocks, fold, file),
            None => merger.store_file(&ctx, &mut blocks, file, &name),
        };
        // A page of the file that could not be read was read as zeros: no
        // result of it stands, not even a bad row the zeros made.
        if let Some(e) = blocks.faulted() {
            return Err(e);
        }
        read?;
    }
    crate::timing::phase("log read");
    let log = merger.finish(files);
    trim::release_free_memory();
    crate::timing::phase("customers sorted");
    Ok(log)
}

/// One event log opened: its blocks, and its header if it is CSV.
struct Opened {
    name: String,
    blocks: block::Blocks,
    header: Option<decode::CsvHeader>,
}

impl Opened {
    /// Opens a source and reads its header; the columns no declared kind has
    /// go to the summary.
    fn new(source: Source, schema: &Schema, known: &decode::Names, summary: &mut Summary) -> Result<Opened, DataError> {
        let mut blocks = block::Blocks::new(source.reader, source.format, &source.name)?;
        if let Some(m) = source.mapped {
            blocks.map(m);
        }
        let header = match source.format {
            Format::Csv => {
                let delimiter = blocks.delimiter();
                Some(decode::CsvHeader::new(
                    blocks.header()?,
                    delimiter,
                    schema,
                    known,
                    &source.name,
                )?)
            }
            Format::Jsonl => None,
        };
        if let Some(h) = &header {
            summary.unused_fields.extend(h.unknown.iter().cloned());
        }
        Ok(Opened {
            name: source.name,
            blocks,
            header,
        })
    }
}

/// Interns customers and gathers events from decoded blocks. Customers are
/// split by the hash of their id into `PARTS` partitions, each with its own
/// table, id arena and events, so every partition interns its share of a
/// batch on its own core: there is no sequential interning stage. Events go
/// into per-partition stores that are gathered and sorted by customer at the
/// end, so memory stays near 20 bytes an event plus its values.
struct Merger<'f> {
    parts: Vec<Part>,
    /// Fold events into states instead of storing them.
    fold: Option<&'f dyn Fold>,
    /// `Within::only`, `Within::between`.
    only: Option<Only>,
    vals: Vec<i64>,
    summary: Summary,
    rejects: Vec<Reject>,
}

/// Partitions of the customer table: enough for every core of a big machine
/// to have several, few enough that a block's rows split into useful runs.
const PARTS: usize = 64;

/// The partition of an id's hash: bits that neither the table's bucket index
/// (low bits) nor its control bytes (top 7 bits) use.
fn part_of(hash: u64) -> usize {
    (hash >> 40) as usize % PARTS
}

/// One partition of the customers: their ids, roster entries, event counts
/// and events (`Event::cust` is the number within the partition until
/// `Merger::finish`).
#[derive(Default)]
struct Part {
    table: Table,
    ids: Ids,
    /// Whether events are folded (`Slot::tally` is where a state is) or stored.
    folded: bool,
    events: Vec<Event>,
    words: Vec<u32>,
    /// Each customer's tally (`Slot::tally`), taken from the table when it is
    /// dropped (`Merger::finish`).
    tallies: Vec<u32>,
    /// Each customer's class (`Slot::class`), taken with its tally.
    classes: Vec<u16>,
}

/// A partition's customers by number: their ids and roster entries.
#[derive(Default)]
struct Ids {
    /// The ids, UTF-8 (the decoder and the roster check it) kept as bytes:
    /// rows are matched to customers without validating them again.
    arena: Vec<u8>,
    /// Where each customer's id ends in `arena` (it starts where the one
    /// before it ends).
    ends: Vec<u32>,
    /// What the roster says of each customer besides its class (which its
    /// slot holds): `NOT_LISTED`, `NO_SINCE`, or the day of its `since`.
    listed: Vec<i32>,
}

/// `Ids::listed` of a customer the roster does not list.
const NOT_LISTED: i32 = i32::MIN;
/// `Ids::listed` of a roster customer without a `since` date (dates are
/// days of years 1 to 9999, far from either).
const NO_SINCE: i32 = i32::MIN + 1;

/// `Ids::listed` of a customer with this roster entry (if any).
fn listed(entry: Option<&roster::Entry>) -> i32 {
    match entry {
        None => NOT_LISTED,
        Some(roster::Entry { since: None, .. }) => NO_SINCE,
        Some(roster::Entry { since: Some(d), .. }) => {
            assert!(d.days() > NO_SINCE, "a date's day is far from i32::MIN");
            d.days()
        }
    }
}

impl Ids {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn name(&self, i: u32) -> &[u8] {
        self.arena
            .get(nth_range(&self.ends, i as usize))
            .expect("an id is a range of the arena")
    }

    /// Numbers customer `id` (`listed` as the roster lists it).
    fn push(&mut self, id: &[u8], listed: i32) -> u32 {
        let i = u32::try_from(self.ends.len())
            .ok()
            .filter(|&i| i != table::EMPTY)
            .expect("a partition numbers its customers in a u32");
        self.arena.extend_from_slice(id);
        let end = u32::try_from(self.arena.len()).expect("a partition's ids fit in 4 GiB");
        self.ends.push(end);
        self.listed.push(listed);
        i
    }
}

/// The hash of a customer id, which places it in a partition (`part_of`)
/// and in its table (`Table::home`).
fn hash_id(id: &[u8]) -> u64 {
    hash_with_prefix(id, prefix(id))
}

/// `hash_id` of an id whose `prefix` is known (a decoded row carries it):
/// an id of up to 16 bytes is hashed from its prefix and length alone, a
/// folded multiply of two words, without another pass over its bytes.
/// Inline (once a row, in the decoder); a longer id's hash out of line.
#[inline]
fn hash_with_prefix(id: &[u8], [hi, lo]: [u64; 2]) -> u64 {
    if id.len() > 16 {
        return hash_long(id);
    }
    // The length tells apart ids that differ only by trailing NULs (their
    // prefixes are equal); the constants keep a zero word from zeroing the
    // product.
    let m = u128::from(hi ^ 0x243f_6a88_85a3_08d3) * u128::from(lo ^ (id.len() as u64) ^ 0x1319_8a2e_0370_7344);
    (m as u64) ^ (m >> 64) as u64
}

/// `hash_with_prefix` of an id longer than 16 bytes: all its bytes.
#[inline(never)]
fn hash_long(id: &[u8]) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(id)
}

/// The slot of customer `id` in a partition's table, added (numbered next in
/// `ids`, with its roster class and `Ids::listed`) if new, with the tally `fresh`.
/// Inline: nearly every row finds its customer there already.
#[inline(always)]
fn slot<'t>(
    table: &'t mut Table,
    ids: &mut Ids,
    row: (&[u8], u64, [u64; 2]),
    entry: (u16, i32),
    fresh: u32,
) -> &'t mut Slot {
    let (id, hash, head) = row;
    let head = Slot::head(head);
    let len = u16::try_from(id.len()).unwrap_or(u16::MAX);
    let known = &*ids;
    // An id of up to 16 bytes is its head and length: no trip to the arena.
    let eq = |s: &Slot| s.head == head && s.len == len && (id.len() <= 16 || known.name(s.i) == id);
    match table.find(hash, eq) {
        Ok(found) => table.get_mut(found),
        Err(vacant) => added(table, ids, (id, hash, head, len), entry, fresh, vacant),
    }
}

/// `slot` of a customer not in the table: put in the empty slot its probe
/// ended at, or, when the table grows first, in the one a probe of the grown
/// table ends at.
#[inline(never)]
fn added<'t>(
    table: &'t mut Table,
    ids: &mut Ids,
    (id, hash, head, len): (&[u8], u64, [u32; 4], u16),
    (class, listed): (u16, i32),
    fresh: u32,
    vacant: usize,
) -> &'t mut Slot {
    let vacant = match table.make_room(|s| hash_id(ids.name(s.i))) {
        // Not in the table (its probe ended empty): any slot is no match.
        true => table
            .find(hash, |_| false)
            .expect_err("a customer not in a table is not in it grown"),
        false => vacant,
    };
    let i = ids.push(id, listed);
    let slot = Slot {
        head,
        len,
        class,
        i,
        tally: fresh,
    };
    table.put(vacant, slot)
}

/// How many rows ahead of the one it matches a partition's sweep asks for a
/// row's home slot (and its values) to be brought into cache: each row's
/// slot is a cache miss (its customer's last row was many blocks ago), and
/// asked for early, the misses of a run of rows overlap instead of waiting
/// one after another. Measured: 8, 16 and 32 alike, all ≈ 10% faster reading
/// on one core; asking for the state as well was no faster.
const AHEAD: usize = 16;

/// Roster customers split by partition at a time (`Merger::add_roster`).
const ROSTER_RUN: usize = 1 << 16;

/// A roster customer as its partition takes it (`Merger::add_roster`).
struct Listed<'r> {
    id: &'r str,
    hash: u64,
    head: [u64; 2],
    /// `Ids::listed`.
    listed: i32,
    /// `Slot::class`.
    class: u16,
}

/// The bytes of a `prefix`: an id of up to 16 bytes, zero-padded.
fn head_bytes([hi, lo]: [u64; 2]) -> [u8; 16] {
    (u128::from(hi) << 64 | u128::from(lo)).to_be_bytes()
}

impl Part {
    fn name(&self, i: u32) -> &[u8] {
        self.ids.name(i)
    }

    /// The number of customer `id` (off the roster), added if new.
    fn customer(&mut self, row: (&[u8], u64, [u64; 2])) -> u32 {
        let fresh = if self.folded { NO_STATE } else { 0 };
        slot(&mut self.table, &mut self.ids, row, OFF_ROSTER, fresh).i
    }

    /// Stores one event of customer `row`.
    fn store(&mut self, row: (&[u8], u64, [u64; 2]), mut event: Event) {
        let s = slot(&mut self.table, &mut self.ids, row, OFF_ROSTER, 0);
        s.tally = s
            .tally
            .checked_add(1)
            .expect("a customer's events are counted in a u32");
        event.cust = s.i;
        self.events.push(event);
    }

    /// Folds one event of customer `row` into its state, made on its first event.
    fn fold(&mut self, fold: &dyn Fold, row: (&[u8], u64, [u64; 2]), mut event: Event, vals: &[i64]) {
        let s = slot(&mut self.table, &mut self.ids, row, OFF_ROSTER, NO_STATE);
        event.cust = s.i;
        let class = (s.class != NO_CLASS).then_some(s.class);
        if s.tally == NO_STATE {
            let at = self.words.len();
            s.tally = u32::try_from(at).expect("a partition's states fit in 2^32 words");
            self.words.push(0);
            fold.init(row.0, class, &mut self.words);
            let len = self.words.len() - at - 1;
            *self.words.get_mut(at).expect("the length word was just pushed") =
                u32::try_from(len).expect("a customer's state is a few words");
        }
        // The state's words follow its length, which the fold does not need.
        let words = self
            .words
            .get_mut(s.tally as usize + 1..)
            .expect("a state is within its partition's words");
        fold.fold(class, words, &event, vals);
    }

    /// Takes each customer's tally out of the table, then drops the table.
    fn drop_table(&mut self) {
        let mut tallies = vec![0u32; self.ids.len()];
        let mut classes = vec![NO_CLASS; self.ids.len()];
        for s in self.table.iter() {
            *tallies.get_mut(s.i as usize).expect("a slot numbers a customer") = s.tally;
            *classes.get_mut(s.i as usize).expect("a slot numbers a customer") = s.class;
        }
        self.tallies = tallies;
        self.classes = classes;
        self.table = Table::with_room(0);
    }

    /// Where customer `i`'s state is in this partition's words (a folded load).
    fn state_place(&self, p: u32, i: u32) -> Place {
        debug_assert!(self.folded, "a state's place is asked of a folded load");
        match *self.tallies.get(i as usize).expect("every customer has a tally") {
            // No event was folded into it: an empty state, which means the initial one.
            NO_STATE => Place::new(p, 0, 0),
            at => Place::new(p, at as usize, LENGTH_FIRST),
        }
    }

    /// Where customer `i`'s events are in this partition's sorted store (a
    /// stored load), given where they start (`next`, moved past them).
    fn events_place(&self, p: u32, i: u32, next: &mut usize) -> Place {
        debug_assert!(!self.folded, "events' place is asked of a stored load");
        let n = *self.tallies.get(i as usize).expect("every customer has a tally");
        let start = *next;
        *next += n as usize;
        Place::new(p, start, n)
    }
}

/// `Slot::tally` of a customer no event has been folded into yet.
const NO_STATE: u32 = u32::MAX;

/// `Slot::class` of a customer without a roster class.
const NO_CLASS: u16 = u16::MAX;

/// The class and `Ids::listed` of a customer the roster does not list.
const OFF_ROSTER: (u16, i32) = (NO_CLASS, NOT_LISTED);

/// Adds a decoded block's counts and rejects to the load's; its first bad
/// row, when not keeping going, ends the load.
fn account(s: &mut Summary, rejects: &mut Vec<Reject>, d: &mut decode::Decoded) -> Result<(), DataError> {
    if let Some(err) = d.error.take() {
        return Err(err);
    }
    s.rows += d.rows;
    s.used += d.rows_used;
    s.after_as_of += d.after_as_of;
    s.blank += d.blank;
    s.unused_fields.append(&mut d.unknown);
    s.rejected += d.rejects.len() as u64;
    for (kind, n) in std::mem::take(&mut d.undeclared) {
        *s.undeclared.entry(kind).or_default() += n;
    }
    rejects.append(&mut d.rejects);
    Ok(())
}

/// A row's customer id (UTF-8): up to 16 bytes, its head (the decoder did
/// not copy it); longer, where the decoder stored it in its block.
fn row_id<'a>(custs: &'a [u8], r: &decode::Row) -> RowId<'a> {
    let (start, len) = (r.cust.0 as usize, r.cust.1 as usize);
    match len {
        0..=16 => RowId::Short(head_bytes(r.head), len),
        _ => RowId::Long(
            custs
                .get(start..start + len)
                .expect("the decoder stores each long customer id within its block"),
        ),
    }
}

/// A row's customer id (`row_id`).
enum RowId<'a> {
    /// The id's head, and its length (at most 16).
    Short([u8; 16], usize),
    Long(&'a [u8]),
}

impl RowId<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            RowId::Short(head, len) => head.get(..*len).expect("a short id is at most 16 bytes"),
            RowId::Long(id) => id,
        }
    }
}

/// The first 16 bytes of an id, zero-padded, big-endian, as two words: when
/// two prefixes differ they order as the ids do (byte order); equal ones say
/// nothing.
fn prefix(id: &[u8]) -> [u64; 2] {
    // Whole words where the id has them (a call to copy a few bytes into a
    // buffer costs more on this hot path).
    let word = |w: &[u8]| w.try_into().map(u64::from_be_bytes).ok();
    let n = id.len();
    match (id.get(..8).and_then(word), id.get(8..16).and_then(word)) {
        (Some(hi), Some(lo)) => [hi, lo],
        (Some(hi), None) => {
            // 8 to 15 bytes: the last eight, shifted so that byte 8 leads.
            let last = id.get(n - 8..).and_then(word).expect("the id has 8 bytes or more");
            [hi, last.checked_shl(8 * (16 - n as u32)).unwrap_or(0)]
        }
        _ => {
            let v = id.iter().fold(0u64, |v, &b| v << 8 | u64::from(b));
            [v.checked_shl(8 * (8 - n as u32)).unwrap_or(0), 0]
        }
    }
}

/// An id kept as bytes, as text: the decoder and the roster checked it.
fn id_text(id: &[u8]) -> &str {
    std::str::from_utf8(id).expect("customer ids are checked to be UTF-8 when read")
}

/// A customer as `Merger::finish` sorts them: its id's head, its number in
/// its partition, and what the log keeps of it besides its id.
struct Sorted {
    head: [u64; 2],
    i: u32,
    /// `Ids::listed`.
    listed: i32,
    part: u16,
    /// `Slot::class`.
    class: u16,
    /// The id's length when it is 16 bytes or less (its head is then the
    /// whole id), else `LONG`.
    len: u8,
}

/// `Sorted::len` of an id longer than its head.
const LONG: u8 = u8::MAX;

impl<'f> Merger<'f> {
    /// Room for about `customers` customers and `rows` events, spread over
    /// the partitions. Reserved address space costs no memory until it is
    /// written (a hint too large to reserve is simply ignored).
    fn new(customers: usize, rows: usize, fold: Option<&'f dyn Fold>) -> Merger<'f> {
        // Each table is written empty as it is made: on every core.
        let parts = (0..PARTS)
            .into_par_iter()
            .map(|_| {
                let mut p = Part {
                    folded: fold.is_some(),
                    ..Part::default()
                };
                p.table = Table::with_room(customers / PARTS + 1);
                let _ = p.events.try_reserve((rows.min(1 << 27) / PARTS) * 9 / 8);
                p
            })
            .collect();
        Merger {
            parts,
            fold,
            only: None,
            vals: Vec::new(),
            summary: Summary::default(),
            rejects: Vec::new(),
        }
    }

    /// Puts the roster's customers in the tables; whether one was there
    /// already (an id listed twice: `Roster::is_unchecked`).
    fn add_roster(&mut self, roster: &Roster) -> bool {
        // Room for every listed customer (and a few more from the log) in
        // every partition, without regrowing; for each one's state too (and
        // its length word), reserved, not touched, until its first event.
        // A load that keeps one customer (`Within::only`) reserves nothing.
        let (count, bytes) = match self.only.as_ref() {
            Some(only) if only.is_few() => (0, 0),
            only => {
                let parts = PARTS * Only::shares(only);
                (roster.len() / parts, roster.id_bytes() / parts)
            }
        };
        let (count, bytes) = (count + count / 16 + 16, bytes + bytes / 16 + 256);
        let words = self.fold.map(|f| count * (f.max_words() + 1));
        self.parts.par_iter_mut().for_each(|part| {
            if let Some(words) = words {
                part.words.reserve(words);
            }
            part.ids.ends.reserve(count);
            part.ids.listed.reserve(count);
            part.ids.arena.reserve(bytes);
        });
        let only = self.only.as_ref();
        // A run of the roster at a time on each core (its pieces as its
        // cores read them, cut into runs): each customer as what its
        // partition needs, split by partition, then every partition takes
        // its share in one sweep, not scattered over the roster (and the
        // groups of runs, always about the same size, reuse one another's memory).
        let cores = rayon::current_num_threads().max(1);
        let mut runs = roster.runs(ROSTER_RUN / cores);
        let mut twice = false;
        while !runs.is_empty() {
            let group: Vec<_> = runs.drain(..cores.min(runs.len())).collect();
            let runs: Vec<Vec<Vec<Listed<'_>>>> = group
                .into_par_iter()
                .map(|run| {
                    let mut split: Vec<Vec<Listed<'_>>> = (0..PARTS)
                        .map(|_| Vec::with_capacity(ROSTER_RUN / cores / PARTS * 3 / 2))
                        .collect();
                    for (id, entry) in run.filter(|(id, _)| only.is_none_or(|only| only.keeps(id))) {
                        let head = prefix(id.as_bytes());
                        let hash = hash_with_prefix(id.as_bytes(), head);
                        split
                            .get_mut(part_of(hash))
                            .expect("part_of is below PARTS")
                            .push(Listed {
                                id,
                                hash,
                                head,
                                listed: listed(Some(entry)),
                                class: entry.class.unwrap_or(NO_CLASS),
                            });
                    }
                    split
                })
                .collect();
            let found = self.parts.par_iter_mut().enumerate().map(|(p, part)| {
                let fresh = if part.folded { NO_STATE } else { 0 };
                let (known, mut listed) = (part.ids.len(), 0);
                for share in runs
                    .iter()
                    .map(|run| run.get(p).expect("a run is split into every partition"))
                {
                    for (j, l) in share.iter().enumerate() {
                        if let Some(ahead) = share.get(j + AHEAD) {
                            part.table.prefetch(ahead.hash);
                        }
                        // An id of up to 16 bytes is its head: the roster is not read again.
                        let head = head_bytes(l.head);
                        let id = match head.get(..l.id.len()) {
                            Some(short) => short,
                            None => l.id.as_bytes(),
                        };
                        slot(
                            &mut part.table,
                            &mut part.ids,
                            (id, l.hash, l.head),
                            (l.class, l.listed),
                            fresh,
                        );
                        listed += 1;
                    }
                }
                // Each listing numbers a new customer, unless its id was
                // listed before.
                part.ids.len() - known < listed
            });
            // Every partition takes its share, whatever the others found.
            twice |= found.reduce(|| false, |a, b| a || b);
        }
        twice
    }

    /// Reads and folds one file of a folded load. Every core runs the same
    /// loop until the file ends: take the next block from the reader (under
    /// its lock: blocks are cut in file order), decode it, and fold its rows
    /// into their partitions at once, while they are in cache (`fold_block`).
    /// No core waits for a batch to end before it reads on. The blocks'
    /// counts and rejects are accounted in file order as they come in; the
    /// first bad row, or a failure to read, in file order, ends the load
    /// (the cores stop taking blocks once one is found).
    fn fold_file(
        &mut self,
        ctx: &decode::Context<'_>,
        blocks: &mut block::Blocks,
        fold: &dyn Fold,
        file: u16,
    ) -> Result<(), DataError> {
        let Merger {
            parts,
            summary,
            rejects,
            ..
        } = self;
        let locked: Vec<Mutex<&mut Part>> = parts.iter_mut().map(Mutex::new).collect();
        let feed = Mutex::new(Feed {
            blocks,
            taken: 0,
            failed: None,
        });
        let books = Mutex::new(Books {
            summary,
            rejects,
            next: 0,
            waiting: BTreeMap::new(),
            failed: None,
        });
        let stop = AtomicBool::new(false);
        let work = || {
            let mut done: Option<block::Block> = None;
            while let Some((k, b)) = take_block(&feed, &stop, done.take()) {
                let mut d = decode::block(ctx, &b);
                fold_block(&locked, &d, fold, file);
                // Only its counts and rejects are kept.
                (d.parts, d.custs, d.vals) = Default::default();
                let mut books = books.lock().expect("the books' lock poisoned: a fold panicked");
                if books.enter(k, d).is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
                done = Some(b);
            }
        };
        rayon::scope(|s| {
            for _ in 1..rayon::current_num_threads() {
                s.spawn(|_| work());
            }
            work();
        });
        let feed = feed.into_inner().expect("the reader's lock poisoned: a fold panicked");
        let books = books.into_inner().expect("the books' lock poisoned: a fold panicked");
        // Every block before a failure to read was accounted, or ended the load first.
        match (books.failed, feed.failed) {
            (Some(e), _) | (None, Some(e)) => Err(e),
            (None, None) => Ok(()),
        }
    }

    /// Reads one file of a stored load (not folded): its blocks decoded on
    /// every core and merged into the partitions.
    fn store_file(
        &mut self,
        ctx: &decode::Context<'_>,
        blocks: &mut block::Blocks,
        file: u16,
        name: &str,
    ) -> Result<(), DataError> {
        let batch_size = rayon::current_num_threads().max(1) * 2;
        // Decoding batch k+1 on every core overlaps merging batch k and
        // reading batch k+2. A failure to read ends the batch it was met in;
        // the blocks before it are decoded and merged first, so that the
        // first error in file order is named.
        let mut pending: Vec<decode::Decoded> = Vec::new();
        let (mut batch, mut failed) = blocks.next_batch(batch_size);
        loop {
            let last = batch.is_empty() || failed.is_some();
            let (decoded, (merged, next)) = rayon::join(
                || batch.par_iter().map(|b| decode::block(ctx, b)).collect::<Vec<_>>(),
                || {
                    let merged = self.absorb_all(std::mem::take(&mut pending), file, name);
                    let next = match last {
                        true => (Vec::new(), None),
                        false => blocks.next_batch(batch_size),
                    };
                    (merged, next)
                },
            );
            merged?;
            blocks.recycle(std::mem::take(&mut batch));
            if last {
                self.absorb_all(decoded, file, name)?;
                if let Some(e) = failed {
                    return Err(e);
                }
                return Ok(());
            }
            pending = decoded;
            (batch, failed) = next;
        }
    }

    /// Merges decoded blocks of a stored load (decoded with `split`: their
    /// rows by partition); the first bad row ends the load. The summaries,
    /// rejects and values are gathered in order, then each partition takes
    /// its rows on its own.
    fn absorb_all(&mut self, decoded: Vec<decode::Decoded>, file: u16, name: &str) -> Result<(), DataError> {
        assert!(self.fold.is_none(), "a folded load folds each block as it is decoded");
        let mut blocks = Vec::with_capacity(decoded.len());
        for mut d in decoded {
            account(&mut self.summary, &mut self.rejects, &mut d)?;
            assert!(
                d.rows_out.is_empty() && d.parts.len() == PARTS,
                "a merged block is decoded split by partition"
            );
            // An event's values are numbered in a `u32`, as far as the last of them.
            let (Ok(base), Ok(_)) = (
                u32::try_from(self.vals.len()),
                u32::try_from(self.vals.len() + d.vals.len()),
            ) else {
                return Err(DataError {
                    file: name.to_string(),
                    line: 0,
                    message: "the events' values are too many to keep at once (more than 2^32): give --memory a smaller limit, so that the log is read in shares".into(),
                });
            };
            self.vals.extend(d.vals);
            blocks.push((d.custs, d.parts, base));
        }
        self.parts.par_iter_mut().enumerate().for_each(|(p, part)| {
            for (custs, parts, base) in &blocks {
                let rows = parts
                    .get(p)
                    .expect("a block decoded split has a list for every partition");
                part.sweep(rows, custs, &[], *base, None, file);
            }
        });
        Ok(())
    }
}

/// Folds a block's rows (decoded with `split`) into their partitions as
/// soon as it is decoded, while they are in cache, each partition under its
/// lock: a partition another core holds is come back to after the others.
/// Rows are folded in no set order, which no state depends on (`Fold`).
fn fold_block(locked: &[Mutex<&mut Part>], d: &decode::Decoded, fold: &dyn Fold, file: u16) {
    assert!(
        d.rows_out.is_empty() && d.parts.len() == PARTS,
        "a folded block is decoded split by partition"
    );
    let lock = |p: usize| locked.get(p).expect("a lock for every partition");
    let rows = |p: usize| {
        d.parts
            .get(p)
            .expect("a block decoded split has a list for every partition")
    };
    let mut busy: Vec<usize> = Vec::new();
    for p in (0..d.parts.len()).filter(|&p| !rows(p).is_empty()) {
        match lock(p).try_lock() {
            Ok(mut part) => part.sweep(rows(p), &d.custs, &d.vals, 0, Some(fold), file),
            Err(TryLockError::WouldBlock) => busy.push(p),
            Err(TryLockError::Poisoned(_)) => panic!("a partition's lock poisoned: a sweep panicked"),
        }
    }
    for p in busy {
        let mut part = lock(p).lock().expect("a partition's lock poisoned: a sweep panicked");
        part.sweep(rows(p), &d.custs, &d.vals, 0, Some(fold), file);
    }
}

/// The reader of a folded load's file, shared by the cores (`Merger::fold_file`).
struct Feed<'b> {
    blocks: &'b mut block::Blocks,
    /// How many blocks were taken: the next one's number.
    taken: usize,
    /// A failure to read, which ends the file: the blocks before it are still decoded.
    failed: Option<DataError>,
}

/// The next block of a folded load's file and its number, once the block a
/// core is done with (`done`) is given back for its buffer; none at the end
/// of the file, after a failure to read, or once a bad row stopped the load.
fn take_block(feed: &Mutex<Feed<'_>>, stop: &AtomicBool, done: Option<block::Block>) -> Option<(usize, block::Block)> {
    let mut feed = feed.lock().expect("the reader's lock poisoned: a fold panicked");
    if let Some(b) = done {
        feed.blocks.recycle(vec![b]);
    }
    if stop.load(Ordering::Relaxed) || feed.failed.is_some() {
        return None;
    }
    match feed.blocks.next_block() {
        Ok(Some(b)) => {
            let k = feed.taken;
            feed.taken += 1;
            Some((k, b))
        }
        Ok(None) => None,
        Err(e) => {
            feed.failed = Some(e);
            None
        }
    }
}

/// A folded load's counts and rejects, which its blocks enter in file
/// order whatever order they are decoded in (`Merger::fold_file`).
struct Books<'m> {
    summary: &'m mut Summary,
    rejects: &'m mut Vec<Reject>,
    /// The number of the next block to account.
    next: usize,
    /// Blocks decoded before one that comes earlier in the file.
    waiting: BTreeMap<usize, decode::Decoded>,
    /// The first bad row, in file order, which ends the load.
    failed: Option<DataError>,
}

impl Books<'_> {
    /// Enters block `k`, and every block waiting for it; an error once the
    /// load has failed (its bad row is the first in file order).
    fn enter(&mut self, k: usize, d: decode::Decoded) -> Result<(), ()> {
        self.waiting.insert(k, d);
        while self.failed.is_none() {
            let Some(mut d) = self.waiting.remove(&self.next) else {
                break;
            };
            self.next += 1;
            if let Err(e) = account(self.summary, self.rejects, &mut d) {
                self.failed = Some(e);
            }
        }
        match self.failed {
            Some(_) => Err(()),
            None => Ok(()),
        }
    }
}

impl Part {
    /// Matches a block's rows of this partition to their customers and
    /// folds them (`fold`) or stores them; an event's values are
    /// `vals[r.vals..]` (a folded load), numbered from `base` in the load's
    /// values (a stored load).
    #[inline(always)]
    fn sweep(
        &mut self,
        rows: &[decode::Row],
        custs: &[u8],
        vals: &[i64],
        base: u32,
        fold: Option<&dyn Fold>,
        file: u16,
    ) {
        for (j, r) in rows.iter().enumerate() {
            if let Some(ahead) = rows.get(j + AHEAD) {
                self.table.prefetch(ahead.hash);
                let at = ahead.vals as usize;
                if let Some(v) = vals.get(at..at + 2).or_else(|| vals.get(at..)) {
                    table::prefetch(v);
                }
            }
            let id = row_id(custs, r);
            let row = (id.bytes(), r.hash, r.head);
            let Some(kind) = r.kind else {
                // Its customer is scored all the same.
                self.customer(row);
                continue;
            };
            let event = Event {
                // Numbered as it is found.
                cust: 0,
                date: r.date,
                line: r.line,
                kind,
                file,
                vals: base + r.vals,
            };
            match fold {
                Some(fold) => self.fold(fold, row, event, vals),
                None => self.store(row, event),
            }
        }
    }
}

impl Merger<'_> {
    fn finish(mut self, files: Vec<String>) -> EventLog {
        self.parts.par_iter_mut().for_each(Part::drop_table);
        trim::release_free_memory();
        // Customers sorted by id, by a 16-byte prefix first (the full ids
        // only where prefixes tie), each with what the log needs of it read
        // in one sweep of its partition: the sorted customers are then made
        // without going back to the partitions, each a read that misses the cache.
        // Made by index, so that they are written straight into one vector
        // (not gathered in pieces and copied: fresh pages cost more than
        // the search for each one's partition, among 64 starts).
        let starts: Vec<usize> = std::iter::once(0)
            .chain(self.parts.iter().scan(0, |n, p| {
                *n += p.ids.len();
                Some(*n)
            }))
            .collect();
        let total = *starts.last().expect("the starts end with the total");
        let parts = &self.parts;
        let mut order: Vec<Sorted> = (0..total)
            .into_par_iter()
            .with_min_len(1 << 12)
            .map(|n| {
                let p = starts.partition_point(|&s| s <= n) - 1;
                let part = parts.get(p).expect("a customer's partition");
                let i = n - starts.get(p).expect("a partition's start");
                let id = part.ids.name(i as u32);
                Sorted {
                    head: prefix(id),
                    i: i as u32,
                    listed: *part.ids.listed.get(i).expect("every customer has an entry slot"),
                    part: u16::try_from(p).expect("PARTS fits in a u16"),
                    class: *part.classes.get(i).expect("every customer has a class slot"),
                    len: u8::try_from(id.len()).ok().filter(|&n| n <= 16).unwrap_or(LONG),
                }
            })
            .collect();
        // What `order` holds of each customer goes from its partition before
        // the sort (only the ids are read again, where prefixes tie).
        self.parts.par_iter_mut().for_each(|p| {
            p.ids.listed = Vec::new();
            p.classes = Vec::new();
        });
        let parts = &self.parts;
        let part = |p: u16| parts.get(usize::from(p)).expect("a partition number");
        let name = |k: &Sorted| part(k.part).name(k.i);
        order.par_sort_unstable_by(|a, b| a.head.cmp(&b.head).then_with(|| name(a).cmp(name(b))));
        trim::release_free_memory();
        let customers: Vec<Customer> = order
            .par_iter()
            .map(|k| {
                let head = head_bytes(k.head);
                // An id of up to 16 bytes is its head: the arena is not read.
                let id = match head.get(..usize::from(k.len)) {
                    Some(short) => short,
                    None => name(k),
                };
                Customer {
                    class: (k.class != NO_CLASS).then_some(k.class),
                    since: (k.listed > NO_SINCE).then(|| Date::from_days(k.listed)),
                    id: id_text(id).into(),
                }
            })
            .collect();
        let unlisted: Vec<u32> = order
            .par_iter()
            .enumerate()
            .filter(|(_, k)| k.listed == NOT_LISTED)
            .map(|(n, _)| u32::try_from(n).expect("customers are numbered in a u32"))
            .collect();
        // The ids are in `customers` now: their arenas go before the places
        // are made.
        for part in &mut self.parts {
            part.ids = Ids::default();
        }
        trim::release_free_memory();
        let parts = &self.parts;
        let part = |p: u16| parts.get(usize::from(p)).expect("a partition number");
        let places: Vec<Place> = if self.fold.is_some() {
            // A state's place is in its slot's tally: found on every core
            // (each is a read that misses the cache).
            order
                .par_iter()
                .map(|k| part(k.part).state_place(u32::from(k.part), k.i))
                .collect()
        } else {
            // A partition's customers are in the same order in its sorted store
            // as in `order`, so each run starts where the previous one ended.
            let mut next = vec![0usize; PARTS];
            order
                .iter()
                .map(|k| {
                    let next = next.get_mut(usize::from(k.part)).expect("a partition number");
                    part(k.part).events_place(u32::from(k.part), k.i, next)
                })
                .collect()
        };
        if self.fold.is_some() {
            drop(order);
            let states = self.parts.iter_mut().map(|p| std::mem::take(&mut p.words)).collect();
            return EventLog {
                files,
                customers,
                stores: Vec::new(),
                states: Some(states),
                places,
                vals: Vec::new(),
                summary: self.summary,
                rejects: self.rejects,
                unlisted: Some(unlisted),
            };
        }
        let mut rank: Vec<Vec<u32>> = self.parts.iter().map(|p| vec![0u32; p.tallies.len()]).collect();
        for (new, k) in order.iter().enumerate() {
            if let Some(r) = rank.get_mut(usize::from(k.part)).and_then(|r| r.get_mut(k.i as usize)) {
                *r = new as u32;
            }
        }
        drop(order);
        // Renumbered and sorted in place, one store per core at a time: by
        // customer, then log order (file, line). Each customer's events are
        // then one run of its partition's store.
        let mut stores: Vec<Vec<Event>> = self.parts.iter_mut().map(|p| std::mem::take(&mut p.events)).collect();
        stores.par_iter_mut().zip(&rank).for_each(|(events, rank)| {
            for e in events.iter_mut() {
                e.cust = rank.get(e.cust as usize).copied().expect("every customer has a rank");
            }
            events.sort_unstable_by_key(|e| (e.cust, e.file, e.line));
        });
        EventLog {
            files,
            customers,
            stores,
            states: None,
            places,
            vals: self.vals,
            summary: self.summary,
            rejects: self.rejects,
            unlisted: Some(unlisted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts each customer's events.
    struct Counting;

    impl Fold for Counting {
        fn init(&self, _id: &[u8], _class: Option<u16>, words: &mut Vec<u32>) {
            words.push(0);
        }
        fn max_words(&self) -> usize {
            1
        }
        fn fold(&self, _class: Option<u16>, words: &mut [u32], _event: &Event, _vals: &[i64]) {
            if let Some(n) = words.first_mut() {
                *n += 1;
            }
        }
    }

    /// A temporary file, removed when dropped (a failing test leaves none).
    struct TempFile(std::path::PathBuf);

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// A log file cut short by another program while it is read: from
    /// memory it is mapped into (the pages past its new end are read as
    /// zeros, not a bus error; a cut within its last page faults no page at
    /// all), or read in (a log of another encoding). The load — folded,
    /// stored, or read as sorted — ends with the error that names the file,
    /// even where the zeros made a row `--keep-going` would set aside and go
    /// on, or the read ended early at the new end with every row whole.
    #[test]
    fn a_log_cut_short_while_it_is_read_is_an_error_naming_it() {
        let checked = crate::load(include_str!("../../rules/credit.rules")).expect("the published standard");
        let schema = &checked.program.schema;
        let mut text = String::from("customer,date,kind,months,verified,reach,persons,dimension,score\n");
        for i in 0..100_000 {
            text.push_str(&format!("C{i:07},2026-01-{:02},arrears,1,,,,,\n", i % 28 + 1));
        }
        let whole = text.len() as u64;
        let row = text.lines().last().map_or(0, |l| l.len() as u64 + 1);
        let path = TempFile(std::env::temp_dir().join(format!("rulebook-cut-short-{}.csv", std::process::id())));
        // The file as written, read (and mapped, if `map`); cut to `cut`
        // bytes at its first block.
        let source = |map: bool, cut: Option<u64>| {
            std::fs::write(&path.0, &text).expect("a temporary file is written");
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path.0)
                .expect("the file just written opens");
            let file = Arc::new(file);
            let mapped = Mapped::new(file.clone(), None, map);
            vec![Source {
                name: "events.csv".into(),
                format: Format::Csv,
                reader: Box::new(SharedFile(file)),
                mapped: Some(match cut {
                    Some(len) => mapped.cut_short_at_first_block(len),
                    None => mapped,
                }),
            }]
        };
        let roster = Roster::default();
        for (map, keep_going) in [(true, false), (true, true), (false, false), (false, true)] {
            let opts = LoadOptions {
                as_of: Date::from_ymd(2026, 6, 30).expect("a date"),
                strict: false,
                keep_going,
            };
            let folded = |cut| {
                fold_within(source(map, cut), schema, &roster, opts, Within::default(), &Counting)
                    .map(|log| log.customers.len())
            };
            let stored = |cut| load(source(map, cut), schema, &roster, opts).map(|log| log.customers.len());
            let sorted = |cut| {
                let mut customers = 0;
                fold_sorted(
                    source(map, cut),
                    schema,
                    &roster,
                    opts,
                    None,
                    Keep::Fold(&Counting),
                    1000,
                    |log| {
                        customers += log.customers.len();
                        Ok(())
                    },
                )
                .map(|_| customers)
            };
            assert_eq!(folded(None), Ok(100_000));
            assert_eq!(stored(None), Ok(100_000));
            assert_eq!(sorted(None), Ok(100_000));
            // Just past the header; in the second block; within the last
            // page, in a row and at a row's end.
            for cut in [64 + 5, 1_500_000, whole - 10, whole - row] {
                let named = |e: String| {
                    assert!(
                        e.starts_with("events.csv: could not be read to its end: another program cut it short"),
                        "cut to {cut} (mapped: {map}): {e}"
                    );
                };
                named(folded(Some(cut)).expect_err("folded").to_string());
                named(stored(Some(cut)).expect_err("stored").to_string());
                named(sorted(Some(cut)).expect_err("sorted"));
            }
        }
    }

    /// A roster of lines is read without looking for an id listed twice:
    /// the load that puts every customer in its tables finds it there, a
    /// load that keeps some customers looks for it on its own, and both
    /// name the one sorting names.
    #[test]
    fn a_load_names_the_id_a_roster_lists_twice_as_sorting_names_it() {
        let checked = crate::load(include_str!("../../rules/credit.rules")).expect("the published standard");
        let schema = &checked.program.schema;
        // Short ids and ids longer than their 16-byte heads.
        let ids: Vec<String> = (0..20_000u32)
            .map(|i| match i % 2 {
                0 => format!("C{:06}", (i * 7_919) % 20_000),
                _ => format!("国网-{:06}-更长的户号", (i * 7_919) % 20_000),
            })
            .collect();
        let text = |ids: &[String]| {
            format!(
                "customer,class\n{}",
                ids.iter().map(|i| format!("{i},power\n")).collect::<String>()
            )
        };
        let opts = LoadOptions {
            as_of: Date::from_ymd(2026, 6, 30).expect("a date"),
            strict: false,
            keep_going: false,
        };
        let loaded = |text: &str, within: Within| {
            let roster = Roster::read_any_order(text.as_bytes(), "r.csv", &["power"]).expect("read");
            assert!(roster.is_unchecked());
            load_within(Vec::new(), schema, &roster, opts, within).map(|log| log.customers.len())
        };
        let every = || Within::new(None, 0);
        let few = || Within::new(None, 0).only("C000001", hash_id_of);
        let share = || Within::new(None, 0).between(Some("C0100"), None, 2);
        assert_eq!(loaded(&text(&ids), every()), Ok(20_000));
        for repeats in [
            vec![(3, 17_000)],
            vec![(3, 17_000), (5, 900), (11, 12_000)],
            vec![(4_000, 3), (19_000, 18_000), (7, 2)],
            vec![(2, 19_999), (1, 19_998)],
        ] {
            let mut ids = ids.clone();
            for (from, to) in &repeats {
                let id = ids.get(*from).cloned().expect("a row");
                *ids.get_mut(*to).expect("a row") = id;
            }
            let text = text(&ids);
            let sorted = Roster::read(text.as_bytes(), "r.csv", &["power"]).err();
            assert!(sorted.is_some(), "{repeats:?}");
            for (within, how) in [(every(), "every"), (few(), "few"), (share(), "a share")] {
                assert_eq!(loaded(&text, within).err(), sorted, "{repeats:?}, {how}");
            }
        }
    }

    fn hash_id_of(id: &str) -> u64 {
        hash_id(id.as_bytes())
    }

    #[test]
    fn customers_put_in_a_table_that_grows_are_each_found_once() {
        // Short and long ids, some alike in their first 16 bytes, into a
        // table made for 4 that doubles many times on the way.
        let ids: Vec<String> = (0..3000)
            .map(|i| match i % 3 {
                0 => format!("C{i:05}"),
                1 => format!("AAAAAAAAAAAAAAAA{i}"),
                _ => format!("户号{i}"),
            })
            .collect();
        let (mut table, mut known) = (Table::with_room(4), Ids::default());
        fn row(id: &str) -> (&[u8], u64, [u64; 2]) {
            let head = prefix(id.as_bytes());
            (id.as_bytes(), hash_with_prefix(id.as_bytes(), head), head)
        }
        for (round, fresh) in [(0, 7), (1, 9)] {
            for (n, id) in ids.iter().enumerate() {
                let s = slot(&mut table, &mut known, row(id), (3, 0), fresh);
                assert_eq!((s.i, s.tally), (n as u32, 7), "{id} in round {round}");
            }
        }
        assert_eq!(known.len(), ids.len());
        assert_eq!(table.iter().count(), ids.len());
    }

    #[test]
    fn shares_keep_every_id_once_and_in_order() {
        // Ids that tie on their first 16 bytes, short ones, and a cut at or between each.
        let ids = [
            "",
            "A",
            "A\0",
            "AB",
            "B",
            "P026",
            "P0265",
            "P027",
            "户号001",
            "户号001 ",
            "AAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAB",
            "AAAAAAAAAAAAAAAAC",
            "AAAAAAAAAAAAAAAB",
            "国网北京市电力公司-000123",
            "国网北京市电力公司-000124",
            "\u{10FFFF}",
        ];
        for a in ids {
            for b in ids {
                let (from, to) = if a <= b { (a, b) } else { (b, a) };
                let share = |from: Option<&str>, to: Option<&str>| Within::default().between(from, to, 3);
                let shares = [
                    share(None, Some(from)),
                    share(Some(from), Some(to)),
                    share(Some(to), None),
                ];
                for x in ids {
                    let kept: Vec<usize> = (0..3)
                        .filter(|&k| shares[k].only.as_ref().expect("a share keeps some").keeps(x))
                        .collect();
                    // Exactly one share, by byte order: so shares keep the ids' order.
                    let expected = if x < from {
                        0
                    } else if x < to {
                        1
                    } else {
                        2
                    };
                    assert_eq!(kept, [expected], "{x:?} with cuts {from:?} {to:?}");
                }
            }
        }
    }

    #[test]
    fn a_roster_entry_packs_beside_the_id_and_unpacks_as_it_was() {
        assert_eq!(listed(None), NOT_LISTED);
        let entry = |since| roster::Entry {
            class: Some(0),
            since,
            line: 2,
        };
        assert_eq!(listed(Some(&entry(None))), NO_SINCE);
        for (y, m, d) in [(1, 1, 1), (1969, 12, 30), (1970, 1, 1), (2026, 6, 30), (9999, 12, 31)] {
            let day = Date::from_ymd(y, m, d).expect("a date");
            let packed = listed(Some(&entry(Some(day))));
            assert!(packed > NO_SINCE, "{day}");
            assert_eq!(Date::from_days(packed), day);
        }
    }

    #[test]
    fn an_id_of_up_to_16_bytes_is_read_back_from_its_head() {
        for id in ["", "A", "C00000042", "客户甲", "AAAAAAAAAAAAAAAA", "\0\0x\0"] {
            let head = head_bytes(prefix(id.as_bytes()));
            assert_eq!(head.get(..id.len()), Some(id.as_bytes()), "{id:?}");
        }
    }

    #[test]
    fn prefixes_keep_the_id_order_and_tell_short_ids_apart() {
        let ids: [&[u8]; 6] = [b"", b"A", b"A\0", b"AAAAAAAAAAAAAAAA", b"AAAAAAAAAAAAAAAAB", b"\xff"];
        for a in ids {
            for b in ids {
                let (ha, hb) = (prefix(a), prefix(b));
                if ha != hb {
                    assert_eq!(ha.cmp(&hb), a.cmp(b), "{a:?} {b:?}");
                }
                if a.len() <= 16 && b.len() <= 16 && a.len() == b.len() {
                    assert_eq!(ha == hb, a == b, "{a:?} {b:?}");
                }
            }
        }
        // Every length, against the definition: the first 16 bytes, zero-padded, big-endian.
        let bytes: Vec<u8> = (0..20u8).map(|i| i.wrapping_mul(37).wrapping_add(200)).collect();
        for n in 0..=bytes.len() {
            let id = &bytes[..n];
            let mut padded = [0u8; 16];
            for (p, b) in padded.iter_mut().zip(id) {
                *p = *b;
            }
            let v = u128::from_be_bytes(padded);
            assert_eq!(prefix(id), [(v >> 64) as u64, v as u64], "{n} bytes");
        }
    }
}
