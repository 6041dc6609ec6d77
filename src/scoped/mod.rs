//! Scopes: isolated namespaces inside one database, in the shape of
//! [scoped-heed](https://github.com/verse-pbc/scoped-heed) and without its bugs.
//!
//! A scoped database holds a default scope and any number of named scopes ("tenant1",
//! "staging", "user:42"). The same key in two scopes is two entries; every operation works on
//! exactly one scope. A [`GlobalScopeRegistry`], stored in the same file and updated in the
//! same transaction as the data, lists the named scopes and detects two names that share a
//! hash.
//!
//! ```
//! use std::sync::Arc;
//! use arbordb::scoped::{scoped_database_options, GlobalScopeRegistry, Scope};
//! # fn main() -> Result<(), arbordb::scoped::ScopedDbError> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let env = unsafe { arbordb::EnvOpenOptions::new().max_dbs(8).open(dir.path())? };
//! let mut wtxn = env.write_txn()?;
//! let registry = Arc::new(GlobalScopeRegistry::new(&env, &mut wtxn)?);
//! let sessions = scoped_database_options(&env, registry.clone())
//!     .raw_bytes()
//!     .name("sessions")
//!     .create(&mut wtxn)?;
//! for tenant in ["acme", "globex"] {
//!     let scope = Scope::named(tenant)?;
//!     sessions.put(&mut wtxn, &scope, b"token", tenant.as_bytes())?;
//! }
//! sessions.clear(&mut wtxn, &Scope::named("acme")?)?;
//! wtxn.commit()?;
//!
//! let rtxn = env.read_txn()?;
//! assert_eq!(sessions.get(&rtxn, &Scope::named("globex")?, b"token")?, Some(&b"globex"[..]));
//! assert_eq!(sessions.len(&rtxn, &Scope::named("acme")?)?, 0);
//! assert_eq!(registry.list_all_scopes(&rtxn)?.len(), 3); // default, acme, globex
//! # Ok(()) }
//! ```
//!
//! ## What differs from scoped-heed
//!
//! - The scope prefix is the big-endian hash, so a scope is one contiguous key range: `clear`,
//!   `iter`, `range` and the emptiness checks touch that range only, cost O(entries in the
//!   scope), and work for every hash including `u32::MAX`.
//! - Keys sort within a scope as the user's keys sort ([`OrderedKey`] for serde keys).
//! - Two names with one hash never share data: the second gets
//!   [`ScopedDbError::HashCollision`] on every operation, reads included.
//! - Unregistering a scope, by hand or by pruning with a database left out, never hides its
//!   data: each scoped database records which name owns its keys under each hash, so the
//!   scope's name still reads and writes them and other names stay refused. Files written
//!   before those records existed are given them before any registration changes; keys no
//!   record names are no name's until [`ScopedDb::claim_orphaned_data`] says whose they are.
//! - The empty name is refused everywhere (see [`Scope`]).
//! - Per-scope `len`, `is_empty`, `first`, `last`, `rev_iter`, `rev_range`, `prefix_iter`,
//!   `rev_prefix_iter`, and [`ScopedDb::scopes_with_data`].
//! - Reads take a read *or* write transaction (`&RoTxn`), and `find_empty_scopes` too.
//! - Iterators are the concrete [`ScopedIter`] rather than a boxed iterator.
//!
//! The on-disk layout is in docs/format.md ("Scoped databases").

mod codec;
mod database;
mod error;
mod hash;
mod iter;
mod options;
mod ordered;
mod owner;
mod registry;
mod scope;
mod upgrade;

pub use codec::{Bincode, OrderedKey, RawBytes, ScopedKeyCodec, ScopedValueCodec};
pub use database::{ScopedBytesDatabase, ScopedBytesKeyDatabase, ScopedDatabase, ScopedDb};
pub use error::ScopedDbError;
pub use iter::{ScopedEntry, ScopedIter};
pub use options::{scoped_database_options, ScopedDatabaseOptions, ScopedOptions};
pub use registry::{GlobalScopeRegistry, ScopeEmptinessChecker};
pub use scope::Scope;
