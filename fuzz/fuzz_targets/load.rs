//! Any text → `rulebook::load` (parse, check, lower) returns, never panics.
//! A rulebook that loads is then scored, so that what the checker lets
//! through (a 2^31-month window, a huge tier) cannot panic the evaluator:
//! every class, over no events and over a few valid events of every kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rulebook::date::Date;
use rulebook::eval::Evaluator;
use rulebook::input::{Customer, Event};

fuzz_target!(|src: &str| {
    let Ok(checked) = rulebook::load(src) else {
        return;
    };
    let prog = &checked.program;
    let as_of = Date::from_ymd(2026, 6, 30).unwrap_or_default();
    let _ = prog.horizon(as_of);
    let eval = Evaluator::new(prog, as_of);
    // One valid value per attribute of every kind: its default, an allowed
    // text, its minimum, or zero (0, false, 1970-01-01).
    let mut vals = Vec::new();
    let mut starts = Vec::new();
    for kind in &prog.schema.kinds {
        starts.push(vals.len() as u32);
        for a in &kind.attrs {
            let v = a
                .default
                .or_else(|| a.allowed.as_ref().and_then(|s| s.first()).map(|&(id, _)| i64::from(id)))
                .or_else(|| a.min.map(|m| m.raw()))
                .unwrap_or(0);
            vals.push(v);
        }
    }
    let dates = [0, 1, 2, 13, 400].map(|n| as_of.minus_months(n));
    let mut events = Vec::new();
    for (kind, &at) in starts.iter().enumerate() {
        for &date in &dates {
            events.push(Event {
                cust: 0,
                date,
                line: events.len() as u32 + 2,
                kind: kind as u16,
                file: 0,
                vals: at,
            });
        }
    }
    for class in (0..prog.classes.len()).map(|c| Some(c as u16)).chain([None]) {
        for since in [None, Some(as_of.minus_months(24))] {
            let c = Customer {
                id: "c".into(),
                class,
                since,
            };
            let _ = eval.evaluate(&c, &[], &vals, true);
            let _ = eval.evaluate(&c, &events, &vals, true);
        }
    }
});
