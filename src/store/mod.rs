//! Layer 3, `store`: where a write transaction's pages come from and how they reach the
//! file. The freelist and its free segments (which pages are free, on disk), the pool of
//! reusable pages and the stretches of consecutive ones, the transaction's dirty pages,
//! spilling them before commit, the page store that ties these together, and the ordered
//! writes of a commit.
//!
//! Built on the page format (`page`) and the file (`os`); the B-tree above changes pages
//! through [`PageStore`](page_store::PageStore).

pub(crate) mod dirty;
pub(crate) mod free_segment;
pub(crate) mod freelist;
pub(crate) mod ordered_write;
pub(crate) mod page_store;
pub(crate) mod pool;
pub(crate) mod segment_summary;
pub(crate) mod spill;
pub(crate) mod stretch;
