//! Overflow runs: values too large for a leaf cell, stored in consecutive pages.
//!
//! The first page has the page header (kind 3, aux = pages in the run); the value follows it
//! and continues through the next pages, which have no header of their own.

use super::PageSource;
use crate::error::{Error, Result};
use crate::page::header::{self, PageKind, PAGE_HEADER_SIZE};
use crate::page::PageId;
use crate::store::page_store::PageStore;

/// Pages in the run that holds a `len`-byte value.
pub(crate) fn pages_for(len: usize, page_size: usize) -> usize {
    (PAGE_HEADER_SIZE + len).div_ceil(page_size)
}

/// Writes `value` into a newly allocated run and returns its first page (`map`: the
/// snapshot's, for the allocator).
pub(crate) fn write(store: &mut PageStore, map: &[u8], value: &[u8]) -> Result<PageId> {
    let pages = pages_for(value.len(), store.page_size());
    let id = store.allocate(map, pages)?;
    let run = store.page_mut(id);
    header::init(run, PageKind::Overflow, id);
    header::set_aux(run, pages as u32);
    run[PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + value.len()].copy_from_slice(value);
    Ok(id)
}

/// Checks that `id` starts the run of a `len`-byte value; returns the run's page count.
///
/// Called before a run is read, and before it is freed: freeing a page that a corrupt
/// reference names but that is not a run would put a live page on the freelist.
pub(crate) fn check_run<S: PageSource + ?Sized>(
    source: &S,
    id: PageId,
    len: usize,
) -> Result<usize> {
    let pages = pages_for(len, source.page_size());
    let first = source.read(id, 1)?;
    if header::kind(first) != Some(PageKind::Overflow) || header::page_id(first) != id {
        return Err(Error::corrupted(
            id,
            "expected the first page of an overflow run",
        ));
    }
    if header::aux(first) as usize != pages {
        return Err(Error::corrupted(
            id,
            "overflow run length does not match its value",
        ));
    }
    Ok(pages)
}

/// Reads the `len`-byte value stored in the run at `id`.
pub(crate) fn read<S: PageSource + ?Sized>(source: &S, id: PageId, len: usize) -> Result<&[u8]> {
    let pages = check_run(source, id, len)?;
    let run = source.read_overflow_run(id, pages)?;
    Ok(&run[PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + len])
}
