//! The freelist: pages no tree uses, grouped by the transaction that freed them.
//!
//! A page freed by txn `T` was still reachable in snapshot `T - 1`, so it may be reused only
//! once no reader holds a snapshot older than `T` and the older meta (`last - 1`) no longer
//! needs it (docs/design.md, invariant 3). Group 0 holds pages that are free for everyone.
//!
//! The freelist is persisted at every commit as a chain of freelist pages written to fresh
//! pages (never over a page either meta can reach). A group lists its pages in the chain
//! itself, or, once it has more than a segment holds, mostly in free segments
//! (`free_segment.rs`): pages written once that the chain names by number. So the chain a
//! commit rewrites stays small however many pages are free (invariant 12). Each chain page is:
//!
//! ```text
//! offset size field
//!  0    24    page header, kind 4 (freelist), aux = payload bytes in this page
//! 24     8    next page of the chain, 0 at the end
//! 32     .    payload
//! ```
//!
//! The payloads, concatenated, are the stream: `u64 group count`, then per group
//! `u64 txn id, u64 page count, page count x u64 page id`; then (format version 2) `u64
//! segment group count`, then per group `u64 txn id, u64 run count, run count x (u64 first
//! segment page, u64 segments)`: the group's segments in order, as runs of consecutive page
//! numbers; then (format version 4) a third part like the second, naming the segments that
//! hold mostly runs of consecutive free pages (`pool.rs`), which a transaction reads first
//! so that its pages lie together. A version 1 stream ends after the first part, a version
//! 2 or 3 stream after the second.

use std::collections::BTreeMap;

use super::pool;
use crate::error::{Error, Result};
use crate::page::header::{self, PageKind, PAGE_HEADER_SIZE};
use crate::page::id::{
    pages_in, read_page_id, read_u64, write_page_id, PageId, TxnId, META_PAGE_COUNT,
};
use crate::page::meta::Meta;

const NEXT_OFFSET: usize = PAGE_HEADER_SIZE;
/// Where a chain page's payload starts.
pub(crate) const PAYLOAD_OFFSET: usize = NEXT_OFFSET + 8;

/// Payload bytes one chain page holds.
pub(crate) fn payload_capacity(page_size: usize) -> usize {
    page_size - PAYLOAD_OFFSET
}

/// The free pages one transaction freed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Group {
    /// Pages listed in the chain itself.
    pages: Vec<PageId>,
    /// Free segment pages holding the rest, mostly isolated pages.
    segments: Vec<PageId>,
    /// Free segment pages holding the rest, mostly runs of consecutive pages.
    run_segments: Vec<PageId>,
}

/// Free pages by the txn that freed them ([`FreeList::FREE_FOR_EVERYONE`]: free for
/// everyone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FreeList {
    groups: BTreeMap<TxnId, Group>,
}

/// The part of a freelist a write transaction may use: pages listed in the chain, sorted, and
/// free segments, oldest group first, to be read when the pages run out (those holding runs
/// also when the pages hold no run).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Reusable {
    pub(crate) pages: Vec<PageId>,
    pub(crate) segments: Vec<PageId>,
    pub(crate) run_segments: Vec<PageId>,
}

impl FreeList {
    /// The group of pages free for everyone (group 0): no snapshot still sees them.
    pub(crate) const FREE_FOR_EVERYONE: TxnId = TxnId::BEFORE_FIRST_COMMIT;

    /// Records that `txn` freed `pages` (listed in the chain).
    pub(crate) fn add(&mut self, txn: TxnId, pages: &[PageId]) {
        if !pages.is_empty() {
            let group = self.groups.entry(txn).or_default();
            group.pages.extend_from_slice(pages);
        }
    }

    /// Records free segments holding (mostly isolated) pages `txn` freed.
    pub(crate) fn add_segments(&mut self, txn: TxnId, segments: &[PageId]) {
        if !segments.is_empty() {
            let group = self.groups.entry(txn).or_default();
            add_sorted(&mut group.segments, segments);
        }
    }

    /// Records free segments holding mostly runs of pages `txn` freed.
    pub(crate) fn add_run_segments(&mut self, txn: TxnId, segments: &[PageId]) {
        if !segments.is_empty() {
            let group = self.groups.entry(txn).or_default();
            add_sorted(&mut group.run_segments, segments);
        }
    }

    /// Records free segment `segment`, which holds `pages` (ascending) that `txn` freed, as
    /// one holding runs or not.
    pub(crate) fn add_segment_holding(&mut self, txn: TxnId, segment: PageId, pages: &[PageId]) {
        if pool::mostly_runs(pages) {
            self.add_run_segments(txn, &[segment]);
        } else {
            self.add_segments(txn, &[segment]);
        }
    }

    /// What every txn `<= limit` freed, and a copy of the rest of the list (what a write
    /// transaction starts from: the pages it may reuse, and the groups it carries on).
    pub(crate) fn split_reusable(&self, limit: TxnId) -> (FreeList, Reusable) {
        let mut taken = Reusable::default();
        let mut kept = FreeList::default();
        for (&txn, group) in &self.groups {
            if txn > limit {
                kept.groups.insert(txn, group.clone());
                continue;
            }
            // Groups are mostly sorted already (group 0 always is: it is the pool a commit
            // left over), so sort each on its own and merge them, rather than sort them all.
            let mut pages = group.pages.clone();
            if !pages.is_sorted() {
                pages.sort_unstable();
            }
            taken.pages = merge_sorted(std::mem::take(&mut taken.pages), pages);
            taken.segments.extend_from_slice(&group.segments);
            taken.run_segments.extend_from_slice(&group.run_segments);
        }
        (kept, taken)
    }

    /// Takes pages out of the chain, in sorted lists of at most `segment_capacity` pages, for
    /// the caller to write to free segments (and record with
    /// [`Self::add_segment_holding`]). This is what keeps the chain, which every commit
    /// rewrites, small: afterwards it lists at most `listed_max` pages, plus two numbers per
    /// run of consecutive free segments and two per group.
    ///
    /// 1. A group other than 0 that lists more than a segment holds (a mass delete's) gives
    ///    its full segments' worth, lowest pages first.
    /// 2. Then, only while the chain lists more than `listed_max` pages: group 0 (the pool
    ///    left over, the next transaction's first choice) gives all its isolated pages, then
    ///    its highest runs of consecutive pages (`pool.rs`) a segment's worth at a time,
    ///    keeping its lowest runs, which the next transactions take from; then whole groups
    ///    go, oldest first, group 0 last.
    ///
    /// Spilling only past `listed_max`, and then all of group 0's isolated pages at once,
    /// means a pool that reads a segment of runs now and then spills one segment of the
    /// isolated pages gathered meanwhile, rather than a little at every commit.
    pub(crate) fn spill(
        &mut self,
        segment_capacity: usize,
        listed_max: usize,
    ) -> Vec<(TxnId, Vec<PageId>)> {
        let mut spilled = Vec::new();
        let mut spill = |txn: TxnId, pages: &[PageId]| {
            spilled.extend(
                pages
                    .chunks(segment_capacity)
                    .map(|chunk| (txn, chunk.to_vec())),
            );
        };
        for (&txn, group) in &mut self.groups {
            if txn == Self::FREE_FOR_EVERYONE || group.pages.len() <= segment_capacity {
                continue;
            }
            sort_and_dedup(&mut group.pages);
            let full = group.pages.len() / segment_capacity * segment_capacity;
            let kept = group.pages.split_off(full);
            spill(txn, &std::mem::replace(&mut group.pages, kept));
        }
        let mut listed: usize = self.groups.values().map(|group| group.pages.len()).sum();
        if listed <= listed_max {
            return spilled;
        }
        if let Some(pool) = self.groups.get_mut(&Self::FREE_FOR_EVERYONE) {
            sort_and_dedup(&mut pool.pages);
            let in_runs = pool::in_runs(&pool.pages);
            let (runs, isolated): (Vec<_>, Vec<_>) = pool
                .pages
                .iter()
                .zip(in_runs)
                .partition(|(_, in_run)| *in_run);
            let isolated: Vec<PageId> = isolated.into_iter().map(|(&page, _)| page).collect();
            pool.pages = runs.into_iter().map(|(&page, _)| page).collect();
            listed -= isolated.len();
            spill(Self::FREE_FOR_EVERYONE, &isolated);
            // Then its highest runs, a full segment at a time, keeping the lowest ones listed.
            while listed > listed_max && pool.pages.len() >= segment_capacity {
                let highest = pool.pages.split_off(pool.pages.len() - segment_capacity);
                listed -= highest.len();
                spill(Self::FREE_FOR_EVERYONE, &highest);
            }
        }
        let order: Vec<TxnId> = self
            .groups
            .keys()
            .copied()
            .filter(|&txn| txn != Self::FREE_FOR_EVERYONE)
            .chain(std::iter::once(Self::FREE_FOR_EVERYONE))
            .collect();
        for txn in order {
            if listed <= listed_max {
                break;
            }
            let Some(group) = self.groups.get_mut(&txn) else {
                continue;
            };
            let mut pages = std::mem::take(&mut group.pages);
            sort_and_dedup(&mut pages);
            listed -= pages.len();
            spill(txn, &pages);
        }
        spilled
    }

    /// Whether nothing is free.
    pub(crate) fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Every free page listed in the chain, in no particular order.
    pub(crate) fn pages(&self) -> impl Iterator<Item = PageId> + '_ {
        self.groups
            .values()
            .flat_map(|group| group.pages.iter().copied())
    }

    /// Every free segment page (of both kinds), in no particular order.
    pub(crate) fn segments(&self) -> impl Iterator<Item = PageId> + '_ {
        self.groups.values().flat_map(|group| {
            group
                .segments
                .iter()
                .chain(group.run_segments.iter())
                .copied()
        })
    }

    /// Bytes of [`Self::encode`]'s output.
    pub(crate) fn encoded_len(&self) -> usize {
        let listed: usize = self
            .groups
            .values()
            .filter(|group| !group.pages.is_empty())
            .map(|group| 16 + 8 * group.pages.len())
            .sum();
        let segmented = |segments: fn(&Group) -> &Vec<PageId>| -> usize {
            self.groups
                .values()
                .filter(|group| !segments(group).is_empty())
                .map(|group| 16 + 16 * consecutive_runs(segments(group)).len())
                .sum()
        };
        24 + listed + segmented(|group| &group.segments) + segmented(|group| &group.run_segments)
    }

    /// Encodes as the (version 4) stream described in the module docs.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        let mut word = |value: u64| out.extend_from_slice(&value.to_le_bytes());
        let listed: Vec<_> = self
            .groups
            .iter()
            .filter(|(_, group)| !group.pages.is_empty())
            .collect();
        word(listed.len() as u64);
        for (&txn, group) in listed {
            word(txn.get());
            word(group.pages.len() as u64);
            group.pages.iter().for_each(|&page| word(page.get()));
        }
        for segments in [
            (|group| &group.segments) as fn(&Group) -> &Vec<PageId>,
            |group| &group.run_segments,
        ] {
            let segmented: Vec<_> = self
                .groups
                .iter()
                .filter(|(_, group)| !segments(group).is_empty())
                .collect();
            word(segmented.len() as u64);
            for (&txn, group) in segmented {
                let runs = consecutive_runs(segments(group));
                word(txn.get());
                word(runs.len() as u64);
                for (first, count) in runs {
                    word(first.get());
                    word(count);
                }
            }
        }
        out
    }

    /// Decodes a stream (version 1 to 5); every page id must lie in `[2, page_count)`.
    pub(crate) fn decode(stream: &[u8], page_count: u64, head: PageId) -> Result<FreeList> {
        let bad = |reason: &str| Error::corrupted(head, format!("freelist: {reason}"));
        if stream.len() % 8 != 0 {
            return Err(bad("the stream is not whole words"));
        }
        let mut words = stream.chunks_exact(8);
        let next_u64 = |words: &mut std::slice::ChunksExact<'_, u8>, what: &str| {
            words
                .next()
                .map(|word| read_u64(word, 0))
                .ok_or_else(|| bad(&format!("stream ends inside {what}")))
        };
        let in_file = |page: PageId| page >= PageId::FIRST_TREE_PAGE && page.get() < page_count;
        // No count can exceed the pages a tree may use: the metas are never free.
        let free_max = page_count.saturating_sub(META_PAGE_COUNT);
        let mut list = FreeList::default();
        let group_count = next_u64(&mut words, "a group count")?;
        for _ in 0..group_count {
            let txn = TxnId::new(next_u64(&mut words, "a txn id")?);
            let count = next_u64(&mut words, "a page count")?;
            if count == 0 || count > free_max {
                return Err(bad("a group lists no pages, or more than the file has"));
            }
            let mut pages = Vec::with_capacity(count as usize);
            for _ in 0..count {
                let page = PageId::new(next_u64(&mut words, "a page id")?);
                if !in_file(page) {
                    return Err(bad(&format!("page {page} is outside the file")));
                }
                pages.push(page);
            }
            let group = list.groups.entry(txn).or_default();
            if !group.pages.is_empty() {
                return Err(bad("a txn id appears twice"));
            }
            group.pages = pages;
        }
        if words.len() == 0 {
            return Ok(list); // a version 1 stream ends here: no segments
        }
        let mut segments_total = 0u64;
        for holding_runs in [false, true] {
            if holding_runs && words.len() == 0 {
                return Ok(list); // a version 2 or 3 stream ends here
            }
            let group_count = next_u64(&mut words, "a segment group count")?;
            for _ in 0..group_count {
                let txn = TxnId::new(next_u64(&mut words, "a txn id")?);
                let run_count = next_u64(&mut words, "a run count")?;
                if run_count == 0 || run_count > free_max {
                    return Err(bad(
                        "a group has no segment runs, or more than the file has pages",
                    ));
                }
                let mut segments = Vec::new();
                for _ in 0..run_count {
                    let first = PageId::new(next_u64(&mut words, "a segment run")?);
                    let count = next_u64(&mut words, "a segment run")?;
                    segments_total = segments_total.saturating_add(count);
                    let end = first.saturating_add(count);
                    if count == 0
                        || !in_file(first)
                        || end.get() > page_count
                        || segments_total > free_max
                    {
                        return Err(bad(&format!(
                            "segment run of {count} pages from {first} is outside the file"
                        )));
                    }
                    segments.extend(pages_in(first..end));
                }
                let group = list.groups.entry(txn).or_default();
                let kind = if holding_runs {
                    &mut group.run_segments
                } else {
                    &mut group.segments
                };
                if !kind.is_empty() {
                    return Err(bad("a txn id appears twice"));
                }
                *kind = segments;
            }
        }
        if words.len() != 0 {
            return Err(bad("bytes after the end of the stream"));
        }
        Ok(list)
    }
}

/// Adds `new` to the ascending `list`, keeping it in page order, so that segments allocated
/// together make runs in the stream.
fn add_sorted(list: &mut Vec<PageId>, new: &[PageId]) {
    list.extend_from_slice(new);
    list.sort_unstable();
}

/// Sorts `pages` and drops repeats: only a corrupt file lists a page twice, and a segment
/// must list it once.
fn sort_and_dedup(pages: &mut Vec<PageId>) {
    pages.sort_unstable();
    pages.dedup();
}

/// The pages of two ascending lists, ascending.
fn merge_sorted(a: Vec<PageId>, b: Vec<PageId>) -> Vec<PageId> {
    if a.is_empty() {
        return b;
    }
    if b.is_empty() {
        return a;
    }
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut left, mut right) = (a.as_slice(), b.as_slice());
    while let (Some(&x), Some(&y)) = (left.first(), right.first()) {
        if x <= y {
            merged.push(x);
            left = &left[1..];
        } else {
            merged.push(y);
            right = &right[1..];
        }
    }
    merged.extend_from_slice(left);
    merged.extend_from_slice(right);
    merged
}

/// The runs of consecutive page numbers in `pages`, in order, as (first, count): a
/// transaction that spills many free segments takes their pages together (often from the end
/// of the file), so the chain names them in a few runs.
fn consecutive_runs(pages: &[PageId]) -> Vec<(PageId, u64)> {
    let mut runs: Vec<(PageId, u64)> = Vec::new();
    for &page in pages {
        match runs.last_mut() {
            Some((first, count)) if *first + *count == page => *count += 1,
            _ => runs.push((page, 1)),
        }
    }
    runs
}

/// Fills chain page `id` with its header, `next` link and `payload`.
pub(crate) fn write_chain_page(page: &mut [u8], id: PageId, next: PageId, payload: &[u8]) {
    header::init(page, PageKind::Freelist, id);
    header::set_aux(page, payload.len() as u32);
    write_page_id(page, NEXT_OFFSET, next);
    page[PAYLOAD_OFFSET..PAYLOAD_OFFSET + payload.len()].copy_from_slice(payload);
    page[PAYLOAD_OFFSET + payload.len()..].fill(0);
}

/// Reads the freelist of the commit `meta` describes: the stream its meta keeps (`kept`, format
/// version 5), or the chain it names, read through `read_page`. Returns the list and the
/// chain's own pages (none for a kept stream).
pub(crate) fn read<'a>(
    meta: &Meta,
    kept: Option<&[u8]>,
    read_page: impl FnMut(PageId) -> Result<&'a [u8]>,
) -> Result<(FreeList, Vec<PageId>)> {
    let page_size = meta.page_size as usize;
    match kept {
        Some(_) if !meta.freelist.is_none() => Err(Error::corrupted(
            meta.txn_id.meta_page(),
            "the meta keeps a freelist and names a freelist chain too",
        )),
        Some(stream) => Ok((
            FreeList::decode(stream, meta.page_count, meta.txn_id.meta_page())?,
            Vec::new(),
        )),
        None => read_chain(meta.freelist, meta.page_count, page_size, read_page),
    }
}

/// Reads the chain starting at `head` through `read_page`, returning the decoded freelist and
/// the chain's own pages. Bounded: a chain longer than the file has pages is a cycle.
pub(crate) fn read_chain<'a>(
    head: PageId,
    page_count: u64,
    page_size: usize,
    mut read_page: impl FnMut(PageId) -> Result<&'a [u8]>,
) -> Result<(FreeList, Vec<PageId>)> {
    let mut stream = Vec::new();
    let mut chain = Vec::new();
    let mut next = head;
    while !next.is_none() {
        if chain.len() as u64 >= page_count {
            return Err(Error::corrupted(head, "freelist chain loops"));
        }
        let page = read_page(next)?;
        if header::kind(page) != Some(PageKind::Freelist) || header::page_id(page) != next {
            return Err(Error::corrupted(next, "expected a freelist page"));
        }
        // The list decides which pages the writer overwrites: a damaged one must not be used.
        if !header::checksum_matches(page) {
            return Err(Error::corrupted(next, "freelist page fails its checksum"));
        }
        let payload_len = header::aux(page) as usize;
        if payload_len > payload_capacity(page_size) {
            return Err(Error::corrupted(
                next,
                "freelist payload longer than its page",
            ));
        }
        stream.extend_from_slice(&page[PAYLOAD_OFFSET..PAYLOAD_OFFSET + payload_len]);
        chain.push(next);
        next = read_page_id(page, NEXT_OFFSET);
    }
    if chain.is_empty() {
        return Ok((FreeList::default(), chain));
    }
    Ok((FreeList::decode(&stream, page_count, head)?, chain))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::MdbError;
    use crate::page::id::numbered::{ids, page, range, txn};

    #[test]
    fn take_reusable_respects_the_limit() {
        let mut list = FreeList::default();
        list.add(txn(0), &ids(&[9]));
        list.add(txn(3), &ids(&[5, 4]));
        list.add_segments(txn(3), &ids(&[20]));
        list.add(txn(4), &ids(&[7]));
        list.add_segments(txn(4), &ids(&[21, 22]));
        list.add(txn(6), &ids(&[8]));
        list.add_segments(txn(6), &ids(&[23]));
        let (kept, taken) = list.split_reusable(txn(4));
        assert_eq!(taken.pages, ids(&[4, 5, 7, 9]));
        assert_eq!(taken.segments, ids(&[20, 21, 22]));
        assert_eq!(kept.pages().collect::<Vec<_>>(), ids(&[8]));
        assert_eq!(kept.segments().collect::<Vec<_>>(), ids(&[23]));
        // The list itself is left as it was.
        assert_eq!(list.pages().count(), 5);
    }

    #[test]
    fn merging_keeps_every_page_in_order() {
        assert_eq!(
            merge_sorted(ids(&[1, 4, 9]), ids(&[2, 3, 10, 11])),
            ids(&[1, 2, 3, 4, 9, 10, 11])
        );
        assert_eq!(merge_sorted(vec![], ids(&[2])), ids(&[2]));
        assert_eq!(merge_sorted(ids(&[5, 6]), vec![]), ids(&[5, 6]));
        assert_eq!(
            merge_sorted(ids(&[7]), ids(&[7])),
            ids(&[7, 7]),
            "a duplicate is kept (and refused later)"
        );
    }

    #[test]
    fn a_large_group_spills_its_full_segments_whatever_the_limit() {
        let mut list = FreeList::default();
        let pool = range(100..120);
        list.add(txn(0), &pool);
        list.add(txn(1), &ids(&[9, 3, 8, 2, 7, 4, 6, 30, 31, 32, 33, 34]));
        let spilled = list.spill(10, 40);
        assert_eq!(
            spilled,
            vec![(txn(1), ids(&[2, 3, 4, 6, 7, 8, 9, 30, 31, 32]))]
        );
        // Group 0 lists more than a segment holds, but the chain is under the limit.
        assert_eq!(list.pages().count(), 20 + 2);
    }

    #[test]
    fn over_the_limit_group_0_gives_isolated_pages_then_its_highest_runs_then_whole_groups() {
        let mut list = FreeList::default();
        let mut pool = ids(&[2, 4, 6]);
        pool.extend(range(100..120));
        pool.extend(range(200..208));
        list.add(txn(0), &pool);
        list.add(txn(5), &ids(&[50, 51]));
        list.add(txn(6), &ids(&[60]));
        // 34 listed, at most 12: the isolated pages of group 0, then its highest runs a
        // segment's worth at a time; its lowest run and the small groups stay.
        let spilled = list.spill(10, 12);
        let mut highest = ids(&[118, 119]);
        highest.extend(range(200..208));
        assert_eq!(
            spilled,
            vec![
                (txn(0), ids(&[2, 4, 6])),
                (txn(0), highest),
                (txn(0), range(108..118))
            ]
        );
        let mut listed: Vec<PageId> = list.pages().collect();
        listed.sort_unstable();
        let mut expected = ids(&[50, 51, 60]);
        expected.extend(range(100..108));
        assert_eq!(listed, expected);
        // At most 2: whole groups, oldest first, group 0 last.
        let spilled = list.spill(10, 2);
        assert_eq!(
            spilled,
            vec![
                (txn(5), ids(&[50, 51])),
                (txn(6), ids(&[60])),
                (txn(0), range(100..108))
            ]
        );
        assert!(list.pages().next().is_none());
        // Under the limit nothing moves.
        list.add(txn(0), &ids(&[3, 5]));
        assert!(list.spill(10, 2).is_empty());
    }

    #[test]
    fn group_0_stops_spilling_as_soon_as_the_chain_is_at_the_limit() {
        let mut list = FreeList::default();
        let mut pool = ids(&[2, 4, 6]);
        pool.extend(range(100..120));
        list.add(txn(0), &pool);
        // 23 listed, at most 20: the three isolated pages bring it to the limit exactly, so
        // the runs stay listed.
        assert_eq!(list.spill(10, 20), vec![(txn(0), ids(&[2, 4, 6]))]);
        assert_eq!(list.pages().count(), 20);
    }

    #[test]
    fn whole_groups_spill_only_until_the_chain_is_under_the_limit() {
        let mut list = FreeList::default();
        list.add(txn(5), &ids(&[50, 51]));
        list.add(txn(6), &ids(&[60]));
        list.add(txn(7), &ids(&[70]));
        // 4 listed, at most 2: the oldest group is enough.
        assert_eq!(list.spill(10, 2), vec![(txn(5), ids(&[50, 51]))]);
        let mut listed: Vec<PageId> = list.pages().collect();
        listed.sort_unstable();
        assert_eq!(listed, ids(&[60, 70]));
    }

    #[test]
    fn a_group_count_of_zero_or_beyond_the_file_is_refused_before_allocating() {
        let stream = |count: u64| stream_of(&[1, 5, count]);
        // Pages 2 to 19 of a 20-page file: at most 18 free.
        let mut valid = vec![1, 5, 18];
        valid.extend(2..20);
        assert!(FreeList::decode(&stream_of(&valid), 20, page(1)).is_ok());
        for count in [0, 19, 20, 1 << 40, u64::MAX] {
            let refused = FreeList::decode(&stream(count), 20, page(1)).unwrap_err();
            assert!(
                refused
                    .to_string()
                    .contains("lists no pages, or more than the file has"),
                "count {count}: {refused}"
            );
        }
    }

    #[test]
    fn segments_are_recorded_and_handed_out_by_what_they_hold() {
        let mut list = FreeList::default();
        let runs = range(100..116);
        list.add_segment_holding(txn(3), page(40), &runs);
        list.add_segment_holding(txn(3), page(41), &ids(&[2, 4, 6, 8]));
        list.add_segment_holding(txn(4), page(42), &runs);
        list.add_segment_holding(txn(9), page(43), &runs);
        assert_eq!(list.segments().count(), 4);
        let (kept, taken) = list.split_reusable(txn(4));
        assert_eq!(taken.segments, ids(&[41]));
        assert_eq!(taken.run_segments, ids(&[40, 42]));
        assert_eq!(kept.segments().collect::<Vec<_>>(), ids(&[43]));
    }

    #[test]
    fn stream_round_trips_and_rejects_out_of_range_pages() {
        let mut list = FreeList::default();
        list.add(txn(0), &ids(&[2, 3]));
        list.add(txn(10), &ids(&[11]));
        list.add_segments(txn(10), &ids(&[12, 13]));
        list.add_segments(txn(11), &ids(&[14]));
        let stream = list.encode();
        assert_eq!(stream.len(), list.encoded_len());
        assert_eq!(FreeList::decode(&stream, 20, page(1)).unwrap(), list);
        assert!(
            FreeList::decode(&stream, 14, page(1)).is_err(),
            "segment 14 is outside"
        );
        assert!(FreeList::decode(&stream, 5, page(1)).is_err());
        assert!(FreeList::decode(&stream[..stream.len() - 1], 20, page(1)).is_err());
        let mut trailing = stream.clone();
        trailing.extend_from_slice(&[0; 8]);
        assert!(FreeList::decode(&trailing, 20, page(1)).is_err());
    }

    #[test]
    fn consecutive_segments_are_encoded_as_runs() {
        let mut list = FreeList::default();
        let segments: Vec<PageId> = (100..1100).chain([5, 7, 8]).map(page).collect();
        list.add_segments(txn(3), &segments);
        // Three count words, one group, three runs, in page order: (5, 1), (txn(7), 2), (txn(100),
        // 1000).
        assert_eq!(list.encoded_len(), 24 + 16 + 3 * 16);
        let stream = list.encode();
        assert_eq!(stream.len(), list.encoded_len());
        let decoded = FreeList::decode(&stream, 2000, page(1)).unwrap();
        let mut sorted = segments.clone();
        sorted.sort_unstable();
        assert_eq!(decoded.segments().collect::<Vec<_>>(), sorted);

        // A run reaching past the file, an empty run, a run count of zero.
        assert!(FreeList::decode(&stream, 1099, page(1)).is_err());
        let word = |stream: &mut Vec<u8>, index: usize, value: u64| {
            stream[index * 8..index * 8 + 8].copy_from_slice(&value.to_le_bytes())
        };
        let mut empty_run = stream.clone();
        word(&mut empty_run, 7, 0);
        assert!(FreeList::decode(&empty_run, 2000, page(1)).is_err());
        let mut no_runs = stream.clone();
        word(&mut no_runs, 3, 0);
        assert!(FreeList::decode(&no_runs, 2000, page(1)).is_err());
        let mut wrapping = stream.clone();
        word(&mut wrapping, 8, u64::MAX - 1);
        assert!(FreeList::decode(&wrapping, 2000, page(1)).is_err());
    }

    #[test]
    fn segments_holding_runs_round_trip_in_the_third_part() {
        let mut list = FreeList::default();
        list.add(txn(0), &ids(&[2]));
        list.add_segments(txn(0), &ids(&[20]));
        list.add_run_segments(txn(0), &ids(&[21, 22, 30]));
        list.add_run_segments(txn(7), &ids(&[31]));
        let stream = list.encode();
        assert_eq!(stream.len(), list.encoded_len());
        assert_eq!(FreeList::decode(&stream, 40, page(1)).unwrap(), list);
        // The third part is checked like the second: a run outside the file, or a group
        // named twice.
        assert!(FreeList::decode(&stream, 31, page(1)).is_err());
        let mut twice = stream.clone();
        let group_7_txn = twice.len() - 4 * 8;
        twice[group_7_txn..group_7_txn + 8].copy_from_slice(&0u64.to_le_bytes());
        let error = FreeList::decode(&twice, 40, page(1))
            .unwrap_err()
            .to_string();
        assert!(error.contains("appears twice"), "{error}");
    }

    #[test]
    fn a_version_3_stream_decodes_as_a_list_without_segments_holding_runs() {
        // Versions 2 and 3 wrote the first two parts: pages 2 and 3 listed in group 0,
        // segments 12 and 13 of group 10.
        let stream = stream_of(&[1, 0, 2, 2, 3, 1, 10, 1, 12, 2]);
        let mut expected = FreeList::default();
        expected.add(txn(0), &ids(&[2, 3]));
        expected.add_segments(txn(10), &ids(&[12, 13]));
        assert_eq!(FreeList::decode(&stream, 20, page(1)).unwrap(), expected);
    }

    #[test]
    fn a_version_1_stream_decodes_as_a_list_without_segments() {
        // Format version 1 wrote only the first part of the stream.
        let stream = stream_of(&[2, 0, 2, 2, 3, 10, 1, 11]);
        let mut expected = FreeList::default();
        expected.add(txn(0), &ids(&[2, 3]));
        expected.add(txn(10), &ids(&[11]));
        assert_eq!(FreeList::decode(&stream, 20, page(1)).unwrap(), expected);
    }

    /// A stream of these words, as the chain's payloads hold them.
    fn stream_of(words: &[u64]) -> Vec<u8> {
        words.iter().flat_map(|word| word.to_le_bytes()).collect()
    }

    /// A version 2 stream: no page groups, then one group of free segments given as runs.
    fn segment_stream(runs: &[(u64, u64)], run_count: u64) -> Vec<u8> {
        let mut words = vec![0, 1, 7, run_count];
        for &(first, count) in runs {
            words.extend([first, count]);
        }
        stream_of(&words)
    }

    #[test]
    fn segment_runs_are_bounded_by_the_file_before_they_are_expanded() {
        let decode = |stream: Vec<u8>| FreeList::decode(&stream, 20, page(1));
        assert!(decode(segment_stream(&[(2, 9), (12, 8)], 2)).is_ok());
        let singles: Vec<(u64, u64)> = (2..20).map(|first| (first, 1)).collect();
        assert!(
            decode(segment_stream(&singles, 18)).is_ok(),
            "18 runs of one"
        );
        for run_count in [0, 19, 20, 1 << 40] {
            let refused = decode(segment_stream(&[(2, 9)], run_count)).unwrap_err();
            assert!(
                refused
                    .to_string()
                    .contains("no segment runs, or more than the file"),
                "{run_count} runs: {refused}"
            );
        }
        // Each run lies in the file, but together they name more segments than the file has
        // pages: refused before a third copy of the same pages is listed.
        let refused = decode(segment_stream(&[(2, 9), (2, 9), (2, 9)], 3)).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("9 pages from 2 is outside the file"),
            "{refused}"
        );
    }

    #[test]
    fn a_meta_keeping_a_stream_and_naming_a_chain_is_corrupt() {
        let mut meta = Meta::empty(512, 1 << 20);
        meta.txn_id = txn(3);
        meta.page_count = 20;
        let stream = FreeList::default().encode();
        let no_page = |_: PageId| -> Result<&'static [u8]> { unreachable!("no chain is read") };
        assert_eq!(
            read(&meta, Some(&stream), no_page).unwrap(),
            (FreeList::default(), Vec::new())
        );
        meta.freelist = page(9);
        match read(&meta, Some(&stream), no_page) {
            Err(Error::Mdb(MdbError::CorruptedPage { page, reason })) => {
                assert_eq!(page, 1, "the meta of txn 3 is on page 1");
                assert!(reason.contains("names a freelist chain too"), "{reason}");
            }
            other => panic!("expected Corrupted, got {other:?}"),
        }
    }

    #[test]
    fn a_chain_page_of_another_kind_or_number_is_refused() {
        let page_size = 512;
        let mut leaf = vec![0u8; page_size];
        header::init(&mut leaf, PageKind::Leaf, page(5));
        header::seal(&mut leaf);
        let mut misplaced = vec![0u8; page_size];
        write_chain_page(&mut misplaced, page(6), PageId::NONE, &[0; 8]);
        header::seal(&mut misplaced);
        for (head, image) in [(5, &leaf), (5, &misplaced)] {
            let refused = read_chain(page(head), 20, page_size, |_| Ok(&image[..])).unwrap_err();
            match refused {
                Error::Mdb(MdbError::CorruptedPage { page, reason }) => {
                    assert_eq!(page, 5);
                    assert_eq!(reason, "expected a freelist page");
                }
                other => panic!("expected Corrupted, got {other:?}"),
            }
        }
    }

    #[test]
    fn chain_round_trips_and_detects_a_loop() {
        let page_size = 512;
        let mut list = FreeList::default();
        let many = range(2..200);
        list.add(txn(1), &many);
        let stream = list.encode();
        let capacity = payload_capacity(page_size);
        let chunks: Vec<&[u8]> = stream.chunks(capacity).collect();
        let ids = range(300..300 + chunks.len() as u64);
        let mut pages = vec![vec![0u8; page_size]; 400];
        for (index, chunk) in chunks.iter().enumerate() {
            let next = ids.get(index + 1).copied().unwrap_or(PageId::NONE);
            let at = ids[index].get() as usize;
            write_chain_page(&mut pages[at], ids[index], next, chunk);
            header::seal(&mut pages[at]);
        }
        let (decoded, chain) = read_chain(ids[0], 400, page_size, |id| {
            Ok(&pages[id.get() as usize][..])
        })
        .unwrap();
        assert_eq!(decoded, list);
        assert_eq!(chain, ids);

        // A damaged page is refused before its contents are used.
        let last = ids.last().unwrap().get() as usize;
        pages[last][PAYLOAD_OFFSET] ^= 1;
        let damaged = read_chain(ids[0], 400, page_size, |id| {
            Ok(&pages[id.get() as usize][..])
        });
        assert!(damaged
            .unwrap_err()
            .to_string()
            .contains("fails its checksum"));
        pages[last][PAYLOAD_OFFSET] ^= 1;

        write_page_id(&mut pages[last], NEXT_OFFSET, ids[0]);
        header::seal(&mut pages[last]);
        let looped = read_chain(ids[0], 400, page_size, |id| {
            Ok(&pages[id.get() as usize][..])
        });
        assert!(looped.unwrap_err().to_string().contains("loops"));
    }
}
