//! Page numbers and transaction ids.

use std::fmt;
use std::ops::{Add, AddAssign, Range};

/// The number of a page in the data file: its byte offset is `id * page_size`.
///
/// Pages 0 and 1 are the meta pages, so 0 doubles as "no page" in tree roots and links
/// ([`PageId::NONE`]). A page number is never a count or a byte offset: adding a count of
/// pages gives another page, and two pages are [`pages_since`](PageId::pages_since) apart.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
#[repr(transparent)]
pub(crate) struct PageId(u64);

impl PageId {
    /// "No page": an empty tree's root, the end of a chain. Page 0 is a meta page, which no
    /// root or link names.
    pub(crate) const NONE: PageId = PageId(0);

    /// The first page a tree, freelist or free segment may use: the one after the metas.
    pub(crate) const FIRST_TREE_PAGE: PageId = PageId(META_PAGE_COUNT);

    /// Page number `number`.
    #[inline]
    pub(crate) const fn new(number: u64) -> PageId {
        PageId(number)
    }

    /// The page's number, as the format stores it.
    #[inline]
    pub(crate) const fn get(self) -> u64 {
        self.0
    }

    /// Whether this is [`PageId::NONE`].
    #[inline]
    pub(crate) const fn is_none(self) -> bool {
        self.0 == 0
    }

    /// The byte offset of the page in the data file.
    #[inline]
    pub(crate) const fn byte_offset(self, page_size: usize) -> u64 {
        self.0 * page_size as u64
    }

    /// The page `pages` after this one, or `None` past `u64::MAX`.
    #[inline]
    pub(crate) const fn checked_add(self, pages: u64) -> Option<PageId> {
        match self.0.checked_add(pages) {
            Some(number) => Some(PageId(number)),
            None => None,
        }
    }

    /// The page `pages` after this one, or the last page number there is.
    #[inline]
    pub(crate) const fn saturating_add(self, pages: u64) -> PageId {
        PageId(self.0.saturating_add(pages))
    }

    /// The page `pages` before this one, or page 0.
    #[inline]
    pub(crate) const fn saturating_sub(self, pages: u64) -> PageId {
        PageId(self.0.saturating_sub(pages))
    }

    /// The number of pages from `earlier` up to this page (`earlier` itself counted, this
    /// page not). `earlier` is not past this page.
    #[inline]
    pub(crate) const fn pages_since(self, earlier: PageId) -> u64 {
        self.0 - earlier.0
    }
}

/// Every page of `range`, ascending.
#[inline]
pub(crate) fn pages_in(range: Range<PageId>) -> impl DoubleEndedIterator<Item = PageId> + Clone {
    (range.start.0..range.end.0).map(PageId)
}

impl Add<u64> for PageId {
    type Output = PageId;

    /// The page `pages` after this one.
    #[inline]
    fn add(self, pages: u64) -> PageId {
        PageId(self.0 + pages)
    }
}

impl AddAssign<u64> for PageId {
    #[inline]
    fn add_assign(&mut self, pages: u64) {
        self.0 += pages;
    }
}

impl From<PageId> for u64 {
    /// The page's number, for the public API and error reports.
    #[inline]
    fn from(id: PageId) -> u64 {
        id.0
    }
}

impl fmt::Display for PageId {
    /// The bare number, as error messages name pages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A transaction id. Commits number 1, 2, 3, ...; a fresh file's metas hold
/// [`TxnId::BEFORE_FIRST_COMMIT`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
#[repr(transparent)]
pub(crate) struct TxnId(u64);

impl TxnId {
    /// The id a fresh file's metas hold: no commit yet.
    pub(crate) const BEFORE_FIRST_COMMIT: TxnId = TxnId(0);

    /// Transaction id `number`.
    #[inline]
    pub(crate) const fn new(number: u64) -> TxnId {
        TxnId(number)
    }

    /// The id's number, as the format stores it.
    #[inline]
    pub(crate) const fn get(self) -> u64 {
        self.0
    }

    /// The id of the commit after this one.
    #[inline]
    pub(crate) const fn next(self) -> TxnId {
        TxnId(self.0 + 1)
    }

    /// The id of the commit before this one ([`TxnId::BEFORE_FIRST_COMMIT`] has none before
    /// it and stays itself).
    #[inline]
    pub(crate) const fn previous(self) -> TxnId {
        TxnId(self.0.saturating_sub(1))
    }

    /// The meta page (0 or 1) that holds this commit's meta: commits alternate.
    #[inline]
    pub(crate) const fn meta_page(self) -> PageId {
        PageId(self.0 % META_PAGE_COUNT)
    }
}

impl fmt::Display for TxnId {
    /// The bare number, as error messages name transactions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The number of meta pages at the start of the file. [`PageId::FIRST_TREE_PAGE`] is the
/// first page a tree may use.
pub(crate) const META_PAGE_COUNT: u64 = 2;

/// Reads a little-endian `u16` at `offset`. The caller has checked the bounds.
#[inline]
pub(crate) fn read_u16(bytes: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes([bytes[offset], bytes[offset + 1]])
}

/// Reads a little-endian `u32` at `offset`. The caller has checked the bounds.
#[inline]
pub(crate) fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(raw)
}

/// Reads a little-endian `u64` at `offset`. The caller has checked the bounds.
#[inline]
pub(crate) fn read_u64(bytes: &[u8], offset: usize) -> u64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(raw)
}

/// Writes a little-endian `u16` at `offset`.
#[inline]
pub(crate) fn write_u16(bytes: &mut [u8], offset: usize, value: u16) {
    bytes[offset..offset + 2].copy_from_slice(&value.to_le_bytes());
}

/// Writes a little-endian `u32` at `offset`.
#[inline]
pub(crate) fn write_u32(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

/// Writes a little-endian `u64` at `offset`.
#[inline]
pub(crate) fn write_u64(bytes: &mut [u8], offset: usize, value: u64) {
    bytes[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
}

/// Reads a page number stored as a little-endian `u64` at `offset`. The caller has checked
/// the bounds.
#[inline]
pub(crate) fn read_page_id(bytes: &[u8], offset: usize) -> PageId {
    PageId(read_u64(bytes, offset))
}

/// Writes a page number as a little-endian `u64` at `offset`.
#[inline]
pub(crate) fn write_page_id(bytes: &mut [u8], offset: usize, id: PageId) {
    write_u64(bytes, offset, id.0);
}

/// Reads a transaction id stored as a little-endian `u64` at `offset`. The caller has
/// checked the bounds.
#[inline]
pub(crate) fn read_txn_id(bytes: &[u8], offset: usize) -> TxnId {
    TxnId(read_u64(bytes, offset))
}

/// Writes a transaction id as a little-endian `u64` at `offset`.
#[inline]
pub(crate) fn write_txn_id(bytes: &mut [u8], offset: usize, id: TxnId) {
    write_u64(bytes, offset, id.0);
}

/// Short constructors for the unit tests, which name many pages and transactions by number.
#[cfg(test)]
pub(crate) mod numbered {
    use super::{PageId, TxnId};

    /// Page `number`.
    pub(crate) fn page(number: u64) -> PageId {
        PageId::new(number)
    }

    /// The pages of these numbers, in this order.
    pub(crate) fn ids(numbers: &[u64]) -> Vec<PageId> {
        numbers.iter().map(|&number| page(number)).collect()
    }

    /// The pages of a range of numbers.
    pub(crate) fn range(numbers: std::ops::Range<u64>) -> Vec<PageId> {
        numbers.map(page).collect()
    }

    /// Transaction `number`.
    pub(crate) fn txn(number: u64) -> TxnId {
        TxnId::new(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_bare_numbers() {
        let page = PageId::new(42);
        let txn = TxnId::new(7);
        assert_eq!(format!("page {page}, txn {txn}"), "page 42, txn 7");
        assert_eq!(
            format!("[{page:>4}]"),
            "[  42]",
            "formatting flags pass through"
        );
        assert_eq!(u64::from(page), 42);
    }

    #[test]
    fn ids_are_stored_as_the_u64_they_were() {
        let mut bytes = [0u8; 16];
        write_page_id(&mut bytes, 0, PageId::new(0x0102_0304_0506_0708));
        write_txn_id(&mut bytes, 8, TxnId::new(9));
        let mut expected = [0u8; 16];
        write_u64(&mut expected, 0, 0x0102_0304_0506_0708);
        write_u64(&mut expected, 8, 9);
        assert_eq!(bytes, expected);
        assert_eq!(read_page_id(&bytes, 0).get(), 0x0102_0304_0506_0708);
        assert_eq!(read_txn_id(&bytes, 8).get(), 9);
    }

    #[test]
    fn page_arithmetic_takes_and_gives_counts() {
        let first = PageId::new(10);
        assert_eq!(first + 3, PageId::new(13));
        assert_eq!((first + 3).pages_since(first), 3);
        assert_eq!(first.checked_add(u64::MAX), None);
        assert_eq!(
            PageId::new(u64::MAX).saturating_add(1),
            PageId::new(u64::MAX)
        );
        assert_eq!(PageId::NONE.saturating_sub(1), PageId::NONE);
        assert_eq!(first.byte_offset(4096), 40_960);
        let pages: Vec<u64> = pages_in(first..first + 3).map(PageId::get).collect();
        assert_eq!(pages, [10, 11, 12]);
        assert!(PageId::NONE.is_none() && !PageId::FIRST_TREE_PAGE.is_none());
        assert_eq!(PageId::FIRST_TREE_PAGE.get(), META_PAGE_COUNT);
    }

    #[test]
    fn commits_alternate_between_the_two_meta_pages() {
        let first = TxnId::BEFORE_FIRST_COMMIT.next();
        assert_eq!(first.get(), 1);
        assert_eq!(first.meta_page(), PageId::new(1));
        assert_eq!(first.next().meta_page(), PageId::new(0));
        assert_eq!(first.previous(), TxnId::BEFORE_FIRST_COMMIT);
        assert_eq!(
            TxnId::BEFORE_FIRST_COMMIT.previous(),
            TxnId::BEFORE_FIRST_COMMIT
        );
    }
}
