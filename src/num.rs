//! Exact numbers: a fixed-point decimal with six fraction digits in an `i64`.
//! Points, attribute values and totals never touch binary floats, so 0.5
//! steps and any two-decimal value add up exactly.

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub};

/// A fixed-point decimal: the value times 10⁶.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Num(i64);

const SCALE: i64 = 1_000_000;
const DIGITS: usize = 6;

/// Why a text is not a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumError {
    /// Not plain decimal notation (`4`, `3.50`, `-1`).
    Syntax,
    /// More fraction digits than the six a `Num` keeps.
    TooPrecise,
    /// Too large to hold.
    Overflow,
}

impl fmt::Display for NumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NumError::Syntax => "is not a number",
            NumError::TooPrecise => "has more than 6 decimal places",
            NumError::Overflow => "is too large",
        })
    }
}

impl Num {
    pub const ZERO: Num = Num(0);

    pub fn from_int(n: i64) -> Num {
        Num(n.saturating_mul(SCALE))
    }

    /// The raw scaled value, for compact storage.
    pub fn raw(self) -> i64 {
        self.0
    }

    pub fn from_raw(raw: i64) -> Num {
        Num(raw)
    }

    /// The whole part if the value has no fraction.
    pub fn as_int(self) -> Option<i64> {
        (self.0 % SCALE == 0).then_some(self.0 / SCALE)
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn clamp_to(self, lo: Num, hi: Num) -> Num {
        if self < lo {
            lo
        } else if self > hi {
            hi
        } else {
            self
        }
    }

    /// `self × n` for a whole multiplier, saturating.
    pub fn times(self, n: i64) -> Num {
        Num(self.0.saturating_mul(n))
    }

    /// `self × n`, or `None` when the result cannot be held exactly.
    pub fn checked_times(self, n: i64) -> Option<Num> {
        self.0.checked_mul(n).map(Num)
    }

    /// `self + o`, or `None` when the result cannot be held exactly.
    pub fn checked_add(self, o: Num) -> Option<Num> {
        self.0.checked_add(o.0).map(Num)
    }

    /// `-self`, or `None` for the one value whose negation cannot be held.
    pub fn checked_neg(self) -> Option<Num> {
        self.0.checked_neg().map(Num)
    }

    /// Parses plain decimal notation: optional sign, digits, optional
    /// fraction. No exponent, no spaces (trim first if spaces are allowed).
    #[inline]
    pub fn parse(s: &str) -> Result<Num, NumError> {
        match Num::parse_short(s) {
            Some(n) => Ok(n),
            None => Num::parse_long(s),
        }
    }

    /// `parse` of a usual cell, in one pass: a sign, then at most 12 digits
    /// and points, at most one point and at most `DIGITS` decimals (so that
    /// nothing can overflow). `None` for anything else, which `parse_long`
    /// reads and, when it is wrong, says how.
    #[inline]
    fn parse_short(s: &str) -> Option<Num> {
        const POW10: [i64; DIGITS + 1] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
        let (neg, rest) = match s.as_bytes() {
            [b'-', rest @ ..] => (true, rest),
            [b'+', rest @ ..] => (false, rest),
            rest => (false, rest),
        };
        if rest.len() > 12 {
            return None;
        }
        // Digits before the point, and after it once there is one.
        let (mut int, mut int_len, mut frac, mut decimals) = (0i64, 0usize, 0i64, None);
        for &c in rest {
            match (c, &mut decimals) {
                (b'0'..=b'9', None) => {
                    int = int * 10 + i64::from(c - b'0');
                    int_len += 1;
                }
                (b'0'..=b'9', Some(n)) => {
                    frac = frac * 10 + i64::from(c - b'0');
                    *n += 1;
                }
                (b'.', None) => decimals = Some(0),
                _ => return None,
            }
        }
        let unit = match decimals {
            None => 1,
            Some(0) => return None,
            Some(n) => *POW10.get(DIGITS.checked_sub(n)?)?,
        };
        if int_len == 0 {
            return None;
        }
        let value = int * SCALE + frac * unit;
        Some(Num(if neg { -value } else { value }))
    }

    /// `parse` of any text, and why one is not a number.
    #[inline(never)]
    fn parse_long(s: &str) -> Result<Num, NumError> {
        let b = s.as_bytes();
        let (neg, rest) = match b.first() {
            Some(b'-') => (true, &b[1..]),
            Some(b'+') => (false, &b[1..]),
            _ => (false, b),
        };
        let (int, frac) = match rest.iter().position(|&c| c == b'.') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        if int.is_empty() || !int.iter().all(u8::is_ascii_digit) {
            return Err(NumError::Syntax);
        }
        let mut value: i64 = 0;
        for &c in int {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(c - b'0')))
                .ok_or(NumError::Overflow)?;
        }
        value = value.checked_mul(SCALE).ok_or(NumError::Overflow)?;
        if let Some(frac) = frac {
            if frac.is_empty() || !frac.iter().all(u8::is_ascii_digit) {
                return Err(NumError::Syntax);
            }
            let significant = frac.len() - frac.iter().rev().take_while(|&&c| c == b'0').count();
            if significant > DIGITS {
                return Err(NumError::TooPrecise);
            }
            let mut f: i64 = 0;
            for i in 0..DIGITS {
                f = f * 10 + frac.get(i).map_or(0, |&c| i64::from(c - b'0'));
            }
            value = value.checked_add(f).ok_or(NumError::Overflow)?;
        }
        Ok(Num(if neg { -value } else { value }))
    }
}

impl Add for Num {
    type Output = Num;
    fn add(self, o: Num) -> Num {
        Num(self.0.saturating_add(o.0))
    }
}

impl AddAssign for Num {
    fn add_assign(&mut self, o: Num) {
        *self = *self + o;
    }
}

impl Sub for Num {
    type Output = Num;
    fn sub(self, o: Num) -> Num {
        Num(self.0.saturating_sub(o.0))
    }
}

impl Neg for Num {
    type Output = Num;
    fn neg(self) -> Num {
        Num(self.0.saturating_neg())
    }
}

impl std::iter::Sum for Num {
    fn sum<I: Iterator<Item = Num>>(iter: I) -> Num {
        iter.fold(Num::ZERO, Add::add)
    }
}

/// A `Num` as text: at most 20 digits, a sign, a point and 6 fraction digits.
pub struct NumText {
    buf: [u8; 32],
    len: usize,
}

impl NumText {
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).expect("a number's text fits its buffer")
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("a number's text is ASCII digits, a sign and a point")
    }
}

impl Num {
    /// Appends `text()` to `out`: a number from 0 to 999.99 in whole cents
    /// (nearly every score, total and point) digit by digit, the rest
    /// through `text`.
    pub fn write_to(self, out: &mut Vec<u8>) {
        const CENT: i64 = SCALE / 100;
        if (0..1000 * SCALE).contains(&self.0) && self.0 % CENT == 0 {
            let cents = u32::try_from(self.0 / CENT).expect("below 100,000");
            let (int, frac) = (cents / 100, cents % 100);
            let digit = |n: u32| b'0' + (n % 10) as u8;
            if int >= 100 {
                out.push(digit(int / 100));
            }
            if int >= 10 {
                out.push(digit(int / 10));
            }
            out.push(digit(int));
            if frac != 0 {
                out.push(b'.');
                out.push(digit(frac / 10));
                if frac % 10 != 0 {
                    out.push(digit(frac));
                }
            }
            return;
        }
        out.extend_from_slice(self.text().as_bytes());
    }

    /// The shortest exact decimal text: `29.5`, `30`, `-1`, `0.000001`.
    pub fn text(self) -> NumText {
        let mut buf = [0u8; 32];
        // A whole number of up to three digits (most points, scores and
        // totals), written at once.
        if (0..1000 * SCALE).contains(&self.0) && self.0 % SCALE == 0 {
            let v = u32::try_from(self.0 / SCALE).expect("below 1000");
            let digit = |n: u32| b'0' + (n % 10) as u8;
            let (head, len) = match v {
                0..=9 => ([digit(v), 0, 0], 1),
                10..=99 => ([digit(v / 10), digit(v), 0], 2),
                _ => ([digit(v / 100), digit(v / 10), digit(v)], 3),
            };
            buf.get_mut(..3).expect("a buffer of 32 bytes").copy_from_slice(&head);
            return NumText { buf, len };
        }
        let mut n = 0;
        let mut put = |b: u8| {
            if let Some(slot) = buf.get_mut(n) {
                *slot = b;
                n += 1;
            }
        };
        if self.0 < 0 {
            put(b'-');
        }
        let abs = self.0.unsigned_abs();
        let (int, mut frac) = (abs / SCALE as u64, abs % SCALE as u64);
        const _: () = assert!(SCALE == 1_000_000, "six decimal places");
        let mut digits = [0u8; 20];
        let mut d = 0;
        let mut rest = int;
        loop {
            if let Some(slot) = digits.get_mut(d) {
                *slot = b'0' + (rest % 10) as u8;
            }
            d += 1;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        for i in (0..d).rev() {
            put(digits.get(i).copied().unwrap_or(b'0'));
        }
        if frac != 0 {
            put(b'.');
            // The six places, each by a constant divisor (a multiply), then
            // without the trailing zeros.
            let mut places = [0u8; 6];
            for p in places.iter_mut().rev() {
                *p = b'0' + (frac % 10) as u8;
                frac /= 10;
            }
            let used = places.iter().rposition(|&p| p != b'0').map_or(0, |last| last + 1);
            for &p in places.get(..used).expect("at most six places") {
                put(p);
            }
        }
        NumText { buf, len: n }
    }
}

/// Prints exactly, without trailing zeros: `29.5`, `30`, `-0.25`.
impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.text();
        if f.width().is_none() {
            f.write_str(text.as_str())
        } else {
            f.pad(text.as_str())
        }
    }
}

impl fmt::Debug for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Num {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // An arbitrary-precision JSON number: serde_json writes the text as is.
        let text = self.to_string();
        serde_json::Number::from_string_unchecked(text).serialize(s)
    }
}

/// `count` texts of `len` characters drawn from `alphabet` (ASCII) by a
/// seeded generator: the inputs of the tests that hold a fast reading to
/// the full one.
#[cfg(test)]
pub(crate) fn random_texts(alphabet: &[u8], seed: u64, len: usize, count: usize) -> Vec<String> {
    random_bytes(alphabet, seed, len, count)
        .into_iter()
        .map(|b| b.into_iter().map(char::from).collect())
        .collect()
}

/// `count` byte strings of `len` bytes drawn from `alphabet` by a seeded
/// generator.
#[cfg(test)]
pub(crate) fn random_bytes(alphabet: &[u8], seed: u64, len: usize, count: usize) -> Vec<Vec<u8>> {
    let mut seed = seed;
    let mut draw = move || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        *alphabet
            .get((seed >> 33) as usize % alphabet.len())
            .expect("below its length")
    };
    (0..count).map(|_| (0..len).map(|_| draw()).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        for (text, shown) in [
            ("29.5", "29.5"),
            ("30", "30"),
            ("3.50", "3.5"),
            ("-1", "-1"),
            ("+2", "2"),
            ("0.000001", "0.000001"),
            ("4.100000000", "4.1"),
        ] {
            assert_eq!(Num::parse(text).map(|n| n.to_string()), Ok(shown.to_string()), "{text}");
        }
    }

    /// The one-pass reading of usual cells must read every text it takes
    /// as the full reading does: random texts of digits, points, signs and
    /// other bytes, up to 16 long.
    #[test]
    fn the_short_reading_agrees_with_the_long_one() {
        let mut short = 0;
        for len in 0..=16 {
            for text in random_texts(b"0123456789.-+ x0099.", 11 + len as u64, len, 20_000) {
                if let Some(n) = Num::parse_short(&text) {
                    assert_eq!(Ok(n), Num::parse_long(&text), "{text:?}");
                    short += 1;
                }
                assert_eq!(Num::parse(&text), Num::parse_long(&text), "{text:?}");
            }
        }
        for text in [
            "999999999999",
            "-999999999999",
            "99999999.999",
            "0.000001",
            "12.000000",
            "+0",
            "-0.5",
        ] {
            assert_eq!(Num::parse_short(text), Num::parse_long(text).ok(), "{text:?}");
        }
        assert!(short > 20_000, "{short}");
    }

    #[test]
    fn rejects_what_is_not_plain_notation() {
        for text in ["", "-", "1e3", "1.", ".5", "1,5", " 1", "0x10", "1.2.3"] {
            assert_eq!(Num::parse(text), Err(NumError::Syntax), "{text:?}");
        }
        assert_eq!(Num::parse("0.0000001"), Err(NumError::TooPrecise));
        assert_eq!(Num::parse("99999999999999999999"), Err(NumError::Overflow));
    }

    #[test]
    fn every_number_prints_as_its_exact_decimal_without_trailing_zeros() {
        // Written out independently: integer part, six places, zeros and a
        // bare point trimmed.
        let reference = |raw: i64| {
            let abs = i128::from(raw).abs();
            let text = format!("{}.{:06}", abs / 1_000_000, abs % 1_000_000);
            let text = text.trim_end_matches('0').trim_end_matches('.');
            format!("{}{text}", if raw < 0 { "-" } else { "" })
        };
        let mut raws: Vec<i64> = (-2_000_100..=2_000_100).step_by(7).collect();
        raws.extend([
            0,
            1,
            -1,
            10,
            100_000,
            999_999,
            1_000_001,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
            i64::MAX - 1,
        ]);
        raws.extend((0..63).flat_map(|b| [1i64 << b, (1i64 << b) - 1, -(1i64 << b)]));
        raws.extend((1..=6).map(|k| 10i64.pow(k) * 1_234_567));
        // Whole numbers about the three digits written at once, and halves.
        raws.extend((-1001..=1001).flat_map(|i: i64| [i * 1_000_000, i * 1_000_000 + 500_000, i * 1_000_000 - 1]));
        // Every whole cent from -10 to 1000.10, the ones `write_to` writes digit by digit and their edges.
        raws.extend((-1_000..=100_010).map(|c: i64| c * 10_000));
        for raw in raws {
            assert_eq!(Num::from_raw(raw).to_string(), reference(raw), "{raw}");
            let mut written = b"x".to_vec();
            Num::from_raw(raw).write_to(&mut written);
            assert_eq!(written, format!("x{}", reference(raw)).into_bytes(), "{raw} written");
        }
    }

    #[test]
    fn halves_add_up_exactly() {
        let half = Num::parse("0.5").unwrap_or_default();
        let sum: Num = std::iter::repeat_n(half, 61).sum();
        assert_eq!(sum.to_string(), "30.5");
        let cents: Num = std::iter::repeat_n(Num::parse("0.01").unwrap_or_default(), 100).sum();
        assert_eq!(cents, Num::from_int(1));
    }
}
