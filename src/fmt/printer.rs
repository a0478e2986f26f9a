//! Formatting stage, output side: a list of lines, each remembering where its
//! last token ended in the source, so that every comment lands in order —
//! after the line it trailed, or on its own line before the code it preceded.

use super::source::{self, width, Comment};

/// One output line.
struct Line {
    indent: usize,
    text: String,
    trailing: Option<String>,
    blank_before: bool,
    /// Source offset just past the line's last token; `None` for a comment.
    end: Option<usize>,
    /// Ends with `{`: no blank line may follow it.
    opens: bool,
}

/// Collects lines and places the source's comments between them.
pub(super) struct Printer<'s> {
    pub src: &'s str,
    comments: Vec<Comment<'s>>,
    next: usize,
    lines: Vec<Line>,
    force_blank: bool,
}

impl<'s> Printer<'s> {
    pub fn new(src: &'s str) -> Self {
        Printer {
            src,
            comments: source::comments(src),
            next: 0,
            lines: Vec::new(),
            force_blank: false,
        }
    }

    /// The next member is separated from what precedes it by a blank line.
    pub fn blank_next(&mut self) {
        self.force_blank = true;
    }

    /// A line that begins a member (header, item, rule, attribute, band)
    /// whose source starts at `start`: keeps a blank line before it when the
    /// source has one. Comments inside its source move above it.
    pub fn member(&mut self, indent: usize, text: String, start: usize, end: usize) {
        let forced = std::mem::take(&mut self.force_blank);
        let forced = self.flush(start, indent, forced);
        let blank = forced || source::blank_before(self.src, start);
        let blank = self.flush(end, indent, blank);
        self.push(indent, text, Some(end), blank);
    }

    /// A continuation of the member above (`period`, a wrapped rule).
    pub fn cont(&mut self, indent: usize, text: String, end: usize) {
        self.flush(end, indent, false);
        self.push(indent, text, Some(end), false);
    }

    /// Marks the last line as opening a block.
    pub fn opens(&mut self) {
        if let Some(last) = self.lines.last_mut() {
            last.opens = true;
        }
    }

    /// A closing `}` ending at `end`; comments before it stay inside the block.
    pub fn close(&mut self, indent: usize, end: usize) {
        self.flush(end, indent + super::layout::INDENT, false);
        self.push(indent, "}".to_string(), Some(end), false);
    }

    /// Whether a comment lies strictly between two source offsets.
    pub fn has_comment(&self, from: usize, to: usize) -> bool {
        self.comments.iter().any(|c| from < c.pos && c.pos < to)
    }

    /// The comments that start at or after `from` and before `to`.
    pub fn comments_in(&self, from: usize, to: usize) -> impl Iterator<Item = &Comment<'s>> {
        self.comments.iter().filter(move |c| from <= c.pos && c.pos < to)
    }

    /// Places the comments before `before`: one that trails the last line's
    /// final token stays on that line; the others go on their own lines at
    /// `indent`, the first taking `blank` (returned if no comment took it).
    fn flush(&mut self, before: usize, indent: usize, mut blank: bool) -> bool {
        while let Some(&c) = self.comments.get(self.next).filter(|c| c.pos < before) {
            self.next += 1;
            if let Some(last) = self.lines.last_mut() {
                if let (Some(end), None) = (last.end, &last.trailing) {
                    if !c.own_line && source::trails(self.src, end, c.pos) {
                        last.trailing = Some(c.text.to_string());
                        continue;
                    }
                }
            }
            let own_blank = c.own_line && source::blank_before(self.src, c.pos);
            self.push(indent, c.text.to_string(), None, blank || own_blank);
            blank = false;
        }
        blank
    }

    fn push(&mut self, indent: usize, text: String, end: Option<usize>, blank: bool) {
        let blank_before = blank && self.lines.last().is_some_and(|l| !l.opens);
        self.lines.push(Line {
            indent,
            text,
            trailing: None,
            blank_before,
            end,
            opens: false,
        });
    }

    /// The text: the remaining comments at the end, one `\n` after each line.
    /// Trailing comments on consecutive lines of the same indent start in one
    /// column, two spaces after the widest of those lines.
    pub fn finish(mut self) -> String {
        self.flush(usize::MAX, 0, false);
        let columns = self.comment_columns();
        let mut out = String::new();
        for (line, column) in self.lines.iter().zip(columns) {
            if line.blank_before {
                out.push('\n');
            }
            out.extend(std::iter::repeat_n(' ', line.indent));
            out.push_str(&line.text);
            if let Some(comment) = &line.trailing {
                let used = line.indent + width(&line.text);
                out.extend(std::iter::repeat_n(' ', column.saturating_sub(used).max(2)));
                out.push_str(comment);
            }
            out.push('\n');
        }
        out
    }

    /// For each line, the column its trailing comment starts at.
    fn comment_columns(&self) -> Vec<usize> {
        let mut columns = vec![0; self.lines.len()];
        let mut i = 0;
        while i < self.lines.len() {
            let mut j = i + 1;
            if self.lines[i].trailing.is_some() {
                let same = |l: &Line| l.trailing.is_some() && !l.blank_before && l.indent == self.lines[i].indent;
                while self.lines.get(j).is_some_and(same) {
                    j += 1;
                }
                let run = &self.lines[i..j];
                let column = run.iter().map(|l| l.indent + width(&l.text)).max().unwrap_or(0) + 2;
                columns[i..j].fill(column);
            }
            i = j;
        }
        columns
    }
}
