//! Layer 2, `page`: the on-disk format of a page: page and transaction ids, the page header
//! (kind, checksum) and the meta pages.
//!
//! Everything here works on fixed-size pages of bytes; the meaning of a branch or leaf page's
//! contents belongs to the `btree` layer above, where pages come from and how they are
//! written to the `store` layer, and who reads which commit to the `readers` layer.

pub(crate) mod catalog_record;
pub(crate) mod header;
pub(crate) mod id;
pub(crate) mod meta;

pub(crate) use id::{PageId, TxnId};
