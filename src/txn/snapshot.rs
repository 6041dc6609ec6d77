//! A commit as a transaction reads it: its meta, which map covers its pages, and its freelist
//! when the meta keeps it.

use std::sync::Arc;

use crate::page::meta::Meta;

/// One commit's meta, the index of a map (in the environment's `MapSet`) covering every page
/// it names, and the freelist stream its meta keeps, if it does (format version 5): a later
/// commit may overwrite the meta's slot while transactions still read this commit.
///
/// The environment caches the newest one, and each thread keeps the box of its last read
/// transaction (`env/snapshot_cache.rs`). A write transaction changes its meta in place (the
/// meta it will commit).
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) meta: Meta,
    pub(crate) map: usize,
    pub(crate) freelist: Option<Arc<[u8]>>,
}
