//! The pinned `--format jsonl` object of a customer without a ledger,
//! written byte by byte: the bytes serde_json makes of `CustomerJson`,
//! without building it (on a million customers serializing through serde
//! cost more than scoring them).

use super::Scored;
use crate::date::Date;
use crate::input::Roster;

/// The parts of a program's jsonl lines that are the same for many
/// customers — each class's name and dimension keys, each grade with its
/// measures, the as-of date — written and escaped once, so that a line is
/// mostly copies of them between the customer's own id and numbers.
pub struct Line {
    classes: Vec<ClassParts>,
    /// Per band: `,"grade":"…","dimensions":{`.
    grades: Vec<Vec<u8>>,
    /// Per band: `,"measures":"…"`, or nothing.
    measures: Vec<Vec<u8>>,
    as_of: Date,
    /// `},"as_of":"…"`.
    as_of_part: Vec<u8>,
}

struct ClassParts {
    /// `,"class":"…","total":`.
    head: Vec<u8>,
    /// Per dimension: `"…":`, with a comma before all but the first.
    dims: Vec<Vec<u8>>,
}

impl Line {
    /// The parts of `prog`'s lines scored as of `as_of`.
    pub fn new(prog: &crate::check::program::Program, as_of: Date) -> Line {
        let quoted = |before: &[u8], text: &str, after: &[u8]| {
            let mut out = before.to_vec();
            string(&mut out, text);
            out.extend_from_slice(after);
            out
        };
        let mut as_of_part = b"},\"as_of\":".to_vec();
        date(&mut as_of_part, as_of);
        Line {
            classes: prog
                .classes
                .iter()
                .map(|c| ClassParts {
                    head: quoted(b",\"class\":", &c.name, b",\"total\":"),
                    dims: c
                        .dims
                        .iter()
                        .enumerate()
                        .map(|(n, d)| quoted(if n > 0 { b"," } else { b"" }, &d.name, b":"))
                        .collect(),
                })
                .collect(),
            grades: prog
                .bands
                .iter()
                .map(|b| quoted(b",\"grade\":", &b.grade, b",\"dimensions\":{"))
                .collect(),
            measures: prog
                .bands
                .iter()
                .map(|b| match &b.measures {
                    Some(m) => quoted(b",\"measures\":", m, b""),
                    None => Vec::new(),
                })
                .collect(),
            as_of,
            as_of_part,
        }
    }

    /// Appends the JSON object of one customer (no ledger) to `out`, with
    /// the roster's own columns when it has any: the same bytes as
    /// `super::json_object_carrying(s, false, roster)`. `s` is scored by
    /// the program the parts were made of.
    pub fn write(&self, out: &mut Vec<u8>, s: &Scored<'_>, roster: &Roster) {
        let class = self
            .classes
            .get(usize::from(s.outcome.class))
            .expect("an outcome's class is a class of the program");
        out.extend_from_slice(b"{\"customer\":");
        string(out, s.id());
        out.extend_from_slice(&class.head);
        s.outcome.total.write_to(out);
        let g = s.outcome.grade;
        out.extend_from_slice(self.grades.get(g).expect("a grade is a band of the program"));
        for (key, d) in class.dims.iter().zip(&s.outcome.dims) {
            out.extend_from_slice(key);
            d.score.write_to(out);
        }
        if s.as_of == self.as_of {
            out.extend_from_slice(&self.as_of_part);
        } else {
            out.extend_from_slice(b"},\"as_of\":");
            date(out, s.as_of);
        }
        out.extend_from_slice(self.measures.get(g).expect("a band's measures, written or not"));
        if !s.outcome.flags.is_empty() {
            out.extend_from_slice(b",\"flags\":[");
            for (n, flag) in s.outcome.flags.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                string(out, flag);
            }
            out.push(b']');
        }
        let columns = roster.columns();
        if !columns.is_empty() {
            let values = roster.extra(s.id());
            out.extend_from_slice(b",\"roster\":{");
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(out, column);
                out.push(b':');
                string(out, values.and_then(|v| v.get(i)).map_or("", |v| &**v));
            }
            out.push(b'}');
        }
        out.push(b'}');
    }
}

/// A date as a JSON string, `"2026-06-30"`.
fn date(out: &mut Vec<u8>, d: Date) {
    let (y, m, day) = d.ymd();
    match u32::try_from(y).ok().filter(|&y| y <= 9999) {
        Some(y) => {
            let digit = |n: u32| b'0' + (n % 10) as u8;
            out.extend_from_slice(&[
                b'"',
                digit(y / 1000),
                digit(y / 100),
                digit(y / 10),
                digit(y),
                b'-',
                digit(m / 10),
                digit(m),
                b'-',
                digit(day / 10),
                digit(day),
                b'"',
            ]);
        }
        None => string(out, &d.to_string()),
    }
}

/// A JSON string, escaped as serde_json escapes it: `"` and `\` and the
/// control characters below U+0020 (the usual five by letter, the rest as
/// `\u00xx`); everything else, DEL and all non-ASCII included, as it is.
pub fn string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    // Most texts (ids, names, grades) need no escape: found so eight bytes
    // at a time, they are copied whole.
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(bytes.get(from..i).expect("an escape is within the text"));
        from = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                let hex = |n: u8| *HEX.get(usize::from(n)).expect("a nibble is below 16");
                out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hex(b >> 4), hex(b & 0xf)]);
            }
        }
    }
    out.extend_from_slice(bytes.get(from..).expect("the rest of the text"));
    out.push(b'"');
}

/// Whether `bytes` holds a `"`, a `\` or a control character below U+0020,
/// eight bytes at a time in a word (the tests for a byte below a bound and
/// for a zero byte are exact: no false answer either way).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let special = |w: u64| {
        let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
        below_space | zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\'))) != 0
    };
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        if special(u64::from_le_bytes(word.try_into().expect("chunks_exact gives 8 bytes"))) {
            return true;
        }
    }
    // The last bytes as a word too, without copying them: the text's last
    // eight bytes (read again in part), or for a text of four to seven
    // bytes (most names) its first four and last four.
    fn word<const N: usize>(b: Option<&[u8]>) -> [u8; N] {
        b.and_then(|b| b.try_into().ok())
            .expect("a text of N bytes or more has its first N and last N")
    }
    let n = bytes.len();
    match n {
        _ if words.remainder().is_empty() => false,
        8.. => special(u64::from_le_bytes(word(bytes.get(n - 8..)))),
        4..=7 => {
            let (lo, hi) = (word(bytes.get(..4)), word(bytes.get(n - 4..)));
            special(u64::from(u32::from_le_bytes(lo)) | u64::from(u32::from_le_bytes(hi)) << 32)
        }
        _ => bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut texts: Vec<String> = (0u32..0x80)
            .filter_map(char::from_u32)
            .map(|c| format!("a{c}b"))
            .collect();
        texts.extend(
            [
                "",
                "\"",
                "\\",
                "C00000001",
                "东城供电所",
                "\u{7f}\u{80}\u{2028}\u{feff}",
                "a\"b\\c\nd\u{1}e\u{1f}",
                "\u{0}",
            ]
            .map(String::from),
        );
        // Each ASCII character and a few others at every place of texts
        // long enough to be read a word at a time.
        for c in (0u32..0x80).chain([0xe9, 0x4e1c, 0x2028]).filter_map(char::from_u32) {
            for at in 0..17 {
                let mut t: String = "C0000000100000001".chars().take(17).collect();
                t.replace_range(at..at + 1, &c.to_string());
                texts.push(t);
            }
        }
        // And at every place of texts of every length up to 16, where the
        // last bytes are read as a word in one of three ways.
        for len in 1..=16 {
            for at in 0..len {
                for c in ['"', '\\', '\n', '\u{0}', '\u{1f}', ' ', '\u{7f}', 'a'] {
                    let mut t: Vec<char> = "abcdefghijklmnop".chars().take(len).collect();
                    t[at] = c;
                    texts.push(t.into_iter().collect());
                }
            }
        }
        for t in texts {
            let mut ours = Vec::new();
            string(&mut ours, &t);
            let theirs = serde_json::to_string(&t).expect("a string serializes");
            assert_eq!(String::from_utf8(ours).expect("UTF-8"), theirs, "{t:?}");
        }
    }

    #[test]
    fn dates_are_written_as_their_display() {
        for text in ["0001-01-01", "2026-06-30", "2024-02-29", "9999-12-31", "1970-10-09"] {
            let d = Date::parse(text).expect("a valid date");
            let mut ours = Vec::new();
            date(&mut ours, d);
            assert_eq!(String::from_utf8(ours).expect("UTF-8"), format!("\"{text}\""));
        }
    }
}
