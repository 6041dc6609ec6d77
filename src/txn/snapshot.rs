//! A commit as a transaction reads it: its meta and a map that covers its pages.

use std::sync::Arc;

use crate::os::Map;
use crate::page::meta::Meta;

/// One commit's meta with a map covering every page it names.
///
/// The environment caches the newest one, and a read transaction begins by cloning that
/// `Arc`: one reference count, not a copy of the meta and a second lock for the map, and a
/// transaction small enough to move without a `memcpy`. A write transaction owns its
/// snapshot alone and changes its meta in place (the meta it will commit).
pub(crate) struct Snapshot {
    pub(crate) meta: Meta,
    pub(crate) map: Arc<Map>,
}

impl Snapshot {
    pub(crate) fn new(meta: Meta, map: Arc<Map>) -> Arc<Snapshot> {
        Arc::new(Snapshot { meta, map })
    }
}
