//! [`GlobalScopeRegistry`]: the scopes in use, stored in the environment's own file.

use crate::types::Bytes;
use crate::{Database, Env, RoTxn, RwTxn};

use super::error::ScopedDbError;
use super::owner::{self, HashRecords, Record, TreeRef, HASH_LEN};
use super::scope::Scope;
use super::upgrade;

/// Something that can tell whether a scope holds data in it; every scoped database is one.
/// [`GlobalScopeRegistry::prune_globally_unused_scopes`] asks each database it is given.
pub trait ScopeEmptinessChecker {
    /// Whether `scope` holds no entries in this database, in `txn`'s snapshot.
    fn is_scope_empty_in_db(&self, txn: &RoTxn<'_>, scope: &Scope) -> Result<bool, ScopedDbError>;
}

/// The registry of named scopes, shared by every scoped database of an environment: a
/// database `__global_scope_metadata` in the same file mapping each scope hash (a big-endian
/// `u32`) to its name. A named scope is registered in the same write transaction as its first
/// `put` or `clear`, so an aborted transaction registers nothing.
///
/// The same database records, for each scoped database holding data under a hash, the name
/// that owns that data (docs/format.md, "Scoped databases"). Together they keep two names
/// with the same hash apart: the name registered or owning data first owns the hash, and every
/// operation by another name with that hash fails with [`ScopedDbError::HashCollision`].
/// Unregistering a scope (by hand or by pruning) only takes it off the list: its data stays
/// readable and writable by its name, and the hash stays its own while it holds data.
///
/// Files whose scoped data was written by a release without owner records are upgraded
/// before this release changes any registration (docs/format.md, "Scoped databases"); after
/// that, data under a hash that no record names (an older release's, left when its scope was
/// unregistered) is no name's until [`ScopedDb::claim_orphaned_data`](super::ScopedDb::claim_orphaned_data)
/// hands it to one.
///
/// Share one registry between databases with an `Arc` (it is a cheap handle; several handles
/// on one environment see the same registry).
#[derive(Debug, Clone, Copy)]
pub struct GlobalScopeRegistry {
    /// Registrations and owner records, told apart by key length (see `owner`).
    records: Database<Bytes, Bytes>,
}

impl GlobalScopeRegistry {
    /// The name of the database that holds the registry.
    pub const GLOBAL_METADATA_DB_NAME: &'static str = "__global_scope_metadata";

    /// Opens the registry, creating its database in `wtxn` if it does not exist yet, and
    /// upgrades a file whose scoped data predates owner records (once; this opens every
    /// scoped database of the file, so `max_dbs` must leave room for them).
    pub fn new<T>(
        env: &Env<T>,
        wtxn: &mut RwTxn<'_>,
    ) -> Result<GlobalScopeRegistry, ScopedDbError> {
        let records =
            env.create_byte_ordered_database(wtxn, Some(Self::GLOBAL_METADATA_DB_NAME))?;
        let registry = GlobalScopeRegistry { records };
        registry.ensure_upgraded(wtxn, None)?;
        Ok(registry)
    }

    /// Opens an existing registry; `None` when the environment has none (for read-only use).
    pub fn open<T>(
        env: &Env<T>,
        rtxn: &RoTxn<'_>,
    ) -> Result<Option<GlobalScopeRegistry>, ScopedDbError> {
        let records = env.open_byte_ordered_database(rtxn, Some(Self::GLOBAL_METADATA_DB_NAME))?;
        Ok(records.map(|records| GlobalScopeRegistry { records }))
    }

    /// Registers a named scope (the default scope needs no registration). Registering a
    /// registered scope does nothing; a name whose hash another name owns (registered, or
    /// owning data in some scoped database) is a [`ScopedDbError::HashCollision`].
    ///
    /// Registering claims no data: keys that an older release left under a hash no name owns
    /// stay no name's (see [`ScopedDb::claim_orphaned_data`](super::ScopedDb::claim_orphaned_data)).
    pub fn register_scope(&self, wtxn: &mut RwTxn<'_>, scope: &Scope) -> Result<(), ScopedDbError> {
        if let Some((hash, name, records)) = self.claim(wtxn, scope, None)? {
            let (registered, stale) = (records.registered.is_some(), records.stale);
            if !registered {
                self.register(wtxn, hash, name)?;
            }
            self.forget_stale(wtxn, &stale)?;
        }
        Ok(())
    }

    /// The name registered for `hash`.
    pub fn get_scope_name(
        &self,
        txn: &RoTxn<'_>,
        hash: &u32,
    ) -> Result<Option<String>, ScopedDbError> {
        self.records
            .get(txn, &hash.to_be_bytes())?
            .map(|name| owner::decode_name(name).map(str::to_owned))
            .transpose()
    }

    /// The hash of `name` if `name` is registered; `None` if it is not (also when another name
    /// owns its hash). One lookup, not a scan.
    pub fn lookup_scope_hash(
        &self,
        txn: &RoTxn<'_>,
        name: &str,
    ) -> Result<Option<u32>, ScopedDbError> {
        let hash = super::hash::scope_hash(name);
        Ok(match self.get_scope_name(txn, &hash)? {
            Some(registered) if registered == name => Some(hash),
            _ => None,
        })
    }

    /// Every registered scope: the default scope first, then the named scopes in hash order.
    /// A scope unregistered while it still holds data is not listed (its data stays reachable
    /// by name, [`ScopedDb::scopes_with_data`](super::ScopedDb::scopes_with_data) names it,
    /// and its next `put` registers it again).
    pub fn list_all_scopes(&self, txn: &RoTxn<'_>) -> Result<Vec<Scope>, ScopedDbError> {
        let mut scopes = vec![Scope::Default];
        for entry in self.records.iter(txn)? {
            let (key, name) = entry?;
            // Owner records have longer keys; only the 4-byte ones are registrations.
            let Ok(hash) = <[u8; HASH_LEN]>::try_from(key) else {
                continue;
            };
            scopes.push(Scope::Named {
                name: owner::decode_name(name)?.to_owned(),
                hash: u32::from_be_bytes(hash),
            });
        }
        Ok(scopes)
    }

    /// Whether `scope` is registered (the default scope always is). A name whose hash another
    /// name owns is a [`ScopedDbError::HashCollision`].
    pub fn scope_exists(&self, txn: &RoTxn<'_>, scope: &Scope) -> Result<bool, ScopedDbError> {
        Ok(match self.claim(txn, scope, None)? {
            None => true,
            Some((_, _, records)) => records.registered.is_some(),
        })
    }

    /// Removes the registration of `hash` (nothing if it is not registered). Deletes no data:
    /// if the scope still holds data in some scoped database, that data stays readable and
    /// writable by the scope's name (its next `put` registers it again), and every other name
    /// with this hash stays refused with [`ScopedDbError::HashCollision`] while it does.
    pub fn unregister_scope(&self, wtxn: &mut RwTxn<'_>, hash: &u32) -> Result<(), ScopedDbError> {
        self.ensure_upgraded(wtxn, None)?;
        self.records.delete(wtxn, &hash.to_be_bytes())?;
        owner::mark_listed(self.records, wtxn, *hash, None, false)
    }

    /// Whether `scope` is empty according to `is_scope_empty_in_db` (scoped-heed's helper).
    pub fn is_scope_empty<F>(
        &self,
        txn: &RoTxn<'_>,
        scope: &Scope,
        mut is_scope_empty_in_db: F,
    ) -> Result<bool, ScopedDbError>
    where
        F: FnMut(&RoTxn<'_>, &Scope) -> Result<bool, ScopedDbError>,
    {
        is_scope_empty_in_db(txn, scope)
    }

    /// Unregisters every named scope that is empty in all of `databases`, and returns how many.
    /// Never deletes data. With no databases it prunes nothing: there is no evidence that any
    /// scope is unused. Pass every database that shares this registry: a scope that holds data
    /// only in a database left out looks empty and is unregistered, which takes it off the
    /// list but keeps its data its own (see [`unregister_scope`](Self::unregister_scope)).
    ///
    /// It also removes every owner record whose scoped database no longer holds keys under
    /// the record's hash (left by dropping or clearing the database through the plain API,
    /// or by an older release's `delete` and `clear`), whichever databases are passed.
    pub fn prune_globally_unused_scopes(
        &self,
        wtxn: &mut RwTxn<'_>,
        databases: &[&dyn ScopeEmptinessChecker],
    ) -> Result<usize, ScopedDbError> {
        if databases.is_empty() {
            return Ok(0);
        }
        self.ensure_upgraded(wtxn, None)?;
        self.forget_every_stale_record(wtxn)?;
        let mut pruned = 0;
        for scope in self.list_all_scopes(wtxn)? {
            let Some(hash) = scope.hash() else { continue };
            let mut empty = true;
            for database in databases {
                if !database.is_scope_empty_in_db(wtxn, &scope)? {
                    empty = false;
                    break;
                }
            }
            if empty {
                self.unregister_scope(wtxn, &hash)?;
                pruned += 1;
            }
        }
        Ok(pruned)
    }

    /// What the registry records about a named `scope`'s hash as seen from the scoped tree
    /// `here` (`None`: from no tree in particular), with the scope's hash and name; `None` for
    /// the default scope. A malformed scope, or a name whose hash another name owns (see
    /// [`HashRecords::owner`]), is an error.
    pub(crate) fn claim<'s, 'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: &'s Scope,
        here: Option<TreeRef<'_>>,
    ) -> Result<Option<(u32, &'s str, HashRecords<'txn>)>, ScopedDbError> {
        let (Some(hash), Some(name)) = (scope.checked_hash()?, scope.name()) else {
            return Ok(None);
        };
        let records = owner::records_of(self.records, txn, hash, here, name)?;
        match records.owner() {
            Some(owner) if owner != name => Err(ScopedDbError::HashCollision {
                name: name.to_owned(),
                registered: owner.to_owned(),
                hash,
            }),
            _ => Ok(Some((hash, name, records))),
        }
    }

    /// The owner record of the scoped tree `tree`'s keys under `hash`, if there is one.
    pub(crate) fn record_of<'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        hash: u32,
        tree: &str,
    ) -> Result<Option<Record<'txn>>, ScopedDbError> {
        owner::record_of(self.records, txn, hash, tree)
    }

    /// Whether the keys of `tree` that have no owner record belong to the registered name
    /// (only in a file not upgraded yet, see `upgrade`).
    pub(crate) fn registration_owns_unrecorded(
        &self,
        txn: &RoTxn<'_>,
        tree: Database<Bytes, Bytes>,
    ) -> Result<bool, ScopedDbError> {
        upgrade::registration_owns_unrecorded(self.records, tree, txn)
    }

    /// Upgrades the file once (see `upgrade`); `also` names a scoped tree created in `wtxn`.
    pub(crate) fn ensure_upgraded(
        &self,
        wtxn: &mut RwTxn<'_>,
        also: Option<&str>,
    ) -> Result<(), ScopedDbError> {
        upgrade::ensure_upgraded(self.records, wtxn, also)
    }

    /// Writes the registration of `name` under `hash` (after upgrading the file, so that no
    /// registration of an older release is lost or taken over) and lists its owner records
    /// as registered.
    pub(crate) fn register(
        &self,
        wtxn: &mut RwTxn<'_>,
        hash: u32,
        name: &str,
    ) -> Result<(), ScopedDbError> {
        self.ensure_upgraded(wtxn, None)?;
        self.records
            .put(wtxn, &hash.to_be_bytes(), name.as_bytes())?;
        owner::mark_listed(self.records, wtxn, hash, Some(name), true)
    }

    /// Removes the records found stale (their trees hold no keys under their hash).
    pub(crate) fn forget_stale(
        &self,
        wtxn: &mut RwTxn<'_>,
        stale: &[Vec<u8>],
    ) -> Result<(), ScopedDbError> {
        for key in stale {
            self.records.delete(wtxn, key)?;
        }
        Ok(())
    }

    /// Removes every owner record whose tree holds no keys under its hash.
    fn forget_every_stale_record(&self, wtxn: &mut RwTxn<'_>) -> Result<(), ScopedDbError> {
        for hash in owner::hashes_with_records(self.records, wtxn)? {
            owner::forget_stale_records(self.records, wtxn, hash)?;
        }
        Ok(())
    }

    /// Records `name` as the owner of the scoped tree `tree`'s keys under `hash`.
    pub(crate) fn record_owner(
        &self,
        wtxn: &mut RwTxn<'_>,
        hash: u32,
        tree: &str,
        name: &str,
    ) -> Result<(), ScopedDbError> {
        owner::record_owner(self.records, wtxn, hash, tree, name)
    }

    /// Removes the owner record of the scoped tree `tree`'s keys under `hash`.
    pub(crate) fn forget_owner(
        &self,
        wtxn: &mut RwTxn<'_>,
        hash: u32,
        tree: &str,
    ) -> Result<(), ScopedDbError> {
        owner::forget_owner(self.records, wtxn, hash, tree)
    }
}
