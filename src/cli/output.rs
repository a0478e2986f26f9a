//! Command-line helpers: where results go. An output is never one of the
//! inputs (or the other output), compared by file identity, not by spelling;
//! and it is written to a temporary file beside it, renamed over it only when
//! the run succeeds, so a failed run leaves no truncated file behind.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What a path names: a file that exists, by device and inode; else the
/// canonical place it would be created.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    File(u64, u64),
    Place(PathBuf),
}

fn identity(p: &Path) -> Option<Identity> {
    match std::fs::metadata(p) {
        Ok(m) => file_identity(p, &m),
        Err(_) => {
            let name = p.file_name()?;
            let parent = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            Some(Identity::Place(parent.canonicalize().ok()?.join(name)))
        }
    }
}

#[cfg(unix)]
fn file_identity(_: &Path, m: &std::fs::Metadata) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    Some(Identity::File(m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_identity(p: &Path, _: &std::fs::Metadata) -> Option<Identity> {
    p.canonicalize().ok().map(Identity::Place)
}

/// A device or pipe (`/dev/null`, `/dev/stdout`): written in place, never renamed over.
fn is_special(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| !m.is_file())
}

/// Ends the run with exit code 2, the code of a usage error.
pub fn usage_error(message: String) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

/// Refuses (exit 2, before anything is read) an output that is an input or
/// another output. `inputs` and `outputs` pair a role (`--events`) with a path;
/// `-` (standard input or output) is never a file here.
pub fn refuse_overwrites(inputs: &[(&str, &Path)], outputs: &[(&str, &Path)]) {
    let is_std = |p: &Path| p.as_os_str() == "-";
    for (i, (role, out)) in outputs.iter().enumerate() {
        if is_std(out) || is_special(out) {
            continue;
        }
        let Some(id) = identity(out) else { continue };
        let clash = inputs
            .iter()
            .filter(|(_, p)| !is_std(p))
            .chain(outputs.iter().take(i))
            .find(|(_, p)| identity(p).as_ref() == Some(&id));
        if let Some((other, p)) = clash {
            usage_error(format!(
                "{role} `{}` is the same file as {other} `{}`: it would be overwritten; write to another file",
                out.display(),
                p.display()
            ));
        }
    }
}

/// Refuses (exit 2, before anything is read) an events file given twice,
/// however spelled: its rows would count twice and could change a grade
/// (four arrears instead of two) without any error.
pub fn refuse_repeats(events: &[&Path]) {
    let file = |p: &Path| {
        if p.as_os_str() == "-" || is_special(p) {
            return None;
        }
        std::fs::metadata(p).ok().and_then(|m| file_identity(p, &m))
    };
    for (i, p) in events.iter().enumerate() {
        let Some(id) = file(p) else { continue };
        if let Some(q) = events.iter().take(i).find(|q| file(q).as_ref() == Some(&id)) {
            usage_error(format!(
                "--events `{}` and `{}` are the same file: its rows would be read and counted twice; give each file once",
                q.display(),
                p.display()
            ));
        }
    }
}

/// Replaces `path`'s contents with `bytes` through a temporary file beside
/// it: a failed write leaves the old file whole (`fmt`, `test --update`).
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut out = Output::open(Some(path))?;
    out.write_all(bytes)
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    out.finish()
}

/// Standard output, or a file written through a temporary file beside it.
pub enum Output {
    Stdout(io::StdoutLock<'static>),
    /// Written in place: a device or a pipe.
    Special(File),
    File {
        file: File,
        temp: PathBuf,
        dest: PathBuf,
        done: bool,
    },
}

impl Output {
    /// Standard output for `None` or `-`, else `path`.
    pub fn open(path: Option<&Path>) -> Result<Output, String> {
        let Some(p) = path.filter(|p| p.as_os_str() != "-") else {
            return Ok(Output::Stdout(io::stdout().lock()));
        };
        let cannot = |e: io::Error| format!("cannot create `{}`: {e}", p.display());
        if is_special(p) {
            return File::options().write(true).open(p).map(Output::Special).map_err(cannot);
        }
        // Through a symbolic link: replace the file it points to, not the link.
        let dest = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let name = dest
            .file_name()
            .ok_or_else(|| format!("`{}` is not a file name", p.display()))?;
        let temp = dest.with_file_name(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(cannot)?;
        // A file replaced keeps its permissions.
        if let Ok(m) = std::fs::metadata(&dest) {
            let _ = std::fs::set_permissions(&temp, m.permissions());
        }
        Ok(Output::File {
            file,
            temp,
            dest,
            done: false,
        })
    }

    /// Puts the file in place; without this, the temporary file is removed.
    pub fn finish(mut self) -> Result<(), String> {
        self.flush().map_err(|e| format!("cannot write: {e}"))?;
        if let Output::File { temp, dest, done, .. } = &mut self {
            std::fs::rename(&*temp, &*dest).map_err(|e| format!("cannot write `{}`: {e}", dest.display()))?;
            *done = true;
        }
        Ok(())
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Output::File { temp, done: false, .. } = self {
            let _ = std::fs::remove_file(&*temp);
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(s) => s.write(buf),
            Output::Special(f) | Output::File { file: f, .. } => f.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout(s) => s.write_all(buf),
            Output::Special(f) | Output::File { file: f, .. } => f.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(s) => s.flush(),
            Output::Special(f) | Output::File { file: f, .. } => f.flush(),
        }
    }
}
