//! The one error type of the crate.
//!
//! Every layer returns [`Error`]. Bytes read from the file that break the format give
//! [`Error::Corrupted`]; a broken invariant of our own code panics instead (see
//! docs/design.md, "Errors").

use std::fmt;
use std::io;
use std::path::PathBuf;

/// The error type of codecs: any error, boxed.
pub type BoxedError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in arbordb.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Returned when the operating system reports an I/O error.
    ///
    /// An error about the data file or the lock file names the file and what was being done
    /// in its message; its [`kind`](io::Error::kind) is the OS error's, and the OS error
    /// itself (with its [`raw_os_error`](io::Error::raw_os_error)) is its
    /// [`source`](std::error::Error::source).
    Io(io::Error),
    /// Returned when bytes read from the data file break the format: a page number out of
    /// range, a count or offset past the end of a page, a wrong page kind, a cycle.
    Corrupted {
        /// The page where the problem was found (0 when it concerns no single page).
        page: u64,
        /// What is wrong, in words.
        reason: String,
    },
    /// Returned when the file does not start with arbordb's magic bytes: it is not an
    /// arbordb data file. Also returned by a read-only open of a data file that is empty or
    /// whose creation a crash cut short, which a writable open creates again.
    NotAnArbordbFile {
        /// The path that was opened.
        path: PathBuf,
    },
    /// Returned when the data file or lock file path names something other than a regular
    /// file (a FIFO, a socket, a device, a directory). Nothing is opened or created.
    NotARegularFile {
        /// The path.
        path: PathBuf,
    },
    /// Returned when the path holds an LMDB environment (LMDB's `data.mdb`, or with
    /// `NO_SUB_DIR` a file starting with LMDB's meta page) and no arbordb data file. Nothing is
    /// created beside it; `mdb_dump -a` and `arbor load` move its data into arbordb.
    LmdbEnvironment {
        /// LMDB's data file.
        path: PathBuf,
    },
    /// Returned when either meta page of the file records a format version newer than this
    /// build reads: a newer release committed to it. The file is refused, read-only opens
    /// too, rather than opened at an older commit that the next commit would overwrite.
    UnsupportedFormatVersion {
        /// The data file.
        path: PathBuf,
        /// The version recorded in the file.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// Returned when the page size recorded in the file is not one arbordb supports
    /// (a power of two from 512 to 65536 bytes).
    InvalidPageSize {
        /// The page size recorded in the file.
        found: u32,
    },
    /// Returned when [`EnvOpenOptions::page_size`](crate::EnvOpenOptions::page_size) asked
    /// for a page size other than the one the existing file uses.
    PageSizeMismatch {
        /// The page size recorded in the file.
        file: u32,
        /// The page size that was asked for.
        requested: u32,
    },
    /// Returned when the file is shorter than its meta page says it must be.
    FileTruncated {
        /// The file's length in bytes.
        len_bytes: u64,
        /// The length the newest valid meta page requires.
        needed_bytes: u64,
    },
    /// Returned when the file has arbordb's magic but neither meta page passes its checksum.
    NoValidMeta,
    /// Returned when a write needs more pages than the map holds. The write transaction is
    /// unusable afterwards; every earlier commit is intact. Grow the map with
    /// [`Env::resize`](crate::Env::resize).
    MapFull {
        /// The map size in bytes.
        map_size_bytes: usize,
    },
    /// Returned when every reader slot is taken by a live read transaction.
    ReadersFull {
        /// The configured maximum number of readers.
        max_readers: u32,
    },
    /// Returned by [`Env::resize`](crate::Env::resize), and by a transaction that must map
    /// more of a file another process grew, when the maps this process replaced earlier and
    /// still keeps for live transactions reading through them number `kept` (at most 16):
    /// end the transactions that began before the earlier resizes, then try again.
    OldMapsInUse {
        /// Old maps kept.
        kept: usize,
    },
    /// Returned when opening or creating one more named database would exceed `max_dbs`.
    DbsFull {
        /// The configured maximum number of named databases.
        max_dbs: u32,
    },
    /// Returned when a key is longer than [`Env::max_key_size`](crate::Env::max_key_size).
    KeyTooLarge {
        /// The key's length in bytes.
        len: usize,
        /// The largest key length this environment accepts.
        max: usize,
    },
    /// Returned when a value is longer than its database can store: u32::MAX bytes, or in a
    /// duplicate-sorted database [`Env::max_key_size`](crate::Env::max_key_size).
    ValueTooLarge {
        /// The value's length in bytes.
        len: usize,
        /// The largest value length the database accepts.
        max: usize,
    },
    /// Returned when a value added to a key of a
    /// [`DUP_FIXED`](crate::DatabaseFlags::DUP_FIXED) database has another size than the
    /// key's values (LMDB's `MDB_BAD_VALSIZE`). Nothing was changed.
    ValueSizeMismatch {
        /// The size of the key's values.
        expected: usize,
        /// The size of the value given.
        len: usize,
    },
    /// Returned by a put with [`PutFlags::NO_OVERWRITE`](crate::PutFlags::NO_OVERWRITE) when
    /// the key exists. Nothing was changed and the transaction stays usable.
    KeyExist,
    /// Returned when a database handle refers to a named database that does not exist in
    /// this transaction's snapshot (it was created in an aborted transaction, or dropped).
    DatabaseNotFound {
        /// The database's name.
        name: String,
    },
    /// Returned when a database is opened with options at odds with the ones it was created
    /// with (flags, or the name of its key comparator), as LMDB's `MDB_INCOMPATIBLE`; or when
    /// its keys are ordered by a comparator this handle does not give. Nothing is changed.
    Incompatible {
        /// The database's name (`None`: the unnamed database).
        name: Option<String>,
        /// What differs, in words.
        reason: String,
    },
    /// Returned when a database handle from one environment is used with a transaction of
    /// another.
    DatabaseFromAnotherEnv,
    /// Returned when a write transaction is used after one of its operations failed with an
    /// I/O error, `MapFull` or corruption; abort it and start a new one.
    TxnFailed,
    /// Returned when a sync of the data file failed. The kernel may have dropped the dirty
    /// pages, so retrying cannot be trusted: the environment refuses writes until reopened.
    EnvPoisoned,
    /// Returned when a write is attempted on an environment opened with
    /// [`EnvFlags::READ_ONLY`](crate::EnvFlags::READ_ONLY).
    ReadOnly,
    /// Returned when the same path is opened twice in one process with different flags.
    EnvAlreadyOpened,
    /// Returned by [`Env::try_write_txn`](crate::Env::try_write_txn) while another write
    /// transaction is live, in this process or another.
    WriterBusy,
    /// Returned when the lock file beside the data file is not an arbordb lock file of this
    /// layout version (docs/format.md, "Lock file").
    InvalidLockFile {
        /// The lock file.
        path: PathBuf,
        /// What is wrong, in words.
        reason: String,
    },
    /// Returned when an option or argument is out of range.
    InvalidOption {
        /// What is wrong, in words.
        reason: String,
    },
    /// Returned when a codec fails to encode an item.
    Encoding(BoxedError),
    /// Returned when a codec fails to decode bytes from the database.
    Decoding(BoxedError),
}

impl Error {
    /// [`Error::Corrupted`] at `page`: a page number (the `page` layer's `PageId`), or 0
    /// when the problem concerns no single page.
    pub(crate) fn corrupted(page: impl Into<u64>, reason: impl Into<String>) -> Error {
        Error::Corrupted {
            page: page.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(error) => write!(f, "I/O error: {error}"),
            Error::Corrupted { page, reason } => {
                write!(f, "the data file is corrupted at page {page}: {reason}")
            }
            Error::NotAnArbordbFile { path } => {
                write!(f, "{} is not an arbordb data file (wrong magic bytes)", path.display())
            }
            Error::NotARegularFile { path } => write!(
                f,
                "{} is not a regular file (a FIFO, socket, device or directory); arbordb opens only regular files",
                path.display()
            ),
            Error::LmdbEnvironment { path } => write!(
                f,
                "{} is an LMDB data file, not an arbordb one; convert the environment with `mdb_dump -a ENV | arbor load NEW_ENV`",
                path.display()
            ),
            Error::UnsupportedFormatVersion { path, found, supported } => write!(
                f,
                "{} was written with format version {found}, newer than this build reads (up to {supported}); open it with a newer release of arbordb",
                path.display()
            ),
            Error::InvalidPageSize { found } => write!(
                f,
                "the data file records page size {found}, which is not a power of two from 512 to 65536"
            ),
            Error::PageSizeMismatch { file, requested } => write!(
                f,
                "the data file uses {file}-byte pages but {requested}-byte pages were requested"
            ),
            Error::FileTruncated { len_bytes, needed_bytes } => write!(
                f,
                "the data file is truncated: it is {len_bytes} bytes but its meta page needs {needed_bytes}"
            ),
            Error::NoValidMeta => {
                write!(f, "neither meta page of the data file passes its checksum")
            }
            Error::MapFull { map_size_bytes } => write!(
                f,
                "the map is full ({map_size_bytes} bytes); the transaction was not committed, grow the map with Env::resize"
            ),
            Error::ReadersFull { max_readers } => write!(
                f,
                "all {max_readers} reader slots are in use; end a read transaction or raise max_readers"
            ),
            Error::OldMapsInUse { kept } => write!(
                f,
                "{kept} earlier maps are still read through by live transactions; end them before the map is replaced again"
            ),
            Error::DbsFull { max_dbs } => write!(
                f,
                "the environment already has {max_dbs} named databases open; raise max_dbs"
            ),
            Error::KeyTooLarge { len, max } => {
                write!(f, "the key is {len} bytes; the largest this environment takes is {max}")
            }
            Error::ValueTooLarge { len, max } => {
                write!(f, "the value is {len} bytes; the largest this database stores is {max}")
            }
            Error::ValueSizeMismatch { expected, len } => write!(
                f,
                "the value is {len} bytes, but the key's values in this DUP_FIXED database are {expected} bytes each"
            ),
            Error::KeyExist => write!(f, "the key already exists"),
            Error::DatabaseNotFound { name } => {
                write!(f, "the database {name:?} does not exist in this transaction")
            }
            Error::Incompatible { name, reason } => match name {
                Some(name) => write!(f, "the database {name:?} cannot be opened so: {reason}"),
                None => write!(f, "the unnamed database cannot be opened so: {reason}"),
            },
            Error::DatabaseFromAnotherEnv => {
                write!(f, "the database handle belongs to another environment")
            }
            Error::TxnFailed => write!(
                f,
                "an earlier operation of this write transaction failed; abort it and start a new one"
            ),
            Error::EnvPoisoned => write!(
                f,
                "a sync of the data file failed earlier; the environment refuses writes until it is reopened"
            ),
            Error::ReadOnly => write!(f, "the environment was opened read-only"),
            Error::WriterBusy => write!(
                f,
                "another write transaction is live (in this process or another)"
            ),
            Error::EnvAlreadyOpened => write!(
                f,
                "this path is already open in this process with different flags"
            ),
            Error::InvalidLockFile { path, reason } => write!(
                f,
                "{} is not a usable arbordb lock file: {reason}",
                path.display()
            ),
            Error::InvalidOption { reason } => write!(f, "invalid option: {reason}"),
            Error::Encoding(error) => write!(f, "error while encoding: {error}"),
            Error::Decoding(error) => write!(f, "error while decoding: {error}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(error) => Some(error),
            Error::Encoding(error) | Error::Decoding(error) => Some(error.as_ref()),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Error {
        Error::Io(error)
    }
}
