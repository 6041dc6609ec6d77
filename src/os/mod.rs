//! Layer 1, `os`: file I/O, the memory map and file locks.
//!
//! This is the only layer with `unsafe` code (see docs/unsafe.md). Everything above it sees
//! the data file as a byte slice (the map) for reads and a narrow [`PageIo`] trait for writes,
//! so a test can put a crash-simulating implementation under the page store.

mod anchor;
pub(crate) mod descriptor;
mod file;
mod lock;
mod maps;
mod mmap;
pub(crate) mod process;
#[cfg(any(test, feature = "test-support"))]
pub(crate) mod simulated;
mod tagged;

pub(crate) use anchor::Anchor;
pub(crate) use file::OsFile;
pub use file::{PageIo, PageIoFactory};
pub(crate) use lock::{LockFile, Role};
#[cfg(all(test, loom))]
pub(crate) use maps::Pins;
pub(crate) use maps::{AddError, MapSet, OLD_MAPS_MAX};
pub(crate) use mmap::Map;
pub use tagged::Tagged;

/// `error`, an error of the operating system about the file at `path`, with the path and
/// what was being done in its message. Its kind stays the same, and the original error is its
/// source (`std::error::Error::source`), where its OS error code can be read.
pub(crate) fn at_path(
    path: &std::path::Path,
    doing: &'static str,
    error: std::io::Error,
) -> std::io::Error {
    std::io::Error::new(
        error.kind(),
        FileError {
            path: path.to_path_buf(),
            doing,
            error,
        },
    )
}

/// An I/O error about one file (see [`at_path`]).
#[derive(Debug)]
struct FileError {
    path: std::path::PathBuf,
    doing: &'static str,
    error: std::io::Error,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.doing, self.path.display(), self.error)
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

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

/// Asks the CPU to start loading the cache line holding `bytes[0]` (a hint: nothing happens
/// on other architectures or for an empty slice). A B-tree search knows which lines it will
/// read next several steps ahead; loading them together instead of one after another is what
/// makes it faster.
#[inline(always)]
pub(crate) fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if !bytes.is_empty() {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 CPU has (it is in the target's
        // baseline). A prefetch is a hint: it never faults, even on an invalid address, and
        // changes no memory; the pointer here is moreover in bounds of a live slice.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().cast()) };
    }
}
