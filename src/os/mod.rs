//! Layer 1, `os`: file I/O, the memory map and file locks.
//!
//! This is the only layer with `unsafe` code (see docs/unsafe.md). Everything above it sees
//! the data file as a byte slice (the map) for reads and a narrow [`PageIo`] trait for writes,
//! so a test can put a crash-simulating implementation under the page store.

mod file;
mod lock;
mod maps;
mod mmap;
pub(crate) mod process;
#[cfg(any(test, feature = "test-support"))]
pub(crate) mod simulated;

pub(crate) use file::OsFile;
pub use file::{PageIo, PageIoFactory};
pub(crate) use lock::{LockFile, Role};
#[cfg(all(test, loom))]
pub(crate) use maps::Pins;
pub(crate) use maps::{AddError, MapSet, OLD_MAPS_MAX};
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
