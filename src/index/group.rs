//! Index stage, groups: respondents gathered into the overall group and one
//! group per value of each `--by` roster column; per group the mean index,
//! its 95% interval, each block's mean over those who answered it, and the
//! improvement priority (block weight × (100 − block score)).

use std::collections::BTreeMap;

use super::big::{Big, Ratio};
use super::eval::{Answer, Frac, Overflow, Response};
use super::IndexProg;
use crate::input::{EventLog, Roster};

/// Sums of fractions kept per denominator, so that adding a respondent is
/// two integer additions; combined into one big fraction at the end.
#[derive(Clone, Debug, Default)]
struct Sums {
    /// denominator → (Σ numerators, Σ numerators²).
    by_den: BTreeMap<u128, (u128, u128)>,
}

impl Sums {
    fn add(&mut self, f: Frac) -> Result<(), Overflow> {
        let (s, q) = self.by_den.entry(f.den).or_default();
        *s = s.checked_add(f.num).ok_or(Overflow)?;
        *q = q
            .checked_add(f.num.checked_mul(f.num).ok_or(Overflow)?)
            .ok_or(Overflow)?;
        Ok(())
    }

    /// Σ x.
    fn sum(&self) -> Ratio {
        self.by_den.iter().fold(Ratio::zero(), |acc, (&d, &(s, _))| {
            acc.add(&Ratio::new(Big::from_u128(s), Big::from_u128(d)))
        })
    }

    /// Σ x².
    fn sum_sq(&self) -> Ratio {
        self.by_den.iter().fold(Ratio::zero(), |acc, (&d, &(_, q))| {
            let d = Big::from_u128(d);
            acc.add(&Ratio::new(Big::from_u128(q), d.mul(&d)))
        })
    }
}

/// A group being gathered.
#[derive(Clone, Debug, Default)]
pub struct Acc {
    respondents: u64,
    unanswered: u64,
    index: Sums,
    /// Per block: how many answered it, and their scores.
    blocks: Vec<(u64, Sums)>,
}

impl Acc {
    pub fn new(blocks: usize) -> Acc {
        Acc {
            blocks: vec![(0, Sums::default()); blocks],
            ..Acc::default()
        }
    }

    pub fn add(&mut self, r: &Response) -> Result<(), Overflow> {
        match r {
            Response::Unanswered => self.unanswered += 1,
            Response::Answered(Answer { index, blocks }) => {
                self.respondents += 1;
                self.index.add(*index)?;
                for ((n, sums), b) in self.blocks.iter_mut().zip(blocks) {
                    if let Some(score) = b {
                        *n += 1;
                        sums.add(*score)?;
                    }
                }
            }
        }
        Ok(())
    }

    pub fn finish(&self, prog: &IndexProg) -> GroupStats {
        let n = u128::from(self.respondents);
        let index = (n > 0).then(|| self.index.sum().div_u128(n));
        let ci95 = index
            .as_ref()
            .filter(|_| n >= 2)
            .map(|mean| interval(mean, &self.index, n));
        let blocks: Vec<Option<Ratio>> = self
            .blocks
            .iter()
            .map(|(k, sums)| (*k > 0).then(|| sums.sum().div_u128(u128::from(*k))))
            .collect();
        let hundred = Ratio::new(Big::from_u128(100), Big::from_u128(1));
        let mut priority: Vec<(usize, Ratio)> = blocks
            .iter()
            .zip(&prog.blocks)
            .enumerate()
            .filter_map(|(i, (score, b))| {
                let gap = hundred.sub(score.as_ref()?).unwrap_or_else(Ratio::zero);
                let weight = Ratio::new(
                    Big::from_u128(u128::try_from(b.weight.raw()).unwrap_or(0)),
                    Big::from_u128(1),
                );
                Some((i, weight.mul(&gap)))
            })
            .collect();
        // Highest first; a stable sort keeps ties in rulebook order.
        priority.sort_by(|a, b| b.1.cmp(&a.1));
        GroupStats {
            respondents: self.respondents,
            unanswered: self.unanswered,
            index,
            ci95,
            blocks,
            priority: priority.into_iter().map(|(i, _)| i).collect(),
        }
    }
}

/// mean ± 1.96 · s / √n, in hundredths rounded half up; the half-width is
/// computed to 10⁻⁹ (an integer square root), so each end is within 0.01 of
/// the exact value.
fn interval(mean: &Ratio, sums: &Sums, n: u128) -> (i128, i128) {
    // s²/n = (n·Σx² − (Σx)²) / (n²·(n − 1)); h² = 1.96² · s²/n, 1.96² = 38416/10⁴.
    let (sum, sq) = (sums.sum(), sums.sum_sq());
    let spread = sq
        .mul(&Ratio::new(Big::from_u128(n), Big::from_u128(1)))
        .sub(&sum.mul(&sum))
        .unwrap_or_else(Ratio::zero);
    let den = spread.den.mul_u128(n * n).mul_u128(n - 1);
    // (h · 10⁹)² = 38416 · 10¹⁴ · spread / (n²(n − 1))
    let scaled = spread.num.mul_u128(38_416 * 10u128.pow(14)).div(&den);
    let h = Ratio::new(scaled.isqrt(), Big::from_u128(10u128.pow(9)));
    let upper = signed(mean.add(&h).hundredths());
    let lower = mean.diff_hundredths(&h);
    (lower, upper)
}

fn signed(h: u128) -> i128 {
    i128::try_from(h).unwrap_or(i128::MAX)
}

/// One group's results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupStats {
    pub respondents: u64,
    pub unanswered: u64,
    /// The exact mean index; `None` without respondents.
    pub index: Option<Ratio>,
    /// The 95% interval in hundredths; `None` for fewer than two respondents.
    pub ci95: Option<(i128, i128)>,
    /// Each block's exact mean; `None` when nobody in the group answered it.
    pub blocks: Vec<Option<Ratio>>,
    /// Answered blocks, highest priority first (ties in rulebook order).
    pub priority: Vec<usize>,
}

/// A group: `[]` for everyone, else `[(column, value)]`.
pub type GroupKey = Vec<(String, String)>;

/// The whole result: the overall group first, then each (column, value) in
/// byte order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexResult {
    pub groups: Vec<(GroupKey, GroupStats)>,
    /// Customers with a survey in the period.
    pub surveyed: u64,
}

/// Scores every customer of the log and gathers the groups. `by` are roster
/// columns (the caller checks they exist); a customer not on the roster has
/// the value `""`. A value whose surveyed customers answered nothing has no
/// group (they count as unanswered in the overall group).
pub fn run(
    prog: &IndexProg,
    log: &EventLog,
    roster: &Roster,
    by: &[String],
    as_of: crate::date::Date,
) -> Result<IndexResult, Overflow> {
    use rayon::prelude::*;
    let window = prog.window(as_of);
    let responses: Vec<Option<Response>> = (0..log.customers.len())
        .into_par_iter()
        .map(|i| prog.respondent(log, i, window).transpose())
        .collect::<Result<_, _>>()?;
    let mut columns: Vec<&String> = by.iter().collect();
    columns.sort();
    columns.dedup();
    let mut overall = Acc::new(prog.blocks.len());
    let mut groups: BTreeMap<(&str, &str), Acc> = BTreeMap::new();
    let mut surveyed = 0;
    for (c, r) in log.customers.iter().zip(&responses) {
        let Some(r) = r else { continue };
        surveyed += 1;
        overall.add(r)?;
        for col in &columns {
            let value = roster.value(&c.id, col).unwrap_or("");
            groups
                .entry((col.as_str(), value))
                .or_insert_with(|| Acc::new(prog.blocks.len()))
                .add(r)?;
        }
    }
    let mut out = vec![(vec![], overall.finish(prog))];
    for ((col, value), acc) in &groups {
        if acc.respondents > 0 {
            out.push((vec![(col.to_string(), value.to_string())], acc.finish(prog)));
        }
    }
    Ok(IndexResult { groups: out, surveyed })
}
