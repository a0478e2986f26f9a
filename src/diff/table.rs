//! Diff stage, rendering: the report for people — rule changes, who changes
//! grade or score, the grade-migration matrix, per-dimension and per-clause
//! change, the largest movers with the ledger lines behind each, and one
//! customer's two ledgers side by side. Columns align by display width.

use super::committee;
use super::impact::Gate;
use super::ledger::{override_key, CustomerDiff};
use super::{band_for, percent, Cause, Key, Pair, Report, Side, TOTAL_ROW};
use crate::eval::{Outcome, Program};
use crate::num::Num;
use crate::report::{grid, Scored};

/// `+0.5`, `-10`, `0`.
pub fn signed(n: Num) -> String {
    if n > Num::ZERO {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

pub(crate) fn grade(prog: &Program, i: usize) -> &str {
    prog.bands.get(i).map_or("", |b| b.grade.as_str())
}

pub(crate) fn class<'p>(prog: &'p Program, o: &Outcome) -> &'p str {
    prog.classes.get(usize::from(o.class)).map_or("", |c| c.name.as_str())
}

/// A line's points: signed, except an assessed value; `-` for no line.
fn points(n: Option<Num>, key: Option<&Key>) -> String {
    match n {
        None => "-".into(),
        Some(n) if key.is_some_and(|k| k.cause == Cause::Assessed) => n.to_string(),
        Some(n) => signed(n),
    }
}

fn book_line(side: &Side<'_>) -> String {
    let version = side
        .prog
        .version
        .as_ref()
        .map_or(String::new(), |v| format!(" version {v}"));
    format!("{}{version}", side.prog.name)
}

fn label(l: &Option<String>) -> String {
    l.as_ref().map_or(String::new(), |l| format!(" {l}"))
}

/// The whole report.
pub fn render(r: &Report<'_>) -> String {
    let mut out = format!("rulebook diff, as of {}\n", r.as_of);
    out.push_str(&grid(
        &[
            vec!["old".into(), r.old.path.to_string(), book_line(r.old)],
            vec!["new".into(), r.new.path.to_string(), book_line(r.new)],
        ],
        &[],
    ));
    changes(r, &mut out);
    customers(r, &mut out);
    matrix(r, &mut out);
    groups(r, &mut out);
    newly(r, &mut out);
    dimensions(r, &mut out);
    clauses(r, &mut out);
    movers(r, &mut out);
    lonely(r, &mut out);
    if let Some((g, fails)) = r.gate {
        out.push('\n');
        out.push_str(&gate_line(r, g, fails));
        out.push('\n');
    }
    if r.gate.is_none() && !r.gates.is_empty() {
        out.push('\n');
    }
    for v in r.gates {
        out.push_str(&v.line);
        out.push('\n');
    }
    out
}

/// Per value of each `--by` column: customers, grade changes, upgrades,
/// downgrades and the moves between grades.
fn groups(r: &Report<'_>, out: &mut String) {
    let Some(g) = r.pair.groups else { return };
    for (col, values) in g.columns.iter().zip(&r.impact.groups) {
        out.push_str(&format!("\nBy {col}\n"));
        let mut rows = vec![vec![
            col.clone(),
            "customers".into(),
            "change grade".into(),
            "upgrades".into(),
            "downgrades".into(),
            "moves".into(),
        ]];
        for (value, m) in values {
            let mv = committee::moves(r.pair, m);
            rows.push(vec![
                crate::report::summary::shown(value).to_string(),
                m.iter().flatten().sum::<u64>().to_string(),
                committee::grade_changed(r.pair, m).to_string(),
                mv.upgrades.to_string(),
                mv.downgrades.to_string(),
                committee::moves_text(r.pair, m),
            ]);
        }
        out.push_str(&grid(&rows, &[false, true, true, true, true, false]));
    }
}

/// The customers whose new grade carries measures their old one did not.
fn newly(r: &Report<'_>, out: &mut String) {
    if !committee::has_measures(r.pair) {
        return;
    }
    let n = committee::moves(r.pair, &r.impact.matrix).newly_measures;
    out.push_str(&format!(
        "\nNewly facing measures: {n} customer{}\n",
        if n == 1 { "" } else { "s" }
    ));
    let rows: Vec<Vec<String>> = r
        .impact
        .newly_measures
        .iter()
        .map(|x| {
            vec![
                r.pair.id(x.customer).to_string(),
                format!("{} → {}", grade(r.old.prog, x.old), grade(r.new.prog, x.new)),
                crate::report::columns::band_measures(r.new.prog, x.new)
                    .unwrap_or("")
                    .to_string(),
            ]
        })
        .collect();
    out.push_str(&grid(&rows, &[]));
}

/// `gate: 7 customers change grade (17.5%), more than 5: FAIL`
pub fn gate_line(r: &Report<'_>, g: Gate, fails: bool) -> String {
    let imp = r.impact;
    let n = imp.gated();
    let lonely = imp.only_old() + imp.only_new();
    let extra = if lonely > 0 {
        format!(", of whom {lonely} scored by one rulebook only")
    } else {
        String::new()
    };
    let verdict = if fails {
        format!("more than {g}: FAIL")
    } else {
        format!("not more than {g}: pass")
    };
    format!(
        "gate: {n} customer{} change grade ({}%{extra}), {verdict}",
        if n == 1 { "" } else { "s" },
        percent(n, imp.customers)
    )
}

fn changes(r: &Report<'_>, out: &mut String) {
    let n = r.changes.len();
    out.push_str(&format!(
        "\nRule changes: {}\n",
        if n == 0 { "none".to_string() } else { n.to_string() }
    ));
    for c in r.changes {
        let places = if c.places.is_empty() {
            String::new()
        } else {
            format!(" [{}]", c.places.join(", "))
        };
        let what = match c.what {
            "rule" => String::new(),
            w => format!(" ({w})"),
        };
        out.push_str(&format!(
            "  {} {}{}{what}{places}: {}\n",
            c.kind.mark(),
            c.key,
            label(&c.label),
            c.summary
        ));
        if c.what != "max" {
            if let (Some(old), Some(new)) = (&c.old, &c.new) {
                out.push_str(&format!("      old: {old}\n      new: {new}\n"));
            }
        }
    }
}

fn customers(r: &Report<'_>, out: &mut String) {
    let imp = r.impact;
    out.push_str(&format!(
        "\nCustomers: {} in the log and roster, {} scored by both rulebooks\n",
        imp.customers, imp.both
    ));
    let share = |n: u64| format!("{}%", percent(n, imp.customers));
    let mv = committee::moves(r.pair, &imp.matrix);
    let mut rows = vec![
        vec![
            "change grade".to_string(),
            imp.grade_changed.to_string(),
            share(imp.grade_changed),
        ],
        vec![
            "  to a better grade".to_string(),
            mv.upgrades.to_string(),
            share(mv.upgrades),
        ],
        vec![
            "  to a worse grade".to_string(),
            mv.downgrades.to_string(),
            share(mv.downgrades),
        ],
        vec![
            "change score, same grade".to_string(),
            imp.score_changed.to_string(),
            share(imp.score_changed),
        ],
    ];
    if imp.dims_only > 0 {
        rows.push(vec![
            "move between dimensions, same total".into(),
            imp.dims_only.to_string(),
            share(imp.dims_only),
        ]);
    }
    rows.push(vec![
        "unchanged".into(),
        imp.unchanged.to_string(),
        share(imp.unchanged),
    ]);
    for (new, n) in [(false, imp.only_old()), (true, imp.only_new())] {
        if n > 0 {
            let by: Vec<String> = r
                .pair
                .classes
                .names
                .iter()
                .zip(&imp.only)
                .filter_map(|(name, x)| {
                    let k = if new { x[1] } else { x[0] };
                    (k > 0).then(|| format!("class {name} {k}"))
                })
                .collect();
            let side = if new { "new" } else { "old" };
            rows.push(vec![
                format!("scored by the {side} rulebook only"),
                n.to_string(),
                format!("{} ({})", share(n), by.join(", ")),
            ]);
        }
    }
    out.push_str(&grid(&rows, &[false, true, false]));
}

fn matrix(r: &Report<'_>, out: &mut String) {
    let (po, pn) = (r.old.prog, r.new.prog);
    let m = &r.impact.matrix;
    let last_row = m.len().saturating_sub(1);
    let last_col = m.first().map_or(0, |x| x.len().saturating_sub(1));
    let none_row = m.get(last_row).is_some_and(|x| x.iter().any(|&c| c > 0));
    let none_col = m.iter().any(|x| x.get(last_col).is_some_and(|&c| c > 0));
    let col_names: Vec<String> = pn
        .bands
        .iter()
        .map(|b| b.grade.clone())
        .chain(none_col.then(|| "-".to_string()))
        .collect();
    out.push_str("\nGrade migration (rows: old grade, columns: new grade; [n]: same grade)\n");
    let mut rows = vec![std::iter::once("old \\ new".to_string())
        .chain(col_names.iter().cloned())
        .chain(std::iter::once("total".into()))
        .collect::<Vec<_>>()];
    let cols: Vec<usize> = (0..pn.bands.len()).chain(none_col.then_some(last_col)).collect();
    let mut col_total = vec![0u64; cols.len()];
    for (i, row) in m.iter().enumerate() {
        if i == last_row && !none_row {
            continue;
        }
        let name = if i == last_row {
            "-".to_string()
        } else {
            grade(po, i).to_string()
        };
        let mut cells = vec![name.clone()];
        for (k, &j) in cols.iter().enumerate() {
            let n = row.get(j).copied().unwrap_or(0);
            if let Some(t) = col_total.get_mut(k) {
                *t += n;
            }
            let same = i != last_row && j != last_col && grade(pn, j) == name;
            cells.push(match (same, n) {
                (true, n) => format!("[{n}]"),
                (false, 0) => ".".into(),
                (false, n) => n.to_string(),
            });
        }
        cells.push(row.iter().sum::<u64>().to_string());
        rows.push(cells);
    }
    let mut totals = vec!["total".to_string()];
    totals.extend(col_total.iter().map(u64::to_string));
    totals.push(col_total.iter().sum::<u64>().to_string());
    rows.push(totals);
    let right: Vec<bool> = (0..rows.first().map_or(0, Vec::len)).map(|i| i > 0).collect();
    out.push_str(&grid(&rows, &right));
    if none_row || none_col {
        out.push_str("  -: not scored by that rulebook (its class is not one of the rulebook's)\n");
    }
}

fn dimensions(r: &Report<'_>, out: &mut String) {
    out.push_str("\nDimensions (over the customers both rulebooks score on it)\n");
    let dim_label = |name: &str| {
        [r.new.prog, r.old.prog]
            .iter()
            .flat_map(|p| &p.classes)
            .flat_map(|c| &c.dims)
            .find(|d| d.name == name)
            .and_then(|d| d.label.clone())
            .unwrap_or_default()
    };
    let mut rows = vec![vec![
        "dimension".to_string(),
        String::new(),
        "customers".into(),
        "affected".into(),
        "up".into(),
        "down".into(),
        "mean change".into(),
        "mean of affected".into(),
        "largest".into(),
    ]];
    let named = r
        .pair
        .cat
        .dims
        .iter()
        .zip(&r.impact.dims)
        .map(|(n, d)| (n.clone(), dim_label(n), d));
    for (name, lab, d) in named.chain(std::iter::once(("total".to_string(), String::new(), &r.impact.total))) {
        let largest = d
            .largest
            .map_or("-".to_string(), |(v, i)| format!("{} ({})", signed(v), r.pair.id(i)));
        let mean = |v: Num| {
            if d.affected == 0 {
                "0".to_string()
            } else {
                signed(v)
            }
        };
        rows.push(vec![
            name,
            lab,
            d.compared.to_string(),
            d.affected.to_string(),
            d.up.to_string(),
            d.down.to_string(),
            mean(d.mean()),
            mean(d.mean_affected()),
            largest,
        ]);
    }
    out.push_str(&grid(&rows, &[false, false, true, true, true, true, true, true, false]));
    out.push_str("  means are rounded to two decimals\n");
}

fn clauses(r: &Report<'_>, out: &mut String) {
    let keys = &r.pair.cat.keys;
    let mut moved: Vec<(usize, u64)> = r
        .impact
        .clauses
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, n)| n > 0)
        .collect();
    moved.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out.push_str("\nWhat moved customers (customers whose score or grade it moved)\n");
    if moved.is_empty() {
        out.push_str("  nothing\n");
        return;
    }
    let rows: Vec<Vec<String>> = moved
        .iter()
        .filter_map(|&(k, n)| keys.get(k).map(|key| (key, n)))
        .map(|(key, n)| {
            let what = match key.cause {
                Cause::Rule => "score",
                Cause::Assessed => "score (assessed value)",
                Cause::Max => "score (full marks)",
                Cause::Override => "grade (override)",
                Cause::Grades => "grade (bands)",
            };
            vec![
                key.key.clone(),
                key.label.clone().unwrap_or_default(),
                n.to_string(),
                what.to_string(),
            ]
        })
        .collect();
    out.push_str(&grid(&rows, &[false, false, true, false]));
}

/// `  P1-P3 拖欠电费  -10 → -15` for each differing line, and the grade causes.
fn why(pair: &Pair<'_>, d: &CustomerDiff) -> Vec<Vec<String>> {
    let cat = pair.cat;
    let mut rows = Vec::new();
    let dim_name = |i: usize| cat.dim_name(i);
    for row in d.rows.iter().filter(|x| x.differs()) {
        let key = cat.keys.get(row.key);
        let moved = match row.dim {
            TOTAL_ROW => d.total_moved(),
            dim => d.dims.iter().any(|x| x.dim == dim && x.moved()),
        };
        let note = if moved {
            ""
        } else {
            "(the dimension's score is unchanged)"
        };
        rows.push(vec![
            dim_name(row.dim),
            format!(
                "{}{}",
                key.map_or("", |k| k.key.as_str()),
                label(&key.and_then(|k| k.label.clone()))
            ),
            format!("{} → {}", points(row.old, key), points(row.new, key)),
            note.into(),
        ]);
    }
    for x in d
        .dims
        .iter()
        .filter(|x| x.moved() && x.old.map(|v| v.1) != x.new.map(|v| v.1))
    {
        let max = |v: Option<(Num, Num)>| v.map_or("-".to_string(), |v| v.1.to_string());
        rows.push(vec![
            dim_name(x.dim),
            "max".into(),
            format!("{} → {}", max(x.old), max(x.new)),
            String::new(),
        ]);
    }
    for &k in &d.causes {
        let Some(key) = cat.keys.get(k) else { continue };
        let text = match (&key.cause, &d.new) {
            (Cause::Grades, Some(n)) => format!(
                "{} by the old bands, {} by the new",
                band_for(pair.old.prog, n.total),
                band_for(pair.new.prog, n.total)
            ),
            (Cause::Override, _) => {
                let held =
                    |o: &Option<Outcome>, new: bool| o.as_ref().and_then(|o| override_key(cat, new, o)) == Some(k);
                match (held(&d.old, false), held(&d.new, true)) {
                    (true, false) => "held for the old rulebook, not the new".into(),
                    (false, true) => "holds for the new rulebook, not the old".into(),
                    _ => "decides the grade".into(),
                }
            }
            _ => continue,
        };
        rows.push(vec![
            "grade".into(),
            format!("{}{}", key.key, label(&key.label)),
            text,
            String::new(),
        ]);
    }
    rows
}

fn movers(r: &Report<'_>, out: &mut String) {
    let imp = r.impact;
    let changed = imp.grade_changed + imp.score_changed + imp.dims_only;
    out.push_str(&format!(
        "\nLargest movers ({} of {changed} changed, by size of the total's change)\n",
        r.movers.len()
    ));
    if r.movers.is_empty() {
        out.push_str("  none\n");
        return;
    }
    let (po, pn) = (r.old.prog, r.new.prog);
    for d in r.movers {
        let (Some(o), Some(n)) = (&d.old, &d.new) else {
            continue;
        };
        let cls = if class(po, o) == class(pn, n) {
            class(pn, n).to_string()
        } else {
            format!("{} → {}", class(po, o), class(pn, n))
        };
        let head = vec![vec![
            r.pair.id(d.customer).to_string(),
            cls,
            format!(
                "{} {} → {} {}",
                o.total,
                grade(po, o.grade),
                n.total,
                grade(pn, n.grade)
            ),
            signed(n.total - o.total),
        ]];
        out.push_str(&grid(&head, &[]));
        let lines: String = grid(&why(r.pair, d), &[])
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect();
        out.push_str(&lines);
    }
}

fn lonely(r: &Report<'_>, out: &mut String) {
    let imp = r.impact;
    let n = imp.only_old() + imp.only_new();
    if n == 0 {
        return;
    }
    out.push_str(&format!(
        "\nScored by one rulebook only ({} of {n} shown)\n",
        imp.lonely.len()
    ));
    let rows: Vec<Vec<String>> = imp
        .lonely
        .iter()
        .map(|l| {
            let c = r.pair.log.customers.get(l.customer);
            let cls = c.and_then(|c| r.pair.classes.name_of(c)).unwrap_or("").to_string();
            let (by, prog, other) = if l.new {
                ("new", r.new.prog, "old")
            } else {
                ("old", r.old.prog, "new")
            };
            vec![
                r.pair.id(l.customer).to_string(),
                cls.clone(),
                format!("{by}: {} {}", l.total, grade(prog, l.grade)),
                format!("not a class of the {other} rulebook"),
            ]
        })
        .collect();
    out.push_str(&grid(&rows, &[]));
}

/// One customer's two ledgers side by side; `*` marks what differs.
pub fn customer(pair: &Pair<'_>, old: &Side<'_>, new: &Side<'_>, as_of: crate::date::Date, d: &CustomerDiff) -> String {
    let cat = pair.cat;
    let (po, pn) = (old.prog, new.prog);
    let cls =
        |o: &Option<Outcome>, p: &Program| o.as_ref().map_or("not scored".to_string(), |o| class(p, o).to_string());
    let mut out = format!("customer {}  as of {}\n", pair.id(d.customer), as_of);
    let mut rows = vec![
        vec![String::new(), String::new(), "old".into(), "new".into()],
        vec![
            String::new(),
            "rulebook".into(),
            old.path.to_string(),
            new.path.to_string(),
        ],
        vec![
            mark(cls(&d.old, po) != cls(&d.new, pn)),
            "class".into(),
            cls(&d.old, po),
            cls(&d.new, pn),
        ],
    ];
    for x in &d.dims {
        let name = cat.dim_name(x.dim);
        let score = |v: Option<(Num, Num)>| v.map_or("-".to_string(), |v| format!("{} / {}", v.0, v.1));
        rows.push(vec![mark(x.old != x.new), name, score(x.old), score(x.new)]);
        for row in d.rows.iter().filter(|y| y.dim == x.dim) {
            let key = cat.keys.get(row.key);
            let text = format!(
                "  {}{}",
                key.map_or("", |k| k.key.as_str()),
                label(&key.and_then(|k| k.label.clone()))
            );
            rows.push(vec![
                mark(row.differs()),
                text,
                points(row.old, key),
                points(row.new, key),
            ]);
        }
    }
    let total = |o: &Option<Outcome>| o.as_ref().map_or("-".to_string(), |o| o.total.to_string());
    let gr = |o: &Option<Outcome>, p: &Program| o.as_ref().map_or("-".to_string(), |o| grade(p, o.grade).to_string());
    rows.push(vec![
        mark(total(&d.old) != total(&d.new)),
        "total".into(),
        total(&d.old),
        total(&d.new),
    ]);
    rows.push(vec![
        mark(gr(&d.old, po) != gr(&d.new, pn)),
        "grade".into(),
        gr(&d.old, po),
        gr(&d.new, pn),
    ]);
    let flags = |o: &Option<Outcome>| o.as_ref().map_or(String::new(), |o| o.flags.join("; "));
    if !flags(&d.old).is_empty() || !flags(&d.new).is_empty() {
        rows.push(vec![
            mark(flags(&d.old) != flags(&d.new)),
            "flags".into(),
            flags(&d.old),
            flags(&d.new),
        ]);
    }
    out.push('\n');
    out.push_str(&grid(&rows, &[]));
    let differing: Vec<_> = d.rows.iter().filter(|x| x.differs()).collect();
    if !differing.is_empty() {
        out.push_str("\nLines that differ\n");
    }
    for row in differing {
        let key = cat.keys.get(row.key);
        let name = cat.dim_name(row.dim);
        out.push_str(&format!(
            "  {name} {}{}: {} → {}\n",
            key.map_or("", |k| k.key.as_str()),
            label(&key.and_then(|k| k.label.clone())),
            points(row.old, key),
            points(row.new, key)
        ));
        for (new, side, prog, outcome) in [(false, "old", po, &d.old), (true, "new", pn, &d.new)] {
            let Some(o) = outcome else { continue };
            let s = Scored {
                prog,
                log: pair.log,
                customer: d.customer,
                outcome: o,
                as_of,
            };
            for line in d.lines(cat, new, row.dim, row.key) {
                let note = if line.note.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", line.note)
                };
                out.push_str(&format!("    {side} {}{note}\n", points(Some(line.points), key)));
                for e in line.events.iter().filter_map(|&i| s.events().get(i)) {
                    out.push_str(&format!("        {}\n", crate::report::explain::event_line(&s, e)));
                }
            }
        }
    }
    let why_rows: Vec<Vec<String>> = why(pair, d)
        .into_iter()
        .filter(|r| r.first().is_some_and(|c| c == "grade") || r.get(1).is_some_and(|c| c == "max"))
        .collect();
    if !why_rows.is_empty() {
        out.push_str("\nAlso\n");
        out.push_str(&grid(&why_rows, &[]));
    }
    out
}

fn mark(differs: bool) -> String {
    if differs {
        "*".into()
    } else {
        String::new()
    }
}
