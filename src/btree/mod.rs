//! Layer 4, `btree`: the copy-on-write B+tree.
//!
//! Pages come from a [`PageSource`] (a transaction: the map plus, for a write transaction,
//! its dirty pages). Reads ([`cursor`]) never change anything; writes ([`mutate`]) go through
//! the write transaction's [`PageStore`](crate::store::page_store::PageStore), which copies every
//! committed page before it is changed.

pub(crate) mod check;
pub(crate) mod copy;
pub(crate) mod cursor;
pub(crate) mod dup_write;
pub(crate) mod duplicates;
#[cfg(debug_assertions)]
mod invariants;
pub(crate) mod mutate;
pub(crate) mod node;
pub(crate) mod order;
pub(crate) mod overflow;
pub(crate) mod pair_cursor;
pub(crate) mod verify;

use crate::error::Result;
use crate::page::PageId;

/// The deepest tree arbordb reads. A tree deeper than this in a file is corruption: with at
/// least four cells per page, 32 levels would hold more pages than a 64-bit file can.
pub(crate) const DEPTH_MAX: u32 = 32;

/// Where tree pages are read from.
pub(crate) trait PageSource {
    /// The page size in bytes.
    fn page_size(&self) -> usize;
    /// The bytes of `pages` consecutive pages starting at `id`, bounds-checked.
    fn read(&self, id: PageId, pages: usize) -> Result<&[u8]>;
    /// Every page number is below this.
    fn page_count(&self) -> u64;
    /// The bytes of branch or leaf page `id`, for a walk. A source that verifies checksums
    /// (`verify.rs`) checks the page's here; the default does not, the writer's pages being
    /// verified when they are copied and a read transaction's only when asked to.
    #[inline]
    fn read_tree_page(&self, id: PageId) -> Result<&[u8]> {
        self.read(id, 1)
    }
    /// The bytes of the whole overflow run of `pages` pages at `id`, whose structure the
    /// caller has checked; verified as [`PageSource::read_tree_page`] is.
    #[inline]
    fn read_overflow_run(&self, id: PageId, pages: usize) -> Result<&[u8]> {
        self.read(id, pages)
    }
}
