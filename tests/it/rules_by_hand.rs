//! Every clause of the published standard on small, hand-computed cases.
//!
//! Each expected number is worked out from the reading of the standard in `docs/standard.md` by
//! hand (the arithmetic is in the comments), never copied from the tool's
//! output. The cases run the real binary on `rules/credit.rules`.
//!
//! Unless a case says otherwise the as-of date is 2026-06-30, so the period
//! is 2025-07-01 … 2026-06-30 and S8's three years are 2023-07-01 … 2026-06-30.
//! A power customer without events scores payment 30, safety 20, legal 30,
//! cooperation 10, operations 0 and development 0 (not assessed): 90.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

const AS_OF: &str = "2026-06-30";
const HEADER: &str = "customer,date,kind,months,verified,reach,persons,dimension,score";
const ATTRS: [&str; 6] = ["months", "verified", "reach", "persons", "dimension", "score"];

/// A fresh scratch directory for one run.
fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "rules_by_hand-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// One event as a CSV row of the examples' header: `"C1 2026-03-10 arrears months=1"`.
fn csv_row(event: &str) -> String {
    let mut words = event.split_whitespace();
    let (customer, date, kind) = (
        words.next().unwrap_or(""),
        words.next().unwrap_or(""),
        words.next().unwrap_or(""),
    );
    let mut cells = vec![String::new(); ATTRS.len()];
    for w in words {
        let (k, v) = w.split_once('=').unwrap_or_else(|| panic!("`{w}` is not attr=value"));
        let i = ATTRS
            .iter()
            .position(|a| *a == k)
            .unwrap_or_else(|| panic!("unknown attribute `{k}`"));
        cells[i] = v.to_string();
    }
    format!("{customer},{date},{kind},{}", cells.join(","))
}

/// Scores several event files (each a list of events, read in the order
/// given) with an optional roster (`customer,class,since` rows); one JSON
/// object per customer, sorted by id.
fn score_files(files: &[&[&str]], roster: &[&str], as_of: &str) -> Vec<Value> {
    let dir = scratch();
    let mut args: Vec<String> = vec![
        "score".into(),
        concat!(env!("CARGO_MANIFEST_DIR"), "/rules/credit.rules").into(),
    ];
    for (i, events) in files.iter().enumerate() {
        let path = dir.join(format!("events{i}.csv"));
        let rows: Vec<String> = events.iter().map(|e| csv_row(e)).collect();
        std::fs::write(&path, format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap_or_else(|e| panic!("{e}"));
        args.extend(["--events".into(), path.display().to_string()]);
    }
    if !roster.is_empty() {
        let path = dir.join("customers.csv");
        std::fs::write(&path, format!("customer,class,since\n{}\n", roster.join("\n")))
            .unwrap_or_else(|e| panic!("{e}"));
        args.extend(["--customers".into(), path.display().to_string()]);
    }
    args.extend(["--as-of".into(), as_of.into(), "--format".into(), "jsonl".into()]);
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run rulebook: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rulebook failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Every customer of one log.
fn score(events: &[&str], roster: &[&str], as_of: &str) -> Vec<Value> {
    score_files(&[events], roster, as_of)
}

/// The only customer of a log.
fn one(events: &[&str], roster: &[&str], as_of: &str) -> Value {
    let mut all = score(events, roster, as_of);
    assert_eq!(all.len(), 1, "expected one customer: {all:?}");
    all.remove(0)
}

/// Customer C1, no roster, as of 2026-06-30; events are written without the customer.
fn c1(events: &[&str]) -> Value {
    let rows: Vec<String> = events.iter().map(|e| format!("C1 {e}")).collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    one(&rows, &[], AS_OF)
}

/// A number of the result as written in the JSON (`20.5`), or `-` when absent.
fn num(v: &Value, path: &str) -> String {
    path.split('.')
        .try_fold(v, |v, k| v.get(k))
        .map_or("-".into(), |n| n.to_string())
}

fn dim(v: &Value, name: &str) -> String {
    num(v, &format!("dimensions.{name}"))
}

fn grade(v: &Value) -> String {
    v.get("grade").and_then(Value::as_str).unwrap_or("-").to_string()
}

fn flags(v: &Value) -> Vec<String> {
    v.get("flags").and_then(Value::as_array).map_or(vec![], |a| {
        a.iter().filter_map(Value::as_str).map(str::to_string).collect()
    })
}

/// Asserts every dimension (the set, not the order: a parsed JSON object is
/// sorted by key; `score_cli` pins the order), the total and the grade.
#[track_caller]
fn expect(v: &Value, dims: &[(&str, &str)], total: &str, want_grade: &str) {
    let got: Vec<(String, String)> = v
        .get("dimensions")
        .and_then(Value::as_object)
        .map_or(vec![], |m| m.iter().map(|(k, n)| (k.clone(), n.to_string())).collect());
    let mut want: Vec<(String, String)> = dims.iter().map(|(k, n)| (k.to_string(), n.to_string())).collect();
    want.sort();
    assert_eq!(got, want, "dimensions of {v}");
    assert_eq!(num(v, "total"), total, "total of {v}");
    assert_eq!(grade(v), want_grade, "grade of {v}");
}

const NOT_ASSESSED: [&str; 2] = ["not assessed: operations", "not assessed: development"];

// ── T1: full marks, and a customer without events ─────────────────────────────

#[test]
fn t1_a_roster_customer_without_events_starts_from_full_marks() {
    let v = one(&[], &["C1,power,"], AS_OF);
    expect(
        &v,
        &[
            ("payment", "30"),
            ("safety", "20"),
            ("legal", "30"),
            ("cooperation", "10"),
            ("operations", "0"),
            ("development", "0"),
        ],
        "90",
        "AAA",
    );
    assert_eq!(flags(&v), NOT_ASSESSED);
}

// ── P1–P3: episodes ───────────────────────────────────────────────────────────

#[test]
fn p1_one_arrears_of_one_month_is_an_episode_of_severity_1() {
    // 30 − 10 (P1) + 0.5 (P4).
    assert_eq!(dim(&c1(&["2026-03-10 arrears months=1"]), "payment"), "20.5");
}

#[test]
fn p2_an_episode_of_two_consecutive_months() {
    // January and February: length 2 → −20; P4 twice +1. 30 − 20 + 1 = 11.
    assert_eq!(
        dim(
            &c1(&["2026-01-10 arrears months=1", "2026-02-10 arrears months=1"]),
            "payment"
        ),
        "11"
    );
}

#[test]
fn p2_a_single_arrears_of_two_months_has_severity_2() {
    // Length 1, months 2 → severity 2 → −20; no P4. 30 − 20 = 10.
    assert_eq!(dim(&c1(&["2026-03-10 arrears months=2"]), "payment"), "10");
}

#[test]
fn p3_three_consecutive_months_by_length() {
    // Length 3 → −30; P4 three times +1.5. 30 − 30 + 1.5 = 1.5.
    let v = c1(&[
        "2026-01-05 arrears months=1",
        "2026-02-05 arrears months=1",
        "2026-03-05 arrears months=1",
    ]);
    assert_eq!(dim(&v, "payment"), "1.5");
    // Payment 1.5 is not 0, no override: 1.5 + 20 + 30 + 10 = 61.5 → B.
    assert_eq!((num(&v, "total"), grade(&v)), ("61.5".into(), "B".into()));
}

#[test]
fn p3_by_months_and_beyond_three() {
    // months 3 → −30 → 0; months 7 → still −30 (3 or more) → 0.
    assert_eq!(dim(&c1(&["2026-03-10 arrears months=3"]), "payment"), "0");
    assert_eq!(dim(&c1(&["2026-03-10 arrears months=7"]), "payment"), "0");
    // Lighting (full marks 50) shows that 7 months is −30, not more: 50 − 30 = 20.
    let v = one(&["C1 2026-03-10 arrears months=7"], &["C1,lighting,"], AS_OF);
    assert_eq!(dim(&v, "payment"), "20");
}

#[test]
fn p1_p3_severity_is_the_larger_of_length_and_the_longest_arrears() {
    // February (months 1) and March (months 3): length 2, longest 3 → −30; P4 +0.5.
    // Lighting shows the raw points: 50 − 30 + 0.5 = 20.5.
    let v = one(
        &["C1 2026-02-10 arrears months=1", "C1 2026-03-10 arrears months=3"],
        &["C1,lighting,"],
        AS_OF,
    );
    assert_eq!(dim(&v, "payment"), "20.5");
    // Four months in a row of months 1: length 4 → −30 (3+), P4 +2: 50 − 30 + 2 = 22.
    let v = one(
        &[
            "C1 2025-10-10 arrears months=1",
            "C1 2025-11-10 arrears months=1",
            "C1 2025-12-10 arrears months=1",
            "C1 2026-01-10 arrears months=1",
        ],
        &["C1,lighting,"],
        AS_OF,
    );
    assert_eq!(dim(&v, "payment"), "22");
}

#[test]
fn p1_two_arrears_in_one_month_are_one_month() {
    // One calendar month → episode of 1 → −10; P4 counts each event: +1. 30 − 10 + 1 = 21.
    assert_eq!(
        dim(
            &c1(&["2026-03-01 arrears months=1", "2026-03-31 arrears months=1"]),
            "payment"
        ),
        "21"
    );
}

#[test]
fn p1_p3_an_episode_crosses_the_year_end() {
    // December (months 1) + January (months 2): one episode, length 2, longest 2 → −20; P4 +0.5.
    assert_eq!(
        dim(
            &c1(&["2025-12-20 arrears months=1", "2026-01-05 arrears months=2"]),
            "payment"
        ),
        "10.5"
    );
    // November and January with December empty: two episodes −10 and −20; P4 +0.5 → 0.5.
    assert_eq!(
        dim(
            &c1(&["2025-11-20 arrears months=1", "2026-01-05 arrears months=2"]),
            "payment"
        ),
        "0.5"
    );
}

#[test]
fn p1_p3_two_separate_episodes_each_deduct() {
    // August 2025 (months 2) → −20; March 2026 (months 1) → −10, P4 +0.5. Lighting: 50 − 30 + 0.5.
    let v = one(
        &["C1 2025-08-10 arrears months=2", "C1 2026-03-10 arrears months=1"],
        &["C1,lighting,"],
        AS_OF,
    );
    assert_eq!(dim(&v, "payment"), "20.5");
}

#[test]
fn p1_p3_the_same_month_of_another_year_is_not_consecutive() {
    // As of 2026-06-15 the period is 2025-06-16 … 2026-06-15: June 2025 and June 2026
    // are 12 months apart, two episodes: −10 −10, P4 +1. 30 − 20 + 1 = 11.
    let v = one(
        &["C1 2025-06-20 arrears months=1", "C1 2026-06-10 arrears months=1"],
        &[],
        "2026-06-15",
    );
    assert_eq!(dim(&v, "payment"), "11");
}

#[test]
fn p1_p3_episodes_are_cut_at_the_period_start() {
    // May, June (on 2025-06-30, the last day before the period) and July 2025:
    // only July is in the period → an episode of 1: −10, P4 +0.5 (July only).
    let v = c1(&[
        "2025-05-15 arrears months=1",
        "2025-06-30 arrears months=1",
        "2025-07-15 arrears months=1",
    ]);
    assert_eq!(dim(&v, "payment"), "20.5");
    // A long arrears just before the period does not lengthen July's episode.
    assert_eq!(
        dim(
            &c1(&["2025-06-20 arrears months=3", "2025-07-10 arrears months=1"]),
            "payment"
        ),
        "20.5"
    );
}

#[test]
fn p1_p3_the_partial_first_month_of_the_period_counts() {
    // As of 2026-06-15 the period starts 2025-06-16: 2025-06-20 is in it, and June
    // and July 2025 are consecutive months → length 2 → −20; P4 +1. 30 − 20 + 1 = 11.
    let v = one(
        &["C1 2025-06-20 arrears months=1", "C1 2025-07-10 arrears months=1"],
        &[],
        "2026-06-15",
    );
    assert_eq!(dim(&v, "payment"), "11");
    // 2025-06-10 is before the period: July alone → −10 + 0.5.
    let v = one(
        &["C1 2025-06-10 arrears months=1", "C1 2025-07-10 arrears months=1"],
        &[],
        "2026-06-15",
    );
    assert_eq!(dim(&v, "payment"), "20.5");
}

// ── P4–P7 ─────────────────────────────────────────────────────────────────────

#[test]
fn p4_half_a_point_only_for_months_1() {
    // Lighting: months 1 → −10 + 0.5 = 40.5; months 2 → −20, no P4 = 30.
    assert_eq!(
        dim(
            &one(&["C1 2026-03-10 arrears months=1"], &["C1,lighting,"], AS_OF),
            "payment"
        ),
        "40.5"
    );
    assert_eq!(
        dim(
            &one(&["C1 2026-03-10 arrears months=2"], &["C1,lighting,"], AS_OF),
            "payment"
        ),
        "30"
    );
}

#[test]
fn p5_wrong_account_minus_10_each() {
    // No arrears, so P7 +5 applies too: 30 − 10 + 5 = 25; twice: 30 − 20 + 5 = 15.
    assert_eq!(dim(&c1(&["2026-02-02 wrong_account"]), "payment"), "25");
    assert_eq!(
        dim(
            &c1(&["2026-02-02 wrong_account", "2026-03-03 wrong_account"]),
            "payment"
        ),
        "15"
    );
}

#[test]
fn p6_only_verified_tips_count() {
    // Arrears months 2 (−20, no P7): with a verified tip +10 → 20; unverified → 10.
    assert_eq!(
        dim(
            &c1(&["2026-03-10 arrears months=2", "2026-04-01 defaulter_tip verified=true"]),
            "payment"
        ),
        "20"
    );
    assert_eq!(
        dim(
            &c1(&["2026-03-10 arrears months=2", "2026-04-01 defaulter_tip verified=false"]),
            "payment"
        ),
        "10"
    );
    // Two verified tips: −20 + 20 = 30.
    assert_eq!(
        dim(
            &c1(&[
                "2026-03-10 arrears months=2",
                "2026-04-01 defaulter_tip verified=true",
                "2026-05-01 defaulter_tip verified=true"
            ]),
            "payment"
        ),
        "30"
    );
}

#[test]
fn p7_a_clear_year_with_and_without_history() {
    let ev = ["C1 2026-02-02 wrong_account"];
    // No roster entry, or no `since`: covered → 30 − 10 + 5 = 25.
    assert_eq!(dim(&one(&ev, &[], AS_OF), "payment"), "25");
    assert_eq!(dim(&one(&ev, &["C1,power,"], AS_OF), "payment"), "25");
    // The window's first day is 2025-07-01: since on it covers, a day later does not.
    assert_eq!(dim(&one(&ev, &["C1,power,2025-07-01"], AS_OF), "payment"), "25");
    assert_eq!(dim(&one(&ev, &["C1,power,2025-07-02"], AS_OF), "payment"), "20");
    // Any arrears in the 12 months blocks it: −10 −10 +0.5.
    assert_eq!(
        dim(
            &c1(&["2026-02-02 wrong_account", "2025-07-01 arrears months=1"]),
            "payment"
        ),
        "10.5"
    );
    // An arrears on 2025-06-30, exactly 12 months before, is outside: P7 applies, no P1.
    assert_eq!(
        dim(
            &c1(&["2026-02-02 wrong_account", "2025-06-30 arrears months=1"]),
            "payment"
        ),
        "25"
    );
}

#[test]
fn since_gates_bonuses_only_events_before_it_count() {
    // since 2026-01-01; an arrears on 2025-08-01 still counts: −10 + 0.5.
    assert_eq!(
        dim(
            &one(&["C1 2025-08-01 arrears months=1"], &["C1,power,2026-01-01"], AS_OF),
            "payment"
        ),
        "20.5"
    );
}

// ── S1–S8 ─────────────────────────────────────────────────────────────────────

#[test]
fn s1_electrical_accidents_minus_5_each() {
    // An accident also blocks S8: 20 − 5 = 15; two: 10.
    assert_eq!(dim(&c1(&["2026-01-01 safety_accident"]), "safety"), "15");
    assert_eq!(
        dim(
            &c1(&["2026-01-01 safety_accident", "2026-02-01 safety_accident"]),
            "safety"
        ),
        "10"
    );
}

#[test]
fn s2_s3_branch_trips_are_tiered_by_count() {
    // One → −10; two → −20 in all.
    assert_eq!(dim(&c1(&["2026-01-01 cascade_trip reach=branch"]), "safety"), "10");
    assert_eq!(
        dim(
            &c1(&[
                "2026-01-01 cascade_trip reach=branch",
                "2026-02-01 cascade_trip reach=branch"
            ]),
            "safety"
        ),
        "0"
    );
}

#[test]
fn s3_three_branch_trips_are_still_minus_20_in_all() {
    // Safety cannot show −20 against −30 (both clamp to 0); the ledger's raw value can: 20 − 20 = 0, not −10.
    let dir = scratch();
    let path = dir.join("events.csv");
    let rows: Vec<String> = [
        "C1 2025-09-01 cascade_trip reach=branch",
        "C1 2026-01-01 cascade_trip reach=branch",
        "C1 2026-02-01 cascade_trip reach=branch",
    ]
    .iter()
    .map(|e| csv_row(e))
    .collect();
    std::fs::write(&path, format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args([
            "score",
            concat!(env!("CARGO_MANIFEST_DIR"), "/rules/credit.rules"),
            "--events",
        ])
        .arg(&path)
        .args(["--as-of", AS_OF, "--format", "jsonl", "--explain"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let v: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(num(&v, "ledger.dimensions.safety.raw"), "0");
    assert_eq!(dim(&v, "safety"), "0");
}

#[test]
fn s2_s4_only_trips_of_the_right_reach() {
    // One substation trip: S4 −20, S2 does not see it → 0. Lighting has no safety.
    assert_eq!(dim(&c1(&["2026-01-01 cascade_trip reach=substation"]), "safety"), "0");
    // A branch and a substation trip: −10 −20 → clamp 0.
    assert_eq!(
        dim(
            &c1(&[
                "2026-01-01 cascade_trip reach=branch",
                "2026-02-01 cascade_trip reach=substation"
            ]),
            "safety"
        ),
        "0"
    );
}

#[test]
fn s5_concealed_accident_minus_10_each() {
    assert_eq!(dim(&c1(&["2026-01-01 concealed_accident"]), "safety"), "10");
    assert_eq!(
        dim(
            &c1(&["2026-01-01 concealed_accident", "2026-01-02 concealed_accident"]),
            "safety"
        ),
        "0"
    );
}

#[test]
fn s6_minus_5_per_person() {
    // History from 2025-01-01 does not cover S8's three years, so no +10 here.
    let r = ["C1,power,2025-01-01"];
    assert_eq!(
        dim(
            &one(&["C1 2026-01-01 unqualified_electrician persons=3"], &r, AS_OF),
            "safety"
        ),
        "5"
    );
    // persons absent → 1: −5; plus 2 persons −10: 20 − 15 = 5.
    assert_eq!(
        dim(
            &one(
                &[
                    "C1 2026-01-01 unqualified_electrician",
                    "C1 2026-02-01 unqualified_electrician persons=2"
                ],
                &r,
                AS_OF
            ),
            "safety"
        ),
        "5"
    );
    assert_eq!(
        dim(&one(&["C1 2026-01-01 unqualified_electrician"], &r, AS_OF), "safety"),
        "15"
    );
    // With S8 (covered, no accident): 20 − 15 + 10 = 15.
    assert_eq!(
        dim(&c1(&["2026-01-01 unqualified_electrician persons=3"]), "safety"),
        "15"
    );
}

#[test]
fn s7_management_deficiency_once() {
    let r = ["C1,power,2025-01-01"]; // no S8
    assert_eq!(
        dim(&one(&["C1 2026-01-01 management_deficiency"], &r, AS_OF), "safety"),
        "15"
    );
    assert_eq!(
        dim(
            &one(
                &[
                    "C1 2025-08-01 management_deficiency",
                    "C1 2026-01-01 management_deficiency",
                    "C1 2026-03-01 management_deficiency"
                ],
                &r,
                AS_OF
            ),
            "safety"
        ),
        "15"
    );
    // Outside the period it does not count.
    assert_eq!(
        dim(&one(&["C1 2025-06-30 management_deficiency"], &r, AS_OF), "safety"),
        "20"
    );
}

#[test]
fn s8_three_clear_years_restore_lost_points() {
    // S6 −5, S8 +10 → 25 → clamped to 20.
    assert_eq!(dim(&c1(&["2026-01-01 unqualified_electrician"]), "safety"), "20");
    // The window is 2023-07-01 … 2026-06-30: an accident on 2023-06-30 is outside (S8 applies) …
    assert_eq!(
        dim(
            &c1(&["2026-01-01 unqualified_electrician", "2023-06-30 safety_accident"]),
            "safety"
        ),
        "20"
    );
    // … one on 2023-07-01 is inside: no S8, and no S1 either (outside the period): 15.
    assert_eq!(
        dim(
            &c1(&["2026-01-01 unqualified_electrician", "2023-07-01 safety_accident"]),
            "safety"
        ),
        "15"
    );
    // Each of the three kinds blocks it; an S2/S4 trip outside the period deducts nothing.
    assert_eq!(
        dim(
            &c1(&[
                "2026-01-01 unqualified_electrician",
                "2024-01-01 cascade_trip reach=branch"
            ]),
            "safety"
        ),
        "15"
    );
    assert_eq!(
        dim(
            &c1(&[
                "2026-01-01 unqualified_electrician",
                "2024-01-01 cascade_trip reach=substation"
            ]),
            "safety"
        ),
        "15"
    );
    assert_eq!(
        dim(
            &c1(&["2026-01-01 unqualified_electrician", "2024-01-01 concealed_accident"]),
            "safety"
        ),
        "15"
    );
    // Other safety kinds do not block it.
    assert_eq!(
        dim(
            &c1(&["2026-01-01 unqualified_electrician", "2026-02-01 management_deficiency"]),
            "safety"
        ),
        "20"
    );
}

#[test]
fn s8_needs_history_covering_three_years() {
    let ev = ["C1 2026-01-01 unqualified_electrician"];
    assert_eq!(dim(&one(&ev, &["C1,power,2023-07-01"], AS_OF), "safety"), "20");
    assert_eq!(dim(&one(&ev, &["C1,power,2023-07-02"], AS_OF), "safety"), "15");
}

// ── L1–L6 ─────────────────────────────────────────────────────────────────────

#[test]
fn l1_theft_empties_legal() {
    let v = c1(&["2026-01-01 theft"]);
    // 30 + 20 + 0 + 10 + 0 + 0 = 60, but legal 0 ⇒ D (T2).
    expect(
        &v,
        &[
            ("payment", "30"),
            ("safety", "20"),
            ("legal", "0"),
            ("cooperation", "10"),
            ("operations", "0"),
            ("development", "0"),
        ],
        "60",
        "D",
    );
}

#[test]
fn l2_l3_breaches_are_tiered_by_count() {
    assert_eq!(dim(&c1(&["2026-01-01 breach"]), "legal"), "10");
    assert_eq!(dim(&c1(&["2026-01-01 breach", "2026-02-01 breach"]), "legal"), "0");
    // −30 in all for three, seen through L6: 30 − 30 + 20 = 20 (per event it would be 30 − 60 + 20 → 0).
    let v = c1(&[
        "2025-08-01 breach",
        "2026-01-01 breach",
        "2026-02-01 breach",
        "2026-03-01 police_cooperation",
        "2026-04-01 police_cooperation",
    ]);
    assert_eq!(dim(&v, "legal"), "20");
    // Two breaches and one cooperation: 30 − 30 + 10 = 10.
    assert_eq!(
        dim(
            &c1(&[
                "2026-01-01 breach",
                "2026-02-01 breach",
                "2026-03-01 police_cooperation"
            ]),
            "legal"
        ),
        "10"
    );
}

#[test]
fn l4_obstruction_minus_10_each() {
    assert_eq!(dim(&c1(&["2026-01-01 obstruction"]), "legal"), "20");
    assert_eq!(
        dim(&c1(&["2026-01-01 obstruction", "2026-02-01 obstruction"]), "legal"),
        "10"
    );
}

#[test]
fn l5_facility_damage_minus_30() {
    // Lighting shows −30 exactly: 50 − 30 = 20; power: 0 ⇒ D.
    assert_eq!(
        dim(
            &one(&["C1 2026-01-01 facility_damage"], &["C1,lighting,"], AS_OF),
            "legal"
        ),
        "20"
    );
    let v = c1(&["2026-01-01 facility_damage"]);
    assert_eq!((dim(&v, "legal"), grade(&v)), ("0".into(), "D".into()));
}

#[test]
fn l6_cooperation_plus_10_each_never_above_full_marks() {
    assert_eq!(dim(&c1(&["2026-01-01 police_cooperation"]), "legal"), "30");
    assert_eq!(
        dim(
            &c1(&[
                "2025-11-11 theft",
                "2025-12-01 police_cooperation",
                "2026-01-20 police_cooperation"
            ]),
            "legal"
        ),
        "20"
    );
    // The bonus is added before the clamp, once at the end: −30 −30 +10 = −50 → 0, not 10.
    assert_eq!(
        dim(
            &c1(&["2025-11-11 theft", "2025-11-12 theft", "2025-12-01 police_cooperation"]),
            "legal"
        ),
        "0"
    );
}

// ── C1–C5 ─────────────────────────────────────────────────────────────────────

#[test]
fn c1_c5_cooperation_deductions() {
    assert_eq!(dim(&c1(&["2026-01-01 contract_bad_faith"]), "cooperation"), "0");
    assert_eq!(dim(&c1(&["2026-01-01 test_noncooperation"]), "cooperation"), "5");
    assert_eq!(dim(&c1(&["2026-01-01 inspection_refusal"]), "cooperation"), "5");
    assert_eq!(dim(&c1(&["2026-01-01 rectification_overdue"]), "cooperation"), "0");
    assert_eq!(dim(&c1(&["2026-01-01 dispatch_violation"]), "cooperation"), "0");
    assert_eq!(
        dim(
            &c1(&["2026-01-01 test_noncooperation", "2026-02-01 inspection_refusal"]),
            "cooperation"
        ),
        "0"
    );
}

#[test]
fn c1_c5_point_values_seen_through_the_total() {
    // Cooperation clamps at 0, so each value is checked against a known total:
    // C2 −5 with ops 5 and dev 5 → 30 + 20 + 30 + 5 + 10 = 95.
    let assess = [
        "2026-05-01 assessment dimension=operations score=5",
        "2026-05-01 assessment dimension=development score=5",
    ];
    for (kind, coop) in [
        ("contract_bad_faith", "0"),
        ("test_noncooperation", "5"),
        ("inspection_refusal", "5"),
        ("rectification_overdue", "0"),
        ("dispatch_violation", "0"),
    ] {
        let ev = format!("2026-01-01 {kind}");
        let v = c1(&[ev.as_str(), assess[0], assess[1]]);
        let total = if coop == "5" { "95" } else { "90" };
        assert_eq!(
            (dim(&v, "cooperation"), num(&v, "total")),
            (coop.into(), total.into()),
            "{kind}"
        );
    }
}

// ── O1, D1, A1: assessments ───────────────────────────────────────────────────

#[test]
fn assessments_the_latest_by_date_wins() {
    // The later date wins even when written first.
    let v = c1(&[
        "2026-05-01 assessment dimension=operations score=4",
        "2025-09-01 assessment dimension=operations score=1",
    ]);
    assert_eq!(dim(&v, "operations"), "4");
    assert_eq!(flags(&v), ["not assessed: development"]);
}

#[test]
fn assessments_on_the_same_date_the_later_row_wins() {
    let v = c1(&[
        "2026-03-01 assessment dimension=development score=5",
        "2026-03-01 assessment dimension=development score=2",
    ]);
    assert_eq!(dim(&v, "development"), "2");
    let v = c1(&[
        "2026-03-01 assessment dimension=development score=2",
        "2026-03-01 assessment dimension=development score=5",
    ]);
    assert_eq!(dim(&v, "development"), "5");
}

#[test]
fn assessments_on_the_same_date_in_two_files_the_later_file_wins() {
    let a: &[&str] = &["C1 2026-03-01 assessment dimension=operations score=1"];
    let b: &[&str] = &["C1 2026-03-01 assessment dimension=operations score=3"];
    assert_eq!(dim(&score_files(&[a, b], &[], AS_OF)[0], "operations"), "3");
    assert_eq!(dim(&score_files(&[b, a], &[], AS_OF)[0], "operations"), "1");
    // The date still comes first: a later date in the first file beats the second file.
    let later: &[&str] = &["C1 2026-04-01 assessment dimension=operations score=4.5"];
    assert_eq!(dim(&score_files(&[later, b], &[], AS_OF)[0], "operations"), "4.5");
}

#[test]
fn assessments_are_clamped_to_0_5_not_rejected() {
    let v = c1(&[
        "2026-03-01 assessment dimension=operations score=7.5",
        "2026-03-01 assessment dimension=development score=-2",
    ]);
    assert_eq!(
        (dim(&v, "operations"), dim(&v, "development")),
        ("5".into(), "0".into())
    );
    assert!(flags(&v).is_empty(), "assessed, even if 0: {v}");
    // 30 + 20 + 30 + 10 + 5 + 0.
    assert_eq!(num(&v, "total"), "95");
}

#[test]
fn assessments_add_up_exactly() {
    // 90 + 3.75 + 4.25 = 98.
    let v = c1(&[
        "2026-03-01 assessment dimension=operations score=3.75",
        "2026-03-01 assessment dimension=development score=4.25",
    ]);
    assert_eq!(
        (dim(&v, "operations"), dim(&v, "development"), num(&v, "total")),
        ("3.75".into(), "4.25".into(), "98".into())
    );
}

#[test]
fn no_assessment_in_the_period_is_0_and_flagged() {
    // On 2025-06-30 (before the period), after the as-of date, or for another dimension: none counts.
    let v = c1(&[
        "2025-06-30 assessment dimension=operations score=5",
        "2026-07-01 assessment dimension=operations score=5",
        "2026-03-01 assessment dimension=finance score=5",
    ]);
    assert_eq!(
        (dim(&v, "operations"), dim(&v, "development")),
        ("0".into(), "0".into())
    );
    assert_eq!(flags(&v), NOT_ASSESSED);
    // The period's first day counts.
    assert_eq!(
        dim(
            &c1(&["2025-07-01 assessment dimension=operations score=5"]),
            "operations"
        ),
        "5"
    );
}

// ── T1, T2, G1 ────────────────────────────────────────────────────────────────

#[test]
fn t1_clamping_at_zero_and_at_full_marks() {
    // Payment −30 −20 = −20 → 0 (D); cooperation −10 −10 → 0; legal +10 +10 → 30.
    let v = c1(&[
        "2025-08-10 arrears months=3",
        "2026-01-10 arrears months=2",
        "2026-01-01 contract_bad_faith",
        "2026-02-01 dispatch_violation",
        "2026-03-01 police_cooperation",
        "2026-04-01 police_cooperation",
    ]);
    expect(
        &v,
        &[
            ("payment", "0"),
            ("safety", "20"),
            ("legal", "30"),
            ("cooperation", "0"),
            ("operations", "0"),
            ("development", "0"),
        ],
        "50",
        "D",
    );
}

#[test]
fn t2_override_d_whatever_the_total() {
    let assess = [
        "2026-05-01 assessment dimension=operations score=5",
        "2026-05-01 assessment dimension=development score=5",
    ];
    // Payment 0: 0 + 20 + 30 + 10 + 5 + 5 = 70, an A by band, D by override.
    let v = c1(&["2026-03-10 arrears months=3", assess[0], assess[1]]);
    assert_eq!((num(&v, "total"), grade(&v)), ("70".into(), "D".into()));
    // Legal 0 likewise.
    let v = c1(&["2026-03-10 theft", assess[0], assess[1]]);
    assert_eq!((num(&v, "total"), grade(&v)), ("70".into(), "D".into()));
    // Payment 0.5 is not 0: −20 (August) −10 +0.5 (March) → 0.5; total 0.5 + 20 + 30 + 10 + 10 = 70.5 → A.
    let v = c1(&[
        "2025-08-10 arrears months=2",
        "2026-03-10 arrears months=1",
        assess[0],
        assess[1],
    ]);
    assert_eq!(
        (dim(&v, "payment"), num(&v, "total"), grade(&v)),
        ("0.5".into(), "70.5".into(), "A".into())
    );
    // Safety or cooperation at 0 is no override: 30 + 0 + 30 + 0 + 10 = 70 → A.
    let v = c1(&[
        "2026-03-10 cascade_trip reach=substation",
        "2026-03-11 contract_bad_faith",
        assess[0],
        assess[1],
    ]);
    assert_eq!((num(&v, "total"), grade(&v)), ("70".into(), "A".into()));
}

/// A customer with the given assessments and extra events, for the band edges.
fn banded(extra: &[&str], ops: &str, dev: &str) -> Value {
    let o = format!("2026-05-01 assessment dimension=operations score={ops}");
    let d = format!("2026-05-01 assessment dimension=development score={dev}");
    let mut ev: Vec<&str> = extra.to_vec();
    ev.extend([o.as_str(), d.as_str()]);
    c1(&ev)
}

#[test]
fn g1_band_edges() {
    // 90 + 0 + 0 = 90 → AAA.
    let v = banded(&[], "0", "0");
    assert_eq!((num(&v, "total"), grade(&v)), ("90".into(), "AAA".into()));
    // C2 −5: 85 + 4.5 + 0 = 89.5 → AA.
    let v = banded(&["2026-01-01 test_noncooperation"], "4.5", "0");
    assert_eq!((num(&v, "total"), grade(&v)), ("89.5".into(), "AA".into()));
    // C1 −10: 80 → AA; 79.5 → A (payment 20.5, C2 −5: 75.5 + 4).
    let v = banded(&["2026-01-01 contract_bad_faith"], "0", "0");
    assert_eq!((num(&v, "total"), grade(&v)), ("80".into(), "AA".into()));
    let v = banded(
        &["2026-03-10 arrears months=1", "2026-01-01 test_noncooperation"],
        "4",
        "0",
    );
    assert_eq!((num(&v, "total"), grade(&v)), ("79.5".into(), "A".into()));
    // Substation trip −20 (safety 0), C1 −10: 60 → B; 70 with ops 5 dev 5 → A; 69.5 → B.
    let v = banded(
        &[
            "2026-03-10 cascade_trip reach=substation",
            "2026-01-01 contract_bad_faith",
        ],
        "0",
        "0",
    );
    assert_eq!((num(&v, "total"), grade(&v)), ("60".into(), "B".into()));
    let v = banded(
        &[
            "2026-03-10 cascade_trip reach=substation",
            "2026-01-01 contract_bad_faith",
        ],
        "5",
        "5",
    );
    assert_eq!((num(&v, "total"), grade(&v)), ("70".into(), "A".into()));
    let v = banded(
        &[
            "2026-03-10 cascade_trip reach=substation",
            "2026-01-01 contract_bad_faith",
        ],
        "5",
        "4.5",
    );
    assert_eq!((num(&v, "total"), grade(&v)), ("69.5".into(), "B".into()));
    // Payment 0.5 (−20, −10 +0.5), legal 10 (a breach): 0.5 + 20 + 10 + 10 = 40.5;
    // + 5 + 4.5 = 50 → C; + 5 + 4 = 49.5 → D by band (no override: payment 0.5, legal 10).
    let low = [
        "2025-08-10 arrears months=2",
        "2026-03-10 arrears months=1",
        "2026-02-01 breach",
    ];
    let v = banded(&low, "5", "4.5");
    assert_eq!((num(&v, "total"), grade(&v)), ("50".into(), "C".into()));
    let v = banded(&low, "5", "4");
    assert_eq!((num(&v, "total"), grade(&v)), ("49.5".into(), "D".into()));
    // Payment 20.5 (−10 +0.5), safety 0 (substation), cooperation 0 (C1):
    // 20.5 + 0 + 30 + 0 = 50.5; + 5 + 4 = 59.5 → C.
    let v = banded(
        &[
            "2026-03-10 arrears months=1",
            "2026-03-10 cascade_trip reach=substation",
            "2026-01-01 contract_bad_faith",
        ],
        "5",
        "4",
    );
    assert_eq!((num(&v, "total"), grade(&v)), ("59.5".into(), "C".into()));
}

// ── Lighting ──────────────────────────────────────────────────────────────────

#[test]
fn lighting_customers_have_payment_and_legal_of_50() {
    let r = ["C1,lighting,"];
    let v = one(&[], &r, AS_OF);
    expect(&v, &[("payment", "50"), ("legal", "50")], "100", "AAA");
    assert!(flags(&v).is_empty(), "lighting has no assessed dimension");
    // Arrears months 1: 40.5 + 50 = 90.5 → AAA.
    expect(
        &one(&["C1 2026-03-10 arrears months=1"], &r, AS_OF),
        &[("payment", "40.5"), ("legal", "50")],
        "90.5",
        "AAA",
    );
    // Theft: legal 20 of 50, no override: 70 → A.
    expect(
        &one(&["C1 2026-03-10 theft"], &r, AS_OF),
        &[("payment", "50"), ("legal", "20")],
        "70",
        "A",
    );
    // Two thefts: legal 0 ⇒ D with 50.
    expect(
        &one(&["C1 2026-03-10 theft", "C1 2026-04-10 theft"], &r, AS_OF),
        &[("payment", "50"), ("legal", "0")],
        "50",
        "D",
    );
    // Wrong account with P7: 50 − 10 + 5 = 45.
    expect(
        &one(&["C1 2026-03-10 wrong_account"], &r, AS_OF),
        &[("payment", "45"), ("legal", "50")],
        "95",
        "AAA",
    );
    // Safety, cooperation and assessment events do not count for lighting.
    let other = [
        "C1 2026-03-10 safety_accident",
        "C1 2026-03-11 contract_bad_faith",
        "C1 2026-03-12 assessment dimension=operations score=1",
    ];
    expect(
        &one(&other, &r, AS_OF),
        &[("payment", "50"), ("legal", "50")],
        "100",
        "AAA",
    );
}

#[test]
fn classes_come_from_the_roster_default_power() {
    let all = score(
        &["A1 2026-03-10 theft", "B1 2026-03-10 theft", "C1 2026-03-10 theft"],
        &["A1,lighting,", "B1,,"],
        AS_OF,
    );
    let classes: Vec<(&str, &str)> = all
        .iter()
        .map(|v| (v["customer"].as_str().unwrap_or(""), v["class"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(classes, [("A1", "lighting"), ("B1", "power"), ("C1", "power")]);
}

// ── Windows ───────────────────────────────────────────────────────────────────

#[test]
fn window_the_as_of_date_counts_the_day_after_does_not() {
    assert_eq!(dim(&c1(&["2026-06-30 theft"]), "legal"), "0");
    assert_eq!(dim(&c1(&["2026-07-01 theft"]), "legal"), "30");
}

#[test]
fn window_exactly_twelve_months_before_does_not_count() {
    assert_eq!(dim(&c1(&["2025-06-30 theft"]), "legal"), "30");
    assert_eq!(dim(&c1(&["2025-07-01 theft"]), "legal"), "0");
}

#[test]
fn window_month_end_clamping_on_a_leap_day() {
    // 2024-02-29 − 12 months = 2023-02-28: the period is 2023-03-01 … 2024-02-29.
    let at = |date: &str| dim(&one(&[&format!("C1 {date} theft")], &[], "2024-02-29"), "legal");
    assert_eq!(at("2023-02-28"), "30");
    assert_eq!(at("2023-03-01"), "0");
    assert_eq!(at("2024-02-29"), "0");
    // P7's window starts 2023-03-01: since on it covers, a day later does not (−10 + 5 = 25 or 20).
    let p7 = |since: &str| {
        dim(
            &one(
                &["C1 2023-12-01 wrong_account"],
                &[&format!("C1,power,{since}")],
                "2024-02-29",
            ),
            "payment",
        )
    };
    assert_eq!(p7("2023-03-01"), "25");
    assert_eq!(p7("2023-03-02"), "20");
    // S8: 2024-02-29 − 36 months = 2021-02-28; an accident on it is outside, on 2021-03-01 inside.
    let s8 = |date: &str| {
        dim(
            &one(
                &[
                    "C1 2024-01-01 unqualified_electrician",
                    &format!("C1 {date} safety_accident"),
                ],
                &[],
                "2024-02-29",
            ),
            "safety",
        )
    };
    assert_eq!(s8("2021-02-28"), "20");
    assert_eq!(s8("2021-03-01"), "15");
}

#[test]
fn window_month_end_as_of_the_31st() {
    // 2026-03-31 − 12 months = 2025-03-31: the period is 2025-04-01 … 2026-03-31.
    let at = |date: &str| dim(&one(&[&format!("C1 {date} theft")], &[], "2026-03-31"), "legal");
    assert_eq!(at("2025-03-31"), "30");
    assert_eq!(at("2025-04-01"), "0");
    assert_eq!(at("2026-03-31"), "0");
    assert_eq!(at("2026-04-01"), "30");
    // As of 2026-02-28 (not a leap year), 12 months back is 2025-02-28.
    let at = |date: &str| dim(&one(&[&format!("C1 {date} theft")], &[], "2026-02-28"), "legal");
    assert_eq!(at("2025-02-28"), "30");
    assert_eq!(at("2025-03-01"), "0");
}
