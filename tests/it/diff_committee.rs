//! End to end: `diff` for a committee — the roster before the revision
//! (`--old-customers`), upgrades and downgrades, moves per branch (`--by`),
//! the movers as CSV and the gates `--fail-if-downgrades` and
//! `--fail-if-into`, with their exit codes.

use std::process::{Command, Stdio};

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The roster after the revision: L004 moves from lighting to power.
const AFTER: &str = "tests/data/committee/customers-2027.csv";
const BEFORE: &str = "examples/customers-branches.csv";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `rulebook diff rules/credit.rules examples/revised.rules` on the example log.
fn diff(more: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .current_dir(ROOT)
        .args([
            "diff",
            "rules/credit.rules",
            "examples/revised.rules",
            "--events",
            "examples/events.csv",
            "--as-of",
            "2026-06-30",
        ])
        .args(more)
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

fn json(run: &Run) -> Value {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout))
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

#[test]
fn a_customer_moved_to_a_new_class_is_compared_with_the_old_roster() {
    let with = json(&diff(&[
        "--customers",
        AFTER,
        "--old-customers",
        BEFORE,
        "--customer",
        "L004",
        "--format",
        "json",
    ]));
    assert_eq!(with["old"]["class"], "lighting");
    assert_eq!(with["new"]["class"], "power");
    // Without the old roster, both rulebooks see L004 as power.
    let without = json(&diff(&["--customers", AFTER, "--customer", "L004", "--format", "json"]));
    assert_eq!(without["old"]["class"], "power");
    assert_eq!(without["new"]["class"], "power");
}

#[test]
fn upgrades_downgrades_and_moves_by_branch() {
    let doc = json(&diff(&[
        "--customers",
        AFTER,
        "--old-customers",
        BEFORE,
        "--by",
        "branch",
        "--format",
        "json",
    ]));
    let c = &doc["customers"];
    assert_eq!((c["upgrades"].as_u64(), c["downgrades"].as_u64()), (Some(0), Some(13)));
    assert_eq!(c["old_only"].as_u64(), Some(0), "L004 is compared, not one-sided");
    insta::assert_snapshot!(pretty(&doc["by"]));
    // The groups add up to the whole.
    let groups = doc["by"]["branch"].as_array().cloned().unwrap_or_default();
    let sum = |k: &str| groups.iter().filter_map(|g| g[k].as_u64()).sum::<u64>();
    assert_eq!(sum("customers"), 41);
    assert_eq!(sum("downgrades"), 13);
    assert_eq!(sum("grade_changed"), c["grade_changed"].as_u64().unwrap_or(0));
}

#[test]
fn the_table_shows_upgrades_downgrades_and_branches() {
    let run = diff(&["--customers", AFTER, "--old-customers", BEFORE, "--by", "branch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let from = run.stdout.find("Customers:").unwrap_or(0);
    let to = run.stdout.find("\nDimensions").unwrap_or(run.stdout.len());
    insta::assert_snapshot!(&run.stdout[from..to]);
}

#[test]
fn movers_as_csv() {
    let run = diff(&["--customers", AFTER, "--old-customers", BEFORE, "--format", "csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn the_downgrade_gate_fails_only_above_its_limit() {
    let base = ["--customers", BEFORE];
    let gate = |limit: &str| {
        let mut args = base.to_vec();
        args.extend(["--fail-if-downgrades", limit]);
        diff(&args)
    };
    // 13 downgrades of 41 customers (31.7%).
    let pass = gate("13");
    assert_eq!(pass.code, 0, "{}", pass.stderr);
    assert!(pass
        .stdout
        .ends_with("gate: 13 customers move to a worse grade (31.7%), not more than 13: pass\n"));
    let fail = gate("12");
    assert_eq!(fail.code, 1);
    assert!(fail
        .stderr
        .contains("error: gate: 13 customers move to a worse grade (31.7%), more than 12: FAIL"));
    assert_eq!(gate("31.7%").code, 1);
    assert_eq!(gate("31.8%").code, 0);
    let bad = gate("lots");
    assert_eq!(bad.code, 2);
}

#[test]
fn the_into_gate_fails_when_anyone_newly_reaches_the_grade_or_worse() {
    let into = |grade: &str| diff(&["--customers", BEFORE, "--fail-if-into", grade, "--format", "json"]);
    // B → C: L008, L009, P020, P029; C → D: already C or worse.
    let c = into("C");
    assert_eq!(c.code, 1);
    let doc: Value = serde_json::from_str(&c.stdout).unwrap_or_default();
    assert_eq!(
        pretty(&doc["gates"]),
        pretty(&serde_json::json!([{"option": "fail-if-into", "limit": "C", "counted": 4, "fails": true}]))
    );
    // B or worse: only the A → B mover (P031); the B → C ones were B already.
    let b: Value = serde_json::from_str(&into("B").stdout).unwrap_or_default();
    assert_eq!(b["gates"][0]["counted"].as_u64(), Some(1));
    // D: the C → D movers (L006, P023, P028).
    let d: Value = serde_json::from_str(&into("D").stdout).unwrap_or_default();
    assert_eq!(d["gates"][0]["counted"].as_u64(), Some(3));
    let bad = into("E");
    assert_eq!(bad.code, 2);
    assert!(bad
        .stderr
        .contains("--fail-if-into `E`: not a grade of the new rulebook (its grades are AAA, AA, A, B, C, D)"));
    // A rulebook against itself moves nobody: every gate passes.
    let same = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .current_dir(ROOT)
        .args([
            "diff",
            "rules/credit.rules",
            "rules/credit.rules",
            "--events",
            "examples/events.csv",
            "--as-of",
            "2026-06-30",
            "--fail-if-into",
            "AA",
            "--fail-if-downgrades",
            "0",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(same.status.code(), Some(0));
}

#[test]
fn by_a_column_the_roster_lacks_is_a_usage_error() {
    let run = diff(&["--customers", "examples/customers.csv", "--by", "branch"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--by `branch`: no such roster column"),
        "{}",
        run.stderr
    );
}

/// Points too large to hold exactly make the comparison an error naming the
/// first such customer (by id) and the rulebook, whatever the format; the
/// impact pass finds it as it scores everyone, `--customer` checks first.
#[test]
fn a_customer_whose_points_overflow_stops_the_comparison_in_every_format() {
    let dir = crate::scratch::root().join(format!("rulebook-diff-overflow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let book = |points: &str| {
        format!(
            "standard \"t\" period 12 months\nevent late {{ amount: int >= 0 }}\nrules money {{ M1 deduct {points} x amount per late }}\nclass power default {{ dimension money max 100 uses money }}\ngrades {{ A >= 50, D }}\n"
        )
    };
    let (old, new) = (dir.join("old.rules"), dir.join("new.rules"));
    std::fs::write(&old, book("0.000001")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&new, book("0.25")).unwrap_or_else(|e| panic!("{e}"));
    let big = |id: &str| format!("{id},2026-05-01,late,9000000000000\n").repeat(5);
    let events = dir.join("events.csv");
    let log = format!(
        "customer,date,kind,amount\nA1,2026-05-01,late,3\n{}{}Z9,2026-05-01,late,1\n",
        big("B2"),
        big("B1")
    );
    std::fs::write(&events, log).unwrap_or_else(|e| panic!("{e}"));
    let run = |more: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
            .arg("diff")
            .arg(&old)
            .arg(&new)
            .args(["--as-of", "2026-06-30", "--events"])
            .arg(&events)
            .args(more)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run rulebook: {e}"));
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let want = format!("customer `B1` under `{}`", new.display());
    for more in [
        &[][..],
        &["--format", "json"],
        &["--format", "csv"],
        &["--customer", "A1"],
    ] {
        let (code, stderr) = run(more);
        assert_eq!(code, Some(1), "{more:?}: {stderr}");
        assert!(stderr.contains(&want), "{more:?}: {stderr}");
    }
    // A usage error and an output that cannot be created are said first,
    // with `--customer` too (whose overflow is found on a read of its own).
    let (code, stderr) = run(&["--customer", "A1", "--format", "csv"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--format csv lists the movers"), "{stderr}");
    let nowhere = dir.join("no such folder").join("out.txt");
    let nowhere = nowhere.display().to_string();
    let (code, stderr) = run(&["--customer", "A1", "-o", &nowhere]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("cannot create"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
