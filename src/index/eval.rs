//! Index stage, respondents: a customer's latest survey in the period, its
//! answers rescaled to 0..100, block scores and index as exact fractions,
//! weights renormalised over what was answered.

use super::IndexProg;
use crate::date::{Date, Window};
use crate::input::schema::ABSENT;
use crate::input::{Event, EventLog};

/// A non-negative fraction of `u128`s, reduced, `den > 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frac {
    pub num: u128,
    pub den: u128,
}

/// The weights are too fine for exact `u128` fractions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow;

impl std::fmt::Display for Overflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the index's weights are too fine to compute exactly; use fewer decimal places")
    }
}

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Frac {
    fn new(num: u128, den: u128) -> Frac {
        let g = gcd(num, den).max(1);
        Frac {
            num: num / g,
            den: den / g,
        }
    }

    fn add(self, o: Frac) -> Result<Frac, Overflow> {
        let g = gcd(self.den, o.den).max(1);
        let den = (self.den / g).checked_mul(o.den).ok_or(Overflow)?;
        let a = self.num.checked_mul(o.den / g).ok_or(Overflow)?;
        let b = o.num.checked_mul(self.den / g).ok_or(Overflow)?;
        Ok(Frac::new(a.checked_add(b).ok_or(Overflow)?, den))
    }

    fn scale(self, mul: u128, div: u128) -> Result<Frac, Overflow> {
        let g1 = gcd(mul, self.den).max(1);
        let g2 = gcd(self.num, div).max(1);
        let num = (self.num / g2).checked_mul(mul / g1).ok_or(Overflow)?;
        let den = (self.den / g1).checked_mul(div / g2).ok_or(Overflow)?;
        Ok(Frac::new(num, den))
    }
}

/// What a surveyed customer's latest survey gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// At least one item answered.
    Answered(Answer),
    /// Every item left empty: counted as unanswered, left out.
    Unanswered,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The respondent index, 0..100.
    pub index: Frac,
    /// Each block's score, `None` when none of its items was answered.
    pub blocks: Vec<Option<Frac>>,
}

impl IndexProg {
    /// The period for this as-of date.
    pub fn window(&self, as_of: Date) -> Window {
        Window::months_to(as_of, self.period)
    }

    /// The customer's latest survey in the window (by date; on equal dates,
    /// the later row of the log: events are in log order), if any.
    pub fn latest<'l>(&self, events: &'l [Event], window: Window) -> Option<&'l Event> {
        events
            .iter()
            .filter(|e| e.kind == self.kind && window.contains(e.date))
            .fold(None, |best: Option<&Event>, e| match best {
                Some(b) if b.date > e.date => Some(b),
                _ => Some(e),
            })
    }

    /// Scores one survey event.
    pub fn response(&self, event: &Event, vals: &[i64]) -> Result<Response, Overflow> {
        let span = u128::try_from(self.hi - self.lo).map_err(|_| Overflow)?;
        let mut sum = Frac { num: 0, den: 1 };
        let mut total_weight = 0u128;
        let mut blocks = Vec::with_capacity(self.blocks.len());
        for b in &self.blocks {
            let (mut n, mut s) = (0u128, 0u128);
            for item in &b.items {
                let v = vals.get(event.vals as usize + item.slot).copied().unwrap_or(ABSENT);
                if v == ABSENT {
                    continue;
                }
                // Ints are stored as `Num::raw`; the bounds were checked on reading.
                let x = crate::num::Num::from_raw(v).as_int().unwrap_or(self.lo);
                let above = u128::try_from(x - self.lo).map_err(|_| Overflow)?;
                n = n
                    .checked_add(item.ratio.checked_mul(above).ok_or(Overflow)?)
                    .ok_or(Overflow)?;
                s = s.checked_add(item.ratio).ok_or(Overflow)?;
            }
            if s == 0 {
                blocks.push(None);
                continue;
            }
            // 100 · Σ wᵢ(xᵢ − lo) / ((hi − lo) · Σ wᵢ)
            let score = Frac::new(n, 1).scale(100, span.checked_mul(s).ok_or(Overflow)?)?;
            sum = sum.add(score.scale(b.ratio, 1)?)?;
            total_weight = total_weight.checked_add(b.ratio).ok_or(Overflow)?;
            blocks.push(Some(score));
        }
        if total_weight == 0 {
            return Ok(Response::Unanswered);
        }
        Ok(Response::Answered(Answer {
            index: sum.scale(1, total_weight)?,
            blocks,
        }))
    }

    /// Customer `i`'s response, `None` when it has no survey in the window.
    pub fn respondent(&self, log: &EventLog, i: usize, window: Window) -> Option<Result<Response, Overflow>> {
        let e = self.latest(log.events_of(i), window)?;
        Some(self.response(e, &log.vals))
    }
}
