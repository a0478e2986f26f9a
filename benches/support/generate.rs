//! Bench support: a seeded generator of synthetic event logs for the
//! published standard — a realistic mix of kinds, rows interleaved across
//! customers, some events after the as-of date, a roster with classes and
//! `since` dates. The same seed always gives the same bytes.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use rulebook::date::Date;
use rulebook::num::Num;

use super::reference::{Event, Kind, Reach};

/// SplitMix64: a tiny, well-mixed PRNG, enough for synthetic data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `p` percent (fractions allowed).
    pub fn chance(&mut self, percent: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 100.0 < percent
    }

    /// Picks by integer weights.
    pub fn weighted<T: Copy>(&mut self, table: &[(u32, T)]) -> T {
        let sum: u32 = table.iter().map(|&(w, _)| w).sum();
        let mut r = self.below(u64::from(sum)) as u32;
        for &(w, v) in table {
            if r < w {
                return v;
            }
            r -= w;
        }
        table[table.len() - 1].1
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Config {
    pub customers: u64,
    pub seed: u64,
    /// Dates spread over the four years before this day (and a few after).
    pub as_of: Date,
}

impl Config {
    pub fn new(customers: u64, seed: u64) -> Config {
        Config {
            customers,
            seed,
            as_of: Date::parse("2026-06-30").unwrap_or_default(),
        }
    }
}

/// One generated log row. Absent attributes are `None` (empty cells);
/// `padded` writes the int/decimal/bool cells with surrounding spaces.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub customer: String,
    pub date: Date,
    pub kind: &'static str,
    pub months: Option<u32>,
    pub verified: Option<bool>,
    pub reach: Option<&'static str>,
    pub persons: Option<u32>,
    pub dimension: Option<&'static str>,
    pub score: Option<Num>,
    pub padded: bool,
}

/// One roster row: `class` `None` is an empty cell (the default class).
#[derive(Clone, Debug, PartialEq)]
pub struct RosterRow {
    pub customer: String,
    pub class: Option<&'static str>,
    pub since: Option<Date>,
}

pub const HEADER: &str = "customer,date,kind,months,verified,reach,persons,dimension,score";

impl Row {
    /// The row as the reference's typed event, with its (file, line) order.
    pub fn to_event(&self, file: u32, line: u64) -> Event {
        Event {
            customer: self.customer.clone(),
            date: self.date,
            kind: Kind::from_name(self.kind.as_bytes()),
            months: self.months,
            verified: self.verified,
            reach: self.reach.map(|r| {
                if r == "branch" {
                    Reach::Branch
                } else {
                    Reach::Substation
                }
            }),
            persons: self.persons,
            dimension: self.dimension.map(str::to_string),
            score: self.score,
            order: (file, line),
        }
    }

    /// The row as a CSV line (no newline) under [`HEADER`].
    pub fn write_csv(&self, out: &mut String) {
        let pad = |out: &mut String, cell: Option<String>| {
            if let Some(c) = cell {
                if self.padded {
                    let _ = write!(out, " {c} ");
                } else {
                    out.push_str(&c);
                }
            }
        };
        let _ = write!(out, "{},{},{},", self.customer, self.date, self.kind);
        pad(out, self.months.map(|m| m.to_string()));
        out.push(',');
        pad(out, self.verified.map(|v| v.to_string()));
        out.push(',');
        out.push_str(self.reach.unwrap_or(""));
        out.push(',');
        pad(out, self.persons.map(|p| p.to_string()));
        out.push(',');
        out.push_str(self.dimension.unwrap_or(""));
        out.push(',');
        pad(out, self.score.map(|s| s.to_string()));
    }

    /// The row as a JSON Lines object (absent attributes left out).
    pub fn to_json(&self) -> String {
        let mut out = format!(
            "{{\"customer\":{},\"date\":\"{}\",\"kind\":\"{}\"",
            serde_json::to_string(&self.customer).unwrap_or_default(),
            self.date,
            self.kind
        );
        if let Some(m) = self.months {
            let _ = write!(out, ",\"months\":{m}");
        }
        if let Some(v) = self.verified {
            let _ = write!(out, ",\"verified\":{v}");
        }
        if let Some(r) = self.reach {
            let _ = write!(out, ",\"reach\":\"{r}\"");
        }
        if let Some(p) = self.persons {
            let _ = write!(out, ",\"persons\":{p}");
        }
        if let Some(d) = self.dimension {
            let _ = write!(out, ",\"dimension\":\"{d}\"");
        }
        if let Some(s) = self.score {
            let _ = write!(out, ",\"score\":{s}");
        }
        out.push('}');
        out
    }
}

/// Customers are generated in batches of this many; rows are shuffled within
/// a batch, so a customer's rows lie scattered among ~10,000 others'.
const BATCH: u64 = 1024;

/// A bijection of `0..n` (i ↦ a·i + b mod n), so ids appear out of order.
fn permute(i: u64, n: u64, seed: u64) -> u64 {
    if n <= 1 {
        return 0;
    }
    let mut a = (seed | 1).wrapping_mul(0x9e37_79b9) % n;
    while a == 0 || gcd(a, n) != 1 {
        a = (a + 1) % n;
    }
    ((u128::from(a) * u128::from(i) + u128::from(seed % n)) % u128::from(n)) as u64
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn customer_id(n: u64, customers: u64) -> String {
    let width = customers.saturating_sub(1).to_string().len().max(8);
    format!("C{n:0width$}")
}

/// Per-customer facts, drawn from the customer's own stream.
struct Profile {
    id: String,
    /// `None`: not on the roster.
    roster: Option<RosterRow>,
    lighting: bool,
    /// No events at all (a roster customer is still scored).
    silent: bool,
}

fn customer_rng(cfg: &Config, i: u64) -> Rng {
    let mut r = Rng::new(cfg.seed ^ i.wrapping_mul(0xd6e8_feb8_6659_fd93));
    r.next_u64();
    r
}

fn profile(cfg: &Config, i: u64) -> Profile {
    let mut r = customer_rng(cfg, i);
    let id = customer_id(permute(i, cfg.customers, cfg.seed), cfg.customers);
    let lighting = r.chance(20.0);
    let on_roster = !r.chance(3.0);
    let class = if lighting {
        Some("lighting")
    } else if r.chance(2.0) {
        None // an empty class cell: the default class, power
    } else {
        Some("power")
    };
    let since = r
        .chance(30.0)
        .then(|| Date::from_days(cfg.as_of.days() - 200 - r.below(5 * 365) as i32));
    let silent = on_roster && r.chance(1.0);
    let roster = on_roster.then(|| RosterRow {
        customer: id.clone(),
        class,
        since,
    });
    // Off the roster a customer is power, whatever was drawn.
    Profile {
        id,
        lighting: lighting && on_roster,
        roster,
        silent,
    }
}

/// A date uniformly in the four years before the as-of date.
fn some_day(r: &mut Rng, as_of: Date) -> Date {
    Date::from_days(as_of.days() - r.below(4 * 365) as i32)
}

const SCORES: [(u32, &str); 14] = [
    (12, "5"),
    (14, "4.5"),
    (18, "4"),
    (12, "3.5"),
    (16, "3"),
    (6, "2.25"),
    (6, "2"),
    (4, "1.5"),
    (3, "4.75"),
    (3, "3.25"),
    (2, "0"),
    (1, "6"),
    (1, "-1"),
    (1, "5.5"),
];

/// A row without attributes; ~3% of rows are moved after the as-of date.
fn bare(r: &mut Rng, p: &Profile, as_of: Date, date: Date, kind: &'static str) -> Row {
    let date = if r.chance(3.0) {
        Date::from_days(as_of.days() + 1 + r.below(90) as i32)
    } else {
        date
    };
    Row {
        customer: p.id.clone(),
        date,
        kind,
        months: None,
        verified: None,
        reach: None,
        persons: None,
        dimension: None,
        score: None,
        padded: r.chance(0.5),
    }
}

/// The kinds besides arrears and assessments: (percent of customers with
/// one, kind). Lighting customers draw only the payment and legal ones.
const OTHERS: [(f64, &str, bool); 17] = [
    (4.0, "wrong_account", true),
    (4.0, "defaulter_tip", true),
    (8.0, "safety_accident", false),
    (7.0, "cascade_trip", false),
    (1.5, "concealed_accident", false),
    (5.0, "unqualified_electrician", false),
    (8.0, "management_deficiency", false),
    (0.5, "theft", true),
    (7.0, "breach", true),
    (1.5, "obstruction", true),
    (0.3, "facility_damage", true),
    (3.0, "police_cooperation", true),
    (4.0, "contract_bad_faith", false),
    (4.0, "test_noncooperation", false),
    (4.0, "inspection_refusal", false),
    (4.0, "rectification_overdue", false),
    (4.0, "dispatch_violation", false),
];

/// One customer's rows.
fn customer_rows(cfg: &Config, i: u64, p: &Profile, out: &mut Vec<Row>) {
    if p.silent {
        return;
    }
    let mut r = customer_rng(cfg, i ^ 0x5555_5555_5555_5555);
    let r = &mut r;
    let as_of = cfg.as_of;
    let (ay, am, _) = as_of.ymd();

    // Arrears come in runs of consecutive months: 1 arrears a month, now and
    // then 2; `months` mostly 1.
    let runs = r.weighted(&[(14, 0), (24, 1), (26, 2), (18, 3), (11, 4), (7, 6)]);
    for _ in 0..runs {
        let start = r.below(48) as i32; // months back from the as-of month
        let length = r.weighted(&[(58, 1), (25, 2), (11, 3), (4, 4), (2, 6)]);
        for k in 0..length {
            let back = start - k;
            if back < 0 {
                break;
            }
            let total = ay * 12 + am as i32 - 1 - back;
            let (y, m) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
            for _ in 0..r.weighted(&[(9, 1), (1, 2)]) {
                let day = 1 + r.below(28) as u32;
                let date = Date::from_ymd(y, m, day).unwrap_or(as_of);
                let mut row = bare(r, p, as_of, date, "arrears");
                row.months = Some(r.weighted(&[(78, 1), (12, 2), (6, 3), (3, 4), (1, 6)]));
                out.push(row);
            }
        }
    }

    // Field assessments for most power customers, a few per dimension over
    // the four years; some on equal dates (the later row wins).
    if !p.lighting && r.chance(90.0) {
        for dimension in ["operations", "development"] {
            for _ in 0..1 + r.below(5) {
                let date = some_day(r, as_of);
                let n = if r.chance(5.0) { 2 } else { 1 };
                for _ in 0..n {
                    let mut row = bare(r, p, as_of, date, "assessment");
                    row.dimension = Some(dimension);
                    row.score = Num::parse(r.weighted(&SCORES)).ok();
                    out.push(row);
                }
            }
        }
        if r.chance(2.0) {
            let date = some_day(r, as_of);
            let mut row = bare(r, p, as_of, date, "assessment");
            row.dimension = Some("marketing"); // names no assessed dimension: ignored
            row.score = Num::parse("4").ok();
            out.push(row);
        }
    }

    for &(percent, kind, lighting_too) in &OTHERS {
        if p.lighting && !lighting_too {
            continue;
        }
        if !r.chance(percent) {
            continue;
        }
        let n = r.weighted(&[(80, 1), (15, 2), (5, 3)]);
        for _ in 0..n {
            let date = some_day(r, as_of);
            let mut row = bare(r, p, as_of, date, kind);
            match kind {
                "defaulter_tip" => row.verified = Some(r.chance(70.0)),
                "cascade_trip" => row.reach = Some(if r.chance(75.0) { "branch" } else { "substation" }),
                "unqualified_electrician" => row.persons = r.chance(60.0).then(|| 1 + r.below(4) as u32),
                _ => {}
            }
            out.push(row);
        }
    }

    // A kind the standard does not declare: skipped, counted, customer scored.
    if r.chance(1.0) {
        let date = some_day(r, as_of);
        out.push(bare(r, p, as_of, date, "meter_reading"));
    }
}

/// Generates the log batch by batch: `f` gets each batch's rows, already
/// shuffled. Memory is one batch.
pub fn for_each_batch(cfg: &Config, mut f: impl FnMut(&[Row])) {
    let mut rows = Vec::new();
    let mut batch = 0;
    while batch * BATCH < cfg.customers {
        rows.clear();
        for i in batch * BATCH..((batch + 1) * BATCH).min(cfg.customers) {
            let p = profile(cfg, i);
            customer_rows(cfg, i, &p, &mut rows);
        }
        let mut r = Rng::new(cfg.seed ^ batch.wrapping_mul(0xa076_1d64_78bd_642f) ^ 0x1234);
        for k in (1..rows.len()).rev() {
            rows.swap(k, r.below(k as u64 + 1) as usize);
        }
        f(&rows);
        batch += 1;
    }
}

/// The roster rows, in generation order (ids out of order).
pub fn for_each_roster_row(cfg: &Config, mut f: impl FnMut(&RosterRow)) {
    for i in 0..cfg.customers {
        if let Some(row) = profile(cfg, i).roster {
            f(&row);
        }
    }
}

/// The whole log and roster in memory (for differential tests).
pub fn generate(cfg: &Config) -> (Vec<Row>, Vec<RosterRow>) {
    let mut rows = Vec::new();
    for_each_batch(cfg, |b| rows.extend_from_slice(b));
    let mut roster = Vec::new();
    for_each_roster_row(cfg, |r| roster.push(r.clone()));
    (rows, roster)
}

/// What [`write_files`] wrote.
#[derive(Clone, Copy, Debug, Default)]
pub struct Written {
    pub rows: u64,
    pub bytes: u64,
    pub roster_rows: u64,
}

/// Writes the log as CSV under [`HEADER`] and, if asked, the roster as
/// `customer,class,since`.
pub fn write_files(cfg: &Config, events: &Path, roster: Option<&Path>) -> io::Result<Written> {
    let mut w = Written::default();
    let mut out = BufWriter::with_capacity(1 << 20, File::create(events)?);
    writeln!(out, "{HEADER}")?;
    w.bytes += HEADER.len() as u64 + 1;
    let mut result = Ok(());
    let mut line = String::new();
    for_each_batch(cfg, |rows| {
        for row in rows {
            line.clear();
            row.write_csv(&mut line);
            line.push('\n');
            if result.is_ok() {
                result = out.write_all(line.as_bytes());
            }
            w.rows += 1;
            w.bytes += line.len() as u64;
        }
    });
    result?;
    out.flush()?;
    if let Some(path) = roster {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
        writeln!(out, "customer,class,since")?;
        let mut result = Ok(());
        for_each_roster_row(cfg, |r| {
            let since = r.since.map(|d| d.to_string()).unwrap_or_default();
            if result.is_ok() {
                result = writeln!(out, "{},{},{since}", r.customer, r.class.unwrap_or(""));
            }
            w.roster_rows += 1;
        });
        result?;
        out.flush()?;
    }
    Ok(w)
}

/// Writes roster rows as CSV (for tests that build their own).
pub fn write_roster(path: &Path, rows: &[RosterRow]) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(out, "customer,class,since")?;
    for r in rows {
        writeln!(
            out,
            "{},{},{}",
            r.customer,
            r.class.unwrap_or(""),
            r.since.map(|d| d.to_string()).unwrap_or_default()
        )?;
    }
    out.flush()
}

/// Writes rows as a CSV log (for tests that build their own).
pub fn write_rows(path: &Path, rows: &[Row]) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(out, "{HEADER}")?;
    let mut line = String::new();
    for row in rows {
        line.clear();
        row.write_csv(&mut line);
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}
