//! Changing a duplicate-sorted database: adding and removing one value of a key.
//!
//! A key's values live where their number puts them: one value in a plain cell; two or more
//! listed in the cell (`duplicates.rs`) while the cell stays within a quarter page; beyond
//! that in a tree of their own (a B+tree like any other, whose keys are the values and whose
//! values are empty), the cell holding its descriptor. A tree that falls to one value
//! becomes a plain cell again; one that shrinks stays a tree (moving values back and forth
//! at the boundary would cost more than it saves).
//!
//! The database's descriptor counts every pair in `entries` and every page of its trees of
//! values in `branch_pages` and `leaf_pages`, so its statistics and the checker see all of
//! its pages.
//!
//! In a `DUP_FIXED` database a key's values all have the size of its first, and are stored
//! packed: a list without lengths, a tree with dense leaves (`node.rs`). A value of another
//! size is [`MdbError::BadValSize`](crate::MdbError::BadValSize), refused before anything changes.

use super::duplicates::{self, decode_value_tree, InlineList};
use super::mutate::{NewValue, PutMode, Writer};
use super::node::{self, StoredValue, ValueList};
use crate::error::{Error, MdbError, Result};
use crate::page::meta::{TreeFlags, TreeInfo};
use crate::page::PageId;

/// How a put treats an existing key or pair of a duplicate-sorted database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PairPut {
    /// Add the pair; an existing pair stays as it is.
    Add,
    /// [`MdbError::KeyExist`](crate::MdbError::KeyExist) if the key has any value.
    NoOverwrite,
    /// [`MdbError::KeyExist`](crate::MdbError::KeyExist) if the pair exists.
    NoDupData,
    /// The key must sort after every key, else [`MdbError::KeyExist`](crate::MdbError::KeyExist).
    Append,
    /// If the key exists, the value must sort after its values, else
    /// [`MdbError::KeyExist`](crate::MdbError::KeyExist).
    AppendDup,
    /// Both: the key sorts after every key, or it is the last key and the value sorts after its
    /// values (a load of pairs in order), else [`MdbError::KeyExist`](crate::MdbError::KeyExist).
    AppendPairs,
}

/// A key's values as found before a change.
enum Found {
    Absent,
    One(Vec<u8>),
    Listed(Vec<Vec<u8>>),
    Tree(TreeInfo),
}

impl Writer<'_> {
    /// The last key of `tree`, if any.
    fn last_key(&self, tree: &TreeInfo) -> Result<Option<Vec<u8>>> {
        if tree.root.is_none() {
            return Ok(None);
        }
        let (_, leaf_id) = self.descend_rightmost(tree)?;
        let leaf = self.leaf(tree, leaf_id)?;
        match leaf.count() {
            0 => Ok(None),
            count => Ok(Some(leaf.key(count - 1)?.to_vec())),
        }
    }

    /// The values of `key` as they are now.
    fn find_values(&self, tree: &TreeInfo, key: &[u8]) -> Result<Found> {
        if tree.root.is_none() {
            return Ok(Found::Absent);
        }
        let (_, leaf_id) = self.descend(tree, key)?;
        let leaf = self.leaf(tree, leaf_id)?;
        let Ok(index) = leaf.search_leaf(key, self.order)? else {
            return Ok(Found::Absent);
        };
        Ok(match leaf.entry(index)?.1 {
            StoredValue::Inline(value) => Found::One(value.to_vec()),
            StoredValue::Overflow { .. } => {
                return Err(Error::corrupted(
                    leaf_id,
                    "a value in an overflow run in a duplicate-sorted database",
                ))
            }
            StoredValue::Duplicates(list) => Found::Listed({
                duplicates::check_list_form(list, leaf_id, tree.flags)?;
                InlineList::parse(list, leaf_id, Some(self.value_order))?
                    .values()
                    .iter()
                    .map(|value| value.to_vec())
                    .collect()
            }),
            StoredValue::DuplicateTree(descriptor) => {
                Found::Tree(decode_value_tree(descriptor, leaf_id, tree.flags)?)
            }
        })
    }

    /// Adds the pair `(key, value)` to the duplicate-sorted database `tree`. Returns whether the
    /// pair existed. Every [`MdbError::KeyExist`](crate::MdbError::KeyExist) is returned before
    /// anything changed.
    pub(crate) fn put_pair(
        &mut self,
        tree: &mut TreeInfo,
        key: &[u8],
        value: &[u8],
        mode: PairPut,
    ) -> Result<bool> {
        if mode == PairPut::AppendPairs {
            let is_last = match self.last_key(tree)? {
                Some(last) => self.order.compare(&last, key).is_eq(),
                None => false,
            };
            let mode = if is_last {
                PairPut::AppendDup
            } else {
                PairPut::Append
            };
            return self.put_pair(tree, key, value, mode);
        }
        if mode == PairPut::Append {
            self.put(tree, key, value, PutMode::Append)?;
            return Ok(false);
        }
        let found = self.find_values(tree, key)?;
        if mode == PairPut::NoOverwrite && !matches!(found, Found::Absent) {
            return Err(Error::Mdb(MdbError::KeyExist));
        }
        let exists = Error::Mdb(MdbError::KeyExist);
        let existed = || match mode {
            PairPut::NoDupData | PairPut::AppendDup => Err(Error::Mdb(MdbError::KeyExist)),
            _ => Ok(true),
        };
        let order = self.value_order;
        let mut values: Vec<Vec<u8>> = match found {
            Found::Absent => {
                self.put(tree, key, value, PutMode::NoOverwrite)?;
                return Ok(false);
            }
            Found::One(old) => vec![old],
            Found::Listed(values) => values,
            // A dense tree refuses a value of another width itself (`mutate.rs`).
            Found::Tree(values) => return self.put_in_value_tree(tree, key, values, value, mode),
        };
        if tree.flags.contains(TreeFlags::DUP_FIXED) && values[0].len() != value.len() {
            return Err(Error::Mdb(MdbError::BadValSize));
        }
        let at = match values.binary_search_by(|probe| order.compare(probe, value)) {
            Ok(_) => return existed(),
            Err(at) => at,
        };
        if mode == PairPut::AppendDup && at != values.len() {
            return Err(exists);
        }
        values.insert(at, value.to_vec());
        self.store_values(tree, key, &values)?;
        tree.entries = tree.entries.saturating_add(1);
        Ok(false)
    }

    /// Adds `value` to `key`'s tree of values `values`.
    fn put_in_value_tree(
        &mut self,
        tree: &mut TreeInfo,
        key: &[u8],
        mut values: TreeInfo,
        value: &[u8],
        mode: PairPut,
    ) -> Result<bool> {
        let before = values;
        let put_mode = match mode {
            PairPut::AppendDup => PutMode::Append,
            _ => PutMode::NoOverwrite,
        };
        match self.values_writer().put(&mut values, value, b"", put_mode) {
            Ok(_) => {}
            Err(Error::Mdb(MdbError::KeyExist)) if mode == PairPut::Add => return Ok(true),
            Err(error) => return Err(error),
        }
        self.replace_value_tree(tree, key, &before, &values)?;
        tree.entries = tree.entries.saturating_add(1);
        Ok(false)
    }

    /// Points `key`'s cell at the tree of values `after` (which was `before`), counting
    /// the change of its pages in `tree`.
    fn replace_value_tree(
        &mut self,
        tree: &mut TreeInfo,
        key: &[u8],
        before: &TreeInfo,
        after: &TreeInfo,
    ) -> Result<()> {
        tree.branch_pages = shifted(tree.branch_pages, before.branch_pages, after.branch_pages);
        tree.leaf_pages = shifted(tree.leaf_pages, before.leaf_pages, after.leaf_pages);
        let descriptor = after.encode();
        self.put_stored(
            tree,
            key,
            NewValue::Stored(StoredValue::DuplicateTree(&descriptor)),
            PutMode::Overwrite,
        )?;
        Ok(())
    }

    /// Stores `values` (two or more, in order) as `key`'s: listed in its cell if the cell
    /// stays within the limit, else in a new tree of their own.
    fn store_values(&mut self, tree: &mut TreeInfo, key: &[u8], values: &[Vec<u8>]) -> Result<()> {
        debug_assert!(values.len() >= 2);
        let fixed = tree.flags.contains(TreeFlags::DUP_FIXED);
        let list_len = duplicates::encoded_len(values, fixed);
        let cell = node::LEAF_CELL_HEADER + key.len() + list_len;
        if cell <= node::cell_size_max(self.store.page_size()) {
            let bytes = duplicates::encode(values, fixed);
            let list = ValueList {
                bytes: &bytes,
                fixed,
            };
            self.put_stored(
                tree,
                key,
                NewValue::Stored(StoredValue::Duplicates(list)),
                PutMode::Overwrite,
            )?;
            return Ok(());
        }
        let mut value_tree = TreeInfo::empty(duplicates::value_tree_flags(tree.flags));
        {
            let mut writer = self.values_writer();
            for value in values {
                // The values are in order, distinct and (packed) of one width, so each
                // appends; a refusal here comes after pages were taken, so it must not be
                // the "nothing changed" of a KeyExist or a size mismatch.
                match writer.put(&mut value_tree, value, b"", PutMode::Append) {
                    Err(Error::Mdb(MdbError::KeyExist)) => {
                        return Err(Error::corrupted(
                            PageId::NONE,
                            "the comparator of values is not a total order",
                        ))
                    }
                    Err(Error::Mdb(MdbError::BadValSize)) => {
                        return Err(Error::corrupted(
                            PageId::NONE,
                            "values of several sizes in a DUP_FIXED database",
                        ))
                    }
                    other => other?,
                };
            }
        }
        self.replace_value_tree(tree, key, &TreeInfo::default(), &value_tree)
    }

    /// Removes the pair `(key, value)` from the duplicate-sorted database `tree`. Returns
    /// whether it existed.
    pub(crate) fn delete_pair(
        &mut self,
        tree: &mut TreeInfo,
        key: &[u8],
        value: &[u8],
    ) -> Result<bool> {
        let order = self.value_order;
        match self.find_values(tree, key)? {
            Found::Absent => Ok(false),
            Found::One(old) => {
                if order.compare(&old, value).is_ne() {
                    return Ok(false);
                }
                self.delete(tree, key)
            }
            Found::Listed(mut values) => {
                let Ok(at) = values.binary_search_by(|probe| order.compare(probe, value)) else {
                    return Ok(false);
                };
                values.remove(at);
                if let [single] = values.as_slice() {
                    self.put_stored(
                        tree,
                        key,
                        NewValue::Stored(StoredValue::Inline(single)),
                        PutMode::Overwrite,
                    )?;
                } else {
                    self.store_values(tree, key, &values)?;
                }
                tree.entries = tree.entries.saturating_sub(1);
                Ok(true)
            }
            Found::Tree(mut values) => {
                let before = values;
                if !self.values_writer().delete(&mut values, value)? {
                    return Ok(false);
                }
                if values.entries == 1 {
                    self.collapse_value_tree(tree, key, &before, values)?;
                } else {
                    self.replace_value_tree(tree, key, &before, &values)?;
                }
                tree.entries = tree.entries.saturating_sub(1);
                Ok(true)
            }
        }
    }

    /// Turns `key`'s tree of values, down to one value, back into a plain cell. The
    /// database counted the tree's pages as they were `before` the value's delete.
    fn collapse_value_tree(
        &mut self,
        tree: &mut TreeInfo,
        key: &[u8],
        before: &TreeInfo,
        mut values: TreeInfo,
    ) -> Result<()> {
        let single = {
            let mut cursor = super::cursor::Cursor::new(&*self, values, self.value_order)?;
            cursor.seek_first()?;
            match cursor.current_entry()? {
                Some((single, _)) => single.to_vec(),
                None => return Err(Error::corrupted(values.root, "an empty tree of duplicates")),
            }
        };
        tree.branch_pages = tree.branch_pages.saturating_sub(before.branch_pages);
        tree.leaf_pages = tree.leaf_pages.saturating_sub(before.leaf_pages);
        self.values_writer().clear(&mut values)?;
        self.put_stored(
            tree,
            key,
            NewValue::Stored(StoredValue::Inline(&single)),
            PutMode::Overwrite,
        )?;
        Ok(())
    }
}

/// `count` after a part of it went from `before` to `after`.
fn shifted(count: u64, before: u64, after: u64) -> u64 {
    if after >= before {
        count.saturating_add(after - before)
    } else {
        count.saturating_sub(before - after)
    }
}
