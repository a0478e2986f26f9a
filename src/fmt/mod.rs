//! Formatting stage: source text → the canonical layout (`rulebook fmt`).
//!
//! The AST gives the content; the source gives what the AST leaves out:
//! comments, blank lines between declarations, and how numbers and texts
//! were written. `layout` decides the shape of every declaration, `align`
//! the columns of consecutive one-line declarations; `printer` places each
//! comment either after the line it trailed or on its own line
//! before the code it preceded. The result is checked before it is returned:
//! it must parse to the same rulebook and keep every comment, in order.

mod align;
mod expr;
mod index;
mod layout;
mod printer;
mod source;

use crate::diagnostic::Diagnostic;
use crate::syntax;

/// Formats a rulebook. A source that does not parse gets its syntax error;
/// the output parses to an equal AST and is a fixed point of `format`.
pub fn format(src: &str) -> Result<String, Diagnostic> {
    let book = syntax::parse(src)?;
    let mut printer = printer::Printer::new(src);
    layout::rulebook(&mut printer, &book);
    let out = printer.finish();
    let same_rules = syntax::parse(&out).is_ok_and(|again| again == book);
    if !same_rules || comment_texts(src) != comment_texts(&out) {
        return Err(Diagnostic::error(
            "internal error: formatting would change this rulebook",
            book.header.span,
            "the file was left as it is",
        )
        .with_help("please report this file to the rulebook maintainers"));
    }
    Ok(out)
}

fn comment_texts(src: &str) -> Vec<&str> {
    source::comments(src).into_iter().map(|c| c.text).collect()
}
