//! Index stage, comparing two index rulebooks on the same surveys (`rulebook
//! diff` when both hold only an index): the weights that changed, and for
//! each group how its index and its priority order move.

use super::big::Ratio;
use super::group::{GroupKey, GroupStats, IndexResult};
use super::report::{group_json, number, Hundredths};
use super::IndexProg;
use crate::date::Date;
use crate::num::Num;
use crate::report::{display_width, open_object, pad, to_json, Ordered};

/// A weight that differs: `supply` or `supply.reliability`, old and new
/// (`None`: the block or item is not in that rulebook).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WeightChange {
    pub name: String,
    pub old: Option<Num>,
    pub new: Option<Num>,
}

/// Every block and item weight that differs, old rulebook's order first.
pub fn weight_changes(old: &IndexProg, new: &IndexProg) -> Vec<WeightChange> {
    fn weights(ix: &IndexProg) -> Vec<(String, Num)> {
        let mut out = Vec::new();
        for b in &ix.blocks {
            out.push((b.name.clone(), b.weight));
            out.extend(b.items.iter().map(|i| (format!("{}.{}", b.name, i.name), i.weight)));
        }
        out
    }
    let (o, n) = (weights(old), weights(new));
    let find = |list: &[(String, Num)], name: &str| list.iter().find(|(k, _)| k == name).map(|(_, w)| *w);
    let mut out: Vec<WeightChange> = o
        .iter()
        .filter_map(|(name, w)| {
            let new = find(&n, name);
            (new != Some(*w)).then(|| WeightChange {
                name: name.clone(),
                old: Some(*w),
                new,
            })
        })
        .collect();
    out.extend(
        n.iter()
            .filter(|(name, _)| find(&o, name).is_none())
            .map(|(name, w)| WeightChange {
                name: name.clone(),
                old: None,
                new: Some(*w),
            }),
    );
    out
}

/// One group under both rulebooks.
pub struct GroupMove<'a> {
    pub key: &'a GroupKey,
    pub old: Option<&'a GroupStats>,
    pub new: Option<&'a GroupStats>,
}

impl GroupMove<'_> {
    /// new − old, in hundredths rounded half up, when both have an index.
    pub fn change(&self) -> Option<i128> {
        let (o, n) = (self.old?.index.as_ref()?, self.new?.index.as_ref()?);
        Some(n.diff_hundredths(o))
    }

    pub fn priority_moved(&self, old: &IndexProg, new: &IndexProg) -> bool {
        names(old, self.old) != names(new, self.new)
    }
}

fn names(ix: &IndexProg, g: Option<&GroupStats>) -> Vec<String> {
    g.map(|g| {
        g.priority
            .iter()
            .filter_map(|&i| ix.blocks.get(i).map(|b| b.name.clone()))
            .collect()
    })
    .unwrap_or_default()
}

fn labels(ix: &IndexProg, g: Option<&GroupStats>) -> String {
    let Some(g) = g else { return "—".into() };
    let names: Vec<String> = g
        .priority
        .iter()
        .filter_map(|&i| {
            ix.blocks
                .get(i)
                .map(|b| b.label.clone().unwrap_or_else(|| b.name.clone()))
        })
        .collect();
    names.join(" > ")
}

/// The groups of both results, paired by key: the overall group first, then byte order.
pub fn pair<'a>(old: &'a IndexResult, new: &'a IndexResult) -> Vec<GroupMove<'a>> {
    let mut keys: Vec<&GroupKey> = old.groups.iter().chain(&new.groups).map(|(k, _)| k).collect();
    keys.sort_by(|a, b| (!a.is_empty(), *a).cmp(&(!b.is_empty(), *b)));
    keys.dedup();
    keys.into_iter()
        .map(|key| GroupMove {
            key,
            old: old.groups.iter().find(|(k, _)| k == key).map(|(_, g)| g),
            new: new.groups.iter().find(|(k, _)| k == key).map(|(_, g)| g),
        })
        .collect()
}

fn rounded(r: Option<&Ratio>) -> Option<i128> {
    r.map(|r| i128::try_from(r.hundredths()).unwrap_or(i128::MAX))
}

fn signed(h: i128) -> String {
    if h > 0 {
        format!("+{}", number(h))
    } else {
        number(h)
    }
}

fn weight(w: Option<Num>) -> String {
    w.map_or("—".into(), |w| w.to_string())
}

/// The two rulebooks' names and results.
pub struct Sides<'a> {
    pub old_path: &'a str,
    pub new_path: &'a str,
    pub old: &'a IndexProg,
    pub new: &'a IndexProg,
    pub old_result: &'a IndexResult,
    pub new_result: &'a IndexResult,
    pub as_of: Date,
}

/// The table for people: weight changes, then one row per group.
pub fn table(s: &Sides<'_>) -> String {
    let mut out = format!("满意度指数对比 {} → {}，截至 {}\n", s.old_path, s.new_path, s.as_of);
    let changes = weight_changes(s.old, s.new);
    if changes.is_empty() {
        out.push_str("\n权重未变\n");
    } else {
        out.push_str("\n权重变化\n");
        let w = changes.iter().map(|c| display_width(&c.name)).max().unwrap_or(0);
        for c in &changes {
            out.push_str(&format!(
                "  {}  {} → {}\n",
                pad(&c.name, w),
                weight(c.old),
                weight(c.new)
            ));
        }
    }
    let mut rows = vec![vec![
        "分组".to_string(),
        "受访客户".to_string(),
        "原指数".to_string(),
        "新指数".to_string(),
        "变化".to_string(),
        "原优先级".to_string(),
        "新优先级".to_string(),
    ]];
    for m in pair(s.old_result, s.new_result) {
        let group = match m.key.as_slice() {
            [] => "全部".to_string(),
            key => key
                .iter()
                .map(|(c, v)| format!("{c}={}", if v.is_empty() { "(无)" } else { v }))
                .collect::<Vec<_>>()
                .join(" "),
        };
        let n = m.new.or(m.old).map_or(0, |g| g.respondents);
        let index = |g: Option<&GroupStats>| {
            rounded(g.and_then(|g| g.index.as_ref())).map_or("—".into(), |h| format!("{}.{:02}", h / 100, h % 100))
        };
        let moved = if m.priority_moved(s.old, s.new) { " *" } else { "" };
        rows.push(vec![
            group,
            n.to_string(),
            index(m.old),
            index(m.new),
            m.change().map_or("—".into(), signed),
            labels(s.old, m.old),
            format!("{}{moved}", labels(s.new, m.new)),
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|x| display_width(x))
                .max()
                .unwrap_or(0)
        })
        .collect();
    out.push('\n');
    for row in &rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(x, &w)| pad(x, w)).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str("\n* 改进优先级的顺序有变化\n");
    out
}

/// The same as JSON: `{"old","new","as_of","weights":[…],"groups":[…]}`,
/// one group a line.
pub fn json(s: &Sides<'_>) -> String {
    let head = Head {
        old: s.old_path,
        new: s.new_path,
        as_of: s.as_of,
        weights: weight_changes(s.old, s.new),
    };
    let side = |ix: &'_ IndexProg, g: Option<&'_ GroupStats>| {
        g.map(|g| SideJson {
            respondents: g.respondents,
            index: rounded(g.index.as_ref()).map(Hundredths),
            priority: names(ix, Some(g)),
        })
    };
    let groups: Vec<String> = pair(s.old_result, s.new_result)
        .iter()
        .map(|m| {
            to_json(&GroupJson {
                group: group_json(m.key),
                old: side(s.old, m.old),
                new: side(s.new, m.new),
                change: m.change().map(Hundredths),
                priority_moved: m.priority_moved(s.old, s.new),
            })
        })
        .collect();
    format!("{},\"groups\":[\n{}\n]}}\n", open_object(&head), groups.join(",\n"))
}

/// The head of the JSON comparison; the groups follow, one a line.
#[derive(serde::Serialize)]
struct Head<'a> {
    old: &'a str,
    new: &'a str,
    as_of: Date,
    weights: Vec<WeightChange>,
}

#[derive(serde::Serialize)]
struct GroupJson<'a> {
    group: Ordered<&'a str, &'a str>,
    old: Option<SideJson>,
    new: Option<SideJson>,
    change: Option<Hundredths>,
    priority_moved: bool,
}

/// A group under one rulebook.
#[derive(serde::Serialize)]
struct SideJson {
    respondents: u64,
    index: Option<Hundredths>,
    priority: Vec<String>,
}
