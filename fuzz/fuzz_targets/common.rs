//! Shared by the input targets: the credit rulebook, loaded once, and one
//! read-then-score pass over a fuzzed log.
#![allow(dead_code)]

use std::io::Cursor;
use std::sync::OnceLock;

use rulebook::date::Date;
use rulebook::eval::Evaluator;
use rulebook::input::{self, Format, LoadOptions, Roster, Source};
use rulebook::Checked;

const CREDIT: &str = include_str!("../../rules/credit.rules");

pub fn credit() -> &'static Checked {
    static BOOK: OnceLock<Checked> = OnceLock::new();
    BOOK.get_or_init(|| rulebook::load(CREDIT).unwrap_or_else(|_| panic!("rules/credit.rules does not load")))
}

/// Reads `data` as a log of `format`, strict and not, with and without
/// `keep_going`, and scores every customer of each log that loads.
pub fn read_and_score(data: &[u8], format: Format) {
    let checked = credit();
    let prog = &checked.program;
    let as_of = Date::from_ymd(2026, 6, 30).unwrap_or_else(|| unreachable!());
    let eval = Evaluator::new(prog, as_of);
    // Every mix of the options, with and without a horizon.
    for (keep_going, strict, horizon) in [
        (false, false, None),
        (true, false, Some(prog.horizon(as_of))),
        (true, true, None),
        (false, true, Some(prog.horizon(as_of))),
    ] {
        let source = Source {
            name: "events".into(),
            format,
            reader: Box::new(Cursor::new(data.to_vec())),
        };
        let opts = LoadOptions {
            as_of,
            strict,
            keep_going,
        };
        let within = input::Within::new(horizon, 0);
        let folded_source = Source {
            name: "events".into(),
            format,
            reader: Box::new(Cursor::new(data.to_vec())),
        };
        let stored = input::load_within(vec![source], &prog.schema, &Roster::default(), opts, within);
        let folded = input::fold_within(
            vec![folded_source],
            &prog.schema,
            &Roster::default(),
            opts,
            within,
            &eval,
        );
        // Folding and storing read the same rows, and score every customer the same.
        assert_eq!(
            stored.is_ok(),
            folded.is_ok(),
            "one of two reads of the same log failed"
        );
        if let (Ok(log), Ok(folded)) = (stored, folded) {
            assert_eq!(log.summary, folded.summary);
            for (i, c) in log.customers.iter().enumerate() {
                let outcome = eval.evaluate(c, log.events_of(i), &log.vals, true);
                let from_state = eval.evaluate_in(&folded, i, false).unwrap_or_else(|| unreachable!());
                let strip = |o: rulebook::eval::Outcome| rulebook::eval::Outcome {
                    dims: o
                        .dims
                        .into_iter()
                        .map(|d| rulebook::eval::DimOutcome { ledger: vec![], ..d })
                        .collect(),
                    total_ledger: vec![],
                    ..o
                };
                assert_eq!(outcome.map(strip), from_state, "customer {}", c.id);
            }
        }
    }
}
