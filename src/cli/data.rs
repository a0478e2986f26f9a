//! Command-line helpers shared by `score`, `explain` and `diff`: the event
//! and roster arguments, opening files, and the run summary.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rulebook::date::Date;
use rulebook::input::{self, EventLog, Format, Given, LoadOptions, Roster, Schema, Source};
use rulebook::report::csv_record;

use super::progress::Progress;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum EventsFormat {
    Csv,
    Jsonl,
}

#[derive(clap::Args, Debug)]
pub struct DataArgs {
    /// Event logs (CSV or JSON Lines; `-` reads standard input); several are read as one log
    #[arg(long = "events", required = true, num_args = 1.., value_name = "FILE")]
    pub events: Vec<PathBuf>,
    /// Format of the event logs when the extension does not say (and for `-`)
    #[arg(long, value_enum)]
    pub events_format: Option<EventsFormat>,
    /// Customers roster CSV: `customer,class[,since]` (`-` reads standard input)
    #[arg(long, value_name = "FILE")]
    pub customers: Option<PathBuf>,
    /// Encoding of the event logs and roster: utf-8 (the default), gbk (also gb18030), utf-16 (also
    /// utf-16be); a file that starts with a UTF-16 byte-order mark is read as UTF-16 whatever this says
    #[arg(long, value_name = "NAME", value_parser = parse_encoding)]
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// Evaluation date (YYYY-MM-DD); defaults to today
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Treat event kinds the rulebook does not declare as errors
    #[arg(long)]
    pub strict: bool,
    /// Write bad rows to the rejects file and score the rest
    #[arg(long)]
    pub keep_going: bool,
    /// Where `--keep-going` writes rejected rows
    #[arg(long, value_name = "FILE", default_value = "rejects.csv")]
    pub rejects: PathBuf,
    /// No progress line on stderr while the logs are read (there is none
    /// when stderr is not a terminal either)
    #[arg(long)]
    pub quiet: bool,
    /// Worker threads for reading and scoring (default: one per core)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Each event log's length when the logs were first opened, for the
    /// commands that read them more than once (`diff --customer`, `score
    /// --explain` in passes): a file shorter at a later read was cut short
    /// by another program between the reads, which is that error (not the
    /// bad row the cut made, or rows missing from one read).
    #[arg(skip)]
    first_lengths: std::sync::OnceLock<Vec<Option<u64>>>,
}

/// The customers a load keeps.
#[derive(Clone, Copy)]
enum Target<'a> {
    All,
    /// One customer (and the few whose ids share its loose key).
    One(&'a str),
    /// `One` on a second read: the first wrote the rejects and the warnings.
    OneAgain(&'a str),
    /// A share of `of` for reading a log in passes (`Within::between`).
    Share {
        from: Option<&'a str>,
        to: Option<&'a str>,
        of: usize,
    },
}

/// A fold that only counts each customer's events (those a load would keep).
struct Counting;

impl input::Fold for Counting {
    fn init(&self, _id: &[u8], _class: Option<u16>, words: &mut Vec<u32>) {
        words.push(0);
    }

    fn max_words(&self) -> usize {
        1
    }

    fn fold(&self, _class: Option<u16>, words: &mut [u32], _event: &input::Event, _vals: &[i64]) {
        if let Some(n) = words.first_mut() {
            *n = n.saturating_add(1);
        }
    }
}

/// Where a log read in passes is cut (`DataArgs::cut`).
pub struct Cut {
    /// The first id of every share after the first, ascending.
    pub starts: Vec<String>,
    /// The log's counts, the same in every pass.
    pub summary: input::Summary,
    /// Customers in all shares.
    pub customers: usize,
}

impl Cut {
    pub fn shares(&self) -> usize {
        self.starts.len() + 1
    }
}

/// A log is read at most this many times.
const MAX_PASSES: u64 = 1024;

/// A size in bytes: `4G`, `512M`, `1.5GiB`, `800MB`, `65536` (units are
/// powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let bad = || format!("`{s}` is not a size: write a number of bytes with K, M, G or T, as in 4G or 512M");
    let t = s.trim();
    let digits = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let number = match number.starts_with('.') {
        true => format!("0{number}"),
        false => number.to_string(),
    };
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(bad()),
    };
    // Exactly, in millionths: `1.5G` is 1.5 × 2³⁰ bytes.
    let millionths = rulebook::num::Num::parse(&number).map_err(|_| bad())?;
    let bytes = (i128::from(millionths.raw()) << shift) / i128::from(rulebook::num::Num::from_int(1).raw());
    match u64::try_from(bytes) {
        Ok(b) if b > 0 => Ok(b),
        _ => Err(bad()),
    }
}

/// A size for people, in the units `parse_size` reads: `512 B`, `3.5 KiB`, `385 MiB`, `4.0 GiB`.
pub fn show_size(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut unit = 0;
    let mut whole = bytes;
    while whole >= 1024 && unit + 1 < units.len() {
        whole /= 1024;
        unit += 1;
    }
    let name = units.get(unit).expect("unit stays below units.len()");
    if unit == 0 || whole >= 10 {
        return format!("{whole} {name}");
    }
    // One decimal below 10, exactly (tenths of the unit, rounded down).
    let tenths = (u128::from(bytes) * 10) >> (10 * unit);
    format!("{}.{} {name}", tenths / 10, tenths % 10)
}

/// Whether `path` names a file, which can be read twice: not standard
/// input (`-`), a pipe or a terminal.
fn is_file(path: &Path) -> bool {
    path.as_os_str() != "-" && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Half the memory the system has available — within the process's
/// control group's limit, in a container — or 4 GiB where it does not say.
pub fn half_available_memory() -> u64 {
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|info| {
        let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        kb.checked_mul(1024)
    });
    let available = match (available, cgroup_room()) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    };
    available.map_or(4 << 30, |b| b / 2)
}

/// What the process's control group may still take (its limit less its
/// usage), cgroup v2 or v1; `None` without a limit or where it cannot be read.
fn cgroup_room() -> Option<u64> {
    let groups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let read = |path: String| -> Option<u64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    for line in groups.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let path = path.trim_end_matches('/');
        // The group's own directory, or the root one where a container shows it there.
        let dirs = |base: &str| [format!("{base}{path}"), base.to_string()];
        let (limit_usage, base) = match controllers {
            "" => (("memory.max", "memory.current"), "/sys/fs/cgroup"),
            c if c.split(',').any(|c| c == "memory") => (
                ("memory.limit_in_bytes", "memory.usage_in_bytes"),
                "/sys/fs/cgroup/memory",
            ),
            _ => continue,
        };
        for dir in dirs(base) {
            // `max` (v2) or a number near 2⁶³ (v1) is no limit.
            if let Some(limit) = read(format!("{dir}/{}", limit_usage.0)).filter(|&l| l < 1 << 60) {
                let usage = read(format!("{dir}/{}", limit_usage.1)).unwrap_or(0);
                return Some(limit.saturating_sub(usage));
            }
        }
    }
    None
}

fn parse_encoding(s: &str) -> Result<&'static encoding_rs::Encoding, String> {
    input::encoding::by_name(s)
        .ok_or_else(|| format!("`{s}` is not an encoding rulebook reads (utf-8, gbk, gb18030, utf-16)"))
}

pub fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).ok_or_else(|| format!("`{s}` is not a date (YYYY-MM-DD)"))
}

/// Today in UTC.
pub fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date::from_days(i32::try_from(secs / 86_400).unwrap_or(0))
}

impl DataArgs {
    /// Sizes the worker pool by `--threads`; without it rayon takes one
    /// thread per core (or `RAYON_NUM_THREADS`). Called once, before any
    /// parallel work.
    pub fn start_threads(&self) {
        if let Some(n) = self.threads {
            rayon::ThreadPoolBuilder::new()
                .num_threads(usize::from(n))
                .build_global()
                .expect("the pool is built once, before any parallel work");
        }
    }

    pub fn as_of(&self) -> Date {
        self.as_of.unwrap_or_else(today)
    }

    fn sources(&self, progress: &Progress) -> Result<Vec<Source>, String> {
        let mut stdin_used = false;
        let mut lengths = Vec::with_capacity(self.events.len());
        let sources = self
            .events
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let name = path.display().to_string();
                let format = match (self.events_format, Format::from_name(&name)) {
                    (Some(EventsFormat::Csv), _) => Format::Csv,
                    (Some(EventsFormat::Jsonl), _) => Format::Jsonl,
                    (None, Some(f)) => f,
                    (None, None) => {
                        // A usage error: exit code 2, like clap's own.
                        let message = format!(
                            "cannot tell the format of `{name}`: name it .csv or .jsonl, or pass --events-format"
                        );
                        clap::Command::new("rulebook")
                            .error(clap::error::ErrorKind::ValueValidation, message)
                            .exit()
                    }
                };
                let (reader, file): (Box<dyn std::io::Read + Send>, _) = if name == "-" {
                    if stdin_used {
                        return Err("standard input (`-`) can be read only once".into());
                    }
                    stdin_used = true;
                    lengths.push(None);
                    (Box::new(std::io::stdin()), None)
                } else {
                    let file = Arc::new(File::open(path).map_err(|e| format!("cannot open `{name}`: {e}"))?);
                    // Read, and mapped past its header when it is a regular file (not a pipe, say).
                    let length = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
                    let first = self.first_lengths.get().and_then(|f| f.get(i).copied().flatten());
                    if let (Some(now), Some(first)) = (length, first) {
                        if now < first {
                            return Err(format!(
                                "{name}: is shorter than when it was first read ({now} bytes, was {first}): \
                                 another program cut it short between two reads of it; run again once no program is writing it"
                            ));
                        }
                    }
                    lengths.push(length);
                    (Box::new(input::SharedFile(file.clone())), length.is_some().then_some(file))
                };
                let reader = progress.count(reader);
                let name = if name == "-" { "<stdin>".into() } else { name };
                let (reader, as_is) =
                    input::encoding::decoded_as_is(reader, self.encoding, &name).map_err(|e| e.to_string())?;
                // Watched for a cut while it is read, and mapped if its bytes are read as they are.
                let mapped = file.map(|f| input::Mapped::new(f, Some(progress.counter()), as_is));
                Ok(Source {
                    name,
                    format,
                    reader,
                    mapped,
                })
            })
            .collect::<Result<_, String>>()?;
        // The first read's lengths are kept; later reads are held to them.
        let _ = self.first_lengths.set(lengths);
        Ok(sources)
    }

    pub fn roster(&self, class_names: &[&str]) -> Result<Roster, String> {
        self.roster_any_order(class_names)?.sorted().map_err(|e| e.to_string())
    }

    /// The roster as `roster` reads it, its rows possibly in the file's
    /// order (`Roster::read_any_order`): for a load, which only hands each
    /// customer to its partition, or to be `sorted` once it is needed.
    pub fn roster_any_order(&self, class_names: &[&str]) -> Result<Roster, String> {
        match &self.customers {
            None => Ok(Roster::default()),
            Some(path) => {
                let (name, reader): (String, Box<dyn std::io::Read + Send>) = if path.as_os_str() == "-" {
                    if self.events.iter().any(|p| p.as_os_str() == "-") {
                        return Err("standard input (`-`) can be read only once: it is already the event log".into());
                    }
                    ("<stdin>".into(), Box::new(std::io::stdin()))
                } else {
                    // Read in, not mapped as a log is: its buffer, freed once
                    // it is parsed, raises glibc's threshold for giving an
                    // allocation a map of its own, so the tables and states
                    // made next come from the heap (mapped, a million
                    // customers' roster was read 12 ms sooner, but the tables
                    // were made 18 ms and the log read 30 ms slower).
                    let file = File::open(path).map_err(|e| format!("cannot open `{}`: {e}", path.display()))?;
                    (path.display().to_string(), Box::new(BufReader::new(file)))
                };
                let reader = input::encoding::decoded(reader, self.encoding, &name).map_err(|e| e.to_string())?;
                Roster::read_any_order(reader, &name, class_names).map_err(|e| e.to_string())
            }
        }
    }

    /// Reads the roster and every log against `schema`, keeping no event dated
    /// on or before `horizon` (see `input::load_within`); writes rejects with
    /// `--keep-going`.
    pub fn load_within(
        &self,
        schema: &Schema,
        class_names: &[&str],
        horizon: Option<Date>,
    ) -> Result<EventLog, String> {
        let roster = self.roster_any_order(class_names)?;
        self.load_targeted(Given::Owned(roster), schema, horizon, Target::All, None)
    }

    /// Loads with a roster read already (`roster`), folding every event with
    /// `fold` when there is one, for commands that carry the roster's own
    /// columns into their output: returns the log and what the output
    /// carries. A roster without columns of its own carries nothing, so it
    /// is let go of while the events are read (its customers are in the
    /// log), and an empty roster is returned in its place; on a million
    /// customers that is ~50 MB less at the peak. `roster` may be in any
    /// order (`roster_any_order`): the one returned is sorted, for lookups.
    pub fn load_carrying(
        &self,
        roster: Roster,
        schema: &Schema,
        horizon: Option<Date>,
        fold: Option<&dyn input::Fold>,
    ) -> Result<(EventLog, Roster), String> {
        if roster.columns().is_empty() {
            let log = self.load_targeted(Given::Owned(roster), schema, horizon, Target::All, fold)?;
            return Ok((log, Roster::default()));
        }
        let roster = roster.sorted().map_err(|e| e.to_string())?;
        let log = self.load_targeted(Given::Lent(&roster), schema, horizon, Target::All, fold)?;
        Ok((log, roster))
    }

    /// Reads logs sorted by customer (`--sorted`), folding each customer's
    /// rows (or keeping its events: `keep`) and handing `each` batches of up to `batch`
    /// customers as they end (see `input::fold_sorted`); writes rejects with
    /// `--keep-going`. Ids in two spellings are not looked for: that needs
    /// every customer at once.
    pub fn fold_sorted(
        &self,
        roster: &Roster,
        schema: &Schema,
        horizon: Option<Date>,
        keep: input::Keep<'_>,
        batch: usize,
        each: impl FnMut(EventLog) -> Result<(), String>,
    ) -> Result<input::SortedRead, String> {
        let opts = self.options();
        let progress = Progress::start(self.bytes(), !self.quiet);
        let read = input::fold_sorted(
            self.sources(&progress)?,
            schema,
            roster,
            opts,
            horizon,
            keep,
            batch,
            each,
        );
        progress.finish();
        let read = read?;
        if self.keep_going {
            self.write_rejects(&read.rejects)?;
        }
        Ok(read)
    }

    /// `load_within` keeping only customer `id` (and any other customer
    /// whose id shares its hash): every row is read and checked all the
    /// same, for `explain`.
    /// With `again`, on a second read of the logs, after a first that wrote
    /// the rejects and the warnings (`diff --customer`).
    pub fn load_one(
        &self,
        schema: &Schema,
        class_names: &[&str],
        horizon: Option<Date>,
        id: &str,
        again: bool,
    ) -> Result<EventLog, String> {
        let roster = self.roster_any_order(class_names)?;
        let target = if again { Target::OneAgain(id) } else { Target::One(id) };
        self.load_targeted(Given::Owned(roster), schema, horizon, target, None)
    }

    /// Reads the logs once, counting each customer's events, to cut the
    /// customers into `passes` shares that keep about as many events each,
    /// for `score --explain` on a log too big to keep whole (see `passes`,
    /// `load_share`). Writes rejects with `--keep-going` and warns of ids in
    /// two spellings, as a load does.
    pub fn cut(&self, roster: &Roster, schema: &Schema, horizon: Option<Date>, passes: usize) -> Result<Cut, String> {
        let log = self.load_targeted(Given::Lent(roster), schema, horizon, Target::All, Some(&Counting))?;
        let n = log.customers.len();
        let passes = passes.clamp(1, n.max(1));
        // A customer weighs its events, and a little for itself (its place
        // in the tables, its ledger's lines without events).
        let weight = |i: usize| {
            let events = log.state_of(i).and_then(|s| s.first().copied()).unwrap_or(0);
            u64::from(events) + 2
        };
        let total: u64 = (0..n).map(weight).sum();
        // The first id of every share but the first (ids are in byte order):
        // where the weight so far reaches the next k/passes of the total.
        let mut starts = Vec::with_capacity(passes.saturating_sub(1));
        let mut so_far = 0u64;
        let mut next = 1u64;
        for (i, c) in log.customers.iter().enumerate() {
            let goal = u128::from(total) * u128::from(next) / passes as u128;
            if i > 0 && next < passes as u64 && u128::from(so_far) >= goal {
                starts.push(c.id.to_string());
                next += 1;
            }
            so_far += weight(i);
        }
        let cut = Cut {
            starts,
            summary: log.summary.clone(),
            customers: n,
        };
        drop(log);
        input::release_free_memory();
        Ok(cut)
    }

    /// Share `k` of a `cut`: a load keeping only its customers' events,
    /// every row read and checked again (the cut wrote the rejects and the
    /// warnings).
    pub fn load_share(
        &self,
        roster: &Roster,
        schema: &Schema,
        horizon: Option<Date>,
        cut: &Cut,
        k: usize,
    ) -> Result<EventLog, String> {
        let from = k.checked_sub(1).and_then(|j| cut.starts.get(j)).map(String::as_str);
        let to = cut.starts.get(k).map(String::as_str);
        let target = Target::Share {
            from,
            to,
            of: cut.starts.len() + 1,
        };
        self.load_targeted(Given::Lent(roster), schema, horizon, target, None)
    }

    /// Whether every log is a file, which can be read twice (standard
    /// input and a pipe cannot).
    pub fn rereadable(&self) -> bool {
        self.events.iter().all(|p| is_file(p))
    }

    /// `rereadable`, and the roster too (when there is one).
    pub fn rereadable_with_roster(&self) -> bool {
        self.rereadable() && self.customers.as_deref().is_none_or(is_file)
    }

    /// In how many passes `score --explain` reads the logs so that a pass
    /// keeps about `limit` bytes or less (a customer is never split): the events a load keeps take
    /// about as much memory as the log's text (measured: 1.0 bytes a byte
    /// on a 400 MB log of a million customers, customers included). One
    /// pass when a log is not a file (standard input, a pipe), which cannot
    /// be read twice.
    pub fn passes(&self, limit: u64) -> usize {
        if !self.rereadable() {
            return 1;
        }
        let passes = self.bytes().div_ceil(limit.max(1)).clamp(1, MAX_PASSES);
        usize::try_from(passes).expect("at most MAX_PASSES")
    }

    fn load_targeted(
        &self,
        roster: Given<'_>,
        schema: &Schema,
        horizon: Option<Date>,
        target: Target<'_>,
        fold: Option<&dyn input::Fold>,
    ) -> Result<EventLog, String> {
        let opts = self.options();
        // A row of a log is at least ~24 bytes: a generous, free reservation (untouched pages cost nothing).
        let bytes = self.bytes();
        let rows = usize::try_from(bytes / 24).unwrap_or(0);
        let within = match target {
            Target::All => input::Within::new(horizon, rows),
            // Loosely: the log's `X` comes along with the roster's `X `.
            Target::One(id) | Target::OneAgain(id) => input::Within::new(horizon, rows).only(id, loose_hash),
            Target::Share { from, to, of } => input::Within::new(horizon, rows).between(from, to, of),
        };
        let progress = Progress::start(bytes, !self.quiet);
        let log = match fold {
            Some(fold) => input::fold_within(self.sources(&progress)?, schema, roster, opts, within, fold),
            None => input::load_within(self.sources(&progress)?, schema, roster, opts, within),
        };
        progress.finish();
        let log = log.map_err(|e| e.to_string())?;
        if matches!(target, Target::Share { .. } | Target::OneAgain(_)) {
            return Ok(log);
        }
        if self.keep_going {
            self.write_rejects(&log.rejects)?;
        }
        warn_split_ids(&log);
        rulebook::timing::phase("ids in two spellings");
        Ok(log)
    }

    /// How rows are read: the as-of date, `--strict`, `--keep-going`.
    fn options(&self) -> LoadOptions {
        LoadOptions {
            as_of: self.as_of(),
            strict: self.strict,
            keep_going: self.keep_going,
        }
    }

    /// The size of the event logs in bytes (0 for standard input).
    pub fn bytes(&self) -> u64 {
        self.events
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Refuses (exit 2) before anything is read when an output — `output`,
    /// or the rejects file with `--keep-going` — is an input or the other output.
    pub fn refuse_overwrites(&self, rulebooks: &[(&str, &Path)], output: Option<&Path>) {
        let mut inputs: Vec<(&str, &Path)> = rulebooks.to_vec();
        inputs.extend(self.events.iter().map(|p| ("--events", p.as_path())));
        inputs.extend(self.customers.iter().map(|p| ("--customers", p.as_path())));
        let mut outputs: Vec<(&str, &Path)> = output.map(|p| ("--output", p)).into_iter().collect();
        if self.keep_going {
            outputs.push(("--rejects", &self.rejects));
        }
        super::output::refuse_overwrites(&inputs, &outputs);
        let events: Vec<&Path> = self.events.iter().map(PathBuf::as_path).collect();
        super::output::refuse_repeats(&events);
    }

    fn write_rejects(&self, rejects: &[input::Reject]) -> Result<(), String> {
        let err = |e: std::io::Error| format!("cannot write `{}`: {e}", self.rejects.display());
        let mut w = std::io::BufWriter::new(super::output::Output::open(Some(&self.rejects))?);
        writeln!(w, "{}", csv_record(["file", "line", "reason", "row"])).map_err(err)?;
        for r in rejects {
            let line = r.line.to_string();
            writeln!(w, "{}", csv_record([r.file.as_str(), &line, &r.reason, &r.row])).map_err(err)?;
        }
        w.into_inner().map_err(|e| err(e.into_error()))?.finish()?;
        if !rejects.is_empty() {
            eprintln!(
                "{} rejected row(s) written to {}",
                rejects.len(),
                self.rejects.display()
            );
        }
        Ok(())
    }
}

/// Checks the `--by` columns against the roster: a column it lacks is a
/// usage error (exit code 2) naming the columns it has. `class` always works.
pub fn check_by(roster: &Roster, by: &[String]) {
    let columns = roster.columns();
    for b in by {
        if b != "class" && !columns.iter().any(|c| **c == **b) {
            let has = if columns.is_empty() {
                "the roster has no columns beyond customer, class and since (pass --customers with a column such as `branch`)".to_string()
            } else {
                let names: Vec<String> = columns.iter().map(|c| format!("`{c}`")).collect();
                format!("the roster's columns are {}", names.join(", "))
            };
            let message = format!("--by `{b}`: no such roster column; {has}");
            clap::Command::new("rulebook")
                .error(clap::error::ErrorKind::ValueValidation, message)
                .exit()
        }
    }
}

/// The run summary for stderr.
/// An id as spreadsheets bend it: surrounding spaces, case and the leading
/// zeros Excel drops do not count.
fn loose(id: &str) -> impl Iterator<Item = char> + '_ {
    id.trim().trim_start_matches('0').chars().flat_map(char::to_lowercase)
}

/// A key of `loose(id)`: ids with the same loose characters have the same
/// key. `explain` keys every row of the log with it, so an id whose loose
/// form is ASCII (nearly every id) is hashed eight bytes at a time.
fn loose_hash(id: &str) -> u64 {
    use std::hash::Hasher;
    let trimmed = id.trim().trim_start_matches('0');
    if trimmed.is_ascii() {
        return ascii_key(trimmed.as_bytes());
    }
    // Lowercasing may make it ASCII (the Kelvin sign is `k`): keyed as `k`.
    if loose(id).all(|c| c.is_ascii()) {
        let chars: String = loose(id).collect();
        return ascii_key(chars.as_bytes());
    }
    let mut h = rustc_hash::FxHasher::default();
    for c in loose(id) {
        h.write_u32(u32::from(c));
    }
    h.finish()
}

/// The key of ASCII text, lowercased, eight bytes to a word, then its length.
fn ascii_key(text: &[u8]) -> u64 {
    use std::hash::Hasher;
    debug_assert!(text.is_ascii(), "`ascii_lowercase` is exact on ASCII bytes only");
    let mut h = rustc_hash::FxHasher::default();
    let mut words = text.chunks_exact(8);
    for word in &mut words {
        h.write_u64(ascii_lowercase(u64::from_le_bytes(
            word.try_into().expect("an exact chunk is 8 bytes"),
        )));
    }
    // The last bytes as a word, zero-padded (without a call to copy them).
    if let rest @ [_, ..] = words.remainder() {
        h.write_u64(ascii_lowercase(
            rest.iter().rev().fold(0, |w, &b| w << 8 | u64::from(b)),
        ));
    }
    h.write_usize(text.len());
    h.finish()
}

/// Eight ASCII bytes lowercased at once: a byte from `A` to `Z` gains
/// 0x20. A byte `b` below 0x80 plus 0x3f reaches 0x80 when `b >= b'A'`,
/// plus 0x25 when `b > b'Z'`, and neither sum carries into the next byte.
fn ascii_lowercase(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let from_a = w.wrapping_add(0x3f * ONES);
    let past_z = w.wrapping_add(0x25 * ONES);
    let upper = from_a & !past_z & (0x80 * ONES);
    w | upper >> 2
}

/// Warns about ids that name one customer in two spellings — the roster's
/// `X ` or `00123` beside the log's `X` or `123`: ids are matched exactly, so
/// the two are scored as two customers, one of them without its roster class
/// or history, the other without its events.
fn warn_split_ids(log: &EventLog) {
    let Some(unlisted) = log.unlisted() else {
        return;
    };
    // Only a log customer the roster lacks can be a second spelling: there
    // are usually few, so they are the ones keyed (not the whole roster,
    // which on a million customers cost ~100 MB and a third of a second).
    if unlisted.is_empty() {
        return;
    }
    let id = |n: u32| {
        &*log
            .customers
            .get(n as usize)
            .expect("an unlisted customer is a customer")
            .id
    };
    let by_key: rustc_hash::FxHashMap<u64, Vec<&str>> = unlisted.iter().fold(Default::default(), |mut m, &n| {
        m.entry(loose_hash(id(n))).or_default().push(id(n));
        m
    });
    // The roster's customers are the log's others (every roster customer is
    // in the log, or, for a targeted load, every one with the key kept).
    let mut is_unlisted = vec![false; log.customers.len()];
    for &n in unlisted {
        *is_unlisted
            .get_mut(n as usize)
            .expect("an unlisted customer is a customer") = true;
    }
    // A bit for each key, so that most roster ids, whose key no log
    // spelling has, are passed over without a probe of the map.
    let bits = (by_key.len() * 32).next_power_of_two().max(64);
    let mut seen = vec![0u64; bits / 64];
    let bit = |key: u64| (key >> 32) as usize & (bits - 1);
    for &key in by_key.keys() {
        let b = bit(key);
        *seen.get_mut(b / 64).expect("a bit is below `bits`") |= 1 << (b % 64);
    }
    let maybe = |key: u64| {
        let b = bit(key);
        seen.get(b / 64).is_some_and(|w| w >> (b % 64) & 1 == 1)
    };
    // Each log spelling with its roster twin (the first in byte order when
    // there are several). Every roster id is keyed, on every core.
    use rayon::prelude::*;
    let found: Vec<(&str, &str)> = log
        .customers
        .par_iter()
        .zip(is_unlisted.par_iter())
        .filter(|&(_, &unlisted)| !unlisted)
        .flat_map_iter(|(c, _)| {
            let listed = &*c.id;
            let key = loose_hash(listed);
            let twins = maybe(key).then(|| by_key.get(&key)).flatten().into_iter().flatten();
            twins
                .filter(move |&&logged| loose(listed).eq(loose(logged)))
                .map(move |&logged| (logged, listed))
        })
        .collect();
    let mut twins: rustc_hash::FxHashMap<&str, &str> = Default::default();
    for (logged, listed) in found {
        let twin = twins.entry(logged).or_insert(listed);
        *twin = (*twin).min(listed);
    }
    let mut pairs: Vec<(&str, &str)> = twins.into_iter().map(|(logged, listed)| (listed, logged)).collect();
    pairs.sort_unstable();
    for (listed, logged) in pairs.iter().take(5) {
        eprintln!(
            "warning: roster customer `{listed}` and log customer `{logged}` differ only in spaces, case or leading zeros; ids are matched exactly, so they are scored as two customers"
        );
    }
    if pairs.len() > 5 {
        eprintln!("warning: {} more such pairs", pairs.len() - 5);
    }
}

pub fn summary(log: &EventLog, as_of: Date) -> String {
    summary_of(log.customers.len(), &log.summary, as_of)
}

/// The run's closing line: customers scored and what happened to every row.
pub fn summary_of(customers: usize, summary: &input::Summary, as_of: Date) -> String {
    format!("as of {as_of}: {customers} customers scored; {summary}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log read twice (`diff --customer`, `score --explain` in passes)
    /// that another program cut short between the reads: the second read
    /// says so, before any row; one that grew, or stayed, is read again.
    #[test]
    fn a_log_shorter_at_its_second_read_is_that_error() {
        #[derive(clap::Parser)]
        struct Args {
            #[command(flatten)]
            data: DataArgs,
        }
        let path = std::env::temp_dir().join(format!("rulebook-second-read-{}.csv", std::process::id()));
        let rows = "customer,date,kind\nC1,2026-01-01,arrears\nC2,2026-01-02,arrears\n";
        std::fs::write(&path, rows).expect("a temporary file is written");
        let given = ["rulebook", "--events", path.to_str().expect("a UTF-8 path"), "--quiet"];
        let args = <Args as clap::Parser>::try_parse_from(given).expect("the arguments parse");
        let progress = Progress::start(0, false);
        let read = |args: &Args| args.data.sources(&progress).map(|s| s.len());
        assert_eq!(read(&args), Ok(1));
        assert_eq!(read(&args), Ok(1));
        std::fs::write(&path, format!("{rows}C3,2026-01-03,arrears\n")).expect("the file grows");
        assert_eq!(read(&args), Ok(1));
        std::fs::write(&path, "customer,date,kind\nC1,2026-01-01,arrears\n").expect("the file is cut");
        let e = read(&args).expect_err("a log cut short between reads");
        let _ = std::fs::remove_file(&path);
        assert!(e.ends_with("is shorter than when it was first read (41 bytes, was 63): another program cut it short between two reads of it; run again once no program is writing it"), "{e}");
        // A new run holds its reads to its own first read.
        let args = <Args as clap::Parser>::try_parse_from(given).expect("the arguments parse");
        std::fs::write(&path, rows).expect("a temporary file is written");
        assert_eq!(read(&args), Ok(1));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn eight_ascii_bytes_are_lowercased_as_each_would_be() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for k in 0..100_000u64 {
            // Every ASCII byte value in every place, then random words.
            let bytes: [u8; 8] = match k {
                0..128 => [k as u8; 8],
                _ => {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    (rng & 0x7f7f_7f7f_7f7f_7f7f).to_le_bytes()
                }
            };
            let want = u64::from_le_bytes(bytes.map(|b| b.to_ascii_lowercase()));
            assert_eq!(ascii_lowercase(u64::from_le_bytes(bytes)), want, "{bytes:?}");
        }
    }

    #[test]
    fn sizes_are_shown_in_the_units_they_are_read_in() {
        for (bytes, text) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            (10 << 10, "10 KiB"),
            (403_810_053, "385 MiB"),
            (4 << 30, "4.0 GiB"),
            (u64::MAX, "16777215 TiB"),
        ] {
            assert_eq!(show_size(bytes), text, "{bytes}");
            if bytes > 0 && bytes < 1 << 40 {
                let back = parse_size(&show_size(bytes)).expect("a shown size reads back");
                assert!(back <= bytes && bytes - back < bytes / 10 + 1, "{bytes} {back}");
            }
        }
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        for (text, bytes) in [
            ("65536", 65536),
            ("1K", 1024),
            ("0.5k", 512),
            (".5K", 512),
            ("512M", 512 << 20),
            ("512 MB", 512 << 20),
            ("1.5GiB", 3 << 29),
            ("4G", 4 << 30),
            ("2T", 2 << 40),
        ] {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for text in ["", "0", "G", ".", ".K", "4X", "-1G", "1e9", "0.0000001K", "1.2.3M"] {
            assert!(parse_size(text).is_err(), "{text}");
        }
    }

    #[test]
    fn ids_with_the_same_loose_characters_have_one_key() {
        let ids = [
            "X",
            " X ",
            "x",
            "00123",
            "123",
            "0123 ",
            "AbC",
            "abc",
            "ABC",
            "  0aB0 ",
            "ab0",
            "",
            "0",
            "000",
            " ",
            "户号001",
            "户号001 ",
            "Ｘ",
            "ｘ",
            "İd",
            "i̇d",
            "K1",
            "k1",
            "\u{212A}1",
            "abcdefgh",
            "ABCDEFGH",
            "abcdefghi",
            "abcdefgh\0",
            "ABCDEFGHIJ",
            "abcdefghij",
            "abcdefghik",
            "a\0",
            "a",
        ];
        for a in ids {
            for b in ids {
                let same = loose(a).eq(loose(b));
                assert_eq!(loose_hash(a) == loose_hash(b), same, "{a:?} {b:?}");
            }
        }
    }
}
