//! Iterating while writing: `iter_mut` and its range, prefix and reverse forms, with
//! `del_current` and `put_current`.
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
use super::database::{encode, Database};
use super::iter::{decode_entry, Direction};
use crate::btree::mutate::PutMode;
use crate::error::{Error, Result};
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
pub struct RwIter<'t, 'e, KC, DC> {
    txn: &'t mut RwTxn<'e>,
    database: Database<KC, DC>,
    direction: Direction,
    /// Where the walk begins, before any entry was visited.
    start: Bound<Vec<u8>>,
    /// Where it ends.
    end: Bound<Vec<u8>>,
    /// The key of the entry visited last.
    current: Option<Vec<u8>>,
    done: bool,
    marker: PhantomData<fn() -> (KC, DC)>,
}

/// [`RwIter`] walking backwards (from `rev_iter_mut`).
pub type RwRevIter<'t, 'e, KC, DC> = RwIter<'t, 'e, KC, DC>;
/// [`RwIter`] over a key range (from `range_mut`).
pub type RwRange<'t, 'e, KC, DC> = RwIter<'t, 'e, KC, DC>;
/// [`RwIter`] over a key range backwards (from `rev_range_mut`).
pub type RwRevRange<'t, 'e, KC, DC> = RwIter<'t, 'e, KC, DC>;
/// [`RwIter`] over a key prefix (from `prefix_iter_mut`).
pub type RwPrefix<'t, 'e, KC, DC> = RwIter<'t, 'e, KC, DC>;
/// [`RwIter`] over a key prefix backwards (from `rev_prefix_iter_mut`).
pub type RwRevPrefix<'t, 'e, KC, DC> = RwIter<'t, 'e, KC, DC>;

impl<'t, 'e, KC, DC> RwIter<'t, 'e, KC, DC> {
    pub(super) fn new(
        txn: &'t mut RwTxn<'e>,
        database: Database<KC, DC>,
        direction: Direction,
        start: Bound<Vec<u8>>,
        end: Bound<Vec<u8>>,
    ) -> Result<Self> {
        txn.check_env(database.env_id())?;
        Ok(RwIter {
            txn,
            database,
            direction,
            start,
            end,
            current: None,
            done: false,
            marker: PhantomData,
        })
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
        let from = match &self.current {
            Some(key) => Bound::Excluded(key.as_slice()),
            None => super::database::as_ref(&self.start),
        };
        let txn: &'s RwTxn<'e> = self.txn;
        let entry = self
            .database
            .raw_iter(txn, from, self.end.clone(), self.direction)
            .and_then(|mut raw| raw.next_raw().transpose());
        match entry {
            Ok(Some((key, value))) => {
                self.current = Some(key.to_vec());
                Some(decode_entry::<KC, DC>(key, value))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }

    /// Deletes the entry visited last. Returns false when no entry was visited yet.
    pub fn del_current(&mut self) -> Result<bool> {
        match &self.current {
            Some(key) => self.txn.delete(self.database.dbi(), key),
            None => Ok(false),
        }
    }

    /// Replaces the value of the entry visited last; `key` must be its key (else
    /// [`Error::InvalidOption`]). Returns false when no entry was visited yet.
    pub fn put_current<'a>(&mut self, key: &'a KC::EItem, data: &'a DC::EItem) -> Result<bool>
    where
        KC: BytesEncode<'a>,
        DC: BytesEncode<'a>,
    {
        let Some(current) = &self.current else {
            return Ok(false);
        };
        let key = encode::<KC>(key)?;
        if key.as_ref() != current.as_slice() {
            return Err(Error::InvalidOption {
                reason: "put_current takes the key of the current entry".into(),
            });
        }
        let data = encode::<DC>(data)?;
        self.txn
            .put(self.database.dbi(), &key, &data, PutMode::Overwrite)?;
        Ok(true)
    }

    /// Changes the codecs used to decode entries.
    pub fn remap_types<KC2, DC2>(self) -> RwIter<'t, 'e, KC2, DC2> {
        RwIter {
            txn: self.txn,
            database: self.database.remap_types(),
            direction: self.direction,
            start: self.start,
            end: self.end,
            current: self.current,
            done: self.done,
            marker: PhantomData,
        }
    }
}
