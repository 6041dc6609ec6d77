//! Read transactions: stable snapshots of one commit.

use std::cell::{Cell, RefCell};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::custom_orders::CustomOrders;
use super::snapshot::Snapshot;
use super::tls::{AnyTls, WithTls, WithoutTls};
use crate::btree::check::{self, CheckReport};
use crate::btree::cursor;
use crate::btree::order::KeyOrder;
use crate::btree::pair_cursor::{self, PairCursor};
use crate::btree::PageSource;
use crate::env::EnvInner;
use crate::error::{Error, MdbError, Result};
use crate::os::{process, Anchor, Map, Tagged};
use crate::page::catalog_record::OrderNames;
use crate::page::header;
use crate::page::meta::{Meta, TreeFlags, TreeInfo};
use crate::page::PageId;
use crate::readers::BeginRead;
use crate::store::page_store::{read_committed, PageStore};

/// The database index of the unnamed database.
pub(crate) const MAIN_DBI: u32 = 0;

/// A tree as this transaction sees it, and whether this transaction changed it.
#[derive(Debug, Clone)]
pub(crate) struct TreeSlot {
    pub(crate) info: TreeInfo,
    pub(crate) changed: bool,
    /// Deleted by this transaction: gone from the catalog at commit, `DatabaseNotFound` now.
    pub(crate) deleted: bool,
    /// The database's custom comparators: the names it records and the functions registered
    /// under them (`None` when its flags announce none).
    pub(crate) custom: Option<Arc<CustomOrders>>,
}

impl TreeSlot {
    /// A slot for a tree this transaction has not changed (yet).
    pub(crate) fn loaded(info: TreeInfo, custom: Option<Arc<CustomOrders>>) -> TreeSlot {
        TreeSlot {
            info,
            changed: false,
            deleted: false,
            custom,
        }
    }
}

/// A read-only transaction: a snapshot of the newest commit at the time it began.
///
/// Its view never changes, whatever writers commit meanwhile, and holding it never blocks a
/// writer (but keeps the pages it sees from reuse, so do not hold one for hours). It is
/// `Send`, and a thread may hold several. Values read through it borrow from it: they are
/// slices of the memory map, not copies.
///
/// ```
/// use arbordb::types::Str;
/// # fn main() -> Result<(), arbordb::Error> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let env = unsafe { arbordb::EnvOpenOptions::new().open(dir.path())? };
/// let mut wtxn = env.write_txn()?;
/// let db = env.create_database::<Str, Str>(&mut wtxn, None)?;
/// db.put(&mut wtxn, "version", "1")?;
/// wtxn.commit()?;
///
/// let snapshot = env.read_txn()?;
/// let mut wtxn = env.write_txn()?;
/// db.put(&mut wtxn, "version", "2")?;
/// wtxn.commit()?;
/// // The snapshot still sees the state it began with.
/// assert_eq!(db.get(&snapshot, "version")?, Some("1"));
/// let newest = env.read_txn()?;
/// assert_eq!(db.get(&newest, "version")?, Some("2"));
/// # Ok(()) }
/// ```
///
/// The marker `T` says how it was opened, as in heed: [`WithTls`](crate::WithTls) (the
/// default) or [`WithoutTls`](crate::WithoutTls) from an environment opened with
/// [`EnvOpenOptions::read_txn_without_tls`](crate::EnvOpenOptions::read_txn_without_tls),
/// and [`AnyTls`](crate::AnyTls), which both dereference to and every read method takes.
/// arbordb's read transactions use no thread-local slot, so the marker changes nothing:
/// both kinds are `Send`, and a thread may hold several of either.
///
/// The tag is `&'e T` rather than `T`, so that, as with heed's, naming `RoTxn<'e, T>` implies
/// `T: 'e` (heed documents the covariance in `'e` with an impl that relies on it).
pub type RoTxn<'e, T = AnyTls> = Tagged<ReadTxn<'e>, &'e T>;

/// Where a transaction finds the pages a write transaction changed.
pub(crate) enum Store<'e> {
    /// Nowhere: a read transaction reads one commit.
    Committed,
    /// Its own page store: a write transaction. Boxed: a read transaction is moved by value
    /// on every begin, and the store is large.
    Own(Box<PageStore>),
    /// Its parent's: a read transaction nested in a write transaction
    /// ([`Env::nested_read_txn`](crate::Env::nested_read_txn)), which cannot change while
    /// this borrow lives.
    Lent(&'e PageStore),
}

impl Store<'_> {
    /// The page store, if there is one.
    #[inline(always)]
    pub(crate) fn get(&self) -> Option<&PageStore> {
        match self {
            Store::Committed => None,
            Store::Own(store) => Some(store),
            Store::Lent(store) => Some(store),
        }
    }
}

/// The state of a read transaction ([`RoTxn`], which is this under a marker type).
pub struct ReadTxn<'e> {
    pub(crate) env: &'e EnvInner,
    /// The commit read and its map's index; in a write transaction, the meta being built
    /// (changed in place: its snapshot is its own, never shared). Boxed, so that the transaction is small to move and the
    /// box can go back to the thread for the next begin (`env/snapshot_cache.rs`); `None`
    /// only while being dropped.
    pub(crate) snapshot: Option<Box<Snapshot>>,
    /// The map covering every page the transaction reads (`snapshot.map` in the
    /// environment's set, which keeps it mapped while the transaction's pin names it:
    /// the reader slot's, or the writer's; `os/maps.rs`). Private to the transaction
    /// module: the map may be unmapped once the transaction ends, so elsewhere its bytes
    /// are lent only for a borrow of the transaction ([`RoTxn::map`]), never for the
    /// environment's lifetime.
    pub(super) map: &'e Map,
    slot: Option<usize>,
    /// Trees by database index, loaded on first use.
    pub(crate) trees: RefCell<Vec<Option<TreeSlot>>>,
    /// The page store of a write transaction, through which it reads its own changed pages
    /// (the rest of its state is [`RwTxn`](super::RwTxn)'s), or the store of the write
    /// transaction a nested read transaction reads.
    pub(super) store: Store<'e>,
    /// Holds the writer's map pin (a top-level write transaction), which its end releases.
    writer_pin: bool,
    /// Verify the checksum of every tree page and overflow run read: a transaction of an
    /// environment opened with `verify_checksums_on_read`. A write transaction verifies the
    /// sealed pages it reads, not the ones it holds in memory, which are sealed at commit (it
    /// verifies committed pages as it copies them in any case). Without this, its lookups on a
    /// damaged page could answer wrongly: a delete finding no key that is committed.
    verify_checksums: bool,
    /// Tree pages and overflow runs read ([`RoTxn::pages_read`]).
    pages_read: Cell<u64>,
    /// The environment, kept alive by a transaction of [`Env::static_read_txn`](crate::Env::static_read_txn)
    /// (`'e = 'static`: `env` and `map` are valid while this is). Declared last: `Drop`
    /// ends the transaction through `env` first, then the fields drop in order.
    owner: Option<Anchor<EnvInner>>,
}

/// What every read transaction has, whichever marker it carries.
impl<'e, T> RoTxn<'e, T> {
    /// The id of the commit this transaction reads (for a write transaction: the id it will
    /// commit as).
    pub fn id(&self) -> u64 {
        let txn = self.retagged::<&'e AnyTls>();
        match txn.store.get() {
            Some(store) => store.txn_id(),
            None => txn.meta().txn_id,
        }
        .get()
    }

    /// How many pages this transaction has read so far: each tree page visited counts one
    /// (in a write transaction, whether it came from the file or from the transaction's own
    /// changed pages), a value in overflow pages two (its first page, checked, then the
    /// run), and each free segment of the freelist a write transaction read to find
    /// reusable pages one. A measure of what an operation touches,
    /// independent of timing and caches: the difference before and after a call is the pages
    /// it visited. A nested transaction's count goes on from its parent's, and the reads of
    /// one that commits count for the parent.
    pub fn pages_read(&self) -> u64 {
        let txn = self.value();
        let through_store = match &txn.store {
            Store::Own(store) => store.pages_read(),
            Store::Committed | Store::Lent(_) => 0,
        };
        txn.pages_read.get() + through_store
    }

    /// Ends the transaction. Read transactions have nothing to commit; this exists for heed
    /// compatibility and is the same as dropping it.
    pub fn commit(self) -> Result<()> {
        Ok(())
    }

    /// Ends the transaction; the same as dropping it.
    pub fn abort(self) {}
}

impl<'e> RoTxn<'e> {
    pub(crate) fn begin(env: &'e EnvInner) -> Result<RoTxn<'e>> {
        let me = process::current();
        // The map is pinned under the reader table's fence, and must still be the newest
        // after it (`os/maps.rs`): no extra locked instruction.
        let begin = || {
            env.readers().begin_pinned(
                me.pid,
                me.start,
                |id| env.snapshot(id),
                |slot, snapshot: Option<&Box<Snapshot>>| match snapshot {
                    Some(snapshot) => env.maps().pin(slot, snapshot.map),
                    None => env.maps().unpin(slot),
                },
                |snapshot| snapshot.map == env.maps().newest_index(),
            )
        };
        let mut outcome = begin()?;
        // A full table may hold slots of processes that died: reclaim them and try again.
        if matches!(outcome, BeginRead::Full) && env.clear_stale_readers() > 0 {
            outcome = begin()?;
        }
        match outcome {
            BeginRead::Full => Err(Error::Mdb(MdbError::ReadersFull)),
            BeginRead::Started { slot, snapshot } => Ok(RoTxn::new(ReadTxn {
                env,
                map: env.maps().get(snapshot.map),
                snapshot: Some(snapshot),
                slot: Some(slot),
                trees: RefCell::new(Vec::new()),
                store: Store::Committed,
                writer_pin: false,
                verify_checksums: env.verifies_checksums_on_read(),
                pages_read: Cell::new(0),
                owner: None,
            })),
        }
    }

    /// A read transaction that keeps the environment alive by itself
    /// ([`Env::static_read_txn`](crate::Env::static_read_txn)).
    pub(crate) fn begin_owning(env: Arc<EnvInner>) -> Result<RoTxn<'static>> {
        // SAFETY: `Anchor::new`'s contract: the reference lives only in this transaction
        // (`env`, and `map` found through it), beside the anchor in `owner`, its last field,
        // which `Drop` outlives; the transaction lends them only for borrows of itself.
        let (anchor, env) = unsafe { Anchor::new(env) };
        let mut txn = RoTxn::begin(env)?;
        txn.value_mut().owner = Some(anchor);
        Ok(txn)
    }

    /// A transaction for the writer, building on `snapshot` with `store`: no reader slot (the
    /// writer lock protects its snapshot). `top_level`: it holds the writer's map pin (a
    /// nested transaction's parent holds it).
    pub(super) fn for_writer(
        env: &'e EnvInner,
        snapshot: Snapshot,
        store: PageStore,
        top_level: bool,
    ) -> RoTxn<'e> {
        RoTxn::new(ReadTxn {
            env,
            map: env.maps().get(snapshot.map),
            snapshot: Some(Box::new(snapshot)),
            slot: None,
            trees: RefCell::new(Vec::new()),
            store: Store::Own(Box::new(store)),
            writer_pin: top_level,
            verify_checksums: env.verifies_checksums_on_read(),
            pages_read: Cell::new(0),
            owner: None,
        })
    }

    /// A read transaction of `writer`'s state as it is now, uncommitted changes included: no
    /// reader slot (the writer's snapshot and map pin cover it) and the writer's page store
    /// lent, which cannot change while `writer` is borrowed.
    pub(super) fn nested_in(writer: &'e RoTxn<'_>) -> RoTxn<'e> {
        let store = writer
            .store
            .get()
            .expect("a write transaction has a page store");
        RoTxn::new(ReadTxn {
            env: writer.env,
            map: writer.map,
            snapshot: Some(Box::new(writer.snapshot().clone())),
            slot: None,
            trees: RefCell::new(writer.trees.borrow().clone()),
            store: Store::Lent(store),
            writer_pin: false,
            verify_checksums: writer.verify_checksums,
            pages_read: Cell::new(0),
            owner: None,
        })
    }

    /// The meta: the commit read, or in a write transaction the meta being built.
    #[inline]
    pub(crate) fn meta(&self) -> &Meta {
        &self.snapshot().meta
    }

    /// The commit read (or being built) and its map's index.
    #[inline]
    pub(crate) fn snapshot(&self) -> &Snapshot {
        self.snapshot
            .as_ref()
            .expect("only a dropped transaction has no snapshot")
    }

    /// The map covering every page this transaction reads, lent for as long as the
    /// transaction is borrowed (its bytes stay mapped only while the transaction lives).
    #[inline]
    pub(crate) fn map(&self) -> &Map {
        self.map
    }

    pub(crate) fn env_id(&self) -> u64 {
        self.env.id()
    }

    /// Checks that a database handle belongs to this transaction's environment.
    pub(crate) fn check_env(&self, env_id: u64) -> Result<()> {
        if env_id != self.env.id() {
            return Err(Error::Mdb(MdbError::DatabaseFromAnotherEnv));
        }
        Ok(())
    }

    /// The tree of database `dbi` as this transaction sees it.
    #[inline]
    pub(crate) fn tree(&self, dbi: u32) -> Result<TreeInfo> {
        // A read transaction's unnamed database is the meta's: nothing to look up or cache,
        // unless it names comparators.
        if dbi == MAIN_DBI
            && matches!(self.store, Store::Committed)
            && !OrderNames::announced_by(self.meta().main.flags)
        {
            return Ok(self.meta().main);
        }
        if let Some(Some(slot)) = self.trees.borrow().get(dbi as usize) {
            if slot.deleted {
                return Err(Error::Mdb(MdbError::DatabaseNotFound {
                    name: self.env.database_names().read()[dbi as usize - 1].clone(),
                }));
            }
            return Ok(slot.info);
        }
        let (info, names) = self.load_tree(dbi)?;
        let custom = OrderNames::announced_by(info.flags)
            .then(|| Arc::new(CustomOrders::resolve(names, self.env.key_orders())));
        let mut trees = self.trees.borrow_mut();
        if trees.len() <= dbi as usize {
            trees.resize(dbi as usize + 1, None);
        }
        trees[dbi as usize] = Some(TreeSlot::loaded(info, custom));
        Ok(info)
    }

    /// The custom comparators of database `dbi`, which `tree` has loaded.
    pub(crate) fn custom_orders(&self, dbi: u32) -> Option<Arc<CustomOrders>> {
        self.trees
            .borrow()
            .get(dbi as usize)
            .and_then(|slot| slot.as_ref()?.custom.clone())
    }

    /// Looks `key` up in database `dbi`.
    #[inline]
    pub(crate) fn get(&self, dbi: u32, key: &[u8]) -> Result<Option<&[u8]>> {
        let tree = self.tree(dbi)?;
        let order = self.key_order(dbi, &tree)?;
        if tree.flags.contains(TreeFlags::DUP_SORT) {
            let value_order = self.value_order(dbi, &tree)?;
            return pair_cursor::get_first(self, &tree, order, value_order, key);
        }
        cursor::get(self, &tree, order, key)
    }

    /// A cursor over database `dbi`'s pairs for a walk from one end to the other, which
    /// compares no keys: it works without the database's comparators (the `arbor` tool, a
    /// handle that gave none). Seeking it by key is a bug.
    pub(crate) fn walk_cursor<'t>(
        &'t self,
        dbi: u32,
    ) -> Result<PairCursor<'t, dyn PageSource + 't>> {
        let tree = self.tree(dbi)?;
        // Unused by a walk; any order will do where the database's is not known.
        let order = self.key_order(dbi, &tree).unwrap_or(KeyOrder::Bytes);
        let value_order = self.value_order(dbi, &tree).unwrap_or(KeyOrder::Bytes);
        PairCursor::new(self as &(dyn PageSource + 't), tree, order, value_order)
    }

    /// A cursor over database `dbi`'s pairs, not yet positioned.
    pub(crate) fn cursor<'t>(&'t self, dbi: u32) -> Result<PairCursor<'t, dyn PageSource + 't>> {
        let tree = self.tree(dbi)?;
        let order = self.key_order(dbi, &tree)?;
        let value_order = self.value_order(dbi, &tree)?;
        PairCursor::new(self as &(dyn PageSource + 't), tree, order, value_order)
    }

    /// Runs the checker on this transaction's snapshot.
    pub fn check(&self) -> Result<CheckReport> {
        let env = self.env;
        // The comparators this process registered, by database name.
        // The comparators this process registered, by the names databases record.
        let registered = |name: &str| env.key_orders().get(name);
        Ok(check::check(
            self,
            self.meta(),
            self.snapshot().freelist.as_deref(),
            &registered,
        ))
    }
}

impl RoTxn<'_> {
    /// Whether page (or run) `id` is verified as it is read (see `verify_checksums`).
    #[inline]
    fn verifies(&self, id: PageId) -> bool {
        self.verify_checksums
            && self
                .store
                .get()
                .is_none_or(|store| !store.holds_in_memory(id))
    }
}

impl PageSource for RoTxn<'_> {
    #[inline]
    fn page_size(&self) -> usize {
        self.env.page_size()
    }

    fn page_count(&self) -> u64 {
        match self.store.get() {
            Some(store) => store.page_count(),
            None => self.meta().page_count,
        }
    }

    #[inline]
    fn read(&self, id: PageId, pages: usize) -> Result<&[u8]> {
        match &self.store {
            Store::Own(store) => store.read(self.map().bytes(), id, pages),
            Store::Lent(store) => {
                // Counted here: the store is shared with other threads.
                self.pages_read.set(self.pages_read.get() + 1);
                store.read_uncounted(self.map().bytes(), id, pages)
            }
            Store::Committed => {
                self.pages_read.set(self.pages_read.get() + 1);
                read_committed(
                    self.map().bytes(),
                    self.env.page_size(),
                    self.meta().page_count,
                    id,
                    pages,
                )
            }
        }
    }

    #[inline]
    fn read_tree_page(&self, id: PageId) -> Result<&[u8]> {
        let page = self.read(id, 1)?;
        if self.verifies(id) {
            header::verify_checksum(page, id)?;
        }
        Ok(page)
    }

    #[inline]
    fn read_overflow_run(&self, id: PageId, pages: usize) -> Result<&[u8]> {
        let run = self.read(id, pages)?;
        if self.verifies(id) {
            header::verify_checksum(run, id)?;
        }
        Ok(run)
    }
}

impl Drop for ReadTxn<'_> {
    fn drop(&mut self) {
        let map = self.snapshot.as_ref().map(|snapshot| snapshot.map);
        if let Some(slot) = self.slot {
            // Unpinned before the slot is given up: the next owner of the slot pins its own.
            self.env.maps().unpin(slot);
            self.env.readers().end(slot);
            if let Some(snapshot) = self.snapshot.take() {
                self.env.snapshots().give_back(snapshot);
            }
        } else if self.writer_pin {
            self.env.maps().unpin(self.env.writer_pin());
        }
        // The last transaction on a map replaced since lets it go.
        if map.is_some_and(|map| map != self.env.maps().newest_index()) {
            self.env.maps().release_unused();
        }
    }
}

impl<'e> Deref for RoTxn<'e, AnyTls> {
    type Target = ReadTxn<'e>;

    #[inline(always)]
    fn deref(&self) -> &ReadTxn<'e> {
        self.value()
    }
}

impl<'e> DerefMut for RoTxn<'e, AnyTls> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut ReadTxn<'e> {
        self.value_mut()
    }
}

impl<'e> Deref for RoTxn<'e, WithTls> {
    type Target = RoTxn<'e, AnyTls>;

    #[inline(always)]
    fn deref(&self) -> &RoTxn<'e, AnyTls> {
        self.retagged()
    }
}

impl<'e> Deref for RoTxn<'e, WithoutTls> {
    type Target = RoTxn<'e, AnyTls>;

    #[inline(always)]
    fn deref(&self) -> &RoTxn<'e, AnyTls> {
        self.retagged()
    }
}

impl<T> std::fmt::Debug for RoTxn<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoTxn")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}
