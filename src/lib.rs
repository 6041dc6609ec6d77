//! # arbordb
//!
//! A pure-Rust embedded key-value store with LMDB's semantics and no C code: a copy-on-write
//! B+tree read straight from a memory-mapped file, two checksummed meta pages that alternate
//! per commit, a freelist that reuses pages once no reader sees them, one writer and any number
//! of MVCC readers, named databases, and a typed API in the shape of
//! [heed](https://docs.rs/heed).
//!
//! ```
//! use arbordb::types::{Bytes, Str};
//! use arbordb::EnvOpenOptions;
//!
//! # fn main() -> Result<(), arbordb::Error> {
//! let dir = tempfile::tempdir().unwrap();
//! // SAFETY: nothing else modifies the file while it is open (see `EnvOpenOptions::open`).
//! let env = unsafe { EnvOpenOptions::new().map_size(1 << 30).max_dbs(8).open(dir.path())? };
//!
//! let mut wtxn = env.write_txn()?;
//! let users = env.create_database::<Str, Bytes>(&mut wtxn, Some("users"))?;
//! users.put(&mut wtxn, "alice", b"admin")?;
//! wtxn.commit()?;
//!
//! let rtxn = env.read_txn()?;
//! assert_eq!(users.get(&rtxn, "alice")?, Some(&b"admin"[..]));
//! # Ok(()) }
//! ```
//!
//! ## Layers
//!
//! Data flows down one layer at a time; no layer imports one above it, and no production
//! module uses the test support (`tests/layers.rs` checks both on the source).
//!
//! ```text
//! os        file I/O, the memory map, file locks                 (the only unsafe code)
//! page      the page format: page and txn ids, page header, meta pages
//! readers   the MVCC reader table in the lock file: who reads which commit
//! store     where pages come from and go: freelist, free segments, pool, dirty pages,
//!           spilling, the page store, ordered writes
//! btree     node layout, search, cursor, copy-on-write insert/delete/split/merge, checker
//! env/txn   Env and its options, RoTxn, RwTxn, commit, the catalog of named databases
//! db        typed Database<KC, DC>, codecs, iterators
//! ```
//!
//! docs/design.md lists the invariants the code and tests cite; docs/format.md the byte
//! layout.

#![warn(missing_docs)]

mod btree;
mod db;
mod env;
mod error;
mod flags;
mod os;
mod page;
mod readers;
#[cfg(feature = "scoped")]
pub mod scoped;
mod store;
mod sync;
mod txn;

pub use btree::check::{CheckReport, PROBLEMS_MAX};
pub use db::iteration_method;
pub use db::{
    types, BytesDecode, BytesEncode, Comparator, Database, DatabaseInfo, DatabaseOpenOptions,
    DatabaseStat, DefaultComparator, IntegerComparator, LexicographicComparator, ReservedSpace,
    RoIter, RoPrefix, RoRange, RoRevIter, RoRevPrefix, RoRevRange, RwIter, RwPrefix, RwRange,
    RwRevIter, RwRevPrefix, RwRevRange, Unspecified,
};
pub use env::{
    env_closing_event, lmdb_version, CompactionOption, Env, EnvClosingEvent, EnvInfo,
    EnvOpenOptions, LmdbVersion, ReaderInfo, SkipReason, SkippedMeta, DATA_FILE_NAME,
    LOCK_FILE_NAME, MAP_SIZE_MAX,
};
pub use error::{BoxedError, Error, MdbError, Result};

/// Byte orders for the integer codecs (the `byteorder` crate, re-exported as heed does).
pub use byteorder;
pub use flags::{DatabaseFlags, EnvFlags, FlagSetMode, PutFlags};
pub use page::meta::FORMAT_VERSION;
pub use txn::{AnyTls, ReadTxn, RoTxn, RwTxn, TlsUsage, WithTls, WithoutTls, VALUE_SIZE_MAX};

#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod testing;

/// Statistics of the unnamed database, as heed's `EnvStat`.
pub type EnvStat = DatabaseStat;
