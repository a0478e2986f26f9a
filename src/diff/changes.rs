//! Diff stage: the rule change itself — clauses added, removed and changed
//! (by clause ID, with the old and new text and a short `old → new` of the
//! words that differ), bands and overrides, classes, dimensions and their
//! full marks, event declarations, the period and the total.

use super::{key_of, Side};
use crate::check::program::DimSource;
use crate::eval::Program;
use crate::syntax::ast::{Class, Dimension, Rulebook, Source};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    pub fn word(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }

    /// `+`, `-`, `~`
    pub fn mark(self) -> char {
        match self {
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
            ChangeKind::Changed => '~',
        }
    }
}

/// One difference between the two rulebooks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    /// `rule`, `override`, `grades`, `max`, `dimension`, `class`, `event`, `period`, `total`.
    pub what: &'static str,
    /// The clause ID (`P1-P3`), else a name (`power.payment`, `arrears`).
    pub key: String,
    pub label: Option<String>,
    /// Where a rule applies: its dimensions (`payment`), or its classes.
    pub places: Vec<String>,
    pub old: Option<String>,
    pub new: Option<String>,
    /// The words that differ, `1 => 10 → 1 => 15`; for an added or removed
    /// item, its text.
    pub summary: String,
}

/// Everything that differs between the two rulebooks, in the old rulebook's
/// order, then what only the new one has.
pub fn rule_changes(old: &Side<'_>, new: &Side<'_>) -> Vec<Change> {
    let mut out = Vec::new();
    header(old, new, &mut out);
    events(old, new, &mut out);
    classes(old.book, new.book, &mut out);
    let (a, b) = (items(old.prog, old.src), items(new.prog, new.src));
    for x in &a {
        // There is one grades block: a new clause ID for it is a change, not a new block.
        match b
            .iter()
            .find(|y| y.what == x.what && (y.key == x.key || x.what == "grades"))
        {
            Some(y) if y.text != x.text => out.push(changed(
                x.what,
                &x.key,
                y.label.clone().or(x.label.clone()),
                y.places.clone(),
                &x.text,
                &y.text,
            )),
            Some(_) => {}
            None => out.push(one(ChangeKind::Removed, x)),
        }
    }
    for y in b.iter().filter(|y| {
        !a.iter()
            .any(|x| x.what == y.what && (x.key == y.key || y.what == "grades"))
    }) {
        out.push(one(ChangeKind::Added, y));
    }
    out
}

fn changed(what: &'static str, key: &str, label: Option<String>, places: Vec<String>, old: &str, new: &str) -> Change {
    Change {
        kind: ChangeKind::Changed,
        what,
        key: key.to_string(),
        label,
        places,
        old: Some(old.to_string()),
        new: Some(new.to_string()),
        summary: words_changed(old, new),
    }
}

fn one(kind: ChangeKind, x: &Item) -> Change {
    let (old, new) = if kind == ChangeKind::Added {
        (None, Some(x.text.clone()))
    } else {
        (Some(x.text.clone()), None)
    };
    Change {
        kind,
        what: x.what,
        key: x.key.clone(),
        label: x.label.clone(),
        places: x.places.clone(),
        old,
        new,
        summary: x.text.clone(),
    }
}

fn header(old: &Side<'_>, new: &Side<'_>, out: &mut Vec<Change>) {
    let (a, b) = (&old.book.header, &new.book.header);
    if a.period.months() != b.period.months() {
        let (x, y) = (
            format!("period {} months", a.period.months()),
            format!("period {} months", b.period.months()),
        );
        out.push(changed("period", "period", None, vec![], &x, &y));
    }
    let total = |h: &crate::syntax::ast::Header| {
        h.total
            .as_ref()
            .map_or("no total".to_string(), |t| format!("total {}", t.node))
    };
    if a.total.as_ref().map(|t| t.node) != b.total.as_ref().map(|t| t.node) {
        out.push(changed("total", "total", None, vec![], &total(a), &total(b)));
    }
}

fn folded(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Rulebook text as compared: comments dropped, whitespace folded, so that
/// only what the rule says counts (a span may also run over a comment).
pub fn clean(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let mut end = line.len();
        for (i, c) in line.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_string => escaped = true,
                '"' => in_string = !in_string,
                '#' if !in_string => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        out.push(' ');
        out.push_str(line.get(..end).unwrap_or(line));
    }
    folded(&out)
}

fn events(old: &Side<'_>, new: &Side<'_>, out: &mut Vec<Change>) {
    let text = |side: &Side<'_>, e: &crate::syntax::ast::EventDecl| clean(e.span.text(side.src));
    for e in &old.book.events {
        match new.book.events.iter().find(|f| f.name.node == e.name.node) {
            Some(f) if f != e => out.push(changed(
                "event",
                &e.name.node,
                f.label.as_ref().map(|l| l.node.clone()),
                vec![],
                &text(old, e),
                &text(new, f),
            )),
            Some(_) => {}
            None => out.push(Change {
                kind: ChangeKind::Removed,
                what: "event",
                key: e.name.node.clone(),
                label: e.label.as_ref().map(|l| l.node.clone()),
                places: vec![],
                old: Some(text(old, e)),
                new: None,
                summary: text(old, e),
            }),
        }
    }
    for f in new
        .book
        .events
        .iter()
        .filter(|f| !old.book.events.iter().any(|e| e.name.node == f.name.node))
    {
        out.push(Change {
            kind: ChangeKind::Added,
            what: "event",
            key: f.name.node.clone(),
            label: f.label.as_ref().map(|l| l.node.clone()),
            places: vec![],
            old: None,
            new: Some(text(new, f)),
            summary: text(new, f),
        });
    }
}

/// `class power "动力户" default: payment, safety, …`
fn class_text(c: &Class) -> String {
    let label = c.label.as_ref().map_or(String::new(), |l| format!(" {:?}", l.node));
    let dims: Vec<&str> = c.dimensions.iter().map(|d| d.name.node.as_str()).collect();
    format!(
        "class {}{label}{}: {}",
        c.name.node,
        if c.default { " default" } else { "" },
        dims.join(", ")
    )
}

/// `dimension payment "商业资信" max 30 uses payment` (inline rules are compared as rules).
fn dim_text(d: &Dimension) -> String {
    let label = d.label.as_ref().map_or(String::new(), |l| format!(" {:?}", l.node));
    let source = match &d.source {
        Source::Uses(g) => format!("uses {}", g.node),
        Source::Like(c) => format!("like {}", c.node),
        Source::Rules(_) => "{ rules }".to_string(),
        Source::Assessed(_) => "assessed".to_string(),
    };
    format!("dimension {}{label} max {} {source}", d.name.node, d.max.node)
}

fn classes(old: &Rulebook, new: &Rulebook, out: &mut Vec<Change>) {
    let label = |c: &Class| c.label.as_ref().map(|l| l.node.clone());
    let simple = |kind, what, key: String, label, text: String| {
        let (o, n) = if kind == ChangeKind::Added {
            (None, Some(text.clone()))
        } else {
            (Some(text.clone()), None)
        };
        Change {
            kind,
            what,
            key,
            label,
            places: vec![],
            old: o,
            new: n,
            summary: text,
        }
    };
    for c in &old.classes {
        let Some(d) = new.classes.iter().find(|d| d.name.node == c.name.node) else {
            out.push(simple(
                ChangeKind::Removed,
                "class",
                c.name.node.clone(),
                label(c),
                class_text(c),
            ));
            continue;
        };
        if (c.default, &c.label) != (d.default, &d.label) {
            out.push(changed(
                "class",
                &c.name.node,
                label(d),
                vec![],
                &class_text(c),
                &class_text(d),
            ));
        }
        for x in &c.dimensions {
            let key = format!("{}.{}", c.name.node, x.name.node);
            let dl = |x: &Dimension| x.label.as_ref().map(|l| l.node.clone());
            match d.dimensions.iter().find(|y| y.name.node == x.name.node) {
                None => out.push(simple(ChangeKind::Removed, "dimension", key, dl(x), dim_text(x))),
                Some(y)
                    if x.max.node != y.max.node
                        && dim_text(x).replace(&x.max.node.to_string(), "")
                            == dim_text(y).replace(&y.max.node.to_string(), "") =>
                {
                    let mut ch = changed("max", &key, dl(y), vec![], &dim_text(x), &dim_text(y));
                    ch.summary = format!("max {} → max {}", x.max.node, y.max.node);
                    out.push(ch);
                }
                Some(y) if dim_text(x) != dim_text(y) => {
                    out.push(changed("dimension", &key, dl(y), vec![], &dim_text(x), &dim_text(y)))
                }
                Some(_) => {}
            }
        }
        for y in d
            .dimensions
            .iter()
            .filter(|y| !c.dimensions.iter().any(|x| x.name.node == y.name.node))
        {
            out.push(simple(
                ChangeKind::Added,
                "dimension",
                format!("{}.{}", d.name.node, y.name.node),
                y.label.as_ref().map(|l| l.node.clone()),
                dim_text(y),
            ));
        }
    }
    for d in new
        .classes
        .iter()
        .filter(|d| !old.classes.iter().any(|c| c.name.node == d.name.node))
    {
        out.push(simple(
            ChangeKind::Added,
            "class",
            d.name.node.clone(),
            label(d),
            class_text(d),
        ));
    }
}

/// A rule, override or the grades, by key, with where it applies.
struct Item {
    what: &'static str,
    key: String,
    label: Option<String>,
    text: String,
    places: Vec<String>,
}

fn items(prog: &Program, src: &str) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    let mut add = |what: &'static str, meta: &crate::check::program::Meta, place: &str| {
        let key = key_of(meta, None);
        let mut meta = meta.clone();
        meta.text = clean(meta.span.text(src));
        let meta = &meta;
        if let Some(it) = out
            .iter_mut()
            .find(|it| it.what == what && it.key == key && it.text == meta.text)
        {
            if !it.places.iter().any(|p| p == place) {
                it.places.push(place.to_string());
            }
            return;
        }
        // The same key for another text (a clause ID used twice): number it.
        let same = out
            .iter()
            .filter(|it| it.what == what && (it.key == key || it.key.starts_with(&format!("{key} #"))))
            .count();
        let key = if same == 0 { key } else { format!("{key} #{}", same + 1) };
        let places = if place.is_empty() {
            vec![]
        } else {
            vec![place.to_string()]
        };
        out.push(Item {
            what,
            key,
            label: meta.label.clone(),
            text: meta.text.clone(),
            places,
        });
    };
    for class in &prog.classes {
        for d in &class.dims {
            match &d.source {
                DimSource::Rules(rules) => rules.iter().for_each(|r| add("rule", &r.meta, &d.name)),
                DimSource::Assessed(a) => add("rule", &a.meta, &d.name),
            }
        }
    }
    for r in &prog.total_rules {
        add("rule", &r.meta, "total");
    }
    for class in &prog.classes {
        for o in &class.overrides {
            add("override", &o.meta, &class.name);
        }
    }
    let mut grades = prog.grades_meta.clone();
    if grades.clause.is_none() && grades.label.is_none() {
        grades.clause = Some("grades".into());
    }
    add("grades", &grades, "");
    out
}

/// The words that differ between two texts, each run with a little context
/// before it: `deduct 10 per wrong_account` / `deduct 15 per wrong_account`
/// gives `deduct 10 → deduct 15`; several runs are joined by `; `.
pub fn words_changed(old: &str, new: &str) -> String {
    let (a, b) = (tokens(old), tokens(new));
    fn word<'s>(s: &'s str, t: &(usize, usize)) -> &'s str {
        s.get(t.0..t.1).unwrap_or("")
    }
    let (n, m) = (a.len(), b.len());
    if n.saturating_mul(m) > 1_000_000 {
        return format!("{old} → {new}");
    }
    // Longest common subsequence of tokens, from the end.
    let w = m + 1;
    let mut lcs = vec![0u32; (n + 1) * w];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let v = if a.get(i).map(|t| word(old, t)) == b.get(j).map(|t| word(new, t)) {
                lcs.get((i + 1) * w + j + 1).copied().unwrap_or(0) + 1
            } else {
                lcs.get((i + 1) * w + j)
                    .copied()
                    .unwrap_or(0)
                    .max(lcs.get(i * w + j + 1).copied().unwrap_or(0))
            };
            if let Some(slot) = lcs.get_mut(i * w + j) {
                *slot = v;
            }
        }
    }
    let at = |i: usize, j: usize| lcs.get(i * w + j).copied().unwrap_or(0);
    let same = |i: usize, j: usize| a.get(i).map(|t| word(old, t)) == b.get(j).map(|t| word(new, t)) && i < n && j < m;
    let mut hunks = Vec::new();
    let (mut i, mut j) = (0, 0);
    let mut last_end = 0; // first token of `a` after the previous hunk
    while i < n || j < m {
        if same(i, j) {
            i += 1;
            j += 1;
            continue;
        }
        let (i0, j0) = (i, j);
        while (i < n || j < m) && !same(i, j) {
            if j < m && (i == n || at(i, j + 1) >= at(i + 1, j)) {
                j += 1;
            } else {
                i += 1;
            }
        }
        // Context: up to three equal tokens before, not across a delimiter
        // nor into the label (a text among the first three tokens).
        let mut c = 0;
        while c < 3 && i0 > last_end + c {
            let k = i0 - c - 1;
            let t = a.get(k).map_or("", |t| word(old, t));
            if matches!(t, "{" | "(" | "," | ":") || (k < 3 && t.starts_with('"')) {
                break;
            }
            c += 1;
        }
        let part = |s: &str, toks: &[(usize, usize)], from: usize, to: usize| -> String {
            match (toks.get(from), to.checked_sub(1).and_then(|k| toks.get(k))) {
                (Some(x), Some(y)) if from < to => s.get(x.0..y.1).unwrap_or("").to_string(),
                _ => String::new(),
            }
        };
        let (x, y) = (part(old, &a, i0 - c, i), part(new, &b, j0 - c, j));
        let show = |s: String| {
            if s.is_empty() {
                "(nothing)".to_string()
            } else {
                s
            }
        };
        hunks.push(format!("{} → {}", show(x), show(y)));
        last_end = i;
    }
    hunks.join("; ")
}

/// Token boundaries: quoted texts, single punctuation, and runs of the rest.
fn tokens(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut it = s.char_indices().peekable();
    while let Some((start, c)) = it.next() {
        if c.is_whitespace() {
            continue;
        }
        let mut end = start + c.len_utf8();
        if c == '"' {
            let mut escaped = false;
            for (k, d) in it.by_ref() {
                end = k + d.len_utf8();
                if escaped {
                    escaped = false;
                } else if d == '\\' {
                    escaped = true;
                } else if d == '"' {
                    break;
                }
            }
        } else if !"{}(),:".contains(c) {
            while let Some(&(k, d)) = it.peek() {
                if d.is_whitespace() || "{}(),:\"".contains(d) {
                    break;
                }
                end = k + d.len_utf8();
                it.next();
            }
        }
        out.push((start, end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::words_changed;

    #[test]
    fn shows_the_words_that_differ_with_context() {
        assert_eq!(
            words_changed(
                "P5 \"a b\" deduct 10 per wrong_account",
                "P5 \"a b\" deduct 15 per wrong_account"
            ),
            "deduct 10 → deduct 15"
        );
        assert_eq!(
            words_changed(
                "P1-P3 deduct per episode of arrears { 1 => 10, 2 => 20, 3+ => 30 }",
                "P1-P3 deduct per episode of arrears { 1 => 15, 2 => 25, 3+ => 30 }"
            ),
            "1 => 10 → 1 => 15; 2 => 20 → 2 => 25"
        );
        assert_eq!(
            words_changed(
                "G1 grades { AAA >= 90 AA >= 80 D }",
                "G1 grades { AAA >= 92 AA >= 80 D }"
            ),
            "AAA >= 90 → AAA >= 92"
        );
        assert_eq!(
            words_changed("bonus 10 per tip where verified", "bonus 10 per tip"),
            "10 per tip where verified → 10 per tip"
        );
        assert_eq!(
            words_changed("{ 1 => 10 }", "{ 1 => 10, 2 => 20 }"),
            "1 => 10 → 1 => 10, 2 => 20"
        );
        assert_eq!(
            words_changed(
                "event t \"l\" { r: text in {\"a\", \"b\"} }",
                "event t \"l\" { r: text in {\"a\", \"b\", \"c\"} }"
            ),
            "\"b\" → \"b\", \"c\""
        );
    }

    #[test]
    fn comments_do_not_count() {
        assert_eq!(
            super::clean("T2 \"a # b\" grade D   # why\n  when x == 0 # more\n"),
            "T2 \"a # b\" grade D when x == 0"
        );
    }
}
