//! The checker's corpus: every file under `cases/err/` renders its
//! diagnostics into a snapshot, every file under `cases/ok/` and the
//! published standard load without a single diagnostic, and no input —
//! random text or a mangled standard — makes `load` panic.

use std::path::Path;

use proptest::prelude::*;
use rulebook::diagnostic::Diagnostic;
use rulebook::render::{render, Style};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Every diagnostic of a source: the parse error, or the checker's findings.
fn diagnostics(src: &str) -> Vec<Diagnostic> {
    match rulebook::load(src) {
        Ok(checked) => checked.warnings,
        Err(diags) => diags,
    }
}

#[test]
fn err_cases() {
    insta::glob!("../cases", "err/*.rules", |path| {
        let src = read(path);
        let diags = diagnostics(&src);
        assert!(!diags.is_empty(), "{} should report something", path.display());
        insta::assert_snapshot!(render(&diags, &file_name(path), &src, Style::PLAIN));
    });
}

#[test]
fn ok_cases() {
    insta::glob!("../cases", "ok/*.rules", |path| {
        let src = read(path);
        let diags = diagnostics(&src);
        assert!(
            diags.is_empty(),
            "{}",
            render(&diags, &file_name(path), &src, Style::PLAIN)
        );
    });
}

#[test]
fn published_standard_and_the_2027_revision_are_clean() {
    for name in ["credit.rules", "credit-2027.rules"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules").join(name);
        let src = read(&path);
        let diags = diagnostics(&src);
        assert!(diags.is_empty(), "{}", render(&diags, name, &src, Style::PLAIN));
    }
}

#[test]
fn satisfaction_index_is_clean() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/csi.rules");
    let src = read(&path);
    let diags = diagnostics(&src);
    assert!(diags.is_empty(), "{}", render(&diags, "csi.rules", &src, Style::PLAIN));
}

#[test]
fn diagnostics_are_sorted_errors_first() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/err/many_errors.rules");
    let diags = diagnostics(&read(&path));
    let keys: Vec<_> = diags.iter().map(|d| (!d.is_error(), d.span().start)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(diags.iter().any(Diagnostic::is_error) && diags.iter().any(|d| !d.is_error()));
}

// ── Robustness: `load` never panics ─────────────────────────────────────────

const CREDIT: &str = include_str!("../../rules/credit.rules");
const CSI: &str = include_str!("../../rules/csi.rules");
const REVISION: &str = include_str!("../../rules/credit-2027.rules");

/// Characters worth inserting: the language's punctuation, digits, keyword
/// letters, and multibyte characters that break byte/char assumptions.
const PIECES: &[char] = &[
    '{', '}', '(', ')', ',', ':', '=', '>', '<', '+', '-', '.', '"', '\\', '#', '\n', ' ', '0', '1', '9', 'x', '×',
    'a', 'P', '中', '信', '\u{3000}', '\u{FEFF}', 'é', '😀',
];

#[derive(Clone, Debug)]
enum Edit {
    Delete(usize),
    Insert(usize, char),
    Replace(usize, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    let ch = prop_oneof![3 => proptest::sample::select(PIECES), 1 => any::<char>()];
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Edit::Insert(i, c)),
        (any::<usize>(), ch).prop_map(|(i, c)| Edit::Replace(i, c)),
    ]
}

/// Applies edits at character positions, so the text stays valid UTF-8.
fn mutate(src: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = src.chars().collect();
    for e in edits {
        let len = chars.len().max(1);
        match *e {
            Edit::Delete(i) if !chars.is_empty() => {
                chars.remove(i % len);
            }
            Edit::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
            Edit::Replace(i, c) if !chars.is_empty() => {
                if let Some(slot) = chars.get_mut(i % len) {
                    *slot = c;
                }
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// 256 cases keep the suite fast; `PROPTEST_CASES=100000` digs deeper.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,200}") {
        let diags = diagnostics(&src);
        let _ = render(&diags, "fuzz.rules", &src, Style::PLAIN);
    }

    #[test]
    fn mangled_standard_never_panics(edits in proptest::collection::vec(edit(), 1..8)) {
        let src = mutate(CREDIT, &edits);
        let diags = diagnostics(&src);
        let _ = render(&diags, "credit.rules", &src, Style::PLAIN);
    }

    #[test]
    fn mangled_revision_never_panics(edits in proptest::collection::vec(edit(), 1..8)) {
        // The 2027 revision: rules on the total, `instead of`, `like`,
        // `allow over-deduction`, `at least`, measures.
        let src = mutate(REVISION, &edits);
        let diags = diagnostics(&src);
        let _ = render(&diags, "credit-2027.rules", &src, Style::PLAIN);
    }

    #[test]
    fn mangled_index_never_panics(edits in proptest::collection::vec(edit(), 1..8)) {
        let src = mutate(CSI, &edits);
        let diags = diagnostics(&src);
        let _ = render(&diags, "csi.rules", &src, Style::PLAIN);
    }
}
