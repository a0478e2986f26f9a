//! End to end: `rulebook check` as a user runs it — the real binary, its
//! exit code and what it prints on stderr.

use std::process::{Command, Output};

/// Runs `rulebook ARGS...` from the crate's root, so paths print as given.
fn rulebook(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run rulebook: {e}"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn published_standard_checks_clean() {
    let out = rulebook(&["check", "rules/credit.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("rror"), "{}", stderr(&out));
}

#[test]
fn broken_rulebook_fails_with_a_location() {
    let file = "tests/cases/err/unknown_attribute.rules";
    let out = rulebook(&["check", file]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("unknown attribute `month`"), "{err}");
    assert!(err.contains(&format!("{file}:4:48")), "no file:line:col in:\n{err}");
    assert!(err.contains("did you mean `months`?"), "{err}");
}

#[test]
fn syntax_error_fails_with_a_location() {
    let file = "tests/cases/err/syntax_error.rules";
    let out = rulebook(&["check", file]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("expected `{`"), "{err}");
    assert!(err.contains(&format!("{file}:4:20")), "no file:line:col in:\n{err}");
}

#[test]
fn warnings_pass_unless_denied() {
    let file = "tests/cases/err/tier_gap.rules";
    let out = rulebook(&["check", file]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("counts 3 to 4 give no points"), "{err}");
    assert!(err.contains(&format!("{file}:4:67")), "no file:line:col in:\n{err}");

    let out = rulebook(&["check", "--deny-warnings", file]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn several_files_fail_if_any_fails() {
    let out = rulebook(&["check", "rules/credit.rules", "tests/cases/err/unknown_group.rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("unknown rule group `paymnt`"));
}

#[test]
fn no_arguments_is_a_usage_error() {
    assert_eq!(rulebook(&[]).status.code(), Some(2));
    assert_eq!(rulebook(&["check"]).status.code(), Some(2));
}

#[test]
fn missing_file_fails() {
    let out = rulebook(&["check", "tests/cases/no_such_file.rules"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no_such_file.rules"), "{err}");
}
