//! The lock file beside the data file.
//!
//! For now one process at a time may open an environment: the lock file is held with an
//! exclusive advisory lock for the environment's life. The multi-process reader table will
//! live in this file (a later issue); the lock then becomes shared.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use fs2::FileExt;

/// An open lock file, locked exclusively until dropped.
pub(crate) struct LockFile {
    file: File,
}

impl LockFile {
    /// Opens (creating if asked) and locks `path`. Returns `Ok(None)` when another process
    /// holds the lock.
    pub(crate) fn acquire(path: &Path, create: bool) -> io::Result<Option<LockFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(path)?;
        match file.try_lock_exclusive() {
            Ok(()) => Ok(Some(LockFile { file })),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(error) if error.raw_os_error() == fs2::lock_contended_error().raw_os_error() => {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it prompt.
        let _ = FileExt::unlock(&self.file);
    }
}
