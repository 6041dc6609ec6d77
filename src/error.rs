//! The one error type of the crate, in heed's shape.
//!
//! Every layer returns [`Error`]. Its five variants are heed's, so a `match` written for heed
//! compiles unchanged; the engine's conditions are [`MdbError`]s under [`Error::Mdb`]. Bytes
//! read from the file that break the format give [`MdbError::CorruptedPage`]; a broken
//! invariant of our own code panics instead (see docs/design.md, "Errors").

use std::fmt;
use std::io;
use std::path::PathBuf;

/// The error type of codecs: any error, boxed.
pub type BoxedError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in arbordb: heed's five variants.
///
/// The enum is exhaustive, as heed's is, so a `match` over heed's variants stays exhaustive.
#[derive(Debug)]
pub enum Error {
    /// Returned when the operating system reports an I/O error.
    ///
    /// An error about the data file or the lock file names the file and what was being done
    /// in its message; its [`kind`](io::Error::kind) is the OS error's, and the OS error
    /// itself (with its [`raw_os_error`](io::Error::raw_os_error)) is its
    /// [`source`](std::error::Error::source).
    Io(io::Error),
    /// Returned for a condition of the storage engine: see [`MdbError`].
    Mdb(MdbError),
    /// Returned when a codec fails to encode an item.
    Encoding(BoxedError),
    /// Returned when a codec fails to decode bytes from the database.
    Decoding(BoxedError),
    /// Returned when the same path is opened twice in one process with different flags.
    EnvAlreadyOpened,
}

/// A condition of the storage engine, under [`Error::Mdb`].
///
/// The variants an application handles in code are heed's and LMDB's, returned where LMDB returns
/// them and with no more data than heed gives: [`KeyExist`](MdbError::KeyExist),
/// [`MapFull`](MdbError::MapFull), [`DbsFull`](MdbError::DbsFull),
/// [`ReadersFull`](MdbError::ReadersFull), [`BadTxn`](MdbError::BadTxn) and
/// [`BadValSize`](MdbError::BadValSize). Their numbers are the caller's own or the environment's
/// ([`Env::info`](crate::Env::info), [`Env::max_key_size`](crate::Env::max_key_size)).
///
/// Where arbordb knows more than LMDB says (the damaged page and what is wrong with it, the
/// file that is foreign or newer, a writer busy in another process) the condition is a
/// variant of its own that carries it, and its message names the file or the page. heed's
/// names for what those replace (`Corrupted`, `Invalid`, `VersionMismatch`, ...) exist so a
/// `match` written for heed compiles, but arbordb never returns them: they are deprecated,
/// so such an arm warns and its note names the variant to match instead.
/// [`to_err_code`](MdbError::to_err_code) gives every variant LMDB's code for its kind.
///
/// ```
/// # #![deny(deprecated)]
/// use arbordb::{Error, MdbError};
///
/// fn describe(error: &Error) -> String {
///     match error {
///         Error::Mdb(MdbError::MapFull) => "grow the map".to_string(),
///         Error::Mdb(MdbError::CorruptedPage { page, .. }) => format!("restore page {page}"),
///         other => other.to_string(),
///     }
/// }
/// # let _ = describe;
/// ```
///
/// heed's arm for the same condition compiles with a deprecation warning (an error here):
///
/// ```compile_fail
/// # #![deny(deprecated)]
/// use arbordb::{Error, MdbError};
///
/// fn describe(error: &Error) -> String {
///     match error {
///         Error::Mdb(MdbError::MapFull) => "grow the map".to_string(),
///         Error::Mdb(MdbError::Corrupted) => "restore a backup".to_string(),
///         other => other.to_string(),
///     }
/// }
/// # let _ = describe;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MdbError {
    /// Returned by a put with [`PutFlags::NO_OVERWRITE`](crate::PutFlags::NO_OVERWRITE)
    /// when the key exists (or with `NO_DUP_DATA` when the pair exists), and by an append
    /// whose key is out of order. Nothing was changed and the transaction stays usable.
    KeyExist,
    /// Returned when a write needs more pages than the map holds. The write transaction is
    /// unusable afterwards; every earlier commit is intact. Grow the map with
    /// [`Env::resize`](crate::Env::resize).
    MapFull,
    /// Returned when opening or creating one more named database would exceed `max_dbs`.
    DbsFull,
    /// Returned when every reader slot is taken by a live read transaction; end one or raise
    /// `max_readers`.
    ReadersFull,
    /// Returned when a write transaction is used after one of its operations failed with an
    /// I/O error, `MapFull` or corruption; abort it and start a new one.
    BadTxn,
    /// Returned when a key or value has a size its database does not take: a key longer than
    /// [`Env::max_key_size`](crate::Env::max_key_size), a value of a `DUP_SORT` database
    /// longer than that, a value over `u32::MAX` bytes, or a value of a
    /// [`DUP_FIXED`](crate::DatabaseFlags::DUP_FIXED) key with another size than the key's
    /// values. Nothing was changed and the transaction stays usable.
    BadValSize,

    /// Returned when bytes read from the data file break the format: a page number out of
    /// range, a count or offset past the end of a page, a wrong page kind, a cycle. This is
    /// LMDB's `MDB_CORRUPTED` and `MDB_PAGE_NOTFOUND`, with the page and the reason.
    CorruptedPage {
        /// The page where the problem was found (0 when it concerns no single page).
        page: u64,
        /// What is wrong, in words.
        reason: String,
    },
    /// Returned when the file has arbordb's magic but neither meta page passes its checksum.
    NoValidMeta,
    /// Returned when the file is shorter than its meta page says it must be.
    FileTruncated {
        /// The file's length in bytes.
        len_bytes: u64,
        /// The length the newest valid meta page requires.
        needed_bytes: u64,
    },
    /// Returned when the file does not start with arbordb's magic bytes: it is not an
    /// arbordb data file (LMDB's `MDB_INVALID`). Also returned by a read-only open of a data
    /// file that is empty or whose creation a crash cut short, which a writable open creates
    /// again.
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
    /// build reads: a newer release committed to it (LMDB's `MDB_VERSION_MISMATCH`). The file
    /// is refused, read-only opens too, rather than opened at an older commit that the next
    /// commit would overwrite.
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
    /// Returned when the lock file beside the data file is not an arbordb lock file of this
    /// layout version (docs/format.md, "Lock file").
    InvalidLockFile {
        /// The lock file.
        path: PathBuf,
        /// What is wrong, in words.
        reason: String,
    },
    /// Returned by [`Env::resize`](crate::Env::resize), and by a transaction that must map
    /// more of a file another process grew, when the maps this process replaced earlier and
    /// still keeps for live transactions reading through them number `kept` (at most 16):
    /// end the transactions that began before the earlier resizes, then try again.
    OldMapsInUse {
        /// Old maps kept.
        kept: usize,
    },
    /// Returned when a database handle refers to a named database that does not exist in
    /// this transaction's snapshot (it was created in an aborted transaction, or dropped).
    DatabaseNotFound {
        /// The database's name.
        name: String,
    },
    /// Returned when a database is opened with options at odds with the ones it was created
    /// with (flags, or the name of its key comparator), as LMDB's `MDB_INCOMPATIBLE`; or when
    /// its keys are ordered by a comparator this handle does not give. Nothing is changed.
    IncompatibleDatabase {
        /// The database's name (`None`: the unnamed database).
        name: Option<String>,
        /// What differs, in words.
        reason: String,
    },
    /// Returned when a database handle from one environment is used with a transaction of
    /// another.
    DatabaseFromAnotherEnv,
    /// Returned when a sync of the data file failed. The kernel may have dropped the dirty
    /// pages, so retrying cannot be trusted: the environment refuses writes until reopened.
    EnvPoisoned,
    /// Returned when a write is attempted on an environment opened with
    /// [`EnvFlags::READ_ONLY`](crate::EnvFlags::READ_ONLY).
    ReadOnly,
    /// Returned by [`Env::try_write_txn`](crate::Env::try_write_txn) while another write
    /// transaction is live, in this process or another.
    WriterBusy,
    /// Returned when an option or argument is out of range (LMDB's `EINVAL`).
    InvalidOption {
        /// What is wrong, in words.
        reason: String,
    },

    /// heed's "no matching key/data pair": never returned, because absence is `Ok(None)`.
    #[deprecated(note = "arbordb never returns this: absence is Ok(None)")]
    NotFound,
    /// heed's "requested page not found": never returned.
    #[deprecated(note = "arbordb returns MdbError::CorruptedPage { page, reason } instead")]
    PageNotFound,
    /// heed's "located page was wrong type": never returned.
    #[deprecated(note = "arbordb returns MdbError::CorruptedPage { page, reason } instead")]
    Corrupted,
    /// heed's "update of meta page failed or environment had fatal error": never returned.
    #[deprecated(note = "arbordb returns MdbError::EnvPoisoned instead")]
    Panic,
    /// heed's "environment version mismatch": never returned.
    #[deprecated(
        note = "arbordb returns MdbError::UnsupportedFormatVersion { path, found, supported } instead"
    )]
    VersionMismatch,
    /// heed's "file is not a valid LMDB file": never returned.
    #[deprecated(
        note = "arbordb returns MdbError::NotAnArbordbFile { path }, LmdbEnvironment { path }, NoValidMeta or InvalidPageSize instead"
    )]
    Invalid,
    /// heed's "too many TLS keys in use": never returned, arbordb uses no TLS slot.
    #[deprecated(note = "arbordb never returns this: it uses no thread-local slot")]
    TlsFull,
    /// heed's "transaction has too many dirty pages": never returned.
    #[deprecated(note = "arbordb never returns this: a full map is MdbError::MapFull")]
    TxnFull,
    /// heed's "cursor stack too deep": never returned.
    #[deprecated(note = "arbordb never returns this")]
    CursorFull,
    /// heed's "page has not enough space": never returned.
    #[deprecated(note = "arbordb never returns this")]
    PageFull,
    /// heed's "database contents grew beyond environment mapsize": never returned, because
    /// arbordb maps a file another process grew by itself.
    #[deprecated(note = "arbordb follows a grown file itself; see MdbError::OldMapsInUse")]
    MapResized,
    /// heed's "operation and database incompatible": never returned.
    #[deprecated(note = "arbordb returns MdbError::IncompatibleDatabase { name, reason } instead")]
    Incompatible,
    /// heed's "invalid reuse of reader locktable slot": never returned.
    #[deprecated(note = "arbordb never returns this")]
    BadRslot,
    /// heed's "the specified DBI was changed unexpectedly": never returned.
    #[deprecated(
        note = "arbordb returns MdbError::DatabaseNotFound { name } or DatabaseFromAnotherEnv instead"
    )]
    BadDbi,
    /// heed's "unexpected problem": never returned.
    #[deprecated(note = "arbordb never returns this")]
    Problem,
    /// heed's error of another code: never returned.
    #[deprecated(note = "arbordb never returns this")]
    Other(i32),
}

/// LMDB's error codes (lmdb.h), which [`MdbError::to_err_code`] gives.
mod code {
    pub const KEY_EXIST: i32 = -30799;
    pub const NOT_FOUND: i32 = -30798;
    pub const PAGE_NOT_FOUND: i32 = -30797;
    pub const CORRUPTED: i32 = -30796;
    pub const PANIC: i32 = -30795;
    pub const VERSION_MISMATCH: i32 = -30794;
    pub const INVALID: i32 = -30793;
    pub const MAP_FULL: i32 = -30792;
    pub const DBS_FULL: i32 = -30791;
    pub const READERS_FULL: i32 = -30790;
    pub const TLS_FULL: i32 = -30789;
    pub const TXN_FULL: i32 = -30788;
    pub const CURSOR_FULL: i32 = -30787;
    pub const PAGE_FULL: i32 = -30786;
    pub const MAP_RESIZED: i32 = -30785;
    pub const INCOMPATIBLE: i32 = -30784;
    pub const BAD_RSLOT: i32 = -30783;
    pub const BAD_TXN: i32 = -30782;
    pub const BAD_VALSIZE: i32 = -30781;
    pub const BAD_DBI: i32 = -30780;
    pub const PROBLEM: i32 = -30779;
    /// POSIX's, which LMDB returns for these conditions.
    pub const EACCES: i32 = 13;
    pub const EBUSY: i32 = 16;
    pub const EINVAL: i32 = 22;
}

#[allow(deprecated)] // heed's names are matched and made here, on purpose
impl MdbError {
    /// Whether this is heed's `NotFound`, which arbordb never returns (heed has the method).
    pub fn not_found(&self) -> bool {
        *self == MdbError::NotFound
    }

    /// The condition of an LMDB error code, as heed converts it: LMDB's codes give heed's
    /// variants, any other code gives `Other`.
    pub fn from_err_code(err_code: i32) -> MdbError {
        match err_code {
            code::KEY_EXIST => MdbError::KeyExist,
            code::NOT_FOUND => MdbError::NotFound,
            code::PAGE_NOT_FOUND => MdbError::PageNotFound,
            code::CORRUPTED => MdbError::Corrupted,
            code::PANIC => MdbError::Panic,
            code::VERSION_MISMATCH => MdbError::VersionMismatch,
            code::INVALID => MdbError::Invalid,
            code::MAP_FULL => MdbError::MapFull,
            code::DBS_FULL => MdbError::DbsFull,
            code::READERS_FULL => MdbError::ReadersFull,
            code::TLS_FULL => MdbError::TlsFull,
            code::TXN_FULL => MdbError::TxnFull,
            code::CURSOR_FULL => MdbError::CursorFull,
            code::PAGE_FULL => MdbError::PageFull,
            code::MAP_RESIZED => MdbError::MapResized,
            code::INCOMPATIBLE => MdbError::Incompatible,
            code::BAD_RSLOT => MdbError::BadRslot,
            code::BAD_TXN => MdbError::BadTxn,
            code::BAD_VALSIZE => MdbError::BadValSize,
            code::BAD_DBI => MdbError::BadDbi,
            code::PROBLEM => MdbError::Problem,
            other => MdbError::Other(other),
        }
    }

    /// LMDB's code for this condition's kind: what LMDB returns in its place. arbordb's own
    /// variants give the code of the LMDB condition they refine (`CorruptedPage` gives
    /// `MDB_CORRUPTED`, `UnsupportedFormatVersion` gives `MDB_VERSION_MISMATCH`), or the
    /// POSIX code LMDB returns (`InvalidOption` gives `EINVAL`, `ReadOnly` `EACCES`,
    /// `WriterBusy` `EBUSY`), so code can sort conditions by LMDB's kinds.
    pub fn to_err_code(&self) -> i32 {
        match self {
            MdbError::KeyExist => code::KEY_EXIST,
            MdbError::MapFull => code::MAP_FULL,
            MdbError::DbsFull => code::DBS_FULL,
            MdbError::ReadersFull => code::READERS_FULL,
            MdbError::BadTxn => code::BAD_TXN,
            MdbError::BadValSize => code::BAD_VALSIZE,
            MdbError::CorruptedPage { .. } | MdbError::FileTruncated { .. } => code::CORRUPTED,
            MdbError::NoValidMeta
            | MdbError::NotAnArbordbFile { .. }
            | MdbError::NotARegularFile { .. }
            | MdbError::LmdbEnvironment { .. }
            | MdbError::InvalidPageSize { .. }
            | MdbError::InvalidLockFile { .. } => code::INVALID,
            MdbError::UnsupportedFormatVersion { .. } => code::VERSION_MISMATCH,
            MdbError::OldMapsInUse { .. } => code::MAP_RESIZED,
            MdbError::DatabaseNotFound { .. } | MdbError::DatabaseFromAnotherEnv => code::BAD_DBI,
            MdbError::IncompatibleDatabase { .. } => code::INCOMPATIBLE,
            MdbError::EnvPoisoned => code::PANIC,
            MdbError::ReadOnly => code::EACCES,
            MdbError::WriterBusy => code::EBUSY,
            MdbError::PageSizeMismatch { .. } | MdbError::InvalidOption { .. } => code::EINVAL,
            MdbError::NotFound => code::NOT_FOUND,
            MdbError::PageNotFound => code::PAGE_NOT_FOUND,
            MdbError::Corrupted => code::CORRUPTED,
            MdbError::Panic => code::PANIC,
            MdbError::VersionMismatch => code::VERSION_MISMATCH,
            MdbError::Invalid => code::INVALID,
            MdbError::TlsFull => code::TLS_FULL,
            MdbError::TxnFull => code::TXN_FULL,
            MdbError::CursorFull => code::CURSOR_FULL,
            MdbError::PageFull => code::PAGE_FULL,
            MdbError::MapResized => code::MAP_RESIZED,
            MdbError::Incompatible => code::INCOMPATIBLE,
            MdbError::BadRslot => code::BAD_RSLOT,
            MdbError::BadDbi => code::BAD_DBI,
            MdbError::Problem => code::PROBLEM,
            MdbError::Other(code) => *code,
        }
    }
}

impl Error {
    /// [`MdbError::CorruptedPage`] at `page`: a page number (the `page` layer's `PageId`), or
    /// 0 when the problem concerns no single page.
    pub(crate) fn corrupted(page: impl Into<u64>, reason: impl Into<String>) -> Error {
        Error::Mdb(MdbError::CorruptedPage {
            page: page.into(),
            reason: reason.into(),
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(error) => write!(f, "I/O error: {error}"),
            Error::Mdb(error) => write!(f, "{error}"),
            Error::Encoding(error) => write!(f, "error while encoding: {error}"),
            Error::Decoding(error) => write!(f, "error while decoding: {error}"),
            Error::EnvAlreadyOpened => write!(
                f,
                "this path is already open in this process with different flags"
            ),
        }
    }
}

#[allow(deprecated)] // heed's names still need a message
impl fmt::Display for MdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MdbError::KeyExist => write!(f, "the key already exists"),
            MdbError::MapFull => write!(
                f,
                "the map is full; the transaction was not committed, grow the map with Env::resize"
            ),
            MdbError::DbsFull => write!(
                f,
                "the environment already has max_dbs named databases open; raise max_dbs"
            ),
            MdbError::ReadersFull => write!(
                f,
                "all reader slots are in use; end a read transaction or raise max_readers"
            ),
            MdbError::BadTxn => write!(
                f,
                "an earlier operation of this write transaction failed; abort it and start a new one"
            ),
            MdbError::BadValSize => write!(
                f,
                "the key or value has a size this database does not take (a key over Env::max_key_size, a DUP_SORT value over it, a value over 4 GiB, or a DUP_FIXED value of another size than its key's values)"
            ),
            MdbError::CorruptedPage { page, reason } => {
                write!(f, "the data file is corrupted at page {page}: {reason}")
            }
            MdbError::NoValidMeta => {
                write!(f, "neither meta page of the data file passes its checksum")
            }
            MdbError::FileTruncated { len_bytes, needed_bytes } => write!(
                f,
                "the data file is truncated: it is {len_bytes} bytes but its meta page needs {needed_bytes}"
            ),
            MdbError::NotAnArbordbFile { path } => {
                write!(f, "{} is not an arbordb data file (wrong magic bytes)", path.display())
            }
            MdbError::NotARegularFile { path } => write!(
                f,
                "{} is not a regular file (a FIFO, socket, device or directory); arbordb opens only regular files",
                path.display()
            ),
            MdbError::LmdbEnvironment { path } => write!(
                f,
                "{} is an LMDB data file, not an arbordb one; convert the environment with `mdb_dump -a ENV | arbor load NEW_ENV`",
                path.display()
            ),
            MdbError::UnsupportedFormatVersion { path, found, supported } => write!(
                f,
                "{} was written with format version {found}, newer than this build reads (up to {supported}); open it with a newer release of arbordb",
                path.display()
            ),
            MdbError::InvalidPageSize { found } => write!(
                f,
                "the data file records page size {found}, which is not a power of two from 512 to 65536"
            ),
            MdbError::PageSizeMismatch { file, requested } => write!(
                f,
                "the data file uses {file}-byte pages but {requested}-byte pages were requested"
            ),
            MdbError::InvalidLockFile { path, reason } => write!(
                f,
                "{} is not a usable arbordb lock file: {reason}",
                path.display()
            ),
            MdbError::OldMapsInUse { kept } => write!(
                f,
                "{kept} earlier maps are still read through by live transactions; end them before the map is replaced again"
            ),
            MdbError::DatabaseNotFound { name } => {
                write!(f, "the database {name:?} does not exist in this transaction")
            }
            MdbError::IncompatibleDatabase { name, reason } => match name {
                Some(name) => write!(f, "the database {name:?} cannot be opened so: {reason}"),
                None => write!(f, "the unnamed database cannot be opened so: {reason}"),
            },
            MdbError::DatabaseFromAnotherEnv => {
                write!(f, "the database handle belongs to another environment")
            }
            MdbError::EnvPoisoned => write!(
                f,
                "a sync of the data file failed earlier; the environment refuses writes until it is reopened"
            ),
            MdbError::ReadOnly => write!(f, "the environment was opened read-only"),
            MdbError::WriterBusy => write!(
                f,
                "another write transaction is live (in this process or another)"
            ),
            MdbError::InvalidOption { reason } => write!(f, "invalid option: {reason}"),
            MdbError::NotFound => write!(f, "no matching key/data pair found"),
            MdbError::PageNotFound => write!(f, "requested page not found"),
            MdbError::Corrupted => write!(f, "located page was of the wrong type"),
            MdbError::Panic => write!(f, "the environment had a fatal error"),
            MdbError::VersionMismatch => write!(f, "environment version mismatch"),
            MdbError::Invalid => write!(f, "the file is not a valid data file"),
            MdbError::TlsFull => write!(f, "too many thread-local keys in use"),
            MdbError::TxnFull => write!(f, "the transaction has too many dirty pages"),
            MdbError::CursorFull => write!(f, "the cursor stack is too deep"),
            MdbError::PageFull => write!(f, "the page has not enough space"),
            MdbError::MapResized => write!(f, "the database grew beyond the map size"),
            MdbError::Incompatible => write!(f, "operation and database incompatible"),
            MdbError::BadRslot => write!(f, "invalid reuse of a reader slot"),
            MdbError::BadDbi => write!(f, "the database handle changed unexpectedly"),
            MdbError::Problem => write!(f, "unexpected problem; the transaction should abort"),
            MdbError::Other(code) => write!(f, "error code {code}"),
        }
    }
}

impl std::error::Error for MdbError {}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(error) => Some(error),
            Error::Encoding(error) | Error::Decoding(error) => Some(error.as_ref()),
            Error::Mdb(_) | Error::EnvAlreadyOpened => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Error {
        Error::Io(error)
    }
}

impl From<MdbError> for Error {
    fn from(error: MdbError) -> Error {
        Error::Mdb(error)
    }
}
