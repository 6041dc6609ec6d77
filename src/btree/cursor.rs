//! Reading a tree: point lookups and a cursor that walks entries in either direction.
//!
//! Every descent checks that it takes exactly `depth` steps from the root, that branch pages sit
//! above leaf pages, and that every page number is in range, so a corrupt file yields
//! [`Error::Mdb(MdbError::CorruptedPage)`](crate::MdbError::CorruptedPage) and never an endless
//! walk.

use super::node::{self, Node, StoredValue};
use super::order::KeyOrder;
use super::{overflow, PageSource, DEPTH_MAX};
use crate::error::{Error, Result};
use crate::page::meta::{TreeFlags, TreeInfo};
use crate::page::PageId;

/// Resolves a stored value to its bytes: a single value's. A key's several values (found
/// only in duplicate-sorted databases, which are read value by value) are corruption here.
#[inline]
pub(crate) fn value_bytes<'s, S: PageSource + ?Sized>(
    source: &'s S,
    value: StoredValue<'s>,
) -> Result<&'s [u8]> {
    match value {
        StoredValue::Inline(bytes) => Ok(bytes),
        StoredValue::Overflow { page, len } => overflow::read(source, page, len),
        StoredValue::Duplicates(_) | StoredValue::DuplicateTree(_) => Err(Error::corrupted(
            PageId::NONE,
            "several values of one key in a database without duplicates",
        )),
    }
}

/// Checks a tree descriptor's shape before walking it.
pub(crate) fn check_shape(tree: &TreeInfo) -> Result<()> {
    if tree.root.is_none() != (tree.depth == 0) || tree.depth > DEPTH_MAX {
        return Err(Error::corrupted(
            tree.root,
            format!("tree root {} with depth {}", tree.root, tree.depth),
        ));
    }
    Ok(())
}

/// Opens the node of page `id` at `level` (0 = root) of `tree`.
#[inline]
pub(crate) fn open_node<'s, S: PageSource + ?Sized>(
    source: &'s S,
    tree: &TreeInfo,
    level: u32,
    id: PageId,
) -> Result<Node<'s>> {
    let leaf = level + 1 == tree.depth;
    let node = Node::open(source.read_tree_page(id)?, id, leaf)?;
    if leaf {
        check_leaf_layout(tree, &node)?;
    }
    Ok(node)
}

/// Refuses a leaf whose layout is not its tree's: dense exactly in a tree of a key's values
/// of a `DUP_FIXED` database. A writer must never insert a slotted cell into a dense leaf
/// or the reverse, which would write a damaged page under a fresh checksum.
#[inline(always)]
pub(crate) fn check_leaf_layout(tree: &TreeInfo, leaf: &Node<'_>) -> Result<()> {
    if leaf.is_dense() != tree.flags.contains(TreeFlags::DENSE_LEAVES) {
        return Err(layout_mismatch(leaf.id()));
    }
    Ok(())
}

/// The error of [`check_leaf_layout`], out of line: the check runs on every leaf opened.
#[cold]
#[inline(never)]
fn layout_mismatch(leaf: PageId) -> Error {
    Error::corrupted(leaf, "a leaf laid out otherwise than its tree's leaves")
}

/// Looks `key` up in `tree`, whose keys are in `order`.
pub(crate) fn get<'s, S: PageSource + ?Sized>(
    source: &'s S,
    tree: &TreeInfo,
    order: KeyOrder,
    key: &[u8],
) -> Result<Option<&'s [u8]>> {
    check_shape(tree)?;
    if tree.root.is_none() {
        return Ok(None);
    }
    let mut id = tree.root;
    for level in 0..tree.depth - 1 {
        let node = open_node(source, tree, level, id)?;
        id = node.child(node.search_branch(key, order)?)?;
    }
    let leaf = open_node(source, tree, tree.depth - 1, id)?;
    match leaf.search_leaf(key, order)? {
        Ok(index) => Ok(Some(value_bytes(source, leaf.entry(index)?.1)?)),
        Err(_) => Ok(None),
    }
}

/// How many entries from a seek's landing place on have their cells loaded ahead: a seek is
/// usually followed by reading the entries after it.
const SEEK_PREFETCH_CELLS: usize = 8;

/// How many entries ahead of a long forward walk have their cells loaded: a step reads a
/// cell anywhere in the page, so reading them one after another would wait for one miss at
/// a time; loading a few ahead overlaps the misses of the walk.
const WALK_PREFETCH_CELLS: usize = SEEK_PREFETCH_CELLS;

/// How many steps past a seek make a walk a long one, which loads ahead as it goes. A short
/// one (a range of a few entries) does not: most of what it loaded ahead would go unread,
/// pushing out of the cache what the next seek reads.
const LONG_WALK_STEPS: usize = 2 * SEEK_PREFETCH_CELLS;

/// A position in a tree: one node and index per level, root first.
///
/// A cursor is either positioned on an entry or exhausted (its stack is empty).
pub(crate) struct Cursor<'s, S: PageSource + ?Sized> {
    source: &'s S,
    tree: TreeInfo,
    order: KeyOrder,
    stack: Vec<(Node<'s>, usize)>,
    /// Pages opened since the last seek. A walk opens each page of a sound tree at most once,
    /// so more than the file has pages means pages are shared (corruption); without this
    /// bound a corrupt tree whose branches all point at one subtree would take exponential
    /// time to walk.
    opened: u64,
    /// The file's page count when last asked (a write transaction's grows as it allocates),
    /// so that the bound costs a call only when `opened` reaches it.
    page_count: u64,
    /// Steps taken since the last seek ([`LONG_WALK_STEPS`]); `seek_first` counts as a long
    /// walk already, its walks usually reading the whole tree.
    walked: usize,
}

impl<'s, S: PageSource + ?Sized> Cursor<'s, S> {
    /// Opens the page `id` at `level`, counting it against the walk's budget.
    fn open(&mut self, level: u32, id: PageId) -> Result<Node<'s>> {
        self.opened += 1;
        if self.opened > self.page_count {
            self.page_count = self.source.page_count();
        }
        if self.opened > self.page_count {
            return Err(Error::corrupted(
                id,
                "the tree reaches some pages more than once",
            ));
        }
        open_node(self.source, &self.tree, level, id)
    }

    /// The order of the tree's keys.
    pub(crate) fn order(&self) -> KeyOrder {
        self.order
    }

    /// An exhausted cursor over `tree`, whose keys are in `order`; position it with a
    /// `seek_*` method.
    pub(crate) fn new(source: &'s S, tree: TreeInfo, order: KeyOrder) -> Result<Self> {
        check_shape(&tree)?;
        Ok(Cursor {
            source,
            tree,
            order,
            stack: Vec::with_capacity(tree.depth as usize),
            opened: 0,
            page_count: source.page_count(),
            walked: 0,
        })
    }

    /// Descends from the node on top of the stack to a leaf, along the first (or last) child.
    fn descend(&mut self, to_last: bool) -> Result<()> {
        while let Some(&(node, index)) = self.stack.last() {
            if node.is_leaf() {
                break;
            }
            let level = self.stack.len() as u32;
            let child = self.open(level, node.child(index)?)?;
            let start = if to_last {
                child.count().saturating_sub(1)
            } else {
                0
            };
            self.stack.push((child, start));
        }
        Ok(())
    }

    fn start_at_root(&mut self, to_last: bool) -> Result<bool> {
        self.stack.clear();
        self.opened = 0;
        self.walked = 0;
        if self.tree.root.is_none() {
            return Ok(false);
        }
        let root = self.open(0, self.tree.root)?;
        let start = if to_last {
            root.count().saturating_sub(1)
        } else {
            0
        };
        self.stack.push((root, start));
        Ok(true)
    }

    /// Moves to the first entry.
    pub(crate) fn seek_first(&mut self) -> Result<()> {
        if self.start_at_root(false)? {
            self.descend(false)?;
            self.settle_forward()?;
            self.walked = LONG_WALK_STEPS;
            self.prefetch_ahead(WALK_PREFETCH_CELLS);
        }
        Ok(())
    }

    /// Moves to the last entry.
    pub(crate) fn seek_last(&mut self) -> Result<()> {
        if self.start_at_root(true)? {
            self.descend(true)?;
            self.settle_backward()?;
        }
        Ok(())
    }

    /// Moves to the first entry whose key is `>= key` (or `> key` when `inclusive` is false).
    pub(crate) fn seek_after(&mut self, key: &[u8], inclusive: bool) -> Result<()> {
        if !self.start_at_root(false)? {
            return Ok(());
        }
        loop {
            let (node, _) = *self.stack.last().expect("started at the root");
            if node.is_leaf() {
                let index = match node.search_leaf(key, self.order)? {
                    Ok(found) if inclusive => found,
                    Ok(found) => found + 1,
                    Err(insert_at) => insert_at,
                };
                self.stack.last_mut().expect("non-empty").1 = index;
                node.prefetch_cells(index, SEEK_PREFETCH_CELLS);
                if index + SEEK_PREFETCH_CELLS > node.count() {
                    self.prefetch_next_leaf();
                }
                return self.settle_forward();
            }
            let index = node.search_branch(key, self.order)?;
            self.stack.last_mut().expect("non-empty").1 = index;
            let level = self.stack.len() as u32;
            let child = self.open(level, node.child(index)?)?;
            self.stack.push((child, 0));
        }
    }

    /// Starts loading the cells of the `cells` entries from the one under the cursor on, and
    /// the head of the next leaf when they reach past this leaf's end.
    fn prefetch_ahead(&self, cells: usize) {
        if let Some(&(leaf, index)) = self.stack.last() {
            leaf.prefetch_cells(index, cells);
            if index + cells > leaf.count() {
                self.prefetch_next_leaf();
            }
        }
    }

    /// Starts loading the first lines of the leaf after the one on top of the stack, when
    /// its parent (on the stack below it) has a next child: reading on from a seek near a
    /// leaf's end opens it next.
    fn prefetch_next_leaf(&self) {
        let Some(&(parent, index)) = self.stack.len().checked_sub(2).map(|at| &self.stack[at])
        else {
            return;
        };
        if index + 1 >= parent.count() {
            return;
        }
        if let Ok(page) = parent
            .child(index + 1)
            .and_then(|id| self.source.read(id, 1))
        {
            node::prefetch_head(page);
        }
    }

    /// Moves to the last entry whose key is `<= key` (or `< key` when `inclusive` is false).
    pub(crate) fn seek_before(&mut self, key: &[u8], inclusive: bool) -> Result<()> {
        self.seek_after(key, !inclusive)?;
        if self.stack.is_empty() {
            return self.seek_last();
        }
        self.prev()
    }

    /// If the leaf index is past the end, moves to the first entry of the next leaf.
    fn settle_forward(&mut self) -> Result<()> {
        loop {
            let Some(&(node, index)) = self.stack.last() else {
                return Ok(());
            };
            if index < node.count() {
                return Ok(());
            }
            // Climb to the first ancestor with a next child, then take its leftmost leaf.
            self.stack.pop();
            loop {
                let Some(top) = self.stack.last_mut() else {
                    return Ok(());
                };
                top.1 += 1;
                if top.1 < top.0.count() {
                    break;
                }
                self.stack.pop();
            }
            self.descend(false)?;
        }
    }

    /// If the leaf is empty (only in a corrupt file), moves back to an entry.
    fn settle_backward(&mut self) -> Result<()> {
        loop {
            let Some(&(node, index)) = self.stack.last() else {
                return Ok(());
            };
            if index < node.count() {
                return Ok(());
            }
            self.stack.last_mut().expect("non-empty").1 = 0;
            self.prev()?;
        }
    }

    /// The entry under the cursor, or `None` when exhausted. A key with several values (a
    /// duplicate-sorted database) is [`MdbError::CorruptedPage`](crate::MdbError::CorruptedPage)
    /// here: walk such a tree with a `PairCursor`.
    #[inline]
    pub(crate) fn current(&self) -> Result<Option<(&'s [u8], &'s [u8])>> {
        match self.current_entry()? {
            Some((key, value)) => Ok(Some((key, value_bytes(self.source, value)?))),
            None => Ok(None),
        }
    }

    /// The key and stored value under the cursor, or `None` when exhausted.
    #[inline]
    pub(crate) fn current_entry(&self) -> Result<Option<(&'s [u8], StoredValue<'s>)>> {
        let Some(&(node, index)) = self.stack.last() else {
            return Ok(None);
        };
        node.entry(index).map(Some)
    }

    /// Where the pages come from.
    pub(crate) fn source(&self) -> &'s S {
        self.source
    }

    /// Whether the cursor is on an entry (else exhausted). The entry's cell is checked when
    /// it is read.
    #[inline]
    pub(crate) fn is_on_entry(&self) -> bool {
        !self.stack.is_empty()
    }

    /// Moves to the next entry (or becomes exhausted).
    #[inline]
    pub(crate) fn next(&mut self) -> Result<()> {
        let Some(top) = self.stack.last_mut() else {
            return Ok(());
        };
        top.1 += 1;
        let (leaf, index) = *top;
        self.walked = self.walked.saturating_add(1);
        let long = self.walked >= LONG_WALK_STEPS;
        if index < leaf.count() {
            if self.walked == LONG_WALK_STEPS {
                // Just found long: start the window.
                self.prefetch_ahead(WALK_PREFETCH_CELLS);
            } else if long {
                // Keep the cells `WALK_PREFETCH_CELLS` entries ahead loading; once that
                // window reaches past the leaf, load the next leaf's head.
                let ahead = index + WALK_PREFETCH_CELLS - 1;
                if ahead < leaf.count() {
                    leaf.prefetch_cell(ahead);
                } else if ahead == leaf.count() {
                    self.prefetch_next_leaf();
                }
            }
            return Ok(());
        }
        self.settle_forward()?;
        if long {
            self.prefetch_ahead(WALK_PREFETCH_CELLS);
        }
        Ok(())
    }

    /// Moves to the previous entry (or becomes exhausted).
    pub(crate) fn prev(&mut self) -> Result<()> {
        loop {
            let Some(top) = self.stack.last_mut() else {
                return Ok(());
            };
            if top.1 > 0 {
                top.1 -= 1;
                let depth = self.stack.len();
                if self.stack[depth - 1].0.is_leaf() {
                    return Ok(());
                }
                self.descend(true)?;
                let &(leaf, index) = self.stack.last().expect("descended");
                if index < leaf.count() {
                    return Ok(());
                }
                // An empty leaf (corrupt file): keep moving back from it.
                self.stack.last_mut().expect("non-empty").1 = 0;
                continue;
            }
            self.stack.pop();
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::btree::node;
    use crate::error::MdbError;
    use crate::page::PageId;

    /// Pages in a vector, numbered from 0 (shared with the other tree modules' tests).
    pub(in crate::btree) struct Pages {
        pub(in crate::btree) bytes: Vec<u8>,
        pub(in crate::btree) page_size: usize,
    }

    impl PageSource for Pages {
        fn page_size(&self) -> usize {
            self.page_size
        }

        fn read(&self, id: PageId, pages: usize) -> Result<&[u8]> {
            let start = id.get() as usize * self.page_size;
            self.bytes
                .get(start..start + pages * self.page_size)
                .ok_or_else(|| Error::corrupted(id, "out of range"))
        }

        fn page_count(&self) -> u64 {
            (self.bytes.len() / self.page_size) as u64
        }
    }

    #[test]
    fn a_tree_whose_branches_share_one_child_is_refused_not_walked_forever() {
        // Pages 2..=21 are branches whose two children are both the next page; page 22 is a
        // leaf. Walking it naively would visit 2^20 leaves.
        let page_size = 512;
        let depth = 21u32;
        let mut bytes = vec![0u8; page_size * (depth as usize + 2)];
        for level in 0..depth as u64 {
            let id = PageId::new(2 + level);
            let start = id.get() as usize * page_size;
            let page = &mut bytes[start..start + page_size];
            if level + 1 == depth as u64 {
                node::init(page, id, node::Layout::Leaf);
                let value = node::StoredValue::Inline(b"v");
                let size = node::leaf_cell_size(1, &value);
                assert!(node::insert_cell_with(page, 0, size, |out| {
                    node::write_leaf_cell(out, b"k", &value)
                }));
            } else {
                node::init(page, id, node::Layout::Branch);
                assert!(node::insert_cell(page, 0, &node::branch_cell(id + 1, b"")));
                assert!(node::insert_cell(page, 1, &node::branch_cell(id + 1, b"m")));
            }
        }
        let pages = Pages { bytes, page_size };
        let tree = TreeInfo {
            root: PageId::new(2),
            depth,
            ..TreeInfo::default()
        };
        let mut cursor = Cursor::new(&pages, tree, KeyOrder::Bytes).unwrap();
        cursor.seek_first().unwrap();
        let mut steps = 0;
        let outcome = loop {
            match cursor.current() {
                Ok(None) => break Ok(()),
                Err(error) => break Err(error),
                Ok(Some(_)) => {}
            }
            steps += 1;
            if let Err(error) = cursor.next() {
                break Err(error);
            }
        };
        assert!(
            matches!(outcome, Err(Error::Mdb(MdbError::CorruptedPage { .. }))),
            "{outcome:?}"
        );
        assert!(steps < 100, "stopped after {steps} entries");
    }
}
