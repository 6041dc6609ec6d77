//! The newest commit's snapshot, cached for read transactions to begin from.
//!
//! A read transaction begins from the newest commit's [`Snapshot`] (its meta, the index of a
//! map covering it, and the freelist its meta keeps, if any). The environment keeps that
//! behind a lock, which a read transaction would take and release on every begin: two locked
//! instructions, as costly as the rest of a begin. And a transaction that held its own copy
//! of the meta (136 bytes) would be copied with `memcpy` each time it is returned up a call.
//!
//! So a transaction holds its snapshot in a `Box`, and when it ends its box goes back to the
//! thread it ends on, which keeps one per environment. The next begin on that thread takes
//! the box back: if it holds the commit being begun (no commit since), it is used as it is,
//! with no lock, no copy and no allocation; otherwise it is refilled from the shared cache.
//!
//! Why this is sound: within one open environment a txn id names one commit, so a snapshot
//! whose meta has the id being begun is that commit's snapshot, wherever it was kept (the
//! shared cache relies on the same fact). Its map index names a map of the environment's
//! set, which may have been released since (`os/maps.rs`): a begin moves a snapshot that does
//! not name the newest map to it (`EnvInner::snapshot`) before pinning it. A kept snapshot is
//! plain data: it keeps nothing of a closed environment alive, and no map.

use std::cell::RefCell;

use parking_lot::RwLock;

use crate::page::meta::Meta;
use crate::page::TxnId;
use crate::txn::Snapshot;

/// The newest commit this process knows of, for one environment.
pub(crate) struct SnapshotCache {
    /// The environment's id (unique in the process), which keys the thread-local entries.
    env_id: u64,
    newest: RwLock<Snapshot>,
}

/// How many environments a thread keeps a snapshot box for at once. Entries are indexed by
/// environment id, so a thread alternating between two environments whose ids collide only
/// refills and reallocates.
const THREAD_ENTRIES: usize = 4;

thread_local! {
    /// Per entry: the environment id and a box its last read transaction here ended with.
    static THREAD_SNAPSHOTS: RefCell<[(u64, Option<Box<Snapshot>>); THREAD_ENTRIES]> =
        const { RefCell::new([const { (0, None) }; THREAD_ENTRIES]) };
}

impl SnapshotCache {
    pub(crate) fn new(env_id: u64, newest: Snapshot) -> SnapshotCache {
        SnapshotCache {
            env_id,
            newest: RwLock::new(newest),
        }
    }

    /// The snapshot of commit `txn_id` if it is the cached one, boxed.
    #[inline]
    pub(crate) fn get(&self, txn_id: TxnId) -> Option<Box<Snapshot>> {
        let kept = self.take_kept();
        match kept {
            Some(snapshot) if snapshot.meta.txn_id == txn_id => Some(snapshot),
            kept => self.refill(kept, txn_id),
        }
    }

    /// [`get`](Self::get) when this thread kept no box or one of another commit: copies the
    /// shared cache into the box (or a new one).
    #[cold]
    fn refill(&self, kept: Option<Box<Snapshot>>, txn_id: TxnId) -> Option<Box<Snapshot>> {
        let newest = self.newest.read();
        if newest.meta.txn_id != txn_id {
            drop(newest);
            if let Some(kept) = kept {
                self.give_back(kept);
            }
            return None;
        }
        Some(match kept {
            Some(mut kept) => {
                (*kept).clone_from(&*newest);
                kept
            }
            None => Box::new(newest.clone()),
        })
    }

    /// Takes this thread's box for this environment, if it kept one.
    #[inline]
    fn take_kept(&self) -> Option<Box<Snapshot>> {
        let index = self.env_id as usize % THREAD_ENTRIES;
        // `try_with` fails only while the thread's locals are being destroyed (a transaction
        // begun or ended in another thread-local's destructor): then keep nothing.
        THREAD_SNAPSHOTS
            .try_with(|entries| {
                let mut entries = entries.borrow_mut();
                let (env_id, kept) = &mut entries[index];
                if *env_id == self.env_id {
                    kept.take()
                } else {
                    None
                }
            })
            .ok()
            .flatten()
    }

    /// Keeps the box of a read transaction that ended on this thread, for the next begin.
    #[inline]
    pub(crate) fn give_back(&self, snapshot: Box<Snapshot>) {
        let index = self.env_id as usize % THREAD_ENTRIES;
        let _ = THREAD_SNAPSHOTS.try_with(|entries| {
            let mut entries = entries.borrow_mut();
            let entry = &mut entries[index];
            // A thread holding several transactions of one environment keeps one box.
            if entry.0 != self.env_id || entry.1.is_none() {
                *entry = (self.env_id, Some(snapshot));
            }
        });
    }

    /// Makes `snapshot` the cached newest commit unless a newer one is cached.
    pub(crate) fn publish(&self, snapshot: Snapshot) {
        let mut newest = self.newest.write();
        if newest.meta.txn_id < snapshot.meta.txn_id {
            *newest = snapshot;
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
    use crate::page::id::numbered::txn;

    fn snapshot(txn_id: u64, map: usize) -> Snapshot {
        let meta = Meta {
            txn_id: txn(txn_id),
            ..Meta::empty(4096, 4096)
        };
        Snapshot {
            meta,
            map,
            freelist: None,
        }
    }

    /// Where a snapshot lives, to tell a reused box from a new one.
    fn address(snapshot: &Snapshot) -> usize {
        std::ptr::from_ref(snapshot) as usize
    }

    #[test]
    fn hands_out_only_the_commit_asked_for_and_reuses_the_box_given_back() {
        let cache = SnapshotCache::new(u64::MAX - 3, snapshot(5, 0));
        let first = cache.get(txn(5)).unwrap();
        assert_eq!((first.meta.txn_id, first.map), (txn(5), 0));
        assert!(cache.get(txn(4)).is_none());
        assert!(cache.get(txn(6)).is_none());
        let at = address(&first);
        cache.give_back(first);
        let again = cache.get(txn(5)).unwrap();
        assert_eq!(address(&again), at, "the box given back is reused");
        // While it is taken, another begin gets a box of its own; only one is kept.
        let second = cache.get(txn(5)).unwrap();
        assert_ne!(address(&second), at);
        cache.give_back(again);
        cache.give_back(second);
        assert_eq!(address(&cache.get(txn(5)).unwrap()), at);

        // Another environment with the same thread entry index gets its own snapshot.
        let other = SnapshotCache::new(u64::MAX - 3 - THREAD_ENTRIES as u64, snapshot(5, 1));
        let from_other = other.get(txn(5)).unwrap();
        assert_eq!(from_other.map, 1);
        other.give_back(from_other);
        assert_eq!(cache.get(txn(5)).unwrap().map, 0);

        // A newer commit replaces the shared snapshot; an older one does not. A kept box of
        // an older commit is refilled, not handed out. (A kept box is handed out for the
        // commit it holds even when that is no longer the newest: a txn id names one commit,
        // and a reader asks for the id its slot publishes.)
        let kept = cache.get(txn(5)).unwrap();
        let at = address(&kept);
        cache.give_back(kept);
        cache.publish(snapshot(7, 2));
        cache.publish(snapshot(6, 3));
        assert_eq!(cache.meta().txn_id, txn(7));
        let newest = cache.get(txn(7)).unwrap();
        assert_eq!((newest.meta.txn_id, newest.map), (txn(7), 2));
        assert_eq!(address(&newest), at, "refilled in place");
        cache.give_back(newest);
        assert!(
            cache.get(txn(5)).is_none(),
            "neither kept nor cached any more"
        );
    }
}
