//! Input stage: decoding one block of records into compact rows, checking
//! every field of every row of a declared kind against the schema.

use std::collections::BTreeMap;

use super::block::Block;
use super::schema::{AttrSchema, Schema};
use super::{DataError, LoadOptions, Reject};
use crate::date::Date;

/// Where a CSV file keeps each field the rulebook needs.
pub struct CsvHeader {
    width: usize,
    customer: usize,
    date: usize,
    kind: usize,
    /// Per kind, per attribute: its column.
    attrs: Vec<Vec<Option<usize>>>,
}

impl CsvHeader {
    pub fn new(header: Vec<u8>, schema: &Schema, file: &str) -> Result<CsvHeader, DataError> {
        let err = |message: String| DataError {
            file: file.to_string(),
            line: 1,
            message,
        };
        let text = String::from_utf8(header).map_err(|_| err("the header is not valid UTF-8".into()))?;
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let names: Vec<String> = match rdr.records().next() {
            Some(Ok(rec)) => rec.iter().map(str::to_string).collect(),
            _ => return Err(err("the header row cannot be read".into())),
        };
        let col = |want: &str| names.iter().position(|n| n == want);
        let required = |want: &str| col(want).ok_or_else(|| err(format!("the header has no `{want}` column")));
        let attrs = schema
            .kinds
            .iter()
            .map(|k| k.attrs.iter().map(|a| col(&a.name)).collect())
            .collect();
        Ok(CsvHeader {
            width: names.len(),
            customer: required("customer")?,
            date: required("date")?,
            kind: required("kind")?,
            attrs,
        })
    }
}

/// Shared, read-only state of a decode.
pub struct Context<'a> {
    pub schema: &'a Schema,
    pub header: Option<&'a CsvHeader>,
    /// Events dated on or before this are validated but not kept.
    pub horizon: Option<Date>,
    pub name: &'a str,
    pub opts: LoadOptions,
}

/// One valid row: its customer (a range of `Decoded::custs`), and its event
/// unless the kind is undeclared or the date is after the as-of date.
pub struct Row {
    pub cust: (u32, u32),
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
    pub rows_out: Vec<Row>,
    pub custs: Vec<u8>,
    pub vals: Vec<i64>,
    pub rejects: Vec<Reject>,
    /// The first bad row, when not keeping going.
    pub error: Option<DataError>,
}

/// A field of a row, before it is typed.
enum Cell<'a> {
    Absent,
    Bytes(&'a [u8]),
    Json(&'a serde_json::Value),
}

impl Decoded {
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
        let date = Date::parse(date_text).ok_or_else(|| format!("date \"{date_text}\" is not a valid date"))?;
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
                    Cell::Bytes([]) => None,
                    Cell::Json(serde_json::Value::Null) => None,
                    Cell::Bytes(b) => {
                        let s = std::str::from_utf8(b)
                            .map_err(|_| format!("{} \"{}\" is not valid UTF-8", a.name, String::from_utf8_lossy(b)))?;
                        Some(
                            a.decode_text(s, &ctx.schema.texts)
                                .map_err(|e| format!("{} \"{s}\" {e}", a.name)),
                        )
                    }
                    Cell::Json(v) => Some(
                        a.decode_json(v, &ctx.schema.texts)
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
        } else if ctx.opts.strict {
            return Err(format!("kind \"{kind_name}\" is not declared by the rulebook"));
        }
        self.rows += 1;
        let kind = match kind {
            None => {
                *self.undeclared.entry(kind_name.to_string()).or_default() += 1;
                None
            }
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
        let start = self.custs.len() as u32;
        self.custs.extend_from_slice(customer.as_bytes());
        self.rows_out.push(Row {
            cust: (start, self.custs.len() as u32),
            date,
            line: line.min(u64::from(u32::MAX)) as u32,
            kind,
            vals: base as u32,
        });
        Ok(())
    }
}

fn text_field<'c>(name: &str, cell: Cell<'c>) -> Result<&'c str, String> {
    match cell {
        Cell::Absent => Err(format!("{name} is missing")),
        Cell::Bytes(b) => {
            std::str::from_utf8(b).map_err(|_| format!("{name} \"{}\" is not valid UTF-8", String::from_utf8_lossy(b)))
        }
        Cell::Json(serde_json::Value::String(s)) => Ok(s),
        Cell::Json(serde_json::Value::Null) => Err(format!("{name} is missing")),
        Cell::Json(v) => Err(format!("{name} {v} is not text")),
    }
}

/// Decodes a block of the source's format.
pub fn block(ctx: &Context<'_>, b: &Block) -> Decoded {
    match ctx.header {
        Some(h) => csv_block(ctx, h, b),
        None => jsonl_block(ctx, b),
    }
}

fn csv_block(ctx: &Context<'_>, h: &CsvHeader, b: &Block) -> Decoded {
    if memchr::memchr(b'"', &b.bytes).is_none() {
        return plain_csv_block(ctx, h, b);
    }
    let mut out = Decoded::default();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(b.bytes.as_slice());
    let mut rec = csv::ByteRecord::new();
    // Line numbers come from counting newlines up to each record's first byte.
    let (mut counted_to, mut newlines) = (0usize, 0u64);
    loop {
        let at = rdr.position().byte() as usize;
        let read = rdr.read_byte_record(&mut rec);
        let mut start = rec.position().map_or(at, |p| p.byte() as usize).max(counted_to);
        // After a CRLF the reader may place a record on the `\n` that ends the previous one.
        while matches!(b.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        newlines += memchr::memchr_iter(b'\n', b.bytes.get(counted_to..start).unwrap_or(&[])).count() as u64;
        counted_to = start;
        let line = b.first_line + newlines;
        let ok = match read {
            Ok(false) => break,
            Err(e) => out.bad(ctx, line, format!("cannot be read as CSV: {e}"), String::new),
            Ok(true) => {
                let fields: Vec<&[u8]> = rec.iter().collect();
                csv_row(ctx, h, &mut out, line, &fields)
            }
        };
        if !ok {
            break;
        }
    }
    out
}

/// A block without quotes: records are lines and fields split at commas.
fn plain_csv_block(ctx: &Context<'_>, h: &CsvHeader, b: &Block) -> Decoded {
    let mut out = Decoded::default();
    let mut fields: Vec<&[u8]> = Vec::with_capacity(h.width + 1);
    let mut from = 0;
    let ends = memchr::memchr_iter(b'\n', &b.bytes).chain(std::iter::once(b.bytes.len()));
    for (this, end) in (b.first_line..).zip(ends) {
        let raw = b.bytes.get(from..end).unwrap_or(&[]);
        from = end + 1;
        let text = raw.strip_suffix(b"\r").unwrap_or(raw);
        if text.is_empty() {
            continue;
        }
        fields.clear();
        let mut at = 0;
        for comma in memchr::memchr_iter(b',', text) {
            fields.push(text.get(at..comma).unwrap_or(&[]));
            at = comma + 1;
        }
        fields.push(text.get(at..).unwrap_or(&[]));
        if !csv_row(ctx, h, &mut out, this, &fields) {
            break;
        }
    }
    out
}

/// Decodes one CSV record; returns false when decoding must stop.
fn csv_row(ctx: &Context<'_>, h: &CsvHeader, out: &mut Decoded, line: u64, fields: &[&[u8]]) -> bool {
    let raw = || {
        fields
            .iter()
            .map(|f| String::from_utf8_lossy(f))
            .collect::<Vec<_>>()
            .join(",")
    };
    if fields.len() != h.width {
        let message = format!("has {} fields, the header has {}", fields.len(), h.width);
        return out.bad(ctx, line, message, raw);
    }
    let cell = |i: usize| fields.get(i).map_or(Cell::Absent, |f| Cell::Bytes(f));
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
        Err(message) => out.bad(ctx, line, message, raw),
    }
}

fn jsonl_block(ctx: &Context<'_>, b: &Block) -> Decoded {
    let mut out = Decoded::default();
    for (i, raw_line) in b.bytes.split(|&c| c == b'\n').enumerate() {
        let line = b.first_line + i as u64;
        let text = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let raw = || String::from_utf8_lossy(text).into_owned();
        let obj = match serde_json::from_slice::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(m)) => m,
            Ok(_) => {
                if !out.bad(ctx, line, "is not a JSON object".into(), raw) {
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
