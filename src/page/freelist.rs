//! The freelist: pages no tree uses, grouped by the transaction that freed them.
//!
//! A page freed by txn `T` was still reachable in snapshot `T - 1`, so it may be reused only
//! once no reader holds a snapshot older than `T` and the older meta (`last - 1`) no longer
//! needs it (docs/design.md, invariant 3). Group 0 holds pages that are free for everyone.
//!
//! The freelist is persisted at every commit as a chain of freelist pages written to fresh
//! pages (never over a page either meta can reach). Each chain page is:
//!
//! ```text
//! offset size field
//!  0    24    page header, kind 4 (freelist), aux = payload bytes in this page
//! 24     8    next page of the chain, 0 at the end
//! 32     .    payload
//! ```
//!
//! The payloads, concatenated, are the stream: `u64 group count`, then per group
//! `u64 txn id, u64 page count, page count x u64 page id`, all little-endian.

use std::collections::BTreeMap;

use super::header::{self, PageKind, PAGE_HEADER_SIZE};
use super::id::{read_u64, write_u64, PageId, TxnId, META_PAGE_COUNT};
use crate::error::{Error, Result};

const NEXT_OFFSET: usize = PAGE_HEADER_SIZE;
/// Where a chain page's payload starts.
pub(crate) const PAYLOAD_OFFSET: usize = NEXT_OFFSET + 8;

/// Payload bytes one chain page holds.
pub(crate) fn payload_capacity(page_size: usize) -> usize {
    page_size - PAYLOAD_OFFSET
}

/// Free pages by the txn that freed them (0: free for everyone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FreeList {
    groups: BTreeMap<TxnId, Vec<PageId>>,
}

impl FreeList {
    /// Records that `txn` freed `pages`.
    pub(crate) fn add(&mut self, txn: TxnId, pages: &[PageId]) {
        if !pages.is_empty() {
            self.groups.entry(txn).or_default().extend_from_slice(pages);
        }
    }

    /// Removes and returns, sorted, every page freed by a txn `<= limit`.
    pub(crate) fn take_reusable(&mut self, limit: TxnId) -> Vec<PageId> {
        let kept = self.groups.split_off(&(limit.saturating_add(1)));
        let reusable = std::mem::replace(&mut self.groups, kept);
        let mut pages: Vec<PageId> = reusable.into_values().flatten().collect();
        pages.sort_unstable();
        pages
    }

    /// Every free page, in no particular order.
    pub(crate) fn pages(&self) -> impl Iterator<Item = PageId> + '_ {
        self.groups.values().flatten().copied()
    }

    /// How many pages are free.
    pub(crate) fn page_total(&self) -> usize {
        self.groups.values().map(Vec::len).sum()
    }

    /// Bytes of [`Self::encode`]'s output.
    pub(crate) fn encoded_len(&self) -> usize {
        8 + self
            .groups
            .values()
            .map(|pages| 16 + 8 * pages.len())
            .sum::<usize>()
    }

    /// Encodes as the stream described in the module docs.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(&(self.groups.len() as u64).to_le_bytes());
        for (txn, pages) in &self.groups {
            out.extend_from_slice(&txn.to_le_bytes());
            out.extend_from_slice(&(pages.len() as u64).to_le_bytes());
            for page in pages {
                out.extend_from_slice(&page.to_le_bytes());
            }
        }
        out
    }

    /// Decodes a stream; every page id must lie in `[2, page_count)`.
    pub(crate) fn decode(stream: &[u8], page_count: u64, head: PageId) -> Result<FreeList> {
        let bad = |reason: &str| Error::corrupted(head, format!("freelist: {reason}"));
        let mut cursor = 0usize;
        let mut next_u64 = |what: &str| -> Result<u64> {
            if stream.len().saturating_sub(cursor) < 8 {
                return Err(bad(&format!("stream ends inside {what}")));
            }
            let value = read_u64(stream, cursor);
            cursor += 8;
            Ok(value)
        };
        let group_count = next_u64("the group count")?;
        let mut groups = BTreeMap::new();
        for _ in 0..group_count {
            let txn = next_u64("a txn id")?;
            let count = next_u64("a page count")?;
            if count > page_count {
                return Err(bad("a group lists more pages than the file has"));
            }
            let mut pages = Vec::with_capacity(count as usize);
            for _ in 0..count {
                let page = next_u64("a page id")?;
                if page < META_PAGE_COUNT || page >= page_count {
                    return Err(bad(&format!("page {page} is outside the file")));
                }
                pages.push(page);
            }
            if groups.insert(txn, pages).is_some() {
                return Err(bad("a txn id appears twice"));
            }
        }
        Ok(FreeList { groups })
    }
}

/// Fills chain page `id` with its header, `next` link and `payload`.
pub(crate) fn write_chain_page(page: &mut [u8], id: PageId, next: PageId, payload: &[u8]) {
    header::init(page, PageKind::Freelist, id);
    header::set_aux(page, payload.len() as u32);
    write_u64(page, NEXT_OFFSET, next);
    page[PAYLOAD_OFFSET..PAYLOAD_OFFSET + payload.len()].copy_from_slice(payload);
    page[PAYLOAD_OFFSET + payload.len()..].fill(0);
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
    while next != 0 {
        if chain.len() as u64 >= page_count {
            return Err(Error::corrupted(head, "freelist chain loops"));
        }
        let page = read_page(next)?;
        if header::kind(page) != Some(PageKind::Freelist) || header::page_id(page) != next {
            return Err(Error::corrupted(next, "expected a freelist page"));
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
        next = read_u64(page, NEXT_OFFSET);
    }
    if chain.is_empty() {
        return Ok((FreeList::default(), chain));
    }
    Ok((FreeList::decode(&stream, page_count, head)?, chain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_reusable_respects_the_limit() {
        let mut list = FreeList::default();
        list.add(0, &[9]);
        list.add(3, &[5, 4]);
        list.add(4, &[7]);
        list.add(6, &[8]);
        assert_eq!(list.take_reusable(4), vec![4, 5, 7, 9]);
        assert_eq!(list.pages().collect::<Vec<_>>(), vec![8]);
    }

    #[test]
    fn stream_round_trips_and_rejects_out_of_range_pages() {
        let mut list = FreeList::default();
        list.add(0, &[2, 3]);
        list.add(10, &[11]);
        let stream = list.encode();
        assert_eq!(stream.len(), list.encoded_len());
        assert_eq!(FreeList::decode(&stream, 20, 1).unwrap(), list);
        assert!(FreeList::decode(&stream, 5, 1).is_err());
        assert!(FreeList::decode(&stream[..stream.len() - 1], 20, 1).is_err());
    }

    #[test]
    fn chain_round_trips_and_detects_a_loop() {
        let page_size = 512;
        let mut list = FreeList::default();
        let many: Vec<u64> = (2..200).collect();
        list.add(1, &many);
        let stream = list.encode();
        let capacity = payload_capacity(page_size);
        let chunks: Vec<&[u8]> = stream.chunks(capacity).collect();
        let ids: Vec<u64> = (300..300 + chunks.len() as u64).collect();
        let mut pages = vec![vec![0u8; page_size]; 400];
        for (index, chunk) in chunks.iter().enumerate() {
            let next = ids.get(index + 1).copied().unwrap_or(0);
            write_chain_page(&mut pages[ids[index] as usize], ids[index], next, chunk);
        }
        let (decoded, chain) =
            read_chain(ids[0], 400, page_size, |id| Ok(&pages[id as usize][..])).unwrap();
        assert_eq!(decoded, list);
        assert_eq!(chain, ids);

        let last = *ids.last().unwrap() as usize;
        write_u64(&mut pages[last], NEXT_OFFSET, ids[0]);
        let looped = read_chain(ids[0], 400, page_size, |id| Ok(&pages[id as usize][..]));
        assert!(looped.is_err());
    }
}
