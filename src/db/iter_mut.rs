//! Iterating while writing: `iter_mut` and its range, prefix and reverse forms, with
//! `del_current`, `put_current` and `put_current_with_options`.
//!
//! heed implements these over a live LMDB cursor and makes `del_current` / `put_current`
//! `unsafe`: a value still borrowed from an earlier step may be changed under the borrow. Here
//! the borrow checker enforces that instead. [`RwIter::next`] lends each entry for as long as
//! the iterator is not used again, and the next step re-seeks past the last key, so deletes
//! and puts in between are always safe. The price is the shape: `RwIter` is not an
//! `Iterator` (entries borrow the iterator), so a heed `for` loop over `iter_mut` becomes
//! `while let Some(entry) = iter.next()`, and the `unsafe` blocks go away.

use std::marker::PhantomData;
use std::ops::Bound;

use super::codec::{BytesDecode, BytesEncode};
use super::database::{encode, put_encoded, Database};
use super::iter::{decode_entry, Direction, Moves, RawIter};
use super::iteration_method::{MoveBetweenKeys, MoveThroughDuplicateValues};
use super::reserved::{reserve, ReservedSpace};
use crate::btree::dup_write::PairPut;
use crate::btree::mutate::PutMode;
use crate::error::{Error, MdbError, Result};
use crate::flags::PutFlags;
use crate::page::meta::TreeFlags;
use crate::txn::RwTxn;

/// Entries of a database read through a write transaction, in key order or its reverse,
/// which may be deleted or replaced as they are visited. From
/// [`Database::iter_mut`](crate::Database::iter_mut) and its range, prefix and reverse forms.
///
/// ```
/// # use arbordb::types::{Str, U32};
/// # use arbordb::byteorder::BigEndian;
/// # fn main() -> Result<(), arbordb::Error> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let env = unsafe { arbordb::EnvOpenOptions::new().open(dir.path())? };
/// let mut wtxn = env.write_txn()?;
/// let db = env.create_database::<Str, U32<BigEndian>>(&mut wtxn, None)?;
/// for (name, score) in [("ann", 3), ("bob", 0), ("cy", 7)] {
///     db.put(&mut wtxn, name, &score)?;
/// }
/// let mut iter = db.iter_mut(&mut wtxn)?;
/// while let Some(entry) = iter.next() {
///     let (name, score) = entry?;
///     if score == 0 {
///         iter.del_current()?;
///     } else {
///         let name = name.to_owned();
///         iter.put_current(&name, &(score * 10))?;
///     }
/// }
/// assert_eq!(db.get(&wtxn, "bob")?, None);
/// assert_eq!(db.get(&wtxn, "cy")?, Some(70));
/// # Ok(()) }
/// ```
///
/// In a duplicate-sorted database it visits every pair (each key once after
/// [`move_between_keys`](RwIter::move_between_keys)); `del_current` deletes the pair visited
/// last and the walk goes on after it.
pub struct RwIter<'t, 'e, KC, DC, IM = MoveThroughDuplicateValues> {
    txn: &'t mut RwTxn<'e>,
    database: Database<KC, DC>,
    direction: Direction,
    moves: Moves,
    /// Whether the database is duplicate-sorted: the walk then resumes after the last pair,
    /// not after the last key.
    pairs: bool,
    /// Where the walk begins, before any entry was visited.
    start: Bound<Vec<u8>>,
    /// Where it ends.
    end: Bound<Vec<u8>>,
    /// The key and value of the entry visited last.
    current: Option<(Vec<u8>, Vec<u8>)>,
    done: bool,
    /// A step failed: the walk yields nothing more, whatever is put afterwards.
    failed: bool,
    marker: Marker<KC, DC, IM>,
}

/// The types an [`RwIter`] carries and never holds.
type Marker<KC, DC, IM> = PhantomData<fn() -> (KC, DC, IM)>;

/// [`RwIter`] walking backwards (from `rev_iter_mut`).
pub type RwRevIter<'t, 'e, KC, DC, IM = MoveThroughDuplicateValues> = RwIter<'t, 'e, KC, DC, IM>;
/// [`RwIter`] over a key range (from `range_mut`).
pub type RwRange<'t, 'e, KC, DC, IM = MoveThroughDuplicateValues> = RwIter<'t, 'e, KC, DC, IM>;
/// [`RwIter`] over a key range backwards (from `rev_range_mut`).
pub type RwRevRange<'t, 'e, KC, DC, IM = MoveThroughDuplicateValues> = RwIter<'t, 'e, KC, DC, IM>;
/// [`RwIter`] over a key prefix (from `prefix_iter_mut`).
pub type RwPrefix<'t, 'e, KC, DC, IM = MoveThroughDuplicateValues> = RwIter<'t, 'e, KC, DC, IM>;
/// [`RwIter`] over a key prefix backwards (from `rev_prefix_iter_mut`).
pub type RwRevPrefix<'t, 'e, KC, DC, IM = MoveThroughDuplicateValues> = RwIter<'t, 'e, KC, DC, IM>;

impl<'t, 'e, KC, DC> RwIter<'t, 'e, KC, DC> {
    pub(super) fn new(
        txn: &'t mut RwTxn<'e>,
        database: Database<KC, DC>,
        direction: Direction,
        start: Bound<Vec<u8>>,
        end: Bound<Vec<u8>>,
    ) -> Result<Self> {
        txn.check_env(database.env_id())?;
        let pairs = database.is_dup_sort(txn)?;
        Ok(RwIter {
            txn,
            database,
            direction,
            moves: Moves::Pairs,
            pairs,
            start,
            end,
            current: None,
            done: false,
            failed: false,
            marker: PhantomData,
        })
    }
}

impl<'t, 'e, KC, DC, IM> RwIter<'t, 'e, KC, DC, IM> {
    /// Visits each key once, with its first value (its last, walking backwards).
    pub fn move_between_keys(self) -> RwIter<'t, 'e, KC, DC, MoveBetweenKeys> {
        RwIter {
            moves: Moves::Keys,
            ..self.retyped()
        }
    }

    /// Visits every pair, a key's values one by one (the default).
    pub fn move_through_duplicate_values(
        self,
    ) -> RwIter<'t, 'e, KC, DC, MoveThroughDuplicateValues> {
        RwIter {
            moves: Moves::Pairs,
            ..self.retyped()
        }
    }

    /// The same iterator with other codecs or another iteration method.
    fn retyped<KC2, DC2, IM2>(self) -> RwIter<'t, 'e, KC2, DC2, IM2> {
        RwIter {
            txn: self.txn,
            database: self.database.remap_types(),
            direction: self.direction,
            moves: self.moves,
            pairs: self.pairs,
            start: self.start,
            end: self.end,
            current: self.current,
            done: self.done,
            failed: self.failed,
            marker: PhantomData,
        }
    }

    /// The next entry, borrowed until the iterator is used again, or `None` at the end. After
    /// an error it yields nothing more.
    #[allow(clippy::should_implement_trait)] // entries borrow the iterator: not an Iterator
    pub fn next<'s>(&'s mut self) -> Option<Result<(KC::DItem, DC::DItem)>>
    where
        KC: BytesDecode<'s>,
        DC: BytesDecode<'s>,
    {
        if self.done {
            return None;
        }
        let txn: &'s RwTxn<'e> = self.txn;
        let entry = self
            .resume(txn)
            .and_then(|mut raw| raw.next_raw().transpose());
        match entry {
            Ok(Some((key, value))) => {
                self.current = Some((key.to_vec(), value.to_vec()));
                Some(decode_entry::<KC, DC>(key, value))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                self.failed = true;
                Some(Err(error))
            }
        }
    }

    /// A walk positioned past the entry visited last (at the start before any).
    fn resume<'s>(&self, txn: &'s RwTxn<'e>) -> Result<RawIter<'s>> {
        let forward = self.direction == Direction::Forward;
        match &self.current {
            None => self.database.raw_iter(
                txn,
                super::database::as_ref(&self.start),
                self.end.clone(),
                self.direction,
            ),
            Some((key, value)) => {
                let mut cursor = txn.cursor(self.database.dbi())?;
                match (forward, self.pairs && self.moves == Moves::Pairs) {
                    (true, true) => cursor.seek_pair_after(key, value, false)?,
                    (true, false) => cursor.seek_after(key, false)?,
                    (false, true) => cursor.seek_pair_before(key, value, false)?,
                    (false, false) => cursor.seek_before(key, false)?,
                }
                let mut raw = RawIter::new(cursor, self.direction, self.end.clone());
                raw.set_moves(self.moves);
                Ok(raw)
            }
        }
    }

    /// Deletes the entry visited last (in a duplicate-sorted database, that pair). Returns
    /// false when no entry was visited yet.
    pub fn del_current(&mut self) -> Result<bool> {
        let dbi = self.database.dbi();
        match &self.current {
            Some((key, value)) if self.pairs => self.txn.delete_pair(dbi, key, value),
            Some((key, _)) => self.txn.delete(dbi, key),
            None => Ok(false),
        }
    }

    /// Replaces the value of the entry visited last; `key` must be its key (else
    /// [`MdbError::InvalidOption`](crate::MdbError::InvalidOption)). In a duplicate-sorted database
    /// the new value must sort in the old one's place (as LMDB's `MDB_CURRENT` asks), else
    /// [`MdbError::InvalidOption`](crate::MdbError::InvalidOption): delete the pair and put the new
    /// one instead. Returns false when no entry was visited yet.
    pub fn put_current<'a>(&mut self, key: &'a KC::EItem, data: &'a DC::EItem) -> Result<bool>
    where
        KC: BytesEncode<'a>,
        DC: BytesEncode<'a>,
    {
        let Some((current, old)) = &self.current else {
            return Ok(false);
        };
        let key = encode::<KC>(key)?;
        if key.as_ref() != current.as_slice() {
            return Err(Error::Mdb(MdbError::InvalidOption {
                reason: "put_current takes the key of the current entry".into(),
            }));
        }
        let data = encode::<DC>(data)?;
        let dbi = self.database.dbi();
        if !self.pairs {
            self.txn.put(dbi, &key, &data, PutMode::Overwrite)?;
            return Ok(true);
        }
        if !self.txn.sorts_as(dbi, old, &data)? {
            return Err(Error::Mdb(MdbError::InvalidOption {
                reason: "in a duplicate-sorted database put_current must keep the value's place; delete the pair and put the new one".into(),
            }));
        }
        // The put after the delete must not fail for a reason it would be the first to see:
        // a comparator may call values of two sizes equal.
        let fixed = self.txn.tree(dbi)?.flags.contains(TreeFlags::DUP_FIXED);
        if fixed && data.len() != old.len() {
            return Err(Error::Mdb(MdbError::BadValSize));
        }
        let old = old.clone();
        self.txn.delete_pair(dbi, &key, &old)?;
        self.txn.put_pair(dbi, &key, &data, PairPut::Add)?;
        if let Some(current) = &mut self.current {
            current.1 = data.into_owned();
        }
        Ok(true)
    }

    /// Puts `data`, encoded by `NDC` (which need not be the iterator's value codec), under
    /// `key`, with `flags` as [`Database::put_with_flags`] takes them, and moves the iterator
    /// onto the pair written: the walk goes on after it.
    ///
    /// As heed's, which hands `flags` to LMDB's `mdb_cursor_put` without `MDB_CURRENT`, this puts a
    /// pair rather than replacing the visited one. In a plain database it replaces the key's value;
    /// [`PutFlags::NO_OVERWRITE`] and [`PutFlags::APPEND`] then always fail with
    /// [`MdbError::KeyExist`](crate::MdbError::KeyExist) (the key exists). In a duplicate-sorted
    /// database it adds `(key, data)` beside the key's values, the visited pair staying, and the
    /// walk resumes after the new pair wherever it sorts (a value sorting before the visited one
    /// brings the walk back to it); `NO_OVERWRITE` and `APPEND` fail with `KeyExist`, `APPEND |
    /// APPEND_DUP` does unless the key is the database's last and `data` sorts after its values,
    /// [`PutFlags::NO_DUP_DATA`] fails with `KeyExist` if the pair exists and
    /// [`PutFlags::APPEND_DUP`] unless `data` sorts after the key's values.
    ///
    /// A walk of the whole database ([`iter_mut`](Database::iter_mut),
    /// [`rev_iter_mut`](Database::rev_iter_mut)) takes any `key`, before any entry was visited
    /// too, as LMDB's cursor does: the pair is put and the walk goes on after it (heed's
    /// cursor-append example appends to an empty database so). A range or prefix walk takes
    /// only the visited entry's key, and refuses another, or a call before any entry was
    /// visited, with [`MdbError::InvalidOption`](crate::MdbError::InvalidOption), where LMDB
    /// would move its cursor outside the walk's bounds. `NO_DUP_DATA` and `APPEND_DUP` in a
    /// plain database are `InvalidOption`, as for `put_with_flags`. After an error the iterator
    /// stays on the entry it visited.
    ///
    /// Safe, where heed's is `unsafe`, for the reason [`put_current`](Self::put_current) is.
    pub fn put_current_with_options<'a, NDC>(
        &mut self,
        flags: PutFlags,
        key: &'a KC::EItem,
        data: &'a NDC::EItem,
    ) -> Result<()>
    where
        KC: BytesEncode<'a>,
        NDC: BytesEncode<'a>,
    {
        let key = encode::<KC>(key)?;
        self.put_current_encoded(flags, &key, || Ok(encode::<NDC>(data)?.into_owned()))
    }

    /// [`put_current_with_options`](Self::put_current_with_options) of a value of `data_size` bytes
    /// that `write_func` writes ([`Database::put_reserved`]); heed's name. Returns `true`, the
    /// value being written (heed's `false` is for a cursor on no entry, which is
    /// [`MdbError::InvalidOption`](crate::MdbError::InvalidOption) here). When `write_func` fails
    /// or leaves space unwritten, nothing is stored.
    pub fn put_current_reserved_with_flags<'a, F>(
        &mut self,
        flags: PutFlags,
        key: &'a KC::EItem,
        data_size: usize,
        write_func: F,
    ) -> Result<bool>
    where
        KC: BytesEncode<'a>,
        F: FnOnce(&mut ReservedSpace) -> std::io::Result<()>,
    {
        let key = encode::<KC>(key)?;
        self.put_current_encoded(flags, &key, || reserve(data_size, write_func))?;
        Ok(true)
    }

    /// Puts the value `data` makes under the encoded `key`, which a range or prefix walk takes
    /// only as the visited entry's, as [`put_current_with_options`](Self::put_current_with_options)
    /// says.
    fn put_current_encoded(
        &mut self,
        flags: PutFlags,
        key: &[u8],
        data: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<()> {
        // A walk of the whole database may move to any key, as LMDB's cursor does; a range or
        // prefix walk only where it stands, so that it never walks outside its bounds.
        let whole_database =
            matches!(self.start, Bound::Unbounded) && matches!(self.end, Bound::Unbounded);
        if !whole_database {
            let Some((current, _)) = &self.current else {
                return Err(Error::Mdb(MdbError::InvalidOption {
                    reason: "put_current_with_options on a range or prefix walk needs an entry visited first".into(),
                }));
            };
            if key != current.as_slice() {
                return Err(Error::Mdb(MdbError::InvalidOption {
                    reason: "put_current_with_options on a range or prefix walk takes the key of the current entry".into(),
                }));
            }
        }
        let data = data()?;
        put_encoded(self.txn, self.database.dbi(), self.pairs, flags, key, &data)?;
        // On the pair written: the walk goes on after it, unless a step failed.
        self.current = Some((key.to_vec(), data));
        self.done = self.failed;
        Ok(())
    }

    /// Changes the codecs used to decode entries.
    pub fn remap_types<KC2, DC2>(self) -> RwIter<'t, 'e, KC2, DC2, IM> {
        self.retyped()
    }
}
