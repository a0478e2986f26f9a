//! One test per bad-row message: the real binary on a small log written for
//! the test, failing with exit code 1 and an error that names the file, the
//! line, the field and the value. Then the edges that must be accepted.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/credit.rules");
const HEADER: &str = "customer,date,kind,months,verified,reach,persons,dimension,score";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Writes `files` (name, bytes) into a fresh directory and runs `rulebook
/// score` there, so that messages name the files as written: `events.csv:2`.
fn score(files: &[(&str, &[u8])], args: &[&str]) -> Run {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "bad_rows-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("{e}"));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .current_dir(&dir)
        .args(["score", RULES, "--as-of", "2026-06-30", "--format", "jsonl"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run rulebook: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The error of a log that must be refused: exit 1, nothing on stdout, one message.
#[track_caller]
fn refused(files: &[(&str, &[u8])], args: &[&str]) -> String {
    let run = score(files, args);
    assert_eq!(run.code, 1, "exit code; stderr: {}", run.stderr);
    assert_eq!(run.stdout, "", "nothing is scored");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let message = run
        .stderr
        .strip_prefix("error: ")
        .unwrap_or_else(|| panic!("not an error: {}", run.stderr));
    message.strip_suffix('\n').unwrap_or(message).to_string()
}

/// A CSV log of the examples' header with these rows; its error.
#[track_caller]
fn csv_error(rows: &str) -> String {
    refused(
        &[("events.csv", format!("{HEADER}\n{rows}\n").as_bytes())],
        &["--events", "events.csv"],
    )
}

#[track_caller]
fn jsonl_error(lines: &str) -> String {
    refused(
        &[("events.jsonl", format!("{lines}\n").as_bytes())],
        &["--events", "events.jsonl"],
    )
}

#[track_caller]
fn roster_error(roster: &str) -> String {
    let log = format!("{HEADER}\nP1,2026-03-01,theft,,,,,,\n");
    refused(
        &[("events.csv", log.as_bytes()), ("customers.csv", roster.as_bytes())],
        &["--events", "events.csv", "--customers", "customers.csv"],
    )
}

/// The JSON objects a log that must be accepted scores to.
#[track_caller]
fn accepted(files: &[(&str, &[u8])], args: &[&str]) -> Vec<serde_json::Value> {
    let run = score(files, args);
    assert_eq!(run.code, 0, "exit code; stderr: {}", run.stderr);
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn accepted_csv(text: &str) -> Vec<serde_json::Value> {
    accepted(&[("events.csv", text.as_bytes())], &["--events", "events.csv"])
}

/// Asserts a customer's dimensions against a JSON object written in the class's order.
#[track_caller]
fn assert_dims(v: &serde_json::Value, want: &str) {
    let want: serde_json::Value = serde_json::from_str(want).unwrap_or_else(|e| panic!("{e}: {want}"));
    assert_eq!(v["dimensions"], want, "{v}");
}

// ── Event logs: CSV ───────────────────────────────────────────────────────────

#[test]
fn bad_date() {
    assert_eq!(
        csv_error("P1,2026-03-01,theft,,,,,,\nP1,2026-13-01,arrears,1,,,,,"),
        r#"events.csv:3: date "2026-13-01" is not a valid date"#
    );
}

#[test]
fn date_not_year_first_or_not_a_day() {
    // Spreadsheet spellings such as 2026-3-01 are read (issue 8); day- or month-first ones are not.
    assert_eq!(
        csv_error("P1,3/01/2026,theft,,,,,,"),
        r#"events.csv:2: date "3/01/2026" is not a valid date; write year first: 2026-03-05, 2026/3/5, 2026-3-5, 2026-03-05 10:00:00 or 2026-03-05T10:00:00Z"#
    );
    assert_eq!(
        csv_error("P1,2026-02-29,theft,,,,,,"),
        r#"events.csv:2: date "2026-02-29" is not a valid date"#
    );
}

#[test]
fn non_numeric_int() {
    assert_eq!(
        csv_error("P1,2026-03-01,arrears,two,,,,,"),
        r#"events.csv:2: months "two" is not a whole number"#
    );
    assert_eq!(
        csv_error("P1,2026-03-01,arrears,1.5,,,,,"),
        r#"events.csv:2: months "1.5" is not a whole number"#
    );
}

#[test]
fn int_below_its_minimum() {
    assert_eq!(
        csv_error("P1,2026-03-01,arrears,0,,,,,"),
        r#"events.csv:2: months "0" is below the minimum 1"#
    );
    assert_eq!(
        csv_error("P1,2026-03-01,unqualified_electrician,,,,-2,,"),
        r#"events.csv:2: persons "-2" is below the minimum 1"#
    );
}

#[test]
fn unknown_reach_value() {
    assert_eq!(
        csv_error("P1,2026-03-01,cascade_trip,,,feeder,,,"),
        r#"events.csv:2: reach "feeder" is not one of "branch", "substation""#
    );
    // Text values are taken exactly as written.
    assert_eq!(
        csv_error("P1,2026-03-01,cascade_trip,,,Branch,,,"),
        r#"events.csv:2: reach "Branch" is not one of "branch", "substation""#
    );
}

#[test]
fn missing_customer() {
    assert_eq!(
        csv_error(",2026-03-01,theft,,,,,,"),
        "events.csv:2: customer is missing"
    );
}

#[test]
fn missing_kind_and_missing_date() {
    assert_eq!(csv_error("P1,2026-03-01,,,,,,,"), "events.csv:2: kind is missing");
    assert_eq!(
        csv_error("P1,,theft,,,,,,"),
        r#"events.csv:2: date "" is not a valid date"#
    );
}

#[test]
fn missing_required_attribute() {
    assert_eq!(
        csv_error("P1,2026-03-01,arrears,,,,,,"),
        r#"events.csv:2: months is missing (required for kind "arrears")"#
    );
    assert_eq!(
        csv_error("P1,2026-03-01,defaulter_tip,,,,,,"),
        r#"events.csv:2: verified is missing (required for kind "defaulter_tip")"#
    );
    assert_eq!(
        csv_error("P1,2026-03-01,cascade_trip,,,,,,"),
        r#"events.csv:2: reach is missing (required for kind "cascade_trip")"#
    );
    assert_eq!(
        csv_error("P1,2026-03-01,assessment,,,,,operations,"),
        r#"events.csv:2: score is missing (required for kind "assessment")"#
    );
    assert_eq!(
        csv_error("P1,2026-03-01,assessment,,,,,,4"),
        r#"events.csv:2: dimension is missing (required for kind "assessment")"#
    );
}

#[test]
fn required_column_missing_from_the_header() {
    let message = refused(
        &[("events.csv", b"customer,kind\nP1,theft\n")],
        &["--events", "events.csv"],
    );
    assert_eq!(message, "events.csv:1: the header has no `date` column");
    // A declared kind whose attribute has no column at all: the attribute is missing.
    let message = refused(
        &[("events.csv", b"customer,date,kind\nP1,2026-03-01,arrears\n")],
        &["--events", "events.csv"],
    );
    assert_eq!(
        message,
        r#"events.csv:2: months is missing (required for kind "arrears")"#
    );
}

#[test]
fn wrong_column_count() {
    assert_eq!(
        csv_error("P1,2026-03-01,theft,,,"),
        "events.csv:2: has 6 fields, the header has 9"
    );
    assert_eq!(
        csv_error("P1,2026-03-01,theft,,,,,,,,"),
        "events.csv:2: has 11 fields, the header has 9"
    );
}

#[test]
fn invalid_utf8_in_an_attribute() {
    let log = [HEADER.as_bytes(), b"\nP1,2026-03-01,arrears,\xff\xfe,,,,,\n"].concat();
    assert_eq!(
        refused(&[("events.csv", &log)], &["--events", "events.csv"]),
        "events.csv:2: months \"��\" is not valid UTF-8"
    );
}

#[test]
fn invalid_utf8_in_the_customer() {
    let log = [
        HEADER.as_bytes(),
        b"\nP1,2026-03-01,theft,,,,,,\nP\xff1,2026-03-01,theft,,,,,,\n",
    ]
    .concat();
    let message = refused(&[("events.csv", &log)], &["--events", "events.csv"]);
    assert!(message.starts_with("events.csv:3: customer"), "{message}");
    assert!(message.contains("not valid UTF-8"), "{message}");
}

#[test]
fn invalid_utf8_error_shows_the_value() {
    // SPEC.md §4: bad data gets an error naming file, line, field *and value*. The bytes
    // cannot be printed as they are, but can be shown escaped (`P\xFF1`) or lossily (`P�1`).
    let log = [HEADER.as_bytes(), b"\nP\xff1,2026-03-01,theft,,,,,,\n"].concat();
    let message = refused(&[("events.csv", &log)], &["--events", "events.csv"]);
    assert!(
        ["P\\xFF1", "P\\xff1", "P\u{FFFD}1"].iter().any(|v| message.contains(v)),
        "{message}"
    );
}

#[test]
fn bad_bool() {
    assert_eq!(
        csv_error("P1,2026-03-01,defaulter_tip,,yes,,,,"),
        r#"events.csv:2: verified "yes" is not `true` or `false`"#
    );
    // Excel's TRUE and FALSE are read (issue 8); other spellings are not.
    assert_eq!(
        csv_error("P1,2026-03-01,defaulter_tip,,tRUE,,,,"),
        r#"events.csv:2: verified "tRUE" is not `true` or `false`"#
    );
}

#[test]
fn decimal_with_an_exponent() {
    assert_eq!(
        csv_error("P1,2026-03-01,assessment,,,,,operations,1e3"),
        r#"events.csv:2: score "1e3" is not a number"#
    );
    assert_eq!(
        csv_error("P1,2026-03-01,assessment,,,,,operations,.5"),
        r#"events.csv:2: score ".5" is not a number"#
    );
    assert_eq!(
        csv_error("P1,2026-03-01,assessment,,,,,operations,3,5"),
        "events.csv:2: has 10 fields, the header has 9"
    );
}

#[test]
fn the_first_bad_row_is_reported_with_its_own_line() {
    // A quoted cell holding a newline makes record and line numbers differ: the error gives the line.
    let log = format!("{HEADER},note\nP1,2026-03-01,theft,,,,,,,\"two\nlines\"\nP1,2026-03-02,arrears,0,,,,,,\n");
    assert_eq!(
        refused(&[("events.csv", log.as_bytes())], &["--events", "events.csv"]),
        r#"events.csv:4: months "0" is below the minimum 1"#
    );
}

// ── Event logs: JSON Lines ────────────────────────────────────────────────────

#[test]
fn jsonl_wrong_type() {
    assert_eq!(
        jsonl_error(r#"{"customer":"P1","date":"2026-03-01","kind":"arrears","months":"2"}"#),
        r#"events.jsonl:1: months "2" is not a whole number"#
    );
    assert_eq!(
        jsonl_error(r#"{"customer":"P1","date":"2026-03-01","kind":"defaulter_tip","verified":"true"}"#),
        r#"events.jsonl:1: verified "true" is not `true` or `false`"#
    );
    assert_eq!(
        jsonl_error(
            r#"{"customer":"P1","date":"2026-03-01","kind":"assessment","dimension":"operations","score":"3.5"}"#
        ),
        r#"events.jsonl:1: score "3.5" is not a number"#
    );
    assert_eq!(
        jsonl_error(r#"{"customer":7,"date":"2026-03-01","kind":"theft"}"#),
        "events.jsonl:1: customer 7 is not text"
    );
}

#[test]
fn jsonl_not_an_object() {
    let lines = "{\"customer\":\"P1\",\"date\":\"2026-03-01\",\"kind\":\"theft\"}\n[\"P1\",\"2026-03-01\",\"theft\"]";
    assert_eq!(jsonl_error(lines), "events.jsonl:2: is not a JSON object");
}

#[test]
fn jsonl_not_json() {
    let message = jsonl_error(r#"{"customer":"P1","date":"2026-03-01","kind":"theft""#);
    assert!(message.starts_with("events.jsonl:1: is not valid JSON"), "{message}");
}

#[test]
fn jsonl_bad_date_and_missing_attribute() {
    assert_eq!(
        jsonl_error(r#"{"customer":"P1","date":"2026-13-01","kind":"theft"}"#),
        r#"events.jsonl:1: date "2026-13-01" is not a valid date"#
    );
    assert_eq!(
        jsonl_error(r#"{"customer":"P1","date":"2026-03-01","kind":"arrears","months":null}"#),
        r#"events.jsonl:1: months is missing (required for kind "arrears")"#
    );
    assert_eq!(
        jsonl_error(r#"{"date":"2026-03-01","kind":"theft"}"#),
        "events.jsonl:1: customer is missing"
    );
}

// ── The roster ─────────────────────────────────────────────────────────────────

#[test]
fn roster_unknown_class() {
    assert_eq!(
        roster_error("customer,class,since\nP1,business,\n"),
        r#"customers.csv:2: class "business" is not a class of the rulebook (expected one of power, lighting)"#
    );
}

#[test]
fn roster_duplicate_customer() {
    assert_eq!(
        roster_error("customer,class,since\nP1,power,\nP2,lighting,\nP1,lighting,\n"),
        r#"customers.csv:4: customer "P1" is listed twice (first on line 2)"#
    );
}

#[test]
fn roster_bad_since() {
    assert_eq!(
        roster_error("customer,class,since\nP1,power,2026-02-30\n"),
        r#"customers.csv:2: since "2026-02-30" is not a valid date"#
    );
}

#[test]
fn roster_missing_class_column_and_customer() {
    assert_eq!(
        roster_error("customer,since\nP1,2020-01-01\n"),
        "customers.csv:1: the header has no `class` column"
    );
    assert_eq!(
        roster_error("customer,class,since\n,power,\n"),
        "customers.csv:2: customer is missing"
    );
}

// ── Edges that are accepted ───────────────────────────────────────────────────

#[test]
fn utf8_bom_and_crlf_line_ends() {
    let log =
        format!("\u{feff}{HEADER}\r\nP1,2026-03-10,arrears,2,,,,,\r\nP1,2026-04-01,assessment,,,,,operations,4.5\r\n");
    let v = accepted_csv(&log);
    // Arrears months 2 → −20: payment 10; operations 4.5 (the CR is not part of the cell).
    assert_dims(
        &v[0],
        r#"{"payment":10,"safety":20,"legal":30,"cooperation":10,"operations":4.5,"development":0}"#,
    );
    // The BOM and CRLF in a roster and in JSON Lines too.
    let roster = "\u{feff}customer,class,since\r\nP1,lighting,\r\n";
    let jsonl = "\u{feff}{\"customer\":\"P1\",\"date\":\"2026-03-10\",\"kind\":\"theft\"}\r\n";
    let v = accepted(
        &[("events.jsonl", jsonl.as_bytes()), ("customers.csv", roster.as_bytes())],
        &["--events", "events.jsonl", "--customers", "customers.csv"],
    );
    assert_eq!(v[0]["class"], "lighting");
    assert_dims(&v[0], r#"{"payment":50,"legal":20}"#);
}

#[test]
fn line_numbers_count_crlf_lines() {
    let log = format!(
        "{HEADER}\r\nP1,2026-03-10,theft,,,,,,\r\nP1,2026-03-10,theft,,,,,,\r\nP1,2026-03-10,arrears,0,,,,,\r\n"
    );
    assert_eq!(
        refused(&[("events.csv", log.as_bytes())], &["--events", "events.csv"]),
        r#"events.csv:4: months "0" is below the minimum 1"#
    );
}

#[test]
fn line_numbers_count_crlf_lines_with_quoted_fields() {
    // The same file as above with its first customer quoted (`"P1"`) goes through the
    // quote-aware CSV path: row 4 is reported as `events.csv:3`, and the explain ledger
    // cites rows 2 and 3 both as `events.csv:2`. With LF line ends it says `events.csv:4`.
    let log = format!(
        "{HEADER}\r\n\"P1\",2026-03-10,theft,,,,,,\r\nP1,2026-03-10,theft,,,,,,\r\nP1,2026-03-10,arrears,0,,,,,\r\n"
    );
    assert_eq!(
        refused(&[("events.csv", log.as_bytes())], &["--events", "events.csv"]),
        r#"events.csv:4: months "0" is below the minimum 1"#
    );
}

#[test]
fn spaces_around_int_decimal_and_bool_cells() {
    let log = format!("{HEADER}\nP1,2026-03-10,arrears, 2 ,,,,,\nP1,2026-04-01,defaulter_tip,,  true ,,,,\nP1,2026-04-01,assessment,,,,,operations, 3.50 \n");
    // −20 + 10 = 20; operations 3.5.
    assert_dims(
        &accepted_csv(&log)[0],
        r#"{"payment":20,"safety":20,"legal":30,"cooperation":10,"operations":3.5,"development":0}"#,
    );
}

#[test]
fn customer_and_kind_are_taken_exactly() {
    // " theft" is a near miss of `theft`: an error (issue 8); "P1 " is another customer.
    let near = format!("{HEADER}\nP1,2026-03-10, theft,,,,,,\n");
    assert_eq!(
        refused(&[("events.csv", near.as_bytes())], &["--events", "events.csv"]),
        "events.csv:2: kind ` theft` is not declared; did you mean `theft`?"
    );
    let log = format!("{HEADER}\nP1,2026-03-10,theft things,,,,,,\nP1 ,2026-03-10,theft,,,,,,\n");
    let run = score(&[("events.csv", log.as_bytes())], &["--events", "events.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .map(|v| v["customer"].clone())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(ids, [serde_json::json!("P1"), serde_json::json!("P1 ")]);
    assert!(
        run.stderr.contains("1 skipped") && run.stderr.contains("theft things 1"),
        "{}",
        run.stderr
    );
}

#[test]
fn empty_persons_defaults_to_1() {
    // History from 2025-01-01: no S8. Empty persons → 1: 20 − 5 = 15 (it would be 20 if 0).
    let log = format!("{HEADER}\nP1,2026-03-10,unqualified_electrician,,,,,,\n");
    let roster = "customer,class,since\nP1,power,2025-01-01\n";
    let v = accepted(
        &[("events.csv", log.as_bytes()), ("customers.csv", roster.as_bytes())],
        &["--events", "events.csv", "--customers", "customers.csv"],
    );
    assert_eq!(v[0]["dimensions"]["safety"].to_string(), "15");
    // And in JSON Lines, an absent or null `persons` likewise.
    let jsonl = "{\"customer\":\"P1\",\"date\":\"2026-03-10\",\"kind\":\"unqualified_electrician\",\"persons\":null}\n{\"customer\":\"P1\",\"date\":\"2026-03-11\",\"kind\":\"unqualified_electrician\"}\n";
    let v = accepted(
        &[("events.jsonl", jsonl.as_bytes()), ("customers.csv", roster.as_bytes())],
        &["--events", "events.jsonl", "--customers", "customers.csv"],
    );
    assert_eq!(v[0]["dimensions"]["safety"].to_string(), "10");
}

#[test]
fn quoted_csv_fields_with_commas() {
    let log = format!("{HEADER},note\n\"P1\",2026-03-10,arrears,1,,,,,,\"late, then paid\"\nP1,2026-04-01,theft,,,,,,,\"caught, \"\"twice\"\"\"\n");
    // P1: −10 + 0.5 = 20.5; legal 0.
    let v = accepted_csv(&log);
    assert_eq!(v.len(), 1);
    assert_dims(
        &v[0],
        r#"{"payment":20.5,"safety":20,"legal":0,"cooperation":10,"operations":0,"development":0}"#,
    );
}

#[test]
fn empty_roster_class_is_the_default_class() {
    let log = format!("{HEADER}\nP1,2026-03-10,theft,,,,,,\nP2,2026-03-10,theft,,,,,,\n");
    let roster = "customer,class,since\nP1,,\nP2,lighting,\n";
    let v = accepted(
        &[("events.csv", log.as_bytes()), ("customers.csv", roster.as_bytes())],
        &["--events", "events.csv", "--customers", "customers.csv"],
    );
    let classes: Vec<&str> = v.iter().filter_map(|v| v["class"].as_str()).collect();
    assert_eq!(classes, ["power", "lighting"]);
    // A roster with no `since` column at all is fine too.
    let v = accepted(
        &[
            ("events.csv", log.as_bytes()),
            ("customers.csv", b"customer,class\nP1,lighting\n"),
        ],
        &["--events", "events.csv", "--customers", "customers.csv"],
    );
    assert_eq!(v[0]["class"], "lighting");
}

#[test]
fn columns_the_kind_does_not_declare_are_ignored() {
    // `theft` declares no attribute: garbage in months/verified/reach/score is not read;
    // nor is an extra `note` column, nor `verified` on an arrears row.
    let log = format!("{HEADER},note\nP1,2026-03-10,theft,x,maybe,nowhere,-3,finance,1e9,anything\nP1,2026-03-11,arrears,1,perhaps,,,,,\n");
    let v = accepted_csv(&log);
    assert_dims(
        &v[0],
        r#"{"payment":20.5,"safety":20,"legal":0,"cooperation":10,"operations":0,"development":0}"#,
    );
    // JSON Lines: unknown keys are ignored as well.
    let jsonl = "{\"customer\":\"P1\",\"date\":\"2026-03-10\",\"kind\":\"theft\",\"months\":\"x\",\"extra\":[1,2]}\n";
    let v = accepted(&[("events.jsonl", jsonl.as_bytes())], &["--events", "events.jsonl"]);
    assert_dims(
        &v[0],
        r#"{"payment":30,"safety":20,"legal":0,"cooperation":10,"operations":0,"development":0}"#,
    );
}

#[test]
fn attributes_are_validated_even_outside_the_period() {
    // Before the period, and after the as-of date: still a data error.
    assert_eq!(
        csv_error("P1,2024-01-01,arrears,0,,,,,"),
        r#"events.csv:2: months "0" is below the minimum 1"#
    );
    assert_eq!(
        csv_error("P1,2026-09-01,cascade_trip,,,feeder,,,"),
        r#"events.csv:2: reach "feeder" is not one of "branch", "substation""#
    );
}

#[test]
fn undeclared_kinds_are_not_validated_beyond_customer_and_date() {
    let log = format!("{HEADER}\nP1,2026-03-10,meter_reading,x,y,z,w,v,u\n");
    let run = score(&[("events.csv", log.as_bytes())], &["--events", "events.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("1 skipped") && run.stderr.contains("meter_reading 1"),
        "{}",
        run.stderr
    );
    // But their date is: a row must be a valid row to be counted at all.
    assert_eq!(
        csv_error("P1,2026-13-10,meter_reading,,,,,,"),
        r#"events.csv:2: date "2026-13-10" is not a valid date"#
    );
}

#[test]
fn blank_lines_are_skipped() {
    let log = format!("{HEADER}\n\nP1,2026-03-10,theft,,,,,,\n\n");
    assert_eq!(accepted_csv(&log).len(), 1);
    let jsonl = "\n{\"customer\":\"P1\",\"date\":\"2026-03-10\",\"kind\":\"theft\"}\n\n";
    assert_eq!(
        accepted(&[("events.jsonl", jsonl.as_bytes())], &["--events", "events.jsonl"]).len(),
        1
    );
}

/// A log of eight blocks with bad rows in every block: its first bad row is
/// named, and with `--keep-going` its rejects are listed in line order,
/// whatever the number of cores that read its blocks (each block's counts
/// and rejects are accounted in file order, whichever core finishes first).
#[test]
fn bad_rows_of_many_blocks_are_named_and_listed_in_file_order_on_every_core() {
    let mut log = format!("{HEADER}\n");
    let mut bad = Vec::new();
    let mut line = 2;
    while log.len() < 8 << 20 {
        if line % 4_999 == 0 {
            log.push_str(&format!("B{line},2026-13-01,theft,,,,,,\n"));
            bad.push(line);
        } else {
            log.push_str(&format!(
                "C{},2026-03-01,arrears,{},,,,,\n",
                line % 50_000,
                line % 3 + 1
            ));
        }
        line += 1;
    }
    let files = [("events.csv", log.as_bytes())];
    let first = format!("events.csv:{}: date \"2026-13-01\"", bad.first().expect("bad rows"));
    let mut outputs = Vec::new();
    for threads in ["1", "2", "4"] {
        let message = refused(&files, &["--events", "events.csv", "--threads", threads]);
        assert!(message.starts_with(&first), "{threads} threads: {message}");
        let run = score(
            &files,
            &[
                "--events",
                "events.csv",
                "--threads",
                threads,
                "--keep-going",
                "--rejects",
                "-",
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        outputs.push(run.stdout);
    }
    // The rejects, then the scores, on standard output.
    let listed: Vec<usize> = outputs[0]
        .lines()
        .filter_map(|l| l.strip_prefix("events.csv,"))
        .map(|l| l.split(',').next().and_then(|n| n.parse().ok()).expect("a line number"))
        .collect();
    assert_eq!(listed, bad);
    assert!(
        outputs.iter().all(|o| *o == outputs[0]),
        "the same output on 1, 2 and 4 threads"
    );
}
