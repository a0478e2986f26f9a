//! Bad input gets an error, never a panic. Each crash the fuzzer (`fuzz/`)
//! found is pinned here through the same API, and fast property tests feed
//! mangled bytes to the CSV, JSON Lines and roster readers, so that `cargo
//! test` keeps guarding what the fuzzer explored.

use std::io::Cursor;

use proptest::prelude::*;
use rulebook::date::Date;
use rulebook::eval::Evaluator;
use rulebook::input::{self, Customer, Event, Format, LoadOptions, Roster, Source};
use rulebook::num::Num;

const CREDIT: &str = include_str!("../../rules/credit.rules");

fn credit() -> rulebook::Checked {
    rulebook::load(CREDIT).unwrap_or_else(|d| panic!("rules/credit.rules does not load: {d:?}"))
}

fn as_of() -> Date {
    Date::from_ymd(2026, 6, 30).unwrap_or_else(|| unreachable!())
}

// ---------------------------------------------------------------- crashes

/// A rulebook whose period is `period`, deducting 10 of 10 per theft.
fn one_theft_rule(period: &str) -> String {
    format!(
        "standard \"t\" period {period}\n\
         event theft\n\
         rules legal {{ deduct 10 per theft }}\n\
         class power {{ dimension legal max 10 uses legal }}\n\
         grades {{ A >= 5, D }}\n"
    )
}

/// Found reviewing what the `load` fuzz target reaches once it scores the
/// rulebooks that load (the target flags this input at once, but its first
/// runs had not generated one): a period (or window) of 2^31 months or more
/// passed the checker, then `Date::minus_months` overflowed an `i32` when the
/// evaluator placed its window (`attempt to subtract with overflow`; in a
/// release build, a window that wrapped round to a wrong date, or ended a
/// month after the as-of date for `4294967295 months`). Such a window reaches
/// back before any date a log can hold.
#[test]
fn a_window_of_billions_of_months_covers_all_history() {
    let as_of = as_of();
    let first = Date::from_ymd(1, 1, 1).unwrap_or_else(|| unreachable!());
    let long_ago = Date::from_ymd(1990, 5, 1).unwrap_or_else(|| unreachable!());
    for period in [
        "2147483648 months",
        "4294967295 months",
        "178956971 years",
        "999999999 years",
    ] {
        let checked = rulebook::load(&one_theft_rule(period)).unwrap_or_else(|d| panic!("{period}: {d:?}"));
        let prog = &checked.program;
        assert!(prog.horizon(as_of) < first, "{period}: the horizon is before any date");
        let eval = Evaluator::new(prog, as_of);
        let customer = Customer {
            id: "c".into(),
            class: None,
            since: None,
        };
        let theft = Event {
            cust: 0,
            date: long_ago,
            line: 2,
            kind: 0,
            file: 0,
            vals: 0,
        };
        let outcome = eval.evaluate(&customer, &[theft], &[], true).expect("no overflow");
        assert_eq!(
            outcome.total,
            Num::ZERO,
            "{period}: a theft in 1990 is within the period"
        );
    }
}

/// The month arithmetic behind it, at its edges.
#[test]
fn minus_months_saturates_before_year_one() {
    let d = |y, m, d| Date::from_ymd(y, m, d).unwrap_or_else(|| unreachable!());
    assert_eq!(d(2026, 3, 31).minus_months(1), d(2026, 2, 28));
    assert_eq!(d(2026, 6, 30).minus_months(2025 * 12 + 5), d(1, 1, 30));
    for n in [2025 * 12 + 6, 1 << 31, u32::MAX] {
        assert!(d(2026, 6, 30).minus_months(n) < d(1, 1, 1), "{n}");
        assert!(d(9999, 12, 31).minus_months(n) <= d(9999, 12, 31), "{n}");
    }
}

// ----------------------------------------------------- readers never panic

/// 256 cases keep the suite fast; `PROPTEST_CASES=100000` digs deeper.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Bytes made of `tokens` and stray bytes, or wholly arbitrary bytes.
fn mangled(tokens: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => prop::sample::select(tokens).prop_map(|t| t.as_bytes().to_vec()),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ];
    prop_oneof![
        3 => prop::collection::vec(piece, 0..80).prop_map(|p| p.concat()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

const CSV_HEADER: &str = "customer,date,kind,months,verified,reach,persons,dimension,score\n";

const CSV_TOKENS: &[&str] = &[
    CSV_HEADER,
    "customer,date,kind\n",
    ",",
    ",,,,,,",
    "\n",
    "\r\n",
    "\"",
    "\"\"",
    "\u{feff}",
    "P001",
    "中文",
    "2026-03-01",
    "2026-07-02",
    "2026-13-01",
    "0000-01-01",
    "9999-12-31",
    "arrears",
    "theft",
    "assessment",
    "cascade_trip",
    "defaulter_tip",
    "unqualified_electrician",
    "undeclared",
    "branch",
    "operations",
    "true",
    "1",
    "-1",
    "2.5",
    "0.0000001",
    "99999999999999999999",
    "\u{ff}",
];

const JSONL_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\n",
    "\r\n",
    "\"customer\":",
    "\"date\":",
    "\"kind\":",
    "\"months\":",
    "\"score\":",
    "\"dimension\":",
    "\"verified\":",
    "\"P001\"",
    "\"2026-03-10\"",
    "\"2026-07-02\"",
    "\"2026-02-30\"",
    "\"arrears\"",
    "\"assessment\"",
    "\"theft\"",
    "\"undeclared\"",
    "\"operations\"",
    "1",
    "-0",
    "4.5",
    "1e400",
    "99999999999999999999",
    "null",
    "true",
    "\"\\u0000\"",
    "\"\\ud800\"",
];

const ROSTER_TOKENS: &[&str] = &[
    "customer,class,since\n",
    "customer,class\n",
    ",",
    "\n",
    "\r\n",
    "\"",
    "\u{feff}",
    "P001",
    "power",
    "lighting",
    "unknown",
    "2015-01-01",
    "2015-02-29",
    "\u{ff}",
];

/// Reads `data` as one log of `format` with every mix of the options, and
/// scores what loads.
fn read_and_score(data: &[u8], format: Format) -> Result<(), TestCaseError> {
    let checked = credit();
    let prog = &checked.program;
    let eval = Evaluator::new(prog, as_of());
    let load = |keep_going, strict, horizon| {
        let source = Source {
            name: "events".into(),
            format,
            reader: Box::new(Cursor::new(data.to_vec())),
            mapped: None,
        };
        let opts = LoadOptions {
            as_of: as_of(),
            strict,
            keep_going,
        };
        let within = input::Within::new(horizon, 0);
        input::load_within(vec![source], &prog.schema, &Roster::default(), opts, within)
    };
    let horizon = Some(prog.horizon(as_of()));
    let plain = load(false, false, None);
    for (keep_going, strict, horizon) in [(true, false, horizon), (true, true, None), (false, true, horizon)] {
        if let Ok(log) = load(keep_going, strict, horizon) {
            prop_assert_eq!(log.summary.rejected, log.rejects.len() as u64);
            for (i, c) in log.customers.iter().enumerate() {
                let _ = eval.evaluate(c, log.events_of(i), &log.vals, true);
            }
        }
    }
    // A log that loads as it is loads the same with `--keep-going`, rejecting nothing.
    if let Ok(log) = plain {
        let kept = load(true, false, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&kept.summary, &log.summary);
        prop_assert!(kept.rejects.is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn any_csv_log_reads_or_errs(header in any::<bool>(), body in mangled(CSV_TOKENS)) {
        let mut data = if header { CSV_HEADER.as_bytes().to_vec() } else { vec![] };
        data.extend(body);
        read_and_score(&data, Format::Csv)?;
    }

    #[test]
    fn any_jsonl_log_reads_or_errs(body in mangled(JSONL_TOKENS)) {
        read_and_score(&body, Format::Jsonl)?;
    }

    #[test]
    fn any_roster_reads_or_errs(header in any::<bool>(), body in mangled(ROSTER_TOKENS)) {
        let checked = credit();
        let mut data = if header { b"customer,class,since\n".to_vec() } else { vec![] };
        data.extend(body);
        if let Ok(roster) = Roster::read(data.as_slice(), "customers.csv", &checked.program.class_names()) {
            for id in roster.ids() {
                prop_assert!(roster.get(id).is_some());
            }
        }
    }
}

fn exact(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// The example log and roster (`examples/`), loaded with `within`.
fn load_example(prog: &rulebook::check::program::Program, within: input::Within) -> input::EventLog {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let events = std::fs::read(root.join("events.csv")).expect("the example log");
    let roster_text = std::fs::read(root.join("customers.csv")).expect("the example roster");
    let roster =
        Roster::read(Cursor::new(roster_text), "customers.csv", &prog.class_names()).expect("the example roster reads");
    let source = Source {
        name: "events.csv".into(),
        format: Format::Csv,
        reader: Box::new(Cursor::new(events)),
        mapped: None,
    };
    let opts = LoadOptions {
        as_of: as_of(),
        strict: false,
        keep_going: false,
    };
    input::load_within(vec![source], &prog.schema, &roster, opts, within).expect("the example log loads")
}

/// Customer `k`'s events as a load keeps them, each with its values (not
/// where they are kept).
fn events_with_values(
    prog: &rulebook::check::program::Program,
    log: &input::EventLog,
    k: usize,
) -> Vec<(Event, Vec<i64>)> {
    log.events_of(k)
        .iter()
        .map(|e| {
            let n = prog.schema.kinds[e.kind as usize].attrs.len();
            let at = e.vals as usize;
            (Event { cust: 0, vals: 0, ..*e }, log.vals[at..at + n].to_vec())
        })
        .collect()
}

/// Shares of a log (`Within::between`, `score --explain` in passes) cut at
/// any ids keep, one after another, exactly the customers of a full load,
/// in its order, with the same events, values and roster entries, and each
/// the full summary (issue 10).
#[test]
fn shares_of_a_log_are_the_whole_log_in_order() {
    let checked = credit();
    let prog = &checked.program;
    let horizon = Some(prog.horizon(as_of()));
    // A customer as a load has it: id, roster entry, events with their values.
    type Seen = (String, Option<u16>, Option<Date>, Vec<(Event, Vec<i64>)>);
    let seen = |log: &input::EventLog| -> Vec<Seen> {
        (0..log.customers.len())
            .map(|k| {
                let c = &log.customers[k];
                (c.id.to_string(), c.class, c.since, events_with_values(prog, log, k))
            })
            .collect()
    };
    let load = |within| load_example(prog, within);
    let full = load(input::Within::new(horizon, 0));
    let whole = seen(&full);
    let ids: Vec<String> = whole.iter().map(|c| c.0.clone()).collect();
    assert!(ids.len() > 10);
    // Cuts at the log's ids, and between them (`P0265` falls between `P026` and `P027`).
    let mut cuts: Vec<String> = ids.iter().flat_map(|id| [id.clone(), format!("{id}5")]).collect();
    cuts.extend(["".to_string(), "~".to_string()]);
    let shares = |starts: &[&str]| {
        let mut got = Vec::new();
        for k in 0..=starts.len() {
            let from = k.checked_sub(1).map(|j| starts[j]);
            let to = starts.get(k).copied();
            let share = load(input::Within::new(horizon, 0).between(from, to, starts.len() + 1));
            assert_eq!(share.summary, full.summary, "{from:?}..{to:?}");
            got.extend(seen(&share));
        }
        got
    };
    for (i, a) in cuts.iter().enumerate() {
        assert_eq!(shares(&[a]), whole, "cut at {a}");
        // And a second cut further on (or at the same id: an empty share).
        let b = &cuts[(i * 7 + 3) % cuts.len()];
        let mut two = [a.as_str(), b.as_str()];
        two.sort();
        assert_eq!(shares(&two), whole, "cuts at {two:?}");
    }
}

/// A targeted load (`explain`'s) keeps exactly the customer asked for, with
/// the same events, values and roster entry as a full load, and the same
/// summary: every row is still read and counted (issue 10).
#[test]
fn a_targeted_load_keeps_one_customer_as_a_full_load_has_it() {
    let checked = credit();
    let prog = &checked.program;
    let load = |within| load_example(prog, within);
    let horizon = Some(prog.horizon(as_of()));
    let full = load(input::Within::new(horizon, 0));
    assert!(full.customers.len() > 10);
    for (i, c) in full.customers.iter().enumerate() {
        let one = load(input::Within::new(horizon, 0).only(&c.id, exact));
        let j = one.find(&c.id).expect("the customer asked for is kept");
        assert!(one.customers.len() < full.customers.len(), "{}", c.id);
        assert_eq!(one.summary, full.summary);
        let found = &one.customers[j];
        assert_eq!((found.class, found.since), (c.class, c.since), "{}", c.id);
        assert_eq!(
            events_with_values(prog, &one, j),
            events_with_values(prog, &full, i),
            "{}",
            c.id
        );
    }
}
