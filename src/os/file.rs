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
}

impl OsFile {
    pub(crate) fn new(file: File) -> OsFile {
        OsFile { file }
    }
}

impl PageIo for OsFile {
    fn write_at(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all_at(bytes, offset)
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
