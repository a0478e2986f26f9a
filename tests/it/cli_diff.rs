//! `rulebook diff` end to end on a small fixed log (`tests/data/diff/`): the
//! report as a table and as JSON, a rulebook against itself, a hand-checked
//! change of one number, one customer's two ledgers, the rollout gate's exit
//! codes, and rulebooks whose event declarations cannot be merged.

use std::process::Command;

use serde_json::Value;

const DIR: &str = "tests/data/diff";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// The binary, run in the crate's root without colour.
fn rulebook() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rulebook"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).env("NO_COLOR", "1");
    cmd
}

/// Runs `rulebook diff OLD NEW` on the fixed log, as of 2026-06-30.
fn diff(old: &str, new: &str, extra: &[&str]) -> Run {
    let path = |f: &str| format!("{DIR}/{f}");
    let mut args = vec![
        "diff".to_string(),
        path(old),
        path(new),
        "--events".into(),
        path("events.csv"),
    ];
    if new == "new.rules" {
        // Rows of the kind and `reach` value only the new rulebook declares.
        args.push(path("events-new.csv"));
    }
    args.extend([
        "--customers".into(),
        path("customers.csv"),
        "--as-of".into(),
        "2026-06-30".into(),
    ]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = rulebook().args(&args).output().expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A scratch directory for the test `name`, holding the fixed log with
/// `extra` rows after its own: the directory, the log's text and its path.
fn log_with(name: &str, extra: &str) -> (std::path::PathBuf, String, std::path::PathBuf) {
    let dir = crate::scratch::root().join(format!("rulebook-diff-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let mut log = std::fs::read_to_string(format!("{DIR}/events.csv")).unwrap_or_else(|e| panic!("{e}"));
    log.push_str(extra);
    let events = dir.join("events.csv");
    std::fs::write(&events, &log).unwrap_or_else(|e| panic!("{e}"));
    (dir, log, events)
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.stdout))
}

#[test]
fn table_report() {
    let run = diff("old.rules", "new.rules", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn json_report() {
    let run = diff("old.rules", "new.rules", &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn one_customer_side_by_side() {
    let run = diff("old.rules", "new.rules", &["--customer", "C03"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn one_customer_scored_by_one_rulebook_only() {
    let run = diff("old.rules", "new.rules", &["--customer", "L01", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = json(&run);
    assert_eq!(v["old"]["total"], serde_json::json!(70));
    assert_eq!(v["new"], Value::Null);
}

#[test]
fn a_rulebook_against_itself_changes_nothing() {
    let run = diff(
        "old.rules",
        "old.rules",
        &["--format", "json", "--fail-if-grade-changes", "0"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = json(&run);
    assert_eq!(v["rule_changes"], serde_json::json!([]));
    let c = &v["customers"];
    assert_eq!(
        (c["total"].as_u64(), c["both"].as_u64(), c["unchanged"].as_u64()),
        (Some(11), Some(11), Some(11))
    );
    for k in [
        "grade_changed",
        "score_changed_same_grade",
        "dimensions_moved_same_total",
        "old_only",
        "new_only",
    ] {
        assert_eq!(c[k], serde_json::json!(0), "{k}");
    }
    assert_eq!(v["movers"], serde_json::json!([]));
    assert_eq!(v["clauses"], serde_json::json!([]));
    // Every customer sits on the diagonal.
    for cell in v["migration"]["cells"].as_array().into_iter().flatten() {
        assert_eq!(cell["old"], cell["new"]);
    }
    assert_eq!(v["gate"]["fails"], serde_json::json!(false));
    let table = diff("old.rules", "old.rules", &[]);
    assert!(table.stdout.contains("Rule changes: none"), "{}", table.stdout);
}

/// `one.rules` is `old.rules` with one number changed: an arrears episode of
/// severity 1 deducts 15 instead of 10. By hand, on the fixed log:
/// - C02, one 1-month episode: payment 30 → 25, total 90 AAA → 85 AA;
/// - C04, two 1-month episodes: payment 20 → 10, total 80 AA → 70 A;
/// - C05, one episode and a theft: payment 30 → 25, total 60 → 55, D either way (T2);
/// - L02 (lighting), one episode: payment 40 → 35, total 90 AAA → 85 AA;
/// - C07 and C08 lose more payment points, but theirs is already 0 (clamped);
/// - C03 (2 months) and L01 (3 months) are in other tiers; the rest have no arrears
///   (C09's arrears is dated after the as-of date).
#[test]
fn one_changed_number_moves_a_known_set_of_customers() {
    let run = diff("old.rules", "one.rules", &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = json(&run);
    let changes = v["rule_changes"].as_array().cloned().unwrap_or_default();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["key"], "P1-P3");
    assert_eq!(changes[0]["summary"], "1 => 10 → 1 => 15");
    let mut movers: Vec<(String, String, String, String)> = v["movers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["customer"].to_string(),
                m["change"].to_string(),
                m["old"]["grade"].to_string(),
                m["new"]["grade"].to_string(),
            )
        })
        .collect();
    movers.sort();
    let want = [
        ("C02", "-5", "AAA", "AA"),
        ("C04", "-10", "AA", "A"),
        ("C05", "-5", "D", "D"),
        ("L02", "-5", "AAA", "AA"),
    ];
    let want: Vec<(String, String, String, String)> = want
        .iter()
        .map(|(a, b, c, d)| {
            (
                format!("\"{a}\""),
                b.to_string(),
                format!("\"{c}\""),
                format!("\"{d}\""),
            )
        })
        .collect();
    assert_eq!(movers, want);
    let c = &v["customers"];
    assert_eq!(
        (
            c["grade_changed"].as_u64(),
            c["score_changed_same_grade"].as_u64(),
            c["unchanged"].as_u64()
        ),
        (Some(3), Some(1), Some(7))
    );
    assert_eq!(
        v["clauses"],
        serde_json::json!([{"clause": "P1-P3", "label": "拖欠电费", "moves": "score", "customers": 4}])
    );
    let payment = &v["dimensions"][0];
    assert_eq!(payment["dimension"], "payment");
    assert_eq!(
        (payment["affected"].as_u64(), payment["sum_change"].to_string()),
        (Some(4), "-25".to_string())
    );
    // Every mover's cause is the one changed line.
    for m in v["movers"].as_array().into_iter().flatten() {
        assert_eq!(m["lines"].as_array().map(Vec::len), Some(1), "{m}");
        assert_eq!(m["lines"][0]["clause"], "P1-P3");
    }
}

#[test]
fn the_gate_fails_only_above_its_limit() {
    // old → one: 3 of 11 customers (27.27%) change grade.
    let code = |gate: &str| diff("old.rules", "one.rules", &["--fail-if-grade-changes", gate]).code;
    assert_eq!(code("3"), 0);
    assert_eq!(code("2"), 1);
    assert_eq!(code("0"), 1);
    assert_eq!(code("27.3%"), 0);
    assert_eq!(code("27%"), 1);
    assert_eq!(code("100%"), 0);
    assert_eq!(diff("old.rules", "one.rules", &[]).code, 0);
    let run = diff("old.rules", "one.rules", &["--fail-if-grade-changes", "2"]);
    assert!(
        run.stderr
            .contains("gate: 3 customers change grade (27.3%), more than 2: FAIL"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("more than 2: FAIL"),
        "the report carries the verdict:\n{}",
        run.stdout
    );
    // Customers only one rulebook scores count as changing grade: 4 + 2 of 11.
    assert_eq!(
        diff("old.rules", "new.rules", &["--fail-if-grade-changes", "6"]).code,
        0
    );
    assert_eq!(
        diff("old.rules", "new.rules", &["--fail-if-grade-changes", "5"]).code,
        1
    );
    // A limit that is neither a count nor a percentage is a usage error.
    assert_eq!(code("ten"), 2);
    assert_eq!(code("120%"), 2);
}

#[test]
fn both_rulebooks_must_pass_check() {
    let run = diff("old.rules", "broken.rules", &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("`tests/data/diff/broken.rules` is not a valid rulebook"),
        "{}",
        run.stderr
    );
}

#[test]
fn conflicting_event_declarations_are_named() {
    let run = diff("old.rules", "conflict.rules", &[]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stderr.trim_end(), @"error: the two rulebooks declare their events incompatibly: attribute `months` of event `arrears` is `int` in `tests/data/diff/old.rules` and `decimal` in `tests/data/diff/conflict.rules`");
}

#[test]
fn merged_schema_reads_what_either_rulebook_accepts() {
    let load = |f: &str| {
        let src = std::fs::read_to_string(format!("{}/{DIR}/{f}", env!("CARGO_MANIFEST_DIR"))).expect("fixture");
        rulebook::syntax::parse(&src).expect("parses")
    };
    let (old, new) = (load("old.rules"), load("new.rules"));
    let schema = rulebook::input::Schema::merged(&[&old, &new]).expect("compatible");
    let kinds: Vec<&str> = schema.kinds.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(kinds, ["arrears", "theft", "cascade_trip", "facility_damage"]);
    let reach = schema
        .kind("cascade_trip")
        .and_then(|k| schema.kind_of(k))
        .and_then(|k| k.attrs.first())
        .expect("reach");
    let allowed: Vec<&str> = reach.allowed.iter().flatten().map(|(_, s)| s.as_str()).collect();
    assert_eq!(allowed, ["branch", "substation", "feeder"]);
}

/// `docs/diff.md` shows real output: each ```` ```console ```` block is a
/// `$ rulebook …` command line followed by exactly what it prints. The
/// example data may change; `DOCS_UPDATE=1 cargo test --test it cli_diff::docs`
/// then rewrites the blocks.
#[test]
fn docs_show_real_output() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diff.md");
    let md = std::fs::read_to_string(path).expect("docs/diff.md");
    let mut out = String::new();
    let mut stale = Vec::new();
    let mut lines = md.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        out.push_str(line);
        out.push('\n');
        if line.trim() != "```console" {
            continue;
        }
        let Some((_, command)) = lines.next() else { break };
        out.push_str(command);
        out.push('\n');
        let mut shown = String::new();
        for (_, l) in lines.by_ref() {
            if l.trim() == "```" {
                break;
            }
            shown.push_str(l);
            shown.push('\n');
        }
        let args: Vec<&str> = command
            .strip_prefix("$ rulebook ")
            .expect("a `$ rulebook …` line")
            .split_whitespace()
            .collect();
        let run = rulebook().args(&args).output().expect("the binary runs");
        let real = String::from_utf8_lossy(&run.stdout).into_owned();
        if real != shown {
            stale.push(format!("docs/diff.md:{}: `{command}` prints\n{real}", n + 1));
        }
        out.push_str(&real);
        out.push_str("```\n");
    }
    if std::env::var_os("DOCS_UPDATE").is_some() {
        std::fs::write(path, out).expect("docs/diff.md is writable");
        return;
    }
    assert!(
        stale.is_empty(),
        "docs/diff.md is out of date (DOCS_UPDATE=1 cargo test --test it cli_diff::docs rewrites it):\n{}",
        stale.join("\n")
    );
}

/// The log keeps every event either rulebook's longest window reaches: C01's
/// theft of 2024-09-01 is older than anything the old rulebook looks at, but
/// the new one's L7 looks back three years.
#[test]
fn events_are_kept_for_the_longer_window_of_the_two() {
    let run = diff("old.rules", "new.rules", &["--customer", "C01", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = json(&run);
    assert_eq!(v["old"]["dimensions"]["legal"], serde_json::json!(30));
    assert_eq!(v["new"]["dimensions"]["legal"], serde_json::json!(25));
    let l7: Vec<&Value> = v["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["clause"] == "L7")
        .collect();
    assert_eq!(l7.len(), 1);
    assert_eq!(
        (l7[0]["old"].clone(), l7[0]["new"].clone()),
        (Value::Null, serde_json::json!(-5))
    );
}

#[test]
fn the_2027_revision_clause_by_clause() {
    // The published standard against its 2027 revision on the revision's
    // worked examples: R1 and R2 appear as added rules (R2 on the total), the
    // grades as changed bands with measures, and the movers name R2 and the
    // P1-P3 it replaced.
    let out = rulebook()
        .args([
            "diff",
            "rules/credit.rules",
            "rules/credit-2027.rules",
            "--events",
            "examples/revision-2027.csv",
            "--customers",
            "examples/revision-2027-customers.csv",
            "--as-of",
            "2026-06-30",
        ])
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    insta::assert_snapshot!(stdout);
}

#[test]
fn a_usage_error_leaves_no_file_behind() {
    // `--customer` with `--format csv` is refused before the output is opened:
    // no report, and no temporary file beside where it would have gone.
    let dir = crate::scratch::root().join(format!("rulebook-diff-usage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let out = dir.join("movers.csv");
    let out_arg = out.to_string_lossy().into_owned();
    let run = diff(
        "old.rules",
        "new.rules",
        &["--customer", "C03", "--format", "csv", "-o", &out_arg],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--format csv lists the movers"), "{}", run.stderr);
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("the scratch directory")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// `--customer` folds the log to check every customer, then reads it again
/// keeping that customer's events alone: the ledger still lists its events,
/// the rejects and the warnings come once (from the first read), and the
/// closing line counts every customer and row.
#[test]
fn one_customer_is_read_again_for_its_events_with_rejects_and_warnings_once() {
    let path = |f: &str| format!("{DIR}/{f}");
    // A bad row, and `C03 ` beside `C03`: a second spelling the roster lacks.
    let (dir, log, events) = log_with("one", "C02,2026-13-01,arrears,1,\nC03 ,2026-04-01,arrears,1,\n");
    let (events, rejects) = (
        events.display().to_string(),
        dir.join("rejects.csv").display().to_string(),
    );
    // `diff --customer C03` of the log and the roster (either may be `-`, then given on standard input).
    let run = |log: &str, roster: &str, stdin: &[u8]| {
        let mut child = rulebook()
            .args([
                "diff",
                &path("old.rules"),
                &path("old.rules"),
                "--events",
                log,
                "--events-format",
                "csv",
            ])
            .args([
                "--customers",
                roster,
                "--as-of",
                "2026-06-30",
                "--customer",
                "C03",
                "--format",
                "json",
            ])
            .args(["--keep-going", "--rejects", &rejects])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let mut pipe = child.stdin.take().expect("a pipe");
        std::io::Write::write_all(&mut pipe, stdin).unwrap_or_else(|e| panic!("{e}"));
        drop(pipe);
        let out = child.wait_with_output().expect("the binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e})"));
        (v.to_string(), stderr)
    };
    let (text, stderr) = run(&events, &path("customers.csv"), b"");
    assert!(text.contains("2026-02-10"), "C03's event is in its ledger: {text}");
    assert_eq!(
        stderr.matches("C03 ").count(),
        1,
        "one warning of the second spelling:\n{stderr}"
    );
    assert_eq!(stderr.matches("customers scored").count(), 1, "{stderr}");
    // Every customer of the log is counted, not only C03: 11 on the roster and `C03 `.
    assert!(stderr.contains("12 customers scored"), "{stderr}");
    let written = std::fs::read_to_string(&rejects).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        written.lines().count(),
        2,
        "the header and the bad row, once:\n{written}"
    );
    // Standard input cannot be read twice: its one read keeps every event,
    // whether it holds the log or the roster.
    let (piped, _) = run("-", &path("customers.csv"), log.as_bytes());
    assert_eq!(piped.replace("<stdin>", &events), text, "the same ledgers from a pipe");
    let roster = std::fs::read(path("customers.csv")).unwrap_or_else(|e| panic!("{e}"));
    let (piped, _) = run(&events, "-", &roster);
    assert_eq!(piped, text, "the same ledgers with the roster from a pipe");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A log that changes between `--customer`'s two reads is an error, not a
/// ledger of other rows than the summary's. Made certain, not timed: the
/// rejects go to a named pipe, which the first read opens only once it has
/// counted every row; they are more than a pipe holds, so the run waits on
/// them until the test has appended a row, and only then reads again.
#[test]
fn a_log_that_changes_between_the_two_reads_of_one_customer_is_an_error() {
    let path = |f: &str| format!("{DIR}/{f}");
    // About 1.5 MB of rejects: a bad date each.
    let bad: String = (0..10_000)
        .map(|i| format!("C02,2026-13-{i:0>60},arrears,1,\n"))
        .collect();
    let (dir, _, events) = log_with("changing", &bad);
    let rejects = dir.join("rejects.fifo");
    let made = Command::new("mkfifo").arg(&rejects).status().expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    let mut child = rulebook()
        .args(["diff", &path("old.rules"), &path("old.rules"), "--events"])
        .arg(&events)
        .args(["--customers", &path("customers.csv"), "--as-of", "2026-06-30"])
        .args(["--customer", "C03", "--format", "json", "--keep-going", "--rejects"])
        .arg(&rejects)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stderr = child.stderr.take().expect("a pipe");
    let said = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).map(|_| text)
    });
    // Opening the pipe waits for the run to open it, after its first read;
    // a run that ends first never does, and is then named with what it said.
    let (opened, wait) = std::sync::mpsc::channel();
    let fifo = rejects.clone();
    std::thread::spawn(move || opened.send(std::fs::File::open(&fifo)));
    let mut pipe = match wait.recv_timeout(std::time::Duration::from_secs(120)) {
        Ok(pipe) => pipe.unwrap_or_else(|e| panic!("cannot open the pipe: {e}")),
        Err(_) => {
            let _ = child.kill();
            // Let the opening thread go.
            let _ = std::fs::OpenOptions::new().write(true).open(&rejects);
            panic!("the run never wrote its rejects: {:?}", said.join());
        }
    };
    let mut first = [0u8; 1];
    std::io::Read::read_exact(&mut pipe, &mut first).unwrap_or_else(|e| panic!("{e}"));
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&events)
        .unwrap_or_else(|e| panic!("{e}"));
    std::io::Write::write_all(&mut file, b"C03,2026-04-02,arrears,1,\n").unwrap_or_else(|e| panic!("{e}"));
    drop(file);
    let mut written = Vec::new();
    std::io::Read::read_to_end(&mut pipe, &mut written).unwrap_or_else(|e| panic!("{e}"));
    let status = child.wait().expect("the run ends");
    let said = said.join().expect("the reader ends").unwrap_or_else(|e| panic!("{e}"));
    assert!(written.len() > 1 << 20, "{} bytes of rejects", written.len());
    assert_eq!(status.code(), Some(1), "{said}");
    assert!(
        said.contains("the event logs changed between the two reads of `diff --customer`"),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
