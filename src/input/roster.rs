//! Input stage: the customers roster (`customer,class[,since]`), which sets
//! each customer's class and the start of its known history.

use std::io::Read;

use rayon::prelude::*;

use super::DataError;
use crate::date::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `None`: the default class (an empty `class` cell).
    pub class: Option<u16>,
    pub since: Option<Date>,
    /// The line of the roster file.
    pub line: u64,
}

/// Roster entries by customer id: the ids in one arena, the rows sorted by
/// id (about 50 bytes a customer; a national roster fits easily) — or, as
/// `read_any_order` leaves them, in the file's order, for a load that only
/// hands each customer to its partition (`listing`) and needs no order.
#[derive(Debug)]
pub struct Roster {
    ids: String,
    /// Sorted by id when `sorted`, else in file order.
    rows: Vec<Row>,
    /// Whether `rows` are sorted: every lookup by id needs them to be.
    sorted: bool,
    /// The file's name while an id listed twice is not yet looked for
    /// (`read_any_order` of a roster of lines): sorting finds one (`sorted`),
    /// and so does a load that puts every customer in its tables (`repeat`).
    unchecked: Option<Box<str>>,
    /// A roster read on every core (`read_any_order`) keeps the pieces its
    /// cores read, in file order, rather than copy them into one: a load
    /// only lists them. `sorted` joins them; while there are any, `ids`,
    /// `rows` and `extra` are empty and `sorted` is false.
    pieces: Vec<Roster>,
    /// The header's columns beyond `customer`, `class` and `since`
    /// (`branch`, `户名`…), in the file's order.
    columns: Vec<Box<str>>,
    /// Each customer's values of `columns`, in the same order, in file order
    /// (`Row::extra` indexes it); empty when there are no such columns.
    extra: Vec<Box<[Box<str>]>>,
}

impl Default for Roster {
    fn default() -> Roster {
        Roster {
            ids: String::new(),
            rows: Vec::new(),
            sorted: true,
            unchecked: None,
            pieces: Vec::new(),
            columns: Vec::new(),
            extra: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Row {
    /// `ids[start..start + len]`.
    start: usize,
    len: u32,
    /// Index into `Roster::extra`.
    extra: u32,
    entry: Entry,
}

impl Roster {
    fn id(&self, r: &Row) -> &str {
        self.ids
            .get(r.start..r.start + r.len as usize)
            .expect("a row's id is a range of the arena")
    }

    fn row(&self, id: &str) -> Option<&Row> {
        self.expect_sorted();
        let i = self.rows.binary_search_by(|r| self.id(r).cmp(id)).ok()?;
        self.rows.get(i)
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.row(id).map(|r| &r.entry)
    }

    /// Every entry of the roster, in id order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.expect_sorted();
        self.listing()
    }

    /// Every entry of the roster, in id order or (`read_any_order`) the file's.
    pub fn listing(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.read_pieces()
            .flat_map(|p| p.rows.iter().map(move |r| (p.id(r), &r.entry)))
    }

    /// Its entries as `listing` lists them, cut into runs of at most `most`
    /// rows, each run within one piece: runs can be read on every core
    /// without the entries being listed one after another first.
    pub fn runs(&self, most: usize) -> Vec<impl Iterator<Item = (&str, &Entry)> + Send + '_> {
        let most = most.max(1);
        self.read_pieces()
            .flat_map(|p| {
                (0..p.rows.len()).step_by(most).map(move |from| {
                    let rows = p.rows.get(from..(from + most).min(p.rows.len()));
                    rows.expect("a run is within its piece's rows")
                        .iter()
                        .map(move |r| (p.id(r), &r.entry))
                })
            })
            .collect()
    }

    /// The roster as its pieces: itself, then those not joined into it yet.
    fn read_pieces(&self) -> impl Iterator<Item = &Roster> {
        std::iter::once(self).chain(&self.pieces)
    }

    /// Every customer of the roster, in id (byte) order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.expect_sorted();
        self.rows.iter().map(|r| self.id(r))
    }

    fn expect_sorted(&self) {
        assert!(
            self.sorted,
            "a roster read in any order is sorted (Roster::sorted) before it is searched"
        );
    }

    /// The roster sorted by id (already so unless `read_any_order` read it),
    /// or the first id it lists twice.
    pub fn sorted(mut self) -> Result<Roster, DataError> {
        self.join();
        if !self.sorted {
            let unchecked = self.unchecked.take();
            if let Some(twice) = self.sort() {
                let name = unchecked.expect("a roster read in any order has no id twice, or is not checked yet");
                return Err(twice_error(&name, twice));
            }
        }
        Ok(self)
    }

    /// The first id the roster lists twice, if it has not been looked for
    /// yet, found without sorting (`twice_unsorted`): for a load that does
    /// not put every customer in its tables.
    pub fn check_repeats(&self) -> Result<(), DataError> {
        let Some(name) = &self.unchecked else {
            return Ok(());
        };
        match self.twice_unsorted() {
            Some(twice) => Err(twice_error(name, twice)),
            None => Ok(()),
        }
    }

    /// Whether an id listed twice is yet to be looked for: a load that puts
    /// every customer in its tables finds it there (a customer already in
    /// them), and then names it with `repeat`.
    pub fn is_unchecked(&self) -> bool {
        self.unchecked.is_some()
    }

    /// The first id listed twice, named as `sorted` names it, once a load's
    /// tables have found one (`is_unchecked`).
    pub fn repeat(&self) -> DataError {
        let name = self
            .unchecked
            .as_deref()
            .expect("only a roster not checked yet can list an id twice (sorting and `check_repeats` refuse one)");
        let twice = self
            .twice_unsorted()
            .expect("a customer the tables found twice is listed twice");
        twice_error(name, twice)
    }

    pub fn len(&self) -> usize {
        self.read_pieces().map(|p| p.rows.len()).sum()
    }

    /// The bytes of all its ids.
    pub fn id_bytes(&self) -> usize {
        self.read_pieces().map(|p| p.ids.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its pieces joined into it (`pieces`).
    fn join(&mut self) {
        if !self.pieces.is_empty() {
            let whole = Roster::joined(std::mem::take(&mut self.pieces));
            (self.ids, self.rows, self.extra) = (whole.ids, whole.rows, whole.extra);
        }
    }

    /// Sorts the rows read so far by id; the first id listed twice (by the
    /// line of its second listing), if any, as (id, first line, line).
    fn sort(&mut self) -> Option<(String, u64, u64)> {
        let ids = &self.ids;
        let id = |r: &Row| ids.get(r.start..r.start + r.len as usize).unwrap_or_default();
        // By each id's first 16 bytes first, compared as numbers; the ids
        // themselves only where those tie.
        let mut keyed: Vec<([u64; 2], Row)> = std::mem::take(&mut self.rows)
            .into_par_iter()
            .map(|r| (super::prefix(id(&r).as_bytes()), r))
            .collect();
        keyed.par_sort_unstable_by(|(ka, a), (kb, b)| {
            ka.cmp(kb)
                .then_with(|| id(a).cmp(id(b)))
                .then(a.entry.line.cmp(&b.entry.line))
        });
        let twice = keyed
            .par_windows(2)
            .filter_map(|w| match w {
                [(ka, a), (kb, b)] if ka == kb && id(a) == id(b) => {
                    Some((id(a).to_string(), a.entry.line, b.entry.line))
                }
                _ => None,
            })
            .min_by_key(|&(_, _, line)| line);
        self.rows = keyed.into_par_iter().map(|(_, r)| r).collect();
        self.sorted = true;
        twice
    }

    /// The first id listed twice (by the line of its second listing), if
    /// any, as (id, first line, line), found without sorting the rows: their
    /// ids' hashes are sorted (with the row, in file order, breaking ties),
    /// and only rows of equal hashes are compared.
    fn twice_unsorted(&self) -> Option<(String, u64, u64)> {
        // Rows numbered in file order across the pieces.
        let pieces: Vec<&Roster> = self.read_pieces().collect();
        let starts: Vec<usize> = pieces
            .iter()
            .scan(0, |at, p| {
                let start = *at;
                *at += p.rows.len();
                Some(start)
            })
            .collect();
        let mut hashed: Vec<(u64, usize)> = pieces
            .par_iter()
            .zip(&starts)
            .flat_map_iter(|(p, &start)| {
                (p.rows.iter().enumerate()).map(move |(i, r)| (super::hash_id(p.id(r).as_bytes()), start + i))
            })
            .collect();
        hashed.par_sort_unstable();
        // The `i`th row's id and line: in the last piece starting at or before it.
        let row = |i: usize| {
            let n = starts.partition_point(|&s| s <= i) - 1;
            let (Some(p), Some(start)) = (pieces.get(n), starts.get(n)) else {
                unreachable!("a piece starts at 0")
            };
            let r = p.rows.get(i - start).expect("a hashed row is a row of its piece");
            (p.id(r), r.entry.line)
        };
        let mut first: Option<(String, u64, u64)> = None;
        for run in hashed.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1) {
            // In file order: each row's first earlier listing of its id.
            for (k, &(_, j)) in run.iter().enumerate() {
                let (this, later) = row(j);
                let earlier = run.iter().take(k).map(|&(_, i)| row(i)).find(|&(id, _)| id == this);
                match earlier {
                    Some((_, earlier)) if first.as_ref().is_none_or(|f| later < f.2) => {
                        first = Some((this.to_string(), earlier, later));
                    }
                    _ => {}
                }
            }
        }
        first
    }

    /// The roster's own columns beyond `customer`, `class` and `since`, in the
    /// file's order: carried into outputs and usable to group customers.
    pub fn columns(&self) -> &[Box<str>] {
        &self.columns
    }

    /// A customer's values of `columns()`, in the same order; `None` for a
    /// customer not on the roster.
    pub fn extra(&self, id: &str) -> Option<&[Box<str>]> {
        if self.extra.is_empty() {
            return None;
        }
        let r = self.row(id)?;
        self.extra.get(r.extra as usize).map(|v| &**v)
    }

    /// A customer's value in the roster column `column` (`None`: not on the
    /// roster, or no such column).
    pub fn value(&self, id: &str, column: &str) -> Option<&str> {
        let i = self.columns.iter().position(|c| &**c == column)?;
        self.extra(id)?.get(i).map(|v| &**v)
    }

    /// Reads a roster CSV; `classes` are the rulebook's class names.
    pub fn read(reader: impl Read, name: &str, classes: &[&str]) -> Result<Roster, DataError> {
        Roster::read_any_order(reader, name, classes).and_then(Roster::sorted)
    }

    /// Reads a roster CSV as `read` does (the same checks and errors), its
    /// rows possibly left in the file's order: good for `listing` only,
    /// until `sorted`. A roster of a million customers is ready ~0.1 s sooner.
    /// An id such a roster lists twice is named when it is sorted, or by the
    /// load it is handed to (`is_unchecked`), not here: a load that puts
    /// every customer in its tables finds it there without another pass.
    pub fn read_any_order(reader: impl Read, name: &str, classes: &[&str]) -> Result<Roster, DataError> {
        let mut bytes = Vec::new();
        let mut reader = reader;
        let Err(e) = reader.read_to_end(&mut bytes) else {
            return Roster::parse_any_order(bytes, name, classes);
        };
        let failed = match e.get_ref().and_then(|i| i.downcast_ref::<DataError>()) {
            // A decoding error is on the line after those read (a lone CR
            // ends a line, as the CSV reader reads it).
            Some(inner) => DataError {
                line: 1 + line_ends(&bytes),
                ..inner.clone()
            },
            None => DataError {
                file: name.to_string(),
                line: 0,
                message: format!("cannot read: {e}"),
            },
        };
        // The whole lines read before the failure: a bad row among them
        // comes first in the file, and is named first. (Not when a quote
        // may hold a line end: the last record kept could be cut short.)
        if memchr::memchr(b'"', &bytes).is_some() {
            return Err(failed);
        }
        bytes.truncate(memchr::memrchr2(b'\n', b'\r', &bytes).map_or(0, |n| n + 1));
        match Roster::parse_any_order(bytes, name, classes) {
            Err(e) if e.line > 0 && e.line < failed.line => Err(e),
            _ => Err(failed),
        }
    }

    /// `read_any_order` of the bytes read.
    fn parse_any_order(bytes: Vec<u8>, name: &str, classes: &[&str]) -> Result<Roster, DataError> {
        let err = |line: u64, message: String| DataError {
            file: name.to_string(),
            line,
            message,
        };
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let first_line = body.split(|&c| c == b'\n' || c == b'\r').next().unwrap_or(body);
        let delimiter = super::block::sniff_delimiter(first_line);
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(body);
        let header = rdr
            .headers()
            .map_err(|e| match e.kind() {
                csv::ErrorKind::Utf8 { .. } => err(
                    1,
                    format!("the header is not valid UTF-8{}", super::encoding::gbk_hint(body)),
                ),
                _ => err(1, format!("the header cannot be read: {e}")),
            })?
            .clone();
        // `Since` or `since ` would silently be no history at all: near misses are errors.
        for (i, h) in header.iter().enumerate() {
            if let Some(first) = header.iter().take(i).position(|x| x == h && !x.is_empty()) {
                return Err(err(
                    1,
                    format!("column `{h}` appears twice (columns {} and {})", first + 1, i + 1),
                ));
            }
            if h.is_empty() || ["customer", "class", "since"].contains(&h) {
                continue;
            }
            if let Some(known) = super::near::near_miss(h, ["customer", "class", "since"]) {
                return Err(err(
                    1,
                    format!("column `{h}` is not a roster column; did you mean `{known}`?"),
                ));
            }
        }
        let col = |want: &str| header.iter().position(|h| h == want);
        let customer = col("customer").ok_or_else(|| err(1, "the header has no `customer` column".into()))?;
        // A rulebook without classes (an index only) needs no `class` column;
        // if the roster has one, it is a column like `branch`.
        let class = match col("class") {
            _ if classes.is_empty() => None,
            Some(c) => Some(c),
            None => return Err(err(1, "the header has no `class` column".into())),
        };
        let since = col("since");
        let kept: Vec<usize> = (0..header.len())
            .filter(|&i| i != customer && Some(i) != class && Some(i) != since)
            .collect();
        let mut roster = Roster {
            columns: kept.iter().filter_map(|&i| header.get(i)).map(Into::into).collect(),
            ..Roster::default()
        };
        let cols = Cols {
            width: header.len(),
            customer,
            class,
            since,
            kept: &kept,
            classes,
        };
        // The usual roster, read on every core; any other (quotes, a lone CR,
        // a bad row) in order, so that its first error is the one named.
        if let Some(read) = read_plain(body, delimiter, &cols) {
            // The file's bytes are no longer needed: let them go before sorting.
            drop(rdr);
            drop(bytes);
            roster.pieces = read;
            roster.sorted = roster.len() < 2;
            if roster.sorted {
                roster.join();
            }
            // An id listed twice is found when the rows are sorted, or by
            // a load's tables, which need no sort (`is_unchecked`).
            roster.unchecked = (!roster.sorted).then(|| name.into());
            return Ok(roster);
        }
        let mut rec = csv::StringRecord::new();
        // A customer listed twice is found once the rows are sorted; a later
        // bad row must not hide an earlier repeat (rows are checked in file order).
        let twice = |r| twice_error(name, r);
        // Lines counted from the bytes: the CSV reader's own count is one
        // short after each CRLF line end (Excel on Windows).
        let mut lines = Lines {
            text: body,
            at: 0,
            line: 1,
        };
        let mut read = || -> Result<(), DataError> {
            loop {
                match rdr.read_record(&mut rec) {
                    Ok(true) => {}
                    Ok(false) => return Ok(()),
                    Err(e) => {
                        let line = e.position().map_or(0, |p| lines.at(p.byte()));
                        let message = match e.kind() {
                            csv::ErrorKind::Utf8 { err: bad, .. } => format!(
                                "{} is not valid UTF-8{}",
                                header.get(bad.field()).unwrap_or("a field"),
                                super::encoding::gbk_hint(body)
                            ),
                            _ => format!("cannot be read as CSV: {e}"),
                        };
                        return Err(err(line, message));
                    }
                }
                let line = rec.position().map_or(0, |p| lines.at(p.byte()));
                if let Some(row) = cols.record(|i| rec.get(i), rec.len(), line).map_err(|m| err(line, m))? {
                    roster.push(row);
                }
            }
        };
        let result = read();
        let repeat = roster.sort();
        match (result, repeat) {
            (Err(e), Some(r)) if r.2 > e.line => Err(e),
            (_, Some(r)) => Err(twice(r)),
            (Err(e), None) => Err(e),
            (Ok(()), None) => Ok(roster),
        }
    }
}

/// How many lines `bytes` ends: each `\n`, and each CR not followed by one.
fn line_ends(bytes: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', bytes).count();
    let lone_crs = memchr::memchr_iter(b'\r', bytes)
        .filter(|&i| bytes.get(i + 1) != Some(&b'\n'))
        .count();
    (newlines + lone_crs) as u64
}

/// `customer "A" is listed twice (first on line 2)`, at the second listing.
fn twice_error(name: &str, (id, first, line): (String, u64, u64)) -> DataError {
    DataError {
        file: name.to_string(),
        line,
        message: format!("customer \"{id}\" is listed twice (first on line {first})"),
    }
}

/// Where a roster keeps what it says of each customer.
struct Cols<'a> {
    width: usize,
    customer: usize,
    class: Option<usize>,
    since: Option<usize>,
    /// The columns carried (`Roster::columns`).
    kept: &'a [usize],
    /// The rulebook's class names.
    classes: &'a [&'a str],
}

/// One roster record read: the customer, its entry, its carried values.
struct Record<'r> {
    id: &'r str,
    entry: Entry,
    extra: Option<Box<[Box<str>]>>,
}

impl Cols<'_> {
    /// Reads the record on `line` of `len` fields (`get` gives each);
    /// `None` for an empty one (Excel's trailing `,,`), `Err` why it is bad.
    fn record<'r>(
        &self,
        get: impl Fn(usize) -> Option<&'r str>,
        len: usize,
        line: u64,
    ) -> Result<Option<Record<'r>>, String> {
        if (0..len).all(|i| get(i).unwrap_or("").trim().is_empty()) {
            return Ok(None);
        }
        if len != self.width {
            return Err(format!("has {len} fields, the header has {}", self.width));
        }
        let id = get(self.customer).expect("the record has the header's width");
        if id.is_empty() {
            return Err("customer is missing".into());
        }
        let class = match self.class.and_then(&get).unwrap_or("") {
            "" => None,
            c => Some(self.classes.iter().position(|k| *k == c).ok_or_else(|| {
                format!(
                    "class \"{c}\" is not a class of the rulebook (expected one of {})",
                    self.classes.join(", ")
                )
            })? as u16),
        };
        let since = match self.since.and_then(&get).unwrap_or("") {
            "" => None,
            s => Some(Date::parse_data(s).ok_or_else(|| super::decode::bad_date("since", s))?),
        };
        if u32::try_from(id.len()).is_err() {
            return Err("the customer id is too long".into());
        }
        let extra = (!self.kept.is_empty()).then(|| {
            self.kept
                .iter()
                .map(|&i| get(i).expect("a record has as many fields as the header").into())
                .collect()
        });
        Ok(Some(Record {
            id,
            entry: Entry { class, since, line },
            extra,
        }))
    }
}

impl Roster {
    /// Adds one record read.
    fn push(&mut self, r: Record<'_>) {
        let extra = self.extra.len() as u32;
        if let Some(values) = r.extra {
            self.extra.push(values);
        }
        let start = self.ids.len();
        self.ids.push_str(r.id);
        self.rows.push(Row {
            start,
            len: u32::try_from(r.id.len()).expect("Cols::record refuses longer ids"),
            extra,
            entry: r.entry,
        });
    }

    /// Joins rosters read apart (the pieces of one file, in order) into
    /// one: the rows, ~32 MB for a million customers, copied on every core
    /// (one core took ~30 ms to append them), a piece for each core at a
    /// time, so that each is let go of once copied rather than all held
    /// beside the whole (40 MB more at the peak of `explain`, whose peak
    /// this is).
    fn joined(pieces: Vec<Roster>) -> Roster {
        let mut whole = Roster::default();
        whole.ids.reserve(pieces.iter().map(|p| p.ids.len()).sum());
        whole.rows.reserve(pieces.iter().map(|p| p.rows.len()).sum());
        let group = rayon::current_num_threads().max(1);
        let mut pieces = pieces.into_iter().peekable();
        while pieces.peek().is_some() {
            let mut these: Vec<Roster> = pieces.by_ref().take(group).collect();
            // Where each piece's ids, rows (among these) and carried values start.
            let mut starts = Vec::with_capacity(these.len());
            let mut rows = 0;
            for p in &mut these {
                starts.push((whole.ids.len(), rows, whole.extra.len()));
                whole.ids.push_str(&p.ids);
                whole.extra.append(&mut p.extra);
                rows += p.rows.len();
            }
            let piece_of = |k: usize| starts.partition_point(|&(_, first, _)| first <= k) - 1;
            whole.rows.par_extend((0..rows).into_par_iter().map(|k| {
                let n = piece_of(k);
                let (Some(p), Some(&(id_base, first, extra_base))) = (these.get(n), starts.get(n)) else {
                    unreachable!("every row is in a piece")
                };
                let r = p.rows.get(k - first).expect("a piece holds its rows");
                Row {
                    start: r.start + id_base,
                    extra: r.extra + extra_base as u32,
                    ..*r
                }
            }));
        }
        whole
    }
}

/// A roster whose records are lines — no quotes, no lone CR, UTF-8, the
/// header on the first line — and rows all good, read in pieces on every
/// core, the pieces in file order; `None` for any other (read in order instead).
fn read_plain(body: &[u8], delimiter: u8, cols: &Cols<'_>) -> Option<Vec<Roster>> {
    if memchr::memchr(b'"', body).is_some() || memchr::memchr_iter(b'\r', body).any(|i| body.get(i + 1) != Some(&b'\n'))
    {
        return None;
    }
    // The CSV reader skips empty lines before the header: the header is then
    // not the first line (read in order instead).
    if matches!(body.first(), Some(b'\n' | b'\r')) {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    // The header is the first line; the records start on line 2.
    let data = text.get(memchr::memchr(b'\n', body)? + 1..)?;
    let pieces = rayon::current_num_threads().max(1) * 8;
    let mut cuts = vec![0];
    let mut at = 0;
    while at < data.len() {
        let want = (at + data.len() / pieces + 1).min(data.len());
        at = memchr::memchr(b'\n', data.as_bytes().get(want..)?).map_or(data.len(), |n| want + n + 1);
        cuts.push(at);
    }
    let pieces: Vec<&str> = cuts
        .windows(2)
        .filter_map(|w| data.get(*w.first()?..*w.last()?))
        .collect();
    // Each piece's lines, counted on every core: where its line numbers
    // start, and room for its rows.
    let lines: Vec<usize> = pieces
        .par_iter()
        .map(|p| memchr::memchr_iter(b'\n', p.as_bytes()).count())
        .collect();
    let starts = lines.iter().scan(2u64, |first, &n| {
        let line = *first;
        *first += n as u64;
        Some(line)
    });
    let read: Vec<Option<Roster>> = pieces
        .par_iter()
        .zip(lines.par_iter())
        .zip(starts.collect::<Vec<_>>())
        .map(|((piece, &lines), first)| {
            // Room for every line, and for ids as long as the piece: the
            // vectors are not grown by copying.
            let mut part = Roster::default();
            part.rows.reserve(lines + 1);
            part.ids.reserve(piece.len());
            let mut fields: Vec<&str> = Vec::with_capacity(cols.width);
            let mut ok = true;
            // Empty lines are passed over, as the CSV reader skips them.
            super::scan::lines(piece.as_bytes(), delimiter, |l| {
                fields.clear();
                fields.extend(l.bounds.iter().zip(l.bounds.iter().skip(1)).map(|(from, next)| {
                    piece
                        .get(l.start + from..l.start + next - 1)
                        .expect("a separator is ASCII: a cut on a boundary")
                }));
                match cols.record(|i| fields.get(i).copied(), fields.len(), first + l.index) {
                    Ok(Some(r)) => part.push(r),
                    Ok(None) => {}
                    Err(_) => ok = false,
                }
                ok
            });
            ok.then_some(part)
        })
        .collect();
    read.into_iter().collect()
}

/// Line numbers of byte offsets, counted forward: `\n`, `\r\n` and a lone
/// `\r` each end a line.
struct Lines<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl Lines<'_> {
    /// The line of the byte at `offset` (offsets asked in increasing order
    /// are counted once; an earlier one is counted again from the start).
    fn at(&mut self, offset: u64) -> u64 {
        let mut offset = usize::try_from(offset).unwrap_or(usize::MAX).min(self.text.len());
        // After a CRLF the reader may place a record on the `\n` ending the one before.
        while matches!(self.text.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        if offset < self.at {
            (self.at, self.line) = (0, 1);
        }
        let span = self.text.get(self.at..offset).unwrap_or_default();
        let ends = span
            .iter()
            .enumerate()
            .filter(|&(i, &c)| c == b'\n' || (c == b'\r' && self.text.get(self.at + i + 1) != Some(&b'\n')))
            .count();
        self.line += ends as u64;
        self.at = offset;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_columns_are_kept_in_file_order() {
        let csv = "branch,customer,class,since,户名\n东城供电所,P1,power,2020-01-01,张三\n西城供电所,L1,,,\n";
        let roster = Roster::read(csv.as_bytes(), "customers.csv", &["power", "lighting"]).expect("a valid roster");
        let columns: Vec<&str> = roster.columns().iter().map(|c| &**c).collect();
        assert_eq!(columns, ["branch", "户名"]);
        assert_eq!(roster.value("P1", "branch"), Some("东城供电所"));
        assert_eq!(roster.value("P1", "户名"), Some("张三"));
        assert_eq!(roster.value("L1", "户名"), Some(""));
        assert_eq!(roster.value("L1", "nope"), None);
        assert_eq!(roster.value("X9", "branch"), None);
    }

    #[test]
    fn without_classes_the_class_column_is_optional_and_an_ordinary_column() {
        let roster =
            Roster::read("customer,branch\nS1,东城\n".as_bytes(), "r.csv", &[]).expect("no class column needed");
        assert_eq!(roster.value("S1", "branch"), Some("东城"));
        let roster =
            Roster::read("customer,class,branch\nS1,power,东城\n".as_bytes(), "r.csv", &[]).expect("any class");
        assert_eq!(roster.get("S1").and_then(|e| e.class), None);
        assert_eq!(roster.value("S1", "class"), Some("power"));
        let err = Roster::read("customer,branch\nS1,东城\n".as_bytes(), "r.csv", &["power"]).err();
        assert_eq!(
            err.map(|e| e.message),
            Some("the header has no `class` column".to_string())
        );
    }

    /// The CSV reader skips empty lines before the header too: the header is
    /// then not the first line, and must not be read as a customer.
    #[test]
    fn empty_lines_before_the_header_are_no_customer() {
        for text in [
            "\ncustomer,branch\nS1,x\n",
            "\r\n\r\ncustomer,branch\r\nS1,x\r\n",
            "\ncustomer,branch\ncustomer,x\n",
        ] {
            let roster = Roster::read(text.as_bytes(), "r.csv", &[]).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            let ids: Vec<&str> = roster.ids().collect();
            assert_eq!(ids.len(), 1, "{text:?}: {ids:?}");
        }
        let roster = Roster::read("\ncustomer,branch\nS1,x\n".as_bytes(), "r.csv", &[]).expect("read");
        assert_eq!(roster.value("S1", "branch"), Some("x"));
        assert_eq!(roster.get("S1").map(|e| e.line), Some(3));
    }

    /// What a roster read says: every entry with its carried values, or the error.
    fn said(text: &str) -> Result<Vec<(String, Entry, Vec<String>)>, DataError> {
        let r = Roster::read(text.as_bytes(), "r.csv", &["power", "lighting"])?;
        Ok(r.entries()
            .map(|(id, e)| {
                let extra = r.extra(id).unwrap_or_default().iter().map(|v| v.to_string()).collect();
                (id.to_string(), *e, extra)
            })
            .collect())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// A roster read on every core (records are lines) says what the
        /// CSV reader, in order, says of the same roster — a quoted header
        /// name sends it there — good or bad, line for line.
        #[test]
        fn a_roster_read_in_pieces_reads_as_one(
            rows in proptest::collection::vec(
                proptest::sample::select(vec![
                    "A1,power,2020-01-01,东城", "B2,lighting,,西城", "C3,,2019-12-31,", "A1,power,,",
                    ",,,", "", "  ", "D4,nope,,", "E5,power,2020-13-01,", ",power,,", "F6,power,,x,y",
                    "G7,lighting,2026/3/5,南区", "户号8,power,,北区", "H9,power", "a1,power,,",
                ]),
                0..40,
            ),
            crlf in proptest::bool::ANY,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let body: String = rows.iter().map(|r| format!("{r}{end}")).collect();
            let plain = format!("customer,class,since,branch{end}{body}");
            let quoted = format!("\"customer\",class,since,branch{end}{body}");
            let (a, b) = (said(&plain), said(&quoted));
            proptest::prop_assert_eq!(a, b, "{:?}", plain);
        }
    }

    fn any_pieces_were_joined(text: &str) -> bool {
        let any = Roster::read_any_order(text.as_bytes(), "r.csv", &["power"]).expect("read");
        any.pieces.len() < 2 || !any.rows.is_empty()
    }

    /// Runs of a roster, read in pieces or whole, list its entries as
    /// `listing` does, in order, none longer than asked.
    #[test]
    fn a_roster_cut_into_runs_lists_every_entry_once_in_order() {
        let text: String = (0..5_000).map(|i| format!("C{i:05},power\n")).collect();
        let text = format!("customer,class\n{text}");
        let any = Roster::read_any_order(text.as_bytes(), "r.csv", &["power"]).expect("read");
        assert!(!any_pieces_were_joined(&text));
        let sorted = Roster::read(text.as_bytes(), "r.csv", &["power"]).expect("read");
        for roster in [&any, &sorted] {
            let listed: Vec<(&str, &Entry)> = roster.listing().collect();
            for most in [1, 7, 100, 313, 5_000, 100_000] {
                let runs: Vec<Vec<(&str, &Entry)>> = roster.runs(most).into_iter().map(Iterator::collect).collect();
                assert!(runs.iter().all(|r| !r.is_empty() && r.len() <= most), "{most}");
                assert_eq!(runs.concat(), listed, "{most}");
            }
        }
    }

    /// The roster a load reads in any order lists every customer the sorted
    /// one does, and finds the same first repeat as sorting does, once it
    /// is sorted or looked at (`check_repeats`) — not before.
    #[test]
    fn a_roster_read_in_any_order_lists_and_repeats_as_the_sorted_one() {
        let ids: Vec<String> = (0..20_000u32)
            .map(|i| format!("C{:06}", (i * 7_919) % 20_000))
            .collect();
        let text = |ids: &[String]| {
            format!(
                "customer,class\n{}",
                ids.iter().map(|i| format!("{i},power\n")).collect::<String>()
            )
        };
        let any = Roster::read_any_order(text(&ids).as_bytes(), "r.csv", &["power"]).expect("no repeat");
        assert!(!any.sorted, "a roster of lines is left in file order");
        assert!(any.is_unchecked() && any.check_repeats().is_ok());
        let listed: Vec<(String, Entry)> = any.listing().map(|(id, e)| (id.to_string(), *e)).collect();
        let sorted = any.sorted().expect("no repeat");
        assert!(!sorted.is_unchecked());
        let mut by_id = listed.clone();
        by_id.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            sorted.entries().map(|(id, e)| (id.to_string(), *e)).collect::<Vec<_>>(),
            by_id
        );
        // In file order, across the pieces the cores read.
        assert!(!any_pieces_were_joined(&text(&ids)), "a long roster is read in pieces");
        assert_eq!(
            listed.iter().map(|(id, e)| (id.as_str(), e.line)).collect::<Vec<_>>(),
            ids.iter().map(String::as_str).zip(2u64..).collect::<Vec<_>>()
        );
        // Repeats: one id three times, another twice, the first repeat (by
        // the line of its second listing) is named, as sorting names it.
        for repeats in [
            [(3, 17_000), (5, 900), (11, 12_000)],
            [(4_000, 3), (19_000, 18_000), (7, 2)],
        ] {
            let mut ids = ids.clone();
            for (from, to) in repeats {
                let id = ids.get(from).cloned().expect("a row");
                *ids.get_mut(to).expect("a row") = id;
            }
            let read = || Roster::read_any_order(text(&ids).as_bytes(), "r.csv", &["power"]).expect("read");
            let (checked, sorted) = (read().check_repeats().err(), read().sorted().err());
            let mut by_sort = Roster::default();
            for (n, id) in (2u64..).zip(&ids) {
                by_sort.push(Record {
                    id,
                    entry: Entry {
                        class: Some(0),
                        since: None,
                        line: n,
                    },
                    extra: None,
                });
            }
            let expected = by_sort.sort().map(|r| twice_error("r.csv", r));
            assert!(expected.is_some(), "{repeats:?}");
            let expected = expected.map(|e| (e.line, e.message));
            assert_eq!(checked.map(|e| (e.line, e.message)), expected, "{repeats:?}");
            assert_eq!(sorted.map(|e| (e.line, e.message)), expected, "{repeats:?}");
        }
    }

    #[test]
    fn roster_lines_are_counted_whatever_the_line_ends() {
        for (end, name) in [("\n", "LF"), ("\r\n", "CRLF"), ("\r", "CR")] {
            let text = ["customer,class", "A,power", "B,power", "A,power", ""].join(end);
            let err = Roster::read(text.as_bytes(), "r.csv", &["power"]).err();
            assert_eq!(
                err.map(|e| (e.line, e.message)),
                Some((4, "customer \"A\" is listed twice (first on line 2)".to_string())),
                "{name}"
            );
            let text = ["customer,class", "A,power", "B,nope", ""].join(end);
            let err = Roster::read(text.as_bytes(), "r.csv", &["power"]).err();
            assert_eq!(err.map(|e| e.line), Some(3), "{name}");
        }
    }
}
