//! Layer 5, `env`: the environment, the shared state of every transaction on one file.
//!
//! An [`Env`] owns the data file, its memory map, the current meta (the newest commit), the
//! reader table, the writer lock and the writer's cached freelist. Transactions
//! ([`RoTxn`](crate::RoTxn), [`RwTxn`](crate::RwTxn)) borrow it.

mod closing;
mod copy;
mod creation;
pub(crate) mod key_orders;
mod meta_choice;
mod open;
mod options;
mod preflight;
mod registry;
mod snapshot_cache;
mod version;
mod writer_lock;

use std::fs::File;
use std::marker::PhantomData;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};

pub use closing::EnvClosingEvent;
pub use copy::CompactionOption;
#[cfg(feature = "test-support")]
pub(crate) use creation::is_creation_cut_short;
pub(crate) use meta_choice::{meta_of_commit, published_meta_missing, read_meta_slot, verify_meta};
pub(crate) use open::{map_data_file, map_size_in_pages};
pub use options::{EnvOpenOptions, DATA_FILE_NAME, LOCK_FILE_NAME, MAP_SIZE_MAX};
pub use registry::env_closing_event;
pub use version::{lmdb_version, LmdbVersion};
pub(crate) use writer_lock::{WriterGuard, WriterLock};

use crate::btree::check::{self, CheckReport};
use crate::btree::node;
use crate::error::{Error, MdbError, Result};
use crate::flags::{EnvFlags, FlagSetMode};
use crate::os::{process, AddError, Map, MapSet, PageIo, OLD_MAPS_MAX};
use crate::page::meta::{Meta, MetaSlot, MetaTail, TreeInfo};
use crate::page::{PageId, TxnId};
use crate::readers::ReaderTable;
use crate::store::freelist::FreeList;
use crate::store::segment_summary::SegmentSummaries;
use crate::txn::{RoTxn, RwTxn, Snapshot, WithTls};
use snapshot_cache::SnapshotCache;

/// An open environment: one data file holding the unnamed database and any number of named
/// databases, shared by every transaction. Cloning is cheap; clones share everything, and an
/// `Env` may be sent to and shared between threads.
///
/// ```
/// use arbordb::types::{Str, U64};
/// use arbordb::byteorder::BigEndian;
/// use arbordb::EnvOpenOptions;
/// # fn main() -> Result<(), arbordb::Error> {
/// # let dir = tempfile::tempdir().unwrap();
/// let env = unsafe { EnvOpenOptions::new().map_size(1 << 30).max_dbs(4).open(dir.path())? };
/// let mut wtxn = env.write_txn()?;
/// let visits = env.create_database::<Str, U64<BigEndian>>(&mut wtxn, Some("visits"))?;
/// visits.put(&mut wtxn, "/index.html", &1)?;
/// wtxn.commit()?;
///
/// let reader = env.clone();
/// std::thread::spawn(move || -> Result<(), arbordb::Error> {
///     let rtxn = reader.read_txn()?;
///     assert_eq!(visits.get(&rtxn, "/index.html")?, Some(1));
///     Ok(())
/// })
/// .join()
/// .unwrap()?;
/// assert!(env.check()?.is_ok());
/// # Ok(()) }
/// ```
///
/// The marker `T` is the kind of read transaction it begins ([`WithTls`](crate::WithTls), the
/// default, or [`WithoutTls`](crate::WithoutTls)), as in heed; in arbordb the two behave
/// alike ([`RoTxn`]).
pub struct Env<T = WithTls> {
    pub(crate) inner: Arc<EnvInner>,
    tls: PhantomData<T>,
}

impl<T> Clone for Env<T> {
    fn clone(&self) -> Self {
        Env::new(Arc::clone(&self.inner))
    }
}

/// The freelist as of one commit, kept so the next write transaction need not re-read it.
#[derive(Clone)]
pub(crate) struct CachedFreeList {
    /// The commit this freelist belongs to.
    pub(crate) txn_id: TxnId,
    pub(crate) list: FreeList,
    /// The pages of the persisted chain (freed by the next commit, which writes a new one).
    pub(crate) chain: Vec<PageId>,
    /// What the free segments of this freelist hold, as far as the writer has read them;
    /// dropped with the freelist when another process commits (`store/segment_summary.rs`).
    pub(crate) segment_summaries: Arc<Mutex<SegmentSummaries>>,
}

/// State only the writer touches.
pub(crate) struct WriterState {
    pub(crate) freelist: Option<CachedFreeList>,
    /// The data file's length as last set.
    pub(crate) file_len_bytes: u64,
    /// The length this process last made durable with a successful fsync; `None` until then.
    /// The length the file has (in the page cache) may not be durable: an fsync after a
    /// resize may have failed, here or in another process. A commit fsyncs (rather than
    /// fdatasyncs) until the length it relies on is this one.
    pub(crate) file_len_synced: Option<u64>,
    /// The last commit this environment wrote itself: its pages and meta were written here,
    /// after any sync that failed (a failure of a sync that could drop them poisons), so the
    /// next sync makes them durable. A commit it did not write (found on opening, or written
    /// by another process) may have been dropped by a failed sync and still read back whole.
    pub(crate) written_here: Option<TxnId>,
    /// When this process last looked for dead readers pinning pages (at most every
    /// `STALE_CHECK_INTERVAL`, so commits do not pay for it each time).
    pub(crate) stale_checked_at: Option<Instant>,
    /// Set when a sync failed: writes are refused until the environment is reopened.
    pub(crate) poisoned: bool,
}

pub(crate) struct EnvInner {
    /// Unique per opened environment; database handles carry it.
    id: u64,
    path: PathBuf,
    registry_path: PathBuf,
    /// The flags in force: those it was opened with, as [`Env::set_flags`] changed them since;
    /// a second open in this process must ask for these.
    flags: AtomicU32,
    page_size: usize,
    /// Dirty-page bytes a write transaction holds before it spills some to the file.
    txn_memory_max: usize,
    /// Read transactions verify the pages they read
    /// ([`EnvOpenOptions::verify_checksums_on_read`]).
    verify_checksums_on_read: bool,
    max_dbs: u32,
    io: Box<dyn PageIo>,
    file: File,
    /// Every map of the file made so far; old ones are unmapped once no transaction of this
    /// process reads through them (`os/maps.rs`). Pin `i` is reader slot `i`'s, the last
    /// ([`EnvInner::writer_pin`]) the write transaction's.
    maps: MapSet,
    /// The newest commit this process knows of, cached; readers share it when its id is the
    /// current txn id of the reader table (else another process committed since).
    snapshots: SnapshotCache,
    /// The reader table, the current and durable txn ids, and the lock file, shared by every
    /// process with the environment open (see `readers.rs`).
    readers: ReaderTable,
    writer_lock: WriterLock,
    writer: Mutex<WriterState>,
    /// Names of the named databases handed out so far; database index `i + 1` is `names[i]`.
    database_names: RwLock<Vec<String>>,
    /// The custom key comparators registered per database index.
    key_orders: key_orders::KeyOrders,
    /// A newer meta this process's open passed over, if it did (reported by `Env::info`).
    skipped_meta: Option<SkippedMeta>,
    /// The commit an environment opened writable with `PREV_SNAPSHOT` passed over, until its
    /// first write to the file discards it (0: none). Until then a writer must not adopt it
    /// as a commit whose publication was lost (`newest_meta`).
    discard_newer: AtomicU64,
    /// Opened with `PREV_SNAPSHOT` (which its first commit clears from the flags in force):
    /// another open in the process must ask for it too.
    opened_previous: bool,
    /// Signals the environment's closing events when dropped. Last: fields drop in order,
    /// so it signals once the files and the map are closed.
    closed: closing::SignalOnDrop,
}

/// How often at most a writer checks whether the readers pinning old pages still run.
const STALE_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// What the other layers read of the environment: the file's I/O, its maps, the reader table,
/// the writer's state and the settings. The fields stay private to `env`.
impl EnvInner {
    /// Unique per opened environment; database handles carry it.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn flags(&self) -> EnvFlags {
        EnvFlags::from_bits_truncate(self.flags.load(Ordering::Relaxed))
    }

    /// What this environment's closing events wait on.
    pub(crate) fn closing_signal(&self) -> Arc<closing::ClosingSignal> {
        Arc::clone(&self.closed.0)
    }

    /// The database index of `name`, registering it if new.
    pub(crate) fn database_index(&self, name: &str) -> Result<u32> {
        if let Some(position) = self
            .database_names
            .read()
            .iter()
            .position(|known| known == name)
        {
            return Ok(position as u32 + 1);
        }
        let mut names = self.database_names.write();
        if let Some(position) = names.iter().position(|known| known == name) {
            return Ok(position as u32 + 1);
        }
        if names.len() >= self.max_dbs as usize {
            return Err(Error::Mdb(MdbError::DbsFull));
        }
        names.push(name.to_owned());
        Ok(names.len() as u32)
    }

    pub(crate) fn page_size(&self) -> usize {
        self.page_size
    }

    /// Dirty-page bytes a write transaction holds before it spills some to the file.
    pub(crate) fn txn_memory_max(&self) -> usize {
        self.txn_memory_max
    }

    /// Whether transactions verify the pages they read
    /// ([`EnvOpenOptions::verify_checksums_on_read`]).
    pub(crate) fn verifies_checksums_on_read(&self) -> bool {
        self.verify_checksums_on_read
    }

    /// Every write to the data file goes through this.
    pub(crate) fn io(&self) -> &dyn PageIo {
        &*self.io
    }

    /// The maps of the data file (`os/maps.rs`).
    pub(crate) fn maps(&self) -> &MapSet {
        &self.maps
    }

    /// The cached newest commit of this process.
    pub(crate) fn snapshots(&self) -> &SnapshotCache {
        &self.snapshots
    }

    /// The reader table, with the current and durable txn ids (`readers.rs`).
    pub(crate) fn readers(&self) -> &ReaderTable {
        &self.readers
    }

    /// The writer's state across transactions, locked by the one writer.
    pub(crate) fn writer(&self) -> &Mutex<WriterState> {
        &self.writer
    }

    /// Names of the named databases handed out so far; index `i + 1` is `names[i]`.
    pub(crate) fn database_names(&self) -> &RwLock<Vec<String>> {
        &self.database_names
    }

    /// The custom key comparators registered per database index.
    pub(crate) fn key_orders(&self) -> &key_orders::KeyOrders {
        &self.key_orders
    }
}

impl EnvInner {
    /// Takes the writer lock: this process's, then the lock file's; `Ok(None)` if `wait` is
    /// false and another writer holds either.
    pub(crate) fn lock_writer(&self, wait: bool) -> Result<Option<WriterGuard<'_>>> {
        self.writer_lock.acquire(self.readers.lock_file(), wait)
    }

    /// The meta of commit `id` if its slot (`id % 2`) holds it, with its unsynced runs and
    /// kept freelist. Read with pread, not through the map: the map's bytes must never change
    /// under a borrow, and meta slots are rewritten in place (docs/unsafe.md). A slot being
    /// written fails its checksum.
    fn meta_in_slot(&self, id: TxnId) -> Result<Option<(Meta, MetaTail)>> {
        meta_of_commit(&self.file, &self.registry_path, self.page_size, id)
    }

    /// Writes again, with the bytes the file holds, the pages commit `id`'s meta lists as
    /// written before its one sync (and, with `meta`, the meta itself), so that the next sync
    /// makes them durable. They read back whole, but that does not make them durable: a sync
    /// that failed (in this process or an earlier one, since the last reboot) may have dropped
    /// them while the page cache still holds them, and no later sync writes a page that is not
    /// written again (invariant 7). Does nothing if the slot no longer holds commit `id`.
    pub(crate) fn rewrite_unsynced(&self, id: TxnId, meta: bool) -> Result<()> {
        let Some((_, tail)) = self.meta_in_slot(id)? else {
            return Ok(());
        };
        let page_size = self.page_size as u64;
        let mut ranges: Vec<(u64, u64)> = tail
            .runs
            .iter()
            .map(|run| {
                let offset = run.first.byte_offset(self.page_size);
                (offset, u64::from(run.pages) * page_size)
            })
            .collect();
        if meta {
            ranges.push((id.meta_page().byte_offset(self.page_size), page_size));
        }
        for (offset, len) in ranges {
            let mut bytes = vec![0u8; len as usize];
            self.file.read_exact_at(&mut bytes, offset)?;
            self.io.write_at(offset, &bytes)?;
        }
        Ok(())
    }

    /// Discards the commit that an environment opened writable with `PREV_SNAPSHOT` passed
    /// over, before its first write to the file: the commit's meta is overwritten (all but its
    /// magic, version and page size, so it no longer passes its checksum and claims no commit)
    /// and synced. Pages of the discarded commit may be written over from then on; a crash
    /// before this returns leaves either meta as it was or the slot unreadable, and either way
    /// open takes the previous commit. Does nothing once done, or when there is none.
    pub(crate) fn discard_newer_commit(&self) -> std::io::Result<()> {
        let id = self.discard_newer.load(Ordering::Acquire);
        if id == 0 {
            return Ok(());
        }
        let slot = TxnId::new(id).meta_page().byte_offset(self.page_size);
        const KEPT: usize = 16; // magic, format version, page size
        self.io
            .write_at(slot + KEPT as u64, &vec![0u8; self.page_size - KEPT])?;
        self.io.sync_data()?;
        self.discard_newer.store(0, Ordering::Release);
        Ok(())
    }

    /// The flags another open of this environment in the process must ask for: the flags in
    /// force, `PREV_SNAPSHOT` as the first open asked (its first commit resets it in force).
    pub(crate) fn flags_to_reopen(&self) -> EnvFlags {
        let mut flags = self.flags();
        flags.remove(EnvFlags::PREV_SNAPSHOT);
        if self.opened_previous {
            flags.insert(EnvFlags::PREV_SNAPSHOT);
        }
        flags
    }

    /// After the first commit of an environment opened on its previous commit: the flag is
    /// reset, as in LMDB, and other processes may open the environment.
    pub(crate) fn end_previous_snapshot(&self) {
        let flag = EnvFlags::PREV_SNAPSHOT.bits();
        if self.flags.fetch_and(!flag, Ordering::Relaxed) & flag != 0 {
            // The commit is done and must not be reported as failed. If the lock cannot be
            // downgraded, other processes wait to open until this environment closes, which
            // releases it.
            let _ = self.readers.share_open_lock();
        }
    }

    /// Makes `snapshot` the cached newest commit unless a newer one is cached.
    pub(crate) fn cache_snapshot(&self, snapshot: Snapshot) {
        self.snapshots.publish(snapshot);
    }

    /// The newest commit this process knows of (the cached one).
    pub(crate) fn cached_meta(&self) -> Meta {
        self.snapshots.meta()
    }

    /// The snapshot of commit `id`: the cached one, or (another process committed it) read
    /// from its slot in the file. `Ok(None)` when a newer commit has overwritten that slot
    /// since `id` was current; the caller retries with the newer id.
    ///
    /// The snapshot's map is the newest one: a map index kept from before a resize is moved
    /// to the newest map (or a new one, if the newest is too short), so that no transaction
    /// begins on an old map, which may be released.
    #[inline]
    pub(crate) fn snapshot(&self, id: TxnId) -> Result<Option<Box<Snapshot>>> {
        let snapshot = match self.snapshots.get(id) {
            Some(snapshot) => snapshot,
            None => match self.snapshot_from_file(id)? {
                Some(snapshot) => snapshot,
                None => return Ok(None),
            },
        };
        if snapshot.map == self.maps.newest_index() {
            return Ok(Some(snapshot));
        }
        self.move_to_newest_map(snapshot).map(Some)
    }

    /// [`snapshot`](Self::snapshot) when the snapshot names an older map than the newest.
    #[cold]
    fn move_to_newest_map(&self, mut snapshot: Box<Snapshot>) -> Result<Box<Snapshot>> {
        snapshot.map = self.map_for(&snapshot.meta, false)?.0;
        Ok(snapshot)
    }

    /// The pin ([`MapSet::pin`]) of the write transaction: the one after the reader slots'.
    pub(crate) fn writer_pin(&self) -> usize {
        self.readers.capacity()
    }

    /// [`snapshot`](Self::snapshot) when the cache holds another commit.
    #[cold]
    fn snapshot_from_file(&self, id: TxnId) -> Result<Option<Box<Snapshot>>> {
        if let Some((meta, tail)) = self.meta_in_slot(id)? {
            let (map, _) = self.map_for(&meta, false)?;
            let snapshot = Snapshot {
                meta,
                map,
                freelist: tail.freelist,
            };
            self.cache_snapshot(snapshot.clone());
            return Ok(Some(Box::new(snapshot)));
        }
        if self.readers.current_txn_id() == id {
            // Nobody overwrote the slot (only commit id + 2 may, after id + 1 is current).
            return Err(published_meta_missing(id));
        }
        Ok(None)
    }

    /// The newest commit, for a writer (holding the writer lock) about to build on it: the
    /// current one, unless a writer died between writing its meta and publishing its id. Then
    /// the slot of the next commit holds a newer meta, and its id is published before this
    /// writer scans the readers (see `readers.rs`). Only that slot can: the writer after
    /// a lost publication repairs it at its own start.
    ///
    /// Such a meta is adopted only if its unsynced runs verify: a meta left by a commit a power
    /// loss cut short (which open skipped) may still sit in that slot. An adopted meta is not
    /// known to be durable, so the next commit syncs its pages before its meta.
    pub(crate) fn newest_meta(&self) -> Result<(Meta, Option<Arc<[u8]>>)> {
        let current = self.readers.current_txn_id();
        let discarding = self.discard_newer.load(Ordering::Acquire) != 0;
        if let Some((newer, tail)) = self.meta_in_slot(current.next())?.filter(|_| !discarding) {
            if verify_meta(&self.file, &newer, &tail.runs)? {
                self.readers.set_current_txn_id(newer.txn_id);
                let (map, _) = self.map_for(&newer, false)?;
                self.cache_snapshot(Snapshot {
                    meta: newer,
                    map,
                    freelist: tail.freelist.clone(),
                });
                return Ok((newer, tail.freelist));
            }
        }
        let snapshot = self.snapshot(current)?;
        let newest = snapshot.map(|snapshot| {
            let newest = (snapshot.meta, snapshot.freelist.clone());
            self.snapshots.give_back(snapshot);
            newest
        });
        newest.ok_or_else(|| {
            Error::corrupted(
                current.meta_page(),
                "the newest meta changed while the writer lock was held",
            )
        })
    }

    /// The map for `meta` and its index: the newest one, or a new one when `meta`'s pages reach
    /// past it (another process with a larger map size grew the file). A writer also adopts a
    /// larger map size recorded in the meta, so that it may grow the file as far as the other
    /// process could.
    pub(crate) fn map_for(&self, meta: &Meta, adopt_map_size: bool) -> Result<(usize, &Map)> {
        let round = |len: usize| len.div_ceil(self.page_size) * self.page_size;
        let needed = meta.page_count as usize * self.page_size;
        let recorded = usize::try_from(meta.map_size)
            .unwrap_or(usize::MAX)
            .min(options::MAP_SIZE_MAX);
        let wanted = if adopt_map_size {
            needed.max(recorded)
        } else {
            needed
        };
        let newest = self.maps.newest();
        if newest.1.len() >= wanted {
            return Ok(newest);
        }
        // A reader maps as far as the other process may grow the file (its recorded map
        // size), not one more map per commit that grows it; and if that much address space
        // is refused, just what it needs.
        let generous = round(wanted.max(recorded));
        match self.maps.at_least(&self.file, generous) {
            Ok(map) => Ok(map),
            Err(AddError::Io(_)) if generous > round(wanted) => self
                .maps
                .at_least(&self.file, round(wanted))
                .map_err(map_error),
            Err(error) => Err(map_error(error)),
        }
    }

    /// Frees the reader slots of processes that no longer run.
    pub(crate) fn clear_stale_readers(&self) -> usize {
        let me = process::current();
        // This process's own slots are alive without asking the kernel.
        self.readers.clear_stale(|pid, start| {
            (pid, start) == (me.pid, me.start) || process::is_alive(pid, start)
        })
    }

    /// The oldest snapshot a reader holds, for a writer building on commit `base`. When readers
    /// of other processes pin older commits, checks (at most every `STALE_CHECK_INTERVAL`)
    /// that they still run, so a killed reader does not pin pages forever.
    pub(crate) fn oldest_reader(&self, writer: &mut WriterState, base: TxnId) -> Option<TxnId> {
        let oldest = self.readers.oldest()?;
        let due = writer
            .stale_checked_at
            .is_none_or(|at| at.elapsed() >= STALE_CHECK_INTERVAL);
        if oldest >= base || !due {
            return Some(oldest);
        }
        writer.stale_checked_at = Some(Instant::now());
        let me = process::current();
        let foreign_dead = self
            .readers
            .owners_older_than(base)
            .into_iter()
            .any(|(pid, start)| {
                (pid, start) != (me.pid, me.start) && !process::is_alive(pid, start)
            });
        if foreign_dead && self.clear_stale_readers() > 0 {
            return self.readers.oldest();
        }
        Some(oldest)
    }
}

/// The error for a map that could not be added.
fn map_error(error: AddError) -> Error {
    match error {
        AddError::Io(error) => Error::Io(error),
        AddError::OldMapsInUse => Error::Mdb(MdbError::OldMapsInUse { kept: OLD_MAPS_MAX }),
    }
}

impl Drop for EnvInner {
    fn drop(&mut self) {
        registry::forget(&self.registry_path);
    }
}

/// A live read transaction, from [`Env::reader_list`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderInfo {
    /// The process that holds it.
    pub pid: u32,
    /// The commit it reads; `None` while it is still starting.
    pub txn_id: Option<u64>,
}

/// Information about an environment, as heed's `EnvInfo`.
#[derive(Debug, Clone, Copy)]
pub struct EnvInfo {
    /// Always 0: arbordb never maps at a fixed address. (heed has a raw pointer here; a
    /// number keeps `EnvInfo` `Send` without `unsafe`.)
    pub map_addr: usize,
    /// Size of the memory map in bytes.
    pub map_size: usize,
    /// Number of the last page in use.
    pub last_page_number: usize,
    /// Id of the last committed transaction.
    pub last_txn_id: usize,
    /// Maximum number of reader slots.
    pub maximum_number_of_readers: u32,
    /// Reader slots in use now.
    pub number_of_readers: u32,
    /// A meta naming a newer commit than the one this environment opened at, passed over when
    /// it opened, and why (`None`: open took the newest meta). Open falls back to the other
    /// meta only when the newer one cannot be trusted; this says that it happened, so a
    /// rolled-back commit is never silent. An arbordb extension; only the process that opened
    /// the environment first reports it (later ones take the commit the lock file names).
    pub skipped_meta: Option<SkippedMeta>,
}

/// A meta that open passed over although it claims a newer commit (see
/// [`EnvInfo::skipped_meta`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedMeta {
    /// The meta slot (0 or 1).
    pub slot: u64,
    /// The txn id the meta claims (unverified when the checksum failed).
    pub txn_id: u64,
    /// Why it was passed over.
    pub reason: SkipReason,
}

/// Why open passed over a meta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// The meta fails its checksum: a meta write torn by a crash, or damage.
    Checksum,
    /// The meta is whole, but pages its commit wrote without syncing them first (a one-sync
    /// commit, docs/design.md) do not all read back with their checksums: a power loss cut
    /// the commit short before its sync returned, or those pages were damaged since.
    PagesNotWhole,
    /// The environment was opened with [`EnvFlags::PREV_SNAPSHOT`](crate::EnvFlags::PREV_SNAPSHOT):
    /// the newest commit is passed over on purpose. A read-only environment leaves it in the
    /// file; a writable one discards it before its first write to the file.
    PreviousSnapshot,
}

impl std::fmt::Display for SkippedMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = match self.reason {
            SkipReason::Checksum => "it fails its checksum (a torn write or damage)",
            SkipReason::PagesNotWhole => {
                "pages its commit lists do not read back whole (a commit cut short, or damage)"
            }
            SkipReason::PreviousSnapshot => "PREV_SNAPSHOT asked for the commit before it",
        };
        write!(
            f,
            "the meta in slot {} claiming commit {} was passed over: {why}",
            self.slot, self.txn_id
        )
    }
}

impl<T> Env<T> {
    /// The handle of the environment `inner`.
    pub(crate) fn new(inner: Arc<EnvInner>) -> Self {
        Env {
            inner,
            tls: PhantomData,
        }
    }

    /// Begins a read transaction: a snapshot of the newest commit that never changes, never
    /// blocks and is never blocked by the writer.
    ///
    /// Returns [`MdbError::ReadersFull`](crate::MdbError::ReadersFull) when every reader slot is
    /// taken.
    ///
    /// Returns [`MdbError::OldMapsInUse`](crate::MdbError::OldMapsInUse) when another process grew
    /// the file past this process's map and the 16 old maps this process keeps are all still read
    /// through by live transactions: end the oldest transactions and begin again.
    pub fn read_txn(&self) -> Result<RoTxn<'_, T>> {
        Ok(self.plain_read_txn()?.into_tagged())
    }

    /// Begins a read transaction that owns the environment, as heed's does: it keeps the
    /// environment open (its files, its map) until it ends, even after every `Env` handle is
    /// dropped, so it may be kept for as long as the program likes (`'static`), moved to
    /// another thread, or stored in a structure that outlives this handle. The environment
    /// closes, and [`env_closing_event`](crate::env_closing_event)'s event fires, only once
    /// it ends too.
    ///
    /// ```
    /// # use arbordb::types::Str;
    /// # fn main() -> Result<(), arbordb::Error> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let env = unsafe { arbordb::EnvOpenOptions::new().open(dir.path())? };
    /// let mut wtxn = env.write_txn()?;
    /// let db = env.create_database::<Str, Str>(&mut wtxn, None)?;
    /// db.put(&mut wtxn, "answer", "42")?;
    /// wtxn.commit()?;
    ///
    /// let rtxn: arbordb::RoTxn<'static, arbordb::WithTls> = env.static_read_txn()?;
    /// let reader = std::thread::spawn(move || db.get(&rtxn, "answer").unwrap().map(str::to_owned));
    /// assert_eq!(reader.join().unwrap().as_deref(), Some("42"));
    /// # Ok(()) }
    /// ```
    pub fn static_read_txn(self) -> Result<RoTxn<'static, T>>
    where
        T: 'static,
    {
        Ok(RoTxn::begin_owning(Arc::clone(&self.inner))?.into_tagged())
    }

    /// A read transaction under the marker every read method takes, for the environment's
    /// own reads.
    pub(crate) fn plain_read_txn(&self) -> Result<RoTxn<'_>> {
        RoTxn::begin(&self.inner)
    }

    /// Begins the write transaction, waiting while another one is live.
    ///
    /// Returns [`MdbError::WriterBusy`](crate::MdbError::WriterBusy) instead of waiting when the
    /// live write transaction is this thread's own (it began on this thread), since that wait could
    /// never end.
    ///
    /// Returns [`MdbError::OldMapsInUse`](crate::MdbError::OldMapsInUse) when another process grew
    /// the file past this process's map and the 16 old maps this process keeps are all still read
    /// through by live transactions: end the oldest transactions and begin again.
    pub fn write_txn(&self) -> Result<RwTxn<'_>> {
        RwTxn::begin(&self.inner, true)?
            .ok_or_else(|| unreachable!("a blocking begin always begins"))
    }

    /// Begins the write transaction if no other one is live in any thread or process; otherwise
    /// returns [`MdbError::WriterBusy`](crate::MdbError::WriterBusy) at once instead of waiting.
    ///
    /// Returns [`MdbError::OldMapsInUse`](crate::MdbError::OldMapsInUse) when another process grew
    /// the file past this process's map and the 16 old maps this process keeps are all still read
    /// through by live transactions: end the oldest transactions and begin again.
    pub fn try_write_txn(&self) -> Result<RwTxn<'_>> {
        RwTxn::begin(&self.inner, false)?.ok_or(Error::Mdb(MdbError::WriterBusy))
    }

    /// Deletes the named database `name` in `wtxn`: its pages are freed and, once `wtxn` commits,
    /// the name is gone (LMDB's `mdb_drop` with `del = 1`). Returns whether it existed. Handles on
    /// it give [`MdbError::DatabaseNotFound`](crate::MdbError::DatabaseNotFound) until it is
    /// created again. To empty a database but keep it, use
    /// [`Database::clear`](crate::Database::clear).
    pub fn delete_database(&self, wtxn: &mut RwTxn<'_>, name: &str) -> Result<bool> {
        self.check_txn_env(wtxn.env_id())?;
        match wtxn.find_tree(Some(name))? {
            Some(dbi) => {
                wtxn.delete_tree(dbi)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Refuses a transaction of another environment.
    pub(crate) fn check_txn_env(&self, env_id: u64) -> Result<()> {
        if env_id != self.inner.id {
            return Err(Error::Mdb(MdbError::DatabaseFromAnotherEnv));
        }
        Ok(())
    }

    /// Information about the environment.
    pub fn info(&self) -> EnvInfo {
        let meta = self.inner.cached_meta();
        EnvInfo {
            map_addr: 0,
            map_size: self.inner.maps.newest().1.len(),
            last_page_number: meta.page_count as usize - 1,
            last_txn_id: meta.txn_id.get() as usize,
            maximum_number_of_readers: self.inner.readers.capacity() as u32,
            number_of_readers: self.inner.readers.count() as u32,
            skipped_meta: self.inner.skipped_meta,
        }
    }

    /// The live read transactions of every process (LMDB's `mdb_reader_list`), slots of dead
    /// processes included until they are cleared.
    pub fn reader_list(&self) -> Vec<ReaderInfo> {
        self.inner
            .readers
            .list()
            .into_iter()
            .map(|(pid, txn_id)| ReaderInfo {
                pid,
                txn_id: txn_id.map(TxnId::get),
            })
            .collect()
    }

    /// The number of pages on the newest commit's freelist (including the list's own pages):
    /// free for reuse once no reader needs them.
    pub fn free_pages(&self) -> Result<u64> {
        let rtxn = self.plain_read_txn()?;
        let page_size = self.inner.page_size;
        let page_count = rtxn.meta().page_count;
        let read = |id| {
            crate::store::page_store::read_committed(
                rtxn.map().bytes(),
                page_size,
                page_count,
                id,
                1,
            )
        };
        let kept = rtxn.snapshot().freelist.as_deref();
        let (list, chain) = crate::store::freelist::read(rtxn.meta(), kept, read)?;
        let mut total = list.pages().count() as u64 + chain.len() as u64;
        for segment in list.segments() {
            let listed = crate::store::free_segment::read(read(segment)?, segment, page_count)?;
            total += 1 + listed.len() as u64;
        }
        Ok(total)
    }

    /// The unnamed database's record in the newest commit.
    pub(crate) fn main_tree(&self) -> TreeInfo {
        self.inner.cached_meta().main
    }

    /// This environment's identity, which its database handles carry.
    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }

    /// The data file's size on disk in bytes.
    pub fn real_disk_size(&self) -> Result<u64> {
        Ok(self.inner.io.file_len()?)
    }

    /// The bytes of the pages the databases use in the newest commit (the unnamed database
    /// and every named one, their overflow runs and trees of values included; not the free
    /// pages, the catalog or the metas), as heed's `non_free_pages_size`. Unlike heed's, it
    /// opens no database, so `max_dbs` does not bound it.
    pub fn non_free_pages_size(&self) -> Result<u64> {
        let pages = self.plain_read_txn()?.database_pages()?;
        Ok(pages.saturating_mul(self.inner.page_size as u64))
    }

    /// A new handle to the data file (heed's `try_clone_inner_file`): the same open file,
    /// for reading its bytes or its metadata. Writing through it is outside arbordb's
    /// contract, as for any other writer of the file.
    pub fn try_clone_inner_file(&self) -> Result<File> {
        Ok(self.inner.file.try_clone()?)
    }

    /// The flags in force, as LMDB's raw bits (heed's `get_flags`): those the environment was
    /// opened with, as [`set_flags`](Self::set_flags) changed them since.
    pub fn get_flags(&self) -> Result<u32> {
        Ok(self.inner.flags().bits())
    }

    /// The flags in force (heed's `flags`); always `Some`, every bit being a flag's.
    pub fn flags(&self) -> Result<Option<EnvFlags>> {
        Ok(EnvFlags::from_bits(self.get_flags()?))
    }

    /// Sets or clears flags of the open environment, for this process's later commits. Only
    /// [`EnvFlags::CHANGEABLE`] may change, as with LMDB's `mdb_env_set_flags`; another flag is
    /// [`MdbError::InvalidOption`](crate::MdbError::InvalidOption) and changes nothing.
    ///
    /// # Safety
    ///
    /// Setting `NO_SYNC` has [`EnvOpenOptions::flags`]'s consequences, which the caller
    /// accepts. (Unlike LMDB, arbordb needs no promise that one thread at a time calls this.)
    pub unsafe fn set_flags(&self, flags: EnvFlags, mode: FlagSetMode) -> Result<()> {
        let unchangeable = flags.bits() & !EnvFlags::CHANGEABLE.bits();
        if unchangeable != 0 {
            return Err(Error::Mdb(MdbError::InvalidOption {
                reason: format!(
                    "{:?} can only be set when the environment is opened",
                    EnvFlags::from_bits_truncate(unchangeable)
                ),
            }));
        }
        match mode {
            FlagSetMode::Enable => self.inner.flags.fetch_or(flags.bits(), Ordering::Relaxed),
            FlagSetMode::Disable => self.inner.flags.fetch_and(!flags.bits(), Ordering::Relaxed),
        };
        Ok(())
    }

    /// Drops this handle and returns an event that fires once the environment has closed:
    /// every other clone dropped (the caller drops them), the last transaction ended, the
    /// files closed. As heed's.
    pub fn prepare_for_closing(self) -> EnvClosingEvent {
        EnvClosingEvent(self.inner.closing_signal())
    }

    /// The reader table's number of slots: how many read transactions may be live at once,
    /// over every process.
    pub fn max_readers(&self) -> u32 {
        self.inner.readers.capacity() as u32
    }

    /// Flushes the data file to disk (useful after commits under `NO_SYNC` / `NO_META_SYNC`).
    pub fn force_sync(&self) -> Result<()> {
        let _writer = self.inner.lock_writer(true)?;
        let mut writer = self.inner.writer.lock();
        let newest = self.inner.readers.current_txn_id();
        if self.inner.readers.durable_txn_id() < newest && writer.written_here != Some(newest) {
            // The newest commit read back whole, which does not make it durable
            // (`EnvInner::rewrite_unsynced`).
            self.inner.rewrite_unsynced(newest, true)?;
        }
        match self.inner.io.sync_all() {
            Ok(()) => {
                self.inner.readers.raise_durable_txn_id(newest);
                writer.file_len_synced = Some(writer.file_len_bytes);
                Ok(())
            }
            Err(error) => {
                writer.poisoned = true;
                Err(Error::Io(error))
            }
        }
    }

    /// The path the environment was opened with.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The longest key this environment accepts, in bytes (1001 with 4096-byte pages).
    pub fn max_key_size(&self) -> usize {
        node::key_size_max(self.inner.page_size)
    }

    /// The page size of the data file in bytes.
    pub fn page_size(&self) -> usize {
        self.inner.page_size
    }

    /// Frees the reader slots of processes that died (killed, crashed) while holding a read
    /// transaction, and returns how many. Slots are also reclaimed on their own when the table
    /// is full and when dead readers pin pages a writer could reuse.
    ///
    /// A slot records its owner's pid and start time, so a reused pid does not keep a dead
    /// reader's slot alive.
    pub fn clear_stale_readers(&self) -> Result<usize> {
        Ok(self.inner.clear_stale_readers())
    }

    /// Changes the map size to `new_size` bytes (rounded up to whole pages).
    ///
    /// Waits for the live write transaction, if any, to end. Live read transactions of this process
    /// keep reading through the old map, so they stay valid; the old map is unmapped once the last
    /// of them ends (at once if there is none). At most 16 old maps are kept for live transactions:
    /// when that many are still read through, the resize is refused with
    /// [`MdbError::OldMapsInUse`](crate::MdbError::OldMapsInUse) and nothing changes (end the
    /// transactions that began before the earlier resizes, then resize again). So resizing any
    /// number of times costs no more mappings or address space than the maps in use.
    ///
    /// # Safety
    ///
    /// The same contract as [`EnvOpenOptions::open`]; resizing itself adds nothing to it. It is
    /// `unsafe` to keep heed's signature.
    pub unsafe fn resize(&self, new_size: usize) -> Result<()> {
        let _writer = self.inner.lock_writer(true)?;
        let page_size = self.inner.page_size;
        let new_size = map_size_in_pages(new_size, page_size)?;
        let in_use = self.inner.cached_meta().page_count as usize * page_size;
        if new_size < in_use {
            return Err(Error::Mdb(MdbError::InvalidOption {
                reason: format!("map size {new_size} is below the {in_use} bytes in use"),
            }));
        }
        self.inner
            .maps
            .push(map_data_file(
                &self.inner.file,
                &self.inner.registry_path,
                new_size,
                self.inner.maps.read_ahead(),
            )?)
            .map_err(map_error)?;
        Ok(())
    }

    /// Runs the consistency checker on the newest commit: both metas, every tree (key order,
    /// separators, depth, counts, checksums, overflow runs) and that every page is used by
    /// exactly one tree or is free. Problems are listed in the report, not returned as errors.
    pub fn check(&self) -> Result<CheckReport> {
        // Read the meta slots and begin the snapshot with no commit in between.
        let (rtxn, slots, file_len) = {
            let _writer = self.inner.lock_writer(true)?;
            let rtxn = self.plain_read_txn()?;
            let mut slots = [(MetaSlot::NotArbordb, true); 2];
            for (index, slot) in slots.iter_mut().enumerate() {
                let (decoded, tail) =
                    read_meta_slot(&self.inner.file, self.inner.page_size, index as u64)?;
                let whole = match decoded {
                    MetaSlot::Valid(meta) => verify_meta(&self.inner.file, &meta, &tail.runs)?,
                    _ => true,
                };
                *slot = (decoded, whole);
            }
            (rtxn, slots, self.inner.io.file_len()?)
        };
        let mut report = rtxn.check()?;
        check::check_metas(&mut report, slots, rtxn.meta(), file_len);
        Ok(report)
    }
}

impl<T> std::fmt::Debug for Env<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// An id unique to an environment among those open in the process.
pub(crate) fn next_env_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
