//! Where a free stretch of consecutive pages lies among the pool and some free segments a
//! write transaction has not read.
//!
//! Store layer, used by the page store (`page_store.rs`) when its pool holds no stretch long enough
//! for an overflow value. The segments that could hold part of one (`segment_summary.rs`)
//! are read into an [`UnreadListing`] (their pages, sorted, each with its segment), which is
//! merged with the pool (docs/design.md, invariant 12).

use crate::error::Result;
use crate::page::id::PageId;

/// The pages some unread free segments hold.
#[derive(Debug)]
pub(crate) struct UnreadListing {
    /// Every page the listed segments hold, ascending, with the index of its segment.
    pages: Vec<(PageId, u32)>,
    /// The listed segments, by index.
    segments: Vec<PageId>,
}

/// A page found listed twice: `page`, and a segment listing it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ListedTwice {
    pub(crate) page: PageId,
    pub(crate) segment: PageId,
}

impl UnreadListing {
    /// Lists `segments`, reading each with `read` (which checks it).
    pub(crate) fn read(
        segments: Vec<PageId>,
        mut read: impl FnMut(PageId) -> Result<Vec<PageId>>,
    ) -> Result<UnreadListing> {
        let mut pages = Vec::new();
        for (index, &segment) in segments.iter().enumerate() {
            pages.extend(read(segment)?.into_iter().map(|page| (page, index as u32)));
        }
        // Segments mostly hold ascending, disjoint ranges: often sorted already.
        if !pages.is_sorted() {
            pages.sort_unstable();
        }
        Ok(UnreadListing { pages, segments })
    }

    /// The first page of the lowest stretch of `count` consecutive pages among `pool`
    /// (ascending) and the pages of the listed segments, with the segments holding
    /// part of it (ascending); `Ok(None)` when there is none. A page listed twice (by the
    /// pool and a segment, or by two segments) before the stretch ends is an error.
    pub(crate) fn lowest_stretch(
        &self,
        pool: impl IntoIterator<Item = PageId>,
        count: usize,
    ) -> Result<Option<(PageId, Vec<PageId>)>, ListedTwice> {
        if count == 0 {
            return Ok(None);
        }
        let mut listed = self.pages.iter().peekable();
        let mut pool = pool.into_iter().peekable();
        let mut previous: Option<PageId> = None;
        let (mut start, mut length) = (PageId::NONE, 0);
        loop {
            let next = match (pool.peek(), listed.peek()) {
                (None, None) => return Ok(None),
                (Some(_), None) => pool.next(),
                (Some(&free), Some(&&(page, _))) if free < page => pool.next(),
                (Some(&free), Some(&&(page, segment))) if free == page => {
                    return Err(ListedTwice {
                        page,
                        segment: self.segments[segment as usize],
                    })
                }
                (_, Some(_)) => listed.next().map(|&(page, _)| page),
            }
            .expect("peeked");
            if previous == Some(next) {
                let (_, segment) = self.pages[self.pages.partition_point(|&(page, _)| page < next)];
                return Err(ListedTwice {
                    page: next,
                    segment: self.segments[segment as usize],
                });
            }
            if previous.is_some_and(|previous| previous + 1 == next) {
                length += 1;
            } else {
                (start, length) = (next, 1);
            }
            if length == count {
                break;
            }
            previous = Some(next);
        }
        let end = start + count as u64;
        let from = self.pages.partition_point(|&(page, _)| page < start);
        let mut holding: Vec<PageId> = self.pages[from..]
            .iter()
            .take_while(|&&(page, _)| page < end)
            .map(|&(_, segment)| self.segments[segment as usize])
            .collect();
        holding.sort_unstable();
        holding.dedup();
        Ok(Some((start, holding)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::id::numbered::{ids, page};

    fn listing(segments: &[(u64, &[u64])]) -> UnreadListing {
        let ids = segments.iter().map(|&(id, _)| page(id)).collect();
        UnreadListing::read(ids, |id| {
            Ok(segments
                .iter()
                .find(|&&(listed, _)| page(listed) == id)
                .unwrap()
                .1
                .iter()
                .map(|&number| page(number))
                .collect())
        })
        .unwrap()
    }

    #[test]
    fn the_lowest_stretch_joins_the_pool_and_the_segments() {
        let listing = listing(&[
            (50, &[10, 11, 12, 30, 31]),
            (51, &[13, 14, 40, 41, 42, 43]),
            (52, &[20, 21, 22, 23, 24, 25]),
        ]);
        assert_eq!(
            listing.lowest_stretch(ids(&[15, 16]), 7),
            Ok(Some((page(10), ids(&[50, 51])))),
            "10 to 14 in two segments, 15 and 16 in the pool"
        );
        assert_eq!(listing.lowest_stretch(Vec::new(), 7), Ok(None));
        assert_eq!(
            listing.lowest_stretch(Vec::new(), 6),
            Ok(Some((page(20), ids(&[52]))))
        );
        assert_eq!(listing.lowest_stretch(ids(&[1]), 0), Ok(None));
        // The segment holding only the stretch's first page is read too.
        let listing = self::listing(&[(60, &[9]), (61, &[10, 11])]);
        assert_eq!(
            listing.lowest_stretch(Vec::new(), 3),
            Ok(Some((page(9), ids(&[60, 61]))))
        );
    }

    #[test]
    fn a_page_listed_twice_before_the_stretch_is_an_error() {
        let listing = listing(&[(50, &[10, 11]), (51, &[11, 12])]);
        assert_eq!(
            listing.lowest_stretch(Vec::new(), 3),
            Err(ListedTwice {
                page: page(11),
                segment: page(50)
            })
        );
        let listing = self::listing(&[(50, &[10, 11])]);
        assert_eq!(
            listing.lowest_stretch(ids(&[11]), 2),
            Err(ListedTwice {
                page: page(11),
                segment: page(50)
            })
        );
    }
}
