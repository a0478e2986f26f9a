//! Input stage: a log sorted by customer, streamed. With `--sorted` the user
//! promises that each file lists its rows grouped by customer, in ascending
//! id (byte) order; several files are merged as they are read. Each
//! customer's rows are folded into its state and the customer is handed on
//! as soon as the next id begins, in batches: memory stays constant whatever
//! the log's size (the roster, read first, is the one thing held whole).
//!
//! The promise is checked, not trusted: an id smaller than the one before it
//! in the same file ends the run with an error naming the file, the line and
//! both ids. Nothing guesses sortedness: output is written before the end of
//! a file is seen.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rayon::prelude::*;

use super::{account, decode, Customer, DataError, EventLog, Fold, LoadOptions, Opened, Place, Reject, Roster};
use super::{Event, Schema, Source, Summary};
use crate::date::Date;

/// What a sorted read saw, once every customer has been handed on.
#[derive(Debug, Default)]
pub struct SortedRead {
    pub files: Vec<String>,
    pub customers: u64,
    pub summary: Summary,
    pub rejects: Vec<Reject>,
}

/// One file, read ahead a batch of decoded blocks at a time.
struct Stream {
    file: u16,
    opened: Opened,
    ready: VecDeque<decode::Decoded>,
    /// The next row of `ready.front()`.
    pos: usize,
    /// The id and line of the row before, for the order check.
    last: Vec<u8>,
    last_line: u32,
    done: bool,
    /// A failure to read, named once the rows read before it are taken.
    failed: Option<DataError>,
    /// This file's rejected rows (`--keep-going`), in line order: the files
    /// are read side by side, but their rejects are listed file after file,
    /// as without `--sorted`.
    rejects: Vec<Reject>,
}

/// Shared, read-only state of every stream's decoding.
struct Decoding<'a> {
    schema: &'a Schema,
    known: &'a decode::Names,
    opts: LoadOptions,
    horizon: Option<Date>,
}

impl Stream {
    /// The next row's id, decoding more of the file when needed; `None` at its end.
    fn peek(&mut self, d: &Decoding<'_>, summary: &mut Summary) -> Result<Option<super::RowId<'_>>, DataError> {
        loop {
            match self.ready.front() {
                Some(block) if self.pos < block.rows_out.len() => break,
                Some(_) => {
                    self.ready.pop_front();
                    self.pos = 0;
                }
                None if self.done => {
                    return match self.failed.take() {
                        Some(e) => Err(e),
                        None => Ok(None),
                    }
                }
                None => self.decode(d, summary)?,
            }
        }
        let block = self.ready.front().expect("a row is ready");
        let row = block
            .rows_out
            .get(self.pos)
            .expect("the position is a row of the block");
        Ok(Some(super::row_id(&block.custs, row)))
    }

    fn decode(&mut self, d: &Decoding<'_>, summary: &mut Summary) -> Result<(), DataError> {
        let (batch, failed) = self.opened.blocks.next_batch(rayon::current_num_threads().max(1) * 2);
        if failed.is_some() {
            // No block is read after it.
            (self.done, self.failed) = (true, failed);
        }
        let ctx = decode::Context {
            schema: d.schema,
            known: d.known,
            header: self.opened.header.as_ref(),
            name: &self.opened.name,
            opts: d.opts,
            horizon: d.horizon,
            only: None,
            split: false,
        };
        let decoded: Vec<decode::Decoded> = batch.par_iter().map(|b| decode::block(&ctx, b)).collect();
        let end = batch.is_empty();
        self.opened.blocks.recycle(batch);
        // A page of the file that could not be read was read as zeros, or
        // the file is shorter than it was: none of these rows is used (the
        // customers already written were read from blocks decoded, and
        // checked, before it), and the end of the file is no end.
        if let Some(e) = self.opened.blocks.faulted() {
            return Err(e);
        }
        if end {
            self.done = true;
            return Ok(());
        }
        for mut block in decoded {
            account(summary, &mut self.rejects, &mut block)?;
            self.ready.push_back(block);
        }
        Ok(())
    }

    /// Folds the next row into `state` (its event, if it has one), or keeps
    /// its event in `out`, and moves past it; an id below the one before is
    /// the error `--sorted` promises.
    fn take(&mut self, keep: Keep<'_>, class: Option<u16>, out: &mut Batch, start: usize) -> Result<(), DataError> {
        let block = self.ready.front().expect("`peek` found a row");
        let row = block.rows_out.get(self.pos).expect("`peek` found a row");
        let id = super::row_id(&block.custs, row);
        let id = id.bytes();
        if id < self.last.as_slice() {
            return Err(DataError {
                file: self.opened.name.clone(),
                line: u64::from(row.line),
                message: format!(
                    "customer `{}` comes after `{}` (line {}): the log is not sorted by customer as --sorted says; run without --sorted",
                    String::from_utf8_lossy(id),
                    String::from_utf8_lossy(&self.last),
                    self.last_line
                ),
            });
        }
        if id != self.last.as_slice() {
            self.last.clear();
            self.last.extend_from_slice(id);
        }
        self.last_line = row.line;
        if let Some(kind) = row.kind {
            let mut event = Event {
                cust: 0,
                date: row.date,
                line: row.line,
                kind,
                file: self.file,
                vals: row.vals,
            };
            match keep {
                Keep::Fold(fold) => {
                    let state = out
                        .words
                        .get_mut(start..)
                        .expect("the customer's state is the batch's last");
                    fold.fold(class, state, &event, &block.vals);
                }
                Keep::Events(schema) => {
                    let n = schema.kind_of(kind).map_or(0, |k| k.attrs.len());
                    let from = row.vals as usize;
                    let vals = block.vals.get(from..from + n).expect("a row's values are in its block");
                    event.cust = u32::try_from(out.customers.len()).expect("a batch holds few customers");
                    event.vals = u32::try_from(out.vals.len()).expect("a batch holds few values");
                    out.vals.extend_from_slice(vals);
                    out.events.push(event);
                }
            }
        }
        self.pos += 1;
        Ok(())
    }
}

/// What a sorted read keeps of each customer: its folded state, or (to
/// explain every customer) its events, a batch at a time.
#[derive(Clone, Copy)]
pub enum Keep<'a> {
    Fold(&'a dyn Fold),
    Events(&'a Schema),
}

/// Customers handed on together, as an `EventLog`: folded, or with their
/// events in log order (file, then line).
#[derive(Default)]
struct Batch {
    customers: Vec<Customer>,
    words: Vec<u32>,
    events: Vec<Event>,
    vals: Vec<i64>,
    places: Vec<Place>,
}

impl Batch {
    fn log(self, files: &[String], keep: Keep<'_>) -> EventLog {
        let (stores, states) = match keep {
            Keep::Fold(_) => (Vec::new(), Some(vec![self.words])),
            Keep::Events(_) => (vec![self.events], None),
        };
        EventLog {
            files: files.to_vec(),
            customers: self.customers,
            stores,
            states,
            places: self.places,
            vals: self.vals,
            summary: Summary::default(),
            rejects: Vec::new(),
            unlisted: None,
        }
    }

    /// Adds a customer whose state (or events) start at `start`.
    fn push(&mut self, c: Customer, start: usize, keep: Keep<'_>) {
        let end = match keep {
            Keep::Fold(_) => self.words.len(),
            Keep::Events(_) => self.events.len(),
        };
        let len = u32::try_from(end - start).expect("a customer's state (or events) fit a batch");
        self.places.push(Place::new(0, start, len));
        self.customers.push(c);
    }

    /// Where the next customer's state (or events) start, its state added.
    fn open(&mut self, id: &[u8], class: Option<u16>, keep: Keep<'_>) -> usize {
        match keep {
            Keep::Fold(fold) => {
                let start = self.words.len();
                fold.init(id, class, &mut self.words);
                start
            }
            Keep::Events(_) => self.events.len(),
        }
    }
}

/// Reads logs sorted by customer (see the module's note), folding each
/// customer's rows (or keeping its events: `keep`), and hands `each` the
/// customers — the log's and the roster's, in id order, as an `EventLog` of
/// up to `batch` customers (its summary is empty: the whole read's is
/// returned at the end).
#[allow(clippy::too_many_arguments)]
pub fn fold_sorted(
    sources: Vec<Source>,
    schema: &Schema,
    roster: &Roster,
    opts: LoadOptions,
    horizon: Option<Date>,
    keep: Keep<'_>,
    batch: usize,
    mut each: impl FnMut(EventLog) -> Result<(), String>,
) -> Result<SortedRead, String> {
    let known = decode::Names::of(schema);
    let d = Decoding {
        schema,
        known: &known,
        opts,
        horizon,
    };
    let mut read = SortedRead::default();
    let mut streams = Vec::new();
    for (i, source) in sources.into_iter().enumerate() {
        let file = u16::try_from(i).map_err(|_| format!("{}: too many event files (at most 65535)", source.name))?;
        read.files.push(source.name.clone());
        let opened = Opened::new(source, schema, &known, &mut read.summary).map_err(|e| e.to_string())?;
        streams.push(Stream {
            file,
            opened,
            ready: VecDeque::new(),
            pos: 0,
            last: Vec::new(),
            last_line: 0,
            done: false,
            failed: None,
            rejects: Vec::new(),
        });
    }
    // The files by the id of their next row, then in file order: the
    // smallest first. A file is looked at when its turn comes, not for
    // every customer (hundreds of daily files merge at the cost of a few).
    let mut at: BinaryHeap<Reverse<(Vec<u8>, usize)>> = BinaryHeap::with_capacity(streams.len());
    for (i, s) in streams.iter_mut().enumerate() {
        if let Some(id) = s.peek(&d, &mut read.summary).map_err(|e| e.to_string())? {
            at.push(Reverse((id.bytes().to_vec(), i)));
        }
    }
    let mut listed = roster.entries().peekable();
    let mut out = Batch::default();
    let mut next: Vec<u8> = Vec::new();
    let mut here: Vec<(Vec<u8>, usize)> = Vec::new();
    loop {
        // The smallest id any file is at.
        let found = match at.peek() {
            Some(Reverse((id, _))) => {
                next.clear();
                next.extend_from_slice(id);
                true
            }
            None => false,
        };
        // Roster customers without rows come in their place.
        while let Some((id, entry)) = listed.next_if(|(id, _)| !found || id.as_bytes() < next.as_slice()) {
            let c = Customer {
                id: id.into(),
                class: entry.class,
                since: entry.since,
            };
            let start = out.open(id.as_bytes(), c.class, keep);
            out.push(c, start, keep);
            // A long run of them is handed on in batches too: each has its state.
            hand_on(&mut out, batch, &mut read, keep, &mut each)?;
        }
        if !found {
            break;
        }
        let entry = listed
            .next_if(|(id, _)| id.as_bytes() == next.as_slice())
            .map(|(_, e)| *e);
        let id = std::str::from_utf8(&next).expect("the decoder checks customer ids are UTF-8");
        let c = Customer {
            id: id.into(),
            class: entry.and_then(|e| e.class),
            since: entry.and_then(|e| e.since),
        };
        let start = out.open(&next, c.class, keep);
        // Every file at this id, in file order: its rows of the customer
        // taken, then back in its place by the id of its next row (an id
        // below this one is taken next, and `take` names it — after the
        // customer has all its rows of the other files).
        while at.peek().is_some_and(|Reverse((id, _))| *id == next) {
            here.push(at.pop().expect("a file was just seen at this id").0);
        }
        for (mut id, i) in here.drain(..) {
            let s = streams.get_mut(i).expect("the files' order holds stream numbers");
            while s
                .peek(&d, &mut read.summary)
                .map_err(|e| e.to_string())?
                .is_some_and(|id| id.bytes() == next.as_slice())
            {
                s.take(keep, c.class, &mut out, start).map_err(|e| e.to_string())?;
            }
            if let Some(then) = s.peek(&d, &mut read.summary).map_err(|e| e.to_string())? {
                id.clear();
                id.extend_from_slice(then.bytes());
                at.push(Reverse((id, i)));
            }
        }
        out.push(c, start, keep);
        hand_on(&mut out, batch, &mut read, keep, &mut each)?;
    }
    read.customers += out.customers.len() as u64;
    if !out.customers.is_empty() {
        each(out.log(&read.files, keep))?;
    }
    read.rejects = streams.into_iter().flat_map(|s| s.rejects).collect();
    Ok(read)
}

/// Hands `out` on once it holds `batch` customers.
fn hand_on(
    out: &mut Batch,
    batch: usize,
    read: &mut SortedRead,
    keep: Keep<'_>,
    each: &mut impl FnMut(EventLog) -> Result<(), String>,
) -> Result<(), String> {
    if out.customers.len() >= batch.max(1) {
        read.customers += out.customers.len() as u64;
        each(std::mem::take(out).log(&read.files, keep))?;
    }
    Ok(())
}
