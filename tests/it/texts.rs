//! Text values read from a log: a free text (one no `text in {…}` constraint
//! lists, like an assessment's `dimension`) is kept exactly, whatever the
//! block, the core or the texts read before it. A log of several blocks whose
//! first rows carry only texts the rulebook never writes is scored, stored and
//! folded, and every count is checked against the texts themselves.

use std::io::Cursor;

use rulebook::date::Date;
use rulebook::eval::Evaluator;
use rulebook::input::{self, Format, LoadOptions, Roster, Source};
use rulebook::num::Num;
use rulebook::syntax::ast::Type;

const BOOK: &str = r#"
standard "texts" version "1"
period 12 months
total 500

event trip       { reach: text, other: text }
event assessment { dimension: text, score: int >= 0 }

rules branch { B1 "branch"  deduct 1 per trip where reach == "branch" }
rules late   { L1 "late"    deduct 1 per trip where reach > "m" }
rules same   { S1 "same"    deduct 1 per trip where reach == other }
rules inset  { I1 "in set"  deduct 1 per trip where reach in {"feeder", "branch"} and other != "branch" }

class all "all" default {
  dimension branch "b" max 100 uses branch
  dimension late   "l" max 100 uses late
  dimension same   "s" max 100 uses same
  dimension inset  "i" max 100 uses inset
  dimension ops    "o" max 100
    O1 assessed score of latest assessment where dimension == "operations"
}

G1 "grades" grades {
  A >= 250
  D
}
"#;

const CUSTOMERS: u64 = 3000;
/// Enough rows for several 4 MB blocks.
const ROWS: u64 = 400_000;

/// Free texts, none of which the rulebook writes, on both sides of "m".
const FREE: [&str; 6] = ["alpha", "feeder-north", "zulu", "mid", "branch ", "Branch"];

struct Trip {
    customer: u64,
    reach: String,
    other: String,
}

/// The log: trips with only free texts first, then with "branch" and
/// "feeder" among them, then each customer's assessments (free dimensions
/// dated last, and one "operations").
fn log() -> (String, Vec<Option<Trip>>) {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    let mut csv = String::from("customer,date,kind,reach,other,dimension,score\n");
    // By line number - 2: the trip of that row, if it is one.
    let mut rows = Vec::new();
    for i in 0..ROWS {
        let customer = next() % CUSTOMERS;
        let pick = |n: u64, late: bool| -> String {
            let free = FREE.get((n % FREE.len() as u64) as usize).copied().unwrap_or("alpha");
            match (late, n % 5) {
                (true, 0) => "branch".into(),
                (true, 1) => "feeder".into(),
                (_, 2) => format!("{free}-{}", n % 97),
                _ => free.into(),
            }
        };
        let late = i >= ROWS / 3;
        let reach = pick(next(), late);
        let other = if next() % 4 == 0 {
            reach.clone()
        } else {
            pick(next(), late)
        };
        let day = 1 + next() % 28;
        csv.push_str(&format!("c{customer:05},2026-03-{day:02},trip,{reach},{other},,\n"));
        rows.push(Some(Trip { customer, reach, other }));
    }
    for c in 0..CUSTOMERS {
        csv.push_str(&format!("c{c:05},2026-06-30,assessment,,,operations-{c},100\n"));
        csv.push_str(&format!("c{c:05},2026-06-29,assessment,,,operations,{}\n", c % 101));
        csv.push_str(&format!("c{c:05},2026-06-30,assessment,,,Operations,100\n"));
        rows.extend([None, None, None]);
    }
    (csv, rows)
}

#[test]
fn free_texts_are_kept_exactly_across_blocks_and_cores() {
    let checked = rulebook::load(BOOK).unwrap_or_else(|d| panic!("the rulebook does not load: {d:?}"));
    let prog = &checked.program;
    let roster = Roster::default();
    let (csv, rows) = log();
    assert!(csv.len() > 3 * (4 << 20), "several blocks");
    let sources = || {
        vec![Source {
            name: "events.csv".into(),
            format: Format::Csv,
            reader: Box::new(Cursor::new(csv.clone().into_bytes())),
            mapped: None,
        }]
    };
    let as_of = Date::from_ymd(2026, 6, 30).expect("a date");
    let opts = LoadOptions {
        as_of,
        strict: true,
        keep_going: false,
    };
    let log = input::load(sources(), &prog.schema, &roster, opts).unwrap_or_else(|e| panic!("{e}"));
    let eval = Evaluator::new(prog, as_of);
    let folded = input::fold_within(sources(), &prog.schema, &roster, opts, input::Within::default(), &eval)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(folded.is_folded());
    assert_eq!(log.customers.len() as u64, CUSTOMERS);

    // What each customer's dimensions must be, from the texts themselves.
    let mut want = vec![[0i64; 4]; CUSTOMERS as usize];
    for t in rows.iter().flatten() {
        let w = want.get_mut(t.customer as usize).expect("a customer");
        let hits = [
            t.reach == "branch",
            t.reach.as_str() > "m",
            t.reach == t.other,
            (t.reach == "feeder" || t.reach == "branch") && t.other != "branch",
        ];
        for (n, hit) in w.iter_mut().zip(hits) {
            *n += i64::from(hit);
        }
    }
    for (i, c) in log.customers.iter().enumerate() {
        let n: usize = c.id.trim_start_matches('c').parse().expect("a numbered customer");
        let stored = eval
            .evaluate_in(&log, i, false)
            .expect("a customer")
            .expect("no overflow");
        let from_state = eval.evaluate_in(&folded, i, false).expect("a customer");
        assert_eq!(
            from_state,
            Ok(stored.clone()),
            "customer {}: folded and stored differ",
            c.id
        );
        let counts = want.get(n).expect("a customer");
        let expected: Vec<Num> = counts
            .iter()
            .map(|k| Num::from_int(100 - k))
            .chain([Num::from_int(n as i64 % 101)])
            .collect();
        let got: Vec<Num> = stored.dims.iter().map(|d| d.raw).collect();
        assert_eq!(got, expected, "customer {}", c.id);

        // Every stored text shows as read (as `explain` renders it).
        for e in log.events_of(i).iter().filter(|e| e.kind == 0) {
            let trip = rows
                .get(e.line as usize - 2)
                .and_then(Option::as_ref)
                .expect("a trip's line");
            let shown: Vec<String> = (0..2)
                .map(|slot| {
                    let v = log.vals.get(e.vals as usize + slot).copied().expect("a value");
                    prog.schema.show(Type::Text, v)
                })
                .collect();
            assert_eq!(shown, [trip.reach.as_str(), trip.other.as_str()], "line {}", e.line);
        }
    }
}
