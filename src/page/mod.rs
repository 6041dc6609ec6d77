//! Layer 2, `page`: page and txn ids, the page header, meta pages, the freelist, the reader
//! table and the write transaction's page store.
//!
//! Everything here works on fixed-size pages of bytes; the meaning of a branch or leaf page's
//! contents belongs to the `btree` layer above.

pub(crate) mod dirty;
pub(crate) mod free_segment;
pub(crate) mod freelist;
pub(crate) mod header;
pub(crate) mod id;
pub(crate) mod meta;
pub(crate) mod ordered_write;
pub(crate) mod pool;
pub(crate) mod readers;
pub(crate) mod segment_summary;
pub(crate) mod spill;
pub(crate) mod store;
pub(crate) mod stretch;

pub(crate) use id::{PageId, TxnId};
