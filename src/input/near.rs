//! Input stage: near misses — a column, JSON key or kind that is almost a
//! declared name (`Persons`, `persons `, `persns`, `Theft`), which a log must
//! not get away with: read as "unknown", it would silently change a score.

/// The declared name `name` nearly is, if any: equal ignoring case and
/// surrounding spaces, or within a small edit distance of it (1 for names of
/// up to five characters, 2 for longer ones; a transposition counts once).
/// `name` itself must not be declared; the caller checks that first.
pub fn near_miss<'a>(name: &str, declared: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let folded = fold(name);
    let folded_len = folded.chars().count();
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let folded_digits = digits(&folded);
    let mut best: Option<(usize, &str)> = None;
    for d in declared {
        let target = fold(d);
        let dist = if folded == target {
            0
        } else if folded_digits != digits(&target) {
            // `q11` is another question than `q1`, `2026` another year than `2025`: numbers are no typos.
            continue;
        } else {
            let len = target.chars().count();
            let limit = match len {
                0..=2 => 0,
                3..=5 => 1,
                _ => 2,
            };
            // Each insertion or deletion changes the length by one: lengths
            // further apart than the limit are further apart in distance too.
            if len.abs_diff(folded_len) > limit {
                continue;
            }
            let dist = distance(&folded, &target);
            if dist > limit {
                continue;
            }
            dist
        };
        if best.is_none_or(|(b, _)| dist < b) {
            best = Some((dist, d));
        }
    }
    best.map(|(_, d)| d)
}

/// Lower case, surrounding white space (and a non-breaking space) gone.
fn fold(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .to_lowercase()
}

/// Optimal-string-alignment distance in characters: insertions, deletions,
/// substitutions and transpositions of neighbours each count one.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // Rows i−2, i−1 and i of the table, each `b.len() + 1` long.
    let mut before: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row: Vec<usize> = Vec::with_capacity(b.len() + 1);
    let mut last_a: Option<char> = None;
    for (i, ca) in a.chars().enumerate() {
        row.clear();
        row.push(i + 1);
        for (j, &cb) in b.iter().enumerate() {
            let at = |r: &[usize], k: usize| r.get(k).copied().unwrap_or(usize::MAX - 1);
            let substitute = at(&prev, j) + usize::from(ca != cb);
            let delete = at(&prev, j + 1) + 1;
            let insert = at(&row, j) + 1;
            let mut d = substitute.min(delete).min(insert);
            // `ab` ↔ `ba`: one transposition.
            let swapped = j > 0 && last_a == Some(cb) && b.get(j - 1) == Some(&ca);
            if swapped && !before.is_empty() {
                d = d.min(at(&before, j - 1) + 1);
            }
            row.push(d);
        }
        before = std::mem::replace(&mut prev, std::mem::take(&mut row));
        last_a = Some(ca);
    }
    prev.last().copied().expect("a row has b.len() + 1 cells")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses() {
        let declared = ["persons", "months", "theft", "arrears", "kind", "date", "customer"];
        let near = |n: &str| near_miss(n, declared.iter().copied());
        assert_eq!(near("Persons"), Some("persons"));
        assert_eq!(near("persons "), Some("persons"));
        assert_eq!(near("persns"), Some("persons"));
        assert_eq!(near("presons"), Some("persons"));
        assert_eq!(near("Theft"), Some("theft"));
        assert_eq!(near("arrear"), Some("arrears"));
        assert_eq!(near("KIND"), Some("kind"));
        assert_eq!(near("Customer"), Some("customer"));
        assert_eq!(near("dates"), Some("date"));
        // Unrelated names are not typos.
        let numbered = ["q1", "q10", "score2"];
        assert_eq!(near_miss("q11", numbered.iter().copied()), None);
        assert_eq!(near_miss("score3", numbered.iter().copied()), None);
        assert_eq!(near_miss("Q1", numbered.iter().copied()), Some("q1"));
        for other in ["name", "note", "region", "branch", "amount", "id", "remark"] {
            assert_eq!(near(other), None, "{other}");
        }
        assert_eq!(distance("ab", "ba"), 1);
        assert_eq!(distance("persons", "presons"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("付款", "付款记录"), 2);
    }
}
