//! Layer 1, `os`: file I/O, the memory map and file locks.
//!
//! This is the only layer with `unsafe` code (see docs/unsafe.md). Everything above it sees
//! the data file as a byte slice (the map) for reads and a narrow [`PageIo`] trait for writes,
//! so a test can put a crash-simulating implementation under the page store.

mod file;
mod lock;
mod mmap;
pub(crate) mod process;
#[cfg(any(test, feature = "test-support"))]
pub(crate) mod simulated;

pub(crate) use file::OsFile;
pub use file::{PageIo, PageIoFactory};
pub(crate) use lock::{LockFile, Role};
pub(crate) use mmap::Map;

/// The operating system's memory page size in bytes: the default page size of new files.
pub(crate) fn os_page_size() -> usize {
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size <= 0 {
        4096
    } else {
        size as usize
    }
}
