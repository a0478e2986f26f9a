//! Index stage, rendering: one JSON object per group (`--format jsonl`, the
//! pinned shape of `csi.md`), the same in one document (`json`), one CSV row
//! per group, and a table with Chinese headings for people.

use super::group::{GroupKey, GroupStats, IndexResult};
use super::IndexProg;
use crate::date::Date;
use crate::report::{csv_record, display_width, open_object, pad, to_json, Ordered};

/// Hundredths as a JSON number: `8010` → `80.1`, `-5` → `-0.05`, `8000` → `80`.
pub fn number(h: i128) -> String {
    let sign = if h < 0 { "-" } else { "" };
    let (whole, frac) = (h.unsigned_abs() / 100, h.unsigned_abs() % 100);
    match frac {
        0 => format!("{sign}{whole}"),
        f if f % 10 == 0 => format!("{sign}{whole}.{}", f / 10),
        f => format!("{sign}{whole}.{f:02}"),
    }
}

/// An exact value rounded half up to hundredths.
fn rounded(r: &super::big::Ratio) -> i128 {
    i128::try_from(r.hundredths()).unwrap_or(i128::MAX)
}

/// Hundredths as a JSON number, written as `number` writes them.
#[derive(Clone, Copy)]
pub struct Hundredths(pub i128);

impl serde::Serialize for Hundredths {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // An arbitrary-precision JSON number: serde_json writes the text as is.
        serde_json::Number::from_string_unchecked(number(self.0)).serialize(s)
    }
}

/// A group's key as a JSON object: `{"branch":"东城"}`.
pub fn group_json(key: &GroupKey) -> Ordered<&str, &str> {
    Ordered(key.iter().map(|(c, v)| (c.as_str(), v.as_str())).collect())
}

/// One group, the pinned object of `csi.md`.
#[derive(serde::Serialize)]
struct GroupJson<'a> {
    group: Ordered<&'a str, &'a str>,
    respondents: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<Hundredths>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ci95: Option<[Hundredths; 2]>,
    blocks: Ordered<&'a str, Hundredths>,
    priority: Vec<&'a str>,
    unanswered: u64,
}

/// One group as a JSON object (a line of `--format jsonl`).
pub fn json_object(prog: &IndexProg, key: &GroupKey, g: &GroupStats) -> String {
    let blocks = prog
        .blocks
        .iter()
        .zip(&g.blocks)
        .filter_map(|(b, score)| Some((b.name.as_str(), Hundredths(rounded(score.as_ref()?)))))
        .collect();
    to_json(&GroupJson {
        group: group_json(key),
        respondents: g.respondents,
        index: g.index.as_ref().map(|ix| Hundredths(rounded(ix))),
        ci95: g.ci95.map(|(lo, hi)| [Hundredths(lo), Hundredths(hi)]),
        blocks: Ordered(blocks),
        priority: g
            .priority
            .iter()
            .filter_map(|&i| prog.blocks.get(i).map(|b| b.name.as_str()))
            .collect(),
        unanswered: g.unanswered,
    })
}

pub fn jsonl(prog: &IndexProg, r: &IndexResult) -> String {
    r.groups.iter().map(|(k, g)| json_object(prog, k, g) + "\n").collect()
}

/// The head of `--format json`; the groups follow, one a line.
#[derive(serde::Serialize)]
struct Head<'a> {
    standard: &'a str,
    index: &'a str,
    as_of: Date,
    surveyed: u64,
}

pub fn json(prog: &IndexProg, r: &IndexResult, standard: &str, as_of: Date) -> String {
    let head = Head {
        standard,
        index: &prog.name,
        as_of,
        surveyed: r.surveyed,
    };
    let groups: Vec<String> = r.groups.iter().map(|(k, g)| json_object(prog, k, g)).collect();
    format!("{},\"groups\":[\n{}\n]}}\n", open_object(&head), groups.join(",\n"))
}

/// `column,value,respondents,unanswered,index,ci95_low,ci95_high,<block>…,priority`;
/// empty cells where a value is absent, the priority as block names separated by spaces.
pub fn csv(prog: &IndexProg, r: &IndexResult) -> String {
    let head = [
        "column",
        "value",
        "respondents",
        "unanswered",
        "index",
        "ci95_low",
        "ci95_high",
    ];
    let blocks = prog.blocks.iter().map(|b| b.name.as_str());
    let mut out = csv_record(head.into_iter().chain(blocks).chain(["priority"]));
    out.push('\n');
    for (key, g) in &r.groups {
        let (col, val) = key.first().map_or(("", ""), |(c, v)| (c.as_str(), v.as_str()));
        let mut cells = vec![
            col.to_string(),
            val.to_string(),
            g.respondents.to_string(),
            g.unanswered.to_string(),
            g.index.as_ref().map_or(String::new(), |i| number(rounded(i))),
            g.ci95.map_or(String::new(), |c| number(c.0)),
            g.ci95.map_or(String::new(), |c| number(c.1)),
        ];
        cells.extend(
            g.blocks
                .iter()
                .map(|b| b.as_ref().map_or(String::new(), |b| number(rounded(b)))),
        );
        let priority: Vec<&str> = g
            .priority
            .iter()
            .filter_map(|&i| prog.blocks.get(i).map(|b| b.name.as_str()))
            .collect();
        cells.push(priority.join(" "));
        out.push_str(&csv_record(cells));
        out.push('\n');
    }
    out
}

/// Two decimals, always: `80.10`.
fn fixed(h: i128) -> String {
    let sign = if h < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", h.unsigned_abs() / 100, h.unsigned_abs() % 100)
}

/// The table for people: one row per group, Chinese headings.
pub fn table(prog: &IndexProg, r: &IndexResult, title: &str, as_of: Date) -> String {
    let name = |label: &Option<String>, name: &str| label.clone().unwrap_or_else(|| name.to_string());
    let mut head = vec![
        "分组".to_string(),
        "受访客户".to_string(),
        "未作答".to_string(),
        "指数".to_string(),
        "95%置信区间".to_string(),
    ];
    head.extend(prog.blocks.iter().map(|b| name(&b.label, &b.name)));
    head.push("改进优先级(先→后)".to_string());
    let mut rows = vec![head];
    for (key, g) in &r.groups {
        let group = match key.as_slice() {
            [] => "全部".to_string(),
            _ => key
                .iter()
                .map(|(c, v)| format!("{c}={}", if v.is_empty() { "(无)" } else { v }))
                .collect::<Vec<_>>()
                .join(" "),
        };
        let mut row = vec![
            group,
            g.respondents.to_string(),
            g.unanswered.to_string(),
            g.index.as_ref().map_or("—".into(), |i| fixed(rounded(i))),
            g.ci95
                .map_or("—".into(), |(lo, hi)| format!("[{}, {}]", fixed(lo), fixed(hi))),
        ];
        row.extend(
            g.blocks
                .iter()
                .map(|b| b.as_ref().map_or("—".into(), |b| fixed(rounded(b)))),
        );
        let priority: Vec<String> = g
            .priority
            .iter()
            .filter_map(|&i| prog.blocks.get(i).map(|b| name(&b.label, &b.name)))
            .collect();
        row.push(priority.join(" > "));
        rows.push(row);
    }
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| display_width(s))
                .max()
                .unwrap_or(0)
        })
        .collect();
    // The index's label only when it says more than the title.
    let label = match &prog.label {
        Some(l) if !title.contains(l.as_str()) => format!("「{l}」"),
        _ => String::new(),
    };
    let mut out = format!("{title} · 指数 {}{label} · 截至 {as_of}\n", prog.name);
    for row in &rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(s, &w)| pad(s, w)).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(
        "指数与分块得分为0–100分；区间为均值±1.96·s/√n（不足2名受访客户时不计）；改进优先级 = 分块权重 × (100 − 分块得分)，由高到低。\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_plain_json() {
        assert_eq!(number(8010), "80.1");
        assert_eq!(number(8000), "80");
        assert_eq!(number(7533), "75.33");
        assert_eq!(number(5), "0.05");
        assert_eq!(number(-5), "-0.05");
        assert_eq!(number(-150), "-1.5");
        assert_eq!(fixed(8010), "80.10");
    }
}
