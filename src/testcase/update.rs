//! Test stage: `rulebook test --update` — the expectations of failing cases
//! rewritten from the actual results, in place, for review (like insta).
//! Values are replaced where they stand; a clause listed under `fires` that
//! did not fire moves to a `silent` line (and the other way round); a case
//! that expects nothing gets every dimension, the total, the grade, the
//! clauses that fired and its flags.

use super::run::{CaseRun, Subject};
use super::TestFile;
use crate::eval::Program;

/// The edits to one line: value replacements within it, or new lines for it.
#[derive(Default, Clone)]
struct LineEdit {
    values: Vec<(std::ops::Range<usize>, String)>,
    /// `Some`: the line is replaced by these lines (none: deleted).
    replace: Option<Vec<String>>,
    /// Lines inserted after it.
    after: Vec<String>,
}

fn indent(line: &str) -> &str {
    line.get(..line.len() - line.trim_start().len()).unwrap_or("")
}

/// The file's text with the expectations of every failing run rewritten;
/// also the number of cases changed.
pub fn update(src: &str, tests: &TestFile, runs: &[CaseRun], prog: &Program) -> (String, usize) {
    let lines: Vec<&str> = src.split_inclusive('\n').collect();
    let mut edits: Vec<LineEdit> = vec![LineEdit::default(); lines.len() + 1];
    let text = |n: usize| {
        lines
            .get(n.wrapping_sub(1))
            .map_or("", |l| l.trim_end_matches(['\n', '\r']))
    };
    let mut changed = 0;
    for run in runs.iter().filter(|r| r.error.is_none() && !r.passed()) {
        let (Some(case), Some(o)) = (tests.cases.get(run.case), &run.outcome) else {
            continue;
        };
        changed += 1;
        // (spec, id): a clause listed under `fires` that did not fire, or under `silent` that did.
        let mut moves: Vec<(usize, String)> = Vec::new();
        for check in run.checks.iter().filter(|c| !c.ok) {
            match &check.subject {
                Subject::Expect(i) => {
                    if let (Some(e), Some(edit)) = (case.expects.get(*i), edits.get_mut(check.line)) {
                        if !check.unknown {
                            edit.values.push((e.at.clone(), check.actual.clone()));
                        }
                    }
                }
                Subject::Fire { spec, id, .. } => {
                    if !check.unknown {
                        moves.push((*spec, id.clone()));
                    }
                }
                Subject::Flags => {
                    let Some(spec) = &case.flags else { continue };
                    let first = spec.lines.first().copied().unwrap_or(case.line);
                    let pad = indent(text(first)).to_string();
                    let new: Vec<String> = if o.flags.is_empty() {
                        vec![format!("{pad}flags none")]
                    } else {
                        o.flags.iter().map(|f| format!("{pad}flag {f}")).collect()
                    };
                    for (k, &l) in spec.lines.iter().enumerate() {
                        if let Some(edit) = edits.get_mut(l) {
                            edit.replace = Some(if k == 0 { new.clone() } else { vec![] });
                        }
                    }
                }
                Subject::Nothing => {
                    let class = prog.classes.get(usize::from(o.class));
                    let mut pairs: Vec<String> = class
                        .into_iter()
                        .flat_map(|c| c.dims.iter())
                        .zip(&o.dims)
                        .map(|(d, r)| format!("{} {}", d.name, r.score))
                        .collect();
                    pairs.push(format!("total {}", o.total));
                    pairs.push(format!(
                        "grade {}",
                        prog.bands.get(o.grade).map_or("", |b| b.grade.as_str())
                    ));
                    let pad = case
                        .events
                        .first()
                        .map_or("  ".to_string(), |e| indent(text(e.line)).to_string());
                    let mut new = vec![format!("{pad}expect {}", pairs.join("  "))];
                    let mut fired: Vec<&str> = Vec::new();
                    for h in run
                        .hits
                        .iter()
                        .filter(|h| h.fired && (h.item.dim.is_some() || h.item.total))
                    {
                        if !fired.contains(&h.item.id.as_str()) {
                            fired.push(&h.item.id);
                        }
                    }
                    if !fired.is_empty() {
                        new.push(format!("{pad}fires {}", fired.join(" ")));
                    }
                    new.extend(o.flags.iter().map(|f| format!("{pad}flag {f}")));
                    if let Some(edit) = edits.get_mut(case.last_line) {
                        edit.after.extend(new);
                    }
                }
            }
        }
        for (line, new) in move_clauses(case, &moves, &text) {
            if let Some(edit) = edits.get_mut(line) {
                edit.replace = Some(new);
            }
        }
    }
    let mut out = String::with_capacity(src.len());
    for (i, raw) in lines.iter().enumerate() {
        let n = i + 1;
        let ending = raw.get(raw.trim_end_matches(['\n', '\r']).len()..).unwrap_or("");
        let ending = if ending.is_empty() { "\n" } else { ending };
        let Some(edit) = edits.get_mut(n) else {
            continue;
        };
        match &edit.replace {
            Some(new) => new.iter().for_each(|l| {
                out.push_str(l);
                out.push_str(ending);
            }),
            None if edit.values.is_empty() => out.push_str(raw),
            None => {
                let mut line = text(n).to_string();
                edit.values.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
                for (r, v) in &edit.values {
                    if line.get(r.clone()).is_some() {
                        line.replace_range(r.clone(), v);
                    }
                }
                out.push_str(&line);
                out.push_str(ending);
            }
        }
        for l in &edit.after {
            out.push_str(l);
            out.push_str(ending);
        }
    }
    (out, changed)
}

/// The `fires`/`silent` lines after moving each wrong clause to the other
/// kind of line: to the case's first line of that kind, else to a new line
/// right after the one it leaves. Returns the lines that change.
fn move_clauses<'a>(
    case: &super::Case,
    moves: &[(usize, String)],
    text: &impl Fn(usize) -> &'a str,
) -> Vec<(usize, Vec<String>)> {
    if moves.is_empty() {
        return vec![];
    }
    let mut lists: Vec<Vec<String>> = case.fires.iter().map(|s| s.ids.clone()).collect();
    // New lines, after the line of a spec: (spec, fires?, ids).
    let mut extra: Vec<(usize, bool, Vec<String>)> = Vec::new();
    for (spec, id) in moves {
        let Some(from) = case.fires.get(*spec) else {
            continue;
        };
        if let Some(list) = lists.get_mut(*spec) {
            list.retain(|i| i != id);
        }
        match case.fires.iter().position(|s| s.fires != from.fires) {
            Some(to) => {
                if let Some(list) = lists.get_mut(to) {
                    list.push(id.clone());
                }
            }
            None => match extra.iter_mut().find(|(s, _, _)| s == spec) {
                Some((_, _, ids)) => ids.push(id.clone()),
                None => extra.push((*spec, !from.fires, vec![id.clone()])),
            },
        }
    }
    let mut out = Vec::new();
    for (i, (spec, ids)) in case.fires.iter().zip(&lists).enumerate() {
        let added: Vec<&(usize, bool, Vec<String>)> = extra.iter().filter(|(s, _, _)| *s == i).collect();
        if *ids == spec.ids && added.is_empty() {
            continue;
        }
        let line = text(spec.line);
        let body = line.trim_start();
        let pad = line.get(..line.len() - body.len()).unwrap_or("");
        let keyword = if spec.fires { "fires" } else { "silent" };
        let gap = body.strip_prefix(keyword).map_or(" ", |rest| {
            rest.get(..rest.len() - rest.trim_start().len()).unwrap_or(" ")
        });
        let mut new = Vec::new();
        if !ids.is_empty() {
            new.push(format!("{pad}{keyword}{gap}{}", ids.join(" ")));
        }
        for (_, fires, moved) in added {
            new.push(format!(
                "{pad}{}{gap}{}",
                if *fires { "fires" } else { "silent" },
                moved.join(" ")
            ));
        }
        // An end-of-line comment stays, with the space before it.
        if let Some(hash) = line.find('#') {
            let code = line.get(..hash).unwrap_or("");
            let comment = line.get(code.trim_end().len()..).unwrap_or("");
            match new.first_mut() {
                Some(first) => first.push_str(comment),
                None => new.push(format!("{pad}{}", comment.trim_start())),
            }
        }
        out.push((spec.line, new));
    }
    out
}
