//! Verifying checksums while reading trees: a page source that checks every tree page and
//! overflow run it hands out, and a walk that reads every page of a tree through it.
//!
//! Copies and dumps read through [`Verified`], so that damage is reported where it is found
//! instead of carried into a copy (a compacting copy seals what it writes with fresh
//! checksums, which would hide it for good).

use super::cursor::{value_bytes, Cursor};
use super::duplicates::decode_value_tree;
use super::node::StoredValue;
use super::order::KeyOrder;
use super::PageSource;
use crate::error::Result;
use crate::page::header;
use crate::page::meta::{TreeFlags, TreeInfo};
use crate::page::PageId;

/// `source`, with the checksum of every tree page and overflow run verified as it is read: a
/// mismatch is [`Error::Mdb(MdbError::CorruptedPage)`](crate::MdbError::CorruptedPage) naming the
/// page.
pub(crate) struct Verified<'s, S: PageSource + ?Sized>(pub(crate) &'s S);

impl<S: PageSource + ?Sized> PageSource for Verified<'_, S> {
    fn page_size(&self) -> usize {
        self.0.page_size()
    }

    fn read(&self, id: PageId, pages: usize) -> Result<&[u8]> {
        self.0.read(id, pages)
    }

    fn page_count(&self) -> u64 {
        self.0.page_count()
    }

    fn read_tree_page(&self, id: PageId) -> Result<&[u8]> {
        let page = self.0.read(id, 1)?;
        header::verify_checksum(page, id)?;
        Ok(page)
    }

    fn read_overflow_run(&self, id: PageId, pages: usize) -> Result<&[u8]> {
        let run = self.0.read(id, pages)?;
        header::verify_checksum(run, id)?;
        Ok(run)
    }
}

/// Reads every page of `tree` (branches, leaves, overflow runs and, in a duplicate-sorted
/// database, the trees of a key's values) through `source`: with a [`Verified`] source,
/// checks each against its checksum. The cursor's bounds keep the walk finite in a corrupt
/// tree.
pub(crate) fn read_every_page<S: PageSource + ?Sized>(source: &S, tree: TreeInfo) -> Result<()> {
    read_tree_pages(source, tree, tree.flags.contains(TreeFlags::DUP_SORT))
}

/// Reads `tree`'s pages; `has_duplicates` when its cells may hold several values of a key
/// (a tree of values never does, so the walk goes at most one level down).
fn read_tree_pages<S: PageSource + ?Sized>(
    source: &S,
    tree: TreeInfo,
    has_duplicates: bool,
) -> Result<()> {
    // A walk from the first entry compares no keys: any order will do.
    let mut cursor = Cursor::new(source, tree, KeyOrder::Bytes)?;
    cursor.seek_first()?;
    while let Some((_, value)) = cursor.current_entry()? {
        match value {
            StoredValue::DuplicateTree(descriptor) if has_duplicates => {
                let values = decode_value_tree(descriptor, PageId::NONE, tree.flags)?;
                read_tree_pages(source, values, false)?;
            }
            // Listed in the cell: no pages of their own.
            StoredValue::Duplicates(_) if has_duplicates => {}
            // Reads an overflow run; several values where none may be are corruption.
            single => {
                value_bytes(source, single)?;
            }
        }
        cursor.next()?;
    }
    Ok(())
}
