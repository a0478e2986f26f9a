//! End to end: what `score` hands the people who act on scores — roster
//! columns carried into every format, the grade distribution by class and
//! by `--by` columns, CSV for Excel (`--bom`, `--headers`) and the Excel
//! workbook, read back from its zip.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// `rulebook score` on the example log as of 2026-06-30 with `roster` and more arguments.
fn score(roster: &str, more: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .current_dir(ROOT)
        .args([
            "score",
            "rules/credit.rules",
            "--events",
            "examples/events.csv",
            "--customers",
            roster,
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
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const BRANCHES: &str = "examples/customers-branches.csv";
const PLAIN: &str = "examples/customers.csv";

#[track_caller]
fn ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    run
}

fn head(text: &str, n: usize) -> String {
    text.lines().take(n).collect::<Vec<_>>().join("\n")
}

#[test]
fn jsonl_carries_the_roster_columns() {
    let out = ok(score(BRANCHES, &["--format", "jsonl"])).text();
    insta::assert_snapshot!(head(&out, 3), @r#"
    {"customer":"L001","class":"lighting","total":100,"grade":"AAA","dimensions":{"payment":50,"legal":50},"as_of":"2026-06-30","roster":{"branch":"东城供电所"}}
    {"customer":"L002","class":"lighting","total":90.5,"grade":"AAA","dimensions":{"payment":40.5,"legal":50},"as_of":"2026-06-30","roster":{"branch":"西城供电所"}}
    {"customer":"L003","class":"lighting","total":70,"grade":"A","dimensions":{"payment":50,"legal":20},"as_of":"2026-06-30","roster":{"branch":"城南供电所"}}
    "#);
    // A customer of the log the roster lacks gets empty values.
    let p032 = out.lines().find(|l| l.contains("\"P032\"")).unwrap_or_default();
    assert!(p032.ends_with(",\"roster\":{\"branch\":\"\"}}"), "{p032}");
    // Without roster columns of its own, no `roster` key.
    let plain = ok(score(PLAIN, &["--format", "jsonl"])).text();
    assert!(!plain.contains("\"roster\""));
}

#[test]
fn csv_appends_roster_columns_and_keeps_the_default_otherwise() {
    let out = ok(score(BRANCHES, &["--format", "csv"])).text();
    insta::assert_snapshot!(head(&out, 3), @r"
    customer,class,total,grade,payment,safety,legal,cooperation,operations,development,branch
    L001,lighting,100,AAA,50,,50,,,,东城供电所
    L002,lighting,90.5,AAA,40.5,,50,,,,西城供电所
    ");
    let plain = ok(score(PLAIN, &["--format", "csv"])).text();
    assert!(plain.starts_with("customer,class,total,grade,payment,safety,legal,cooperation,operations,development\n"));
}

#[test]
fn csv_for_excel_has_a_bom_and_chinese_headers() {
    let run = ok(score(BRANCHES, &["--format", "csv", "--bom", "--headers", "labels"]));
    assert!(run.stdout.starts_with(b"\xEF\xBB\xBF"), "no byte order mark");
    let text = run.text();
    let text = text.trim_start_matches('\u{feff}');
    insta::assert_snapshot!(head(text, 3), @r"
    客户,类别,总分,等级,商业资信,安全信用,法律信用,合作信用,经营行为、经营管理情况,发展能力和发展潜力,评价日期,标记,措施,branch
    L001,lighting,100,AAA,50,,50,,,,2026-06-30,,,东城供电所
    L002,lighting,90.5,AAA,40.5,,50,,,,2026-06-30,,,西城供电所
    ");
    // Flags tell "not assessed" apart from an assessed 0.
    let p030 = text.lines().find(|l| l.starts_with("P030,")).unwrap_or_default();
    assert_eq!(
        p030,
        "P030,power,90,AAA,30,20,30,10,0,0,2026-06-30,not assessed: operations; not assessed: development,,城南供电所"
    );
    let names = ok(score(PLAIN, &["--format", "csv", "--headers", "names"])).text();
    assert!(!names.starts_with('\u{feff}'));
    assert_eq!(
        names.lines().next(),
        Some("customer,class,total,grade,payment,safety,legal,cooperation,operations,development,as_of,flags,measures")
    );
}

#[test]
fn json_summary_has_the_grade_distribution_by_class_and_branch() {
    let out = ok(score(BRANCHES, &["--format", "json", "--by", "branch"])).text();
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e})"));
    let summary = doc.get("summary").cloned().unwrap_or_default();
    insta::assert_snapshot!(serde_json::to_string_pretty(&summary).unwrap_or_default());
    // The counts add up to the customers, per grouping.
    let customers = summary.get("customers").and_then(serde_json::Value::as_u64);
    for g in ["class", "branch"] {
        let sum: u64 = summary["by"][g]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x["customers"].as_u64()).sum())
            .unwrap_or(0);
        assert_eq!(Some(sum), customers, "{g}");
    }
}

#[test]
fn table_shows_the_distribution_by_branch() {
    let out = ok(score(BRANCHES, &["--by", "branch"])).text();
    let from = out.find("\nGrades by class").unwrap_or(out.len());
    insta::assert_snapshot!(out[from..].trim_start(), @r"
    Grades by class
      class     customers  AAA  AA  A  B  C  D
      lighting          9    2   1  1  2  1  2
      power            32    7   7  6  5  3  4
      total            41    9   8  7  7  4  6

    Grades by branch
      branch      customers  AAA  AA  A  B  C  D
      -                   2    1   .  1  .  .  .
      东城供电所         13    3   4  .  2  2  2
      城南供电所         13    2   1  5  2  1  2
      西城供电所         13    3   3  1  3  1  2
      total              41    9   8  7  7  4  6
    ");
    // Each customer's branch is a column of the table too.
    let l001 = out.lines().find(|l| l.starts_with("L001 ")).unwrap_or_default();
    assert!(l001.trim_end().ends_with("东城供电所"), "{l001}");
}

#[test]
fn by_a_column_the_roster_lacks_is_a_usage_error() {
    let run = score(BRANCHES, &["--by", "region"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--by `region`: no such roster column; the roster's columns are `branch`"),
        "{}",
        run.stderr
    );
    let run = score(PLAIN, &["--by", "branch"]);
    assert_eq!(run.code, 2);
    assert!(run
        .stderr
        .contains("the roster has no columns beyond customer, class and since"));
}

fn temp(name: &str) -> PathBuf {
    let dir = crate::scratch::root().join(format!("rulebook-score-outputs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir.join(name)
}

/// The text of one part of an xlsx file.
fn part(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> String {
    let mut f = zip
        .by_name(name)
        .unwrap_or_else(|e| panic!("no {name} in the workbook: {e}"));
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap_or_else(|e| panic!("{e}"));
    s
}

#[test]
fn xlsx_has_results_with_labels_numbers_and_a_distribution_with_charts() {
    let path = temp("scores.xlsx");
    let p = path.to_string_lossy().into_owned();
    ok(score(BRANCHES, &["--format", "xlsx", "--output", &p, "--by", "branch"]));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut zip = zip::ZipArchive::new(file).unwrap_or_else(|e| panic!("not a zip: {e}"));
    let book = part(&mut zip, "xl/workbook.xml");
    assert!(
        book.contains("name=\"评分结果\"") && book.contains("name=\"等级分布\""),
        "{book}"
    );
    let strings = part(&mut zip, "xl/sharedStrings.xml");
    for s in [
        "客户",
        "类别",
        "总分",
        "等级",
        "商业资信",
        "措施",
        "标记",
        "东城供电所",
        "P030",
        "客户数",
        "合计",
        "动力户（power）",
    ] {
        assert!(strings.contains(s), "{s} missing from the shared strings");
    }
    let results = part(&mut zip, "xl/worksheets/sheet1.xml");
    // Frozen header, filters over every row, widths set.
    assert!(results.contains("ySplit=\"1\""), "no frozen header");
    assert!(
        results.contains("<autoFilter ref=\"A1:N42\"/>"),
        "no autofilter over 41 customers"
    );
    assert!(results.contains("<cols>"));
    // L002's total 90.5 is a number, not text.
    assert!(results.contains("<c r=\"C3\"><v>90.5</v></c>"), "total not a number");
    let dist = part(&mut zip, "xl/worksheets/sheet2.xml");
    assert!(dist.contains("<drawing "), "no chart on the distribution sheet");
    let chart = part(&mut zip, "xl/charts/chart2.xml");
    assert!(chart.contains("<c:grouping val=\"stacked\"/>"));
    assert!(chart.contains("等级分布（按branch）"));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn xlsx_needs_an_output_file() {
    let run = score(PLAIN, &["--format", "xlsx"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--output FILE.xlsx"), "{}", run.stderr);
}

/// The jsonl line written byte by byte (`report::json_line`) is the one
/// serde_json makes of the pinned object, for every customer of a log with
/// measures on a grade, flags, roster columns (Chinese, empty, a customer
/// the roster does not list) and ids that JSON must escape.
#[test]
fn the_direct_jsonl_writer_writes_what_serde_json_writes() {
    use rulebook::date::Date;
    use rulebook::eval::Evaluator;
    use rulebook::input::{self, Format, LoadOptions, Roster, Source};
    use rulebook::report::{self, Scored};
    use std::io::Cursor;

    let rules = std::fs::read_to_string(PathBuf::from(ROOT).join("rules/credit.rules")).expect("the standard");
    // A grade with measures (quotes and a backslash in them), so `measures` is written too.
    let rules = rules.replace("  C   >= 50\n", "  C   >= 50 measures \"预付电费 \\\"先付\\\"\"\n");
    assert!(rules.contains("measures"), "the band was not found to add measures to");
    let checked = rulebook::load(&rules).expect("the standard with measures loads");
    let prog = &checked.program;
    let as_of = Date::parse("2026-06-30").expect("a date");
    let mut events = std::fs::read_to_string(PathBuf::from(ROOT).join("examples/events.csv")).expect("events");
    events.push_str("\"Q\"\"uote\\1\t\",2026-01-05,arrears,2,,,,,\nUNLISTED,2026-02-01,theft,,,,,,\n");
    events.push_str("C,2026-03-01,arrears,1,,,,,\n");
    let mut roster =
        std::fs::read_to_string(PathBuf::from(ROOT).join("examples/customers-branches.csv")).expect("roster");
    roster.push_str("\"Q\"\"uote\\1\t\",power,2015-01-01,\"a \"\"b\"\"\"\nC,lighting,,\n");
    let roster = Roster::read(Cursor::new(roster.into_bytes()), "customers.csv", &prog.class_names()).expect("roster");
    assert!(!roster.columns().is_empty());
    let source = Source {
        name: "events.csv".into(),
        format: Format::Csv,
        reader: Box::new(Cursor::new(events.into_bytes())),
        mapped: None,
    };
    let opts = LoadOptions {
        as_of,
        strict: false,
        keep_going: false,
    };
    let log = input::load(vec![source], &prog.schema, &roster, opts).expect("valid events");
    let eval = Evaluator::new(prog, as_of);
    let line = report::json_line::Line::new(prog, as_of);
    let other_day = report::json_line::Line::new(prog, Date::parse("2027-01-31").expect("a date"));
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..log.customers.len() {
        let outcome = eval
            .evaluate_in(&log, i, false)
            .expect("a customer")
            .expect("no overflow");
        let s = Scored {
            prog,
            log: &log,
            customer: i,
            outcome: &outcome,
            as_of,
        };
        let mut direct = Vec::new();
        line.write(&mut direct, &s, &roster);
        let direct = String::from_utf8(direct).expect("UTF-8");
        assert_eq!(
            direct,
            report::json_object_carrying(&s, false, &roster),
            "customer {}",
            s.id()
        );
        // Parts made for another as-of date write this one's all the same.
        let mut elsewhen = Vec::new();
        other_day.write(&mut elsewhen, &s, &roster);
        assert_eq!(String::from_utf8(elsewhen).expect("UTF-8"), direct);
        for part in [
            "\"measures\"",
            "\"flags\"",
            "\\\"",
            "\\t",
            "东城供电所",
            "\"branch\":\"\"",
        ] {
            if direct.contains(part) {
                seen.insert(part);
            }
        }
    }
    assert_eq!(seen.len(), 6, "not every case was written: {seen:?}");
}
