//! Report stage: `rulebook report` of a rulebook holding a satisfaction
//! index (客户满意度指数) — one self-contained page, in the rulebook's
//! Chinese labels: the overall index and, per supply office (each `--by`
//! value), its index with its 95% interval drawn as a bar and whisker, its
//! block scores, and its improvement priority (block weight × gap to 100),
//! then the blocks and items with their weights. Same style as the score
//! report (`html`); values rounded half up to two decimals at output only.

use std::fmt::Write as _;

use super::html::{esc, CSS};
use crate::date::Date;
use crate::eval::Program;
use crate::index::group::{GroupKey, GroupStats, IndexResult};
use crate::index::IndexProg;

/// Everything the index page shows.
pub struct IndexPage<'a> {
    pub prog: &'a Program,
    pub index: &'a IndexProg,
    pub result: &'a IndexResult,
    pub path: &'a str,
    pub as_of: Date,
    /// The run summary line.
    pub summary: &'a str,
}

/// Hundredths as `80.10`.
fn fixed(h: i128) -> String {
    let sign = if h < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", h.unsigned_abs() / 100, h.unsigned_abs() % 100)
}

/// An exact value, rounded half up to hundredths.
fn hundredths(r: &crate::index::big::Ratio) -> i128 {
    i128::try_from(r.hundredths()).expect("an index or block score is at most 100")
}

fn label<'a>(label: &'a Option<String>, name: &'a str) -> &'a str {
    label.as_deref().unwrap_or(name)
}

/// `branch=东城供电所`, or `全部` for everyone.
fn group_name(key: &GroupKey) -> String {
    match key.as_slice() {
        [] => "全部客户".to_string(),
        _ => key
            .iter()
            .map(|(c, v)| format!("{c}: {}", if v.is_empty() { "(无)" } else { v }))
            .collect::<Vec<_>>()
            .join("，"),
    }
}

/// A block's improvement priority in hundredths: weight × (100 − score).
fn priority_value(ix: &IndexProg, g: &GroupStats, block: usize) -> Option<i128> {
    let b = ix.blocks.get(block)?;
    let score = hundredths(g.blocks.get(block)?.as_ref()?);
    // weight is fixed point with six decimals; (100 − score) in hundredths.
    let raw = i128::from(b.weight.raw()) * (10_000 - score);
    Some((raw + 500_000) / 1_000_000)
}

pub fn render(p: &IndexPage<'_>) -> String {
    let ix = p.index;
    let title = format!("{} 报告", p.prog.name);
    let mut out = String::with_capacity(32 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    let overall = p.result.groups.first().map(|(_, g)| g);
    let _ = writeln!(
        out,
        "<p class=\"meta\"><span>评价日期 {}</span><span>规则 {}（指数 {}{}）</span><span>调查期内受访 {} 户</span></p>",
        p.as_of,
        esc(p.path),
        esc(&ix.name),
        ix.label.as_deref().map_or(String::new(), |l| format!(" {}", esc(l))),
        p.result.surveyed
    );
    if let Some(g) = overall {
        out.push_str("<div class=\"cards\">");
        let index = g.index.as_ref().map_or("—".to_string(), |i| fixed(hundredths(i)));
        let interval = g
            .ci95
            .map_or("—".to_string(), |(lo, hi)| format!("{} – {}", fixed(lo), fixed(hi)));
        for (value, name, note) in [
            (index.as_str(), "总体指数", "0–100分"),
            (interval.as_str(), "95%置信区间", "均值 ± 1.96·s/√n"),
            (&g.respondents.to_string(), "受访客户", "有作答的客户"),
            (&g.unanswered.to_string(), "未作答", "调查全部空白"),
        ] {
            let _ = write!(
                out,
                "<div class=\"card\"><b>{}</b>{}<br><small>{}</small></div>",
                esc(value),
                esc(name),
                esc(note)
            );
        }
        out.push_str("</div>\n");
    }
    groups_chart(p, &mut out);
    groups_table(p, &mut out);
    priorities(p, &mut out);
    weights(ix, &mut out);
    let _ = writeln!(
        out,
        "<p class=\"note\">指数与分块得分为0–100分（作答1–10分换算为 (x−1)/9×100），每位受访客户取调查期内最近一次调查，权重按已作答的题目和分块重新归一。两个供电所的置信区间不重叠时，差别才可视为真实差别而非抽样误差。</p>\n<p class=\"note\" id=\"run\">{}</p>\n<p class=\"note\">rulebook {} 生成</p>\n</body>\n</html>",
        esc(p.summary),
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// A group's name, its index and its interval, in hundredths.
type Bar = (String, i128, Option<(i128, i128)>);

/// Each group's index as a horizontal bar on a 0–100 axis, its interval as a whisker.
fn groups_chart(p: &IndexPage<'_>, out: &mut String) {
    let rows: Vec<Bar> = p
        .result
        .groups
        .iter()
        .filter_map(|(k, g)| Some((group_name(k), hundredths(g.index.as_ref()?), g.ci95)))
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push_str("<h2>各组指数</h2>\n");
    let (left, width, row_h) = (220i128, 560i128, 26i128);
    let height = row_h * i128::try_from(rows.len()).unwrap_or(0) + 30;
    let x = |h: i128| left + h.clamp(0, 10_000) * width / 10_000;
    let _ = write!(
        out,
        "<svg class=\"chart\" width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"各组指数\">",
        left + width + 70
    );
    for tick in (0..=100).step_by(20) {
        let tx = x(tick * 100);
        let _ = write!(
            out,
            "<line x1=\"{tx}\" y1=\"0\" x2=\"{tx}\" y2=\"{}\" stroke=\"#d5dbe3\"/><text class=\"c\" x=\"{tx}\" y=\"{}\" text-anchor=\"middle\">{tick}</text>",
            height - 18,
            height - 4
        );
    }
    for (i, (name, h, ci)) in rows.iter().enumerate() {
        let y = i128::try_from(i).unwrap_or(0) * row_h + 4;
        let _ = write!(
            out,
            "<text class=\"c\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{left}\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"#5c6bc0\"/>",
            left - 8,
            y + 15,
            esc(name),
            x(*h) - left,
            row_h - 8
        );
        if let Some((lo, hi)) = ci {
            let mid = y + (row_h - 8) / 2;
            let _ = write!(
                out,
                "<line x1=\"{}\" y1=\"{mid}\" x2=\"{}\" y2=\"{mid}\" stroke=\"#1d2733\" stroke-width=\"1.5\"/><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#1d2733\"/><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#1d2733\"/>",
                x(*lo),
                x(*hi),
                x(*lo),
                mid - 5,
                x(*lo),
                mid + 5,
                x(*hi),
                mid - 5,
                x(*hi),
                mid + 5
            );
        }
        let _ = write!(
            out,
            "<text class=\"v\" x=\"{}\" y=\"{}\">{}</text>",
            x(ci.map_or(*h, |c| c.1.max(*h))) + 6,
            y + 15,
            fixed(*h)
        );
    }
    out.push_str("</svg>\n<p class=\"note\">条形为指数，横线为95%置信区间（不足2名受访客户时不画）。</p>\n");
}

/// One row per group: respondents, index, interval, each block's score, priority order.
fn groups_table(p: &IndexPage<'_>, out: &mut String) {
    let ix = p.index;
    out.push_str("<h2>分组统计</h2>\n<table>\n<tr><th>分组</th><th class=\"n\">受访客户</th><th class=\"n\">未作答</th><th class=\"n\">指数</th><th class=\"n\">95%置信区间</th>");
    for b in &ix.blocks {
        let _ = write!(out, "<th class=\"n\">{}</th>", esc(label(&b.label, &b.name)));
    }
    out.push_str("<th>改进优先级（先→后）</th></tr>\n");
    for (key, g) in &p.result.groups {
        let _ = write!(
            out,
            "<tr><td class=\"nw\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            esc(&group_name(key)),
            g.respondents,
            g.unanswered,
            g.index.as_ref().map_or("—".to_string(), |i| fixed(hundredths(i))),
            g.ci95
                .map_or("—".to_string(), |(lo, hi)| format!("{} – {}", fixed(lo), fixed(hi)))
        );
        for b in &g.blocks {
            let _ = write!(
                out,
                "<td class=\"n\">{}</td>",
                b.as_ref().map_or("—".to_string(), |b| fixed(hundredths(b)))
            );
        }
        let order: Vec<String> = g
            .priority
            .iter()
            .filter_map(|&i| ix.blocks.get(i).map(|b| esc(label(&b.label, &b.name))))
            .collect();
        let _ = writeln!(out, "<td>{}</td></tr>", order.join(" › "));
    }
    out.push_str("</table>\n");
}

/// Per group, what to improve first: each block's weight × gap, highest first.
fn priorities(p: &IndexPage<'_>, out: &mut String) {
    let ix = p.index;
    out.push_str("<h2>改进优先级</h2>\n<p class=\"note\">优先级 = 分块权重 × (100 − 分块得分)：权重大且得分低的分块先改进。</p>\n<div class=\"grid\">\n");
    for (key, g) in &p.result.groups {
        if g.priority.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "<div class=\"dim\"><h3>{}</h3><table><tr><th class=\"n\">#</th><th>分块</th><th class=\"n\">权重</th><th class=\"n\">得分</th><th class=\"n\">优先级</th></tr>",
            esc(&group_name(key))
        );
        for (rank, &b) in g.priority.iter().enumerate() {
            let Some(block) = ix.blocks.get(b) else { continue };
            let score = g.blocks.get(b).and_then(Option::as_ref).map(hundredths);
            let _ = write!(
                out,
                "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                rank + 1,
                esc(label(&block.label, &block.name)),
                block.weight,
                score.map_or("—".to_string(), fixed),
                priority_value(ix, g, b).map_or("—".to_string(), fixed)
            );
        }
        out.push_str("</table></div>\n");
    }
    out.push_str("</div>\n");
}

/// The blocks and items with their weights, as the rulebook sets them.
fn weights(ix: &IndexProg, out: &mut String) {
    out.push_str("<h2>指标与权重</h2>\n<table>\n<tr><th>分块</th><th class=\"n\">分块权重</th><th>题目</th><th class=\"n\">题目权重</th></tr>\n");
    for b in &ix.blocks {
        for (i, item) in b.items.iter().enumerate() {
            out.push_str("<tr>");
            if i == 0 {
                let _ = write!(
                    out,
                    "<td rowspan=\"{}\">{}</td><td class=\"n\" rowspan=\"{}\">{}</td>",
                    b.items.len(),
                    esc(label(&b.label, &b.name)),
                    b.items.len(),
                    b.weight
                );
            }
            let _ = writeln!(
                out,
                "<td>{}</td><td class=\"n\">{}</td></tr>",
                esc(label(&item.label, &item.name)),
                item.weight
            );
        }
    }
    out.push_str("</table>\n");
}
