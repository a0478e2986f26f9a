//! `rulebook fmt`: the canonical layout keeps every rule and every comment,
//! and formatting twice changes nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rulebook::fmt::format;
use rulebook::syntax::parse;

/// A rulebook written as carelessly as the grammar allows: odd indentation,
/// several declarations on a line, comments everywhere (trailing, own-line,
/// inside rules and tiers, before closing braces), Chinese labels, escapes.
const MESSY: &str = r#"   # A messy rulebook: odd indentation, few lines, comments everywhere.


# Second header comment, after two blank lines.
standard "测试标准 \"quoted\" \\ backslash" version "v1\t2"   period 1 months total 100 # header trailing
event arrears "拖欠电费" { months : int>=1 , # trailing in block
      note: text = "a # not a comment" }
event tip "举报"{verified:bool} event trip "越级跳闸" { reach: text in {"branch","substation"}, persons: int >= 1 = 1, since: date = 2024-01-01, ratio: decimal = 0.50 }



        event assessment "现场评估" {dimension:text
  score:decimal   }   # trailing after block
rules payment "商业资信" { # after open brace
P1-P3 "拖欠电费" deduct per episode of arrears severity max( length , months ) {1=>10,2=>20,3+=>30}
     P4 bonus 0.5 per arrears where months==1 and not (note == "x" or note in {"y","z"}) # why
  "无编号" deduct 5 × persons per trip where (reach == "branch") within 2 years
P7 "连续一年无拖欠电费史" bonus 5 if no arrears
   # own-line comment inside a rule
   within 1 year
   S2-S3 deduct by count of trip where reach=="branch" {
      1 => 10   # first trip
      2..3 => 15
      # before the open tier
      4+ => 20 }
  S7 deduct 5 once if any trip, tip where verified == true
  # before closing brace
}
rules empty {}
class power "动力户" default { dimension payment "商业资信" max 30 uses payment
  # own-line in class
  dimension operations "经营行为" max 5   O1 "现场" assessed score of latest assessment where dimension == "operations"
  T3 grade C when (payment < 10) == false    # class override
  dimension inline "内联" max 10 { L1 deduct 10 * persons per trip
  }
}
class lighting{dimension payment max 50 uses payment}
T2 "3、5项若为0即该客户信用度为D级" grade D when payment == 0 or not inline >= 5 and payment != 30 G1 "四等六级" grades { AAA >= 90, AA >= 80
 A>=70   D # bottom
 }
# the very end
"#;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn fmt(src: &str) -> String {
    format(src).unwrap_or_else(|d| panic!("format failed: {}", d.message))
}

/// The text of every `#` comment outside string literals, in order.
fn comments(src: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut chars = src.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' | '\n' => break,
                        _ => {}
                    }
                }
            }
            '#' => {
                let rest = &src[i..];
                let line = rest.split(['\n', '\r']).next().unwrap_or(rest);
                out.push(line.trim_end());
                for _ in line.chars().skip(1) {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    out
}

/// Formatting keeps the rules and the comments, and is a fixed point.
#[track_caller]
fn assert_canonical_round_trip(name: &str, src: &str) -> String {
    let once = fmt(src);
    let twice = fmt(&once);
    assert_eq!(once, twice, "{name}: formatting is not idempotent");
    let (before, after) = (parse(src), parse(&once));
    assert!(
        before.is_ok() && after.is_ok(),
        "{name}: does not parse before or after formatting"
    );
    assert!(before == after, "{name}: formatting changed the rulebook");
    assert_eq!(comments(src), comments(&once), "{name}: comments lost or reordered");
    once
}

#[test]
fn the_published_standard_round_trips() {
    assert_canonical_round_trip("rules/credit.rules", &read(&repo("rules/credit.rules")));
}

#[test]
fn the_2027_revision_round_trips() {
    assert_canonical_round_trip("rules/credit-2027.rules", &read(&repo("rules/credit-2027.rules")));
}

#[test]
fn the_satisfaction_index_round_trips() {
    assert_canonical_round_trip("rules/csi.rules", &read(&repo("rules/csi.rules")));
}

/// An index written any which way: blocks and items one per line, items
/// aligned on name, label and weight, ranges and `optional` spelled one way.
const MESSY_INDEX: &str = "standard \"满意度\" period 12 months
event survey { q1 : int in 1 .. 10 optional , q2: int in 1..10 optional,
  q3: int in 1..10   optional }
index csi \"客户满意度指数\"  of latest survey scale 1 ..10 { block quality \"供电质量\" weight 0.6 { q1 \"可靠性\" weight 0.5 q2 weight 0.5 # 电压
}
  block service \"服务\" weight 0.4 {
      q3 \"95598 热线\" weight 1 } }
";

#[test]
fn a_messy_index_round_trips() {
    let out = assert_canonical_round_trip("messy index", MESSY_INDEX);
    insta::assert_snapshot!("messy_index", out);
}

#[test]
fn every_ok_case_round_trips() {
    let Ok(dir) = std::fs::read_dir(repo("tests/cases/ok")) else {
        return;
    };
    let mut paths: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.retain(|p| p.extension().is_some_and(|x| x == "rules"));
    paths.sort();
    for path in paths {
        assert_canonical_round_trip(&path.display().to_string(), &read(&path));
    }
}

#[test]
fn a_messy_rulebook_round_trips() {
    let out = assert_canonical_round_trip("messy", MESSY);
    insta::assert_snapshot!("messy", out);
}

/// A comment may sit between any two tokens: wherever it goes, it survives
/// in order, the rules do not change and the output is a fixed point.
#[test]
fn a_comment_between_any_two_tokens_survives() {
    for (name, src) in [
        ("messy", MESSY.to_string()),
        ("credit", read(&repo("rules/credit.rules"))),
        ("csi", read(&repo("rules/csi.rules"))),
        ("credit-2027", read(&repo("rules/credit-2027.rules"))),
        ("revision forms", read(&repo("tests/cases/ok/revision_forms.rules"))),
    ] {
        let book = parse(&src).unwrap_or_else(|d| panic!("{name}: {}", d.message));
        let gaps = token_gaps(&src);
        assert!(gaps.len() > 100, "{name}: only {} gaps", gaps.len());
        for at in gaps {
            let probe = format!("{} # probe {at}\n{}", &src[..at], &src[at..]);
            let once = format(&probe).unwrap_or_else(|d| panic!("{name}: probe at {at}: {}", d.message));
            assert_eq!(fmt(&once), once, "{name}: probe at {at}: not idempotent");
            assert!(
                parse(&once).is_ok_and(|b| b == book),
                "{name}: probe at {at}: rules changed"
            );
            assert_eq!(comments(&probe), comments(&once), "{name}: probe at {at}: comments");
        }
    }
}

/// Offsets just past each token that a space follows, outside strings and
/// comments: one per gap, however wide.
fn token_gaps(src: &str) -> Vec<usize> {
    let mut gaps = Vec::new();
    let (mut in_string, mut in_comment, mut escaped, mut prev) = (false, false, false, '\n');
    for (i, c) in src.char_indices() {
        match c {
            _ if in_comment => in_comment = c != '\n',
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => in_comment = true,
            ' ' | '\n' if !in_string && !prev.is_whitespace() => gaps.push(i),
            _ => {}
        }
        prev = c;
    }
    gaps
}

#[test]
fn expressions_keep_their_meaning_and_read_plainly() {
    let cases = [
        ("a == 1 or b == 2 and c == 3", "a == 1 or (b == 2 and c == 3)"),
        ("(a == 1 or b == 2) and c == 3", "(a == 1 or b == 2) and c == 3"),
        ("not a >= 3", "not (a >= 3)"),
        ("not (a) and b", "not a and b"),
        ("not (a and b)", "not (a and b)"),
        ("(a < 1) == false", "(a < 1) == false"),
        ("a == (b == c)", "a == (b == c)"),
        ("((x in {1,2}))", "x in {1, 2}"),
        ("a or (b or c)", "a or (b or c)"),
        ("(a or b) or c", "a or b or c"),
    ];
    for (written, canonical) in cases {
        let src = format!("standard \"s\" period 12 months\ngrade D when {written}\n");
        let want = format!("standard \"s\"\nperiod 12 months\n\ngrade D when {canonical}\n");
        assert_eq!(assert_canonical_round_trip(written, &src), want);
    }
}

#[test]
fn blank_lines_are_kept_once_and_never_open_or_close_a_block() {
    let src = "standard \"s\" period 12 months\n\n\n\nevent a\n\n\n# about b\nevent b\nevent c\n\
               rules r {\n\n  P1 deduct 1 per a\n\n\n  P2 deduct 1 per b\n\n}\n";
    let want = "standard \"s\"\nperiod 12 months\n\nevent a\n\n# about b\nevent b\nevent c\n\n\
                rules r {\n  P1 deduct 1 per a\n\n  P2 deduct 1 per b\n}\n";
    assert_eq!(assert_canonical_round_trip("blank lines", src), want);
}

#[test]
fn crlf_sources_come_out_with_plain_newlines() {
    let src = "standard \"s\"\r\nperiod 12 months # why\r\n\r\nevent a { n: int }\r\n";
    let want = "standard \"s\"\nperiod 12 months  # why\n\nevent a { n: int }\n";
    assert_eq!(assert_canonical_round_trip("crlf", src), want);
}

#[test]
fn runs_of_one_line_declarations_align_in_terminal_columns() {
    let src = "standard \"s\" period 12 months # why\ntotal 100 # full marks\n\
               event arrears \"拖欠电费\" { months: int }\nevent wrong_account \"错误帐号\"\nevent tip { verified: bool }\n\
               rules r {\n  P1-P3 \"拖欠\" deduct 10 per arrears\n  P4 bonus 1 per tip\n  \"无编号\" deduct 5 per tip\n}\n\
               class c default {\n  dimension payment \"商业资信\" max 90 uses r\n  dimension legal max 10 uses r\n}\n";
    let want = "standard \"s\"\nperiod 12 months  # why\ntotal 100         # full marks\n\n\
                event arrears       \"拖欠电费\" { months: int }\n\
                event wrong_account \"错误帐号\"\n\
                event tip                      { verified: bool }\n\n\
                rules r {\n\
                \x20 P1-P3 \"拖欠\"   deduct 10 per arrears\n\
                \x20 P4             bonus 1 per tip\n\
                \x20       \"无编号\" deduct 5 per tip\n}\n\n\
                class c default {\n\
                \x20 dimension payment \"商业资信\" max 90 uses r\n\
                \x20 dimension legal              max 10 uses r\n}\n";
    assert_eq!(assert_canonical_round_trip("aligned", src), want);
}

#[test]
fn blank_lines_comment_lines_blocks_and_other_kinds_end_a_run() {
    let src = "standard \"s\" period 12 months\n\
               rules r {\n  P1 \"一\" deduct 1 per a\n\n  P22 deduct 1 per a\n  # why\n  P3 \"三三\" deduct 1 per a\n\
               P4 deduct by count of a { 1 => 1 # one\n 2+ => 2 }\n  P5 \"五五五\" deduct 1 per a\n  P6 deduct 1 per a\n}\n\
               class c default {\n  dimension a \"甲\" max 50 uses r\n  T3 grade C when a == 0\n  dimension bbb max 50 uses r\n}\n";
    let want = "standard \"s\"\nperiod 12 months\n\n\
                rules r {\n  P1 \"一\" deduct 1 per a\n\n  P22 deduct 1 per a\n  # why\n  P3 \"三三\" deduct 1 per a\n\
                \x20 P4 deduct by count of a {\n    1 => 1  # one\n    2+ => 2\n  }\n\
                \x20 P5 \"五五五\" deduct 1 per a\n  P6          deduct 1 per a\n}\n\n\
                class c default {\n  dimension a \"甲\" max 50 uses r\n  T3 grade C when a == 0\n  dimension bbb max 50 uses r\n}\n";
    assert_eq!(assert_canonical_round_trip("runs", src), want);
}

/// A comment inside a declaration moves above it, so it starts a new run,
/// and the output is a fixed point.
#[test]
fn a_comment_inside_a_declaration_starts_a_new_run() {
    let src = "standard \"s\" period 12 months\nrules r {\n  P1 \"一一一\" deduct 1 per a\n  P2 # why\n \"二\" deduct 1 per a\n  P33 deduct 1 per a\n}\n";
    let want = "standard \"s\"\nperiod 12 months\n\nrules r {\n  P1 \"一一一\" deduct 1 per a\n  # why\n\
                \x20 P2  \"二\" deduct 1 per a\n  P33      deduct 1 per a\n}\n";
    assert_eq!(assert_canonical_round_trip("inner comment", src), want);
}

/// A wrapped rule continues under its run's body column, a severity keeping
/// its tiers on its line; where the continuation does not fit under the body
/// column, it is indented four.
#[test]
fn wrapped_rules_continue_under_the_body_column_when_they_fit() {
    let src = "standard \"s\" period 12 months\nrules r {\n\
               P1-P3 \"拖欠电费\" deduct per episode of arrears severity max(length, months) { 1 => 10, 2 => 20, 3+ => 30 }\n\
               P4 \"次月及时补齐所欠电费\" bonus 10 if no safety_accident, cascade_trip, concealed_accident within 3 years\n\n\
               P5 \"很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长\" deduct 1 per a\n\
               P6 deduct 1 per arrears where months >= 1 and months <= 2 and months != 7 and months != 8\n}\n";
    let long = "很长".repeat(20);
    let want = format!(
        "standard \"s\"\nperiod 12 months\n\nrules r {{\n\
         \x20 P1-P3 \"拖欠电费\"             deduct per episode of arrears\n\
         \x20                              severity max(length, months) {{ 1 => 10, 2 => 20, 3+ => 30 }}\n\
         \x20 P4    \"次月及时补齐所欠电费\" bonus 10 if no safety_accident, cascade_trip, concealed_accident\n\
         \x20                              within 3 years\n\n\
         \x20 P5 \"{long}\" deduct 1 per a\n\
         \x20 P6 {}deduct 1 per arrears\n\
         \x20     where months >= 1 and months <= 2 and months != 7 and months != 8\n}}\n",
        " ".repeat(83)
    );
    assert_eq!(assert_canonical_round_trip("wrapped", src), want);
}

#[test]
fn the_published_standard_and_its_revision_are_in_canonical_layout() {
    for path in [
        "rules/credit.rules",
        "rules/csi.rules",
        "rules/credit-2027.rules",
        "examples/revised.rules",
        "examples/csi-revised.rules",
    ] {
        let src = read(&repo(path));
        assert!(fmt(&src) == src, "{path}: run `rulebook fmt {path}`");
    }
}

#[test]
fn a_rulebook_that_does_not_parse_is_an_error() {
    let err = format("standard \"s\" period 12 months\nevent {")
        .err()
        .map(|d| d.message);
    assert_eq!(err.as_deref(), Some("expected a name"));
}

// ── The command ─────────────────────────────────────────────────────────────

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fmt");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

fn rulebook(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run rulebook: {e}"));
    if let Some(mut input) = child.stdin.take() {
        std::io::Write::write_all(&mut input, stdin.as_bytes()).unwrap_or_else(|e| panic!("stdin: {e}"));
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("rulebook did not finish: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_passes_canonical_files_and_fails_the_rest_without_writing() {
    let tidy = scratch("check-tidy.rules", &fmt(MESSY));
    let messy = scratch("check-messy.rules", MESSY);
    let ok = rulebook(&["fmt", "--check", &tidy.display().to_string()], "");
    assert_eq!(ok.status.code(), Some(0), "stderr: {}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout), "");

    let out = rulebook(
        &[
            "fmt",
            "--check",
            &tidy.display().to_string(),
            &messy.display().to_string(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), format!("{}\n", messy.display()));
    assert_eq!(read(&messy), MESSY, "--check wrote the file");
}

#[test]
fn fmt_rewrites_in_place_then_check_passes() {
    let path = scratch("rewrite.rules", MESSY);
    let arg = path.display().to_string();
    let out = rulebook(&["fmt", &arg], "");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(read(&path), fmt(MESSY));
    assert_eq!(rulebook(&["fmt", "--check", &arg], "").status.code(), Some(0));
}

#[test]
fn a_file_that_does_not_parse_gets_its_diagnostic_and_exit_1() {
    let bad = scratch("bad.rules", "standard \"s\" period 12 months\nevent {\n");
    let arg = bad.display().to_string();
    for args in [vec!["fmt", &arg], vec!["fmt", "--check", &arg]] {
        let out = rulebook(&args, "");
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("expected a name") && stderr.contains("bad.rules"),
            "stderr: {stderr}"
        );
    }
    assert_eq!(read(&bad), "standard \"s\" period 12 months\nevent {\n");
}

#[test]
fn dash_formats_stdin_to_stdout() {
    let out = rulebook(&["fmt", "-"], MESSY);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), fmt(MESSY));
    let check = rulebook(&["fmt", "--check", "-"], MESSY);
    assert_eq!(
        (check.status.code(), text(&check.stdout)),
        (Some(1), "<stdin>\n".to_string())
    );
}
