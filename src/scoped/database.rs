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
use super::registry::{GlobalScopeRegistry, Resolved, ScopeEmptinessChecker};
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
/// Reads of a named scope consult the registry first, so a name whose hash belongs to another
/// registered name gets [`ScopedDbError::HashCollision`] instead of that scope's data, and a
/// name never registered reads as empty without touching the data. A key in a named scope
/// may be at most [`Env::max_key_size`] minus 4 bytes long (its scope prefix).
pub struct ScopedDb<KS, VS> {
    default_tree: Database<Bytes, Bytes>,
    scoped_tree: Database<Bytes, Bytes>,
    registry: Arc<GlobalScopeRegistry>,
    marker: PhantomData<fn() -> (KS, VS)>,
}

impl<KS, VS> Clone for ScopedDb<KS, VS> {
    fn clone(&self) -> Self {
        ScopedDb {
            default_tree: self.default_tree,
            scoped_tree: self.scoped_tree,
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
            .finish_non_exhaustive()
    }
}

/// The name of the database that holds the named scopes of the scoped database `name`.
pub(crate) fn scoped_tree_name(name: &str) -> String {
    format!("{name}_scoped")
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
    pub fn new(
        env: &Env,
        name: &str,
        registry: Arc<GlobalScopeRegistry>,
    ) -> Result<Self, ScopedDbError> {
        let mut wtxn = env.write_txn()?;
        let database = Self::create(env, name, &mut wtxn, registry)?;
        wtxn.commit()?;
        Ok(database)
    }

    /// Opens or creates the scoped database `name` (the databases `name` and `name_scoped`) in
    /// `wtxn`.
    pub fn create(
        env: &Env,
        name: &str,
        wtxn: &mut RwTxn<'_>,
        registry: Arc<GlobalScopeRegistry>,
    ) -> Result<Self, ScopedDbError> {
        let default_tree = env.create_database(wtxn, Some(name))?;
        let scoped_tree = env.create_database(wtxn, Some(&scoped_tree_name(name)))?;
        Ok(ScopedDb {
            default_tree,
            scoped_tree,
            registry,
            marker: PhantomData,
        })
    }

    /// Opens an existing scoped database without writing; `None` if it does not exist.
    pub fn open(
        env: &Env,
        name: &str,
        rtxn: &RoTxn<'_>,
        registry: Arc<GlobalScopeRegistry>,
    ) -> Result<Option<Self>, ScopedDbError> {
        let default_tree = env.open_database(rtxn, Some(name))?;
        let scoped_tree = env.open_database(rtxn, Some(&scoped_tree_name(name)))?;
        Ok(default_tree
            .zip(scoped_tree)
            .map(|(default_tree, scoped_tree)| ScopedDb {
                default_tree,
                scoped_tree,
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

    /// Where a read of `scope` looks; `None` for a named scope that is not registered (it
    /// holds nothing).
    fn place_for_read(
        &self,
        txn: &RoTxn<'_>,
        scope: &Scope,
    ) -> Result<Option<Place>, ScopedDbError> {
        Ok(match self.registry.resolve(txn, scope)? {
            Resolved::Default => Some(Place::Default),
            Resolved::Registered(hash) => Some(Place::of(Some(hash))),
            Resolved::Unregistered(_) => None,
        })
    }

    /// Where a write to `scope` goes, registering the scope first if needed.
    fn place_for_write(&self, wtxn: &mut RwTxn<'_>, scope: &Scope) -> Result<Place, ScopedDbError> {
        let resolved = self.registry.resolve(wtxn, scope)?;
        if let (Resolved::Unregistered(hash), Some(name)) = (&resolved, scope.name()) {
            // Data under an unregistered hash was left by a scope unregistered while it held
            // data; a new name must not inherit it.
            if !self.is_prefix_empty(wtxn, &Place::of(Some(*hash)))? {
                return Err(ScopedDbError::InvalidInput(format!(
                    "scope {name:?} (hash {hash:#010x}) is not registered, but this database \
                     holds data under its hash: a scope was unregistered while it held data"
                )));
            }
            self.registry.register_scope(wtxn, scope)?;
        }
        Ok(match resolved {
            Resolved::Default => Place::Default,
            Resolved::Registered(hash) | Resolved::Unregistered(hash) => Place::of(Some(hash)),
        })
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

    /// Registers a named scope in the shared registry (done by `put` and `clear` on their own).
    pub fn register_scope(&self, wtxn: &mut RwTxn<'_>, scope: &Scope) -> Result<(), ScopedDbError> {
        self.place_for_write(wtxn, scope).map(drop)
    }

    /// Every scope of the shared registry, the default scope first.
    pub fn list_scopes(&self, txn: &RoTxn<'_>) -> Result<Vec<Scope>, ScopedDbError> {
        self.registry.list_all_scopes(txn)
    }

    /// How many registered named scopes hold no data in this database (scoped-heed's
    /// helper; takes a read or write transaction).
    pub fn find_empty_scopes(&self, txn: &RoTxn<'_>) -> Result<usize, ScopedDbError> {
        let mut empty = 0;
        for scope in self.list_scopes(txn)? {
            if !scope.is_default() && self.is_scope_empty_in_db(txn, &scope)? {
                empty += 1;
            }
        }
        Ok(empty)
    }

    /// The scopes that hold data in this database: the default scope first if it does, then
    /// the named scopes in hash order. Costs one seek per scope, not a scan of the data.
    pub fn scopes_with_data(&self, txn: &RoTxn<'_>) -> Result<Vec<Scope>, ScopedDbError> {
        let mut scopes = Vec::new();
        if !self.default_tree.is_empty(txn)? {
            scopes.push(Scope::Default);
        }
        let mut from = Some(0u32);
        while let Some(start) = from {
            let bounds = (Bound::Included(&start.to_be_bytes()[..]), Bound::Unbounded);
            let Some(entry) = self.scoped_tree.range(txn, &bounds)?.next() else {
                break;
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
            let hash = u32::from_be_bytes(prefix);
            let name = self.registry.get_scope_name(txn, &hash)?.ok_or_else(|| {
                ScopedDbError::InvalidInput(format!(
                    "this database holds data under hash {hash:#010x}, which no scope is registered for"
                ))
            })?;
            scopes.push(Scope::Named { name, hash });
            from = hash.checked_add(1);
        }
        Ok(scopes)
    }

    /// Stores `value` under `key` in `scope`, registering the scope if it is new.
    pub fn put(
        &self,
        wtxn: &mut RwTxn<'_>,
        scope: &Scope,
        key: &KS::Key,
        value: &VS::Value,
    ) -> Result<(), ScopedDbError> {
        let place = self.place_for_write(wtxn, scope)?;
        let key = place.key_with(|out| KS::encode_key(key, out))?;
        let value = VS::encode_value(value)?;
        self.tree(&place).put(wtxn, &key, &value)?;
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

    /// Deletes `key` from `scope`; returns whether it was there.
    pub fn delete(
        &self,
        wtxn: &mut RwTxn<'_>,
        scope: &Scope,
        key: &KS::Key,
    ) -> Result<bool, ScopedDbError> {
        let Some(place) = self.place_for_read(wtxn, scope)? else {
            return Ok(false);
        };
        let key = place.key_with(|out| KS::encode_key(key, out))?;
        Ok(self.tree(&place).delete(wtxn, &key)?)
    }

    /// Deletes every entry of `scope` and nothing else (registering the scope if it is new,
    /// as scoped-heed does). Costs O(entries in the scope).
    pub fn clear(&self, wtxn: &mut RwTxn<'_>, scope: &Scope) -> Result<(), ScopedDbError> {
        match self.place_for_write(wtxn, scope)? {
            Place::Default => self.default_tree.clear(wtxn)?,
            place => {
                let (start, end) = Self::whole_scope(&place);
                self.scoped_tree
                    .delete_range(wtxn, &(borrowed(&start), borrowed(&end)))?;
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
