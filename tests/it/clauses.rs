//! The published standard, clause by clause: for each clause, the `explain`
//! trace of a small customer that shows the clause at work. Read the
//! snapshots (`tests/it/snapshots/it__clauses__*.snap`) as the standard's behaviour.
//! The numbers are pinned by hand in `rules/credit.tests`; these show how.

use std::io::Cursor;

use insta::assert_snapshot;
use rulebook::date::Date;
use rulebook::eval::Evaluator;
use rulebook::input::{self, Format, LoadOptions, Roster, Source};
use rulebook::report::explain::{self, Origin};
use rulebook::report::Scored;

const RULES: &str = include_str!("../../rules/credit.rules");

/// The `explain` trace of customer C1 as of `as_of`. `events` is CSV without
/// the customer column; `customer` is its class, optionally with its history:
/// `"power"`, `"lighting"`, `"power, since 2025-07-01"`.
fn explain(events: &str, as_of: &str, customer: &str) -> String {
    let checked = rulebook::load(RULES).expect("rules/credit.rules loads");
    let prog = &checked.program;
    let as_of = Date::parse(as_of).expect("a valid as-of date");
    let mut csv = String::new();
    for (i, line) in events.trim().lines().enumerate() {
        csv.push_str(if i == 0 { "customer," } else { "C1," });
        csv.push_str(line.trim());
        csv.push('\n');
    }
    let (class, since) = customer.split_once(", since ").unwrap_or((customer, ""));
    let roster_csv = format!("customer,class,since\nC1,{class},{since}\n");
    let roster = Roster::read(
        Cursor::new(roster_csv.into_bytes()),
        "customers.csv",
        &prog.class_names(),
    )
    .expect("a valid roster");
    let source = Source {
        name: "events.csv".into(),
        format: Format::Csv,
        reader: Box::new(Cursor::new(csv.into_bytes())),
        mapped: None,
    };
    let log = input::load(
        vec![source],
        &prog.schema,
        &roster,
        LoadOptions {
            as_of,
            strict: true,
            keep_going: false,
        },
    )
    .expect("valid events");
    let i = log.find("C1").expect("C1 is scored");
    let outcome = Evaluator::new(prog, as_of)
        .evaluate_in(&log, i, true)
        .expect("C1 is in the log")
        .expect("no overflow");
    let scored = Scored {
        prog,
        log: &log,
        customer: i,
        outcome: &outcome,
        as_of,
    };
    explain::text(
        &scored,
        &Origin {
            file: "rules/credit.rules",
            src: RULES,
        },
    )
}

const AS_OF: &str = "2026-06-30";

// ── Payment record (商业资信) ────────────────────────────────────────────────

#[test]
fn p1_one_arrears() {
    assert_snapshot!(explain("date,kind,months\n2026-03-10,arrears,1", AS_OF, "power"));
}

#[test]
fn p2_two_consecutive_arrears() {
    assert_snapshot!(explain(
        "date,kind,months\n2026-01-10,arrears,1\n2026-02-10,arrears,1",
        AS_OF,
        "power"
    ));
}

#[test]
fn p2_one_arrears_lasting_two_months() {
    assert_snapshot!(explain("date,kind,months\n2026-03-10,arrears,2", AS_OF, "power"));
}

#[test]
fn p3_three_consecutive_arrears() {
    assert_snapshot!(explain(
        "date,kind,months\n2026-01-10,arrears,1\n2026-02-10,arrears,1\n2026-03-10,arrears,1",
        AS_OF,
        "power"
    ));
}

#[test]
fn p3_one_arrears_lasting_three_months() {
    assert_snapshot!(explain("date,kind,months\n2026-02-10,arrears,3", AS_OF, "power"));
}

#[test]
fn p1_p3_episode_cut_at_the_period_start() {
    assert_snapshot!(explain(
        "date,kind,months\n2025-05-10,arrears,1\n2025-06-30,arrears,1\n2025-07-01,arrears,1",
        AS_OF,
        "power"
    ));
}

#[test]
fn p4_paid_in_full_the_next_month() {
    assert_snapshot!(explain(
        "date,kind,months\n2025-09-10,arrears,1\n2026-02-10,arrears,2",
        AS_OF,
        "power"
    ));
}

#[test]
fn p5_wrong_account() {
    assert_snapshot!(explain("date,kind\n2026-02-01,wrong_account", AS_OF, "power"));
}

#[test]
fn p6_verified_defaulter_tip() {
    assert_snapshot!(explain(
        "date,kind,months,verified\n2026-01-10,arrears,2,\n2026-03-01,defaulter_tip,,true\n2026-04-01,defaulter_tip,,false",
        AS_OF,
        "power"
    ));
}

#[test]
fn p7_a_year_without_arrears() {
    assert_snapshot!(explain(
        "date,kind,months\n2025-06-30,arrears,1\n2026-02-01,wrong_account,",
        AS_OF,
        "power"
    ));
}

#[test]
fn p7_history_too_short() {
    assert_snapshot!(explain(
        "date,kind\n2026-02-01,wrong_account",
        AS_OF,
        "power, since 2025-07-02"
    ));
}

// ── Safety credit (安全信用) ─────────────────────────────────────────────────

#[test]
fn s1_safety_accident() {
    assert_snapshot!(explain("date,kind\n2026-03-01,safety_accident", AS_OF, "power"));
}

#[test]
fn s2_one_branch_cascade_trip() {
    assert_snapshot!(explain(
        "date,kind,reach\n2026-01-15,cascade_trip,branch",
        AS_OF,
        "power"
    ));
}

#[test]
fn s3_repeated_branch_cascade_trips() {
    assert_snapshot!(explain(
        "date,kind,reach\n2025-11-15,cascade_trip,branch\n2026-01-15,cascade_trip,branch",
        AS_OF,
        "power"
    ));
}

#[test]
fn s4_substation_cascade_trip() {
    assert_snapshot!(explain(
        "date,kind,reach\n2025-10-15,cascade_trip,branch\n2026-01-15,cascade_trip,substation",
        AS_OF,
        "power"
    ));
}

#[test]
fn s5_concealed_accident() {
    assert_snapshot!(explain("date,kind\n2026-02-01,concealed_accident", AS_OF, "power"));
}

#[test]
fn s6_unqualified_electricians_per_person() {
    assert_snapshot!(explain(
        "date,kind,persons\n2025-09-01,unqualified_electrician,3\n2026-02-01,unqualified_electrician,",
        AS_OF,
        "power, since 2025-07-01"
    ));
}

#[test]
fn s7_management_deficiency_once() {
    assert_snapshot!(explain(
        "date,kind\n2025-09-01,management_deficiency\n2026-02-01,management_deficiency",
        AS_OF,
        "power, since 2025-07-01"
    ));
}

#[test]
fn s8_three_years_without_accident() {
    assert_snapshot!(explain(
        "date,kind,persons\n2023-06-30,safety_accident,\n2026-02-01,unqualified_electrician,3",
        AS_OF,
        "power, since 2023-07-01"
    ));
}

#[test]
fn s8_history_too_short() {
    assert_snapshot!(explain(
        "date,kind,persons\n2026-02-01,unqualified_electrician,3",
        AS_OF,
        "power, since 2023-07-02"
    ));
}

// ── Legal credit (法律信用) ──────────────────────────────────────────────────

#[test]
fn l1_theft() {
    assert_snapshot!(explain("date,kind\n2026-02-01,theft", AS_OF, "power"));
}

#[test]
fn l2_one_breach() {
    assert_snapshot!(explain("date,kind\n2026-02-01,breach", AS_OF, "power"));
}

#[test]
fn l3_two_breaches_in_a_year() {
    assert_snapshot!(explain(
        "date,kind\n2025-08-01,breach\n2026-02-01,breach",
        AS_OF,
        "power"
    ));
}

#[test]
fn l4_obstruction() {
    assert_snapshot!(explain("date,kind\n2026-02-01,obstruction", AS_OF, "power"));
}

#[test]
fn l5_facility_damage() {
    assert_snapshot!(explain("date,kind\n2026-02-01,facility_damage", AS_OF, "power"));
}

#[test]
fn l6_police_cooperation() {
    assert_snapshot!(explain(
        "date,kind\n2026-01-01,breach\n2026-02-01,police_cooperation",
        AS_OF,
        "power"
    ));
}

// ── Cooperation credit (合作信用) ────────────────────────────────────────────

#[test]
fn c1_contract_bad_faith() {
    assert_snapshot!(explain("date,kind\n2026-02-01,contract_bad_faith", AS_OF, "power"));
}

#[test]
fn c2_test_noncooperation() {
    assert_snapshot!(explain("date,kind\n2026-02-01,test_noncooperation", AS_OF, "power"));
}

#[test]
fn c3_inspection_refusal() {
    assert_snapshot!(explain("date,kind\n2026-02-01,inspection_refusal", AS_OF, "power"));
}

#[test]
fn c4_rectification_overdue() {
    assert_snapshot!(explain("date,kind\n2026-02-01,rectification_overdue", AS_OF, "power"));
}

#[test]
fn c5_dispatch_violation() {
    assert_snapshot!(explain(
        "date,kind\n2026-01-01,dispatch_violation\n2026-02-01,test_noncooperation",
        AS_OF,
        "power"
    ));
}

// ── Assessed items (经营行为, 发展能力) ──────────────────────────────────────

#[test]
fn o1_latest_operations_assessment() {
    assert_snapshot!(explain(
        "date,kind,dimension,score\n2025-06-30,assessment,operations,5\n2025-10-01,assessment,operations,3\n2026-02-01,assessment,operations,4.5",
        AS_OF,
        "power"
    ));
}

#[test]
fn d1_same_date_later_row_wins_and_clamp() {
    assert_snapshot!(explain(
        "date,kind,dimension,score\n2026-03-01,assessment,development,4\n2026-03-01,assessment,development,7\n2026-03-01,assessment,operations,5",
        AS_OF,
        "power"
    ));
}

// ── Override and grades ─────────────────────────────────────────────────────

#[test]
fn t2_payment_zero_is_grade_d_whatever_the_total() {
    assert_snapshot!(explain(
        "date,kind,months,dimension,score\n2026-02-10,arrears,3,,\n2026-03-01,assessment,,operations,5\n2026-03-01,assessment,,development,5",
        AS_OF,
        "power"
    ));
}

#[test]
fn g1_bands_49_5_is_d() {
    assert_snapshot!(explain(
        "date,kind,months,reach,dimension,score\n\
         2026-03-10,arrears,1,,,\n\
         2025-11-15,cascade_trip,,branch,,\n\
         2026-01-15,cascade_trip,,branch,,\n\
         2026-02-01,obstruction,,,,\n\
         2026-02-01,contract_bad_faith,,,,\n\
         2026-03-01,assessment,,,operations,4\n\
         2026-03-01,assessment,,,development,5",
        AS_OF,
        "power"
    ));
}

#[test]
fn g1_bands_89_5_is_aa() {
    assert_snapshot!(explain(
        "date,kind,dimension,score\n2026-02-01,contract_bad_faith,,\n2026-03-01,assessment,operations,4.5\n2026-03-01,assessment,development,5",
        AS_OF,
        "power"
    ));
}

// ── Lighting customers (照明户) ──────────────────────────────────────────────

#[test]
fn lighting_payment_and_legal_fifty_each() {
    assert_snapshot!(explain(
        "date,kind,months,reach\n2026-03-10,arrears,1,\n2026-02-01,breach,,\n2026-01-01,cascade_trip,,branch",
        AS_OF,
        "lighting"
    ));
}

#[test]
fn lighting_legal_zero_is_grade_d() {
    assert_snapshot!(explain(
        "date,kind\n2026-01-01,theft\n2026-02-01,facility_damage",
        AS_OF,
        "lighting"
    ));
}

// ── Month ends ──────────────────────────────────────────────────────────────

#[test]
fn window_as_of_29_february() {
    assert_snapshot!(explain(
        "date,kind\n2023-02-28,breach\n2023-03-01,breach",
        "2024-02-29",
        "power, since 2021-03-01"
    ));
}

// ── docs/standard.md names real cases, rules and snapshots ──────────────────

/// Every `` `case …` `` named in docs/standard.md is a case of rules/credit.tests,
/// every `` `clauses__…` `` a snapshot of this file, and every line of its
/// `rulebook-fragment` blocks is written so in rules/credit.rules.
#[test]
fn docs_standard_md_quotes_real_cases_rules_and_snapshots() {
    let root = env!("CARGO_MANIFEST_DIR");
    let md = std::fs::read_to_string(format!("{root}/docs/standard.md")).expect("docs/standard.md");
    let tests = rulebook::testcase::parse(include_str!("../../rules/credit.tests")).expect("rules/credit.tests parses");
    let (mut missing, mut cases) = (Vec::new(), 0);
    for quoted in md.split('`').skip(1).step_by(2) {
        if let Some(name) = quoted.strip_prefix("case ") {
            cases += 1;
            if !tests.cases.iter().any(|c| c.name == name) {
                missing.push(format!("no case `{name}` in rules/credit.tests"));
            }
        } else if quoted.starts_with("clauses__")
            && !std::path::Path::new(&format!("{root}/tests/it/snapshots/it__{quoted}.snap")).exists()
        {
            missing.push(format!("no snapshot {quoted}"));
        }
    }
    let mut in_fragment = false;
    for line in md.lines() {
        match (in_fragment, line.trim()) {
            (false, "```rulebook-fragment") => in_fragment = true,
            (true, "```") => in_fragment = false,
            (true, l) if !l.is_empty() && !RULES.lines().any(|r| r.trim() == l) => {
                missing.push(format!("not in rules/credit.rules: {l}"))
            }
            _ => {}
        }
    }
    assert!(cases > 80, "only {cases} cases named in docs/standard.md");
    assert!(
        missing.is_empty(),
        "docs/standard.md is out of date:\n{}",
        missing.join("\n")
    );
}
