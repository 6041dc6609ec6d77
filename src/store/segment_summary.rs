//! What each free segment holds, in brief, kept by the writer from one transaction to the
//! next, so that looking for a stretch of consecutive free pages reads only the segments
//! that could hold part of one.
//!
//! Store layer, used by the page store (`page_store.rs`). A free segment page is written once and
//! never changed while the freelist names it (invariant 2); it leaves the freelist only when
//! a write transaction takes it. So the summaries belong to the freelist of one commit: the
//! writer keeps them with its cached freelist (`env/mod.rs`, which drops them whenever
//! another process committed), the store adds a summary for each segment it reads, and a
//! commit carries them on without the segments it took ([`SegmentSummaries::taken`]). A
//! page number that later holds another segment is therefore never looked up under an old
//! summary. A summary found to disagree with its segment when the segment is read clears
//! every summary: they only guide which segments are read, the pages taken always come from
//! the segment itself (docs/design.md, invariant 12).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::page::id::PageId;

/// What one free segment holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SegmentSummary {
    /// Its lowest page (0 for an empty segment, which holds no stretch).
    pub(crate) lowest: PageId,
    /// Its highest page.
    pub(crate) highest: PageId,
    /// Its longest run of consecutive pages.
    pub(crate) longest_run: u64,
    /// The run of consecutive pages it starts with.
    pub(crate) leading_run: u64,
    /// The run of consecutive pages it ends with.
    pub(crate) trailing_run: u64,
    /// How many pages it holds.
    pub(crate) count: u64,
}

impl SegmentSummary {
    /// The summary of a segment holding `pages` (ascending).
    pub(crate) fn of(pages: &[PageId]) -> SegmentSummary {
        let (mut longest_run, mut run) = (0u64, 0u64);
        for (index, &page) in pages.iter().enumerate() {
            run = if index > 0 && pages[index - 1] + 1 == page {
                run + 1
            } else {
                1
            };
            longest_run = longest_run.max(run);
        }
        let leading_run = pages
            .windows(2)
            .take_while(|pair| pair[0] + 1 == pair[1])
            .count() as u64
            + 1;
        SegmentSummary {
            lowest: pages.first().copied().unwrap_or(PageId::NONE),
            highest: pages.last().copied().unwrap_or(PageId::NONE),
            longest_run,
            leading_run: leading_run.min(pages.len() as u64),
            trailing_run: run,
            count: pages.len() as u64,
        }
    }
}

/// Summaries of the free segments of one commit's freelist, by segment page.
#[derive(Debug, Default)]
pub(crate) struct SegmentSummaries {
    by_segment: HashMap<PageId, SegmentSummary, BuildHasherDefault<PageHasher>>,
}

/// A hasher for page numbers, which a look hashes once per unread segment: one
/// multiplication instead of the default hasher's rounds, which resist crafted keys (page
/// numbers here come from the file, and a bad spread costs only time).
#[derive(Default)]
pub(crate) struct PageHasher(u64);

impl Hasher for PageHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0 ^ value).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        // The high bits are the well mixed ones; the table indexes by the low bits.
        self.0.rotate_left(32)
    }
}

impl SegmentSummaries {
    /// The summary of `segment`, if it was read since the freelist was loaded.
    pub(crate) fn get(&self, segment: PageId) -> Option<SegmentSummary> {
        self.by_segment.get(&segment).copied()
    }

    /// Records what `segment` holds, read just now. A different summary recorded before
    /// means something this module relies on did not hold: every summary is dropped.
    pub(crate) fn record(&mut self, segment: PageId, summary: SegmentSummary) {
        if let Some(previous) = self.by_segment.insert(segment, summary) {
            if previous != summary {
                debug_assert!(false, "segment {segment} changed under its summary");
                self.by_segment.clear();
                self.by_segment.insert(segment, summary);
            }
        }
    }

    /// Forgets the segments a committed transaction took: their pages may hold anything
    /// from now on.
    pub(crate) fn taken(&mut self, segments: &[PageId]) {
        for segment in segments {
            self.by_segment.remove(segment);
        }
    }

    /// Segments summarized.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_segment.len()
    }
}

/// Which of `segments` (each with its summary) may hold part of a stretch of `count`
/// consecutive free pages, given `pool_has_page_in(low, high)`, whether the pool holds a
/// page in `low..=high`. Returned in the order given.
///
/// Segments whose ranges (from lowest to highest page, widened by one page each way) meet
/// form clusters. A stretch that takes a page of a segment lies wholly in it (its longest
/// run is long enough), or goes on from one of its pages to a neighbouring page of another
/// source: a pool page within one page of its range, or a page of another segment of its
/// cluster. So a segment is left out only when its longest run is too short, and its
/// cluster is itself alone, or holds no segment with a pool page that near, and its
/// segments' ranges do not overlap but follow each other, where a run can cross from one
/// segment into the next only as the first's trailing run, whole segments, and the last's
/// leading run, none of which add up to `count`. The lowest stretch among the pool and the
/// segments returned is then the lowest among the pool and all of `segments`.
pub(crate) fn candidates(
    segments: &[(PageId, SegmentSummary)],
    count: usize,
    pool_has_page_in: impl Fn(PageId, PageId) -> bool,
) -> Vec<PageId> {
    let count = count as u64;
    let mut by_lowest: Vec<(PageId, usize)> = (0..segments.len())
        .filter(|&index| segments[index].1.count > 0)
        .map(|index| (segments[index].1.lowest, index))
        .collect();
    by_lowest.sort_unstable();
    let by_lowest: Vec<usize> = by_lowest.into_iter().map(|(_, index)| index).collect();
    let mut wanted = vec![false; segments.len()];
    let summary = |index: usize| segments[index].1;
    let near_pool = |index: usize| {
        let summary = summary(index);
        pool_has_page_in(
            summary.lowest.saturating_sub(1),
            summary.highest.saturating_add(1),
        )
    };
    let mut cluster_start = 0;
    while cluster_start < by_lowest.len() {
        // The cluster: segments in order of lowest page, each starting at most one page past
        // the highest page of those before it.
        let mut highest = summary(by_lowest[cluster_start]).highest;
        let mut overlaps = false;
        let mut cluster_end = cluster_start + 1;
        while cluster_end < by_lowest.len() {
            let next = summary(by_lowest[cluster_end]);
            if next.lowest > highest.saturating_add(1) {
                break;
            }
            overlaps |= next.lowest <= highest;
            highest = highest.max(next.highest);
            cluster_end += 1;
        }
        let cluster = &by_lowest[cluster_start..cluster_end];
        cluster_start = cluster_end;
        for &index in cluster {
            wanted[index] |= summary(index).longest_run >= count;
        }
        if cluster.len() == 1 {
            wanted[cluster[0]] |= near_pool(cluster[0]);
            continue;
        }
        if overlaps || cluster.iter().any(|&index| near_pool(index)) {
            cluster.iter().for_each(|&index| wanted[index] = true);
            continue;
        }
        // Segments one after another: the run crossing into each, and where it began.
        let (mut run, mut run_from) = (summary(cluster[0]).trailing_run, 0);
        for position in 1..cluster.len() {
            let next = summary(cluster[position]);
            if run + next.leading_run >= count {
                cluster[run_from..=position]
                    .iter()
                    .for_each(|&index| wanted[index] = true);
            }
            if next.leading_run == next.count {
                run += next.count;
            } else {
                (run, run_from) = (next.trailing_run, position);
            }
        }
    }
    segments
        .iter()
        .zip(wanted)
        .filter(|&(_, wanted)| wanted)
        .map(|(&(segment, _), _)| segment)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::id::numbered::{ids, page};

    fn summary(pages: &[u64]) -> SegmentSummary {
        SegmentSummary::of(&ids(pages))
    }

    #[test]
    fn a_summary_holds_the_range_and_the_longest_run() {
        assert_eq!(
            summary(&[3, 5, 6, 7, 9, 10]),
            SegmentSummary {
                lowest: page(3),
                highest: page(10),
                longest_run: 3,
                leading_run: 1,
                trailing_run: 2,
                count: 6
            }
        );
        assert_eq!(summary(&[]).longest_run, 0);
    }

    #[test]
    fn only_segments_that_could_hold_part_of_a_stretch_are_candidates() {
        let no_pool = |_, _| false;
        let segments = [
            (page(50), summary(&[10, 12, 14])),
            (page(51), summary(&[20, 21, 22, 23])),
            (page(52), summary(&[30, 31, 32])),
            (page(53), summary(&[33, 35])),
            (page(54), summary(&[40, 42])),
            (page(55), summary(&[41, 43])),
            (page(56), summary(&[])),
            (page(57), summary(&[60, 62])),
        ];
        assert_eq!(
            candidates(&segments, 4, no_pool),
            ids(&[51, 52, 53, 54, 55]),
            "a run of 4; 30-32 goes on into 33; 40-42 overlaps 41-43"
        );
        assert_eq!(
            candidates(&segments, 5, no_pool),
            ids(&[54, 55]),
            "30 to 33 is four pages"
        );
        assert_eq!(
            candidates(&segments, 5, |low, high| low <= page(15)
                && page(15) <= high),
            ids(&[50, 54, 55]),
            "pool page 15 next to 14"
        );
        assert_eq!(
            candidates(&segments, 5, |low, high| low <= page(36)
                && page(36) <= high),
            ids(&[52, 53, 54, 55]),
            "pool page 36 next to the cluster 30-35"
        );
        assert_eq!(
            candidates(&segments, 5, |low, _| low == page(59)),
            ids(&[54, 55, 57])
        );
    }

    #[test]
    fn a_run_crossing_whole_segments_makes_them_all_candidates() {
        let segments = [
            (page(50), summary(&[8, 10, 11])),
            (page(51), summary(&[12, 13])),
            (page(52), summary(&[14, 15, 17])),
            (page(53), summary(&[18, 20])),
        ];
        let no_pool = |_, _| false;
        assert_eq!(candidates(&segments, 6, no_pool), ids(&[50, 51, 52]));
        assert_eq!(candidates(&segments, 7, no_pool), Vec::<PageId>::new());
        assert_eq!(candidates(&segments[1..], 5, no_pool), Vec::<PageId>::new());
    }

    /// The lowest stretch among the pool and the candidates is the lowest among the pool and
    /// every segment, over free pages split among segments at random or in ascending slices.
    #[test]
    fn leaving_out_the_segments_that_are_not_candidates_never_changes_the_stretch_found() {
        use crate::store::stretch::UnreadListing;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut random = move |below: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % below
        };
        for round in 0..3000 {
            let sparse = 2 + round % 4;
            let free: Vec<PageId> = (2..120)
                .filter(|_| random(sparse) != 0)
                .map(PageId::new)
                .collect();
            let segment_count = 1 + random(8) as usize;
            let mut segments: Vec<Vec<PageId>> = vec![Vec::new(); segment_count];
            let mut pool = Vec::new();
            let in_slices = round % 2 == 0;
            let with_pool = round % 3 != 0;
            let slice = 1 + free.len() / segment_count;
            for (index, &page) in free.iter().enumerate() {
                let to_pool = with_pool && random(6) == 0;
                if to_pool {
                    pool.push(page);
                } else if in_slices {
                    segments[(index / slice).min(segment_count - 1)].push(page);
                } else {
                    segments[random(segment_count as u64) as usize].push(page);
                }
            }
            let summarized: Vec<(PageId, SegmentSummary)> = segments
                .iter()
                .enumerate()
                .map(|(index, pages)| (page(1000) + index as u64, SegmentSummary::of(pages)))
                .collect();
            let pages_of =
                |segment: PageId| Ok(segments[segment.pages_since(page(1000)) as usize].clone());
            let all: Vec<PageId> = summarized.iter().map(|&(segment, _)| segment).collect();
            let every = UnreadListing::read(all, pages_of).unwrap();
            for count in 2..14 {
                let has = |low: PageId, high: PageId| {
                    pool.iter().any(|&page| low <= page && page <= high)
                };
                let chosen = candidates(&summarized, count, has);
                let some = UnreadListing::read(chosen, pages_of).unwrap();
                assert_eq!(
                    some.lowest_stretch(pool.iter().copied(), count),
                    every.lowest_stretch(pool.iter().copied(), count),
                    "round {round}, count {count}: {segments:?}, pool {pool:?}"
                );
            }
        }
    }

    #[test]
    fn a_taken_segment_loses_its_summary() {
        let mut summaries = SegmentSummaries::default();
        summaries.record(page(5), summary(&[10, 11]));
        summaries.record(page(6), summary(&[20]));
        summaries.record(page(5), summary(&[10, 11]));
        assert_eq!(summaries.len(), 2, "the same again");
        summaries.taken(&[page(6)]);
        assert_eq!(summaries.get(page(6)), None);
        assert_eq!(summaries.len(), 1);
    }
}
