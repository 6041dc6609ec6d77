//! Owner records: which name owns a scope hash's data in each scoped database.
//!
//! The registry alone cannot say whose data lies under a hash once the name is unregistered
//! (by hand, or by pruning with only some of the databases): the data would have to be hidden
//! from every name, since another name with the same hash may register next. So each scoped
//! database that holds data under a hash has an owner record naming the owner, written in the
//! same transaction as the first entry and removed with the last. Reads and writes by that
//! name go on whether or not it is still registered; any other name with that hash is a
//! [`ScopedDbError::HashCollision`], as long as the record's tree still holds keys under the
//! hash (a record left behind by raw operations on the tree blocks no one, see
//! [`HashRecords::stale`]).
//!
//! The records live in the registry's database, under keys longer than a registration's:
//!
//! | key | value |
//! |---|---|
//! | `hash` (4 bytes, big-endian) | the registered name |
//! | `hash ++ NAME_scoped` (the scoped tree's name, UTF-8) | the owner of that tree's keys under `hash`, preceded by the byte `0xFF` while the owner is not registered |
//!
//! `0xFF` never occurs in UTF-8, so the two forms cannot be confused; it lets a `put` by the
//! owner learn from the one record it reads whether it must register the scope again.
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

/// The first byte of an owner record's value while its owner is not registered.
const UNLISTED: u8 = 0xFF;

/// Owner-record keys up to this length are built on the stack.
const INLINE_KEY_LEN: usize = 64;

/// The key of a hash's owner record for one scoped tree, built without allocating for tree
/// names of up to 60 bytes (the common case, on every scoped read and write).
pub(crate) enum OwnerKey {
    Inline {
        bytes: [u8; INLINE_KEY_LEN],
        len: usize,
    },
    Heap(Vec<u8>),
}

impl OwnerKey {
    /// The key of `hash`'s owner record for the scoped tree `tree`.
    pub(crate) fn new(hash: u32, tree: &str) -> OwnerKey {
        let len = HASH_LEN + tree.len();
        if len <= INLINE_KEY_LEN {
            let mut bytes = [0; INLINE_KEY_LEN];
            bytes[..HASH_LEN].copy_from_slice(&hash.to_be_bytes());
            bytes[HASH_LEN..len].copy_from_slice(tree.as_bytes());
            OwnerKey::Inline { bytes, len }
        } else {
            let mut key = Vec::with_capacity(len);
            key.extend_from_slice(&hash.to_be_bytes());
            key.extend_from_slice(tree.as_bytes());
            OwnerKey::Heap(key)
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            OwnerKey::Inline { bytes, len } => &bytes[..*len],
            OwnerKey::Heap(key) => key,
        }
    }
}

/// A name read from the registry's database.
pub(crate) fn decode_name(bytes: &[u8]) -> Result<&str, ScopedDbError> {
    std::str::from_utf8(bytes).map_err(|_| {
        ScopedDbError::InvalidInput("the scope registry holds a name that is not UTF-8".into())
    })
}

/// An owner record's value: the owner, and whether it was registered when last written.
fn decode_record(bytes: &[u8]) -> Result<Record<'_>, ScopedDbError> {
    Ok(match bytes.split_first() {
        Some((&UNLISTED, name)) => Record {
            name: decode_name(name)?,
            listed: false,
        },
        _ => Record {
            name: decode_name(bytes)?,
            listed: true,
        },
    })
}

/// An owner record read from the registry's database.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'txn> {
    /// The name that owns the tree's keys under the hash.
    pub(crate) name: &'txn str,
    /// Whether the name is registered (so a write by it need not register it).
    pub(crate) listed: bool,
}

/// A scoped tree as the owner records name it, with a handle on it.
#[derive(Clone, Copy)]
pub(crate) struct TreeRef<'a> {
    pub(crate) name: &'a str,
    pub(crate) tree: Database<Bytes, Bytes>,
}

/// Opens the database `name` as it exists in `txn` (the owner records name trees that the
/// caller may hold no handle on); `None` if it does not exist there.
pub(crate) fn open_tree(
    txn: &RoTxn<'_>,
    name: &str,
) -> Result<Option<Database<Bytes, Bytes>>, ScopedDbError> {
    Ok(txn
        .open_tree(
            Some(name),
            &crate::txn::shape::DatabaseShape::byte_ordered(),
        )?
        .map(|dbi| Database::new(txn.env_id(), dbi)))
}

/// The hashes that have owner records in the registry database `records`, ascending, once
/// each (keys longer than a registration's 4 bytes are records).
pub(crate) fn hashes_with_records(
    records: Database<Bytes, Bytes>,
    txn: &RoTxn<'_>,
) -> Result<Vec<u32>, ScopedDbError> {
    let mut hashes = Vec::new();
    for entry in records.iter(txn)? {
        let (key, _) = entry?;
        if key.len() > HASH_LEN {
            let hash = u32::from_be_bytes([key[0], key[1], key[2], key[3]]);
            if hashes.last() != Some(&hash) {
                hashes.push(hash);
            }
        }
    }
    Ok(hashes)
}

/// The bounds of every key that starts with `hash`: `[hash, hash + 1)`, to the end after
/// `u32::MAX`.
pub(crate) fn hash_range(hash: u32) -> ([u8; HASH_LEN], Option<[u8; HASH_LEN]>) {
    (
        hash.to_be_bytes(),
        hash.checked_add(1).map(u32::to_be_bytes),
    )
}

/// Whether `tree` holds a key that starts with `hash`.
pub(crate) fn holds_hash(
    txn: &RoTxn<'_>,
    tree: Database<Bytes, Bytes>,
    hash: u32,
) -> Result<bool, ScopedDbError> {
    let (start, end) = hash_range(hash);
    let bounds = (
        Bound::Included(&start[..]),
        end.as_ref()
            .map_or(Bound::Unbounded, |end| Bound::Excluded(&end[..])),
    );
    Ok(tree.range(txn, &bounds)?.next().transpose()?.is_some())
}

/// Whether the scoped tree called `name` exists and holds keys under `hash`.
fn named_tree_holds_hash(txn: &RoTxn<'_>, name: &str, hash: u32) -> Result<bool, ScopedDbError> {
    match open_tree(txn, name)? {
        Some(tree) => holds_hash(txn, tree, hash),
        None => Ok(false),
    }
}

/// A raw entry of the registry's database: key and value.
type RawEntry<'txn> = (&'txn [u8], &'txn [u8]);

/// Every owner record of `hash` (keys past the 4-byte registration), as (key, value).
pub(crate) fn records_of_hash<'txn>(
    records: Database<Bytes, Bytes>,
    txn: &'txn RoTxn<'_>,
    hash: u32,
) -> Result<Vec<RawEntry<'txn>>, ScopedDbError> {
    let (start, end) = hash_range(hash);
    let bounds = (
        Bound::Excluded(&start[..]),
        end.as_ref()
            .map_or(Bound::Unbounded, |end| Bound::Excluded(&end[..])),
    );
    let mut found = Vec::new();
    for entry in records.range(txn, &bounds)? {
        let (key, value) = entry?;
        // Past the registration every key of the range is an owner record, except shorter
        // keys a foreign file could hold there.
        if key.len() > HASH_LEN {
            found.push((key, value));
        }
    }
    Ok(found)
}

/// What the registry's database records about one hash, borrowed from a transaction.
#[derive(Debug, Default)]
pub(crate) struct HashRecords<'txn> {
    /// The registered name; looked up only when the tree asked about has no record for the
    /// name asking, as otherwise that record decides.
    pub(crate) registered: Option<&'txn str>,
    /// The owner record of the tree asked about: the asking name's, or another name's whose
    /// keys are still there.
    pub(crate) owner_here: Option<Record<'txn>>,
    /// The owner of the hash's data in some other scoped tree that still holds keys under
    /// it; looked up only when neither of the above exists, as only then does it decide.
    pub(crate) owner_elsewhere: Option<&'txn str>,
    /// Keys of records met on the way whose tree holds no keys under the hash (left behind
    /// by raw operations on the tree, by dropping it, or by an older release's `delete` and
    /// `clear`): they block no one, and the next write removes them.
    pub(crate) stale: Vec<Vec<u8>>,
}

impl HashRecords<'_> {
    /// The name that owns the hash as seen from the tree asked about: the owner of its data
    /// there, else the registered name, else the owner of its data in another tree. Every
    /// other name with this hash is refused.
    pub(crate) fn owner(&self) -> Option<&str> {
        self.owner_here
            .map(|record| record.name)
            .or(self.registered)
            .or(self.owner_elsewhere)
    }
}

/// Reads the records of `hash` that decide who owns it as seen by `asking` from the scoped
/// tree `here` (`None`: from no tree in particular): the tree's owner record, else the
/// registration, else (a new scope, or one unregistered with no data here) the first of the
/// hash's other owner records whose tree still holds keys under the hash. One lookup when
/// `asking` has a record here, without allocating.
pub(crate) fn records_of<'txn>(
    records: Database<Bytes, Bytes>,
    txn: &'txn RoTxn<'_>,
    hash: u32,
    here: Option<TreeRef<'_>>,
    asking: &str,
) -> Result<HashRecords<'txn>, ScopedDbError> {
    let mut found = HashRecords::default();
    if let Some(here) = here {
        let key = OwnerKey::new(hash, here.name);
        if let Some(value) = records.get(txn, key.as_bytes())? {
            let record = decode_record(value)?;
            if record.name == asking || holds_hash(txn, here.tree, hash)? {
                found.owner_here = Some(record);
                return Ok(found);
            }
            found.stale.push(key.as_bytes().to_vec());
        }
    }
    if let Some(name) = records.get(txn, &hash.to_be_bytes())? {
        found.registered = Some(decode_name(name)?);
        return Ok(found);
    }
    for (key, value) in records_of_hash(records, txn, hash)? {
        let tree = std::str::from_utf8(&key[HASH_LEN..]).map_err(|_| {
            ScopedDbError::InvalidInput(
                "the scope registry holds an owner record whose tree name is not UTF-8".into(),
            )
        })?;
        if here.is_some_and(|here| here.name == tree) {
            continue;
        }
        if named_tree_holds_hash(txn, tree, hash)? {
            found.owner_elsewhere = Some(decode_record(value)?.name);
            break;
        }
        found.stale.push(key.to_vec());
    }
    Ok(found)
}

/// The owner record of the scoped tree `tree`'s keys under `hash`, if there is one.
pub(crate) fn record_of<'txn>(
    records: Database<Bytes, Bytes>,
    txn: &'txn RoTxn<'_>,
    hash: u32,
    tree: &str,
) -> Result<Option<Record<'txn>>, ScopedDbError> {
    records
        .get(txn, OwnerKey::new(hash, tree).as_bytes())?
        .map(decode_record)
        .transpose()
}

/// Removes the records of `hash` whose trees hold no keys under it (see
/// [`HashRecords::stale`]); returns how many.
pub(crate) fn forget_stale_records(
    records: Database<Bytes, Bytes>,
    wtxn: &mut RwTxn<'_>,
    hash: u32,
) -> Result<usize, ScopedDbError> {
    let mut stale = Vec::new();
    for (key, _) in records_of_hash(records, wtxn, hash)? {
        let live = match std::str::from_utf8(&key[HASH_LEN..]) {
            Ok(tree) => named_tree_holds_hash(wtxn, tree, hash)?,
            // Not a tree's name: not ours to judge.
            Err(_) => true,
        };
        if !live {
            stale.push(key.to_vec());
        }
    }
    for key in &stale {
        records.delete(wtxn, key)?;
    }
    Ok(stale.len())
}

/// Rewrites `hash`'s owner records naming `name` (or every record, with `None`) to say
/// whether their owner is registered.
pub(crate) fn mark_listed(
    records: Database<Bytes, Bytes>,
    wtxn: &mut RwTxn<'_>,
    hash: u32,
    name: Option<&str>,
    listed: bool,
) -> Result<(), ScopedDbError> {
    let mut rewrite = Vec::new();
    for (key, value) in records_of_hash(records, wtxn, hash)? {
        let record = decode_record(value)?;
        if record.listed != listed && name.is_none_or(|name| name == record.name) {
            rewrite.push((key.to_vec(), record_value(record.name, listed)));
        }
    }
    for (key, value) in &rewrite {
        records.put(wtxn, key, value)?;
    }
    Ok(())
}

/// An owner record's value.
fn record_value(name: &str, listed: bool) -> Vec<u8> {
    let mut value = Vec::with_capacity(name.len() + 1);
    if !listed {
        value.push(UNLISTED);
    }
    value.extend_from_slice(name.as_bytes());
    value
}

/// Records `name`, registered, as the owner of `tree`'s keys under `hash`.
pub(crate) fn record_owner(
    records: Database<Bytes, Bytes>,
    wtxn: &mut RwTxn<'_>,
    hash: u32,
    tree: &str,
    name: &str,
) -> Result<(), ScopedDbError> {
    records.put(wtxn, OwnerKey::new(hash, tree).as_bytes(), name.as_bytes())?;
    Ok(())
}

/// Removes the owner record of `tree`'s keys under `hash` (nothing if there is none).
pub(crate) fn forget_owner(
    records: Database<Bytes, Bytes>,
    wtxn: &mut RwTxn<'_>,
    hash: u32,
    tree: &str,
) -> Result<(), ScopedDbError> {
    records.delete(wtxn, OwnerKey::new(hash, tree).as_bytes())?;
    Ok(())
}
