//! How a tree orders its keys: byte-wise (the default), one of LMDB's built-in orders, or a
//! function the application gives.
//!
//! Every comparison of keys in the tree layer goes through a [`KeyOrder`]: searching a page,
//! choosing a split's separator, the append check, the checker's order verification. The
//! default order has a search loop of its own that compares slices inline
//! (`Node::search_leaf`); the others go through [`KeyOrder::compare`].

use std::cmp::Ordering;

use crate::error::{Error, Result};
use crate::page::meta::TreeFlags;
use crate::page::PageId;

/// A comparison function of keys. It must be a total order, the same every time it is
/// called with the same bytes (a database records which one it was written with).
pub(crate) type CompareFn = fn(&[u8], &[u8]) -> Ordering;

/// What an order orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// A database's keys.
    Keys,
    /// A duplicate-sorted database's values of one key.
    Values,
}

/// The order of a tree's keys.
#[derive(Clone, Copy)]
pub(crate) enum KeyOrder {
    /// Lexicographic by bytes, a shorter key before a longer one it begins.
    Bytes,
    /// Lexicographic by bytes read from the last to the first (LMDB's `REVERSEKEY`).
    Reverse,
    /// As unsigned little-endian integers (LMDB's `INTEGERKEY` on a little-endian machine);
    /// keys of different lengths order by length first.
    Integer,
    /// An application's function.
    Custom(CompareFn),
}

impl std::fmt::Debug for KeyOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyOrder::Bytes => "Bytes",
            KeyOrder::Reverse => "Reverse",
            KeyOrder::Integer => "Integer",
            KeyOrder::Custom(_) => "Custom",
        })
    }
}

impl KeyOrder {
    /// The built-in order a tree's flags name, or `None` when they name a custom one (whose
    /// function only the application can give). With both built-in flags the keys are in
    /// `REVERSE_KEY`'s order, as in LMDB, so that its databases keep their order here.
    pub(crate) fn of_flags(flags: TreeFlags) -> Option<KeyOrder> {
        if flags.contains(TreeFlags::CUSTOM_KEY_ORDER) {
            None
        } else if flags.contains(TreeFlags::REVERSE_KEY) {
            Some(KeyOrder::Reverse)
        } else if flags.contains(TreeFlags::INTEGER_KEY) {
            Some(KeyOrder::Integer)
        } else {
            Some(KeyOrder::Bytes)
        }
    }

    /// The built-in order a duplicate-sorted database's flags name for a key's values, or
    /// `None` when they name a custom one. Without `DUP_SORT`, byte-wise (values are never
    /// compared then).
    pub(crate) fn of_value_flags(flags: TreeFlags) -> Option<KeyOrder> {
        // With both flags, LMDB compares values as integers (for keys, reversed wins).
        if flags.contains(TreeFlags::CUSTOM_VALUE_ORDER) {
            None
        } else if flags.contains(TreeFlags::INTEGER_DUP) {
            Some(KeyOrder::Integer)
        } else if flags.contains(TreeFlags::REVERSE_DUP) {
            Some(KeyOrder::Reverse)
        } else {
            Some(KeyOrder::Bytes)
        }
    }

    /// Compares two keys.
    #[inline]
    pub(crate) fn compare(self, a: &[u8], b: &[u8]) -> Ordering {
        match self {
            KeyOrder::Bytes => a.cmp(b),
            KeyOrder::Reverse => compare_reversed(a, b),
            KeyOrder::Integer => compare_integers(a, b),
            KeyOrder::Custom(compare) => compare(a, b),
        }
    }

    /// Whether `a < b`.
    #[inline]
    pub(crate) fn less(self, a: &[u8], b: &[u8]) -> bool {
        self.compare(a, b) == Ordering::Less
    }

    /// A separator for a split between `left` and `right` (`left < s <= right`): under the
    /// byte-wise order the shortest such key, a prefix of `right`; under any other order
    /// `right` itself, since a prefix of a key need not sort next to it there. Keys out of
    /// order (only in a corrupt page, or under a comparator that is not a total order) are
    /// [`MdbError::CorruptedPage`](crate::MdbError::CorruptedPage).
    pub(crate) fn separator<'k>(
        self,
        page: PageId,
        left: &[u8],
        right: &'k [u8],
    ) -> Result<&'k [u8]> {
        if !self.less(left, right) {
            return Err(Error::corrupted(page, "keys are out of order"));
        }
        Ok(match self {
            KeyOrder::Bytes => {
                let common = left.iter().zip(right).take_while(|(a, b)| a == b).count();
                &right[..(common + 1).min(right.len())]
            }
            _ => right,
        })
    }
}

/// Byte-wise from the end: the last bytes decide first; a key that ends the other is first.
fn compare_reversed(a: &[u8], b: &[u8]) -> Ordering {
    a.iter().rev().cmp(b.iter().rev())
}

/// Unsigned little-endian integers; a shorter key is first whatever its bytes.
fn compare_integers(a: &[u8], b: &[u8]) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> PageId {
        PageId::new(1)
    }

    #[test]
    fn bytes_order_is_lexicographic_with_shorter_first() {
        let order = KeyOrder::Bytes;
        assert_eq!(order.compare(b"ab", b"abc"), Ordering::Less);
        assert_eq!(order.compare(b"b", b"abc"), Ordering::Greater);
        assert_eq!(order.compare(b"abc", b"abc"), Ordering::Equal);
    }

    #[test]
    fn reverse_order_reads_keys_from_their_end() {
        let order = KeyOrder::Reverse;
        assert_eq!(order.compare(b"ba", b"ab"), Ordering::Less);
        assert_eq!(
            order.compare(b"c", b"bc"),
            Ordering::Less,
            "a suffix is first"
        );
        assert_eq!(order.compare(b"za", b"ab"), Ordering::Less);
        assert_eq!(order.compare(b"xy", b"xy"), Ordering::Equal);
    }

    #[test]
    fn integer_order_is_numeric_little_endian() {
        let order = KeyOrder::Integer;
        let key = |n: u32| n.to_le_bytes();
        assert_eq!(order.compare(&key(255), &key(256)), Ordering::Less);
        assert_eq!(order.compare(&key(1 << 24), &key(2)), Ordering::Greater);
        assert_eq!(order.compare(&key(7), &key(7)), Ordering::Equal);
        assert_eq!(
            order.compare(&u64::MAX.to_le_bytes()[..4], &1u64.to_le_bytes()),
            Ordering::Less,
            "a shorter key is first"
        );
    }

    #[test]
    fn flags_choose_the_order() {
        assert!(matches!(
            KeyOrder::of_flags(TreeFlags::empty()),
            Some(KeyOrder::Bytes)
        ));
        assert!(matches!(
            KeyOrder::of_flags(TreeFlags::INTEGER_KEY),
            Some(KeyOrder::Integer)
        ));
        assert!(matches!(
            KeyOrder::of_flags(TreeFlags::REVERSE_KEY),
            Some(KeyOrder::Reverse)
        ));
        assert!(matches!(
            KeyOrder::of_flags(TreeFlags::INTEGER_KEY.with(TreeFlags::REVERSE_KEY)),
            Some(KeyOrder::Reverse)
        ));
        assert!(KeyOrder::of_flags(TreeFlags::CUSTOM_KEY_ORDER).is_none());
    }

    #[test]
    fn byte_wise_separators_are_the_shortest_prefix_of_the_right_key() {
        let order = KeyOrder::Bytes;
        assert_eq!(order.separator(page(), b"abc", b"abd").unwrap(), b"abd");
        assert_eq!(order.separator(page(), b"abc", b"b").unwrap(), b"b");
        assert_eq!(order.separator(page(), b"ab", b"abzz").unwrap(), b"abz");
        assert_eq!(order.separator(page(), b"", b"\x00").unwrap(), b"\x00");
        assert!(order.separator(page(), b"b", b"a").is_err());
        assert!(order.separator(page(), b"a", b"a").is_err());
    }

    /// Under another order a prefix of the right key may sort before the left one: "ab" is a
    /// prefix of "abzz" but, read from the end, sorts before "zb".
    #[test]
    fn other_orders_separate_with_the_whole_right_key() {
        let order = KeyOrder::Reverse;
        assert_eq!(order.separator(page(), b"zb", b"abzz").unwrap(), b"abzz");
        assert!(order.less(b"ab", b"zb"));
        assert!(order.separator(page(), b"abzz", b"zb").is_err());
        let by_length: CompareFn = |a, b| a.len().cmp(&b.len()).then(a.cmp(b));
        let order = KeyOrder::Custom(by_length);
        assert_eq!(order.separator(page(), b"zz", b"aaa").unwrap(), b"aaa");
    }
}
