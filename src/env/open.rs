//! Opening an environment, in the order it happens: check the options, find the files, take
//! the lock file, open the data file (creating it when it is new, or when a crash cut its
//! creation short), choose the meta and verify it, map the file, set up the reader table,
//! and, joining processes that have it open, take the commit they published.
//!
//! [`EnvOpenOptions::open`] is the entry; `open_new` runs the steps for a path this process
//! has not open yet, a function each. Which meta a file holds is `meta_choice.rs`.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::creation;
use super::meta_choice::{choose_meta, published_meta, ChosenMeta};
use super::options::{
    DEFAULT_MAP_SIZE_BYTES, DEFAULT_MAX_DBS, DEFAULT_MAX_READERS, DEFAULT_TXN_MEMORY_MAX,
    MAP_SIZE_MAX, MAX_READERS_LIMIT,
};
use super::preflight::{self, DataFile};
use super::{
    registry, Env, EnvInner, EnvOpenOptions, SnapshotCache, WriterLock, WriterState,
    DATA_FILE_NAME, LOCK_FILE_NAME,
};
use crate::error::{Error, MdbError, Result};
use crate::flags::EnvFlags;
use crate::os::{at_path, os_page_size, LockFile, Map, MapSet, OsFile, PageIo, Role};
use crate::page::meta::{is_valid_page_size, Meta, PAGE_SIZE_MAX, PAGE_SIZE_MIN};
use crate::readers::{ReaderTable, TableError};
use crate::txn::Snapshot;

impl<T> EnvOpenOptions<T> {
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
    pub unsafe fn open<P: AsRef<Path>>(&self, path: P) -> Result<Env<T>> {
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
            && (inner.flags_to_reopen() != self.flags
                || inner.verify_checksums_on_read != self.verify_checksums_on_read)
        {
            return Err(Error::EnvAlreadyOpened);
        }
        if existed {
            self.check_map_size_of_open(&inner, &data_path)?;
        }
        Ok(Env::new(inner))
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
            return Err(Error::Mdb(MdbError::InvalidOption {
                reason: format!(
                    "{} is already open in this process with a map of {current} bytes; opening it again cannot grow the map to {requested} bytes (use Env::resize)",
                    data_path.display()
                ),
            }));
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
            let name = path.file_name().ok_or_else(|| {
                Error::Mdb(MdbError::InvalidOption {
                    reason: format!("{} does not name a file", path.display()),
                })
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

    /// Opens a path this process does not have open: the steps of the module's doc.
    fn open_new(&self, path: &Path, data_path: &Path, lock_path: &Path) -> Result<Arc<EnvInner>> {
        let read_only = self.flags.contains(EnvFlags::READ_ONLY);
        let max_readers = self.checked_max_readers()?;
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
        let lock = take_lock_file(lock_path, read_only)?;
        let first = lock.as_ref().is_none_or(|(_, role)| *role == Role::First);
        // A file this open creates has no previous commit; there is nothing to go back to.
        let previous =
            self.flags.contains(EnvFlags::PREV_SNAPSHOT) && data_file != DataFile::Missing;
        if previous && !first {
            return Err(Error::Mdb(MdbError::InvalidOption {
                reason: format!(
                    "{}: PREV_SNAPSHOT opens the previous commit only where no other process has the environment open",
                    data_path.display()
                ),
            }));
        }
        let (file, file_len) = self.open_data_file(data_path, first)?;
        // The first opener verifies a meta that lists unsynced runs (no other process runs, so
        // nothing changes under the check); later openers take the commit the lock file names
        // (below), which its writer published only after its sync returned.
        let (meta, kept_freelist, skipped_meta): ChosenMeta =
            choose_meta(&file, data_path, file_len, first, previous)
                .map_err(name_io(data_path, "cannot read"))?;
        // Writable on the previous commit: the newer one is discarded before the first write
        // to the file. Either way, until the first commit (read-only: until it closes) no
        // other process may open the environment: it would take the previous commit as the
        // newest, and its writer would build on the newer one (LMDB keeps its lock exclusive
        // so too).
        let discard_newer = match skipped_meta {
            Some(skipped) if previous && !read_only => skipped.txn_id,
            _ => 0,
        };
        let page_size = meta.page_size as usize;
        if let Some(requested) = self.page_size {
            if requested != page_size {
                return Err(Error::Mdb(MdbError::PageSizeMismatch {
                    file: meta.page_size,
                    requested: requested as u32,
                }));
            }
        }
        let map = self.map_for_open(&file, data_path, &meta, file_len)?;
        let readers = reader_table(lock, lock_path, max_readers, &meta, previous)?;
        let (meta, kept_freelist) = if first {
            (meta, kept_freelist)
        } else {
            published_meta(&file, data_path, page_size, &readers)?
        };
        let io = self.data_file_io(&file, data_path, !read_only)?;
        let id = super::next_env_id();
        Ok(Arc::new(EnvInner {
            id,
            path: path.to_path_buf(),
            registry_path: data_path.to_path_buf(),
            flags: AtomicU32::new(self.flags.bits()),
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
            maps: MapSet::new(map, readers.capacity() + 1, self.read_ahead()),
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
            key_orders: super::key_orders::KeyOrders::default(),
            skipped_meta,
            discard_newer: AtomicU64::new(discard_newer),
            opened_previous: previous,
            closed: super::closing::SignalOnDrop(Arc::default()),
        }))
    }

    /// The options checked before anything is touched: the reader count, and the page size
    /// asked for. Returns the reader count.
    fn checked_max_readers(&self) -> Result<usize> {
        let max_readers = self.max_readers.unwrap_or(DEFAULT_MAX_READERS);
        if max_readers == 0 || max_readers > MAX_READERS_LIMIT {
            return Err(Error::Mdb(MdbError::InvalidOption {
                reason: format!(
                    "max_readers must be from 1 to {MAX_READERS_LIMIT}, not {max_readers}"
                ),
            }));
        }
        if let Some(size) = self.page_size {
            if !is_valid_page_size(size) {
                return Err(Error::Mdb(MdbError::InvalidOption {
                    reason: format!("page size {size} is not a power of two from {PAGE_SIZE_MIN} to {PAGE_SIZE_MAX}"),
                }));
            }
        }
        Ok(max_readers as usize)
    }

    /// Opens the data file, creating it when it is new or its creation was cut short (only
    /// the first opener may). Returns it with its length.
    fn open_data_file(&self, data_path: &Path, first: bool) -> Result<(File, u64)> {
        let read_only = self.flags.contains(EnvFlags::READ_ONLY);
        let data_error = |doing| move |error| Error::from(at_path(data_path, doing, error));
        let file = OpenOptions::new()
            .read(true)
            .write(!read_only)
            .create(!read_only)
            .truncate(false)
            .open(data_path)
            .map_err(data_error("cannot open"))?;
        let file_len = file.metadata().map_err(data_error("cannot read"))?.len();
        let cut_short = file_len > 0 && creation::creation_cut_short(&file, data_path, file_len)?;
        if file_len > 0 && !cut_short {
            return Ok((file, file_len));
        }
        // Only the first opener creates the file (another process that finds it empty, or
        // holding part of a new file, raced a creator that died; it was never an environment).
        if read_only || !first {
            return Err(Error::Mdb(MdbError::NotAnArbordbFile {
                path: data_path.to_path_buf(),
            }));
        }
        let page_size = self.page_size.unwrap_or_else(os_page_size);
        let page_size = if is_valid_page_size(page_size) {
            page_size
        } else {
            4096
        };
        let creator = self.data_file_io(&file, data_path, false)?;
        creation::create_file(&*creator, data_path, page_size, file_len)
            .map_err(name_io(data_path, "cannot create"))?;
        Ok((file, 2 * page_size as u64))
    }

    /// Maps the data file. Unless told otherwise, an existing environment keeps the map size
    /// it was last written with (recorded in the meta, as LMDB does); a new one gets the
    /// default. The map always covers the file and the meta's pages.
    fn map_for_open(
        &self,
        file: &File,
        data_path: &Path,
        meta: &Meta,
        file_len: u64,
    ) -> Result<Map> {
        let page_size = meta.page_size as usize;
        let needed = meta.page_count as usize * page_size;
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
        map_data_file(file, data_path, map_size, self.read_ahead())
    }

    /// Whether the maps let the kernel read ahead (not under `NO_READ_AHEAD`).
    fn read_ahead(&self) -> bool {
        !self.flags.contains(EnvFlags::NO_READ_AHEAD)
    }

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

/// Takes the lock file: the first process to open the environment holds it exclusively while
/// it creates the data file and initialises the shared reader table. `None`: read-only where
/// the lock file cannot be created or written (a read-only directory, file or file system),
/// with a reader table private to this process; safe only while no process writes the
/// environment (docs/design.md).
fn take_lock_file(lock_path: &Path, read_only: bool) -> Result<Option<(LockFile, Role)>> {
    match LockFile::open(lock_path, true) {
        Ok(opened) => Ok(Some(opened)),
        Err(error)
            if read_only
                && matches!(
                    error.kind(),
                    io::ErrorKind::PermissionDenied
                        | io::ErrorKind::ReadOnlyFilesystem
                        | io::ErrorKind::NotFound
                ) =>
        {
            Ok(None)
        }
        Err(error) => Err(at_path(lock_path, "cannot open the lock file", error).into()),
    }
}

/// The reader table: shared through the lock file, or private without one. The newest meta
/// may still sit in the page cache only (a previous process ran with NO_META_SYNC): only the
/// one before it counts as durable.
fn reader_table(
    lock: Option<(LockFile, Role)>,
    lock_path: &Path,
    max_readers: usize,
    meta: &Meta,
    exclusive: bool,
) -> Result<ReaderTable> {
    let durable = meta.txn_id.previous();
    let Some((lock_file, role)) = lock else {
        return Ok(ReaderTable::private(max_readers, meta.txn_id, durable));
    };
    ReaderTable::shared(
        lock_file,
        role,
        max_readers,
        meta.txn_id,
        durable,
        exclusive,
    )
    .map_err(|error| match error {
        TableError::Io(error) => {
            at_path(lock_path, "cannot set up the reader table in", error).into()
        }
        TableError::Foreign(reason) => Error::Mdb(MdbError::InvalidLockFile {
            path: lock_path.to_path_buf(),
            reason,
        }),
    })
}

/// Names the data file in an I/O error of `doing`; other errors pass through.
fn name_io<'p>(data_path: &'p Path, doing: &'static str) -> impl Fn(Error) -> Error + 'p {
    move |error| match error {
        Error::Io(error) => at_path(data_path, doing, error).into(),
        other => other,
    }
}

/// `bytes` rounded up to whole pages, or `InvalidOption` if it is over [`MAP_SIZE_MAX`].
pub(crate) fn map_size_in_pages(bytes: usize, page_size: usize) -> Result<usize> {
    if bytes > MAP_SIZE_MAX {
        return Err(Error::Mdb(MdbError::InvalidOption {
            reason: format!(
                "a map size of {bytes} bytes is over the largest, {MAP_SIZE_MAX} bytes (arbordb::MAP_SIZE_MAX)"
            ),
        }));
    }
    Ok(bytes.div_ceil(page_size) * page_size)
}

/// Maps `len` bytes of the data file at `path`; a refusal names the size and the file.
pub(crate) fn map_data_file(file: &File, path: &Path, len: usize, read_ahead: bool) -> Result<Map> {
    Map::new(file, len, read_ahead).map_err(|error| {
        Error::Io(io::Error::new(
            error.kind(),
            format!(
                "cannot map {len} bytes of {} (the map size): {error}",
                path.display()
            ),
        ))
    })
}
