//! `RULEBOOK_TIMING=1`: the wall and CPU time of each phase of a run, on
//! stderr, for whoever measures it (benches/README.md). Without the variable
//! (or with it empty or `0`) nothing is measured or printed: a phase's end
//! is one load of a flag.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// When the last phase ended: wall clock, and the process's CPU time.
static LAST: Mutex<Option<(Instant, Option<Duration>)>> = Mutex::new(None);

fn on() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("RULEBOOK_TIMING").is_some_and(|v| !v.is_empty() && v != "0"))
}

/// Starts timing the run (`main`, first thing): the first phase is
/// measured from here.
pub fn start() {
    if on() {
        *LAST.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), cpu()));
    }
}

/// Ends the phase `name` (begun at the last phase's end, or `start`) and
/// prints how long it took: `timing: roster read 131 ms wall, 250 ms CPU`.
pub fn phase(name: &str) {
    if !on() {
        return;
    }
    let (now, cpu_now) = (Instant::now(), cpu());
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((then, cpu_then)) = *last {
        let cpu = match (cpu_then, cpu_now) {
            (Some(a), Some(b)) => format!(", {} ms CPU", b.saturating_sub(a).as_millis()),
            _ => String::new(),
        };
        eprintln!("timing: {name} {} ms wall{cpu}", (now - then).as_millis());
    }
    *last = Some((now, cpu_now));
}

/// The CPU time of the whole process (every thread, user and system), from
/// `/proc/self/stat` (in the kernel's clock ticks, 100 a second); `None`
/// where there is no such file.
fn cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which may hold spaces, in parentheses.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split(' ');
    // utime and stime are the stat's 14th and 15th fields: the 12th and 13th after the name.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_process_cpu_time_is_read_where_linux_gives_it() {
        if cfg!(target_os = "linux") {
            let t = super::cpu().expect("/proc/self/stat has utime and stime");
            // Spin until some CPU time shows (ticks are 10 ms).
            let spin = std::time::Instant::now();
            while super::cpu() == Some(t) && spin.elapsed().as_secs() < 5 {}
            assert!(super::cpu() > Some(t), "CPU time grows as the process works");
        }
    }
}
