//! Calendar dates as day numbers, strict `YYYY-MM-DD` parsing, and the month
//! arithmetic of the standard: `A − N months` clamps the day to the month's end.

use std::fmt;

/// A proleptic Gregorian date, stored as days since 1970-01-01.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Date(i32);

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Howard Hinnant's days_from_civil: the day number of a valid date.
const fn civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i32 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The years whose months' first days are tabled (`MONTH_STARTS`): the
/// dates of logs, looked up rather than computed on every row.
const TABLED_FROM: i32 = 1900;
const TABLED_YEARS: usize = 256;

/// The day number of the first of each month of the tabled years, and of
/// the month after the last (so that every month's length is a difference).
static MONTH_STARTS: [i32; TABLED_YEARS * 12 + 1] = {
    let mut t = [0; TABLED_YEARS * 12 + 1];
    let mut k = 0;
    while k < t.len() {
        t[k] = civil(TABLED_FROM + (k / 12) as i32, (k % 12) as u32 + 1, 1);
        k += 1;
    }
    t
};

impl Date {
    /// The date of a year, month (1–12) and day, if it exists.
    #[inline]
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        // A tabled year: its month's first day and length, looked up.
        if let Ok(year) = usize::try_from(y - TABLED_FROM) {
            if year < TABLED_YEARS && (1..=12).contains(&m) {
                let k = year * 12 + (m as usize - 1);
                let (Some(&start), Some(&next)) = (MONTH_STARTS.get(k), MONTH_STARTS.get(k + 1)) else {
                    unreachable!("a tabled month and the one after it are in the table")
                };
                return (1..=(next - start) as u32)
                    .contains(&d)
                    .then(|| Date(start + d as i32 - 1));
            }
        }
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) || !(1..=9999).contains(&y) {
            return None;
        }
        Some(Date(civil(y, m, d)))
    }

    /// Year, month, day.
    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i32::from(m <= 2);
        (y, m, d)
    }

    /// Strictly `YYYY-MM-DD`, a real calendar date. Every date of a log is
    /// read here first, so the ten bytes are checked and read as two words
    /// (eight bytes, then two) rather than one by one.
    #[inline]
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 {
            return None;
        }
        // Byte i of the text is byte i of the word (little-endian).
        let w = u64::from_le_bytes(b.get(..8)?.try_into().ok()?);
        let t = u64::from(u16::from_le_bytes(b.get(8..)?.try_into().ok()?));
        // `YYYY-MM-`: dashes at 4 and 7, digits elsewhere; then `DD`.
        const DASHES: u64 = 0x2d00_002d_0000_0000;
        const AT_DASHES: u64 = 0xff00_00ff_0000_0000;
        const HIGH: u64 = 0x00f0_f000_f0f0_f0f0;
        const LOW: u64 = 0x000f_0f00_0f0f_0f0f;
        // A byte is a digit when its high half is 3 and its low half plus 6
        // stays below 16 (no byte's sum carries into the next).
        let digits = |w: u64, high: u64, low: u64| {
            w & high == 0x3030_3030_3030_3030 & high
                && ((w & low) + (0x0606_0606_0606_0606 & low)) & (high & 0x1010_1010_1010_1010) == 0
        };
        if w & AT_DASHES != DASHES || !digits(w, HIGH, LOW) || !digits(t, 0xf0f0, 0x0f0f) {
            return None;
        }
        // Each digit's value in its byte; then every byte holds ten times its
        // digit plus the next byte's (at most 99: no byte carries), so bytes
        // 0 and 2 hold the year's two halves and byte 5 the month.
        let v = w & LOW;
        let pairs = v * 10 + (v >> 8);
        let byte = |i: u32| ((pairs >> (8 * i)) & 0xff) as u32;
        let y = byte(0) * 100 + byte(2);
        let d = ((t & 0x0f) * 10 + ((t >> 8) & 0x0f)) as u32;
        Date::from_ymd(y as i32, byte(5), d)
    }

    /// A date in a data file, as spreadsheets write it: `YYYY-MM-DD`, or
    /// `YYYY/M/D` and `YYYY-M-D` (one- or two-digit month and day), each
    /// optionally followed by a time (`2026-03-05 10:00:00`,
    /// `2026-03-05T10:00:00Z`, `…+08:00`). The date is taken as written: no
    /// time-zone conversion. Day- or month-first forms (`3/5/2026`) are
    /// ambiguous and never accepted.
    #[inline]
    pub fn parse_data(s: &str) -> Option<Date> {
        match Date::parse(s) {
            Some(d) => Some(d),
            None => Date::parse_other(s),
        }
    }

    /// `parse_data` of a date not strictly `YYYY-MM-DD`.
    #[inline(never)]
    fn parse_other(s: &str) -> Option<Date> {
        let s = s.trim_matches(' ');
        let (date, time) = match s.find([' ', 'T']) {
            Some(i) => (s.get(..i)?, Some(s.get(i + 1..)?.trim_start_matches(' '))),
            None => (s, None),
        };
        let sep = if date.contains('/') { '/' } else { '-' };
        let mut parts = date.split(sep);
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        let number = |t: &str, widths: std::ops::RangeInclusive<usize>| -> Option<u32> {
            (widths.contains(&t.len()) && t.bytes().all(|c| c.is_ascii_digit())).then(|| t.parse().ok())?
        };
        if parts.next().is_some() || y.len() != 4 {
            return None;
        }
        if let Some(t) = time {
            valid_time(t)?;
        }
        Date::from_ymd(number(y, 4..=4)? as i32, number(m, 1..=2)?, number(d, 1..=2)?)
    }

    /// `self − n months`, the day clamped to the end of the target month.
    pub fn minus_months(self, n: u32) -> Date {
        let (y, m, d) = self.ymd();
        // In i64: a window may be up to `u32::MAX` months long.
        let total = i64::from(y) * 12 + i64::from(m) - 1 - i64::from(n);
        let (ty, tm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
        // Far before year 1, like any year before it: before every date a log can hold.
        let ty = i32::try_from(ty).unwrap_or(0);
        let td = d.min(days_in_month(ty, tm));
        Date::from_ymd(ty, tm, td).unwrap_or(Date(i32::MIN / 2))
    }

    pub fn next_day(self) -> Date {
        Date(self.0 + 1)
    }

    /// Months since year 0: consecutive calendar months differ by one.
    pub fn month_index(self) -> i32 {
        // A tabled month: estimated from the mean month (146,097 days in 4,800
        // months), then put right against the table, a step at most.
        let first = MONTH_STARTS.first().copied().expect("the table has months");
        let end = MONTH_STARTS.last().copied().expect("the table has months");
        if (first..end).contains(&self.0) {
            let mut k = ((i64::from(self.0 - first) * 4_800 / 146_097) as usize).min(MONTH_STARTS.len() - 2);
            let start = |k: usize| *MONTH_STARTS.get(k).expect("a tabled month is in the table");
            while start(k + 1) <= self.0 {
                k += 1;
            }
            while start(k) > self.0 {
                k -= 1;
            }
            return TABLED_FROM * 12 + k as i32;
        }
        let (y, m, _) = self.ymd();
        y * 12 + m as i32 - 1
    }

    pub fn days(self) -> i32 {
        self.0
    }

    pub fn from_days(days: i32) -> Date {
        Date(days)
    }
}

/// The forms `Date::parse_data` accepts, for messages.
pub const DATA_FORMS: &str = "2026-03-05, 2026/3/5, 2026-3-5, 2026-03-05 10:00:00 or 2026-03-05T10:00:00Z";

/// `HH:MM[:SS[.fff]]`, then optionally `Z` or an offset `±HH:MM` / `±HHMM`.
fn valid_time(t: &str) -> Option<()> {
    let (clock, zone) = match t.find(['Z', 'z', '+', '-']) {
        Some(i) => (t.get(..i)?, t.get(i..)?),
        None => (t, ""),
    };
    let two = |p: &str, max: u32| {
        (p.len() == 2 && p.bytes().all(|c| c.is_ascii_digit()) && p.parse::<u32>().ok()? <= max).then_some(())
    };
    let mut hms = clock.split(':');
    // Excel writes `2026/3/5 0:00`: the hour may have one digit.
    let hour = hms.next()?;
    let hour = if hour.len() == 1 {
        format!("0{hour}")
    } else {
        hour.to_string()
    };
    two(&hour, 23)?;
    two(hms.next()?, 59)?;
    if let Some(sec) = hms.next() {
        let (whole, frac) = sec.split_once('.').unwrap_or((sec, "0"));
        two(whole, 60)?;
        (!frac.is_empty() && frac.bytes().all(|c| c.is_ascii_digit())).then_some(())?;
    }
    if hms.next().is_some() {
        return None;
    }
    match zone {
        "" | "Z" | "z" => Some(()),
        z => {
            let digits = z.get(1..)?.replace(':', "");
            (digits.len() == 4).then_some(())?;
            two(digits.get(..2)?, 23)?;
            two(digits.get(2..)?, 59)
        }
    }
}

/// A date in JSON: its text, `"2026-03-05"`.
impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A look-back window `(A − N months, A]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The last date outside the window: `A − N months`.
    pub after: Date,
    /// The as-of date, the window's last day.
    pub until: Date,
}

impl Window {
    pub fn months_to(as_of: Date, months: u32) -> Window {
        Window {
            after: as_of.minus_months(months),
            until: as_of,
        }
    }

    pub fn contains(self, d: Date) -> bool {
        self.after < d && d <= self.until
    }

    /// The window's first day, `A − N months + 1 day`.
    pub fn first_day(self) -> Date {
        self.after.next_day()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_day_is_in_the_month_its_calendar_date_says() {
        // Every day of the tabled years and a few years either side, and far off.
        let first = civil(TABLED_FROM - 3, 1, 1);
        let last = civil(TABLED_FROM + TABLED_YEARS as i32 + 3, 1, 1);
        for day in (first..last).chain([civil(1, 1, 1), civil(9999, 12, 31), -800_000, 3_000_000]) {
            let (y, m, _) = Date(day).ymd();
            assert_eq!(Date(day).month_index(), y * 12 + m as i32 - 1, "{}", Date(day));
        }
    }

    #[test]
    fn a_tabled_year_gives_the_date_the_formula_gives() {
        let computed = |y: i32, m: u32, d: u32| {
            ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m) && (1..=9999).contains(&y))
                .then(|| Date(civil(y, m, d)))
        };
        let last = TABLED_FROM + TABLED_YEARS as i32;
        for y in (TABLED_FROM - 3..=last + 3).chain([1, 400, 1600, 1899, 9999, 10_000, 0, -1]) {
            for m in 0..=13 {
                for d in 0..=32 {
                    let date = Date::from_ymd(y, m, d);
                    assert_eq!(date, computed(y, m, d), "{y}-{m}-{d}");
                    if let Some(date) = date {
                        assert_eq!(date.ymd(), (y, m, d));
                    }
                }
            }
        }
    }

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap_or_default()
    }

    #[test]
    fn round_trips_every_day_of_four_centuries() {
        let start = d("1900-01-01").days();
        for n in start..start + 146_097 {
            let date = Date::from_days(n);
            let (y, m, dd) = date.ymd();
            assert_eq!(Date::from_ymd(y, m, dd), Some(date));
            assert_eq!(Date::parse(&date.to_string()), Some(date));
        }
    }

    #[test]
    fn parses_strictly() {
        assert_eq!(d("2026-03-05").to_string(), "2026-03-05");
        for bad in [
            "2026-13-01",
            "2026-02-29",
            "2026-3-05",
            "2026/03/05",
            "20260305",
            " 2026-03-05",
            "2026-03-05 ",
            "２０２６-03-05",
            "0000-01-01",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert!(Date::parse("2024-02-29").is_some());
    }

    /// `parse` reads ten bytes as words; it must agree with reading them one
    /// by one on every text one byte away from a date, whatever the byte.
    #[test]
    fn parse_by_words_agrees_with_parse_by_bytes_one_byte_from_a_date() {
        let by_bytes = |s: &str| -> Option<Date> {
            let b = s.as_bytes();
            if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
                return None;
            }
            let digits = |r: std::ops::Range<usize>| -> Option<u32> {
                b.get(r)?.iter().try_fold(0u32, |acc, &c| {
                    c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
                })
            };
            Date::from_ymd(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)
        };
        let mut accepted = 0;
        for base in [
            "2026-03-05",
            "2024-02-29",
            "1999-12-31",
            "0001-01-01",
            "9999-12-31",
            "2155-11-30",
        ] {
            for at in 0..10 {
                for byte in 0..=127u8 {
                    let mut text = base.as_bytes().to_vec();
                    text[at] = byte;
                    let text = String::from_utf8(text).expect("ASCII");
                    let parsed = Date::parse(&text);
                    assert_eq!(parsed, by_bytes(&text), "{text:?}");
                    accepted += usize::from(parsed.is_some());
                }
            }
            // A character of two bytes in place of one byte is no digit.
            for at in 0..9 {
                let text = format!("{}é{}", &base[..at], &base[at + 1..9]);
                assert_eq!(Date::parse(&text), None, "{text:?}");
            }
        }
        // Each base date, and the digits that keep it a date.
        assert!(accepted > 6 * 10, "{accepted}");
        // Every year, and every two digits of month and day of a leap year,
        // a century year and a year of the 400s: the digits combined as the
        // bytes are read.
        let mut texts: Vec<String> = (0..10_000)
            .flat_map(|y| ["01-01", "12-31", "02-29", "09-30"].map(|md| format!("{y:04}-{md}")))
            .collect();
        for y in ["2024", "1900", "2000", "0400", "9999"] {
            texts.extend((0..100).flat_map(|m| (0..100).map(move |d| format!("{y}-{m:02}-{d:02}"))));
        }
        let mut accepted = 0;
        for text in &texts {
            let parsed = Date::parse(text);
            assert_eq!(parsed, by_bytes(text), "{text:?}");
            accepted += usize::from(parsed.is_some());
        }
        assert!(accepted > 10_000 * 3, "{accepted}");
    }

    #[test]
    fn item_07_excel_date_spellings_are_read_as_written() {
        for (text, want) in [
            ("2026-03-05", "2026-03-05"),
            ("2026/3/5", "2026-03-05"),
            ("2026/03/05", "2026-03-05"),
            ("2026-3-5", "2026-03-05"),
            ("2026-03-05 10:00:00", "2026-03-05"),
            ("2026-03-05 10:00", "2026-03-05"),
            ("2026/3/5 08:00", "2026-03-05"),
            ("2026/3/5 0:00", "2026-03-05"),
            ("2026/3/5 9:30:00", "2026-03-05"),
            ("2026-03-05T10:00:00Z", "2026-03-05"),
            ("2026-03-05T23:30:00.123+08:00", "2026-03-05"),
            ("2026-03-05T23:30:00-0500", "2026-03-05"),
        ] {
            assert_eq!(
                Date::parse_data(text).map(|d| d.to_string()),
                Some(want.to_string()),
                "{text}"
            );
        }
        for bad in [
            "3/5/2026",
            "05/03/2026",
            "2026-13-01",
            "2026/2/30",
            "26-03-05",
            "2026-03-05 25:00:00",
            "2026-03-05T10",
            "2026-03/05",
            "2026-03-05 10:00:00 PM",
            "",
        ] {
            assert_eq!(Date::parse_data(bad), None, "{bad}");
        }
    }

    #[test]
    fn month_arithmetic_clamps_to_month_end() {
        assert_eq!(d("2026-03-31").minus_months(1), d("2026-02-28"));
        assert_eq!(d("2024-03-31").minus_months(1), d("2024-02-29"));
        assert_eq!(d("2024-02-29").minus_months(12), d("2023-02-28"));
        assert_eq!(d("2026-01-15").minus_months(36), d("2023-01-15"));
        assert_eq!(d("2026-05-31").minus_months(3), d("2026-02-28"));
    }

    #[test]
    fn window_is_half_open() {
        let w = Window::months_to(d("2026-06-30"), 12);
        assert!(!w.contains(d("2025-06-30")));
        assert!(w.contains(d("2025-07-01")));
        assert!(w.contains(d("2026-06-30")));
        assert!(!w.contains(d("2026-07-01")));
        assert_eq!(w.first_day(), d("2025-07-01"));
    }
}
