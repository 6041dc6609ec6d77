//! Iterators over a database: forward, reverse, and over a range of keys. In a
//! duplicate-sorted database they walk every pair by default; `move_between_keys` makes them
//! visit each key once (with its first value, or its last walking backwards), as heed's.

use std::cmp::Ordering;
use std::marker::PhantomData;
use std::ops::Bound;

use super::codec::BytesDecode;
use super::comparator::DefaultComparator;
use super::iteration_method::{MoveBetweenKeys, MoveThroughDuplicateValues};
use crate::btree::pair_cursor::PairCursor;
use crate::btree::PageSource;
use crate::error::{Error, Result};

/// Which way an iterator walks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Forward,
    Backward,
}

/// What a step of an iterator moves over.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Moves {
    /// Every pair: a key's values one by one.
    Pairs,
    /// Every key once.
    Keys,
    /// The values of the key the walk starts on, forwards, and nothing after them.
    ValuesOfKey,
}

/// A positioned cursor that yields raw entries until it passes `end`.
pub(crate) struct RawIter<'txn> {
    cursor: PairCursor<'txn, dyn PageSource + 'txn>,
    direction: Direction,
    moves: Moves,
    /// Forward: the upper bound; backward: the lower bound.
    end: Bound<Vec<u8>>,
    started: bool,
    done: bool,
}

impl<'txn> RawIter<'txn> {
    /// An iterator whose cursor is already on its first entry (or exhausted).
    pub(crate) fn new(
        cursor: PairCursor<'txn, dyn PageSource + 'txn>,
        direction: Direction,
        end: Bound<Vec<u8>>,
    ) -> Self {
        RawIter {
            cursor,
            direction,
            moves: Moves::Pairs,
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
        match self.cursor.key_order().compare(key, end) {
            Ordering::Equal => !inclusive,
            ordering => ordering == beyond,
        }
    }

    fn step(&mut self) -> Result<Option<(&'txn [u8], &'txn [u8])>> {
        if self.started {
            match (self.direction, self.moves) {
                (Direction::Forward, Moves::Pairs) => self.cursor.next()?,
                (Direction::Forward, Moves::Keys) => self.cursor.next_key()?,
                (_, Moves::ValuesOfKey) => {
                    if !self.cursor.next_value()? {
                        return Ok(None);
                    }
                }
                (Direction::Backward, Moves::Pairs) => self.cursor.prev()?,
                (Direction::Backward, Moves::Keys) => self.cursor.prev_key()?,
            }
        }
        self.started = true;
        match self.cursor.current()? {
            Some((key, _)) if self.past_end(key) => Ok(None),
            entry => Ok(entry),
        }
    }

    /// Makes the following steps move over `moves`.
    pub(crate) fn set_moves(&mut self, moves: Moves) {
        self.moves = moves;
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
    ($(#[$doc:meta])* $name:ident $(, $comparator:ident)?) => {
        $(#[$doc])*
        ///
        /// In a duplicate-sorted database it visits every pair; `IM` says how it moves
        /// ([`iteration_method`](crate::iteration_method)).
        pub struct $name<'txn, KC, DC, $($comparator = DefaultComparator,)? IM = MoveThroughDuplicateValues> {
            pub(crate) raw: RawIter<'txn>,
            pub(crate) marker: PhantomData<fn() -> (KC, DC, $($comparator,)? IM)>,
        }

        impl<'txn, KC, DC, $($comparator,)? IM> $name<'txn, KC, DC, $($comparator,)? IM> {
            pub(crate) fn new(raw: RawIter<'txn>) -> Self {
                $name { raw, marker: PhantomData }
            }

            /// Changes the codecs used to decode entries.
            pub fn remap_types<KC2, DC2>(self) -> $name<'txn, KC2, DC2, $($comparator,)? IM> {
                $name { raw: self.raw, marker: PhantomData }
            }

            /// Changes the key codec.
            pub fn remap_key_type<KC2>(self) -> $name<'txn, KC2, DC, $($comparator,)? IM> {
                self.remap_types()
            }

            /// Changes the data codec.
            pub fn remap_data_type<DC2>(self) -> $name<'txn, KC, DC2, $($comparator,)? IM> {
                self.remap_types()
            }

            /// Visits each key once, with its first value (its last, walking backwards).
            pub fn move_between_keys(mut self) -> $name<'txn, KC, DC, $($comparator,)? MoveBetweenKeys> {
                self.raw.set_moves(Moves::Keys);
                $name { raw: self.raw, marker: PhantomData }
            }

            /// Visits every pair, a key's values one by one (the default).
            pub fn move_through_duplicate_values(
                mut self,
            ) -> $name<'txn, KC, DC, $($comparator,)? MoveThroughDuplicateValues> {
                self.raw.set_moves(Moves::Pairs);
                $name { raw: self.raw, marker: PhantomData }
            }
        }

        impl<'txn, KC: BytesDecode<'txn>, DC: BytesDecode<'txn>, $($comparator,)? IM> Iterator
            for $name<'txn, KC, DC, $($comparator,)? IM>
        {
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
    RoPrefix, C
}
typed_iterator! {
    /// The entries whose keys start with a prefix, in reverse key order; from
    /// [`Database::rev_prefix_iter`](crate::Database::rev_prefix_iter).
    RoRevPrefix, C
}
