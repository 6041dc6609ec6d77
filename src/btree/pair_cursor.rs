//! A cursor over a database's key-value pairs: in a duplicate-sorted database a key's values
//! one after another, in their own order, whether its leaf cell lists them or a tree of
//! their own holds them; in any other database, the entries.

use std::cmp::Ordering;

use super::cursor::{value_bytes, Cursor};
use super::duplicates::{self, InlineList};
use super::node::{StoredValue, ValueList};
use super::order::KeyOrder;
use super::PageSource;
use crate::error::{Error, Result};
use crate::page::meta::{TreeFlags, TreeInfo};
use crate::page::PageId;

/// Where among the current key's values the cursor is. A key with several values keeps
/// the key read from its cell (checked then), which stays the same while the cursor walks
/// its values.
enum Dups<'s, S: PageSource + ?Sized> {
    /// The key has one value (or the cursor is exhausted).
    One,
    /// The cell lists the values; `index` is the current one.
    Listed {
        key: &'s [u8],
        list: InlineList<'s>,
        index: usize,
    },
    /// A tree of their own holds them (its keys are the values).
    Tree {
        key: &'s [u8],
        values: Box<Cursor<'s, S>>,
    },
}

/// Which end of a key's values a move lands on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    First,
    Last,
}

/// A cursor over pairs. Exhausted when its key cursor is.
pub(crate) struct PairCursor<'s, S: PageSource + ?Sized> {
    keys: Cursor<'s, S>,
    /// The order of a key's values.
    value_order: KeyOrder,
    /// Whether the tree is duplicate-sorted (else every key has one value, and the cursor
    /// does not look for more).
    duplicates: bool,
    /// The database's flags: the form its lists and trees of values must have.
    flags: TreeFlags,
    dups: Dups<'s, S>,
}

impl<'s, S: PageSource + ?Sized> PairCursor<'s, S> {
    /// An exhausted cursor over `tree`, whose keys are in `key_order` and a key's values in
    /// `value_order`; position it with a `seek_*` method.
    pub(crate) fn new(
        source: &'s S,
        tree: TreeInfo,
        key_order: KeyOrder,
        value_order: KeyOrder,
    ) -> Result<Self> {
        Ok(PairCursor {
            keys: Cursor::new(source, tree, key_order)?,
            value_order,
            duplicates: tree.flags.contains(TreeFlags::DUP_SORT),
            flags: tree.flags,
            dups: Dups::One,
        })
    }

    /// The order of the keys.
    pub(crate) fn key_order(&self) -> KeyOrder {
        self.keys.order()
    }

    /// Sets the value position for the entry the key cursor is now on.
    fn enter(&mut self, end: End) -> Result<()> {
        if !self.duplicates {
            return Ok(());
        }
        // Until the new key's values are found, so that a failure leaves no stale key.
        self.dups = Dups::One;
        self.dups = match self.keys.current_entry()? {
            None | Some((_, StoredValue::Inline(_) | StoredValue::Overflow { .. })) => Dups::One,
            Some((key, StoredValue::Duplicates(bytes))) => {
                let list = self.list(bytes)?;
                let index = match end {
                    End::First => 0,
                    End::Last => list.len() - 1,
                };
                Dups::Listed { key, list, index }
            }
            Some((key, StoredValue::DuplicateTree(descriptor))) => {
                let mut values = self.value_tree(descriptor)?;
                match end {
                    End::First => values.seek_first()?,
                    End::Last => values.seek_last()?,
                }
                if !values.is_on_entry() {
                    return Err(Error::corrupted(
                        PageId::NONE,
                        "an empty tree of duplicates",
                    ));
                }
                Dups::Tree {
                    key,
                    values: Box::new(values),
                }
            }
        };
        Ok(())
    }

    /// A cursor over the tree of values `descriptor` describes.
    fn value_tree(&self, descriptor: &[u8]) -> Result<Cursor<'s, S>> {
        let tree = duplicates::decode_value_tree(descriptor, PageId::NONE, self.flags)?;
        Cursor::new(self.keys.source(), tree, self.value_order)
    }

    /// The list of values `list`, checked to have its database's form.
    fn list(&self, list: ValueList<'s>) -> Result<InlineList<'s>> {
        duplicates::check_list_form(list, PageId::NONE, self.flags)?;
        InlineList::parse(list, PageId::NONE, None)
    }

    /// Moves to the first pair.
    pub(crate) fn seek_first(&mut self) -> Result<()> {
        self.keys.seek_first()?;
        self.enter(End::First)
    }

    /// Moves to the last pair.
    pub(crate) fn seek_last(&mut self) -> Result<()> {
        self.keys.seek_last()?;
        self.enter(End::Last)
    }

    /// Moves to the first pair whose key is `>= key` (`> key` when `inclusive` is false).
    pub(crate) fn seek_after(&mut self, key: &[u8], inclusive: bool) -> Result<()> {
        self.keys.seek_after(key, inclusive)?;
        self.enter(End::First)
    }

    /// Moves to the last pair whose key is `<= key` (`< key` when `inclusive` is false).
    pub(crate) fn seek_before(&mut self, key: &[u8], inclusive: bool) -> Result<()> {
        self.keys.seek_before(key, inclusive)?;
        self.enter(End::Last)
    }

    /// Moves to the first pair after `(key, value)` in pair order (at it when `inclusive`).
    pub(crate) fn seek_pair_after(
        &mut self,
        key: &[u8],
        value: &[u8],
        inclusive: bool,
    ) -> Result<()> {
        self.seek_pair(key, value, inclusive, End::First)
    }

    /// Moves to the last pair before `(key, value)` in pair order (at it when `inclusive`).
    pub(crate) fn seek_pair_before(
        &mut self,
        key: &[u8],
        value: &[u8],
        inclusive: bool,
    ) -> Result<()> {
        self.seek_pair(key, value, inclusive, End::Last)
    }

    /// Moves to the nearest pair on the side of `(key, value)` that `toward` names: after it
    /// for [`End::First`], before it for [`End::Last`].
    fn seek_pair(&mut self, key: &[u8], value: &[u8], inclusive: bool, toward: End) -> Result<()> {
        let forward = toward == End::First;
        self.dups = Dups::One;
        self.keys.seek_after(key, true)?;
        if !self.on_key(key)? {
            if forward {
                return self.enter(End::First);
            }
            // The first key above `key`, or none: the pair before is the last of the key
            // before.
            if self.keys.current_entry()?.is_none() {
                return self.seek_last();
            }
            self.keys.prev()?;
            return self.enter(End::Last);
        }
        let found = match self.keys.current_entry()? {
            Some((key, StoredValue::Duplicates(bytes))) => {
                let list = self.list(bytes)?;
                let index = match (list.search(value, self.value_order), forward) {
                    (Ok(index), _) if inclusive => Some(index),
                    (Ok(index), true) => Some(index + 1),
                    (Err(index), true) => Some(index),
                    (Ok(index) | Err(index), false) => index.checked_sub(1),
                };
                match index.filter(|&index| index < list.len()) {
                    Some(index) => {
                        self.dups = Dups::Listed { key, list, index };
                        true
                    }
                    None => false,
                }
            }
            Some((key, StoredValue::DuplicateTree(descriptor))) => {
                let mut values = self.value_tree(descriptor)?;
                if forward {
                    values.seek_after(value, inclusive)?;
                } else {
                    values.seek_before(value, inclusive)?;
                }
                let found = values.is_on_entry();
                self.dups = Dups::Tree {
                    key,
                    values: Box::new(values),
                };
                found
            }
            Some((_, single)) => {
                let stored = value_bytes(self.keys.source(), single)?;
                self.dups = Dups::One;
                let beyond = if forward {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
                match self.value_order.compare(stored, value) {
                    Ordering::Equal => inclusive,
                    ordering => ordering == beyond,
                }
            }
            None => unreachable!("on_key found an entry"),
        };
        match (found, forward) {
            (true, _) => Ok(()),
            (false, true) => {
                self.keys.next()?;
                self.enter(End::First)
            }
            (false, false) => {
                self.keys.prev()?;
                self.enter(End::Last)
            }
        }
    }

    /// Whether the key cursor is on `key`.
    fn on_key(&self, key: &[u8]) -> Result<bool> {
        Ok(match self.keys.current_entry()? {
            Some((found, _)) => self.keys.order().compare(found, key).is_eq(),
            None => false,
        })
    }

    /// The pair under the cursor, or `None` when exhausted.
    #[inline]
    pub(crate) fn current(&self) -> Result<Option<(&'s [u8], &'s [u8])>> {
        match &self.dups {
            Dups::One => match self.keys.current_entry()? {
                Some((key, stored)) => Ok(Some((key, value_bytes(self.keys.source(), stored)?))),
                None => Ok(None),
            },
            Dups::Listed { key, list, index } => Ok(Some((key, list.values()[*index]))),
            Dups::Tree { key, values } => match values.current_entry()? {
                Some((value, _)) => Ok(Some((key, value))),
                None => Err(Error::corrupted(
                    PageId::NONE,
                    "a tree of duplicates ended early",
                )),
            },
        }
    }

    /// Moves to the current key's next value; false (the cursor then to be dropped) when it
    /// was on the key's last.
    pub(crate) fn next_value(&mut self) -> Result<bool> {
        match &mut self.dups {
            Dups::One => Ok(false),
            Dups::Listed { list, index, .. } => {
                let more = *index + 1 < list.len();
                if more {
                    *index += 1;
                }
                Ok(more)
            }
            Dups::Tree { values, .. } => {
                values.next()?;
                Ok(values.is_on_entry())
            }
        }
    }

    /// Moves to the next pair.
    #[inline]
    pub(crate) fn next(&mut self) -> Result<()> {
        match &mut self.dups {
            Dups::One => {}
            Dups::Listed { list, index, .. } => {
                if *index + 1 < list.len() {
                    *index += 1;
                    return Ok(());
                }
            }
            Dups::Tree { values, .. } => {
                values.next()?;
                if values.is_on_entry() {
                    return Ok(());
                }
            }
        }
        self.next_key()
    }

    /// Moves to the previous pair.
    pub(crate) fn prev(&mut self) -> Result<()> {
        match &mut self.dups {
            Dups::One => {}
            Dups::Listed { index, .. } => {
                if *index > 0 {
                    *index -= 1;
                    return Ok(());
                }
            }
            Dups::Tree { values, .. } => {
                values.prev()?;
                if values.is_on_entry() {
                    return Ok(());
                }
            }
        }
        self.keys.prev()?;
        self.enter(End::Last)
    }

    /// Moves to the first value of the next key.
    pub(crate) fn next_key(&mut self) -> Result<()> {
        self.keys.next()?;
        self.enter(End::First)
    }

    /// Moves to the last value of the previous key (as LMDB's `MDB_PREV_NODUP`).
    pub(crate) fn prev_key(&mut self) -> Result<()> {
        self.keys.prev()?;
        self.enter(End::Last)
    }
}

/// The first value of `key` in `tree` (a database's pairs), if it has one.
pub(crate) fn get_first<'s, S: PageSource + ?Sized>(
    source: &'s S,
    tree: &TreeInfo,
    key_order: KeyOrder,
    value_order: KeyOrder,
    key: &[u8],
) -> Result<Option<&'s [u8]>> {
    let mut cursor = PairCursor::new(source, *tree, key_order, value_order)?;
    cursor.seek_after(key, true)?;
    Ok(match cursor.current()? {
        Some((found, value)) if key_order.compare(found, key).is_eq() => Some(value),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btree::cursor::tests::Pages;
    use crate::btree::node;
    use crate::error::MdbError;

    /// A cursor that fails to enter a key's values names no pair of the key it left: the
    /// values it kept of that key go with it.
    #[test]
    fn a_key_whose_values_cannot_be_read_leaves_no_pair_of_the_previous_key() {
        let page_size = 512;
        let mut bytes = vec![0u8; page_size * 3];
        let leaf_id = PageId::new(2);
        let leaf = &mut bytes[2 * page_size..];
        node::init(leaf, leaf_id, node::Layout::Leaf);
        let listed = duplicates::encode(&[&b"v1"[..], b"v2"], false);
        let list = node::ValueList {
            bytes: &listed,
            fixed: false,
        };
        let cells = [
            (&b"a"[..], StoredValue::Duplicates(list)),
            (b"b", StoredValue::DuplicateTree(b"not a descriptor")),
        ];
        for (index, (key, value)) in cells.iter().enumerate() {
            let size = node::leaf_cell_size(key.len(), value);
            assert!(node::insert_cell_with(leaf, index, size, |out| {
                node::write_leaf_cell(out, key, value)
            }));
        }
        let pages = Pages { bytes, page_size };
        let tree = TreeInfo {
            root: leaf_id,
            depth: 1,
            flags: TreeFlags::DUP_SORT,
            ..TreeInfo::default()
        };
        let mut cursor = PairCursor::new(&pages, tree, KeyOrder::Bytes, KeyOrder::Bytes).unwrap();
        cursor.seek_first().unwrap();
        assert_eq!(cursor.current().unwrap(), Some((&b"a"[..], &b"v1"[..])));
        cursor.next().unwrap();
        assert_eq!(cursor.current().unwrap(), Some((&b"a"[..], &b"v2"[..])));
        assert!(matches!(
            cursor.next(),
            Err(Error::Mdb(MdbError::CorruptedPage { .. }))
        ));
        let after = cursor.current();
        assert!(
            matches!(after, Err(Error::Mdb(MdbError::CorruptedPage { .. }))),
            "{after:?}"
        );
    }
}
