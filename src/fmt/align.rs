//! Formatting stage, columns: gofmt-style alignment of consecutive one-line
//! declarations of the same kind in the same block — events (name, label,
//! attributes), rules (clause ID, label, body), dimensions (name, label,
//! `max N`, source).
//!
//! A *run* is broken by a blank line, an own-line comment, a declaration laid
//! out as a block (braces on their own lines) or a declaration of another
//! kind. A declaration that wraps (a long rule, an assessed dimension) joins
//! its run with its first line. Widths are terminal columns: Chinese
//! characters count two.

use std::ops::Range;

use super::printer::Printer;
use super::source::{self, width};

/// A declaration of a block, as the run splitter sees it.
pub(super) struct Member {
    /// Where its first token starts.
    pub start: usize,
    /// Where its last token ends.
    pub end: usize,
    /// Whether it takes part in alignment: a one-line declaration (or one
    /// that only wraps) of the kind being aligned.
    pub row: bool,
}

/// Splits a block's declarations into runs, as index ranges; each member
/// that is not a row is a run of its own.
///
/// The splits are read from the source, and read the same from the
/// formatted output, so formatting stays a fixed point: a comment inside a
/// declaration is printed above it or among its own lines, never below it,
/// so it splits the run before the declaration only.
pub(super) fn runs(p: &Printer<'_>, members: &[Member]) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let joins = i > 0 && {
            let prev = &members[i - 1];
            prev.row && m.row && !splits(p, prev.end, m)
        };
        match runs.last_mut() {
            Some(run) if joins => run.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

/// Whether anything but a comment trailing the previous declaration's last
/// line lies between it (ending at `prev_end`) and `m`.
fn splits(p: &Printer<'_>, prev_end: usize, m: &Member) -> bool {
    let mut gap = p.comments_in(prev_end, m.start);
    let trailing = match gap.next() {
        None => true,
        Some(c) => !c.own_line && source::trails(p.src, prev_end, c.pos),
    };
    !trailing || gap.next().is_some() || source::blank_before(p.src, m.start) || p.has_comment(m.start, m.end)
}

/// The width of each column of a run: the widest of its cells that have a
/// cell after them on their row. The last cell of a row is not padded, so it
/// does not widen its column.
pub(super) struct Columns(Vec<usize>);

impl Columns {
    pub fn of<'c>(rows: impl IntoIterator<Item = &'c [String]>) -> Columns {
        let mut widths: Vec<usize> = Vec::new();
        for cells in rows {
            if widths.len() < cells.len() {
                widths.resize(cells.len(), 0);
            }
            for (w, cell) in widths.iter_mut().zip(&cells[..last(cells)]) {
                *w = (*w).max(width(cell));
            }
        }
        Columns(widths)
    }

    /// A row: each cell padded to its column and followed by a space, up to
    /// its last cell. A column no row fills takes no room at all.
    pub fn line(&self, cells: &[String]) -> String {
        let last = last(cells);
        let mut out = self.lead(&cells[..last]);
        out.push_str(cells.get(last).map_or("", String::as_str));
        out
    }

    /// The first cells of a row, padded so that what follows them starts in
    /// the next column.
    pub fn lead(&self, cells: &[String]) -> String {
        let mut out = String::new();
        for (cell, &w) in cells.iter().zip(&self.0) {
            if w > 0 {
                out.push_str(cell);
                out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(cell)) + 1));
            }
        }
        out
    }
}

/// The index of a row's last non-empty cell (0 if all are empty).
fn last(cells: &[String]) -> usize {
    cells.iter().rposition(|c| !c.is_empty()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn pads_every_cell_but_the_last_in_terminal_columns() {
        let rows = [
            row(&["arrears", "\"拖欠电费\"", "{ months: int }"]),
            row(&["wrong_account", "\"有意提供错误帐号\"", ""]),
            row(&["trip", "", "{ reach: text }"]),
        ];
        let cols = Columns::of(rows.iter().map(Vec::as_slice));
        let lines: Vec<String> = rows.iter().map(|r| cols.line(r)).collect();
        assert_eq!(
            lines,
            [
                "arrears       \"拖欠电费\" { months: int }",
                "wrong_account \"有意提供错误帐号\"",
                "trip                     { reach: text }",
            ]
        );
    }

    #[test]
    fn an_empty_column_takes_no_room() {
        let rows = [row(&["", "\"a\"", "deduct"]), row(&["", "", "bonus"])];
        let cols = Columns::of(rows.iter().map(Vec::as_slice));
        assert_eq!(cols.line(&rows[0]), "\"a\" deduct");
        assert_eq!(cols.line(&rows[1]), "    bonus");
        assert_eq!(cols.lead(&rows[1][..2]), "    ");
    }
}
