//! Index stage: the satisfaction index of `csi.md` — a rulebook's `index`
//! lowered against its schema (`IndexProg`), each customer's latest survey
//! in the period turned into an exact respondent index (`eval`), respondents
//! gathered into groups with their mean, 95% interval, block scores and
//! improvement priority (`group`), rendered as jsonl, json, csv or a table
//! (`report`).
//!
//! ```text
//! Index (AST) ──compile(Schema)──▶ IndexProg ──respondent(log)──▶ Answer ──Acc::add──▶ Acc ──finish──▶ GroupStats ──report
//! ```
//!
//! Arithmetic is exact: respondents in `u128` fractions (weights reduced by
//! their common divisor first), group statistics in big fractions
//! (`big`); values are rounded half up to hundredths only when printed.

pub mod big;
pub mod diff;
pub mod eval;
pub mod group;
pub mod report;

use crate::input::Schema;
use crate::num::Num;
use crate::syntax::ast;

/// A compiled index.
#[derive(Debug, Clone)]
pub struct IndexProg {
    pub name: String,
    pub label: Option<String>,
    /// The survey event kind.
    pub kind: u16,
    pub kind_name: String,
    /// The scale's ends (`1..10`).
    pub lo: i64,
    pub hi: i64,
    /// The period in months, ending on the as-of date.
    pub period: u32,
    pub blocks: Vec<BlockProg>,
}

#[derive(Debug, Clone)]
pub struct BlockProg {
    pub name: String,
    pub label: Option<String>,
    pub weight: Num,
    /// The weight divided by the greatest common divisor of the blocks'
    /// weights (as `Num::raw`): only ratios count, and small numbers keep the
    /// fractions small.
    pub ratio: u128,
    pub items: Vec<ItemProg>,
}

#[derive(Debug, Clone)]
pub struct ItemProg {
    pub name: String,
    pub label: Option<String>,
    pub weight: Num,
    /// As `BlockProg::ratio`, among the block's items.
    pub ratio: u128,
    /// The attribute's slot in the survey kind.
    pub slot: usize,
}

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Positive weights divided by their greatest common divisor.
fn ratios(weights: &[Num]) -> Vec<u128> {
    let raw: Vec<u128> = weights.iter().map(|w| u128::try_from(w.raw()).unwrap_or(0)).collect();
    let g = raw.iter().copied().fold(0, gcd).max(1);
    raw.into_iter().map(|w| w / g).collect()
}

/// Lowers a checked index against its schema (part of `check::program`);
/// check/index.rs has settled every name it looks up.
pub fn compile(ix: &ast::Index, schema: &Schema, period: u32) -> IndexProg {
    let kind = schema
        .kind(&ix.kind.node)
        .expect("checked by check/index.rs (the survey kind is declared) and check/limits.rs (the schema holds it)");
    let attrs = &schema.kind_of(kind).expect("a kind id comes from the schema").attrs;
    let (Some(lo), Some(hi)) = (ix.scale.lo.node.as_int(), ix.scale.hi.node.as_int()) else {
        unreachable!("checked by check/index.rs: the scale is two whole numbers, lowest first")
    };
    let block_ratios = ratios(&ix.blocks.iter().map(|b| b.weight.node).collect::<Vec<_>>());
    let mut blocks = Vec::new();
    for (b, ratio) in ix.blocks.iter().zip(block_ratios) {
        let item_ratios = ratios(&b.items.iter().map(|i| i.weight.node).collect::<Vec<_>>());
        let mut items = Vec::new();
        for (i, ratio) in b.items.iter().zip(item_ratios) {
            let slot = attrs
                .iter()
                .position(|a| a.name == i.name.node)
                .expect("checked by check/index.rs: every item is an attribute of the survey kind");
            items.push(ItemProg {
                name: i.name.node.clone(),
                label: i.label.as_ref().map(|l| l.node.clone()),
                weight: i.weight.node,
                ratio,
                slot,
            });
        }
        blocks.push(BlockProg {
            name: b.name.node.clone(),
            label: b.label.as_ref().map(|l| l.node.clone()),
            weight: b.weight.node,
            ratio,
            items,
        });
    }
    IndexProg {
        name: ix.name.node.clone(),
        label: ix.label.as_ref().map(|l| l.node.clone()),
        kind,
        kind_name: ix.kind.node.clone(),
        lo,
        hi,
        period,
        blocks,
    }
}
