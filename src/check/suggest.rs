//! Check stage: "did you mean" — the declared name closest to a misspelt one,
//! by edit distance, and the short name lists that help texts show.

/// The candidate nearest to `name`, if one is close enough to be a typo.
pub(super) fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let len = name.chars().count();
    let limit = (len / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (distance(name, c), c))
        // Keep at least one character in common: `Z` is no typo of `A`.
        .filter(|(d, _)| *d <= limit && *d < len)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

/// Levenshtein distance counted in characters, so Chinese names work too.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row = Vec::with_capacity(b.len() + 1);
    for (i, ca) in a.chars().enumerate() {
        row.clear();
        row.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev.get(j).map_or(usize::MAX, |d| d + usize::from(ca != *cb));
            let delete = prev.get(j + 1).map_or(usize::MAX, |d| d + 1);
            let insert = row.last().map_or(usize::MAX, |d| d + 1);
            row.push(substitute.min(delete).min(insert));
        }
        std::mem::swap(&mut prev, &mut row);
    }
    prev.last().copied().unwrap_or(0)
}

/// "`a`, `b` and `c`".
pub(super) fn list<S: AsRef<str>>(names: &[S]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{}`", n.as_ref())).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    }
}

/// The help for an unknown name: a suggestion if there is one, else `fallback`.
pub(super) fn help(suggestion: &Option<String>, fallback: String) -> String {
    match suggestion {
        Some(s) => format!("did you mean `{s}`?"),
        None => fallback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("theft", "theft"), 0);
        assert_eq!(distance("thef", "theft"), 1);
        assert_eq!(distance("paymnet", "payment"), 2);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("付款", "付款记录"), 2);
    }

    #[test]
    fn suggests_only_close_names() {
        assert_eq!(closest("arears", ["arrears", "theft"]), Some("arrears".to_string()));
        assert_eq!(closest("xyz", ["arrears", "theft"]), None);
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` and `c`");
    }
}
