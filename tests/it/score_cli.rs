//! End to end: the real `rulebook` binary on the shipped example data
//! (`examples/`), its outputs pinned by insta snapshots, its exit codes, and
//! the ways of reading a log (several files, standard input, `--output`,
//! `--keep-going`, `--strict`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const AS_OF: &str = "2026-06-30";

/// What a run of the binary left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `rulebook` in the crate's root, with `stdin` piped in when given.
fn rulebook(args: &[&str], stdin: Option<&[u8]>) -> Run {
    rulebook_with(args, stdin, &[])
}

/// `rulebook`, with these environment variables set (`RULEBOOK_TIMING`
/// unset unless it is one of them).
fn rulebook_with(args: &[&str], stdin: Option<&[u8]>, vars: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rulebook"));
    cmd.current_dir(ROOT)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RULEBOOK_TIMING")
        .envs(vars.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run rulebook: {e}"));
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A rulebook that stops before it reads all of stdin (an error)
        // closes the pipe: what it said is the test's failure, not that.
        if let Err(e) = pipe.write_all(bytes) {
            assert!(e.kind() == std::io::ErrorKind::BrokenPipe, "cannot write stdin: {e}");
        }
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("rulebook did not finish: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `rulebook score` on the example data as of 2026-06-30, with more arguments.
fn score_examples(more: &[&str]) -> Run {
    score_examples_with(more, &[])
}

/// `score_examples` with these environment variables set.
fn score_examples_with(more: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut args = vec![
        "score",
        "rules/credit.rules",
        "--events",
        "examples/events.csv",
        "--customers",
        "examples/customers.csv",
        "--as-of",
        AS_OF,
    ];
    args.extend(more);
    rulebook_with(&args, None, vars)
}

/// `rulebook score` of a CSV log on standard input as of 2026-06-30, with more arguments.
fn score_stdin_csv(more: &[&str], log: &[u8]) -> Run {
    let mut args = vec![
        "score",
        "rules/credit.rules",
        "--events",
        "-",
        "--events-format",
        "csv",
        "--as-of",
        AS_OF,
    ];
    args.extend(more);
    rulebook(&args, Some(log))
}

fn explain_example(customer: &str) -> Run {
    rulebook(
        &[
            "explain",
            "rules/credit.rules",
            "--events",
            "examples/events.csv",
            "--customers",
            "examples/customers.csv",
            "--as-of",
            AS_OF,
            "--customer",
            customer,
        ],
        None,
    )
}

/// Asserts success and returns stdout.
#[track_caller]
fn ok(run: Run) -> String {
    assert_eq!(run.code, 0, "exit code; stderr:\n{}", run.stderr);
    run.stdout
}

/// A fresh scratch directory.
fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "score_cli-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// Replaces a scratch directory's path by `[TMP]` (insta's `filters` feature
/// is not enabled in this crate, so the filter is applied by hand).
fn filter(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "[TMP]")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn jsonl_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The rows of `examples/events.csv` (without the header) as JSON Lines, in JSON types.
fn csv_rows_as_jsonl(rows: &[&str]) -> String {
    let header: Vec<&str> = "customer,date,kind,months,verified,reach,persons,dimension,score"
        .split(',')
        .collect();
    let mut out = String::new();
    for row in rows {
        let fields: Vec<String> = row
            .split(',')
            .zip(&header)
            .filter(|(cell, _)| !cell.is_empty())
            .map(|(cell, name)| match *name {
                "months" | "persons" | "score" | "verified" => format!("\"{name}\":{cell}"),
                _ => format!("\"{name}\":{}", serde_json::Value::String(cell.to_string())),
            })
            .collect();
        out.push_str(&format!("{{{}}}\n", fields.join(",")));
    }
    out
}

// ── The example data, pinned ─────────────────────────────────────────────────

#[test]
fn examples_jsonl() {
    let out = ok(score_examples(&["--format", "jsonl"]));
    insta::assert_snapshot!("examples_jsonl", out);
}

#[test]
fn examples_csv() {
    let out = ok(score_examples(&["--format", "csv"]));
    insta::assert_snapshot!("examples_csv", out);
}

#[test]
fn examples_table() {
    let out = ok(score_examples(&["--format", "table"]));
    insta::assert_snapshot!("examples_table", out);
}

#[test]
fn examples_summary_on_stderr() {
    let run = score_examples(&["--format", "jsonl"]);
    assert_eq!(run.code, 0);
    insta::assert_snapshot!("examples_summary", run.stderr);
}

#[test]
fn examples_grades_are_those_of_the_readme() {
    // examples/README.md lists each customer's total and grade; the results must match it.
    let readme = read(&Path::new(ROOT).join("examples/README.md"));
    let documented: Vec<(String, String, String)> = readme
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let id = cells.get(1)?;
            let is_id = id.len() == 4
                && (id.starts_with('P') || id.starts_with('L'))
                && id[1..].bytes().all(|b| b.is_ascii_digit());
            is_id.then(|| (id.to_string(), cells[2].to_string(), cells[3].to_string()))
        })
        .collect();
    let results: Vec<(String, String, String)> = jsonl_lines(&ok(score_examples(&["--format", "jsonl"])))
        .iter()
        .map(|v| {
            (
                v["customer"].as_str().unwrap_or("").to_string(),
                v["total"].to_string(),
                v["grade"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut documented_sorted = documented.clone();
    documented_sorted.sort();
    assert_eq!(documented_sorted, results);
    // Every grade is shown, D both by override (with a high total) and by band.
    for g in ["AAA", "AA", "A", "B", "C", "D"] {
        assert!(results.iter().any(|r| r.2 == g), "no customer graded {g}");
    }
}

#[test]
fn examples_exercise_every_clause() {
    // Every clause fires (gives, takes or is refused points) for some example customer;
    // a tiered rule names the clause of the tier that applied.
    let ids: Vec<String> = jsonl_lines(&ok(score_examples(&["--format", "jsonl"])))
        .iter()
        .map(|v| v["customer"].as_str().unwrap_or("").to_string())
        .collect();
    let mut fired = std::collections::BTreeSet::new();
    let mut overrides = 0;
    for id in &ids {
        let text = ok(explain_example(id));
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let Some(clause) = words
                .first()
                .filter(|_| line.starts_with("  ") && !line.starts_with("   "))
            {
                fired.insert(clause.to_string());
            }
            if line.starts_with("grade D: override T2") {
                overrides += 1;
            }
        }
    }
    let mut want: Vec<String> = [
        "P1", "P2", "P3", "P4", "P5", "P6", "P7", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "L1", "L2", "L3",
        "L4", "L5", "L6", "C1", "C2", "C3", "C4", "C5", "O1", "D1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    want.retain(|c| !fired.contains(c));
    assert!(want.is_empty(), "clauses never shown by the examples: {want:?}");
    assert!(overrides >= 3, "T2 overrides: {overrides}");
}

#[test]
fn explain_p026_episode_cut_at_the_period_start() {
    insta::assert_snapshot!("explain_P026", ok(explain_example("P026")));
}

#[test]
fn explain_p029_assessments_latest_and_tie() {
    insta::assert_snapshot!("explain_P029", ok(explain_example("P029")));
}

#[test]
fn explain_p030_roster_only_history_too_short() {
    insta::assert_snapshot!("explain_P030", ok(explain_example("P030")));
}

#[test]
fn explain_l004_lighting_d_by_override() {
    insta::assert_snapshot!("explain_L004", without_trailing_comment(&ok(explain_example("L004"))));
}

/// Cuts the override line's quoted rule at its first `#`: the comment that
/// follows the rule in the rulebook is not part of it (see the ignored test
/// below). A no-op once that bug is fixed.
fn without_trailing_comment(text: &str) -> String {
    text.lines()
        .map(
            |l| match (l.starts_with("grade D: override"), l.find(" # "), l.rfind(")  [")) {
                (true, Some(hash), Some(end)) if hash < end => {
                    format!("{}{}", &l[..hash], &l[end..])
                }
                _ => l.to_string(),
            },
        )
        .map(|l| l + "\n")
        .collect()
}

#[test]
fn explain_override_shows_the_rule_without_the_following_comment() {
    // rules/credit.rules:107 is `T2 "…" grade D when payment == 0 or legal == 0`, followed by
    // a blank line and a `# READING: …` comment about G1. The explain line quotes the rule and
    // should stop at it; today it runs on into the comment about the bands.
    let text = ok(explain_example("L004"));
    let line = text
        .lines()
        .find(|l| l.starts_with("grade D: override"))
        .unwrap_or_default();
    assert!(!line.contains('#'), "{line}");
}

// ── Exit codes ──────────────────────────────────────────────────────────────

#[test]
fn exit_0_on_success_1_on_bad_data_2_on_usage() {
    assert_eq!(score_examples(&["--format", "jsonl"]).code, 0);
    let bad = rulebook(
        &[
            "score",
            "rules/credit.rules",
            "--events",
            "tests/data/score/with_bad_rows.csv",
            "--as-of",
            AS_OF,
        ],
        None,
    );
    assert_eq!((bad.code, bad.stdout.as_str()), (1, ""));
    assert_eq!(
        bad.stderr,
        "error: tests/data/score/with_bad_rows.csv:4: date \"2026-13-01\" is not a valid date\n"
    );
    let roster = rulebook(
        &[
            "score",
            "rules/credit.rules",
            "--events",
            "examples/events.csv",
            "--customers",
            "tests/data/score/roster_unknown_class.csv",
            "--as-of",
            AS_OF,
        ],
        None,
    );
    assert_eq!(roster.code, 1, "{}", roster.stderr);
    let missing = rulebook(
        &[
            "score",
            "rules/credit.rules",
            "--events",
            "examples/no_such_file.csv",
            "--as-of",
            AS_OF,
        ],
        None,
    );
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("examples/no_such_file.csv"),
        "{}",
        missing.stderr
    );
    for usage in [
        vec!["score", "rules/credit.rules", "--as-of", AS_OF],
        vec![
            "score",
            "rules/credit.rules",
            "--events",
            "examples/events.csv",
            "--as-of",
            "2026-02-30",
        ],
        vec![
            "score",
            "rules/credit.rules",
            "--events",
            "examples/events.csv",
            "--format",
            "xml",
        ],
        vec![
            "score",
            "rules/credit.rules",
            "--events",
            "examples/events.csv",
            "--no-such-flag",
        ],
        vec!["explain", "rules/credit.rules", "--events", "examples/events.csv"],
        vec!["score"],
    ] {
        let run = rulebook(&usage, None);
        assert_eq!(run.code, 2, "{usage:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{usage:?}");
    }
}

/// A command line that cannot work is said at once, before any data is
/// read: not after a long read, and not behind an error in the data.
#[test]
fn usage_errors_come_before_any_data_is_read() {
    let data = [
        "--events",
        "examples/no_such_file.csv",
        "--customers",
        "tests/data/score/roster_unknown_class.csv",
        "--as-of",
        AS_OF,
    ];
    let cases: [(&[&str], &str); 4] = [
        (
            &["score", "rules/credit.rules", "--format", "xlsx"],
            "--format xlsx writes a workbook",
        ),
        (
            &["score", "rules/credit.rules", "--sorted"],
            "--sorted writes each customer as it goes",
        ),
        (
            &[
                "score",
                "rules/credit.rules",
                "--sorted",
                "--format",
                "xlsx",
                "-o",
                "x.xlsx",
            ],
            "--sorted writes each customer as it goes",
        ),
        (
            &["score", "rules/credit.rules", "--explain", "--format", "csv"],
            "--explain adds",
        ),
    ];
    for (args, want) in cases {
        let args: Vec<&str> = args.iter().chain(&data).copied().collect();
        let run = rulebook(&args, None);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(want), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("no_such_file"), "{args:?}: {}", run.stderr);
    }
    let diff = |more: &[&str]| {
        let mut args = vec!["diff", "rules/credit.rules", "rules/credit-2027.rules"];
        args.extend(more);
        args.extend(data);
        rulebook(&args, None)
    };
    for (more, want) in [
        (
            &["--customer", "P001", "--format", "csv"][..],
            "--format csv lists the movers",
        ),
        (
            &["--fail-if-into", "E"][..],
            "--fail-if-into `E`: not a grade of the new rulebook",
        ),
    ] {
        let run = diff(more);
        assert_eq!(run.code, 2, "{more:?}: {}", run.stderr);
        assert!(run.stderr.contains(want), "{more:?}: {}", run.stderr);
    }
    // Two index rulebooks compare groups: what is about customers and
    // grades is refused, not ignored (a gate ignored would pass quietly).
    for (more, want) in [
        (
            &["--format", "csv"][..],
            "two index rulebooks compare as a table or JSON",
        ),
        (&["--customer", "S001"][..], "--customer is about customers"),
        (&["--fail-if-into", "Z"][..], "--fail-if-into is about customers"),
        (
            &["--fail-if-grade-changes", "0"][..],
            "--fail-if-grade-changes is about customers",
        ),
    ] {
        let mut args = vec!["diff", "rules/csi.rules", "examples/csi-revised.rules"];
        args.extend(more);
        args.extend(["--events", "examples/no_such_file.csv", "--as-of", AS_OF]);
        let run = rulebook(&args, None);
        assert_eq!(run.code, 2, "{more:?}: {}", run.stderr);
        assert!(run.stderr.contains(want), "{more:?}: {}", run.stderr);
    }
    let mut report = vec!["report", "rules/credit.rules", "rules/credit-2027.rules"];
    report.extend(["--fail-if-into", "E", "--output", "never-written.html"]);
    report.extend(data);
    let run = rulebook(&report, None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--fail-if-into `E`"), "{}", run.stderr);
}

#[test]
fn explain_an_unknown_customer_is_an_error() {
    let run = explain_example("P999");
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("`P999`"), "{}", run.stderr);
}

// ── Reading logs ─────────────────────────────────────────────────────────────

#[test]
fn two_event_files_csv_and_jsonl_are_one_log() {
    let whole = ok(score_examples(&["--format", "jsonl"]));
    let text = read(&Path::new(ROOT).join("examples/events.csv"));
    let rows: Vec<&str> = text.lines().skip(1).collect();
    // Cut in the middle of a customer's rows, so that one customer spans both files.
    let cut = rows
        .iter()
        .position(|r| r.starts_with("P014,2025-08-10"))
        .unwrap_or(rows.len() / 2);
    let dir = scratch("split");
    let (first, second) = (dir.join("part1.csv"), dir.join("part2.jsonl"));
    std::fs::write(
        &first,
        format!("{}\n{}\n", text.lines().next().unwrap_or(""), rows[..cut].join("\n")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&second, csv_rows_as_jsonl(&rows[cut..])).unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = (first.display().to_string(), second.display().to_string());
    let split = rulebook(
        &[
            "score",
            "rules/credit.rules",
            "--events",
            &a,
            "--events",
            &b,
            "--customers",
            "examples/customers.csv",
            "--as-of",
            AS_OF,
            "--format",
            "jsonl",
        ],
        None,
    );
    assert_eq!(split.code, 0, "{}", split.stderr);
    assert_eq!(split.stdout, whole);
    // `--events A B` is the same as `--events A --events B`, and the summary counts both files.
    let both = rulebook(
        &[
            "score",
            "rules/credit.rules",
            "--events",
            &a,
            &b,
            "--customers",
            "examples/customers.csv",
            "--as-of",
            AS_OF,
            "--format",
            "jsonl",
        ],
        None,
    );
    assert_eq!(both.stdout, whole);
    assert_eq!(both.stderr, score_examples(&["--format", "jsonl"]).stderr);
}

#[test]
fn the_jsonl_example_scores_like_its_csv_rows() {
    let jsonl = ok(rulebook(
        &[
            "score",
            "rules/credit.rules",
            "--events",
            "examples/events.jsonl",
            "--as-of",
            AS_OF,
            "--format",
            "jsonl",
        ],
        None,
    ));
    // The same rows, taken from events.csv and read without a roster.
    let text = read(&Path::new(ROOT).join("examples/events.csv"));
    let mut rows: Vec<&str> = text.lines().take(1).collect();
    rows.extend(
        text.lines()
            .skip(1)
            .filter(|r| ["P002,", "P006,", "L002,"].iter().any(|p| r.starts_with(p))),
    );
    let csv = score_stdin_csv(&["--format", "jsonl"], format!("{}\n", rows.join("\n")).as_bytes());
    assert_eq!(ok(csv), jsonl);
    assert_eq!(jsonl.lines().count(), 3);
}

#[test]
fn stdin_with_events_format_jsonl() {
    let from_file = rulebook(
        &[
            "score",
            "rules/credit.rules",
            "--events",
            "examples/events.jsonl",
            "--customers",
            "examples/customers.csv",
            "--as-of",
            AS_OF,
            "--format",
            "jsonl",
        ],
        None,
    );
    let bytes = std::fs::read(Path::new(ROOT).join("examples/events.jsonl")).unwrap_or_else(|e| panic!("{e}"));
    let from_stdin = rulebook(
        &[
            "score",
            "rules/credit.rules",
            "--events",
            "-",
            "--events-format",
            "jsonl",
            "--customers",
            "examples/customers.csv",
            "--as-of",
            AS_OF,
            "--format",
            "jsonl",
        ],
        Some(&bytes),
    );
    assert_eq!(from_stdin.code, 0, "{}", from_stdin.stderr);
    assert_eq!(from_stdin.stdout, ok(from_file));
    // Without --events-format, `-` has no extension to tell the format: a usage mistake, not a crash.
    let unknown = rulebook(
        &["score", "rules/credit.rules", "--events", "-", "--as-of", AS_OF],
        Some(&bytes),
    );
    assert_ne!(unknown.code, 0);
    assert!(unknown.stderr.contains("--events-format"), "{}", unknown.stderr);
}

#[test]
fn output_file_instead_of_stdout() {
    let dir = scratch("output");
    let path = dir.join("scores.jsonl");
    let run = score_examples(&["--format", "jsonl", "--output", &path.display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(read(&path), ok(score_examples(&["--format", "jsonl"])));
    // The summary still goes to stderr.
    assert!(
        run.stderr.starts_with("as of 2026-06-30: 41 customers scored"),
        "{}",
        run.stderr
    );
}

#[test]
fn keep_going_writes_rejects_and_scores_the_rest() {
    let dir = scratch("keep-going");
    let rejects = dir.join("rejects.csv");
    let run = rulebook(
        &[
            "score",
            "rules/credit.rules",
            "--events",
            "tests/data/score/with_bad_rows.csv",
            "--as-of",
            AS_OF,
            "--format",
            "jsonl",
            "--keep-going",
            "--rejects",
            &rejects.display().to_string(),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("keep_going_stdout", run.stdout);
    insta::assert_snapshot!("keep_going_stderr", filter(&run.stderr, &dir));
    insta::assert_snapshot!("keep_going_rejects", read(&rejects));
}

#[test]
fn keep_going_summary_counts_every_row_read() {
    // with_bad_rows.csv has 11 rows under its header: 5 scored, 1 after the as-of date,
    // 1 of an undeclared kind, 4 rejected; the summary accounts for all 11.
    let dir = scratch("keep-going-count");
    let rejects = dir.join("rejects.csv");
    let run = rulebook(
        &[
            "score",
            "rules/credit.rules",
            "--events",
            "tests/data/score/with_bad_rows.csv",
            "--as-of",
            AS_OF,
            "--format",
            "jsonl",
            "--keep-going",
            "--rejects",
            &rejects.display().to_string(),
        ],
        None,
    );
    for part in [
        "4 customers scored",
        "11 rows read",
        "5 scored",
        "1 dated after the as-of date",
        "1 skipped",
        "meter_reading 1",
        "4 rejected",
    ] {
        assert!(run.stderr.contains(part), "`{part}` is not in: {}", run.stderr);
    }
}

#[test]
fn strict_fails_on_an_undeclared_kind() {
    let run = score_examples(&["--format", "jsonl", "--strict"]);
    assert_eq!((run.code, run.stdout.as_str()), (1, ""));
    let text = read(&Path::new(ROOT).join("examples/events.csv"));
    let line = text
        .lines()
        .position(|l| l.contains(",meter_reading,"))
        .map_or(0, |i| i + 1);
    assert_eq!(
        run.stderr,
        format!("error: examples/events.csv:{line}: kind \"meter_reading\" is not declared by the rulebook\n")
    );
    // Without --strict the same rows are skipped and counted.
    let summary = score_examples(&[]).stderr;
    assert!(
        summary.contains("4 skipped") && summary.contains("complaint 1, meter_reading 3"),
        "{summary}"
    );
}

#[test]
fn a_roster_customer_without_events_is_scored() {
    let results = jsonl_lines(&ok(score_examples(&["--format", "jsonl"])));
    let p030 = results
        .iter()
        .find(|v| v["customer"] == "P030")
        .unwrap_or_else(|| panic!("P030 is not scored"));
    assert_eq!(p030["total"].to_string(), "90");
    assert_eq!(
        p030["flags"],
        serde_json::json!(["not assessed: operations", "not assessed: development"])
    );
    // And customers only in the log (P031, P032) are scored with the default class.
    for id in ["P031", "P032"] {
        let v = results
            .iter()
            .find(|v| v["customer"] == id)
            .unwrap_or_else(|| panic!("{id} is not scored"));
        assert_eq!(v["class"], "power");
    }
}

#[test]
fn customers_are_sorted_by_id_in_byte_order() {
    let log = "customer,date,kind\np1,2026-01-01,theft\nP10,2026-01-01,theft\nP9,2026-01-01,theft\nÄ1,2026-01-01,theft\nP1,2026-01-01,theft\n";
    let out = ok(score_stdin_csv(&["--format", "csv"], log.as_bytes()));
    let ids: Vec<&str> = out.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
    assert_eq!(ids, ["P1", "P10", "P9", "p1", "Ä1"]);
}

#[test]
fn jsonl_dimensions_in_class_order_numbers_exact() {
    // The pinned line: customer, class, total, grade, then dimensions in the class's order.
    let out = ok(score_examples(&["--format", "jsonl"]));
    let p002 = out.lines().find(|l| l.contains("\"P002\"")).unwrap_or_default();
    assert!(
        p002.starts_with(r#"{"customer":"P002","class":"power","total":88,"grade":"AA","dimensions":{"payment":20.5,"safety":20,"legal":30,"cooperation":10,"operations":4.5,"development":3}"#),
        "{p002}"
    );
    let l002 = out.lines().find(|l| l.contains("\"L002\"")).unwrap_or_default();
    assert!(l002.starts_with(r#"{"customer":"L002","class":"lighting","total":90.5,"grade":"AAA","dimensions":{"payment":40.5,"legal":50}"#), "{l002}");
}

#[test]
fn as_of_is_always_echoed() {
    for line in jsonl_lines(&ok(score_examples(&["--format", "jsonl"]))) {
        assert_eq!(line["as_of"], AS_OF, "{line}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&ok(score_examples(&["--format", "json"]))).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json["as_of"], AS_OF);
    assert!(ok(score_examples(&["--format", "table"]))
        .lines()
        .next()
        .unwrap_or("")
        .ends_with("as of 2026-06-30"));
    assert!(ok(explain_example("P001")).starts_with("customer P001  class power 动力户  as of 2026-06-30\n"));
    // CSV's columns are pinned; its as-of date is in the summary on stderr.
    assert!(score_examples(&["--format", "csv"])
        .stderr
        .starts_with("as of 2026-06-30:"));
}

#[test]
fn as_of_defaults_to_today_and_is_echoed() {
    let run = rulebook(
        &[
            "score",
            "rules/credit.rules",
            "--events",
            "examples/events.jsonl",
            "--format",
            "jsonl",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let echoed = run
        .stderr
        .strip_prefix("as of ")
        .and_then(|s| s.get(..10))
        .unwrap_or_default()
        .to_string();
    assert!(rulebook::date::Date::parse(&echoed).is_some(), "{}", run.stderr);
    let today = |s: u64| rulebook::date::Date::from_days(i32::try_from(s / 86_400).unwrap_or(0)).to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    assert!(
        [today(now), today(now.saturating_sub(120))].contains(&echoed),
        "as of {echoed}, today is {}",
        today(now)
    );
    for line in jsonl_lines(&run.stdout) {
        assert_eq!(line["as_of"].as_str(), Some(echoed.as_str()));
    }
}

// ── The 2027 revision (rules/credit-2027.rules) ─────────────────────────────

fn score_revision(format: &str) -> Run {
    rulebook(
        &[
            "score",
            "rules/credit-2027.rules",
            "--events",
            "examples/revision-2027.csv",
            "--customers",
            "examples/revision-2027-customers.csv",
            "--as-of",
            AS_OF,
            "--format",
            format,
        ],
        None,
    )
}

#[test]
fn revision_2027_worked_examples_score_as_the_text_says() {
    // The revision's four worked examples, each line as its text gives it:
    // W1 three arrears ⇒ R2 (−40 from the total), C with 预付电费; W2 two
    // arrears: P1 twice, A; W3 late payments 16, 40 and 15 days: −4; W4 a
    // large industrial theft: legal 0 ⇒ D by T2, both measures.
    let want = concat!(
        r#"{"customer":"W1","class":"power","total":60,"grade":"C","dimensions":{"payment":30,"safety":20,"legal":30,"cooperation":10,"operations":5,"development":5},"as_of":"2026-06-30","measures":"预付电费"}"#,
        "\n",
        r#"{"customer":"W2","class":"power","total":81,"grade":"A","dimensions":{"payment":11,"safety":20,"legal":30,"cooperation":10,"operations":5,"development":5},"as_of":"2026-06-30"}"#,
        "\n",
        r#"{"customer":"W3","class":"power","total":100,"grade":"AAA","dimensions":{"payment":30,"safety":20,"legal":30,"cooperation":10,"operations":5,"development":5},"as_of":"2026-06-30"}"#,
        "\n",
        r#"{"customer":"W4","class":"large_industrial","total":75,"grade":"D","dimensions":{"payment":35,"safety":25,"legal":0,"cooperation":5,"operations":5,"development":5},"as_of":"2026-06-30","measures":"预付电费；停电催费"}"#,
        "\n",
    );
    assert_eq!(ok(score_revision("jsonl")), want);
}

#[test]
fn revision_2027_table_and_csv_show_measures() {
    insta::assert_snapshot!("revision_2027_table", ok(score_revision("table")));
    insta::assert_snapshot!("revision_2027_csv", ok(score_revision("csv")));
}

#[test]
fn revision_2027_explain_names_the_replacing_rule_and_the_measures() {
    for customer in ["W1", "W4"] {
        let run = rulebook(
            &[
                "explain",
                "rules/credit-2027.rules",
                "--events",
                "examples/revision-2027.csv",
                "--customers",
                "examples/revision-2027-customers.csv",
                "--as-of",
                AS_OF,
                "--customer",
                customer,
            ],
            None,
        );
        insta::assert_snapshot!(format!("revision_2027_explain_{customer}"), ok(run));
    }
}

#[test]
fn threads_do_not_change_results() {
    // One worker or several: the same bytes, the same summary (issue 10);
    // `--quiet` only hides the progress line, which a pipe never shows.
    let all = score_examples(&["--format", "jsonl"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    for n in ["1", "2", "3"] {
        let run = score_examples(&["--format", "jsonl", "--threads", n, "--quiet"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stdout, all.stdout, "--threads {n}");
        assert_eq!(run.stderr, all.stderr, "--threads {n}");
    }
    let explained = explain_example("P026");
    let mut args = vec!["explain", "rules/credit.rules", "--customer", "P026"];
    args.extend([
        "--events",
        "examples/events.csv",
        "--customers",
        "examples/customers.csv",
    ]);
    args.extend(["--as-of", AS_OF, "--threads", "1"]);
    let one = rulebook(&args, None);
    assert_eq!((one.code, one.stdout), (explained.code, explained.stdout));
}

#[test]
fn explain_in_passes_writes_what_one_pass_writes() {
    // `--memory` so small that the log is read in many passes, a share of
    // the customers at a time: the same bytes out, the same stderr (the
    // summary, a bad row, an id in two spellings), the same rejects file
    // (issue 10). The roster has columns; `--by` groups the summary.
    let dir = scratch("passes");
    let mut events = read(Path::new(ROOT).join("examples/events.csv").as_path());
    events.push_str("P001,2026-13-01,theft,,,,,,\n");
    events.push_str("p001,2026-01-05,theft,,true,,,,\n");
    let log = dir.join("events.csv");
    std::fs::write(&log, &events).unwrap_or_else(|e| panic!("cannot write {}: {e}", log.display()));
    let log = log.display().to_string();
    let run = |format: &str, memory: Option<&str>, rejects: &Path| {
        let mut args = vec!["score", "rules/credit.rules", "--events", &log];
        args.extend(["--customers", "examples/customers-branches.csv", "--as-of", AS_OF]);
        args.extend(["--format", format, "--explain", "--by", "branch", "--keep-going"]);
        let rejects = rejects.display().to_string();
        args.extend(["--rejects", &rejects]);
        args.extend(memory.map(|m| ["--memory", m]).into_iter().flatten());
        let run = rulebook(&args, None);
        assert_eq!(run.code, 0, "{}", run.stderr);
        // What one pass says, and whether the run said it was read in passes.
        let note = "note: keeping every customer's events would take about";
        let said: Vec<&str> = run.stderr.lines().filter(|l| !l.starts_with(note)).collect();
        let passes = run.stderr.lines().any(|l| l.starts_with(note));
        assert_eq!(passes, memory.is_some(), "{}", run.stderr);
        let stderr = said.join("\n").replace(&rejects, "[REJECTS]");
        (run.stdout, stderr, read(Path::new(&rejects)))
    };
    for format in ["jsonl", "json"] {
        let whole = run(format, None, &dir.join("whole.csv"));
        assert!(whole.1.contains("differ only in spaces, case"), "{}", whole.1);
        assert!(whole.2.contains("2026-13-01"), "{}", whole.2);
        for memory in ["1K", "3000", "0.5k"] {
            let passes = run(format, Some(memory), &dir.join("passes.csv"));
            assert_eq!(passes, whole, "--format {format} --memory {memory}");
        }
    }
    // A rulebook whose states are too big to fold (a period of a thousand
    // years) is read in passes all the same: the cut only counts events.
    let centuries = dir.join("centuries.rules");
    let text = read(Path::new(ROOT).join("rules/credit.rules").as_path());
    assert!(text.contains("\nperiod 12 months"));
    std::fs::write(&centuries, text.replace("\nperiod 12 months", "\nperiod 12000 months"))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", centuries.display()));
    let centuries = centuries.display().to_string();
    let good = Path::new(ROOT).join("examples/events.csv").display().to_string();
    let mut args = vec![
        "score",
        &centuries,
        "--events",
        &good,
        "--customers",
        "examples/customers.csv",
    ];
    args.extend(["--as-of", AS_OF, "--format", "jsonl", "--explain"]);
    let whole = rulebook(&args, None);
    assert_eq!(whole.code, 0, "{}", whole.stderr);
    let passes = rulebook(&[&args[..], &["--memory", "1K"]].concat(), None);
    assert!(passes.stderr.contains("the log is read"), "{}", passes.stderr);
    assert_eq!(passes.stdout, whole.stdout);
    // Standard input cannot be read twice: one pass, whatever the limit.
    let explain = ["--format", "jsonl", "--explain"];
    let piped = score_stdin_csv(&[&explain[..], &["--memory", "1K"]].concat(), events.as_bytes());
    let piped_whole = score_stdin_csv(&explain, events.as_bytes());
    assert_eq!(piped.code, 1, "{}", piped.stderr);
    assert_eq!((piped.stdout, piped.stderr), (piped_whole.stdout, piped_whole.stderr));
    let good = read(Path::new(ROOT).join("examples/events.csv").as_path());
    let piped = score_stdin_csv(&[&explain[..], &["--memory", "1K"]].concat(), good.as_bytes());
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert_eq!(piped.stdout, ok(score_stdin_csv(&explain, good.as_bytes())));
}

#[test]
fn memory_is_for_explain_and_a_size() {
    let run = score_examples(&["--format", "jsonl", "--memory", "1G"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--explain"), "{}", run.stderr);
    let run = score_examples(&["--format", "jsonl", "--explain", "--memory", "lots"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`lots` is not a size"), "{}", run.stderr);
}

#[test]
fn threads_zero_is_a_usage_error() {
    let run = score_examples(&["--threads", "0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--threads"), "{}", run.stderr);
}

#[test]
fn explain_json_ledger_lines_carry_status_and_typed_events() {
    let run = rulebook(
        &[
            "explain",
            "rules/credit-2027.rules",
            "--events",
            "examples/revision-2027.csv",
            "--customers",
            "examples/revision-2027-customers.csv",
            "--as-of",
            AS_OF,
            "--customer",
            "W1",
            "--format",
            "json",
        ],
        None,
    );
    let text = ok(run);
    let v: serde_json::Value = serde_json::from_str(&text).expect("explain --format json is JSON");
    let ledger = &v["ledger"];
    let payment = &ledger["dimensions"]["payment"]["lines"];
    // P1-P3 replaced by R2, with no points.
    assert_eq!(payment[0]["clause"], "P1-P3");
    assert_eq!(payment[0]["status"], "replaced");
    assert_eq!(payment[0]["note"], "R2");
    // P4's event as a typed object: months is a number, not text.
    let event = &payment[1]["events"][0];
    assert_eq!(event["file"], "examples/revision-2027.csv");
    assert_eq!(event["line"], 2);
    assert_eq!(event["date"], "2026-01-10");
    assert_eq!(event["kind"], "arrears");
    assert_eq!(event["attributes"]["months"], 1);
    // P7 withheld by the three arrears.
    let p7 = payment
        .as_array()
        .and_then(|l| l.iter().find(|l| l["clause"] == "P7"))
        .expect("a P7 line");
    assert_eq!(p7["status"], "withheld");
    assert_eq!(p7["events"].as_array().map(Vec::len), Some(3));
    // The rules on the total: R2 took 40 from 100.
    assert_eq!(ledger["total"]["sum"], 100);
    assert_eq!(ledger["total"]["adjust"], -40);
    assert_eq!(ledger["total"]["total"], 60);
    assert_eq!(ledger["total"]["lines"][0]["clause"], "R2");
    assert_eq!(ledger["grade_by"]["band"], "C");
    assert_eq!(ledger["measures"], "预付电费");
    // Dimensions in the class's order, not the alphabet's.
    let at = |key: &str| {
        text.find(&format!("\"{key}\":{{\"max\""))
            .expect("a dimension of the ledger")
    };
    assert!(at("payment") < at("safety") && at("safety") < at("cooperation"));
}

/// The example log split in two files, each sorted by customer (byte order).
fn sorted_examples(dir: &Path) -> (String, String) {
    let text = read(Path::new(ROOT).join("examples/events.csv").as_path());
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().to_string();
    let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let (a, b) = rows.split_at(rows.len() / 2);
    let write = |name: &str, part: &[&str]| {
        let mut part = part.to_vec();
        part.sort_by_key(|r| r.split(',').next().unwrap_or_default().to_string());
        let path = dir.join(name);
        std::fs::write(&path, format!("{header}\n{}\n", part.join("\n")))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path.display().to_string()
    };
    (write("a.csv", a), write("b.csv", b))
}

#[test]
fn a_sorted_log_streams_the_same_results() {
    let dir = scratch("sorted");
    let (a, b) = sorted_examples(&dir);
    // The same files read whole and streamed (the ledgers name their lines).
    let run = |more: &[&str]| {
        let mut args = vec![
            "score",
            "rules/credit.rules",
            "--events",
            &a,
            "--events",
            &b,
            "--customers",
            "examples/customers.csv",
            "--as-of",
            AS_OF,
        ];
        args.extend(more);
        rulebook(&args, None)
    };
    let scores = ok(score_examples(&["--format", "jsonl"]));
    assert_eq!(ok(run(&["--format", "jsonl", "--sorted"])), scores);
    for format in ["jsonl", "csv", "json", "jsonl --explain", "json --explain"] {
        let spec = format!("--format {format}");
        let words: Vec<&str> = spec.split(' ').collect();
        let whole = run(&words);
        let streamed = run(&[&words[..], &["--sorted"]].concat());
        assert_eq!(streamed.code, 0, "{}", streamed.stderr);
        assert_eq!(streamed.stdout, whole.stdout, "--format {format}");
        // The closing summary counts the same rows, customers included.
        assert_eq!(streamed.stderr.lines().last(), whole.stderr.lines().last());
    }
}

#[test]
fn a_sorted_log_is_written_as_it_goes_before_what_is_said_of_its_end() {
    // 300 sorted customers (more than a buffer's worth of lines), then a bad row.
    let dir = scratch("sorted-merged");
    let log = dir.join("log.csv");
    let mut text = String::from("customer,date,kind,months,verified,reach,persons,dimension,score\n");
    for i in 0..300 {
        text.push_str(&format!("C{i:04},2026-02-01,arrears,1,,,,,\n"));
    }
    text.push_str("C9999,2026-02-30,arrears,1,,,,,\n");
    std::fs::write(&log, text).unwrap_or_else(|e| panic!("{e}"));
    // Standard output and standard error into one file, as `> out 2>&1` does.
    let merged = dir.join("merged.txt");
    let file = std::fs::File::create(&merged).unwrap_or_else(|e| panic!("{e}"));
    let err = file.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let rejects = dir.join("rejects.csv").display().to_string();
    let status = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .current_dir(ROOT)
        .args(["score", "rules/credit.rules", "--events"])
        .arg(&log)
        .args([
            "--sorted",
            "--keep-going",
            "--rejects",
            &rejects,
            "--as-of",
            AS_OF,
            "--format",
            "jsonl",
        ])
        .stdout(file)
        .stderr(err)
        .status()
        .unwrap_or_else(|e| panic!("cannot run rulebook: {e}"));
    assert!(status.success());
    let text = read(&merged);
    let lines: Vec<&str> = text.lines().collect();
    let said = lines
        .iter()
        .position(|l| l.contains("1 rejected row(s) written to"))
        .unwrap_or_else(|| panic!("{text}"));
    let last_scored = lines
        .iter()
        .rposition(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(lines.iter().filter(|l| l.starts_with('{')).count(), 300);
    assert!(
        last_scored < said,
        "the rejects are reported before the last scores: {text}"
    );
}

#[test]
fn a_log_that_is_not_sorted_stops_sorted_scoring_and_leaves_the_output_alone() {
    let dir = scratch("unsorted");
    let out = dir.join("out.jsonl");
    std::fs::write(&out, "before\n").unwrap_or_else(|e| panic!("{e}"));
    let out_s = out.display().to_string();
    let run = score_examples(&["--format", "jsonl", "--sorted", "--output", &out_s]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("examples/events.csv:")
            && run.stderr.contains("comes after")
            && run.stderr.contains("not sorted by customer"),
        "{}",
        run.stderr
    );
    assert_eq!(read(&out), "before\n");
}

#[test]
fn sorted_scoring_writes_as_it_goes_so_not_a_table() {
    let run = score_examples(&["--sorted"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--sorted writes each customer as it goes"),
        "{}",
        run.stderr
    );
}

#[test]
fn sorted_scoring_lists_rejects_file_after_file_as_without_sorted() {
    // Two sorted logs, each larger than one read-ahead batch (two blocks of
    // 1 MiB on one thread), with bad rows all through them: streamed side by
    // side, their rejects must still be listed file after file, in line order.
    let dir = scratch("sorted-rejects");
    let header = "customer,date,kind,months,verified,reach,persons,dimension,score";
    let mut files = Vec::new();
    for f in 0..2 {
        let mut text = format!("{header}\n");
        for c in 0..90_000 {
            let date = if c % 997 == f { "2026-13-01" } else { "2026-03-01" };
            text.push_str(&format!("C{c:07},{date},arrears,1,,,,,\n"));
        }
        let path = dir.join(format!("log{f}.csv"));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        files.push(path.display().to_string());
    }
    let run = |sorted: bool, rejects: &Path| {
        let rejects = rejects.display().to_string();
        let mut args = vec![
            "score",
            "rules/credit.rules",
            "--events",
            &files[0],
            "--events",
            &files[1],
            "--as-of",
            AS_OF,
            "--format",
            "jsonl",
            "--keep-going",
            "--rejects",
            &rejects,
            "--threads",
            "1",
            "--quiet",
        ];
        if sorted {
            args.push("--sorted");
        }
        rulebook(&args, None)
    };
    let (whole, streamed) = (dir.join("whole.csv"), dir.join("streamed.csv"));
    let a = run(false, &whole);
    let b = run(true, &streamed);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert_eq!(b.stdout, a.stdout);
    let (whole, streamed) = (read(&whole), read(&streamed));
    assert!(whole.lines().count() > 100);
    // The first line out of place, not two long files.
    let first = whole.lines().zip(streamed.lines()).position(|(a, b)| a != b);
    assert_eq!(first, None, "rejects differ from line {first:?}");
    assert_eq!(streamed, whole);
}

/// A log that changes between the passes of `score --explain --memory` is
/// an error, not a mix of two logs. Made certain, not timed: the row is
/// appended once the run says it reads in passes (after its first read).
/// Either the second read sees it, or that read was done before and the run
/// then waits on its standard output, which the test reads only after the
/// row is appended (the first share's ledgers are more than a pipe holds),
/// and the third read sees it.
#[test]
fn a_log_that_changes_between_passes_is_an_error() {
    let dir = scratch("changing");
    let mut events = String::from("customer,date,kind,months,verified,reach,persons,dimension,score\n");
    for i in 0..600 {
        events.push_str(&format!(
            "C{i:04},2026-03-10,arrears,1,,,,,\nC{i:04},2026-05-02,theft,,,,,,\n"
        ));
    }
    let log = dir.join("events.csv");
    std::fs::write(&log, &events).unwrap_or_else(|e| panic!("cannot write {}: {e}", log.display()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .current_dir(ROOT)
        .args(["score", "rules/credit.rules", "--events"])
        .arg(&log)
        .args(["--as-of", AS_OF, "--format", "jsonl", "--explain", "--memory", "12K"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run rulebook: {e}"));
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("a pipe"));
    let mut said = String::new();
    loop {
        let mut line = String::new();
        let n = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap_or_else(|e| panic!("{e}"));
        said.push_str(&line);
        assert!(
            n > 0,
            "the run ended before it said it reads the log in passes:\n{said}"
        );
        if line.starts_with("note: keeping every customer's events") {
            break;
        }
    }
    assert!(said.contains("shares"), "{said}");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()));
    file.write_all(b"C0001,2026-04-01,arrears,1,,,,,\n")
        .unwrap_or_else(|e| panic!("cannot append: {e}"));
    drop(file);
    let mut stdout = child.stdout.take().expect("a pipe");
    let drain = std::thread::spawn(move || {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut out).map(|_| out.len())
    });
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap_or_else(|e| panic!("{e}"));
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    let written = drain.join().expect("the drain ends").unwrap_or_else(|e| panic!("{e}"));
    // Nothing of the third share's customers (the log's last) was written.
    assert!(written < 400 << 10, "{written} bytes\n{said}{rest}");
    assert_eq!(status.code(), Some(1), "{said}{rest}");
    assert!(
        rest.contains("the event logs changed while they were read in passes"),
        "{rest}"
    );
}

/// Ids of every length from 1 to 40 bytes (ASCII and three-byte Chinese
/// characters, across the 16 bytes below which an id is kept as its head
/// alone), each customer with a different number of arrears: every way of
/// scoring gives each its own id and its own score.
#[test]
fn ids_of_every_length_keep_their_own_customer() {
    let dir = scratch("id-lengths");
    // No id is the start of another: a wrong length would read another's bytes.
    let letter = |n: usize| char::from(b'a' + (n % 26) as u8);
    let mut ids: Vec<String> = (1..=40).map(|n| letter(n).to_string().repeat(n)).collect();
    ids.extend((1..=13).map(|n| ["户", "号", "东", "城"][n % 4].repeat(n)));
    // Two ids that share their first 16 bytes and length, differing after.
    ids.push(format!("{}A", "D".repeat(20)));
    ids.push(format!("{}B", "D".repeat(20)));
    let mut events = String::from("customer,date,kind,months,verified,reach,persons,dimension,score\n");
    let mut roster = String::from("customer,class,since\n");
    // 1 to 3 arrears of 1 to 3 months each, so the payment score differs by customer.
    let months = |k: usize| 1 + k % 3;
    // Written in id order (byte order), so that `--sorted` may read it too.
    let mut in_order: Vec<(usize, &String)> = ids.iter().enumerate().collect();
    in_order.sort_by_key(|&(_, id)| id);
    for (k, id) in in_order {
        roster.push_str(&format!("{id},power,\n"));
        for m in 0..1 + k % 3 {
            events.push_str(&format!("{id},2026-0{}-10,arrears,{},,,,,\n", m + 1, months(k)));
        }
    }
    let (log, list) = (dir.join("events.csv"), dir.join("customers.csv"));
    std::fs::write(&log, events).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&list, roster).unwrap_or_else(|e| panic!("{e}"));
    let run = |more: &[&str]| {
        let mut args = vec!["score", "rules/credit.rules", "--events"];
        args.push(log.to_str().expect("a UTF-8 path"));
        args.extend([
            "--customers",
            list.to_str().expect("a UTF-8 path"),
            "--as-of",
            AS_OF,
            "--format",
            "jsonl",
        ]);
        args.extend(more);
        let by_id: std::collections::BTreeMap<String, serde_json::Value> = jsonl_lines(&ok(rulebook(&args, None)))
            .into_iter()
            .map(|v| {
                (
                    v["customer"].as_str().expect("an id").to_string(),
                    v["dimensions"]["payment"].clone(),
                )
            })
            .collect();
        by_id
    };
    let folded = run(&[]);
    assert_eq!(
        folded.keys().cloned().collect::<std::collections::BTreeSet<_>>(),
        ids.iter().cloned().collect()
    );
    // Customers with the same arrears (k % 3) score the same, and only they.
    let mut by_arrears = std::collections::BTreeMap::new();
    for (k, id) in ids.iter().enumerate() {
        by_arrears
            .entry(k % 3)
            .or_insert_with(std::collections::BTreeSet::new)
            .insert(folded[id].to_string());
    }
    let scores: std::collections::BTreeSet<_> = by_arrears.values().flatten().collect();
    assert!(
        by_arrears.values().all(|s| s.len() == 1) && scores.len() == 3,
        "each customer scored by its own arrears: {by_arrears:?}"
    );
    // Stored (explained), streamed in order, and one thread: the same.
    let explained = run(&["--explain"]);
    assert_eq!(explained, folded);
    assert_eq!(run(&["--sorted"]), folded);
    assert_eq!(run(&["--threads", "1"]), folded);
}

#[test]
fn rulebook_timing_names_each_phase_of_a_score_in_order_and_is_silent_without_it() {
    let timed = score_examples_with(&["--format", "jsonl"], &[("RULEBOOK_TIMING", "1")]);
    let plain = score_examples_with(&["--format", "jsonl"], &[("RULEBOOK_TIMING", "0")]);
    assert!(timed.code == 0 && plain.code == 0, "{}{}", timed.stderr, plain.stderr);
    assert_eq!(timed.stdout, plain.stdout, "timing changes nothing written");
    let phases: Vec<&str> = timed
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("timing: "))
        .map(|l| {
            l.split(" ms wall")
                .next()
                .unwrap_or("")
                .trim_end_matches(char::is_numeric)
                .trim()
        })
        .collect();
    assert_eq!(
        phases,
        [
            "rulebook read and checked",
            "roster read",
            "roster into the tables",
            "log read",
            "customers sorted",
            "ids in two spellings",
            "evaluate and write"
        ],
        "{}",
        timed.stderr
    );
    assert!(!plain.stderr.contains("timing:"), "RULEBOOK_TIMING=0 is off");
    // What is said besides is the same.
    let said = |r: &Run| -> Vec<String> {
        r.stderr
            .lines()
            .filter(|l| !l.starts_with("timing: "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(said(&timed), said(&plain));
}
