//! What each page of a sound data file is to each of its two commits: the map the corruption
//! tests use to decide whether damage at some byte must be reported by the checker.
//!
//! A byte is significant to a commit when it lies in the commit's meta (the encoded meta,
//! not the rest of its slot) or in a page the meta reaches: a page of one of its trees
//! (the unnamed database, the catalog, each named database), an overflow run one of their
//! leaves names, a page of its freelist chain or a free segment its freelist names. Every
//! such page is covered whole by its checksum, so damage anywhere in it is visible. Pages
//! the freelist lists as free, and bytes past the encoded meta, are not significant.
//!
//! The walk trusts the file (it is meant for a file the checker passed) and returns an
//! error on anything it cannot decode.

use crate::btree::node::{Node, StoredValue};
use crate::btree::{overflow, PageSource};
use crate::error::{Error, Result};
use crate::page::catalog_record::{self, UNNAMED_DATABASE_KEY};
use crate::page::id::{pages_in, PageId};
use crate::page::meta::{self, Meta, MetaSlot, TreeInfo};
use crate::store::freelist;

/// What a page is to a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRole {
    /// A branch page of one of the commit's trees.
    Branch,
    /// A leaf page of one of the commit's trees.
    Leaf,
    /// A page of an overflow run a leaf names.
    Overflow,
    /// A page of the freelist chain.
    FreelistChain,
    /// A free segment the freelist names.
    FreeSegment,
}

/// The bytes one commit's meta reaches.
#[derive(Debug, Clone)]
pub struct CommitReach {
    /// The commit's transaction id.
    pub txn_id: u64,
    /// The meta slot (0 or 1) holding it.
    pub slot: usize,
    /// How many bytes at the start of the slot the meta occupies.
    pub meta_len: usize,
    /// The commit's page count.
    pub page_count: u64,
    /// The role of each page, by page number (`None`: free, or not reached).
    pub roles: Vec<Option<PageRole>>,
    page_size: usize,
}

impl CommitReach {
    /// What the byte at `offset` of the file is to this commit: `Some(None)` for the bytes
    /// of its meta, `Some(Some(role))` for a page it reaches, `None` when not significant.
    pub fn role_of_byte(&self, offset: usize) -> Option<Option<PageRole>> {
        let page = offset / self.page_size;
        if page == self.slot {
            return (offset % self.page_size < self.meta_len).then_some(None);
        }
        self.roles.get(page).copied().flatten().map(Some)
    }
}

struct FilePages<'f> {
    bytes: &'f [u8],
    page_size: usize,
    page_count: u64,
}

impl PageSource for FilePages<'_> {
    fn page_size(&self) -> usize {
        self.page_size
    }

    fn read(&self, id: PageId, pages: usize) -> Result<&[u8]> {
        let start = id.get() as usize * self.page_size;
        if id < PageId::FIRST_TREE_PAGE || (id + pages as u64).get() > self.page_count {
            return Err(Error::corrupted(id, "outside the commit's pages"));
        }
        self.bytes
            .get(start..start + pages * self.page_size)
            .ok_or_else(|| Error::corrupted(id, "past the file"))
    }

    fn page_count(&self) -> u64 {
        self.page_count
    }
}

/// Makes the checksum in the header of `page` (a single page, not an overflow run) match its
/// bytes again, as a commit writing it would: damage under a fresh checksum is visible only to
/// structural checks.
pub fn reseal_page(page: &mut [u8]) {
    crate::page::header::seal(page);
}

/// The reach of the valid meta in each slot of `file`, a sound data file of `page_size`-byte
/// pages (`None` for a slot holding no valid meta).
pub fn commit_reach(file: &[u8], page_size: usize) -> Result<[Option<CommitReach>; 2]> {
    let mut reach = [None, None];
    for (slot, out) in reach.iter_mut().enumerate() {
        let start = slot * page_size;
        let bytes = &file[start..start + meta::slot_read_len(page_size)];
        let (MetaSlot::Valid(meta), tail) = Meta::decode_with_tail(bytes) else {
            continue;
        };
        let meta_len = meta.encode_with(&tail.runs, tail.freelist.as_deref()).len();
        let source = FilePages {
            bytes: file,
            page_size,
            page_count: meta.page_count,
        };
        let mut roles = vec![None; meta.page_count as usize];
        let mut mark = |page: PageId, role: PageRole| -> Result<()> {
            match roles.get_mut(page.get() as usize) {
                Some(entry @ None) => {
                    *entry = Some(role);
                    Ok(())
                }
                _ => Err(Error::corrupted(page, "reached twice or outside the file")),
            }
        };
        let mut catalog = Vec::new();
        walk(&source, &meta.main, &mut mark, None)?;
        walk(&source, &meta.catalog, &mut mark, Some(&mut catalog))?;
        for descriptor in catalog {
            let tree = catalog_record::decode(&descriptor)
                .ok_or_else(|| Error::corrupted(PageId::NONE, "a catalog value is no record"))?
                .tree;
            walk(&source, &tree, &mut mark, None)?;
        }
        let (list, chain) =
            freelist::read(&meta, tail.freelist.as_deref(), |id| source.read(id, 1))?;
        for page in chain {
            mark(page, PageRole::FreelistChain)?;
        }
        for segment in list.segments() {
            mark(segment, PageRole::FreeSegment)?;
        }
        *out = Some(CommitReach {
            txn_id: meta.txn_id.get(),
            slot,
            meta_len,
            page_count: meta.page_count,
            roles,
            page_size,
        });
    }
    Ok(reach)
}

/// Marks every page of `tree`; collects the leaf values when `values` is given.
fn walk(
    source: &FilePages<'_>,
    tree: &TreeInfo,
    mark: &mut impl FnMut(PageId, PageRole) -> Result<()>,
    mut values: Option<&mut Vec<Vec<u8>>>,
) -> Result<()> {
    let mut to_visit = Vec::new();
    if !tree.root.is_none() {
        to_visit.push((tree.root, 1));
    }
    while let Some((id, level)) = to_visit.pop() {
        let is_leaf = level == tree.depth;
        mark(
            id,
            if is_leaf {
                PageRole::Leaf
            } else {
                PageRole::Branch
            },
        )?;
        let node = Node::open(source.read(id, 1)?, id, is_leaf)?;
        for index in 0..node.count() {
            if !is_leaf {
                to_visit.push((node.child(index)?, level + 1));
                continue;
            }
            let (key, stored) = node.entry(index)?;
            if key == UNNAMED_DATABASE_KEY && values.is_some() {
                // The unnamed database's record in the catalog: a comparator's name, no tree.
                continue;
            }
            let value = match stored {
                StoredValue::Inline(bytes) => bytes,
                StoredValue::Overflow { page, len } => {
                    let pages = overflow::check_run(source, page, len)?;
                    for run_page in pages_in(page..page + pages as u64) {
                        mark(run_page, PageRole::Overflow)?;
                    }
                    overflow::read(source, page, len)?
                }
                StoredValue::Duplicates(list) => list.bytes,
                StoredValue::DuplicateTree(descriptor) => {
                    // A key's values: a tree of their own, whose pages are the database's.
                    let values_tree = TreeInfo::decode(descriptor).ok_or_else(|| {
                        Error::corrupted(id, "a tree of duplicates with a malformed descriptor")
                    })?;
                    walk(source, &values_tree, mark, None)?;
                    descriptor
                }
            };
            if let Some(values) = values.as_deref_mut() {
                values.push(value.to_vec());
            }
        }
    }
    Ok(())
}
