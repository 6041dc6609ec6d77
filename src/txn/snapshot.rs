//! A commit as a transaction reads it: its meta and which map covers its pages.

use crate::page::meta::Meta;

/// One commit's meta and the index of a map (in the environment's `MapSet`) covering every
/// page it names.
///
/// The environment caches the newest one, and each thread remembers the last one it read
/// (`env/snapshot_cache.rs`); a read transaction copies it. A write transaction changes its
/// copy's meta in place (the meta it will commit).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    pub(crate) meta: Meta,
    pub(crate) map: usize,
}
