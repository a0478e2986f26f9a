//! Diff stage, rendering: the movers as CSV (`diff --format csv`) — every
//! customer whose total or grade changes, or whom one rulebook only scores,
//! in id order, with the clauses behind the move and the roster's columns.

use rayon::prelude::*;

use super::committee::{newly_measured, rank};
use super::ledger::CustomerDiff;
use super::table::{class, grade};
use super::Pair;
use crate::input::Roster;
use crate::report::columns::band_measures;
use crate::report::csv_record;

/// The header line.
pub fn header(roster: &Roster) -> String {
    let cols = [
        "customer",
        "old_class",
        "old_total",
        "old_grade",
        "new_class",
        "new_total",
        "new_grade",
        "change",
        "move",
        "newly_facing_measures",
        "causes",
    ];
    csv_record(cols.into_iter().chain(roster.columns().iter().map(|c| &**c)))
}

/// Every mover's line, in customer order, the header first; each line ends
/// with a newline.
pub fn render(pair: &Pair<'_>, roster: &Roster) -> String {
    let rows: Vec<String> = (0..pair.log.customers.len())
        .into_par_iter()
        .with_min_len(256)
        .filter_map(|i| row(pair, roster, i))
        .collect();
    let mut out = header(roster);
    out.push('\n');
    for r in rows {
        out.push_str(&r);
        out.push('\n');
    }
    out
}

/// Customer `i`'s line, if it moves.
fn row(pair: &Pair<'_>, roster: &Roster, i: usize) -> Option<String> {
    let (po, pn) = (pair.old.prog, pair.new.prog);
    let (o, n) = pair.evaluate(i, false);
    let moved = match (&o, &n) {
        (Some(o), Some(n)) => o.total != n.total || grade(po, o.grade) != grade(pn, n.grade),
        (None, None) => false,
        _ => true,
    };
    if !moved {
        return None;
    }
    let d = CustomerDiff::of(pair, i);
    let side = |prog, x: &Option<crate::eval::Outcome>| match x {
        Some(x) => [
            class(prog, x).to_string(),
            x.total.to_string(),
            grade(prog, x.grade).to_string(),
        ],
        None => [String::new(), String::new(), String::new()],
    };
    let (change, mv, newly) = match (&o, &n) {
        (Some(o), Some(n)) => {
            let (ro, rn) = (rank(pair, false, o.grade), rank(pair, true, n.grade));
            let mv = match rn.cmp(&ro) {
                std::cmp::Ordering::Less => "upgrade",
                std::cmp::Ordering::Greater => "downgrade",
                std::cmp::Ordering::Equal => "same grade",
            };
            let newly = if newly_measured(po, o.grade, pn, n.grade) {
                band_measures(pn, n.grade).unwrap_or("")
            } else {
                ""
            };
            ((n.total - o.total).to_string(), mv, newly)
        }
        (Some(_), None) => (String::new(), "old only", ""),
        _ => (String::new(), "new only", ""),
    };
    let causes: Vec<&str> = d
        .causes
        .iter()
        .filter_map(|&k| pair.cat.keys.get(k))
        .map(|k| k.key.as_str())
        .collect();
    let id = pair.id(i);
    let mut cells = vec![id.to_string()];
    cells.extend(side(po, &o));
    cells.extend(side(pn, &n));
    cells.push(change);
    cells.push(mv.to_string());
    cells.push(newly.to_string());
    cells.push(causes.join(" "));
    let values = roster.extra(id);
    cells.extend((0..roster.columns().len()).map(|k| values.and_then(|v| v.get(k)).map_or("", |v| v).to_string()));
    Some(csv_record(cells))
}
