//! Copying a tree into a new, densely numbered file (compaction), with its pages refilled.
//!
//! The entries are read in key order and packed into full pages, as a sorted bulk load would
//! leave them: leaves first, then each branch level above them, the root last. A tree whose
//! pages a run of deletes left half empty comes out about half the size. Overflow runs are
//! copied whole. Free pages are left behind, so the copy has none.

use super::cursor::{check_shape, open_node};
use super::duplicates::decode_value_tree;
use super::duplicates::InlineList;
use super::node::{self, Layout, StoredValue};
use super::order::KeyOrder;
use super::{overflow, PageSource};
use crate::error::{Error, Result};
use crate::page::header;
use crate::page::meta::{TreeFlags, TreeInfo};
use crate::page::PageId;

/// Where copied pages go: [`CopySink::allocate`] numbers them, [`CopySink::write`] stores them.
pub(crate) trait CopySink {
    /// Reserves `pages` consecutive page numbers.
    fn allocate(&mut self, pages: usize) -> PageId;
    /// Writes a page (or run) at its number. The header's page number and checksum are set.
    fn write(&mut self, id: PageId, bytes: &[u8]) -> Result<()>;
}

/// Given a leaf entry's key and inline value, a replacement value of the same length, or
/// `None` to keep it.
pub(crate) type RewriteValue<'r> = dyn FnMut(&[u8], &[u8]) -> Result<Option<Vec<u8>>> + 'r;

/// Copies `tree` from `source` into `sink` with full pages; returns the copy's descriptor.
/// `rewrite_value` may replace an inline value with another of the same length (the catalog
/// uses it to point at the copied trees).
///
/// The entries keep the order they have in `tree`, which `order` checks when it is known (a
/// custom comparator is known only to the process that registered it); without it, each
/// separator is a whole key, right under any order.
///
/// In a duplicate-sorted database, `value_order` is the order of a key's values (`None`
/// when not known, as for keys), and each key's tree of values is copied packed too.
pub(crate) fn copy_tree<S: PageSource + ?Sized>(
    source: &S,
    tree: &TreeInfo,
    (order, value_order): (Option<KeyOrder>, Option<KeyOrder>),
    sink: &mut dyn CopySink,
    rewrite_value: &mut RewriteValue<'_>,
) -> Result<TreeInfo> {
    check_shape(tree)?;
    if tree.root.is_none() {
        return Ok(TreeInfo::empty(tree.flags));
    }
    let mut builder = TreeBuilder::new(source.page_size(), tree.flags, order);
    builder.value_order = value_order;
    copy_entries(
        source,
        tree,
        tree.root,
        0,
        sink,
        rewrite_value,
        &mut builder,
    )?;
    builder.finish(sink)
}

/// Feeds the entries under page `id`, in key order, to `builder`.
fn copy_entries<S: PageSource + ?Sized>(
    source: &S,
    tree: &TreeInfo,
    id: PageId,
    level: u32,
    sink: &mut dyn CopySink,
    rewrite_value: &mut RewriteValue<'_>,
    builder: &mut TreeBuilder,
) -> Result<()> {
    let node = open_node(source, tree, level, id)?;
    for index in 0..node.count() {
        if !node.is_leaf() {
            let child = node.child(index)?;
            copy_entries(source, tree, child, level + 1, sink, rewrite_value, builder)?;
            continue;
        }
        let (key, value) = node.entry(index)?;
        let replacement;
        let value = match value {
            StoredValue::Overflow { page: run, len } => {
                let pages = overflow::check_run(source, run, len)?;
                let new_run = sink.allocate(pages);
                let mut bytes = source.read_overflow_run(run, pages)?.to_vec();
                seal_as(&mut bytes, new_run);
                sink.write(new_run, &bytes)?;
                builder.overflow_pages += pages as u64;
                StoredValue::Overflow { page: new_run, len }
            }
            StoredValue::Duplicates(_) | StoredValue::DuplicateTree(_)
                if !tree.flags.contains(TreeFlags::DUP_SORT) =>
            {
                // A tree of values holds plain cells only, as does any other tree.
                return Err(Error::corrupted(
                    id,
                    "several values of one key in a tree without duplicates",
                ));
            }
            StoredValue::Duplicates(list) => {
                let list = InlineList::parse(list, id, builder.value_order)?;
                builder.entries += list.len() as u64 - 1;
                value
            }
            StoredValue::DuplicateTree(descriptor) => {
                let values = decode_value_tree(descriptor, id, tree.flags)?;
                let orders = (builder.value_order, None);
                let copied = copy_tree(source, &values, orders, sink, &mut |_, _| Ok(None))?;
                builder.value_tree_pages.0 += copied.branch_pages;
                builder.value_tree_pages.1 += copied.leaf_pages;
                builder.entries += copied.entries.saturating_sub(1);
                replacement = Some(copied.encode().to_vec());
                StoredValue::DuplicateTree(replacement.as_deref().expect("just set"))
            }
            StoredValue::Inline(bytes) => {
                replacement = rewrite_value(key, bytes)?;
                match &replacement {
                    Some(new) if new.len() != bytes.len() => {
                        return Err(Error::corrupted(id, "a rewritten value changed length"));
                    }
                    Some(new) => StoredValue::Inline(new),
                    None => StoredValue::Inline(bytes),
                }
            }
        };
        let cell = if builder.dense() {
            // A dense leaf's cell is its key (`open_node` checked the layout).
            key.to_vec()
        } else {
            let mut cell = vec![0u8; node::leaf_cell_size(key.len(), &value)];
            node::write_leaf_cell(&mut cell, key, &value);
            cell
        };
        builder.add_leaf_cell(sink, id, key, cell)?;
    }
    Ok(())
}

/// One level of the tree being built: the page being filled.
#[derive(Default)]
struct Level {
    cells: Vec<Vec<u8>>,
    /// Bytes the cells and their slots take.
    used: usize,
    /// Pages of this level written so far.
    written: u64,
    /// For a branch level: the separator of the page being filled (its first child's), which
    /// moves up to the parent when the page is written; the page stores an empty key there.
    first_key: Vec<u8>,
}

/// Builds a tree bottom-up from cells given in key order, every page as full as it gets.
struct TreeBuilder {
    page_size: usize,
    flags: TreeFlags,
    order: Option<KeyOrder>,
    /// The order of a key's values, in a duplicate-sorted database.
    value_order: Option<KeyOrder>,
    /// Branch and leaf pages of the trees of values copied for the entries.
    value_tree_pages: (u64, u64),
    /// Index 0 is the leaf level.
    levels: Vec<Level>,
    /// The last key of the previous leaf written, for the separator of the next one.
    last_leaf_key: Vec<u8>,
    /// The last key added to the leaf being filled.
    last_key: Vec<u8>,
    entries: u64,
    overflow_pages: u64,
}

impl TreeBuilder {
    fn new(page_size: usize, flags: TreeFlags, order: Option<KeyOrder>) -> TreeBuilder {
        TreeBuilder {
            page_size,
            flags,
            order,
            value_order: None,
            value_tree_pages: (0, 0),
            levels: vec![Level::default()],
            last_leaf_key: Vec::new(),
            last_key: Vec::new(),
            entries: 0,
            overflow_pages: 0,
        }
    }

    /// Whether the leaves are dense (a tree of a key's values of a `DUP_FIXED` database).
    fn dense(&self) -> bool {
        self.flags.contains(TreeFlags::DENSE_LEAVES)
    }

    /// Bytes a cell of `level` costs besides its own: its slot, which dense leaves have not.
    fn slot_cost(&self, level: usize) -> usize {
        if level == 0 && self.dense() {
            0
        } else {
            node::SLOT_SIZE
        }
    }

    /// The layout of the pages of `level` whose first cell is `first`.
    fn layout(&self, level: usize, first: &[u8]) -> Layout {
        match level {
            0 if self.dense() => Layout::DenseLeaf { width: first.len() },
            0 => Layout::Leaf,
            _ => Layout::Branch,
        }
    }

    fn fits(&self, level: usize, cell_len: usize) -> bool {
        self.levels[level].used + cell_len + self.slot_cost(level)
            <= node::usable_bytes(self.page_size)
    }

    /// Adds the next leaf cell (whose key is `key`, read from source page `source_id`).
    fn add_leaf_cell(
        &mut self,
        sink: &mut dyn CopySink,
        source_id: PageId,
        key: &[u8],
        cell: Vec<u8>,
    ) -> Result<()> {
        // Compared only with a key that was added: a comparator is given keys, nothing else.
        let in_order = || {
            self.order
                .is_none_or(|order| order.less(&self.last_key, key))
        };
        if self.entries > 0 && !in_order() {
            return Err(Error::corrupted(source_id, "keys are out of order"));
        }
        if !self.levels[0].cells.is_empty() && !self.fits(0, cell.len()) {
            self.last_leaf_key = std::mem::take(&mut self.last_key);
            self.write_page(sink, 0)?;
        }
        let slot_cost = self.slot_cost(0);
        let leaf = &mut self.levels[0];
        if leaf.cells.is_empty() && leaf.written > 0 {
            // The separator between the previous leaf and this one, the shortest that works.
            leaf.first_key = match self.order {
                Some(order) => order
                    .separator(source_id, &self.last_leaf_key, key)?
                    .to_vec(),
                None => key.to_vec(),
            };
        }
        leaf.used += cell.len() + slot_cost;
        leaf.cells.push(cell);
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.entries += 1;
        Ok(())
    }

    /// Adds a child (and the separator of its range) to branch level `level`.
    fn add_child(
        &mut self,
        sink: &mut dyn CopySink,
        level: usize,
        child: PageId,
        separator: Vec<u8>,
    ) -> Result<()> {
        if self.levels.len() == level {
            self.levels.push(Level::default());
        }
        let cell_len = node::branch_cell_size(separator.len());
        if !self.levels[level].cells.is_empty() && !self.fits(level, cell_len) {
            self.write_page(sink, level)?;
        }
        let branch = &mut self.levels[level];
        if branch.cells.is_empty() {
            // A page's first cell has an empty key; its separator goes up with the page.
            branch.first_key = separator;
            let cell = node::branch_cell(child, b"");
            branch.used += cell.len() + node::SLOT_SIZE;
            branch.cells.push(cell);
        } else {
            branch.used += cell_len + node::SLOT_SIZE;
            branch.cells.push(node::branch_cell(child, &separator));
        }
        Ok(())
    }

    /// Writes the page being filled at `level` and hands it to the level above.
    fn write_page(&mut self, sink: &mut dyn CopySink, level: usize) -> Result<()> {
        let id = self.write_cells(sink, level)?;
        let separator = std::mem::take(&mut self.levels[level].first_key);
        self.add_child(sink, level + 1, id, separator)
    }

    /// Writes the cells of `level` as one page; returns its number.
    fn write_cells(&mut self, sink: &mut dyn CopySink, level: usize) -> Result<PageId> {
        let id = sink.allocate(1);
        let mut page = vec![0u8; self.page_size];
        let layout = self.layout(
            level,
            self.levels[level].cells.first().map_or(&[], Vec::as_slice),
        );
        let this = &mut self.levels[level];
        let cells: Vec<&[u8]> = this.cells.iter().map(Vec::as_slice).collect();
        node::fill(&mut page, id, layout, &cells)?;
        seal_as(&mut page, id);
        sink.write(id, &page)?;
        this.cells.clear();
        this.used = 0;
        this.written += 1;
        Ok(id)
    }

    /// Writes every partly filled page, bottom up; the last one written is the root.
    fn finish(mut self, sink: &mut dyn CopySink) -> Result<TreeInfo> {
        if self.entries == 0 {
            return Ok(TreeInfo::empty(self.flags));
        }
        let mut level = 0;
        // A level that has written no page yet is the top one: its page is the root.
        while self.levels[level].written > 0 {
            self.write_page(sink, level)?;
            level += 1;
        }
        let root = self.write_cells(sink, level)?;
        let leaf_pages = self.levels[0].written + self.value_tree_pages.1;
        let branch_pages = self.levels[1..]
            .iter()
            .map(|level| level.written)
            .sum::<u64>()
            + self.value_tree_pages.0;
        Ok(TreeInfo {
            root,
            depth: self.levels.len() as u32,
            leaf_pages,
            branch_pages,
            overflow_pages: self.overflow_pages,
            entries: self.entries,
            flags: self.flags,
        })
    }
}

/// Renumbers a page (or run) and recomputes its checksum.
fn seal_as(bytes: &mut [u8], id: PageId) {
    header::set_page_id(bytes, id);
    header::seal(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btree::cursor::tests::Pages;
    use crate::error::MdbError;

    /// A sink that numbers pages and keeps nothing.
    struct Discard(u64);

    impl CopySink for Discard {
        fn allocate(&mut self, pages: usize) -> PageId {
            self.0 += pages as u64;
            PageId::new(self.0 - pages as u64)
        }

        fn write(&mut self, _: PageId, _: &[u8]) -> Result<()> {
            Ok(())
        }
    }

    /// Page 2: a leaf whose one cell says its key's values are the tree rooted at page 2 —
    /// itself. Followed, it would be copied for ever; a tree of values holds plain cells
    /// only, so the copy refuses it, whether met as a database's tree or as a key's values.
    #[test]
    fn a_tree_of_values_holding_a_tree_of_values_is_refused_not_copied_for_ever() {
        let page_size = 512;
        let mut bytes = vec![0u8; 3 * page_size];
        let itself = TreeInfo {
            root: PageId::new(2),
            depth: 1,
            leaf_pages: 1,
            entries: 1,
            ..TreeInfo::default()
        };
        let descriptor = itself.encode();
        let page = &mut bytes[2 * page_size..];
        node::init(page, PageId::new(2), node::Layout::Leaf);
        let stored = StoredValue::DuplicateTree(&descriptor);
        let size = node::leaf_cell_size(1, &stored);
        assert!(node::insert_cell_with(page, 0, size, |out| {
            node::write_leaf_cell(out, b"v", &stored)
        }));
        header::seal(page);
        let pages = Pages { bytes, page_size };
        let orders = (Some(KeyOrder::Bytes), Some(KeyOrder::Bytes));
        for flags in [TreeFlags::empty(), TreeFlags::DUP_SORT] {
            let tree = TreeInfo { flags, ..itself };
            let copied = copy_tree(&pages, &tree, orders, &mut Discard(10), &mut |_, _| {
                Ok(None)
            });
            assert!(
                matches!(copied, Err(Error::Mdb(MdbError::CorruptedPage { .. }))),
                "{flags:?}: {copied:?}"
            );
        }
    }
}
