//! End to end: `rulebook report` writes one self-contained page — every
//! section there, nothing fetched, the gate verdict and exit code — and,
//! where Chromium is installed (CI installs it), the page as a browser
//! renders it (`--dump-dom`) and a screenshot.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const AFTER: &str = "tests/data/committee/customers-2027.csv";
const BEFORE: &str = "examples/customers-branches.csv";

fn temp(name: &str) -> PathBuf {
    let dir = crate::scratch::root().join(format!("rulebook-report-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir.join(name)
}

/// Runs `rulebook report` with `args` and `--output FILE`; (exit code, stderr, page).
fn report(args: &[&str], name: &str) -> (i32, String, String, PathBuf) {
    let path = temp(name);
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .current_dir(ROOT)
        .arg("report")
        .args(args)
        .args(["--events", "examples/events.csv", "--as-of", "2026-06-30", "--output"])
        .arg(&path)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run rulebook: {e}"));
    let page = std::fs::read_to_string(&path).unwrap_or_default();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        page,
        path,
    )
}

/// The page's headings and gate lines, tags stripped: its outline.
fn outline(page: &str) -> String {
    let mut out = Vec::new();
    for line in page.lines() {
        for tag in ["<h1>", "<h2>", "<h3>", "<div class=\"verdict"] {
            let mut rest = line;
            while let Some(at) = rest.find(tag) {
                let from = &rest[at..];
                let end = from
                    .find("</h")
                    .or_else(|| from.find("</div></div>"))
                    .unwrap_or(from.len());
                out.push(strip(&from[..end]));
                rest = &from[end.min(from.len())..];
                if end == 0 {
                    break;
                }
            }
        }
    }
    out.join("\n")
}

fn strip(html: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in html.chars() {
        match c {
            '<' => {
                inside = true;
                out.push(' ');
            }
            '>' => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Nothing on the page reaches the network or runs.
fn self_contained(page: &str) {
    assert!(!page.contains("<script"), "a script");
    assert!(!page.contains("<link"), "a linked resource");
    let without_svg_ns = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !without_svg_ns.contains("http://") && !without_svg_ns.contains("https://"),
        "a URL"
    );
    assert!(page.contains("@media print"), "no print style");
}

#[test]
fn a_revision_report_has_every_section() {
    let (code, stderr, page, _) = report(
        &[
            "rules/credit.rules",
            "examples/revised.rules",
            "--customers",
            AFTER,
            "--old-customers",
            BEFORE,
            "--by",
            "branch",
            "--fail-if-downgrades",
            "20",
        ],
        "revision.html",
    );
    assert_eq!(code, 0, "{stderr}");
    self_contained(&page);
    insta::assert_snapshot!(outline(&page));
    for id in [
        "grades",
        "groups",
        "dimensions",
        "migration",
        "by-group",
        "measures",
        "movers",
        "changes",
        "gate",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "no section {id}");
    }
    // The heat map: 4 AAA customers drop to AA (a downgrade, red).
    assert!(
        page.contains("<td style=\"background:rgba(198,40,40,"),
        "no downgrade cell"
    );
    // Each mover has its ledgers side by side, and the clause behind its move.
    assert!(page.contains("<details id=\"ledger-L006\"><summary>L006：50.5 C → 40.5 D</summary>"));
    assert!(page.contains("P1-P3 拖欠电费：-30 → -40"));
    // L004 moved class, and is compared.
    assert!(page.contains("照明户（lighting） → 动力户（power）"));
    assert!(page.contains("东城供电所"));
}

#[test]
fn a_failing_gate_is_on_the_page_and_in_the_exit_code() {
    let (code, stderr, page, _) = report(
        &[
            "rules/credit.rules",
            "rules/credit-2027.rules",
            "--customers",
            BEFORE,
            "--fail-if-into",
            "C",
        ],
        "gate.html",
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error: gate: 5 customers newly at grade C or worse, FAIL"),
        "{stderr}"
    );
    assert!(page.contains("上线闸门：不通过（FAIL）<div>新降至 C 级或更低 5 户，上限 0：不通过</div>"));
    // The 2027 revision's measures: who newly faces them.
    assert!(page.contains("新增面临措施的客户（15 户）"));
    assert!(page.contains("<td>预付电费；停电催费</td>"));
}

#[test]
fn one_rulebook_shows_its_scores() {
    let (code, stderr, page, _) = report(
        &["rules/credit.rules", "--customers", BEFORE, "--by", "branch"],
        "one.html",
    );
    assert_eq!(code, 0, "{stderr}");
    self_contained(&page);
    insta::assert_snapshot!(outline(&page));
    assert!(!page.contains("id=\"migration\""));
    // One chart of the grades, one per dimension.
    assert_eq!(page.matches("<svg class=\"chart\"").count(), 1 + 6);
}

#[test]
fn the_old_roster_needs_a_revision() {
    let (code, stderr, _, _) = report(&["rules/credit.rules", "--old-customers", BEFORE], "usage.html");
    assert_eq!(code, 2, "{stderr}");
}

/// The browser, when there is one: required on CI (`.ci/run` installs it).
fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs chromium (.ci/run installs it)"
        );
        eprintln!("chromium is not installed: the page is not checked in a browser");
    }
    found
}

fn headless(browser: &str, page: &Path, what: &[&str]) -> std::process::Output {
    Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,2400"])
        .args(what)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {browser}: {e}"))
}

#[test]
fn chromium_renders_the_page() {
    let Some(browser) = chromium() else { return };
    let (code, stderr, _, path) = report(
        &[
            "rules/credit.rules",
            "rules/credit-2027.rules",
            "--customers",
            BEFORE,
            "--by",
            "branch",
        ],
        "browser.html",
    );
    assert_eq!(code, 0, "{stderr}");
    let dom = headless(browser, &path, &["--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<h2>等级分布</h2>"),
        "the DOM lacks the grade distribution: {dom}"
    );
    assert!(dom.contains("<h2>等级迁移</h2>"));
    assert!(dom.contains("西城供电所"));
    assert!(dom.matches("<svg").count() >= 8, "charts missing from the DOM");
    let shot = path.with_extension("png");
    let run = headless(browser, &path, &[&format!("--screenshot={}", shot.display())]);
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "no screenshot: {}", String::from_utf8_lossy(&run.stderr));
}

#[test]
fn an_index_rulebook_gets_the_index_page() {
    // `report` of a rulebook holding only the satisfaction index: the index
    // per office with its interval, block scores and priority, the same
    // numbers `rulebook index` gives.
    let path = temp("csi.html");
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .current_dir(ROOT)
        .args(["report", "rules/csi.rules", "--events", "examples/survey.csv"])
        .args(["--customers", "examples/survey-customers.csv", "--by", "branch"])
        .args(["--as-of", "2026-06-30", "--output"])
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run rulebook: {e}"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let page = std::fs::read_to_string(&path).unwrap_or_default();
    self_contained(&page);
    let index = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .current_dir(ROOT)
        .args(["index", "rules/csi.rules", "--events", "examples/survey.csv"])
        .args(["--customers", "examples/survey-customers.csv", "--by", "branch"])
        .args(["--as-of", "2026-06-30", "--format", "jsonl"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run rulebook: {e}"));
    let overall: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&index.stdout)
            .lines()
            .next()
            .expect("an overall line"),
    )
    .expect("jsonl");
    let shown = |v: &serde_json::Value| format!("{:.2}", v.as_f64().expect("a number"));
    assert!(
        page.contains(&format!("<b>{}</b>", shown(&overall["index"]))),
        "the overall index"
    );
    assert!(page.contains(&format!(
        "{} – {}",
        shown(&overall["ci95"][0]),
        shown(&overall["ci95"][1])
    )));
    for heading in ["各组指数", "分组统计", "改进优先级", "指标与权重"] {
        assert!(page.contains(&format!("<h2>{heading}</h2>")), "{heading}");
    }
    assert!(page.contains("branch: 东城供电所"));
    assert!(page.contains("供电质量"));
}

#[test]
fn an_index_rulebook_cannot_be_a_revision_report() {
    let (code, stderr, _, _) = report(&["rules/csi.rules", "examples/csi-revised.rules"], "csi-rev.html");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("only an index"), "{stderr}");
}

/// Points too large to hold exactly stop the report before a page is drawn,
/// naming the first such customer by id (B1, though B2 comes first in the
/// file and a thousand customers score before either).
#[test]
fn a_customer_whose_points_overflow_stops_the_report_before_any_page() {
    let rules = temp("overflow.rules");
    std::fs::write(
        &rules,
        "standard \"t\" period 12 months\nevent late { amount: int >= 0 }\nrules money { M1 deduct 0.25 x amount per late }\nclass power default { dimension money max 100 uses money }\ngrades { A >= 50, D }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let big = |id: &str| format!("{id},2026-05-01,late,9000000000000\n").repeat(5);
    let fine: String = (0..1000).map(|i| format!("A{i:04},2026-05-01,late,3\n")).collect();
    let events = temp("overflow.csv");
    std::fs::write(
        &events,
        format!("customer,date,kind,amount\n{}{fine}{}", big("B2"), big("B1")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let page = temp("overflow.html");
    let _ = std::fs::remove_file(&page);
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .arg("report")
        .arg(&rules)
        .arg("--events")
        .arg(&events)
        .args(["--as-of", "2026-06-30", "--output"])
        .arg(&page)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run rulebook: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("customer `B1`"), "{stderr}");
    assert!(!page.exists(), "a page was written: {}", page.display());
}

/// A revision's page draws the new rulebook's groups and dimension spreads:
/// the same sections, to the byte, as the new rulebook's own page over the
/// same customers (the old rulebook's differ: customers move).
#[test]
fn a_revision_page_draws_the_new_rulebooks_distribution() {
    let (code, stderr, revision, _) = report(
        &["rules/credit.rules", "examples/revised.rules", "--customers", AFTER],
        "revision-grades.html",
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr, new, _) = report(&["examples/revised.rules", "--customers", AFTER], "new-alone.html");
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr, old, _) = report(&["rules/credit.rules", "--customers", AFTER], "old-alone.html");
    assert_eq!(code, 0, "{stderr}");
    let section = |page: &str, id: &str| -> String {
        let from = page
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no section {id}"));
        let rest = &page[from..];
        let end = rest.find("</section>").unwrap_or(rest.len());
        rest[..end].to_string()
    };
    for id in ["groups", "dimensions"] {
        assert_eq!(section(&revision, id), section(&new, id), "section {id}");
        assert_ne!(
            section(&old, id),
            section(&new, id),
            "the two rulebooks draw section {id} alike: the test shows nothing"
        );
    }
}
