//! Scratch folders for tests that write files: under cargo's own folder for
//! integration tests' files (`CARGO_TARGET_TMPDIR`, inside `target/`), not
//! the system's temporary folder, and removed when the test is done with
//! them (`Scratch`), so the test files of a run do not pile up.

use std::path::{Path, PathBuf};

/// A fresh folder `prefix-name-pid`, emptied if a run before left it.
pub fn folder(prefix: &str, name: &str) -> Scratch {
    let dir = root().join(format!("{prefix}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    Scratch(dir)
}

/// Where the integration tests write their files.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
}

/// A folder removed, with everything in it, when dropped.
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
