//! Report stage: the grade distribution — customers per grade, over all
//! customers, by class and by each roster column asked for (`--by branch`) —
//! for the score table, `score --format json`, the Excel summary sheet and
//! the HTML report.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Ordered, Scored};
use crate::eval::{Outcome, Program};
use crate::input::Roster;
use crate::num::Num;

/// Customers per grade (indices of `Program::bands`), overall and by group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distribution {
    /// The grades, best first.
    pub grades: Vec<String>,
    /// Customers per grade over everyone.
    pub total: Vec<u64>,
    /// `class` first, then each `--by` column.
    pub groupings: Vec<Grouping>,
}

/// Customers per grade for each value of one column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grouping {
    pub column: String,
    /// By value (byte order); a customer without a value counts under `""`.
    pub groups: BTreeMap<String, Vec<u64>>,
}

impl Grouping {
    /// Every (value, customers per grade, customers), in value order.
    pub fn rows(&self) -> impl Iterator<Item = (&str, &[u64], u64)> {
        self.groups
            .iter()
            .map(|(v, c)| (v.as_str(), c.as_slice(), c.iter().sum()))
    }
}

impl Distribution {
    /// An empty distribution, grouped by class and by each of `by`.
    pub fn new(prog: &Program, by: &[String]) -> Distribution {
        let grades: Vec<String> = prog.bands.iter().map(|b| b.grade.clone()).collect();
        let groupings = std::iter::once("class")
            .chain(by.iter().map(String::as_str))
            .map(|c| Grouping {
                column: c.to_string(),
                groups: BTreeMap::new(),
            })
            .collect();
        Distribution {
            total: vec![0; grades.len()],
            grades,
            groupings,
        }
    }

    /// Counts one customer: its class, its value in each `--by` column (in
    /// order), its grade (index into the bands).
    pub fn add(&mut self, class: &str, values: &[&str], grade: usize) {
        let n = self.grades.len();
        if let Some(t) = self.total.get_mut(grade) {
            *t += 1;
        }
        for (g, v) in self
            .groupings
            .iter_mut()
            .zip(std::iter::once(class).chain(values.iter().copied()))
        {
            let counts = g.groups.entry(v.to_string()).or_insert_with(|| vec![0; n]);
            if let Some(c) = counts.get_mut(grade) {
                *c += 1;
            }
        }
    }

    /// Counts one scored customer, its `--by` values read from the roster.
    pub fn add_scored(&mut self, s: &Scored<'_>, roster: &Roster) {
        let id = s.id();
        let values: Vec<&str> = self
            .groupings
            .iter()
            .skip(1)
            .map(|g| roster.value(id, &g.column).unwrap_or(""))
            .collect();
        self.add(s.class_name(), &values, s.outcome.grade);
    }

    /// Customers counted.
    pub fn customers(&self) -> u64 {
        self.total.iter().sum()
    }

    /// The distribution as aligned text: one block per grouping.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for g in &self.groupings {
            let _ = writeln!(out, "\nGrades by {}", g.column);
            let mut rows = vec![std::iter::once(g.column.clone())
                .chain(std::iter::once("customers".to_string()))
                .chain(self.grades.iter().cloned())
                .collect::<Vec<_>>()];
            for (value, counts, n) in g.rows() {
                rows.push(
                    [shown(value).to_string(), n.to_string()]
                        .into_iter()
                        .chain(counts.iter().map(|c| count(*c)))
                        .collect(),
                );
            }
            rows.push(
                ["total".to_string(), self.customers().to_string()]
                    .into_iter()
                    .chain(self.total.iter().map(|c| count(*c)))
                    .collect(),
            );
            // The first column (the group) left-aligned, the counts right-aligned.
            let right: Vec<bool> = (0..rows.first().map_or(0, Vec::len)).map(|i| i > 0).collect();
            out.push_str(&super::grid(&rows, &right));
        }
        out
    }

    /// `{"grades":{"AAA":5,…},"by":{"class":[{"value":"power","customers":32,"grades":{…}}],…}}`
    /// (the summary of `score --format json` holds its members).
    pub fn json(&self) -> DistributionJson<'_> {
        let counts = |counts: &[u64]| Ordered(self.grades.iter().map(String::as_str).zip(counts.to_vec()).collect());
        DistributionJson {
            grades: counts(&self.total),
            by: Ordered(
                self.groupings
                    .iter()
                    .map(|g| {
                        let rows = g
                            .rows()
                            .map(|(value, c, customers)| GroupJson {
                                value,
                                customers,
                                grades: counts(c),
                            })
                            .collect();
                        (g.column.as_str(), rows)
                    })
                    .collect(),
            ),
        }
    }
}

/// The JSON of a `Distribution`.
#[derive(serde::Serialize)]
pub struct DistributionJson<'a> {
    grades: Ordered<&'a str, u64>,
    by: Ordered<&'a str, Vec<GroupJson<'a>>>,
}

#[derive(serde::Serialize)]
struct GroupJson<'a> {
    value: &'a str,
    customers: u64,
    grades: Ordered<&'a str, u64>,
}

/// How each dimension's scores spread over the customers scored on it:
/// five bins by the share of the class's full marks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DimStats {
    pub dims: Vec<DimStat>,
}

/// One dimension's spread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DimStat {
    pub name: String,
    pub label: Option<String>,
    /// Customers scored on it.
    pub customers: u64,
    /// `[0, 20%)`, `[20%, 40%)`, `[40%, 60%)`, `[60%, 80%)`, `[80%, 100%]` of full marks.
    pub bins: [u64; 5],
    /// Customers at full marks.
    pub full: u64,
    /// The sum of the shares of full marks, in millionths.
    pub share_sum: u128,
}

impl DimStat {
    /// The mean share of full marks, in percent, to one decimal.
    pub fn mean_percent(&self) -> Num {
        if self.customers == 0 {
            return Num::ZERO;
        }
        // share_sum / customers millionths = that / 10⁴ percent; one decimal.
        let tenths = (self.share_sum * 2 / u128::from(self.customers) / 1000).div_ceil(2);
        Num::from_raw(i64::try_from(tenths).unwrap_or(0) * 100_000)
    }
}

impl DimStats {
    pub fn new(prog: &Program) -> DimStats {
        let dims = prog
            .dimension_names()
            .into_iter()
            .map(|name| DimStat {
                name: name.to_string(),
                label: super::columns::dim_label(prog, name).map(str::to_string),
                customers: 0,
                bins: [0; 5],
                full: 0,
                share_sum: 0,
            })
            .collect();
        DimStats { dims }
    }

    /// Counts one customer's dimension scores.
    pub fn add(&mut self, prog: &Program, o: &Outcome) {
        let Some(class) = prog.classes.get(usize::from(o.class)) else {
            return;
        };
        for (d, r) in class.dims.iter().zip(&o.dims) {
            let Some(stat) = self.dims.iter_mut().find(|s| s.name == d.name) else {
                continue;
            };
            let max = d.max.raw().max(1);
            let share =
                u128::try_from(r.score.raw().clamp(0, max)).unwrap_or(0) * 1_000_000 / u128::try_from(max).unwrap_or(1);
            stat.customers += 1;
            stat.share_sum += share;
            if r.score >= d.max {
                stat.full += 1;
            }
            let bin = usize::try_from(share / 200_000).unwrap_or(4).min(4);
            if let Some(b) = stat.bins.get_mut(bin) {
                *b += 1;
            }
        }
    }
}

/// A group's value as shown to people: `-` for a customer without one.
pub fn shown(value: &str) -> &str {
    if value.is_empty() {
        "-"
    } else {
        value
    }
}

/// `.` for an empty cell, as in the diff's migration matrix.
fn count(n: u64) -> String {
    if n == 0 {
        ".".into()
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist() -> Distribution {
        Distribution {
            grades: vec!["A".into(), "B".into()],
            total: vec![0, 0],
            groupings: vec![
                Grouping {
                    column: "class".into(),
                    groups: BTreeMap::new(),
                },
                Grouping {
                    column: "branch".into(),
                    groups: BTreeMap::new(),
                },
            ],
        }
    }

    #[test]
    fn counts_by_class_and_by_column() {
        let mut d = dist();
        d.add("power", &["东城"], 0);
        d.add("power", &["西城"], 1);
        d.add("lighting", &[""], 1);
        assert_eq!(d.total, vec![1, 2]);
        let class: Vec<_> = d.groupings[0].rows().map(|(v, c, n)| (v, c.to_vec(), n)).collect();
        assert_eq!(class, vec![("lighting", vec![0, 1], 1), ("power", vec![1, 1], 2)]);
        assert_eq!(
            super::super::to_json(&d.json()),
            r#"{"grades":{"A":1,"B":2},"by":{"class":[{"value":"lighting","customers":1,"grades":{"A":0,"B":1}},{"value":"power","customers":2,"grades":{"A":1,"B":1}}],"branch":[{"value":"","customers":1,"grades":{"A":0,"B":1}},{"value":"东城","customers":1,"grades":{"A":1,"B":0}},{"value":"西城","customers":1,"grades":{"A":0,"B":1}}]}}"#
        );
    }
}
