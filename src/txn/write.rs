//! The write transaction: changes to any database, made visible atomically by commit.

use std::ops::Deref;
use std::sync::Arc;

use super::read::{ReadTxn, RoTxn, Store, TreeSlot};
use super::snapshot::Snapshot;
use super::tls::WithoutTls;
use crate::btree::dup_write::PairPut;
use crate::btree::duplicates;
use crate::btree::mutate::{PutMode, Writer};
use crate::btree::node;
use crate::btree::order::KeyOrder;
use crate::env::{CachedFreeList, EnvInner, WriterGuard};
use crate::error::{Error, MdbError, Result};
use crate::flags::EnvFlags;
use crate::page::header::PAGE_HEADER_SIZE;
use crate::page::meta::{Meta, TreeFlags, TreeInfo};
use crate::page::PageId;
use crate::store::freelist::{self, FreeList};
use crate::store::page_store::{read_committed, PageStore};

/// The largest value arbordb stores, in bytes: a longer one is
/// [`MdbError::BadValSize`](crate::MdbError::BadValSize).
pub const VALUE_SIZE_MAX: usize = u32::MAX as usize - PAGE_HEADER_SIZE;

/// What a write transaction adds to a read transaction, besides the page store its
/// [`RoTxn`] reads through.
pub(crate) struct WriteState<'e> {
    /// Free pages not yet reusable (freed by recent commits), carried to the next freelist.
    pub(crate) pending: FreeList,
    /// The chain pages of the freelist this transaction started from.
    pub(crate) old_chain: Vec<PageId>,
    /// Set when an operation failed midway: the transaction can only be aborted.
    pub(crate) failed: bool,
    /// The writer lock; `None` in a nested transaction, whose parent holds it.
    pub(crate) _guard: Option<WriterGuard<'e>>,
}

/// The message of the one fact the types do not carry: a write transaction's [`RoTxn`] has a
/// page store. [`RwTxn::begin`] and `Env::nested_write_txn` build it with one, and only
/// `commit_into_parent`, which consumes the transaction, takes it out.
const HAS_STORE: &str = "a write transaction is built with a page store";

/// The page store of a write transaction's [`RoTxn`] (its `store` field).
pub(super) fn own_store<'s>(store: &'s mut Store<'_>) -> &'s mut PageStore {
    match store {
        Store::Own(store) => store,
        Store::Committed | Store::Lent(_) => panic!("{HAS_STORE}"),
    }
}

/// The page store of a write transaction's [`RoTxn`], taken out of it.
pub(super) fn take_own_store(store: &mut Store<'_>) -> PageStore {
    match std::mem::replace(store, Store::Committed) {
        Store::Own(store) => *store,
        Store::Committed | Store::Lent(_) => panic!("{HAS_STORE}"),
    }
}

/// The write state of a nested transaction's parent, borrowed field by field: what the
/// child's commit replaces. Every field is a type without a lifetime, so the link (and the
/// child holding it) is covariant in `'p`, as heed documents `RwTxn` to be; a borrow of the
/// parent itself would carry the parent's own lifetime under a `&mut` and make it invariant.
pub(crate) struct ParentLink<'p> {
    meta: &'p mut Meta,
    trees: &'p mut Vec<Option<TreeSlot>>,
    store: &'p mut PageStore,
    pending: &'p mut FreeList,
    old_chain: &'p mut Vec<PageId>,
    failed: &'p mut bool,
}

impl ParentLink<'_> {
    /// Replaces the parent's write state with a committed child's.
    pub(super) fn adopt(self, parts: WriteParts) {
        *self.meta = parts.meta;
        *self.trees = parts.trees;
        *self.store = parts.store;
        *self.pending = parts.pending;
        *self.old_chain = parts.old_chain;
        *self.failed = parts.failed;
    }
}

/// A write transaction's state without its lock: what a nested child copies and hands back.
pub(crate) struct WriteParts {
    pub(super) meta: Meta,
    pub(super) trees: Vec<Option<TreeSlot>>,
    pub(super) store: PageStore,
    pub(super) pending: FreeList,
    pub(super) old_chain: Vec<PageId>,
    pub(super) failed: bool,
}

/// The read-write transaction. There is at most one per environment at a time; a second
/// [`Env::write_txn`](crate::Env::write_txn) waits for it to end.
///
/// Nothing it does is visible to others until [`commit`](RwTxn::commit); dropping it (or
/// [`abort`](RwTxn::abort)) discards everything. It derefs to [`RoTxn`], so every read method
/// takes it too, and reads see its own uncommitted changes.
///
/// An expected outcome (a missing key, [`MdbError::KeyExist`](crate::MdbError::KeyExist) under
/// `NO_OVERWRITE`, a too-long key, a value of the wrong size for a `DUP_FIXED` key) leaves it
/// usable. A real failure (I/O, [`MdbError::MapFull`](crate::MdbError::MapFull), corruption) leaves
/// it unusable: later operations return [`MdbError::BadTxn`](crate::MdbError::BadTxn) and it can
/// only be aborted. The environment stays usable either way.
///
/// ```
/// use arbordb::types::Str;
/// use arbordb::{Error, MdbError, PutFlags};
/// # fn main() -> Result<(), arbordb::Error> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let env = unsafe { arbordb::EnvOpenOptions::new().open(dir.path())? };
/// let mut wtxn = env.write_txn()?;
/// let db = env.create_database::<Str, Str>(&mut wtxn, None)?;
/// db.put(&mut wtxn, "kept", "yes")?;
/// // An existing key under NO_OVERWRITE is an expected outcome: the transaction goes on.
/// let again = db.put_with_flags(&mut wtxn, PutFlags::NO_OVERWRITE, "kept", "no");
/// assert!(matches!(again, Err(Error::Mdb(MdbError::KeyExist))));
/// assert_eq!(db.get(&wtxn, "kept")?, Some("yes")); // reads see uncommitted changes
/// wtxn.commit()?;
///
/// let mut wtxn = env.write_txn()?;
/// db.delete(&mut wtxn, "kept")?;
/// wtxn.abort(); // nothing happened
/// let rtxn = env.read_txn()?;
/// assert_eq!(db.get(&rtxn, "kept")?, Some("yes"));
/// # Ok(()) }
/// ```
pub struct RwTxn<'e> {
    /// Declared before `state`: its end releases the writer's map pin before the writer lock
    /// in `state` is released.
    pub(crate) txn: RoTxn<'e>,
    pub(super) state: WriteState<'e>,
    /// For a nested transaction, the parent its commit folds into.
    pub(crate) parent: Option<ParentLink<'e>>,
}

/// Whether a change of a tree compares keys (and so needs the database's orders).
#[derive(Clone, Copy)]
enum Compares {
    Keys,
    Nothing,
}

/// The writer's map pin while a write transaction is being begun: taken away if the begin
/// fails after pinning (forgotten once the transaction, whose drop unpins, is built).
struct WriterPin<'e> {
    env: &'e EnvInner,
}

impl Drop for WriterPin<'_> {
    fn drop(&mut self) {
        self.env.maps().unpin(self.env.writer_pin());
    }
}

/// As heed's: a write transaction reads as a `RoTxn<'e, WithoutTls>`, which reads as the
/// `RoTxn<'e>` every read method takes.
impl<'e> Deref for RwTxn<'e> {
    type Target = RoTxn<'e, WithoutTls>;

    fn deref(&self) -> &RoTxn<'e, WithoutTls> {
        self.txn.retagged()
    }
}

impl<'e> RwTxn<'e> {
    /// The link through which a nested child's commit replaces this transaction's state.
    pub(super) fn link(&mut self) -> ParentLink<'_> {
        let ReadTxn {
            snapshot,
            trees,
            store,
            ..
        } = self.txn.value_mut();
        ParentLink {
            meta: &mut snapshot
                .as_mut()
                .expect("only a dropped transaction has no snapshot")
                .meta,
            trees: trees.get_mut(),
            store: own_store(store),
            pending: &mut self.state.pending,
            old_chain: &mut self.state.old_chain,
            failed: &mut self.state.failed,
        }
    }

    /// Takes the writer lock (waiting for it when `wait`) and starts from the newest commit.
    pub(crate) fn begin(env: &'e EnvInner, wait: bool) -> Result<Option<RwTxn<'e>>> {
        if env.flags().contains(EnvFlags::READ_ONLY) {
            return Err(Error::Mdb(MdbError::ReadOnly));
        }
        let Some(guard) = env.lock_writer(wait)? else {
            return Ok(None);
        };
        let mut writer = env.writer().lock();
        if writer.poisoned {
            return Err(Error::Mdb(MdbError::EnvPoisoned));
        }
        let (meta, kept_freelist) = env.newest_meta()?;
        if env.maps().old_maps_kept() > 0 {
            // Transactions on old maps may have ended since a map was added.
            env.maps().release_unused();
        }
        // Pinned (`os/maps.rs`) until the transaction ends (`RoTxn`'s drop); until it is
        // built, the guard takes the pin away on any error.
        let pin = WriterPin { env };
        let (map_index, map) = loop {
            let (index, map) = env.map_for(&meta, true)?;
            if env.maps().pin_newest(env.writer_pin(), index) {
                break (index, map);
            }
        };
        if writer
            .freelist
            .as_ref()
            .is_none_or(|cached| cached.txn_id != meta.txn_id)
        {
            // Another process committed (or this is the first write): what this process
            // knew of the file is stale.
            writer.file_len_bytes = env.io().file_len()?;
            let (list, chain) = freelist::read(&meta, kept_freelist.as_deref(), |id| {
                read_committed(map.bytes(), env.page_size(), meta.page_count, id, 1)
            })?;
            writer.freelist = Some(CachedFreeList {
                txn_id: meta.txn_id,
                list,
                chain,
                segment_summaries: Arc::default(),
            });
        }
        let cached = writer.freelist.as_ref().expect("loaded above");
        let old_chain = cached.chain.clone();
        let segment_summaries = Arc::clone(&cached.segment_summaries);
        let durable = env.readers().durable_txn_id();
        // Pages freed by txn T were reachable in snapshot T - 1 and nowhere later. They are
        // reusable once every reader's snapshot (in every process) is at least T, and T is no
        // newer than the newest durable meta, whose tree a crash must never damage
        // (invariant 3).
        let reuse_limit = env
            .oldest_reader(&mut writer, meta.txn_id)
            .map_or(durable, |oldest| oldest.min(durable));
        let (pending, reusable) = writer
            .freelist
            .as_ref()
            .expect("loaded above")
            .list
            .split_reusable(reuse_limit);
        drop(writer);
        let store = PageStore::new(
            env.page_size(),
            meta.txn_id.next(),
            meta.page_count,
            map.len(),
            reusable,
        )
        .with_segment_summaries(segment_summaries);
        let state = WriteState {
            pending,
            old_chain,
            failed: false,
            _guard: Some(guard),
        };
        // The transaction's drop unpins from here on.
        std::mem::forget(pin);
        Ok(Some(RwTxn {
            txn: RoTxn::for_writer(
                env,
                Snapshot {
                    meta,
                    map: map_index,
                    freelist: kept_freelist,
                },
                store,
                true,
            ),
            state,
            parent: None,
        }))
    }

    /// Runs `change` on database `dbi`'s tree, recording the new tree, or marking the
    /// transaction failed if the change failed midway.
    fn change_tree<T>(
        &mut self,
        dbi: u32,
        change: impl FnOnce(&mut Writer<'_>, &mut TreeInfo) -> Result<T>,
    ) -> Result<T> {
        self.change_tree_with(dbi, Compares::Keys, change)
    }

    /// [`Self::change_tree`], saying whether the change compares keys: a clear does not, and
    /// so runs without the database's comparators.
    fn change_tree_with<T>(
        &mut self,
        dbi: u32,
        compares: Compares,
        change: impl FnOnce(&mut Writer<'_>, &mut TreeInfo) -> Result<T>,
    ) -> Result<T> {
        if self.state.failed {
            return Err(Error::Mdb(MdbError::BadTxn));
        }
        let mut tree = self.txn.tree(dbi)?;
        let (order, value_order) = match compares {
            Compares::Keys => (
                self.txn.key_order(dbi, &tree)?,
                self.txn.value_order(dbi, &tree)?,
            ),
            // Never called: nothing is compared.
            Compares::Nothing => (KeyOrder::Bytes, KeyOrder::Bytes),
        };
        let before = tree;
        let env = self.txn.env;
        let nested = self.parent.is_some();
        let ReadTxn {
            map, store, trees, ..
        } = &mut *self.txn;
        let store = own_store(store);
        let mut writer = Writer {
            map: map.bytes(),
            store: &mut *store,
            verify: env.verifies_checksums_on_read(),
            order,
            value_order,
        };
        // Failed until the change returns: a change that unwinds (a comparator that panics)
        // may leave pages half rebuilt, which must never be committed.
        self.state.failed = true;
        let result = change(&mut writer, &mut tree);
        if matches!(
            result,
            Ok(_) | Err(Error::Mdb(MdbError::KeyExist) | Error::Mdb(MdbError::BadValSize))
        ) {
            self.state.failed = false;
        }
        match &result {
            Ok(_) => {
                if tree != before {
                    let slot = trees.get_mut()[dbi as usize]
                        .as_mut()
                        .expect("a write transaction's trees are in its slots");
                    slot.info = tree;
                    slot.changed = true;
                }
                // Between changes no page is held by a change in progress, so any may be
                // written out. Not in a nested transaction (`PageStore::spill`).
                let start_writeback = !env.flags().contains(EnvFlags::NO_SYNC);
                if !nested {
                    let spilled = store.spill_if_needed(
                        env.io(),
                        start_writeback,
                        env.txn_memory_max(),
                        || env.discard_newer_commit(),
                    );
                    if let Err(error) = spilled {
                        self.state.failed = true;
                        return Err(Error::Io(error));
                    }
                }
            }
            // Checked before anything was touched: nothing changed.
            Err(Error::Mdb(MdbError::KeyExist) | Error::Mdb(MdbError::BadValSize)) => {}
            Err(_) => self.state.failed = true,
        }
        result
    }

    fn check_key(&self, key: &[u8]) -> Result<()> {
        let max = node::key_size_max(self.txn.env.page_size());
        if key.len() > max {
            return Err(Error::Mdb(MdbError::BadValSize));
        }
        Ok(())
    }

    /// Stores `value` under `key` in database `dbi`. Returns whether the key existed (in a
    /// duplicate-sorted database: whether the pair did, `Overwrite` adding the pair).
    pub(crate) fn put(
        &mut self,
        dbi: u32,
        key: &[u8],
        value: &[u8],
        mode: PutMode,
    ) -> Result<bool> {
        if self.txn.tree(dbi)?.flags.contains(TreeFlags::DUP_SORT) {
            let mode = match mode {
                PutMode::Overwrite => PairPut::Add,
                PutMode::NoOverwrite => PairPut::NoOverwrite,
                PutMode::Append => PairPut::Append,
            };
            return self.put_pair(dbi, key, value, mode);
        }
        self.check_key(key)?;
        check_value_len(value.len())?;
        self.change_tree(dbi, |writer, tree| writer.put(tree, key, value, mode))
    }

    /// Adds the pair `(key, value)` to the duplicate-sorted database `dbi`. Returns whether
    /// it existed. Its values, like its keys, are at most the longest key.
    pub(crate) fn put_pair(
        &mut self,
        dbi: u32,
        key: &[u8],
        value: &[u8],
        mode: PairPut,
    ) -> Result<bool> {
        self.check_duplicate_pair(key, value)?;
        self.change_tree(dbi, |writer, tree| writer.put_pair(tree, key, value, mode))
    }

    /// Removes the pair `(key, value)` from the duplicate-sorted database `dbi` (in any other
    /// database: `key` if its value is `value`). Returns whether it existed.
    pub(crate) fn delete_pair(&mut self, dbi: u32, key: &[u8], value: &[u8]) -> Result<bool> {
        if self.check_key(key).is_err() {
            return Ok(false);
        }
        if !self.txn.tree(dbi)?.flags.contains(TreeFlags::DUP_SORT) {
            return match self.txn.get(dbi, key)? {
                Some(stored) if stored == value => self.delete(dbi, key),
                _ => Ok(false),
            };
        }
        if value.len() > node::key_size_max(self.txn.env.page_size()) {
            return Ok(false);
        }
        self.change_tree(dbi, |writer, tree| writer.delete_pair(tree, key, value))
    }

    /// Refuses a pair a duplicate-sorted database cannot hold: a key whose cell could not
    /// hold a tree's descriptor, or a value that would not fit the cell beside its key
    /// (`btree/duplicates.rs`).
    fn check_duplicate_pair(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let page_size = self.txn.env.page_size();
        let key_max = duplicates::key_size_max(page_size);
        if key.len() > key_max {
            return Err(Error::Mdb(MdbError::BadValSize));
        }
        let value_max = duplicates::value_size_max(page_size, key.len());
        if value.len() > value_max {
            return Err(Error::Mdb(MdbError::BadValSize));
        }
        Ok(())
    }

    /// Deletes `key` from database `dbi`. Returns whether it existed.
    pub(crate) fn delete(&mut self, dbi: u32, key: &[u8]) -> Result<bool> {
        if self.check_key(key).is_err() {
            return Ok(false);
        }
        self.change_tree(dbi, |writer, tree| writer.delete(tree, key))
    }

    /// Empties database `dbi`, freeing its pages.
    pub(crate) fn clear(&mut self, dbi: u32) -> Result<()> {
        self.change_tree_with(dbi, Compares::Nothing, |writer, tree| writer.clear(tree))
    }

    /// Deletes the named database `dbi`: frees its pages, and its name leaves the catalog at
    /// commit. Until then (and for good once committed) it does not exist.
    pub(crate) fn delete_tree(&mut self, dbi: u32) -> Result<()> {
        self.clear(dbi)?;
        self.txn.trees.get_mut()[dbi as usize] = Some(TreeSlot {
            info: Default::default(),
            changed: true,
            deleted: true,
            custom: None,
        });
        Ok(())
    }

    /// Runs `body`, an operation of several changes and lookups (`delete_range`,
    /// `get_or_put`), so that a panic anywhere in it (a comparator's, in a lookup between
    /// changes) leaves the transaction failed: its earlier changes may be done and later
    /// ones not, which must not be committed as one.
    pub(crate) fn failing_on_panic<T>(&mut self, body: impl FnOnce(&mut Self) -> T) -> T {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&mut *self))) {
            Ok(result) => result,
            Err(panic) => {
                self.state.failed = true;
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// Discards every change; the same as dropping the transaction.
    pub fn abort(self) {}
}

impl std::fmt::Debug for RwTxn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RwTxn")
            .field("id", &self.txn.id())
            .finish_non_exhaustive()
    }
}

/// Refuses a value longer than [`VALUE_SIZE_MAX`], before anything is written.
fn check_value_len(len: usize) -> Result<()> {
    if len > VALUE_SIZE_MAX {
        return Err(Error::Mdb(MdbError::BadValSize));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A leaf cell records a large value's length in 32 bits, and its overflow run holds the
    /// page header and the value: the largest value is what fills a 32-bit length with them.
    #[test]
    fn the_largest_value_and_its_page_header_fill_a_32_bit_length() {
        assert_eq!(VALUE_SIZE_MAX + PAGE_HEADER_SIZE, u32::MAX as usize);
    }

    /// At the limit itself, where writing a value would take 4 GiB; tests/large_values.rs
    /// writes one past it.
    #[test]
    fn a_value_of_the_largest_size_is_accepted_and_one_byte_more_is_not() {
        assert!(check_value_len(VALUE_SIZE_MAX).is_ok());
        assert!(matches!(
            check_value_len(VALUE_SIZE_MAX + 1),
            Err(Error::Mdb(MdbError::BadValSize))
        ));
    }

    /// A transaction's own end releases its old map unless its check that the map was
    /// replaced raced the replacement (its unpin and the resize's scan of the pins pass each
    /// other, or a reader's begin moved its pin to the newer map after the scan saw the old
    /// one). The map is then kept with no pin on it; the next write transaction lets it go.
    #[test]
    fn a_write_transaction_releases_an_old_map_nobody_pins() {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: the test's own file, opened once and never truncated.
        let env = unsafe { crate::EnvOpenOptions::new().open(dir.path()) }.unwrap();
        let inner = &env.inner;
        let reader_slot = 0;
        let first = inner.maps().newest_index();
        inner.maps().pin(reader_slot, first);
        let data_file = std::fs::File::open(dir.path().join(crate::DATA_FILE_NAME)).unwrap();
        let larger =
            crate::os::Map::new(&data_file, 2 * inner.maps().newest().1.len(), true).unwrap();
        if inner.maps().push(larger).is_err() {
            panic!("the map was not replaced");
        }
        assert_eq!(inner.maps().old_maps_kept(), 1, "the pinned map is kept");
        inner.maps().unpin(reader_slot);
        assert!(inner.maps().get(first).is_mapped());

        drop(env.write_txn().unwrap());
        assert_eq!(inner.maps().old_maps_kept(), 0);
        assert!(!inner.maps().get(first).is_mapped());
    }
}
