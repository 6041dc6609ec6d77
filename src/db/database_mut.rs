//! The `*_mut` iterators of [`Database`]: walks that may delete or replace what they visit.

use std::ops::{Bound, RangeBounds};

use super::codec::BytesEncode;
use super::comparator::LexicographicComparator;
use super::database::{encode_range, Database};
use super::iter::Direction;
use super::iter_mut::RwIter;
use super::seek::encode_prefix;
use crate::error::Result;
use crate::txn::RwTxn;

impl<KC, DC, C, CDUP> Database<KC, DC, C, CDUP> {
    /// Every entry in key order, through a write transaction; see [`RwIter`].
    pub fn iter_mut<'t, 'e>(&self, txn: &'t mut RwTxn<'e>) -> Result<RwIter<'t, 'e, KC, DC>> {
        RwIter::new(
            txn,
            self.erased(),
            Direction::Forward,
            Bound::Unbounded,
            Bound::Unbounded,
        )
    }

    /// Every entry in reverse key order, through a write transaction.
    pub fn rev_iter_mut<'t, 'e>(&self, txn: &'t mut RwTxn<'e>) -> Result<RwIter<'t, 'e, KC, DC>> {
        RwIter::new(
            txn,
            self.erased(),
            Direction::Backward,
            Bound::Unbounded,
            Bound::Unbounded,
        )
    }

    /// The entries of `range` in key order, through a write transaction.
    pub fn range_mut<'a, 't, 'e, R>(
        &self,
        txn: &'t mut RwTxn<'e>,
        range: &'a R,
    ) -> Result<RwIter<'t, 'e, KC, DC>>
    where
        KC: BytesEncode<'a>,
        R: RangeBounds<KC::EItem>,
    {
        let (start, end) = encode_range::<KC, R>(range)?;
        RwIter::new(txn, self.erased(), Direction::Forward, start, end)
    }

    /// The entries of `range` in reverse key order, through a write transaction.
    pub fn rev_range_mut<'a, 't, 'e, R>(
        &self,
        txn: &'t mut RwTxn<'e>,
        range: &'a R,
    ) -> Result<RwIter<'t, 'e, KC, DC>>
    where
        KC: BytesEncode<'a>,
        R: RangeBounds<KC::EItem>,
    {
        let (start, end) = encode_range::<KC, R>(range)?;
        RwIter::new(txn, self.erased(), Direction::Backward, end, start)
    }

    /// The entries whose keys start with `prefix`, in key order, through a write transaction.
    pub fn prefix_iter_mut<'a, 't, 'e>(
        &self,
        txn: &'t mut RwTxn<'e>,
        prefix: &'a KC::EItem,
    ) -> Result<RwIter<'t, 'e, KC, DC>>
    where
        KC: BytesEncode<'a>,
        C: LexicographicComparator,
    {
        self.check_lexicographic(txn)?;
        let (start, end) = encode_prefix::<KC, C>(prefix)?;
        RwIter::new(txn, self.erased(), Direction::Forward, start, end)
    }

    /// The entries whose keys start with `prefix`, in reverse key order, through a write
    /// transaction.
    pub fn rev_prefix_iter_mut<'a, 't, 'e>(
        &self,
        txn: &'t mut RwTxn<'e>,
        prefix: &'a KC::EItem,
    ) -> Result<RwIter<'t, 'e, KC, DC>>
    where
        KC: BytesEncode<'a>,
        C: LexicographicComparator,
    {
        self.check_lexicographic(txn)?;
        let (start, end) = encode_prefix::<KC, C>(prefix)?;
        RwIter::new(txn, self.erased(), Direction::Backward, end, start)
    }
}
