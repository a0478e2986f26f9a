//! End to end: `rulebook index` on the shipped survey example
//! (`examples/survey.csv`, `examples/survey-customers.csv`) with
//! `rules/csi.rules` — every format pinned by a snapshot — and its errors:
//! bad answers, `--keep-going`, `--by` a column the roster lacks, a
//! rulebook without an index, the latest survey across several files.

use std::path::PathBuf;
use std::process::{Command, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn rulebook(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .current_dir(ROOT)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run rulebook: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `rulebook index rules/csi.rules` on the example as of 2026-06-30, by branch.
fn example(format: &str) -> Run {
    rulebook(&[
        "index",
        "rules/csi.rules",
        "--events",
        "examples/survey.csv",
        "--customers",
        "examples/survey-customers.csv",
        "--as-of",
        "2026-06-30",
        "--by",
        "branch",
        "--format",
        format,
    ])
}

#[track_caller]
fn ok(run: Run) -> String {
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    run.stdout
}

/// A temporary file with `text`, unique to this test process.
fn temp(name: &str, text: &str) -> PathBuf {
    let dir = crate::scratch::root().join(format!("rulebook-index-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

#[test]
fn jsonl_by_branch() {
    let out = ok(example("jsonl"));
    // The overall line first, then each branch in byte order.
    let first = out.lines().next().unwrap_or_default();
    assert!(first.starts_with("{\"group\":{},"), "{first}");
    insta::assert_snapshot!(out);
}

#[test]
fn table_by_branch() {
    insta::assert_snapshot!(ok(example("table")));
}

#[test]
fn csv_by_branch() {
    insta::assert_snapshot!(ok(example("csv")));
}

#[test]
fn json_by_branch() {
    let out = ok(example("json"));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["groups"][0]["respondents"], 10);
    insta::assert_snapshot!(out);
}

#[test]
fn the_summary_counts_surveyed_and_skipped_rows() {
    let run = example("jsonl");
    assert!(
        run.stderr
            .contains("11 customers surveyed in the period (10 respondents, 1 unanswered)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("1 dated after the as-of date"), "{}", run.stderr);
}

const BAD: &str = "customer,date,kind,reliability,voltage\n\
A,2026-03-01,survey,11,5\n\
B,2026-03-01,survey,0,5\n\
C,2026-03-01,survey,abc,5\n\
D,2026-03-01,survey,10,1\n";

#[test]
fn a_bad_answer_is_a_data_error_with_file_line_field_and_value() {
    let path = temp("bad.csv", BAD);
    let p = path.display().to_string();
    let run = rulebook(&["index", "rules/csi.rules", "--events", &p, "--as-of", "2026-06-30"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("{p}:2: reliability \"11\" is above the maximum 10")),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn keep_going_rejects_bad_answers_and_indexes_the_rest() {
    let path = temp("bad-keep.csv", BAD);
    let rejects = temp("rejects.csv", "");
    let (p, r) = (path.display().to_string(), rejects.display().to_string());
    let run = rulebook(&[
        "index",
        "rules/csi.rules",
        "--events",
        &p,
        "--as-of",
        "2026-06-30",
        "--format",
        "jsonl",
        "--keep-going",
        "--rejects",
        &r,
    ]);
    // Only D remains: supply (9 + 0)/2/9 = 50.
    assert_eq!(
        ok(run),
        "{\"group\":{},\"respondents\":1,\"index\":50,\"blocks\":{\"supply\":50},\"priority\":[\"supply\"],\"unanswered\":0}\n"
    );
    let written = std::fs::read_to_string(&rejects).unwrap_or_default();
    // Quotes are doubled inside a CSV cell.
    assert!(
        written.contains(",2,\"reliability \"\"11\"\" is above the maximum 10\""),
        "{written}"
    );
    assert!(
        written.contains(",3,\"reliability \"\"0\"\" is below the minimum 1\""),
        "{written}"
    );
    assert!(
        written.contains(",4,\"reliability \"\"abc\"\" is not a whole number\""),
        "{written}"
    );
}

#[test]
fn on_equal_dates_the_later_file_counts() {
    let a = temp("a.csv", "customer,date,kind,reliability\nX,2026-03-01,survey,10\n");
    let b = temp("b.csv", "customer,date,kind,reliability\nX,2026-03-01,survey,1\n");
    let (a, b) = (a.display().to_string(), b.display().to_string());
    let args = |first: &str, second: &str| {
        let run = rulebook(&[
            "index",
            "rules/csi.rules",
            "--events",
            first,
            second,
            "--as-of",
            "2026-06-30",
            "--format",
            "csv",
        ]);
        ok(run).lines().nth(1).unwrap_or_default().to_string()
    };
    assert!(args(&a, &b).starts_with(",,1,0,0,"), "{}", args(&a, &b));
    assert!(args(&b, &a).starts_with(",,1,0,100,"), "{}", args(&b, &a));
}

#[test]
fn by_a_column_the_roster_lacks_is_a_usage_error() {
    let run = rulebook(&[
        "index",
        "rules/csi.rules",
        "--events",
        "examples/survey.csv",
        "--customers",
        "examples/survey-customers.csv",
        "--by",
        "region",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the roster has no column `region` (it has `branch`, `户名`)"),
        "{}",
        run.stderr
    );
    let run = rulebook(&[
        "index",
        "rules/csi.rules",
        "--events",
        "examples/survey.csv",
        "--by",
        "branch",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("pass `--customers FILE`"), "{}", run.stderr);
}

#[test]
fn a_rulebook_without_an_index_and_scoring_an_index() {
    let run = rulebook(&["index", "rules/credit.rules", "--events", "examples/events.csv"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("declares no index"), "{}", run.stderr);
    let run = rulebook(&["score", "rules/csi.rules", "--events", "examples/survey.csv"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no class of customer to score"), "{}", run.stderr);
}

#[test]
fn the_example_agrees_with_its_documented_reading() {
    // docs/csi.md walks through the example; pin the figures it quotes.
    let out = ok(example("jsonl"));
    let east = out.lines().find(|l| l.contains("东城供电所")).unwrap_or_default();
    assert!(east.contains("\"respondents\":4"), "{east}");
    let south = out.lines().find(|l| l.contains("南郊供电所")).unwrap_or_default();
    // billing and service tie at 66.67: rulebook order.
    assert!(
        south.contains("\"priority\":[\"supply\",\"billing\",\"service\",\"image\"]"),
        "{south}"
    );
    assert!(!south.contains("ci95"), "one respondent has no interval: {south}");
}

fn diff(format: &str) -> Run {
    rulebook(&[
        "diff",
        "rules/csi.rules",
        "examples/csi-revised.rules",
        "--events",
        "examples/survey.csv",
        "--customers",
        "examples/survey-customers.csv",
        "--as-of",
        "2026-06-30",
        "--by",
        "branch",
        "--format",
        format,
    ])
}

#[test]
fn diff_of_two_index_rulebooks_table() {
    let out = ok(diff("table"));
    assert!(out.contains("supply            0.3 → 0.2"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn diff_of_two_index_rulebooks_json() {
    let out = ok(diff("json"));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    // South: the index rises and service becomes the first priority.
    let south = &v["groups"][4];
    assert_eq!(south["group"]["branch"], "南郊供电所");
    assert_eq!(south["change"], 1.11);
    assert_eq!(south["new"]["priority"][0], "service");
    assert_eq!(south["priority_moved"], true);
    insta::assert_snapshot!(out);
}

#[test]
fn diff_of_an_index_and_a_credit_rulebook_is_refused() {
    let run = rulebook(&[
        "diff",
        "rules/credit.rules",
        "rules/csi.rules",
        "--events",
        "examples/survey.csv",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("one scores customers, the other holds only an index"),
        "{}",
        run.stderr
    );
}
