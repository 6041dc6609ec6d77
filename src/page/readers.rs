//! The reader table: which snapshots live read transactions hold.
//!
//! One slot per reader; a slot holds the snapshot's txn id, or [`FREE`]. Beginning and ending a
//! read transaction takes no lock: a slot is claimed with a compare-and-swap and published with
//! a store. The writer reads the table to find the oldest snapshot still in use before it
//! reuses pages (docs/design.md, "Concurrency protocol").
//!
//! The handshake that makes this safe: a reader stores its snapshot id, issues a `SeqCst`
//! fence, and re-reads the current txn id; if a commit slipped in between, it retries with the
//! newer snapshot. The writer issues a `SeqCst` fence before scanning. So either the writer's
//! scan sees the reader's slot, or the reader's re-check sees the newer commit; a reader can
//! never hold a snapshot the writer did not account for.
//!
//! For now the table lives in this process's memory; a later issue moves it into the shared
//! lock file so that readers in other processes are seen too.

use std::sync::atomic::{fence, AtomicU64, Ordering};

use super::id::TxnId;

/// A slot no reader holds.
const FREE: u64 = 0;
/// A slot claimed by a reader that has not published its snapshot yet. The writer may ignore
/// it: the reader re-checks the current txn id after publishing (see the module docs).
const CLAIMED: u64 = u64::MAX;

/// A fixed number of reader slots.
pub(crate) struct ReaderTable {
    slots: Box<[AtomicU64]>,
}

/// The outcome of [`ReaderTable::begin`].
pub(crate) enum BeginRead<T> {
    /// A slot was claimed and holds the snapshot `T` describes.
    Started { slot: usize, snapshot: T },
    /// Every slot is taken.
    Full,
}

impl ReaderTable {
    /// A table with `max_readers` slots.
    pub(crate) fn new(max_readers: usize) -> ReaderTable {
        ReaderTable {
            slots: (0..max_readers).map(|_| AtomicU64::new(FREE)).collect(),
        }
    }

    /// The number of slots.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Claims a slot and publishes a snapshot in it.
    ///
    /// `current` returns the newest committed snapshot and its txn id; `current_txn_id`
    /// re-reads only the id. The returned snapshot is recorded in the slot and cannot have been
    /// missed by a writer (see the module docs).
    pub(crate) fn begin<T>(
        &self,
        mut current: impl FnMut() -> (TxnId, T),
        current_txn_id: impl Fn() -> TxnId,
    ) -> BeginRead<T> {
        let Some(slot) = self.claim() else {
            return BeginRead::Full;
        };
        loop {
            let (txn_id, snapshot) = current();
            // Txn ids start at 0 for a fresh file; store id + 1 so that 0 can mean FREE.
            self.slots[slot].store(txn_id + 1, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            if current_txn_id() == txn_id {
                return BeginRead::Started { slot, snapshot };
            }
        }
    }

    fn claim(&self) -> Option<usize> {
        self.slots.iter().position(|slot| {
            slot.compare_exchange(FREE, CLAIMED, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
        })
    }

    /// Frees a slot claimed by [`Self::begin`].
    pub(crate) fn end(&self, slot: usize) {
        self.slots[slot].store(FREE, Ordering::Release);
    }

    /// The oldest snapshot any reader holds, or `None` when there is no reader.
    pub(crate) fn oldest(&self) -> Option<TxnId> {
        fence(Ordering::SeqCst);
        self.slots
            .iter()
            .map(|slot| slot.load(Ordering::SeqCst))
            .filter(|&value| value != FREE && value != CLAIMED)
            .map(|value| value - 1)
            .min()
    }

    /// How many slots are in use.
    pub(crate) fn count(&self) -> usize {
        self.slots
            .iter()
            .filter(|slot| slot.load(Ordering::Relaxed) != FREE)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_tracks_live_readers_and_full_table_is_reported() {
        let table = ReaderTable::new(2);
        assert_eq!(table.oldest(), None);
        let BeginRead::Started { slot: first, .. } = table.begin(|| (5, ()), || 5) else {
            panic!("a slot was free")
        };
        let BeginRead::Started { slot: second, .. } = table.begin(|| (0, ()), || 0) else {
            panic!("a slot was free")
        };
        assert_eq!(table.oldest(), Some(0));
        assert!(matches!(table.begin(|| (6, ()), || 6), BeginRead::Full));
        table.end(second);
        assert_eq!(table.oldest(), Some(5));
        table.end(first);
        assert_eq!(table.count(), 0);
    }

    #[test]
    fn begin_retries_when_a_commit_slips_in() {
        let table = ReaderTable::new(1);
        let mut calls = 0;
        let BeginRead::Started { snapshot, .. } = table.begin(
            || {
                calls += 1;
                (calls, calls)
            },
            || 2,
        ) else {
            panic!("a slot was free")
        };
        assert_eq!(snapshot, 2);
        assert_eq!(table.oldest(), Some(2));
    }
}
