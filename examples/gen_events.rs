//! Example: writes a seeded synthetic event log (and roster) for the
//! published standard, the same one the benchmark scores.
//!
//! ```text
//! cargo run --release --example gen_events -- --customers 100000 --seed 42 --out events.csv --roster roster.csv
//! ```

#[path = "../benches/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::ExitCode;

use rulebook::date::Date;
use support::generate::{write_files, Config};

const USAGE: &str = "usage: gen_events --customers N [--seed S] [--as-of YYYY-MM-DD] --out FILE [--roster FILE]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_events: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut cfg = Config::new(0, 42);
    let (mut out, mut roster, mut customers) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--customers" => {
                customers = Some(
                    value()?
                        .replace('_', "")
                        .parse::<u64>()
                        .map_err(|e| format!("--customers: {e}"))?,
                )
            }
            "--seed" => cfg.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--as-of" => {
                let v = value()?;
                cfg.as_of = Date::parse(&v).ok_or_else(|| format!("--as-of: {v:?} is not a date"))?;
            }
            "--out" => out = Some(PathBuf::from(value()?)),
            "--roster" => roster = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    cfg.customers = customers.ok_or("--customers is required")?;
    let out = out.ok_or("--out is required")?;
    let w = write_files(&cfg, &out, roster.as_deref()).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!(
        "wrote {} rows ({:.1} MB) for {} customers to {}{}",
        w.rows,
        w.bytes as f64 / 1e6,
        cfg.customers,
        out.display(),
        roster.map_or(String::new(), |r| format!(
            ", {} roster rows to {}",
            w.roster_rows,
            r.display()
        ))
    );
    Ok(())
}
