//! End to end: the files policy staff really bring (issue 8) — Excel exports,
//! typos, other encodings, outputs pointed at inputs. Each is read correctly
//! or refused with a clear error; none gives a quietly wrong score. One test
//! per item of the issue, named after it.

use std::path::Path;
use std::process::{Command, Stdio};

const RULES: &str = include_str!("../../rules/credit.rules");
const AS_OF: &str = "2026-06-30";

/// A fresh folder holding `credit.rules` and the given files.
fn folder(name: &str, files: &[(&str, &[u8])]) -> crate::scratch::Scratch {
    let dir = crate::scratch::folder("rulebook-messy", name);
    std::fs::write(dir.join("credit.rules"), RULES).expect("write credit.rules");
    for (file, bytes) in files {
        std::fs::write(dir.join(file), bytes).expect("write a file");
    }
    dir
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `rulebook <args>` in `dir`, with `stdin` when given.
fn rulebook(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rulebook runs");
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(bytes).expect("write stdin");
    }
    let out = child.wait_with_output().expect("rulebook finishes");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `rulebook score credit.rules --events <events> --format csv <more>` in `dir`.
fn score(dir: &Path, events: &str, more: &[&str]) -> Run {
    let mut args = vec![
        "score",
        "credit.rules",
        "--events",
        events,
        "--as-of",
        AS_OF,
        "--format",
        "csv",
    ];
    args.extend(more);
    rulebook(dir, &args, None)
}

/// The CSV row of one customer in a score's output.
fn row<'a>(run: &'a Run, customer: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|l| l.split(',').next() == Some(customer))
        .unwrap_or_else(|| panic!("no row for {customer} in\n{}\n{}", run.stdout, run.stderr))
}

/// The counts of the run summary: read, scored, after the as-of date, skipped, blank, rejected.
fn counts(stderr: &str) -> [u64; 6] {
    let line = stderr
        .lines()
        .find(|l| l.contains("rows read"))
        .unwrap_or_else(|| panic!("no summary in {stderr}"));
    // From the count of rows read on: "12 rows read: 10 scored, …".
    let line = line.get(line.find("; ").map_or(0, |i| i + 2)..).unwrap_or(line);
    let number_before = |word: &str| -> u64 {
        let at = line.find(word).unwrap_or_else(|| panic!("no `{word}` in {line}"));
        let head = line.get(..at).unwrap_or("").trim_end();
        let digits: String = head.chars().rev().take_while(char::is_ascii_digit).collect();
        digits
            .chars()
            .rev()
            .collect::<String>()
            .parse()
            .unwrap_or_else(|_| panic!("{line}"))
    };
    [
        number_before(" rows read"),
        number_before(" scored"),
        number_before(" dated after"),
        number_before(" skipped"),
        number_before(" blank"),
        number_before(" rejected"),
    ]
}

#[track_caller]
fn assert_rows_add_up(stderr: &str) {
    let [read, scored, after, skipped, blank, rejected] = counts(stderr);
    assert_eq!(read, scored + after + skipped + blank + rejected, "{stderr}");
}

#[track_caller]
fn assert_fails(run: &Run, code: i32, words: &[&str]) {
    assert_eq!(run.code, code, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    for w in words {
        assert!(run.stderr.contains(w), "`{w}` not in:\n{}", run.stderr);
    }
}

const LOG: &str = "customer,date,kind,months,persons\nC1,2026-01-10,arrears,1,\nC2,2026-02-01,theft,,\n";

#[test]
fn item_01_outputs_that_are_inputs_are_refused_before_reading() {
    let dir = folder(
        "item01",
        &[
            ("events.csv", LOG.as_bytes()),
            ("roster.csv", b"customer,class\nC1,power\n"),
        ],
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("events.csv"), dir.join("link.csv")).expect("a symbolic link");
    // The roster, spelled through the parent folder.
    let roster = format!(
        "../{}/roster.csv",
        dir.file_name().and_then(|n| n.to_str()).unwrap_or("")
    );
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "score",
            "credit.rules",
            "--events",
            "events.csv",
            "--output",
            "./events.csv",
        ],
        vec!["score", "credit.rules", "--events", "events.csv", "-o", "credit.rules"],
        vec![
            "score",
            "credit.rules",
            "--events",
            "events.csv",
            "--customers",
            "roster.csv",
            "-o",
            &roster,
        ],
        vec![
            "score",
            "credit.rules",
            "--events",
            "events.csv",
            "--keep-going",
            "--rejects",
            "credit.rules",
        ],
        vec![
            "score",
            "credit.rules",
            "--events",
            "events.csv",
            "--keep-going",
            "--rejects",
            "out.csv",
            "-o",
            "./out.csv",
        ],
        vec![
            "diff",
            "credit.rules",
            "credit.rules",
            "--events",
            "events.csv",
            "-o",
            "events.csv",
        ],
        vec![
            "explain",
            "credit.rules",
            "--events",
            "events.csv",
            "--customer",
            "C1",
            "--keep-going",
            "--rejects",
            "events.csv",
        ],
        #[cfg(unix)]
        vec!["score", "credit.rules", "--events", "events.csv", "-o", "link.csv"],
    ];
    for args in cases {
        let run = rulebook(&dir, &args, None);
        assert_fails(&run, 2, &["same file"]);
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("events.csv")).ok().as_deref(),
        Some(LOG)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("credit.rules")).ok().as_deref(),
        Some(RULES)
    );
    assert!(!dir.join("out.csv").exists());
}

#[test]
fn item_01_a_failed_run_leaves_the_old_output_whole() {
    // A bad date ends the run before any output; points too large to hold end
    // it while the results are being written.
    let bad = "customer,date,kind\nC1,2026-13-01,theft\n";
    let late =
        "customer,date,kind,persons\nC1,2026-02-01,theft,\nC7,2026-02-01,unqualified_electrician,9000000000000\n";
    let dir = folder(
        "item01b",
        &[
            ("bad.csv", bad.as_bytes()),
            ("late.csv", late.as_bytes()),
            ("out.csv", b"yesterday's results\n"),
        ],
    );
    assert_fails(&score(&dir, "bad.csv", &["-o", "out.csv"]), 1, &["2026-13-01"]);
    assert_fails(&score(&dir, "late.csv", &["-o", "out.csv"]), 1, &["customer `C7`"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("out.csv")).ok().as_deref(),
        Some("yesterday's results\n")
    );
    let good = folder("item01c", &[("events.csv", LOG.as_bytes()), ("out.csv", b"old\n")]);
    let run = score(&good, "events.csv", &["-o", "out.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = std::fs::read_to_string(good.join("out.csv")).unwrap_or_default();
    assert!(out.starts_with("customer,class,total,grade"), "{out}");
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(&good)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn item_02_cr_only_line_ends_are_read() {
    let mac = LOG.replace('\n', "\r");
    let dir = folder("item02", &[("mac.csv", mac.as_bytes()), ("unix.csv", LOG.as_bytes())]);
    let (mac, unix) = (score(&dir, "mac.csv", &[]), score(&dir, "unix.csv", &[]));
    assert_eq!(mac.code, 0, "{}", mac.stderr);
    assert_eq!(mac.stdout, unix.stdout);
    assert_eq!(counts(&mac.stderr), counts(&unix.stderr));
    assert_eq!(counts(&mac.stderr)[0], 2, "{}", mac.stderr);
}

#[test]
fn item_03_a_big_file_parses_like_a_small_one() {
    // A stray quote inside an unquoted field, then a quoted cell over two
    // lines, then enough rows that the file is cut into several blocks.
    let mut log = String::from("customer,date,kind,months,note\n");
    log.push_str("C0,2026-01-10,arrears,1,5\" wide\n");
    log.push_str("C1,2026-01-10,arrears,1,\"two\nC9,2026-01-10,theft,,lines\"\n");
    let filler = "C2,2026-01-10,arrears,1,filler\n";
    let mut rows = 2;
    while log.len() < (5 << 20) {
        log.push_str(filler);
        rows += 1;
    }
    let dir = folder("item03", &[("big.csv", log.as_bytes())]);
    let run = score(&dir, "big.csv", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // C9 is inside C1's note: it is no customer.
    assert!(!run.stdout.lines().any(|l| l.starts_with("C9,")), "{}", run.stdout);
    let [read, scored, ..] = counts(&run.stderr);
    assert_eq!((read, scored), (rows as u64, rows as u64), "{}", run.stderr);
}

#[test]
fn item_04_near_miss_and_duplicate_columns_are_errors() {
    let with_header = |h: &str| format!("{h}\nC1,2026-02-01,unqualified_electrician,5\n");
    let files = [
        ("case.csv", with_header("customer,date,kind,Persons")),
        ("space.csv", with_header("customer,date,kind,persons ")),
        ("typo.csv", with_header("customer,date,kind,persns")),
        (
            "twice.csv",
            "customer,date,kind,months,months\nC1,2026-01-10,arrears,1,3\n".to_string(),
        ),
        ("kind.csv", with_header("customer,date,Kind,persons")),
    ];
    let owned: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, t)| (*n, t.clone().into_bytes())).collect();
    let refs: Vec<(&str, &[u8])> = owned.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let dir = folder("item04", &refs);
    assert_fails(
        &score(&dir, "case.csv", &[]),
        1,
        &["case.csv:1:", "`Persons`", "did you mean `persons`?"],
    );
    assert_fails(&score(&dir, "space.csv", &[]), 1, &["did you mean `persons`?"]);
    assert_fails(
        &score(&dir, "typo.csv", &[]),
        1,
        &["`persns`", "did you mean `persons`?"],
    );
    assert_fails(&score(&dir, "twice.csv", &[]), 1, &["`months` appears twice"]);
    assert_fails(&score(&dir, "kind.csv", &[]), 1, &["did you mean `kind`?"]);
}

#[test]
fn item_04_json_keys_and_roster_columns_likewise() {
    let dup = "{\"customer\":\"C1\",\"date\":\"2026-02-01\",\"kind\":\"unqualified_electrician\",\"persons\":1,\"persons\":5}\n";
    let near = "{\"customer\":\"C1\",\"date\":\"2026-02-01\",\"kind\":\"unqualified_electrician\",\"Persons\":5}\n";
    let dir = folder(
        "item04j",
        &[
            ("dup.jsonl", dup.as_bytes()),
            ("near.jsonl", near.as_bytes()),
            ("events.csv", LOG.as_bytes()),
            ("since.csv", b"customer,class,Since\nC1,power,2026-01-01\n"),
            ("twice.csv", b"customer,class,class\nC1,power,lighting\n"),
            (
                "extra.csv",
                b"customer,class,since,branch,region\nC1,power,2020-01-01,North,N1\n",
            ),
        ],
    );
    let jsonl = |f: &str| score(&dir, f, &[]);
    assert_fails(&jsonl("dup.jsonl"), 1, &["dup.jsonl:1:", "`persons` appears twice"]);
    assert_fails(&jsonl("near.jsonl"), 1, &["near.jsonl:1:", "did you mean `persons`?"]);
    let roster = |f: &str| score(&dir, "events.csv", &["--customers", f]);
    assert_fails(&roster("since.csv"), 1, &["since.csv:1:", "did you mean `since`?"]);
    assert_fails(&roster("twice.csv"), 1, &["`class` appears twice"]);
    // Other roster columns are kept for the reports, not refused.
    let run = roster("extra.csv");
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn item_04_other_unknown_columns_are_named_once_in_the_summary() {
    let log = "customer,date,kind,remark,branch\nC1,2026-01-10,theft,x,N\nC1,2026-02-10,theft,y,N\n";
    let dir = folder("item04u", &[("events.csv", log.as_bytes())]);
    let run = score(&dir, "events.csv", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr.matches("`remark`").count(), 1, "{}", run.stderr);
    assert_eq!(run.stderr.matches("`branch`").count(), 1, "{}", run.stderr);
}

#[test]
fn item_05_near_miss_kind_is_an_error() {
    let log = "customer,date,kind,months\nC1,2026-01-10,Theft,\nC2,2026-01-10,arrear,1\n";
    let dir = folder("item05", &[("events.csv", log.as_bytes())]);
    assert_fails(
        &score(&dir, "events.csv", &[]),
        1,
        &["events.csv:2:", "kind `Theft` is not declared; did you mean `theft`?"],
    );
    let run = score(&dir, "events.csv", &["--keep-going", "--rejects", "rejects.csv"]);
    let rejects = std::fs::read_to_string(dir.join("rejects.csv")).unwrap_or_default();
    assert!(rejects.contains("did you mean `arrears`?"), "{rejects}");
    assert_eq!(counts(&run.stderr)[5], 2, "{}", run.stderr);
    assert_fails(&score(&dir, "events.csv", &["--strict"]), 1, &["did you mean `theft`?"]);
    // A kind unrelated to any declared one is skipped and counted, as before.
    let other = folder(
        "item05b",
        &[("events.csv", b"customer,date,kind\nC1,2026-01-10,meter_reading\n")],
    );
    let run = score(&other, "events.csv", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("meter_reading 1"), "{}", run.stderr);
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
    for u in text.encode_utf16() {
        out.extend(if big_endian { u.to_be_bytes() } else { u.to_le_bytes() });
    }
    out
}

/// GBK bytes of a few Chinese customer ids (`客户` is B F E D A7 in GBK).
fn gbk_log() -> Vec<u8> {
    let mut out = b"customer,date,kind,months\n".to_vec();
    out.extend([0xBF, 0xCD, 0xBB, 0xA7]);
    out.extend(b"1,2026-01-10,arrears,1\n");
    out
}

#[test]
fn item_06_other_encodings_are_read_or_named() {
    let text = "customer,date,kind,months\n客户1,2026-01-10,arrears,1\n";
    let roster = "customer,class,since\n客户1,power,2020-01-01\n";
    let mut gbk_roster = b"customer,class,since\n".to_vec();
    gbk_roster.extend([0xBF, 0xCD, 0xBB, 0xA7]);
    gbk_roster.extend(b"1,power,2020-01-01\n");
    let dir = folder(
        "item06",
        &[
            ("utf8.csv", text.as_bytes()),
            ("le.csv", &utf16(text, false)),
            ("be.csv", &utf16(text, true)),
            ("gbk.csv", &gbk_log()),
            ("roster.csv", roster.as_bytes()),
            ("roster16.csv", &utf16(roster, false)),
            ("gbk_roster.csv", &gbk_roster),
        ],
    );
    let want = score(&dir, "utf8.csv", &["--customers", "roster.csv"]);
    assert_eq!(want.code, 0, "{}", want.stderr);
    assert!(want.stdout.contains("客户1,power"), "{}", want.stdout);
    for (events, roster, more) in [
        ("le.csv", "roster16.csv", vec![]),
        ("be.csv", "roster.csv", vec![]),
        ("gbk.csv", "gbk_roster.csv", vec!["--encoding", "gbk"]),
        ("gbk.csv", "gbk_roster.csv", vec!["--encoding", "gb18030"]),
    ] {
        let mut args = vec!["--customers", roster];
        args.extend(more);
        let run = score(&dir, events, &args);
        assert_eq!((run.code, &run.stdout), (0, &want.stdout), "{events}: {}", run.stderr);
    }
    // Excel's "Unicode text": UTF-16 with tabs between the fields, saved as .txt.
    std::fs::write(dir.join("unicode.txt"), utf16(&text.replace(',', "\t"), false)).expect("write");
    let run = score(&dir, "unicode.txt", &["--customers", "roster.csv"]);
    assert_eq!(
        (run.code, &run.stdout),
        (0, &want.stdout),
        "unicode.txt: {}",
        run.stderr
    );
    assert_fails(
        &score(&dir, "gbk.csv", &[]),
        1,
        &[
            "gbk.csv:2:",
            "customer",
            "is not valid UTF-8",
            "this looks like GBK/GB18030; use --encoding gbk",
        ],
    );
    assert_fails(
        &score(&dir, "utf8.csv", &["--customers", "gbk_roster.csv"]),
        1,
        &["gbk_roster.csv:2:", "customer", "use --encoding gbk"],
    );
    // A rulebook saved as GBK: its line, and the same hint.
    let mut rules = b"# ".to_vec();
    rules.extend([0xBF, 0xCD, 0xBB, 0xA7]);
    rules.extend(b"\n");
    std::fs::write(
        dir.join("gbk.rules"),
        [b"standard \"t\" period 12 months\n".as_slice(), &rules].concat(),
    )
    .expect("write gbk.rules");
    assert_fails(
        &rulebook(&dir, &["check", "gbk.rules"], None),
        1,
        &["gbk.rules:2:", "is not valid UTF-8", "GBK/GB18030"],
    );
}

#[test]
fn item_07_excel_date_spellings_are_accepted() {
    let plain = "customer,date,kind,months\nC1,2026-03-05,arrears,1\n";
    let dir = folder("item07", &[("plain.csv", plain.as_bytes())]);
    let want = score(&dir, "plain.csv", &[]);
    for (i, spelling) in [
        "2026/3/5",
        "2026-3-5",
        "2026/03/05",
        "2026-03-05 10:00:00",
        "2026-03-05T10:00:00Z",
    ]
    .iter()
    .enumerate()
    {
        let name = format!("d{i}.csv");
        std::fs::write(dir.join(&name), plain.replace("2026-03-05", spelling)).expect("write");
        let run = score(&dir, &name, &[]);
        assert_eq!((run.code, &run.stdout), (0, &want.stdout), "{spelling}: {}", run.stderr);
    }
    std::fs::write(dir.join("us.csv"), plain.replace("2026-03-05", "3/5/2026")).expect("write");
    assert_fails(
        &score(&dir, "us.csv", &[]),
        1,
        &[
            "us.csv:2:",
            "\"3/5/2026\" is not a valid date",
            "2026/3/5",
            "2026-03-05T10:00:00Z",
        ],
    );
    // The roster's `since` too.
    std::fs::write(dir.join("roster.csv"), "customer,class,since\nC1,power,2020/1/1\n").expect("write");
    assert_eq!(score(&dir, "plain.csv", &["--customers", "roster.csv"]).code, 0);
}

#[test]
fn item_07_excel_booleans_and_times() {
    let log = "customer,date,kind,months,verified\nC1,2026-01-10,arrears,1,\nC2,2026-01-10,arrears,1,\nC1,2026/3/5 0:00,defaulter_tip,,TRUE\nC2,2026/3/5 9:30,defaulter_tip,,FALSE\n";
    let dir = folder("item07b", &[("events.csv", log.as_bytes())]);
    let run = score(&dir, "events.csv", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_ne!(
        row(&run, "C1"),
        row(&run, "C2").replace("C2", "C1"),
        "TRUE is a verified tip, FALSE is not"
    );
}

#[test]
fn item_08_blank_rows_are_counted_not_errors() {
    let log = format!("{LOG},,,,\n,,,,\r\n , ,,,\n");
    let dir = folder("item08", &[("events.csv", log.as_bytes())]);
    let run = score(&dir, "events.csv", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(counts(&run.stderr), [5, 2, 0, 0, 3, 0], "{}", run.stderr);
    // Likewise at the end of a roster.
    std::fs::write(dir.join("roster.csv"), "customer,class,since\nC1,lighting,\n,,\n,,\n").expect("write");
    let run = score(&dir, "events.csv", &["--customers", "roster.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(row(&run, "C1").starts_with("C1,lighting"), "{}", run.stdout);
}

#[test]
fn item_09_negative_multiplier_is_refused() {
    let rules = RULES.replace("persons: int >= 1 = 1", "persons: int = 1");
    assert_ne!(rules, RULES, "credit.rules declares `persons: int >= 1 = 1`");
    let dir = folder("item09", &[("neg.rules", rules.as_bytes())]);
    assert_fails(
        &rulebook(&dir, &["check", "neg.rules"], None),
        1,
        &["multiplier `persons` may be negative", "persons: int >= 0"],
    );
}

#[test]
fn item_10_overflow_is_an_error_naming_customer_and_rule() {
    let rules = RULES;
    let log = "customer,date,kind,persons\nC7,2026-02-01,unqualified_electrician,9000000000000\nC8,2026-02-01,unqualified_electrician,2\n";
    let dir = folder(
        "item10",
        &[("big.rules", rules.as_bytes()), ("events.csv", log.as_bytes())],
    );
    let run = rulebook(
        &dir,
        &["score", "big.rules", "--events", "events.csv", "--as-of", AS_OF],
        None,
    );
    assert_fails(&run, 1, &["customer `C7`", "rule S6", "`safety`"]);
    let run = rulebook(
        &dir,
        &[
            "explain",
            "big.rules",
            "--events",
            "events.csv",
            "--as-of",
            AS_OF,
            "--customer",
            "C7",
        ],
        None,
    );
    assert_fails(&run, 1, &["customer `C7`", "rule S6"]);
    let run = rulebook(
        &dir,
        &[
            "diff",
            "big.rules",
            "credit.rules",
            "--events",
            "events.csv",
            "--as-of",
            AS_OF,
        ],
        None,
    );
    assert_fails(&run, 1, &["customer `C7`", "rule S6"]);
    // Points no sum could hold are refused by the checker.
    let huge = RULES.replace("deduct 5 x persons", "deduct 5000000000 x persons");
    std::fs::write(dir.join("huge.rules"), huge).expect("write");
    assert_fails(
        &rulebook(&dir, &["check", "huge.rules"], None),
        1,
        &["`5000000000` is too large"],
    );
}

#[test]
fn item_11_rejects_hold_the_record_as_written() {
    let mut log = b"customer,date,kind,months\n\"A,B\",2026-13-01,theft,\nC1,2026-01-10,arrears,1\n".to_vec();
    log.extend([0xBF, 0xCD, 0xBB, 0xA7]);
    log.extend(b",2026-02-30,theft,\n");
    let dir = folder("item11", &[("events.csv", &log)]);
    let run = score(
        &dir,
        "events.csv",
        &["--encoding", "gbk", "--keep-going", "--rejects", "rejects.csv"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut rdr = csv::Reader::from_path(dir.join("rejects.csv")).expect("rejects.csv");
    let rows: Vec<String> = rdr
        .records()
        .map(|r| r.expect("a record").get(3).unwrap_or("").to_string())
        .collect();
    assert_eq!(rows, ["\"A,B\",2026-13-01,theft,", "客户,2026-02-30,theft,"]);
    // Fixed, the rejects can be scored again.
    let fixed = format!(
        "customer,date,kind,months\n{}\n",
        rows.join("\n").replace("-13-", "-12-").replace("02-30", "02-28")
    );
    std::fs::write(dir.join("fixed.csv"), fixed).expect("write");
    let run = score(&dir, "fixed.csv", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(row(&run, "\"A").contains("B\""), "{}", run.stdout);
}

/// Of two problems in a log, the first in the file is named, however many
/// cores read it, wherever its blocks fall, and whether the load folds its
/// events (`score`), keeps them (`score --explain`) or streams a sorted log
/// (`--sorted`): a bad row before a byte that cannot be decoded, and a byte
/// that cannot be decoded before a bad row, 6 MiB apart (a later batch),
/// and a bad row with a byte that cannot be decoded in the next block, or
/// two lines after it (in the text decoded from the same bytes read).
#[test]
fn item_06_the_first_error_in_the_file_is_named() {
    let bad_row = b"C0,2026-13-01,theft,\n".as_slice();
    let bad_byte = b"C\xFF,2026-03-01,theft,\n".as_slice();
    // The first problem, the second, and about where the second is.
    let (far, next, close) = ((6 << 20) + (1 << 19), (1 << 20) + (1 << 19), 100);
    let cases = [
        (bad_row, bad_byte, far),
        (bad_byte, bad_row, far),
        (bad_row, bad_byte, next),
        (bad_row, bad_byte, close),
    ];
    for (case, (first, then, at)) in cases.into_iter().enumerate() {
        let mut log = b"customer,date,kind,months\nC1,2026-03-01,theft,\n".to_vec();
        log.extend(first);
        let mut lines = 3;
        while log.len() < at {
            // Sorted by customer, for `--sorted`.
            log.extend(format!("D{lines:08},2026-03-01,theft,\n").as_bytes());
            lines += 1;
        }
        log.extend(then);
        while log.len() < at + (1 << 20) {
            log.extend(b"E1,2026-03-01,theft,\n");
        }
        let dir = folder(&format!("item06-{case}"), &[("events.csv", &log)]);
        let (named, not) = match case {
            0 | 2 | 3 => ("events.csv:3: date \"2026-13-01\"".to_string(), "gb18030".to_string()),
            _ => (
                "events.csv:3: is not valid gb18030".to_string(),
                "2026-13-01".to_string(),
            ),
        };
        for threads in ["1", "2", "3"] {
            for how in [None, Some("--explain"), Some("--sorted")] {
                let mut args = vec![
                    "score",
                    "credit.rules",
                    "--events",
                    "events.csv",
                    "--as-of",
                    AS_OF,
                    "--encoding",
                    "gbk",
                    "--threads",
                    threads,
                    "--format",
                    "jsonl",
                ];
                args.extend(how);
                let run = rulebook(&dir, &args, None);
                assert_fails(&run, 1, &[&named]);
                assert!(!run.stderr.contains(&not), "{threads} threads, {how:?}: {}", run.stderr);
            }
        }
    }
}

/// Bytes not in the encoding of a log whose lines end with a lone CR (Excel
/// for Mac) are named on their own line, as its rows are.
#[test]
fn item_06_a_bad_byte_of_a_lone_cr_log_is_named_on_its_line() {
    let log = b"customer,date,kind,months\rC1,2026-03-01,theft,\rC2,2026-03-01,theft,\rC\xFF,2026-03-01,theft,\r";
    let dir = folder("item06-lone-cr", &[("events.csv", log)]);
    let run = score(&dir, "events.csv", &["--encoding", "gbk"]);
    assert_fails(&run, 1, &["events.csv:4: is not valid gb18030"]);
}

/// A roster, read whole before any event, names its first problem too: a
/// bad class before a byte that cannot be decoded, or that byte before it;
/// with lines that end with a lone CR; and a quoted id holding a line end,
/// with the byte in it (the record cut short is not read as a row without
/// its class).
#[test]
fn item_06_a_roster_names_its_first_error() {
    let rosters: [(&[u8], &str); 5] = [
        (
            b"customer,class\nC1,power\nC2,nosuch\nC3,power\nC\xFF,power\n",
            "customers.csv:3: class \"nosuch\"",
        ),
        (
            b"customer,class\nC1,power\nC\xFF,power\nC3,power\nC2,nosuch\n",
            "customers.csv:3: is not valid gb18030",
        ),
        (
            b"customer,class\nC1,power\n\"C2\nC\xFF\",power\n",
            "customers.csv:4: is not valid gb18030",
        ),
        (
            b"customer,class\rC1,nosuch\rC\xFF,power\r",
            "customers.csv:2: class \"nosuch\"",
        ),
        (
            b"customer,class\rC1,power\rC\xFF,power\r",
            "customers.csv:3: is not valid gb18030",
        ),
    ];
    for (roster, named) in rosters {
        let dir = folder(
            "item06-roster",
            &[("events.csv", LOG.as_bytes()), ("customers.csv", roster)],
        );
        let run = score(
            &dir,
            "events.csv",
            &["--customers", "customers.csv", "--encoding", "gbk"],
        );
        assert_fails(&run, 1, &[named]);
    }
}

#[test]
fn item_12_explain_with_table_or_csv_is_a_usage_error() {
    let dir = folder("item12a", &[("events.csv", LOG.as_bytes())]);
    for format in ["table", "csv"] {
        let run = rulebook(
            &dir,
            &[
                "score",
                "credit.rules",
                "--events",
                "events.csv",
                "--explain",
                "--format",
                format,
            ],
            None,
        );
        assert_fails(&run, 2, &["--explain"]);
    }
}

#[test]
fn item_12_customers_from_standard_input() {
    let dir = folder("item12b", &[("events.csv", LOG.as_bytes())]);
    let run = rulebook(
        &dir,
        &[
            "score",
            "credit.rules",
            "--events",
            "events.csv",
            "--customers",
            "-",
            "--as-of",
            AS_OF,
            "--format",
            "csv",
        ],
        Some(b"customer,class\nC1,lighting\n"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(row(&run, "C1").starts_with("C1,lighting"), "{}", run.stdout);
    let both = rulebook(
        &dir,
        &["score", "credit.rules", "--events", "-", "--customers", "-"],
        Some(b""),
    );
    assert_fails(&both, 1, &["standard input"]);
}

#[test]
fn item_12_unterminated_quote_says_where_it_starts() {
    let log = "customer,date,kind,months\nC1,2026-01-10,arrears,1\n\"C2,2026-01-10,arrears,1\nC3,2026-01-10,theft,\n";
    let dir = folder("item12c", &[("events.csv", log.as_bytes())]);
    assert_fails(
        &score(&dir, "events.csv", &[]),
        1,
        &["events.csv:3:", "unterminated quoted field starting at line 3"],
    );
}

#[test]
fn item_12_test_update_keeps_end_of_line_comments_and_hash_ends_a_word() {
    let tests = "rulebook credit.rules\nas of 2026-06-30\n\ncase theft\n  2026-01-10 theft\n  fires L1 S7  # both should\n  silent T2   # nothing here\n\ncase hash\n  2026-01-10 arrears months=1#one month\n  expect payment 20.5\n";
    let dir = folder("item12d", &[("credit.tests", tests.as_bytes())]);
    let run = rulebook(&dir, &["test", "credit.tests"], None);
    assert!(
        !run.stdout.contains("months=1#one") && !run.stderr.contains("#one"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let run = rulebook(&dir, &["test", "credit.tests", "--update"], None);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let updated = std::fs::read_to_string(dir.join("credit.tests")).unwrap_or_default();
    assert!(updated.contains("# both should"), "{updated}");
    assert!(updated.contains("# nothing here"), "{updated}");
    let run = rulebook(&dir, &["test", "credit.tests"], None);
    assert_eq!(run.code, 0, "{}{}\n{updated}", run.stdout, run.stderr);
}

#[test]
fn rows_read_add_up_on_every_input() {
    let log = format!(
        "customer,date,kind,months,note\n{}C3,2026-12-01,arrears,1,\nC4,2026-01-10,meter_reading,,\n,,,,\nC5,2026-13-01,theft,,\n",
        "C1,2026-01-10,arrears,1,\nC2,2026-02-01,theft,,\n"
    );
    let jsonl = "{\"customer\":\"C1\",\"date\":\"2026-01-10\",\"kind\":\"arrears\",\"months\":1}\n{\"customer\":\"C2\",\"date\":\"2027-01-10\",\"kind\":\"theft\"}\n{\"customer\":\"C3\",\"date\":\"2026-01-10\",\"kind\":\"complaint\"}\n{\"customer\":\"C4\",\"date\":\"x\",\"kind\":\"theft\"}\n";
    let dir = folder(
        "rows",
        &[
            ("events.csv", log.as_bytes()),
            ("mac.csv", log.replace('\n', "\r").as_bytes()),
            ("events.jsonl", jsonl.as_bytes()),
        ],
    );
    for f in ["events.csv", "mac.csv", "events.jsonl"] {
        let run = score(&dir, f, &["--keep-going", "--rejects", "rejects.csv"]);
        assert_eq!(run.code, 0, "{f}: {}", run.stderr);
        assert_rows_add_up(&run.stderr);
    }
    let run = score(&dir, "events.csv", &["--keep-going", "--rejects", "rejects.csv"]);
    assert_eq!(counts(&run.stderr), [6, 2, 1, 1, 1, 1], "{}", run.stderr);
}

#[test]
#[should_panic(expected = "an event's values are in the log's arena")]
fn item_13_a_broken_invariant_is_a_crash_not_a_default() {
    use rulebook::eval::Evaluator;
    use rulebook::input::{Customer, Event};
    let checked = rulebook::load(RULES).unwrap_or_else(|_| panic!("credit.rules checks"));
    let prog = &checked.program;
    let as_of = rulebook::date::Date::parse(AS_OF).expect("a date");
    let arrears = prog.schema.kind("arrears").expect("credit.rules declares arrears");
    let customer = Customer {
        id: "C1".into(),
        class: None,
        since: None,
    };
    // An event whose values are not in the arena: main read them as 0 and scored on.
    let event = Event {
        cust: 0,
        date: as_of,
        line: 2,
        kind: arrears,
        file: 0,
        vals: 7,
    };
    let _ = Evaluator::new(prog, as_of).evaluate(&customer, &[event], &[], false);
}

// ── Found by an independent check: quiet traps beyond the issue's list ──────

#[test]
fn the_same_events_file_twice_is_refused() {
    // Two arrears read twice would be four: R2 of the 2027 revision, or
    // extra P4 bonuses here. However the path is spelled, refuse before reading.
    let log = b"customer,date,kind,months\nE2,2026-01-10,arrears,1\nE2,2026-03-10,arrears,1\n";
    let dir = folder("twice", &[("e2.csv", log)]);
    let run = score(&dir, "e2.csv", &["--events", "./e2.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("are the same file"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn a_kind_written_as_its_label_is_an_error() {
    // `窃电` is the label of `theft`: skipping it would grade a thief AAA.
    let dir = folder(
        "label",
        &[("e.csv", "customer,date,kind\nX,2026-05-01,窃电\n".as_bytes())],
    );
    let run = score(&dir, "e.csv", &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("kind `窃电` is the label of the kind `theft`"),
        "{}",
        run.stderr
    );
}

/// What `score e.csv --customers r.csv` says on stderr in a folder of
/// these files; it must succeed.
fn scored_with_roster(name: &str, files: &[(&str, &[u8])]) -> String {
    let run = score(&folder(name, files), "e.csv", &["--customers", "r.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stderr
}

#[test]
fn roster_and_log_ids_that_differ_in_spaces_case_or_zeros_are_warned() {
    let said = scored_with_roster(
        "ids",
        &[
            (
                "e.csv",
                b"customer,date,kind,months\nX,2026-05-01,arrears,1\n123,2026-05-01,theft,\n",
            ),
            ("r.csv", b"customer,class,since\nX ,lighting,\n00123,power,\nY,power,\n"),
        ],
    );
    assert!(
        said.contains("roster customer `X ` and log customer `X` differ only"),
        "{said}"
    );
    assert!(
        said.contains("roster customer `00123` and log customer `123`"),
        "{said}"
    );
    assert!(!said.contains("`Y`"), "{said}");
    // One log customer the roster lacks, among many it lists.
    let roster: String = (0..5_000).map(|i| format!("C{i:05},power,\n")).collect();
    let said = scored_with_roster(
        "ids-one",
        &[
            ("e.csv", b"customer,date,kind,months\nc00042,2026-05-01,arrears,1\n"),
            ("r.csv", format!("customer,class,since\n{roster}").as_bytes()),
        ],
    );
    assert!(
        said.contains("roster customer `C00042` and log customer `c00042` differ only"),
        "{said}"
    );
}

/// `explain`'s targeted load keeps the other spellings of the customer
/// asked for, so the warning still speaks when it matters most: explaining
/// the roster's `X ` while the log's events are under `X` (issue 10).
#[test]
fn explain_of_a_split_id_is_warned_too() {
    let dir = folder(
        "ids-explain",
        &[
            (
                "e.csv",
                b"customer,date,kind,months\nX,2026-05-01,arrears,1\n123,2026-05-01,theft,\n",
            ),
            ("r.csv", b"customer,class,since\nX ,lighting,\n00123,power,\nY,power,\n"),
        ],
    );
    let args = ["explain", "credit.rules", "--events", "e.csv", "--customers", "r.csv"];
    let run = rulebook(
        &dir,
        &[&args[..], &["--as-of", AS_OF, "--customer", "X "]].concat(),
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("roster customer `X ` and log customer `X` differ only"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("`00123`"), "{}", run.stderr);
}

/// A roster with columns of its own is kept to carry them into the output;
/// one without is let go of while the events are read, its customers living
/// on in the log (issue 10). Either way every customer gets the same class,
/// `since` (Y's history starts inside the window, so P7 is withheld: 90, not
/// 95) and score, and the same two-spellings warnings are given.
#[test]
fn a_roster_carried_or_let_go_scores_and_warns_alike() {
    let dir = folder(
        "given",
        &[
            (
                "e.csv",
                b"customer,date,kind,months\nX,2026-05-01,arrears,1\n123,2026-05-01,theft,\nZ,2026-05-01,arrears,2\n",
            ),
            (
                "plain.csv",
                b"customer,class,since\nX ,lighting,2020-01-01\n00123,power,\nY,power,2026-06-01\nZ,lighting,0001-01-01\n",
            ),
            (
                "branch.csv",
                b"customer,class,since,branch\nX ,lighting,2020-01-01,east\n00123,power,,west\nY,power,2026-06-01,\nZ,lighting,0001-01-01,north\n",
            ),
        ],
    );
    let plain = score(&dir, "e.csv", &["--customers", "plain.csv"]);
    let carried = score(&dir, "e.csv", &["--customers", "branch.csv"]);
    let want = [
        ("00123", "00123,power,90,AAA,30,20,30,10,0,0"),
        ("123", "123,power,60,D,30,20,0,10,0,0"),
        ("X", "X,power,80.5,AA,20.5,20,30,10,0,0"),
        ("Y", "Y,power,90,AAA,30,20,30,10,0,0"),
        ("Z", "Z,lighting,80,AA,30,,50,,,"),
    ];
    for run in [&plain, &carried] {
        assert_eq!(run.code, 0, "{}", run.stderr);
        for (customer, line) in want {
            assert!(row(run, customer).starts_with(line), "{customer}: {}", run.stdout);
        }
        assert!(
            run.stdout.contains("\"X \",lighting,100,AAA,50,,50,,,"),
            "{}",
            run.stdout
        );
        for pair in ["`00123` and log customer `123`", "`X ` and log customer `X` differ"] {
            assert!(run.stderr.contains(pair), "{pair}: {}", run.stderr);
        }
        assert!(run.stderr.contains("6 customers scored"), "{}", run.stderr);
    }
    assert!(row(&carried, "Z").ends_with(",north"), "{}", carried.stdout);
}

/// `rulebook <args>` in `dir` reading `stdin`, which it may stop reading
/// early (at a bad row): the bytes it leaves are not an error of the test.
fn rulebook_reading(dir: &Path, args: &[&str], stdin: Vec<u8>) -> Run {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rulebook runs");
    let mut pipe = child.stdin.take().expect("a piped stdin");
    let feed = std::thread::spawn(move || {
        let _ = pipe.write_all(&stdin);
    });
    let out = child.wait_with_output().expect("rulebook finishes");
    let _ = feed.join();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A log file's records past its header are read from memory the file is
/// mapped into, a window of 8 MiB at a time, not copied in by `read`: the
/// same rows, lines and errors as the same bytes read from standard input
/// (which is read). Logs of ~10 MB, so that blocks are cut across a
/// window's end: CRLF with a byte-order mark and quoted notes holding
/// commas and line ends; a bad row past the first window (named, and kept
/// going past); JSON Lines; a quote left open at the end.
#[test]
fn a_mapped_log_reads_as_the_same_bytes_read_in() {
    let size = 10 << 20;
    let csv = |end: &str, bom: bool, row: &dyn Fn(usize) -> String| {
        let mut log = if bom { "\u{feff}".to_string() } else { String::new() };
        log += &format!("customer,date,kind,months,note{end}");
        let mut i = 0;
        while log.len() < size {
            log += &row(i);
            log += end;
            i += 1;
        }
        log
    };
    let plain = |i: usize| format!("C{:04},2026-0{}-1{},arrears,{},", i % 997, 1 + i % 6, i % 10, 1 + i % 4);
    let quoted = |i: usize| match i % 37 {
        0 => format!("C{:04},2026-02-03,theft,,\"a note, over\r\ntwo lines\"", i % 997),
        1 => format!("C{:04},2026-02-03,theft,,\"\"\"quoted\"\", then\nmore\"", i % 997),
        _ => plain(i),
    };
    let late_bad = |i: usize| match i {
        // Past the header's read and the first window.
        330_000 => "C0001,2026-02-30,theft,,".to_string(),
        _ => plain(i),
    };
    let open = format!(
        "{}C0001,2026-02-03,theft,,\"never closed\nC0002,2026-02-03,theft,,\n",
        csv("\n", false, &plain)
    );
    let mut jsonl = String::new();
    let mut i = 0;
    while jsonl.len() < size {
        jsonl += &format!(
            "{{\"customer\":\"C{:04}\",\"date\":\"2026-0{}-11\",\"kind\":\"arrears\",\"months\":{}}}\n",
            i % 997,
            1 + i % 6,
            1 + i % 4
        );
        i += 1;
    }
    let logs: [(&str, String, &str, &[&[&str]]); 4] = [
        ("quoted.csv", csv("\r\n", true, &quoted), "csv", &[&[]]),
        (
            "late-bad.csv",
            csv("\n", false, &late_bad),
            "csv",
            &[&[], &["--keep-going", "--rejects", "-"]],
        ),
        ("events.jsonl", jsonl, "jsonl", &[&[]]),
        ("open.csv", open, "csv", &[&[]]),
    ];
    for (name, text, format, extras) in logs {
        let dir = folder(&format!("mapped-{name}"), &[(name, text.as_bytes())]);
        for extra in extras {
            let with = |events: &str| {
                let mut args = vec![
                    "score",
                    "credit.rules",
                    "--events",
                    events,
                    "--events-format",
                    format,
                    "--as-of",
                    AS_OF,
                    "--format",
                    "jsonl",
                ];
                args.extend(extra.iter());
                args.iter().map(|a| a.to_string()).collect::<Vec<_>>()
            };
            let args = with(name);
            let mapped = rulebook(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>(), None);
            let args = with("-");
            let read = rulebook_reading(
                &dir,
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
                text.clone().into_bytes(),
            );
            assert_eq!(
                mapped.code, read.code,
                "{name} {extra:?}: {}\n{}",
                mapped.stderr, read.stderr
            );
            // Rows and messages name the file, or standard input.
            assert!(
                mapped.stdout == read.stdout.replace("<stdin>", name),
                "{name} {extra:?}: the outputs differ"
            );
            assert_eq!(mapped.stderr, read.stderr.replace("<stdin>", name), "{name} {extra:?}");
            let expect = match name {
                "late-bad.csv" if extra.is_empty() => "late-bad.csv:330002: date \"2026-02-30\"",
                "open.csv" => "unterminated quoted field",
                _ => "customers scored",
            };
            assert!(mapped.stderr.contains(expect), "{name} {extra:?}: {}", mapped.stderr);
        }
    }
}

/// A roster file gives the same customers, classes and errors as the same
/// bytes read from standard input (a file may be read another way: it was
/// mapped into memory in one version).
#[test]
fn a_roster_file_reads_as_the_same_bytes_on_standard_input() {
    let log = b"customer,date,kind,months\nR1,2026-03-01,theft,\nR9,2026-03-01,arrears,2\n".as_slice();
    let rosters: [&[u8]; 7] = [
        b"\xEF\xBB\xBFcustomer,class,since\r\nR1,power,2020-01-01\r\nR2,lighting,\r\n",
        b"customer,class,since\nR1,\"power\",\nR2,lighting,2019-05-01",
        b"customer,class,since\nR1,\"pow\ner\",\nR2,lighting,2019-05-01",
        b"customer,class,since\rR1,power,\rR2,lighting,\r",
        b"customer,class,since\nR1,power,\nR2,nuclear,\n",
        b"customer,class,since\nR1,power,\nR1,lighting,\n",
        b"customer;class;since\nR1;power;\n\nR3;lighting;2021-02-03\n",
    ];
    for (i, roster) in rosters.into_iter().enumerate() {
        let dir = folder(
            &format!("mapped-roster-{i}"),
            &[("events.csv", log), ("roster.csv", roster)],
        );
        let with = |customers: &'static str| {
            [
                "score",
                "credit.rules",
                "--events",
                "events.csv",
                "--customers",
                customers,
                "--as-of",
                AS_OF,
                "--format",
                "jsonl",
            ]
        };
        let mapped = rulebook(&dir, &with("roster.csv"), None);
        let read = rulebook(&dir, &with("-"), Some(roster));
        assert_eq!(mapped.code, read.code, "roster {i}: {}\n{}", mapped.stderr, read.stderr);
        assert_eq!(mapped.stdout, read.stdout, "roster {i}");
        assert_eq!(
            mapped.stderr,
            read.stderr.replace("<stdin>", "roster.csv"),
            "roster {i}"
        );
    }
}
