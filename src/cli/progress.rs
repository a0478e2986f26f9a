//! Command-line helper: a progress line on stderr while event logs are read
//! (bytes read of the files' size, rate, time left). Only on a terminal, not
//! with `--quiet`, and only once a read has taken a second: short runs and
//! redirected stderr stay clean.

use std::io::{IsTerminal, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Counts the bytes its readers hand out; a thread draws them.
pub struct Progress {
    read: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    drawer: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts drawing when `wanted` and stderr is a terminal; `total` is the
    /// files' size in bytes (0 when unknown, e.g. standard input).
    pub fn start(total: u64, wanted: bool) -> Progress {
        let read = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let drawer = (wanted && std::io::stderr().is_terminal()).then(|| {
            let (read, done) = (read.clone(), done.clone());
            std::thread::spawn(move || draw(&read, &done, total))
        });
        Progress { read, done, drawer }
    }

    /// The count of bytes read, for a reader that hands out no bytes to
    /// count (`input::Mapped`).
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.read.clone()
    }

    /// `reader`, counted.
    pub fn count(&self, reader: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
        Box::new(Counted {
            inner: reader,
            read: self.read.clone(),
        })
    }

    /// Stops drawing and clears the line.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.drawer.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Counted {
    inner: Box<dyn Read + Send>,
    read: Arc<AtomicU64>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn draw(read: &AtomicU64, done: &AtomicBool, total: u64) {
    let started = Instant::now();
    let mut drawn = false;
    while !done.load(Ordering::Relaxed) {
        std::thread::park_timeout(Duration::from_millis(250));
        let secs = started.elapsed().as_secs_f64();
        if done.load(Ordering::Relaxed) || secs < 1.0 {
            continue;
        }
        let bytes = read.load(Ordering::Relaxed);
        let line = line(bytes, total, secs);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{line}");
        let _ = err.flush();
        drawn = true;
    }
    if drawn {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K");
        let _ = err.flush();
    }
}

/// `reading: 123.4 of 403.8 MB (31%), 52.0 MB/s, 5 s left`.
fn line(bytes: u64, total: u64, secs: f64) -> String {
    let mb = |b: u64| b as f64 / 1e6;
    let rate = mb(bytes) / secs.max(1e-9);
    if total == 0 {
        return format!("reading: {:.1} MB, {rate:.1} MB/s", mb(bytes));
    }
    let left = if rate > 0.0 {
        format!(", {:.0} s left", mb(total.saturating_sub(bytes)) / rate)
    } else {
        String::new()
    };
    format!(
        "reading: {:.1} of {:.1} MB ({:.0}%), {rate:.1} MB/s{left}",
        mb(bytes),
        mb(total),
        100.0 * bytes as f64 / total as f64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_how_far_how_fast_and_how_long() {
        assert_eq!(
            line(100_000_000, 400_000_000, 2.0),
            "reading: 100.0 of 400.0 MB (25%), 50.0 MB/s, 6 s left"
        );
        assert_eq!(line(5_000_000, 0, 1.0), "reading: 5.0 MB, 5.0 MB/s");
    }

    #[test]
    fn counted_readers_add_up() {
        let p = Progress::start(10, false);
        let mut r = p.count(Box::new(&b"hello"[..]));
        let mut s = String::new();
        r.read_to_string(&mut s).expect("a slice reads");
        assert_eq!(p.read.load(Ordering::Relaxed), 5);
        p.finish();
    }
}
