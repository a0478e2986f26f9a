//! Input stage: a log from events given in memory (a test case's), each
//! checked as a strict load checks a CSV row — an undeclared kind, a bad or
//! missing attribute value is an error with the same message — without
//! writing them out as text and reading them back.

use super::schema::{Schema, ABSENT};
use super::{Customer, DataError, Event, EventLog, Place, Roster, Summary};
use crate::date::Date;

/// One event given in memory.
pub struct Record<'a> {
    pub customer: &'a str,
    pub date: Date,
    pub kind: &'a str,
    /// Attribute values as a log's cells would hold them; an attribute left
    /// out is an empty cell (its default, absent if `optional`, else missing).
    pub cells: Vec<(&'a str, &'a str)>,
    /// Where the event is written: errors and the events' `line` name it.
    pub line: u32,
}

/// The log of `records`, in the order given, and `roster`'s customers,
/// read as one file named `file` as of `as_of`. The first bad record is the
/// error, at its line.
pub fn from_records(
    file: &str,
    records: &[Record<'_>],
    schema: &Schema,
    roster: &Roster,
    as_of: Date,
) -> Result<EventLog, DataError> {
    let mut summary = Summary::default();
    let mut vals = Vec::new();
    let mut texts = super::schema::TextMemo::default();
    // (customer id, event with `cust` still unset), in the order given.
    let mut kept: Vec<(&str, Event)> = Vec::new();
    let mut ids: Vec<&str> = roster.ids().collect();
    for r in records {
        let err = |message: String| DataError {
            file: file.to_string(),
            line: u64::from(r.line),
            message,
        };
        if r.customer.is_empty() {
            return Err(err("customer is missing".into()));
        }
        let Some((kind, k)) = schema.kind(r.kind).and_then(|id| Some((id, schema.kind_of(id)?))) else {
            return Err(err(format!("kind \"{}\" is not declared by the rulebook", r.kind)));
        };
        let base = vals.len();
        for a in &k.attrs {
            let cell = r.cells.iter().find(|(n, _)| *n == a.name).map_or("", |(_, v)| *v);
            let v = match (cell, a.default) {
                ("", Some(d)) => d,
                ("", None) if a.optional => ABSENT,
                ("", None) => return Err(err(format!("{} is missing (required for kind \"{}\")", a.name, r.kind))),
                (s, _) => a
                    .decode_text(s, &schema.texts, &mut texts)
                    .map_err(|e| err(format!("{} \"{s}\" {e}", a.name)))?,
            };
            vals.push(v);
        }
        summary.rows += 1;
        ids.push(r.customer);
        if r.date > as_of {
            vals.truncate(base);
            summary.after_as_of += 1;
            continue;
        }
        summary.used += 1;
        let event = Event {
            cust: 0,
            date: r.date,
            line: r.line,
            kind,
            file: 0,
            vals: u32::try_from(base).unwrap_or(u32::MAX),
        };
        kept.push((r.customer, event));
    }
    ids.sort_unstable();
    ids.dedup();
    let number = |id: &str| {
        let i = ids
            .binary_search(&id)
            .expect("every record's customer is among the ids");
        u32::try_from(i).unwrap_or(u32::MAX)
    };
    let mut events: Vec<Event> = kept
        .into_iter()
        .map(|(id, e)| Event { cust: number(id), ..e })
        .collect();
    // By customer, each customer's events in the order given.
    events.sort_by_key(|e| e.cust);
    let mut places = Vec::with_capacity(ids.len());
    let mut start = 0;
    for c in 0..ids.len() {
        let len = events
            .get(start..)
            .map_or(0, |rest| rest.iter().take_while(|e| e.cust as usize == c).count());
        places.push(Place::new(
            0,
            start,
            u32::try_from(len).expect("a test case's customer has fewer than 2^32 events"),
        ));
        start += len;
    }
    let customers = ids
        .iter()
        .map(|&id| {
            let entry = roster.get(id);
            Customer {
                id: id.into(),
                class: entry.and_then(|e| e.class),
                since: entry.and_then(|e| e.since),
            }
        })
        .collect();
    Ok(EventLog {
        files: vec![file.to_string()],
        customers,
        stores: vec![events],
        states: None,
        places,
        vals,
        summary,
        rejects: vec![],
        unlisted: None,
    })
}
