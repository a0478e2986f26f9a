//! Test stage: which rules the cases exercise. Every rule of every class's
//! dimensions is an *item*, named by its clause ID; a tiered rule whose
//! clause range names one clause per tier (`P1-P3` with three tiers) is one
//! item per tier (`P1`, `P2`, `P3`). Overrides are items, and so is each
//! band of the grades (`G1 AAA`). A case *fires* an item when the ledger
//! line it produces gives or takes points (an assessed dimension: when an
//! assessment was found; an override or band: when it set the grade).

use crate::check::program::{DimSource, RuleProg, TierProg};
use crate::eval::{Line, Outcome, Program};
use crate::num::Num;

/// One thing a case can exercise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub class: u16,
    /// The dimension; `None` for the rules on the total and the grade
    /// (overrides and bands), told apart by `total`.
    pub dim: Option<usize>,
    /// A rule on the total (`rules on total`).
    pub total: bool,
    /// `P2`, `S7`, `T2`, `G1 AA`.
    pub id: String,
    /// Other names that refer to it in `fires`/`silent`: `P1-P3`, `G1`.
    pub aliases: Vec<String>,
}

impl Item {
    pub fn answers_to(&self, name: &str) -> bool {
        self.id == name || self.aliases.iter().any(|a| a == name)
    }
}

/// What one case did to one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub item: Item,
    /// Points given or taken (or the grade set); false for a line worth 0.
    pub fired: bool,
    /// The line's points (an assessed dimension: its value; the grade: 0).
    pub points: Num,
}

fn tiers(r: &RuleProg) -> Option<&[TierProg]> {
    Some(r.form.tiers()).filter(|t| !t.is_empty())
}

/// How a rule is named: its clause, else its label, else its position.
fn rule_name(r: &RuleProg, index: usize) -> String {
    r.meta
        .clause
        .clone()
        .or_else(|| r.meta.label.clone())
        .unwrap_or_else(|| format!("rule {}", index + 1))
}

/// The clause of each tier: the tiers' own (`2 => 20 P2`), else the rule's
/// clause range when it names one per tier.
fn tier_ids(prog: &Program, r: &RuleProg) -> Option<Vec<String>> {
    if let Some(own) = tiers(r)
        .filter(|t| !t.is_empty())
        .and_then(|t| t.iter().map(|t| t.clause.map(|c| prog.clause(c).to_string())).collect())
    {
        return Some(own);
    }
    let ids = r.meta.ids.clone();
    (ids.len() > 1 && tiers(r).is_some_and(|t| t.len() == ids.len())).then_some(ids)
}

/// The items of one rule: `(id, aliases)`.
fn rule_items(prog: &Program, r: &RuleProg, index: usize) -> Vec<(String, Vec<String>)> {
    let name = rule_name(r, index);
    match tier_ids(prog, r) {
        Some(ids) => ids.into_iter().map(|id| (id, vec![name.clone()])).collect(),
        None => {
            let aliases = r.meta.ids.iter().filter(|a| **a != name).cloned().collect();
            vec![(name, aliases)]
        }
    }
}

/// Which tier produced a ledger line of a tiered rule.
fn tier_of(r: &RuleProg, line: &Line) -> Option<usize> {
    tiers(r).and(line.tier)
}

fn grade_name(prog: &Program) -> String {
    prog.grades_meta.clause.clone().unwrap_or_else(|| "grade".into())
}

/// Every item of the program, class by class, dimension by dimension, then the grade.
pub fn items(prog: &Program) -> Vec<Item> {
    let mut out = Vec::new();
    let g = grade_name(prog);
    for (c, class) in prog.classes.iter().enumerate() {
        let class_ix = u16::try_from(c).unwrap_or(u16::MAX);
        for (d, dim) in class.dims.iter().enumerate() {
            match &dim.source {
                DimSource::Rules(rules) => {
                    for (i, r) in rules.iter().enumerate() {
                        out.extend(rule_items(prog, r, i).into_iter().map(|(id, aliases)| Item {
                            class: class_ix,
                            dim: Some(d),
                            total: false,
                            id,
                            aliases,
                        }));
                    }
                }
                DimSource::Assessed(a) => {
                    let id = a.meta.clause.clone().unwrap_or_else(|| dim.name.clone());
                    out.push(Item {
                        class: class_ix,
                        dim: Some(d),
                        total: false,
                        id,
                        aliases: vec![],
                    });
                }
            }
        }
        for (i, r) in prog.total_rules.iter().enumerate() {
            out.extend(rule_items(prog, r, i).into_iter().map(|(id, aliases)| Item {
                class: class_ix,
                dim: None,
                total: true,
                id,
                aliases,
            }));
        }
        for (i, o) in class.overrides.iter().enumerate() {
            let id = o.meta.clause.clone().unwrap_or_else(|| format!("override {}", i + 1));
            out.push(Item {
                class: class_ix,
                dim: None,
                total: false,
                id,
                aliases: vec![],
            });
        }
        for b in &prog.bands {
            out.push(Item {
                class: class_ix,
                dim: None,
                total: false,
                id: format!("{g} {}", b.grade),
                aliases: vec![g.clone()],
            });
        }
    }
    out
}

/// What one outcome (evaluated with its ledger) did to the items of its class.
pub fn hits(prog: &Program, o: &Outcome) -> Vec<Hit> {
    let mut out = Vec::new();
    let Some(class) = prog.classes.get(usize::from(o.class)) else {
        return out;
    };
    for (d, (dim, result)) in class.dims.iter().zip(&o.dims).enumerate() {
        for line in &result.ledger {
            let (id, aliases, fired) = match (&dim.source, line.rule) {
                (DimSource::Rules(rules), Some(ri)) => {
                    let Some(r) = rules.get(ri) else { continue };
                    match rule_hit(prog, r, ri, line) {
                        Some(hit) => hit,
                        None => continue,
                    }
                }
                (DimSource::Assessed(a), _) => (
                    a.meta.clause.clone().unwrap_or_else(|| dim.name.clone()),
                    vec![],
                    !line.events.is_empty(),
                ),
                (DimSource::Rules(_), None) => continue,
            };
            out.push(Hit {
                item: Item {
                    class: o.class,
                    dim: Some(d),
                    total: false,
                    id,
                    aliases,
                },
                fired,
                points: line.points,
            });
        }
    }
    for line in &o.total_ledger {
        let Some((ri, r)) = line.rule.and_then(|ri| prog.total_rules.get(ri).map(|r| (ri, r))) else {
            continue;
        };
        if let Some((id, aliases, fired)) = rule_hit(prog, r, ri, line) {
            out.push(Hit {
                item: Item {
                    class: o.class,
                    dim: None,
                    total: true,
                    id,
                    aliases,
                },
                fired,
                points: line.points,
            });
        }
    }
    if let Some((i, ov)) = o.by_override.and_then(|i| class.overrides.get(i).map(|ov| (i, ov))) {
        let id = ov.meta.clause.clone().unwrap_or_else(|| format!("override {}", i + 1));
        out.push(Hit {
            item: Item {
                class: o.class,
                dim: None,
                total: false,
                id,
                aliases: vec![],
            },
            fired: true,
            points: Num::ZERO,
        });
    } else if let Some(b) = prog.bands.get(o.grade) {
        let g = grade_name(prog);
        out.push(Hit {
            item: Item {
                class: o.class,
                dim: None,
                total: false,
                id: format!("{g} {}", b.grade),
                aliases: vec![g],
            },
            fired: true,
            points: Num::ZERO,
        });
    }
    out
}

/// The item a ledger line of rule `r` (at `index`) hits: `(id, aliases, fired)`.
fn rule_hit(prog: &Program, r: &RuleProg, index: usize, line: &Line) -> Option<(String, Vec<String>, bool)> {
    let fired = line.points != Num::ZERO;
    match (tier_ids(prog, r), tier_of(r, line)) {
        (Some(ids), Some(t)) => ids.get(t).map(|id| (id.clone(), vec![rule_name(r, index)], fired)),
        _ => rule_items(prog, r, index)
            .into_iter()
            .next()
            .map(|(id, aliases)| (id, aliases, fired)),
    }
}

/// Every item with the number of outcomes that fired it.
pub fn tally<'o>(prog: &Program, outcomes: impl IntoIterator<Item = &'o Outcome>) -> Vec<(Item, usize)> {
    let mut counts: Vec<(Item, usize)> = items(prog).into_iter().map(|i| (i, 0)).collect();
    for o in outcomes {
        let mut seen: Vec<Item> = Vec::new();
        for h in hits(prog, o).into_iter().filter(|h| h.fired) {
            if seen.contains(&h.item) {
                continue;
            }
            if let Some((_, n)) = counts.iter_mut().find(|(i, _)| {
                i.class == h.item.class && i.dim == h.item.dim && i.total == h.item.total && i.id == h.item.id
            }) {
                *n += 1;
            }
            seen.push(h.item);
        }
    }
    counts
}

/// Where an item lives, for people: `power payment`, `lighting grade`.
pub fn place(prog: &Program, item: &Item) -> (String, String) {
    let class = prog.classes.get(usize::from(item.class));
    let class_name = class.map_or(String::new(), |c| c.name.clone());
    let dim = match item.dim {
        Some(d) => class
            .and_then(|c| c.dims.get(d))
            .map_or(String::new(), |d| d.name.clone()),
        None if item.total => "total".into(),
        None => "grade".into(),
    };
    (class_name, dim)
}
