//! Free segments: pages that hold a sorted run of free page numbers, written once and never
//! changed, so that a large freelist costs a commit only the part of it that changed.
//!
//! The freelist chain (`freelist.rs`) is rewritten at every commit. Small groups of free
//! pages live in it directly; a large group (a mass delete frees hundreds of thousands of
//! pages) is moved into free segments, and the chain keeps one page number per segment. A
//! write transaction takes a whole segment when it needs pages (and frees the segment's own
//! page), so untouched segments are carried from commit to commit by reference.
//!
//! ```text
//! offset size field
//!  0    24    page header, kind 5 (free segment), count = page numbers held
//! 24     .    count x u64 page number, ascending, little-endian
//! ```

use crate::error::{Error, Result};
use crate::page::header::{self, PageKind, PAGE_HEADER_SIZE};
use crate::page::id::{read_page_id, write_page_id, PageId};

/// Page numbers one segment page holds.
pub(crate) fn capacity(page_size: usize) -> usize {
    (page_size - PAGE_HEADER_SIZE) / 8
}

/// Fills segment page `id` with `pages` (ascending, at most [`capacity`]).
pub(crate) fn write(page: &mut [u8], id: PageId, pages: &[PageId]) {
    assert!(
        pages.len() <= capacity(page.len()),
        "a free segment holds at most {} pages",
        capacity(page.len())
    );
    debug_assert!(pages.windows(2).all(|pair| pair[0] < pair[1]));
    header::init(page, PageKind::FreeSegment, id);
    header::set_count(page, pages.len());
    for (index, &free) in pages.iter().enumerate() {
        write_page_id(page, PAGE_HEADER_SIZE + 8 * index, free);
    }
    page[PAGE_HEADER_SIZE + 8 * pages.len()..].fill(0);
}

/// The page numbers segment page `id` holds, checked: the page is a segment, names itself,
/// and lists ascending page numbers inside `[2, page_count)`.
pub(crate) fn read(page: &[u8], id: PageId, page_count: u64) -> Result<Vec<PageId>> {
    if header::kind(page) != Some(PageKind::FreeSegment) || header::page_id(page) != id {
        return Err(Error::corrupted(id, "expected a free segment page"));
    }
    // A damaged segment could name a page the tree still uses, which the writer would then
    // overwrite; the structural checks below cannot see a page number changed into another
    // valid one, the checksum can.
    if !header::checksum_matches(page) {
        return Err(Error::corrupted(id, "free segment fails its checksum"));
    }
    let count = header::count(page);
    if count > capacity(page.len()) {
        return Err(Error::corrupted(
            id,
            "free segment lists more pages than it holds",
        ));
    }
    let pages: Vec<PageId> = (0..count)
        .map(|index| read_page_id(page, PAGE_HEADER_SIZE + 8 * index))
        .collect();
    if let Some(&bad) = pages
        .iter()
        .find(|&&free| free < PageId::FIRST_TREE_PAGE || free.get() >= page_count)
    {
        return Err(Error::corrupted(
            id,
            format!("free segment names page {bad}, outside the file"),
        ));
    }
    if pages.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err(Error::corrupted(
            id,
            "free segment pages are not in ascending order",
        ));
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::id::write_u64;

    #[test]
    fn segments_round_trip_and_reject_bad_contents() {
        let page_size = 512;
        assert_eq!(capacity(page_size), 61);
        let mut page = vec![0xAAu8; page_size];
        let ids = |numbers: &[u64]| numbers.iter().map(|&n| PageId::new(n)).collect::<Vec<_>>();
        write(&mut page, PageId::new(7), &ids(&[2, 5, 90]));
        header::seal(&mut page);
        assert_eq!(read(&page, PageId::new(7), 100).unwrap(), ids(&[2, 5, 90]));
        let fails = |page: &[u8], id, page_count| {
            read(page, PageId::new(id), page_count)
                .unwrap_err()
                .to_string()
        };
        assert!(fails(&page, 8, 100).contains("expected a free segment"));
        assert!(
            fails(&page, 7, 90).contains("outside"),
            "page 90 is outside the file"
        );

        // Each damaged copy is resealed, so that its own check, not the checksum, finds it.
        let mut unsorted = page.clone();
        write_u64(&mut unsorted, PAGE_HEADER_SIZE, 6);
        header::seal(&mut unsorted);
        assert!(fails(&unsorted, 7, 100).contains("ascending"));

        let mut too_many = page.clone();
        header::set_count(&mut too_many, capacity(page_size) + 1);
        header::seal(&mut too_many);
        assert!(fails(&too_many, 7, 100).contains("more pages than it holds"));

        let mut chain_page = page.clone();
        header::init(&mut chain_page, PageKind::Freelist, PageId::new(7));
        header::seal(&mut chain_page);
        assert!(fails(&chain_page, 7, 100).contains("expected a free segment"));

        // A page number changed into another valid one passes every check but the checksum.
        let mut renumbered = page.clone();
        write_u64(&mut renumbered, PAGE_HEADER_SIZE + 8, 6);
        assert!(fails(&renumbered, 7, 100).contains("fails its checksum"));
    }
}
