//! [`GlobalScopeRegistry`]: the scopes in use, stored in the environment's own file.

use crate::byteorder::BigEndian;
use crate::types::{Str, U32};
use crate::{Database, Env, RoTxn, RwTxn};

use super::error::ScopedDbError;
use super::scope::Scope;

/// What a scope name means in a transaction's snapshot of the registry.
pub(crate) enum Resolved {
    /// The default scope.
    Default,
    /// A named scope registered under this hash.
    Registered(u32),
    /// A named scope not registered: it holds no data in any scoped database.
    Unregistered(u32),
}

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
/// The registry is what keeps two names with the same hash apart: the first name registered
/// owns the hash, and every operation by another name with that hash fails with
/// [`ScopedDbError::HashCollision`].
///
/// Share one registry between databases with an `Arc` (it is a cheap handle; several handles
/// on one environment see the same registry).
#[derive(Debug, Clone, Copy)]
pub struct GlobalScopeRegistry {
    names: Database<U32<BigEndian>, Str>,
}

impl GlobalScopeRegistry {
    /// The name of the database that holds the registry.
    pub const GLOBAL_METADATA_DB_NAME: &'static str = "__global_scope_metadata";

    /// Opens the registry, creating its database in `wtxn` if it does not exist yet.
    pub fn new(env: &Env, wtxn: &mut RwTxn<'_>) -> Result<GlobalScopeRegistry, ScopedDbError> {
        let names = env.create_database(wtxn, Some(Self::GLOBAL_METADATA_DB_NAME))?;
        Ok(GlobalScopeRegistry { names })
    }

    /// Opens an existing registry; `None` when the environment has none (for read-only use).
    pub fn open(env: &Env, rtxn: &RoTxn<'_>) -> Result<Option<GlobalScopeRegistry>, ScopedDbError> {
        let names = env.open_database(rtxn, Some(Self::GLOBAL_METADATA_DB_NAME))?;
        Ok(names.map(|names| GlobalScopeRegistry { names }))
    }

    /// Registers a named scope (the default scope needs no registration). Registering a
    /// registered scope does nothing; a name whose hash another name owns is a
    /// [`ScopedDbError::HashCollision`].
    pub fn register_scope(&self, wtxn: &mut RwTxn<'_>, scope: &Scope) -> Result<(), ScopedDbError> {
        if let (Resolved::Unregistered(hash), Some(name)) =
            (self.resolve(wtxn, scope)?, scope.name())
        {
            self.names.put(wtxn, &hash, name)?;
        }
        Ok(())
    }

    /// The name registered for `hash`.
    pub fn get_scope_name(
        &self,
        txn: &RoTxn<'_>,
        hash: &u32,
    ) -> Result<Option<String>, ScopedDbError> {
        Ok(self.names.get(txn, hash)?.map(str::to_owned))
    }

    /// The hash of `name` if `name` is registered; `None` if it is not (also when another name
    /// owns its hash). One lookup, not a scan.
    pub fn lookup_scope_hash(
        &self,
        txn: &RoTxn<'_>,
        name: &str,
    ) -> Result<Option<u32>, ScopedDbError> {
        let hash = super::hash::scope_hash(name);
        Ok(match self.names.get(txn, &hash)? {
            Some(registered) if registered == name => Some(hash),
            _ => None,
        })
    }

    /// Every scope: the default scope first, then the named scopes in hash order.
    pub fn list_all_scopes(&self, txn: &RoTxn<'_>) -> Result<Vec<Scope>, ScopedDbError> {
        let mut scopes = vec![Scope::Default];
        for entry in self.names.iter(txn)? {
            let (hash, name) = entry?;
            scopes.push(Scope::Named {
                name: name.to_owned(),
                hash,
            });
        }
        Ok(scopes)
    }

    /// Whether `scope` is registered (the default scope always is). A name whose hash another
    /// name owns is a [`ScopedDbError::HashCollision`].
    pub fn scope_exists(&self, txn: &RoTxn<'_>, scope: &Scope) -> Result<bool, ScopedDbError> {
        Ok(!matches!(
            self.resolve(txn, scope)?,
            Resolved::Unregistered(_)
        ))
    }

    /// Removes the registration of `hash` (nothing if it is not registered). The caller
    /// promises the scope holds no data in any database: data left behind is unreachable by
    /// name, and registering a scope over it is refused. Prefer
    /// [`prune_globally_unused_scopes`](Self::prune_globally_unused_scopes), which checks.
    pub fn unregister_scope(&self, wtxn: &mut RwTxn<'_>, hash: &u32) -> Result<(), ScopedDbError> {
        self.names.delete(wtxn, hash)?;
        Ok(())
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
    /// only in a database left out looks empty.
    pub fn prune_globally_unused_scopes(
        &self,
        wtxn: &mut RwTxn<'_>,
        databases: &[&dyn ScopeEmptinessChecker],
    ) -> Result<usize, ScopedDbError> {
        if databases.is_empty() {
            return Ok(0);
        }
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

    /// What `scope` means in `txn`: the default scope, registered, or not registered; a
    /// malformed scope or a name whose hash another name owns is an error.
    pub(crate) fn resolve(
        &self,
        txn: &RoTxn<'_>,
        scope: &Scope,
    ) -> Result<Resolved, ScopedDbError> {
        let (Some(hash), Some(name)) = (scope.checked_hash()?, scope.name()) else {
            return Ok(Resolved::Default);
        };
        match self.names.get(txn, &hash)? {
            None => Ok(Resolved::Unregistered(hash)),
            Some(registered) if registered == name => Ok(Resolved::Registered(hash)),
            Some(registered) => Err(ScopedDbError::HashCollision {
                name: name.to_owned(),
                registered: registered.to_owned(),
                hash,
            }),
        }
    }
}
