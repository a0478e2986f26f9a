//! Syntax stage: the one scanner of a rulebook's text below the grammar —
//! where code, quoted texts and `#` comments lie. The parser's limits, the
//! AST's spans and the formatter all read the text through it, so they agree
//! on what a string or a comment is.
//!
//! A text runs from `"` to the next `"` not escaped by `\` (a `\` escapes any
//! character, a line break too, as the grammar's `string` does); an
//! unescaped line break ends a text left open. A comment runs from `#` to the
//! end of its line.

use std::ops::Range;

/// What a piece of the text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Names, numbers, keywords, punctuation and the spaces between them.
    Code,
    /// A quoted text, its quotes included.
    Text,
    /// A `#` comment, without its line break.
    Comment,
}

/// The pieces of a text, in order; together they cover it exactly.
pub struct Scan<'s> {
    src: &'s str,
    pos: usize,
}

/// Scans `src` from byte `from`, which must not lie inside a text or comment.
pub fn scan(src: &str, from: usize) -> Scan<'_> {
    Scan { src, pos: from }
}

impl Iterator for Scan<'_> {
    type Item = (Piece, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.src.get(self.pos..).filter(|r| !r.is_empty())?;
        let start = self.pos;
        let (piece, len) = match rest.as_bytes().first() {
            Some(b'"') => (Piece::Text, text_len(rest)),
            Some(b'#') => (Piece::Comment, rest.find(['\n', '\r']).unwrap_or(rest.len())),
            _ => (Piece::Code, rest.find(['"', '#']).unwrap_or(rest.len())),
        };
        self.pos = start + len;
        Some((piece, start..self.pos))
    }
}

/// The length of the text literal `rest` starts with (its opening quote at 0).
fn text_len(rest: &str) -> usize {
    let mut chars = rest.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => return i + 1,
            '\n' | '\r' => return i,
            _ => {}
        }
    }
    rest.len()
}

/// Where the last token of `text` ends: trailing spaces and comments are not
/// part of it.
pub fn code_end(text: &str) -> usize {
    let mut end = 0;
    for (piece, range) in scan(text, 0) {
        match piece {
            Piece::Text => end = range.end,
            Piece::Code => {
                let code = text.get(range.clone()).unwrap_or("");
                let trimmed = code.trim_end_matches(is_space);
                if !trimmed.is_empty() {
                    end = range.start + trimmed.len();
                }
            }
            Piece::Comment => {}
        }
    }
    end
}

/// Whitespace as the grammar reads it (`WHITESPACE`).
pub fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{3000}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(src: &str) -> Vec<(Piece, &str)> {
        scan(src, 0).map(|(p, r)| (p, &src[r])).collect()
    }

    #[test]
    fn code_texts_and_comments() {
        assert_eq!(
            pieces("a \"b # c\" # d\ne"),
            [
                (Piece::Code, "a "),
                (Piece::Text, "\"b # c\""),
                (Piece::Code, " "),
                (Piece::Comment, "# d"),
                (Piece::Code, "\ne"),
            ]
        );
    }

    #[test]
    fn escapes_and_unterminated_texts() {
        // `\"` and `\n`-escapes stay inside; an open text stops at the line's end.
        assert_eq!(pieces(r#""a\"b" x"#), [(Piece::Text, r#""a\"b""#), (Piece::Code, " x")]);
        assert_eq!(pieces("\"open\nx"), [(Piece::Text, "\"open"), (Piece::Code, "\nx")]);
        assert_eq!(pieces("\"a\\\nb\""), [(Piece::Text, "\"a\\\nb\"")]);
    }

    #[test]
    fn the_end_of_the_last_token() {
        assert_eq!(code_end("deduct 10 per theft  # why\n  "), "deduct 10 per theft".len());
        assert_eq!(
            code_end("label \"# not a comment\" # one"),
            "label \"# not a comment\"".len()
        );
        assert_eq!(code_end("  # only a comment"), 0);
    }
}
