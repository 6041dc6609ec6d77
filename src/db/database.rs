//! [`Database`]: a typed handle on one database, with heed's methods.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};

use super::codec::{BytesDecode, BytesEncode};
use super::comparator::{Comparator, DefaultComparator};
use super::iter::{Direction, Moves, RawIter, RoIter, RoRange, RoRevIter, RoRevRange};
use super::iteration_method::MoveOnCurrentKeyDuplicates;
use crate::btree::dup_write::PairPut;
use crate::btree::mutate::PutMode;
use crate::error::{Error, MdbError, Result};
use crate::flags::PutFlags;
use crate::page::meta::{TreeFlags, TreeInfo};
use crate::txn::{RoTxn, RwTxn};

/// A typed handle on one database of an environment, from
/// [`Env::create_database`](crate::Env::create_database) or
/// [`Env::open_database`](crate::Env::open_database). It is `Copy`; the codecs `KC` and `DC`
/// encode and decode keys and values.
///
/// Keys are ordered by the comparator `C` the database was created with: byte-wise
/// (lexicographically, shorter first on a shared prefix) unless it was created with another
/// ([`DatabaseOpenOptions::key_comparator`](crate::DatabaseOpenOptions::key_comparator),
/// or the flags [`INTEGER_KEY`](crate::DatabaseFlags::INTEGER_KEY) and
/// [`REVERSE_KEY`](crate::DatabaseFlags::REVERSE_KEY)). `CDUP` is heed's comparator of
/// duplicate values, kept so heed's types compile.
///
/// ```
/// use arbordb::types::{Str, Bytes};
/// # fn main() -> Result<(), arbordb::Error> {
/// # let dir = tempfile::tempdir().unwrap();
/// let env = unsafe { arbordb::EnvOpenOptions::new().open(dir.path())? };
/// let mut wtxn = env.write_txn()?;
/// let db = env.create_database::<Str, Bytes>(&mut wtxn, Some("fruits"))?;
/// db.put(&mut wtxn, "apple", b"red")?;
/// wtxn.commit()?;
///
/// let rtxn = env.read_txn()?;
/// assert_eq!(db.get(&rtxn, "apple")?, Some(&b"red"[..]));
/// # Ok(()) }
/// ```
pub struct Database<KC, DC, C = DefaultComparator, CDUP = DefaultComparator> {
    env_id: u64,
    dbi: u32,
    marker: Types<KC, DC, C, CDUP>,
}

impl<KC, DC, C, CDUP> Clone for Database<KC, DC, C, CDUP> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<KC, DC, C, CDUP> Copy for Database<KC, DC, C, CDUP> {}

impl<KC, DC, C, CDUP> std::fmt::Debug for Database<KC, DC, C, CDUP> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("dbi", &self.dbi)
            .field("key_comparator", &std::any::type_name::<C>())
            .finish_non_exhaustive()
    }
}

/// Statistics of one database's tree, as LMDB's `MDB_stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseStat {
    /// Size of a page in bytes.
    pub page_size: u32,
    /// Levels of the tree (0 when empty).
    pub depth: u32,
    /// Interior pages.
    pub branch_pages: usize,
    /// Leaf pages.
    pub leaf_pages: usize,
    /// Pages of overflow runs (large values).
    pub overflow_pages: usize,
    /// Entries.
    pub entries: usize,
}

impl DatabaseStat {
    pub(crate) fn of(tree: &TreeInfo, page_size: usize) -> DatabaseStat {
        DatabaseStat {
            page_size: page_size as u32,
            depth: tree.depth,
            branch_pages: tree.branch_pages as usize,
            leaf_pages: tree.leaf_pages as usize,
            overflow_pages: tree.overflow_pages as usize,
            entries: tree.entries as usize,
        }
    }
}

/// The types a handle or builder carries and never holds: codecs and comparators.
pub(super) type Types<KC, DC, C, CDUP> = PhantomData<fn() -> (KC, DC, C, CDUP)>;

pub(super) fn encode<'a, C: BytesEncode<'a>>(item: &'a C::EItem) -> Result<Cow<'a, [u8]>> {
    C::bytes_encode(item).map_err(Error::Encoding)
}

fn encode_bound<'a, C: BytesEncode<'a>>(bound: Bound<&'a C::EItem>) -> Result<Bound<Vec<u8>>> {
    Ok(match bound {
        Bound::Included(item) => Bound::Included(encode::<C>(item)?.into_owned()),
        Bound::Excluded(item) => Bound::Excluded(encode::<C>(item)?.into_owned()),
        Bound::Unbounded => Bound::Unbounded,
    })
}

/// Both bounds of a range, encoded.
pub(super) type EncodedRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// Encodes both bounds of a range.
pub(super) fn encode_range<'a, C: BytesEncode<'a>, R: RangeBounds<C::EItem>>(
    range: &'a R,
) -> Result<EncodedRange> {
    Ok((
        encode_bound::<C>(range.start_bound())?,
        encode_bound::<C>(range.end_bound())?,
    ))
}

impl<KC, DC, C, CDUP> Database<KC, DC, C, CDUP> {
    pub(crate) fn env_id(&self) -> u64 {
        self.env_id
    }

    pub(crate) fn dbi(&self) -> u32 {
        self.dbi
    }

    pub(crate) fn new(env_id: u64, dbi: u32) -> Self {
        Database {
            env_id,
            dbi,
            marker: PhantomData,
        }
    }

    /// The same database with the default comparator types, for the iterators (the order a
    /// tree is searched in comes from the database, not from the handle's types).
    pub(super) fn erased(&self) -> Database<KC, DC> {
        Database::new(self.env_id, self.dbi)
    }

    pub(super) fn tree(&self, txn: &RoTxn<'_>) -> Result<TreeInfo> {
        txn.check_env(self.env_id)?;
        txn.tree(self.dbi)
    }

    /// Refuses prefix iteration unless the database's keys are in the lexicographic order
    /// `C` computes the prefix's bounds in: byte-wise for the default comparator, else `C`'s
    /// own (a handle opened without options takes the database's order, whatever it is).
    pub(super) fn check_lexicographic(&self, txn: &RoTxn<'_>) -> Result<()>
    where
        C: Comparator,
    {
        let flags = self.tree(txn)?.flags;
        let recorded = txn
            .custom_orders(self.dbi)
            .and_then(|custom| custom.names.keys.clone());
        let matches = if flags.contains(TreeFlags::CUSTOM_KEY_ORDER) {
            recorded.as_deref() == Some(C::name().as_str())
        } else {
            !flags.contains(TreeFlags::INTEGER_KEY)
                && !flags.contains(TreeFlags::REVERSE_KEY)
                && C::name() == DefaultComparator::name()
        };
        if !matches {
            return Err(Error::Mdb(MdbError::IncompatibleDatabase {
                name: txn.database_name(self.dbi),
                reason: format!(
                    "prefix iteration computes bounds in the order of {}, and this database's keys are in another",
                    C::name()
                ),
            }));
        }
        Ok(())
    }

    /// The value of `key` (its first, in a duplicate-sorted database), or `None`. The value
    /// borrows from the transaction.
    pub fn get<'a, 'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        key: &'a KC::EItem,
    ) -> Result<Option<DC::DItem>>
    where
        KC: BytesEncode<'a>,
        DC: BytesDecode<'txn>,
    {
        txn.check_env(self.env_id)?;
        let key = encode::<KC>(key)?;
        match txn.get(self.dbi, &key)? {
            Some(bytes) => Ok(Some(DC::bytes_decode(bytes).map_err(Error::Decoding)?)),
            None => Ok(None),
        }
    }

    /// Stores `data` under `key`, replacing any value.
    pub fn put<'a>(
        &self,
        txn: &mut RwTxn<'_>,
        key: &'a KC::EItem,
        data: &'a DC::EItem,
    ) -> Result<()>
    where
        KC: BytesEncode<'a>,
        DC: BytesEncode<'a>,
    {
        self.put_with_flags(txn, PutFlags::empty(), key, data)
    }

    /// Stores `data` under `key` as `flags` say: with [`PutFlags::NO_OVERWRITE`] an existing key is
    /// [`MdbError::KeyExist`](crate::MdbError::KeyExist) (and is left unchanged); with
    /// [`PutFlags::APPEND`] the key must sort after every key of the database, else
    /// [`MdbError::KeyExist`](crate::MdbError::KeyExist).
    pub fn put_with_flags<'a>(
        &self,
        txn: &mut RwTxn<'_>,
        flags: PutFlags,
        key: &'a KC::EItem,
        data: &'a DC::EItem,
    ) -> Result<()>
    where
        KC: BytesEncode<'a>,
        DC: BytesEncode<'a>,
    {
        txn.check_env(self.env_id)?;
        let key = encode::<KC>(key)?;
        let data = encode::<DC>(data)?;
        let dup_sort = self.is_dup_sort(txn)?;
        put_encoded(txn, self.dbi, dup_sort, flags, &key, &data)
    }

    /// Whether the database keeps several values per key
    /// ([`DatabaseFlags::DUP_SORT`](crate::DatabaseFlags::DUP_SORT)).
    pub(super) fn is_dup_sort(&self, txn: &RoTxn<'_>) -> Result<bool> {
        Ok(self.tree(txn)?.flags.contains(TreeFlags::DUP_SORT))
    }

    /// The values of `key`, in their order, or `None` if it has none. In a database without
    /// [`DUP_SORT`](crate::DatabaseFlags::DUP_SORT), its one value.
    pub fn get_duplicates<'a, 'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        key: &'a KC::EItem,
    ) -> Result<Option<RoIter<'txn, KC, DC, MoveOnCurrentKeyDuplicates>>>
    where
        KC: BytesEncode<'a>,
    {
        txn.check_env(self.env_id)?;
        let key = encode::<KC>(key)?;
        // One seek; the walk then stays among the key's values.
        let mut cursor = txn.cursor(self.dbi)?;
        cursor.seek_after(&key, true)?;
        match cursor.current()? {
            Some((found, _)) if cursor.key_order().compare(found, &key).is_eq() => {}
            _ => return Ok(None),
        }
        let mut raw = RawIter::new(cursor, Direction::Forward, Bound::Unbounded);
        raw.set_moves(Moves::ValuesOfKey);
        Ok(Some(RoIter::new(raw)))
    }

    /// Deletes the pair `(key, data)` only, leaving the key's other values. Returns whether
    /// it existed. In a database without [`DUP_SORT`](crate::DatabaseFlags::DUP_SORT),
    /// deletes `key` if its value is `data`.
    pub fn delete_one_duplicate<'a>(
        &self,
        txn: &mut RwTxn<'_>,
        key: &'a KC::EItem,
        data: &'a DC::EItem,
    ) -> Result<bool>
    where
        KC: BytesEncode<'a>,
        DC: BytesEncode<'a>,
    {
        txn.check_env(self.env_id)?;
        let key = encode::<KC>(key)?;
        let data = encode::<DC>(data)?;
        txn.delete_pair(self.dbi, &key, &data)
    }

    /// Deletes `key` (with all its values, in a duplicate-sorted database). Returns whether it
    /// existed.
    pub fn delete<'a>(&self, txn: &mut RwTxn<'_>, key: &'a KC::EItem) -> Result<bool>
    where
        KC: BytesEncode<'a>,
    {
        txn.check_env(self.env_id)?;
        let key = encode::<KC>(key)?;
        txn.delete(self.dbi, &key)
    }

    /// Deletes every entry, freeing the database's pages.
    pub fn clear(&self, txn: &mut RwTxn<'_>) -> Result<()> {
        txn.check_env(self.env_id)?;
        txn.clear(self.dbi)
    }

    /// The number of entries (kept in the tree descriptor: no scan); in a duplicate-sorted
    /// database, of pairs.
    pub fn len(&self, txn: &RoTxn<'_>) -> Result<u64> {
        Ok(self.tree(txn)?.entries)
    }

    /// Whether the database has no entry.
    pub fn is_empty(&self, txn: &RoTxn<'_>) -> Result<bool> {
        Ok(self.len(txn)? == 0)
    }

    /// Statistics of the database's tree.
    pub fn stat(&self, txn: &RoTxn<'_>) -> Result<DatabaseStat> {
        Ok(DatabaseStat::of(&self.tree(txn)?, txn.env.page_size()))
    }

    pub(super) fn raw_iter<'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        start: Bound<&[u8]>,
        end: Bound<Vec<u8>>,
        direction: Direction,
    ) -> Result<RawIter<'txn>> {
        txn.check_env(self.env_id)?;
        let mut cursor = match (&start, &end) {
            // A whole walk compares no keys, and works without the database's comparators.
            (Bound::Unbounded, Bound::Unbounded) => txn.walk_cursor(self.dbi)?,
            _ => txn.cursor(self.dbi)?,
        };
        match (direction, start) {
            (Direction::Forward, Bound::Unbounded) => cursor.seek_first()?,
            (Direction::Forward, Bound::Included(key)) => cursor.seek_after(key, true)?,
            (Direction::Forward, Bound::Excluded(key)) => cursor.seek_after(key, false)?,
            (Direction::Backward, Bound::Unbounded) => cursor.seek_last()?,
            (Direction::Backward, Bound::Included(key)) => cursor.seek_before(key, true)?,
            (Direction::Backward, Bound::Excluded(key)) => cursor.seek_before(key, false)?,
        }
        Ok(RawIter::new(cursor, direction, end))
    }

    /// The first entry in key order.
    pub fn first<'txn>(&self, txn: &'txn RoTxn<'_>) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
    {
        self.iter(txn)?.next().transpose()
    }

    /// The last entry in key order.
    pub fn last<'txn>(&self, txn: &'txn RoTxn<'_>) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
    {
        self.rev_iter(txn)?.next().transpose()
    }

    /// Every entry in key order.
    pub fn iter<'txn>(&self, txn: &'txn RoTxn<'_>) -> Result<RoIter<'txn, KC, DC>> {
        Ok(RoIter::new(self.raw_iter(
            txn,
            Bound::Unbounded,
            Bound::Unbounded,
            Direction::Forward,
        )?))
    }

    /// Every entry in reverse key order.
    pub fn rev_iter<'txn>(&self, txn: &'txn RoTxn<'_>) -> Result<RoRevIter<'txn, KC, DC>> {
        Ok(RoRevIter::new(self.raw_iter(
            txn,
            Bound::Unbounded,
            Bound::Unbounded,
            Direction::Backward,
        )?))
    }

    /// The entries whose keys lie in `range`, in key order. An empty or inverted range yields
    /// nothing.
    pub fn range<'a, 'txn, R>(
        &self,
        txn: &'txn RoTxn<'_>,
        range: &'a R,
    ) -> Result<RoRange<'txn, KC, DC>>
    where
        KC: BytesEncode<'a>,
        R: RangeBounds<KC::EItem>,
    {
        let (start, end) = encode_range::<KC, R>(range)?;
        Ok(RoRange::new(self.raw_iter(
            txn,
            as_ref(&start),
            end,
            Direction::Forward,
        )?))
    }

    /// The entries whose keys lie in `range`, in reverse key order.
    pub fn rev_range<'a, 'txn, R>(
        &self,
        txn: &'txn RoTxn<'_>,
        range: &'a R,
    ) -> Result<RoRevRange<'txn, KC, DC>>
    where
        KC: BytesEncode<'a>,
        R: RangeBounds<KC::EItem>,
    {
        let (start, end) = encode_range::<KC, R>(range)?;
        Ok(RoRevRange::new(self.raw_iter(
            txn,
            as_ref(&end),
            start,
            Direction::Backward,
        )?))
    }

    /// The same database with other codecs.
    pub fn remap_types<KC2, DC2>(&self) -> Database<KC2, DC2, C, CDUP> {
        Database::new(self.env_id, self.dbi)
    }

    /// The same database with another key codec.
    pub fn remap_key_type<KC2>(&self) -> Database<KC2, DC, C, CDUP> {
        self.remap_types()
    }

    /// The same database, decoding values lazily: reads return a
    /// [`Lazy`](crate::types::Lazy) to decode when (and if) needed.
    pub fn lazily_decode_data(&self) -> Database<KC, crate::types::LazyDecode<DC>, C, CDUP> {
        self.remap_types()
    }

    /// The same database with another data codec.
    pub fn remap_data_type<DC2>(&self) -> Database<KC, DC2, C, CDUP> {
        self.remap_types()
    }
}

/// Stores an encoded pair as `flags` say, by the rules of [`Database::put_with_flags`] (in a
/// duplicate-sorted database, those of each [`PairPut`]).
pub(super) fn put_encoded(
    txn: &mut RwTxn<'_>,
    dbi: u32,
    dup_sort: bool,
    flags: PutFlags,
    key: &[u8],
    data: &[u8],
) -> Result<()> {
    if dup_sort {
        let append = flags.contains(PutFlags::APPEND);
        let append_dup = flags.contains(PutFlags::APPEND_DUP);
        let mode = if append && append_dup {
            PairPut::AppendPairs
        } else if append {
            PairPut::Append
        } else if flags.contains(PutFlags::NO_OVERWRITE) {
            PairPut::NoOverwrite
        } else if append_dup {
            PairPut::AppendDup
        } else if flags.contains(PutFlags::NO_DUP_DATA) {
            PairPut::NoDupData
        } else {
            PairPut::Add
        };
        return txn.put_pair(dbi, key, data, mode).map(|_existed| ());
    }
    if flags.contains(PutFlags::NO_DUP_DATA) || flags.contains(PutFlags::APPEND_DUP) {
        return Err(Error::Mdb(MdbError::InvalidOption {
            reason: "NO_DUP_DATA and APPEND_DUP are for databases created with DUP_SORT".to_owned(),
        }));
    }
    let mode = if flags.contains(PutFlags::APPEND) {
        PutMode::Append
    } else if flags.contains(PutFlags::NO_OVERWRITE) {
        PutMode::NoOverwrite
    } else {
        PutMode::Overwrite
    };
    txn.put(dbi, key, data, mode).map(|_existed| ())
}

pub(super) fn as_ref(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(key) => Bound::Included(key.as_slice()),
        Bound::Excluded(key) => Bound::Excluded(key.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}
