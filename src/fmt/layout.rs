//! Formatting stage, layout: the canonical shape of each declaration.
//!
//! - the header on three lines (`standard … version …`, `period`, `total`);
//! - top-level items in source order, a blank line around every block;
//! - blocks indented by two spaces, `}` on its own line;
//! - one rule, attribute, dimension, override or band per line; a rule wider
//!   than 100 columns wraps before `where`, `within`, `severity` or its tiers,
//!   continuation lines indented four more;
//! - an event's attributes on its line (`{ a: int, b: bool }`) unless they do
//!   not fit or carry comments, then one per line;
//! - grade names padded so that the `>=` line up.
//!
//! Names, clause IDs, numbers and texts are printed as written; keywords and
//! punctuation are spelled one way (`x` for the multiplier, `1 month` but
//! `2 months`).

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
const WIDTH: usize = 100;

/// A top-level declaration.
enum Item<'a> {
    Event(&'a EventDecl),
    Group(&'a RuleGroup),
    Class(&'a Class),
    Override(&'a Override),
    Grades(&'a Grades),
}

impl Item<'_> {
    fn start(&self) -> u32 {
        match self {
            Item::Event(x) => x.span.start,
            Item::Group(x) => x.span.start,
            Item::Class(x) => x.span.start,
            Item::Override(x) => x.span.start,
            Item::Grades(x) => x.span.start,
        }
    }
}

pub(super) fn rulebook(p: &mut Printer<'_>, book: &Rulebook) {
    header(p, &book.header);
    let mut items: Vec<Item<'_>> = (book.events.iter().map(Item::Event))
        .chain(book.groups.iter().map(Item::Group))
        .chain(book.classes.iter().map(Item::Class))
        .chain(book.overrides.iter().map(Item::Override))
        .chain(book.grades.iter().map(Item::Grades))
        .collect();
    items.sort_by_key(Item::start);
    let mut after_block = true;
    for item in &items {
        let block = match item {
            Item::Event(e) => event_is_block(p, e),
            Item::Override(_) => false,
            _ => true,
        };
        if block || after_block {
            p.blank_next();
        }
        after_block = block;
        match item {
            Item::Event(e) => event(p, e, block),
            Item::Group(g) => group(p, g),
            Item::Class(c) => class(p, c),
            Item::Override(o) => override_decl(p, o, 0),
            Item::Grades(g) => grades(p, g),
        }
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

fn attr(p: &Printer<'_>, a: &AttrDecl) -> String {
    let mut s = format!("{}: {}", a.name.node, a.ty.name());
    if let Some(min) = &a.min {
        s.push_str(&format!(" >= {}", number(p, min)));
    }
    if let Some(allowed) = &a.allowed {
        s.push_str(&format!(" in {}", set(p.src, allowed)));
    }
    if let Some(d) = &a.default {
        s.push_str(&format!(" = {}", super::expr::literal(p.src, &d.node, d.span)));
    }
    s
}

fn event_one_line(p: &Printer<'_>, e: &EventDecl) -> String {
    let attrs: Vec<String> = e.attrs.iter().map(|a| attr(p, a)).collect();
    format!("{} {{ {} }}", event_head(p, e), attrs.join(", "))
}

/// An event with attributes that do not fit on its line or carry comments.
fn event_is_block(p: &Printer<'_>, e: &EventDecl) -> bool {
    if e.attrs.is_empty() {
        return false;
    }
    let open = find(p.src, e.span.start as usize, '{').unwrap_or(e.span.start as usize);
    width(&event_one_line(p, e)) > WIDTH || p.has_comment(open, end(p, e.span))
}

fn event(p: &mut Printer<'_>, e: &EventDecl, block: bool) {
    let (start, last) = (e.span.start as usize, end(p, e.span));
    if e.attrs.is_empty() {
        p.member(0, event_head(p, e), start, last);
    } else if !block {
        p.member(0, event_one_line(p, e), start, last);
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
    block(p, 0, head, g.span, g.rules.is_empty(), |p| {
        for r in &g.rules {
            rule(p, r, INDENT);
        }
    });
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

/// One rule: its head, then the parts it may wrap before.
fn rule(p: &mut Printer<'_>, r: &Rule, indent: usize) {
    let mut head = rule_start(p, &r.clause, &r.label);
    head.push_str(r.effect.word());
    let select = r.kind.select();
    match &r.kind {
        RuleKind::PerEvent { points, multiplier, .. } => {
            head.push_str(&format!(" {}", number(p, points)));
            if let Some(m) = multiplier {
                head.push_str(&format!(" x {}", m.node));
            }
            head.push_str(" per");
        }
        RuleKind::Once { points, .. } => head.push_str(&format!(" {} once if any", number(p, points))),
        RuleKind::Absence { points, .. } => head.push_str(&format!(" {} if no", number(p, points))),
        RuleKind::Count { .. } => head.push_str(" by count of"),
        RuleKind::Episodes { .. } => head.push_str(" per episode of"),
    }
    head.push(' ');
    head.push_str(&kinds(select));
    let head_end = select.kinds.last().map_or(select.span, |k| k.span);
    let mut parts = vec![(head, end(p, head_end))];
    if let Some(f) = &select.filter {
        parts.push((format!("where {}", expr(p.src, f)), end(p, f.span)));
    }
    if let Some(w) = &select.window {
        parts.push((format!("within {}", duration(w)), end(p, w.span)));
    }
    let (severity, tiers) = match &r.kind {
        RuleKind::Count { tiers, .. } => (None, Some(tiers)),
        RuleKind::Episodes { severity, tiers, .. } => (Some(severity), Some(tiers)),
        _ => (None, None),
    };
    let mut tiers_from = end(p, select.span);
    if let Some(terms) = severity {
        let last = terms.iter().map(severity_end).max().unwrap_or(tiers_from);
        parts.push((format!("severity {}", severity_text(terms)), last));
        tiers_from = last;
    }
    let Some(tiers) = tiers else {
        flow(p, indent, r.span, parts);
        return;
    };
    let open_at = find(p.src, tiers_from, '{').unwrap_or(tiers_from);
    if !p.has_comment(open_at, end(p, r.span)) {
        let list: Vec<String> = tiers.iter().map(|t| tier(p, t)).collect();
        parts.push((format!("{{ {} }}", list.join(", ")), end(p, r.span)));
        flow(p, indent, r.span, parts);
        return;
    }
    // Comments among the tiers: one tier per line, so each keeps its comment.
    parts.push(("{".to_string(), open_at + 1));
    flow(p, indent, Span::new(r.span.start as usize, open_at + 1), parts);
    p.opens();
    for t in tiers {
        p.member(indent + INDENT, tier(p, t), t.span.start as usize, end(p, t.span));
    }
    p.close(indent, end(p, r.span));
}

/// Lays out a head and its parts, filling each line up to `WIDTH` columns.
fn flow(p: &mut Printer<'_>, indent: usize, span: Span, parts: Vec<(String, usize)>) {
    let mut lines: Vec<(String, usize)> = Vec::new();
    for (part, end) in parts {
        let line_indent = if lines.len() <= 1 {
            indent
        } else {
            indent + CONTINUATION
        };
        match lines.last_mut() {
            Some((line, line_end)) => {
                // A block's `{` always stays on the line it opens.
                if part == "{" || line_indent + width(line) + 1 + width(&part) <= WIDTH {
                    line.push(' ');
                    line.push_str(&part);
                    *line_end = end;
                } else {
                    lines.push((part, end));
                }
            }
            None => lines.push((part, end)),
        }
    }
    let last = lines.len().saturating_sub(1);
    for (i, (line, end)) in lines.into_iter().enumerate() {
        // The last line ends where the whole rule ends (after any `)`).
        let end = if i == last { end.max(code_end(p.src, span)) } else { end };
        if i == 0 {
            p.member(indent, line, span.start as usize, end);
        } else {
            p.cont(indent + CONTINUATION, line, end);
        }
    }
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
    format!("{range} => {}", number(p, &t.points))
}

// ── Classes, dimensions, grades ─────────────────────────────────────────────

fn class(p: &mut Printer<'_>, c: &Class) {
    let mut head = format!("class {}{}", c.name.node, label(p, &c.label));
    if c.default {
        head.push_str(" default");
    }
    enum Member<'a> {
        Dim(&'a Dimension),
        Over(&'a Override),
    }
    let mut members: Vec<(u32, Member<'_>)> = (c.dimensions.iter().map(|d| (d.span.start, Member::Dim(d))))
        .chain(c.overrides.iter().map(|o| (o.span.start, Member::Over(o))))
        .collect();
    members.sort_by_key(|(start, _)| *start);
    block(p, 0, head, c.span, members.is_empty(), |p| {
        for (_, m) in &members {
            match m {
                Member::Dim(d) => dimension(p, d, INDENT),
                Member::Over(o) => override_decl(p, o, INDENT),
            }
        }
    });
}

fn dimension(p: &mut Printer<'_>, d: &Dimension, indent: usize) {
    let head = format!(
        "dimension {}{} max {}",
        d.name.node,
        label(p, &d.label),
        number(p, &d.max)
    );
    let (start, last) = (d.span.start as usize, end(p, d.span));
    match &d.source {
        Source::Uses(g) => p.member(indent, format!("{head} uses {}", g.node), start, last),
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
                for r in rules {
                    rule(p, r, indent + INDENT);
                }
            });
        }
    }
}

fn override_decl(p: &mut Printer<'_>, o: &Override, indent: usize) {
    let head = format!("{}grade {}", rule_start(p, &o.clause, &o.label), o.grade.node);
    let parts = vec![
        (head, end(p, o.grade.span)),
        (format!("when {}", expr(p.src, &o.when)), end(p, o.span)),
    ];
    flow(p, indent, o.span, parts);
}

fn grades(p: &mut Printer<'_>, g: &Grades) {
    let head = format!("{}grades", rule_start(p, &g.clause, &g.label));
    let pad = g
        .bands
        .iter()
        .filter(|b| b.min.is_some())
        .map(|b| width(&b.grade))
        .max()
        .unwrap_or(0);
    block(p, 0, head, g.span, false, |p| {
        for b in &g.bands {
            let line = match &b.min {
                Some(min) => {
                    let fill = " ".repeat(pad.saturating_sub(width(&b.grade)));
                    format!("{}{fill} >= {}", b.grade.node, number(p, min))
                }
                None => b.grade.node.clone(),
            };
            p.member(INDENT, line, b.span.start as usize, end(p, b.span));
        }
    });
}

// ── Shared pieces ───────────────────────────────────────────────────────────

/// A block whose `{` is the first after the declaration's start.
fn block(
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
fn block_at(
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

fn open(p: &mut Printer<'_>, indent: usize, head: String, span: Span) {
    let brace = find(p.src, span.start as usize, '{').unwrap_or(span.start as usize);
    p.member(indent, format!("{head} {{"), span.start as usize, brace + 1);
    p.opens();
}

/// ` "label"`, or nothing.
fn label(p: &Printer<'_>, l: &Option<Spanned<String>>) -> String {
    l.as_ref().map_or(String::new(), |l| format!(" {}", text(p, l)))
}

/// Where the last token of `span` ends.
fn end(p: &Printer<'_>, span: Span) -> usize {
    code_end(p.src, span)
}

/// A text as written, escapes included.
fn text(p: &Printer<'_>, s: &Spanned<String>) -> String {
    match s.span.text(p.src) {
        "" => format!("{:?}", s.node),
        written => written.to_string(),
    }
}

/// A number as written.
fn number(p: &Printer<'_>, n: &Spanned<crate::num::Num>) -> String {
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
