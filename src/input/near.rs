//! Input stage: near misses — a column, JSON key or kind that is almost a
//! declared name (`Persons`, `persons `, `persns`, `Theft`), which a log must
//! not get away with: read as "unknown", it would silently change a score.

/// The declared name `name` nearly is, if any: equal ignoring case and
/// surrounding spaces, or within a small edit distance of it (1 for names of
/// up to five characters, 2 for longer ones; a transposition counts once).
/// `name` itself must not be declared; the caller checks that first.
pub fn near_miss<'a>(name: &str, declared: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let folded = fold(name);
    let mut best: Option<(usize, &str)> = None;
    for d in declared {
        let target = fold(d);
        let dist = if folded == target {
            0
        } else {
            let len = target.chars().count();
            let limit = match len {
                0..=2 => 0,
                3..=5 => 1,
                _ => 2,
            };
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
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    let at = |i: usize, j: usize| i * w + j;
    for i in 0..=a.len() {
        d[at(i, 0)] = i;
    }
    for j in 0..=b.len() {
        d[at(0, j)] = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[at(i - 1, j)] + 1)
                .min(d[at(i, j - 1)] + 1)
                .min(d[at(i - 1, j - 1)] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[at(i - 2, j - 2)] + 1);
            }
            d[at(i, j)] = v;
        }
    }
    d[at(a.len(), b.len())]
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
        for other in ["name", "note", "region", "branch", "amount", "id", "remark"] {
            assert_eq!(near(other), None, "{other}");
        }
        assert_eq!(distance("ab", "ba"), 1);
        assert_eq!(distance("付款", "付款记录"), 2);
    }
}
