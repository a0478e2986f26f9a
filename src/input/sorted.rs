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

use std::collections::VecDeque;

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
    fn peek(
        &mut self,
        d: &Decoding<'_>,
        summary: &mut Summary,
        rejects: &mut Vec<Reject>,
    ) -> Result<Option<&[u8]>, DataError> {
        loop {
            match self.ready.front() {
                Some(block) if self.pos < block.rows_out.len() => break,
                Some(_) => {
                    self.ready.pop_front();
                    self.pos = 0;
                }
                None if self.done => return Ok(None),
                None => self.decode(d, summary, rejects)?,
            }
        }
        let block = self.ready.front().expect("a row is ready");
        let row = block
            .rows_out
            .get(self.pos)
            .expect("the position is a row of the block");
        Ok(Some(super::row_id(&block.custs, row)))
    }

    fn decode(&mut self, d: &Decoding<'_>, summary: &mut Summary, rejects: &mut Vec<Reject>) -> Result<(), DataError> {
        let batch = self.opened.blocks.next_batch(rayon::current_num_threads().max(1) * 2)?;
        if batch.is_empty() {
            self.done = true;
            return Ok(());
        }
        let ctx = decode::Context {
            schema: d.schema,
            known: d.known,
            header: self.opened.header.as_ref(),
            name: &self.opened.name,
            opts: d.opts,
            horizon: d.horizon,
        };
        let decoded: Vec<decode::Decoded> = batch.par_iter().map(|b| decode::block(&ctx, b)).collect();
        for mut block in decoded {
            account(summary, rejects, &mut block)?;
            self.ready.push_back(block);
        }
        Ok(())
    }

    /// Folds the next row into `state` (its event, if it has one) and moves
    /// past it; an id below the one before is the error `--sorted` promises.
    fn take(&mut self, fold: &dyn Fold, class: Option<u16>, state: &mut [u32]) -> Result<(), DataError> {
        let block = self.ready.front().expect("`peek` found a row");
        let row = block.rows_out.get(self.pos).expect("`peek` found a row");
        let id = super::row_id(&block.custs, row);
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
            let event = Event {
                cust: 0,
                date: row.date,
                line: row.line,
                kind,
                file: self.file,
                vals: row.vals,
            };
            fold.fold(class, state, &event, &block.vals);
        }
        self.pos += 1;
        Ok(())
    }
}

/// Customers handed on together, as a folded `EventLog`.
struct Batch {
    customers: Vec<Customer>,
    words: Vec<u32>,
    places: Vec<Place>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            customers: Vec::new(),
            words: Vec::new(),
            places: Vec::new(),
        }
    }

    fn log(self, files: &[String]) -> EventLog {
        EventLog {
            files: files.to_vec(),
            customers: self.customers,
            stores: Vec::new(),
            states: Some(vec![self.words]),
            places: self.places,
            vals: Vec::new(),
            summary: Summary::default(),
            rejects: Vec::new(),
        }
    }
}

/// Reads logs sorted by customer (see the module's note), folding each
/// customer's rows with `fold`, and hands `each` the customers — the log's
/// and the roster's, in id order, as a folded `EventLog` of up to `batch`
/// customers (its summary is empty: the whole read's is returned at the end).
#[allow(clippy::too_many_arguments)]
pub fn fold_sorted(
    sources: Vec<Source>,
    schema: &Schema,
    roster: &Roster,
    opts: LoadOptions,
    horizon: Option<Date>,
    fold: &dyn Fold,
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
        });
    }
    let mut listed = roster.entries().peekable();
    let mut out = Batch::new();
    let mut next: Vec<u8> = Vec::new();
    loop {
        // The smallest id any file is at.
        let mut found = false;
        for s in &mut streams {
            if let Some(id) = s
                .peek(&d, &mut read.summary, &mut read.rejects)
                .map_err(|e| e.to_string())?
            {
                if !found || id < next.as_slice() {
                    next.clear();
                    next.extend_from_slice(id);
                    found = true;
                }
            }
        }
        // Roster customers without rows come in their place.
        while let Some((id, entry)) = listed.next_if(|(id, _)| !found || id.as_bytes() < next.as_slice()) {
            let c = Customer {
                id: id.into(),
                class: entry.class,
                since: entry.since,
            };
            let start = out.words.len();
            fold.init(id.as_bytes(), c.class, &mut out.words);
            push(&mut out, c, start);
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
        let start = out.words.len();
        fold.init(&next, c.class, &mut out.words);
        let state = out.words.get_mut(start..).expect("the state was just added");
        for s in &mut streams {
            while s
                .peek(&d, &mut read.summary, &mut read.rejects)
                .map_err(|e| e.to_string())?
                == Some(next.as_slice())
            {
                s.take(fold, c.class, state).map_err(|e| e.to_string())?;
            }
        }
        push(&mut out, c, start);
        if out.customers.len() >= batch.max(1) {
            read.customers += out.customers.len() as u64;
            each(std::mem::replace(&mut out, Batch::new()).log(&read.files))?;
        }
    }
    read.customers += out.customers.len() as u64;
    if !out.customers.is_empty() {
        each(out.log(&read.files))?;
    }
    Ok(read)
}

fn push(out: &mut Batch, c: Customer, start: usize) {
    let len = u32::try_from(out.words.len() - start).expect("a customer's state is a few words");
    out.places.push(Place { store: 0, len, start });
    out.customers.push(c);
}
