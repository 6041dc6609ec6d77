//! The newest commit's snapshot, cached for read transactions to share.
//!
//! Every read transaction of the newest commit shares one [`Snapshot`] (its meta and a map
//! covering it). The environment keeps it behind a lock, which a read transaction would take
//! and release on every begin: two locked instructions of the five a begin costs. So each
//! thread also remembers, per environment, the last snapshot it was handed, by a `Weak`
//! reference. A begin whose commit is that one upgrades the `Weak` (one compare-and-swap,
//! which the `Arc` clone under the lock cost anyway) and never touches the lock.
//!
//! Why this is sound: within one open environment a txn id names one commit, so a
//! snapshot whose meta has the id being begun is that commit's snapshot, wherever it was
//! remembered (the shared cache relies on the same fact). Why `Weak`: a thread that read
//! from an environment once must not keep that environment's map mapped after it is closed;
//! a dead `Weak` keeps only the snapshot's small allocation, until the entry is reused.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use parking_lot::RwLock;

use crate::page::meta::Meta;
use crate::page::TxnId;
use crate::txn::Snapshot;

/// The newest commit this process knows of, for one environment.
pub(crate) struct SnapshotCache {
    /// The environment's id (unique in the process), which keys the thread-local entries.
    env_id: u64,
    newest: RwLock<Arc<Snapshot>>,
}

/// How many environments a thread remembers a snapshot for at once. Entries are indexed by
/// environment id, so a thread alternating between two environments whose ids collide only
/// falls back to the lock.
const THREAD_ENTRIES: usize = 4;

/// One environment's snapshot as a thread last took it.
struct ThreadEntry {
    env_id: u64,
    txn_id: TxnId,
    snapshot: Weak<Snapshot>,
}

impl ThreadEntry {
    const EMPTY: ThreadEntry = ThreadEntry {
        env_id: 0,
        txn_id: 0,
        snapshot: Weak::new(),
    };
}

thread_local! {
    static THREAD_SNAPSHOTS: RefCell<[ThreadEntry; THREAD_ENTRIES]> =
        const { RefCell::new([ThreadEntry::EMPTY; THREAD_ENTRIES]) };
}

impl SnapshotCache {
    pub(crate) fn new(env_id: u64, newest: Arc<Snapshot>) -> SnapshotCache {
        SnapshotCache {
            env_id,
            newest: RwLock::new(newest),
        }
    }

    /// The cached snapshot if it is of commit `txn_id`.
    #[inline]
    pub(crate) fn get(&self, txn_id: TxnId) -> Option<Arc<Snapshot>> {
        let index = self.env_id as usize % THREAD_ENTRIES;
        // `try_with` fails only while the thread's locals are being destroyed (a read
        // transaction begun in another thread-local's destructor): then take the lock.
        let remembered = THREAD_SNAPSHOTS.try_with(|entries| {
            let entries = entries.borrow();
            let entry = &entries[index];
            if entry.env_id == self.env_id && entry.txn_id == txn_id {
                entry.snapshot.upgrade()
            } else {
                None
            }
        });
        if let Ok(Some(snapshot)) = remembered {
            return Some(snapshot);
        }
        self.get_locked(txn_id, index)
    }

    /// [`get`](Self::get) when this thread does not remember that snapshot: from the shared
    /// cache, remembering it for the next time.
    #[cold]
    fn get_locked(&self, txn_id: TxnId, index: usize) -> Option<Arc<Snapshot>> {
        let snapshot = {
            let newest = self.newest.read();
            if newest.meta.txn_id != txn_id {
                return None;
            }
            newest.clone()
        };
        let _ = THREAD_SNAPSHOTS.try_with(|entries| {
            entries.borrow_mut()[index] = ThreadEntry {
                env_id: self.env_id,
                txn_id,
                snapshot: Arc::downgrade(&snapshot),
            };
        });
        Some(snapshot)
    }

    /// Makes `snapshot` the cached newest commit unless a newer one is cached.
    pub(crate) fn publish(&self, snapshot: &Arc<Snapshot>) {
        let mut newest = self.newest.write();
        if newest.meta.txn_id < snapshot.meta.txn_id {
            *newest = snapshot.clone();
        }
    }

    /// The meta of the cached snapshot.
    pub(crate) fn meta(&self) -> Meta {
        self.newest.read().meta
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::Map;

    fn snapshot(txn_id: TxnId, map: &Arc<Map>) -> Arc<Snapshot> {
        let meta = Meta {
            txn_id,
            ..Meta::empty(4096, 4096)
        };
        Snapshot::new(meta, map.clone())
    }

    #[test]
    fn hands_out_only_the_commit_asked_for_and_keeps_no_map_alive() {
        let dir = tempfile::tempdir().unwrap();
        let file = std::fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.path().join("data"))
            .unwrap();
        file.set_len(4096).unwrap();
        let map = Arc::new(Map::new(&file, 4096).unwrap());
        let cache = SnapshotCache::new(u64::MAX - 3, snapshot(5, &map));

        // The lock path, then the thread's entry: the same snapshot both times.
        let first = cache.get(5).unwrap();
        let second = cache.get(5).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert!(cache.get(4).is_none());
        assert!(cache.get(6).is_none());

        // Another environment with the same thread entry index gets its own snapshot.
        let other = SnapshotCache::new(u64::MAX - 3 - THREAD_ENTRIES as u64, snapshot(5, &map));
        let from_other = other.get(5).unwrap();
        assert!(!Arc::ptr_eq(&first, &from_other));
        assert!(Arc::ptr_eq(&cache.get(5).unwrap(), &first));

        // A newer commit replaces the shared snapshot; an older one does not.
        cache.publish(&snapshot(7, &map));
        cache.publish(&snapshot(6, &map));
        assert_eq!(cache.meta().txn_id, 7);
        assert!(cache.get(5).is_some(), "still alive: `first` holds it");
        drop((first, second, from_other, other));
        assert!(cache.get(5).is_none(), "no one holds commit 5 any more");
        assert!(cache.get(7).is_some());

        // The thread's entries hold the map only weakly.
        drop(cache);
        assert_eq!(Arc::strong_count(&map), 1);
    }
}
