//! The read-only memory map of the data file.
//!
//! The map reserves `map_size` bytes of address space, usually far more than the file holds;
//! the file grows into it as commits write pages. Only bytes below the file's length may be
//! touched (past it the kernel raises SIGBUS), so every reader bounds page numbers by its
//! snapshot's page count, and a commit grows the file before any meta page can name the new
//! pages (docs/design.md, invariant 5).

use std::fs::File;
use std::io;

use memmap2::{Mmap, MmapOptions};

/// A shared, read-only mapping of the whole data file plus room to grow.
pub(crate) struct Map {
    mmap: Mmap,
}

impl Map {
    /// Maps `len` bytes of `file` from offset 0.
    pub(crate) fn new(file: &File, len: usize) -> io::Result<Map> {
        // SAFETY: the mapping is read-only and shared. The soundness conditions are the ones
        // `EnvOpenOptions::open` documents and its caller accepts: no other program truncates
        // or rewrites the file while it is mapped. Within arbordb, bytes are only written to
        // pages no live snapshot can reach (invariant 2), and readers touch only bytes below
        // the file's length (invariant 5). See docs/unsafe.md.
        let mmap = unsafe { MmapOptions::new().len(len).map(file)? };
        Ok(Map { mmap })
    }

    /// The mapped bytes, `len` of them. Only the first `file length` bytes may be read.
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.mmap
    }

    /// The mapped length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.mmap.len()
    }
}
