//! Layer 3, `readers`: the reader table, which snapshots live read transactions hold, in
//! every process.
//!
//! The table lives in the lock file, mapped as shared memory by every process that has the
//! environment open (or, when that file cannot be written, in this process only; see
//! docs/design.md). It is a header and `max_readers` slots of 64-bit atomics:
//!
//! | word | header | slot |
//! |---|---|---|
//! | 0 | magic `ARBORLCK` | owner pid (0: free; `RECLAIMING`: being freed) |
//! | 1 | layout version | owner start time (0 while the owner fills the slot in) |
//! | 2 | slot count | snapshot txn id + 1 (0: none yet) |
//! | 3 | current txn id (newest commit) | reserved |
//! | 4 | durable txn id | reserved |
//! | 5 to 7 | reserved | reserved |
//!
//! Beginning and ending a read transaction takes no lock. A reader claims a free slot by a
//! compare-and-swap of the pid word, then loops: read the current txn id, find that commit's
//! meta, store the id in the slot, `fence(SeqCst)`, re-read the current txn id; if it changed,
//! retry. A writer stores the current txn id before it scans (a commit publishes its id; a new
//! writer first repairs the id a crashed writer failed to publish), issues `fence(SeqCst)`, and
//! takes the oldest snapshot in the table. Either the writer's scan sees the reader's slot, or
//! the reader's re-check sees the newer id and retries; so no reader can hold a snapshot the
//! writer did not account for. The loom tests below check this for every interleaving.

use crate::os::{LockFile, Role};
use crate::page::id::TxnId;
use crate::sync::{fence, AtomicU64, Ordering};

/// `ARBORLCK` as a little-endian word.
const MAGIC: u64 = u64::from_le_bytes(*b"ARBORLCK");
/// The version of the lock file layout (docs/format.md has its log).
const LAYOUT_VERSION: u64 = 1;
const HEADER_WORDS: usize = 8;
const SLOT_WORDS: usize = 8;

const WORD_MAGIC: usize = 0;
const WORD_VERSION: usize = 1;
const WORD_SLOTS: usize = 2;
const WORD_CURRENT: usize = 3;
const WORD_DURABLE: usize = 4;

const SLOT_PID: usize = 0;
const SLOT_START: usize = 1;
const SLOT_TXN: usize = 2;

/// A slot no process owns.
const FREE: u64 = 0;
/// A slot whose dead owner another process is clearing.
const RECLAIMING: u64 = u64::MAX;

/// The byte length of a table with `slots` slots.
pub(crate) fn table_len(slots: usize) -> usize {
    (HEADER_WORDS + slots * SLOT_WORDS) * 8
}

/// Where the table's words live.
enum Memory {
    /// The lock file, shared with other processes.
    Shared(LockFile),
    /// This process's memory: other processes cannot see these readers.
    Private(Box<[AtomicU64]>),
}

/// Why a lock file's table cannot be used.
#[derive(Debug)]
pub(crate) enum TableError {
    /// Not a lock file of this layout (a foreign file, or another version).
    Foreign(String),
    /// The file could not be resized or mapped.
    Io(std::io::Error),
}

/// The reader table and the two commit ids processes share.
pub(crate) struct ReaderTable {
    memory: Memory,
    slots: usize,
}

/// The outcome of [`ReaderTable::begin`].
pub(crate) enum BeginRead<T> {
    /// A slot was claimed and holds the snapshot `T` describes.
    Started { slot: usize, snapshot: T },
    /// Every slot is taken.
    Full,
}

/// A slot's snapshot word for snapshot `txn_id`: the id plus one, so that 0 means none.
#[inline]
fn slot_word(txn_id: TxnId) -> u64 {
    txn_id.get() + 1
}

/// The snapshot a slot's snapshot word names, `None` for 0.
#[inline]
fn snapshot_in(word: u64) -> Option<TxnId> {
    word.checked_sub(1).map(TxnId::new)
}

impl ReaderTable {
    /// A table in this process's memory only.
    pub(crate) fn private(slots: usize, current: TxnId, durable: TxnId) -> ReaderTable {
        let words = (0..table_len(slots) / 8)
            .map(|_| AtomicU64::new(0))
            .collect();
        let table = ReaderTable {
            memory: Memory::Private(words),
            slots,
        };
        table.initialise(current, durable);
        table
    }

    /// Lets other processes open the environment: the first opener holds the lock file's
    /// open lock exclusive until this (`shared` does it at once unless asked to keep it, as
    /// an environment opened on its previous commit does until its first commit).
    pub(crate) fn share_open_lock(&self) -> std::io::Result<()> {
        match &self.memory {
            Memory::Shared(lock_file) => lock_file.share(),
            _ => Ok(()),
        }
    }

    /// The table of an opened lock file: initialised by the first opener (with `slots` slots,
    /// the newest commit `current` and the durable commit `durable`), else validated, in which
    /// case its own slot count stands.
    pub(crate) fn shared(
        mut lock_file: LockFile,
        role: Role,
        slots: usize,
        current: TxnId,
        durable: TxnId,
        exclusive: bool,
    ) -> Result<ReaderTable, TableError> {
        if role == Role::First {
            lock_file
                .map(table_len(slots), true)
                .map_err(TableError::Io)?;
            let table = ReaderTable {
                memory: Memory::Shared(lock_file),
                slots,
            };
            table.initialise(current, durable);
            if !exclusive {
                table.share_open_lock().map_err(TableError::Io)?;
            }
            return Ok(table);
        }
        lock_file.map(0, false).map_err(TableError::Io)?;
        let words = lock_file.words();
        let word = |index: usize| words.get(index).map(|word| word.load(Ordering::SeqCst));
        if word(WORD_MAGIC) != Some(MAGIC) {
            return Err(TableError::Foreign(
                "it does not start with ARBORLCK".into(),
            ));
        }
        if word(WORD_VERSION) != Some(LAYOUT_VERSION) {
            return Err(TableError::Foreign(format!(
                "its layout version is {:?}, this build reads {LAYOUT_VERSION}",
                word(WORD_VERSION)
            )));
        }
        let file_slots = word(WORD_SLOTS).unwrap_or(0) as usize;
        if file_slots == 0 || table_len(file_slots) > words.len() * 8 {
            return Err(TableError::Foreign(format!(
                "it claims {file_slots} reader slots in {} bytes",
                words.len() * 8
            )));
        }
        Ok(ReaderTable {
            memory: Memory::Shared(lock_file),
            slots: file_slots,
        })
    }

    fn initialise(&self, current: TxnId, durable: TxnId) {
        let words = self.words();
        for word in words {
            word.store(0, Ordering::Relaxed);
        }
        words[WORD_VERSION].store(LAYOUT_VERSION, Ordering::Relaxed);
        words[WORD_SLOTS].store(self.slots as u64, Ordering::Relaxed);
        words[WORD_CURRENT].store(current.get(), Ordering::Relaxed);
        words[WORD_DURABLE].store(durable.get(), Ordering::Relaxed);
        // The magic last: a table is valid only once complete.
        words[WORD_MAGIC].store(MAGIC, Ordering::SeqCst);
    }

    fn words(&self) -> &[AtomicU64] {
        match &self.memory {
            Memory::Shared(lock_file) => lock_file.words(),
            Memory::Private(words) => words,
        }
    }

    fn slot(&self, index: usize, field: usize) -> &AtomicU64 {
        &self.words()[HEADER_WORDS + index * SLOT_WORDS + field]
    }

    /// The lock file, when the table is shared.
    pub(crate) fn lock_file(&self) -> Option<&LockFile> {
        match &self.memory {
            Memory::Shared(lock_file) => Some(lock_file),
            Memory::Private(_) => None,
        }
    }

    /// The number of slots.
    pub(crate) fn capacity(&self) -> usize {
        self.slots
    }

    /// The id of the newest commit.
    pub(crate) fn current_txn_id(&self) -> TxnId {
        TxnId::new(self.words()[WORD_CURRENT].load(Ordering::SeqCst))
    }

    /// Publishes `txn_id` as the newest commit: after a commit, and by a new writer whose
    /// predecessor died before publishing (a meta newer than the current id is on disk).
    pub(crate) fn set_current_txn_id(&self, txn_id: TxnId) {
        self.words()[WORD_CURRENT].store(txn_id.get(), Ordering::SeqCst);
    }

    /// The newest commit known to be on stable storage.
    pub(crate) fn durable_txn_id(&self) -> TxnId {
        TxnId::new(self.words()[WORD_DURABLE].load(Ordering::SeqCst))
    }

    /// Records that `txn_id` is on stable storage.
    pub(crate) fn raise_durable_txn_id(&self, txn_id: TxnId) {
        self.words()[WORD_DURABLE].fetch_max(txn_id.get(), Ordering::SeqCst);
    }

    /// Claims a slot for `pid` (started at `start`) and publishes a snapshot in it.
    ///
    /// `snapshot_of(id)` finds the snapshot of commit `id`: `Ok(None)` if it is gone (a newer
    /// commit overwrote its meta; the loop retries with the newer id), an error to give up. The
    /// returned snapshot is recorded in the slot and cannot have been missed by a writer.
    #[cfg(test)]
    pub(crate) fn begin<T, E>(
        &self,
        pid: u32,
        start: u64,
        snapshot_of: impl FnMut(TxnId) -> Result<Option<T>, E>,
    ) -> Result<BeginRead<T>, E> {
        self.begin_pinned(pid, start, snapshot_of, |_, _| {}, |_| true)
    }

    /// [`Self::begin`], publishing more than the snapshot's id under the same fence: `pin(slot,
    /// Some(snapshot))` is called before the fence (`pin(slot, None)` before the slot is given
    /// up on an error), and a snapshot is returned only if `still_valid(snapshot)` holds after
    /// it; else the loop tries again. (Used for the map a reader reads through,
    /// `os/maps.rs`, whose release scans the pins after a fence of its own.)
    pub(crate) fn begin_pinned<T, E>(
        &self,
        pid: u32,
        start: u64,
        mut snapshot_of: impl FnMut(TxnId) -> Result<Option<T>, E>,
        mut pin: impl FnMut(usize, Option<&T>),
        still_valid: impl Fn(&T) -> bool,
    ) -> Result<BeginRead<T>, E> {
        let Some(slot) = self.claim(pid, start) else {
            return Ok(BeginRead::Full);
        };
        loop {
            let txn_id = self.current_txn_id();
            let snapshot = match snapshot_of(txn_id) {
                Ok(Some(snapshot)) => snapshot,
                Ok(None) => continue,
                Err(error) => {
                    pin(slot, None);
                    self.end(slot);
                    return Err(error);
                }
            };
            // The fence, not the store, orders this store before the re-read below (and
            // against the writer's fence before its scan), so the store itself need not be
            // SeqCst: on x86 that would be a second full barrier (`xchg`) next to the fence.
            self.slot(slot, SLOT_TXN)
                .store(slot_word(txn_id), Ordering::Release);
            pin(slot, Some(&snapshot));
            fence(Ordering::SeqCst);
            if self.current_txn_id() == txn_id && still_valid(&snapshot) {
                return Ok(BeginRead::Started { slot, snapshot });
            }
        }
    }

    fn claim(&self, pid: u32, start: u64) -> Option<usize> {
        let slot = (0..self.slots).find(|&slot| {
            self.slot(slot, SLOT_PID)
                .compare_exchange(FREE, u64::from(pid), Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
        })?;
        self.slot(slot, SLOT_START).store(start, Ordering::Release);
        Some(slot)
    }

    /// Frees a slot claimed by [`Self::begin`].
    pub(crate) fn end(&self, slot: usize) {
        // Release: the reader's last page access happens before the writer can see the slot
        // free (through the writer's SeqCst loads).
        self.slot(slot, SLOT_TXN).store(0, Ordering::Release);
        self.slot(slot, SLOT_START).store(0, Ordering::Release);
        self.slot(slot, SLOT_PID).store(FREE, Ordering::Release);
    }

    /// The oldest snapshot any reader of any process holds, or `None` when there is none.
    /// The caller must have published the current txn id before (see the module docs).
    pub(crate) fn oldest(&self) -> Option<TxnId> {
        fence(Ordering::SeqCst);
        (0..self.slots)
            .filter_map(|slot| snapshot_in(self.slot(slot, SLOT_TXN).load(Ordering::SeqCst)))
            .min()
    }

    /// How many slots are in use.
    pub(crate) fn count(&self) -> usize {
        (0..self.slots)
            .filter(|&slot| self.slot(slot, SLOT_PID).load(Ordering::Relaxed) != FREE)
            .count()
    }

    /// Every slot in use: its owner's pid and the snapshot it holds (`None` while the owner is
    /// still publishing it).
    pub(crate) fn list(&self) -> Vec<(u32, Option<TxnId>)> {
        (0..self.slots)
            .filter_map(|slot| {
                let pid = u32::try_from(self.slot(slot, SLOT_PID).load(Ordering::SeqCst)).ok()?;
                let txn = snapshot_in(self.slot(slot, SLOT_TXN).load(Ordering::SeqCst));
                (pid != 0).then_some((pid, txn))
            })
            .collect()
    }

    /// Frees the slots of processes that no longer run, by `is_alive(pid, start)`; returns how
    /// many. Safe against live owners and against other processes clearing at the same time: a
    /// slot is taken over by a compare-and-swap of its pid before it is cleared.
    pub(crate) fn clear_stale(&self, is_alive: impl Fn(u32, u64) -> bool) -> usize {
        let mut cleared = 0;
        for slot in 0..self.slots {
            let pid = self.slot(slot, SLOT_PID).load(Ordering::SeqCst);
            if pid == FREE || pid == RECLAIMING {
                continue;
            }
            let start = self.slot(slot, SLOT_START).load(Ordering::SeqCst);
            let Ok(pid32) = u32::try_from(pid) else {
                continue;
            };
            if is_alive(pid32, start) {
                continue;
            }
            let pid_word = self.slot(slot, SLOT_PID);
            if pid_word
                .compare_exchange(pid, RECLAIMING, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                continue; // freed or taken over meanwhile
            }
            if self.slot(slot, SLOT_START).load(Ordering::SeqCst) != start {
                // A new owner with the same pid filled the slot in since we looked: give it
                // back untouched.
                pid_word.store(pid, Ordering::SeqCst);
                continue;
            }
            self.slot(slot, SLOT_TXN).store(0, Ordering::SeqCst);
            self.slot(slot, SLOT_START).store(0, Ordering::SeqCst);
            pid_word.store(FREE, Ordering::SeqCst);
            cleared += 1;
        }
        cleared
    }

    /// The owners (pid, start) of the slots whose snapshot is older than `txn_id`.
    pub(crate) fn owners_older_than(&self, txn_id: TxnId) -> Vec<(u32, u64)> {
        (0..self.slots)
            .filter(|&slot| {
                snapshot_in(self.slot(slot, SLOT_TXN).load(Ordering::SeqCst))
                    .is_some_and(|snapshot| snapshot < txn_id)
            })
            .filter_map(|slot| {
                let pid = u32::try_from(self.slot(slot, SLOT_PID).load(Ordering::SeqCst)).ok()?;
                Some((pid, self.slot(slot, SLOT_START).load(Ordering::SeqCst)))
            })
            .collect()
    }
}

/// The bytes of a lock file a process that died left (test support): a complete table of
/// `slots` slots naming `current` and `durable` as the newest and durable commits, its first
/// slot held by `reader` (pid, start time) at snapshot `snapshot`.
#[cfg(any(test, feature = "test-support"))]
pub(crate) fn left_over_table(
    slots: usize,
    current: TxnId,
    durable: TxnId,
    reader: (u32, u64),
    snapshot: TxnId,
) -> Vec<u8> {
    let mut words = vec![0u64; table_len(slots) / 8];
    words[WORD_MAGIC] = MAGIC;
    words[WORD_VERSION] = LAYOUT_VERSION;
    words[WORD_SLOTS] = slots as u64;
    words[WORD_CURRENT] = current.get();
    words[WORD_DURABLE] = durable.get();
    words[HEADER_WORDS + SLOT_PID] = u64::from(reader.0);
    words[HEADER_WORDS + SLOT_START] = reader.1;
    words[HEADER_WORDS + SLOT_TXN] = slot_word(snapshot);
    words.iter().flat_map(|word| word.to_le_bytes()).collect()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::page::id::numbered::txn;

    fn started<T>(outcome: Result<BeginRead<T>, ()>) -> (usize, T) {
        match outcome.unwrap() {
            BeginRead::Started { slot, snapshot } => (slot, snapshot),
            BeginRead::Full => panic!("a slot was free"),
        }
    }

    #[test]
    fn a_private_table_has_the_layout_of_a_lock_file() {
        for slots in [1, 3, 126] {
            let table = ReaderTable::private(slots, txn(5), txn(5));
            assert_eq!(table.words().len() * 8, table_len(slots));
            assert_eq!(table_len(slots), 64 + 64 * slots, "docs/format.md");
        }
    }

    #[test]
    fn list_names_each_slot_in_use_with_its_owner_and_snapshot() {
        let table = ReaderTable::private(3, txn(5), txn(5));
        assert_eq!(table.list(), Vec::new());
        let (first, _) = started(table.begin(41, 7, |id| Ok(Some(id))));
        table.set_current_txn_id(txn(6));
        let (_second, _) = started(table.begin(42, 7, |id| Ok(Some(id))));
        let mut listed = table.list();
        listed.sort_unstable();
        assert_eq!(listed, vec![(41, Some(txn(5))), (42, Some(txn(6)))]);
        table.end(first);
        assert_eq!(table.list(), vec![(42, Some(txn(6)))]);
    }

    #[test]
    fn oldest_tracks_live_readers_and_full_table_is_reported() {
        let table = ReaderTable::private(2, txn(5), txn(5));
        assert_eq!(table.oldest(), None);
        let (first, snapshot) = started(table.begin(1, 7, |id| Ok(Some(id))));
        assert_eq!(snapshot, txn(5));
        table.set_current_txn_id(txn(0));
        let (second, _) = started(table.begin(1, 7, |id| Ok(Some(id))));
        assert_eq!(table.oldest(), Some(txn(0)));
        assert!(matches!(
            table.begin(1, 7, |id| Ok::<_, ()>(Some(id))),
            Ok(BeginRead::Full)
        ));
        table.end(second);
        assert_eq!(table.oldest(), Some(txn(5)));
        table.end(first);
        assert_eq!(table.count(), 0);
    }

    #[test]
    fn begin_retries_when_a_commit_slips_in_or_a_meta_is_gone() {
        let table = ReaderTable::private(1, txn(1), txn(1));
        let mut calls = 0;
        let (_, snapshot) = started(table.begin(1, 7, |id| {
            calls += 1;
            match calls {
                1 => Ok(None), // the meta was overwritten: retry
                2 => {
                    table.set_current_txn_id(id.next()); // a commit slips in after the lookup
                    Ok(Some(id))
                }
                _ => Ok(Some(id)),
            }
        }));
        assert_eq!(snapshot, txn(2));
        assert_eq!(table.oldest(), Some(txn(2)));
    }

    #[test]
    fn an_error_finding_the_snapshot_frees_the_slot() {
        let table = ReaderTable::private(1, txn(1), txn(1));
        assert!(table.begin(1, 7, |_| Err::<Option<()>, _>("gone")).is_err());
        assert_eq!(table.count(), 0);
    }

    #[test]
    fn stale_slots_are_cleared_and_live_ones_kept() {
        let table = ReaderTable::private(3, txn(4), txn(4));
        started(table.begin(10, 100, |id| Ok(Some(id))));
        started(table.begin(11, 200, |id| Ok(Some(id))));
        started(table.begin(10, 300, |id| Ok(Some(id)))); // pid 10 reused by another process
        assert_eq!(table.owners_older_than(txn(5)).len(), 3);
        assert_eq!(table.owners_older_than(txn(4)).len(), 0);
        let alive = |pid: u32, start: u64| (pid, start) == (10, 300);
        assert_eq!(table.clear_stale(alive), 2);
        assert_eq!(table.count(), 1);
        assert_eq!(table.clear_stale(alive), 0);
        assert_eq!(table.owners_older_than(txn(5)), [(10, 300)]);
    }

    #[test]
    fn durable_only_rises() {
        let table = ReaderTable::private(1, txn(9), txn(3));
        table.raise_durable_txn_id(txn(8));
        table.raise_durable_txn_id(txn(6));
        assert_eq!(table.durable_txn_id(), txn(8));
        assert_eq!(table.current_txn_id(), txn(9));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Model checks of the protocol under every interleaving loom explores. Run with
    //! `RUSTFLAGS="--cfg loom" cargo test --release --lib loom` (what `.ci/run` does).

    use super::*;
    use crate::page::id::numbered::txn;
    use loom::sync::atomic::AtomicBool;
    use loom::sync::Arc;
    use loom::thread;

    /// Runs `model` under loom, bounding preemptions so the search ends in seconds; bugs in
    /// protocols like this one need few preemptions to show (loom's documentation).
    fn check(model: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(3);
        builder.check(model);
    }

    /// Commit 1's tree holds page P. Commit 2 replaces P (frees it). A writer then begins
    /// commit 3 and reuses P if no reader could still be on commit 1, overwriting it. A reader
    /// starting concurrently must never hold snapshot 1 while P is overwritten.
    fn reuse_never_hits_a_starting_reader(readers: usize) {
        check(move || {
            let table = Arc::new(ReaderTable::private(readers, txn(1), txn(1)));
            // P's content: true while it is the page commit 1's tree reaches.
            let page_intact = Arc::new(AtomicBool::new(true));
            let handles: Vec<_> = (0..readers)
                .map(|reader| {
                    let (table, page_intact) = (table.clone(), page_intact.clone());
                    thread::spawn(move || {
                        let outcome = table.begin(reader as u32 + 1, 1, |id| Ok::<_, ()>(Some(id)));
                        let Ok(BeginRead::Started { slot, snapshot }) = outcome else {
                            panic!("a slot was free")
                        };
                        if snapshot == txn(1) {
                            assert!(
                                page_intact.load(Ordering::SeqCst),
                                "a reader of commit 1 saw P reused"
                            );
                        }
                        table.end(slot);
                    })
                })
                .collect();
            // Commit 2 frees P and publishes itself; the next writer computes what it may reuse.
            table.set_current_txn_id(txn(2));
            let freed_by = txn(2);
            let reuse_limit = table
                .oldest()
                .map_or(freed_by, |oldest| oldest.min(freed_by));
            if freed_by <= reuse_limit {
                page_intact.store(false, Ordering::SeqCst);
            }
            for handle in handles {
                handle.join().unwrap();
            }
        });
    }

    #[test]
    fn loom_one_reader_against_the_writer() {
        reuse_never_hits_a_starting_reader(1);
    }

    #[test]
    fn loom_two_readers_against_the_writer() {
        reuse_never_hits_a_starting_reader(2);
    }

    /// A reader begins on map 0, pinning it under the table's fence, while a resize makes map
    /// 1 the newest and releases map 0 unless a pin names it (`os/maps.rs`): a reader that
    /// kept map 0 never finds it released while it reads.
    #[test]
    fn loom_a_map_is_never_released_under_a_starting_reader() {
        use crate::os::Pins;
        check(|| {
            let table = Arc::new(ReaderTable::private(1, txn(1), txn(1)));
            let pins = Arc::new(Pins::new(1));
            let released = Arc::new(AtomicBool::new(false));
            let reader = {
                let (table, pins, released) = (table.clone(), pins.clone(), released.clone());
                thread::spawn(move || {
                    // The snapshot names the map the reader found newest.
                    let outcome = table.begin_pinned(
                        1,
                        1,
                        |_| Ok::<_, ()>(Some(pins.newest())),
                        |slot, map: Option<&usize>| match map {
                            Some(&map) => pins.pin(slot, map),
                            None => pins.unpin(slot),
                        },
                        |&map| map == pins.newest(),
                    );
                    let Ok(BeginRead::Started { slot, snapshot }) = outcome else {
                        panic!("a slot was free")
                    };
                    if snapshot == 0 {
                        assert!(
                            !released.load(Ordering::SeqCst),
                            "a reader of map 0 found it released"
                        );
                    }
                    pins.unpin(slot);
                    table.end(slot);
                })
            };
            pins.set_newest(1);
            if !pins.pinned().contains(&0) {
                released.store(true, Ordering::SeqCst);
            }
            reader.join().unwrap();
        });
    }

    /// Two processes clearing the same dead slot while a live reader claims slots: the live
    /// reader's slot is never cleared, and the dead slot is cleared once.
    #[test]
    fn loom_concurrent_stale_clearing_spares_live_readers() {
        check(|| {
            let table = Arc::new(ReaderTable::private(2, txn(1), txn(1)));
            // Slot 0 belongs to dead pid 9.
            let Ok(BeginRead::Started { .. }) = table.begin(9, 1, |id| Ok::<_, ()>(Some(id)))
            else {
                panic!("free")
            };
            let alive = |pid: u32, _start: u64| pid != 9;
            let clearers: Vec<_> = (0..2)
                .map(|_| {
                    let table = table.clone();
                    thread::spawn(move || table.clear_stale(alive))
                })
                .collect();
            let reader = {
                let table = table.clone();
                thread::spawn(move || {
                    let Ok(BeginRead::Started { slot, .. }) =
                        table.begin(5, 1, |id| Ok::<_, ()>(Some(id)))
                    else {
                        return None;
                    };
                    Some(slot)
                })
            };
            let cleared: usize = clearers
                .into_iter()
                .map(|clearer| clearer.join().unwrap())
                .sum();
            let live = reader
                .join()
                .unwrap()
                .expect("a slot was free (slot 1 at least)");
            assert_eq!(cleared, 1);
            assert_eq!(
                table.slot(live, SLOT_PID).load(Ordering::SeqCst),
                5,
                "the live reader kept its slot"
            );
            assert_eq!(table.oldest(), Some(txn(1)));
        });
    }
}
