//! Input stage: the customers roster (`customer,class[,since]`), which sets
//! each customer's class and the start of its known history.

use std::io::Read;

use rustc_hash::FxHashMap;

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

/// Roster entries by customer id.
#[derive(Debug, Default)]
pub struct Roster {
    entries: FxHashMap<Box<str>, Entry>,
    /// The header's columns beyond `customer`, `class` and `since`
    /// (`branch`, `户名`…), in the file's order.
    columns: Vec<Box<str>>,
    /// Each customer's values of `columns`, in the same order.
    extra: FxHashMap<Box<str>, Box<[Box<str>]>>,
}

impl Roster {
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.get(id)
    }

    /// Every entry of the roster, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// Every customer of the roster, in no particular order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(|s| &**s)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The roster's own columns beyond `customer`, `class` and `since`, in the
    /// file's order: carried into outputs and usable to group customers.
    pub fn columns(&self) -> &[Box<str>] {
        &self.columns
    }

    /// A customer's values of `columns()`, in the same order; `None` for a
    /// customer not on the roster.
    pub fn extra(&self, id: &str) -> Option<&[Box<str>]> {
        self.extra.get(id).map(|v| &**v)
    }

    /// A customer's value in the roster column `column` (`None`: not on the
    /// roster, or no such column).
    pub fn value(&self, id: &str, column: &str) -> Option<&str> {
        let i = self.columns.iter().position(|c| &**c == column)?;
        self.extra(id)?.get(i).map(|v| &**v)
    }

    /// Reads a roster CSV; `classes` are the rulebook's class names.
    pub fn read(reader: impl Read, name: &str, classes: &[&str]) -> Result<Roster, DataError> {
        let err = |line: u64, message: String| DataError {
            file: name.to_string(),
            line,
            message,
        };
        let mut bytes = Vec::new();
        let mut reader = reader;
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| match e.get_ref().and_then(|i| i.downcast_ref::<DataError>()) {
                // A decoding error already says where.
                Some(inner) => inner.clone(),
                None => err(0, format!("cannot read: {e}")),
            })?;
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let first_line = body.split(|&c| c == b'\n' || c == b'\r').next().unwrap_or(body);
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .delimiter(super::block::sniff_delimiter(first_line))
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
        let mut rec = csv::StringRecord::new();
        loop {
            match rdr.read_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
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
            let line = rec.position().map_or(0, |p| p.line());
            // Excel's trailing empty rows (`,,`): no customer, nothing to read.
            if rec.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            if rec.len() != header.len() {
                return Err(err(
                    line,
                    format!("has {} fields, the header has {}", rec.len(), header.len()),
                ));
            }
            let id = rec.get(customer).expect("the record has the header's width");
            if id.is_empty() {
                return Err(err(line, "customer is missing".into()));
            }
            let class = match class.and_then(|c| rec.get(c)).unwrap_or("") {
                "" => None,
                c => Some(classes.iter().position(|k| *k == c).ok_or_else(|| {
                    err(
                        line,
                        format!(
                            "class \"{c}\" is not a class of the rulebook (expected one of {})",
                            classes.join(", ")
                        ),
                    )
                })? as u16),
            };
            let since = match since.and_then(|i| rec.get(i)).unwrap_or("") {
                "" => None,
                s => Some(Date::parse_data(s).ok_or_else(|| err(line, super::decode::bad_date("since", s)))?),
            };
            if let Some(first) = roster.entries.get(id) {
                return Err(err(
                    line,
                    format!("customer \"{id}\" is listed twice (first on line {})", first.line),
                ));
            }
            if !kept.is_empty() {
                let values = kept
                    .iter()
                    .map(|&i| rec.get(i).expect("a record has as many fields as the header").into())
                    .collect();
                roster.extra.insert(id.into(), values);
            }
            roster.entries.insert(id.into(), Entry { class, since, line });
        }
        Ok(roster)
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
}
