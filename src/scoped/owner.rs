//! Owner records: which name owns a scope hash's data in each scoped database.
//!
//! The registry alone cannot say whose data lies under a hash once the name is unregistered
//! (by hand, or by pruning with only some of the databases): the data would have to be hidden
//! from every name, since another name with the same hash may register next. So each scoped
//! database that holds data under a hash has an owner record naming the owner, written in the
//! same transaction as the first entry and removed with the last. Reads and writes by that
//! name go on whether or not it is still registered; any other name with that hash is a
//! [`ScopedDbError::HashCollision`].
//!
//! The records live in the registry's database, under keys longer than a registration's:
//!
//! | key | value |
//! |---|---|
//! | `hash` (4 bytes, big-endian) | the registered name |
//! | `hash ++ NAME_scoped` (the scoped tree's name, UTF-8) | the owner of that tree's keys under `hash` |
//!
//! Not inside the scope's own key range: every byte string is a valid user key after the
//! prefix (the empty key too), so no key there is free for a record. Not in a database of its
//! own: that would take one more of the environment's `max_dbs`.

use std::ops::Bound;

use crate::types::Bytes;
use crate::{Database, RoTxn, RwTxn};

use super::error::ScopedDbError;

/// The length of a registration's key: the big-endian hash.
pub(crate) const HASH_LEN: usize = 4;

/// The key of `hash`'s owner record for the scoped tree `tree`.
fn owner_key(hash: u32, tree: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(HASH_LEN + tree.len());
    key.extend_from_slice(&hash.to_be_bytes());
    key.extend_from_slice(tree.as_bytes());
    key
}

/// A name read from the registry's database.
pub(crate) fn decode_name(bytes: &[u8]) -> Result<&str, ScopedDbError> {
    std::str::from_utf8(bytes).map_err(|_| {
        ScopedDbError::InvalidInput("the scope registry holds a name that is not UTF-8".into())
    })
}

/// What the registry's database records about one hash, borrowed from a transaction.
#[derive(Debug, Default)]
pub(crate) struct HashRecords<'txn> {
    /// The registered name; looked up only when the tree asked about has no owner record, as
    /// otherwise that record decides.
    pub(crate) registered: Option<&'txn str>,
    /// The owner of the hash's data in the scoped tree asked about.
    pub(crate) owner_here: Option<&'txn str>,
    /// The owner of the hash's data in some other scoped tree; looked up only when neither
    /// of the above exists, as only then does it decide.
    pub(crate) owner_elsewhere: Option<&'txn str>,
}

impl HashRecords<'_> {
    /// The name that owns the hash as seen from the tree asked about: the owner of its data
    /// there, else the registered name, else the owner of its data in another tree. Every
    /// other name with this hash is refused.
    pub(crate) fn owner(&self) -> Option<&str> {
        self.owner_here.or(self.registered).or(self.owner_elsewhere)
    }

    /// Whether the tree's keys under the hash, if there are any, belong to the owner: they do
    /// when the tree has an owner record, or when they have none (written before owner
    /// records existed) and the hash is registered, as it was when they were written.
    pub(crate) fn vouches_for_data_here(&self) -> bool {
        self.owner_here.is_some() || self.registered.is_some()
    }
}

/// Reads the records of `hash` that decide who owns it as seen from the scoped tree `tree`
/// (`None`: from no tree in particular): the tree's owner record, else the registration, else
/// (a new scope, or one unregistered with no data here) the first of the hash's other owner
/// records. One lookup for a scope with data in the tree.
pub(crate) fn records_of<'txn>(
    records: Database<Bytes, Bytes>,
    txn: &'txn RoTxn<'_>,
    hash: u32,
    tree: Option<&str>,
) -> Result<HashRecords<'txn>, ScopedDbError> {
    let mut found = HashRecords::default();
    if let Some(tree) = tree {
        if let Some(name) = records.get(txn, &owner_key(hash, tree))? {
            found.owner_here = Some(decode_name(name)?);
            return Ok(found);
        }
    }
    if let Some(name) = records.get(txn, &hash.to_be_bytes())? {
        found.registered = Some(decode_name(name)?);
    }
    if found.owner().is_some() {
        return Ok(found);
    }
    let start = hash.to_be_bytes();
    let end = hash.checked_add(1).map(u32::to_be_bytes);
    let bounds = (
        Bound::Excluded(&start[..]),
        end.as_ref()
            .map_or(Bound::Unbounded, |end| Bound::Excluded(&end[..])),
    );
    for entry in records.range(txn, &bounds)? {
        let (key, value) = entry?;
        // Past the 4-byte registration every key of the range is an owner record, except
        // shorter keys a foreign file could hold there.
        if key.len() > HASH_LEN {
            found.owner_elsewhere = Some(decode_name(value)?);
            break;
        }
    }
    Ok(found)
}
/// Records `name` as the owner of `tree`'s keys under `hash`.
pub(crate) fn record_owner(
    records: Database<Bytes, Bytes>,
    wtxn: &mut RwTxn<'_>,
    hash: u32,
    tree: &str,
    name: &str,
) -> Result<(), ScopedDbError> {
    records.put(wtxn, &owner_key(hash, tree), name.as_bytes())?;
    Ok(())
}

/// Removes the owner record of `tree`'s keys under `hash` (nothing if there is none).
pub(crate) fn forget_owner(
    records: Database<Bytes, Bytes>,
    wtxn: &mut RwTxn<'_>,
    hash: u32,
    tree: &str,
) -> Result<(), ScopedDbError> {
    records.delete(wtxn, &owner_key(hash, tree))?;
    Ok(())
}
