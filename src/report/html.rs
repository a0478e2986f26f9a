//! Report stage: `rulebook report`, one self-contained HTML page for people
//! (inline CSS and SVG, no script, nothing fetched), in the rulebook's
//! Chinese labels: the grade distribution, each dimension's spread, the
//! per-group table and, given a revision, its impact — the migration heat
//! map, upgrades and downgrades by group, customers newly facing measures,
//! the largest movers with the clauses behind each and their two ledgers
//! side by side, and the gate verdicts. Printable.

use std::fmt::Write as _;

use super::columns::band_measures;
use super::summary::{shown, DimStats, Distribution};
use super::svg::{self, Series};
use crate::date::Date;
use crate::diff::committee;
use crate::diff::table::{class, grade, signed};
use crate::diff::{percent, Cause, ChangeKind, CustomerDiff, Key, Report};
use crate::eval::Program;
use crate::num::Num;

/// Text made safe for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Everything the page shows.
pub struct Page<'a> {
    /// The rulebook whose scores the distributions show (the new one, given a revision).
    pub prog: &'a Program,
    pub path: &'a str,
    pub as_of: Date,
    pub dist: &'a Distribution,
    pub dims: &'a DimStats,
    /// The run summary line.
    pub summary: &'a str,
    /// Given a second rulebook: the revision's impact.
    pub revision: Option<&'a Report<'a>>,
}

/// The page's style sheet (the index page shares it).
pub const CSS: &str = r#"
:root { --fg:#1d2733; --muted:#5b6675; --line:#d5dbe3; --head:#eef3f9; --up:#2e7d32; --down:#c62828; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC","Hiragino Sans GB",sans-serif;
       color: var(--fg); margin: 0 auto; max-width: 1180px; padding: 24px 32px 48px; line-height: 1.5; font-size: 14px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--fg); break-after: avoid; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: var(--muted); margin: 0 0 12px; }
.meta span { margin-right: 18px; white-space: nowrap; }
table { border-collapse: collapse; margin: 6px 0 12px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
td.n, th.n { text-align: right; white-space: nowrap; }
td.nw { white-space: nowrap; }
tr.diff td { background: #fff4e5; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 140px; }
.card b { display: block; font-size: 22px; }
.card small { color: var(--muted); }
.verdict { border-radius: 6px; padding: 10px 14px; margin: 12px 0; font-weight: 600; }
.verdict.pass { background: #e8f5e9; border: 1px solid var(--up); }
.verdict.fail { background: #ffebee; border: 1px solid var(--down); }
.verdict div { font-weight: normal; }
.up { color: var(--up); } .down { color: var(--down); }
.grid { display: flex; flex-wrap: wrap; gap: 16px; }
.dim { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; break-inside: avoid; }
.dim h3 { margin: 0 0 2px; } .dim p { margin: 0; color: var(--muted); font-size: 12px; }
svg.chart text.v { font-size: 11px; fill: #333; }
svg.chart text.c { font-size: 12px; fill: #333; }
svg { font-family: inherit; }
.heat td { text-align: center; min-width: 52px; }
.heat th.corner { font-weight: normal; color: var(--muted); font-size: 12px; }
details { margin: 4px 0 8px; }
summary { cursor: pointer; color: #1a5fb4; }
.note { color: var(--muted); font-size: 12px; }
.section { break-inside: auto; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2, h3 { break-after: avoid; }
  table, .dim, .cards, svg { break-inside: avoid; }
  details > summary { color: var(--fg); }
  details::details-content { content-visibility: visible; display: block; }
  details:not([open]) > *:not(summary) { display: block; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// The whole page.
pub fn render(p: &Page<'_>) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let title = match p.revision {
        Some(_) => format!("{} 修订影响报告", p.prog.name),
        None => format!("{} 评分报告", p.prog.name),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    let _ = writeln!(out, "<h1>{}</h1>", esc(&title));
    header(p, &mut out);
    if let Some(r) = p.revision {
        verdict(r, &mut out);
        headline(r, &mut out);
    }
    grades(p, &mut out);
    groups(p, &mut out);
    dimensions(p, &mut out);
    if let Some(r) = p.revision {
        heat_map(r, &mut out);
        group_moves(r, &mut out);
        newly(r, &mut out);
        movers(r, &mut out);
        changes(r, &mut out);
    }
    let _ = writeln!(
        out,
        "<p class=\"note\" id=\"run\">{}</p>\n<p class=\"note\">rulebook {} 生成</p>\n</body>\n</html>",
        esc(p.summary),
        env!("CARGO_PKG_VERSION")
    );
    out
}

fn version(prog: &Program) -> String {
    prog.version.as_deref().map_or(String::new(), |v| format!(" {v}"))
}

fn header(p: &Page<'_>, out: &mut String) {
    out.push_str("<p class=\"meta\">");
    let _ = write!(out, "<span>评价日期 {}</span>", p.as_of);
    match p.revision {
        Some(r) => {
            let _ = write!(
                out,
                "<span>现行规则 {}（{}{}）</span><span>修订规则 {}（{}{}）</span>",
                esc(r.old.path),
                esc(&r.old.prog.name),
                esc(&version(r.old.prog)),
                esc(r.new.path),
                esc(&r.new.prog.name),
                esc(&version(r.new.prog))
            );
        }
        None => {
            let _ = write!(
                out,
                "<span>规则 {}（{}{}）</span>",
                esc(p.path),
                esc(&p.prog.name),
                esc(&version(p.prog))
            );
        }
    }
    let _ = writeln!(out, "<span>客户 {} 户</span></p>", p.dist.customers());
}

fn verdict(r: &Report<'_>, out: &mut String) {
    let imp = r.impact;
    let word = |fails: bool| if fails { "不通过" } else { "通过" };
    let mut lines: Vec<(bool, String)> = Vec::new();
    if let Some((g, fails)) = r.gate {
        let n = imp.gated();
        lines.push((
            fails,
            format!(
                "等级变化 {n} 户（{}%），上限 {g}：{}",
                percent(n, imp.customers),
                word(fails)
            ),
        ));
    }
    for v in r.gates {
        let text = match v.kind {
            committee::GateKind::Downgrades => format!(
                "降级 {} 户（{}%），上限 {}：{}",
                v.counted,
                percent(v.counted, imp.customers),
                v.limit,
                word(v.fails)
            ),
            committee::GateKind::Into => format!(
                "新降至 {} 级或更低 {} 户，上限 0：{}",
                v.limit,
                v.counted,
                word(v.fails)
            ),
        };
        lines.push((v.fails, text));
    }
    if lines.is_empty() {
        return;
    }
    let fails = lines.iter().any(|l| l.0);
    let _ = write!(
        out,
        "<div class=\"verdict {}\" id=\"gate\">上线闸门：{}",
        if fails { "fail" } else { "pass" },
        if fails {
            "不通过（FAIL）"
        } else {
            "通过（pass）"
        }
    );
    for (_, l) in &lines {
        let _ = write!(out, "<div>{}</div>", esc(l));
    }
    out.push_str("</div>\n");
}

fn card(out: &mut String, value: &str, label: &str, note: &str) {
    let _ = write!(
        out,
        "<div class=\"card\"><b>{}</b>{}<br><small>{}</small></div>",
        esc(value),
        esc(label),
        esc(note)
    );
}

fn headline(r: &Report<'_>, out: &mut String) {
    let imp = r.impact;
    let mv = committee::moves(r.pair, &imp.matrix);
    let share = |n: u64| format!("{}%", percent(n, imp.customers));
    out.push_str("<div class=\"cards\" id=\"impact\">");
    card(out, &imp.customers.to_string(), "客户", "日志与名册中的全部客户");
    card(
        out,
        &imp.grade_changed.to_string(),
        "等级变化",
        &share(imp.grade_changed),
    );
    card(out, &mv.upgrades.to_string(), "升级", &share(mv.upgrades));
    card(out, &mv.downgrades.to_string(), "降级", &share(mv.downgrades));
    card(
        out,
        &imp.score_changed.to_string(),
        "分数变化、等级不变",
        &share(imp.score_changed),
    );
    card(
        out,
        &mv.newly_measures.to_string(),
        "新增面临措施",
        &share(mv.newly_measures),
    );
    out.push_str("</div>\n");
}

/// Per new grade: (name, old count, new count).
fn grade_counts(p: &Page<'_>) -> Vec<(String, Option<u64>, u64)> {
    match p.revision {
        None => p
            .dist
            .grades
            .iter()
            .zip(&p.dist.total)
            .map(|(g, n)| (g.clone(), None, *n))
            .collect(),
        Some(r) => {
            let m = &r.impact.matrix;
            let (po, pn) = (r.old.prog, r.new.prog);
            pn.bands
                .iter()
                .enumerate()
                .map(|(j, b)| {
                    let new: u64 = m.iter().filter_map(|row| row.get(j)).sum();
                    let old = po
                        .bands
                        .iter()
                        .position(|ob| ob.grade == b.grade)
                        .and_then(|i| m.get(i))
                        .map(|row| row.iter().take(pn.bands.len()).sum::<u64>() + row.last().copied().unwrap_or(0));
                    (b.grade.clone(), Some(old.unwrap_or(0)), new)
                })
                .collect()
        }
    }
}

fn grades(p: &Page<'_>, out: &mut String) {
    out.push_str("<section id=\"grades\"><h2>等级分布</h2>\n");
    let counts = grade_counts(p);
    let cats: Vec<String> = counts.iter().map(|c| c.0.clone()).collect();
    let mut series = Vec::new();
    if p.revision.is_some() {
        series.push(Series {
            name: "现行规则",
            color: "#90a4ae",
            values: counts.iter().map(|c| c.1.unwrap_or(0)).collect(),
        });
        series.push(Series {
            name: "修订规则",
            color: "#1565c0",
            values: counts.iter().map(|c| c.2).collect(),
        });
    } else {
        series.push(Series {
            name: "客户数",
            color: "#1565c0",
            values: counts.iter().map(|c| c.2).collect(),
        });
    }
    out.push_str(&svg::columns(&cats, &series, 640, 260));
    out.push_str("\n<table><tr><th>等级</th>");
    if p.revision.is_some() {
        out.push_str("<th class=\"n\">现行规则</th>");
    }
    out.push_str("<th class=\"n\">客户数</th><th class=\"n\">占比</th><th>措施</th></tr>\n");
    let total = p.dist.customers();
    for (j, (g, old, new)) in counts.iter().enumerate() {
        let _ = write!(out, "<tr><td>{}</td>", esc(g));
        if let Some(o) = old {
            let _ = write!(out, "<td class=\"n\">{o}</td>");
        }
        let _ = writeln!(
            out,
            "<td class=\"n\">{new}</td><td class=\"n\">{}%</td><td>{}</td></tr>",
            percent(*new, total),
            esc(band_measures(p.prog, j).unwrap_or(""))
        );
    }
    out.push_str("</table></section>\n");
}

/// A class shown as `动力户（power）`.
fn class_shown(prog: &Program, name: &str) -> String {
    match prog
        .classes
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.label.as_ref())
    {
        Some(l) => format!("{l}（{name}）"),
        None => shown(name).to_string(),
    }
}

fn groups(p: &Page<'_>, out: &mut String) {
    out.push_str("<section id=\"groups\"><h2>分组统计</h2>\n");
    let d = p.dist;
    for g in &d.groupings {
        let label = if g.column == "class" {
            "类别"
        } else {
            g.column.as_str()
        };
        let _ = write!(
            out,
            "<h3>按{}</h3><table><tr><th>{}</th><th class=\"n\">客户数</th>",
            esc(label),
            esc(label)
        );
        for grade in &d.grades {
            let _ = write!(out, "<th class=\"n\">{}</th>", esc(grade));
        }
        out.push_str("</tr>\n");
        let rows = g
            .rows()
            .map(|(v, c, n)| (v.to_string(), c.to_vec(), n))
            .chain(std::iter::once(("合计".to_string(), d.total.clone(), d.customers())));
        for (i, (value, counts, n)) in rows.enumerate() {
            let shown_value = if i == g.groups.len() {
                value
            } else if g.column == "class" {
                class_shown(p.prog, &value)
            } else {
                shown(&value).to_string()
            };
            let _ = write!(out, "<tr><td>{}</td><td class=\"n\">{n}</td>", esc(&shown_value));
            for c in &counts {
                let _ = write!(out, "<td class=\"n\">{c}</td>");
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
    if d.groupings.len() == 1 {
        out.push_str("<p class=\"note\">按名册的其他列分组：<code>--by branch</code>。</p>\n");
    }
    out.push_str("</section>\n");
}

fn dimensions(p: &Page<'_>, out: &mut String) {
    out.push_str("<section id=\"dimensions\"><h2>各维度得分分布</h2>\n<p class=\"note\">按得分占该类别满分的比例分档；满分客户另计。</p>\n<div class=\"grid\">\n");
    let cats: Vec<String> = ["<20%", "20–40%", "40–60%", "60–80%", "≥80%"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for d in &p.dims.dims {
        let title = match &d.label {
            Some(l) => format!("{l}（{}）", d.name),
            None => d.name.clone(),
        };
        let _ = write!(
            out,
            "<div class=\"dim\"><h3>{}</h3><p>{} 户 · 平均得分率 {}% · 满分 {} 户</p>",
            esc(&title),
            d.customers,
            d.mean_percent(),
            d.full
        );
        let series = [Series {
            name: "客户数",
            color: "#5c6bc0",
            values: d.bins.to_vec(),
        }];
        out.push_str(&svg::columns(&cats, &series, 330, 170));
        out.push_str("</div>\n");
    }
    out.push_str("</div></section>\n");
}

fn heat_map(r: &Report<'_>, out: &mut String) {
    let (po, pn) = (r.old.prog, r.new.prog);
    let m = &r.impact.matrix;
    let max = m.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    out.push_str("<section id=\"migration\"><h2>等级迁移</h2>\n<p class=\"note\">行：现行规则下的等级；列：修订规则下的等级。绿色为升级，红色为降级，灰蓝为等级不变；“-”为该规则不评分。</p>\n<table class=\"heat\"><tr><th class=\"corner\">现行 \\ 修订</th>");
    let none_col = m.iter().any(|row| row.get(pn.bands.len()).is_some_and(|&c| c > 0));
    let none_row = m.get(po.bands.len()).is_some_and(|row| row.iter().any(|&c| c > 0));
    let cols: Vec<usize> = (0..pn.bands.len()).chain(none_col.then_some(pn.bands.len())).collect();
    for &j in &cols {
        let _ = write!(out, "<th>{}</th>", esc(pn.bands.get(j).map_or("-", |b| &b.grade)));
    }
    out.push_str("<th>合计</th></tr>\n");
    for (i, row) in m.iter().enumerate() {
        if i == po.bands.len() && !none_row {
            continue;
        }
        let _ = write!(out, "<tr><th>{}</th>", esc(po.bands.get(i).map_or("-", |b| &b.grade)));
        for &j in &cols {
            let n = row.get(j).copied().unwrap_or(0);
            let a = 0.12 + 0.78 * n as f64 / max;
            let color = if i >= po.bands.len() || j >= pn.bands.len() {
                format!("rgba(120,120,120,{a:.2})")
            } else {
                let (ro, rn) = (committee::rank(r.pair, false, i), committee::rank(r.pair, true, j));
                match rn.cmp(&ro) {
                    std::cmp::Ordering::Less => format!("rgba(46,125,50,{a:.2})"),
                    std::cmp::Ordering::Greater => format!("rgba(198,40,40,{a:.2})"),
                    std::cmp::Ordering::Equal => format!("rgba(69,90,160,{a:.2})"),
                }
            };
            if n == 0 {
                out.push_str("<td>·</td>");
            } else {
                let fg = if a > 0.55 { "#fff" } else { "#111" };
                let _ = write!(out, "<td style=\"background:{color};color:{fg}\">{n}</td>");
            }
        }
        let _ = writeln!(out, "<td class=\"n\">{}</td></tr>", row.iter().sum::<u64>());
    }
    out.push_str("</table></section>\n");
}

fn group_moves(r: &Report<'_>, out: &mut String) {
    out.push_str("<section id=\"by-group\"><h2>各组升降级</h2>\n");
    let Some(g) = r.pair.groups else {
        out.push_str("<p class=\"note\">按名册的列（如供电所）分组：<code>--by branch</code>。</p></section>\n");
        return;
    };
    for (col, values) in g.columns.iter().zip(&r.impact.groups) {
        let stats: Vec<(&String, committee::Moves, u64, u64, String)> = values
            .iter()
            .map(|(v, m)| {
                (
                    v,
                    committee::moves(r.pair, m),
                    m.iter().flatten().sum(),
                    committee::grade_changed(r.pair, m),
                    committee::moves_text(r.pair, m),
                )
            })
            .collect();
        let max = stats
            .iter()
            .map(|s| s.1.upgrades.max(s.1.downgrades))
            .max()
            .unwrap_or(1);
        let _ = writeln!(
            out,
            "<h3>按{}</h3><table><tr><th>{}</th><th class=\"n\">客户数</th><th class=\"n\">等级变化</th><th class=\"n\">升级</th><th class=\"n\">降级</th><th class=\"n\">降级占比</th><th>降级 ◀ ▶ 升级</th><th>迁移</th></tr>",
            esc(col),
            esc(col)
        );
        for (v, mv, n, changed, text) in &stats {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"n\">{n}</td><td class=\"n\">{changed}</td><td class=\"n up\">{}</td><td class=\"n down\">{}</td><td class=\"n\">{}%</td><td>{}</td><td>{}</td></tr>",
                esc(shown(v)),
                mv.upgrades,
                mv.downgrades,
                percent(mv.downgrades, *n),
                svg::diverging(mv.downgrades, mv.upgrades, max),
                esc(text)
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</section>\n");
}

fn newly(r: &Report<'_>, out: &mut String) {
    let n = committee::moves(r.pair, &r.impact.matrix).newly_measures;
    let _ = writeln!(out, "<section id=\"measures\"><h2>新增面临措施的客户（{n} 户）</h2>");
    if !committee::has_measures(r.pair) {
        out.push_str("<p class=\"note\">两个规则的等级均未规定措施。</p></section>\n");
        return;
    }
    if r.impact.newly_measures.is_empty() {
        out.push_str("<p>无。</p></section>\n");
        return;
    }
    out.push_str("<table><tr><th>客户</th><th>现行等级</th><th>修订等级</th><th>措施</th></tr>\n");
    for x in &r.impact.newly_measures {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(r.pair.id(x.customer)),
            esc(grade(r.old.prog, x.old)),
            esc(grade(r.new.prog, x.new)),
            esc(band_measures(r.new.prog, x.new).unwrap_or(""))
        );
    }
    out.push_str("</table></section>\n");
}

/// A ledger line's points: signed, except an assessed value; `-` for none.
fn points(n: Option<Num>, key: Option<&Key>) -> String {
    match n {
        None => "-".into(),
        Some(n) if key.is_some_and(|k| k.cause == Cause::Assessed) => n.to_string(),
        Some(n) => signed(n),
    }
}

fn key_text(key: Option<&Key>) -> String {
    match key {
        Some(k) => match &k.label {
            Some(l) => format!("{} {l}", k.key),
            None => k.key.clone(),
        },
        None => String::new(),
    }
}

/// The clauses behind one mover: each line that differs, and the bands or
/// the override when they moved the grade.
fn why(r: &Report<'_>, d: &CustomerDiff) -> Vec<String> {
    let cat = r.pair.cat;
    let mut out: Vec<String> = d
        .rows
        .iter()
        .filter(|x| x.differs())
        .map(|x| {
            let key = cat.keys.get(x.key);
            format!("{}：{} → {}", key_text(key), points(x.old, key), points(x.new, key))
        })
        .collect();
    for &k in &d.causes {
        let Some(key) = cat.keys.get(k) else { continue };
        match key.cause {
            Cause::Grades => out.push(format!("{}：等级线调整", key_text(Some(key)))),
            Cause::Override => out.push(format!("{}：否决条款", key_text(Some(key)))),
            Cause::Max => out.push(format!("{}：满分调整", key.key)),
            Cause::Rule | Cause::Assessed => {}
        }
    }
    out
}

fn movers(r: &Report<'_>, out: &mut String) {
    let imp = r.impact;
    let changed = imp.grade_changed + imp.score_changed + imp.dims_only;
    let _ = write!(
        out,
        "<section id=\"movers\"><h2>变动最大的客户</h2>\n<p class=\"note\">共 {changed} 户分数或等级变化，按总分变化大小列出前 {} 户；展开可见两个规则下的明细账。</p>\n",
        r.movers.len()
    );
    let (po, pn) = (r.old.prog, r.new.prog);
    out.push_str("<table><tr><th>客户</th><th>类别</th><th class=\"n\">现行</th><th class=\"n\">修订</th><th class=\"n\">变化</th><th>原因（条款）</th></tr>\n");
    for d in r.movers {
        let (Some(o), Some(n)) = (&d.old, &d.new) else {
            continue;
        };
        let cls = if class(po, o) == class(pn, n) {
            class_shown(pn, class(pn, n))
        } else {
            format!("{} → {}", class_shown(po, class(po, o)), class_shown(pn, class(pn, n)))
        };
        let delta = n.total - o.total;
        let dir = match delta.cmp(&Num::ZERO) {
            std::cmp::Ordering::Less => "down",
            std::cmp::Ordering::Greater => "up",
            std::cmp::Ordering::Equal => "",
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{} {}</td><td class=\"n\">{} {}</td><td class=\"n {dir}\">{}</td><td>{}</td></tr>",
            esc(r.pair.id(d.customer)),
            esc(&cls),
            o.total,
            esc(grade(po, o.grade)),
            n.total,
            esc(grade(pn, n.grade)),
            signed(delta),
            why(r, d).iter().map(|w| esc(w)).collect::<Vec<_>>().join("<br>")
        );
    }
    out.push_str("</table>\n<h3>明细账对照</h3>\n");
    for d in r.movers {
        ledgers(r, d, out);
    }
    out.push_str("</section>\n");
}

/// One mover's two ledgers side by side, in a `<details>`.
fn ledgers(r: &Report<'_>, d: &CustomerDiff, out: &mut String) {
    let cat = r.pair.cat;
    let (po, pn) = (r.old.prog, r.new.prog);
    let total = |o: &Option<crate::eval::Outcome>| o.as_ref().map_or("-".to_string(), |o| o.total.to_string());
    let gr = |o: &Option<crate::eval::Outcome>, p: &Program| {
        o.as_ref().map_or("-".to_string(), |o| grade(p, o.grade).to_string())
    };
    let _ = write!(
        out,
        "<details id=\"ledger-{0}\"><summary>{0}：{1} {2} → {3} {4}</summary>\n<table><tr><th></th><th class=\"n\">现行 {5}</th><th class=\"n\">修订 {6}</th></tr>\n",
        esc(r.pair.id(d.customer)),
        total(&d.old),
        esc(&gr(&d.old, po)),
        total(&d.new),
        esc(&gr(&d.new, pn)),
        esc(r.old.path),
        esc(r.new.path)
    );
    let row = |out: &mut String, differs: bool, name: &str, a: &str, b: &str, indent: bool| {
        let _ = writeln!(
            out,
            "<tr{}><td>{}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            if differs { " class=\"diff\"" } else { "" },
            if indent { "&emsp;" } else { "" },
            esc(name),
            esc(a),
            esc(b)
        );
    };
    for x in &d.dims {
        let name = cat.dims.get(x.dim).cloned().unwrap_or_default();
        let label = super::columns::dim_label(pn, &name)
            .or_else(|| super::columns::dim_label(po, &name))
            .map_or(name.clone(), |l| format!("{l}（{name}）"));
        let score = |v: Option<(Num, Num)>| v.map_or("-".to_string(), |v| format!("{} / {}", v.0, v.1));
        row(out, x.old != x.new, &label, &score(x.old), &score(x.new), false);
        for line in d.rows.iter().filter(|y| y.dim == x.dim) {
            let key = cat.keys.get(line.key);
            row(
                out,
                line.differs(),
                &key_text(key),
                &points(line.old, key),
                &points(line.new, key),
                true,
            );
        }
    }
    row(
        out,
        total(&d.old) != total(&d.new),
        "总分",
        &total(&d.old),
        &total(&d.new),
        false,
    );
    row(
        out,
        gr(&d.old, po) != gr(&d.new, pn),
        "等级",
        &gr(&d.old, po),
        &gr(&d.new, pn),
        false,
    );
    out.push_str("</table></details>\n");
}

fn changes(r: &Report<'_>, out: &mut String) {
    let _ = writeln!(
        out,
        "<section id=\"changes\"><h2>规则变更（{} 处）</h2>",
        r.changes.len()
    );
    if r.changes.is_empty() {
        out.push_str("<p>两个规则内容相同。</p></section>\n");
        return;
    }
    out.push_str("<table><tr><th></th><th>条款</th><th>变化</th><th>现行</th><th>修订</th></tr>\n");
    for c in r.changes {
        let word = match c.kind {
            ChangeKind::Added => "新增",
            ChangeKind::Removed => "删除",
            ChangeKind::Changed => "修改",
        };
        let key = match &c.label {
            Some(l) => format!("{} {l}", c.key),
            None => c.key.clone(),
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"nw\">{word}</td><td class=\"nw\">{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            esc(&key),
            esc(&c.summary),
            esc(c.old.as_deref().unwrap_or("")),
            esc(c.new.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</table></section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(esc("东城供电所"), "东城供电所");
    }
}
