//! Docs are executable. In every `docs/*.md`:
//!
//! - a block fenced ```` ```rulebook ```` is a whole rulebook and must load with
//!   neither errors nor warnings;
//! - a block fenced ```` ```rulebook-fragment ```` holds rules only: it is put in
//!   a rule group of a minimal rulebook that declares the published standard's
//!   event kinds (`rules/credit.rules`), and must load without errors.

use rulebook::render::{render, Style};

const CREDIT: &str = include_str!("../../rules/credit.rules");

/// A fenced code block: the line of its opening fence, its tag, its text.
struct Block {
    line: usize,
    tag: String,
    text: String,
}

/// Every fenced block of a markdown file.
fn blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in md.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(tag)) => {
                open = Some(Block {
                    line: i + 1,
                    tag: tag.trim().to_string(),
                    text: String::new(),
                })
            }
            (Some(_), Some(_)) => out.extend(open.take()),
            (Some(b), None) => b.text.push_str(&format!("{line}\n")),
            (None, None) => {}
        }
    }
    out
}

/// A whole rulebook, preceded by blank lines so that diagnostics give the
/// line numbers of the markdown file, whose fence is at `fence`.
fn whole(fence: usize, text: &str) -> String {
    format!("{}{text}", "\n".repeat(fence))
}

/// Rules placed in a minimal rulebook: a header, one group holding the rules
/// (aligned with the markdown's lines), then the published standard's events,
/// one class using the group, and grades.
fn wrap(fence: usize, rules: &str) -> String {
    let book = rulebook::syntax::parse(CREDIT).expect("rules/credit.rules parses");
    let events: Vec<&str> = book.events.iter().map(|e| e.span.text(CREDIT).trim()).collect();
    format!(
        "standard \"示例\" period 12 months{}rules example \"示例\" {{\n{rules}}}\n{}\n\
         class sample \"示例\" {{ dimension example \"示例\" max 100 uses example }}\n\
         grades {{ A >= 60  D }}\n",
        "\n".repeat(fence.saturating_sub(1).max(1)),
        events.join("\n")
    )
}

#[test]
fn every_rulebook_block_in_docs_loads() {
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/docs");
    let (mut seen, mut failures) = (0, Vec::new());
    for entry in std::fs::read_dir(docs).expect("docs/ exists") {
        let path = entry.expect("docs/ is readable").path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let md = std::fs::read_to_string(&path).expect("a docs file is readable");
        for block in blocks(&md) {
            let (src, fragment) = match block.tag.as_str() {
                "rulebook" => (whole(block.line, &block.text), false),
                "rulebook-fragment" => (wrap(block.line, &block.text), true),
                _ => continue,
            };
            seen += 1;
            let name = format!("docs/{}", path.file_name().unwrap_or_default().to_string_lossy());
            let diags = match rulebook::load(&src) {
                Ok(checked) if fragment || checked.warnings.is_empty() => continue,
                Ok(checked) => checked.warnings,
                Err(diags) => diags,
            };
            failures.push(render(&diags, &name, &src, Style::PLAIN));
        }
    }
    assert!(seen > 0, "no ```rulebook blocks found in docs/");
    assert!(
        failures.is_empty(),
        "{} example(s) in docs/ do not load:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}
