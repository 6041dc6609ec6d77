//! [`ScopedDb`]: one scoped database, generic over how it encodes keys and values; the three
//! kinds users name are aliases of it.

use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use crate::types::Bytes;
use crate::{Database, Env, RoTxn, RwTxn};

use super::codec::{Bincode, OrderedKey, RawBytes, ScopedKeyCodec, ScopedValueCodec};
use super::error::ScopedDbError;
use super::iter::{ScopedEntry, ScopedIter, Walk};
use super::owner::TreeRef;
use super::registry::{GlobalScopeRegistry, ScopeEmptinessChecker};
use super::scope::Scope;

/// A scoped database with serde keys (order-preserving encoding) and serde values (bincode).
pub type ScopedDatabase<K, V> = ScopedDb<OrderedKey<K>, Bincode<V>>;
/// A scoped database with raw byte keys (sorted as bytes) and serde values (bincode).
pub type ScopedBytesKeyDatabase<V> = ScopedDb<RawBytes, Bincode<V>>;
/// A scoped database of raw byte keys and values, read without copying.
pub type ScopedBytesDatabase = ScopedDb<RawBytes, RawBytes>;

/// The length of the scope prefix: a big-endian `u32` hash.
const PREFIX_LEN: usize = 4;

/// A database divided into isolated scopes, as in scoped-heed: the default scope keeps its
/// keys unprefixed in the database `name`; each named scope keeps its keys in the database
/// `name_scoped` behind the 4-byte big-endian XXH32 hash of its name. Big-endian makes each
/// scope one contiguous key range, so every operation on a scope is bounded to exactly that
/// range and costs O(log n + entries in the scope).
///
/// Use it through its three aliases, [`ScopedDatabase<K, V>`], [`ScopedBytesKeyDatabase<V>`]
/// and [`ScopedBytesDatabase`], made by [`scoped_database_options`](super::scoped_database_options)
/// or `new`/`create`. It is a cheap handle: `Clone + Send + Sync`, clones share the registry.
///
/// Every operation on a named scope first checks the name against the hash's owner: the name
/// recorded as owning this database's data under the hash, else the registered name. A name
/// whose hash another name owns gets [`ScopedDbError::HashCollision`] instead of that scope's
/// data; the owner reaches its data whether or not it is still registered. Keys that no
/// record names (an older release's, left when their scope was unregistered) are no name's:
/// every operation on their hash in this database is [`ScopedDbError::InvalidInput`] until
/// [`claim_orphaned_data`](Self::claim_orphaned_data) hands them to a name. A key in a named
/// scope may be at most [`Env::max_key_size`] minus 4 bytes long (its scope prefix).
pub struct ScopedDb<KS, VS> {
    default_tree: Database<Bytes, Bytes>,
    scoped_tree: Database<Bytes, Bytes>,
    /// The scoped tree's name, which the registry's owner records name it by.
    scoped_tree_name: Arc<str>,
    registry: Arc<GlobalScopeRegistry>,
    marker: PhantomData<fn() -> (KS, VS)>,
}

impl<KS, VS> Clone for ScopedDb<KS, VS> {
    fn clone(&self) -> Self {
        ScopedDb {
            default_tree: self.default_tree,
            scoped_tree: self.scoped_tree,
            scoped_tree_name: Arc::clone(&self.scoped_tree_name),
            registry: Arc::clone(&self.registry),
            marker: PhantomData,
        }
    }
}

impl<KS, VS> std::fmt::Debug for ScopedDb<KS, VS> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopedDb")
            .field("default_tree", &self.default_tree)
            .field("scoped_tree", &self.scoped_tree)
            .field("scoped_tree_name", &self.scoped_tree_name)
            .finish_non_exhaustive()
    }
}

/// The name of the database that holds the named scopes of the scoped database `name`.
pub(crate) fn scoped_tree_name(name: &str) -> String {
    format!("{name}_scoped")
}

/// What an operation on a scope may do in one database, once the scope's name is checked
/// against the owner of its hash.
enum Standing<'s> {
    Default,
    Named {
        hash: u32,
        name: &'s str,
        /// Whether this database has an owner record for the hash (naming this scope).
        recorded: bool,
        /// Whether the scope is registered: as the record says when `recorded`, else as the
        /// registry says.
        listed: bool,
        /// Whether this database's keys under the hash, if any, are this scope's. When not,
        /// there are none (checked).
        owns_data_here: bool,
        /// Owner records met that block no one (see `owner::HashRecords::stale`), for a
        /// write to remove.
        stale: Vec<Vec<u8>>,
    },
}

/// Where a scope's keys live: the default tree, or the scoped tree behind a prefix.
enum Place {
    Default,
    Prefixed([u8; PREFIX_LEN]),
}

impl Place {
    fn of(hash: Option<u32>) -> Place {
        hash.map_or(Place::Default, |hash| Place::Prefixed(hash.to_be_bytes()))
    }

    fn prefix(&self) -> &[u8] {
        match self {
            Place::Default => &[],
            Place::Prefixed(prefix) => prefix,
        }
    }

    /// The stored key for an encoded user key: the prefix, then the key.
    fn key_with<E>(&self, encode: E) -> Result<Vec<u8>, ScopedDbError>
    where
        E: FnOnce(&mut Vec<u8>) -> Result<(), ScopedDbError>,
    {
        let mut key = Vec::with_capacity(PREFIX_LEN + 32);
        key.extend_from_slice(self.prefix());
        encode(&mut key)?;
        Ok(key)
    }

    /// The end of the scope's key range: the next hash, or the end of the tree after hash
    /// `u32::MAX` (and in the default scope, which has its own tree).
    fn end(&self) -> Bound<Vec<u8>> {
        match self {
            Place::Prefixed(prefix) => match u32::from_be_bytes(*prefix).checked_add(1) {
                Some(next) => Bound::Excluded(next.to_be_bytes().to_vec()),
                None => Bound::Unbounded,
            },
            Place::Default => Bound::Unbounded,
        }
    }
}

/// A user range turned into stored-key bounds inside one scope.
type StoredRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

fn borrowed(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(key) => Bound::Included(key),
        Bound::Excluded(key) => Bound::Excluded(key),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The smallest key after every key that starts with `prefix`; `None` if there is none.
fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|&byte| byte != u8::MAX)?;
    let mut successor = prefix[..=last].to_vec();
    successor[last] += 1;
    Some(successor)
}

impl<KS: ScopedKeyCodec, VS: ScopedValueCodec> ScopedDb<KS, VS> {
    /// Opens or creates the scoped database `name` in a write transaction of its own.
    pub fn new<T>(
        env: &Env<T>,
        name: &str,
        registry: Arc<GlobalScopeRegistry>,
    ) -> Result<Self, ScopedDbError> {
        let mut wtxn = env.write_txn()?;
        let database = Self::create(env, name, &mut wtxn, registry)?;
        wtxn.commit()?;
        Ok(database)
    }

    /// Opens or creates the scoped database `name` (the databases `name` and `name_scoped`) in
    /// `wtxn`. Upgrades a file whose scoped data predates owner records, as
    /// [`GlobalScopeRegistry::new`] does.
    pub fn create<T>(
        env: &Env<T>,
        name: &str,
        wtxn: &mut RwTxn<'_>,
        registry: Arc<GlobalScopeRegistry>,
    ) -> Result<Self, ScopedDbError> {
        let tree_name = scoped_tree_name(name);
        let default_tree = env.create_byte_ordered_database(wtxn, Some(name))?;
        let scoped_tree = env.create_byte_ordered_database(wtxn, Some(&tree_name))?;
        let database = ScopedDb {
            default_tree,
            scoped_tree,
            scoped_tree_name: tree_name.into(),
            registry,
            marker: PhantomData,
        };
        database
            .registry
            .ensure_upgraded(wtxn, Some(&database.scoped_tree_name))?;
        Ok(database)
    }

    /// The first hash at or after `from` under which the scoped tree holds keys.
    fn next_hash_with_data(
        &self,
        txn: &RoTxn<'_>,
        from: Option<u32>,
    ) -> Result<Option<u32>, ScopedDbError> {
        let Some(start) = from else {
            return Ok(None);
        };
        let bounds = (Bound::Included(&start.to_be_bytes()[..]), Bound::Unbounded);
        let Some(entry) = self.scoped_tree.range(txn, &bounds)?.next() else {
            return Ok(None);
        };
        let (key, _) = entry?;
        let prefix: [u8; PREFIX_LEN] = key
            .get(..PREFIX_LEN)
            .and_then(|prefix| prefix.try_into().ok())
            .ok_or_else(|| {
                ScopedDbError::InvalidInput(format!(
                    "a scoped key of {} bytes has no scope prefix",
                    key.len()
                ))
            })?;
        Ok(Some(u32::from_be_bytes(prefix)))
    }

    /// Opens an existing scoped database without writing; `None` if it does not exist.
    pub fn open<T>(
        env: &Env<T>,
        name: &str,
        rtxn: &RoTxn<'_>,
        registry: Arc<GlobalScopeRegistry>,
    ) -> Result<Option<Self>, ScopedDbError> {
        let tree_name = scoped_tree_name(name);
        let default_tree = env.open_byte_ordered_database(rtxn, Some(name))?;
        let scoped_tree = env.open_byte_ordered_database(rtxn, Some(&tree_name))?;
        Ok(default_tree
            .zip(scoped_tree)
            .map(|(default_tree, scoped_tree)| ScopedDb {
                default_tree,
                scoped_tree,
                scoped_tree_name: tree_name.into(),
                registry,
                marker: PhantomData,
            }))
    }

    /// The registry this database shares.
    pub fn registry(&self) -> &Arc<GlobalScopeRegistry> {
        &self.registry
    }

    fn tree(&self, place: &Place) -> Database<Bytes, Bytes> {
        match place {
            Place::Default => self.default_tree,
            Place::Prefixed(_) => self.scoped_tree,
        }
    }

    /// This database's scoped tree as the owner records name it.
    fn tree_ref(&self) -> TreeRef<'_> {
        TreeRef {
            name: &self.scoped_tree_name,
            tree: self.scoped_tree,
        }
    }

    /// What an operation on `scope` may do in this database. A name whose hash another name
    /// owns is a [`ScopedDbError::HashCollision`]; keys under the hash that no record names
    /// are [`ScopedDbError::InvalidInput`], as no name may inherit them. One lookup when the
    /// scope has a record here.
    fn standing<'s>(
        &self,
        txn: &RoTxn<'_>,
        scope: &'s Scope,
    ) -> Result<Standing<'s>, ScopedDbError> {
        let Some((hash, name, records)) = self.registry.claim(txn, scope, Some(self.tree_ref()))?
        else {
            return Ok(Standing::Default);
        };
        if let Some(record) = records.owner_here {
            // `claim` let it through, so the record names this scope.
            return Ok(Standing::Named {
                hash,
                name,
                recorded: true,
                listed: record.listed,
                owns_data_here: true,
                stale: records.stale,
            });
        }
        let has_data = !self.is_prefix_empty(txn, &Place::of(Some(hash)))?;
        if has_data
            && !(records.registered == Some(name)
                && self
                    .registry
                    .registration_owns_unrecorded(txn, self.scoped_tree)?)
        {
            return Err(Self::orphaned(hash));
        }
        Ok(Standing::Named {
            hash,
            name,
            recorded: false,
            listed: records.registered.is_some(),
            owns_data_here: has_data,
            stale: records.stale,
        })
    }

    /// The error for keys under `hash` that no name owns.
    fn orphaned(hash: u32) -> ScopedDbError {
        ScopedDbError::InvalidInput(format!(
            "this database holds keys under scope hash {hash:#010x} that no name owns (an older \
             release's, left when their scope was unregistered); they stay no name's unless \
             ScopedDb::claim_orphaned_data, called by code that knows whose they are, hands \
             them to a name"
        ))
    }

    /// Where a read of `scope` looks; `None` for a named scope with no data here.
    fn place_for_read(
        &self,
        txn: &RoTxn<'_>,
        scope: &Scope,
    ) -> Result<Option<Place>, ScopedDbError> {
        Ok(match self.standing(txn, scope)? {
            Standing::Default => Some(Place::Default),
            Standing::Named {
                hash,
                owns_data_here: true,
                ..
            } => Some(Place::of(Some(hash))),
            Standing::Named { .. } => None,
        })
    }

    /// What a write to `scope` may do, after registering the scope if it is not registered (a
    /// new scope, or one unregistered while it held data) and removing the stale records met.
    fn standing_for_write<'s>(
        &self,
        wtxn: &mut RwTxn<'_>,
        scope: &'s Scope,
    ) -> Result<Standing<'s>, ScopedDbError> {
        let standing = self.standing(wtxn, scope)?;
        let Standing::Named {
            hash,
            name,
            recorded,
            listed,
            ref stale,
            ..
        } = standing
        else {
            return Ok(standing);
        };
        if !listed {
            // Without a record here the registry was asked and holds nothing for the hash;
            // a record that says its owner is unlisted is checked against the registry.
            let registered = match recorded {
                false => None,
                true => self.registry.get_scope_name(wtxn, &hash)?,
            };
            match registered {
                Some(other) if other != name => {
                    // Another name registered after this scope's data here was removed
                    // behind the scope layer's back: the record is stale, the hash that
                    // name's. Otherwise the data here stays this scope's, the registration
                    // the other's.
                    if self.is_prefix_empty(wtxn, &Place::of(Some(hash)))? {
                        return Err(ScopedDbError::HashCollision {
                            name: name.to_owned(),
                            registered: other,
                            hash,
                        });
                    }
                }
                _ => self.registry.register(wtxn, hash, name)?,
            }
        }
        self.registry.forget_stale(wtxn, stale)?;
        Ok(standing)
    }

    fn is_prefix_empty(&self, txn: &RoTxn<'_>, place: &Place) -> Result<bool, ScopedDbError> {
        let mut walk = self.walk(
            txn,
            place,
            &(Bound::Included(place.prefix().to_vec()), place.end()),
            false,
        )?;
        Ok(walk.next().is_none())
    }

    /// A walk over stored keys within `range`.
    fn walk<'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        place: &Place,
        range: &StoredRange,
        backward: bool,
    ) -> Result<ScopedIter<'txn, KS, VS>, ScopedDbError> {
        let bounds = (borrowed(&range.0), borrowed(&range.1));
        let tree = self.tree(place);
        let walk = if backward {
            Walk::Backward(tree.rev_range(txn, &bounds)?)
        } else {
            Walk::Forward(tree.range(txn, &bounds)?)
        };
        Ok(ScopedIter::new(walk, place.prefix().len()))
    }

    /// The whole key range of a scope.
    fn whole_scope(place: &Place) -> StoredRange {
        (Bound::Included(place.prefix().to_vec()), place.end())
    }

    /// A user range within a scope, in stored keys.
    fn stored_range<'a, R>(place: &Place, range: &'a R) -> Result<StoredRange, ScopedDbError>
    where
        R: RangeBounds<KS::RangeItem<'a>>,
    {
        let bound =
            |bound: Bound<&KS::RangeItem<'a>>| -> Result<Option<Bound<Vec<u8>>>, ScopedDbError> {
                Ok(match bound {
                    Bound::Included(item) => Some(Bound::Included(
                        place.key_with(|out| KS::encode_bound(item, out))?,
                    )),
                    Bound::Excluded(item) => Some(Bound::Excluded(
                        place.key_with(|out| KS::encode_bound(item, out))?,
                    )),
                    Bound::Unbounded => None,
                })
            };
        let start =
            bound(range.start_bound())?.unwrap_or_else(|| Bound::Included(place.prefix().to_vec()));
        let end = bound(range.end_bound())?.unwrap_or_else(|| place.end());
        Ok((start, end))
    }

    /// The key range of the keys in a scope that start with `prefix`.
    fn stored_prefix(place: &Place, prefix: &KS::Key) -> Result<StoredRange, ScopedDbError> {
        let start = place.key_with(|out| KS::encode_key(prefix, out))?;
        let end = prefix_successor(&start).map_or(Bound::Unbounded, Bound::Excluded);
        Ok((Bound::Included(start), end))
    }

    fn iterate<'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: &Scope,
        range: impl FnOnce(&Place) -> Result<StoredRange, ScopedDbError>,
        backward: bool,
    ) -> Result<ScopedIter<'txn, KS, VS>, ScopedDbError> {
        match self.place_for_read(txn, scope)? {
            Some(place) => self.walk(txn, &place, &range(&place)?, backward),
            None => Ok(ScopedIter::new(Walk::Nothing, 0)),
        }
    }

    /// Registers a named scope in the shared registry (done by `put` and `clear` on their own;
    /// also how to list again a scope that was unregistered while it held data).
    pub fn register_scope(&self, wtxn: &mut RwTxn<'_>, scope: &Scope) -> Result<(), ScopedDbError> {
        self.standing_for_write(wtxn, scope).map(drop)
    }

    /// Hands to `scope` the keys of this database under its hash that no name owns, and
    /// returns whether there were any. Such keys come only from files of a release without
    /// owner records, under a hash whose scope that release unregistered while it held data:
    /// nothing in the file says whose they are, so no operation takes them on its own (not
    /// [`register_scope`](Self::register_scope), not a `put`), and only code that knows whose
    /// they are should call this. Registers the scope. A name whose hash another name owns is
    /// a [`ScopedDbError::HashCollision`]; `false` when there are no keys under the hash here
    /// or they are already the scope's.
    pub fn claim_orphaned_data(
        &self,
        wtxn: &mut RwTxn<'_>,
        scope: &Scope,
    ) -> Result<bool, ScopedDbError> {
        let Some((hash, name, records)) =
            self.registry.claim(wtxn, scope, Some(self.tree_ref()))?
        else {
            return Ok(false);
        };
        let (recorded, registered, stale) = (
            records.owner_here.is_some(),
            records.registered.is_some(),
            records.stale,
        );
        self.registry.forget_stale(wtxn, &stale)?;
        if recorded || self.is_prefix_empty(wtxn, &Place::of(Some(hash)))? {
            return Ok(false);
        }
        // Keys that the registration owns (a file not upgraded yet) are not orphaned.
        let orphaned = !(registered
            && self
                .registry
                .registration_owns_unrecorded(wtxn, self.scoped_tree)?);
        if !registered {
            self.registry.register(wtxn, hash, name)?;
        }
        self.registry
            .record_owner(wtxn, hash, &self.scoped_tree_name, name)?;
        Ok(orphaned)
    }

    /// Every scope of the shared registry, the default scope first.
    pub fn list_scopes(&self, txn: &RoTxn<'_>) -> Result<Vec<Scope>, ScopedDbError> {
        self.registry.list_all_scopes(txn)
    }

    /// How many registered named scopes hold no data in this database (scoped-heed's
    /// helper; takes a read or write transaction). Scopes unregistered while they hold data
    /// are not counted: they are not empty, and [`scopes_with_data`](Self::scopes_with_data)
    /// lists them.
    pub fn find_empty_scopes(&self, txn: &RoTxn<'_>) -> Result<usize, ScopedDbError> {
        let mut empty = 0;
        for scope in self.list_scopes(txn)? {
            if !scope.is_default() && self.is_scope_empty_in_db(txn, &scope)? {
                empty += 1;
            }
        }
        Ok(empty)
    }

    /// The scopes that hold data in this database, registered or not: the default scope
    /// first if it does, then the named scopes in hash order, each named by the owner of its
    /// data. Costs one seek per scope, not a scan of the data.
    pub fn scopes_with_data(&self, txn: &RoTxn<'_>) -> Result<Vec<Scope>, ScopedDbError> {
        let mut scopes = Vec::new();
        if !self.default_tree.is_empty(txn)? {
            scopes.push(Scope::Default);
        }
        let mut from = Some(0u32);
        while let Some(hash) = self.next_hash_with_data(txn, from)? {
            let name = match self.registry.record_of(txn, hash, &self.scoped_tree_name)? {
                Some(record) => record.name.to_owned(),
                None => match self.registry.get_scope_name(txn, &hash)? {
                    Some(name)
                        if self
                            .registry
                            .registration_owns_unrecorded(txn, self.scoped_tree)? =>
                    {
                        name
                    }
                    _ => return Err(Self::orphaned(hash)),
                },
            };
            scopes.push(Scope::Named { name, hash });
            from = hash.checked_add(1);
        }
        Ok(scopes)
    }

    /// Stores `value` under `key` in `scope`, registering the scope if it is not registered
    /// (new, or unregistered while it held data).
    pub fn put(
        &self,
        wtxn: &mut RwTxn<'_>,
        scope: &Scope,
        key: &KS::Key,
        value: &VS::Value,
    ) -> Result<(), ScopedDbError> {
        let standing = self.standing_for_write(wtxn, scope)?;
        let place = match standing {
            Standing::Default => Place::Default,
            Standing::Named { hash, .. } => Place::of(Some(hash)),
        };
        let key = place.key_with(|out| KS::encode_key(key, out))?;
        let value = VS::encode_value(value)?;
        self.tree(&place).put(wtxn, &key, &value)?;
        // Recorded only once the entry is stored, so a refused put leaves no owner record.
        if let Standing::Named {
            hash,
            name,
            recorded: false,
            ..
        } = standing
        {
            self.registry
                .record_owner(wtxn, hash, &self.scoped_tree_name, name)?;
        }
        Ok(())
    }

    /// The value of `key` in `scope`.
    pub fn get<'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: &Scope,
        key: &KS::Key,
    ) -> Result<Option<VS::Decoded<'txn>>, ScopedDbError> {
        let Some(place) = self.place_for_read(txn, scope)? else {
            return Ok(None);
        };
        let key = place.key_with(|out| KS::encode_key(key, out))?;
        match self.tree(&place).get(txn, &key)? {
            Some(value) => Ok(Some(VS::decode_value(value)?)),
            None => Ok(None),
        }
    }

    /// Deletes `key` from `scope`; returns whether it was there. Deleting a named scope's
    /// last entry here also removes its owner record here.
    pub fn delete(
        &self,
        wtxn: &mut RwTxn<'_>,
        scope: &Scope,
        key: &KS::Key,
    ) -> Result<bool, ScopedDbError> {
        let (place, recorded_hash) = match self.standing(wtxn, scope)? {
            Standing::Default => (Place::Default, None),
            Standing::Named {
                hash,
                recorded,
                owns_data_here,
                stale,
                ..
            } => {
                self.registry.forget_stale(wtxn, &stale)?;
                if !owns_data_here {
                    return Ok(false);
                }
                (Place::of(Some(hash)), recorded.then_some(hash))
            }
        };
        let key = place.key_with(|out| KS::encode_key(key, out))?;
        let existed = self.tree(&place).delete(wtxn, &key)?;
        if let Some(hash) = recorded_hash.filter(|_| existed) {
            if self.is_prefix_empty(wtxn, &place)? {
                self.registry
                    .forget_owner(wtxn, hash, &self.scoped_tree_name)?;
            }
        }
        Ok(existed)
    }

    /// Deletes every entry of `scope` and nothing else, and its owner record here (registering
    /// the scope if it is not registered, as scoped-heed does). Costs O(entries in the scope).
    pub fn clear(&self, wtxn: &mut RwTxn<'_>, scope: &Scope) -> Result<(), ScopedDbError> {
        match self.standing_for_write(wtxn, scope)? {
            Standing::Default => self.default_tree.clear(wtxn)?,
            Standing::Named { hash, recorded, .. } => {
                let (start, end) = Self::whole_scope(&Place::of(Some(hash)));
                self.scoped_tree
                    .delete_range(wtxn, &(borrowed(&start), borrowed(&end)))?;
                if recorded {
                    self.registry
                        .forget_owner(wtxn, hash, &self.scoped_tree_name)?;
                }
            }
        }
        Ok(())
    }

    /// The number of entries in `scope`. Costs O(entries in the scope).
    pub fn len(&self, txn: &RoTxn<'_>, scope: &Scope) -> Result<u64, ScopedDbError> {
        match self.place_for_read(txn, scope)? {
            None => Ok(0),
            Some(Place::Default) => Ok(self.default_tree.len(txn)?),
            Some(place) => {
                let (start, end) = Self::whole_scope(&place);
                let mut count = 0;
                for entry in self
                    .scoped_tree
                    .range(txn, &(borrowed(&start), borrowed(&end)))?
                {
                    entry?;
                    count += 1;
                }
                Ok(count)
            }
        }
    }

    /// Whether `scope` holds no entries.
    pub fn is_empty(&self, txn: &RoTxn<'_>, scope: &Scope) -> Result<bool, ScopedDbError> {
        Ok(self.iter(txn, scope)?.next().transpose()?.is_none())
    }

    /// The first entry of `scope` in key order.
    pub fn first<'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: &Scope,
    ) -> Result<Option<ScopedEntry<'txn, KS, VS>>, ScopedDbError> {
        self.iter(txn, scope)?.next().transpose()
    }

    /// The last entry of `scope` in key order.
    pub fn last<'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: &Scope,
    ) -> Result<Option<ScopedEntry<'txn, KS, VS>>, ScopedDbError> {
        self.rev_iter(txn, scope)?.next().transpose()
    }

    /// The entries of `scope` in key order.
    pub fn iter<'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: &Scope,
    ) -> Result<ScopedIter<'txn, KS, VS>, ScopedDbError> {
        self.iterate(txn, scope, |place| Ok(Self::whole_scope(place)), false)
    }

    /// The entries of `scope` in reverse key order.
    pub fn rev_iter<'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: &Scope,
    ) -> Result<ScopedIter<'txn, KS, VS>, ScopedDbError> {
        self.iterate(txn, scope, |place| Ok(Self::whole_scope(place)), true)
    }

    /// The entries of `scope` whose keys lie in `range`, in key order. Open ends stop at the
    /// scope's own first and last keys.
    pub fn range<'a, 'txn, R>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: &Scope,
        range: &'a R,
    ) -> Result<ScopedIter<'txn, KS, VS>, ScopedDbError>
    where
        R: RangeBounds<KS::RangeItem<'a>>,
    {
        self.iterate(txn, scope, |place| Self::stored_range(place, range), false)
    }

    /// The entries of `scope` whose keys lie in `range`, in reverse key order.
    pub fn rev_range<'a, 'txn, R>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: &Scope,
        range: &'a R,
    ) -> Result<ScopedIter<'txn, KS, VS>, ScopedDbError>
    where
        R: RangeBounds<KS::RangeItem<'a>>,
    {
        self.iterate(txn, scope, |place| Self::stored_range(place, range), true)
    }

    /// The entries of `scope` whose encoded keys start with the encoded `prefix`, in key
    /// order (for `String` keys: the keys that start with `prefix`).
    pub fn prefix_iter<'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: &Scope,
        prefix: &KS::Key,
    ) -> Result<ScopedIter<'txn, KS, VS>, ScopedDbError> {
        self.iterate(
            txn,
            scope,
            |place| Self::stored_prefix(place, prefix),
            false,
        )
    }

    /// The entries of `scope` whose encoded keys start with the encoded `prefix`, in reverse
    /// key order.
    pub fn rev_prefix_iter<'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: &Scope,
        prefix: &KS::Key,
    ) -> Result<ScopedIter<'txn, KS, VS>, ScopedDbError> {
        self.iterate(txn, scope, |place| Self::stored_prefix(place, prefix), true)
    }

    /// [`put`](Self::put) with a scope name (`None`: the default scope).
    pub fn put_with_name(
        &self,
        wtxn: &mut RwTxn<'_>,
        scope: Option<&str>,
        key: &KS::Key,
        value: &VS::Value,
    ) -> Result<(), ScopedDbError> {
        self.put(wtxn, &Scope::from(scope), key, value)
    }

    /// [`get`](Self::get) with a scope name (`None`: the default scope).
    pub fn get_with_name<'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: Option<&str>,
        key: &KS::Key,
    ) -> Result<Option<VS::Decoded<'txn>>, ScopedDbError> {
        self.get(txn, &Scope::from(scope), key)
    }

    /// [`delete`](Self::delete) with a scope name (`None`: the default scope).
    pub fn delete_with_name(
        &self,
        wtxn: &mut RwTxn<'_>,
        scope: Option<&str>,
        key: &KS::Key,
    ) -> Result<bool, ScopedDbError> {
        self.delete(wtxn, &Scope::from(scope), key)
    }

    /// [`clear`](Self::clear) with a scope name (`None`: the default scope).
    pub fn clear_with_name(
        &self,
        wtxn: &mut RwTxn<'_>,
        scope: Option<&str>,
    ) -> Result<(), ScopedDbError> {
        self.clear(wtxn, &Scope::from(scope))
    }

    /// [`iter`](Self::iter) with a scope name (`None`: the default scope).
    pub fn iter_with_name<'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: Option<&str>,
    ) -> Result<ScopedIter<'txn, KS, VS>, ScopedDbError> {
        self.iter(txn, &Scope::from(scope))
    }

    /// [`range`](Self::range) with a scope name (`None`: the default scope).
    pub fn range_with_name<'a, 'txn, R>(
        &self,
        txn: &'txn RoTxn<'_>,
        scope: Option<&str>,
        range: &'a R,
    ) -> Result<ScopedIter<'txn, KS, VS>, ScopedDbError>
    where
        R: RangeBounds<KS::RangeItem<'a>>,
    {
        self.range(txn, &Scope::from(scope), range)
    }
}

impl<KS: ScopedKeyCodec, VS: ScopedValueCodec> ScopeEmptinessChecker for ScopedDb<KS, VS> {
    /// Looks at the data under the scope's hash directly (not through the registry), so a
    /// registered scope is checked whatever the registry says.
    fn is_scope_empty_in_db(&self, txn: &RoTxn<'_>, scope: &Scope) -> Result<bool, ScopedDbError> {
        match scope.checked_hash()? {
            None => Ok(self.default_tree.is_empty(txn)?),
            hash => self.is_prefix_empty(txn, &Place::of(hash)),
        }
    }
}
