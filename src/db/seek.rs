//! Neighbour lookups (`get_lower_than` and friends) and prefix iteration.

use std::ops::Bound;

use super::codec::{BytesDecode, BytesEncode};
use super::comparator::{prefix_successor, LexicographicComparator};
use super::database::{as_ref, encode, Database, EncodedRange};
use super::iter::{decode_entry, Direction, RoPrefix, RoRevPrefix};
use crate::error::Result;
use crate::txn::RoTxn;

/// The key range of every key starting with the encoded `prefix` in `C`'s order: from the
/// prefix itself up to (not including) its successor, or to the end when it has none.
pub(crate) fn encode_prefix<'a, KC: BytesEncode<'a>, C: LexicographicComparator>(
    prefix: &'a KC::EItem,
) -> Result<EncodedRange> {
    let prefix = encode::<KC>(prefix)?.into_owned();
    let end = prefix_successor::<C>(&prefix).map_or(Bound::Unbounded, Bound::Excluded);
    Ok((Bound::Included(prefix), end))
}

impl<KC, DC, C, CDUP> Database<KC, DC, C, CDUP> {
    fn neighbour<'a, 'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        key: &'a KC::EItem,
        inclusive: bool,
        direction: Direction,
    ) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesEncode<'a> + BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
    {
        let key = encode::<KC>(key)?;
        let start = if inclusive {
            Bound::Included(&key[..])
        } else {
            Bound::Excluded(&key[..])
        };
        let mut raw = self.raw_iter(txn, start, Bound::Unbounded, direction)?;
        match raw.next_raw().transpose()? {
            Some((key, value)) => Ok(Some(decode_entry::<KC, DC>(key, value)?)),
            None => Ok(None),
        }
    }

    /// The entry with the greatest key strictly below `key`.
    pub fn get_lower_than<'a, 'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        key: &'a KC::EItem,
    ) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesEncode<'a> + BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
    {
        self.neighbour(txn, key, false, Direction::Backward)
    }

    /// The entry with the greatest key at or below `key`.
    pub fn get_lower_than_or_equal_to<'a, 'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        key: &'a KC::EItem,
    ) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesEncode<'a> + BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
    {
        self.neighbour(txn, key, true, Direction::Backward)
    }

    /// The entry with the smallest key strictly above `key`.
    pub fn get_greater_than<'a, 'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        key: &'a KC::EItem,
    ) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesEncode<'a> + BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
    {
        self.neighbour(txn, key, false, Direction::Forward)
    }

    /// The entry with the smallest key at or above `key`.
    pub fn get_greater_than_or_equal_to<'a, 'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        key: &'a KC::EItem,
    ) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesEncode<'a> + BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
    {
        self.neighbour(txn, key, true, Direction::Forward)
    }

    /// The entries whose encoded keys start with the encoded `prefix`, in key order.
    pub fn prefix_iter<'a, 'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        prefix: &'a KC::EItem,
    ) -> Result<RoPrefix<'txn, KC, DC, C>>
    where
        KC: BytesEncode<'a>,
        C: LexicographicComparator,
    {
        self.check_lexicographic(txn)?;
        let (start, end) = encode_prefix::<KC, C>(prefix)?;
        Ok(RoPrefix::new(self.raw_iter(
            txn,
            as_ref(&start),
            end,
            Direction::Forward,
        )?))
    }

    /// The entries whose encoded keys start with the encoded `prefix`, in reverse key order.
    pub fn rev_prefix_iter<'a, 'txn>(
        &self,
        txn: &'txn RoTxn<'_>,
        prefix: &'a KC::EItem,
    ) -> Result<RoRevPrefix<'txn, KC, DC, C>>
    where
        KC: BytesEncode<'a>,
        C: LexicographicComparator,
    {
        self.check_lexicographic(txn)?;
        let (start, end) = encode_prefix::<KC, C>(prefix)?;
        Ok(RoRevPrefix::new(self.raw_iter(
            txn,
            as_ref(&end),
            start,
            Direction::Backward,
        )?))
    }
}
