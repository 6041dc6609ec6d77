//! Copying a tree page by page into a new, densely numbered file (compaction).
//!
//! The shape is kept: every branch, leaf and overflow page of the source tree is written once,
//! renumbered in depth-first order, with child links and overflow references rewritten. Free
//! pages are left behind, so the copy has none.

use super::cursor::{check_shape, open_node};
use super::node::{self, StoredValue};
use super::{overflow, PageSource};
use crate::error::{Error, Result};
use crate::page::header;
use crate::page::meta::TreeInfo;
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

/// Copies `tree` from `source` into `sink`; returns the copy's descriptor. `rewrite_value`
/// may replace an inline value with another of the same length (the catalog uses it to point
/// at the copied trees).
pub(crate) fn copy_tree<S: PageSource + ?Sized>(
    source: &S,
    tree: &TreeInfo,
    sink: &mut dyn CopySink,
    rewrite_value: &mut RewriteValue<'_>,
) -> Result<TreeInfo> {
    check_shape(tree)?;
    if tree.root == 0 {
        return Ok(TreeInfo::default());
    }
    let root = copy_node(source, tree, tree.root, 0, sink, rewrite_value)?;
    Ok(TreeInfo { root, ..*tree })
}

fn copy_node<S: PageSource + ?Sized>(
    source: &S,
    tree: &TreeInfo,
    id: PageId,
    level: u32,
    sink: &mut dyn CopySink,
    rewrite_value: &mut RewriteValue<'_>,
) -> Result<PageId> {
    let node = open_node(source, tree, level, id)?;
    let mut page = source.read(id, 1)?.to_vec();
    let new_id = sink.allocate(1);
    for index in 0..node.count() {
        if node.is_leaf() {
            let (key, value) = node.entry(index)?;
            match value {
                StoredValue::Overflow { page: run, len } => {
                    let pages = overflow::check_run(source, run, len)?;
                    let new_run = sink.allocate(pages);
                    let mut bytes = source.read(run, pages)?.to_vec();
                    seal_as(&mut bytes, new_run);
                    sink.write(new_run, &bytes)?;
                    node::set_overflow_page(&mut page, index, new_run);
                }
                StoredValue::Inline(bytes) => {
                    if let Some(replacement) = rewrite_value(key, bytes)? {
                        if replacement.len() != bytes.len() {
                            return Err(Error::corrupted(id, "a rewritten value changed length"));
                        }
                        node::overwrite_inline_value(&mut page, index, &replacement);
                    }
                }
            }
        } else {
            let child = copy_node(
                source,
                tree,
                node.child(index)?,
                level + 1,
                sink,
                rewrite_value,
            )?;
            node::set_child(&mut page, index, child);
        }
    }
    seal_as(&mut page, new_id);
    sink.write(new_id, &page)?;
    Ok(new_id)
}

/// Renumbers a page (or run) and recomputes its checksum.
fn seal_as(bytes: &mut [u8], id: PageId) {
    header::set_page_id(bytes, id);
    header::seal(bytes);
}
