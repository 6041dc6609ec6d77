//! The pool: the free pages a write transaction may reuse, and which of them it takes next.
//!
//! Store layer, under the page store (`page_store.rs`). Where a commit's pages lie decides what its
//! sync costs: pages in a row go to the disk as one request, scattered pages as one each
//! (docs/design.md, invariant 13, has the measurement). So single pages (a B-tree path copied
//! on write, the freelist's chain page) come from a *run*: the lowest stretch of at least
//! [`RUN_PAGES_MIN`] consecutive free pages, taken in ascending order, one after another,
//! until it is used up. Only when the pool holds no run does a page come from anywhere
//! (highest first). Which pages are reused never affects correctness, only where writes land
//! (docs/design.md, invariant 13).

use std::ops::Range;

use crate::page::id::{pages_in, PageId};

/// The fewest consecutive free pages that make a run. A one-insert commit into a tree of
/// depth 4 writes five pages (the path and a chain page), so a run serves it whole.
pub(crate) const RUN_PAGES_MIN: usize = 8;

/// [`Pool::run_search_from`] when no run starts anywhere among the pages searched last.
const SEARCHED_ALL: PageId = PageId::new(u64::MAX);

/// Free pages, sorted, with the run single pages are being taken from.
#[derive(Clone, Debug, Default)]
pub(crate) struct Pool {
    /// Free page numbers, ascending, without those of `run`.
    pages: Vec<PageId>,
    /// The rest of the run single pages are being taken from: free pages, taken from the
    /// front.
    run: Range<PageId>,
    /// No run starts below this page among the pages searched last ([`SEARCHED_ALL`]: none
    /// at all); back to page 0 when a segment's pages are added. So a transaction without runs
    /// searches its pool once, and one that uses many runs searches each part of it once.
    /// (A page given back later may complete a run below it, which is then missed: a lost
    /// chance of locality, nothing more.)
    run_search_from: PageId,
}

impl Pool {
    /// A pool of `pages` (ascending; a page listed twice, which only a corrupt freelist
    /// does, is kept once, since handing it out twice would break the store's invariants).
    pub(crate) fn new(mut pages: Vec<PageId>) -> Pool {
        debug_assert!(pages.is_sorted(), "the reusable pages come sorted");
        pages.dedup();
        Pool {
            pages,
            ..Pool::default()
        }
    }

    /// Pages in the pool.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.pages.len() + self.run_len()
    }

    fn run_len(&self) -> usize {
        self.run.end.pages_since(self.run.start) as usize
    }

    /// Whether the pool holds a page in `low..=high`.
    pub(crate) fn has_page_in(&self, low: PageId, high: PageId) -> bool {
        let in_run = self.run.start <= high && low < self.run.end;
        let next = self.pages.partition_point(|&page| page < low);
        in_run || self.pages.get(next).is_some_and(|&page| page <= high)
    }

    /// Every page in the pool, ascending, without copying them.
    pub(crate) fn iter(&self) -> impl Iterator<Item = PageId> + '_ {
        let split = self.pages.partition_point(|&page| page < self.run.start);
        let (below, above) = self.pages.split_at(split);
        below
            .iter()
            .copied()
            .chain(pages_in(self.run.clone()))
            .chain(above.iter().copied())
    }

    /// Every page in the pool, ascending.
    #[cfg(test)]
    pub(crate) fn to_vec(&self) -> Vec<PageId> {
        self.iter().collect()
    }

    /// The next page of a run, starting a new run (the lowest in the pool) when the current
    /// one is used up; `None` when the pool holds no run.
    pub(crate) fn take_from_run(&mut self) -> Option<PageId> {
        if self.run.is_empty() && self.run_search_from != SEARCHED_ALL {
            let from = self
                .pages
                .partition_point(|&page| page < self.run_search_from);
            match find_run(&self.pages[from..]) {
                Some(found) => {
                    let found = from + found.start..from + found.end;
                    let first = self.pages[found.start];
                    self.pages.drain(found.clone());
                    self.run = first..first + found.len() as u64;
                    self.run_search_from = first;
                }
                None => self.run_search_from = SEARCHED_ALL,
            }
        }
        if self.run.is_empty() {
            return None;
        }
        let page = self.run.start;
        self.run.start += 1;
        Some(page)
    }

    /// Any page: the next of a run if there is one, else the highest (a pop, nothing moves).
    pub(crate) fn take_single(&mut self) -> Option<PageId> {
        self.take_from_run().or_else(|| self.pages.pop())
    }

    /// The first of `count` consecutive pages (for an overflow value), from the current run
    /// if it is long enough, else the lowest such stretch in the whole pool (the run
    /// included: a stretch may begin among the other pages and go on into the run).
    pub(crate) fn take_consecutive(&mut self, count: usize) -> Option<PageId> {
        if self.run_len() >= count {
            let first = self.run.start;
            self.run.start += count as u64;
            return Some(first);
        }
        let start = first_stretch(&self.pages, count).or_else(|| {
            // The run and the pages next to it may make the stretch together: put the run
            // back among the pages (single pages then find it again as the lowest run).
            if self.run.is_empty() {
                return None;
            }
            let split = self.pages.partition_point(|&page| page < self.run.start);
            self.pages.splice(split..split, pages_in(self.run.clone()));
            self.run_search_from = self.run_search_from.min(self.run.start);
            self.run = PageId::NONE..PageId::NONE;
            first_stretch(&self.pages, count)
        })?;
        let first = self.pages[start];
        self.pages.drain(start..start + count);
        Some(first)
    }

    /// Returns a page the transaction allocated and no longer uses. The page just before the
    /// run joins it, so a page freed right after its allocation is the next one handed out.
    ///
    /// # Panics
    /// If the page is already in the pool (freed twice): a bug in the caller.
    pub(crate) fn give_back(&mut self, page: PageId) {
        assert!(!self.run.contains(&page), "page {page} freed twice");
        if page + 1 == self.run.start {
            debug_assert!(
                self.pages.binary_search(&page).is_err(),
                "page {page} freed twice"
            );
            self.run.start = page;
            return;
        }
        let position = self
            .pages
            .binary_search(&page)
            .expect_err("page freed twice");
        self.pages.insert(position, page);
    }

    /// Adds the pages of a free segment (ascending). Returns a page that was already in the
    /// pool, if any; the pool is then unusable (the caller reports corruption).
    pub(crate) fn add(&mut self, pages: &[PageId]) -> Result<(), PageId> {
        if let Some(&twice) = pages.iter().find(|&&page| self.run.contains(&page)) {
            return Err(twice);
        }
        // Both sorted: merge them in one pass, from the back, in place.
        let old_len = self.pages.len();
        self.pages.resize(old_len + pages.len(), PageId::NONE);
        let (mut old, mut new, mut to) = (old_len, pages.len(), old_len + pages.len());
        while new > 0 {
            let take_old = old > 0 && self.pages[old - 1] >= pages[new - 1];
            let page = if take_old {
                if self.pages[old - 1] == pages[new - 1] {
                    return Err(pages[new - 1]);
                }
                old -= 1;
                self.pages[old]
            } else {
                new -= 1;
                pages[new]
            };
            if to < self.pages.len() && self.pages[to] == page {
                return Err(page);
            }
            to -= 1;
            self.pages[to] = page;
        }
        self.run_search_from = PageId::NONE;
        Ok(())
    }
}

/// The position in `pages` (ascending) where the lowest stretch of `count` consecutive page
/// numbers begins.
pub(crate) fn first_stretch(pages: &[PageId], count: usize) -> Option<usize> {
    if count == 0 {
        return None;
    }
    let mut start = 0;
    for end in 1..=pages.len() {
        if end - start >= count {
            return Some(start);
        }
        if end < pages.len() && pages[end] != pages[end - 1] + 1 {
            start = end;
        }
    }
    None
}

/// The positions in `pages` (ascending) of the lowest run of at least [`RUN_PAGES_MIN`]
/// consecutive page numbers, as long as it goes.
fn find_run(pages: &[PageId]) -> Option<Range<usize>> {
    let start = pages.windows(RUN_PAGES_MIN).position(|window| {
        window[RUN_PAGES_MIN - 1].pages_since(window[0]) == RUN_PAGES_MIN as u64 - 1
    })?;
    let length = pages[start..]
        .windows(2)
        .take_while(|pair| pair[1] == pair[0] + 1)
        .count()
        + 1;
    Some(start..start + length)
}

/// Whether each page of `pages` (ascending) lies in a run of at least [`RUN_PAGES_MIN`]
/// consecutive page numbers.
pub(crate) fn in_runs(pages: &[PageId]) -> Vec<bool> {
    let mut marks = vec![false; pages.len()];
    let mut start = 0;
    while start < pages.len() {
        let mut end = start + 1;
        while end < pages.len() && pages[end] == pages[end - 1] + 1 {
            end += 1;
        }
        if end - start >= RUN_PAGES_MIN {
            marks[start..end].fill(true);
        }
        start = end;
    }
    marks
}

/// Whether most of `pages` (ascending) lie in runs: a free segment of them is worth reading
/// for its runs.
pub(crate) fn mostly_runs(pages: &[PageId]) -> bool {
    let in_runs = in_runs(pages).into_iter().filter(|&marked| marked).count();
    in_runs > 0 && 2 * in_runs >= pages.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::id::numbered::{ids, page, range};

    /// `count` consecutive pages from `first`.
    fn run(first: u64, count: u64) -> Vec<PageId> {
        (first..first + count).map(PageId::new).collect()
    }

    #[test]
    fn single_pages_come_from_the_lowest_run_in_order() {
        let mut pages = ids(&[3, 5, 9]);
        pages.extend(run(20, 10));
        pages.extend(ids(&[40, 42]));
        pages.extend(run(50, 8));
        let mut pool = Pool::new(pages);
        let taken: Vec<PageId> = (0..12).map(|_| pool.take_single().unwrap()).collect();
        let mut expected = run(20, 10);
        expected.extend(ids(&[50, 51]));
        assert_eq!(taken, expected, "the run at 20, then the one at 50");
        // The runs used up, isolated pages go highest first.
        let rest: Vec<PageId> = std::iter::from_fn(|| pool.take_single()).collect();
        assert_eq!(rest, ids(&[52, 53, 54, 55, 56, 57, 42, 40, 9, 5, 3]));
    }

    #[test]
    fn without_a_run_the_highest_page_goes_first() {
        let mut pool = Pool::new(ids(&[2, 4, 6, 7, 8, 9, 10, 11, 12]));
        assert_eq!(pool.take_from_run(), None, "seven consecutive are no run");
        assert_eq!(pool.take_single(), Some(page(12)));
        // Adding a segment's pages makes a run possible again.
        pool.add(&run(100, 8)).unwrap();
        assert_eq!(pool.take_single(), Some(page(100)));
        assert_eq!(pool.len(), 8 + 7);
    }

    #[test]
    fn each_run_is_searched_for_from_where_the_last_one_was_found() {
        let mut pages = run(10, 8);
        pages.extend(run(30, 8));
        let mut pool = Pool::new(pages);
        assert_eq!(pool.take_single(), Some(page(10)));
        // Pages given back below the next search's start are not searched again.
        for number in (2..10).rev() {
            pool.give_back(page(number));
        }
        let taken: Vec<PageId> = (0..8).map(|_| pool.take_from_run().unwrap()).collect();
        assert_eq!(&taken[..7], &run(11, 7)[..]);
        assert_eq!(
            taken[7],
            page(30),
            "the run at 30, not the one given back at 2"
        );
        let taken: Vec<PageId> = (0..7).map(|_| pool.take_from_run().unwrap()).collect();
        assert_eq!(taken, run(31, 7));
        assert_eq!(pool.take_from_run(), None);
        // A segment's pages make the whole pool searched again.
        pool.add(&ids(&[100])).unwrap();
        let taken: Vec<PageId> = (0..8).map(|_| pool.take_from_run().unwrap()).collect();
        assert_eq!(taken, run(2, 8), "the given-back run now");
    }

    #[test]
    fn a_page_given_back_just_before_the_run_is_the_next_one_out() {
        let mut pool = Pool::new(run(10, 9));
        assert_eq!(pool.take_single(), Some(page(10)));
        assert_eq!(pool.take_single(), Some(page(11)));
        pool.give_back(page(11));
        assert_eq!(pool.take_single(), Some(page(11)));
        pool.give_back(page(10));
        assert_eq!(pool.to_vec(), ids(&[10, 12, 13, 14, 15, 16, 17, 18]));
        assert_eq!(pool.len(), 8);
    }

    #[test]
    fn the_whole_pool_lists_the_run_in_its_place() {
        let mut pages = ids(&[2, 4]);
        pages.extend(run(10, 8));
        pages.extend(ids(&[30, 31]));
        let mut pool = Pool::new(pages);
        assert_eq!(pool.take_single(), Some(page(10)));
        assert_eq!(
            pool.to_vec(),
            ids(&[2, 4, 11, 12, 13, 14, 15, 16, 17, 30, 31])
        );
    }

    #[test]
    fn consecutive_pages_come_from_the_run_or_a_stretch_of_the_rest() {
        let mut pages = ids(&[3, 4, 5]);
        pages.extend(run(10, 8));
        let mut pool = Pool::new(pages);
        assert_eq!(pool.take_single(), Some(page(10)));
        assert_eq!(pool.take_consecutive(4), Some(page(11)));
        assert_eq!(pool.take_consecutive(4), None, "three left in the run");
        // The lowest stretch of the whole pool, not the rest of the run first.
        assert_eq!(pool.take_consecutive(3), Some(page(3)));
        assert_eq!(pool.take_consecutive(3), Some(page(15)));
        assert_eq!(pool.len(), 0);
    }

    #[test]
    fn a_stretch_may_join_the_pages_before_the_run_to_the_run() {
        let mut pool = Pool::new(run(5, 9));
        assert_eq!(pool.take_single(), Some(page(5)), "the run is 6 to 13");
        pool.add(&ids(&[2, 3, 4, 5])).unwrap();
        assert_eq!(
            pool.take_consecutive(12),
            Some(page(2)),
            "pages and run together"
        );
        assert_eq!(pool.len(), 0);
        // After a stretch folded the run back, single pages find it again as a run.
        let mut pool = Pool::new(run(20, 9));
        pool.add(&ids(&[10, 11, 12])).unwrap();
        assert_eq!(pool.take_single(), Some(page(20)));
        assert_eq!(pool.take_consecutive(9), None);
        assert_eq!(pool.take_single(), Some(page(21)));
        assert_eq!(pool.len(), 10);
    }

    #[test]
    fn the_first_stretch_is_the_lowest_long_enough() {
        assert_eq!(first_stretch(&ids(&[2, 3, 5, 6, 7, 9]), 3), Some(2));
        assert_eq!(first_stretch(&ids(&[2, 3, 5, 6, 7, 9]), 1), Some(0));
        assert_eq!(first_stretch(&ids(&[2, 3, 5, 6, 7, 9]), 4), None);
        assert_eq!(
            first_stretch(&ids(&[4, 4, 5]), 2),
            Some(1),
            "a repeat breaks a stretch"
        );
        assert_eq!(first_stretch(&ids(&[]), 1), None);
        assert_eq!(first_stretch(&ids(&[1, 2]), 0), None);
    }

    #[test]
    fn pages_in_the_current_run_count_as_held() {
        // Pages 10 to 19 make a run; taking one leaves 11 to 19 in it, and 30 among the rest.
        let mut pool = Pool::new(range(10..20).into_iter().chain([page(30)]).collect());
        assert_eq!(pool.take_from_run(), Some(page(10)));
        assert_eq!(pool.to_vec()[..2], ids(&[11, 12]));
        let held = |low: u64, high: u64| pool.has_page_in(page(low), page(high));
        assert!(held(11, 11), "the run's first page");
        assert!(held(19, 19), "the run's last page");
        assert!(held(5, 11) && held(19, 25), "ranges overlapping either end");
        assert!(held(12, 18), "a range inside the run");
        assert!(!held(10, 10), "taken");
        assert!(!held(20, 29), "between the run and page 30");
        assert!(held(20, 30));
    }

    #[test]
    fn a_segment_s_pages_are_merged_into_the_pool_in_order() {
        let mut pool = Pool::new(ids(&[3, 10, 20, 21]));
        pool.add(&ids(&[1, 4, 11, 22, 30])).unwrap();
        assert_eq!(pool.to_vec(), ids(&[1, 3, 4, 10, 11, 20, 21, 22, 30]));
        pool.add(&ids(&[])).unwrap();
        pool.add(&ids(&[0, 2])).unwrap();
        assert_eq!(pool.to_vec()[..4], ids(&[0, 1, 2, 3]));
        assert!(pool.has_page_in(page(5), page(10)));
        assert!(!pool.has_page_in(page(5), page(9)));
        // One page below the highest, and one page already held.
        let mut pool = Pool::new(ids(&[5]));
        pool.add(&ids(&[3])).unwrap();
        assert_eq!(pool.to_vec(), ids(&[3, 5]));
        assert_eq!(pool.add(&ids(&[5])), Err(page(5)));
        assert_eq!(
            Pool::new(ids(&[])).add(&ids(&[5, 5])),
            Err(page(5)),
            "a page listed twice"
        );
    }

    #[test]
    fn a_page_already_in_the_pool_is_refused() {
        let mut pool = Pool::new(run(10, 8));
        assert_eq!(pool.add(&ids(&[3, 4])), Ok(()));
        assert_eq!(pool.add(&ids(&[5, 4])), Err(page(4)));
        let mut pool = Pool::new(run(10, 8));
        pool.take_single();
        assert_eq!(pool.add(&ids(&[12])), Err(page(12)), "a page of the run");
    }

    #[test]
    #[should_panic(expected = "freed twice")]
    fn giving_back_a_free_page_panics() {
        let mut pool = Pool::new(ids(&[3, 5]));
        pool.give_back(page(5));
    }

    #[test]
    fn pages_in_runs_are_told_from_isolated_ones() {
        let mut pages = ids(&[1, 3]);
        pages.extend(run(10, 8));
        pages.extend(run(30, 7));
        let marks = in_runs(&pages);
        assert_eq!(marks.iter().filter(|&&marked| marked).count(), 8);
        assert!(marks[2..10].iter().all(|&marked| marked));
        assert!(!mostly_runs(&pages), "8 of 17 pages");
        let mut half = ids(&[1, 3, 5, 7, 9, 11, 13, 15]);
        half.extend(run(20, 8));
        assert!(mostly_runs(&half), "8 of 16 pages");
        assert!(mostly_runs(&run(10, 8)));
        assert!(!mostly_runs(&[]));
    }
}
