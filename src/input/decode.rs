//! Input stage: decoding one block of records into compact rows, checking
//! every field of every row of a declared kind against the schema.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashSet;

use super::block::Block;
use super::near::near_miss;
use super::schema::{AttrSchema, Schema, TextMemo};
use super::{DataError, LoadOptions, Reject};
use crate::date::Date;

/// The fields a log may have: `customer`, `date`, `kind` and every attribute
/// any declared kind has. Any other column or key is unknown: an error when
/// it nearly is one of these (`Persons`), else named in the summary.
pub struct Names {
    set: FxHashSet<String>,
    list: Vec<String>,
}

impl Names {
    pub fn of(schema: &Schema) -> Names {
        let mut list: Vec<String> = ["customer", "date", "kind"].map(String::from).to_vec();
        for k in &schema.kinds {
            for a in &k.attrs {
                if !list.contains(&a.name) {
                    list.push(a.name.clone());
                }
            }
        }
        Names {
            set: list.iter().cloned().collect(),
            list,
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.set.contains(name)
    }

    /// `Err(message)` when an unknown `name` is a near miss of a known one.
    pub fn check_unknown(&self, what: &str, name: &str) -> Result<(), String> {
        match near_miss(name, self.list.iter().map(String::as_str)) {
            Some(known) => Err(format!(
                "{what} `{name}` is not a field of any declared kind; did you mean `{known}`?"
            )),
            None => Ok(()),
        }
    }
}

/// Where a CSV file keeps each field the rulebook needs.
pub struct CsvHeader {
    /// The field separator.
    delimiter: u8,
    width: usize,
    customer: usize,
    date: usize,
    kind: usize,
    /// Per kind, per attribute: its column.
    attrs: Vec<Vec<Option<usize>>>,
    /// Named columns the rulebook does not use, in file order.
    pub unknown: Vec<String>,
}

impl CsvHeader {
    pub fn new(
        header: Vec<u8>,
        delimiter: u8,
        schema: &Schema,
        known: &Names,
        file: &str,
    ) -> Result<CsvHeader, DataError> {
        let err = |message: String| DataError {
            file: file.to_string(),
            line: 1,
            message,
        };
        let text = match String::from_utf8(header) {
            Ok(text) => text,
            Err(e) => {
                let hint = super::encoding::gbk_hint(e.as_bytes());
                return Err(err(format!("the header is not valid UTF-8{hint}")));
            }
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let names: Vec<String> = match rdr.records().next() {
            Some(Ok(rec)) => rec.iter().map(str::to_string).collect(),
            _ => return Err(err("the header row cannot be read".into())),
        };
        let mut unknown = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if let Some(first) = names.iter().take(i).position(|n| n == name && !n.is_empty()) {
                return Err(err(format!(
                    "column `{name}` appears twice (columns {} and {}); which one holds the data is unclear",
                    first + 1,
                    i + 1
                )));
            }
            if name.is_empty() || known.contains(name) {
                continue;
            }
            known.check_unknown("column", name).map_err(err)?;
            unknown.push(name.clone());
        }
        let col = |want: &str| names.iter().position(|n| n == want);
        let required = |want: &str| col(want).ok_or_else(|| err(format!("the header has no `{want}` column")));
        let attrs = schema
            .kinds
            .iter()
            .map(|k| k.attrs.iter().map(|a| col(&a.name)).collect())
            .collect();
        Ok(CsvHeader {
            delimiter,
            width: names.len(),
            customer: required("customer")?,
            date: required("date")?,
            kind: required("kind")?,
            attrs,
            unknown,
        })
    }
}

/// Shared, read-only state of a decode.
pub struct Context<'a> {
    pub schema: &'a Schema,
    pub known: &'a Names,
    pub header: Option<&'a CsvHeader>,
    /// Events dated on or before this are validated but not kept.
    pub horizon: Option<Date>,
    pub name: &'a str,
    pub opts: LoadOptions,
    /// Keep only the rows of these customers (`Within::only`, `Within::between`): every row is
    /// still checked and counted. Keyed here, while the id is in cache.
    pub only: Option<&'a super::Only>,
    /// Keep the rows split by the partition of their customer
    /// (`Decoded::parts`), for a load that interns them partition by
    /// partition, rather than in file order (`Decoded::rows_out`).
    pub split: bool,
}

/// One valid row: its customer, and its event unless the kind is
/// undeclared or the date is after the as-of date.
#[derive(Clone, Copy)]
pub struct Row {
    /// Where the customer's id starts in `Decoded::custs`, and its length.
    /// An id of up to 16 bytes is its head (`head`) and is not copied
    /// there (`input::row_id`).
    pub cust: (u32, u32),
    /// The id's hash and first 16 bytes (`input::hash_id`, `input::prefix`),
    /// found while the id is in cache.
    pub hash: u64,
    pub head: [u64; 2],
    pub date: Date,
    pub line: u32,
    pub kind: Option<u16>,
    pub vals: u32,
}

#[derive(Default)]
pub struct Decoded {
    pub rows: u64,
    pub rows_used: u64,
    pub after_as_of: u64,
    pub undeclared: BTreeMap<String, u64>,
    /// Rows with every cell empty (Excel's trailing `,,,,`).
    pub blank: u64,
    /// JSON keys the rulebook does not use.
    pub unknown: BTreeSet<String>,
    /// The rows kept, in file order (a decode that does not `split`).
    pub rows_out: Vec<Row>,
    /// The rows kept, by the partition of their customer (`input::part_of`),
    /// each in file order (a decode that does `split`): each partition then
    /// reads its rows in one sweep, and they are not copied out of a
    /// file-order list first.
    pub parts: Vec<Vec<Row>>,
    pub custs: Vec<u8>,
    pub vals: Vec<i64>,
    pub rejects: Vec<Reject>,
    /// The first bad row, when not keeping going.
    pub error: Option<DataError>,
    /// The texts this block added to the schema's table (dropped once it is decoded).
    texts: TextMemo,
}

/// A field of a row, before it is typed.
enum Cell<'a> {
    Absent,
    Bytes(&'a [u8]),
    /// A field of a block already checked to be UTF-8 as a whole.
    Str(&'a str),
    Json(&'a serde_json::Value),
}

impl Decoded {
    /// Room for the rows of a block of `bytes` bytes (a row of a log is
    /// rarely under 32 bytes), so that its vectors are seldom grown by
    /// copying; a decode that splits its rows has a list for every partition.
    fn with_room(ctx: &Context<'_>, bytes: usize) -> Decoded {
        let rows = bytes / 32;
        let (rows_out, parts) = match ctx.split {
            // An even share of rows of 40 bytes and an eighth more, for the
            // partitions that get more (a log of shorter rows grows a few lists).
            true => (
                Vec::new(),
                (0..super::PARTS)
                    .map(|_| Vec::with_capacity(bytes / 40 / super::PARTS * 9 / 8))
                    .collect(),
            ),
            false => (Vec::with_capacity(rows), Vec::new()),
        };
        Decoded {
            rows_out,
            parts,
            custs: Vec::new(),
            vals: Vec::with_capacity(rows),
            ..Decoded::default()
        }
    }

    /// Records a bad row; returns false when decoding must stop.
    fn bad(&mut self, ctx: &Context<'_>, line: u64, message: String, raw: impl FnOnce() -> String) -> bool {
        if ctx.opts.keep_going {
            self.rejects.push(Reject {
                file: ctx.name.to_string(),
                line,
                reason: message,
                row: raw(),
            });
            true
        } else {
            self.error = Some(DataError {
                file: ctx.name.to_string(),
                line,
                message,
            });
            false
        }
    }

    /// Decodes one row given a way to read its fields; `Err` is the reason it is bad.
    fn row<'c>(
        &mut self,
        ctx: &Context<'_>,
        line: u64,
        customer: Cell<'c>,
        date: Cell<'c>,
        kind: Cell<'c>,
        attr: impl Fn(u16, usize, &AttrSchema) -> Cell<'c>,
    ) -> Result<(), String> {
        let customer = text_field("customer", customer)?;
        if customer.is_empty() {
            return Err("customer is missing".into());
        }
        let date_text = text_field("date", date)?;
        let date = Date::parse_data(date_text).ok_or_else(|| bad_date("date", date_text))?;
        let kind_name = text_field("kind", kind)?;
        if kind_name.is_empty() {
            return Err("kind is missing".into());
        }
        let kind = ctx.schema.kind(kind_name);
        let base = self.vals.len();
        if let Some((kind_id, k)) = kind.and_then(|k| Some((k, ctx.schema.kind_of(k)?))) {
            for (slot, a) in k.attrs.iter().enumerate() {
                let value = match attr(kind_id, slot, a) {
                    Cell::Absent => None,
                    Cell::Bytes([]) | Cell::Str("") => None,
                    Cell::Json(serde_json::Value::Null) => None,
                    Cell::Bytes(b) => {
                        let s = std::str::from_utf8(b).map_err(|_| not_utf8(&a.name, b))?;
                        Some(
                            a.decode_text(s, &ctx.schema.texts, &mut self.texts)
                                .map_err(|e| format!("{} \"{s}\" {e}", a.name)),
                        )
                    }
                    Cell::Str(s) => Some(
                        a.decode_text(s, &ctx.schema.texts, &mut self.texts)
                            .map_err(|e| format!("{} \"{s}\" {e}", a.name)),
                    ),
                    Cell::Json(v) => Some(
                        a.decode_json(v, &ctx.schema.texts, &mut self.texts)
                            .map_err(|e| format!("{} {v} {e}", a.name)),
                    ),
                };
                let v = match (value, a.default) {
                    (Some(v), _) => v,
                    (None, Some(d)) => Ok(d),
                    (None, None) if a.optional => Ok(super::schema::ABSENT),
                    (None, None) => Err(format!("{} is missing (required for kind \"{kind_name}\")", a.name)),
                };
                match v {
                    Ok(v) => self.vals.push(v),
                    Err(e) => {
                        self.vals.truncate(base);
                        return Err(e);
                    }
                }
            }
        } else if !self.undeclared.contains_key(kind_name) {
            // First seen in this block: a near miss of a declared kind is a typo, not another kind.
            let declared = ctx.schema.kinds.iter().map(|k| k.name.as_str());
            if let Some(k) = near_miss(kind_name, declared) {
                return Err(format!("kind `{kind_name}` is not declared; did you mean `{k}`?"));
            }
            // A spreadsheet that names the kind by its Chinese label (`窃电`).
            if let Some(k) = ctx
                .schema
                .kinds
                .iter()
                .find(|k| k.label.as_deref() == Some(kind_name.trim()))
            {
                return Err(format!(
                    "kind `{kind_name}` is the label of the kind `{}`; the log must name the kind: write `{}`",
                    k.name, k.name
                ));
            }
            if ctx.opts.strict {
                return Err(format!("kind \"{kind_name}\" is not declared by the rulebook"));
            }
        }
        if kind.is_none() {
            *self.undeclared.entry(kind_name.to_string()).or_default() += 1;
        }
        self.keep(ctx, line, customer, date, kind, base);
        Ok(())
    }

    /// A row of a plain CSV line of ASCII read without a question: the
    /// usual row of a log, decoded with none of the general path's layers
    /// (`row`). False, with nothing changed, for anything else — an empty
    /// customer or required attribute, a date not `YYYY-MM-DD`, a kind the
    /// rulebook does not declare, a cell its attribute does not accept —
    /// which the general path then decodes, or names what is wrong with.
    #[inline(always)]
    fn plain_row(&mut self, ctx: &Context<'_>, h: &CsvHeader, line: u64, fields: &Cut<'_, Ascii<'_>>) -> bool {
        let text = |i: usize| fields.field(i).map(Ascii::text);
        let (Some(customer), Some(date), Some(kind)) = (text(h.customer), text(h.date), text(h.kind)) else {
            return false;
        };
        let (Some(date), Some(kind)) = (Date::parse(date), ctx.schema.kind(kind)) else {
            return false;
        };
        let (Some(k), Some(cols)) = (ctx.schema.kind_of(kind), h.attrs.get(usize::from(kind))) else {
            return false;
        };
        if customer.is_empty() {
            return false;
        }
        let base = self.vals.len();
        for (a, col) in k.attrs.iter().zip(cols) {
            // A column the file does not have is an empty cell.
            let value = match col.and_then(text).unwrap_or("") {
                "" => match a.default {
                    Some(d) => Ok(d),
                    None if a.optional => Ok(super::schema::ABSENT),
                    None => Err(()),
                },
                cell => a.decode_text(cell, &ctx.schema.texts, &mut self.texts).map_err(|_| ()),
            };
            match value {
                Ok(v) => self.vals.push(v),
                Err(()) => {
                    self.vals.truncate(base);
                    return false;
                }
            }
        }
        self.keep(ctx, line, customer, date, Some(kind), base);
        true
    }

    /// Keeps a decoded row (its values from `base` in `vals`): counted, and
    /// its event too unless it is after the as-of date or before the
    /// horizon; none of it when a targeted load does not keep its customer.
    #[inline(always)]
    fn keep(&mut self, ctx: &Context<'_>, line: u64, customer: &str, date: Date, kind: Option<u16>, base: usize) {
        self.rows += 1;
        let kind = match kind {
            None => None,
            Some(_) if date > ctx.opts.as_of => {
                self.vals.truncate(base);
                self.after_as_of += 1;
                None
            }
            Some(_) if ctx.horizon.is_some_and(|h| date <= h) => {
                self.vals.truncate(base);
                self.rows_used += 1;
                None
            }
            Some(k) => {
                self.rows_used += 1;
                Some(k)
            }
        };
        if ctx.only.is_some_and(|only| !only.keeps(customer)) {
            self.vals.truncate(base);
            return;
        }
        let id = customer.as_bytes();
        let head = super::prefix(id);
        let start = u32::try_from(self.custs.len()).expect("a block's ids fit in 4 GiB");
        if id.len() > 16 {
            self.custs.extend_from_slice(id);
        }
        let row = Row {
            cust: (start, u32::try_from(id.len()).expect("an id fits in 4 GiB")),
            hash: super::hash_with_prefix(id, head),
            head,
            date,
            line: line.min(u64::from(u32::MAX)) as u32,
            kind,
            vals: base as u32,
        };
        match ctx.split {
            true => self
                .parts
                .get_mut(super::part_of(row.hash))
                .expect("a splitting decode has a list for every partition")
                .push(row),
            false => self.rows_out.push(row),
        }
    }
}

/// `date "3/5/2026" is not a valid date`, with the accepted forms when it is not even the shape of one.
pub fn bad_date(field: &str, text: &str) -> String {
    let shaped = text.len() >= 8
        && text.get(..4).is_some_and(|y| y.bytes().all(|c| c.is_ascii_digit()))
        && matches!(text.as_bytes().get(4), Some(b'-' | b'/'));
    if shaped || text.is_empty() {
        format!("{field} \"{text}\" is not a valid date")
    } else {
        format!(
            "{field} \"{text}\" is not a valid date; write year first: {}",
            crate::date::DATA_FORMS
        )
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn not_utf8(field: &str, bytes: &[u8]) -> String {
    format!(
        "{field} \"{}\" is not valid UTF-8{}",
        String::from_utf8_lossy(bytes),
        super::encoding::gbk_hint(bytes)
    )
}

/// A cell as text: inline for a field of a block checked to be UTF-8 as a
/// whole (nearly every row), the rest out of line.
#[inline(always)]
fn text_field<'c>(name: &str, cell: Cell<'c>) -> Result<&'c str, String> {
    match cell {
        Cell::Str(s) => Ok(s),
        other => text_field_other(name, other),
    }
}

#[inline(never)]
fn text_field_other<'c>(name: &str, cell: Cell<'c>) -> Result<&'c str, String> {
    match cell {
        Cell::Absent => Err(format!("{name} is missing")),
        Cell::Bytes(b) => std::str::from_utf8(b).map_err(|_| not_utf8(name, b)),
        Cell::Str(s) => Ok(s),
        Cell::Json(serde_json::Value::String(s)) => Ok(s),
        Cell::Json(serde_json::Value::Null) => Err(format!("{name} is missing")),
        Cell::Json(v) => Err(format!("{name} {v} is not text")),
    }
}

/// Decodes a block of the source's format.
pub fn block(ctx: &Context<'_>, b: &Block) -> Decoded {
    let mut out = match ctx.header {
        Some(h) => csv_block(ctx, h, b),
        None => jsonl_block(ctx, b),
    };
    out.texts = TextMemo::default();
    out
}

fn csv_block(ctx: &Context<'_>, h: &CsvHeader, b: &Block) -> Decoded {
    // Without quotes, and without a lone CR (which the CSV reader takes as a
    // line end), a record is a line: both readings agree, whatever the block.
    let lone_cr = || memchr::memchr_iter(b'\r', b.bytes()).any(|i| b.bytes().get(i + 1) != Some(&b'\n'));
    if b.plain || (memchr::memchr(b'"', b.bytes()).is_none() && !lone_cr()) {
        return plain_csv_block(ctx, h, b);
    }
    let mut out = Decoded::with_room(ctx, 0);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(h.delimiter)
        .from_reader(b.bytes());
    let mut rec = csv::ByteRecord::new();
    // Line numbers come from counting newlines up to each record's first byte.
    let (mut counted_to, mut newlines) = (0usize, 0u64);
    loop {
        let at = rdr.position().byte() as usize;
        let read = rdr.read_byte_record(&mut rec);
        let mut start = rec.position().map_or(at, |p| p.byte() as usize).max(counted_to);
        // After a CRLF the reader may place a record on the `\n` that ends the previous one.
        while matches!(b.bytes().get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        newlines += memchr::memchr_iter(b'\n', b.bytes().get(counted_to..start).unwrap_or(&[])).count() as u64;
        counted_to = start;
        let line = b.first_line + newlines;
        // The record as it is in the file, without its line end.
        let end = (rdr.position().byte() as usize).max(start);
        let mut raw = b
            .bytes()
            .get(start..end)
            .expect("the reader's positions are within its block");
        while let Some(r) = raw.strip_suffix(b"\n").or_else(|| raw.strip_suffix(b"\r")) {
            raw = r;
        }
        let ok = match read {
            Ok(false) => break,
            Err(e) => out.bad(ctx, line, format!("cannot be read as CSV: {e}"), || lossy(raw)),
            Ok(true) if b.open_quote.is_some_and(|q| start <= q && q < end) => {
                let q = b.open_quote.expect("checked by the guard");
                let at = b.first_line + memchr::memchr_iter(b'\n', b.bytes().get(..q).unwrap_or(&[])).count() as u64;
                let message =
                    format!("unterminated quoted field starting at line {at}: a `\"` opens a field that never closes");
                out.bad(ctx, at, message, || lossy(raw));
                break;
            }
            Ok(true) => {
                let fields: Vec<&[u8]> = rec.iter().collect();
                csv_row(ctx, h, &mut out, line, &fields[..], raw)
            }
        };
        if !ok {
            break;
        }
    }
    out
}

/// A block without quotes: records are lines and fields split at commas,
/// both found in one pass (`scan::lines`). A line of ASCII (the usual case)
/// is text as it is; any other is checked to be UTF-8, and one that is not
/// is read field by field, so that the bad field is the one named.
fn plain_csv_block(ctx: &Context<'_>, h: &CsvHeader, b: &Block) -> Decoded {
    let mut out = Decoded::with_room(ctx, b.bytes().len());
    super::scan::lines(b.bytes(), h.delimiter, |line| {
        let number = b.first_line + line.index;
        let bounds = line.bounds;
        // (`from_utf8` costs five times `is_ascii` on a line of a log.)
        if line.text.is_ascii() {
            let fields = Cut {
                text: Ascii(line.text),
                bounds,
            };
            if fields.count() == h.width && out.plain_row(ctx, h, number, &fields) {
                return true;
            }
            return csv_row(ctx, h, &mut out, number, &fields, line.text);
        }
        match std::str::from_utf8(line.text) {
            Ok(text) => csv_row(ctx, h, &mut out, number, &Cut { text, bounds }, line.text),
            Err(_) => csv_row(
                ctx,
                h,
                &mut out,
                number,
                &Cut {
                    text: line.text,
                    bounds,
                },
                line.text,
            ),
        }
    });
    out
}

/// A field of a plain CSV line: ASCII, checked UTF-8 text, or bytes still to check.
trait Field<'a>: Copy {
    fn bytes(self) -> &'a [u8];
    fn cell(self) -> Cell<'a>;
    /// `self[from..to]`, at the byte offsets of ASCII separators.
    fn slice(self, from: usize, to: usize) -> Self;
}

/// A line, or a field of one, that `is_ascii` found ASCII: a field is cut
/// out as bytes and is text as it is, without `from_utf8` or a check that
/// each cut falls between characters.
#[derive(Clone, Copy)]
struct Ascii<'a>(&'a [u8]);

impl<'a> Ascii<'a> {
    fn text(self) -> &'a str {
        // SAFETY: an `Ascii` is made only of a line `is_ascii` found ASCII
        // (`plain_csv_block`), or cut out of one (`slice`): every byte is
        // ASCII, and ASCII is UTF-8.
        unsafe { std::str::from_utf8_unchecked(self.0) }
    }
}

impl<'a> Field<'a> for Ascii<'a> {
    fn bytes(self) -> &'a [u8] {
        self.0
    }
    fn cell(self) -> Cell<'a> {
        Cell::Str(self.text())
    }
    fn slice(self, from: usize, to: usize) -> Self {
        Ascii(self.0.get(from..to).expect("cuts are within the line"))
    }
}

impl<'a> Field<'a> for &'a str {
    fn bytes(self) -> &'a [u8] {
        self.as_bytes()
    }
    fn cell(self) -> Cell<'a> {
        Cell::Str(self)
    }
    fn slice(self, from: usize, to: usize) -> Self {
        self.get(from..to)
            .expect("separators are ASCII, so every cut is on a character boundary")
    }
}

impl<'a> Field<'a> for &'a [u8] {
    fn bytes(self) -> &'a [u8] {
        self
    }
    fn cell(self) -> Cell<'a> {
        Cell::Bytes(self)
    }
    fn slice(self, from: usize, to: usize) -> Self {
        self.get(from..to).expect("cuts are within the line")
    }
}

/// The fields of one CSV record, read by column.
trait Fields<'a> {
    fn count(&self) -> usize;
    fn cell(&self, i: usize) -> Cell<'a>;
    /// Every field empty or spaces (Excel's trailing `,,,,`).
    fn blank(&self) -> bool;
}

/// A record the CSV reader cut into fields.
impl<'a> Fields<'a> for [&'a [u8]] {
    fn count(&self) -> usize {
        self.len()
    }
    fn cell(&self, i: usize) -> Cell<'a> {
        self.get(i).map_or(Cell::Absent, |f| Cell::Bytes(f))
    }
    fn blank(&self) -> bool {
        self.iter().all(|f| f.iter().all(u8::is_ascii_whitespace))
    }
}

/// A plain line and where its fields begin (one past each delimiter), with
/// one past its end last: a field is cut out only when it is read, so the
/// columns a row's kind does not use cost nothing.
struct Cut<'b, T> {
    text: T,
    bounds: &'b [usize],
}

impl<'a, T: Field<'a>> Cut<'_, T> {
    fn field(&self, i: usize) -> Option<T> {
        match (self.bounds.get(i), self.bounds.get(i + 1)) {
            (Some(&from), Some(&next)) => Some(self.text.slice(from, next - 1)),
            _ => None,
        }
    }
}

impl<'a, T: Field<'a>> Fields<'a> for Cut<'_, T> {
    fn count(&self) -> usize {
        self.bounds.len().saturating_sub(1)
    }
    fn cell(&self, i: usize) -> Cell<'a> {
        self.field(i).map_or(Cell::Absent, Field::cell)
    }
    fn blank(&self) -> bool {
        (0..self.count()).all(|i| {
            self.field(i)
                .is_none_or(|f| f.bytes().iter().all(u8::is_ascii_whitespace))
        })
    }
}

/// Decodes one CSV record; returns false when decoding must stop.
/// `raw` is the record as it is in the file, for the rejects file.
fn csv_row<'a>(
    ctx: &Context<'_>,
    h: &CsvHeader,
    out: &mut Decoded,
    line: u64,
    fields: &(impl Fields<'a> + ?Sized),
    raw: &[u8],
) -> bool {
    let raw = || lossy(raw);
    // Checked only once a row is bad, off the hot path: a blank row has no customer.
    let blank = || fields.blank();
    if fields.count() != h.width {
        if blank() {
            out.blank += 1;
            return true;
        }
        let message = format!("has {} fields, the header has {}", fields.count(), h.width);
        return out.bad(ctx, line, message, raw);
    }
    let cell = |i: usize| fields.cell(i);
    let result = out.row(
        ctx,
        line,
        cell(h.customer),
        cell(h.date),
        cell(h.kind),
        |kind, slot, _| {
            h.attrs
                .get(usize::from(kind))
                .and_then(|cols| cols.get(slot).copied().flatten())
                .map_or(Cell::Absent, cell)
        },
    );
    match result {
        Ok(()) => true,
        // Row errors come before anything is kept, so a blank row leaves no trace.
        Err(_) if blank() => {
            out.blank += 1;
            true
        }
        Err(message) => out.bad(ctx, line, message, raw),
    }
}

fn jsonl_block(ctx: &Context<'_>, b: &Block) -> Decoded {
    let mut out = Decoded::with_room(ctx, 0);
    for (i, raw_line) in b.bytes().split(|&c| c == b'\n').enumerate() {
        let line = b.first_line + i as u64;
        let text = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let raw = || String::from_utf8_lossy(text).into_owned();
        if std::str::from_utf8(text).is_err() {
            let message = format!("is not valid UTF-8{}", super::encoding::gbk_hint(text));
            if !out.bad(ctx, line, message, raw) {
                break;
            }
            continue;
        }
        let obj = match serde_json::from_slice::<Object>(text) {
            Ok(Object::Map(m)) => m,
            Ok(Object::Other) => {
                if !out.bad(ctx, line, "is not a JSON object".into(), raw) {
                    break;
                }
                continue;
            }
            Ok(Object::Duplicate(key)) => {
                if !out.bad(ctx, line, format!("key `{key}` appears twice"), raw) {
                    break;
                }
                continue;
            }
            Err(e) => {
                if !out.bad(ctx, line, format!("is not valid JSON: {e}"), raw) {
                    break;
                }
                continue;
            }
        };
        let mut near = Ok(());
        for key in obj.keys() {
            if ctx.known.contains(key) || out.unknown.contains(key) {
                continue;
            }
            near = ctx.known.check_unknown("key", key);
            if near.is_err() {
                break;
            }
            out.unknown.insert(key.clone());
        }
        if let Err(message) = near {
            if !out.bad(ctx, line, message, raw) {
                break;
            }
            continue;
        }
        let cell = |k: &str| obj.get(k).map_or(Cell::Absent, Cell::Json);
        let result = out.row(ctx, line, cell("customer"), cell("date"), cell("kind"), |_, _, a| {
            cell(&a.name)
        });
        if let Err(message) = result {
            if !out.bad(ctx, line, message, raw) {
                break;
            }
        }
    }
    out
}

/// One line of JSON Lines: an object whose keys are all different, or why not.
enum Object {
    Map(serde_json::Map<String, serde_json::Value>),
    /// Valid JSON, but not an object.
    Other,
    /// An object that gives this key twice.
    Duplicate(String),
}

impl<'de> serde::Deserialize<'de> for Object {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Object, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Object;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Object, A::Error> {
                let mut m = serde_json::Map::new();
                let mut duplicate = None;
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    // How serde_json's `arbitrary_precision` hands over a bare number.
                    if k.starts_with("$serde_json::private") {
                        return Ok(Object::Other);
                    }
                    if m.contains_key(&k) {
                        duplicate.get_or_insert(k);
                    } else {
                        m.insert(k, v);
                    }
                }
                Ok(duplicate.map_or(Object::Map(m), Object::Duplicate))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Object, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Object::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Object, E> {
                Ok(Object::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Object, E> {
                Ok(Object::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Object, E> {
                Ok(Object::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Object, E> {
                Ok(Object::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Object, E> {
                Ok(Object::Other)
            }
            fn visit_unit<E>(self) -> Result<Object, E> {
                Ok(Object::Other)
            }
        }
        d.deserialize_any(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::block::Blocks;
    use crate::input::{Format, LoadOptions};

    /// A decode of `x.csv` as of 2026-06-30 that keeps going past bad rows.
    fn context<'a>(
        schema: &'a Schema,
        known: &'a Names,
        h: &'a CsvHeader,
        horizon: Option<Date>,
        split: bool,
    ) -> Context<'a> {
        Context {
            schema,
            known,
            header: Some(h),
            horizon,
            name: "x.csv",
            opts: LoadOptions {
                as_of: Date::from_ymd(2026, 6, 30).expect("a date"),
                strict: false,
                keep_going: true,
            },
            only: None,
            split,
        }
    }

    /// Every row a decode keeps or rejects: (line, customer or reason).
    /// With `split`, the rows kept are gathered from their partitions', each
    /// checked to be its customer's.
    fn decode_in_blocks(schema: &Schema, text: &[u8], size: usize, split: bool) -> Vec<(u64, String)> {
        let known = Names::of(schema);
        // One byte a read, so that a block of `size` is cut within its first `size` bytes.
        struct Trickle(Vec<u8>, usize);
        impl std::io::Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                match (self.0.get(self.1), buf.first_mut()) {
                    (Some(&b), Some(slot)) => {
                        *slot = b;
                        self.1 += 1;
                        Ok(1)
                    }
                    _ => Ok(0),
                }
            }
        }
        let reader = Box::new(Trickle(text.to_vec(), 0));
        let mut blocks = Blocks::with_block_size(reader, Format::Csv, "x.csv", size).expect("reads from memory");
        let delimiter = blocks.delimiter();
        let head = blocks.header().expect("a header");
        let Ok(h) = CsvHeader::new(head, delimiter, schema, &known, "x.csv") else {
            return vec![];
        };
        let ctx = context(schema, &known, &h, None, split);
        let (mut out, mut blank) = (Vec::new(), 0);
        loop {
            let (batch, failed) = blocks.next_batch(1);
            assert!(failed.is_none(), "reads from memory");
            let Some(b) = batch.first() else { break };
            let d = block(&ctx, b);
            assert_eq!(d.parts.len(), if split { crate::input::PARTS } else { 0 });
            assert!(
                !split || d.rows_out.is_empty(),
                "a split decode keeps no rows in file order"
            );
            let parted = d.parts.iter().enumerate().flat_map(|(p, rows)| {
                rows.iter()
                    .inspect(move |r| assert_eq!(crate::input::part_of(r.hash), p, "a row is in its partition"))
            });
            for r in d.rows_out.iter().chain(parted) {
                let id = crate::input::row_id(&d.custs, r);
                out.push((u64::from(r.line), String::from_utf8_lossy(id.bytes()).into_owned()));
            }
            out.extend(d.rejects.iter().map(|r| (r.line, format!("{}: {}", r.reason, r.row))));
            blank += d.blank;
        }
        out.push((0, format!("blank {blank}")));
        out.sort();
        out
    }

    /// What a decode kept: its counts, and each row with its values.
    fn kept(d: &Decoded, schema: &Schema) -> String {
        let rows: Vec<_> = d
            .rows_out
            .iter()
            .map(|r| {
                let width = r.kind.and_then(|k| schema.kind_of(k)).map_or(0, |k| k.attrs.len());
                let from = r.vals as usize;
                let vals = d.vals.get(from..from + width);
                (r.cust, r.hash, r.head, r.date, r.line, r.kind, vals)
            })
            .collect();
        format!(
            "{} {} {} {:?} {} {:?} {:?} {rows:?}",
            d.rows,
            d.rows_used,
            d.after_as_of,
            d.undeclared,
            d.blank,
            d.custs,
            d.rejects.iter().map(|r| &r.reason).collect::<Vec<_>>()
        )
    }

    #[test]
    fn a_plain_row_is_decoded_as_the_general_path_decodes_it_or_left_to_it() {
        let checked = crate::load(include_str!("../../rules/credit.rules"))
            .unwrap_or_else(|_| panic!("the published standard checks"));
        let schema = &checked.program.schema;
        let known = Names::of(schema);
        let header = "customer,date,kind,months,verified,reach,persons,dimension,score,note";
        let h = CsvHeader::new(header.as_bytes().to_vec(), b',', schema, &known, "x.csv").expect("a header");
        // Each column's cells: usual ones, and every way a cell goes wrong.
        let columns: [&[&str]; 10] = [
            &["C1", "C0000000000000002", "C00000000000000003", "", " C4"],
            &[
                "2026-03-01",
                "2026-06-30",
                "2026-07-01",
                "2024-02-29",
                "2026/3/5",
                "2026-3-5",
                "2026-13-01",
                "",
                "2026-03-01 10:00",
            ],
            &[
                "arrears",
                "assessment",
                "defaulter_tip",
                "cascade_trip",
                "unqualified_electrician",
                "theft",
                "meter_reading",
                "Theft",
                "",
                "arrear",
            ],
            &["1", "3", "0", "-1", " 2 ", "x", "", "1.0", "+2", "9999999999999"],
            &["true", "false", "TRUE", "True", "yes", ""],
            &["branch", "substation", "trunk", ""],
            &["", "1", "4", "0", " 2", "z"],
            &["operations", "development", "other", "", " operations"],
            &["3.5", "-1", "5.01", "", "4.1234567", "1e3", " 3 ", "abc"],
            &["", "n"],
        ];
        let choices: Vec<u8> = (0..10).collect();
        let mut fast_rows = 0;
        for horizon in [None, Date::from_ymd(2025, 6, 30)] {
            let ctx = context(schema, &known, &h, horizon, false);
            for (n, picks) in crate::num::random_bytes(&choices, 11, 10, 20_000)
                .into_iter()
                .enumerate()
            {
                let cells: Vec<&str> = columns
                    .iter()
                    .zip(&picks)
                    .map(|(cells, &k)| *cells.get(usize::from(k) % cells.len()).expect("a cell"))
                    .collect();
                let line = cells.join(",");
                let mut bounds = vec![0];
                bounds.extend(line.bytes().enumerate().filter(|&(_, c)| c == b',').map(|(i, _)| i + 1));
                bounds.push(line.len() + 1);
                let fields = Cut {
                    text: Ascii(line.as_bytes()),
                    bounds: &bounds,
                };
                let mut general = Decoded::with_room(&ctx, 0);
                csv_row(&ctx, &h, &mut general, n as u64, &fields, line.as_bytes());
                let mut fast = Decoded::with_room(&ctx, 0);
                let before = kept(&fast, schema);
                if fast.plain_row(&ctx, &h, n as u64, &fields) {
                    fast_rows += 1;
                    assert_eq!(kept(&fast, schema), kept(&general, schema), "{line}");
                } else {
                    assert_eq!(
                        kept(&fast, schema),
                        before,
                        "{line}: left to the general path, and unchanged"
                    );
                    assert!(fast.vals.is_empty(), "{line}");
                }
            }
        }
        // Most lines are left to the general path (some cell is wrong), but
        // many are not.
        assert!(fast_rows > 2_000, "{fast_rows} rows read plainly");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn item_03_decoding_never_depends_on_block_boundaries(
            rows in proptest::collection::vec(
                proptest::sample::select(vec![
                    "C1,2026-01-10,theft,x",
                    "C2,2026-01-10,theft,5\" wide",
                    "\"C3\",2026-01-10,theft,\"two\nlines\"",
                    "C4,2026-01-10,theft,a\rb",
                    ",,,",
                    "C5,2026-13-01,theft,",
                    "\"C,6\",2026-01-10,theft,\"q\"\"q\"",
                ]),
                0..12,
            ),
            crlf in proptest::bool::ANY,
        ) {
            let checked = crate::load("standard \"t\" period 12 months\nevent theft\nrules legal { L1 deduct 10 per theft }\nclass power { dimension legal max 30 uses legal }\ngrades { A >= 20, D }\n")
                .unwrap_or_else(|_| panic!("the rulebook checks"));
            let end = if crlf { "\r\n" } else { "\n" };
            let text = format!("customer,date,kind,note{end}{}", rows.iter().map(|r| format!("{r}{end}")).collect::<String>());
            let whole = decode_in_blocks(&checked.program.schema, text.as_bytes(), usize::MAX / 2, false);
            // Rows kept by partition or in file order alike, whatever the blocks.
            for k in 1..text.len() {
                let split = decode_in_blocks(&checked.program.schema, text.as_bytes(), k, k % 2 == 0);
                proptest::prop_assert_eq!(&split, &whole, "blocks of {} in {:?}", k, text);
            }
        }
    }
}
