//! Formatting stage, indexes: `index … scale 1..10 {`, one `block … {` per
//! block, its items one per line, each run of items aligned on name, label
//! and weight.

use super::align::{self, Columns, Member};
use super::layout::{block, label, member, number, opt_text, INDENT};
use super::printer::Printer;
use crate::syntax::ast::{Index, IndexBlock, IndexItem};

pub(super) fn index(p: &mut Printer<'_>, ix: &Index) {
    let head = format!(
        "index {}{} of latest {} scale {}..{}",
        ix.name.node,
        label(p, &ix.label),
        ix.kind.node,
        number(p, &ix.scale.lo),
        number(p, &ix.scale.hi)
    );
    block(p, 0, head, ix.span, false, |p| {
        for b in &ix.blocks {
            index_block(p, b);
        }
    });
}

fn index_block(p: &mut Printer<'_>, b: &IndexBlock) {
    let head = format!(
        "block {}{} weight {}",
        b.name.node,
        label(p, &b.label),
        number(p, &b.weight)
    );
    block(p, INDENT, head, b.span, false, |p| {
        let members: Vec<Member> = b.items.iter().map(|i| member(p, i.span, true)).collect();
        for run in align::runs(p, &members) {
            let rows: Vec<Vec<String>> = b.items[run.clone()].iter().map(|i| cells(p, i)).collect();
            let cols = Columns::of(rows.iter().map(Vec::as_slice));
            for i in &b.items[run] {
                let (start, end) = (i.span.start as usize, super::layout::end(p, i.span));
                p.member(2 * INDENT, cols.line(&cells(p, i)), start, end);
            }
        }
    });
}

/// The columns of an item: name, label, `weight N`.
fn cells(p: &Printer<'_>, i: &IndexItem) -> Vec<String> {
    vec![
        i.name.node.clone(),
        opt_text(p, &i.label),
        format!("weight {}", number(p, &i.weight)),
    ]
}
