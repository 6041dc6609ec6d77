//! The header every non-meta page starts with.
//!
//! ```text
//! offset size field
//!  0     4    checksum   CRC32 of the page (or overflow run) from byte 4 to its end
//!  4     1    kind       1 branch, 2 leaf, 3 overflow, 4 freelist, 5 free segment,
//!                        6 dense leaf
//!  5     1    reserved   0
//!  6     2    count      entries of a branch or leaf page, page numbers of a free segment;
//!                        0 otherwise
//!  8     8    page_id    the page's own number, to catch misdirected writes
//! 16     4    aux        branch/leaf: start of the cell area; overflow: pages in the run;
//!                        freelist: payload bytes in this page; dense leaf: bytes per key
//! 20     4    reserved   0
//! ```
//!
//! The checksum is written when a commit (or a spill) writes the page. It is verified by the
//! checker, by a writer before it copies a committed page (so that a copy never re-seals
//! damaged bytes under a fresh checksum), by copies and dumps, and by read transactions of an
//! environment opened with `verify_checksums_on_read`.

use super::id::{read_page_id, read_u16, read_u32, write_page_id, write_u16, write_u32, PageId};
use crate::error::{Error, Result};

/// Bytes of the page header.
pub(crate) const PAGE_HEADER_SIZE: usize = 24;

const CHECKSUM_OFFSET: usize = 0;
const KIND_OFFSET: usize = 4;
const COUNT_OFFSET: usize = 6;
const PAGE_ID_OFFSET: usize = 8;
const AUX_OFFSET: usize = 16;

/// What a page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageKind {
    /// A B-tree interior page: separators and child page numbers.
    Branch = 1,
    /// A B-tree leaf page: keys and values.
    Leaf = 2,
    /// The first page of a run holding one large value.
    Overflow = 3,
    /// A page of the persisted freelist chain.
    Freelist = 4,
    /// A free segment: a sorted run of free page numbers the freelist chain refers to.
    FreeSegment = 5,
    /// A leaf of a tree of a key's values in a `DUP_FIXED` database: keys of one size,
    /// packed, without values.
    DenseLeaf = 6,
}

impl PageKind {
    fn from_byte(byte: u8) -> Option<PageKind> {
        match byte {
            1 => Some(PageKind::Branch),
            2 => Some(PageKind::Leaf),
            3 => Some(PageKind::Overflow),
            4 => Some(PageKind::Freelist),
            5 => Some(PageKind::FreeSegment),
            6 => Some(PageKind::DenseLeaf),
            _ => None,
        }
    }
}

/// Fills in a fresh header. The checksum is set later, by [`seal`].
pub(crate) fn init(page: &mut [u8], kind: PageKind, id: PageId) {
    page[..PAGE_HEADER_SIZE].fill(0);
    page[KIND_OFFSET] = kind as u8;
    write_page_id(page, PAGE_ID_OFFSET, id);
}

/// The page's kind, or `None` for a byte that names no kind.
#[inline]
pub(crate) fn kind(page: &[u8]) -> Option<PageKind> {
    PageKind::from_byte(page[KIND_OFFSET])
}

/// The page number recorded in the header.
#[inline]
pub(crate) fn page_id(page: &[u8]) -> PageId {
    read_page_id(page, PAGE_ID_OFFSET)
}

/// Records the page's own number (when a page is copied to a new number).
pub(crate) fn set_page_id(page: &mut [u8], id: PageId) {
    write_page_id(page, PAGE_ID_OFFSET, id);
}

/// The entry count of a branch or leaf page.
#[inline]
pub(crate) fn count(page: &[u8]) -> usize {
    read_u16(page, COUNT_OFFSET) as usize
}

/// Sets the entry count.
#[inline]
pub(crate) fn set_count(page: &mut [u8], count: usize) {
    write_u16(page, COUNT_OFFSET, count as u16);
}

/// The kind-specific `aux` field.
#[inline]
pub(crate) fn aux(page: &[u8]) -> u32 {
    read_u32(page, AUX_OFFSET)
}

/// Sets the kind-specific `aux` field.
#[inline]
pub(crate) fn set_aux(page: &mut [u8], value: u32) {
    write_u32(page, AUX_OFFSET, value);
}

/// The checksum of a page or run as it should be recorded: CRC32 of bytes 4.. .
pub(crate) fn compute_checksum(page: &[u8]) -> u32 {
    crc32fast::hash(&page[CHECKSUM_OFFSET + 4..])
}

/// Records the checksum of a page (or a whole overflow run) just before it is written.
pub(crate) fn seal(page: &mut [u8]) {
    let checksum = compute_checksum(page);
    write_u32(page, CHECKSUM_OFFSET, checksum);
}

/// The checksum recorded in a page's header.
pub(crate) fn recorded_checksum(page: &[u8]) -> u32 {
    read_u32(page, CHECKSUM_OFFSET)
}

/// Whether the recorded checksum matches the bytes.
pub(crate) fn checksum_matches(page: &[u8]) -> bool {
    recorded_checksum(page) == compute_checksum(page)
}

/// Checks the checksum of page (or overflow run) `id` before its bytes are trusted further.
/// A mismatch is [`MdbError::CorruptedPage`](crate::MdbError::CorruptedPage) naming the page.
pub(crate) fn verify_checksum(page: &[u8], id: PageId) -> Result<()> {
    if checksum_matches(page) {
        return Ok(());
    }
    let what = if kind(page) == Some(PageKind::Overflow) {
        "the overflow run starting here fails its checksum"
    } else {
        "the page fails its checksum"
    };
    Err(Error::corrupted(id, what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::MdbError;

    #[test]
    fn a_changed_byte_fails_verification_naming_the_page() {
        let mut page = vec![0u8; 512];
        let id = PageId::new(7);
        init(&mut page, PageKind::Leaf, id);
        page[300] = 1;
        seal(&mut page);
        assert!(verify_checksum(&page, id).is_ok());
        page[300] = 2;
        match verify_checksum(&page, id) {
            Err(Error::Mdb(MdbError::CorruptedPage { page, reason })) => {
                assert_eq!(page, 7);
                assert_eq!(reason, "the page fails its checksum");
            }
            other => panic!("expected Corrupted, got {other:?}"),
        }
    }

    #[test]
    fn a_damaged_overflow_run_is_named_as_a_run() {
        let mut run = vec![0u8; 3 * 512];
        let id = PageId::new(9);
        init(&mut run, PageKind::Overflow, id);
        seal(&mut run);
        assert!(verify_checksum(&run, id).is_ok());
        // The value's last byte, two pages past the header.
        run[3 * 512 - 1] ^= 1;
        match verify_checksum(&run, id) {
            Err(Error::Mdb(MdbError::CorruptedPage { page, reason })) => {
                assert_eq!(page, 9);
                assert_eq!(reason, "the overflow run starting here fails its checksum");
            }
            other => panic!("expected Corrupted, got {other:?}"),
        }
    }
}
