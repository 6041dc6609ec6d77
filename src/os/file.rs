//! The data file's write side: the [`PageIo`] trait and its real implementation.
//!
//! Reads go through the memory map ([`super::Map`]); every write, sync and resize of the data
//! file goes through [`PageIo`]. Keeping the trait this narrow is what lets the crash
//! simulation replace it without touching the B-tree.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// The operations the page store performs on the data file, and nothing else.
///
/// Public only with the `test-support` feature (through `arbordb::testing`), so that tests
/// can put a simulated disk under an environment.
pub trait PageIo: Send + Sync {
    /// Writes all of `bytes` at `offset`.
    fn write_at(&self, offset: u64, bytes: &[u8]) -> io::Result<()>;
    /// Writes all of `bytes` at `offset` and returns once they are on stable storage: one
    /// write through a descriptor opened with `O_DSYNC`, cheaper than a write and an
    /// fdatasync (used for the meta page). Fails like `write_at` followed by `sync_data`.
    fn write_durably(&self, offset: u64, bytes: &[u8]) -> io::Result<()>;
    /// Flushes written data to stable storage (fdatasync).
    fn sync_data(&self) -> io::Result<()>;
    /// Flushes written data and metadata such as the file length (fsync).
    fn sync_all(&self) -> io::Result<()>;
    /// Sets the file's length (used only to grow it).
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// The file's current length in bytes.
    fn file_len(&self) -> io::Result<u64>;
}

/// A function that wraps the data file in a [`PageIo`] (tests use it to simulate a disk).
pub type PageIoFactory = std::sync::Arc<dyn Fn(File) -> io::Result<Box<dyn PageIo>> + Send + Sync>;

/// [`PageIo`] on a real file.
pub(crate) struct OsFile {
    file: File,
    /// The same file opened with `O_DSYNC`, for [`PageIo::write_durably`]; `None` falls back to
    /// a write and an fdatasync.
    synchronous: Option<File>,
}

impl OsFile {
    /// Wraps `file`; `path` is opened a second time with `O_DSYNC` for durable meta writes.
    pub(crate) fn new(file: File, path: Option<&std::path::Path>) -> io::Result<OsFile> {
        let synchronous = match path {
            Some(path) => {
                use std::os::unix::fs::OpenOptionsExt;
                Some(
                    std::fs::OpenOptions::new()
                        .write(true)
                        .custom_flags(libc::O_DSYNC)
                        .open(path)?,
                )
            }
            None => None,
        };
        Ok(OsFile { file, synchronous })
    }
}

impl PageIo for OsFile {
    fn write_at(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all_at(bytes, offset)
    }

    fn write_durably(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        match &self.synchronous {
            Some(synchronous) => synchronous.write_all_at(bytes, offset),
            None => {
                self.file.write_all_at(bytes, offset)?;
                self.file.sync_data()
            }
        }
    }

    fn sync_data(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn sync_all(&self) -> io::Result<()> {
        self.file.sync_all()
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }

    fn file_len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }
}
