//! Report stage: the terminal table of `score --format table`, aligned by
//! display width so Chinese labels line up; the roster's own columns
//! (`branch`…) follow the dimensions.

use super::{display_width, pad, Scored};
use crate::eval::Program;
use crate::input::Roster;

/// Renders the table header (names, then labels) and rows.
pub fn render(prog: &Program, rows: &[Scored<'_>], roster: &Roster) -> String {
    let dims = prog.dimension_names();
    let label = |name: &str| {
        prog.classes
            .iter()
            .flat_map(|c| &c.dims)
            .find(|d| d.name == name)
            .and_then(|d| d.label.clone())
            .unwrap_or_default()
    };
    let mut head1 = vec!["customer".to_string(), "class".into(), "total".into(), "grade".into()];
    let mut head2 = vec![String::new(); 4];
    for d in &dims {
        head1.push(d.to_string());
        head2.push(label(d));
    }
    let measures = prog.has_measures();
    if measures {
        head1.push("measures".into());
        head2.push("措施".into());
    }
    for c in roster.columns() {
        head1.push(c.to_string());
        head2.push(String::new());
    }
    let mut body: Vec<Vec<String>> = Vec::new();
    for s in rows {
        let mut cells = vec![
            s.id().to_string(),
            s.class_name().to_string(),
            s.outcome.total.to_string(),
            s.grade().to_string(),
        ];
        let scores: Vec<(&str, crate::num::Num)> = s.dimensions().collect();
        for d in &dims {
            cells.push(
                scores
                    .iter()
                    .find(|(n, _)| n == d)
                    .map_or("-".to_string(), |(_, v)| v.to_string()),
            );
        }
        if measures {
            cells.push(s.measures().unwrap_or("").to_string());
        }
        for i in 0..roster.columns().len() {
            let v = roster.extra(s.id()).and_then(|v| v.get(i)).map_or("", |v| &**v);
            cells.push(v.to_string());
        }
        if !s.outcome.flags.is_empty() {
            cells.push(s.outcome.flags.join("; "));
        }
        body.push(cells);
    }
    let ncols = head1.len();
    let widths: Vec<usize> = (0..ncols)
        .map(|i| {
            std::iter::once(&head1)
                .chain(std::iter::once(&head2))
                .chain(&body)
                .filter_map(|r| r.get(i))
                .map(|c| display_width(c))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric = |i: usize| i == 2 || (4..4 + dims.len()).contains(&i);
    let line = |cells: &[String]| {
        let mut parts = Vec::new();
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            if i >= ncols {
                parts.push(c.clone());
            } else if numeric(i) && display_width(c) <= w {
                parts.push(format!("{}{c}", " ".repeat(w - display_width(c))));
            } else {
                parts.push(pad(c, w));
            }
        }
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(&head1);
    if head2.iter().any(|h| !h.is_empty()) {
        out.push_str(&line(&head2));
    }
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    out.push_str(&line(&rule));
    for r in &body {
        out.push_str(&line(r));
    }
    out
}
