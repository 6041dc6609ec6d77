//! Test support, built only with the `test-support` feature: the simulated disk, the crash
//! case runner shared by the crash tests and the `ops` fuzz target, and the fuzz targets'
//! entry points (so their corpora replay as ordinary tests), and the map of what each page of a
//! file is to its commits (for the corruption tests). Not part of the stable API.

pub mod crash;
pub mod fuzz;
pub mod page_roles;
pub mod recovery;

pub use crate::os::simulated::{
    fate_patterns_drawn, FatePatterns, Fault, SimulatedDisk, DEFAULT_SECTOR_SIZE,
};
pub use crate::os::{PageIo, PageIoFactory};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh directory under the system's temporary directory, removed when dropped. (The
/// library cannot use the `tempfile` crate, which is only a dev-dependency.)
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates the directory.
    pub fn new() -> std::io::Result<TempDir> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "arbordb-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path)?;
        Ok(TempDir { path })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
