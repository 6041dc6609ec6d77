//! Opening an environment: [`EnvOpenOptions`], creating a fresh file, and choosing the meta.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::creation;
use super::preflight::{self, DataFile};
use super::{
    registry, Env, EnvInner, SkipReason, SkippedMeta, SnapshotCache, WriterLock, WriterState,
};
use crate::error::{Error, Result};
use crate::flags::EnvFlags;
use crate::os::{
    at_path, os_page_size, LockFile, Map, MapSet, OsFile, PageIo, PageIoFactory, Role,
};
use crate::page::meta::{
    claimed_txn_id, is_valid_page_size, Meta, MetaSlot, MetaTail, MAGIC, META_SIZE, META_SIZE_MAX,
    PAGE_SIZE_MAX, PAGE_SIZE_MIN,
};
use crate::page::readers::{ReaderTable, TableError};
use crate::txn::Snapshot;

/// The default map size: 64 GiB of address space (not of disk; the file grows as needed).
pub const DEFAULT_MAP_SIZE_BYTES: usize = if cfg!(target_pointer_width = "64") {
    64 << 30
} else {
    1 << 30
};
/// The default number of reader slots (LMDB's default).
pub const DEFAULT_MAX_READERS: u32 = 126;
/// The default number of named databases.
pub const DEFAULT_MAX_DBS: u32 = 64;
/// The default for [`EnvOpenOptions::txn_memory_max`]: 4 GiB (512 MiB on 32-bit targets).
pub const DEFAULT_TXN_MEMORY_MAX: usize = if cfg!(target_pointer_width = "64") {
    4 << 30
} else {
    512 << 20
};
/// The most reader slots an environment may have.
pub const MAX_READERS_LIMIT: u32 = 1 << 16;
/// The largest map size: the largest slice Rust allows, in whole pages of the largest page
/// size, so that rounding a size up to whole pages cannot overflow. A larger size given to
/// [`EnvOpenOptions::map_size`] or [`Env::resize`](crate::Env::resize) is
/// [`Error::InvalidOption`]. The operating system may refuse to reserve less than this (a
/// 64-bit Linux process has 128 TiB of address space); opening then fails with an
/// [`Error::Io`] that names the size.
pub const MAP_SIZE_MAX: usize = (isize::MAX as usize) & !(PAGE_SIZE_MAX - 1);

/// `bytes` rounded up to whole pages, or `InvalidOption` if it is over [`MAP_SIZE_MAX`].
pub(crate) fn map_size_in_pages(bytes: usize, page_size: usize) -> Result<usize> {
    if bytes > MAP_SIZE_MAX {
        return Err(Error::InvalidOption {
            reason: format!(
                "a map size of {bytes} bytes is over the largest, {MAP_SIZE_MAX} bytes (arbordb::MAP_SIZE_MAX)"
            ),
        });
    }
    Ok(bytes.div_ceil(page_size) * page_size)
}

/// Maps `len` bytes of the data file at `path`; a refusal names the size and the file.
pub(crate) fn map_data_file(file: &File, path: &Path, len: usize) -> Result<Map> {
    Map::new(file, len).map_err(|error| {
        Error::Io(io::Error::new(
            error.kind(),
            format!(
                "cannot map {len} bytes of {} (the map size): {error}",
                path.display()
            ),
        ))
    })
}

/// The data file's name inside an environment directory.
pub const DATA_FILE_NAME: &str = "data.arbordb";
/// The lock file's name inside an environment directory.
pub const LOCK_FILE_NAME: &str = "lock.arbordb";

/// Options for opening an environment, in heed's shape.
///
/// ```
/// # fn main() -> Result<(), arbordb::Error> {
/// let dir = tempfile::tempdir().unwrap();
/// let env = unsafe { arbordb::EnvOpenOptions::new().map_size(1 << 30).max_dbs(4).open(dir.path())? };
/// # drop(env); Ok(()) }
/// ```
#[derive(Clone)]
pub struct EnvOpenOptions {
    map_size: Option<usize>,
    max_readers: Option<u32>,
    max_dbs: Option<u32>,
    page_size: Option<usize>,
    txn_memory_max: Option<usize>,
    verify_checksums_on_read: bool,
    flags: EnvFlags,
    page_io: Option<PageIoFactory>,
}

impl std::fmt::Debug for EnvOpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvOpenOptions")
            .field("map_size", &self.map_size)
            .field("max_readers", &self.max_readers)
            .field("max_dbs", &self.max_dbs)
            .field("page_size", &self.page_size)
            .field("txn_memory_max", &self.txn_memory_max)
            .field("verify_checksums_on_read", &self.verify_checksums_on_read)
            .field("flags", &self.flags)
            .finish_non_exhaustive()
    }
}

impl Default for EnvOpenOptions {
    fn default() -> Self {
        EnvOpenOptions::new()
    }
}

impl EnvOpenOptions {
    /// Default options: a 64 GiB map (for an existing environment: the map size it was last
    /// written with), 126 readers, 64 named databases, OS page size.
    pub fn new() -> EnvOpenOptions {
        EnvOpenOptions {
            map_size: None,
            max_readers: None,
            max_dbs: None,
            page_size: None,
            txn_memory_max: None,
            verify_checksums_on_read: false,
            flags: EnvFlags::empty(),
            page_io: None,
        }
    }

    /// The map size in bytes: the largest the data file may grow to. It reserves address
    /// space, not disk, so it may be generous; grow it later with [`Env::resize`].
    pub fn map_size(&mut self, size: usize) -> &mut Self {
        self.map_size = Some(size);
        self
    }

    /// The number of read transactions that may be live at once, across every process that
    /// has the environment open. The first process to open it sizes the shared reader table;
    /// later processes use that size.
    pub fn max_readers(&mut self, readers: u32) -> &mut Self {
        self.max_readers = Some(readers);
        self
    }

    /// The number of named databases the environment may open.
    pub fn max_dbs(&mut self, dbs: u32) -> &mut Self {
        self.max_dbs = Some(dbs);
        self
    }

    /// The page size of a new data file in bytes (a power of two from 512 to 65536); the
    /// default is the operating system's page size. An existing file keeps its own page size;
    /// asking for another one is [`Error::PageSizeMismatch`]. (An arbordb extension.)
    ///
    /// A page smaller than the disk's physical sector (often 4096 bytes) gives up the
    /// guarantees against torn writes: a power loss during a write may damage the other pages
    /// of its sector, both metas included, so the file may be refused or lose its last commit
    /// (docs/design.md, "Durability modes").
    pub fn page_size(&mut self, bytes: usize) -> &mut Self {
        self.page_size = Some(bytes);
        self
    }

    /// The most bytes of changed pages a write transaction keeps in memory (default 4 GiB,
    /// 512 MiB on 32-bit targets), so that a transaction larger than memory works.
    ///
    /// A transaction writes some of its changed leaf pages and large values to their places in
    /// the file before its commit ("spills" them, as LMDB does), lowest page numbers first, an
    /// eighth at a time: from 64 MiB of changed pages on while the pages it spills stay
    /// unchanged (a sorted load: less memory and a faster commit), later when they come back
    /// (changes all over a large database, where a spilled page changed again is read back and
    /// written once more), and always at this limit. Lower saves memory; higher saves rewrites
    /// for transactions that change pages all over a database larger than the limit. Nested
    /// transactions keep their pages in memory. (An arbordb extension.)
    pub fn txn_memory_max(&mut self, bytes: usize) -> &mut Self {
        self.txn_memory_max = Some(bytes);
        self
    }

    /// Whether read transactions verify the checksum of every page they read (default: off).
    ///
    /// Every page carries a CRC32 of its bytes. Write transactions always verify a page before
    /// copying it, and [`Env::copy_to_path`](crate::Env::copy_to_path) verifies what it
    /// copies, so damage is never sealed under a fresh checksum; [`Env::check`](crate::Env::check)
    /// verifies every page. With this option every transaction also verifies each committed
    /// branch and leaf page its lookups and cursors open, and each large value's pages, and
    /// returns [`Error::Corrupted`] naming the page instead of bytes that changed on disk (a
    /// write transaction's own changed pages are sealed at commit, and not verified). It costs a
    /// CRC of every page visited (docs/BENCHMARKS.md has the numbers). LMDB has no page
    /// checksums; redb verifies its own when it recovers from an unclean shutdown and in its
    /// integrity check, not as it reads. (An arbordb extension.)
    ///
    /// A path already open in this process with the other setting gives
    /// [`Error::EnvAlreadyOpened`], as differing flags do.
    pub fn verify_checksums_on_read(&mut self, verify: bool) -> &mut Self {
        self.verify_checksums_on_read = verify;
        self
    }

    /// Puts `factory`'s [`PageIo`] between the environment and its data file (test support:
    /// a simulated disk that can crash or fail).
    #[cfg(any(test, feature = "test-support"))]
    #[doc(hidden)]
    pub fn page_io(&mut self, factory: PageIoFactory) -> &mut Self {
        self.page_io = Some(factory);
        self
    }

    /// Sets the environment flags.
    ///
    /// # Safety
    ///
    /// `NO_SYNC` trades durability, and after an operating-system crash possibly the file's
    /// integrity, for speed (see [`EnvFlags`]). The caller accepts that.
    pub unsafe fn flags(&mut self, flags: EnvFlags) -> &mut Self {
        self.flags = flags;
        self
    }

    /// Opens (creating if needed) the environment at `path`: a directory holding
    /// `data.arbordb` and `lock.arbordb`, or with [`EnvFlags::NO_SUB_DIR`] the data file itself
    /// (lock file: the path plus `-lock`). A missing directory is created unless read-only.
    /// A data file whose creation a crash cut short (empty, or zeros and parts of the two new
    /// metas, never anything else) is created again (docs/design.md).
    ///
    /// Opening a path that is already open in this process returns the same environment
    /// (sharing all state) when the flags agree, and [`Error::EnvAlreadyOpened`] otherwise.
    /// Other processes may open it at the same time: they share the lock file's reader table
    /// and take turns writing (docs/design.md, "The concurrency protocol").
    ///
    /// # Safety
    ///
    /// The data file and the lock file are memory-mapped, and reads hand out slices of the
    /// data map. While the environment is open, nothing but arbordb (in this or other
    /// processes) may truncate or write either file: not another program, nor this process
    /// opening the same file by a second path such as a hard link. A truncated file makes reads
    /// fault (SIGBUS); a rewritten one changes bytes under live `&[u8]` borrows.
    pub unsafe fn open<P: AsRef<Path>>(&self, path: P) -> Result<Env> {
        // A reader slot records this process's id and start time, read once from /proc (about
        // 50 us). Read it here, so the first read transaction does not pay for it.
        crate::os::process::current();
        let path = path.as_ref();
        if let Some(size) = self.map_size {
            // Before anything is created.
            map_size_in_pages(size, PAGE_SIZE_MAX)?;
        }
        if !self.flags.contains(EnvFlags::NO_SUB_DIR) {
            preflight::check_directory(path)?;
        }
        let (data_path, lock_path) = self.file_paths(path)?;
        let (inner, existed) =
            registry::lookup_or_open(&data_path, || self.open_new(path, &data_path, &lock_path))?;
        if existed
            && (inner.flags != self.flags
                || inner.verify_checksums_on_read != self.verify_checksums_on_read)
        {
            return Err(Error::EnvAlreadyOpened);
        }
        if existed {
            self.check_map_size_of_open(&inner, &data_path)?;
        }
        Ok(Env { inner })
    }

    /// An environment already open in this process keeps its map: a second open asking for a
    /// larger one is refused rather than silently given less room (a smaller or equal size is
    /// already satisfied). [`Env::resize`](crate::Env::resize) grows an open environment.
    fn check_map_size_of_open(&self, inner: &EnvInner, data_path: &Path) -> Result<()> {
        let Some(requested) = self.map_size else {
            return Ok(());
        };
        let requested = map_size_in_pages(requested, inner.page_size)?;
        let current = inner.maps.newest().1.len();
        if requested > current {
            return Err(Error::InvalidOption {
                reason: format!(
                    "{} is already open in this process with a map of {current} bytes; opening it again cannot grow the map to {requested} bytes (use Env::resize)",
                    data_path.display()
                ),
            });
        }
        Ok(())
    }

    /// The canonical data file path and the lock file path.
    fn file_paths(&self, path: &Path) -> Result<(PathBuf, PathBuf)> {
        let read_only = self.flags.contains(EnvFlags::READ_ONLY);
        if self.flags.contains(EnvFlags::NO_SUB_DIR) {
            let parent = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let name = path.file_name().ok_or_else(|| Error::InvalidOption {
                reason: format!("{} does not name a file", path.display()),
            })?;
            let data = parent
                .canonicalize()
                .map_err(|error| at_path(&parent, "cannot open the directory", error))?
                .join(name);
            let mut lock = data.clone().into_os_string();
            lock.push("-lock");
            Ok((data, PathBuf::from(lock)))
        } else {
            if !read_only {
                fs::create_dir_all(path)
                    .map_err(|error| at_path(path, "cannot create the directory", error))?;
            }
            let directory = path
                .canonicalize()
                .map_err(|error| at_path(path, "cannot open the environment", error))?;
            Ok((
                directory.join(DATA_FILE_NAME),
                directory.join(LOCK_FILE_NAME),
            ))
        }
    }

    fn open_new(&self, path: &Path, data_path: &Path, lock_path: &Path) -> Result<Arc<EnvInner>> {
        let read_only = self.flags.contains(EnvFlags::READ_ONLY);

        let max_readers = self.max_readers.unwrap_or(DEFAULT_MAX_READERS);
        if max_readers == 0 || max_readers > MAX_READERS_LIMIT {
            return Err(Error::InvalidOption {
                reason: format!(
                    "max_readers must be from 1 to {MAX_READERS_LIMIT}, not {max_readers}"
                ),
            });
        }
        if let Some(size) = self.page_size {
            if !is_valid_page_size(size) {
                return Err(Error::InvalidOption {
                    reason: format!("page size {size} is not a power of two from {PAGE_SIZE_MIN} to {PAGE_SIZE_MAX}"),
                });
            }
        }
        // What the paths name, before anything is created beside them.
        let data_file = preflight::check_files(data_path, lock_path)?;
        if read_only && data_file == DataFile::Missing {
            return Err(at_path(
                data_path,
                "cannot open",
                io::Error::from(io::ErrorKind::NotFound),
            )
            .into());
        }
        // The lock file first: the first process to open the environment holds it exclusively
        // while it creates the data file and initialises the shared reader table.
        let lock = match LockFile::open(lock_path, true) {
            Ok(opened) => Some(opened),
            // Read-only where the lock file cannot be created or written (a read-only
            // directory, file or file system): open without it, with a reader table private to
            // this process. Safe only while no process writes the environment (docs/design.md).
            Err(error)
                if read_only
                    && matches!(
                        error.kind(),
                        io::ErrorKind::PermissionDenied
                            | io::ErrorKind::ReadOnlyFilesystem
                            | io::ErrorKind::NotFound
                    ) =>
            {
                None
            }
            Err(error) => return Err(at_path(lock_path, "cannot open the lock file", error).into()),
        };
        let first = lock.as_ref().is_none_or(|(_, role)| *role == Role::First);
        let data_error = |doing| move |error| Error::from(at_path(data_path, doing, error));
        let name_io = |doing| {
            move |error| match error {
                Error::Io(error) => data_error(doing)(error),
                other => other,
            }
        };
        let file = OpenOptions::new()
            .read(true)
            .write(!read_only)
            .create(!read_only)
            .truncate(false)
            .open(data_path)
            .map_err(data_error("cannot open"))?;
        let mut file_len = file.metadata().map_err(data_error("cannot read"))?.len();
        let cut_short = file_len > 0 && creation_cut_short(&file, data_path, file_len)?;
        if file_len == 0 || cut_short {
            // Only the first opener creates the file (another process that finds it empty, or
            // holding part of a new file, raced a creator that died; it was never an
            // environment).
            if read_only || !first {
                return Err(Error::NotAnArbordbFile {
                    path: data_path.to_path_buf(),
                });
            }
            let page_size = self.page_size.unwrap_or_else(os_page_size);
            let page_size = if is_valid_page_size(page_size) {
                page_size
            } else {
                4096
            };
            let creator = self.data_file_io(&file, data_path, false)?;
            creation::create_file(&*creator, data_path, page_size, file_len)
                .map_err(name_io("cannot create"))?;
            file_len = 2 * page_size as u64;
        }
        // The first opener verifies a meta that lists unsynced runs (no other process runs, so
        // nothing changes under the check); later openers take the commit the lock file names
        // (below), which its writer published only after its sync returned.
        let (meta, kept_freelist, skipped_meta) =
            choose_meta(&file, data_path, file_len, first).map_err(name_io("cannot read"))?;
        let page_size = meta.page_size as usize;
        if let Some(requested) = self.page_size {
            if requested != page_size {
                return Err(Error::PageSizeMismatch {
                    file: meta.page_size,
                    requested: requested as u32,
                });
            }
        }
        let needed = meta.page_count as usize * page_size;
        // Unless told otherwise, an existing environment keeps the map size it was last written
        // with (recorded in the meta, as LMDB does); a new one gets the default.
        // (A recorded size past the largest came from no map this release made: the largest.)
        let recorded = usize::try_from(meta.map_size)
            .unwrap_or(usize::MAX)
            .min(MAP_SIZE_MAX);
        let default = if recorded > 0 {
            recorded
        } else {
            DEFAULT_MAP_SIZE_BYTES
        };
        let map_size = self
            .map_size
            .unwrap_or(default)
            .max(needed)
            .max(file_len as usize);
        let map_size = map_size_in_pages(map_size, page_size)?;
        let map = map_data_file(&file, data_path, map_size)?;
        // The newest meta may still sit in the page cache only (a previous process ran with
        // NO_META_SYNC): count only the one before it as durable.
        let durable = meta.txn_id.saturating_sub(1);
        let max_readers = max_readers as usize;
        let readers = match lock {
            Some((lock_file, role)) => {
                ReaderTable::shared(lock_file, role, max_readers, meta.txn_id, durable).map_err(
                    |error| match error {
                        TableError::Io(error) => {
                            at_path(lock_path, "cannot set up the reader table in", error).into()
                        }
                        TableError::Foreign(reason) => Error::InvalidLockFile {
                            path: lock_path.to_path_buf(),
                            reason,
                        },
                    },
                )?
            }
            None => ReaderTable::private(max_readers, meta.txn_id, durable),
        };
        let (meta, kept_freelist) = if first {
            (meta, kept_freelist)
        } else {
            published_meta(&file, data_path, page_size, &readers)?
        };
        let io = self.data_file_io(&file, data_path, !read_only)?;
        let id = Env::next_id();
        Ok(Arc::new(EnvInner {
            id,
            path: path.to_path_buf(),
            registry_path: data_path.to_path_buf(),
            flags: self.flags,
            page_size,
            txn_memory_max: self.txn_memory_max.unwrap_or(DEFAULT_TXN_MEMORY_MAX),
            verify_checksums_on_read: self.verify_checksums_on_read,
            max_dbs: self.max_dbs.unwrap_or(DEFAULT_MAX_DBS),
            io,
            file,
            snapshots: SnapshotCache::new(
                id,
                Snapshot {
                    meta,
                    map: 0,
                    freelist: kept_freelist,
                },
            ),
            maps: MapSet::new(map, readers.capacity() + 1),
            readers,
            writer_lock: WriterLock::default(),
            writer: Mutex::new(WriterState {
                freelist: None,
                file_len_bytes: file_len,
                file_len_synced: None,
                written_here: None,
                stale_checked_at: None,
                poisoned: false,
            }),
            database_names: RwLock::new(Vec::new()),
            skipped_meta,
        }))
    }
}

impl EnvOpenOptions {
    /// The [`PageIo`] every write to the data file goes through (the factory's, if one was
    /// given); `writable` opens the real file a second time for durable meta writes.
    fn data_file_io(
        &self,
        file: &File,
        data_path: &Path,
        writable: bool,
    ) -> Result<Box<dyn PageIo>> {
        let data_error = |error| Error::from(at_path(data_path, "cannot open", error));
        let io_file = file.try_clone().map_err(data_error)?;
        Ok(match &self.page_io {
            Some(factory) => factory(io_file)?,
            None => Box::new(OsFile::new(io_file, data_path, writable).map_err(data_error)?),
        })
    }
}

/// Whether the data file, `len` bytes long, is a creation cut short: part of what creating it
/// writes and no more, not all of it ([`creation::is_creation_cut_short`]).
pub(crate) fn creation_cut_short(file: &File, path: &Path, len: u64) -> Result<bool> {
    if len > 2 * PAGE_SIZE_MAX as u64 {
        return Ok(false);
    }
    let mut bytes = vec![0u8; len as usize];
    file.read_exact_at(&mut bytes, 0)
        .map_err(|error| at_path(path, "cannot read", error))?;
    Ok(creation::is_creation_cut_short(&bytes))
}

/// The meta of the commit the reader table names as current, for a process opening an
/// environment other processes have open. Retries while commits overwrite the slot it reads.
fn published_meta(
    file: &File,
    path: &Path,
    page_size: usize,
    readers: &ReaderTable,
) -> Result<(Meta, Option<Arc<[u8]>>)> {
    // A slot is overwritten only two commits after the one it holds; each retry follows a
    // newer published id, so a retry fails only while commits race past this read.
    const RETRIES_MAX: usize = 1000;
    for _ in 0..RETRIES_MAX {
        let id = readers.current_txn_id();
        if let Some((meta, tail)) = super::meta_of_commit(file, path, page_size, id)? {
            return Ok((meta, tail.freelist));
        }
        if readers.current_txn_id() == id {
            return Err(super::published_meta_missing(id));
        }
    }
    Err(Error::corrupted(
        0,
        "the newest commit changed on every read of its meta slot",
    ))
}

/// What [`choose_meta`] chose: the meta, the freelist it keeps (if it does), and a newer
/// meta it passed over (if it did).
pub(crate) type ChosenMeta = (Meta, Option<Arc<[u8]>>, Option<SkippedMeta>);

/// Reads both metas and returns the newest valid one, or the error that best describes why
/// there is none (docs/format.md, "Opening a file"). With `verify`, a meta that lists
/// unsynced runs counts only if they verify (its commit reached the file whole); else the
/// other meta is taken. Returns it with the freelist it keeps, if it does.
pub(crate) fn choose_meta(
    file: &File,
    path: &Path,
    file_len: u64,
    verify: bool,
) -> Result<ChosenMeta> {
    let read_slot = |offset: u64| -> io::Result<Option<Vec<u8>>> {
        if offset + META_SIZE as u64 > file_len {
            return Ok(None);
        }
        // Slot 0 is read before the page size is known: as far as the longest meta reaches.
        let len = (META_SIZE_MAX as u64).min(file_len - offset) as usize;
        let mut bytes = vec![0u8; len];
        file.read_exact_at(&mut bytes, offset)?;
        Ok(Some(bytes))
    };
    let Some(first) = read_slot(0)? else {
        let mut start = vec![0u8; file_len as usize];
        file.read_exact_at(&mut start, 0)?;
        return Err(
            if MAGIC.starts_with(&start[..start.len().min(MAGIC.len())]) {
                Error::FileTruncated {
                    len_bytes: file_len,
                    needed_bytes: 2 * PAGE_SIZE_MIN as u64,
                }
            } else {
                Error::NotAnArbordbFile {
                    path: path.to_path_buf(),
                }
            },
        );
    };
    // Decoding bounds a meta's list of runs by the page size it records, so reading past
    // slot 0's page (its size still unknown) is harmless.
    let (first_slot, first_tail) = Meta::decode_with_tail(&first);
    let mut slots = vec![(first_slot, first_tail)];
    // Slots that failed their checksum: (slot, the txn id they claim).
    let mut damaged = Vec::new();
    // Metas of a newer format: (version, the txn id they claim).
    let mut newer = Vec::new();
    let mut note = |slot: u64, decoded: &MetaSlot, bytes: &[u8]| match decoded {
        MetaSlot::BadChecksum => damaged.extend(claimed_txn_id(bytes).map(|id| (slot, id))),
        MetaSlot::NewerVersion(version) => newer.push((*version, claimed_txn_id(bytes))),
        _ => {}
    };
    note(0, &first_slot, &first);
    // Slot 1 sits one page in; if slot 0 cannot tell the page size, try every size.
    let candidates: Vec<usize> = match slots[0].0 {
        MetaSlot::Valid(meta) => vec![meta.page_size as usize],
        _ => (9..=16).map(|shift| 1usize << shift).collect(),
    };
    for page_size in candidates {
        if let Some(bytes) = read_slot(page_size as u64)? {
            let (slot, tail) = Meta::decode_with_tail(&bytes);
            let found =
                matches!(slot, MetaSlot::Valid(meta) if meta.page_size as usize == page_size);
            note(1, &slot, &bytes);
            if slot != MetaSlot::NotArbordb {
                slots.push((slot, tail));
            }
            if found {
                break;
            }
        }
    }
    let mut valid: Vec<(Meta, &MetaTail)> = slots
        .iter()
        .filter_map(|(slot, tail)| match slot {
            MetaSlot::Valid(meta) => Some((*meta, tail)),
            _ => None,
        })
        .collect();
    valid.sort_by_key(|(meta, _)| std::cmp::Reverse(meta.txn_id));
    // A meta of a newer format claiming a commit no older than every meta this build reads
    // refuses the file, whatever its checksum: falling back would open an older commit, and
    // the next commit would overwrite the newer one. One claiming an older commit (a damaged
    // version field in the older slot, say) hides nothing newer and is passed over.
    let newest_readable = valid.first().map(|(meta, _)| meta.txn_id);
    if let Some(&(found, _)) = newer
        .iter()
        .find(|(_, claimed)| match (claimed, newest_readable) {
            (Some(claimed), Some(newest)) => *claimed >= newest,
            _ => true,
        })
    {
        return Err(Error::UnsupportedFormatVersion {
            path: path.to_path_buf(),
            found,
            supported: crate::page::meta::FORMAT_VERSION,
        });
    }
    let mut newest = None;
    let mut skipped = None;
    for (meta, tail) in valid {
        // A commit cut short by a power loss before its one sync returned: the previous meta
        // (never overwritten by it) is the last durable commit.
        if !verify || super::verify_meta(file, &meta, &tail.runs)? {
            newest = Some((meta, tail.freelist.clone()));
            break;
        }
        skipped.get_or_insert(SkippedMeta {
            slot: meta.txn_id % 2,
            txn_id: meta.txn_id,
            reason: SkipReason::PagesNotWhole,
        });
    }
    let Some((meta, kept_freelist)) = newest else {
        let slots: Vec<MetaSlot> = slots.iter().map(|(slot, _)| *slot).collect();
        return Err(no_meta_error(&slots, path));
    };
    let needed_bytes = meta.page_count.saturating_mul(meta.page_size as u64);
    if meta.page_count < 2 {
        return Err(Error::corrupted(
            0,
            "the meta counts fewer pages than the two meta pages",
        ));
    }
    // A process joining others read `file_len` before the metas; a writer in another process
    // may since have grown the file and committed (it grows the file before it writes the
    // meta), so the length the meta is held against is read after the meta.
    let file_len = file.metadata()?.len().max(file_len);
    if needed_bytes > file_len {
        return Err(Error::FileTruncated {
            len_bytes: file_len,
            needed_bytes,
        });
    }
    // A damaged slot claiming a newer commit than the one taken: open fell back past it
    // (a torn meta write, or damage). One claiming an older commit hides nothing.
    let skipped = skipped.or_else(|| {
        damaged
            .into_iter()
            .find(|&(_, claimed)| claimed > meta.txn_id)
            .map(|(slot, txn_id)| SkippedMeta {
                slot,
                txn_id,
                reason: SkipReason::Checksum,
            })
    });
    Ok((meta, kept_freelist, skipped))
}

fn no_meta_error(slots: &[MetaSlot], path: &Path) -> Error {
    for slot in slots {
        if let MetaSlot::BadPageSize(found) = slot {
            return Error::InvalidPageSize { found: *found };
        }
    }
    if slots.iter().all(|slot| *slot == MetaSlot::NotArbordb) {
        return Error::NotAnArbordbFile {
            path: path.to_path_buf(),
        };
    }
    Error::NoValidMeta
}
