//! Iterators over a database: forward, reverse, and over a range of keys.

use std::cmp::Ordering;
use std::marker::PhantomData;
use std::ops::Bound;

use super::codec::BytesDecode;
use crate::btree::cursor::Cursor;
use crate::btree::PageSource;
use crate::error::{Error, Result};

/// Which way an iterator walks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Forward,
    Backward,
}

/// A positioned cursor that yields raw entries until it passes `end`.
pub(crate) struct RawIter<'txn> {
    cursor: Cursor<'txn, dyn PageSource + 'txn>,
    direction: Direction,
    /// Forward: the upper bound; backward: the lower bound.
    end: Bound<Vec<u8>>,
    started: bool,
    done: bool,
}

impl<'txn> RawIter<'txn> {
    /// An iterator whose cursor is already on its first entry (or exhausted).
    pub(crate) fn new(
        cursor: Cursor<'txn, dyn PageSource + 'txn>,
        direction: Direction,
        end: Bound<Vec<u8>>,
    ) -> Self {
        RawIter {
            cursor,
            direction,
            end,
            started: false,
            done: false,
        }
    }

    /// Whether `key` lies beyond the end bound, in the tree's order.
    fn past_end(&self, key: &[u8]) -> bool {
        let (end, inclusive) = match &self.end {
            Bound::Unbounded => return false,
            Bound::Included(end) => (end.as_slice(), true),
            Bound::Excluded(end) => (end.as_slice(), false),
        };
        let beyond = match self.direction {
            Direction::Forward => Ordering::Greater,
            Direction::Backward => Ordering::Less,
        };
        match self.cursor.order().compare(key, end) {
            Ordering::Equal => !inclusive,
            ordering => ordering == beyond,
        }
    }

    fn step(&mut self) -> Result<Option<(&'txn [u8], &'txn [u8])>> {
        if self.started {
            match self.direction {
                Direction::Forward => self.cursor.next()?,
                Direction::Backward => self.cursor.prev()?,
            }
        }
        self.started = true;
        match self.cursor.current()? {
            Some((key, _)) if self.past_end(key) => Ok(None),
            entry => Ok(entry),
        }
    }

    /// The next raw entry, or `None` at the end. After an error it yields nothing more.
    pub(crate) fn next_raw(&mut self) -> Option<Result<(&'txn [u8], &'txn [u8])>> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Some(entry)) => Some(Ok(entry)),
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
}

/// Decodes a raw entry with the codecs.
pub(crate) fn decode_entry<'txn, KC: BytesDecode<'txn>, DC: BytesDecode<'txn>>(
    key: &'txn [u8],
    value: &'txn [u8],
) -> Result<(KC::DItem, DC::DItem)> {
    let key = KC::bytes_decode(key).map_err(Error::Decoding)?;
    let value = DC::bytes_decode(value).map_err(Error::Decoding)?;
    Ok((key, value))
}

macro_rules! typed_iterator {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name<'txn, KC, DC> {
            pub(crate) raw: RawIter<'txn>,
            pub(crate) marker: PhantomData<fn() -> (KC, DC)>,
        }

        impl<'txn, KC, DC> $name<'txn, KC, DC> {
            pub(crate) fn new(raw: RawIter<'txn>) -> Self {
                $name { raw, marker: PhantomData }
            }

            /// Changes the codecs used to decode entries.
            pub fn remap_types<KC2, DC2>(self) -> $name<'txn, KC2, DC2> {
                $name { raw: self.raw, marker: PhantomData }
            }

            /// Changes the key codec.
            pub fn remap_key_type<KC2>(self) -> $name<'txn, KC2, DC> {
                self.remap_types()
            }

            /// Changes the data codec.
            pub fn remap_data_type<DC2>(self) -> $name<'txn, KC, DC2> {
                self.remap_types()
            }
        }

        impl<'txn, KC: BytesDecode<'txn>, DC: BytesDecode<'txn>> Iterator for $name<'txn, KC, DC> {
            type Item = Result<(KC::DItem, DC::DItem)>;

            fn next(&mut self) -> Option<Self::Item> {
                self.raw.next_raw().map(|entry| entry.and_then(|(key, value)| decode_entry::<KC, DC>(key, value)))
            }
        }
    };
}

typed_iterator! {
    /// Every entry of a database in key order; from [`Database::iter`](crate::Database::iter).
    RoIter
}
typed_iterator! {
    /// Every entry of a database in reverse key order; from
    /// [`Database::rev_iter`](crate::Database::rev_iter).
    RoRevIter
}
typed_iterator! {
    /// The entries of a key range in key order; from [`Database::range`](crate::Database::range).
    RoRange
}
typed_iterator! {
    /// The entries of a key range in reverse key order; from
    /// [`Database::rev_range`](crate::Database::rev_range).
    RoRevRange
}
typed_iterator! {
    /// The entries whose keys start with a prefix, in key order; from
    /// [`Database::prefix_iter`](crate::Database::prefix_iter).
    RoPrefix
}
typed_iterator! {
    /// The entries whose keys start with a prefix, in reverse key order; from
    /// [`Database::rev_prefix_iter`](crate::Database::rev_prefix_iter).
    RoRevPrefix
}
