//! End-to-end: `rulebook test` as policy staff run it — the published
//! standard's own cases, a failing case, `--update`, `--coverage`, and errors
//! in a test file. Each test works in its own temporary folder holding a copy
//! of `rules/credit.rules`, so the paths in the output are stable.

use std::path::Path;
use std::process::Command;

const RULES: &str = include_str!("../../rules/credit.rules");

/// A fresh folder with `credit.rules` and the given test files.
fn folder(name: &str, files: &[(&str, &str)]) -> crate::scratch::Scratch {
    let dir = crate::scratch::folder("rulebook-cli-test", name);
    std::fs::write(dir.join("credit.rules"), RULES).expect("write credit.rules");
    for (file, text) in files {
        std::fs::write(dir.join(file), text).expect("write a test file");
    }
    dir
}

/// Runs `rulebook <args>` in `dir`: exit code, stdout, stderr.
fn rulebook(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("rulebook runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_published_standard_passes_its_cases_with_every_rule_covered() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, out, err) = rulebook(root, &["test", "rules/", "--deny-uncovered"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let last = out.lines().last().unwrap_or_default();
    let passed: usize = last
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("last line: {last:?}"));
    assert!(passed >= 90, "{last}");
    assert!(!out.contains("no case exercises"), "{out}");
}

const FAILING: &str = "\
rulebook credit.rules
as of 2026-06-30

case P2 两次连续拖欠 two arrears in a row
  2026-01-10 arrears months=1
  2026-02-10 arrears months=1
  expect payment 10  total 80  grade AA
  fires  P2
  silent P4

case L1 theft
  2026-02-01 theft
  expect legal 0  grade D
  fires L1 T2
";

#[test]
fn a_failing_case_shows_expected_against_actual_and_the_ledger() {
    let dir = folder("failing", &[("credit.tests", FAILING)]);
    let (code, out, err) = rulebook(&dir, &["test", "credit.tests"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out.lines().last(), Some("1 passed, 1 failed"));
    insta::assert_snapshot!(out);
}

#[test]
fn update_rewrites_the_failing_expectations() {
    let fresh = "rulebook credit.rules\nas of 2026-06-30\n\ncase new case, expectations to fill in\n  class lighting\n  2026-02-01 breach\n";
    let dir = folder("update", &[("credit.tests", FAILING), ("fresh.tests", fresh)]);
    let (code, out, _) = rulebook(&dir, &["test", ".", "--update"]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!(out);
    let updated = std::fs::read_to_string(dir.join("credit.tests")).expect("read back");
    let filled = std::fs::read_to_string(dir.join("fresh.tests")).expect("read back");
    insta::assert_snapshot!(format!("{updated}\n--- fresh.tests ---\n{filled}"));
    let (code, out, _) = rulebook(&dir, &["test", "."]);
    assert_eq!((code, out.lines().last()), (0, Some("3 passed, 0 failed")));
}

#[test]
fn coverage_lists_every_rule_and_deny_uncovered_fails() {
    let dir = folder("coverage", &[("credit.tests", FAILING)]);
    let (code, out, err) = rulebook(&dir, &["test", ".", "--coverage", "--deny-uncovered"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out.split("\ncoverage of").nth(1).unwrap_or_default());
    assert!(err.contains("are exercised by no case (--deny-uncovered)"), "{err}");
}

#[test]
fn errors_in_a_test_file_point_at_the_line() {
    let bad = "rulebook credit.rules\n\ncase 拖欠 no as-of date\n  2026-13-01 arrears months=1\n  expect total\n";
    let dir = folder("bad", &[("bad.tests", bad)]);
    let (code, out, err) = rulebook(&dir, &["test", "bad.tests"]);
    assert_eq!(code, 1);
    assert_eq!(out, "0 passed, 0 failed\n");
    insta::assert_snapshot!(err);
}

#[test]
fn bad_event_data_fails_the_case_at_its_line() {
    let bad = "rulebook credit.rules\nas of 2026-06-30\n\ncase typo\n  2026-01-10 arrears months=two\n  expect total 80\n\ncase unknown attribute\n  2026-01-10 arrears month=1\n  expect total 80\n\ncase unknown class\n  class industry\n  expect total 80\n";
    let dir = folder("data", &[("data.tests", bad)]);
    let (code, out, _) = rulebook(&dir, &["test", "data.tests"]);
    assert_eq!(code, 1);
    let errors: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("error:"))
        .map(str::trim)
        .collect();
    assert_eq!(
        errors,
        [
            "error: data.tests:5: months \"two\" is not a whole number",
            "error: data.tests:9: `month` is not an attribute of `arrears` (it has only months)",
            "error: data.tests:13: class \"industry\" is not a class of the rulebook (expected one of power, lighting)",
        ]
    );
}

#[test]
fn a_folder_without_tests_is_an_error() {
    let dir = folder("empty", &[]);
    let (code, _, err) = rulebook(&dir, &["test", "."]);
    assert_eq!(code, 1);
    assert!(err.contains("no `*.tests` files in `.`"), "{err}");
}

/// The fenced blocks of a markdown file: (tag, text).
fn fenced(md: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in md.lines() {
        match (open.take(), line.strip_prefix("```")) {
            (None, Some(tag)) => open = Some((tag.trim().to_string(), String::new())),
            (Some(block), Some(_)) => out.push(block),
            (Some((tag, mut text)), None) => {
                text.push_str(line);
                text.push('\n');
                open = Some((tag, text));
            }
            (None, None) => {}
        }
    }
    out
}

#[test]
fn the_failing_example_in_docs_testing_md_is_real_output() {
    let md = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/testing.md")).expect("docs/testing.md");
    let blocks = fenced(&md);
    let example = blocks
        .iter()
        .find(|(tag, _)| tag == "tests")
        .map(|(_, t)| t.as_str())
        .expect("a ```tests block");
    let shown = blocks
        .iter()
        .find_map(|(_, t)| t.strip_prefix("$ rulebook test example.tests\n"))
        .expect("the example's output");
    let dir = folder("docs-example", &[("example.tests", example)]);
    let (code, out, _) = rulebook(&dir, &["test", "example.tests"]);
    assert_eq!(code, 1);
    assert_eq!(
        shown, out,
        "docs/testing.md shows other output than `rulebook test example.tests` gives"
    );
}
