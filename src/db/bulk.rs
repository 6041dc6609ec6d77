//! Writes beyond a single put or delete: `get_or_put` (with `get_or_put_with_flags` in
//! `reserved.rs`) and `delete_range`.

use std::ops::RangeBounds;

use super::codec::{BytesDecode, BytesEncode};
use super::database::{as_ref, encode_range, Database};
use super::iter::Direction;
use crate::error::Result;
use crate::flags::PutFlags;
use crate::txn::RwTxn;

impl<KC, DC, C, CDUP> Database<KC, DC, C, CDUP> {
    /// Returns the value of `key` if it exists; otherwise stores `data` under it and returns
    /// `None`. The returned value borrows the transaction.
    pub fn get_or_put<'a, 'txn>(
        &self,
        txn: &'txn mut RwTxn<'_>,
        key: &'a KC::EItem,
        data: &'a DC::EItem,
    ) -> Result<Option<DC::DItem>>
    where
        KC: BytesEncode<'a>,
        DC: BytesEncode<'a> + BytesDecode<'txn>,
    {
        self.get_or_put_with_flags(txn, PutFlags::empty(), key, data)
    }

    /// Deletes every entry whose key lies in `range`; returns how many were deleted (pairs,
    /// in a duplicate-sorted database).
    pub fn delete_range<'a, R>(&self, txn: &mut RwTxn<'_>, range: &'a R) -> Result<usize>
    where
        KC: BytesEncode<'a>,
        R: RangeBounds<KC::EItem>,
    {
        let (start, end) = encode_range::<KC, R>(range)?;
        txn.failing_on_panic(|txn| {
            let keys: Vec<Vec<u8>> = {
                let mut raw = self.raw_iter(txn, as_ref(&start), end, Direction::Forward)?;
                let mut keys = Vec::new();
                while let Some(entry) = raw.next_raw() {
                    keys.push(entry?.0.to_vec());
                }
                keys
            };
            // A duplicate-sorted database lists a key once per value: each counts, and
            // deleting the key deletes them all.
            let mut previous: Option<&[u8]> = None;
            for key in &keys {
                if previous != Some(key.as_slice()) {
                    txn.delete(self.dbi(), key)?;
                }
                previous = Some(key);
            }
            Ok(keys.len())
        })
    }
}
