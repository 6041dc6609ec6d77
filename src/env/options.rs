//! [`EnvOpenOptions`]: the builder of an environment's settings, and their defaults and
//! limits. Opening with them is `open.rs`.

use std::marker::PhantomData;

use crate::flags::EnvFlags;
use crate::os::PageIoFactory;
use crate::page::meta::PAGE_SIZE_MAX;
use crate::txn::{WithTls, WithoutTls};

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
/// The largest map size: the largest slice Rust allows, in whole pages of the largest page size, so
/// that rounding a size up to whole pages cannot overflow. A larger size given to
/// [`EnvOpenOptions::map_size`] or [`Env::resize`](crate::Env::resize) is
/// [`Error::Mdb(MdbError::InvalidOption)`](crate::MdbError::InvalidOption). The operating system
/// may refuse to reserve less than this (a 64-bit Linux process has 128 TiB of address space);
/// opening then fails with an [`Error::Io`](crate::Error::Io) that names the size.
pub const MAP_SIZE_MAX: usize = (isize::MAX as usize) & !(PAGE_SIZE_MAX - 1);

/// The data file's name inside an environment directory.
pub const DATA_FILE_NAME: &str = "data.arbordb";
/// The lock file's name inside an environment directory.
pub const LOCK_FILE_NAME: &str = "lock.arbordb";

/// Options for opening an environment, in heed's shape.
///
/// ```
/// # fn main() -> Result<(), arbordb::Error> {
/// let dir = tempfile::tempdir().unwrap(); let env = unsafe {
/// arbordb::EnvOpenOptions::new().map_size(1 << 30).max_dbs(4).open(dir.path())? };
/// # drop(env); Ok(()) }
/// ```
///
/// The marker `T` is the kind of read transaction the environment begins:
/// [`WithTls`] by default, [`WithoutTls`] after
/// [`read_txn_without_tls`](Self::read_txn_without_tls), as in heed. The two behave alike
/// in arbordb ([`RoTxn`](crate::RoTxn)).
pub struct EnvOpenOptions<T = WithTls> {
    pub(super) map_size: Option<usize>,
    pub(super) max_readers: Option<u32>,
    pub(super) max_dbs: Option<u32>,
    pub(super) page_size: Option<usize>,
    pub(super) txn_memory_max: Option<usize>,
    pub(super) verify_checksums_on_read: bool,
    pub(super) flags: EnvFlags,
    pub(super) page_io: Option<PageIoFactory>,
    tls: PhantomData<T>,
}

impl<T> Clone for EnvOpenOptions<T> {
    fn clone(&self) -> Self {
        EnvOpenOptions {
            page_io: self.page_io.clone(),
            tls: PhantomData,
            ..*self
        }
    }
}

impl<T> std::fmt::Debug for EnvOpenOptions<T> {
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
            tls: PhantomData,
        }
    }
}

impl<T> EnvOpenOptions<T> {
    /// These options, for an environment whose read transactions are `RoTxn<'e, WithTls>`
    /// (heed's default; in arbordb they are `Send` all the same).
    pub fn read_txn_with_tls(self) -> EnvOpenOptions<WithTls> {
        self.retyped()
    }

    /// These options, for an environment whose read transactions are
    /// `RoTxn<'e, WithoutTls>`, as heed's; arbordb's read transactions never use
    /// thread-local storage, so this changes only the type.
    pub fn read_txn_without_tls(self) -> EnvOpenOptions<WithoutTls> {
        self.retyped()
    }

    fn retyped<U>(self) -> EnvOpenOptions<U> {
        EnvOpenOptions {
            map_size: self.map_size,
            max_readers: self.max_readers,
            max_dbs: self.max_dbs,
            page_size: self.page_size,
            txn_memory_max: self.txn_memory_max,
            verify_checksums_on_read: self.verify_checksums_on_read,
            flags: self.flags,
            page_io: self.page_io,
            tls: PhantomData,
        }
    }

    /// The map size in bytes: the largest the data file may grow to. It reserves address space, not
    /// disk, so it may be generous; grow it later with [`Env::resize`](crate::Env::resize).
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

    /// The page size of a new data file in bytes (a power of two from 512 to 65536); the default is
    /// the operating system's page size. An existing file keeps its own page size; asking for
    /// another one is
    /// [`Error::Mdb(MdbError::PageSizeMismatch)`](crate::MdbError::PageSizeMismatch). (An arbordb
    /// extension.)
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
    /// copying it, and [`Env::copy_to_path`](crate::Env::copy_to_path) verifies what it copies, so
    /// damage is never sealed under a fresh checksum; [`Env::check`](crate::Env::check) verifies
    /// every page. With this option every transaction also verifies each committed branch and leaf
    /// page its lookups and cursors open, and each large value's pages, and returns
    /// [`Error::Mdb(MdbError::CorruptedPage)`](crate::MdbError::CorruptedPage) naming the page
    /// instead of bytes that changed on disk (a write transaction's own changed pages are sealed at
    /// commit, and not verified). It costs a CRC of every page visited (docs/BENCHMARKS.md has the
    /// numbers). LMDB has no page checksums; redb verifies its own when it recovers from an unclean
    /// shutdown and in its integrity check, not as it reads. (An arbordb extension.)
    ///
    /// A path already open in this process with the other setting gives
    /// [`Error::EnvAlreadyOpened`](crate::Error::EnvAlreadyOpened), as differing flags do.
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
}
