//! Benchmark (issues 3 and 10): scores a large synthetic log with the
//! hand-written scorer `handscore` (the speed to beat), the hard-coded
//! reference scorer in-process and the real `rulebook score` binary on one
//! and on two threads, and reports wall time, events per second, peak
//! memory and bytes per event, then checks that they agree.
//!
//! ```text
//! cargo bench --bench score -- [--customers N] [--seed S] [--threads N] [--no-check] [--reference-only]
//! ```
//!
//! `BENCH_CUSTOMERS` also sets the size (default 1,000,000 customers,
//! ≈ 10M rows); `BENCH_DIR` the directory the log is cached in;
//! `RULEBOOK_BIN` another binary to measure; `HANDSCORE` the hand-written
//! scorer (default `../shared/perf/handscore` from the crate root; skipped
//! with a note when absent). See `benches/README.md`.

mod support;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use rulebook::num::Num;
use support::generate::{write_files, Config};
use support::reference::{jsonl, score_files, write_jsonl, Batch, Scored};

const AS_OF: &str = "2026-06-30";
const CHECKED: usize = 10_000;
/// Bump when the generator's output changes, so cached logs are not reused.
const GENERATOR: u32 = 1;

struct Args {
    customers: u64,
    seed: u64,
    threads: usize,
    check: bool,
    reference_only: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        customers: 1_000_000,
        seed: 42,
        threads: 0,
        check: true,
        reference_only: false,
    };
    if let Ok(v) = std::env::var("BENCH_CUSTOMERS") {
        a.customers = v
            .replace('_', "")
            .parse()
            .map_err(|e| format!("BENCH_CUSTOMERS={v}: {e}"))?;
    }
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = |what: &str| -> Result<u64, String> {
            let v = args.next().ok_or_else(|| format!("{what} needs a value"))?;
            v.replace('_', "").parse().map_err(|e| format!("{what} {v}: {e}"))
        };
        match flag.as_str() {
            "--customers" => a.customers = value("--customers")?,
            "--seed" => a.seed = value("--seed")?,
            "--threads" => a.threads = value("--threads")? as usize,
            "--no-check" => a.check = false,
            "--reference-only" => a.reference_only = true,
            // cargo bench passes `--bench`; a name filter is meaningless here.
            _ => {}
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    match run() {
        Ok(ok) => {
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("bench score: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One measured run.
struct Measure {
    wall: Duration,
    /// User + system CPU time: steadier than wall time on a shared machine.
    cpu: Duration,
    /// Peak resident set, bytes.
    rss: u64,
}

fn run() -> Result<bool, String> {
    let args = parse_args()?;
    let mut cfg = Config::new(args.customers, args.seed);
    cfg.as_of = rulebook::date::Date::parse(AS_OF).ok_or("bad as-of")?;

    // 1. The log, cached by seed and size.
    let base = std::env::var_os("BENCH_DIR").map_or_else(|| std::env::temp_dir().join("rulebook-bench"), PathBuf::from);
    let dir = base.join(format!("v{GENERATOR}-seed{}-n{}", args.seed, args.customers));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (events, roster, marker) = (dir.join("events.csv"), dir.join("roster.csv"), dir.join("complete"));
    let cached = std::fs::read_to_string(&marker).ok().and_then(|t| {
        let mut it = t.split_whitespace().map(str::parse::<u64>);
        Some((it.next()?.ok()?, it.next()?.ok()?))
    });
    let (rows, bytes) = match cached {
        Some(rb) if events.exists() && roster.exists() => {
            eprintln!("using the cached log in {}", dir.display());
            rb
        }
        _ => {
            eprintln!(
                "generating {} customers (seed {}) into {} …",
                args.customers,
                args.seed,
                dir.display()
            );
            let t = Instant::now();
            let w = write_files(&cfg, &events, Some(&roster)).map_err(|e| format!("{}: {e}", events.display()))?;
            std::fs::write(&marker, format!("{} {}\n", w.rows, w.bytes))
                .map_err(|e| format!("{}: {e}", marker.display()))?;
            eprintln!(
                "generated {} rows, {:.1} MB in {:.1} s",
                w.rows,
                w.bytes as f64 / 1e6,
                t.elapsed().as_secs_f64()
            );
            (w.rows, w.bytes)
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    // 2. The real binaries, first: a child's peak RSS as `wait4` reports it
    //    starts from its parent's at fork, so the bench process must still
    //    be small here, before the reference fills it. rulebook runs on one
    //    thread, on two, and on every core when there are more.
    let binary = rulebook_binary()?;
    let mut ok = true;
    let mut measured: Vec<(usize, Measure)> = Vec::new();
    if args.reference_only {
    } else if !has_score(&binary) {
        eprintln!("`{} score` is missing: reporting the reference only", binary.display());
    } else {
        let mut counts = vec![1, 2, cores];
        counts.dedup();
        counts.sort_unstable();
        counts.dedup();
        for threads in counts {
            let stderr = dir.join(format!("rulebook-{threads}.stderr"));
            match run_rulebook(
                &binary,
                &events,
                &roster,
                Path::new("/dev/null"),
                &stderr,
                Some(threads),
            )? {
                Ok(m) => measured.push((threads, m)),
                Err(status) => {
                    eprintln!("`rulebook score` failed ({status}); its stderr:\n{}", tail(&stderr, 20));
                    ok = false;
                    break;
                }
            }
        }
    }
    let hand = handscore_binary();
    let handscore = match &hand {
        _ if args.reference_only => None,
        Err(note) => {
            eprintln!("{note}");
            None
        }
        Ok(hand) => {
            let stderr = dir.join("handscore.stderr");
            match run_handscore(hand, &events, &roster, Path::new("/dev/null"), &stderr)? {
                Ok(m) => Some(m),
                Err(status) => {
                    eprintln!("`handscore` failed ({status}); its stderr:\n{}", tail(&stderr, 20));
                    None
                }
            }
        }
    };

    // 3. The reference scorer, in-process: read, fold, score, sort, and
    //    write jsonl to a sink (the same work as the binary's run).
    let t = Instant::now();
    let cpu0 = self_usage().0;
    let batch = score_files(std::slice::from_ref(&events), Some(&roster), cfg.as_of, args.threads)?;
    let scored = t.elapsed();
    // Rendered on every core, written in order, a few MB at a time.
    let mut sink = BufWriter::with_capacity(1 << 16, std::io::sink());
    for group in batch.results.chunks(1 << 16) {
        let texts: Vec<String> = group
            .par_chunks(2048)
            .map(|chunk| {
                let mut text = String::new();
                for (customer, s) in chunk {
                    write_jsonl(&mut text, customer, s);
                    text.push('\n');
                }
                text
            })
            .collect();
        for text in texts {
            sink.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
        }
    }
    let (cpu1, rss) = self_usage();
    let reference = Measure {
        wall: t.elapsed(),
        cpu: cpu1.saturating_sub(cpu0),
        rss,
    };
    if batch.rows != rows {
        return Err(format!(
            "the reference read {} rows, the generator wrote {rows}",
            batch.rows
        ));
    }

    // 4. The table.
    println!();
    println!(
        "rulebook score benchmark: {} customers, {} rows, {:.1} MB, seed {}, as-of {AS_OF}, {cores} cores",
        group(args.customers),
        group(rows),
        bytes as f64 / 1e6,
        args.seed
    );
    println!(
        "  ({} customers scored, {} rows after the as-of date, {} rows of undeclared kinds)",
        group(batch.results.len() as u64),
        group(batch.after_as_of),
        group(batch.unknown_kinds)
    );
    println!();
    println!(
        "  {:<16} {:>9} {:>9} {:>13} {:>10} {:>11} {:>10}",
        "", "wall", "CPU", "events/s", "MB/s", "peak RSS", "B/event"
    );
    let line = |name: &str, m: &Measure| {
        let secs = m.wall.as_secs_f64().max(1e-9);
        println!(
            "  {name:<16} {:>7.2} s {:>7.2} s {:>11.2} M {:>10.1} {:>8.1} MB {:>10.1}",
            secs,
            m.cpu.as_secs_f64(),
            rows as f64 / secs / 1e6,
            bytes as f64 / secs / 1e6,
            m.rss as f64 / 1e6,
            m.rss as f64 / rows.max(1) as f64
        );
    };
    match &handscore {
        Some(m) => line("handscore", m),
        None if args.reference_only => println!("  {:<16} (not measured)", "handscore"),
        None => println!(
            "  {:<16} (not measured: {})",
            "handscore",
            hand.as_ref().err().map_or("it failed", |e| e.as_str())
        ),
    }
    line("reference", &reference);
    for (threads, m) in &measured {
        line(&format!("rulebook {threads} thr"), m);
    }
    if measured.is_empty() {
        println!("  {:<16} (not measured)", "rulebook score");
    }
    // The headline: rulebook on every core against the others on every core.
    if let Some((threads, m)) = measured.last() {
        let ratio = |base: &Measure| {
            (
                base.wall.as_secs_f64() / m.wall.as_secs_f64().max(1e-9),
                base.cpu.as_secs_f64() / m.cpu.as_secs_f64().max(1e-9),
            )
        };
        println!();
        if let Some(h) = &handscore {
            let (wall, cpu) = ratio(h);
            println!(
                "  throughput rulebook ({threads} thr)/handscore: {wall:.2}x by wall time, {cpu:.2}x by CPU time; \
                 peak memory {:.1} MB vs {:.1} MB ({:.2}x)",
                m.rss as f64 / 1e6,
                h.rss as f64 / 1e6,
                m.rss as f64 / h.rss.max(1) as f64
            );
        }
        let (wall, cpu) = ratio(&reference);
        println!("  throughput rulebook ({threads} thr)/reference: {wall:.2}x by wall time, {cpu:.2}x by CPU time");
        if let (Some((1, one)), true) = (measured.first(), measured.len() > 1) {
            println!(
                "  rulebook scaling 1 → {threads} threads: {:.2}x by wall time",
                one.wall.as_secs_f64() / m.wall.as_secs_f64().max(1e-9)
            );
        }
    }
    println!(
        "  reference phases: read+fold+score {:.2} s, jsonl {:.2} s; its RSS is the whole bench process",
        scored.as_secs_f64(),
        (reference.wall - scored).as_secs_f64()
    );

    // 5. Do they agree?
    if args.check && !measured.is_empty() {
        let out = dir.join("rulebook.jsonl");
        let stderr = dir.join("rulebook-check.stderr");
        match run_rulebook(&binary, &events, &roster, &out, &stderr, None)? {
            Ok(_) => ok &= check(&out, &batch),
            Err(status) => {
                eprintln!("the check run failed ({status}):\n{}", tail(&stderr, 20));
                ok = false;
            }
        }
        if let (Ok(hand), Some(_)) = (&hand, &handscore) {
            let theirs = dir.join("handscore.jsonl");
            let stderr = dir.join("handscore-check.stderr");
            match run_handscore(hand, &events, &roster, &theirs, &stderr)? {
                Ok(_) => ok &= check_handscore(&out, &theirs),
                Err(status) => eprintln!("the handscore check run failed ({status}):\n{}", tail(&stderr, 20)),
            }
        }
    }
    Ok(ok)
}

/// Compares the first customers of rulebook's jsonl with the reference's.
fn check(out: &Path, batch: &Batch) -> bool {
    let Ok(file) = File::open(out) else {
        println!("  check: {} is missing", out.display());
        return false;
    };
    let (mut mismatches, mut shown, mut lines) = (0usize, 0usize, 0usize);
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let Ok(line) = line else { break };
        lines += 1;
        if i >= CHECKED {
            continue;
        }
        let want = batch.results.get(i);
        let problem = match (parse_line(&line), want) {
            (Err(e), _) => Some(format!("line {}: {e}: {line}", i + 1)),
            (Ok(_), None) => Some(format!("line {}: the reference has no customer here: {line}", i + 1)),
            (Ok(got), Some((customer, s))) => differ(&got, customer, s).map(|d| {
                format!(
                    "{customer}: {d}\n      rulebook:  {line}\n      reference: {}",
                    jsonl(customer, s)
                )
            }),
        };
        if let Some(p) = problem {
            mismatches += 1;
            if shown < 5 {
                println!("  mismatch {p}");
                shown += 1;
            }
        }
    }
    let checked = lines.min(CHECKED);
    println!(
        "  check: first {} customers compared, {mismatches} mismatches",
        group(checked as u64)
    );
    if lines != batch.results.len() {
        println!(
            "  check: rulebook wrote {} lines, the reference scored {} customers",
            group(lines as u64),
            group(batch.results.len() as u64)
        );
        return false;
    }
    mismatches == 0
}

/// Compares every customer of rulebook's jsonl with handscore's: the same
/// customers in the same order, with the same class, total, grade and
/// dimensions.
fn check_handscore(ours: &Path, theirs: &Path) -> bool {
    let (Ok(a), Ok(b)) = (File::open(ours), File::open(theirs)) else {
        println!("  handscore check: an output is missing");
        return false;
    };
    let (mut a, mut b) = (BufReader::new(a).lines(), BufReader::new(b).lines());
    let (mut compared, mut mismatches) = (0u64, 0u64);
    loop {
        let (x, y) = match (a.next(), b.next()) {
            (None, None) => break,
            (Some(Ok(x)), Some(Ok(y))) => (x, y),
            _ => {
                println!("  handscore check: a different number of customers after {compared}");
                return false;
            }
        };
        compared += 1;
        let same = match (parse_line(&x), parse_line(&y)) {
            (Ok(p), Ok(q)) => {
                let dims = |l: &Line| {
                    let mut d = l.dims.clone();
                    d.sort();
                    d
                };
                p.customer == q.customer
                    && p.class == q.class
                    && p.total == q.total
                    && p.grade == q.grade
                    && dims(&p) == dims(&q)
            }
            _ => false,
        };
        if !same {
            mismatches += 1;
            if mismatches <= 5 {
                println!("  handscore mismatch\n      rulebook:  {x}\n      handscore: {y}");
            }
        }
    }
    println!(
        "  handscore check: all {} customers compared, {mismatches} mismatches",
        group(compared)
    );
    mismatches == 0
}

/// The pinned jsonl fields of one line.
struct Line {
    customer: String,
    class: String,
    total: Num,
    grade: String,
    dims: Vec<(String, Num)>,
    flags: Option<Vec<String>>,
}

fn parse_line(line: &str) -> Result<Line, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let text = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .ok_or(format!("no `{k}`"))
    };
    let num = |x: &serde_json::Value| match x {
        serde_json::Value::Number(n) => Num::parse(&n.to_string()).map_err(|e| format!("{n} {e}")),
        other => Err(format!("{other} is not a number")),
    };
    let dims = v
        .get("dimensions")
        .and_then(|d| d.as_object())
        .ok_or("no `dimensions` object")?
        .iter()
        .map(|(k, x)| Ok((k.clone(), num(x)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let flags = v
        .get("flags")
        .and_then(|f| f.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect());
    Ok(Line {
        customer: text("customer")?,
        class: text("class")?,
        total: num(v.get("total").ok_or("no `total`")?)?,
        grade: text("grade")?,
        dims,
        flags,
    })
}

fn differ(got: &Line, customer: &str, s: &Scored) -> Option<String> {
    if got.customer != customer {
        return Some(format!(
            "customer {:?} where the reference has {customer:?}",
            got.customer
        ));
    }
    let mut d = Vec::new();
    if got.class != s.class.name() {
        d.push("class");
    }
    if got.total != s.total {
        d.push("total");
    }
    if got.grade != s.grade {
        d.push("grade");
    }
    let mut a: Vec<(&str, Num)> = got.dims.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let mut b = s.dims.clone();
    a.sort();
    b.sort();
    if a != b {
        d.push("dimensions");
    }
    if let Some(flags) = &got.flags {
        let (mut x, mut y) = (flags.clone(), s.flags.clone());
        x.sort();
        y.sort();
        if x != y {
            d.push("flags");
        }
    }
    (!d.is_empty()).then(|| d.join(", ") + " differ")
}

// ── Running the binary ──────────────────────────────────────────────────────

/// The binary cargo built for this bench (target/release/rulebook), or
/// `RULEBOOK_BIN`; built with `cargo build --release` if missing.
fn rulebook_binary() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("RULEBOOK_BIN") {
        return Ok(PathBuf::from(p));
    }
    let built = PathBuf::from(env!("CARGO_BIN_EXE_rulebook"));
    if built.exists() {
        return Ok(built);
    }
    let manifest = env!("CARGO_MANIFEST_DIR");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| Path::new(manifest).join("target"), PathBuf::from);
    let binary = target.join("release").join("rulebook");
    if !binary.exists() {
        eprintln!("building {} …", binary.display());
        let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["build", "--release", "--bin", "rulebook"])
            .current_dir(manifest)
            .status()
            .map_err(|e| format!("cargo build: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build --release failed ({status})"));
        }
    }
    Ok(binary)
}

/// `HANDSCORE`, or `../shared/perf/handscore` from the crate root; a note
/// when it is not there.
fn handscore_binary() -> Result<PathBuf, String> {
    let path = std::env::var_os("HANDSCORE").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/perf/handscore"),
        PathBuf::from,
    );
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "no handscore at {} (set HANDSCORE): the hand-written scorer is skipped",
            path.display()
        ))
    }
}

/// Whether the binary's `score` takes `--threads`.
fn has_threads(binary: &Path) -> bool {
    Command::new(binary)
        .args(["score", "--help"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--threads"))
}

fn has_score(binary: &Path) -> bool {
    Command::new(binary)
        .args(["score", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `rulebook score` once; `Ok(Err(status))` when it exits non-zero.
fn run_rulebook(
    binary: &Path,
    events: &Path,
    roster: &Path,
    output: &Path,
    stderr: &Path,
    threads: Option<usize>,
) -> Result<Result<Measure, String>, String> {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules").join("credit.rules");
    let mut cmd = Command::new(binary);
    cmd.arg("score")
        .arg(&rules)
        .arg("--events")
        .arg(events)
        .arg("--customers")
        .arg(roster);
    cmd.args(["--as-of", AS_OF, "--format", "jsonl", "--output"])
        .arg(output);
    if let Some(n) = threads {
        // `--threads` where the binary has it; rayon's own variable otherwise.
        if has_threads(binary) {
            cmd.arg("--threads").arg(n.to_string());
        }
        cmd.env("RAYON_NUM_THREADS", n.to_string());
    }
    measure(cmd, binary, None, stderr)
}

/// Runs handscore once, its output to `output`.
fn run_handscore(
    binary: &Path,
    events: &Path,
    roster: &Path,
    output: &Path,
    stderr: &Path,
) -> Result<Result<Measure, String>, String> {
    let mut cmd = Command::new(binary);
    cmd.arg("--events")
        .arg(events)
        .arg("--customers")
        .arg(roster)
        .args(["--as-of", AS_OF]);
    measure(cmd, binary, Some(output), stderr)
}

/// Spawns `cmd` (stdout to `output` or nowhere, stderr to `stderr`) and
/// measures it; `Ok(Err(status))` when it exits non-zero.
fn measure(
    mut cmd: Command,
    binary: &Path,
    output: Option<&Path>,
    stderr: &Path,
) -> Result<Result<Measure, String>, String> {
    let err = File::create(stderr).map_err(|e| format!("{}: {e}", stderr.display()))?;
    let out = match output {
        Some(o) => Stdio::from(File::create(o).map_err(|e| format!("{}: {e}", o.display()))?),
        None => Stdio::null(),
    };
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    let t = Instant::now();
    let child = cmd.spawn().map_err(|e| format!("{}: {e}", binary.display()))?;
    let (status, cpu, rss) = wait_with_usage(child)?;
    let wall = t.elapsed();
    Ok(if status == 0 {
        Ok(Measure { wall, cpu, rss })
    } else {
        Err(format!("exit status {status}"))
    })
}

/// Waits for the child with `wait4`, which reports that child's own CPU
/// time and peak resident set (`ru_maxrss`, KiB on Linux). Returns (exit
/// code, CPU time, bytes).
fn wait_with_usage(child: std::process::Child) -> Result<(i32, Duration, u64), String> {
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own unreaped child (std never waits for it
        // since we never call `wait` on `child`); both pointers are valid.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4: {e}"));
        }
    }
    drop(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Ok((code, cpu_time(&usage), usage.ru_maxrss as u64 * 1024))
}

fn cpu_time(u: &libc::rusage) -> Duration {
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// This process's CPU time so far and peak resident set (bytes).
fn self_usage() -> (Duration, u64) {
    // SAFETY: as above; getrusage only writes the struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid `who` and a valid pointer.
    let r = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if r == 0 {
        (cpu_time(&usage), usage.ru_maxrss as u64 * 1024)
    } else {
        (Duration::ZERO, 0)
    }
}

fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// 1234567 → "1,234,567".
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
