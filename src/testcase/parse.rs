//! Test stage: the `*.tests` format, read line by line. Every error is a
//! diagnostic with the byte span of the offending word, rendered like the
//! checker's (file:line:col, ariadne).
//!
//! ```text
//! rulebook credit.rules            # the rulebook, relative to this file
//! as of 2026-06-30                 # the default as-of date of every case
//!
//! case P2 两次连续拖欠 two arrears in a row
//!   2026-01-10 arrears months=1
//!   2026-02-10 arrears months=1
//!   expect payment 10  total 80  grade AA
//!   fires  P2
//!   silent P1 P3
//! ```

use super::{Case, EventSpec, Expect, FireSpec, FlagSpec, TestFile};
use crate::date::Date;
use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// One word of a line: its text with quotes removed, and its byte range in the file.
#[derive(Clone, Debug)]
struct Word {
    text: String,
    start: usize,
    end: usize,
}

impl Word {
    fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }
}

/// The words of a line starting at byte `base` of the file, up to a `#` comment.
fn words(line: &str, base: usize) -> Result<Vec<Word>, Diagnostic> {
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, first)) = chars.peek() else {
            break;
        };
        if first == '#' {
            break;
        }
        let mut text = String::new();
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            // Everything after `#` is a comment, even straight after a word (`months=1#one`).
            if c.is_whitespace() || c == '#' {
                break;
            }
            chars.next();
            end = i + c.len_utf8();
            if c != '"' {
                text.push(c);
                continue;
            }
            let mut closed = false;
            while let Some((j, q)) = chars.next() {
                end = j + q.len_utf8();
                match q {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => {
                        if let Some((k, e)) = chars.next() {
                            end = k + e.len_utf8();
                            text.push(e);
                        }
                    }
                    _ => text.push(q),
                }
            }
            if !closed {
                let span = Span::new(base + i, base + end);
                return Err(
                    Diagnostic::error("unterminated quote", span, "this `\"` is never closed")
                        .with_help("end the text with `\"`"),
                );
            }
        }
        out.push(Word {
            text,
            start: base + start,
            end: base + end,
        });
    }
    Ok(out)
}

/// Parser state: the file, the case being read, the errors so far.
struct Parser<'a> {
    src: &'a str,
    file: TestFile,
    current: Option<Draft>,
    errors: Vec<Diagnostic>,
}

/// A case being read; its `as of` may still come from the file.
struct Draft {
    case: Case,
    as_of: Option<Date>,
    name_span: Span,
}

const LINE_KINDS: &str = "an event (`2026-01-10 arrears months=1`), `expect`, `points`, `fires`, `silent`, `flag`, `class`, `since`, `as of` or `case`";

/// Reads a `*.tests` file. `Err` holds every error found.
pub fn parse(src: &str) -> Result<TestFile, Vec<Diagnostic>> {
    let mut p = Parser {
        src,
        file: TestFile {
            rulebook: None,
            as_of: None,
            cases: vec![],
        },
        current: None,
        errors: vec![],
    };
    let mut base = 0;
    for (i, raw) in src.split_inclusive('\n').enumerate() {
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let (line, offset) = match line.strip_prefix('\u{FEFF}') {
            Some(l) if i == 0 => (l, base + '\u{FEFF}'.len_utf8()),
            _ => (line, base),
        };
        match words(line, offset) {
            Ok(ws) if ws.is_empty() => {}
            Ok(ws) => {
                if let Err(d) = p.line(i + 1, &ws) {
                    p.errors.push(d);
                }
            }
            Err(d) => p.errors.push(d),
        }
        base += raw.len();
    }
    p.finish_case();
    if p.file.cases.is_empty() && p.errors.is_empty() {
        p.errors.push(
            Diagnostic::error(
                "no test cases",
                Span::new(0, src.chars().next().map_or(0, char::len_utf8)),
                "this file has no `case`",
            )
            .with_help("a case starts with a line `case <name>`"),
        );
    }
    if p.errors.is_empty() {
        Ok(p.file)
    } else {
        crate::diagnostic::sort(&mut p.errors);
        Err(p.errors)
    }
}

fn date(w: &Word) -> Result<Date, Diagnostic> {
    Date::parse(&w.text).ok_or_else(|| {
        Diagnostic::error(
            format!("`{}` is not a valid date", w.text),
            w.span(),
            "expected a date `YYYY-MM-DD`",
        )
    })
}

fn missing(after: &Word, what: &str) -> Diagnostic {
    Diagnostic::error(
        format!("expected {what} after `{}`", after.text),
        after.span(),
        format!("{what} should follow"),
    )
}

impl Parser<'_> {
    fn line(&mut self, n: usize, ws: &[Word]) -> Result<(), Diagnostic> {
        let Some(head) = ws.first() else {
            return Ok(());
        };
        let rest = ws.get(1..).unwrap_or(&[]);
        if head.text == "case" {
            return self.start_case(n, head, rest);
        }
        if let Some(d) = self.current.as_mut() {
            d.case.last_line = n;
        }
        match head.text.as_str() {
            "rulebook" => self.rulebook(head, rest),
            "as" | "class" | "since" => self.settings(n, ws),
            "expect" | "points" => self.expect(n, head, rest),
            "fires" | "silent" => self.fires(n, head, rest),
            "flag" | "flags" => self.flag(n, head, rest),
            t if t.starts_with(|c: char| c.is_ascii_digit()) => self.event(n, head, rest),
            _ => Err(Diagnostic::error(
                format!("unexpected `{}`", head.text),
                head.span(),
                "not a line of a test case",
            )
            .with_help(format!("a line in a case is {LINE_KINDS}"))),
        }
    }

    fn draft(&mut self, w: &Word) -> Result<&mut Draft, Diagnostic> {
        self.current.as_mut().ok_or_else(|| {
            Diagnostic::error(
                format!("`{}` outside a case", w.text),
                w.span(),
                "no `case` line above this",
            )
            .with_help("start a case with `case <name>`")
        })
    }

    fn rulebook(&mut self, head: &Word, rest: &[Word]) -> Result<(), Diagnostic> {
        if self.current.is_some() || !self.file.cases.is_empty() {
            return Err(Diagnostic::error(
                "`rulebook` inside a case",
                head.span(),
                "name the rulebook before the first case",
            ));
        }
        match rest {
            [path] => {
                if self.file.rulebook.is_some() {
                    return Err(Diagnostic::error(
                        "a second `rulebook` line",
                        head.span(),
                        "a test file tests one rulebook",
                    ));
                }
                self.file.rulebook = Some((path.text.clone(), path.span()));
                Ok(())
            }
            [] => Err(missing(head, "the rulebook's path")),
            [_, extra, ..] => {
                Err(
                    Diagnostic::error(format!("unexpected `{}`", extra.text), extra.span(), "one path only")
                        .with_help("quote a path that has spaces: `rulebook \"my rules.rules\"`"),
                )
            }
        }
    }

    /// `class lighting`, `since 2024-01-01`, `as of 2026-06-30`, or several on one line.
    fn settings(&mut self, n: usize, ws: &[Word]) -> Result<(), Diagnostic> {
        let mut i = 0;
        while let Some(key) = ws.get(i) {
            match key.text.as_str() {
                "as" => {
                    let of = ws
                        .get(i + 1)
                        .filter(|w| w.text == "of")
                        .ok_or_else(|| missing(key, "`of`"))?;
                    let d = date(ws.get(i + 2).ok_or_else(|| missing(of, "a date"))?)?;
                    match self.current.as_mut() {
                        None if self.file.cases.is_empty() && self.file.as_of.is_none() => self.file.as_of = Some(d),
                        None => {
                            return Err(Diagnostic::error(
                                "a second file-wide `as of`",
                                key.span(),
                                "the file already has one",
                            ))
                        }
                        Some(draft) if draft.as_of.is_some() => {
                            return Err(Diagnostic::error(
                                "a second `as of` in this case",
                                key.span(),
                                "one as-of date per case",
                            ))
                        }
                        Some(draft) => draft.as_of = Some(d),
                    }
                    i += 3;
                }
                "class" => {
                    let name = ws.get(i + 1).ok_or_else(|| missing(key, "a class name"))?;
                    let draft = self.draft(key)?;
                    if draft.case.class.is_some() {
                        return Err(Diagnostic::error(
                            "a second `class` in this case",
                            key.span(),
                            "one class per case",
                        ));
                    }
                    draft.case.class = Some((name.text.clone(), n));
                    i += 2;
                }
                "since" => {
                    let d = date(ws.get(i + 1).ok_or_else(|| missing(key, "a date"))?)?;
                    let draft = self.draft(key)?;
                    if draft.case.since.is_some() {
                        return Err(Diagnostic::error(
                            "a second `since` in this case",
                            key.span(),
                            "one history start per case",
                        ));
                    }
                    draft.case.since = Some((d, n));
                    i += 2;
                }
                _ => {
                    return Err(Diagnostic::error(
                        format!("unexpected `{}`", key.text),
                        key.span(),
                        "expected `class`, `since` or `as of`",
                    ))
                }
            }
        }
        Ok(())
    }

    fn start_case(&mut self, n: usize, head: &Word, rest: &[Word]) -> Result<(), Diagnostic> {
        self.finish_case();
        let (Some(first), Some(last)) = (rest.first(), rest.last()) else {
            return Err(missing(head, "a name"));
        };
        let name = self.src.get(first.start..last.end).unwrap_or(&first.text).to_string();
        let case = Case {
            name,
            line: n,
            last_line: n,
            class: None,
            since: None,
            as_of: Date::default(),
            events: vec![],
            expects: vec![],
            fires: vec![],
            flags: None,
        };
        self.current = Some(Draft {
            case,
            as_of: None,
            name_span: first.span().join(last.span()),
        });
        Ok(())
    }

    fn finish_case(&mut self) {
        let Some(Draft {
            mut case,
            as_of,
            name_span,
        }) = self.current.take()
        else {
            return;
        };
        match as_of.or(self.file.as_of) {
            Some(d) => case.as_of = d,
            None => self.errors.push(
                Diagnostic::error("this case has no as-of date", name_span, "evaluated as of when?")
                    .with_help("add `as of 2026-06-30` to the case, or once at the top of the file for every case"),
            ),
        }
        if let Some(dup) = self.file.cases.iter().find(|c| c.name == case.name) {
            self.errors.push(Diagnostic::error(
                format!("a second case named `{}`", case.name),
                name_span,
                format!("the first is on line {}", dup.line),
            ));
        }
        self.file.cases.push(case);
    }

    fn event(&mut self, n: usize, head: &Word, rest: &[Word]) -> Result<(), Diagnostic> {
        let date = date(head)?;
        let kind = rest.first().ok_or_else(|| missing(head, "an event kind"))?;
        let mut attrs: Vec<(String, String)> = Vec::new();
        for w in rest.get(1..).unwrap_or(&[]) {
            let Some((name, value)) = w.text.split_once('=') else {
                return Err(Diagnostic::error(
                    format!("expected `attribute=value`, found `{}`", w.text),
                    w.span(),
                    "not an attribute",
                )
                .with_help("write attributes as `months=2`, `reach=branch`, `score=4.5`"));
            };
            if name.is_empty() {
                return Err(Diagnostic::error(
                    "an attribute needs a name",
                    w.span(),
                    "name missing before `=`",
                ));
            }
            if attrs.iter().any(|(a, _)| a == name) {
                return Err(Diagnostic::error(
                    format!("`{name}` given twice"),
                    w.span(),
                    "one value per attribute",
                ));
            }
            attrs.push((name.to_string(), value.to_string()));
        }
        self.draft(head)?.case.events.push(EventSpec {
            line: n,
            date,
            kind: kind.text.clone(),
            attrs,
        });
        Ok(())
    }

    fn expect(&mut self, n: usize, head: &Word, rest: &[Word]) -> Result<(), Diagnostic> {
        if rest.is_empty() {
            return Err(missing(head, "a name and a value (`total 85.5`)"));
        }
        let line_start = self
            .src
            .get(..head.start)
            .and_then(|s| s.rfind('\n'))
            .map_or(0, |p| p + 1);
        let mut items = Vec::new();
        for pair in rest.chunks(2) {
            match pair {
                [key, value] => items.push(Expect {
                    line: n,
                    points: head.text == "points",
                    key: key.text.clone(),
                    value: value.text.clone(),
                    at: value.start - line_start..value.end - line_start,
                }),
                [key] => {
                    let help = if head.text == "points" {
                        "write `points <clause> <points>`, e.g. `points S3 -20  S8 +10`"
                    } else {
                        "write `expect <name> <value>`, e.g. `expect total 85.5  grade AA`"
                    };
                    return Err(Diagnostic::error(
                        format!("`{}` has no value", key.text),
                        key.span(),
                        "expected a value after this",
                    )
                    .with_help(help));
                }
                _ => {}
            }
        }
        self.draft(head)?.case.expects.extend(items);
        Ok(())
    }

    fn fires(&mut self, n: usize, head: &Word, rest: &[Word]) -> Result<(), Diagnostic> {
        if rest.is_empty() {
            return Err(missing(head, "clause IDs (`P1 P4`)"));
        }
        let fires = head.text == "fires";
        let ids = rest.iter().map(|w| w.text.clone()).collect();
        self.draft(head)?.case.fires.push(FireSpec { line: n, fires, ids });
        Ok(())
    }

    fn flag(&mut self, n: usize, head: &Word, rest: &[Word]) -> Result<(), Diagnostic> {
        let text = match (head.text.as_str(), rest) {
            ("flags", [none]) if none.text == "none" => None,
            ("flags", _) => {
                return Err(Diagnostic::error(
                    "expected `flags none`",
                    head.span(),
                    "or one `flag <text>` line per flag",
                ))
            }
            (_, [first, .., last]) => Some(self.src.get(first.start..last.end).unwrap_or_default().to_string()),
            (_, [one]) => Some(one.text.clone()),
            (_, []) => return Err(missing(head, "the flag's text")),
        };
        let draft = self.draft(head)?;
        let spec = draft.case.flags.get_or_insert(FlagSpec {
            lines: vec![],
            flags: vec![],
        });
        spec.lines.push(n);
        spec.flags.extend(text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "# 测试\nrulebook credit.rules\nas of 2026-06-30\n\ncase P2 两次连续拖欠  # comment\n  class power since 2023-07-01\n  2026-01-10 arrears months=1\n  2026-02-10 assessment dimension=\"operations\" score=4.5\n  expect payment 10  total 80  grade AA\n  fires P2\n  silent P1 P3\n  flag not assessed: development\n\ncase other\n  as of 2024-02-29\n  flags none\n";

    #[test]
    fn reads_a_file() {
        let f = parse(EXAMPLE).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(f.rulebook.as_ref().map(|r| r.0.as_str()), Some("credit.rules"));
        assert_eq!(f.cases.len(), 2);
        let c = &f.cases[0];
        assert_eq!(c.name, "P2 两次连续拖欠");
        assert_eq!((c.line, c.last_line), (5, 12));
        assert_eq!(c.class, Some(("power".into(), 6)));
        assert_eq!(c.since.map(|s| s.0.to_string()), Some("2023-07-01".into()));
        assert_eq!(c.as_of.to_string(), "2026-06-30");
        assert_eq!(c.events.len(), 2);
        assert_eq!(
            c.events[1].attrs,
            vec![
                ("dimension".into(), "operations".into()),
                ("score".into(), "4.5".into())
            ]
        );
        let keys: Vec<&str> = c.expects.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["payment", "total", "grade"]);
        assert_eq!(
            &"  expect payment 10  total 80  grade AA"[c.expects[1].at.clone()],
            "80"
        );
        assert_eq!(c.fires.len(), 2);
        assert_eq!(
            c.flags.as_ref().map(|f| f.flags.clone()),
            Some(vec!["not assessed: development".to_string()])
        );
        assert_eq!(f.cases[1].as_of.to_string(), "2024-02-29");
        assert_eq!(f.cases[1].flags.as_ref().map(|f| f.flags.len()), Some(0));
    }

    #[test]
    fn reports_errors_with_spans() {
        let src = "as of 2026-06-30\ncase a\n  2026-13-01 arrears\n  expect total\n  bogus\ncase a\n";
        let errs = parse(src).err().unwrap_or_default();
        let msgs: Vec<&str> = errs.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "`2026-13-01` is not a valid date",
                "`total` has no value",
                "unexpected `bogus`",
                "a second case named `a`"
            ]
        );
        assert_eq!(errs[0].span().text(src), "2026-13-01");
    }

    #[test]
    fn a_case_needs_an_as_of_date() {
        let errs = parse("case a\n  2026-01-01 theft\n").err().unwrap_or_default();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].message, "this case has no as-of date");
    }
}
