//! [`ScopedIter`]: the entries of one scope, with the scope prefix stripped and decoded.

use std::marker::PhantomData;

use crate::types::Bytes;
use crate::{RoRange, RoRevRange};

use super::codec::{ScopedKeyCodec, ScopedValueCodec};
use super::error::ScopedDbError;

/// One decoded entry of a scoped database: its key without the scope, and its value.
pub type ScopedEntry<'txn, KS, VS> = (
    <KS as ScopedKeyCodec>::Decoded<'txn>,
    <VS as ScopedValueCodec>::Decoded<'txn>,
);

/// The raw walk under a scoped iterator.
pub(crate) enum Walk<'txn> {
    Forward(RoRange<'txn, Bytes, Bytes>),
    Backward(RoRevRange<'txn, Bytes, Bytes>),
    /// A scope that is not registered, so holds nothing.
    Nothing,
}

/// The entries of one scope of a scoped database, in key order or reverse key order; from
/// `iter`, `rev_iter`, `range`, `rev_range`, `prefix_iter` and `rev_prefix_iter`. Yields
/// `Result<(key, value), ScopedDbError>` and never strays outside its scope.
pub struct ScopedIter<'txn, KS, VS> {
    walk: Walk<'txn>,
    /// The length of the scope prefix to strip from each key: 4, or 0 in the default scope.
    prefix_len: usize,
    marker: PhantomData<fn() -> (KS, VS)>,
}

impl<'txn, KS, VS> ScopedIter<'txn, KS, VS> {
    pub(crate) fn new(walk: Walk<'txn>, prefix_len: usize) -> Self {
        ScopedIter {
            walk,
            prefix_len,
            marker: PhantomData,
        }
    }
}

impl<'txn, KS: ScopedKeyCodec, VS: ScopedValueCodec> Iterator for ScopedIter<'txn, KS, VS> {
    type Item = Result<ScopedEntry<'txn, KS, VS>, ScopedDbError>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = match &mut self.walk {
            Walk::Forward(walk) => walk.next()?,
            Walk::Backward(walk) => walk.next()?,
            Walk::Nothing => return None,
        };
        let prefix_len = self.prefix_len;
        Some(entry.map_err(ScopedDbError::from).and_then(|(key, value)| {
            // The walk's bounds keep every key inside the scope, so each has the prefix; a
            // foreign or corrupt file is reported, not trusted.
            let unprefixed = key.get(prefix_len..).ok_or_else(|| {
                ScopedDbError::InvalidInput(format!(
                    "a scoped key of {} bytes has no scope prefix",
                    key.len()
                ))
            })?;
            let key = KS::decode_key(unprefixed)?;
            Ok((key, VS::decode_value(value)?))
        }))
    }
}
