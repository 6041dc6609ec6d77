//! A key's duplicate values kept in its leaf cell: the inline list of a duplicate-sorted
//! database.
//!
//! ```text
//! per value, in the database's order of values:   u16 length, the value's bytes
//! ```
//!
//! In a `DUP_FIXED` database, whose values of one key all have one width, the list is packed
//! (leaf cell flag 8):
//!
//! ```text
//! u16 width, then each value's bytes, in order
//! ```
//!
//! A list holds at least two values (one value is stored as a plain cell) and no two equal
//! under the order. It stays in the cell while the cell is at most a quarter page
//! (`node::cell_size_max`); past that the values move into a tree of their own
//! (`dup_write.rs`), so that a key with many values is searched in O(log n).

use super::node::{self, ValueList};
use super::order::KeyOrder;
use crate::error::{Error, Result};
use crate::page::id::{read_u16, write_u16};
use crate::page::meta::{TreeFlags, TreeInfo};
use crate::page::PageId;

/// The longest key of a duplicate-sorted database: its cell must be able to hold the
/// descriptor of a tree of its values.
pub(crate) fn key_size_max(page_size: usize) -> usize {
    node::cell_size_max(page_size) - node::LEAF_CELL_HEADER - TreeInfo::ENCODED_SIZE
}

/// The longest value a duplicate-sorted database takes for a `key_len`-byte key: the key's
/// cell must hold it alone (its only value stays in the cell, never in an overflow run), and
/// it must be a key of the tree its values may move to.
pub(crate) fn value_size_max(page_size: usize, key_len: usize) -> usize {
    let in_cell = node::cell_size_max(page_size) - node::LEAF_CELL_HEADER - key_len;
    in_cell.min(node::key_size_max(page_size))
}

/// Decodes the descriptor of a tree of a key's values found in a cell of page `page`, in a
/// database whose flags are `database`: its flags must be those such a tree has there (dense
/// leaves exactly in a `DUP_FIXED` database), else a writer would trust the wrong layout or
/// no width at all.
pub(crate) fn decode_value_tree(
    descriptor: &[u8],
    page: PageId,
    database: TreeFlags,
) -> Result<TreeInfo> {
    let tree = TreeInfo::decode(descriptor).ok_or_else(|| {
        Error::corrupted(page, "a tree of duplicates with a malformed descriptor")
    })?;
    if tree.flags != value_tree_flags(database) {
        return Err(Error::corrupted(
            page,
            "a tree of duplicates with flags its database does not give it",
        ));
    }
    Ok(tree)
}

/// The flags of a tree of a key's values in a database with flags `database`.
pub(crate) fn value_tree_flags(database: TreeFlags) -> TreeFlags {
    if database.contains(TreeFlags::DUP_FIXED) {
        TreeFlags::DENSE_LEAVES
    } else {
        TreeFlags::empty()
    }
}

/// Refuses a list in the other form than its database's (packed exactly in a `DUP_FIXED`
/// database): a writer would rewrite a list of several sizes packed at one width.
pub(crate) fn check_list_form(
    list: ValueList<'_>,
    page: PageId,
    database: TreeFlags,
) -> Result<()> {
    if list.fixed != database.contains(TreeFlags::DUP_FIXED) {
        return Err(Error::corrupted(
            page,
            "a list of duplicates in the other form than its database's",
        ));
    }
    Ok(())
}

/// Bytes before each value in a list.
pub(crate) const VALUE_HEADER: usize = 2;
/// Bytes before the values of a packed list: their width.
pub(crate) const WIDTH_HEADER: usize = 2;

/// A list of values read from a cell, each checked to lie inside it.
#[derive(Clone, Debug)]
pub(crate) struct InlineList<'a> {
    /// Each value, in order.
    values: Vec<&'a [u8]>,
}

impl<'a> InlineList<'a> {
    /// Parses the list in `list`, a cell of page `page`. A length past the end, a packed
    /// list of width 0 or not a whole number of values, fewer than two values, or values out
    /// of `order` are [`MdbError::CorruptedPage`](crate::MdbError::CorruptedPage).
    pub(crate) fn parse(
        list: ValueList<'a>,
        page: PageId,
        order: Option<KeyOrder>,
    ) -> Result<Self> {
        let values = if list.fixed {
            Self::split_packed(list.bytes, page)?
        } else {
            Self::split_lengths(list.bytes, page)?
        };
        if values.len() < 2 {
            return Err(Error::corrupted(
                page,
                "a duplicate list of fewer than two values",
            ));
        }
        if let Some(order) = order {
            if values.windows(2).any(|pair| !order.less(pair[0], pair[1])) {
                return Err(Error::corrupted(page, "duplicates out of order"));
            }
        }
        Ok(InlineList { values })
    }

    /// The values of a packed list.
    fn split_packed(bytes: &'a [u8], page: PageId) -> Result<Vec<&'a [u8]>> {
        let Some((width, rest)) = bytes.split_at_checked(WIDTH_HEADER) else {
            return Err(Error::corrupted(
                page,
                "a packed duplicate list ends inside its width",
            ));
        };
        let width = read_u16(width, 0) as usize;
        if width == 0 || rest.len() % width != 0 {
            return Err(Error::corrupted(
                page,
                "a packed duplicate list is not a whole number of values",
            ));
        }
        Ok(rest.chunks_exact(width).collect())
    }

    /// The values of a list of values each after its length.
    fn split_lengths(bytes: &'a [u8], page: PageId) -> Result<Vec<&'a [u8]>> {
        let mut values = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let Some((length, tail)) = rest.split_at_checked(VALUE_HEADER) else {
                return Err(Error::corrupted(
                    page,
                    "a duplicate list ends inside a length",
                ));
            };
            let length = read_u16(length, 0) as usize;
            let Some((value, tail)) = tail.split_at_checked(length) else {
                return Err(Error::corrupted(page, "a duplicate runs past its list"));
            };
            values.push(value);
            rest = tail;
        }
        Ok(values)
    }

    /// The values, in order.
    pub(crate) fn values(&self) -> &[&'a [u8]] {
        &self.values
    }

    /// How many values.
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// `Ok(index)` of `value`, or `Err(index)` where it would go.
    pub(crate) fn search(
        &self,
        value: &[u8],
        order: KeyOrder,
    ) -> std::result::Result<usize, usize> {
        self.values
            .binary_search_by(|probe| order.compare(probe, value))
    }
}

/// The encoded size of a list of `values`, packed if `fixed` (then all of one width).
pub(crate) fn encoded_len(values: &[impl AsRef<[u8]>], fixed: bool) -> usize {
    let bytes: usize = values.iter().map(|value| value.as_ref().len()).sum();
    if fixed {
        WIDTH_HEADER + bytes
    } else {
        VALUE_HEADER * values.len() + bytes
    }
}

/// Encodes `values`, in order, as a list, packed if `fixed` (then all of one width, not 0).
pub(crate) fn encode(values: &[impl AsRef<[u8]>], fixed: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(values, fixed));
    if fixed {
        let width = values.first().map_or(0, |value| value.as_ref().len());
        debug_assert!(values.iter().all(|value| value.as_ref().len() == width));
        out.resize(WIDTH_HEADER, 0);
        write_u16(&mut out, 0, width as u16);
        for value in values {
            out.extend_from_slice(value.as_ref());
        }
        return out;
    }
    for value in values.iter().map(AsRef::as_ref) {
        let at = out.len();
        out.resize(at + VALUE_HEADER, 0);
        write_u16(&mut out, at, value.len() as u16);
        out.extend_from_slice(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> PageId {
        PageId::new(3)
    }

    /// At every page size the largest key's cell holds a tree's descriptor, and its largest
    /// value fits the cell beside it and is a key of the tree of values.
    #[test]
    fn the_limits_keep_every_cell_within_a_quarter_page() {
        for page_size in [512usize, 1024, 4096, 16384, 65536] {
            let cell_max = node::cell_size_max(page_size);
            let key_max = key_size_max(page_size);
            assert_eq!(
                node::LEAF_CELL_HEADER + key_max + TreeInfo::ENCODED_SIZE,
                cell_max
            );
            for key_len in [0, 1, key_max / 2, key_max] {
                let value_max = value_size_max(page_size, key_len);
                assert!(node::LEAF_CELL_HEADER + key_len + value_max <= cell_max);
                assert!(value_max <= node::key_size_max(page_size));
            }
        }
        assert_eq!(key_size_max(4096), 961);
        assert_eq!(value_size_max(4096, 0), 1001);
        assert_eq!(value_size_max(4096, 961), 48);
    }

    fn listed(bytes: &[u8], fixed: bool) -> ValueList<'_> {
        ValueList { bytes, fixed }
    }

    #[test]
    fn a_list_round_trips_and_is_searched_in_its_order() {
        let values = [&b"a"[..], b"bb", b"c"];
        let bytes = encode(&values, false);
        assert_eq!(bytes.len(), encoded_len(&values, false));
        let list = InlineList::parse(listed(&bytes, false), page(), Some(KeyOrder::Bytes)).unwrap();
        assert_eq!(list.values(), values);
        assert_eq!(list.search(b"bb", KeyOrder::Bytes), Ok(1));
        assert_eq!(list.search(b"b", KeyOrder::Bytes), Err(1));
        assert_eq!(list.search(b"d", KeyOrder::Bytes), Err(3));
        let empty_values = encode(&[&b""[..], b"x"], false);
        assert_eq!(
            InlineList::parse(listed(&empty_values, false), page(), Some(KeyOrder::Bytes))
                .unwrap()
                .values(),
            [&b""[..], b"x"]
        );
    }

    #[test]
    fn a_packed_list_holds_only_its_width_and_the_values() {
        let values = [&b"ab"[..], b"cd", b"ef"];
        let bytes = encode(&values, true);
        assert_eq!(bytes, b"\x02\x00abcdef");
        assert_eq!(encoded_len(&values, true), bytes.len());
        let list = InlineList::parse(listed(&bytes, true), page(), Some(KeyOrder::Bytes)).unwrap();
        assert_eq!(list.values(), values);
        // The same bytes read as a list of lengths are another list (or none): the cell's
        // flag says which form it is.
        assert_ne!(
            InlineList::parse(listed(&bytes, false), page(), None)
                .map(|list| list.len())
                .ok(),
            Some(3)
        );
    }

    #[test]
    fn a_damaged_packed_list_is_corruption() {
        let bytes = encode(&[&b"ab"[..], b"cd"], true);
        let cases: [(&[u8], &str); 5] = [
            (&bytes[..bytes.len() - 1], "not whole values"),
            (&bytes[..1], "inside the width"),
            (&bytes[..4], "one value"),
            (b"\x00\x00", "width 0, no values"),
            (b"\x00\x00ab", "width 0"),
        ];
        for (damaged, what) in cases {
            assert!(
                InlineList::parse(listed(damaged, true), page(), None).is_err(),
                "{what}"
            );
        }
        let unordered = encode(&[&b"cd"[..], b"ab"], true);
        assert!(
            InlineList::parse(listed(&unordered, true), page(), Some(KeyOrder::Bytes)).is_err()
        );
    }

    #[test]
    fn a_damaged_list_is_corruption() {
        let bytes = encode(&[&b"a"[..], b"b"], false);
        let parse = |bytes: &[u8], order| {
            InlineList::parse(listed(bytes, false), page(), order).map(|list| list.len())
        };
        let cut = &bytes[..bytes.len() - 1];
        assert!(parse(cut, None).is_err(), "cut short");
        assert!(parse(&bytes[..1], None).is_err(), "inside a length");
        assert!(
            parse(&encode(&[&b"a"[..]], false), None).is_err(),
            "one value"
        );
        assert!(parse(&[], None).is_err(), "empty");
        let unordered = encode(&[&b"b"[..], b"a"], false);
        assert!(parse(&unordered, Some(KeyOrder::Bytes)).is_err());
        let repeated = encode(&[&b"a"[..], b"a"], false);
        assert!(parse(&repeated, Some(KeyOrder::Bytes)).is_err());
        assert!(parse(&unordered, None).is_ok(), "order not known");
    }
}
