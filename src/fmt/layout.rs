//! Formatting stage, layout: the canonical shape of each declaration.
//!
//! - the header on three lines (`standard … version …`, `period`, `total`);
//! - top-level items in source order, a blank line around every block;
//! - blocks indented by two spaces, `}` on its own line;
//! - one rule, attribute, dimension, override or band per line; a rule wider
//!   than 100 columns wraps before `where`, `within`, `severity` or its tiers
//!   (a severity keeps its tiers on its line when they fit), continuation
//!   lines under the rule's body when they fit there, else indented four more;
//! - an event's attributes on its line (`{ a: int, b: bool }`) unless they do
//!   not fit or carry comments, then one per line;
//! - consecutive one-line events, rules and dimensions aligned in columns
//!   (`align`), trailing comments of consecutive lines too (`printer`);
//! - grade names padded so that the `>=` line up.
//!
//! Names, clause IDs, numbers and texts are printed as written; keywords and
//! punctuation are spelled one way (`x` for the multiplier, `1 month` but
//! `2 months`).

use super::align::{self, Columns, Member};
use super::expr::{expr, set};
use super::printer::Printer;
use super::source::{code_end, find, width};
use crate::span::{Span, Spanned};
use crate::syntax::ast::*;

/// Spaces per block level.
pub(super) const INDENT: usize = 2;
/// Extra spaces before a wrapped rule's continuation.
const CONTINUATION: usize = 4;
/// Columns a line may take before a rule wraps.
pub(super) const WIDTH: usize = 100;

/// A top-level declaration.
enum Item<'a> {
    Event(&'a EventDecl),
    Group(&'a RuleGroup),
    Total(&'a TotalRules),
    Class(&'a Class),
    Override(&'a Override),
    Grades(&'a Grades),
    Index(&'a Index),
}

impl Item<'_> {
    fn span(&self) -> Span {
        match self {
            Item::Event(x) => x.span,
            Item::Group(x) => x.span,
            Item::Total(x) => x.span,
            Item::Class(x) => x.span,
            Item::Override(x) => x.span,
            Item::Grades(x) => x.span,
            Item::Index(x) => x.span,
        }
    }
}

pub(super) fn rulebook(p: &mut Printer<'_>, book: &Rulebook) {
    header(p, &book.header);
    let mut items: Vec<Item<'_>> = (book.events.iter().map(Item::Event))
        .chain(book.groups.iter().map(Item::Group))
        .chain(book.total_rules.iter().map(Item::Total))
        .chain(book.classes.iter().map(Item::Class))
        .chain(book.overrides.iter().map(Item::Override))
        .chain(book.grades.iter().map(Item::Grades))
        .chain(book.indexes.iter().map(Item::Index))
        .collect();
    items.sort_by_key(|item| item.span().start);
    let blocks: Vec<bool> = items
        .iter()
        .map(|item| match item {
            Item::Event(e) => event_is_block(p, e),
            Item::Override(_) => false,
            _ => true,
        })
        .collect();
    let members: Vec<Member> = items
        .iter()
        .zip(&blocks)
        .map(|(item, &block)| member(p, item.span(), matches!(item, Item::Event(_)) && !block))
        .collect();
    let mut after_block = true;
    for run in align::runs(p, &members) {
        let rows: Vec<Vec<String>> = items[run.clone()]
            .iter()
            .filter_map(|item| match item {
                Item::Event(e) => Some(event_cells(p, e)),
                _ => None,
            })
            .collect();
        let cols = Columns::of(rows.iter().map(Vec::as_slice));
        for (item, &block) in items[run.clone()].iter().zip(&blocks[run]) {
            if block || after_block {
                p.blank_next();
            }
            after_block = block;
            match item {
                Item::Event(e) => event(p, e, block, &cols),
                Item::Group(g) => group(p, g),
                Item::Total(t) => total_rules(p, t),
                Item::Class(c) => class(p, c),
                Item::Override(o) => override_decl(p, o, 0),
                Item::Grades(g) => grades(p, g),
                Item::Index(ix) => super::index::index(p, ix),
            }
        }
    }
}

/// A declaration spanning `span`, for the run splitter.
pub(super) fn member(p: &Printer<'_>, span: Span, row: bool) -> Member {
    Member {
        start: span.start as usize,
        end: end(p, span),
        row,
    }
}

fn header(p: &mut Printer<'_>, h: &Header) {
    let mut first = format!("standard {}", text(p, &h.name));
    let mut last = end(p, h.name.span);
    if let Some(v) = &h.version {
        first.push_str(&format!(" version {}", text(p, v)));
        last = end(p, v.span);
    }
    p.member(0, first, h.span.start as usize, last);
    p.cont(0, format!("period {}", duration(&h.period)), end(p, h.period.span));
    if let Some(t) = &h.total {
        p.cont(0, format!("total {}", number(p, t)), end(p, t.span));
    }
}

// ── Events ──────────────────────────────────────────────────────────────────

fn event_head(p: &Printer<'_>, e: &EventDecl) -> String {
    format!("event {}{}", e.name.node, label(p, &e.label))
}

/// The columns of an event's line: name, label, attributes.
fn event_cells(p: &Printer<'_>, e: &EventDecl) -> Vec<String> {
    let attrs = match e.attrs.as_slice() {
        [] => String::new(),
        attrs => {
            let attrs: Vec<String> = attrs.iter().map(|a| attr(p, a)).collect();
            format!("{{ {} }}", attrs.join(", "))
        }
    };
    vec![e.name.node.clone(), opt_text(p, &e.label), attrs]
}

fn attr(p: &Printer<'_>, a: &AttrDecl) -> String {
    let mut s = format!("{}: {}", a.name.node, a.ty.name());
    match (&a.min, &a.max) {
        (Some(min), Some(max)) => s.push_str(&format!(" in {}..{}", number(p, min), number(p, max))),
        (Some(min), None) => s.push_str(&format!(" >= {}", number(p, min))),
        (None, _) => {}
    }
    if let Some(allowed) = &a.allowed {
        s.push_str(&format!(" in {}", set(p.src, allowed)));
    }
    if let Some(d) = &a.default {
        s.push_str(&format!(" = {}", super::expr::literal(p.src, &d.node, d.span)));
    }
    if a.optional.is_some() {
        s.push_str(" optional");
    }
    s
}

/// An event with attributes that do not fit on its line or carry comments.
fn event_is_block(p: &Printer<'_>, e: &EventDecl) -> bool {
    if e.attrs.is_empty() {
        return false;
    }
    let open = find(p.src, e.span.start as usize, '{').unwrap_or(e.span.start as usize);
    let cells = event_cells(p, e);
    let line = Columns::of([cells.as_slice()]).line(&cells);
    width("event ") + width(&line) > WIDTH || p.has_comment(open, end(p, e.span))
}

/// An event on its line, its columns as wide as `cols`, or as a block.
fn event(p: &mut Printer<'_>, e: &EventDecl, block: bool, cols: &Columns) {
    let (start, last) = (e.span.start as usize, end(p, e.span));
    if !block {
        p.member(0, format!("event {}", cols.line(&event_cells(p, e))), start, last);
    } else {
        open(p, 0, event_head(p, e), e.span);
        for a in &e.attrs {
            p.member(INDENT, attr(p, a), a.span.start as usize, end(p, a.span));
        }
        p.close(0, last);
    }
}

// ── Rules ───────────────────────────────────────────────────────────────────

fn group(p: &mut Printer<'_>, g: &RuleGroup) {
    let head = format!("rules {}{}", g.name.node, label(p, &g.label));
    block(p, 0, head, g.span, g.rules.is_empty(), |p| rules(p, &g.rules, INDENT));
}

fn total_rules(p: &mut Printer<'_>, t: &TotalRules) {
    let head = format!("rules on total{}", label(p, &t.label));
    block(p, 0, head, t.span, t.rules.is_empty(), |p| rules(p, &t.rules, INDENT));
}

/// The rules of a block, each run of one-line rules aligned on its clause
/// IDs, labels and bodies.
fn rules(p: &mut Printer<'_>, rules: &[Rule], indent: usize) {
    let members: Vec<Member> = rules
        .iter()
        .map(|r| member(p, r.span, tiers_block(p, r).is_none()))
        .collect();
    for run in align::runs(p, &members) {
        let rows: Vec<Vec<String>> = rules[run.clone()]
            .iter()
            .map(|r| {
                let mut cells = lead_cells(p, &r.clause, &r.label);
                cells.push(r.effect.word().to_string());
                cells
            })
            .collect();
        let cols = Columns::of(rows.iter().map(Vec::as_slice));
        for r in &rules[run] {
            rule(p, r, indent, &cols);
        }
    }
}

/// A rule's clause ID and label, either empty: the columns before its body.
fn lead_cells(p: &Printer<'_>, clause: &Option<Clause>, lbl: &Option<Spanned<String>>) -> Vec<String> {
    vec![
        clause.as_ref().map_or(String::new(), Clause::to_string),
        opt_text(p, lbl),
    ]
}

/// Where the `{` of a rule's tiers is, when comments among them put one
/// tier on each line.
fn tiers_block(p: &Printer<'_>, r: &Rule) -> Option<usize> {
    if !r.replaces.is_empty() {
        // `} instead of …` has no line of its own: such tiers stay on the rule's lines.
        return None;
    }
    let from = tiers_from(p, r)?;
    let open_at = find(p.src, from, '{').unwrap_or(from);
    p.has_comment(open_at, end(p, r.span)).then_some(open_at)
}

/// Where a rule's tiers may start: after its selector and severity.
fn tiers_from(p: &Printer<'_>, r: &Rule) -> Option<usize> {
    let from = end(p, r.kind.select().span);
    match &r.kind {
        RuleKind::Count { .. } => Some(from),
        RuleKind::Episodes { severity, .. } => Some(severity.iter().map(severity_end).max().unwrap_or(from)),
        _ => None,
    }
}

/// `P1 "label" deduct` / `bonus`.
fn rule_start(p: &Printer<'_>, clause: &Option<Clause>, lbl: &Option<Spanned<String>>) -> String {
    let mut s = String::new();
    if let Some(c) = clause {
        s.push_str(&c.to_string());
        s.push(' ');
    }
    if let Some(l) = lbl {
        s.push_str(&text(p, l));
        s.push(' ');
    }
    s
}

fn kinds(s: &Selector) -> String {
    let names: Vec<&str> = s.kinds.iter().map(|k| k.node.as_str()).collect();
    names.join(", ")
}

/// One rule: its clause ID and label padded to `cols`, its head, then the
/// parts it may wrap before.
fn rule(p: &mut Printer<'_>, r: &Rule, indent: usize, cols: &Columns) {
    let lead = cols.lead(&lead_cells(p, &r.clause, &r.label));
    let mut head = r.effect.word().to_string();
    let select = r.kind.select();
    match &r.kind {
        RuleKind::PerEvent { points, multiplier, .. } => {
            head.push_str(&format!(" {}", number(p, points)));
            if let Some(m) = multiplier {
                head.push_str(&format!(" x {}", m.node));
            }
            head.push_str(" per");
        }
        RuleKind::Once { points, at_least, .. } => match at_least {
            Some(n) => head.push_str(&format!(" {} once if at least {}", number(p, points), n.node)),
            None => head.push_str(&format!(" {} once if any", number(p, points))),
        },
        RuleKind::Absence { points, .. } => head.push_str(&format!(" {} if no", number(p, points))),
        RuleKind::Count { .. } => head.push_str(" by count of"),
        RuleKind::Episodes { .. } => head.push_str(" per episode of"),
    }
    head.push(' ');
    head.push_str(&kinds(select));
    let head_end = select.kinds.last().map_or(select.span, |k| k.span);
    let mut parts = vec![Part::new(head, end(p, head_end))];
    if let Some(f) = &select.filter {
        parts.push(Part::new(format!("where {}", expr(p.src, f)), end(p, f.span)));
    }
    if let Some(w) = &select.window {
        parts.push(Part::new(format!("within {}", duration(w)), end(p, w.span)));
    }
    let (severity, tiers) = match &r.kind {
        RuleKind::Count { tiers, .. } => (None, Some(tiers)),
        RuleKind::Episodes { severity, tiers, .. } => (Some(severity), Some(tiers)),
        _ => (None, None),
    };
    if let (Some(terms), Some(last)) = (severity, tiers_from(p, r)) {
        parts.push(Part::new(format!("severity {}", severity_text(terms)), last));
    }
    let replaces = (!r.replaces.is_empty()).then(|| {
        let names: Vec<String> = r.replaces.iter().map(Clause::to_string).collect();
        Part::new(format!("instead of {}", names.join(", ")), end(p, r.span))
    });
    let Some(tiers) = tiers else {
        parts.extend(replaces);
        flow(p, indent, lead, r.span, parts);
        return;
    };
    let Some(open_at) = tiers_block(p, r) else {
        let list: Vec<String> = tiers.iter().map(|t| tier(p, t)).collect();
        let tiers_end = tiers.last().map_or(end(p, r.span), |t| end(p, t.span) + 1);
        let tiers_end = if replaces.is_some() { tiers_end } else { end(p, r.span) };
        let mut tiers = Part::new(format!("{{ {} }}", list.join(", ")), tiers_end);
        // `severity max(length, months) { 1 => 10, … }` reads as one phrase.
        tiers.joined = severity.is_some();
        parts.push(tiers);
        parts.extend(replaces);
        flow(p, indent, lead, r.span, parts);
        return;
    };
    // Comments among the tiers: one tier per line, so each keeps its comment.
    parts.push(Part::new("{".to_string(), open_at + 1));
    flow(p, indent, lead, Span::new(r.span.start as usize, open_at + 1), parts);
    p.opens();
    for t in tiers {
        p.member(indent + INDENT, tier(p, t), t.span.start as usize, end(p, t.span));
    }
    p.close(indent, end(p, r.span));
}

/// A piece of a rule or override that a line may break before.
struct Part {
    text: String,
    /// Where its last token ends in the source.
    end: usize,
    /// Stays on the line of the part before it when the two fit on one line.
    joined: bool,
}

impl Part {
    fn new(text: String, end: usize) -> Part {
        Part {
            text,
            end,
            joined: false,
        }
    }
}

/// Lays out `lead` (the padded clause ID and label, or nothing) and the
/// parts after it, filling each line up to `WIDTH` columns. Continuation
/// lines start under the first part when there is a lead and they fit
/// there, else `CONTINUATION` columns in.
fn flow(p: &mut Printer<'_>, indent: usize, lead: String, span: Span, parts: Vec<Part>) {
    let body = indent + width(&lead);
    let mut cont = body;
    let mut lines = fill(&parts, body, cont);
    if body == indent || lines.iter().skip(1).any(|(line, _)| cont + width(line) > WIDTH) {
        cont = indent + CONTINUATION;
        lines = fill(&parts, body, cont);
    }
    let last = lines.len().saturating_sub(1);
    for (i, (line, end)) in lines.into_iter().enumerate() {
        // The last line ends where the whole rule ends (after any `)`).
        let end = if i == last { end.max(code_end(p.src, span)) } else { end };
        if i == 0 {
            p.member(indent, format!("{lead}{line}"), span.start as usize, end);
        } else {
            p.cont(cont, line, end);
        }
    }
}

/// Breaks `parts` into lines, the first starting at column `first`, the
/// others at `cont`: each part goes on the current line if it fits, else
/// starts the next. Joined parts move as one unless that does not fit on a
/// line of its own either.
fn fill(parts: &[Part], first: usize, cont: usize) -> Vec<(String, usize)> {
    let mut lines: Vec<(String, usize)> = Vec::new();
    let mut i = 0;
    while let Some(part) = parts.get(i) {
        let mut next = i + 1 + parts[i + 1..].iter().take_while(|p| p.joined).count();
        let text = |to: usize| {
            parts[i..to]
                .iter()
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut unit = text(next);
        if next > i + 1 && cont + width(&unit) > WIDTH {
            next = i + 1;
            unit = part.text.clone();
        }
        let end = parts[next - 1].end;
        let column = if lines.len() <= 1 { first } else { cont };
        match lines.last_mut() {
            // A block's `{` always stays on the line it opens.
            Some((line, line_end)) if part.text == "{" || column + width(line) + 1 + width(&unit) <= WIDTH => {
                line.push(' ');
                line.push_str(&unit);
                *line_end = end;
            }
            _ => lines.push((unit, end)),
        }
        i = next;
    }
    lines
}

fn severity_end(s: &Severity) -> usize {
    match s {
        Severity::Length(span) => span.end as usize,
        Severity::Attr(name) => name.span.end as usize,
    }
}

fn severity_text(terms: &[Severity]) -> String {
    let names: Vec<&str> = terms
        .iter()
        .map(|t| match t {
            Severity::Length(_) => "length",
            Severity::Attr(name) => name.node.as_str(),
        })
        .collect();
    match names.as_slice() {
        [one] => (*one).to_string(),
        _ => format!("max({})", names.join(", ")),
    }
}

/// `1 => 10`, `2..4 => 20`, `3+ => 30`.
fn tier(p: &Printer<'_>, t: &Tier) -> String {
    let range = match t.to {
        None => format!("{}+", t.from),
        Some(to) if to == t.from => t.from.to_string(),
        Some(to) => format!("{}..{}", t.from, to),
    };
    match &t.clause {
        Some(c) => format!("{range} => {} {c}", number(p, &t.points)),
        None => format!("{range} => {}", number(p, &t.points)),
    }
}

// ── Classes, dimensions, grades ─────────────────────────────────────────────

fn class(p: &mut Printer<'_>, c: &Class) {
    let mut head = format!("class {}{}", c.name.node, label(p, &c.label));
    if c.default {
        head.push_str(" default");
    }
    enum ClassMember<'a> {
        Dim(&'a Dimension),
        Over(&'a Override),
    }
    let mut members: Vec<(u32, ClassMember<'_>)> = (c.dimensions.iter().map(|d| (d.span.start, ClassMember::Dim(d))))
        .chain(c.overrides.iter().map(|o| (o.span.start, ClassMember::Over(o))))
        .collect();
    members.sort_by_key(|(start, _)| *start);
    let aligned: Vec<Member> = members
        .iter()
        .map(|(_, m)| match m {
            ClassMember::Dim(d) => member(p, d.span, !matches!(d.source, Source::Rules(_))),
            ClassMember::Over(o) => member(p, o.span, false),
        })
        .collect();
    block(p, 0, head, c.span, members.is_empty(), |p| {
        for run in align::runs(p, &aligned) {
            let rows: Vec<Vec<String>> = members[run.clone()]
                .iter()
                .filter_map(|(_, m)| match m {
                    ClassMember::Dim(d) => Some(dimension_cells(p, d)),
                    ClassMember::Over(_) => None,
                })
                .collect();
            let cols = Columns::of(rows.iter().map(Vec::as_slice));
            for (_, m) in &members[run] {
                match m {
                    ClassMember::Dim(d) => dimension(p, d, INDENT, &cols),
                    ClassMember::Over(o) => override_decl(p, o, INDENT),
                }
            }
        }
    });
}

/// The columns of a dimension's first line: name, label, `max N`, and the
/// group it uses (empty when its source is on lines of its own).
fn dimension_cells(p: &Printer<'_>, d: &Dimension) -> Vec<String> {
    let source = match &d.source {
        Source::Uses(g) => format!("uses {}", g.node),
        Source::Like(c) => format!("like {}", c.node),
        Source::Assessed(_) | Source::Rules(_) => String::new(),
    };
    vec![
        d.name.node.clone(),
        opt_text(p, &d.label),
        format!("max {}", number(p, &d.max)),
        source,
    ]
}

/// A dimension, its first line's columns as wide as `cols`.
fn dimension(p: &mut Printer<'_>, d: &Dimension, indent: usize, cols: &Columns) {
    let head = format!("dimension {}", cols.line(&dimension_cells(p, d)));
    let start = d.span.start as usize;
    // The source ends where `allow over-deduction` starts, if there is one.
    let last = match &d.allow {
        Some(a) => code_end(p.src, Span::new(start, a.span.start as usize)),
        None => end(p, d.span),
    };
    match &d.source {
        Source::Uses(_) | Source::Like(_) => p.member(indent, head, start, last),
        Source::Assessed(a) => {
            p.member(indent, head, start, end(p, d.max.span));
            let mut line = rule_start(p, &a.clause, &a.label);
            line.push_str(&format!("assessed {} of latest {}", a.value.node, a.kind.node));
            if let Some(f) = &a.filter {
                line.push_str(&format!(" where {}", expr(p.src, f)));
            }
            p.cont(indent + INDENT, line, last);
        }
        Source::Rules(rules) => {
            let span = Span::new(end(p, d.max.span), last);
            block_at(p, indent, head, start, span, rules.is_empty(), |p| {
                self::rules(p, rules, indent + INDENT)
            });
        }
    }
    if let Some(a) = &d.allow {
        let names: Vec<String> = a.clauses.iter().map(Clause::to_string).collect();
        let line = format!(
            "allow over-deduction {} because {}",
            names.join(", "),
            text(p, &a.reason)
        );
        p.cont(indent + INDENT, line, end(p, d.span));
    }
}

fn override_decl(p: &mut Printer<'_>, o: &Override, indent: usize) {
    let head = format!("{}grade {}", rule_start(p, &o.clause, &o.label), o.grade.node);
    let parts = vec![
        Part::new(head, end(p, o.grade.span)),
        Part::new(format!("when {}", expr(p.src, &o.when)), end(p, o.span)),
    ];
    flow(p, indent, String::new(), o.span, parts);
}

fn grades(p: &mut Printer<'_>, g: &Grades) {
    let head = format!("{}grades", rule_start(p, &g.clause, &g.label));
    // Columns: grade, label, `>= N`, measures; empty columns take no room.
    let rows: Vec<Vec<String>> = g
        .bands
        .iter()
        .map(|b| {
            vec![
                b.grade.node.clone(),
                opt_text(p, &b.label),
                b.min.as_ref().map_or(String::new(), |m| format!(">= {}", number(p, m))),
                b.measures
                    .as_ref()
                    .map_or(String::new(), |m| format!("measures {}", text(p, m))),
            ]
        })
        .collect();
    let cols = Columns::of(rows.iter().map(|r| {
        // The last cell with text ends the row, so padding stops there.
        let used = r.iter().rposition(|c| !c.is_empty()).map_or(1, |i| i + 1);
        &r[..used]
    }));
    block(p, 0, head, g.span, false, |p| {
        for (b, row) in g.bands.iter().zip(&rows) {
            let used = row.iter().rposition(|c| !c.is_empty()).map_or(1, |i| i + 1);
            let line = cols.line(&row[..used]).trim_end().to_string();
            p.member(INDENT, line, b.span.start as usize, end(p, b.span));
        }
    });
}

// ── Shared pieces ───────────────────────────────────────────────────────────

/// A block whose `{` is the first after the declaration's start.
pub(super) fn block(
    p: &mut Printer<'_>,
    indent: usize,
    head: String,
    span: Span,
    empty: bool,
    body: impl FnOnce(&mut Printer<'_>),
) {
    block_at(p, indent, head, span.start as usize, span, empty, body);
}

/// `head {`, the body indented, `}`; `head {}` when there is nothing inside.
/// The `{` is the first after `span.start`; the block ends at `span.end`.
pub(super) fn block_at(
    p: &mut Printer<'_>,
    indent: usize,
    head: String,
    start: usize,
    span: Span,
    empty: bool,
    body: impl FnOnce(&mut Printer<'_>),
) {
    let last = end(p, span);
    let brace = find(p.src, span.start as usize, '{').unwrap_or(span.start as usize);
    if empty && !p.has_comment(brace, last) {
        p.member(indent, format!("{head} {{}}"), start, last);
        return;
    }
    p.member(indent, format!("{head} {{"), start, brace + 1);
    p.opens();
    body(p);
    p.close(indent, last);
}

pub(super) fn open(p: &mut Printer<'_>, indent: usize, head: String, span: Span) {
    let brace = find(p.src, span.start as usize, '{').unwrap_or(span.start as usize);
    p.member(indent, format!("{head} {{"), span.start as usize, brace + 1);
    p.opens();
}

/// ` "label"`, or nothing.
pub(super) fn label(p: &Printer<'_>, l: &Option<Spanned<String>>) -> String {
    l.as_ref().map_or(String::new(), |l| format!(" {}", text(p, l)))
}

/// `"label"`, or nothing.
pub(super) fn opt_text(p: &Printer<'_>, l: &Option<Spanned<String>>) -> String {
    l.as_ref().map_or(String::new(), |l| text(p, l))
}

/// Where the last token of `span` ends.
pub(super) fn end(p: &Printer<'_>, span: Span) -> usize {
    code_end(p.src, span)
}

/// A text as written, escapes included.
pub(super) fn text(p: &Printer<'_>, s: &Spanned<String>) -> String {
    match s.span.text(p.src) {
        "" => format!("{:?}", s.node),
        written => written.to_string(),
    }
}

/// A number as written.
pub(super) fn number(p: &Printer<'_>, n: &Spanned<crate::num::Num>) -> String {
    match n.span.text(p.src) {
        "" => n.node.to_string(),
        written => written.to_string(),
    }
}

/// `12 months`, `1 year`.
fn duration(d: &Duration) -> String {
    let unit = match (d.unit, d.count == 1) {
        (Unit::Months, true) => "month",
        (Unit::Months, false) => "months",
        (Unit::Years, true) => "year",
        (Unit::Years, false) => "years",
    };
    format!("{} {unit}", d.count)
}
