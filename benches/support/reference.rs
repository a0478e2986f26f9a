//! Bench support: the published standard hard-coded in plain Rust, exactly as
//! `interpretation.md` reads it, without the rulebook language. It is the
//! independent oracle of the differential tests and the benchmark's baseline.
//!
//! Two paths, which the tests hold equal:
//! - [`score_customer`]: one customer's events in a slice, each clause read
//!   off the text as directly as possible (the oracle);
//! - [`score_files`]: a streaming scorer of CSV logs that folds every event
//!   into a small per-customer accumulator (episodes become a month bitmask),
//!   on all cores, with memory per customer rather than per event.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use rulebook::date::{Date, Window};
use rulebook::num::Num;

// ── Vocabulary ──────────────────────────────────────────────────────────────

/// An event kind of the published standard; `Unknown` is any other kind
/// (skipped, but its customer is still scored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Arrears,
    WrongAccount,
    DefaulterTip,
    SafetyAccident,
    CascadeTrip,
    ConcealedAccident,
    UnqualifiedElectrician,
    ManagementDeficiency,
    Theft,
    Breach,
    Obstruction,
    FacilityDamage,
    PoliceCooperation,
    ContractBadFaith,
    TestNoncooperation,
    InspectionRefusal,
    RectificationOverdue,
    DispatchViolation,
    Assessment,
    Unknown,
}

impl Kind {
    /// The declared kinds, in `interpretation.md`'s order.
    pub const DECLARED: [Kind; 19] = [
        Kind::Arrears,
        Kind::WrongAccount,
        Kind::DefaulterTip,
        Kind::SafetyAccident,
        Kind::CascadeTrip,
        Kind::ConcealedAccident,
        Kind::UnqualifiedElectrician,
        Kind::ManagementDeficiency,
        Kind::Theft,
        Kind::Breach,
        Kind::Obstruction,
        Kind::FacilityDamage,
        Kind::PoliceCooperation,
        Kind::ContractBadFaith,
        Kind::TestNoncooperation,
        Kind::InspectionRefusal,
        Kind::RectificationOverdue,
        Kind::DispatchViolation,
        Kind::Assessment,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Arrears => "arrears",
            Kind::WrongAccount => "wrong_account",
            Kind::DefaulterTip => "defaulter_tip",
            Kind::SafetyAccident => "safety_accident",
            Kind::CascadeTrip => "cascade_trip",
            Kind::ConcealedAccident => "concealed_accident",
            Kind::UnqualifiedElectrician => "unqualified_electrician",
            Kind::ManagementDeficiency => "management_deficiency",
            Kind::Theft => "theft",
            Kind::Breach => "breach",
            Kind::Obstruction => "obstruction",
            Kind::FacilityDamage => "facility_damage",
            Kind::PoliceCooperation => "police_cooperation",
            Kind::ContractBadFaith => "contract_bad_faith",
            Kind::TestNoncooperation => "test_noncooperation",
            Kind::InspectionRefusal => "inspection_refusal",
            Kind::RectificationOverdue => "rectification_overdue",
            Kind::DispatchViolation => "dispatch_violation",
            Kind::Assessment => "assessment",
            Kind::Unknown => "?",
        }
    }

    /// The kind named exactly so (no trimming, case-sensitive).
    pub fn from_name(name: &[u8]) -> Kind {
        match name {
            b"arrears" => Kind::Arrears,
            b"wrong_account" => Kind::WrongAccount,
            b"defaulter_tip" => Kind::DefaulterTip,
            b"safety_accident" => Kind::SafetyAccident,
            b"cascade_trip" => Kind::CascadeTrip,
            b"concealed_accident" => Kind::ConcealedAccident,
            b"unqualified_electrician" => Kind::UnqualifiedElectrician,
            b"management_deficiency" => Kind::ManagementDeficiency,
            b"theft" => Kind::Theft,
            b"breach" => Kind::Breach,
            b"obstruction" => Kind::Obstruction,
            b"facility_damage" => Kind::FacilityDamage,
            b"police_cooperation" => Kind::PoliceCooperation,
            b"contract_bad_faith" => Kind::ContractBadFaith,
            b"test_noncooperation" => Kind::TestNoncooperation,
            b"inspection_refusal" => Kind::InspectionRefusal,
            b"rectification_overdue" => Kind::RectificationOverdue,
            b"dispatch_violation" => Kind::DispatchViolation,
            b"assessment" => Kind::Assessment,
            _ => Kind::Unknown,
        }
    }
}

/// `cascade_trip.reach`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    Branch,
    Substation,
}

/// A class of customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Class {
    #[default]
    Power,
    Lighting,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Power => "power",
            Class::Lighting => "lighting",
        }
    }
}

/// One row of a log, typed. `order` is (file index, line): the later row
/// wins an equal-date assessment tie. Any key that grows with the row's
/// position in its file (a byte offset) orders the same way.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub customer: String,
    pub date: Date,
    pub kind: Kind,
    pub months: Option<u32>,
    pub verified: Option<bool>,
    pub reach: Option<Reach>,
    pub persons: Option<u32>,
    pub dimension: Option<String>,
    pub score: Option<Num>,
    pub order: (u32, u64),
}

impl Event {
    /// An event without attributes; panics on a malformed date (tests only).
    pub fn new(customer: &str, date: &str, kind: Kind) -> Event {
        Event {
            customer: customer.to_string(),
            date: Date::parse(date).unwrap_or_else(|| panic!("bad date {date}")),
            kind,
            months: None,
            verified: None,
            reach: None,
            persons: None,
            dimension: None,
            score: None,
            order: (0, 0),
        }
    }
    pub fn months(mut self, m: u32) -> Event {
        self.months = Some(m);
        self
    }
    pub fn verified(mut self, v: bool) -> Event {
        self.verified = Some(v);
        self
    }
    pub fn reach(mut self, r: Reach) -> Event {
        self.reach = Some(r);
        self
    }
    pub fn persons(mut self, p: u32) -> Event {
        self.persons = Some(p);
        self
    }
    /// An assessment's dimension and score (`"4.5"`).
    pub fn assess(mut self, dimension: &str, score: &str) -> Event {
        self.dimension = Some(dimension.to_string());
        self.score = Some(Num::parse(score).unwrap_or_else(|e| panic!("bad score {score}: {e}")));
        self
    }
    pub fn at(mut self, file: u32, line: u64) -> Event {
        self.order = (file, line);
        self
    }
}

/// A customer's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    pub class: Class,
    pub total: Num,
    pub grade: &'static str,
    pub dims: Vec<(&'static str, Num)>,
    pub flags: Vec<String>,
}

impl Scored {
    pub fn dim(&self, name: &str) -> Option<Num> {
        self.dims.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
    }
}

// ── The oracle: one customer, clause by clause ──────────────────────────────

fn pts(n: i64) -> Num {
    Num::from_int(n)
}

fn half() -> Num {
    Num::from_raw(500_000)
}

/// History covers a window when `since` is on or before its first day; no
/// `since` means covered.
fn covered(since: Option<Date>, w: Window) -> bool {
    since.is_none_or(|s| s <= w.first_day())
}

/// P1–P3 points for one episode of the given severity.
fn episode_points(severity: u32) -> i64 {
    match severity {
        0 => 0,
        1 => 10,
        2 => 20,
        _ => 30,
    }
}

/// Scores one customer's events as of `as_of`, following `interpretation.md`.
/// The events may be in any order and may include other customers' events
/// (they are not filtered: pass only this customer's).
pub fn score_customer(class: Class, since: Option<Date>, as_of: Date, events: &[Event]) -> Scored {
    let period = Window::months_to(as_of, 12);
    let in_period = |k: Kind| events.iter().filter(move |e| e.kind == k && period.contains(e.date));
    let count = |k: Kind| in_period(k).count() as i64;

    // Item 3 — payment.
    let mut payment = Num::ZERO;
    // P1–P3: calendar months of the period holding arrears, with the longest
    // `months` of each; episodes are runs of consecutive months.
    let mut worst: BTreeMap<i32, u32> = BTreeMap::new();
    for e in in_period(Kind::Arrears) {
        let w = worst.entry(e.date.month_index()).or_insert(0);
        *w = (*w).max(e.months.unwrap_or(1));
    }
    let mut runs: Vec<(i32, u32, u32)> = Vec::new(); // (last month, length, longest months)
    for (&month, &longest) in &worst {
        match runs.last_mut() {
            Some(run) if run.0 + 1 == month => *run = (month, run.1 + 1, run.2.max(longest)),
            _ => runs.push((month, 1, longest)),
        }
    }
    for &(_, length, longest) in &runs {
        payment = payment - pts(episode_points(length.max(longest)));
    }
    // P4
    payment += half().times(in_period(Kind::Arrears).filter(|e| e.months == Some(1)).count() as i64);
    // P5, P6
    payment = payment - pts(10).times(count(Kind::WrongAccount));
    payment += pts(10).times(
        in_period(Kind::DefaulterTip)
            .filter(|e| e.verified == Some(true))
            .count() as i64,
    );
    // P7: the 12-month window is the period itself.
    if count(Kind::Arrears) == 0 && covered(since, period) {
        payment += pts(5);
    }

    // Item 4 — safety.
    let mut safety = Num::ZERO;
    safety = safety - pts(5).times(count(Kind::SafetyAccident)); // S1
    let branch = in_period(Kind::CascadeTrip)
        .filter(|e| e.reach == Some(Reach::Branch))
        .count();
    safety = safety
        - pts(match branch {
            0 => 0,
            1 => 10,
            _ => 20,
        }); // S2, S3
    let substation = in_period(Kind::CascadeTrip)
        .filter(|e| e.reach == Some(Reach::Substation))
        .count();
    safety = safety - pts(20).times(substation as i64); // S4
    safety = safety - pts(10).times(count(Kind::ConcealedAccident)); // S5
    for e in in_period(Kind::UnqualifiedElectrician) {
        safety = safety - pts(5).times(i64::from(e.persons.unwrap_or(1))); // S6
    }
    if count(Kind::ManagementDeficiency) > 0 {
        safety = safety - pts(5); // S7
    }
    let three_years = Window::months_to(as_of, 36);
    let accident = events.iter().any(|e| {
        matches!(
            e.kind,
            Kind::SafetyAccident | Kind::CascadeTrip | Kind::ConcealedAccident
        ) && three_years.contains(e.date)
    });
    if !accident && covered(since, three_years) {
        safety += pts(10); // S8
    }

    // Item 5 — legal.
    let mut legal = Num::ZERO;
    legal = legal - pts(30).times(count(Kind::Theft)); // L1
    legal = legal
        - pts(match count(Kind::Breach) {
            0 => 0,
            1 => 20,
            _ => 30,
        }); // L2, L3
    legal = legal - pts(10).times(count(Kind::Obstruction)); // L4
    legal = legal - pts(30).times(count(Kind::FacilityDamage)); // L5
    legal += pts(10).times(count(Kind::PoliceCooperation)); // L6

    // Item 6 — cooperation.
    let cooperation = Num::ZERO
        - pts(10).times(count(Kind::ContractBadFaith))
        - pts(5).times(count(Kind::TestNoncooperation))
        - pts(5).times(count(Kind::InspectionRefusal))
        - pts(10).times(count(Kind::RectificationOverdue))
        - pts(10).times(count(Kind::DispatchViolation));

    // Items 7, 8 — the latest assessment in the period (date, then file,
    // then line), clamped to [0, 5].
    let latest = |dimension: &str| {
        in_period(Kind::Assessment)
            .filter(|e| e.dimension.as_deref() == Some(dimension))
            .max_by_key(|e| (e.date, e.order))
            .and_then(|e| e.score)
            .map(|s| s.clamp_to(Num::ZERO, pts(5)))
    };

    finish(
        class,
        Deltas {
            payment,
            safety,
            legal,
            cooperation,
        },
        latest("operations"),
        latest("development"),
    )
}

/// The point changes of the rule-based dimensions, before clamping.
struct Deltas {
    payment: Num,
    safety: Num,
    legal: Num,
    cooperation: Num,
}

/// Full marks, the clamp, the total, the override and the bands.
fn finish(class: Class, d: Deltas, operations: Option<Num>, development: Option<Num>) -> Scored {
    let dim = |max: i64, delta: Num| (pts(max) + delta).clamp_to(Num::ZERO, pts(max));
    let mut flags = Vec::new();
    let dims = match class {
        Class::Power => {
            let mut assessed = |name: &'static str, v: Option<Num>| {
                (
                    name,
                    v.unwrap_or_else(|| {
                        flags.push(format!("not assessed: {name}"));
                        Num::ZERO
                    }),
                )
            };
            let ops = assessed("operations", operations);
            let dev = assessed("development", development);
            vec![
                ("payment", dim(30, d.payment)),
                ("safety", dim(20, d.safety)),
                ("legal", dim(30, d.legal)),
                ("cooperation", dim(10, d.cooperation)),
                ops,
                dev,
            ]
        }
        Class::Lighting => vec![("payment", dim(50, d.payment)), ("legal", dim(50, d.legal))],
    };
    let total: Num = dims.iter().map(|&(_, v)| v).sum();
    let zero = |name: &str| dims.iter().any(|&(n, v)| n == name && v == Num::ZERO);
    let grade = if zero("payment") || zero("legal") {
        "D"
    } else {
        [(90, "AAA"), (80, "AA"), (70, "A"), (60, "B"), (50, "C")]
            .into_iter()
            .find(|&(at, _)| total >= pts(at))
            .map_or("D", |(_, g)| g)
    };
    Scored {
        class,
        total,
        grade,
        dims,
        flags,
    }
}

// ── Rosters and in-memory logs ──────────────────────────────────────────────

/// customer → (class, since).
pub type Roster = HashMap<String, (Class, Option<Date>), BuildHasherDefault<FastHasher>>;

/// Reads a roster CSV (`customer,class[,since]`).
pub fn read_roster(path: &Path) -> Result<Roster, String> {
    let err = |line: u64, m: String| format!("{}: {line}: {m}", path.display());
    let mut rd = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = rd.byte_headers().map_err(|e| err(1, e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name.as_bytes());
    let (Some(c_customer), c_class, c_since) = (col("customer"), col("class"), col("since")) else {
        return Err(err(1, "no `customer` column".into()));
    };
    let mut roster = Roster::default();
    for rec in rd.byte_records() {
        let rec = rec.map_err(|e| format!("{}: {e}", path.display()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let cell = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or(b"");
        let customer = String::from_utf8(cell(Some(c_customer)).to_vec())
            .map_err(|_| err(line, "customer is not UTF-8".into()))?;
        if customer.is_empty() {
            return Err(err(line, "customer is empty".into()));
        }
        let class = match cell(c_class) {
            b"" | b"power" => Class::Power,
            b"lighting" => Class::Lighting,
            other => {
                return Err(err(
                    line,
                    format!("class {:?} is unknown", String::from_utf8_lossy(other)),
                ))
            }
        };
        let since = match cell(c_since) {
            b"" => None,
            s => Some(parse_date(s).ok_or_else(|| {
                err(
                    line,
                    format!("since {:?} is not a valid date", String::from_utf8_lossy(s)),
                )
            })?),
        };
        if roster.insert(customer.clone(), (class, since)).is_some() {
            return Err(err(line, format!("customer {customer:?} is listed twice")));
        }
    }
    Ok(roster)
}

/// Reads a CSV log into events with their (file, line) order (the csv crate,
/// memory per event: for tests and small logs).
pub fn read_events(path: &Path, file: u32) -> Result<Vec<Event>, String> {
    let mut rd = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cols = Cols::new(
        rd.byte_headers()
            .map_err(|e| format!("{}: {e}", path.display()))?
            .iter(),
    )
    .map_err(|m| format!("{}: 1: {m}", path.display()))?;
    let mut out = Vec::new();
    for rec in rd.byte_records() {
        let rec = rec.map_err(|e| format!("{}: {e}", path.display()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let row =
            parse_row(&cols, |c| rec.get(c).unwrap_or(b"")).map_err(|m| format!("{}: {line}: {m}", path.display()))?;
        out.push(Event {
            customer: String::from_utf8(row.customer.to_vec())
                .map_err(|_| format!("{}: {line}: customer is not UTF-8", path.display()))?,
            date: row.date,
            kind: row.kind,
            months: row.months,
            verified: row.verified,
            reach: row.reach,
            persons: row.persons,
            dimension: row.dimension.map(|d| String::from_utf8_lossy(d).into_owned()),
            score: row.score,
            order: (file, line),
        });
    }
    Ok(out)
}

/// Scores an in-memory log with [`score_customer`]: every customer of the log
/// and of the roster, sorted by customer id (byte order).
pub fn score_events(events: &[Event], roster: &Roster, as_of: Date) -> Vec<(String, Scored)> {
    let mut by: BTreeMap<&str, Vec<Event>> = BTreeMap::new();
    for e in events {
        by.entry(&e.customer).or_default().push(e.clone());
    }
    for c in roster.keys() {
        by.entry(c).or_default();
    }
    by.into_iter()
        .map(|(c, evs)| {
            let (class, since) = roster.get(c).copied().unwrap_or_default();
            (c.to_string(), score_customer(class, since, as_of, &evs))
        })
        .collect()
}

/// One result as a `--format jsonl` line (flags only when there are some).
pub fn jsonl(customer: &str, s: &Scored) -> String {
    let mut out = String::new();
    write_jsonl(&mut out, customer, s);
    out
}

/// Appends one result as a `--format jsonl` line, without the newline.
pub fn write_jsonl(out: &mut String, customer: &str, s: &Scored) {
    use std::fmt::Write as _;
    if customer.bytes().all(|c| c >= b' ' && c != b'"' && c != b'\\') {
        let _ = write!(out, "{{\"customer\":\"{customer}\"");
    } else {
        let quoted = serde_json::to_string(customer).unwrap_or_default();
        let _ = write!(out, "{{\"customer\":{quoted}");
    }
    let _ = write!(
        out,
        ",\"class\":\"{}\",\"total\":{},\"grade\":\"{}\",\"dimensions\":{{",
        s.class.name(),
        s.total,
        s.grade
    );
    for (i, (name, v)) in s.dims.iter().enumerate() {
        let _ = write!(out, "{}\"{name}\":{v}", if i > 0 { "," } else { "" });
    }
    out.push('}');
    if !s.flags.is_empty() {
        let flags = serde_json::to_string(&s.flags).unwrap_or_default();
        let _ = write!(out, ",\"flags\":{flags}");
    }
    out.push('}');
}

// ── Cells ───────────────────────────────────────────────────────────────────

/// Where the log's columns are.
#[derive(Clone, Debug)]
struct Cols {
    n: usize,
    customer: usize,
    date: usize,
    kind: usize,
    months: Option<usize>,
    verified: Option<usize>,
    reach: Option<usize>,
    persons: Option<usize>,
    dimension: Option<usize>,
    score: Option<usize>,
}

impl Cols {
    fn new<'a>(headers: impl Iterator<Item = &'a [u8]>) -> Result<Cols, String> {
        let headers: Vec<&[u8]> = headers.collect();
        let col = |name: &str| headers.iter().position(|h| *h == name.as_bytes());
        let need = |name: &str| col(name).ok_or_else(|| format!("no `{name}` column"));
        Ok(Cols {
            n: headers.len(),
            customer: need("customer")?,
            date: need("date")?,
            kind: need("kind")?,
            months: col("months"),
            verified: col("verified"),
            reach: col("reach"),
            persons: col("persons"),
            dimension: col("dimension"),
            score: col("score"),
        })
    }
}

/// One parsed row; attributes are validated for declared kinds only.
struct Row<'a> {
    customer: &'a [u8],
    date: Date,
    kind: Kind,
    months: Option<u32>,
    verified: Option<bool>,
    reach: Option<Reach>,
    persons: Option<u32>,
    dimension: Option<&'a [u8]>,
    score: Option<Num>,
}

/// Strictly `YYYY-MM-DD` (as `Date::parse`, without the UTF-8 check).
fn parse_date(b: &[u8]) -> Option<Date> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    Date::from_ymd(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// Int, decimal and bool cells may carry surrounding spaces.
fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&c| c != b' ').unwrap_or(b.len());
    let end = b.iter().rposition(|&c| c != b' ').map_or(start, |i| i + 1);
    &b[start..end]
}

/// `[+-]digits`, at least 1; saturates at `u32::MAX` (beyond any point).
fn parse_count(b: &[u8]) -> Option<u32> {
    let t = trim(b);
    let (neg, digits) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits.iter().fold(0u64, |acc, &c| {
        (acc * 10 + u64::from(c - b'0')).min(u64::from(u32::MAX))
    });
    (!neg && value >= 1).then_some(value as u32)
}

fn show(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

fn parse_row<'a>(cols: &Cols, cell: impl Fn(usize) -> &'a [u8]) -> Result<Row<'a>, String> {
    let opt = |c: Option<usize>| c.map(&cell).filter(|v| !v.is_empty());
    let customer = cell(cols.customer);
    if customer.is_empty() {
        return Err("customer is missing".into());
    }
    let date_cell = cell(cols.date);
    let date = parse_date(date_cell).ok_or_else(|| format!("date {} is not a valid date", show(date_cell)))?;
    let kind_cell = cell(cols.kind);
    if kind_cell.is_empty() {
        return Err("kind is missing".into());
    }
    let kind = Kind::from_name(kind_cell);
    let mut row = Row {
        customer,
        date,
        kind,
        months: None,
        verified: None,
        reach: None,
        persons: None,
        dimension: None,
        score: None,
    };
    let required = |name: &str, c: Option<usize>| opt(c).ok_or_else(|| format!("{name} is missing"));
    match kind {
        Kind::Arrears => {
            let v = required("months", cols.months)?;
            row.months = Some(parse_count(v).ok_or_else(|| format!("months {} is not an int >= 1", show(v)))?);
        }
        Kind::DefaulterTip => {
            let v = required("verified", cols.verified)?;
            row.verified = Some(match trim(v) {
                b"true" => true,
                b"false" => false,
                _ => return Err(format!("verified {} is not true or false", show(v))),
            });
        }
        Kind::CascadeTrip => {
            let v = required("reach", cols.reach)?;
            row.reach = Some(match v {
                b"branch" => Reach::Branch,
                b"substation" => Reach::Substation,
                _ => return Err(format!("reach {} is not branch or substation", show(v))),
            });
        }
        Kind::UnqualifiedElectrician => {
            if let Some(v) = opt(cols.persons) {
                row.persons = Some(parse_count(v).ok_or_else(|| format!("persons {} is not an int >= 1", show(v)))?);
            }
        }
        Kind::Assessment => {
            row.dimension = Some(required("dimension", cols.dimension)?);
            let v = required("score", cols.score)?;
            let t = std::str::from_utf8(trim(v)).unwrap_or("");
            row.score = Some(Num::parse(t).map_err(|e| format!("score {} {e}", show(v)))?);
        }
        _ => {}
    }
    Ok(row)
}

// ── The streaming path ──────────────────────────────────────────────────────

/// The latest assessment of one dimension: (date, order) orders them.
#[derive(Clone, Copy, Debug)]
struct Latest {
    date: i32,
    order: u64,
    /// Raw `Num`, already clamped to [0, 5].
    score: i32,
}

impl Default for Latest {
    fn default() -> Latest {
        Latest {
            date: i32::MIN,
            order: 0,
            score: 0,
        }
    }
}

impl Latest {
    fn offer(&mut self, other: Latest) {
        if (other.date, other.order) > (self.date, self.order) {
            *self = other;
        }
    }
    fn get(self) -> Option<Num> {
        (self.date != i32::MIN).then_some(Num::from_raw(i64::from(self.score)))
    }
}

/// What the streaming path keeps per customer: the additive clauses' running
/// points (raw `Num`) and the few facts the others need.
#[derive(Clone, Copy, Debug, Default)]
struct Acc {
    payment: i64,
    safety: i64,
    legal: i64,
    cooperation: i64,
    /// P1–P3: two bits per calendar month of the period, counted back from
    /// the as-of month (0..=12): the longest `months` there, capped at 3.
    arrears: u32,
    /// S2–S3 and L2–L3 counts, capped at 2.
    branch: u8,
    breach: u8,
    /// S7: any management deficiency in the period.
    management: bool,
    /// S8: any accident in the 36 months.
    accident: bool,
    operations: Latest,
    development: Latest,
}

/// The evaluation's fixed dates.
#[derive(Clone, Copy)]
struct Ctx {
    as_of: Date,
    period: Window,
    three_years: Window,
    as_of_month: i32,
}

impl Ctx {
    fn new(as_of: Date) -> Ctx {
        Ctx {
            as_of,
            period: Window::months_to(as_of, 12),
            three_years: Window::months_to(as_of, 36),
            as_of_month: as_of.month_index(),
        }
    }
}

const POINT: i64 = 1_000_000;

impl Acc {
    /// Folds one event dated on or before the as-of date.
    fn add(&mut self, ctx: &Ctx, row: &Row, order: u64) {
        let d = row.date;
        if matches!(
            row.kind,
            Kind::SafetyAccident | Kind::CascadeTrip | Kind::ConcealedAccident
        ) && ctx.three_years.contains(d)
        {
            self.accident = true;
        }
        if !ctx.period.contains(d) {
            return;
        }
        let p = |n: i64| n * POINT;
        match row.kind {
            Kind::Arrears => {
                let months = row.months.unwrap_or(1);
                let shift = 2 * (ctx.as_of_month - d.month_index()) as u32;
                let cur = (self.arrears >> shift) & 3;
                let new = months.min(3);
                if new > cur {
                    self.arrears = (self.arrears & !(3 << shift)) | (new << shift);
                }
                if months == 1 {
                    self.payment += POINT / 2;
                }
            }
            Kind::WrongAccount => self.payment -= p(10),
            Kind::DefaulterTip if row.verified == Some(true) => self.payment += p(10),
            Kind::DefaulterTip => {}
            Kind::SafetyAccident => self.safety -= p(5),
            Kind::CascadeTrip => match row.reach {
                Some(Reach::Branch) => self.branch = (self.branch + 1).min(2),
                _ => self.safety -= p(20),
            },
            Kind::ConcealedAccident => self.safety -= p(10),
            Kind::UnqualifiedElectrician => {
                self.safety = self
                    .safety
                    .saturating_sub(p(5).saturating_mul(i64::from(row.persons.unwrap_or(1))))
            }
            Kind::ManagementDeficiency => self.management = true,
            Kind::Theft => self.legal -= p(30),
            Kind::Breach => self.breach = (self.breach + 1).min(2),
            Kind::Obstruction => self.legal -= p(10),
            Kind::FacilityDamage => self.legal -= p(30),
            Kind::PoliceCooperation => self.legal += p(10),
            Kind::ContractBadFaith => self.cooperation -= p(10),
            Kind::TestNoncooperation => self.cooperation -= p(5),
            Kind::InspectionRefusal => self.cooperation -= p(5),
            Kind::RectificationOverdue => self.cooperation -= p(10),
            Kind::DispatchViolation => self.cooperation -= p(10),
            Kind::Assessment => {
                let score = row.score.unwrap_or_default().clamp_to(Num::ZERO, pts(5)).raw() as i32;
                let latest = Latest {
                    date: d.days(),
                    order,
                    score,
                };
                match row.dimension {
                    Some(b"operations") => self.operations.offer(latest),
                    Some(b"development") => self.development.offer(latest),
                    _ => {}
                }
            }
            Kind::Unknown => {}
        }
    }

    fn merge(&mut self, o: &Acc) {
        self.payment = self.payment.saturating_add(o.payment);
        self.safety = self.safety.saturating_add(o.safety);
        self.legal = self.legal.saturating_add(o.legal);
        self.cooperation = self.cooperation.saturating_add(o.cooperation);
        for m in 0..13 {
            let shift = 2 * m;
            let a = (self.arrears >> shift) & 3;
            let b = (o.arrears >> shift) & 3;
            if b > a {
                self.arrears = (self.arrears & !(3 << shift)) | (b << shift);
            }
        }
        self.branch = (self.branch + o.branch).min(2);
        self.breach = (self.breach + o.breach).min(2);
        self.management |= o.management;
        self.accident |= o.accident;
        self.operations.offer(o.operations);
        self.development.offer(o.development);
    }

    fn score(&self, ctx: &Ctx, class: Class, since: Option<Date>) -> Scored {
        let mut payment = self.payment;
        // Episodes, oldest month first.
        let (mut length, mut longest) = (0u32, 0u32);
        for m in (0..13).rev() {
            let v = (self.arrears >> (2 * m)) & 3;
            if v == 0 {
                payment -= episode_points(length.max(longest)) * POINT;
                (length, longest) = (0, 0);
            } else {
                length += 1;
                longest = longest.max(v);
            }
        }
        payment -= episode_points(length.max(longest)) * POINT;
        if self.arrears == 0 && covered(since, ctx.period) {
            payment += 5 * POINT;
        }
        let tier = |n: u8, one: i64, more: i64| match n {
            0 => 0,
            1 => one * POINT,
            _ => more * POINT,
        };
        let mut safety = self.safety - tier(self.branch, 10, 20);
        if self.management {
            safety -= 5 * POINT;
        }
        if !self.accident && covered(since, ctx.three_years) {
            safety += 10 * POINT;
        }
        let legal = self.legal - tier(self.breach, 20, 30);
        finish(
            class,
            Deltas {
                payment: Num::from_raw(payment),
                safety: Num::from_raw(safety),
                legal: Num::from_raw(legal),
                cooperation: Num::from_raw(self.cooperation),
            },
            self.operations.get(),
            self.development.get(),
        )
    }
}

/// A small, fast hasher (FxHash steps, a murmur3 finaliser so the low bits
/// that pick a bucket depend on every byte).
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z ^= z >> 33;
        z = z.wrapping_mul(0xff51_afd7_ed55_8ccd);
        z ^= z >> 33;
        z
    }
}

/// A customer id as a map key: up to 22 bytes inline (no allocation, a
/// fixed-size compare), longer ones on the heap.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Inline(u8, [u8; 22]),
    Heap(Box<[u8]>),
}

impl Key {
    fn new(b: &[u8]) -> Key {
        if b.len() <= 22 {
            let mut a = [0u8; 22];
            a[..b.len()].copy_from_slice(b);
            Key::Inline(b.len() as u8, a)
        } else {
            Key::Heap(b.into())
        }
    }
    fn bytes(&self) -> &[u8] {
        match self {
            Key::Inline(n, a) => &a[..usize::from(*n)],
            Key::Heap(b) => b,
        }
    }
}

type Map = HashMap<Key, Acc, BuildHasherDefault<FastHasher>>;

/// The results of scoring whole log files.
#[derive(Debug, Default)]
pub struct Batch {
    /// Data rows read.
    pub rows: u64,
    /// Rows dated after the as-of date (ignored).
    pub after_as_of: u64,
    /// Rows of a kind the standard does not declare (skipped).
    pub unknown_kinds: u64,
    /// Every customer of the logs and the roster, sorted by id (byte order).
    pub results: Vec<(String, Scored)>,
}

#[derive(Default)]
struct Counts {
    rows: u64,
    after_as_of: u64,
    unknown_kinds: u64,
}

/// A data error at a byte offset of a file (turned into a line number later).
struct BadRow {
    file: usize,
    offset: u64,
    message: String,
}

/// Folds one record into the map. `order` = file index << 40 | byte offset.
fn fold<'a>(
    map: &mut Map,
    counts: &mut Counts,
    ctx: &Ctx,
    cols: &Cols,
    order: u64,
    cell: impl Fn(usize) -> &'a [u8],
) -> Result<(), String> {
    let row = parse_row(cols, cell)?;
    counts.rows += 1;
    let acc = map.entry(Key::new(row.customer)).or_default();
    if row.kind == Kind::Unknown {
        counts.unknown_kinds += 1;
    } else if row.date > ctx.as_of {
        counts.after_as_of += 1;
    } else {
        acc.add(ctx, &row, order);
    }
    Ok(())
}

/// Folds a block of whole lines that starts at byte `base` of file `file`.
fn fold_block(
    map: &mut Map,
    counts: &mut Counts,
    ctx: &Ctx,
    cols: &Cols,
    file: usize,
    base: u64,
    block: &[u8],
) -> Result<(), BadRow> {
    let mut fields: Vec<(usize, usize)> = Vec::with_capacity(cols.n);
    let mut start = 0;
    while start < block.len() {
        // One pass over the line: the commas, then the newline.
        fields.clear();
        let mut s = start;
        let mut end = block.len();
        for (i, &c) in block[start..].iter().enumerate() {
            if c == b',' {
                fields.push((s, start + i));
                s = start + i + 1;
            } else if c == b'\n' {
                end = start + i;
                break;
            }
        }
        let offset = base + start as u64;
        let line = start;
        start = end + 1;
        let stop = if end > s && block[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        fields.push((s, stop));
        if stop == line {
            continue; // an empty line
        }
        let bad = |message: String| BadRow { file, offset, message };
        if fields.len() != cols.n {
            return Err(bad(format!("{} fields where the header has {}", fields.len(), cols.n)));
        }
        let order = ((file as u64) << 40) | offset;
        fold(map, counts, ctx, cols, order, |c| &block[fields[c].0..fields[c].1]).map_err(bad)?;
    }
    Ok(())
}

/// The rest of a file from byte `base` (a line start) through the csv
/// crate, sequentially: a quoted cell may hold a comma or a newline.
fn fold_quoted(
    map: &mut Map,
    counts: &mut Counts,
    ctx: &Ctx,
    cols: &Cols,
    file: usize,
    path: &Path,
    base: u64,
) -> Result<(), BadRow> {
    let bad = |offset: u64, message: String| BadRow { file, offset, message };
    let mut f = File::open(path).map_err(|e| bad(base, e.to_string()))?;
    f.seek(SeekFrom::Start(base)).map_err(|e| bad(base, e.to_string()))?;
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(BufReader::with_capacity(1 << 16, f));
    let mut rec = csv::ByteRecord::new();
    loop {
        let at = base + rd.position().byte();
        match rd.read_byte_record(&mut rec) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => return Err(bad(at, e.to_string())),
        }
        let offset = base + rec.position().map_or(0, |p| p.byte());
        if rec.len() != cols.n {
            return Err(bad(
                offset,
                format!("{} fields where the header has {}", rec.len(), cols.n),
            ));
        }
        let order = ((file as u64) << 40) | offset;
        fold(map, counts, ctx, cols, order, |c| rec.get(c).unwrap_or(b"")).map_err(|m| bad(offset, m))?;
    }
}

const BLOCK: usize = 4 << 20;

/// The line number of a byte offset (only on the error path).
fn line_of(path: &Path, offset: u64) -> u64 {
    let mut buf = Vec::new();
    let ok = File::open(path).and_then(|f| f.take(offset).read_to_end(&mut buf));
    ok.map_or(0, |_| memchr::memchr_iter(b'\n', &buf).count() as u64 + 1)
}

/// Scores CSV logs (read as one log, in order) with an optional roster, on
/// `threads` worker threads (0 = all cores). Memory: one accumulator per
/// customer per worker, plus a few 4 MiB blocks in flight.
pub fn score_files(events: &[PathBuf], roster: Option<&Path>, as_of: Date, threads: usize) -> Result<Batch, String> {
    let roster = match roster {
        Some(p) => read_roster(p)?,
        None => Roster::default(),
    };
    let ctx = Ctx::new(as_of);
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };

    // Workers fold blocks of whole lines; the reading thread folds the tail
    // of any file that holds a quote, from the block where the first one is.
    let (mut main_map, mut main_counts) = (Map::default(), Counts::default());
    let (mut maps, mut errors) = (Vec::new(), Vec::new());
    let sent = std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<(usize, Arc<Cols>, u64, Vec<u8>)>(threads * 2);
        let rx = Arc::new(Mutex::new(rx));
        // Used blocks come back for reuse: no fresh pages to fault in.
        let (free_tx, free_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = Arc::clone(&rx);
                let free_tx = free_tx.clone();
                let ctx = &ctx;
                s.spawn(move || {
                    let (mut map, mut counts) = (Map::default(), Counts::default());
                    let mut error: Option<BadRow> = None;
                    loop {
                        let msg = rx.lock().map_err(|_| ()).and_then(|r| r.recv().map_err(|_| ()));
                        let Ok((file, cols, base, block)) = msg else {
                            break;
                        };
                        if error.is_none() {
                            error = fold_block(&mut map, &mut counts, ctx, &cols, file, base, &block).err();
                        }
                        let _ = free_tx.send(block);
                    }
                    (map, counts, error)
                })
            })
            .collect();
        let mut send = || -> Result<(), BadRow> {
            for (file, path) in events.iter().enumerate() {
                let io = |offset: u64, e: std::io::Error| BadRow {
                    file,
                    offset,
                    message: e.to_string(),
                };
                let mut rd = BufReader::with_capacity(1 << 16, File::open(path).map_err(|e| io(0, e))?);
                let mut header = Vec::new();
                let header_len = rd.read_until(b'\n', &mut header).map_err(|e| io(0, e))?;
                let text = header.strip_suffix(b"\n").unwrap_or(&header);
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                if memchr::memchr(b'"', text).is_some() {
                    return Err(BadRow {
                        file,
                        offset: 0,
                        message: "quoted header cells are not supported".into(),
                    });
                }
                let cols = Cols::new(text.split(|&c| c == b',')).map_err(|message| BadRow {
                    file,
                    offset: 0,
                    message,
                })?;
                let cols = Arc::new(cols);
                let mut base = header_len as u64;
                let mut carry: Vec<u8> = Vec::new();
                loop {
                    let mut block = free_rx.try_recv().unwrap_or_default();
                    block.clear();
                    block.extend_from_slice(&carry);
                    let have = block.len();
                    block.resize(have + BLOCK, 0);
                    let n = read_full(&mut rd, &mut block[have..]).map_err(|e| io(base, e))?;
                    block.truncate(have + n);
                    if memchr::memchr(b'"', &block).is_some() {
                        fold_quoted(&mut main_map, &mut main_counts, &ctx, &cols, file, path, base)?;
                        break;
                    }
                    let cut = if n == 0 {
                        block.len()
                    } else {
                        memchr::memrchr(b'\n', &block).map_or(0, |i| i + 1)
                    };
                    carry.clear();
                    carry.extend_from_slice(&block[cut..]);
                    block.truncate(cut);
                    let len = block.len() as u64;
                    if len > 0 {
                        let stopped = |_| BadRow {
                            file,
                            offset: base,
                            message: "a worker stopped".into(),
                        };
                        tx.send((file, Arc::clone(&cols), base, block)).map_err(stopped)?;
                    }
                    base += len;
                    if n == 0 {
                        break;
                    }
                }
            }
            Ok(())
        };
        let sent = send();
        drop(tx);
        for w in workers {
            match w.join() {
                Ok((map, counts, error)) => {
                    maps.push((map, counts));
                    errors.extend(error);
                }
                Err(_) => errors.push(BadRow {
                    file: 0,
                    offset: 0,
                    message: "a worker panicked".into(),
                }),
            }
        }
        sent
    });
    errors.extend(sent.err());
    if let Some(e) = errors.into_iter().min_by_key(|e| (e.file, e.offset)) {
        let path = &events[e.file];
        return Err(format!(
            "{}: {}: {}",
            path.display(),
            line_of(path, e.offset),
            e.message
        ));
    }
    maps.push((main_map, main_counts));

    // Every map's entries and the roster's customers without events in one
    // sorted list; a customer split across workers is merged.
    let missing: Vec<Key> = roster
        .par_iter()
        .filter_map(|(c, _)| {
            let k = Key::new(c.as_bytes());
            (!maps.iter().any(|(m, _)| m.contains_key(&k))).then_some(k)
        })
        .collect();
    let total: usize = maps.iter().map(|(m, _)| m.len()).sum::<usize>() + missing.len();
    let mut accs: Vec<(Key, Acc)> = Vec::with_capacity(total);
    let mut counts = Counts::default();
    for (map, c) in maps {
        counts.rows += c.rows;
        counts.after_as_of += c.after_as_of;
        counts.unknown_kinds += c.unknown_kinds;
        accs.extend(map);
    }
    accs.extend(missing.into_iter().map(|k| (k, Acc::default())));
    accs.par_sort_unstable_by(|a, b| a.0.bytes().cmp(b.0.bytes()));
    accs.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1.merge(&later.1);
        }
        same
    });
    let results = accs
        .into_par_iter()
        .map(|(k, acc)| {
            let customer = String::from_utf8(k.bytes().to_vec())
                .map_err(|e| format!("customer {} is not UTF-8", show(e.as_bytes())))?;
            let (class, since) = roster.get(&customer).copied().unwrap_or_default();
            let scored = acc.score(&ctx, class, since);
            Ok((customer, scored))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Batch {
        rows: counts.rows,
        after_as_of: counts.after_as_of,
        unknown_kinds: counts.unknown_kinds,
        results,
    })
}

/// Reads until `buf` is full or the file ends.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
