//! Formatting stage, source side: what the AST does not keep but the layout
//! needs — comments, blank lines, the positions of braces — read back from
//! the source text, and the display width of a line.

use crate::span::Span;
use crate::syntax::scan::{scan, Piece};

/// A `#` comment in the source.
#[derive(Clone, Copy, Debug)]
pub(super) struct Comment<'s> {
    /// Byte offset of the `#`.
    pub pos: usize,
    /// From `#` to the end of the line, without trailing whitespace.
    pub text: &'s str,
    /// Nothing but whitespace before it on its line.
    pub own_line: bool,
}

pub(super) use crate::syntax::scan::is_space;

/// Every comment in `src`, in order.
pub(super) fn comments(src: &str) -> Vec<Comment<'_>> {
    scan(src, 0)
        .filter(|(piece, _)| *piece == Piece::Comment)
        .map(|(_, range)| {
            let i = range.start;
            let text = src.get(range).unwrap_or("").trim_end();
            let line_start = src.get(..i).and_then(|b| b.rfind('\n')).map_or(0, |n| n + 1);
            let own_line = src.get(line_start..i).is_some_and(|b| b.chars().all(is_space));
            Comment { pos: i, text, own_line }
        })
        .collect()
}

/// The first `want` at or after `from` outside strings and comments.
pub(super) fn find(src: &str, from: usize, want: char) -> Option<usize> {
    scan(src, from)
        .filter(|(piece, _)| *piece == Piece::Code)
        .find_map(|(_, range)| Some(range.start + src.get(range)?.find(want)?))
}

/// Where the last token of `span` ends. A pest pair whose rule ends in an
/// optional part also covers the spaces and comments after its last token.
pub(super) fn code_end(src: &str, span: Span) -> usize {
    match src.get(span.start as usize..span.end as usize) {
        Some(text) => span.start as usize + crate::syntax::scan::code_end(text),
        None => span.end as usize,
    }
}

/// Whether an empty line separates `pos` from the text before it.
pub(super) fn blank_before(src: &str, pos: usize) -> bool {
    let before = src.get(..pos).unwrap_or("");
    before
        .chars()
        .rev()
        .take_while(|&c| is_space(c))
        .filter(|&c| c == '\n')
        .count()
        >= 2
}

/// Whether only spaces, commas and closing parentheses lie between `from` and
/// `to`, on one line: a comment at `to` then trails the token ending at `from`.
pub(super) fn trails(src: &str, from: usize, to: usize) -> bool {
    src.get(from..to)
        .is_some_and(|gap| gap.chars().all(|c| matches!(c, ' ' | '\t' | '\u{3000}' | ',' | ')')))
}

/// Columns a text takes in a terminal: East Asian wide characters take two.
/// The columns text takes in an editor: CJK and full-width characters two.
pub(super) fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_comments_outside_strings_only() {
        let src = "a \"#x \\\" #y\" # one  \n  # two\n\"#\"";
        let found: Vec<(&str, bool)> = comments(src).iter().map(|c| (c.text, c.own_line)).collect();
        assert_eq!(found, [("# one", false), ("# two", true)]);
    }

    #[test]
    fn finds_braces_past_labels_and_comments() {
        let src = "rules a \"{\" # {\n {";
        assert_eq!(find(src, 0, '{'), Some(src.len() - 1));
    }

    #[test]
    fn code_ends_before_trailing_comments() {
        let src = "a \"b # c\" # d\n  ";
        assert_eq!(code_end(src, Span::new(0, src.len())), 9);
    }

    #[test]
    fn counts_wide_characters_twice() {
        assert_eq!(width("P1 \"拖欠\""), 9);
    }
}
