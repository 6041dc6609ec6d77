//! The read-only memory map of the data file.
//!
//! The map reserves `map_size` bytes of address space, usually far more than the file holds;
//! the file grows into it as commits write pages. Only bytes below the file's length may be
//! touched (past it the kernel raises SIGBUS), so every reader bounds page numbers by its
//! snapshot's page count, and a commit grows the file before any meta page can name the new
//! pages (docs/design.md, invariant 5). A map replaced by a newer one is unmapped
//! ([`Map::release`]) once no transaction reads through it (`maps.rs`).

use std::fs::File;
use std::io;

use memmap2::{Mmap, MmapOptions};
use parking_lot::Mutex;

/// A shared, read-only mapping of the whole data file plus room to grow.
pub(crate) struct Map {
    /// The address the mapping starts at (a number, so that `Map` is `Send` and `Sync` as
    /// its parts are).
    address: usize,
    len: usize,
    /// The mapping, until it is released.
    mmap: Mutex<Option<Mmap>>,
}

impl Map {
    /// Maps `len` bytes of `file` from offset 0. Without `read_ahead`, the kernel is told to
    /// expect random access (`madvise(MADV_RANDOM)`), so a page fault reads one page rather
    /// than its neighbours too (`EnvFlags::NO_READ_AHEAD`).
    pub(crate) fn new(file: &File, len: usize, read_ahead: bool) -> io::Result<Map> {
        // SAFETY: the mapping is read-only and shared. The soundness conditions are the ones
        // `EnvOpenOptions::open` documents and its caller accepts: no other program truncates
        // or rewrites the file while it is mapped. Within arbordb, bytes are only written to
        // pages no live snapshot can reach (invariant 2), and readers touch only bytes below
        // the file's length (invariant 5). See docs/unsafe.md.
        let mmap = unsafe { MmapOptions::new().len(len).map(file)? };
        if !read_ahead {
            mmap.advise(memmap2::Advice::Random)?;
        }
        Ok(Map {
            address: mmap.as_ptr() as usize,
            len: mmap.len(),
            mmap: Mutex::new(Some(mmap)),
        })
    }

    /// The mapped bytes, `len` of them. Only the first `file length` bytes may be read, and
    /// only while the caller's pin names this map (`maps.rs`).
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `address` and `len` describe the mapping made in `new` (memmap2's pointer,
        // never null, also for an empty map), which stays mapped until `release`. `MapSet`
        // (maps.rs) releases a map only once no pin names it, and every caller reads a map's
        // bytes only through a transaction whose pin names the map from before its first
        // read to after its last (the protocol in maps.rs, whose argument is the reader
        // table's). The bytes are read-only and never change under a borrow (see `new`).
        unsafe { std::slice::from_raw_parts(self.address as *const u8, self.len) }
    }

    /// The mapped length in bytes (still known once released).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is still there.
    #[cfg(test)]
    pub(crate) fn is_mapped(&self) -> bool {
        self.mmap.lock().is_some()
    }

    /// Unmaps. Only `MapSet` calls this, once no transaction reads through the map.
    pub(super) fn release(&self) {
        drop(self.mmap.lock().take());
    }
}
