//! The benchmark's reference scorer (`benches/support/reference.rs`) against
//! hand-computed customers, and its streaming path against its oracle on
//! generated logs.

#[path = "../../benches/support/mod.rs"]
mod support;

use std::path::PathBuf;

use rulebook::date::Date;
use rulebook::num::Num;
use support::generate::{self, Config};
use support::reference::{
    read_events, score_customer, score_events, score_files, Class, Event, Kind, Reach, Roster, Scored,
};

fn d(s: &str) -> Date {
    Date::parse(s).unwrap_or_else(|| panic!("bad date {s}"))
}

fn n(s: &str) -> Num {
    Num::parse(s).unwrap_or_else(|e| panic!("bad number {s}: {e}"))
}

const AS_OF: &str = "2026-06-30";

fn power(events: &[Event]) -> Scored {
    score_customer(Class::Power, None, d(AS_OF), events)
}

fn e(date: &str, kind: Kind) -> Event {
    Event::new("C1", date, kind)
}

/// Asserts the dimensions (in order), the total and the grade.
#[track_caller]
fn expect(s: &Scored, dims: &[(&str, &str)], total: &str, grade: &str) {
    let got: Vec<(&str, String)> = s.dims.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let want: Vec<(&str, String)> = dims.iter().map(|(k, v)| (*k, n(v).to_string())).collect();
    assert_eq!(got, want, "dimensions");
    assert_eq!(s.total, n(total), "total");
    assert_eq!(s.grade, grade, "grade");
}

const FLAGS_BOTH: [&str; 2] = ["not assessed: operations", "not assessed: development"];

#[test]
fn a_customer_without_events_keeps_full_marks_but_is_not_assessed() {
    let s = power(&[]);
    expect(
        &s,
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
    assert_eq!(s.flags, FLAGS_BOTH);
    assert_eq!(s.class, Class::Power);
}

#[test]
fn one_arrears_paid_next_month_with_assessments() {
    let s = power(&[
        e("2026-03-10", Kind::Arrears).months(1),
        e("2026-01-01", Kind::Assessment).assess("operations", "4.5"),
        e("2025-12-01", Kind::Assessment).assess("development", "3"),
    ]);
    // P1 −10, P4 +0.5; S8 keeps safety at 20.
    expect(
        &s,
        &[
            ("payment", "20.5"),
            ("safety", "20"),
            ("legal", "30"),
            ("cooperation", "10"),
            ("operations", "4.5"),
            ("development", "3"),
        ],
        "88",
        "AA",
    );
    assert!(s.flags.is_empty());
}

#[test]
fn episodes_by_severity_and_the_payment_override() {
    let s = power(&[
        // January–February: a run of 2 → −20; May, one arrears of 3 months → −30.
        e("2026-01-05", Kind::Arrears).months(1),
        e("2026-02-20", Kind::Arrears).months(1),
        e("2026-05-02", Kind::Arrears).months(3),
    ]);
    // 30 − 20 − 30 + 1 = −19 → 0 ⇒ D whatever the total.
    expect(
        &s,
        &[
            ("payment", "0"),
            ("safety", "20"),
            ("legal", "30"),
            ("cooperation", "10"),
            ("operations", "0"),
            ("development", "0"),
        ],
        "60",
        "D",
    );
}

#[test]
fn a_long_arrears_lengthens_its_episode_and_two_in_a_month_are_one_month() {
    let s = power(&[
        e("2026-03-01", Kind::Arrears).months(2),
        e("2026-03-28", Kind::Arrears).months(1),
        e("2026-04-15", Kind::Arrears).months(1),
        e("2025-09-09", Kind::Arrears).months(2), // alone, but 2 months → −20
    ]);
    // March–April: length 2, longest 2 → −20; September −20; P4: two with months 1 → +1.
    assert_eq!(s.dim("payment"), Some(n("0")));
    let s = power(&[
        e("2026-03-01", Kind::Arrears).months(2),
        e("2026-03-28", Kind::Arrears).months(1),
        e("2026-04-15", Kind::Arrears).months(1),
    ]);
    assert_eq!(s.dim("payment"), Some(n("11")));
}

#[test]
fn episodes_are_cut_at_the_period_start() {
    // May, June 2025 lie before the period (2025-07-01 … 2026-06-30): only
    // July counts, an episode of 1.
    let s = power(&[
        e("2025-05-10", Kind::Arrears).months(1),
        e("2025-06-30", Kind::Arrears).months(1),
        e("2025-07-01", Kind::Arrears).months(1),
    ]);
    assert_eq!(s.dim("payment"), Some(n("20.5")));
}

#[test]
fn p7_needs_a_clear_year_and_history_covering_it() {
    let as_of = d("2026-03-31"); // the period is (2025-03-31, 2026-03-31]
    let evs = [
        e("2025-03-31", Kind::Arrears).months(1),
        e("2025-10-01", Kind::WrongAccount),
    ];
    let pay = |since: Option<&str>| score_customer(Class::Power, since.map(d), as_of, &evs).dim("payment");
    assert_eq!(pay(None), Some(n("25")), "the arrears is outside, P7 +5");
    assert_eq!(
        pay(Some("2025-04-01")),
        Some(n("25")),
        "since on the window's first day covers it"
    );
    assert_eq!(pay(Some("2025-04-02")), Some(n("20")), "a day later does not");
    // Events after the as-of date are ignored.
    let later = [
        e("2025-10-01", Kind::WrongAccount),
        e("2026-04-01", Kind::Arrears).months(3),
    ];
    assert_eq!(
        score_customer(Class::Power, None, as_of, &later).dim("payment"),
        Some(n("25"))
    );
    // Month-end clamping: 2024-02-29 − 12 months = 2023-02-28.
    let leap = d("2024-02-29");
    let at = |date: &str| {
        score_customer(
            Class::Power,
            None,
            leap,
            &[e(date, Kind::WrongAccount), e(date, Kind::Arrears).months(1)],
        )
        .dim("payment")
    };
    assert_eq!(at("2023-02-28"), Some(n("30")), "outside: P7 only, clamped to 30");
    assert_eq!(at("2023-03-01"), Some(n("10.5")), "inside: −10 −10 +0.5");
}

#[test]
fn safety_tiers_persons_and_once_only() {
    let s = power(&[
        e("2026-01-01", Kind::CascadeTrip).reach(Reach::Branch),
        e("2026-02-01", Kind::CascadeTrip).reach(Reach::Branch),
        e("2026-03-01", Kind::CascadeTrip).reach(Reach::Branch),
        e("2026-04-01", Kind::CascadeTrip).reach(Reach::Substation),
    ]);
    assert_eq!(
        s.dim("safety"),
        Some(n("0")),
        "−20 for the branch trips, −20 for the substation"
    );
    let s = power(&[
        e("2026-01-01", Kind::CascadeTrip).reach(Reach::Branch),
        e("2026-02-01", Kind::UnqualifiedElectrician),
        e("2026-02-01", Kind::ManagementDeficiency),
        e("2026-03-01", Kind::ManagementDeficiency),
    ]);
    assert_eq!(s.dim("safety"), Some(n("0")), "−10 −5 −5");
    let s = power(&[
        e("2026-02-01", Kind::UnqualifiedElectrician).persons(2),
        e("2025-06-01", Kind::SafetyAccident),
    ]);
    assert_eq!(
        s.dim("safety"),
        Some(n("10")),
        "−10 for 2 persons; the old accident costs S8 only"
    );
}

#[test]
fn s8_needs_three_clear_years_and_history_covering_them() {
    // The 36-month window is (2023-06-30, 2026-06-30]; S7 −5 makes S8 visible.
    let safety = |accident: &str, since: Option<&str>| {
        let evs = [
            e(accident, Kind::ConcealedAccident),
            e("2026-01-01", Kind::ManagementDeficiency),
        ];
        score_customer(Class::Power, since.map(d), d(AS_OF), &evs).dim("safety")
    };
    assert_eq!(safety("2023-06-30", None), Some(n("20")));
    assert_eq!(safety("2023-07-01", None), Some(n("15")));
    assert_eq!(safety("2023-06-30", Some("2023-07-01")), Some(n("20")));
    assert_eq!(safety("2023-06-30", Some("2023-07-02")), Some(n("15")));
    assert_eq!(
        safety("2026-07-01", None),
        Some(n("20")),
        "an accident after the as-of date is ignored"
    );
}

#[test]
fn legal_tiers_and_the_clamp_once_at_the_end() {
    let s = power(&[
        e("2026-01-01", Kind::Breach),
        e("2026-02-01", Kind::Breach),
        e("2026-03-01", Kind::Breach),
        e("2026-04-01", Kind::PoliceCooperation),
    ]);
    // 30 − 30 + 10 = 10.
    expect(
        &s,
        &[
            ("payment", "30"),
            ("safety", "20"),
            ("legal", "10"),
            ("cooperation", "10"),
            ("operations", "0"),
            ("development", "0"),
        ],
        "70",
        "A",
    );
    let s = power(&[
        e("2026-01-01", Kind::Theft),
        e("2026-02-01", Kind::Breach),
        e("2026-04-01", Kind::PoliceCooperation),
    ]);
    assert_eq!(s.dim("legal"), Some(n("0")));
    assert_eq!(s.grade, "D");
    let s = power(&[e("2026-01-01", Kind::FacilityDamage)]);
    assert_eq!((s.dim("legal"), s.grade), (Some(n("0")), "D"), "L5 −30 empties legal");
    let s = power(&[
        e("2026-01-01", Kind::Obstruction),
        e("2026-01-02", Kind::PoliceCooperation),
        e("2026-01-03", Kind::PoliceCooperation),
    ]);
    assert_eq!(
        s.dim("legal"),
        Some(n("30")),
        "bonuses never lift a dimension above full marks"
    );
}

#[test]
fn cooperation_counts_the_period_only() {
    let mut evs: Vec<Event> = [
        Kind::ContractBadFaith,
        Kind::TestNoncooperation,
        Kind::InspectionRefusal,
        Kind::RectificationOverdue,
        Kind::DispatchViolation,
    ]
    .into_iter()
    .map(|k| e("2025-06-30", k))
    .collect();
    assert_eq!(power(&evs).dim("cooperation"), Some(n("10")));
    evs.push(e("2025-07-01", Kind::TestNoncooperation));
    assert_eq!(power(&evs).dim("cooperation"), Some(n("5")));
    evs.push(e("2025-07-01", Kind::DispatchViolation));
    evs.push(e("2025-07-01", Kind::ContractBadFaith));
    assert_eq!(power(&evs).dim("cooperation"), Some(n("0")));
}

#[test]
fn the_latest_assessment_wins_by_date_then_file_then_line() {
    let a = |date: &str, dim: &str, score: &str, file: u32, line: u64| {
        e(date, Kind::Assessment).assess(dim, score).at(file, line)
    };
    let s = power(&[
        a("2026-01-10", "operations", "3", 0, 9),
        a("2026-01-10", "operations", "4.5", 0, 5),
        a("2025-12-01", "operations", "1", 0, 50),
        a("2026-07-01", "operations", "2", 0, 60), // after the as-of date
        a("2026-03-01", "development", "2.25", 0, 10),
        a("2026-03-01", "development", "1.5", 1, 2), // a later file
        a("2026-05-01", "marketing", "5", 0, 70),    // names no assessed dimension
    ]);
    assert_eq!(
        (s.dim("operations"), s.dim("development")),
        (Some(n("3")), Some(n("1.5")))
    );
    assert!(s.flags.is_empty());
    let s = power(&[
        a("2026-01-10", "operations", "6", 0, 1),
        a("2025-06-30", "development", "4", 0, 2),
    ]);
    assert_eq!(s.dim("operations"), Some(n("5")), "clamped to 5");
    assert_eq!(s.dim("development"), Some(n("0")), "out of the period");
    assert_eq!(s.flags, ["not assessed: development"]);
    let s = power(&[a("2026-01-10", "operations", "-1", 0, 1)]);
    assert_eq!(s.dim("operations"), Some(n("0")));
    assert_eq!(
        s.flags,
        ["not assessed: development"],
        "a score clamped to 0 is still an assessment"
    );
}

#[test]
fn bands_at_their_thresholds() {
    let assessed = |ops: &str, dev: &str| {
        vec![
            e("2026-01-01", Kind::Assessment).assess("operations", ops),
            e("2026-01-01", Kind::Assessment).assess("development", dev),
        ]
    };
    expect(
        &power(&assessed("5", "5")),
        &[
            ("payment", "30"),
            ("safety", "20"),
            ("legal", "30"),
            ("cooperation", "10"),
            ("operations", "5"),
            ("development", "5"),
        ],
        "100",
        "AAA",
    );
    let mut evs = assessed("4.5", "4.5");
    evs.push(e("2026-02-01", Kind::Arrears).months(1));
    assert_eq!((power(&evs).total, power(&evs).grade), (n("89.5"), "AA"));
    let mut evs = assessed("5", "5");
    evs.push(e("2026-02-01", Kind::Arrears).months(2)); // payment 10
    evs.push(e("2026-02-01", Kind::SafetyAccident)); // 15
    evs.push(e("2026-02-01", Kind::Obstruction)); // 20
    evs.push(e("2026-02-01", Kind::DispatchViolation)); // 0
    assert_eq!((power(&evs).total, power(&evs).grade), (n("55"), "C"));
    evs.push(e("2026-02-02", Kind::Obstruction)); // legal 10
    assert_eq!((power(&evs).total, power(&evs).grade), (n("45"), "D"));
}

#[test]
fn lighting_customers_have_payment_and_legal_at_fifty() {
    let evs = [
        e("2026-02-01", Kind::Arrears).months(2),
        e("2026-03-01", Kind::WrongAccount),
        e("2026-03-01", Kind::DefaulterTip).verified(true),
        e("2026-03-02", Kind::DefaulterTip).verified(false),
        e("2026-03-01", Kind::Obstruction),
        e("2026-03-01", Kind::SafetyAccident),
        e("2026-03-01", Kind::ContractBadFaith),
    ];
    let s = score_customer(Class::Lighting, None, d(AS_OF), &evs);
    expect(&s, &[("payment", "30"), ("legal", "40")], "70", "A");
    assert!(s.flags.is_empty());
    let s = score_customer(Class::Lighting, Some(d("2026-01-01")), d(AS_OF), &[]);
    expect(&s, &[("payment", "50"), ("legal", "50")], "100", "AAA");
    let s = score_customer(
        Class::Lighting,
        None,
        d(AS_OF),
        &[e("2026-01-01", Kind::Theft), e("2026-01-01", Kind::FacilityDamage)],
    );
    expect(&s, &[("payment", "50"), ("legal", "0")], "50", "D");
}

// ── The streaming path against the oracle ───────────────────────────────────

fn temp_dir(name: &str) -> PathBuf {
    let dir = crate::scratch::root().join(format!("rulebook-reference-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn roster_of(rows: &[generate::RosterRow]) -> Roster {
    rows.iter()
        .map(|r| {
            let class = if r.class == Some("lighting") {
                Class::Lighting
            } else {
                Class::Power
            };
            (r.customer.clone(), (class, r.since))
        })
        .collect()
}

#[test]
fn the_streaming_scorer_agrees_with_the_oracle_on_a_generated_log() {
    let cfg = Config::new(4000, 7);
    let (rows, roster_rows) = generate::generate(&cfg);
    assert!(rows.len() > 25_000, "{} rows", rows.len());
    let dir = temp_dir("generated");
    let (log, roster) = (dir.join("events.csv"), dir.join("roster.csv"));
    generate::write_files(&cfg, &log, Some(&roster)).unwrap_or_else(|e| panic!("{e}"));

    // The in-memory rows, the file read back, and the streaming path agree.
    let events: Vec<Event> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| r.to_event(0, i as u64 + 2))
        .collect();
    assert_eq!(read_events(&log, 0).unwrap_or_else(|e| panic!("{e}")), events);
    let roster_map = roster_of(&roster_rows);
    assert_eq!(
        support::reference::read_roster(&roster).unwrap_or_else(|e| panic!("{e}")),
        roster_map
    );
    let want = score_events(&events, &roster_map, cfg.as_of);
    for threads in [1, 2, 3] {
        let got = score_files(std::slice::from_ref(&log), Some(&roster), cfg.as_of, threads)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.rows, rows.len() as u64);
        assert_eq!(got.results.len(), want.len());
        for (g, w) in got.results.iter().zip(&want) {
            assert_eq!(g, w, "threads {threads}");
        }
    }
    // The mix is what the bench claims: some of everything.
    let grades = |g: &str| want.iter().filter(|(_, s)| s.grade == g).count();
    for g in ["AAA", "AA", "A", "B", "C", "D"] {
        assert!(grades(g) > 0, "no {g}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `rulebook score` of a generated log of many blocks, so that several cores
/// fold blocks into the same partitions at once: every customer as the
/// reference scores it, and the same bytes on one, two and four threads.
#[test]
fn rulebook_on_every_core_agrees_with_the_reference_on_a_log_of_many_blocks() {
    let cfg = Config::new(30_000, 11);
    let (rows, roster_rows) = generate::generate(&cfg);
    let dir = temp_dir("many-blocks");
    let (log, roster) = (dir.join("events.csv"), dir.join("roster.csv"));
    generate::write_files(&cfg, &log, Some(&roster)).unwrap_or_else(|e| panic!("{e}"));
    let size = std::fs::metadata(&log).map(|m| m.len()).unwrap_or_default();
    assert!(size > 8 << 20, "a log of many 1 MiB blocks: {size} bytes");
    let events: Vec<Event> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| r.to_event(0, i as u64 + 2))
        .collect();
    let want = score_events(&events, &roster_of(&roster_rows), cfg.as_of);
    let score = |threads: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rulebook"))
            .args(["score", "rules/credit.rules", "--events"])
            .arg(&log)
            .arg("--customers")
            .arg(&roster)
            .args(["--as-of", AS_OF, "--format", "jsonl", "--quiet", "--threads", threads])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("{e}"))
    };
    let one = score("1");
    let lines: Vec<&str> = one.lines().collect();
    assert_eq!(lines.len(), want.len());
    for (line, (customer, s)) in lines.iter().zip(&want) {
        let got: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let want: serde_json::Value =
            serde_json::from_str(&support::reference::jsonl(customer, s)).unwrap_or_else(|e| panic!("{e}"));
        let serde_json::Value::Object(fields) = &want else {
            panic!("a jsonl line is an object")
        };
        for (key, value) in fields {
            assert_eq!(&got[key], value, "{customer} {key}: {line}");
        }
    }
    for threads in ["2", "4"] {
        assert!(
            score(threads) == one,
            "--threads {threads} wrote other lines than one thread"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn several_files_quotes_and_crlf_read_as_one_log() {
    let dir = temp_dir("files");
    let (a, b) = (dir.join("a.csv"), dir.join("b.csv"));
    std::fs::write(&a, "customer,kind,date,dimension,score\r\nC1,assessment,2026-01-10,operations,3\r\n\"C2\",assessment,2026-01-10,operations, 4 \r\n").ok();
    std::fs::write(&b, "date,customer,kind,score,dimension\n2026-01-10,C1,assessment,2.5,operations\n2026-01-10,C3,meter_reading,,\n2026-01-11,C2,assessment,1,\"development\"\n2026-01-10,C1,assessment,4,development").ok();
    let got = score_files(&[a.clone(), b.clone()], None, d(AS_OF), 2).unwrap_or_else(|e| panic!("{e}"));
    let mut events = read_events(&a, 0).unwrap_or_else(|e| panic!("{e}"));
    events.extend(read_events(&b, 1).unwrap_or_else(|e| panic!("{e}")));
    let want = score_events(&events, &Roster::default(), d(AS_OF));
    assert_eq!(got.results, want);
    assert_eq!((got.rows, got.unknown_kinds), (6, 1));
    let ops: Vec<_> = want
        .iter()
        .map(|(c, s)| (c.as_str(), s.dim("operations").map(|v| v.to_string())))
        .collect();
    assert_eq!(
        ops,
        [
            ("C1", Some("2.5".into())),
            ("C2", Some("4".into())),
            ("C3", Some("0".into()))
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_rows_are_errors_naming_file_and_line() {
    let dir = temp_dir("bad");
    let log = dir.join("bad.csv");
    std::fs::write(
        &log,
        "customer,date,kind,months\nC1,2026-01-01,arrears,1\nC1,2026-01-01,theft,zero\nC1,2026-01-01,arrears,0\n",
    )
    .ok();
    let err = score_files(std::slice::from_ref(&log), None, d(AS_OF), 2)
        .err()
        .unwrap_or_default();
    assert!(err.ends_with("bad.csv: 4: months \"0\" is not an int >= 1"), "{err}");
    std::fs::write(&log, "customer,date,kind\nC1,2026-13-01,theft\n").ok();
    let err = score_files(std::slice::from_ref(&log), None, d(AS_OF), 1)
        .err()
        .unwrap_or_default();
    assert!(
        err.ends_with("bad.csv: 2: date \"2026-13-01\" is not a valid date"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
