//! Changing a tree: insert, delete, clear, with splits, merges and borrowing.
//!
//! Every change first copies the root-to-leaf path ([`Writer::touch_path`]), so no page a
//! committed meta can reach is written (invariant 2). A page that overflows splits in two and
//! pushes a separator to its parent (splitting it in turn, up to a new root). A page that falls
//! below a quarter full after a delete merges with a sibling when both fit in one page, and
//! otherwise borrows one cell from it; a root branch with one child is replaced by the child.
//! Debug builds check the pages each of these changes touched ([`super::invariants`]).
//!
//! The tree descriptor's counters (pages by kind, entries) are kept exact here; the checker
//! verifies them. They saturate rather than overflow: in a corrupt file they may disagree with
//! the tree, which the checker reports, and that must not become a panic.

use super::cursor::{check_leaf_layout, check_shape, open_node};
use super::duplicates::{decode_value_tree, InlineList};
#[cfg(debug_assertions)]
use super::invariants;
use super::node::{self, Layout, Node, StoredValue};
use super::order::KeyOrder;
use super::{overflow, PageSource};
use crate::error::{Error, MdbError, Result};
use crate::page::header;
use crate::page::meta::{TreeFlags, TreeInfo};
use crate::page::PageId;
use crate::store::page_store::PageStore;

/// How a put treats an existing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PutMode {
    /// Replace the value.
    Overwrite,
    /// Fail with [`MdbError::KeyExist`](crate::MdbError::KeyExist) and change nothing.
    NoOverwrite,
    /// The key must sort after every key in the tree, else
    /// [`MdbError::KeyExist`](crate::MdbError::KeyExist); pages filled this way are split at the
    /// end, so a sorted load packs them full.
    Append,
}

/// What a delete takes out of the tree with a key's cell.
enum Removed {
    One,
    Run { page: PageId, len: usize },
    Listed(u64),
    Tree(TreeInfo),
}

/// The value a put stores.
#[derive(Clone, Copy)]
pub(super) enum NewValue<'v> {
    /// These bytes, in the cell or in an overflow run as their size asks.
    Bytes(&'v [u8]),
    /// A cell's value as given (a list or tree of duplicates, or a value known to fit).
    Stored(StoredValue<'v>),
}

/// A write transaction's view for changing trees: the map for committed pages and the page
/// store for everything else.
pub(crate) struct Writer<'w> {
    pub(crate) map: &'w [u8],
    pub(crate) store: &'w mut PageStore,
    /// Verify the checksum of every sealed tree page and overflow run read (not those the
    /// store holds in memory, sealed only at commit): `verify_checksums_on_read`. Lookups
    /// that change nothing, such as a delete finding no key, read committed pages without
    /// copying them, and so without the copy's verification.
    pub(crate) verify: bool,
    /// The order of the keys of the tree being changed.
    pub(crate) order: KeyOrder,
    /// The order of a key's values, in a duplicate-sorted database (else unused).
    pub(crate) value_order: KeyOrder,
}

#[cfg(debug_assertions)]
impl invariants::Ordered for Writer<'_> {
    fn key_order(&self) -> KeyOrder {
        self.order
    }
}

impl PageSource for Writer<'_> {
    fn page_size(&self) -> usize {
        self.store.page_size()
    }

    fn page_count(&self) -> u64 {
        self.store.page_count()
    }

    fn read(&self, id: PageId, pages: usize) -> Result<&[u8]> {
        self.store.read(self.map, id, pages)
    }

    fn read_tree_page(&self, id: PageId) -> Result<&[u8]> {
        let page = self.read(id, 1)?;
        if self.verify && !self.store.holds_in_memory(id) {
            header::verify_checksum(page, id)?;
        }
        Ok(page)
    }

    fn read_overflow_run(&self, id: PageId, pages: usize) -> Result<&[u8]> {
        let run = self.read(id, pages)?;
        if self.verify && !self.store.holds_in_memory(id) {
            header::verify_checksum(run, id)?;
        }
        Ok(run)
    }
}

/// The path from the root to a leaf: per branch level, the page and the child index taken.
pub(super) type Path = Vec<(PageId, usize)>;

impl Writer<'_> {
    pub(super) fn descend(&self, tree: &TreeInfo, key: &[u8]) -> Result<(Path, PageId)> {
        check_shape(tree)?;
        let mut path = Vec::with_capacity(tree.depth as usize);
        let mut id = tree.root;
        for level in 0..tree.depth - 1 {
            let node = open_node(self, tree, level, id)?;
            let index = node.search_branch(key, self.order)?;
            path.push((id, index));
            id = node.child(index)?;
        }
        Ok((path, id))
    }

    /// The path along the last child of every branch, and the last leaf.
    pub(super) fn descend_rightmost(&self, tree: &TreeInfo) -> Result<(Path, PageId)> {
        check_shape(tree)?;
        let mut path = Vec::with_capacity(tree.depth as usize);
        let mut id = tree.root;
        for level in 0..tree.depth - 1 {
            let node = open_node(self, tree, level, id)?;
            let index = node.count() - 1;
            path.push((id, index));
            id = node.child(index)?;
        }
        Ok((path, id))
    }

    /// Leaf `id` of `tree`, checked to have its tree's layout.
    pub(super) fn leaf(&self, tree: &TreeInfo, id: PageId) -> Result<Node<'_>> {
        let leaf = Node::open(self.read_tree_page(id)?, id, true)?;
        check_leaf_layout(tree, &leaf)?;
        Ok(leaf)
    }

    fn branch(&self, id: PageId) -> Result<Node<'_>> {
        Node::open(self.read_tree_page(id)?, id, false)
    }

    /// Copies every page on the path (and the leaf) that is still committed, fixing the child
    /// links and the root. Returns the leaf's (possibly new) number.
    fn touch_path(&mut self, tree: &mut TreeInfo, path: &mut Path, leaf: PageId) -> Result<PageId> {
        let mut parent: Option<(PageId, usize)> = None;
        for entry in path.iter_mut() {
            entry.0 = self.touch_linked(tree, parent, entry.0)?;
            parent = Some(*entry);
        }
        self.touch_linked(tree, parent, leaf)
    }

    /// Touches `id` and points its parent (or the root) at the copy.
    fn touch_linked(
        &mut self,
        tree: &mut TreeInfo,
        parent: Option<(PageId, usize)>,
        id: PageId,
    ) -> Result<PageId> {
        let new_id = self.store.touch(self.map, id)?;
        if new_id != id {
            match parent {
                None => tree.root = new_id,
                Some((parent_id, index)) => {
                    node::set_child(self.store.page_mut(parent_id), index, new_id)
                }
            }
        }
        Ok(new_id)
    }

    /// A writer for a key's tree of values: its keys are in the database's order of values.
    pub(super) fn values_writer(&mut self) -> Writer<'_> {
        Writer {
            map: self.map,
            store: &mut *self.store,
            verify: self.verify,
            order: self.value_order,
            value_order: self.value_order,
        }
    }

    /// Frees every page of the tree of a key's values `values`, uncounting them from `tree`.
    pub(super) fn free_value_tree(
        &mut self,
        tree: &mut TreeInfo,
        values: &mut TreeInfo,
    ) -> Result<()> {
        tree.branch_pages = tree.branch_pages.saturating_sub(values.branch_pages);
        tree.leaf_pages = tree.leaf_pages.saturating_sub(values.leaf_pages);
        self.values_writer().clear(values)
    }

    /// Frees the overflow run a stored value uses, if any.
    fn free_value(&mut self, tree: &mut TreeInfo, value: StoredValue<'_>) -> Result<()> {
        if let StoredValue::Overflow { page, len } = value {
            let pages = overflow::check_run(self, page, len)?;
            self.store.free(page, pages);
            tree.overflow_pages = tree.overflow_pages.saturating_sub(pages as u64);
        }
        Ok(())
    }

    /// Inserts or replaces `key`. Returns whether the key existed before.
    pub(crate) fn put(
        &mut self,
        tree: &mut TreeInfo,
        key: &[u8],
        value: &[u8],
        mode: PutMode,
    ) -> Result<bool> {
        self.put_stored(tree, key, NewValue::Bytes(value), mode)
    }

    /// Inserts or replaces `key` with `value`, stored as it says. Returns whether the key
    /// existed. A replaced overflow run is freed; a replaced list or tree of duplicates is
    /// the caller's (`dup_write.rs`), which passes the same tree with a new descriptor.
    pub(super) fn put_stored(
        &mut self,
        tree: &mut TreeInfo,
        key: &[u8],
        value: NewValue<'_>,
        mode: PutMode,
    ) -> Result<bool> {
        let page_size = self.store.page_size();
        let dense = tree.flags.contains(TreeFlags::DENSE_LEAVES);
        if tree.root.is_none() {
            let layout = if dense {
                // Keys of width 0 never make a tree of values: a key has one empty value
                // at most.
                debug_assert!(!key.is_empty());
                Layout::DenseLeaf { width: key.len() }
            } else {
                Layout::Leaf
            };
            let id = self.store.allocate(self.map, 1)?;
            node::init(self.store.page_mut(id), id, layout);
            *tree = TreeInfo {
                root: id,
                depth: 1,
                leaf_pages: 1,
                ..TreeInfo::empty(tree.flags)
            };
        }
        let (path, leaf_id, position, old_cell_size) = if mode == PutMode::Append {
            // Appending goes straight down the rightmost edge: no searching, one comparison.
            let (path, leaf_id) = self.descend_rightmost(tree)?;
            let leaf = self.leaf(tree, leaf_id)?;
            check_width(&leaf, key)?;
            let count = leaf.count();
            if count > 0 && !self.order.less(leaf.key(count - 1)?, key) {
                return Err(Error::Mdb(MdbError::KeyExist));
            }
            (path, leaf_id, Err(count), None)
        } else {
            let (path, leaf_id) = self.descend(tree, key)?;
            let leaf = self.leaf(tree, leaf_id)?;
            check_width(&leaf, key)?;
            let position = leaf.search_leaf(key, self.order)?;
            let old_cell_size = match position {
                Ok(_) if mode == PutMode::NoOverwrite => {
                    return Err(Error::Mdb(MdbError::KeyExist))
                }
                Ok(index) => Some(leaf.cell(index)?.len()),
                Err(_) => None,
            };
            (path, leaf_id, position, old_cell_size)
        };
        // Store the value inline when the whole cell stays small, else in an overflow run.
        // The run is allocated before the path is copied: the path's single pages would
        // otherwise come out of the lowest free stretch (`store/pool.rs`), which may be the
        // one a replaced value of the same length left.
        let value = match value {
            NewValue::Bytes(value) => value,
            NewValue::Stored(stored) => {
                debug_assert!(
                    node::leaf_cell_size(key.len(), &stored) <= node::cell_size_max(page_size)
                );
                return self.place(tree, path, leaf_id, position, old_cell_size, key, stored);
            }
        };
        let inline_size = node::leaf_cell_size(key.len(), &StoredValue::Inline(value));
        let stored = if inline_size <= node::cell_size_max(page_size) {
            StoredValue::Inline(value)
        } else {
            let page = overflow::write(self.store, self.map, value)?;
            tree.overflow_pages = tree
                .overflow_pages
                .saturating_add(overflow::pages_for(value.len(), page_size) as u64);
            StoredValue::Overflow {
                page,
                len: value.len(),
            }
        };
        self.place(tree, path, leaf_id, position, old_cell_size, key, stored)
    }

    /// Copies the path to the leaf and puts the cell for `key` and `stored` at `position`
    /// (`Ok`: replacing the cell there, whose size was `old_cell_size`).
    #[allow(clippy::too_many_arguments)]
    fn place(
        &mut self,
        tree: &mut TreeInfo,
        mut path: Path,
        leaf_id: PageId,
        position: std::result::Result<usize, usize>,
        old_cell_size: Option<usize>,
        key: &[u8],
        stored: StoredValue<'_>,
    ) -> Result<bool> {
        let leaf_id = self.touch_path(tree, &mut path, leaf_id)?;
        // A dense leaf's cell is its key (`put_stored` checked its width).
        let dense = tree.flags.contains(TreeFlags::DENSE_LEAVES);
        let cell_size = if dense {
            key.len()
        } else {
            node::leaf_cell_size(key.len(), &stored)
        };
        let write = |out: &mut [u8]| {
            if dense {
                out.copy_from_slice(key)
            } else {
                node::write_leaf_cell(out, key, &stored)
            }
        };

        let index = match position {
            Ok(index) => {
                let old_stored = {
                    let (_, old) = self.leaf(tree, leaf_id)?.entry(index)?;
                    match old {
                        StoredValue::Overflow { page, len } => Some((page, len)),
                        _ => None,
                    }
                };
                if let Some((page, len)) = old_stored {
                    self.free_value(tree, StoredValue::Overflow { page, len })?;
                }
                let old_size = old_cell_size.expect("the key exists");
                let page = self.store.page_mut(leaf_id);
                if old_size == cell_size {
                    node::overwrite_cell(page, index, cell_size, write);
                    return Ok(true);
                }
                node::remove_cell(page, index, old_size);
                index
            }
            Err(index) => {
                tree.entries = tree.entries.saturating_add(1);
                index
            }
        };
        let page = self.store.page_mut(leaf_id);
        if !node::insert_cell_with(page, index, cell_size, write) {
            let mut cell = vec![0u8; cell_size];
            write(&mut cell);
            self.split_insert(tree, &mut path, leaf_id, true, index, &cell)?;
        }
        Ok(position.is_ok())
    }

    /// Inserts `cell` at `index` of the full dirty page `id` by splitting it; pushes the new
    /// separator into the parent, splitting upwards as needed.
    fn split_insert(
        &mut self,
        tree: &mut TreeInfo,
        path: &mut Path,
        id: PageId,
        is_leaf: bool,
        index: usize,
        cell: &[u8],
    ) -> Result<()> {
        #[cfg(debug_assertions)]
        let check = invariants::Split::before(self, path.last().copied(), id, is_leaf, index, cell);
        let (right_id, separator) = if is_leaf && index == self.leaf(tree, id)?.count() {
            self.split_leaf_at_end(tree, id, cell)?
        } else {
            self.split_in_two(tree, id, is_leaf, index, cell)?
        };
        #[cfg(debug_assertions)]
        check.after(self, right_id, &separator);
        self.insert_separator(tree, path, id, right_id, &separator)
    }

    /// Splits the full dirty page `id` in two to insert `cell` at `index`: `id` keeps the
    /// left half, a new page the right one. Returns the new page and the separator for it.
    fn split_in_two(
        &mut self,
        tree: &mut TreeInfo,
        id: PageId,
        is_leaf: bool,
        index: usize,
        cell: &[u8],
    ) -> Result<(PageId, Vec<u8>)> {
        let old_page = self.store.page_mut(id).to_vec();
        let old = Node::open(&old_page, id, is_leaf)?;
        let layout = old.layout();
        let mut cells: Vec<&[u8]> = Vec::with_capacity(old.count() + 1);
        for position in 0..old.count() {
            cells.push(old.cell(position)?);
        }
        cells.insert(index, cell);

        // Appending at the end of a page (sorted loads) leaves the old page full; anywhere
        // else, split by bytes into two halves.
        let split_at = if index == old.count() {
            // A branch keeps two cells on the right: a branch needs at least two children.
            if is_leaf {
                cells.len() - 1
            } else {
                cells.len() - 2
            }
        } else {
            let total: usize = cells.iter().map(|cell| cell.len() + 2).sum();
            let mut left = 0;
            let mut split_at = 0;
            while split_at < cells.len() - 1 && left + cells[split_at].len() + 2 <= total / 2 {
                left += cells[split_at].len() + 2;
                split_at += 1;
            }
            split_at.clamp(1, cells.len() - 1)
        };

        let right_id = self.store.allocate(self.map, 1)?;
        let separator: Vec<u8>;
        if is_leaf {
            let last_left = layout.cell_key(cells[split_at - 1]);
            let first_right = layout.cell_key(cells[split_at]);
            separator = self.order.separator(id, last_left, first_right)?.to_vec();
            node::fill(
                self.store.page_mut(right_id),
                right_id,
                layout,
                &cells[split_at..],
            )?;
            tree.leaf_pages = tree.leaf_pages.saturating_add(1);
        } else {
            // The first right cell's key moves up; its child becomes the right page's cell 0.
            separator = node::cell_key(cells[split_at], false).to_vec();
            let first = node::branch_cell(node::cell_child(cells[split_at]), b"");
            let mut right_cells: Vec<&[u8]> = vec![&first];
            right_cells.extend_from_slice(&cells[split_at + 1..]);
            node::fill(
                self.store.page_mut(right_id),
                right_id,
                layout,
                &right_cells,
            )?;
            tree.branch_pages = tree.branch_pages.saturating_add(1);
        }
        node::fill(self.store.page_mut(id), id, layout, &cells[..split_at])?;
        Ok((right_id, separator))
    }

    /// Splits the full leaf `id` for a `cell` that goes after all of its cells (sorted loads):
    /// the leaf stays as it is, full, and a new right leaf starts with the cell alone. The
    /// general split would rebuild the left page unchanged, a page copy per leaf of the load.
    /// Returns the new page and the separator for it.
    fn split_leaf_at_end(
        &mut self,
        tree: &mut TreeInfo,
        id: PageId,
        cell: &[u8],
    ) -> Result<(PageId, Vec<u8>)> {
        let (separator, layout) = {
            let left = self.leaf(tree, id)?;
            let last = left
                .count()
                .checked_sub(1)
                .ok_or_else(|| Error::corrupted(id, "an empty leaf has no room for one cell"))?;
            let last_left = left.key(last)?;
            let first_right = left.layout().cell_key(cell);
            let separator = self.order.separator(id, last_left, first_right)?.to_vec();
            (separator, left.layout())
        };
        let right_id = self.store.allocate(self.map, 1)?;
        node::fill(self.store.page_mut(right_id), right_id, layout, &[cell])?;
        tree.leaf_pages = tree.leaf_pages.saturating_add(1);
        Ok((right_id, separator))
    }

    /// After `left_id` split off `right_id`, adds the separator to the parent (the last path
    /// entry), or grows a new root.
    fn insert_separator(
        &mut self,
        tree: &mut TreeInfo,
        path: &mut Path,
        left_id: PageId,
        right_id: PageId,
        separator: &[u8],
    ) -> Result<()> {
        let cell = node::branch_cell(right_id, separator);
        match path.pop() {
            None => {
                let root = self.store.allocate(self.map, 1)?;
                let first = node::branch_cell(left_id, b"");
                node::fill(
                    self.store.page_mut(root),
                    root,
                    Layout::Branch,
                    &[&first, &cell],
                )?;
                tree.root = root;
                tree.depth += 1;
                tree.branch_pages = tree.branch_pages.saturating_add(1);
                #[cfg(debug_assertions)]
                invariants::check_new_root(self, tree, left_id, right_id, separator);
                Ok(())
            }
            Some((parent, index)) => {
                #[cfg(debug_assertions)]
                let check = invariants::Insertion::before(self, parent, index, separator);
                if node::insert_cell(self.store.page_mut(parent), index + 1, &cell) {
                    #[cfg(debug_assertions)]
                    check.after(self, left_id, right_id, separator);
                    Ok(())
                } else {
                    self.split_insert(tree, path, parent, false, index + 1, &cell)
                }
            }
        }
    }

    /// Deletes `key`. Returns whether it existed.
    pub(crate) fn delete(&mut self, tree: &mut TreeInfo, key: &[u8]) -> Result<bool> {
        if tree.root.is_none() {
            return Ok(false);
        }
        let (mut path, leaf_id) = self.descend(tree, key)?;
        let index = match self.leaf(tree, leaf_id)?.search_leaf(key, self.order)? {
            Ok(index) => index,
            Err(_) => return Ok(false),
        };
        let leaf_id = self.touch_path(tree, &mut path, leaf_id)?;
        let (size, removed) = {
            let leaf = self.leaf(tree, leaf_id)?;
            let (_, value) = leaf.entry(index)?;
            let removed = match value {
                StoredValue::Inline(_) => Removed::One,
                StoredValue::Overflow { page, len } => Removed::Run { page, len },
                StoredValue::Duplicates(list) => {
                    Removed::Listed(InlineList::parse(list, leaf_id, None)?.len() as u64)
                }
                StoredValue::DuplicateTree(descriptor) => {
                    Removed::Tree(decode_value_tree(descriptor, leaf_id, tree.flags)?)
                }
            };
            (leaf.cell(index)?.len(), removed)
        };
        let values = match removed {
            Removed::One => 1,
            Removed::Run { page, len } => {
                self.free_value(tree, StoredValue::Overflow { page, len })?;
                1
            }
            Removed::Listed(count) => count,
            Removed::Tree(mut values) => {
                let count = values.entries;
                self.free_value_tree(tree, &mut values)?;
                count
            }
        };
        node::remove_cell(self.store.page_mut(leaf_id), index, size);
        tree.entries = tree.entries.saturating_sub(values);
        self.rebalance(tree, &mut path, leaf_id, true)?;
        Ok(true)
    }

    /// Restores the fill invariant after a removal from the dirty page `id`.
    fn rebalance(
        &mut self,
        tree: &mut TreeInfo,
        path: &mut Path,
        mut id: PageId,
        mut is_leaf: bool,
    ) -> Result<()> {
        let page_size = self.store.page_size();
        let usable = node::usable_bytes(page_size);
        loop {
            let (count, used) = {
                let this = Node::open(self.read_tree_page(id)?, id, is_leaf)?;
                (this.count(), this.used_bytes())
            };
            let Some(&(parent_id, index)) = path.last() else {
                return self.shrink_root(tree, id, is_leaf, count);
            };
            let minimum_count = if is_leaf { 1 } else { 2 };
            if used * 4 >= usable && count >= minimum_count {
                return Ok(());
            }
            let parent_count = self.branch(parent_id)?.count();
            if parent_count < 2 {
                // No sibling to work with (only in an odd but valid shape); let the parent
                // level deal with it.
                path.pop();
                id = parent_id;
                is_leaf = false;
                continue;
            }
            let (left_index, right_index) = if index > 0 {
                (index - 1, index)
            } else {
                (0, 1)
            };
            let sibling_index = if index > 0 { left_index } else { right_index };
            let sibling_old = self.branch(parent_id)?.child(sibling_index)?;
            let sibling = self.touch_linked(tree, Some((parent_id, sibling_index)), sibling_old)?;
            let (left_id, right_id) = if index > 0 {
                (sibling, id)
            } else {
                (id, sibling)
            };
            let separator = self.branch(parent_id)?.key(right_index)?.to_vec();
            #[cfg(debug_assertions)]
            let check = invariants::Rebalance::before(
                self,
                parent_id,
                left_index,
                (left_id, right_id),
                is_leaf,
                index == 0,
            );

            if self.try_merge(tree, left_id, right_id, is_leaf, &separator)? {
                let parent = self.branch(parent_id)?;
                let size = parent.cell(right_index)?.len();
                node::remove_cell(self.store.page_mut(parent_id), right_index, size);
                #[cfg(debug_assertions)]
                check.after_merge(self);
                self.store.free(right_id, 1);
                path.pop();
                id = parent_id;
                is_leaf = false;
                continue;
            }
            let new_separator = self.borrow(left_id, right_id, is_leaf, index == 0, &separator)?;
            #[cfg(debug_assertions)]
            check.after_borrow(self, &new_separator);
            // Replace the parent's separator for the right page; it may have grown.
            let parent = self.branch(parent_id)?;
            let size = parent.cell(right_index)?.len();
            node::remove_cell(self.store.page_mut(parent_id), right_index, size);
            let cell = node::branch_cell(right_id, &new_separator);
            path.pop();
            if node::insert_cell(self.store.page_mut(parent_id), right_index, &cell) {
                #[cfg(debug_assertions)]
                check.after_new_separator(self, &new_separator);
            } else {
                self.split_insert(tree, path, parent_id, false, right_index, &cell)?;
            }
            return Ok(());
        }
    }

    /// An empty root leaf empties the tree; a root branch with one child hands the root down.
    fn shrink_root(
        &mut self,
        tree: &mut TreeInfo,
        id: PageId,
        is_leaf: bool,
        count: usize,
    ) -> Result<()> {
        if is_leaf && count == 0 {
            self.store.free(id, 1);
            // No assertion that the overflow count is 0: it comes from the file, where it may
            // be wrong (the checker reports that); the empty tree's count is 0 all the same.
            *tree = TreeInfo::empty(tree.flags);
        } else if !is_leaf && count == 1 {
            let child = self.branch(id)?.child(0)?;
            #[cfg(debug_assertions)]
            let check = invariants::RootReplacement::before(self, tree, child);
            self.store.free(id, 1);
            tree.root = child;
            tree.depth -= 1;
            tree.branch_pages = tree.branch_pages.saturating_sub(1);
            #[cfg(debug_assertions)]
            check.after(self, tree);
        }
        Ok(())
    }

    /// Moves every cell of `right_id` into `left_id` when they fit in one page.
    fn try_merge(
        &mut self,
        tree: &mut TreeInfo,
        left_id: PageId,
        right_id: PageId,
        is_leaf: bool,
        separator: &[u8],
    ) -> Result<bool> {
        let usable = node::usable_bytes(self.store.page_size());
        let (left_page, right_page) = (
            self.read(left_id, 1)?.to_vec(),
            self.read(right_id, 1)?.to_vec(),
        );
        let (left, right) = siblings(&left_page, left_id, &right_page, right_id, is_leaf)?;
        // A branch's cell 0 has an empty key; merged, it needs the parent's separator.
        let extra = if is_leaf { 0 } else { separator.len() };
        if left.used_bytes() + right.used_bytes() + extra > usable {
            return Ok(false);
        }
        let mut cells: Vec<Vec<u8>> = Vec::with_capacity(left.count() + right.count());
        for position in 0..left.count() {
            cells.push(left.cell(position)?.to_vec());
        }
        for position in 0..right.count() {
            if !is_leaf && position == 0 {
                cells.push(node::branch_cell(right.child(0)?, separator));
            } else {
                cells.push(right.cell(position)?.to_vec());
            }
        }
        let slices: Vec<&[u8]> = cells.iter().map(Vec::as_slice).collect();
        node::fill(
            self.store.page_mut(left_id),
            left_id,
            left.layout(),
            &slices,
        )?;
        if is_leaf {
            tree.leaf_pages = tree.leaf_pages.saturating_sub(1);
        } else {
            tree.branch_pages = tree.branch_pages.saturating_sub(1);
        }
        Ok(true)
    }

    /// Moves one cell between siblings toward the underfull one (`left_is_underfull` says
    /// which). Returns the new separator between them.
    fn borrow(
        &mut self,
        left_id: PageId,
        right_id: PageId,
        is_leaf: bool,
        left_is_underfull: bool,
        separator: &[u8],
    ) -> Result<Vec<u8>> {
        let (left_page, right_page) = (
            self.read(left_id, 1)?.to_vec(),
            self.read(right_id, 1)?.to_vec(),
        );
        let (left, right) = siblings(&left_page, left_id, &right_page, right_id, is_leaf)?;
        let layout = left.layout();
        let mut left_cells: Vec<Vec<u8>> = (0..left.count())
            .map(|i| left.cell(i).map(<[u8]>::to_vec))
            .collect::<Result<_>>()?;
        let mut right_cells: Vec<Vec<u8>> = (0..right.count())
            .map(|i| right.cell(i).map(<[u8]>::to_vec))
            .collect::<Result<_>>()?;
        let new_separator = if is_leaf {
            if left_is_underfull {
                left_cells.push(right_cells.remove(0));
            } else {
                right_cells.insert(0, left_cells.pop().expect("the donor has cells"));
            }
            let last_left = layout.cell_key(left_cells.last().expect("left has cells"));
            let first_right = layout.cell_key(&right_cells[0]);
            self.order
                .separator(left_id, last_left, first_right)?
                .to_vec()
        } else if left_is_underfull {
            // The right page's first child moves left under the old separator; the right
            // page's second separator moves up.
            let moved = right_cells.remove(0);
            left_cells.push(node::branch_cell(node::cell_child(&moved), separator));
            let new_first = right_cells.remove(0);
            let up = node::cell_key(&new_first, false).to_vec();
            right_cells.insert(0, node::branch_cell(node::cell_child(&new_first), b""));
            up
        } else {
            // The left page's last child moves right as its new cell 0; its separator moves up
            // and the old separator goes down onto the right page's former cell 0.
            let moved = left_cells.pop().expect("the donor has cells");
            let old_first = right_cells.remove(0);
            right_cells.insert(
                0,
                node::branch_cell(node::cell_child(&old_first), separator),
            );
            right_cells.insert(0, node::branch_cell(node::cell_child(&moved), b""));
            node::cell_key(&moved, false).to_vec()
        };
        let left_slices: Vec<&[u8]> = left_cells.iter().map(Vec::as_slice).collect();
        let right_slices: Vec<&[u8]> = right_cells.iter().map(Vec::as_slice).collect();
        node::fill(self.store.page_mut(left_id), left_id, layout, &left_slices)?;
        node::fill(
            self.store.page_mut(right_id),
            right_id,
            layout,
            &right_slices,
        )?;
        Ok(new_separator)
    }

    /// Frees every page of `tree` and empties it.
    pub(crate) fn clear(&mut self, tree: &mut TreeInfo) -> Result<()> {
        check_shape(tree)?;
        if tree.root.is_none() {
            return Ok(());
        }
        // The pages of the tree and, in a duplicate-sorted database, of its trees of values,
        // in one walk: a page reached twice (a corrupt descriptor pointing into another
        // tree) is corruption, never freed twice. A tree of values holds plain cells only.
        let duplicates = tree.flags.contains(TreeFlags::DUP_SORT);
        let mut to_visit = vec![(*tree, tree.root, 0u32, duplicates)];
        let mut to_free: Vec<(PageId, usize)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        while let Some((walked, id, level, may_hold_values)) = to_visit.pop() {
            if !seen.insert(id) {
                return Err(Error::corrupted(
                    id,
                    "a page is reachable twice in one tree",
                ));
            }
            let node = open_node(self, &walked, level, id)?;
            for index in 0..node.count() {
                if !node.is_leaf() {
                    to_visit.push((walked, node.child(index)?, level + 1, may_hold_values));
                    continue;
                }
                match node.entry(index)?.1 {
                    StoredValue::Inline(_) => {}
                    StoredValue::Overflow { page, len } if !may_hold_values => {
                        to_free.push((page, overflow::check_run(self, page, len)?));
                    }
                    StoredValue::Duplicates(_) if may_hold_values => {}
                    StoredValue::DuplicateTree(descriptor) if may_hold_values => {
                        let values = decode_value_tree(descriptor, id, walked.flags)?;
                        check_shape(&values)?;
                        if !values.root.is_none() {
                            to_visit.push((values, values.root, 0, false));
                        }
                    }
                    _ => {
                        return Err(Error::corrupted(
                            id,
                            "a cell of a kind its tree cannot hold",
                        ))
                    }
                }
            }
            to_free.push((id, 1));
        }
        for (id, pages) in to_free {
            self.store.free(id, pages);
        }
        *tree = TreeInfo::empty(tree.flags);
        Ok(())
    }
}

/// Refuses a key of another width than a dense leaf's: in a tree of a key's values of a
/// `DUP_FIXED` database, a value of another size than the key's others.
#[inline(always)]
fn check_width(leaf: &Node<'_>, key: &[u8]) -> Result<()> {
    if !leaf.is_dense() {
        return Ok(());
    }
    match leaf.layout() {
        Layout::DenseLeaf { width } if width != key.len() => Err(Error::Mdb(MdbError::BadValSize)),
        _ => Ok(()),
    }
}

/// Opens two sibling pages at one level, refused unless laid out alike (a dense leaf beside
/// a slotted one, or dense leaves of two widths, is a corrupt tree).
fn siblings<'p>(
    left_page: &'p [u8],
    left_id: PageId,
    right_page: &'p [u8],
    right_id: PageId,
    is_leaf: bool,
) -> Result<(Node<'p>, Node<'p>)> {
    let left = Node::open(left_page, left_id, is_leaf)?;
    let right = Node::open(right_page, right_id, is_leaf)?;
    if left.layout() != right.layout() {
        return Err(Error::corrupted(
            right_id,
            "sibling pages laid out differently",
        ));
    }
    Ok((left, right))
}
